//! The one place errors become HTTP: each application error maps to a status and a stable
//! error code. Responses never carry internals; server errors are logged with a request id
//! instead.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use usalama_app::AppError;
use usalama_store::StoreError;

/// The `Retry-After` of every 503: a client that retries (a gateway, a batch uploader, ODK
/// Collect, a browser) waits this many seconds first.
const RETRY_LATER: header::HeaderValue = header::HeaderValue::from_static("5");

/// Marks a 503 (the database busy or out of reach) as worth sending again: every 503 of the
/// API, the pages and OpenRosa goes through here.
pub(crate) fn retry_later(mut r: Response) -> Response {
    r.headers_mut().insert(header::RETRY_AFTER, RETRY_LATER);
    r
}

/// An error answered by the JSON API.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code (documented in the OpenAPI document).
    pub code: &'static str,
    /// Plain-words message.
    pub message: String,
    /// The parameter or field at fault, if any.
    pub field: Option<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameter: Option<&'a str>,
}

impl ApiError {
    /// 400 for a query parameter.
    pub fn bad_parameter(name: &str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_parameter",
            message: message.into(),
            field: Some(name.to_string()),
        }
    }
    /// 404.
    pub fn not_found(what: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: format!("{what} not found"),
            field: None,
        }
    }
    /// 401.
    pub fn unauthenticated() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthenticated",
            message: "a valid API token is required: send 'Authorization: Bearer <token>'".into(),
            field: None,
        }
    }
    /// 503 (the database busy or out of reach): nothing was written, and the same request
    /// may be sent again shortly (`Retry-After`).
    fn retry_later(code: &'static str, message: &str) -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code,
            message: message.into(),
            field: None,
        }
    }
    /// 500, logged.
    pub fn internal(detail: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "request failed");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            message: "the server could not complete the request; the error was logged".into(),
            field: None,
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Unauthenticated => Self::unauthenticated(),
            AppError::Forbidden(role) => Self {
                status: StatusCode::FORBIDDEN,
                code: "forbidden",
                message: format!("the role {role} may not do this"),
                field: None,
            },
            AppError::NotFound(what) => Self::not_found(what),
            AppError::Conflict { code, message } => Self {
                status: StatusCode::CONFLICT,
                code,
                message,
                field: None,
            },
            AppError::Invalid { field, reason } => Self {
                status: StatusCode::BAD_REQUEST,
                code: "invalid_parameter",
                message: if reason.starts_with(&field) {
                    reason
                } else {
                    format!("{field}: {reason}")
                },
                field: Some(field),
            },
            AppError::Import(e) => Self {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "invalid_file",
                message: e.to_string(),
                field: None,
            },
            AppError::RateLimited { retry_after_secs } => Self {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: "rate_limited",
                message: format!("too many attempts; retry in {retry_after_secs} s"),
                field: None,
            },
            AppError::SecondFactorRequired => Self::unauthenticated(),
            AppError::Store(StoreError::InvalidCursor) => {
                Self::bad_parameter("cursor", "the cursor is not valid for this list")
            }
            AppError::Store(StoreError::Busy(_)) => {
                tracing::warn!(error = %e, "database busy");
                Self::retry_later(
                    "busy",
                    "the database is busy; nothing was written: try again shortly",
                )
            }
            AppError::Store(StoreError::Unavailable(_)) => {
                tracing::error!(error = %e, "database unavailable");
                Self::retry_later(
                    "unavailable",
                    "the database is unavailable; try again shortly",
                )
            }
            other => Self::internal(&other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: Inner {
                code: self.code,
                message: &self.message,
                parameter: self.field.as_deref(),
            },
        };
        let mut r = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"usalama\""),
            );
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            return retry_later(r);
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_database_is_a_503_to_retry_that_hides_the_details() {
        let e = ApiError::from(AppError::Store(StoreError::Busy(
            "database is locked".into(),
        )));
        assert_eq!(
            (e.status, e.code),
            (StatusCode::SERVICE_UNAVAILABLE, "busy")
        );
        assert!(!e.message.contains("locked"), "{}", e.message);
        let r = e.into_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[header::RETRY_AFTER], "5");
        let unavailable = ApiError::from(AppError::Store(StoreError::Unavailable("x".into())));
        assert_eq!(
            unavailable.into_response().headers()[header::RETRY_AFTER],
            "5"
        );
    }
}
