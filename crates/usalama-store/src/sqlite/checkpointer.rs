//! Checkpoints off the writers' path. In WAL mode a commit only appends pages to the WAL;
//! copying them back into the database (a checkpoint) is SQLite's job for whichever
//! connection commits past `wal_autocheckpoint` frames (1,000 by default), inside that
//! writer's call. A batch of 10,000 reports into a store of 120,000 events writes about
//! 10,000 pages, and its checkpoint took as long as its inserts (300-380 ms against
//! 340-400 ms, BENCHMARKS.md "Seventeenth session"), all on the request's time.
//!
//! Here the pool's connections checkpoint only past [`WRITER_BACKSTOP_FRAMES`], and a
//! thread of the store's own ([`Checkpointer`]) runs a passive checkpoint, which waits for
//! no writer, every [`TICK`] in which another connection committed (`PRAGMA data_version`
//! changed). The copy then runs on the other core while the next request is read and
//! checked. It pauses while this process's bulk load writes its rows, and copies the
//! load's WAL beside the rebuild of the indexes that ends the load (`bulk.rs`). Durability is unchanged: a commit is acknowledged once its WAL frames are
//! synced (`synchronous = FULL`); a checkpoint only moves committed pages, syncing the WAL
//! before and the database after.
//!
//! SQLite reuses the WAL file from its start once every frame is copied, but never makes
//! the file smaller: batches sent back to back, each starting before the copy of the one
//! before has ended, left a WAL of 298 MiB beside a database of 211 MiB (BENCHMARKS.md,
//! "Thirtieth session"). After [`QUIET_TICKS`] without a commit, the thread truncates a WAL
//! larger than [`WAL_KEEP_BYTES`], giving the disk back.

use rusqlite::Connection;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the checkpointer looks for new commits.
pub(super) const TICK: Duration = Duration::from_millis(200);

/// WAL frames past which a pool connection checkpoints by itself after its commit (SQLite's
/// `wal_autocheckpoint`): a backstop for when the checkpointer cannot keep up or has
/// stopped. 65,536 frames are 256 MiB with 4 KiB pages, more than a batch of 10,000 reports
/// writes into a store of 1,000,000 events.
pub(super) const WRITER_BACKSTOP_FRAMES: i64 = 65_536;

/// Ticks without a commit after which a large WAL is truncated (5 s), and again after each
/// as many while it stays large.
pub(super) const QUIET_TICKS: u32 = 25;

/// A WAL file above this size (128 MiB) is truncated once the store is quiet. A batch of
/// 10,000 reports into a store of 1,000,000 events writes about 66 MiB: a WAL of one such
/// batch is kept for the next one to write over (a new file costs block allocations);
/// what a burst of them leaves is given back.
pub(super) const WAL_KEEP_BYTES: u64 = 128 << 20;

/// How long the truncating checkpoint waits for readers and writers to finish before it
/// gives up until the next quiet spell: it holds back new writers while it waits.
const TRUNCATE_WAIT: Duration = Duration::from_millis(100);

/// The store's checkpointing thread. Dropping it stops and joins the thread, whose
/// connection then closes (the last one to close checkpoints and removes the WAL).
pub(super) struct Checkpointer {
    /// Dropped to tell the thread to stop.
    stop: Option<mpsc::Sender<()>>,
    /// The thread, joined on drop.
    thread: Option<JoinHandle<()>>,
    /// Set while a bulk load of this process writes its rows.
    paused: Arc<AtomicBool>,
}

impl Checkpointer {
    /// Starts checkpointing through `conn`, a connection of the store's own. When the
    /// thread cannot be started, the store goes on with the writers' backstop alone.
    pub(super) fn start(conn: Connection) -> Self {
        let (stop, rx) = mpsc::channel::<()>();
        let paused = Arc::new(AtomicBool::new(false));
        let p = paused.clone();
        let thread = std::thread::Builder::new()
            .name("usalama-checkpoint".into())
            .spawn(move || run(&conn, &rx, &p))
            .map_err(|e| tracing::warn!(error = %e, "the checkpoint thread did not start"))
            .ok();
        Self {
            stop: Some(stop),
            thread,
            paused,
        }
    }

