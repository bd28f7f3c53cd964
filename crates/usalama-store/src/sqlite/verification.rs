//! Verification on SQLite: the queue, the duplicate pool, and decisions, merges and
//! un-merges written atomically with their history. Writes run in `BEGIN IMMEDIATE`
//! transactions, which SQLite serialises, so a version read inside one cannot change
//! before the transaction commits.

use super::{count_matching, event_row, page_of, parse_ts, ts, SqliteStore, Sx};
use crate::error::StoreError;
use crate::query::Page;
use crate::rows::EventRow;
use crate::sql::{self, Dialect, SqlValue};
use crate::verification::{
    self as v, ChangeNote, DecisionWrite, DuplicatePoolQuery, HistoryEntry, HistoryKind,
    MergeWrite, QueueQuery, RawHistory, UnmergeWrite, VersionedEvent, WriteOutcome,
};
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use usalama_domain::EventId;
use uuid::Uuid;

/// The column index of `e.version` after [`sql::EVENT_COLUMNS`].
const VERSION_COL: usize = crate::sql::EVENT_COLUMN_COUNT;

fn versioned_row(r: &Row) -> rusqlite::Result<(EventRow, i64)> {
    Ok((event_row(r)?, r.get(VERSION_COL)?))
}

fn select_one() -> String {
    format!(
        "SELECT {}, e.version FROM events e WHERE e.id = ?1",
        sql::EVENT_COLUMNS
    )
}

fn history(
    c: &Connection,
    event: Uuid,
    kind: HistoryKind,
    note: &ChangeNote,
    related: Option<Uuid>,
    previous: &str,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO event_history (event_id, changed_at, changed_by, previous, kind, reason, related_event)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![event, ts(&note.at), note.by, previous, kind.as_str(), note.reason, related],
    )
    .sx()
    .map(|_| ())
}

/// The statements reading one page of the queue `q` (its filter `f` from
/// [`v::queue_filter`]), each with its parameters, to be read in turn until the page is
/// full. Without a cursor, one statement in the queue's order. After a cursor, one
/// statement per part of the rest of the queue, in the queue's order: the same severity
/// and older, then the same killed and otherwise harmed with fewer civilians targeted,
/// then the same killed and fewer otherwise harmed, then fewer killed. Each part is a
/// seek into `events_queue` (equal leading severities, a range on the next), where the
/// cursor's whole tuple of expressions is not: SQLite then walked the queue from its
/// start, reading each row for the filter (0.45-0.52 s for a page 140,000 reports deep
/// under an organisation's visibility, under 1 ms by parts).
fn queue_page_sqls(
    q: &QueueQuery,
    f: sql::Filter,
) -> Result<Vec<(String, sql::Filter)>, StoreError> {
    let lim = sql::limit(u64::from(q.page.limit) + 1);
    let page = |f: sql::Filter, order: &str| {
        let sql = format!(
            "SELECT {}, e.version FROM events e{} ORDER BY {order} {lim}",
            sql::EVENT_COLUMNS,
            f.where_sql(),
        );
        (sql, f)
    };
    let Some(cur) = &q.page.after else {
        return Ok(vec![page(f, &v::queue_order_sql())]);
    };
    let (k, h, civ, date) = v::parse_queue_cursor(cur)?;
    let severity = [k, h, civ];
    let mut parts = Vec::with_capacity(4);
    for equal in (0..=3).rev() {
        let mut f = f.clone();
        for (expr, value) in v::SEVERITY_SQL.iter().zip(severity).take(equal) {
            let p = f.bind(SqlValue::Int(value));
            f.push_raw(format!("{expr} = {p}"));
        }
        if equal == 3 {
            let (d, id) = (f.bind(SqlValue::Date(date)), f.bind(SqlValue::Uuid(cur.id)));
            f.push_raw(format!("(e.occurred_end, e.id) < ({d}, {id})"));
        } else {
            let p = f.bind(SqlValue::Int(severity[equal]));
            f.push_raw(format!("{} < {p}", v::SEVERITY_SQL[equal]));
        }
        parts.push(page(f, &v::queue_order_from(equal)));
    }
    Ok(parts)
}

impl SqliteStore {
    /// An event row with its actors and version, inside `c`.
    fn read_versioned(
        &self,
        c: &Connection,
        id: Uuid,
    ) -> Result<Option<(EventRow, i64)>, StoreError> {
        let found = c
            .query_row(&select_one(), [id], versioned_row)
            .optional()
            .sx()?;
        match found {
            None => Ok(None),
            Some((mut row, version)) => {
                self.load_actors(c, std::slice::from_mut(&mut row))?;
                Ok(Some((row, version)))
            }
        }
    }

