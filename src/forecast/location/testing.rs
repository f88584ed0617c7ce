//! Fixtures shared by the location models' unit tests.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

use super::{Location, LocationModel, Tuning};

/// The default configuration's tuning.
pub(super) const TUNING: Tuning = Tuning {
    level: 0.1,
    seasonal: 0.1,
    clip: 2.5,
    adaptive: true,
};

/// The paper-style contamination: 15 % of points get an exponential(1) spike,
/// half down and half up.
pub(super) fn spiky(n: usize, base: impl Fn(usize) -> f64, noise: f64, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|t| {
            let z: f64 = StandardNormal.sample(&mut rng);
            let mut y = base(t) + noise * z;
            if rng.random::<f64>() < 0.15 {
                let e = -rng.random::<f64>().ln() * 2.0;
                y += if rng.random::<bool>() { e } else { -e };
            }
            y
        })
        .collect()
}

/// Initialises `model` on the first `warm` values and runs it over the rest,
/// returning the final state and the prediction made before each later value.
pub(super) fn run(model: LocationModel, data: &[f64], warm: usize) -> (Location, Vec<f64>) {
    let mut res = Vec::new();
    let mut loc = Location::initialise(model, &data[..warm], TUNING, 500, 50, &mut res).unwrap();
    let mut preds = Vec::new();
    for &y in &data[warm..] {
        preds.push(loc.prediction());
        loc.observe(y);
    }
    (loc, preds)
}
