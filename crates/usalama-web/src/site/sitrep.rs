//! The monthly situation report (`/reports/sitrep/{month}` and `usalama report`): headline
//! changes against the previous month, events by dimension, hotspots, a map, and the
//! alerts section. Public, so every count comes from the protected public figures
//! ([`usalama_app::PublicFigures`]): small counts and their complements are withheld.

use super::dashboard::alert_views;
use super::{source_param, PageReq};
use crate::api::run;
use crate::state::AppState;
use crate::ui::dashboard::{alerts_table, AlertSummaryView};
use crate::ui::i18n::Lang;
use crate::ui::layout::{render, PageCtx};
use crate::ui::pages::{figure, withheld_note};
use crate::ui::svg_map::choropleth_lang;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup, PreEscaped};
use usalama_app::analytics::disclose::Figure;
use usalama_app::analytics::period::Period;
use usalama_app::{AppError, PublicFigures};

/// Hotspots listed.
const HOTSPOTS: usize = 5;

/// The alerts about the month or raised in it, with their follow-up, as the public sees
/// them ([`usalama_app::PublicAlert`]: severity, area at the public level, rule kind,
/// status and when it was acknowledged, responded to and closed; no free text).
pub fn alerts_section(ctx: &PageCtx<'_>, alerts: &[AlertSummaryView]) -> Markup {
    if alerts.is_empty() {
        return html! { p.msg { (ctx.t("sitrep-alerts-none")) } };
    }
    alerts_table(ctx, alerts, &ctx.t("sitrep-alerts-caption"))
}

/// The report's content for `month` of `figures` with the month's `alerts`, or `NotFound`
/// outside the months with data.
pub fn sitrep_body(
    ctx: &PageCtx<'_>,
    figures: &PublicFigures,
    alerts: &[AlertSummaryView],
    month: Period,
) -> Result<Markup, AppError> {
    let i = figures
        .month_index(month)
        .ok_or(AppError::NotFound("month"))?;
    let cur = &figures.cube.months[i];
    let prev = i.checked_sub(1).map(|p| &figures.cube.months[p]);
    let change = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) => {
            let d = a as i64 - b as i64;
            if d > 0 {
                format!("+{}", ctx.num(d as u64))
            } else if d < 0 {
                format!("−{}", ctx.num((-d) as u64))
            } else {
                "0".to_string()
            }
        }
        _ => "–".to_string(),
    };
    let row = |label: String, c: Figure, p: Option<Figure>| {
        let p = p.unwrap_or_default();
        html! {
            tr {
                th scope="row" { (label) }
                td.n { (figure(ctx, c.events)) }
                td.n { (figure(ctx, p.events)) }
                td.n { (change(c.events, p.events)) }
                td.n { (figure(ctx, c.fatalities)) }
                td.n { (figure(ctx, p.fatalities)) }
                td.n { (change(c.fatalities, p.fatalities)) }
            }
        }
    };
    let mut hot: Vec<(String, String, u64, Option<u64>)> = figures
        .areas_in_month(i)
        .into_iter()
        .filter_map(|(a, f)| {
            Some((
                a.locality.name.clone(),
                a.locality.code.to_string(),
                f.events.filter(|&e| e > 0)?,
                f.fatalities,
            ))
        })
        .collect();
    hot.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    hot.truncate(HOTSPOTS);
    let areas = public_map_areas_for(ctx, figures, i);
    let svg = choropleth_lang(
        ctx.lang,
        &areas,
        &ctx.t("sitrep-map-title"),
        &ctx.t("map-legend-title"),
        560,
    );
    let any_withheld = cur.total.withheld()
        || cur.by_dimension.iter().any(Figure::withheld)
        || cur.by_area.iter().any(Figure::withheld);
    let source = figures.source.clone().unwrap_or_default();
    Ok(html! {
        p.lead { (ctx.t_args("sitrep-intro", &[("source", source.as_str().into()), ("period", month.to_string().into())])) }
        h2 { (ctx.t("sitrep-headline")) }
        div.scroll {
            table {
                caption { (ctx.t("sitrep-headline-caption")) }
                thead { tr {
                    th scope="col" { }
                    th.n scope="col" { (month.to_string()) }
                    th.n scope="col" { (month.prev().map(|p| p.to_string()).unwrap_or_default()) }
                    th.n scope="col" { (ctx.t("sitrep-change")) }
                    th.n scope="col" { (ctx.t("col-fatalities")) " " (month.to_string()) }
                    th.n scope="col" { (ctx.t("col-fatalities")) " " (month.prev().map(|p| p.to_string()).unwrap_or_default()) }
                    th.n scope="col" { (ctx.t("sitrep-change")) }
                } }
                tbody {
                    (row(ctx.t("col-total"), cur.total, prev.map(|p| p.total)))
                    @for (d, code) in ["lives", "livelihood", "dignity"].iter().enumerate() {
                        (row(ctx.label("dim", code), cur.by_dimension[d], prev.map(|p| p.by_dimension[d])))
                    }
                }
            }
        }
        h2 { (ctx.t("sitrep-hotspots")) }
        @if hot.is_empty() {
            p.msg { (ctx.t("sitrep-no-hotspots")) }
        } @else {
            ol.hotspots {
                @for (name, code, events, fatalities) in &hot {
                    li { (name) " (" (code) "): " (ctx.t_args("home-events", &[("count", (*events).into())])) ", " (ctx.t("col-fatalities")) " " (figure(ctx, *fatalities)) }
                }
            }
        }
        figure { (PreEscaped(svg)) }
        h2 { (ctx.t("sitrep-alerts")) }
        (alerts_section(ctx, alerts))
        @if any_withheld { (withheld_note(ctx, figures.privacy.k)) }
    })
}

