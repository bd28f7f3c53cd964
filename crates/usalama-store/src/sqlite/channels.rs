//! The SQLite side of the channels: reports with their receipts and attachments stored in
//! one transaction, report status by reference, and installation settings.

use super::{
    insert_event, map_err, parse_ts, sealed_inline, ts, uuid_col, vault, SqliteStore, Sx,
    INSERT_EVENT,
};
use crate::error::StoreError;
use crate::intake::{NewReport, ReportReceipt, StoredAttachment, StoredReport};
use crate::rows::EventRow;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use usalama_domain::{Event, EventId};
use uuid::Uuid;

/// Reports from which a call gets a larger page cache for its transaction.
const LARGE_BATCH: usize = 1_000;
/// That cache, in KiB (64 MiB; connections keep their usual cache otherwise).
const LARGE_BATCH_CACHE_KIB: i64 = 65_536;
/// The connections' usual page cache, in KiB (as set when they open).
const USUAL_CACHE_KIB: i64 = super::CONNECTION_CACHE_KIB;

impl SqliteStore {
    pub(super) fn channels_insert_reports(
        &self,
        reports: &[NewReport],
    ) -> Result<Vec<StoredReport>, StoreError> {
        let mut c = self.conn()?;
        // Every reference a report's rows make is to a row the store itself gave: a
        // locality of the place index, the caller's organisation, the event written (or,
        // for a resubmission, found) just before its receipt in the same transaction;
        // localities and organisations are never deleted. SQLite's checks of them, a lookup
        // in the parent table for each of up to seven references per report, are switched
        // off for the transaction, as for a bulk import: 8 % less time per batch of 10,000
        // (BENCHMARKS.md, thirtieth session).
        //
        // A large batch also touches pages all over the events table's ten indexes: with
        // the usual cache they are evicted and read again (or spilled to the WAL) within
        // the transaction. The connection gets 64 MiB for it, then its usual cache back.
        let cache = if reports.len() < LARGE_BATCH {
            USUAL_CACHE_KIB
        } else {
            LARGE_BATCH_CACHE_KIB
        };
        c.execute_batch(&format!(
            "PRAGMA foreign_keys = OFF; PRAGMA cache_size = -{cache};"
        ))
        .sx()?;
        let out = insert_reports_tx(&mut c, reports);
        let reset = c
            .execute_batch(&format!(
                "PRAGMA foreign_keys = ON; PRAGMA cache_size = -{USUAL_CACHE_KIB};"
            ))
            .sx();
        let out = out?;
        reset?;
        Ok(out)
    }

    pub(super) fn channels_report_status(
        &self,
        reference: &str,
    ) -> Result<Option<String>, StoreError> {
        self.conn()?
            .query_row(
                "SELECT e.status FROM report_receipts r JOIN events e ON e.id = r.event_id WHERE r.reference = ?1",
                [reference],
                |r| r.get(0),
            )
            .optional()
            .sx()
    }

    pub(super) fn channels_get_receipt(
        &self,
        event: EventId,
    ) -> Result<Option<ReportReceipt>, StoreError> {
        self.conn()?
            .query_row(
                "SELECT reference, channel, received_at, sender_hash, raw_text FROM report_receipts WHERE event_id = ?1",
                [event.as_uuid()],
                |r| {
                    Ok(ReportReceipt {
                        reference: r.get(0)?,
                        channel: r.get(1)?,
                        received_at: parse_ts(&r.get::<_, String>(2)?)?,
                        sender_hash: r.get(3)?,
                        raw_text: r.get(4)?,
                    })
                },
            )
            .optional()
            .sx()
    }

    pub(super) fn channels_list_attachments(
        &self,
        event: EventId,
    ) -> Result<Vec<StoredAttachment>, StoreError> {
        let c = self.conn()?;
        let mut st = c
            .prepare(
                "SELECT file_name, content_type, sha256, bytes, received_at, key_id FROM report_attachments
                 WHERE event_id = ?1 ORDER BY file_name",
            )
            .sx()?;
        let rows = st
            .query_map([event.as_uuid()], |r| {
                Ok(StoredAttachment {
                    file_name: r.get(0)?,
                    content_type: r.get(1)?,
                    sha256: r.get(2)?,
                    bytes: r.get(3)?,
                    received_at: parse_ts(&r.get::<_, String>(4)?)?,
                    key_id: r.get(5)?,
                })
            })
            .sx()?;
        rows.collect::<Result<Vec<_>, _>>().map_err(map_err)
    }

