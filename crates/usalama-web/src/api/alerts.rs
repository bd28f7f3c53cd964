//! Alerts in the API. Reading needs a role that reads event records: an alert holds no
//! names, contacts or descriptions, but it names a locality at any level, a period, small
//! counts and event ids, which public outputs must not (the public dashboard and the
//! situation report show alerts coarsened, in `usalama_app::public_alerts`).
//! `GET /api/v1/alerts` (JSON, filters), `GET /api/v1/alerts/{id}` (JSON
//! with the history, names withheld from callers who may not read event records),
//! `GET /api/v1/alerts/{id}.cap.xml` (CAP 1.2) and `GET /api/v1/alerts/feed.atom` (Atom,
//! entries linking their CAP documents). Moving an alert through its lifecycle,
//! `POST /api/v1/alerts/{id}/status`, needs a token of an analyst, responder or
//! administrator (the `/alerts` pages do the same with a session).

use super::params::Params;
use super::verification::{body_object, change_error, invalid_field, opt_str};
use super::{run, Caller};
use crate::cap::{atom_feed, cap_document, Origin, ATOM_MEDIA_TYPE, CAP_MEDIA_TYPE};
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use usalama_app::{AlertDetail, AlertFilter, App};
use usalama_domain::alert::{Alert, AlertSeverity, AlertStatus};
use usalama_domain::{AlertId, Dimension};

/// The alert routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/alerts", get(list))
        .route("/api/v1/alerts/feed.atom", get(feed))
        .route("/api/v1/alerts/{id}", get(one))
        .route("/api/v1/alerts/{id}/status", post(status))
}

/// Parameters of the alert list (shared with the `/alerts` page).
pub const ALERT_PARAMS: &[&str] = &[
    "status",
    "rule",
    "min_severity",
    "locality",
    "dimension",
    "limit",
];

/// Reads the alert list's filters.
pub fn alert_filter(p: &Params) -> Result<AlertFilter, ApiError> {
    let parse = |name: &str| -> Result<Option<String>, ApiError> {
        Ok(p.str(name)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()))
    };
    let status = parse("status")?
        .map(|s| s.parse::<AlertStatus>())
        .transpose()
        .map_err(|e| ApiError::bad_parameter("status", e.reason))?;
    let min_severity = parse("min_severity")?
        .map(|s| s.parse::<AlertSeverity>())
        .transpose()
        .map_err(|e| ApiError::bad_parameter("min_severity", e.reason))?;
    let dimension = p.parsed::<Dimension>("dimension", "one of lives, livelihood, dignity")?;
    let limit = match parse("limit")? {
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=1000).contains(l))
            .ok_or_else(|| ApiError::bad_parameter("limit", "limit must be 1 to 1000"))?,
        None => 100,
    };
    Ok(AlertFilter {
        status,
        rule: parse("rule")?,
        min_severity,
        locality: parse("locality")?,
        dimension,
        limit,
    })
}

/// The origin of documents for a request: its Host header and the server's scheme.
pub fn origin(state: &AppState, headers: &HeaderMap) -> Origin {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    Origin::from_host(host, state.config.secure_cookies)
}

/// The rule's name for people (its id when the rule is no longer in force).
pub fn rule_name(app: &App, rule: &str) -> String {
    app.alert_rules()
        .rules
        .iter()
        .find(|r| r.id == rule)
        .map_or_else(|| rule.to_string(), |r| r.name.clone())
}

/// The JSON of an alert.
pub fn alert_json(a: &Alert, origin: &Origin) -> Value {
    json!({
        "id": a.id.to_string(),
        "rule": a.rule,
        "rule_kind": a.rule_kind,
        "locality": a.locality.map(|l| json!({
            "id": l.to_string(),
            "code": a.locality_code,
            "name": a.locality_name,
        })),
        "dimension": a.dimension.map(|d| d.as_str()),
        "period": a.period,
        "severity": a.severity.as_str(),
        "urgency": a.urgency.as_str(),
        "certainty": a.certainty.as_str(),
        "headline": a.headline,
        "description": a.description,
        "evidence": {
            "kind": a.evidence.kind,
            "method": a.evidence.method,
            "source": a.evidence.source,
            "values": a.evidence.values.iter().map(|v| json!({"name": v.name, "value": v.value})).collect::<Vec<_>>(),
            "events": a.evidence.events.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
        },
        "status": a.status.as_str(),
        "raised_at": a.raised_at.to_rfc3339(),
        "updated_at": a.updated_at.to_rfc3339(),
        "links": {
            "cap": origin.cap_url(a),
            "html": origin.page_url(a),
        },
    })
}

