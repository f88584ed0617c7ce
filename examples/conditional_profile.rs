//! A fixed amount of conditional-SBP work on the data of `benches/conditional.rs`
//! (`examples/support/conditional_data.rs`, the one generator both include), for
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

use tailcast::conditional::{ConditionalSbp, ConditionalSbpConfig};

#[path = "support/conditional_data.rs"]
mod conditional_data;
use conditional_data::data;

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map_or(Ok(100_000), |s| s.parse())?;
    let mode = args.get(2).map_or("fit", String::as_str);
    let mut config = ConditionalSbpConfig::default();
    if let Some(cap) = args.get(3) {
        config = config.max_iterations(cap.parse()?).allow_unconverged(true);
    }
    let (x, y) = data(n, 1);
    let fit = ConditionalSbp::fit(x.view(), y.view(), config)?;
    println!(
        "fit: {} | log-likelihood {}",
        fit.termination, fit.log_likelihood
    );
    if mode == "predict" {
        let (xt, yt) = data(200_000, 3);
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
