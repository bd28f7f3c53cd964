//! The translation catalogue: English and French Fluent messages compiled into the binary,
//! language negotiation from `?lang=`, a cookie or `Accept-Language`, and number formatting
//! with each language's thousands separator ("1,848" / "1 848").
//!
//! Every user-visible string of the pages goes through [`Catalog::t`] or
//! [`Catalog::t_args`]. A missing message renders as its key, never as a panic; a unit test
//! keeps the two `.ftl` files carrying the same keys.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::borrow::Cow;

const EN_FTL: &str = include_str!("../../locales/en/main.ftl");
const FR_FTL: &str = include_str!("../../locales/fr/main.ftl");

/// A language the interface is translated into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// English, the fallback.
    #[default]
    En,
    /// French.
    Fr,
}

impl Lang {
    /// Every supported language, in the order the language switch shows them.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Fr];

    /// The BCP 47 code used in `<html lang>`, `?lang=` and the cookie (`en`, `fr`).
    pub fn code(&self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// The language named by a tag such as `fr`, `fr-CA` or `EN_gb`, if it is supported.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "fr" => Some(Lang::Fr),
            _ => None,
        }
    }

    /// Chooses the language of a response. An explicit choice (`?lang=` or the cookie set
    /// from it) wins when it names a supported language; otherwise the supported language
    /// with the highest `q` in `Accept-Language` (ties go to the one listed first); English
    /// when nothing matches.
    pub fn negotiate(accept_language: Option<&str>, explicit: Option<&str>) -> Lang {
        if let Some(lang) = explicit.and_then(Lang::from_tag) {
            return lang;
        }
        let mut best: Option<(f32, Lang)> = None;
        for item in accept_language.unwrap_or("").split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("").trim();
            let mut q = 1.0_f32;
            for param in parts {
                if let Some((k, v)) = param.split_once('=') {
                    if k.trim().eq_ignore_ascii_case("q") {
                        q = v.trim().parse::<f32>().unwrap_or(0.0);
                    }
                }
            }
            if !(q > 0.0 && q <= 1.0) {
                continue;
            }
            if let Some(lang) = Lang::from_tag(tag) {
                if best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, lang));
                }
            }
        }
        best.map_or(Lang::En, |(_, lang)| lang)
    }

    /// The thousands separator: a comma in English, a no-break space (U+00A0) in French. The
    /// narrow no-break space of CLDR is missing from the fonts of many cheap phones.
    fn group_separator(&self) -> char {
        match self {
            Lang::En => ',',
            Lang::Fr => '\u{a0}',
        }
    }

    fn decimal_separator(&self) -> char {
        match self {
            Lang::En => '.',
            Lang::Fr => ',',
        }
    }
}

/// Formats an integer with the language's thousands separator: `1,848` / `1 848`.
pub fn format_int(lang: Lang, n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let sep = lang.group_separator();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// Formats an unsigned count with the language's thousands separator.
pub fn format_count(lang: Lang, n: u64) -> String {
    match i64::try_from(n) {
        Ok(v) => format_int(lang, v),
        // Beyond i64: no separators rather than a wrong number.
        Err(_) => n.to_string(),
    }
}

/// Formats a decimal number with `decimals` fraction digits, the language's decimal mark
/// and thousands separator (`12,345.6` / `12 345,6`). Non-finite values render as `–`.
pub fn format_decimal(lang: Lang, value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return "–".to_string();
    }
    let fixed = format!("{:.*}", decimals, value.abs());
    let (int_part, frac) = fixed.split_once('.').unwrap_or((fixed.as_str(), ""));
    let int_val = int_part.parse::<i64>().unwrap_or(0);
    let negative = value < 0.0 && fixed.chars().any(|c| c.is_ascii_digit() && c != '0');
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    out.push_str(&format_int(lang, int_val));
    if !frac.is_empty() {
        out.push(lang.decimal_separator());
        out.push_str(frac);
    }
    out
}

/// A value passed to a message: text, or a number that also drives plural selection.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg<'a> {
    /// Text, inserted as is (the templates escape it).
    Str(Cow<'a, str>),
    /// A whole number, shown with thousands separators.
    Int(i64),
    /// A decimal number, shown with the language's decimal mark.
    Num(f64),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Self {
        Arg::Str(Cow::Borrowed(s))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(s: &'a String) -> Self {
        Arg::Str(Cow::Borrowed(s.as_str()))
    }
}

impl From<String> for Arg<'_> {
    fn from(s: String) -> Self {
        Arg::Str(Cow::Owned(s))
    }
}

