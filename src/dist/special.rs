//! Small numerical kernels shared by the distributions.
//!
//! The generalized Pareto formulas divide by the shape, which is harmless for
//! |shape| of order one but loses every digit as the shape goes to 0. Writing them
//! through `ln(1+t)/t` and `(e^u - 1)/u`, which are smooth at 0, keeps full relative
//! accuracy for every shape, including exactly 0, with no cut-off switch.

/// `ln(1 + t) / t`, continuous at `t = 0` (value 1).
#[inline]
pub(crate) fn ln_1p_over(t: f64) -> f64 {
    if t == 0.0 { 1.0 } else { t.ln_1p() / t }
}

/// `(e^u - 1) / u`, continuous at `u = 0` (value 1).
#[inline]
pub(crate) fn exp_m1_over(u: f64) -> f64 {
    if u == 0.0 { 1.0 } else { u.exp_m1() / u }
}

/// `ln(1 - e^a)` for `a <= 0`, accurate on both sides of `a = -ln 2`
/// (Mächler 2012, "Accurately computing log(1 - exp(-|a|))").
#[inline]
pub(crate) fn ln_1m_exp(a: f64) -> f64 {
    if a > -std::f64::consts::LN_2 {
        (-a.exp_m1()).ln()
    } else {
        (-a.exp()).ln_1p()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_are_one_at_zero_and_accurate_nearby() {
        assert_eq!(ln_1p_over(0.0), 1.0);
        assert_eq!(exp_m1_over(0.0), 1.0);
        // Series: ln(1+t)/t = 1 - t/2 + t^2/3 - ...
        let t = 1e-9;
        assert!((ln_1p_over(t) - (1.0 - t / 2.0)).abs() < 1e-18);
        assert!((exp_m1_over(t) - (1.0 + t / 2.0)).abs() < 1e-18);
        assert!((ln_1p_over(1.0) - std::f64::consts::LN_2).abs() < 1e-16);
    }

    #[test]
    fn ln_1m_exp_matches_naive_form_where_that_is_accurate() {
        for a in [-0.1, -0.5, -1.0, -5.0, -30.0] {
            let naive = (1.0 - f64::exp(a)).ln();
            assert!((ln_1m_exp(a) - naive).abs() <= 1e-15 * naive.abs().max(1.0));
        }
        // Near 0 the naive form is off; the series is ln(-a) + a/2.
        let a = -1e-12;
        let expected = (1e-12f64).ln() + a / 2.0;
        assert!((ln_1m_exp(a) - expected).abs() < 1e-14);
        assert_eq!(ln_1m_exp(0.0), f64::NEG_INFINITY);
    }
}
