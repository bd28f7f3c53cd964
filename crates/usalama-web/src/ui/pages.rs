//! The pages: one view model and one template per page, all text through the catalogue.
//!
//! Handlers fill a view model from the application layer and call the page function with
//! a [`PageCtx`]. Codes that come from data (dimension, status, role, precision, grades)
//! are shown through catalogue messages named `prefix-code` and fall back to the code
//! itself. Dates are ISO 8601, counts carry the language's thousands separator. No page
//! needs JavaScript; forms are plain GET or POST.

use super::i18n::{Catalog, Lang};
use super::layout::{render, PageCtx};
use super::svg_map::stacked_bar_chart;
use chrono::{DateTime, Utc};
use maud::{html, Markup, PreEscaped};
use serde::Deserialize;
use usalama_domain::Casualties;

/// The dimensions in their conventional order, for columns and menus.
const DIMENSIONS: [&str; 3] = ["lives", "livelihood", "dignity"];

/// Verification statuses, for the filter menu.
const STATUSES: [&str; 4] = ["unverified", "verified", "rejected", "duplicate"];

// ---------------------------------------------------------------------------------------
// Home

/// The data sources a page's figures can be shown for, and the one shown. Figures of
/// different sources are never added together (they may describe the same incidents), so
/// the home page and the map show one source at a time with this selector.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourcePicker {
    /// `(source, events)` for every source, in the order to list them; the count is
    /// `None` when it is too small to be shown.
    pub sources: Vec<(String, Option<u64>)>,
    /// The source the page shows.
    pub selected: String,
}

/// The source selector: a plain GET form back to `action` (no script needed).
fn source_picker(ctx: &PageCtx<'_>, picker: &SourcePicker, action: &str) -> Markup {
    html! {
        @if !picker.sources.is_empty() {
            form.source method="get" action=(action) {
                label for="source" { (ctx.t("source-label")) }
                select id="source" name="source" {
                    @for (src, n) in &picker.sources {
                        option value=(src) selected[*src == picker.selected] {
                            @match n {
                                Some(n) => (ctx.t_args("source-option", &[("source", src.into()), ("count", (*n).into())])),
                                None => (src),
                            }
                        }
                    }
                }
                button.btn type="submit" { (ctx.t("source-show")) }
                p.note { (ctx.t("source-not-summed")) }
            }
        }
    }
}

/// The home page: headline counts and events by year and dimension.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HomeView {
    /// The sources and the one whose figures are shown.
    pub sources: SourcePicker,
    /// All events recorded (`None`: withheld, too few).
    pub total_events: Option<u64>,
    /// Sum of the best fatality estimates (`None`: withheld).
    pub total_fatalities: Option<u64>,
    /// One row per year, any order; withheld figures are `None`.
    pub years: Vec<YearFigures>,
    /// The smallest count shown (k), for the note on withheld figures.
    pub k: u64,
    /// How many first-level areas (provinces) have at least one event.
    pub localities_adm1: u64,
    /// The data attribution, already in the page's language, e.g. "UCDP GED (CC BY 4.0);
    /// boundaries OCHA COD-AB (CC BY-IGO)".
    pub source_note: String,
}

/// One year's row of the home table; `None` is a withheld figure.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct YearFigures {
    /// The year.
    pub year: i32,
    /// Events per dimension (lives, livelihood, dignity).
    pub by_dimension: [Option<u64>; 3],
    /// All events of the year.
    pub events: Option<u64>,
    /// Their fatalities.
    pub fatalities: Option<u64>,
}

/// A public figure, or the word for a withheld one.
pub fn figure(ctx: &PageCtx<'_>, n: Option<u64>) -> String {
    match n {
        Some(n) => ctx.num(n),
        None => ctx.t("public-withheld"),
    }
}

/// The note under tables with withheld figures.
pub fn withheld_note(ctx: &PageCtx<'_>, k: u64) -> Markup {
    html! { p.note { (ctx.t_args("public-withheld-note", &[("k", k.into())])) } }
}

/// `path`, with `?source=…` when a source is selected.
fn source_href(path: &str, picker: &SourcePicker) -> String {
    if picker.selected.is_empty() {
        path.to_string()
    } else {
        let enc: String = picker
            .selected
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        format!("{path}?source={enc}")
    }
}