    fn with_versions(
        &self,
        c: &Connection,
        rows: Vec<(EventRow, i64)>,
    ) -> Result<Vec<VersionedEvent>, StoreError> {
        let (mut events, versions): (Vec<EventRow>, Vec<i64>) = rows.into_iter().unzip();
        self.load_actors(c, &mut events)?;
        events
            .into_iter()
            .zip(versions)
            .map(|(row, version)| {
                Ok(VersionedEvent {
                    stored: row.into_placed()?,
                    version,
                })
            })
            .collect()
    }

    pub(super) fn v_get(&self, id: EventId) -> Result<Option<VersionedEvent>, StoreError> {
        let c = self.conn()?;
        match self.read_versioned(&c, id.as_uuid())? {
            None => Ok(None),
            Some((row, version)) => Ok(Some(VersionedEvent {
                stored: row.into_placed()?,
                version,
            })),
        }
    }

    pub(super) fn v_queue(&self, q: &QueueQuery) -> Result<Page<VersionedEvent>, StoreError> {
        let c = self.conn()?;
        let eq = v::queue_filter(q);
        let f = sql::event_filter(&eq, Dialect::Sqlite);
        let total = count_matching(&c, &eq, &f)?;
        let wanted = q.page.limit as usize + 1;
        let mut rows = Vec::new();
        for (page, f) in queue_page_sqls(q, f)? {
            if rows.len() == wanted {
                break;
            }
            let mut st = c.prepare(&page).sx()?;
            let read = st
                .query_map(rusqlite::params_from_iter(f.values.iter()), versioned_row)
                .sx()?;
            for row in read.take(wanted - rows.len()) {
                rows.push(row.sx()?);
            }
        }
        let items = self.with_versions(&c, rows)?;
        Ok(page_of(items, q.page.limit, total as u64, |e| {
            v::queue_cursor(&e.stored.event)
        }))
    }

    pub(super) fn v_pool(&self, q: &DuplicatePoolQuery) -> Result<Vec<VersionedEvent>, StoreError> {
        let c = self.conn()?;
        let limit = q.limit as usize;
        let mut rows = Vec::new();
        for f in v::pool_filters(q, Dialect::Sqlite).into_iter().flatten() {
            if rows.len() == limit {
                break;
            }
            let sql = v::pool_sql(&f, sql::EVENT_COLUMNS, limit - rows.len());
            let mut st = c.prepare(&sql).sx()?;
            let read = st
                .query_map(rusqlite::params_from_iter(f.values.iter()), versioned_row)
                .sx()?;
            for row in read {
                rows.push(row.sx()?);
            }
        }
        self.with_versions(&c, rows)
    }

    pub(super) fn v_decide(&self, w: &DecisionWrite) -> Result<WriteOutcome, StoreError> {
        let (status, dup) = v::status_parts(&w.status);
        if dup.is_some() {
            return Err(StoreError::Conflict(
                "a decision cannot make a duplicate".into(),
            ));
        }
        let mut c = self.conn()?;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sx()?;
        let id = w.event.as_uuid();
        let Some((row, version)) = self.read_versioned(&tx, id)? else {
            return Ok(WriteOutcome::Missing(w.event));
        };
        if version != w.expected_version {
            return Ok(WriteOutcome::Stale {
                event: w.event,
                current: version,
            });
        }
        tx.execute(
            "UPDATE events SET status = ?2, duplicate_of = NULL, reliability = ?3,
               credibility = ?4, version = version + 1, updated_at = ?5 WHERE id = ?1",
            params![
                id,
                status,
                w.reliability.map(|r| r.as_str()),
                w.credibility.map(|c| i64::from(c.grade())),
                ts(&w.note.at)
            ],
        )
        .sx()?;
        history(
            &tx,
            id,
            HistoryKind::Decision,
            &w.note,
            None,
            &row.to_json(),
        )?;
        super::vault::append_tx(&tx, &[w.audit()])?;
        tx.commit().sx()?;
        Ok(WriteOutcome::Written {
            version: version + 1,
        })
    }

