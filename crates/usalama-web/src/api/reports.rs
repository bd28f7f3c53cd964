//! Reports through the JSON API: `POST /api/v1/reports` (one), `POST
//! /api/v1/reports:batch` (up to 10,000, all-or-nothing unless `?partial=true`), and the
//! public place search `GET /api/v1/places?q=` that the report form's script uses.
//!
//! The JSON is read here into the application's [`ReportInput`], every field checked for
//! its JSON type (and unknown fields refused), so that a 422 names each field and, in a
//! batch, each item. These routes enforce their own body limits and answer 413 with them:
//! 1 MiB for one report, 32 MiB for a batch.

use crate::api::params::Params;
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
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use usalama_app::{
    FieldError, ItemOutcome, PersonInput, PlaceMatch, PlacePolicy, Placement, Receipt, ReportInput,
    SubmitMode, MAX_BATCH,
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

/// The body read as JSON into `T`, or the 400 answer naming where it is malformed.
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

/// A batch's reports, each as its own JSON text: the body is a list of reports, or an
/// object whose one member `reports` is that list. The whole body is checked as JSON here
/// (a 400 naming where it is not); its items are read into values later, each on its own.
fn batch_items(bytes: &[u8]) -> Result<Vec<&RawValue>, Box<Response>> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let list = match first {
        Some(b'[') => Some(parse_json::<Vec<&RawValue>>(bytes)?),
        Some(b'{') => {
            let mut members: BTreeMap<String, &RawValue> = parse_json(bytes)?;
            match members.remove("reports") {
                Some(list) if members.is_empty() && list.get().starts_with('[') => {
                    Some(parse_json(list.get().as_bytes())?)
                }
                _ => None,
            }
        }
        _ => {
            parse_json::<&RawValue>(bytes)?;
            None
        }
    };
    list.ok_or_else(|| {
        Box::new(json_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_report",
            "a batch is a JSON array of reports, or {\"reports\": [...]}".into(),
            Some(vec![
                json!({"field": "reports", "message": "reports: must be a list"}),
            ]),
        ))
    })
}

/// A report read from its JSON text, already checked as JSON by [`batch_items`].
fn report_from_raw(raw: &RawValue) -> ReportInput {
    match serde_json::from_str::<Value>(raw.get()) {
        Ok(v) => report_from_json(&v),
        Err(e) => {
            let mut input = ReportInput::default();
            input
                .wire_errors
                .push(FieldError::new("report", format!("is not valid JSON: {e}")));
            input
        }
    }
}

/// The fields a report object may carry.
const FIELDS: &[&str] = &[
    "category",
    "occurred_start",
    "occurred_end",
    "latitude",
    "longitude",
    "place",
    "place_code",
    "killed",
    "injured",
    "displaced",
    "abducted",
    "description",
    "people",
    "reporter_contact",
    "external_id",
    "description_sensitive",
    "location_sensitive",
];

fn flag(v: &Value, field: &str, errs: &mut Vec<FieldError>) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        _ => {
            errs.push(FieldError::new(field, "must be true or false"));
            false
        }
    }
}

fn text(v: &Value, field: &str, errs: &mut Vec<FieldError>) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        _ => {
            errs.push(FieldError::new(field, "must be a string"));
            None
        }
    }
}

fn number(v: &Value, field: &str, errs: &mut Vec<FieldError>) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => {
            errs.push(FieldError::new(field, "must be a number"));
            None
        }
    }
}

