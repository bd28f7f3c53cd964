//! The server-rendered pages: request context (language, session, CSRF), the handlers that
//! fill the view models of [`crate::ui::pages`], log-in and log-out. Pages work without
//! JavaScript; record pages need a session, the home page and the map show aggregates only.

use crate::api::params::{form_pairs, Params};
use crate::api::{event_query, run, EVENT_PARAMS};
use crate::error::retry_later;
use crate::state::AppState;
use crate::ui::i18n::Lang;
use crate::ui::layout::PageCtx;
use crate::ui::pages::{
    self, EventFilterForm, EventRowView, EventsView, HomeView, LoginView, MapRow, MapView,
    SourcePicker,
};
use crate::ui::svg_map::{choropleth_lang, MapArea};
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::Markup;
use std::collections::HashMap;
use usalama_app::{App, AppError, EventView, LoginAttempt, Principal};
use usalama_domain::{AdminLevel, EventId};

mod admin;
mod alerts;
mod dashboard;
mod index;
mod report;
pub(crate) mod sitrep;
mod verify;

const SESSION_COOKIE: &str = "usalama_session";
const CSRF_COOKIE: &str = "usalama_csrf";
const LANG_COOKIE: &str = "usalama_lang";

/// Every page route (GET), as the router below lists them; the privacy tests call each
/// one anonymously.
pub const PAGE_ROUTES: &[&str] = &[
    "/",
    "/map",
    "/index",
    "/index/{code}",
    "/events",
    "/events/{id}",
    "/login",
    "/verify",
    "/report",
    "/report/status",
    "/reports/sitrep/{period}",
    "/alerts",
    "/alerts/{id}",
    "/admin/users",
    "/admin/orgs",
    "/dashboard",
];

/// The page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/map", get(map))
        .route("/index", get(index::page))
        .route("/index/{code}", get(index::locality))
        .route("/events", get(events))
        .route("/events/{id}", get(event))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/static/app.css", get(css))
        .route("/reports/sitrep/{month}", get(sitrep::page))
        .route("/dashboard", get(dashboard::page))
        .merge(verify::router())
        .merge(alerts::router())
        .merge(admin::router())
        // Channels
        .route("/report", get(report::form).post(report::submit))
        .route("/report/status", get(report::status))
        .route("/static/report.js", get(report::script))
}

fn cookies(headers: &HeaderMap) -> HashMap<String, String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

/// What every page request carries: language, caller, CSRF token, path.
pub struct PageReq {
    lang: Lang,
    set_lang: bool,
    who: Principal,
    csrf: String,
    set_csrf: bool,
    path: String,
    secure: bool,
    /// The session cookie sent, if any (ended at the next log-in).
    session: Option<String>,
    /// The client key for throttling (its address), in memory only.
    client: Option<String>,
}

/// The session cookie's value, if the request carries one.
pub(crate) fn session_secret(headers: &HeaderMap) -> Option<String> {
    cookies(headers).get(SESSION_COOKIE).cloned()
}

impl FromRequestParts<AppState> for PageReq {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let jar = cookies(&parts.headers);
        let explicit = parts.uri.query().and_then(|q| {
            form_pairs(q)
                .into_iter()
                .find(|(k, _)| k == "lang")
                .map(|(_, v)| v)
        });
        let chosen = explicit.as_deref().and_then(Lang::from_tag);
        let accept = parts
            .headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        let lang = Lang::negotiate(
            accept,
            chosen
                .map(|l| l.code())
                .or(jar.get(LANG_COOKIE).map(String::as_str)),
        );
        let session = jar.get(SESSION_COOKIE).cloned();
        let resolved = parts
            .extensions
            .get::<crate::authz::Resolved>()
            .map(|r| r.0.clone());
        let who = match (resolved, session.clone()) {
            (Some(who), _) => who,
            (None, Some(secret)) => run(state, move |app| app.session(&secret))
                .await
                .unwrap_or(Principal::Anonymous),
            (None, None) => Principal::Anonymous,
        };
        // Served over HTTPS (directly or, as a proxy says, behind it): cookies are Secure.
        let https = parts
            .headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
            || parts.uri.scheme_str() == Some("https");
        let (csrf, set_csrf) = match jar.get(CSRF_COOKIE) {
            Some(c) if c.len() >= 16 => (c.clone(), false),
            _ => (usalama_app::generate_password(), true),
        };
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        Ok(PageReq {
            lang,
            set_lang: chosen.is_some(),
            who,
            csrf,
            set_csrf,
            path,
            secure: state.config.secure_cookies || https,
            session,
            client: crate::ratelimit::client_key(parts, &state.config),
        })
    }
}

