//! Privacy on the report channels, in process, on every backend: the web form's and the
//! OpenRosa form's "keep private" marks seal the description and the exact point; client
//! addresses and user agents are kept (sealed) only on channels configured to keep them,
//! shown only to roles that may read personal data, and never logged; OpenRosa monitors
//! authenticate with HTTP Digest (device password) as well as Basic.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tower::ServiceExt;
use usalama_app::digest::{ha1, response, Algorithm, REALM};
use usalama_app::{App, ClientAddressPolicy, Clock, KeepClient, Principal};
use usalama_domain::{Channel, Role};
use usalama_ingest::BoundaryFields;
use usalama_store::EventQuery;
use usalama_test_support::{stores, t0, TestStore, DEMO_BOUNDARIES};
use usalama_web::{router, AppState, WebConfig};

const PASSWORD: &str = "monitor-password-1";
const PEER: [u8; 4] = [198, 51, 100, 7];
const AGENT: &str = "ODK-Collect/v2024.2.4 planted-agent-5f1c";

/// A clock the test moves.
struct StepClock(Mutex<DateTime<Utc>>);

impl Clock for StepClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

struct Fixture {
    app: App,
    router: Router,
    clock: Arc<StepClock>,
    /// An analyst's token (may read personal data).
    analyst: String,
    /// An organisation admin's token (may read events, not personal data).
    org_admin: String,
    store: TestStore,
}

fn fixture(s: TestStore, policy: ClientAddressPolicy, web: WebConfig) -> Fixture {
    let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
    let clock = Arc::new(StepClock(Mutex::new(t0())));
    let app = App::new(s.store.clone(), taxonomy, clock.clone()).with_client_addresses(policy);
    for (level, json) in DEMO_BOUNDARIES {
        app.import_boundaries(
            &Principal::Operator,
            json.as_bytes(),
            level,
            &BoundaryFields::default(),
        )
        .unwrap();
    }
    let analyst = app.create_token(Role::Analyst, "analysts").unwrap();
    let org_admin = app.create_token(Role::OrgAdmin, "admins").unwrap();
    app.set_password("monitor1", PASSWORD, Role::Reporter)
        .unwrap();
    Fixture {
        router: router(AppState::new(app.clone(), web)),
        app,
        clock,
        analyst: analyst.expose().to_string(),
        org_admin: org_admin.expose().to_string(),
        store: s,
    }
}

fn on_every_backend(
    policy: ClientAddressPolicy,
    web: impl Fn() -> WebConfig,
    check: impl AsyncFn(&Fixture),
) {
    for s in stores() {
        let f = fixture(s, policy, web());
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(check(&f));
        drop(rt);
    }
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }
    fn all(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }
}

/// Sends a request as if from `PEER` over a socket, with the planted user agent.
async fn send(r: &Router, mut req: Request<Body>) -> Reply {
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((PEER, 40_000))));
    if !req.headers().contains_key(header::USER_AGENT) {
        req.headers_mut()
            .insert(header::USER_AGENT, AGENT.parse().unwrap());
    }
    let res = r.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

fn stored_from(f: &Fixture, source: &str) -> Vec<usalama_store::StoredEvent> {
    blocking(|| {
        f.app
            .store()
            .list_events(&EventQuery {
                source: Some(source.into()),
                ..Default::default()
            })
            .unwrap()
            .items
    })
}

/// How many audit entries have this action.
fn audit_count(f: &Fixture, action: &str) -> usize {
    let mut n = 0;
    f.app
        .store()
        .scan_audit(&mut |e| {
            n += usize::from(e.draft.action == action);
            Ok(())
        })
        .unwrap();
    n
}

