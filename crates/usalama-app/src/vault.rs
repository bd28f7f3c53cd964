//! The vault: encryption at rest of what identifies people.
//!
//! - The **master key** (32 random bytes, versioned) is read from a key file by the binary
//!   and handed here as a [`Keyring`]; it is never stored in the database.
//! - Each report with personal data, and each attachment, gets a random 256-bit **data
//!   key**, wrapped by the current master key (XChaCha20-Poly1305, the key's id, purpose
//!   and master version bound as associated data). A report's key has the event's id and
//!   is kept, with its sealed fields, on its `events` row (migration 0011; reports sealed
//!   before on their `event_sealed` row); attachments' and installation keys in
//!   `data_keys`.
//! - Fields are **sealed** with XChaCha20-Poly1305 under the data key, with a random
//!   24-byte nonce and the table, record id and field name as associated data, so a
//!   ciphertext moved to another record or field, or a flipped byte, fails to open: an
//!   error, never wrong data. Stored form: `nonce ‖ ciphertext ‖ tag`.
//! - **Installation keys** (the SMS sender key, the blind-index key) are data keys with
//!   fixed ids, so that key rotation rewraps them like the others and their hashes stay
//!   stable across rotations.
//! - **Randomness**: master keys come from the operating system (`OsRng`); data keys and
//!   nonces from `rand::thread_rng` (ChaCha12 seeded and periodically reseeded from the
//!   operating system, a CSPRNG), which spares a `getrandom` system call per field: on
//!   the batch-insert benchmark those calls were about half of the sealing work.
//! - A **blind index** is HMAC-SHA256 under the blind-index key of a normalised value.
//! - **Erasure** destroys a data key (crypto-shredding). The ids of destroyed keys are
//!   also recorded in an [`ErasureLedger`] kept outside the database (beside the key
//!   file), which is re-applied at start-up, so a database restored from a backup taken
//!   before an erasure loses the erased keys again.

use chacha20::cipher::consts::U10;
use chacha20::cipher::generic_array::GenericArray;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::collections::BTreeMap;
use std::sync::Mutex;
use usalama_store::DataKeyRecord;
use uuid::Uuid;

/// Bytes of every key.
pub const KEY_BYTES: usize = 32;
const NONCE: usize = 24;
/// The first line of a key file.
const KEY_LINE: &str = "usalama-master-key";

/// Why the vault refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// A ciphertext did not open: tampered with, moved or under another key.
    #[error("decryption failed for {0}")]
    Decryption(String),
    /// A data key is wrapped by a master key version the key file does not hold.
    #[error("data key {id} is wrapped by master key version {version}, which the key file does not hold")]
    UnknownMasterVersion {
        /// The data key.
        id: Uuid,
        /// Its master key version.
        version: u32,
    },
    /// The key file cannot be read.
    #[error("key file: {0}")]
    KeyFile(String),
}

/// A master key of one version. Debug output never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey {
    version: u32,
    key: [u8; KEY_BYTES],
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey(v{}, ***)", self.version)
    }
}

impl MasterKey {
    /// A new random key of `version` from the operating system's generator.
    pub fn generate(version: u32) -> Self {
        let mut key = [0u8; KEY_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Self { version, key }
    }

    /// Its version.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// One key-file line: `usalama-master-key VERSION HEX`.
    pub fn to_line(&self) -> String {
        format!("{KEY_LINE} {} {}\n", self.version, hex(&self.key))
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The master keys the key file(s) hold, by version; the newest is current.
#[derive(Clone, PartialEq, Eq)]
pub struct Keyring {
    keys: BTreeMap<u32, MasterKey>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Keyring(versions {:?})",
            self.keys.keys().collect::<Vec<_>>()
        )
    }
}

impl Keyring {
    /// A keyring of one key.
    pub fn new(key: MasterKey) -> Self {
        Self {
            keys: BTreeMap::from([(key.version, key)]),
        }
    }

    /// A fresh random keyring (tests, throwaway stores).
    pub fn generate() -> Self {
        Self::new(MasterKey::generate(1))
    }

    /// Adds a key (e.g. the next version during a rotation).
    pub fn with(mut self, key: MasterKey) -> Self {
        self.keys.insert(key.version, key);
        self
    }