/// Renders the home page.
pub fn home_page(ctx: &PageCtx<'_>, view: &HomeView) -> Markup {
    let mut rows = view.years.clone();
    rows.sort_by_key(|r| std::cmp::Reverse(r.year));
    let dim_labels: Vec<String> = DIMENSIONS.iter().map(|d| ctx.label("dim", d)).collect();
    let any_withheld = view.total_events.is_none()
        || rows
            .iter()
            .any(|r| r.events.is_none() || r.by_dimension.iter().any(Option::is_none));
    let chart = if rows.is_empty() {
        String::new()
    } else {
        // Withheld figures are drawn as nothing; the table says which they are.
        let groups: Vec<(String, Vec<u64>)> = rows
            .iter()
            .rev()
            .map(|r| {
                (
                    r.year.to_string(),
                    r.by_dimension.iter().map(|e| e.unwrap_or(0)).collect(),
                )
            })
            .collect();
        stacked_bar_chart(
            ctx.lang,
            &groups,
            &dim_labels,
            &ctx.t("home-chart-title"),
            400,
            220,
        )
    };
    let title = ctx.t("home-title");
    let body = html! {
        h1 { (title) }
        p.lead { (ctx.t("home-intro")) }
        (source_picker(ctx, &view.sources, "/"))
        ul.stats {
            @if let (Some(e), Some(f)) = (view.total_events, view.total_fatalities) {
                li { (ctx.t_args("home-events", &[("count", e.into())])) }
                li { (ctx.t_args("home-fatalities", &[("count", f.into())])) }
            }
            li { (ctx.t_args("home-localities", &[("count", view.localities_adm1.into())])) }
        }
        p.actions {
            a href=(source_href("/map", &view.sources)) { (ctx.t("home-see-map")) }
            a href=(source_href("/dashboard", &view.sources)) { (ctx.t("home-see-dashboard")) }
            a href="/events" { (ctx.t("home-see-events")) }
        }
        h2 { (ctx.t("home-by-year")) }
        @if rows.is_empty() {
            p.msg { (ctx.t("home-no-data")) }
        } @else {
            figure { (PreEscaped(chart)) }
            div.scroll {
                table {
                    caption.sr { (ctx.t("home-by-year")) }
                    thead {
                        tr {
                            th scope="col" { (ctx.t("col-year")) }
                            @for l in &dim_labels { th.n scope="col" { (l) } }
                            th.n scope="col" { (ctx.t("col-total")) }
                            th.n scope="col" { (ctx.t("col-fatalities")) }
                        }
                    }
                    tbody {
                        @for r in &rows {
                            tr {
                                th scope="row" { (r.year) }
                                @for e in &r.by_dimension { td.n { (figure(ctx, *e)) } }
                                td.n { (figure(ctx, r.events)) }
                                td.n { (figure(ctx, r.fatalities)) }
                            }
                        }
                    }
                }
            }
        }
        @if any_withheld { (withheld_note(ctx, view.k)) }
        h2 { (ctx.t("home-sources")) }
        p { (view.source_note) }
    };
    render(ctx, &title, body)
}

// ---------------------------------------------------------------------------------------
// Events list

/// The event filters exactly as typed, so the form can show them back. Deserializes from
/// the query string (`/events?from=…&to=…`); missing fields are empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct EventFilterForm {
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day, `YYYY-MM-DD`.
    pub to: String,
    /// Code of a first-level locality.
    pub locality: String,
    /// `lives`, `livelihood` or `dignity`.
    pub dimension: String,
    /// Category code.
    pub category: String,
    /// Actor name or id.
    pub actor: String,
    /// Verification status name.
    pub status: String,
    /// Words to look for in descriptions and place names.
    pub q: String,
}

/// One event in the list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventRowView {
    /// Event id, linked as `/events/{id}`.
    pub id: String,
    /// Date, ISO 8601 (`2022-01-31`, or a range `2022-01-01/2022-01-31`).
    pub date: String,
    /// Category label in the page's language.
    pub category_label: String,
    /// Dimension code.
    pub dimension: String,
    /// Place: locality names from province down, e.g. "Ouham › Bossangoa".
    pub place: String,
    /// Best estimate of people killed; `None` is unknown.
    pub fatalities: Option<u32>,
    /// Verification status name.
    pub status: String,
    /// Source name (`ucdp-ged`, `web`, …).
    pub source: String,
}

/// The events page: filter form, one page of results and a link to the next.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventsView {
    /// The filters as typed.
    pub filters: EventFilterForm,
    /// `(code, label)` of the categories, in menu order.
    pub categories: Vec<(String, String)>,
    /// `(code, name)` of the first-level localities, in menu order.
    pub localities: Vec<(String, String)>,
    /// This page's events.
    pub items: Vec<EventRowView>,
    /// How many events match in all.
    pub total: u64,
    /// Link to the next page (same filters plus the cursor), if there is one.
    pub next_page_href: Option<String>,
    /// The name of the filter field whose value is invalid (`from`, `to`, `locality`,
    /// `dimension`, `category`, `actor`, `status`, `q`), shown as a plain-words message and
    /// marked on the field; any other value gives a general message.
    pub error: Option<String>,
}

/// The catalogue key of a filter field's label.
fn filter_label_key(field: &str) -> Option<&'static str> {
    Some(match field {
        "from" => "filter-from",
        "to" => "filter-to",
        "locality" => "filter-locality",
        "dimension" => "filter-dimension",
        "category" => "filter-category",
        "actor" => "filter-actor",
        "status" => "filter-status",
        "q" => "filter-q",
        _ => return None,
    })
}

/// A `<select>` with an "any" option and `(value, label)` options.
fn select(
    ctx: &PageCtx<'_>,
    name: &str,
    current: &str,
    options: &[(String, String)],
    invalid: bool,
) -> Markup {
    html! {
        select id={ "f-" (name) } name=(name) aria-invalid=[invalid.then_some("true")] {
            option value="" { (ctx.t("filter-any")) }
            @for (value, label) in options {
                option value=(value) selected[current == value] { (label) }
            }
        }
    }
}

