//! The human-security index: a value from 0 to 10 per unit and period, higher meaning
//! worse, built in the manner of the INFORM Risk Index.
//!
//! 1. Each indicator's panel value is divided by the population and multiplied by 100,000
//!    when the indicator is `per_100k`, then transformed (`log1p` or none).
//! 2. It is min–max scaled to 0–10 against the values of all units *of the same level* in
//!    the reference window (the maximum optionally a quantile), clamped to 0–10, and turned
//!    around (`10 − s`) when a higher value is safer.
//! 3. Within each dimension the scaled values are averaged, weighted, over the indicators
//!    that have a value.
//! 4. Across dimensions the scores are combined by a weighted geometric mean of
//!    `score + 1`, minus 1: `I = exp(Σ W_d ln(1 + D_d) / Σ W_d) − 1`, which stays in 0–10,
//!    is 0 only when every included dimension is 0, and lets a low dimension pull the index
//!    down less than a product would.
//!
//! Missing data: an indicator is missing for a cell when its measure is not in the panel,
//! has no value (a share without events, a measured indicator without an observation),
//! needs a population that is unknown, is negative under `log1p`, has weight 0, or had no
//! variation at that level in the reference window (it cannot rank anything). A dimension
//! with no indicator left is left out of the geometric mean and [`IndexValue`] says so; a
//! cell with fewer than `min_dimensions` dimension scores gets no value, never 0.
//!
//! [`HumanSecurityIndex::explain`] lists every input with its raw value, transform, scale,
//! weight and contribution; contributions add up to the index value (see
//! [`Explanation`]).

pub mod config;

pub use config::{
    ConfigError, DimensionWeights, IndexConfig, IndicatorConfig, ReferenceConfig, Transform,
    DEFAULT_INDEX_CONFIG,
};

use crate::panel::{Column, Level, Measure, Panel, Unit, UnitInfo};
use crate::period::{Period, PeriodRange};
use std::collections::HashMap;
use std::ops::Range;
use usalama_domain::Dimension;

/// The top of the scale.
pub const SCALE_MAX: f64 = 10.0;

/// Why the index cannot be computed or explained.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IndexError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The reference window does not fit the panel.
    #[error("reference window: {0}")]
    Reference(String),
    /// `explain` was given another panel than the one the index was computed from.
    #[error("the panel is not the one this index was computed from")]
    PanelMismatch,
    /// The unit is not in the panel.
    #[error("{0} is not in the panel")]
    UnknownUnit(Unit),
    /// The period is not in the panel's range.
    #[error("{0} is not in the panel's range {1}")]
    UnknownPeriod(Period, PeriodRange),
}

/// The scale of one indicator at one level: transformed values from `min` to `max` map to
/// 0–10.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scaling {
    /// The smallest transformed value in the reference window.
    pub min: f64,
    /// The largest (or the configured upper quantile).
    pub max: f64,
    /// How many unit-periods had a value in the reference window.
    pub values: usize,
}

impl Scaling {
    /// Scales `x` to 0–10 (clamped).
    pub fn scale(&self, x: f64) -> f64 {
        (SCALE_MAX * (x - self.min) / (self.max - self.min)).clamp(0.0, SCALE_MAX)
    }
}

/// Why an indicator did not enter a cell's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Missing {
    /// The panel has no such category or measured indicator.
    NotInPanel,
    /// No value in this cell (a share without events, no observation).
    NoValue,
    /// `per_100k` and the population is unknown or not positive.
    NoPopulation,
    /// A negative value cannot take `log1p`.
    NegativeForLog,
    /// No variation at this level in the reference window: it cannot rank anything.
    NotInformative,
    /// The configuration gives it weight 0.
    ZeroWeight,
}

impl Missing {
    /// The reason in plain words.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::NotInPanel => "no data for this measure",
            Self::NoValue => "no value in this period",
            Self::NoPopulation => "population unknown",
            Self::NegativeForLog => "negative value under log1p",
            Self::NotInformative => "no variation in the reference window at this level",
            Self::ZeroWeight => "weight 0",
        }
    }
}

