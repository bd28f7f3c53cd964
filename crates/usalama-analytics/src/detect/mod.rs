//! Escalation detection on count series (events or fatalities of one unit, one value per
//! period), with two methods from disease surveillance, each with a configurable false-alarm
//! rate:
//!
//! - [`NbCusum`]: a negative-binomial CUSUM against a baseline of recent periods, its
//!   decision interval set from the in-control average run length (ARL₀, the mean number of
//!   periods between false alarms) by the Markov-chain approximation of Brook and Evans;
//! - [`Farrington`]: the Farrington seasonal baseline (the same season in previous years, a
//!   quasi-Poisson log-linear fit with optional trend, past outbreaks down-weighted) and a
//!   negative-binomial or quasi-Poisson upper limit at level α.
//!
//! Both return one [`Assessment`] per period they can judge, stating the expected value,
//! the observed value and the threshold the observation had to exceed.

mod cusum;
mod dist;
mod farrington;

pub use cusum::{CusumConfig, Dispersion, NbCusum};
pub use farrington::{Farrington, FarringtonConfig, FarringtonMemo, LimitMethod};

/// A small, fast hasher (the multiply-rotate scheme of rustc's `FxHasher`) for the
/// detectors' caches, whose keys are a few integers computed from counts: SipHash's
/// protection against chosen keys is not needed there and costs more than the lookups.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FastHash;

impl std::hash::BuildHasher for FastHash {
    type Hasher = FastHasher;

    fn build_hasher(&self) -> FastHasher {
        FastHasher(0)
    }
}

/// The hasher of [`FastHash`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct FastHasher(u64);

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl std::hash::Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(c);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_i64(&mut self, i: i64) {
        self.add(i as u64);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Which detector judged a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// The negative-binomial CUSUM.
    NbCusum,
    /// The Farrington seasonal baseline.
    Farrington,
}

impl Method {
    /// The lowercase name (`nb_cusum`, `farrington`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::NbCusum => "nb_cusum",
            Self::Farrington => "farrington",
        }
    }
}

/// What a detector knew when it judged one period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Detail {
    /// The CUSUM's state.
    Cusum {
        /// The CUSUM statistic after this period (log-likelihood-ratio units).
        statistic: f64,
        /// The decision interval `h` the statistic had to exceed.
        decision_interval: f64,
        /// The negative-binomial size of the baseline; `None` when Poisson.
        size: Option<f64>,
    },
    /// The Farrington fit.
    Farrington {
        /// The overdispersion φ (≥ 1).
        overdispersion: f64,
        /// Whether the fit kept a linear trend.
        trend: bool,
        /// How many past periods made the baseline.
        baseline_periods: usize,
    },
}

/// One period judged by a detector. `signal` is true exactly when `observed > threshold`
/// (and, for Farrington, `observed ≥ min_count`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assessment {
    /// The detector.
    pub method: Method,
    /// The position of the period in the series.
    pub index: usize,
    /// The count observed.
    pub observed: u64,
    /// The count expected without an escalation.
    pub expected: f64,
    /// The count above which this period signals (for the CUSUM, given what has
    /// accumulated in earlier periods).
    pub threshold: f64,
    /// Whether the period signals an escalation.
    pub signal: bool,
    /// How far towards a signal: the CUSUM statistic over its decision interval, or
    /// Farrington's `(observed − expected) / (threshold − expected)`. Above 1 signals.
    pub score: f64,
    /// The detector's state.
    pub detail: Detail,
}

/// A detector configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("detector configuration: {0}")]
pub struct DetectError(pub String);

#[cfg(test)]
pub(crate) mod testkit {
    //! A small deterministic random generator for the detectors' tests.

    /// splitmix64.
    pub struct Rng(pub u64);

    impl Rng {
        pub fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        /// Uniform in [0, 1).
        pub fn uniform(&mut self) -> f64 {
            (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
        }

        /// A Poisson draw by inversion (fine for means up to a few hundred).
        pub fn poisson(&mut self, mean: f64) -> u64 {
            let u = self.uniform();
            let mut p = (-mean).exp();
            let mut cdf = p;
            let mut x = 0u64;
            while u > cdf && x < 10_000 {
                x += 1;
                p *= mean / x as f64;
                cdf += p;
            }
            x
        }

        /// A series of Poisson draws with a mean per period.
        pub fn series(&mut self, means: impl IntoIterator<Item = f64>) -> Vec<u64> {
            means.into_iter().map(|m| self.poisson(m)).collect()
        }
    }
}
