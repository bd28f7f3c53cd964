//! Reports through the JSON API: `POST /api/v1/reports` (one), `POST
//! /api/v1/reports:batch` (up to 10,000, all-or-nothing unless `?partial=true`), and the
//! public place search `GET /api/v1/places?q=` that the report form's script uses.
//!
//! The JSON is read here into the application's [`ReportInput`], every field checked for
//! its JSON type (and unknown fields refused), so that a 422 names each field and, in a
//! batch, each item. These routes enforce their own body limits and answer 413 with them:
//! 1 MiB for one report, 32 MiB for a batch.

use crate::api::params::Params;
use crate::api::report_json::{WireBatch, WireReport};
use crate::api::{run, Caller};
use crate::client::Client;
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use usalama_app::{
    FieldError, ItemOutcome, PlaceMatch, PlacePolicy, Placement, Receipt, SubmitMode, MAX_BATCH,
};
use usalama_domain::Channel;

/// Largest body of `POST /api/v1/reports`.
pub const MAX_REPORT_BODY: usize = 1024 * 1024;
/// Largest body of `POST /api/v1/reports:batch`.
pub const MAX_BATCH_BODY: usize = 32 * 1024 * 1024;

/// The report routes (they set their own body limits).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reports", post(create_report))
        .route("/api/v1/reports:batch", post(create_batch))
        .route("/api/v1/places", get(places))
}

/// Why a body could not be read.
pub(crate) enum BodyError {
    /// Larger than the limit.
    TooLarge,
    /// The connection failed while reading.
    Unreadable,
}

/// Reads a body of at most `limit` bytes, refusing early on a larger `Content-Length`.
pub(crate) async fn read_limited(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
) -> Result<Bytes, BodyError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(s) = source {
            if s.is::<http_body_util::LengthLimitError>() {
                return BodyError::TooLarge;
            }
            source = s.source();
        }
        BodyError::Unreadable
    })
}

/// A JSON error with a code, a message and, for reports, the problems by item and field.
pub(crate) fn json_error(
    status: StatusCode,
    code: &str,
    message: String,
    problems: Option<Vec<Value>>,
) -> Response {
    let mut inner = json!({"code": code, "message": message});
    if let Some(p) = problems {
        inner["problems"] = Value::Array(p);
    }
    (status, Json(json!({ "error": inner }))).into_response()
}

/// 413 naming the limit.
pub(crate) fn too_large(limit: usize, what: &str) -> Response {
    json_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!(
            "{what} may be at most {} bytes ({} MiB)",
            limit,
            limit / (1024 * 1024)
        ),
        None,
    )
}

fn body_error(e: BodyError, limit: usize, what: &str) -> Response {
    match e {
        BodyError::TooLarge => too_large(limit, what),
        BodyError::Unreadable => json_error(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "the request body could not be read".into(),
            None,
        ),
    }
}

/// The body read as `T`, or the 400 answer naming where its JSON is malformed.
fn parse_json<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, Box<Response>> {
    serde_json::from_slice(bytes).map_err(|e| {
        Box::new(json_error(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("the body is not valid JSON: {e}"),
            None,
        ))
    })
}

fn place_json(m: &PlaceMatch) -> Value {
    json!({
        "id": m.id.to_string(),
        "code": m.code.to_string(),
        "name": m.name,
        "level": m.level.to_string(),
        "within": m.within,
    })
}

/// The JSON of a stored report: only its id, reference, status and placement.
fn receipt_json(r: &Receipt) -> Value {
    let (placed_by, locality) = match &r.placement {
        Placement::Point => ("point", Value::Null),
        Placement::Locality(m) => ("place", place_json(m)),
        Placement::Unresolved(_) | Placement::Unplaced => ("none", Value::Null),
    };
    json!({
        "id": r.id.to_string(),
        "reference": r.reference,
        "status": "unverified",
        "existed": r.existed,
        "placed_by": placed_by,
        "locality": locality,
    })
}

fn problems(item: Option<usize>, errs: &[FieldError]) -> Vec<Value> {
    errs.iter()
        .map(|e| {
            let mut p = json!({"field": e.field, "message": format!("{}: {}", e.field, e.reason)});
            if let Some(i) = item {
                p["item"] = json!(i);
            }
            p
        })
        .collect()
}

