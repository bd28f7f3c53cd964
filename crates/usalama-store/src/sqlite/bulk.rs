//! Bulk loading on SQLite. A large import into a small events table writes its rows without
//! the secondary indexes of `events` and `event_actors` and rebuilds each index at the end by
//! one sort, instead of inserting every row into every index at a random place. An index
//! that takes the rows by appends (one column of few values) stays ([`secondary_indexes`]).
//!
//! Crash safety: the indexes' definitions (read from `sqlite_master`) are written to
//! `settings` under [`DROPPED_INDEXES`] in the same transaction that drops them; the end of
//! the load recreates them and deletes the note in one transaction; opening a store whose
//! note is still there while no process holds the load's lock (the process died
//! mid-import) recreates them before anything else. The lock is an exclusive transaction
//! on a side file (`usalama.sqlite3-bulk`), held from before the note is written until
//! after it is deleted; the operating system releases it when the process dies, so a store
//! opened beside a live import (a server, another command) leaves the import alone.
//! Unique indexes that upserts find records by (the primary keys, `(source, external_id)`)
//! are never dropped, so upserts stay correct; the event-actor key is ([`LATE_KEYS`]): the
//! load keeps its links unique itself. Partial indexes that the load's rows mostly skip
//! stay too (see [`secondary_indexes`]). Readers stay correct meanwhile, only slower.
//!
//! During the load, the batches are written through one dedicated connection with a large
//! page cache ([`BULK_CACHE_KIB`]), in transactions of [`BULK_COMMIT_ROWS`] rows (several
//! batches; see [`SqliteStore::write`]): other connections see the load's rows at each of
//! those commits and at its end. Its foreign-key checks are off. Only an import starts a
//! load, in a process that writes nothing else meanwhile (`usalama import`, or `usalama
//! demo` before it serves); its rows name the localities the store held when it began and
//! the actors it wrote just before them in the same transaction, so checking each row's
//! five locality and two actor references again was pure cost (6 % of a 1,000,000-event
//! import's time). It is closed (its memory returned) when the load ends.
//!
//! Writing to disk, when the store writes through a rollback journal (an import that has
//! the store to itself, `journal.rs`): each commit writes the load's pages into the
//! database once and syncs it with the store's own setting, so a commit is durable when it
//! returns; there is no WAL to flush or copy. What follows is the WAL's case.
//!
//! Writing to disk through the WAL: the load's commits go into the WAL without waiting for the disk
//! (`synchronous = NORMAL`) and SQLite does not checkpoint the WAL into the database until
//! it holds [`BULK_WAL_BYTES`]; meanwhile a thread syncs the WAL file every
//! [`FLUSH_EVERY`] ([`WalFlusher`]), so the disk writes it while the load goes on. At the
//! end, the store's checkpoint thread (`checkpointer.rs`, paused during the load) copies
//! the load's WAL into the database while the load's connection rebuilds the indexes, whose commit is made with the store's own `synchronous` setting (`FULL`) and
//! so syncs the whole WAL before the import reports what it wrote; a last checkpoint then
//! folds the rebuilt indexes in and empties the WAL. Until that commit the import has
//! acknowledged nothing: a process crash loses the rows since the last commit (at most
//! [`BULK_COMMIT_ROWS`]), a power cut possibly every row of the load, never what was stored
//! before it (WAL mode with `synchronous = NORMAL` keeps the database consistent); the
//! next open restores the indexes and re-importing the file writes the rows again. Another
//! process writing beside a load (a server taking reports) pays for the large WAL: its
//! next commit's automatic checkpoint copies the load's frames so far (seconds, once, on
//! that one write), and the later ones only what followed. With a checkpoint after every
//! commit and each commit waiting for the disk, a 1,000,000-event import spent 10 s of its
//! writing thread in `fsync` (BENCHMARKS.md, "Eleventh session"; the change: "Twelfth
//! session").

use super::{checkpoint_truncate, journal, map_err, ts, Manager, SqliteStore, Sx};
use crate::durability::quote_ident;
use crate::error::StoreError;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