    /// Pauses the thread until the returned guard is dropped (a bulk load).
    pub(super) fn pause(&self) -> Paused {
        self.paused.store(true, Ordering::SeqCst);
        Paused(self.paused.clone())
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Resumes the checkpointer when dropped.
pub(super) struct Paused(Arc<AtomicBool>);

impl Drop for Paused {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// The thread's loop: a passive checkpoint after each tick in which data changed.
fn run(c: &Connection, stop: &mpsc::Receiver<()>, paused: &AtomicBool) {
    let version = |c: &Connection| -> rusqlite::Result<i64> {
        c.query_row("PRAGMA data_version", [], |r| r.get(0))
    };
    // Unknown at first: the first tick checkpoints whatever the WAL holds (frames left by
    // a process that stopped before copying them, or committed before the thread ran).
    let mut seen: Option<i64> = None;
    // Ticks since the last commit, once every frame was copied.
    let mut quiet: u32 = 0;
    let wal = c.path().map(|p| format!("{p}-wal"));
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(TICK) {
        if paused.load(Ordering::SeqCst) {
            continue;
        }
        let now = match version(c) {
            Ok(v) => v,
            Err(e) => {
                tracing::debug!(error = %e, "checkpoint thread: data_version failed");
                continue;
            }
        };
        if seen == Some(now) {
            quiet = quiet.wrapping_add(1);
            if quiet % QUIET_TICKS == 0 {
                if let Some(wal) = &wal {
                    truncate_if_large(c, wal);
                }
            }
            continue;
        }
        quiet = 0;
        // (busy, frames in the WAL, frames copied). Until every frame is copied (another
        // checkpoint was under way, or a reader still needs older pages), the next tick
        // tries again.
        let done = c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok(r.get::<_, i64>(0)? == 0 && r.get::<_, i64>(1)? == r.get::<_, i64>(2)?)
        });
        match done {
            Ok(true) => seen = Some(now),
            Ok(false) => {}
            Err(e) => tracing::debug!(error = %e, "checkpoint thread: checkpoint failed"),
        }
    }
}

/// Truncates the WAL file at `wal` when it is larger than [`WAL_KEEP_BYTES`] and no reader
/// or writer holds it for longer than [`TRUNCATE_WAIT`]; else leaves it for the next time.
fn truncate_if_large(c: &Connection, wal: &str) {
    if !std::fs::metadata(wal).is_ok_and(|m| m.len() > WAL_KEEP_BYTES) {
        return;
    }
    let truncated = c.busy_timeout(TRUNCATE_WAIT).and_then(|()| {
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            r.get::<_, i64>(0).map(|busy| busy == 0)
        })
    });
    if let Err(e) = c.busy_handler(Some(super::busy_wait)) {
        tracing::warn!(error = %e, "checkpoint thread: its busy handler was not set back");
    }
    match truncated {
        Ok(true) => tracing::debug!("checkpoint thread: WAL truncated"),
        Ok(false) => tracing::debug!("checkpoint thread: WAL in use, truncated later"),
        Err(e) => tracing::debug!(error = %e, "checkpoint thread: truncation failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::SqliteStore;
    use std::path::Path;
    use std::time::{Duration, Instant};

    /// The WAL index's `mxFrame` (last valid frame) and `nBackfill` (frames copied into the
    /// database) from the `-shm` file, as laid out in SQLite's "WAL-mode file format" (native
    /// byte order, 4-byte fields at offsets 16 and 96).
    fn wal_progress(db: &Path) -> (u32, u32) {
        let mut p = db.as_os_str().to_owned();
        p.push("-shm");
        let shm = std::fs::read(p).unwrap();
        let at = |o: usize| u32::from_ne_bytes(shm[o..o + 4].try_into().unwrap());
        (at(16), at(96))
    }

    /// Writes about 2,000 pages in one commit, more than SQLite's default of 1,000 frames
    /// after which the committing connection would checkpoint by itself.
    fn write_pages(store: &SqliteStore) {
        let mut c = store.conn().unwrap();
        let tx = c.transaction().unwrap();
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS scratch (b BLOB);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
             INSERT INTO scratch SELECT randomblob(3500) FROM n;",
        )
        .unwrap();
        tx.commit().unwrap();
    }

    /// The WAL file's size in bytes (0 when there is none).
    fn wal_bytes(db: &Path) -> u64 {
        let mut p = db.as_os_str().to_owned();
        p.push("-wal");
        std::fs::metadata(p).map_or(0, |m| m.len())
    }

    /// A WAL grown past [`super::WAL_KEEP_BYTES`] is kept until the store has been quiet
    /// for [`super::QUIET_TICKS`] ticks, then truncated.
    #[test]
    fn a_large_wal_is_given_back_once_the_store_is_quiet() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("usalama.sqlite3");
        let store = SqliteStore::open_file(&db).unwrap();
        let mut c = store.conn().unwrap();
        let tx = c.transaction().unwrap();
        tx.execute_batch(
            "CREATE TABLE scratch (b BLOB);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40000)
             INSERT INTO scratch SELECT randomblob(3500) FROM n;",
        )
        .unwrap();
        tx.commit().unwrap();
        drop(c);
        let written = Instant::now();
        assert!(wal_bytes(&db) > super::WAL_KEEP_BYTES, "{}", wal_bytes(&db));
        let quiet = super::TICK * super::QUIET_TICKS;
        loop {
            let elapsed = written.elapsed();
            if wal_bytes(&db) == 0 {
                assert!(
                    elapsed >= quiet,
                    "truncated after {elapsed:?}, before {quiet:?}"
                );
                break;
            }
            assert!(
                elapsed < quiet * 3,
                "not truncated after {elapsed:?}: {} bytes",
                wal_bytes(&db)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // The store goes on as before.
        let n: i64 = store
            .conn()
            .unwrap()
            .query_row("SELECT count(*) FROM scratch", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 40_000);
    }

    #[test]
    fn commits_leave_the_copy_to_the_thread_which_makes_it() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("usalama.sqlite3");
        let store = SqliteStore::open_file(&db).unwrap();

        // Paused: the writer's commit copied nothing back itself.
        let paused = store.checkpointer.pause();
        write_pages(&store);
        let (frames, copied) = wal_progress(&db);
        assert!(frames >= 2000, "the WAL holds the commit: {frames} frames");
        assert!(
            copied < frames,
            "the writer checkpointed: {copied} of {frames}"
        );
        std::thread::sleep(super::TICK * 3);
        assert_eq!(wal_progress(&db).1, copied, "a paused thread checkpointed");

        // Resumed: the thread copies every frame within a few ticks.
        drop(paused);
        let start = Instant::now();
        loop {
            let (frames, copied) = wal_progress(&db);
            if frames > 0 && copied == frames {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "not checkpointed after 10 s: {copied} of {frames}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
