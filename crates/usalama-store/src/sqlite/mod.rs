//! The embedded SQLite backend: one file in the data directory, WAL journal (a rollback
//! journal for an import alone, `journal.rs`), foreign keys on, `synchronous=FULL` so that
//! every acknowledged commit survives a crash or power loss.

mod access;
mod alerts;
mod bulk;
mod channels;
mod checkpointer;
mod device;
mod durability;
mod event_batch;
mod export;
mod facts;
mod journal;
pub(crate) mod legacy;

pub use bulk::DROPPED_INDEXES;
use journal::Journal;

use crate::error::StoreError;
use crate::intake::{NewReport, ReportReceipt, StoredAttachment, StoredReport};
use crate::migrate::{self, Migration};
use crate::query::{ActorQuery, Cursor, EventQuery, GroupBy, GroupCount, LocalityQuery, Page};
use crate::records::ShareRecord;
use crate::records::{
    LocalitySummary, PlacedEvent, SessionRecord, StoredEvent, TokenRecord, UpsertCounts, UserRecord,
};
use crate::rows::{EventRow, LocalityRow};
use crate::sql::{self, Dialect, Filter, SqlValue};
use crate::verification::{
    DecisionWrite, DuplicatePoolQuery, HistoryEntry, MergeWrite, QueueQuery, UnmergeWrite,
    VersionedEvent, WriteOutcome,
};
use crate::{Backend, Store};
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::types::{ToSqlOutput, Value};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use usalama_domain::{
    Actor, ActorId, ActorKind, EventId, ExternalActorIds, Locality, LocalityId, LocalityPath,
};
use usalama_domain::{OrgId, Organisation, ShareScope};
use uuid::Uuid;

mod sealed_inline;
mod vault;
mod verification;

/// The file name of the database inside a data directory.
pub const DB_FILE: &str = "usalama.sqlite3";
/// `PRAGMA application_id` marking a Usalama database ("USLM").
pub const APPLICATION_ID: i32 = 0x5553_4C4D;

/// The page cache of each pooled connection, in KiB (`PRAGMA cache_size = -N`).
pub(super) const CONNECTION_CACHE_KIB: i64 = 4_096;

/// How long a connection waits for another connection's write lock before its write fails.
pub(super) const BUSY_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// How often a connection waiting for the write lock tries again. SQLite's own handler
/// (`busy_timeout`) backs off to a try every 100 ms, so a bulk load had to leave the lock
/// free for 120 ms after each commit for a waiting writer to get it; trying every 5 ms, a
/// pause of 20 ms does ([`bulk`]'s `YIELD_AFTER_COMMIT`).
pub(super) const BUSY_POLL: std::time::Duration = std::time::Duration::from_millis(5);

/// The busy handler of every connection that writes: another try after [`BUSY_POLL`],
/// `tries` having failed, until [`BUSY_WAIT`] has passed.
fn busy_wait(tries: i32) -> bool {
    let waited = BUSY_POLL * u32::try_from(tries).unwrap_or(0);
    if waited >= BUSY_WAIT {
        return false;
    }
    std::thread::sleep(BUSY_POLL);
    true
}

/// A pool of connections to one SQLite file.
pub struct SqliteStore {
    pool: r2d2::Pool<Manager>,
    path: PathBuf,
    /// How this store's connections are opened (the bulk load's connection too).
    opts: OpenOptions,
    /// The connection of a bulk load in progress (see `bulk.rs`).
    bulk: std::sync::Mutex<Option<bulk::BulkLoad>>,
    /// Rows a bulk load writes between two commits (see `bulk.rs`).
    bulk_commit_rows: usize,
    /// Copies the WAL into the database beside the writers; last, so that its
    /// connection is the last to close.
    checkpointer: checkpointer::Checkpointer,
}

struct Manager {
    path: PathBuf,
    opts: OpenOptions,
}

/// How connections are opened: the product always uses the default VFS, and
/// `synchronous=FULL` with the WAL (an import: [`OpenOptions::IMPORT`]); the power-loss
/// test chooses its own VFS and, for its negative control, `synchronous=OFF`.
#[derive(Clone)]
struct OpenOptions {
    vfs: Option<String>,
    synchronous: &'static str,
    journal: Journal,
}

impl OpenOptions {
    const PRODUCT: Self = Self {
        vfs: None,
        synchronous: "FULL",
        journal: Journal::Wal,
    };

    /// For an import: a rollback journal while no other process has the store open
    /// (`journal.rs`). `EXTRA` syncs what commits a transaction in rollback mode (the
    /// journal's deletion); in the WAL it is `FULL`.
    const IMPORT: Self = Self {
        vfs: None,
        synchronous: "EXTRA",
        journal: Journal::RollbackWhileAlone,
    };

    fn open(&self, path: &Path, flags: OpenFlags) -> rusqlite::Result<Connection> {
        match &self.vfs {
            Some(vfs) => Connection::open_with_flags_and_vfs(path, flags, vfs.as_str()),
            None => Connection::open_with_flags(path, flags),
        }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Connection;
    type Error = rusqlite::Error;

    fn connect(&self) -> Result<Connection, rusqlite::Error> {
        let c = self.opts.open(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        c.busy_handler(Some(busy_wait))?;
        c.execute_batch(&format!(
            // 4 MiB of page cache per connection (8 connections at most: 32 MiB when all
            // are full, which scans of a large store do); pages beyond it come from the
            // operating system's file cache, shared and not counted in the server's
            // resident memory. No mmap, whose pages would count once per connection in
            // the server's resident memory.
            // `secure_delete` overwrites deleted and replaced content with zeros, so values
            // blanked or erased do not linger in free space (BENCHMARKS.md: its cost).
            // Checkpoints are the store's thread's work (`checkpointer.rs`); a commit runs
            // one itself only past the backstop.
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = {}; PRAGMA cache_size = -{};
             PRAGMA secure_delete = ON; PRAGMA wal_autocheckpoint = {};",
            self.opts.synchronous,
            CONNECTION_CACHE_KIB,
            checkpointer::WRITER_BACKSTOP_FRAMES
        ))?;
        Ok(c)
    }
    fn is_valid(&self, c: &mut Connection) -> Result<(), rusqlite::Error> {
        c.execute_batch("")
    }
    fn has_broken(&self, _: &mut Connection) -> bool {
        false
    }
}

fn map_err(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match &e {
        rusqlite::Error::SqliteFailure(f, msg) => match f.code {
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                StoreError::Corrupt(msg.clone().unwrap_or_else(|| f.to_string()))
            }
            ErrorCode::ConstraintViolation => {
                StoreError::Conflict(msg.clone().unwrap_or_else(|| f.to_string()))
            }
            ErrorCode::CannotOpen | ErrorCode::PermissionDenied | ErrorCode::ReadOnly => {
                StoreError::Unavailable(msg.clone().unwrap_or_else(|| f.to_string()))
            }
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                StoreError::Busy(msg.clone().unwrap_or_else(|| f.to_string()))
            }
            _ => StoreError::Backend(e.to_string()),
        },
        _ => StoreError::Backend(e.to_string()),
    }
}

trait Sx<T> {
    fn sx(self) -> Result<T, StoreError>;
}
impl<T> Sx<T> for Result<T, rusqlite::Error> {
    fn sx(self) -> Result<T, StoreError> {
        self.map_err(map_err)
    }
}

impl rusqlite::ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            SqlValue::Text(s) => ToSqlOutput::Borrowed(s.as_str().into()),
            SqlValue::Int(i) => ToSqlOutput::Owned(Value::Integer(*i)),
            SqlValue::Uuid(u) => ToSqlOutput::Owned(Value::Blob(u.as_bytes().to_vec())),
            SqlValue::Date(d) => ToSqlOutput::Owned(Value::Text(d.to_string())),
            SqlValue::Real(x) => ToSqlOutput::Owned(Value::Real(*x)),
        })
    }
}

