//! The human-security index pages as pure functions: `/index` (a choropleth of one
//! dimension or the overall index at ADM1, the dimension selector as plain links, and the
//! table) and `/index/{code}` (the trend as an SVG line chart and the explanation table).
//! Nothing needs JavaScript.

use super::i18n::format_decimal;
use super::layout::{render, PageCtx};
use maud::{html, Markup, PreEscaped};
use std::fmt::Write as _;

/// The dimensions the map can show, `overall` first.
pub const VIEWS: [&str; 4] = ["overall", "lives", "livelihood", "dignity"];

/// One row of the index table.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexRowView {
    /// Locality code.
    pub code: String,
    /// Locality name.
    pub name: String,
    /// Index and the three dimension scores.
    pub values: [Option<f64>; 4],
    /// Whether they are withheld (too few reports to show).
    pub withheld: bool,
}

/// What the `/index` page shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IndexPageView {
    /// The source (empty when there is no data).
    pub source: String,
    /// The period shown (empty when there is no data).
    pub period: String,
    /// The selected view, one of [`VIEWS`].
    pub view: String,
    /// The map, drawn by the server.
    pub svg: String,
    /// The rows, worst first.
    pub rows: Vec<IndexRowView>,
    /// The public threshold, for the note on withheld values.
    pub k: u64,
}

/// One input of the explanation table.
#[derive(Debug, Clone, PartialEq)]
pub struct InputView {
    /// Label.
    pub label: String,
    /// Dimension.
    pub dimension: String,
    /// Raw value.
    pub raw: Option<f64>,
    /// Transform name.
    pub transform: String,
    /// Scaled value 0–10.
    pub scaled: Option<f64>,
    /// Weight share within its dimension.
    pub weight: f64,
    /// Contribution to the index.
    pub contribution: f64,
}

/// What the `/index/{code}` page shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IndexLocalityView {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// The source.
    pub source: String,
    /// The period explained.
    pub period: String,
    /// The value in that period.
    pub value: Option<f64>,
    /// The trend chart.
    pub svg: String,
    /// The inputs.
    pub inputs: Vec<InputView>,
    /// The forecasts of the next months (empty when there is none).
    pub forecasts: Vec<ForecastView>,
    /// Whether some value shown is withheld (too few reports to show).
    pub withheld: bool,
    /// The public threshold, for the note on withheld values.
    pub k: u64,
}

/// One month of a locality's forecast.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastView {
    /// The month (YYYY-MM).
    pub period: String,
    /// Probability of at least one death, 0–1.
    pub p_fatal: f64,
    /// Expected deaths.
    pub fatalities: f64,
}

fn fmt(ctx: &PageCtx<'_>, v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_string(), |v| format_decimal(ctx.lang, v, 2))
}

/// A line chart of values 0–10 over labelled periods; gaps where a value is missing.
pub fn line_chart(
    points: &[(String, Option<f64>)],
    title: &str,
    width: u32,
    height: u32,
) -> String {
    let (w, h) = (f64::from(width), f64::from(height));
    let (left, right, top, bottom) = (30.0, 10.0, 10.0, 30.0);
    let n = points.len().max(2) as f64 - 1.0;
    let x = |i: usize| left + (w - left - right) * i as f64 / n;
    let y = |v: f64| top + (h - top - bottom) * (1.0 - v.clamp(0.0, 10.0) / 10.0);
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{}\" class=\"chart\">",
        maud::html! { (title) }.into_string()
    );
    for v in [0.0, 5.0, 10.0] {
        let _ = write!(
            s,
            "<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#ccc\"/><text x=\"2\" y=\"{:.1}\" font-size=\"10\">{v}</text>",
            w - right,
            y(v),
            y(v),
            y(v) + 3.0
        );
    }
    let mut d = String::new();
    let mut pen_up = true;
    for (i, (_, v)) in points.iter().enumerate() {
        match v {
            Some(v) => {
                let _ = write!(
                    d,
                    "{}{:.1},{:.1} ",
                    if pen_up { "M" } else { "L" },
                    x(i),
                    y(*v)
                );
                pen_up = false;
            }
            None => pen_up = true,
        }
    }
    let _ = write!(
        s,
        "<path d=\"{d}\" fill=\"none\" stroke=\"#bd0026\" stroke-width=\"1.5\"/>"
    );
    let step = (points.len() / 6).max(1);
    for (i, (label, _)) in points.iter().enumerate().step_by(step) {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            x(i),
            h - 10.0,
            maud::html! { (label) }.into_string()
        );
    }
    s.push_str("</svg>");
    s
}