    /// Parses a key file's text: one or more `usalama-master-key VERSION HEX` lines;
    /// blank lines and `#` comments are ignored. Errors name the line.
    pub fn parse(text: &str) -> Result<Self, VaultError> {
        let mut keys = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |why: &str| VaultError::KeyFile(format!("line {}: {why}", i + 1));
            let mut parts = line.split_whitespace();
            if parts.next() != Some(KEY_LINE) {
                return Err(bad("expected 'usalama-master-key VERSION HEX'"));
            }
            let version: u32 = parts
                .next()
                .and_then(|v| v.parse().ok())
                .filter(|v| *v > 0)
                .ok_or_else(|| bad("the version is not a positive number"))?;
            let h = parts.next().unwrap_or("");
            if h.len() != 2 * KEY_BYTES || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad("the key is not 64 hexadecimal digits (32 bytes)"));
            }
            let mut key = [0u8; KEY_BYTES];
            for (j, k) in key.iter_mut().enumerate() {
                *k = u8::from_str_radix(&h[2 * j..2 * j + 2], 16).unwrap_or(0);
            }
            if parts.next().is_some() {
                return Err(bad("unexpected text after the key"));
            }
            if keys.insert(version, MasterKey { version, key }).is_some() {
                return Err(bad("the version appears twice"));
            }
        }
        if keys.is_empty() {
            return Err(VaultError::KeyFile("no key in the file".into()));
        }
        Ok(Self { keys })
    }

    /// The key file's text for every key of the ring.
    pub fn to_file_text(&self) -> String {
        let mut s = String::from(
            "# Usalama master key: keep this file secret, mode 0600, and out of database backups.\n",
        );
        for k in self.keys.values() {
            s.push_str(&k.to_line());
        }
        s
    }

    /// The current (newest) key.
    pub fn current(&self) -> &MasterKey {
        // A keyring always holds at least one key (constructors ensure it).
        self.keys
            .values()
            .next_back()
            .expect("a keyring is never empty")
    }

    /// The versions held.
    pub fn versions(&self) -> impl Iterator<Item = u32> + '_ {
        self.keys.keys().copied()
    }

    /// The key of a version.
    pub fn get(&self, version: u32) -> Option<&MasterKey> {
        self.keys.get(&version)
    }

    /// Wraps a data key under the current master key.
    pub(crate) fn wrap(
        &self,
        id: Uuid,
        purpose: &str,
        key: &DataKey,
        now: DateTime<Utc>,
    ) -> DataKeyRecord {
        wrap_with(self.current(), id, purpose, key, now)
    }

    /// Unwraps a data key (an error for a destroyed key is the caller's to give).
    pub(crate) fn unwrap_key(&self, rec: &DataKeyRecord) -> Result<Option<DataKey>, VaultError> {
        let Some(wrapped) = &rec.wrapped else {
            return Ok(None);
        };
        let mk = self
            .get(rec.master_version)
            .ok_or(VaultError::UnknownMasterVersion {
                id: rec.id,
                version: rec.master_version,
            })?;
        let plain = open_raw(
            &mk.key,
            &wrap_ad(rec.id, &rec.purpose, rec.master_version),
            wrapped,
        )
        .ok_or_else(|| VaultError::Decryption(format!("data_keys.wrapped_key of {}", rec.id)))?;
        let key: [u8; KEY_BYTES] = plain
            .try_into()
            .map_err(|_| VaultError::Decryption(format!("data_keys.wrapped_key of {}", rec.id)))?;
        Ok(Some(DataKey(key)))
    }
}

/// Wraps a data key under a given master key.
pub(crate) fn wrap_with(
    mk: &MasterKey,
    id: Uuid,
    purpose: &str,
    key: &DataKey,
    now: DateTime<Utc>,
) -> DataKeyRecord {
    DataKeyRecord {
        id,
        purpose: purpose.into(),
        wrapped: Some(seal_raw(&mk.key, &wrap_ad(id, purpose, mk.version), &key.0)),
        master_version: mk.version,
        created_at: now,
        destroyed_at: None,
    }
}

