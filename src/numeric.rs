//! Small numeric helpers shared across the crate: saturation, and every quantile or
//! median the crate computes from data (the point routines are allocation-free; only
//! [`median`] copies its input).

/// Clamps a finite-or-overflowed value into the finite range (`±inf` becomes
/// `±f64::MAX`; NaN stays NaN).
#[inline]
pub(crate) fn saturate(x: f64) -> f64 {
    x.clamp(-f64::MAX, f64::MAX)
}

/// The sum of `values` in their order, and whether any has its sign bit set: a
/// negative value, or -0, which is no error (a caller that finds a sign looks at
/// the values again). One pass without a comparison per value: a rolling refit
/// sums its bins at every step.
#[inline]
pub(crate) fn sum_and_any_sign(values: &[f64]) -> (f64, bool) {
    let mut total = 0.0;
    let mut bits = 0u64;
    for &v in values {
        total += v;
        bits |= v.to_bits();
    }
    (total, bits >> 63 == 1)
}

/// The median of finite values (0 for an empty slice), without overflowing for
/// values of opposite signs near `±f64::MAX`. Allocates a copy: meant for warm-ups,
/// not per-step work (see [`median_in_place`]).
pub(crate) fn median(values: &[f64]) -> f64 {
    median_in_place(&mut values.to_vec())
}

/// [`median`] without the copy: reorders `values` (allocates nothing).
pub(crate) fn median_in_place(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
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

/// The median of `values` and their median absolute deviation from it, in place:
/// `values` ends up holding the absolute deviations (allocates nothing).
pub(crate) fn median_and_mad(values: &mut [f64]) -> (f64, f64) {
    let centre = median_in_place(values);
    for v in values.iter_mut() {
        *v = (*v - centre).abs();
    }
    (centre, median_in_place(values))
}

/// The empirical quantile of sorted values with linear interpolation (Hyndman–Fan
/// type 7, numpy's default); `sorted` non-empty, `p` in `[0, 1]`. Interpolates as a
/// weighted mean, which neither overflows between values of opposite signs near
/// `±f64::MAX` nor turns a pair of equal infinities into NaN.
pub(crate) fn type7_quantile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let (a, b) = (sorted[lo], sorted[hi]);
    let frac = h - lo as f64;
    if a == b || frac == 0.0 {
        a
    } else {
        (1.0 - frac) * a + frac * b
    }
}

/// `(t as usize).min(last)`, bit for bit (NaN and negative `t` give 0, `t` at or
/// beyond `last` gives `last`), through the signed conversion, which x86-64 has an
/// instruction for (the unsigned one is emulated, about twice the instructions).
#[inline]
pub(crate) fn index_below(t: f64, last: usize) -> usize {
    debug_assert!(last <= i64::MAX as usize);
    (t as i64).clamp(0, last as i64) as usize
}

/// The weighted lower quantile of `(value, weight)` pairs sorted by value: the first
/// value at which the cumulative weight reaches `p · total` (`total` the sum of the
/// weights); the last value if rounding leaves the target unreached, 0 for no points.
pub(crate) fn weighted_quantile_sorted(sorted: &[(f64, f64)], total: f64, p: f64) -> f64 {
    let target = p * total;
    let mut acc = 0.0;
    for &(x, w) in sorted {
        acc += w;
        if acc >= target {
            return x;
        }
    }
    sorted.last().map_or(0.0, |p| p.0)
}

/// The point with mass `mass · total` of the unnormalised bin masses `masses` below
/// it, on equal-width bins over `[low, high]`, interpolated within its bin (see
/// [`upper_point`]).
pub(crate) fn lower_point(masses: &[f64], total: f64, low: f64, high: f64, mass: f64) -> f64 {
    let k = masses.len();
    let width = (high - low) / k as f64;
    let edge = |i: usize| if i == k { high } else { low + width * i as f64 };
    let target = mass * total;
    let mut acc = 0.0;
    for (i, &m) in masses.iter().enumerate() {
        if acc + m >= target && m > 0.0 {
            let x = edge(i) + (target - acc) / m * width;
            return x.clamp(edge(i), edge(i + 1));
        }
        acc += m;
    }
    high
}

