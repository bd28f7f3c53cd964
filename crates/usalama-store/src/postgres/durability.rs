//! The PostgreSQL side of durability: a logical backup of every table, sequence value and
//! migration record from one `REPEATABLE READ` snapshot into the text archive described at
//! [`crate::durability::ARCHIVE_MAGIC`] (COPY text format, streamed, so memory stays small
//! whatever the size), its restore in one transaction, digests, and amcheck.

use super::{apply_migrations, PgStore, Px, MIGRATION_LOCK};
use crate::durability::{
    check_versions, hex, io_err, not_empty, prepare_dest, publish, quote_ident, seeded_rows,
    BackupSummary, IntegrityReport, RowDigests, TableCount, TableDigest, ARCHIVE_MAGIC,
};
use crate::error::StoreError;
use crate::migrate;
use crate::Backend;
use postgres::{GenericClient, IsolationLevel};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

/// The archive's second line.
#[derive(Serialize, Deserialize)]
struct Header {
    schema_versions: Vec<i64>,
    created_at: String,
}

/// A `TABLE` line's payload.
#[derive(Serialize, Deserialize)]
struct TableLine {
    name: String,
    columns: Vec<String>,
}

/// A `SEQUENCE` line's payload.
#[derive(Serialize, Deserialize)]
struct SequenceLine {
    name: String,
    last_value: i64,
    is_called: bool,
}

/// Relations of one kind in the current schema, by name.
fn relations(c: &mut impl GenericClient, kinds: &str) -> Result<Vec<String>, StoreError> {
    Ok(c.query(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = current_schema() AND c.relkind::text = ANY(string_to_array($1, ','))
           AND NOT c.relispartition
         ORDER BY c.relname",
        &[&kinds],
    )
    .px()?
    .iter()
    .map(|r| r.get(0))
    .collect())
}

/// A table's stored columns in order.
fn columns(c: &mut impl GenericClient, table: &str) -> Result<Vec<String>, StoreError> {
    Ok(c.query(
        "SELECT a.attname::text FROM pg_attribute a
           JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = current_schema() AND c.relname = $1 AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = ''
         ORDER BY a.attnum",
        &[&table],
    )
    .px()?
    .iter()
    .map(|r| r.get(0))
    .collect())
}

