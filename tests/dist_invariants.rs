//! Invariants every distribution must satisfy (in the spirit of statrs's
//! `check_continuous_distribution`, tightened), run on GPDs with ξ < 0, ξ = 0, ξ > 0 and
//! ξ = ±1e-12, on binned distributions and on spliced binned-Pareto distributions.
//! The checks go through the statrs traits, so they also test the delegation.

mod common;

use common::{assert_close, integrate, integrate_tail};
use statrs::distribution::{Continuous, ContinuousCDF};
use tailcast::{Binned, GeneralizedPareto, SplicedBinnedPareto, Tail};

/// Levels at which quantile and cdf must invert each other.
const LEVELS: [f64; 13] = [
    1e-12,
    1e-6,
    1e-3,
    0.01,
    0.05,
    0.1,
    0.3,
    0.5,
    0.7,
    0.95,
    0.99,
    0.999,
    1.0 - 1e-9,
];

fn check_continuous<D: Continuous<f64, f64> + ContinuousCDF<f64, f64>>(d: &D, name: &str) {
    // Limits at the ends of the real line.
    assert_eq!(d.pdf(f64::INFINITY), 0.0, "{name}: pdf(+inf)");
    assert_eq!(d.pdf(f64::NEG_INFINITY), 0.0, "{name}: pdf(-inf)");
    assert_eq!(d.cdf(f64::NEG_INFINITY), 0.0, "{name}: cdf(-inf)");
    assert_eq!(d.cdf(f64::INFINITY), 1.0, "{name}: cdf(+inf)");
    assert!(
        d.pdf(f64::NAN).is_nan() && d.cdf(f64::NAN).is_nan(),
        "{name}: NaN in, NaN out"
    );

    let (lo, hi) = (d.inverse_cdf(1e-9), d.inverse_cdf(1.0 - 1e-9));
    let mut previous_cdf = 0.0;
    let n = 4000;
    for i in 0..=n {
        let x = lo + (hi - lo) * i as f64 / n as f64;
        let (p, lp, c, s) = (d.pdf(x), d.ln_pdf(x), d.cdf(x), d.sf(x));
        assert!(p >= 0.0, "{name}: pdf({x}) = {p}");
        if p > 0.0 {
            assert_close(lp, p.ln(), 1e-12, 1e-12, &format!("{name}: ln_pdf({x})"));
        } else {
            assert_eq!(lp, f64::NEG_INFINITY, "{name}: ln_pdf({x}) where pdf is 0");
        }
        assert!(c >= previous_cdf, "{name}: cdf not monotone at {x}");
        previous_cdf = c;
        // sf is computed independently of cdf; they must still add up.
        assert_close(c + s, 1.0, 0.0, 2e-15, &format!("{name}: cdf + sf at {x}"));
        // cdf' = pdf away from jumps of the density.
        let h = 1e-5 * (hi - lo);
        let (pl, pr) = (d.pdf(x - h), d.pdf(x + h));
        if pl > 0.0 && (pl - pr).abs() < 1e-3 * pl && (pl - p).abs() < 1e-3 * pl {
            let slope = (d.cdf(x + h) - d.cdf(x - h)) / (2.0 * h);
            assert_close(slope, p, 1e-4, 1e-9, &format!("{name}: cdf'({x})"));
        }
    }
    for p in LEVELS {
        let x = d.inverse_cdf(p);
        assert_close(
            d.cdf(x),
            p,
            1e-12,
            1e-15,
            &format!("{name}: cdf(quantile({p}))"),
        );
        assert!(
            d.min() <= x && x <= d.max(),
            "{name}: quantile({p}) = {x} outside support"
        );
    }
    assert_eq!(
        d.inverse_cdf(0.0),
        d.min(),
        "{name}: quantile(0) is the lower end"
    );
    assert_eq!(
        d.inverse_cdf(1.0),
        d.max(),
        "{name}: quantile(1) is the upper end"
    );
    assert!(d.try_inverse_cdf(1.5).is_err() && d.try_inverse_cdf(f64::NAN).is_err());
}

fn gpds() -> Vec<GeneralizedPareto> {
    [-0.9, -0.5, -1e-12, 0.0, 1e-12, 0.2, 1.0, 2.5]
        .iter()
        .flat_map(|&xi| [0.05, 1.0, 30.0].map(|s| GeneralizedPareto::new(xi, s).unwrap()))
        .collect()
}