/// A report object as the application's input; problems of JSON type are carried along.
pub(crate) fn report_from_json(v: &Value) -> ReportInput {
    let mut input = ReportInput::default();
    let Value::Object(obj) = v else {
        input
            .wire_errors
            .push(FieldError::new("report", "must be a JSON object"));
        return input;
    };
    let errs = &mut input.wire_errors;
    for k in obj.keys() {
        if !FIELDS.contains(&k.as_str()) {
            let shown: String = k.chars().take(40).collect();
            errs.push(FieldError::new(
                shown.clone(),
                format!("'{shown}' is not a field of a report"),
            ));
        }
    }
    let get = |k: &str| obj.get(k).unwrap_or(&Value::Null);
    input.category = text(get("category"), "category", errs);
    input.occurred_start = text(get("occurred_start"), "occurred_start", errs);
    input.occurred_end = text(get("occurred_end"), "occurred_end", errs);
    input.latitude = number(get("latitude"), "latitude", errs);
    input.longitude = number(get("longitude"), "longitude", errs);
    input.place = text(get("place"), "place", errs);
    input.place_code = text(get("place_code"), "place_code", errs);
    input.killed = number(get("killed"), "killed", errs);
    input.injured = number(get("injured"), "injured", errs);
    input.displaced = number(get("displaced"), "displaced", errs);
    input.abducted = number(get("abducted"), "abducted", errs);
    input.description = text(get("description"), "description", errs);
    input.reporter_contact = text(get("reporter_contact"), "reporter_contact", errs);
    input.external_id = text(get("external_id"), "external_id", errs);
    input.description_sensitive = flag(get("description_sensitive"), "description_sensitive", errs);
    input.location_sensitive = flag(get("location_sensitive"), "location_sensitive", errs);
    match get("people") {
        Value::Null => {}
        Value::Array(people) => {
            for (i, p) in people.iter().enumerate() {
                let f = |n: &str| format!("people[{i}].{n}");
                let Value::Object(p) = p else {
                    errs.push(FieldError::new(
                        format!("people[{i}]"),
                        "must be an object {name, age, sex, role}",
                    ));
                    continue;
                };
                for k in p.keys() {
                    if !["name", "age", "sex", "role"].contains(&k.as_str()) {
                        let shown: String = k.chars().take(40).collect();
                        errs.push(FieldError::new(
                            f(&shown),
                            "is not a field of a person (name, age, sex, role)",
                        ));
                    }
                }
                let g = |k: &str| p.get(k).unwrap_or(&Value::Null);
                input.people.push(PersonInput {
                    name: text(g("name"), &f("name"), errs),
                    age: number(g("age"), &f("age"), errs),
                    sex: text(g("sex"), &f("sex"), errs),
                    role: text(g("role"), &f("role"), errs),
                });
            }
        }
        _ => errs.push(FieldError::new("people", "must be a list of people")),
    }
    input
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
    let value: Value = match parse_json(&bytes) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let mut input = report_from_json(&value);
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
    let items = match batch_items(&bytes) {
        Ok(items) => items,
        Err(r) => return *r,
    };
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
    // Each report read from its own text and its JSON values freed before the next: 5 %
    // less time per batch of 10,000 than reading the whole list into values first
    // (BENCHMARKS.md, thirtieth session).
    let inputs: Vec<ReportInput> = items
        .into_iter()
        .map(|raw| ReportInput {
            client: Some(client.clone()),
            ..report_from_raw(raw)
        })
        .collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_types_and_unknown_fields_are_named() {
        let v: Value = serde_json::from_str(
            r#"{"category": 3, "killed": "4", "injured": -1, "latitude": true, "kiled": 2,
                "people": [{"name": "A", "age": 30, "eyes": "brown"}, 5]}"#,
        )
        .unwrap();
        let r = report_from_json(&v);
        let mut fields: Vec<&str> = r.wire_errors.iter().map(|e| e.field.as_str()).collect();
        fields.sort();
        assert_eq!(
            fields,
            vec![
                "category",
                "kiled",
                "latitude",
                "people[0].eyes",
                "people[1]"
            ]
        );
        assert_eq!(r.killed.as_deref(), Some("4"));
        assert_eq!(
            r.injured.as_deref(),
            Some("-1"),
            "checked by the application"
        );
        assert_eq!(r.people[0].age.as_deref(), Some("30"));
        assert_eq!(report_from_json(&json!([1])).wire_errors[0].field, "report");
    }

    #[test]
    fn a_batch_is_a_list_or_an_object_of_one_list_and_its_items_keep_their_order() {
        let items: Vec<Value> = (0..1_000)
            .map(|i| json!({"category": "abduction", "killed": i, "description": "à \" ]"}))
            .collect();
        let list = serde_json::to_vec(&items).unwrap();
        let wrapped = serde_json::to_vec(&json!({ "reports": items })).unwrap();
        for body in [&list, &wrapped] {
            let raws = batch_items(body).unwrap_or_else(|_| panic!("read"));
            let inputs: Vec<ReportInput> = raws.into_iter().map(report_from_raw).collect();
            assert_eq!(inputs.len(), 1_000);
            for (i, r) in inputs.iter().enumerate() {
                assert_eq!(r.killed, Some(i.to_string()));
                assert_eq!(r.description.as_deref(), Some("à \" ]"));
                assert!(r.wire_errors.is_empty());
            }
        }
        let spaced = b" \n [ {\"killed\": 1} ,\t{\"kiled\": 2} ] ";
        let inputs: Vec<ReportInput> = batch_items(spaced)
            .unwrap_or_else(|_| panic!("read"))
            .into_iter()
            .map(report_from_raw)
            .collect();
        assert_eq!(inputs[0].killed.as_deref(), Some("1"));
        assert_eq!(inputs[1].wire_errors[0].field, "kiled");
    }

    #[test]
    fn a_body_that_is_no_batch_is_refused_saying_why() {
        let shape = StatusCode::UNPROCESSABLE_ENTITY;
        let not_json = StatusCode::BAD_REQUEST;
        for (body, status) in [
            (&b"5"[..], shape),
            (b"{}", shape),
            (b"{\"reports\": 5}", shape),
            (b"{\"reports\": [], \"extra\": 1}", shape),
            (b"\"reports\"", shape),
            (b"", not_json),
            (b"[{\"killed\": 1},", not_json),
            (b"[{\"killed\": 1}] x", not_json),
            (b"{\"reports\": [1,]}", not_json),
            (b"\xff", not_json),
        ] {
            let refused = batch_items(body).map(|_| ()).unwrap_err();
            assert_eq!(
                refused.status(),
                status,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
