//! The model of one horizon: features standardised on the training rows, a logistic
//! regression for `P(at least one death)` and a ridge (Gaussian, identity link)
//! regression for the expected `ln(1 + fatalities)` — the scale the forecasts are scored
//! on, so the fit minimises that very error and cannot extrapolate exponentially as a log
//! link did. Both carry an L2 penalty (the intercept is not penalised) and are fitted by
//! Newton's method (iteratively reweighted least squares; one step for the ridge) with
//! step halving, from the intercept-only fit. Deterministic: no random start.

// Matrix and series code reads as the formulas it implements: indices, not iterators.
#![allow(clippy::needless_range_loop)]

use super::ForecastError;

/// Settings of the model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelConfig {
    /// L2 penalty per training row of the logistic regression (on standardised features):
    /// the fit minimises the mean log-loss plus `l2 / 2 · ‖w‖²`.
    pub l2_probability: f64,
    /// L2 penalty per training row of the ridge regression of `ln(1 + fatalities)`: half
    /// the mean squared error plus `l2 / 2 · ‖w‖²`.
    pub l2_fatalities: f64,
    /// Newton iterations at most.
    pub max_iterations: usize,
    /// The first origin used for training rows, so that every row has a year of history
    /// behind it.
    pub first_origin: usize,
    /// Months of the most recent training targets held out to calibrate the probability
    /// (Platt scaling, [`Calibration`]); 0 turns calibration off.
    pub calibration_months: usize,
}

impl Default for ModelConfig {
    /// Penalties 10⁻³ and 10⁻³, 50 iterations, training rows from the 13th month,
    /// probabilities calibrated on the last 24 months of training targets.
    fn default() -> Self {
        Self {
            l2_probability: 1e-3,
            l2_fatalities: 1e-3,
            max_iterations: 50,
            first_origin: 12,
            calibration_months: 24,
        }
    }
}

/// A forecast for one unit and month.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    /// Probability of at least one death.
    pub probability: f64,
    /// Expected `ln(1 + fatalities)`.
    pub log1p_fatalities: f64,
}

impl Prediction {
    /// Fatalities on the natural scale: `exp(expected ln(1 + fatalities)) − 1`, a central
    /// value (below the mean of a skewed distribution).
    pub fn fatalities(&self) -> f64 {
        self.log1p_fatalities.exp_m1()
    }
}

/// A linear predictor on standardised features.
#[derive(Debug, Clone, PartialEq)]
enum Linear {
    /// `intercept + Σ wᵢ zᵢ`.
    Fitted { intercept: f64, weights: Vec<f64> },
    /// A constant on the response scale (a training set with one outcome only).
    Constant(f64),
}

/// Platt scaling of a probability: `p' = σ(a + b · logit(p))`, fitted by logistic
/// regression of the outcomes of held-out rows on the logit of their out-of-sample
/// probabilities, with Platt's smoothed targets (`(N₊ + 1) / (N₊ + 2)` for an outcome,
/// `1 / (N₋ + 2)` for none) so that a small calibration set cannot make it certain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    /// The intercept `a`.
    pub a: f64,
    /// The slope `b` on the logit.
    pub b: f64,
}

/// Outcomes of each kind a calibration set needs at least; with fewer the probabilities
/// stay as the regression gives them.
pub const MIN_CALIBRATION_OUTCOMES: usize = 10;

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    (p / (1.0 - p)).ln()
}

impl Calibration {
    /// Fits the scaling on held-out `probabilities` and their `outcomes`; `None` when
    /// either kind of outcome is rarer than [`MIN_CALIBRATION_OUTCOMES`], or the fit fails.
    pub fn fit(probabilities: &[f64], outcomes: &[bool]) -> Option<Self> {
        let positives = outcomes.iter().filter(|&&o| o).count();
        let negatives = outcomes.len() - positives;
        if positives < MIN_CALIBRATION_OUTCOMES
            || negatives < MIN_CALIBRATION_OUTCOMES
            || probabilities.len() != outcomes.len()
        {
            return None;
        }
        let hi = (positives as f64 + 1.0) / (positives as f64 + 2.0);
        let lo = 1.0 / (negatives as f64 + 2.0);
        let x: Vec<Vec<f64>> = probabilities.iter().map(|&p| vec![logit(p)]).collect();
        let y: Vec<f64> = outcomes.iter().map(|&o| if o { hi } else { lo }).collect();
        let config = ModelConfig::default();
        let (a, w) = newton(&x, &y, Family::Logistic, 0.0, &config).ok()?;
        let c = Self { a, b: w[0] };
        (c.a.is_finite() && c.b.is_finite()).then_some(c)
    }

