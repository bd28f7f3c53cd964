//! The verification pages: the queue at `/verify`, the verification parts of the event
//! page, and the form handlers that decide, merge and un-merge (`POST` with the CSRF token
//! and the version the analyst saw). A change that cannot be made is answered with a page
//! saying why in plain words, with the HTTP status the API would give (403, 409, 422).

use super::{date_text, place, safe_next, urlencode, PageReq};
use crate::api::params::{form_pairs, Params};
use crate::api::run;
use crate::api::verification::{queue_query, QUEUE_PARAMS};
use crate::state::AppState;
use crate::ui::verify::{
    self as v, CandidateRow, ChangeRow, DecisionFormView, DuplicateRow, EventPanel, HistoryRow,
    QueueFilterForm, QueueRow, QueueView,
};
use crate::ui::Lang;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use usalama_app::{App, AppError, EventView, Principal};
use usalama_domain::{
    Decision, DecisionStatus, EventId, InformationCredibility, Severity, SourceReliability,
};

/// Reports per page of the queue.
const QUEUE_PAGE: u32 = 25;
/// Characters of a description shown in the queue.
const EXCERPT: usize = 240;

/// The verification page routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/verify", get(queue))
        .route("/events/{id}/verification", post(decide))
        .route("/events/{id}/merge", post(merge))
        .route("/events/{id}/unmerge", post(unmerge))
}

fn row(state: &AppState, lang: Lang, v: &EventView) -> DuplicateRow {
    let e = &v.event;
    DuplicateRow {
        id: e.id.to_string(),
        date: date_text(e.occurred_start, e.occurred_end),
        category_label: state
            .app
            .taxonomy()
            .category(&e.category)
            .map_or(e.category.clone(), |c| c.label(lang.code()).to_string()),
        place: place(v),
        source: e.source.clone(),
        external_id: e.external_id.clone(),
        status: e.status.as_str().to_string(),
    }
}

/// The verification parts of the event page for the viewer: the decision form and the
/// candidates for analysts, the merged duplicates and the history for every reader.
pub(super) async fn panel(
    state: &AppState,
    req: &PageReq,
    id: EventId,
) -> Result<EventPanel, AppError> {
    let who = req.who.clone();
    let can_verify = App::can_verify(&who);
    let (current, history, merged, candidates, rules) = run(state, move |app| {
        let current = app.get_event_versioned(&who, id)?;
        let history = app.history(&who, id)?;
        if can_verify {
            let d = app.duplicates(&who, id)?;
            Ok((current, history, d.merged, d.candidates, d.rules))
        } else {
            let merged = app.merged_duplicates(&who, id)?;
            Ok((current, history, merged, Vec::new(), *app.duplicate_rules()))
        }
    })
    .await?;
    let lang = req.lang;
    let e = &current.view.event;
    Ok(EventPanel {
        can_verify,
        form: DecisionFormView {
            id: e.id.to_string(),
            version: current.version,
            csrf_token: req.csrf.clone(),
            next: format!("/events/{}", e.id),
            reliability: e.reliability.map(|r| r.to_string()),
            credibility: e.credibility.map(|c| c.grade()),
        },
        duplicate_of: match e.status {
            usalama_domain::VerificationStatus::DuplicateOf(root) => Some(root.to_string()),
            _ => None,
        },
        merged: merged.iter().map(|m| row(state, lang, m)).collect(),
        candidates: candidates
            .iter()
            .map(|c| CandidateRow {
                row: row(state, lang, &c.item.view),
                version: c.item.version,
                score: c.matched.score,
                distance_km: c.matched.distance_km,
                days_apart: c.matched.days_apart,
                text_similarity: c.matched.text_similarity,
            })
            .collect(),
        rules: (rules.max_distance_km, rules.max_days_apart),
        history: history
            .into_iter()
            .map(|h| HistoryRow {
                at: h.at,
                by: h.by,
                kind: h.kind.to_string(),
                reason: h.reason,
                related: h.related.map(|r| r.to_string()),
                changes: h
                    .changes
                    .into_iter()
                    .map(|c| ChangeRow {
                        field: c.field,
                        from: c.from,
                        to: c.to,
                        withheld: c.withheld,
                    })
                    .collect(),
            })
            .collect(),
    })
}