macro_rules! int_arg {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg<'_> {
            fn from(n: $t) -> Self {
                Arg::Int(i64::try_from(n).unwrap_or(i64::MAX))
            }
        }
    )*};
}

int_arg!(i32, i64, u8, u16, u32, u64, usize);

impl From<f64> for Arg<'_> {
    fn from(n: f64) -> Self {
        Arg::Num(n)
    }
}

fn number_formatter(lang: Lang, value: &FluentValue) -> Option<String> {
    match value {
        FluentValue::Number(n) => {
            let v = n.value;
            if v.fract() == 0.0 && v.abs() < 9.0e15 {
                // Exact: |v| is below 2^53.
                Some(format_int(lang, v as i64))
            } else {
                let decimals = n.options.maximum_fraction_digits.unwrap_or(2).min(6);
                let s = format_decimal(lang, v, decimals);
                // Trim trailing zeros of the fraction ("2,50" → "2,5").
                let sep = lang.decimal_separator();
                if s.contains(sep) {
                    Some(s.trim_end_matches('0').trim_end_matches(sep).to_string())
                } else {
                    Some(s)
                }
            }
        }
        _ => None,
    }
}

fn format_en<M>(value: &FluentValue, _: &M) -> Option<String> {
    number_formatter(Lang::En, value)
}

fn format_fr<M>(value: &FluentValue, _: &M) -> Option<String> {
    number_formatter(Lang::Fr, value)
}

type Bundle = FluentBundle<FluentResource>;

/// The compiled messages of every language. Build it once at start-up and share it: it is
/// `Send + Sync`.
pub struct Catalog {
    en: Bundle,
    fr: Bundle,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").finish_non_exhaustive()
    }
}

impl Default for Catalog {
    fn default() -> Self {
        Self::new()
    }
}

fn bundle(lang: Lang, source: &str) -> Bundle {
    let langid = match lang {
        Lang::En => unic_langid::langid!("en"),
        Lang::Fr => unic_langid::langid!("fr"),
    };
    let mut bundle = Bundle::new_concurrent(vec![langid]);
    bundle.set_use_isolating(false);
    bundle.set_formatter(Some(match lang {
        Lang::En => format_en,
        Lang::Fr => format_fr,
    }));
    // A syntax error drops only the broken entries; the tests keep the files clean.
    let resource = FluentResource::try_new(source.to_string()).unwrap_or_else(|(res, _)| res);
    // Duplicate ids keep the first definition; the tests keep ids unique.
    let _ = bundle.add_resource(resource);
    bundle
}

impl Catalog {
    /// Compiles the embedded English and French catalogues.
    pub fn new() -> Catalog {
        Catalog {
            en: bundle(Lang::En, EN_FTL),
            fr: bundle(Lang::Fr, FR_FTL),
        }
    }

    fn bundle(&self, lang: Lang) -> &Bundle {
        match lang {
            Lang::En => &self.en,
            Lang::Fr => &self.fr,
        }
    }

    /// Whether `key` is a message of `lang`.
    pub fn has(&self, lang: Lang, key: &str) -> bool {
        self.bundle(lang)
            .get_message(key)
            .is_some_and(|m| m.value().is_some())
    }

    /// The message `key` in `lang`, falling back to English and then to the key itself.
    pub fn t(&self, lang: Lang, key: &str) -> String {
        self.format(lang, key, None)
    }

