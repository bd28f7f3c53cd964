//! The web layer end to end, in process, on every backend: the JSON API with its filters,
//! errors and pagination, the OpenAPI document, and the pages with log-in and languages.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Arc;
use tower::ServiceExt;
use usalama_app::{App, DemoData, FixedClock};
use usalama_test_support::{stores, t0, TestStore, DEMO_BOUNDARIES, DEMO_EVENTS};
use usalama_web::{router, AppState, WebConfig};

struct Fixture {
    router: Router,
    token: String,
    password: String,
    _store: TestStore,
}

fn fixture(s: TestStore) -> Fixture {
    let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
    let app = App::new(s.store.clone(), taxonomy, Arc::new(FixedClock(t0())));
    let demo = app
        .prepare_demo(&DemoData {
            boundaries: DEMO_BOUNDARIES.to_vec(),
            ucdp_geojson: DEMO_EVENTS,
        })
        .unwrap();
    Fixture {
        router: router(AppState::new(app, WebConfig::default())),
        token: demo.token.expose().to_string(),
        password: demo.password,
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

async fn get(f: &Fixture, uri: &str) -> Reply {
    let req = Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {}", f.token))
        .body(Body::empty())
        .unwrap();
    send(&f.router, req).await
}

async fn anon(f: &Fixture, uri: &str) -> Reply {
    send(&f.router, Request::get(uri).body(Body::empty()).unwrap()).await
}

fn assert_bad_param(r: &Reply, name: &str) {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let j = r.json();
    assert_eq!(j["error"]["code"], "invalid_parameter");
    assert_eq!(j["error"]["parameter"], name, "{}", r.text());
}

/// Stores are opened and dropped outside the async runtime: the PostgreSQL driver runs
/// its own runtime for blocking calls.
#[test]
fn api_on_every_backend() {
    for s in stores() {
        let name = s.name;
        let f = fixture(s);
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            check_api(&f).await;
            check_openapi(&f).await;
            check_pages(&f).await;
        });
        drop(rt);
        eprintln!("web checks passed on {name}");
    }
}

