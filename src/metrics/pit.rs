//! Probability integral transform values, randomised where the forecast has an atom.

use crate::error::{Error, Result};

/// Randomised PIT `F(y-) + V (F(y) - F(y-))`, `V ~ U(0, 1)` drawn from `rng`.
///
/// `cdf_below` is the forecast's left limit `F(y-) = P(Y < y)` at the observation and
/// `cdf_at` its cdf `F(y) = P(Y <= y)`. For a continuous forecast the two are equal and
/// the result is `F(y)` (no random number is drawn); when the forecast puts an atom on
/// the observed value (the paper's data have one, and so does the true distribution,
/// [`PaperOracle`](crate::synthetic::PaperOracle)), the PIT is spread uniformly over the
/// jump, which makes it exactly uniform for a calibrated forecast.
///
/// # Errors
///
/// [`Error::ProbabilityOutOfRange`] if either value is NaN or outside `[0, 1]`,
/// [`Error::ParameterOutOfRange`] if `cdf_below > cdf_at`.
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use rand::SeedableRng;
/// use tailcast::metrics::randomized_pit;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(7);
/// assert_eq!(randomized_pit(0.3, 0.3, &mut rng)?, 0.3);
/// let u = randomized_pit(0.3, 0.5, &mut rng)?;
/// assert!((0.3..=0.5).contains(&u));
/// # Ok(())
/// # }
/// ```
pub fn randomized_pit<R: rand::Rng + ?Sized>(
    cdf_below: f64,
    cdf_at: f64,
    rng: &mut R,
) -> Result<f64> {
    for (name, value) in [("cdf_below", cdf_below), ("cdf_at", cdf_at)] {
        if !(0.0..=1.0).contains(&value) {
            return Err(Error::ProbabilityOutOfRange {
                name,
                value,
                expected: "[0, 1]",
            });
        }
    }
    if cdf_below > cdf_at {
        return Err(Error::ParameterOutOfRange {
            name: "cdf_below",
            value: cdf_below,
            expected: "<= cdf_at",
        });
    }
    if cdf_below == cdf_at {
        return Ok(cdf_at);
    }
    let v: f64 = rand::RngExt::random(rng);
    Ok((cdf_below + v * (cdf_at - cdf_below)).min(cdf_at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn rejects_bad_limits() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        assert!(matches!(
            randomized_pit(f64::NAN, 0.5, &mut rng),
            Err(Error::ProbabilityOutOfRange {
                name: "cdf_below",
                ..
            })
        ));
        assert!(matches!(
            randomized_pit(0.2, 1.5, &mut rng),
            Err(Error::ProbabilityOutOfRange { name: "cdf_at", .. })
        ));
        assert!(matches!(
            randomized_pit(0.6, 0.5, &mut rng),
            Err(Error::ParameterOutOfRange {
                name: "cdf_below",
                ..
            })
        ));
    }

    #[test]
    fn spreads_uniformly_over_the_jump() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(2);
        let n = 20_000;
        let below = (0..n)
            .map(|_| randomized_pit(0.2, 0.6, &mut rng).unwrap())
            .filter(|&u| u < 0.3)
            .count();
        // P(U < 0.3) = 1/4; sd of the count is sqrt(n/4 * 3/4) ≈ 61.
        assert!(
            (below as f64 - n as f64 / 4.0).abs() < 5.0 * 61.3,
            "{below}"
        );
    }
}
