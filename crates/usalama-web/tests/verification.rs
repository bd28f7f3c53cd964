//! Verification through HTTP, in process, on every backend, on the real demo data plus
//! planted reports: the queue API and page, decisions with grading and versions (409 on a
//! stale version), permissions, duplicates, merges and un-merges, history, and the page
//! forms with their CSRF token.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;
use usalama_app::{App, DemoData, FixedClock};
use usalama_domain::{EventData, LocalityPath, Role};
use usalama_store::PlacedEvent;
use usalama_test_support::{report, stores, t0, TestStore, DEMO_BOUNDARIES, DEMO_EVENTS};
use usalama_web::{router, AppState, WebConfig};

const PASSWORD: &str = "analyst-password-1";

struct Fixture {
    router: Router,
    analyst: String,
    reporter: String,
    reports: Vec<EventData>,
    _store: TestStore,
}

const BAMBARI: (f64, f64) = (5.7617, 20.6672);
const TEXT: &str = "Armed men attacked the market in Bambari, three people killed";

fn fixture(s: TestStore) -> Fixture {
    let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
    let app = App::new(s.store.clone(), taxonomy, Arc::new(FixedClock(t0())));
    app.prepare_demo(&DemoData {
        boundaries: DEMO_BOUNDARIES.to_vec(),
        ucdp_geojson: DEMO_EVENTS,
    })
    .unwrap();
    let vac = "violence_against_civilians";
    let mut original = report(1, "2024-05-10", vac, BAMBARI, TEXT);
    original.casualties.killed_best = Some(3);
    let mut near = report(
        2,
        "2024-05-11",
        vac,
        (5.7700, 20.6600),
        "Three people killed when armed men attacked the Bambari market",
    );
    near.casualties.killed_best = Some(3);
    near.casualties.injured = Some(1);
    let mut far = report(3, "2024-05-10", vac, (4.3731, 18.5623), TEXT);
    far.civilians_targeted = true;
    let mut hoax = report(4, "2024-05-12", "abduction", BAMBARI, "Children taken");
    hoax.casualties.abducted = Some(2);
    let reports = vec![original, near, far, hoax];
    let placed: Vec<PlacedEvent> = reports
        .iter()
        .map(|d| PlacedEvent {
            event: d.clone().validate(app.taxonomy()).unwrap(),
            path: LocalityPath::default(),
        })
        .collect();
    app.store().upsert_events(&placed, t0()).unwrap();
    app.replace_all_events().unwrap();
    let analyst = app.create_token(Role::Analyst, "analyst").unwrap();
    let reporter = app.create_token(Role::Reporter, "monitor").unwrap();
    app.set_password("ana", PASSWORD, Role::Analyst).unwrap();
    app.set_password("rita", PASSWORD, Role::Reporter).unwrap();
    Fixture {
        router: router(AppState::new(app, WebConfig::default())),
        analyst: analyst.expose().to_string(),
        reporter: reporter.expose().to_string(),
        reports,
        _store: s,
    }
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn etag(&self) -> String {
        self.headers[header::ETAG].to_str().unwrap().to_string()
    }
}

async fn send(r: &Router, req: Request<Body>) -> Reply {
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

async fn get(f: &Fixture, token: Option<&str>, uri: &str) -> Reply {
    let mut req = Request::get(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    send(&f.router, req.body(Body::empty()).unwrap()).await
}

async fn post(
    f: &Fixture,
    token: Option<&str>,
    uri: &str,
    if_match: Option<&str>,
    body: Value,
) -> Reply {
    let mut req = Request::post(uri).header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    if let Some(v) = if_match {
        req = req.header(header::IF_MATCH, v);
    }
    send(&f.router, req.body(Body::from(body.to_string())).unwrap()).await
}

fn assert_error(r: &Reply, status: StatusCode, code: &str, field: Option<&str>) {
    assert_eq!(r.status, status, "{}", r.text());
    let j = r.json();
    assert_eq!(j["error"]["code"], code, "{}", r.text());
    if let Some(name) = field {
        assert_eq!(j["error"]["parameter"], name, "{}", r.text());
    }
}

#[test]
fn verification_over_http_on_every_backend() {
    for s in stores() {
        let name = s.name;
        let f = fixture(s);
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            check_api(&f).await;
            check_pages(&f).await;
        });
        drop(rt);
        eprintln!("verification checks passed on {name}");
    }
}

