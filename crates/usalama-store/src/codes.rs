//! The compact on-disk form of an event's `source_codes` on SQLite.
//!
//! The canonical form of the source codes is their JSON object with the keys in sorted order
//! (what `serde_json` writes for the domain's `SourceCodes`, [`canonical_json`]); the
//! content hash, the history and PostgreSQL's column use that form. On SQLite the column
//! holds a shorter text instead, because the JSON of a UCDP row repeats about 25 key names
//! (about 530 bytes of a row's 1,000), and the bytes of a row are written twice (WAL, then
//! the database) on every import:
//!
//! - [`MARK`], then for each entry in key order: the key, the value, and [`END`];
//! - a key from [`KNOWN_KEYS`] is [`KNOWN`] followed by one character naming its place in
//!   that list; any other key is [`OTHER`], the key, then [`KEY_END`].
//!
//! An empty map, and a map whose keys or values hold any of the four separators (U+001C to
//! U+001F) or [`MARK`], are stored as their JSON. The decoder reads both forms, so rows
//! written before this encoding (JSON) are read as they were. PostgreSQL keeps its `jsonb`.

use std::borrow::Cow;
use std::sync::OnceLock;

/// First character of the compact form (JSON starts with `{`).
const MARK: char = '\u{2}';
/// Starts a key from [`KNOWN_KEYS`].
const KNOWN: char = '\u{1c}';
/// Starts any other key.
const OTHER: char = '\u{1d}';
/// Ends a value.
const END: char = '\u{1e}';
/// Ends a key started by [`OTHER`].
const KEY_END: char = '\u{1f}';
/// The character naming entry 0 of [`KNOWN_KEYS`] (the next ones follow in order).
const FIRST_CODE: u32 = 0x21;

/// Key names the importers write, each stored as two characters. APPEND ONLY: a key's
/// place in this list is written into stored rows. At most 94 entries (`!` to `~`).
const KNOWN_KEYS: &[&str] = &[
    // UCDP GED.
    "type_of_violence",
    "conflict_new_id",
    "conflict_dset_id",
    "conflict_name",
    "dyad_new_id",
    "dyad_dset_id",
    "dyad_name",
    "side_a_new_id",
    "side_b_new_id",
    "where_prec",
    "date_prec",
    "event_clarity",
    "priogrid_gid",
    "country",
    "country_id",
    "region",
    "adm_1",
    "adm_2",
    "relid",
    "code_status",
    "deaths_a",
    "deaths_b",
    "deaths_civilians",
    "deaths_unknown",
    "low",
    "high",
    // ACLED.
    "event_id_no_cnty",
    "year",
    "time_precision",
    "disorder_type",
    "event_type",
    "sub_event_type",
    "assoc_actor_1",
    "inter1",
    "assoc_actor_2",
    "inter2",
    "interaction",
    "civilian_targeting",
    "iso",
    "iso3",
    "gwno",
    "admin1",
    "admin2",
    "admin3",
    "geo_precision",
    "source",
    "source_scale",
    "tags",
    "timestamp",
    // HXL, GeoJSON and the channels.
    "event_subtype",
    "meta_source",
    "country_code",
    "original_source",
    "sms_keyword",
    "form_id",
    "form_version",
];

/// The code character of a known key, found by a binary search of the keys in name order
/// (a UCDP row looks up two dozen keys).
fn code_of(key: &str) -> Option<char> {
    static BY_NAME: OnceLock<Vec<(&'static str, char)>> = OnceLock::new();
    let by_name = BY_NAME.get_or_init(|| {
        let mut v: Vec<(&'static str, char)> = KNOWN_KEYS
            .iter()
            .enumerate()
            .filter_map(|(i, k)| Some((*k, char::from_u32(FIRST_CODE + i as u32)?)))
            .collect();
        v.sort_unstable();
        v
    });
    by_name
        .binary_search_by(|(k, _)| (*k).cmp(key))
        .ok()
        .map(|i| by_name[i].1)
}

/// The known key a code character names.
fn key_of(code: char) -> Option<&'static str> {
    (code as u32)
        .checked_sub(FIRST_CODE)
        .and_then(|i| KNOWN_KEYS.get(i as usize).copied())
}

/// True when `s` holds a character the compact form reserves. They are all ASCII, and an
/// ASCII byte in UTF-8 is always that character, so the bytes are scanned, not decoded.
fn reserved(s: &str) -> bool {
    s.bytes()
        .any(|b| b == MARK as u8 || (0x1c..=0x1f).contains(&b))
}

/// The stored form of source codes given as `(key, value)` pairs in key order.
pub(crate) fn encode<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)> + Clone) -> String {
    let mut out = String::with_capacity(256);
    out.push(MARK);
    let mut any = false;
    for (k, v) in pairs.clone() {
        if reserved(k) || reserved(v) {
            return canonical_json(pairs);
        }
        any = true;
        match code_of(k) {
            Some(c) => {
                out.push(KNOWN);
                out.push(c);
            }
            None => {
                out.push(OTHER);
                out.push_str(k);
                out.push(KEY_END);
            }
        }
        out.push_str(v);
        out.push(END);
    }
    if !any {
        return "{}".into();
    }
    out
}