    /// The message `key` in `lang` with arguments, e.g.
    /// `cat.t_args(lang, "events-count", &[("count", 1848u64.into())])` gives
    /// "1,848 events match" / "1 848 événements correspondent".
    pub fn t_args(&self, lang: Lang, key: &str, args: &[(&str, Arg<'_>)]) -> String {
        let mut fluent_args = FluentArgs::with_capacity(args.len());
        for (name, value) in args {
            let v: FluentValue = match value {
                Arg::Str(s) => FluentValue::from(s.to_string()),
                Arg::Int(n) => FluentValue::from(*n),
                Arg::Num(n) => FluentValue::from(*n),
            };
            fluent_args.set(name.to_string(), v);
        }
        self.format(lang, key, Some(&fluent_args))
    }

    fn format(&self, lang: Lang, key: &str, args: Option<&FluentArgs>) -> String {
        for l in [lang, Lang::En] {
            let bundle = self.bundle(l);
            if let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                return bundle
                    .format_pattern(pattern, args, &mut errors)
                    .into_owned();
            }
        }
        key.to_string()
    }

    /// The message `prefix-code` (e.g. `status-verified`), or `code` itself when the
    /// catalogue has no such message: for codes that come from data.
    pub fn label(&self, lang: Lang, prefix: &str, code: &str) -> String {
        let key = format!("{prefix}-{code}");
        if self.has(lang, &key) || self.has(Lang::En, &key) {
            self.t(lang, &key)
        } else {
            code.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn keys(source: &str) -> BTreeSet<String> {
        source
            .lines()
            .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
            .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim().to_string()))
            .collect()
    }

    #[test]
    fn catalog_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Catalog>();
    }

    #[test]
    fn both_files_parse_and_have_the_same_keys() {
        for src in [EN_FTL, FR_FTL] {
            assert!(FluentResource::try_new(src.to_string()).is_ok());
        }
        let en = keys(EN_FTL);
        let fr = keys(FR_FTL);
        assert!(en.len() > 50, "too few keys: {}", en.len());
        let only_en: Vec<_> = en.difference(&fr).collect();
        let only_fr: Vec<_> = fr.difference(&en).collect();
        assert!(only_en.is_empty(), "missing in fr: {only_en:?}");
        assert!(only_fr.is_empty(), "missing in en: {only_fr:?}");
        let cat = Catalog::new();
        for k in &en {
            assert!(cat.has(Lang::En, k) && cat.has(Lang::Fr, k), "{k}");
        }
    }

    #[test]
    fn negotiation() {
        let n = Lang::negotiate;
        assert_eq!(n(Some("fr-FR,fr;q=0.9,en;q=0.8"), None), Lang::Fr);
        assert_eq!(n(Some("de"), None), Lang::En);
        assert_eq!(n(None, None), Lang::En);
        assert_eq!(n(Some("de,en;q=0.5,fr;q=0.7"), None), Lang::Fr);
        assert_eq!(n(Some("fr;q=0,en;q=0.1"), None), Lang::En);
        assert_eq!(n(Some("fr-CA;q=0.4, EN-gb ; q=0.9"), None), Lang::En);
        assert_eq!(n(Some("en"), Some("fr")), Lang::Fr);
        assert_eq!(n(Some("fr"), Some("xx")), Lang::Fr);
        assert_eq!(n(Some("garbage;;q=x,,"), Some("")), Lang::En);
    }

    #[test]
    fn numbers_and_plurals() {
        let cat = Catalog::new();
        let count = |lang, n: u64| cat.t_args(lang, "home-events", &[("count", n.into())]);
        assert_eq!(count(Lang::En, 1848), "1,848 events");
        assert_eq!(count(Lang::Fr, 1848), "1\u{a0}848 événements");
        assert_eq!(count(Lang::En, 1), "1 event");
        assert_eq!(count(Lang::Fr, 1), "1 événement");
        assert_eq!(count(Lang::Fr, 0), "0 événement");
        assert_eq!(count(Lang::En, 1_234_567), "1,234,567 events");
        assert_eq!(format_int(Lang::En, -1234), "-1,234");
        assert_eq!(format_int(Lang::Fr, 999), "999");
        assert_eq!(format_decimal(Lang::Fr, 12345.678, 1), "12\u{a0}345,7");
        assert_eq!(format_decimal(Lang::En, -0.04, 1), "0.0");
        assert_eq!(format_decimal(Lang::En, f64::NAN, 1), "–");
    }

    #[test]
    fn missing_keys_fall_back() {
        let cat = Catalog::new();
        assert_eq!(cat.t(Lang::Fr, "no-such-key"), "no-such-key");
        assert_eq!(cat.t(Lang::Fr, "nav-home"), "Accueil");
        assert_eq!(cat.label(Lang::Fr, "status", "verified"), "Vérifié");
        assert_eq!(cat.label(Lang::Fr, "status", "odd"), "odd");
        assert_eq!(cat.t(Lang::Fr, "colon"), "\u{a0}:");
        assert_eq!(cat.t(Lang::En, "colon"), ":");
    }
}