fn wrap_ad(id: Uuid, purpose: &str, version: u32) -> Vec<u8> {
    format!("usalama|v1|data_keys|{id}|{purpose}|{version}").into_bytes()
}

/// The associated data binding a sealed field to its table, record and field.
pub(crate) fn field_ad(table: &str, record: Uuid, field: &str) -> Vec<u8> {
    format!("usalama|v1|{table}|{record}|{field}").into_bytes()
}

/// Bytes of a field's associated data kept on the stack (longer ones use the heap).
const AD_STACK: usize = 128;

/// Calls `f` with the associated data of a field (the bytes of [`field_ad`]) built without
/// a heap allocation: sealing a batch builds one per field of every report.
fn with_field_ad<R>(table: &str, record: Uuid, field: &str, f: impl FnOnce(&[u8]) -> R) -> R {
    const PREFIX: &[u8] = b"usalama|v1|";
    let len = PREFIX.len() + table.len() + 1 + uuid::fmt::Hyphenated::LENGTH + 1 + field.len();
    if len > AD_STACK {
        return f(&field_ad(table, record, field));
    }
    let mut buf = [0u8; AD_STACK];
    let mut at = 0;
    for part in [PREFIX, table.as_bytes(), b"|"] {
        buf[at..at + part.len()].copy_from_slice(part);
        at += part.len();
    }
    at += record
        .hyphenated()
        .encode_lower(&mut buf[at..at + uuid::fmt::Hyphenated::LENGTH])
        .len();
    for part in [b"|".as_slice(), field.as_bytes()] {
        buf[at..at + part.len()].copy_from_slice(part);
        at += part.len();
    }
    f(&buf[..at])
}

/// Bytes of a Poly1305 tag.
const TAG: usize = 16;

/// XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha) under `key` with a 24-byte `nonce`, as
/// that construction defines it: the subkey HChaCha20(key, nonce[..16]) (the `chacha20`
/// crate's), then the ChaCha20-Poly1305 of RFC 8439 (ring's) under the subkey with the
/// nonce 0⁴ ‖ nonce[16..]. The bytes are those of the `chacha20poly1305` crate's
/// `XChaCha20Poly1305` (tested against it), several times faster on short fields: its
/// vectorised Poly1305 prepares for long messages on every call.
fn xchacha(key: &[u8; KEY_BYTES], nonce: &[u8]) -> (ring::aead::LessSafeKey, ring::aead::Nonce) {
    let sub = chacha20::hchacha::<U10>(
        GenericArray::from_slice(key),
        GenericArray::from_slice(&nonce[..16]),
    );
    let k = ring::aead::UnboundKey::new(&ring::aead::CHACHA20_POLY1305, &sub)
        .expect("a ChaCha20-Poly1305 key is 32 bytes");
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&nonce[16..NONCE]);
    (
        ring::aead::LessSafeKey::new(k),
        ring::aead::Nonce::assume_unique_for_key(n),
    )
}

/// `nonce ‖ ciphertext ‖ tag` of `plain` under `key`, with a random nonce, in one buffer.
fn seal_raw(key: &[u8; KEY_BYTES], ad: &[u8], plain: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(NONCE + plain.len() + TAG);
    out.resize(NONCE, 0);
    rand::thread_rng().fill_bytes(&mut out);
    let (k, n) = xchacha(key, &out);
    out.extend_from_slice(plain);
    // Sealing fails only for inputs beyond ChaCha20's 256 GiB.
    let tag = k
        .seal_in_place_separate_tag(n, ring::aead::Aad::from(ad), &mut out[NONCE..])
        .expect("a field is far below 256 GiB");
    out.extend_from_slice(tag.as_ref());
    out
}

fn open_raw(key: &[u8; KEY_BYTES], ad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < NONCE + TAG {
        return None;
    }
    let (nonce, rest) = sealed.split_at(NONCE);
    let (k, n) = xchacha(key, nonce);
    let mut plain = rest.to_vec();
    let len = k
        .open_in_place(n, ring::aead::Aad::from(ad), &mut plain)
        .ok()?
        .len();
    plain.truncate(len);
    Some(plain)
}

