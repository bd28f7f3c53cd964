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
//!   `n`, and the model is fitted again, once, as in Farrington et al. (1996) and Noufaily
//!   et al. (2013). They take the residuals from the ordinary fit; here they are taken
//!   from a robust start (the baseline median, and φ from the median squared Pearson
//!   residual; a one-step reweighting from a robust fit), because a large past outbreak
//!   in a 15-period baseline inflates the ordinary fit's φ so much that it hides from its
//!   own residuals (docs/methodology.md §4.2).
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
use super::{Assessment, Detail, DetectError, FastHash, Method};
use crate::period::Granularity;

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

/// A weighted Poisson log-linear fit on `(1, τ)` or `(1)`. Fits are written into an
/// existing value (its `mu` buffer reused), so judging a baseline allocates nothing once
/// the [`Scratch`] has grown to the baseline's length.
#[derive(Debug, Clone, Default)]
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

    /// A flat fit: every mean `mean`, `β₀ = ln mean`, `(X'WX)⁻¹ = 1/(Σw · mean)`.
    fn set_flat(&mut self, mean: f64, sw: f64, n: usize) {
        self.beta0 = mean.ln();
        self.beta1 = 0.0;
        self.cov = [[1.0 / (sw * mean), 0.0], [0.0, 0.0]];
        self.mu.clear();
        self.mu.resize(n, mean);
        self.trend = false;
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

/// Fits `ln μ = β₀ (+ β₁τ)` with prior weights `w` by IRLS into `out`; false when the
/// counts are all zero or the trend fit does not converge (`out` is then untouched but
/// for, after a failed trend fit, its means).
fn fit_poisson(y: &[f64], tau: &[f64], w: &[f64], trend: bool, out: &mut Fit) -> bool {
    let sw: f64 = w.iter().sum();
    let swy: f64 = y.iter().zip(w).map(|(a, b)| a * b).sum();
    if sw <= 0.0 || swy <= 0.0 {
        return false;
    }
    let mean = swy / sw;
    if !trend {
        out.set_flat(mean, sw, y.len());
        return true;
    }
    let (mut b0, mut b1) = (mean.ln(), 0.0);
    // The sums of one IRLS step at (b0, b1); the means exp(b0 + b1·τ) go to `mu` when
    // asked (the last step's are the fit's). With b1 = ±0 (the first step) every
    // b0 + b1·τ is b0 (τ is finite), so its exponential is taken once.
    let info = |b0: f64, b1: f64, mut mu: Option<&mut Vec<f64>>| {
        let mut s = [0.0; 5]; // ΣW, ΣWτ, ΣWτ², ΣWz, ΣWτz
        let flat = (b1 == 0.0).then(|| b0.exp());
        for ((&yi, &t), &wi) in y.iter().zip(tau).zip(w) {
            let eta = b0 + b1 * t;
            let m = flat.unwrap_or_else(|| eta.exp());
            if let Some(mu) = mu.as_deref_mut() {
                mu.push(m);
            }
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
        let s = info(b0, b1, None);
        let det = s[0] * s[2] - s[1] * s[1];
        if !(det.is_finite() && det > 1e-300) {
            return false;
        }
        let n0 = (s[2] * s[3] - s[1] * s[4]) / det;
        let n1 = (s[0] * s[4] - s[1] * s[3]) / det;
        if !(n0.is_finite() && n1.is_finite()) || n0.abs() > 700.0 {
            return false;
        }
        let change = (n0 - b0).abs() + (n1 - b1).abs();
        b0 = n0;
        b1 = n1;
        if change < 1e-10 {
            let mut mu = std::mem::take(&mut out.mu);
            mu.clear();
            let s = info(b0, b1, Some(&mut mu));
            out.mu = mu;
            let det = s[0] * s[2] - s[1] * s[1];
            if !(det.is_finite() && det > 1e-300) {
                return false;
            }
            out.beta0 = b0;
            out.beta1 = b1;
            out.cov = [[s[2] / det, -s[1] / det], [-s[1] / det, s[0] / det]];
            out.trend = true;
            return true;
        }
    }
    false
}

/// Fits with a trend if asked and possible, else the weighted mean; false when neither.
fn fit_either(y: &[f64], tau: &[f64], w: &[f64], trend: bool, out: &mut Fit) -> bool {
    (trend && fit_poisson(y, tau, w, true, out)) || fit_poisson(y, tau, w, false, out)
}

/// The median of the baseline as a flat fit into `out`, with the overdispersion (returned)
/// estimated robustly as the median squared Pearson residual over the median of χ²₁ (at
/// least 1). `None` (and `out` untouched) when the baseline is all zeros.
fn robust_start(y: &[f64], sorted: &mut Vec<f64>, out: &mut Fit) -> Option<f64> {
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
    sorted.clear();
    sorted.extend_from_slice(y);
    let mut centre = median(sorted);
    if centre <= 0.0 {
        centre = y.iter().sum::<f64>() / n as f64;
    }
    if centre <= 0.0 {
        return None;
    }
    sorted.clear();
    sorted.extend(y.iter().map(|&v| (v - centre).powi(2) / centre));
    let phi = (median(sorted) / MEDIAN_CHI2_1).max(1.0);
    out.beta0 = centre.ln();
    out.beta1 = 0.0;
    out.cov = [[1.0 / (n as f64 * centre), 0.0], [0.0, 0.0]];
    out.mu.clear();
    out.mu.resize(n, centre);
    out.trend = false;
    Some(phi)
}

/// Weights `∝ 1/r²` for Anscombe residuals above `threshold`, rescaled to sum to `n`, into
/// `w`. `y23` holds `yᵢ^(2/3)`; a flat fit's powers of μ are taken once. A count clearly
/// below its mean (`yᵢ < μᵢ(1 − 10⁻⁶)`) has a negative residual, so weight 1, whatever its
/// powers: they are not taken (`pow` is accurate to about 10⁻¹⁶, so `yᵢ^(2/3) < μᵢ^(2/3)`
/// also holds for the computed values, and a negative or zero residual never exceeds the
/// positive threshold).
fn outbreak_weights(
    (y, y23, tau): (&[f64], &[f64], &[f64]),
    fit: &Fit,
    phi: f64,
    threshold: f64,
    w: &mut Vec<f64>,
) {
    let c = &fit.cov;
    let flat = if fit.trend {
        None
    } else {
        fit.mu
            .first()
            .map(|&m| (m.powf(1.0 / 6.0), m.powf(2.0 / 3.0)))
    };
    w.clear();
    w.extend(
        y.iter()
            .zip(y23)
            .zip(&fit.mu)
            .zip(tau)
            .map(|(((&yi, &y23), &m), &t)| {
                if m.is_finite() && yi < m * (1.0 - 1e-6) {
                    return 1.0;
                }
                // Leverage ωᵢμᵢ xᵢ'(X'WX)⁻¹xᵢ with ωᵢ = 1.
                let h = m * (c[0][0] + 2.0 * c[0][1] * t + c[1][1] * t * t);
                let (m16, m23) = flat.unwrap_or_else(|| (m.powf(1.0 / 6.0), m.powf(2.0 / 3.0)));
                let denom = m16 * (phi * (1.0 - h)).max(0.0).sqrt();
                let r = if denom > 0.0 {
                    1.5 * (y23 - m23) / denom
                } else {
                    0.0
                };
                if r > threshold {
                    1.0 / (r * r)
                } else {
                    1.0
                }
            }),
    );
    let sum: f64 = w.iter().sum();
    let gamma = w.len() as f64 / sum;
    for wi in w.iter_mut() {
        *wi *= gamma;
    }
}

/// Counts below this have `y^(2/3)` read from a table.
const POWER_TABLE: usize = 4096;

/// `y^(2/3)` of a count, from a table of the same values for small counts.
fn power_two_thirds(y: f64) -> f64 {
    static TABLE: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        (0..POWER_TABLE)
            .map(|k| (k as f64).powf(2.0 / 3.0))
            .collect()
    });
    if y >= 0.0 && y < POWER_TABLE as f64 && y.fract() == 0.0 {
        table[y as usize]
    } else {
        y.powf(2.0 / 3.0)
    }
}

