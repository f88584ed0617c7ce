//! Series with a known location (seasonal or random-walk level) plus noise from any
//! distribution: the truth a forecaster's calibration is checked against.

use rand::distr::Distribution;
use serde::{Deserialize, Serialize};

use crate::error::{Result, finite, positive};

/// A series `values[t] = location[t] + noise_t` together with its location, so the
/// true one-step distribution of `values[t]` is the noise law shifted by `location[t]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelSeries {
    /// The observations.
    pub values: Vec<f64>,
    /// The location of each observation (deterministic for a seasonal series, the
    /// latent random walk for a local-level series).
    pub location: Vec<f64>,
}

/// Seasonal level plus i.i.d. noise:
///
/// ```text
/// location_t = level + amplitude sin(2π t / period),   values_t = location_t + ε_t,  ε_t ~ noise
/// ```
///
/// With an SBP as `noise`, the PIT `noise.cdf(values[t] - location[t])` of a correct
/// forecaster is exactly uniform.
///
/// # Errors
///
/// [`Error::NonFiniteParameter`](crate::Error::NonFiniteParameter) for a non-finite
/// level or amplitude, [`Error::NonPositiveParameter`](crate::Error::NonPositiveParameter)
/// for a period `<= 0` or non-finite.
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use rand::SeedableRng;
/// use tailcast::{synthetic::seasonal_series, GeneralizedPareto, SplicedBinnedPareto};
/// let gpd = GeneralizedPareto::new(0.25, 0.3)?;
/// let noise = SplicedBinnedPareto::from_logits(-1.0, 1.0, &[0.0; 40], 0.05, gpd, gpd)?;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(5);
/// let s = seasonal_series(500, 10.0, 2.0, 100.0, &noise, &mut rng)?;
/// assert!((s.location[25] - 12.0).abs() < 1e-12); // a quarter period in: the peak
/// assert!(s.values.iter().zip(&s.location).all(|(v, l)| (v - l).is_finite()));
/// # Ok(())
/// # }
/// ```
pub fn seasonal_series<D, R>(
    n: usize,
    level: f64,
    amplitude: f64,
    period: f64,
    noise: &D,
    rng: &mut R,
) -> Result<LevelSeries>
where
    D: Distribution<f64> + ?Sized,
    R: rand::Rng + ?Sized,
{
    finite("level", level)?;
    finite("amplitude", amplitude)?;
    positive("period", period)?;
    let omega = 2.0 * std::f64::consts::PI / period;
    let location: Vec<f64> = (0..n)
        .map(|t| level + amplitude * (omega * t as f64).sin())
        .collect();
    let values = location.iter().map(|&l| l + noise.sample(rng)).collect();
    Ok(LevelSeries { values, location })
}

/// Random walk `x_0 = start + η_0`, `x_t = x_{t-1} + η_t`, `η_t ~ step` i.i.d.: with a
/// GPD or SBP step, a level that moves by heavy-tailed jumps.
///
/// The one-step distribution of `x_t` given the past is `step` shifted by `x_{t-1}`.
///
/// # Errors
///
/// [`Error::NonFiniteParameter`](crate::Error::NonFiniteParameter) for a non-finite
/// `start`.
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use rand::SeedableRng;
/// use tailcast::{synthetic::random_walk, GeneralizedPareto};
/// let jumps = GeneralizedPareto::new(0.1, 0.5)?; // upward only
/// let xs = random_walk(100, 0.0, &jumps, &mut rand::rngs::StdRng::seed_from_u64(1))?;
/// assert!(xs.windows(2).all(|w| w[1] >= w[0]));
/// # Ok(())
/// # }
/// ```
pub fn random_walk<D, R>(n: usize, start: f64, step: &D, rng: &mut R) -> Result<Vec<f64>>
where
    D: Distribution<f64> + ?Sized,
    R: rand::Rng + ?Sized,
{
    finite("start", start)?;
    let mut x = start;
    Ok((0..n)
        .map(|_| {
            x += step.sample(rng);
            x
        })
        .collect())
}

/// Local-level model: a latent random walk observed with noise,
///
/// ```text
/// location_t = location_{t-1} + η_t   (location_{-1} = start),   values_t = location_t + ε_t
/// η ~ step, ε ~ noise
/// ```
///
/// e.g. a slowly wandering level (normal steps) under GPD/SBP noise.
///
/// # Errors
///
/// [`Error::NonFiniteParameter`](crate::Error::NonFiniteParameter) for a non-finite
/// `start`.
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use rand::SeedableRng;
/// use rand_distr::Normal;
/// use tailcast::{synthetic::local_level, GeneralizedPareto};
/// let step = Normal::new(0.0, 0.01).unwrap();
/// let noise = GeneralizedPareto::new(0.3, 1.0)?;
/// let s = local_level(200, 3.0, &step, &noise, &mut rand::rngs::StdRng::seed_from_u64(9))?;
/// assert!(s.values.iter().zip(&s.location).all(|(v, l)| v >= l)); // GPD noise is >= 0
/// # Ok(())
/// # }
/// ```
pub fn local_level<S, N, R>(
    n: usize,
    start: f64,
    step: &S,
    noise: &N,
    rng: &mut R,
) -> Result<LevelSeries>
where
    S: Distribution<f64> + ?Sized,
    N: Distribution<f64> + ?Sized,
    R: rand::Rng + ?Sized,
{
    finite("start", start)?;
    let mut level = start;
    let mut location = Vec::with_capacity(n);
    let mut values = Vec::with_capacity(n);
    for _ in 0..n {
        level += step.sample(rng);
        location.push(level);
        values.push(level + noise.sample(rng));
    }
    Ok(LevelSeries { values, location })
}
