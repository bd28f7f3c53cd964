//! Alerts over HTTP on the demo data, on every backend: every alert the default rules raise
//! is a CAP 1.2 document valid against the OASIS schema (`xmllint --schema`, the copy in
//! `tests/data/cap-1.2/`), also once closed (a Cancel message); the Atom feed is
//! well-formed and links every entry's CAP document; reading alerts needs a role that
//! reads event records (anonymous callers and reporters are refused) and the status change
//! needs a role that handles alerts; the `/alerts` pages show the alerts to readers and
//! the lifecycle form works with a session and its CSRF token.

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use tower::ServiceExt;
use usalama_app::{App, DemoData, FixedClock, Principal};
use usalama_domain::Role;
use usalama_test_support::{stores, t0, DEMO_BOUNDARIES, DEMO_EVENTS};
use usalama_web::{router, AppState, WebConfig};

const PASSWORD: &str = "correct-horse-battery-staple";

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

async fn send(r: &Router, req: Request<Body>) -> Reply {
    let res = r.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// A GET with a bearer token (API) or a session cookie (pages), or neither.
async fn get_as(r: &Router, uri: &str, auth: Option<(header::HeaderName, String)>) -> Reply {
    let mut b = Request::get(uri).header(header::HOST, "usalama.test");
    if let Some((name, value)) = auth {
        b = b.header(name, value);
    }
    send(r, b.body(Body::empty()).unwrap()).await
}

async fn post_json(r: &Router, uri: &str, token: Option<&str>, body: &str) -> Reply {
    let mut b = Request::post(uri).header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    send(r, b.body(Body::from(body.to_string())).unwrap()).await
}

fn xsd() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cap-1.2/CAP-v1.2.xsd")
}

fn xmllint_present() -> bool {
    let ok = Command::new("xmllint").arg("--version").output().is_ok();
    if !ok {
        eprintln!("SKIPPED XML validation: xmllint is not installed (CI installs libxml2-utils)");
    }
    ok
}

