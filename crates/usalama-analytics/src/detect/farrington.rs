//! The Farrington seasonal baseline (Farrington et al. 1996, with the negative-binomial
//! limit and the reweighting threshold of Noufaily et al. 2013).
//!
//! To judge period `t`, the baseline is the counts of the same season in each of the
//! previous `years` years: the periods `t − j·P + k` for `j = 1…years`, `k = −w…w`, where
//! `P` is the number of periods in a year and `w` the half window. A log-linear Poisson
//! model `ln μ = β₀ + β₁·(s − t)` is fitted to them by iteratively reweighted least squares
//! (quasi-Poisson: the overdispersion `φ = max(1, Σ ωᵢ(yᵢ − μᵢ)²/μᵢ / (n − p))`). Then:
//!
//! - past outbreaks are down-weighted (optional): baseline periods whose Anscombe residual
//!   exceeds `reweight_threshold` get weight `∝ 1/r²`, the weights are rescaled to sum to
//!   `n`, and the model is fitted again. Farrington does this once from the ordinary fit;
//!   here the first residuals are taken from a robust start (the baseline median, and φ
//!   from the median squared Pearson residual) and the reweighting is repeated until the
//!   weights settle (at most 10 rounds), because a large past outbreak in a 15-period
//!   baseline inflates φ so much that it hides from its own residuals;
//! - the trend is kept only if it is significant at 5 % and does not predict more than the
//!   largest baseline count (otherwise the model is the weighted mean);
//! - the expected count is `μ̂ = exp(β̂₀)` and the threshold is the `1 − α` quantile of a
//!   negative binomial with mean `μ̂` and the predictive variance `φμ̂ + μ̂²·Var η̂`
//!   (Noufaily's limit, with the estimate's uncertainty added; Poisson when that is not
//!   above `μ̂`), or the original quasi-Poisson limit on the 2/3-power scale,
//!   `μ̂ (1 + ⅔ z₁₋α √(φμ̂ + μ̂² Var η̂) / μ̂)^{3/2}`.
//!
//! A baseline of zeros expects 0 with threshold 0: the first count of at least
//! `min_count` signals.

use super::dist::{normal_quantile, CountDist};
use super::{Assessment, Detail, DetectError, Method};
use crate::period::Granularity;

/// The most rounds of down-weighting (each refits the model and recomputes the weights).
const REWEIGHT_ROUNDS: usize = 10;

/// The median of the χ² distribution with one degree of freedom.
const MEDIAN_CHI2_1: f64 = 0.454_936_4;

/// How the upper limit is computed from the fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitMethod {
    /// The `1 − α` quantile of a negative binomial with mean μ̂ and variance
    /// `φμ̂ + μ̂² Var η̂` (Noufaily et al. 2013, with the estimate's uncertainty).
    NegativeBinomial,
    /// Farrington's 2/3-power-transformation limit with the fit's uncertainty.
    QuasiPoisson,
}

/// Settings of the [`Farrington`] detector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FarringtonConfig {
    /// Previous years in the baseline.
    pub years: usize,
    /// Half window `w`: the baseline of each year is `2w + 1` periods around the season.
    pub half_window: usize,
    /// Periods are judged only when at least this many previous years are available.
    pub min_years: usize,
    /// Probability that a period without escalation exceeds the threshold.
    pub alpha: f64,
    /// Fit a linear trend (kept only when significant).
    pub trend: bool,
    /// Down-weight past outbreaks in the baseline.
    pub reweight: bool,
    /// The Anscombe residual above which a baseline period is down-weighted.
    pub reweight_threshold: f64,
    /// The upper limit.
    pub limit: LimitMethod,
    /// A period signals only if its count is at least this.
    pub min_count: u64,
}

