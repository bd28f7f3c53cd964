//! An import batch's new events written to PostgreSQL in three statements instead of one
//! round trip per event and per actor link: the batch is copied (`COPY … FROM STDIN`, binary)
//! into two temporary tables, one `INSERT … SELECT … ON CONFLICT DO NOTHING` writes the events
//! the store does not hold with their links, and one query names the events it already holds
//! unchanged. What is left (a changed event, an event named twice in the batch) takes the
//! per-event path of `upsert_event_batch`, as before. One statement per event was 75 % of a
//! PostgreSQL server core for 1,800 events/s (BENCHMARKS.md, "Nineteenth session").

use super::{with_event_params, Px, EVENT_PARAMS};
use crate::error::StoreError;
use crate::rows::EventRow;
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::Type;
use postgres::Transaction;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;
use uuid::Uuid;

/// What the staged statements did with one row of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Staged {
    /// Written as a new event, with its links.
    Inserted,
    /// The store holds it with the same content.
    Unchanged,
    /// The store holds an event with its id or its source and external id, with another
    /// content (or under another id): the per-event path compares and updates it.
    Held,
    /// Not staged: its id or its source and external id comes twice in the batch, so the
    /// per-event path writes its rows in order.
    Repeated,
}

/// The temporary table of a batch's events: [`EVENT_PARAMS`]' columns and types.
const STAGE_EVENTS: &str = "pg_temp.import_events";
/// The temporary table of the staged events' actor links.
const STAGE_ACTORS: &str = "pg_temp.import_actors";

/// `CREATE TEMP TABLE` of both tables, emptied at each commit (and gone with a rollback).
fn create_sql() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    SQL.get_or_init(|| {
        let cols: Vec<String> = EVENT_PARAMS
            .iter()
            .map(|(name, ty, _)| format!("{name} {}", ty.name()))
            .collect();
        format!(
            "CREATE TEMP TABLE IF NOT EXISTS import_events ({}) ON COMMIT DELETE ROWS;
             CREATE TEMP TABLE IF NOT EXISTS import_actors (event_id uuid, actor_id uuid, role text)
               ON COMMIT DELETE ROWS;",
            cols.join(", ")
        )
    })
}

/// The staged events into `events` and their links into `event_actors`, returning the ids
/// of the events written.
fn insert_sql() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    SQL.get_or_init(|| {
        let names: Vec<&str> = EVENT_PARAMS.iter().map(|(n, _, _)| *n).collect();
        let values: Vec<String> = EVENT_PARAMS
            .iter()
            .map(|(n, _, cast)| format!("{n}{cast}"))
            .collect();
        format!(
            "WITH ins AS (
               INSERT INTO events ({}) SELECT {} FROM {STAGE_EVENTS}
               ON CONFLICT DO NOTHING RETURNING id),
             links AS (
               INSERT INTO event_actors (event_id, actor_id, role)
               SELECT a.event_id, a.actor_id, a.role FROM {STAGE_ACTORS} a JOIN ins ON ins.id = a.event_id
               ON CONFLICT DO NOTHING)
             SELECT id FROM ins",
            names.join(", "),
            values.join(", ")
        )
    })
}

/// The staged rows whose record the store holds with the same content hash, found as the
/// per-event path finds a record: by source and external id, or by id without one.
const UNCHANGED_SQL: &str = "SELECT s.id FROM pg_temp.import_events s
       JOIN events e ON e.source = s.source AND e.external_id = s.external_id
     WHERE s.external_id IS NOT NULL AND e.content_hash = s.content_hash
     UNION ALL
     SELECT s.id FROM pg_temp.import_events s JOIN events e ON e.id = s.id
     WHERE s.external_id IS NULL AND e.content_hash = s.content_hash";

/// Whether each row's id and its source and external id come once in `rows`.
fn once_in(rows: &[(EventRow, Vec<u8>)]) -> Vec<bool> {
    let mut ids: HashMap<Uuid, u32> = HashMap::with_capacity(rows.len());
    let mut keys: HashMap<(&str, &str), u32> = HashMap::with_capacity(rows.len());
    for (r, _) in rows {
        *ids.entry(r.id).or_default() += 1;
        if let Some(x) = &r.external_id {
            *keys.entry((&r.source, x)).or_default() += 1;
        }
    }
    rows.iter()
        .map(|(r, _)| {
            ids[&r.id] == 1
                && r.external_id
                    .as_deref()
                    .is_none_or(|x| keys[&(r.source.as_str(), x)] == 1)
        })
        .collect()
}

