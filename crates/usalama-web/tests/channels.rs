//! Every channel end to end, in process, on every backend, against the real demo
//! boundaries: the web form (no JavaScript needed), the JSON API, the batch API, the SMS
//! webhook and an ODK-shaped OpenRosa submission each store an unverified report with its
//! channel; bad input is answered by field (and item), oversized bodies with 413.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use base64::Engine;
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;
use usalama_app::{App, FixedClock, Principal};
use usalama_domain::{Channel, EventId, Role, VerificationStatus};
use usalama_ingest::BoundaryFields;
use usalama_store::EventQuery;
use usalama_test_support::{form_urlencoded, multipart, stores, t0, TestStore, DEMO_BOUNDARIES};
use usalama_web::{router, AppState, WebConfig};

const PASSWORD: &str = "monitor-password-1";

struct Fixture {
    app: App,
    router: Router,
    /// A reporter's API token.
    token: String,
    /// An analyst's API token (may read events).
    reader: String,
    _store: TestStore,
}

fn fixture(s: TestStore) -> Fixture {
    let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
    let app = App::new(s.store.clone(), taxonomy, Arc::new(FixedClock(t0())));
    for (level, json) in DEMO_BOUNDARIES {
        app.import_boundaries(
            &Principal::Operator,
            json.as_bytes(),
            level,
            &BoundaryFields::default(),
        )
        .unwrap();
    }
    let token = app.create_token(Role::Reporter, "monitors").unwrap();
    let reader = app.create_token(Role::Analyst, "analysts").unwrap();
    app.set_password("monitor1", PASSWORD, Role::Reporter)
        .unwrap();
    Fixture {
        router: router(AppState::new(app.clone(), WebConfig::default())),
        app,
        token: token.expose().to_string(),
        reader: reader.expose().to_string(),
        _store: s,
    }
}

