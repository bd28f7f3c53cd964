//! The SQLite side of a report's sealed fields kept on its own `events` row (migration
//! 0012): the data key (its id is the event's id), its wrap and the sealed fields in the
//! `sealed_*` columns, and the first [`crate::vault::INLINE_INDEX_BYTES`] of the contact's blind index in
//! `contact_index`. Reports sealed before keep their `event_sealed` row ([`super::vault`]).

use super::{insert_event_with, opt_ts, parse_ts, ts, uuid_col, Sx, INSERT_EVENT};
use crate::error::StoreError;
use crate::rows::EventRow;
use crate::vault::{DataKeyRecord, SealedReport, StoredSealed};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row};
use std::sync::OnceLock;
use usalama_domain::EventId;
use uuid::Uuid;

use crate::vault::inline_index;

/// The key columns of an inline row, in the order of [`super::vault::key_row`].
pub(super) const INLINE_KEY_COLUMNS: &str = "id, 'event', sealed_key, sealed_master,
    sealed_key_created_at, sealed_key_destroyed_at";

/// The sealed columns written with a new event, after [`INSERT_EVENT`]'s.
const SEALED_COLUMNS: &str = "sealed_key, sealed_master, sealed_key_created_at,
    sealed_key_destroyed_at, sealed_people, sealed_contact, sealed_description, sealed_point,
    sealed_raw_text, sealed_client, contact_index";

/// [`INSERT_EVENT`] with the sealed columns as parameters 40–50: one statement writes a new
/// report's row with its key and sealed fields.
pub(super) fn insert_sql() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    SQL.get_or_init(|| {
        let sql = INSERT_EVENT
            .replacen("owner_org)", &format!("owner_org, {SEALED_COLUMNS})"), 1)
            .replacen(
                "?39)",
                "?39, ?40, ?41, ?42, ?43, ?44, ?45, ?46, ?47, ?48, ?49, ?50)",
                1,
            );
        debug_assert!(sql.contains("?50)") && sql.contains("contact_index)"));
        sql
    })
}

/// Inserts a new report's event row with its key and sealed fields (prepared
/// [`insert_sql`]); true when it was new.
pub(super) fn insert(
    st: &mut rusqlite::Statement<'_>,
    row: &EventRow,
    hash: &[u8],
    s: &SealedReport,
) -> Result<bool, StoreError> {
    let (k, f) = (&s.key, &s.fields);
    let created = ts(&k.created_at);
    let destroyed = k.destroyed_at.as_ref().map(ts);
    let index = f.contact_index.as_deref().map(inline_index);
    insert_event_with(
        st,
        row,
        hash,
        &[
            &k.wrapped,
            &i64::from(k.master_version),
            &created,
            &destroyed,
            &f.people,
            &f.reporter_contact,
            &f.description,
            &f.point,
            &f.raw_text,
            &f.client,
            &index,
        ],
    )
}

/// A report's sealed fields and key as kept on its `events` row, if it keeps them there.
pub(super) fn read(c: &Connection, event: EventId) -> Result<Option<StoredSealed>, StoreError> {
    c.prepare_cached(&format!(
        "SELECT sealed_people, sealed_contact, sealed_description, sealed_point, sealed_raw_text,
                contact_index, sealed_client, {INLINE_KEY_COLUMNS}
         FROM events WHERE id = ?1 AND sealed_master IS NOT NULL"
    ))
    .sx()?
    .query_row([event.as_uuid()], |r| {
        Ok(StoredSealed {
            event,
            fields: super::vault::sealed_fields_at(r)?,
            key: key_at(r, 7)?,
        })
    })
    .optional()
    .sx()
}

fn key_at(r: &Row, o: usize) -> rusqlite::Result<DataKeyRecord> {
    Ok(DataKeyRecord {
        id: uuid_col(r, o)?,
        purpose: r.get(o + 1)?,
        wrapped: r.get(o + 2)?,
        master_version: r.get::<_, i64>(o + 3)? as u32,
        created_at: parse_ts(&r.get::<_, String>(o + 4)?)?,
        destroyed_at: opt_ts(r.get(o + 5)?)?,
    })
}

/// Every inline key (live and destroyed), by event id.
pub(super) fn keys(c: &Connection) -> Result<Vec<DataKeyRecord>, StoreError> {
    let mut st = c
        .prepare(&format!(
            "SELECT {INLINE_KEY_COLUMNS} FROM events INDEXED BY events_sealed
             WHERE sealed_master IS NOT NULL"
        ))
        .sx()?;
    let rows = st.query_map([], |r| key_at(r, 0)).sx()?;
    let mut keys = rows.collect::<Result<Vec<_>, _>>().sx()?;
    keys.sort_by_key(|k| k.id);
    Ok(keys)
}

/// Live and destroyed inline keys.
pub(super) fn count(c: &Connection) -> Result<(u64, u64), StoreError> {
    c.query_row(
        "SELECT count(sealed_key), count(*) - count(sealed_key) FROM events INDEXED BY events_sealed
         WHERE sealed_master IS NOT NULL",
        [],
        |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
    )
    .sx()
}

/// Replaces the wrap of event `id`'s inline key.
pub(super) fn rewrap(c: &Connection, id: Uuid, n: &DataKeyRecord) -> Result<(), StoreError> {
    c.prepare_cached(
        "UPDATE events SET sealed_key = ?2, sealed_master = ?3
         WHERE id = ?1 AND sealed_master IS NOT NULL",
    )
    .sx()?
    .execute(params![id, n.wrapped, i64::from(n.master_version)])
    .sx()?;
    Ok(())
}

/// Destroys event `id`'s inline key (and its blind index); 1 when it was live.
pub(super) fn destroy(c: &Connection, id: Uuid, at: DateTime<Utc>) -> Result<u64, StoreError> {
    let n = c
        .prepare_cached(
            "UPDATE events SET sealed_key = NULL, sealed_key_destroyed_at = ?2, contact_index = NULL
             WHERE id = ?1 AND sealed_master IS NOT NULL AND sealed_key IS NOT NULL",
        )
        .sx()?
        .execute(params![id, ts(&at)])
        .sx()?;
    Ok(n as u64)
}

/// True when event `id` keeps a live key on its row.
pub(super) fn has_live_key(c: &Connection, id: Uuid) -> Result<bool, StoreError> {
    c.prepare_cached(
        "SELECT 1 FROM events WHERE id = ?1 AND sealed_master IS NOT NULL AND sealed_key IS NOT NULL",
    )
    .sx()?
    .query_row([id], |_| Ok(()))
    .optional()
    .sx()
    .map(|o| o.is_some())
}

/// Events whose inline blind index is `index`'s first bytes.
pub(super) fn find_contact(c: &Connection, index: &[u8]) -> Result<Vec<Uuid>, StoreError> {
    let mut st = c
        .prepare_cached(
            "SELECT id FROM events WHERE contact_index = ?1 AND sealed_master IS NOT NULL",
        )
        .sx()?;
    let rows = st
        .query_map([inline_index(index)], |r| uuid_col(r, 0))
        .sx()?;
    rows.collect::<Result<Vec<_>, _>>().sx()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_insert_names_every_column_of_the_event_and_the_sealed_ones() {
        let sql = super::insert_sql();
        let cols = sql[..sql.find("VALUES").unwrap()].matches(',').count() + 1;
        let params = sql.matches('?').count();
        assert_eq!((cols, params), (50, 50), "{sql}");
        assert!(sql.contains("owner_org, sealed_key,") && sql.contains("?39, ?40,"));
    }
}
