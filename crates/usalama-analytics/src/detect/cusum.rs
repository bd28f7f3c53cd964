//! The negative-binomial CUSUM.
//!
//! For each period `t` the in-control mean `μ₀` is the mean of a baseline window of earlier
//! periods (`baseline` periods ending `guard` periods before `t`), floored at `min_mean`;
//! the dispersion is estimated from the same window by the method of moments (or fixed).
//! The out-of-control mean is `μ₁ = shift · μ₀`. The statistic accumulates the
//! log-likelihood ratio of the observation under the two means,
//!
//! `S_t = max(0, S_{t−1} + a·x_t − b)`, with `a = ln[μ₁(μ₀+r) / (μ₀(μ₁+r))]` and
//! `b = r·ln[(μ₁+r)/(μ₀+r)]` (the Poisson limits `ln(μ₁/μ₀)` and `μ₁ − μ₀` when `r → ∞`),
//!
//! and signals when `S_t > h`, then restarts from 0.
//!
//! The decision interval `h` is the one whose in-control average run length (ARL) is
//! `arl0` periods. The statistic is kept on a grid of step `δ = h / (STATES − ½)` (each
//! period's increment rounded to the grid), so it is a Markov chain on [`STATES`] states
//! and its ARL from 0 is exactly the solution of `(I − Q)·L = 1` (the construction of
//! Brook and Evans, 1972, exact here because the detector runs on the same grid). `h` is
//! found by bracketing and regula falsi on `ln ARL(h)`. Because counts are discrete, ARL(h)
//! jumps; the smallest `h` whose ARL is at least `arl0` is taken, so the false-alarm rate
//! is at most `1/arl0`, sometimes well below. Designs are cached per mean and dispersion
//! rounded to a grid (steps of 13 % and 28 %, the design using the rounded values), so a
//! detector reused over many series computes few.

use super::dist::CountDist;
use super::{Assessment, Detail, DetectError, FastHash, Method};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Number of grid states of the statistic below the decision interval.
pub const STATES: usize = 64;

/// Steps per unit of `ln μ₀` in the cache of designs: a design serves means within about
/// ±6 % of its own. (The decision interval, in log-likelihood-ratio units, changes slowly
/// with the mean.)
const MEAN_STEPS: f64 = 8.0;

/// Steps per unit of `ln φ`, the variance-to-mean ratio `1 + μ₀/r`, in the cache: a design
/// serves ratios within about ±13 % of its own.
const DISPERSION_STEPS: f64 = 4.0;

/// The largest variance-to-mean ratio used for decision intervals.
const MAX_DISPERSION: f64 = 100.0;

/// The baseline's variance must exceed its mean by this share before it is modelled as
/// negative binomial rather than Poisson.
const POISSON_SHARE: f64 = 0.01;

/// How the CUSUM models the spread of counts around the baseline mean.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dispersion {
    /// Estimate the negative-binomial size from the baseline window (method of moments);
    /// Poisson when the window is not overdispersed.
    Estimate,
    /// Poisson counts.
    Poisson,
    /// A fixed negative-binomial size `r` (`Var = μ + μ²/r`).
    Fixed(f64),
}

/// Settings of the [`NbCusum`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CusumConfig {
    /// In-control average run length: the mean number of periods between false alarms of
    /// one series (the false-alarm rate per period is `1 / arl0`).
    pub arl0: f64,
    /// The escalation to detect, as a ratio of the baseline mean (`μ₁ = shift · μ₀`).
    pub shift: f64,
    /// Periods in the baseline window.
    pub baseline: usize,
    /// Periods between the end of the baseline window and the judged period, so that the
    /// start of an escalation does not raise its own baseline at once.
    pub guard: usize,
    /// How counts spread around the baseline mean.
    pub dispersion: Dispersion,
    /// The floor of the baseline mean, so that a quiet baseline still gives a finite
    /// log-likelihood ratio.
    pub min_mean: f64,
}

impl Default for CusumConfig {
    /// ARL₀ 100 periods, shift ×2, a 24-period baseline ending 1 period before, dispersion
    /// estimated, mean floored at 0.1.
    fn default() -> Self {
        Self {
            arl0: 100.0,
            shift: 2.0,
            baseline: 24,
            guard: 1,
            dispersion: Dispersion::Estimate,
            min_mean: 0.1,
        }
    }
}

impl CusumConfig {
    /// Checks every setting.
    pub fn validate(&self) -> Result<(), DetectError> {
        let err = |m: &str| Err(DetectError(m.to_string()));
        if !(self.arl0.is_finite() && self.arl0 > 1.0) {
            return err("arl0 must be a number above 1");
        }
        if !(self.shift.is_finite() && self.shift > 1.0) {
            return err("shift must be a number above 1");
        }
        if self.baseline < 2 {
            return err("baseline must be at least 2 periods");
        }
        if !(self.min_mean.is_finite() && self.min_mean > 0.0) {
            return err("min_mean must be above 0");
        }
        if let Dispersion::Fixed(r) = self.dispersion {
            if !(r.is_finite() && r > 0.0) {
                return err("a fixed dispersion size must be above 0");
            }
        }
        Ok(())
    }
}

