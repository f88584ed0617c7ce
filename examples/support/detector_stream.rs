//! The series and warm-up of the detector's timings, shared by `benches/detector.rs`
//! and `examples/detector_profile.rs` (each includes this file with `#[path]`), so the
//! profiler works on exactly what the bench times.
//!
//! The paper's kind of data: a level of 5 plus a sine of period 100, Gaussian noise
//! (sd 0.25) and 15 % of exponential spikes, half up and half down.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Normal};
use tailcast::{AnomalyDetector, Check, DetectorConfig, ForecasterConfig};

/// `n` values of the series drawn with `seed`.
pub fn series(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let noise = Normal::new(0.0, 0.25).expect("a positive standard deviation");
    (0..n)
        .map(|t| {
            let mut y = 5.0 + (t as f64 * std::f64::consts::TAU / 100.0).sin();
            y += noise.sample(&mut rng);
            if rng.random::<f64>() < 0.15 {
                let spike = -rng.random::<f64>().ln();
                y += if rng.random::<bool>() { spike } else { -spike };
            }
            y
        })
        .collect()
}

/// A detector with `config` that has seen `2 · window + 2000` observations of the
/// series with seed 1 (and at least 17 warm-ups: past the automatic location
/// model's last re-selection, a one-off that does not belong in a per-observation
/// figure).
pub fn warmed(config: ForecasterConfig, window: usize) -> AnomalyDetector {
    let warmup = config.clone().check().expect("a valid forecaster").warmup();
    let n = (2 * window + 2000).max(17 * warmup);
    let mut d = AnomalyDetector::new(DetectorConfig::default().forecaster(config))
        .expect("a valid detector");
    for y in series(n, 1) {
        d.update(y).expect("finite values");
    }
    d
}

/// The default detector's forecaster with window `window`.
pub fn default_forecaster(window: usize) -> ForecasterConfig {
    DetectorConfig::default()
        .check()
        .expect("the default is valid")
        .forecaster()
        .into_config()
        .window(window)
}

/// The forecaster refitted at every step with window `window`.
pub fn refit_every_step(window: usize) -> ForecasterConfig {
    ForecasterConfig::default().window(window).refit_every(1)
}
