//! Authorization at the edge: [`ROUTE_ACCESS`], one line per routed method and path naming
//! who may call it, enforced by [`guard`] before any handler reads its parameters or body.
//! The use-cases check the same permissions again (the application is the authority; this
//! layer makes every denial uniform and early). A route missing from the table is refused
//! with a 500 and an error in the log, so a new route cannot ship open by mistake.
//!
//! `tests/authz.rs` calls every route anonymously and as every role and compares with
//! `tests/data/authz_matrix.csv`; adding a route means one line here and one line there.

use crate::api::run;
use crate::error::ApiError;
use crate::site::{session_secret, PageReq};
use crate::state::AppState;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use usalama_app::{AppError, Principal};
use usalama_domain::Permission;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, logged in or not.
    Public,
    /// Callers whose role holds the permission (a bearer token on `/api/`, a session
    /// cookie on pages).
    Needs(Permission),
    /// The handler authenticates the caller itself (HTTP Basic for OpenRosa, a bearer
    /// token or the gateway's shared secret for SMS) and checks the same permission.
    Handler(Permission),
}

use Access::{Handler, Needs, Public};
use Permission::{ReadEvents, SubmitReports, VerifyEvents};

/// Every routed method and path (as routed, with `{param}` placeholders) and who may call
/// it. `HEAD` follows `GET` unless listed.
pub const ROUTE_ACCESS: &[(&str, &str, Access)] = &[
    // API
    ("get", "/api/v1/health", Public),
    ("get", "/api/v1/openapi.json", Public),
    ("get", "/api/v1/events", Needs(ReadEvents)),
    ("get", "/api/v1/events/{id}", Needs(ReadEvents)),
    ("get", "/api/v1/localities", Needs(ReadEvents)),
    ("get", "/api/v1/localities/{id}", Needs(ReadEvents)),
    ("get", "/api/v1/actors", Needs(ReadEvents)),
    ("get", "/api/v1/actors/{id}", Needs(ReadEvents)),
    ("get", "/api/v1/verification/queue", Needs(VerifyEvents)),
    (
        "post",
        "/api/v1/events/{id}/verification",
        Needs(VerifyEvents),
    ),
    ("get", "/api/v1/events/{id}/duplicates", Needs(VerifyEvents)),
    ("post", "/api/v1/events/{id}/merge", Needs(VerifyEvents)),
    ("post", "/api/v1/events/{id}/unmerge", Needs(VerifyEvents)),
    ("get", "/api/v1/events/{id}/history", Needs(ReadEvents)),
    ("get", "/api/v1/index", Public),
    ("get", "/api/v1/forecasts", Public),
    ("get", "/api/v1/alerts", Needs(ReadEvents)),
    ("get", "/api/v1/alerts/feed.atom", Needs(ReadEvents)),
    ("get", "/api/v1/alerts/{id}", Needs(ReadEvents)),
    (
        "post",
        "/api/v1/alerts/{id}/status",
        Needs(Permission::HandleAlerts),
    ),
    ("get", "/api/v1/index/{locality}/{period}/explain", Public),
    ("post", "/api/v1/reports", Needs(SubmitReports)),
    ("post", "/api/v1/reports:batch", Needs(SubmitReports)),
    ("get", "/api/v1/places", Public),
    ("post", "/api/v1/sms/inbound", Handler(SubmitReports)),
    ("get", "/formList", Handler(SubmitReports)),
    ("get", "/forms/report.xml", Handler(SubmitReports)),
    ("head", "/submission", Handler(SubmitReports)),
    ("post", "/submission", Handler(SubmitReports)),
    // Pages
    ("get", "/", Public),
    ("get", "/map", Public),
    ("get", "/index", Public),
    ("get", "/index/{code}", Public),
    ("get", "/reports/sitrep/{month}", Public),
    ("get", "/dashboard", Public),
    ("get", "/alerts", Needs(ReadEvents)),
    ("get", "/alerts/{id}", Needs(ReadEvents)),
    (
        "post",
        "/alerts/{id}/status",
        Needs(Permission::HandleAlerts),
    ),
    ("get", "/events", Needs(ReadEvents)),
    ("get", "/events/{id}", Needs(ReadEvents)),
    ("get", "/login", Public),
    ("post", "/login", Public),
    ("post", "/logout", Public),
    ("get", "/static/app.css", Public),
    ("get", "/verify", Needs(VerifyEvents)),
    ("post", "/events/{id}/verification", Needs(VerifyEvents)),
    ("post", "/events/{id}/merge", Needs(VerifyEvents)),
    ("post", "/events/{id}/unmerge", Needs(VerifyEvents)),
    ("get", "/report", Public),
    ("post", "/report", Public),
    ("get", "/report/status", Public),
    ("get", "/static/report.js", Public),
    // Administration
    ("get", "/admin/users", Needs(Permission::ManageUsers)),
    ("post", "/admin/users", Needs(Permission::ManageUsers)),
    ("get", "/admin/orgs", Needs(Permission::ManageOrganisations)),
    (
        "post",
        "/admin/orgs",
        Needs(Permission::ManageOrganisations),
    ),
];