/// The index of one cell with its dimension scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IndexValue {
    /// The index, 0–10.
    pub value: f64,
    /// The dimension scores in [`Dimension::ALL`] order; `None` for a dimension left out.
    pub scores: [Option<f64>; 3],
    /// Which scores entered the geometric mean (a score of a dimension weighing 0 does not).
    pub included: [bool; 3],
}

impl IndexValue {
    /// The score of dimension `d`.
    pub fn score(&self, d: Dimension) -> Option<f64> {
        self.scores[dim_pos(d)]
    }

    /// The dimensions left out of the geometric mean.
    pub fn missing_dimensions(&self) -> Vec<Dimension> {
        Dimension::ALL
            .into_iter()
            .zip(self.included)
            .filter(|(_, inc)| !inc)
            .map(|(d, _)| d)
            .collect()
    }
}

fn dim_pos(d: Dimension) -> usize {
    match d {
        Dimension::Lives => 0,
        Dimension::Livelihood => 1,
        Dimension::Dignity => 2,
    }
}

/// One indicator evaluated in one cell.
#[derive(Debug, Clone, Copy, Default)]
struct Input {
    raw: Option<f64>,
    population: Option<f64>,
    transformed: Option<f64>,
    scaled: Option<f64>,
    missing: Option<Missing>,
}

/// One cell's aggregation, before contributions.
#[derive(Debug, Clone, Copy)]
struct Cell {
    /// Weighted sum of scaled values per dimension.
    num: [f64; 3],
    /// Sum of weights of available indicators per dimension.
    den: [f64; 3],
    scores: [Option<f64>; 3],
    included: [bool; 3],
    /// Σ W_d ln(1 + D_d) / Σ W_d over included dimensions.
    log_mean: f64,
    value: Option<f64>,
}

/// The index computed for every unit and period of a panel.
#[derive(Debug, Clone)]
pub struct HumanSecurityIndex {
    config: IndexConfig,
    range: PeriodRange,
    units: Vec<UnitInfo>,
    unit_index: HashMap<Unit, usize>,
    reference: Range<usize>,
    columns: Vec<Column>,
    population: Column,
    /// Per indicator, per level (in `Level::ALL` order).
    scaling: Vec<[Option<Scaling>; 5]>,
    /// Per cell; NaN where there is no value.
    values: Vec<f64>,
    /// Per cell, three dimension scores; NaN where a dimension has none.
    scores: Vec<f64>,
    /// Per cell, a bit per included dimension.
    included: Vec<u8>,
}

impl HumanSecurityIndex {
    /// Validates `config` and computes the index for every unit and period of `panel`.
    pub fn compute(panel: &Panel, config: &IndexConfig) -> Result<Self, IndexError> {
        config.validate()?;
        let range = panel.range();
        let reference = reference_positions(range, config)?;
        let columns: Vec<Column> = config
            .indicators
            .iter()
            .map(|i| panel.column(&i.measure))
            .collect();
        let population = panel.column(&Measure::Indicator(config.population_indicator.clone()));
        let mut index = Self {
            config: config.clone(),
            range,
            units: panel.units().to_vec(),
            unit_index: panel
                .units()
                .iter()
                .enumerate()
                .map(|(i, u)| (u.unit, i))
                .collect(),
            reference,
            columns,
            population,
            scaling: Vec::new(),
            values: Vec::new(),
            scores: Vec::new(),
            included: Vec::new(),
        };
        index.scaling = (0..config.indicators.len())
            .map(|i| Level::ALL.map(|level| index.scaling_of(panel, i, level)))
            .collect();

        let periods = panel.periods();
        let cells = index.units.len() * periods;
        let mut values = vec![f64::NAN; cells];
        let mut scores = vec![f64::NAN; cells * 3];
        let mut included = vec![0u8; cells];
        let mut inputs = Vec::with_capacity(config.indicators.len());
        for u in 0..index.units.len() {
            for t in 0..periods {
                let cell = index.evaluate(panel, u, t, &mut inputs);
                let k = u * periods + t;
                values[k] = cell.value.unwrap_or(f64::NAN);
                for d in 0..3 {
                    scores[k * 3 + d] = cell.scores[d].unwrap_or(f64::NAN);
                    if cell.included[d] {
                        included[k] |= 1 << d;
                    }
                }
            }
        }
        index.values = values;
        index.scores = scores;
        index.included = included;
        Ok(index)
    }

