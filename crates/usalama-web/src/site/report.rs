//! The report form's handlers: `GET/POST /report` (anyone may report; CSRF-protected like
//! the log-in form), the "did you mean" step when a typed place name needs confirming,
//! `GET /report/status?ref=` (the status and nothing else), and the form's script.

use super::PageReq;
use crate::api::params::form_pairs;
use crate::api::run;
use crate::client::Client;
use crate::state::AppState;
use crate::ui::i18n::Lang;
use crate::ui::report::{
    self, PersonValues, PlaceOption, ReportDoneView, ReportFormView, ReportStatusView,
    ReportValues, PEOPLE_ROWS,
};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use usalama_app::{
    FieldError, ItemOutcome, MatchKind, PersonInput, PlaceMatch, PlacePolicy, ReportInput,
    Resolution, SubmitMode,
};
use usalama_domain::{Channel, Dimension};

/// The form's script, served at `/static/report.js`.
const REPORT_JS: &str = include_str!("../../static/report.js");

pub(super) async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        REPORT_JS,
    )
        .into_response()
}

/// The categories grouped by dimension, in the page's language.
fn groups(state: &AppState, lang: Lang) -> Vec<(String, Vec<(String, String)>)> {
    Dimension::ALL
        .iter()
        .map(|d| {
            let cats = state
                .app
                .taxonomy()
                .categories()
                .iter()
                .filter(|c| c.dimension == *d)
                .map(|c| (c.code.clone(), c.label(lang.code()).to_string()))
                .collect();
            (state.catalog.t(lang, &format!("dim-{}", d.as_str())), cats)
        })
        .filter(|(_, cats): &(String, Vec<_>)| !cats.is_empty())
        .collect()
}

fn form_view(state: &AppState, req: &PageReq, values: ReportValues) -> ReportFormView {
    ReportFormView {
        csrf_token: req.csrf.clone(),
        groups: groups(state, req.lang),
        values,
        today: state.app.now().date_naive().to_string(),
        ..Default::default()
    }
}

pub(super) async fn form(State(state): State<AppState>, req: PageReq) -> Response {
    let values = ReportValues {
        occurred_start: state.app.now().date_naive().to_string(),
        nonce: usalama_app::generate_password(),
        ..Default::default()
    };
    let view = form_view(&state, &req, values);
    req.send(&state, StatusCode::OK, |ctx| {
        report::report_form(ctx, &view)
    })
}

fn values_of(pairs: &[(String, String)]) -> (String, ReportValues) {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let people = (0..PEOPLE_ROWS)
        .map(|i| PersonValues {
            name: get(&format!("p{i}_name")),
            age: get(&format!("p{i}_age")),
            sex: get(&format!("p{i}_sex")),
            role: get(&format!("p{i}_role")),
        })
        .collect();
    (
        get("csrf"),
        ReportValues {
            category: get("category"),
            occurred_start: get("occurred_start"),
            place: get("place"),
            place_code: get("place_code"),
            latitude: get("latitude"),
            longitude: get("longitude"),
            killed: get("killed"),
            injured: get("injured"),
            displaced: get("displaced"),
            description: get("description"),
            people,
            reporter_contact: get("reporter_contact"),
            nonce: get("nonce"),
            description_private: pairs
                .iter()
                .any(|(n, v)| n == "description_private" && v == "1"),
            location_private: pairs
                .iter()
                .any(|(n, v)| n == "location_private" && v == "1"),
        },
    )
}