async fn event_as(f: &Fixture, token: &str, id: &str) -> Value {
    let req = Request::get(format!("/api/v1/events/{id}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let r = send(&f.router, req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

/// Bambari's centroid as (lat, lon), and a point a little off it, inside the same area.
fn points(f: &Fixture) -> ((f64, f64), (f64, f64)) {
    let (lon, lat) = blocking(|| f.app.resolve_locality("CF4311").unwrap().centroid.unwrap());
    ((lat, lon), (lat + 0.0123, lon - 0.0117))
}

/// Asserts none of `needles` is in any file of the SQLite store's directory.
fn absent_from_sqlite_files(f: &Fixture, needles: &[&str]) {
    let Some(dir) = &f.store.dir else { return };
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if !path.is_file() {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        for n in needles {
            assert!(
                !bytes.windows(n.len()).any(|w| w == n.as_bytes()),
                "{n:?} found in clear in {}",
                path.display()
            );
        }
    }
}

/// Checks that a report marked private keeps neither its description nor its exact
/// point in the events table, and that only a role that may read personal data sees them.
async fn check_sealed(f: &Fixture, source: &str, text: &str, exact: (f64, f64)) -> String {
    let got = stored_from(f, source);
    assert_eq!(got.len(), 1, "{source}");
    let e = &got[0].event;
    assert_eq!(e.description, None, "{source}: the description is sealed");
    let p = e.point.expect("the area's centroid");
    assert!(
        (p.lat() - exact.0).abs() > 1e-3 || (p.lon() - exact.1).abs() > 1e-3,
        "{source}: the exact point is not in the event"
    );
    assert!(e.location_precision.unwrap().code() > 1, "{source}");
    absent_from_sqlite_files(f, &[text]);
    let id = e.id.to_string();
    let full = event_as(f, &f.analyst, &id).await;
    assert_eq!(full["sensitive_description"], text, "{source}: {full}");
    let xp = full["exact_point"].as_array().unwrap();
    assert!((xp[0].as_f64().unwrap() - exact.0).abs() < 1e-9, "{full}");
    assert!((xp[1].as_f64().unwrap() - exact.1).abs() < 1e-9, "{full}");
    let limited = event_as(f, &f.org_admin, &id).await;
    for field in ["sensitive_description", "exact_point", "client_address"] {
        assert!(
            limited.get(field).is_none(),
            "{source}: {field} in {limited}"
        );
    }
    assert!(!limited.to_string().contains(text));
    id
}

// ---- the web form

async fn open_form(f: &Fixture) -> (String, String, String) {
    let r = send(
        &f.router,
        Request::get("/report").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let cookie = r
        .all("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("usalama_csrf="))
        .unwrap();
    let cookie = cookie.split(';').next().unwrap().to_string();
    let token = cookie.trim_start_matches("usalama_csrf=").to_string();
    (cookie, token, r.text())
}

fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            let enc: String = v
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b == b'-' || b == b'.' {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            format!("{k}={enc}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

async fn post_form(f: &Fixture, fields: &[(&str, &str)]) -> Reply {
    let (cookie, csrf, _) = open_form(f).await;
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    let req = Request::post("/report")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookie)
        .body(Body::from(form_body(&all)))
        .unwrap();
    send(&f.router, req).await
}

#[test]
fn web_form_private_marks_seal_the_description_and_the_point() {
    on_every_backend(Default::default(), WebConfig::default, async |f| {
        let (_, _, html) = open_form(f).await;
        assert!(
            html.contains("Keep the description private")
                && html.contains("Keep the exact location private"),
            "the checkboxes in plain words"
        );
        assert!(html.contains(
            "<input type=\"checkbox\" id=\"f-description_private\" name=\"description_private\" value=\"1\""
        ));
        let (_, exact) = points(f);
        let (lat, lon) = (exact.0.to_string(), exact.1.to_string());
        let text = "Private-web-description-83kq";
        let r = post_form(
            f,
            &[
                ("nonce", "n-private"),
                ("category", "arbitrary_arrest"),
                ("occurred_start", "2023-11-14"),
                ("latitude", &lat),
                ("longitude", &lon),
                ("description", text),
                ("description_private", "1"),
                ("location_private", "1"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        check_sealed(f, "web", text, exact).await;

        // Unticked: the description stays in the event, as before.
        let r = post_form(
            f,
            &[
                ("nonce", "n-public"),
                ("category", "arbitrary_arrest"),
                ("occurred_start", "2023-11-14"),
                ("place", "Bambari"),
                ("description", "Public-web-description"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert!(stored_from(f, "web")
            .iter()
            .any(|s| s.event.description.as_deref() == Some("Public-web-description")));

        // A refused form shows the ticks back.
        let r = post_form(
            f,
            &[
                ("nonce", "n-bad"),
                ("category", "arbitrary_arrest"),
                ("occurred_start", "2023-11-14"),
                ("killed", "-3"),
                ("description_private", "1"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let page = r.text();
        let tick = page
            .split("id=\"f-description_private\"")
            .nth(1)
            .unwrap()
            .split('>')
            .next()
            .unwrap()
            .to_string();
        assert!(tick.contains("checked"), "{tick}");
        let loc = page
            .split("id=\"f-location_private\"")
            .nth(1)
            .unwrap()
            .split('>')
            .next()
            .unwrap()
            .to_string();
        assert!(!loc.contains("checked"), "{loc}");
    });
}

// ---- OpenRosa

fn basic() -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("monitor1:{PASSWORD}"))
    )
}

fn multipart(instance: &str) -> (String, Vec<u8>) {
    let boundary = "----odkcollectboundary7MA4YWxkTrZu0gW";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"xml_submission_file\"; filename=\"submission.xml\"\r\nContent-Type: text/xml\r\n\r\n{instance}\r\n--{boundary}--\r\n"
    );
    (
        format!("multipart/form-data; boundary={boundary}"),
        body.into_bytes(),
    )
}

fn instance(id: &str, exact: (f64, f64), text: &str, private: &str) -> String {
    format!(
        "<?xml version='1.0' ?><data id=\"usalama_report\" version=\"x\" xmlns:jr=\"http://openrosa.org/javarosa\" xmlns:orx=\"http://openrosa.org/xforms\"><category>abduction</category><occurred_start>2023-11-13</occurred_start><location>{} {} 502.0 4.0</location><place /><location_private>{private}</location_private><killed /><injured /><displaced>3</displaced><description>{text}</description><description_private>{private}</description_private><people><name /><age /><sex /><role /></people><reporter_contact /><photo /><meta><instanceID>uuid:{id}</instanceID></meta></data>",
        exact.0, exact.1
    )
}

async fn submit(f: &Fixture, auth: &str, xml: &str) -> Reply {
    let (ct, body) = multipart(xml);
    let req = Request::post("/submission")
        .header(header::AUTHORIZATION, auth)
        .header(header::CONTENT_TYPE, ct)
        .header("x-openrosa-version", "1.0")
        .body(Body::from(body))
        .unwrap();
    send(&f.router, req).await
}

#[test]
fn openrosa_private_marks_seal_the_description_and_the_point() {
    on_every_backend(Default::default(), WebConfig::default, async |f| {
        let r = send(
            &f.router,
            Request::get("/forms/report.xml")
                .header(header::AUTHORIZATION, basic())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        let form = r.text();
        assert!(form.contains("<bind nodeset=\"/data/description_private\" type=\"string\""));
        assert!(form.contains("Keep the exact location private?"));
        let (_, exact) = points(f);
        let text = "Private-odk-description-q7zv";
        let r = submit(
            f,
            &basic(),
            &instance("0b6f1c1e-5f1a-4c55-9b1e-1a2b3c4d5e6f", exact, text, "yes"),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        check_sealed(f, "openrosa", text, exact).await;
        // "no" keeps them public.
        let r = submit(
            f,
            &basic(),
            &instance(
                "1b6f1c1e-5f1a-4c55-9b1e-1a2b3c4d5e6f",
                exact,
                "Public-odk-description",
                "no",
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let public = stored_from(f, "openrosa")
            .into_iter()
            .find(|s| s.event.description.as_deref() == Some("Public-odk-description"))
            .expect("stored with its description");
        let p = public.event.point.unwrap();
        assert!((p.lat() - exact.0).abs() < 1e-9 && (p.lon() - exact.1).abs() < 1e-9);
    });
}

// ---- client addresses

fn sealed_everywhere() -> ClientAddressPolicy {
    ClientAddressPolicy {
        web_form: KeepClient::Sealed,
        api: KeepClient::Sealed,
        sms: KeepClient::Sealed,
        openrosa: KeepClient::Sealed,
    }
}

/// Sends one report through the web form, the API and OpenRosa; returns the event ids.
async fn one_report_per_channel(f: &Fixture, reporter: &str) -> Vec<(Channel, String)> {
    let mut ids = Vec::new();
    let r = post_form(
        f,
        &[
            ("nonce", "n-client"),
            ("category", "arbitrary_arrest"),
            ("occurred_start", "2023-11-14"),
            ("place", "Bambari"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    ids.push((
        Channel::WebForm,
        stored_from(f, "web")[0].event.id.to_string(),
    ));

    let req = Request::post("/api/v1/reports")
        .header(header::AUTHORIZATION, format!("Bearer {reporter}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            r#"{"category":"abduction","occurred_start":"2023-11-12","place_code":"CF4311"}"#,
        ))
        .unwrap();
    let r = send(&f.router, req).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    ids.push((Channel::Api, r.json()["id"].as_str().unwrap().to_string()));

    let (_, exact) = points(f);
    let r = submit(
        f,
        &basic(),
        &instance("2b6f1c1e-5f1a-4c55-9b1e-1a2b3c4d5e6f", exact, "x", "no"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    ids.push((
        Channel::OpenRosa,
        stored_from(f, "openrosa")[0].event.id.to_string(),
    ));
    ids
}

#[test]
fn client_addresses_are_sealed_only_where_configured() {
    on_every_backend(sealed_everywhere(), WebConfig::default, async |f| {
        let reporter = blocking(|| f.app.create_token(Role::Reporter, "r").unwrap());
        for (channel, id) in one_report_per_channel(f, reporter.expose()).await {
            let full = event_as(f, &f.analyst, &id).await;
            assert_eq!(
                full["client_address"], "198.51.100.7",
                "{channel:?}: {full}"
            );
            assert_eq!(full["client_user_agent"], AGENT, "{channel:?}");
            let limited = event_as(f, &f.org_admin, &id).await;
            assert!(limited.get("client_address").is_none(), "{limited}");
            assert!(!limited.to_string().contains("planted-agent"));
            // The list route never carries them.
            let req = Request::get("/api/v1/events?limit=100")
                .header(header::AUTHORIZATION, format!("Bearer {}", f.analyst))
                .body(Body::empty())
                .unwrap();
            let list = send(&f.router, req).await.text();
            assert!(!list.contains("planted-agent") && !list.contains("198.51.100.7"));
        }
        absent_from_sqlite_files(f, &["planted-agent-5f1c", "198.51.100.7"]);
        // Each read of them was audited.
        let audited = blocking(|| audit_count(f, "personal.read"));
        assert!(audited >= 3, "{audited} personal reads audited");
    });
    // The default keeps nothing, whatever the client sends.
    on_every_backend(Default::default(), WebConfig::default, async |f| {
        let reporter = blocking(|| f.app.create_token(Role::Reporter, "r").unwrap());
        for (channel, id) in one_report_per_channel(f, reporter.expose()).await {
            let full = event_as(f, &f.analyst, &id).await;
            assert!(full.get("client_address").is_none(), "{channel:?}: {full}");
            assert!(full.get("client_user_agent").is_none(), "{channel:?}");
        }
        absent_from_sqlite_files(f, &["planted-agent-5f1c", "198.51.100.7"]);
    });
}

#[test]
fn a_trusted_proxy_header_counts_only_when_configured() {
    let policy = ClientAddressPolicy {
        api: KeepClient::Sealed,
        ..Default::default()
    };
    for (web, want) in [
        (WebConfig::default(), "198.51.100.7"),
        (
            WebConfig {
                trusted_proxy: Some("x-forwarded-for".into()),
                ..Default::default()
            },
            "192.0.2.44",
        ),
    ] {
        let web2 = web.clone();
        on_every_backend(
            policy,
            move || web2.clone(),
            async |f| {
                let reporter = blocking(|| f.app.create_token(Role::Reporter, "r").unwrap());
                let req = Request::post("/api/v1/reports")
                .header(header::AUTHORIZATION, format!("Bearer {}", reporter.expose()))
                .header(header::CONTENT_TYPE, "application/json")
                .header("x-forwarded-for", "203.0.113.9, 192.0.2.44")
                .body(Body::from(
                    r#"{"category":"abduction","occurred_start":"2023-11-12","place_code":"CF4311"}"#,
                ))
                .unwrap();
                let r = send(&f.router, req).await;
                assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
                let id = r.json()["id"].as_str().unwrap().to_string();
                let full = event_as(f, &f.analyst, &id).await;
                assert_eq!(full["client_address"], want, "{full}");
            },
        );
    }
}

/// A writer into a shared buffer, for the log test.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buffer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn logs_never_carry_client_addresses_or_user_agents() {
    let buf = Buffer::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // Global (the test binary's other tests log here too, which only widens the check):
    // the router's futures may be polled on the runtime's worker threads.
    tracing::subscriber::set_global_default(subscriber).unwrap();
    on_every_backend(sealed_everywhere(), WebConfig::default, async |f| {
        let reporter = blocking(|| f.app.create_token(Role::Reporter, "r").unwrap());
        one_report_per_channel(f, reporter.expose()).await;
        // A refused Basic log-in and an unknown route log too.
        let bad = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("monitor1:wrong")
        );
        let r = send(
            &f.router,
            Request::get("/formList")
                .header(header::AUTHORIZATION, bad)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    });
    let log = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("request") && log.contains("/submission"),
        "the requests were logged: {log}"
    );
    for planted in ["planted-agent", "198.51.100.7", "ODK-Collect"] {
        assert!(!log.contains(planted), "{planted} in the log:\n{log}");
    }
}

// ---- HTTP Digest

/// The nonce of the challenge of `algorithm`.
fn nonce_of(r: &Reply, algorithm: &str) -> String {
    let c = r
        .all("www-authenticate")
        .into_iter()
        .find(|c| c.starts_with("Digest") && c.contains(&format!("algorithm={algorithm}")))
        .unwrap_or_else(|| {
            panic!(
                "no {algorithm} challenge in {:?}",
                r.all("www-authenticate")
            )
        });
    c.split("nonce=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

#[allow(clippy::too_many_arguments)]
fn digest_header(
    alg: Algorithm,
    user: &str,
    password: &str,
    method: &str,
    uri: &str,
    nonce: &str,
    nc: u32,
) -> String {
    let h1 = ha1(alg, user, REALM, password);
    let nc = format!("{nc:08x}");
    let cnonce = "0a4f113b";
    let resp = response(alg, &h1, nonce, &nc, cnonce, "auth", method, uri);
    format!(
        "Digest username=\"{user}\", realm=\"{REALM}\", nonce=\"{nonce}\", uri=\"{uri}\", algorithm={}, qop=auth, nc={nc}, cnonce=\"{cnonce}\", response=\"{resp}\"",
        alg.name()
    )
}

#[test]
fn openrosa_digest_round_trip() {
    on_every_backend(Default::default(), WebConfig::default, async |f| {
        let device = blocking(|| {
            f.app
                .set_device_password(&Principal::Operator, "monitor1")
                .unwrap()
        });
        assert!(device.len() >= 20);
        // No credentials: Digest (SHA-256, MD5) and Basic are offered.
        let r = send(
            &f.router,
            Request::get("/formList").body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        let offered = r.all("www-authenticate");
        assert_eq!(offered.len(), 3, "{offered:?}");
        assert!(offered[0].starts_with("Digest realm=\"Usalama\", qop=\"auth\", algorithm=SHA-256"));
        assert!(offered[1].contains("algorithm=MD5"));
        assert!(offered[2].starts_with("Basic realm=\"Usalama\""));
        let md5_nonce = nonce_of(&r, "MD5");

        // ODK Collect: MD5, the form list then the form with the same nonce (nc 1, 2).
        let list = send(
            &f.router,
            Request::get("/formList")
                .header(
                    header::AUTHORIZATION,
                    digest_header(
                        Algorithm::Md5,
                        "monitor1",
                        &device,
                        "GET",
                        "/formList",
                        &md5_nonce,
                        1,
                    ),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.text());
        assert!(list.text().contains("<formID>usalama_report</formID>"));
        let form_req = |nc: u32| {
            Request::get("/forms/report.xml")
                .header(
                    header::AUTHORIZATION,
                    digest_header(
                        Algorithm::Md5,
                        "monitor1",
                        &device,
                        "GET",
                        "/forms/report.xml",
                        &md5_nonce,
                        nc,
                    ),
                )
                .body(Body::empty())
                .unwrap()
        };
        assert_eq!(send(&f.router, form_req(3)).await.status, StatusCode::OK);
        assert_eq!(
            send(&f.router, form_req(2)).await.status,
            StatusCode::OK,
            "nc out of order is tolerated"
        );
        assert_eq!(
            send(&f.router, form_req(3)).await.status,
            StatusCode::UNAUTHORIZED,
            "a replayed nc is refused"
        );

        // The HEAD pre-flight and a submission with SHA-256.
        let r = send(
            &f.router,
            Request::head("/submission").body(Body::empty()).unwrap(),
        )
        .await;
        let sha_nonce = nonce_of(&r, "SHA-256");
        let head = send(
            &f.router,
            Request::head("/submission")
                .header(
                    header::AUTHORIZATION,
                    digest_header(
                        Algorithm::Sha256,
                        "monitor1",
                        &device,
                        "HEAD",
                        "/submission",
                        &sha_nonce,
                        1,
                    ),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(head.status, StatusCode::NO_CONTENT);
        let (_, exact) = points(f);
        let auth = digest_header(
            Algorithm::Sha256,
            "monitor1",
            &device,
            "POST",
            "/submission",
            &sha_nonce,
            2,
        );
        let r = submit(
            f,
            &auth,
            &instance(
                "3b6f1c1e-5f1a-4c55-9b1e-1a2b3c4d5e6f",
                exact,
                "digest",
                "no",
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let got = stored_from(f, "openrosa");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].event.meta.created_by.as_deref(), Some("monitor1"));

        // Refusals: the account's own password over Digest, another URI, another realm.
        let refused = |h: String| {
            Request::get("/formList")
                .header(header::AUTHORIZATION, h)
                .body(Body::empty())
                .unwrap()
        };
        for h in [
            digest_header(
                Algorithm::Md5,
                "monitor1",
                PASSWORD,
                "GET",
                "/formList",
                &md5_nonce,
                9,
            ),
            digest_header(
                Algorithm::Md5,
                "monitor1",
                &device,
                "GET",
                "/forms/report.xml",
                &md5_nonce,
                10,
            ),
            digest_header(
                Algorithm::Md5,
                "monitor1",
                &device,
                "GET",
                "/formList",
                &md5_nonce,
                11,
            )
            .replace("realm=\"Usalama\"", "realm=\"Other\""),
            digest_header(
                Algorithm::Md5,
                "nobody",
                &device,
                "GET",
                "/formList",
                &md5_nonce,
                12,
            ),
            digest_header(
                Algorithm::Md5,
                "monitor1",
                &device,
                "GET",
                "/formList",
                "forged-nonce",
                1,
            ),
        ] {
            assert_eq!(
                send(&f.router, refused(h)).await.status,
                StatusCode::UNAUTHORIZED
            );
        }
        // Basic keeps working with the account's password.
        let r = send(
            &f.router,
            Request::get("/formList")
                .header(header::AUTHORIZATION, basic())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);

        // An expired nonce: 401 with stale=true, and the new nonce works.
        *f.clock.0.lock().unwrap() += Duration::seconds(301);
        let r = send(
            &f.router,
            Request::get("/formList")
                .header(
                    header::AUTHORIZATION,
                    digest_header(
                        Algorithm::Md5,
                        "monitor1",
                        &device,
                        "GET",
                        "/formList",
                        &md5_nonce,
                        20,
                    ),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.all("www-authenticate")[0].contains("stale=true"));
        let fresh = nonce_of(&r, "MD5");
        let r = send(
            &f.router,
            Request::get("/formList")
                .header(
                    header::AUTHORIZATION,
                    digest_header(
                        Algorithm::Md5,
                        "monitor1",
                        &device,
                        "GET",
                        "/formList",
                        &fresh,
                        1,
                    ),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);

        // A new device password replaces the old one; a disabled account is refused.
        let newer = blocking(|| {
            f.app
                .set_device_password(&Principal::Operator, "monitor1")
                .unwrap()
        });
        let with = |pw: &str, nc: u32| {
            Request::get("/formList")
                .header(
                    header::AUTHORIZATION,
                    digest_header(
                        Algorithm::Md5,
                        "monitor1",
                        pw,
                        "GET",
                        "/formList",
                        &fresh,
                        nc,
                    ),
                )
                .body(Body::empty())
                .unwrap()
        };
        assert_eq!(
            send(&f.router, with(&device, 2)).await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            send(&f.router, with(&newer, 3)).await.status,
            StatusCode::OK
        );
        blocking(|| {
            f.app
                .set_disabled(&Principal::Operator, "monitor1", true)
                .unwrap()
        });
        assert_eq!(
            send(&f.router, with(&newer, 4)).await.status,
            StatusCode::UNAUTHORIZED
        );
        // The device password is sealed: not in clear, nor its HA1, in the store's files.
        let h1 = ha1(Algorithm::Md5, "monitor1", REALM, &newer);
        absent_from_sqlite_files(f, &[newer.as_str(), h1.as_str()]);
        // Setting it was audited.
        let n = blocking(|| audit_count(f, "user.device_password"));
        assert_eq!(n, 2);
    });
}
