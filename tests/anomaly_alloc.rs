//! No allocation per observation: once the detector is warmed up and its window is
//! full, `update` allocates nothing, whatever the location model, weighting or refit
//! schedule. Counted by a global allocator that tallies allocations per thread.

use rand::distr::Distribution;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::Normal;
use tailcast::{AnomalyDetector, DetectorConfig, ForecasterConfig, LocationModel, Side, Verdict};

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{Counting, allocations};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Seasonal data with noise, 10 % spikes and a few missing values.
fn series(n: usize, seed: u64) -> Vec<f64> {
    let noise = Normal::new(0.0, 0.3).unwrap();
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|t| {
            if rng.random::<f64>() < 0.005 {
                return f64::NAN;
            }
            let mut y = 3.0 + (t as f64 * std::f64::consts::TAU / 50.0).sin();
            y += noise.sample(&mut rng);
            if rng.random::<f64>() < 0.1 {
                y += 3.0 * -rng.random::<f64>().ln();
            }
            y
        })
        .collect()
}

#[test]
fn update_allocates_nothing_once_warm() {
    let window = 1000;
    let configs = [
        ForecasterConfig::default().window(window),
        ForecasterConfig::default().window(window).refit_every(1),
        ForecasterConfig::default()
            .window(window)
            .half_life(300.0)
            .location(LocationModel::Seasonal { period: 50 }),
        ForecasterConfig::default()
            .window(window)
            .refit_every(7)
            .location(LocationModel::Autoregressive { lags: 3 }),
        ForecasterConfig::default()
            .window(window)
            .location(LocationModel::Auto),
    ];
    // Past the warm-up and `Auto`'s re-selections (at 4 and 16 warm-ups), which
    // allocate once each.
    let warm = series(17 * window, 1);
    let measured = series(20_000, 2);
    let mut out = vec![
        Verdict {
            p_value: 0.0,
            score: 0.0,
            is_anomaly: false,
            lower: 0.0,
            upper: 0.0,
            location: 0.0,
            side: Side::TwoSided,
            warming_up: false,
            missing: false,
            excluded: false,
            regime_change: false,
        };
        measured.len()
    ];
    // Each forecaster with the default detector, and the decaying one with
    // predictive tails too.
    let detectors = configs
        .iter()
        .map(|c| (c.clone(), false))
        .chain([(configs[2].clone(), true)]);
    for (config, predictive) in detectors {
        let detector = DetectorConfig::default()
            .forecaster(config.clone())
            .predictive_tails(predictive);
        let mut d = AnomalyDetector::new(detector).unwrap();
        for &y in &warm {
            d.update(y).unwrap();
        }
        let before = allocations();
        d.score_into(&measured, &mut out).unwrap();
        let after = allocations();
        assert_eq!(
            after - before,
            0,
            "{config:?}, predictive tails {predictive}"
        );
        assert!(out.iter().any(|v| v.is_anomaly) && out.iter().any(|v| v.missing));
    }
}
