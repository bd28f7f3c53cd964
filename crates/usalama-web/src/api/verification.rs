//! The verification API: the queue of unverified reports, decisions with grading, duplicate
//! candidates, merges and un-merges, and a record's history, with their JSON shapes.
//!
//! Every change names the version of the record the caller saw, in `If-Match` (the `ETag`
//! of `GET /api/v1/events/{id}`, of a queue item or of a previous change) or in the body's
//! `version`: 428 when neither is given, 409 `version_conflict` when the record has changed
//! since. Body fields that are not valid answer 422 `invalid_field` naming the field.

use super::dto::{EventJson, ListDto};
use super::params::Params;
use super::{run, Caller};
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{Map, Value};
use usalama_app::{
    App, AppError, DuplicateCandidate, Duplicates, Principal, QueueItem, VersionedView,
};
use usalama_domain::{
    Decision, DecisionStatus, DuplicateRules, EventId, InformationCredibility, SourceReliability,
};
use usalama_store::{HistoryEntry, QueueQuery};

/// The verification routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/verification/queue", get(queue))
        .route("/api/v1/events/{id}/verification", post(decide))
        .route("/api/v1/events/{id}/duplicates", get(duplicates))
        .route("/api/v1/events/{id}/merge", post(merge))
        .route("/api/v1/events/{id}/unmerge", post(unmerge))
        .route("/api/v1/events/{id}/history", get(history))
}

// ---------------------------------------------------------------------------------------
// JSON shapes

/// An event with its version (the value to send back in `If-Match`).
#[derive(Serialize)]
pub struct VersionedEventDto {
    /// The event.
    #[serde(flatten)]
    pub event: EventJson,
    /// Its version; also its `ETag`.
    pub version: i64,
}

impl From<VersionedView> for VersionedEventDto {
    fn from(v: VersionedView) -> Self {
        Self {
            event: EventJson(v.view),
            version: v.version,
        }
    }
}

/// Why a report sits where it does in the queue.
#[derive(Serialize)]
pub struct SeverityDto {
    /// People killed (best estimate, unknown as 0).
    pub killed: u64,
    /// People injured, abducted or displaced (unknown as 0).
    pub otherwise_harmed: u64,
    /// Civilians deliberately targeted.
    pub civilians_targeted: bool,
}

/// A report in the queue.
#[derive(Serialize)]
pub struct QueueItemDto {
    /// The report and its version.
    #[serde(flatten)]
    pub event: VersionedEventDto,
    /// Its severity.
    pub severity: SeverityDto,
    /// How many records may be the same incident (`GET /api/v1/events/{id}/duplicates`).
    pub possible_duplicates: usize,
}

impl From<QueueItem> for QueueItemDto {
    fn from(q: QueueItem) -> Self {
        Self {
            event: q.item.into(),
            severity: SeverityDto {
                killed: q.severity.killed,
                otherwise_harmed: q.severity.otherwise_harmed,
                civilians_targeted: q.severity.civilians_targeted,
            },
            possible_duplicates: q.possible_duplicates,
        }
    }
}

/// The rules candidates were found with.
#[derive(Serialize)]
pub struct RulesDto {
    /// Farthest apart, km.
    pub max_distance_km: f64,
    /// Most days apart.
    pub max_days_apart: u32,
    /// Least token Jaccard similarity when both have text.
    pub min_text_similarity: f64,
    /// Most candidates.
    pub max_candidates: usize,
}

impl From<DuplicateRules> for RulesDto {
    fn from(r: DuplicateRules) -> Self {
        Self {
            max_distance_km: r.max_distance_km,
            max_days_apart: r.max_days_apart,
            min_text_similarity: r.min_text_similarity,
            max_candidates: r.max_candidates,
        }
    }
}

