//! Verification on PostgreSQL: the queue, the duplicate pool, and decisions, merges and
//! un-merges written atomically with their history. Writes lock the rows they check
//! (`SELECT … FOR UPDATE`), so a version read cannot change before the transaction
//! commits; merges and un-merges also take one advisory lock, so that two of them never
//! wait on each other's rows.

use super::{count_matching, event_columns, event_row, page_of, params, PgStore, Px};
use crate::error::StoreError;
use crate::query::Page;
use crate::rows::EventRow;
use crate::sql::{self, Dialect};
use crate::verification::{
    self as v, ChangeNote, DecisionWrite, DuplicatePoolQuery, HistoryEntry, HistoryKind,
    MergeWrite, QueueQuery, RawHistory, UnmergeWrite, VersionedEvent, WriteOutcome,
};
use postgres::{GenericClient, Row};
use usalama_domain::EventId;
use uuid::Uuid;

/// Advisory lock key held by merges and un-merges ("USLN").
const MERGE_LOCK: i64 = 0x5553_4C4E;

/// The column index of `e.version` after the event columns.
const VERSION_COL: usize = crate::sql::EVENT_COLUMN_COUNT;

fn versioned_row(r: &Row) -> Result<(EventRow, i64), StoreError> {
    Ok((event_row(r)?, r.try_get(VERSION_COL).px()?))
}

fn history(
    c: &mut impl GenericClient,
    event: Uuid,
    kind: HistoryKind,
    note: &ChangeNote,
    related: Option<Uuid>,
    previous: &str,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO event_history (event_id, changed_at, changed_by, previous, kind, reason, related_event)
         VALUES ($1, $2, $3, $4::text::jsonb, $5, $6, $7)",
        &[&event, &note.at, &note.by, &previous, &kind.as_str(), &note.reason, &related],
    )
    .px()
    .map(|_| ())
}

/// An event row with its actors and version; `lock` adds `FOR UPDATE`.
fn read_versioned(
    c: &mut impl GenericClient,
    id: Uuid,
    lock: bool,
) -> Result<Option<(EventRow, i64)>, StoreError> {
    let sql = format!(
        "SELECT {}, e.version FROM events e WHERE e.id = $1{}",
        event_columns(),
        if lock { " FOR UPDATE" } else { "" }
    );
    match c.query_opt(&sql, &[&id]).px()? {
        None => Ok(None),
        Some(r) => {
            let (mut row, version) = versioned_row(&r)?;
            PgStore::load_actors(c, std::slice::from_mut(&mut row))?;
            Ok(Some((row, version)))
        }
    }
}

