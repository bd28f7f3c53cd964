//! The gazetteer: typed place names matched against the names and alternative names of
//! localities, whatever the case, accents, hyphens, apostrophes, spacing or administrative
//! suffix ("Préfecture de la Ouaka", "OUAKA", "ouaka province" all fold to `ouaka`).
//!
//! [`fold`] gives the comparable form of a name. [`Gazetteer::search`] ranks candidates:
//! exact folded matches first, then names the text starts, then names within a small edit
//! distance (a typing slip). [`Gazetteer::resolve`] decides whether a text names one place:
//! the best candidates must lie on one line of ancestry (a commune called like its
//! sub-prefecture is not ambiguous: the deeper one is taken), otherwise the caller gets the
//! candidates to choose from. Nothing here is specific to one country or language: any
//! script is kept, only combining marks are dropped.

use std::collections::HashMap;
use usalama_domain::{AdminLevel, Locality, LocalityCode, LocalityId};

/// Words that name a kind of administrative area rather than a place, in many countries'
/// languages, dropped at either end of a name. Written as they are spelt; they are folded
/// like names before use (`sub-prefecture` becomes `sub prefecture`, `район` `раион`).
/// Only words that never tell two areas apart are listed: not "city" or "kota", which
/// distinguish a city from the district of the same name.
const DESIGNATOR_WORDS: &[&str] = &[
    // English and French, in use across Africa and elsewhere.
    "sub-prefecture",
    "sous-préfecture",
    "subprefecture",
    "sousprefecture",
    "prefecture",
    "province",
    "region",
    "state",
    "district",
    "sub-district",
    "commune",
    "county",
    "sub-county",
    "subcounty",
    "department",
    "département",
    "governorate",
    "municipality",
    "parish",
    "canton",
    "cercle",
    "division",
    "voivodeship",
    // Spanish and Portuguese.
    "provincia",
    "región",
    "departamento",
    "municipio",
    "estado",
    "distrito",
    // Eastern Europe and Central Asia (Latin and Cyrillic script).
    "oblast",
    "oblys",
    "oblysy",
    "raion",
    "rayon",
    "krai",
    "kray",
    "okrug",
    "województwo",
    "область",
    "облыс",
    "облысы",
    "район",
    "край",
    "округ",
    // Arabic-speaking countries (transliterated and in Arabic script).
    "muhafazah",
    "muhafazat",
    "mohafazat",
    "wilaya",
    "wilayah",
    "wilayat",
    "محافظة",
    "ولاية",
    // Afghanistan (Dari and Pashto, and transliterated): province, district.
    "ولایت",
    "ولسوالی",
    "velayat",
    "wolayat",
    "woleswali",
    "uluswali",
];

/// The designators folded and split into words, once.
fn designators() -> &'static [Vec<String>] {
    static FOLDED: std::sync::OnceLock<Vec<Vec<String>>> = std::sync::OnceLock::new();
    FOLDED.get_or_init(|| {
        let mut d: Vec<Vec<String>> = DESIGNATOR_WORDS
            .iter()
            .map(|w| {
                crate::text::fold_name(w)
                    .split_whitespace()
                    .map(str::to_string)
                    .collect()
            })
            .collect();
        // Longer designators first, so that "sub prefecture" goes before "prefecture".
        d.sort_by_key(|w| std::cmp::Reverse(w.len()));
        d.dedup();
        d
    })
}

/// Connecting words that may follow a leading designator ("préfecture de la Ouaka",
/// "departamento del Cauca").
const CONNECTORS: &[&str] = &[
    "de", "du", "des", "d", "la", "le", "les", "l", "del", "di", "da", "do", "das", "dos", "of",
    "the",
];

/// Whether `name` starts with an elided article, a single `l` or `d` and an apostrophe
/// before a letter ("L'Ouest", "d’Ivoire"), as French, Italian or Catalan write them.
fn has_elided_article(name: &str) -> bool {
    let mut c = name.trim_start().chars();
    matches!(c.next(), Some('l' | 'L' | 'd' | 'D'))
        && matches!(c.next(), Some('\'' | '’' | 'ʼ' | '‘' | '`' | '´'))
        && c.next().is_some_and(char::is_alphabetic)
}

