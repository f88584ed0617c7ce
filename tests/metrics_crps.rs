//! The CRPS of every distribution against independent references: scipy quadrature of
//! the reference SBP (tests/fixtures/sbp_crps.json, `python3 scripts/gen_fixtures.py`),
//! an adaptive numerical integral of `(F(x) - 1{x >= y})²` through the public cdf, the
//! identity `d CRPS/dy = 2F(y) - 1`, and Monte Carlo through the ensemble form.

mod common;

use common::{assert_close, fixture, integrate, integrate_tail, num, sbp_from_fixture};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::distr::Distribution;
use rand::rngs::StdRng;
use statrs::distribution::{ContinuousCDF, Normal};
use tailcast::metrics::{Crps, crps_ensemble, mean_crps};
use tailcast::{Binned, GeneralizedPareto, SplicedBinnedPareto};

/// `∫ (F(x) - 1{x >= y})² dx` by adaptive Simpson between the sorted `breaks` (the
/// points where `F` is not smooth, and `y`), plus the two tails in log scale. Above `y`
/// the integrand is taken from the survival function: `1 - cdf` rounds to 0 long
/// before a heavy tail's `sf²` stops contributing.
fn numeric_crps(cdf: &dyn Fn(f64) -> f64, sf: &dyn Fn(f64) -> f64, breaks: &[f64], y: f64) -> f64 {
    let h = |x: f64| {
        if x >= y {
            sf(x).powi(2)
        } else {
            cdf(x).powi(2)
        }
    };
    let mut pts: Vec<f64> = breaks.iter().copied().chain([y]).collect();
    pts.sort_by(f64::total_cmp);
    pts.dedup();
    let (a, b) = (pts[0], pts[pts.len() - 1]);
    // Tolerances stay well above rounding noise, or adaptive Simpson never stops.
    let mut total = integrate_tail(&|z| h(a - z), f64::INFINITY, 1e-11)
        + integrate_tail(&|z| h(b + z), f64::INFINITY, 1e-11);
    for w in pts.windows(2) {
        total += integrate(&h, w[0], w[1], 1e-12 * (1.0 + (w[1] - w[0])));
    }
    total
}

fn sbp_breaks(d: &SplicedBinnedPareto) -> Vec<f64> {
    let (tl, tu) = (d.lower_threshold(), d.upper_threshold());
    let mut b: Vec<f64> = d
        .body()
        .edges()
        .iter()
        .copied()
        .filter(|&e| e > tl && e < tu)
        .collect();
    b.push(tl);
    b.push(tu);
    let (lo, hi) = d.support();
    b.extend([lo, hi].into_iter().filter(|v| v.is_finite()));
    b
}

fn fixture_sbps() -> Vec<(String, SplicedBinnedPareto, serde_json::Value)> {
    let fx = fixture("sbp_crps.json");
    fx["sets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let d = sbp_from_fixture(s);
            (s["name"].as_str().unwrap().to_owned(), d, s.clone())
        })
        .collect()
}

#[test]
fn sbp_crps_matches_scipy_quadrature_fixture() {
    let sets = fixture_sbps();
    assert_eq!(sets.len(), 4);
    let mut cases = 0;
    let mut worst: f64 = 0.0;
    for (name, d, s) in &sets {
        assert_close(d.lower_threshold(), num(&s["tau_l"]), 1e-13, 1e-13, "tau_l");
        assert_close(d.upper_threshold(), num(&s["tau_u"]), 1e-13, 1e-13, "tau_u");
        for c in s["cases"].as_array().unwrap() {
            let (y, expected) = (num(&c["y"]), num(&c["crps"]));
            let got = d.crps(y);
            worst = worst.max(((got - expected) / expected).abs());
            assert_close(
                got,
                expected,
                1e-10,
                0.0,
                &format!("{name} crps({y}) [{}]", c["kind"]),
            );
            cases += 1;
        }
    }
    assert!(cases > 50, "{cases}");
    // The fixture is good to about 1e-12 relative; the closed form matches it that well.
    assert!(worst < 1e-11, "worst relative error {worst:e}");
}

