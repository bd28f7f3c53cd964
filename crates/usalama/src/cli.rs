//! The command-line interface: subcommands, their flags and environment variables, and
//! the dispatch to the application layer.

use crate::config::{self, FileConfig};
use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use usalama_app::{App, ImportReport, Principal, SystemClock};
use usalama_domain::{AdminLevel, Dimension, Role};
use usalama_ingest::{BoundaryFields, DateOrder, ExportFormat, RejectsLayout};
use usalama_store::{EventQuery, StoreLocation};

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
    /// The master key file (created on first start; default: master.key in the SQLite
    /// data directory; required with PostgreSQL).
    #[arg(long, env = "USALAMA_KEY_FILE", value_name = "FILE")]
    pub key_file: Option<PathBuf>,
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
    /// Manage organisations and what they share.
    Org {
        /// What to do.
        #[command(subcommand)]
        action: OrgCommand,
    },
    /// Create or upgrade the database schema, and print its version.
    Migrate {
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Export events as HXL, GeoJSON or CSV (no personal data), streamed.
    ///
    /// One row (or feature) per event: ids, dates, category, country (ISO 3166-1
    /// alpha-3 code and name: the boundaries' country, else the one the source names),
    /// ADM1-ADM3 codes and names, place, point, counts, first two actors, status and
    /// description.
    Export {
        /// The format.
        #[arg(value_enum)]
        format: ExportFormatArg,
        /// Events ending on or after this day (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        from: Option<chrono::NaiveDate>,
        /// Events ending on or before this day (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        to: Option<chrono::NaiveDate>,
        /// Events in this locality (P-code) or below it.
        #[arg(long, value_name = "CODE")]
        locality: Option<String>,
        /// Events of this dimension (lives, livelihood, dignity).
        #[arg(long)]
        dimension: Option<Dimension>,
        /// Events of this category (code from the taxonomy).
        #[arg(long)]
        category: Option<String>,
        /// Events from this source (ucdp-ged, acled, hxl, …).
        #[arg(long)]
        source: Option<String>,
        /// Events with this verification status (unverified, verified, rejected, duplicate).
        #[arg(long)]
        status: Option<String>,
        /// Write to this file instead of standard output.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print the human-security index (0-10, higher is worse) of every locality of a
    /// level in one period, worst first, with its dimension scores.
    #[command(args_conflicts_with_subcommands = true)]
    Index {
        /// `recompute`: the whole level at once with timings (without it: the table).
        #[command(subcommand)]
        action: Option<crate::recompute::IndexCommand>,
        /// The level: adm1 or adm2 (adm0 and adm3 also work).
        #[arg(long, default_value = "adm1")]
        level: String,
        /// The granularity: week, month or quarter.
        #[arg(long, default_value = "month")]
        period: String,
        /// The period to show (2022-06, 2022-W23, 2022-Q2); default: the last with data.
        #[arg(long, value_name = "PERIOD")]
        at: Option<String>,
        /// The source (default: the one with the most events; sources are never summed).
        #[arg(long)]
        source: Option<String>,
        /// An index configuration file replacing config/index.toml (`--config` stays the
        /// settings file).
        #[arg(long, value_name = "FILE")]
        index_config: Option<PathBuf>,
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Master key management.
    Keys {
        #[command(subcommand)]
        action: crate::vault_cli::KeysCommand,
    },
    /// The tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        action: crate::vault_cli::AuditCommand,
    },
    /// Erase a record's personal data (destroys its data keys).
    Erase {
        #[command(subcommand)]
        what: crate::vault_cli::EraseCommand,
    },
    /// Retention of personal data (the `retention` section of the configuration file).
    #[command(about = "Retention of personal data ([retention] in the configuration file)")]
    Retention {
        #[command(subcommand)]
        action: crate::vault_cli::RetentionCommand,
    },
    /// Reports, found through encrypted fields' blind indexes.
    Reports {
        #[command(subcommand)]
        action: crate::vault_cli::ReportsCommand,
    },
    /// Write a consistent backup of the whole database to a new file while the server may
    /// keep running (SQLite: a database file; PostgreSQL: a checked text archive).
    Backup {
        /// The backup file to create (never overwritten).
        file: PathBuf,
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Restore a backup into an empty database, checking its schema version, digests and
    /// integrity; the database is then migrated to this version.
    Restore {
        /// The backup file.
        file: PathBuf,
        /// Replace the content of a database that is not empty.
        #[arg(long)]
        force: bool,
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Write the monthly situation report (printable HTML, public figures only).
    Report {
        /// The month, e.g. 2022-06.
        #[arg(long, value_name = "YYYY-MM")]
        period: String,
        /// The finest level of place (adm1 default; never finer than the privacy level).
        #[arg(long)]
        level: Option<String>,
        /// The source (default: the one with the most events).
        #[arg(long)]
        source: Option<String>,
        /// Language: en or fr.
        #[arg(long, default_value = "en")]
        lang: String,
        /// Write to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Rolling-origin backtest of the forecasts (and of the escalation detectors) on the
    /// events in the store, against the no_change, mean_12m and zero baselines; prints one
    /// JSON document.
    Backtest {
        /// The level: adm1, adm2 or pgm (PRIO-GRID cells).
        #[arg(long, default_value = "adm1")]
        level: String,
        /// Horizons in months, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1,2,3")]
        horizon: Vec<usize>,
        /// First month forecast (YYYY-MM); default: the last 120 months with 5 years of
        /// history before them.
        #[arg(long, value_name = "YYYY-MM")]
        from: Option<String>,
        /// Last month forecast (YYYY-MM); default: the last month with data.
        #[arg(long, value_name = "YYYY-MM")]
        to: Option<String>,
        /// The source (default: the one with the most events; sources are never summed).
        #[arg(long)]
        source: Option<String>,
        /// Refit the model every N forecast months (1: at every origin).
        #[arg(long, default_value_t = 1, value_name = "N")]
        refit_every: usize,
        /// Months of the latest training data held out to calibrate the probabilities
        /// (Platt scaling); 0 turns calibration off.
        #[arg(long, default_value_t = 24, value_name = "N")]
        calibration_months: usize,
        /// The output format.
        #[arg(long, default_value = "json")]
        format: String,
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Alerts: evaluate the rules, list alerts, subscribe, deliver.
    Alerts {
        /// What to do.
        #[command(subcommand)]
        action: crate::alerts::AlertsCommand,
    },
}

impl Command {
    /// Whether the command runs the server, whose memory [`crate::malloc::limit_arenas`]
    /// bounds.
    pub fn serves(&self) -> bool {
        matches!(
            self,
            Command::Serve { .. }
                | Command::Demo {
                    no_serve: false,
                    ..
                }
        )
    }

    /// Whether the command imports a file, whose reading thread
    /// [`crate::malloc::no_fastbins`] speeds up.
    pub fn imports(&self) -> bool {
        matches!(self, Command::Import { .. })
    }
}

/// Export formats.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ExportFormatArg {
    /// CSV with an HXL hashtag row.
    Hxl,
    /// A GeoJSON FeatureCollection.
    Geojson,
    /// Plain CSV with a header row.
    Csv,
}

impl From<ExportFormatArg> for ExportFormat {
    fn from(f: ExportFormatArg) -> Self {
        match f {
            ExportFormatArg::Hxl => ExportFormat::Hxl,
            ExportFormatArg::Geojson => ExportFormat::GeoJson,
            ExportFormatArg::Csv => ExportFormat::Csv,
        }
    }
}

/// Import subcommands.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Administrative boundaries from GeoJSON (OCHA COD-AB, geoBoundaries and its global CGAZ
    /// files, GADM, MIMU).
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
    /// UCDP GED events, any GED version: CSV, GeoJSON, a saved page of the UCDP API or a
    /// JSON array of GED records.
    Ucdp {
        /// The CSV or JSON files, imported one after the other, each with its own summary
        /// line and rejects file (JSON is recognised by its name or its first character).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// How all-numeric dates are read.
        #[command(flatten)]
        dates: DatesArgs,
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// ACLED events: the export CSV (current or older layout, UTF-8 or Latin-1) or the
    /// JSON of ACLED's API.
    Acled {
        /// The CSV or JSON files, imported one after the other, each with its own summary
        /// line and rejects file (JSON is recognised by its name or its first character).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// How all-numeric dates are read.
        #[command(flatten)]
        dates: DatesArgs,
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// HXL-tagged events (#date, #event+type, #geo+lat, #adm1+code, …): CSV, or HXL's JSON
    /// (an array of rows, or of objects keyed by hashtag, as the HXL Proxy writes them).
    Hxl {
        /// The CSV or JSON files, imported one after the other, each with its own summary
        /// line and rejects file (JSON is recognised by its name or its first character).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The source name the events get (lowercase letters, digits, - and _).
        #[arg(long, default_value = "hxl")]
        source: String,
        /// How all-numeric dates are read.
        #[command(flatten)]
        dates: DatesArgs,
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// A GeoJSON FeatureCollection of event points.
    Geojson {
        /// The GeoJSON files, imported one after the other.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The source name the events get (lowercase letters, digits, - and _).
        #[arg(long, default_value = "geojson")]
        source: String,
        /// How all-numeric dates are read.
        #[command(flatten)]
        dates: DatesArgs,
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// How an event import reads all-numeric dates.
#[derive(Debug, Args)]
pub struct DatesArgs {
    /// The order of day and month in all-numeric dates such as 05/01/2023: `auto` finds it
    /// from the dates that allow only one (14/05/2023 is day first) and reads dates none
    /// decides day first, with a note.
    #[arg(long, value_enum, default_value_t = DateOrderArg::Auto)]
    pub date_order: DateOrderArg,
}

/// The order of day and month in an event file's all-numeric dates.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum DateOrderArg {
    /// Found from the dates themselves; day first when none tells.
    Auto,
    /// Day/month/year (14/05/2023).
    DayFirst,
    /// Month/day/year (05/14/2023).
    MonthFirst,
}

impl From<DateOrderArg> for Option<DateOrder> {
    fn from(a: DateOrderArg) -> Self {
        match a {
            DateOrderArg::Auto => None,
            DateOrderArg::DayFirst => Some(DateOrder::DayFirst),
            DateOrderArg::MonthFirst => Some(DateOrder::MonthFirst),
        }
    }
}

/// An event file to import and how to read it.
enum EventFile {
    UcdpCsv,
    /// GeoJSON, a UCDP API page or an array of records.
    UcdpJson,
    Acled,
    /// The JSON of ACLED's API, or an array of its records.
    AcledJson,
    Hxl(String),
    Geojson(String),
}

fn import_error(path: &Path, e: std::io::Error) -> anyhow::Error {
    anyhow::Error::new(usalama_app::AppError::Import(
        usalama_ingest::IngestError::Read(format!("{}: {e}", path.display())),
    ))
}

/// Whether an event file is JSON: named `.json` or `.geojson`, or starting (after any
/// byte-order mark and blanks) with `{` or `[`, which no CSV file does.
fn is_json(file: &Path) -> bool {
    use std::io::Read;
    let named = file
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("geojson") || e.eq_ignore_ascii_case("json"));
    let mut head = [0u8; 64];
    let n = std::fs::File::open(file)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    let text = head[..n]
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(&head[..n]);
    named || matches!(text.trim_ascii_start().first(), Some(b'{' | b'['))
}

/// The name of `input`'s rejects file: `INPUT.rejects.csv`.
fn rejects_name(input: &Path) -> String {
    format!(
        "{}.rejects.csv",
        input
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "import".into())
    )
}

/// Where the rejects of `input` go: `INPUT.rejects.csv` beside it, or in the current
/// directory when its directory cannot be written.
fn open_rejects(input: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    let name = rejects_name(input);
    let beside = input.with_file_name(&name);
    match std::fs::File::create(&beside) {
        Ok(f) => Ok((beside, f)),
        Err(_) => {
            let here = PathBuf::from(&name);
            std::fs::File::create(&here).map(|f| (here, f))
        }
    }
}

/// Imports each of `files` in turn ([`import_events`]), its name on a line of its own
/// first when there are several, stopping at the first that cannot be imported at all (the
/// files before it stay imported: each import is whole or nothing on its own).
fn import_all(
    app: &App,
    files: &[PathBuf],
    date_order: DateOrderArg,
    kind: impl Fn(&Path) -> EventFile,
) -> anyhow::Result<()> {
    for file in files {
        if files.len() > 1 {
            eprintln!("== {}", file.display());
        }
        import_events(app, file, kind(file), date_order.into())?;
    }
    Ok(())
}

/// Runs an event import with a progress bar, prints the rejected rows (the first 20),
/// writes the rejects file when there are any, and prints the summary line.
fn import_events(
    app: &App,
    file: &Path,
    kind: EventFile,
    date_order: Option<DateOrder>,
) -> anyhow::Result<()> {
    let who = Principal::Operator;
    // JSON is read from the file twice (its columns, then its rows), never held whole.
    let json = usalama_ingest::JsonSource::File(file.to_path_buf());
    // HXL's JSON forms are read as the CSV they hold, written to a temporary file.
    let hxl_csv = match &kind {
        EventFile::Hxl(_) if is_json(file) => {
            let tmp = tempfile::NamedTempFile::new()
                .map_err(|e| anyhow::anyhow!("cannot create a temporary file: {e}"))?;
            let mut out = std::io::BufWriter::new(tmp.as_file());
            usalama_ingest::hxl_json_to_csv(&json, &mut out)
                .map_err(usalama_app::AppError::Import)
                .with_context(|| file.display().to_string())?;
            out.into_inner()
                .map_err(|e| anyhow::anyhow!("cannot write a temporary file: {e}"))?;
            Some(tmp)
        }
        _ => None,
    };
    // The CSV to read, from its start: the file, or the CSV an HXL JSON file holds.
    let open_csv = || match &hxl_csv {
        Some(tmp) => tmp
            .reopen()
            .map_err(|e| anyhow::anyhow!("cannot read a temporary file again: {e}")),
        None => std::fs::File::open(file).map_err(|e| import_error(file, e)),
    };
    let report: ImportReport = match &kind {
        EventFile::UcdpJson | EventFile::AcledJson | EventFile::Geojson(_) => {
            let bar = crate::progress::Progress::rows();
            let mut tick = |n: u64| bar.rows_done(n);
            let json = json.clone();
            let r = match &kind {
                EventFile::Geojson(source) => {
                    app.import_events_geojson(&who, json, source, date_order, &mut tick)
                }
                EventFile::AcledJson => app.import_acled_json(&who, json, date_order, &mut tick),
                _ => app.import_ucdp_json(&who, json, date_order, &mut tick),
            };
            bar.finish();
            r.with_context(|| file.display().to_string())?
        }
        EventFile::UcdpCsv | EventFile::Acled | EventFile::Hxl(_) => {
            let f = open_csv()?;
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            let input: Box<dyn std::io::Read + Send> = Box::new(std::io::BufReader::new(f));
            let bar = crate::progress::Progress::bytes(len);
            let mut reader = bar.wrap(input);
            let mut tick = |n: u64| bar.rows_done(n);
            let r = match &kind {
                EventFile::Acled => app.import_acled_csv(&who, &mut reader, date_order, &mut tick),
                EventFile::Hxl(source) => {
                    app.import_hxl_csv(&who, &mut reader, source, date_order, &mut tick)
                }
                _ => app.import_ucdp_csv(&who, &mut reader, date_order, &mut tick),
            };
            bar.finish();
            r.with_context(|| file.display().to_string())?
        }
    };
    for note in &report.notes {
        eprintln!("{}: {note}", file.display());
    }
    for p in report.problems.iter().take(20) {
        eprintln!("{}: {p}", file.display());
    }
    if report.problems.len() > 20 {
        eprintln!(
            "{}: … and {} more rejected rows",
            file.display(),
            report.problems.len() - 20
        );
    }
    if !report.problems.is_empty() {
        let (path, out) = open_rejects(file).map_err(|e| {
            anyhow::anyhow!("cannot write the rejects file for {}: {e}", file.display())
        })?;
        let out = std::io::BufWriter::new(out);
        match &kind {
            EventFile::UcdpJson | EventFile::AcledJson | EventFile::Geojson(_) => {
                let list = match kind {
                    EventFile::UcdpJson => Some(usalama_ingest::ucdp::JSON_LIST),
                    EventFile::AcledJson => Some(usalama_ingest::acled::JSON_LIST),
                    _ => None,
                };
                usalama_ingest::write_geojson_rejects(&json, list, &report.problems, out)?;
            }
            _ => {
                let layout = if matches!(kind, EventFile::Hxl(_)) {
                    RejectsLayout::Hxl
                } else {
                    RejectsLayout::Csv
                };
                let input = std::io::BufReader::new(open_csv()?);
                usalama_ingest::write_csv_rejects(input, layout, &report.problems, out)?;
            }
        }
        eprintln!("rejected rows written to {}", path.display());
    } else {
        // A rejects file left by an earlier import of this file names rows that are
        // now imported: it would mislead whoever opens it.
        let old = file.with_file_name(rejects_name(file));
        if old.is_file() && std::fs::remove_file(&old).is_ok() {
            eprintln!(
                "no row was rejected: the earlier rejects file {} was removed",
                old.display()
            );
        }
    }
    if report.unplaced > 0 {
        eprintln!(
            "{} events are in no locality (no boundaries cover their points, or their place \
             names matched none): import boundaries with `usalama import boundaries`",
            report.unplaced
        );
    }
    println!("{report}");
    // The alert rules are not run here: a full evaluation over a large store takes longer
    // than the import itself. The server runs them on its schedule; `usalama alerts
    // evaluate` runs them now.
    eprintln!(
        "alert rules: run by the server on its schedule, or now with `usalama alerts evaluate`"
    );
    Ok(())
}

/// Writes the export to `output` (through a temporary file renamed at the end, so that a
/// failed export leaves no half file) or to standard output.
fn export_events(
    app: &App,
    q: &EventQuery,
    format: ExportFormat,
    output: Option<&Path>,
) -> anyhow::Result<u64> {
    use std::io::Write;
    let who = Principal::Operator;
    match output {
        Some(path) => {
            let part = path.with_file_name(format!(
                "{}.part",
                path.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "export".into())
            ));
            let f = std::fs::File::create(&part)
                .with_context(|| format!("cannot create {}", part.display()))?;
            let mut out = std::io::BufWriter::new(f);
            let result = app.export_events(&who, q, format, &mut out).and_then(|n| {
                out.flush()
                    .map_err(|e| usalama_app::AppError::Export(e.to_string()))?;
                Ok(n)
            });
            drop(out);
            match result {
                Ok(n) => {
                    std::fs::rename(&part, path)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    Ok(n)
                }
                Err(e) => {
                    let _ = std::fs::remove_file(&part);
                    Err(e.into())
                }
            }
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let n = app.export_events(&who, q, format, &mut out)?;
            out.flush()
                .map_err(|e| usalama_app::AppError::Export(e.to_string()))?;
            Ok(n)
        }
    }
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
        /// The organisation whose records it may see (default: `default`).
        #[arg(long)]
        org: Option<String>,
        /// Days until it expires (default: never).
        #[arg(long)]
        expires_days: Option<u32>,
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
        /// The organisation (default: `default`, or the account's own).
        #[arg(long)]
        org: Option<String>,
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Set a new generated password (printed once), ending the account's sessions.
    Passwd {
        /// Login name.
        username: String,
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Disable an account (its sessions end at once), or enable it with `--enable`.
    Disable {
        /// Login name.
        username: String,
        /// Enable the account again.
        #[arg(long)]
        enable: bool,
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Lift an account's log-in lock.
    Unlock {
        /// Login name.
        username: String,
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Enroll a TOTP second factor and print the otpauth:// URI once (or remove it with
    /// `--remove`).
    Totp {
        /// Login name.
        username: String,
        /// Remove the second factor instead.
        #[arg(long)]
        remove: bool,
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Generate the account's OpenRosa device password for HTTP Digest (ODK Collect,
    /// KoboCollect) and print it once; a previous one stops working.
    DevicePassword {
        /// Login name.
        username: String,
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Organisation subcommands.
#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organisation.
    Add {
        /// Its unique short name.
        name: String,
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the organisations.
    List {
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Let organisation TO see FROM's records (`--scope all|verified`), or stop it
    /// (`--scope none`).
    Share {
        /// The organisation sharing.
        from: String,
        /// The organisation seeing.
        to: String,
        /// `all`, `verified` or `none`.
        #[arg(long, default_value = "all")]
        scope: String,
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
    open_app_at(
        settings,
        args,
        &store_location(settings, args, default_dir)?,
    )
}

/// [`open_app`] for the commands that import event files, which serve nothing: the store
/// is opened by [`usalama_store::open_for_import`]. (A boundary import reads the stored
/// events while it places them again, which a rollback journal's locks would not allow.)
fn open_app_for_import(settings: &Settings, args: &StoreArgs) -> anyhow::Result<App> {
    let location = store_location(settings, args, None)?;
    build_app(settings, args, &location, usalama_store::open_for_import)
}

/// Where the store of `args` and the settings is.
fn store_location(
    settings: &Settings,
    args: &StoreArgs,
    default_dir: Option<PathBuf>,
) -> anyhow::Result<StoreLocation> {
    Ok(config::store_location(
        args.data_dir.clone(),
        args.database_url.clone(),
        &settings.file.store,
        default_dir,
    )
    .map_err(|e| ConfigError(e.to_string()))?)
}

/// Builds the application over a store location.
pub fn open_app_at(
    settings: &Settings,
    args: &StoreArgs,
    location: &StoreLocation,
) -> anyhow::Result<App> {
    build_app(settings, args, location, usalama_store::open)
}

/// Builds the application over the store at `location`, opened by `open`.
fn build_app(
    settings: &Settings,
    args: &StoreArgs,
    location: &StoreLocation,
    open: fn(&StoreLocation) -> Result<Arc<dyn usalama_store::Store>, usalama_store::StoreError>,
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
    let store = open(location)?;
    let key_file = crate::keys::key_path(
        args.key_file.clone(),
        settings.file.security.key_file.clone(),
        location,
    )?;
    let app = crate::keys::attach(App::new(store, taxonomy, Arc::new(SystemClock)), &key_file)?;
    let app = match sms {
        Some(syntax) => app.with_sms_syntax(syntax),
        None => app,
    };
    if let Some(problem) = app.sms_problem() {
        tracing::warn!(%problem, "SMS reports are disabled");
    }
    let p = &settings.file.privacy;
    let defaults = usalama_app::PrivacyConfig::default();
    let level = match p.level.as_deref() {
        Some(l) => l
            .parse()
            .map_err(|_| ConfigError(format!("privacy.level: '{l}' is not adm1, adm2 or adm3")))?,
        None => defaults.level,
    };
    app.set_privacy(usalama_app::PrivacyConfig {
        k: p.k.unwrap_or(defaults.k),
        k_sensitive: p.k_sensitive.unwrap_or(defaults.k_sensitive),
        level,
    })
    .map_err(|e| ConfigError(e.to_string()))?;
    let app = app.with_client_addresses(p.client_address.policy().map_err(ConfigError)?);
    if let Some(p) = &settings.file.alerts.rules {
        let text = std::fs::read_to_string(p)
            .map_err(|e| ConfigError(format!("cannot read alert rules {}: {e}", p.display())))?;
        let rules = usalama_app::parse_alert_rules(&text, app.taxonomy())
            .map_err(|e| ConfigError(format!("{}: {e}", p.display())))?;
        app.set_alert_rules(rules);
    }
    Ok(app)
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
            let app = match &s.file.server.report_org {
                Some(name) => {
                    let org = app.org_by_name(name)?;
                    app.with_report_org(org.id)
                }
                None => app,
            };
            crate::serve::serve(
                app,
                &bind,
                s.file.server.web_config(),
                None,
                s.file.alerts.delivery(),
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
                // Read as it is parsed: the file's text is never held whole.
                let input = std::io::BufReader::with_capacity(
                    1 << 16,
                    std::fs::File::open(&file).map_err(|e| import_error(&file, e))?,
                );
                let fields = BoundaryFields {
                    code: code_field,
                    name: name_field,
                    parent_code: parent_code_field,
                };
                let r = app
                    .import_boundaries(&Principal::Operator, input, level, &fields)
                    .with_context(|| file.display().to_string())?;
                for p in &r.problems {
                    eprintln!("{}: {p}", file.display());
                }
                println!("{r}");
                Ok(())
            }
            ImportCommand::Ucdp {
                files,
                dates,
                store,
            } => {
                let app = open_app_for_import(&s, &store)?;
                import_all(&app, &files, dates.date_order, |file| {
                    if is_json(file) {
                        EventFile::UcdpJson
                    } else {
                        EventFile::UcdpCsv
                    }
                })
            }
            ImportCommand::Acled {
                files,
                dates,
                store,
            } => {
                let app = open_app_for_import(&s, &store)?;
                import_all(&app, &files, dates.date_order, |file| {
                    if is_json(file) {
                        EventFile::AcledJson
                    } else {
                        EventFile::Acled
                    }
                })
            }
            ImportCommand::Hxl {
                files,
                source,
                dates,
                store,
            } => {
                let app = open_app_for_import(&s, &store)?;
                import_all(&app, &files, dates.date_order, |_| {
                    EventFile::Hxl(source.clone())
                })
            }
            ImportCommand::Geojson {
                files,
                source,
                dates,
                store,
            } => {
                let app = open_app_for_import(&s, &store)?;
                import_all(&app, &files, dates.date_order, |_| {
                    EventFile::Geojson(source.clone())
                })
            }
        },
        Command::Token { action } => crate::access::token(&s, action),
        Command::User { action } => crate::access::user(&s, action),
        Command::Org { action } => crate::access::org(&s, action),
        Command::Keys { action } => crate::vault_cli::keys(&s, action),
        Command::Audit { action } => crate::vault_cli::audit(&s, action),
        Command::Erase { what } => crate::vault_cli::erase(&s, what),
        Command::Retention { action } => crate::vault_cli::retention(&s, action),
        Command::Reports { action } => crate::vault_cli::reports(&s, action),
        Command::Migrate { store } => {
            let app = open_app(&s, &store, None)?;
            println!("schema version {}", app.store().schema_version()?);
            Ok(())
        }
        Command::Export {
            format,
            from,
            to,
            locality,
            dimension,
            category,
            source,
            status,
            output,
            store,
        } => {
            let app = open_app(&s, &store, None)?;
            let locality = match locality {
                Some(code) => {
                    let l = app.resolve_locality(&code)?;
                    Some((l.id, l.level))
                }
                None => None,
            };
            if let Some(c) = &category {
                if app.taxonomy().category(c).is_none() {
                    return Err(usalama_app::AppError::invalid(
                        "category",
                        format!("'{c}' is not a category of the taxonomy"),
                    )
                    .into());
                }
            }
            if let Some(st) = &status {
                if !["unverified", "verified", "rejected", "duplicate"].contains(&st.as_str()) {
                    return Err(usalama_app::AppError::invalid(
                        "status",
                        format!("'{st}' is not one of unverified, verified, rejected, duplicate"),
                    )
                    .into());
                }
            }
            let q = EventQuery {
                from,
                to,
                locality,
                dimension,
                category,
                source,
                status,
                ..Default::default()
            };
            let n = export_events(&app, &q, format.into(), output.as_deref())?;
            match &output {
                Some(p) => eprintln!("exported {n} events to {}", p.display()),
                None => eprintln!("exported {n} events"),
            }
            Ok(())
        }
        Command::Index {
            action: Some(action),
            ..
        } => crate::recompute::run(&s, action),
        Command::Index {
            action: None,
            level,
            period,
            at,
            source,
            index_config,
            store,
        } => {
            let app = open_app(&s, &store, None)?;
            if let Some(p) = &index_config {
                app.set_index_config(read_index_config(p)?)?;
            }
            print!(
                "{}",
                index_table(&app, &level, &period, at.as_deref(), source.as_deref())?
            );
            Ok(())
        }
        Command::Backup { file, store } => crate::backup::backup(&s, &store, &file),
        Command::Restore { file, force, store } => crate::backup::restore(&s, &store, &file, force),
        Command::Report {
            period,
            level,
            source,
            lang,
            out,
            store,
        } => {
            let app = open_app(&s, &store, None)?;
            let html =
                crate::report::sitrep(&app, &period, level.as_deref(), source.as_deref(), &lang)?;
            match out {
                Some(p) => std::fs::write(&p, html)
                    .map_err(|e| ConfigError(format!("cannot write {}: {e}", p.display())))?,
                None => print!("{html}"),
            }
            Ok(())
        }
        Command::Backtest {
            level,
            horizon,
            from,
            to,
            source,
            refit_every,
            calibration_months,
            format,
            store,
        } => {
            let app = open_app(&s, &store, None)?;
            let args = crate::backtest::BacktestArgs {
                level,
                horizons: horizon,
                from,
                to,
                source,
                refit_every,
                calibration_months,
                format,
            };
            print!("{}", crate::backtest::run(&app, &args)?);
            Ok(())
        }
        Command::Alerts { action } => crate::alerts::run(&s, action),
    }
}

/// Reads and parses an index configuration file (the format of `config/index.toml`).
pub(crate) fn read_index_config(
    path: &Path,
) -> anyhow::Result<usalama_app::analytics::index::IndexConfig> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
    Ok(toml::from_str(&text).map_err(|e| ConfigError(format!("{}: {e}", path.display())))?)
}

/// The `usalama index` table as plain text: code, name, index, the three dimension
/// scores and the dimensions missing, worst first.
pub fn index_table(
    app: &App,
    level: &str,
    granularity: &str,
    at: Option<&str>,
    source: Option<&str>,
) -> anyhow::Result<String> {
    use std::fmt::Write as _;
    use usalama_app::analytics::{panel::Level, period::Granularity, period::Period};
    let invalid = |field: &str, e: &dyn std::fmt::Display| {
        usalama_app::AppError::invalid(field, e.to_string())
    };
    let level: Level = level.parse().map_err(|e| invalid("level", &e))?;
    let granularity: Granularity = granularity.parse().map_err(|e| invalid("period", &e))?;
    let at = match at {
        Some(a) => Some(a.parse::<Period>().map_err(|e| invalid("at", &e))?),
        None => None,
    };
    let t = app.index_table(
        &usalama_app::Principal::Operator,
        level,
        granularity,
        at,
        source,
    )?;
    let mut out = String::new();
    let f = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.2}"));
    let _ = writeln!(
        out,
        "# source {}, {} {}",
        t.source.as_deref().unwrap_or("-"),
        t.level,
        t.period.map_or_else(|| "-".to_string(), |p| p.to_string())
    );
    let _ = writeln!(
        out,
        "{:<12} {:<32} {:>6} {:>6} {:>10} {:>7}  missing",
        "code", "name", "index", "lives", "livelihood", "dignity"
    );
    for r in &t.rows {
        let missing: Vec<&str> = r.missing.iter().map(|d| d.as_str()).collect();
        let _ = writeln!(
            out,
            "{:<12} {:<32} {:>6} {:>6} {:>10} {:>7}  {}",
            r.locality.code.as_str(),
            r.locality.name,
            f(r.value),
            f(r.scores[0]),
            f(r.scores[1]),
            f(r.scores[2]),
            if missing.is_empty() {
                "-".to_string()
            } else {
                missing.join(",")
            }
        );
    }
    Ok(out)
}