/// The negative-binomial CUSUM detector. It caches decision intervals, so reuse one
/// detector for many series.
#[derive(Debug, Clone)]
pub struct NbCusum {
    config: CusumConfig,
    cache: HashMap<(i64, i64), Design, FastHash>,
    /// The last design asked for: its mean and dispersion size (as bits) and the design.
    last: Option<((u64, Option<u64>), Design)>,
    /// Designs shared with other detectors (see [`NbCusum::sharing`]).
    shared: Option<Arc<Mutex<Designs>>>,
}

/// Designs by rounded mean and dispersion.
type Designs = HashMap<(i64, i64), Design, FastHash>;

/// The log-likelihood-ratio increment `a·x − b` of NB(μ₁, r) against NB(μ₀, r).
fn llr_coefficients(mu0: f64, mu1: f64, size: Option<f64>) -> (f64, f64) {
    match size {
        None => ((mu1 / mu0).ln(), mu1 - mu0),
        Some(r) => {
            let rel = ((mu1 - mu0) / (mu0 + r)).ln_1p();
            ((mu1 / mu0).ln() - rel, r * rel)
        }
    }
}

/// Solves `m·x = rhs` (`m` is `n × n`, row-major) by Gaussian elimination with partial
/// pivoting; `None` if singular.
fn solve(m: &mut [f64], rhs: &mut [f64], n: usize) -> Option<()> {
    for k in 0..n {
        let pivot = (k..n).max_by(|&i, &j| m[i * n + k].abs().total_cmp(&m[j * n + k].abs()))?;
        if m[pivot * n + k].abs() < 1e-300 {
            return None;
        }
        if pivot != k {
            for c in 0..n {
                m.swap(k * n + c, pivot * n + c);
            }
            rhs.swap(k, pivot);
        }
        let diag = m[k * n + k];
        let (upper, lower) = m.split_at_mut((k + 1) * n);
        let row_k = &upper[k * n + k..k * n + n];
        for (i, row) in lower.chunks_exact_mut(n).enumerate() {
            let f = row[k] / diag;
            if f == 0.0 {
                continue;
            }
            for (a, b) in row[k..].iter_mut().zip(row_k) {
                *a -= f * b;
            }
            rhs[k + 1 + i] -= f * rhs[k];
        }
    }
    for k in (0..n).rev() {
        let row = &m[k * n..k * n + n];
        let s: f64 = rhs[k]
            - row[k + 1..]
                .iter()
                .zip(&rhs[k + 1..])
                .map(|(a, b)| a * b)
                .sum::<f64>();
        rhs[k] = s / row[k];
    }
    Some(())
}

/// The rows of `I − Q` after the first, made as the plain loop of
/// [`Design::average_run_length`] makes them (`row[i] = 1`, then for each count `x` in order
/// `row[max(0, i + steps[x])] -= pmf[x]` until that position leaves the row) when `steps`
/// never decreases. The counts then fall into runs of one step each, and every entry of
/// every row is one of a few sequences of subtractions in the loop's order: the counts
/// landing on state 0 are a prefix of the counts (its running difference from 0 is kept
/// once), and a run landing on another state gives the same value in every row (from 0,
/// or from 1 on the diagonal). So each row costs one pass over the runs, not the counts.
struct Rows<'a> {
    steps: &'a [i64],
    /// `prefix[x]`: `0 − pmf[0] − … − pmf[x − 1]`, subtracted in order.
    prefix: Vec<f64>,
    /// Per run of counts with one step: the step, its first count past the end, and its
    /// subtractions in order from 0 and from 1.
    runs: Vec<(i64, usize, f64, f64)>,
}

impl<'a> Rows<'a> {
    /// `None` when `steps` decreases somewhere (the plain loop is then used).
    fn new(steps: &'a [i64], pmf: &[f64]) -> Option<Self> {
        if steps.windows(2).any(|w| w[0] > w[1]) {
            return None;
        }
        let mut prefix = Vec::with_capacity(pmf.len() + 1);
        let mut acc = 0.0;
        prefix.push(acc);
        for &px in pmf {
            acc -= px;
            prefix.push(acc);
        }
        let mut runs = Vec::new();
        let mut x = 0;
        while x < steps.len() {
            let k = steps[x];
            let end = x + steps[x..].partition_point(|&s| s == k);
            let (mut from0, mut from1) = (0.0, 1.0);
            for &px in &pmf[x..end] {
                from0 -= px;
                from1 -= px;
            }
            runs.push((k, end, from0, from1));
            x = end;
        }
        Some(Self {
            steps,
            prefix,
            runs,
        })
    }