/// Values that data sets put where a name is missing ("NA" in GADM, "N/A", "null",
/// "none", "-"), which are no one's name.
///
/// ```
/// use usalama_ingest::gazetteer::is_placeholder;
/// assert!(is_placeholder(" NA ") && is_placeholder("n/a") && is_placeholder("-"));
/// assert!(!is_placeholder("Nara"));
/// ```
pub fn is_placeholder(name: &str) -> bool {
    let t = name.trim();
    t.is_empty()
        || [
            "na", "n/a", "n.a.", "nan", "null", "none", "nil", "-", "--", "—", "?",
        ]
        .iter()
        .any(|p| t.eq_ignore_ascii_case(p))
}

/// The comparable form of a name without dropping any word: lower case, accents removed,
/// punctuation and spacing made single spaces ([`crate::text::fold_name`]). Two names
/// equal in this form are the same name; [`fold`] goes further.
pub fn fold_plain(name: &str) -> String {
    crate::text::fold_name(name)
}

/// The comparable form of a place name: lower case, accents and other combining marks
/// removed, every run of characters that are not letters or digits (spaces, hyphens,
/// apostrophes, dots…) made one space, an elided leading article ("L'Ouest") dropped, and
/// words that name a kind of administrative area ("province", "préfecture", "region",
/// "state", "district", "oblast", "район", "governorate", "محافظة", …) dropped at the start
/// or the end (unless nothing else is left).
///
/// ```
/// use usalama_ingest::gazetteer::fold;
/// assert_eq!(fold("  Préfecture de la OUAKA "), "ouaka");
/// assert_eq!(fold("Ouham-Pendé"), "ouham pende");
/// assert_eq!(fold("Nana–Grébizi  sub-prefecture"), "nana grebizi");
/// assert_eq!(fold("Bria, Haute Kotto"), "bria haute kotto");
/// assert_eq!(fold("Kyivska oblast"), "kyivska");
/// assert_eq!(fold("L'Ouest"), "ouest");
/// ```
pub fn fold(name: &str) -> String {
    let flat = crate::text::fold_name(name);
    let mut words: Vec<&str> = flat.split_whitespace().collect();
    if words.len() > 1 && has_elided_article(name) {
        words.remove(0);
    }
    strip_designators(&words).join(" ")
}

fn strip_designators<'a>(words: &'a [&'a str]) -> &'a [&'a str] {
    let mut w = words;
    let ends_with = |w: &[&str], d: &[String]| {
        w.len() >= d.len() && w[w.len() - d.len()..].iter().zip(d).all(|(a, b)| *a == b)
    };
    let starts_with =
        |w: &[&str], d: &[String]| w.len() >= d.len() && w.iter().zip(d).all(|(a, b)| *a == b);
    // Trailing designators: "Ouaka province", "Bambari sub-prefecture", "Київська область".
    'trailing: loop {
        for d in designators() {
            if w.len() > d.len() && ends_with(w, d) {
                w = &w[..w.len() - d.len()];
                continue 'trailing;
            }
        }
        break;
    }
    // Leading designators and their connectors: "Préfecture de la Ouaka".
    'leading: loop {
        for d in designators() {
            if w.len() > d.len() && starts_with(w, d) {
                let mut rest = &w[d.len()..];
                while rest.len() > 1 && CONNECTORS.contains(&rest[0]) {
                    rest = &rest[1..];
                }
                w = rest;
                continue 'leading;
            }
        }
        break;
    }
    w
}

/// Arabic's article as transliterations write it before a name, its `l` often assimilated
/// to the next letter ("Al Jazirah", "Aj Jazirah", "Ad Damazin", "Ash Shamaliyah", "El
/// Fasher"). Dropped by [`sound`] when other words follow.
const ARTICLES: &[&str] = &[
    "al", "el", "il", "ul", "ad", "ed", "adh", "aj", "ar", "er", "as", "es", "ash", "esh", "at",
    "et", "ath", "az", "ez", "an", "en",
];

/// Fewest letters a [`sound`] key has; shorter names get none.
const MIN_SOUND: usize = 3;

