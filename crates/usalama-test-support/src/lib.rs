//! Test fixtures shared by every crate's tests: a fresh store on each backend (a temporary
//! SQLite directory, and a fresh PostgreSQL schema when `USALAMA_TEST_POSTGRES_URL` is set),
//! and builders for valid domain values.

use chrono::{DateTime, NaiveDate, Utc};
use geo_types::{polygon, MultiPolygon};
use std::sync::Arc;
use usalama_domain::{
    AdminLevel, Casualties, Category, Channel, DatePrecision, Dimension, EventData, EventId,
    GeoPoint, Locality, LocalityCode, LocalityId, LocationPrecision, RecordMeta, Taxonomy,
    VerificationStatus,
};
use usalama_store::{postgres::PgStore, sqlite::SqliteStore, Store};

pub mod bodies;
pub use bodies::{form_urlencoded, multipart};

/// The environment variable naming a PostgreSQL database for tests.
pub const POSTGRES_ENV: &str = "USALAMA_TEST_POSTGRES_URL";

/// A store that cleans up after itself: the SQLite directory is deleted, the PostgreSQL
/// schema dropped.
pub struct TestStore {
    /// The store.
    pub store: Arc<dyn Store>,
    /// `sqlite` or `postgres`, for messages.
    pub name: &'static str,
    /// The SQLite directory (kept alive until drop).
    pub dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Some((url, schema)) = self.pg.take() {
            if let Ok(mut c) = postgres::Client::connect(&url, postgres::NoTls) {
                let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        }
    }
}

/// A unique, valid schema name.
fn schema_name() -> String {
    format!("t_{}", uuid::Uuid::new_v4().simple())
}

/// A fresh SQLite store in a temporary directory.
pub fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open_dir(&dir.path().join("data")).expect("open sqlite");
    TestStore {
        store: Arc::new(store),
        name: "sqlite",
        dir: Some(dir),
        pg: None,
    }
}

/// A fresh PostgreSQL schema, if `USALAMA_TEST_POSTGRES_URL` is set.
pub fn postgres() -> Option<TestStore> {
    let url = std::env::var(POSTGRES_ENV).ok().filter(|u| !u.is_empty())?;
    let schema = schema_name();
    let store = PgStore::open(&url, Some(&schema))
        .unwrap_or_else(|e| panic!("{POSTGRES_ENV} is set but PostgreSQL failed: {e}"));
    Some(TestStore {
        store: Arc::new(store),
        name: "postgres",
        dir: None,
        pg: Some((url, schema)),
    })
}

/// Every backend available: SQLite always, PostgreSQL when configured.
pub fn stores() -> Vec<TestStore> {
    let mut v = vec![sqlite()];
    v.extend(postgres());
    v
}

/// Runs `check` against a fresh store of every available backend.
pub fn on_every_backend(check: impl Fn(&TestStore)) {
    for s in stores() {
        check(&s);
    }
}

/// A fixed instant for tests.
pub fn t0() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_700_000_000, 0).expect("valid timestamp")
}

/// A day from ISO text.
pub fn day(s: &str) -> NaiveDate {
    s.parse().expect("ISO date")
}

/// A small taxonomy with one category per dimension: `armed_violence` (lives),
/// `food_insecurity` (livelihood), `arbitrary_arrest` (dignity).
pub fn taxonomy() -> Taxonomy {
    let cat = |code: &str, d: Dimension| Category {
        code: code.into(),
        dimension: d,
        labels: [("en".to_string(), code.replace('_', " "))].into(),
        sensitive: false,
    };
    Taxonomy::new(
        vec![
            cat("armed_violence", Dimension::Lives),
            cat("food_insecurity", Dimension::Livelihood),
            cat("arbitrary_arrest", Dimension::Dignity),
        ],
        [(1u8, "armed_violence".to_string())].into(),
        Default::default(),
    )
    .expect("valid taxonomy")
}

/// A valid imported event `n` on `date` in the given category.
pub fn event(n: u32, date: &str, category: &str, dimension: Dimension) -> EventData {
    EventData {
        id: EventId::derived(&format!("test:{n}")),
        source: "test".into(),
        external_id: Some(n.to_string()),
        channel: Channel::Import,
        occurred_start: day(date),
        occurred_end: day(date),
        date_precision: DatePrecision::Day,
        reported_at: None,
        point: Some(GeoPoint::new(4.5, 18.5).expect("point")),
        location_precision: Some(LocationPrecision::EXACT),
        place_name: Some(format!("Place {n}")),
        locality: None,
        dimension,
        category: category.into(),
        source_codes: [("type_of_violence".to_string(), "1".to_string())].into(),
        actors: vec![],
        casualties: Casualties {
            killed_best: Some(n % 5),
            ..Default::default()
        },
        civilians_targeted: n % 2 == 0,
        description: Some(format!("Event number {n}")),
        people: vec![],
        reporter_contact: None,
        status: VerificationStatus::Verified,
        reliability: None,
        credibility: None,
        meta: RecordMeta {
            created_at: t0(),
            updated_at: t0(),
            created_by: None,
            owner_org: None,
        },
    }
}

