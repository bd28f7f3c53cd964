//! The PostgreSQL backend, for multi-user servers: a connection pool, migrations applied
//! under an advisory lock so that several instances can start at once, and the same
//! behaviour as the SQLite backend, checked by the same conformance tests.

mod access;
mod alerts;
mod channels;
mod device;
mod durability;
mod export;
mod facts;
mod legacy;

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
use crate::sqlite::build_actor;
use crate::verification::{
    DecisionWrite, DuplicatePoolQuery, HistoryEntry, MergeWrite, QueueQuery, UnmergeWrite,
    VersionedEvent, WriteOutcome,
};
use crate::{Backend, Store};
use chrono::{DateTime, Utc};
use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use postgres::{Client, GenericClient, NoTls, Row};
use staged::Staged;
use std::collections::HashMap;
use usalama_domain::{Actor, ActorId, EventId, Locality, LocalityId, LocalityPath};
use usalama_domain::{OrgId, Organisation, ShareScope};
use uuid::Uuid;

mod sealed_inline;
mod staged;
mod vault;
mod verification;

/// Advisory lock key held while migrating ("USLM").
const MIGRATION_LOCK: i64 = 0x5553_4C4D;

/// A pool of connections to one PostgreSQL database (and schema).
pub struct PgStore {
    pool: r2d2::Pool<Manager>,
}

struct Manager {
    config: postgres::Config,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Client;
    type Error = postgres::Error;
    fn connect(&self) -> Result<Client, postgres::Error> {
        let mut c = self.config.connect(NoTls)?;
        // A commit is acknowledged only once it is durable, whatever the server's default.
        c.batch_execute("SET synchronous_commit = on")?;
        Ok(c)
    }
    fn is_valid(&self, c: &mut Client) -> Result<(), postgres::Error> {
        c.simple_query("").map(|_| ())
    }
    fn has_broken(&self, c: &mut Client) -> bool {
        c.is_closed()
    }
}

fn map_err(e: postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        if code.starts_with("23") {
            return StoreError::Conflict(db.message().to_string());
        }
        if code == "42501" || code.starts_with("28") || code == "3D000" {
            return StoreError::Unavailable(db.message().to_string());
        }
        return StoreError::Backend(format!("{} ({code})", db.message()));
    }
    if e.is_closed() {
        return StoreError::Unavailable("connection closed".into());
    }
    StoreError::Backend(e.to_string())
}

trait Px<T> {
    fn px(self) -> Result<T, StoreError>;
}
impl<T> Px<T> for Result<T, postgres::Error> {
    fn px(self) -> Result<T, StoreError> {
        self.map_err(map_err)
    }
}

impl ToSql for SqlValue {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            SqlValue::Text(s) => s.to_sql(ty, out),
            SqlValue::Int(i) if *ty == Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
            SqlValue::Int(i) => i.to_sql(ty, out),
            SqlValue::Uuid(u) => u.to_sql(ty, out),
            SqlValue::Date(d) => d.to_sql(ty, out),
            SqlValue::Real(x) => x.to_sql(ty, out),
        }
    }
    fn accepts(_: &Type) -> bool {
        true
    }
    to_sql_checked!();
}

