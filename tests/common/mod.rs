//! Helpers shared by the integration tests: fixture loading, one tolerance policy,
//! and exact-enough numerical integration.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::PathBuf;

use serde_json::Value;

/// Reads `tests/fixtures/<name>` as JSON.
pub fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad JSON in {}: {e}", path.display()))
}

/// A fixture number: JSON numbers, or the strings "inf", "-inf", "nan" (standard JSON
/// cannot hold non-finite floats, so the fixture scripts write them as strings).
pub fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().expect("f64"),
        Value::String(s) => match s.as_str() {
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            "nan" => f64::NAN,
            other => panic!("not a number: {other}"),
        },
        other => panic!("not a number: {other}"),
    }
}

/// A fixture array of numbers.
pub fn nums(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(num).collect()
}

/// Relative closeness with an absolute floor, treating equal infinities and two NaNs
/// as equal. The one tolerance policy of the test suite.
pub fn close(actual: f64, expected: f64, rtol: f64, atol: f64) -> bool {
    if actual.is_nan() || expected.is_nan() {
        return actual.is_nan() && expected.is_nan();
    }
    if actual.is_infinite() || expected.is_infinite() {
        return actual == expected;
    }
    (actual - expected).abs() <= atol.max(rtol * expected.abs())
}

/// Asserts [`close`], with a message naming what was compared.
#[track_caller]
pub fn assert_close(actual: f64, expected: f64, rtol: f64, atol: f64, what: &str) {
    assert!(
        close(actual, expected, rtol, atol),
        "{what}: got {actual:e}, expected {expected:e} (diff {:e}, rtol {rtol:e}, atol {atol:e})",
        actual - expected
    );
}

/// Adaptive Simpson integration of `f` over `[a, b]` to absolute tolerance `tol`.
pub fn integrate(f: &dyn Fn(f64) -> f64, a: f64, b: f64, tol: f64) -> f64 {
    fn simpson(fa: f64, fm: f64, fb: f64, a: f64, b: f64) -> f64 {
        (b - a) / 6.0 * (fa + 4.0 * fm + fb)
    }
    #[allow(clippy::too_many_arguments)]
    fn recurse(
        f: &dyn Fn(f64) -> f64,
        a: f64,
        b: f64,
        fa: f64,
        fm: f64,
        fb: f64,
        whole: f64,
        tol: f64,
        depth: u32,
    ) -> f64 {
        let m = 0.5 * (a + b);
        let (lm, rm) = (0.5 * (a + m), 0.5 * (m + b));
        let (flm, frm) = (f(lm), f(rm));
        let left = simpson(fa, flm, fm, a, m);
        let right = simpson(fm, frm, fb, m, b);
        let delta = left + right - whole;
        if depth == 0 || delta.abs() <= 15.0 * tol {
            left + right + delta / 15.0
        } else {
            recurse(f, a, m, fa, flm, fm, left, tol / 2.0, depth - 1)
                + recurse(f, m, b, fm, frm, fb, right, tol / 2.0, depth - 1)
        }
    }
    if a >= b {
        return 0.0;
    }
    let m = 0.5 * (a + b);
    let (fa, fm, fb) = (f(a), f(m), f(b));
    recurse(f, a, b, fa, fm, fb, simpson(fa, fm, fb, a, b), tol, 40)
}

/// `∫_0^end f(z) dz` for a tail density `f` on `[0, end)` (`end` may be infinite),
/// integrated in `s = ln z` so that power-law tails converge.
pub fn integrate_tail(f: &dyn Fn(f64) -> f64, end: f64, tol: f64) -> f64 {
    let g = |s: f64| {
        let z = s.exp();
        if z >= end { 0.0 } else { f(z) * z }
    };
    // Below e^-40 the mass is negligible for any density bounded near 0 (scaled data).
    let upper = if end.is_finite() { end.ln() } else { 400.0 };
    // Split in unit pieces of s so the adaptive rule sees every feature.
    let mut total = 0.0;
    let mut s = -40.0;
    while s < upper {
        let next = (s + 1.0).min(upper);
        total += integrate(&g, s, next, tol / 500.0);
        s = next;
    }
    total
}

/// The spliced binned-Pareto of a fixture set written by `scripts/gen_fixtures.py`
/// (fields `lo`, `hi`, `logits`, `tail_mass`, `xi_l`, `beta_l`, `xi_u`, `beta_u`).
pub fn sbp_from_fixture(set: &Value) -> tailcast::SplicedBinnedPareto {
    let gpd = |xi: &str, beta: &str| {
        tailcast::GeneralizedPareto::new(num(&set[xi]), num(&set[beta])).unwrap()
    };
    tailcast::SplicedBinnedPareto::from_logits(
        num(&set["lo"]),
        num(&set["hi"]),
        &nums(&set["logits"]),
        num(&set["tail_mass"]),
        gpd("xi_l", "beta_l"),
        gpd("xi_u", "beta_u"),
    )
    .unwrap()
}

/// A seasonal series (period 24) with Student-t(3) noise, 2 % spikes of +15, 1 %
/// missing values and a level shift of +8 after `shift_after`: every path of a
/// detector's state gets exercised.
pub fn stateful_series(n: usize, seed: u64, shift_after: usize) -> Vec<f64> {
    use rand::distr::Distribution;
    use rand::{RngExt, SeedableRng};
    let t3 = rand_distr::StudentT::new(3.0).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..n)
        .map(|t| {
            if rng.random::<f64>() < 0.01 {
                return f64::NAN;
            }
            let mut y = 20.0 + 3.0 * (t as f64 * std::f64::consts::TAU / 24.0).sin();
            y += t3.sample(&mut rng);
            if rng.random::<f64>() < 0.02 {
                y += 15.0;
            }
            if t > shift_after {
                y += 8.0;
            }
            y
        })
        .collect()
}
