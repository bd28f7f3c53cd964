//! `usalama backup` and `usalama restore` on the demo data, on SQLite and (when configured)
//! PostgreSQL: the restored store exports exactly what the original exports, and a restore
//! over data is refused without `--force`. The installation's master key file travels
//! beside the backup (never inside it): source and target name the same one.

use crate::common::{fresh_pg_schema, run};
use std::process::Output;

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn round_trip(source: &[&str], target: &[&str], dir: &std::path::Path) {
    ok(&run(&[&["demo", "--no-serve"][..], source].concat()));
    let file = dir.join("usalama.backup");
    let file = file.to_str().unwrap();
    let out = ok(&run(&[&["backup", file][..], source].concat()));
    assert!(out.contains("events") && out.contains("1848 rows"), "{out}");
    let again = run(&[&["backup", file][..], source].concat());
    assert_eq!(again.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));

    let out = ok(&run(&[&["restore", file][..], target].concat()));
    assert!(out.contains("integrity checked"), "{out}");
    let export = |store: &[&str]| ok(&run(&[&["export", "csv"][..], store].concat()));
    let original = export(source);
    assert!(original.lines().count() > 1848, "a header and 1,848 events");
    assert_eq!(export(target), original);

    let refused = run(&[&["restore", file][..], target].concat());
    assert_eq!(refused.status.code(), Some(4));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("not empty") && err.contains("--force"),
        "{err}"
    );
    ok(&run(&[&["restore", file, "--force"][..], target].concat()));
    assert_eq!(export(target), original);
}

#[test]
fn backup_and_restore_commands_round_trip_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    let key = dir.path().join("master.key");
    let key = key.to_str().unwrap();
    round_trip(
        &["--data-dir", a.to_str().unwrap(), "--key-file", key],
        &["--data-dir", b.to_str().unwrap(), "--key-file", key],
        dir.path(),
    );
}

#[test]
fn backup_and_restore_commands_round_trip_on_postgres_when_configured() {
    let Ok(url) = std::env::var("USALAMA_TEST_POSTGRES_URL") else {
        eprintln!("USALAMA_TEST_POSTGRES_URL not set: PostgreSQL variant not run");
        return;
    };
    let schemas = [0, 1].map(|i| format!("bk{i}_{}", std::process::id()));
    let scoped: Vec<String> = schemas.iter().map(|s| fresh_pg_schema(&url, s)).collect();
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("master.key");
    let key = key.to_str().unwrap();
    round_trip(
        &["--database-url", &scoped[0], "--key-file", key],
        &["--database-url", &scoped[1], "--key-file", key],
        dir.path(),
    );
    for s in &schemas {
        admin
            .batch_execute(&format!("DROP SCHEMA {s} CASCADE"))
            .unwrap();
    }
}
