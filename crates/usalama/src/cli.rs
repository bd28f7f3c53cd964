//! The command-line interface: subcommands, their flags and environment variables, and
//! the dispatch to the application layer.

use crate::config::{self, FileConfig};
use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use usalama_app::{App, Principal, SystemClock};
use usalama_domain::{AdminLevel, Role};
use usalama_ingest::BoundaryFields;
use usalama_store::StoreLocation;

/// A configuration problem (exit code 3).
#[derive(Debug)]
pub struct ConfigError(pub String);

/// Usalama: community reports and conflict data in; verified events, warnings and
/// accountability out.
#[derive(Debug, Parser)]
#[command(name = "usalama", version, about, propagate_version = true)]
pub struct Cli {
    /// Configuration file (TOML).
    #[arg(long, global = true, env = "USALAMA_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log format.
    #[arg(long, global = true, env = "USALAMA_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Log output format.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Where the store is. Every command that touches data takes these.
#[derive(Debug, Args, Clone, Default)]
pub struct StoreArgs {
    /// SQLite data directory (created if missing; must be empty or a Usalama data directory).
    #[arg(
        long,
        env = "USALAMA_DATA_DIR",
        value_name = "DIR",
        conflicts_with = "database_url"
    )]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL URL, e.g. postgres://user:password@host/db.
    #[arg(
        long,
        env = "USALAMA_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// A taxonomy file replacing the built-in one.
    #[arg(long, env = "USALAMA_TAXONOMY", value_name = "FILE")]
    pub taxonomy: Option<PathBuf>,
    /// An SMS keyword file replacing the built-in one (see config/sms.toml, docs/sms.md).
    #[arg(long, env = "USALAMA_SMS_KEYWORDS", value_name = "FILE")]
    pub sms_keywords: Option<PathBuf>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web interface and the API.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "USALAMA_BIND", value_name = "ADDR")]
        bind: Option<String>,
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Load the bundled real demo data (UCDP GED events and OCHA boundaries of the Central
    /// African Republic), create an admin account and token, and serve.
    Demo {
        /// Address to listen on.
        #[arg(long, env = "USALAMA_BIND", value_name = "ADDR")]
        bind: Option<String>,
        /// Prepare the store and print the credentials, but do not serve.
        #[arg(long)]
        no_serve: bool,
        /// Where the data is (a temporary directory by default).
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Import data from a file.
    Import {
        /// What to import.
        #[command(subcommand)]
        what: ImportCommand,
    },
    /// Manage API tokens.
    Token {
        /// What to do.
        #[command(subcommand)]
        action: TokenCommand,
    },
    /// Manage user accounts.
    User {
        /// What to do.
        #[command(subcommand)]
        action: UserCommand,
    },
    /// Create or upgrade the database schema, and print its version.
    Migrate {
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Import subcommands.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Administrative boundaries from GeoJSON (OCHA COD-AB, geoBoundaries).
    Boundaries {
        /// The GeoJSON file.
        file: PathBuf,
        /// Administrative level of the file's features.
        #[arg(long)]
        level: AdminLevel,
        /// Property holding the code (auto-detected if omitted).
        #[arg(long)]
        code_field: Option<String>,
        /// Property holding the name (auto-detected if omitted).
        #[arg(long)]
        name_field: Option<String>,
        /// Property holding the parent's code (auto-detected if omitted).
        #[arg(long)]
        parent_code_field: Option<String>,
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// UCDP GED events, CSV or GeoJSON, any GED version.
    Ucdp {
        /// The CSV or GeoJSON file.
        file: PathBuf,
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Token subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once.
    Create {
        /// The role it grants.
        #[arg(long)]
        role: Role,
        /// A label to recognise and revoke it by.
        #[arg(long, default_value = "cli")]
        label: String,
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke every token with a label.
    Revoke {
        /// The label.
        #[arg(long)]
        label: String,
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// User subcommands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account (or reset its password) and print a generated password once.
    Add {
        /// Login name.
        username: String,
        /// Role.
        #[arg(long)]
        role: Role,
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for ConfigError {}

/// Settings common to every command, resolved once.
pub struct Settings {
    /// The configuration file, if any.
    pub file: FileConfig,
    /// Log format.
    pub log_format: LogFormat,
}

fn settings(cli: &Cli) -> anyhow::Result<Settings> {
    let file = match &cli.config {
        Some(p) => FileConfig::load(p).map_err(|e| ConfigError(e.to_string()))?,
        None => FileConfig::default(),
    };
    let log_format = cli.log_format.unwrap_or(match file.log.format.as_deref() {
        Some("json") => LogFormat::Json,
        _ => LogFormat::Text,
    });
    Ok(Settings { file, log_format })
}

fn init_logging(s: &Settings) {
    use tracing_subscriber::EnvFilter;
    let filter = std::env::var("USALAMA_LOG")
        .ok()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .or_else(|| s.file.log.level.clone())
        .unwrap_or_else(|| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr);
    let _ = match s.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.with_target(false).try_init(),
    };
}

/// Opens the store and builds the application.
pub fn open_app(
    settings: &Settings,
    args: &StoreArgs,
    default_dir: Option<PathBuf>,
) -> anyhow::Result<App> {
    let location = config::store_location(
        args.data_dir.clone(),
        args.database_url.clone(),
        &settings.file.store,
        default_dir,
    )
    .map_err(|e| ConfigError(e.to_string()))?;
    open_app_at(settings, args, &location)
}

/// Builds the application over a store location.
pub fn open_app_at(
    settings: &Settings,
    args: &StoreArgs,
    location: &StoreLocation,
) -> anyhow::Result<App> {
    let taxonomy_path = args
        .taxonomy
        .clone()
        .or_else(|| settings.file.taxonomy.clone());
    let taxonomy = match taxonomy_path {
        Some(p) => {
            let text = std::fs::read_to_string(&p)
                .map_err(|e| ConfigError(format!("cannot read taxonomy {}: {e}", p.display())))?;
            usalama_ingest::parse_taxonomy(&text)
                .map_err(|e| ConfigError(format!("{}: {e}", p.display())))?
        }
        None => usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY)
            .context("the built-in taxonomy is invalid")?,
    };
    let sms_path = args
        .sms_keywords
        .clone()
        .or_else(|| settings.file.sms_keywords.clone());
    let sms = match sms_path {
        Some(p) => {
            let text = std::fs::read_to_string(&p).map_err(|e| {
                ConfigError(format!("cannot read SMS keywords {}: {e}", p.display()))
            })?;
            Some(
                usalama_ingest::parse_sms_syntax(&text, &taxonomy)
                    .map_err(|e| ConfigError(format!("{}: {e}", p.display())))?,
            )
        }
        None => None,
    };
    tracing::info!(store = %location.redacted(), "opening store");
    let store = usalama_store::open(location)?;
    let app = App::new(store, taxonomy, Arc::new(SystemClock));
    let app = match sms {
        Some(syntax) => app.with_sms_syntax(syntax),
        None => app,
    };
    if let Some(problem) = app.sms_problem() {
        tracing::warn!(%problem, "SMS reports are disabled");
    }
    Ok(app)
}

fn read_file(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).map_err(|e| {
        anyhow::Error::new(usalama_app::AppError::Import(
            usalama_ingest::IngestError::Read(format!("{}: {e}", path.display())),
        ))
    })
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let s = settings(&cli)?;
    init_logging(&s);
    match cli.command {
        Command::Serve { bind, store } => {
            let app = open_app(&s, &store, Some(PathBuf::from("usalama-data")))?;
            let bind = bind
                .or_else(|| s.file.server.bind.clone())
                .unwrap_or_else(|| crate::serve::DEFAULT_BIND.into());
            crate::serve::serve(
                app,
                &bind,
                s.file.server.secure_cookies.unwrap_or(false),
                None,
            )
        }
        Command::Demo {
            bind,
            no_serve,
            store,
        } => crate::demo::run(&s, store, bind, no_serve),
        Command::Import { what } => match what {
            ImportCommand::Boundaries {
                file,
                level,
                code_field,
                name_field,
                parent_code_field,
                store,
            } => {
                let app = open_app(&s, &store, None)?;
                let json = read_file(&file)?;
                let fields = BoundaryFields {
                    code: code_field,
                    name: name_field,
                    parent_code: parent_code_field,
                };
                let r = app.import_boundaries(&Principal::Operator, &json, level, &fields)?;
                for p in &r.problems {
                    eprintln!("{}: {p}", file.display());
                }
                println!("{r}");
                Ok(())
            }
            ImportCommand::Ucdp { file, store } => {
                let app = open_app(&s, &store, None)?;
                let is_json = file.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                    e.eq_ignore_ascii_case("geojson") || e.eq_ignore_ascii_case("json")
                });
                let r = if is_json {
                    let json = read_file(&file)?;
                    app.import_ucdp_geojson(&Principal::Operator, &json, &mut |_| {})?
                } else {
                    let mut f = std::fs::File::open(&file).map_err(|e| {
                        anyhow::Error::new(usalama_app::AppError::Import(
                            usalama_ingest::IngestError::Read(format!("{}: {e}", file.display())),
                        ))
                    })?;
                    app.import_ucdp_csv(&Principal::Operator, &mut f, &mut |_| {})?
                };
                for p in r.problems.iter().take(20) {
                    eprintln!("{}: {p}", file.display());
                }
                if r.problems.len() > 20 {
                    eprintln!(
                        "{}: … and {} more rejected rows",
                        file.display(),
                        r.problems.len() - 20
                    );
                }
                println!("{r}");
                Ok(())
            }
        },
        Command::Token { action } => match action {
            TokenCommand::Create { role, label, store } => {
                let app = open_app(&s, &store, None)?;
                let t = app.create_token(role, &label)?;
                println!("{}", t.expose());
                eprintln!("Token for role {role} (label '{label}') created. It is shown once: store it safely.");
                Ok(())
            }
            TokenCommand::Revoke { label, store } => {
                let app = open_app(&s, &store, None)?;
                let n = app.revoke_tokens(&label)?;
                println!("revoked {n} token(s) labelled '{label}'");
                Ok(())
            }
        },
        Command::User { action } => match action {
            UserCommand::Add {
                username,
                role,
                store,
            } => {
                let app = open_app(&s, &store, None)?;
                let password = usalama_app::generate_password();
                app.set_password(&username, &password, role)?;
                println!("user '{username}' ({role}) password: {password}");
                Ok(())
            }
        },
        Command::Migrate { store } => {
            let app = open_app(&s, &store, None)?;
            println!("schema version {}", app.store().schema_version()?);
            Ok(())
        }
    }
}