impl PageReq {
    fn user(&self) -> Option<String> {
        match &self.who {
            Principal::User { username, .. } => Some(username.clone()),
            _ => None,
        }
    }

    fn cookie(
        &self,
        name: &str,
        value: &str,
        max_age: Option<i64>,
        http_only: bool,
    ) -> HeaderValue {
        let mut c = format!("{name}={value}; Path=/; SameSite=Lax");
        if let Some(a) = max_age {
            c.push_str(&format!("; Max-Age={a}"));
        }
        if http_only {
            c.push_str("; HttpOnly");
        }
        if self.secure {
            c.push_str("; Secure");
        }
        HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// Sends a page with the given status, setting the language and CSRF cookies if needed.
    fn send(
        &self,
        state: &AppState,
        status: StatusCode,
        title_and_body: impl FnOnce(&PageCtx<'_>) -> Markup,
    ) -> Response {
        let user = self.user();
        let ctx = PageCtx {
            user: user.as_deref(),
            csrf_token: Some(&self.csrf),
            role: self.who.role(),
            ..PageCtx::new(&state.catalog, self.lang, &self.path)
        };
        let html = title_and_body(&ctx).into_string();
        let mut res = (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response();
        let h = res.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(
            header::VARY,
            HeaderValue::from_static("Accept-Language, Cookie"),
        );
        if self.set_lang {
            h.append(
                header::SET_COOKIE,
                self.cookie(LANG_COOKIE, self.lang.code(), Some(31_536_000), false),
            );
        }
        if self.set_csrf {
            h.append(
                header::SET_COOKIE,
                self.cookie(CSRF_COOKIE, &self.csrf, None, true),
            );
        }
        res
    }

    pub(crate) fn error(&self, state: &AppState, e: AppError) -> Response {
        let (status, key) = match &e {
            AppError::Unauthenticated => return self.to_login(),
            AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "error-403"),
            AppError::NotFound(_) => (StatusCode::NOT_FOUND, "error-404"),
            AppError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "error-429"),
            AppError::Invalid { .. } => (StatusCode::BAD_REQUEST, "error-400"),
            AppError::Store(s) if s.is_temporary() => {
                tracing::warn!(error = %e, "page failed: database busy or unavailable");
                (StatusCode::SERVICE_UNAVAILABLE, "error-503")
            }
            _ => {
                tracing::error!(error = %e, "page failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "error-500")
            }
        };
        let res = self.send(state, status, |ctx| {
            pages::error_page_ctx(ctx, status.as_u16(), key)
        });
        if status == StatusCode::SERVICE_UNAVAILABLE {
            return retry_later(res);
        }
        res
    }

    fn to_login(&self) -> Response {
        let next = urlencode(&self.path);
        Redirect::to(&format!("/login?next={next}")).into_response()
    }
}

fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A local path to return to after logging in; anything else becomes `/`.
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_string()
    } else {
        "/".into()
    }
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        crate::ui::APP_CSS,
    )
        .into_response()
}

/// 404 for everything unrouted: JSON under `/api/`, a page elsewhere.
pub async fn not_found(State(state): State<AppState>, req: PageReq) -> Response {
    if req.path.starts_with("/api/") {
        return crate::error::ApiError::not_found("route").into_response();
    }
    req.send(&state, StatusCode::NOT_FOUND, |ctx| {
        pages::error_page_ctx(ctx, 404, "error-404")
    })
}

const SOURCE_NOTE_KEY: &str = "home-source-note";

/// The `source` query parameter of the home and map pages, if any.
fn source_param(raw: Option<&str>) -> Option<String> {
    raw.and_then(|q| {
        form_pairs(q)
            .into_iter()
            .find(|(k, _)| k == "source")
            .map(|(_, v)| v)
    })
    .filter(|v| !v.trim().is_empty())
}

/// The protected public figures of one source (the requested one, else the one with the
/// most events) and the source selector.
pub(crate) async fn source_figures(
    state: &AppState,
    raw: Option<String>,
) -> Result<(std::sync::Arc<usalama_app::PublicFigures>, SourcePicker), AppError> {
    let source = source_param(raw.as_deref());
    let figures = run(state, move |app| app.public_figures(source.as_deref())).await?;
    let picker = SourcePicker {
        sources: figures.sources.clone(),
        selected: figures.source.clone().unwrap_or_default(),
    };
    Ok((figures, picker))
}