/// A plaintext data key (in memory only).
#[derive(Clone)]
pub(crate) struct DataKey([u8; KEY_BYTES]);

impl DataKey {
    /// A random key.
    pub fn random() -> Self {
        let mut k = [0u8; KEY_BYTES];
        rand::thread_rng().fill_bytes(&mut k);
        Self(k)
    }

    /// A data key from raw bytes (a legacy installation key being adopted).
    pub fn from_bytes(k: [u8; KEY_BYTES]) -> Self {
        Self(k)
    }

    /// The raw bytes (installation keys used as HMAC keys).
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// Seals a field of a record.
    pub fn seal(&self, table: &str, record: Uuid, field: &str, plain: &[u8]) -> Vec<u8> {
        with_field_ad(table, record, field, |ad| seal_raw(&self.0, ad, plain))
    }

    /// Opens a field of a record; the error names the field and the record.
    pub fn open(
        &self,
        table: &str,
        record: Uuid,
        field: &str,
        sealed: &[u8],
    ) -> Result<Vec<u8>, VaultError> {
        with_field_ad(table, record, field, |ad| open_raw(&self.0, ad, sealed))
            .ok_or_else(|| VaultError::Decryption(format!("{table}.{field} of {record}")))
    }
}

/// Where the ids of erased data keys are kept outside the database, so that erasures
/// reach database backups: the binary keeps them in a file beside the key file.
pub trait ErasureLedger: Send + Sync {
    /// Records erased key ids durably (before the keys are destroyed).
    fn record(&self, ids: &[Uuid]) -> Result<(), String>;
    /// Every erased key id recorded.
    fn erased(&self) -> Result<Vec<Uuid>, String>;
}

/// A ledger in memory (tests and throwaway stores).
#[derive(Debug, Default)]
pub struct MemoryLedger(Mutex<Vec<Uuid>>);

impl ErasureLedger for MemoryLedger {
    fn record(&self, ids: &[Uuid]) -> Result<(), String> {
        self.0
            .lock()
            .map_err(|_| "ledger lock poisoned".to_string())?
            .extend_from_slice(ids);
        Ok(())
    }
    fn erased(&self) -> Result<Vec<Uuid>, String> {
        Ok(self
            .0
            .lock()
            .map_err(|_| "ledger lock poisoned".to_string())?
            .clone())
    }
}

/// The fixed id of an installation key.
pub(crate) fn installation_key_id(name: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        format!("usalama:installation-key:{name}").as_bytes(),
    )
}

