//! OpenRosa 1.0 and XForms: the report form as an XForm generated from the taxonomy (the
//! one ODK Collect and KoboCollect download), the form list and response documents, and
//! the reader of submitted instances.
//!
//! The form's fields carry the same names as the JSON API's report (`category`,
//! `occurred_start`, `killed`, `people/name`, …), so that errors name the same fields on
//! every channel. `docs/odk/report.xlsform.md` is the equivalent XLSForm; a test converts
//! it with `pyxform` and checks that both forms bind the same fields to the same types.
//!
//! [`read_submission`] reads an instance as ODK Collect sends it (`<data id="…"
//! version="…">`, `meta/instanceID`, repeat groups, any namespace prefixes) with
//! quick-xml: no DTD, no external entity is ever read, and any input, however malformed,
//! gives a value or an [`XmlError`], never a panic.

use md5::{Digest, Md5};
use quick_xml::events::Event as XmlEvent;
use quick_xml::Reader;
use std::collections::BTreeMap;
use usalama_domain::Taxonomy;

/// The form's id, as ODK Collect lists and submits it.
pub const FORM_ID: &str = "usalama_report";
/// The form's root element in the instance.
pub const ROOT: &str = "data";
/// Deepest element nesting accepted in an instance.
const MAX_DEPTH: usize = 32;
/// Most elements accepted in an instance.
const MAX_ELEMENTS: usize = 100_000;
/// Most people accepted in the repeat group (the domain's limit).
const MAX_PEOPLE: usize = 100;

/// A question's kind.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Select(&'static str),
    Date,
    Geopoint,
    Text,
    Multiline,
    Int,
    Image,
}

impl Kind {
    fn bind_type(self) -> &'static str {
        match self {
            Kind::Select(_) | Kind::Text | Kind::Multiline => "string",
            Kind::Date => "date",
            Kind::Geopoint => "geopoint",
            Kind::Int => "int",
            Kind::Image => "binary",
        }
    }
}

