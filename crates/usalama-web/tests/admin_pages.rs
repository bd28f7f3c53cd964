//! The administration pages on every backend: an organisation admin lists and manages
//! only its own organisation's accounts (add with a password shown once, disable, enable,
//! unlock, remove the second factor) and cannot reach the organisations page; a system
//! admin adds organisations and sets sharing; every action needs the CSRF token and is
//! audited with the administrator's name.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use std::sync::Arc;
use tower::ServiceExt;
use usalama_app::{App, FixedClock, PasswordCost, Principal};
use usalama_domain::Role;
use usalama_test_support::{stores, t0, TestStore};
use usalama_web::{router, AppState, WebConfig};

const PASSWORD: &str = "admin-password-123";
const CSRF: &str = "csrf-token-of-the-admin-test";

struct Fixture {
    app: App,
    router: Router,
    /// Session secrets by account.
    org_admin: String,
    admin: String,
    _store: TestStore,
}

fn fixture(s: TestStore) -> Fixture {
    let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
    let app = App::new(s.store.clone(), taxonomy, Arc::new(FixedClock(t0())))
        .with_password_cost(PasswordCost::OWASP_MINIMUM)
        .unwrap();
    let op = Principal::Operator;
    let red = app.create_org(&op, "red-cross-cf").unwrap();
    let blue = app.create_org(&op, "blue-ngo").unwrap();
    app.set_account(&op, "rosa", PASSWORD, Role::OrgAdmin, red.id)
        .unwrap();
    app.set_account(&op, "rita", PASSWORD, Role::Reporter, red.id)
        .unwrap();
    app.set_account(&op, "bob", PASSWORD, Role::Reporter, blue.id)
        .unwrap();
    app.set_password("root", PASSWORD, Role::Admin).unwrap();
    let org_admin = app.login("rosa", PASSWORD).unwrap().0.expose().to_string();
    let admin = app.login("root", PASSWORD).unwrap().0.expose().to_string();
    Fixture {
        router: router(AppState::new(app.clone(), WebConfig::default())),
        app,
        org_admin,
        admin,
        _store: s,
    }
}

fn on_every_backend(check: impl AsyncFn(&Fixture)) {
    for s in stores() {
        let f = fixture(s);
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(check(&f));
        drop(rt);
    }
}