#[test]
fn sbp_crps_matches_an_adaptive_integral_of_the_cdf() {
    let gpd = |xi, beta| GeneralizedPareto::new(xi, beta).unwrap();
    let logits: Vec<f64> = (0..30).map(|k| (k as f64 * 0.37).sin() * 2.0).collect();
    let extra = [
        // Both tails bounded, steeply (ξ = -0.9), and one almost at the CRPS's limit.
        SplicedBinnedPareto::from_logits(-2.0, 2.0, &logits, 0.2, gpd(-0.9, 0.5), gpd(1.9, 0.3)),
        SplicedBinnedPareto::from_logits(0.0, 1.0, &logits, 0.01, gpd(0.0, 0.01), gpd(-0.2, 2.0)),
    ];
    let mut all: Vec<(String, SplicedBinnedPareto)> =
        fixture_sbps().into_iter().map(|(n, d, _)| (n, d)).collect();
    all.extend(extra.into_iter().map(|d| ("extra".to_owned(), d.unwrap())));
    for (name, d) in &all {
        let breaks = sbp_breaks(d);
        let (tl, tu) = (d.lower_threshold(), d.upper_threshold());
        let span = tu - tl;
        let ys = [
            tl - 3.0 * span,
            tl - 0.01 * span,
            tl,
            d.quantile(0.3),
            d.body().edges()[d.body().bins() / 2],
            d.quantile(0.7),
            tu,
            tu + 0.5 * span,
            tu + 20.0 * span,
        ];
        for y in ys {
            let cdf = |x: f64| d.cdf(x);
            let expected = numeric_crps(&cdf, &|x| d.sf(x), &breaks, y);
            assert_close(
                d.crps(y),
                expected,
                1e-9,
                1e-13,
                &format!("{name} crps({y})"),
            );
        }
    }
}

#[test]
fn gpd_binned_and_normal_crps_match_the_integral() {
    for (xi, sigma) in [
        (-0.7, 2.0),
        (-1e-9, 1.0),
        (0.0, 0.5),
        (0.3, 1.0),
        (1.0, 1.0),
        (1.6, 0.2),
    ] {
        let g = GeneralizedPareto::new(xi, sigma).unwrap();
        let mut breaks = vec![0.0];
        if g.upper_endpoint().is_finite() {
            breaks.push(g.upper_endpoint());
        }
        for y in [-3.0, 0.0, 0.01, 0.7, 4.0, 50.0] {
            let expected = numeric_crps(&|x| g.cdf(x), &|x| g.sf(x), &breaks, y);
            assert_close(g.crps(y), expected, 1e-9, 1e-13, &format!("{g} crps({y})"));
        }
    }
    let b = Binned::new(vec![-1.0, 0.0, 0.5, 2.0, 2.5], vec![1.0, 0.0, 2.0, 1.0]).unwrap();
    for y in [-5.0, -1.0, -0.3, 0.25, 1.0, 2.5, 9.0] {
        let expected = numeric_crps(&|x| b.cdf(x), &|x| b.sf(x), b.edges(), y);
        assert_close(
            b.crps(y),
            expected,
            1e-10,
            1e-13,
            &format!("binned crps({y})"),
        );
    }
    let n = Normal::new(1.5, 0.7).unwrap();
    for y in [-4.0, 0.0, 1.5, 2.2, 9.0] {
        let expected = numeric_crps(&|x| n.cdf(x), &|x| n.sf(x), &[1.5], y);
        assert_close(
            n.crps(y),
            expected,
            1e-9,
            1e-13,
            &format!("normal crps({y})"),
        );
    }
}

#[test]
fn crps_slope_is_two_cdf_minus_one() {
    // d/dy ∫ (F - 1{x >= y})² dx = F(y)² - (1 - F(y))² = 2F(y) - 1.
    for (name, d, _) in fixture_sbps() {
        let (tl, tu) = (d.lower_threshold(), d.upper_threshold());
        for y in [tl - 2.0, tl + 0.3 * (tu - tl), tu + 1.5] {
            let h = 1e-5 * (1.0 + y.abs());
            let slope = (d.crps(y + h) - d.crps(y - h)) / (2.0 * h);
            assert_close(
                slope,
                2.0 * d.cdf(y) - 1.0,
                0.0,
                1e-6,
                &format!("{name} slope at {y}"),
            );
        }
    }
}

