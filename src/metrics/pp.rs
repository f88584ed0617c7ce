//! The PP-plot: how often observations fall below their predicted quantiles, and the
//! mean absolute deviation of that curve from the diagonal per region.

use std::fmt;

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::levels::{Region, check_levels, check_tail};
use crate::error::{Error, Result, all_finite};

/// How an observation exactly equal to its predicted quantile is counted.
///
/// Ties have probability zero for continuous forecasts, but the paper's series puts
/// about 21 % of the points exactly on `5 + sin` and a forecast with an atom there
/// (the true distribution does) predicts that very value for a range of levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Ties {
    /// `y < z` only, the authors' rule.
    #[default]
    Strict,
    /// `y < z` counts 1 and `y == z` counts 1/2, the mid-distribution convention that
    /// keeps a calibrated forecast with atoms on the diagonal on average.
    Half,
}

/// Mean absolute error `mean |y_q - q|` of a PP curve over each [`Region`].
///
/// A field is `NaN` when its region holds none of the levels (the mean of nothing).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RegionMae {
    /// Lower tail, `0 < q < p`.
    #[serde(with = "crate::nonfinite")]
    pub lower: f64,
    /// Body, `p < q < 1 - p`.
    #[serde(with = "crate::nonfinite")]
    pub base: f64,
    /// Upper tail, `1 - p < q < 1`.
    #[serde(with = "crate::nonfinite")]
    pub upper: f64,
    /// All levels.
    #[serde(with = "crate::nonfinite")]
    pub full: f64,
}

impl RegionMae {
    /// The value for one region.
    pub fn get(&self, region: Region) -> f64 {
        match region {
            Region::Lower => self.lower,
            Region::Base => self.base,
            Region::Upper => self.upper,
            Region::Full => self.full,
        }
    }
}

impl fmt::Display for RegionMae {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "lower {:.6}  base {:.6}  upper {:.6}  full {:.6}",
            self.lower, self.base, self.upper, self.full
        )
    }
}

/// A PP curve (one value per level) with its per-region errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PpScore {
    /// `y_q` for each level, in the order of the levels given.
    pub curve: Vec<f64>,
    /// `mean |y_q - q|` per region.
    pub mae: RegionMae,
}

/// `y_q` = fraction of PIT values strictly below `q`, for each level `q`: the PP curve
/// of a forecaster whose PIT values `u_t = F_t(x_t)` are given.
///
/// For continuous forecasts this equals the fraction of observations strictly below
/// their predicted `q`-quantile. Use [`randomized_pit`](super::randomized_pit) for
/// forecasts with atoms. Cost `O(n log n + L log n)` with one sorted copy of `pit`.
///
/// # Errors
///
/// [`Error::TooFewObservations`] for an empty `pit`, [`Error::NonFiniteValue`] or
/// [`Error::ValueOutOfRange`] for a PIT value that is NaN or outside `[0, 1]`, and the
/// errors of [`check_levels`].
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::metrics::pp_curve_from_pit;
/// let curve = pp_curve_from_pit(&[0.1, 0.4, 0.6, 0.9], &[0.25, 0.5, 0.9])?;
/// assert_eq!(curve, vec![0.25, 0.5, 0.75]); // 0.9 is not strictly below 0.9
/// # Ok(())
/// # }
/// ```
pub fn pp_curve_from_pit(pit: &[f64], levels: &[f64]) -> Result<Vec<f64>> {
    check_pit(pit)?;
    check_levels(levels)?;
    let mut sorted = pit.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let n = sorted.len() as f64;
    Ok(levels
        .iter()
        .map(|&q| sorted.partition_point(|&u| u < q) as f64 / n)
        .collect())
}