/// A possible duplicate.
#[derive(Serialize)]
pub struct CandidateDto {
    /// Likeness in [0, 1], higher first.
    pub score: f64,
    /// Distance in km, when both have coordinates.
    pub distance_km: Option<f64>,
    /// Both are placed in the same deepest locality.
    pub same_locality: bool,
    /// Days between their date ranges.
    pub days_apart: u32,
    /// Token Jaccard similarity of description and place name, when both have text.
    pub text_similarity: Option<f64>,
    /// The reasons in words.
    pub reason: String,
    /// The other record.
    pub event: VersionedEventDto,
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

impl From<DuplicateCandidate> for CandidateDto {
    fn from(c: DuplicateCandidate) -> Self {
        let m = c.matched;
        let place = match m.distance_km {
            Some(d) => format!("{:.1} km apart", d),
            None => "same locality (no coordinates)".into(),
        };
        let days = match m.days_apart {
            0 => "same days".to_string(),
            1 => "1 day apart".to_string(),
            n => format!("{n} days apart"),
        };
        let text = match m.text_similarity {
            Some(t) => format!("text similarity {t:.2}"),
            None => "no text to compare".into(),
        };
        Self {
            score: m.score,
            distance_km: m.distance_km.map(|d| round(d, 2)),
            same_locality: m.same_locality,
            days_apart: m.days_apart,
            text_similarity: m.text_similarity.map(|t| round(t, 3)),
            reason: format!("{place}; {days}; {text}"),
            event: c.item.into(),
        }
    }
}

/// A record's duplicates.
#[derive(Serialize)]
pub struct DuplicatesDto {
    /// The record.
    pub id: String,
    /// Its version.
    pub version: i64,
    /// Its status.
    pub status: String,
    /// The root it duplicates, if it is a duplicate.
    pub duplicate_of: Option<String>,
    /// Records merged into it (each keeps its own source and external id).
    pub duplicates: Vec<EventJson>,
    /// Possible duplicates, best first.
    pub candidates: Vec<CandidateDto>,
    /// The rules used.
    pub rules: RulesDto,
}

impl From<Duplicates> for DuplicatesDto {
    fn from(d: Duplicates) -> Self {
        Self {
            id: d.event.view.event.id.to_string(),
            version: d.event.version,
            status: d.event.view.event.status.as_str().into(),
            duplicate_of: d.duplicate_of.map(|r| r.to_string()),
            duplicates: d.merged.into_iter().map(EventJson).collect(),
            candidates: d.candidates.into_iter().map(CandidateDto::from).collect(),
            rules: d.rules.into(),
        }
    }
}

/// One field a change touched.
#[derive(Serialize)]
pub struct ChangeDto {
    /// Field name.
    pub field: String,
    /// Value before (null when empty or withheld).
    pub from: Option<String>,
    /// Value after (null when empty or withheld).
    pub to: Option<String>,
    /// Personal data: the values are not shown.
    pub withheld: bool,
}

/// One change of a record.
#[derive(Serialize)]
pub struct HistoryEntryDto {
    /// When (RFC 3339).
    pub at: String,
    /// Who.
    pub by: Option<String>,
    /// `content_update`, `decision`, `merged_into`, `duplicate_added`, `unmerged` or
    /// `duplicate_removed`.
    pub kind: String,
    /// Why.
    pub reason: Option<String>,
    /// The other record of a merge or un-merge.
    pub related_event: Option<String>,
    /// What changed.
    pub changes: Vec<ChangeDto>,
}

impl From<HistoryEntry> for HistoryEntryDto {
    fn from(h: HistoryEntry) -> Self {
        Self {
            at: h.at.to_rfc3339(),
            by: h.by,
            kind: h.kind.to_string(),
            reason: h.reason,
            related_event: h.related.map(|r| r.to_string()),
            changes: h
                .changes
                .into_iter()
                .map(|c| ChangeDto {
                    field: c.field,
                    from: c.from,
                    to: c.to,
                    withheld: c.withheld,
                })
                .collect(),
        }
    }
}

/// A record's history.
#[derive(Serialize)]
pub struct HistoryDto {
    /// The record.
    pub id: String,
    /// Its version now.
    pub version: i64,
    /// When it was first stored.
    pub created_at: String,
    /// Every change, oldest first.
    pub entries: Vec<HistoryEntryDto>,
}

// ---------------------------------------------------------------------------------------
// Request parsing

/// 422 naming a body field.
pub fn invalid_field(name: &str, message: impl Into<String>) -> ApiError {
    ApiError {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_field",
        message: message.into(),
        field: Some(name.to_string()),
    }
}

/// Application errors of a change: invalid values are 422 on the body field.
/// Maps a failed change to the API error (422 for invalid fields, 409 for conflicts).
pub(crate) fn change_error(e: AppError) -> ApiError {
    match e {
        AppError::Invalid { field, reason } => {
            let message = if reason.starts_with(&field) {
                reason
            } else {
                format!("{field}: {reason}")
            };
            invalid_field(&field, message)
        }
        other => other.into(),
    }
}

fn bad_json(message: impl Into<String>) -> ApiError {
    ApiError {
        status: StatusCode::BAD_REQUEST,
        code: "invalid_json",
        message: message.into(),
        field: None,
    }
}

/// The body as a JSON object with only `known` fields; an empty body is `{}`.
/// The request body as a JSON object with only the `known` fields.
pub(crate) fn body_object(body: &Bytes, known: &[&str]) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| bad_json(format!("the body is not valid JSON: {e}")))?;
    let Value::Object(m) = v else {
        return Err(bad_json("the body must be a JSON object"));
    };
    if let Some(k) = m.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(invalid_field(
            k,
            format!("unknown field '{k}'; known: {}", known.join(", ")),
        ));
    }
    Ok(m)
}

