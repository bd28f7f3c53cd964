//! Errors of the use-cases, in terms a caller can map to a status or an exit code.

use usalama_store::StoreError;

/// What a use-case can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No valid credentials were presented.
    #[error("authentication required")]
    Unauthenticated,
    /// The credentials are valid but do not allow this.
    #[error("not allowed for role {0}")]
    Forbidden(String),
    /// The record does not exist (or is not visible to the caller).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// An input value is invalid.
    #[error("{field}: {reason}")]
    Invalid {
        /// The parameter or field.
        field: String,
        /// Why.
        reason: String,
    },
    /// The record changed since the caller read it, or the change conflicts with the
    /// record's state (e.g. a merge that would make a cycle). `code` is stable
    /// (`version_conflict`, `merge_cycle`, …).
    #[error("{message}")]
    Conflict {
        /// A stable machine-readable code.
        code: &'static str,
        /// Plain words.
        message: String,
    },
    /// A file could not be imported at all.
    #[error("{0}")]
    Import(#[from] usalama_ingest::IngestError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Sealed personal data could not be opened (tampered with, or under a key the key
    /// file does not hold), or the vault could not do its work; the message names the
    /// field and record, never their content.
    #[error("{0}")]
    Sealed(String),
    /// Password hashing failed.
    #[error("password hashing failed")]
    Crypto,
    /// An export could not be written to its destination.
    #[error("cannot write the export: {0}")]
    Export(String),
    /// The password was right but the account needs its TOTP code as well.
    #[error("the authentication code is required")]
    SecondFactorRequired,
    /// Too many failed attempts from this client: try again after the given delay.
    #[error("too many attempts; retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
}

impl AppError {
    /// An invalid-input error for `field`.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