/// `y_q` = fraction of observations below their predicted `q`-quantile.
///
/// `quantiles[[t, j]]` is the forecast's `levels[j]`-quantile for `obs[t]` (rows are
/// time steps, columns levels, as [`SplicedBinnedPareto::quantiles_into`] fills them).
/// With [`Ties::Strict`] this is the authors' `mean(x_t < z_q)`; [`Ties::Half`] adds
/// half the exact ties. No allocation besides the returned curve.
///
/// [`SplicedBinnedPareto::quantiles_into`]: crate::SplicedBinnedPareto::quantiles_into
///
/// # Errors
///
/// [`Error::TooFewObservations`] for no observations, [`Error::LengthMismatch`] if the
/// matrix is not `obs.len()` by `levels.len()`, [`Error::NonFiniteValue`] for a
/// non-finite observation or a NaN quantile (infinite quantiles are allowed), and the
/// errors of [`check_levels`].
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use ndarray::array;
/// use tailcast::metrics::{pp_curve_from_quantiles, Ties};
/// let q = array![[0.0, 1.0], [2.0, 3.0]]; // two steps, levels 0.25 and 0.75
/// let obs = [0.5, 2.0];
/// let strict = pp_curve_from_quantiles(&obs, q.view(), &[0.25, 0.75], Ties::Strict)?;
/// let half = pp_curve_from_quantiles(&obs, q.view(), &[0.25, 0.75], Ties::Half)?;
/// assert_eq!(strict, vec![0.0, 1.0]);
/// assert_eq!(half, vec![0.25, 1.0]); // obs[1] ties its 0.25-quantile
/// # Ok(())
/// # }
/// ```
pub fn pp_curve_from_quantiles(
    obs: &[f64],
    quantiles: ArrayView2<'_, f64>,
    levels: &[f64],
    ties: Ties,
) -> Result<Vec<f64>> {
    if obs.is_empty() {
        return Err(Error::TooFewObservations {
            what: "a PP curve",
            needed: 1,
            got: 0,
        });
    }
    all_finite("obs", obs)?;
    check_levels(levels)?;
    check_shape(quantiles, obs.len(), levels.len())?;
    if let Some(index) = quantiles.iter().position(|q| q.is_nan()) {
        return Err(Error::NonFiniteValue {
            name: "quantiles",
            index,
            value: f64::NAN,
        });
    }
    let tie_weight = match ties {
        Ties::Strict => 0.0,
        Ties::Half => 0.5,
    };
    let mut counts = vec![0.0; levels.len()];
    for (row, &y) in quantiles.rows().into_iter().zip(obs) {
        for (count, &z) in counts.iter_mut().zip(row.iter()) {
            if y < z {
                *count += 1.0;
            } else if y == z {
                *count += tie_weight;
            }
        }
    }
    let n = obs.len() as f64;
    counts.iter_mut().for_each(|c| *c /= n);
    Ok(counts)
}

/// Mean `|y_q - q|` over the levels of each region (strict inequalities, see
/// [`Region`]).
///
/// # Errors
///
/// [`Error::LengthMismatch`] if `curve` and `levels` differ in length,
/// [`Error::NonFiniteValue`] for a NaN curve value, and the errors of [`check_levels`]
/// and [`check_tail`].
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::metrics::pp_mae_by_region;
/// let levels = [0.01, 0.05, 0.5, 0.95, 0.99];
/// let curve = [0.02, 0.05, 0.6, 0.95, 0.99];
/// let mae = pp_mae_by_region(&levels, &curve, 0.05)?;
/// assert!((mae.lower - 0.01).abs() < 1e-15);
/// assert!((mae.base - 0.1).abs() < 1e-15);
/// assert_eq!(mae.upper, 0.0);
/// assert!((mae.full - 0.11 / 5.0).abs() < 1e-15);
/// # Ok(())
/// # }
/// ```
pub fn pp_mae_by_region(levels: &[f64], curve: &[f64], tail: f64) -> Result<RegionMae> {
    check_levels(levels)?;
    check_tail(tail)?;
    if curve.len() != levels.len() {
        return Err(Error::LengthMismatch {
            name: "curve",
            expected: levels.len(),
            got: curve.len(),
        });
    }
    if let Some(index) = curve.iter().position(|c| c.is_nan()) {
        return Err(Error::NonFiniteValue {
            name: "curve",
            index,
            value: f64::NAN,
        });
    }
    let mean_over = |region: Region| {
        let (sum, n) = levels
            .iter()
            .zip(curve)
            .filter(|&(&q, _)| region.contains(q, tail))
            .fold((0.0, 0usize), |(s, n), (&q, &y)| (s + (y - q).abs(), n + 1));
        if n == 0 { f64::NAN } else { sum / n as f64 }
    };
    Ok(RegionMae {
        lower: mean_over(Region::Lower),
        base: mean_over(Region::Base),
        upper: mean_over(Region::Upper),
        full: mean_over(Region::Full),
    })
}

/// PP curve and per-region errors from PIT values ([`pp_curve_from_pit`] followed by
/// [`pp_mae_by_region`]).
///
/// # Errors
///
/// Those of the two functions.
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::metrics::{paper_quantile_levels, pp_score_from_pit, PAPER_TAIL};
/// // 1000 evenly spread PIT values: a perfectly calibrated forecaster.
/// let pit: Vec<f64> = (0..1000).map(|i| (i as f64 + 0.5) / 1000.0).collect();
/// let score = pp_score_from_pit(&pit, &paper_quantile_levels(), PAPER_TAIL)?;
/// assert!(score.mae.full < 1e-3);
/// # Ok(())
/// # }
/// ```
pub fn pp_score_from_pit(pit: &[f64], levels: &[f64], tail: f64) -> Result<PpScore> {
    let curve = pp_curve_from_pit(pit, levels)?;
    let mae = pp_mae_by_region(levels, &curve, tail)?;
    Ok(PpScore { curve, mae })
}

