//! Draws from any distribution of the crate (or of rand_distr) into a vector or a
//! caller's buffer.

use rand::distr::Distribution;

/// `n` independent draws from `dist`.
///
/// Works for [`GeneralizedPareto`](crate::GeneralizedPareto),
/// [`Binned`](crate::Binned), [`SplicedBinnedPareto`](crate::SplicedBinnedPareto)
/// (inverse transform) and any other `rand` distribution.
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use rand::SeedableRng;
/// use tailcast::{synthetic::sample, GeneralizedPareto};
/// let gpd = GeneralizedPareto::new(0.2, 1.0)?;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(1);
/// let xs = sample(&gpd, 10_000, &mut rng);
/// let mean = xs.iter().sum::<f64>() / 1e4; // σ/(1 - ξ) = 1.25, sd ≈ 1.6/√n ≈ 0.016
/// assert!((mean - 1.25).abs() < 0.08);
/// # Ok(())
/// # }
/// ```
pub fn sample<D, R>(dist: &D, n: usize, rng: &mut R) -> Vec<f64>
where
    D: Distribution<f64> + ?Sized,
    R: rand::Rng + ?Sized,
{
    (0..n).map(|_| dist.sample(rng)).collect()
}

/// Fills `out` with independent draws from `dist` (no allocation).
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use rand::SeedableRng;
/// use tailcast::{synthetic::sample_into, GeneralizedPareto, SplicedBinnedPareto};
/// let gpd = GeneralizedPareto::new(0.3, 0.5)?;
/// let sbp = SplicedBinnedPareto::from_logits(-1.0, 1.0, &[0.0; 20], 0.05, gpd, gpd)?;
/// let mut buf = [0.0; 64];
/// sample_into(&sbp, &mut buf, &mut rand::rngs::StdRng::seed_from_u64(2));
/// assert!(buf.iter().all(|x| x.is_finite()));
/// # Ok(())
/// # }
/// ```
pub fn sample_into<D, R>(dist: &D, out: &mut [f64], rng: &mut R)
where
    D: Distribution<f64> + ?Sized,
    R: rand::Rng + ?Sized,
{
    for o in out {
        *o = dist.sample(rng);
    }
}