    /// The calibrated probability.
    pub fn apply(&self, p: f64) -> f64 {
        1.0 / (1.0 + (-(self.a + self.b * logit(p))).exp())
    }
}

/// A fitted model for one horizon.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    mean: Vec<f64>,
    scale: Vec<f64>,
    probability: Linear,
    /// The scaling of the regression's probability, if one was fitted.
    calibration: Option<Calibration>,
    fatalities: Linear,
    /// The largest training target: forecasts stay within `[0, max_target]`, never beyond
    /// anything seen.
    max_target: f64,
    rows: usize,
}

impl Model {
    /// Fits the model on `rows` (each of the same width) with targets `log1p_fatalities`
    /// (≥ 0; a row is fatal when its target is above 0).
    pub fn fit(
        rows: &[Vec<f64>],
        log1p_fatalities: &[f64],
        config: &ModelConfig,
    ) -> Result<Self, ForecastError> {
        let n = rows.len();
        if n == 0 || n != log1p_fatalities.len() {
            return Err(ForecastError::invalid(
                "training rows",
                "at least one row, with one target per row",
            ));
        }
        let p = rows[0].len();
        if rows.iter().any(|r| r.len() != p) {
            return Err(ForecastError::invalid("training rows", "rows of one width"));
        }
        let mut mean = vec![0.0; p];
        for r in rows {
            for (m, v) in mean.iter_mut().zip(r) {
                *m += v;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let mut scale = vec![0.0; p];
        for r in rows {
            for ((s, v), m) in scale.iter_mut().zip(r).zip(&mean) {
                *s += (v - m) * (v - m);
            }
        }
        // A constant column gets scale 0: its standardised value is always 0.
        scale.iter_mut().for_each(|s| {
            let sd = (*s / n as f64).sqrt();
            *s = if sd > 1e-12 { 1.0 / sd } else { 0.0 };
        });
        let x: Vec<Vec<f64>> = rows
            .iter()
            .map(|r| {
                r.iter()
                    .zip(mean.iter().zip(&scale))
                    .map(|(v, (m, s))| (v - m) * s)
                    .collect()
            })
            .collect();
        let fatal: Vec<f64> = log1p_fatalities
            .iter()
            .map(|&y| if y > 0.0 { 1.0 } else { 0.0 })
            .collect();
        let positives = fatal.iter().filter(|&&f| f > 0.0).count();

        let probability = if positives == 0 || positives == n {
            // One outcome only: a smoothed share (Laplace's rule).
            Linear::Constant((positives as f64 + 0.5) / (n as f64 + 1.0))
        } else {
            let (intercept, weights) =
                newton(&x, &fatal, Family::Logistic, config.l2_probability, config)?;
            Linear::Fitted { intercept, weights }
        };

        let fatalities = if positives == 0 {
            Linear::Constant(0.0)
        } else {
            let (intercept, weights) = newton(
                &x,
                log1p_fatalities,
                Family::Gaussian,
                config.l2_fatalities,
                config,
            )?;
            Linear::Fitted { intercept, weights }
        };
        Ok(Self {
            mean,
            scale,
            probability,
            calibration: None,
            fatalities,
            max_target: log1p_fatalities.iter().copied().fold(0.0, f64::max),
            rows: n,
        })
    }

    /// The number of training rows.
    pub fn training_rows(&self) -> usize {
        self.rows
    }

    /// Whether the probability comes from a regression (not a constant share, which
    /// calibration cannot improve).
    pub fn has_fitted_probability(&self) -> bool {
        matches!(self.probability, Linear::Fitted { .. })
    }

    /// Scales the regression's probabilities from now on (a constant share stays as is).
    pub fn set_calibration(&mut self, calibration: Option<Calibration>) {
        self.calibration = calibration;
    }

    /// The calibration in use, if any.
    pub fn calibration(&self) -> Option<Calibration> {
        self.calibration
    }

    fn linear(&self, l: &Linear, x: &[f64]) -> Option<f64> {
        match l {
            Linear::Constant(_) => None,
            Linear::Fitted { intercept, weights } => Some(
                intercept
                    + weights
                        .iter()
                        .zip(x)
                        .zip(self.mean.iter().zip(&self.scale))
                        .map(|((w, v), (m, s))| w * (v - m) * s)
                        .sum::<f64>(),
            ),
        }
    }

    /// The forecast for one row of features (the width of the training rows).
    pub fn predict(&self, x: &[f64]) -> Prediction {
        let probability = match (&self.probability, self.linear(&self.probability, x)) {
            (Linear::Constant(c), _) => *c,
            (_, Some(z)) => {
                let p = 1.0 / (1.0 + (-z).exp());
                self.calibration.map_or(p, |c| c.apply(p))
            }
            _ => 0.0,
        };
        let log1p_fatalities = match (&self.fatalities, self.linear(&self.fatalities, x)) {
            (Linear::Constant(c), _) => *c,
            (_, Some(z)) => z.clamp(0.0, self.max_target),
            _ => 0.0,
        };
        Prediction {
            probability,
            log1p_fatalities,
        }
    }
}

/// The GLM families: each has the gradient `Xᵀ(μ − y)`, and the Hessian `Xᵀ diag(v) X`
/// with `v = μ(1 − μ)` (logistic) or `v = 1` (Gaussian).
#[derive(Clone, Copy, PartialEq)]
enum Family {
    Logistic,
    Gaussian,
}

impl Family {
    fn mean(self, eta: f64) -> f64 {
        match self {
            Self::Logistic => 1.0 / (1.0 + (-eta).exp()),
            Self::Gaussian => eta,
        }
    }

    fn variance(self, mu: f64) -> f64 {
        match self {
            Self::Logistic => mu * (1.0 - mu),
            Self::Gaussian => 1.0,
        }
    }

    /// The negative log-likelihood of one row (up to a constant in `y`).
    fn loss(self, eta: f64, y: f64) -> f64 {
        match self {
            // ln(1 + e^η) − yη, computed stably.
            Self::Logistic => eta.max(0.0) + (-eta.abs()).exp().ln_1p() - y * eta,
            Self::Gaussian => 0.5 * (eta - y) * (eta - y),
        }
    }

    fn start(self, mean_y: f64) -> f64 {
        let m = mean_y.max(1e-9);
        match self {
            Self::Logistic => (m / (1.0 - m).max(1e-9)).ln(),
            Self::Gaussian => mean_y,
        }
    }
}

fn eta(b: &[f64], row: &[f64]) -> f64 {
    b[0] + b[1..].iter().zip(row).map(|(w, v)| w * v).sum::<f64>()
}

/// Mean loss plus `l2 / 2 · ‖w‖²`.
fn objective(x: &[Vec<f64>], y: &[f64], family: Family, l2: f64, b: &[f64]) -> f64 {
    let n = x.len() as f64;
    x.iter()
        .zip(y)
        .map(|(r, &yi)| family.loss(eta(b, r), yi))
        .sum::<f64>()
        / n
        + 0.5 * l2 * b[1..].iter().map(|w| w * w).sum::<f64>()
}

/// Solves `a · x = g` for a symmetric positive definite `a` (Cholesky); `None` when it
/// is not positive definite.
fn solve(mut a: Vec<Vec<f64>>, g: &[f64]) -> Option<Vec<f64>> {
    let k = g.len();
    for j in 0..k {
        let mut d = a[j][j];
        for m in 0..j {
            d -= a[j][m] * a[j][m];
        }
        if d <= 0.0 || !d.is_finite() {
            return None;
        }
        let d = d.sqrt();
        a[j][j] = d;
        for i in j + 1..k {
            let mut s = a[i][j];
            for m in 0..j {
                s -= a[i][m] * a[j][m];
            }
            a[i][j] = s / d;
        }
    }
    let mut z = g.to_vec();
    for i in 0..k {
        for m in 0..i {
            z[i] -= a[i][m] * z[m];
        }
        z[i] /= a[i][i];
    }
    for i in (0..k).rev() {
        for m in i + 1..k {
            z[i] -= a[m][i] * z[m];
        }
        z[i] /= a[i][i];
    }
    Some(z)
}

/// Fits `family` with an L2 penalty on the weights by Newton's method with step halving;
/// returns the intercept and the weights.
fn newton(
    x: &[Vec<f64>],
    y: &[f64],
    family: Family,
    l2: f64,
    config: &ModelConfig,
) -> Result<(f64, Vec<f64>), ForecastError> {
    let n = x.len() as f64;
    let p = x.first().map_or(0, Vec::len);
    let k = p + 1;
    let mut b = vec![0.0; k];
    b[0] = family.start(y.iter().sum::<f64>() / n);
    let mut current = objective(x, y, family, l2, &b);
    for _ in 0..config.max_iterations.max(1) {
        let mut g = vec![0.0; k];
        let mut h = vec![vec![0.0; k]; k];
        for (r, &yi) in x.iter().zip(y) {
            let mu = family.mean(eta(&b, r));
            let v = family.variance(mu).max(1e-12);
            let resid = mu - yi;
            g[0] += resid;
            h[0][0] += v;
            for i in 0..p {
                g[i + 1] += resid * r[i];
                h[i + 1][0] += v * r[i];
                for j in 0..=i {
                    h[i + 1][j + 1] += v * r[i] * r[j];
                }
            }
        }
        for i in 0..k {
            g[i] /= n;
            for j in 0..=i {
                h[i][j] /= n;
                h[j][i] = h[i][j];
            }
        }
        for i in 1..k {
            g[i] += l2 * b[i];
            h[i][i] += l2;
        }
        // A tiny ridge keeps the system solvable when columns are constant.
        for (i, row) in h.iter_mut().enumerate() {
            row[i] += 1e-10;
        }
        let step = solve(h, &g).ok_or_else(|| {
            ForecastError::Fit("the Hessian is not positive definite".to_string())
        })?;
        let mut t = 1.0;
        let mut improved = false;
        for _ in 0..30 {
            let trial: Vec<f64> = b.iter().zip(&step).map(|(bi, s)| bi - t * s).collect();
            let value = objective(x, y, family, l2, &trial);
            if value.is_finite() && value <= current {
                b = trial;
                improved = current - value > 1e-12 * (1.0 + current.abs());
                current = value;
                break;
            }
            t /= 2.0;
        }
        let size = step.iter().fold(0.0f64, |m, s| m.max((t * s).abs()));
        if !improved || size < 1e-8 {
            break;
        }
    }
    if b.iter().any(|v| !v.is_finite()) {
        return Err(ForecastError::Fit("the fit did not converge".to_string()));
    }
    Ok((b[0], b[1..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_a_monotone_relation_and_handles_one_class() {
        // Fatal when x > 5; more deaths for larger x.
        let rows: Vec<Vec<f64>> = (0..200).map(|i| vec![f64::from(i % 11), 1.0]).collect();
        let y: Vec<f64> = rows
            .iter()
            .map(|r| {
                if r[0] > 5.0 {
                    (r[0] - 5.0).ln_1p()
                } else {
                    0.0
                }
            })
            .collect();
        let m = Model::fit(&rows, &y, &ModelConfig::default()).unwrap();
        let low = m.predict(&[1.0, 1.0]);
        let high = m.predict(&[9.0, 1.0]);
        assert!(low.probability < 0.2, "{low:?}");
        assert!(high.probability > 0.8, "{high:?}");
        assert!(high.log1p_fatalities > low.log1p_fatalities + 0.5);
        assert!((high.fatalities() - high.log1p_fatalities.exp_m1()).abs() < 1e-12);

        let zeros = vec![0.0; 200];
        let m = Model::fit(&rows, &zeros, &ModelConfig::default()).unwrap();
        let p = m.predict(&[9.0, 1.0]);
        assert!(p.probability < 0.01 && p.probability > 0.0);
        assert_eq!(p.log1p_fatalities, 0.0);
        assert!(Model::fit(&[], &[], &ModelConfig::default()).is_err());
    }

    #[test]
    fn calibration_corrects_overconfident_probabilities() {
        // The held-out rows' probabilities say 0.5 or 0.9; the outcomes happen a tenth
        // and a half of the time.
        let mut probs = Vec::new();
        let mut outcomes = Vec::new();
        for i in 0..1000 {
            probs.push(0.5);
            outcomes.push(i % 10 == 0);
            probs.push(0.9);
            outcomes.push(i % 2 == 0);
        }
        let c = Calibration::fit(&probs, &outcomes).unwrap();
        assert!((c.apply(0.5) - 0.1).abs() < 0.01, "{c:?}");
        assert!((c.apply(0.9) - 0.5).abs() < 0.01, "{c:?}");
        // Monotone: the ranking (and so the AUC) is kept.
        assert!(c.apply(0.3) < c.apply(0.5) && c.apply(0.9) < c.apply(0.95));
        // Too few outcomes of one kind: no calibration.
        assert!(Calibration::fit(&probs[..18], &outcomes[..18]).is_none());
        // A fitted model applies it; a constant share is left alone.
        let rows: Vec<Vec<f64>> = (0..200).map(|i| vec![f64::from(i % 11)]).collect();
        let y: Vec<f64> = rows
            .iter()
            .map(|r| f64::from(u8::from(r[0] > 5.0)))
            .collect();
        let mut m = Model::fit(&rows, &y, &ModelConfig::default()).unwrap();
        let before = m.predict(&[9.0]).probability;
        m.set_calibration(Some(c));
        assert!((m.predict(&[9.0]).probability - c.apply(before)).abs() < 1e-12);
        let mut constant = Model::fit(&rows, &vec![0.0; 200], &ModelConfig::default()).unwrap();
        assert!(!constant.has_fitted_probability());
        let share = constant.predict(&[9.0]).probability;
        constant.set_calibration(Some(c));
        assert_eq!(constant.predict(&[9.0]).probability, share);
    }
}
