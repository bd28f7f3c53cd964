//! The PostgreSQL side of the vault: wrapped data keys, sealed report fields, erasure, and
//! the hash-chained audit log. Appends lock the head row (`SELECT … FOR UPDATE`), so
//! concurrent writers queue behind each other and the chain never forks.

use super::{sealed_inline, PgStore, Px};
use crate::audit::{self, AuditDraft, AuditEntry, AuditHead};
use crate::error::StoreError;
use crate::vault::{
    DataKeyRecord, RetentionCandidate, RewrapCounts, SealedFields, SealedReport, StoredSealed,
};
use chrono::{DateTime, Utc};
use postgres::{GenericClient, Row};
use usalama_domain::EventId;
use uuid::Uuid;

pub(super) const KEY_COLUMNS: &str =
    "id, purpose, wrapped_key, master_version, created_at, destroyed_at";

pub(super) fn parse_ts(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Backend(format!("bad time '{s}': {e}")))
}

/// The seven sealed columns (people, contact, description, point, raw text, blind index,
/// client) at the start of a row, in that order, whichever table they come from.
pub(super) fn sealed_fields_at(r: &Row) -> Result<SealedFields, StoreError> {
    Ok(SealedFields {
        people: r.try_get(0).px()?,
        reporter_contact: r.try_get(1).px()?,
        description: r.try_get(2).px()?,
        point: r.try_get(3).px()?,
        raw_text: r.try_get(4).px()?,
        contact_index: r.try_get(5).px()?,
        client: r.try_get(6).px()?,
    })
}

pub(super) fn key_at(r: &Row, o: usize) -> Result<DataKeyRecord, StoreError> {
    Ok(DataKeyRecord {
        id: r.try_get(o).px()?,
        purpose: r.try_get(o + 1).px()?,
        wrapped: r.try_get(o + 2).px()?,
        master_version: r.try_get::<_, i32>(o + 3).px()? as u32,
        created_at: parse_ts(&r.try_get::<_, String>(o + 4).px()?)?,
        destroyed_at: r
            .try_get::<_, Option<String>>(o + 5)
            .px()?
            .as_deref()
            .map(parse_ts)
            .transpose()?,
    })
}

/// Inserts a data key.
pub(super) fn insert_key(c: &mut impl GenericClient, k: &DataKeyRecord) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO data_keys (id, purpose, wrapped_key, master_version, created_at, destroyed_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &k.id,
            &k.purpose,
            &k.wrapped,
            &(k.master_version as i32),
            &audit::at_text(&k.created_at),
            &k.destroyed_at.as_ref().map(audit::at_text),
        ],
    )
    .px()?;
    Ok(())
}

/// Inserts a new report's data key and sealed fields: a key whose id is the event's id
/// on the `event_sealed` row itself (migration 0009), any other in `data_keys`.
pub(super) fn insert_sealed(
    c: &mut impl GenericClient,
    event: Uuid,
    s: &SealedReport,
) -> Result<(), StoreError> {
    let f = &s.fields;
    if s.key.id == event {
        let k = &s.key;
        c.execute(
            "INSERT INTO event_sealed (event_id, key_id, wrapped_key, master_version, key_created_at,
                 key_destroyed_at, people, reporter_contact, description, point, raw_text, contact_index, client)
             VALUES ($1, NULL, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            &[
                &event,
                &k.wrapped,
                &(k.master_version as i32),
                &audit::at_text(&k.created_at),
                &k.destroyed_at.as_ref().map(audit::at_text),
                &f.people,
                &f.reporter_contact,
                &f.description,
                &f.point,
                &f.raw_text,
                &f.contact_index,
                &f.client,
            ],
        )
        .px()?;
        return Ok(());
    }
    insert_key(c, &s.key)?;
    c.execute(
        "INSERT INTO event_sealed (event_id, key_id, people, reporter_contact, description, point, raw_text, contact_index, client)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &event,
            &s.key.id,
            &f.people,
            &f.reporter_contact,
            &f.description,
            &f.point,
            &f.raw_text,
            &f.contact_index,
            &f.client,
        ],
    )
    .px()?;
    Ok(())
}

