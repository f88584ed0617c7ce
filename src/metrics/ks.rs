//! Kolmogorov–Smirnov statistics and their asymptotic p-values: the uniformity check
//! for PIT values and the two-sample comparison of series.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, all_finite};

/// Result of a Kolmogorov–Smirnov test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KsTest {
    /// The statistic `D = sup |F_n(x) - F(x)|` (or `sup |F_m - G_n|` for two samples).
    pub statistic: f64,
    /// Asymptotic p-value `P(K > sqrt(n) D)`, `K` Kolmogorov-distributed.
    pub p_value: f64,
    /// The sample size `n` (for two samples, `n_a n_b / (n_a + n_b)`).
    pub effective_n: f64,
}

impl KsTest {
    fn from_statistic(statistic: f64, effective_n: f64) -> Self {
        Self {
            statistic,
            p_value: kolmogorov_sf(effective_n.sqrt() * statistic),
            effective_n,
        }
    }

    /// `sqrt(n) D`, the statistic on the scale of the Kolmogorov distribution (about
    /// 1.36 at the 5 % level, 1.95 at 0.1 %).
    pub fn scaled(&self) -> f64 {
        self.effective_n.sqrt() * self.statistic
    }
}

/// `P(K > x)` for the Kolmogorov distribution, the limit law of `sqrt(n) D_n`.
///
/// ```text
/// P(K > x) = 2 Σ_{k>=1} (-1)^(k-1) exp(-2 k² x²)                       (x >= 1)
/// P(K <= x) = sqrt(2π)/x Σ_{k>=1} exp(-(2k-1)² π² / (8 x²))            (x < 1)
/// ```
///
/// Each series is used where it converges in a few terms; both are accurate to about
/// 1e-16 absolute. Returns 1 for `x <= 0` and `NaN` for `NaN`.
///
/// # Examples
///
/// ```
/// use tailcast::metrics::kolmogorov_sf;
/// assert!((kolmogorov_sf(1.358) - 0.05).abs() < 2e-4);
/// assert!((kolmogorov_sf(1.949) - 0.001).abs() < 5e-5);
/// ```
pub fn kolmogorov_sf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x <= 0.15 {
        // P(K <= 0.15) < e^-54; the series would compute 0/0-like products below.
        return 1.0;
    }
    if x < 1.0 {
        let pi2 = std::f64::consts::PI * std::f64::consts::PI;
        let c = -pi2 / (8.0 * x * x);
        let sum: f64 = (1..=8)
            .map(|k| {
                let m = (2 * k - 1) as f64;
                (m * m * c).exp()
            })
            .sum();
        (1.0 - (2.0 * std::f64::consts::PI).sqrt() / x * sum).clamp(0.0, 1.0)
    } else {
        let mut sum = 0.0;
        for k in 1..=100 {
            let kf = k as f64;
            let term = (-2.0 * kf * kf * x * x).exp();
            sum += if k % 2 == 1 { term } else { -term };
            if term < 1e-18 {
                break;
            }
        }
        (2.0 * sum).clamp(0.0, 1.0)
    }
}

/// One-sample KS test of `values` against a continuous cdf.
///
/// Equal values are handled as one jump of the empirical cdf. Allocates one sorted
/// copy of `values`. For a cdf with atoms use [`ks_one_sample_with_atoms`].
///
/// # Errors
///
/// [`Error::TooFewObservations`] for an empty sample, [`Error::NonFiniteValue`] for a
/// NaN value (infinite values are allowed: the cdf is 0 or 1 there).
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::metrics::ks_one_sample;
/// let xs = [0.1, 0.2, 0.3, 0.9];
/// let ks = ks_one_sample(&xs, |x| x.clamp(0.0, 1.0))?;
/// assert!((ks.statistic - 0.45).abs() < 1e-15); // at x = 0.3: 3/4 - 0.3
/// # Ok(())
/// # }
/// ```
pub fn ks_one_sample(values: &[f64], cdf: impl Fn(f64) -> f64) -> Result<KsTest> {
    ks_one_sample_with_atoms(values, &cdf, &cdf)
}

/// One-sample KS test against a cdf that may jump: `cdf_left(x) = P(X < x)` is
/// compared with the empirical cdf just before each observed value and `cdf(x) =
/// P(X <= x)` just after, so `D = sup_x |F_n(x) - F(x)|` is exact. With atoms the
/// asymptotic p-value is conservative (too large).
///
/// # Errors
///
/// As [`ks_one_sample`].
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::metrics::ks_one_sample_with_atoms;
/// // Half the mass at 0, half uniform on (0, 1]; a sample that matches it.
/// let cdf = |x: f64| if x < 0.0 { 0.0 } else { 0.5 + 0.5 * x.min(1.0) };
/// let left = |x: f64| if x <= 0.0 { 0.0 } else { 0.5 + 0.5 * x.min(1.0) };
/// let ks = ks_one_sample_with_atoms(&[0.0, 0.0, 0.25, 0.75], cdf, left)?;
/// assert!((ks.statistic - 0.125).abs() < 1e-15);
/// # Ok(())
/// # }
/// ```
pub fn ks_one_sample_with_atoms(
    values: &[f64],
    cdf: impl Fn(f64) -> f64,
    cdf_left: impl Fn(f64) -> f64,
) -> Result<KsTest> {
    let sorted = sorted_copy(values, "values")?;
    let n = sorted.len() as f64;
    let mut d: f64 = 0.0;
    let mut i = 0;
    while i < sorted.len() {
        let x = sorted[i];
        let mut j = i;
        while j < sorted.len() && sorted[j] == x {
            j += 1;
        }
        d = d
            .max((cdf_left(x) - i as f64 / n).abs())
            .max((j as f64 / n - cdf(x)).abs());
        i = j;
    }
    Ok(KsTest::from_statistic(d, n))
}