async fn check_api(f: &Fixture) {
    let h = anon(f, "/api/v1/health").await;
    assert_eq!(
        (h.status, h.json()),
        (StatusCode::OK, serde_json::json!({"status": "ok"}))
    );

    // Authentication.
    let r = anon(f, "/api/v1/events?limit=1").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.headers.get(header::WWW_AUTHENTICATE).is_some());
    assert_eq!(r.json()["error"]["code"], "unauthenticated");
    let wrong = Request::get("/api/v1/events")
        .header(header::AUTHORIZATION, "Bearer usa_wrong")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        send(&f.router, wrong).await.status,
        StatusCode::UNAUTHORIZED
    );

    // The demo's figures.
    let r = get(f, "/api/v1/events?limit=1").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let j = r.json();
    assert_eq!(j["total"], 1848);
    assert_eq!(j["items"].as_array().unwrap().len(), 1);
    assert!(j["next_cursor"].is_string());
    let e = &j["items"][0];
    for field in [
        "id",
        "source",
        "external_id",
        "dimension",
        "category",
        "occurred_start",
        "latitude",
        "longitude",
        "fatalities_best",
        "locality",
    ] {
        assert!(e.get(field).is_some(), "event JSON lacks {field}");
    }
    assert_eq!(e["source"], "ucdp-ged");
    let loc = &e["locality"];
    for field in ["id", "code", "name", "level"] {
        assert!(loc[field].is_string(), "locality lacks {field}: {loc}");
    }
    assert!(
        loc["ancestor_codes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "CF"),
        "{loc}"
    );
    assert!(
        e.get("people").is_none() && e.get("reporter_contact").is_none(),
        "no personal data in the API"
    );

    let adm1 = get(f, "/api/v1/localities?level=adm1").await.json();
    assert_eq!(adm1["total"], 17);
    assert_eq!(
        get(f, "/api/v1/localities?level=adm3&limit=1").await.json()["total"],
        175
    );
    let one = get(f, "/api/v1/localities/CF71").await;
    assert_eq!(one.status, StatusCode::OK);
    let one = one.json();
    assert_eq!(one["ancestors"][0]["code"], "CF");
    // The locality's own fields, flattened beside where it sits.
    assert_eq!(one["code"], "CF71");
    assert_eq!(one["level"], "adm1");
    assert!(one["id"].as_str().unwrap().parse::<uuid::Uuid>().is_ok());
    assert_eq!(one["parent_id"], one["ancestors"][0]["id"]);
    assert_eq!(one["centroid"].as_array().map(Vec::len), Some(2));
    assert_eq!(one.as_object().unwrap().len(), 7, "{one}");

    // Filters: a province counts its sub-prefectures and communes.
    let in_ouaka = get(f, "/api/v1/events?locality=CF43&limit=1").await.json()["total"]
        .as_u64()
        .unwrap();
    assert!(in_ouaka > 0);
    let districts = get(f, "/api/v1/localities?parent=CF43&limit=100")
        .await
        .json();
    let mut sum = 0;
    for d in districts["items"].as_array().unwrap() {
        let code = d["code"].as_str().unwrap();
        sum += get(f, &format!("/api/v1/events?locality={code}&limit=1"))
            .await
            .json()["total"]
            .as_u64()
            .unwrap();
    }
    assert!(
        sum <= in_ouaka && sum + 60 > in_ouaka,
        "districts {sum} vs province {in_ouaka}"
    );
    let lives = get(f, "/api/v1/events?dimension=lives&limit=1")
        .await
        .json()["total"]
        .as_u64()
        .unwrap();
    assert_eq!(lives, 1848, "all UCDP events are in the lives dimension");
    let vac = get(
        f,
        "/api/v1/events?category=violence_against_civilians&limit=1",
    )
    .await
    .json()["total"]
        .as_u64()
        .unwrap();
    assert_eq!(vac, 1076, "UCDP one-sided violence");
    let y2022 = get(f, "/api/v1/events?from=2022-01-01&to=2022-12-31&limit=1")
        .await
        .json()["total"]
        .as_u64()
        .unwrap();
    assert!(y2022 > 0 && y2022 < 1848);
    let text = get(f, "/api/v1/events?q=bangui&limit=1").await.json()["total"]
        .as_u64()
        .unwrap();
    assert!(text > 0);
    let actors = get(f, "/api/v1/actors?q=LRA").await.json();
    let lra = actors["items"][0]["id"].as_str().unwrap().to_string();
    let with_lra = get(f, &format!("/api/v1/events?actor={lra}&limit=1"))
        .await
        .json()["total"]
        .as_u64()
        .unwrap();
    assert!(with_lra > 10, "LRA events: {with_lra}");
    assert_eq!(
        get(f, &format!("/api/v1/actors/{lra}")).await.json()["name"],
        "LRA"
    );

    // Bad input names the parameter.
    assert_bad_param(&get(f, "/api/v1/events?from=2022-13-01").await, "from");
    assert_bad_param(
        &get(f, "/api/v1/events?from=2022-02-01&to=2022-01-01").await,
        "from",
    );
    assert_bad_param(&get(f, "/api/v1/events?dimension=fear").await, "dimension");
    assert_bad_param(&get(f, "/api/v1/events?category=nope").await, "category");
    assert_bad_param(&get(f, "/api/v1/events?locality=XX99").await, "locality");
    assert_bad_param(&get(f, "/api/v1/events?actor=not-a-uuid").await, "actor");
    assert_bad_param(&get(f, "/api/v1/events?status=maybe").await, "status");
    assert_bad_param(&get(f, "/api/v1/events?limit=0").await, "limit");
    assert_bad_param(&get(f, "/api/v1/events?limit=5000").await, "limit");
    assert_bad_param(&get(f, "/api/v1/events?cursor=garbage").await, "cursor");
    assert_bad_param(&get(f, "/api/v1/events?limt=5").await, "limt");
    assert_bad_param(&get(f, "/api/v1/localities?level=adm9").await, "level");
    assert_bad_param(&get(f, "/api/v1/actors?kind=army").await, "kind");

    // Unknown ids are 404.
    assert_eq!(
        get(f, "/api/v1/events/00000000-0000-0000-0000-000000000000")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(f, "/api/v1/events/not-an-id").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(f, "/api/v1/localities/XX99").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(f, "/api/v1/nothing-here").await.json()["error"]["code"],
        "not_found"
    );

    // Cursor pagination visits every event once.
    let mut seen = HashSet::new();
    let mut uri = "/api/v1/events?limit=400".to_string();
    loop {
        let j = get(f, &uri).await.json();
        for it in j["items"].as_array().unwrap() {
            assert!(
                seen.insert(it["id"].as_str().unwrap().to_string()),
                "duplicate across pages"
            );
        }
        match j["next_cursor"].as_str() {
            Some(c) => uri = format!("/api/v1/events?limit=400&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 1848);
    let id = seen.iter().next().unwrap();
    let one = get(f, &format!("/api/v1/events/{id}")).await;
    assert_eq!(one.json()["id"], id.as_str());
}

async fn check_openapi(f: &Fixture) {
    let doc = anon(f, "/api/v1/openapi.json").await.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    let documented: HashSet<(String, String)> = paths
        .iter()
        .flat_map(|(p, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.clone(), p.clone()))
        })
        .collect();
    let routed: HashSet<(String, String)> = usalama_web::api::ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(
        documented, routed,
        "the OpenAPI document and the router disagree"
    );
    // Every listed route answers (not 404/405) with real ids.
    let ev = get(f, "/api/v1/events?limit=1").await.json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let loc = get(f, "/api/v1/localities?limit=1").await.json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let act = get(f, "/api/v1/actors?limit=1").await.json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let alert = get(f, "/api/v1/alerts?limit=1").await.json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (method, p) in usalama_web::api::ROUTES {
        let uri = p
            .replace(
                "{id}",
                if p.contains("alerts") {
                    &alert
                } else if p.contains("events") {
                    &ev
                } else if p.contains("localities") {
                    &loc
                } else {
                    &act
                },
            )
            .replace("{locality}", &loc)
            .replace("{period}", "2022-06");
        if *method == "get" && p.starts_with("/api/v1/") {
            let r = get(f, &uri).await;
            assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.text());
        } else {
            // Every other route is routed (not 404/405) and answers an empty request; an
            // API error it gives is one of the documented codes.
            let req = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(&uri)
                .header(header::AUTHORIZATION, format!("Bearer {}", f.token))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{}"))
                .unwrap();
            let r = send(&f.router, req).await;
            assert!(
                r.status != StatusCode::NOT_FOUND && r.status != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {uri}: {} {}",
                r.status,
                r.text()
            );
            let code = serde_json::from_slice::<Value>(&r.body)
                .ok()
                .and_then(|j| j["error"]["code"].as_str().map(str::to_string));
            if let Some(code) = code {
                let documented = doc["components"]["schemas"]["Error"]["properties"]["error"]
                    ["properties"]["code"]["enum"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|c| c == code.as_str());
                assert!(documented, "{uri}: undocumented error code '{code}'");
            }
        }
    }
}

fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

async fn check_pages(f: &Fixture) {
    let home = anon(f, "/").await;
    assert_eq!(home.status, StatusCode::OK);
    let html = home.text();
    assert!(html.contains("1,848"), "home shows the event count");
    assert!(home.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .contains("default-src 'self'"));
    assert!(!html.contains("<script"), "pages work without JavaScript");
    assert!(home.body.len() < 100_000);

    let map = anon(f, "/map").await;
    let svg = map.text();
    assert_eq!(count(&svg, "data-code=\""), 17, "one shape per prefecture");
    assert!(
        map.body.len() < 100_000,
        "map page is {} bytes",
        map.body.len()
    );
    assert!(
        !svg.contains("http://")
            || count(&svg, "http://") == count(&svg, "http://www.w3.org/2000/svg")
    );

    // French by Accept-Language, and by the switch (which sets a cookie).
    let fr = send(
        &f.router,
        Request::get("/")
            .header(header::ACCEPT_LANGUAGE, "fr-FR,fr;q=0.9")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(fr.text().contains("lang=\"fr\""));
    assert!(
        fr.text().contains("1\u{a0}848"),
        "French thousands separator"
    );
    let sw = anon(f, "/map?lang=fr").await;
    assert!(sw
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|c| c.to_str().unwrap().starts_with("usalama_lang=fr")));

    // Record pages need a session.
    let r = anon(f, "/events").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .starts_with("/login?next="));

    // Log in: the form's CSRF token must match its cookie.
    let form = anon(f, "/login?next=/events").await;
    let csrf_cookie = form
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|c| c.to_str().unwrap().to_string())
        .find(|c| c.starts_with("usalama_csrf="))
        .unwrap();
    let csrf = csrf_cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("usalama_csrf=")
        .to_string();
    assert!(form.text().contains(&csrf));
    let post = |body: String, cookie: String| {
        Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, cookie)
            .body(Body::from(body))
            .unwrap()
    };
    let bad_csrf = send(
        &f.router,
        post(
            format!(
                "username=admin&password={}&csrf=forged&next=/events",
                f.password
            ),
            format!("usalama_csrf={csrf}"),
        ),
    )
    .await;
    assert_eq!(bad_csrf.status, StatusCode::FORBIDDEN);
    let bad_pw = send(
        &f.router,
        post(
            format!("username=admin&password=wrong-password&csrf={csrf}&next=/events"),
            format!("usalama_csrf={csrf}"),
        ),
    )
    .await;
    assert_eq!(bad_pw.status, StatusCode::UNAUTHORIZED);
    let ok = send(
        &f.router,
        post(
            format!(
                "username=admin&password={}&csrf={csrf}&next=/events",
                f.password
            ),
            format!("usalama_csrf={csrf}"),
        ),
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
    assert_eq!(ok.headers[header::LOCATION], "/events");
    let session = ok
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|c| c.to_str().unwrap().to_string())
        .find(|c| c.starts_with("usalama_session="))
        .unwrap();
    assert!(session.contains("HttpOnly") && session.contains("SameSite"));
    let cookie = session.split(';').next().unwrap().to_string();
    let with_session = |uri: &str| {
        Request::get(uri)
            .header(header::COOKIE, cookie.clone())
            .body(Body::empty())
            .unwrap()
    };
    let events = send(&f.router, with_session("/events")).await;
    assert_eq!(events.status, StatusCode::OK);
    let events_html = events.text();
    assert!(events_html.contains("1,848"), "events page shows the total");
    assert!(
        events.body.len() < 100_000,
        "events page is {} bytes",
        events.body.len()
    );
    let filtered = send(
        &f.router,
        with_session("/events?locality=CF43&from=&to=&q="),
    )
    .await;
    assert_eq!(filtered.status, StatusCode::OK);
    let bad = send(&f.router, with_session("/events?from=yesterday")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let href = events_html
        .split("href=\"/events/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let one = send(&f.router, with_session(&format!("/events/{href}"))).await;
    assert_eq!(one.status, StatusCode::OK);
    let missing = send(
        &f.router,
        with_session("/events/00000000-0000-0000-0000-000000000000"),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(anon(f, "/no-such-page").await.status, StatusCode::NOT_FOUND);

    // The body of a shared events page is written once and reused; the frame stays each
    // request's own (its log-out form carries that request's CSRF token), the language
    // is the request's, and a write shows at once.
    let again = send(&f.router, with_session("/events")).await;
    let csrf_of = |r: &Reply| {
        let c = r
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|c| c.to_str().unwrap().to_string())
            .find(|c| c.starts_with("usalama_csrf="))
            .expect("a CSRF cookie");
        c.split(';')
            .next()
            .unwrap()
            .trim_start_matches("usalama_csrf=")
            .to_string()
    };
    let (first, second) = (csrf_of(&events), csrf_of(&again));
    assert_ne!(first, second);
    for (r, csrf) in [(&events, &first), (&again, &second)] {
        assert!(
            r.text()
                .contains(&format!("name=\"csrf\" value=\"{csrf}\"")),
            "the log-out form carries this request's token"
        );
    }
    let body_of = |html: &str| html.split("<main").nth(1).unwrap().to_string();
    assert_eq!(body_of(&again.text()), body_of(&events_html));
    let fr = send(&f.router, with_session("/events?lang=fr")).await;
    assert!(fr.text().contains("lang=\"fr\""));
    assert!(fr.text().contains("1\u{a0}848"), "the French body");
    let report = serde_json::json!({
        "category": "violence_against_civilians",
        "occurred_start": "2023-11-12",
        "latitude": 4.3947,
        "longitude": 18.5582,
        "killed": 2,
        "description": "Attaque du marché"
    });
    let created = send(
        &f.router,
        Request::post("/api/v1/reports")
            .header(header::AUTHORIZATION, format!("Bearer {}", f.token))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(report.to_string()))
            .unwrap(),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let after = send(&f.router, with_session("/events")).await;
    assert!(after.text().contains("1,849"), "the new report is counted");
}

/// The demo's UCDP incidents written again as an ACLED file: the same places, days and
/// fatalities under another source, as happens when both datasets cover a country.
fn demo_as_acled() -> String {
    let doc: Value = serde_json::from_str(DEMO_EVENTS).unwrap();
    let mut csv = String::from(
        "event_id_cnty,event_date,event_type,sub_event_type,latitude,longitude,geo_precision,fatalities\n",
    );
    for (i, f) in doc["features"].as_array().unwrap().iter().enumerate() {
        let p = &f["properties"];
        let c = &f["geometry"]["coordinates"];
        let date = p["date_end"].as_str().unwrap().get(..10).unwrap();
        csv.push_str(&format!(
            "CEN{i},{date},Battles,Armed clash,{},{},1,{}\n",
            c[1], c[0], p["best"]
        ));
    }
    csv
}

#[test]
fn home_and_map_show_one_source_at_a_time_and_never_double_fatalities() {
    for s in stores() {
        let name = s.name;
        let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
        let app = App::new(s.store.clone(), taxonomy, Arc::new(FixedClock(t0())));
        app.prepare_demo(&DemoData {
            boundaries: DEMO_BOUNDARIES.to_vec(),
            ucdp_geojson: DEMO_EVENTS,
        })
        .unwrap();
        let acled = demo_as_acled();
        let r = app
            .import_acled_csv(
                &usalama_app::Principal::Operator,
                &mut acled.as_bytes(),
                None,
                &mut |_| {},
            )
            .unwrap();
        assert_eq!(r.imported, 1848, "{name}: {:?}", r.problems.first());
        let f = Fixture {
            router: router(AppState::new(app, WebConfig::default())),
            token: String::new(),
            password: String::new(),
            _store: s,
        };
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            // Both sources have 1,848 events and 14,948 deaths: the page shows one of them.
            let home = anon(&f, "/").await.text();
            assert!(home.contains("14,948 people killed"), "{name}");
            assert!(!home.contains("29,896"), "{name}: fatalities doubled");
            assert!(home.contains("1,848 events"));
            assert!(
                home.contains("name=\"source\""),
                "{name}: a visible selector"
            );
            assert!(home.contains("<option value=\"acled\""));
            assert!(home.contains("<option value=\"ucdp-ged\""));
            for source in ["ucdp-ged", "acled"] {
                let page = anon(&f, &format!("/?source={source}")).await.text();
                assert!(page.contains("14,948 people killed"), "{name} {source}");
                assert!(page.contains(&format!("<option value=\"{source}\" selected>")));
                let map = anon(&f, &format!("/map?source={source}")).await;
                assert_eq!(map.status, StatusCode::OK);
                let html = map.text();
                assert!(html.contains(&format!("<option value=\"{source}\" selected>")));
                // Event lists need a login: the public map does not link to them.
                assert!(!html.contains("/events?locality="), "{name}");
                assert!(!html.contains("29,896"));
            }
            let bad = anon(&f, "/?source=nope").await;
            assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{name}");
        });
    }
}
