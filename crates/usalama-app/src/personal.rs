//! Personal data at rest: reports are sealed before they reach the store (people, the
//! reporter's contact, the SMS as received, a description or exact point marked
//! sensitive, attachments), and read back only by roles that may
//! ([`usalama_domain::Role::may_read_personal`]), each read audited in the transaction
//! that reads it.

use crate::auth::Principal;
use crate::error::AppError;
use crate::vault::{self, DataKey, ErasureLedger, KeyedHash, Keyring, VaultError};
use crate::App;
use std::sync::{Arc, OnceLock, RwLock};
use usalama_domain::{EventId, GeoPoint, Person};
use usalama_store::{AuditDraft, DataKeyRecord, NewReport, SealedFields, SealedReport};
use uuid::Uuid;

/// The installation key that hashes SMS senders.
pub(crate) const SMS_SENDER_KEY: &str = "sms-sender";
/// The installation key of blind indexes.
pub(crate) const BLIND_INDEX_KEY: &str = "blind-index";

/// The vault's state in the application: the master keys, the erasure ledger and the
/// installation keys once unwrapped.
pub(crate) struct VaultState {
    pub ring: RwLock<Keyring>,
    pub ledger: Arc<dyn ErasureLedger>,
    pub blind_key: OnceLock<Vec<u8>>,
    /// The blind-index key's keyed HMAC state.
    pub blind_hash: OnceLock<KeyedHash>,
    pub totp_key: OnceLock<DataKey>,
}

impl VaultState {
    pub(crate) fn new(ring: Keyring, ledger: Arc<dyn ErasureLedger>) -> Self {
        Self {
            ring: RwLock::new(ring),
            ledger,
            blind_key: OnceLock::new(),
            blind_hash: OnceLock::new(),
            totp_key: OnceLock::new(),
        }
    }
}

/// What a report seals besides people and contact.
#[derive(Clone, Default, PartialEq)]
pub(crate) struct Secrets {
    pub description: Option<String>,
    pub point: Option<GeoPoint>,
    /// The client's network details, for channels that keep them.
    pub client: Option<crate::channels::ClientInfo>,
}

/// A report's personal data, for roles that may read it.
#[derive(Clone, Default, PartialEq)]
pub struct PersonalData {
    /// People involved.
    pub people: Vec<Person>,
    /// How to reach the reporter.
    pub reporter_contact: Option<String>,
    /// The description, when it was marked sensitive.
    pub sensitive_description: Option<String>,
    /// The exact point, when it was marked sensitive.
    pub exact_point: Option<GeoPoint>,
    /// The SMS as received.
    pub raw_text: Option<String>,
    /// The client address and user agent the report came with, when its channel keeps
    /// them (`[privacy.client_address]`).
    pub client: Option<crate::channels::ClientInfo>,
    /// The record's personal data was erased (its data key destroyed): nothing above.
    pub erased: bool,
}

impl std::fmt::Debug for PersonalData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersonalData")
            .field("people", &self.people.len())
            .field("erased", &self.erased)
            .finish_non_exhaustive()
    }
}

/// An attachment opened for a role that may read it.
#[derive(Clone, PartialEq, Eq)]
pub struct OpenedAttachment {
    /// The file name.
    pub file_name: String,
    /// Its media type.
    pub content_type: String,
    /// The bytes; empty when erased.
    pub bytes: Vec<u8>,
    /// Its data key was destroyed.
    pub erased: bool,
}

impl std::fmt::Debug for OpenedAttachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedAttachment")
            .field("file_name", &self.file_name)
            .field("size", &self.bytes.len())
            .field("erased", &self.erased)
            .finish()
    }
}

fn sealed_err(e: VaultError) -> AppError {
    AppError::Sealed(e.to_string())
}

/// The name the audit log gives a caller.
pub(crate) fn actor(who: &Principal) -> String {
    who.name().unwrap_or_else(|| "anonymous".into())
}

impl App {
    /// The keyring in use.
    pub(crate) fn keyring(&self) -> Result<Keyring, AppError> {
        self.vault
            .ring
            .read()
            .map(|g| g.clone())
            .map_err(|_| AppError::Sealed("keyring lock poisoned".into()))
    }

