//! The verification interface as pure functions: the queue page (`/verify`), the parts of
//! the event page that decide, merge and show the history, the decision form with the
//! Admiralty grading explained in plain words, and the page that says why a change was not
//! recorded.
//!
//! Forms are plain POSTs with the CSRF token and the version of the record the analyst saw;
//! nothing needs JavaScript.

use super::i18n::format_decimal;
use super::layout::{render, PageCtx};
use chrono::{DateTime, Utc};
use maud::{html, Markup};

/// Source reliability grades, A to F.
pub const RELIABILITY: [&str; 6] = ["A", "B", "C", "D", "E", "F"];
/// Information credibility grades, 1 to 6.
pub const CREDIBILITY: [&str; 6] = ["1", "2", "3", "4", "5", "6"];

/// What the decision form needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecisionFormView {
    /// The record's id.
    pub id: String,
    /// The version the analyst sees.
    pub version: i64,
    /// The CSRF token.
    pub csrf_token: String,
    /// Where to go after deciding (a local path).
    pub next: String,
    /// The current source reliability, preselected.
    pub reliability: Option<String>,
    /// The current information credibility, preselected.
    pub credibility: Option<u8>,
}

/// A record in a list of duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DuplicateRow {
    /// Id, linked as `/events/{id}`.
    pub id: String,
    /// ISO 8601 date or range.
    pub date: String,
    /// Category label in the page's language.
    pub category_label: String,
    /// Place names from the province down.
    pub place: String,
    /// Source name.
    pub source: String,
    /// Id in the source.
    pub external_id: Option<String>,
    /// Verification status name.
    pub status: String,
}

/// A possible duplicate with why it was proposed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CandidateRow {
    /// The record.
    pub row: DuplicateRow,
    /// Its version (to merge it into this record).
    pub version: i64,
    /// Score in [0, 1].
    pub score: f64,
    /// Distance in km, when both have coordinates.
    pub distance_km: Option<f64>,
    /// Days between the two.
    pub days_apart: u32,
    /// Text similarity in [0, 1], when both have text.
    pub text_similarity: Option<f64>,
}

/// One field a history entry changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeRow {
    /// Field name.
    pub field: String,
    /// Before, if shown.
    pub from: Option<String>,
    /// After, if shown.
    pub to: Option<String>,
    /// Personal data: values not shown.
    pub withheld: bool,
}

/// One entry of a record's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub by: Option<String>,
    /// Kind (`decision`, `merged_into`, …), shown through `history-kind-…` messages.
    pub kind: String,
    /// Why.
    pub reason: Option<String>,
    /// The other record of a merge, linked.
    pub related: Option<String>,
    /// What changed.
    pub changes: Vec<ChangeRow>,
}

/// The verification parts of the event page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventPanel {
    /// Whether the viewer may decide and merge.
    pub can_verify: bool,
    /// The decision form (for a record that is not a duplicate).
    pub form: DecisionFormView,
    /// The root this record duplicates, if it is a duplicate.
    pub duplicate_of: Option<String>,
    /// Records merged into this one.
    pub merged: Vec<DuplicateRow>,
    /// Possible duplicates (verifiers only).
    pub candidates: Vec<CandidateRow>,
    /// Distance and days the candidates were sought within.
    pub rules: (f64, u32),
    /// The record's history, oldest first.
    pub history: Vec<HistoryRow>,
}

/// The queue's filters as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueFilterForm {
    /// A locality code.
    pub locality: String,
    /// A category code.
    pub category: String,
}

/// One report in the queue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueRow {
    /// The report, as in duplicate lists.
    pub row: DuplicateRow,
    /// Its version.
    pub version: i64,
    /// People killed (best estimate).
    pub killed: u64,
    /// People injured, abducted or displaced.
    pub harmed: u64,
    /// Civilians deliberately targeted.
    pub civilians_targeted: bool,
    /// The start of the description.
    pub excerpt: Option<String>,
    /// How many records may be the same incident.
    pub possible_duplicates: usize,
}

