//! Masking: anomalies that are not flagged must not enter the fitting window, or they
//! teach the model that spikes are normal and hide the next ones. Points are kept out
//! of the fit below the exclusion level (`DetectorConfig::exclusion_risk`, by default
//! `max(risk, 1e-3)`), which is looser than a low alarm risk.

use rand::distr::Distribution;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::StudentT;
use tailcast::Check;
use tailcast::anomaly::DEFAULT_EXCLUSION_RISK;
use tailcast::{AnomalyDetector, DetectorConfig, Error, ForecasterConfig, LocationModel};

/// `data/sample_series.csv` on the log scale, with its `injected` column.
fn sample() -> (Vec<f64>, Vec<bool>) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample_series.csv");
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("t,value,injected"));
    lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            let value: f64 = cells[1].parse().unwrap();
            (value.ln(), cells[2].trim() == "1")
        })
        .unzip()
}

/// The quickstart's detector on the sample: seasonal level of period 24, warm-up 240,
/// window 1000, two-sided.
fn sample_config(risk: f64) -> DetectorConfig {
    DetectorConfig::default().risk(risk).forecaster(
        ForecasterConfig::default()
            .location(LocationModel::Seasonal { period: 24 })
            .warmup(240),
    )
}

struct Outcome {
    caught: usize,
    false_alarms: usize,
    /// The largest upper band edge after the warm-up, on the raw scale.
    max_upper: f64,
}

fn run_sample(config: DetectorConfig) -> Outcome {
    let (ys, injected) = sample();
    let verdicts = AnomalyDetector::new(config).unwrap().score(&ys).unwrap();
    let flagged = |want: bool| {
        verdicts
            .iter()
            .zip(&injected)
            .filter(|(v, i)| v.is_anomaly && **i == want)
            .count()
    };
    let max_upper = verdicts
        .iter()
        .filter(|v| !v.warming_up)
        .map(|v| v.upper.exp())
        .fold(0.0, f64::max);
    Outcome {
        caught: flagged(true),
        false_alarms: flagged(false),
        max_upper,
    }
}

/// The bundled sample (20 injected anomalies, 2,760 scored hours). Measured with
/// `cargo test --test anomaly_masking -- --nocapture`:
///
/// | risk | exclusion level | caught | false alarms | largest upper band |
/// |---|---|---|---|---|
/// | 1e-3 | 1e-3 (before and after) | 18/20 | 7 | 2,232 |
/// | 1e-4 | 1e-4 (before: tied to the risk) | 4/20 | 1 | 2.6e70 (3.4e24 with the tail-shape bound of 1) |
/// | 1e-4 | 1e-3 (after: the default) | 15/20 | 2 | 2,852 |
/// | 1e-5 | 1e-3 (after) | 15/20 | 1 | 5,662 |
///
/// Since excluded observations enter the window at the exclusion cut as often as a
/// calibrated forecast expects (`AnomalyDetector`'s *Exclusion*), the tails are less
/// thinned: 18/20 with 6 false alarms at 1e-3, 16/20 with 1 at 1e-4, 13/20 with 1 at
/// 1e-5 (the two more missed at 1e-5 have p-values between 1e-5 and 1e-4, which that
/// risk is meant not to flag).
///
/// Before, at risk 1e-4 the spikes with p-values between 1e-4 and 1e-3 entered the
/// window, the upper tail's shape rose to 1.2 (now to the forecaster's bound of 1)
/// and the band exploded. After, the three
/// injected spikes no longer flagged at 1e-4 are exactly those whose p-value is
/// between 1e-4 and 1e-3, which a risk of 1e-4 is meant not to flag.
///
/// Since the detector scores its tails with their remembered shapes
/// (`AnomalyDetector`'s *p-values*) and extrapolates the recalibration below the
/// risk level: 18/20 with 5 false alarms at 1e-3, 15/20 with 2 at 1e-4, 13/20 with
/// none at 1e-5. With the exclusion tied to the risk of 1e-4 the memory of the
/// shapes keeps the band from exploding (5,378 at most) and 12/20 are caught:
/// tying still costs, less than before (4/20).
#[test]
fn a_low_risk_keeps_the_protection_on_the_sample() {
    let at_default = run_sample(sample_config(1e-3));
    eprintln!(
        "risk 1e-3: caught {}/20, {} false alarms, upper band <= {:.0}",
        at_default.caught, at_default.false_alarms, at_default.max_upper
    );
    assert!(at_default.caught >= 17 && at_default.false_alarms <= 9);

    for (risk, at_least) in [(1e-4, 15), (1e-5, 13)] {
        let low = run_sample(sample_config(risk));
        eprintln!(
            "risk {risk:e}: caught {}/20, {} false alarms, upper band <= {:.0}",
            low.caught, low.false_alarms, low.max_upper
        );
        assert!(low.caught >= at_least, "risk {risk}: caught {}", low.caught);
        assert!(low.false_alarms <= at_default.false_alarms);
        assert!(low.max_upper < 10_000.0, "band up to {}", low.max_upper);
    }

    // Tying the exclusion to the alarm risk lets some masking back.
    let tied = run_sample(sample_config(1e-4).exclusion_risk(1e-4));
    eprintln!(
        "risk 1e-4, exclusion 1e-4: caught {}/20, upper band <= {:.3e}",
        tied.caught, tied.max_upper
    );
    let untied = run_sample(sample_config(1e-4));
    assert!(tied.caught < untied.caught && tied.max_upper > untied.max_upper);
}

