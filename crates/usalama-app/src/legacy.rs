//! Sealing what older versions kept in clear, and TOTP secrets at rest.
//!
//! - Reports stored before encryption at rest (schema 0005) kept people, the reporter's
//!   contact and the SMS as received in clear. [`App::seal_legacy`] seals them, in batches
//!   of [`LEGACY_BATCH`] reports, each batch one transaction (its data keys, sealed fields,
//!   blind indexes, blanked clear columns and one audit entry), until none is left. The
//!   binary runs it at every start; it is idempotent and costs one indexed lookup when
//!   there is nothing to do. When it sealed anything, the store is rewritten
//!   ([`App::purge_free_space`]): the version that wrote those values, without
//!   `secure_delete`, left stale copies of them in the free space of pages, which
//!   blanking the live rows does not reach.
//! - TOTP secrets are sealed under the installation key `totp` with the account id and
//!   field bound as associated data; secrets enrolled before schema 0007 are sealed by
//!   the same step.

use crate::auth::Principal;
use crate::error::AppError;
use crate::personal::actor;
use crate::vault::{self, DataKey};
use crate::App;
use usalama_domain::Person;
use usalama_store::{AuditDraft, LegacyPersonal, SealedFields, SealedReport};
use uuid::Uuid;

/// The installation key that seals TOTP secrets.
pub(crate) const TOTP_KEY: &str = "totp";
/// Reports sealed per transaction by [`App::seal_legacy`].
pub const LEGACY_BATCH: usize = 500;

/// What [`App::seal_legacy`] sealed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LegacySealed {
    /// Reports whose clear personal data was sealed.
    pub reports: u64,
    /// Transactions (batches) that sealed them.
    pub batches: u64,
    /// Accounts whose clear TOTP secret was sealed.
    pub totp_secrets: u64,
    /// Whether the store was then rewritten ([`App::purge_free_space`]); false when
    /// nothing was sealed or the rewrite failed (logged as an error; `usalama keys purge`
    /// runs it again).
    pub purged: bool,
}

impl App {
    /// The installation key sealing TOTP secrets (created on first use).
    pub(crate) fn totp_key(&self) -> Result<DataKey, AppError> {
        if let Some(k) = self.vault.totp_key.get() {
            return Ok(k.clone());
        }
        let bytes: [u8; vault::KEY_BYTES] = self
            .installation_key(TOTP_KEY, None)?
            .try_into()
            .map_err(|_| AppError::Sealed("the totp key is not 32 bytes".into()))?;
        Ok(self
            .vault
            .totp_key
            .get_or_init(|| DataKey::from_bytes(bytes))
            .clone())
    }

    /// Seals an account's TOTP secret (associated data: `users`, the account id, field
    /// `totp_secret`).
    pub(crate) fn seal_totp(&self, user: Uuid, secret: &[u8]) -> Result<Vec<u8>, AppError> {
        Ok(self.totp_key()?.seal("users", user, "totp_secret", secret))
    }

    /// Opens an account's sealed TOTP secret; an altered or moved one is an error naming
    /// the account, never a wrong secret.
    pub(crate) fn open_totp(&self, user: Uuid, sealed: &[u8]) -> Result<Vec<u8>, AppError> {
        self.totp_key()?
            .open("users", user, "totp_secret", sealed)
            .map_err(|e| AppError::Sealed(e.to_string()))
    }

    /// Rewrites the store so that no stale copy of a value sealed, blanked or erased
    /// survives in its free space ([`Store::purge_free_space`](usalama_store::Store::purge_free_space));
    /// the operator or an administrator only, audited (`store.purge`). Holds the store's
    /// write lock for about as long as a backup takes.
    pub fn purge_free_space(&self, who: &Principal) -> Result<(), AppError> {
        self.require_vault_admin(who)?;
        self.store.purge_free_space()?;
        self.store.append_audit(&[AuditDraft::new(
            self.now(),
            actor(who),
            "store.purge",
            ("store", "free_space".into()),
            serde_json::json!({}),
        )])?;
        Ok(())
    }

    /// Seals the personal data and TOTP secrets that versions before encryption at rest
    /// kept in clear (see the module documentation); the operator or an administrator
    /// only. Each batch is audited (`legacy.seal`, `totp.seal`) with its count.
    pub fn seal_legacy(&self, who: &Principal) -> Result<LegacySealed, AppError> {
        self.require_vault_admin(who)?;
        let mut done = LegacySealed::default();
        let ring = self.keyring()?;
        loop {
            let now = self.now();
            let audit = AuditDraft::new(
                now,
                actor(who),
                "legacy.seal",
                ("events", "personal".into()),
                serde_json::json!({}),
            );
            let blind = self.blind_key()?.to_vec();
            let mut seal = |l: &LegacyPersonal| -> Result<SealedReport, String> {
                let id = l.event.as_uuid();
                let people: Vec<Person> =
                    serde_json::from_str(&l.people).map_err(|e| format!("people: {e}"))?;
                let dk = DataKey::random();
                let fields = SealedFields {
                    people: (!people.is_empty())
                        .then(|| dk.seal("events", id, "people", l.people.as_bytes())),
                    reporter_contact: l
                        .reporter_contact
                        .as_deref()
                        .map(|c| dk.seal("events", id, "reporter_contact", c.as_bytes())),
                    description: None,
                    point: None,
                    client: None,
                    raw_text: l
                        .raw_text
                        .as_deref()
                        .map(|t| dk.seal("events", id, "raw_text", t.as_bytes())),
                    contact_index: l
                        .reporter_contact
                        .as_deref()
                        .map(|c| vault::keyed_hash(&blind, vault::normalize_contact(c).as_bytes())),
                };
                Ok(SealedReport {
                    // The event's id: the store keeps the key on the sealed row.
                    key: ring.wrap(id, "event", &dk, now),
                    fields,
                    attachment_keys: Vec::new(),
                })
            };
            let n = self
                .store
                .seal_legacy_personal(LEGACY_BATCH, &mut seal, &audit)?;
            if n == 0 {
                break;
            }
            done.reports += n;
            done.batches += 1;
        }
        let key = self.totp_key()?;
        let audit = AuditDraft::new(
            self.now(),
            actor(who),
            "totp.seal",
            ("users", "totp_secret".into()),
            serde_json::json!({}),
        );
        done.totp_secrets = self.store.seal_legacy_totp(
            &mut |user, secret| Ok(key.seal("users", user, "totp_secret", secret)),
            &audit,
        )?;
        if done.reports > 0 || done.totp_secrets > 0 {
            // The sealing is committed whatever happens here: a rewrite that fails (a full
            // disk) must not stop the server from starting, so it is reported, not raised.
            match self.purge_free_space(who) {
                Ok(()) => done.purged = true,
                Err(e) => tracing::error!(
                    error = %e,
                    "values sealed just now may keep stale copies in the database's free space \
                     until it is rewritten: run `usalama keys purge` once the cause is fixed"
                ),
            }
        }
        if done.reports > 0 {
            // Counts and caches never held the personal fields, but history did.
            self.cache.events_changed();
        }
        Ok(done)
    }
}
