//! A fixed amount of conditional-SBP work on the data of `benches/conditional.rs`, for
//! profilers (instruction counts under callgrind do not depend on the machine's load).
//! Timings come from the criterion bench, not from this program.
//!
//! ```sh
//! cargo build --release --example conditional_profile
//! # fit 20,000 rows × 10 features, 100 bins, the body stage cut at 20 iterations:
//! valgrind --tool=callgrind target/release/examples/conditional_profile 20000 fit 20
//! # a full fit of 100,000 rows, then predict + quantile and percentile scores:
//! target/release/examples/conditional_profile 100000 predict
//! ```
//!
//! Arguments: rows (default 100,000), `fit` or `predict` (default `fit`), and an
//! optional iteration cap (the fit then may stop unconverged, as profiling wants).

use std::error::Error;

use ndarray::{Array1, Array2};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{ChiSquared, Distribution, StandardNormal};
use tailcast::conditional::{ConditionalSbp, ConditionalSbpConfig};

const D: usize = 10;

/// The bench's data: standard normal features, location and log-spread linear in
/// three of them, Student-t(3)-like noise.
fn data(n: usize, seed: u64) -> Result<(Array2<f64>, Array1<f64>), Box<dyn Error>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let chi = ChiSquared::<f64>::new(3.0)?;
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
    Ok((x, y))
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map_or(Ok(100_000), |s| s.parse())?;
    let mode = args.get(2).map_or("fit", String::as_str);
    let mut config = ConditionalSbpConfig::default();
    if let Some(cap) = args.get(3) {
        config = config.max_iterations(cap.parse()?).allow_unconverged(true);
    }
    let (x, y) = data(n, 1)?;
    let fit = ConditionalSbp::fit(x.view(), y.view(), config)?;
    println!(
        "fit: {} | log-likelihood {}",
        fit.termination, fit.log_likelihood
    );
    if mode == "predict" {
        let (xt, yt) = data(200_000, 3)?;
        let mut predictor = fit.model.predictor();
        let mut acc = 0.0;
        for row in xt.rows() {
            acc += predictor.predict(row)?.quantile(0.95);
        }
        let scores = fit.model.percentile_scores(xt.view(), yt.view())?;
        println!(
            "mean 95 % quantile {:.4}, mean percentile score {:.4}",
            acc / xt.nrows() as f64,
            scores.mean().unwrap_or(f64::NAN)
        );
    }
    Ok(())
}
