//! The public dashboard and the withholding of small index cells, on the demo data and on
//! both backends.
//!
//! - `/dashboard` is public, under 100 KB, server-drawn (map, two trend charts), script-
//!   and style-free, fetches nothing from outside, has a dimension selector as links, and is
//!   linked from the menu and the home page, in English and French; its counts by
//!   dimension are the protected public figures.
//! - Two events are planted in a province with no event in the last month of the demo's
//!   source: analysts see that province's index value for the month; no public surface
//!   (index API table and explanation, `/index`, `/index/{code}`, `/dashboard`, the
//!   situation report, the public figures) reveals its value or count.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;
use usalama_app::analytics::panel::Level;
use usalama_app::analytics::period::Granularity;
use usalama_app::{App, DemoData, FixedClock, Principal};
use usalama_domain::{Dimension, LocalityPath, Role};
use usalama_store::PlacedEvent;
use usalama_test_support::{event, stores, t0, DEMO_BOUNDARIES, DEMO_EVENTS};
use usalama_web::{router, AppState, WebConfig};

async fn get(r: &Router, uri: &str, token: Option<&str>) -> (StatusCode, String) {
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
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn demo_app(s: &usalama_test_support::TestStore) -> (App, String) {
    let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
    let app = App::new(s.store.clone(), taxonomy, Arc::new(FixedClock(t0())));
    let demo = app
        .prepare_demo(&DemoData {
            boundaries: DEMO_BOUNDARIES.to_vec(),
            ucdp_geojson: DEMO_EVENTS,
        })
        .unwrap();
    (app, demo.token.expose().to_string())
}

#[test]
fn dashboard_is_public_small_and_self_contained() {
    for s in stores() {
        let name = s.name;
        let (app, _) = demo_app(&s);
        let r = router(AppState::new(app.clone(), WebConfig::default()));
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let (status, html) = get(&r, "/dashboard", None).await;
            assert_eq!(status, StatusCode::OK, "{name}: {html}");
            assert!(html.len() < 100 * 1024, "{name}: {} bytes", html.len());
            eprintln!("{name}: /dashboard is {} bytes", html.len());
            assert!(html.contains("name=\"viewport\""), "{name}");
            // The map and the two trend charts.
            assert_eq!(html.matches("<svg").count(), 3, "{name}");
            assert!(html.contains("class=\"area\""), "{name}");
            for bad in [
                "<script",
                "<style",
                "style=",
                "src=",
                "href=\"http",
                "@import",
            ] {
                assert!(!html.contains(bad), "{name}: {bad}");
            }
            for view in ["lives", "livelihood", "dignity"] {
                assert!(html.contains(&format!("/dashboard?view={view}")), "{name}");
            }
            // Menu and home link to it.
            assert!(
                html.contains("<a href=\"/dashboard\" aria-current=\"page\">Dashboard</a>"),
                "{name}"
            );
            let (_, home) = get(&r, "/", None).await;
            assert!(home.contains("href=\"/dashboard\""), "{name}");
            // Counts by dimension are the protected public figures of the last month.
            let f = tokio::task::block_in_place(|| app.public_figures(None)).unwrap();
            let last = f.cube.months.last().unwrap();
            for (d, label) in ["Lives", "Livelihood", "Dignity"].iter().enumerate() {
                let cell = match last.by_dimension[d].events {
                    Some(n) => format!("<th scope=\"row\">{label}</th><td class=\"n\">{n}</td>"),
                    None => format!("<th scope=\"row\">{label}</th><td class=\"n\">withheld</td>"),
                };
                assert!(html.contains(&cell), "{name}: {cell}");
            }
            // The demo's alerts are listed, at most ten, with links to their pages.
            let alerts = tokio::task::block_in_place(|| app.public_alerts_latest(10)).unwrap();
            assert!(!alerts.is_empty(), "{name}: the demo raises alerts");
            for a in &alerts {
                assert!(html.contains(&format!("/alerts/{}", a.id)), "{name}");
            }
            // Situation reports of the last months.
            let month = f.months.last().unwrap();
            assert!(
                html.contains(&format!("href=\"/reports/sitrep/{month}\"")),
                "{name}"
            );
            // A dimension view and French.
            let (status, lives) = get(&r, "/dashboard?view=lives", None).await;
            assert_eq!(status, StatusCode::OK, "{name}");
            assert!(
                lives.contains("href=\"/dashboard?view=lives\" aria-current=\"page\""),
                "{name}"
            );
            let (_, fr) = get(&r, "/dashboard?lang=fr", None).await;
            assert!(fr.contains("Tableau de bord public"), "{name}");
            assert!(fr.contains("Dernières alertes"), "{name}");
        });
        drop(rt);
        drop(s);
    }
}

