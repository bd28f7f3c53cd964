//! The model of one horizon: features standardised on the training rows, a logistic
//! regression for `P(at least one death)` and a Poisson regression with log link for the
//! expected `ln(1 + fatalities)`, both with an L2 penalty, fitted by L-BFGS (`linfa`).

use super::ForecastError;
use linfa::prelude::*;
use linfa_linear::{Link, TweedieRegressor};
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};

/// Settings of the model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelConfig {
    /// L2 penalty per training row of the logistic regression (on standardised features):
    /// the fit minimises the mean log-loss plus `l2 / 2 · ‖w‖²`.
    pub l2_probability: f64,
    /// L2 penalty per training row of the Poisson regression: mean half deviance plus
    /// `l2 / 2 · ‖w‖²`.
    pub l2_fatalities: f64,
    /// Iterations of the solver at most.
    pub max_iterations: u64,
    /// The first origin used for training rows, so that every row has a year of history
    /// behind it.
    pub first_origin: usize,
}

impl Default for ModelConfig {
    /// Penalties 10⁻³ and 10⁻³, 100 iterations, training rows from the 13th month.
    fn default() -> Self {
        Self {
            l2_probability: 1e-3,
            l2_fatalities: 1e-3,
            max_iterations: 100,
            first_origin: 12,
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

/// A fitted model for one horizon.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    mean: Vec<f64>,
    scale: Vec<f64>,
    probability: Linear,
    fatalities: Linear,
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
        let x = Array2::from_shape_fn((n, p), |(i, j)| (rows[i][j] - mean[j]) * scale[j]);
        let fatal: Vec<bool> = log1p_fatalities.iter().map(|&y| y > 0.0).collect();
        let positives = fatal.iter().filter(|&&f| f).count();

        let probability = if positives == 0 || positives == n {
            // One outcome only: a smoothed share (Laplace's rule).
            Linear::Constant((positives as f64 + 0.5) / (n as f64 + 1.0))
        } else {
            let ds = Dataset::new(x.clone(), Array1::from(fatal));
            let fitted = LogisticRegression::default()
                .alpha(config.l2_probability * n as f64)
                .max_iterations(config.max_iterations)
                .fit(&ds)
                .map_err(|e| ForecastError::Fit(e.to_string()))?;
            // linfa labels the more frequent class positive; the predictor is turned
            // around when that class is "no death".
            let sign = if fitted.labels().pos.class { 1.0 } else { -1.0 };
            Linear::Fitted {
                intercept: sign * fitted.intercept(),
                weights: fitted.params().iter().map(|w| sign * w).collect(),
            }
        };

        let fatalities = if positives == 0 {
            Linear::Constant(0.0)
        } else {
            let y = Array1::from(log1p_fatalities.to_vec());
            let ds = Dataset::new(x, y);
            // The deviance is summed over rows: the penalty is scaled to be per row.
            let fitted = TweedieRegressor::params()
                .power(1.0)
                .link(Link::Log)
                .alpha(config.l2_fatalities * n as f64)
                .max_iter(config.max_iterations as usize)
                .fit(&ds)
                .map_err(|e| ForecastError::Fit(e.to_string()))?;
            Linear::Fitted {
                intercept: fitted.intercept,
                weights: fitted.coef.to_vec(),
            }
        };
        Ok(Self {
            mean,
            scale,
            probability,
            fatalities,
            rows: n,
        })
    }

    /// The number of training rows.
    pub fn training_rows(&self) -> usize {
        self.rows
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
            (_, Some(z)) => 1.0 / (1.0 + (-z).exp()),
            _ => 0.0,
        };
        let log1p_fatalities = match (&self.fatalities, self.linear(&self.fatalities, x)) {
            (Linear::Constant(c), _) => *c,
            (_, Some(z)) => z.min(50.0).exp(),
            _ => 0.0,
        };
        Prediction {
            probability,
            log1p_fatalities,
        }
    }
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
            .map(|r| if r[0] > 5.0 { (r[0] - 5.0).ln_1p() } else { 0.0 })
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
}