/// Renders the events page.
pub fn events_page(ctx: &PageCtx<'_>, view: &EventsView) -> Markup {
    events_page_framed(ctx, events_body(ctx, view))
}

/// The events page around a body written by [`events_body`] (possibly kept from an earlier
/// request: the body holds nothing of the viewer's but the language).
pub fn events_page_framed(ctx: &PageCtx<'_>, body: Markup) -> Markup {
    render(ctx, &ctx.t("events-title"), body)
}

/// The events page's main part: filter form, one page of results and a link to the next.
/// It depends only on the view and the language (not on the viewer's name, role or
/// CSRF token, which the frame holds), so that a shared page's body can be reused.
pub fn events_body(ctx: &PageCtx<'_>, view: &EventsView) -> Markup {
    let f = &view.filters;
    let bad = view.error.as_deref().unwrap_or("");
    let invalid = |field: &str| (bad == field).then_some("true");
    let label = |field: &str| ctx.t(filter_label_key(field).unwrap_or("filter-q"));
    let dims: Vec<(String, String)> = DIMENSIONS
        .iter()
        .map(|d| (d.to_string(), ctx.label("dim", d)))
        .collect();
    let statuses: Vec<(String, String)> = STATUSES
        .iter()
        .map(|s| (s.to_string(), ctx.label("status", s)))
        .collect();
    let error_text = view.error.as_deref().map(|e| match filter_label_key(e) {
        Some(key) => ctx.t_args("events-invalid-field", &[("field", ctx.t(key).into())]),
        None => ctx.t("events-invalid"),
    });
    // The form folds away (no script needed) once there are results to read; it stays
    // open when nothing matched or a value is wrong, so that it can be corrected.
    let open_filters = error_text.is_some() || view.items.is_empty();
    let title = ctx.t("events-title");
    let cols = [
        "col-date",
        "col-category",
        "col-dimension",
        "col-place",
        "col-fatalities",
        "col-status",
        "col-source",
    ]
    .map(|k| ctx.t(k));
    // The card labels of narrow screens, with the language's colon ("Date:" / "Date :").
    let colon = ctx.t("colon");
    let cards: Vec<String> = cols.iter().map(|c| format!("{c}{colon}")).collect();
    html! {
        h1 { (title) }
        details.filters open[open_filters] {
            summary { (ctx.t("events-filter-legend")) }
            form method="get" action="/events" {
                div.fields {
                    @for field in ["from", "to"] {
                        div {
                            label for={ "f-" (field) } {
                                (label(field)) " " span.hint { "(" (ctx.t("filter-date-hint")) ")" }
                            }
                            input id={ "f-" (field) } type="text" name=(field)
                                value=(if field == "from" { &f.from } else { &f.to })
                                placeholder=(ctx.t("filter-date-hint")) maxlength="10"
                                autocomplete="off" aria-invalid=[invalid(field)];
                        }
                    }
                    div {
                        label for="f-locality" { (label("locality")) }
                        (select(ctx, "locality", &f.locality, &view.localities, bad == "locality"))
                    }
                    div {
                        label for="f-dimension" { (label("dimension")) }
                        (select(ctx, "dimension", &f.dimension, &dims, bad == "dimension"))
                    }
                    div {
                        label for="f-category" { (label("category")) }
                        (select(ctx, "category", &f.category, &view.categories, bad == "category"))
                    }
                    div {
                        label for="f-status" { (label("status")) }
                        (select(ctx, "status", &f.status, &statuses, bad == "status"))
                    }
                    div {
                        label for="f-actor" { (label("actor")) }
                        input id="f-actor" type="text" name="actor" value=(f.actor)
                            aria-invalid=[invalid("actor")];
                    }
                    div {
                        label for="f-q" { (label("q")) }
                        input id="f-q" type="search" name="q" value=(f.q)
                            aria-invalid=[invalid("q")];
                    }
                }
                p.actions {
                    button.btn type="submit" { (ctx.t("filter-apply")) }
                    a href="/events" { (ctx.t("filter-clear")) }
                }
            }
        }
        @if let Some(text) = &error_text {
            p.msg.error role="alert" { (text) }
        }
        p { strong { (ctx.t_args("events-count", &[("count", view.total.into())])) } }
        @if view.items.is_empty() {
            @if error_text.is_none() {
                p.msg { (ctx.t("events-none")) }
            }
        } @else {
            table.cards {
                caption.sr { (ctx.t("events-caption")) }
                thead {
                    tr {
                        @for (i, c) in cols.iter().enumerate() {
                            @if i == 4 { th.n scope="col" { (c) } } @else { th scope="col" { (c) } }
                        }
                    }
                }
                tbody {
                    @for e in &view.items {
                        tr {
                            td.head data-label=(cards[0]) {
                                a href={ "/events/" (e.id) } { (e.date) }
                            }
                            td data-label=(cards[1]) { (e.category_label) }
                            td data-label=(cards[2]) { (ctx.label("dim", &e.dimension)) }
                            td data-label=(cards[3]) { (e.place) }
                            td.n data-label=(cards[4]) {
                                @match e.fatalities {
                                    Some(n) => (ctx.num(u64::from(n))),
                                    None => (ctx.t("unknown")),
                                }
                            }
                            td data-label=(cards[5]) { (ctx.label("status", &e.status)) }
                            td data-label=(cards[6]) { (e.source) }
                        }
                    }
                }
            }
        }
        @if let Some(href) = &view.next_page_href {
            p.pager { a rel="next" href=(href) { (ctx.t("events-next")) " →" } }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Event detail

/// One event in full, without any personal data (people involved and reporter contact are
/// never passed here).
#[derive(Debug, Clone, PartialEq)]
pub struct EventView {
    /// Event id.
    pub id: String,
    /// Source name.
    pub source: String,
    /// The record's id in its source.
    pub external_id: Option<String>,
    /// Category label in the page's language.
    pub category_label: String,
    /// Dimension code.
    pub dimension: String,
    /// When, ISO 8601: a day or a range `2022-01-01/2022-01-31`.
    pub occurred: String,
    /// Date precision code: `day`, `week`, `month` or `year`.
    pub date_precision: String,
    /// `(level, code, name)` from the country down, level as `adm0`…`adm3`.
    pub place_lineage: Vec<(String, String, String)>,
    /// Latitude in degrees.
    pub latitude: Option<f64>,
    /// Longitude in degrees.
    pub longitude: Option<f64>,
    /// UCDP `where_prec` code 1–7, explained in words.
    pub location_precision: Option<u8>,
    /// People harmed; `None` counts are unknown.
    pub casualties: Casualties,
    /// Whether civilians were deliberately targeted.
    pub civilians_targeted: bool,
    /// `(name, role)`, role as `side_a`, `side_b`, `perpetrator` or `target`.
    pub actors: Vec<(String, String)>,
    /// Free-text description.
    pub description: Option<String>,
    /// Verification status name.
    pub status: String,
    /// Source reliability letter A–F.
    pub reliability: Option<String>,
    /// Information credibility 1–6.
    pub credibility: Option<u8>,
    /// The source's own codes, `(name, value)`.
    pub source_codes: Vec<(String, String)>,
    /// When first stored.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
    /// Decision form, duplicates and history, when the viewer may see them.
    pub verification: Option<super::verify::EventPanel>,
}

/// A timestamp as `<time>`: machine-readable RFC 3339 and a short ISO 8601 text in UTC.
fn timestamp(t: &DateTime<Utc>) -> Markup {
    html! {
        time datetime=(t.format("%Y-%m-%dT%H:%M:%SZ")) { (t.format("%Y-%m-%d %H:%M UTC")) }
    }
}

/// Renders the event detail page.
pub fn event_page(ctx: &PageCtx<'_>, view: &EventView) -> Markup {
    let unknown = ctx.t("unknown");
    let count = |n: Option<u32>| n.map_or_else(|| unknown.clone(), |n| ctx.num(u64::from(n)));
    let c = &view.casualties;
    let coords = match (view.latitude, view.longitude) {
        (Some(lat), Some(lon)) if lat.is_finite() && lon.is_finite() => Some((lat, lon)),
        _ => None,
    };
    let title = if view.category_label.is_empty() {
        ctx.t("nav-events")
    } else {
        view.category_label.clone()
    };
    let body = html! {
        p { a href="/events" { "← " (ctx.t("event-back")) } }
        h1 { (title) }
        p.sub {
            (ctx.t_args("event-heading-date", &[("date", view.occurred.as_str().into())]))
            " · " (ctx.label("dim", &view.dimension))
            " · " (ctx.label("status", &view.status))
        }
        h2 { (ctx.t("event-when")) }
        dl.facts {
            dt { (ctx.t("event-date")) } dd { (view.occurred) }
            dt { (ctx.t("event-date-precision")) } dd { (ctx.label("precision", &view.date_precision)) }
        }
        h2 { (ctx.t("event-where")) }
        dl.facts {
            @for (level, code, name) in &view.place_lineage {
                dt { (ctx.label("level", level)) }
                dd { (name) " (" (code) ")" }
            }
            dt { (ctx.t("event-coordinates")) }
            dd {
                @if let Some((lat, lon)) = coords {
                    (format!("{lat:.5}, {lon:.5}"))
                    " · "
                    a href=(format!("geo:{lat:.5},{lon:.5}")) { (ctx.t("event-open-in-app")) }
                } @else {
                    (ctx.t("not-given"))
                }
            }
            dt { (ctx.t("event-location-precision")) }
            dd {
                @match view.location_precision {
                    Some(p) => { (p) " – " (ctx.label("where", &p.to_string())) }
                    None => (ctx.t("not-given")),
                }
            }
        }
        h2 { (ctx.t("event-casualties")) }
        dl.facts {
            dt { (ctx.t("killed-best")) } dd { (count(c.killed_best)) }
            @if c.killed_low.is_some() || c.killed_high.is_some() {
                dt { (ctx.t("killed-range")) } dd { (count(c.killed_low)) " – " (count(c.killed_high)) }
            }
            dt { (ctx.t("injured")) } dd { (count(c.injured)) }
            dt { (ctx.t("abducted")) } dd { (count(c.abducted)) }
            dt { (ctx.t("displaced")) } dd { (count(c.displaced)) }
            dt { (ctx.t("civilians-targeted")) }
            dd { (ctx.t(if view.civilians_targeted { "yes" } else { "no" })) }
        }
        h2 { (ctx.t("event-actors")) }
        @if view.actors.is_empty() {
            p { (ctx.t("event-no-actors")) }
        } @else {
            ul {
                @for (name, role) in &view.actors {
                    li { (name) " (" (ctx.label("role", role)) ")" }
                }
            }
        }
        @if let Some(d) = view.description.as_deref().filter(|d| !d.trim().is_empty()) {
            h2 { (ctx.t("event-description")) }
            p.desc { (d) }
        }
        h2 { (ctx.t("event-verification")) }
        dl.facts {
            dt { (ctx.t("col-status")) } dd { (ctx.label("status", &view.status)) }
            dt { (ctx.t("event-reliability")) }
            dd {
                @match &view.reliability {
                    Some(r) => (ctx.label("reliability", r)),
                    None => (ctx.t("not-given")),
                }
            }
            dt { (ctx.t("event-credibility")) }
            dd {
                @match view.credibility {
                    Some(g) => (ctx.label("credibility", &g.to_string())),
                    None => (ctx.t("not-given")),
                }
            }
        }
        @if let Some(p) = &view.verification { (super::verify::decision_part(ctx, p)) }
        h2 { (ctx.t("event-record")) }
        dl.facts {
            dt { (ctx.t("event-source")) } dd { (view.source) }
            @if let Some(x) = &view.external_id {
                dt { (ctx.t("event-external-id")) } dd { (x) }
            }
            @if !view.source_codes.is_empty() {
                dt { (ctx.t("event-source-codes")) }
                dd {
                    @for (i, (k, v)) in view.source_codes.iter().enumerate() {
                        @if i > 0 { br; }
                        code { (k) } " = " (v)
                    }
                }
            }
            dt { (ctx.t("event-created")) } dd { (timestamp(&view.created_at)) }
            dt { (ctx.t("event-updated")) } dd { (timestamp(&view.updated_at)) }
        }
        @if let Some(p) = &view.verification { (super::verify::records_part(ctx, p)) }
    };
    render(ctx, &title, body)
}

// ---------------------------------------------------------------------------------------
// Map

/// One area's numbers in the table under the map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MapRow {
    /// Locality code.
    pub code: String,
    /// Locality name.
    pub name: String,
    /// Events in it (`None`: withheld).
    pub events: Option<u64>,
    /// Sum of best fatality estimates (`None`: withheld).
    pub fatalities: Option<u64>,
    /// Link to its events, e.g. `/events?locality=CF62`.
    pub href: Option<String>,
}

/// The map page: the SVG and the same numbers as a table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MapView {
    /// The sources and the one whose figures are shown.
    pub sources: SourcePicker,
    /// The map, as made by [`super::svg_map::choropleth_lang`]. It is inserted as is:
    /// never put anything else here.
    pub svg: String,
    /// Page heading; empty means the catalogue's `map-title`.
    pub title: String,
    /// How to read the colours; empty means the catalogue's `map-legend-note`.
    pub legend_note: String,
    /// The numbers, in table order.
    pub rows: Vec<MapRow>,
    /// The smallest count shown (k), for the note on withheld figures.
    pub k: u64,
}

/// Renders the map page.
pub fn map_page(ctx: &PageCtx<'_>, view: &MapView) -> Markup {
    let title = if view.title.is_empty() {
        ctx.t("map-title")
    } else {
        view.title.clone()
    };
    let note = if view.legend_note.is_empty() {
        ctx.t("map-legend-note")
    } else {
        view.legend_note.clone()
    };
    let body = html! {
        h1 { (title) }
        (source_picker(ctx, &view.sources, "/map"))
        figure {
            (PreEscaped(view.svg.as_str()))
            figcaption { (note) }
        }
        div.scroll {
            table {
                caption { (ctx.t("map-table-caption")) }
                thead {
                    tr {
                        th scope="col" { (ctx.t("col-name")) }
                        th scope="col" { (ctx.t("col-code")) }
                        th.n scope="col" { (ctx.t("col-events")) }
                        th.n scope="col" { (ctx.t("col-fatalities")) }
                    }
                }
                tbody {
                    @for r in &view.rows {
                        tr {
                            th scope="row" {
                                @if let Some(h) = &r.href { a href=(h) { (r.name) } } @else { (r.name) }
                            }
                            td { (r.code) }
                            td.n { (figure(ctx, r.events)) }
                            td.n { (figure(ctx, r.fatalities)) }
                        }
                    }
                }
            }
        }
        @if view.rows.iter().any(|r| r.events.is_none()) { (withheld_note(ctx, view.k)) }
    };
    render(ctx, &title, body)
}

// ---------------------------------------------------------------------------------------
// Log in

/// The log-in form. The password is never sent back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoginView {
    /// A catalogue key explaining why the last attempt failed (`login-failed`,
    /// `login-expired`, `login-locked`); unknown keys show `login-failed`.
    pub error: Option<String>,
    /// The username as typed.
    pub username: String,
    /// The CSRF token for the form.
    pub csrf_token: String,
    /// Where to go after logging in (a local path; the handler checks it).
    pub next: String,
    /// Ask for the TOTP code (the account has a second factor).
    pub ask_code: bool,
}