/// Runs xmllint on a document; `schema` validates against the CAP XSD, else well-formedness.
fn xmllint(doc: &str, schema: bool, what: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.xml");
    std::fs::write(&file, doc).unwrap();
    let mut c = Command::new("xmllint");
    c.arg("--noout").arg("--nonet");
    if schema {
        c.arg("--schema").arg(xsd());
    }
    let out = c.arg(&file).output().unwrap();
    assert!(
        out.status.success(),
        "{what}: xmllint refused it:\n{}\n{doc}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn alerts_over_http_on_every_backend() {
    let lint = xmllint_present();
    for s in stores() {
        let name = s.name;
        let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
        let app = App::new(s.store.clone(), taxonomy, Arc::new(FixedClock(t0())));
        let demo = app
            .prepare_demo(&DemoData {
                boundaries: DEMO_BOUNDARIES.to_vec(),
                ucdp_geojson: DEMO_EVENTS,
            })
            .unwrap();
        assert!(demo.alerts_raised >= 1, "{name}");
        let admin = demo.token.expose().to_string();
        let reporter = app.create_token(Role::Reporter, "rep").unwrap();
        app.set_password("analyst", PASSWORD, Role::Analyst)
            .unwrap();
        let r = router(AppState::new(app, WebConfig::default()));
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let (cookie, csrf) = login(&r, "analyst").await;
            let bearer = Some((header::AUTHORIZATION, format!("Bearer {admin}")));
            let session = Some((header::COOKIE, cookie.clone()));
            let get = |r: &Router, uri: &str| {
                let auth = if uri.starts_with("/api/") { bearer.clone() } else { session.clone() };
                let (r, uri) = (r.clone(), uri.to_string());
                async move { get_as(&r, &uri, auth).await }
            };
            // Only readers of event records see alerts: the public see coarsened summaries
            // on the dashboard.
            for uri in ["/api/v1/alerts", "/api/v1/alerts/feed.atom"] {
                assert_eq!(get_as(&r, uri, None).await.status, StatusCode::UNAUTHORIZED, "{name}: {uri}");
                let rep = Some((header::AUTHORIZATION, format!("Bearer {}", reporter.expose())));
                assert_eq!(get_as(&r, uri, rep).await.status, StatusCode::FORBIDDEN, "{name}: {uri}");
            }
            let anon_page = get_as(&r, "/alerts", None).await;
            assert_eq!(anon_page.status, StatusCode::SEE_OTHER, "{name}: the alert pages need a log-in");
            // The list.
            let list = get(&r, "/api/v1/alerts").await;
            assert_eq!(list.status, StatusCode::OK, "{name}: {}", list.body);
            let items: Value = serde_json::from_str(&list.body).unwrap();
            let items = items["items"].as_array().unwrap().clone();
            assert_eq!(items.len(), demo.alerts_raised, "{name}");
            let ids: Vec<String> = items.iter().map(|a| a["id"].as_str().unwrap().to_string()).collect();
            for a in &items {
                assert!(a.get("people").is_none() && a.get("reporter_contact").is_none());
                assert!(a["links"]["cap"].as_str().unwrap().starts_with("http://usalama.test/api/v1/alerts/"));
            }

            // Every alert is valid CAP 1.2.
            for id in &ids {
                let cap = get(&r, &format!("/api/v1/alerts/{id}.cap.xml")).await;
                assert_eq!(cap.status, StatusCode::OK, "{name}: {}", cap.body);
                assert_eq!(cap.headers[header::CONTENT_TYPE], "application/cap+xml");
                assert!(cap.body.contains("<msgType>Alert</msgType>"));
                assert!(cap.body.contains("<category>Security</category>"));
                assert!(!cap.body.contains("Z</sent>"));
                if lint {
                    xmllint(&cap.body, true, &format!("{name}: CAP of {id}"));
                }
                let one = get(&r, &format!("/api/v1/alerts/{id}")).await;
                assert_eq!(one.status, StatusCode::OK);
                let j: Value = serde_json::from_str(&one.body).unwrap();
                assert_eq!(j["history"][0]["to"], "new");
            }
            // The Extreme alert names Haute-Kotto's P-code in its area.
            let extreme = items.iter().find(|a| a["severity"] == "extreme").unwrap();
            let eid = extreme["id"].as_str().unwrap();
            let cap = get(&r, &format!("/api/v1/alerts/{eid}.cap.xml")).await.body;
            assert!(cap.contains("<value>CF52</value>"), "{cap}");
            assert!(cap.contains("<severity>Extreme</severity>"));
            assert!(cap.contains("<sender>usalama@usalama.test</sender>"));

            // The feed: well-formed, one entry per alert, each linking its CAP document.
            let feed = get(&r, "/api/v1/alerts/feed.atom").await;
            assert_eq!(feed.status, StatusCode::OK);
            assert_eq!(feed.headers[header::CONTENT_TYPE], "application/atom+xml");
            if lint {
                xmllint(&feed.body, false, &format!("{name}: Atom feed"));
            }
            assert_eq!(feed.body.matches("<entry>").count(), ids.len().min(100));
            for id in ids.iter().take(100) {
                let link = format!(
                    "<link rel=\"alternate\" type=\"application/cap+xml\" href=\"http://usalama.test/api/v1/alerts/{id}.cap.xml\"/>"
                );
                assert!(feed.body.contains(&link), "{name}: {link}");
            }

            // Lifecycle over the API.
            let uri = format!("/api/v1/alerts/{eid}/status");
            let body = r#"{"status": "acknowledged", "expected": "new", "note": "on it"}"#;
            assert_eq!(post_json(&r, &uri, None, body).await.status, StatusCode::UNAUTHORIZED);
            assert_eq!(
                post_json(&r, &uri, Some(reporter.expose()), body).await.status,
                StatusCode::FORBIDDEN
            );
            let bad = post_json(&r, &uri, Some(&admin), r#"{"status": "responded", "expected": "new"}"#).await;
            assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", bad.body);
            let ok = post_json(&r, &uri, Some(&admin), body).await;
            assert_eq!(ok.status, StatusCode::OK, "{name}: {}", ok.body);
            assert!(ok.body.contains("\"status\":\"acknowledged\""));
            let stale = post_json(&r, &uri, Some(&admin), r#"{"status": "closed", "expected": "new"}"#).await;
            assert_eq!(stale.status, StatusCode::CONFLICT, "{name}: {}", stale.body);
            assert!(stale.body.contains("status_conflict"));
            // With a token that may read records, the history names who acted.
            let mine = send(
                &r,
                Request::get(format!("/api/v1/alerts/{eid}"))
                    .header(header::AUTHORIZATION, format!("Bearer {admin}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
            let j: Value = serde_json::from_str(&mine.body).unwrap();
            assert_eq!(j["history"][1]["by"], "token:demo", "{name}");

            // Pages: the list and the detail for readers; the form for those who handle alerts.
            let page = get(&r, "/alerts").await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.body.contains("Haute-Kotto (CF52)"), "{name}");
            assert!(page.body.contains("/api/v1/alerts/feed.atom"));
            let fr = get(&r, "/alerts?lang=fr&status=acknowledged").await;
            assert_eq!(fr.status, StatusCode::OK);
            assert!(fr.body.contains("Prise en compte"));
            assert_eq!(get(&r, "/alerts?min_severity=awful").await.status, StatusCode::BAD_REQUEST);
            let detail = get(&r, &format!("/alerts/{eid}")).await;
            assert_eq!(detail.status, StatusCode::OK);
            assert!(detail.body.contains(&format!("/api/v1/alerts/{eid}.cap.xml")));
            let anon_form = send(
                &r,
                Request::post(format!("/alerts/{eid}/status"))
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from("status=responded&expected=acknowledged&csrf=x"))
                    .unwrap(),
            )
            .await;
            assert_eq!(anon_form.status, StatusCode::SEE_OTHER, "to the log-in page");
            let mine = send(
                &r,
                Request::get(format!("/alerts/{eid}"))
                    .header(header::COOKIE, &cookie)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
            assert!(mine.body.contains("value=\"responded\""), "{name}: the form offers the next steps");
            assert!(mine.body.contains("token:demo"), "{name}: readers see who acted");
            let wrong_csrf = send(
                &r,
                Request::post(format!("/alerts/{eid}/status"))
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(header::COOKIE, &cookie)
                    .body(Body::from("status=responded&expected=acknowledged&csrf=wrong"))
                    .unwrap(),
            )
            .await;
            assert_eq!(wrong_csrf.status, StatusCode::FORBIDDEN);
            for (to, from) in [("responded", "acknowledged"), ("closed", "responded")] {
                let done = send(
                    &r,
                    Request::post(format!("/alerts/{eid}/status"))
                        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                        .header(header::COOKIE, &cookie)
                        .body(Body::from(format!("status={to}&expected={from}&note=ok&csrf={csrf}")))
                        .unwrap(),
                )
                .await;
                assert_eq!(done.status, StatusCode::SEE_OTHER, "{name}: {}", done.body);
            }
            let again = send(
                &r,
                Request::post(format!("/alerts/{eid}/status"))
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(header::COOKIE, &cookie)
                    .body(Body::from(format!("status=acknowledged&expected=closed&csrf={csrf}")))
                    .unwrap(),
            )
            .await;
            assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);

            // A closed alert is a CAP Cancel referencing the original, still valid.
            let cap = get(&r, &format!("/api/v1/alerts/{eid}.cap.xml")).await.body;
            assert!(cap.contains("<msgType>Cancel</msgType>"), "{cap}");
            assert!(cap.contains(&format!("<references>usalama@usalama.test,usalama-alert-{eid},")));
            if lint {
                xmllint(&cap, true, &format!("{name}: closed CAP"));
            }
            let unknown = get(&r, "/api/v1/alerts/00000000-0000-0000-0000-000000000000.cap.xml").await;
            assert_eq!(unknown.status, StatusCode::NOT_FOUND);
            let _ = Principal::Anonymous;
        });
        drop(rt);
        drop(s);
    }
}

async fn login(r: &Router, user: &str) -> (String, String) {
    let form = send(r, Request::get("/login").body(Body::empty()).unwrap()).await;
    let cookie_value = |h: &HeaderMap, name: &str| -> String {
        h.get_all(header::SET_COOKIE)
            .iter()
            .map(|c| c.to_str().unwrap().to_string())
            .find(|c| c.starts_with(&format!("{name}=")))
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .trim_start_matches(&format!("{name}="))
            .to_string()
    };
    let csrf = cookie_value(&form.headers, "usalama_csrf");
    let ok = send(
        r,
        Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, format!("usalama_csrf={csrf}"))
            .body(Body::from(format!(
                "username={user}&password={}&csrf={csrf}&next=/alerts",
                PASSWORD
            )))
            .unwrap(),
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let session = cookie_value(&ok.headers, "usalama_session");
    let csrf = cookie_value(&ok.headers, "usalama_csrf");
    (
        format!("usalama_session={session}; usalama_csrf={csrf}"),
        csrf,
    )
}
