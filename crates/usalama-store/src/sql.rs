//! SQL shared by both backends: the event filter builder and the column lists. Placeholders
//! are numbered (`?1` for SQLite, `$1` for PostgreSQL), so one builder serves both.

use crate::error::StoreError;
use crate::query::{Alertable, EventQuery, GroupBy, Visibility};
use chrono::NaiveDate;
use usalama_domain::{OrgId, ShareScope};
use uuid::Uuid;

/// The SQL dialect being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// A bound parameter, converted to each backend's native type when bound.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SqlValue {
    Text(String),
    Int(i64),
    Uuid(Uuid),
    Date(NaiveDate),
    Real(f64),
}

/// A `LIMIT` clause of `n` rows. The count is written into the statement, never bound:
/// SQLite plans with a bound LIMIT's value, so that each run binding it prepared the
/// statement again (4.8 % of the server's CPU on a list missing the page cache).
pub(crate) fn limit(n: u64) -> String {
    format!("LIMIT {n}")
}

/// A WHERE clause under construction with its parameters.
#[derive(Clone)]
pub(crate) struct Filter {
    dialect: Dialect,
    clauses: Vec<String>,
    pub values: Vec<SqlValue>,
}

impl Filter {
    pub fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            clauses: Vec::new(),
            values: Vec::new(),
        }
    }

    /// Adds a parameter and returns its placeholder.
    pub fn bind(&mut self, v: SqlValue) -> String {
        self.values.push(v);
        match self.dialect {
            Dialect::Sqlite => format!("?{}", self.values.len()),
            Dialect::Postgres => format!("${}", self.values.len()),
        }
    }

    /// Adds a clause; `{}` in it is replaced by the new parameter's placeholder.
    pub fn push(&mut self, clause: &str, v: SqlValue) {
        let p = self.bind(v);
        self.clauses.push(clause.replace("{}", &p));
    }

    /// Adds a clause with no parameter.
    pub fn push_raw(&mut self, clause: String) {
        self.clauses.push(clause);
    }

    /// `WHERE a AND b …`, or nothing.
    pub fn where_sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }

    /// The LIKE operator that ignores case.
    pub fn ilike(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "LIKE",
            Dialect::Postgres => "ILIKE",
        }
    }
}

/// Escapes `%`, `_` and `\` for a LIKE pattern and wraps it in `%…%`.
pub(crate) fn contains_pattern(text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 2);
    s.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('%');
    s
}

/// The filter for an event query (without the cursor), on table alias `e`.
pub(crate) fn event_filter(q: &EventQuery, dialect: Dialect) -> Filter {
    let mut f = Filter::new(dialect);
    if let Some(d) = q.from {
        f.push("e.occurred_end >= {}", SqlValue::Date(d));
    }
    if let Some(d) = q.to {
        f.push("e.occurred_end <= {}", SqlValue::Date(d));
    }
    if let Some((id, level)) = q.locality {
        f.push(
            &format!("e.adm{}_id = {{}}", level.depth()),
            SqlValue::Uuid(id.as_uuid()),
        );
    }
    if let Some(d) = q.dimension {
        f.push("e.dimension = {}", SqlValue::Text(d.as_str().into()));
    }
    if let Some(c) = &q.category {
        f.push("e.category = {}", SqlValue::Text(c.clone()));
    }
    if q.countable_only {
        f.push_raw("e.status NOT IN ('rejected', 'duplicate')".into());
    }
    if let Some(s) = &q.status {
        f.push("e.status = {}", SqlValue::Text(s.clone()));
        if s != "verified" {
            // The partial index `events_status` holds the records not yet verified; SQLite
            // uses it only when the query repeats its condition (it does not infer
            // `status <> 'verified'` from `status = 'unverified'`), else the verification
            // queue counts and sorts by scanning every event.
            f.push_raw("e.status <> 'verified'".into());
        }
    }
    if let Some(s) = &q.source {
        f.push("e.source = {}", SqlValue::Text(s.clone()));
    }
    if let Some(d) = q.duplicate_of {
        f.push("e.duplicate_of = {}", SqlValue::Uuid(d.as_uuid()));
    }
    if let Some(a) = q.actor {
        f.push(
            "EXISTS (SELECT 1 FROM event_actors ea WHERE ea.event_id = e.id AND ea.actor_id = {})",
            SqlValue::Uuid(a.as_uuid()),
        );
    }
    if let Some(a) = &q.alertable {
        alertable_filter(&mut f, a);
    }
    visibility_filter(&mut f, &q.visibility);
    if let Some(t) = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let p = f.bind(SqlValue::Text(contains_pattern(t)));
        let op = f.ilike();
        f.push_raw(format!(
            "(e.description {op} {p} ESCAPE '\\' OR e.place_name {op} {p} ESCAPE '\\')"
        ));
    }
    f
}