/// The columns of a report's data key, wherever it is kept: on the `event_sealed` row `s`
/// (its id is the event's) or in `data_keys` `k` (rows written before migration 0009).
const SEALED_KEY_COLUMNS: &str = "coalesce(s.key_id, s.event_id), coalesce(k.purpose, 'event'),
    CASE WHEN s.key_id IS NULL THEN s.wrapped_key ELSE k.wrapped_key END,
    coalesce(s.master_version, k.master_version), coalesce(s.key_created_at, k.created_at),
    CASE WHEN s.key_id IS NULL THEN s.key_destroyed_at ELSE k.destroyed_at END";

/// Appends entries inside the caller's transaction, holding the head row's lock.
pub(super) fn append_tx(
    c: &mut impl GenericClient,
    drafts: &[AuditDraft],
) -> Result<AuditHead, StoreError> {
    let r = c
        .query_one(
            "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
            &[],
        )
        .px()?;
    let mut seq: i64 = r.try_get(0).px()?;
    let mut last: Vec<u8> = r.try_get(1).px()?;
    let ins = c
        .prepare(
            "INSERT INTO audit_log (seq, at, actor, action, target_type, target_id, details, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .px()?;
    for d in drafts {
        seq += 1;
        let hash = audit::entry_hash(seq, d, &last);
        c.execute(
            &ins,
            &[
                &seq,
                &audit::at_text(&d.at),
                &d.actor,
                &d.action,
                &d.target_type,
                &d.target_id,
                &d.details,
                &last,
                &hash,
            ],
        )
        .px()?;
        last = hash;
    }
    c.execute(
        "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1",
        &[&seq, &last],
    )
    .px()?;
    Ok(AuditHead { seq, hash: last })
}

fn head(c: &mut impl GenericClient) -> Result<AuditHead, StoreError> {
    let r = c
        .query_one("SELECT seq, hash FROM audit_head WHERE id = 1", &[])
        .px()?;
    Ok(AuditHead {
        seq: r.try_get(0).px()?,
        hash: r.try_get(1).px()?,
    })
}

fn uuids(rows: Vec<Row>) -> Result<Vec<Uuid>, StoreError> {
    rows.iter().map(|r| r.try_get(0).px()).collect()
}

impl PgStore {
    pub(super) fn vault_read_sealed(
        &self,
        event: EventId,
        audit: &AuditDraft,
    ) -> Result<Option<StoredSealed>, StoreError> {
        let mut c = self.conn()?;
        let mut tx = c.transaction().px()?;
        let inline = sealed_inline::read(&mut tx, event)?;
        let row = match inline {
            Some(_) => None,
            None => tx
            .query_opt(
                &format!(
                    "SELECT s.people, s.reporter_contact, s.description, s.point, s.raw_text, s.contact_index, s.client,
                            {SEALED_KEY_COLUMNS}
                     FROM event_sealed s LEFT JOIN data_keys k ON k.id = s.key_id WHERE s.event_id = $1"
                ),
                &[&event.as_uuid()],
            )
            .px()?,
        };
        let found = match row {
            None => inline,
            Some(r) => Some(StoredSealed {
                event,
                fields: sealed_fields_at(&r)?,
                key: key_at(&r, 7)?,
            }),
        };
        if found.is_some() {
            append_tx(&mut tx, std::slice::from_ref(audit))?;
        }
        tx.commit().px()?;
        Ok(found)
    }

    pub(super) fn vault_get_key(&self, id: Uuid) -> Result<Option<DataKeyRecord>, StoreError> {
        self.conn()?
            .query_opt(
                &format!("SELECT {KEY_COLUMNS} FROM data_keys WHERE id = $1"),
                &[&id],
            )
            .px()?
            .map(|r| key_at(&r, 0))
            .transpose()
    }

    pub(super) fn vault_ensure_key(
        &self,
        fresh: &DataKeyRecord,
        adopt: Option<crate::vault::AdoptSetting<'_>>,
    ) -> Result<DataKeyRecord, StoreError> {
        let mut c = self.conn()?;
        let mut tx = c.transaction().px()?;
        // One installation key at a time: concurrent first starts wait here.
        tx.execute("SELECT pg_advisory_xact_lock(7215500)", &[])
            .px()?;
        let sql = format!("SELECT {KEY_COLUMNS} FROM data_keys WHERE id = $1");
        if let Some(r) = tx.query_opt(&sql, &[&fresh.id]).px()? {
            return key_at(&r, 0);
        }
        let legacy: Option<Vec<u8>> = match adopt {
            Some((setting, _)) => tx
                .query_opt("SELECT value FROM settings WHERE key = $1", &[&setting])
                .px()?
                .map(|r| r.try_get(0))
                .transpose()
                .px()?,
            None => None,
        };
        match (legacy, adopt) {
            (Some(value), Some((setting, wrap))) => {
                let k = wrap(&value).map_err(|e| StoreError::InvalidRecord {
                    id: format!("settings.{setting}"),
                    reason: e,
                })?;
                insert_key(&mut tx, &k)?;
                tx.execute("DELETE FROM settings WHERE key = $1", &[&setting])
                    .px()?;
            }
            _ => insert_key(&mut tx, fresh)?,
        }
        let k = key_at(&tx.query_one(&sql, &[&fresh.id]).px()?, 0)?;
        tx.commit().px()?;
        Ok(k)
    }

    pub(super) fn vault_count_keys(&self) -> Result<(u64, u64), StoreError> {
        let mut c = self.conn()?;
        let (live, destroyed) = sealed_inline::count(&mut *c)?;
        let r = c
            .query_one(
                "SELECT (SELECT count(*) FROM data_keys WHERE wrapped_key IS NOT NULL)
                      + (SELECT count(*) FROM event_sealed WHERE key_id IS NULL AND wrapped_key IS NOT NULL),
                        (SELECT count(*) FROM data_keys WHERE wrapped_key IS NULL)
                      + (SELECT count(*) FROM event_sealed WHERE key_id IS NULL AND wrapped_key IS NULL)",
                &[],
            )
            .px()?;
        Ok((
            r.try_get::<_, i64>(0).px()? as u64 + live,
            r.try_get::<_, i64>(1).px()? as u64 + destroyed,
        ))
    }

    pub(super) fn vault_rewrap(
        &self,
        f: &mut dyn FnMut(&DataKeyRecord) -> Result<DataKeyRecord, String>,
        audit: &AuditDraft,
    ) -> Result<RewrapCounts, StoreError> {
        let mut c = self.conn()?;
        let mut tx = c.transaction().px()?;
        let keys = tx
            .query(
                &format!("SELECT {KEY_COLUMNS} FROM data_keys ORDER BY id FOR UPDATE"),
                &[],
            )
            .px()?
            .iter()
            .map(|r| key_at(r, 0))
            .collect::<Result<Vec<_>, _>>()?;
        // Reports' keys kept on their `event_sealed` rows (migration 0009).
        let inline = tx
            .query(
                &format!(
                    "SELECT {SEALED_KEY_COLUMNS} FROM event_sealed s LEFT JOIN data_keys k ON false
                     WHERE s.key_id IS NULL ORDER BY s.event_id FOR UPDATE OF s"
                ),
                &[],
            )
            .px()?
            .iter()
            .map(|r| key_at(r, 0))
            .collect::<Result<Vec<_>, _>>()?;
        // Reports' keys kept on their `events` rows (migration 0012).
        let on_events = sealed_inline::keys_for_update(&mut tx)?;
        let upd = tx
            .prepare("UPDATE data_keys SET wrapped_key = $2, master_version = $3 WHERE id = $1")
            .px()?;
        let upd_inline = tx
            .prepare(
                "UPDATE event_sealed SET wrapped_key = $2, master_version = $3
                 WHERE event_id = $1 AND key_id IS NULL",
            )
            .px()?;
        let mut counts = RewrapCounts::default();
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
            let st = match table {
                "events" => {
                    sealed_inline::rewrap(&mut tx, k.id, &n)?;
                    counts.rewrapped += 1;
                    continue;
                }
                "event_sealed" => &upd_inline,
                _ => &upd,
            };
            tx.execute(st, &[&k.id, &n.wrapped, &(n.master_version as i32)])
                .px()?;
            counts.rewrapped += 1;
        }
        let mut a = audit.clone();
        a.details = serde_json::json!({
            "rewrapped": counts.rewrapped,
            "destroyed_skipped": counts.destroyed,
            "details": serde_json::from_str::<serde_json::Value>(&audit.details).unwrap_or_default(),
        })
        .to_string();
        append_tx(&mut tx, &[a])?;
        tx.commit().px()?;
        Ok(counts)
    }

    pub(super) fn vault_event_key_ids(&self, event: EventId) -> Result<Vec<Uuid>, StoreError> {
        let rows = self
            .conn()?
            .query(
                "SELECT k.id FROM event_sealed s JOIN data_keys k ON k.id = s.key_id
                   WHERE s.event_id = $1 AND k.wrapped_key IS NOT NULL
                 UNION
                 SELECT event_id FROM event_sealed
                   WHERE event_id = $1 AND key_id IS NULL AND wrapped_key IS NOT NULL
                 UNION
                 SELECT id FROM events
                   WHERE id = $1 AND sealed_master IS NOT NULL AND sealed_key IS NOT NULL
                 UNION
                 SELECT k.id FROM report_attachments a JOIN data_keys k ON k.id = a.key_id
                   WHERE a.event_id = $1 AND k.wrapped_key IS NOT NULL
                 ORDER BY 1",
                &[&event.as_uuid()],
            )
            .px()?;
        uuids(rows)
    }

    pub(super) fn vault_destroy(
        &self,
        ids: &[Uuid],
        at: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> Result<u64, StoreError> {
        let mut c = self.conn()?;
        let mut tx = c.transaction().px()?;
        let st = tx
            .prepare(
                "UPDATE data_keys SET wrapped_key = NULL, destroyed_at = $2
                 WHERE id = $1 AND wrapped_key IS NOT NULL",
            )
            .px()?;
        let idx = tx
            .prepare("UPDATE event_sealed SET contact_index = NULL WHERE key_id = $1")
            .px()?;
        // A report's key kept on its row has the event's id.
        let inline = tx
            .prepare(
                "UPDATE event_sealed SET wrapped_key = NULL, key_destroyed_at = $2, contact_index = NULL
                 WHERE event_id = $1 AND key_id IS NULL AND wrapped_key IS NOT NULL",
            )
            .px()?;
        let at_time = at;
        let at = audit::at_text(&at);
        let mut n = 0;
        for id in ids {
            n += tx.execute(&st, &[id, &at]).px()?;
            tx.execute(&idx, &[id]).px()?;
            n += tx.execute(&inline, &[id, &at]).px()?;
            n += sealed_inline::destroy(&mut tx, *id, at_time)?;
        }
        if !audit.is_empty() {
            append_tx(&mut tx, audit)?;
        }
        tx.commit().px()?;
        Ok(n)
    }

    pub(super) fn vault_find_contact(
        &self,
        index: &[u8],
        audit: &AuditDraft,
    ) -> Result<Vec<EventId>, StoreError> {
        let mut c = self.conn()?;
        let mut tx = c.transaction().px()?;
        let rows = tx
            .query(
                "SELECT event_id FROM event_sealed WHERE contact_index = $1 ORDER BY event_id",
                &[&index],
            )
            .px()?;
        let mut ids = uuids(rows)?;
        ids.extend(sealed_inline::find_contact(&mut tx, index)?);
        ids.sort();
        append_tx(&mut tx, std::slice::from_ref(audit))?;
        tx.commit().px()?;
        Ok(ids.into_iter().map(EventId::from_uuid).collect())
    }

    pub(super) fn vault_personal_due(
        &self,
        before: DateTime<Utc>,
    ) -> Result<Vec<EventId>, StoreError> {
        let rows = self
            .conn()?
            .query(
                "SELECT e.id FROM events e JOIN event_sealed s ON s.event_id = e.id
                   LEFT JOIN data_keys k ON k.id = s.key_id
                 WHERE (CASE WHEN s.key_id IS NULL THEN s.wrapped_key ELSE k.wrapped_key END) IS NOT NULL
                   AND e.status <> 'unverified' AND e.updated_at < $1
                 UNION
                 SELECT e.id FROM events e
                 WHERE e.sealed_master IS NOT NULL AND e.sealed_key IS NOT NULL
                   AND e.status <> 'unverified' AND e.updated_at < $1
                 ORDER BY 1",
                &[&before],
            )
            .px()?;
        Ok(uuids(rows)?.into_iter().map(EventId::from_uuid).collect())
    }

    pub(super) fn vault_attachments_due(
        &self,
        before: DateTime<Utc>,
    ) -> Result<Vec<RetentionCandidate>, StoreError> {
        self.conn()?
            .query(
                "SELECT a.event_id, k.id FROM report_attachments a JOIN data_keys k ON k.id = a.key_id
                 WHERE k.wrapped_key IS NOT NULL AND a.received_at < $1 ORDER BY a.event_id, k.id",
                &[&before],
            )
            .px()?
            .iter()
            .map(|r| {
                Ok(RetentionCandidate {
                    event: EventId::from_uuid(r.try_get(0).px()?),
                    key_id: r.try_get(1).px()?,
                })
            })
            .collect()
    }

    pub(super) fn vault_append(&self, drafts: &[AuditDraft]) -> Result<AuditHead, StoreError> {
        let mut c = self.conn()?;
        let mut tx = c.transaction().px()?;
        let h = append_tx(&mut tx, drafts)?;
        tx.commit().px()?;
        Ok(h)
    }

    pub(super) fn vault_head(&self) -> Result<AuditHead, StoreError> {
        head(&mut *self.conn()?)
    }

    pub(super) fn vault_scan_audit(
        &self,
        f: &mut dyn FnMut(&AuditEntry) -> Result<(), StoreError>,
    ) -> Result<AuditHead, StoreError> {
        let mut c = self.conn()?;
        let mut tx = c
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .px()?;
        let h = head(&mut tx)?;
        let mut after = 0i64;
        loop {
            let rows = tx
                .query(
                    "SELECT seq, at, actor, action, target_type, target_id, details, prev_hash, hash
                     FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 5000",
                    &[&after],
                )
                .px()?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let e = AuditEntry {
                    seq: r.try_get(0).px()?,
                    draft: AuditDraft {
                        at: parse_ts(&r.try_get::<_, String>(1).px()?)?,
                        actor: r.try_get(2).px()?,
                        action: r.try_get(3).px()?,
                        target_type: r.try_get(4).px()?,
                        target_id: r.try_get(5).px()?,
                        details: r.try_get(6).px()?,
                    },
                    prev_hash: r.try_get(7).px()?,
                    hash: r.try_get(8).px()?,
                };
                after = e.seq;
                f(&e)?;
            }
        }
        tx.commit().px()?;
        Ok(h)
    }
}