    /// The transformed value of indicator `i` for unit `u` in period `t`, before scaling.
    fn transformed(&self, panel: &Panel, i: usize, u: usize, t: usize) -> Input {
        let spec = &self.config.indicators[i];
        let mut input = Input::default();
        let column = &self.columns[i];
        if column.is_absent() {
            input.missing = Some(Missing::NotInPanel);
            return input;
        }
        let Some(raw) = panel.value(column, u, t) else {
            input.missing = Some(Missing::NoValue);
            return input;
        };
        input.raw = Some(raw);
        let mut x = raw;
        if spec.per_100k {
            match panel.value(&self.population, u, t).filter(|p| *p > 0.0) {
                Some(p) => {
                    input.population = Some(p);
                    x = raw / p * 100_000.0;
                }
                None => {
                    input.missing = Some(Missing::NoPopulation);
                    return input;
                }
            }
        }
        match spec.transform.apply(x) {
            Some(v) => input.transformed = Some(v),
            None => input.missing = Some(Missing::NegativeForLog),
        }
        input
    }

    /// The scale of indicator `i` at `level` from the reference window.
    fn scaling_of(&self, panel: &Panel, i: usize, level: Level) -> Option<Scaling> {
        let q = self.config.reference.upper_quantile;
        let mut min = f64::INFINITY;
        let mut max = f64::NEG_INFINITY;
        let mut n = 0usize;
        let mut all = Vec::new();
        for u in panel.units_of(level) {
            for t in self.reference.clone() {
                if let Some(x) = self.transformed(panel, i, u, t).transformed {
                    min = min.min(x);
                    max = max.max(x);
                    n += 1;
                    if q < 1.0 {
                        all.push(x);
                    }
                }
            }
        }
        if q < 1.0 && !all.is_empty() {
            all.sort_by(f64::total_cmp);
            // Nearest rank: the smallest value with at least q of the values at or below.
            let rank = ((q * all.len() as f64).ceil() as usize).clamp(1, all.len());
            max = all[rank - 1];
        }
        let span = max - min;
        (n > 0 && span.is_finite() && span > 1e-12 * max.abs().max(1.0)).then_some(Scaling {
            min,
            max,
            values: n,
        })
    }