#[test]
fn ensemble_crps_of_many_draws_agrees_with_the_closed_form() {
    let (_, d, _) = fixture_sbps().swap_remove(0);
    let mut rng = StdRng::seed_from_u64(11);
    let m = 200_000;
    let mut xs: Vec<f64> = (0..m).map(|_| d.sample(&mut rng)).collect();
    for y in [d.quantile(0.02), d.quantile(0.5), d.quantile(0.995)] {
        let est = crps_ensemble(&mut xs, y).unwrap();
        // The estimator is a mean of |X - y| minus a U-statistic; its sd is below
        // sd(|X - y|)/sqrt(m), estimated here from the same draws.
        let mean_abs = xs.iter().map(|x| (x - y).abs()).sum::<f64>() / m as f64;
        let var = xs
            .iter()
            .map(|x| ((x - y).abs() - mean_abs).powi(2))
            .sum::<f64>()
            / m as f64;
        let tol = 5.0 * (var / m as f64).sqrt();
        assert!(
            (est - d.crps(y)).abs() < tol,
            "y={y}: {est} vs {} (tol {tol})",
            d.crps(y)
        );
    }
}

#[test]
fn heavy_tails_give_infinite_crps_and_bad_input_is_total() {
    let g = GeneralizedPareto::new(2.0, 1.0).unwrap();
    let light = GeneralizedPareto::new(0.1, 1.0).unwrap();
    let d = SplicedBinnedPareto::from_logits(0.0, 1.0, &[0.0; 4], 0.1, light, g).unwrap();
    assert_eq!(d.crps(0.5), f64::INFINITY);
    let d = SplicedBinnedPareto::from_logits(0.0, 1.0, &[0.0; 4], 0.1, g, light).unwrap();
    assert_eq!(d.crps(0.5), f64::INFINITY);
    let d = SplicedBinnedPareto::from_logits(0.0, 1.0, &[0.0; 4], 0.1, light, light).unwrap();
    assert!(d.crps(f64::NAN).is_nan());
    assert_eq!(d.crps(f64::INFINITY), f64::INFINITY);
    assert!(d.crps(-1e300) >= 1e300); // finite: about |y|
    assert!(mean_crps([(&d, 0.5), (&d, f64::NAN)]).is_err());
    let empty: [(&SplicedBinnedPareto, f64); 0] = [];
    assert!(mean_crps(empty).is_err());
    assert!(crps_ensemble(&mut [], 0.0).is_err());
    assert!(crps_ensemble(&mut [1.0, f64::NAN], 0.0).is_err());
}

proptest! {
    /// Random SBPs and observations: the CRPS is non-negative, finite for shapes < 2,
    /// and never below the CRPS at the median (the minimiser).
    #[test]
    fn crps_is_finite_nonnegative_and_minimal_at_the_median(
        logits in prop::collection::vec(-5.0f64..5.0, 1..40),
        low in -100.0f64..100.0,
        width in 1e-3f64..100.0,
        tail in 0.001f64..0.49,
        xi_l in -1.5f64..1.99, beta_l in 1e-3f64..10.0,
        xi_u in -1.5f64..1.99, beta_u in 1e-3f64..10.0,
        u in 0.0f64..1.0,
        far in -1e12f64..1e12,
    ) {
        let d = SplicedBinnedPareto::from_logits(
            low, low + width, &logits, tail,
            GeneralizedPareto::new(xi_l, beta_l).unwrap(),
            GeneralizedPareto::new(xi_u, beta_u).unwrap(),
        ).unwrap();
        let median = d.quantile(0.5);
        let at_median = d.crps(median);
        prop_assert!(at_median.is_finite() && at_median >= 0.0);
        for y in [d.quantile(u.clamp(1e-9, 1.0 - 1e-9)), far] {
            let c = d.crps(y);
            prop_assert!(c.is_finite() && c >= 0.0, "crps({}) = {}", y, c);
            prop_assert!(c >= at_median * (1.0 - 1e-9) - 1e-12, "crps({}) = {} < {}", y, c, at_median);
        }
    }

    /// Arbitrary f64 observations never panic and never give a negative score.
    #[test]
    fn crps_never_panics(y in proptest::num::f64::ANY) {
        let g = GeneralizedPareto::new(0.4, 2.0).unwrap();
        let d = SplicedBinnedPareto::from_logits(-1.0, 1.0, &[0.0; 8], 0.05, g, g).unwrap();
        for c in [d.crps(y), g.crps(y), d.body().crps(y)] {
            prop_assert!(c.is_nan() == y.is_nan());
            prop_assert!(c >= 0.0 || c.is_nan());
        }
    }
}
