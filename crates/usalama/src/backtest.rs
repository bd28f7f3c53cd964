//! `usalama backtest`: the rolling-origin evaluation of the forecasts on the events in the
//! store, printed as one JSON document.

use serde::Serialize;
use usalama_app::analytics::forecast::escalation::EscalationReport;
use usalama_app::analytics::forecast::{BacktestConfig, BacktestReport, ModelConfig};
use usalama_app::analytics::panel::Level;
use usalama_app::analytics::period::{Granularity, Period};
use usalama_app::{App, AppError, Principal};

/// What `usalama backtest` was asked.
#[derive(Debug, Clone, PartialEq)]
pub struct BacktestArgs {
    /// `adm1`, `adm2` or `pgm`.
    pub level: String,
    /// Horizons in months.
    pub horizons: Vec<usize>,
    /// First target month (`YYYY-MM`).
    pub from: Option<String>,
    /// Last target month.
    pub to: Option<String>,
    /// The source (default: the one with the most events).
    pub source: Option<String>,
    /// Refit the model every this many origins.
    pub refit_every: usize,
    /// Months held out to calibrate the probabilities (0: none).
    pub calibration_months: usize,
    /// Output format (only `json`).
    pub format: String,
}

/// The JSON document.
#[derive(Serialize)]
struct Output<'a> {
    level: &'a str,
    source: Option<&'a str>,
    #[serde(flatten)]
    report: &'a BacktestReport,
    detectors: &'a EscalationReport,
}

fn month(field: &str, text: Option<&str>) -> Result<Option<Period>, AppError> {
    let Some(t) = text else { return Ok(None) };
    let p: Period = t
        .parse()
        .map_err(|e: usalama_app::analytics::period::PeriodError| {
            AppError::invalid(field, e.to_string())
        })?;
    if p.granularity() != Granularity::Month {
        return Err(AppError::invalid(
            field,
            format!("{t} is not a month (YYYY-MM)"),
        ));
    }
    Ok(Some(p))
}

/// Runs the backtest and returns the JSON document (pretty-printed, ending in a newline).
pub fn run(app: &App, args: &BacktestArgs) -> anyhow::Result<String> {
    if args.format != "json" {
        return Err(AppError::invalid("format", "the only format is json").into());
    }
    let level: Level = args
        .level
        .parse()
        .map_err(|e: String| AppError::invalid("level", e))?;
    let name = match level {
        Level::Grid => "pgm",
        l => l.as_str(),
    };
    let config = BacktestConfig {
        horizons: args.horizons.clone(),
        from: month("from", args.from.as_deref())?,
        to: month("to", args.to.as_deref())?,
        refit_every: args.refit_every,
        model: ModelConfig {
            calibration_months: args.calibration_months,
            ..ModelConfig::default()
        },
        ..BacktestConfig::default()
    };
    let started = std::time::Instant::now();
    let outcome = app.backtest(&Principal::Operator, level, args.source.as_deref(), &config)?;
    eprintln!(
        "backtest of {} {name} units, {}..{}, horizons {:?}: {:.1} s",
        outcome.report.units,
        outcome.report.from,
        outcome.report.to,
        args.horizons,
        started.elapsed().as_secs_f64()
    );
    let out = Output {
        level: name,
        source: outcome.source.as_deref(),
        report: &outcome.report,
        detectors: &outcome.detectors,
    };
    let mut text = serde_json::to_string_pretty(&out)?;
    text.push('\n');
    Ok(text)
}