async fn home(State(state): State<AppState>, RawQuery(raw): RawQuery, req: PageReq) -> Response {
    let (figs, sources) = match source_figures(&state, raw).await {
        Ok(s) => s,
        Err(e) => return req.error(&state, e),
    };
    let view = HomeView {
        sources,
        total_events: figs.cube.total.events,
        total_fatalities: figs.cube.total.fatalities,
        years: figs
            .cube
            .years
            .iter()
            .map(|(year, total, dims)| pages::YearFigures {
                year: *year,
                by_dimension: dims.map(|d| d.events),
                events: total.events,
                fatalities: total.fatalities,
            })
            .collect(),
        k: figs.privacy.k,
        localities_adm1: figs
            .cube
            .area_totals
            .iter()
            .filter(|f| f.events != Some(0))
            .count() as u64,
        source_note: state.catalog.t(req.lang, SOURCE_NOTE_KEY),
    };
    req.send(&state, StatusCode::OK, |ctx| pages::home_page(ctx, &view))
}

/// The map areas of public figures: withheld areas are drawn without colour and named so.
pub(crate) fn public_map_areas(
    state: &AppState,
    lang: Lang,
    areas: &[(
        &usalama_app::PublicArea,
        usalama_app::analytics::disclose::Figure,
    )],
    href: impl Fn(&str) -> Option<String>,
) -> Vec<MapArea> {
    areas
        .iter()
        .filter_map(|(a, f)| {
            Some(MapArea {
                code: a.locality.code.to_string(),
                name: match f.events {
                    Some(_) => a.locality.name.clone(),
                    None => format!(
                        "{} ({})",
                        a.locality.name,
                        state.catalog.t(lang, "public-withheld")
                    ),
                },
                geometry: a.geometry.clone()?,
                value: f.events.unwrap_or(0),
                href: href(a.locality.code.as_str()),
            })
        })
        .collect()
}

/// Map drawings kept: one per set of figures, language and whether areas link to lists.
const MAP_SVGS_KEPT: usize = 16;

/// The map drawings made lately, by the figures they were drawn from (compared by
/// identity: figures computed again are a new value, so a drawing never outlives its
/// figures), the language and whether areas link to event lists.
type MapSvgs = Vec<(
    std::sync::Arc<usalama_app::PublicFigures>,
    Lang,
    bool,
    std::sync::Arc<str>,
)>;
static MAP_SVGS: std::sync::Mutex<MapSvgs> = std::sync::Mutex::new(Vec::new());

/// The map of `figs` in `lang`, drawn by `draw` only when it was not drawn from these
/// figures already: the public figures change at most once per write or minute, while the
/// drawing (every area's outline and colour) costs more than the rest of the page.
fn map_svg(
    figs: &std::sync::Arc<usalama_app::PublicFigures>,
    lang: Lang,
    links: bool,
    draw: impl FnOnce() -> String,
) -> String {
    let found = MAP_SVGS.lock().ok().and_then(|kept| {
        kept.iter()
            .find(|(f, l, k, _)| std::sync::Arc::ptr_eq(f, figs) && *l == lang && *k == links)
            .map(|(_, _, _, svg)| svg.clone())
    });
    if let Some(svg) = found {
        return svg.to_string();
    }
    let svg = draw();
    if let Ok(mut kept) = MAP_SVGS.lock() {
        // Drawings of figures no longer current go first.
        kept.retain(|(f, _, _, _)| std::sync::Arc::strong_count(f) > 1);
        if kept.len() >= MAP_SVGS_KEPT {
            kept.remove(0);
        }
        kept.push((
            figs.clone(),
            lang,
            links,
            std::sync::Arc::from(svg.as_str()),
        ));
    }
    svg
}

