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

use rand::SeedableRng;
use rand::rngs::StdRng;
use tailcast::{AnomalyDetector, DetectorConfig, Side};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = match std::env::args().nth(1) {
        Some(s) => s.parse()?,
        None => 1_000_000,
    };
    let ys = tailcast::synthetic::spot_stream(n, &mut StdRng::seed_from_u64(7));
    println!("cargo run --release --example spot_stream -- {n}");
    println!(
        "{:>7} {:>6} {:>7} {:>9} {:>8} {:>8} {:>9}",
        "window", "decay", "impute", "alarms", "high", "regime", "per 1e-3"
    );
    for window in [100, 1_000, 10_000] {
        for decay in [false, true] {
            for impute in [false, true] {
                let mut fc = DetectorConfig::default_forecaster().window(window);
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
