//! Which journal the database writes through. A store that serves (the server, every
//! command but an import) uses the WAL: readers never wait for a writer. But the WAL writes
//! each page twice, once into the WAL and once more when a checkpoint copies it into the
//! database; on a bulk load the second copy, and reading the WAL back for it, were half of
//! a 1,000,000-event import's system CPU (BENCHMARKS.md, "Twenty-sixth session").
//!
//! So an import opens the store with [`Journal::RollbackWhileAlone`]: when no other process
//! has the database open, it switches to a rollback journal (`journal_mode = DELETE`),
//! which writes a page once and journals only the old content of pages that held data
//! (a load's new pages have none). Its connections then sync as `synchronous = EXTRA` asks
//! (the journal's deletion, the commit itself, is synced too). Another process that opens
//! the store meanwhile, a server for example, switches it back to the WAL between two of the
//! import's transactions, and the import goes on through the WAL from its next one; the
//! next open after the import does the same. When another process already has the
//! database open, leaving the WAL is refused and the import writes through the WAL.

use super::{map_err, Sx, BUSY_POLL, BUSY_WAIT};
use crate::error::StoreError;
use rusqlite::{Connection, ErrorCode};
use std::time::Instant;

/// How long an import's store asks to leave the WAL before it keeps it.
const ALONE_PATIENCE: std::time::Duration = std::time::Duration::from_millis(200);

/// The journal a store asks for when it opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Journal {
    /// The WAL, always (switching the database back to it if an import left it in rollback
    /// mode).
    Wal,
    /// A rollback journal while no other process has the database open, else the WAL.
    RollbackWhileAlone,
}

/// Sets the journal `wanted` asks for on `first`, the first connection a store opens, and
/// says which one the database uses now: `"wal"` or `"delete"`.
pub(super) fn set(first: &Connection, wanted: Journal) -> Result<String, StoreError> {
    let ask = |mode: &str| {
        first.query_row(&format!("PRAGMA journal_mode = {mode}"), [], |r| {
            r.get::<_, String>(0)
        })
    };
    if wanted == Journal::RollbackWhileAlone {
        // Leaving the WAL needs an exclusive lock, which any other connection to the
        // database denies at once (it holds a shared one for as long as it is open). A
        // store closed just before may still be closing a connection its pool was opening
        // in the background: asked again for a moment before the WAL is kept.
        let deadline = Instant::now() + ALONE_PATIENCE;
        loop {
            match ask("DELETE") {
                Ok(m) if m.eq_ignore_ascii_case("delete") => return Ok(m.to_ascii_lowercase()),
                _ if Instant::now() < deadline => std::thread::sleep(BUSY_POLL),
                Ok(_) => break,
                Err(e) => {
                    tracing::debug!(error = %e, "another process has the store open");
                    break;
                }
            }
        }
    }
    // Entering the WAL from a rollback journal needs the write lock, which SQLite does
    // not wait for either (the busy handler is not asked): while an import holds it, try
    // again as a busy connection would.
    let deadline = Instant::now() + BUSY_WAIT;
    loop {
        match ask("WAL") {
            Ok(m) => return Ok(m.to_ascii_lowercase()),
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == ErrorCode::DatabaseBusy && Instant::now() < deadline =>
            {
                std::thread::sleep(BUSY_POLL);
            }
            Err(e) => return Err(map_err(e)),
        }
    }
}

/// The journal `c`'s database writes through now, in lower case (`"wal"`, `"delete"`).
pub(super) fn mode(c: &Connection) -> Result<String, StoreError> {
    // A connection learns that another one switched the journal when it next reads; until
    // then the pragma answers the journal it last saw.
    c.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .sx()?;
    let m: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0)).sx()?;
    Ok(m.to_ascii_lowercase())
}