fn with_versions(
    c: &mut impl GenericClient,
    rows: &[Row],
) -> Result<Vec<VersionedEvent>, StoreError> {
    let (mut events, versions): (Vec<EventRow>, Vec<i64>) = rows
        .iter()
        .map(versioned_row)
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .unzip();
    PgStore::load_actors(c, &mut events)?;
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

impl PgStore {
    pub(super) fn v_get(&self, id: EventId) -> Result<Option<VersionedEvent>, StoreError> {
        let mut c = self.conn()?;
        match read_versioned(&mut *c, id.as_uuid(), false)? {
            None => Ok(None),
            Some((row, version)) => Ok(Some(VersionedEvent {
                stored: row.into_placed()?,
                version,
            })),
        }
    }

    pub(super) fn v_queue(&self, q: &QueueQuery) -> Result<Page<VersionedEvent>, StoreError> {
        let mut c = self.conn()?;
        let eq = v::queue_filter(q);
        let mut f = sql::event_filter(&eq, Dialect::Postgres);
        let total = count_matching(&mut c, &eq, &f)?;
        v::push_queue_cursor(&mut f, q)?;
        let lim = sql::limit(u64::from(q.page.limit) + 1);
        let rows = c
            .query(
                &format!(
                    "SELECT {}, e.version FROM events e{} ORDER BY {} {lim}",
                    event_columns(),
                    f.where_sql(),
                    v::queue_order_sql()
                ),
                &params(&f.values),
            )
            .px()?;
        let items = with_versions(&mut *c, &rows)?;
        Ok(page_of(items, q.page.limit, total as u64, |e| {
            v::queue_cursor(&e.stored.event)
        }))
    }

    pub(super) fn v_pool(&self, q: &DuplicatePoolQuery) -> Result<Vec<VersionedEvent>, StoreError> {
        let mut c = self.conn()?;
        let limit = q.limit as usize;
        let mut rows = Vec::new();
        for f in v::pool_filters(q, Dialect::Postgres).into_iter().flatten() {
            if rows.len() == limit {
                break;
            }
            let sql = v::pool_sql(&f, &event_columns(), limit - rows.len());
            rows.extend(c.query(&sql, &params(&f.values)).px()?);
        }
        with_versions(&mut *c, &rows)
    }

    pub(super) fn v_decide(&self, w: &DecisionWrite) -> Result<WriteOutcome, StoreError> {
        let (status, dup) = v::status_parts(&w.status);
        if dup.is_some() {
            return Err(StoreError::Conflict(
                "a decision cannot make a duplicate".into(),
            ));
        }
        let mut c = self.conn()?;
        let mut tx = c.transaction().px()?;
        let id = w.event.as_uuid();
        let Some((row, version)) = read_versioned(&mut tx, id, true)? else {
            return Ok(WriteOutcome::Missing(w.event));
        };
        if version != w.expected_version {
            return Ok(WriteOutcome::Stale {
                event: w.event,
                current: version,
            });
        }
        tx.execute(
            "UPDATE events SET status = $2, duplicate_of = NULL, reliability = $3,
               credibility = $4, version = version + 1, updated_at = $5 WHERE id = $1",
            &[
                &id,
                &status,
                &w.reliability.map(|r| r.as_str()),
                &w.credibility.map(|c| i32::from(c.grade())),
                &w.note.at,
            ],
        )
        .px()?;
        history(
            &mut tx,
            id,
            HistoryKind::Decision,
            &w.note,
            None,
            &row.to_json(),
        )?;
        super::vault::append_tx(&mut tx, &[w.audit()])?;
        tx.commit().px()?;
        Ok(WriteOutcome::Written {
            version: version + 1,
        })
    }

    pub(super) fn v_merge(&self, w: &MergeWrite) -> Result<WriteOutcome, StoreError> {
        let mut c = self.conn()?;
        let mut tx = c.transaction().px()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MERGE_LOCK])
            .px()?;
        let (id, root) = (w.event.as_uuid(), w.root.as_uuid());
        // Lock both rows in id order.
        let (first, second) = if id < root { (id, root) } else { (root, id) };
        let a = read_versioned(&mut tx, first, true)?;
        let b = read_versioned(&mut tx, second, true)?;
        let (found, found_root) = if id < root { (a, b) } else { (b, a) };
        let Some((row, version)) = found else {
            return Ok(WriteOutcome::Missing(w.event));
        };
        let Some((root_row, root_version)) = found_root else {
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
        let rows = tx
            .query(
                &format!(
                    "SELECT {}, e.version FROM events e WHERE e.duplicate_of = $1
                     ORDER BY e.id FOR UPDATE",
                    event_columns()
                ),
                &[&id],
            )
            .px()?;
        let mut moved = vec![row];
        for r in &rows {
            let (mut f, _) = versioned_row(r)?;
            Self::load_actors(&mut tx, std::slice::from_mut(&mut f))?;
            moved.push(f);
        }
        for r in &moved {
            tx.execute(
                "UPDATE events SET status = 'duplicate', duplicate_of = $2,
                   version = version + 1, updated_at = $3 WHERE id = $1",
                &[&r.id, &root, &w.note.at],
            )
            .px()?;
            history(
                &mut tx,
                r.id,
                HistoryKind::MergedInto,
                &w.note,
                Some(root),
                &r.to_json(),
            )?;
            history(
                &mut tx,
                root,
                HistoryKind::DuplicateAdded,
                &w.note,
                Some(r.id),
                &root_json,
            )?;
        }
        super::vault::append_tx(&mut tx, &[w.audit()])?;
        tx.commit().px()?;
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
        let mut tx = c.transaction().px()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MERGE_LOCK])
            .px()?;
        let id = w.event.as_uuid();
        let Some((row, version)) = read_versioned(&mut tx, id, true)? else {
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
            "UPDATE events SET status = $2, duplicate_of = NULL, version = version + 1,
               updated_at = $3 WHERE id = $1",
            &[&id, &status, &w.note.at],
        )
        .px()?;
        history(
            &mut tx,
            id,
            HistoryKind::Unmerged,
            &w.note,
            Some(root),
            &row.to_json(),
        )?;
        if let Some((root_row, _)) = read_versioned(&mut tx, root, false)? {
            history(
                &mut tx,
                root,
                HistoryKind::DuplicateRemoved,
                &w.note,
                Some(id),
                &root_row.to_json(),
            )?;
        }
        super::vault::append_tx(&mut tx, &[w.audit()])?;
        tx.commit().px()?;
        Ok(WriteOutcome::Written {
            version: version + 1,
        })
    }

    pub(super) fn v_history(&self, id: EventId) -> Result<Vec<HistoryEntry>, StoreError> {
        let mut c = self.conn()?;
        let Some((current, _)) = read_versioned(&mut *c, id.as_uuid(), false)? else {
            return Ok(Vec::new());
        };
        let rows = c
            .query(
                "SELECT changed_at, changed_by, previous::text, kind, reason, related_event
                 FROM event_history WHERE event_id = $1 ORDER BY id",
                &[&id.as_uuid()],
            )
            .px()?;
        let raw = rows
            .iter()
            .map(|r| {
                Ok(RawHistory {
                    at: r.try_get(0).px()?,
                    by: r.try_get(1).px()?,
                    previous: r.try_get(2).px()?,
                    kind: r.try_get(3).px()?,
                    reason: r.try_get(4).px()?,
                    related: r.try_get(5).px()?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        v::build_history(raw, &current.to_json())
    }
}
