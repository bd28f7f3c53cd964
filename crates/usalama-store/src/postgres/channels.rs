//! The PostgreSQL side of the channels: reports with their receipts and attachments stored
//! in one transaction, report status by reference, and installation settings.

use super::{insert_event, vault, PgStore, Px, INSERT_EVENT};
use crate::error::StoreError;
use crate::intake::{NewReport, ReportReceipt, StoredAttachment, StoredReport};
use crate::rows::EventRow;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use usalama_domain::EventId;
use uuid::Uuid;

impl PgStore {
    pub(super) fn channels_insert_reports(
        &self,
        reports: &[NewReport],
    ) -> Result<Vec<StoredReport>, StoreError> {
        let mut c = self.conn()?;
        let mut tx = c.transaction().px()?;
        let find_ext = tx
            .prepare("SELECT id FROM events WHERE source = $1 AND external_id = $2")
            .px()?;
        let ins = tx.prepare(INSERT_EVENT).px()?;
        let ins_sealed = tx.prepare(super::sealed_inline::insert_sql()).px()?;
        let receipt = tx
            .prepare(
                "INSERT INTO report_receipts (event_id, reference, channel, received_at, sender_hash, raw_text)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING",
            )
            .px()?;
        let reference = tx
            .prepare("SELECT reference FROM report_receipts WHERE event_id = $1")
            .px()?;
        let attach = tx
            .prepare(
                "INSERT INTO report_attachments (event_id, file_name, content_type, size, sha256, bytes, received_at, key_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (event_id, file_name) DO NOTHING",
            )
            .px()?;
        let mut out = Vec::with_capacity(reports.len());
        // One audit entry per report, appended together (one lock, read and update of the
        // chain's head) in the same transaction.
        let mut audit = Vec::with_capacity(reports.len());
        let rows: Vec<(&NewReport, EventRow, Vec<u8>)> = reports
            .iter()
            .map(|r| {
                let row = EventRow::from_placed(&r.event);
                let hash = row.content_hash();
                (r, row, hash)
            })
            .collect();
        let staged = super::staged::write_new_reports(&mut tx, &rows)?;
        for ((r, row, hash), staged) in rows.iter().zip(staged) {
            if staged {
                let stored = StoredReport {
                    event_id: EventId::from_uuid(row.id),
                    reference: r.receipt.reference.clone(),
                    existed: false,
                    attachments_added: 0,
                };
                audit.push(r.audit_draft(&stored));
                out.push(stored);
                continue;
            }
            let existing: Option<Uuid> = match &row.external_id {
                Some(x) => tx
                    .query_opt(&find_ext, &[&row.source, x])
                    .px()?
                    .map(|r| r.try_get(0))
                    .transpose()
                    .px()?,
                None => None,
            };
            let id = match existing {
                Some(id) => id,
                None => {
                    match &r.sealed {
                        // The key is the event's: kept on the event's row (0012).
                        Some(sealed) if sealed.key.id == row.id => {
                            let new = super::sealed_inline::insert(
                                &mut tx,
                                &ins_sealed,
                                row,
                                hash,
                                sealed,
                            )?;
                            if !new {
                                vault::insert_sealed(&mut tx, row.id, sealed)?;
                            }
                        }
                        Some(sealed) => {
                            insert_event(&mut tx, &ins, row, hash)?;
                            vault::insert_sealed(&mut tx, row.id, sealed)?;
                        }
                        None => {
                            insert_event(&mut tx, &ins, row, hash)?;
                        }
                    }
                    row.id
                }
            };
            let rc = &r.receipt;
            let fresh = tx
                .execute(
                    &receipt,
                    &[
                        &id,
                        &rc.reference,
                        &rc.channel,
                        &rc.received_at,
                        &rc.sender_hash,
                        &rc.raw_text,
                    ],
                )
                .px()?;
            // A receipt written now holds this reference; else read the stored one.
            let stored_ref: String = if fresh == 1 {
                rc.reference.clone()
            } else {
                tx.query_one(&reference, &[&id]).px()?.try_get(0).px()?
            };
            let mut added = 0;
            for (i, a) in r.attachments.iter().enumerate() {
                let key = r.sealed.as_ref().and_then(|s| s.attachment_keys.get(i));
                if let Some(k) = key {
                    vault::insert_key(&mut tx, k)?;
                }
                let n = tx
                    .execute(
                        &attach,
                        &[
                            &id,
                            &a.file_name,
                            &a.content_type,
                            &(a.bytes.len() as i64),
                            &Sha256::digest(&a.bytes).to_vec(),
                            &a.bytes,
                            &rc.received_at,
                            &key.map(|k| k.id),
                        ],
                    )
                    .px()?;
                if n == 0 {
                    if let Some(k) = key {
                        tx.execute("DELETE FROM data_keys WHERE id = $1", &[&k.id])
                            .px()?;
                    }
                }
                added += n;
            }
            let stored = StoredReport {
                event_id: EventId::from_uuid(id),
                reference: stored_ref,
                existed: existing.is_some(),
                attachments_added: added,
            };
            audit.push(r.audit_draft(&stored));
            out.push(stored);
        }
        vault::append_tx(&mut tx, &audit)?;
        tx.commit().px()?;
        Ok(out)
    }

