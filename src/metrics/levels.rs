//! The paper's quantile levels and the regions of the PP-plot they are grouped into.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The tail mass that separates the PP-plot regions in the paper (5 %).
pub const PAPER_TAIL: f64 = 0.05;

/// The 129 quantile levels of the paper's PP-plots (the authors' evaluation notebooks), ascending.
///
/// 25 levels evenly spaced from 0.001 to 0.05, 81 from 0.05 to 0.95 and the mirror
/// image `1 - x` of the first 25, each rounded to three decimals (ties to even, after
/// multiplying by 1000, as numpy's `round` does), duplicates removed: 24 lower-tail
/// levels, 0.05, 79 base levels, 0.95 and 24 upper-tail levels. The evenly spaced
/// values are computed as `start + i * step` with `step = (stop - start) / (num - 1)`
/// and the last value set to `stop`, numpy's `linspace`, so the rounding (which hits
/// exact halves such as 0.0725) gives the authors' list bit for bit.
///
/// # Examples
///
/// ```
/// let levels = tailcast::metrics::paper_quantile_levels();
/// assert_eq!(levels.len(), 129);
/// assert_eq!(&levels[..3], &[0.001, 0.003, 0.005]);
/// assert_eq!(levels[24], 0.05);
/// assert_eq!(levels[25], 0.061);
/// assert_eq!(levels[128], 0.999);
/// ```
pub fn paper_quantile_levels() -> Vec<f64> {
    let tail = PAPER_TAIL;
    let lower = linspace(0.001, tail, 25);
    let base = linspace(tail, 1.0 - tail, 81);
    let mut levels: Vec<f64> = lower
        .iter()
        .copied()
        .chain(base)
        .chain(lower.iter().map(|&x| 1.0 - x))
        .map(|x| (x * 1000.0).round_ties_even() / 1000.0)
        .collect();
    levels.sort_by(f64::total_cmp);
    levels.dedup();
    levels
}

/// numpy's `linspace(start, stop, num)` with its endpoint, value for value.
fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    let step = (stop - start) / (num - 1) as f64;
    let mut out: Vec<f64> = (0..num).map(|i| i as f64 * step + start).collect();
    out[num - 1] = stop;
    out
}

/// A region of the PP-plot: which quantile levels a summary is averaged over.
///
/// With tail mass `p` (the paper's 0.05), the inequalities are strict, as in the
/// authors' notebook: the levels `p` and `1 - p` themselves belong only to
/// [`Region::Full`].
///
/// ```text
/// Lower:  0 < q < p        Base: p < q < 1 - p
/// Upper:  1 - p < q < 1    Full: every level
/// ```
///
/// # Examples
///
/// ```
/// use tailcast::metrics::{Region, PAPER_TAIL};
/// assert!(Region::Lower.contains(0.01, PAPER_TAIL));
/// assert!(!Region::Base.contains(0.05, PAPER_TAIL));
/// assert!(Region::Full.contains(0.05, PAPER_TAIL));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Region {
    /// Lower tail, `0 < q < p`.
    Lower,
    /// Body, `p < q < 1 - p`.
    Base,
    /// Upper tail, `1 - p < q < 1`.
    Upper,
    /// All levels.
    Full,
}

impl Region {
    /// The four regions in the order of the paper's tables.
    pub const ALL: [Region; 4] = [Region::Lower, Region::Base, Region::Upper, Region::Full];

    /// Whether `level` belongs to this region for tail mass `tail`.
    pub fn contains(self, level: f64, tail: f64) -> bool {
        match self {
            Region::Lower => level > 0.0 && level < tail,
            Region::Base => level > tail && level < 1.0 - tail,
            Region::Upper => level > 1.0 - tail && level < 1.0,
            Region::Full => true,
        }
    }

    /// Lower-case name as in the paper's table headers ("lower", "base", "upper", "full").
    pub fn name(self) -> &'static str {
        match self {
            Region::Lower => "lower",
            Region::Base => "base",
            Region::Upper => "upper",
            Region::Full => "full",
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which of `levels` belong to `region` (same length as `levels`).
///
/// # Errors
///
/// As [`check_levels`] and [`check_tail`].
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::metrics::{paper_quantile_levels, region_mask, Region, PAPER_TAIL};
/// let levels = paper_quantile_levels();
/// let count = |r| -> Result<usize, tailcast::Error> {
///     Ok(region_mask(&levels, r, PAPER_TAIL)?.iter().filter(|&&m| m).count())
/// };
/// assert_eq!(count(Region::Lower)?, 24);
/// assert_eq!(count(Region::Base)?, 79);
/// assert_eq!(count(Region::Upper)?, 24);
/// assert_eq!(count(Region::Full)?, 129);
/// # Ok(())
/// # }
/// ```
pub fn region_mask(levels: &[f64], region: Region, tail: f64) -> Result<Vec<bool>> {
    check_levels(levels)?;
    check_tail(tail)?;
    Ok(levels.iter().map(|&q| region.contains(q, tail)).collect())
}

/// Checks quantile levels: finite and within `[0, 1]` (an empty list is allowed).
///
/// # Errors
///
/// [`Error::NonFiniteValue`] or [`Error::ValueOutOfRange`] naming `levels` and the
/// index of the first bad level.
pub fn check_levels(levels: &[f64]) -> Result<()> {
    for (index, &q) in levels.iter().enumerate() {
        if !q.is_finite() {
            return Err(Error::NonFiniteValue {
                name: "levels",
                index,
                value: q,
            });
        }
        if !(0.0..=1.0).contains(&q) {
            return Err(Error::ValueOutOfRange {
                name: "levels",
                index,
                value: q,
                expected: "in [0, 1]",
            });
        }
    }
    Ok(())
}

/// Checks a region-splitting tail mass: in the open interval (0, 0.5).
///
/// # Errors
///
/// [`Error::TailMassOutOfRange`] naming `tail`.
pub fn check_tail(tail: f64) -> Result<f64> {
    crate::dist::spliced::check_tail_mass("tail", tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linspace_matches_numpy_shape() {
        let x = linspace(0.05, 0.95, 81);
        assert_eq!(x[0], 0.05);
        assert_eq!(x[80], 0.95);
        assert!((x[40] - 0.5).abs() < 1e-15);
    }

    #[test]
    fn levels_are_strictly_increasing_and_region_sizes_match_the_paper() {
        let levels = paper_quantile_levels();
        assert!(levels.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(levels[104], 0.95);
        let n = |r: Region| {
            levels
                .iter()
                .filter(|&&q| r.contains(q, PAPER_TAIL))
                .count()
        };
        assert_eq!(
            (n(Region::Lower), n(Region::Base), n(Region::Upper)),
            (24, 79, 24)
        );
    }

    #[test]
    fn bad_levels_and_tails_are_named() {
        assert!(matches!(
            check_levels(&[0.5, f64::NAN]),
            Err(Error::NonFiniteValue {
                name: "levels",
                index: 1,
                ..
            })
        ));
        assert!(matches!(
            check_levels(&[1.5]),
            Err(Error::ValueOutOfRange {
                name: "levels",
                index: 0,
                ..
            })
        ));
        for bad in [0.0, 0.5, -1.0, f64::NAN] {
            assert!(matches!(
                check_tail(bad),
                Err(Error::TailMassOutOfRange { name: "tail", .. })
            ));
        }
    }
}
