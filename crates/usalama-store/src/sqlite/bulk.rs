//! Bulk loading on SQLite. A large import into a small events table writes its rows without
//! the secondary indexes of `events` and `event_actors` and rebuilds each index at the end by
//! one sort, instead of inserting every row into every index at a random place.
//!
//! Crash safety: the indexes' definitions (read from `sqlite_master`) are written to
//! `settings` under [`DROPPED_INDEXES`] in the same transaction that drops them; the end of
//! the load recreates them and deletes the note in one transaction; opening a store whose
//! note is still there while no process holds the load's lock (the process died
//! mid-import) recreates them before anything else. The lock is an exclusive transaction
//! on a side file (`usalama.sqlite3-bulk`), held from before the note is written until
//! after it is deleted; the operating system releases it when the process dies, so a store
//! opened beside a live import (a server, another command) leaves the import alone.
//! Unique indexes (the primary key, `(source, external_id)`) are never dropped, so upserts
//! stay correct; readers stay correct meanwhile, only slower.
//!
//! During the load, the batches are written through one dedicated connection with a large
//! page cache ([`BULK_CACHE_KIB`]) and rarer WAL checkpoints ([`BULK_WAL_PAGES`]); it keeps
//! `synchronous = FULL`, so every committed batch survives a crash. It is closed (its memory
//! returned) when the load ends.

use super::{map_err, ts, Manager, SqliteStore, Sx};
use crate::error::StoreError;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::MutexGuard;

/// The `settings` key holding the definitions of the indexes a bulk load dropped.
pub const DROPPED_INDEXES: &str = "bulk_load.dropped_indexes";

/// Page cache of the bulk-load connection, in KiB (`PRAGMA cache_size = -N`).
const BULK_CACHE_KIB: i64 = 256 * 1024;

/// WAL size, in pages, that triggers an automatic checkpoint during a bulk load (the
/// default is 1,000 pages, about 4 MiB).
const BULK_WAL_PAGES: i64 = 16_384;

/// The tables whose secondary indexes a bulk load drops.
const BULK_TABLES: [&str; 2] = ["events", "event_actors"];

/// A bulk load in progress in this process.
pub(super) struct BulkLoad {
    /// The connection its batches go through.
    conn: Connection,
    /// Holds the load's lock (an exclusive transaction on the side file).
    lock: Connection,
}

/// The side file whose lock marks a live bulk load of the database at `db`.
fn lock_path(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push("-bulk");
    PathBuf::from(p)
}

/// Takes the bulk-load lock of the database at `db` without waiting; `None` when another
/// connection holds it.
fn take_lock(db: &Path) -> Result<Option<Connection>, StoreError> {
    let c = Connection::open(lock_path(db)).sx()?;
    c.busy_timeout(std::time::Duration::ZERO).sx()?;
    match c.execute_batch("BEGIN EXCLUSIVE") {
        Ok(()) => Ok(Some(c)),
        Err(rusqlite::Error::SqliteFailure(f, _))
            if f.code == rusqlite::ErrorCode::DatabaseBusy =>
        {
            Ok(None)
        }
        Err(e) => Err(map_err(e)),
    }
}

/// Releases a lock taken by [`take_lock`] and removes its side file.
fn release_lock(db: &Path, lock: Connection) {
    drop(lock);
    let _ = std::fs::remove_file(lock_path(db));
}

/// The connection a write goes through: the bulk-load connection while a load is in
/// progress in this process, else one from the pool.
pub(super) enum WriteConn<'a> {
    Pooled(r2d2::PooledConnection<Manager>),
    Bulk(MutexGuard<'a, Option<BulkLoad>>),
}

impl std::ops::Deref for WriteConn<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        match self {
            WriteConn::Pooled(c) => c,
            // Only built around a guard holding a connection.
            WriteConn::Bulk(g) => &g.as_ref().expect("bulk connection").conn,
        }
    }
}

impl std::ops::DerefMut for WriteConn<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        match self {
            WriteConn::Pooled(c) => c,
            WriteConn::Bulk(g) => &mut g.as_mut().expect("bulk connection").conn,
        }
    }
}

/// One dropped index: its name and its `CREATE INDEX` statement.
type IndexDef = (String, String);

/// The secondary, non-unique indexes created by `CREATE INDEX` on the bulk tables.
fn secondary_indexes(tx: &Transaction<'_>) -> Result<Vec<IndexDef>, StoreError> {
    let mut out = Vec::new();
    for table in BULK_TABLES {
        let mut st = tx
            .prepare(
                "SELECT m.name, m.sql FROM sqlite_master m
                   JOIN pragma_index_list(?1) il ON il.name = m.name
                 WHERE m.type = 'index' AND m.tbl_name = ?1 AND m.sql IS NOT NULL
                   AND il.\"unique\" = 0 AND il.origin = 'c'
                 ORDER BY m.name",
            )
            .sx()?;
        let rows = st.query_map([table], |r| Ok((r.get(0)?, r.get(1)?))).sx()?;
        for r in rows {
            out.push(r.sx()?);
        }
    }
    Ok(out)
}

