//! New events written to PostgreSQL a batch at a time instead of one round trip per event,
//! per actor link and per receipt: the batch is copied (`COPY … FROM STDIN`, binary) into
//! temporary tables, and one `INSERT … SELECT … ON CONFLICT DO NOTHING` writes the events the
//! store does not hold, with their links (imports, [`write_new`]) or their receipts
//! (reports, [`write_new_reports`]). What is left (an event the store holds, one named
//! twice in the batch, a report with attachments or a key of its own) takes the per-event
//! path of its caller, as before. One statement per event was 75 % of a PostgreSQL server
//! core for 1,800 events/s (BENCHMARKS.md, "Nineteenth session").

use super::sealed_inline::{with_sealed_params, SEALED_PARAMS};
use super::{with_event_params, Param, Px, EVENT_PARAMS};
use crate::error::StoreError;
use crate::intake::NewReport;
use crate::rows::EventRow;
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use postgres::Transaction;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;
use uuid::Uuid;

/// What the staged statements did with one event of an import batch.
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

/// SQL `NULL` of whatever type its column has.
#[derive(Debug)]
struct Null;

impl ToSql for Null {
    fn to_sql(
        &self,
        _: &Type,
        _: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        Ok(IsNull::Yes)
    }
    fn accepts(_: &Type) -> bool {
        true
    }
    to_sql_checked!();
}

/// Columns of the actor links' temporary table, in the order [`write_new`] copies them.
const LINK_COLUMNS: [(&str, Type); 3] = [
    ("event_id", Type::UUID),
    ("actor_id", Type::UUID),
    ("role", Type::TEXT),
];

/// Columns of the receipts' temporary table, in the order [`write_new_reports`] copies them.
const RECEIPT_COLUMNS: [(&str, Type); 6] = [
    ("event_id", Type::UUID),
    ("reference", Type::TEXT),
    ("channel", Type::TEXT),
    ("received_at", Type::TIMESTAMPTZ),
    ("sender_hash", Type::BYTEA),
    ("raw_text", Type::TEXT),
];

/// `CREATE TEMP TABLE` of the staged events ([`EVENT_PARAMS`] and [`SEALED_PARAMS`]),
/// actor links and receipts, each emptied at commit (and gone with a rollback).
fn create_sql() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    SQL.get_or_init(|| {
        let table = |name: &str, cols: &mut dyn Iterator<Item = (&str, &Type)>| {
            let cols: Vec<String> = cols.map(|(n, t)| format!("{n} {}", t.name())).collect();
            format!(
                "CREATE TEMP TABLE IF NOT EXISTS {name} ({}) ON COMMIT DELETE ROWS;",
                cols.join(", ")
            )
        };
        [
            table(
                "import_events",
                &mut EVENT_PARAMS
                    .iter()
                    .chain(&SEALED_PARAMS)
                    .map(|(n, t, _)| (*n, t)),
            ),
            table(
                "import_actors",
                &mut LINK_COLUMNS.iter().map(|(n, t)| (*n, t)),
            ),
            table(
                "import_receipts",
                &mut RECEIPT_COLUMNS.iter().map(|(n, t)| (*n, t)),
            ),
        ]
        .join("\n")
    })
}

/// `INSERT INTO events` of the staged events' `columns`, as a `WITH` query named `ins`
/// returning the ids written.
fn insert_events_cte(columns: &[&(&str, Type, &str)]) -> String {
    let names: Vec<&str> = columns.iter().map(|(n, _, _)| *n).collect();
    let values: Vec<String> = columns
        .iter()
        .map(|(n, _, cast)| format!("{n}{cast}"))
        .collect();
    format!(
        "WITH ins AS (
           INSERT INTO events ({}) SELECT {} FROM pg_temp.import_events
           ON CONFLICT DO NOTHING RETURNING id)",
        names.join(", "),
        values.join(", ")
    )
}

