//! `usalama backup` and `usalama restore`: the store's online backup and its checked
//! restore, with a summary of what was carried. The master key file (if the installation
//! has one) is not in the database and is never part of a backup: it is kept apart.

use crate::cli::{ConfigError, Settings, StoreArgs};
use std::path::Path;
use usalama_store::BackupSummary;

/// Opens the store named by the flags, without the application (a restore needs a store
/// that nothing has written to, not even the first start's keys).
fn open_store(
    s: &Settings,
    args: &StoreArgs,
) -> anyhow::Result<std::sync::Arc<dyn usalama_store::Store>> {
    let location = crate::config::store_location(
        args.data_dir.clone(),
        args.database_url.clone(),
        &s.file.store,
        None,
    )
    .map_err(|e| ConfigError(e.to_string()))?;
    tracing::info!(store = %location.redacted(), "opening store");
    Ok(usalama_store::open(&location)?)
}

/// One line per table, then the total.
fn describe(summary: &BackupSummary) -> String {
    let mut out = String::new();
    for t in &summary.tables {
        out.push_str(&format!("  {:<28} {:>10} rows\n", t.table, t.rows));
    }
    out.push_str(&format!(
        "  {:<28} {:>10} rows in {} tables",
        "total",
        summary.total_rows(),
        summary.tables.len()
    ));
    out
}

/// `usalama backup FILE`.
pub fn backup(s: &Settings, args: &StoreArgs, file: &Path) -> anyhow::Result<()> {
    let store = open_store(s, args)?;
    let summary = store.backup(file)?;
    println!(
        "backup of schema version {} written to {}\n{}",
        summary.schema_version,
        file.display(),
        describe(&summary)
    );
    Ok(())
}

/// `usalama restore FILE [--force]`.
pub fn restore(s: &Settings, args: &StoreArgs, file: &Path, force: bool) -> anyhow::Result<()> {
    let store = open_store(s, args)?;
    let summary = store.restore(file, force)?;
    // The restore checked digests and constraints itself; this adds SQLite's
    // integrity_check or PostgreSQL's amcheck, which needs the right to install amcheck.
    let checked = match store.check_integrity() {
        Ok(check) if check.is_ok() => format!("integrity checked ({} checks)", check.checked.len()),
        Ok(check) => anyhow::bail!(
            "the restored database failed its integrity check: {}",
            check.problems.join("; ")
        ),
        Err(usalama_store::StoreError::Unavailable(why)) => {
            eprintln!("usalama: warning: restored, but the index check did not run: {why}");
            "digests and constraints checked".to_string()
        }
        Err(e) => return Err(e.into()),
    };
    println!(
        "restored {} (schema version {}, now {}); {checked}\n{}",
        file.display(),
        summary.schema_version,
        store.schema_version()?,
        describe(&summary)
    );
    Ok(())
}
