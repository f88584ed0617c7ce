//! The stream libspot-rs benchmarks on, through the default detector: a sine of
//! period 100, small uniform noise and 10 % Lomax spikes of shape 0.5 (infinite
//! mean) that are *normal* data. A calibrated detector at risk 1e-3 raises about
//! 1,000 alarms on 1,000,000 points, whatever its window.
//!
//! ```sh
//! cargo run --release --example spot_stream [-- POINTS]
//! ```

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tailcast::{AnomalyDetector, DetectorConfig, ForecasterConfig};

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

fn main() -> Result<(), tailcast::Error> {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(1_000_000, |s| s.parse().expect("POINTS is a count"));
    let ys = stream(n, 7);
    println!("cargo run --release --example spot_stream -- {n}");
    println!(
        "{:>8} {:>10} {:>10} {:>10}",
        "window", "alarms", "excluded", "per 1e-3"
    );
    for window in [100, 1_000, 10_000] {
        for decay in [false, true] {
            let mut fc = ForecasterConfig::default().window(window);
            if let Ok(c) = std::env::var("XI") {
                fc = fc.max_tail_shape(c.parse().unwrap());
            }
            if decay {
                fc = fc.half_life(window as f64 / 2.0);
            }
            let mut dc = DetectorConfig::default().forecaster(fc);
            if let Ok(c) = std::env::var("EXC") {
                dc = if c == "off" {
                    dc.exclude_anomalies(false)
                } else {
                    dc.exclusion_risk(c.parse().unwrap())
                };
            }
            let mut d = AnomalyDetector::new(dc)?;
            let (mut alarms, mut excluded, mut scored, mut high) = (0usize, 0usize, 0usize, 0usize);
            let mut changes = 0usize;
            for &y in &ys {
                let v = d.update(y)?;
                alarms += usize::from(v.is_anomaly);
                high += usize::from(v.is_anomaly && v.side == tailcast::Side::Upper);
                changes += usize::from(v.regime_change);
                excluded += usize::from(v.excluded);
                scored += usize::from(!v.warming_up);
            }
            println!(
                "{:>8}{} {:>10} {:>10} {:>10.2} {:>8} {:>8}",
                window,
                if decay { "d" } else { " " },
                alarms,
                excluded,
                alarms as f64 / (scored as f64 * 1e-3),
                high,
                changes
            );
        }
    }
    Ok(())
}