/// Renders the log-in page: `POST /login` with `username`, `password`, `csrf`, `next`.
pub fn login_page(ctx: &PageCtx<'_>, view: &LoginView) -> Markup {
    let title = ctx.t("login-title");
    let error = view.error.as_deref().map(|key| {
        if key.starts_with("login-") && ctx.cat.has(Lang::En, key) {
            ctx.t(key)
        } else {
            ctx.t("login-failed")
        }
    });
    let body = html! {
        div.login {
            h1 { (title) }
            p { (ctx.t("login-intro")) }
            @if let Some(e) = &error {
                p.msg.error role="alert" { (e) }
            }
            form method="post" action="/login" {
                input type="hidden" name="csrf" value=(view.csrf_token);
                input type="hidden" name="next" value=(view.next);
                label for="username" { (ctx.t("login-username")) }
                input id="username" type="text" name="username" value=(view.username)
                    autocomplete="username" autocapitalize="none" spellcheck="false" required
                    aria-invalid=[error.is_some().then_some("true")];
                label for="password" { (ctx.t("login-password")) }
                input id="password" type="password" name="password"
                    autocomplete="current-password" required;
                @if view.ask_code {
                    label for="code" { (ctx.t("login-code")) }
                    input id="code" type="text" name="code" inputmode="numeric"
                        pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required;
                }
                p.actions { button.btn type="submit" { (ctx.t("login-submit")) } }
            }
        }
    };
    render(ctx, &title, body)
}