/// Writes the new events of `rows` (each with its content hash) inside `tx` and tells, row
/// by row, what became of it ([`Staged`]).
pub(super) fn write_new(
    tx: &mut Transaction<'_>,
    rows: &[(EventRow, Vec<u8>)],
) -> Result<Vec<Staged>, StoreError> {
    let staged = once_in(rows);
    if !staged.contains(&true) {
        return Ok(vec![Staged::Repeated; rows.len()]);
    }
    tx.batch_execute(create_sql()).px()?;
    let names: Vec<&str> = EVENT_PARAMS.iter().map(|(n, _, _)| *n).collect();
    let types: Vec<Type> = EVENT_PARAMS.iter().map(|(_, t, _)| t.clone()).collect();
    let sink = tx
        .copy_in(&format!(
            "COPY {STAGE_EVENTS} ({}) FROM STDIN (FORMAT binary)",
            names.join(", ")
        ))
        .px()?;
    let mut w = BinaryCopyInWriter::new(sink, &types);
    for ((row, hash), _) in rows.iter().zip(&staged).filter(|(_, s)| **s) {
        with_event_params(row, hash, |p| w.write(p)).px()?;
    }
    w.finish().px()?;
    let sink = tx
        .copy_in(&format!(
            "COPY {STAGE_ACTORS} (event_id, actor_id, role) FROM STDIN (FORMAT binary)"
        ))
        .px()?;
    let mut w = BinaryCopyInWriter::new(sink, &[Type::UUID, Type::UUID, Type::TEXT]);
    for ((row, _), _) in rows.iter().zip(&staged).filter(|(_, s)| **s) {
        for (actor, role) in &row.actors {
            w.write(&[&row.id, actor, role]).px()?;
        }
    }
    w.finish().px()?;
    let inserted: HashSet<Uuid> = tx
        .query(insert_sql(), &[])
        .px()?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()
        .px()?;
    let held = staged.iter().filter(|s| **s).count() - inserted.len();
    let unchanged: HashSet<Uuid> = if held > 0 {
        tx.query(UNCHANGED_SQL, &[])
            .px()?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()
            .px()?
    } else {
        HashSet::new()
    };
    Ok(rows
        .iter()
        .zip(staged)
        .map(|((r, _), s)| match s {
            false => Staged::Repeated,
            true if inserted.contains(&r.id) => Staged::Inserted,
            true if unchanged.contains(&r.id) => Staged::Unchanged,
            true => Staged::Held,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_or_a_source_key_named_twice_is_left_to_the_per_event_path() {
        let row = |id: u128, ext: Option<&str>| {
            let mut r: EventRow = serde_json::from_value(serde_json::json!({
                "id": Uuid::from_u128(id), "source": "ucdp-ged", "external_id": ext,
                "channel": "import", "occurred_start": "2020-01-01", "occurred_end": "2020-01-01",
                "date_precision": "day", "reported_at": null, "latitude": null, "longitude": null,
                "location_precision": null, "place_name": null, "locality_id": null,
                "adm": [null, null, null, null], "dimension": "d", "category": "c",
                "source_codes": "{}", "killed_best": null, "killed_low": null, "killed_high": null,
                "injured": null, "abducted": null, "displaced": null, "civilians_targeted": false,
                "description": null, "people": "[]", "reporter_contact": null, "status": "verified",
                "duplicate_of": null, "reliability": null, "credibility": null,
                "created_at": "2020-01-01T00:00:00Z", "updated_at": "2020-01-01T00:00:00Z",
                "created_by": null, "actors": []
            }))
            .unwrap();
            r.codes_stored = None;
            (r, vec![])
        };
        let rows = [
            row(1, Some("a")),
            row(2, Some("b")),
            row(3, Some("b")),
            row(4, None),
            row(4, None),
            row(5, None),
        ];
        assert_eq!(once_in(&rows), [true, false, false, false, false, true]);
    }
}
