//! The authorization matrix: every route of the OpenAPI document and of the pages, called
//! anonymously and as every role (with the credential the route takes, and with the other
//! kinds, which must count for nothing), compared with `tests/data/authz_matrix.csv`. The
//! test fails when a route exists that the table does not list (routes are read from the
//! OpenAPI document, from every `.route(` in the web crate's sources and from the access
//! table in code), or when the table lists one that does not exist. The calls run on
//! every backend (SQLite, and PostgreSQL when `USALAMA_TEST_POSTGRES_URL` is set).

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use base64::Engine;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use tower::ServiceExt;
use usalama_app::{App, FixedClock, PasswordCost};
use usalama_domain::{Dimension, LocalityPath, Role};
use usalama_store::PlacedEvent;
use usalama_test_support::{event, on_every_backend, t0, TestStore};
use usalama_web::{authz, router, AppState, WebConfig};

const PASSWORD: &str = "matrix-password-1";
const CSRF: &str = "csrf-token-for-the-matrix";

/// (method, path) → expected `allow`/`deny` by column (anonymous, then roles).
type Matrix = BTreeMap<(String, String), BTreeMap<String, bool>>;

fn matrix() -> (Vec<String>, Matrix) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/authz_matrix.csv");
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty());
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    assert_eq!(header[..3], ["method", "path", "anonymous"]);
    let roles: Vec<String> = header[3..].to_vec();
    let all: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(roles, all, "one column per role, in Role::ALL order");
    let mut m = Matrix::new();
    for (i, l) in lines.enumerate() {
        let cells: Vec<&str> = l.split(',').collect();
        assert_eq!(cells.len(), header.len(), "line {}: {l}", i + 2);
        let mut row = BTreeMap::new();
        for (h, c) in header[2..].iter().zip(&cells[2..]) {
            let allow = match *c {
                "allow" => true,
                "deny" => false,
                other => panic!("line {}: '{other}' is neither allow nor deny", i + 2),
            };
            row.insert(h.clone(), allow);
        }
        let key = (cells[0].to_string(), cells[1].to_string());
        assert!(m.insert(key.clone(), row).is_none(), "{key:?} listed twice");
    }
    (roles, m)
}

/// Every `.route("path", get(..).post(..))` in the web crate's sources.
fn routes_in_sources() -> BTreeSet<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut found = BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let mut rest = text.as_str();
        while let Some(i) = rest.find(".route(") {
            rest = &rest[i + 7..];
            let Some(q) = rest.trim_start().strip_prefix('"') else {
                continue;
            };
            let Some(end) = q.find('"') else { continue };
            let path = &q[..end];
            // The method routers up to the closing parenthesis of `.route(`.
            let mut depth = 1;
            let mut stop = rest.len();
            for (j, c) in rest.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            stop = j;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let body = &rest[..stop];
            for m in ["get", "post", "put", "patch", "delete", "head"] {
                let pat = format!("{m}(");
                let mut from = 0;
                while let Some(k) = body[from..].find(&pat) {
                    let at = from + k;
                    let before = body[..at].chars().last();
                    if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                        found.insert((m.to_string(), path.to_string()));
                    }
                    from = at + pat.len();
                }
            }
        }
    }
    found
}

fn openapi_routes() -> BTreeSet<(String, String)> {
    let doc: serde_json::Value = serde_json::from_str(usalama_web::api::OPENAPI).unwrap();
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete", "head"].contains(&method.as_str()) {
                // The CAP document of an alert is served by the route of the alert
                // (`/api/v1/alerts/{id}` with the id ending in `.cap.xml`).
                let path = path.replace("{id}.cap.xml", "{id}");
                out.insert((method.clone(), path));
            }
        }
    }
    out
}

#[test]
fn the_matrix_lists_every_route_and_only_routes() {
    let (_, m) = matrix();
    let listed: BTreeSet<(String, String)> = m.keys().cloned().collect();
    let in_code: BTreeSet<(String, String)> = authz::ROUTE_ACCESS
        .iter()
        .map(|(me, p, _)| (me.to_string(), p.to_string()))
        .collect();
    let sources = routes_in_sources();
    let openapi = openapi_routes();
    for (what, set) in [
        ("the sources", &sources),
        ("the OpenAPI document", &openapi),
    ] {
        let missing: Vec<_> = set.difference(&listed).collect();
        assert!(
            missing.is_empty(),
            "routes in {what} missing from authz_matrix.csv: {missing:?}"
        );
    }
    let unknown: Vec<_> = listed.difference(&sources).collect();
    assert!(
        unknown.is_empty(),
        "authz_matrix.csv lists routes that do not exist: {unknown:?}"
    );
    assert_eq!(
        listed, in_code,
        "authz_matrix.csv and authz::ROUTE_ACCESS list other routes"
    );
}

/// What a caller presents.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Cred {
    None,
    Token,
    Session,
    Basic,
}

struct World {
    router: Router,
    tokens: BTreeMap<String, String>,
    sessions: BTreeMap<String, String>,
    app: App,
    event: String,
}

