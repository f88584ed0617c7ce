//! Golden values of the generalized Pareto distribution from scipy.stats.genpareto,
//! checked against mpmath at 50 digits (tests/fixtures/gpd_values.json, written by
//! `python3 scripts/gen_fixtures.py`), and of the spliced binned-Pareto from the numpy
//! reference `ref_sbp.py` (tests/fixtures/sbp_values.json).

mod common;

use common::{assert_close, fixture, num, sbp_from_fixture};
use tailcast::GeneralizedPareto;

/// Relative tolerance of the contract; values below `ABS_FLOOR` are compared
/// absolutely (relative error is meaningless next to an underflow).
const RTOL: f64 = 1e-12;
const ABS_FLOOR: f64 = 1e-300;

/// Points within 1e-6 (relative) of a finite upper endpoint are ill-conditioned in
/// double precision: 1 + ξx/σ cancels, so one ulp of x moves the result by
/// `|d ln f/d ln x|` ulps. The tolerance there is that condition number times 4 ulps.
fn near_endpoint_tolerance(d: &GeneralizedPareto, x: f64) -> f64 {
    let gap = 1.0 + d.shape() * x / d.scale();
    let condition = (x / d.scale() / gap).abs() * (1.0 + 1.0 / d.shape().abs());
    RTOL.max(4.0 * f64::EPSILON * condition)
}

#[test]
fn gpd_matches_scipy_and_mpmath() {
    let fx = fixture("gpd_values.json");
    let cases = fx["cases"].as_array().unwrap();
    assert!(cases.len() > 1000);
    for c in cases {
        let d = GeneralizedPareto::new(num(&c["shape"]), num(&c["scale"])).unwrap();
        let x = num(&c["x"]);
        let rtol = if c["near_endpoint"].as_bool() == Some(true) {
            near_endpoint_tolerance(&d, x)
        } else {
            RTOL
        };
        let what = |f: &str| format!("{d} {f}({x:e})");
        assert_close(d.pdf(x), num(&c["pdf"]), rtol, ABS_FLOOR, &what("pdf"));
        assert_close(d.cdf(x), num(&c["cdf"]), rtol, ABS_FLOOR, &what("cdf"));
        assert_close(d.sf(x), num(&c["sf"]), rtol, ABS_FLOOR, &what("sf"));
        let lp = num(&c["logpdf"]);
        // The log-density is compared relatively, and absolutely near 0 where it crosses.
        assert_close(d.ln_pdf(x), lp, rtol, rtol, &what("ln_pdf"));
    }
}

#[test]
fn gpd_quantiles_match_scipy_and_mpmath() {
    let fx = fixture("gpd_values.json");
    for c in fx["ppf_cases"].as_array().unwrap() {
        let d = GeneralizedPareto::new(num(&c["shape"]), num(&c["scale"])).unwrap();
        let p = num(&c["p"]);
        let what = |f: &str| format!("{d} {f}({p:e})");
        assert_close(
            d.quantile(p),
            num(&c["ppf"]),
            RTOL,
            ABS_FLOOR,
            &what("quantile"),
        );
        assert_close(
            d.inverse_sf(p),
            num(&c["isf"]),
            RTOL,
            ABS_FLOOR,
            &what("inverse_sf"),
        );
    }
}

#[test]
fn sbp_matches_numpy_reference() {
    let fx = fixture("sbp_values.json");
    let sets = fx["sets"].as_array().unwrap();
    assert!(!sets.is_empty());
    for s in sets {
        let d = sbp_from_fixture(s);
        assert_close(d.lower_threshold(), num(&s["tau_l"]), 1e-12, 1e-12, "tau_l");
        assert_close(d.upper_threshold(), num(&s["tau_u"]), 1e-12, 1e-12, "tau_u");
        assert_close(
            d.mean().unwrap_or(f64::INFINITY),
            num(&s["mean"]),
            1e-12,
            1e-12,
            "mean",
        );
        for p in s["points"].as_array().unwrap() {
            let kind = p["kind"].as_str().unwrap();
            // The density jumps at a threshold, and the reference's threshold may differ
            // from ours in the last bit; each is evaluated at its own threshold.
            let x = match kind {
                "tau_l" => d.lower_threshold(),
                "tau_u" => d.upper_threshold(),
                _ => num(&p["x"]),
            };
            let what = |f: &str| format!("{} {kind} {f}({x})", s["name"]);
            let rtol = if kind == "near_lower_endpoint" {
                near_endpoint_tolerance(d.lower_tail().gpd(), d.lower_threshold() - x)
            } else {
                1e-12
            };
            assert_close(d.pdf(x), num(&p["pdf"]), rtol, ABS_FLOOR, &what("pdf"));
            assert_close(d.cdf(x), num(&p["cdf"]), rtol, ABS_FLOOR, &what("cdf"));
            assert_close(d.sf(x), num(&p["sf"]), rtol, ABS_FLOOR, &what("sf"));
            // A bin whose softmax mass underflows f64 has density exactly 0 here, so
            // its log-density is -inf rather than the fixture's exact -803.
            if kind != "underflow_bin" {
                assert_close(d.ln_pdf(x), num(&p["logpdf"]), rtol, 1e-12, &what("ln_pdf"));
            }
        }
        for q in s["quantiles"].as_array().unwrap() {
            let p = num(&q["q"]);
            assert_close(
                d.quantile(p),
                num(&q["x"]),
                1e-11,
                1e-12,
                &format!("quantile({p})"),
            );
        }
    }
}
