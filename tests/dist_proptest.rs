//! Property tests over random parameters: the identities hold and nothing panics on
//! any f64, NaN and infinities included.

mod common;

use common::{integrate, integrate_tail};
use proptest::prelude::*;
use tailcast::{Binned, GeneralizedPareto, SplicedBinnedPareto, Tail};

fn shape() -> impl Strategy<Value = f64> {
    prop_oneof![-0.95..3.0f64, -1e-9..1e-9f64, Just(0.0)]
}

fn scale() -> impl Strategy<Value = f64> {
    (-3.0..3.0f64).prop_map(|e| 10f64.powf(e))
}

fn gpd() -> impl Strategy<Value = GeneralizedPareto> {
    (shape(), scale()).prop_map(|(xi, s)| GeneralizedPareto::new(xi, s).unwrap())
}

fn sbp() -> impl Strategy<Value = SplicedBinnedPareto> {
    (
        prop::collection::vec(-10.0..3.0f64, 1..150),
        -10.0..10.0f64,
        (-1.0..2.0f64).prop_map(|e| 10f64.powf(e)),
        0.001..0.49f64,
        0.001..0.49f64,
        gpd(),
        gpd(),
    )
        .prop_map(|(logits, low, width, ml, mu, gl, gu)| {
            let probs = logits.iter().map(|l| l.exp()).collect();
            let body = Binned::equal_width(low, low + width, probs).unwrap();
            SplicedBinnedPareto::new(body, Tail::new(ml, gl).unwrap(), Tail::new(mu, gu).unwrap())
                .unwrap()
        })
}

/// `cdf(quantile(p))` cannot be closer to `p` than the rounding of the quantile itself
/// allows: one ulp of x moves the cdf by pdf(x)·ulp(x). Where that is below 1e-12 (all
/// but needle-thin bins far from 0) the tolerance is 1e-12.
fn inversion_tolerance(pdf: f64, x: f64) -> f64 {
    let ulp = x.abs().max(f64::MIN_POSITIVE) * f64::EPSILON;
    1e-12_f64.max(4.0 * pdf * ulp)
}

fn level() -> impl Strategy<Value = f64> {
    prop_oneof![
        1e-300..1e-3f64,
        0.0..1.0f64,
        (1e-15..1e-3f64).prop_map(|e| 1.0 - e)
    ]
    .prop_filter("open interval", |p| *p > 0.0 && *p < 1.0)
}

proptest! {
    #[test]
    fn gpd_cdf_inverts_quantile(d in gpd(), p in level()) {
        let x = d.quantile(p);
        prop_assert!((d.cdf(x) - p).abs() <= inversion_tolerance(d.pdf(x), x),
            "{d}: cdf(quantile({p})) = {}", d.cdf(x));
    }

    #[test]
    fn sbp_cdf_inverts_quantile(d in sbp(), p in level()) {
        let x = d.quantile(p);
        prop_assert!((d.cdf(x) - p).abs() <= inversion_tolerance(d.pdf(x), x),
            "{d}: cdf(quantile({p})) = {} at x = {x}", d.cdf(x));
    }

    #[test]
    fn sbp_cdf_is_monotone_and_hits_the_tail_masses(d in sbp(), mut xs in prop::collection::vec(-1e3..1e3f64, 2..50)) {
        xs.sort_by(f64::total_cmp);
        for w in xs.windows(2) {
            prop_assert!(d.cdf(w[0]) <= d.cdf(w[1]));
        }
        prop_assert!((d.cdf(d.lower_threshold()) - d.lower_tail().mass()).abs() <= 1e-12);
        prop_assert!((d.cdf(d.upper_threshold()) - (1.0 - d.upper_tail().mass())).abs() <= 1e-12);
    }

    #[test]
    fn gpd_constructor_and_methods_never_panic(xi in prop::num::f64::ANY, s in prop::num::f64::ANY, x in prop::num::f64::ANY) {
        if let Ok(d) = GeneralizedPareto::new(xi, s) {
            for v in [d.pdf(x), d.ln_pdf(x), d.cdf(x), d.sf(x), d.ln_sf(x), d.ln_cdf(x)] {
                prop_assert_eq!(v.is_nan(), x.is_nan(), "{}: {} at x = {}", d, v, x);
            }
            for v in [d.quantile(x), d.inverse_sf(x)] {
                prop_assert_eq!(v.is_nan(), !(0.0..=1.0).contains(&x), "{}: {} at p = {}", d, v, x);
            }
            let _ = (d.mean(), d.variance(), d.try_quantile(x));
        }
    }

    #[test]
    fn binned_constructor_and_methods_never_panic(
        edges in prop::collection::vec(prop::num::f64::ANY, 0..8),
        probs in prop::collection::vec(prop::num::f64::ANY, 0..8),
        x in prop::num::f64::ANY,
    ) {
        if let Ok(b) = Binned::new(edges, probs) {
            let _ = (b.pdf(x), b.ln_pdf(x), b.cdf(x), b.sf(x), b.quantile(x), b.mean(), b.variance());
        }
    }

    #[test]
    fn sbp_methods_never_panic(d in sbp(), x in prop::num::f64::ANY, m in prop::num::f64::ANY) {
        let v = [d.pdf(x), d.ln_pdf(x), d.cdf(x), d.sf(x), d.ln_sf(x), d.ln_cdf(x), d.quantile(x)];
        if x.is_nan() {
            prop_assert!(v.iter().all(|v| v.is_nan()));
        } else {
            prop_assert!(v[..6].iter().all(|v| !v.is_nan()), "{d}: NaN at x = {x}: {v:?}");
        }
        let _ = (d.mean(), d.variance(), d.try_quantile(x), Tail::new(m, *d.upper_tail().gpd()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn sbp_density_integrates_to_one(d in sbp()) {
        let (tl, tu) = (d.lower_threshold(), d.upper_threshold());
        let mut cuts: Vec<f64> = d.body().edges().iter().copied().filter(|&e| tl < e && e < tu).collect();
        cuts.insert(0, tl);
        cuts.push(tu);
        let middle: f64 = cuts.windows(2)
            .map(|w| integrate(&|x| d.pdf(x), w[0].next_up(), w[1].next_down(), 1e-13))
            .sum();
        let lower = integrate_tail(&|z| d.pdf(tl - z), d.lower_tail().gpd().upper_endpoint(), 1e-10);
        let upper = integrate_tail(&|z| d.pdf(tu + z), d.upper_tail().gpd().upper_endpoint(), 1e-10);
        prop_assert!((middle + lower + upper - 1.0).abs() < 1e-8,
            "{d}: integral {} (body {middle}, tails {lower} {upper})", middle + lower + upper);
    }
}