/// One question: name, kind, required, constraint, and labels and hints (en, fr).
struct Question {
    name: &'static str,
    kind: Kind,
    required: bool,
    constraint: Option<&'static str>,
    label: [&'static str; 2],
    hint: Option<[&'static str; 2]>,
}

const fn q(name: &'static str, kind: Kind, label: [&'static str; 2]) -> Question {
    Question {
        name,
        kind,
        required: false,
        constraint: None,
        label,
        hint: None,
    }
}

/// The questions before the repeat group.
const BEFORE: [Question; 10] = [
    Question {
        required: true,
        ..q(
            "category",
            Kind::Select("category"),
            ["What happened?", "Que s’est-il passé ?"],
        )
    },
    Question {
        required: true,
        constraint: Some(". <= today()"),
        ..q(
            "occurred_start",
            Kind::Date,
            ["When did it happen?", "Quand cela s’est-il passé ?"],
        )
    },
    Question {
        hint: Some(["Optional", "Facultatif"]),
        ..q(
            "location",
            Kind::Geopoint,
            [
                "Where did it happen? (your position)",
                "Où cela s’est-il passé ? (votre position)",
            ],
        )
    },
    Question {
        hint: Some(["Village, town or district", "Village, ville ou district"]),
        ..q("place", Kind::Text, ["Name of the place", "Nom du lieu"])
    },
    Question {
        hint: Some([
            "Yes: only people allowed to read personal data see the exact point; others see the area",
            "Oui : seules les personnes autorisées à lire les données personnelles voient le point exact ; les autres voient la zone",
        ]),
        ..q(
            LOCATION_PRIVATE,
            Kind::Select(YES_NO),
            [
                "Keep the exact location private?",
                "Garder le lieu exact privé ?",
            ],
        )
    },
    Question {
        constraint: Some(". >= 0"),
        ..q(
            "killed",
            Kind::Int,
            [
                "How many people were killed?",
                "Combien de personnes ont été tuées ?",
            ],
        )
    },
    Question {
        constraint: Some(". >= 0"),
        ..q(
            "injured",
            Kind::Int,
            [
                "How many people were injured?",
                "Combien de personnes ont été blessées ?",
            ],
        )
    },
    Question {
        constraint: Some(". >= 0"),
        ..q(
            "displaced",
            Kind::Int,
            [
                "How many people had to flee?",
                "Combien de personnes ont dû fuir ?",
            ],
        )
    },
    q(
        "description",
        Kind::Multiline,
        [
            "What happened, in your words",
            "Ce qui s’est passé, avec vos mots",
        ],
    ),
    Question {
        hint: Some([
            "Yes: only people allowed to read personal data see it",
            "Oui : seules les personnes autorisées à lire les données personnelles la voient",
        ]),
        ..q(
            DESCRIPTION_PRIVATE,
            Kind::Select(YES_NO),
            [
                "Keep the description private?",
                "Garder la description privée ?",
            ],
        )
    },
];

/// The question that marks the description sensitive (`yes`).
pub const DESCRIPTION_PRIVATE: &str = "description_private";
/// The question that marks the exact point sensitive (`yes`).
pub const LOCATION_PRIVATE: &str = "location_private";
/// The yes/no choice list of those questions.
const YES_NO: &str = "yesno";
/// The choices of the `yesno` list: value, English and French labels.
const YES_NO_CHOICES: [(&str, &str, &str); 2] = [("no", "No", "Non"), ("yes", "Yes", "Oui")];

/// The repeat group of people involved.
const PEOPLE: &str = "people";
const PEOPLE_LABEL: [&str; 2] = [
    "People involved (optional)",
    "Personnes concernées (facultatif)",
];
const PERSON: [Question; 4] = [
    q("name", Kind::Text, ["Name", "Nom"]),
    Question {
        constraint: Some(". >= 0 and . <= 130"),
        ..q("age", Kind::Int, ["Age", "Âge"])
    },
    q("sex", Kind::Select("sex"), ["Sex", "Sexe"]),
    q(
        "role",
        Kind::Text,
        ["Role (victim, witness…)", "Rôle (victime, témoin…)"],
    ),
];

/// The questions after the repeat group.
const AFTER: [Question; 2] = [
    q(
        "reporter_contact",
        Kind::Text,
        [
            "How can we reach you? (optional)",
            "Comment vous joindre ? (facultatif)",
        ],
    ),
    q(
        "photo",
        Kind::Image,
        ["Photo (optional)", "Photo (facultatif)"],
    ),
];

/// The choices of the `sex` list: value, English and French labels.
const SEXES: [(&str, &str, &str); 3] = [
    ("female", "Female", "Femme"),
    ("male", "Male", "Homme"),
    ("other", "Other or not said", "Autre ou non précisé"),
];

/// Escapes text for XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The language name XLSForms use for a tag: `English (en)`, `Français (fr)`, else the tag.
fn language_name(tag: &str) -> String {
    match tag {
        "en" => "English (en)".into(),
        "fr" => "Français (fr)".into(),
        "ar" => "العربية (ar)".into(),
        "sw" => "Kiswahili (sw)".into(),
        "pt" => "Português (pt)".into(),
        "es" => "Español (es)".into(),
        other => other.into(),
    }
}

/// The report form's version: a digest of the form generated without one, so it changes
/// exactly when the taxonomy (or the form) does.
fn version_of(body: &str) -> String {
    let d = Md5::digest(body.as_bytes());
    format!(
        "{:02x}{:02x}{:02x}{:02x}{:02x}",
        d[0], d[1], d[2], d[3], d[4]
    )
}

/// The report form as an XForm: categories (grouped by the taxonomy's order) and their
/// labels in every language the taxonomy has, question labels in English and French
/// (English for other languages), and `meta/instanceID` as ODK expects.
pub fn xform(taxonomy: &Taxonomy) -> String {
    let draft = xform_with_version(taxonomy, "");
    xform_with_version(taxonomy, &version_of(&draft))
}

fn all_questions() -> impl Iterator<Item = (String, &'static Question)> {
    BEFORE
        .iter()
        .map(|q| (format!("/{ROOT}/{}", q.name), q))
        .chain(
            PERSON
                .iter()
                .map(|q| (format!("/{ROOT}/{PEOPLE}/{}", q.name), q)),
        )
        .chain(AFTER.iter().map(|q| (format!("/{ROOT}/{}", q.name), q)))
}

fn xform_with_version(taxonomy: &Taxonomy, version: &str) -> String {
    let mut langs: Vec<String> = vec!["en".into()];
    for c in taxonomy.categories() {
        for l in c.labels.keys() {
            if !langs.contains(l) {
                langs.push(l.clone());
            }
        }
    }
    if !langs.contains(&"fr".to_string()) {
        langs.push("fr".into());
    }
    let mut x = String::with_capacity(32 * 1024);
    x.push_str("<?xml version=\"1.0\"?>\n<h:html xmlns=\"http://www.w3.org/2002/xforms\" xmlns:h=\"http://www.w3.org/1999/xhtml\" xmlns:ev=\"http://www.w3.org/2001/xml-events\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:jr=\"http://openrosa.org/javarosa\" xmlns:orx=\"http://openrosa.org/xforms\" xmlns:odk=\"http://www.opendatakit.org/xforms\">\n<h:head>\n<h:title>Usalama report</h:title>\n<model odk:xforms-version=\"1.0.0\">\n<itext>\n");
    for lang in &langs {
        let i = usize::from(lang == "fr");
        let default = if lang == "en" {
            " default=\"true()\""
        } else {
            ""
        };
        x.push_str(&format!(
            "<translation lang=\"{}\"{default}>\n",
            escape(&language_name(lang))
        ));
        for (n, c) in taxonomy.categories().iter().enumerate() {
            x.push_str(&format!(
                "<text id=\"category-{n}\"><value>{}</value></text>\n",
                escape(c.label(lang))
            ));
        }
        for (n, (_, en, fr)) in SEXES.iter().enumerate() {
            let l = if i == 1 { fr } else { en };
            x.push_str(&format!(
                "<text id=\"sex-{n}\"><value>{}</value></text>\n",
                escape(l)
            ));
        }
        for (n, (_, en, fr)) in YES_NO_CHOICES.iter().enumerate() {
            let l = if i == 1 { fr } else { en };
            x.push_str(&format!(
                "<text id=\"{YES_NO}-{n}\"><value>{}</value></text>\n",
                escape(l)
            ));
        }
        let mut text = |id: String, value: &str| {
            x.push_str(&format!(
                "<text id=\"{id}\"><value>{}</value></text>\n",
                escape(value)
            ));
        };
        for (path, q) in all_questions() {
            text(format!("{path}:label"), q.label[i]);
            if let Some(h) = q.hint {
                text(format!("{path}:hint"), h[i]);
            }
        }
        text(format!("/{ROOT}/{PEOPLE}:label"), PEOPLE_LABEL[i]);
        x.push_str("</translation>\n");
    }
    x.push_str("</itext>\n<instance>\n");
    let version_attr = if version.is_empty() {
        String::new()
    } else {
        format!(" version=\"{}\"", escape(version))
    };
    x.push_str(&format!("<{ROOT} id=\"{FORM_ID}\"{version_attr}>"));
    for q in &BEFORE {
        x.push_str(&format!("<{}/>", q.name));
    }
    let person: String = PERSON.iter().map(|q| format!("<{}/>", q.name)).collect();
    x.push_str(&format!(
        "<{PEOPLE} jr:template=\"\">{person}</{PEOPLE}><{PEOPLE}>{person}</{PEOPLE}>"
    ));
    for q in &AFTER {
        x.push_str(&format!("<{}/>", q.name));
    }
    x.push_str(&format!(
        "<meta><instanceID/></meta></{ROOT}>\n</instance>\n"
    ));
    x.push_str("<instance id=\"category\"><root>");
    for (n, c) in taxonomy.categories().iter().enumerate() {
        x.push_str(&format!(
            "<item><itextId>category-{n}</itextId><name>{}</name></item>",
            escape(&c.code)
        ));
    }
    x.push_str("</root></instance>\n<instance id=\"sex\"><root>");
    for (n, (v, ..)) in SEXES.iter().enumerate() {
        x.push_str(&format!(
            "<item><itextId>sex-{n}</itextId><name>{v}</name></item>"
        ));
    }
    x.push_str(&format!(
        "</root></instance>\n<instance id=\"{YES_NO}\"><root>"
    ));
    for (n, (v, ..)) in YES_NO_CHOICES.iter().enumerate() {
        x.push_str(&format!(
            "<item><itextId>{YES_NO}-{n}</itextId><name>{v}</name></item>"
        ));
    }
    x.push_str("</root></instance>\n");
    for (path, q) in all_questions() {
        x.push_str(&format!(
            "<bind nodeset=\"{path}\" type=\"{}\"",
            q.kind.bind_type()
        ));
        if q.required {
            x.push_str(" required=\"true()\"");
        }
        if let Some(c) = q.constraint {
            x.push_str(&format!(" constraint=\"{}\"", escape(c)));
        }
        if q.kind == Kind::Image {
            x.push_str(" orx:max-pixels=\"1024\"");
        }
        x.push_str("/>\n");
    }
    x.push_str(&format!("<bind nodeset=\"/{ROOT}/meta/instanceID\" type=\"string\" readonly=\"true()\" jr:preload=\"uid\"/>\n</model>\n</h:head>\n<h:body>\n"));
    let control = |x: &mut String, path: &str, q: &Question| {
        let label = format!("<label ref=\"jr:itext('{path}:label')\"/>");
        let hint = if q.hint.is_some() {
            format!("<hint ref=\"jr:itext('{path}:hint')\"/>")
        } else {
            String::new()
        };
        match q.kind {
            Kind::Select(list) => x.push_str(&format!(
                "<select1 ref=\"{path}\">{label}{hint}<itemset nodeset=\"instance('{list}')/root/item\"><value ref=\"name\"/><label ref=\"jr:itext(itextId)\"/></itemset></select1>\n"
            )),
            Kind::Image => x.push_str(&format!(
                "<upload ref=\"{path}\" mediatype=\"image/*\">{label}{hint}</upload>\n"
            )),
            Kind::Multiline => x.push_str(&format!(
                "<input ref=\"{path}\" appearance=\"multiline\">{label}{hint}</input>\n"
            )),
            _ => x.push_str(&format!("<input ref=\"{path}\">{label}{hint}</input>\n")),
        }
    };
    for q in &BEFORE {
        control(&mut x, &format!("/{ROOT}/{}", q.name), q);
    }
    x.push_str(&format!("<group ref=\"/{ROOT}/{PEOPLE}\"><label ref=\"jr:itext('/{ROOT}/{PEOPLE}:label')\"/><repeat nodeset=\"/{ROOT}/{PEOPLE}\">\n"));
    for q in &PERSON {
        control(&mut x, &format!("/{ROOT}/{PEOPLE}/{}", q.name), q);
    }
    x.push_str("</repeat></group>\n");
    for q in &AFTER {
        control(&mut x, &format!("/{ROOT}/{}", q.name), q);
    }
    x.push_str("</h:body>\n</h:html>\n");
    x
}

/// The form's version attribute (as [`xform`] writes it).
pub fn xform_version(taxonomy: &Taxonomy) -> String {
    version_of(&xform_with_version(taxonomy, ""))
}

/// The `md5:…` hash OpenRosa form lists carry for a form document.
pub fn form_hash(form: &str) -> String {
    let d = Md5::digest(form.as_bytes());
    let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
    format!("md5:{hex}")
}

/// The OpenRosa form list with the report form, downloadable at `download_url`.
pub fn form_list(form: &str, version: &str, download_url: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xforms xmlns=\"http://openrosa.org/xforms/xformsList\">\n<xform>\n<formID>{FORM_ID}</formID>\n<name>Usalama report</name>\n<version>{}</version>\n<hash>{}</hash>\n<downloadUrl>{}</downloadUrl>\n</xform>\n</xforms>\n",
        escape(version),
        form_hash(form),
        escape(download_url)
    )
}

