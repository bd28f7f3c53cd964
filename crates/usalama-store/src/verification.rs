//! What the store keeps and answers for verification: the analysts' queue, the pool of
//! possible duplicates of an event, atomic writes of decisions, merges and un-merges (each
//! with its history entries, checked against the event's version), and the history of a
//! record with what each entry changed.
//!
//! The SQL both backends share is here too: the queue's severity order, which mirrors
//! [`usalama_domain::Severity`].

use crate::error::StoreError;
use crate::query::{Cursor, EventQuery, PageRequest};
use crate::records::StoredEvent;
use crate::sql::{Dialect, Filter, SqlValue};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use std::fmt;
use std::str::FromStr;
use usalama_domain::{
    AdminLevel, EventData, EventId, InformationCredibility, LocalityId, Severity,
    SourceReliability, VerificationStatus,
};
use uuid::Uuid;

/// Filters of the verification queue (unverified events only).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueQuery {
    /// Events in this locality or any locality below it (with the locality's level).
    pub locality: Option<(LocalityId, AdminLevel)>,
    /// Events of this category.
    pub category: Option<String>,
    /// Paging; the cursor is one made by this list.
    pub page: PageRequest,
    /// Which records the caller may see (set by the application from the caller).
    pub visibility: crate::query::Visibility,
}

/// An event with its version: the counter `If-Match` compares, bumped by every change.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionedEvent {
    /// The event and its placement.
    pub stored: StoredEvent,
    /// Its version, from 1.
    pub version: i64,
}

/// Events that may be the same incident as `exclude`: the store's first, coarse filter,
/// refined by [`usalama_domain::DuplicateRules::compare`].
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicatePoolQuery {
    /// The event whose duplicates are sought (left out of the answer).
    pub exclude: EventId,
    /// Same category.
    pub category: String,
    /// Events ending on or after this day.
    pub occurred_from: NaiveDate,
    /// Events starting on or before this day.
    pub occurred_to: NaiveDate,
    /// `(min_lat, max_lat, min_lon, max_lon)`: events with coordinates inside. `None`
    /// when the event has no coordinates.
    pub bbox: Option<(f64, f64, f64, f64)>,
    /// Events placed in this locality that cannot be compared by distance (no coordinates
    /// on either side).
    pub locality: Option<LocalityId>,
    /// Most events returned (the newest).
    pub limit: u32,
}

/// What a history entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HistoryKind {
    /// New content from a re-import or an updated report.
    ContentUpdate,
    /// An analyst verified or rejected the record, or graded it.
    Decision,
    /// The record was marked as a duplicate of another (`related`).
    MergedInto,
    /// Another record (`related`) was marked as a duplicate of this one.
    DuplicateAdded,
    /// The record stopped being a duplicate of another (`related`).
    Unmerged,
    /// Another record (`related`) stopped being a duplicate of this one.
    DuplicateRemoved,
}

impl HistoryKind {
    /// Every kind.
    pub const ALL: [HistoryKind; 6] = [
        Self::ContentUpdate,
        Self::Decision,
        Self::MergedInto,
        Self::DuplicateAdded,
        Self::Unmerged,
        Self::DuplicateRemoved,
    ];

    /// The name stored and shown in the API.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::ContentUpdate => "content_update",
            Self::Decision => "decision",
            Self::MergedInto => "merged_into",
            Self::DuplicateAdded => "duplicate_added",
            Self::Unmerged => "unmerged",
            Self::DuplicateRemoved => "duplicate_removed",
        }
    }
}

impl fmt::Display for HistoryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for HistoryKind {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, StoreError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| StoreError::InvalidRecord {
                id: "event_history".into(),
                reason: format!("unknown kind '{s}'"),
            })
    }
}

/// Who made a change, when, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeNote {
    /// The account or token label.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Why, if said.
    pub reason: Option<String>,
}