/// A contact as the blind index sees it: lower case, without spaces, dots, dashes,
/// parentheses or slashes, so `+236 70-00 (00) 01` and `+2367000 0001` match.
pub fn normalize_contact(s: &str) -> String {
    s.trim()
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '.' | '-' | '(' | ')' | '/'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// HMAC-SHA256 under one key, its key schedule (the padded key's two compressions) done
/// once: each hash then clones the keyed state.
#[derive(Clone)]
pub(crate) struct KeyedHash(Hmac<Sha256>);

impl KeyedHash {
    /// Keys the hash.
    pub(crate) fn new(key: &[u8]) -> Self {
        // HMAC accepts keys of any length.
        Self(<Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length"))
    }

    /// The same bytes as [`keyed_hash`] under the key.
    pub(crate) fn hash(&self, value: &[u8]) -> Vec<u8> {
        let mut mac = self.0.clone();
        mac.update(value);
        mac.finalize().into_bytes().to_vec()
    }
}

/// HMAC-SHA256 of a value under a key.
pub(crate) fn keyed_hash(key: &[u8], value: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(value);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_field_opens_only_in_its_place_and_untouched() {
        let k = DataKey::random();
        let id = Uuid::new_v4();
        let s = k.seal("events", id, "people", b"Amina");
        assert_eq!(k.open("events", id, "people", &s).unwrap(), b"Amina");
        assert!(k.open("events", id, "reporter_contact", &s).is_err());
        assert!(k.open("events", Uuid::new_v4(), "people", &s).is_err());
        for i in 0..s.len() {
            let mut t = s.clone();
            t[i] ^= 1;
            let e = k.open("events", id, "people", &t).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("decryption failed for events.people of {id}")
            );
        }
        assert!(DataKey::random().open("events", id, "people", &s).is_err());
    }

    #[test]
    fn associated_data_on_the_stack_is_the_same_bytes_and_keyed_hashes_agree() {
        let id = Uuid::new_v4();
        for (t, f) in [("events", "people"), ("report_attachments", "bytes")] {
            with_field_ad(t, id, f, |ad| assert_eq!(ad, field_ad(t, id, f).as_slice()));
        }
        let long = "x".repeat(200);
        with_field_ad("events", id, &long, |ad| {
            assert_eq!(ad, field_ad("events", id, &long).as_slice())
        });
        let k = KeyedHash::new(b"a key of some length");
        assert_eq!(
            k.hash(b"+23670000001"),
            keyed_hash(b"a key of some length", b"+23670000001")
        );
        assert_ne!(k.hash(b"+23670000001"), k.hash(b"+23670000002"));
    }

    #[test]
    fn seals_are_the_bytes_of_xchacha20_poly1305_and_open_both_ways() {
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        use chacha20poly1305::{XChaCha20Poly1305, XNonce};
        for len in [0usize, 1, 15, 16, 17, 63, 64, 65, 100, 255, 256, 1000, 5000] {
            let mut key = [0u8; KEY_BYTES];
            rand::thread_rng().fill_bytes(&mut key);
            let plain: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
            let ad = format!("usalama|v1|events|{}|people", Uuid::new_v4()).into_bytes();
            let sealed = seal_raw(&key, &ad, &plain);
            assert_eq!(sealed.len(), NONCE + len + TAG);
            let reference = XChaCha20Poly1305::new(&key.into());
            let nonce = XNonce::from_slice(&sealed[..NONCE]);
            let theirs = reference
                .encrypt(
                    nonce,
                    Payload {
                        msg: &plain,
                        aad: &ad,
                    },
                )
                .unwrap();
            assert_eq!(&sealed[NONCE..], theirs.as_slice(), "length {len}");
            assert_eq!(
                reference
                    .decrypt(
                        nonce,
                        Payload {
                            msg: &sealed[NONCE..],
                            aad: &ad
                        }
                    )
                    .unwrap(),
                plain
            );
            assert_eq!(open_raw(&key, &ad, &sealed).unwrap(), plain);
            // A flipped bit anywhere, another key or other associated data: nothing.
            for i in [0, NONCE - 1, NONCE, sealed.len() - 1] {
                let mut t = sealed.clone();
                t[i] ^= 0x80;
                assert_eq!(open_raw(&key, &ad, &t), None, "byte {i} of {len}");
            }
            let mut other = key;
            other[0] ^= 1;
            assert_eq!(open_raw(&other, &ad, &sealed), None);
            assert_eq!(open_raw(&key, b"usalama|v1|other", &sealed), None);
            assert_eq!(open_raw(&key, &ad, &sealed[..NONCE + TAG - 1]), None);
        }
    }

    #[test]
    fn keys_wrap_and_key_files_round_trip() {
        let ring = Keyring::generate();
        let dk = DataKey::random();
        let id = Uuid::new_v4();
        let rec = ring.wrap(id, "event", &dk, Utc::now_for_tests());
        let back = ring.unwrap_key(&rec).unwrap().unwrap();
        assert_eq!(back.bytes(), dk.bytes());
        let parsed = Keyring::parse(&ring.to_file_text()).unwrap();
        assert_eq!(parsed, ring);
        let other = Keyring::generate();
        assert!(matches!(
            other.unwrap_key(&rec),
            Err(VaultError::Decryption(_))
        ));
        let two = ring.clone().with(MasterKey::generate(2));
        assert_eq!(two.current().version(), 2);
        assert!(two.unwrap_key(&rec).unwrap().is_some());
        let e = Keyring::parse("usalama-master-key 1 abcd\n").unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
        assert_eq!(normalize_contact(" +236 70-00 (00) 01 "), "+23670000001");
    }

    trait NowForTests {
        fn now_for_tests() -> DateTime<Utc>;
    }
    impl NowForTests for Utc {
        fn now_for_tests() -> DateTime<Utc> {
            DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default()
        }
    }
}
