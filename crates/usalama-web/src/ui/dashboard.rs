//! The public dashboard (`/dashboard`) and the public alert table it shares with the
//! situation report, as pure functions. Aggregates only: the index map with its dimension
//! selector as plain links, the monthly trend by dimension for the country, counts by
//! dimension, the latest alerts (area at the public level, no free text) and links to the
//! situation reports. No JavaScript; the SVGs are drawn by the server.

use super::index::VIEWS;
use super::layout::{render, PageCtx};
use super::pages::{figure, withheld_note};
use maud::{html, Markup, PreEscaped};

/// One alert of a public summary.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlertSummaryView {
    /// Id, for the link to the alert.
    pub id: String,
    /// CAP severity (lowercase).
    pub severity: String,
    /// The area at the public level ("name (code)"), or empty for the country.
    pub area: String,
    /// The rule's kind (`index_threshold`, …).
    pub rule_kind: String,
    /// The period the alert is about.
    pub period: String,
    /// The status now (`new`, …).
    pub status: String,
    /// When it was raised (UTC, minutes).
    pub raised: String,
    /// When it was acknowledged, responded to and closed (empty when not yet).
    pub follow_up: [String; 3],
}

/// One dimension's counts on the dashboard.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DimensionCountsView {
    /// Dimension code (`lives`, `livelihood`, `dignity`).
    pub code: String,
    /// Events in the latest month (`None`: withheld).
    pub month_events: Option<u64>,
    /// People killed in the latest month.
    pub month_fatalities: Option<u64>,
    /// Events over all time.
    pub total_events: Option<u64>,
    /// People killed over all time.
    pub total_fatalities: Option<u64>,
}

/// What `/dashboard` shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DashboardView {
    /// The source of the figures (empty when there is no data).
    pub source: String,
    /// The month of the map and of the month's counts.
    pub period: String,
    /// The selected map view, one of [`VIEWS`].
    pub view: String,
    /// The `?source=` part kept in the view links (empty or `&source=…`, encoded).
    pub source_query: String,
    /// The index map.
    pub map_svg: String,
    /// Provinces whose index is withheld in the month (too few reports).
    pub withheld_areas: usize,
    /// The trend of events by dimension.
    pub events_svg: String,
    /// The trend of people killed by dimension.
    pub fatalities_svg: String,
    /// First and last month of the trend.
    pub trend: (String, String),
    /// Counts by dimension.
    pub dimensions: Vec<DimensionCountsView>,
    /// Whether a count shown is withheld.
    pub any_withheld: bool,
    /// The public threshold.
    pub k: u64,
    /// The latest alerts.
    pub alerts: Vec<AlertSummaryView>,
    /// Months with a situation report, newest first.
    pub sitreps: Vec<String>,
}

/// The table of public alerts (dashboard and situation report): severity, area, rule kind,
/// period, status and follow-up times; each alert links to its public page.
pub fn alerts_table(ctx: &PageCtx<'_>, rows: &[AlertSummaryView], caption: &str) -> Markup {
    let when = |s: &str| {
        if s.is_empty() {
            "–".to_string()
        } else {
            s.to_string()
        }
    };
    html! {
        div.scroll {
            table.alerts {
                caption { (caption) }
                thead { tr {
                    th scope="col" { (ctx.t("alerts-col-severity")) }
                    th scope="col" { (ctx.t("alerts-col-place")) }
                    th scope="col" { (ctx.t("dash-col-kind")) }
                    th scope="col" { (ctx.t("alerts-col-period")) }
                    th scope="col" { (ctx.t("alerts-col-status")) }
                    th scope="col" { (ctx.t("alerts-col-raised")) }
                    th scope="col" { (ctx.t("alerts-status-acknowledged")) }
                    th scope="col" { (ctx.t("alerts-status-responded")) }
                    th scope="col" { (ctx.t("alerts-status-closed")) }
                } }
                tbody {
                    @for a in rows {
                        tr {
                            td { a href=(format!("/alerts/{}", a.id)) { (ctx.t(&format!("alerts-severity-{}", a.severity))) } }
                            td { @if a.area.is_empty() { (ctx.t("dash-country")) } @else { (a.area) } }
                            td { (ctx.label("dash-kind", &a.rule_kind)) }
                            td { (a.period) }
                            td { (ctx.t(&format!("alerts-status-{}", a.status))) }
                            td { (a.raised) }
                            @for f in &a.follow_up { td { (when(f)) } }
                        }
                    }
                }
            }
        }
    }
}

