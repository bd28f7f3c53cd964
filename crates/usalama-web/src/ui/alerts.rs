//! The alert pages as pure functions: `/alerts` (the list with a filter form) and
//! `/alerts/{id}` (the alert, its evidence, its history, links to its CAP document, and
//! for analysts and responders the lifecycle form). No JavaScript.

use super::layout::{render, PageCtx};
use maud::{html, Markup};

/// One row of the alert list.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRowView {
    /// Id.
    pub id: String,
    /// Raised (date and time, UTC).
    pub raised: String,
    /// Severity (lowercase CAP name).
    pub severity: String,
    /// Locality name (and code).
    pub place: String,
    /// The rule's name.
    pub rule: String,
    /// Period.
    pub period: String,
    /// Status.
    pub status: String,
    /// Headline.
    pub headline: String,
}

/// What `/alerts` shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlertListView {
    /// Rows, newest first.
    pub rows: Vec<AlertRowView>,
    /// The status filter.
    pub status: String,
    /// The least severity filter.
    pub min_severity: String,
    /// The parameter at fault, if the filters were refused.
    pub error: Option<String>,
}

/// One history entry.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryView {
    /// When.
    pub at: String,
    /// The status after.
    pub to: String,
    /// Who (empty when withheld).
    pub by: String,
    /// The note.
    pub note: String,
}

/// What `/alerts/{id}` shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlertDetailView {
    /// Id.
    pub id: String,
    /// Headline.
    pub headline: String,
    /// Description.
    pub description: String,
    /// Rule name.
    pub rule: String,
    /// Locality.
    pub place: String,
    /// Period.
    pub period: String,
    /// CAP severity, urgency, certainty.
    pub grading: [String; 3],
    /// Status.
    pub status: String,
    /// Evidence values (name, value).
    pub values: Vec<(String, String)>,
    /// Evidence events (ids), linked for readers of event records.
    pub events: Vec<String>,
    /// Whether the viewer may open event records.
    pub link_events: bool,
    /// History.
    pub history: Vec<HistoryView>,
    /// The statuses the viewer may move the alert to (empty: no form).
    pub next: Vec<String>,
}

const STATUSES: [&str; 4] = ["new", "acknowledged", "responded", "closed"];
const SEVERITIES: [&str; 5] = ["extreme", "severe", "moderate", "minor", "unknown"];

/// The alert list page.
pub fn list_page(ctx: &PageCtx<'_>, v: &AlertListView) -> Markup {
    let title = ctx.t("alerts-title");
    let body = html! {
        h1 { (title) }
        p { (ctx.t("alerts-intro")) " "
            a href="/api/v1/alerts/feed.atom" type="application/atom+xml" { (ctx.t("alerts-feed")) } }
        @if let Some(field) = &v.error {
            p.msg.error role="alert" { (ctx.t_args("alerts-bad-filter", &[("field", field.as_str().into())])) }
        }
        form.filters method="get" action="/alerts" {
            label { (ctx.t("alerts-col-status")) " "
                select name="status" {
                    option value="" { (ctx.t("alerts-any")) }
                    @for s in STATUSES {
                        option value=(s) selected[v.status == s] { (ctx.t(&format!("alerts-status-{s}"))) }
                    }
                }
            }
            " "
            label { (ctx.t("alerts-min-severity")) " "
                select name="min_severity" {
                    option value="" { (ctx.t("alerts-any")) }
                    @for s in SEVERITIES {
                        option value=(s) selected[v.min_severity == s] { (ctx.t(&format!("alerts-severity-{s}"))) }
                    }
                }
            }
            " "
            button type="submit" { (ctx.t("alerts-filter")) }
        }
        @if v.rows.is_empty() {
            p { (ctx.t("alerts-none")) }
        } @else {
            table {
                caption { (ctx.t("alerts-caption")) }
                thead { tr {
                    th scope="col" { (ctx.t("alerts-col-raised")) }
                    th scope="col" { (ctx.t("alerts-col-severity")) }
                    th scope="col" { (ctx.t("alerts-col-place")) }
                    th scope="col" { (ctx.t("alerts-col-rule")) }
                    th scope="col" { (ctx.t("alerts-col-period")) }
                    th scope="col" { (ctx.t("alerts-col-status")) }
                } }
                tbody {
                    @for r in &v.rows {
                        tr {
                            td { (r.raised) }
                            td { (ctx.t(&format!("alerts-severity-{}", r.severity))) }
                            td { a href=(format!("/alerts/{}", r.id)) title=(r.headline) { (r.place) } }
                            td { (r.rule) }
                            td { (r.period) }
                            td { (ctx.t(&format!("alerts-status-{}", r.status))) }
                        }
                    }
                }
            }
        }
    };
    render(ctx, &title, body)
}

