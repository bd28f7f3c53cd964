//! The alert pages: `GET /alerts` (public list with filters), `GET /alerts/{id}` (public
//! detail; names in the history and links to event records only for readers of records)
//! and `POST /alerts/{id}/status` (the lifecycle form, with the CSRF token, for analysts,
//! responders and administrators).

use super::PageReq;
use crate::api::alerts::{alert_filter, rule_name, ALERT_PARAMS};
use crate::api::params::Params;
use crate::api::run;
use crate::state::AppState;
use crate::ui::alerts::{self as v, AlertDetailView, AlertListView, AlertRowView, HistoryView};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use usalama_app::{can_handle_alerts, AppError};
use usalama_domain::alert::{Alert, AlertStatus};
use usalama_domain::AlertId;

/// The alert page routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/alerts", get(list))
        .route("/alerts/{id}", get(detail))
        .route("/alerts/{id}/status", post(change))
}

fn place(a: &Alert) -> String {
    match (&a.locality_name, &a.locality_code) {
        (Some(n), Some(c)) => format!("{n} ({c})"),
        (Some(n), None) => n.clone(),
        _ => "–".into(),
    }
}

fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

async fn list(State(state): State<AppState>, req: PageReq, RawQuery(raw): RawQuery) -> Response {
    let mut view = AlertListView::default();
    let mut p_all = ALERT_PARAMS.to_vec();
    p_all.push("lang");
    let filter = Params::parse(raw.as_deref(), &p_all).and_then(|p| {
        view.status = p.str("status").unwrap_or_default().to_string();
        view.min_severity = p.str("min_severity").unwrap_or_default().to_string();
        alert_filter(&p)
    });
    let filter = match filter {
        Ok(f) => f,
        Err(e) => {
            view.error = Some(e.field.unwrap_or_else(|| "query".into()));
            return req.send(&state, StatusCode::BAD_REQUEST, |ctx| {
                v::list_page(ctx, &view)
            });
        }
    };
    let who = req.who.clone();
    let got = run(&state, move |app| {
        let alerts = app.list_alerts(&who, &filter)?;
        Ok(alerts
            .into_iter()
            .map(|a| AlertRowView {
                id: a.id.to_string(),
                raised: when(a.raised_at),
                severity: a.severity.as_str().into(),
                place: place(&a),
                rule: rule_name(app, &a.rule),
                period: a.period.clone(),
                status: a.status.as_str().into(),
                headline: a.headline.clone(),
            })
            .collect::<Vec<_>>())
    })
    .await;
    match got {
        Ok(rows) => view.rows = rows,
        Err(e) => return req.error(&state, e),
    }
    req.send(&state, StatusCode::OK, |ctx| v::list_page(ctx, &view))
}

async fn detail(State(state): State<AppState>, req: PageReq, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<AlertId>() else {
        return req.error(&state, AppError::NotFound("alert"));
    };
    let who = req.who.clone();
    let got = run(&state, move |app| {
        let d = app.alert_detail(&who, id)?;
        let rule = rule_name(app, &d.alert.rule);
        Ok((d, rule))
    })
    .await;
    let (d, rule) = match got {
        Ok(x) => x,
        Err(e) => return req.error(&state, e),
    };
    let a = &d.alert;
    let next = if can_handle_alerts(&req.who) {
        a.status
            .next()
            .iter()
            .map(|s| s.as_str().to_string())
            .collect()
    } else {
        Vec::new()
    };
    let view = AlertDetailView {
        id: a.id.to_string(),
        headline: a.headline.clone(),
        description: a.description.clone(),
        rule,
        place: place(a),
        period: a.period.clone(),
        grading: [
            a.severity.as_str().into(),
            a.urgency.cap_name().into(),
            a.certainty.cap_name().into(),
        ],
        status: a.status.as_str().into(),
        values: a
            .evidence
            .values
            .iter()
            .map(|v| {
                (
                    v.name.clone(),
                    format!("{:.2}", v.value)
                        .trim_end_matches('0')
                        .trim_end_matches('.')
                        .to_string(),
                )
            })
            .collect(),
        events: a.evidence.events.iter().map(|e| e.to_string()).collect(),
        link_events: req.who.role().is_some_and(|r| r.can_read_events()),
        history: d
            .history
            .iter()
            .map(|h| HistoryView {
                at: when(h.at),
                to: h.to.as_str().into(),
                by: h.by.clone(),
                note: h.note.clone().unwrap_or_default(),
            })
            .collect(),
        next,
    };
    req.send(&state, StatusCode::OK, |ctx| v::detail_page(ctx, &view))
}

/// The lifecycle form's fields.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct StatusForm {
    csrf: String,
    status: String,
    expected: String,
    note: String,
}

async fn change(
    State(state): State<AppState>,
    req: PageReq,
    Path(id): Path<String>,
    Form(f): Form<StatusForm>,
) -> Response {
    let back = format!("/alerts/{}", super::urlencode(&id));
    if let Some(r) = req.refuse_form(&state, &f.csrf, &back) {
        return r;
    }
    let Ok(id) = id.parse::<AlertId>() else {
        return req.error(&state, AppError::NotFound("alert"));
    };
    let parsed = f
        .status
        .parse::<AlertStatus>()
        .and_then(|to| {
            let expected = Some(f.expected.trim())
                .filter(|e| !e.is_empty())
                .map(str::parse::<AlertStatus>)
                .transpose()?;
            Ok((to, expected))
        })
        .map_err(|e| AppError::invalid(e.field, e.reason));
    let (to, expected) = match parsed {
        Ok(x) => x,
        Err(_) => return invalid_move(&state, &req, &back),
    };
    let who = req.who.clone();
    let note = f.note;
    match run(&state, move |app| {
        app.change_alert_status(&who, id, to, expected, Some(&note))
    })
    .await
    {
        Ok(_) => req.done("", &back),
        Err(AppError::Invalid { .. }) => invalid_move(&state, &req, &back),
        Err(e) => req.problem(&state, e, &back),
    }
}

/// Says the lifecycle does not allow this move (422).
fn invalid_move(state: &AppState, req: &PageReq, back: &str) -> Response {
    req.send(state, StatusCode::UNPROCESSABLE_ENTITY, |ctx| {
        crate::ui::verify::problem_page(ctx, &ctx.t("alerts-invalid-move"), back)
    })
}