    pub(super) fn v_merge(&self, w: &MergeWrite) -> Result<WriteOutcome, StoreError> {
        let mut c = self.conn()?;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sx()?;
        let (id, root) = (w.event.as_uuid(), w.root.as_uuid());
        let Some((row, version)) = self.read_versioned(&tx, id)? else {
            return Ok(WriteOutcome::Missing(w.event));
        };
        let Some((root_row, root_version)) = self.read_versioned(&tx, root)? else {
            return Ok(WriteOutcome::Missing(w.root));
        };
        if version != w.expected_version {
            return Ok(WriteOutcome::Stale {
                event: w.event,
                current: version,
            });
        }
        if root_version != w.root_version {
            return Ok(WriteOutcome::Stale {
                event: w.root,
                current: root_version,
            });
        }
        if id == root || row.status == "duplicate" || root_row.status == "duplicate" {
            return Err(StoreError::Conflict(
                "a merge joins a record that is not a duplicate to a root".into(),
            ));
        }
        let root_json = root_row.to_json();
        let followers: Vec<(EventRow, i64)> = {
            let mut st = tx
                .prepare(&format!(
                    "SELECT {}, e.version FROM events e WHERE e.duplicate_of = ?1 ORDER BY e.id",
                    sql::EVENT_COLUMNS
                ))
                .sx()?;
            let rows = st
                .query_map([id], versioned_row)
                .sx()?
                .collect::<Result<Vec<_>, _>>()
                .sx()?;
            rows
        };
        let mut moved = vec![(row, id)];
        for (mut f, _) in followers {
            self.load_actors(&tx, std::slice::from_mut(&mut f))?;
            let fid = f.id;
            moved.push((f, fid));
        }
        for (r, eid) in &moved {
            tx.execute(
                "UPDATE events SET status = 'duplicate', duplicate_of = ?2,
                   version = version + 1, updated_at = ?3 WHERE id = ?1",
                params![eid, root, ts(&w.note.at)],
            )
            .sx()?;
            history(
                &tx,
                *eid,
                HistoryKind::MergedInto,
                &w.note,
                Some(root),
                &r.to_json(),
            )?;
            history(
                &tx,
                root,
                HistoryKind::DuplicateAdded,
                &w.note,
                Some(*eid),
                &root_json,
            )?;
        }
        super::vault::append_tx(&tx, &[w.audit()])?;
        tx.commit().sx()?;
        Ok(WriteOutcome::Written {
            version: version + 1,
        })
    }

    pub(super) fn v_unmerge(&self, w: &UnmergeWrite) -> Result<WriteOutcome, StoreError> {
        let (status, dup) = v::status_parts(&w.restore);
        if dup.is_some() {
            return Err(StoreError::Conflict(
                "an un-merged record cannot stay a duplicate".into(),
            ));
        }
        let mut c = self.conn()?;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sx()?;
        let id = w.event.as_uuid();
        let Some((row, version)) = self.read_versioned(&tx, id)? else {
            return Ok(WriteOutcome::Missing(w.event));
        };
        if version != w.expected_version {
            return Ok(WriteOutcome::Stale {
                event: w.event,
                current: version,
            });
        }
        let Some(root) = row.duplicate_of.filter(|_| row.status == "duplicate") else {
            return Err(StoreError::Conflict("the record is not a duplicate".into()));
        };
        tx.execute(
            "UPDATE events SET status = ?2, duplicate_of = NULL, version = version + 1,
               updated_at = ?3 WHERE id = ?1",
            params![id, status, ts(&w.note.at)],
        )
        .sx()?;
        history(
            &tx,
            id,
            HistoryKind::Unmerged,
            &w.note,
            Some(root),
            &row.to_json(),
        )?;
        if let Some((root_row, _)) = self.read_versioned(&tx, root)? {
            history(
                &tx,
                root,
                HistoryKind::DuplicateRemoved,
                &w.note,
                Some(id),
                &root_row.to_json(),
            )?;
        }
        super::vault::append_tx(&tx, &[w.audit()])?;
        tx.commit().sx()?;
        Ok(WriteOutcome::Written {
            version: version + 1,
        })
    }

    pub(super) fn v_history(&self, id: EventId) -> Result<Vec<HistoryEntry>, StoreError> {
        let c = self.conn()?;
        let Some((current, _)) = self.read_versioned(&c, id.as_uuid())? else {
            return Ok(Vec::new());
        };
        let mut st = c
            .prepare(
                "SELECT changed_at, changed_by, previous, kind, reason, related_event
                 FROM event_history WHERE event_id = ?1 ORDER BY id",
            )
            .sx()?;
        let raw = st
            .query_map([id.as_uuid()], |r| {
                Ok(RawHistory {
                    at: parse_ts(&r.get::<_, String>(0)?)?,
                    by: r.get(1)?,
                    previous: r.get(2)?,
                    kind: r.get(3)?,
                    reason: r.get(4)?,
                    related: r.get(5)?,
                })
            })
            .sx()?
            .collect::<Result<Vec<_>, _>>()
            .sx()?;
        v::build_history(raw, &current.to_json())
    }
}