/// The `settings` key holding the definitions of the indexes a bulk load dropped.
pub const DROPPED_INDEXES: &str = "bulk_load.dropped_indexes";

/// Page cache of the bulk-load connection, in KiB (`PRAGMA cache_size = -N`). With 256 MiB
/// a 1,000,000-event import peaked at 466-503 MiB (the rebuilt indexes' sorter comes on
/// top of the cache at the end); with 160 MiB at 360-392 MiB, for 3-5 % more time.
const BULK_CACHE_KIB: i64 = 160 * 1024;

/// Page cache of the bulk-load connection while it rebuilds the dropped indexes, in KiB.
/// SQLite's sorter keeps up to a page cache's worth of keys in one run before writing it
/// out: with the load's 160 MiB, a 1,000,000-event index was one run sorted on one thread
/// (the seven full indexes of such a load took 16.7-17.1 s, the sorter's memory on top of
/// the cache); with 8 MiB, runs of 8 MiB are sorted on the helper thread beside the scan
/// and merged (11.1-11.8 s, and 37 MB instead of 229 MB for one rebuild). Smaller runs sort
/// faster still, down to 4 MiB (the six indexes of `events` in the sqlite3 shell, five
/// runs each: median 8.8 s with 4 MiB, 9.3 s with 8 MiB, 10.5-10.8 s with 16 MiB; 2 MiB and
/// 1 MiB no faster than 4).
const REBUILD_CACHE_KIB: i64 = 4 * 1024;

/// WAL size, in bytes, that triggers an automatic checkpoint during a bulk load (the
/// default is 1,000 pages, about 4 MiB). A 1,000,000-event import writes about 1.5 GB of WAL,
/// so it is checkpointed once, at the end; a larger one is checkpointed every 2 GiB, which
/// bounds the disk space the load borrows.
const BULK_WAL_BYTES: i64 = 2 << 30;

/// How often the [`WalFlusher`] syncs the WAL file during a bulk load.
const FLUSH_EVERY: Duration = Duration::from_millis(200);

/// Rows a bulk load writes between two commits. Its batches share one transaction until
/// then: a commit writes every page the batches changed into the WAL, and batches of
/// events with random ids change most pages of the id and event-actor indexes, so one
/// commit per 10,000-event batch wrote those indexes again and again (in a measurement of
/// SQLite alone with our rows, 1,000,000 events took 72 s of CPU with a commit every
/// 10,000 and 46-48 s with one every 100,000 or a single one).
pub(super) const BULK_COMMIT_ROWS: usize = 100_000;

/// How long a bulk load leaves the write lock free after each commit, so that a writer of
/// another process (a server taking a report) waiting for it gets it: the load would
/// otherwise begin its next transaction within microseconds. Beside a 1,000,000-event
/// import, reports sent once a second got 500s after the 30 s busy timeout without it
/// (BENCHMARKS.md, "Twelfth session"). A waiting connection tries every
/// [`BUSY_POLL`](super::BUSY_POLL) (5 ms), so four of its tries fall in the pause. (With
/// SQLite's own busy handler, which tries every 100 ms, the pause was 120 ms: 1.2 s of a
/// 1,000,000-event import.)
const YIELD_AFTER_COMMIT: Duration = Duration::from_millis(20);

/// The tables whose secondary indexes a bulk load drops.
const BULK_TABLES: [&str; 2] = ["events", "event_actors"];

/// Unique indexes a bulk load drops with the secondary ones and builds again at its end,
/// because its own writes keep them unique: the event-actor key. A new event's links are new
/// (so is its id), a flattened row names each link once (`EventRow::from_placed`), and a
/// changed event's links are deleted before its new ones are written. Before a write reads
/// or changes a stored event's links it builds the key again ([`ensure_late_keys`]), which
/// it would otherwise find by reading every link. Inserting the load's links at random
/// places of that key was most of what SQLite spends on keys during a load: building it at
/// the end took 18 % less CPU for the whole load (`bench/sqlite_floor.py`, variant
/// `latea`; migration `0013_droppable_actor_key`). Each comes with the statement that
/// deletes repeated entries (exact copies), should the key ever fail to build.
pub(super) const LATE_KEYS: [(&str, &str); 1] = [(
    "event_actors_key",
    "DELETE FROM event_actors WHERE rowid NOT IN
       (SELECT min(rowid) FROM event_actors GROUP BY event_id, actor_id, role)",
)];

