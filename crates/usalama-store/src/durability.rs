//! Durability: consistent online backups, restores that check what they load, per-table
//! content digests and integrity checks, the same on both backends.
//!
//! A SQLite backup is a SQLite file written by `VACUUM INTO` from one read transaction (a
//! snapshot; WAL readers do not block the server's writers). A PostgreSQL backup is a
//! portable text archive written from one `REPEATABLE READ` transaction (see
//! [`ARCHIVE_MAGIC`]). Both carry every table of the schema, enumerated from the catalogue,
//! so tables added by later migrations are included without code changes.

use crate::Backend;
use sha2::{Digest, Sha256};

/// The first line of a PostgreSQL backup archive.
///
/// The archive is UTF-8 text, one section after another:
///
/// ```text
/// USALAMA-BACKUP 1 postgres
/// {"schema_versions":[1,2,3],"created_at":"…"}
/// TABLE <name> ["col1","col2",…]
/// <rows in PostgreSQL COPY text format, one per line>
/// \.
/// END <name> <rows> <sha256 of the rows' bytes, hex>
/// SEQUENCE <name> <last_value> <is_called>
/// END-BACKUP <sha256 of every byte before this line, hex>
/// ```
///
/// A restore checks every table's row count and digest and the final digest, so a
/// truncated or edited archive is refused and nothing is loaded.
pub const ARCHIVE_MAGIC: &str = "USALAMA-BACKUP 1 postgres";

/// The row count of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCount {
    /// The table's name.
    pub table: String,
    /// How many rows it holds.
    pub rows: u64,
}

/// What a backup or restore carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    /// The backend the backup belongs to.
    pub backend: Backend,
    /// The schema version of the backup (a restore then migrates to the binary's).
    pub schema_version: i64,
    /// Every table with its rows, by name.
    pub tables: Vec<TableCount>,
}

impl BackupSummary {
    /// Rows in every table together.
    pub fn total_rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }
}

/// One table's row count and a digest of its content that does not depend on row order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDigest {
    /// The table's name.
    pub table: String,
    /// How many rows it holds.
    pub rows: u64,
    /// SHA-256 (hex) over the sorted SHA-256 digests of its rows.
    pub sha256: String,
}

/// What an integrity check looked at and what it found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntegrityReport {
    /// What was checked (`PRAGMA integrity_check`, `bt_index_check(events_pkey)`, …).
    pub checked: Vec<String>,
    /// The problems found; empty when the database is sound.
    pub problems: Vec<String>,
}

impl IntegrityReport {
    /// True when no problem was found.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Accumulates per-row digests into a [`TableDigest`].
#[derive(Default)]
pub(crate) struct RowDigests {
    rows: Vec<[u8; 32]>,
}

impl RowDigests {
    /// Adds one row given as its canonical bytes.
    pub(crate) fn add(&mut self, row: &[u8]) {
        self.rows.push(Sha256::digest(row).into());
    }

