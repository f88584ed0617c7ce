//! The paper's synthetic heavy-tailed series (Ehrlich et al. 2021, the notebook's
//! `create_ds_asymmetric`).

use rand::SeedableRng;
use rand::distr::Distribution;
use rand::rngs::StdRng;
use rand_distr::StudentT;
use serde::{Deserialize, Serialize};

use crate::checked::{Check, Checked};
use crate::dist::GeneralizedPareto;
use crate::error::{Error, Result, finite, positive};

/// One value added to a series at a known position: a spike of the paper's
/// generator or an injected anomaly.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spike {
    /// Position in the series.
    pub index: usize,
    /// The value added (negative for a downward spike).
    pub size: f64,
}

/// Parameters of the paper's asymmetric generator (the authors' synthetic data); `Default` is
/// the paper's setting.
///
/// ```text
/// x_t = level + amplitude sin(θ_t) + min(0, s_l T1_t) + max(0, s_u T2_t) (+ spike)
/// θ = linspace(0, 2π n / period, n)            (numpy's linspace: endpoint included)
/// T1, T2 iid Student-t(ν_l), t(ν_u);   m = ⌊f n⌋ distinct spike positions,
/// the first ⌊m/2⌋ get -Y, Y ~ GPD(ξ_l, σ), the others +Y, Y ~ GPD(ξ_u, σ)
/// ```
///
/// Defaults: level 5, amplitude 1, period 100, ν = 10 and s = 0.25 on both sides,
/// f = 0.15, ξ_l = 1/50, ξ_u = 1/25, σ = 1. Setters are builder-style and store what they
/// are given; [`check`](Check::check) applies the rules once and gives the
/// [`Checked<PaperConfig>`](Checked) that generates series and reads each setting
/// back by its name (`generate`, `series` and `location` here check and then
/// generate).
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use rand::SeedableRng;
/// use tailcast::synthetic::PaperConfig;
/// let config = PaperConfig::default().spike_fraction(0.0).amplitude(0.0);
/// let mut rng = rand::rngs::StdRng::seed_from_u64(3);
/// let xs = config.series(1000, &mut rng)?;
/// // Without spikes or seasonality a quarter of the points sit exactly on the level.
/// let on_level = xs.iter().filter(|&&x| x == 5.0).count();
/// assert!((on_level as f64 / 1000.0 - 0.25).abs() < 0.05);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaperConfig {
    level: f64,
    amplitude: f64,
    period: f64,
    dof: (f64, f64),
    noise_scale: (f64, f64),
    spike_fraction: f64,
    spike_shapes: (f64, f64),
    spike_scale: f64,
}

impl Default for PaperConfig {
    fn default() -> Self {
        Self {
            level: 5.0,
            amplitude: 1.0,
            period: 100.0,
            dof: (10.0, 10.0),
            noise_scale: (0.25, 0.25),
            spike_fraction: 0.15,
            spike_shapes: (1.0 / 50.0, 1.0 / 25.0),
            spike_scale: 1.0,
        }
    }
}

/// A generated series with its parts, for tests that need the truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaperSeries {
    /// The series `x_t`.
    pub values: Vec<f64>,
    /// The deterministic part `level + amplitude sin(θ_t)`.
    pub location: Vec<f64>,
    /// The spikes in the order they were drawn (first the downward ones).
    pub spikes: Vec<Spike>,
}

impl PaperConfig {
    /// The constant level (5).
    pub fn level(mut self, level: f64) -> Self {
        self.level = level;
        self
    }

    /// The amplitude of the sine (1).
    pub fn amplitude(mut self, amplitude: f64) -> Self {
        self.amplitude = amplitude;
        self
    }

    /// The number of points per sine cycle as the notebook counts it (100); with the
    /// endpoint included the actual period is `period (n - 1)/n` points.
    pub fn period(mut self, period: f64) -> Self {
        self.period = period;
        self
    }

    /// Degrees of freedom of the Student-t draws behind the lower and upper noise
    /// (10, 10); must be `>= 1` for the oracle.
    pub fn dof(mut self, lower: f64, upper: f64) -> Self {
        self.dof = (lower, upper);
        self
    }

    /// Multipliers of the two t draws (0.25, 0.25).
    pub fn noise_scale(mut self, lower: f64, upper: f64) -> Self {
        self.noise_scale = (lower, upper);
        self
    }