/// The statement deleting the repeats of the late key `name`, if `name` is one of the
/// [`LATE_KEYS`].
fn late_key(name: &str) -> Option<&'static str> {
    LATE_KEYS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, dedupe)| *dedupe)
}

/// A bulk load in progress in this process.
pub(super) struct BulkLoad {
    /// The connection its batches go through.
    conn: Connection,
    /// Holds the load's lock (an exclusive transaction on the side file).
    lock: Connection,
    /// Rows written in the open transaction since the last commit.
    pending: usize,
    /// Syncs the WAL in the background; stops when the load ends.
    _flusher: Option<WalFlusher>,
    /// Keeps the store's checkpoint thread out of the load's WAL until the rebuild of the
    /// indexes begins.
    paused: Option<super::checkpointer::Paused>,
}

/// A thread that syncs the WAL file of a bulk load every [`FLUSH_EVERY`], so that the disk
/// writes the load's pages while it goes on instead of all at the checkpoint's sync. It
/// opens the WAL file read-only, never the database file: closing a second descriptor of
/// the database would drop the POSIX locks SQLite holds on it in this process. Dropping it
/// stops and joins the thread.
struct WalFlusher {
    /// Dropped to tell the thread to stop.
    stop: Option<mpsc::Sender<()>>,
    /// The thread, joined on drop.
    thread: Option<JoinHandle<()>>,
}