#[test]
fn a_small_cell_index_is_withheld_on_every_public_surface() {
    for s in stores() {
        let name = s.name;
        let (app, token) = demo_app(&s);
        let before = app.public_figures(None).unwrap();
        let source = before.source.clone().unwrap();
        let m = before.months.len() - 1;
        let month = before.months[m];
        // A province with no event in the last month.
        let (a, area) = before
            .areas
            .iter()
            .enumerate()
            .find(|(i, _)| before.cube.months[m].by_area[*i].events == Some(0))
            .expect("a province without events in the last month");
        let area = area.locality.clone();
        let (lon, lat) = area.centroid.unwrap();
        let placed: Vec<PlacedEvent> = (0..2)
            .map(|i| {
                let mut d = event(
                    900_000 + i,
                    &month.last_day().to_string(),
                    "armed_violence",
                    Dimension::Lives,
                );
                d.source = source.clone();
                d.external_id = Some(format!("planted-{i}"));
                d.point = Some(usalama_domain::GeoPoint::new(lat, lon).unwrap());
                d.locality = Some(area.id);
                d.casualties.killed_best = Some(3);
                PlacedEvent {
                    event: d.validate(app.taxonomy()).unwrap(),
                    path: LocalityPath([area.parent, Some(area.id), None, None]),
                }
            })
            .collect();
        app.store().upsert_events(&placed, t0()).unwrap();
        // Placed again by point (the province's representative point); drops the caches.
        app.replace_all_events().unwrap();

        // Analysts see the value: the planted events count.
        let analyst = Principal::Token {
            label: "a".into(),
            role: Role::Analyst,
            org: usalama_domain::DEFAULT_ORG,
        };
        let t = app
            .index_table(&analyst, Level::Adm1, Granularity::Month, Some(month), None)
            .unwrap();
        let row = t.rows.iter().find(|r| r.locality.id == area.id).unwrap();
        let value = row.value.expect("analysts see the value");
        assert!(value > 0.0 && !row.withheld, "{name}: {value}");
        let x = app
            .index_explain(&analyst, area.code.as_str(), month, None)
            .unwrap();
        let raw = x
            .explanation
            .inputs
            .iter()
            .find(|i| i.code == "lives_events")
            .and_then(|i| i.raw);
        assert_eq!(raw, Some(2.0), "{name}");

        // Anonymous callers see neither the value nor the count.
        let after = app.public_figures(None).unwrap();
        assert_eq!(after.cube.months[m].by_area[a].events, None, "{name}");
        let t = app
            .index_table(
                &Principal::Anonymous,
                Level::Adm1,
                Granularity::Month,
                Some(month),
                None,
            )
            .unwrap();
        let row = t.rows.iter().find(|r| r.locality.id == area.id).unwrap();
        assert!(row.withheld && row.value.is_none(), "{name}");
        assert!(row.scores.iter().all(Option::is_none), "{name}");
        let series = app
            .index_series(
                &Principal::Anonymous,
                area.code.as_str(),
                Granularity::Month,
                None,
            )
            .unwrap();
        let p = series.points.iter().find(|p| p.period == month).unwrap();
        assert!(p.withheld && p.value.is_none(), "{name}");
        // A month never has a single withheld province (its complement is withheld too),
        // unless no other province had an event (then the public tables' complement is
        // the events not placed in a province).
        for (i, p) in after.months.iter().enumerate().rev().take(24) {
            let t = app
                .index_table(
                    &Principal::Anonymous,
                    Level::Adm1,
                    Granularity::Month,
                    Some(*p),
                    None,
                )
                .unwrap();
            let withheld: Vec<_> = t.rows.iter().filter(|r| r.withheld).collect();
            if withheld.len() == 1 {
                let others_empty = after.areas.iter().enumerate().all(|(a, area)| {
                    area.locality.id == withheld[0].locality.id
                        || after.cube.months[i].by_area[a].events == Some(0)
                });
                assert!(others_empty, "{name}: {p}: a single withheld province");
            }
        }
        // Reporters are not readers of records: they see what the public sees.
        let reporter = Principal::Token {
            label: "r".into(),
            role: Role::Reporter,
            org: usalama_domain::DEFAULT_ORG,
        };
        let x = app
            .index_explain(&reporter, area.code.as_str(), month, None)
            .unwrap();
        assert!(x.withheld && x.explanation.value.is_none(), "{name}");
        // Weeks, quarters and areas finer than the public level are withheld too.
        let q = app
            .index_table(
                &Principal::Anonymous,
                Level::Adm1,
                Granularity::Quarter,
                None,
                None,
            )
            .unwrap();
        assert!(
            q.rows.iter().all(|r| r.withheld && r.value.is_none()),
            "{name}"
        );
        let adm2 = app
            .index_table(
                &Principal::Anonymous,
                Level::Adm2,
                Granularity::Month,
                None,
                None,
            )
            .unwrap();
        assert!(adm2.rows.iter().all(|r| r.value.is_none()), "{name}");

        let r = router(AppState::new(app.clone(), WebConfig::default()));
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let shown = format!("{value}");
            // SVG titles escape apostrophes ("Ombella M&#39;Poko").
            let svg_name = area.name.replace('\'', "&#39;");
            let code = area.code.to_string();
            // The API table and explanation.
            let (status, body) = get(&r, &format!("/api/v1/index?at={month}"), None).await;
            assert_eq!(status, StatusCode::OK, "{name}");
            let t: Value = serde_json::from_str(&body).unwrap();
            let row = t["rows"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["locality"]["code"] == code.as_str())
                .unwrap();
            assert_eq!(row["withheld"], true, "{name}");
            assert!(row["value"].is_null() && row["lives"].is_null(), "{name}");
            assert!(!body.contains(&shown), "{name}");
            let (_, body) = get(&r, &format!("/api/v1/index?at={month}"), Some(&token)).await;
            assert!(body.contains(&shown), "{name}: analysts get the value");
            let uri = format!("/api/v1/index/{code}/{month}/explain");
            let (status, body) = get(&r, &uri, None).await;
            assert_eq!(status, StatusCode::OK, "{name}");
            let x: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(x["withheld"], true, "{name}");
            assert!(x["value"].is_null(), "{name}");
            for i in x["inputs"].as_array().unwrap() {
                assert!(i["raw"].is_null() && i["scaled"].is_null(), "{name}: {i}");
            }
            for d in x["dimensions"].as_array().unwrap() {
                assert!(d["score"].is_null(), "{name}: {d}");
            }
            // The pages: no value shown; the province is marked as withheld.
            let two = format!("{:.2}", value);
            for page in [
                "/index".to_string(),
                "/index?view=lives".to_string(),
                format!("/index/{code}"),
                "/dashboard".to_string(),
                "/dashboard?view=lives".to_string(),
            ] {
                let (status, html) = get(&r, &page, None).await;
                assert_eq!(status, StatusCode::OK, "{name}: {page}");
                assert!(html.contains("too few reports to show"), "{name}: {page}");
                if page.starts_with("/index/") {
                    assert!(!html.contains(&format!(": {two}")), "{name}: {page}");
                } else {
                    // The map names the province as withheld and colours it as nothing.
                    let title = format!("{} (too few reports to show): 0", svg_name);
                    let titles: Vec<&str> = html
                        .split("<title>")
                        .skip(1)
                        .map(|t| t.split('<').next().unwrap_or(""))
                        .collect();
                    assert!(
                        html.contains(&title),
                        "{name}: {page}: {title} not in {titles:?}"
                    );
                }
            }
            // The situation report of the month withholds the province's count.
            let (_, sitrep) = get(&r, &format!("/reports/sitrep/{month}"), None).await;
            assert!(
                sitrep.contains(&format!("{svg_name} (withheld): 0")),
                "{name}: the sitrep map"
            );
            assert!(
                !sitrep.contains(&format!("{} ({code}): 2 events", area.name)),
                "{name}"
            );
        });
        drop(rt);
        drop(s);
    }
}