/// The point with mass `mass · total` of the unnormalised bin masses `masses` above
/// it, on equal-width bins over `[low, high]`, interpolated within its bin.
///
/// The masses are accumulated in count units from the top ([`lower_point`]: from
/// the bottom). With equal weights the counts are integers, so the sums are exact and
/// the point depends only on the bins at its own end of the grid: a point entering or
/// leaving a window on the other side does not move it, not even by a rounding
/// error, which lets a rolling refit keep a tail whose exceedances have not changed.
pub(crate) fn upper_point(masses: &[f64], total: f64, low: f64, high: f64, mass: f64) -> f64 {
    let k = masses.len();
    let width = (high - low) / k as f64;
    let edge = |i: usize| if i == k { high } else { low + width * i as f64 };
    let target = mass * total;
    let mut acc = 0.0;
    for (i, &m) in masses.iter().enumerate().rev() {
        if acc + m >= target && m > 0.0 {
            let x = edge(i + 1) - (target - acc) / m * width;
            return x.clamp(edge(i), edge(i + 1));
        }
        acc += m;
    }
    low
}

/// The quantile at `p` of the binned law with unnormalised masses `masses` (sum
/// `total`) on equal-width bins over `[low, high]`, as
/// [`Binned::quantile`](crate::Binned::quantile) defines it, without building one:
/// [`lower_point`] for `p <= 1/2`, else [`upper_point`].
#[cfg(test)]
pub(crate) fn binned_quantile(masses: &[f64], total: f64, low: f64, high: f64, p: f64) -> f64 {
    if p <= 0.5 {
        lower_point(masses, total, low, high, p)
    } else {
        upper_point(masses, total, low, high, 1.0 - p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_below_is_the_unsigned_conversion() {
        let specials = [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            0.0,
            -0.5,
            0.999,
            1.0,
            98.999_999_999,
            99.0,
            99.5,
            100.0,
            1e18,
            9.3e18,
            2f64.powi(63),
            2f64.powi(64),
            1e300,
            -1e300,
        ];
        for last in [0, 1, 7, 99, 1 << 40] {
            for t in specials
                .into_iter()
                .chain((-300..300).map(|i| f64::from(i) * 0.37))
            {
                assert_eq!(index_below(t, last), (t as usize).min(last), "{t} {last}");
            }
        }
    }

    #[test]
    fn median_of_extremes_is_finite() {
        assert_eq!(median(&[-f64::MAX, 1e292]), -f64::MAX / 2.0 + 1e292 / 2.0);
        assert_eq!(median(&[-f64::MAX, f64::MAX]), 0.0);
        assert_eq!(median(&[1.0, 4.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
        let mut v = [5.0, 1.0, 3.0];
        assert_eq!(median_in_place(&mut v), 3.0);
    }

    #[test]
    fn saturate_clamps_infinities_only() {
        assert_eq!(saturate(f64::INFINITY), f64::MAX);
        assert_eq!(saturate(f64::NEG_INFINITY), -f64::MAX);
        assert_eq!(saturate(-3.5), -3.5);
        assert!(saturate(f64::NAN).is_nan());
    }

    #[test]
    fn binned_quantile_matches_binned() {
        let masses = [0.0, 3.0, 0.5, 0.0, 2.0, 1.5];
        let b = crate::Binned::equal_width(-1.0, 2.0, masses.to_vec()).unwrap();
        for p in [0.01, 0.05, 0.3, 0.5, 0.52, 0.9, 0.95, 0.99, 0.999] {
            let q = binned_quantile(&masses, 7.0, -1.0, 2.0, p);
            assert!(
                (q - b.quantile(p)).abs() < 1e-14,
                "{p}: {q} vs {}",
                b.quantile(p)
            );
        }
    }

    #[test]
    fn type7_and_weighted_quantiles() {
        let v = [1.0, 2.0, 4.0, 8.0];
        assert_eq!(type7_quantile(&v, 0.0), 1.0);
        assert_eq!(type7_quantile(&v, 0.5), 3.0);
        assert_eq!(type7_quantile(&v, 1.0), 8.0);
        assert_eq!(type7_quantile(&[-f64::MAX, f64::MAX], 0.5), 0.0);
        let w = [(1.0, 1.0), (2.0, 2.0), (3.0, 1.0)];
        assert_eq!(weighted_quantile_sorted(&w, 4.0, 0.25), 1.0);
        assert_eq!(weighted_quantile_sorted(&w, 4.0, 0.5), 2.0);
        assert_eq!(weighted_quantile_sorted(&w, 4.0, 0.8), 3.0);
        assert_eq!(weighted_quantile_sorted(&[], 0.0, 0.5), 0.0);
    }
}