    pub(super) fn channels_report_status(
        &self,
        reference: &str,
    ) -> Result<Option<String>, StoreError> {
        self.conn()?
            .query_opt(
                "SELECT e.status FROM report_receipts r JOIN events e ON e.id = r.event_id WHERE r.reference = $1",
                &[&reference],
            )
            .px()?
            .map(|r| r.try_get(0))
            .transpose()
            .px()
    }

    pub(super) fn channels_get_receipt(
        &self,
        event: EventId,
    ) -> Result<Option<ReportReceipt>, StoreError> {
        let row = self
            .conn()?
            .query_opt(
                "SELECT reference, channel, received_at, sender_hash, raw_text FROM report_receipts WHERE event_id = $1",
                &[&event.as_uuid()],
            )
            .px()?;
        row.map(|r| {
            Ok(ReportReceipt {
                reference: r.try_get(0).px()?,
                channel: r.try_get(1).px()?,
                received_at: r.try_get(2).px()?,
                sender_hash: r.try_get(3).px()?,
                raw_text: r.try_get(4).px()?,
            })
        })
        .transpose()
    }

    pub(super) fn channels_list_attachments(
        &self,
        event: EventId,
    ) -> Result<Vec<StoredAttachment>, StoreError> {
        self.conn()?
            .query(
                "SELECT file_name, content_type, sha256, bytes, received_at, key_id FROM report_attachments
                 WHERE event_id = $1 ORDER BY file_name COLLATE \"C\"",
                &[&event.as_uuid()],
            )
            .px()?
            .iter()
            .map(|r| {
                Ok(StoredAttachment {
                    file_name: r.try_get(0).px()?,
                    content_type: r.try_get(1).px()?,
                    sha256: r.try_get(2).px()?,
                    bytes: r.try_get(3).px()?,
                    received_at: r.try_get(4).px()?,
                    key_id: r.try_get(5).px()?,
                })
            })
            .collect()
    }

    pub(super) fn channels_ensure_setting(
        &self,
        key: &str,
        initial: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Vec<u8>, StoreError> {
        let mut c = self.conn()?;
        let mut tx = c.transaction().px()?;
        tx.execute(
            "INSERT INTO settings (key, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
            &[&key, &initial, &now],
        )
        .px()?;
        let v: Vec<u8> = tx
            .query_one("SELECT value FROM settings WHERE key = $1", &[&key])
            .px()?
            .try_get(0)
            .px()?;
        tx.commit().px()?;
        Ok(v)
    }
}
