//! The rules of verification, as pure functions: how severe a report is (the order of the
//! analysts' queue), what a decision must carry, which status changes are allowed, how a
//! merge resolves to the root of a group of duplicates and refuses cycles, and how two
//! events are compared to propose duplicates.
//!
//! Nothing here reads a database or the clock: callers pass the events and statuses in.

use crate::error::DomainError;
use crate::event::{EventData, InformationCredibility, SourceReliability, VerificationStatus};
use crate::ids::EventId;
use crate::place::GeoPoint;
use std::cmp::Ordering;
use std::collections::BTreeSet;

// ---------------------------------------------------------------------------------------
// Severity

/// How severe an event is, for the verification queue. Severities compare
/// lexicographically, most severe greatest:
///
/// 1. `killed`: the best estimate of people killed (unknown counts as 0);
/// 2. `otherwise_harmed`: people injured, abducted or displaced, summed (unknown as 0);
/// 3. `civilians_targeted`: civilians deliberately targeted ranks above not.
///
/// The queue sorts by severity (greatest first), then by `occurred_end` (newest first),
/// then by id, so that the order is total and pages never overlap. The store writes the
/// same order in SQL; a conformance test checks that the two agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Severity {
    /// People killed (best estimate, unknown as 0).
    pub killed: u64,
    /// People injured, abducted or displaced (unknown as 0).
    pub otherwise_harmed: u64,
    /// Whether civilians were deliberately targeted.
    pub civilians_targeted: bool,
}

impl Severity {
    /// The severity of an event.
    pub fn of(event: &EventData) -> Self {
        let c = &event.casualties;
        let n = |v: Option<u32>| u64::from(v.unwrap_or(0));
        Self {
            killed: n(c.killed_best),
            otherwise_harmed: n(c.injured) + n(c.abducted) + n(c.displaced),
            civilians_targeted: event.civilians_targeted,
        }
    }

    /// The queue order of two events: the more severe first, then the newer, then by id
    /// (descending), exactly as the store sorts them.
    pub fn queue_order(a: &EventData, b: &EventData) -> Ordering {
        Severity::of(b)
            .cmp(&Severity::of(a))
            .then(b.occurred_end.cmp(&a.occurred_end))
            .then(b.id.as_uuid().cmp(&a.id.as_uuid()))
    }
}

// ---------------------------------------------------------------------------------------
// Decisions

/// Longest reason accepted, in characters.
pub const MAX_REASON: usize = 2_000;

/// The outcome an analyst chooses for a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecisionStatus {
    /// It happened as reported.
    Verified,
    /// It is false, or out of scope.
    Rejected,
}

impl DecisionStatus {
    /// The name used in the API and the database (`verified`, `rejected`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Verified => "verified",
            Self::Rejected => "rejected",
        }
    }
    /// The verification status this decision gives.
    pub fn status(&self) -> VerificationStatus {
        match self {
            Self::Verified => VerificationStatus::Verified,
            Self::Rejected => VerificationStatus::Rejected,
        }
    }
}

impl std::str::FromStr for DecisionStatus {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, DomainError> {
        match s {
            "verified" => Ok(Self::Verified),
            "rejected" => Ok(Self::Rejected),
            _ => Err(DomainError::new(
                "status",
                format!("'{s}' is not one of verified, rejected"),
            )),
        }
    }
}

/// An analyst's decision on a report: verify or reject, why, and the Admiralty grading of
/// the source (A–F) and of the information (1–6). Valid by construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    status: DecisionStatus,
    reason: Option<String>,
    reliability: Option<SourceReliability>,
    credibility: Option<InformationCredibility>,
}

/// Trims a free-text reason; blank becomes `None`.
pub fn clean_reason(reason: Option<&str>) -> Result<Option<String>, DomainError> {
    let r = reason.map(str::trim).filter(|r| !r.is_empty());
    match r {
        Some(r) if r.chars().count() > MAX_REASON => Err(DomainError::new(
            "reason",
            format!("is longer than {MAX_REASON} characters"),
        )),
        Some(r) => Ok(Some(r.to_string())),
        None => Ok(None),
    }
}

