//! Forecasts over HTTP on the demo data, on every backend: `GET /api/v1/forecasts` at the
//! province level and on the grid (finer levels only for readers), refusals, and the
//! forecast table on `/index/{code}`.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;
use usalama_app::{App, DemoData, FixedClock};
use usalama_domain::Role;
use usalama_test_support::{stores, t0, DEMO_BOUNDARIES, DEMO_EVENTS};
use usalama_web::{router, AppState, WebConfig};

async fn get(r: &Router, uri: &str) -> (StatusCode, String) {
    get_as(r, uri, None).await
}

async fn get_as(r: &Router, uri: &str, token: Option<&str>) -> (StatusCode, String) {
    let mut req = Request::get(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let res = r
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[test]
fn forecasts_api_and_page_on_every_backend() {
    for s in stores() {
        let name = s.name;
        let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
        let app = App::new(s.store.clone(), taxonomy, Arc::new(FixedClock(t0())));
        app.prepare_demo(&DemoData {
            boundaries: DEMO_BOUNDARIES.to_vec(),
            ucdp_geojson: DEMO_EVENTS,
        })
        .unwrap();
        // The alert rules' entry point agrees with the table.
        let p = app.forecast_probability("CF62", 1, None).unwrap().unwrap();
        assert!((0.0..=1.0).contains(&p), "{name}: {p}");
        assert!(app.forecast_probability("CF62", 4, None).is_err());
        let analyst = app.create_token(Role::Analyst, "analyst").unwrap();
        let reporter = app.create_token(Role::Reporter, "reporter").unwrap();
        let r = router(AppState::new(app, WebConfig::default()));
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let (status, body) = get(&r, "/api/v1/forecasts?level=adm1").await;
            assert_eq!(status, StatusCode::OK, "{name}: {body}");
            let t: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(t["source"], "ucdp-ged");
            assert_eq!(t["last"], "2022-12");
            let rows = t["rows"].as_array().unwrap();
            assert_eq!(rows.len(), 17, "{name}");
            let p1: Vec<f64> = rows
                .iter()
                .map(|r| r["horizons"][0]["p_fatal"].as_f64().unwrap())
                .collect();
            assert!(p1.windows(2).all(|w| w[0] >= w[1]), "{name}: {p1:?}");
            for row in rows {
                let hs = row["horizons"].as_array().unwrap();
                assert_eq!(hs.len(), 3);
                assert_eq!(hs[0]["period"], "2023-01");
                assert_eq!(hs[2]["period"], "2023-03");
                for h in hs {
                    let p = h["p_fatal"].as_f64().unwrap();
                    assert!((0.0..=1.0).contains(&p));
                    assert!(h["fatalities"].as_f64().unwrap() >= 0.0);
                }
                assert!(row.get("people").is_none());
            }
            let cf61 = rows.iter().find(|r| r["code"] == "CF62").unwrap();
            assert!((cf61["horizons"][0]["p_fatal"].as_f64().unwrap() - p).abs() < 1e-12);

            // Finer than the public level (ADM1): only for callers who may read events.
            for level in ["adm2", "pgm"] {
                let uri = format!("/api/v1/forecasts?level={level}");
                let (status, body) = get(&r, &uri).await;
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{name} {level}: {body}");
                assert!(!body.contains("p_fatal"), "{name} {level}");
                let (status, _) = get_as(&r, &uri, Some(reporter.expose())).await;
                assert_eq!(status, StatusCode::FORBIDDEN, "{name} {level}");
            }
            let (status, body) =
                get_as(&r, "/api/v1/forecasts?level=pgm", Some(analyst.expose())).await;
            assert_eq!(status, StatusCode::OK, "{name}: {body}");
            let t: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(t["level"], "pgm");
            let cells = t["rows"].as_array().unwrap();
            assert!(cells.len() > 17, "{name}: {}", cells.len());
            assert!(cells[0]["priogrid_gid"].as_i64().is_some());

            let (status, _) = get(&r, "/api/v1/forecasts?level=adm0").await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
            let (status, _) = get(&r, "/api/v1/forecasts?level=nowhere").await;
            assert_eq!(status, StatusCode::BAD_REQUEST);

            let (status, page) = get(&r, "/index/CF62").await;
            assert_eq!(status, StatusCode::OK, "{name}");
            assert!(
                page.contains("2023-01") && page.contains("2023-03"),
                "{name}"
            );
        });
        drop(rt);
        drop(s);
    }
}