/// The `/index` page.
pub fn index_page(ctx: &PageCtx<'_>, v: &IndexPageView) -> Markup {
    let col = VIEWS.iter().position(|x| *x == v.view).unwrap_or(0);
    let body = html! {
        h1 { (ctx.t("index-title")) }
        p { (ctx.t_args("index-intro", &[("source", v.source.as_str().into()), ("period", v.period.as_str().into())])) }
        nav aria-label=(ctx.t("index-dimension")) {
            ul.inline {
                @for (i, key) in VIEWS.iter().enumerate() {
                    li {
                        @let href = format!("/index?view={key}");
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
            (PreEscaped(v.svg.as_str()))
            figcaption { (ctx.t("index-map-note")) }
        }
        div.scroll {
            table {
                caption { (ctx.t("index-table-caption")) }
                thead { tr {
                    th scope="col" { (ctx.t("col-name")) }
                    th scope="col" { (ctx.t("col-code")) }
                    @for key in VIEWS { th.n scope="col" { (ctx.t(&format!("index-view-{key}"))) } }
                } }
                tbody {
                    @for r in &v.rows {
                        tr {
                            td { a href=(format!("/index/{}", r.code)) { (r.name) } }
                            td { (r.code) }
                            @if r.withheld {
                                td.n colspan="4" { (ctx.t("public-withheld-index")) }
                            } @else {
                                @for x in r.values { td.n { (fmt(ctx, x)) } }
                            }
                        }
                    }
                }
            }
        }
        @if v.rows.iter().any(|r| r.withheld) {
            p.note { (ctx.t_args("index-withheld-note", &[("k", v.k.into())])) }
        }
    };
    render(ctx, &ctx.t("index-title"), body)
}

/// The `/index/{code}` page.
pub fn index_locality_page(ctx: &PageCtx<'_>, v: &IndexLocalityView) -> Markup {
    let body = html! {
        h1 { (v.name) " (" (v.code) ")" }
        p { (ctx.t_args("index-intro", &[("source", v.source.as_str().into()), ("period", v.period.as_str().into())])) }
        figure {
            (PreEscaped(v.svg.as_str()))
            figcaption { (ctx.t("index-trend-note")) }
        }
        div.scroll {
            table {
                caption { (ctx.t("index-explain-caption")) " " (v.period) ": " (fmt(ctx, v.value)) }
                thead { tr {
                    th scope="col" { (ctx.t("index-col-input")) }
                    th scope="col" { (ctx.t("index-col-dimension")) }
                    th.n scope="col" { (ctx.t("index-col-raw")) }
                    th scope="col" { (ctx.t("index-col-transform")) }
                    th.n scope="col" { (ctx.t("index-col-scaled")) }
                    th.n scope="col" { (ctx.t("index-col-weight")) }
                    th.n scope="col" { (ctx.t("index-col-contribution")) }
                } }
                tbody {
                    @for i in &v.inputs {
                        tr {
                            td { (i.label) }
                            td { (ctx.t(&format!("index-view-{}", i.dimension))) }
                            td.n { (fmt(ctx, i.raw)) }
                            td { (i.transform) }
                            td.n { (fmt(ctx, i.scaled)) }
                            td.n { (fmt(ctx, Some(i.weight))) }
                            td.n { (format_decimal(ctx.lang, i.contribution, 3)) }
                        }
                    }
                }
            }
        }
        @if !v.forecasts.is_empty() {
            div.scroll {
                table {
                    caption { (ctx.t("forecast-caption")) }
                    thead { tr {
                        th scope="col" { (ctx.t("forecast-col-month")) }
                        th.n scope="col" { (ctx.t("forecast-col-probability")) }
                        th.n scope="col" { (ctx.t("forecast-col-fatalities")) }
                    } }
                    tbody {
                        @for f in &v.forecasts {
                            tr {
                                td { (f.period) }
                                td.n { (format_decimal(ctx.lang, f.p_fatal * 100.0, 0)) " %" }
                                td.n { (format_decimal(ctx.lang, f.fatalities, 1)) }
                            }
                        }
                    }
                }
            }
            p { (ctx.t("forecast-note")) }
        }
        @if v.withheld {
            p.note { (ctx.t_args("index-withheld-note", &[("k", v.k.into())])) }
        }
        p { a href="/index" { (ctx.t("index-back")) } }
    };
    render(ctx, &v.name, body)
}
