//! The JSON API under `/api/v1`: health, the OpenAPI document, read access to events,
//! localities and actors with filters and cursor pagination, and verification
//! ([`verification`]). Every route but health and the OpenAPI document requires
//! `Authorization: Bearer <token>`.

pub mod alerts;
pub mod dto;
pub mod forecast;
pub mod index;
pub mod params;
pub mod reports;
pub mod sms;
pub mod verification;

use crate::error::{retry_later, ApiError};
use crate::state::AppState;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use dto::{ActorDto, EventDto, ListDto, LocalityDto};
use params::Params;
use usalama_app::{App, AppError, Principal};
use usalama_domain::{ActorId, ActorKind, AdminLevel, Dimension, EventId, LocalityId};
use usalama_store::{ActorQuery, EventQuery, LocalityQuery};

/// The OpenAPI 3 document describing every route.
pub const OPENAPI: &str = include_str!("../../openapi.json");

/// Every API route as (method, path template), as the OpenAPI document lists them.
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v1/health"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/api/v1/events"),
    ("get", "/api/v1/events/{id}"),
    ("get", "/api/v1/localities"),
    ("get", "/api/v1/localities/{id}"),
    ("get", "/api/v1/actors"),
    ("get", "/api/v1/actors/{id}"),
    ("get", "/api/v1/verification/queue"),
    ("post", "/api/v1/events/{id}/verification"),
    ("get", "/api/v1/events/{id}/duplicates"),
    ("post", "/api/v1/events/{id}/merge"),
    ("post", "/api/v1/events/{id}/unmerge"),
    ("get", "/api/v1/events/{id}/history"),
    // Human-security index (public)
    ("get", "/api/v1/index"),
    ("get", "/api/v1/index/{locality}/{period}/explain"),
    // Alerts (reading is public; the status change needs a token)
    ("get", "/api/v1/alerts"),
    ("get", "/api/v1/alerts/feed.atom"),
    ("get", "/api/v1/alerts/{id}"),
    ("get", "/api/v1/alerts/{id}.cap.xml"),
    ("post", "/api/v1/alerts/{id}/status"),
    // Channels
    ("post", "/api/v1/reports"),
    ("post", "/api/v1/reports:batch"),
    ("get", "/api/v1/places"),
    ("post", "/api/v1/sms/inbound"),
    ("get", "/formList"),
    ("get", "/forms/report.xml"),
    ("head", "/submission"),
    ("post", "/submission"),
    // Forecasts (public)
    ("get", "/api/v1/forecasts"),
];

/// The API router.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/events", get(list_events))
        .route("/api/v1/events/{id}", get(get_event))
        .route("/api/v1/localities", get(list_localities))
        .route("/api/v1/localities/{id}", get(get_locality))
        .route("/api/v1/actors", get(list_actors))
        .route("/api/v1/actors/{id}", get(get_actor))
        .merge(verification::router())
        .merge(index::router())
        .merge(forecast::router())
        .merge(alerts::router())
}

/// Runs a use-case on a blocking thread.
pub async fn run<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&App) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let app = state.app.clone();
    tokio::task::spawn_blocking(move || f(&app))
        .await
        .unwrap_or_else(|e| {
            // A panic's message stays in the log: the answer is a plain 500.
            tracing::error!(error = %e, "worker failed");
            Err(AppError::Store(usalama_store::StoreError::Backend(
                "worker failed".into(),
            )))
        })
}

/// The caller of an API route, authenticated by bearer token.
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // The access guard has already looked the token up.
        if let Some(crate::authz::Resolved(who)) = parts.extensions.get() {
            return match who {
                Principal::Anonymous => Err(ApiError::unauthenticated()),
                who => Ok(Caller(who.clone())),
            };
        }
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, rest) = v.split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then(|| rest.trim().to_string())
            })
            .ok_or_else(ApiError::unauthenticated)?;
        let p = run(state, move |app| app.authenticate_token(&token)).await?;
        Ok(Caller(p))
    }
}

/// The caller of a public route: the bearer token's principal when one is sent (a bad
/// token is refused), else anonymous.
pub struct MaybeCaller(pub Principal);

impl FromRequestParts<AppState> for MaybeCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // Only a bearer token identifies an API caller; any other credential (HTTP Basic
        // of the OpenRosa channel, say) leaves the request anonymous, as on every route.
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "));
        if !bearer {
            return Ok(MaybeCaller(Principal::Anonymous));
        }
        Caller::from_request_parts(parts, state)
            .await
            .map(|Caller(p)| MaybeCaller(p))
    }
}

async fn health(State(state): State<AppState>) -> Response {
    match run(&state, |app| Ok(app.store().schema_version()?)).await {
        Ok(_) => Json(serde_json::json!({"status": "ok"})).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            retry_later(
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Json(serde_json::json!({"status": "unavailable"})),
                )
                    .into_response(),
            )
        }
    }
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

fn parse_id<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found(what))
}