    /// Row `i ≥ 1` (all zeros on entry).
    fn fill(&self, row: &mut [f64], i: usize) {
        let n = row.len() as i64;
        let i = i as i64;
        row[i as usize] = 1.0;
        let low = self.steps.partition_point(|&k| k <= -i);
        row[0] = self.prefix[low];
        for &(k, end, from0, from1) in &self.runs {
            if end <= low {
                continue;
            }
            let j = i + k;
            if j >= n {
                break;
            }
            row[j as usize] = if k == 0 { from1 } else { from0 };
        }
    }
}

/// A CUSUM design for one in-control distribution: the increment `a·x − b`, the decision
/// interval `h` and the grid step `δ`. `h = 0` means "signal whenever `a·x > b`".
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Design {
    pub a: f64,
    pub b: f64,
    pub h: f64,
    pub delta: f64,
}

impl Design {
    /// A design on `STATES` grid states below `h`.
    fn with_interval(a: f64, b: f64, h: f64) -> Self {
        let delta = if h > 0.0 {
            h / (STATES as f64 - 0.5)
        } else {
            0.0
        };
        Self { a, b, h, delta }
    }

    /// The grid state after observing `x` in state `i`; `STATES` or more signals.
    pub fn step(&self, i: i64, x: u64) -> i64 {
        let inc = self.a * x as f64 - self.b;
        if self.delta == 0.0 {
            return if inc > 0.0 { STATES as i64 } else { 0 };
        }
        (i + (inc / self.delta).round() as i64).max(0)
    }

    /// The smallest count that signals from state `i`.
    pub fn threshold(&self, i: i64) -> f64 {
        if self.delta == 0.0 {
            return self.b / self.a;
        }
        (((STATES as f64 - 0.5 - i as f64) * self.delta + self.b) / self.a).max(0.0)
    }

    /// The grid state nearest to a statistic `s` (log-likelihood-ratio units).
    pub fn state(&self, s: f64) -> i64 {
        if self.delta == 0.0 {
            0
        } else {
            ((s / self.delta).round() as i64).clamp(0, STATES as i64 - 1)
        }
    }

    /// The in-control ARL from state 0 when counts follow `dist`.
    pub fn average_run_length(&self, dist: &CountDist) -> f64 {
        if self.delta == 0.0 {
            let p = dist.upper_tail((self.b / self.a).floor() as u64);
            return if p > 0.0 { 1.0 / p } else { f64::INFINITY };
        }
        let n = STATES;
        // Counts above x_max signal from any state.
        let x_max = (((self.h + self.b) / self.a).floor() as usize + 1).min(1_000_000);
        let pmf = dist.pmf(x_max + 1);
        // The grid steps of each count (`step` without the state, which it only adds).
        let steps: Vec<i64> = (0..pmf.len())
            .map(|x| ((self.a * x as f64 - self.b) / self.delta).round() as i64)
            .collect();
        let mut m = vec![0.0; n * n];
        let rows = Rows::new(&steps, &pmf);
        for i in 0..n {
            let row = &mut m[i * n..(i + 1) * n];
            if let (Some(rows), true) = (&rows, i > 0) {
                rows.fill(row, i);
                continue;
            }
            row[i] += 1.0;
            for (&k, &px) in steps.iter().zip(&pmf) {
                let j = (i as i64 + k).max(0);
                if j >= n as i64 {
                    break;
                }
                row[j as usize] -= px;
            }
        }
        let mut arl = vec![1.0; n];
        match solve(&mut m, &mut arl, n) {
            Some(()) if arl[0].is_finite() && arl[0] > 0.0 => arl[0],
            _ => f64::INFINITY,
        }
    }

    /// The design whose in-control ARL is at least `arl0` with the smallest `h` found.
    /// When even `h = 0` waits longer (a large mean, where the shift is many standard
    /// deviations away), `h` is 0.
    pub fn for_arl(arl0: f64, a: f64, b: f64, dist: &CountDist) -> Self {
        let zero = Self::with_interval(a, b, 0.0);
        let arl_zero = zero.average_run_length(dist);
        if arl_zero >= arl0 {
            return zero;
        }
        let target = arl0.ln();
        let f = |h: f64| Self::with_interval(a, b, h).average_run_length(dist).ln() - target;
        // Bracket, then the Illinois variant of regula falsi on ln ARL, which is nearly
        // linear in h.
        let (mut lo, mut f_lo) = (0.0, arl_zero.ln() - target);
        let mut hi = 0.75 * target.max(1.0);
        let mut f_hi = f(hi);
        while f_hi < 0.0 {
            (lo, f_lo) = (hi, f_hi);
            hi *= 2.0;
            if hi > 1e6 {
                return Self::with_interval(a, b, hi);
            }
            f_hi = f(hi);
        }
        let mut side = 0;
        let mut widths = [f64::INFINITY; 2];
        for _ in 0..60 {
            // Regula falsi, but bisect when the last two steps did not halve the bracket
            // (as at a jump of ARL(h)).
            let width = hi - lo;
            let h = if f_hi.is_finite() && f_hi > f_lo && width <= 0.5 * widths[0] {
                (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
            } else {
                0.5 * (lo + hi)
            };
            widths = [widths[1], width];
            let fh = f(h);
            // Within 0.5 % above the target run length is close enough.
            if (0.0..5e-3).contains(&fh) {
                return Self::with_interval(a, b, h);
            }
            if fh < 0.0 {
                (lo, f_lo) = (h, fh);
                if side == -1 {
                    f_hi /= 2.0;
                }
                side = -1;
            } else {
                (hi, f_hi) = (h, fh);
                if side == 1 {
                    f_lo /= 2.0;
                }
                side = 1;
            }
            // A bracket narrower than a sixteenth of a grid step straddles a jump.
            if hi - lo <= 1e-3 * hi {
                break;
            }
        }
        // Counts are discrete, so ARL(h) jumps: the upper end of the bracket is the
        // smallest h found whose run length is at least arl0.
        Self::with_interval(a, b, hi)
    }
}

impl NbCusum {
    /// A detector with `config`, once validated.
    pub fn new(config: CusumConfig) -> Result<Self, DetectError> {
        config.validate()?;
        Ok(Self {
            config,
            cache: HashMap::default(),
            last: None,
            shared: None,
        })
    }

