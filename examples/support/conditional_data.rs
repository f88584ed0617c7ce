//! The data of the conditional SBP's timings, shared by `benches/conditional.rs` and
//! `examples/conditional_profile.rs` (each includes this file with `#[path]`), so the
//! profiler works on exactly what the bench times.
//!
//! Standard normal features; the outcome's location and log-spread linear in three of
//! them, a Student-t(3)-like noise (a normal over the root of a scaled chi-square) for
//! heavy tails on both sides.

use ndarray::{Array1, Array2};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{ChiSquared, Distribution, StandardNormal};

/// Number of features.
pub const D: usize = 10;

/// `n` rows of features and outcomes drawn with `seed`.
pub fn data(n: usize, seed: u64) -> (Array2<f64>, Array1<f64>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let chi = ChiSquared::<f64>::new(3.0).expect("3 degrees of freedom are valid");
    let x = Array2::from_shape_fn((n, D), |_| {
        let z: f64 = StandardNormal.sample(&mut rng);
        z
    });
    let y = Array1::from_shape_fn(n, |i| {
        let z: f64 = StandardNormal.sample(&mut rng);
        let v: f64 = chi.sample(&mut rng);
        let t = z / (v / 3.0).sqrt();
        let location = x[[i, 0]] - 0.5 * x[[i, 1]] + 0.2 * x[[i, 2]];
        location + (0.3 * x[[i, 3]]).exp() * t
    });
    (x, y)
}