/// An optional string field of a JSON body.
pub(crate) fn opt_str<'a>(
    m: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, ApiError> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(invalid_field(name, format!("{name} must be a string"))),
    }
}

fn opt_int(m: &Map<String, Value>, name: &str) -> Result<Option<i64>, ApiError> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64()),
        Some(_) => Err(invalid_field(
            name,
            format!("{name} must be a whole number"),
        )),
    }
}

/// The version the caller saw: `If-Match` (`"7"`, `W/"7"` or `7`) or the body's
/// `version`. 428 when neither is given.
pub fn expected_version(headers: &HeaderMap, body: Option<i64>) -> Result<i64, ApiError> {
    let header = match headers.get(header::IF_MATCH) {
        None => None,
        Some(v) => {
            let raw = v.to_str().unwrap_or("").trim();
            let tag = raw.strip_prefix("W/").unwrap_or(raw).trim_matches('"');
            Some(tag.parse::<i64>().map_err(|_| {
                ApiError::bad_parameter(
                    "If-Match",
                    "If-Match must hold one version, as given in the ETag, e.g. \"3\"",
                )
            })?)
        }
    };
    match (header, body) {
        (Some(h), Some(b)) if h != b => Err(ApiError::bad_parameter(
            "If-Match",
            "If-Match and the body's version disagree",
        )),
        (Some(v), _) | (None, Some(v)) => Ok(v),
        (None, None) => Err(ApiError {
            status: StatusCode::PRECONDITION_REQUIRED,
            code: "precondition_required",
            message: "send the version you saw in If-Match (the event's ETag) or as \"version\", so that a change made meanwhile is not overwritten".into(),
            field: Some("If-Match".into()),
        }),
    }
}

/// A JSON answer with the record's `ETag`.
pub fn with_etag(body: impl Serialize, version: i64) -> Response {
    let mut r = Json(body).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r
}

fn event_id(raw: &str) -> Result<EventId, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found("event"))
}

/// Refuses callers who may not change records before their body is looked at.
fn ensure_verifier(who: &Principal) -> Result<(), ApiError> {
    if App::can_verify(who) {
        Ok(())
    } else {
        Err(match who.role() {
            None => AppError::Unauthenticated,
            Some(r) => AppError::Forbidden(r.to_string()),
        }
        .into())
    }
}