impl FarringtonConfig {
    /// Defaults for a granularity: 5 years of baseline (judged from 3), windows of ±3
    /// weeks, ±1 month or the quarter itself, α = 0.01, trend and reweighting on
    /// (residual threshold 2.58, as Noufaily et al.), the negative-binomial limit, signals
    /// from 1 event.
    pub fn for_granularity(granularity: Granularity) -> Self {
        Self {
            years: 5,
            half_window: match granularity {
                Granularity::Week => 3,
                Granularity::Month => 1,
                Granularity::Quarter => 0,
            },
            min_years: 3,
            alpha: 0.01,
            trend: true,
            reweight: true,
            reweight_threshold: 2.58,
            limit: LimitMethod::NegativeBinomial,
            min_count: 1,
        }
    }

    /// Checks every setting against the number of periods in a year.
    pub fn validate(&self, periods_per_year: usize) -> Result<(), DetectError> {
        let err = |m: String| Err(DetectError(m));
        if periods_per_year < 2 {
            return err(format!("{periods_per_year} periods per year is too few"));
        }
        if self.years == 0 || self.min_years == 0 || self.min_years > self.years {
            return err("years and min_years must satisfy 1 ≤ min_years ≤ years".into());
        }
        if 2 * self.half_window + 1 > periods_per_year {
            return err(format!(
                "a half window of {} overlaps the next year's season",
                self.half_window
            ));
        }
        if !(self.alpha > 0.0 && self.alpha < 0.5) {
            return err(format!("alpha must be in (0, 0.5), not {}", self.alpha));
        }
        if !(self.reweight_threshold.is_finite() && self.reweight_threshold > 0.0) {
            return err("reweight_threshold must be above 0".into());
        }
        Ok(())
    }
}

impl Default for FarringtonConfig {
    /// The monthly defaults.
    fn default() -> Self {
        Self::for_granularity(Granularity::Month)
    }
}

/// The Farrington detector for series with a given number of periods per year.
#[derive(Debug, Clone, PartialEq)]
pub struct Farrington {
    config: FarringtonConfig,
    periods_per_year: usize,
}

/// A weighted Poisson log-linear fit on `(1, τ)` or `(1)`.
#[derive(Debug, Clone)]
struct Fit {
    beta0: f64,
    beta1: f64,
    /// `(X'WX)⁻¹` (without φ).
    cov: [[f64; 2]; 2],
    mu: Vec<f64>,
    trend: bool,
}

impl Fit {
    fn params(&self) -> f64 {
        if self.trend {
            2.0
        } else {
            1.0
        }
    }

    /// Leverage of each observation: `ωᵢμᵢ xᵢ'(X'WX)⁻¹xᵢ`.
    fn hat(&self, tau: &[f64], w: &[f64]) -> Vec<f64> {
        let c = &self.cov;
        self.mu
            .iter()
            .zip(tau)
            .zip(w)
            .map(|((&m, &t), &wi)| {
                let q = c[0][0] + 2.0 * c[0][1] * t + c[1][1] * t * t;
                wi * m * q
            })
            .collect()
    }

    /// `φ = max(1, Σ ωᵢ(yᵢ − μᵢ)²/μᵢ / (n − p))`.
    fn overdispersion(&self, y: &[f64], w: &[f64]) -> f64 {
        let dof = y.len() as f64 - self.params();
        if dof <= 0.0 {
            return 1.0;
        }
        let pearson: f64 = y
            .iter()
            .zip(&self.mu)
            .zip(w)
            .filter(|((_, &m), _)| m > 0.0)
            .map(|((&yi, &m), &wi)| wi * (yi - m).powi(2) / m)
            .sum();
        (pearson / dof).max(1.0)
    }
}

