//! The SMS gateway webhook, `POST /api/v1/sms/inbound`.
//!
//! The gateway authenticates with an API token: `Authorization: Bearer <token>`, or, for
//! gateways that cannot set headers, `?token=<token>` or SMSSync's `secret` field. The
//! message comes as form fields or JSON under the names common gateways use (`from` /
//! `From` / `sender`, `message` / `text` / `Body`, `sent_timestamp` / `timestamp`,
//! `message_id` / `MessageSid`). The answer takes the shape the gateway expects: SMSSync's
//! JSON payload with the reply as a message to send, TwiML for Twilio, or plain JSON
//! (`?format=smssync|twilio|json` forces one). A message that cannot be read is still
//! answered with success and a reply explaining the syntax, so that gateways do not
//! resend it; plain JSON answers it with 422. The sender's number is never logged.

use crate::api::reports::{json_error, read_limited, too_large, BodyError};
use crate::api::run;
use crate::client::Client;
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use usalama_app::{SmsInput, SmsOutcome, SmsResult};

/// Largest body accepted from a gateway.
pub const MAX_SMS_BODY: usize = 64 * 1024;

/// The webhook route (it sets its own body limit).
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/sms/inbound", post(inbound))
}

/// Field names gateways use, lower-cased.
const FROM: &[&str] = &[
    "from",
    "sender",
    "msisdn",
    "phone",
    "phone_number",
    "originator",
];
const TEXT: &[&str] = &["message", "text", "body", "content", "msg", "sms"];
const TIME: &[&str] = &[
    "sent_timestamp",
    "timestamp",
    "sent_at",
    "date",
    "received_at",
];
const ID: &[&str] = &["message_id", "messagesid", "smssid", "sms_id", "id", "uuid"];
const SECRET: &[&str] = &["secret", "token"];

/// The reply shape.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    SmsSync,
    Twilio,
    Json,
}

fn pick(fields: &[(String, String)], names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| {
        fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.clone())
    })
}

/// The body as (name, value) pairs: a JSON object's scalar members, or form fields.
fn fields(headers: &HeaderMap, body: &[u8]) -> Result<Vec<(String, String)>, String> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let looks_json = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if ct.starts_with("application/json") || (!ct.contains("form") && looks_json) {
        let v: Value =
            serde_json::from_slice(body).map_err(|e| format!("the body is not valid JSON: {e}"))?;
        let Value::Object(o) = v else {
            return Err("the JSON body is not an object".into());
        };
        Ok(o.into_iter()
            .filter_map(|(k, v)| match v {
                Value::String(s) => Some((k, s)),
                Value::Number(n) => Some((k, n.to_string())),
                _ => None,
            })
            .collect())
    } else {
        let text =
            std::str::from_utf8(body).map_err(|_| "the body is not UTF-8 text".to_string())?;
        Ok(crate::api::params::form_pairs(text))
    }
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim().to_string())
}

fn reply_response(format: Format, from: &str, result: &SmsResult) -> Response {
    let stored = match &result.outcome {
        SmsOutcome::Stored(r) => Some(r),
        SmsOutcome::NotUnderstood(_) => None,
    };
    match format {
        Format::SmsSync => {
            let uuid = stored.map_or_else(|| "reply".to_string(), |r| format!("reply-{}", r.id));
            Json(json!({
                "payload": {
                    "success": true,
                    "error": null,
                    "task": "send",
                    "messages": [{"to": from, "message": result.reply, "uuid": uuid}],
                }
            }))
            .into_response()
        }
        Format::Twilio => (
            [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>{}</Message></Response>",
                xml_escape(&result.reply)
            ),
        )
            .into_response(),
        Format::Json => match &result.outcome {
            SmsOutcome::Stored(r) => (
                if r.existed {
                    StatusCode::OK
                } else {
                    StatusCode::CREATED
                },
                Json(json!({
                    "accepted": true,
                    "id": r.id.to_string(),
                    "reference": r.reference,
                    "existed": r.existed,
                    "reply": result.reply,
                })),
            )
                .into_response(),
            SmsOutcome::NotUnderstood(e) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({
                    "accepted": false,
                    "reply": result.reply,
                    "error": {
                        "code": "invalid_sms",
                        "message": format!("{}: {}", e.field, e.reason),
                        "problems": [{"field": e.field, "message": format!("{}: {}", e.field, e.reason)}],
                    },
                })),
            )
                .into_response(),
        },
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

async fn inbound(
    State(state): State<AppState>,
    Client(client): Client,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let query = crate::api::params::form_pairs(raw.as_deref().unwrap_or(""));
    let forced = match pick(&query, &["format"]).as_deref() {
        None => None,
        Some("smssync") => Some(Format::SmsSync),
        Some("twilio") => Some(Format::Twilio),
        Some("json") => Some(Format::Json),
        Some(_) => {
            return ApiError::bad_parameter("format", "must be smssync, twilio or json")
                .into_response()
        }
    };
    let bytes = match read_limited(body, &headers, MAX_SMS_BODY).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => return too_large(MAX_SMS_BODY, "an SMS webhook body"),
        Err(BodyError::Unreadable) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "invalid_sms",
                "the request body could not be read".into(),
                None,
            )
        }
    };
    let fields = match fields(&headers, &bytes) {
        Ok(f) => f,
        Err(m) => return json_error(StatusCode::BAD_REQUEST, "invalid_sms", m, None),
    };
    let token = bearer(&headers)
        .or_else(|| pick(&query, &["token"]))
        .or_else(|| pick(&fields, SECRET));
    let Some(token) = token else {
        return ApiError::unauthenticated().into_response();
    };
    let who = match run(&state, move |app| app.authenticate_token(&token)).await {
        Ok(p) => p,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let has = |names: &[&str]| pick(&fields, names).is_some();
    let format = forced.unwrap_or(if has(&["messagesid", "smssid", "accountsid"]) {
        Format::Twilio
    } else if has(&["sent_timestamp", "sent_to", "secret", "device_id"]) {
        Format::SmsSync
    } else {
        Format::Json
    });
    let from = pick(&fields, FROM).unwrap_or_default();
    let input = SmsInput {
        from: from.clone(),
        text: pick(&fields, TEXT).unwrap_or_default(),
        timestamp: pick(&fields, TIME),
        message_id: pick(&fields, ID),
    };
    match run(&state, move |app| {
        app.receive_sms_from(&who, input, Some(client))
    })
    .await
    {
        Ok(result) => reply_response(format, &from, &result),
        Err(e) => ApiError::from(e).into_response(),
    }
}
