//! The features of one unit at one forecast origin. The origin `o` is the position of the
//! first month that is not known: every feature reads months `< o` only, and a forecast
//! for horizon `h` is for month `o + h − 1`. Months before the series count as zero.
//!
//! | feature | value |
//! | --- | --- |
//! | `own_lag1`, `own_lag2`, `own_lag3` | `ln(1 + fatalities)` 1, 2 and 3 months before the origin |
//! | `own_mean12`, `own_mean36` | mean of `ln(1 + fatalities)` over the last 12 and 36 months |
//! | `own_fatal_share12` | share of the last 12 months with at least one death |
//! | `own_events_lag1`, `own_events_mean12` | `ln(1 + events)` last month and its 12-month mean |
//! | `nbr_lag1`, `nbr_mean3`, `nbr_mean12` | mean over the neighbours of `ln(1 + fatalities)` last month and over 3 and 12 months |
//! | `nbr_fatal_share12` | mean over the neighbours of their share of fatal months in the last 12 |
//! | `since_fatal` | `ln(1 + months since the last fatal month)`, at most `ln(1 + 120)` |
//! | `never_fatal` | 1 when no fatal month is known before the origin |
//! | `level_lag1`, `level_mean12` | mean over all units of the level of `ln(1 + fatalities)` last month and over 12 months |
//! | `mix_CATEGORY` | share of the unit's events of the last 12 months in each category (0 without events) |
//! | `season_sin`, `season_cos` | the month of year of the target month on the unit circle |

use super::ForecastData;

/// Months since the last fatal month are capped here (10 years).
pub const MAX_GAP: usize = 120;

/// Features before the event-type mix and the season.
const FIXED: [&str; 17] = [
    "own_lag1",
    "own_lag2",
    "own_lag3",
    "own_mean12",
    "own_mean36",
    "own_fatal_share12",
    "own_events_lag1",
    "own_events_mean12",
    "nbr_lag1",
    "nbr_mean3",
    "nbr_mean12",
    "nbr_fatal_share12",
    "since_fatal",
    "never_fatal",
    "level_lag1",
    "level_mean12",
    "season_sin",
];

/// The names of the features, in the order of [`row`].
pub fn names(data: &ForecastData) -> Vec<String> {
    let mut out: Vec<String> = FIXED[..16].iter().map(|s| s.to_string()).collect();
    out.extend(data.categories.iter().map(|c| format!("mix_{c}")));
    out.push(FIXED[16].to_string());
    out.push("season_cos".to_string());
    out
}

fn log1p(v: u32) -> f64 {
    f64::from(v).ln_1p()
}

/// Mean of `ln(1 + fatalities)` of unit `u` over the `w` months before `o`.
pub fn mean_log1p(data: &ForecastData, u: usize, o: usize, w: usize) -> f64 {
    let o = o as i64;
    (1..=w as i64)
        .map(|k| log1p(data.fatalities(u, o - k)))
        .sum::<f64>()
        / w as f64
}

/// Share of the `w` months before `o` in which unit `u` had at least one death.
pub fn fatal_share(data: &ForecastData, u: usize, o: usize, w: usize) -> f64 {
    let o = o as i64;
    (1..=w as i64)
        .filter(|&k| data.fatalities(u, o - k) > 0)
        .count() as f64
        / w as f64
}

/// Months from the last fatal month before `o` to `o − 1` (0 when the month before the
/// origin was fatal); `None` when no month before `o` was fatal.
pub fn months_since_fatal(data: &ForecastData, u: usize, o: usize) -> Option<usize> {
    (1..=o)
        .find(|&k| data.fatalities(u, o as i64 - k as i64) > 0)
        .map(|k| k - 1)
}

/// The features of unit `u` at origin `o` for horizon `h`, in the order of [`names`].
pub fn row(data: &ForecastData, u: usize, o: usize, h: usize) -> Vec<f64> {
    let mut out = base(data, u, o);
    out.extend(season(data, o, h));
    out
}

/// The features that do not depend on the horizon (all but the season).
pub(crate) fn base(data: &ForecastData, u: usize, o: usize) -> Vec<f64> {
    let oi = o as i64;
    let mut out = Vec::with_capacity(FIXED.len() + 1 + data.categories.len());
    out.push(log1p(data.fatalities(u, oi - 1)));
    out.push(log1p(data.fatalities(u, oi - 2)));
    out.push(log1p(data.fatalities(u, oi - 3)));
    out.push(mean_log1p(data, u, o, 12));
    out.push(mean_log1p(data, u, o, 36));
    out.push(fatal_share(data, u, o, 12));
    out.push(log1p(data.events(u, oi - 1)));
    out.push((1..=12).map(|k| log1p(data.events(u, oi - k))).sum::<f64>() / 12.0);
    let nbrs = data.neighbours(u);
    let nbr_mean = |f: &dyn Fn(usize) -> f64| {
        if nbrs.is_empty() {
            0.0
        } else {
            nbrs.iter().map(|&j| f(j)).sum::<f64>() / nbrs.len() as f64
        }
    };
    out.push(nbr_mean(&|j| log1p(data.fatalities(j, oi - 1))));
    out.push(nbr_mean(&|j| mean_log1p(data, j, o, 3)));
    out.push(nbr_mean(&|j| mean_log1p(data, j, o, 12)));
    out.push(nbr_mean(&|j| fatal_share(data, j, o, 12)));
    let since = months_since_fatal(data, u, o);
    out.push((since.unwrap_or(MAX_GAP).min(MAX_GAP) as f64).ln_1p());
    out.push(if since.is_none() { 1.0 } else { 0.0 });
    let level = |t: i64| {
        usize::try_from(t)
            .ok()
            .and_then(|t| data.level_log1p.get(t))
            .copied()
            .unwrap_or(0.0)
    };
    out.push(level(oi - 1));
    out.push((1..=12).map(|k| level(oi - k)).sum::<f64>() / 12.0);
    let total: u32 = (1..=12).map(|k| data.events(u, oi - k)).sum();
    for c in 0..data.categories.len() {
        let n: u32 = (1..=12).map(|k| data.category_events(u, oi - k, c)).sum();
        out.push(if total == 0 {
            0.0
        } else {
            f64::from(n) / f64::from(total)
        });
    }
    out
}

/// The season of the target month `o + h − 1`: sine and cosine of its month of year.
pub(crate) fn season(data: &ForecastData, o: usize, h: usize) -> [f64; 2] {
    let target = data.months.first().offset((o + h) as i64 - 1);
    let m = target.map(|p| p.number()).unwrap_or(1);
    let angle = 2.0 * std::f64::consts::PI * f64::from(m - 1) / 12.0;
    [angle.sin(), angle.cos()]
}

/// Base features of every unit at every origin `1..=T`, computed once.
pub(crate) struct FeatureTable {
    units: usize,
    width: usize,
    values: Vec<f64>,
}

impl FeatureTable {
    pub(crate) fn new(data: &ForecastData) -> Self {
        let units = data.units.len();
        let t_len = data.months.len();
        let width = FIXED.len() - 1 + data.categories.len();
        let mut values = Vec::with_capacity((t_len + 1) * units * width);
        for o in 0..=t_len {
            for u in 0..units {
                if o == 0 {
                    values.extend(std::iter::repeat_n(0.0, width));
                } else {
                    values.extend(base(data, u, o));
                }
            }
        }
        Self {
            units,
            width,
            values,
        }
    }

    /// The base features of unit `u` at origin `o`.
    pub(crate) fn base(&self, u: usize, o: usize) -> &[f64] {
        let at = (o * self.units + u) * self.width;
        &self.values[at..at + self.width]
    }
}
