//! Arbitrary data never makes a fit panic or return a NaN parameter.

use proptest::prelude::*;
use tailcast::Check;
use tailcast::fit::{GpdFitter, SbpConfig};
use tailcast::{GeneralizedPareto, SplicedBinnedPareto};

fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => prop::num::f64::ANY,
        4 => -1e6..1e6f64,
        2 => 0.0..1e-300f64,
        1 => Just(0.0),
        1 => Just(1.0),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn gpd_fit_is_total(x in prop::collection::vec(any_f64(), 0..60)) {
        if let Ok(f) = GeneralizedPareto::fit(&x) {
            prop_assert!(f.dist.shape().is_finite() && f.dist.shape() >= -1.0);
            prop_assert!(f.dist.scale() > 0.0 && f.dist.scale().is_finite());
            prop_assert!(!f.log_likelihood.is_nan());
            prop_assert!(f.shape_se.is_none_or(|s| s.is_finite() && s > 0.0));
        }
    }

    #[test]
    fn gpd_fit_on_positive_data_succeeds(x in prop::collection::vec(1e-12..1e12f64, 2..80)) {
        let distinct = x.iter().any(|&v| v != x[0]);
        let r = GpdFitter::default().check().unwrap().fit(&x, None);
        prop_assert_eq!(r.is_ok(), distinct, "{:?}", r);
        if let Ok(e) = r {
            let direct: f64 = x.iter().map(|&v| e.dist().ln_pdf(v)).sum();
            prop_assert!((e.log_likelihood - direct).abs() <= 1e-8 * direct.abs().max(1.0));
        }
    }

    #[test]
    fn global_fit_is_never_below_the_local_one_or_the_boundary(
        x in prop::collection::vec(1e-9..1e9f64, 2..60),
    ) {
        let global = GpdFitter::default().check().unwrap().fit(&x, None);
        let local = GpdFitter::default().global(false).check().unwrap().fit(&x, None);
        if let (Ok(g), Ok(l)) = (global, local) {
            let tol = 1e-9 * (1.0 + l.log_likelihood.abs());
            prop_assert!(g.log_likelihood >= l.log_likelihood - tol, "{:?} {:?}", g, l);
            let x_max = x.iter().copied().fold(0.0, f64::max);
            let boundary = -(x.len() as f64) * x_max.ln();
            prop_assert!(g.log_likelihood >= boundary - tol);
        }
    }

    #[test]
    fn weighted_gpd_fit_is_total(
        x in prop::collection::vec(any_f64(), 0..40),
        w in prop::collection::vec(any_f64(), 0..40),
    ) {
        if let Ok(f) = GeneralizedPareto::fit_weighted(&x, &w) {
            prop_assert!(f.dist.shape().is_finite() && f.dist.scale() > 0.0);
        }
    }

    #[test]
    fn sbp_fit_is_total(x in prop::collection::vec(any_f64(), 0..300)) {
        let config = SbpConfig::default().bins(20).min_exceedances(3);
        if let Ok(f) = SplicedBinnedPareto::fit(&x, &config) {
            prop_assert!(!f.log_likelihood.is_nan());
            prop_assert!(f.lower.dist.shape().is_finite() && f.upper.dist.shape().is_finite());
        }
    }
}