fn column_list(cols: &[String]) -> String {
    cols.iter()
        .map(|c| quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A writer that hashes what it writes.
struct Hashing<W: Write> {
    inner: W,
    hash: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn corrupt(src: &Path, line: u64, what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("backup {} line {line}: {what}", src.display()))
}

impl PgStore {
    pub(super) fn d_backup(&self, dest: &Path) -> Result<BackupSummary, StoreError> {
        let part = prepare_dest(dest)?;
        let result = self.write_archive(&part);
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

    fn write_archive(&self, part: &Path) -> Result<BackupSummary, StoreError> {
        let io = |e: std::io::Error| io_err(part, e);
        let mut c = self.conn()?;
        let mut tx = c
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .px()?;
        tx.batch_execute("SET LOCAL client_encoding = 'UTF8'")
            .px()?;
        let versions: Vec<i64> = tx
            .query(
                "SELECT version FROM usalama_migrations ORDER BY version",
                &[],
            )
            .px()?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let created_at: String = tx
            .query_one(
                "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
                &[],
            )
            .px()?
            .get(0);
        let file = std::fs::File::create(part).map_err(io)?;
        let mut w = Hashing {
            inner: std::io::BufWriter::with_capacity(1 << 20, file),
            hash: Sha256::new(),
        };
        let header = Header {
            schema_versions: versions.clone(),
            created_at,
        };
        let json = |v: &dyn erased::Json| v.json();
        writeln!(w, "{ARCHIVE_MAGIC}").map_err(io)?;
        writeln!(w, "{}", json(&header)).map_err(io)?;
        let mut counts = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        for t in relations(&mut tx, "r")? {
            let cols = columns(&mut tx, &t)?;
            let line = TableLine {
                name: t.clone(),
                columns: cols.clone(),
            };
            writeln!(w, "TABLE {}", json(&line)).map_err(io)?;
            let mut rows = 0u64;
            let mut th = Sha256::new();
            {
                let mut r = tx
                    .copy_out(&format!(
                        "COPY {} ({}) TO STDOUT",
                        quote_ident(&t),
                        column_list(&cols)
                    ))
                    .px()?;
                loop {
                    let n = r
                        .read(&mut buf)
                        .map_err(|e| StoreError::Backend(e.to_string()))?;
                    if n == 0 {
                        break;
                    }
                    rows += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
                    th.update(&buf[..n]);
                    w.write_all(&buf[..n]).map_err(io)?;
                }
            }
            writeln!(w, "\\.").map_err(io)?;
            writeln!(w, "END {rows} {}", hex(&th.finalize())).map_err(io)?;
            counts.push(TableCount { table: t, rows });
        }
        for s in relations(&mut tx, "S")? {
            let r = tx
                .query_one(
                    &format!("SELECT last_value, is_called FROM {}", quote_ident(&s)),
                    &[],
                )
                .px()?;
            let line = SequenceLine {
                name: s,
                last_value: r.get(0),
                is_called: r.get(1),
            };
            writeln!(w, "SEQUENCE {}", json(&line)).map_err(io)?;
        }
        let total = hex(&w.hash.clone().finalize());
        let mut inner = w.inner;
        writeln!(inner, "END-BACKUP {total}").map_err(io)?;
        inner.flush().map_err(io)?;
        tx.commit().px()?;
        Ok(BackupSummary {
            backend: Backend::Postgres,
            schema_version: versions.iter().copied().max().unwrap_or(0),
            tables: counts,
        })
    }

    pub(super) fn d_restore(&self, src: &Path, force: bool) -> Result<BackupSummary, StoreError> {
        let file = std::fs::File::open(src).map_err(|e| io_err(src, e))?;
        let mut a = ArchiveReader {
            r: BufReader::with_capacity(1 << 20, file),
            src,
            line: Vec::new(),
            line_no: 0,
            total: Sha256::new(),
        };
        a.next(true)?;
        if a.line.starts_with(b"SQLite format 3") {
            return Err(StoreError::InvalidLocation(format!(
                "{} is a SQLite backup: restore it into a SQLite data directory (--data-dir)",
                src.display()
            )));
        }
        if a.line.strip_suffix(b"\n") != Some(ARCHIVE_MAGIC.as_bytes()) {
            return Err(StoreError::Foreign(format!(
                "{} (not a Usalama backup)",
                src.display()
            )));
        }
        a.next(true)?;
        let header: Header =
            serde_json::from_slice(&a.line).map_err(|e| corrupt(src, 2, format!("header: {e}")))?;
        let idx = check_versions(&header.schema_versions, migrate::POSTGRES)?;

        let mut c = self.conn()?;
        let mut tx = c.transaction().px()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .px()?;
        if !force {
            for t in relations(&mut tx, "r")? {
                let allowed = seeded_rows(&t);
                if allowed == i64::MAX {
                    continue;
                }
                let any: bool = tx
                    .query_one(
                        &format!(
                            "SELECT (SELECT count(*) FROM (SELECT 1 FROM {} LIMIT $1) x) > $2",
                            quote_ident(&t)
                        ),
                        &[&(allowed + 1), &allowed],
                    )
                    .px()?
                    .get(0);
                if any {
                    return Err(not_empty(&t));
                }
            }
        }
        drop_schema_objects(&mut tx)?;
        apply_migrations(&mut tx, &migrate::POSTGRES[..=idx])?;
        tx.batch_execute("DELETE FROM usalama_migrations").px()?;
        // Loading in any order needs the foreign keys off: they are dropped, and added again
        // (which checks every row) once everything is loaded; user triggers are paused.
        let fks: Vec<(String, String, String)> = tx
            .query(
                "SELECT c.conrelid::regclass::text, c.conname::text, pg_get_constraintdef(c.oid)
                 FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
                 WHERE n.nspname = current_schema() AND c.contype = 'f' ORDER BY 1, 2",
                &[],
            )
            .px()?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        for (rel, name, _) in &fks {
            tx.batch_execute(&format!(
                "ALTER TABLE {rel} DROP CONSTRAINT {}",
                quote_ident(name)
            ))
            .px()?;
        }
        let tables = relations(&mut tx, "r")?;
        for t in &tables {
            // Rows the migrations seeded (the audit head, the default organisation) are
            // in the backup too: the backup's rows replace them.
            tx.batch_execute(&format!(
                "ALTER TABLE {0} DISABLE TRIGGER USER; DELETE FROM {0}",
                quote_ident(t)
            ))
            .px()?;
        }
        let mut counts = Vec::new();
        let mut finished = false;
        while a.next(false)? {
            let line_no = a.line_no;
            let text = String::from_utf8_lossy(&a.line).into_owned();
            let text = text.trim_end_matches('\n');
            if let Some(rest) = text.strip_prefix("END-BACKUP ") {
                let got = hex(&a.total.clone().finalize());
                if rest != got {
                    return Err(corrupt(
                        src,
                        line_no,
                        "the archive's digest does not match its content",
                    ));
                }
                finished = true;
                break;
            }
            a.total.update(&a.line[..]);
            if let Some(rest) = text.strip_prefix("TABLE ") {
                let tl: TableLine = serde_json::from_str(rest)
                    .map_err(|e| corrupt(src, line_no, format!("TABLE line: {e}")))?;
                if !tables.contains(&tl.name) {
                    return Err(corrupt(
                        src,
                        line_no,
                        format!(
                            "table {} is not part of schema version {}",
                            tl.name,
                            migrate::POSTGRES[idx].version
                        ),
                    ));
                }
                let start = line_no;
                let mut rows = 0u64;
                let mut th = Sha256::new();
                {
                    let mut w = tx
                        .copy_in(&format!(
                            "COPY {} ({}) FROM STDIN",
                            quote_ident(&tl.name),
                            column_list(&tl.columns)
                        ))
                        .px()?;
                    loop {
                        if !a.next(true)? {
                            return Err(corrupt(
                                src,
                                a.line_no,
                                format!("table {} ends early", tl.name),
                            ));
                        }
                        if a.line == b"\\.\n" {
                            break;
                        }
                        rows += 1;
                        th.update(&a.line[..]);
                        w.write_all(&a.line)
                            .map_err(|e| StoreError::Backend(format!("table {}: {e}", tl.name)))?;
                    }
                    let loaded = w.finish().map_err(|e| {
                        corrupt(
                            src,
                            start,
                            format!("table {}: {}", tl.name, super::map_err(e)),
                        )
                    })?;
                    if loaded != rows {
                        return Err(corrupt(
                            src,
                            start,
                            format!("table {}: {loaded} rows loaded of {rows}", tl.name),
                        ));
                    }
                }
                if !a.next(true)? {
                    return Err(corrupt(src, a.line_no, "the archive ends early"));
                }
                let end = String::from_utf8_lossy(&a.line);
                let expected = format!("END {rows} {}", hex(&th.finalize()));
                if end.trim_end_matches('\n') != expected {
                    return Err(corrupt(
                        src,
                        a.line_no,
                        format!("table {}: row count or digest does not match", tl.name),
                    ));
                }
                counts.push(TableCount {
                    table: tl.name,
                    rows,
                });
            } else if let Some(rest) = text.strip_prefix("SEQUENCE ") {
                let s: SequenceLine = serde_json::from_str(rest)
                    .map_err(|e| corrupt(src, line_no, format!("SEQUENCE line: {e}")))?;
                tx.execute(
                    "SELECT setval($1::text::regclass, $2, $3)",
                    &[&quote_ident(&s.name), &s.last_value, &s.is_called],
                )
                .px()?;
            } else {
                return Err(corrupt(src, line_no, "unexpected line"));
            }
        }
        if !finished {
            return Err(corrupt(
                src,
                a.line_no,
                "the archive is truncated (no END-BACKUP line)",
            ));
        }
        for t in &tables {
            tx.batch_execute(&format!(
                "ALTER TABLE {} ENABLE TRIGGER USER",
                quote_ident(t)
            ))
            .px()?;
        }
        for (rel, name, def) in &fks {
            tx.batch_execute(&format!(
                "ALTER TABLE {rel} ADD CONSTRAINT {} {def}",
                quote_ident(name)
            ))
            .map_err(|e| {
                StoreError::Corrupt(format!(
                    "backup {}: rows of {rel} break {name}: {}",
                    src.display(),
                    super::map_err(e)
                ))
            })?;
        }
        apply_migrations(&mut tx, migrate::POSTGRES)?;
        tx.commit().px()?;
        Ok(BackupSummary {
            backend: Backend::Postgres,
            schema_version: migrate::POSTGRES[idx].version,
            tables: counts,
        })
    }

    pub(super) fn d_digests(&self) -> Result<Vec<TableDigest>, StoreError> {
        let mut c = self.conn()?;
        let mut tx = c
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .px()?;
        let mut out = Vec::new();
        for t in relations(&mut tx, "r")? {
            let cols = columns(&mut tx, &t)?;
            let mut d = RowDigests::default();
            {
                let r = tx
                    .copy_out(&format!(
                        "COPY {} ({}) TO STDOUT",
                        quote_ident(&t),
                        column_list(&cols)
                    ))
                    .px()?;
                let mut r = BufReader::new(r);
                let mut line = Vec::new();
                while r
                    .read_until(b'\n', &mut line)
                    .map_err(|e| StoreError::Backend(e.to_string()))?
                    > 0
                {
                    d.add(&line);
                    line.clear();
                }
            }
            out.push(d.finish(&t));
        }
        tx.commit().px()?;
        Ok(out)
    }

    pub(super) fn d_integrity(&self) -> Result<IntegrityReport, StoreError> {
        let mut c = self.conn()?;
        let find = |c: &mut postgres::Client| -> Result<Option<String>, StoreError> {
            Ok(c.query_opt(
                "SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
                 WHERE e.extname = 'amcheck'",
                &[],
            )
            .px()?
            .map(|r| r.get(0)))
        };
        let schema = match find(&mut c)? {
            Some(s) => s,
            None => {
                // In `public` when it exists, so that a schema dropped later does not take
                // the extension with it.
                let created = c.batch_execute(
                    "DO $$ BEGIN
                       IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'public') THEN
                         CREATE EXTENSION IF NOT EXISTS amcheck SCHEMA public;
                       ELSE
                         CREATE EXTENSION IF NOT EXISTS amcheck;
                       END IF;
                     END $$",
                );
                match (find(&mut c)?, created) {
                    (Some(s), _) => s,
                    (None, Err(e)) => {
                        return Err(StoreError::Unavailable(format!(
                            "the amcheck extension is not installed and cannot be: {}",
                            super::map_err(e)
                        )))
                    }
                    (None, Ok(())) => {
                        return Err(StoreError::Unavailable(
                            "the amcheck extension is not installed".into(),
                        ))
                    }
                }
            }
        };
        let indexes: Vec<(u32, String)> = c
            .query(
                "SELECT ic.oid, ic.relname::text FROM pg_index i
                   JOIN pg_class ic ON ic.oid = i.indexrelid
                   JOIN pg_namespace n ON n.oid = ic.relnamespace
                   JOIN pg_am am ON am.oid = ic.relam
                 WHERE n.nspname = current_schema() AND am.amname = 'btree' AND i.indisvalid
                 ORDER BY ic.relname",
                &[],
            )
            .px()?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let mut report = IntegrityReport::default();
        let sql = format!(
            "SELECT {}.bt_index_check(index => $1::oid::regclass, heapallindexed => true)",
            quote_ident(&schema)
        );
        for (oid, name) in indexes {
            report.checked.push(format!("bt_index_check({name})"));
            if let Err(e) = c.execute(&sql, &[&oid]) {
                report
                    .problems
                    .push(format!("index {name}: {}", super::map_err(e)));
            }
        }
        Ok(report)
    }
}

/// Reads an archive line by line, hashing what it reads.
struct ArchiveReader<'a> {
    r: BufReader<std::fs::File>,
    src: &'a Path,
    line: Vec<u8>,
    line_no: u64,
    total: Sha256,
}

impl ArchiveReader<'_> {
    /// Reads the next line (with its newline) into `line`, adding it to the archive's
    /// digest when `hash`; false at the end of the file.
    fn next(&mut self, hash: bool) -> Result<bool, StoreError> {
        self.line.clear();
        let n = self
            .r
            .read_until(b'\n', &mut self.line)
            .map_err(|e| io_err(self.src, e))?;
        self.line_no += 1;
        if hash {
            self.total.update(&self.line[..]);
        }
        Ok(n > 0)
    }
}

