//! Where the store lives: a SQLite data directory or file, or a PostgreSQL URL. Ambiguous or
//! unknown URLs are refused rather than guessed.

use crate::error::StoreError;
use std::path::PathBuf;

/// A parsed database location.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A data directory holding `usalama.sqlite3`.
    SqliteDir(PathBuf),
    /// A SQLite database file.
    SqliteFile(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl std::fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl StoreLocation {
    /// Parses `postgres://…`, `postgresql://…` or `sqlite://PATH` / `sqlite:PATH`.
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            if url.len() <= "postgresql://".len() && !url.contains('@') && url.ends_with("//") {
                return Err(StoreError::InvalidLocation(
                    "the postgres URL names no host or database".into(),
                ));
            }
            return Ok(Self::Postgres(url.to_string()));
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(StoreError::InvalidLocation(
                    "the sqlite URL names no file".into(),
                ));
            }
            return Ok(Self::SqliteFile(PathBuf::from(path)));
        }
        let scheme = url.split(':').next().unwrap_or("");
        Err(StoreError::InvalidLocation(format!(
            "unsupported scheme '{scheme}': use postgres://user:password@host/db or sqlite://PATH"
        )))
    }

    /// A description safe for logs: the password of a URL is replaced by `***`.
    pub fn redacted(&self) -> String {
        match self {
            Self::SqliteDir(p) => format!("sqlite data dir {}", p.display()),
            Self::SqliteFile(p) => format!("sqlite file {}", p.display()),
            Self::Postgres(url) => {
                let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
                match rest.rsplit_once('@') {
                    Some((userinfo, host)) => {
                        let user = userinfo.split(':').next().unwrap_or("");
                        format!("{scheme}://{user}:***@{host}")
                    }
                    None => url.clone(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert!(matches!(
            StoreLocation::from_url("postgres://u:p@localhost/db").unwrap(),
            StoreLocation::Postgres(_)
        ));
        assert_eq!(
            StoreLocation::from_url("sqlite:///tmp/x.db").unwrap(),
            StoreLocation::SqliteFile("/tmp/x.db".into())
        );
        let err = StoreLocation::from_url("mysql://x")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unsupported scheme 'mysql'"), "{err}");
        assert!(StoreLocation::from_url("sqlite:").is_err());
    }

    #[test]
    fn redacts_password() {
        let l = StoreLocation::from_url("postgres://u:secret@h:5432/db").unwrap();
        assert_eq!(l.redacted(), "postgres://u:***@h:5432/db");
        assert!(!format!("{l:?}").contains("secret"));
    }
}
