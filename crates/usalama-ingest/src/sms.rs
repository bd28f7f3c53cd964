//! The SMS short syntax: `KEYWORD [NUMBER] PLACE [WHAT HAPPENED]`, for example
//! `KILL 3 BAMBARI shooting near the market`.
//!
//! The keywords (in any language), the category each stands for, what its number counts
//! and the replies are in a file administrators edit (`config/sms.toml`, compiled in as
//! [`DEFAULT_SMS_SYNTAX`]); [`parse_sms_syntax`] checks it against the taxonomy and names
//! the line of any mistake. [`parse_sms`] reads one message: the keyword (case and
//! accents ignored), an optional whole number, then the place, found through the
//! [`Gazetteer`] as the longest run of up to four words that names a locality, and the
//! rest as the description. It never panics, whatever the text.

use crate::gazetteer::{fold, Gazetteer, MatchKind, PlaceMatch, Resolution};
use crate::problem::IngestError;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use toml::Spanned;
use usalama_domain::Taxonomy;

/// The default SMS syntax file shipped with Usalama.
pub const DEFAULT_SMS_SYNTAX: &str = include_str!("../../../config/sms.toml");

/// Longest run of words tried as a place name.
const MAX_PLACE_WORDS: usize = 4;

/// What the number after a keyword counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CountKind {
    /// People killed.
    Killed,
    /// People injured.
    Injured,
    /// People displaced.
    Displaced,
    /// People abducted.
    Abducted,
    /// Nothing: the number is only kept in the text.
    None,
}

impl CountKind {
    fn parse(s: &str) -> Option<Self> {
        Some(match s.trim() {
            "killed" => Self::Killed,
            "injured" => Self::Injured,
            "displaced" => Self::Displaced,
            "abducted" => Self::Abducted,
            "none" => Self::None,
            _ => return None,
        })
    }
}

/// What a keyword means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyword {
    /// The keyword as written in the file.
    pub word: String,
    /// The taxonomy category it reports.
    pub category: String,
    /// What its number counts.
    pub count: CountKind,
    /// The language of the word, for the reply.
    pub lang: String,
}

/// The replies of one language, with `{reference}`, `{place}` and `{keywords}` to fill.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replies {
    /// The report was stored and placed.
    pub received: String,
    /// The report was stored but its place was not recognised.
    pub place_unknown: String,
    /// The message could not be read.
    pub not_understood: String,
}