fn some(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn input_of(v: &ReportValues) -> ReportInput {
    ReportInput {
        category: some(&v.category),
        occurred_start: some(&v.occurred_start),
        latitude: some(&v.latitude),
        longitude: some(&v.longitude),
        place: some(&v.place),
        place_code: some(&v.place_code).filter(|c| c != "-"),
        killed: some(&v.killed),
        injured: some(&v.injured),
        displaced: some(&v.displaced),
        description: some(&v.description),
        people: v
            .people
            .iter()
            .filter(|p| **p != PersonValues::default())
            .map(|p| PersonInput {
                name: some(&p.name),
                age: some(&p.age),
                sex: some(&p.sex),
                role: some(&p.role),
            })
            .collect(),
        reporter_contact: some(&v.reporter_contact),
        external_id: some(&v.nonce).map(|n| n.chars().take(60).collect()),
        description_sensitive: v.description_private,
        location_sensitive: v.location_private,
        ..Default::default()
    }
}

/// The form control and the catalogue message for a refused field. People are numbered
/// among the rows that were filled in, which are the first rows of the form in order.
fn control_and_message(e: &FieldError, filled_rows: &[usize]) -> (String, &'static str) {
    let f = e.field.as_str();
    if let Some(rest) = f.strip_prefix("people[") {
        let (n, attr) = rest.split_once("].").unwrap_or(("0", "name"));
        let row = n
            .parse::<usize>()
            .ok()
            .and_then(|n| filled_rows.get(n).copied())
            .unwrap_or(0);
        let key = match attr {
            "age" => "report-error-age",
            "sex" => "report-error-other",
            _ => "report-error-text",
        };
        return (format!("p{row}_{attr}"), key);
    }
    let key = match f {
        "category" => "report-error-category",
        "occurred_start" | "occurred_end" => "report-error-date",
        "latitude" | "longitude" if e.reason.contains("swapped") => "report-error-swapped",
        "latitude" | "longitude" => "report-error-position",
        "place" | "place_code" => "report-error-place",
        "killed" | "injured" | "displaced" => "report-error-count",
        "description" | "reporter_contact" => "report-error-text",
        _ => "report-error-other",
    };
    let control = match f {
        "occurred_end" => "occurred_start",
        "place_code" => "place",
        "category" | "occurred_start" | "latitude" | "longitude" | "place" | "killed"
        | "injured" | "displaced" | "description" | "reporter_contact" => f,
        _ => "description",
    };
    (control.to_string(), key)
}

fn option_label(state: &AppState, lang: Lang, m: &PlaceMatch) -> String {
    let level = state
        .catalog
        .t(lang, &format!("level-{}", m.level.as_str()));
    if m.within.is_empty() {
        format!("{} ({level})", m.name)
    } else {
        format!("{} ({level}) – {}", m.name, m.within.join(", "))
    }
}

pub(super) async fn submit(
    State(state): State<AppState>,
    req: PageReq,
    Client(client): Client,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&String::from_utf8_lossy(&body));
    let (csrf, values) = values_of(&pairs);
    if req.set_csrf || csrf != req.csrf {
        let mut view = form_view(&state, &req, values);
        view.notice = Some("report-expired".into());
        return req.send(&state, StatusCode::FORBIDDEN, |ctx| {
            report::report_form(ctx, &view)
        });
    }
    // A place name without a position or a chosen locality: look it up first, and ask
    // when it is ambiguous or only close to known names.
    let needs_lookup = values.latitude.trim().is_empty()
        && values.longitude.trim().is_empty()
        && values.place_code.trim().is_empty()
        && !values.place.trim().is_empty();
    if needs_lookup {
        let text = values.place.clone();
        let resolution = match run(&state, move |app| app.resolve_place(&text)).await {
            Ok(r) => r,
            Err(e) => return req.error(&state, e),
        };
        let candidates = match resolution {
            Resolution::Found(m) if m.kind == MatchKind::Exact => Vec::new(),
            Resolution::Found(m) => vec![m],
            Resolution::Ambiguous(c) => c,
            Resolution::NotFound => {
                let text = values.place.clone();
                run(&state, move |app| app.search_places(&text, 5))
                    .await
                    .unwrap_or_default()
            }
        };
        if !candidates.is_empty() {
            let mut view = form_view(&state, &req, values);
            view.candidates = candidates
                .iter()
                .map(|m| PlaceOption {
                    code: m.code.to_string(),
                    label: option_label(&state, req.lang, m),
                })
                .collect();
            return req.send(&state, StatusCode::OK, |ctx| {
                report::report_form(ctx, &view)
            });
        }
    }
    let mut input = input_of(&values);
    input.client = Some(client);
    let filled_rows: Vec<usize> = values
        .people
        .iter()
        .enumerate()
        .filter(|(_, p)| **p != PersonValues::default())
        .map(|(i, _)| i)
        .collect();
    let who = req.who.clone();
    let out = run(&state, move |app| {
        app.submit_reports(
            &who,
            Channel::WebForm,
            vec![input],
            SubmitMode::AllOrNothing,
            PlacePolicy::Lenient,
        )
    })
    .await;
    match out.map(|mut o| o.pop()) {
        Ok(Some(ItemOutcome::Stored(r))) => {
            let view = ReportDoneView {
                reference: r.reference,
                existed: r.existed,
            };
            req.send(&state, StatusCode::OK, |ctx| {
                report::report_done(ctx, &view)
            })
        }
        Ok(Some(ItemOutcome::Refused(errs))) => {
            let mut view = form_view(&state, &req, values);
            for e in &errs {
                let (control, key) = control_and_message(e, &filled_rows);
                if !view.errors.iter().any(|(c, _)| *c == control) {
                    view.errors.push((control, state.catalog.t(req.lang, key)));
                }
            }
            req.send(&state, StatusCode::UNPROCESSABLE_ENTITY, |ctx| {
                report::report_form(ctx, &view)
            })
        }
        Ok(_) => req.error(
            &state,
            usalama_app::AppError::invalid("report", "was not stored"),
        ),
        Err(e) => req.error(&state, e),
    }
}

pub(super) async fn status(
    State(state): State<AppState>,
    req: PageReq,
    RawQuery(raw): RawQuery,
) -> Response {
    let typed = form_pairs(raw.as_deref().unwrap_or(""))
        .into_iter()
        .find(|(k, _)| k == "ref")
        .map(|(_, v)| v.trim().chars().take(40).collect::<String>())
        .unwrap_or_default();
    let mut view = ReportStatusView {
        reference: typed.clone(),
        ..Default::default()
    };
    if !typed.is_empty() {
        match run(&state, move |app| app.report_status(&typed)).await {
            Ok(Some(s)) => view.status = Some(s.as_str().to_string()),
            Ok(None) => view.not_found = true,
            Err(e) => return req.error(&state, e),
        }
    }
    let code = if view.not_found {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    req.send(&state, code, |ctx| report::report_status(ctx, &view))
}