#[cfg(test)]
mod tests {
    use super::super::SqliteStore;
    use super::queue_page_sqls;
    use crate::query::{Cursor, PageRequest, Visibility};
    use crate::sql::{self, Dialect};
    use crate::verification::{
        long_span_sql, pool_filters, pool_sql, queue_filter, DuplicatePoolQuery, QueueQuery,
    };
    use chrono::NaiveDate;
    use usalama_domain::{EventId, LocalityId, OrgId};
    use uuid::Uuid;

    /// SQLite's plan of `sql` with the parameters of `f`, its steps joined by "; ".
    fn plan_of(c: &rusqlite::Connection, sql: &str, f: &sql::Filter) -> String {
        let mut st = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let plan: Vec<String> = st
            .query_map(rusqlite::params_from_iter(f.values.iter()), |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        plan.join("; ")
    }

    /// Each part of the pool of possible duplicates is a range of an index: events ending
    /// near the window through `events_category`, long ones through `events_long_span`,
    /// whose condition both backends' queries state word for word.
    #[test]
    fn the_duplicate_pool_reads_two_index_ranges() {
        for (dialect, migration) in [
            (
                Dialect::Sqlite,
                include_str!("../../migrations/sqlite/0015_long_span_index.sql"),
            ),
            (
                Dialect::Postgres,
                include_str!("../../migrations/postgres/0015_long_span_index.sql"),
            ),
        ] {
            let condition = long_span_sql(dialect).replace("e.", "");
            assert!(
                migration.contains(&format!("WHERE {condition};")),
                "{dialect:?}"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_file(&dir.path().join("usalama.sqlite3")).unwrap();
        let c = store.conn().unwrap();
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        let q = DuplicatePoolQuery {
            exclude: EventId::derived("x"),
            category: "armed_violence".into(),
            occurred_from: day("2024-04-07"),
            occurred_to: day("2024-04-13"),
            bbox: Some((5.9, 6.1, 3.9, 4.1)),
            locality: Some(LocalityId::derived("p")),
            limit: 2000,
        };
        let parts = pool_filters(&q, Dialect::Sqlite).unwrap();
        for (f, index) in parts.into_iter().zip([
            "USING INDEX events_long_span (category=? AND occurred_end>? AND occurred_end<?)",
            "USING INDEX events_category (category=? AND occurred_end>? AND occurred_end<?)",
        ]) {
            let page = pool_sql(&f, sql::EVENT_COLUMNS, 2000);
            let plan = plan_of(&c, &page, &f);
            assert!(plan.contains(index), "{plan}");
        }
    }

    /// SQLite reads a page of the queue through `events_queue` in the queue's own order,
    /// never sorting every unverified report (1.3-1.8 s a page with 150,000 of them), and
    /// after a cursor each part of the rest is a seek, read in the index's order.
    #[test]
    fn the_queue_is_read_in_its_order_through_its_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_file(&dir.path().join("usalama.sqlite3")).unwrap();
        let c = store.conn().unwrap();
        let cursor = Cursor {
            key: "3:0:1:2024-05-01".into(),
            id: Uuid::nil(),
        };
        for (visibility, after, category, parts) in [
            (Visibility::All, None, None, 1),
            (
                Visibility::Org {
                    org: OrgId::derived("org-a"),
                    shared: vec![],
                },
                Some(cursor),
                Some("armed_violence".to_string()),
                4,
            ),
        ] {
            let q = QueueQuery {
                visibility,
                category,
                page: PageRequest { limit: 50, after },
                ..Default::default()
            };
            let f = sql::event_filter(&queue_filter(&q), Dialect::Sqlite);
            let pages = queue_page_sqls(&q, f).unwrap();
            assert_eq!(pages.len(), parts);
            for (i, (page, f)) in pages.iter().enumerate() {
                let plan = plan_of(&c, page, f);
                assert!(plan.contains("USING INDEX events_queue"), "{plan}");
                assert!(!plan.contains("TEMP B-TREE"), "{plan}");
                if parts > 1 {
                    // Each part seeks: equal severities, then a range on the next key.
                    let seek = [
                        "<expr>=? AND <expr>=? AND <expr>=? AND (occurred_end,id)<(?,?))",
                        "(status=? AND <expr>=? AND <expr>=? AND <expr><?)",
                        "(status=? AND <expr>=? AND <expr><?)",
                        "(status=? AND <expr><?)",
                    ][i];
                    assert!(plan.contains(seek), "part {i}: {plan}");
                }
            }
        }
    }
}
