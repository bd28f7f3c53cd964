//! The human-security index pages: `GET /index` (ADM1 choropleth of the latest month with
//! data, per dimension or overall, and the table) and `GET /index/{code}` (the monthly
//! trend and the explanation of the latest month). Public: aggregates only.

use super::PageReq;
use crate::api::params::form_pairs;
use crate::api::run;
use crate::state::AppState;
use crate::ui::index::{
    self, ForecastView, IndexLocalityView, IndexPageView, IndexRowView, InputView, VIEWS,
};
use crate::ui::svg_map::{choropleth_lang, MapArea};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use std::collections::HashMap;
use usalama_app::analytics::panel::Level;
use usalama_app::analytics::period::Granularity;
use usalama_app::Principal;

pub(super) async fn page(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    req: PageReq,
) -> Response {
    let view = form_pairs(raw.as_deref().unwrap_or(""))
        .into_iter()
        .find(|(k, _)| k == "view")
        .map(|(_, v)| v)
        .filter(|v| VIEWS.contains(&v.as_str()))
        .unwrap_or_else(|| VIEWS[0].to_string());
    let got = run(&state, |app| {
        let t = app.index_table(
            &Principal::Anonymous,
            Level::Adm1,
            Granularity::Month,
            None,
            None,
        )?;
        let stats = app.public_stats_for(t.source.as_deref())?;
        Ok((t, stats))
    })
    .await;
    let (table, stats) = match got {
        Ok(x) => x,
        Err(e) => return req.error(&state, e),
    };
    let col = VIEWS.iter().position(|x| *x == view).unwrap_or(0);
    let rows: Vec<IndexRowView> = table
        .rows
        .iter()
        .map(|r| IndexRowView {
            code: r.locality.code.to_string(),
            name: r.locality.name.clone(),
            values: [r.value, r.scores[0], r.scores[1], r.scores[2]],
            withheld: r.withheld,
        })
        .collect();
    let withheld_label = state.catalog.t(req.lang, "public-withheld-index");
    let by_code: HashMap<&str, &IndexRowView> = rows.iter().map(|r| (r.code.as_str(), r)).collect();
    let areas: Vec<MapArea> = stats
        .adm1
        .iter()
        .filter_map(|c| {
            let code = c.locality.code.to_string();
            let row = by_code.get(code.as_str());
            let v = row.and_then(|r| r.values[col]);
            Some(MapArea {
                href: Some(format!("/index/{code}")),
                code,
                name: if row.is_some_and(|r| r.withheld) {
                    format!("{} ({withheld_label})", c.locality.name)
                } else {
                    c.locality.name.clone()
                },
                geometry: c.geometry.clone()?,
                // The map takes whole numbers: tenths of an index point.
                value: v.map_or(0, |v| (v * 10.0).round().max(0.0) as u64),
            })
        })
        .collect();
    let title = state.catalog.t(req.lang, "index-title");
    let legend = state.catalog.t(req.lang, "index-legend");
    let svg = choropleth_lang(req.lang, &areas, &title, &legend, 640);
    let v = IndexPageView {
        source: table.source.clone().unwrap_or_default(),
        period: table.period.map(|p| p.to_string()).unwrap_or_default(),
        view,
        svg,
        rows,
        k: state.app.privacy().k,
    };
    req.send(&state, StatusCode::OK, |ctx| index::index_page(ctx, &v))
}

pub(super) async fn locality(
    State(state): State<AppState>,
    Path(code): Path<String>,
    req: PageReq,
) -> Response {
    let reader = req.who.clone();
    let got = run(&state, move |app| {
        let who = Principal::Anonymous;
        let series = app.index_series(&who, &code, Granularity::Month, None)?;
        let last = series.points.last().map(|p| p.period);
        let explain = match last {
            Some(p) => Some(app.index_explain(&who, &code, p, None)?),
            None => None,
        };
        // A locality without a forecast (too little history, or a level finer than the
        // public one for a caller who may not read events) still has its page.
        let forecasts = app
            .forecasts(&reader, series.locality.level.into(), None)
            .ok()
            .and_then(|t| {
                t.rows
                    .iter()
                    .find(|r| {
                        r.locality
                            .as_ref()
                            .is_some_and(|l| l.id == series.locality.id)
                    })
                    .map(|r| r.horizons.clone())
            })
            .unwrap_or_default();
        Ok((series, explain, forecasts))
    })
    .await;
    let (series, explain, forecasts) = match got {
        Ok(x) => x,
        Err(e) => return req.error(&state, e),
    };
    let points: Vec<(String, Option<f64>)> = series
        .points
        .iter()
        .map(|p| (p.period.to_string(), p.value))
        .collect();
    let title = state.catalog.t(req.lang, "index-trend-title");
    let v = IndexLocalityView {
        code: series.locality.code.to_string(),
        name: series.locality.name.clone(),
        source: series.source.clone().unwrap_or_default(),
        period: explain
            .as_ref()
            .map(|e| e.explanation.period.to_string())
            .unwrap_or_default(),
        value: explain.as_ref().and_then(|e| e.explanation.value),
        withheld: explain.as_ref().is_some_and(|e| e.withheld)
            || series.points.iter().any(|p| p.withheld),
        k: state.app.privacy().k,
        svg: index::line_chart(&points, &title, 640, 220),
        inputs: explain
            .as_ref()
            .map(|e| {
                e.explanation
                    .inputs
                    .iter()
                    .map(|i| InputView {
                        label: i.label.clone(),
                        dimension: i.dimension.as_str().to_string(),
                        raw: i.raw,
                        transform: i.transform.as_str().to_string(),
                        scaled: i.scaled,
                        weight: i.weight_share,
                        contribution: i.contribution,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        forecasts: forecasts
            .iter()
            .map(|h| ForecastView {
                period: h.period.to_string(),
                p_fatal: h.prediction.probability,
                fatalities: h.prediction.fatalities(),
            })
            .collect(),
    };
    req.send(&state, StatusCode::OK, |ctx| {
        index::index_locality_page(ctx, &v)
    })
}