/// The key under which spellings of one name in the Latin alphabet meet when it was
/// transliterated differently (from Arabic by English, French or Egyptian usage; from
/// other languages by other conventions): "Al Jazirah", "Aj Jazirah" and "Gezira State"
/// share one, and so do "Al Qadarif" and "Gedaref", "Sennar" and "Sinnar", "Ouagadougou" and
/// "Wagadugu", "Shendi" and "Chendi", "N'Djamena" and "Njamena". The [`fold`]ed name without a
/// leading Arabic article, its letters reduced to their consonants, with the letters
/// transliterations swap made one (`g`, `j`, `q`, `c` and `k`; `sh`, `ch` and `s`; `dj` and
/// `j`; `ou` before a vowel and `w`), `h` and doubled letters dropped. Empty for names in
/// other scripts and for keys of fewer than three letters, which would tell too little.
/// Only a fallback: the importers and the gazetteer look a name up by its key when no
/// locality has the name itself, and take a locality so found only when it is the one.
///
/// ```
/// use usalama_ingest::gazetteer::sound;
/// assert_eq!(sound("Aj Jazirah"), sound("Gezira State"));
/// assert_eq!(sound("Al Qadarif"), sound("Gedaref"));
/// assert_eq!(sound("Ouagadougou"), sound("Wagadugu"));
/// assert_ne!(sound("Kassala"), sound("Khartoum"));
/// assert_eq!(sound("Abyei"), "", "two consonants tell too little");
/// assert_eq!(sound("القرية"), "");
/// ```
pub fn sound(name: &str) -> String {
    let folded = fold(name);
    let mut words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    if words.len() > 1 && ARTICLES.contains(&words[0]) {
        words.remove(0);
    }
    let text = words.concat();
    if !text.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return String::new();
    }
    let b = text.as_bytes();
    let vowel = |i: usize| b.get(i).is_some_and(|c| b"aeiouy".contains(c));
    let mut key = String::with_capacity(b.len());
    // The last letter kept, while no vowel followed it: a doubled letter is kept once.
    let mut last = None;
    let mut i = 0;
    while i < b.len() {
        let pair = &b[i..(i + 2).min(b.len())];
        let (letter, used) = match pair {
            b"ou" if vowel(i + 2) => (Some('w'), 2),
            b"dj" => (Some('k'), 2),
            b"sh" | b"ch" => (Some('s'), 2),
            _ => match b[i] {
                b'h' => (last, 1),
                b'a' | b'e' | b'i' | b'o' | b'u' | b'y' => (None, 1),
                b'g' | b'j' | b'q' | b'c' | b'k' => (Some('k'), 1),
                c => (Some(c as char), 1),
            },
        };
        match letter {
            Some(l) if last != Some(l) => key.push(l),
            _ => {}
        }
        last = letter;
        i += used;
    }
    if key.len() < MIN_SOUND {
        key.clear();
    }
    key
}

/// How a candidate matched the typed text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchKind {
    /// The folded names are equal.
    Exact,
    /// The name starts with the typed text (or one of its words does).
    Prefix,
    /// The name is within a small edit distance of the typed text.
    Fuzzy,
}

impl MatchKind {
    /// `exact`, `prefix` or `fuzzy`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Exact => "exact",
            Self::Prefix => "prefix",
            Self::Fuzzy => "fuzzy",
        }
    }
}

/// A candidate locality for a typed name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceMatch {
    /// The locality.
    pub id: LocalityId,
    /// Its code (P-code).
    pub code: LocalityCode,
    /// Its official name.
    pub name: String,
    /// The name or alternative name that matched.
    pub matched_name: String,
    /// Its administrative level.
    pub level: AdminLevel,
    /// The names of its ancestors below the country, nearest first ("Bambari" is in
    /// `["Ouaka"]`), to tell places of the same name apart.
    pub within: Vec<String>,
    /// How it matched.
    pub kind: MatchKind,
    /// Edit distance for fuzzy matches, 0 otherwise.
    pub distance: u8,
}

/// What a typed name refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// One place (the deepest of its best candidates, which lie on one line of ancestry).
    Found(PlaceMatch),
    /// Several places fit equally well; the candidates, best first.
    Ambiguous(Vec<PlaceMatch>),
    /// No locality has a name like it.
    NotFound,
}

struct Place {
    id: LocalityId,
    code: LocalityCode,
    name: String,
    level: AdminLevel,
    parent: Option<usize>,
}

struct Entry {
    place: usize,
    name: String,
    folded: String,
    compact: Vec<char>,
    /// The name folded without dropping any word, spaces removed ([`fold_plain`]).
    plain: String,
    /// Its transliteration key ([`sound`]), empty when it has none.
    sound: String,
}

/// `s` without its spaces.
fn compact(s: &str) -> String {
    s.chars().filter(|c| *c != ' ').collect()
}

/// Shortest typed text (letters and digits) matched by prefix.
const MIN_PREFIX: usize = 2;
/// Shortest typed text matched by edit distance.
const MIN_FUZZY: usize = 4;
/// Longest name compared by edit distance (longer ones only match exactly or by prefix).
const MAX_FUZZY: usize = 64;
/// The distance given to a name that only shares the text's transliteration key
/// ([`sound`]): more than any edit distance allowed, so it ranks after them.
const SOUND_DISTANCE: usize = 3;

