//! A fixed stretch of the detector's stream for profilers, on the series and warm-up
//! of `benches/detector.rs` (`examples/support/detector_stream.rs`, which both
//! include): instruction counts under callgrind do not depend on the machine's load.
//! Timings come from the criterion bench, not from this program. It prints a hash of
//! every verdict's bits, so that a change meant to keep the verdicts can be checked.
//!
//! ```sh
//! cargo build --release --example detector_profile
//! # the SBP refitted at every step, window 1,000, 20,000 observations:
//! valgrind --tool=callgrind --toggle-collect='detector_profile::stream' \
//!     target/release/examples/detector_profile refit 1000 20000
//! # the default detector, 200,000 observations:
//! valgrind --tool=callgrind --toggle-collect='detector_profile::stream' \
//!     target/release/examples/detector_profile default 1000 200000
//! ```
//!
//! Arguments: `default` or `refit` (default `default`), the window (default 1,000)
//! and the number of observations after the warm-up (default 200,000).

use std::error::Error;

use tailcast::AnomalyDetector;

#[path = "support/detector_stream.rs"]
mod detector_stream;
use detector_stream::{default_forecaster, refit_every_step, series, warmed};

/// The measured part (named for callgrind's `--toggle-collect`): `update` on every
/// value, the verdicts' bits hashed (FNV-1a over 64-bit words: a few instructions
/// per verdict, so that the count is the detector's).
#[inline(never)]
fn stream(detector: &mut AnomalyDetector, ys: &[f64]) -> Result<u64, Box<dyn Error>> {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    for &y in ys {
        let v = detector.update(y)?;
        let flags =
            u64::from(v.is_anomaly) | u64::from(v.excluded) << 1 | u64::from(v.regime_change) << 2;
        for word in [v.p_value, v.score, v.lower, v.upper, v.location].map(f64::to_bits) {
            hash = (hash ^ word).wrapping_mul(0x0100_0000_01b3);
        }
        hash = (hash ^ flags).wrapping_mul(0x0100_0000_01b3);
    }
    Ok(hash)
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map_or("default", String::as_str);
    let window: usize = args.get(2).map_or(Ok(1000), |s| s.parse())?;
    let n: usize = args.get(3).map_or(Ok(200_000), |s| s.parse())?;
    let config = match mode {
        "default" => default_forecaster(window),
        "refit" => refit_every_step(window),
        other => return Err(format!("mode {other:?}: expected default or refit").into()),
    };
    let mut detector = warmed(config, window);
    let ys = series(n, 2);
    let hash = stream(&mut detector, &ys)?;
    println!("{mode}, window {window}, {n} observations: verdict hash {hash:016x}");
    Ok(())
}