    /// Evaluates every indicator of one cell into `inputs` and aggregates them. The one
    /// code path for [`compute`](Self::compute) and [`explain`](Self::explain).
    fn evaluate(&self, panel: &Panel, u: usize, t: usize, inputs: &mut Vec<Input>) -> Cell {
        inputs.clear();
        let level = self.units[u].level.position();
        let mut num = [0.0; 3];
        let mut den = [0.0; 3];
        for (i, spec) in self.config.indicators.iter().enumerate() {
            let mut input = self.transformed(panel, i, u, t);
            if let Some(x) = input.transformed {
                match self.scaling[i][level] {
                    Some(s) => {
                        let scaled = s.scale(x);
                        input.scaled = Some(if spec.higher_is_better {
                            SCALE_MAX - scaled
                        } else {
                            scaled
                        });
                    }
                    None => input.missing = Some(Missing::NotInformative),
                }
            }
            if input.missing.is_none() && spec.weight == 0.0 {
                input.missing = Some(Missing::ZeroWeight);
            }
            if let (None, Some(s)) = (input.missing, input.scaled) {
                let d = dim_pos(spec.dimension);
                num[d] += spec.weight * s;
                den[d] += spec.weight;
            }
            inputs.push(input);
        }
        let mut scores = [None; 3];
        let mut included = [false; 3];
        let mut log_sum = 0.0;
        let mut weight_sum = 0.0;
        let mut n = 0;
        for (d, dim) in Dimension::ALL.into_iter().enumerate() {
            if den[d] > 0.0 {
                let score = num[d] / den[d];
                scores[d] = Some(score);
                let w = self.config.dimensions.of(dim);
                if w > 0.0 {
                    included[d] = true;
                    log_sum += w * score.ln_1p();
                    weight_sum += w;
                    n += 1;
                }
            }
        }
        let log_mean = if weight_sum > 0.0 {
            log_sum / weight_sum
        } else {
            0.0
        };
        let value = (n > 0 && n >= self.config.min_dimensions)
            .then(|| log_mean.exp_m1().clamp(0.0, SCALE_MAX));
        Cell {
            num,
            den,
            scores,
            included,
            log_mean,
            value,
        }
    }

    /// The configuration the index was computed with.
    pub fn config(&self) -> &IndexConfig {
        &self.config
    }

    /// The period range.
    pub fn range(&self) -> PeriodRange {
        self.range
    }

    /// The units, in the panel's order.
    pub fn units(&self) -> &[UnitInfo] {
        &self.units
    }

    /// The reference window as positions in the range.
    pub fn reference(&self) -> Range<usize> {
        self.reference.clone()
    }

    /// The scale of indicator `code` at `level`; `None` when the indicator is unknown or
    /// had no variation there.
    pub fn scaling(&self, code: &str, level: Level) -> Option<Scaling> {
        let i = self.config.indicators.iter().position(|c| c.code == code)?;
        self.scaling[i][level.position()]
    }

    /// The index of unit `u` in period `t`, if it has one.
    pub fn value(&self, u: usize, t: usize) -> Option<f64> {
        if t >= self.range.len() {
            return None;
        }
        let k = u.checked_mul(self.range.len())?.checked_add(t)?;
        self.values.get(k).copied().filter(|v| !v.is_nan())
    }

    /// The index of unit `u` in period `t` with its dimension scores, if it has a value.
    pub fn at(&self, u: usize, t: usize) -> Option<IndexValue> {
        let value = self.value(u, t)?;
        let k = u * self.range.len() + t;
        let mut scores = [None; 3];
        let mut included = [false; 3];
        for d in 0..3 {
            scores[d] = self.scores.get(k * 3 + d).copied().filter(|v| !v.is_nan());
            included[d] = self.included.get(k).is_some_and(|b| b & (1 << d) != 0);
        }
        Some(IndexValue {
            value,
            scores,
            included,
        })
    }

    /// The index of `unit` in `period`, by name rather than position.
    pub fn get(&self, unit: &Unit, period: Period) -> Option<IndexValue> {
        let u = *self.unit_index.get(unit)?;
        let t = self.range.index_of(period)?;
        self.at(u, t)
    }