/// How many events `q` matches, `f` being its filter ([`sql::count_matching`]).
fn count_matching(c: &Connection, q: &EventQuery, f: &sql::Filter) -> Result<i64, StoreError> {
    sql::count_matching(q, f, Dialect::Sqlite, |f| {
        c.query_row(
            &format!("SELECT count(*) FROM events e{}", f.where_sql()),
            rusqlite::params_from_iter(f.values.iter()),
            |r| r.get(0),
        )
        .sx()
    })
}

fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn parse_ts(s: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
}

fn opt_ts(s: Option<String>) -> rusqlite::Result<Option<DateTime<Utc>>> {
    s.as_deref().map(parse_ts).transpose()
}

fn parse_date(s: &str) -> rusqlite::Result<NaiveDate> {
    s.parse::<NaiveDate>().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn uuid_col(r: &Row, i: usize) -> rusqlite::Result<Uuid> {
    r.get::<_, Uuid>(i)
}

/// An actor's columns: id, name, aliases (JSON), kind, UCDP id, ACLED name.
pub(crate) type ActorRow = (Uuid, String, String, String, Option<i64>, Option<String>);
/// A user's columns: id, username, password hash, role, created, disabled.
type UserRow = (
    Uuid,
    String,
    String,
    String,
    String,
    Option<String>,
    (
        Option<Uuid>,
        i64,
        Option<String>,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
    ),
);

/// The user columns [`user_row`] reads, on table alias `u`.
const USER_COLUMNS: &str = "u.id, u.username, u.password_hash, u.role, u.created_at, \
    u.disabled_at, u.org_id, u.failed_logins, u.locked_until, u.totp_secret, u.totp_sealed";

/// The statement reading one page of events for `q`, newest first, with its parameters:
/// one row more than the page, which tells whether another page follows.
fn events_page_sql(q: &EventQuery) -> Result<(String, sql::Filter), StoreError> {
    let mut f = sql::event_filter(q, Dialect::Sqlite);
    if let Some(cur) = &q.page.after {
        let k = f.bind(SqlValue::Date(cur.date_key()?));
        let i = f.bind(SqlValue::Uuid(cur.id));
        f.push_raw(format!("(e.occurred_end, e.id) < ({k}, {i})"));
    }
    let sql = format!(
        "SELECT {} FROM events e{} ORDER BY e.occurred_end DESC, e.id DESC {}",
        sql::EVENT_COLUMNS,
        f.where_sql(),
        sql::limit(u64::from(q.page.limit) + 1)
    );
    Ok((sql, f))
}

fn event_row(r: &Row) -> rusqlite::Result<EventRow> {
    Ok(EventRow {
        id: uuid_col(r, 0)?,
        source: r.get(1)?,
        external_id: r.get(2)?,
        channel: r.get(3)?,
        occurred_start: parse_date(&r.get::<_, String>(4)?)?,
        occurred_end: parse_date(&r.get::<_, String>(5)?)?,
        date_precision: r.get(6)?,
        reported_at: opt_ts(r.get(7)?)?,
        latitude: r.get(8)?,
        longitude: r.get(9)?,
        location_precision: r.get(10)?,
        place_name: r.get(11)?,
        locality_id: r.get(12)?,
        adm: [r.get(13)?, r.get(14)?, r.get(15)?, r.get(16)?],
        dimension: r.get(17)?,
        category: r.get(18)?,
        source_codes: crate::codes::decode(r.get(19)?).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(19, rusqlite::types::Type::Text, e.into())
        })?,
        killed_best: r.get(20)?,
        killed_low: r.get(21)?,
        killed_high: r.get(22)?,
        injured: r.get(23)?,
        abducted: r.get(24)?,
        displaced: r.get(25)?,
        civilians_targeted: r.get(26)?,
        description: r.get(27)?,
        people: r.get(28)?,
        reporter_contact: r.get(29)?,
        status: r.get(30)?,
        duplicate_of: r.get(31)?,
        reliability: r.get(32)?,
        credibility: r.get(33)?,
        created_at: parse_ts(&r.get::<_, String>(34)?)?,
        updated_at: parse_ts(&r.get::<_, String>(35)?)?,
        created_by: r.get(36)?,
        owner_org: r.get(37)?,
        actors: Vec::new(),
        codes_stored: None,
    })
}

fn locality_row(r: &Row) -> rusqlite::Result<LocalityRow> {
    Ok(LocalityRow {
        id: uuid_col(r, 0)?,
        code: r.get(1)?,
        name: r.get(2)?,
        alt_names: r.get(3)?,
        level: r.get(4)?,
        parent_id: r.get(5)?,
        geometry: r.get(6)?,
        centroid_lon: r.get(7)?,
        centroid_lat: r.get(8)?,
    })
}

fn actor_from_row(r: &Row) -> rusqlite::Result<ActorRow> {
    Ok((
        uuid_col(r, 0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

pub(crate) fn build_actor(
    (id, name, aliases, kind, ucdp_id, acled_name): ActorRow,
) -> Result<Actor, StoreError> {
    let bad = |reason: String| StoreError::InvalidRecord {
        id: id.to_string(),
        reason,
    };
    let kind: ActorKind = kind
        .parse()
        .map_err(|e: usalama_domain::DomainError| bad(e.to_string()))?;
    let aliases: Vec<String> = serde_json::from_str(&aliases).map_err(|e| bad(e.to_string()))?;
    Ok(Actor::new(
        ActorId::from_uuid(id),
        &name,
        kind,
        ExternalActorIds {
            ucdp_id,
            acled_name,
        },
    )
    .map_err(|e| bad(e.to_string()))?
    .with_aliases(aliases))
}

fn user_row(r: &Row) -> rusqlite::Result<UserRow> {
    user_row_at(r, 0)
}

/// Reads [`USER_COLUMNS`] starting at column `o`.
fn user_row_at(r: &Row, o: usize) -> rusqlite::Result<UserRow> {
    Ok((
        uuid_col(r, o)?,
        r.get(o + 1)?,
        r.get(o + 2)?,
        r.get(o + 3)?,
        r.get(o + 4)?,
        r.get(o + 5)?,
        (
            r.get::<_, Option<Uuid>>(o + 6)?,
            r.get(o + 7)?,
            r.get(o + 8)?,
            r.get(o + 9)?,
            r.get(o + 10)?,
        ),
    ))
}

fn build_user(
    (id, username, password_hash, role, created, disabled, (org, failed, locked, totp, sealed)): UserRow,
) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        id,
        username,
        password_hash,
        role: role
            .parse()
            .map_err(|e: usalama_domain::DomainError| StoreError::InvalidRecord {
                id: id.to_string(),
                reason: e.to_string(),
            })?,
        created_at: parse_ts(&created).sx()?,
        disabled_at: opt_ts(disabled).sx()?,
        org: org.map_or(
            usalama_domain::DEFAULT_ORG,
            usalama_domain::OrgId::from_uuid,
        ),
        failed_logins: u32::try_from(failed).unwrap_or(u32::MAX),
        locked_until: opt_ts(locked).sx()?,
        totp_secret: totp,
        totp_sealed: sealed,
    })
}

/// Inserts one event row unless a record with its id or `(source, external_id)` exists.
pub(crate) const INSERT_EVENT: &str = "INSERT INTO events (id, source, external_id, channel,
    occurred_start, occurred_end, date_precision, reported_at, latitude, longitude,
    location_precision, place_name, locality_id, adm0_id, adm1_id, adm2_id, adm3_id, dimension,
    category, source_codes, killed_best, killed_low, killed_high, injured, abducted, displaced,
    civilians_targeted, description, people, reporter_contact, status, duplicate_of,
    reliability, credibility, created_at, updated_at, created_by, content_hash, owner_org)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,
    ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38, ?39)
  ON CONFLICT DO NOTHING";

