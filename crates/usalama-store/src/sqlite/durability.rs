//! The SQLite side of durability: `VACUUM INTO` backups from one snapshot, restores through
//! SQLite's online backup API after checking the backup file, digests and integrity checks.

use super::{migrate_sqlite, SqliteStore, Sx, APPLICATION_ID};
use crate::durability::{
    check_versions, io_err, not_empty, prepare_dest, publish, quote_ident, seeded_rows,
    BackupSummary, IntegrityReport, RowDigests, TableCount, TableDigest,
};
use crate::error::StoreError;
use crate::migrate;
use crate::Backend;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// The table a backup file carries its digests in (dropped from a restored database).
const MANIFEST: &str = "usalama_backup_manifest";

/// The user tables of a database, by name (without a backup's manifest).
fn tables(c: &Connection) -> Result<Vec<String>, StoreError> {
    let mut st = c
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
               AND name <> 'usalama_backup_manifest' ORDER BY name",
        )
        .sx()?;
    let names = st
        .query_map([], |r| r.get::<_, String>(0))
        .sx()?
        .collect::<Result<Vec<_>, _>>()
        .sx()?;
    Ok(names)
}

/// Row counts of every table and the schema version.
fn summary(c: &Connection) -> Result<BackupSummary, StoreError> {
    let mut counts = Vec::new();
    for t in tables(c)? {
        let rows: i64 = c
            .query_row(
                &format!("SELECT count(*) FROM {}", quote_ident(&t)),
                [],
                |r| r.get(0),
            )
            .sx()?;
        counts.push(TableCount {
            table: t,
            rows: rows as u64,
        });
    }
    let schema_version: i64 = c
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM usalama_migrations",
            [],
            |r| r.get(0),
        )
        .sx()?;
    Ok(BackupSummary {
        backend: Backend::Sqlite,
        schema_version,
        tables: counts,
    })
}

/// `PRAGMA integrity_check` and `PRAGMA foreign_key_check`.
pub(super) fn integrity(c: &Connection) -> Result<IntegrityReport, StoreError> {
    let mut report = IntegrityReport::default();
    let mut st = c.prepare("PRAGMA integrity_check").sx()?;
    let lines = st
        .query_map([], |r| r.get::<_, String>(0))
        .sx()?
        .collect::<Result<Vec<_>, _>>()
        .sx()?;
    report.checked.push("PRAGMA integrity_check".into());
    if lines != ["ok"] {
        report.problems.extend(lines);
    }
    let mut st = c.prepare("PRAGMA foreign_key_check").sx()?;
    let missing = st
        .query_map([], |r| {
            Ok(format!(
                "table {} row {} references a missing row of {}",
                r.get::<_, String>(0)?,
                r.get::<_, Option<i64>>(1)?
                    .map_or_else(|| "?".to_string(), |n| n.to_string()),
                r.get::<_, String>(2)?
            ))
        })
        .sx()?
        .collect::<Result<Vec<_>, _>>()
        .sx()?;
    report.checked.push("PRAGMA foreign_key_check".into());
    report.problems.extend(missing);
    Ok(report)
}

/// The canonical bytes of one value: a type tag, then the value.
fn encode(v: ValueRef<'_>, out: &mut Vec<u8>) {
    match v {
        ValueRef::Null => out.push(0),
        ValueRef::Integer(i) => {
            out.push(1);
            out.extend_from_slice(&i.to_le_bytes());
        }
        ValueRef::Real(f) => {
            out.push(2);
            out.extend_from_slice(&f.to_bits().to_le_bytes());
        }
        ValueRef::Text(b) | ValueRef::Blob(b) => {
            out.push(if matches!(v, ValueRef::Text(_)) { 3 } else { 4 });
            out.extend_from_slice(&(b.len() as u64).to_le_bytes());
            out.extend_from_slice(b);
        }
    }
}

