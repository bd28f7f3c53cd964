//! Escalations defined on a unit's monthly fatalities, and how well the detectors find
//! them.
//!
//! A month `t` **escalates** when its fatalities reach `max(min_fatalities, ratio × mean
//! of the previous baseline months)`. An **escalation** (an episode) starts at an
//! escalating month with no escalating month in the `calm` months before it. A detector
//! **detects** it when it signals in one of months `t … t + window`; the **delay** is the
//! months from `t` to that first signal. A signal in a month that does not escalate and
//! is not within `t … t + window` of an escalation is a **false alarm**; the false-alarm
//! rate is false alarms per such in-control month.

// Matrix and series code reads as the formulas it implements: indices, not iterators.
#![allow(clippy::needless_range_loop)]

use super::metrics::median;
use super::{ForecastData, ForecastError};
use crate::detect::{CusumConfig, Farrington, NbCusum};
use crate::period::Granularity;
use serde::Serialize;

/// What counts as an escalation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EscalationDefinition {
    /// Fatalities a month needs at least.
    pub min_fatalities: u32,
    /// And at least this multiple of the baseline mean.
    pub ratio: f64,
    /// Months of the baseline mean (the months just before).
    pub baseline: usize,
    /// Months without escalation an escalation must follow.
    pub calm: usize,
    /// Months after the start in which a signal detects it (0: the month itself only).
    pub window: usize,
}

impl Default for EscalationDefinition {
    /// At least 10 deaths and 3 times the previous 12 months' mean, after 6 calm months,
    /// detected in the month itself or the 2 following.
    fn default() -> Self {
        Self {
            min_fatalities: 10,
            ratio: 3.0,
            baseline: 12,
            calm: 6,
            window: 2,
        }
    }
}

impl EscalationDefinition {
    /// Whether month `t` of `series` escalates.
    pub fn escalates(&self, series: &[u64], t: usize) -> bool {
        if t < self.baseline || t >= series.len() {
            return false;
        }
        let mean = series[t - self.baseline..t].iter().sum::<u64>() as f64 / self.baseline as f64;
        let x = series[t] as f64;
        x >= f64::from(self.min_fatalities) && x >= self.ratio * mean
    }

    /// The months of `series` where an escalation starts.
    pub fn starts(&self, series: &[u64]) -> Vec<usize> {
        let esc: Vec<bool> = (0..series.len())
            .map(|t| self.escalates(series, t))
            .collect();
        (0..series.len())
            .filter(|&t| esc[t] && (t.saturating_sub(self.calm)..t).all(|s| !esc[s]))
            .collect()
    }
}

/// How one detector did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DetectorScores {
    /// Escalations with a signal within the window.
    pub detected: usize,
    /// `detected / escalations`.
    pub detection_rate: Option<f64>,
    /// Median months from an escalation's start to its first signal, over detected ones.
    pub median_delay: Option<f64>,
    /// Signals in all months judged.
    pub signals: usize,
    /// Signals in in-control months.
    pub false_alarms: usize,
    /// In-control months judged (no escalating month, not in a detection window).
    pub in_control_months: usize,
    /// `false_alarms / in_control_months`.
    pub false_alarm_rate: Option<f64>,
}

/// The evaluation of both detectors.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EscalationReport {
    /// The definition used.
    pub definition: EscalationDefinition,
    /// The series evaluated: the fatalities of each unit.
    pub series: String,
    /// Units evaluated.
    pub units: usize,
    /// Escalations starting in the months evaluated.
    pub escalations: usize,
    /// The negative-binomial CUSUM with its default settings (ARL₀ 100, a doubling).
    pub nb_cusum: DetectorScores,
    /// Farrington with its monthly defaults (α = 0.01).
    pub farrington: DetectorScores,
}

#[derive(Default)]
struct Tally {
    detected: usize,
    delays: Vec<f64>,
    signals: usize,
    false_alarms: usize,
    in_control: usize,
}

