//! The true one-step predictive distribution of the paper's series: the floor no
//! forecaster can beat except by chance.

mod gauss;
mod noise;
mod student_t;

use ndarray::Array2;

pub use noise::PaperNoise;

use super::paper::PaperConfig;
use crate::checked::IntoChecked;
use crate::error::{Error, Result};
use crate::metrics::{Crps, check_levels, randomized_pit};

/// The true distribution of every point of a series of length `n` from
/// [`PaperConfig`]: `x_t = location_t + ε_t` with `ε` the noise described by
/// [`PaperNoise`] (the same for every `t`).
///
/// The spike term uses each point's marginal spike probabilities, `⌊m/2⌋/n` downward
/// and `(m - ⌊m/2⌋)/n` upward with `m = ⌊f n⌋` (0.075 each for the paper's lengths).
/// Spike positions are drawn without replacement, so given the past the chance of a
/// spike shifts by at most a few counts in `n`; the marginal is what
/// the numpy reference behind the test fixtures uses too. The noise is computed numerically, not by Monte
/// Carlo (accuracy in [`PaperNoise`]).
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::metrics::Crps;
/// use tailcast::synthetic::{PaperConfig, PaperOracle};
///
/// let oracle = PaperOracle::new(&PaperConfig::default(), 1000)?;
/// let step = oracle.at(100)?;
/// // About 21 % of the mass sits exactly on the location (no noise, no spike).
/// let atom = step.cdf(step.location()) - step.cdf_left(step.location());
/// assert!((atom - 0.2125).abs() < 1e-12);
/// assert_eq!(step.quantile(0.5), step.location()); // the median is in the atom
/// assert!(step.crps(step.location()) < step.crps(step.location() + 1.0));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct PaperOracle {
    noise: PaperNoise,
    location: Vec<f64>,
}

/// The true distribution of one point `x_t`: the noise shifted by `location_t`.
#[derive(Debug, Clone, Copy)]
pub struct OracleStep<'a> {
    noise: &'a PaperNoise,
    location: f64,
}

impl PaperOracle {
    /// The oracle for series of length `n` from `config`.
    ///
    /// # Errors
    ///
    /// The errors of [`PaperConfig`]'s [`check`](crate::Check::check) (unless it is
    /// already checked), and [`Error::ParameterOutOfRange`] for a
    /// Student-t dof outside `[1, 1e6]` (the quadrature needs `ν >= 1`; beyond 1e6 use
    /// a large finite value, the law is normal to 1e-6) or a noise or spike scale more
    /// than 1e6 times another (the tables would need millions of panels).
    pub fn new(config: &(impl IntoChecked<PaperConfig> + Clone), n: usize) -> Result<Self> {
        let config = config.clone().into_checked()?;
        let (dof_lower, dof_upper) = config.dof();
        for (name, value) in [("dof.lower", dof_lower), ("dof.upper", dof_upper)] {
            if !(1.0..=1e6).contains(&value) {
                return Err(Error::ParameterOutOfRange {
                    name,
                    value,
                    expected: "in [1, 1e6] for the oracle",
                });
            }
        }
        let (s_lower, s_upper) = config.noise_scale();
        let smallest = s_lower.min(s_upper);
        let spike_scale = config.spike_gpds()?.0.scale();
        for (name, value) in [
            ("noise_scale", s_lower.max(s_upper)),
            ("spike_scale", spike_scale),
        ] {
            if value > 1e6 * smallest || value < 1e-6 * smallest {
                return Err(Error::ParameterOutOfRange {
                    name,
                    value,
                    expected: "within a factor 1e6 of the smallest noise scale for the oracle",
                });
            }
        }
        let (lower, upper) = config.spike_gpds()?;
        let (n_low, n_up) = config.spike_counts(n);
        let (p_low, p_up) = if n == 0 {
            (0.0, 0.0)
        } else {
            (n_low as f64 / n as f64, n_up as f64 / n as f64)
        };
        let model = noise::NoiseModel::new(
            config.dof(),
            config.noise_scale(),
            (p_low, p_up),
            lower,
            upper,
        );
        Ok(Self {
            noise: PaperNoise::build(&model),
            location: config.location(n),
        })
    }

