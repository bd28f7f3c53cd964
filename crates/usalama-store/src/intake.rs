//! Records of the channels monitors report through (web form, JSON API, SMS, OpenRosa):
//! a report to store with its receipt and attachments, and what storing it did.

use crate::records::PlacedEvent;
use chrono::{DateTime, Utc};
use usalama_domain::EventId;

/// What a channel carried besides the event: the reference given to the reporter and,
/// for SMS, the keyed hash of the sender's number and the message as received.
#[derive(Clone, PartialEq, Eq)]
pub struct ReportReceipt {
    /// The short reference the reporter was given (e.g. `7KQ3M-XD2PA`).
    pub reference: String,
    /// The channel name (`web_form`, `api`, `sms`, `openrosa`).
    pub channel: String,
    /// When it was received.
    pub received_at: DateTime<Utc>,
    /// HMAC-SHA256 of the sender's number (SMS), never the number itself.
    pub sender_hash: Option<Vec<u8>>,
    /// The text as received (SMS).
    pub raw_text: Option<String>,
}

impl std::fmt::Debug for ReportReceipt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportReceipt")
            .field("reference", &self.reference)
            .field("channel", &self.channel)
            .field("received_at", &self.received_at)
            .finish_non_exhaustive()
    }
}

/// A file sent with a report.
#[derive(Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The file name the client gave.
    pub file_name: String,
    /// Its media type as sent (`image/jpeg`).
    pub content_type: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachment")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("size", &self.bytes.len())
            .finish()
    }
}

/// A report to store: the validated, placed event, its receipt and its files.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReport {
    /// The event (status unverified, channel set, `source` and optional `external_id`).
    pub event: PlacedEvent,
    /// Its receipt.
    pub receipt: ReportReceipt,
    /// Its files.
    pub attachments: Vec<Attachment>,
    /// Its personal data, sealed (the event then carries none), with one data key per
    /// attachment, whose bytes are then ciphertext.
    pub sealed: Option<crate::vault::SealedReport>,
}

/// What storing one report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReport {
    /// The stored event's id: the new one, or the one already stored under the same
    /// `(source, external_id)`.
    pub event_id: EventId,
    /// Its reference.
    pub reference: String,
    /// Whether the report had been stored before (a resubmission).
    pub existed: bool,
    /// Attachments added by this call.
    pub attachments_added: u64,
}

/// An attachment as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredAttachment {
    /// The file name.
    pub file_name: String,
    /// Its media type.
    pub content_type: String,
    /// SHA-256 of the bytes.
    pub sha256: Vec<u8>,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// When it was received.
    pub received_at: DateTime<Utc>,
    /// The data key sealing `bytes`; `None` for a file stored before encryption at rest.
    pub key_id: Option<uuid::Uuid>,
}

impl std::fmt::Debug for StoredAttachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredAttachment")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("size", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

impl NewReport {
    /// The audit entry of this report once stored as `stored` (one per report, in the
    /// same transaction): who reported it, through which channel, under which reference.
    pub(crate) fn audit_draft(&self, stored: &StoredReport) -> crate::audit::AuditDraft {
        crate::audit::AuditDraft::new(
            self.receipt.received_at,
            self.event
                .event
                .meta
                .created_by
                .as_deref()
                .unwrap_or("anonymous"),
            if stored.existed {
                "report.resubmit"
            } else {
                "report.intake"
            },
            ("event", stored.event_id.to_string()),
            serde_json::json!({
                "channel": self.receipt.channel,
                "reference": stored.reference,
                "attachments_added": stored.attachments_added,
                "sealed": self.sealed.is_some(),
            }),
        )
    }
}