impl Tally {
    fn scores(&self, escalations: usize) -> DetectorScores {
        let rate = |a: usize, b: usize| (b > 0).then(|| a as f64 / b as f64);
        DetectorScores {
            detected: self.detected,
            detection_rate: rate(self.detected, escalations),
            median_delay: median(&self.delays),
            signals: self.signals,
            false_alarms: self.false_alarms,
            in_control_months: self.in_control,
            false_alarm_rate: rate(self.false_alarms, self.in_control),
        }
    }
}

/// Evaluates both detectors on the fatality series of every unit, over the months
/// `from..=to` (positions in the data; for grid-like data, from each unit's first event).
/// The detectors see each series up to `to` and judge each month from the months before.
pub fn evaluate_detectors(
    data: &ForecastData,
    from: usize,
    to: usize,
    definition: &EscalationDefinition,
) -> Result<EscalationReport, ForecastError> {
    if to >= data.months.len() || from > to {
        return Err(ForecastError::invalid("from", "months outside the data"));
    }
    if definition.baseline == 0 || !(definition.ratio.is_finite() && definition.ratio > 0.0) {
        return Err(ForecastError::invalid(
            "escalation",
            "a baseline of at least 1 month and a positive ratio",
        ));
    }
    let mut cusum = NbCusum::new(CusumConfig::default())
        .map_err(|e| ForecastError::invalid("nb_cusum", e.to_string()))?;
    let farrington = Farrington::for_granularity(Granularity::Month);
    let mut escalations = 0;
    let mut tallies = [Tally::default(), Tally::default()];
    for u in 0..data.units.len() {
        let series: Vec<u64> = (0..=to)
            .map(|t| u64::from(data.fatalities(u, t as i64)))
            .collect();
        let judged = |t: usize| t >= from && data.is_active(u, t + 1);
        let starts: Vec<usize> = definition
            .starts(&series)
            .into_iter()
            .filter(|&t| judged(t))
            .collect();
        escalations += starts.len();
        let mut covered = vec![false; series.len()];
        for &s in &starts {
            for c in covered.iter_mut().skip(s).take(definition.window + 1) {
                *c = true;
            }
        }
        for t in 0..series.len() {
            if definition.escalates(&series, t) {
                covered[t] = true;
            }
        }
        let assessments = [cusum.assess(&series), farrington.assess(&series)];
        for (tally, assessed) in tallies.iter_mut().zip(&assessments) {
            let mut signal = vec![false; series.len()];
            for a in assessed {
                if a.signal && a.index < signal.len() {
                    signal[a.index] = true;
                }
            }
            for a in assessed.iter().filter(|a| judged(a.index)) {
                if a.signal {
                    tally.signals += 1;
                }
                if !covered[a.index] {
                    tally.in_control += 1;
                    if a.signal {
                        tally.false_alarms += 1;
                    }
                }
            }
            for &s in &starts {
                let end = (s + definition.window).min(series.len() - 1);
                if let Some(first) = (s..=end).find(|&t| signal[t]) {
                    tally.detected += 1;
                    tally.delays.push((first - s) as f64);
                }
            }
        }
    }
    Ok(EscalationReport {
        definition: *definition,
        series: "fatalities".into(),
        units: data.units.len(),
        escalations,
        nb_cusum: tallies[0].scores(escalations),
        farrington: tallies[1].scores(escalations),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escalations_start_after_calm_months() {
        let d = EscalationDefinition {
            min_fatalities: 10,
            ratio: 3.0,
            baseline: 3,
            calm: 2,
            window: 1,
        };
        //            0  1  2  3   4   5  6  7  8   9
        let s = [1, 1, 1, 12, 20, 0, 0, 0, 10, 3];
        // Month 3: 12 ≥ max(10, 3 × 1). Month 4: mean(1,1,12) = 4.67 → needs 14: yes (20).
        // Month 8: mean(0,0,0) = 0 → 10 ≥ 10: yes.
        assert!(d.escalates(&s, 3));
        assert!(d.escalates(&s, 4));
        assert!(!d.escalates(&s, 5));
        assert!(d.escalates(&s, 8));
        assert!(!d.escalates(&s, 2), "no full baseline before month 3");
        // Month 4 continues the escalation of month 3; month 8 follows 3 calm months.
        assert_eq!(d.starts(&s), vec![3, 8]);
    }
}
