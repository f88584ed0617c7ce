//! Unit tests of the engine: the analytic gradient against central differences, and
//! the likelihood against the distribution the model predicts.

use ndarray::{Array1, Array2};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

use super::engine::{self, Data, Frame, Kind, Workspace};
use super::*;

fn frame(d: usize, hidden: Option<usize>, bins: usize) -> Frame {
    Frame {
        x_mean: vec![0.0; d],
        x_scale: vec![1.0; d],
        low: -3.0,
        high: 3.0,
        bins,
        lower_mass: 0.05,
        upper_mass: 0.08,
        shape_low: -0.5,
        shape_high: 1.0,
        hidden,
    }
}

fn random_problem(seed: u64, d: usize, hidden: Option<usize>, n: usize) -> (Frame, Vec<f64>, Data) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut normal = || -> f64 { StandardNormal.sample(&mut rng) };
    let f = frame(d, hidden, 12);
    let mut theta: Vec<f64> = (0..f.len()).map(|_| 0.5 * normal()).collect();
    theta[f.lower_a0()] = -0.5 + 0.3 * normal();
    theta[f.upper_a0()] = -0.3 + 0.3 * normal();
    let x = Array2::from_shape_fn((n, d), |_| normal());
    // Outcomes spread over body and both tails, some outside the grid.
    let y: Vec<f64> = (0..n).map(|_| 1.6 * normal()).collect();
    let data = Data::new(&f, x.view(), &y);
    (f, theta, data)
}

fn check_gradient(f: &Frame, theta: &[f64], data: &Data, l2: f64, kind: Kind) -> f64 {
    let mut ws = Workspace::new(f);
    let mut grad = vec![0.0; theta.len()];
    engine::objective(f, theta, data, l2, kind, &mut ws, &mut grad);
    let mut scratch = vec![0.0; theta.len()];
    let mut t = theta.to_vec();
    let scale = grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    let mut worst = 0.0f64;
    for i in 0..theta.len() {
        // Fourth-order central differences: truncation ~h^4, rounding ~eps/h.
        let h = 1e-5 * theta[i].abs().max(1.0);
        let mut at = |delta: f64| {
            t[i] = theta[i] + delta;
            engine::objective(f, &t, data, l2, kind, &mut ws, &mut scratch)
        };
        let fd = (8.0 * (at(h) - at(-h)) - (at(2.0 * h) - at(-2.0 * h))) / (12.0 * h);
        t[i] = theta[i];
        let err = (fd - grad[i]).abs() / grad[i].abs().max(1e-3 * scale);
        if err > 1e-6 {
            eprintln!("parameter {i}: analytic {} vs differences {fd}", grad[i]);
        }
        worst = worst.max(err);
    }
    worst
}

#[test]
fn gradient_matches_central_differences_linear() {
    for seed in 0..3 {
        let (f, theta, data) = random_problem(seed, 3, None, 300);
        let worst = check_gradient(&f, &theta, &data, 0.7, Kind::Joint);
        assert!(worst < 1e-6, "seed {seed}: worst relative error {worst:e}");
        let worst = check_gradient(&f, &theta, &data, 0.7, Kind::Body);
        assert!(worst < 1e-6, "seed {seed}: worst relative error {worst:e}");
    }
}

#[test]
fn gradient_matches_central_differences_hidden() {
    for seed in 10..12 {
        let (f, theta, data) = random_problem(seed, 3, Some(4), 300);
        let worst = check_gradient(&f, &theta, &data, 0.7, Kind::Joint);
        assert!(worst < 1e-6, "seed {seed}: worst relative error {worst:e}");
        let worst = check_gradient(&f, &theta, &data, 0.7, Kind::Body);
        assert!(worst < 1e-6, "seed {seed}: worst relative error {worst:e}");
    }
}