/// The `/dashboard` page.
pub fn dashboard_page(ctx: &PageCtx<'_>, v: &DashboardView) -> Markup {
    let col = VIEWS.iter().position(|x| *x == v.view).unwrap_or(0);
    let title = ctx.t("dash-title");
    let body = html! {
        h1 { (title) }
        @if v.source.is_empty() {
            p.msg { (ctx.t("home-no-data")) }
        } @else {
            p.lead { (ctx.t_args("dash-intro", &[("source", v.source.as_str().into()), ("period", v.period.as_str().into())])) }
            h2 { (ctx.t("dash-map")) }
            nav aria-label=(ctx.t("index-dimension")) {
                ul.inline {
                    @for (i, key) in VIEWS.iter().enumerate() {
                        li {
                            @let href = format!("/dashboard?view={key}{}", v.source_query);
                            @if i == col {
                                a href=(href) aria-current="page" { (ctx.t(&format!("index-view-{key}"))) }
                            } @else {
                                a href=(href) { (ctx.t(&format!("index-view-{key}"))) }
                            }
                        }
                    }
                }
            }
            figure {
                (PreEscaped(v.map_svg.as_str()))
                figcaption {
                    (ctx.t("index-map-note"))
                    @if v.withheld_areas > 0 {
                        " " (ctx.t_args("dash-map-withheld", &[("count", (v.withheld_areas as u64).into()), ("k", v.k.into())]))
                    }
                }
            }
            h2 { (ctx.t("dash-trend")) }
            p { (ctx.t_args("dash-trend-note", &[("from", v.trend.0.as_str().into()), ("to", v.trend.1.as_str().into())])) }
            figure { (PreEscaped(v.events_svg.as_str())) }
            figure { (PreEscaped(v.fatalities_svg.as_str())) }
            h2 { (ctx.t("dash-by-dimension")) }
            div.scroll {
                table {
                    caption.sr { (ctx.t("dash-by-dimension")) }
                    thead { tr {
                        th scope="col" { (ctx.t("index-col-dimension")) }
                        th.n scope="col" { (ctx.t("dash-col-month-events")) " " (v.period) }
                        th.n scope="col" { (ctx.t("col-fatalities")) " " (v.period) }
                        th.n scope="col" { (ctx.t("dash-col-total-events")) }
                        th.n scope="col" { (ctx.t("dash-col-total-fatalities")) }
                    } }
                    tbody {
                        @for d in &v.dimensions {
                            tr {
                                th scope="row" { (ctx.label("dim", &d.code)) }
                                td.n { (figure(ctx, d.month_events)) }
                                td.n { (figure(ctx, d.month_fatalities)) }
                                td.n { (figure(ctx, d.total_events)) }
                                td.n { (figure(ctx, d.total_fatalities)) }
                            }
                        }
                    }
                }
            }
            @if v.any_withheld { (withheld_note(ctx, v.k)) }
        }
        h2 { (ctx.t("dash-alerts")) }
        @if v.alerts.is_empty() {
            p.msg { (ctx.t("alerts-none")) }
        } @else {
            (alerts_table(ctx, &v.alerts, &ctx.t("dash-alerts-caption")))
        }
        p { a href="/alerts" { (ctx.t("dash-all-alerts")) } }
        h2 { (ctx.t("dash-sitreps")) }
        @if v.sitreps.is_empty() {
            p.msg { (ctx.t("home-no-data")) }
        } @else {
            ul {
                @for m in &v.sitreps {
                    li { a href=(format!("/reports/sitrep/{m}{}", v.source_query.replacen('&', "?", 1))) { (ctx.t_args("sitrep-title", &[("period", m.as_str().into())])) } }
                }
            }
        }
    };
    render(ctx, &title, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::i18n::{Catalog, Lang};

    #[test]
    fn the_page_escapes_and_withholds() {
        let cat = Catalog::new();
        let ctx = PageCtx::new(&cat, Lang::En, "/dashboard");
        let v = DashboardView {
            source: "s<x>".into(),
            period: "2022-06".into(),
            view: "lives".into(),
            dimensions: vec![DimensionCountsView {
                code: "lives".into(),
                month_events: None,
                month_fatalities: None,
                total_events: Some(1234),
                total_fatalities: Some(5),
            }],
            any_withheld: true,
            k: 5,
            alerts: vec![AlertSummaryView {
                id: "a1".into(),
                severity: "severe".into(),
                rule_kind: "index_threshold".into(),
                period: "2022-06".into(),
                status: "acknowledged".into(),
                raised: "2022-07-01 10:00".into(),
                follow_up: ["2022-07-02 09:00".into(), String::new(), String::new()],
                ..Default::default()
            }],
            sitreps: vec!["2022-06".into()],
            ..Default::default()
        };
        let s = dashboard_page(&ctx, &v).into_string();
        assert!(s.contains("s&lt;x&gt;"));
        assert!(!s.contains("s<x>"));
        assert!(s.contains("withheld"));
        assert!(s.contains("1,234"));
        assert!(s.contains("href=\"/dashboard?view=lives\" aria-current=\"page\""));
        assert!(s.contains("href=\"/alerts/a1\""));
        assert!(s.contains("2022-07-02 09:00"));
        assert!(s.contains("href=\"/reports/sitrep/2022-06\""));
        assert!(!s.contains("<script") && !s.contains("style="));
    }
}