impl WalFlusher {
    /// Starts syncing the WAL of the database at `db`; `None` when the WAL cannot be
    /// opened (the load then goes on without it, only slower).
    fn start(db: &Path) -> Option<Self> {
        let wal = std::fs::File::open(beside(db, "-wal")).ok()?;
        let (stop, rx) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("usalama-wal-flush".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(FLUSH_EVERY) {
                    if let Err(e) = wal.sync_data() {
                        tracing::debug!(error = %e, "bulk load: syncing the WAL failed");
                    }
                }
            })
            .ok()?;
        Some(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for WalFlusher {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The file beside the database at `db` whose name ends in `suffix` (`-wal`, `-bulk`).
fn beside(db: &Path, suffix: &str) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

/// The side file whose lock marks a live bulk load of the database at `db`.
fn lock_path(db: &Path) -> PathBuf {
    beside(db, "-bulk")
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

/// One dropped index: its name and its `CREATE INDEX` statement.
type IndexDef = (String, String);

/// The indexes created by `CREATE INDEX` on the bulk tables that a bulk load drops: the
/// [`LATE_KEYS`] and, of the non-unique ones, every full one but those that take the
/// load's rows by appends ([`appends_in_runs`]), and each partial one that indexes a
/// tenth of its table's rows or more. A partial index that indexes fewer (a duplicate's
/// link, an organisation's records, sealed or personal data, unverified reports, when the
/// import brings none of those) is kept: the load's rows mostly skip it, while rebuilding
/// it would cost a scan of the whole table (0.3-0.5 s at 1,000,000 events). The load
/// starts once the import has written as many rows as the table held, so at least half
/// the table is the import's own and tells what its other rows will be.
fn secondary_indexes(tx: &Transaction<'_>) -> Result<Vec<IndexDef>, StoreError> {
    let mut out = Vec::new();
    for table in BULK_TABLES {
        let mut st = tx
            .prepare(
                "SELECT m.name, m.sql, il.partial, il.\"unique\" FROM sqlite_master m
                   JOIN pragma_index_list(?1) il ON il.name = m.name
                 WHERE m.type = 'index' AND m.tbl_name = ?1 AND m.sql IS NOT NULL
                   AND il.origin = 'c'
                 ORDER BY m.name",
            )
            .sx()?;
        let rows = st
            .query_map([table], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get::<_, bool>(2)?,
                    r.get::<_, bool>(3)?,
                ))
            })
            .sx()?;
        let rows: Vec<(String, String, bool, bool)> = rows.collect::<Result<_, _>>().sx()?;
        let total: i64 = tx
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .sx()?;
        for (name, sql, partial, unique) in rows {
            let keep = if unique {
                late_key(&name).is_none()
            } else {
                match partial_where(&sql).filter(|_| partial) {
                    Some(cond) => indexes_few(tx, table, &name, cond, total),
                    None => appends_in_runs(tx, table, &name, total)?,
                }
            };
            if !keep {
                out.push((name, sql));
            }
        }
    }
    Ok(out)
}

/// Most distinct keys an index kept during a load may have ([`appends_in_runs`]): each
/// key's last leaf page stays in the load's page cache, 4 KiB each, 40 MiB at most.
const RUN_KEYS_MAX: i64 = 10_000;

/// Whether the full index `name` on `table` costs little to keep during a load: it has one
/// column, whose values are few (at most [`RUN_KEYS_MAX`], and a hundredth of the table's
/// `total` rows), so its entries `(value, rowid)` form one run per value, and the load's
/// rows, whose rowids only grow, land at the end of their value's run, on a page that
/// stays in the cache. The actor index of `event_actors` is such an index (a few hundred
/// actors for a million links): rebuilding it by a sort took 2.5 s at 1,000,000 events.
fn appends_in_runs(
    tx: &Transaction<'_>,
    table: &str,
    name: &str,
    total: i64,
) -> Result<bool, StoreError> {
    // An index on an expression has no column name.
    let (columns, col): (i64, Option<String>) = tx
        .query_row(
            "SELECT count(*), max(name) FROM pragma_index_info(?1)",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .sx()?;
    let (1, Some(col)) = (columns, col) else {
        return Ok(false);
    };
    let limit = RUN_KEYS_MAX.min(total / 100);
    if limit == 0 {
        // Under a hundred rows tell nothing about the load's values.
        return Ok(false);
    }
    let distinct: i64 = tx
        .query_row(
            &format!(
                "SELECT count(*) FROM (SELECT DISTINCT {} FROM {table} LIMIT ?1)",
                quote_ident(&col)
            ),
            [limit + 1],
            |r| r.get(0),
        )
        .sx()?;
    Ok(distinct <= limit)
}

/// The condition of a partial index's `CREATE INDEX … ON t(…) WHERE cond` statement.
fn partial_where(sql: &str) -> Option<&str> {
    let open = sql.find('(')?;
    let mut depth = 0usize;
    let close = sql[open..].char_indices().find_map(|(i, c)| {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
        None
    })?;
    let rest = sql[close + 1..].trim_start();
    let kw = rest.get(..5)?;
    kw.eq_ignore_ascii_case("WHERE")
        .then(|| rest[5..].trim())
        .filter(|c| !c.is_empty())
}

/// Whether the partial index `name` on `table` (condition `cond`) holds fewer than a tenth
/// of the table's `total` rows; it reads at most that many of its entries. An index SQLite
/// cannot use for its own condition counts as not few (it is dropped, as every secondary
/// index once was).
fn indexes_few(tx: &Transaction<'_>, table: &str, name: &str, cond: &str, total: i64) -> bool {
    let limit = total / 10;
    let sql = format!(
        "SELECT count(*) FROM (SELECT 1 FROM {table} INDEXED BY {} WHERE {cond} LIMIT ?1)",
        quote_ident(name)
    );
    tx.query_row(&sql, [limit], |r| r.get::<_, i64>(0))
        .is_ok_and(|held| held < limit)
}

/// The indexes noted under [`DROPPED_INDEXES`] on `c`'s store, or `None` without a note.
fn noted_indexes(c: &Connection) -> Result<Option<Vec<IndexDef>>, StoreError> {
    let has_settings: bool = c
        .query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'settings'",
            [],
            |r| r.get(0),
        )
        .sx()?;
    if !has_settings {
        return Ok(None);
    }
    let note: Option<Vec<u8>> = c
        .query_row(
            "SELECT value FROM settings WHERE key = ?1",
            [DROPPED_INDEXES],
            |r| r.get(0),
        )
        .optional()
        .sx()?;
    note.map(|n| {
        serde_json::from_slice(&n).map_err(|e| StoreError::InvalidRecord {
            id: format!("settings.{DROPPED_INDEXES}"),
            reason: e.to_string(),
        })
    })
    .transpose()
}

/// Creates those of `defs` that `c`'s schema lacks; returns how many.
fn create_missing<'a>(
    c: &Connection,
    defs: impl IntoIterator<Item = &'a IndexDef>,
) -> Result<usize, StoreError> {
    let mut created = 0;
    for (name, sql) in defs {
        let exists: bool = c
            .query_row(
                "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'index' AND name = ?1",
                [name],
                |r| r.get(0),
            )
            .sx()?;
        if !exists {
            if let Err(e) = c.execute_batch(sql) {
                let Some(dedupe) = late_key(name) else {
                    return Err(e).sx();
                };
                // Not expected (the load writes each entry once), but a store whose key
                // cannot be built could not be opened: the repeats are exact copies, so
                // all but one of each go.
                let gone = c.execute(dedupe, []).sx()?;
                tracing::warn!(rows = gone, index = %name, error = %e, "repeated rows removed to build their key");
                c.execute_batch(sql).sx()?;
            }
            created += 1;
        }
    }
    Ok(created)
}

