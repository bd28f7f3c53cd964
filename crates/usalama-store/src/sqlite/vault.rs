//! The SQLite side of the vault: wrapped data keys, sealed report fields, erasure, and the
//! hash-chained audit log. Writers take `BEGIN IMMEDIATE`, so appends are serialized and
//! the chain never forks.

use super::{
    checkpoint_truncate, map_err, opt_ts, parse_ts, sealed_inline, ts, uuid_col, SqliteStore, Sx,
};
use crate::audit::{self, AuditDraft, AuditEntry, AuditHead};
use crate::error::StoreError;
use crate::vault::{
    DataKeyRecord, RetentionCandidate, RewrapCounts, SealedFields, SealedReport, StoredSealed,
};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use usalama_domain::EventId;
use uuid::Uuid;

pub(super) const KEY_COLUMNS: &str =
    "id, purpose, wrapped_key, master_version, created_at, destroyed_at";

pub(super) fn key_row(r: &Row) -> rusqlite::Result<DataKeyRecord> {
    Ok(DataKeyRecord {
        id: uuid_col(r, 0)?,
        purpose: r.get(1)?,
        wrapped: r.get(2)?,
        master_version: r.get::<_, i64>(3)? as u32,
        created_at: parse_ts(&r.get::<_, String>(4)?)?,
        destroyed_at: opt_ts(r.get(5)?)?,
    })
}

/// Inserts a data key.
pub(super) fn insert_key(c: &Connection, k: &DataKeyRecord) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO data_keys (id, purpose, wrapped_key, master_version, created_at, destroyed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .sx()?
    .execute(params![
        k.id,
        k.purpose,
        k.wrapped,
        i64::from(k.master_version),
        ts(&k.created_at),
        k.destroyed_at.as_ref().map(ts)
    ])
    .sx()?;
    Ok(())
}

