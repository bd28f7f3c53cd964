//! Forecasts of the months after the data, and the rolling-origin backtest.
//!
//! For horizon `h` and target month `m`, the origin is `o = m − h + 1`: the model is
//! trained on rows whose target month is before `o` (so on nothing at or after the
//! origin) and predicts month `m` from the features at `o`. The baselines use the same
//! months before `o`:
//!
//! - `no_change`: the fatalities of month `o − 1`; probability 1 if that month was fatal,
//!   else 0;
//! - `mean_12m`: the mean fatalities of the 12 months before `o`; probability the share of
//!   those months that were fatal;
//! - `zero`: no death, probability 0.

use super::features::{self, FeatureTable};
use super::metrics::{brier, mse, roc_auc};
use super::model::{Calibration, Model, ModelConfig, Prediction};
use super::{ForecastData, ForecastError};
use crate::panel::Unit;
use crate::period::Period;
use serde::Serialize;

/// The name of the model in backtest reports.
pub const MODEL_NAME: &str = "usalama";
/// The baselines in backtest reports.
pub const BASELINES: [&str; 3] = ["no_change", "mean_12m", "zero"];

/// The forecast of one unit for each horizon.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitForecast {
    /// The unit.
    pub unit: Unit,
    /// Its position in the data.
    pub position: usize,
    /// One forecast per requested horizon, in the order asked.
    pub horizons: Vec<HorizonForecast>,
}

/// One unit's forecast for one month ahead.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HorizonForecast {
    /// Months ahead (1 = the month after the data).
    pub h: usize,
    /// The month forecast.
    pub period: Period,
    /// The forecast.
    pub prediction: Prediction,
}

fn check_horizons(horizons: &[usize]) -> Result<(), ForecastError> {
    if horizons.is_empty() || horizons.iter().any(|&h| h == 0 || h > 36) {
        return Err(ForecastError::invalid(
            "horizon",
            "one or more horizons between 1 and 36 months",
        ));
    }
    Ok(())
}

/// Trains the model of horizon `h` on every row whose target month is before `origin`;
/// `None` when there is no such row. With `calibration_months` set, a second model trained
/// on the rows whose target is before `origin − calibration_months` predicts the held-out
/// rest, and the Platt scaling fitted on those out-of-sample probabilities is applied to
/// the full model's probabilities (when the held-out months hold enough outcomes of each
/// kind, see [`Calibration::fit`]).
fn train(
    data: &ForecastData,
    table: &FeatureTable,
    h: usize,
    origin: usize,
    config: &ModelConfig,
) -> Result<Option<Model>, ForecastError> {
    let mut rows = Vec::new();
    let mut targets = Vec::new();
    // Rows come in order of origin, so of target month: the held-out rows are a suffix.
    let mut held_out_from = None;
    let calibration_cut = origin.checked_sub(config.calibration_months);
    let first = config.first_origin.max(1);
    // Row origin o predicts month o + h − 1, which must be before `origin`.
    let last = (origin + 1).saturating_sub(h);
    for o in first..last {
        let season = features::season(data, o, h);
        // Held out: rows whose target month `o + h − 1` is at or after the cut.
        if held_out_from.is_none()
            && config.calibration_months > 0
            && calibration_cut.is_some_and(|cut| o + h > cut)
        {
            held_out_from = Some(rows.len());
        }
        for u in 0..data.units.len() {
            if !data.is_active(u, o) {
                continue;
            }
            let mut row = table.base(u, o).to_vec();
            row.extend(season);
            rows.push(row);
            targets.push(f64::from(data.fatalities(u, (o + h - 1) as i64)).ln_1p());
        }
    }
    if rows.is_empty() {
        return Ok(None);
    }
    let mut model = Model::fit(&rows, &targets, config)?;
    // A constant share (one outcome only) has nothing to calibrate.
    let split = held_out_from.filter(|&k| k > 0 && k < rows.len());
    if let Some(split) = split.filter(|_| model.has_fitted_probability()) {
        // Calibration is a refinement: a held-out fit that fails leaves the probabilities
        // as the full model gives them.
        let early = Model::fit(&rows[..split], &targets[..split], config).ok();
        if let Some(early) = early.filter(Model::has_fitted_probability) {
            let probabilities: Vec<f64> = rows[split..]
                .iter()
                .map(|r| early.predict(r).probability)
                .collect();
            let outcomes: Vec<bool> = targets[split..].iter().map(|&t| t > 0.0).collect();
            model.set_calibration(Calibration::fit(&probabilities, &outcomes));
        }
    }
    Ok(Some(model))
}