/// PP curve and per-region errors from predicted quantile rows
/// ([`pp_curve_from_quantiles`] followed by [`pp_mae_by_region`]); this is the
/// correctly aligned version of the paper's metric.
///
/// # Errors
///
/// Those of the two functions.
pub fn pp_score_from_quantiles(
    obs: &[f64],
    quantiles: ArrayView2<'_, f64>,
    levels: &[f64],
    ties: Ties,
    tail: f64,
) -> Result<PpScore> {
    let curve = pp_curve_from_quantiles(obs, quantiles, levels, ties)?;
    let mae = pp_mae_by_region(levels, &curve, tail)?;
    Ok(PpScore { curve, mae })
}

/// Checks that a quantile matrix has `rows` rows and `cols` columns.
pub(crate) fn check_shape(q: ArrayView2<'_, f64>, rows: usize, cols: usize) -> Result<()> {
    let (r, c) = q.dim();
    if r != rows {
        return Err(Error::LengthMismatch {
            name: "quantiles rows",
            expected: rows,
            got: r,
        });
    }
    if c != cols {
        return Err(Error::LengthMismatch {
            name: "quantiles columns",
            expected: cols,
            got: c,
        });
    }
    Ok(())
}

/// Checks PIT values: at least one, each in `[0, 1]`.
fn check_pit(pit: &[f64]) -> Result<()> {
    if pit.is_empty() {
        return Err(Error::TooFewObservations {
            what: "a PP curve",
            needed: 1,
            got: 0,
        });
    }
    for (index, &u) in pit.iter().enumerate() {
        if u.is_nan() {
            return Err(Error::NonFiniteValue {
                name: "pit",
                index,
                value: u,
            });
        }
        if !(0.0..=1.0).contains(&u) {
            return Err(Error::ValueOutOfRange {
                name: "pit",
                index,
                value: u,
                expected: "in [0, 1]",
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn quantile_curve_equals_pit_curve_for_continuous_forecasts() {
        // Forecast U(t, t + 1) at step t: quantile q is t + q and the PIT is y - t.
        let obs = [0.3, 1.8, 2.05, 3.5];
        let levels = [0.1, 0.25, 0.5, 0.75, 0.9];
        let q = ndarray::Array2::from_shape_fn((4, 5), |(t, j)| t as f64 + levels[j]);
        let pit: Vec<f64> = obs.iter().enumerate().map(|(t, y)| y - t as f64).collect();
        let a = pp_curve_from_quantiles(&obs, q.view(), &levels, Ties::Strict).unwrap();
        let b = pp_curve_from_pit(&pit, &levels).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn shape_and_value_errors_are_named() {
        let q = array![[0.0, 1.0]];
        assert!(matches!(
            pp_curve_from_quantiles(&[0.5, 0.5], q.view(), &[0.1, 0.9], Ties::Strict),
            Err(Error::LengthMismatch {
                name: "quantiles rows",
                expected: 2,
                got: 1
            })
        ));
        assert!(matches!(
            pp_curve_from_quantiles(&[0.5], q.view(), &[0.1], Ties::Strict),
            Err(Error::LengthMismatch {
                name: "quantiles columns",
                expected: 1,
                got: 2
            })
        ));
        assert!(matches!(
            pp_curve_from_quantiles(&[f64::INFINITY], q.view(), &[0.1, 0.9], Ties::Strict),
            Err(Error::NonFiniteValue { name: "obs", .. })
        ));
        assert!(matches!(
            pp_curve_from_pit(&[0.5, 1.5], &[0.5]),
            Err(Error::ValueOutOfRange {
                name: "pit",
                index: 1,
                ..
            })
        ));
        assert!(matches!(
            pp_curve_from_pit(&[], &[0.5]),
            Err(Error::TooFewObservations { .. })
        ));
        assert!(matches!(
            pp_mae_by_region(&[0.5], &[0.5, 0.5], 0.05),
            Err(Error::LengthMismatch { name: "curve", .. })
        ));
    }

    #[test]
    fn empty_region_is_nan() {
        let mae = pp_mae_by_region(&[0.5], &[0.4], 0.05).unwrap();
        assert!(mae.lower.is_nan() && mae.upper.is_nan());
        assert!((mae.base - 0.1).abs() < 1e-15);
    }
}