/// Fits `ln μ = β₀ (+ β₁τ)` with prior weights `w` by IRLS; `None` when the counts are all
/// zero or the trend fit does not converge.
fn fit_poisson(y: &[f64], tau: &[f64], w: &[f64], trend: bool) -> Option<Fit> {
    let sw: f64 = w.iter().sum();
    let swy: f64 = y.iter().zip(w).map(|(a, b)| a * b).sum();
    if sw <= 0.0 || swy <= 0.0 {
        return None;
    }
    let mean = swy / sw;
    if !trend {
        return Some(Fit {
            beta0: mean.ln(),
            beta1: 0.0,
            cov: [[1.0 / (sw * mean), 0.0], [0.0, 0.0]],
            mu: vec![mean; y.len()],
            trend: false,
        });
    }
    let (mut b0, mut b1) = (mean.ln(), 0.0);
    let info = |b0: f64, b1: f64| {
        let mut s = [0.0; 5]; // ΣW, ΣWτ, ΣWτ², ΣWz, ΣWτz
        for ((&yi, &t), &wi) in y.iter().zip(tau).zip(w) {
            let eta = b0 + b1 * t;
            let m = eta.exp();
            let ww = wi * m;
            let z = eta + (yi - m) / m;
            s[0] += ww;
            s[1] += ww * t;
            s[2] += ww * t * t;
            s[3] += ww * z;
            s[4] += ww * t * z;
        }
        s
    };
    for _ in 0..100 {
        let s = info(b0, b1);
        let det = s[0] * s[2] - s[1] * s[1];
        if !(det.is_finite() && det > 1e-300) {
            return None;
        }
        let n0 = (s[2] * s[3] - s[1] * s[4]) / det;
        let n1 = (s[0] * s[4] - s[1] * s[3]) / det;
        if !(n0.is_finite() && n1.is_finite()) || n0.abs() > 700.0 {
            return None;
        }
        let change = (n0 - b0).abs() + (n1 - b1).abs();
        b0 = n0;
        b1 = n1;
        if change < 1e-10 {
            let s = info(b0, b1);
            let det = s[0] * s[2] - s[1] * s[1];
            if !(det.is_finite() && det > 1e-300) {
                return None;
            }
            let cov = [[s[2] / det, -s[1] / det], [-s[1] / det, s[0] / det]];
            let mu = tau.iter().map(|&t| (b0 + b1 * t).exp()).collect();
            return Some(Fit {
                beta0: b0,
                beta1: b1,
                cov,
                mu,
                trend: true,
            });
        }
    }
    None
}

/// Fits with a trend if asked and possible, else the weighted mean.
fn fit_either(y: &[f64], tau: &[f64], w: &[f64], trend: bool) -> Option<Fit> {
    if trend {
        if let Some(f) = fit_poisson(y, tau, w, true) {
            return Some(f);
        }
    }
    fit_poisson(y, tau, w, false)
}

/// The median of the baseline as a flat fit, with the overdispersion estimated robustly
/// as the median squared Pearson residual over the median of χ²₁ (at least 1). `None`
/// when the baseline is all zeros.
fn robust_start(y: &[f64]) -> Option<(Fit, f64)> {
    let n = y.len();
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        if n % 2 == 1 {
            v[n / 2]
        } else {
            0.5 * (v[n / 2 - 1] + v[n / 2])
        }
    };
    if n == 0 {
        return None;
    }
    let mut sorted = y.to_vec();
    let mut centre = median(&mut sorted);
    if centre <= 0.0 {
        centre = y.iter().sum::<f64>() / n as f64;
    }
    if centre <= 0.0 {
        return None;
    }
    let mut r2: Vec<f64> = y.iter().map(|&v| (v - centre).powi(2) / centre).collect();
    let phi = (median(&mut r2) / MEDIAN_CHI2_1).max(1.0);
    let fit = Fit {
        beta0: centre.ln(),
        beta1: 0.0,
        cov: [[1.0 / (n as f64 * centre), 0.0], [0.0, 0.0]],
        mu: vec![centre; n],
        trend: false,
    };
    Some((fit, phi))
}