    pub(super) fn channels_ensure_setting(
        &self,
        key: &str,
        initial: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Vec<u8>, StoreError> {
        let mut c = self.conn()?;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sx()?;
        tx.execute(
            "INSERT INTO settings (key, value, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (key) DO NOTHING",
            params![key, initial, ts(&now)],
        )
        .sx()?;
        let v: Vec<u8> = tx
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .sx()?;
        tx.commit().sx()?;
        Ok(v)
    }
}

/// Inserts reports in one immediate transaction on `c` (see [`SqliteStore::channels_insert_reports`]).
fn insert_reports_tx(
    c: &mut rusqlite::Connection,
    reports: &[NewReport],
) -> Result<Vec<StoredReport>, StoreError> {
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .sx()?;
    // Written in date order (then event-id order), so that consecutive rows enter the
    // date-ordered indexes (by date; by category, status, source or province, then date) at
    // neighbouring places: 16 % less time inserting 10,000 reports into a store of 1,120,000
    // events than in event-id order, 3-14 % less per batch through HTTP (BENCHMARKS.md,
    // twenty-seventh session). Answered and audited in the caller's order. Reports with one
    // external id are written together in the order sent (under the key of the first, the
    // sort being stable), so the first sent is the stored one and the later ones its
    // resubmissions.
    let key = |e: &Event| (e.occurred_end, e.id.as_uuid());
    let mut first: HashMap<(&str, &str), (NaiveDate, Uuid)> = HashMap::new();
    for r in reports {
        let e = &r.event.event;
        if let Some(x) = &e.external_id {
            first.entry((&e.source, x)).or_insert(key(e));
        }
    }
    let mut order: Vec<usize> = (0..reports.len()).collect();
    order.sort_by_key(|&i| {
        let e = &reports[i].event.event;
        match &e.external_id {
            Some(x) => first[&(e.source.as_str(), x.as_str())],
            None => key(e),
        }
    });
    let mut out: Vec<Option<StoredReport>> = (0..reports.len()).map(|_| None).collect();
    // One audit entry per report, appended together (one read and one update of the
    // chain's head) in the same transaction.
    let mut audit: Vec<Option<crate::audit::AuditDraft>> =
        (0..reports.len()).map(|_| None).collect();
    {
        let mut find_ext = tx
            .prepare("SELECT id FROM events WHERE source = ?1 AND external_id = ?2")
            .sx()?;
        let mut ins = tx.prepare(INSERT_EVENT).sx()?;
        let mut ins_sealed = tx.prepare(sealed_inline::insert_sql()).sx()?;
        let mut receipt = tx
            .prepare(
                "INSERT INTO report_receipts (event_id, reference, channel, received_at, sender_hash, raw_text)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (event_id) DO NOTHING",
            )
            .sx()?;
        let mut reference = tx
            .prepare("SELECT reference FROM report_receipts WHERE event_id = ?1")
            .sx()?;
        let mut attach = tx
            .prepare(
                "INSERT INTO report_attachments (event_id, file_name, content_type, size, sha256, bytes, received_at, key_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (event_id, file_name) DO NOTHING",
            )
            .sx()?;
        for &i in &order {
            let r = &reports[i];
            let row = EventRow::from_placed(&r.event);
            let existing = match &row.external_id {
                Some(x) => find_ext
                    .query_row(params![row.source, x], |r| uuid_col(r, 0))
                    .optional()
                    .sx()?,
                None => None,
            };
            let id = match existing {
                Some(id) => id,
                None => {
                    let hash = row.content_hash();
                    match &r.sealed {
                        // The key is the event's: kept on the event's row (0012).
                        Some(sealed) if sealed.key.id == row.id => {
                            if !sealed_inline::insert(&mut ins_sealed, &row, &hash, sealed)? {
                                vault::insert_sealed(&tx, row.id, sealed)?;
                            }
                        }
                        Some(sealed) => {
                            insert_event(&mut ins, &row, &hash)?;
                            vault::insert_sealed(&tx, row.id, sealed)?;
                        }
                        None => {
                            insert_event(&mut ins, &row, &hash)?;
                        }
                    }
                    row.id
                }
            };
            let rc = &r.receipt;
            let fresh = receipt
                .execute(params![
                    id,
                    rc.reference,
                    rc.channel,
                    ts(&rc.received_at),
                    rc.sender_hash,
                    rc.raw_text
                ])
                .sx()?;
            // A receipt written now holds this reference; else read the stored one.
            let stored_ref: String = if fresh == 1 {
                rc.reference.clone()
            } else {
                reference.query_row([id], |r| r.get(0)).sx()?
            };
            let mut added = 0;
            for (i, a) in r.attachments.iter().enumerate() {
                let key = r.sealed.as_ref().and_then(|s| s.attachment_keys.get(i));
                if let Some(k) = key {
                    vault::insert_key(&tx, k)?;
                }
                let n = attach
                    .execute(params![
                        id,
                        a.file_name,
                        a.content_type,
                        a.bytes.len() as i64,
                        Sha256::digest(&a.bytes).to_vec(),
                        a.bytes,
                        ts(&rc.received_at),
                        key.map(|k| k.id)
                    ])
                    .sx()? as u64;
                if n == 0 {
                    if let Some(k) = key {
                        tx.execute("DELETE FROM data_keys WHERE id = ?1", [k.id])
                            .sx()?;
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
            audit[i] = Some(r.audit_draft(&stored));
            out[i] = Some(stored);
        }
    }
    let audit: Vec<crate::audit::AuditDraft> = audit.into_iter().flatten().collect();
    vault::append_tx(&tx, &audit)?;
    tx.commit().sx()?;
    Ok(out.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::PlacedEvent;
    use usalama_domain::{Channel, Dimension, LocalityPath, VerificationStatus};
    use usalama_test_support::{event, t0, taxonomy};

    /// A new report `n` under `reference`.
    fn report(n: u32, reference: &str) -> NewReport {
        let mut d = event(n, "2023-05-01", "armed_violence", Dimension::Lives);
        d.id = EventId::derived(&format!("report:{n}"));
        d.source = "api".into();
        d.external_id = None;
        d.channel = Channel::Api;
        d.status = VerificationStatus::Unverified;
        NewReport {
            event: PlacedEvent {
                event: d.validate(&taxonomy()).unwrap(),
                path: LocalityPath::default(),
            },
            receipt: ReportReceipt {
                reference: reference.into(),
                channel: "api".into(),
                received_at: t0(),
                sender_hash: None,
                raw_text: None,
            },
            attachments: Vec::new(),
            sealed: None,
        }
    }

    /// Reports are written with SQLite's foreign-key checks off: every connection goes
    /// back to the pool with them on and its usual cache, after a large batch written and
    /// after a batch refused.
    #[test]
    fn every_connection_keeps_its_foreign_key_checks_after_reports() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_file(&dir.path().join(super::super::DB_FILE)).unwrap();
        let many: Vec<NewReport> = (0..LARGE_BATCH as u32)
            .map(|n| report(n, &format!("R{n}")))
            .collect();
        assert_eq!(
            store.channels_insert_reports(&many).unwrap().len(),
            LARGE_BATCH
        );
        // Two new reports under one reference: the second breaks its unique key.
        let refused =
            store.channels_insert_reports(&[report(5_000, "SAME"), report(5_001, "SAME")]);
        assert!(refused.is_err());
        assert_eq!(
            store.channels_report_status("SAME").unwrap(),
            None,
            "rolled back"
        );
        let pool: Vec<_> = (0..crate::POOL_CONNECTIONS)
            .map(|_| store.conn().unwrap())
            .collect();
        for c in &pool {
            let on: i64 = c
                .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
                .unwrap();
            let cache: i64 = c.query_row("PRAGMA cache_size", [], |r| r.get(0)).unwrap();
            assert_eq!((on, cache), (1, -USUAL_CACHE_KIB));
        }
    }
}
