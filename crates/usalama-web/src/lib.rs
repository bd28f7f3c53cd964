//! Usalama's HTTP edge: the JSON API under `/api/v1` and the server-rendered pages, both
//! calling the same application layer ([`usalama_app::App`]). This is the one place errors
//! become HTTP statuses, and the one place security headers, compression and request
//! limits are set.

pub mod api;
pub mod authz;
pub mod cap;
pub mod client;
pub mod error;
pub mod openrosa;
pub mod ratelimit;
mod site;
mod state;
pub mod ui;

pub use site::sitrep::sitrep_html;
pub use site::PAGE_ROUTES;
pub use state::{AppState, WebConfig};

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;

/// Largest request body accepted, in bytes.
pub const MAX_BODY: usize = 1024 * 1024;

/// The Content-Security-Policy of every response: nothing from outside the server, no
/// inline scripts or styles.
pub const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
    script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; \
    form-action 'self'";

/// The whole application: API, pages, static files, and the layers around them.
pub fn router(state: AppState) -> Router {
    let headers = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(self), payment=(), usb=(), interest-cohort=()",
        ),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            header::HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
        (
            header::HeaderName::from_static("x-permitted-cross-domain-policies"),
            "none",
        ),
    ];
    // The intake routes (reports, SMS, OpenRosa submissions) read their bodies with their
    // own, documented limits; everything else is held to MAX_BODY.
    let mut r = api::router()
        .merge(site::router())
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .merge(api::reports::router())
        .merge(api::sms::router())
        .merge(openrosa::router())
        // Run after routing (they need the matched route): the access rule of the route,
        // then (outermost) the rate limit.
        .route_layer(middleware::from_fn_with_state(state.clone(), authz::guard))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            ratelimit::limit,
        ))
        .fallback(site::not_found)
        .with_state(state);
    for (name, value) in headers {
        r = r.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    r.layer(middleware::from_fn(log_request))
        .layer(CompressionLayer::new())
}

/// Logs method, path, status and duration: never the query string or body, which may
/// carry what people typed.
async fn log_request(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let started = std::time::Instant::now();
    let res = next.run(req).await;
    tracing::info!(
        %method,
        path,
        status = res.status().as_u16(),
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    res
}