async fn call(
    f: &Fixture,
    session: &str,
    method: &str,
    path: &str,
    form: &str,
) -> (StatusCode, String) {
    let mut b = Request::builder().method(method).uri(path).header(
        header::COOKIE,
        format!("usalama_csrf={CSRF}; usalama_session={session}"),
    );
    if method == "POST" {
        b = b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    let res = f
        .router
        .clone()
        .oneshot(b.body(Body::from(form.to_string())).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

/// `(actor, action, target)` of every audit entry.
fn audit(f: &Fixture) -> Vec<(String, String, String)> {
    blocking(|| {
        let mut out = Vec::new();
        f.app
            .store()
            .scan_audit(&mut |e| {
                out.push((
                    e.draft.actor.clone(),
                    e.draft.action.clone(),
                    e.draft.target_id.clone(),
                ));
                Ok(())
            })
            .unwrap();
        out
    })
}

fn audited(f: &Fixture, actor: &str, action: &str, target: &str) -> bool {
    audit(f)
        .iter()
        .any(|(a, b, c)| a == actor && b == action && c == target)
}

#[test]
fn an_organisation_admin_manages_only_its_own_accounts() {
    on_every_backend(async |f| {
        let s = &f.org_admin;
        let (st, page) = call(f, s, "GET", "/admin/users", "").await;
        assert_eq!(st, StatusCode::OK, "{page}");
        assert!(page.contains("rita") && page.contains("rosa"), "{page}");
        assert!(
            !page.contains(">bob<"),
            "another organisation's account is not listed"
        );
        assert!(
            !page.contains("<option value=\"admin\">"),
            "cannot give the admin role"
        );

        // Add: the generated password is shown once and works.
        let (st, page) = call(
            f,
            s,
            "POST",
            "/admin/users",
            &format!("csrf={CSRF}&action=add&username=ruth&role=reporter"),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{page}");
        let pw = page
            .split("<p class=\"reference\"><strong>")
            .nth(1)
            .and_then(|p| p.split('<').next())
            .unwrap()
            .to_string();
        assert!(blocking(|| f.app.login("ruth", &pw)).is_ok());
        assert!(audited(f, "rosa", "user.add", "ruth"));

        // Disable, enable, unlock, remove the second factor: each audited.
        blocking(|| f.app.enroll_totp(&Principal::Operator, "rita").unwrap());
        for action in ["disable", "enable", "unlock", "totp_reset"] {
            let (st, page) = call(
                f,
                s,
                "POST",
                "/admin/users",
                &format!("csrf={CSRF}&action={action}&username=rita"),
            )
            .await;
            assert_eq!(st, StatusCode::OK, "{action}: {page}");
        }
        for action in [
            "user.disable",
            "user.enable",
            "user.unlock",
            "user.totp_remove",
        ] {
            assert!(audited(f, "rosa", action, "rita"), "{action}");
        }
        let listed = blocking(|| f.app.list_accounts(&Principal::Operator).unwrap());
        let rita = listed.iter().find(|a| a.username == "rita").unwrap();
        assert!(!rita.disabled && !rita.totp);

        // Another organisation's account, an admin account, a missing CSRF token.
        let (st, _) = call(
            f,
            s,
            "POST",
            "/admin/users",
            &format!("csrf={CSRF}&action=disable&username=bob"),
        )
        .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, _) = call(
            f,
            s,
            "POST",
            "/admin/users",
            &format!("csrf={CSRF}&action=add&username=eve&role=admin"),
        )
        .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, _) = call(
            f,
            s,
            "POST",
            "/admin/users",
            "csrf=wrong&action=disable&username=rita",
        )
        .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        assert!(
            !blocking(|| f.app.list_accounts(&Principal::Operator).unwrap())
                .iter()
                .any(|a| a.username == "rita" && a.disabled)
        );
        let (st, page) = call(
            f,
            s,
            "POST",
            "/admin/users",
            &format!("csrf={CSRF}&action=explode&username=rita"),
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("action"), "{page}");
        // The organisations page is for system administrators.
        let (st, _) = call(f, s, "GET", "/admin/orgs", "").await;
        assert_eq!(st, StatusCode::FORBIDDEN);
    });
}

#[test]
fn a_system_admin_adds_organisations_and_sets_sharing() {
    on_every_backend(async |f| {
        let s = &f.admin;
        let (st, page) = call(f, s, "GET", "/admin/users", "").await;
        assert_eq!(st, StatusCode::OK);
        assert!(
            page.contains(">bob<") && page.contains(">rita<"),
            "every account"
        );
        let (st, page) = call(
            f,
            s,
            "POST",
            "/admin/orgs",
            &format!("csrf={CSRF}&action=add&name=green-watch"),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{page}");
        assert!(page.contains("<li>green-watch</li>"), "{page}");
        assert!(audited(f, "root", "org.add", "green-watch"));
        let (st, page) = call(
            f,
            s,
            "POST",
            "/admin/orgs",
            &format!("csrf={CSRF}&action=share&from=red-cross-cf&to=green-watch&scope=verified"),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{page}");
        let green = blocking(|| f.app.org_by_name("green-watch").unwrap());
        let shares = blocking(|| f.app.store().shares_to(green.id).unwrap());
        assert_eq!(shares.len(), 1);
        assert!(audit(f)
            .iter()
            .any(|(a, b, _)| a == "root" && b == "org.share"));
        // A second organisation of the same name is refused, by name.
        let (st, page) = call(
            f,
            s,
            "POST",
            "/admin/orgs",
            &format!("csrf={CSRF}&action=add&name=green-watch"),
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("green-watch"), "{page}");
        // Adding an account in another organisation.
        let (st, page) = call(
            f,
            s,
            "POST",
            "/admin/users",
            &format!("csrf={CSRF}&action=add&username=gina&role=analyst&org=green-watch"),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{page}");
        let gina = blocking(|| f.app.list_accounts(&Principal::Operator).unwrap())
            .into_iter()
            .find(|a| a.username == "gina")
            .unwrap();
        assert_eq!(
            (gina.org.as_str(), gina.role),
            ("green-watch", Role::Analyst)
        );
    });
}