    /// Fraction of points that get a spike (0.15), in `[0, 1]`.
    pub fn spike_fraction(mut self, fraction: f64) -> Self {
        self.spike_fraction = fraction;
        self
    }

    /// GPD shapes of the downward and upward spikes (1/50, 1/25).
    pub fn spike_shapes(mut self, lower: f64, upper: f64) -> Self {
        self.spike_shapes = (lower, upper);
        self
    }

    /// GPD scale of the spikes (1).
    pub fn spike_scale(mut self, scale: f64) -> Self {
        self.spike_scale = scale;
        self
    }

    /// The deterministic part `level + amplitude sin(θ_t)`, `t = 0..n` (see
    /// [`Checked::<PaperConfig>::location`]).
    ///
    /// # Errors
    ///
    /// The errors of [`check`](Check::check).
    pub fn location(&self, n: usize) -> Result<Vec<f64>> {
        Ok(self.check()?.location(n))
    }

    /// Generates a series of length `n` with its parts (see
    /// [`Checked::<PaperConfig>::generate`]).
    ///
    /// # Errors
    ///
    /// The errors of [`check`](Check::check).
    pub fn generate<R: rand::Rng + ?Sized>(&self, n: usize, rng: &mut R) -> Result<PaperSeries> {
        self.check()?.generate(n, rng)
    }

    /// Generates the series only (see [`generate`](Self::generate)).
    ///
    /// # Errors
    ///
    /// The errors of [`check`](Check::check).
    pub fn series<R: rand::Rng + ?Sized>(&self, n: usize, rng: &mut R) -> Result<Vec<f64>> {
        Ok(self.check()?.generate(n, rng)?.values)
    }
}

impl Check for PaperConfig {
    /// # Errors
    ///
    /// [`Error::NonFiniteParameter`] for a non-finite value, [`Error::NonPositiveParameter`]
    /// for a period, dof, noise scale or spike scale `<= 0`,
    /// [`Error::ProbabilityOutOfRange`] for a spike fraction outside `[0, 1]`.
    fn check(&self) -> Result<Checked<Self>> {
        finite("level", self.level)?;
        finite("amplitude", self.amplitude)?;
        positive("period", self.period)?;
        positive("dof.lower", self.dof.0)?;
        positive("dof.upper", self.dof.1)?;
        positive("noise_scale.lower", self.noise_scale.0)?;
        positive("noise_scale.upper", self.noise_scale.1)?;
        if !(0.0..=1.0).contains(&self.spike_fraction) {
            return Err(Error::ProbabilityOutOfRange {
                name: "spike_fraction",
                value: self.spike_fraction,
                expected: "[0, 1]",
            });
        }
        finite("spike_shapes.lower", self.spike_shapes.0)?;
        finite("spike_shapes.upper", self.spike_shapes.1)?;
        positive("spike_scale", self.spike_scale)?;
        Ok(Checked::after_check(self.clone()))
    }
}

impl Checked<PaperConfig> {
    /// The constant level.
    pub fn level(&self) -> f64 {
        self.config().level
    }

    /// The amplitude of the sine.
    pub fn amplitude(&self) -> f64 {
        self.config().amplitude
    }

    /// The number of points per sine cycle as the notebook counts it.
    pub fn period(&self) -> f64 {
        self.config().period
    }

    /// Degrees of freedom of the lower and upper noise's Student-t draws.
    pub fn dof(&self) -> (f64, f64) {
        self.config().dof
    }

    /// Multipliers of the two t draws.
    pub fn noise_scale(&self) -> (f64, f64) {
        self.config().noise_scale
    }

    /// Fraction of points that get a spike.
    pub fn spike_fraction(&self) -> f64 {
        self.config().spike_fraction
    }

    /// GPD shapes of the downward and upward spikes.
    pub fn spike_shapes(&self) -> (f64, f64) {
        self.config().spike_shapes
    }

    /// GPD scale of the spikes.
    pub fn spike_scale(&self) -> f64 {
        self.config().spike_scale
    }

    /// The spike laws.
    pub(crate) fn spike_gpds(&self) -> Result<(GeneralizedPareto, GeneralizedPareto)> {
        let (lower, upper) = self.spike_shapes();
        Ok((
            GeneralizedPareto::new(lower, self.spike_scale())?,
            GeneralizedPareto::new(upper, self.spike_scale())?,
        ))
    }

