//! False alarms on heavy-tailed noise without anomalies: the default detector and
//! the one with `DetectorConfig::predictive_tails(true)`.
//!
//! ```sh
//! cargo run --release --example heavy_tail_calibration            # Student-t(4), risk 1e-3
//! cargo run --release --example heavy_tail_calibration -- 1e-4 2.5  # risk, degrees of freedom
//! ```
//!
//! Level 10 plus Student-t noise, `100 / risk` points per series, seeds 1–3; windows
//! 100, 1,000 and 10,000, hard and with a half-life of half the window. Prints the
//! share of flagged points divided by the risk level (1 is calibrated), averaged
//! over the seeds.

use std::error::Error;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StudentT};
use tailcast::{AnomalyDetector, DetectorConfig};

fn alarm_ratio(ys: &[f64], config: DetectorConfig, risk: f64) -> Result<f64, Box<dyn Error>> {
    let verdicts = AnomalyDetector::new(config)?.score(ys)?;
    let scored = verdicts.iter().filter(|v| !v.warming_up).count() as f64;
    let alarms = verdicts.iter().filter(|v| v.is_anomaly).count() as f64;
    Ok(alarms / scored / risk)
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let risk: f64 = args.first().map_or(Ok(1e-3), |a| a.parse())?;
    let dof: f64 = args.get(1).map_or(Ok(4.0), |a| a.parse())?;
    let n = (100.0 / risk).round() as usize;
    let noise = StudentT::new(dof)?;
    println!(
        "$ cargo run --release --example heavy_tail_calibration{}",
        args.iter().map(|a| format!(" {a}")).collect::<String>()
    );
    println!(
        "Student-t({dof}) noise, risk {risk:e}, {n} points x 3 seeds; alarms / (risk x scored)\n"
    );
    println!(
        "{:>7} {:>6} {:>8} {:>11}",
        "window", "decay", "default", "predictive"
    );
    for window in [100usize, 1000, 10_000] {
        for decay in [false, true] {
            let (mut default, mut predictive) = (0.0, 0.0);
            for seed in 1..=3u64 {
                let mut rng = StdRng::seed_from_u64(seed);
                let ys: Vec<f64> = (0..n).map(|_| 10.0 + noise.sample(&mut rng)).collect();
                let mut forecaster = DetectorConfig::default_forecaster().window(window);
                if decay {
                    forecaster = forecaster.half_life(window as f64 / 2.0);
                }
                let config = DetectorConfig::default().risk(risk).forecaster(forecaster);
                default += alarm_ratio(&ys, config.clone(), risk)? / 3.0;
                predictive += alarm_ratio(&ys, config.predictive_tails(true), risk)? / 3.0;
            }
            let decay = if decay { "w/2" } else { "-" };
            println!("{window:>7} {decay:>6} {default:>8.2} {predictive:>11.2}");
        }
    }
    Ok(())
}