async fn check_api(f: &Fixture) {
    let a = Some(f.analyst.as_str());
    let [original, near, far, hoax] = [0, 1, 2, 3].map(|i| f.reports[i].id.to_string());

    // The queue: analysts only, most severe first among the real data.
    assert_error(
        &get(f, None, "/api/v1/verification/queue").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        None,
    );
    assert_error(
        &get(f, Some(&f.reporter), "/api/v1/verification/queue").await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    );
    let q = get(f, a, "/api/v1/verification/queue").await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.text());
    let q = q.json();
    assert_eq!(q["total"], 4, "the 1,848 UCDP events are verified already");
    let ids: Vec<&str> = q["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["external_id"].as_str().unwrap())
        .collect();
    // 3 killed + 1 injured; 3 killed; 2 abducted; civilians targeted.
    assert_eq!(ids, ["R-2", "R-1", "R-4", "R-3"]);
    let first = &q["items"][0];
    assert_eq!(first["version"], 1);
    assert_eq!(
        first["severity"],
        json!({"killed": 3, "otherwise_harmed": 1, "civilians_targeted": false})
    );
    assert_eq!(first["locality"]["ancestor_codes"][1], "CF43");
    let dups: Vec<u64> = q["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["possible_duplicates"].as_u64().unwrap())
        .collect();
    assert_eq!(dups, [1, 1, 0, 0], "R-1 and R-2 may be the same attack");
    assert!(first.get("people").is_none() && first.get("reporter_contact").is_none());
    let ouaka = get(
        f,
        a,
        "/api/v1/verification/queue?locality=CF43&category=abduction",
    )
    .await
    .json();
    assert_eq!(ouaka["total"], 1);
    assert_eq!(ouaka["items"][0]["external_id"], "R-4");
    let page1 = get(f, a, "/api/v1/verification/queue?limit=3").await.json();
    let cursor = page1["next_cursor"].as_str().unwrap();
    let page2 = get(
        f,
        a,
        &format!("/api/v1/verification/queue?limit=3&cursor={cursor}"),
    )
    .await
    .json();
    assert_eq!(page2["items"][0]["external_id"], "R-3");
    assert_eq!(page2["next_cursor"], Value::Null);
    for (uri, param) in [
        ("/api/v1/verification/queue?locality=XX99", "locality"),
        ("/api/v1/verification/queue?category=nope", "category"),
        ("/api/v1/verification/queue?status=verified", "status"),
        ("/api/v1/verification/queue?cursor=abc", "cursor"),
    ] {
        assert_error(
            &get(f, a, uri).await,
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            Some(param),
        );
    }

    // The event carries its version as ETag.
    let ev = get(f, a, &format!("/api/v1/events/{original}")).await;
    assert_eq!(ev.etag(), "\"1\"");

    // Decisions: field validation, permissions, versions.
    let decide = format!("/api/v1/events/{original}/verification");
    let good = json!({"status": "verified", "reason": "two witnesses", "reliability": "B", "credibility": 2});
    for (body, field) in [
        (
            json!({"status": "verified", "reliability": "G"}),
            "reliability",
        ),
        (
            json!({"status": "verified", "credibility": 7}),
            "credibility",
        ),
        (json!({"status": "rejected"}), "reason"),
        (json!({"status": "maybe"}), "status"),
        (json!({"status": "verified", "grade": 1}), "grade"),
    ] {
        assert_error(
            &post(f, a, &decide, Some("\"1\""), body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some(field),
        );
    }
    assert_error(
        &post(f, None, &decide, Some("\"1\""), good.clone()).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        None,
    );
    assert_error(
        &post(f, Some(&f.reporter), &decide, Some("\"1\""), good.clone()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    );
    assert_error(
        &post(f, a, &decide, None, good.clone()).await,
        StatusCode::PRECONDITION_REQUIRED,
        "precondition_required",
        Some("If-Match"),
    );
    let done = post(f, a, &decide, Some(&ev.etag()), good.clone()).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    assert_eq!(done.etag(), "\"2\"");
    let j = done.json();
    assert_eq!(
        (
            &j["status"],
            &j["reliability"],
            &j["credibility"],
            &j["version"]
        ),
        (&json!("verified"), &json!("B"), &json!(2), &json!(2))
    );
    // A second analyst still holding version 1 is told, not overwritten.
    let reject = json!({"status": "rejected", "reason": "hoax"});
    assert_error(
        &post(f, a, &decide, Some("\"1\""), reject.clone()).await,
        StatusCode::CONFLICT,
        "version_conflict",
        None,
    );
    assert_eq!(
        get(f, a, &format!("/api/v1/events/{original}"))
            .await
            .json()["status"],
        "verified"
    );
    let hoax_uri = format!("/api/v1/events/{hoax}/verification");
    let r = post(
        f,
        a,
        &hoax_uri,
        None,
        json!({"status": "rejected", "reason": "no such children", "version": 1}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "rejected");

    // Duplicates: the near copy is proposed with its reasons, the far one is not.
    let d = get(f, a, &format!("/api/v1/events/{original}/duplicates")).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text());
    let d = d.json();
    let cands = d["candidates"].as_array().unwrap();
    assert_eq!(cands.len(), 1, "{d}");
    assert_eq!(cands[0]["event"]["id"], near.as_str());
    assert!(cands[0]["distance_km"].as_f64().unwrap() < 2.0);
    assert_eq!(cands[0]["days_apart"], 1);
    assert!(cands[0]["text_similarity"].as_f64().unwrap() > 0.8);
    assert!(cands[0]["reason"].as_str().unwrap().contains("km apart"));
    assert_eq!(d["rules"]["max_distance_km"], 10.0);
    assert_eq!(d["rules"]["max_days_apart"], 3);
    assert!(!cands.iter().any(|c| c["event"]["id"] == far.as_str()));
    assert_error(
        &get(
            f,
            Some(&f.reporter),
            &format!("/api/v1/events/{original}/duplicates"),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    );

    // Merge, cycle, merge into a duplicate, un-merge.
    let merged = post(
        f,
        a,
        &format!("/api/v1/events/{near}/merge"),
        Some("\"1\""),
        json!({"into": original, "reason": "same attack"}),
    )
    .await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.text());
    let m = merged.json();
    assert_eq!(
        (&m["status"], &m["duplicate_of"]),
        (&json!("duplicate"), &json!(original))
    );
    assert_eq!(m["source"], "web");
    let d = get(f, a, &format!("/api/v1/events/{original}/duplicates"))
        .await
        .json();
    assert_eq!(d["duplicates"][0]["id"], near.as_str());
    assert_eq!(d["duplicates"][0]["external_id"], "R-2");
    assert!(d["candidates"].as_array().unwrap().is_empty());
    let orig_version = get(f, a, &format!("/api/v1/events/{original}"))
        .await
        .etag();
    assert_error(
        &post(
            f,
            a,
            &format!("/api/v1/events/{original}/merge"),
            Some(&orig_version),
            json!({"into": near}),
        )
        .await,
        StatusCode::CONFLICT,
        "merge_cycle",
        None,
    );
    assert_error(
        &post(
            f,
            a,
            &format!("/api/v1/events/{original}/merge"),
            Some(&orig_version),
            json!({"into": "not-an-id"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("into"),
    );
    assert_error(
        &post(
            f,
            a,
            &format!("/api/v1/events/{original}/merge"),
            Some(&orig_version),
            json!({"into": original}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("into"),
    );
    let far_version = get(f, a, &format!("/api/v1/events/{far}")).await.etag();
    let via_dup = post(
        f,
        a,
        &format!("/api/v1/events/{far}/merge"),
        Some(&far_version),
        json!({"into": near}),
    )
    .await;
    assert_eq!(via_dup.status, StatusCode::OK, "{}", via_dup.text());
    assert_eq!(
        via_dup.json()["duplicate_of"],
        original.as_str(),
        "resolved to the root"
    );
    let un = post(
        f,
        a,
        &format!("/api/v1/events/{far}/unmerge"),
        Some(&via_dup.etag()),
        json!({"reason": "Bangui is far from Bambari"}),
    )
    .await;
    assert_eq!(un.status, StatusCode::OK, "{}", un.text());
    assert_eq!(un.json()["status"], "unverified");
    assert_error(
        &post(
            f,
            a,
            &format!("/api/v1/events/{far}/unmerge"),
            Some(&un.etag()),
            json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "not_duplicate",
        None,
    );

    // History: who, when, what, why.
    let h = get(f, a, &format!("/api/v1/events/{original}/history")).await;
    assert_eq!(h.status, StatusCode::OK, "{}", h.text());
    let h = h.json();
    let kinds: Vec<&str> = h["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "decision",
            "duplicate_added",
            "duplicate_added",
            "duplicate_removed"
        ]
    );
    let first = &h["entries"][0];
    assert_eq!(first["by"], "token:analyst");
    assert_eq!(first["reason"], "two witnesses");
    assert!(first["at"]
        .as_str()
        .unwrap()
        .starts_with("2023-11-14T22:13:20"));
    assert!(first["changes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["field"] == "status" && c["from"] == "unverified" && c["to"] == "verified"));
    assert_eq!(h["entries"][1]["related_event"], near.as_str());
    assert_eq!(h["entries"][1]["reason"], "same attack");
    let hf = get(f, a, &format!("/api/v1/events/{far}/history"))
        .await
        .json();
    assert_eq!(hf["entries"][1]["kind"], "unmerged");
    assert_eq!(hf["entries"][1]["reason"], "Bangui is far from Bambari");
    assert_error(
        &get(
            f,
            Some(&f.reporter),
            &format!("/api/v1/events/{original}/history"),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    );
}

/// Logs in through the form; returns the `Cookie` header (session and CSRF) and the CSRF
/// token.
async fn login(f: &Fixture, user: &str) -> (String, String) {
    let form = send(
        &f.router,
        Request::get("/login").body(Body::empty()).unwrap(),
    )
    .await;
    let cookie_value = |r: &Reply, name: &str| -> String {
        r.headers
            .get_all(header::SET_COOKIE)
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
    let csrf = cookie_value(&form, "usalama_csrf");
    let ok = send(
        &f.router,
        Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, format!("usalama_csrf={csrf}"))
            .body(Body::from(format!(
                "username={user}&password={PASSWORD}&csrf={csrf}&next=/verify"
            )))
            .unwrap(),
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
    let session = cookie_value(&ok, "usalama_session");
    let csrf = cookie_value(&ok, "usalama_csrf");
    (
        format!("usalama_session={session}; usalama_csrf={csrf}"),
        csrf,
    )
}

async fn page(f: &Fixture, cookie: &str, uri: &str) -> Reply {
    send(
        &f.router,
        Request::get(uri)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

async fn form(f: &Fixture, cookie: &str, uri: &str, body: &str) -> Reply {
    send(
        &f.router,
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, cookie)
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

async fn check_pages(f: &Fixture) {
    let [original, near, far, hoax] = [0, 1, 2, 3].map(|i| f.reports[i].id.to_string());
    // Anonymous visitors are sent to log in; reporters may not verify.
    let r = send(
        &f.router,
        Request::get("/verify").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let (rita, _) = login(f, "rita").await;
    assert_eq!(
        page(f, &rita, "/verify").await.status,
        StatusCode::FORBIDDEN
    );

    let (cookie, csrf) = login(f, "ana").await;
    let q = page(f, &cookie, "/verify").await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.text());
    let html = q.text();
    assert!(html.contains("<a href=\"/verify\" aria-current=\"page\">Verify</a>"));
    assert!(!html.contains("<script"), "no JavaScript");
    // After the API checks: the far report is back in the queue, alone.
    assert!(html.contains("1 report waits for verification"), "{html}");
    assert!(html.contains(&format!("action=\"/events/{far}/verification\"")));
    assert!(!html.contains(&format!("href=\"/events/{hoax}\"")));
    assert!(q.body.len() < 100_000);
    let fr = page(f, &cookie, "/verify?lang=fr").await.text();
    assert!(fr.contains("Signalements à vérifier") && fr.contains("Que signifient les notes"));
    assert_eq!(
        page(f, &cookie, "/verify?locality=XX99").await.status,
        StatusCode::BAD_REQUEST
    );

    // The event page: decision form, candidates, merged duplicates, history.
    let ev = page(f, &cookie, &format!("/events/{original}")).await;
    assert_eq!(ev.status, StatusCode::OK, "{}", ev.text());
    let html = ev.text();
    assert!(
        html.contains(&format!("href=\"/events/{near}\"")),
        "merged duplicate listed"
    );
    assert!(html.contains("two witnesses"), "history shows the reason");
    assert!(html.contains("token:analyst"));
    assert!(html.contains(&format!("name=\"csrf\" value=\"{csrf}\"")));
    let far_page = page(f, &cookie, &format!("/events/{far}")).await.text();
    let version = far_page
        .split(&format!("action=\"/events/{far}/verification\""))
        .nth(1)
        .and_then(|s| s.split("name=\"version\" value=\"").nth(1))
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let uri = format!("/events/{far}/verification");
    let body = |status: &str, reason: &str, token: &str, v: &str| {
        format!(
            "csrf={token}&version={v}&next=%2Fverify&status={status}&reason={reason}&reliability=C&credibility=3"
        )
    };
    assert_eq!(
        form(f, &cookie, &uri, &body("verified", "", "forged", &version))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let missing = form(f, &cookie, &uri, &body("rejected", "", &csrf, &version)).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.text().contains("A reason is required to reject"));
    let stale = form(f, &cookie, &uri, &body("verified", "", &csrf, "999")).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(stale.text().contains("changed since you opened it"));
    let ok = form(
        f,
        &cookie,
        &uri,
        &body("verified", "seen+by+our+monitor", &csrf, &version),
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
    assert_eq!(ok.headers[header::LOCATION], "/verify");
    let after = page(f, &cookie, &format!("/events/{far}")).await.text();
    assert!(after.contains("seen by our monitor"));
    assert!(after.contains("C – fairly reliable"));
    assert!(page(f, &cookie, "/verify")
        .await
        .text()
        .contains("No report is waiting"));

    // Merge through the form, then un-merge.
    let far_version = page(f, &cookie, &format!("/events/{far}"))
        .await
        .text()
        .split("name=\"version\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let merged = form(
        f,
        &cookie,
        &format!("/events/{far}/merge"),
        &format!(
            "csrf={csrf}&version={far_version}&into={original}&reason=test&next=/events/{original}"
        ),
    )
    .await;
    assert_eq!(merged.status, StatusCode::SEE_OTHER, "{}", merged.text());
    let dup_page = page(f, &cookie, &format!("/events/{far}")).await.text();
    assert!(dup_page.contains(&format!("action=\"/events/{far}/unmerge\"")));
    let original_version = page(f, &cookie, &format!("/events/{original}"))
        .await
        .text()
        .split("name=\"version\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let cycle = form(
        f,
        &cookie,
        &format!("/events/{original}/merge"),
        &format!("csrf={csrf}&version={original_version}&into={far}"),
    )
    .await;
    assert_eq!(cycle.status, StatusCode::CONFLICT);
    assert!(
        cycle.text().contains("go round in a circle"),
        "{}",
        cycle.text()
    );
    let v = dup_page
        .split(&format!("action=\"/events/{far}/unmerge\""))
        .nth(1)
        .and_then(|s| s.split("name=\"version\" value=\"").nth(1))
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let un = form(
        f,
        &cookie,
        &format!("/events/{far}/unmerge"),
        &format!("csrf={csrf}&version={v}&reason=not+the+same"),
    )
    .await;
    assert_eq!(un.status, StatusCode::SEE_OTHER, "{}", un.text());
    let restored = page(f, &cookie, &format!("/events/{far}")).await.text();
    assert!(restored.contains("not the same") && restored.contains("<dd>Verified</dd>"));
}