    /// A detector with the same settings whose designs are shared with this one's and with
    /// those of every other detector made this way from either, so that threads judging
    /// series of one panel compute each design about once (a design depends only on its
    /// key, so which thread computes it does not change it).
    pub fn sharing(&mut self) -> Self {
        let shared = self
            .shared
            .get_or_insert_with(|| Arc::new(Mutex::new(self.cache.clone())))
            .clone();
        Self {
            config: self.config,
            cache: HashMap::default(),
            last: None,
            shared: Some(shared),
        }
    }

    /// The settings.
    pub fn config(&self) -> &CusumConfig {
        &self.config
    }

    /// The design for an in-control mean and dispersion size (`None`: Poisson), made for
    /// the mean and variance-to-mean ratio rounded to a grid (steps of 13 % and 28 %) and
    /// cached.
    fn design(&mut self, mean: f64, size: Option<f64>) -> Design {
        let asked = (mean.to_bits(), size.map(f64::to_bits));
        if let Some((key, design)) = self.last {
            if key == asked {
                return design;
            }
        }
        let mean = mean.max(self.config.min_mean);
        let phi = size.map_or(1.0, |r| 1.0 + mean / r).min(MAX_DISPERSION);
        let mkey = (mean.ln() * MEAN_STEPS).round() as i64;
        let pkey = (phi.ln() * DISPERSION_STEPS).round() as i64;
        let shift = self.config.shift;
        let arl0 = self.config.arl0;
        let shared = &self.shared;
        let design = *self.cache.entry((mkey, pkey)).or_insert_with(|| {
            let lock = |s: &Arc<Mutex<Designs>>| {
                // A poisoned lock only means another thread panicked: the designs it holds
                // are whole (each is inserted in one call).
                s.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get(&(mkey, pkey))
                    .copied()
            };
            if let Some(d) = shared.as_ref().and_then(lock) {
                return d;
            }
            let mu0 = (mkey as f64 / MEAN_STEPS).exp();
            let size = (pkey > 0).then(|| mu0 / ((pkey as f64 / DISPERSION_STEPS).exp() - 1.0));
            let (a, b) = llr_coefficients(mu0, shift * mu0, size);
            let d = Design::for_arl(arl0, a, b, &CountDist { mean: mu0, size });
            if let Some(s) = shared {
                s.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert((mkey, pkey), d);
            }
            d
        });
        self.last = Some((asked, design));
        design
    }

    /// The decision interval `h` (log-likelihood-ratio units) for an in-control mean and
    /// dispersion size (`None`: Poisson).
    pub fn decision_interval(&mut self, mean: f64, size: Option<f64>) -> f64 {
        self.design(mean, size).h
    }

    /// The baseline mean and dispersion size of a window whose counts sum to `sum` (a
    /// sum below 2⁵³ is exact in `f64`, so the mean is the one summed in `f64`; a window
    /// of zeros has variance 0 and is not summed again).
    fn baseline(&self, window: &[u64], sum: u128) -> (f64, Option<f64>) {
        let n = window.len() as f64;
        let mean = if sum < 1 << 53 {
            sum as f64 / n
        } else {
            window.iter().map(|&x| x as f64).sum::<f64>() / n
        };
        let size = match self.config.dispersion {
            Dispersion::Poisson => None,
            Dispersion::Fixed(r) => Some(r),
            Dispersion::Estimate if sum == 0 => None,
            Dispersion::Estimate => {
                let var = window
                    .iter()
                    .map(|&x| (x as f64 - mean).powi(2))
                    .sum::<f64>()
                    / (n - 1.0);
                (var > mean * (1.0 + POISSON_SHARE) && mean > 0.0)
                    .then(|| mean * mean / (var - mean))
            }
        };
        (mean.max(self.config.min_mean), size)
    }

