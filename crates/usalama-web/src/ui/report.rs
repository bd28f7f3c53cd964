//! The report form for monitors (`/report`), its "did you mean" step, the page with the
//! reference, and the status page (`/report/status`): view models and templates.
//!
//! The form is one plain POST that works without JavaScript on a small phone. The one
//! script, `/static/report.js`, only adds: the phone's position, place suggestions, and a
//! draft kept on the device while offline. It finds its messages in `data-` attributes,
//! so that they come from the catalogue like every other text.

use super::layout::{render, PageCtx};
use maud::{html, Markup};

/// How many rows of people involved the form offers.
pub const PEOPLE_ROWS: usize = 3;

/// One person as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonValues {
    /// Name.
    pub name: String,
    /// Age.
    pub age: String,
    /// `female`, `male`, `other` or empty.
    pub sex: String,
    /// Role.
    pub role: String,
}

/// The form's values exactly as typed, to show them back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportValues {
    /// Category code.
    pub category: String,
    /// `YYYY-MM-DD`.
    pub occurred_start: String,
    /// Place name.
    pub place: String,
    /// Chosen locality code (from the "did you mean" list or the script).
    pub place_code: String,
    /// Latitude.
    pub latitude: String,
    /// Longitude.
    pub longitude: String,
    /// People killed.
    pub killed: String,
    /// People injured.
    pub injured: String,
    /// People displaced.
    pub displaced: String,
    /// What happened.
    pub description: String,
    /// People involved.
    pub people: Vec<PersonValues>,
    /// Contact.
    pub reporter_contact: String,
    /// The form's one-time id, which makes a resend return the stored report.
    pub nonce: String,
    /// "Keep the description private" is ticked.
    pub description_private: bool,
    /// "Keep the exact location private" is ticked.
    pub location_private: bool,
}

/// A place to choose from when the typed name is ambiguous or misspelt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlaceOption {
    /// Locality code.
    pub code: String,
    /// What the reporter reads: name, level and where it is ("Nola (District) – Sangha-Mbaéré").
    pub label: String,
}

/// The report form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportFormView {
    /// The CSRF token.
    pub csrf_token: String,
    /// `(dimension label, [(code, label)])`, in the taxonomy's order.
    pub groups: Vec<(String, Vec<(String, String)>)>,
    /// The values.
    pub values: ReportValues,
    /// `(field, message)`: field is the form control's name, message already translated.
    pub errors: Vec<(String, String)>,
    /// Places to choose from, when the typed name needs confirming.
    pub candidates: Vec<PlaceOption>,
    /// Today, `YYYY-MM-DD` (the latest date accepted).
    pub today: String,
    /// A catalogue key for a message above the form (`report-expired`).
    pub notice: Option<String>,
}

/// The page shown once a report is stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportDoneView {
    /// The reference.
    pub reference: String,
    /// Whether the report had been received before (a resend).
    pub existed: bool,
}

/// The status page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportStatusView {
    /// The reference as typed.
    pub reference: String,
    /// `received`, `verified`, `rejected` or `merged` when found.
    pub status: Option<String>,
    /// Whether a reference was asked for and not found.
    pub not_found: bool,
}

fn error_for<'a>(view: &'a ReportFormView, field: &str) -> Option<&'a str> {
    view.errors
        .iter()
        .find(|(f, _)| f == field)
        .map(|(_, m)| m.as_str())
}

/// A labelled text-like input with its error.
#[allow(clippy::too_many_arguments)]
fn input(
    ctx: &PageCtx<'_>,
    view: &ReportFormView,
    name: &str,
    kind: &str,
    value: &str,
    label_key: &str,
    hint_key: Option<&str>,
    extra: &[(&str, &str)],
) -> Markup {
    let err = error_for(view, name);
    let id = format!("f-{name}");
    let attr = |k: &str| extra.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
    html! {
        div.field {
            label for=(id) { (ctx.t(label_key)) }
            @if let Some(h) = hint_key { span.hint id={ (id) "-hint" } { (ctx.t(h)) } }
            @if let Some(e) = err { span.err id={ (id) "-err" } { (e) } }
            input id=(id) name=(name) type=(kind) value=(value)
                inputmode=[attr("inputmode")] min=[attr("min")] max=[attr("max")]
                maxlength=[attr("maxlength")] autocomplete=[attr("autocomplete")]
                list=[attr("list")] placeholder=[attr("placeholder")]
                aria-describedby=[hint_key.map(|_| format!("{id}-hint"))]
                aria-invalid=[err.map(|_| "true")];
        }
    }
}