async fn queue(State(state): State<AppState>, req: PageReq, RawQuery(raw): RawQuery) -> Response {
    if req.who == Principal::Anonymous {
        return req.to_login();
    }
    if !App::can_verify(&req.who) {
        let role = req.who.role().map(|r| r.to_string()).unwrap_or_default();
        return req.error(&state, AppError::Forbidden(role));
    }
    let pairs = form_pairs(raw.as_deref().unwrap_or(""));
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let filters = QueueFilterForm {
        locality: get("locality"),
        category: get("category"),
    };
    let mut api: Vec<String> = pairs
        .iter()
        .filter(|(k, v)| QUEUE_PARAMS.contains(&k.as_str()) && k != "limit" && !v.trim().is_empty())
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect();
    api.push(format!("limit={QUEUE_PAGE}"));
    let api_query = api.join("&");
    let q_for_next: Vec<String> = pairs
        .iter()
        .filter(|(k, v)| k != "cursor" && k != "lang" && !v.trim().is_empty())
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect();
    let lang = req.lang;
    let who = req.who.clone();
    let result = run(&state, move |app| {
        let (categories, localities) = super::filter_menus(app, &who, lang)?;
        let page = Params::parse(Some(&api_query), QUEUE_PARAMS)
            .map_err(|e| AppError::invalid(e.field.unwrap_or_default(), e.message))
            .and_then(|p| queue_query(app, &p))
            .and_then(|q| app.verification_queue(&who, &q));
        Ok((categories, localities, page))
    })
    .await;
    let (categories, localities, page) = match result {
        Ok(r) => r,
        Err(e) => return req.error(&state, e),
    };
    let mut view = QueueView {
        filters,
        categories,
        localities,
        csrf_token: req.csrf.clone(),
        here: safe_next(&req.path),
        ..Default::default()
    };
    match page {
        Ok(page) => {
            view.total = page.total;
            view.next_page_href = page.next_cursor.map(|c| {
                let mut q = q_for_next.clone();
                q.push(format!("cursor={}", c.encode()));
                format!("/verify?{}", q.join("&"))
            });
            view.items = page
                .items
                .iter()
                .map(|q| {
                    let Severity {
                        killed,
                        otherwise_harmed,
                        civilians_targeted,
                    } = q.severity;
                    QueueRow {
                        row: row(&state, lang, &q.item.view),
                        version: q.item.version,
                        killed,
                        harmed: otherwise_harmed,
                        civilians_targeted,
                        excerpt: q
                            .item
                            .view
                            .event
                            .description
                            .as_deref()
                            .filter(|d| !d.trim().is_empty())
                            .map(|d| v::excerpt(d, EXCERPT)),
                        possible_duplicates: q.possible_duplicates,
                    }
                })
                .collect();
        }
        Err(AppError::Invalid { field, .. }) => view.error = Some(field),
        Err(e) => return req.error(&state, e),
    }
    let status = if view.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    req.send(&state, status, |ctx| v::queue_page(ctx, &view))
}

impl PageReq {
    /// Refuses a form from someone not logged in (to the log-in page, back to `back`
    /// afterwards) or without this session's CSRF token (403).
    pub(super) fn refuse_form(&self, state: &AppState, csrf: &str, back: &str) -> Option<Response> {
        if self.who == Principal::Anonymous {
            return Some(Redirect::to(&format!("/login?next={}", urlencode(back))).into_response());
        }
        if self.set_csrf || csrf != self.csrf {
            return Some(self.send(state, StatusCode::FORBIDDEN, |ctx| {
                v::problem_page(ctx, &ctx.t("verify-expired"), back)
            }));
        }
        None
    }

    /// Says why a change was not made, with the status the API would give.
    pub(super) fn problem(&self, state: &AppState, e: AppError, back: &str) -> Response {
        let (status, key, field) = match e {
            AppError::Conflict { code, .. } => {
                let key = format!("verify-conflict-{code}");
                let key = if state.catalog.has(Lang::En, &key) {
                    key
                } else {
                    "verify-conflict-other".into()
                };
                (StatusCode::CONFLICT, key, String::new())
            }
            AppError::Invalid { field, .. } => {
                let key = match field.as_str() {
                    "reason" | "status" | "into" => format!("verify-invalid-{field}"),
                    _ => "verify-invalid-other".into(),
                };
                (StatusCode::UNPROCESSABLE_ENTITY, key, field)
            }
            other => return self.error(state, other),
        };
        self.send(state, status, |ctx| {
            let message = ctx.t_args(&key, &[("field", field.as_str().into())]);
            v::problem_page(ctx, &message, back)
        })
    }