/// The text SQLite stores for a row's source codes: the compact form ([`crate::codes`]).
pub(crate) fn stored_codes(row: &EventRow) -> std::borrow::Cow<'_, str> {
    match &row.codes_stored {
        Some(s) => s.as_str().into(),
        // A row not made from a domain value: encode its canonical JSON.
        None => match serde_json::from_str::<std::collections::BTreeMap<String, String>>(
            &row.source_codes,
        ) {
            Ok(m) => crate::codes::encode(m.iter().map(|(k, v)| (k.as_str(), v.as_str()))).into(),
            Err(_) => row.source_codes.as_str().into(),
        },
    }
}

/// Runs [`INSERT_EVENT`] (prepared) for a row and its content hash; true when it was new.
pub(crate) fn insert_event(
    st: &mut rusqlite::Statement<'_>,
    row: &EventRow,
    hash: &[u8],
) -> Result<bool, StoreError> {
    insert_event_with(st, row, hash, &[])
}

/// Runs an insert of an event whose first 39 parameters are [`INSERT_EVENT`]'s, `extra`
/// bound after them (the sealed columns of migration 0011); true when it was new.
pub(crate) fn insert_event_with(
    st: &mut rusqlite::Statement<'_>,
    row: &EventRow,
    hash: &[u8],
    extra: &[&dyn rusqlite::ToSql],
) -> Result<bool, StoreError> {
    let n = with_event_params(row, hash, |event| {
        if extra.is_empty() {
            st.execute(&event[..])
        } else {
            let all: Vec<&dyn rusqlite::ToSql> = event.iter().chain(extra).copied().collect();
            st.execute(&*all)
        }
    })
    .sx()?;
    Ok(n == 1)
}

/// The parameters from `channel` to `reporter_contact` in [`with_event_params`]'s array: what
/// an update of an event from a new version of its source row sets.
pub(crate) const CHANGED_PARAMS: std::ops::Range<usize> = 3..30;

/// Hands `f` the 39 parameters of [`INSERT_EVENT`] for `row` and its content hash, in the
/// statement's order (the one list of an event row's values for SQLite).
pub(crate) fn with_event_params<R>(
    row: &EventRow,
    hash: &[u8],
    f: impl FnOnce(&[&dyn rusqlite::ToSql; 39]) -> R,
) -> R {
    let (start, end) = (row.occurred_start.to_string(), row.occurred_end.to_string());
    let reported = row.reported_at.as_ref().map(ts);
    let (created, updated) = (ts(&row.created_at), ts(&row.updated_at));
    let codes = stored_codes(row);
    let event: [&dyn rusqlite::ToSql; 39] = [
        &row.id,
        &row.source,
        &row.external_id,
        &row.channel,
        &start,
        &end,
        &row.date_precision,
        &reported,
        &row.latitude,
        &row.longitude,
        &row.location_precision,
        &row.place_name,
        &row.locality_id,
        &row.adm[0],
        &row.adm[1],
        &row.adm[2],
        &row.adm[3],
        &row.dimension,
        &row.category,
        &codes,
        &row.killed_best,
        &row.killed_low,
        &row.killed_high,
        &row.injured,
        &row.abducted,
        &row.displaced,
        &row.civilians_targeted,
        &row.description,
        &row.people,
        &row.reporter_contact,
        &row.status,
        &row.duplicate_of,
        &row.reliability,
        &row.credibility,
        &created,
        &updated,
        &row.created_by,
        &hash,
        &row.owner_org,
    ];
    f(&event)
}

impl SqliteStore {
    /// Opens the database in a data directory, creating the directory and the database if
    /// needed. Refuses a non-empty directory that holds no Usalama database.
    pub fn open_dir(dir: &Path) -> Result<Self, StoreError> {
        Self::open_dir_with(dir, OpenOptions::PRODUCT)
    }

    /// [`open_dir`](Self::open_dir) for a command that imports and serves nothing: while
    /// no other process has the database open it writes through a rollback journal, which
    /// writes each page once (`journal.rs`).
    pub fn open_dir_for_import(dir: &Path) -> Result<Self, StoreError> {
        Self::open_dir_with(dir, OpenOptions::IMPORT)
    }

    fn open_dir_with(dir: &Path, opts: OpenOptions) -> Result<Self, StoreError> {
        if dir.exists() {
            if !dir.is_dir() {
                return Err(StoreError::InvalidLocation(format!(
                    "{} exists and is not a directory",
                    dir.display()
                )));
            }
            let entries: Vec<_> = std::fs::read_dir(dir)
                .map_err(|e| {
                    StoreError::Unavailable(format!("cannot read {}: {e}", dir.display()))
                })?
                .filter_map(Result::ok)
                .collect();
            let has_db = dir.join(DB_FILE).exists();
            if !has_db && !entries.is_empty() {
                return Err(StoreError::Foreign(format!(
                    "{} (not empty and holds no {DB_FILE}; choose an empty directory)",
                    dir.display()
                )));
            }
        } else {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        Self::open_with(&dir.join(DB_FILE), opts)
    }

    /// Opens (or creates) a database file and applies pending migrations.
    pub fn open_file(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, OpenOptions::PRODUCT)
    }

    /// [`open_file`](Self::open_file) for an import ([`open_dir_for_import`](Self::open_dir_for_import)).
    pub fn open_file_for_import(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, OpenOptions::IMPORT)
    }

    /// For the power-loss test only: opens `path` through the registered VFS `vfs`, with
    /// `synchronous` set to `FULL` (the product's setting) or `OFF` (the test's negative
    /// control), or as an import opens it (`for_import`, which ignores `synchronous_full`).
    /// Never use this to run the product.
    #[doc(hidden)]
    pub fn open_file_with_vfs(
        path: &Path,
        vfs: &str,
        synchronous_full: bool,
        for_import: bool,
    ) -> Result<Self, StoreError> {
        let opts = match (for_import, synchronous_full) {
            (true, _) => OpenOptions::IMPORT,
            (false, true) => OpenOptions::PRODUCT,
            (false, false) => OpenOptions {
                synchronous: "OFF",
                ..OpenOptions::PRODUCT
            },
        };
        Self::open_with(
            path,
            OpenOptions {
                vfs: Some(vfs.to_string()),
                ..opts
            },
        )
    }

    fn open_with(path: &Path, opts: OpenOptions) -> Result<Self, StoreError> {
        let shown = path.display().to_string();
        if path.exists() {
            let mut header = [0u8; 16];
            let n = std::fs::File::open(path)
                .and_then(|mut f| std::io::Read::read(&mut f, &mut header))
                .map_err(|e| StoreError::Unavailable(format!("cannot read {shown}: {e}")))?;
            if n > 0 && (n < 16 || &header != b"SQLite format 3\0") {
                return Err(StoreError::Foreign(format!("{shown} (not a SQLite file)")));
            }
        } else if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            if !parent.is_dir() {
                return Err(StoreError::Unavailable(format!(
                    "directory {} does not exist",
                    parent.display()
                )));
            }
        }
        let mut first = opts
            .open(path, OpenFlags::default())
            .map_err(|e| match map_err(e) {
                StoreError::Backend(m) => StoreError::Unavailable(format!("{shown}: {m}")),
                other => other,
            })?;
        // Wait for a writer of another connection as the pool's connections do (an
        // import writing through a rollback journal locks out readers while it commits).
        first.busy_handler(Some(busy_wait)).sx()?;
        let app_id: i32 = first
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .sx()?;
        let tables: i64 = first
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
            .sx()?;
        if app_id != APPLICATION_ID && (app_id != 0 || tables > 0) {
            return Err(StoreError::Foreign(shown));
        }
        let mode = journal::set(&first, opts.journal)?;
        tracing::debug!(journal = %mode, store = %shown, "journal");
        first
            .execute_batch(&format!(
                "PRAGMA foreign_keys = ON; PRAGMA synchronous = {}; PRAGMA secure_delete = ON;",
                opts.synchronous
            ))
            .sx()?;
        bulk::restore_dropped_indexes(&mut first, path)?;
        migrate_sqlite(&mut first, migrate::SQLITE)?;
        drop(first);
        let manager = Manager {
            path: path.to_path_buf(),
            opts: opts.clone(),
        };
        let own = r2d2::ManageConnection::connect(&manager).map_err(map_err)?;
        let pool = r2d2::Pool::builder()
            .max_size(crate::POOL_CONNECTIONS)
            .min_idle(Some(1))
            .build(manager)?;
        Ok(Self {
            pool,
            path: path.to_path_buf(),
            opts,
            bulk: Default::default(),
            bulk_commit_rows: bulk::BULK_COMMIT_ROWS,
            checkpointer: checkpointer::Checkpointer::start(own),
        })
    }

    /// Sets how many rows a bulk load writes between two commits (tests use a small
    /// number to see a commit; the default suits imports of any size).
    pub fn with_bulk_commit_rows(mut self, rows: usize) -> Self {
        self.bulk_commit_rows = rows.max(1);
        self
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The journal the database writes through now: `"wal"`, or `"delete"` while an
    /// import has it to itself (`journal.rs`).
    pub fn journal_mode(&self) -> Result<String, StoreError> {
        journal::mode(&*self.conn()?)
    }

    fn conn(&self) -> Result<r2d2::PooledConnection<Manager>, StoreError> {
        Ok(self.pool.get()?)
    }

    fn load_actors(&self, c: &Connection, rows: &mut [EventRow]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut f = Filter::new(Dialect::Sqlite);
        let ps: Vec<String> = rows.iter().map(|r| f.bind(SqlValue::Uuid(r.id))).collect();
        let sql = format!(
            "SELECT event_id, actor_id, role FROM event_actors WHERE event_id IN ({}) ORDER BY role, actor_id",
            ps.join(",")
        );
        let mut st = c.prepare_cached(&sql).sx()?;
        let mut by_event: HashMap<Uuid, Vec<(Uuid, String)>> = HashMap::new();
        let it = st
            .query_map(rusqlite::params_from_iter(f.values.iter()), |r| {
                Ok((uuid_col(r, 0)?, uuid_col(r, 1)?, r.get::<_, String>(2)?))
            })
            .sx()?;
        for x in it {
            let (e, a, role) = x.sx()?;
            by_event.entry(e).or_default().push((a, role));
        }
        for r in rows.iter_mut() {
            r.actors = by_event.remove(&r.id).unwrap_or_default();
        }
        Ok(())
    }
}