/// KS test of PIT values against the uniform distribution on `[0, 1]`: the calibration
/// check for a forecaster.
///
/// # Errors
///
/// As [`ks_one_sample`], plus [`Error::ValueOutOfRange`] for a value outside `[0, 1]`.
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::metrics::ks_uniform;
/// let pit: Vec<f64> = (0..500).map(|i| (i as f64 + 0.5) / 500.0).collect();
/// let ks = ks_uniform(&pit)?;
/// assert!((ks.statistic - 0.001).abs() < 1e-12);
/// assert!(ks.p_value > 0.99);
/// # Ok(())
/// # }
/// ```
pub fn ks_uniform(pit: &[f64]) -> Result<KsTest> {
    if let Some(index) = pit.iter().position(|u| *u < 0.0 || *u > 1.0) {
        return Err(Error::ValueOutOfRange {
            name: "pit",
            index,
            value: pit[index],
            expected: "in [0, 1]",
        });
    }
    ks_one_sample(pit, |u| u)
}

/// Two-sample KS test: do `a` and `b` come from the same distribution?
///
/// Ties within and across samples (atoms) are handled by comparing the two empirical
/// cdfs after each distinct value; with atoms the test is conservative. Allocates one
/// sorted copy of each sample.
///
/// # Errors
///
/// [`Error::TooFewObservations`] if a sample is empty, [`Error::NonFiniteValue`] for a
/// non-finite value.
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::metrics::ks_two_sample;
/// let ks = ks_two_sample(&[1.0, 2.0, 3.0, 4.0], &[3.5, 4.5, 5.5, 6.5])?;
/// assert_eq!(ks.statistic, 0.75);
/// assert_eq!(ks.effective_n, 2.0);
/// # Ok(())
/// # }
/// ```
pub fn ks_two_sample(a: &[f64], b: &[f64]) -> Result<KsTest> {
    let a = sorted_copy(a, "a")?;
    let b = sorted_copy(b, "b")?;
    all_finite("a", &a)?;
    all_finite("b", &b)?;
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j) = (0, 0);
    let mut d: f64 = 0.0;
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] == x {
            i += 1;
        }
        while j < b.len() && b[j] == x {
            j += 1;
        }
        d = d.max((i as f64 / na - j as f64 / nb).abs());
    }
    Ok(KsTest::from_statistic(d, na * nb / (na + nb)))
}

fn sorted_copy(values: &[f64], name: &'static str) -> Result<Vec<f64>> {
    if values.is_empty() {
        return Err(Error::TooFewObservations {
            what: "a Kolmogorov-Smirnov test",
            needed: 1,
            got: 0,
        });
    }
    if let Some(index) = values.iter().position(|v| v.is_nan()) {
        return Err(Error::NonFiniteValue {
            name,
            index,
            value: f64::NAN,
        });
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    Ok(sorted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_two_series_agree_where_both_converge() {
        // At x = 1 both forms are accurate; compare the small-x form pushed to x = 1.
        for x in [0.6, 0.8, 1.0, 1.2] {
            let pi2 = std::f64::consts::PI.powi(2);
            let small: f64 = 1.0
                - (2.0 * std::f64::consts::PI).sqrt() / x
                    * (1..=20)
                        .map(|k| (-((2 * k - 1) as f64).powi(2) * pi2 / (8.0 * x * x)).exp())
                        .sum::<f64>();
            let large: f64 = 2.0
                * (1..=50)
                    .map(|k| {
                        let s = if k % 2 == 1 { 1.0 } else { -1.0 };
                        s * (-2.0 * (k * k) as f64 * x * x).exp()
                    })
                    .sum::<f64>();
            assert!((small - large).abs() < 1e-14, "x={x}: {small} vs {large}");
            assert!((kolmogorov_sf(x) - large).abs() < 1e-14);
        }
        assert_eq!(kolmogorov_sf(0.0), 1.0);
        assert!(kolmogorov_sf(0.1) > 1.0 - 1e-15);
        assert!(kolmogorov_sf(5.0) < 1e-20);
    }

    #[test]
    fn ties_are_one_jump() {
        // Sample {0.5, 0.5}: the ECDF jumps from 0 to 1 at 0.5, so D = 0.5 against U(0,1).
        let ks = ks_uniform(&[0.5, 0.5]).unwrap();
        assert_eq!(ks.statistic, 0.5);
        let two = ks_two_sample(&[1.0, 1.0, 2.0], &[1.0, 2.0, 2.0]).unwrap();
        assert!((two.statistic - 1.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn errors() {
        assert!(matches!(
            ks_uniform(&[]),
            Err(Error::TooFewObservations { .. })
        ));
        assert!(matches!(
            ks_uniform(&[0.2, f64::NAN]),
            Err(Error::ValueOutOfRange { .. }) | Err(Error::NonFiniteValue { .. })
        ));
        assert!(matches!(
            ks_two_sample(&[1.0], &[f64::INFINITY]),
            Err(Error::NonFiniteValue { name: "b", .. })
        ));
    }
}