/// Forecasts every unit (for grid-like data, every unit with an event) for each horizon
/// after the last month of the data, from models trained on all of it.
pub fn forecast(
    data: &ForecastData,
    horizons: &[usize],
    config: &ModelConfig,
) -> Result<Vec<UnitForecast>, ForecastError> {
    check_horizons(horizons)?;
    let origin = data.months.len();
    let table = FeatureTable::new(data);
    let mut models = Vec::new();
    for &h in horizons {
        let model = train(data, &table, h, origin, config)?.ok_or_else(|| {
            ForecastError::invalid(
                "history",
                format!(
                    "{} months are too few to train a {h}-month forecast",
                    data.months.len()
                ),
            )
        })?;
        let period = data
            .months
            .first()
            .offset((origin + h) as i64 - 1)
            .ok_or_else(|| ForecastError::invalid("horizon", "beyond the calendar"))?;
        models.push((h, period, model));
    }
    Ok((0..data.units.len())
        .filter(|&u| data.is_active(u, origin))
        .map(|u| UnitForecast {
            unit: data.units[u],
            position: u,
            horizons: models
                .iter()
                .map(|(h, period, model)| {
                    let mut row = table.base(u, origin).to_vec();
                    row.extend(features::season(data, origin, *h));
                    HorizonForecast {
                        h: *h,
                        period: *period,
                        prediction: model.predict(&row),
                    }
                })
                .collect(),
        })
        .collect())
}

/// Settings of a backtest.
#[derive(Debug, Clone, PartialEq)]
pub struct BacktestConfig {
    /// Horizons in months.
    pub horizons: Vec<usize>,
    /// The first target month evaluated (default: see [`BacktestConfig::window`]).
    pub from: Option<Period>,
    /// The last target month evaluated (default: the last month of the data).
    pub to: Option<Period>,
    /// Refit the model every this many origins (1: at every origin, as the method says;
    /// more is faster and still never trains on data at or after the origin).
    pub refit_every: usize,
    /// The model's settings.
    pub model: ModelConfig,
    /// Months of history an origin needs at least, for the default `from`.
    pub min_history: usize,
    /// Target months evaluated by default (the last ones of the data).
    pub default_months: usize,
}

impl Default for BacktestConfig {
    /// Horizons 1, 2, 3; refit at every origin; the last 120 months with at least 60
    /// months of history before each origin.
    fn default() -> Self {
        Self {
            horizons: vec![1, 2, 3],
            from: None,
            to: None,
            refit_every: 1,
            model: ModelConfig::default(),
            min_history: 60,
            default_months: 120,
        }
    }
}

impl BacktestConfig {
    /// The positions of the first and last target months evaluated in `data`: `to`
    /// (default: the last month), `from` (default: `default_months` before `to`, but not
    /// before `min_history` months plus the longest horizon). Every origin must leave a
    /// training row: an error names `from` otherwise.
    pub fn window(&self, data: &ForecastData) -> Result<(usize, usize), ForecastError> {
        check_horizons(&self.horizons)?;
        if self.refit_every == 0 {
            return Err(ForecastError::invalid("refit_every", "at least 1"));
        }
        let months = data.months;
        let t_len = months.len();
        let max_h = self.horizons.iter().copied().max().unwrap_or(1);
        let position = |field: &'static str, p: Period| {
            months.index_of(p).ok_or_else(|| {
                ForecastError::invalid(field, format!("{p} is outside the data ({months})"))
            })
        };
        let to = match self.to {
            Some(p) => position("to", p)?,
            None => t_len.saturating_sub(1),
        };
        // The earliest target with one training row for the longest horizon: origin
        // `first_origin + 1` at least, i.e. target `first_origin + max_h`.
        let earliest = self.model.first_origin.max(1) + max_h;
        let from = match self.from {
            Some(p) => position("from", p)?,
            None => (self.min_history + max_h - 1)
                .max((to + 1).saturating_sub(self.default_months))
                .max(earliest),
        };
        if from < earliest {
            return Err(ForecastError::invalid(
                "from",
                format!(
                    "the first month evaluated must leave training data for every horizon: {} or later",
                    months.get(earliest).map_or_else(|| "-".into(), |p| p.to_string())
                ),
            ));
        }
        if from > to {
            return Err(ForecastError::invalid(
                "from",
                "no month to evaluate: from is after to (or the data is too short)",
            ));
        }
        Ok((from, to))
    }
}