/// Keeps the events that could set off an event rule (see [`Alertable`]).
fn alertable_filter(f: &mut Filter, a: &Alertable) {
    let mut parts = Vec::new();
    if !a.categories.is_empty() {
        let list: Vec<String> = a
            .categories
            .iter()
            .map(|c| f.bind(SqlValue::Text(c.clone())))
            .collect();
        parts.push(format!("e.category IN ({})", list.join(", ")));
    }
    if let Some(k) = a.min_killed {
        let p = f.bind(SqlValue::Int(i64::from(k)));
        // As the rules count it: an unknown number as none.
        parts.push(format!("COALESCE(e.killed_best, 0) >= {p}"));
    }
    if a.verified_reports {
        parts.push("(e.channel <> 'import' AND e.status = 'verified')".into());
    }
    if parts.is_empty() {
        parts.push("1 = 0".into());
    }
    f.push_raw(format!("({})", parts.join(" OR ")));
}

/// Keeps the records `v` admits (see [`Visibility::admits`]): public data, the caller's
/// organisation's and what is shared with it. Uses the `events_owner` index.
pub(crate) fn visibility_filter(f: &mut Filter, v: &Visibility) {
    let Visibility::Org { org, shared } = v else {
        return;
    };
    let mut parts = vec!["e.owner_org IS NULL".to_string()];
    parts.extend(admitted_owners(f, "e", *org, shared));
    f.push_raw(format!("({})", parts.join(" OR ")));
}

/// The conditions under which an owned record of table alias `t` is admitted: the
/// caller's organisation's own, and each share.
fn admitted_owners(
    f: &mut Filter,
    t: &str,
    org: OrgId,
    shared: &[(OrgId, ShareScope)],
) -> Vec<String> {
    let own = f.bind(SqlValue::Uuid(org.as_uuid()));
    let mut parts = vec![format!("{t}.owner_org = {own}")];
    for (from, scope) in shared {
        let p = f.bind(SqlValue::Uuid(from.as_uuid()));
        parts.push(match scope {
            ShareScope::All => format!("{t}.owner_org = {p}"),
            ShareScope::Verified => format!("({t}.owner_org = {p} AND {t}.status = 'verified')"),
        });
    }
    parts
}

/// When the rest of a query matches at most this many events, its total under an
/// organisation's visibility is counted with the visibility in the filter (see
/// [`count_matching`]): about 3.5 µs an event read from the table at 1,000,000 events, so
/// at most about 70 ms.
const DIRECT_COUNT_MAX: i64 = 20_000;

/// How many events `q` matches, `f` being its filter (`event_filter(q, dialect)`);
/// `count` runs `SELECT count(*) FROM events e` with a filter's `WHERE`.
///
/// One count with an organisation's visibility in its filter reads every matching row
/// from the table, since no index holds the owner beside the other columns (4 s for the
/// list of one source of 1,000,000 events). So under such a visibility the events the
/// rest of the query matches are counted first, from the filter's index alone; when they
/// are at most [`DIRECT_COUNT_MAX`], `f` is counted as it is, else the total is those
/// events less the ones the visibility hides (owned by an organisation it does not
/// admit), found through the `events_owner` index and probed for each event the filter
/// matches (0.1–0.5 s for 150,000 hidden events).
pub(crate) fn count_matching(
    q: &EventQuery,
    f: &Filter,
    dialect: Dialect,
    mut count: impl FnMut(&Filter) -> Result<i64, StoreError>,
) -> Result<i64, StoreError> {
    let Visibility::Org { org, shared } = &q.visibility else {
        return count(f);
    };
    let mut all = event_filter(
        &EventQuery {
            visibility: Visibility::All,
            ..q.clone()
        },
        dialect,
    );
    let n = count(&all)?;
    if n <= DIRECT_COUNT_MAX {
        return count(f);
    }
    let admitted = admitted_owners(&mut all, "h", *org, shared).join(" OR ");
    // SQLite finds rows by rowid without a second index; PostgreSQL has only the id.
    let key = match dialect {
        Dialect::Sqlite => "rowid",
        Dialect::Postgres => "id",
    };
    all.push_raw(format!(
        "e.{key} IN (SELECT h.{key} FROM events h \
         WHERE h.owner_org IS NOT NULL AND NOT ({admitted}))"
    ));
    Ok(n - count(&all)?)
}