/// The alert page.
pub fn detail_page(ctx: &PageCtx<'_>, v: &AlertDetailView) -> Markup {
    let body = html! {
        h1 { (v.headline) }
        p { (v.description) }
        dl {
            dt { (ctx.t("alerts-col-rule")) } dd { (v.rule) }
            dt { (ctx.t("alerts-col-place")) } dd { (v.place) }
            dt { (ctx.t("alerts-col-period")) } dd { (v.period) }
            dt { (ctx.t("alerts-col-severity")) } dd { (ctx.t(&format!("alerts-severity-{}", v.grading[0]))) }
            dt { (ctx.t("alerts-urgency")) } dd { (v.grading[1]) }
            dt { (ctx.t("alerts-certainty")) } dd { (v.grading[2]) }
            dt { (ctx.t("alerts-col-status")) } dd { (ctx.t(&format!("alerts-status-{}", v.status))) }
        }
        p {
            a href=(format!("/api/v1/alerts/{}.cap.xml", v.id)) type="application/cap+xml" { (ctx.t("alerts-cap")) }
        }
        h2 { (ctx.t("alerts-evidence")) }
        @if !v.values.is_empty() {
            table {
                caption { (ctx.t("alerts-evidence-values")) }
                tbody {
                    @for (name, value) in &v.values {
                        tr { th scope="row" { (name) } td { (value) } }
                    }
                }
            }
        }
        @if !v.events.is_empty() {
            p { (ctx.t("alerts-evidence-events")) }
            ul {
                @for e in &v.events {
                    li {
                        @if v.link_events { a href=(format!("/events/{e}")) { (e) } } @else { (e) }
                    }
                }
            }
        }
        h2 { (ctx.t("alerts-history")) }
        table {
            caption { (ctx.t("alerts-history")) }
            thead { tr {
                th scope="col" { (ctx.t("alerts-history-at")) }
                th scope="col" { (ctx.t("alerts-col-status")) }
                th scope="col" { (ctx.t("alerts-history-by")) }
                th scope="col" { (ctx.t("alerts-history-note")) }
            } }
            tbody {
                @for h in &v.history {
                    tr {
                        td { (h.at) }
                        td { (ctx.t(&format!("alerts-status-{}", h.to))) }
                        td { (h.by) }
                        td { (h.note) }
                    }
                }
            }
        }
        @if !v.next.is_empty() {
            h2 { (ctx.t("alerts-change")) }
            form method="post" action=(format!("/alerts/{}/status", v.id)) {
                @if let Some(token) = ctx.csrf_token {
                    input type="hidden" name="csrf" value=(token);
                }
                input type="hidden" name="expected" value=(v.status);
                p { label { (ctx.t("alerts-history-note")) br; textarea name="note" rows="3" cols="60" maxlength="2000" {} } }
                p.actions {
                    @for s in &v.next {
                        button type="submit" name="status" value=(s) { (ctx.t(&format!("alerts-to-{s}"))) } " "
                    }
                }
            }
        }
        p.actions { a href="/alerts" { "← " (ctx.t("alerts-back")) } }
    };
    render(ctx, &v.headline, body)
}