/// Weights `∝ 1/r²` for Anscombe residuals above `threshold`, rescaled to sum to `n`.
fn outbreak_weights(y: &[f64], tau: &[f64], fit: &Fit, phi: f64, threshold: f64) -> Vec<f64> {
    let ones = vec![1.0; y.len()];
    let hat = fit.hat(tau, &ones);
    let mut w: Vec<f64> = y
        .iter()
        .zip(&fit.mu)
        .zip(&hat)
        .map(|((&yi, &m), &h)| {
            let denom = m.powf(1.0 / 6.0) * (phi * (1.0 - h)).max(0.0).sqrt();
            let r = if denom > 0.0 {
                1.5 * (yi.powf(2.0 / 3.0) - m.powf(2.0 / 3.0)) / denom
            } else {
                0.0
            };
            if r > threshold {
                1.0 / (r * r)
            } else {
                1.0
            }
        })
        .collect();
    let sum: f64 = w.iter().sum();
    let gamma = y.len() as f64 / sum;
    for wi in &mut w {
        *wi *= gamma;
    }
    w
}

impl Farrington {
    /// A detector with `config` for series with `periods_per_year` periods a year.
    pub fn new(config: FarringtonConfig, periods_per_year: usize) -> Result<Self, DetectError> {
        config.validate(periods_per_year)?;
        Ok(Self {
            config,
            periods_per_year,
        })
    }

