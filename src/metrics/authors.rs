//! The paper's PP-plot evaluation exactly as the authors' notebooks compute it,
//! including their two-step misalignment (for reproducing their numbers only).

use ndarray::ArrayView2;

use super::levels::check_levels;
use super::pp::{PpScore, check_shape, pp_mae_by_region};
use crate::error::{Error, Result};

/// The authors' PP-plot protocol, with its alignment quirk (forecasts compared two
/// steps late), as their evaluation notebooks compute it.
///
/// `quantiles[[i, j]]` is the `levels[j]`-quantile of the one-step forecast made from
/// `series[i .. i + context_length]`, so it targets `series[i + context_length]`. The
/// notebooks prefix every quantile column with `context_length + 2` NaNs and the series
/// with one trailing NaN before comparing, so row `i` is compared with
/// `series[i + context_length + 2]`, **two steps late**; rows that run past the end meet
/// the NaN or nothing and count as "not below"; the denominator is the number of rows.
/// Comparisons are strict (`x < z`) and anything NaN counts as "not below", as in numpy.
///
/// Use [`pp_score_from_quantiles`](super::pp_score_from_quantiles) with
/// `obs = series[context_length ..]` for the correctly aligned metric.
///
/// # Errors
///
/// [`Error::TooFewObservations`] for a matrix without rows, [`Error::LengthMismatch`]
/// if it does not have `levels.len()` columns, and the errors of
/// [`super::check_levels`] and [`check_tail`](super::check_tail). NaN in
/// `series` or `quantiles` is not an error (it is how the notebooks pad).
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use ndarray::array;
/// use tailcast::metrics::pp_score_authors_protocol;
/// // Context 1: row 0 targets series[1] but is compared with series[3];
/// // row 1 would be compared with series[4], which does not exist.
/// let series = [0.0, 0.0, 0.0, 5.0];
/// let q = array![[10.0], [10.0]];
/// let score = pp_score_authors_protocol(&series, q.view(), &[0.5], 1, 0.05)?;
/// assert_eq!(score.curve, vec![0.5]); // 1 of 2 rows below
/// # Ok(())
/// # }
/// ```
pub fn pp_score_authors_protocol(
    series: &[f64],
    quantiles: ArrayView2<'_, f64>,
    levels: &[f64],
    context_length: usize,
    tail: f64,
) -> Result<PpScore> {
    check_levels(levels)?;
    let rows = quantiles.nrows();
    if rows == 0 {
        return Err(Error::TooFewObservations {
            what: "the authors' PP protocol",
            needed: 1,
            got: 0,
        });
    }
    check_shape(quantiles, rows, levels.len())?;
    let lag = context_length.saturating_add(2);
    let mut counts = vec![0.0; levels.len()];
    for (i, row) in quantiles.rows().into_iter().enumerate() {
        let Some(&y) = i.checked_add(lag).and_then(|k| series.get(k)) else {
            break; // later rows run past the end too
        };
        for (count, &z) in counts.iter_mut().zip(row.iter()) {
            if y < z {
                *count += 1.0;
            }
        }
    }
    counts.iter_mut().for_each(|c| *c /= rows as f64);
    let mae = pp_mae_by_region(levels, &counts, tail)?;
    Ok(PpScore { curve: counts, mae })
}