/// The validated SMS syntax: keywords by folded word, and replies by language.
#[derive(Debug, Clone, PartialEq)]
pub struct SmsSyntax {
    keywords: HashMap<String, Keyword>,
    /// Keywords in file order, for the help text.
    order: Vec<String>,
    replies: BTreeMap<String, Replies>,
    default_lang: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    default_lang: Option<Spanned<String>>,
    #[serde(default)]
    keyword: Vec<KeywordEntry>,
    #[serde(default)]
    reply: BTreeMap<String, Spanned<Replies>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeywordEntry {
    lang: Spanned<String>,
    words: Spanned<Vec<String>>,
    category: Spanned<String>,
    count: Spanned<String>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn err<T>(text: &str, at: &Spanned<T>, key: &str, reason: impl Into<String>) -> IngestError {
    IngestError::Config {
        file: "sms",
        line: Some(line_of(text, at.span().start)),
        key: key.to_string(),
        reason: reason.into(),
    }
}

/// Parses and checks an SMS syntax file: TOML syntax, known keys, categories that exist in
/// `taxonomy`, known count kinds, words that appear once, and replies for every language
/// used (including `default_lang`). Errors name the line and the key.
pub fn parse_sms_syntax(text: &str, taxonomy: &Taxonomy) -> Result<SmsSyntax, IngestError> {
    let file: File = toml::from_str(text).map_err(|e| IngestError::Config {
        file: "sms",
        line: e.span().map(|s| line_of(text, s.start)),
        key: String::new(),
        reason: e.message().trim().replace('\n', " "),
    })?;
    let default_lang = match &file.default_lang {
        Some(l) => l.get_ref().trim().to_string(),
        None => "en".to_string(),
    };
    let mut keywords = HashMap::new();
    let mut order = Vec::new();
    for k in &file.keyword {
        let lang = k.lang.get_ref().trim().to_string();
        if !file.reply.contains_key(&lang) {
            return Err(err(
                text,
                &k.lang,
                "keyword.lang",
                format!("there is no [reply.{lang}] for this language"),
            ));
        }
        let category = k.category.get_ref().trim().to_string();
        if taxonomy.category(&category).is_none() {
            return Err(err(
                text,
                &k.category,
                "keyword.category",
                format!("'{category}' is not a category of the taxonomy"),
            ));
        }
        let count = CountKind::parse(k.count.get_ref()).ok_or_else(|| {
            err(
                text,
                &k.count,
                "keyword.count",
                format!(
                    "'{}' is not one of killed, injured, displaced, abducted, none",
                    k.count.get_ref()
                ),
            )
        })?;
        if k.words.get_ref().is_empty() {
            return Err(err(text, &k.words, "keyword.words", "lists no word"));
        }
        for w in k.words.get_ref() {
            let key = fold(w);
            if key.is_empty() || key.contains(' ') {
                return Err(err(
                    text,
                    &k.words,
                    "keyword.words",
                    format!("'{w}' is not one word of letters or digits"),
                ));
            }
            if key.chars().all(|c| c.is_ascii_digit()) {
                return Err(err(
                    text,
                    &k.words,
                    "keyword.words",
                    format!("'{w}' is a number, which would be read as a count"),
                ));
            }
            let kw = Keyword {
                word: w.trim().to_string(),
                category: category.clone(),
                count,
                lang: lang.clone(),
            };
            if keywords.insert(key, kw).is_some() {
                return Err(err(
                    text,
                    &k.words,
                    "keyword.words",
                    format!("'{w}' appears twice in the file"),
                ));
            }
            order.push(w.trim().to_string());
        }
    }
    if keywords.is_empty() {
        return Err(IngestError::Config {
            file: "sms",
            line: None,
            key: "keyword".into(),
            reason: "the file defines no [[keyword]]".into(),
        });
    }
    if !file.reply.contains_key(&default_lang) {
        return Err(IngestError::Config {
            file: "sms",
            line: file
                .default_lang
                .as_ref()
                .map(|l| line_of(text, l.span().start)),
            key: "default_lang".into(),
            reason: format!("there is no [reply.{default_lang}]"),
        });
    }
    let replies = file
        .reply
        .into_iter()
        .map(|(k, v)| (k, v.into_inner()))
        .collect();
    Ok(SmsSyntax {
        keywords,
        order,
        replies,
        default_lang,
    })
}

impl SmsSyntax {
    /// The meaning of a keyword (case and accents ignored).
    pub fn keyword(&self, word: &str) -> Option<&Keyword> {
        self.keywords.get(&fold(word))
    }

    /// The replies in `lang`, or in the default language.
    pub fn replies(&self, lang: &str) -> &Replies {
        self.replies
            .get(lang)
            .or_else(|| self.replies.get(&self.default_lang))
            .or_else(|| self.replies.values().next())
            .unwrap_or(&FALLBACK_REPLIES)
    }

    /// The default reply language.
    pub fn default_lang(&self) -> &str {
        &self.default_lang
    }

    /// A few keywords of `lang` for the help reply, e.g. `KILL, FIGHT, INJURED`.
    pub fn sample_keywords(&self, lang: &str, n: usize) -> String {
        let mut seen_categories = Vec::new();
        let mut out = Vec::new();
        for w in &self.order {
            if let Some(k) = self.keyword(w) {
                if k.lang == lang && !seen_categories.contains(&(&k.category, k.count)) {
                    seen_categories.push((&k.category, k.count));
                    out.push(w.to_uppercase());
                }
            }
            if out.len() >= n {
                break;
            }
        }
        out.join(", ")
    }
}

static FALLBACK_REPLIES: Replies = Replies {
    received: String::new(),
    place_unknown: String::new(),
    not_understood: String::new(),
};

/// Fills `{reference}`, `{place}` and `{keywords}` in a reply template.
pub fn fill_reply(template: &str, reference: &str, place: &str, keywords: &str) -> String {
    template
        .replace("{reference}", reference)
        .replace("{place}", place)
        .replace("{keywords}", keywords)
}

/// Where an SMS says it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsPlace {
    /// A locality of the gazetteer.
    Found(PlaceMatch),
    /// Words that name no single locality, with the closest candidates.
    Unresolved {
        /// The words taken as the place.
        text: String,
        /// Candidates, best first (may be empty).
        candidates: Vec<PlaceMatch>,
    },
}

/// A message read with the short syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsReport {
    /// The keyword's meaning.
    pub keyword: Keyword,
    /// The number after the keyword, if any.
    pub count: Option<u32>,
    /// The place.
    pub place: SmsPlace,
    /// The rest of the message.
    pub description: Option<String>,
}