/// An OpenRosa response document carrying one message (`nature` is e.g.
/// `submit_success` or `error`).
pub fn response(nature: &str, message: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<OpenRosaResponse xmlns=\"http://openrosa.org/http/response\" items=\"0\">\n<message nature=\"{}\">{}</message>\n</OpenRosaResponse>\n",
        escape(nature),
        escape(message)
    )
}

/// An instance that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("xml_submission_file: {0}")]
pub struct XmlError(pub String);

/// One person of the repeat group, as submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubmittedPerson {
    /// `people/name`.
    pub name: Option<String>,
    /// `people/age`.
    pub age: Option<String>,
    /// `people/sex`.
    pub sex: Option<String>,
    /// `people/role`.
    pub role: Option<String>,
}

/// A submitted instance of the report form, as text values (checked by the caller).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Submission {
    /// The root's `id` attribute.
    pub form_id: Option<String>,
    /// The root's `version` attribute.
    pub version: Option<String>,
    /// `meta/instanceID` (`uuid:…`).
    pub instance_id: Option<String>,
    /// Top-level values by element name (`category`, `killed`, `location`, …).
    pub values: BTreeMap<String, String>,
    /// The repeat group.
    pub people: Vec<SubmittedPerson>,
    /// `description_private` was answered `yes`: the description is sensitive.
    pub description_private: bool,
    /// `location_private` was answered `yes`: the exact point is sensitive.
    pub location_private: bool,
}