    /// Judges every period of `series` that has a full baseline window before it
    /// (positions from `baseline + guard` on), restarting the statistic after each signal.
    pub fn assess(&mut self, series: &[u64]) -> Vec<Assessment> {
        let start = self.config.baseline + self.config.guard;
        let mut out = Vec::with_capacity(series.len().saturating_sub(start));
        self.judge(series, true, &mut |a| out.push(a));
        out
    }

    /// Judges every period as [`assess`](Self::assess) does, with the same statistic, but
    /// hands only the assessments that signal to `signal`; returns the number of periods
    /// judged. A period met with the statistic at 0 and a count of 0 stays at 0 whatever
    /// the baseline (the increment `a·0 − b` is not positive), so its baseline and design
    /// are not computed.
    pub fn signals(&mut self, series: &[u64], signal: &mut dyn FnMut(Assessment)) -> usize {
        self.judge(series, false, signal)
    }

    /// The judgement loop: every assessment to `emit` when `all`, else only the signals.
    fn judge(&mut self, series: &[u64], all: bool, emit: &mut dyn FnMut(Assessment)) -> usize {
        let start = self.config.baseline + self.config.guard;
        // The statistic in log-likelihood-ratio units, carried between designs.
        let mut s = 0.0;
        // The window's sum, carried exactly from period to period.
        let mut sum: u128 = 0;
        for t in start..series.len() {
            let end = t - self.config.guard;
            let first = end - self.config.baseline;
            let window = &series[first..end];
            if t == start {
                sum = window.iter().map(|&x| u128::from(x)).sum();
            } else {
                sum = sum + u128::from(series[end - 1]) - u128::from(series[first - 1]);
            }
            let x = series[t];
            if !all && x == 0 && s == 0.0 {
                // From state 0 a count of 0 steps to max(0, round(−b/δ)) = 0 (b > 0 in
                // every design; with h = 0 the increment −b is not positive): no signal,
                // and the statistic stays 0.
                continue;
            }
            let (mu0, size) = self.baseline(window, sum);
            let design = self.design(mu0, size);
            let state = design.state(s);
            let threshold = design.threshold(state);
            let next = design.step(state, x);
            let signal = next >= STATES as i64;
            s = next as f64 * design.delta;
            if all || signal {
                emit(Assessment {
                    method: Method::NbCusum,
                    index: t,
                    observed: x,
                    expected: mu0,
                    threshold,
                    signal,
                    score: if design.h > 0.0 {
                        s / design.h
                    } else if signal {
                        f64::INFINITY
                    } else {
                        0.0
                    },
                    detail: Detail::Cusum {
                        statistic: if design.h > 0.0 { s } else { 0.0 },
                        decision_interval: design.h,
                        size,
                    },
                });
            }
            if signal {
                s = 0.0;
            }
        }
        series.len().saturating_sub(start)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::Rng;
    use super::*;

    fn poisson(mean: f64) -> CountDist {
        CountDist { mean, size: None }
    }

    fn design(mean: f64, arl0: f64) -> Design {
        let (a, b) = llr_coefficients(mean, 2.0 * mean, None);
        Design::for_arl(arl0, a, b, &poisson(mean))
    }

    /// Runs a design on `n` Poisson draws with a known mean, restarting after each
    /// signal, and returns the number of signals.
    fn simulate(design: &Design, mean: f64, n: usize, seed: u64) -> usize {
        let mut rng = Rng(seed);
        let mut state = 0;
        let mut signals = 0;
        for _ in 0..n {
            state = design.step(state, rng.poisson(mean));
            if state >= STATES as i64 {
                signals += 1;
                state = 0;
            }
        }
        signals
    }

    #[test]
    fn the_markov_chain_run_length_matches_simulation() {
        // For each mean, the design for ARL₀ = 100 has a run length of at least 100, and
        // running it on in-control Poisson counts signals as often as the chain says.
        for (mean, seed) in [(0.3, 1), (2.0, 2), (5.0, 3), (12.0, 4)] {
            let d = design(mean, 100.0);
            let chain = d.average_run_length(&poisson(mean));
            assert!(chain >= 100.0, "mean {mean}: {d:?}, chain ARL {chain}");
            let n = 1_000_000;
            let simulated = n as f64 / simulate(&d, mean, n, seed) as f64;
            assert!(
                (simulated / chain - 1.0).abs() < 0.05,
                "mean {mean}: h {:.3}, chain ARL {chain:.1}, simulated {simulated:.1}",
                d.h
            );
        }
    }

    /// The judgement loop as it was before the running sums (test only).
    fn reference_assess(config: CusumConfig, series: &[u64]) -> Vec<Assessment> {
        let mut designs = NbCusum::new(config).unwrap();
        let start = config.baseline + config.guard;
        let mut out = Vec::new();
        let mut s = 0.0;
        for t in start..series.len() {
            let end = t - config.guard;
            let window = &series[end - config.baseline..end];
            let n = window.len() as f64;
            let mean = window.iter().map(|&x| x as f64).sum::<f64>() / n;
            let size = match config.dispersion {
                Dispersion::Poisson => None,
                Dispersion::Fixed(r) => Some(r),
                Dispersion::Estimate => {
                    let var = window
                        .iter()
                        .map(|&x| (x as f64 - mean).powi(2))
                        .sum::<f64>()
                        / (n - 1.0);
                    (var > mean * (1.0 + POISSON_SHARE) && mean > 0.0)
                        .then(|| mean * mean / (var - mean))
                }
            };
            let mu0 = mean.max(config.min_mean);
            let design = designs.design(mu0, size);
            let state = design.state(s);
            let x = series[t];
            let threshold = design.threshold(state);
            let next = design.step(state, x);
            let signal = next >= STATES as i64;
            s = next as f64 * design.delta;
            out.push(Assessment {
                method: Method::NbCusum,
                index: t,
                observed: x,
                expected: mu0,
                threshold,
                signal,
                score: if design.h > 0.0 {
                    s / design.h
                } else if signal {
                    f64::INFINITY
                } else {
                    0.0
                },
                detail: Detail::Cusum {
                    statistic: if design.h > 0.0 { s } else { 0.0 },
                    decision_interval: design.h,
                    size,
                },
            });
            if signal {
                s = 0.0;
            }
        }
        out
    }

    /// Bits of every number of an assessment, for exact comparison.
    fn bits(a: &Assessment) -> Vec<u64> {
        let mut v = vec![
            a.index as u64,
            a.observed,
            a.expected.to_bits(),
            a.threshold.to_bits(),
            u64::from(a.signal),
            a.score.to_bits(),
        ];
        if let Detail::Cusum {
            statistic,
            decision_interval,
            size,
        } = a.detail
        {
            v.extend([
                statistic.to_bits(),
                decision_interval.to_bits(),
                size.map_or(u64::MAX, f64::to_bits),
            ]);
        }
        v
    }

    #[test]
    fn the_running_sums_give_bit_for_bit_the_reference_judgements() {
        let mut rng = Rng(77);
        let mut judged = 0;
        for (k, dispersion) in [
            Dispersion::Estimate,
            Dispersion::Poisson,
            Dispersion::Fixed(2.0),
        ]
        .into_iter()
        .enumerate()
        {
            let config = CusumConfig {
                dispersion,
                ..CusumConfig::default()
            };
            // One detector for every series, as the recompute uses it.
            let mut detector = NbCusum::new(config).unwrap();
            for j in 0..20 {
                let mean = [0.02, 0.3, 2.0, 9.0, 80.0][j % 5];
                let mut series = rng.series((0..240).map(|t| {
                    if (t + 13 * j) % 41 < 4 {
                        4.0 * mean + 1.0
                    } else {
                        mean
                    }
                }));
                for t in (j % 7..240).step_by(31) {
                    series[t] = series[t] * 15 + 2;
                }
                let fast = detector.assess(&series);
                let reference = reference_assess(config, &series);
                assert_eq!(fast.len(), reference.len());
                for (a, b) in fast.iter().zip(&reference) {
                    assert_eq!(bits(a), bits(b), "dispersion {k} series {j}: {a:?} {b:?}");
                    judged += 1;
                }
            }
        }
        assert!(judged > 10_000, "{judged}");
    }

    #[test]
    fn the_signals_path_hands_over_exactly_the_signals_of_assess() {
        // Sparse series (long runs of zeros, where the signals path skips periods), busy
        // ones and bursts, under every dispersion setting; one detector per path.
        let mut rng = Rng(78);
        let mut skipped_kinds = 0;
        for dispersion in [
            Dispersion::Estimate,
            Dispersion::Poisson,
            Dispersion::Fixed(2.0),
        ] {
            let config = CusumConfig {
                dispersion,
                ..CusumConfig::default()
            };
            let (mut full, mut fast) =
                (NbCusum::new(config).unwrap(), NbCusum::new(config).unwrap());
            for j in 0..30 {
                let mean = [0.0, 0.01, 0.05, 0.3, 2.0, 40.0][j % 6];
                let mut series = rng.series((0..240).map(|t| {
                    if (t + 11 * j) % 53 < 3 {
                        5.0 * mean + 0.5
                    } else {
                        mean
                    }
                }));
                if j % 4 == 0 {
                    // A lone burst after years of zeros.
                    series[200] += 7;
                }
                let all = full.assess(&series);
                let mut signals = Vec::new();
                let judged = fast.signals(&series, &mut |a| signals.push(a));
                assert_eq!(judged, all.len(), "series {j}");
                let expected: Vec<Vec<u64>> = all.iter().filter(|a| a.signal).map(bits).collect();
                let got: Vec<Vec<u64>> = signals.iter().map(bits).collect();
                assert_eq!(got, expected, "{dispersion:?} series {j}");
                skipped_kinds += usize::from(series.iter().filter(|&&x| x == 0).count() > 100);
            }
        }
        assert!(skipped_kinds > 20, "{skipped_kinds}");
    }

    /// The in-control ARL as it was computed before the rows were made from runs of
    /// counts (test only): one grid step per state and count.
    fn reference_run_length(d: &Design, dist: &CountDist) -> f64 {
        if d.delta == 0.0 {
            let p = dist.upper_tail((d.b / d.a).floor() as u64);
            return if p > 0.0 { 1.0 / p } else { f64::INFINITY };
        }
        let n = STATES;
        let x_max = (((d.h + d.b) / d.a).floor() as usize + 1).min(1_000_000);
        let pmf = dist.pmf(x_max + 1);
        let mut m = vec![0.0; n * n];
        for i in 0..n {
            let row = &mut m[i * n..(i + 1) * n];
            row[i] += 1.0;
            for (x, &px) in pmf.iter().enumerate() {
                let j = d.step(i as i64, x as u64);
                if j >= n as i64 {
                    break;
                }
                row[j as usize] -= px;
            }
        }
        let mut arl = vec![1.0; n];
        match solve(&mut m, &mut arl, n) {
            Some(()) if arl[0].is_finite() && arl[0] > 0.0 => arl[0],
            _ => f64::INFINITY,
        }
    }

    #[test]
    fn the_run_length_is_bit_for_bit_the_reference_one() {
        // Means from quiet to busy (where many counts share a grid step and many land on
        // state 0), Poisson and overdispersed, decision intervals around the designs'.
        let mut checked = 0;
        let mut chains = 0;
        for mean in [0.1, 0.4, 1.3, 3.7, 12.0, 45.0, 160.0, 600.0] {
            for size in [None, Some(0.5), Some(4.0), Some(50.0)] {
                let dist = CountDist { mean, size };
                let (a, b) = llr_coefficients(mean, 2.0 * mean, size);
                let d = Design::for_arl(100.0, a, b, &dist);
                for h in [d.h, 0.3 * d.h + 0.01, 2.0 * d.h + 0.5, 7.3] {
                    let d = Design::with_interval(a, b, h);
                    let (fast, slow) =
                        (d.average_run_length(&dist), reference_run_length(&d, &dist));
                    assert_eq!(
                        fast.to_bits(),
                        slow.to_bits(),
                        "{mean} {size:?} {h}: {fast} {slow}"
                    );
                    checked += 1;
                    chains += usize::from(d.delta > 0.0);
                }
            }
        }
        assert_eq!(checked, 128);
        assert!(chains > 100, "{chains}");
    }

    #[test]
    fn discrete_counts_make_the_run_length_jump() {
        // Where ARL(h) is nearly continuous (overdispersed counts, small steps) the target
        // is met closely; for a Poisson mean of 12 a single count of 21 from a statistic of
        // 0 crosses h or not, and the run length jumps from about 83 to about 139: the
        // detector takes the longer one.
        let nb = CountDist {
            mean: 5.0,
            size: Some(2.5),
        };
        let (a, b) = llr_coefficients(5.0, 10.0, nb.size);
        let near = Design::for_arl(100.0, a, b, &nb).average_run_length(&nb);
        assert!((100.0..101.0).contains(&near), "{near}");
        let d = design(12.0, 100.0);
        let arl = d.average_run_length(&poisson(12.0));
        assert!((130.0..150.0).contains(&arl), "{arl}");
        let below = Design::with_interval(d.a, d.b, d.h * 0.999);
        assert!(below.average_run_length(&poisson(12.0)) < 90.0);
    }

    #[test]
    fn a_large_mean_cannot_reach_the_false_alarm_rate_and_gets_h_zero() {
        // Doubling 40 is 6 standard deviations away: signalling whenever a·x > b already
        // waits about 250 periods on average.
        let d = design(40.0, 100.0);
        assert_eq!(d.h, 0.0);
        let arl = d.average_run_length(&poisson(40.0));
        assert!(arl > 200.0, "{arl}");
        let signals = simulate(&d, 40.0, 100_000, 6);
        assert!((300..=600).contains(&signals), "{signals}");
        assert_eq!(d.threshold(0), d.b / d.a);
    }

    #[test]
    fn decision_intervals_grow_with_the_run_length() {
        let h: Vec<f64> = [20.0, 100.0, 500.0]
            .iter()
            .map(|&arl| design(5.0, arl).h)
            .collect();
        assert!(h[0] < h[1] && h[1] < h[2], "{h:?}");
        // Overdispersed counts get their own interval for the same run length.
        let (a, b) = llr_coefficients(5.0, 10.0, Some(2.0));
        let nb = CountDist {
            mean: 5.0,
            size: Some(2.0),
        };
        let d = Design::for_arl(100.0, a, b, &nb);
        let arl = d.average_run_length(&nb);
        assert!((100.0..103.0).contains(&arl), "{arl}");
    }

    #[test]
    fn the_likelihood_ratio_tends_to_the_poisson_one() {
        let (a, b) = llr_coefficients(3.0, 6.0, None);
        let (a2, b2) = llr_coefficients(3.0, 6.0, Some(1e9));
        assert!((a - a2).abs() < 1e-6 && (b - b2).abs() < 1e-6);
        assert!((a - 2f64.ln()).abs() < 1e-15 && (b - 3.0).abs() < 1e-15);
    }

    #[test]
    fn detects_a_step_change_within_a_few_periods() {
        let mut cusum = NbCusum::new(CusumConfig::default()).unwrap();
        for seed in 0..20 {
            let mut rng = Rng(100 + seed);
            let series = rng.series((0..160).map(|t| if t < 120 { 5.0 } else { 15.0 }));
            let assessed = cusum.assess(&series);
            let first = assessed
                .iter()
                .find(|a| a.signal && a.index >= 120)
                .map(|a| a.index);
            let delay = first.map(|i| i - 120);
            assert!(
                delay.is_some_and(|d| d <= 3),
                "seed {seed}: delay {delay:?}"
            );
        }
    }

    #[test]
    fn a_flat_poisson_series_gives_the_configured_false_alarm_rate() {
        // Estimated baselines (24 periods) add noise to μ₀, which raises the false-alarm
        // rate a little above 1/ARL₀; it stays close.
        let config = CusumConfig {
            dispersion: Dispersion::Poisson,
            ..CusumConfig::default()
        };
        let mut cusum = NbCusum::new(config).unwrap();
        let mut rng = Rng(9);
        let (mut periods, mut signals) = (0, 0);
        for _ in 0..10 {
            let series = rng.series((0..5_000).map(|_| 8.0));
            let a = cusum.assess(&series);
            periods += a.len();
            signals += a.iter().filter(|a| a.signal).count();
        }
        let rate = signals as f64 / periods as f64;
        assert!(
            (0.007..=0.016).contains(&rate),
            "false-alarm rate {rate:.4} against 0.01"
        );
    }

    #[test]
    fn every_assessment_states_expected_observed_and_threshold() {
        let mut cusum = NbCusum::new(CusumConfig::default()).unwrap();
        let mut rng = Rng(5);
        let series = rng.series((0..100).map(|t| if t < 60 { 3.0 } else { 12.0 }));
        let assessed = cusum.assess(&series);
        assert_eq!(assessed.len(), 100 - 25);
        assert_eq!(assessed[0].index, 25);
        for a in &assessed {
            assert_eq!(a.observed, series[a.index]);
            assert_eq!(a.signal, a.observed as f64 > a.threshold, "{a:?}");
            assert_eq!(a.signal, a.score > 1.0);
            let window = &series[a.index - 25..a.index - 1];
            let mean = window.iter().sum::<u64>() as f64 / 24.0;
            assert!((a.expected - mean.max(0.1)).abs() < 1e-12);
        }
        assert!(assessed.iter().any(|a| a.signal));
    }

    #[test]
    fn a_quiet_baseline_uses_the_floor_and_a_burst_signals() {
        let mut cusum = NbCusum::new(CusumConfig::default()).unwrap();
        let mut series = vec![0u64; 40];
        series[35] = 4;
        let assessed = cusum.assess(&series);
        let a = assessed.iter().find(|a| a.index == 35).unwrap();
        assert_eq!(a.expected, 0.1);
        assert!(a.signal);
        assert!(assessed.iter().filter(|a| a.index < 35).all(|a| !a.signal));
    }

    #[test]
    fn overdispersion_is_estimated_from_the_baseline() {
        let mut cusum = NbCusum::new(CusumConfig::default()).unwrap();
        let series: Vec<u64> = (0..30).map(|t| if t % 2 == 0 { 0 } else { 10 }).collect();
        let a = cusum.assess(&series);
        let Detail::Cusum { size, .. } = a[0].detail else {
            panic!("not a CUSUM detail")
        };
        // Mean 5, variance 25·24/23: size 25 / (26.09 − 5) ≈ 1.19.
        assert!(size.is_some_and(|r| (r - 25.0 / (25.0 * 24.0 / 23.0 - 5.0)).abs() < 1e-9));
    }

    #[test]
    fn settings_are_checked() {
        let bad = [
            CusumConfig {
                arl0: 1.0,
                ..CusumConfig::default()
            },
            CusumConfig {
                shift: 1.0,
                ..CusumConfig::default()
            },
            CusumConfig {
                baseline: 1,
                ..CusumConfig::default()
            },
            CusumConfig {
                min_mean: 0.0,
                ..CusumConfig::default()
            },
            CusumConfig {
                dispersion: Dispersion::Fixed(-1.0),
                ..CusumConfig::default()
            },
        ];
        for c in bad {
            assert!(NbCusum::new(c).is_err(), "{c:?}");
        }
    }
}