/// Why a message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmsError {
    /// The message is empty.
    #[error("message: is empty")]
    Empty,
    /// The first word is not a keyword.
    #[error("keyword: '{0}' is not a keyword")]
    UnknownKeyword(String),
    /// The number is negative or too large.
    #[error("count: '{0}' is not a whole number of people (0 or more)")]
    BadCount(String),
    /// No word is left for the place.
    #[error("place: missing after the keyword and number")]
    NoPlace,
}

impl SmsError {
    /// The part of the message at fault: `message`, `keyword`, `count` or `place`.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Empty => "message",
            Self::UnknownKeyword(_) => "keyword",
            Self::BadCount(_) => "count",
            Self::NoPlace => "place",
        }
    }
}

/// Characters that end a place name when they close a word (`BAMBARI, shooting`).
fn is_separator(c: char) -> bool {
    matches!(c, ',' | ';' | ':' | '.' | '!' | '?' | '/' | '|')
}

/// A word of the message, without surrounding separators, and whether one followed it.
struct Word<'a> {
    text: &'a str,
    ends_clause: bool,
}

fn words(text: &str) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    for raw in text.split_whitespace() {
        // Separators inside a token also split it ("KILL,3,BAMBARI").
        let mut rest = raw;
        while !rest.is_empty() {
            let end = rest.find(is_separator).unwrap_or(rest.len());
            let (w, after) = rest.split_at(end);
            let sep = !after.is_empty();
            let trimmed_after = after.trim_start_matches(is_separator);
            let w = w.trim_matches(|c: char| matches!(c, '#' | '*' | '"' | '(' | ')'));
            if !w.is_empty() {
                out.push(Word {
                    text: w,
                    ends_clause: sep,
                });
            } else if sep {
                if let Some(last) = out.last_mut() {
                    last.ends_clause = true;
                }
            }
            rest = trimmed_after;
        }
    }
    out
}