/// Recreates the indexes noted under [`DROPPED_INDEXES`] (those not already there) and
/// deletes the note, inside `tx`. Returns how many it created.
fn restore_in(tx: &Transaction<'_>) -> Result<usize, StoreError> {
    let Some(defs) = noted_indexes(tx)? else {
        return Ok(0);
    };
    let created = create_missing(tx, &defs)?;
    tx.execute("DELETE FROM settings WHERE key = ?1", [DROPPED_INDEXES])
        .sx()?;
    Ok(created)
}

/// Builds again, inside the open transaction on `c`, the [`LATE_KEYS`] that a bulk load
/// (of this process or another) dropped, before a write reads or changes a stored event's
/// links: it then finds them by the key instead of reading every link of the store (a
/// re-import changing many events during a load would read them all for each). The note
/// stays; the load's end recreates what is still missing. Costs one read of the settings
/// when no load runs.
pub(super) fn ensure_late_keys(c: &Connection) -> Result<(), StoreError> {
    let Some(defs) = noted_indexes(c)? else {
        return Ok(());
    };
    let late = defs.iter().filter(|(name, _)| late_key(name).is_some());
    let created = create_missing(c, late)?;
    if created > 0 {
        tracing::info!(
            "a bulk load's dropped event-actor key was built again to change stored links"
        );
    }
    Ok(())
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
    /// Runs `f` as one write of `rows` rows: in its own transaction on a pooled connection;
    /// or, while a bulk load runs in this process, on the load's connection inside its open
    /// transaction, which is committed once it holds [`BULK_COMMIT_ROWS`] rows (or the number
    /// the store was given) (and when the
    /// load ends). An error in a bulk load rolls back the open transaction: every write since
    /// its last commit, not only this one (the import then fails; re-importing the file
    /// writes them again).
    pub(super) fn write<T>(
        &self,
        rows: usize,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut guard = self.bulk.lock().unwrap_or_else(|p| p.into_inner());
        let Some(load) = guard.as_mut() else {
            drop(guard);
            let mut c = self.conn()?;
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .sx()?;
            let out = f(&tx)?;
            tx.commit().sx()?;
            return Ok(out);
        };
        let every = self.bulk_commit_rows;
        let run = |load: &mut BulkLoad| -> Result<T, StoreError> {
            if load.conn.is_autocommit() {
                load.conn.execute_batch("BEGIN IMMEDIATE").sx()?;
            }
            let out = f(&load.conn)?;
            load.pending += rows;
            if load.pending >= every {
                load.conn.execute_batch("COMMIT").sx()?;
                load.pending = 0;
                std::thread::sleep(YIELD_AFTER_COMMIT);
            }
            Ok(out)
        };
        let out = run(load);
        if out.is_err() {
            if !load.conn.is_autocommit() {
                let _ = load.conn.execute_batch("ROLLBACK");
            }
            load.pending = 0;
        }
        out
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
        let mut c = r2d2::ManageConnection::connect(&self.manager()).map_err(map_err)?;
        let page: i64 = c.query_row("PRAGMA page_size", [], |r| r.get(0)).sx()?;
        c.execute_batch(&format!(
            "PRAGMA cache_size = -{BULK_CACHE_KIB}; PRAGMA wal_autocheckpoint = {};
             PRAGMA threads = 2; PRAGMA foreign_keys = OFF;",
            BULK_WAL_BYTES / page
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
            tx.execute_batch(&format!("DROP INDEX {}", quote_ident(name)))
                .sx()?;
        }
        tx.commit().sx()?;
        // The note and the drops are on disk (the store's own setting); the load's
        // commits need not wait for it in the WAL. Through a rollback journal (an import
        // alone, `journal.rs`) they keep the store's setting: with less, a power cut can
        // damage the database.
        if journal::mode(&c)? == "wal" {
            c.execute_batch("PRAGMA synchronous = NORMAL").sx()?;
        }
        *slot = Some(BulkLoad {
            conn: c,
            lock,
            pending: 0,
            _flusher: WalFlusher::start(&self.path),
            paused: Some(self.checkpointer.pause()),
        });
        Ok(true)
    }

    pub(super) fn bulk_end(&self) -> Result<(), StoreError> {
        let mut slot = self.bulk.lock().unwrap_or_else(|p| p.into_inner());
        let Some(mut load) = slot.take() else {
            return Ok(());
        };
        let own_sync = format!("PRAGMA synchronous = {}", self.opts.synchronous);
        if !load.conn.is_autocommit() {
            if let Err(e) = load.conn.execute_batch("COMMIT").sx() {
                let _ = load.conn.execute_batch("ROLLBACK");
                load.conn.execute_batch(&own_sync).sx()?;
                // The load still ends: its indexes come back below.
                let tx = load
                    .conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .sx()?;
                restore_in(&tx)?;
                tx.commit().sx()?;
                release_lock(&self.path, load.lock);
                return Err(e);
            }
        }
        load.conn
            .execute_batch(&format!(
                "PRAGMA cache_size = -{REBUILD_CACHE_KIB}; {own_sync}"
            ))
            .sx()?;
        // The store's checkpoint thread copies the load's WAL beside the rebuild.
        load.paused = None;
        let tx = load
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sx()?;
        restore_in(&tx)?;
        tx.commit().sx()?;
        // Fold the rest of the WAL back into the database now rather than on a reader's
        // time (once the thread's copy is done).
        checkpoint_truncate(&load.conn)?;
        release_lock(&self.path, load.lock);
        Ok(())
    }

    /// Opens connections of this store's own kind (the pool's settings) outside its pool.
    fn manager(&self) -> Manager {
        Manager {
            path: self.path.clone(),
            opts: self.opts.clone(),
        }
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

#[cfg(test)]
mod tests {
    use super::partial_where;

    #[test]
    fn the_condition_of_a_partial_index_is_found() {
        assert_eq!(
            partial_where("CREATE INDEX a ON t(x, coalesce(y, 0) DESC) WHERE x <> 'v'"),
            Some("x <> 'v'")
        );
        assert_eq!(
            partial_where("CREATE INDEX p ON events(id)\n    where people <> '[]'"),
            Some("people <> '[]'")
        );
        assert_eq!(partial_where("CREATE INDEX a ON t(x, y)"), None);
        assert_eq!(partial_where("CREATE INDEX a ON t(x WHERE"), None);
    }
}