/// Runs `check` on a fresh fixture of every backend, outside and then inside a runtime
/// (the PostgreSQL driver runs its own runtime for blocking calls).
fn on_every_backend(check: impl AsyncFn(&Fixture)) {
    for s in stores() {
        let f = fixture(s);
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
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
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

async fn post_json(f: &Fixture, uri: &str, body: &Value) -> Reply {
    let req = Request::post(uri)
        .header(header::AUTHORIZATION, format!("Bearer {}", f.token))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    send(&f.router, req).await
}

async fn read_event(f: &Fixture, id: &str) -> Value {
    let req = Request::get(format!("/api/v1/events/{id}"))
        .header(header::AUTHORIZATION, format!("Bearer {}", f.reader))
        .body(Body::empty())
        .unwrap();
    let r = send(&f.router, req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

/// Runs blocking store calls from the test's async code (the PostgreSQL driver blocks).
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

/// Bambari's centroid as (lat, lon).
fn bambari(f: &Fixture) -> (f64, f64) {
    let (lon, lat) = blocking(|| f.app.resolve_locality("CF4311").unwrap().centroid.unwrap());
    (lat, lon)
}

fn report(f: &Fixture) -> Value {
    let (lat, lon) = bambari(f);
    json!({
        "category": "violence_against_civilians",
        "occurred_start": "2023-11-12",
        "latitude": lat,
        "longitude": lon,
        "killed": 2,
        "injured": 5,
        "displaced": 0,
        "description": "Attaque du marché — هجوم على السوق",
        "people": [{"name": "Jeanne Yakité", "age": 41, "sex": "female", "role": "witness"}],
        "reporter_contact": "+000 11 22 33"
    })
}

#[test]
fn json_api_creates_an_unverified_report() {
    on_every_backend(async |f| {
        let r = post_json(f, "/api/v1/reports", &report(f)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let j = r.json();
        assert_eq!(j["status"], "unverified");
        assert_eq!(j["placed_by"], "point");
        let id = j["id"].as_str().unwrap().to_string();
        let e = read_event(f, &id).await;
        assert_eq!(
            (e["channel"].as_str(), e["status"].as_str()),
            (Some("api"), Some("unverified"))
        );
        assert_eq!(e["fatalities_best"], 2);
        assert_eq!(e["description"], "Attaque du marché — هجوم على السوق");
        assert_eq!(e["locality"]["ancestor_codes"][1], "CF43", "{e}");
        // Analysts may read personal data (audited); lists never carry it.
        assert_eq!(e["people"][0]["name"], "Jeanne Yakité", "{e}");
        assert_eq!(e["reporter_contact"], "+000 11 22 33");
        let req = Request::get("/api/v1/events?limit=100")
            .header(header::AUTHORIZATION, format!("Bearer {}", f.reader))
            .body(Body::empty())
            .unwrap();
        let list = send(&f.router, req).await.text();
        assert!(
            !list.contains("Jeanne") && !list.contains("+000 11"),
            "no personal data in lists: {list}"
        );
        let stored = blocking(|| {
            f.app
                .store()
                .get_event(id.parse::<EventId>().unwrap())
                .unwrap()
                .unwrap()
        });
        assert!(stored.event.people.is_empty(), "sealed, not in the event");

        // Resending with the client's id is idempotent.
        let mut once = report(f);
        once["external_id"] = json!("tablet-3/17");
        let a = post_json(f, "/api/v1/reports", &once).await;
        let b = post_json(f, "/api/v1/reports", &once).await;
        assert_eq!((a.status, b.status), (StatusCode::CREATED, StatusCode::OK));
        assert_eq!(a.json()["id"], b.json()["id"]);

        // Every bad field is named; nothing is stored.
        let before = stored_from(f, "api").len();
        let mut bad = report(f);
        bad["killed"] = json!(-4);
        bad["category"] = json!("weather");
        bad["occurred_start"] = json!("2031-01-01");
        bad["people"][0]["age"] = json!(300);
        bad["kiled"] = json!(1);
        let r = post_json(f, "/api/v1/reports", &bad).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        let j = r.json();
        assert_eq!(j["error"]["code"], "invalid_report");
        let mut fields: Vec<String> = j["error"]["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["field"].as_str().unwrap().to_string())
            .collect();
        fields.sort();
        assert_eq!(
            fields,
            vec![
                "category",
                "kiled",
                "killed",
                "occurred_start",
                "people[0].age"
            ]
        );
        let (lat, lon) = bambari(f);
        let mut swapped = report(f);
        swapped["latitude"] = json!(lon);
        swapped["longitude"] = json!(lat);
        let r = post_json(f, "/api/v1/reports", &swapped).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().contains("swapped"), "{}", r.text());
        assert_eq!(stored_from(f, "api").len(), before);

        // Malformed JSON, no token, too large.
        let req = Request::post("/api/v1/reports")
            .header(header::AUTHORIZATION, format!("Bearer {}", f.token))
            .body(Body::from("{\"category\": "))
            .unwrap();
        let r = send(&f.router, req).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.json()["error"]["code"], "invalid_json");
        let req = Request::post("/api/v1/reports")
            .body(Body::from(report(f).to_string()))
            .unwrap();
        assert_eq!(send(&f.router, req).await.status, StatusCode::UNAUTHORIZED);
        let mut big = report(f);
        big["description"] = json!("x".repeat(1024 * 1024 + 10));
        let r = post_json(f, "/api/v1/reports", &big).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(r.json()["error"]["code"], "payload_too_large");
        assert!(r.text().contains("1048576"), "{}", r.text());

        // The place search.
        let r = send(
            &f.router,
            Request::get("/api/v1/places?q=pr%C3%A9fecture%20de%20la%20OUAKA")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json()["items"][0]["code"], "CF43");
        assert_eq!(r.json()["items"][0]["match"], "exact");
    });
}

#[test]
fn batch_api_creates_unverified_reports_all_or_nothing() {
    on_every_backend(async |f| {
        let good = report(f);
        let mut bad = report(f);
        bad["injured"] = json!("-3");
        let batch = json!([good, bad, good]);
        let before = stored_from(f, "api").len();
        let r = post_json(f, "/api/v1/reports:batch", &batch).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        let p = &r.json()["error"]["problems"];
        assert_eq!(
            (p[0]["item"].as_u64(), p[0]["field"].as_str()),
            (Some(1), Some("injured"))
        );
        assert_eq!(stored_from(f, "api").len(), before, "nothing stored");

        let r = post_json(f, "/api/v1/reports:batch?partial=true", &batch).await;
        assert_eq!(r.status, StatusCode::MULTI_STATUS, "{}", r.text());
        let j = r.json();
        assert_eq!(
            (j["created"].as_u64(), j["refused"].as_u64()),
            (Some(2), Some(1))
        );
        assert_eq!(j["results"][1]["outcome"], "refused");
        assert_eq!(j["results"][1]["problems"][0]["field"], "injured");

        let r = post_json(
            f,
            "/api/v1/reports:batch",
            &json!({"reports": [report(f), report(f)]}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let j = r.json();
        assert_eq!(j["created"], 2);
        let id = j["results"][0]["id"].as_str().unwrap().to_string();
        let e = read_event(f, &id).await;
        assert_eq!(
            (e["channel"].as_str(), e["status"].as_str()),
            (Some("api"), Some("unverified"))
        );
        assert_eq!(stored_from(f, "api").len(), before + 4);

        // Limits: 10,000 reports, 32 MiB.
        let many: Vec<Value> = (0..10_001).map(|_| json!({})).collect();
        let r = post_json(f, "/api/v1/reports:batch", &Value::Array(many)).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(r.text().contains("10000"), "{}", r.text());
        let req = Request::post("/api/v1/reports:batch")
            .header(header::AUTHORIZATION, format!("Bearer {}", f.token))
            .header(header::CONTENT_LENGTH, (40u64 * 1024 * 1024).to_string())
            .body(Body::from("[]"))
            .unwrap();
        let r = send(&f.router, req).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(r.text().contains("33554432"), "{}", r.text());
        let huge = format!("[{}]", " ".repeat(33 * 1024 * 1024));
        let req = Request::post("/api/v1/reports:batch")
            .header(header::AUTHORIZATION, format!("Bearer {}", f.token))
            .body(Body::from(huge))
            .unwrap();
        assert_eq!(
            send(&f.router, req).await.status,
            StatusCode::PAYLOAD_TOO_LARGE
        );
        let r = post_json(f, "/api/v1/reports:batch", &json!({"nope": 1})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = post_json(f, "/api/v1/reports:batch?partial=maybe", &json!([])).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
    });
}

#[test]
fn sms_webhook_creates_an_unverified_report() {
    on_every_backend(async |f| {
        // SMSSync: form fields, the token as a query parameter.
        let req = Request::post(format!("/api/v1/sms/inbound?token={}", f.token))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(
                "from=%2B23670123456&message=KILL+3+BAMBARI+shooting+near+the+market&sent_timestamp=1699900000000&message_id=abc-1&sent_to=1234",
            ))
            .unwrap();
        let r = send(&f.router, req).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let j = r.json();
        assert_eq!(j["payload"]["success"], true);
        assert_eq!(j["payload"]["task"], "send");
        assert_eq!(j["payload"]["messages"][0]["to"], "+23670123456");
        let reply = j["payload"]["messages"][0]["message"]
            .as_str()
            .unwrap()
            .to_string();
        let sms = stored_from(f, "sms");
        assert_eq!(sms.len(), 1);
        let e = &sms[0].event;
        assert_eq!(
            (e.channel, e.status),
            (Channel::Sms, VerificationStatus::Unverified)
        );
        assert_eq!(e.casualties.killed_best, Some(3));
        assert!(e.locality.is_some());
        let rc = blocking(|| f.app.store().get_receipt(e.id).unwrap().unwrap());
        assert!(reply.contains(&rc.reference), "{reply}");
        assert_eq!(rc.raw_text, None, "sealed");
        let personal = blocking(|| f.app.personal_data(&Principal::Operator, e.id).unwrap());
        assert_eq!(
            personal.unwrap().raw_text.as_deref(),
            Some("KILL 3 BAMBARI shooting near the market")
        );
        assert_eq!(rc.sender_hash.as_ref().map(Vec::len), Some(32));
        let stored_text = format!("{:?}{:?}", e, rc.sender_hash);
        assert!(
            !stored_text.contains("70123456"),
            "the number is never stored"
        );

        // Twilio: From/Body, bearer token, TwiML answer.
        let req = Request::post("/api/v1/sms/inbound")
            .header(header::AUTHORIZATION, format!("Bearer {}", f.token))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(
                "From=%2B15550001&Body=TUE+2+Ouaka+attaque&MessageSid=SM1&AccountSid=AC1",
            ))
            .unwrap();
        let r = send(&f.router, req).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.header("content-type").starts_with("text/xml"));
        assert!(
            r.text().contains("<Response><Message>Usalama : rapport"),
            "{}",
            r.text()
        );

        // Plain JSON; not understood → 422 naming the part, nothing stored.
        let r = post_json(
            f,
            "/api/v1/sms/inbound",
            &json!({"from": "+1555", "text": "HELLO 3 Bambari", "timestamp": 1699900000}),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert_eq!(r.json()["error"]["problems"][0]["field"], "keyword");
        assert!(r.json()["reply"].as_str().unwrap().contains("KILL"));
        let r = post_json(
            f,
            "/api/v1/sms/inbound",
            &json!({"from": "+1555", "text": "FLEE 40 Bambari"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        assert_eq!(stored_from(f, "sms").len(), 3);

        let req = Request::post("/api/v1/sms/inbound")
            .body(Body::from("from=1&message=KILL+1+Bambari"))
            .unwrap();
        assert_eq!(send(&f.router, req).await.status, StatusCode::UNAUTHORIZED);
        let req = Request::post(format!("/api/v1/sms/inbound?token={}", f.token))
            .body(Body::from(vec![b'a'; 70 * 1024]))
            .unwrap();
        assert_eq!(
            send(&f.router, req).await.status,
            StatusCode::PAYLOAD_TOO_LARGE
        );
    });
}

fn basic() -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("monitor1:{PASSWORD}"))
    )
}

#[test]
fn openrosa_submission_creates_an_unverified_report() {
    on_every_backend(async |f| {
        // Pre-flight: challenge first, then 204 with the accepted length.
        let r = send(
            &f.router,
            Request::head("/submission").body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        let offered: Vec<&str> = r
            .headers
            .get_all("www-authenticate")
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert!(
            offered.iter().any(|c| c.starts_with("Basic")),
            "{offered:?}"
        );
        assert!(
            offered.iter().any(|c| c.starts_with("Digest")),
            "{offered:?}"
        );
        assert_eq!(r.header("x-openrosa-version"), "1.0");
        let r = send(
            &f.router,
            Request::head("/submission")
                .header(header::AUTHORIZATION, basic())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert_eq!(r.header("x-openrosa-accept-content-length"), "10485760");
        assert_eq!(r.header("x-openrosa-version"), "1.0");
        let wrong = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("monitor1:wrong")
        );
        let r = send(
            &f.router,
            Request::get("/formList")
                .header(header::AUTHORIZATION, wrong)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);

        // The form list and the form.
        let r = send(
            &f.router,
            Request::get("/formList")
                .header(header::AUTHORIZATION, basic())
                .header(header::HOST, "usalama.example:8443")
                .header("x-forwarded-proto", "https")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.header("x-openrosa-version"), "1.0");
        let list = r.text();
        assert!(list.contains("<formID>usalama_report</formID>"), "{list}");
        assert!(list
            .contains("<downloadUrl>https://usalama.example:8443/forms/report.xml</downloadUrl>"));
        let r = send(
            &f.router,
            Request::get("/forms/report.xml")
                .header(header::AUTHORIZATION, basic())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        let form = r.text();
        assert!(list.contains(&format!("<hash>{}</hash>", md5_of(&form))));
        let version = form
            .split("<data id=\"usalama_report\" version=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_string();

        // An instance shaped exactly as ODK Collect sends it, with a photo.
        let (lat, lon) = bambari(f);
        let instance = format!(
            "<?xml version='1.0' ?><data id=\"usalama_report\" version=\"{version}\" xmlns:h=\"http://www.w3.org/1999/xhtml\" xmlns:jr=\"http://openrosa.org/javarosa\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:ev=\"http://www.w3.org/2001/xml-events\" xmlns:orx=\"http://openrosa.org/xforms\" xmlns:odk=\"http://www.opendatakit.org/xforms\"><category>abduction</category><occurred_start>2023-11-13</occurred_start><location>{lat} {lon} 502.0 4.0</location><place /><killed /><injured /><displaced>12</displaced><description>Deux enfants enlevés</description><people><name /><age /><sex /><role /></people><reporter_contact /><photo>1699990000000.jpg</photo><meta><instanceID>uuid:6e1c2b8a-4f3d-4b5e-9a7c-2d1e0f9b8a7c</instanceID></meta></data>"
        );
        let photo: &[u8] = b"\xff\xd8\xff\xe0JFIF-photo-bytes";
        let (ct, body) = multipart(&[
            (
                "xml_submission_file",
                "submission.xml",
                "text/xml",
                instance.as_bytes(),
            ),
            (
                "1699990000000.jpg",
                "1699990000000.jpg",
                "image/jpeg",
                photo,
            ),
        ]);
        let submit = |ct: String, body: Vec<u8>| {
            Request::post("/submission")
                .header(header::AUTHORIZATION, basic())
                .header(header::CONTENT_TYPE, ct)
                .header("x-openrosa-version", "1.0")
                .body(Body::from(body))
                .unwrap()
        };
        let r = send(&f.router, submit(ct.clone(), body.clone())).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        assert_eq!(r.header("x-openrosa-version"), "1.0");
        assert!(
            r.text().contains("nature=\"submit_success\""),
            "{}",
            r.text()
        );
        let got = stored_from(f, "openrosa");
        assert_eq!(got.len(), 1);
        let e = &got[0].event;
        assert_eq!(
            (e.channel, e.status),
            (Channel::OpenRosa, VerificationStatus::Unverified)
        );
        assert_eq!(e.category, "abduction");
        assert_eq!(e.casualties.displaced, Some(12));
        assert!(e.people.is_empty(), "ODK's empty repeat is not a person");
        assert!(e.locality.is_some());
        let files = blocking(|| f.app.attachments(&Principal::Operator, e.id).unwrap());
        assert_eq!(files.len(), 1);
        assert_eq!(
            (files[0].file_name.as_str(), files[0].bytes.as_slice()),
            ("1699990000000.jpg", photo)
        );
        assert_eq!(files[0].content_type, "image/jpeg");

        // The same instance again: 202, nothing stored twice.
        let r = send(&f.router, submit(ct, body)).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
        assert_eq!(stored_from(f, "openrosa").len(), 1);

        // Malformed XML names the part; a wrong form id names the form.
        let (ct, body) = multipart(&[(
            "xml_submission_file",
            "s.xml",
            "text/xml",
            b"<data id=\"usalama_report\"><category>",
        )]);
        let r = send(&f.router, submit(ct, body)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.text().contains("xml_submission_file"), "{}", r.text());
        let (ct, body) = multipart(&[("photo", "p.jpg", "image/jpeg", b"x")]);
        let r = send(&f.router, submit(ct, body)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let req = Request::post("/submission")
            .header(header::AUTHORIZATION, basic())
            .header(header::CONTENT_TYPE, "multipart/form-data; boundary=x")
            .header(header::CONTENT_LENGTH, (11u64 * 1024 * 1024).to_string())
            .body(Body::empty())
            .unwrap();
        assert_eq!(
            send(&f.router, req).await.status,
            StatusCode::PAYLOAD_TOO_LARGE
        );
    });
}

fn md5_of(s: &str) -> String {
    usalama_app::openrosa_form_list(s, "v", "u")
        .split("<hash>")
        .nth(1)
        .and_then(|h| h.split('<').next())
        .unwrap()
        .to_string()
}

/// The CSRF cookie and token of a fresh form.
async fn open_form(f: &Fixture, lang: &str) -> (String, String, String) {
    let r = send(
        &f.router,
        Request::get("/report")
            .header(header::ACCEPT_LANGUAGE, lang)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let cookie = r
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|c| c.to_str().unwrap().to_string())
        .find(|c| c.starts_with("usalama_csrf="))
        .unwrap();
    let cookie = cookie.split(';').next().unwrap().to_string();
    let token = cookie.trim_start_matches("usalama_csrf=").to_string();
    (cookie, token, r.text())
}

async fn post_form(f: &Fixture, cookie: &str, fields: &[(&str, &str)]) -> Reply {
    let req = Request::post("/report")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookie)
        .body(Body::from(form_urlencoded(fields)))
        .unwrap();
    send(&f.router, req).await
}

fn reference_in(html: &str) -> String {
    html.split("<p class=\"reference\"><strong>")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap_or_else(|| panic!("no reference in {html}"))
        .to_string()
}

#[test]
fn web_form_creates_an_unverified_report() {
    on_every_backend(async |f| {
        let (cookie, csrf, html) = open_form(f, "en").await;
        assert!(
            html.contains("value=\"2023-11-14\""),
            "today from the clock"
        );
        assert!(!html.contains("<script>"), "no inline script");
        assert!(html.contains("<optgroup label=\"Dignity\">"));
        let (_, _, fr) = open_form(f, "fr").await;
        assert!(fr.contains("Signaler un incident") && fr.contains("Combats et attaques armées"));

        // Anonymous, no JavaScript: an exact place name is placed at once.
        let r = post_form(
            f,
            &cookie,
            &[
                ("csrf", &csrf),
                ("nonce", "n-1"),
                ("category", "arbitrary_arrest"),
                ("occurred_start", "2023-11-14"),
                ("place", "Bambari"),
                ("killed", ""),
                ("injured", "1"),
                ("description", "Arrêté sans raison au marché"),
                ("p0_name", "Ali"),
                ("p0_age", "23"),
                ("p0_sex", "male"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let reference = reference_in(&r.text());
        let web = stored_from(f, "web");
        assert_eq!(web.len(), 1);
        let e = &web[0].event;
        assert_eq!(
            (e.channel, e.status),
            (Channel::WebForm, VerificationStatus::Unverified)
        );
        assert_eq!(e.place_name.as_deref(), Some("Bambari"));
        assert!(e.locality.is_some());
        let personal = blocking(|| f.app.personal_data(&Principal::Operator, e.id).unwrap());
        assert_eq!(personal.unwrap().people[0].age, Some(23));

        // The status page shows the status and nothing else.
        let r = send(
            &f.router,
            Request::get(format!("/report/status?ref={}", reference.to_lowercase()))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        let page = r.text();
        assert!(page.contains("<strong>Received</strong>"), "{page}");
        assert!(!page.contains("Arrêté") && !page.contains("Bambari") && !page.contains("Ali"));
        let r = send(
            &f.router,
            Request::get("/report/status?ref=ZZZZZ-ZZZZZ")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);

        // An ambiguous name asks "which one?", then the pick is stored.
        let base = [
            ("csrf", csrf.as_str()),
            ("nonce", "n-2"),
            ("category", "food_insecurity"),
            ("occurred_start", "2023-11-01"),
        ];
        let mut ask = base.to_vec();
        ask.push(("place", "Nola"));
        let r = post_form(f, &cookie, &ask).await;
        assert_eq!(r.status, StatusCode::OK);
        let page = r.text();
        assert!(
            page.contains("name=\"place_code\" value=\"CF1216\""),
            "{page}"
        );
        assert!(page.contains("value=\"-\""));
        assert_eq!(stored_from(f, "web").len(), 1, "nothing stored yet");
        let mut pick = ask.clone();
        pick.push(("place_code", "CF1216"));
        let r = post_form(f, &cookie, &pick).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        reference_in(&r.text());
        let again = post_form(f, &cookie, &pick).await;
        assert!(
            again.text().contains("already been received"),
            "resend is idempotent"
        );
        assert_eq!(stored_from(f, "web").len(), 2);

        // Bad input comes back with the answers and the fields marked.
        let mut bad = base.to_vec();
        bad[1] = ("nonce", "n-3");
        bad.extend([("latitude", "95"), ("longitude", "20"), ("killed", "-1")]);
        let r = post_form(f, &cookie, &bad).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let page = r.text();
        assert!(
            page.contains("href=\"#f-latitude\"") && page.contains("href=\"#f-killed\""),
            "{page}"
        );
        assert!(page.contains("value=\"95\""));
        assert_eq!(stored_from(f, "web").len(), 2);

        // A forged CSRF token stores nothing.
        let mut forged = base.to_vec();
        forged[0] = ("csrf", "forged-token-123456");
        let r = post_form(f, &cookie, &forged).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(stored_from(f, "web").len(), 2);

        // The script is served under the CSP.
        let r = send(
            &f.router,
            Request::get("/static/report.js")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.header("content-type").starts_with("text/javascript"));
        assert!(r.text().contains("localStorage") && r.text().contains("geolocation"));
        assert!(r
            .header("content-security-policy")
            .contains("script-src 'self'"));
    });
}
