//! OpenRosa 1.0 for ODK Collect and KoboCollect: the form list (`GET /formList`), the
//! report form (`GET /forms/report.xml`), the submission pre-flight (`HEAD /submission`)
//! and submissions (`POST /submission`, multipart with the instance as
//! `xml_submission_file` and media parts, kept as sent).
//!
//! Monitors authenticate as ODK Collect can: HTTP Digest (RFC 7616, SHA-256 or MD5,
//! `qop=auth`) with the account's OpenRosa device password (`usalama user
//! device-password NAME`), or HTTP Basic with the account's own password (`usalama user
//! add NAME --role reporter`). Basic sends the password with every request, so a
//! production server must be reached over TLS (a reverse proxy with HTTPS). The 401
//! challenge offers Digest (SHA-256, then MD5) and Basic. Every response carries
//! `X-OpenRosa-Version: 1.0`.

use crate::api::run;
use crate::error::retry_later;
use crate::state::AppState;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, head};
use axum::Router;
use base64::Engine;
use usalama_app::digest::DigestCheck;
use usalama_app::{OpenRosaOutcome, Principal};
use usalama_store::Attachment;

/// Largest submission accepted (instance and media together), as announced in
/// `X-OpenRosa-Accept-Content-Length`.
pub const MAX_SUBMISSION: usize = 10 * 1024 * 1024;

const OPENROSA_VERSION: HeaderName = HeaderName::from_static("x-openrosa-version");
const ACCEPT_LENGTH: HeaderName = HeaderName::from_static("x-openrosa-accept-content-length");

/// The OpenRosa routes (they set their own body limit).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/formList", get(form_list))
        .route("/forms/report.xml", get(form))
        .route(
            "/submission",
            head(preflight)
                .post(submit)
                .layer(DefaultBodyLimit::max(MAX_SUBMISSION)),
        )
}

fn with_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(OPENROSA_VERSION, HeaderValue::from_static("1.0"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn xml(status: StatusCode, body: String) -> Response {
    with_headers(
        (
            status,
            [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
            body,
        )
            .into_response(),
    )
}

fn message(status: StatusCode, nature: &str, text: &str) -> Response {
    xml(status, usalama_app::openrosa_response(nature, text))
}

/// The answer when a device could not be checked for a reason of the server's own (its
/// database busy or out of reach): try again later.
fn unavailable() -> Response {
    retry_later(message(
        StatusCode::SERVICE_UNAVAILABLE,
        "error",
        "try again later",
    ))
}

/// A 401 offering Digest (SHA-256 and MD5, fresh nonces; `stale=true` after an expired
/// nonce) and Basic.
async fn challenge(state: &AppState, stale: bool) -> Response {
    let mut r = message(
        StatusCode::UNAUTHORIZED,
        "error",
        "log in with your Usalama account name and device password (or password)",
    );
    let digest = run(state, move |app| app.digest_challenges(stale)).await;
    let h = r.headers_mut();
    match digest {
        Ok(values) => {
            for v in values {
                if let Ok(v) = HeaderValue::from_str(&v) {
                    h.append(header::WWW_AUTHENTICATE, v);
                }
            }
        }
        Err(e) => tracing::error!(error = %e, "no Digest challenge: the nonce key is unavailable"),
    }
    h.append(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"Usalama\", charset=\"UTF-8\""),
    );
    r
}

/// The caller of an OpenRosa route, from HTTP Digest or Basic credentials.
async fn caller(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Principal, Response> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if let Some(a) = auth.as_deref() {
        let scheme = a.trim_start().split(' ').next().unwrap_or("");
        if scheme.eq_ignore_ascii_case("digest") {
            let a = a.to_string();
            let method = method.as_str().to_string();
            let target = uri
                .path_and_query()
                .map_or_else(|| uri.path().to_string(), |p| p.as_str().to_string());
            return match run(state, move |app| {
                app.authenticate_digest(&a, &method, &target)
            })
            .await
            {
                Ok(DigestCheck::Accepted(p)) => Ok(p),
                Ok(DigestCheck::Stale) => Err(challenge(state, true).await),
                Ok(DigestCheck::Refused) => Err(challenge(state, false).await),
                Err(e) => {
                    tracing::error!(error = %e, "OpenRosa Digest authentication failed");
                    Err(unavailable())
                }
            };
        }
    }
    let creds = auth
        .as_deref()
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then_some(rest.trim())
        })
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|s| {
            let (u, p) = s.split_once(':')?;
            Some((u.to_string(), p.to_string()))
        });
    let Some((user, password)) = creds else {
        return Err(challenge(state, false).await);
    };
    let out = run(state, move |app| {
        app.authenticate_basic(&usalama_app::LoginAttempt {
            username: &user,
            password: &password,
            code: None,
            // Per-account locks apply; per-address limits come from the rate limiter.
            client: None,
        })
    })
    .await;
    match out {
        Ok(p) => Ok(p),
        Err(usalama_app::AppError::Unauthenticated) => Err(challenge(state, false).await),
        Err(e) => Err(match e {
            usalama_app::AppError::RateLimited { .. } => message(
                StatusCode::TOO_MANY_REQUESTS,
                "error",
                "too many attempts; try again later",
            ),
            other => {
                tracing::error!(error = %other, "OpenRosa authentication failed");
                unavailable()
            }
        }),
    }
}

/// This server's base URL as the client reached it (for the form's download URL).
fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("localhost");
    let forwarded = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .map(|p| p.trim().eq_ignore_ascii_case("https"));
    let https = forwarded.unwrap_or(state.config.secure_cookies);
    format!("{}://{host}", if https { "https" } else { "http" })
}