/// The missed ones at risk 1e-4 are the points that risk is meant not to flag.
#[test]
fn misses_at_a_low_risk_are_only_the_moderate_p_values() {
    let (ys, injected) = sample();
    let strict = AnomalyDetector::new(sample_config(1e-4))
        .unwrap()
        .score(&ys)
        .unwrap();
    for (t, v) in strict.iter().enumerate() {
        if injected[t] && !v.is_anomaly {
            // Either hard to see at any level (p > 1e-3), or between the two levels:
            // then it was still kept out of the fit.
            assert!(
                v.p_value >= 1e-4 && (v.p_value >= 1e-3 || v.excluded),
                "hour {t}: {v:?}"
            );
        }
    }
}

/// Heavy-tailed noise (Student-t(4)) with ±12 anomalies every 100–300 steps, the
/// series of `anomaly_detection::heavy_tailed_noise_and_the_cost_of_exclusion`, at
/// risk 1e-4. Measured (recall; false-alarm rate on the other points):
///
/// | exclusion level | recall | false alarms |
/// |---|---|---|
/// | 1e-4 (before) | 0.12 | 1.2e-4 |
/// | 3e-4 | 0.26 | 3.1e-4 |
/// | 1e-3 (the default after) | 0.96 | 1.2e-3 |
///
/// A spike here is one point in 200, five in a window: at 1e-4 and 3e-4 enough of
/// them get in to fatten the tail, which is why the default is 1e-3 rather than a
/// level closer to the risk. The price is the thinning of the tails by the excluded
/// genuine noise (see the next test).
///
/// These anomalies are not extreme for the noise: `|12|` has a two-sided p-value of
/// 2.8e-4 under Student-t(4), and a calibrated forecast at risk 1e-4 (band ±15.5)
/// would catch about 1 % of them. The recall above comes from tails thinner than the
/// noise's. Since excluded observations enter the window at the exclusion cut as
/// often as a calibrated forecast expects (`AnomalyDetector`'s *Exclusion*), the
/// tails are less thin and the recall is 0.84 (false alarms on the clean series
/// 1.06e-3, from 1.16e-3); tied exclusion stays at 0.10. With the recalibration
/// measuring the share just below the risk level (which raises the too-small
/// p-values of the too-light tail) the recall is 0.74; with the tails' remembered
/// shapes and the recalibration extrapolated below the risk level (closer to the
/// noise's own law, see above) 0.49, false alarms on the clean series 7.1e-4. The
/// test keeps the contrast: exclusion at 1e-3 protects (0.49), tied exclusion does
/// not (0.004).
#[test]
fn heavy_tailed_noise_with_a_low_risk() {
    let mut rng = StdRng::seed_from_u64(300);
    let t4 = StudentT::new(4.0).unwrap();
    let mut ys: Vec<f64> = (0..50_000).map(|_| 10.0 + t4.sample(&mut rng)).collect();
    let mut injected = vec![false; ys.len()];
    let mut t = 2000;
    while t < ys.len() {
        ys[t] += if rng.random::<bool>() { 12.0 } else { -12.0 };
        injected[t] = true;
        t += rng.random_range(100..300);
    }
    let recall = |config: DetectorConfig| {
        let v = AnomalyDetector::new(config).unwrap().score(&ys).unwrap();
        let hit = v.iter().zip(&injected).filter(|(v, i)| v.is_anomaly && **i);
        hit.count() as f64 / injected.iter().filter(|&&i| i).count() as f64
    };
    let default = recall(DetectorConfig::default().risk(1e-4));
    let tied = recall(DetectorConfig::default().risk(1e-4).exclusion_risk(1e-4));
    eprintln!("student-t(4), risk 1e-4: recall {default:.3} (exclusion tied: {tied:.3})");
    assert!(default >= 0.4, "recall {default}");
    assert!(tied < 0.5, "recall {tied}");
}