/// One unit-month of a backtest.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BacktestRow {
    /// The horizon.
    pub h: usize,
    /// The unit's position.
    pub unit: usize,
    /// The origin (first month not known).
    pub origin: usize,
    /// The month forecast (`origin + h − 1`).
    pub target: usize,
    /// Fatalities in the target month.
    pub observed: u32,
    /// No death in the 12 months before the origin.
    pub onset: bool,
    /// The model's forecast.
    pub model: Prediction,
    /// `no_change`.
    pub no_change: Prediction,
    /// `mean_12m`.
    pub mean_12m: Prediction,
}

/// Every unit-month forecast of a backtest, horizon by horizon.
pub fn backtest_rows(
    data: &ForecastData,
    config: &BacktestConfig,
) -> Result<Vec<BacktestRow>, ForecastError> {
    let (from, to) = config.window(data)?;
    let table = FeatureTable::new(data);
    let mut out = Vec::new();
    for &h in &config.horizons {
        let first_origin = from + 1 - h;
        let mut fitted: Option<(usize, Model)> = None;
        for target in from..=to {
            let origin = target + 1 - h;
            let refit_at =
                first_origin + (origin - first_origin) / config.refit_every * config.refit_every;
            if fitted.as_ref().is_none_or(|(at, _)| *at != refit_at) {
                let model = train(data, &table, h, refit_at, &config.model)?.ok_or_else(|| {
                    ForecastError::invalid("from", "no training data before the first origin")
                })?;
                fitted = Some((refit_at, model));
            }
            let Some((_, model)) = &fitted else { continue };
            let season = features::season(data, origin, h);
            for u in 0..data.units.len() {
                if !data.is_active(u, origin) {
                    continue;
                }
                let mut row = table.base(u, origin).to_vec();
                row.extend(season);
                let last = data.fatalities(u, origin as i64 - 1);
                let mean12 = (1..=12)
                    .map(|k| f64::from(data.fatalities(u, origin as i64 - k)))
                    .sum::<f64>()
                    / 12.0;
                let share12 = features::fatal_share(data, u, origin, 12);
                out.push(BacktestRow {
                    h,
                    unit: u,
                    origin,
                    target,
                    observed: data.fatalities(u, target as i64),
                    onset: share12 == 0.0,
                    model: model.predict(&row),
                    no_change: Prediction {
                        probability: if last > 0 { 1.0 } else { 0.0 },
                        log1p_fatalities: f64::from(last).ln_1p(),
                    },
                    mean_12m: Prediction {
                        probability: share12,
                        log1p_fatalities: mean12.ln_1p(),
                    },
                });
            }
        }
    }
    Ok(out)
}

/// Scores of one model on one set of unit-months.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scores {
    /// Mean squared error on `ln(1 + fatalities)`.
    pub mse_log1p: Option<f64>,
    /// Brier score of the probability of at least one death.
    pub brier: Option<f64>,
    /// ROC AUC of that probability; `None` when every unit-month had the same outcome.
    pub roc_auc: Option<f64>,
    /// The mean probability, to set beside the share of unit-months with a death
    /// (calibration in the large); `None` without unit-months.
    pub mean_probability: Option<f64>,
}

/// Scores of one model on all unit-months and on onsets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ModelScores {
    /// Mean squared error on `ln(1 + fatalities)`.
    pub mse_log1p: Option<f64>,
    /// Brier score.
    pub brier: Option<f64>,
    /// ROC AUC.
    pub roc_auc: Option<f64>,
    /// The mean probability (calibration in the large).
    pub mean_probability: Option<f64>,
    /// The same on unit-months without a death in the 12 months before the origin.
    pub onset: Scores,
}

