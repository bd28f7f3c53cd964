//! [`SourceCodes`]: the source taxonomy's own codes of an event, kept verbatim.

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

/// The source taxonomy's own codes, kept verbatim (`type_of_violence`, `event_type`, …): a
/// map from code name to value, in name order, each name at most once.
///
/// Names and values share one text buffer, so a UCDP row's two dozen codes cost two
/// allocations instead of fifty (importers build a million of these). It serialises as a
/// JSON object with its names in order, exactly as a `BTreeMap<String, String>` does.
#[derive(Clone, Default)]
pub struct SourceCodes {
    /// Names and values back to back (a replaced value's old bytes stay unused).
    text: String,
    /// Each entry's name and value as ranges of `text`, in name order.
    entries: Vec<Entry>,
}

/// One name and value: `text[key..value]` and `text[value..end]`.
#[derive(Clone, Copy)]
struct Entry {
    key: usize,
    value: usize,
    end: usize,
}

impl SourceCodes {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty map with room for `codes` codes of `text` bytes of names and values.
    pub fn with_capacity(codes: usize, text: usize) -> Self {
        Self {
            text: String::with_capacity(text),
            entries: Vec::with_capacity(codes),
        }
    }

    /// The number of codes.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there is no code.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn key(&self, e: &Entry) -> &str {
        &self.text[e.key..e.value]
    }

    fn value(&self, e: &Entry) -> &str {
        &self.text[e.value..e.end]
    }

    /// Where `key` is, or where it would go.
    fn find(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|e| self.key(e).cmp(key))
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.find(key).ok().map(|i| self.value(&self.entries[i]))
    }

    /// True when `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Appends a name and a value to the buffer.
    fn push_text(&mut self, key: &str, value: &str) -> Entry {
        let start = self.text.len();
        self.text.push_str(key);
        self.text.push_str(value);
        Entry {
            key: start,
            value: start + key.len(),
            end: self.text.len(),
        }
    }

    /// Sets `key` to `value`, replacing its value if present. A key after every other one
    /// (as importers give their codes, in name order) is appended without a search.
    pub fn insert(&mut self, key: impl AsRef<str>, value: impl AsRef<str>) {
        let (key, value) = (key.as_ref(), value.as_ref());
        let entry = self.push_text(key, value);
        match self.entries.last() {
            Some(last) if self.key(last) >= key => match self.find(key) {
                Ok(i) => self.entries[i] = entry,
                Err(i) => self.entries.insert(i, entry),
            },
            _ => self.entries.push(entry),
        }
    }

    /// The codes in name order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + Clone + '_ {
        self.entries.iter().map(|e| (self.key(e), self.value(e)))
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Extend<(K, V)> for SourceCodes {
    /// Inserts each pair in turn: of pairs with one name the last one wins.
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for SourceCodes {
    /// Collects pairs; of pairs with one name the last one wins, as in a `BTreeMap`.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let iter = iter.into_iter();
        let mut codes = SourceCodes::with_capacity(iter.size_hint().0, 0);
        codes.extend(iter);
        codes
    }
}

impl<K: AsRef<str>, V: AsRef<str>, const N: usize> From<[(K, V); N]> for SourceCodes {
    /// The map of the pairs; of pairs with one name the last one wins.
    fn from(pairs: [(K, V); N]) -> Self {
        pairs.into_iter().collect()
    }
}

impl PartialEq for SourceCodes {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for SourceCodes {}

impl fmt::Debug for SourceCodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl std::ops::Index<&str> for SourceCodes {
    type Output = str;
    /// The value of `key`; panics when it is absent, as a map's index does.
    fn index(&self, key: &str) -> &str {
        match self.get(key) {
            Some(v) => v,
            None => panic!("no source code {key:?}"),
        }
    }
}

impl Serialize for SourceCodes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for SourceCodes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Codes;
        impl<'de> Visitor<'de> for Codes {
            type Value = SourceCodes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of text codes")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SourceCodes, A::Error> {
                let mut codes = SourceCodes::with_capacity(map.size_hint().unwrap_or(0), 0);
                while let Some((k, v)) = map.next_entry::<Text<'de>, Text<'de>>()? {
                    codes.insert(k.0, v.0);
                }
                Ok(codes)
            }
        }
        d.deserialize_map(Codes)
    }
}

/// A name or value being read: borrowed from the input when it has nothing to unescape
/// (as a list of stored events has), so that reading a map allocates nothing per entry.
struct Text<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Str;
        impl<'de> Visitor<'de> for Str {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a text code")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(Str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[test]
    fn names_come_out_in_order_and_the_last_value_wins() {
        let c: SourceCodes = [("b", "1"), ("a", "2"), ("b", "3")].into();
        assert_eq!(c.iter().collect::<Vec<_>>(), [("a", "2"), ("b", "3")]);
        assert_eq!(c.get("b"), Some("3"));
        assert_eq!(c.get("c"), None);
        assert_eq!(&c["a"], "2");
    }

    #[test]
    fn insert_replaces_and_equality_ignores_how_the_map_was_built() {
        let mut c = SourceCodes::new();
        c.insert("z", "old");
        c.insert("a", "1");
        c.insert("z", "new");
        assert_eq!(c, SourceCodes::from([("a", "1"), ("z", "new")]));
        assert_eq!(c.len(), 2);
        assert!(c.contains_key("z") && !c.contains_key("y"));
    }

    proptest! {
        /// Whatever the pairs, the map behaves as a `BTreeMap<String, String>` built from
        /// them, and its JSON is the same bytes (the content hash and the history use it).
        #[test]
        fn it_is_a_btreemap_with_the_same_json(
            pairs in prop::collection::vec(("[a-c_é\"]{0,3}", ".{0,4}"), 0..12),
            extra in prop::collection::vec(("[a-d]{0,2}", "[0-9]{0,2}"), 0..4),
        ) {
            let mut codes: SourceCodes = pairs.iter().cloned().collect();
            let mut map: BTreeMap<String, String> = pairs.into_iter().collect();
            for (k, v) in extra {
                codes.insert(&k, &v);
                map.insert(k, v);
            }
            let as_map: Vec<(&str, &str)> =
                map.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            prop_assert_eq!(codes.iter().collect::<Vec<_>>(), as_map);
            for k in map.keys() {
                prop_assert_eq!(codes.get(k), map.get(k).map(String::as_str));
            }
            let json = serde_json::to_string(&codes).unwrap();
            prop_assert_eq!(&json, &serde_json::to_string(&map).unwrap());
            let back: SourceCodes = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, codes);
        }
    }
}