/// Drops every table, view, sequence, routine and type of the current schema that no
/// extension owns, so that migrations can rebuild the schema of the backup's version.
fn drop_schema_objects(tx: &mut postgres::Transaction<'_>) -> Result<(), StoreError> {
    for t in relations(tx, "r,p")? {
        tx.batch_execute(&format!("DROP TABLE IF EXISTS {} CASCADE", quote_ident(&t)))
            .px()?;
    }
    for (kinds, what) in [("v", "VIEW"), ("m", "MATERIALIZED VIEW"), ("S", "SEQUENCE")] {
        for o in relations(tx, kinds)? {
            tx.batch_execute(&format!(
                "DROP {what} IF EXISTS {} CASCADE",
                quote_ident(&o)
            ))
            .px()?;
        }
    }
    let not_extension =
        "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = o.oid AND d.deptype = 'e')";
    let routines: Vec<String> = tx
        .query(
            &format!(
                "SELECT o.oid::regprocedure::text FROM pg_proc o JOIN pg_namespace n ON n.oid = o.pronamespace
                 WHERE n.nspname = current_schema() AND o.prokind IN ('f', 'p') AND {not_extension}"
            ),
            &[],
        )
        .px()?
        .iter()
        .map(|r| r.get(0))
        .collect();
    for f in routines {
        tx.batch_execute(&format!("DROP ROUTINE IF EXISTS {f} CASCADE"))
            .px()?;
    }
    let types: Vec<String> = tx
        .query(
            &format!(
                "SELECT o.oid::regtype::text FROM pg_type o JOIN pg_namespace n ON n.oid = o.typnamespace
                 WHERE n.nspname = current_schema() AND o.typtype IN ('e', 'd') AND {not_extension}"
            ),
            &[],
        )
        .px()?
        .iter()
        .map(|r| r.get(0))
        .collect();
    for t in types {
        tx.batch_execute(&format!("DROP TYPE IF EXISTS {t} CASCADE"))
            .px()?;
    }
    Ok(())
}

/// Serialises the archive's JSON lines (they never fail: plain strings and numbers).
mod erased {
    /// A value written as one line of JSON.
    pub(super) trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap_or_default()
        }
    }
}