/// A decision to write: the new status and grading of `event`, if it is still at
/// `expected_version`.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionWrite {
    /// The event.
    pub event: EventId,
    /// The version the analyst saw.
    pub expected_version: i64,
    /// The new status (not a duplicate: merges have their own write).
    pub status: VerificationStatus,
    /// The new source reliability.
    pub reliability: Option<SourceReliability>,
    /// The new information credibility.
    pub credibility: Option<InformationCredibility>,
    /// Who, when, why.
    pub note: ChangeNote,
}

/// A merge to write: `event` becomes a duplicate of `root`, and so do the events that were
/// duplicates of `event`, so that every duplicate points at a root.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeWrite {
    /// The event that becomes a duplicate.
    pub event: EventId,
    /// Its version as the analyst saw it.
    pub expected_version: i64,
    /// The root of the group it joins (not itself a duplicate).
    pub root: EventId,
    /// The root's version when the merge was checked.
    pub root_version: i64,
    /// Who, when, why.
    pub note: ChangeNote,
}

/// An un-merge to write: `event` stops being a duplicate and takes `restore` as status.
#[derive(Debug, Clone, PartialEq)]
pub struct UnmergeWrite {
    /// The duplicate.
    pub event: EventId,
    /// Its version as the analyst saw it.
    pub expected_version: i64,
    /// The status it returns to (not a duplicate).
    pub restore: VerificationStatus,
    /// Who, when, why.
    pub note: ChangeNote,
}

/// What a verification write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Written; the event's new version.
    Written {
        /// The new version.
        version: i64,
    },
    /// Nothing written: `event` is no longer at the expected version.
    Stale {
        /// The event that changed.
        event: EventId,
        /// Its version now.
        current: i64,
    },
    /// Nothing written: this event does not exist.
    Missing(EventId),
}

/// One field a history entry changed. Values of personal fields (people involved,
/// reporter contact) are withheld, and so are lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    /// The field, as named in the store (`status`, `killed_best`, `description`, …).
    pub field: String,
    /// The value before, if shown and not empty.
    pub from: Option<String>,
    /// The value after, if shown and not empty.
    pub to: Option<String>,
    /// The values are not shown because they are personal data.
    pub withheld: bool,
}

/// One change in a record's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// Who (account, `token:label`, `cli`), if known.
    pub by: Option<String>,
    /// What kind of change.
    pub kind: HistoryKind,
    /// Why, as the analyst said.
    pub reason: Option<String>,
    /// The other event of a merge or un-merge.
    pub related: Option<EventId>,
    /// The fields that changed, by name.
    pub changes: Vec<FieldChange>,
}

/// A history row as read, before its changes are worked out.
pub(crate) struct RawHistory {
    pub at: DateTime<Utc>,
    pub by: Option<String>,
    pub previous: String,
    pub kind: String,
    pub reason: Option<String>,
    pub related: Option<Uuid>,
}

/// The events the queue `q` lists, as an event query (unverified, in its area and
/// category, under its visibility).
pub(crate) fn queue_filter(q: &QueueQuery) -> EventQuery {
    EventQuery {
        status: Some("unverified".into()),
        locality: q.locality,
        category: q.category.clone(),
        visibility: q.visibility.clone(),
        ..Default::default()
    }
}

/// Adds the condition of `q`'s cursor, if any, to its filter `f` (events after the cursor
/// in the queue's order, [`queue_key_sql`]). PostgreSQL seeks its queue index on that
/// tuple; SQLite cannot, and reads the rest of the queue in parts instead.
pub(crate) fn push_queue_cursor(f: &mut Filter, q: &QueueQuery) -> Result<(), StoreError> {
    if let Some(cur) = &q.page.after {
        let (k, h, civ, date) = parse_queue_cursor(cur)?;
        let ps = [
            f.bind(SqlValue::Int(k)),
            f.bind(SqlValue::Int(h)),
            f.bind(SqlValue::Int(civ)),
            f.bind(SqlValue::Date(date)),
            f.bind(SqlValue::Uuid(cur.id)),
        ];
        f.push_raw(format!("{} < ({})", queue_key_sql(), ps.join(", ")));
    }
    Ok(())
}

