//! The fitting code as it was before the allocation-free rewrite (test only): the new
//! code must give bit-for-bit the same judgements.

#![allow(clippy::all)]

use super::super::dist::normal_quantile;
use super::{FarringtonConfig, LimitMethod, MEDIAN_CHI2_1};

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

/// The old quantile of a count distribution (before the logarithm table).
fn quantile(mean: f64, size: Option<f64>, p: f64) -> u64 {
    if mean <= 0.0 {
        return 0;
    }
    let start = match size {
        None => -mean,
        Some(r) => -r * (mean / r).ln_1p(),
    };
    let step = |x: u64| {
        let x = x as f64;
        match size {
            None => mean.ln() - (x + 1.0).ln(),
            Some(r) => (x + r).ln() - (x + 1.0).ln() + (mean / (r + mean)).ln(),
        }
    };
    let sd = match size {
        None => mean.sqrt(),
        Some(r) => (mean + mean * mean / r).sqrt(),
    };
    let limit = (mean + 60.0 * sd + 100.0) as u64;
    let mut lp = start;
    let mut cdf = 0.0;
    for x in 0..=limit {
        cdf += lp.exp();
        if cdf >= p {
            return x;
        }
        lp += step(x);
    }
    limit
}

/// The old judgement of one baseline: expected, threshold, φ, trend kept.
pub(super) fn judge(c: &FarringtonConfig, y: &[f64], tau: &[f64]) -> (f64, f64, f64, bool) {
    let ones = vec![1.0; y.len()];
    let (expected, threshold, phi, trend) = match fit_either(y, tau, &ones, c.trend) {
        None => (0.0, 0.0, 1.0, false), // a baseline of zeros
        Some(mut fit) => {
            let mut weights = ones;
            let mut phi = fit.overdispersion(y, &weights);
            if c.reweight {
                // Start from the median and a robust φ, so that a large past outbreak
                // cannot hide behind the dispersion it causes; then reweight once and refit.
                let (current, current_phi) = robust_start(y).unwrap_or((fit.clone(), phi));
                weights = outbreak_weights(y, tau, &current, current_phi, c.reweight_threshold);
                let current = fit_either(y, tau, &weights, c.trend).unwrap_or(current);
                let current_phi = current.overdispersion(y, &weights);
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
                    quantile(mu, size, 1.0 - c.alpha) as f64
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
    (expected, threshold, phi, trend)
}