/// The canonical JSON of pairs in key order: serde_json's bytes for the map, written into a
/// buffer sized once. A name or value with nothing to escape, as nearly all are, is copied
/// as it is; any other goes through serde_json.
pub(crate) fn canonical_json<'a>(
    pairs: impl Iterator<Item = (&'a str, &'a str)> + Clone,
) -> String {
    fn string(buf: &mut Vec<u8>, s: &str) {
        if s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
            // Writing a string into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *buf, s);
        } else {
            buf.push(b'"');
            buf.extend_from_slice(s.as_bytes());
            buf.push(b'"');
        }
    }
    let size = 2 + pairs
        .clone()
        .map(|(k, v)| k.len() + v.len() + 6)
        .sum::<usize>();
    let mut buf = Vec::with_capacity(size);
    buf.push(b'{');
    for (i, (k, v)) in pairs.enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        string(&mut buf, k);
        buf.push(b':');
        string(&mut buf, v);
    }
    buf.push(b'}');
    // Made of whole UTF-8 strings and ASCII punctuation.
    String::from_utf8(buf).unwrap_or_default()
}

/// The entries of a compact form's body (after [`MARK`]), in key order; an error names what
/// is wrong.
fn entries(body: &str) -> impl Iterator<Item = Result<(&str, &str), String>> {
    let mut rest = body;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut entry = || -> Result<(&str, &str), String> {
            let mut chars = rest.chars();
            let key = match chars.next() {
                Some(KNOWN) => {
                    let code = chars.next().ok_or("source codes end inside a key")?;
                    let k =
                        key_of(code).ok_or_else(|| format!("unknown source-code key {code:?}"))?;
                    rest = chars.as_str();
                    k
                }
                Some(OTHER) => {
                    let s = chars.as_str();
                    let n = s.find(KEY_END).ok_or("source-code key without its end")?;
                    rest = &s[n + KEY_END.len_utf8()..];
                    &s[..n]
                }
                _ => return Err("source codes: an entry does not start with a key".into()),
            };
            let n = rest.find(END).ok_or("source-code value without its end")?;
            let value = &rest[..n];
            rest = &rest[n + END.len_utf8()..];
            Ok((key, value))
        };
        let next = entry();
        if next.is_err() {
            rest = "";
        }
        Some(next)
    })
}

/// The value of the first of `keys` present in a stored value (compact or JSON), read in
/// one pass and borrowed from the compact form; `None` when none is present or the stored
/// value cannot be read.
pub(crate) fn first_of<'a>(stored: &'a str, keys: &[&str]) -> Option<Cow<'a, str>> {
    let Some(body) = stored.strip_prefix(MARK) else {
        let map: std::collections::BTreeMap<String, String> = serde_json::from_str(stored).ok()?;
        return keys
            .iter()
            .find_map(|k| map.get(*k).cloned().map(Cow::Owned));
    };
    let mut best: Option<(usize, &str)> = None;
    for entry in entries(body) {
        let (key, value) = entry.ok()?;
        if let Some(i) = keys.iter().position(|k| *k == key) {
            if best.is_none_or(|(b, _)| i < b) {
                best = Some((i, value));
            }
        }
    }
    best.map(|(_, v)| Cow::Borrowed(v))
}