/// Events lasting longer than this many days (end less start) are the pool's "long"
/// events, found through the partial index `events_long_span` (migration 0015).
pub(crate) const LONG_SPAN_DAYS: u64 = 7;

/// The longest an event may last, in days, to be in a pool: one known only to a year
/// or more vaguely is not proposed as the duplicate of a dated report.
pub(crate) const POOL_MAX_SPAN_DAYS: u64 = 366;

/// The condition of `events_long_span` in `dialect`, word for word the index's (the
/// planners use a partial index only for a query that states its condition).
pub(crate) fn long_span_sql(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "julianday(e.occurred_end) - julianday(e.occurred_start) > 7",
        Dialect::Postgres => "e.occurred_end - e.occurred_start > 7",
    }
}

/// The filters of the pool `q`, to be read in turn, newest first, until `q.limit` events:
/// first the long events ending more than [`LONG_SPAN_DAYS`] and at most
/// [`POOL_MAX_SPAN_DAYS`] after the window (through `events_long_span`), then every event
/// ending within the window or up to [`LONG_SPAN_DAYS`] after it (a range of
/// `events_category`). Together they are every event of the category overlapping the
/// window that lasts at most [`POOL_MAX_SPAN_DAYS`]: one ending later than the second
/// range started before the window's end, so is long. Read as one query, "ending on or
/// after the window's start" walked every event of the category up to the newest. `None`
/// when no event can qualify (no coordinates and no locality).
pub(crate) fn pool_filters(q: &DuplicatePoolQuery, dialect: Dialect) -> Option<[Filter; 2]> {
    let mut f = Filter::new(dialect);
    f.push("e.category = {}", SqlValue::Text(q.category.clone()));
    f.push("e.occurred_start <= {}", SqlValue::Date(q.occurred_to));
    f.push("e.id <> {}", SqlValue::Uuid(q.exclude.as_uuid()));
    let same_locality = |f: &mut Filter, l: LocalityId| {
        format!("e.locality_id = {}", f.bind(SqlValue::Uuid(l.as_uuid())))
    };
    let place = match (q.bbox, q.locality) {
        (Some((lat0, lat1, lon0, lon1)), locality) => {
            let [a, b, c, d] = [lat0, lat1, lon0, lon1].map(|x| f.bind(SqlValue::Real(x)));
            let inside =
                format!("(e.latitude BETWEEN {a} AND {b} AND e.longitude BETWEEN {c} AND {d})");
            match locality {
                Some(l) => format!(
                    "({inside} OR (e.latitude IS NULL AND {}))",
                    same_locality(&mut f, l)
                ),
                None => inside,
            }
        }
        (None, Some(l)) => same_locality(&mut f, l),
        (None, None) => return None,
    };
    f.push_raw(place);
    let week_after = q.occurred_to + chrono::Days::new(LONG_SPAN_DAYS);
    let mut long = f.clone();
    long.push_raw(long_span_sql(dialect).to_string());
    long.push("e.occurred_end > {}", SqlValue::Date(week_after));
    long.push(
        "e.occurred_end <= {}",
        SqlValue::Date(q.occurred_to + chrono::Days::new(POOL_MAX_SPAN_DAYS)),
    );
    f.push("e.occurred_end >= {}", SqlValue::Date(q.occurred_from));
    f.push("e.occurred_end <= {}", SqlValue::Date(week_after));
    Some([long, f])
}

/// One statement of the pool: the events `f` matches with their versions, newest
/// first, at most `limit`.
pub(crate) fn pool_sql(f: &Filter, columns: &str, limit: usize) -> String {
    let lim = crate::sql::limit(limit as u64);
    format!(
        "SELECT {columns}, e.version FROM events e{} ORDER BY e.occurred_end DESC, e.id DESC {lim}",
        f.where_sql()
    )
}

