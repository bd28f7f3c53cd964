//! Erasure, retention and key rotation.
//!
//! Erasing a record destroys its data keys (crypto-shredding): the ciphertexts stay but
//! can no longer be opened. The ids of destroyed keys are first written to the
//! [`ErasureLedger`](crate::vault::ErasureLedger), kept outside the database, and
//! [`App::reapply_erasures`] destroys them again in a database restored from a backup
//! taken before the erasure. The audit trail of an erasure remains.

use crate::auth::Principal;
use crate::error::AppError;
use crate::personal::actor;
use crate::vault::{self, Keyring, MasterKey};
use crate::App;
use chrono::Duration;
use std::collections::BTreeSet;
use usalama_domain::{EventId, Role};
use usalama_store::{AuditDraft, RewrapCounts};

/// How long personal data is kept, by kind of record. `None` keeps it until erased.
/// Audit entries are never deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetentionPolicy {
    /// Days a report's personal data (people, contact, sensitive text and point, the SMS
    /// as received) is kept after its event was decided (verified, rejected or merged).
    pub personal_data_days: Option<u32>,
    /// Days an attachment is kept after it was received.
    pub attachment_days: Option<u32>,
}

/// What applying retention did (or would do, in a dry run).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Reports whose personal data was (or would be) erased.
    pub reports: Vec<EventId>,
    /// Attachments whose key was (or would be) destroyed.
    pub attachments: u64,
    /// Data keys destroyed now (0 in a dry run).
    pub keys_destroyed: u64,
}

impl App {
    /// Administrators (and the operator) only: the vault's keys, erasure and the store's
    /// secrets.
    pub(crate) fn require_vault_admin(&self, who: &Principal) -> Result<(), AppError> {
        match who.role() {
            None => Err(AppError::Unauthenticated),
            Some(Role::Admin) => Ok(()),
            Some(r) => Err(AppError::Forbidden(r.as_str().into())),
        }
    }

    fn destroy(&self, ids: &[uuid::Uuid], audit: &[AuditDraft]) -> Result<u64, AppError> {
        if ids.is_empty() && audit.is_empty() {
            return Ok(0);
        }
        // The ledger first: if the database write fails, re-applying is harmless.
        self.vault
            .ledger
            .record(ids)
            .map_err(|e| AppError::Sealed(format!("cannot record the erasure: {e}")))?;
        Ok(self.store.destroy_data_keys(ids, self.now(), audit)?)
    }

    /// Erases the personal data of a report (administrators): destroys its data key and
    /// its attachments' keys. Returns how many keys were destroyed (0 when already
    /// erased or when it had none). The erasure is audited; the event itself stays.
    pub fn erase_event(
        &self,
        who: &Principal,
        id: EventId,
        reason: Option<&str>,
    ) -> Result<u64, AppError> {
        self.require_vault_admin(who)?;
        if self.store.get_event(id)?.is_none() {
            return Err(AppError::NotFound("event"));
        }
        let ids = self.store.event_key_ids(id)?;
        let audit = AuditDraft::new(
            self.now(),
            actor(who),
            "event.erase",
            ("event", id.to_string()),
            serde_json::json!({"keys": ids.len(), "reason_given": reason.is_some_and(|r| !r.trim().is_empty())}),
        );
        self.destroy(&ids, &[audit])
    }

    /// Applies a retention policy (administrators). A dry run changes nothing.
    pub fn apply_retention(
        &self,
        who: &Principal,
        policy: &RetentionPolicy,
        dry_run: bool,
    ) -> Result<RetentionReport, AppError> {
        self.require_vault_admin(who)?;
        let now = self.now();
        let mut report = RetentionReport::default();
        let mut keys = BTreeSet::new();
        if let Some(days) = policy.personal_data_days {
            let before = now - Duration::days(i64::from(days));
            for e in self.store.personal_data_due(before)? {
                keys.extend(self.store.event_key_ids(e)?);
                report.reports.push(e);
            }
        }
        if let Some(days) = policy.attachment_days {
            let before = now - Duration::days(i64::from(days));
            for c in self.store.attachments_due(before)? {
                if keys.insert(c.key_id) {
                    report.attachments += 1;
                }
            }
        }
        if dry_run || keys.is_empty() {
            return Ok(report);
        }
        let ids: Vec<_> = keys.into_iter().collect();
        let audit = AuditDraft::new(
            now,
            actor(who),
            "retention.apply",
            ("retention", "policy".into()),
            serde_json::json!({
                "reports": report.reports.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
                "attachments": report.attachments,
                "keys": ids.len(),
                "personal_data_days": policy.personal_data_days,
                "attachment_days": policy.attachment_days,
            }),
        );
        report.keys_destroyed = self.destroy(&ids, &[audit])?;
        Ok(report)
    }

    /// Destroys again every key the erasure ledger names that is still live (after a
    /// restore from a backup older than an erasure). Run at start-up; returns how many.
    pub fn reapply_erasures(&self) -> Result<u64, AppError> {
        let ids = self
            .vault
            .ledger
            .erased()
            .map_err(|e| AppError::Sealed(format!("cannot read the erasure ledger: {e}")))?;
        if ids.is_empty() {
            return Ok(0);
        }
        let n = self.store.destroy_data_keys(&ids, self.now(), &[])?;
        if n > 0 {
            self.store.append_audit(&[AuditDraft::new(
                self.now(),
                "system",
                "erasure.reapply",
                ("data_keys", "ledger".into()),
                serde_json::json!({"keys": n}),
            )])?;
        }
        Ok(n)
    }

    /// Rewraps every data key under `next` (a new master key version) in one
    /// transaction; the data is not re-encrypted. From then on the keyring holds `next`
    /// (and the previous keys, until the caller drops the old key file). Audited.
    pub fn rotate_master_key(
        &self,
        who: &Principal,
        next: MasterKey,
    ) -> Result<RewrapCounts, AppError> {
        self.require_vault_admin(who)?;
        let ring = self.keyring()?;
        // The next key may already be in the ring when an interrupted rotation is resumed.
        let resumed = ring.get(next.version()) == Some(&next);
        let older = ring
            .versions()
            .filter(|v| *v != next.version())
            .max()
            .unwrap_or(0);
        if !resumed && next.version() <= ring.current().version() || next.version() <= older {
            return Err(AppError::invalid(
                "version",
                format!(
                    "the new master key must have a version above {}",
                    older.max(ring.current().version())
                ),
            ));
        }
        let audit = AuditDraft::new(
            self.now(),
            actor(who),
            "keys.rotate",
            ("master_key", next.version().to_string()),
            serde_json::json!({"from_version": older, "to_version": next.version()}),
        );
        let now = self.now();
        let counts = self.store.rewrap_data_keys(
            &mut |rec| {
                let dk = ring
                    .unwrap_key(rec)
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| "destroyed".to_string())?;
                let mut n = vault::wrap_with(&next, rec.id, &rec.purpose, &dk, rec.created_at);
                n.created_at = rec.created_at.min(now);
                Ok(n)
            },
            &audit,
        )?;
        let mut g = self
            .vault
            .ring
            .write()
            .map_err(|_| AppError::Sealed("keyring lock poisoned".into()))?;
        *g = Keyring::new(next);
        Ok(counts)
    }
}