    /// An installation key (created on first use; a legacy `settings` row is adopted).
    pub(crate) fn installation_key(
        &self,
        name: &str,
        adopt_setting: Option<&str>,
    ) -> Result<Vec<u8>, AppError> {
        let ring = self.keyring()?;
        let id = vault::installation_key_id(name);
        let now = self.now();
        let fresh = ring.wrap(id, "installation", &DataKey::random(), now);
        let adopt_fn = |legacy: &[u8]| -> Result<DataKeyRecord, String> {
            let k: [u8; vault::KEY_BYTES] = legacy
                .try_into()
                .map_err(|_| format!("{} bytes, expected 32", legacy.len()))?;
            Ok(ring.wrap(id, "installation", &DataKey::from_bytes(k), now))
        };
        let rec = self.store.ensure_data_key(
            &fresh,
            adopt_setting.map(|s| {
                (
                    s,
                    &adopt_fn as &dyn Fn(&[u8]) -> Result<DataKeyRecord, String>,
                )
            }),
        )?;
        let key = ring
            .unwrap_key(&rec)
            .map_err(sealed_err)?
            .ok_or_else(|| AppError::Sealed(format!("installation key {name} was destroyed")))?;
        Ok(key.bytes().to_vec())
    }

    /// Checks that the key file opens this database's installation keys (creating them on
    /// a new database); run at start-up so a wrong key file is refused at once.
    pub fn check_vault(&self) -> Result<(), AppError> {
        self.ensure_channel_keys()?;
        self.totp_key()?;
        self.blind_key().map(|_| ())
    }

    pub(crate) fn blind_key(&self) -> Result<&[u8], AppError> {
        if let Some(k) = self.vault.blind_key.get() {
            return Ok(k);
        }
        let k = self.installation_key(BLIND_INDEX_KEY, None)?;
        Ok(self.vault.blind_key.get_or_init(|| k))
    }

    /// The blind index of a reporter's contact.
    pub(crate) fn contact_index(&self, contact: &str) -> Result<Vec<u8>, AppError> {
        let norm = vault::normalize_contact(contact);
        let h = match self.vault.blind_hash.get() {
            Some(h) => h,
            None => {
                let h = KeyedHash::new(self.blind_key()?);
                self.vault.blind_hash.get_or_init(|| h)
            }
        };
        Ok(h.hash(norm.as_bytes()))
    }

    /// Seals a report's personal data under `ring` (the keyring in use, read once per
    /// call): the event keeps none; attachments' bytes become ciphertext under their own
    /// keys; the receipt keeps no raw text.
    pub(crate) fn seal_report(
        &self,
        ring: &Keyring,
        r: &mut NewReport,
        secrets: &Secrets,
    ) -> Result<(), AppError> {
        let id = r.event.event.id.as_uuid();
        let (people, contact) = r.event.event.take_personal();
        let raw_text = r.receipt.raw_text.take();
        let nothing = people.is_empty()
            && contact.is_none()
            && raw_text.is_none()
            && secrets.description.is_none()
            && secrets.point.is_none()
            && secrets.client.is_none()
            && r.attachments.is_empty();
        if nothing {
            return Ok(());
        }
        let now = self.now();
        let dk = DataKey::random();
        let seal = |field: &str, plain: &[u8]| dk.seal("events", id, field, plain);
        let fields = SealedFields {
            people: (!people.is_empty())
                .then(|| seal("people", &serde_json::to_vec(&people).unwrap_or_default())),
            reporter_contact: contact
                .as_deref()
                .map(|c| seal("reporter_contact", c.as_bytes())),
            description: secrets
                .description
                .as_deref()
                .map(|d| seal("description", d.as_bytes())),
            point: secrets
                .point
                .map(|p| seal("point", format!("{},{}", p.lat(), p.lon()).as_bytes())),
            raw_text: raw_text.as_deref().map(|t| seal("raw_text", t.as_bytes())),
            contact_index: contact
                .as_deref()
                .map(|c| self.contact_index(c))
                .transpose()?,
            client: secrets
                .client
                .as_ref()
                .map(|c| seal("client", &serde_json::to_vec(c).unwrap_or_default())),
        };
        let mut attachment_keys = Vec::with_capacity(r.attachments.len());
        for a in &mut r.attachments {
            let ak = DataKey::random();
            let kid = Uuid::new_v4();
            a.bytes = ak.seal("report_attachments", kid, "bytes", &a.bytes);
            attachment_keys.push(ring.wrap(kid, "attachment", &ak, now));
        }
        r.sealed = Some(SealedReport {
            // The report's key has the event's id: the store keeps it on the sealed row.
            key: ring.wrap(id, "event", &dk, now),
            fields,
            attachment_keys,
        });
        Ok(())
    }

    fn require_personal(&self, who: &Principal) -> Result<(), AppError> {
        match who.role() {
            None => Err(AppError::Unauthenticated),
            Some(r) if r.may_read_personal() => Ok(()),
            Some(r) => Err(AppError::Forbidden(r.as_str().into())),
        }
    }

