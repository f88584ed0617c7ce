//! The stream libspot-rs benchmarks on, through the default detector: a sine of
//! period 100, small uniform noise and 10 % Lomax spikes of shape 0.5 (infinite
//! mean) that are *normal* data. A calibrated detector at risk 1e-3 raises about
//! one alarm per 1,000 points, whatever its window. The table shows, per window
//! (hard, or decaying with a half-life of half the window) and with or without
//! [`DetectorConfig::impute_excluded`], the alarms, how many were on the high
//! side, the regime changes reported, and the alarms per 1,000 points.
//!
//! ```sh
//! cargo run --release --example spot_stream [-- POINTS]
//! ```

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tailcast::{AnomalyDetector, DetectorConfig, Side};

/// `sin(2πi/100) + U(0, 0.1) + (with probability 0.1) Lomax(0.5)`.
fn stream(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let base = (2.0 * std::f64::consts::PI * i as f64 / 100.0).sin();
            let noise = 0.1 * rng.random::<f64>();
            let spike = if rng.random::<f64>() < 0.1 {
                // Lomax(shape 0.5, scale 1) by inversion.
                (1.0 - rng.random::<f64>()).powf(-1.0 / 0.5) - 1.0
            } else {
                0.0
            };
            base + noise + spike
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = match std::env::args().nth(1) {
        Some(s) => s.parse()?,
        None => 1_000_000,
    };
    let ys = stream(n, 7);
    println!("cargo run --release --example spot_stream -- {n}");
    println!(
        "{:>7} {:>6} {:>7} {:>9} {:>8} {:>8} {:>9}",
        "window", "decay", "impute", "alarms", "high", "regime", "per 1e-3"
    );
    for window in [100, 1_000, 10_000] {
        for decay in [false, true] {
            for impute in [false, true] {
                let mut fc = DetectorConfig::default()
                    .forecaster_config()
                    .clone()
                    .window(window);
                if decay {
                    fc = fc.half_life(window as f64 / 2.0);
                }
                let config = DetectorConfig::default()
                    .forecaster(fc)
                    .impute_excluded(impute);
                let mut d = AnomalyDetector::new(config)?;
                let (mut alarms, mut high, mut changes, mut scored) = (0, 0, 0, 0);
                for &y in &ys {
                    let v = d.update(y)?;
                    alarms += usize::from(v.is_anomaly);
                    high += usize::from(v.is_anomaly && v.side == Side::Upper);
                    changes += usize::from(v.regime_change);
                    scored += usize::from(!v.warming_up);
                }
                println!(
                    "{:>7} {:>6} {:>7} {:>9} {:>8} {:>8} {:>9.2}",
                    window,
                    decay,
                    impute,
                    alarms,
                    high,
                    changes,
                    alarms as f64 / (scored as f64 * 1e-3)
                );
            }
        }
    }
    Ok(())
}
