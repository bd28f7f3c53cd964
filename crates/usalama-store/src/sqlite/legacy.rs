//! The SQLite side of sealing what older versions kept in clear: personal data of reports
//! stored before encryption at rest (migration 0005) and TOTP secrets enrolled before
//! migration 0007. Each call is one `BEGIN IMMEDIATE` transaction.

use super::{checkpoint_truncate, event_row, map_err, uuid_col, vault, SqliteStore, Sx};
use crate::audit::AuditDraft;
use crate::error::StoreError;
use crate::rows::EventRow;
use crate::vault::{LegacyPersonal, SealedReport};
use rusqlite::{params, TransactionBehavior};
use usalama_domain::EventId;
use uuid::Uuid;

/// Reports with personal data in clear and no sealed fields (neither an `event_sealed`
/// row nor sealed columns on the event's row, migration 0012), oldest id first (the partial
/// indexes of migration 0007 hold exactly the candidates).
const LEGACY_PERSONAL: &str = "SELECT e.id, e.people, e.reporter_contact, r.raw_text
     FROM events e LEFT JOIN report_receipts r ON r.event_id = e.id
     WHERE e.id IN (SELECT id FROM events WHERE people <> '[]' OR reporter_contact IS NOT NULL
                    UNION SELECT event_id FROM report_receipts WHERE raw_text IS NOT NULL)
       AND NOT EXISTS (SELECT 1 FROM event_sealed s WHERE s.event_id = e.id)
       AND e.sealed_master IS NULL
     ORDER BY e.id LIMIT ?1";

/// The audit entry's details with the count added.
pub(crate) fn with_count(audit: &AuditDraft, key: &str, n: u64) -> AuditDraft {
    let mut a = audit.clone();
    let mut d: serde_json::Value = serde_json::from_str(&audit.details).unwrap_or_default();
    if !d.is_object() {
        d = serde_json::json!({});
    }
    d[key] = serde_json::json!(n);
    a.details = d.to_string();
    a
}

/// A history snapshot without people or contact; `None` when it held none.
pub(crate) fn scrubbed_snapshot(previous: &str) -> Result<Option<String>, StoreError> {
    let mut row: EventRow =
        serde_json::from_str(previous).map_err(|e| StoreError::Backend(e.to_string()))?;
    if row.people == "[]" && row.reporter_contact.is_none() {
        return Ok(None);
    }
    row.people = "[]".into();
    row.reporter_contact = None;
    Ok(Some(row.to_json()))
}

impl SqliteStore {
    pub(super) fn legacy_seal_personal(
        &self,
        limit: usize,
        seal: &mut dyn FnMut(&LegacyPersonal) -> Result<SealedReport, String>,
        audit: &AuditDraft,
    ) -> Result<u64, StoreError> {
        let mut c = self.conn()?;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sx()?;
        let found = {
            let mut st = tx.prepare(LEGACY_PERSONAL).sx()?;
            let rows = st
                .query_map([limit as i64], |r| {
                    Ok(LegacyPersonal {
                        event: EventId::from_uuid(uuid_col(r, 0)?),
                        people: r.get(1)?,
                        reporter_contact: r.get(2)?,
                        raw_text: r.get(3)?,
                    })
                })
                .sx()?;
            rows.collect::<Result<Vec<_>, _>>().map_err(map_err)?
        };
        if found.is_empty() {
            return Ok(0);
        }
        let select = format!(
            "SELECT {} FROM events e WHERE e.id = ?1",
            crate::sql::EVENT_COLUMNS
        );
        for l in &found {
            let id = l.event.as_uuid();
            let sealed = seal(l).map_err(|reason| StoreError::InvalidRecord {
                id: format!("events.{id}"),
                reason,
            })?;
            vault::insert_sealed(&tx, id, &sealed)?;
            let mut row = tx
                .prepare_cached(&select)
                .sx()?
                .query_row([id], event_row)
                .sx()?;
            self.load_actors(&tx, std::slice::from_mut(&mut row))?;
            row.people = "[]".into();
            row.reporter_contact = None;
            tx.prepare_cached(
                "UPDATE events SET people = '[]', reporter_contact = NULL, content_hash = ?2 WHERE id = ?1",
            )
            .sx()?
            .execute(params![id, row.content_hash()])
            .sx()?;
            tx.prepare_cached("UPDATE report_receipts SET raw_text = NULL WHERE event_id = ?1")
                .sx()?
                .execute([id])
                .sx()?;
            let history: Vec<(i64, String)> = {
                let mut st = tx
                    .prepare_cached("SELECT id, previous FROM event_history WHERE event_id = ?1")
                    .sx()?;
                let rows = st.query_map([id], |r| Ok((r.get(0)?, r.get(1)?))).sx()?;
                rows.collect::<Result<Vec<_>, _>>().map_err(map_err)?
            };
            for (hid, previous) in history {
                if let Some(clean) = scrubbed_snapshot(&previous)? {
                    tx.prepare_cached("UPDATE event_history SET previous = ?2 WHERE id = ?1")
                        .sx()?
                        .execute(params![hid, clean])
                        .sx()?;
                }
            }
        }
        let n = found.len() as u64;
        vault::append_tx(&tx, &[with_count(audit, "reports", n)])?;
        tx.commit().sx()?;
        checkpoint_truncate(&c)?;
        Ok(n)
    }

    pub(super) fn legacy_seal_totp(
        &self,
        seal: &mut crate::vault::SecretSealer<'_>,
        audit: &AuditDraft,
    ) -> Result<u64, StoreError> {
        let mut c = self.conn()?;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sx()?;
        let found: Vec<(Uuid, Vec<u8>)> = {
            let mut st = tx
                .prepare(
                    "SELECT id, totp_secret FROM users WHERE totp_secret IS NOT NULL ORDER BY id",
                )
                .sx()?;
            let rows = st
                .query_map([], |r| Ok((uuid_col(r, 0)?, r.get(1)?)))
                .sx()?;
            rows.collect::<Result<Vec<_>, _>>().map_err(map_err)?
        };
        if found.is_empty() {
            return Ok(0);
        }
        for (id, secret) in &found {
            let sealed = seal(*id, secret).map_err(|reason| StoreError::InvalidRecord {
                id: format!("users.{id}"),
                reason,
            })?;
            tx.execute(
                "UPDATE users SET totp_sealed = ?2, totp_secret = NULL WHERE id = ?1",
                params![id, sealed],
            )
            .sx()?;
        }
        let n = found.len() as u64;
        vault::append_tx(&tx, &[with_count(audit, "accounts", n)])?;
        tx.commit().sx()?;
        checkpoint_truncate(&c)?;
        Ok(n)
    }

    pub(super) fn legacy_purge_free_space(&self) -> Result<(), StoreError> {
        let c = self.conn()?;
        c.execute_batch("VACUUM").sx()?;
        checkpoint_truncate(&c)
    }
}
