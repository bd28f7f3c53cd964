//! The index configuration: indicators, their dimension, measure, transform and weight, the
//! dimension weights and the reference window. Callers read it from TOML (the default file
//! is `config/index.toml`, compiled in as [`DEFAULT_INDEX_CONFIG`]) with serde, then call
//! [`IndexConfig::validate`]; [`IndexConfig::default`] is the same configuration in code.

use crate::panel::{Measure, Scope};
use crate::period::Period;
use serde::Deserialize;
use std::collections::HashSet;
use std::fmt;
use usalama_domain::Dimension;

/// The default index configuration file shipped with Usalama.
pub const DEFAULT_INDEX_CONFIG: &str = include_str!("../../../../config/index.toml");

/// How an indicator's value is transformed before scaling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    /// The value as it is.
    None,
    /// `ln(1 + x)`, for counts and fatalities; defined for x ≥ 0.
    Log1p,
}

impl Transform {
    /// The name used in the configuration file.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Log1p => "log1p",
        }
    }

    /// Applies the transform; `None` for a negative value under `log1p`.
    pub fn apply(&self, x: f64) -> Option<f64> {
        match self {
            Self::None => Some(x),
            Self::Log1p => (x >= 0.0).then(|| x.ln_1p()),
        }
    }
}

impl fmt::Display for Transform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One indicator of the index.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorConfig {
    /// Stable code, `[a-z0-9_]`.
    pub code: String,
    /// Words shown in explanations.
    #[serde(default)]
    pub label: String,
    /// The dimension it enters.
    pub dimension: Dimension,
    /// What the panel gives for it.
    pub measure: Measure,
    /// The transform applied before scaling.
    pub transform: Transform,
    /// Divide by the population and multiply by 100,000 before the transform.
    #[serde(default)]
    pub per_100k: bool,
    /// A higher value is safer: the scaled value is turned around (`10 − s`).
    #[serde(default)]
    pub higher_is_better: bool,
    /// Weight within the dimension; 0 leaves the indicator out.
    #[serde(default = "one")]
    pub weight: f64,
}

/// The periods that set each indicator's scale.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceConfig {
    /// First period of the window; `None` is the panel's first period.
    #[serde(default)]
    pub from: Option<Period>,
    /// Last period of the window; `None` is the panel's last period.
    #[serde(default)]
    pub to: Option<Period>,
    /// The scale's maximum is this quantile (0 < q ≤ 1) of the reference values.
    #[serde(default = "one")]
    pub upper_quantile: f64,
}

impl Default for ReferenceConfig {
    fn default() -> Self {
        Self {
            from: None,
            to: None,
            upper_quantile: 1.0,
        }
    }
}

/// Weights of the dimensions in the geometric mean.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DimensionWeights {
    /// Lives (freedom from fear).
    #[serde(default = "one")]
    pub lives: f64,
    /// Livelihood (freedom from want).
    #[serde(default = "one")]
    pub livelihood: f64,
    /// Dignity.
    #[serde(default = "one")]
    pub dignity: f64,
}

impl DimensionWeights {
    /// The weight of `d`.
    pub fn of(&self, d: Dimension) -> f64 {
        match d {
            Dimension::Lives => self.lives,
            Dimension::Livelihood => self.livelihood,
            Dimension::Dignity => self.dignity,
        }
    }
}

impl Default for DimensionWeights {
    fn default() -> Self {
        Self {
            lives: 1.0,
            livelihood: 1.0,
            dignity: 1.0,
        }
    }
}

fn one() -> f64 {
    1.0
}

fn default_population() -> String {
    "population".to_string()
}

fn default_min_dimensions() -> usize {
    1
}

/// The whole index configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexConfig {
    /// The measured indicator giving inhabitants, for `per_100k` indicators.
    #[serde(default = "default_population")]
    pub population_indicator: String,
    /// A value needs at least this many dimension scores (1–3).
    #[serde(default = "default_min_dimensions")]
    pub min_dimensions: usize,
    /// The reference window of the scaling.
    #[serde(default)]
    pub reference: ReferenceConfig,
    /// Dimension weights.
    #[serde(default)]
    pub dimensions: DimensionWeights,
    /// The indicators, in the order explanations list them.
    #[serde(rename = "indicator")]
    pub indicators: Vec<IndicatorConfig>,
}

/// A configuration that cannot be used, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("index configuration: {0}")]
pub struct ConfigError(pub String);

fn indicator(
    code: &str,
    label: &str,
    dimension: Dimension,
    measure: Measure,
    transform: Transform,
) -> IndicatorConfig {
    IndicatorConfig {
        code: code.into(),
        label: label.into(),
        dimension,
        measure,
        transform,
        per_100k: false,
        higher_is_better: false,
        weight: 1.0,
    }
}

