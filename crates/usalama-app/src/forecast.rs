//! Forecasts and backtests as use-cases: the monthly panel of one source's events (sources
//! are never summed), the series of one level's units with their neighbours (localities
//! whose boundaries touch; for PRIO-GRID cells, the 8 cells around), and the analytics
//! crate's model. Forecasts are kept in memory per source and level and dropped whenever
//! events change, like the index. Anyone may read them: they are aggregates.

use crate::auth::Principal;
use crate::error::AppError;
use crate::App;
use std::sync::Arc;
use std::time::Duration;
use usalama_analytics::forecast::escalation::{
    evaluate_detectors, EscalationDefinition, EscalationReport,
};
use usalama_analytics::forecast::{
    self, BacktestConfig, BacktestReport, ForecastData, ForecastError, HorizonForecast, ModelConfig,
};
use usalama_analytics::panel::{Level, Unit};
use usalama_analytics::period::{Granularity, PeriodRange};
use usalama_store::LocalitySummary;

/// How long computed forecasts are reused when no write went through this process.
const FORECAST_TTL: Duration = Duration::from_secs(60);

/// The horizons forecast, in months.
pub const FORECAST_HORIZONS: [usize; 3] = [1, 2, 3];

/// The forecast cache.
#[derive(Default)]
pub(crate) struct ForecastCache {
    /// Computed forecasts by (source, level).
    computed: crate::memo::Memo<(String, Level), ForecastTable>,
}

impl ForecastCache {
    /// Drops every computed forecast: events (or boundaries) changed.
    pub(crate) fn clear(&self) {
        self.computed.clear();
    }
}

/// One unit's forecasts.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastRow {
    /// The locality, for administrative levels.
    pub locality: Option<LocalitySummary>,
    /// The PRIO-GRID cell, for the grid level.
    pub cell: Option<i64>,
    /// One forecast per horizon (1, 2, 3 months).
    pub horizons: Vec<HorizonForecast>,
}

impl ForecastRow {
    /// The P-code, or `priogrid:GID` for a cell.
    pub fn code(&self) -> String {
        match (&self.locality, self.cell) {
            (Some(l), _) => l.code.as_str().to_string(),
            (None, Some(g)) => format!("priogrid:{g}"),
            _ => String::new(),
        }
    }
}

/// Forecasts of every unit of one level.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastTable {
    /// The source the forecasts are computed from; `None` when the store holds no event.
    pub source: Option<String>,
    /// The level.
    pub level: Level,
    /// The months of data the model was trained on; `None` without data.
    pub trained_on: Option<PeriodRange>,
    /// Why there is no forecast (too little history), if so.
    pub note: Option<String>,
    /// The rows, highest probability of a death next month first, then by code.
    pub rows: Vec<ForecastRow>,
}

/// A backtest's results.
#[derive(Debug, Clone, PartialEq)]
pub struct BacktestOutcome {
    /// The source evaluated.
    pub source: Option<String>,
    /// The level.
    pub level: Level,
    /// The forecasts against the baselines.
    pub report: BacktestReport,
    /// The detectors against the escalations of the same months.
    pub detectors: EscalationReport,
}

fn forecast_error(e: ForecastError) -> AppError {
    match e {
        ForecastError::Invalid { field, message } => AppError::invalid(field, message),
        other => AppError::invalid("forecast", other.to_string()),
    }
}

impl App {
    /// The monthly series of one level's units for `source` (validated; default: the
    /// source with the most events); `None` when the source has no event.
    fn forecast_data(
        &self,
        source: Option<&str>,
        level: Level,
    ) -> Result<(Option<String>, Option<ForecastData>), AppError> {
        let chosen = self.choose_source(source)?;
        let Some(s) = chosen.clone() else {
            return Ok((None, None));
        };
        // Administrative levels read the index's monthly panel (kept for the index and the
        // detectors anyway: one panel in memory, not two); only the grid needs a panel with
        // PRIO-GRID cells, built for the call and dropped after it.
        let shared;
        let own;
        let panel = if level == Level::Grid {
            own = self.source_panel(&s, Granularity::Month, true)?;
            own.as_ref()
        } else {
            shared = self.computed_index(Some(&s), Granularity::Month)?;
            shared.panel.as_ref()
        };
        let Some(panel) = panel else {
            return Ok((chosen, None));
        };
        let locs = self.localities()?;
        let adjacent = match level {
            Level::Grid => Vec::new(),
            l => {
                let of_level: Vec<_> = locs
                    .all
                    .iter()
                    .filter(|x| Level::from(x.level) == l)
                    .filter_map(|x| x.geometry.as_ref().map(|g| (x.id, g)))
                    .collect();
                let shapes: Vec<_> = of_level.iter().map(|(_, g)| *g).collect();
                usalama_ingest::adjacency::touching(
                    &shapes,
                    usalama_ingest::adjacency::DEFAULT_TOLERANCE,
                )
                .into_iter()
                .map(|(i, j)| (Unit::Locality(of_level[i].0), Unit::Locality(of_level[j].0)))
                .collect()
            }
        };
        let data = ForecastData::from_panel(panel, level, &adjacent).map_err(forecast_error)?;
        Ok((chosen, Some(data)))
    }