fn sbps() -> Vec<SplicedBinnedPareto> {
    let gauss: Vec<f64> = (0..100)
        .map(|k| -0.5 * ((k as f64 - 45.0) / 12.0).powi(2))
        .collect();
    let ragged: Vec<f64> = (0..40)
        .map(|k| {
            if k % 5 == 0 {
                -30.0
            } else {
                (k as f64 * 0.37).sin() * 3.0
            }
        })
        .collect();
    let g = |xi, s| GeneralizedPareto::new(xi, s).unwrap();
    vec![
        SplicedBinnedPareto::from_logits(0.0, 10.0, &gauss, 0.05, g(0.3, 0.5), g(0.2, 0.8))
            .unwrap(),
        SplicedBinnedPareto::from_logits(-3.0, 2.0, &ragged, 0.1, g(-0.4, 1.0), g(0.0, 0.3))
            .unwrap(),
        SplicedBinnedPareto::new(
            Binned::new(vec![-1.0, 0.0, 0.001, 4.0, 4.5], vec![1.0, 0.0, 3.0, 1.0]).unwrap(),
            Tail::new(0.2, g(1e-12, 2.0)).unwrap(),
            Tail::new(0.01, g(1.5, 0.1)).unwrap(),
        )
        .unwrap(),
    ]
}

#[test]
fn gpd_invariants() {
    for d in gpds() {
        check_continuous(&d, &d.to_string());
    }
}

#[test]
fn binned_invariants() {
    for s in sbps() {
        check_continuous(s.body(), "body");
    }
}

#[test]
fn spliced_invariants() {
    for s in sbps() {
        check_continuous(&s, &s.to_string());
    }
}

#[test]
fn gpd_density_integrates_to_one() {
    for d in gpds() {
        let total = integrate_tail(&|z| d.pdf(z), d.upper_endpoint(), 1e-10);
        assert_close(total, 1.0, 0.0, 1e-8, &format!("{d}: integral"));
    }
}

/// `∫ f` between the thresholds of `s`, bin by bin so that no piece straddles a jump
/// of the density.
fn integrate_body(s: &SplicedBinnedPareto, f: &dyn Fn(f64) -> f64) -> f64 {
    let (tl, tu) = (s.lower_threshold(), s.upper_threshold());
    let mut edges: Vec<f64> = s
        .body()
        .edges()
        .iter()
        .copied()
        .filter(|&e| tl < e && e < tu)
        .collect();
    edges.insert(0, tl);
    edges.push(tu);
    edges
        .windows(2)
        .map(|w| integrate(f, w[0].next_up(), w[1].next_down(), 1e-13))
        .sum()
}

#[test]
fn spliced_density_integrates_to_one_exactly_and_numerically() {
    for s in sbps() {
        let (tl, tu) = (s.lower_threshold(), s.upper_threshold());
        let (pl, pu) = (s.lower_tail().mass(), s.upper_tail().mass());
        // Exact piecewise integral of the body plus the tail masses.
        assert_close(s.body_mass() + pl + pu, 1.0, 0.0, 1e-14, "exact integral");
        // Numerical: bin by bin through the body, in log-excess through the tails.
        let middle = integrate_body(&s, &|x| s.pdf(x));
        let lower = integrate_tail(
            &|z| s.pdf(tl - z),
            s.lower_tail().gpd().upper_endpoint(),
            1e-10,
        );
        let upper = integrate_tail(
            &|z| s.pdf(tu + z),
            s.upper_tail().gpd().upper_endpoint(),
            1e-10,
        );
        assert_close(
            middle + lower + upper,
            1.0,
            0.0,
            1e-8,
            &format!("{s}: numerical integral"),
        );
        assert_close(s.cdf(tl), pl, 1e-14, 0.0, "cdf at lower threshold");
        assert_close(s.cdf(tu), 1.0 - pu, 1e-14, 0.0, "cdf at upper threshold");
    }
}

#[test]
fn moments_match_numerical_integrals() {
    for s in sbps() {
        let Some(mean) = s.mean() else { continue };
        let (tl, tu) = (s.lower_threshold(), s.upper_threshold());
        let lower = integrate_tail(
            &|z| (tl - z) * s.pdf(tl - z),
            s.lower_tail().gpd().upper_endpoint(),
            1e-11,
        );
        let upper = integrate_tail(
            &|z| (tu + z) * s.pdf(tu + z),
            s.upper_tail().gpd().upper_endpoint(),
            1e-11,
        );
        let middle = integrate_body(&s, &|x| x * s.pdf(x));
        assert_close(
            mean,
            lower + middle + upper,
            1e-8,
            1e-8,
            &format!("{s}: mean"),
        );
    }
}