impl Default for IndexConfig {
    /// The configuration of `config/index.toml`.
    fn default() -> Self {
        use Dimension::{Dignity, Livelihood, Lives};
        use Transform::{Log1p, None as Raw};
        let events = |d| Measure::Events(Scope::Dimension(d));
        let fatalities = |d| Measure::Fatalities(Scope::Dimension(d));
        let measured = |c: &str| Measure::Indicator(c.to_string());
        Self {
            population_indicator: default_population(),
            min_dimensions: 1,
            reference: ReferenceConfig::default(),
            dimensions: DimensionWeights::default(),
            indicators: vec![
                indicator(
                    "lives_events",
                    "Events threatening lives",
                    Lives,
                    events(Lives),
                    Log1p,
                ),
                indicator(
                    "lives_fatalities",
                    "People killed",
                    Lives,
                    fatalities(Lives),
                    Log1p,
                ),
                IndicatorConfig {
                    per_100k: true,
                    ..indicator(
                        "lives_fatalities_per_100k",
                        "People killed per 100,000 inhabitants",
                        Lives,
                        fatalities(Lives),
                        Log1p,
                    )
                },
                indicator(
                    "civilian_targeting",
                    "Share of events targeting civilians",
                    Lives,
                    Measure::CivilianShare,
                    Raw,
                ),
                indicator(
                    "displaced",
                    "People displaced",
                    Lives,
                    Measure::Displaced,
                    Log1p,
                ),
                indicator(
                    "livelihood_events",
                    "Events threatening livelihoods",
                    Livelihood,
                    events(Livelihood),
                    Log1p,
                ),
                indicator(
                    "food_insecure_share",
                    "Share of people in food crisis or worse (measured)",
                    Livelihood,
                    measured("food_insecure_share"),
                    Raw,
                ),
                IndicatorConfig {
                    higher_is_better: true,
                    ..indicator(
                        "schools_open_share",
                        "Share of schools open (measured)",
                        Livelihood,
                        measured("schools_open_share"),
                        Raw,
                    )
                },
                indicator(
                    "dignity_events",
                    "Violations of dignity and rights",
                    Dignity,
                    events(Dignity),
                    Log1p,
                ),
                indicator(
                    "dignity_fatalities",
                    "People killed in violations of rights",
                    Dignity,
                    fatalities(Dignity),
                    Log1p,
                ),
            ],
        }
    }
}

fn check_weight(what: &str, w: f64) -> Result<(), ConfigError> {
    if w.is_finite() && w >= 0.0 {
        Ok(())
    } else {
        Err(ConfigError(format!(
            "{what}: weight must be a number ≥ 0, not {w}"
        )))
    }
}

impl IndexConfig {
    /// Checks codes (present, `[a-z0-9_]`, unique), weights (finite, ≥ 0; at least one
    /// indicator and one dimension weighing something), `min_dimensions` (1–3), the
    /// quantile (0 < q ≤ 1), the reference window (same granularity, `from` ≤ `to`) and
    /// that `per_100k` indicators have a population indicator.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=3).contains(&self.min_dimensions) {
            return Err(ConfigError(format!(
                "min_dimensions must be 1, 2 or 3, not {}",
                self.min_dimensions
            )));
        }
        let q = self.reference.upper_quantile;
        if !(q > 0.0 && q <= 1.0) {
            return Err(ConfigError(format!(
                "reference.upper_quantile must be in (0, 1], not {q}"
            )));
        }
        if let (Some(a), Some(b)) = (self.reference.from, self.reference.to) {
            if a.granularity() != b.granularity() || b < a {
                return Err(ConfigError(format!(
                    "reference window {a}..{b} must run forward in one granularity"
                )));
            }
        }
        for d in Dimension::ALL {
            check_weight(&format!("dimension {d}"), self.dimensions.of(d))?;
        }
        if Dimension::ALL.iter().all(|&d| self.dimensions.of(d) == 0.0) {
            return Err(ConfigError("every dimension weighs 0".into()));
        }
        if self.indicators.is_empty() {
            return Err(ConfigError("no [[indicator]]".into()));
        }
        let mut seen = HashSet::new();
        for i in &self.indicators {
            let valid_code = !i.code.is_empty()
                && i.code
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !valid_code {
                return Err(ConfigError(format!(
                    "indicator code '{}' must use lowercase letters, digits and _",
                    i.code
                )));
            }
            if !seen.insert(i.code.as_str()) {
                return Err(ConfigError(format!(
                    "indicator code '{}' appears twice",
                    i.code
                )));
            }
            check_weight(&format!("indicator {}", i.code), i.weight)?;
            if i.per_100k && self.population_indicator.trim().is_empty() {
                return Err(ConfigError(format!(
                    "indicator {} is per_100k but population_indicator is empty",
                    i.code
                )));
            }
        }
        let weighs = |d: Dimension| {
            self.dimensions.of(d) > 0.0
                && self
                    .indicators
                    .iter()
                    .any(|i| i.dimension == d && i.weight > 0.0)
        };
        if !Dimension::ALL.into_iter().any(weighs) {
            return Err(ConfigError(
                "no dimension with a weight has an indicator with a weight".into(),
            ));
        }
        Ok(())
    }
}