/// Builds an event query from API parameters; shared with the events page.
pub fn event_query(app: &App, p: &Params) -> Result<EventQuery, AppError> {
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
    let status = p.str("status").map(str::to_string);
    if let Some(s) = &status {
        if !["unverified", "verified", "rejected", "duplicate"].contains(&s.as_str()) {
            return Err(AppError::invalid(
                "status",
                format!("'{s}' is not one of unverified, verified, rejected, duplicate"),
            ));
        }
    }
    let api = |e: ApiError| AppError::invalid(e.field.unwrap_or_default(), e.message);
    let q = EventQuery {
        from: p.date("from").map_err(api)?,
        to: p.date("to").map_err(api)?,
        locality,
        dimension: p
            .parsed::<Dimension>("dimension", "one of lives, livelihood, dignity")
            .map_err(api)?,
        category,
        actor: p
            .parsed::<ActorId>("actor", "an actor id (UUID)")
            .map_err(api)?,
        status,
        source: p.str("source").map(str::to_string),
        text: p.str("q").map(str::to_string),
        duplicate_of: None,
        page: p.page().map_err(api)?,
        skip_total: false,
        countable_only: false,
        alertable: None,
        // Set by the use-case from the caller.
        visibility: Default::default(),
    };
    if let (Some(f), Some(t)) = (q.from, q.to) {
        if f > t {
            return Err(AppError::invalid("from", "is after 'to'"));
        }
    }
    if q.text.as_deref().is_some_and(|t| t.chars().count() > 200) {
        return Err(AppError::invalid("q", "is longer than 200 characters"));
    }
    Ok(q)
}

/// Parameters the event list accepts.
pub const EVENT_PARAMS: &[&str] = &[
    "from",
    "to",
    "locality",
    "dimension",
    "category",
    "actor",
    "status",
    "source",
    "q",
    "limit",
    "cursor",
];

async fn list_events(
    State(state): State<AppState>,
    Caller(who): Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let p = Params::parse(raw.as_deref(), EVENT_PARAMS)?;
    let page = run(&state, move |app| {
        let q = event_query(app, &p)?;
        app.list_events_shared(&who, &q)
    })
    .await?;
    // Callers asking for the same page with the same visibility share its JSON.
    let json = state.list_json(&page, || {
        let dto = ListDto::from_shared(&page, EventDto::from);
        serde_json::to_vec(&dto).unwrap_or_default()
    });
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
}

async fn get_event(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: EventId = parse_id(&id, "event")?;
    let (v, personal) = run(&state, move |app| {
        let v = app.get_event_versioned(&who, id)?;
        // Personal data only for the roles that may read it; each read is audited.
        let personal = match who.role() {
            Some(r) if r.may_read_personal() => app.personal_data(&who, id)?,
            _ => None,
        };
        Ok((v, personal))
    })
    .await?;
    let dto = dto::EventDetailDto::new(v.view, personal);
    // The version is the ETag that changes (`If-Match`) must send back.
    Ok(verification::with_etag(dto, v.version))
}

async fn list_localities(
    State(state): State<AppState>,
    Caller(who): Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let p = Params::parse(raw.as_deref(), &["level", "parent", "q", "limit", "cursor"])?;
    let level = p.parsed::<AdminLevel>("level", "one of adm0, adm1, adm2, adm3")?;
    let page_req = p.page()?;
    let parent = p.str("parent").map(str::to_string);
    let text = p.str("q").map(str::to_string);
    let page = run(&state, move |app| {
        let parent = parent
            .map(|c| app.resolve_locality(&c).map(|l| l.id))
            .transpose()
            .map_err(|_| AppError::invalid("parent", "no locality has this code or id"))?;
        app.list_localities(
            &who,
            &LocalityQuery {
                level,
                parent,
                text,
                page: page_req,
            },
        )
    })
    .await?;
    Ok(Json(ListDto::from_shared(&page, |l| LocalityDto::new(l, &[]))).into_response())
}

async fn get_locality(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let lineage = run(&state, move |app| {
        let id: LocalityId = match id.parse() {
            Ok(id) => id,
            Err(_) => {
                app.resolve_locality(&id)
                    .map_err(|_| AppError::NotFound("locality"))?
                    .id
            }
        };
        app.get_locality(&who, id)
    })
    .await?;
    LocalityDto::from_lineage(&lineage)
        .map(|l| Json(l).into_response())
        .ok_or_else(|| ApiError::not_found("locality"))
}

async fn list_actors(
    State(state): State<AppState>,
    Caller(who): Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<ListDto<ActorDto>>, ApiError> {
    let p = Params::parse(raw.as_deref(), &["kind", "q", "limit", "cursor"])?;
    let kind = p
        .parsed::<ActorKind>("kind", "an actor kind")?
        .map(|k| k.as_str().to_string());
    let q = ActorQuery {
        kind,
        text: p.str("q").map(str::to_string),
        page: p.page()?,
    };
    let page = run(&state, move |app| app.list_actors(&who, &q)).await?;
    Ok(Json(ListDto::from_page(page, |a| ActorDto::from(&a))))
}

async fn get_actor(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<ActorDto>, ApiError> {
    let id: ActorId = parse_id(&id, "actor")?;
    let a = run(&state, move |app| app.get_actor(&who, id)).await?;
    Ok(Json(ActorDto::from(&a)))
}
