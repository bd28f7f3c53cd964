//! The PostgreSQL side of sealing what older versions kept in clear: personal data of
//! reports stored before encryption at rest (migration 0005) and TOTP secrets enrolled
//! before migration 0007. Each call is one transaction under an advisory lock, so servers
//! starting together do not seal the same rows twice.

use super::{event_columns, event_row, vault, PgStore, Px};
use crate::audit::AuditDraft;
use crate::error::StoreError;
use crate::sqlite::legacy::{scrubbed_snapshot, with_count};
use crate::vault::{LegacyPersonal, SealedReport};
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
     ORDER BY e.id LIMIT $1";

/// The advisory lock serialising the sealing of clear values.
const LEGACY_LOCK: i64 = 7_215_507;

impl PgStore {
    pub(super) fn legacy_seal_personal(
        &self,
        limit: usize,
        seal: &mut dyn FnMut(&LegacyPersonal) -> Result<SealedReport, String>,
        audit: &AuditDraft,
    ) -> Result<u64, StoreError> {
        let mut c = self.conn()?;
        let mut tx = c.transaction().px()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LEGACY_LOCK])
            .px()?;
        let found = tx
            .query(LEGACY_PERSONAL, &[&(limit as i64)])
            .px()?
            .iter()
            .map(|r| {
                Ok(LegacyPersonal {
                    event: EventId::from_uuid(r.try_get(0)?),
                    people: r.try_get(1)?,
                    reporter_contact: r.try_get(2)?,
                    raw_text: r.try_get(3)?,
                })
            })
            .collect::<Result<Vec<_>, postgres::Error>>()
            .px()?;
        if found.is_empty() {
            return Ok(0);
        }
        let select = format!("SELECT {} FROM events e WHERE e.id = $1", event_columns());
        for l in &found {
            let id = l.event.as_uuid();
            let sealed = seal(l).map_err(|reason| StoreError::InvalidRecord {
                id: format!("events.{id}"),
                reason,
            })?;
            vault::insert_sealed(&mut tx, id, &sealed)?;
            let r = tx.query_one(&select, &[&id]).px()?;
            let mut row = event_row(&r)?;
            Self::load_actors(&mut tx, std::slice::from_mut(&mut row))?;
            row.people = "[]".into();
            row.reporter_contact = None;
            tx.execute(
                "UPDATE events SET people = '[]', reporter_contact = NULL, content_hash = $2 WHERE id = $1",
                &[&id, &row.content_hash()],
            )
            .px()?;
            tx.execute(
                "UPDATE report_receipts SET raw_text = NULL WHERE event_id = $1",
                &[&id],
            )
            .px()?;
            let history = tx
                .query(
                    "SELECT id, previous::text FROM event_history WHERE event_id = $1",
                    &[&id],
                )
                .px()?;
            for h in history {
                let hid: i64 = h.try_get(0).px()?;
                let previous: String = h.try_get(1).px()?;
                if let Some(clean) = scrubbed_snapshot(&previous)? {
                    tx.execute(
                        "UPDATE event_history SET previous = $2::text::jsonb WHERE id = $1",
                        &[&hid, &clean],
                    )
                    .px()?;
                }
            }
        }
        let n = found.len() as u64;
        vault::append_tx(&mut tx, &[with_count(audit, "reports", n)])?;
        tx.commit().px()?;
        Ok(n)
    }

    pub(super) fn legacy_seal_totp(
        &self,
        seal: &mut crate::vault::SecretSealer<'_>,
        audit: &AuditDraft,
    ) -> Result<u64, StoreError> {
        let mut c = self.conn()?;
        let mut tx = c.transaction().px()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LEGACY_LOCK])
            .px()?;
        let found = tx
            .query(
                "SELECT id, totp_secret FROM users WHERE totp_secret IS NOT NULL ORDER BY id",
                &[],
            )
            .px()?
            .iter()
            .map(|r| Ok((r.try_get::<_, Uuid>(0)?, r.try_get::<_, Vec<u8>>(1)?)))
            .collect::<Result<Vec<_>, postgres::Error>>()
            .px()?;
        if found.is_empty() {
            return Ok(0);
        }
        for (id, secret) in &found {
            let sealed = seal(*id, secret).map_err(|reason| StoreError::InvalidRecord {
                id: format!("users.{id}"),
                reason,
            })?;
            tx.execute(
                "UPDATE users SET totp_sealed = $2, totp_secret = NULL WHERE id = $1",
                &[id, &sealed],
            )
            .px()?;
        }
        let n = found.len() as u64;
        vault::append_tx(&mut tx, &[with_count(audit, "accounts", n)])?;
        tx.commit().px()?;
        Ok(n)
    }

    pub(super) fn legacy_purge_free_space(&self) -> Result<(), StoreError> {
        // Not in a transaction: `VACUUM` refuses to run in one.
        self.conn()?
            .batch_execute("VACUUM FULL events, report_receipts, event_history, users")
            .px()
    }
}