    /// The digest of the table.
    pub(crate) fn finish(mut self, table: &str) -> TableDigest {
        self.rows.sort_unstable();
        let mut h = Sha256::new();
        for r in &self.rows {
            h.update(r);
        }
        TableDigest {
            table: table.to_string(),
            rows: self.rows.len() as u64,
            sha256: hex(&h.finalize()),
        }
    }
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// `name` quoted as an SQL identifier (both backends).
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The part file a backup is written to before it is renamed into place.
pub(crate) fn part_path(dest: &std::path::Path) -> std::path::PathBuf {
    let mut name = dest
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "backup".into());
    name.push(".part");
    dest.with_file_name(name)
}

/// Refuses to overwrite an existing backup; removes a stale part file.
pub(crate) fn prepare_dest(
    dest: &std::path::Path,
) -> Result<std::path::PathBuf, crate::StoreError> {
    if dest.exists() {
        return Err(crate::StoreError::InvalidLocation(format!(
            "{} exists; a backup never overwrites a file, choose a new name",
            dest.display()
        )));
    }
    let part = part_path(dest);
    if part.exists() {
        std::fs::remove_file(&part).map_err(|e| io_err(&part, e))?;
    }
    Ok(part)
}

/// Makes `part` durable and renames it to `dest` (then makes the rename durable).
pub(crate) fn publish(
    part: &std::path::Path,
    dest: &std::path::Path,
) -> Result<(), crate::StoreError> {
    std::fs::File::open(part)
        .and_then(|f| f.sync_all())
        .map_err(|e| io_err(part, e))?;
    std::fs::rename(part, dest).map_err(|e| io_err(dest, e))?;
    if let Some(dir) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
        // Best effort: some filesystems refuse to sync a directory.
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// Tables that a fresh schema already holds rows in, with how many: the migration
/// records, and rows that migrations seed (the audit log's head, the default
/// organisation). A restore target whose tables hold no more than this is empty.
pub(crate) const SEEDED_ROWS: &[(&str, i64)] = &[
    ("usalama_migrations", i64::MAX),
    ("audit_head", 1),
    ("organisations", 1),
];

/// How many rows `table` may hold in a database that counts as empty.
pub(crate) fn seeded_rows(table: &str) -> i64 {
    SEEDED_ROWS
        .iter()
        .find(|(t, _)| *t == table)
        .map_or(0, |(_, n)| *n)
}

/// The error for a restore into a database that holds data.
pub(crate) fn not_empty(table: &str) -> crate::StoreError {
    crate::StoreError::Conflict(format!(
        "the target database is not empty (table {table} has rows): restore into an empty database, or pass --force to replace its content"
    ))
}

/// A file error naming the file.
pub(crate) fn io_err(path: &std::path::Path, e: std::io::Error) -> crate::StoreError {
    crate::StoreError::Unavailable(format!("{}: {e}", path.display()))
}

/// Checks that every migration version a backup carries is one this binary knows, and
/// returns the index of the newest one in `known`.
pub(crate) fn check_versions(
    versions: &[i64],
    known: &[crate::migrate::Migration],
) -> Result<usize, crate::StoreError> {
    let latest = crate::migrate::latest(known);
    let Some(&newest) = versions.iter().max() else {
        return Err(crate::StoreError::Corrupt(
            "the backup records no schema version".into(),
        ));
    };
    if newest > latest {
        return Err(crate::StoreError::NewerSchema {
            found: newest,
            supported: latest,
        });
    }
    for v in versions {
        if !known.iter().any(|m| m.version == *v) {
            return Err(crate::StoreError::InvalidRecord {
                id: format!("usalama_migrations {v}"),
                reason: "the backup was made by a usalama with a migration this one does not know"
                    .into(),
            });
        }
    }
    let idx = known
        .iter()
        .position(|m| m.version == newest)
        .unwrap_or_default();
    if let Some(missing) = known[..=idx]
        .iter()
        .find(|m| !versions.contains(&m.version))
    {
        return Err(crate::StoreError::InvalidRecord {
            id: format!("usalama_migrations {}", missing.version),
            reason: "the backup lacks a migration older than its newest one".into(),
        });
    }
    Ok(idx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_digest_ignores_order_but_not_content() {
        let mut a = RowDigests::default();
        a.add(b"1");
        a.add(b"2");
        let mut b = RowDigests::default();
        b.add(b"2");
        b.add(b"1");
        let mut c = RowDigests::default();
        c.add(b"2");
        c.add(b"3");
        let (a, b, c) = (a.finish("t"), b.finish("t"), c.finish("t"));
        assert_eq!(a, b);
        assert_ne!(a.sha256, c.sha256);
        assert_eq!(a.rows, 2);
    }

    #[test]
    fn versions_are_checked_against_the_binary() {
        let known = crate::migrate::SQLITE;
        let all: Vec<i64> = known.iter().map(|m| m.version).collect();
        assert_eq!(check_versions(&all, known).unwrap(), known.len() - 1);
        assert_eq!(check_versions(&all[..1], known).unwrap(), 0);
        let newer = [all.clone(), vec![all.last().unwrap() + 1000]].concat();
        assert!(matches!(
            check_versions(&newer, known),
            Err(crate::StoreError::NewerSchema { .. })
        ));
        assert!(check_versions(&[], known).is_err());
        if all.len() > 1 {
            let gap = [all[1..].to_vec()].concat();
            let e = check_versions(&gap, known).unwrap_err().to_string();
            assert!(e.contains(&format!("usalama_migrations {}", all[0])), "{e}");
        }
    }

    #[test]
    fn quoting_doubles_quotes() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