async fn map(State(state): State<AppState>, RawQuery(raw): RawQuery, req: PageReq) -> Response {
    let (figs, sources) = match source_figures(&state, raw).await {
        Ok(s) => s,
        Err(e) => return req.error(&state, e),
    };
    // Links to event lists only for those who may open them.
    let logged_in = req.who != Principal::Anonymous;
    let events_href = |code: &str| {
        logged_in.then(|| {
            let mut h = format!("/events?locality={}", urlencode(code));
            if !sources.selected.is_empty() {
                h.push_str(&format!("&source={}", urlencode(&sources.selected)));
            }
            h
        })
    };
    let all = figs.areas_all_time();
    let svg = map_svg(&figs, req.lang, logged_in, || {
        let areas = public_map_areas(&state, req.lang, &all, events_href);
        let title = state.catalog.t(req.lang, "map-title");
        let legend = state.catalog.t(req.lang, "map-legend-title");
        choropleth_lang(req.lang, &areas, &title, &legend, 640)
    });
    let mut rows: Vec<MapRow> = all
        .iter()
        .map(|(a, f)| MapRow {
            code: a.locality.code.to_string(),
            name: a.locality.name.clone(),
            events: f.events,
            fatalities: f.fatalities,
            href: events_href(a.locality.code.as_str()),
        })
        .collect();
    rows.sort_by(|a, b| b.events.cmp(&a.events).then(a.name.cmp(&b.name)));
    let view = MapView {
        sources,
        svg,
        title: String::new(),
        legend_note: String::new(),
        rows,
        k: figs.privacy.k,
    };
    req.send(&state, StatusCode::OK, |ctx| pages::map_page(ctx, &view))
}

/// The options of the category and province menus of a filter form: `(code, label)` of
/// every taxonomy category in `lang`, and `(code, name)` of every ADM1 locality.
pub(crate) type Menus = (Vec<(String, String)>, Vec<(String, String)>);

/// The category and province menus of a filter form (events list, verification queue).
pub(crate) fn filter_menus(app: &App, who: &Principal, lang: Lang) -> Result<Menus, AppError> {
    let categories = app
        .taxonomy()
        .categories()
        .iter()
        .map(|c| (c.code.clone(), c.label(lang.code()).to_string()))
        .collect();
    let localities = app
        .localities_at(who, AdminLevel::Adm1, 1000)?
        .into_iter()
        .map(|l| (l.code.to_string(), l.name))
        .collect();
    Ok((categories, localities))
}

fn place(v: &EventView) -> String {
    v.lineage
        .iter()
        .filter(|l| l.level != AdminLevel::Adm0)
        .map(|l| l.name.as_str())
        .collect::<Vec<_>>()
        .join(" › ")
}

fn date_text(start: chrono::NaiveDate, end: chrono::NaiveDate) -> String {
    if start == end {
        end.to_string()
    } else {
        format!("{start}/{end}")
    }
}