/// The access rule of a method and routed path (`HEAD` falls back to `GET`).
pub fn access_of(method: &Method, path: &str) -> Option<Access> {
    let m = method.as_str().to_ascii_lowercase();
    let find = |m: &str| {
        ROUTE_ACCESS
            .iter()
            .find(|(rm, rp, _)| *rm == m && *rp == path)
            .map(|(_, _, a)| *a)
    };
    find(&m).or_else(|| (m == "head").then(|| find("get")).flatten())
}

/// Whether a caller with `role` (`None`: anonymous) may open the page `path` (as routed):
/// the menu links only these. A path missing from the table is not linked.
pub fn may_open(role: Option<usalama_domain::Role>, path: &str) -> bool {
    match access_of(&Method::GET, path) {
        Some(Public) => true,
        Some(Needs(p) | Handler(p)) => role.is_some_and(|r| r.may(p)),
        None => false,
    }
}

/// The caller as the guard found it, for the extractors that run after it (so that a
/// request costs one token or session look-up).
#[derive(Debug, Clone)]
pub struct Resolved(pub Principal);

/// The bearer token of a request, if any.
pub(crate) fn bearer(headers: &axum::http::HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim().to_string())
}

/// Resolves the caller (bearer token on `/api/`, session cookie on pages) and refuses the
/// request when its route's rule does not admit it: 401/403 in JSON on the API, a
/// redirect to the log-in page or a 403 page elsewhere.
pub async fn guard(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(path) = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
    else {
        return next.run(req).await;
    };
    let Some(access) = access_of(req.method(), &path) else {
        tracing::error!(method = %req.method(), path, "route has no access rule");
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "route has no access rule",
        )
            .into_response();
    };
    let perm = match access {
        Handler(_) => return next.run(req).await,
        Public => None,
        Needs(p) => Some(p),
    };
    let api = path.starts_with("/api/");
    let who = if api {
        match bearer(req.headers()) {
            Some(t) => run(&state, move |app| app.authenticate_token(&t)).await,
            None => Ok(Principal::Anonymous),
        }
    } else {
        match session_secret(req.headers()) {
            Some(s) => run(&state, move |app| app.session(&s)).await,
            None => Ok(Principal::Anonymous),
        }
    };
    // A credential that does not authenticate makes the caller anonymous; a store that
    // cannot be read answers as such (503), never as a bad credential.
    let who = match who {
        Ok(p) => p,
        Err(AppError::Unauthenticated) => Principal::Anonymous,
        Err(e) => return refuse(req, &state, api, e).await,
    };
    let denial = match (perm, who.role()) {
        (None, _) => None,
        (Some(_), None) => Some(AppError::Unauthenticated),
        (Some(p), Some(r)) if !r.may(p) => Some(AppError::Forbidden(r.to_string())),
        _ => None,
    };
    req.extensions_mut().insert(Resolved(who));
    match denial {
        None => next.run(req).await,
        Some(denial) => refuse(req, &state, api, denial).await,
    }
}

/// The answer to a refused or failed request: the API's JSON error, or the error page.
async fn refuse(req: Request, state: &AppState, api: bool, e: AppError) -> Response {
    if api {
        return ApiError::from(e).into_response();
    }
    let (mut parts, _) = req.into_parts();
    match PageReq::from_request_parts(&mut parts, state).await {
        Ok(page) => page.error(state, e),
        Err(never) => match never {},
    }
}
