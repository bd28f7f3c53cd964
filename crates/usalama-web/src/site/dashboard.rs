//! `GET /dashboard[?view=lives][&source=S]`: the public dashboard. The index map comes
//! from the index as anonymous callers see it (small cells withheld); every count comes
//! from the protected public figures; alerts from their public summary (area at the public
//! level, no free text).

use super::{source_param, urlencode, PageReq};
use crate::api::params::form_pairs;
use crate::api::run;
use crate::state::AppState;
use crate::ui::dashboard::{self, AlertSummaryView, DashboardView, DimensionCountsView};
use crate::ui::index::VIEWS;
use crate::ui::svg_map::{choropleth_lang, stacked_bar_chart, MapArea};
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use std::collections::HashMap;
use usalama_app::analytics::panel::Level;
use usalama_app::analytics::period::Granularity;
use usalama_app::{Principal, PublicAlert};

/// Months in the trend charts.
const TREND_MONTHS: usize = 24;

/// Alerts listed.
const LATEST_ALERTS: usize = 10;

/// Situation reports linked.
const SITREPS: usize = 6;

fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// The rows of a public alert table.
pub(crate) fn alert_views(alerts: &[PublicAlert]) -> Vec<AlertSummaryView> {
    alerts
        .iter()
        .map(|a| AlertSummaryView {
            id: a.id.to_string(),
            severity: a.severity.as_str().to_string(),
            area: a
                .area
                .as_ref()
                .map(|l| format!("{} ({})", l.name, l.code))
                .unwrap_or_default(),
            rule_kind: a.rule_kind.clone(),
            period: a.period.clone(),
            status: a.status.as_str().to_string(),
            raised: when(a.raised_at),
            follow_up: [a.acknowledged_at, a.responded_at, a.closed_at]
                .map(|t| t.map(when).unwrap_or_default()),
        })
        .collect()
}

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
    let source = source_param(raw.as_deref());
    let got = run(&state, move |app| {
        let figures = app.public_figures(source.as_deref())?;
        let table = app.index_table(
            &Principal::Anonymous,
            Level::Adm1,
            Granularity::Month,
            None,
            figures.source.as_deref(),
        )?;
        let stats = app.public_stats_for(figures.source.as_deref())?;
        let alerts = app.public_alerts_latest(LATEST_ALERTS)?;
        Ok((figures, table, stats, alerts))
    })
    .await;
    let (figures, table, stats, alerts) = match got {
        Ok(x) => x,
        Err(e) => return req.error(&state, e),
    };
    let t = |key: &str| state.catalog.t(req.lang, key);
    let col = VIEWS.iter().position(|x| *x == view).unwrap_or(0);
    let by_code: HashMap<String, &usalama_app::IndexRow> = table
        .rows
        .iter()
        .map(|r| (r.locality.code.to_string(), r))
        .collect();
    let withheld_label = t("public-withheld-index");
    let areas: Vec<MapArea> = stats
        .adm1
        .iter()
        .filter_map(|c| {
            let code = c.locality.code.to_string();
            let row = by_code.get(&code);
            let v = row.and_then(|r| if col == 0 { r.value } else { r.scores[col - 1] });
            let withheld = row.is_some_and(|r| r.withheld);
            Some(MapArea {
                href: Some(format!("/index/{code}")),
                name: if withheld {
                    format!("{} ({withheld_label})", c.locality.name)
                } else {
                    c.locality.name.clone()
                },
                code,
                geometry: c.geometry.clone()?,
                // The map takes whole numbers: tenths of an index point.
                value: v.map_or(0, |v| (v * 10.0).round().max(0.0) as u64),
            })
        })
        .collect();
    let map_svg = choropleth_lang(req.lang, &areas, &t("index-title"), &t("index-legend"), 640);
    let dims = ["lives", "livelihood", "dignity"];
    let dim_labels: Vec<String> = dims
        .iter()
        .map(|d| state.catalog.label(req.lang, "dim", d))
        .collect();
    let n = figures.months.len();
    let first = n.saturating_sub(TREND_MONTHS);
    let trend = |events: bool| -> Vec<(String, Vec<u64>)> {
        (first..n)
            .map(|m| {
                let label = figures.months[m].to_string();
                let values = figures.cube.months[m]
                    .by_dimension
                    .iter()
                    .map(|f| if events { f.events } else { f.fatalities }.unwrap_or(0))
                    .collect();
                (label, values)
            })
            .collect()
    };
    let events_svg = stacked_bar_chart(
        req.lang,
        &trend(true),
        &dim_labels,
        &t("dash-trend-events"),
        640,
        220,
    );
    let fatalities_svg = stacked_bar_chart(
        req.lang,
        &trend(false),
        &dim_labels,
        &t("dash-trend-fatalities"),
        640,
        220,
    );
    let month = table.period.and_then(|p| figures.month_index(p));
    let dimensions: Vec<DimensionCountsView> = dims
        .iter()
        .enumerate()
        .map(|(d, code)| {
            let m = month.map(|i| figures.cube.months[i].by_dimension[d]);
            let all = figures.cube.dimension_totals[d];
            DimensionCountsView {
                code: code.to_string(),
                month_events: m.and_then(|f| f.events),
                month_fatalities: m.and_then(|f| f.fatalities),
                total_events: all.events,
                total_fatalities: all.fatalities,
            }
        })
        .collect();
    let trend_withheld = (first..n).any(|m| {
        figures.cube.months[m]
            .by_dimension
            .iter()
            .any(|f| f.withheld())
    });
    let any_withheld = trend_withheld
        || dimensions
            .iter()
            .any(|d| d.month_events.is_none() || d.total_events.is_none());
    let source_query = figures
        .source
        .as_ref()
        .filter(|_| source_param(raw.as_deref()).is_some())
        .map(|s| format!("&source={}", urlencode(s)))
        .unwrap_or_default();
    let v = DashboardView {
        source: figures.source.clone().unwrap_or_default(),
        period: table.period.map(|p| p.to_string()).unwrap_or_default(),
        view,
        source_query,
        map_svg,
        withheld_areas: table.rows.iter().filter(|r| r.withheld).count(),
        events_svg,
        fatalities_svg,
        trend: (
            figures
                .months
                .get(first)
                .map(|m| m.to_string())
                .unwrap_or_default(),
            figures
                .months
                .last()
                .map(|m| m.to_string())
                .unwrap_or_default(),
        ),
        dimensions,
        any_withheld,
        k: figures.privacy.k,
        alerts: alert_views(&alerts),
        sitreps: figures
            .months
            .iter()
            .rev()
            .take(SITREPS)
            .map(|m| m.to_string())
            .collect(),
    };
    req.send(&state, StatusCode::OK, |ctx| {
        dashboard::dashboard_page(ctx, &v)
    })
}