impl Decision {
    /// Validates a decision: a rejection needs a reason; a reason has at most
    /// [`MAX_REASON`] characters (blank counts as none).
    pub fn new(
        status: DecisionStatus,
        reason: Option<&str>,
        reliability: Option<SourceReliability>,
        credibility: Option<InformationCredibility>,
    ) -> Result<Self, DomainError> {
        let reason = clean_reason(reason)?;
        if status == DecisionStatus::Rejected && reason.is_none() {
            return Err(DomainError::new("reason", "is required to reject a report"));
        }
        Ok(Self {
            status,
            reason,
            reliability,
            credibility,
        })
    }
    /// Verify or reject.
    pub fn status(&self) -> DecisionStatus {
        self.status
    }
    /// Why, trimmed.
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }
    /// Source reliability, if graded.
    pub fn reliability(&self) -> Option<SourceReliability> {
        self.reliability
    }
    /// Information credibility, if graded.
    pub fn credibility(&self) -> Option<InformationCredibility> {
        self.credibility
    }

    /// Whether this decision may be taken on a record in `current` status. Any record may
    /// be decided (again) except a duplicate: its status is its original's, so it must be
    /// un-merged first.
    pub fn check_allowed(&self, current: &VerificationStatus) -> Result<(), DomainError> {
        match current {
            VerificationStatus::DuplicateOf(_) => Err(DomainError::new(
                "status",
                "the record is a duplicate: un-merge it before deciding",
            )),
            _ => Ok(()),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Merging

/// Longest chain of duplicates followed when resolving a root; stored data is kept flat
/// (every duplicate points at a root), so this only guards against damaged data.
pub const MAX_DUPLICATE_CHAIN: usize = 32;

/// Why a merge is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeRefusal {
    /// An event cannot duplicate itself.
    #[error("an event cannot be merged into itself")]
    Itself,
    /// The target is (a duplicate of) the event being merged: merging would make a cycle.
    #[error("the target is a duplicate of this event: merging would make a cycle")]
    Cycle,
    /// The event is already a duplicate; un-merge it first.
    #[error("the event is already a duplicate; un-merge it first")]
    AlreadyDuplicate,
    /// A chain of duplicates that loops or runs longer than [`MAX_DUPLICATE_CHAIN`].
    #[error("the duplicates of the target form a loop or an overlong chain")]
    BrokenChain,
    /// An event on the chain does not exist.
    #[error("event {0} does not exist")]
    Missing(EventId),
}

/// Follows `duplicate_of` links from `start` to the root of its group (the first event
/// that is not a duplicate). `status_of` looks an event's status up.
pub fn resolve_root(
    start: EventId,
    mut status_of: impl FnMut(EventId) -> Option<VerificationStatus>,
) -> Result<EventId, MergeRefusal> {
    let mut seen = BTreeSet::new();
    let mut cur = start;
    loop {
        if !seen.insert(cur.as_uuid()) || seen.len() > MAX_DUPLICATE_CHAIN {
            return Err(MergeRefusal::BrokenChain);
        }
        match status_of(cur) {
            None => return Err(MergeRefusal::Missing(cur)),
            Some(VerificationStatus::DuplicateOf(next)) => cur = next,
            Some(_) => return Ok(cur),
        }
    }
}

/// Checks a merge of `event` (in status `status`) into the group whose root is `root`.
/// Merging into a duplicate is allowed: it is resolved to the root first (so `into` and
/// `root` may differ). Refused: an event into itself, a root into its own duplicate (a
/// cycle), and an event that already is a duplicate.
pub fn check_merge(
    event: EventId,
    status: &VerificationStatus,
    into: EventId,
    root: EventId,
) -> Result<(), MergeRefusal> {
    if event == into {
        return Err(MergeRefusal::Itself);
    }
    if event == root {
        return Err(MergeRefusal::Cycle);
    }
    if let VerificationStatus::DuplicateOf(_) = status {
        return Err(MergeRefusal::AlreadyDuplicate);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Duplicate candidates

/// How duplicate candidates are proposed. An event `b` is a candidate for `a` when all of:
///
/// - same category;
/// - **place**: when both have coordinates, the great-circle (haversine) distance is at
///   most `max_distance_km`; when either has none, both are placed in the same deepest
///   locality;
/// - **time**: the gap between their date ranges (0 when they overlap) is at most
///   `max_days_apart` days;
/// - **text**: when both have text (description and place name), the token Jaccard
///   similarity (see [`text_similarity`]) is at least `min_text_similarity`; when either has
///   none, text does not rule a candidate out.
///
/// Candidates are ranked by a score in [0, 1], the mean of three closeness values:
/// distance `1 − d / max_distance_km` (0.5 when only the locality is shared), time
/// `1 − days / (max_days_apart + 1)`, and text similarity (0.5 when there is no text to
/// compare). At most `max_candidates` are proposed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DuplicateRules {
    /// Farthest apart two events may be, in kilometres (default 10).
    pub max_distance_km: f64,
    /// Most days between their date ranges (default 3).
    pub max_days_apart: u32,
    /// Least token Jaccard similarity of their texts, when both have text (default 0.2).
    pub min_text_similarity: f64,
    /// Most candidates proposed (default 20).
    pub max_candidates: usize,
}

impl Default for DuplicateRules {
    fn default() -> Self {
        Self {
            max_distance_km: 10.0,
            max_days_apart: 3,
            min_text_similarity: 0.2,
            max_candidates: 20,
        }
    }
}

/// Why an event was proposed as a duplicate, and how strongly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DuplicateMatch {
    /// Distance in km, when both events have coordinates.
    pub distance_km: Option<f64>,
    /// Whether both are placed in the same deepest locality.
    pub same_locality: bool,
    /// Days between their date ranges (0 when they overlap).
    pub days_apart: u32,
    /// Token Jaccard similarity of their texts, when both have text.
    pub text_similarity: Option<f64>,
    /// Overall score in [0, 1], higher is more likely the same incident.
    pub score: f64,
}

/// Mean Earth radius (IUGG), in km.
const EARTH_RADIUS_KM: f64 = 6_371.008_8;

/// Great-circle distance between two points (haversine formula), in kilometres.
pub fn distance_km(a: GeoPoint, b: GeoPoint) -> f64 {
    let (la1, la2) = (a.lat().to_radians(), b.lat().to_radians());
    let dla = la2 - la1;
    let dlo = (b.lon() - a.lon()).to_radians();
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// Days between two date ranges of events, 0 when they overlap.
pub fn days_apart(a: &EventData, b: &EventData) -> u32 {
    let gap = (b.occurred_start - a.occurred_end)
        .num_days()
        .max((a.occurred_start - b.occurred_end).num_days())
        .max(0);
    u32::try_from(gap).unwrap_or(u32::MAX)
}

/// Folds the accented Latin letters of French and other languages written in Latin script
/// to their base letter (`é` → `e`, `ç` → `c`), after lower-casing.
fn fold(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ý' | 'ÿ' => 'y',
        other => other,
    }
}

/// The words of a text for comparison: lower-cased, accents folded, split at every
/// character that is not a letter or digit; words shorter than three characters are
/// dropped (articles and prepositions such as "a", "de", "of") unless they hold a digit.
pub fn tokens(text: &str) -> BTreeSet<String> {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(fold)
        .collect::<String>()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3 || w.chars().any(|c| c.is_ascii_digit()))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Token Jaccard similarity of two texts: |common words| / |all words|, in [0, 1], with
/// words as given by [`tokens`]. `None` when either text has no words.
pub fn text_similarity(a: &str, b: &str) -> Option<f64> {
    let (ta, tb) = (tokens(a), tokens(b));
    if ta.is_empty() || tb.is_empty() {
        return None;
    }
    let common = ta.intersection(&tb).count();
    let all = ta.union(&tb).count();
    Some(common as f64 / all as f64)
}

/// The text of an event that duplicates are compared on: its description and place name.
pub fn comparable_text(e: &EventData) -> String {
    let mut s = String::new();
    for part in [&e.description, &e.place_name].into_iter().flatten() {
        s.push_str(part);
        s.push(' ');
    }
    s
}

impl DuplicateRules {
    /// Checks the settings: a distance above 0 and at most 1,000 km, at most 365 days, a
    /// similarity in [0, 1], 1 to 1,000 candidates.
    pub fn validate(&self) -> Result<(), DomainError> {
        if !(self.max_distance_km > 0.0 && self.max_distance_km <= 1_000.0) {
            return Err(DomainError::new(
                "max_distance_km",
                "must be above 0 and at most 1000",
            ));
        }
        if self.max_days_apart > 365 {
            return Err(DomainError::new("max_days_apart", "must be at most 365"));
        }
        if !(0.0..=1.0).contains(&self.min_text_similarity) {
            return Err(DomainError::new(
                "min_text_similarity",
                "must be between 0 and 1",
            ));
        }
        if !(1..=1_000).contains(&self.max_candidates) {
            return Err(DomainError::new(
                "max_candidates",
                "must be between 1 and 1000",
            ));
        }
        Ok(())
    }

    /// Compares `candidate` with `event`: `Some` with the reasons and score when it is a
    /// duplicate candidate under these rules, `None` otherwise (including the event itself).
    pub fn compare(&self, event: &EventData, candidate: &EventData) -> Option<DuplicateMatch> {
        if event.id == candidate.id || event.category != candidate.category {
            return None;
        }
        let same_locality = event.locality.is_some() && event.locality == candidate.locality;
        let distance_km = match (event.point, candidate.point) {
            (Some(a), Some(b)) => {
                let d = distance_km(a, b);
                if d > self.max_distance_km {
                    return None;
                }
                Some(d)
            }
            _ if same_locality => None,
            _ => return None,
        };
        let days = days_apart(event, candidate);
        if days > self.max_days_apart {
            return None;
        }
        let text = text_similarity(&comparable_text(event), &comparable_text(candidate));
        if text.is_some_and(|t| t < self.min_text_similarity) {
            return None;
        }
        let place_score = distance_km.map_or(0.5, |d| 1.0 - d / self.max_distance_km);
        let time_score = 1.0 - f64::from(days) / (f64::from(self.max_days_apart) + 1.0);
        let score = (place_score + time_score + text.unwrap_or(0.5)) / 3.0;
        Some(DuplicateMatch {
            distance_km,
            same_locality,
            days_apart: days,
            text_similarity: text,
            score: (score * 1000.0).round() / 1000.0,
        })
    }

    /// Ranks matches: highest score first, then nearest, then by id for a stable order;
    /// keeps at most `max_candidates`.
    pub fn rank<T>(
        &self,
        mut found: Vec<(T, DuplicateMatch)>,
        id: impl Fn(&T) -> EventId,
    ) -> Vec<(T, DuplicateMatch)> {
        found.sort_by(|(a, ma), (b, mb)| {
            mb.score
                .total_cmp(&ma.score)
                .then(
                    ma.distance_km
                        .unwrap_or(f64::MAX)
                        .total_cmp(&mb.distance_km.unwrap_or(f64::MAX)),
                )
                .then(id(a).as_uuid().cmp(&id(b).as_uuid()))
        });
        found.truncate(self.max_candidates);
        found
    }

    /// The box of latitudes and longitudes that holds every point within
    /// `max_distance_km` of `p` (a little larger), for a first filter in the store:
    /// `(min_lat, max_lat, min_lon, max_lon)`.
    pub fn bounding_box(&self, p: GeoPoint) -> (f64, f64, f64, f64) {
        // One degree of latitude is at least 110.5 km; widen by 1 % for rounding.
        let dlat = self.max_distance_km / 110.5 * 1.01;
        let (min_lat, max_lat) = ((p.lat() - dlat).max(-90.0), (p.lat() + dlat).min(90.0));
        let widest = min_lat.abs().max(max_lat.abs());
        let cos = widest.to_radians().cos();
        let dlon = if cos > 1e-6 {
            self.max_distance_km / (111.33 * cos) * 1.01
        } else {
            360.0
        };
        let (min_lon, max_lon) = (p.lon() - dlon, p.lon() + dlon);
        if min_lon < -180.0 || max_lon > 180.0 {
            (min_lat, max_lat, -180.0, 180.0)
        } else {
            (min_lat, max_lat, min_lon, max_lon)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Casualties, Channel, DatePrecision, RecordMeta};
    use crate::ids::LocalityId;
    use crate::taxonomy::Dimension;
    use chrono::{DateTime, NaiveDate, Utc};

    fn ev(n: u32, day: &str, lat: f64, lon: f64, text: &str) -> EventData {
        let t = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        let d: NaiveDate = day.parse().unwrap();
        EventData {
            id: EventId::derived(&format!("v:{n}")),
            source: "web".into(),
            external_id: Some(n.to_string()),
            channel: Channel::WebForm,
            occurred_start: d,
            occurred_end: d,
            date_precision: DatePrecision::Day,
            reported_at: None,
            point: Some(GeoPoint::new(lat, lon).unwrap()),
            location_precision: None,
            place_name: None,
            locality: Some(LocalityId::derived("L1")),
            dimension: Dimension::Lives,
            category: "armed_violence".into(),
            source_codes: Default::default(),
            actors: vec![],
            casualties: Casualties::default(),
            civilians_targeted: false,
            description: Some(text.into()),
            people: vec![],
            reporter_contact: None,
            status: VerificationStatus::Unverified,
            reliability: None,
            credibility: None,
            meta: RecordMeta {
                created_at: t,
                updated_at: t,
                created_by: None,
                owner_org: None,
            },
        }
    }

    #[test]
    fn severity_orders_killed_then_harmed_then_civilians_then_date() {
        let mut a = ev(1, "2024-01-01", 5.0, 20.0, "");
        a.casualties.killed_best = Some(2);
        let mut b = ev(2, "2024-01-09", 5.0, 20.0, "");
        b.casualties.killed_best = Some(1);
        b.casualties.displaced = Some(900);
        let mut c = ev(3, "2024-01-05", 5.0, 20.0, "");
        c.casualties.injured = Some(3);
        c.casualties.abducted = Some(1);
        let mut d = ev(4, "2024-01-08", 5.0, 20.0, "");
        d.casualties.injured = Some(4);
        d.civilians_targeted = true;
        let mut e = ev(5, "2024-01-09", 5.0, 20.0, "");
        e.casualties.injured = Some(4);
        let f = ev(6, "2024-01-10", 5.0, 20.0, "");
        let mut all = [f, e, d, c.clone(), b, a];
        all.sort_by(Severity::queue_order);
        let order: Vec<_> = all.iter().map(|x| x.external_id.clone().unwrap()).collect();
        // a: 2 killed; b: 1 killed; d: 4 harmed + civilians; e: 4 harmed, newer than c
        // (4 harmed, older); f: nothing.
        assert_eq!(order, ["1", "2", "4", "5", "3", "6"]);
        assert_eq!(
            Severity::of(&c),
            Severity {
                killed: 0,
                otherwise_harmed: 4,
                civilians_targeted: false
            }
        );
    }

    #[test]
    fn decisions_need_a_reason_to_reject_and_not_on_duplicates() {
        let r = Decision::new(DecisionStatus::Rejected, Some("  "), None, None);
        assert_eq!(r.unwrap_err().field, "reason");
        let ok = Decision::new(DecisionStatus::Rejected, Some(" hoax "), None, None).unwrap();
        assert_eq!(ok.reason(), Some("hoax"));
        let v = Decision::new(
            DecisionStatus::Verified,
            None,
            Some(SourceReliability::B),
            Some(InformationCredibility::new(2).unwrap()),
        )
        .unwrap();
        assert_eq!(v.status().status(), VerificationStatus::Verified);
        assert!(v.check_allowed(&VerificationStatus::Rejected).is_ok());
        let dup = VerificationStatus::DuplicateOf(EventId::derived("x"));
        assert_eq!(v.check_allowed(&dup).unwrap_err().field, "status");
        let long = "x".repeat(MAX_REASON + 1);
        assert!(Decision::new(DecisionStatus::Verified, Some(&long), None, None).is_err());
        assert_eq!(
            "rejected".parse::<DecisionStatus>().unwrap(),
            DecisionStatus::Rejected
        );
        assert!("duplicate".parse::<DecisionStatus>().is_err());
    }

    #[test]
    fn merges_resolve_to_the_root_and_refuse_cycles() {
        let [a, b, c, d] = ["a", "b", "c", "d"].map(EventId::derived);
        // b is a duplicate of a; c of b (an old chain); d is on its own.
        let status = |id: EventId| {
            Some(if id == b {
                VerificationStatus::DuplicateOf(a)
            } else if id == c {
                VerificationStatus::DuplicateOf(b)
            } else {
                VerificationStatus::Verified
            })
        };
        assert_eq!(resolve_root(c, status), Ok(a));
        assert_eq!(resolve_root(d, status), Ok(d));
        assert!(check_merge(d, &VerificationStatus::Unverified, c, a).is_ok());
        assert_eq!(
            check_merge(a, &VerificationStatus::Verified, c, a),
            Err(MergeRefusal::Cycle)
        );
        assert_eq!(
            check_merge(d, &VerificationStatus::Verified, d, d),
            Err(MergeRefusal::Itself)
        );
        assert_eq!(
            check_merge(b, &VerificationStatus::DuplicateOf(a), d, d),
            Err(MergeRefusal::AlreadyDuplicate)
        );
        let looping =
            |id: EventId| Some(VerificationStatus::DuplicateOf(if id == a { b } else { a }));
        assert_eq!(resolve_root(a, looping), Err(MergeRefusal::BrokenChain));
        assert_eq!(resolve_root(a, |_| None), Err(MergeRefusal::Missing(a)));
    }

    #[test]
    fn text_similarity_is_token_jaccard() {
        assert_eq!(
            tokens("Attaque à Bambari, 3 morts près du marché"),
            ["3", "attaque", "bambari", "marche", "morts", "pres"]
                .into_iter()
                .map(String::from)
                .collect()
        );
        let s = text_similarity(
            "Armed men attacked the market",
            "armed men ATTACKED the market",
        );
        assert_eq!(s, Some(1.0));
        let half = text_similarity("one two three four", "one two five six").unwrap();
        assert!((half - 2.0 / 6.0).abs() < 1e-9);
        assert_eq!(text_similarity("a b", "market"), None);
    }

    #[test]
    fn distances_and_days() {
        let bangui = GeoPoint::new(4.3947, 18.5582).unwrap();
        let bambari = GeoPoint::new(5.7617, 20.6672).unwrap();
        let d = distance_km(bangui, bambari);
        assert!((d - 278.0).abs() < 3.0, "{d}");
        assert_eq!(distance_km(bangui, bangui), 0.0);
        let a = ev(1, "2024-01-01", 5.0, 20.0, "");
        let mut b = ev(2, "2024-01-04", 5.0, 20.0, "");
        assert_eq!(days_apart(&a, &b), 3);
        assert_eq!(days_apart(&b, &a), 3);
        b.occurred_start = "2023-12-30".parse().unwrap();
        assert_eq!(days_apart(&a, &b), 0);
    }

    #[test]
    fn candidates_need_category_place_time_and_similar_text() {
        let rules = DuplicateRules::default();
        rules.validate().unwrap();
        let a = ev(
            1,
            "2024-01-01",
            5.0,
            20.0,
            "Armed men attacked the market in Bambari",
        );
        // 2 km north, a day later, reworded.
        let near = ev(
            2,
            "2024-01-02",
            5.018,
            20.0,
            "Market in Bambari attacked by armed men",
        );
        let m = rules.compare(&a, &near).unwrap();
        assert!((m.distance_km.unwrap() - 2.0).abs() < 0.05);
        assert_eq!(m.days_apart, 1);
        assert!(m.score > 0.7, "{m:?}");
        let far = ev(
            3,
            "2024-01-01",
            5.5,
            20.0,
            "Armed men attacked the market in Bambari",
        );
        assert!(rules.compare(&a, &far).is_none(), "55 km away");
        let late = ev(
            4,
            "2024-01-08",
            5.0,
            20.0,
            "Armed men attacked the market in Bambari",
        );
        assert!(rules.compare(&a, &late).is_none(), "a week later");
        let other = ev(
            5,
            "2024-01-01",
            5.0,
            20.0,
            "Flooding destroyed crops near the river",
        );
        assert!(rules.compare(&a, &other).is_none(), "different text");
        let mut cat = near.clone();
        cat.category = "abduction".into();
        assert!(rules.compare(&a, &cat).is_none());
        assert!(rules.compare(&a, &a).is_none());
        // No coordinates: the same locality stands in for distance.
        let mut nowhere = near.clone();
        nowhere.point = None;
        let m = rules.compare(&a, &nowhere).unwrap();
        assert_eq!((m.distance_km, m.same_locality), (None, true));
        nowhere.locality = None;
        assert!(rules.compare(&a, &nowhere).is_none());
        // No text: not ruled out by text.
        let mut silent = near.clone();
        silent.description = None;
        assert_eq!(rules.compare(&a, &silent).unwrap().text_similarity, None);

        let ranked = rules.rank(
            vec![
                (silent.clone(), rules.compare(&a, &silent).unwrap()),
                (near.clone(), m),
            ],
            |e| e.id,
        );
        assert_eq!(ranked.len(), 2);
        assert!(ranked[0].1.score >= ranked[1].1.score);
    }

    #[test]
    fn bounding_box_holds_the_circle_and_rules_validate() {
        let rules = DuplicateRules::default();
        let p = GeoPoint::new(5.0, 20.0).unwrap();
        let (a, b, c, d) = rules.bounding_box(p);
        for (lat, lon) in [(5.09, 20.0), (4.91, 20.0), (5.0, 20.09), (5.0, 19.91)] {
            let q = GeoPoint::new(lat, lon).unwrap();
            assert!(distance_km(p, q) < 10.1);
            assert!(lat >= a && lat <= b && lon >= c && lon <= d, "{lat},{lon}");
        }
        let edge = rules.bounding_box(GeoPoint::new(0.0, 179.99).unwrap());
        assert_eq!((edge.2, edge.3), (-180.0, 180.0));
        let bad = DuplicateRules {
            max_distance_km: 0.0,
            ..Default::default()
        };
        assert_eq!(bad.validate().unwrap_err().field, "max_distance_km");
        let bad = DuplicateRules {
            min_text_similarity: 1.5,
            ..Default::default()
        };
        assert_eq!(bad.validate().unwrap_err().field, "min_text_similarity");
    }
}
