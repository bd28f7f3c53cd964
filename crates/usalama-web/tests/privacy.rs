//! Privacy of public outputs: records with unique names, phone numbers, a rare category
//! (three events in one province and month) and a sexual-violence report are planted on top
//! of the demo, then every route of the API (from `ROUTES`, the list the OpenAPI document
//! is checked against) and every page is called anonymously. Nothing personal may come
//! back; record-level routes must refuse; routes that answer must be known public routes;
//! public figures are never small and no withheld figure follows from the published ones;
//! time-window parameters cannot be used to difference public figures. The planted
//! sexual-violence report raises a real alert (the default rule `grave_violations`), whose
//! id fills the alert routes: every route must answer an anonymous caller exactly as the
//! authorization matrix says (200 when allowed; 401, or a redirect to the log-in page,
//! when not; the alert routes need a reader of records), and no public answer may show
//! the alert, which names a single event.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;
use usalama_app::analytics::disclose::determined;
use usalama_app::{App, DemoData, FixedClock};
use usalama_test_support::{stores, t0, DEMO_BOUNDARIES, DEMO_EVENTS};
use usalama_web::{router, AppState, WebConfig};

const NAME: &str = "Zebulon Quixmarrow";
const PHONE: &str = "+236 7041 9987";
const WORDS: &str = "plantedsecretword";

/// Routes an anonymous visitor may read, as listed in `usalama_web::api::ROUTES` and the
/// page router. A new route that answers anonymously fails the test until it is listed
/// here (and so looked at).
const PUBLIC_API: &[&str] = &[
    "/api/v1/health",
    "/api/v1/openapi.json",
    "/api/v1/index",
    "/api/v1/index/{locality}/{period}/explain",
    // Model outputs per area (probabilities, expected deaths): no counts, no records.
    "/api/v1/forecasts",
    // The gazetteer of the report form: names of administrative areas (boundaries only).
    "/api/v1/places",
];

/// Status, body and the `Location` header of a GET.
async fn get_with_location(
    r: &Router,
    uri: &str,
    token: Option<&str>,
) -> (StatusCode, String, String) {
    let mut req = Request::get(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let res = r
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let location = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        String::from_utf8_lossy(&body).into_owned(),
        location,
    )
}

async fn get(r: &Router, uri: &str, token: Option<&str>) -> (StatusCode, String) {
    let (status, body, _) = get_with_location(r, uri, token).await;
    (status, body)
}