/// A square polygon locality with corners (x0, y0)-(x1, y1).
pub fn square(
    code: &str,
    name: &str,
    level: AdminLevel,
    parent: Option<LocalityId>,
    (x0, y0, x1, y1): (f64, f64, f64, f64),
) -> Locality {
    let g = MultiPolygon(vec![polygon![
        (x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1), (x: x0, y: y0)
    ]]);
    Locality::new(
        LocalityCode::new(code).expect("code"),
        name,
        level,
        parent,
        Some(g),
        Some(geo_types::Point::new((x0 + x1) / 2.0, (y0 + y1) / 2.0)),
    )
    .expect("valid locality")
}

/// The bundled demo boundaries (OCHA COD-AB, CC BY-IGO) by level, shallowest first.
pub const DEMO_BOUNDARIES: [(AdminLevel, &str); 3] = [
    (
        AdminLevel::Adm1,
        include_str!("../../../data/demo/caf_admin1.geojson"),
    ),
    (
        AdminLevel::Adm2,
        include_str!("../../../data/demo/caf_admin2.geojson"),
    ),
    (
        AdminLevel::Adm3,
        include_str!("../../../data/demo/caf_admin3.geojson"),
    ),
];

/// The bundled demo events (UCDP GED 23.1, CC BY 4.0), GeoJSON.
pub const DEMO_EVENTS: &str = include_str!("../../../data/demo/ucdp-ged-caf.geojson");

/// An unverified report `n` from a monitor (web form, source `web`, external id `R-n`) in a
/// category of the lives dimension, on `date` at `(lat, lon)`, with a description and no
/// counts: set `casualties` and `civilians_targeted` as the test needs.
pub fn report(
    n: u32,
    date: &str,
    category: &str,
    (lat, lon): (f64, f64),
    description: &str,
) -> EventData {
    EventData {
        id: EventId::derived(&format!("test-report:{n}")),
        source: "web".into(),
        external_id: Some(format!("R-{n}")),
        channel: Channel::WebForm,
        occurred_start: day(date),
        occurred_end: day(date),
        date_precision: DatePrecision::Day,
        reported_at: Some(t0()),
        point: Some(GeoPoint::new(lat, lon).expect("point")),
        location_precision: Some(LocationPrecision::EXACT),
        place_name: None,
        locality: None,
        dimension: Dimension::Lives,
        category: category.into(),
        source_codes: Default::default(),
        actors: vec![],
        casualties: Casualties::default(),
        civilians_targeted: false,
        description: Some(description.into()),
        people: vec![],
        reporter_contact: None,
        status: VerificationStatus::Unverified,
        reliability: None,
        credibility: None,
        meta: RecordMeta {
            created_at: t0(),
            updated_at: t0(),
            created_by: Some("monitor".into()),
            owner_org: None,
        },
    }
}

impl TestStore {
    /// Runs raw SQL on the store's database (tests that tamper with stored rows).
    pub fn execute_sql(&self, sql: &str) {
        match (&self.dir, &self.pg) {
            (Some(d), _) => {
                let c = rusqlite::Connection::open(
                    d.path().join("data").join(usalama_store::sqlite::DB_FILE),
                )
                .expect("open sqlite");
                c.execute_batch(sql).expect("sql");
            }
            (None, Some((url, schema))) => {
                let mut c = postgres::Client::connect(url, postgres::NoTls).expect("connect");
                c.batch_execute(&format!("SET search_path TO {schema}; {sql}"))
                    .expect("sql");
            }
            _ => panic!("no database"),
        }
    }

    /// The SQLite database file, for SQLite stores.
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        self.dir
            .as_ref()
            .map(|d| d.path().join("data").join(usalama_store::sqlite::DB_FILE))
    }

    /// The PostgreSQL URL and schema, for PostgreSQL stores.
    pub fn postgres_schema(&self) -> Option<(&str, &str)> {
        self.pg.as_ref().map(|(u, s)| (u.as_str(), s.as_str()))
    }
}