/// The four models of a horizon, in a fixed order.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Models {
    /// The forecast model.
    pub usalama: ModelScores,
    /// Last month again.
    pub no_change: ModelScores,
    /// The 12-month mean.
    pub mean_12m: ModelScores,
    /// Nothing happens.
    pub zero: ModelScores,
}

/// The backtest of one horizon.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HorizonReport {
    /// Months ahead.
    pub h: usize,
    /// Unit-months evaluated.
    pub n: usize,
    /// Of which with at least one death.
    pub fatal: usize,
    /// Unit-months that are onsets (no death in the 12 months before the origin).
    pub n_onset: usize,
    /// Of which with at least one death.
    pub fatal_onset: usize,
    /// The scores.
    pub models: Models,
}

/// A backtest's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BacktestReport {
    /// The first target month evaluated.
    pub from: String,
    /// The last.
    pub to: String,
    /// Units in the data.
    pub units: usize,
    /// How often the model was refit (in origins).
    pub refit_every: usize,
    /// The model's features.
    pub features: Vec<String>,
    /// One report per horizon.
    pub horizons: Vec<HorizonReport>,
}

fn score(rows: &[&BacktestRow], pick: impl Fn(&BacktestRow) -> Prediction) -> Scores {
    let observed: Vec<f64> = rows.iter().map(|r| f64::from(r.observed).ln_1p()).collect();
    let outcome: Vec<bool> = rows.iter().map(|r| r.observed > 0).collect();
    let preds: Vec<Prediction> = rows.iter().map(|r| pick(r)).collect();
    let log1p: Vec<f64> = preds.iter().map(|p| p.log1p_fatalities).collect();
    let prob: Vec<f64> = preds.iter().map(|p| p.probability).collect();
    Scores {
        mse_log1p: mse(&log1p, &observed),
        brier: brier(&prob, &outcome),
        roc_auc: roc_auc(&prob, &outcome),
        mean_probability: (!prob.is_empty()).then(|| prob.iter().sum::<f64>() / prob.len() as f64),
    }
}

fn model_scores(rows: &[&BacktestRow], pick: impl Fn(&BacktestRow) -> Prediction) -> ModelScores {
    let all = score(rows, &pick);
    let onset: Vec<&BacktestRow> = rows.iter().copied().filter(|r| r.onset).collect();
    ModelScores {
        mse_log1p: all.mse_log1p,
        brier: all.brier,
        roc_auc: all.roc_auc,
        mean_probability: all.mean_probability,
        onset: score(&onset, &pick),
    }
}

/// Runs the rolling-origin backtest and scores the model and the baselines per horizon.
pub fn backtest(
    data: &ForecastData,
    config: &BacktestConfig,
) -> Result<BacktestReport, ForecastError> {
    let (from, to) = config.window(data)?;
    let rows = backtest_rows(data, config)?;
    let zero = Prediction {
        probability: 0.0,
        log1p_fatalities: 0.0,
    };
    let horizons = config
        .horizons
        .iter()
        .map(|&h| {
            let hr: Vec<&BacktestRow> = rows.iter().filter(|r| r.h == h).collect();
            HorizonReport {
                h,
                n: hr.len(),
                fatal: hr.iter().filter(|r| r.observed > 0).count(),
                n_onset: hr.iter().filter(|r| r.onset).count(),
                fatal_onset: hr.iter().filter(|r| r.onset && r.observed > 0).count(),
                models: Models {
                    usalama: model_scores(&hr, |r| r.model),
                    no_change: model_scores(&hr, |r| r.no_change),
                    mean_12m: model_scores(&hr, |r| r.mean_12m),
                    zero: model_scores(&hr, |_| zero),
                },
            }
        })
        .collect();
    let month = |i: usize| {
        data.months
            .get(i)
            .map_or_else(String::new, |p| p.to_string())
    };
    Ok(BacktestReport {
        from: month(from),
        to: month(to),
        units: data.units.len(),
        refit_every: config.refit_every,
        features: features::names(data),
        horizons,
    })
}