/// The severity expressions of the queue's order, in both dialects (see
/// [`usalama_domain::Severity`]): killed, otherwise harmed, civilians targeted.
pub(crate) const SEVERITY_SQL: [&str; 3] = [
    "COALESCE(e.killed_best, 0)",
    "(CAST(COALESCE(e.injured, 0) AS BIGINT) + COALESCE(e.abducted, 0) + COALESCE(e.displaced, 0))",
    "(CASE WHEN e.civilians_targeted THEN 1 ELSE 0 END)",
];

/// `ORDER BY` of the queue: most severe first, then newest, then by id.
pub(crate) fn queue_order_sql() -> String {
    queue_order_from(0)
}

/// `ORDER BY` of the queue without its first `skip` severity terms, for rows whose
/// first `skip` severities are all equal (`skip` at most 3).
pub(crate) fn queue_order_from(skip: usize) -> String {
    let mut terms: Vec<String> = SEVERITY_SQL[skip..]
        .iter()
        .map(|s| format!("{s} DESC"))
        .collect();
    terms.push("e.occurred_end DESC, e.id DESC".into());
    terms.join(", ")
}

/// The tuple the queue's cursor compares, as SQL.
pub(crate) fn queue_key_sql() -> String {
    let [k, h, c] = SEVERITY_SQL;
    format!("({k}, {h}, {c}, e.occurred_end, e.id)")
}

/// The queue cursor of an event: `killed:harmed:civilians:occurred_end`.
pub(crate) fn queue_cursor(e: &EventData) -> Cursor {
    let s = Severity::of(e);
    Cursor {
        key: format!(
            "{}:{}:{}:{}",
            s.killed,
            s.otherwise_harmed,
            u8::from(s.civilians_targeted),
            e.occurred_end
        ),
        id: e.id.as_uuid(),
    }
}

/// Reads a queue cursor back: `(killed, harmed, civilians, occurred_end)`.
pub(crate) fn parse_queue_cursor(c: &Cursor) -> Result<(i64, i64, i64, NaiveDate), StoreError> {
    let bad = || StoreError::InvalidCursor;
    let mut parts = c.key.split(':');
    let mut int = || -> Result<i64, StoreError> {
        parts
            .next()
            .and_then(|p| p.parse::<i64>().ok())
            .filter(|n| *n >= 0)
            .ok_or_else(bad)
    };
    let (k, h, civ) = (int()?, int()?, int()?);
    let date = parts
        .next()
        .and_then(|d| d.parse::<NaiveDate>().ok())
        .ok_or_else(bad)?;
    if parts.next().is_some() || civ > 1 {
        return Err(bad());
    }
    Ok((k, h, civ, date))
}

/// The stored `status` and `duplicate_of` of a status.
pub(crate) fn status_parts(s: &VerificationStatus) -> (&'static str, Option<Uuid>) {
    match s {
        VerificationStatus::DuplicateOf(of) => ("duplicate", Some(of.as_uuid())),
        other => (other.as_str(), None),
    }
}

/// Fields left out of a history entry's changes: identity and bookkeeping.
const NOT_CHANGES: [&str; 5] = ["id", "created_at", "updated_at", "created_by", "adm"];
/// Fields whose values are personal data: a change is named, its values withheld.
const PERSONAL: [&str; 2] = ["people", "reporter_contact"];
/// Longest value shown in a change, in characters.
const MAX_SHOWN: usize = 300;

fn shown(v: &Value) -> Option<String> {
    let s = match v {
        Value::Null => return None,
        Value::String(s) if s.is_empty() => return None,
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(_) | Value::Object(_) => return None,
    };
    if s.chars().count() > MAX_SHOWN {
        let mut t: String = s.chars().take(MAX_SHOWN).collect();
        t.push('…');
        Some(t)
    } else {
        Some(s)
    }
}