/// Applies pending migrations, refusing a database from a newer version.
fn migrate_sqlite(c: &mut Connection, migrations: &[Migration]) -> Result<(), StoreError> {
    // A store already at this version needs no write: it opens beside a writer that holds
    // the write lock for a while (a bulk load commits every 100,000 rows).
    let app_id: i32 = c
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .sx()?;
    let has_log: bool = c
        .query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'usalama_migrations'",
            [],
            |r| r.get(0),
        )
        .sx()?;
    if app_id == APPLICATION_ID && has_log {
        let current: i64 = c
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM usalama_migrations",
                [],
                |r| r.get(0),
            )
            .sx()?;
        if current == migrate::latest(migrations) {
            return Ok(());
        }
    }
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .sx()?;
    tx.execute_batch(&format!(
        "PRAGMA application_id = {APPLICATION_ID};
         CREATE TABLE IF NOT EXISTS usalama_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);"
    ))
    .sx()?;
    let current: i64 = tx
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM usalama_migrations",
            [],
            |r| r.get(0),
        )
        .sx()?;
    let latest = migrate::latest(migrations);
    if current > latest {
        return Err(StoreError::NewerSchema {
            found: current,
            supported: latest,
        });
    }
    for m in migrations.iter().filter(|m| m.version > current) {
        tracing::info!(version = m.version, "applying SQLite migration");
        tx.execute_batch(m.sql).sx()?;
        tx.execute(
            "INSERT INTO usalama_migrations (version, applied_at) VALUES (?1, datetime('now'))",
            [m.version],
        )
        .sx()?;
    }
    tx.commit().sx()
}

fn page_of<T>(mut items: Vec<T>, limit: u32, total: u64, key: impl Fn(&T) -> Cursor) -> Page<T> {
    let next_cursor = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(key)
    } else {
        None
    };
    Page {
        items,
        total,
        next_cursor,
    }
}

impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn()?
            .query_row("SELECT MAX(version) FROM usalama_migrations", [], |r| {
                r.get(0)
            })
            .sx()
    }

    fn upsert_localities(&self, localities: &[Locality]) -> Result<UpsertCounts, StoreError> {
        let mut c = self.conn()?;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sx()?;
        let mut counts = UpsertCounts::default();
        {
            let mut sorted: Vec<&Locality> = localities.iter().collect();
            sorted.sort_by_key(|l| l.level);
            let mut get = tx
                .prepare(&format!(
                    "SELECT {} FROM localities WHERE code = ?1",
                    sql::LOCALITY_COLUMNS
                ))
                .sx()?;
            let mut ins = tx
                .prepare(
                    "INSERT INTO localities (id, code, name, alt_names, level, parent_id, geometry, centroid_lon, centroid_lat)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, alt_names = excluded.alt_names,
                       level = excluded.level, parent_id = excluded.parent_id, geometry = excluded.geometry,
                       centroid_lon = excluded.centroid_lon, centroid_lat = excluded.centroid_lat",
                )
                .sx()?;
            for l in sorted {
                let r = LocalityRow::from_locality(l);
                let old = get.query_row([&r.code], locality_row).optional().sx()?;
                match old {
                    Some(o)
                        if o.name == r.name
                            && o.alt_names == r.alt_names
                            && o.level == r.level
                            && o.parent_id == r.parent_id
                            && o.geometry == r.geometry
                            && o.centroid_lon == r.centroid_lon
                            && o.centroid_lat == r.centroid_lat =>
                    {
                        counts.unchanged += 1;
                        continue;
                    }
                    Some(_) => counts.updated += 1,
                    None => counts.inserted += 1,
                }
                ins.execute(params![
                    r.id,
                    r.code,
                    r.name,
                    r.alt_names,
                    r.level,
                    r.parent_id,
                    r.geometry,
                    r.centroid_lon,
                    r.centroid_lat
                ])
                .sx()?;
            }
        }
        tx.commit().sx()?;
        Ok(counts)
    }

    fn all_localities(&self) -> Result<Vec<Locality>, StoreError> {
        let c = self.conn()?;
        let mut st = c
            .prepare(&format!(
                "SELECT {} FROM localities ORDER BY level, code",
                sql::LOCALITY_COLUMNS
            ))
            .sx()?;
        let rows = st.query_map([], locality_row).sx()?;
        rows.map(|r| r.sx().and_then(LocalityRow::into_locality))
            .collect()
    }

    fn get_locality(&self, id: LocalityId) -> Result<Option<Locality>, StoreError> {
        let c = self.conn()?;
        c.query_row(
            &format!(
                "SELECT {} FROM localities WHERE id = ?1",
                sql::LOCALITY_COLUMNS
            ),
            [id.as_uuid()],
            locality_row,
        )
        .optional()
        .sx()?
        .map(LocalityRow::into_locality)
        .transpose()
    }

    fn locality_by_code(&self, code: &str) -> Result<Option<LocalitySummary>, StoreError> {
        let c = self.conn()?;
        c.query_row(
            &format!(
                "SELECT {} FROM localities WHERE code = ?1",
                sql::LOCALITY_SUMMARY_COLUMNS
            ),
            [code],
            locality_row,
        )
        .optional()
        .sx()?
        .map(LocalityRow::into_summary)
        .transpose()
    }

    fn list_localities(&self, q: &LocalityQuery) -> Result<Page<LocalitySummary>, StoreError> {
        let c = self.conn()?;
        let mut f = Filter::new(Dialect::Sqlite);
        if let Some(l) = q.level {
            f.push("level = {}", SqlValue::Int(l.depth() as i64));
        }
        if let Some(p) = q.parent {
            f.push("parent_id = {}", SqlValue::Uuid(p.as_uuid()));
        }
        if let Some(t) = q.text.as_deref().filter(|t| !t.trim().is_empty()) {
            let p = f.bind(SqlValue::Text(sql::contains_pattern(t.trim())));
            f.push_raw(format!("(name LIKE {p} ESCAPE '\\' OR code LIKE {p} ESCAPE '\\' OR alt_names LIKE {p} ESCAPE '\\')"));
        }
        let total: i64 = c
            .query_row(
                &format!("SELECT count(*) FROM localities{}", f.where_sql()),
                rusqlite::params_from_iter(f.values.iter()),
                |r| r.get(0),
            )
            .sx()?;
        if let Some(cur) = &q.page.after {
            let k = f.bind(SqlValue::Text(cur.key.clone()));
            f.push_raw(format!("code > {k}"));
        }
        let lim = sql::limit(u64::from(q.page.limit) + 1);
        let mut st = c
            .prepare(&format!(
                "SELECT {} FROM localities{} ORDER BY code {lim}",
                sql::LOCALITY_SUMMARY_COLUMNS,
                f.where_sql()
            ))
            .sx()?;
        let items = st
            .query_map(rusqlite::params_from_iter(f.values.iter()), locality_row)
            .sx()?
            .map(|r| r.sx().and_then(LocalityRow::into_summary))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page_of(items, q.page.limit, total as u64, |l| Cursor {
            key: l.code.to_string(),
            id: l.id.as_uuid(),
        }))
    }

    fn locality_lineage(&self, id: LocalityId) -> Result<Vec<LocalitySummary>, StoreError> {
        let c = self.conn()?;
        let mut st = c
            .prepare(&format!(
                "SELECT {} FROM localities WHERE id = ?1",
                sql::LOCALITY_SUMMARY_COLUMNS
            ))
            .sx()?;
        let mut out = Vec::new();
        let mut next = Some(id);
        while let Some(cur) = next.take() {
            if out.len() > 8 {
                break;
            }
            if let Some(row) = st
                .query_row([cur.as_uuid()], locality_row)
                .optional()
                .sx()?
            {
                let s = row.into_summary()?;
                next = s.parent;
                out.push(s);
            }
        }
        Ok(out)
    }

    fn upsert_actors(&self, actors: &[Actor]) -> Result<UpsertCounts, StoreError> {
        // Through the bulk load's transaction while one runs (see `SqliteStore::write`).
        self.write(0, |tx| {
        let mut counts = UpsertCounts::default();
        {
            let mut get = tx
                .prepare(
                    "SELECT id, name, aliases, kind, ucdp_id, acled_name FROM actors WHERE id = ?1",
                )
                .sx()?;
            let mut put = tx
                .prepare(
                    "INSERT INTO actors (id, name, aliases, kind, ucdp_id, acled_name) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, aliases = excluded.aliases,
                       kind = excluded.kind, ucdp_id = excluded.ucdp_id, acled_name = excluded.acled_name",
                )
                .sx()?;
            for a in actors {
                let old = get
                    .query_row([a.id.as_uuid()], actor_from_row)
                    .optional()
                    .sx()?
                    .map(build_actor)
                    .transpose()?;
                match old {
                    Some(o) if &o == a => {
                        counts.unchanged += 1;
                        continue;
                    }
                    Some(_) => counts.updated += 1,
                    None => counts.inserted += 1,
                }
                put.execute(params![
                    a.id.as_uuid(),
                    a.name,
                    serde_json::to_string(&a.aliases).unwrap_or_default(),
                    a.kind.as_str(),
                    a.external.ucdp_id,
                    a.external.acled_name
                ])
                .sx()?;
            }
        }
        Ok(counts)
        })
    }

    fn get_actor(&self, id: ActorId) -> Result<Option<Actor>, StoreError> {
        self.conn()?
            .query_row(
                "SELECT id, name, aliases, kind, ucdp_id, acled_name FROM actors WHERE id = ?1",
                [id.as_uuid()],
                actor_from_row,
            )
            .optional()
            .sx()?
            .map(build_actor)
            .transpose()
    }

    fn list_actors(&self, q: &ActorQuery) -> Result<Page<Actor>, StoreError> {
        let c = self.conn()?;
        let mut f = Filter::new(Dialect::Sqlite);
        if let Some(k) = &q.kind {
            f.push("kind = {}", SqlValue::Text(k.clone()));
        }
        if let Some(t) = q.text.as_deref().filter(|t| !t.trim().is_empty()) {
            let p = f.bind(SqlValue::Text(sql::contains_pattern(t.trim())));
            f.push_raw(format!(
                "(name LIKE {p} ESCAPE '\\' OR aliases LIKE {p} ESCAPE '\\')"
            ));
        }
        let total: i64 = c
            .query_row(
                &format!("SELECT count(*) FROM actors{}", f.where_sql()),
                rusqlite::params_from_iter(f.values.iter()),
                |r| r.get(0),
            )
            .sx()?;
        if let Some(cur) = &q.page.after {
            let k = f.bind(SqlValue::Text(cur.key.clone()));
            let i = f.bind(SqlValue::Uuid(cur.id));
            f.push_raw(format!("(name, id) > ({k}, {i})"));
        }
        let lim = sql::limit(u64::from(q.page.limit) + 1);
        let mut st = c
            .prepare(&format!(
                "SELECT id, name, aliases, kind, ucdp_id, acled_name FROM actors{} ORDER BY name, id {lim}",
                f.where_sql()
            ))
            .sx()?;
        let items = st
            .query_map(rusqlite::params_from_iter(f.values.iter()), actor_from_row)
            .sx()?
            .map(|r| r.sx().and_then(build_actor))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page_of(items, q.page.limit, total as u64, |a| Cursor {
            key: a.name.clone(),
            id: a.id.as_uuid(),
        }))
    }

    fn upsert_events(
        &self,
        events: &[PlacedEvent],
        now: DateTime<Utc>,
    ) -> Result<UpsertCounts, StoreError> {
        self.write_event_batch(&crate::EventBatch::new(events), now)
    }

    fn get_event(&self, id: EventId) -> Result<Option<StoredEvent>, StoreError> {
        let c = self.conn()?;
        // Cached: alert rules read every new event back, one by one.
        let row = c
            .prepare_cached(&format!(
                "SELECT {} FROM events e WHERE e.id = ?1",
                sql::EVENT_COLUMNS
            ))
            .sx()?
            .query_row([id.as_uuid()], event_row)
            .optional()
            .sx()?;
        match row {
            None => Ok(None),
            Some(r) => {
                let mut rows = [r];
                self.load_actors(&c, &mut rows)?;
                let [r] = rows;
                r.into_placed().map(Some)
            }
        }
    }

    fn list_events(&self, q: &EventQuery) -> Result<Page<StoredEvent>, StoreError> {
        let c = self.conn()?;
        let total: i64 = if q.skip_total {
            0
        } else {
            count_matching(&c, q, &sql::event_filter(q, Dialect::Sqlite))?
        };
        let (page_sql, f) = events_page_sql(q)?;
        // Cached per connection: a list's SQL differs only by which filters are set.
        let mut st = c.prepare_cached(&page_sql).sx()?;
        let mut rows = st
            .query_map(rusqlite::params_from_iter(f.values.iter()), event_row)
            .sx()?
            .collect::<Result<Vec<_>, _>>()
            .sx()?;
        rows.truncate(q.page.limit as usize + 1);
        self.load_actors(&c, &mut rows)?;
        let items = rows
            .into_iter()
            .map(EventRow::into_placed)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page_of(items, q.page.limit, total as u64, |p| Cursor {
            key: p.event.occurred_end.to_string(),
            id: p.event.id.as_uuid(),
        }))
    }

    fn count_events(&self, q: &EventQuery, by: GroupBy) -> Result<Vec<GroupCount>, StoreError> {
        let c = self.conn()?;
        let f = sql::event_filter(q, Dialect::Sqlite);
        let (key, year) = sql::group_expr(by, Dialect::Sqlite);
        let year_sel = year.unwrap_or("NULL");
        // Without statistics SQLite walks an index and fetches every row at a random place
        // even when it reads them all; a whole-table count reads the table in its order.
        let not_indexed = if sql::reads_every_row(q) {
            " NOT INDEXED"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {key}, {year_sel}, count(*), COALESCE(SUM(e.killed_best), 0) \
             FROM events e{not_indexed}{} GROUP BY 1, 2 ORDER BY 1, 2",
            f.where_sql()
        );
        let mut st = c.prepare(&sql).sx()?;
        let rows = st
            .query_map(rusqlite::params_from_iter(f.values.iter()), |r| {
                let key = match r.get_ref(0)? {
                    rusqlite::types::ValueRef::Blob(b) => Uuid::from_slice(b)
                        .map(|u| u.to_string())
                        .unwrap_or_default(),
                    rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    _ => String::new(),
                };
                Ok(GroupCount {
                    key,
                    year: r.get::<_, Option<i32>>(1)?,
                    events: r.get::<_, i64>(2)? as u64,
                    fatalities: r.get::<_, i64>(3)? as u64,
                })
            })
            .sx()?;
        rows.collect::<Result<Vec<_>, _>>().sx()
    }

    fn set_placements(&self, placements: &[(EventId, LocalityPath)]) -> Result<u64, StoreError> {
        let mut c = self.conn()?;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sx()?;
        let mut n = 0;
        {
            let mut st = tx
                .prepare(
                    "UPDATE events SET locality_id = ?2, adm0_id = ?3, adm1_id = ?4, adm2_id = ?5, adm3_id = ?6
                     WHERE id = ?1 AND (locality_id IS NOT ?2 OR adm0_id IS NOT ?3 OR adm1_id IS NOT ?4
                       OR adm2_id IS NOT ?5 OR adm3_id IS NOT ?6)",
                )
                .sx()?;
            for (id, path) in placements {
                let p = path.0.map(|l| l.map(|l| l.as_uuid()));
                n += st
                    .execute(params![
                        id.as_uuid(),
                        path.deepest().map(|l| l.as_uuid()),
                        p[0],
                        p[1],
                        p[2],
                        p[3]
                    ])
                    .sx()? as u64;
            }
        }
        tx.commit().sx()?;
        Ok(n)
    }

    fn upsert_user(&self, u: &UserRecord) -> Result<(), StoreError> {
        self.conn()?
            .execute(
                "INSERT INTO users (id, username, password_hash, role, created_at, disabled_at, org_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash,
                   role = excluded.role, disabled_at = excluded.disabled_at,
                   org_id = excluded.org_id",
                params![
                    u.id,
                    u.username,
                    u.password_hash,
                    u.role.as_str(),
                    ts(&u.created_at),
                    u.disabled_at.as_ref().map(ts),
                    u.org.as_uuid()
                ],
            )
            .sx()
            .map(|_| ())
    }

    fn find_user(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        self.conn()?
            .query_row(
                &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.username = ?1"),
                [username],
                user_row,
            )
            .optional()
            .sx()?
            .map(build_user)
            .transpose()
    }

    fn insert_token(&self, t: &TokenRecord) -> Result<(), StoreError> {
        self.conn()?
            .execute(
                "INSERT INTO api_tokens (id, token_hash, role, label, created_at, revoked_at, org_id, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![t.id, t.token_hash, t.role.as_str(), t.label, ts(&t.created_at), t.revoked_at.as_ref().map(ts), t.org.as_uuid(), t.expires_at.as_ref().map(ts)],
            )
            .sx()
            .map(|_| ())
    }

    fn find_token(&self, token_hash: &[u8]) -> Result<Option<TokenRecord>, StoreError> {
        // Looked up on every API request: the statement is kept per connection.
        let row = self
            .conn()?
            .prepare_cached(
                "SELECT id, token_hash, role, label, created_at, revoked_at, org_id, expires_at FROM api_tokens WHERE token_hash = ?1",
            )
            .sx()?
            .query_row(
                [token_hash],
                |r| {
                    Ok((
                        uuid_col(r, 0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        parse_ts(&r.get::<_, String>(4)?)?,
                        opt_ts(r.get(5)?)?,
                        r.get::<_, Option<Uuid>>(6)?,
                        opt_ts(r.get(7)?)?,
                    ))
                },
            )
            .optional()
            .sx()?;
        row.map(
            |(id, token_hash, role, label, created_at, revoked_at, org, expires_at)| {
                Ok(TokenRecord {
                    id,
                    token_hash,
                    role: role.parse().map_err(|e: usalama_domain::DomainError| {
                        StoreError::InvalidRecord {
                            id: id.to_string(),
                            reason: e.to_string(),
                        }
                    })?,
                    label,
                    created_at,
                    revoked_at,
                    org: org.map_or(
                        usalama_domain::DEFAULT_ORG,
                        usalama_domain::OrgId::from_uuid,
                    ),
                    expires_at,
                })
            },
        )
        .transpose()
    }

    fn revoke_tokens(&self, label: &str, at: DateTime<Utc>) -> Result<u64, StoreError> {
        self.conn()?
            .execute(
                "UPDATE api_tokens SET revoked_at = ?2 WHERE label = ?1 AND revoked_at IS NULL",
                params![label, ts(&at)],
            )
            .sx()
            .map(|n| n as u64)
    }

    fn insert_session(&self, s: &SessionRecord) -> Result<(), StoreError> {
        self.conn()?
            .execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![s.token_hash, s.user_id, ts(&s.created_at), ts(&s.expires_at)],
            )
            .sx()
            .map(|_| ())
    }

    fn find_session(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
        let c = self.conn()?;
        // Looked up on every page request: the statement is kept per connection.
        let row = c
            .prepare_cached(&format!(
                "SELECT s.created_at, s.expires_at, {USER_COLUMNS}
                 FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1"
            ))
            .sx()?
            .query_row([token_hash], |r| {
                Ok((
                    parse_ts(&r.get::<_, String>(0)?)?,
                    parse_ts(&r.get::<_, String>(1)?)?,
                    user_row_at(r, 2)?,
                ))
            })
            .optional()
            .sx()?;
        row.map(|(created_at, expires_at, u)| {
            let user = build_user(u)?;
            Ok((
                SessionRecord {
                    token_hash: token_hash.to_vec(),
                    user_id: user.id,
                    created_at,
                    expires_at,
                },
                user,
            ))
        })
        .transpose()
    }

    fn delete_session(&self, token_hash: &[u8]) -> Result<(), StoreError> {
        self.conn()?
            .execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])
            .sx()
            .map(|_| ())
    }

    // Verification (in `verification.rs`)
    fn get_event_versioned(&self, id: EventId) -> Result<Option<VersionedEvent>, StoreError> {
        self.v_get(id)
    }
    fn verification_queue(&self, q: &QueueQuery) -> Result<Page<VersionedEvent>, StoreError> {
        self.v_queue(q)
    }
    fn duplicate_pool(&self, q: &DuplicatePoolQuery) -> Result<Vec<VersionedEvent>, StoreError> {
        self.v_pool(q)
    }
    fn record_decision(&self, w: &DecisionWrite) -> Result<WriteOutcome, StoreError> {
        self.v_decide(w)
    }
    fn merge_event(&self, w: &MergeWrite) -> Result<WriteOutcome, StoreError> {
        self.v_merge(w)
    }
    fn unmerge_event(&self, w: &UnmergeWrite) -> Result<WriteOutcome, StoreError> {
        self.v_unmerge(w)
    }
    fn event_history(&self, id: EventId) -> Result<Vec<HistoryEntry>, StoreError> {
        self.v_history(id)
    }

    fn scan_events(
        &self,
        q: &EventQuery,
        batch: usize,
        f: &mut dyn FnMut(&[StoredEvent]) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let batch = batch.clamp(1, crate::MAX_SCAN_BATCH);
        let mut c = self.conn()?;
        // One read transaction: every batch sees the same snapshot (WAL readers do not
        // block writers).
        let tx = c.transaction().sx()?;
        let mut after: Option<(NaiveDate, Uuid)> = None;
        let mut n = 0u64;
        loop {
            let mut flt = sql::event_filter(q, Dialect::Sqlite);
            sql::scan_after(&mut flt, after);
            let lim = sql::limit(batch as u64);
            let mut rows = {
                let mut st = tx
                    .prepare_cached(&format!(
                        "SELECT {} FROM events e{} ORDER BY e.occurred_end, e.id {lim}",
                        sql::EVENT_COLUMNS,
                        flt.where_sql()
                    ))
                    .sx()?;
                let rows = st
                    .query_map(rusqlite::params_from_iter(flt.values.iter()), event_row)
                    .sx()?
                    .collect::<Result<Vec<_>, _>>()
                    .sx()?;
                rows
            };
            let full = rows.len() == batch;
            after = rows.last().map(|r| (r.occurred_end, r.id));
            self.load_actors(&tx, &mut rows)?;
            let items = rows
                .into_iter()
                .map(EventRow::into_placed)
                .collect::<Result<Vec<_>, _>>()?;
            n += items.len() as u64;
            if !items.is_empty() {
                f(&items)?;
            }
            if !full {
                break;
            }
        }
        tx.commit().sx()?;
        Ok(n)
    }

    // Channels
    fn insert_reports(&self, reports: &[NewReport]) -> Result<Vec<StoredReport>, StoreError> {
        self.channels_insert_reports(reports)
    }

    fn report_status(&self, reference: &str) -> Result<Option<String>, StoreError> {
        self.channels_report_status(reference)
    }

    fn get_receipt(&self, event: EventId) -> Result<Option<ReportReceipt>, StoreError> {
        self.channels_get_receipt(event)
    }

    fn list_attachments(&self, event: EventId) -> Result<Vec<StoredAttachment>, StoreError> {
        self.channels_list_attachments(event)
    }

    fn ensure_setting(
        &self,
        key: &str,
        initial: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Vec<u8>, StoreError> {
        self.channels_ensure_setting(key, initial, now)
    }

    // Vault (in `vault.rs`)
    fn read_sealed(
        &self,
        event: EventId,
        audit: &crate::AuditDraft,
    ) -> Result<Option<crate::StoredSealed>, StoreError> {
        self.vault_read_sealed(event, audit)
    }
    fn get_data_key(&self, id: Uuid) -> Result<Option<crate::DataKeyRecord>, StoreError> {
        self.vault_get_key(id)
    }
    fn ensure_data_key(
        &self,
        fresh: &crate::DataKeyRecord,
        adopt: Option<crate::vault::AdoptSetting<'_>>,
    ) -> Result<crate::DataKeyRecord, StoreError> {
        self.vault_ensure_key(fresh, adopt)
    }
    fn count_data_keys(&self) -> Result<(u64, u64), StoreError> {
        self.vault_count_keys()
    }
    fn rewrap_data_keys(
        &self,
        f: &mut dyn FnMut(&crate::DataKeyRecord) -> Result<crate::DataKeyRecord, String>,
        audit: &crate::AuditDraft,
    ) -> Result<crate::RewrapCounts, StoreError> {
        self.vault_rewrap(f, audit)
    }
    fn event_key_ids(&self, event: EventId) -> Result<Vec<Uuid>, StoreError> {
        self.vault_event_key_ids(event)
    }
    fn destroy_data_keys(
        &self,
        ids: &[Uuid],
        at: DateTime<Utc>,
        audit: &[crate::AuditDraft],
    ) -> Result<u64, StoreError> {
        self.vault_destroy(ids, at, audit)
    }
    fn find_by_contact_index(
        &self,
        index: &[u8],
        audit: &crate::AuditDraft,
    ) -> Result<Vec<EventId>, StoreError> {
        self.vault_find_contact(index, audit)
    }
    fn personal_data_due(&self, before: DateTime<Utc>) -> Result<Vec<EventId>, StoreError> {
        self.vault_personal_due(before)
    }
    fn attachments_due(
        &self,
        before: DateTime<Utc>,
    ) -> Result<Vec<crate::RetentionCandidate>, StoreError> {
        self.vault_attachments_due(before)
    }
    fn append_audit(&self, drafts: &[crate::AuditDraft]) -> Result<crate::AuditHead, StoreError> {
        self.vault_append(drafts)
    }
    fn audit_head(&self) -> Result<crate::AuditHead, StoreError> {
        self.vault_head()
    }
    fn scan_audit(
        &self,
        f: &mut dyn FnMut(&crate::AuditEntry) -> Result<(), StoreError>,
    ) -> Result<crate::AuditHead, StoreError> {
        self.vault_scan_audit(f)
    }
    // Durability (in `durability.rs`)
    fn backup(&self, dest: &std::path::Path) -> Result<crate::BackupSummary, StoreError> {
        self.d_backup(dest)
    }
    fn restore(
        &self,
        src: &std::path::Path,
        force: bool,
    ) -> Result<crate::BackupSummary, StoreError> {
        self.d_restore(src, force)
    }
    fn table_digests(&self) -> Result<Vec<crate::TableDigest>, StoreError> {
        self.d_digests()
    }
    fn check_integrity(&self) -> Result<crate::IntegrityReport, StoreError> {
        self.d_integrity()
    }

    // Bulk loading (in `bulk.rs`)
    fn begin_bulk_load(&self, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.bulk_begin(now)
    }

    fn end_bulk_load(&self) -> Result<(), StoreError> {
        self.bulk_end()
    }

    // Access (in `access.rs`)
    fn insert_org(&self, org: &Organisation, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.access_insert_org(org, now)
    }
    fn list_orgs(&self) -> Result<Vec<Organisation>, StoreError> {
        self.access_list_orgs()
    }
    fn find_org(&self, name: &str) -> Result<Option<Organisation>, StoreError> {
        self.access_find_org(name)
    }
    fn set_share(
        &self,
        from: OrgId,
        to: OrgId,
        scope: Option<ShareScope>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.access_set_share(from, to, scope, now)
    }
    fn shares_to(&self, to: OrgId) -> Result<Vec<ShareRecord>, StoreError> {
        self.access_shares_to(to)
    }
    fn record_login_failure(
        &self,
        user: Uuid,
        lock: &dyn Fn(u32) -> Option<DateTime<Utc>>,
    ) -> Result<u32, StoreError> {
        self.access_record_login_failure(user, lock)
    }
    fn reset_login_failures(&self, user: Uuid) -> Result<(), StoreError> {
        self.access_reset_login_failures(user)
    }
    fn set_user_totp(&self, user: Uuid, secret: Option<&[u8]>) -> Result<(), StoreError> {
        self.access_set_user_totp(user, secret)
    }
    fn set_user_disabled(&self, user: Uuid, at: Option<DateTime<Utc>>) -> Result<(), StoreError> {
        self.access_set_user_disabled(user, at)
    }
    fn delete_user_sessions(&self, user: Uuid) -> Result<u64, StoreError> {
        self.access_delete_user_sessions(user)
    }

    // Alerts (in `alerts.rs`)
    fn insert_alert(
        &self,
        alert: &usalama_domain::alert::Alert,
        deliveries: &[crate::alerts::NewDelivery],
    ) -> Result<bool, StoreError> {
        self.alerts_insert(alert, deliveries)
    }
    fn get_alert(
        &self,
        id: usalama_domain::AlertId,
    ) -> Result<Option<usalama_domain::alert::Alert>, StoreError> {
        self.alerts_get(id)
    }
    fn list_alerts(
        &self,
        q: &crate::alerts::AlertQuery,
    ) -> Result<Vec<usalama_domain::alert::Alert>, StoreError> {
        self.alerts_list(q)
    }
    fn change_alert_status(
        &self,
        change: &usalama_domain::alert::AlertStatusChange,
    ) -> Result<crate::alerts::AlertWriteOutcome, StoreError> {
        self.alerts_change_status(change)
    }
    fn alert_history(
        &self,
        id: usalama_domain::AlertId,
    ) -> Result<Vec<usalama_domain::alert::AlertStatusChange>, StoreError> {
        self.alerts_history(id)
    }
    fn insert_subscription(
        &self,
        s: &usalama_domain::alert::Subscription,
    ) -> Result<(), StoreError> {
        self.alerts_insert_subscription(s)
    }
    fn list_subscriptions(&self) -> Result<Vec<usalama_domain::alert::Subscription>, StoreError> {
        self.alerts_list_subscriptions()
    }
    fn delete_subscription(&self, id: usalama_domain::SubscriptionId) -> Result<bool, StoreError> {
        self.alerts_delete_subscription(id)
    }
    fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<crate::alerts::DueDelivery>, StoreError> {
        self.alerts_claim_deliveries(now, lease_until, limit)
    }
    fn record_delivery_attempt(
        &self,
        a: &crate::alerts::DeliveryAttemptWrite,
    ) -> Result<(), StoreError> {
        self.alerts_record_attempt(a)
    }
    fn delivery_log(
        &self,
        alert: usalama_domain::AlertId,
    ) -> Result<Vec<crate::alerts::DeliveryLogEntry>, StoreError> {
        self.alerts_delivery_log(alert)
    }

    // Admin: OpenRosa device passwords (in `device.rs`)
    fn set_device_password(
        &self,
        rec: &crate::DevicePasswordRecord,
        audit: &crate::AuditDraft,
    ) -> Result<(), StoreError> {
        self.device_set(rec, audit)
    }
    fn get_device_password(
        &self,
        user: Uuid,
    ) -> Result<Option<crate::DevicePasswordRecord>, StoreError> {
        self.device_get(user)
    }
    fn list_users(&self, org: Option<OrgId>) -> Result<Vec<UserRecord>, StoreError> {
        let c = self.conn()?;
        let mut st = c
            .prepare(&format!(
                "SELECT {USER_COLUMNS} FROM users u WHERE ?1 IS NULL OR u.org_id = ?1 ORDER BY u.username"
            ))
            .sx()?;
        let rows = st
            .query_map([org.map(|o| o.as_uuid())], user_row)
            .sx()?
            .collect::<Result<Vec<_>, _>>()
            .sx()?;
        rows.into_iter().map(build_user).collect()
    }
    // Import performance
    fn upsert_event_batch(
        &self,
        batch: &crate::EventBatch,
        now: DateTime<Utc>,
    ) -> Result<UpsertCounts, StoreError> {
        self.write_event_batch(batch, now)
    }
    fn seal_legacy_personal(
        &self,
        limit: usize,
        seal: &mut dyn FnMut(&crate::LegacyPersonal) -> Result<crate::SealedReport, String>,
        audit: &crate::AuditDraft,
    ) -> Result<u64, StoreError> {
        self.legacy_seal_personal(limit, seal, audit)
    }
    fn seal_legacy_totp(
        &self,
        seal: &mut crate::vault::SecretSealer<'_>,
        audit: &crate::AuditDraft,
    ) -> Result<u64, StoreError> {
        self.legacy_seal_totp(seal, audit)
    }
    fn purge_free_space(&self) -> Result<(), StoreError> {
        self.legacy_purge_free_space()
    }
    // Index recompute
    fn scan_index_facts(
        &self,
        source: &str,
        level: usalama_domain::AdminLevel,
        batch: usize,
        f: &mut dyn FnMut(crate::facts::FactBatch<'_>) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        self.facts_scan(source, level, batch, f)
    }
    fn countable_events_by_source(&self) -> Result<Vec<(String, u64)>, StoreError> {
        self.facts_sources()
    }
    // The application's index and forecast panels
    fn scan_placements(
        &self,
        batch: usize,
        f: &mut dyn FnMut(&[crate::PlacementFact]) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        self.placements_scan(batch, f)
    }

    fn scan_panel_facts(
        &self,
        source: &str,
        batch: usize,
        f: &mut dyn FnMut(crate::facts::PanelFactBatch<'_>) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        self.panel_facts_scan(source, batch, f)
    }
    fn countable_span(
        &self,
        source: &str,
    ) -> Result<Option<(chrono::NaiveDate, chrono::NaiveDate)>, StoreError> {
        self.facts_span(source)
    }

    // Exports (in `export.rs`)
    fn scan_export_rows(
        &self,
        q: &EventQuery,
        f: &mut dyn FnMut(&crate::ExportRow<'_>) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        self.export_scan(q, f)
    }

    // Index recompute read in parts
    fn scan_index_facts_part(
        &self,
        source: &str,
        level: usalama_domain::AdminLevel,
        batch: usize,
        part: (usize, usize),
        f: &mut dyn FnMut(crate::facts::FactBatch<'_>) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        self.facts_scan_part(source, level, batch, part, f)
    }
}

/// Copies the WAL into the database and empties it, so that pages holding values just
/// blanked or destroyed (legacy sealing, destroyed data keys; zeroed in the database under
/// `secure_delete`) leave the WAL file too: the frames of a WAL that is only checkpointed
/// stay in its file until overwritten. A reader is waited for by the busy timeout; but
/// while another connection runs a checkpoint, SQLite answers busy at once, without
/// waiting (the likely cause of a clear name a CI run once found in the WAL after
/// sealing), so a busy answer is tried again, for up to [`TRUNCATE_PATIENCE`].
pub(super) fn checkpoint_truncate(c: &Connection) -> Result<(), StoreError> {
    let deadline = std::time::Instant::now() + TRUNCATE_PATIENCE;
    loop {
        let busy: i64 = c
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
            .sx()?;
        if busy == 0 {
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            tracing::warn!(
                "the WAL could not be emptied: another connection kept it busy; values just \
                 blanked may stay in the WAL file until it is checkpointed again"
            );
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// How long [`checkpoint_truncate`] keeps trying.
const TRUNCATE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(10);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::PageRequest;
    use usalama_domain::AdminLevel;

    /// A write refused because another connection holds the lock is a [`StoreError::Busy`]
    /// whose message says what to do, not a bare "database error".
    #[test]
    fn a_lock_held_too_long_is_busy_and_says_to_try_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.sqlite3");
        let holder = Connection::open(&path).unwrap();
        holder
            .execute_batch("CREATE TABLE t (x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);")
            .unwrap();
        let other = Connection::open(&path).unwrap();
        other.busy_timeout(std::time::Duration::ZERO).unwrap();
        let e = other
            .execute("INSERT INTO t VALUES (2)", [])
            .sx()
            .unwrap_err();
        assert!(matches!(e, StoreError::Busy(_)), "{e:?}");
        assert!(e.is_temporary());
        assert!(!StoreError::Conflict("x".into()).is_temporary());
        let said = e.to_string();
        assert!(
            said.starts_with("the database is busy") && said.contains("try again"),
            "{said}"
        );
    }

    /// A page of events runs with new parameters without SQLite preparing it again: a
    /// bound LIMIT made it prepare the statement anew at every run.
    #[test]
    fn a_page_of_events_is_not_prepared_again_for_new_parameters() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_file(&dir.path().join(DB_FILE)).unwrap();
        let c = store.conn().unwrap();
        let q = |area: &str| EventQuery {
            locality: Some((LocalityId::derived(area), AdminLevel::Adm1)),
            from: "2010-01-01".parse().ok(),
            page: PageRequest {
                limit: 50,
                after: None,
            },
            ..Default::default()
        };
        let (first, _) = events_page_sql(&q("a")).unwrap();
        let mut st = c.prepare(&first).unwrap();
        for area in ["a", "b", "c"] {
            let (page, f) = events_page_sql(&q(area)).unwrap();
            assert_eq!(page, first);
            let mut rows = st
                .query(rusqlite::params_from_iter(f.values.iter()))
                .unwrap();
            assert!(rows.next().unwrap().is_none());
        }
        assert_eq!(st.get_status(rusqlite::StatementStatus::RePrepare), 0);
    }
}
