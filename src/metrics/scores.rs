//! Point-wise scores: quantile (pinball) loss, interval coverage and the log score.

use ndarray::ArrayView2;
use statrs::distribution::Continuous;

use super::levels::check_levels;
use super::pp::check_shape;
use crate::error::{Error, Result, all_finite};

/// Quantile (pinball) loss of the predicted `level`-quantile `quantile` for the
/// observation `y`:
///
/// ```text
/// ρ_q(y, z) = q (y - z)        if y >= z
///           = (1 - q) (z - y)  if y < z
/// ```
///
/// Its expectation is minimised by the true `q`-quantile. `NaN` if any input is NaN or
/// `level` is outside `[0, 1]`; see [`mean_pinball_loss`] for a checked batch form.
///
/// # Examples
///
/// ```
/// use tailcast::metrics::pinball_loss;
/// assert!((pinball_loss(3.0, 1.0, 0.9) - 1.8).abs() < 1e-15);
/// assert!((pinball_loss(0.0, 1.0, 0.9) - 0.1).abs() < 1e-15);
/// ```
pub fn pinball_loss(y: f64, quantile: f64, level: f64) -> f64 {
    if !(0.0..=1.0).contains(&level) {
        return f64::NAN;
    }
    let d = y - quantile;
    if d >= 0.0 {
        level * d
    } else {
        (level - 1.0) * d // NaN falls through here and stays NaN
    }
}

/// Mean pinball loss per level over predicted quantile rows (`quantiles[[t, j]]` is the
/// `levels[j]`-quantile for `obs[t]`).
///
/// # Errors
///
/// [`Error::TooFewObservations`] for no observations, [`Error::LengthMismatch`] for a
/// matrix that is not `obs.len()` by `levels.len()`, [`Error::NonFiniteValue`] for a
/// non-finite observation or quantile, and the errors of
/// [`super::check_levels`].
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use ndarray::array;
/// use tailcast::metrics::mean_pinball_loss;
/// let q = array![[1.0], [1.0]];
/// let loss = mean_pinball_loss(&[3.0, 0.0], q.view(), &[0.9])?;
/// assert!((loss[0] - (1.8 + 0.1) / 2.0).abs() < 1e-15);
/// # Ok(())
/// # }
/// ```
pub fn mean_pinball_loss(
    obs: &[f64],
    quantiles: ArrayView2<'_, f64>,
    levels: &[f64],
) -> Result<Vec<f64>> {
    if obs.is_empty() {
        return Err(Error::TooFewObservations {
            what: "a mean pinball loss",
            needed: 1,
            got: 0,
        });
    }
    all_finite("obs", obs)?;
    check_levels(levels)?;
    check_shape(quantiles, obs.len(), levels.len())?;
    if let Some(index) = quantiles.iter().position(|q| !q.is_finite()) {
        return Err(Error::NonFiniteValue {
            name: "quantiles",
            index,
            value: quantiles.iter().nth(index).copied().unwrap_or(f64::NAN),
        });
    }
    let mut sums = vec![0.0; levels.len()];
    for (row, &y) in quantiles.rows().into_iter().zip(obs) {
        for ((s, &z), &q) in sums.iter_mut().zip(row.iter()).zip(levels) {
            *s += pinball_loss(y, z, q);
        }
    }
    let n = obs.len() as f64;
    sums.iter_mut().for_each(|s| *s /= n);
    Ok(sums)
}

/// Fraction of observations inside their predicted intervals, `lower[t] <= obs[t] <=
/// upper[t]` (both ends included).
///
/// # Errors
///
/// [`Error::TooFewObservations`] for no observations, [`Error::LengthMismatch`] if the
/// slices differ in length, [`Error::NonFiniteValue`] for a non-finite observation or
/// NaN bound, [`Error::ValueOutOfRange`] for an interval with `lower > upper`.
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::metrics::interval_coverage;
/// let c = interval_coverage(&[0.5, 2.0, 1.0, -3.0], &[0.0; 4], &[1.0; 4])?;
/// assert_eq!(c, 0.5);
/// # Ok(())
/// # }
/// ```
pub fn interval_coverage(obs: &[f64], lower: &[f64], upper: &[f64]) -> Result<f64> {
    if obs.is_empty() {
        return Err(Error::TooFewObservations {
            what: "an interval coverage",
            needed: 1,
            got: 0,
        });
    }
    for (name, s) in [("lower", lower), ("upper", upper)] {
        if s.len() != obs.len() {
            return Err(Error::LengthMismatch {
                name,
                expected: obs.len(),
                got: s.len(),
            });
        }
        if let Some(index) = s.iter().position(|v| v.is_nan()) {
            return Err(Error::NonFiniteValue {
                name,
                index,
                value: f64::NAN,
            });
        }
    }
    all_finite("obs", obs)?;
    if let Some(index) = lower.iter().zip(upper).position(|(l, u)| l > u) {
        return Err(Error::ValueOutOfRange {
            name: "lower",
            index,
            value: lower[index],
            expected: "<= upper",
        });
    }
    let inside = obs
        .iter()
        .zip(lower.iter().zip(upper))
        .filter(|&(y, (l, u))| l <= y && y <= u)
        .count();
    Ok(inside as f64 / obs.len() as f64)
}