/// Recreates the indexes noted under [`DROPPED_INDEXES`] (those not already there) and
/// deletes the note, inside `tx`. Returns how many it created.
fn restore_in(tx: &Transaction<'_>) -> Result<usize, StoreError> {
    let has_settings: bool = tx
        .query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'settings'",
            [],
            |r| r.get(0),
        )
        .sx()?;
    if !has_settings {
        return Ok(0);
    }
    let note: Option<Vec<u8>> = tx
        .query_row(
            "SELECT value FROM settings WHERE key = ?1",
            [DROPPED_INDEXES],
            |r| r.get(0),
        )
        .optional()
        .sx()?;
    let Some(note) = note else {
        return Ok(0);
    };
    let defs: Vec<IndexDef> =
        serde_json::from_slice(&note).map_err(|e| StoreError::InvalidRecord {
            id: format!("settings.{DROPPED_INDEXES}"),
            reason: e.to_string(),
        })?;
    let mut created = 0;
    for (name, sql) in &defs {
        let exists: bool = tx
            .query_row(
                "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'index' AND name = ?1",
                [name],
                |r| r.get(0),
            )
            .sx()?;
        if !exists {
            tx.execute_batch(sql).sx()?;
            created += 1;
        }
    }
    tx.execute("DELETE FROM settings WHERE key = ?1", [DROPPED_INDEXES])
        .sx()?;
    Ok(created)
}

/// Recreates, in one transaction, the indexes an interrupted bulk load left dropped; run
/// when a store is opened, before its migrations. A load still running in another process
/// (it holds the lock) is left alone.
pub(super) fn restore_dropped_indexes(c: &mut Connection, db: &Path) -> Result<(), StoreError> {
    let noted: bool = c
        .query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'settings'",
            [],
            |r| r.get(0),
        )
        .sx()?
        && c.query_row(
            "SELECT count(*) > 0 FROM settings WHERE key = ?1",
            [DROPPED_INDEXES],
            |r| r.get(0),
        )
        .sx()?;
    if !noted {
        return Ok(());
    }
    let Some(lock) = take_lock(db)? else {
        tracing::info!(
            "a bulk import is running on this database: its indexes come back when it ends"
        );
        return Ok(());
    };
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .sx()?;
    let n = restore_in(&tx)?;
    tx.commit().sx()?;
    release_lock(db, lock);
    if n > 0 {
        tracing::warn!(
            indexes = n,
            "an interrupted bulk import had dropped indexes: recreated"
        );
    }
    Ok(())
}

impl SqliteStore {
    /// The connection for a write (see [`WriteConn`]).
    pub(super) fn writer(&self) -> Result<WriteConn<'_>, StoreError> {
        let guard = self.bulk.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_some() {
            return Ok(WriteConn::Bulk(guard));
        }
        drop(guard);
        Ok(WriteConn::Pooled(self.conn()?))
    }

    pub(super) fn bulk_begin(&self, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut slot = self.bulk.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_some() {
            return Ok(false);
        }
        let Some(lock) = take_lock(&self.path)? else {
            // Another process is bulk loading: write normally beside it.
            return Ok(false);
        };
        let mut c = r2d2::ManageConnection::connect(&Manager {
            path: self.path.clone(),
            opts: self.opts.clone(),
        })
        .map_err(map_err)?;
        c.execute_batch(&format!(
            "PRAGMA cache_size = -{BULK_CACHE_KIB}; PRAGMA wal_autocheckpoint = {BULK_WAL_PAGES};
             PRAGMA threads = 2;"
        ))
        .sx()?;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sx()?;
        // A note left by a load that died after this store was opened: repair first.
        restore_in(&tx)?;
        let defs = secondary_indexes(&tx)?;
        let note = serde_json::to_vec(&defs).map_err(|e| StoreError::Backend(e.to_string()))?;
        tx.execute(
            "INSERT INTO settings (key, value, created_at) VALUES (?1, ?2, ?3)",
            params![DROPPED_INDEXES, note, ts(&now)],
        )
        .sx()?;
        for (name, _) in &defs {
            tx.execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))
                .sx()?;
        }
        tx.commit().sx()?;
        *slot = Some(BulkLoad { conn: c, lock });
        Ok(true)
    }

    pub(super) fn bulk_end(&self) -> Result<(), StoreError> {
        let mut slot = self.bulk.lock().unwrap_or_else(|p| p.into_inner());
        let Some(mut load) = slot.take() else {
            return Ok(());
        };
        let tx = load
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sx()?;
        restore_in(&tx)?;
        tx.commit().sx()?;
        // Fold the large WAL back into the database now rather than on a reader's time.
        load.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .sx()?;
        release_lock(&self.path, load.lock);
        Ok(())
    }
}

impl SqliteStore {
    /// Every object of the schema (`type`, `name`, `sql` of `sqlite_master`), sorted by
    /// type and name: to check that a bulk load leaves the schema as it found it.
    pub fn schema_objects(&self) -> Result<Vec<(String, String, Option<String>)>, StoreError> {
        let c = self.conn()?;
        let mut st = c
            .prepare("SELECT type, name, sql FROM sqlite_master ORDER BY type, name")
            .sx()?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .sx()?;
        rows.collect::<Result<Vec<_>, _>>().sx()
    }
}
