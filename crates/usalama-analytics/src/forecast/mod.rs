//! Forecasts of fatal violence per unit (ADM1, ADM2 locality or PRIO-GRID cell) and month,
//! their rolling-origin backtest against baselines, and the evaluation of the escalation
//! detectors against defined escalations.
//!
//! - [`ForecastData`]: the monthly series a forecast needs (fatalities, events, events by
//!   category, neighbours), built from a monthly [`Panel`](crate::panel::Panel).
//! - [`features`]: the features of one unit at one forecast origin: own lags, neighbours'
//!   lags, time since the last fatal month, event-type mix, the level's trend and the
//!   season of the target month.
//! - [`Model`]: two regularised GLMs per horizon (fitted by Newton's method): a logistic regression for the
//!   probability of at least one fatal event and a ridge (identity-link) regression for the
//!   expected `ln(1 + fatalities)`.
//! - [`forecast`]: the next months after the data; [`backtest`]: rolling-origin evaluation
//!   with the `no_change`, `mean_12m` and `zero` baselines; [`metrics`]: MSE on `log1p`,
//!   Brier score, ROC AUC; [`escalation`]: escalations defined on the fatality series and
//!   the detectors' detection rate, false-alarm rate and delay.
//!
//! Everything is deterministic: the solvers start from fixed values and nothing is drawn at
//! random. The method is written for analysts in `docs/methodology.md` (section 5).

mod backtest;
mod data;
pub mod escalation;
pub mod features;
pub mod metrics;
mod model;

pub use backtest::{
    backtest, forecast, BacktestConfig, BacktestReport, BacktestRow, HorizonForecast,
    HorizonReport, ModelScores, Scores, UnitForecast, BASELINES, MODEL_NAME,
};
pub use data::ForecastData;
pub use model::{Calibration, Model, ModelConfig, Prediction, MIN_CALIBRATION_OUTCOMES};

/// Why a forecast or backtest could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForecastError {
    /// The panel is not monthly.
    #[error("forecasts need a monthly panel, not a {0} one")]
    NotMonthly(String),
    /// A setting is out of range.
    #[error("{field}: {message}")]
    Invalid {
        /// The setting.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The solver failed.
    #[error("model fit: {0}")]
    Fit(String),
}

impl ForecastError {
    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests;