/// The canonical JSON of a stored value (compact or JSON); an error names what is wrong.
pub(crate) fn decode(stored: String) -> Result<String, String> {
    let Some(body) = stored.strip_prefix(MARK) else {
        return Ok(stored);
    };
    let pairs = entries(body).collect::<Result<Vec<_>, _>>()?;
    Ok(canonical_json(pairs.into_iter()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    proptest! {
        /// The content hash and PostgreSQL's column take this JSON: it must be serde_json's.
        #[test]
        fn canonical_json_is_serde_jsons(
            pairs in prop::collection::vec(("\\PC{0,4}|[a-z_]{1,12}", "\\PC{0,6}|.{0,3}|[\\x00-\\x7f]{0,4}"), 0..8),
        ) {
            let map: BTreeMap<String, String> = pairs.into_iter().collect();
            let json = canonical_json(map.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            prop_assert_eq!(json, serde_json::to_string(&map).unwrap());
        }
    }

    fn roundtrip(m: &BTreeMap<String, String>) -> String {
        let stored = encode(m.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let json = serde_json::to_string(m).unwrap();
        assert_eq!(
            decode(stored.clone()).unwrap(),
            json,
            "stored as {stored:?}"
        );
        stored
    }

    #[test]
    fn one_value_is_read_from_either_form() {
        let mut m = BTreeMap::new();
        m.insert("country".to_string(), "Niger".to_string());
        m.insert("iso".to_string(), "562".to_string());
        m.insert("zz_custom".to_string(), "x y".to_string());
        let pairs = || m.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        for stored in [encode(pairs()), canonical_json(pairs())] {
            let get = |key: &str| first_of(&stored, &[key]);
            assert_eq!(get("country").as_deref(), Some("Niger"), "{stored:?}");
            assert_eq!(get("iso").as_deref(), Some("562"));
            assert_eq!(get("zz_custom").as_deref(), Some("x y"));
            assert_eq!(get("iso3"), None);
            assert_eq!(get("zz"), None);
            // The first of several keys by their order, not the entries'.
            let first = first_of(&stored, &["iso3", "zz_custom", "iso"]);
            assert_eq!(first.as_deref(), Some("x y"));
        }
        assert!(matches!(
            first_of(&encode(pairs()), &["country"]),
            Some(Cow::Borrowed(_))
        ));
        assert_eq!(first_of("{}", &["country"]), None);
        assert_eq!(first_of("not json", &["country"]), None);
    }

    #[test]
    fn known_and_other_keys_come_back_as_the_canonical_json() {
        let mut m = BTreeMap::new();
        m.insert("adm_1".to_string(), "Région \"Nord\" \\ 😀".to_string());
        m.insert("zz_custom".to_string(), "x".to_string());
        m.insert("deaths_a".to_string(), String::new());
        m.insert("a-new-key".to_string(), "v".to_string());
        let stored = roundtrip(&m);
        assert!(stored.starts_with(MARK));
        assert!(stored.len() < serde_json::to_string(&m).unwrap().len());
    }

    #[test]
    fn a_ucdp_row_is_much_shorter_than_its_json() {
        let m: BTreeMap<String, String> = KNOWN_KEYS[..24]
            .iter()
            .map(|k| (k.to_string(), "103".to_string()))
            .collect();
        let stored = roundtrip(&m);
        // Two characters of key and one separator an entry, against about 20 for JSON.
        assert_eq!(stored.len(), 1 + 24 * (3 + 3));
    }

    #[test]
    fn empty_and_reserved_characters_stay_json() {
        let m = BTreeMap::new();
        assert_eq!(roundtrip(&m), "{}");
        for bad in ["a\u{1e}b", "\u{2}", "x\u{1c}", "\u{1f}"] {
            let mut m = BTreeMap::new();
            m.insert("relid".to_string(), bad.to_string());
            assert!(roundtrip(&m).starts_with('{'));
            let mut m = BTreeMap::new();
            m.insert(bad.to_string(), "v".to_string());
            assert!(roundtrip(&m).starts_with('{'));
        }
    }

    #[test]
    fn old_json_rows_read_as_they_are_and_damage_is_an_error() {
        let json = r#"{"adm_1":"A","relid":"B"}"#.to_string();
        assert_eq!(decode(json.clone()).unwrap(), json);
        for bad in [
            "\u{2}x",
            "\u{2}\u{1c}",
            "\u{2}\u{1c}!abc",
            "\u{2}\u{1d}key",
            "\u{2}\u{1c}\u{7f}v\u{1e}",
        ] {
            assert!(decode(bad.to_string()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_key_list_fits_one_character_each_and_has_no_repeats() {
        assert!(KNOWN_KEYS.len() <= 94);
        let set: std::collections::BTreeSet<_> = KNOWN_KEYS.iter().collect();
        assert_eq!(set.len(), KNOWN_KEYS.len());
        for (i, k) in KNOWN_KEYS.iter().enumerate() {
            assert_eq!(key_of(code_of(k).unwrap()), Some(KNOWN_KEYS[i]));
        }
    }
}