impl Submission {
    /// A top-level value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }
}

/// Splits an ODK geopoint (`"lat lon alt acc"`, altitude and accuracy optional) into its
/// latitude and longitude texts; `None` when it does not have two to four parts.
pub fn split_geopoint(s: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    match parts.as_slice() {
        [lat, lon] | [lat, lon, _] | [lat, lon, _, _] => Some((lat, lon)),
        _ => None,
    }
}

fn local(name: &[u8]) -> String {
    let n = match name.iter().rposition(|&b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    };
    String::from_utf8_lossy(n).into_owned()
}

/// Reads a submitted instance. The root may have any name; `id` and `version` are read
/// from it, `meta/instanceID` (with or without the `orx:` prefix) from the meta group,
/// each `people` element starts a new person, and other leaves become `values` by name.
pub fn read_submission(xml: &[u8]) -> Result<Submission, XmlError> {
    let text =
        std::str::from_utf8(xml).map_err(|e| XmlError(format!("is not UTF-8 text ({e})")))?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut sub = Submission::default();
    let mut stack: Vec<String> = Vec::new();
    let mut value = String::new();
    let mut elements = 0usize;
    let mut root_seen = false;
    let bad = |r: &Reader<&[u8]>, what: String| {
        XmlError(format!("{what} at byte {}", r.buffer_position()))
    };
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| bad(&reader, format!("is not well-formed XML ({e})")))?;
        match ev {
            XmlEvent::Start(e) | XmlEvent::Empty(e) if stack.is_empty() && root_seen => {
                let _ = e;
                return Err(bad(&reader, "has more than one root element".into()));
            }
            XmlEvent::Start(e) => {
                elements += 1;
                if elements > MAX_ELEMENTS || stack.len() >= MAX_DEPTH {
                    return Err(bad(&reader, "is nested too deeply or too large".into()));
                }
                let name = local(e.name().as_ref());
                if stack.is_empty() {
                    root_seen = true;
                    for a in e.attributes() {
                        let a =
                            a.map_err(|e| bad(&reader, format!("has a bad attribute ({e})")))?;
                        let v = a
                            .unescape_value()
                            .map_err(|e| bad(&reader, format!("has a bad attribute ({e})")))?
                            .into_owned();
                        match local(a.key.as_ref()).as_str() {
                            "id" => sub.form_id = Some(v),
                            "version" => sub.version = Some(v),
                            _ => {}
                        }
                    }
                } else if stack.len() == 1 && name == PEOPLE {
                    if sub.people.len() >= MAX_PEOPLE {
                        return Err(bad(&reader, format!("lists more than {MAX_PEOPLE} people")));
                    }
                    sub.people.push(SubmittedPerson::default());
                }
                stack.push(name);
                value.clear();
            }
            XmlEvent::Empty(e) => {
                elements += 1;
                if elements > MAX_ELEMENTS {
                    return Err(bad(&reader, "is too large".into()));
                }
                if stack.is_empty() {
                    root_seen = true;
                    let _ = e;
                }
            }
            XmlEvent::Text(t) => {
                let s = t
                    .unescape()
                    .map_err(|e| bad(&reader, format!("has bad text ({e})")))?;
                if stack.is_empty() {
                    if !s.trim().is_empty() {
                        return Err(bad(&reader, "has text outside the root element".into()));
                    }
                } else {
                    value.push_str(&s);
                }
            }
            XmlEvent::CData(c) => {
                let s = std::str::from_utf8(c.as_ref())
                    .map_err(|e| bad(&reader, format!("has bad text ({e})")))?;
                if stack.is_empty() {
                    return Err(bad(&reader, "has text outside the root element".into()));
                }
                value.push_str(s);
            }
            XmlEvent::End(_) => {
                let path: Vec<&str> = stack.iter().skip(1).map(String::as_str).collect();
                let v = std::mem::take(&mut value);
                let v = v.trim();
                if !v.is_empty() {
                    match path.as_slice() {
                        ["meta", "instanceID"] => sub.instance_id = Some(v.to_string()),
                        [PEOPLE, field] => {
                            if let Some(p) = sub.people.last_mut() {
                                let slot = match *field {
                                    "name" => &mut p.name,
                                    "age" => &mut p.age,
                                    "sex" => &mut p.sex,
                                    "role" => &mut p.role,
                                    _ => &mut None,
                                };
                                *slot = Some(v.to_string());
                            }
                        }
                        [field] => {
                            sub.values.insert(field.to_string(), v.to_string());
                        }
                        _ => {}
                    }
                }
                stack.pop();
            }
            XmlEvent::DocType(_) => {
                return Err(bad(&reader, "declares a DTD, which is not accepted".into()))
            }
            XmlEvent::Eof => break,
            XmlEvent::Decl(_) | XmlEvent::PI(_) | XmlEvent::Comment(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(XmlError(format!(
            "ends before </{}> (truncated?)",
            stack.last().map(String::as_str).unwrap_or("")
        )));
    }
    if !root_seen {
        return Err(XmlError("has no root element".into()));
    }
    // Drop people with nothing filled in (ODK sends an empty repeat when none was added).
    sub.people.retain(|p| *p != SubmittedPerson::default());
    // Only the choice `yes` marks a field private; no answer keeps it as it is.
    let yes = |v: Option<&str>| v.is_some_and(|v| v.trim() == "yes");
    sub.description_private = yes(sub.get(DESCRIPTION_PRIVATE));
    sub.location_private = yes(sub.get(LOCATION_PRIVATE));
    Ok(sub)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taxonomy_file::{parse_taxonomy, DEFAULT_TAXONOMY};

    /// An instance exactly as ODK Collect v2024 writes it.
    const ODK: &str = r#"<?xml version='1.0' ?><data id="usalama_report" version="0a1b2c3d4e" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:ev="http://www.w3.org/2001/xml-events" xmlns:orx="http://openrosa.org/xforms" xmlns:odk="http://www.opendatakit.org/xforms"><category>armed_violence</category><occurred_start>2023-05-02</occurred_start><location>6.1234 20.5678 512.0 4.8</location><place>Marché &amp; gare</place><location_private>yes</location_private><killed>2</killed><injured /><displaced>40</displaced><description>Tirs — إطلاق نار</description><description_private>no</description_private><people><name>A. B.</name><age>34</age><sex>female</sex><role>witness</role></people><people><name /><age /><sex /><role /></people><reporter_contact>+000</reporter_contact><photo>1700000000000.jpg</photo><meta><instanceID>uuid:5b2f3b5c-1d2e-4f3a-9b8c-7d6e5f4a3b2c</instanceID></meta></data>"#;

    #[test]
    fn reads_an_odk_instance() {
        let s = read_submission(ODK.as_bytes()).unwrap();
        assert_eq!(s.form_id.as_deref(), Some(FORM_ID));
        assert_eq!(s.version.as_deref(), Some("0a1b2c3d4e"));
        assert_eq!(
            s.instance_id.as_deref(),
            Some("uuid:5b2f3b5c-1d2e-4f3a-9b8c-7d6e5f4a3b2c")
        );
        assert_eq!(s.get("category"), Some("armed_violence"));
        assert_eq!(s.get("place"), Some("Marché & gare"));
        assert_eq!(s.get("injured"), None, "empty elements are absent");
        assert_eq!(s.get("description"), Some("Tirs — إطلاق نار"));
        assert_eq!(s.get("photo"), Some("1700000000000.jpg"));
        assert_eq!(s.people.len(), 1, "the empty repeat is dropped");
        assert!(s.location_private, "location_private=yes");
        assert!(!s.description_private, "description_private=no");
        let both = ODK.replace(
            "<description_private>no</description_private>",
            "<description_private>yes</description_private>",
        );
        assert!(
            read_submission(both.as_bytes())
                .unwrap()
                .description_private
        );
        let neither = ODK.replace("<location_private>yes</location_private>", "");
        assert!(
            !read_submission(neither.as_bytes())
                .unwrap()
                .location_private
        );
        assert_eq!(s.people[0].age.as_deref(), Some("34"));
        assert_eq!(
            split_geopoint(s.get("location").unwrap()),
            Some(("6.1234", "20.5678"))
        );
        assert_eq!(split_geopoint("1 2"), Some(("1", "2")));
        assert_eq!(split_geopoint("1"), None);
        let orx = ODK
            .replace("<meta>", "<orx:meta>")
            .replace("</meta>", "</orx:meta>")
            .replace("<instanceID>", "<orx:instanceID>")
            .replace("</instanceID>", "</orx:instanceID>");
        assert!(read_submission(orx.as_bytes())
            .unwrap()
            .instance_id
            .is_some());
    }

    #[test]
    fn refuses_malformed_instances() {
        for bad in [
            "",
            "not xml",
            "<data><category>x</data>",
            "<data><category>x</category>",
            "<data/><data/>",
            "<!DOCTYPE data [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><data>&x;</data>",
            "<data>&unknown;</data>",
            "text<data/>",
        ] {
            let e = read_submission(bad.as_bytes());
            assert!(e.is_err(), "{bad:?} gave {e:?}");
            assert!(e
                .unwrap_err()
                .to_string()
                .starts_with("xml_submission_file: "));
        }
        assert!(read_submission(&[0xff, 0xfe, 0x00]).is_err());
        let deep = "<a>".repeat(40) + &"</a>".repeat(40);
        assert!(read_submission(deep.as_bytes()).is_err());
    }

    #[test]
    fn the_form_lists_every_category_and_field() {
        let t = parse_taxonomy(DEFAULT_TAXONOMY).unwrap();
        let f = xform(&t);
        assert!(f.contains(&format!(
            "<data id=\"{FORM_ID}\" version=\"{}\">",
            xform_version(&t)
        )));
        for c in t.categories() {
            assert!(
                f.contains(&format!("<name>{}</name>", c.code)),
                "{}",
                c.code
            );
        }
        assert!(f.contains("<bind nodeset=\"/data/people/age\" type=\"int\""));
        assert!(f.contains("jr:preload=\"uid\""));
        assert!(f.contains("<bind nodeset=\"/data/description_private\" type=\"string\""));
        assert!(f.contains("<bind nodeset=\"/data/location_private\" type=\"string\""));
        assert!(f.contains(
            "<instance id=\"yesno\"><root><item><itextId>yesno-0</itextId><name>no</name>"
        ));
        assert!(f.contains("Combats et attaques armées"));
        assert_eq!(f, xform(&t), "deterministic");
        // It is well-formed: our own reader accepts it.
        assert!(read_submission(f.as_bytes()).is_ok());
        let list = form_list(
            &f,
            &xform_version(&t),
            "https://example.org/forms/report.xml",
        );
        assert!(list.contains(&form_hash(&f)) && form_hash(&f).len() == 36);
        assert!(response("error", "a <b>").contains("a &lt;b&gt;"));
    }
}