#[test]
fn censored_body_gradient_matches_central_differences() {
    for (seed, hidden) in [(20, None), (21, Some(3))] {
        let (f, theta, mut data) = random_problem(seed, 3, hidden, 300);
        // Thresholds from another parameter vector, so that they sit anywhere.
        let other: Vec<f64> = theta.iter().map(|t| 0.8 * t + 0.05).collect();
        data.censor_at(&f, &other);
        let censored = data
            .censor
            .iter()
            .filter(|c| **c != engine::Censor::Body)
            .count();
        assert!(censored > 10, "{censored}");
        let worst = check_gradient(&f, &theta, &data, 0.7, Kind::Censored);
        assert!(worst < 1e-6, "seed {seed}: worst relative error {worst:e}");
    }
}

#[test]
fn gradient_beyond_a_short_tail_endpoint_is_exact_too() {
    // Negative shapes with small scales put some excesses past the GPD endpoint,
    // where the objective's continuation (not -inf) keeps the line search going.
    let (f, mut theta, data) = random_problem(5, 2, None, 300);
    theta[f.lower_shape()] = f.shape_preimage(-0.45);
    theta[f.upper_shape()] = f.shape_preimage(-0.4);
    theta[f.lower_a0()] = -2.0;
    theta[f.upper_a0()] = -2.0;
    let mut ws = Workspace::new(&f);
    let ll = engine::log_likelihood(&f, &theta, &data, &mut ws, None);
    assert!(ll.is_finite());
    let worst = check_gradient(&f, &theta, &data, 0.0, Kind::Joint);
    assert!(worst < 1e-6, "worst relative error {worst:e}");
}

#[test]
fn likelihood_equals_the_predicted_distributions_density() {
    let (f, theta, data) = random_problem(3, 3, Some(5), 400);
    let model = ConditionalSbp {
        frame: f.clone(),
        theta: theta.clone(),
    };
    let mut ws = Workspace::new(&f);
    let ll = engine::log_likelihood(&f, &theta, &data, &mut ws, None);
    let mut direct = 0.0;
    let mut pit = Vec::new();
    for (row, &y) in data.x.rows().into_iter().zip(&data.y) {
        let dist = model.predict(row).unwrap();
        direct += dist.ln_pdf(y);
        pit.push(dist.cdf(y));
        assert!((dist.body_mass() - (1.0 - 0.05 - 0.08)).abs() < 1e-12);
    }
    assert!(
        (ll - direct).abs() < 1e-9 * direct.abs(),
        "{ll} vs {direct}"
    );
    let x = data.x.clone();
    let y = Array1::from(data.y.clone());
    assert!((model.log_likelihood(x.view(), y.view()).unwrap() - ll).abs() < 1e-9 * ll.abs());
    let scores = model.percentile_scores(x.view(), y.view()).unwrap();
    for (a, b) in scores.iter().zip(&pit) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
}

#[test]
fn tail_gradient_matches_central_differences() {
    for (seed, hidden) in [(20, None), (21, Some(3))] {
        let (f, theta, data) = random_problem(seed, 3, hidden, 400);
        let (lower, upper) = engine::tail_data(&f, &theta, &data);
        assert!(lower.e.len() > 5 && upper.e.len() > 5);
        for tail in [lower, upper] {
            let p = f.p();
            let params: Vec<f64> = (0..p + 2).map(|i| 0.3 * ((i as f64) * 1.7).sin()).collect();
            let mut grad = vec![0.0; p + 2];
            let mut scratch = grad.clone();
            engine::tail_objective(&f, &params, &tail, 0.5, &mut grad);
            let mut t = params.clone();
            for i in 0..p + 2 {
                let h = 1e-5;
                let mut at = |delta: f64| {
                    t[i] = params[i] + delta;
                    engine::tail_objective(&f, &t, &tail, 0.5, &mut scratch)
                };
                let fd = (8.0 * (at(h) - at(-h)) - (at(2.0 * h) - at(-2.0 * h))) / (12.0 * h);
                t[i] = params[i];
                let err = (fd - grad[i]).abs() / grad[i].abs().max(1e-3);
                assert!(err < 1e-6, "seed {seed} parameter {i}: {} vs {fd}", grad[i]);
            }
        }
    }
}
