//! The tamper-evident audit log: entries to append, entries as stored, the hash that chains
//! them, and the check of a chain (optionally against a checkpoint taken earlier).
//!
//! `hash = SHA-256(canonical(seq, at, actor, action, target_type, target_id, details,
//! prev_hash))`, where the canonical encoding feeds each field as an 8-byte little-endian
//! length and its bytes, `seq` as 8 little-endian bytes and `at` as RFC 3339 text with
//! microseconds. `details` is hashed as the JSON text stored. The first entry's `prev_hash`
//! is 32 zero bytes.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS: [u8; 32] = [0; 32];

/// An entry to append: who did what to which record, and when. `details` is JSON text
/// without personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditDraft {
    /// When.
    pub at: DateTime<Utc>,
    /// The account name, `token:label`, `cli` or `anonymous`: never an address or agent.
    pub actor: String,
    /// What, e.g. `report.intake`, `personal.read`, `event.erase`.
    pub action: String,
    /// The kind of record (`event`, `data_key`, `token`, `import`, …).
    pub target_type: String,
    /// The record's id.
    pub target_id: String,
    /// JSON object text with counts and names that identify no one.
    pub details: String,
}

impl AuditDraft {
    /// A draft with a JSON `details` value.
    pub fn new(
        at: DateTime<Utc>,
        actor: impl Into<String>,
        action: impl Into<String>,
        target: (&str, String),
        details: serde_json::Value,
    ) -> Self {
        Self {
            at,
            actor: actor.into(),
            action: action.into(),
            target_type: target.0.into(),
            target_id: target.1,
            details: details.to_string(),
        }
    }
}

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Position in the log, from 1, without gaps.
    pub seq: i64,
    /// The entry's content.
    pub draft: AuditDraft,
    /// The previous entry's hash.
    pub prev_hash: Vec<u8>,
    /// This entry's hash.
    pub hash: Vec<u8>,
}

/// The last entry of a log (sequence 0 and the zero hash when empty): a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    /// Its sequence number.
    pub seq: i64,
    /// Its hash.
    pub hash: Vec<u8>,
}

impl AuditHead {
    /// `SEQ:HEX`, the form `usalama audit checkpoint` prints.
    pub fn to_text(&self) -> String {
        format!("{}:{}", self.seq, hex(&self.hash))
    }

    /// Parses `SEQ:HEX`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (seq, h) = s
            .trim()
            .split_once(':')
            .ok_or_else(|| format!("'{s}' is not SEQ:HASH"))?;
        let seq: i64 = seq
            .parse()
            .map_err(|_| format!("'{seq}' is not a sequence number"))?;
        if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("'{h}' is not a SHA-256 hash in hex"));
        }
        let hash = (0..32)
            .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap_or(0))
            .collect();
        Ok(Self { seq, hash })
    }
}

/// Lower-case hex.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The canonical text of a time in the log.
pub fn at_text(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The hash of an entry.
pub fn entry_hash(seq: i64, d: &AuditDraft, prev_hash: &[u8]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(b"usalama-audit-v1");
    h.update(seq.to_le_bytes());
    for field in [
        at_text(&d.at).as_bytes(),
        d.actor.as_bytes(),
        d.action.as_bytes(),
        d.target_type.as_bytes(),
        d.target_id.as_bytes(),
        d.details.as_bytes(),
        prev_hash,
    ] {
        h.update((field.len() as u64).to_le_bytes());
        h.update(field);
    }
    h.finalize().to_vec()
}

/// Where and why a chain is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    /// The first entry found wrong (or the position where one is missing).
    pub seq: i64,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "audit entry {}: {}", self.seq, self.reason)
    }
}

/// Checks a log fed entry by entry in stored order, then against the stored head and an
/// optional checkpoint.
#[derive(Debug)]
pub struct ChainVerifier {
    last_seq: i64,
    last_hash: Vec<u8>,
    checkpoint: Option<AuditHead>,
    checkpoint_seen: bool,
}

