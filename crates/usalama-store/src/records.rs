//! Records the store keeps beside the domain entities: placements, accounts, tokens,
//! sessions, and the counts an upsert reports.

use chrono::{DateTime, Utc};
use usalama_domain::{
    AdminLevel, Event, LocalityCode, LocalityId, LocalityPath, OrgId, Role, ShareScope,
};
use uuid::Uuid;

/// An event with where it was placed.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedEvent {
    /// The event; its `locality` should equal `path.deepest()`.
    pub event: Event,
    /// Its localities from country to ADM3.
    pub path: LocalityPath,
}

/// An event as stored, with its placement.
pub type StoredEvent = PlacedEvent;

/// A locality without its geometry.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalitySummary {
    /// Id.
    pub id: LocalityId,
    /// Code.
    pub code: LocalityCode,
    /// Name.
    pub name: String,
    /// Level.
    pub level: AdminLevel,
    /// Parent.
    pub parent: Option<LocalityId>,
    /// Representative point (lon, lat).
    pub centroid: Option<(f64, f64)>,
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    /// New records.
    pub inserted: u64,
    /// Records that existed and changed.
    pub updated: u64,
    /// Records that existed unchanged.
    pub unchanged: u64,
}

impl std::ops::AddAssign for UpsertCounts {
    fn add_assign(&mut self, o: Self) {
        self.inserted += o.inserted;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
    }
}

/// A user account.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Id.
    pub id: Uuid,
    /// Login name.
    pub username: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When disabled, if it is.
    pub disabled_at: Option<DateTime<Utc>>,
    /// The organisation the account belongs to.
    pub org: OrgId,
    /// Failed log-ins since the last success (written by [`crate::Store::record_login_failure`]).
    pub failed_logins: u32,
    /// Log-ins are refused until then.
    pub locked_until: Option<DateTime<Utc>>,
    /// A plaintext TOTP secret enrolled before secrets were sealed (migration 0007); the
    /// application seals it at start-up ([`crate::Store::seal_legacy_totp`]) and clears it.
    pub totp_secret: Option<Vec<u8>>,
    /// The TOTP secret sealed by the application's vault, when a second factor is enrolled.
    pub totp_sealed: Option<Vec<u8>>,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .field("org", &self.org)
            .finish_non_exhaustive()
    }
}

/// An API token; only the SHA-256 of its secret is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Id.
    pub id: Uuid,
    /// SHA-256 of the secret.
    pub token_hash: Vec<u8>,
    /// Role it grants.
    pub role: Role,
    /// A label to find and revoke it by.
    pub label: String,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// The organisation whose records it may see.
    pub org: OrgId,
    /// When it stops being valid, if ever.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A sharing agreement: `from` lets `to` see its records (all, or only verified ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShareRecord {
    /// The organisation that shares.
    pub from: OrgId,
    /// The organisation that sees.
    pub to: OrgId,
    /// What is shared.
    pub scope: ShareScope,
}

/// A login session; only the SHA-256 of the cookie value is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// SHA-256 of the cookie secret.
    pub token_hash: Vec<u8>,
    /// The user.
    pub user_id: Uuid,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When it stops being valid.
    pub expires_at: DateTime<Utc>,
}