/// The grouping expression and whether it carries a year.
pub(crate) fn group_expr(by: GroupBy, dialect: Dialect) -> (String, Option<&'static str>) {
    let year = match dialect {
        Dialect::Sqlite => "CAST(substr(e.occurred_end, 1, 4) AS INTEGER)",
        Dialect::Postgres => "CAST(EXTRACT(YEAR FROM e.occurred_end) AS INTEGER)",
    };
    match by {
        GroupBy::DimensionYear => ("e.dimension".into(), Some(year)),
        GroupBy::Category => ("e.category".into(), None),
        GroupBy::Source => ("e.source".into(), None),
        GroupBy::Locality(level) => (format!("e.adm{}_id", level.depth()), None),
    }
}

/// Whether a query keeps every event (or every countable one) of every source: no filter
/// that an index could narrow. Its counts read every row anyway, best in the table's own
/// order rather than row by row through an index.
pub(crate) fn reads_every_row(q: &EventQuery) -> bool {
    // Destructured in full, so that a new filter must be considered here.
    let EventQuery {
        from,
        to,
        locality,
        dimension,
        category,
        actor,
        status,
        source,
        text,
        duplicate_of,
        page: _,
        skip_total: _,
        countable_only: _,
        alertable,
        visibility: _,
    } = q;
    from.is_none()
        && to.is_none()
        && locality.is_none()
        && dimension.is_none()
        && category.is_none()
        && actor.is_none()
        && status.is_none()
        && source.is_none()
        && text.is_none()
        && duplicate_of.is_none()
        && alertable.is_none()
}

/// The keyset condition and order of [`crate::Store::scan_events`]: after `(end, id)`,
/// oldest first.
pub(crate) fn scan_after(f: &mut Filter, after: Option<(NaiveDate, Uuid)>) {
    if let Some((end, id)) = after {
        let k = f.bind(SqlValue::Date(end));
        let i = f.bind(SqlValue::Uuid(id));
        f.push_raw(format!("(e.occurred_end, e.id) > ({k}, {i})"));
    }
}

/// Event columns in the order both backends read them.
pub(crate) const EVENT_COLUMNS: &str = "e.id, e.source, e.external_id, e.channel, \
    e.occurred_start, e.occurred_end, e.date_precision, e.reported_at, e.latitude, \
    e.longitude, e.location_precision, e.place_name, e.locality_id, e.adm0_id, e.adm1_id, \
    e.adm2_id, e.adm3_id, e.dimension, e.category, e.source_codes, e.killed_best, \
    e.killed_low, e.killed_high, e.injured, e.abducted, e.displaced, e.civilians_targeted, \
    e.description, e.people, e.reporter_contact, e.status, e.duplicate_of, e.reliability, \
    e.credibility, e.created_at, e.updated_at, e.created_by, e.owner_org";

/// How many columns [`EVENT_COLUMNS`] lists (the next one selected is at this index).
pub(crate) const EVENT_COLUMN_COUNT: usize = 38;

/// Locality columns in the order both backends read them.
pub(crate) const LOCALITY_COLUMNS: &str =
    "id, code, name, alt_names, level, parent_id, geometry, centroid_lon, centroid_lat";

/// Locality columns without geometry.
pub(crate) const LOCALITY_SUMMARY_COLUMNS: &str =
    "id, code, name, alt_names, level, parent_id, NULL, centroid_lon, centroid_lat";

#[cfg(test)]
mod tests {
    use super::*;
    use usalama_domain::{AdminLevel, LocalityId};

    #[test]
    fn numbers_placeholders_per_dialect() {
        let q = EventQuery {
            category: Some("a".into()),
            locality: Some((LocalityId::derived("X"), AdminLevel::Adm2)),
            text: Some("50%".into()),
            ..Default::default()
        };
        let s = event_filter(&q, Dialect::Sqlite);
        assert_eq!(
            s.where_sql(),
            " WHERE e.adm2_id = ?1 AND e.category = ?2 AND (e.description LIKE ?3 ESCAPE '\\' OR e.place_name LIKE ?3 ESCAPE '\\')"
        );
        assert_eq!(s.values[2], SqlValue::Text("%50\\%%".into()));
        let p = event_filter(&q, Dialect::Postgres);
        assert!(p.where_sql().contains("e.adm2_id = $1") && p.where_sql().contains("ILIKE $3"));
    }
}
