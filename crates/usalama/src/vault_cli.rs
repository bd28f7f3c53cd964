//! The commands of the vault: `keys rotate`, `audit verify|checkpoint`, `erase event`,
//! `retention apply` and `reports by-contact`.

use crate::cli::{open_app, ConfigError, Settings, StoreArgs};
use clap::Subcommand;
use usalama_app::{AuditCheck, Principal, RetentionPolicy};
use usalama_domain::EventId;
use usalama_store::AuditHead;

/// `usalama keys …`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a new master key version and rewrap every data key under it (the data is not
    /// re-encrypted); the old key file is replaced once every key is rewrapped.
    Rotate {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Rewrite the database so that no stale copy of a sealed, blanked or erased value
    /// survives in its free space (SQLite `VACUUM`; PostgreSQL `VACUUM FULL` of the tables
    /// that hold personal data). The first start after an upgrade from a version before
    /// schema 7 does it; run it again if that start logged that it could not. SQLite needs
    /// free disk space of about twice the database while it runs.
    Purge {
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `usalama audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; names the first broken entry and exits non-zero.
    Verify {
        /// Also prove the log extends this checkpoint (`SEQ:HASH` from `audit checkpoint`).
        #[arg(long, value_name = "SEQ:HASH")]
        since_checkpoint: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print the head of the log (`SEQ:HASH`) to keep as a checkpoint.
    Checkpoint {
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `usalama erase …`
#[derive(Debug, Subcommand)]
pub enum EraseCommand {
    /// Erase an event's personal data and attachments (crypto-shredding).
    Event {
        /// The event id.
        id: String,
        /// Why (recorded only as given or not: the text may name people).
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `usalama retention …`
#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Erase the personal data and attachments past the configured retention periods.
    Apply {
        /// Show what would be erased without erasing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `usalama reports …`
#[derive(Debug, Subcommand)]
pub enum ReportsCommand {
    /// The reports whose reporter gave this contact (exact match after normalising).
    ByContact {
        /// The contact (phone number, e-mail…).
        contact: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Runs `keys`.
pub fn keys(s: &Settings, action: KeysCommand) -> anyhow::Result<()> {
    match action {
        KeysCommand::Rotate { store } => rotate(s, &store),
        KeysCommand::Purge { store } => {
            let app = open_app(s, &store, None)?;
            let started = std::time::Instant::now();
            app.purge_free_space(&Principal::Operator)?;
            println!(
                "database rewritten in {:.1} s: no stale copy is left in its free space",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}

/// Runs `keys rotate`.
fn rotate(s: &Settings, store: &StoreArgs) -> anyhow::Result<()> {
    let location = crate::config::store_location(
        store.data_dir.clone(),
        store.database_url.clone(),
        &s.file.store,
        None,
    )
    .map_err(|e| ConfigError(e.to_string()))?;
    let path = crate::keys::key_path(
        store.key_file.clone(),
        s.file.security.key_file.clone(),
        &location,
    )?;
    let app = crate::cli::open_app_at(s, store, &location)?;
    let (version, c) = crate::keys::rotate(&app, &path)?;
    println!(
        "master key version {version}: {} data keys rewrapped, {} destroyed keys left as they are",
        c.rewrapped, c.destroyed
    );
    Ok(())
}

/// Runs `audit`.
pub fn audit(s: &Settings, action: AuditCommand) -> anyhow::Result<()> {
    match action {
        AuditCommand::Verify {
            since_checkpoint,
            store,
        } => {
            let cp = since_checkpoint
                .map(|c| {
                    AuditHead::parse(&c)
                        .map_err(|e| usalama_app::AppError::invalid("since-checkpoint", e))
                })
                .transpose()?;
            let app = open_app(s, &store, None)?;
            match app.verify_audit(&Principal::Operator, cp)? {
                AuditCheck::Intact { entries, head } => {
                    println!(
                        "audit log intact: {entries} entries, head {}",
                        head.to_text()
                    );
                    Ok(())
                }
                AuditCheck::Broken(b) => anyhow::bail!("audit log broken: {b}"),
            }
        }
        AuditCommand::Checkpoint { store } => {
            let app = open_app(s, &store, None)?;
            println!("{}", app.audit_checkpoint(&Principal::Operator)?.to_text());
            Ok(())
        }
    }
}

/// Runs `erase`.
pub fn erase(s: &Settings, what: EraseCommand) -> anyhow::Result<()> {
    let EraseCommand::Event { id, reason, store } = what;
    let id: EventId = id
        .parse()
        .map_err(|_| usalama_app::AppError::invalid("id", format!("'{id}' is not an event id")))?;
    let app = open_app(s, &store, None)?;
    let n = app.erase_event(&Principal::Operator, id, reason.as_deref())?;
    println!("event {id}: {n} data keys destroyed; its personal data can no longer be read");
    Ok(())
}

/// Runs `retention`.
pub fn retention(s: &Settings, action: RetentionCommand) -> anyhow::Result<()> {
    let RetentionCommand::Apply { dry_run, store } = action;
    let policy = RetentionPolicy {
        personal_data_days: s.file.retention.personal_data_days,
        attachment_days: s.file.retention.attachment_days,
    };
    let app = open_app(s, &store, None)?;
    let r = app.apply_retention(&Principal::Operator, &policy, dry_run)?;
    let verb = if dry_run { "would erase" } else { "erased" };
    println!(
        "{verb} the personal data of {} reports and {} attachments ({} data keys destroyed)",
        r.reports.len(),
        r.attachments,
        r.keys_destroyed
    );
    Ok(())
}

/// Runs `reports`.
pub fn reports(s: &Settings, action: ReportsCommand) -> anyhow::Result<()> {
    let ReportsCommand::ByContact { contact, store } = action;
    let app = open_app(s, &store, None)?;
    for id in app.find_reports_by_contact(&Principal::Operator, &contact)? {
        println!("{id}");
    }
    Ok(())
}
