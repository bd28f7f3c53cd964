//! `usalama index recompute`: the full recompute of one level (panel, index, both
//! detectors on every locality's series) with the time of each stage.

use crate::cli::{open_app, Settings, StoreArgs};
use clap::{Subcommand, ValueEnum};
use std::fmt::Write as _;
use std::path::PathBuf;
use usalama_app::analytics::detect::Method;
use usalama_app::analytics::period::Granularity;
use usalama_app::analytics::recompute::{flag, SeriesKind};
use usalama_app::{AppError, RecomputeOptions, Recomputed};
use usalama_domain::AdminLevel;

/// `usalama index …` subcommands.
#[derive(Debug, Subcommand)]
pub enum IndexCommand {
    /// Recompute the panel, the index of every locality and period of a level and both
    /// escalation detectors on every locality's event and fatality series, from the
    /// store in one pass; prints a summary (and the time of each stage with --timings).
    Recompute {
        /// The level: adm0, adm1, adm2 or adm3.
        #[arg(long, default_value = "adm2")]
        level: String,
        /// The granularity: week, month or quarter.
        #[arg(long, default_value = "month")]
        period: String,
        /// The source (default: the one with the most events).
        #[arg(long)]
        source: Option<String>,
        /// An index configuration file replacing config/index.toml.
        #[arg(long, value_name = "FILE")]
        index_config: Option<PathBuf>,
        /// Threads: above 1, the store is read in as many parts at once and the detectors
        /// share the threads (results identical).
        /// Default: the cores this process may use.
        #[arg(long)]
        threads: Option<usize>,
        /// Print the time of each stage.
        #[arg(long)]
        timings: bool,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: RecomputeFormat,
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Output of `usalama index recompute`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum RecomputeFormat {
    /// A few lines for people.
    Text,
    /// One JSON document (timings always included).
    Json,
}

/// Runs an `usalama index …` subcommand.
pub fn run(settings: &Settings, command: IndexCommand) -> anyhow::Result<()> {
    let IndexCommand::Recompute {
        level,
        period,
        source,
        index_config,
        threads,
        timings,
        format,
        store,
    } = command;
    let invalid = |field: &str, e: String| AppError::invalid(field, e);
    let level: AdminLevel = level
        .parse::<usalama_app::analytics::panel::Level>()
        .map_err(|e| invalid("level", e))
        .and_then(|l| match l {
            usalama_app::analytics::panel::Level::Adm0 => Ok(AdminLevel::Adm0),
            usalama_app::analytics::panel::Level::Adm1 => Ok(AdminLevel::Adm1),
            usalama_app::analytics::panel::Level::Adm2 => Ok(AdminLevel::Adm2),
            usalama_app::analytics::panel::Level::Adm3 => Ok(AdminLevel::Adm3),
            usalama_app::analytics::panel::Level::Grid => Err(invalid(
                "level",
                "the recompute is offered for administrative levels (adm0-adm3)".into(),
            )),
        })?;
    let granularity: Granularity =
        period
            .parse()
            .map_err(|e: usalama_app::analytics::period::PeriodError| {
                invalid("period", e.to_string())
            })?;
    let app = open_app(settings, &store, None)?;
    if let Some(p) = &index_config {
        app.set_index_config(crate::cli::read_index_config(p)?)?;
    }
    let mut options = RecomputeOptions::new(level);
    options.granularity = granularity;
    options.farrington =
        usalama_app::analytics::detect::FarringtonConfig::for_granularity(granularity);
    options.source = source;
    options.threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    options.cpu_clock = Some(thread_cpu_time);
    let r = app.recompute_index(&options)?;
    match format {
        RecomputeFormat::Text => print!("{}", text(&r, timings)),
        RecomputeFormat::Json => println!("{}", serde_json::to_string_pretty(&json(&r))?),
    }
    Ok(())
}

/// The calling thread's CPU time so far, from `/proc/thread-self/schedstat` (Linux; its
/// first field is nanoseconds on a CPU); `None` elsewhere.
fn thread_cpu_time() -> Option<std::time::Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(std::time::Duration::from_nanos(ns))
}

const DETECTORS: [(Method, SeriesKind, &str); 4] = [
    (Method::NbCusum, SeriesKind::Events, "nb_cusum events"),
    (
        Method::NbCusum,
        SeriesKind::Fatalities,
        "nb_cusum fatalities",
    ),
    (Method::Farrington, SeriesKind::Events, "farrington events"),
    (
        Method::Farrington,
        SeriesKind::Fatalities,
        "farrington fatalities",
    ),
];

fn text(r: &Recomputed, timings: bool) -> String {
    let mut s = String::new();
    let level = r.level.as_str();
    let _ = writeln!(
        s,
        "source {}, level {level}: {} localities",
        r.source.as_deref().unwrap_or("(none)"),
        r.localities.len()
    );
    if let (Some(range), Some(index), Some(det)) = (r.range, &r.index, &r.detection) {
        let cells = r.localities.len() * range.len();
        let _ = writeln!(
            s,
            "periods {range} ({}): {cells} locality-periods, {} with an index value",
            range.len(),
            index.with_value()
        );
        let _ = writeln!(
            s,
            "events read {}, counted at {level} {}",
            r.events_read, r.events_counted
        );
        for (m, k, name) in DETECTORS {
            let b = flag(m, k).trailing_zeros() as usize;
            let _ = writeln!(
                s,
                "{name}: {} periods judged, {} signals",
                det.judged[b], det.signals[b]
            );
        }
        let _ = writeln!(s, "signals in {}: {}", range.last(), det.latest.len());
    } else {
        let _ = writeln!(s, "no events");
    }
    if timings {
        let mut line = String::from("timings:");
        for (name, d) in &r.timings {
            let _ = write!(line, " {name} {:.3} s,", d.as_secs_f64());
        }
        let _ = writeln!(s, "{line} total {:.3} s", r.total().as_secs_f64());
        if !r.cpu_timings.is_empty() {
            let mut line = String::from("CPU time (this thread):");
            for (name, d) in &r.cpu_timings {
                let _ = write!(line, " {name} {:.3} s,", d.as_secs_f64());
            }
            let _ = writeln!(s, "{}", line.trim_end_matches(','));
        }
    }
    s
}

fn json(r: &Recomputed) -> serde_json::Value {
    let mut timings = serde_json::Map::new();
    for (name, d) in &r.timings {
        timings.insert((*name).into(), d.as_secs_f64().into());
    }
    let mut cpu = serde_json::Map::new();
    for (name, d) in &r.cpu_timings {
        cpu.insert((*name).into(), d.as_secs_f64().into());
    }
    let detectors: serde_json::Map<String, serde_json::Value> = match &r.detection {
        Some(det) => DETECTORS
            .iter()
            .map(|(m, k, name)| {
                let b = flag(*m, *k).trailing_zeros() as usize;
                (
                    name.replace(' ', "_"),
                    serde_json::json!({"judged": det.judged[b], "signals": det.signals[b]}),
                )
            })
            .collect(),
        None => serde_json::Map::new(),
    };
    serde_json::json!({
        "source": r.source,
        "level": r.level.as_str(),
        "localities": r.localities.len(),
        "periods": r.range.map_or(0, |x| x.len()),
        "range": r.range.map(|x| x.to_string()),
        "events_read": r.events_read,
        "events_counted": r.events_counted,
        "index_values": r.index.as_ref().map_or(0, |i| i.with_value()),
        "detectors": detectors,
        "latest_signals": r.detection.as_ref().map_or(0, |d| d.latest.len()),
        "timings_s": timings,
        "cpu_timings_s": cpu,
        "total_s": r.total().as_secs_f64(),
    })
}
