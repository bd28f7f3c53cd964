//! Rate limits on the routes anyone can reach and that cost work or take input: log-in,
//! the report form, the report API, place search, the SMS webhook and OpenRosa
//! submissions. A token bucket per (route group, client address), in this process's memory
//! only: addresses are never stored or logged, and are forgotten when the table fills.
//! Over the limit a request gets 429 with `Retry-After`.

use crate::state::{AppState, WebConfig};
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Instant;

/// A group of routes sharing one limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    /// `POST /login`.
    Login,
    /// `POST /report` (the anonymous web form).
    ReportForm,
    /// `POST /api/v1/reports` and `/api/v1/reports:batch`.
    ReportApi,
    /// `GET /api/v1/places`.
    Places,
    /// `POST /api/v1/sms/inbound` (a gateway sends many messages from one address).
    Sms,
    /// `HEAD` and `POST /submission` (OpenRosa).
    Submission,
}

/// The limited group of a request, if any.
pub fn group_of(method: &Method, path: &str) -> Option<Group> {
    match (method.as_str(), path) {
        ("POST", "/login") => Some(Group::Login),
        ("POST", "/report") => Some(Group::ReportForm),
        ("POST", "/api/v1/reports" | "/api/v1/reports:batch") => Some(Group::ReportApi),
        ("GET", "/api/v1/places") => Some(Group::Places),
        ("POST", "/api/v1/sms/inbound") => Some(Group::Sms),
        ("HEAD" | "POST", "/submission") => Some(Group::Submission),
        _ => None,
    }
}

/// Requests per minute allowed per client address and group; 0 turns a limit off. A
/// client may spend half a minute's allowance at once (the bucket's size).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Log-in attempts.
    pub login: u32,
    /// Web form reports.
    pub report_form: u32,
    /// API reports (single or batch requests).
    pub report_api: u32,
    /// Place searches (the form's place picker).
    pub places: u32,
    /// SMS webhook calls.
    pub sms: u32,
    /// OpenRosa submissions (each preceded by a `HEAD`).
    pub submission: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            login: 10,
            report_form: 10,
            report_api: 120,
            places: 120,
            sms: 600,
            submission: 60,
        }
    }
}

impl RateLimits {
    /// The limit of a group, per minute.
    pub fn per_minute(&self, g: Group) -> u32 {
        match g {
            Group::Login => self.login,
            Group::ReportForm => self.report_form,
            Group::ReportApi => self.report_api,
            Group::Places => self.places,
            Group::Sms => self.sms,
            Group::Submission => self.submission,
        }
    }
}

/// Most buckets kept; the table is emptied when full.
const MAX_BUCKETS: usize = 100_000;

/// Token buckets by group and client.
#[derive(Default)]
pub struct Buckets {
    map: Mutex<HashMap<(Group, String), (f64, Instant)>>,
}

impl Buckets {
    /// Takes one token from the client's bucket of `g`, or returns the seconds until one
    /// is available.
    pub fn take(&self, g: Group, client: &str, per_minute: u32, now: Instant) -> Result<(), u64> {
        if per_minute == 0 {
            return Ok(());
        }
        let rate = f64::from(per_minute) / 60.0;
        let size = (f64::from(per_minute) / 2.0).max(1.0);
        let Ok(mut map) = self.map.lock() else {
            return Ok(());
        };
        if map.len() >= MAX_BUCKETS {
            map.clear();
        }
        let (tokens, at) = map.entry((g, client.to_string())).or_insert((size, now));
        *tokens = (*tokens + now.saturating_duration_since(*at).as_secs_f64() * rate).min(size);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / rate).ceil().max(1.0) as u64)
        }
    }
}

/// The client's key: its address, or the first `X-Forwarded-For` hop when the server is
/// configured to trust a reverse proxy. `None` when the connection's address is unknown
/// (in-process calls), which no limit applies to.
pub(crate) fn client_key(parts: &Parts, config: &WebConfig) -> Option<String> {
    if config.trust_forwarded_for {
        if let Some(first) = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            return Some(first.to_string());
        }
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

/// Applies the limits; see the module documentation.
pub async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let matched = req.extensions().get::<MatchedPath>();
    let api = matched.is_some_and(|p| p.as_str().starts_with("/api/"));
    let group = matched.and_then(|p| group_of(req.method(), p.as_str()));
    let Some(group) = group else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let client = client_key(&parts, &state.config);
    let req = Request::from_parts(parts, body);
    let Some(client) = client else {
        return next.run(req).await;
    };
    let per_minute = state.config.rate_limits.per_minute(group);
    match state
        .buckets
        .take(group, &client, per_minute, Instant::now())
    {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            let mut r = if api {
                crate::error::ApiError::from(usalama_app::AppError::RateLimited {
                    retry_after_secs: wait,
                })
                .into_response()
            } else {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                    "Too many requests. Wait a moment and try again.\n",
                )
                    .into_response()
            };
            if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_bucket_empties_then_refills_at_its_rate() {
        let b = Buckets::default();
        let t0 = Instant::now();
        // 10 per minute: a bucket of 5.
        for _ in 0..5 {
            assert!(b.take(Group::Login, "a", 10, t0).is_ok());
        }
        let wait = b.take(Group::Login, "a", 10, t0).unwrap_err();
        assert_eq!(wait, 6);
        assert!(b.take(Group::Login, "b", 10, t0).is_ok(), "per client");
        assert!(b.take(Group::Places, "a", 10, t0).is_ok(), "per group");
        assert!(b
            .take(Group::Login, "a", 10, t0 + Duration::from_secs(6))
            .is_ok());
        assert!(b.take(Group::Login, "a", 0, t0).is_ok(), "0 turns it off");
    }
}