/// Coverage of the central interval with nominal probability `nominal`, read from
/// predicted quantile rows: the interval between the columns at levels
/// `(1 - nominal)/2` and `(1 + nominal)/2`, which must both be among `levels` (to
/// 1e-9).
///
/// # Errors
///
/// [`Error::ProbabilityOutOfRange`] for `nominal` outside (0, 1),
/// [`Error::ParameterOutOfRange`] if a needed level is missing, and the errors of
/// [`interval_coverage`] and [`super::check_levels`].
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use ndarray::array;
/// use tailcast::metrics::central_interval_coverage;
/// let levels = [0.05, 0.5, 0.95];
/// let q = array![[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]];
/// assert_eq!(central_interval_coverage(&[1.5, 2.5], q.view(), &levels, 0.9)?, 0.5);
/// # Ok(())
/// # }
/// ```
pub fn central_interval_coverage(
    obs: &[f64],
    quantiles: ArrayView2<'_, f64>,
    levels: &[f64],
    nominal: f64,
) -> Result<f64> {
    if !(nominal > 0.0 && nominal < 1.0) {
        return Err(Error::ProbabilityOutOfRange {
            name: "nominal",
            value: nominal,
            expected: "(0, 1)",
        });
    }
    check_levels(levels)?;
    check_shape(quantiles, obs.len(), levels.len())?;
    let column = |q: f64| {
        levels
            .iter()
            .position(|&l| (l - q).abs() <= 1e-9)
            .ok_or(Error::ParameterOutOfRange {
                name: "nominal",
                value: nominal,
                expected: "such that (1 - nominal)/2 and (1 + nominal)/2 are among the levels",
            })
    };
    let lo = column((1.0 - nominal) / 2.0)?;
    let hi = column((1.0 + nominal) / 2.0)?;
    let lower: Vec<f64> = quantiles.column(lo).to_vec();
    let upper: Vec<f64> = quantiles.column(hi).to_vec();
    interval_coverage(obs, &lower, &upper)
}

/// Mean log score (negative log-likelihood) `-(1/n) Σ ln f_t(y_t)` over (forecast,
/// observation) pairs; `+∞` if an observation has zero density.
///
/// # Errors
///
/// [`Error::TooFewObservations`] for no pairs, [`Error::NonFiniteValue`] (named `obs`)
/// for a non-finite observation.
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::{metrics::mean_log_score, Binned};
/// let b = Binned::equal_width(0.0, 2.0, vec![1.0, 3.0])?; // densities 1/4 and 3/4
/// let s = mean_log_score([(&b, 0.5), (&b, 1.5)])?;
/// assert!((s - -(0.25f64.ln() + 0.75f64.ln()) / 2.0).abs() < 1e-15);
/// # Ok(())
/// # }
/// ```
pub fn mean_log_score<'a, D, I>(pairs: I) -> Result<f64>
where
    D: Continuous<f64, f64> + 'a,
    I: IntoIterator<Item = (&'a D, f64)>,
{
    mean_over_pairs(pairs, "a mean log score", |dist, y| -dist.ln_pdf(y))
}

/// The mean of `score(dist, y)` over (forecast, observation) pairs; every observation
/// must be finite and there must be at least one pair (`what` names the mean in the
/// error).
pub(crate) fn mean_over_pairs<D, I>(
    pairs: I,
    what: &'static str,
    score: impl Fn(D, f64) -> f64,
) -> Result<f64>
where
    I: IntoIterator<Item = (D, f64)>,
{
    let mut sum = 0.0;
    let mut n = 0usize;
    for (index, (dist, y)) in pairs.into_iter().enumerate() {
        if !y.is_finite() {
            return Err(Error::NonFiniteValue {
                name: "obs",
                index,
                value: y,
            });
        }
        sum += score(dist, y);
        n += 1;
    }
    if n == 0 {
        return Err(Error::TooFewObservations {
            what,
            needed: 1,
            got: 0,
        });
    }
    Ok(sum / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinball_is_nan_for_bad_level_or_nan() {
        assert!(pinball_loss(1.0, 0.0, 1.5).is_nan());
        assert!(pinball_loss(f64::NAN, 0.0, 0.5).is_nan());
        assert!(pinball_loss(1.0, f64::NAN, 0.5).is_nan());
        assert_eq!(pinball_loss(1.0, 1.0, 0.3), 0.0);
    }

    #[test]
    fn coverage_errors() {
        assert!(matches!(
            interval_coverage(&[1.0], &[2.0], &[0.0]),
            Err(Error::ValueOutOfRange { name: "lower", .. })
        ));
        assert!(matches!(
            interval_coverage(&[1.0], &[0.0, 1.0], &[0.0]),
            Err(Error::LengthMismatch { name: "lower", .. })
        ));
        let q = ndarray::array![[0.0, 1.0]];
        assert!(matches!(
            central_interval_coverage(&[0.5], q.view(), &[0.1, 0.9], 0.9),
            Err(Error::ParameterOutOfRange {
                name: "nominal",
                ..
            })
        ));
    }
}