    /// Every input of the index of `unit` in `period`: raw value, population, transform,
    /// transformed value, reference scale, scaled value, weights and contribution. `panel`
    /// must be the panel the index was computed from.
    pub fn explain(
        &self,
        panel: &Panel,
        unit: &Unit,
        period: Period,
    ) -> Result<Explanation, IndexError> {
        if panel.range() != self.range || panel.units() != self.units.as_slice() {
            return Err(IndexError::PanelMismatch);
        }
        let u = panel
            .unit_index(unit)
            .ok_or(IndexError::UnknownUnit(*unit))?;
        let t = self
            .range
            .index_of(period)
            .ok_or(IndexError::UnknownPeriod(period, self.range))?;
        let level = self.units[u].level;
        let mut inputs = Vec::with_capacity(self.config.indicators.len());
        let cell = self.evaluate(panel, u, t, &mut inputs);
        let value = cell.value;

        // Dimension contributions: the index is additive in log space,
        // ln(1 + I) = Σ_d (W_d / ΣW) ln(1 + D_d), so each dimension gets the share of I that
        // its term is of the sum. Within a dimension, the score is a weighted mean, so each
        // indicator gets the share of the dimension's contribution that w_i s_i is of Σ w s.
        let weight_sum: f64 = Dimension::ALL
            .into_iter()
            .enumerate()
            .filter(|(d, _)| cell.included[*d])
            .map(|(_, dim)| self.config.dimensions.of(dim))
            .sum();
        let mut dimensions = Vec::with_capacity(3);
        let mut dim_contribution = [0.0; 3];
        for (d, dim) in Dimension::ALL.into_iter().enumerate() {
            let weight = self.config.dimensions.of(dim);
            let contribution = match (value, cell.scores[d]) {
                (Some(v), Some(s)) if cell.included[d] && cell.log_mean > 0.0 => {
                    v * (weight / weight_sum) * s.ln_1p() / cell.log_mean
                }
                _ => 0.0,
            };
            dim_contribution[d] = contribution;
            dimensions.push(DimensionPart {
                dimension: dim,
                weight,
                weight_share: if cell.included[d] {
                    weight / weight_sum
                } else {
                    0.0
                },
                score: cell.scores[d],
                included: cell.included[d],
                contribution,
            });
        }
        let parts = self
            .config
            .indicators
            .iter()
            .zip(&inputs)
            .enumerate()
            .map(|(i, (spec, input))| {
                let d = dim_pos(spec.dimension);
                let used = input.missing.is_none() && input.scaled.is_some();
                let scaled = input.scaled.unwrap_or(0.0);
                let contribution = if used && cell.num[d] > 0.0 {
                    dim_contribution[d] * spec.weight * scaled / cell.num[d]
                } else {
                    0.0
                };
                let scaling = self.scaling[i][level.position()];
                InputPart {
                    code: spec.code.clone(),
                    label: spec.label.clone(),
                    dimension: spec.dimension,
                    measure: spec.measure.clone(),
                    raw: input.raw,
                    per_100k: spec.per_100k,
                    population: input.population,
                    transform: spec.transform,
                    transformed: input.transformed,
                    reference_min: scaling.map(|s| s.min),
                    reference_max: scaling.map(|s| s.max),
                    higher_is_better: spec.higher_is_better,
                    scaled: input.scaled,
                    weight: spec.weight,
                    weight_share: if used && cell.den[d] > 0.0 {
                        spec.weight / cell.den[d]
                    } else {
                        0.0
                    },
                    used,
                    missing: input.missing,
                    contribution,
                }
            })
            .collect();
        Ok(Explanation {
            unit: *unit,
            level,
            period,
            value,
            reference: (
                self.range.get(self.reference.start),
                self.range.get(self.reference.end.saturating_sub(1)),
            ),
            min_dimensions: self.config.min_dimensions,
            dimensions,
            inputs: parts,
        })
    }
}

/// The reference window as positions in `range`.
pub(crate) fn reference_positions(
    range: PeriodRange,
    config: &IndexConfig,
) -> Result<Range<usize>, IndexError> {
    let first = range.first().ordinal();
    let position = |p: Option<Period>, default: i64| -> Result<i64, IndexError> {
        match p {
            None => Ok(default),
            Some(p) if p.granularity() != range.granularity() => Err(IndexError::Reference(
                format!("{p} is not a {} like the panel", range.granularity()),
            )),
            Some(p) => Ok(p.ordinal() - first),
        }
    };
    let last = range.len() as i64 - 1;
    let from = position(config.reference.from, 0)?.max(0);
    let to = position(config.reference.to, last)?.min(last);
    if from > to {
        return Err(IndexError::Reference(format!(
            "it does not overlap the panel's range {range}"
        )));
    }
    Ok(from as usize..to as usize + 1)
}

