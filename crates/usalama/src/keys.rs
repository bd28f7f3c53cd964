//! The master key file and the erasure ledger: where they are, creating the key on first
//! start, rotating it, and the ledger file the vault writes erased key ids to.
//!
//! The key file is `--key-file` / `USALAMA_KEY_FILE` / `USALAMA_MASTER_KEY_FILE` (the
//! `*_FILE` convention of secrets mounted as files) / `[security] key_file`; by default
//! `master.key` next to a SQLite database. PostgreSQL installations must name one. It is
//! created with mode 0600 on first start and never stored in the database. During a
//! rotation the new key is first written to `KEYFILE.next`; both are read until the old
//! file is replaced, so an interrupted rotation can be run again. Erased data key ids are
//! appended to `KEYFILE.erased`, which, like the key file, must be kept out of database
//! backups and kept with the key.

use crate::cli::ConfigError;
use anyhow::{bail, Context};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use usalama_app::{App, ErasureLedger, Keyring, LegacySealed, MasterKey, Principal};
use usalama_store::{RewrapCounts, Store, StoreLocation};
use uuid::Uuid;

/// Where the key file is: the flag/environment value, else the configuration's, else
/// `master.key` beside a SQLite database.
pub fn key_path(
    flag: Option<PathBuf>,
    configured: Option<PathBuf>,
    location: &StoreLocation,
) -> anyhow::Result<PathBuf> {
    if let Some(p) = flag
        .or_else(|| std::env::var_os("USALAMA_MASTER_KEY_FILE").map(PathBuf::from))
        .or(configured)
    {
        return Ok(p);
    }
    match location {
        StoreLocation::SqliteDir(d) => Ok(d.join("master.key")),
        StoreLocation::SqliteFile(f) => Ok(f
            .parent()
            .map(|p| p.join("master.key"))
            .unwrap_or_else(|| PathBuf::from("master.key"))),
        StoreLocation::Postgres(_) => Err(ConfigError(
            "a PostgreSQL store needs a master key file: give --key-file FILE (USALAMA_KEY_FILE, or [security] key_file)".into(),
        )
        .into()),
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Writes a new secret file with mode 0600 (refusing to overwrite), synced to disk.
fn write_secret(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create key file {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

fn read_ring(path: &Path) -> anyhow::Result<Keyring> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("cannot read key file {}: {e}", path.display())))?;
    Ok(Keyring::parse(&text).map_err(|e| ConfigError(format!("{}: {e}", path.display())))?)
}

/// Reads the key file (with `.next` of an interrupted rotation), or creates it when it
/// does not exist and the database holds no data keys yet.
pub fn load_or_create(path: &Path, store: &dyn Store) -> anyhow::Result<Keyring> {
    let mut ring = if path.exists() {
        read_ring(path)?
    } else {
        let (live, destroyed) = store.count_data_keys()?;
        if live + destroyed > 0 {
            bail!(ConfigError(format!(
                "key file {} does not exist, but the database holds {live} data keys sealed by a master key: give the right --key-file",
                path.display()
            )));
        }
        let ring = Keyring::new(MasterKey::generate(1));
        write_secret(path, &ring.to_file_text())?;
        tracing::info!(key_file = %path.display(), "generated a new master key file (mode 0600): keep it secret and out of database backups");
        ring
    };
    let next = sibling(path, ".next");
    if next.exists() {
        let n = read_ring(&next)?;
        ring = ring.with(n.current().clone());
        tracing::warn!(file = %next.display(), "an interrupted key rotation left a new key: run `usalama keys rotate` again to finish");
    }
    Ok(ring)
}

/// The erasure ledger beside the key file: one erased data key id per line, appended and
/// synced before the keys are destroyed in the database.
pub struct FileLedger {
    path: PathBuf,
}

impl FileLedger {
    /// The ledger of a key file.
    pub fn beside(key_file: &Path) -> Self {
        Self {
            path: sibling(key_file, ".erased"),
        }
    }
}

impl ErasureLedger for FileLedger {
    fn record(&self, ids: &[Uuid]) -> Result<(), String> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts
            .open(&self.path)
            .map_err(|e| format!("{}: {e}", self.path.display()))?;
        let text: String = ids.iter().map(|i| format!("{i}\n")).collect();
        f.write_all(text.as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(|e| format!("{}: {e}", self.path.display()))
    }

    fn erased(&self) -> Result<Vec<Uuid>, String> {
        match std::fs::read_to_string(&self.path) {
            Ok(t) => t
                .lines()
                .filter(|l| !l.trim().is_empty())
                .enumerate()
                .map(|(i, l)| {
                    l.trim().parse().map_err(|_| {
                        format!("{} line {}: not a key id", self.path.display(), i + 1)
                    })
                })
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(format!("{}: {e}", self.path.display())),
        }
    }
}

/// Opens the vault of an app: the key file (created on first start) and the ledger;
/// checks that the key opens the database's keys and re-applies recorded erasures.
pub fn attach(app: App, path: &Path) -> anyhow::Result<App> {
    let ring = load_or_create(path, app.store().as_ref())?;
    let app = app.with_vault(ring, Arc::new(FileLedger::beside(path)));
    app.check_vault().with_context(|| {
        format!(
            "the key file {} does not open this database's keys",
            path.display()
        )
    })?;
    let n = app.reapply_erasures()?;
    if n > 0 {
        tracing::warn!(
            keys = n,
            "destroyed again data keys erased after this database's backup was taken"
        );
    }
    // Personal data and TOTP secrets older versions kept in clear are sealed now.
    let sealed = app.seal_legacy(&Principal::Operator)?;
    if sealed != LegacySealed::default() {
        tracing::warn!(
            reports = sealed.reports,
            batches = sealed.batches,
            totp_secrets = sealed.totp_secrets,
            database_rewritten = sealed.purged,
            "sealed personal data and TOTP secrets stored in clear by an older version"
        );
    }
    Ok(app)
}

/// Rotates the master key: writes the next version to `KEYFILE.next`, rewraps every data
/// key in one transaction, then replaces the key file (the old one is kept until then).
pub fn rotate(app: &App, path: &Path) -> anyhow::Result<(u32, RewrapCounts)> {
    let ring = read_ring(path)?;
    let next_path = sibling(path, ".next");
    let next = if next_path.exists() {
        read_ring(&next_path)?.current().clone()
    } else {
        let k = MasterKey::generate(ring.current().version() + 1);
        write_secret(&next_path, &Keyring::new(k.clone()).to_file_text())?;
        k
    };
    let version = next.version();
    let counts = app.rotate_master_key(&Principal::Operator, next)?;
    let old = sibling(path, ".old");
    std::fs::rename(path, &old).with_context(|| format!("cannot move {}", path.display()))?;
    std::fs::rename(&next_path, path)
        .with_context(|| format!("cannot move {}", next_path.display()))?;
    std::fs::remove_file(&old).with_context(|| format!("cannot remove {}", old.display()))?;
    Ok((version, counts))
}