/// The fields that differ between two stored versions of an event (JSON objects of its
/// row), by name.
pub(crate) fn diff(before: &Value, after: &Value) -> Vec<FieldChange> {
    let empty = serde_json::Map::new();
    let b = before.as_object().unwrap_or(&empty);
    let a = after.as_object().unwrap_or(&empty);
    let mut names: Vec<&String> = b.keys().chain(a.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|n| !NOT_CHANGES.contains(&n.as_str()))
        .filter_map(|n| {
            let (x, y) = (
                b.get(n.as_str()).unwrap_or(&Value::Null),
                a.get(n.as_str()).unwrap_or(&Value::Null),
            );
            if x == y {
                return None;
            }
            let withheld = PERSONAL.contains(&n.as_str());
            Some(FieldChange {
                field: n.clone(),
                from: if withheld { None } else { shown(x) },
                to: if withheld { None } else { shown(y) },
                withheld,
            })
        })
        .collect()
}

/// Works out what each entry changed: each keeps the record as it was before, so an
/// entry's changes are the difference with the next entry's snapshot, or with the record as
/// it is now (`current`, the row's JSON) for the last one.
pub(crate) fn build_history(
    raw: Vec<RawHistory>,
    current: &str,
) -> Result<Vec<HistoryEntry>, StoreError> {
    let parse = |s: &str| -> Result<Value, StoreError> {
        serde_json::from_str(s).map_err(|e| StoreError::InvalidRecord {
            id: "event_history".into(),
            reason: e.to_string(),
        })
    };
    let snapshots: Vec<Value> = raw
        .iter()
        .map(|r| parse(&r.previous))
        .chain(std::iter::once(parse(current)))
        .collect::<Result<_, _>>()?;
    raw.into_iter()
        .enumerate()
        .map(|(i, r)| {
            Ok(HistoryEntry {
                at: r.at,
                by: r.by,
                kind: r.kind.parse()?,
                reason: r.reason,
                related: r.related.map(EventId::from_uuid),
                changes: diff(&snapshots[i], &snapshots[i + 1]),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cursor_round_trips_and_rejects_other_lists() {
        let c = Cursor {
            key: "3:12:1:2024-02-29".into(),
            id: Uuid::nil(),
        };
        assert_eq!(
            parse_queue_cursor(&c).unwrap(),
            (3, 12, 1, "2024-02-29".parse().unwrap())
        );
        for key in [
            "2024-02-29",
            "3:12:2:2024-02-29",
            "-1:0:0:2024-01-01",
            "1:2:0:2024-01-01:x",
        ] {
            let c = Cursor {
                key: key.into(),
                id: Uuid::nil(),
            };
            assert!(parse_queue_cursor(&c).is_err(), "{key}");
        }
    }

    #[test]
    fn diff_names_changes_and_withholds_personal_data() {
        let before = json!({"id": "x", "status": "unverified", "reliability": null,
            "people": "[]", "killed_best": 3, "updated_at": "a", "actors": []});
        let after = json!({"id": "x", "status": "verified", "reliability": "B",
            "people": "[{\"name\":\"N\"}]", "killed_best": 3, "updated_at": "b",
            "actors": [["u", "side_a"]]});
        let d = diff(&before, &after);
        let names: Vec<&str> = d.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(names, ["actors", "people", "reliability", "status"]);
        assert!(d[1].withheld && d[1].from.is_none() && d[1].to.is_none());
        assert_eq!(
            (d[2].from.as_deref(), d[2].to.as_deref()),
            (None, Some("B"))
        );
        assert_eq!(d[3].to.as_deref(), Some("verified"));
        assert!(!d[0].withheld && d[0].to.is_none());
        let long = json!({"description": "x".repeat(400)});
        let c = diff(&json!({}), &long);
        assert_eq!(c[0].to.as_ref().unwrap().chars().count(), MAX_SHOWN + 1);
    }

    #[test]
    fn kinds_round_trip() {
        for k in HistoryKind::ALL {
            assert_eq!(k.as_str().parse::<HistoryKind>().unwrap(), k);
        }
        assert!("odd".parse::<HistoryKind>().is_err());
    }
}