/// How one dimension entered the index.
#[derive(Debug, Clone, PartialEq)]
pub struct DimensionPart {
    /// The dimension.
    pub dimension: Dimension,
    /// Its configured weight.
    pub weight: f64,
    /// Its weight divided by the weights of the included dimensions (0 if left out).
    pub weight_share: f64,
    /// Its score 0–10 (weighted mean of its indicators), if any indicator had a value.
    pub score: Option<f64>,
    /// Whether it entered the geometric mean.
    pub included: bool,
    /// Index points attributed to it; the dimensions' contributions add up to the value.
    pub contribution: f64,
}

/// How one indicator entered the index.
#[derive(Debug, Clone, PartialEq)]
pub struct InputPart {
    /// Indicator code.
    pub code: String,
    /// Indicator label.
    pub label: String,
    /// Its dimension.
    pub dimension: Dimension,
    /// Its measure in the panel.
    pub measure: Measure,
    /// The panel's value.
    pub raw: Option<f64>,
    /// Whether it is taken per 100,000 inhabitants.
    pub per_100k: bool,
    /// The population used, for `per_100k` indicators.
    pub population: Option<f64>,
    /// The transform.
    pub transform: Transform,
    /// The value after the per-100,000 division and the transform.
    pub transformed: Option<f64>,
    /// The reference minimum at this level.
    pub reference_min: Option<f64>,
    /// The reference maximum at this level.
    pub reference_max: Option<f64>,
    /// Whether the scale is turned around.
    pub higher_is_better: bool,
    /// The scaled value 0–10.
    pub scaled: Option<f64>,
    /// The configured weight within the dimension.
    pub weight: f64,
    /// Its weight divided by the weights of the dimension's indicators that had a value.
    pub weight_share: f64,
    /// Whether it entered its dimension's score.
    pub used: bool,
    /// Why it did not, if it did not.
    pub missing: Option<Missing>,
    /// Index points attributed to it; all inputs' contributions add up to the value.
    pub contribution: f64,
}

/// Everything that made one index value.
///
/// Contributions: the index is additive in log space, `ln(1 + I) = Σ_d ω_d ln(1 + D_d)`
/// with `ω_d = W_d / Σ W`, so dimension `d` is attributed `I · ω_d ln(1 + D_d) / ln(1 + I)`
/// index points; within the dimension, whose score is the weighted mean
/// `D_d = Σ w_i s_i / Σ w_i`, indicator `i` is attributed the share `w_i s_i / Σ w_j s_j`
/// of the dimension's points. Both shares add up to 1, so the contributions add up to `I`.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// The unit.
    pub unit: Unit,
    /// Its level (the scale is per level).
    pub level: Level,
    /// The period.
    pub period: Period,
    /// The index value, if the cell has one.
    pub value: Option<f64>,
    /// The first and last periods of the reference window.
    pub reference: (Option<Period>, Option<Period>),
    /// The configured minimum number of dimensions.
    pub min_dimensions: usize,
    /// The three dimensions in [`Dimension::ALL`] order.
    pub dimensions: Vec<DimensionPart>,
    /// Every configured indicator, in configuration order.
    pub inputs: Vec<InputPart>,
}

impl Explanation {
    /// The dimensions left out of the geometric mean.
    pub fn missing_dimensions(&self) -> Vec<Dimension> {
        self.dimensions
            .iter()
            .filter(|d| !d.included)
            .map(|d| d.dimension)
            .collect()
    }

    /// The sum of the inputs' contributions (equal to the value, up to rounding).
    pub fn total_contribution(&self) -> f64 {
        self.inputs.iter().map(|i| i.contribution).sum()
    }
}

#[cfg(test)]
mod tests;
