//! Usalama's analyses as deterministic functions of their inputs: the periods of analysis,
//! the locality × period panel of indicators, the human-security index and escalation
//! detection on count series.
//!
//! - [`period`]: [`Period`](period::Period) (`2022-W23`, `2022-06`, `2022-Q2`) and
//!   [`PeriodRange`](period::PeriodRange), the time axis of everything else.
//! - [`panel`]: [`Panel::build`](panel::Panel::build) from [`EventFact`](panel::EventFact)s
//!   and indicator observations, as a [`PanelSpec`](panel::PanelSpec) says: dense counts per
//!   unit (locality at each level, PRIO-GRID cell) and period, with explicit zeros.
//! - [`index`]: [`HumanSecurityIndex::compute`](index::HumanSecurityIndex::compute) from a
//!   panel and an [`IndexConfig`](index::IndexConfig) (the default file is
//!   `config/index.toml`), and [`explain`](index::HumanSecurityIndex::explain).
//! - [`detect`]: [`NbCusum`](detect::NbCusum) and [`Farrington`](detect::Farrington), which
//!   judge the periods of a count series and state expected, observed and threshold.
//! - [`grid`]: PRIO-GRID cells from points, and their neighbours.
//! - [`forecast`]: forecasts of fatal violence per unit for the next months, the
//!   rolling-origin backtest against baselines and the detectors' evaluation.
//!
//! Nothing here reads files, databases, the network or the clock: callers pass facts,
//! observations, period ranges and configuration in, and get plain values back. The method
//! is written for analysts in `docs/methodology.md`.

#![warn(missing_docs)]

pub mod detect;
pub mod disclose;
pub mod forecast;
pub mod grid;
pub mod index;
pub mod panel;
pub mod period;
pub mod recompute;
