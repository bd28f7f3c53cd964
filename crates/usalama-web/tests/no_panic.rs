//! Property tests on everything the network reaches that the ingest crate's own property
//! tests (SMS syntax, OpenRosa instances, CSV and GeoJSON readers, gazetteer) do not: query
//! strings (dates, cursors, limits, every list's parameters), form bodies, report JSON
//! (single and batch), the SMS webhook's bodies, OpenRosa multipart bodies and the log-in
//! form, sent through the real router. No input may panic or get a 500.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use proptest::prelude::*;
use std::sync::{Arc, OnceLock};
use tower::ServiceExt;
use usalama_app::{App, FixedClock, PasswordCost};
use usalama_domain::Role;
use usalama_store::Cursor;
use usalama_test_support::{sqlite, t0, TestStore};
use usalama_web::api::params::{form_pairs, Params};
use usalama_web::{router, AppState, WebConfig};

struct World {
    router: Router,
    token: String,
    rt: tokio::runtime::Runtime,
    _store: TestStore,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let s = sqlite();
        let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
        let app = App::new(s.store.clone(), taxonomy, Arc::new(FixedClock(t0())))
            .with_password_cost(PasswordCost::OWASP_MINIMUM)
            .unwrap();
        let token = app.create_token(Role::Admin, "fuzz").unwrap();
        app.set_password("fuzz", "fuzz-password-1", Role::Reporter)
            .unwrap();
        World {
            router: router(AppState::new(app, WebConfig::default())),
            token: token.expose().to_string(),
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            _store: s,
        }
    })
}

fn send(req: Request<Body>) -> StatusCode {
    let w = world();
    w.rt.block_on(async { w.router.clone().oneshot(req).await.unwrap().status() })
}

fn bearer(b: axum::http::request::Builder) -> axum::http::request::Builder {
    b.header(header::AUTHORIZATION, format!("Bearer {}", world().token))
}

/// Query-string-like text: known names, `=`, `&`, percent escapes and anything else.
fn query() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        Just("from=".to_string()),
        Just("to=".to_string()),
        Just("cursor=".to_string()),
        Just("limit=".to_string()),
        Just("locality=".to_string()),
        Just("dimension=".to_string()),
        Just("status=".to_string()),
        Just("q=".to_string()),
        Just("level=".to_string()),
        Just("kind=".to_string()),
        Just("&".to_string()),
        Just("%".to_string()),
        Just("%FF".to_string()),
        Just("2024-02-30".to_string()),
        Just("-1".to_string()),
        Just("99999999999999999999".to_string()),
        "[0-9]{1,6}",
        "\\PC{0,12}",
    ];
    prop::collection::vec(part, 0..10).prop_map(|v| v.concat())
}

/// JSON-like text: fragments of reports in any order.
fn jsonish() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        Just("{".to_string()),
        Just("}".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just(",".to_string()),
        Just(":".to_string()),
        Just("\"category\"".to_string()),
        Just("\"occurred_start\"".to_string()),
        Just("\"latitude\"".to_string()),
        Just("\"killed\"".to_string()),
        Just("\"people\"".to_string()),
        Just("\"reports\"".to_string()),
        Just("\"armed_violence\"".to_string()),
        Just("1e999".to_string()),
        Just("-0".to_string()),
        Just("null".to_string()),
        Just("true".to_string()),
        "\"\\PC{0,10}\"",
        "[0-9.]{1,8}",
    ];
    prop::collection::vec(part, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn parameter_parsers_never_panic(raw in query()) {
        let known = ["from", "to", "cursor", "limit", "locality", "q", "level"];
        if let Ok(p) = Params::parse(Some(&raw), &known) {
            let _ = p.date("from");
            let _ = p.page();
            let _ = p.parsed::<u32>("limit", "a number");
        }
        let _ = form_pairs(&raw);
        let _ = Cursor::decode(&raw);
    }

    #[test]
    fn list_routes_never_fail_on_any_query(raw in query()) {
        for path in ["/api/v1/events", "/api/v1/localities", "/api/v1/actors",
                     "/api/v1/verification/queue", "/api/v1/index", "/api/v1/places"] {
            let uri = format!("{path}?{}", raw.replace(' ', "%20").replace('#', "%23"));
            let Ok(req) = bearer(Request::get(uri.as_str())).body(Body::empty()) else { continue };
            let status = send(req);
            prop_assert!(status != StatusCode::INTERNAL_SERVER_ERROR, "{uri}: {status}");
        }
    }

    #[test]
    fn report_json_never_fails(body in jsonish()) {
        for path in ["/api/v1/reports", "/api/v1/reports:batch", "/api/v1/sms/inbound"] {
            let req = bearer(Request::post(path))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.clone()))
                .unwrap();
            let status = send(req);
            prop_assert!(status != StatusCode::INTERNAL_SERVER_ERROR, "{path}: {status}");
        }
    }

    #[test]
    fn form_bodies_never_fail(body in prop::collection::vec(any::<u8>(), 0..200), text in query()) {
        for (path, bytes) in [("/report", body.clone()), ("/report", text.clone().into_bytes()),
                              ("/login", text.clone().into_bytes()),
                              ("/api/v1/sms/inbound", text.clone().into_bytes())] {
            let req = Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::AUTHORIZATION, format!("Bearer {}", world().token))
                .body(Body::from(bytes))
                .unwrap();
            let status = send(req);
            prop_assert!(status != StatusCode::INTERNAL_SERVER_ERROR, "{path}: {status}");
        }
    }

    #[test]
    fn openrosa_multipart_never_fails(
        parts in prop::collection::vec(("\\PC{0,12}", "\\PC{0,40}"), 0..4),
        raw in prop::collection::vec(any::<u8>(), 0..200),
        boundary in "[a-z0-9]{1,10}",
    ) {
        let mut body = Vec::new();
        for (name, content) in &parts {
            body.extend_from_slice(format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}\"\r\n\r\n{content}\r\n"
            ).as_bytes());
        }
        body.extend_from_slice(&raw);
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let basic = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "fuzz:fuzz-password-1");
        let req = Request::post("/submission")
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .header(header::AUTHORIZATION, format!("Basic {basic}"))
            .body(Body::from(body))
            .unwrap();
        let status = send(req);
        prop_assert!(status != StatusCode::INTERNAL_SERVER_ERROR, "{status}");
    }
}