async fn form_list(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = caller(&state, &method, &uri, &headers).await {
        return r;
    }
    let (form, version) = state.app.report_xform();
    let url = format!("{}/forms/report.xml", base_url(&state, &headers));
    xml(
        StatusCode::OK,
        usalama_app::openrosa_form_list(&form, &version, &url),
    )
}

async fn form(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = caller(&state, &method, &uri, &headers).await {
        return r;
    }
    xml(StatusCode::OK, state.app.report_xform().0)
}

async fn preflight(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = caller(&state, &method, &uri, &headers).await {
        return r;
    }
    let mut r = with_headers(StatusCode::NO_CONTENT.into_response());
    r.headers_mut()
        .insert(ACCEPT_LENGTH, HeaderValue::from(MAX_SUBMISSION));
    r
}

fn too_large() -> Response {
    let mut r = message(
        StatusCode::PAYLOAD_TOO_LARGE,
        "error",
        &format!("a submission may be at most {MAX_SUBMISSION} bytes"),
    );
    r.headers_mut()
        .insert(ACCEPT_LENGTH, HeaderValue::from(MAX_SUBMISSION));
    r
}

async fn submit(State(state): State<AppState>, req: Request) -> Response {
    let who = match caller(&state, req.method(), req.uri(), req.headers()).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let client = crate::client::client_info_of(req.headers(), req.extensions(), &state.config);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_SUBMISSION as u64) {
        return too_large();
    }
    let mut multipart = match axum::extract::Multipart::from_request(req, &state).await {
        Ok(m) => m,
        Err(_) => {
            return message(
                StatusCode::BAD_REQUEST,
                "error",
                "xml_submission_file: send multipart/form-data with the instance as xml_submission_file",
            )
        }
    };
    let mut instance: Option<Vec<u8>> = None;
    let mut media = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return too_large(),
            Err(_) => {
                return message(
                    StatusCode::BAD_REQUEST,
                    "error",
                    "the multipart body is malformed",
                )
            }
        };
        let name = field.name().unwrap_or("").to_string();
        let file_name = field.file_name().map(str::to_string);
        let content_type = field
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_string();
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return too_large(),
            Err(_) => {
                return message(
                    StatusCode::BAD_REQUEST,
                    "error",
                    "the multipart body is malformed",
                )
            }
        };
        if name == "xml_submission_file" {
            instance = Some(bytes.to_vec());
        } else if name != "*isIncomplete*" {
            media.push(Attachment {
                file_name: file_name.unwrap_or(name),
                content_type,
                bytes: bytes.to_vec(),
            });
        }
    }
    let Some(instance) = instance else {
        return message(
            StatusCode::BAD_REQUEST,
            "error",
            "xml_submission_file: the part is missing",
        );
    };
    match run(&state, move |app| {
        app.submit_openrosa_from(&who, &instance, media, Some(client))
    })
    .await
    {
        Ok(OpenRosaOutcome::Stored(r)) => {
            let (status, text) = if r.existed {
                (
                    StatusCode::ACCEPTED,
                    format!("Already received: reference {}", r.reference),
                )
            } else {
                (
                    StatusCode::CREATED,
                    format!("Report received: reference {}", r.reference),
                )
            };
            message(status, "submit_success", &text)
        }
        Ok(OpenRosaOutcome::Refused(errs)) => {
            let text: Vec<String> = errs
                .iter()
                .map(|e| format!("{}: {}", e.field, e.reason))
                .collect();
            message(StatusCode::BAD_REQUEST, "error", &text.join("; "))
        }
        Err(usalama_app::AppError::Unauthenticated) => challenge(&state, false).await,
        Err(e) => not_stored(&e),
    }
}

/// The answer to a submission the server could not store: 503 with `Retry-After` when the
/// database was busy or out of reach (the same form sent again later succeeds), else 500.
/// Neither tells the cause to the device; the log does.
fn not_stored(e: &usalama_app::AppError) -> Response {
    match e {
        usalama_app::AppError::Store(s) if s.is_temporary() => {
            tracing::warn!(error = %e, "OpenRosa submission not stored: database busy or unavailable");
            retry_later(message(
                StatusCode::SERVICE_UNAVAILABLE,
                "error",
                "the server is busy; nothing was stored: send the form again shortly",
            ))
        }
        _ => {
            tracing::error!(error = %e, "OpenRosa submission failed");
            message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "error",
                "the server could not store the submission; it was logged",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use usalama_app::AppError;
    use usalama_store::StoreError;

    async fn said(r: Response) -> (StatusCode, Option<String>, String) {
        let status = r.status();
        let retry = r
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap().to_string());
        let body = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
        (status, retry, String::from_utf8(body.to_vec()).unwrap())
    }

    /// A database kept locked, or out of reach, asks the device to send the form again
    /// (503, `Retry-After`) in an OpenRosa response; any other failure is a 500. Neither
    /// shows the database's own words.
    #[tokio::test]
    async fn a_busy_database_asks_for_the_form_again_and_hides_the_cause() {
        for e in [
            StoreError::Busy("database is locked".into()),
            StoreError::Unavailable("connection refused".into()),
        ] {
            let (status, retry, body) = said(not_stored(&AppError::Store(e))).await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(retry.as_deref(), Some("5"));
            assert!(body.contains("<OpenRosaResponse"), "{body}");
            assert!(body.contains("send the form again shortly"), "{body}");
            assert!(
                !body.contains("locked") && !body.contains("refused"),
                "{body}"
            );
        }
        // A device the server could not authenticate, the database out of reach, too.
        let (status, retry, _) = said(unavailable()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(retry.as_deref(), Some("5"));
        let e = AppError::Store(StoreError::Backend("disk I/O error".into()));
        let (status, retry, body) = said(not_stored(&e)).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(retry, None);
        assert!(
            body.contains("it was logged") && !body.contains("disk"),
            "{body}"
        );
    }
}
