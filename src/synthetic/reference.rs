//! The example distribution of the numpy reference implementation that
//! `scripts/gen_fixtures.py` uses to make the golden values in `tests/fixtures/`.

use crate::dist::{GeneralizedPareto, SplicedBinnedPareto};

/// The spliced binned-Pareto distribution that the numpy reference implementation
/// behind `tests/fixtures/` uses as its example, on `bins` equal-width bins over `[0, 10]`:
/// Gaussian-shaped logits centred at 4.5 with a standard deviation of 1.2, 5 % tails,
/// a lower GPD tail with shape 0.3 and scale 0.5, an upper one with shape 0.2 and
/// scale 0.8. Skewed, heavy on both sides and with a jump of density at each
/// threshold, it exercises every branch of the spliced distribution, which makes it
/// a good default for tests, benches and first experiments.
///
/// With 100 bins the thresholds are 2.576350 and 6.524515 and the mean is 4.56447,
/// as that reference computes them.
///
/// # Panics
///
/// If `bins` is 0 (a programming error, not a data error).
///
/// # Examples
///
/// ```
/// let sbp = tailcast::synthetic::reference_sbp(100);
/// assert!((sbp.lower_threshold() - 2.576350).abs() < 1e-6);
/// assert!((sbp.upper_threshold() - 6.524515).abs() < 1e-6);
/// ```
pub fn reference_sbp(bins: usize) -> SplicedBinnedPareto {
    assert!(bins > 0, "reference_sbp needs at least one bin");
    let logits: Vec<f64> = (0..bins)
        .map(|k| -0.5 * ((k as f64 / bins as f64 - 0.45) / 0.12).powi(2))
        .collect();
    let lower = GeneralizedPareto::new(0.3, 0.5).expect("valid constants");
    let upper = GeneralizedPareto::new(0.2, 0.8).expect("valid constants");
    SplicedBinnedPareto::from_logits(0.0, 10.0, &logits, 0.05, lower, upper)
        .expect("valid constants")
}