/// The cost: on clean Student-t(4) noise the excluded genuine extremes thin the
/// fitted tails. Measured false-alarm rates at risk 1e-4: 3.9e-4 without exclusion,
/// 4.7e-4 excluding below 1e-4, 1.2e-3 excluding below 1e-3 (the default); at
/// 1e-2 the thinning feeds on itself (2.8e-2). At the default risk 1e-3 the rate is
/// 3.8e-3, as before this level existed. With excluded observations entering the
/// window at the exclusion cut as often as a calibrated forecast expects, the
/// default's rate at risk 1e-4 is 1.06e-3; with the tails' remembered shapes and
/// the recalibration extrapolated below the risk level, 7.1e-4.
#[test]
fn the_thinning_cost_on_clean_heavy_tailed_noise() {
    let mut rng = StdRng::seed_from_u64(300);
    let t4 = StudentT::new(4.0).unwrap();
    let clean: Vec<f64> = (0..50_000).map(|_| 10.0 + t4.sample(&mut rng)).collect();
    let rate = |config: DetectorConfig| {
        let v = AnomalyDetector::new(config).unwrap().score(&clean).unwrap();
        let scored = v.iter().filter(|v| !v.warming_up).count();
        v.iter().filter(|v| v.is_anomaly).count() as f64 / scored as f64
    };
    let off = rate(
        DetectorConfig::default()
            .risk(1e-4)
            .exclude_anomalies(false),
    );
    let default = rate(DetectorConfig::default().risk(1e-4));
    eprintln!("clean student-t(4), risk 1e-4: false alarms {default:.2e} (no exclusion {off:.2e})");
    assert!(off <= default && default <= 2e-3, "{off} {default}");
}

#[test]
fn the_exclusion_level_is_validated_and_resolved() {
    let d = DetectorConfig::default();
    let level = |c: DetectorConfig| c.check().unwrap().exclusion_risk();
    assert_eq!(level(d.clone()), DEFAULT_EXCLUSION_RISK);
    assert_eq!(DEFAULT_EXCLUSION_RISK, 1e-3);
    assert_eq!(level(d.clone().risk(1e-5)), 1e-3);
    assert_eq!(level(d.clone().risk(0.01)), 0.01);
    assert_eq!(level(d.clone().risk(1e-5).exclusion_risk(1e-4)), 1e-4);
    d.clone().risk(1e-4).exclusion_risk(1e-4).check().unwrap();
    for bad in [0.0, 1e-5, 1.0, f64::NAN, -1.0] {
        let err = AnomalyDetector::new(d.clone().risk(1e-4).exclusion_risk(bad)).unwrap_err();
        assert!(
            matches!(
                err,
                Error::ProbabilityOutOfRange {
                    name: "exclusion_risk",
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            format!("exclusion_risk must be in [risk, 1), got {bad}")
        );
    }
}

/// Configurations saved before the level existed read back with the default.
#[test]
fn old_configs_read_back_with_the_default_level() {
    let c = DetectorConfig::default().risk(1e-4);
    let mut json: serde_json::Value = serde_json::to_value(&c).unwrap();
    json.as_object_mut()
        .unwrap()
        .remove("exclusion_risk")
        .unwrap();
    let back: DetectorConfig = serde_json::from_value(json).unwrap();
    assert_eq!(back, c);
    assert_eq!(back.check().unwrap().exclusion_risk(), 1e-3);
    let set = c.exclusion_risk(0.002);
    let back: DetectorConfig = serde_json::from_str(&serde_json::to_string(&set).unwrap()).unwrap();
    assert_eq!(back, set);
}
