//! The PostgreSQL side of a report's sealed fields kept on its own `events` row (migration
//! 0012): the data key (its id is the event's id), its wrap and the sealed fields in the
//! `sealed_*` columns, and the first [`crate::vault::INLINE_INDEX_BYTES`] of the contact's
//! blind index in `contact_index`. Reports sealed before keep their `event_sealed` row.

use super::vault::{key_at, sealed_fields_at};
use super::{insert_event_with, Param, Px, INSERT_EVENT};
use crate::audit;
use crate::error::StoreError;
use crate::rows::EventRow;
use crate::vault::{inline_index, DataKeyRecord, SealedReport, StoredSealed};
use chrono::{DateTime, Utc};
use postgres::types::Type;
use postgres::GenericClient;
use std::sync::OnceLock;
use usalama_domain::EventId;
use uuid::Uuid;

/// The key columns of an inline row, in the order of [`key_at`].
const INLINE_KEY_COLUMNS: &str = "id, 'event'::text, sealed_key, sealed_master,
    sealed_key_created_at, sealed_key_destroyed_at";

/// [`INSERT_EVENT`] with the sealed columns as parameters 40–50: one statement writes a new
/// report's row with its key and sealed fields.
pub(super) fn insert_sql() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    SQL.get_or_init(|| {
        INSERT_EVENT
            .replacen(
                "owner_org)",
                "owner_org, sealed_key, sealed_master, sealed_key_created_at,
    sealed_key_destroyed_at, sealed_people, sealed_contact, sealed_description, sealed_point,
    sealed_raw_text, sealed_client, contact_index)",
                1,
            )
            .replacen(
                "$39)",
                "$39, $40, $41, $42, $43, $44, $45, $46, $47, $48, $49, $50)",
                1,
            )
    })
}

/// The sealed columns [`insert_sql`] adds after [`super::EVENT_PARAMS`], in parameter order,
/// with the type of the value [`with_sealed_params`] gives for each (and no cast).
pub(super) const SEALED_PARAMS: [(&str, Type, &str); 11] = [
    ("sealed_key", Type::BYTEA, ""),
    ("sealed_master", Type::INT4, ""),
    ("sealed_key_created_at", Type::TEXT, ""),
    ("sealed_key_destroyed_at", Type::TEXT, ""),
    ("sealed_people", Type::BYTEA, ""),
    ("sealed_contact", Type::BYTEA, ""),
    ("sealed_description", Type::BYTEA, ""),
    ("sealed_point", Type::BYTEA, ""),
    ("sealed_raw_text", Type::BYTEA, ""),
    ("sealed_client", Type::BYTEA, ""),
    ("contact_index", Type::BYTEA, ""),
];