/// Reads one message. The place is the longest run of up to four words (not crossing a
/// comma, semicolon or full stop) that names one locality exactly; failing that, one
/// found by prefix or near spelling; failing that, the first word, reported as
/// unresolved with its closest candidates.
pub fn parse_sms(
    text: &str,
    syntax: &SmsSyntax,
    gazetteer: &Gazetteer,
) -> Result<SmsReport, SmsError> {
    let ws = words(text);
    let Some(first) = ws.first() else {
        return Err(SmsError::Empty);
    };
    let keyword = syntax
        .keyword(first.text)
        .cloned()
        .ok_or_else(|| SmsError::UnknownKeyword(first.text.chars().take(40).collect()))?;
    let mut i = 1;
    let mut count = None;
    if let Some(w) = ws.get(1) {
        let t = w.text;
        let digits = t.strip_prefix('-').unwrap_or(t);
        if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
            if t.starts_with('-') {
                return Err(SmsError::BadCount(t.chars().take(20).collect()));
            }
            count = Some(
                digits
                    .parse::<u32>()
                    .map_err(|_| SmsError::BadCount(t.chars().take(20).collect()))?,
            );
            i = 2;
        }
    }
    let rest = &ws[i..];
    if rest.is_empty() {
        return Err(SmsError::NoPlace);
    }
    // The longest run not crossing a separator.
    let mut max = 0;
    for w in rest.iter().take(MAX_PLACE_WORDS) {
        max += 1;
        if w.ends_clause {
            break;
        }
    }
    let run = |k: usize| -> String {
        rest[..k]
            .iter()
            .map(|w| w.text)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut chosen: Option<(usize, PlaceMatch)> = None;
    for exact_only in [true, false] {
        for k in (1..=max).rev() {
            if let Resolution::Found(m) = gazetteer.resolve(&run(k)) {
                if !exact_only || m.kind == MatchKind::Exact {
                    chosen = Some((k, m));
                    break;
                }
            }
        }
        if chosen.is_some() {
            break;
        }
    }
    let (used, place) = match chosen {
        Some((k, m)) => (k, SmsPlace::Found(m)),
        None => {
            // An exactly named but ambiguous place still takes its words.
            let k = (1..=max)
                .rev()
                .find(|&k| {
                    matches!(gazetteer.resolve(&run(k)), Resolution::Ambiguous(c)
                        if c.first().is_some_and(|m| m.kind == MatchKind::Exact))
                })
                .unwrap_or(1);
            let text = run(k);
            let candidates = gazetteer.search(&text, 5);
            (k, SmsPlace::Unresolved { text, candidates })
        }
    };
    let description = rest[used..]
        .iter()
        .map(|w| w.text)
        .collect::<Vec<_>>()
        .join(" ");
    Ok(SmsReport {
        keyword,
        count,
        place,
        description: (!description.is_empty()).then_some(description),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taxonomy_file::{parse_taxonomy, DEFAULT_TAXONOMY};
    use usalama_domain::{AdminLevel, Locality, LocalityCode};

    fn syntax() -> SmsSyntax {
        let t = parse_taxonomy(DEFAULT_TAXONOMY).unwrap();
        parse_sms_syntax(DEFAULT_SMS_SYNTAX, &t).unwrap()
    }

    fn gaz() -> Gazetteer {
        let loc = |code: &str, name: &str, level, parent: Option<&str>| {
            let parent = parent.map(|p| Locality::id_for_code(&LocalityCode::new(p).unwrap()));
            Locality::new(
                LocalityCode::new(code).unwrap(),
                name,
                level,
                parent,
                None,
                None,
            )
            .unwrap()
        };
        Gazetteer::new(&[
            loc("P1", "Ouaka", AdminLevel::Adm1, None),
            loc("P2", "Ouham-Pendé", AdminLevel::Adm1, None),
            loc("D1", "Bambari", AdminLevel::Adm2, Some("P1")),
            loc("D2", "Nana-Bakassa", AdminLevel::Adm2, Some("P2")),
        ])
    }

    fn place_code(r: &SmsReport) -> &str {
        match &r.place {
            SmsPlace::Found(m) => m.code.as_str(),
            SmsPlace::Unresolved { .. } => "?",
        }
    }

    #[test]
    fn reads_keyword_count_place_and_description() {
        let (s, g) = (syntax(), gaz());
        let r = parse_sms("KILL 3 BAMBARI shooting near the market", &s, &g).unwrap();
        assert_eq!(r.keyword.category, "violence_against_civilians");
        assert_eq!(r.keyword.count, CountKind::Killed);
        assert_eq!(r.count, Some(3));
        assert_eq!(place_code(&r), "D1");
        assert_eq!(r.description.as_deref(), Some("shooting near the market"));

        let r = parse_sms("tué 2 ouham pende attaque du marché", &s, &g).unwrap();
        assert_eq!((r.keyword.lang.as_str(), r.count), ("fr", Some(2)));
        assert_eq!(place_code(&r), "P2", "two-word place");
        assert_eq!(r.description.as_deref(), Some("attaque du marché"));

        let r = parse_sms("#FLEE,200,Nana Bakassa,villages burned", &s, &g).unwrap();
        assert_eq!(r.keyword.count, CountKind::Displaced);
        assert_eq!((r.count, place_code(&r)), (Some(200), "D2"));
        assert_eq!(r.description.as_deref(), Some("villages burned"));

        let r = parse_sms("rape bambary", &s, &g).unwrap();
        assert_eq!((r.count, place_code(&r)), (None, "D1"), "near spelling");
        assert_eq!(r.description, None);

        let r = parse_sms("KILL 1 Kilimanjaro village", &s, &g).unwrap();
        match r.place {
            SmsPlace::Unresolved { text, .. } => assert_eq!(text, "Kilimanjaro"),
            other => panic!("{other:?}"),
        }
        assert_eq!(r.description.as_deref(), Some("village"));
    }

    #[test]
    fn errors_name_the_part() {
        let (s, g) = (syntax(), gaz());
        assert_eq!(parse_sms("  ", &s, &g), Err(SmsError::Empty));
        let e = parse_sms("HELLO 3 Bambari", &s, &g).unwrap_err();
        assert_eq!(e.field(), "keyword");
        assert_eq!(
            parse_sms("KILL -3 Bambari", &s, &g).unwrap_err().field(),
            "count"
        );
        assert_eq!(
            parse_sms("KILL 99999999999 Bambari", &s, &g)
                .unwrap_err()
                .field(),
            "count"
        );
        assert_eq!(parse_sms("KILL 3", &s, &g), Err(SmsError::NoPlace));
    }

    #[test]
    fn syntax_file_mistakes_name_the_line() {
        let t = parse_taxonomy(DEFAULT_TAXONOMY).unwrap();
        let base = "[reply.en]\nreceived = \"r\"\nplace_unknown = \"p\"\nnot_understood = \"n\"\n";
        let kw = |cat: &str, count: &str, words: &str| {
            format!("{base}[[keyword]]\nlang = \"en\"\nwords = [{words}]\ncategory = \"{cat}\"\ncount = \"{count}\"\n")
        };
        assert!(parse_sms_syntax(&kw("torture", "injured", "\"X\""), &t).is_ok());
        let e = parse_sms_syntax(&kw("nope", "injured", "\"X\""), &t).unwrap_err();
        assert!(
            e.to_string().contains("line 8") && e.to_string().contains("nope"),
            "{e}"
        );
        let e = parse_sms_syntax(&kw("torture", "many", "\"X\""), &t).unwrap_err();
        assert!(e.to_string().contains("keyword.count"), "{e}");
        let e = parse_sms_syntax(&kw("torture", "none", "\"X\", \"x\""), &t).unwrap_err();
        assert!(e.to_string().contains("twice"), "{e}");
        let e = parse_sms_syntax(&kw("torture", "none", "\"12\""), &t).unwrap_err();
        assert!(e.to_string().contains("number"), "{e}");
        let e = parse_sms_syntax(
            &kw("torture", "none", "\"X\"").replace("lang = \"en\"", "lang = \"sw\""),
            &t,
        )
        .unwrap_err();
        assert!(e.to_string().contains("reply.sw"), "{e}");
        assert!(parse_sms_syntax("x = ", &t).is_err());
        assert!(parse_sms_syntax(base, &t).is_err(), "no keyword");
    }

    #[test]
    fn replies_and_help() {
        let s = syntax();
        assert!(s.replies("fr").received.contains("{reference}"));
        assert_eq!(s.replies("xx"), s.replies("en"));
        let help = s.sample_keywords("en", 4);
        assert_eq!(help, "KILL, FIGHT, INJURED, KIDNAP");
        assert_eq!(fill_reply("a {reference} {place}", "R1", "P", ""), "a R1 P");
    }
}
