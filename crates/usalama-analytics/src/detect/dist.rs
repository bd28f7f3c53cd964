//! The few distribution formulas the detectors need, written out: the Poisson and
//! negative-binomial probability mass functions (by a log-space recurrence, so large means
//! do not underflow), their quantiles, and the standard normal quantile (Acklam's rational
//! approximation, relative error below 1.2e-9).

/// A count distribution: Poisson, or negative binomial with a size (`Var = μ + μ²/size`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CountDist {
    pub mean: f64,
    /// `None` for Poisson.
    pub size: Option<f64>,
}

impl CountDist {
    /// The log-probability of 0 and the log of the ratio's constant factor, such that
    /// `ln P(x+1) = ln P(x) + step(x)`.
    fn start(&self) -> f64 {
        match self.size {
            None => -self.mean,
            Some(r) => -r * (self.mean / r).ln_1p(),
        }
    }

    fn step(&self, x: u64) -> f64 {
        let x = x as f64;
        match self.size {
            None => self.mean.ln() - (x + 1.0).ln(),
            Some(r) => (x + r).ln() - (x + 1.0).ln() + (self.mean / (r + self.mean)).ln(),
        }
    }

    /// `P(X = 0) … P(X = n − 1)`.
    pub fn pmf(&self, n: usize) -> Vec<f64> {
        let mut out = Vec::with_capacity(n);
        if n == 0 {
            return out;
        }
        if self.mean <= 0.0 {
            out.push(1.0);
            out.resize(n, 0.0);
            return out;
        }
        let mut lp = self.start();
        for x in 0..n as u64 {
            out.push(lp.exp());
            lp += self.step(x);
        }
        out
    }

    /// The smallest `q` with `P(X ≤ q) ≥ p`, for `0 < p < 1`. The masses are summed from 0
    /// by the recurrence of [`pmf`](Self::pmf), its terms that do not depend on `x` taken
    /// once and `ln(x + 1)` read from a table (the same values).
    pub fn quantile(&self, p: f64) -> u64 {
        if self.mean <= 0.0 {
            return 0;
        }
        let sd = match self.size {
            None => self.mean.sqrt(),
            Some(r) => (self.mean + self.mean * self.mean / r).sqrt(),
        };
        let limit = (self.mean + 60.0 * sd + 100.0) as u64;
        let logs = ln_table();
        let ln_next = |x: u64| {
            logs.get(x as usize + 1)
                .copied()
                .unwrap_or_else(|| (x as f64 + 1.0).ln())
        };
        let mut lp = self.start();
        let mut cdf = 0.0;
        match self.size {
            None => {
                let ln_mean = self.mean.ln();
                for x in 0..=limit {
                    cdf += lp.exp();
                    if cdf >= p {
                        return x;
                    }
                    lp += ln_mean - ln_next(x);
                }
            }
            Some(r) => {
                let ln_ratio = (self.mean / (r + self.mean)).ln();
                for x in 0..=limit {
                    cdf += lp.exp();
                    if cdf >= p {
                        return x;
                    }
                    lp += (x as f64 + r).ln() - ln_next(x) + ln_ratio;
                }
            }
        }
        limit
    }

    /// `P(X > x)`.
    pub fn upper_tail(&self, x: u64) -> f64 {
        if self.mean <= 0.0 {
            return 0.0;
        }
        let pmf = self.pmf(x as usize + 1);
        (1.0 - pmf.iter().sum::<f64>()).max(0.0)
    }
}

/// Entries of [`ln_table`].
const LN_TABLE: usize = 4096;

/// `ln k` for `k < LN_TABLE` (entry 0 is `ln 0 = −∞`), made once.
fn ln_table() -> &'static [f64] {
    static TABLE: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| (0..LN_TABLE).map(|k| (k as f64).ln()).collect())
}

/// The `p` quantile of the standard normal distribution, `0 < p < 1` (Acklam's algorithm).
pub(crate) fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const LOW: f64 = 0.024_25;
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p <= 0.0 {
        f64::NEG_INFINITY
    } else if p >= 1.0 {
        f64::INFINITY
    } else if p < LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p <= 1.0 - LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_and_negative_binomial_masses_are_right() {
        let p = CountDist {
            mean: 3.0,
            size: None,
        }
        .pmf(40);
        assert!((p[0] - (-3.0f64).exp()).abs() < 1e-15);
        assert!((p[2] - 4.5 * (-3.0f64).exp()).abs() < 1e-14);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        // NB(mean 2, size 1) is geometric with success probability 1/3.
        let g = CountDist {
            mean: 2.0,
            size: Some(1.0),
        }
        .pmf(300);
        for (x, px) in g.iter().take(10).enumerate() {
            let expected = (1.0 / 3.0) * (2.0f64 / 3.0).powi(x as i32);
            assert!((px - expected).abs() < 1e-13, "{x}");
        }
        assert!((g.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        // A large mean does not underflow.
        let big = CountDist {
            mean: 5000.0,
            size: None,
        };
        let q = big.quantile(0.5);
        assert!((4990..=5010).contains(&q), "{q}");
        assert_eq!(
            CountDist {
                mean: 0.0,
                size: None
            }
            .pmf(3),
            [1.0, 0.0, 0.0]
        );
    }

    #[test]
    fn quantiles_and_tails_agree() {
        let d = CountDist {
            mean: 5.0,
            size: None,
        };
        // P(X ≤ 10) = 0.98630, P(X ≤ 11) = 0.99455 for Poisson(5).
        assert_eq!(d.quantile(0.99), 11);
        assert_eq!(d.quantile(0.98), 10);
        assert!((d.upper_tail(10) - 0.013_695).abs() < 1e-5);
        let nb = CountDist {
            mean: 5.0,
            size: Some(2.0),
        };
        assert!(nb.quantile(0.99) > d.quantile(0.99));
        assert_eq!(
            CountDist {
                mean: 0.0,
                size: None
            }
            .quantile(0.99),
            0
        );
    }

    #[test]
    fn normal_quantiles_are_accurate() {
        assert!((normal_quantile(0.975) - 1.959_963_985).abs() < 1e-8);
        assert!((normal_quantile(0.99) - 2.326_347_874).abs() < 1e-8);
        assert!((normal_quantile(0.001) + 3.090_232_306).abs() < 1e-8);
        assert_eq!(normal_quantile(0.5), 0.0);
    }
}