/// Buffers for judging baselines without allocating.
#[derive(Debug, Clone, Default)]
struct Scratch {
    y: Vec<f64>,
    tau: Vec<f64>,
    y23: Vec<f64>,
    ones: Vec<f64>,
    weights: Vec<f64>,
    sorted: Vec<f64>,
    fit: Fit,
    current: Fit,
    candidate: Fit,
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
        let mut scratch = Scratch::default();
        (0..series.len())
            .filter_map(|t| self.assess_with(series, t, &mut scratch))
            .collect()
    }

    /// Judges period `t` of `series`, if it is in the series and has enough baseline.
    pub fn assess_at(&self, series: &[u64], t: usize) -> Option<Assessment> {
        self.assess_with(series, t, &mut Scratch::default())
    }

    fn assess_with(&self, series: &[u64], t: usize, s: &mut Scratch) -> Option<Assessment> {
        let observed = *series.get(t)?;
        let (mut y, mut tau) = (std::mem::take(&mut s.y), std::mem::take(&mut s.tau));
        let judged = self
            .baseline(series, t, &mut y, &mut tau)
            .map(|()| self.judge(&y, &tau, s));
        s.y = y;
        s.tau = tau;
        Some(self.finish(t, observed, judged?))
    }

    /// Judges every period like [`assess`](Self::assess), with the same results, reusing
    /// the fits of baselines already met in `memo` (the fit depends only on the baseline's
    /// counts, and sparse series repeat the same few baselines many times). A baseline of
    /// zeros is judged without a look-up.
    pub fn assess_memo(&self, series: &[u64], memo: &mut FarringtonMemo) -> Vec<Assessment> {
        let mut out = Vec::new();
        self.judge_memo(series, memo, true, &mut |a| out.push(a));
        out
    }

    /// Judges every period like [`assess_memo`](Self::assess_memo), with the same
    /// judgements, but hands only the assessments that signal to `signal`; returns the
    /// number of periods judged. A period whose count is below `min_count` cannot signal,
    /// so its baseline is not fitted.
    pub fn signals_memo(
        &self,
        series: &[u64],
        memo: &mut FarringtonMemo,
        signal: &mut dyn FnMut(Assessment),
    ) -> usize {
        self.judge_memo(series, memo, false, signal)
    }

    /// The judgement loop of the memo: every assessment to `emit` when `all`, else only
    /// the signals. Returns the number of periods judged.
    fn judge_memo(
        &self,
        series: &[u64],
        memo: &mut FarringtonMemo,
        all: bool,
        emit: &mut dyn FnMut(Assessment),
    ) -> usize {
        let s = &mut memo.scratch;
        let (mut y, mut tau) = (std::mem::take(&mut s.y), std::mem::take(&mut s.tau));
        let first = self.first_judged();
        let mut judged = 0;
        for (t, &observed) in series.iter().enumerate().skip(first) {
            if !all && observed < self.config.min_count {
                // Cannot signal: `signal` needs observed ≥ min_count.
                judged += 1;
                continue;
            }
            if self.baseline(series, t, &mut y, &mut tau).is_none() {
                continue;
            }
            judged += 1;
            let judgement = if y.iter().all(|&v| v == 0.0) {
                Judged::zeros(y.len())
            } else if !keyed(&mut memo.key, &y) {
                // A count beyond the keys' range: judged without the memo.
                self.judge(&y, &tau, s)
            } else if let Some(shared) = &memo.shared {
                // One shard's lock for the look-up and, after the fit (made without any
                // lock), one for the insertion.
                let shard = shared.shard(&memo.key);
                let found = lock(shard).get(memo.key.as_slice()).copied();
                match found {
                    Some(j) => j,
                    None => {
                        let j = self.judge(&y, &tau, s);
                        let mut fits = lock(shard);
                        if fits.len() < MEMO_LIMIT / SHARDS {
                            fits.insert(memo.key.as_slice().into(), j);
                        }
                        j
                    }
                }
            } else {
                match memo.fits.get(memo.key.as_slice()) {
                    Some(j) => *j,
                    None => {
                        let j = self.judge(&y, &tau, s);
                        if memo.fits.len() < MEMO_LIMIT {
                            memo.fits.insert(memo.key.as_slice().into(), j);
                        }
                        j
                    }
                }
            };
            let a = self.finish(t, observed, judgement);
            if all || a.signal {
                emit(a);
            }
        }
        s.y = y;
        s.tau = tau;
        judged
    }

    /// The first period with a baseline: `min_years` whole years and the half window
    /// before it (every later period has one too).
    fn first_judged(&self) -> usize {
        self.config.min_years * self.periods_per_year + self.config.half_window
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
    /// trend was kept. Buffers come from `s`; the arithmetic is the method's, in its order,
    /// with what does not change between rounds computed once (`yᵢ^(2/3)`, a flat fit's
    /// powers of μ) and no refit when the weights come out exactly as the last fit's.
    fn judge(&self, y: &[f64], tau: &[f64], s: &mut Scratch) -> Judged {
        let c = &self.config;
        let n = y.len();
        s.ones.clear();
        s.ones.resize(n, 1.0);
        // The first fit (prior weights 1) fails exactly when the flat fit does: no
        // baseline or a baseline of zeros (Σ1 = n, Σyᵢ > 0 as soon as one count is).
        if !y.iter().any(|&v| v > 0.0) {
            return Judged::zeros(n);
        }
        s.weights.clear();
        s.weights.extend_from_slice(&s.ones);
        let mut phi;
        if c.reweight {
            // Start from the median and a robust φ, so that a large past outbreak cannot
            // hide behind the dispersion it causes; then reweight once and refit. The fit
            // with weights 1 is made only when it is used: when every weight stays 1.
            s.y23.clear();
            s.y23.extend(y.iter().map(|&v| power_two_thirds(v)));
            let mut current_phi = match robust_start(y, &mut s.sorted, &mut s.current) {
                Some(p) => p,
                None => {
                    fit_either(y, tau, &s.ones, c.trend, &mut s.current);
                    s.current.overdispersion(y, &s.weights)
                }
            };
            // One round: weights from the robust start, then the refit with them.
            outbreak_weights(
                (y, &s.y23, tau),
                &s.current,
                current_phi,
                c.reweight_threshold,
                &mut s.weights,
            );
            if s.weights.iter().all(|w| w.to_bits() == 1f64.to_bits()) {
                // Every weight is 1: the refit is the fit with weights 1.
                fit_either(y, tau, &s.ones, c.trend, &mut s.current);
            } else if fit_either(y, tau, &s.weights, c.trend, &mut s.candidate) {
                std::mem::swap(&mut s.current, &mut s.candidate);
            }
            current_phi = s.current.overdispersion(y, &s.weights);
            std::mem::swap(&mut s.fit, &mut s.current);
            phi = current_phi;
        } else {
            fit_either(y, tau, &s.ones, c.trend, &mut s.fit);
            phi = s.fit.overdispersion(y, &s.weights);
        }
        let fit = &mut s.fit;
        if fit.trend {
            let se = (phi * fit.cov[1][1]).sqrt();
            let max_y = y.iter().copied().fold(0.0, f64::max);
            let significant = se > 0.0 && (fit.beta1 / se).abs() > normal_quantile(0.975);
            // (A flat fit of counts that are not all zero always succeeds.)
            if (!significant || fit.beta0.exp() > max_y)
                && fit_poisson(y, tau, &s.weights, false, fit)
            {
                phi = fit.overdispersion(y, &s.weights);
            }
        }
        let mu = fit.beta0.exp();
        let threshold = match c.limit {
            LimitMethod::NegativeBinomial => {
                // Predictive variance: the count's (φμ̂) plus the estimate's (μ̂² Var η̂,
                // Var η̂ = φ (X'WX)⁻¹₀₀).
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
        Judged {
            expected: mu,
            threshold,
            phi,
            trend: fit.trend,
            baseline_periods: n,
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

#[cfg(test)]
mod reference;

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

impl Judged {
    /// The judgement of a baseline of zeros: expects 0 with threshold 0.
    fn zeros(baseline_periods: usize) -> Self {
        Self {
            expected: 0.0,
            threshold: 0.0,
            phi: 1.0,
            trend: false,
            baseline_periods,
        }
    }
}

/// Fits of baselines already judged, keyed by their counts, for
/// [`Farrington::assess_memo`]. Use one per detector configuration (at most about a million
/// baselines are kept).
#[derive(Debug, Clone, Default)]
pub struct FarringtonMemo {
    fits: Fits,
    /// Fits shared with other memos (see [`FarringtonMemo::sharing`]); when set, `fits`
    /// stays empty.
    shared: Option<std::sync::Arc<SharedFits>>,
    /// The baseline being looked up (counts below 2³², as every count of a panel).
    key: Vec<u32>,
    scratch: Scratch,
}

/// Fits by baseline counts (a key takes half the memory of `u64` counts: at 1,000,000
/// events about 260,000 baselines are kept, and fresh pages cost more than their copy).
type Fits = std::collections::HashMap<Box<[u32]>, Judged, FastHash>;

/// Shards of a shared memo: threads rarely wait for one another's look-ups.
const SHARDS: usize = 16;

/// The fits of memos made by [`FarringtonMemo::sharing`], in [`SHARDS`] locked maps.
#[derive(Debug, Default)]
struct SharedFits {
    shards: [std::sync::Mutex<Fits>; SHARDS],
}

impl SharedFits {
    /// The shard of a baseline (a mix of its hash other than the maps' own use of it).
    fn shard(&self, key: &[u32]) -> &std::sync::Mutex<Fits> {
        use std::hash::BuildHasher;
        let h = FastHash.hash_one(key);
        let mixed = (h ^ (h >> 29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        &self.shards[(mixed >> 60) as usize % SHARDS]
    }
}

/// Sets `key` to the counts `y`; false when a count is not below 2³² (then the baseline
/// is not kept).
fn keyed(key: &mut Vec<u32>, y: &[f64]) -> bool {
    key.clear();
    for &v in y {
        if v.is_nan() || v >= 4_294_967_296.0 {
            return false;
        }
        key.push(v as u32);
    }
    true
}

/// A shard's map; a poisoned lock only means another thread panicked, and every fit in the
/// map was inserted whole.
fn lock(shard: &std::sync::Mutex<Fits>) -> std::sync::MutexGuard<'_, Fits> {
    shard
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl FarringtonMemo {
    /// An empty memo with room for about `baselines` fits before it grows (growing a large
    /// map copies it and touches fresh pages; at 1,000,000 events that was about 6 % of
    /// the recompute's CPU time).
    pub fn with_capacity(baselines: usize) -> Self {
        let mut fits = Fits::default();
        fits.reserve(baselines.min(MEMO_LIMIT));
        Self {
            fits,
            ..Self::default()
        }
    }

    /// A memo whose fits are shared with this one and with every memo made this way from
    /// either, so that threads judging the series of one panel fit each baseline about
    /// once (a fit depends only on the baseline's counts, so which thread makes it does not
    /// change it). This memo's own fits so far are handed over, and its reserved room is
    /// spread over the shared maps.
    pub fn sharing(&mut self) -> Self {
        let fits = std::mem::take(&mut self.fits);
        let shared = self
            .shared
            .get_or_insert_with(|| {
                let shared = SharedFits::default();
                let room = fits.capacity().max(fits.len()) / SHARDS;
                for shard in &shared.shards {
                    lock(shard).reserve(room);
                }
                for (k, j) in fits {
                    lock(shared.shard(&k)).insert(k, j);
                }
                std::sync::Arc::new(shared)
            })
            .clone();
        Self {
            shared: Some(shared),
            ..Self::default()
        }
    }

    /// Baselines kept.
    pub fn len(&self) -> usize {
        match &self.shared {
            Some(s) => s.shards.iter().map(|m| lock(m).len()).sum(),
            None => self.fits.len(),
        }
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
        let fit = |w: &[f64]| {
            let mut f = Fit::default();
            fit_poisson(&y, &tau, w, false, &mut f).then_some(f)
        };
        let f = fit(&[1.0, 1.0, 1.0]).unwrap();
        assert!((f.beta0.exp() - 4.0).abs() < 1e-12);
        assert!((f.cov[0][0] - 1.0 / 12.0).abs() < 1e-12);
        let f = fit(&[1.0, 1.0, 2.0]).unwrap();
        assert!((f.beta0.exp() - 4.5).abs() < 1e-12);
        let mut f = Fit::default();
        assert!(!fit_poisson(
            &[0.0, 0.0],
            &[-2.0, -1.0],
            &[1.0, 1.0],
            false,
            &mut f
        ));
    }

    #[test]
    fn the_trend_fit_solves_the_poisson_score_equations() {
        let y = [1.0, 2.0, 2.0, 5.0, 7.0, 9.0];
        let tau = [-6.0, -5.0, -4.0, -3.0, -2.0, -1.0];
        let mut f = Fit::default();
        assert!(fit_poisson(&y, &tau, &[1.0; 6], true, &mut f));
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
    fn the_judgements_are_bit_for_bit_those_of_the_reference_code() {
        // The allocation-free judge against the code it replaced, on sparse, middling,
        // busy and heavy-tailed series with outbreaks and trends, under every limit and
        // with and without trend and reweighting.
        let configs = [
            FarringtonConfig::default(),
            FarringtonConfig {
                limit: LimitMethod::QuasiPoisson,
                ..FarringtonConfig::default()
            },
            FarringtonConfig {
                trend: false,
                ..FarringtonConfig::default()
            },
            FarringtonConfig {
                reweight: false,
                ..FarringtonConfig::default()
            },
            FarringtonConfig::for_granularity(Granularity::Week),
        ];
        let mut rng = Rng(2024);
        let mut judged = 0;
        let mut reweighted = 0;
        for (k, config) in configs.iter().enumerate() {
            let ppy = if k == 4 { 52 } else { 12 };
            let detector = Farrington::new(*config, ppy).unwrap();
            let mut memo = FarringtonMemo::default();
            for j in 0..24 {
                let mean = [0.05, 0.4, 3.0, 12.0, 60.0, 400.0][j % 6];
                let len = if ppy == 52 { 400 } else { 150 };
                let mut series = rng.series((0..len).map(|t| {
                    let trend = 1.0 + (j % 3) as f64 * t as f64 / len as f64;
                    let outbreak = if (t + 7 * j) % 37 < 3 { 5.0 } else { 1.0 };
                    mean * trend * outbreak
                }));
                // Heavy tails: now and then a count far above the rest.
                for t in (j % 11..len).step_by(29) {
                    series[t] = series[t] * 20 + 3;
                }
                let fast = detector.assess(&series);
                assert_eq!(detector.assess_memo(&series, &mut memo), fast);
                let (mut y, mut tau) = (Vec::new(), Vec::new());
                let mut n = 0;
                for t in 0..len {
                    if detector.baseline(&series, t, &mut y, &mut tau).is_none() {
                        continue;
                    }
                    let (expected, threshold, phi, trend) = reference::judge(config, &y, &tau);
                    let a = &fast[n];
                    n += 1;
                    assert_eq!(a.index, t);
                    assert_eq!(
                        (a.expected.to_bits(), a.threshold.to_bits()),
                        (expected.to_bits(), threshold.to_bits()),
                        "config {k} series {j} t {t}: {a:?} against {expected} {threshold}"
                    );
                    let Detail::Farrington {
                        overdispersion,
                        trend: kept,
                        ..
                    } = a.detail
                    else {
                        panic!("not a Farrington detail")
                    };
                    assert_eq!((overdispersion.to_bits(), kept), (phi.to_bits(), trend));
                    judged += 1;
                    reweighted += usize::from(phi > 1.0);
                }
                assert_eq!(n, fast.len());
            }
        }
        assert!(judged > 10_000 && reweighted > 300, "{judged} {reweighted}");
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
    fn shared_memos_give_the_same_assessments_on_every_thread() {
        let far = monthly();
        let mut rng = Rng(5);
        let series: Vec<Vec<u64>> = (0..48)
            .map(|k| {
                let mean = [0.1, 1.0, 5.0][k % 3];
                rng.series((0..120).map(|t| {
                    if (t + k) % 41 < 3 {
                        5.0 * mean + 1.0
                    } else {
                        mean
                    }
                }))
            })
            .collect();
        // Fits made before sharing are handed over.
        let mut first = FarringtonMemo::with_capacity(100);
        assert_eq!(
            far.assess_memo(&series[0], &mut first),
            far.assess(&series[0])
        );
        let kept = first.len();
        assert!(kept > 0);
        let memos = [first.sharing(), first.sharing()];
        assert_eq!(memos[0].len(), kept);
        std::thread::scope(|scope| {
            for (half, mut memo) in memos.into_iter().enumerate() {
                let (far, series) = (&far, &series);
                scope.spawn(move || {
                    for s in series.iter().skip(half).step_by(2) {
                        assert_eq!(far.assess_memo(s, &mut memo), far.assess(s));
                        let mut signals = Vec::new();
                        far.signals_memo(s, &mut memo, &mut |a| signals.push(a));
                        let all: Vec<Assessment> =
                            far.assess(s).into_iter().filter(|a| a.signal).collect();
                        assert_eq!(signals, all);
                    }
                });
            }
        });
        // Every thread's fits went into the one shared memo, each baseline once.
        let mut alone = FarringtonMemo::default();
        for s in &series {
            far.assess_memo(s, &mut alone);
        }
        assert_eq!(first.len(), alone.len());
        // A count beyond the keys' range is judged without the memo, the same way.
        let mut big = series[1].clone();
        big[10] = 1 << 40;
        let before = alone.len();
        assert_eq!(far.assess_memo(&big, &mut alone), far.assess(&big));
        assert!(alone.len() >= before);
    }

    #[test]
    fn the_signals_path_hands_over_exactly_the_signals_of_assess() {
        // Sparse series (most periods 0, which the signals path does not fit), busy ones
        // and outbreaks, with min_count 0, 1 and 3; one memo per path and configuration.
        let mut rng = Rng(7);
        for min_count in [0, 1, 3] {
            let config = FarringtonConfig {
                min_count,
                ..FarringtonConfig::default()
            };
            let detector = Farrington::new(config, 12).unwrap();
            let (mut memo, mut fast_memo) = (FarringtonMemo::default(), FarringtonMemo::default());
            let mut skipped = 0;
            for k in 0..36 {
                let mean = [0.0, 0.03, 0.2, 1.0, 4.0, 30.0][k % 6];
                let series = rng.series((0..150).map(|t| {
                    if (t + 5 * k) % 43 < 4 {
                        6.0 * mean + 1.0
                    } else {
                        mean
                    }
                }));
                let all = detector.assess_memo(&series, &mut memo);
                assert_eq!(all, detector.assess(&series), "series {k}");
                let mut signals = Vec::new();
                let judged =
                    detector.signals_memo(&series, &mut fast_memo, &mut |a| signals.push(a));
                assert_eq!(judged, all.len(), "series {k}");
                let expected: Vec<Assessment> = all.iter().copied().filter(|a| a.signal).collect();
                assert_eq!(signals, expected, "min_count {min_count} series {k}");
                skipped += all.iter().filter(|a| a.observed < min_count).count();
            }
            assert!(min_count == 0 || skipped > 1_000, "{skipped}");
            assert!(fast_memo.len() <= memo.len());
        }
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