/// The queue page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueView {
    /// Filters as typed.
    pub filters: QueueFilterForm,
    /// `(code, name)` of the provinces.
    pub localities: Vec<(String, String)>,
    /// `(code, label)` of the categories.
    pub categories: Vec<(String, String)>,
    /// This page's reports.
    pub items: Vec<QueueRow>,
    /// How many wait in all (with these filters).
    pub total: u64,
    /// Link to the next page.
    pub next_page_href: Option<String>,
    /// The filter whose value is invalid (`locality`, `category`, `cursor`).
    pub error: Option<String>,
    /// The CSRF token for the decision forms.
    pub csrf_token: String,
    /// This page's path and query, to come back to after a decision.
    pub here: String,
}

/// Cuts a description to about `max` characters for the queue.
pub fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max).collect();
        s.push('…');
        s
    }
}

fn timestamp(t: &DateTime<Utc>) -> Markup {
    html! {
        time datetime=(t.format("%Y-%m-%dT%H:%M:%SZ")) { (t.format("%Y-%m-%d %H:%M UTC")) }
    }
}

/// The Admiralty scale in plain words, folded.
pub fn grading_help(ctx: &PageCtx<'_>) -> Markup {
    html! {
        details.help {
            summary { (ctx.t("grading-help-title")) }
            p { (ctx.t("grading-help-intro")) }
            h4 { (ctx.t("event-reliability")) }
            dl.facts {
                @for g in RELIABILITY {
                    dt { (ctx.label("reliability", g)) }
                    dd { (ctx.t(&format!("reliability-{g}-help"))) }
                }
            }
            h4 { (ctx.t("event-credibility")) }
            dl.facts {
                @for g in CREDIBILITY {
                    dt { (ctx.label("credibility", g)) }
                    dd { (ctx.t(&format!("credibility-{g}-help"))) }
                }
            }
        }
    }
}

/// The decision form: verify or reject, a reason (required to reject), and the grading.
/// `key` makes the fields' ids unique when a page holds several forms.
pub fn decision_form(ctx: &PageCtx<'_>, f: &DecisionFormView, key: &str) -> Markup {
    let id = |name: &str| format!("{name}-{key}");
    html! {
        form.decide method="post" action={ "/events/" (f.id) "/verification" } {
            input type="hidden" name="csrf" value=(f.csrf_token);
            input type="hidden" name="version" value=(f.version);
            input type="hidden" name="next" value=(f.next);
            fieldset {
                legend { (ctx.t("decision-legend")) }
                @for (value, label) in [("verified", "decision-verified"), ("rejected", "decision-rejected")] {
                    div.choice {
                        input id=(id(value)) type="radio" name="status" value=(value) required;
                        label for=(id(value)) { (ctx.t(label)) }
                    }
                }
            }
            label for=(id("reason")) {
                (ctx.t("decision-reason")) " "
                span.hint { "(" (ctx.t("decision-reason-hint")) ")" }
            }
            textarea id=(id("reason")) name="reason" rows="2" maxlength="2000" {}
            div.fields {
                div {
                    label for=(id("reliability")) { (ctx.t("event-reliability")) }
                    select id=(id("reliability")) name="reliability" {
                        option value="" { (ctx.t("decision-not-graded")) }
                        @for g in RELIABILITY {
                            option value=(g) selected[f.reliability.as_deref() == Some(g)] {
                                (ctx.label("reliability", g))
                            }
                        }
                    }
                }
                div {
                    label for=(id("credibility")) { (ctx.t("event-credibility")) }
                    select id=(id("credibility")) name="credibility" {
                        option value="" { (ctx.t("decision-not-graded")) }
                        @for g in CREDIBILITY {
                            option value=(g) selected[f.credibility.map(|c| c.to_string()).as_deref() == Some(g)] {
                                (ctx.label("credibility", g))
                            }
                        }
                    }
                }
            }
            p.actions { button.btn type="submit" { (ctx.t("decision-submit")) } }
        }
    }
}