/// Hands `f` the values of [`SEALED_PARAMS`] for a report's key and sealed fields.
pub(super) fn with_sealed_params<R>(s: &SealedReport, f: impl FnOnce(&[Param<'_>; 11]) -> R) -> R {
    let (k, fields) = (&s.key, &s.fields);
    let master = k.master_version as i32;
    let created = audit::at_text(&k.created_at);
    let destroyed = k.destroyed_at.as_ref().map(audit::at_text);
    let index = fields.contact_index.as_deref().map(inline_index);
    f(&[
        &k.wrapped,
        &master,
        &created,
        &destroyed,
        &fields.people,
        &fields.reporter_contact,
        &fields.description,
        &fields.point,
        &fields.raw_text,
        &fields.client,
        &index,
    ])
}

/// Inserts a new report's event row with its key and sealed fields (prepared
/// [`insert_sql`]); true when it was new.
pub(super) fn insert(
    c: &mut impl GenericClient,
    st: &postgres::Statement,
    row: &EventRow,
    hash: &[u8],
    s: &SealedReport,
) -> Result<bool, StoreError> {
    with_sealed_params(s, |sealed| insert_event_with(c, st, row, hash, sealed))
}

/// A report's sealed fields and key as kept on its `events` row, if it keeps them there.
pub(super) fn read(
    c: &mut impl GenericClient,
    event: EventId,
) -> Result<Option<StoredSealed>, StoreError> {
    let Some(r) = c
        .query_opt(
            &format!(
                "SELECT sealed_people, sealed_contact, sealed_description, sealed_point,
                        sealed_raw_text, contact_index, sealed_client, {INLINE_KEY_COLUMNS}
                 FROM events WHERE id = $1 AND sealed_master IS NOT NULL"
            ),
            &[&event.as_uuid()],
        )
        .px()?
    else {
        return Ok(None);
    };
    Ok(Some(StoredSealed {
        event,
        fields: sealed_fields_at(&r)?,
        key: key_at(&r, 7)?,
    }))
}

/// Every inline key (live and destroyed), by event id, locked for the rotation.
pub(super) fn keys_for_update(
    c: &mut impl GenericClient,
) -> Result<Vec<DataKeyRecord>, StoreError> {
    c.query(
        &format!(
            "SELECT {INLINE_KEY_COLUMNS} FROM events WHERE sealed_master IS NOT NULL
             ORDER BY id FOR UPDATE"
        ),
        &[],
    )
    .px()?
    .iter()
    .map(|r| key_at(r, 0))
    .collect()
}

/// Live and destroyed inline keys.
pub(super) fn count(c: &mut impl GenericClient) -> Result<(u64, u64), StoreError> {
    let r = c
        .query_one(
            "SELECT count(sealed_key), count(*) - count(sealed_key) FROM events
             WHERE sealed_master IS NOT NULL",
            &[],
        )
        .px()?;
    Ok((
        r.try_get::<_, i64>(0).px()? as u64,
        r.try_get::<_, i64>(1).px()? as u64,
    ))
}

/// Replaces the wrap of event `id`'s inline key.
pub(super) fn rewrap(
    c: &mut impl GenericClient,
    id: Uuid,
    n: &DataKeyRecord,
) -> Result<(), StoreError> {
    c.execute(
        "UPDATE events SET sealed_key = $2, sealed_master = $3
         WHERE id = $1 AND sealed_master IS NOT NULL",
        &[&id, &n.wrapped, &(n.master_version as i32)],
    )
    .px()?;
    Ok(())
}

/// Destroys event `id`'s inline key (and its blind index); 1 when it was live.
pub(super) fn destroy(
    c: &mut impl GenericClient,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<u64, StoreError> {
    c.execute(
        "UPDATE events SET sealed_key = NULL, sealed_key_destroyed_at = $2, contact_index = NULL
         WHERE id = $1 AND sealed_master IS NOT NULL AND sealed_key IS NOT NULL",
        &[&id, &audit::at_text(&at)],
    )
    .px()
}

/// Events whose inline blind index is `index`'s first bytes.
pub(super) fn find_contact(
    c: &mut impl GenericClient,
    index: &[u8],
) -> Result<Vec<Uuid>, StoreError> {
    c.query(
        "SELECT id FROM events WHERE contact_index = $1 AND sealed_master IS NOT NULL",
        &[&inline_index(index)],
    )
    .px()?
    .iter()
    .map(|r| r.try_get(0).px())
    .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_insert_names_every_column_of_the_event_and_the_sealed_ones() {
        let sql = super::insert_sql();
        let cols = sql[..sql.find("VALUES").unwrap()].matches(',').count() + 1;
        let params = sql.matches('$').count();
        assert_eq!((cols, params), (50, 50), "{sql}");
        assert!(sql.contains("owner_org, sealed_key,") && sql.contains("$39, $40,"));
        let sealed: Vec<&str> = sql[sql.find("owner_org,").unwrap() + 10..sql.find(')').unwrap()]
            .split(',')
            .map(str::trim)
            .collect();
        let listed: Vec<&str> = super::SEALED_PARAMS.iter().map(|(n, _, _)| *n).collect();
        assert_eq!(sealed, listed);
    }
}