/// The world on the store `s` (built outside any runtime: the PostgreSQL driver blocks).
fn world(s: &TestStore) -> World {
    let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
    let app = App::new(s.store.clone(), taxonomy, Arc::new(FixedClock(t0())))
        .with_password_cost(PasswordCost::OWASP_MINIMUM)
        .unwrap();
    let e = event(1, "2022-03-04", "armed_violence", Dimension::Lives)
        .validate(app.taxonomy())
        .unwrap();
    let id = e.id.to_string();
    s.store
        .upsert_events(
            &[PlacedEvent {
                event: e,
                path: LocalityPath::default(),
            }],
            t0(),
        )
        .unwrap();
    let mut tokens = BTreeMap::new();
    let mut sessions = BTreeMap::new();
    for r in Role::ALL {
        tokens.insert(
            r.to_string(),
            app.create_token(r, r.as_str())
                .unwrap()
                .expose()
                .to_string(),
        );
        app.set_password(r.as_str(), PASSWORD, r).unwrap();
        let (secret, _) = app.login(r.as_str(), PASSWORD).unwrap();
        sessions.insert(r.to_string(), secret.expose().to_string());
    }
    let router = router(AppState::new(app.clone(), WebConfig::default()));
    World {
        router,
        tokens,
        sessions,
        app,
        event: id,
    }
}

fn is_openrosa(path: &str) -> bool {
    ["/formList", "/forms/report.xml", "/submission"].contains(&path)
}

impl World {
    async fn call(
        &self,
        method: &str,
        path: &str,
        who: Option<&str>,
        cred: Cred,
    ) -> (StatusCode, String) {
        let uri = path
            .replace("{id}", &self.event)
            .replace("{locality}", "CF11")
            .replace("{period}", "2022")
            .replace("{code}", "CF11");
        let m = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
        let mut b = Request::builder().method(m.clone()).uri(&uri);
        let mut cookie = format!("usalama_csrf={CSRF}");
        let mut session = who.and_then(|r| self.sessions.get(r).cloned());
        // Logging out ends the session: use one of its own.
        if path == "/logout" && cred == Cred::Session {
            let r = who.unwrap();
            let (s, _) = tokio::task::block_in_place(|| self.app.login(r, PASSWORD)).unwrap();
            session = Some(s.expose().to_string());
        }
        match (cred, who) {
            (Cred::Token, Some(r)) => {
                b = b.header(header::AUTHORIZATION, format!("Bearer {}", self.tokens[r]));
            }
            (Cred::Session, Some(_)) if path != "/login" => {
                cookie.push_str(&format!("; usalama_session={}", session.unwrap()));
            }
            (Cred::Basic, Some(r)) => {
                let raw =
                    base64::engine::general_purpose::STANDARD.encode(format!("{r}:{PASSWORD}"));
                b = b.header(header::AUTHORIZATION, format!("Basic {raw}"));
            }
            _ => {}
        }
        b = b.header(header::COOKIE, cookie);
        let body = if m == Method::POST {
            if path.starts_with("/api/") {
                b = b.header(header::CONTENT_TYPE, "application/json");
                Body::from("{}")
            } else if path == "/login" {
                // Real credentials (the analyst's for an anonymous visitor): the form
                // itself is open to everyone.
                b = b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                let user = who.unwrap_or("analyst");
                Body::from(format!("csrf={CSRF}&username={user}&password={PASSWORD}"))
            } else if is_openrosa(path) {
                b = b.header(header::CONTENT_TYPE, "multipart/form-data; boundary=x");
                Body::from("--x--\r\n")
            } else {
                b = b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Body::from(format!("csrf={CSRF}"))
            }
        } else {
            Body::empty()
        };
        let res = self
            .router
            .clone()
            .oneshot(b.body(body).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let location = res
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        (status, location)
    }
}

fn allowed(status: StatusCode, location: &str) -> bool {
    assert_ne!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "a route answered 500 (missing from authz::ROUTE_ACCESS?)"
    );
    !(status == StatusCode::UNAUTHORIZED
        || status == StatusCode::FORBIDDEN
        || (status.is_redirection() && location.starts_with("/login")))
}

#[test]
fn every_route_answers_every_role_as_the_matrix_says() {
    on_every_backend(|s| {
        let w = world(s);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(check_matrix(&w, s.name));
    });
}

/// Calls every route of the matrix as every caller and compares with the table.
async fn check_matrix(w: &World, backend: &str) {
    let (roles, m) = matrix();
    let mut wrong = Vec::new();
    let mut calls = 0;
    for ((method, path), row) in &m {
        let own = if is_openrosa(path) {
            Cred::Basic
        } else if path.starts_with("/api/") {
            Cred::Token
        } else {
            Cred::Session
        };
        let (st, loc) = w.call(method, path, None, Cred::None).await;
        calls += 1;
        if allowed(st, &loc) != row["anonymous"] {
            wrong.push(format!("{method} {path} anonymous: {st}"));
        }
        for r in &roles {
            let (st, loc) = w.call(method, path, Some(r), own).await;
            calls += 1;
            if allowed(st, &loc) != row[r] {
                wrong.push(format!("{method} {path} as {r} ({own:?}): {st} {loc}"));
            }
            // Other kinds of credential count for nothing.
            for other in [Cred::Token, Cred::Session, Cred::Basic] {
                if other == own || path == "/login" || path == "/logout" {
                    continue;
                }
                let (st, loc) = w.call(method, path, Some(r), other).await;
                calls += 1;
                if allowed(st, &loc) != row["anonymous"] {
                    wrong.push(format!("{method} {path} as {r} with {other:?}: {st} {loc}"));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{backend}: {} of {calls} calls disagree with the matrix:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(calls > 1000, "{backend}: {calls}");
}