fn params(values: &[SqlValue]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

/// How many events `q` matches, `f` being its filter ([`sql::count_matching`]).
fn count_matching(c: &mut Client, q: &EventQuery, f: &Filter) -> Result<i64, StoreError> {
    sql::count_matching(q, f, Dialect::Postgres, |f| {
        Ok(c.query_one(
            &format!("SELECT count(*) FROM events e{}", f.where_sql()),
            &params(&f.values),
        )
        .px()?
        .get(0))
    })
}

fn i64o(v: Option<i32>) -> Option<i64> {
    v.map(i64::from)
}

fn i32o(v: Option<i64>) -> Option<i32> {
    v.and_then(|n| i32::try_from(n).ok())
}

/// Event columns with JSON columns read as text.
fn event_columns() -> String {
    sql::EVENT_COLUMNS.replace("e.source_codes", "e.source_codes::text")
}

fn event_row(r: &Row) -> Result<EventRow, StoreError> {
    let g = || -> Result<EventRow, postgres::Error> {
        Ok(EventRow {
            id: r.try_get(0)?,
            source: r.try_get(1)?,
            external_id: r.try_get(2)?,
            channel: r.try_get(3)?,
            occurred_start: r.try_get(4)?,
            occurred_end: r.try_get(5)?,
            date_precision: r.try_get(6)?,
            reported_at: r.try_get(7)?,
            latitude: r.try_get(8)?,
            longitude: r.try_get(9)?,
            location_precision: i64o(r.try_get(10)?),
            place_name: r.try_get(11)?,
            locality_id: r.try_get(12)?,
            adm: [
                r.try_get(13)?,
                r.try_get(14)?,
                r.try_get(15)?,
                r.try_get(16)?,
            ],
            dimension: r.try_get(17)?,
            category: r.try_get(18)?,
            source_codes: r.try_get(19)?,
            killed_best: i64o(r.try_get(20)?),
            killed_low: i64o(r.try_get(21)?),
            killed_high: i64o(r.try_get(22)?),
            injured: i64o(r.try_get(23)?),
            abducted: i64o(r.try_get(24)?),
            displaced: i64o(r.try_get(25)?),
            civilians_targeted: r.try_get(26)?,
            description: r.try_get(27)?,
            people: r.try_get(28)?,
            reporter_contact: r.try_get(29)?,
            status: r.try_get(30)?,
            duplicate_of: r.try_get(31)?,
            reliability: r.try_get(32)?,
            credibility: i64o(r.try_get(33)?),
            created_at: r.try_get(34)?,
            updated_at: r.try_get(35)?,
            created_by: r.try_get(36)?,
            owner_org: r.try_get(37)?,
            actors: Vec::new(),
            codes_stored: None,
        })
    };
    g().px()
}

const LOCALITY_COLUMNS: &str =
    "id, code, name, alt_names::text, level, parent_id, geometry, centroid_lon, centroid_lat";
const LOCALITY_SUMMARY_COLUMNS: &str =
    "id, code, name, alt_names::text, level, parent_id, NULL::text, centroid_lon, centroid_lat";

fn locality_row(r: &Row) -> Result<LocalityRow, StoreError> {
    let g = || -> Result<LocalityRow, postgres::Error> {
        Ok(LocalityRow {
            id: r.try_get(0)?,
            code: r.try_get(1)?,
            name: r.try_get(2)?,
            alt_names: r.try_get(3)?,
            level: i64::from(r.try_get::<_, i32>(4)?),
            parent_id: r.try_get(5)?,
            geometry: r.try_get(6)?,
            centroid_lon: r.try_get(7)?,
            centroid_lat: r.try_get(8)?,
        })
    };
    g().px()
}

const ACTOR_COLUMNS: &str = "id, name, aliases::text, kind, ucdp_id, acled_name";

fn actor(r: &Row) -> Result<Actor, StoreError> {
    let t = (|| -> Result<_, postgres::Error> {
        Ok((
            r.try_get(0)?,
            r.try_get(1)?,
            r.try_get(2)?,
            r.try_get(3)?,
            r.try_get(4)?,
            r.try_get(5)?,
        ))
    })()
    .px()?;
    build_actor(t)
}

fn user(r: &Row, offset: usize) -> Result<UserRecord, StoreError> {
    let id: Uuid = r.try_get(offset).px()?;
    let role: String = r.try_get(offset + 3).px()?;
    Ok(UserRecord {
        id,
        username: r.try_get(offset + 1).px()?,
        password_hash: r.try_get(offset + 2).px()?,
        role: role
            .parse()
            .map_err(|e: usalama_domain::DomainError| StoreError::InvalidRecord {
                id: id.to_string(),
                reason: e.to_string(),
            })?,
        created_at: r.try_get(offset + 4).px()?,
        disabled_at: r.try_get(offset + 5).px()?,
        org: r.try_get::<_, Option<Uuid>>(offset + 6).px()?.map_or(
            usalama_domain::DEFAULT_ORG,
            usalama_domain::OrgId::from_uuid,
        ),
        failed_logins: u32::try_from(r.try_get::<_, i32>(offset + 7).px()?).unwrap_or(0),
        locked_until: r.try_get(offset + 8).px()?,
        totp_secret: r.try_get(offset + 9).px()?,
        totp_sealed: r.try_get(offset + 10).px()?,
    })
}

/// The user columns [`user`] reads, on table alias `u`.
const USER_COLUMNS: &str = "u.id, u.username, u.password_hash, u.role, u.created_at, \
    u.disabled_at, u.org_id, u.failed_logins, u.locked_until, u.totp_secret, u.totp_sealed";

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

/// Inserts one event row unless a record with its id or `(source, external_id)` exists.
pub(crate) const INSERT_EVENT: &str = "INSERT INTO events (id, source, external_id, channel,
    occurred_start, occurred_end, date_precision, reported_at, latitude, longitude,
    location_precision, place_name, locality_id, adm0_id, adm1_id, adm2_id, adm3_id, dimension,
    category, source_codes, killed_best, killed_low, killed_high, injured, abducted, displaced,
    civilians_targeted, description, people, reporter_contact, status, duplicate_of,
    reliability, credibility, created_at, updated_at, created_by, content_hash, owner_org)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
    $19, $20::text::jsonb, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33,
    $34, $35, $36, $37, $38, $39)
  ON CONFLICT DO NOTHING";

