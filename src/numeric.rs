//! Small numeric helpers shared across the crate.

/// Clamps a finite-or-overflowed value into the finite range (`±inf` becomes
/// `±f64::MAX`; NaN stays NaN).
#[inline]
pub(crate) fn saturate(x: f64) -> f64 {
    x.clamp(-f64::MAX, f64::MAX)
}

/// The median of finite values (0 for an empty slice), without overflowing for
/// values of opposite signs near `±f64::MAX`. Allocates a copy: meant for warm-ups,
/// not per-step work.
pub(crate) fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    let n = v.len();
    let (_, hi, _) = v.select_nth_unstable_by(n / 2, f64::total_cmp);
    let hi = *hi;
    if n % 2 == 1 {
        hi
    } else {
        let lo = v[..n / 2].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mid = lo + (hi - lo) / 2.0;
        // `hi - lo` overflows for values of opposite signs near ±MAX.
        if mid.is_finite() {
            mid
        } else {
            lo / 2.0 + hi / 2.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_extremes_is_finite() {
        assert_eq!(median(&[-f64::MAX, 1e292]), -f64::MAX / 2.0 + 1e292 / 2.0);
        assert_eq!(median(&[-f64::MAX, f64::MAX]), 0.0);
        assert_eq!(median(&[1.0, 4.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
    }

    #[test]
    fn saturate_clamps_infinities_only() {
        assert_eq!(saturate(f64::INFINITY), f64::MAX);
        assert_eq!(saturate(f64::NEG_INFINITY), -f64::MAX);
        assert_eq!(saturate(-3.5), -3.5);
        assert!(saturate(f64::NAN).is_nan());
    }
}