fn public_map_areas_for(
    ctx: &PageCtx<'_>,
    figures: &PublicFigures,
    i: usize,
) -> Vec<crate::ui::svg_map::MapArea> {
    figures
        .areas_in_month(i)
        .into_iter()
        .filter_map(|(a, f)| {
            Some(crate::ui::svg_map::MapArea {
                code: a.locality.code.to_string(),
                name: match f.events {
                    Some(_) => a.locality.name.clone(),
                    None => format!("{} ({})", a.locality.name, ctx.t("public-withheld")),
                },
                geometry: a.geometry.clone()?,
                value: f.events.unwrap_or(0),
                href: None,
            })
        })
        .collect()
}

/// The whole report page for `month`, as HTML.
pub fn sitrep_page(
    ctx: &PageCtx<'_>,
    figures: &PublicFigures,
    alerts: &[AlertSummaryView],
    month: Period,
) -> Result<Markup, AppError> {
    let body = sitrep_body(ctx, figures, alerts, month)?;
    let title = ctx.t_args("sitrep-title", &[("period", month.to_string().into())]);
    Ok(render(
        ctx,
        &title,
        html! { article.sitrep { h1 { (title) } (body) } },
    ))
}

/// `GET /reports/sitrep/{month}[?source=S]`.
pub async fn page(
    State(state): State<AppState>,
    Path(month): Path<String>,
    RawQuery(raw): RawQuery,
    req: PageReq,
) -> Response {
    let month: Period = match month.parse::<Period>() {
        Ok(p) if p.granularity() == usalama_app::analytics::period::Granularity::Month => p,
        _ => return req.error(&state, AppError::NotFound("month")),
    };
    let source = source_param(raw.as_deref());
    let got = run(&state, move |app| {
        Ok((
            app.public_figures(source.as_deref())?,
            app.public_alerts_in(month)?,
        ))
    })
    .await;
    let (figures, alerts) = match got {
        Ok(f) => f,
        Err(e) => return req.error(&state, e),
    };
    let alerts = alert_views(&alerts);
    let mut result = Ok(html! {});
    let res = req.send(&state, StatusCode::OK, |ctx| {
        match sitrep_page(ctx, &figures, &alerts, month) {
            Ok(m) => m,
            Err(e) => {
                result = Err(e);
                html! {}
            }
        }
    });
    match result {
        Ok(_) => res,
        Err(e) => req.error(&state, e),
    }
}

/// The report for the command line: the page for `month` of `source` in `lang`, with the
/// stylesheet included so the file prints on its own.
pub fn sitrep_html(
    state: &AppState,
    month: Period,
    source: Option<&str>,
    lang: Lang,
) -> Result<String, AppError> {
    let figures = state.app.public_figures(source)?;
    let alerts = alert_views(&state.app.public_alerts_in(month)?);
    let path = format!("/reports/sitrep/{month}");
    let ctx = PageCtx::new(&state.catalog, lang, &path);
    let html = sitrep_page(&ctx, &figures, &alerts, month)?.into_string();
    Ok(html.replacen(
        "<link rel=\"stylesheet\" href=\"/static/app.css\">",
        &format!("<style>{}</style>", crate::ui::APP_CSS),
        1,
    ))
}