async fn events(State(state): State<AppState>, req: PageReq, RawQuery(raw): RawQuery) -> Response {
    if req.who == Principal::Anonymous {
        return req.to_login();
    }
    let pairs = form_pairs(raw.as_deref().unwrap_or(""));
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let filters = EventFilterForm {
        from: get("from"),
        to: get("to"),
        locality: get("locality"),
        dimension: get("dimension"),
        category: get("category"),
        actor: get("actor"),
        status: get("status"),
        q: get("q"),
    };
    // The form sends every field, empty ones included; keep only the API's parameters.
    let api_query: String = pairs
        .iter()
        .filter(|(k, v)| EVENT_PARAMS.contains(&k.as_str()) && !v.trim().is_empty())
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let lang = req.lang;
    let who = req.who.clone();
    let q_for_next = pairs
        .iter()
        .filter(|(k, v)| k != "cursor" && k != "lang" && !v.trim().is_empty())
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect::<Vec<_>>();
    // A shared page's body is written once per language and query (see `events_body`).
    let body_key = format!("{}?{}", lang.code(), raw.as_deref().unwrap_or(""));
    let st = state.clone();
    let key = body_key.clone();
    let result = run(&state, move |app| {
        let page = Params::parse(Some(&api_query), EVENT_PARAMS)
            .map_err(|e| AppError::invalid(e.field.unwrap_or_default(), e.message))
            .and_then(|p| event_query(app, &p))
            .and_then(|q| app.list_events_shared(&who, &q));
        if let Ok(page) = &page {
            if let Some(body) = st.events_body(page, &key) {
                return Ok(Err(body));
            }
        }
        let (categories, localities) = filter_menus(app, &who, lang)?;
        Ok(Ok((categories, localities, page)))
    })
    .await;
    let (categories, localities, page) = match result {
        Ok(Ok(r)) => r,
        Ok(Err(body)) => {
            return req.send(&state, StatusCode::OK, |ctx| {
                pages::events_page_framed(ctx, maud::PreEscaped(body.to_string()))
            })
        }
        Err(e) => return req.error(&state, e),
    };
    let shared = page.as_ref().ok().cloned();
    let mut view = EventsView {
        filters,
        categories,
        localities,
        ..Default::default()
    };
    match page {
        Ok(page) => {
            view.total = page.total;
            view.next_page_href = page.next_cursor.as_ref().map(|c| {
                let mut q = q_for_next.clone();
                q.push(format!("cursor={}", c.encode()));
                format!("/events?{}", q.join("&"))
            });
            view.items = page
                .items
                .iter()
                .map(|v| EventRowView {
                    id: v.event.id.to_string(),
                    date: date_text(v.event.occurred_start, v.event.occurred_end),
                    category_label: state
                        .app
                        .taxonomy()
                        .category(&v.event.category)
                        .map_or(v.event.category.clone(), |c| {
                            c.label(lang.code()).to_string()
                        }),
                    dimension: v.event.dimension.to_string(),
                    place: place(v),
                    fatalities: v.event.casualties.killed_best,
                    status: v.event.status.as_str().to_string(),
                    source: v.event.source.clone(),
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
    req.send(&state, status, |ctx| {
        let body = pages::events_body(ctx, &view);
        if let (Some(page), None) = (&shared, &view.error) {
            state.keep_events_body(page, body_key, body.0.as_str().into());
        }
        pages::events_page_framed(ctx, body)
    })
}

async fn event(State(state): State<AppState>, req: PageReq, Path(id): Path<String>) -> Response {
    if req.who == Principal::Anonymous {
        return req.to_login();
    }
    let Ok(id) = id.parse::<EventId>() else {
        return req.error(&state, AppError::NotFound("event"));
    };
    let who = req.who.clone();
    let v = match run(&state, move |app| app.get_event(&who, id)).await {
        Ok(v) => v,
        Err(e) => return req.error(&state, e),
    };
    let verification = match verify::panel(&state, &req, id).await {
        Ok(p) => Some(p),
        Err(e) => return req.error(&state, e),
    };
    let e = &v.event;
    let lang = req.lang.code();
    let view = pages::EventView {
        id: e.id.to_string(),
        source: e.source.clone(),
        external_id: e.external_id.clone(),
        category_label: state
            .app
            .taxonomy()
            .category(&e.category)
            .map_or(e.category.clone(), |c| c.label(lang).to_string()),
        dimension: e.dimension.to_string(),
        occurred: date_text(e.occurred_start, e.occurred_end),
        date_precision: e.date_precision.to_string(),
        place_lineage: v
            .lineage
            .iter()
            .map(|l| (l.level.to_string(), l.code.to_string(), l.name.clone()))
            .collect(),
        latitude: e.point.map(|p| p.lat()),
        longitude: e.point.map(|p| p.lon()),
        location_precision: e.location_precision.map(|p| p.code()),
        casualties: e.casualties,
        civilians_targeted: e.civilians_targeted,
        actors: e
            .actors
            .iter()
            .filter_map(|ea| {
                let a = v.actors.iter().find(|a| a.id == ea.actor)?;
                Some((a.name.clone(), ea.role.to_string()))
            })
            .collect(),
        description: e.description.clone(),
        status: e.status.as_str().to_string(),
        reliability: e.reliability.map(|r| r.to_string()),
        credibility: e.credibility.map(|c| c.grade()),
        source_codes: e
            .source_codes
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        created_at: e.meta.created_at,
        updated_at: e.meta.updated_at,
        verification,
    };
    req.send(&state, StatusCode::OK, |ctx| pages::event_page(ctx, &view))
}

async fn login_form(
    State(state): State<AppState>,
    req: PageReq,
    RawQuery(raw): RawQuery,
) -> Response {
    let next = form_pairs(raw.as_deref().unwrap_or(""))
        .into_iter()
        .find(|(k, _)| k == "next")
        .map(|(_, v)| safe_next(&v))
        .unwrap_or_else(|| "/".into());
    let view = LoginView {
        error: None,
        username: String::new(),
        csrf_token: req.csrf.clone(),
        next,
        ask_code: false,
    };
    req.send(&state, StatusCode::OK, |ctx| pages::login_page(ctx, &view))
}

/// The log-in form's fields.
#[derive(serde::Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    csrf: String,
    #[serde(default)]
    next: String,
    /// The TOTP code, for accounts with a second factor.
    #[serde(default)]
    code: Option<String>,
}

async fn login(State(state): State<AppState>, req: PageReq, Form(f): Form<LoginForm>) -> Response {
    if req.set_csrf || f.csrf != req.csrf {
        let view = LoginView {
            error: Some("login-expired".into()),
            username: f.username,
            csrf_token: req.csrf.clone(),
            next: safe_next(&f.next),
            ask_code: false,
        };
        return req.send(&state, StatusCode::FORBIDDEN, |ctx| {
            pages::login_page(ctx, &view)
        });
    }
    let (username, password, code) = (f.username.clone(), f.password, f.code.clone());
    let client = req.client.clone();
    let result = run(&state, move |app| {
        app.login_with(&LoginAttempt {
            username: &username,
            password: &password,
            code: code.as_deref(),
            client: client.as_deref(),
        })
    })
    .await;
    let failed = |key: &str, status: StatusCode, ask_code: bool| {
        let view = LoginView {
            error: Some(key.into()),
            username: f.username.clone(),
            csrf_token: req.csrf.clone(),
            next: safe_next(&f.next),
            ask_code,
        };
        req.send(&state, status, |ctx| pages::login_page(ctx, &view))
    };
    match result {
        Ok((secret, _)) => {
            // The session the client had before (if any) ends: a session id never
            // survives a log-in.
            if let Some(old) = req.session.clone() {
                let _ = run(&state, move |app| app.logout(&old)).await;
            }
            let mut res = Redirect::to(&safe_next(&f.next)).into_response();
            let cookie = req.cookie(
                SESSION_COOKIE,
                secret.expose(),
                Some(usalama_app::SESSION_HOURS * 3600),
                true,
            );
            res.headers_mut().append(header::SET_COOKIE, cookie);
            // A new CSRF token with the new session.
            let fresh = usalama_app::generate_password();
            res.headers_mut().append(
                header::SET_COOKIE,
                req.cookie(CSRF_COOKIE, &fresh, None, true),
            );
            res
        }
        Err(AppError::Unauthenticated) => {
            failed("login-failed", StatusCode::UNAUTHORIZED, f.code.is_some())
        }
        Err(AppError::SecondFactorRequired) => {
            failed("login-code-needed", StatusCode::UNAUTHORIZED, true)
        }
        Err(AppError::RateLimited { retry_after_secs }) => {
            let mut res = failed("login-locked", StatusCode::TOO_MANY_REQUESTS, false);
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            res
        }
        Err(e) => req.error(&state, e),
    }
}

/// The log-out form's fields.
#[derive(serde::Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    req: PageReq,
    headers: HeaderMap,
    Form(f): Form<LogoutForm>,
) -> Response {
    if f.csrf != req.csrf {
        return req.send(&state, StatusCode::FORBIDDEN, |ctx| {
            pages::error_page_ctx(ctx, 403, "error-403")
        });
    }
    if let Some(secret) = cookies(&headers).get(SESSION_COOKIE).cloned() {
        let _ = run(&state, move |app| app.logout(&secret)).await;
    }
    let mut res = Redirect::to("/").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        req.cookie(SESSION_COOKIE, "", Some(0), true),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WebConfig;
    use std::sync::Arc;
    use usalama_app::FixedClock;
    use usalama_store::StoreError;
    use usalama_test_support::{sqlite, t0, taxonomy};

    /// A page the database could not serve, busy or out of reach, is a 503 that says to try
    /// again (`Retry-After`, as the API's and OpenRosa's) and does not show the database's
    /// own words; any other failure is a 500 without it.
    #[tokio::test]
    async fn a_page_the_database_could_not_serve_says_to_try_again() {
        let s = sqlite();
        let app = App::new(s.store.clone(), taxonomy(), Arc::new(FixedClock(t0())));
        let state = AppState::new(app, WebConfig::default());
        let req = PageReq {
            lang: Lang::En,
            set_lang: false,
            who: Principal::Anonymous,
            csrf: "c".into(),
            set_csrf: false,
            path: "/events".into(),
            secure: false,
            session: None,
            client: None,
        };
        for e in [
            StoreError::Busy("database is locked".into()),
            StoreError::Unavailable("connection refused".into()),
        ] {
            let r = req.error(&state, AppError::Store(e));
            assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(r.headers()[header::RETRY_AFTER], "5");
            let body = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
            let body = String::from_utf8(body.to_vec()).unwrap();
            assert!(!body.contains("locked") && !body.contains("refused"));
        }
        let r = req.error(
            &state,
            AppError::Store(StoreError::Backend("disk I/O error".into())),
        );
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(r.headers().get(header::RETRY_AFTER).is_none());
    }
}