    /// After a change: back where the form said, or to the record.
    pub(super) fn done(&self, next: &str, back: &str) -> Response {
        let target = if next.trim().is_empty() {
            back.to_string()
        } else {
            safe_next(next)
        };
        Redirect::to(&target).into_response()
    }
}

fn version(raw: &str) -> Result<i64, AppError> {
    raw.trim()
        .parse()
        .map_err(|_| AppError::invalid("version", "must be a whole number"))
}

/// The decision form's fields.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct DecisionForm {
    csrf: String,
    version: String,
    next: String,
    status: String,
    reason: String,
    reliability: String,
    credibility: String,
}

fn form_decision(f: &DecisionForm) -> Result<Decision, AppError> {
    let bad = |e: usalama_domain::DomainError| AppError::invalid(e.field, e.reason);
    let status: DecisionStatus = f.status.trim().parse().map_err(bad)?;
    let reliability = Some(f.reliability.trim())
        .filter(|r| !r.is_empty())
        .map(str::parse::<SourceReliability>)
        .transpose()
        .map_err(bad)?;
    let credibility = Some(f.credibility.trim())
        .filter(|c| !c.is_empty())
        .map(|c| {
            c.parse::<u8>()
                .map_err(|_| AppError::invalid("credibility", "is not a grade 1-6"))
                .and_then(|g| InformationCredibility::new(g).map_err(bad))
        })
        .transpose()?;
    Decision::new(status, Some(&f.reason), reliability, credibility).map_err(bad)
}

async fn decide(
    State(state): State<AppState>,
    req: PageReq,
    Path(id): Path<String>,
    Form(f): Form<DecisionForm>,
) -> Response {
    let back = format!("/events/{}", urlencode(&id));
    if let Some(r) = req.refuse_form(&state, &f.csrf, &back) {
        return r;
    }
    let Ok(id) = id.parse::<EventId>() else {
        return req.error(&state, AppError::NotFound("event"));
    };
    let parsed = form_decision(&f).and_then(|d| Ok((d, version(&f.version)?)));
    let (decision, expected) = match parsed {
        Ok(x) => x,
        Err(e) => return req.problem(&state, e, &back),
    };
    let who = req.who.clone();
    match run(&state, move |app| app.decide(&who, id, &decision, expected)).await {
        Ok(_) => req.done(&f.next, &back),
        Err(e) => req.problem(&state, e, &back),
    }
}

/// The merge form's fields.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct MergeForm {
    csrf: String,
    version: String,
    into: String,
    reason: String,
    next: String,
}

async fn merge(
    State(state): State<AppState>,
    req: PageReq,
    Path(id): Path<String>,
    Form(f): Form<MergeForm>,
) -> Response {
    let back = format!("/events/{}", urlencode(&id));
    if let Some(r) = req.refuse_form(&state, &f.csrf, &back) {
        return r;
    }
    let Ok(id) = id.parse::<EventId>() else {
        return req.error(&state, AppError::NotFound("event"));
    };
    let parsed = f
        .into
        .trim()
        .parse::<EventId>()
        .map_err(|_| AppError::invalid("into", "is not an event id"))
        .and_then(|into| Ok((into, version(&f.version)?)));
    let (into, expected) = match parsed {
        Ok(x) => x,
        Err(e) => return req.problem(&state, e, &back),
    };
    let who = req.who.clone();
    let reason = f.reason.clone();
    match run(&state, move |app| {
        app.merge(&who, id, into, Some(&reason), expected)
    })
    .await
    {
        Ok(_) => req.done(&f.next, &back),
        Err(e) => req.problem(&state, e, &back),
    }
}

/// The un-merge form's fields.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct UnmergeForm {
    csrf: String,
    version: String,
    reason: String,
    next: String,
}

async fn unmerge(
    State(state): State<AppState>,
    req: PageReq,
    Path(id): Path<String>,
    Form(f): Form<UnmergeForm>,
) -> Response {
    let back = format!("/events/{}", urlencode(&id));
    if let Some(r) = req.refuse_form(&state, &f.csrf, &back) {
        return r;
    }
    let Ok(id) = id.parse::<EventId>() else {
        return req.error(&state, AppError::NotFound("event"));
    };
    let expected = match version(&f.version) {
        Ok(v) => v,
        Err(e) => return req.problem(&state, e, &back),
    };
    let who = req.who.clone();
    let reason = f.reason.clone();
    match run(&state, move |app| {
        app.unmerge(&who, id, Some(&reason), expected)
    })
    .await
    {
        Ok(_) => req.done(&f.next, &back),
        Err(e) => req.problem(&state, e, &back),
    }
}