/// The edit distance allowed for a typed text of `len` letters: 1 up to 7, 2 beyond.
fn allowed_distance(len: usize) -> usize {
    if len < MIN_FUZZY {
        0
    } else if len < 8 {
        1
    } else {
        2
    }
}

/// The optimal-string-alignment distance (Levenshtein plus swapped neighbours) between
/// `a` and `b`, or `None` when it is above `max`.
fn distance(a: &[char], b: &[char], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        d[i * w] = i;
        let mut row_min = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return None;
        }
    }
    let v = d[a.len() * w + b.len()];
    (v <= max).then_some(v)
}

/// The names of a set of localities, folded once for fast lookups. Build it when the
/// boundaries change; searching is read-only.
pub struct Gazetteer {
    places: Vec<Place>,
    entries: Vec<Entry>,
}

impl Gazetteer {
    /// Indexes the names and alternative names of `localities` (any levels).
    pub fn new(localities: &[Locality]) -> Self {
        let mut index: HashMap<LocalityId, usize> = HashMap::with_capacity(localities.len());
        let mut places = Vec::with_capacity(localities.len());
        for l in localities {
            if index.contains_key(&l.id) {
                continue;
            }
            index.insert(l.id, places.len());
            places.push(Place {
                id: l.id,
                code: l.code.clone(),
                name: l.name.clone(),
                level: l.level,
                parent: None,
            });
        }
        for l in localities {
            if let (Some(&i), Some(p)) = (index.get(&l.id), l.parent) {
                places[i].parent = index
                    .get(&p)
                    .copied()
                    .filter(|&pi| places[pi].level < places[i].level);
            }
        }
        let mut entries = Vec::new();
        for l in localities {
            let Some(&place) = index.get(&l.id) else {
                continue;
            };
            let mut seen: Vec<String> = Vec::new();
            for name in std::iter::once(&l.name).chain(&l.alt_names) {
                if is_placeholder(name) {
                    continue;
                }
                let folded = fold(name);
                if folded.is_empty() || seen.contains(&folded) {
                    continue;
                }
                seen.push(folded.clone());
                entries.push(Entry {
                    place,
                    name: name.clone(),
                    compact: folded.chars().filter(|c| *c != ' ').collect(),
                    plain: compact(&fold_plain(name)),
                    sound: sound(name),
                    folded,
                });
            }
        }
        Self { places, entries }
    }

    /// How many localities are indexed.
    pub fn len(&self) -> usize {
        self.places.len()
    }

    /// Whether no locality is indexed.
    pub fn is_empty(&self) -> bool {
        self.places.is_empty()
    }

    fn within(&self, place: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = self.places[place].parent;
        while let Some(p) = cur {
            if self.places[p].level != AdminLevel::Adm0 {
                out.push(self.places[p].name.clone());
            }
            cur = self.places[p].parent;
            if out.len() > 4 {
                break;
            }
        }
        out
    }

    /// How well `entry` matches the folded text `q` (`qc`: without spaces; `plain`: the
    /// text folded without dropping words, without spaces; `key`: its [`sound`]), if at
    /// all: the kind of match, the edit distance ([`SOUND_DISTANCE`] for the same key
    /// only), and whether the names are the same before designators are dropped (`false`
    /// ranks first).
    fn score(
        entry: &Entry,
        q: &str,
        qc: &[char],
        plain: &str,
        key: &str,
    ) -> Option<(MatchKind, usize, bool)> {
        if entry.plain == plain {
            return Some((MatchKind::Exact, 0, false));
        }
        if entry.folded == q || entry.compact == qc {
            return Some((MatchKind::Exact, 0, true));
        }
        if qc.len() >= MIN_PREFIX {
            let word_start = entry.folded.starts_with(q)
                || entry
                    .folded
                    .match_indices(q)
                    .any(|(i, _)| entry.folded[..i].ends_with(' ') || i == 0)
                || entry.compact.starts_with(qc);
            if word_start {
                return Some((MatchKind::Prefix, 0, true));
            }
        }
        let max = allowed_distance(qc.len());
        if max > 0 && entry.compact.len() <= MAX_FUZZY {
            if let Some(d) = distance(qc, &entry.compact, max) {
                return Some((MatchKind::Fuzzy, d, true));
            }
        }
        (!key.is_empty() && entry.sound == key).then_some((MatchKind::Fuzzy, SOUND_DISTANCE, true))
    }

