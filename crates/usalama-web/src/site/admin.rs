//! The administration pages' handlers: `GET/POST /admin/users` (organisation and system
//! administrators: list the accounts they manage; add one, disable or enable, unlock,
//! remove its second factor) and `GET/POST /admin/orgs` (system administrators: list and
//! add organisations, set what one shares with another). Every `POST` carries the CSRF
//! token and an `action`; each action is the use-case the command line calls, audited.

use super::PageReq;
use crate::api::run;
use crate::state::AppState;
use crate::ui::admin::{self as v, AccountRow, OrgsView, UsersView};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use usalama_app::AppError;
use usalama_domain::{Permission, Role, ShareScope, DEFAULT_ORG};

/// The administration routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users).post(users_action))
        .route("/admin/orgs", get(orgs).post(orgs_action))
}

/// The account form's fields.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct UserForm {
    csrf: String,
    action: String,
    username: String,
    role: String,
    org: String,
}

/// The organisation form's fields.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct OrgForm {
    csrf: String,
    action: String,
    name: String,
    from: String,
    to: String,
    scope: String,
}

/// What an action did, for the page shown after it.
struct Outcome {
    notice: Option<String>,
    error: Option<String>,
    password: Option<(String, String)>,
    status: StatusCode,
}

fn outcome(
    state: &AppState,
    req: &PageReq,
    r: Result<Option<(String, String)>, AppError>,
) -> Result<Outcome, AppError> {
    match r {
        Ok(password) => Ok(Outcome {
            notice: Some(state.catalog.t(req.lang, "admin-done")),
            error: None,
            password,
            status: StatusCode::OK,
        }),
        Err(AppError::Invalid { field, reason }) => Ok(Outcome {
            notice: None,
            error: Some(state.catalog.t_args(
                req.lang,
                "admin-error",
                &[("reason", format!("{field}: {reason}").into())],
            )),
            password: None,
            status: StatusCode::UNPROCESSABLE_ENTITY,
        }),
        Err(AppError::NotFound(what)) => Ok(Outcome {
            notice: None,
            error: Some(state.catalog.t_args(
                req.lang,
                "admin-error",
                &[("reason", format!("no such {what}").into())],
            )),
            password: None,
            status: StatusCode::NOT_FOUND,
        }),
        Err(e) => Err(e),
    }
}

async fn users_page(state: &AppState, req: &PageReq, done: Option<Outcome>) -> Response {
    let who = req.who.clone();
    let admin = who.role() == Some(Role::Admin);
    let lists = run(state, move |app| {
        let accounts = app.list_accounts(&who)?;
        let orgs = if admin {
            app.list_orgs(&who)?.into_iter().map(|o| o.name).collect()
        } else {
            Vec::new()
        };
        Ok((accounts, orgs))
    })
    .await;
    let (accounts, orgs) = match lists {
        Ok(x) => x,
        Err(e) => return req.error(state, e),
    };
    let roles = Role::ALL
        .iter()
        .filter(|r| admin || **r != Role::Admin)
        .map(|r| r.as_str().to_string())
        .collect();
    let done = done.unwrap_or(Outcome {
        notice: None,
        error: None,
        password: None,
        status: StatusCode::OK,
    });
    let view = UsersView {
        csrf_token: req.csrf.clone(),
        accounts: accounts
            .into_iter()
            .map(|a| AccountRow {
                username: a.username,
                role: a.role.as_str().to_string(),
                org: a.org,
                disabled: a.disabled,
                locked: a.locked,
                totp: a.totp,
            })
            .collect(),
        roles,
        orgs,
        notice: done.notice,
        error: done.error,
        password: done.password,
    };
    req.send(state, done.status, |ctx| v::users_page(ctx, &view))
}

async fn users(State(state): State<AppState>, req: PageReq) -> Response {
    users_page(&state, &req, None).await
}

async fn users_action(
    State(state): State<AppState>,
    req: PageReq,
    Form(f): Form<UserForm>,
) -> Response {
    if let Some(r) = req.refuse_form(&state, &f.csrf, "/admin/users") {
        return r;
    }
    let who = req.who.clone();
    let r = run(&state, move |app| {
        let name = f.username.trim().to_string();
        match f.action.as_str() {
            "add" => {
                let role: Role = f
                    .role
                    .parse()
                    .map_err(|_| AppError::invalid("role", "is not a role"))?;
                let org = if f.org.trim().is_empty() {
                    who.org().unwrap_or(DEFAULT_ORG)
                } else {
                    app.org_by_name(&f.org)?.id
                };
                let password = usalama_app::generate_password();
                app.set_account(&who, &name, &password, role, org)?;
                Ok(Some((name, password)))
            }
            "disable" | "enable" => app
                .set_disabled(&who, &name, f.action == "disable")
                .map(|_| None),
            "unlock" => app.unlock_account(&who, &name).map(|_| None),
            "totp_reset" => app.remove_totp(&who, &name).map(|_| None),
            _ => Err(AppError::invalid(
                "action",
                "is not add, disable, enable, unlock or totp_reset",
            )),
        }
    })
    .await;
    match outcome(&state, &req, r) {
        Ok(o) => users_page(&state, &req, Some(o)).await,
        Err(e) => req.error(&state, e),
    }
}

async fn orgs_page(state: &AppState, req: &PageReq, done: Option<Outcome>) -> Response {
    let who = req.who.clone();
    let orgs = match run(state, move |app| app.list_orgs(&who)).await {
        Ok(o) => o.into_iter().map(|o| o.name).collect(),
        Err(e) => return req.error(state, e),
    };
    let (notice, error, status) = match done {
        Some(o) => (o.notice, o.error, o.status),
        None => (None, None, StatusCode::OK),
    };
    let view = OrgsView {
        csrf_token: req.csrf.clone(),
        orgs,
        notice,
        error,
    };
    req.send(state, status, |ctx| v::orgs_page(ctx, &view))
}

async fn orgs(State(state): State<AppState>, req: PageReq) -> Response {
    orgs_page(&state, &req, None).await
}

async fn orgs_action(
    State(state): State<AppState>,
    req: PageReq,
    Form(f): Form<OrgForm>,
) -> Response {
    if let Some(r) = req.refuse_form(&state, &f.csrf, "/admin/orgs") {
        return r;
    }
    let who = req.who.clone();
    let r = run(&state, move |app| {
        if !who.may(Permission::ManageOrganisations) {
            return Err(AppError::Forbidden(
                who.role().map_or("anonymous".into(), |r| r.to_string()),
            ));
        }
        match f.action.as_str() {
            "add" => app.create_org(&who, &f.name).map(|_| None),
            "share" => {
                let from = app.org_by_name(&f.from)?.id;
                let to = app.org_by_name(&f.to)?.id;
                let scope =
                    match f.scope.as_str() {
                        "none" => None,
                        s => Some(s.parse::<ShareScope>().map_err(|_| {
                            AppError::invalid("scope", "is not all, verified or none")
                        })?),
                    };
                app.set_share(&who, from, to, scope).map(|_| None)
            }
            _ => Err(AppError::invalid("action", "is not add or share")),
        }
    })
    .await;
    match outcome(&state, &req, r) {
        Ok(o) => orgs_page(&state, &req, Some(o)).await,
        Err(e) => req.error(&state, e),
    }
}