    /// Number of downward and upward spikes in a series of length `n`:
    /// `(⌊m/2⌋, m - ⌊m/2⌋)` with `m = ⌊f n⌋`.
    pub fn spike_counts(&self, n: usize) -> (usize, usize) {
        // Python's int(f * n) truncates, as the cast does for these non-negative values.
        let m = ((self.spike_fraction() * n as f64) as usize).min(n);
        (m / 2, m - m / 2)
    }

    /// The deterministic part `level + amplitude sin(θ_t)`, `t = 0..n`, computed
    /// operation for operation as the notebook does (so an unspiked point whose two t
    /// draws were clipped equals it exactly).
    pub fn location(&self, n: usize) -> Vec<f64> {
        let level = self.level();
        self.sine(n).into_iter().map(|s| s + level).collect()
    }

    /// `amplitude sin(linspace(0, n/period 2π, n))` as numpy computes it.
    fn sine(&self, n: usize) -> Vec<f64> {
        let end = n as f64 / self.period() * 2.0 * std::f64::consts::PI;
        let step = if n > 1 { end / (n - 1) as f64 } else { 0.0 };
        (0..n)
            .map(|i| {
                let theta = if i + 1 == n && n > 1 {
                    end
                } else {
                    i as f64 * step
                };
                theta.sin() * self.amplitude()
            })
            .collect()
    }

    /// Generates a series of length `n` with its parts.
    ///
    /// Draw order: `n` t draws for the lower noise, `n` for the upper, the spike
    /// positions (`rand::seq::index::sample`), then the downward and upward spike sizes.
    /// The distribution is the notebook's; the random stream is rand's, not numpy's.
    ///
    /// # Errors
    ///
    /// None for a checked configuration in practice; the laws' constructors are
    /// fallible.
    pub fn generate<R: rand::Rng + ?Sized>(&self, n: usize, rng: &mut R) -> Result<PaperSeries> {
        let (gpd_lower, gpd_upper) = self.spike_gpds()?;
        let (dof_lower, dof_upper) = self.dof();
        let t_lower = StudentT::new(dof_lower).map_err(|_| Error::NonPositiveParameter {
            name: "dof.lower",
            value: dof_lower,
        })?;
        let t_upper = StudentT::new(dof_upper).map_err(|_| Error::NonPositiveParameter {
            name: "dof.upper",
            value: dof_upper,
        })?;
        let (scale_lower, scale_upper) = self.noise_scale();
        let level = self.level();
        let sine = self.sine(n);
        let mut values = sine.clone();
        for v in values.iter_mut() {
            let t: f64 = t_lower.sample(rng);
            *v += (t * scale_lower).min(0.0);
        }
        for v in values.iter_mut() {
            let t: f64 = t_upper.sample(rng);
            *v += (t * scale_upper).max(0.0);
        }
        for v in values.iter_mut() {
            *v += level;
        }
        let (n_low, n_up) = self.spike_counts(n);
        let positions = rand::seq::index::sample(rng, n, n_low + n_up);
        let mut spikes = Vec::with_capacity(n_low + n_up);
        for (k, index) in positions.into_iter().enumerate() {
            let size = if k < n_low {
                -gpd_lower.sample(rng)
            } else {
                gpd_upper.sample(rng)
            };
            values[index] += size;
            spikes.push(Spike { index, size });
        }
        let location = sine.into_iter().map(|s| s + level).collect();
        Ok(PaperSeries {
            values,
            location,
            spikes,
        })
    }
}

/// A series of length `n` from the paper's generator with its default parameters.
///
/// # Examples
///
/// ```
/// use rand::SeedableRng;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(42);
/// let xs = tailcast::synthetic::paper_series(1000, &mut rng);
/// assert_eq!(xs.len(), 1000);
/// let mean = xs.iter().sum::<f64>() / 1000.0;
/// assert!((mean - 5.0).abs() < 0.2);
/// ```
pub fn paper_series<R: rand::Rng + ?Sized>(n: usize, rng: &mut R) -> Vec<f64> {
    // The default config is valid, so this cannot fail.
    PaperConfig::default()
        .series(n, rng)
        .unwrap_or_else(|_| unreachable!("the default config is valid"))
}