// ---------------------------------------------------------------------------------------
// Errors

/// Renders an error page for `status` with the message `message_key` (falling back to the
/// status's own message `error-{status}`, then a general one) and a link home. For an
/// anonymous visitor at `/`; see [`error_page_ctx`] to keep the menu state.
pub fn error_page(cat: &Catalog, lang: Lang, status: u16, message_key: &str) -> Markup {
    error_page_ctx(&PageCtx::new(cat, lang, "/"), status, message_key)
}

/// [`error_page`] inside a given page context.
pub fn error_page_ctx(ctx: &PageCtx<'_>, status: u16, message_key: &str) -> Markup {
    let status_key = format!("error-{status}");
    let key = if message_key.starts_with("error-") && ctx.cat.has(Lang::En, message_key) {
        message_key.to_string()
    } else if ctx.cat.has(Lang::En, &status_key) {
        status_key
    } else {
        "error-other".to_string()
    };
    let title = ctx.t_args("error-title", &[("status", status.to_string().into())]);
    let body = html! {
        h1 { (title) }
        p.lead { (ctx.t(&key)) }
        p.actions {
            @if status == 401 && ctx.user.is_none() {
                a href="/login" { (ctx.t("nav-login")) }
            }
            a href="/" { (ctx.t("error-home")) }
        }
    };
    render(ctx, &title, body)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ui::svg_map::{choropleth_lang, tests::car_areas};

    fn cat() -> Catalog {
        Catalog::new()
    }

    fn no_js(s: &str) {
        for bad in [
            "<script", "<style", "style=", "onclick", "onload", "http:", "https:",
        ] {
            let allowed = s.matches("xmlns=\"http://www.w3.org/2000/svg\"").count();
            if bad == "http:" {
                assert_eq!(s.matches(bad).count(), allowed, "{bad}");
            } else {
                assert!(!s.contains(bad), "{bad}");
            }
        }
    }

    pub(crate) fn demo_home() -> HomeView {
        let mut rows = Vec::new();
        for year in 1989..=2024 {
            let lives = 40 + (year as u64 % 13) * 7;
            let (liv, dig) = if year > 2015 {
                (None, Some(5))
            } else {
                (Some(0), Some(0))
            };
            rows.push(YearFigures {
                year,
                by_dimension: [Some(lives), liv, dig],
                events: Some(lives + 7),
                fatalities: Some(300),
            });
        }
        HomeView {
            sources: SourcePicker {
                sources: vec![
                    ("ucdp-ged".into(), Some(4321)),
                    ("acled".into(), Some(4000)),
                ],
                selected: "ucdp-ged".into(),
            },
            total_events: Some(4321),
            total_fatalities: Some(18_480),
            years: rows,
            k: 5,
            localities_adm1: 17,
            source_note: "UCDP GED 25.1 (CC BY 4.0); boundaries OCHA COD-AB (CC BY-IGO)".into(),
        }
    }

    pub(crate) fn demo_events(n: usize) -> EventsView {
        EventsView {
            filters: EventFilterForm {
                from: "2020-01-01".into(),
                locality: "CF07".into(),
                q: "a \"quoted\" <b>".into(),
                ..Default::default()
            },
            categories: [
                ("armed_violence", "Armed violence"),
                ("violence_against_civilians", "Violence against civilians"),
                ("abduction", "Abduction"),
                ("displacement", "Displacement"),
                ("food_insecurity", "Food insecurity"),
                ("arbitrary_arrest", "Arbitrary arrest"),
            ]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
            localities: (1..=17)
                .map(|i| (format!("CF{i:02}"), format!("Préfecture {i}")))
                .collect(),
            items: (0..n)
                .map(|i| EventRowView {
                    id: format!("5f0c3a1e-8d2b-4f6a-9c7e-{i:012}"),
                    date: "2023-11-04".into(),
                    category_label: "Violence against civilians".into(),
                    dimension: "lives".into(),
                    place: "Ouham-Pendé › Bocaranga".into(),
                    fatalities: if i % 5 == 0 { None } else { Some(i as u32) },
                    status: "verified".into(),
                    source: "ucdp-ged".into(),
                })
                .collect(),
            total: 1848,
            next_page_href: Some("/events?from=2020-01-01&after=abc".into()),
            error: None,
        }
    }

    pub(crate) fn demo_event() -> EventView {
        let t = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        EventView {
            id: "x1".into(),
            source: "web".into(),
            external_id: Some("R-17".into()),
            category_label: "Abduction".into(),
            dimension: "lives".into(),
            occurred: "2023-11-04".into(),
            date_precision: "week".into(),
            place_lineage: vec![
                (
                    "adm0".into(),
                    "CF".into(),
                    "Central African Republic".into(),
                ),
                ("adm1".into(), "CF32".into(), "Ouham-Pendé".into()),
            ],
            latitude: Some(6.123456),
            longitude: Some(16.5),
            location_precision: Some(2),
            casualties: Casualties {
                killed_best: Some(1200),
                killed_low: Some(3),
                injured: Some(4),
                ..Default::default()
            },
            civilians_targeted: true,
            actors: vec![("Group <A>".into(), "perpetrator".into())],
            description: Some("Men came.\n<script>alert('x')</script> & left".into()),
            status: "unverified".into(),
            reliability: Some("B".into()),
            credibility: Some(2),
            source_codes: vec![("type_of_violence".into(), "3".into())],
            created_at: t,
            updated_at: t,
            verification: None,
        }
    }

    #[test]
    fn home_page_shows_counts_table_and_chart() {
        let cat = cat();
        let ctx = PageCtx::new(&cat, Lang::En, "/");
        let s = home_page(&ctx, &demo_home()).into_string();
        no_js(&s);
        assert!(s.contains("4,321 events"));
        assert!(s.contains("18,480 people killed"));
        assert!(s.contains("17 provinces covered"));
        assert!(s.contains("<th class=\"n\" scope=\"col\">Livelihood</th>"));
        assert!(s.contains("<th scope=\"row\">2024</th>"));
        assert!(s.contains("class=\"chart\""));
        assert!(s.contains("href=\"/map\""));
        assert!(s.contains("CC BY 4.0") && s.contains("CC BY-IGO"));
        assert!(s.contains("<form class=\"source\" method=\"get\" action=\"/\">"));
        assert!(s.contains("<option value=\"ucdp-ged\" selected>ucdp-ged (4,321 events)</option>"));
        assert!(s.contains("<option value=\"acled\">acled (4,000 events)</option>"));
        assert!(s.contains("href=\"/map?source=ucdp-ged\""));
        let fr = home_page(&PageCtx::new(&cat, Lang::Fr, "/"), &demo_home()).into_string();
        assert!(fr.contains("4\u{a0}321 événements"));
        assert!(fr.contains("Moyens de subsistance"));
        assert!(fr.contains("Aperçu de la sécurité humaine"));
        let empty = home_page(&ctx, &HomeView::default()).into_string();
        assert!(empty.contains("No events have been recorded yet."));
        assert!(
            !empty.contains("name=\"source\""),
            "no selector without sources"
        );
        assert!(s.contains("withheld"));
        assert!(s.contains("fewer than 5"));
    }

    #[test]
    fn events_page_form_list_and_messages() {
        let cat = cat();
        let ctx = PageCtx::new(&cat, Lang::En, "/events?from=2020-01-01");
        let s = events_page(&ctx, &demo_events(3)).into_string();
        no_js(&s);
        assert!(s.contains("<form method=\"get\" action=\"/events\">"));
        assert!(s.contains("<details class=\"filters\"><summary>"));
        assert!(s.contains("value=\"2020-01-01\""));
        assert!(s.contains("<option value=\"CF07\" selected>Préfecture 7</option>"));
        assert!(s.contains("value=\"a &quot;quoted&quot; &lt;b&gt;\""));
        assert!(s.contains("1,848 events match"));
        assert_eq!(s.matches("<tr>").count(), 4);
        assert!(s.contains("href=\"/events/5f0c3a1e-8d2b-4f6a-9c7e-000000000001\""));
        assert!(s.contains("data-label=\"Fatalities:\">unknown</td>"));
        assert!(s.contains("rel=\"next\" href=\"/events?from=2020-01-01&amp;after=abc\""));

        let mut v = demo_events(0);
        v.next_page_href = None;
        v.total = 0;
        let s = events_page(&ctx, &v).into_string();
        assert!(s.contains("No event matches these filters."));
        assert!(s.contains("<details class=\"filters\" open>"));
        assert!(!s.contains("<table"));

        v.error = Some("from".into());
        let s = events_page(&PageCtx::new(&cat, Lang::Fr, "/events"), &v).into_string();
        assert!(s.contains("La valeur saisie pour «\u{a0}Du\u{a0}» n'est pas valide."));
        assert!(s.contains("aria-invalid=\"true\""));
        v.error = Some("odd".into());
        let s = events_page(&ctx, &v).into_string();
        assert!(s.contains("One of the filter values is not valid."));
    }

    #[test]
    fn event_page_escapes_and_explains() {
        let cat = cat();
        let ctx = PageCtx::new(&cat, Lang::En, "/events/x1");
        let s = event_page(&ctx, &demo_event()).into_string();
        no_js(&s);
        assert!(s.contains("&lt;script&gt;alert('x')&lt;/script&gt; &amp; left"));
        assert!(s.contains("Group &lt;A&gt; (Perpetrator)"));
        assert!(s.contains("2 – within about 25 km of a known place"));
        assert!(s.contains("within a week"));
        assert!(s.contains("1,200"));
        assert!(s.contains("3 – unknown"));
        assert!(s.contains("B – usually reliable"));
        assert!(s.contains("2 – probably true"));
        assert!(s.contains("Ouham-Pendé (CF32)"));
        assert!(s.contains("href=\"geo:6.12346,16.50000\""));
        assert!(s.contains("<time datetime=\"2023-11-14T22:13:20Z\">2023-11-14 22:13 UTC</time>"));
        let fr =
            event_page(&PageCtx::new(&cat, Lang::Fr, "/events/x1"), &demo_event()).into_string();
        assert!(fr.contains("Civils délibérément visés"));
        assert!(fr.contains("1\u{a0}200"));
        assert!(fr.contains("Survenu le 2023-11-04"));
        assert!(fr.contains("Oui"));
    }

    #[test]
    fn map_page_has_svg_and_table() {
        let cat = cat();
        let areas = car_areas();
        let svg = choropleth_lang(Lang::En, &areas, "Events by province", "Events", 600);
        let view = MapView {
            sources: SourcePicker::default(),
            svg,
            title: String::new(),
            legend_note: String::new(),
            rows: areas
                .iter()
                .map(|a| MapRow {
                    code: a.code.clone(),
                    name: a.name.clone(),
                    events: Some(a.value),
                    fatalities: Some(a.value * 3),
                    href: a.href.clone(),
                })
                .collect(),
            k: 5,
        };
        let s = map_page(&PageCtx::new(&cat, Lang::En, "/map"), &view).into_string();
        no_js(&s);
        assert_eq!(s.matches("class=\"area\"").count(), 17);
        assert_eq!(s.matches("<th scope=\"row\">").count(), 17);
        assert!(s.contains("<h1>Events by province</h1>"));
        assert!(s.contains("Grey means none"));
        assert!(s.len() < 100_000, "map page is {} bytes", s.len());
    }

    #[test]
    fn login_page_posts_with_csrf() {
        let cat = cat();
        let view = LoginView {
            error: Some("login-failed".into()),
            username: "ana\"<".into(),
            csrf_token: "tok".into(),
            next: "/events".into(),
            ask_code: false,
        };
        let s = login_page(&PageCtx::new(&cat, Lang::Fr, "/login"), &view).into_string();
        no_js(&s);
        assert!(s.contains("<form method=\"post\" action=\"/login\">"));
        assert!(s.contains("name=\"csrf\" value=\"tok\""));
        assert!(s.contains("name=\"next\" value=\"/events\""));
        assert!(s.contains("value=\"ana&quot;&lt;\""));
        assert!(s.contains("type=\"password\" name=\"password\""));
        assert!(s.contains("Le nom d'utilisateur ou le mot de passe est incorrect."));
        let odd = LoginView {
            error: Some("<b>".into()),
            ..Default::default()
        };
        let s = login_page(&PageCtx::new(&cat, Lang::En, "/login"), &odd).into_string();
        assert!(s.contains("The username or the password is not right."));
    }

    #[test]
    fn error_pages() {
        let cat = cat();
        for (status, text) in [
            (400, "could not be understood"),
            (401, "You need to log in"),
            (403, "not allowed"),
            (404, "This page does not exist."),
            (500, "Something went wrong on our side."),
            (503, "Nothing was saved: try again in a moment."),
            (418, "Something went wrong. Please try again."),
        ] {
            let s = error_page(&cat, Lang::En, status, "").into_string();
            no_js(&s);
            assert!(s.contains(&format!("<h1>Error {status}</h1>")), "{status}");
            assert!(s.contains(text), "{status}");
            assert!(s.contains("href=\"/\""));
        }
        let s = error_page(&cat, Lang::Fr, 500, "error-404").into_string();
        assert!(s.contains("Erreur 500") && s.contains("Cette page n'existe pas."));
        let s = error_page(&cat, Lang::Fr, 404, "<script>").into_string();
        assert!(s.contains("Cette page n'existe pas.") && !s.contains("<script>"));
    }
}