fn merge_form(
    ctx: &PageCtx<'_>,
    panel: &EventPanel,
    (id, version, into): (&str, i64, &str),
    label_key: &str,
) -> Markup {
    html! {
        form.inline method="post" action={ "/events/" (id) "/merge" } {
            input type="hidden" name="csrf" value=(panel.form.csrf_token);
            input type="hidden" name="version" value=(version);
            input type="hidden" name="into" value=(into);
            input type="hidden" name="next" value={ "/events/" (panel.form.id) };
            button.btn type="submit" { (ctx.t(label_key)) }
        }
    }
}

/// The part of the event page under the verification facts: the decision form, or for a
/// duplicate the link to its original and the un-merge form.
pub fn decision_part(ctx: &PageCtx<'_>, p: &EventPanel) -> Markup {
    html! {
        @if let Some(root) = &p.duplicate_of {
            p.msg {
                (ctx.t("dup-of")) " "
                a href={ "/events/" (root) } { (ctx.t("dup-of-link")) }
            }
            @if p.can_verify {
                form method="post" action={ "/events/" (p.form.id) "/unmerge" } {
                    input type="hidden" name="csrf" value=(p.form.csrf_token);
                    input type="hidden" name="version" value=(p.form.version);
                    input type="hidden" name="next" value=(p.form.next);
                    label for="unmerge-reason" { (ctx.t("dup-reason")) }
                    input id="unmerge-reason" type="text" name="reason" maxlength="2000";
                    p.actions { button.btn type="submit" { (ctx.t("dup-unmerge")) } }
                }
            }
        } @else if p.can_verify {
            (decision_form(ctx, &p.form, "event"))
            (grading_help(ctx))
        }
    }
}

fn duplicate_cells(ctx: &PageCtx<'_>, r: &DuplicateRow) -> Markup {
    html! {
        td.head { a href={ "/events/" (r.id) } { (r.date) } }
        td { (r.category_label) }
        td { (r.place) }
        td {
            (r.source)
            @if let Some(x) = &r.external_id { " · " (x) }
        }
        td { (ctx.label("status", &r.status)) }
    }
}

