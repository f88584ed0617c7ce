//! The global search of the generalized Pareto fit against a brute-force reference on
//! data whose profile likelihood has several local maxima (points in clusters many
//! orders of magnitude apart), where a local climb often ends on the lower one.
//!
//! The reference scans Grimshaw's profile on a dense grid of `v = ln(1 + θ max x)`,
//! refines the best grid points by golden-section search, and evaluates every
//! candidate with the density itself (`GeneralizedPareto::ln_pdf`), so it shares no
//! code with the fit beyond the distribution.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tailcast::Check;
use tailcast::GeneralizedPareto;
use tailcast::fit::GpdFitter;

/// Points in one to three clusters at scales between 1e-10 and 1e2.
fn clustered(rng: &mut StdRng) -> Vec<f64> {
    let n: usize = rng.random_range(3..40);
    let clusters: usize = rng.random_range(1..4);
    let mut x = Vec::with_capacity(n * clusters);
    for _ in 0..clusters {
        let scale = 10f64.powf(rng.random_range(-10.0..2.0));
        let spread: f64 = rng.random_range(0.0..3.0);
        let m: usize = rng.random_range(1..n);
        for _ in 0..m {
            x.push(scale * (1.0 + spread * rng.random::<f64>()));
        }
    }
    x
}

/// `Σ w ln pdf` at the profile point `v`, or `-∞` off the admissible region.
fn profile_ll(x: &[f64], w: &[f64], v: f64) -> f64 {
    let x_max = x
        .iter()
        .zip(w)
        .filter(|p| *p.1 > 0.0)
        .map(|p| *p.0)
        .fold(0.0, f64::max);
    let total: f64 = w.iter().sum();
    let mean =
        |f: &dyn Fn(f64) -> f64| x.iter().zip(w).map(|(&xi, &wi)| wi * f(xi)).sum::<f64>() / total;
    let (shape, scale) = if v == 0.0 {
        (0.0, mean(&|xi| xi))
    } else {
        let theta = v.exp_m1() / x_max;
        let shape = mean(&|xi| (theta * xi).ln_1p());
        (shape, shape / theta)
    };
    match GeneralizedPareto::new(shape, scale) {
        Ok(g) if shape >= -1.0 => x
            .iter()
            .zip(w)
            .filter(|p| *p.1 > 0.0)
            .map(|(&xi, &wi)| wi * g.ln_pdf(xi))
            .sum(),
        _ => f64::NEG_INFINITY,
    }
}

/// The highest profile value found by a grid over `v` in `[-40, 60]` plus
/// golden-section refinement of every grid maximum, and the boundary candidate.
fn reference_max(x: &[f64], w: &[f64]) -> f64 {
    let x_max = x
        .iter()
        .zip(w)
        .filter(|p| *p.1 > 0.0)
        .map(|p| *p.0)
        .fold(0.0, f64::max);
    let boundary = -w.iter().sum::<f64>() * x_max.ln();
    let steps = 2000;
    let (lo, hi) = (-40.0, 60.0);
    let h = (hi - lo) / steps as f64;
    let grid: Vec<(f64, f64)> = (0..=steps)
        .map(|i| {
            let v = lo + h * i as f64;
            (v, profile_ll(x, w, v))
        })
        .collect();
    let mut best = boundary.max(profile_ll(x, w, 0.0));
    for i in 0..=steps {
        let left = if i > 0 {
            grid[i - 1].1
        } else {
            f64::NEG_INFINITY
        };
        let right = if i < steps {
            grid[i + 1].1
        } else {
            f64::NEG_INFINITY
        };
        if grid[i].1 >= left && grid[i].1 >= right && grid[i].1.is_finite() {
            best = best.max(golden(x, w, grid[i].0 - h, grid[i].0 + h));
        }
    }
    best
}

fn golden(x: &[f64], w: &[f64], mut a: f64, mut b: f64) -> f64 {
    let r = 0.5 * (5f64.sqrt() - 1.0);
    let mut best = f64::NEG_INFINITY;
    for _ in 0..80 {
        let c = b - r * (b - a);
        let d = a + r * (b - a);
        let (fc, fd) = (profile_ll(x, w, c), profile_ll(x, w, d));
        best = best.max(fc).max(fd);
        if fc >= fd {
            b = d;
        } else {
            a = c;
        }
    }
    best
}

/// Fits `cases` clustered samples (weighted with weights in {0, 0.5, 1, 1.5, 2} when
/// `weighted`) and checks each global fit against the reference; returns how many
/// times the local climb alone fell short of it.
fn check(cases: usize, seed: u64, weighted: bool) -> usize {
    let mut rng = StdRng::seed_from_u64(seed);
    let local = GpdFitter::default().global(false).check().unwrap();
    let mut local_misses = 0;
    for case in 0..cases {
        let x = clustered(&mut rng);
        let w: Vec<f64> = if weighted {
            x.iter()
                .map(|_| f64::from(rng.random_range(0..5u8)) * 0.5)
                .collect()
        } else {
            vec![1.0; x.len()]
        };
        let weights = weighted.then_some(&w[..]);
        let Ok(fit) = GpdFitter::default().check().unwrap().fit(&x, weights) else {
            // Only degenerate samples (constant, or fewer than two weighted points)
            // may fail.
            let kept: Vec<f64> = x
                .iter()
                .zip(&w)
                .filter(|p| *p.1 > 0.0)
                .map(|p| *p.0)
                .collect();
            assert!(
                kept.len() < 2 || kept.iter().all(|&v| v == kept[0]),
                "case {case}: {x:?} {w:?}"
            );
            continue;
        };
        let reference = reference_max(&x, &w);
        let tol = 1e-9 * (1.0 + reference.abs());
        assert!(
            fit.log_likelihood >= reference - tol,
            "case {case} ({} points): fit {} < reference {reference}; {x:?} {w:?}",
            x.len(),
            fit.log_likelihood
        );
        // The reported value is that of the reported parameters.
        let direct: f64 = x
            .iter()
            .zip(&w)
            .filter(|p| *p.1 > 0.0)
            .map(|(&v, &wi)| wi * fit.dist().ln_pdf(v))
            .sum();
        assert!((fit.log_likelihood - direct).abs() <= tol, "case {case}");
        if let Ok(l) = local.fit(&x, weights)
            && l.log_likelihood < reference - 1e-6 * (1.0 + reference.abs())
        {
            local_misses += 1;
        }
    }
    local_misses
}

#[test]
fn global_fit_is_never_below_the_brute_force_maximum() {
    let local_misses = check(150, 2024, false);
    // The data really have competing maxima: the local climb alone misses some.
    assert!(local_misses >= 5, "only {local_misses} local misses");
}

#[test]
#[ignore = "3,000 brute-force references, weighted and unweighted (run with --release --ignored)"]
fn global_fit_is_never_below_the_brute_force_maximum_3000_samples() {
    let misses = check(1500, 7, false) + check(1500, 8, true);
    assert!(misses >= 50, "only {misses} local misses");
}
