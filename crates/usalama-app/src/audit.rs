//! The audit log's use-cases: checking the chain (optionally against a checkpoint),
//! reading the head to keep as a checkpoint, and recording use-cases whose own writes span
//! several transactions (imports, accounts and tokens) right after them.

use crate::auth::Principal;
use crate::error::AppError;
use crate::personal::actor;
use crate::App;
use usalama_domain::Role;
use usalama_store::{AuditDraft, AuditHead, ChainBreak, ChainVerifier, StoreError};

/// What checking the audit log found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditCheck {
    /// The chain is whole (and extends the checkpoint, when one was given).
    Intact {
        /// Entries checked.
        entries: u64,
        /// The head.
        head: AuditHead,
    },
    /// The chain is broken: the first entry at fault.
    Broken(ChainBreak),
}

impl App {
    fn require_auditor(&self, who: &Principal) -> Result<(), AppError> {
        match who.role() {
            None => Err(AppError::Unauthenticated),
            Some(Role::Admin | Role::OmbudsmanOfficer) => Ok(()),
            Some(r) => Err(AppError::Forbidden(r.as_str().into())),
        }
    }

    /// Checks the whole audit log: sequence without gaps, each entry's hash over its
    /// content and its predecessor's hash, the recorded head, and — when given — that
    /// the log contains and extends `checkpoint` (which detects a log cut short).
    pub fn verify_audit(
        &self,
        who: &Principal,
        checkpoint: Option<AuditHead>,
    ) -> Result<AuditCheck, AppError> {
        self.require_auditor(who)?;
        let mut v = ChainVerifier::new(checkpoint);
        let mut n = 0u64;
        let mut broken: Option<ChainBreak> = None;
        let scanned = self.store.scan_audit(&mut |e| {
            n += 1;
            v.push(e).map_err(|b| {
                broken = Some(b);
                StoreError::Conflict("audit chain broken".into())
            })
        });
        if let Some(b) = broken {
            return Ok(AuditCheck::Broken(b));
        }
        let stored_head = match scanned {
            Ok(h) => h,
            Err(StoreError::Backend(m)) if m.starts_with("bad time") => {
                return Ok(AuditCheck::Broken(ChainBreak {
                    seq: n as i64 + 1,
                    reason: format!("unreadable ({m})"),
                }))
            }
            Err(e) => return Err(e.into()),
        };
        Ok(match v.finish(&stored_head) {
            Ok(head) => AuditCheck::Intact { entries: n, head },
            Err(b) => AuditCheck::Broken(b),
        })
    }

    /// The head of the audit log, to keep as a checkpoint.
    pub fn audit_checkpoint(&self, who: &Principal) -> Result<AuditHead, AppError> {
        self.require_auditor(who)?;
        Ok(self.store.audit_head()?)
    }

    /// Appends one entry for a use-case done by `who`.
    pub(crate) fn audit(
        &self,
        who: &Principal,
        action: &str,
        target: (&str, String),
        details: serde_json::Value,
    ) -> Result<(), AppError> {
        self.store.append_audit(&[AuditDraft::new(
            self.now(),
            actor(who),
            action,
            target,
            details,
        )])?;
        Ok(())
    }
}