/// Renders the report form (and its "did you mean" step when `candidates` is not empty).
pub fn report_form(ctx: &PageCtx<'_>, view: &ReportFormView) -> Markup {
    let v = &view.values;
    let title = ctx.t("report-title");
    let state = if !view.errors.is_empty() {
        "errors"
    } else if !view.candidates.is_empty() {
        "choose"
    } else {
        "new"
    };
    let cat_err = error_for(view, "category");
    let body = html! {
        h1 { (title) }
        p.lead { (ctx.t("report-intro")) }
        p.msg { (ctx.t("report-anonymous-note")) }
        @if let Some(n) = &view.notice {
            p.msg.error role="alert" { (ctx.t(n)) }
        }
        @if !view.errors.is_empty() {
            div.msg.error role="alert" {
                p { strong { (ctx.t("report-errors-title")) } }
                ul {
                    @for (field, message) in &view.errors {
                        li { a href={ "#f-" (field) } { (message) } }
                    }
                }
            }
        }
        p #report-status.msg hidden role="status" {}
        form #report-form.report method="post" action="/report"
            data-state=(state)
            data-msg-saved=(ctx.t("report-saved-offline"))
            data-msg-sending=(ctx.t("report-sending"))
            data-msg-restored=(ctx.t("report-draft-restored"))
            data-msg-position=(ctx.t("report-position-failed")) {
            input type="hidden" name="csrf" value=(view.csrf_token);
            input type="hidden" name="nonce" value=(v.nonce);
            fieldset {
                legend { (ctx.t("report-what")) }
                div.field {
                    label for="f-category" { (ctx.t("report-category")) }
                    @if let Some(e) = cat_err { span.err id="f-category-err" { (e) } }
                    select id="f-category" name="category" required
                        aria-invalid=[cat_err.map(|_| "true")] {
                        option value="" { (ctx.t("report-category-choose")) }
                        @for (group, cats) in &view.groups {
                            optgroup label=(group) {
                                @for (code, label) in cats {
                                    option value=(code) selected[v.category == *code] { (label) }
                                }
                            }
                        }
                    }
                }
                div.field {
                    label for="f-description" { (ctx.t("report-description")) }
                    span.hint id="f-description-hint" { (ctx.t("report-description-hint")) }
                    @if let Some(e) = error_for(view, "description") { span.err { (e) } }
                    textarea id="f-description" name="description" rows="4" maxlength="20000"
                        aria-describedby="f-description-hint"
                        aria-invalid=[error_for(view, "description").map(|_| "true")] { (v.description) }
                }
                div.field.check {
                    label.checkbox for="f-description_private" {
                        input type="checkbox" id="f-description_private" name="description_private" value="1"
                            aria-describedby="f-description_private-hint" checked[v.description_private];
                        " " (ctx.t("report-description-private"))
                    }
                    span.hint id="f-description_private-hint" { (ctx.t("report-description-private-hint")) }
                }
            }
            fieldset {
                legend { (ctx.t("report-when")) }
                (input(ctx, view, "occurred_start", "date", &v.occurred_start, "report-date",
                    Some("report-date-hint"), &[("max", &view.today), ("min", "1900-01-01"), ("placeholder", "YYYY-MM-DD")]))
            }
            fieldset {
                legend { (ctx.t("report-where")) }
                p.hint { (ctx.t("report-where-hint")) }
                @if view.candidates.is_empty() {
                    (input(ctx, view, "place", "text", &v.place, "report-place", Some("report-place-hint"),
                        &[("autocomplete", "off"), ("list", "place-list"), ("maxlength", "500")]))
                    datalist #place-list {}
                    input #f-place_code type="hidden" name="place_code" value=(v.place_code);
                } @else {
                    input type="hidden" name="place" value=(v.place);
                    div.field.choose role="group" aria-labelledby="choose-title" {
                        p #choose-title { strong { (ctx.t_args("report-did-you-mean", &[("place", v.place.as_str().into())])) } }
                        @for (i, c) in view.candidates.iter().enumerate() {
                            label.radio {
                                input type="radio" name="place_code" value=(c.code) checked[i == 0] id={ "f-place_code" @if i > 0 { "-" (i) } };
                                " " (c.label)
                            }
                        }
                        label.radio {
                            input type="radio" name="place_code" value="-";
                            " " (ctx.t("report-keep-typed"))
                        }
                    }
                }
                p.hint { (ctx.t("report-or-position")) }
                div.pair {
                    (input(ctx, view, "latitude", "text", &v.latitude, "report-latitude", None,
                        &[("inputmode", "decimal"), ("autocomplete", "off"), ("maxlength", "20")]))
                    (input(ctx, view, "longitude", "text", &v.longitude, "report-longitude", None,
                        &[("inputmode", "decimal"), ("autocomplete", "off"), ("maxlength", "20")]))
                }
                p { button #use-position.btn.secondary type="button" hidden { (ctx.t("report-use-position")) } }
                div.field.check {
                    label.checkbox for="f-location_private" {
                        input type="checkbox" id="f-location_private" name="location_private" value="1"
                            aria-describedby="f-location_private-hint" checked[v.location_private];
                        " " (ctx.t("report-location-private"))
                    }
                    span.hint id="f-location_private-hint" { (ctx.t("report-location-private-hint")) }
                }
            }
            fieldset {
                legend { (ctx.t("report-how-many")) }
                div.pair.three {
                    @for (name, key) in [("killed", "report-killed"), ("injured", "report-injured"), ("displaced", "report-displaced")] {
                        (input(ctx, view, name, "number",
                            match name { "killed" => &v.killed, "injured" => &v.injured, _ => &v.displaced },
                            key, None, &[("min", "0"), ("inputmode", "numeric")]))
                    }
                }
            }
            details.people open[v.people.iter().any(|p| *p != PersonValues::default())
                || view.errors.iter().any(|(f, _)| f.starts_with('p') && f.contains('_'))] {
                summary { (ctx.t("report-people")) }
                p.hint { (ctx.t("report-people-hint")) }
                @for i in 0..PEOPLE_ROWS {
                    @let p = v.people.get(i).cloned().unwrap_or_default();
                    fieldset.person {
                        legend { (ctx.t_args("report-person", &[("n", (i + 1).into())])) }
                        div.pair {
                            (input(ctx, view, &format!("p{i}_name"), "text", &p.name, "report-person-name", None, &[("maxlength", "200"), ("autocomplete", "off")]))
                            (input(ctx, view, &format!("p{i}_age"), "number", &p.age, "report-person-age", None, &[("min", "0"), ("max", "130"), ("inputmode", "numeric")]))
                        }
                        div.pair {
                            div.field {
                                label for={ "f-p" (i) "_sex" } { (ctx.t("report-person-sex")) }
                                @if let Some(e) = error_for(view, &format!("p{i}_sex")) { span.err { (e) } }
                                select id={ "f-p" (i) "_sex" } name={ "p" (i) "_sex" } {
                                    option value="" { (ctx.t("report-sex-unsaid")) }
                                    @for s in ["female", "male", "other"] {
                                        option value=(s) selected[p.sex == s] { (ctx.t(&format!("report-sex-{s}"))) }
                                    }
                                }
                            }
                            (input(ctx, view, &format!("p{i}_role"), "text", &p.role, "report-person-role", None, &[("maxlength", "100")]))
                        }
                    }
                }
            }
            fieldset {
                legend { (ctx.t("report-contact")) }
                (input(ctx, view, "reporter_contact", "text", &v.reporter_contact, "report-contact-label",
                    Some("report-contact-hint"), &[("maxlength", "200"), ("autocomplete", "off")]))
            }
            p.hint { (ctx.t("report-privacy")) }
            p.actions { button.btn type="submit" { (ctx.t("report-submit")) } }
        }
        p { a href="/report/status" { (ctx.t("report-status-link")) } }
        script src="/static/report.js" defer {}
    };
    render(ctx, &title, body)
}

/// Renders the page with the reference of a stored report.
pub fn report_done(ctx: &PageCtx<'_>, view: &ReportDoneView) -> Markup {
    let title = ctx.t("report-done-title");
    let body = html! {
        h1 { (title) }
        div #report-done data-sent="true" {
            p.lead {
                @if view.existed { (ctx.t("report-done-again")) } @else { (ctx.t("report-done-text")) }
            }
            p { (ctx.t("report-reference-label")) }
            p.reference { strong { (view.reference) } }
            p { (ctx.t("report-done-keep")) }
            p.actions {
                a href={ "/report/status?ref=" (view.reference) } { (ctx.t("report-status-link")) }
                a href="/report" { (ctx.t("report-another")) }
            }
        }
        script src="/static/report.js" defer {}
    };
    render(ctx, &title, body)
}

