//! Countries named by the rows of a file and by boundaries, brought to their ISO 3166-1
//! alpha-3 code so that they can be compared: a GED row says "Niger", an ACLED row gives
//! the numeric code 562, an HXL row `NER`, and a COD-AB boundary file the P-code `NE`
//! with the name in French.

use crate::text::fold_name;
use isocountry::CountryCode;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Names under which datasets of this field give countries whose ISO 3166-1 short name
/// differs (UCDP GED's names, before any parenthesised former name, and common English
/// short forms), with their alpha-3 codes.
const OTHER_NAMES: &[(&str, &str)] = &[
    ("dr congo", "COD"),
    ("democratic republic of congo", "COD"),
    ("democratic republic of the congo", "COD"),
    ("republic of congo", "COG"),
    ("ivory coast", "CIV"),
    ("russia", "RUS"),
    ("syria", "SYR"),
    ("laos", "LAO"),
    ("vietnam", "VNM"),
    ("bosnia herzegovina", "BIH"),
    ("eswatini", "SWZ"),
    ("kingdom of eswatini", "SWZ"),
    ("burma", "MMR"),
    ("south korea", "KOR"),
    ("north korea", "PRK"),
    ("palestine", "PSE"),
    ("tanzania", "TZA"),
    ("moldova", "MDA"),
    ("cape verde", "CPV"),
    ("east timor", "TLS"),
    ("united states", "USA"),
    ("united kingdom", "GBR"),
    ("turkey", "TUR"),
    ("turkiye", "TUR"),
];

/// Folded names (the ISO short name; the part before a parenthesis or a comma when no
/// other country has that part; [`OTHER_NAMES`]) to alpha-3 codes.
fn names() -> &'static HashMap<String, &'static str> {
    static NAMES: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut full = HashMap::new();
        let mut short: HashMap<String, Option<&'static str>> = HashMap::new();
        for c in CountryCode::iter() {
            let name = c.name();
            full.insert(fold_name(name), c.alpha3());
            if let Some(head) = name
                .split(['(', ','])
                .next()
                .filter(|h| h.len() < name.len())
            {
                short
                    .entry(fold_name(head))
                    .and_modify(|v| *v = None)
                    .or_insert(Some(c.alpha3()));
            }
        }
        for (name, code) in short {
            if let Some(code) = code {
                full.entry(name).or_insert(code);
            }
        }
        for (name, code) in OTHER_NAMES {
            full.entry((*name).to_string()).or_insert(code);
        }
        full
    })
}

/// The ISO 3166-1 alpha-3 code of the country `s` names: an alpha-2, alpha-3 or numeric
/// code, or an English name (case, accents and punctuation aside; a parenthesised former
/// name such as GED's "Yemen (North Yemen)" ignored). `None` when it names none.
pub fn iso3(s: &str) -> Option<&'static str> {
    let s = s.trim();
    let by_code = match s.len() {
        2 => CountryCode::for_alpha2_caseless(s).ok(),
        3 if s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok().and_then(|n| CountryCode::for_id(n).ok())
        }
        3 => CountryCode::for_alpha3_caseless(s).ok(),
        _ => None,
    };
    if let Some(c) = by_code {
        return Some(c.alpha3());
    }
    let names = names();
    names.get(&fold_name(s)).copied().or_else(|| {
        let head = s.split('(').next()?;
        (head.len() < s.len())
            .then(|| names.get(&fold_name(head)).copied())
            .flatten()
    })
}

/// The ISO 3166-1 short name of the country with alpha-3 code `alpha3`.
pub fn name(alpha3: &str) -> Option<&'static str> {
    CountryCode::for_alpha3_caseless(alpha3)
        .ok()
        .map(|c| c.name())
}

#[cfg(test)]
mod tests {
    use super::{iso3, name};

    #[test]
    fn a_code_names_its_country() {
        assert_eq!(name("NER"), Some("Niger"));
        assert_eq!(name("caf"), Some("Central African Republic"));
        assert_eq!(name("XAA"), None);
    }

    #[test]
    fn codes_and_names_of_every_form_give_one_code() {
        for (given, code) in [
            ("CF", Some("CAF")),
            ("caf", Some("CAF")),
            ("140", Some("CAF")),
            ("Central African Republic", Some("CAF")),
            ("Niger", Some("NER")),
            ("562", Some("NER")),
            ("Nigeria", Some("NGA")),
            ("DR Congo (Zaire)", Some("COD")),
            ("Congo", Some("COG")),
            ("Yemen (North Yemen)", Some("YEM")),
            ("Russia (Soviet Union)", Some("RUS")),
            ("Iran", Some("IRN")),
            ("Côte d'Ivoire", Some("CIV")),
            ("Bolivia", Some("BOL")),
            ("Korea", None),
            ("République centrafricaine", None),
            ("Benchmarkland", None),
            ("", None),
        ] {
            assert_eq!(iso3(given), code, "{given}");
        }
    }
}
