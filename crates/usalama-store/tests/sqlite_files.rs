//! What the SQLite backend does with data directories and files it did not make: each case
//! is refused with a one-line error, and nothing is overwritten.

use std::fs;
use usalama_store::{sqlite::SqliteStore, StoreError, StoreLocation};

#[test]
fn refuses_a_foreign_directory_without_touching_it() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let err = SqliteStore::open_dir(dir.path()).err().unwrap();
    assert!(matches!(err, StoreError::Foreign(_)), "{err}");
    assert!(
        err.to_string().contains("choose an empty directory"),
        "{err}"
    );
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn refuses_a_file_that_is_not_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("usalama.sqlite3");
    fs::write(&f, b"this is not a database at all, just text").unwrap();
    let err = SqliteStore::open_dir(dir.path()).err().unwrap();
    assert!(err.to_string().contains("not a Usalama database"), "{err}");
    assert_eq!(
        fs::read(&f).unwrap(),
        b"this is not a database at all, just text"
    );
}

#[test]
fn refuses_another_applications_sqlite_database() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("usalama.sqlite3");
    sqlite3(
        &f,
        "CREATE TABLE customers (name TEXT); INSERT INTO customers VALUES ('x');",
    );
    let before = fs::read(&f).unwrap();
    let err = SqliteStore::open_dir(dir.path()).err().unwrap();
    assert!(matches!(err, StoreError::Foreign(_)), "{err}");
    assert_eq!(fs::read(&f).unwrap(), before, "nothing is overwritten");
}

/// Runs SQL through the sqlite3 shell, as another program would write the file.
fn sqlite3(file: &std::path::Path, sql: &str) {
    let ok = std::process::Command::new("sqlite3")
        .arg(file)
        .arg(sql)
        .status()
        .map(|s| s.success());
    assert!(
        matches!(ok, Ok(true)),
        "the sqlite3 shell is needed for this test (apt-get install sqlite3)"
    );
}

#[test]
fn reports_corruption_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    {
        let s = SqliteStore::open_dir(&data).unwrap();
        drop(s);
    }
    let f = data.join("usalama.sqlite3");
    let mut bytes = fs::read(&f).unwrap();
    let n = bytes.len();
    for b in &mut bytes[100..n] {
        *b = 0xA5;
    }
    fs::write(&f, &bytes).unwrap();
    let _ = fs::remove_file(data.join("usalama.sqlite3-wal"));
    let err = SqliteStore::open_dir(&data).err().unwrap();
    let msg = err.to_string();
    assert!(!msg.contains('\n'), "{msg}");
    assert!(
        matches!(err, StoreError::Corrupt(_) | StoreError::Foreign(_)),
        "{msg}"
    );
}

#[test]
fn refuses_a_newer_schema() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    drop(SqliteStore::open_dir(&data).unwrap());
    let f = data.join("usalama.sqlite3");
    sqlite3(&f, "INSERT INTO usalama_migrations VALUES (999, 'future')");
    let before = fs::read(&f).unwrap();
    let err = SqliteStore::open_dir(&data).err().unwrap();
    assert!(
        matches!(err, StoreError::NewerSchema { found: 999, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("upgrade usalama"));
    assert_eq!(fs::read(&f).unwrap(), before, "nothing is overwritten");
}

#[test]
fn database_urls_are_parsed_strictly() {
    assert!(StoreLocation::from_url("postgresql://u@h/db").is_ok());
    assert!(StoreLocation::from_url("mysql://u@h/db").is_err());
    assert!(StoreLocation::from_url("/var/lib/usalama").is_err());
}

/// `keys purge` rewrites the store (VACUUM). When another program holds the write lock
/// past the busy wait (30 s), the purge fails as busy, saying to try again, and the store
/// is as it was: every event readable, integrity clean; once the lock is gone it succeeds.
#[test]
fn a_purge_kept_from_the_store_fails_as_busy_and_leaves_it_whole() {
    use usalama_domain::{Dimension, LocalityPath};
    use usalama_store::{PlacedEvent, Store};
    use usalama_test_support::{event, t0, taxonomy};

    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    let events: Vec<PlacedEvent> = (1..=50)
        .map(|n| PlacedEvent {
            event: event(n, "2023-05-01", "armed_violence", Dimension::Lives)
                .validate(&taxonomy())
                .unwrap(),
            path: LocalityPath::default(),
        })
        .collect();
    store.upsert_events(&events, t0()).unwrap();

    let holder = rusqlite::Connection::open(dir.path().join("usalama.sqlite3")).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = std::time::Instant::now();
    let err = store.purge_free_space().unwrap_err();
    assert!(matches!(err, StoreError::Busy(_)), "{err:?}");
    assert!(err.to_string().contains("try again"), "{err}");
    assert!(started.elapsed() >= std::time::Duration::from_secs(25));
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);

    let ok: String = rusqlite::Connection::open(dir.path().join("usalama.sqlite3"))
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    for e in &events {
        assert!(store.get_event(e.event.id).unwrap().is_some());
    }
    store.purge_free_space().unwrap();
    assert!(store.get_event(events[0].event.id).unwrap().is_some());
}