/// The rolling forecaster `examples/reproduce_paper.rs` chooses on the validation
/// splits (lowest mean CRPS over seeds 1..=20): a robust seasonal location of period
/// 100 with slow smoothing (the true location is a fixed sine), a 5,000-residual
/// window refitted every 50 steps, the paper's 100 bins and 5 % tails, pseudo-count
/// 0.1. The tests and the other examples on the paper's series start from it.
///
/// # Examples
///
/// ```
/// use tailcast::Check;
/// let config = tailcast::synthetic::paper_forecaster_config().check().unwrap();
/// assert_eq!(config.window(), 5000);
/// ```
pub fn paper_forecaster_config() -> crate::ForecasterConfig {
    crate::ForecasterConfig::default()
        .window(5000)
        .refit_every(50)
        .location(crate::LocationModel::Seasonal { period: 100 })
        .level_smoothing(0.003)
        .seasonal_smoothing(0.03)
        .sbp(
            crate::SbpConfig::default()
                .bins(100)
                .tail_mass(0.05)
                .pseudo_count(0.1),
        )
}

/// The paper's three series: independent draws, not a split of one series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaperDatasets {
    /// 5000 points; the paper's bins span its range.
    pub train: Vec<f64>,
    /// 1000 points (monitoring only in the paper).
    pub validation: Vec<f64>,
    /// 1000 points; the paper scores 899 one-step forecasts on it (targets 100..999).
    pub test: Vec<f64>,
}

impl PaperDatasets {
    /// Length of the training series.
    pub const TRAIN_LEN: usize = 5000;
    /// Length of the validation series.
    pub const VALIDATION_LEN: usize = 1000;
    /// Length of the test series.
    pub const TEST_LEN: usize = 1000;
}

/// Train (5000), validation (1000) and test (1000) series generated in that order from
/// one `StdRng::seed_from_u64(seed)`, as the notebook does from one numpy seed.
///
/// Same distribution as the paper's data, different random stream (the seed-42 data of
/// the notebook itself are the fixture `tests/fixtures/paper_series.json`, written by
/// `python3 scripts/gen_fixtures.py --only paper_series`). `StdRng` is reproducible for
/// a given version of rand and rand_distr, not across versions.
///
/// # Examples
///
/// ```
/// let d = tailcast::synthetic::paper_datasets(42);
/// assert_eq!((d.train.len(), d.validation.len(), d.test.len()), (5000, 1000, 1000));
/// assert_eq!(d, tailcast::synthetic::paper_datasets(42));
/// ```
pub fn paper_datasets(seed: u64) -> PaperDatasets {
    let mut rng = StdRng::seed_from_u64(seed);
    let train = paper_series(PaperDatasets::TRAIN_LEN, &mut rng);
    let validation = paper_series(PaperDatasets::VALIDATION_LEN, &mut rng);
    let test = paper_series(PaperDatasets::TEST_LEN, &mut rng);
    PaperDatasets {
        train,
        validation,
        test,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spike_counts_follow_the_notebook() {
        let c = PaperConfig::default();
        let c = c.check().unwrap();
        assert_eq!(c.spike_counts(1000), (75, 75));
        assert_eq!(c.spike_counts(5000), (375, 375));
        assert_eq!(c.spike_counts(999), (74, 75));
        assert_eq!(c.spike_counts(0), (0, 0));
    }

    #[test]
    fn tiny_and_empty_series_do_not_panic() {
        let mut rng = StdRng::seed_from_u64(0);
        assert!(paper_series(0, &mut rng).is_empty());
        assert_eq!(paper_series(1, &mut rng).len(), 1);
        let l = PaperConfig::default().location(1).unwrap();
        assert_eq!(l, vec![5.0]);
    }

    #[test]
    fn bad_parameters_are_named() {
        let mut rng = StdRng::seed_from_u64(0);
        let bad = PaperConfig::default().spike_fraction(1.5);
        assert!(matches!(
            bad.series(10, &mut rng),
            Err(Error::ProbabilityOutOfRange {
                name: "spike_fraction",
                ..
            })
        ));
        let bad = PaperConfig::default().dof(0.0, 10.0);
        assert!(matches!(
            bad.check(),
            Err(Error::NonPositiveParameter {
                name: "dof.lower",
                ..
            })
        ));
        let bad = PaperConfig::default().level(f64::NAN);
        assert!(matches!(
            bad.check(),
            Err(Error::NonFiniteParameter { name: "level", .. })
        ));
    }
}