    /// Up to `limit` candidates for `text`, best first: exact matches, then prefixes, then
    /// near spellings by edit distance, then other transliterations ([`sound`]); among
    /// exact matches, names that are the text's very words (ignoring only case, accents and punctuation) before those equal once
    /// designators are dropped ("Lima Province" is the area of that name before "Lima");
    /// among equals, shallower levels first (a province before a commune of the same
    /// name), then the shorter name, then the code. Each locality appears once, with its
    /// best-matching name. Placeholder names ("NA") are not indexed.
    pub fn search(&self, text: &str, limit: usize) -> Vec<PlaceMatch> {
        let q = fold(text);
        if q.is_empty() || limit == 0 {
            return Vec::new();
        }
        let qc: Vec<char> = q.chars().filter(|c| *c != ' ').collect();
        let plain = compact(&fold_plain(text));
        let key = sound(text);
        let mut best: HashMap<usize, (MatchKind, usize, bool, usize)> = HashMap::new();
        for (i, e) in self.entries.iter().enumerate() {
            if let Some((kind, d, folded_only)) = Self::score(e, &q, &qc, &plain, &key) {
                let better = best
                    .get(&e.place)
                    .is_none_or(|&(k, bd, bf, _)| (kind, d, folded_only) < (k, bd, bf));
                if better {
                    best.insert(e.place, (kind, d, folded_only, i));
                }
            }
        }
        let mut found: Vec<(MatchKind, usize, bool, usize, usize)> = best
            .into_iter()
            .map(|(place, (k, d, f, e))| (k, d, f, place, e))
            .collect();
        found.sort_by(|a, b| {
            let (pa, pb) = (&self.places[a.3], &self.places[b.3]);
            (a.0, a.1, a.2, pa.level, pa.name.chars().count(), &pa.code).cmp(&(
                b.0,
                b.1,
                b.2,
                pb.level,
                pb.name.chars().count(),
                &pb.code,
            ))
        });
        found
            .into_iter()
            .take(limit)
            .map(|(kind, d, _, place, entry)| {
                let p = &self.places[place];
                PlaceMatch {
                    id: p.id,
                    code: p.code.clone(),
                    name: p.name.clone(),
                    matched_name: self.entries[entry].name.clone(),
                    level: p.level,
                    within: self.within(place),
                    kind,
                    distance: u8::try_from(d).unwrap_or(u8::MAX),
                }
            })
            .collect()
    }

    fn index_of(&self, id: LocalityId) -> Option<usize> {
        self.places.iter().position(|p| p.id == id)
    }

    fn is_ancestor_or_self(&self, ancestor: usize, mut of: usize) -> bool {
        loop {
            if of == ancestor {
                return true;
            }
            match self.places[of].parent {
                Some(p) => of = p,
                None => return false,
            }
        }
    }

