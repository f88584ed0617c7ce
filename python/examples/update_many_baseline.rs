//! The Rust baseline of `python/benches/bench.py`: the same detector over the same
//! series (read from a file of little-endian f64), timed in-process.
//!
//! `cargo run --release -p tailcast-python --example update_many_baseline -- FILE [WINDOW]`

use std::time::Instant;

use tailcast::{AnomalyDetector, DetectorConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: update_many_baseline FILE [WINDOW]")?;
    let window: usize = args.next().map_or(Ok(1000), |w| w.parse())?;
    let bytes = std::fs::read(path)?;
    let ys: Vec<f64> = bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect();
    let config =
        DetectorConfig::default().forecaster(DetectorConfig::default_forecaster().window(window));
    let mut best = f64::INFINITY;
    let mut anomalies = 0;
    for _ in 0..3 {
        let mut detector = AnomalyDetector::new(config.clone())?;
        let start = Instant::now();
        anomalies = 0;
        for &y in &ys {
            anomalies += usize::from(detector.update(y)?.is_anomaly);
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "{{\"points\": {}, \"seconds\": {best}, \"anomalies\": {anomalies}}}",
        ys.len()
    );
    Ok(())
}