/// Every table's digest (call inside a transaction for one snapshot).
fn digests(c: &Connection) -> Result<Vec<TableDigest>, StoreError> {
    let mut out = Vec::new();
    for t in tables(c)? {
        let mut st = c
            .prepare(&format!("SELECT * FROM {}", quote_ident(&t)))
            .sx()?;
        let n = st.column_count();
        let mut rows = st.query([]).sx()?;
        let mut d = RowDigests::default();
        let mut buf = Vec::new();
        while let Some(r) = rows.next().sx()? {
            buf.clear();
            for i in 0..n {
                encode(r.get_ref(i).sx()?, &mut buf);
            }
            d.add(&buf);
        }
        out.push(d.finish(&t));
    }
    Ok(out)
}

/// The digests a backup file carries.
fn manifest(c: &Connection, shown: &str) -> Result<Vec<TableDigest>, StoreError> {
    let mut st = c
        .prepare(&format!(
            "SELECT tbl, rows, sha256 FROM {MANIFEST} ORDER BY tbl"
        ))
        .map_err(|e| {
            StoreError::Corrupt(format!(
                "{shown} carries no digests ({e}): only files written by `usalama backup` restore"
            ))
        })?;
    let rows = st
        .query_map([], |r| {
            Ok(TableDigest {
                table: r.get(0)?,
                rows: r.get::<_, i64>(1)? as u64,
                sha256: r.get(2)?,
            })
        })
        .sx()?
        .collect::<Result<Vec<_>, _>>()
        .sx()?;
    Ok(rows)
}

/// Compares digests with a manifest, naming the first table that differs.
fn compare(got: &[TableDigest], want: &[TableDigest], what: &str) -> Result<(), StoreError> {
    for w in want {
        match got.iter().find(|g| g.table == w.table) {
            Some(g) if g == w => {}
            Some(g) => {
                return Err(StoreError::Corrupt(format!(
                    "{what}: table {} does not match the backup's digest ({} rows, {} expected)",
                    w.table, g.rows, w.rows
                )))
            }
            None => {
                return Err(StoreError::Corrupt(format!(
                    "{what}: table {} is missing",
                    w.table
                )))
            }
        }
    }
    if let Some(extra) = got
        .iter()
        .find(|g| !want.iter().any(|w| w.table == g.table))
    {
        return Err(StoreError::Corrupt(format!(
            "{what}: table {} is not in the backup's digests",
            extra.table
        )));
    }
    Ok(())
}

/// What the first bytes of a file say it is.
fn kind_of(src: &Path) -> Result<[u8; 16], StoreError> {
    let mut header = [0u8; 16];
    let mut f = std::fs::File::open(src).map_err(|e| io_err(src, e))?;
    let n = std::io::Read::read(&mut f, &mut header).map_err(|e| io_err(src, e))?;
    if header.starts_with(b"USALAMA-BACKUP") {
        return Err(StoreError::InvalidLocation(format!(
            "{} is a PostgreSQL backup: restore it into a PostgreSQL database (--database-url)",
            src.display()
        )));
    }
    if n < 16 || &header != b"SQLite format 3\0" {
        return Err(StoreError::Foreign(format!(
            "{} (not a Usalama backup)",
            src.display()
        )));
    }
    Ok(header)
}

impl SqliteStore {
    pub(super) fn d_backup(&self, dest: &Path) -> Result<BackupSummary, StoreError> {
        let part = prepare_dest(dest)?;
        let name = part.to_str().ok_or_else(|| {
            StoreError::InvalidLocation(format!("{} is not valid UTF-8", part.display()))
        })?;
        let result = (|| {
            // One statement, one read transaction: a snapshot, while writers go on (WAL).
            self.conn()?.execute("VACUUM INTO ?1", [name]).sx()?;
            let b = Connection::open_with_flags(&part, OpenFlags::SQLITE_OPEN_READ_WRITE).sx()?;
            b.query_row("PRAGMA journal_mode = DELETE", [], |r| {
                r.get::<_, String>(0)
            })
            .sx()?;
            let check = integrity(&b)?;
            if !check.is_ok() {
                return Err(StoreError::Corrupt(format!(
                    "the backup failed its check: {}",
                    check.problems.join("; ")
                )));
            }
            let sums = digests(&b)?;
            b.execute_batch(&format!(
                "CREATE TABLE {MANIFEST} (tbl TEXT PRIMARY KEY, rows INTEGER NOT NULL, sha256 TEXT NOT NULL)"
            ))
            .sx()?;
            for d in &sums {
                b.execute(
                    &format!("INSERT INTO {MANIFEST} (tbl, rows, sha256) VALUES (?1, ?2, ?3)"),
                    rusqlite::params![d.table, d.rows as i64, d.sha256],
                )
                .sx()?;
            }
            summary(&b)
        })();
        match result {
            Ok(s) => {
                publish(&part, dest)?;
                Ok(s)
            }
            Err(e) => {
                let _ = std::fs::remove_file(&part);
                Err(e)
            }
        }
    }

