//! Reads the taxonomy file (`config/taxonomy.toml`) into the domain's [`Taxonomy`].
//!
//! The file is edited by administrators, so every mistake is reported with the line and the
//! key it concerns. The format is documented at the top of the default file, which is
//! compiled in as [`DEFAULT_TAXONOMY`].

use crate::problem::IngestError;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use toml::Spanned;
use usalama_domain::{Category, Dimension, Taxonomy};

/// The default taxonomy file shipped with Usalama.
pub const DEFAULT_TAXONOMY: &str = include_str!("../../../config/taxonomy.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    category: Vec<CategoryEntry>,
    #[serde(default)]
    ucdp: Option<UcdpSection>,
    #[serde(default)]
    acled: Vec<AcledEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryEntry {
    code: Spanned<String>,
    dimension: Spanned<String>,
    labels: Spanned<BTreeMap<String, String>>,
    #[serde(default)]
    sensitive: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UcdpSection {
    #[serde(default)]
    type_of_violence: BTreeMap<String, Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AcledEntry {
    event_type: Spanned<String>,
    #[serde(default)]
    sub_event_type: Option<Spanned<String>>,
    category: Spanned<String>,
}

/// The 1-based line of a byte offset in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn err<T>(text: &str, at: &Spanned<T>, key: &str, reason: impl Into<String>) -> IngestError {
    IngestError::Taxonomy {
        line: Some(line_of(text, at.span().start)),
        key: key.to_string(),
        reason: reason.into(),
    }
}

/// Parses and validates a taxonomy file. Errors name the line and key: a TOML syntax error,
/// an unknown key, a bad or duplicate category code, an unknown dimension, a missing English
/// label, or a mapping to a category that does not exist.
pub fn parse_taxonomy(text: &str) -> Result<Taxonomy, IngestError> {
    let file: File = toml::from_str(text).map_err(|e| IngestError::Taxonomy {
        line: e.span().map(|s| line_of(text, s.start)),
        key: String::new(),
        reason: e.message().trim().replace('\n', " "),
    })?;
    if file.category.is_empty() {
        return Err(IngestError::Taxonomy {
            line: None,
            key: "category".into(),
            reason: "the file defines no [[category]]".into(),
        });
    }

    let mut categories = Vec::with_capacity(file.category.len());
    let mut seen = BTreeSet::new();
    for c in &file.category {
        let code = c.code.get_ref().trim();
        if code.is_empty()
            || !code
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
        {
            return Err(err(
                text,
                &c.code,
                "category.code",
                format!("'{code}' must use lowercase letters, digits and _"),
            ));
        }
        if !seen.insert(code.to_string()) {
            return Err(err(
                text,
                &c.code,
                "category.code",
                format!("'{code}' is defined twice"),
            ));
        }
        let dimension: Dimension =
            c.dimension
                .get_ref()
                .trim()
                .parse()
                .map_err(|e: usalama_domain::DomainError| {
                    err(text, &c.dimension, "category.dimension", e.reason)
                })?;
        let mut labels = BTreeMap::new();
        for (lang, label) in c.labels.get_ref() {
            let (lang, label) = (lang.trim(), label.trim());
            if lang.is_empty() || label.is_empty() {
                return Err(err(
                    text,
                    &c.labels,
                    "category.labels",
                    format!("the label of '{code}' in '{lang}' is empty"),
                ));
            }
            labels.insert(lang.to_string(), label.to_string());
        }
        if !labels.contains_key("en") {
            return Err(err(
                text,
                &c.labels,
                "category.labels",
                format!("'{code}' has no English (en) label"),
            ));
        }
        categories.push(Category {
            code: code.to_string(),
            dimension,
            labels,
            sensitive: c.sensitive,
        });
    }

    let known = |s: &Spanned<String>, key: &str| -> Result<String, IngestError> {
        let code = s.get_ref().trim();
        if seen.contains(code) {
            Ok(code.to_string())
        } else {
            Err(err(
                text,
                s,
                key,
                format!("'{code}' is not a category defined in this file"),
            ))
        }
    };

    let mut ucdp = BTreeMap::new();
    if let Some(section) = &file.ucdp {
        for (k, v) in &section.type_of_violence {
            let key = format!("ucdp.type_of_violence.{k}");
            let code: u8 = match k.trim().parse() {
                Ok(c) if c > 0 => c,
                _ => {
                    return Err(err(
                        text,
                        v,
                        &key,
                        format!("'{k}' is not a type_of_violence code (1, 2, 3…)"),
                    ))
                }
            };
            ucdp.insert(code, known(v, &key)?);
        }
    }

    let mut acled = BTreeMap::new();
    for a in &file.acled {
        let event_type = a.event_type.get_ref().trim().to_lowercase();
        if event_type.is_empty() {
            return Err(err(text, &a.event_type, "acled.event_type", "is empty"));
        }
        let sub = a
            .sub_event_type
            .as_ref()
            .map(|s| s.get_ref().trim().to_lowercase())
            .unwrap_or_default();
        let category = known(&a.category, "acled.category")?;
        if acled
            .insert((event_type.clone(), sub.clone()), category)
            .is_some()
        {
            let what = if sub.is_empty() {
                format!("'{event_type}' without sub_event_type")
            } else {
                format!("'{event_type}' / '{sub}'")
            };
            return Err(err(
                text,
                &a.event_type,
                "acled.event_type",
                format!("{what} is mapped twice"),
            ));
        }
    }

    Taxonomy::new(categories, ucdp, acled).map_err(|e| IngestError::Taxonomy {
        line: None,
        key: e.field.to_string(),
        reason: e.reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use usalama_domain::Dimension;

    fn check_err(text: &str, line: Option<usize>, key: &str, reason_part: &str) {
        match parse_taxonomy(text) {
            Err(IngestError::Taxonomy {
                line: l,
                key: k,
                reason,
            }) => {
                assert_eq!((l, k.as_str()), (line, key), "{reason}");
                assert!(reason.contains(reason_part), "{reason}");
            }
            other => panic!("expected a taxonomy error, got {other:?}"),
        }
    }

    const MINI: &str = r#"
[[category]]
code = "a"
dimension = "lives"
labels = { en = "A", fr = "A fr" }
"#;

    #[test]
    fn default_taxonomy_parses_and_covers_the_frame() {
        let t = parse_taxonomy(DEFAULT_TAXONOMY).unwrap();
        let expect = [
            (Dimension::Lives, "armed_violence violence_against_civilians abduction sexual_violence explosive_hazards natural_hazard displacement conflict_context"),
            (Dimension::Livelihood, "food_insecurity water_shortage health_disruption school_closure loss_of_income market_shock environmental_degradation looting_property_destruction"),
            (Dimension::Dignity, "arbitrary_arrest torture extrajudicial_killing discrimination_persecution hate_speech movement_restriction security_provider_abuse civil_unrest"),
        ];
        let mut n = 0;
        for (dim, codes) in expect {
            for code in codes.split(' ') {
                let c = t.category(code).unwrap_or_else(|| panic!("missing {code}"));
                assert_eq!(c.dimension, dim, "{code}");
                assert!(c.labels.contains_key("fr"), "{code} has no French label");
                assert_eq!(c.sensitive, code == "sexual_violence", "{code}");
                n += 1;
            }
        }
        assert_eq!(t.categories().len(), n);
    }

    #[test]
    fn default_maps_ucdp_and_every_current_acled_sub_event_type() {
        let t = parse_taxonomy(DEFAULT_TAXONOMY).unwrap();
        assert_eq!(t.map_ucdp(1).unwrap().code, "armed_violence");
        assert_eq!(t.map_ucdp(2).unwrap().code, "armed_violence");
        assert_eq!(t.map_ucdp(3).unwrap().code, "violence_against_civilians");
        assert!(t.map_ucdp(4).is_none());
        let codebook = [
            ("Battles", "Armed clash", "armed_violence"),
            ("Battles", "Government regains territory", "armed_violence"),
            (
                "Battles",
                "Non-state actor overtakes territory",
                "armed_violence",
            ),
            (
                "Explosions/Remote violence",
                "Chemical weapon",
                "armed_violence",
            ),
            (
                "Explosions/Remote violence",
                "Air/drone strike",
                "armed_violence",
            ),
            (
                "Explosions/Remote violence",
                "Suicide bomb",
                "armed_violence",
            ),
            (
                "Explosions/Remote violence",
                "Shelling/artillery/missile attack",
                "armed_violence",
            ),
            (
                "Explosions/Remote violence",
                "Remote explosive/landmine/IED",
                "explosive_hazards",
            ),
            ("Explosions/Remote violence", "Grenade", "armed_violence"),
            (
                "Violence against civilians",
                "Sexual violence",
                "sexual_violence",
            ),
            (
                "Violence against civilians",
                "Attack",
                "violence_against_civilians",
            ),
            (
                "Violence against civilians",
                "Abduction/forced disappearance",
                "abduction",
            ),
            ("Protests", "Peaceful protest", "civil_unrest"),
            ("Protests", "Protest with intervention", "civil_unrest"),
            (
                "Protests",
                "Excessive force against protesters",
                "security_provider_abuse",
            ),
            ("Riots", "Violent demonstration", "civil_unrest"),
            ("Riots", "Mob violence", "violence_against_civilians"),
            ("Strategic developments", "Agreement", "conflict_context"),
            ("Strategic developments", "Arrests", "arbitrary_arrest"),
            (
                "Strategic developments",
                "Change to group/activity",
                "conflict_context",
            ),
            (
                "Strategic developments",
                "Disrupted weapons use",
                "explosive_hazards",
            ),
            (
                "Strategic developments",
                "Headquarters or base established",
                "conflict_context",
            ),
            (
                "Strategic developments",
                "Looting/property destruction",
                "looting_property_destruction",
            ),
            (
                "Strategic developments",
                "Non-violent transfer of territory",
                "conflict_context",
            ),
            ("Strategic developments", "Other", "conflict_context"),
        ];
        for (t1, s, want) in codebook {
            let key = (t1.to_lowercase(), s.to_lowercase());
            assert!(
                t.acled_mapping().contains_key(&key),
                "{t1} / {s} not listed"
            );
            assert_eq!(t.map_acled(t1, s).unwrap().code, want, "{t1} / {s}");
            // every event type has a fallback for sub-event types added later
            assert!(t.map_acled(t1, "something new").is_some(), "{t1}");
        }
    }

    #[test]
    fn minimal_file_parses_and_acled_keys_are_lower_cased() {
        let text = format!(
            "{MINI}\n[ucdp.type_of_violence]\n1 = \"a\"\n\n[[acled]]\nevent_type = \"Battles\"\ncategory = \"a\"\n\n[[acled]]\nevent_type = \"Riots\"\nsub_event_type = \" Mob Violence \"\ncategory = \"a\"\n"
        );
        let t = parse_taxonomy(&text).unwrap();
        assert_eq!(t.category("a").unwrap().label("fr"), "A fr");
        let keys: Vec<_> = t.acled_mapping().keys().cloned().collect();
        assert_eq!(
            keys,
            vec![
                ("battles".to_string(), String::new()),
                ("riots".to_string(), "mob violence".to_string())
            ]
        );
        assert_eq!(t.ucdp_mapping().get(&1).map(String::as_str), Some("a"));
    }

    #[test]
    fn errors_name_line_and_key() {
        check_err(
            &MINI.replace("\"lives\"", "\"live\""),
            Some(4),
            "category.dimension",
            "'live' is not one of",
        );
        check_err(
            &MINI.replace("code = \"a\"", "code = \"Armed\""),
            Some(3),
            "category.code",
            "lowercase",
        );
        check_err(&format!("{MINI}{MINI}"), Some(8), "category.code", "twice");
        check_err(
            &MINI.replace("en = \"A\", ", ""),
            Some(5),
            "category.labels",
            "no English",
        );
        check_err(
            &format!("{MINI}\n[ucdp.type_of_violence]\n3 = \"nope\"\n"),
            Some(8),
            "ucdp.type_of_violence.3",
            "'nope' is not a category",
        );
        check_err(
            &format!("{MINI}\n[ucdp.type_of_violence]\nx = \"a\"\n"),
            Some(8),
            "ucdp.type_of_violence.x",
            "not a type_of_violence code",
        );
        check_err(
            &format!("{MINI}\n[[acled]]\nevent_type = \"Riots\"\ncategory = \"b\"\n"),
            Some(9),
            "acled.category",
            "'b' is not a category",
        );
        check_err(
            &format!("{MINI}\n[[acled]]\nevent_type = \"Riots\"\ncategory = \"a\"\n[[acled]]\nevent_type = \"riots\"\ncategory = \"a\"\n"),
            Some(11),
            "acled.event_type",
            "mapped twice",
        );
        check_err("", None, "category", "no [[category]]");
    }

    #[test]
    fn syntax_errors_and_unknown_keys_name_the_line() {
        let e = parse_taxonomy(&format!("{MINI}colour = \"red\"\n")).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("line 6") && msg.contains("colour"), "{msg}");
        let e = parse_taxonomy("[[category]]\ncode = \"a\ndimension = 1\n").unwrap_err();
        assert!(
            matches!(e, IngestError::Taxonomy { line: Some(2), .. }),
            "{e}"
        );
        assert!(!e.to_string().contains('\n'));
    }
}
