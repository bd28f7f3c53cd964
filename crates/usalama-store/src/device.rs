//! OpenRosa device passwords as the store keeps them (migration 0008): an account's HTTP
//! Digest HA1 values, sealed by the application's vault under their own data key. The
//! store never sees the password or the HA1 values in clear.

use crate::vault::DataKeyRecord;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// An account's device password: its data key and the sealed HA1 values.
#[derive(Clone, PartialEq, Eq)]
pub struct DevicePasswordRecord {
    /// The account.
    pub user: Uuid,
    /// The data key that seals it.
    pub key: DataKeyRecord,
    /// The sealed HA1 values.
    pub sealed: Vec<u8>,
    /// When it was set.
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for DevicePasswordRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevicePasswordRecord")
            .field("user", &self.user)
            .field("key", &self.key)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}