    /// The forecasts of every unit of `level` (ADM1, ADM2, … or the grid) for the 1, 2 and
    /// 3 months after the last month of `source`'s data, from the cache or computed.
    /// Anyone may read them at the public level (ADM1 by default, `PrivacyConfig::level`)
    /// or coarser; finer levels and the grid need `ReadEvents`, because a small unit's
    /// forecast moves with its last months' counts, which public outputs withhold.
    pub fn forecasts(
        &self,
        who: &Principal,
        level: Level,
        source: Option<&str>,
    ) -> Result<Arc<ForecastTable>, AppError> {
        if !self.forecast_level_is_public(level) {
            self.require_reader(who)?;
        }
        let chosen = self.choose_source(source)?;
        let key = (chosen.clone().unwrap_or_default(), level);
        self.cache
            .forecast
            .computed
            .get_or_compute(key, FORECAST_TTL, || {
                self.compute_forecasts(chosen.as_deref(), level)
            })
    }

    /// Whether anyone may read forecasts at `level`: the public level or coarser (the grid
    /// is finer than every administrative level).
    fn forecast_level_is_public(&self, level: Level) -> bool {
        level <= Level::from(self.privacy().level)
    }

    fn compute_forecasts(
        &self,
        source: Option<&str>,
        level: Level,
    ) -> Result<ForecastTable, AppError> {
        let (source, data) = self.forecast_data(source, level)?;
        let Some(data) = data else {
            return Ok(ForecastTable {
                source,
                level,
                trained_on: None,
                note: None,
                rows: Vec::new(),
            });
        };
        let locs = self.localities()?;
        let units = match forecast::forecast(&data, &FORECAST_HORIZONS, &ModelConfig::default()) {
            Ok(u) => u,
            Err(ForecastError::Invalid {
                field: "history",
                message,
            }) => {
                return Ok(ForecastTable {
                    source,
                    level,
                    trained_on: Some(data.months()),
                    note: Some(message),
                    rows: Vec::new(),
                })
            }
            Err(e) => return Err(forecast_error(e)),
        };
        let mut rows: Vec<ForecastRow> = units
            .into_iter()
            .map(|f| {
                let (locality, cell) = match f.unit {
                    Unit::Locality(id) => (locs.summary(id), None),
                    Unit::Cell(g) => (None, Some(g)),
                };
                ForecastRow {
                    locality,
                    cell,
                    horizons: f.horizons,
                }
            })
            .filter(|r| r.locality.is_some() || r.cell.is_some())
            .collect();
        let p1 = |r: &ForecastRow| r.horizons.first().map_or(0.0, |h| h.prediction.probability);
        rows.sort_by(|a, b| {
            p1(b)
                .total_cmp(&p1(a))
                .then_with(|| a.code().cmp(&b.code()))
        });
        Ok(ForecastTable {
            source,
            level,
            trained_on: Some(data.months()),
            note: None,
            rows,
        })
    }

    /// The probability of at least one death in `locality` (P-code or id) in the month
    /// `horizon` months after the data (1, 2 or 3), from the default source's forecasts at
    /// the locality's level; `None` when the locality has no forecast (no data, too
    /// little history, or a country or unknown level). For alert rules such as "the
    /// forecast probability exceeds p".
    pub fn forecast_probability(
        &self,
        locality: &str,
        horizon: usize,
        source: Option<&str>,
    ) -> Result<Option<f64>, AppError> {
        if !FORECAST_HORIZONS.contains(&horizon) {
            return Err(AppError::invalid("horizon", "1, 2 or 3 months"));
        }
        let summary = self.resolve_locality(locality)?;
        let level = Level::from(summary.level);
        let table = self.forecasts(&Principal::Operator, level, source)?;
        Ok(table
            .rows
            .iter()
            .find(|r| r.locality.as_ref().is_some_and(|l| l.id == summary.id))
            .and_then(|r| r.horizons.iter().find(|h| h.h == horizon))
            .map(|h| h.prediction.probability))
    }

    /// The rolling-origin backtest of the forecasts of `level` on `source`'s events, with
    /// the baselines, and the detectors evaluated against the escalations of the same
    /// months. Anyone may call this.
    pub fn backtest(
        &self,
        _who: &Principal,
        level: Level,
        source: Option<&str>,
        config: &BacktestConfig,
    ) -> Result<BacktestOutcome, AppError> {
        let (source, data) = self.forecast_data(source, level)?;
        let data = data.ok_or(AppError::NotFound("events to backtest on"))?;
        let report = forecast::backtest(&data, config).map_err(forecast_error)?;
        let (from, to) = config.window(&data).map_err(forecast_error)?;
        let detectors = evaluate_detectors(&data, from, to, &EscalationDefinition::default())
            .map_err(forecast_error)?;
        Ok(BacktestOutcome {
            source,
            level,
            report,
            detectors,
        })
    }
}

/// This application's forecasts as the alert rules read them: for every locality of a
/// level, the probability of at least one fatal event in the month `horizon` months after
/// the data. Borrowed for one evaluation, so no reference cycle keeps the application
/// (and its store) alive.
pub(crate) struct OwnForecasts<'a>(pub(crate) &'a App);

impl crate::alerts::ForecastSource for OwnForecasts<'_> {
    fn name(&self) -> String {
        "usalama forecast (ridge and logistic regression)".into()
    }

    fn fatal_probabilities(
        &self,
        level: usalama_domain::AdminLevel,
        horizon: u8,
    ) -> Result<Vec<crate::alerts::ForecastPoint>, AppError> {
        let table = self
            .0
            .forecasts(&Principal::Operator, Level::from(level), None)?;
        Ok(table
            .rows
            .iter()
            .filter_map(|r| {
                let l = r.locality.as_ref()?;
                let h = r.horizons.iter().find(|h| h.h == usize::from(horizon))?;
                Some(crate::alerts::ForecastPoint {
                    locality: l.id,
                    period: h.period.to_string(),
                    probability: h.prediction.probability,
                })
            })
            .collect())
    }
}
