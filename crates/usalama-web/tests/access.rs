//! Account hardening at the edge: the session id changes at log-in and the old one stops
//! working, cookies are Secure behind an HTTPS proxy, the log-in form asks for the TOTP
//! code, rate limits answer 429 with Retry-After per client address, and the security
//! headers are on every response.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;
use tower::ServiceExt;
use usalama_app::{App, FixedClock, PasswordCost, Principal};
use usalama_domain::Role;
use usalama_test_support::{sqlite, t0};
use usalama_web::ratelimit::RateLimits;
use usalama_web::{router, AppState, WebConfig};

const PASSWORD: &str = "a-long-password-1";
const CSRF: &str = "csrf-token-for-this-test";

fn setup(config: WebConfig) -> (Router, App, usalama_test_support::TestStore) {
    let s = sqlite();
    let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
    let app = App::new(s.store.clone(), taxonomy, Arc::new(FixedClock(t0())))
        .with_password_cost(PasswordCost::OWASP_MINIMUM)
        .unwrap();
    app.set_password("ana", PASSWORD, Role::Analyst).unwrap();
    (router(AppState::new(app.clone(), config)), app, s)
}

fn login(cookie: &str, body: &str, from: Option<&str>) -> Request<Body> {
    let mut b = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookie);
    if let Some(f) = from {
        b = b.header("x-forwarded-proto", f);
    }
    b.body(Body::from(body.to_string())).unwrap()
}

fn session_of(res: &axum::response::Response) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("usalama_session="))
        .map(str::to_string)
}

#[tokio::test]
async fn a_log_in_rotates_the_session_and_marks_cookies_secure_over_https() {
    let (r, app, _s) = setup(WebConfig::default());
    let (old, _) = app.login("ana", PASSWORD).unwrap();
    let cookie = format!("usalama_csrf={CSRF}; usalama_session={}", old.expose());
    let body = format!("csrf={CSRF}&username=ana&password={PASSWORD}&next=/events");
    let res = r
        .clone()
        .oneshot(login(&cookie, &body, Some("https")))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let set = session_of(&res).unwrap();
    assert!(set.contains("HttpOnly") && set.contains("Secure") && set.contains("SameSite"));
    let new = set
        .trim_start_matches("usalama_session=")
        .split(';')
        .next()
        .unwrap();
    assert_ne!(new, old.expose());
    assert!(app.session(new).is_ok());
    assert!(
        app.session(old.expose()).is_err(),
        "the old session must end"
    );
    // Over plain HTTP (and no configuration) the flag is not set.
    let res = r
        .oneshot(login(&format!("usalama_csrf={CSRF}"), &body, None))
        .await
        .unwrap();
    assert!(!session_of(&res).unwrap().contains("Secure"));
}

async fn text(res: axum::response::Response) -> String {
    let b = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap();
    String::from_utf8(b.to_bytes().to_vec()).unwrap()
}

#[tokio::test]
async fn the_log_in_form_asks_for_the_code_of_an_enrolled_account() {
    let (r, app, _s) = setup(WebConfig::default());
    app.enroll_totp(&Principal::Operator, "ana").unwrap();
    let cookie = format!("usalama_csrf={CSRF}");
    let body = format!("csrf={CSRF}&username=ana&password={PASSWORD}");
    let res = r
        .clone()
        .oneshot(login(&cookie, &body, None))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(session_of(&res).is_none());
    let page = text(res).await;
    assert!(page.contains("name=\"code\""), "{page}");
    // A wrong password gets the generic message and no code field.
    let body = format!("csrf={CSRF}&username=ana&password=wrong-password-x");
    let page = text(r.oneshot(login(&cookie, &body, None)).await.unwrap()).await;
    assert!(!page.contains("name=\"code\""));
}

#[tokio::test]
async fn rate_limits_answer_429_per_client_address() {
    let config = WebConfig {
        rate_limits: RateLimits {
            places: 4,
            ..Default::default()
        },
        ..Default::default()
    };
    let (r, _app, _s) = setup(config);
    let call = |ip: [u8; 4]| {
        let mut req = Request::get("/api/v1/places?q=ban")
            .body(Body::empty())
            .unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from((ip, 40000))));
        r.clone().oneshot(req)
    };
    // A bucket of 2 (half a minute of 4 per minute).
    for _ in 0..2 {
        assert_eq!(call([192, 0, 2, 1]).await.unwrap().status(), StatusCode::OK);
    }
    let res = call([192, 0, 2, 1]).await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers()[header::RETRY_AFTER], "15");
    assert!(text(res).await.contains("\"rate_limited\""));
    assert_eq!(call([192, 0, 2, 2]).await.unwrap().status(), StatusCode::OK);
    // Routes outside the limited groups are not counted.
    let mut req = Request::get("/api/v1/health").body(Body::empty()).unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 1], 1))));
    assert_eq!(
        r.clone().oneshot(req).await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let (r, _app, _s) = setup(WebConfig::default());
    for path in [
        "/",
        "/api/v1/health",
        "/login",
        "/nowhere",
        "/api/v1/events",
    ] {
        let res = r
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let h = res.headers();
        for name in [
            "content-security-policy",
            "x-content-type-options",
            "x-frame-options",
            "referrer-policy",
            "permissions-policy",
            "cross-origin-opener-policy",
            "cross-origin-resource-policy",
        ] {
            assert!(h.contains_key(name), "{path} lacks {name}");
        }
        assert!(!h[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("unsafe-inline"));
    }
}