/// Inserts a new report's data key and sealed fields: a key whose id is the event's id
/// on the `event_sealed` row itself (migration 0009), any other in `data_keys`.
pub(super) fn insert_sealed(
    c: &Connection,
    event: Uuid,
    s: &SealedReport,
) -> Result<(), StoreError> {
    let f = &s.fields;
    if s.key.id == event {
        let k = &s.key;
        c.prepare_cached(
            "INSERT INTO event_sealed (event_id, key_id, wrapped_key, master_version, key_created_at,
                 key_destroyed_at, people, reporter_contact, description, point, raw_text, contact_index, client)
             VALUES (?1, NULL, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )
        .sx()?
        .execute(params![
            event,
            k.wrapped,
            i64::from(k.master_version),
            ts(&k.created_at),
            k.destroyed_at.as_ref().map(ts),
            f.people,
            f.reporter_contact,
            f.description,
            f.point,
            f.raw_text,
            f.contact_index,
            f.client
        ])
        .sx()?;
        return Ok(());
    }
    insert_key(c, &s.key)?;
    c.prepare_cached(
        "INSERT INTO event_sealed (event_id, key_id, people, reporter_contact, description, point, raw_text, contact_index, client)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .sx()?
    .execute(params![
            event,
            s.key.id,
            f.people,
            f.reporter_contact,
            f.description,
            f.point,
            f.raw_text,
            f.contact_index,
            f.client
        ])
    .sx()?;
    Ok(())
}

/// The columns of a report's data key, wherever it is kept: on the `event_sealed` row `s`
/// (its id is the event's) or in `data_keys` `k` (rows written before migration 0009).
const SEALED_KEY_COLUMNS: &str = "coalesce(s.key_id, s.event_id), coalesce(k.purpose, 'event'),
    CASE WHEN s.key_id IS NULL THEN s.wrapped_key ELSE k.wrapped_key END,
    coalesce(s.master_version, k.master_version), coalesce(s.key_created_at, k.created_at),
    CASE WHEN s.key_id IS NULL THEN s.key_destroyed_at ELSE k.destroyed_at END";

/// Appends entries inside the caller's (immediate) transaction.
pub(super) fn append_tx(c: &Connection, drafts: &[AuditDraft]) -> Result<AuditHead, StoreError> {
    let (mut seq, mut last): (i64, Vec<u8>) = c
        .prepare_cached("SELECT seq, hash FROM audit_head WHERE id = 1")
        .sx()?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .sx()?;
    let mut ins = c
        .prepare_cached(
            "INSERT INTO audit_log (seq, at, actor, action, target_type, target_id, details, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .sx()?;
    for d in drafts {
        seq += 1;
        let hash = audit::entry_hash(seq, d, &last);
        ins.execute(params![
            seq,
            audit::at_text(&d.at),
            d.actor,
            d.action,
            d.target_type,
            d.target_id,
            d.details,
            last,
            hash
        ])
        .sx()?;
        last = hash;
    }
    c.prepare_cached("UPDATE audit_head SET seq = ?1, hash = ?2 WHERE id = 1")
        .sx()?
        .execute(params![seq, last])
        .sx()?;
    Ok(AuditHead { seq, hash: last })
}

fn head(c: &Connection) -> Result<AuditHead, StoreError> {
    c.query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| {
        Ok(AuditHead {
            seq: r.get(0)?,
            hash: r.get(1)?,
        })
    })
    .sx()
}

impl SqliteStore {
    pub(super) fn vault_read_sealed(
        &self,
        event: EventId,
        audit: &AuditDraft,
    ) -> Result<Option<StoredSealed>, StoreError> {
        let mut c = self.conn()?;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sx()?;
        let inline = sealed_inline::read(&tx, event)?;
        let found = match inline {
            Some(s) => Some(s),
            None => tx
            .query_row(
                &format!(
                    "SELECT s.people, s.reporter_contact, s.description, s.point, s.raw_text, s.contact_index, s.client,
                            {SEALED_KEY_COLUMNS}
                     FROM event_sealed s LEFT JOIN data_keys k ON k.id = s.key_id WHERE s.event_id = ?1"
                ),
                [event.as_uuid()],
                |r| {
                    let fields = sealed_fields_at(r)?;
                    let key = DataKeyRecord {
                        id: uuid_col(r, 7)?,
                        purpose: r.get(8)?,
                        wrapped: r.get(9)?,
                        master_version: r.get::<_, i64>(10)? as u32,
                        created_at: parse_ts(&r.get::<_, String>(11)?)?,
                        destroyed_at: opt_ts(r.get(12)?)?,
                    };
                    Ok(StoredSealed { event, key, fields })
                },
            )
            .optional()
            .sx()?,
        };
        if found.is_some() {
            append_tx(&tx, std::slice::from_ref(audit))?;
        }
        tx.commit().sx()?;
        Ok(found)
    }

    pub(super) fn vault_get_key(&self, id: Uuid) -> Result<Option<DataKeyRecord>, StoreError> {
        self.conn()?
            .query_row(
                &format!("SELECT {KEY_COLUMNS} FROM data_keys WHERE id = ?1"),
                [id],
                key_row,
            )
            .optional()
            .sx()
    }

    pub(super) fn vault_ensure_key(
        &self,
        fresh: &DataKeyRecord,
        adopt: Option<crate::vault::AdoptSetting<'_>>,
    ) -> Result<DataKeyRecord, StoreError> {
        let mut c = self.conn()?;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sx()?;
        let get = |tx: &Connection| {
            tx.query_row(
                &format!("SELECT {KEY_COLUMNS} FROM data_keys WHERE id = ?1"),
                [fresh.id],
                key_row,
            )
            .optional()
            .sx()
        };
        if let Some(k) = get(&tx)? {
            return Ok(k);
        }
        let legacy: Option<Vec<u8>> = match adopt {
            Some((setting, _)) => tx
                .query_row(
                    "SELECT value FROM settings WHERE key = ?1",
                    [setting],
                    |r| r.get(0),
                )
                .optional()
                .sx()?,
            None => None,
        };
        match (legacy, adopt) {
            (Some(value), Some((setting, wrap))) => {
                let k = wrap(&value).map_err(|e| StoreError::InvalidRecord {
                    id: format!("settings.{setting}"),
                    reason: e,
                })?;
                insert_key(&tx, &k)?;
                tx.execute("DELETE FROM settings WHERE key = ?1", [setting])
                    .sx()?;
            }
            _ => insert_key(&tx, fresh)?,
        }
        let k = get(&tx)?.ok_or_else(|| StoreError::Backend("data key vanished".into()))?;
        tx.commit().sx()?;
        Ok(k)
    }

    pub(super) fn vault_count_keys(&self) -> Result<(u64, u64), StoreError> {
        let c = self.conn()?;
        let (live, destroyed) = sealed_inline::count(&c)?;
        c
            .query_row(
                "SELECT (SELECT count(*) FROM data_keys WHERE wrapped_key IS NOT NULL)
                      + (SELECT count(*) FROM event_sealed WHERE key_id IS NULL AND wrapped_key IS NOT NULL),
                        (SELECT count(*) FROM data_keys WHERE wrapped_key IS NULL)
                      + (SELECT count(*) FROM event_sealed WHERE key_id IS NULL AND wrapped_key IS NULL)",
                [],
                |r| Ok((r.get::<_, i64>(0)? as u64 + live, r.get::<_, i64>(1)? as u64 + destroyed)),
            )
            .sx()
    }

    pub(super) fn vault_rewrap(
        &self,
        f: &mut dyn FnMut(&DataKeyRecord) -> Result<DataKeyRecord, String>,
        audit: &AuditDraft,
    ) -> Result<RewrapCounts, StoreError> {
        let mut c = self.conn()?;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sx()?;
        let keys = {
            let mut st = tx
                .prepare(&format!("SELECT {KEY_COLUMNS} FROM data_keys ORDER BY id"))
                .sx()?;
            let rows = st.query_map([], key_row).sx()?;
            rows.collect::<Result<Vec<_>, _>>().map_err(map_err)?
        };
        // Reports' keys kept on their `event_sealed` rows (migration 0009).
        let inline = {
            let mut st = tx
                .prepare(&format!(
                    "SELECT {SEALED_KEY_COLUMNS} FROM event_sealed s LEFT JOIN data_keys k ON 0
                     WHERE s.key_id IS NULL ORDER BY s.event_id"
                ))
                .sx()?;
            let rows = st.query_map([], key_row).sx()?;
            rows.collect::<Result<Vec<_>, _>>().map_err(map_err)?
        };
        // Reports' keys kept on their `events` rows (migration 0012).
        let on_events = sealed_inline::keys(&tx)?;
        let mut counts = RewrapCounts::default();
        {
            let mut upd = tx
                .prepare("UPDATE data_keys SET wrapped_key = ?2, master_version = ?3 WHERE id = ?1")
                .sx()?;
            let mut upd_inline = tx
                .prepare(
                    "UPDATE event_sealed SET wrapped_key = ?2, master_version = ?3
                     WHERE event_id = ?1 AND key_id IS NULL",
                )
                .sx()?;
            for (k, table) in keys
                .iter()
                .map(|k| (k, "data_keys"))
                .chain(inline.iter().map(|k| (k, "event_sealed")))
                .chain(on_events.iter().map(|k| (k, "events")))
            {
                if k.wrapped.is_none() {
                    counts.destroyed += 1;
                    continue;
                }
                let n = f(k).map_err(|reason| StoreError::InvalidRecord {
                    id: format!("{table}.{}", k.id),
                    reason,
                })?;
                match table {
                    "events" => sealed_inline::rewrap(&tx, k.id, &n)?,
                    "event_sealed" => {
                        upd_inline
                            .execute(params![k.id, n.wrapped, i64::from(n.master_version)])
                            .sx()?;
                    }
                    _ => {
                        upd.execute(params![k.id, n.wrapped, i64::from(n.master_version)])
                            .sx()?;
                    }
                }
                counts.rewrapped += 1;
            }
        }
        let mut a = audit.clone();
        a.details = serde_json::json!({
            "rewrapped": counts.rewrapped,
            "destroyed_skipped": counts.destroyed,
            "details": serde_json::from_str::<serde_json::Value>(&audit.details).unwrap_or_default(),
        })
        .to_string();
        append_tx(&tx, &[a])?;
        tx.commit().sx()?;
        Ok(counts)
    }

    pub(super) fn vault_event_key_ids(&self, event: EventId) -> Result<Vec<Uuid>, StoreError> {
        let c = self.conn()?;
        let mut st = c
            .prepare(
                "SELECT k.id FROM event_sealed s JOIN data_keys k ON k.id = s.key_id
                   WHERE s.event_id = ?1 AND k.wrapped_key IS NOT NULL
                 UNION
                 SELECT event_id FROM event_sealed
                   WHERE event_id = ?1 AND key_id IS NULL AND wrapped_key IS NOT NULL
                 UNION
                 SELECT k.id FROM report_attachments a JOIN data_keys k ON k.id = a.key_id
                   WHERE a.event_id = ?1 AND k.wrapped_key IS NOT NULL
                 ORDER BY 1",
            )
            .sx()?;
        let rows = st.query_map([event.as_uuid()], |r| uuid_col(r, 0)).sx()?;
        let mut ids = rows.collect::<Result<Vec<_>, _>>().map_err(map_err)?;
        if sealed_inline::has_live_key(&c, event.as_uuid())? {
            ids.push(event.as_uuid());
            ids.sort();
            ids.dedup();
        }
        Ok(ids)
    }

    pub(super) fn vault_destroy(
        &self,
        ids: &[Uuid],
        at: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> Result<u64, StoreError> {
        let mut c = self.conn()?;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sx()?;
        let mut n = 0;
        {
            let mut st = tx
                .prepare(
                    "UPDATE data_keys SET wrapped_key = NULL, destroyed_at = ?2
                     WHERE id = ?1 AND wrapped_key IS NOT NULL",
                )
                .sx()?;
            let mut idx = tx
                .prepare("UPDATE event_sealed SET contact_index = NULL WHERE key_id = ?1")
                .sx()?;
            // A report's key kept on its row has the event's id.
            let mut inline = tx
                .prepare(
                    "UPDATE event_sealed SET wrapped_key = NULL, key_destroyed_at = ?2, contact_index = NULL
                     WHERE event_id = ?1 AND key_id IS NULL AND wrapped_key IS NOT NULL",
                )
                .sx()?;
            for id in ids {
                n += st.execute(params![id, ts(&at)]).sx()? as u64;
                idx.execute([id]).sx()?;
                n += inline.execute(params![id, ts(&at)]).sx()? as u64;
                n += sealed_inline::destroy(&tx, *id, at)?;
            }
        }
        if !audit.is_empty() {
            append_tx(&tx, audit)?;
        }
        tx.commit().sx()?;
        // The wrapped keys must not linger in the WAL file's older frames.
        checkpoint_truncate(&c)?;
        Ok(n)
    }

    pub(super) fn vault_find_contact(
        &self,
        index: &[u8],
        audit: &AuditDraft,
    ) -> Result<Vec<EventId>, StoreError> {
        let mut c = self.conn()?;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sx()?;
        let ids = {
            let mut st = tx
                .prepare(
                    "SELECT event_id FROM event_sealed WHERE contact_index = ?1 ORDER BY event_id",
                )
                .sx()?;
            let rows = st.query_map([index], |r| uuid_col(r, 0)).sx()?;
            let mut ids = rows.collect::<Result<Vec<_>, _>>().map_err(map_err)?;
            ids.extend(sealed_inline::find_contact(&tx, index)?);
            ids.sort();
            ids
        };
        append_tx(&tx, std::slice::from_ref(audit))?;
        tx.commit().sx()?;
        Ok(ids.into_iter().map(EventId::from_uuid).collect())
    }

    pub(super) fn vault_personal_due(
        &self,
        before: DateTime<Utc>,
    ) -> Result<Vec<EventId>, StoreError> {
        let c = self.conn()?;
        let mut st = c
            .prepare(
                "SELECT e.id FROM events e JOIN event_sealed s ON s.event_id = e.id
                   LEFT JOIN data_keys k ON k.id = s.key_id
                 WHERE (CASE WHEN s.key_id IS NULL THEN s.wrapped_key ELSE k.wrapped_key END) IS NOT NULL
                   AND e.status <> 'unverified' AND e.updated_at < ?1
                 UNION
                 SELECT e.id FROM events e INDEXED BY events_sealed
                 WHERE e.sealed_master IS NOT NULL AND e.sealed_key IS NOT NULL
                   AND e.status <> 'unverified' AND e.updated_at < ?1
                 ORDER BY 1",
            )
            .sx()?;
        let rows = st.query_map([ts(&before)], |r| uuid_col(r, 0)).sx()?;
        let ids = rows.collect::<Result<Vec<_>, _>>().map_err(map_err)?;
        Ok(ids.into_iter().map(EventId::from_uuid).collect())
    }

    pub(super) fn vault_attachments_due(
        &self,
        before: DateTime<Utc>,
    ) -> Result<Vec<RetentionCandidate>, StoreError> {
        let c = self.conn()?;
        let mut st = c
            .prepare(
                "SELECT a.event_id, k.id FROM report_attachments a JOIN data_keys k ON k.id = a.key_id
                 WHERE k.wrapped_key IS NOT NULL AND a.received_at < ?1 ORDER BY a.event_id, k.id",
            )
            .sx()?;
        let rows = st
            .query_map([ts(&before)], |r| {
                Ok(RetentionCandidate {
                    event: EventId::from_uuid(uuid_col(r, 0)?),
                    key_id: uuid_col(r, 1)?,
                })
            })
            .sx()?;
        rows.collect::<Result<Vec<_>, _>>().map_err(map_err)
    }

    pub(super) fn vault_append(&self, drafts: &[AuditDraft]) -> Result<AuditHead, StoreError> {
        let mut c = self.conn()?;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sx()?;
        let h = append_tx(&tx, drafts)?;
        tx.commit().sx()?;
        Ok(h)
    }

    pub(super) fn vault_head(&self) -> Result<AuditHead, StoreError> {
        head(&*self.conn()?)
    }

    pub(super) fn vault_scan_audit(
        &self,
        f: &mut dyn FnMut(&AuditEntry) -> Result<(), StoreError>,
    ) -> Result<AuditHead, StoreError> {
        let mut c = self.conn()?;
        let tx = c.transaction().sx()?;
        let h = head(&tx)?;
        {
            let mut st = tx
                .prepare(
                    "SELECT seq, at, actor, action, target_type, target_id, details, prev_hash, hash
                     FROM audit_log ORDER BY seq",
                )
                .sx()?;
            let mut rows = st.query([]).sx()?;
            while let Some(r) = rows.next().sx()? {
                let e = AuditEntry {
                    seq: r.get(0).sx()?,
                    draft: AuditDraft {
                        at: parse_ts(&r.get::<_, String>(1).sx()?).sx()?,
                        actor: r.get(2).sx()?,
                        action: r.get(3).sx()?,
                        target_type: r.get(4).sx()?,
                        target_id: r.get(5).sx()?,
                        details: r.get(6).sx()?,
                    },
                    prev_hash: r.get(7).sx()?,
                    hash: r.get(8).sx()?,
                };
                f(&e)?;
            }
        }
        tx.commit().sx()?;
        Ok(h)
    }
}

/// The seven sealed columns (people, contact, description, point, raw text, blind index,
/// client) at the start of a row, in that order, whichever table they come from.
pub(super) fn sealed_fields_at(r: &Row<'_>) -> rusqlite::Result<SealedFields> {
    Ok(SealedFields {
        people: r.get(0)?,
        reporter_contact: r.get(1)?,
        description: r.get(2)?,
        point: r.get(3)?,
        raw_text: r.get(4)?,
        contact_index: r.get(5)?,
        client: r.get(6)?,
    })
}