    /// The personal data of a report, for roles that may read it; the read is audited
    /// in the same transaction. `None` when the record has none.
    pub fn personal_data(
        &self,
        who: &Principal,
        id: EventId,
    ) -> Result<Option<PersonalData>, AppError> {
        self.require_personal(who)?;
        let audit = AuditDraft::new(
            self.now(),
            actor(who),
            "personal.read",
            ("event", id.to_string()),
            serde_json::json!({}),
        );
        let Some(s) = self.store.read_sealed(id, &audit)? else {
            return Ok(None);
        };
        let Some(dk) = self.keyring()?.unwrap_key(&s.key).map_err(sealed_err)? else {
            return Ok(Some(PersonalData {
                erased: true,
                ..Default::default()
            }));
        };
        let uid = id.as_uuid();
        let open = |field: &str, v: &Option<Vec<u8>>| -> Result<Option<Vec<u8>>, AppError> {
            v.as_deref()
                .map(|b| dk.open("events", uid, field, b).map_err(sealed_err))
                .transpose()
        };
        let text = |field: &str, v: &Option<Vec<u8>>| -> Result<Option<String>, AppError> {
            open(field, v)?
                .map(|b| {
                    String::from_utf8(b).map_err(|_| {
                        AppError::Sealed(format!("events.{field} of {id} is not UTF-8"))
                    })
                })
                .transpose()
        };
        let f = &s.fields;
        let people = match open("people", &f.people)? {
            Some(b) => serde_json::from_slice(&b)
                .map_err(|e| AppError::Sealed(format!("events.people of {id}: {e}")))?,
            None => Vec::new(),
        };
        let exact_point = match text("point", &f.point)? {
            Some(t) => {
                let (a, o) = t
                    .split_once(',')
                    .and_then(|(a, o)| Some((a.parse().ok()?, o.parse().ok()?)))
                    .ok_or_else(|| AppError::Sealed(format!("events.point of {id}")))?;
                Some(GeoPoint::new(a, o).map_err(|e| AppError::Sealed(e.to_string()))?)
            }
            None => None,
        };
        Ok(Some(PersonalData {
            people,
            reporter_contact: text("reporter_contact", &f.reporter_contact)?,
            sensitive_description: text("description", &f.description)?,
            exact_point,
            raw_text: text("raw_text", &f.raw_text)?,
            client: match open("client", &f.client)? {
                Some(b) => Some(
                    serde_json::from_slice(&b)
                        .map_err(|e| AppError::Sealed(format!("events.client of {id}: {e}")))?,
                ),
                None => None,
            },
            erased: false,
        }))
    }

    /// A report's attachments, opened, for roles that may read personal data (audited).
    pub fn attachments(
        &self,
        who: &Principal,
        id: EventId,
    ) -> Result<Vec<OpenedAttachment>, AppError> {
        self.require_personal(who)?;
        let files = self.store.list_attachments(id)?;
        self.store.append_audit(&[AuditDraft::new(
            self.now(),
            actor(who),
            "attachments.read",
            ("event", id.to_string()),
            serde_json::json!({"files": files.len()}),
        )])?;
        let ring = self.keyring()?;
        let mut out = Vec::with_capacity(files.len());
        for f in files {
            let (bytes, erased) = match f.key_id {
                None => (f.bytes, false),
                Some(kid) => {
                    let rec = self.store.get_data_key(kid)?.ok_or_else(|| {
                        AppError::Sealed(format!("data key {kid} of an attachment is missing"))
                    })?;
                    match ring.unwrap_key(&rec).map_err(sealed_err)? {
                        None => (Vec::new(), true),
                        Some(k) => (
                            k.open("report_attachments", kid, "bytes", &f.bytes)
                                .map_err(sealed_err)?,
                            false,
                        ),
                    }
                }
            };
            out.push(OpenedAttachment {
                file_name: f.file_name,
                content_type: f.content_type,
                bytes,
                erased,
            });
        }
        Ok(out)
    }

    /// Reports whose reporter gave this contact (exact match on the normalised value,
    /// through the blind index), for roles that may read personal data; audited.
    pub fn find_reports_by_contact(
        &self,
        who: &Principal,
        contact: &str,
    ) -> Result<Vec<EventId>, AppError> {
        self.require_personal(who)?;
        if vault::normalize_contact(contact).is_empty() {
            return Err(AppError::invalid("reporter_contact", "is empty"));
        }
        let index = self.contact_index(contact)?;
        let audit = AuditDraft::new(
            self.now(),
            actor(who),
            "personal.search",
            ("blind_index", "reporter_contact".into()),
            serde_json::json!({}),
        );
        Ok(self.store.find_by_contact_index(&index, &audit)?)
    }
}