impl ChainVerifier {
    /// A verifier; with a checkpoint, the log must contain it and extend it.
    pub fn new(checkpoint: Option<AuditHead>) -> Self {
        Self {
            last_seq: 0,
            last_hash: GENESIS.to_vec(),
            checkpoint_seen: checkpoint.as_ref().is_some_and(|c| c.seq == 0),
            checkpoint,
        }
    }

    /// Checks the next entry.
    pub fn push(&mut self, e: &AuditEntry) -> Result<(), ChainBreak> {
        let expected = self.last_seq + 1;
        let fail = |seq: i64, reason: String| Err(ChainBreak { seq, reason });
        if e.seq != expected {
            return fail(
                expected.min(e.seq.max(1)),
                format!("expected entry {expected} but found entry {}", e.seq),
            );
        }
        if e.prev_hash != self.last_hash {
            return fail(
                e.seq,
                "its previous hash does not match the entry before".into(),
            );
        }
        if entry_hash(e.seq, &e.draft, &e.prev_hash) != e.hash {
            return fail(e.seq, "its content does not match its hash (edited)".into());
        }
        if let Some(c) = &self.checkpoint {
            if c.seq == e.seq {
                if c.hash != e.hash {
                    return fail(e.seq, "it differs from the checkpoint".into());
                }
                self.checkpoint_seen = true;
            }
        }
        self.last_seq = e.seq;
        self.last_hash = e.hash.clone();
        Ok(())
    }

    /// Ends the check against the stored head; returns the verified head.
    pub fn finish(self, stored_head: &AuditHead) -> Result<AuditHead, ChainBreak> {
        let head = AuditHead {
            seq: self.last_seq,
            hash: self.last_hash,
        };
        if let Some(c) = &self.checkpoint {
            if !self.checkpoint_seen {
                return Err(ChainBreak {
                    seq: head.seq + 1,
                    reason: format!(
                        "the log ends at entry {} but the checkpoint is entry {} (truncated)",
                        head.seq, c.seq
                    ),
                });
            }
        }
        if stored_head.seq != head.seq || stored_head.hash != head.hash {
            return Err(ChainBreak {
                seq: head.seq.min(stored_head.seq) + 1,
                reason: format!(
                    "the log ends at entry {} but its head records entry {} (truncated or forged)",
                    head.seq, stored_head.seq
                ),
            });
        }
        Ok(head)
    }
}

/// Builds entries chained from `prev` (for tests and tools).
pub fn chain(prev: &AuditHead, drafts: Vec<AuditDraft>) -> Vec<AuditEntry> {
    let mut seq = prev.seq;
    let mut last = prev.hash.clone();
    drafts
        .into_iter()
        .map(|d| {
            seq += 1;
            let hash = entry_hash(seq, &d, &last);
            AuditEntry {
                seq,
                draft: d,
                prev_hash: std::mem::replace(&mut last, hash.clone()),
                hash,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: u32) -> AuditDraft {
        AuditDraft::new(
            DateTime::from_timestamp(1_700_000_000 + i64::from(n), 0).unwrap(),
            "alice",
            "report.intake",
            ("event", format!("e{n}")),
            serde_json::json!({"n": n}),
        )
    }

    fn check(entries: &[AuditEntry], head: &AuditHead) -> Result<AuditHead, ChainBreak> {
        let mut v = ChainVerifier::new(None);
        for e in entries {
            v.push(e)?;
        }
        v.finish(head)
    }

    #[test]
    fn a_chain_verifies_and_an_edit_is_named() {
        let genesis = AuditHead {
            seq: 0,
            hash: GENESIS.to_vec(),
        };
        let mut es = chain(&genesis, (1..=5).map(d).collect());
        let head = AuditHead {
            seq: 5,
            hash: es[4].hash.clone(),
        };
        assert_eq!(check(&es, &head).unwrap(), head);
        es[2].draft.actor = "mallory".into();
        let b = check(&es, &head).unwrap_err();
        assert_eq!(b.seq, 3);
        assert!(b.reason.contains("edited"), "{b}");
        assert_eq!(AuditHead::parse(&head.to_text()).unwrap(), head);
    }
}