    /// A detector with the defaults of `granularity`.
    pub fn for_granularity(granularity: Granularity) -> Self {
        Self {
            config: FarringtonConfig::for_granularity(granularity),
            periods_per_year: granularity.periods_per_year(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &FarringtonConfig {
        &self.config
    }

    /// Judges every period that has at least `min_years` previous years of baseline.
    pub fn assess(&self, series: &[u64]) -> Vec<Assessment> {
        (0..series.len())
            .filter_map(|t| self.assess_at(series, t))
            .collect()
    }

    /// Judges period `t` of `series`, if it is in the series and has enough baseline.
    pub fn assess_at(&self, series: &[u64], t: usize) -> Option<Assessment> {
        let observed = *series.get(t)?;
        let mut y = Vec::new();
        let mut tau = Vec::new();
        self.baseline(series, t, &mut y, &mut tau)?;
        let judged = self.judge(&y, &tau);
        Some(self.finish(t, observed, judged))
    }

    /// Judges every period like [`assess`](Self::assess), with the same results, reusing
    /// the fits of baselines already met in `memo` (the fit depends only on the baseline's
    /// counts, and sparse series repeat the same few baselines many times).
    pub fn assess_memo(&self, series: &[u64], memo: &mut FarringtonMemo) -> Vec<Assessment> {
        let mut out = Vec::new();
        let (mut y, mut tau) = (std::mem::take(&mut memo.y), std::mem::take(&mut memo.tau));
        for (t, &observed) in series.iter().enumerate() {
            if self.baseline(series, t, &mut y, &mut tau).is_none() {
                continue;
            }
            memo.key.clear();
            memo.key.extend(y.iter().map(|&v| v as u64));
            let judged = match memo.fits.get(memo.key.as_slice()) {
                Some(j) => *j,
                None => {
                    let j = self.judge(&y, &tau);
                    if memo.fits.len() < MEMO_LIMIT {
                        memo.fits.insert(memo.key.clone().into_boxed_slice(), j);
                    }
                    j
                }
            };
            out.push(self.finish(t, observed, judged));
        }
        memo.y = y;
        memo.tau = tau;
        out
    }

    /// The baseline of period `t` into `y` (counts) and `tau` (periods relative to `t`);
    /// `None` when fewer than `min_years` years are available.
    fn baseline(
        &self,
        series: &[u64],
        t: usize,
        y: &mut Vec<f64>,
        tau: &mut Vec<f64>,
    ) -> Option<()> {
        let c = &self.config;
        let (p, w) = (self.periods_per_year, c.half_window);
        y.clear();
        tau.clear();
        let mut years = 0;
        for j in 1..=c.years {
            let Some(first) = t.checked_sub(j * p + w) else {
                break;
            };
            years += 1;
            for (s, &count) in series.iter().enumerate().skip(first).take(2 * w + 1) {
                y.push(count as f64);
                tau.push(s as f64 - t as f64);
            }
        }
        (years >= c.min_years).then_some(())
    }

    /// The fit of one baseline: expected count, threshold, overdispersion and whether the
    /// trend was kept.
    fn judge(&self, y: &[f64], tau: &[f64]) -> Judged {
        let c = &self.config;
        let ones = vec![1.0; y.len()];
        let (expected, threshold, phi, trend) = match fit_either(y, tau, &ones, c.trend) {
            None => (0.0, 0.0, 1.0, false), // a baseline of zeros
            Some(mut fit) => {
                let mut weights = ones;
                let mut phi = fit.overdispersion(y, &weights);
                if c.reweight {
                    // Start from the median and a robust φ, so that a large past outbreak
                    // cannot hide behind the dispersion it causes; then reweight and refit
                    // until the weights settle.
                    let (mut current, mut current_phi) =
                        robust_start(y).unwrap_or((fit.clone(), phi));
                    for _ in 0..REWEIGHT_ROUNDS {
                        let next =
                            outbreak_weights(y, tau, &current, current_phi, c.reweight_threshold);
                        let change = next
                            .iter()
                            .zip(&weights)
                            .map(|(a, b)| (a - b).abs())
                            .fold(0.0, f64::max);
                        weights = next;
                        current = fit_either(y, tau, &weights, c.trend).unwrap_or(current);
                        current_phi = current.overdispersion(y, &weights);
                        if change < 1e-6 {
                            break;
                        }
                    }
                    fit = current;
                    phi = current_phi;
                }
                if fit.trend {
                    let se = (phi * fit.cov[1][1]).sqrt();
                    let max_y = y.iter().copied().fold(0.0, f64::max);
                    let significant = se > 0.0 && (fit.beta1 / se).abs() > normal_quantile(0.975);
                    if !significant || fit.beta0.exp() > max_y {
                        if let Some(flat) = fit_poisson(y, tau, &weights, false) {
                            fit = flat;
                            phi = fit.overdispersion(y, &weights);
                        }
                    }
                }
                let mu = fit.beta0.exp();
                let limit = match c.limit {
                    LimitMethod::NegativeBinomial => {
                        // Predictive variance: the count's (φμ̂) plus the estimate's
                        // (μ̂² Var η̂, Var η̂ = φ (X'WX)⁻¹₀₀).
                        let var = phi * mu + mu * mu * phi * fit.cov[0][0];
                        let size = (var > mu * (1.0 + 1e-9)).then(|| mu * mu / (var - mu));
                        CountDist { mean: mu, size }.quantile(1.0 - c.alpha) as f64
                    }
                    LimitMethod::QuasiPoisson => {
                        let z = normal_quantile(1.0 - c.alpha);
                        let var = phi * mu + mu * mu * phi * fit.cov[0][0];
                        mu * (1.0 + 2.0 / 3.0 * z * var.sqrt() / mu).powf(1.5)
                    }
                };
                (mu, limit, phi, fit.trend)
            }
        };
        Judged {
            expected,
            threshold,
            phi,
            trend,
            baseline_periods: y.len(),
        }
    }

    /// The assessment of period `t` from its baseline's fit.
    fn finish(&self, t: usize, observed: u64, judged: Judged) -> Assessment {
        let c = &self.config;
        let Judged {
            expected,
            threshold,
            phi,
            trend,
            baseline_periods,
        } = judged;
        let x = observed as f64;
        let score = if threshold > expected {
            (x - expected) / (threshold - expected)
        } else if x > threshold {
            f64::INFINITY
        } else {
            0.0
        };
        Assessment {
            method: Method::Farrington,
            index: t,
            observed,
            expected,
            threshold,
            signal: x > threshold && observed >= c.min_count,
            score,
            detail: Detail::Farrington {
                overdispersion: phi,
                trend,
                baseline_periods,
            },
        }
    }
}

/// The most baselines a [`FarringtonMemo`] keeps.
const MEMO_LIMIT: usize = 1 << 20;

/// The fit of one baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Judged {
    expected: f64,
    threshold: f64,
    phi: f64,
    trend: bool,
    baseline_periods: usize,
}

/// Fits of baselines already judged, keyed by their counts, for
/// [`Farrington::assess_memo`]. Use one per detector configuration (at most about a million
/// baselines are kept).
#[derive(Debug, Clone, Default)]
pub struct FarringtonMemo {
    fits: std::collections::HashMap<Box<[u64]>, Judged>,
    key: Vec<u64>,
    y: Vec<f64>,
    tau: Vec<f64>,
}

impl FarringtonMemo {
    /// Baselines kept.
    pub fn len(&self) -> usize {
        self.fits.len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.fits.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::Rng;
    use super::*;

    fn monthly() -> Farrington {
        Farrington::for_granularity(Granularity::Month)
    }

    #[test]
    fn without_trend_the_fit_is_the_weighted_mean() {
        let y = [2.0, 4.0, 6.0];
        let tau = [-3.0, -2.0, -1.0];
        let f = fit_poisson(&y, &tau, &[1.0, 1.0, 1.0], false).unwrap();
        assert!((f.beta0.exp() - 4.0).abs() < 1e-12);
        assert!((f.cov[0][0] - 1.0 / 12.0).abs() < 1e-12);
        let f = fit_poisson(&y, &tau, &[1.0, 1.0, 2.0], false).unwrap();
        assert!((f.beta0.exp() - 4.5).abs() < 1e-12);
        assert!(fit_poisson(&[0.0, 0.0], &[-2.0, -1.0], &[1.0, 1.0], false).is_none());
    }

    #[test]
    fn the_trend_fit_solves_the_poisson_score_equations() {
        let y = [1.0, 2.0, 2.0, 5.0, 7.0, 9.0];
        let tau = [-6.0, -5.0, -4.0, -3.0, -2.0, -1.0];
        let f = fit_poisson(&y, &tau, &[1.0; 6], true).unwrap();
        let (s0, s1): (f64, f64) = y
            .iter()
            .zip(&tau)
            .zip(&f.mu)
            .fold((0.0, 0.0), |(a, b), ((&yi, &t), &m)| {
                (a + yi - m, b + t * (yi - m))
            });
        assert!(s0.abs() < 1e-8 && s1.abs() < 1e-8, "{s0} {s1}");
        assert!(f.beta1 > 0.0);
    }

    #[test]
    fn the_memo_gives_the_same_assessments() {
        let far = monthly();
        let mut memo = FarringtonMemo::default();
        let mut rng = Rng(99);
        for k in 0..40 {
            // Sparse, middling and busy series with an outbreak, sharing one memo.
            let mean = [0.05, 0.3, 2.0, 8.0][k % 4];
            let series = rng.series((0..120).map(|t| {
                if (80..86).contains(&t) {
                    6.0 * mean + 1.0
                } else {
                    mean
                }
            }));
            assert_eq!(
                far.assess_memo(&series, &mut memo),
                far.assess(&series),
                "series {k}"
            );
        }
        assert!(!memo.is_empty());
        assert!(memo.len() < 40 * 84, "baselines are reused: {}", memo.len());
    }

    #[test]
    fn detects_a_step_change_within_a_few_periods() {
        for seed in 0..20 {
            let mut rng = Rng(300 + seed);
            let series = rng.series((0..130).map(|t| if t < 100 { 5.0 } else { 15.0 }));
            let first = monthly()
                .assess(&series)
                .into_iter()
                .find(|a| a.signal && a.index >= 100)
                .map(|a| a.index - 100);
            assert!(
                first.is_some_and(|d| d <= 2),
                "seed {seed}: delay {first:?}"
            );
        }
    }

    #[test]
    fn a_flat_poisson_series_gives_about_the_configured_false_alarm_rate() {
        // Counts are discrete, so P(X > q) for the 0.99 quantile q is at most 0.01 and
        // often less (Poisson(20): 0.0093); estimation noise pushes the other way.
        for (mean, limit) in [
            (20.0, LimitMethod::NegativeBinomial),
            (20.0, LimitMethod::QuasiPoisson),
            (6.0, LimitMethod::NegativeBinomial),
        ] {
            let config = FarringtonConfig {
                limit,
                ..FarringtonConfig::default()
            };
            let detector = Farrington::new(config, 12).unwrap();
            let mut rng = Rng(11);
            let (mut periods, mut signals) = (0, 0);
            for _ in 0..8 {
                let series = rng.series((0..2_500).map(|_| mean));
                let a = detector.assess(&series);
                periods += a.len();
                signals += a.iter().filter(|a| a.signal).count();
            }
            let rate = signals as f64 / periods as f64;
            assert!(
                (0.004..=0.016).contains(&rate),
                "mean {mean} {limit:?}: false-alarm rate {rate:.4} against 0.01"
            );
        }
    }

    #[test]
    fn the_baseline_follows_the_season() {
        // Every July has 30 events, other months 5: July 30 is expected, March 30 is not.
        let mut rng = Rng(21);
        let mut series = rng.series((0..96).map(|t| if t % 12 == 6 { 30.0 } else { 5.0 }));
        let july = 7 * 12 + 6;
        let march = 7 * 12 + 2;
        series[july] = 30;
        series[march] = 30;
        let config = FarringtonConfig {
            half_window: 0,
            ..FarringtonConfig::default()
        };
        let detector = Farrington::new(config, 12).unwrap();
        let j = detector.assess_at(&series, july).unwrap();
        assert!(!j.signal && j.expected > 20.0, "{j:?}");
        let m = detector.assess_at(&series, march).unwrap();
        assert!(m.signal && m.expected < 8.0, "{m:?}");
    }

    #[test]
    fn past_outbreaks_are_down_weighted() {
        // Last year's same season had an outbreak of 40; this year has 16.
        let mut rng = Rng(31);
        let mut series = rng.series((0..97).map(|_| 5.0));
        let t = 96;
        for count in &mut series[t - 13..=t - 11] {
            *count = 40;
        }
        series[t] = 16;
        let with = FarringtonConfig {
            trend: false,
            ..FarringtonConfig::default()
        };
        let without = FarringtonConfig {
            reweight: false,
            ..with
        };
        let a = Farrington::new(with, 12)
            .unwrap()
            .assess_at(&series, t)
            .unwrap();
        let b = Farrington::new(without, 12)
            .unwrap()
            .assess_at(&series, t)
            .unwrap();
        assert!(a.expected < 7.0 && a.signal, "reweighted: {a:?}");
        assert!(b.expected > 10.0 && !b.signal, "not reweighted: {b:?}");
    }

    #[test]
    fn a_significant_trend_is_kept_unless_it_extrapolates_beyond_the_baseline() {
        // Counts halving every two years: the trend is kept and the expectation is below
        // last year's level.
        let mut rng = Rng(41);
        let falling = rng.series((0..97).map(|t| 64.0 * 0.5f64.powf(t as f64 / 24.0)));
        let a = monthly().assess_at(&falling, 96).unwrap();
        assert!(
            matches!(a.detail, Detail::Farrington { trend: true, .. }),
            "{a:?}"
        );
        let last_year = 64.0 * 0.5f64.powf(84.0 / 24.0);
        assert!(a.expected < last_year, "{a:?}");
        // Counts doubling every two years: the trend would predict more than any baseline
        // count, so, as in Farrington's rule, it is dropped.
        let rising = rng.series((0..97).map(|t| 4.0 * 2f64.powf(t as f64 / 24.0)));
        let b = monthly().assess_at(&rising, 96).unwrap();
        assert!(
            matches!(b.detail, Detail::Farrington { trend: false, .. }),
            "{b:?}"
        );
        // A flat series keeps no trend.
        let flat = rng.series((0..97).map(|_| 4.0));
        let c = monthly().assess_at(&flat, 96).unwrap();
        assert!(
            matches!(c.detail, Detail::Farrington { trend: false, .. }),
            "{c:?}"
        );
    }

    #[test]
    fn assessments_state_expected_observed_and_threshold() {
        let mut rng = Rng(51);
        let series = rng.series((0..80).map(|_| 3.0));
        let detector = monthly();
        let all = detector.assess(&series);
        // Judged from the first period with 3 years of baseline: 3·12 + 1.
        assert_eq!(all[0].index, 37);
        assert_eq!(all.len(), 80 - 37);
        for a in &all {
            assert_eq!(a.observed, series[a.index]);
            assert_eq!(a.signal, a.observed as f64 > a.threshold);
            assert!(a.threshold >= a.expected);
        }
        // Before 3 years nothing is judged; a baseline of zeros expects 0.
        assert!(detector.assess_at(&series, 36).is_none());
        let mut quiet = vec![0u64; 61];
        quiet[60] = 1;
        let a = detector.assess_at(&quiet, 60).unwrap();
        assert_eq!((a.expected, a.threshold, a.signal), (0.0, 0.0, true));
        let strict = FarringtonConfig {
            min_count: 2,
            ..FarringtonConfig::default()
        };
        let a = Farrington::new(strict, 12)
            .unwrap()
            .assess_at(&quiet, 60)
            .unwrap();
        assert!(!a.signal);
    }

    #[test]
    fn the_quasi_poisson_limit_follows_the_formula() {
        let series: Vec<u64> = (0..61).map(|t| if t % 2 == 0 { 4 } else { 6 }).collect();
        let config = FarringtonConfig {
            limit: LimitMethod::QuasiPoisson,
            trend: false,
            reweight: false,
            ..FarringtonConfig::default()
        };
        let a = Farrington::new(config, 12)
            .unwrap()
            .assess_at(&series, 60)
            .unwrap();
        // The windows centre on even months (60 − 12j), so each is 6, 4, 6: mean 16/3.
        // Period 60 has four full years before it (the fifth would start at −1).
        let n = 12.0;
        let mu: f64 = 16.0 / 3.0;
        assert!((a.expected - mu).abs() < 1e-9);
        let pearson = 4.0 * (2.0 * (6.0 - mu).powi(2) + (4.0 - mu).powi(2)) / mu;
        let phi = (pearson / (n - 1.0)).max(1.0);
        let var = phi * mu + mu * mu * phi / (n * mu);
        let z = normal_quantile(0.99);
        let limit = mu * (1.0 + 2.0 / 3.0 * z * var.sqrt() / mu).powf(1.5);
        assert!(
            (a.threshold - limit).abs() < 1e-9,
            "{} vs {limit}",
            a.threshold
        );
    }

    #[test]
    fn settings_are_checked() {
        let base = FarringtonConfig::default();
        for bad in [
            FarringtonConfig { years: 0, ..base },
            FarringtonConfig {
                min_years: 6,
                ..base
            },
            FarringtonConfig {
                half_window: 6,
                ..base
            },
            FarringtonConfig { alpha: 0.0, ..base },
            FarringtonConfig { alpha: 0.7, ..base },
            FarringtonConfig {
                reweight_threshold: f64::NAN,
                ..base
            },
        ] {
            assert!(Farrington::new(bad, 12).is_err(), "{bad:?}");
        }
        assert!(Farrington::new(base, 1).is_err());
        assert!(Farrington::new(FarringtonConfig::for_granularity(Granularity::Week), 52).is_ok());
    }
}
