//! Queries the store answers: filters, cursor pagination and grouped counts.

use crate::error::StoreError;
use base64::Engine;
use chrono::NaiveDate;
use usalama_domain::{ActorId, AdminLevel, Dimension, EventId, LocalityId, OrgId, ShareScope};

/// Largest page any list returns.
pub const MAX_LIMIT: u32 = 1000;

/// Page size and position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// How many items, 1..=[`MAX_LIMIT`].
    pub limit: u32,
    /// Where the previous page ended.
    pub after: Option<Cursor>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            limit: 50,
            after: None,
        }
    }
}

/// An opaque position in a sorted list: the sort key of the last item seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The sort key (a date, a code or a name).
    pub key: String,
    /// The id of the last item, breaking ties.
    pub id: uuid::Uuid,
}

impl Cursor {
    /// Encodes the cursor for a URL.
    pub fn encode(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
            "{}|{}",
            self.id.simple(),
            self.key
        ))
    }
    /// Decodes a cursor made by [`Cursor::encode`].
    pub fn decode(s: &str) -> Result<Self, StoreError> {
        let bad = || StoreError::InvalidCursor;
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| bad())?;
        let raw = String::from_utf8(raw).map_err(|_| bad())?;
        let (id, key) = raw.split_once('|').ok_or_else(bad)?;
        Ok(Self {
            key: key.to_string(),
            id: uuid::Uuid::parse_str(id).map_err(|_| bad())?,
        })
    }
    /// The key read as a date (event lists are sorted by date).
    pub fn date_key(&self) -> Result<NaiveDate, StoreError> {
        self.key.parse().map_err(|_| StoreError::InvalidCursor)
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// How many items match in all.
    pub total: u64,
    /// Where the next page starts, if there is one.
    pub next_cursor: Option<Cursor>,
}

/// Filters on events. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventQuery {
    /// Events ending on or after this day.
    pub from: Option<NaiveDate>,
    /// Events ending on or before this day.
    pub to: Option<NaiveDate>,
    /// Events in this locality or any of its descendants (with the locality's level).
    pub locality: Option<(LocalityId, AdminLevel)>,
    /// Events of this dimension.
    pub dimension: Option<Dimension>,
    /// Events of this category.
    pub category: Option<String>,
    /// Events involving this actor.
    pub actor: Option<ActorId>,
    /// Events with this verification status name.
    pub status: Option<String>,
    /// Events from this source.
    pub source: Option<String>,
    /// Events whose description or place contains this text (case-insensitive).
    pub text: Option<String>,
    /// Events that duplicate this one.
    pub duplicate_of: Option<EventId>,
    /// Paging.
    pub page: PageRequest,
    /// Do not count the matches (the page's `total` is then 0): for callers that already
    /// know the total, so a page costs no `count(*)`.
    pub skip_total: bool,
    /// Leave out rejected events and duplicates, so that every incident counts once and
    /// false reports not at all (for aggregates).
    pub countable_only: bool,
    /// Only events that could set off an event rule (see [`Alertable`]).
    pub alertable: Option<Alertable>,
    /// Which organisations' records the caller may see. The application sets it from the
    /// caller on every record query; [`Visibility::All`] is for administrators and for
    /// aggregates.
    pub visibility: Visibility,
}

/// What the event rules of the alerts look at, as a filter: an event passes when it has
/// one of `categories`, or at least `min_killed` killed (best estimate), or, with
/// `verified_reports`, when it is a monitor's report (any channel but imports) that was
/// verified. With nothing set, no event passes. The rules still judge each event that
/// passes; the filter only spares reading the others.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Alertable {
    /// Categories some rule watches.
    pub categories: Vec<String>,
    /// The lowest killed count some rule watches.
    pub min_killed: Option<u32>,
    /// Whether some rule watches verified reports.
    pub verified_reports: bool,
}

/// Which records a caller may see: public open data (no owner), its organisation's own
/// records, and what other organisations share with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Visibility {
    /// Every record (administrators, the operator, aggregates).
    #[default]
    All,
    /// Records of one organisation, with what others share with it.
    Org {
        /// The caller's organisation.
        org: OrgId,
        /// Organisations sharing with it, and what they share.
        shared: Vec<(OrgId, ShareScope)>,
    },
}

impl Visibility {
    /// Whether a record owned by `owner` (`None`: public data) with this verification
    /// status (`verified` or not) may be seen: the rule the SQL filter applies, for
    /// records read one at a time.
    pub fn admits(&self, owner: Option<OrgId>, verified: bool) -> bool {
        match (self, owner) {
            (Self::All, _) | (_, None) => true,
            (Self::Org { org, shared }, Some(o)) => {
                o == *org
                    || shared
                        .iter()
                        .any(|(from, scope)| *from == o && (*scope == ShareScope::All || verified))
            }
        }
    }
}

/// Filters on localities.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LocalityQuery {
    /// Only this level.
    pub level: Option<AdminLevel>,
    /// Only children of this locality.
    pub parent: Option<LocalityId>,
    /// Name or code containing this text.
    pub text: Option<String>,
    /// Paging (sorted by code).
    pub page: PageRequest,
}

/// Filters on actors.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActorQuery {
    /// Only this kind (snake_case name).
    pub kind: Option<String>,
    /// Name containing this text.
    pub text: Option<String>,
    /// Paging (sorted by name).
    pub page: PageRequest,
}

/// How to group event counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// By dimension and year of `occurred_end`.
    DimensionYear,
    /// By the locality at this level.
    Locality(AdminLevel),
    /// By category.
    Category,
    /// By source (`ucdp-ged`, `acled`, …): counts of different sources must never be
    /// added together, since they may describe the same incidents.
    Source,
}

/// One group's count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupCount {
    /// The group key: dimension, locality id, category or source.
    pub key: String,
    /// The year, for [`GroupBy::DimensionYear`].
    pub year: Option<i32>,
    /// Number of events.
    pub events: u64,
    /// Sum of best fatality estimates.
    pub fatalities: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let c = Cursor {
            key: "2022-01-31".into(),
            id: uuid::Uuid::from_u128(42),
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert!(Cursor::decode("!!!").is_err());
        assert!(Cursor::decode("aGVsbG8").is_err());
    }
}
