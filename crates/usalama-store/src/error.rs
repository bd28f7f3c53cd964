//! Storage errors: each names the problem in one line a tired administrator can act on,
//! without leaking query text or personal data.

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL or data directory is not usable as given.
    #[error("invalid database location: {0}")]
    InvalidLocation(String),
    /// The file or database exists but was not made by Usalama.
    #[error("{0} is not a Usalama database (refusing to touch it)")]
    Foreign(String),
    /// The database file is damaged.
    #[error("database is corrupt: {0}")]
    Corrupt(String),
    /// The database was written by a newer Usalama.
    #[error("database schema version {found} is newer than this usalama supports ({supported}); upgrade usalama")]
    NewerSchema {
        /// Version found in the database.
        found: i64,
        /// Newest version this build knows.
        supported: i64,
    },
    /// The database cannot be reached or opened.
    #[error("cannot open database: {0}")]
    Unavailable(String),
    /// A stored row no longer passes domain validation.
    #[error("stored record {id} is invalid: {reason}")]
    InvalidRecord {
        /// The record's id.
        id: String,
        /// What failed.
        reason: String,
    },
    /// A uniqueness or reference constraint was violated.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database stayed locked by another connection or program for longer than the
    /// store waits (SQLite's busy timeout): nothing was written; trying again later works.
    #[error(
        "the database is busy: another program kept it locked for longer than Usalama waits \
         (a tool reading the SQLite file in a long transaction, or a writer that does not \
         finish); nothing was written, try again once it is done ({0})"
    )]
    Busy(String),
    /// A pagination cursor that this store did not produce.
    #[error("cursor is not valid for this list")]
    InvalidCursor,
    /// Any other backend failure.
    #[error("database error: {0}")]
    Backend(String),
}

impl StoreError {
    /// Whether the database could not be reached or stayed locked ([`StoreError::Busy`],
    /// [`StoreError::Unavailable`]): nothing was written, and the same request may succeed
    /// if sent again shortly.
    pub fn is_temporary(&self) -> bool {
        matches!(self, Self::Busy(_) | Self::Unavailable(_))
    }
}

impl From<r2d2::Error> for StoreError {
    fn from(e: r2d2::Error) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}