/// The part of the event page at its end: merged duplicates, candidates (for verifiers)
/// and the history.
pub fn records_part(ctx: &PageCtx<'_>, p: &EventPanel) -> Markup {
    let num = |x: f64, d: usize| format_decimal(ctx.lang, x, d);
    html! {
        h2 #duplicates { (ctx.t("dup-title")) }
        @if p.merged.is_empty() {
            @if p.duplicate_of.is_none() { p { (ctx.t("dup-none-merged")) } }
        } @else {
            div.scroll {
                table {
                    caption { (ctx.t("dup-merged")) }
                    thead { tr {
                        th scope="col" { (ctx.t("col-date")) }
                        th scope="col" { (ctx.t("col-category")) }
                        th scope="col" { (ctx.t("col-place")) }
                        th scope="col" { (ctx.t("col-source")) }
                        th scope="col" { (ctx.t("col-status")) }
                    } }
                    tbody { @for r in &p.merged { tr { (duplicate_cells(ctx, r)) } } }
                }
            }
        }
        @if p.can_verify && p.duplicate_of.is_none() {
            h3 { (ctx.t("dup-candidates")) }
            p { (ctx.t_args("dup-candidates-intro", &[("km", p.rules.0.into()), ("days", p.rules.1.into())])) }
            @if p.candidates.is_empty() {
                p.msg { (ctx.t("dup-no-candidates")) }
            } @else {
                @for c in &p.candidates {
                    div.candidate {
                        p {
                            a href={ "/events/" (c.row.id) } { (c.row.date) " · " (c.row.category_label) }
                            " · " (c.row.place) " · " (c.row.source)
                            @if let Some(x) = &c.row.external_id { " " (x) }
                            " · " (ctx.label("status", &c.row.status))
                        }
                        p.sub {
                            (ctx.t("dup-score")) (ctx.t("colon")) " " strong { (num(c.score, 2)) }
                            " · "
                            @match c.distance_km {
                                Some(d) => { (ctx.t("dup-distance")) (ctx.t("colon")) " " (num(d, 1)) " km" }
                                None => (ctx.t("dup-same-locality")),
                            }
                            " · " (ctx.t_args("dup-days", &[("days", c.days_apart.into())]))
                            " · " (ctx.t("dup-text")) (ctx.t("colon")) " "
                            @match c.text_similarity {
                                Some(t) => (num(t, 2)),
                                None => (ctx.t("dup-no-text")),
                            }
                        }
                        p.actions {
                            (merge_form(ctx, p, (&p.form.id, p.form.version, &c.row.id), "dup-merge-this"))
                            (merge_form(ctx, p, (&c.row.id, c.version, &p.form.id), "dup-merge-that"))
                        }
                    }
                }
            }
        }
        h2 #history { (ctx.t("history-title")) }
        @if p.history.is_empty() {
            p { (ctx.t("history-none")) }
        } @else {
            ol.history {
                @for h in &p.history {
                    li {
                        p {
                            (timestamp(&h.at)) " · "
                            strong { (ctx.label("history-kind", &h.kind)) }
                            @if let Some(r) = &h.related {
                                " (" a href={ "/events/" (r) } { (ctx.t("history-related")) } ")"
                            }
                            @if let Some(by) = &h.by { " · " (ctx.t_args("history-by", &[("user", by.into())])) }
                        }
                        @if let Some(r) = &h.reason { p.desc { (ctx.t("decision-reason")) (ctx.t("colon")) " " (r) } }
                        @if !h.changes.is_empty() {
                            ul {
                                @for c in &h.changes {
                                    li {
                                        code { (c.field) }
                                        @if c.withheld {
                                            " " (ctx.t("history-withheld"))
                                        } @else if c.from.is_some() || c.to.is_some() {
                                            (ctx.t("colon")) " "
                                            (c.from.as_deref().unwrap_or("–")) " → " (c.to.as_deref().unwrap_or("–"))
                                        } @else {
                                            " " (ctx.t("history-changed"))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Renders the queue page.
pub fn queue_page(ctx: &PageCtx<'_>, view: &QueueView) -> Markup {
    let title = ctx.t("verify-title");
    let f = &view.filters;
    let bad = view.error.as_deref().unwrap_or("");
    let select = |name: &str, current: &str, options: &[(String, String)]| {
        html! {
            select id={ "q-" (name) } name=(name) aria-invalid=[(bad == name).then_some("true")] {
                option value="" { (ctx.t("filter-any")) }
                @for (value, label) in options {
                    option value=(value) selected[current == value] { (label) }
                }
            }
        }
    };
    let body = html! {
        h1 { (title) }
        p.lead { (ctx.t("verify-intro")) }
        details.filters open[!f.locality.is_empty() || !f.category.is_empty() || view.error.is_some()] {
            summary { (ctx.t("verify-filter-legend")) }
            form method="get" action="/verify" {
                div.fields {
                    div {
                        label for="q-locality" { (ctx.t("filter-locality")) }
                        (select("locality", &f.locality, &view.localities))
                    }
                    div {
                        label for="q-category" { (ctx.t("filter-category")) }
                        (select("category", &f.category, &view.categories))
                    }
                }
                p.actions {
                    button.btn type="submit" { (ctx.t("verify-filter-apply")) }
                    a href="/verify" { (ctx.t("filter-clear")) }
                }
            }
        }
        @if view.error.is_some() {
            p.msg.error role="alert" { (ctx.t("verify-invalid-filter")) }
        }
        p { strong { (ctx.t_args("verify-count", &[("count", view.total.into())])) } }
        @if view.items.is_empty() {
            @if view.error.is_none() { p.msg { (ctx.t("verify-none")) } }
        } @else {
            ol.queue {
                @for (i, q) in view.items.iter().enumerate() {
                    li.candidate {
                        p {
                            a href={ "/events/" (q.row.id) } { strong { (q.row.date) " · " (q.row.category_label) } }
                        }
                        p.sub {
                            (q.row.place) " · " (q.row.source)
                            @if let Some(x) = &q.row.external_id { " " (x) }
                        }
                        p {
                            (ctx.t_args("verify-killed", &[("count", q.killed.into())]))
                            " · " (ctx.t_args("verify-harmed", &[("count", q.harmed.into())]))
                            @if q.civilians_targeted { " · " strong { (ctx.t("civilians-targeted")) } }
                        }
                        @if let Some(x) = &q.excerpt { p.desc { (x) } }
                        @if q.possible_duplicates > 0 {
                            p {
                                a href={ "/events/" (q.row.id) "#duplicates" } {
                                    (ctx.t_args("verify-possible-duplicates", &[("count", q.possible_duplicates.into())]))
                                }
                            }
                        }
                        details {
                            summary { (ctx.t("verify-decide-here")) }
                            (decision_form(ctx, &DecisionFormView {
                                id: q.row.id.clone(),
                                version: q.version,
                                csrf_token: view.csrf_token.clone(),
                                next: view.here.clone(),
                                reliability: None,
                                credibility: None,
                            }, &i.to_string()))
                        }
                    }
                }
            }
            (grading_help(ctx))
        }
        @if let Some(href) = &view.next_page_href {
            p.pager { a rel="next" href=(href) { (ctx.t("events-next")) " →" } }
        }
    };
    render(ctx, &title, body)
}

/// The page that says why a change was not recorded (`message` already translated), with
/// a link back to the record.
pub fn problem_page(ctx: &PageCtx<'_>, message: &str, back: &str) -> Markup {
    let title = ctx.t("verify-problem-title");
    let body = html! {
        h1 { (title) }
        p.msg.error role="alert" { (message) }
        p.actions { a href=(back) { "← " (ctx.t("verify-back")) } }
    };
    render(ctx, &title, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::i18n::{Catalog, Lang};

    fn no_js(s: &str) {
        for bad in ["<script", "<style", "style=", "onclick", "http:", "https:"] {
            assert!(!s.contains(bad), "{bad}");
        }
    }

    fn row(i: usize) -> DuplicateRow {
        DuplicateRow {
            id: format!("id-{i}"),
            date: "2024-05-10".into(),
            category_label: "Violence against civilians".into(),
            place: "Ouaka › Bambari".into(),
            source: "web".into(),
            external_id: Some(format!("R-{i}")),
            status: "unverified".into(),
        }
    }

    fn panel() -> EventPanel {
        let t = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        EventPanel {
            can_verify: true,
            form: DecisionFormView {
                id: "id-0".into(),
                version: 4,
                csrf_token: "tok".into(),
                next: "/events/id-0".into(),
                reliability: Some("B".into()),
                credibility: Some(2),
            },
            duplicate_of: None,
            merged: vec![row(7)],
            candidates: vec![CandidateRow {
                row: row(1),
                version: 3,
                score: 0.876,
                distance_km: Some(1.26),
                days_apart: 1,
                text_similarity: Some(0.9),
            }],
            rules: (10.0, 3),
            history: vec![HistoryRow {
                at: t,
                by: Some("ana <b>".into()),
                kind: "decision".into(),
                reason: Some("two <witnesses>".into()),
                related: None,
                changes: vec![
                    ChangeRow {
                        field: "status".into(),
                        from: Some("unverified".into()),
                        to: Some("verified".into()),
                        withheld: false,
                    },
                    ChangeRow {
                        field: "people".into(),
                        withheld: true,
                        ..Default::default()
                    },
                ],
            }],
        }
    }

    #[test]
    fn event_parts_hold_the_forms_candidates_and_history() {
        let cat = Catalog::new();
        let ctx = PageCtx::new(&cat, Lang::En, "/events/id-0");
        let p = panel();
        let s = decision_part(&ctx, &p).into_string();
        no_js(&s);
        assert!(s.contains("action=\"/events/id-0/verification\""));
        assert!(s.contains("name=\"csrf\" value=\"tok\""));
        assert!(s.contains("name=\"version\" value=\"4\""));
        assert!(s.contains("<option value=\"B\" selected>B – usually reliable</option>"));
        assert!(s.contains("<option value=\"2\" selected>2 – probably true</option>"));
        assert!(s.contains("What do the grades mean?"));
        let s = records_part(&ctx, &p).into_string();
        no_js(&s);
        assert!(
            s.contains("href=\"/events/id-7\""),
            "merged duplicates are listed"
        );
        assert!(s.contains("action=\"/events/id-0/merge\""));
        assert!(s.contains("action=\"/events/id-1/merge\""));
        assert!(s.contains("name=\"into\" value=\"id-1\""));
        assert!(s.contains("name=\"version\" value=\"3\""));
        assert!(s.contains("0.88") && s.contains("1.3 km") && s.contains("1 day apart"));
        assert!(s.contains("ana &lt;b&gt;") && s.contains("two &lt;witnesses&gt;"));
        assert!(s.contains("unverified → verified"));
        assert!(s.contains("personal data"));

        // A duplicate offers un-merging instead of deciding; a reader sees no forms.
        let mut dup = panel();
        dup.duplicate_of = Some("root-1".into());
        let s = decision_part(&ctx, &dup).into_string();
        assert!(
            s.contains("action=\"/events/id-0/unmerge\"") && s.contains("href=\"/events/root-1\"")
        );
        assert!(!s.contains("/verification"));
        let mut reader = panel();
        reader.can_verify = false;
        let s =
            decision_part(&ctx, &reader).into_string() + &records_part(&ctx, &reader).into_string();
        assert!(!s.contains("<form"));
        assert!(s.contains("href=\"/events/id-7\""));

        let fr = PageCtx::new(&cat, Lang::Fr, "/events/id-0");
        let s = records_part(&fr, &panel()).into_string();
        assert!(s.contains("0,88") && s.contains("1,3 km"), "{s}");
    }

    #[test]
    fn queue_page_lists_reports_with_forms() {
        let cat = Catalog::new();
        let view = QueueView {
            filters: QueueFilterForm {
                locality: "CF43".into(),
                category: String::new(),
            },
            localities: vec![("CF43".into(), "Ouaka".into())],
            categories: vec![("abduction".into(), "Abduction".into())],
            items: (0..3)
                .map(|i| QueueRow {
                    row: row(i),
                    version: 1,
                    killed: 3,
                    harmed: 1200,
                    civilians_targeted: i == 0,
                    excerpt: Some("Men <came>".into()),
                    possible_duplicates: i,
                })
                .collect(),
            total: 1234,
            next_page_href: Some("/verify?cursor=abc".into()),
            error: None,
            csrf_token: "tok".into(),
            here: "/verify?locality=CF43".into(),
        };
        let s = queue_page(&PageCtx::new(&cat, Lang::En, "/verify"), &view).into_string();
        no_js(&s);
        assert!(s.contains("1,234 reports wait"));
        assert!(s.contains("<option value=\"CF43\" selected>Ouaka</option>"));
        assert_eq!(s.matches("action=\"/events/id-").count(), 3);
        assert!(s.contains("name=\"next\" value=\"/verify?locality=CF43\""));
        assert!(s.contains("1,200 injured, abducted or displaced"));
        assert!(s.contains("Men &lt;came&gt;"));
        assert!(s.contains("id=\"reason-2\""));
        assert!(s.contains("href=\"/events/id-2#duplicates\">2 possible duplicates"));
        assert!(!s.contains("href=\"/events/id-0#duplicates\""));
        let fr = queue_page(&PageCtx::new(&cat, Lang::Fr, "/verify"), &view).into_string();
        assert!(fr.contains("1\u{a0}234"));
        let empty = queue_page(
            &PageCtx::new(&cat, Lang::En, "/verify"),
            &QueueView {
                error: Some("locality".into()),
                ..Default::default()
            },
        )
        .into_string();
        assert!(empty.contains("role=\"alert\""));
        assert_eq!(excerpt("abcdef", 3), "abc…");
        assert_eq!(excerpt("abc", 3), "abc");
    }

    #[test]
    fn problem_page_links_back() {
        let cat = Catalog::new();
        let s = problem_page(
            &PageCtx::new(&cat, Lang::Fr, "/events/x/verification"),
            "<b>",
            "/events/x",
        )
        .into_string();
        no_js(&s);
        assert!(s.contains("&lt;b&gt;") && s.contains("href=\"/events/x\""));
    }
}
