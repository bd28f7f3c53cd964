//! Records of encryption at rest as the store keeps them: wrapped data keys, the sealed
//! (encrypted) fields of a report and what erasure and key rotation did. The store only
//! moves bytes: sealing, wrapping and unwrapping happen in the application's vault, so no
//! plaintext personal data and no master key ever reach this crate.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A data key as stored: wrapped by the master key of `master_version`, or destroyed.
#[derive(Clone, PartialEq, Eq)]
pub struct DataKeyRecord {
    /// Its id.
    pub id: Uuid,
    /// `event`, `attachment` or `installation`.
    pub purpose: String,
    /// The wrapped key; `None` once destroyed (erased).
    pub wrapped: Option<Vec<u8>>,
    /// The master key version that wrapped it.
    pub master_version: u32,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was destroyed.
    pub destroyed_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for DataKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKeyRecord")
            .field("id", &self.id)
            .field("purpose", &self.purpose)
            .field("master_version", &self.master_version)
            .field("destroyed_at", &self.destroyed_at)
            .finish_non_exhaustive()
    }
}

/// The sealed personal fields of a report (each `nonce ‖ ciphertext ‖ tag`), under `key`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SealedFields {
    /// People involved (JSON, sealed).
    pub people: Option<Vec<u8>>,
    /// The reporter's contact (sealed).
    pub reporter_contact: Option<Vec<u8>>,
    /// A description marked sensitive (sealed).
    pub description: Option<Vec<u8>>,
    /// An exact point marked sensitive (sealed `lat,lon`).
    pub point: Option<Vec<u8>>,
    /// The SMS as received (sealed).
    pub raw_text: Option<Vec<u8>>,
    /// The keyed blind index of the normalised contact.
    pub contact_index: Option<Vec<u8>>,
    /// The client's address and user agent (sealed JSON), for channels that keep them.
    pub client: Option<Vec<u8>>,
}

impl std::fmt::Debug for SealedFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealedFields(***)")
    }
}

/// What a report brings to seal: its event's data key and fields, and one data key per
/// attachment (in the order of the attachments, whose bytes are then ciphertext).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedReport {
    /// The event's data key. One whose id is the event's id is kept on the report's
    /// `event_sealed` row (one row per report, migration 0009); any other in `data_keys`.
    pub key: DataKeyRecord,
    /// Its sealed fields.
    pub fields: SealedFields,
    /// One key per attachment.
    pub attachment_keys: Vec<DataKeyRecord>,
}

/// A report's sealed fields as read, with its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSealed {
    /// The event.
    pub event: usalama_domain::EventId,
    /// Its data key (destroyed once erased).
    pub key: DataKeyRecord,
    /// Its sealed fields.
    pub fields: SealedFields,
}

/// A wrapping callback and the `settings` row whose legacy key it adopts
/// ([`crate::Store::ensure_data_key`]).
pub type AdoptSetting<'a> = (&'a str, &'a dyn Fn(&[u8]) -> Result<DataKeyRecord, String>);

/// What rewrapping every data key under a new master key did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RewrapCounts {
    /// Keys rewrapped.
    pub rewrapped: u64,
    /// Destroyed keys left as they are.
    pub destroyed: u64,
}

/// A record whose personal data is due for erasure under a retention rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionCandidate {
    /// The event.
    pub event: usalama_domain::EventId,
    /// Its data key (or the attachment's).
    pub key_id: Uuid,
}

/// The audit entries of verification writes, appended in their transactions.
mod verification_audit {
    use crate::audit::AuditDraft;
    use crate::verification::{ChangeNote, DecisionWrite, MergeWrite, UnmergeWrite};
    use serde_json::json;

    fn draft(
        note: &ChangeNote,
        action: &str,
        event: String,
        details: serde_json::Value,
    ) -> AuditDraft {
        AuditDraft::new(note.at, note.by.clone(), action, ("event", event), details)
    }

    impl DecisionWrite {
        /// Its audit entry (no reason text: it may name people).
        pub(crate) fn audit(&self) -> AuditDraft {
            let (status, _) = crate::verification::status_parts(&self.status);
            draft(
                &self.note,
                "event.decide",
                self.event.to_string(),
                json!({"status": status, "reliability": self.reliability.map(|r| r.as_str()),
                       "credibility": self.credibility.map(|c| c.grade()),
                       "from_version": self.expected_version}),
            )
        }
    }

    impl MergeWrite {
        /// Its audit entry.
        pub(crate) fn audit(&self) -> AuditDraft {
            draft(
                &self.note,
                "event.merge",
                self.event.to_string(),
                json!({"root": self.root.to_string(), "from_version": self.expected_version}),
            )
        }
    }

    impl UnmergeWrite {
        /// Its audit entry.
        pub(crate) fn audit(&self) -> AuditDraft {
            let (status, _) = crate::verification::status_parts(&self.restore);
            draft(
                &self.note,
                "event.unmerge",
                self.event.to_string(),
                json!({"restore": status, "from_version": self.expected_version}),
            )
        }
    }
}

/// A report stored before encryption at rest (migration 0005) whose personal data is
/// still in clear, as [`crate::Store::seal_legacy_personal`] hands it to be sealed.
#[derive(Clone, PartialEq, Eq)]
pub struct LegacyPersonal {
    /// The event.
    pub event: usalama_domain::EventId,
    /// People involved, as the JSON the event row kept (`[]` when none).
    pub people: String,
    /// The reporter's contact.
    pub reporter_contact: Option<String>,
    /// The SMS as received, from the report's receipt.
    pub raw_text: Option<String>,
}

impl std::fmt::Debug for LegacyPersonal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LegacyPersonal")
            .field("event", &self.event)
            .finish_non_exhaustive()
    }
}

/// Seals one account's TOTP secret (account id, secret in clear → sealed bytes), for
/// [`crate::Store::seal_legacy_totp`].
pub type SecretSealer<'a> = dyn FnMut(Uuid, &[u8]) -> Result<Vec<u8>, String> + 'a;

/// Bytes of a contact's blind index kept on an `events` row (migration 0011): the first
/// 128 bits of the HMAC-SHA256, ample against collisions for an exact search.
pub const INLINE_INDEX_BYTES: usize = 16;

/// The part of a blind index kept on an `events` row.
pub fn inline_index(index: &[u8]) -> &[u8] {
    &index[..index.len().min(INLINE_INDEX_BYTES)]
}