    /// The series length the oracle was built for.
    pub fn len(&self) -> usize {
        self.location.len()
    }

    /// Whether the series is empty.
    pub fn is_empty(&self) -> bool {
        self.location.is_empty()
    }

    /// The noise distribution.
    pub fn noise(&self) -> &PaperNoise {
        &self.noise
    }

    /// The deterministic part `level + amplitude sin(θ_t)` of every point.
    pub fn locations(&self) -> &[f64] {
        &self.location
    }

    /// The distribution of `x_t`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCount`] naming `t` if `t >= len()`.
    pub fn at(&self, t: usize) -> Result<OracleStep<'_>> {
        match self.location.get(t) {
            Some(&location) => Ok(OracleStep {
                noise: &self.noise,
                location,
            }),
            None => Err(Error::InvalidCount {
                name: "t",
                value: t,
                expected: "< the oracle's series length",
            }),
        }
    }

    /// Quantile rows for the targets `targets` (rows) at `levels` (columns): the
    /// layout of [`pp_curve_from_quantiles`](crate::metrics::pp_curve_from_quantiles).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCount`] if the range runs past the series, and the errors of
    /// [`crate::metrics::check_levels`].
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> Result<(), tailcast::Error> {
    /// use tailcast::metrics::paper_quantile_levels;
    /// use tailcast::synthetic::{PaperConfig, PaperOracle};
    /// let oracle = PaperOracle::new(&PaperConfig::default(), 1000)?;
    /// let q = oracle.quantile_rows(100..1000, &paper_quantile_levels())?;
    /// assert_eq!(q.dim(), (900, 129));
    /// # Ok(())
    /// # }
    /// ```
    pub fn quantile_rows(
        &self,
        targets: std::ops::Range<usize>,
        levels: &[f64],
    ) -> Result<Array2<f64>> {
        check_levels(levels)?;
        if targets.end > self.len() || targets.start > targets.end {
            return Err(Error::InvalidCount {
                name: "targets.end",
                value: targets.end,
                expected: "<= the oracle's series length and >= targets.start",
            });
        }
        let noise_q: Vec<f64> = levels.iter().map(|&q| self.noise.quantile(q)).collect();
        let rows = targets.len();
        Ok(Array2::from_shape_fn((rows, levels.len()), |(i, j)| {
            self.location[targets.start + i] + noise_q[j]
        }))
    }
}

impl OracleStep<'_> {
    /// `level + amplitude sin(θ_t)`.
    pub fn location(&self) -> f64 {
        self.location
    }

    /// `P(x_t <= y)`.
    pub fn cdf(&self, y: f64) -> f64 {
        self.noise.cdf(y - self.location)
    }

    /// `P(x_t < y)`; differs from [`cdf`](Self::cdf) at the atom `y = location`.
    pub fn cdf_left(&self, y: f64) -> f64 {
        self.noise.cdf_left(y - self.location)
    }

    /// Quantile at `q` (see [`PaperNoise::quantile`]).
    pub fn quantile(&self, q: f64) -> f64 {
        self.location + self.noise.quantile(q)
    }

    /// Randomised PIT of the observation `y` (uniform over the atom when `y` hits it).
    ///
    /// # Errors
    ///
    /// [`Error::NonFiniteValue`] for a NaN `y`.
    pub fn randomized_pit<R: rand::Rng + ?Sized>(&self, y: f64, rng: &mut R) -> Result<f64> {
        if y.is_nan() {
            return Err(Error::NonFiniteValue {
                name: "y",
                index: 0,
                value: y,
            });
        }
        randomized_pit(self.cdf_left(y), self.cdf(y), rng)
    }
}

impl Crps for OracleStep<'_> {
    fn crps(&self, y: f64) -> f64 {
        self.noise.crps(y - self.location)
    }
}
