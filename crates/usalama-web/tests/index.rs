//! The human-security index over HTTP on the demo data, on every backend: the public table
//! (worst first) and the explain route, whose contributions sum to the value, and the
//! `/index` pages.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;
use usalama_app::{App, DemoData, FixedClock};
use usalama_test_support::{stores, t0, DEMO_BOUNDARIES, DEMO_EVENTS};
use usalama_web::{router, AppState, WebConfig};

async fn get(r: &Router, uri: &str) -> (StatusCode, String) {
    let res = r
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[test]
fn index_api_and_pages_on_every_backend() {
    for s in stores() {
        let name = s.name;
        let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
        let app = App::new(s.store.clone(), taxonomy, Arc::new(FixedClock(t0())));
        app.prepare_demo(&DemoData {
            boundaries: DEMO_BOUNDARIES.to_vec(),
            ucdp_geojson: DEMO_EVENTS,
        })
        .unwrap();
        let token = app
            .create_token(usalama_domain::Role::Analyst, "index-test")
            .unwrap();
        let r = router(AppState::new(app, WebConfig::default()));
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            check_api(&r, name, token.expose()).await;
            check_pages(&r, name).await;
        });
        drop(rt);
        drop(s);
    }
}

async fn get_as(r: &Router, uri: &str, token: &str) -> (StatusCode, String) {
    let res = r
        .clone()
        .oneshot(
            Request::get(uri)
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn check_api(r: &Router, name: &str, token: &str) {
    // Public: no token.
    let (status, body) = get(r, "/api/v1/index?level=adm1&period=month&at=2022-06").await;
    assert_eq!(status, StatusCode::OK, "{name}: {body}");
    let t = json(&body);
    assert_eq!(t["source"], "ucdp-ged", "{name}");
    assert_eq!(t["period"], "2022-06", "{name}");
    let rows = t["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 17, "{name}");
    let values: Vec<f64> = rows.iter().filter_map(|r| r["value"].as_f64()).collect();
    assert!(
        values.windows(2).all(|w| w[0] >= w[1]),
        "{name}: worst first"
    );

    // Every province's explanation sums to its value, by code and by id.
    let mut withheld_seen = false;
    for (i, row) in rows.iter().enumerate() {
        let key = if i % 2 == 0 {
            row["locality"]["code"].as_str().unwrap()
        } else {
            row["locality"]["id"].as_str().unwrap()
        };
        let uri = format!("/api/v1/index/{key}/2022-06/explain");
        // Anonymous callers get the inputs only when no count among them is small.
        let (status, body) = get(r, &uri).await;
        assert_eq!(status, StatusCode::OK, "{name}: {body}");
        let anon = json(&body);
        let (status, body) = get_as(r, &uri, token).await;
        assert_eq!(status, StatusCode::OK, "{name}: {body}");
        let e = json(&body);
        assert_eq!(e["withheld"], false, "{name}");
        let small = e["inputs"].as_array().unwrap().iter().any(|i| {
            let m = i["measure"].as_str().unwrap_or("");
            let raw = i["raw"].as_f64().unwrap_or(0.0);
            !m.starts_with("indicator") && m != "civilian_share" && raw > 0.0 && raw < 5.0
        });
        withheld_seen |= small;
        // Small inputs are always withheld; a value may also be withheld as the complement
        // of a withheld public figure (then its row in the public table is too).
        if small {
            assert_eq!(anon["withheld"], true, "{name}: {key}");
        }
        assert_eq!(anon["withheld"], row["withheld"], "{name}: {key}");
        if anon["withheld"] == true {
            assert!(anon["value"].is_null() && row["value"].is_null(), "{name}");
            for i in anon["inputs"].as_array().unwrap() {
                assert!(i["raw"].is_null() && i["scaled"].is_null(), "{name}: {i}");
                assert_eq!(i["contribution"], 0.0, "{name}");
            }
        } else {
            assert_eq!(anon["value"], e["value"], "{name}");
            assert_eq!(anon["inputs"], e["inputs"], "{name}");
            assert_eq!(e["value"], row["value"], "{name}");
        }
        let Some(value) = e["value"].as_f64() else {
            continue;
        };
        let inputs: f64 = e["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["contribution"].as_f64().unwrap())
            .sum();
        let dims: f64 = e["dimensions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["contribution"].as_f64().unwrap())
            .sum();
        assert!((inputs - value).abs() < 1e-6, "{name}: {inputs} vs {value}");
        assert!((dims - value).abs() < 1e-6, "{name}: {dims} vs {value}");
        let first = &e["inputs"][0];
        for field in ["raw", "transform", "scaled", "weight", "contribution"] {
            assert!(first.get(field).is_some(), "{name}: {field} missing");
        }
    }
    assert!(
        withheld_seen,
        "{name}: no province with small counts in 2022-06"
    );

    // The period sets the granularity; the level must be the locality's.
    let code = rows[0]["locality"]["code"].as_str().unwrap();
    let (status, body) = get(r, &format!("/api/v1/index/{code}/2022-Q2/explain")).await;
    assert_eq!(status, StatusCode::OK, "{name}: {body}");
    let (status, _) = get(
        r,
        &format!("/api/v1/index/{code}/2022-Q2/explain?level=adm2"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{name}");
    let (status, _) = get(r, &format!("/api/v1/index/{code}/June/explain")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{name}");
    let (status, _) = get(r, "/api/v1/index?source=nope").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{name}");
    let (status, _) = get(r, "/api/v1/index?level=pgm").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{name}");
}

async fn check_pages(r: &Router, name: &str) {
    let (status, html) = get(r, "/index").await;
    assert_eq!(status, StatusCode::OK, "{name}: {html}");
    assert!(html.contains("<svg"), "{name}");
    assert!(html.contains("href=\"/index\""), "{name}: menu link");
    assert!(!html.contains("<script"), "{name}: no script");
    for view in ["lives", "livelihood", "dignity"] {
        assert!(html.contains(&format!("/index?view={view}")), "{name}");
    }
    assert!(html.matches("href=\"/index/").count() >= 17, "{name}");
    let (status, lives) = get(r, "/index?view=lives").await;
    assert_eq!(status, StatusCode::OK, "{name}");
    assert!(
        lives.contains("aria-current=\"page\" href=\"/index?view=lives\"")
            || lives.contains("href=\"/index?view=lives\" aria-current=\"page\""),
        "{name}"
    );
    let (_, fr) = get(r, "/index?lang=fr").await;
    assert!(fr.contains("Indice de sécurité humaine"), "{name}");

    let (_, api) = get(r, "/api/v1/index?level=adm1&period=month").await;
    let code = json(&api)["rows"][0]["locality"]["code"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, page) = get(r, &format!("/index/{code}")).await;
    assert_eq!(status, StatusCode::OK, "{name}: {page}");
    assert!(page.contains("<path d=\"M"), "{name}: trend line");
    assert!(page.contains("log1p"), "{name}: explanation table");
    let (status, _) = get(r, "/index/XX99").await;
    assert_ne!(status, StatusCode::OK, "{name}");
}