fn detail_json(d: &AlertDetail, origin: &Origin) -> Value {
    let mut v = alert_json(&d.alert, origin);
    v["history"] = d
        .history
        .iter()
        .map(|h| {
            json!({
                "from": h.from.map(|s| s.as_str()),
                "to": h.to.as_str(),
                "by": (!h.by.is_empty()).then_some(h.by.as_str()),
                "note": h.note,
                "at": h.at.to_rfc3339(),
            })
        })
        .collect();
    if !d.deliveries.is_empty() {
        v["deliveries"] = d
            .deliveries
            .iter()
            .map(|l| {
                json!({
                    "delivery": l.delivery,
                    "channel": l.channel.as_str(),
                    "target": l.target,
                    "status": l.status,
                    "attempt": l.attempt,
                    "ok": l.ok,
                    "error": l.error,
                    "at": l.at.to_rfc3339(),
                })
            })
            .collect();
    }
    v
}

fn alert_id(raw: &str) -> Result<AlertId, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found("alert"))
}

async fn list(
    State(state): State<AppState>,
    super::MaybeCaller(who): super::MaybeCaller,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let p = Params::parse(raw.as_deref(), ALERT_PARAMS)?;
    let f = alert_filter(&p)?;
    let alerts = run(&state, move |app| app.list_alerts(&who, &f)).await?;
    let o = origin(&state, &headers);
    Ok(Json(json!({
        "items": alerts.iter().map(|a| alert_json(a, &o)).collect::<Vec<_>>(),
    })))
}

async fn feed(
    State(state): State<AppState>,
    super::MaybeCaller(who): super::MaybeCaller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let f = AlertFilter {
        limit: 100,
        ..Default::default()
    };
    let (alerts, now) = run(&state, move |app| {
        Ok((app.list_alerts(&who, &f)?, app.now()))
    })
    .await?;
    let body = atom_feed(&alerts, &origin(&state, &headers), now);
    Ok(([(header::CONTENT_TYPE, ATOM_MEDIA_TYPE)], body).into_response())
}

/// `GET /api/v1/alerts/{id}` (JSON) and `GET /api/v1/alerts/{id}.cap.xml` (CAP 1.2).
async fn one(
    State(state): State<AppState>,
    super::MaybeCaller(who): super::MaybeCaller,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let o = origin(&state, &headers);
    if let Some(id) = raw.strip_suffix(".cap.xml") {
        let id = alert_id(id)?;
        let (alert, event) = run(&state, move |app| {
            let a = app.get_alert(&who, id)?;
            let event = rule_name(app, &a.rule);
            Ok((a, event))
        })
        .await?;
        let body = cap_document(&alert, &event, &o);
        return Ok(([(header::CONTENT_TYPE, CAP_MEDIA_TYPE)], body).into_response());
    }
    let id = alert_id(&raw)?;
    let d = run(&state, move |app| app.alert_detail(&who, id)).await?;
    Ok(Json(detail_json(&d, &o)).into_response())
}

async fn status(
    State(state): State<AppState>,
    Caller(who): Caller,
    headers: HeaderMap,
    Path(raw): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    if !usalama_app::can_handle_alerts(&who) {
        return Err(usalama_app::AppError::Forbidden(
            who.role().map_or_else(|| "none".into(), |r| r.to_string()),
        )
        .into());
    }
    let id = alert_id(&raw)?;
    let m = body_object(&body, &["status", "note", "expected"])?;
    let to: AlertStatus = opt_str(&m, "status")?
        .ok_or_else(|| {
            invalid_field(
                "status",
                "status is required: acknowledged, responded or closed",
            )
        })?
        .parse()
        .map_err(|e: usalama_domain::DomainError| invalid_field("status", e.reason))?;
    let expected: Option<AlertStatus> = opt_str(&m, "expected")?
        .map(str::parse)
        .transpose()
        .map_err(|e: usalama_domain::DomainError| invalid_field("expected", e.reason))?;
    let note = opt_str(&m, "note")?.map(str::to_string);
    let a = run(&state, move |app| {
        app.change_alert_status(&who, id, to, expected, note.as_deref())
    })
    .await
    .map_err(change_error)?;
    Ok(Json(alert_json(&a, &origin(&state, &headers))))
}
