//! Usalama's analyses as deterministic functions of their inputs: the periods of analysis,
//! the locality × period panel of indicators, the human-security index and escalation
//! detection on count series.
//!
//! Nothing here reads files, databases, the network or the clock: callers pass facts,
//! observations, period ranges and configuration in, and get plain values back. The method
//! is written for analysts in `docs/methodology.md`.

pub mod detect;
pub mod index;
pub mod panel;
pub mod period;