/// The columns of [`INSERT_EVENT`] in parameter order, with the type of the value
/// [`with_event_params`] gives for each and the cast from it to the column's type (staged
/// imports copy rows of these types into a temporary table; `staged.rs`).
pub(crate) const EVENT_PARAMS: [(&str, Type, &str); 39] = [
    ("id", Type::UUID, ""),
    ("source", Type::TEXT, ""),
    ("external_id", Type::TEXT, ""),
    ("channel", Type::TEXT, ""),
    ("occurred_start", Type::DATE, ""),
    ("occurred_end", Type::DATE, ""),
    ("date_precision", Type::TEXT, ""),
    ("reported_at", Type::TIMESTAMPTZ, ""),
    ("latitude", Type::FLOAT8, ""),
    ("longitude", Type::FLOAT8, ""),
    ("location_precision", Type::INT4, ""),
    ("place_name", Type::TEXT, ""),
    ("locality_id", Type::UUID, ""),
    ("adm0_id", Type::UUID, ""),
    ("adm1_id", Type::UUID, ""),
    ("adm2_id", Type::UUID, ""),
    ("adm3_id", Type::UUID, ""),
    ("dimension", Type::TEXT, ""),
    ("category", Type::TEXT, ""),
    ("source_codes", Type::TEXT, "::jsonb"),
    ("killed_best", Type::INT4, ""),
    ("killed_low", Type::INT4, ""),
    ("killed_high", Type::INT4, ""),
    ("injured", Type::INT4, ""),
    ("abducted", Type::INT4, ""),
    ("displaced", Type::INT4, ""),
    ("civilians_targeted", Type::BOOL, ""),
    ("description", Type::TEXT, ""),
    ("people", Type::TEXT, ""),
    ("reporter_contact", Type::TEXT, ""),
    ("status", Type::TEXT, ""),
    ("duplicate_of", Type::UUID, ""),
    ("reliability", Type::TEXT, ""),
    ("credibility", Type::INT4, ""),
    ("created_at", Type::TIMESTAMPTZ, ""),
    ("updated_at", Type::TIMESTAMPTZ, ""),
    ("created_by", Type::TEXT, ""),
    ("content_hash", Type::BYTEA, ""),
    ("owner_org", Type::UUID, ""),
];

/// The parameters from `channel` to `reporter_contact` in [`with_event_params`]'s array: what
/// an update of an event from a new version of its source row sets.
pub(crate) const CHANGED_PARAMS: std::ops::Range<usize> = 3..30;