async fn post(r: &Router, uri: &str, token: &str, body: &Value) -> (StatusCode, Value) {
    let req = Request::post(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let res = r.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// A route with its parameters filled: alert routes with the alert's id, other `{id}`s
/// with an event's.
fn fill(path: &str, event: &str, alert: &str) -> String {
    let id = if path.starts_with("/api/v1/alerts/") || path.starts_with("/alerts/") {
        alert
    } else {
        event
    };
    path.replace("{id}", id)
        .replace("{locality}", "CF43")
        .replace("{period}", "2022-06")
        .replace("{code}", "CF43")
}

/// Whether the authorization matrix (`tests/data/authz_matrix.csv`) lets an anonymous
/// caller GET `path` (the CAP form of an alert is served by the alert's route).
fn anonymous_may_get(path: &str) -> bool {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/authz_matrix.csv");
    let text = std::fs::read_to_string(file).unwrap();
    let path = path.replace("{id}.cap.xml", "{id}");
    let path = if path == "/reports/sitrep/{period}" {
        "/reports/sitrep/{month}".to_string()
    } else {
        path
    };
    text.lines()
        .find_map(|l| {
            let mut cells = l.split(',');
            (cells.next() == Some("get") && cells.next() == Some(path.as_str()))
                .then(|| cells.next() == Some("allow"))
        })
        .unwrap_or_else(|| panic!("{path} is not in the authorization matrix"))
}

#[test]
fn planted_records_cannot_be_recovered_through_public_routes() {
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
        let token = demo.token.expose().to_string();
        let state = AppState::new(app.clone(), WebConfig::default());
        let r = router(state);
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            // Three torture reports in one province and month, one sexual-violence report
            // in the demo's last month (within the event rules' window: it raises an alert).
            let mut planted = Vec::new();
            for (i, (cat, day)) in [
                ("torture", "2022-06-10"),
                ("torture", "2022-06-11"),
                ("torture", "2022-06-12"),
                ("sexual_violence", "2022-12-15"),
            ]
            .into_iter()
            .enumerate()
            {
                let body = json!({
                    "category": cat,
                    "occurred_start": day,
                    "place_code": "CF43",
                    "killed": 1,
                    "description": format!("{WORDS} {i}"),
                    "people": [{"name": NAME, "age": 30, "sex": "female", "role": "victim"}],
                    "reporter_contact": PHONE,
                });
                let (status, created) = post(&r, "/api/v1/reports", &token, &body).await;
                assert_eq!(status, StatusCode::CREATED, "{name}");
                planted.push(created["id"].as_str().unwrap().to_string());
            }
            // The sexual-violence report raised a real alert (rule `grave_violations`),
            // about Ouaka in December 2022, with the report as its evidence.
            let alerts = tokio::task::block_in_place(|| {
                app.list_alerts(
                    &usalama_app::Principal::Operator,
                    &usalama_app::AlertFilter {
                        rule: Some("grave_violations".into()),
                        locality: Some("CF43".into()),
                        ..Default::default()
                    },
                )
            })
            .unwrap();
            let alert = alerts
                .iter()
                .find(|a| {
                    a.evidence
                        .events
                        .iter()
                        .any(|e| e.to_string() == planted[3])
                })
                .unwrap_or_else(|| panic!("{name}: no alert names the planted report: {alerts:?}"));
            assert_eq!(alert.period, "2022-12", "{name}");
            let alert = alert.id.to_string();
            let sources: Vec<String> = tokio::task::block_in_place(|| app.public_stats())
                .unwrap()
                .sources
                .iter()
                .map(|s| s.source.clone())
                .collect();
            assert!(sources.len() >= 2, "{name}: {sources:?}");
            let (_, list) = get(&r, "/api/v1/events?limit=1", Some(&token)).await;
            let event: Value = serde_json::from_str(&list).unwrap();
            let event = event["items"][0]["id"].as_str().unwrap().to_string();

            // Pages, with whether the matrix lets an anonymous visitor see them.
            let mut pages: Vec<(String, bool)> = usalama_web::PAGE_ROUTES
                .iter()
                .map(|p| (fill(p, &event, &alert), anonymous_may_get(p)))
                .collect();
            let mut api: Vec<(String, bool)> = Vec::new();
            for (method, path) in usalama_web::api::ROUTES {
                if *method == "get" {
                    let public = PUBLIC_API.contains(path);
                    assert_eq!(
                        public,
                        anonymous_may_get(path),
                        "{path}: PUBLIC_API and the authorization matrix disagree"
                    );
                    api.push((fill(path, &event, &alert), public));
                }
            }
            for src in &sources {
                pages.push((format!("/?source={src}"), true));
                pages.push((format!("/map?source={src}"), true));
                pages.push((format!("/index?source={src}"), true));
                pages.push((format!("/reports/sitrep/2022-06?source={src}"), true));
                api.push((format!("/api/v1/index?source={src}"), true));
                api.push((
                    format!("/api/v1/index/CF43/2022-06/explain?source={src}"),
                    true,
                ));
            }
            let check_body = |uri: &str, body: &str| {
                for secret in [NAME, PHONE, WORDS, "Quixmarrow", "7041"] {
                    assert!(!body.contains(secret), "{name}: {uri} shows {secret}");
                }
            };
            for (uri, public) in &api {
                let (status, body) = get(&r, uri, None).await;
                check_body(uri, &body);
                let expected = if *public {
                    StatusCode::OK
                } else {
                    StatusCode::UNAUTHORIZED
                };
                assert_eq!(
                    status, expected,
                    "{name}: {uri} answers {status} to an anonymous caller (a new public \
                     route must be listed in PUBLIC_API after checking what it shows): {body}"
                );
                if uri.starts_with("/api/v1/alerts") {
                    assert!(
                        !body.contains(&alert),
                        "{name}: {uri} shows the alert to the public"
                    );
                }
            }
            for (uri, public) in &pages {
                let (status, body, location) = get_with_location(&r, uri, None).await;
                check_body(uri, &body);
                if *public {
                    assert_eq!(status, StatusCode::OK, "{name}: {uri}");
                } else {
                    assert!(
                        status.is_redirection() && location.starts_with("/login"),
                        "{name}: {uri} needs a login, answers {status} {location}"
                    );
                }
                if uri.starts_with("/alerts") {
                    assert!(
                        !body.contains(&alert),
                        "{name}: {uri} shows the alert to the public"
                    );
                }
            }

            // Time windows cannot be used to difference public figures: public routes
            // either refuse them or ignore them.
            for uri in ["/", "/map", "/index", "/api/v1/index"] {
                let (_, plain) = get(&r, uri, None).await;
                let (status, windowed) =
                    get(&r, &format!("{uri}?from=2022-06-01&to=2022-06-11"), None).await;
                // Pages link back to themselves with the query: compare their content.
                let main = |b: &str| {
                    let b = b
                        .replace("from=2022-06-01&amp;to=2022-06-11", "")
                        .replace("from=2022-06-01&to=2022-06-11", "");
                    match (b.find("<main"), b.find("</main>")) {
                        (Some(i), Some(j)) => b[i..j].to_string(),
                        _ => b,
                    }
                };
                assert!(
                    status == StatusCode::BAD_REQUEST || main(&windowed) == main(&plain),
                    "{name}: {uri} reacts to a time window"
                );
            }

            // The public figures of every source: nothing small is published, and no
            // withheld figure can be derived from the published ones and their totals.
            for src in &sources {
                let f = tokio::task::block_in_place(|| app.public_figures(Some(src))).unwrap();
                let (cells, lines) = f.cube.published();
                for v in cells.iter().flatten() {
                    assert!(*v == 0 || *v >= 5, "{name}: {src} publishes {v}");
                }
                let hidden: Vec<bool> = cells.iter().map(Option::is_none).collect();
                assert!(
                    determined(&hidden, hidden.len(), &lines).is_empty(),
                    "{name}: {src}: a withheld figure follows from the published ones"
                );
            }
            // The planted source has only four events: all of its figures are withheld.
            let planted = sources.iter().find(|s| s.as_str() != "ucdp-ged").unwrap();
            let f = tokio::task::block_in_place(|| app.public_figures(Some(planted))).unwrap();
            assert_eq!(f.cube.total.events, None, "{name}");
            let (_, home) = get(&r, &format!("/?source={planted}"), None).await;
            assert!(home.contains("withheld"), "{name}");
            assert!(
                !home.contains("4 events") && !home.contains("3 events"),
                "{name}"
            );
            // Logged-in analysts still see the records.
            let (status, body) = get(&r, "/api/v1/events?category=torture", Some(&token)).await;
            assert_eq!(status, StatusCode::OK);
            assert!(
                body.contains(WORDS),
                "{name}: the planted records are stored"
            );
        });
        drop(rt);
        drop(s);
    }
}