/// An import's staged events into `events` and their links into `event_actors`, returning
/// the ids of the events written.
fn import_sql() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    SQL.get_or_init(|| {
        format!(
            "{},
             links AS (
               INSERT INTO event_actors (event_id, actor_id, role)
               SELECT a.event_id, a.actor_id, a.role FROM pg_temp.import_actors a
                 JOIN ins ON ins.id = a.event_id
               ON CONFLICT DO NOTHING)
             SELECT id FROM ins",
            insert_events_cte(&EVENT_PARAMS.iter().collect::<Vec<_>>())
        )
    })
}

/// Staged reports into `events` (with their sealed columns) and their receipts into
/// `report_receipts`, returning the ids of the events written. A new event has no receipt
/// yet, so each of theirs is written.
fn reports_sql() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    SQL.get_or_init(|| {
        let cols: Vec<&str> = RECEIPT_COLUMNS.iter().map(|(n, _)| *n).collect();
        let events = insert_events_cte(
            &EVENT_PARAMS
                .iter()
                .chain(&SEALED_PARAMS)
                .collect::<Vec<_>>(),
        );
        let (into, from) = (cols.join(", "), cols.join(", r."));
        format!(
            "{events},
             receipts AS (
               INSERT INTO report_receipts ({into}) SELECT r.{from} FROM pg_temp.import_receipts r
                 JOIN ins ON ins.id = r.event_id)
             SELECT id FROM ins"
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
fn once_in<'a>(rows: impl Iterator<Item = &'a EventRow> + Clone) -> Vec<bool> {
    let mut ids: HashMap<Uuid, u32> = HashMap::new();
    let mut keys: HashMap<(&str, &str), u32> = HashMap::new();
    for r in rows.clone() {
        *ids.entry(r.id).or_default() += 1;
        if let Some(x) = &r.external_id {
            *keys.entry((&r.source, x)).or_default() += 1;
        }
    }
    rows.map(|r| {
        ids[&r.id] == 1
            && r.external_id
                .as_deref()
                .is_none_or(|x| keys[&(r.source.as_str(), x)] == 1)
    })
    .collect()
}

/// Copies `items` into the temporary `table`'s `columns` by binary `COPY`, `each` writing
/// one item's rows.
fn copy_in<T>(
    tx: &mut Transaction<'_>,
    table: &str,
    columns: &[(&str, &Type)],
    items: impl IntoIterator<Item = T>,
    mut each: impl FnMut(&mut BinaryCopyInWriter<'_>, T) -> Result<(), postgres::Error>,
) -> Result<(), StoreError> {
    let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
    let types: Vec<Type> = columns.iter().map(|(_, t)| (*t).clone()).collect();
    let sink = tx
        .copy_in(&format!(
            "COPY pg_temp.{table} ({}) FROM STDIN (FORMAT binary)",
            names.join(", ")
        ))
        .px()?;
    let mut w = BinaryCopyInWriter::new(sink, &types);
    for item in items {
        each(&mut w, item).px()?;
    }
    w.finish().px()?;
    Ok(())
}

/// The ids a staged `INSERT … RETURNING id` (`sql`) wrote.
fn ids_written(tx: &mut Transaction<'_>, sql: &str) -> Result<HashSet<Uuid>, StoreError> {
    tx.query(sql, &[])
        .px()?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()
        .px()
}

/// Writes the new events of an import's `rows` (each with its content hash) inside `tx` and
/// tells, row by row, what became of it ([`Staged`]).
pub(super) fn write_new(
    tx: &mut Transaction<'_>,
    rows: &[(EventRow, Vec<u8>)],
) -> Result<Vec<Staged>, StoreError> {
    let staged = once_in(rows.iter().map(|(r, _)| r));
    if !staged.contains(&true) {
        return Ok(vec![Staged::Repeated; rows.len()]);
    }
    tx.batch_execute(create_sql()).px()?;
    let chosen = || {
        rows.iter()
            .zip(&staged)
            .filter(|(_, s)| **s)
            .map(|(r, _)| r)
    };
    let event_cols: Vec<(&str, &Type)> = EVENT_PARAMS.iter().map(|(n, t, _)| (*n, t)).collect();
    copy_in(
        tx,
        "import_events",
        &event_cols,
        chosen(),
        |w, (row, hash)| with_event_params(row, hash, |p| w.write(p)),
    )?;
    let link_cols: Vec<(&str, &Type)> = LINK_COLUMNS.iter().map(|(n, t)| (*n, t)).collect();
    copy_in(tx, "import_actors", &link_cols, chosen(), |w, (row, _)| {
        row.actors
            .iter()
            .try_for_each(|(actor, role)| w.write(&[&row.id, actor, role]))
    })?;
    let inserted = ids_written(tx, import_sql())?;
    let held = staged.iter().filter(|s| **s).count() - inserted.len();
    let unchanged = if held > 0 {
        ids_written(tx, UNCHANGED_SQL)?
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

/// Writes, inside `tx`, the reports of `reports` (each with its flattened row and content
/// hash) that are new events with neither attachments nor a data key stored apart from
/// their row, each with its receipt; true for each report so written. The others (an
/// event the store holds, one named twice, attachments, a separate key) are the caller's
/// to write one by one.
pub(super) fn write_new_reports(
    tx: &mut Transaction<'_>,
    reports: &[(&NewReport, EventRow, Vec<u8>)],
) -> Result<Vec<bool>, StoreError> {
    let once = once_in(reports.iter().map(|(_, r, _)| r));
    let staged: Vec<bool> = reports
        .iter()
        .zip(once)
        .map(|((r, row, _), once)| {
            once && r.attachments.is_empty()
                && r.sealed
                    .as_ref()
                    .is_none_or(|s| s.key.id == row.id && s.attachment_keys.is_empty())
        })
        .collect();
    if !staged.contains(&true) {
        return Ok(staged);
    }
    tx.batch_execute(create_sql()).px()?;
    let chosen = || {
        reports
            .iter()
            .zip(&staged)
            .filter(|(_, s)| **s)
            .map(|(r, _)| r)
    };
    let event_cols: Vec<(&str, &Type)> = EVENT_PARAMS
        .iter()
        .chain(&SEALED_PARAMS)
        .map(|(n, t, _)| (*n, t))
        .collect();
    copy_in(
        tx,
        "import_events",
        &event_cols,
        chosen(),
        |w, (r, row, hash)| {
            with_event_params(row, hash, |p| match &r.sealed {
                Some(s) => with_sealed_params(s, |sealed| {
                    let all: Vec<Param<'_>> = p.iter().chain(sealed).copied().collect();
                    w.write(&all)
                }),
                None => {
                    let all: Vec<Param<'_>> = p
                        .iter()
                        .copied()
                        .chain(SEALED_PARAMS.iter().map(|_| &Null as Param<'_>))
                        .collect();
                    w.write(&all)
                }
            })
        },
    )?;
    let receipt_cols: Vec<(&str, &Type)> = RECEIPT_COLUMNS.iter().map(|(n, t)| (*n, t)).collect();
    copy_in(
        tx,
        "import_receipts",
        &receipt_cols,
        chosen(),
        |w, (r, row, _)| {
            let rc = &r.receipt;
            w.write(&[
                &row.id,
                &rc.reference,
                &rc.channel,
                &rc.received_at,
                &rc.sender_hash,
                &rc.raw_text,
            ])
        },
    )?;
    let inserted = ids_written(tx, reports_sql())?;
    Ok(reports
        .iter()
        .zip(staged)
        .map(|((_, row, _), s)| s && inserted.contains(&row.id))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_or_a_source_key_named_twice_is_left_to_the_per_event_path() {
        let row = |id: u128, ext: Option<&str>| -> EventRow {
            serde_json::from_value(serde_json::json!({
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
            .unwrap()
        };
        let rows = [
            row(1, Some("a")),
            row(2, Some("b")),
            row(3, Some("b")),
            row(4, None),
            row(4, None),
            row(5, None),
        ];
        assert_eq!(
            once_in(rows.iter()),
            [true, false, false, false, false, true]
        );
    }
}