/// Parameters of the queue.
pub const QUEUE_PARAMS: &[&str] = &["locality", "category", "limit", "cursor"];

/// Builds a queue query from parameters; shared with the queue page.
pub fn queue_query(app: &App, p: &Params) -> Result<QueueQuery, AppError> {
    let locality = match p.str("locality") {
        Some(code) => {
            let l = app.resolve_locality(code).map_err(|_| {
                AppError::invalid("locality", format!("no locality has code or id '{code}'"))
            })?;
            Some((l.id, l.level))
        }
        None => None,
    };
    let category = p.str("category").map(str::to_string);
    if let Some(c) = &category {
        if app.taxonomy().category(c).is_none() {
            return Err(AppError::invalid(
                "category",
                format!("'{c}' is not a category of the taxonomy"),
            ));
        }
    }
    let page = p
        .page()
        .map_err(|e| AppError::invalid(e.field.unwrap_or_default(), e.message))?;
    Ok(QueueQuery {
        locality,
        category,
        page,
        // Set by the use-case from the caller.
        visibility: Default::default(),
    })
}

// ---------------------------------------------------------------------------------------
// Handlers

async fn queue(
    State(state): State<AppState>,
    Caller(who): Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<ListDto<QueueItemDto>>, ApiError> {
    let p = Params::parse(raw.as_deref(), QUEUE_PARAMS)?;
    let page = run(&state, move |app| {
        let q = queue_query(app, &p)?;
        app.verification_queue(&who, &q)
    })
    .await?;
    Ok(Json(ListDto::from_page(page, QueueItemDto::from)))
}

/// The fields of `POST /api/v1/events/{id}/verification`.
const DECISION_FIELDS: &[&str] = &["status", "reason", "reliability", "credibility", "version"];

fn decision(m: &Map<String, Value>) -> Result<Decision, ApiError> {
    let status: DecisionStatus = opt_str(m, "status")?
        .ok_or_else(|| invalid_field("status", "status is required: verified or rejected"))?
        .parse()
        .map_err(|e: usalama_domain::DomainError| invalid_field("status", e.to_string()))?;
    let reliability = opt_str(m, "reliability")?
        .map(|r| r.trim().to_ascii_uppercase().parse::<SourceReliability>())
        .transpose()
        .map_err(|e| invalid_field("reliability", e.to_string()))?;
    let credibility = match opt_int(m, "credibility")? {
        None => None,
        Some(n) => Some(
            u8::try_from(n)
                .map_err(|_| format!("credibility: {n} is not a grade 1-6"))
                .and_then(|g| InformationCredibility::new(g).map_err(|e| e.to_string()))
                .map_err(|msg| invalid_field("credibility", msg))?,
        ),
    };
    Decision::new(status, opt_str(m, "reason")?, reliability, credibility)
        .map_err(|e| invalid_field(e.field, e.to_string()))
}

async fn decide(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    ensure_verifier(&who)?;
    let id = event_id(&id)?;
    let m = body_object(&body, DECISION_FIELDS)?;
    let d = decision(&m)?;
    let version = expected_version(&headers, opt_int(&m, "version")?)?;
    let v = run(&state, move |app| app.decide(&who, id, &d, version))
        .await
        .map_err(change_error)?;
    let version = v.version;
    Ok(with_etag(VersionedEventDto::from(v), version))
}

async fn duplicates(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = event_id(&id)?;
    let d = run(&state, move |app| app.duplicates(&who, id)).await?;
    let version = d.event.version;
    Ok(with_etag(DuplicatesDto::from(d), version))
}

async fn merge(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    ensure_verifier(&who)?;
    let id = event_id(&id)?;
    let m = body_object(&body, &["into", "reason", "version"])?;
    let into: EventId = opt_str(&m, "into")?
        .ok_or_else(|| invalid_field("into", "into is required: the id of the original event"))?
        .trim()
        .parse()
        .map_err(|_| invalid_field("into", "into must be an event id (UUID)"))?;
    let reason = opt_str(&m, "reason")?.map(str::to_string);
    let version = expected_version(&headers, opt_int(&m, "version")?)?;
    let v = run(&state, move |app| {
        app.merge(&who, id, into, reason.as_deref(), version)
    })
    .await
    .map_err(change_error)?;
    let version = v.version;
    Ok(with_etag(VersionedEventDto::from(v), version))
}

async fn unmerge(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    ensure_verifier(&who)?;
    let id = event_id(&id)?;
    let m = body_object(&body, &["reason", "version"])?;
    let reason = opt_str(&m, "reason")?.map(str::to_string);
    let version = expected_version(&headers, opt_int(&m, "version")?)?;
    let v = run(&state, move |app| {
        app.unmerge(&who, id, reason.as_deref(), version)
    })
    .await
    .map_err(change_error)?;
    let version = v.version;
    Ok(with_etag(VersionedEventDto::from(v), version))
}

async fn history(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = event_id(&id)?;
    let (v, entries) = run(&state, move |app| {
        let entries = app.history(&who, id)?;
        Ok((app.get_event_versioned(&who, id)?, entries))
    })
    .await?;
    let version = v.version;
    Ok(with_etag(
        HistoryDto {
            id: v.view.event.id.to_string(),
            version,
            created_at: v.view.event.meta.created_at.to_rfc3339(),
            entries: entries.into_iter().map(HistoryEntryDto::from).collect(),
        },
        version,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::IF_MATCH, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn versions_come_from_if_match_or_the_body() {
        assert_eq!(expected_version(&headers("\"7\""), None).unwrap(), 7);
        assert_eq!(expected_version(&headers("W/\"7\""), Some(7)).unwrap(), 7);
        assert_eq!(expected_version(&HeaderMap::new(), Some(3)).unwrap(), 3);
        let e = expected_version(&HeaderMap::new(), None).unwrap_err();
        assert_eq!(e.status, StatusCode::PRECONDITION_REQUIRED);
        assert_eq!(
            expected_version(&headers("\"7\""), Some(8))
                .unwrap_err()
                .status,
            StatusCode::BAD_REQUEST
        );
        assert!(expected_version(&headers("*"), None).is_err());
    }

    #[test]
    fn decision_bodies_name_the_bad_field() {
        let field = |body: &str| {
            let m = body_object(&Bytes::from(body.to_string()), DECISION_FIELDS).unwrap();
            decision(&m).unwrap_err().field.unwrap_or_default()
        };
        assert_eq!(
            field(r#"{"status":"verified","reliability":"G"}"#),
            "reliability"
        );
        assert_eq!(
            field(r#"{"status":"verified","credibility":7}"#),
            "credibility"
        );
        assert_eq!(
            field(r#"{"status":"verified","credibility":"2"}"#),
            "credibility"
        );
        assert_eq!(
            field(r#"{"status":"verified","credibility":-1}"#),
            "credibility"
        );
        assert_eq!(field(r#"{"status":"rejected"}"#), "reason");
        assert_eq!(field(r#"{"status":"maybe"}"#), "status");
        assert_eq!(field(r#"{}"#), "status");
        let ok = body_object(
            &Bytes::from_static(br#"{"status":"verified","reliability":"b","credibility":2}"#),
            DECISION_FIELDS,
        )
        .unwrap();
        assert_eq!(
            decision(&ok).unwrap().reliability(),
            Some(SourceReliability::B)
        );
        let unknown = body_object(&Bytes::from_static(br#"{"credibilty":2}"#), DECISION_FIELDS);
        assert_eq!(unknown.unwrap_err().field.as_deref(), Some("credibilty"));
        assert_eq!(
            body_object(&Bytes::from_static(b"[1]"), DECISION_FIELDS)
                .unwrap_err()
                .code,
            "invalid_json"
        );
        assert!(body_object(&Bytes::from_static(b"  "), DECISION_FIELDS)
            .unwrap()
            .is_empty());
    }
}