    pub(super) fn d_restore(&self, src: &Path, force: bool) -> Result<BackupSummary, StoreError> {
        kind_of(src)?;
        let shown = src.display().to_string();
        let b = Connection::open_with_flags(
            src,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| StoreError::Unavailable(format!("{shown}: {e}")))?;
        let app_id: i32 = b
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(|e| StoreError::Corrupt(format!("{shown}: {e}")))?;
        if app_id != APPLICATION_ID {
            return Err(StoreError::Foreign(format!(
                "{shown} (another application's database)"
            )));
        }
        let versions = {
            let mut st = b
                .prepare("SELECT version FROM usalama_migrations ORDER BY version")
                .map_err(|e| StoreError::Corrupt(format!("{shown}: {e}")))?;
            let v = st
                .query_map([], |r| r.get::<_, i64>(0))
                .sx()?
                .collect::<Result<Vec<_>, _>>()
                .sx()?;
            v
        };
        check_versions(&versions, migrate::SQLITE)?;
        let check = integrity(&b)?;
        if !check.is_ok() {
            return Err(StoreError::Corrupt(format!(
                "backup {shown}: {}",
                check.problems.join("; ")
            )));
        }
        let want = manifest(&b, &shown)?;
        compare(&digests(&b)?, &want, &format!("backup {shown}"))?;
        let carried = summary(&b)?;

        let mut c = self.conn()?;
        if !force {
            refuse_non_empty(&c)?;
        }
        {
            let bk = rusqlite::backup::Backup::new(&b, &mut c).sx()?;
            // All pages in one step: the destination is locked once and written whole.
            loop {
                match bk.step(-1).sx()? {
                    rusqlite::backup::StepResult::Done => break,
                    rusqlite::backup::StepResult::More => {}
                    _ => std::thread::sleep(std::time::Duration::from_millis(50)),
                }
            }
        }
        drop(b);
        c.execute_batch(&format!("DROP TABLE {MANIFEST}")).sx()?;
        compare(&digests(&c)?, &want, "the restored database")?;
        c.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
            .sx()?;
        migrate_sqlite(&mut c, migrate::SQLITE)?;
        let check = integrity(&c)?;
        if !check.is_ok() {
            return Err(StoreError::Corrupt(format!(
                "the restored database failed its check: {}",
                check.problems.join("; ")
            )));
        }
        let now = summary(&c)?;
        if now.schema_version == carried.schema_version && now.tables != carried.tables {
            return Err(StoreError::Corrupt(format!(
                "the restored row counts differ from the backup's ({} rows restored, {} in the backup)",
                now.total_rows(),
                carried.total_rows()
            )));
        }
        Ok(carried)
    }

    pub(super) fn d_digests(&self) -> Result<Vec<TableDigest>, StoreError> {
        let mut c = self.conn()?;
        let tx = c.transaction().sx()?;
        let out = digests(&tx)?;
        tx.commit().sx()?;
        Ok(out)
    }

    pub(super) fn d_integrity(&self) -> Result<IntegrityReport, StoreError> {
        integrity(&*self.conn()?)
    }
}

/// Refuses a database with more rows than a fresh schema holds (see `seeded_rows`).
fn refuse_non_empty(c: &Connection) -> Result<(), StoreError> {
    for t in tables(c)? {
        let allowed = seeded_rows(&t);
        if allowed == i64::MAX {
            continue;
        }
        let any: bool = c
            .query_row(
                &format!(
                    "SELECT (SELECT count(*) FROM (SELECT 1 FROM {} LIMIT ?1)) > ?2",
                    quote_ident(&t)
                ),
                [allowed + 1, allowed],
                |r| r.get(0),
            )
            .sx()?;
        if any {
            return Err(not_empty(&t));
        }
    }
    Ok(())
}