/// Hands `f` the 39 parameters of [`INSERT_EVENT`] for `row` and its content hash, in the
/// statement's order (the one list of an event row's values for PostgreSQL).
pub(crate) fn with_event_params<R>(
    row: &EventRow,
    hash: &[u8],
    f: impl FnOnce(&[Param<'_>; 39]) -> R,
) -> R {
    let event: [Param<'_>; 39] = [
        &row.id,
        &row.source,
        &row.external_id,
        &row.channel,
        &row.occurred_start,
        &row.occurred_end,
        &row.date_precision,
        &row.reported_at,
        &row.latitude,
        &row.longitude,
        &i32o(row.location_precision),
        &row.place_name,
        &row.locality_id,
        &row.adm[0],
        &row.adm[1],
        &row.adm[2],
        &row.adm[3],
        &row.dimension,
        &row.category,
        &row.source_codes,
        &i32o(row.killed_best),
        &i32o(row.killed_low),
        &i32o(row.killed_high),
        &i32o(row.injured),
        &i32o(row.abducted),
        &i32o(row.displaced),
        &row.civilians_targeted,
        &row.description,
        &row.people,
        &row.reporter_contact,
        &row.status,
        &row.duplicate_of,
        &row.reliability,
        &i32o(row.credibility),
        &row.created_at,
        &row.updated_at,
        &row.created_by,
        &hash,
        &row.owner_org,
    ];
    f(&event)
}

/// Runs [`INSERT_EVENT`] (prepared) for a row and its content hash; true when it was new.
pub(crate) fn insert_event(
    tx: &mut impl GenericClient,
    st: &postgres::Statement,
    row: &EventRow,
    hash: &[u8],
) -> Result<bool, StoreError> {
    insert_event_with(tx, st, row, hash, &[])
}

/// A statement's parameter.
pub(crate) type Param<'a> = &'a (dyn postgres::types::ToSql + Sync);

/// Runs an insert of an event whose first 39 parameters are [`INSERT_EVENT`]'s, `extra`
/// bound after them (the sealed columns of migration 0011); true when it was new.
pub(crate) fn insert_event_with(
    tx: &mut impl GenericClient,
    st: &postgres::Statement,
    row: &EventRow,
    hash: &[u8],
    extra: &[Param<'_>],
) -> Result<bool, StoreError> {
    let n = with_event_params(row, hash, |event| {
        if extra.is_empty() {
            tx.execute(st, event)
        } else {
            let all: Vec<Param<'_>> = event.iter().chain(extra).copied().collect();
            tx.execute(st, &all)
        }
    })
    .px()?;
    Ok(n == 1)
}

impl PgStore {
    /// Connects, optionally inside `schema` (created if missing; used by tests to isolate
    /// each run), and applies pending migrations.
    pub fn open(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        let mut config: postgres::Config = url.parse().map_err(|e: postgres::Error| {
            StoreError::InvalidLocation(format!("cannot parse the postgres URL: {e}"))
        })?;
        config.connect_timeout(std::time::Duration::from_secs(10));
        if config.get_dbname().is_none() {
            return Err(StoreError::InvalidLocation(
                "the postgres URL names no database".into(),
            ));
        }
        let mut first = config.connect(NoTls).map_err(|e| {
            StoreError::Unavailable(match e.as_db_error() {
                Some(db) => db.message().to_string(),
                None => format!("cannot connect to PostgreSQL: {e}"),
            })
        })?;
        if let Some(s) = schema {
            if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(StoreError::InvalidLocation(format!("schema name '{s}'")));
            }
            first
                .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {s}"))
                .px()?;
            config.options(&format!("-c search_path={s}"));
            first = config.connect(NoTls).px()?;
        }
        migrate_pg(&mut first, migrate::POSTGRES)?;
        drop(first);
        let pool = r2d2::Pool::builder()
            .max_size(crate::POOL_CONNECTIONS)
            .min_idle(Some(1))
            .build(Manager { config })?;
        Ok(Self { pool })
    }

    fn conn(&self) -> Result<r2d2::PooledConnection<Manager>, StoreError> {
        Ok(self.pool.get()?)
    }

    fn load_actors(c: &mut impl GenericClient, rows: &mut [EventRow]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let mut by_event: HashMap<Uuid, Vec<(Uuid, String)>> = HashMap::new();
        for r in c
            .query(
                "SELECT event_id, actor_id, role FROM event_actors WHERE event_id = ANY($1) ORDER BY role, actor_id",
                &[&ids],
            )
            .px()?
        {
            by_event
                .entry(r.try_get(0).px()?)
                .or_default()
                .push((r.try_get(1).px()?, r.try_get(2).px()?));
        }
        for r in rows.iter_mut() {
            r.actors = by_event.remove(&r.id).unwrap_or_default();
        }
        Ok(())
    }
}

/// Applies pending migrations under an advisory lock, refusing a newer or foreign schema.
fn migrate_pg(c: &mut Client, migrations: &[Migration]) -> Result<(), StoreError> {
    let mut tx = c.transaction().px()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .px()?;
    apply_migrations(&mut tx, migrations)?;
    tx.commit().px()
}

/// Applies the pending migrations of `migrations` inside `tx` (which holds the migration
/// lock), refusing a newer or foreign schema.
fn apply_migrations(
    tx: &mut postgres::Transaction<'_>,
    migrations: &[Migration],
) -> Result<(), StoreError> {
    let has_table: bool = tx
        .query_one("SELECT to_regclass('usalama_migrations') IS NOT NULL", &[])
        .px()?
        .get(0);
    if !has_table {
        let others: i64 = tx
            .query_one(
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()",
                &[],
            )
            .px()?
            .get(0);
        if others > 0 {
            return Err(StoreError::Foreign(
                "the PostgreSQL schema holds other tables and".into(),
            ));
        }
        tx.batch_execute(
            "CREATE TABLE usalama_migrations (version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)",
        )
        .px()?;
    }
    let current: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM usalama_migrations",
            &[],
        )
        .px()?
        .get(0);
    let latest = migrate::latest(migrations);
    if current > latest {
        return Err(StoreError::NewerSchema {
            found: current,
            supported: latest,
        });
    }
    for m in migrations.iter().filter(|m| m.version > current) {
        tracing::info!(version = m.version, "applying PostgreSQL migration");
        tx.batch_execute(m.sql).px()?;
        tx.execute(
            "INSERT INTO usalama_migrations (version, applied_at) VALUES ($1, now())",
            &[&m.version],
        )
        .px()?;
    }
    Ok(())
}

impl Store for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn()?
            .query_one("SELECT MAX(version) FROM usalama_migrations", &[])
            .px()?
            .get(0))
    }

    fn upsert_localities(&self, localities: &[Locality]) -> Result<UpsertCounts, StoreError> {
        let mut c = self.conn()?;
        let mut tx = c.transaction().px()?;
        let mut counts = UpsertCounts::default();
        let get = tx
            .prepare(&format!(
                "SELECT {LOCALITY_COLUMNS} FROM localities WHERE code = $1"
            ))
            .px()?;
        let put = tx
            .prepare(
                "INSERT INTO localities (id, code, name, alt_names, level, parent_id, geometry, centroid_lon, centroid_lat)
                 VALUES ($1, $2, $3, $4::text::jsonb, $5, $6, $7, $8, $9)
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, alt_names = excluded.alt_names,
                   level = excluded.level, parent_id = excluded.parent_id, geometry = excluded.geometry,
                   centroid_lon = excluded.centroid_lon, centroid_lat = excluded.centroid_lat",
            )
            .px()?;
        let mut sorted: Vec<&Locality> = localities.iter().collect();
        sorted.sort_by_key(|l| l.level);
        for l in sorted {
            let r = LocalityRow::from_locality(l);
            let old = tx.query_opt(&get, &[&r.code]).px()?;
            match old.as_ref().map(locality_row).transpose()? {
                Some(o)
                    if o.name == r.name
                        && serde_json::from_str::<serde_json::Value>(&o.alt_names).ok()
                            == serde_json::from_str::<serde_json::Value>(&r.alt_names).ok()
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
            tx.execute(
                &put,
                &[
                    &r.id,
                    &r.code,
                    &r.name,
                    &r.alt_names,
                    &(r.level as i32),
                    &r.parent_id,
                    &r.geometry,
                    &r.centroid_lon,
                    &r.centroid_lat,
                ],
            )
            .px()?;
        }
        tx.commit().px()?;
        Ok(counts)
    }

    fn all_localities(&self) -> Result<Vec<Locality>, StoreError> {
        self.conn()?
            .query(
                &format!("SELECT {LOCALITY_COLUMNS} FROM localities ORDER BY level, code"),
                &[],
            )
            .px()?
            .iter()
            .map(|r| locality_row(r).and_then(LocalityRow::into_locality))
            .collect()
    }

    fn get_locality(&self, id: LocalityId) -> Result<Option<Locality>, StoreError> {
        self.conn()?
            .query_opt(
                &format!("SELECT {LOCALITY_COLUMNS} FROM localities WHERE id = $1"),
                &[&id.as_uuid()],
            )
            .px()?
            .map(|r| locality_row(&r).and_then(LocalityRow::into_locality))
            .transpose()
    }

    fn locality_by_code(&self, code: &str) -> Result<Option<LocalitySummary>, StoreError> {
        self.conn()?
            .query_opt(
                &format!("SELECT {LOCALITY_SUMMARY_COLUMNS} FROM localities WHERE code = $1"),
                &[&code],
            )
            .px()?
            .map(|r| locality_row(&r).and_then(LocalityRow::into_summary))
            .transpose()
    }

    fn list_localities(&self, q: &LocalityQuery) -> Result<Page<LocalitySummary>, StoreError> {
        let mut c = self.conn()?;
        let mut f = Filter::new(Dialect::Postgres);
        if let Some(l) = q.level {
            f.push("level = {}", SqlValue::Int(l.depth() as i64));
        }
        if let Some(p) = q.parent {
            f.push("parent_id = {}", SqlValue::Uuid(p.as_uuid()));
        }
        if let Some(t) = q.text.as_deref().filter(|t| !t.trim().is_empty()) {
            let p = f.bind(SqlValue::Text(sql::contains_pattern(t.trim())));
            f.push_raw(format!(
                "(name ILIKE {p} OR code ILIKE {p} OR alt_names::text ILIKE {p})"
            ));
        }
        let total: i64 = c
            .query_one(
                &format!("SELECT count(*) FROM localities{}", f.where_sql()),
                &params(&f.values),
            )
            .px()?
            .get(0);
        if let Some(cur) = &q.page.after {
            let k = f.bind(SqlValue::Text(cur.key.clone()));
            f.push_raw(format!("code > {k}"));
        }
        let lim = sql::limit(u64::from(q.page.limit) + 1);
        let items = c
            .query(
                &format!(
                    "SELECT {LOCALITY_SUMMARY_COLUMNS} FROM localities{} ORDER BY code COLLATE \"C\" {lim}",
                    f.where_sql()
                ),
                &params(&f.values),
            )
            .px()?
            .iter()
            .map(|r| locality_row(r).and_then(LocalityRow::into_summary))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page_of(items, q.page.limit, total as u64, |l| Cursor {
            key: l.code.to_string(),
            id: l.id.as_uuid(),
        }))
    }

    fn locality_lineage(&self, id: LocalityId) -> Result<Vec<LocalitySummary>, StoreError> {
        let mut c = self.conn()?;
        let st = c
            .prepare(&format!(
                "SELECT {LOCALITY_SUMMARY_COLUMNS} FROM localities WHERE id = $1"
            ))
            .px()?;
        let mut out = Vec::new();
        let mut next = Some(id);
        while let Some(cur) = next.take() {
            if out.len() > 8 {
                break;
            }
            if let Some(r) = c.query_opt(&st, &[&cur.as_uuid()]).px()? {
                let s = locality_row(&r)?.into_summary()?;
                next = s.parent;
                out.push(s);
            }
        }
        Ok(out)
    }

    fn upsert_actors(&self, actors: &[Actor]) -> Result<UpsertCounts, StoreError> {
        let mut c = self.conn()?;
        let mut tx = c.transaction().px()?;
        let mut counts = UpsertCounts::default();
        let get = tx
            .prepare(&format!("SELECT {ACTOR_COLUMNS} FROM actors WHERE id = $1"))
            .px()?;
        let put = tx
            .prepare(
                "INSERT INTO actors (id, name, aliases, kind, ucdp_id, acled_name) VALUES ($1, $2, $3::text::jsonb, $4, $5, $6)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, aliases = excluded.aliases,
                   kind = excluded.kind, ucdp_id = excluded.ucdp_id, acled_name = excluded.acled_name",
            )
            .px()?;
        for a in actors {
            let old = tx
                .query_opt(&get, &[&a.id.as_uuid()])
                .px()?
                .map(|r| actor(&r))
                .transpose()?;
            match old {
                Some(o) if &o == a => {
                    counts.unchanged += 1;
                    continue;
                }
                Some(_) => counts.updated += 1,
                None => counts.inserted += 1,
            }
            tx.execute(
                &put,
                &[
                    &a.id.as_uuid(),
                    &a.name,
                    &serde_json::to_string(&a.aliases).unwrap_or_default(),
                    &a.kind.as_str(),
                    &a.external.ucdp_id,
                    &a.external.acled_name,
                ],
            )
            .px()?;
        }
        tx.commit().px()?;
        Ok(counts)
    }

    fn get_actor(&self, id: ActorId) -> Result<Option<Actor>, StoreError> {
        self.conn()?
            .query_opt(
                &format!("SELECT {ACTOR_COLUMNS} FROM actors WHERE id = $1"),
                &[&id.as_uuid()],
            )
            .px()?
            .map(|r| actor(&r))
            .transpose()
    }

    fn list_actors(&self, q: &ActorQuery) -> Result<Page<Actor>, StoreError> {
        let mut c = self.conn()?;
        let mut f = Filter::new(Dialect::Postgres);
        if let Some(k) = &q.kind {
            f.push("kind = {}", SqlValue::Text(k.clone()));
        }
        if let Some(t) = q.text.as_deref().filter(|t| !t.trim().is_empty()) {
            let p = f.bind(SqlValue::Text(sql::contains_pattern(t.trim())));
            f.push_raw(format!("(name ILIKE {p} OR aliases::text ILIKE {p})"));
        }
        let total: i64 = c
            .query_one(
                &format!("SELECT count(*) FROM actors{}", f.where_sql()),
                &params(&f.values),
            )
            .px()?
            .get(0);
        if let Some(cur) = &q.page.after {
            let k = f.bind(SqlValue::Text(cur.key.clone()));
            let i = f.bind(SqlValue::Uuid(cur.id));
            f.push_raw(format!("(name COLLATE \"C\", id) > ({k}, {i})"));
        }
        let lim = sql::limit(u64::from(q.page.limit) + 1);
        let items = c
            .query(
                &format!(
                    "SELECT {ACTOR_COLUMNS} FROM actors{} ORDER BY name COLLATE \"C\", id {lim}",
                    f.where_sql()
                ),
                &params(&f.values),
            )
            .px()?
            .iter()
            .map(actor)
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
        self.upsert_event_batch(&crate::EventBatch::new(events), now)
    }

    // Import performance (the trait declares it last): the body of `upsert_events`.
    fn upsert_event_batch(
        &self,
        batch: &crate::EventBatch,
        now: DateTime<Utc>,
    ) -> Result<UpsertCounts, StoreError> {
        let mut c = self.conn()?;
        let mut tx = c.transaction().px()?;
        let mut counts = UpsertCounts::default();
        let cols = event_columns();
        let find_ext = tx
            .prepare(&format!(
                "SELECT {cols}, e.content_hash FROM events e WHERE e.source = $1 AND e.external_id = $2"
            ))
            .px()?;
        let find_id = tx
            .prepare(&format!(
                "SELECT {cols}, e.content_hash FROM events e WHERE e.id = $1"
            ))
            .px()?;
        let ins = tx.prepare(INSERT_EVENT).px()?;
        let upd = tx
            .prepare(
                "UPDATE events SET channel = $2, occurred_start = $3, occurred_end = $4,
                   date_precision = $5, reported_at = $6, latitude = $7, longitude = $8,
                   location_precision = $9, place_name = $10, locality_id = $11, adm0_id = $12,
                   adm1_id = $13, adm2_id = $14, adm3_id = $15, dimension = $16, category = $17,
                   source_codes = $18::text::jsonb, killed_best = $19, killed_low = $20, killed_high = $21,
                   injured = $22, abducted = $23, displaced = $24, civilians_targeted = $25,
                   description = $26, people = $27, reporter_contact = $28, updated_at = $29,
                   content_hash = $30
                 WHERE id = $1",
            )
            .px()?;
        let hist = tx
            .prepare("INSERT INTO event_history (event_id, changed_at, changed_by, previous) VALUES ($1, $2, $3, $4::text::jsonb)")
            .px()?;
        let del_actors = tx
            .prepare("DELETE FROM event_actors WHERE event_id = $1")
            .px()?;
        let ins_actor = tx
            .prepare("INSERT INTO event_actors (event_id, actor_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .px()?;
        let staged = staged::write_new(&mut tx, &batch.rows)?;
        for ((row, hash), staged) in batch.rows.iter().zip(staged) {
            match staged {
                Staged::Inserted => {
                    counts.inserted += 1;
                    continue;
                }
                Staged::Unchanged => {
                    counts.unchanged += 1;
                    continue;
                }
                Staged::Held => {}
                // Try the insert first: a new record then costs one statement; only a
                // conflict needs the lookup and comparison.
                Staged::Repeated => {
                    if insert_event(&mut tx, &ins, row, hash)? {
                        for (a, role) in &row.actors {
                            tx.execute(&ins_actor, &[&row.id, a, role]).px()?;
                        }
                        counts.inserted += 1;
                        continue;
                    }
                }
            }
            let existing = match &row.external_id {
                Some(x) => tx.query_opt(&find_ext, &[&row.source, x]),
                None => tx.query_opt(&find_id, &[&row.id]),
            }
            .px()?;
            let existing = match existing {
                Some(r) => Some((
                    event_row(&r)?,
                    r.try_get::<_, Vec<u8>>(crate::sql::EVENT_COLUMN_COUNT)
                        .px()?,
                )),
                None => None,
            };
            match existing {
                Some((_, old_hash)) if old_hash == *hash => counts.unchanged += 1,
                Some((mut old, _)) => {
                    Self::load_actors(&mut tx, std::slice::from_mut(&mut old))?;
                    tx.execute(&hist, &[&old.id, &now, &row.created_by, &old.to_json()])
                        .px()?;
                    let mut row = row.clone();
                    row.id = old.id;
                    with_event_params(&row, hash, |p| {
                        let mut set: Vec<Param<'_>> = vec![p[0]];
                        set.extend_from_slice(&p[CHANGED_PARAMS]);
                        set.extend([&now as Param<'_>, &hash]);
                        tx.execute(&upd, &set)
                    })
                    .px()?;
                    tx.execute(&del_actors, &[&row.id]).px()?;
                    for (a, role) in &row.actors {
                        tx.execute(&ins_actor, &[&row.id, a, role]).px()?;
                    }
                    counts.updated += 1;
                }
                None => {
                    return Err(StoreError::Conflict(format!(
                        "event id {} is already used by another record",
                        row.id
                    )))
                }
            }
        }
        tx.commit().px()?;
        Ok(counts)
    }

    fn get_event(&self, id: EventId) -> Result<Option<StoredEvent>, StoreError> {
        let mut c = self.conn()?;
        let row = c
            .query_opt(
                &format!("SELECT {} FROM events e WHERE e.id = $1", event_columns()),
                &[&id.as_uuid()],
            )
            .px()?;
        match row {
            None => Ok(None),
            Some(r) => {
                let mut rows = [event_row(&r)?];
                Self::load_actors(&mut *c, &mut rows)?;
                let [r] = rows;
                r.into_placed().map(Some)
            }
        }
    }

    fn list_events(&self, q: &EventQuery) -> Result<Page<StoredEvent>, StoreError> {
        let mut c = self.conn()?;
        let mut f = sql::event_filter(q, Dialect::Postgres);
        let total: i64 = if q.skip_total {
            0
        } else {
            count_matching(&mut c, q, &f)?
        };
        if let Some(cur) = &q.page.after {
            let k = f.bind(SqlValue::Date(cur.date_key()?));
            let i = f.bind(SqlValue::Uuid(cur.id));
            f.push_raw(format!("(e.occurred_end, e.id) < ({k}, {i})"));
        }
        let lim = sql::limit(u64::from(q.page.limit) + 1);
        let mut rows = c
            .query(
                &format!(
                    "SELECT {} FROM events e{} ORDER BY e.occurred_end DESC, e.id DESC {lim}",
                    event_columns(),
                    f.where_sql()
                ),
                &params(&f.values),
            )
            .px()?
            .iter()
            .map(event_row)
            .collect::<Result<Vec<_>, _>>()?;
        Self::load_actors(&mut *c, &mut rows)?;
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
        let f = sql::event_filter(q, Dialect::Postgres);
        let (key, year) = sql::group_expr(by, Dialect::Postgres);
        let year_sel = year.unwrap_or("NULL::integer");
        let sql = format!(
            "SELECT CAST({key} AS TEXT), {year_sel}, count(*), COALESCE(SUM(e.killed_best), 0)::bigint
             FROM events e{} GROUP BY 1, 2 ORDER BY 1, 2",
            f.where_sql()
        );
        self.conn()?
            .query(&sql, &params(&f.values))
            .px()?
            .iter()
            .map(|r| {
                Ok(GroupCount {
                    key: r.try_get::<_, Option<String>>(0).px()?.unwrap_or_default(),
                    year: r.try_get(1).px()?,
                    events: r.try_get::<_, i64>(2).px()? as u64,
                    fatalities: r.try_get::<_, i64>(3).px()? as u64,
                })
            })
            .collect()
    }

    fn set_placements(&self, placements: &[(EventId, LocalityPath)]) -> Result<u64, StoreError> {
        // One statement for the whole list (arrays of ids and localities), not one per event.
        let ids: Vec<Uuid> = placements.iter().map(|(id, _)| id.as_uuid()).collect();
        let deepest: Vec<Option<Uuid>> = placements
            .iter()
            .map(|(_, p)| p.deepest().map(|l| l.as_uuid()))
            .collect();
        let level = |i: usize| -> Vec<Option<Uuid>> {
            placements
                .iter()
                .map(|(_, p)| p.0[i].map(|l| l.as_uuid()))
                .collect()
        };
        let (a0, a1, a2, a3) = (level(0), level(1), level(2), level(3));
        self.conn()?
            .execute(
                "UPDATE events e SET locality_id = p.loc, adm0_id = p.a0, adm1_id = p.a1,
                   adm2_id = p.a2, adm3_id = p.a3
                 FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::uuid[])
                   AS p(id, loc, a0, a1, a2, a3)
                 WHERE e.id = p.id AND (e.locality_id IS DISTINCT FROM p.loc
                   OR e.adm0_id IS DISTINCT FROM p.a0 OR e.adm1_id IS DISTINCT FROM p.a1
                   OR e.adm2_id IS DISTINCT FROM p.a2 OR e.adm3_id IS DISTINCT FROM p.a3)",
                &[&ids, &deepest, &a0, &a1, &a2, &a3],
            )
            .px()
    }

    fn upsert_user(&self, u: &UserRecord) -> Result<(), StoreError> {
        self.conn()?
            .execute(
                "INSERT INTO users (id, username, password_hash, role, created_at, disabled_at, org_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash,
                   role = excluded.role, disabled_at = excluded.disabled_at,
                   org_id = excluded.org_id",
                &[
                    &u.id,
                    &u.username,
                    &u.password_hash,
                    &u.role.as_str(),
                    &u.created_at,
                    &u.disabled_at,
                    &u.org.as_uuid(),
                ],
            )
            .px()
            .map(|_| ())
    }

    fn find_user(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        self.conn()?
            .query_opt(
                &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.username = $1"),
                &[&username],
            )
            .px()?
            .map(|r| user(&r, 0))
            .transpose()
    }

    fn insert_token(&self, t: &TokenRecord) -> Result<(), StoreError> {
        self.conn()?
            .execute(
                "INSERT INTO api_tokens (id, token_hash, role, label, created_at, revoked_at, org_id, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[&t.id, &t.token_hash, &t.role.as_str(), &t.label, &t.created_at, &t.revoked_at, &t.org.as_uuid(), &t.expires_at],
            )
            .px()
            .map(|_| ())
    }

    fn find_token(&self, token_hash: &[u8]) -> Result<Option<TokenRecord>, StoreError> {
        let row = self
            .conn()?
            .query_opt(
                "SELECT id, token_hash, role, label, created_at, revoked_at, org_id, expires_at FROM api_tokens WHERE token_hash = $1",
                &[&token_hash],
            )
            .px()?;
        row.map(|r| {
            let id: Uuid = r.try_get(0).px()?;
            let role: String = r.try_get(2).px()?;
            Ok(TokenRecord {
                id,
                token_hash: r.try_get(1).px()?,
                role: role.parse().map_err(|e: usalama_domain::DomainError| {
                    StoreError::InvalidRecord {
                        id: id.to_string(),
                        reason: e.to_string(),
                    }
                })?,
                label: r.try_get(3).px()?,
                created_at: r.try_get(4).px()?,
                revoked_at: r.try_get(5).px()?,
                org: r.try_get::<_, Option<Uuid>>(6).px()?.map_or(
                    usalama_domain::DEFAULT_ORG,
                    usalama_domain::OrgId::from_uuid,
                ),
                expires_at: r.try_get(7).px()?,
            })
        })
        .transpose()
    }

    fn revoke_tokens(&self, label: &str, at: DateTime<Utc>) -> Result<u64, StoreError> {
        self.conn()?
            .execute(
                "UPDATE api_tokens SET revoked_at = $2 WHERE label = $1 AND revoked_at IS NULL",
                &[&label, &at],
            )
            .px()
    }

    fn insert_session(&self, s: &SessionRecord) -> Result<(), StoreError> {
        self.conn()?
            .execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
                &[&s.token_hash, &s.user_id, &s.created_at, &s.expires_at],
            )
            .px()
            .map(|_| ())
    }

    fn find_session(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
        let row = self
            .conn()?
            .query_opt(
                &format!(
                    "SELECT s.created_at, s.expires_at, {USER_COLUMNS}
                 FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1"
                ),
                &[&token_hash],
            )
            .px()?;
        row.map(|r| {
            let u = user(&r, 2)?;
            Ok((
                SessionRecord {
                    token_hash: token_hash.to_vec(),
                    user_id: u.id,
                    created_at: r.try_get(0).px()?,
                    expires_at: r.try_get(1).px()?,
                },
                u,
            ))
        })
        .transpose()
    }

    fn delete_session(&self, token_hash: &[u8]) -> Result<(), StoreError> {
        self.conn()?
            .execute("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash])
            .px()
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
        // One repeatable-read, read-only transaction: every batch sees the same snapshot.
        let mut tx = c
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .px()?;
        let cols = event_columns();
        let mut after: Option<(chrono::NaiveDate, Uuid)> = None;
        let mut n = 0u64;
        loop {
            let mut flt = sql::event_filter(q, Dialect::Postgres);
            sql::scan_after(&mut flt, after);
            let lim = sql::limit(batch as u64);
            let mut rows = tx
                .query(
                    &format!(
                        "SELECT {cols} FROM events e{} ORDER BY e.occurred_end, e.id {lim}",
                        flt.where_sql()
                    ),
                    &params(&flt.values),
                )
                .px()?
                .iter()
                .map(event_row)
                .collect::<Result<Vec<_>, _>>()?;
            let full = rows.len() == batch;
            after = rows.last().map(|r| (r.occurred_end, r.id));
            Self::load_actors(&mut tx, &mut rows)?;
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
        tx.commit().px()?;
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

    // Bulk loading: none on PostgreSQL. Dropping indexes there would take an exclusive
    // lock on `events` that blocks every reader of a shared server until the import ends;
    // imports write through the indexes as usual.
    fn begin_bulk_load(&self, _now: DateTime<Utc>) -> Result<bool, StoreError> {
        Ok(false)
    }

    fn end_bulk_load(&self) -> Result<(), StoreError> {
        Ok(())
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
        self.conn()?
            .query(
                &format!(
                    "SELECT {USER_COLUMNS} FROM users u WHERE $1::uuid IS NULL OR u.org_id = $1 ORDER BY u.username"
                ),
                &[&org.map(|o| o.as_uuid())],
            )
            .px()?
            .iter()
            .map(|r| user(r, 0))
            .collect()
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_staged_columns_are_the_insert_statements_columns_in_order() {
        let list = INSERT_EVENT
            .split_once('(')
            .and_then(|(_, rest)| rest.split_once(')'))
            .map(|(cols, _)| cols)
            .unwrap();
        let cols: Vec<&str> = list.split(',').map(str::trim).collect();
        let staged: Vec<&str> = EVENT_PARAMS.iter().map(|(n, _, _)| *n).collect();
        assert_eq!(cols, staged);
    }
}