    /// Whether `text` names one place. The best candidates (same kind of match and
    /// distance, and when some exact match is the text's very words, only those) must lie
    /// on one line of ancestry; the deepest of them is the answer. Prefix and fuzzy matches
    /// need at least four letters.
    pub fn resolve(&self, text: &str) -> Resolution {
        let candidates = self.search(text, 20);
        let Some(first) = candidates.first() else {
            return Resolution::NotFound;
        };
        let plain = compact(&fold_plain(text));
        let same_words = |m: &PlaceMatch| {
            m.kind == MatchKind::Exact && compact(&fold_plain(&m.matched_name)) == plain
        };
        let (kind, dist, words) = (first.kind, first.distance, same_words(first));
        let group: Vec<PlaceMatch> = candidates
            .iter()
            .filter(|c| c.kind == kind && c.distance == dist && same_words(c) == words)
            .cloned()
            .collect();
        let letters = fold(text).chars().filter(|c| *c != ' ').count();
        if kind != MatchKind::Exact && letters < MIN_FUZZY {
            return Resolution::Ambiguous(candidates.into_iter().take(8).collect());
        }
        let idx: Vec<usize> = group.iter().filter_map(|m| self.index_of(m.id)).collect();
        let Some(&deepest) = idx.iter().max_by_key(|&&i| self.places[i].level) else {
            return Resolution::NotFound;
        };
        if idx.iter().all(|&i| self.is_ancestor_or_self(i, deepest)) {
            let id = self.places[deepest].id;
            match group.into_iter().find(|m| m.id == id) {
                Some(m) => Resolution::Found(m),
                None => Resolution::NotFound,
            }
        } else {
            Resolution::Ambiguous(group.into_iter().take(8).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(code: &str, name: &str, level: AdminLevel, parent: Option<&str>) -> Locality {
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
    }

    fn world() -> Gazetteer {
        Gazetteer::new(&[
            loc("C", "Centralia", AdminLevel::Adm0, None),
            loc("P1", "Ouaka", AdminLevel::Adm1, Some("C")),
            loc("P2", "Ouham-Pendé", AdminLevel::Adm1, Some("C")),
            loc("P3", "Ouham", AdminLevel::Adm1, Some("C")),
            loc("D1", "Bambari", AdminLevel::Adm2, Some("P1")),
            loc("K1", "Bambari", AdminLevel::Adm3, Some("D1")),
            loc("D2", "Bocaranga", AdminLevel::Adm2, Some("P2")),
            loc("D3", "Bossangoa", AdminLevel::Adm2, Some("P3")),
            loc("K2", "Koui", AdminLevel::Adm3, Some("D2")),
            loc("K3", "Koui", AdminLevel::Adm3, Some("D3")),
            loc("D4", "Bamingui", AdminLevel::Adm2, Some("P1")),
            loc("K4", "القرية", AdminLevel::Adm3, Some("D4")),
            loc("D5", "Kaga-Bandoro", AdminLevel::Adm2, Some("P1"))
                .with_alt_names(["Fort Crampel".to_string()]),
        ])
    }

    #[test]
    fn transliterations_share_a_key() {
        // Sudan's states as OCHA's boundaries, ACLED and UCDP spell them.
        for (a, b) in [
            ("Aj Jazirah", "Gezira State"),
            ("Al Jazirah", "Gezira"),
            ("Al Qadarif", "Gedaref"),
            ("Sennar", "Sinnar"),
            ("Khartoum", "Al Khartum"),
            ("Kassala", "Kasala"),
            ("Shendi", "Chendi"),
            ("N'Djamena", "Ndjamena"),
            ("Ouagadougou", "Wagadugu"),
            ("Ash Shamaliyah", "Shamaliya"),
        ] {
            assert_eq!(sound(a), sound(b), "{a} / {b}");
            assert!(!sound(a).is_empty(), "{a}");
        }
        for (a, b) in [
            ("Kassala", "Khartoum"),
            ("North Darfur", "South Darfur"),
            ("Blue Nile", "White Nile"),
            ("Sennar", "Sinjar"),
        ] {
            assert_ne!(sound(a), sound(b), "{a} / {b}");
        }
    }

    #[test]
    fn another_transliteration_is_found_only_when_it_is_the_one() {
        let g = Gazetteer::new(&[
            loc("SD", "Sudan", AdminLevel::Adm0, None),
            loc("SD15", "Aj Jazirah", AdminLevel::Adm1, Some("SD")),
            loc("SD12", "Gedaref", AdminLevel::Adm1, Some("SD")),
            loc("SD09", "Sennar", AdminLevel::Adm1, Some("SD")),
            loc("SD10", "Sinar", AdminLevel::Adm1, Some("SD")),
        ]);
        match g.resolve("Gezira state") {
            Resolution::Found(m) => {
                assert_eq!(m.code.as_str(), "SD15");
                assert_eq!((m.kind, m.distance), (MatchKind::Fuzzy, 3));
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(g.resolve("Al Qadarif"), Resolution::Found(m) if m.code.as_str() == "SD12")
        );
        // Two states share the key of "Sinnar" and neither is its spelling: no guess.
        assert!(matches!(g.resolve("Sinnar"), Resolution::Ambiguous(c) if c.len() == 2));
        // A spelling within the edit distance ranks before a key alone.
        assert_eq!(g.search("Sennar", 5)[0].code.as_str(), "SD09");
    }

    #[test]
    fn folds_case_accents_punctuation_and_designators() {
        assert_eq!(fold("OUHAM-PENDÉ"), "ouham pende");
        assert_eq!(fold("Ouham  Pende province"), "ouham pende");
        assert_eq!(fold("Région de l'Ouaka"), "ouaka");
        assert_eq!(fold("N’Délé"), "n dele");
        assert_eq!(fold("Sous-préfecture de Bambari"), "bambari");
        assert_eq!(fold("Bambari Sub-Prefecture"), "bambari");
        assert_eq!(fold("Lagos State"), "lagos");
        assert_eq!(
            fold("Commune"),
            "commune",
            "a name that is only a designator stays"
        );
        assert_eq!(fold("District 7 commune"), "7");
        assert_eq!(fold("Straße"), "strasse");
        // Other scripts are kept (the ta marbuta written as the heh it is often typed as).
        assert_eq!(fold("القرية"), "القريه");
        assert_eq!(fold("محافظه نينوى"), fold("نينوى"));
        assert_eq!(fold(" - ' . "), "");
    }

    #[test]
    fn exact_prefix_and_fuzzy_in_that_order() {
        let g = world();
        let r = g.search("bambari", 10);
        assert_eq!(r[0].code.as_str(), "D1", "shallower first among equals");
        assert_eq!(r[0].kind, MatchKind::Exact);
        assert_eq!(r[0].within, vec!["Ouaka"]);
        assert_eq!(r[1].code.as_str(), "K1");
        assert_eq!(r[1].within, vec!["Bambari", "Ouaka"]);
        let r = g.search("Bam", 10);
        assert!(r.iter().all(|m| m.kind == MatchKind::Prefix));
        assert_eq!(r.len(), 3);
        let r = g.search("Bambary", 10);
        assert_eq!((r[0].kind, r[0].distance), (MatchKind::Fuzzy, 1));
        assert_eq!(r[0].name, "Bambari");
        let r = g.search("ouham pende", 10);
        assert_eq!(r[0].code.as_str(), "P2");
        let r = g.search("OuhamPende", 10);
        assert_eq!(r[0].code.as_str(), "P2", "spaces do not matter");
        let r = g.search("fort crampel", 10);
        assert_eq!(
            (r[0].code.as_str(), r[0].matched_name.as_str()),
            ("D5", "Fort Crampel")
        );
        assert_eq!(g.search("bandoro", 5)[0].code.as_str(), "D5", "word prefix");
        assert!(g.search("", 5).is_empty());
        assert!(g.search("zzzzzz", 5).is_empty());
        assert_eq!(g.search("القرية", 5)[0].code.as_str(), "K4");
    }

    #[test]
    fn resolve_takes_the_deepest_of_one_line_and_refuses_ambiguity() {
        let g = world();
        match g.resolve("BAMBARI") {
            Resolution::Found(m) => assert_eq!(m.code.as_str(), "K1"),
            other => panic!("{other:?}"),
        }
        match g.resolve("Ouaka") {
            Resolution::Found(m) => assert_eq!(m.code.as_str(), "P1"),
            other => panic!("{other:?}"),
        }
        match g.resolve("koui") {
            Resolution::Ambiguous(c) => {
                let mut codes: Vec<&str> = c.iter().map(|m| m.code.as_str()).collect();
                codes.sort();
                assert_eq!(codes, vec!["K2", "K3"]);
            }
            other => panic!("{other:?}"),
        }
        match g.resolve("Bocarnga") {
            Resolution::Found(m) => assert_eq!((m.code.as_str(), m.kind), ("D2", MatchKind::Fuzzy)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(g.resolve("Bam"), Resolution::Ambiguous(_)));
        assert_eq!(g.resolve("Timbuktu"), Resolution::NotFound);
    }

    #[test]
    fn folds_designators_of_other_countries_and_elided_articles() {
        for (long, short) in [
            ("Kyivska oblast", "Kyivska"),
            ("Київська область", "Київська"),
            ("Bucha raion", "Bucha"),
            ("Бучанський район", "Бучанський"),
            ("Krasnodarskiy krai", "Krasnodarskiy"),
            ("Almaty oblysy", "Almaty"),
            ("Baghdad Governorate", "Baghdad"),
            ("Muhafazat Baghdad", "Baghdad"),
            ("محافظة بغداد", "بغداد"),
            ("Wilaya de Tunis", "Tunis"),
            ("ولاية الخرطوم", "الخرطوم"),
            ("ولایت کابل", "كابل"),
            ("ولسوالی پغمان", "پغمان"),
            ("Paghman Woleswali", "Paghman"),
            ("Nairobi County", "Nairobi"),
            ("Département de l'Ouest", "Ouest"),
            ("Departamento del Cauca", "Cauca"),
            ("Kandy District", "Kandy"),
            ("Préfecture de la Kozah", "Kozah"),
            ("Yerevan municipality", "Yerevan"),
            ("Saint Andrew Parish", "Saint Andrew"),
            ("L'Ouest", "Ouest"),
            ("l’Artibonite", "Artibonite"),
            ("D'Kar", "Kar"),
        ] {
            assert_eq!(fold(long), fold(short), "{long}");
        }
        // Genuinely different names stay different.
        for (a, b) in [
            ("L Ouest", "Ouest"),
            ("Delta", "Elta"),
            ("Kota Bandung", "Bandung"),
            ("Kyiv", "Kyivska"),
            ("Lachin", "Chin"),
            ("Oblast", ""),
            ("Raion", ""),
            ("L'", ""),
        ] {
            assert_ne!(fold(a), fold(b), "{a} / {b}");
        }
        assert_eq!(
            fold("Oblast"),
            "oblast",
            "a name that is only a designator stays"
        );
    }

    #[test]
    fn placeholder_names_are_not_indexed() {
        assert!(["NA", "n/a", "N.A.", "null", "None", "-", "", "  "]
            .iter()
            .all(|p| is_placeholder(p)));
        assert!(!["Na Hang", "Nana", "Nonesuch"]
            .iter()
            .any(|p| is_placeholder(p)));
        let g = Gazetteer::new(&[
            loc("M1", "Bamako", AdminLevel::Adm1, None)
                .with_alt_names(["NA".to_string(), "Bamako District".to_string()]),
            loc("M4", "Kidal", AdminLevel::Adm1, None).with_alt_names(["NA".to_string()]),
        ]);
        assert!(g.search("NA", 10).iter().all(|m| m.matched_name != "NA"));
        assert_eq!(g.resolve("na"), Resolution::NotFound);
    }

    #[test]
    fn the_very_name_wins_over_one_equal_without_its_designator() {
        let g = Gazetteer::new(&[
            loc("PE", "Peru", AdminLevel::Adm0, None),
            loc("PE-LIM", "Lima", AdminLevel::Adm1, Some("PE")),
            loc("PE-LMA", "Lima Province", AdminLevel::Adm1, Some("PE")),
        ]);
        for (text, code) in [
            ("Lima Province", "PE-LMA"),
            ("LIMA  province", "PE-LMA"),
            ("Lima", "PE-LIM"),
            ("lima", "PE-LIM"),
        ] {
            match g.resolve(text) {
                Resolution::Found(m) => assert_eq!(m.code.as_str(), code, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
            assert_eq!(g.search(text, 5)[0].code.as_str(), code, "{text}");
        }
        // Neither is named this way: both fit equally.
        assert!(matches!(g.resolve("Province of Lima"), Resolution::Ambiguous(c) if c.len() == 2));
    }

    #[test]
    fn names_in_scripts_with_vowel_signs_stay_apart() {
        // Patna (Bihar) and Patan (Gujarat) differ only by their vowel signs, as do many
        // Burmese and Thai names; a report naming one in its own script finds that one.
        let g = Gazetteer::new(&[
            loc("IN", "भारत", AdminLevel::Adm0, None),
            loc("IN-BR", "बिहार", AdminLevel::Adm1, Some("IN")),
            loc("IN-GJ", "गुजरात", AdminLevel::Adm1, Some("IN")),
            loc("IN-BR-PAT", "पटना", AdminLevel::Adm2, Some("IN-BR")),
            loc("IN-GJ-PAT", "पाटन", AdminLevel::Adm2, Some("IN-GJ")),
            loc("MM-MGW", "မကွေးတိုင်းဒေသကြီး", AdminLevel::Adm1, None),
            loc("MM-MDY", "မန္တလေးတိုင်းဒေသကြီး", AdminLevel::Adm1, None),
        ]);
        for (text, code) in [
            ("पटना", "IN-BR-PAT"),
            ("पाटन", "IN-GJ-PAT"),
            ("မကွေးတိုင်းဒေသကြီး", "MM-MGW"),
            ("မကွေး", "MM-MGW"),
        ] {
            match g.resolve(text) {
                Resolution::Found(m) => assert_eq!(m.code.as_str(), code, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn distance_is_bounded() {
        let c = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(distance(&c("bambari"), &c("bambari"), 1), Some(0));
        assert_eq!(distance(&c("bambari"), &c("bmabari"), 1), Some(1));
        assert_eq!(distance(&c("bambari"), &c("bambar"), 1), Some(1));
        assert_eq!(distance(&c("bambari"), &c("bangui"), 2), None);
        assert_eq!(distance(&c("a"), &c("abcdef"), 2), None);
    }
}
