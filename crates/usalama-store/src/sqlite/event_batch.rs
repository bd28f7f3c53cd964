//! Writing a prepared [`EventBatch`] on SQLite: insert first (a new record costs one
//! statement), and only on a conflict look the stored record up, compare content hashes,
//! and update it with its previous version in the history. The batch arrives sorted by
//! event id, so the id index and the event-actor keys are filled page by page.

use super::{
    event_row, insert_event, ts, with_event_params, SqliteStore, Sx, CHANGED_PARAMS, INSERT_EVENT,
};
use crate::batch::EventBatch;
use crate::error::StoreError;
use crate::records::UpsertCounts;
use crate::rows::EventRow;
use crate::sql;
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};

/// Inserts up to two actor links of one event in one statement.
const INSERT_ACTORS_2: &str = "INSERT OR IGNORE INTO event_actors (event_id, actor_id, role)
    VALUES (?1, ?2, ?3), (?1, ?4, ?5)";
/// Inserts one actor link.
const INSERT_ACTOR: &str =
    "INSERT OR IGNORE INTO event_actors (event_id, actor_id, role) VALUES (?1, ?2, ?3)";

/// Writes the actor links of a new or updated event (most events have one or two). The row
/// names each link once (`EventRow::from_placed`): during a bulk load the event-actor key
/// may be dropped ([`super::bulk::LATE_KEYS`]), and `OR IGNORE` then skips no repeat.
fn insert_actors(
    two: &mut rusqlite::Statement<'_>,
    one: &mut rusqlite::Statement<'_>,
    row: &EventRow,
) -> Result<(), StoreError> {
    let mut links = row.actors.chunks_exact(2);
    for pair in &mut links {
        two.execute(params![row.id, pair[0].0, pair[0].1, pair[1].0, pair[1].1])
            .sx()?;
    }
    for (a, role) in links.remainder() {
        one.execute(params![row.id, a, role]).sx()?;
    }
    Ok(())
}

impl SqliteStore {
    pub(super) fn write_event_batch(
        &self,
        batch: &EventBatch,
        now: DateTime<Utc>,
    ) -> Result<UpsertCounts, StoreError> {
        self.write(batch.len(), |tx| {
        let mut counts = UpsertCounts::default();
        {
            let mut find_ext = tx
                .prepare_cached(&format!(
                    "SELECT {}, e.content_hash FROM events e WHERE e.source = ?1 AND e.external_id = ?2",
                    sql::EVENT_COLUMNS
                ))
                .sx()?;
            let mut find_id = tx
                .prepare_cached(&format!(
                    "SELECT {}, e.content_hash FROM events e WHERE e.id = ?1",
                    sql::EVENT_COLUMNS
                ))
                .sx()?;
            let mut ins = tx.prepare_cached(INSERT_EVENT).sx()?;
            let mut upd = tx
                .prepare_cached(
                    "UPDATE events SET channel = ?2, occurred_start = ?3, occurred_end = ?4,
                       date_precision = ?5, reported_at = ?6, latitude = ?7, longitude = ?8,
                       location_precision = ?9, place_name = ?10, locality_id = ?11, adm0_id = ?12,
                       adm1_id = ?13, adm2_id = ?14, adm3_id = ?15, dimension = ?16, category = ?17,
                       source_codes = ?18, killed_best = ?19, killed_low = ?20, killed_high = ?21,
                       injured = ?22, abducted = ?23, displaced = ?24, civilians_targeted = ?25,
                       description = ?26, people = ?27, reporter_contact = ?28, updated_at = ?29,
                       content_hash = ?30
                     WHERE id = ?1",
                )
                .sx()?;
            let mut hist = tx
                .prepare_cached("INSERT INTO event_history (event_id, changed_at, changed_by, previous) VALUES (?1, ?2, ?3, ?4)")
                .sx()?;
            let mut del_actors = tx
                .prepare_cached("DELETE FROM event_actors WHERE event_id = ?1")
                .sx()?;
            let mut two = tx.prepare_cached(INSERT_ACTORS_2).sx()?;
            let mut one = tx.prepare_cached(INSERT_ACTOR).sx()?;
            let row_and_hash = |r: &Row| -> rusqlite::Result<(EventRow, Vec<u8>)> {
                Ok((event_row(r)?, r.get(crate::sql::EVENT_COLUMN_COUNT)?))
            };
            let now_text = ts(&now);
            let mut keys_ensured = false;
            for (row, hash) in &batch.rows {
                // Try the insert first: a new record (the common case in an import) then
                // costs one statement; only a conflict needs the lookup and comparison.
                if insert_event(&mut ins, row, hash)? {
                    insert_actors(&mut two, &mut one, row)?;
                    counts.inserted += 1;
                    continue;
                }
                let existing = match &row.external_id {
                    Some(x) => find_ext.query_row(params![row.source, x], row_and_hash),
                    None => find_id.query_row([row.id], row_and_hash),
                }
                .optional()
                .sx()?;
                match existing {
                    Some((_, old_hash)) if old_hash == *hash => counts.unchanged += 1,
                    Some((mut old, _)) => {
                        // Once per batch: the key, once built, stays for its transaction.
                        if !keys_ensured {
                            super::bulk::ensure_late_keys(tx)?;
                            keys_ensured = true;
                        }
                        self.load_actors(tx, std::slice::from_mut(&mut old))?;
                        hist.execute(params![old.id, now_text, row.created_by, old.to_json()])
                            .sx()?;
                        let mut row = row.clone();
                        row.id = old.id;
                        with_event_params(&row, hash, |p| {
                            let mut set: Vec<&dyn rusqlite::ToSql> = vec![p[0]];
                            set.extend_from_slice(&p[CHANGED_PARAMS]);
                            set.extend([&now_text as &dyn rusqlite::ToSql, &hash]);
                            upd.execute(&*set)
                        })
                        .sx()?;
                        del_actors.execute([row.id]).sx()?;
                        insert_actors(&mut two, &mut one, &row)?;
                        counts.updated += 1;
                    }
                    None => {
                        return Err(StoreError::Conflict(format!(
                            "event id {} is already used by another record",
                            row.id
                        )))
                    }
                }
            }
        }
        Ok(counts)
        })
    }
}