async fn create_report(
    State(state): State<AppState>,
    Caller(who): Caller,
    Client(client): Client,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let bytes = match read_limited(body, &headers, MAX_REPORT_BODY).await {
        Ok(b) => b,
        Err(e) => return body_error(e, MAX_REPORT_BODY, "a report"),
    };
    let mut input = match parse_json::<WireReport>(&bytes) {
        Ok(r) => r.0,
        Err(r) => return *r,
    };
    input.client = Some(client);
    let out = run(&state, move |app| {
        app.submit_reports(
            &who,
            Channel::Api,
            vec![input],
            SubmitMode::AllOrNothing,
            PlacePolicy::Strict,
        )
    })
    .await;
    match out.map(|mut v| v.pop()) {
        Ok(Some(ItemOutcome::Stored(r))) => {
            let status = if r.existed {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            (status, Json(receipt_json(&r))).into_response()
        }
        Ok(Some(ItemOutcome::Refused(errs))) => json_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_report",
            format!("the report has {} invalid field(s)", errs.len()),
            Some(problems(None, &errs)),
        ),
        Ok(_) => ApiError::internal(&"the report was not stored").into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn create_batch(
    State(state): State<AppState>,
    Caller(who): Caller,
    Client(client): Client,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let p = match Params::parse(raw.as_deref(), &["partial"]) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let partial = match p.str("partial") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return ApiError::bad_parameter("partial", "must be true or false").into_response()
        }
    };
    let bytes = match read_limited(body, &headers, MAX_BATCH_BODY).await {
        Ok(b) => b,
        Err(e) => return body_error(e, MAX_BATCH_BODY, "a batch"),
    };
    let mut items = match parse_json::<WireBatch>(&bytes) {
        Ok(WireBatch::Reports(items)) => items,
        Ok(WireBatch::NotBatch) => {
            return json_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_report",
                "a batch is a JSON array of reports, or {\"reports\": [...]}".into(),
                Some(vec![
                    json!({"field": "reports", "message": "reports: must be a list"}),
                ]),
            )
        }
        Err(r) => return *r,
    };
    drop(bytes);
    if items.len() > MAX_BATCH {
        return json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "a batch holds at most {MAX_BATCH} reports; this one has {}",
                items.len()
            ),
            None,
        );
    }
    if items.is_empty() {
        return json_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_report",
            "the batch holds no report".into(),
            Some(vec![
                json!({"field": "reports", "message": "reports: is empty"}),
            ]),
        );
    }
    for input in &mut items {
        input.client = Some(client.clone());
    }
    let inputs = items;
    let mode = if partial {
        SubmitMode::Partial
    } else {
        SubmitMode::AllOrNothing
    };
    let out = match run(&state, move |app| {
        app.submit_reports(&who, Channel::Api, inputs, mode, PlacePolicy::Strict)
    })
    .await
    {
        Ok(o) => o,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let refused: Vec<(usize, &Vec<FieldError>)> = out
        .iter()
        .enumerate()
        .filter_map(|(i, o)| match o {
            ItemOutcome::Refused(e) => Some((i, e)),
            _ => None,
        })
        .collect();
    if !partial && !refused.is_empty() {
        let all: Vec<Value> = refused
            .iter()
            .flat_map(|(i, e)| problems(Some(*i), e))
            .collect();
        return json_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_report",
            format!(
                "{} of {} reports have invalid fields; nothing was stored",
                refused.len(),
                out.len()
            ),
            Some(all),
        );
    }
    let mut created = 0;
    let mut existing = 0;
    let results: Vec<Value> = out
        .iter()
        .enumerate()
        .map(|(i, o)| match o {
            ItemOutcome::Stored(r) => {
                if r.existed {
                    existing += 1;
                } else {
                    created += 1;
                }
                let mut v = receipt_json(r);
                v["item"] = json!(i);
                v["outcome"] = json!(if r.existed { "existing" } else { "created" });
                v
            }
            ItemOutcome::Refused(e) => {
                json!({"item": i, "outcome": "refused", "problems": problems(Some(i), e)})
            }
            ItemOutcome::NotStored => json!({"item": i, "outcome": "not_stored"}),
        })
        .collect();
    let status = if refused.is_empty() {
        StatusCode::CREATED
    } else {
        StatusCode::MULTI_STATUS
    };
    let mut body = Map::new();
    body.insert("created".into(), json!(created));
    body.insert("existing".into(), json!(existing));
    body.insert("refused".into(), json!(refused.len()));
    body.insert("results".into(), Value::Array(results));
    (status, Json(Value::Object(body))).into_response()
}

async fn places(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let p = match Params::parse(raw.as_deref(), &["q", "limit"]) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let q = p.str("q").unwrap_or("").to_string();
    let limit = match p.parsed::<usize>("limit", "a whole number") {
        Ok(l) => l.unwrap_or(8),
        Err(e) => return e.into_response(),
    };
    match run(&state, move |app| app.search_places(&q, limit)).await {
        Ok(found) => {
            let items: Vec<Value> = found
                .iter()
                .map(|m| {
                    let mut v = place_json(m);
                    v["match"] = json!(m.kind.as_str());
                    v["matched_name"] = json!(m.matched_name);
                    v
                })
                .collect();
            (
                [(header::CACHE_CONTROL, "public, max-age=300")],
                Json(json!({ "items": items })),
            )
                .into_response()
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}