/// Renders the status page: a form for the reference and, when asked, the status alone.
pub fn report_status(ctx: &PageCtx<'_>, view: &ReportStatusView) -> Markup {
    let title = ctx.t("status-title");
    let body = html! {
        h1 { (title) }
        p { (ctx.t("status-intro")) }
        form.inline-form method="get" action="/report/status" {
            div.field {
                label for="f-ref" { (ctx.t("status-ref-label")) }
                input id="f-ref" name="ref" type="text" value=(view.reference)
                    autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="20"
                    placeholder="XXXXX-XXXXX";
            }
            p.actions { button.btn type="submit" { (ctx.t("status-check")) } }
        }
        @if let Some(s) = &view.status {
            p.msg role="status" {
                (ctx.t("status-is")) " " strong { (ctx.t(&format!("report-status-{s}"))) }
            }
            p { (ctx.t(&format!("report-status-{s}-text"))) }
        }
        @if view.not_found {
            p.msg.error role="alert" { (ctx.t("status-not-found")) }
        }
    };
    render(ctx, &title, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::i18n::{Catalog, Lang};

    fn view() -> ReportFormView {
        ReportFormView {
            csrf_token: "tok".into(),
            groups: vec![(
                "Lives".into(),
                vec![("armed_violence".into(), "Fighting".into())],
            )],
            values: ReportValues {
                category: "armed_violence".into(),
                occurred_start: "2023-11-14".into(),
                place: "Nola <b>".into(),
                nonce: "n1".into(),
                ..Default::default()
            },
            today: "2023-11-14".into(),
            ..Default::default()
        }
    }

    #[test]
    fn the_form_works_without_script_and_escapes() {
        let cat = Catalog::new();
        for lang in [Lang::En, Lang::Fr] {
            let s = report_form(&PageCtx::new(&cat, lang, "/report"), &view()).into_string();
            let form = s.split("<form").nth(1).unwrap_or_default();
            assert!(
                form.contains("method=\"post\" action=\"/report\"")
                    && form.contains("id=\"report-form\""),
                "{form}"
            );
            assert!(s.contains("name=\"csrf\" value=\"tok\""));
            assert!(s.contains("<optgroup label=\"Lives\">"));
            assert!(s.contains("<option value=\"armed_violence\" selected>Fighting</option>"));
            assert!(s.contains("value=\"Nola &lt;b&gt;\""));
            assert!(s.contains("type=\"date\"") && s.contains("max=\"2023-11-14\""));
            assert!(s.contains("<script src=\"/static/report.js\" defer></script>"));
            for bad in ["<style", "style=", "onclick", "onload", "http:", "https:"] {
                assert!(!s.contains(bad), "{bad}");
            }
            for key_as_text in [">report-", ">status-", "=\"report-saved", "\"report-sex"] {
                assert!(
                    !s.contains(key_as_text),
                    "untranslated {key_as_text} ({lang:?})"
                );
            }
        }
        let mut v = view();
        v.candidates = vec![
            PlaceOption {
                code: "CF231".into(),
                label: "Nola (District)".into(),
            },
            PlaceOption {
                code: "CF1216".into(),
                label: "Nola (Commune)".into(),
            },
        ];
        v.errors = vec![("latitude".into(), "Check the position".into())];
        let s = report_form(&PageCtx::new(&cat, Lang::En, "/report"), &v).into_string();
        assert!(s.contains("type=\"radio\" name=\"place_code\" value=\"CF231\" checked"));
        assert!(s.contains("value=\"-\""));
        assert!(s.contains("href=\"#f-latitude\""));
        assert!(s.contains("aria-invalid=\"true\""));
        assert!(s.contains("data-state=\"errors\""));
    }

    #[test]
    fn done_and_status_pages() {
        let cat = Catalog::new();
        let ctx = PageCtx::new(&cat, Lang::Fr, "/report");
        let s = report_done(
            &ctx,
            &ReportDoneView {
                reference: "7KQ3M-XD2PA".into(),
                existed: false,
            },
        )
        .into_string();
        assert!(s.contains("<strong>7KQ3M-XD2PA</strong>"));
        assert!(s.contains("href=\"/report/status?ref=7KQ3M-XD2PA\""));
        let s = report_status(
            &ctx,
            &ReportStatusView {
                reference: "7KQ3M-XD2PA".into(),
                status: Some("received".into()),
                not_found: false,
            },
        )
        .into_string();
        assert!(
            !s.contains(">report-") && !s.contains(">status-"),
            "translated"
        );
        let s = report_status(
            &ctx,
            &ReportStatusView {
                reference: "x".into(),
                status: None,
                not_found: true,
            },
        )
        .into_string();
        assert!(s.contains("role=\"alert\""));
    }
}
