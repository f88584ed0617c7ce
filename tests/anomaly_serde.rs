//! A detector (or forecaster) saved mid-stream through serde_json and restored
//! produces bit-identical verdicts (forecasts) from then on.

mod common;

use tailcast::{
    AnomalyDetector, DetectorConfig, ForecasterConfig, LocationModel, RollingForecaster, Side,
    Verdict,
};

/// The shared series (see `common::stateful_series`), shifted after step 3000.
fn series(n: usize, seed: u64) -> Vec<f64> {
    common::stateful_series(n, seed, 3000)
}

fn same(a: &Verdict, b: &Verdict) -> bool {
    let bits = |v: &Verdict| {
        (
            v.p_value.to_bits(),
            v.score.to_bits(),
            v.lower.to_bits(),
            v.upper.to_bits(),
            v.location.to_bits(),
        )
    };
    bits(a) == bits(b)
        && (a.is_anomaly, a.warming_up, a.missing, a.excluded, a.side)
            == (b.is_anomaly, b.warming_up, b.missing, b.excluded, b.side)
}

fn configs() -> Vec<(&'static str, DetectorConfig)> {
    let base = ForecasterConfig::default().window(400);
    vec![
        ("default", DetectorConfig::default()),
        ("level", DetectorConfig::default().forecaster(base.clone())),
        (
            // Equal weights and a refit at every step: most refits keep a tail, on
            // the strength of state that must survive the round trip.
            "level, refit every step",
            DetectorConfig::default().forecaster(base.clone().refit_every(1)),
        ),
        (
            "seasonal, decay, refit every step",
            DetectorConfig::default().forecaster(
                base.clone()
                    .location(LocationModel::Seasonal { period: 24 })
                    .half_life(60.0)
                    .refit_every(1),
            ),
        ),
        (
            "autoregressive, upper side",
            DetectorConfig::default().side(Side::Upper).forecaster(
                base.clone()
                    .location(LocationModel::Autoregressive { lags: 3 }),
            ),
        ),
        (
            "auto, no exclusion, bounded tails",
            DetectorConfig::default()
                .exclude_anomalies(false)
                .forecaster(base.location(LocationModel::Auto).allow_bounded_tails(true)),
        ),
    ]
}

#[test]
fn restored_detector_gives_bit_identical_verdicts() {
    let ys = series(6000, 1);
    for (name, config) in configs() {
        // Save during the warm-up, right after it and deep into the stream.
        for cut in [100, 1001, 3500] {
            let mut live = AnomalyDetector::new(config.clone()).unwrap();
            for &y in &ys[..cut] {
                live.update(y).unwrap();
            }
            let json = serde_json::to_string(&live).unwrap();
            let mut restored: AnomalyDetector = serde_json::from_str(&json).unwrap();
            for (t, &y) in ys.iter().enumerate().skip(cut) {
                let (a, b) = (live.update(y).unwrap(), restored.update(y).unwrap());
                assert!(same(&a, &b), "{name}, cut {cut}, t {t}: {a:?} vs {b:?}");
            }
            // And the final states serialise identically.
            assert_eq!(
                serde_json::to_string(&live).unwrap(),
                serde_json::to_string(&restored).unwrap(),
                "{name}"
            );
        }
    }
}

#[test]
fn restored_forecaster_gives_bit_identical_forecasts() {
    let ys = series(4000, 2);
    let config = ForecasterConfig::default()
        .window(500)
        .location(LocationModel::Seasonal { period: 24 })
        .half_life(100.0);
    let mut live = RollingForecaster::new(config).unwrap();
    for &y in &ys[..2000] {
        live.observe(y).unwrap();
    }
    let mut restored: RollingForecaster =
        serde_json::from_str(&serde_json::to_string(&live).unwrap()).unwrap();
    let levels = [0.001, 0.1, 0.5, 0.9, 0.999];
    for &y in &ys[2000..] {
        let (a, b) = (live.forecast().unwrap(), restored.forecast().unwrap());
        for &p in &levels {
            assert_eq!(a.quantile(p).to_bits(), b.quantile(p).to_bits());
        }
        live.observe(y).unwrap();
        restored.observe(y).unwrap();
    }
}

#[test]
fn corrupt_states_are_rejected_not_trusted() {
    let ys = series(1500, 3);
    let mut d = AnomalyDetector::new(
        DetectorConfig::default().forecaster(ForecasterConfig::default().window(300)),
    )
    .unwrap();
    for &y in &ys {
        d.update(y).unwrap();
    }
    let json = serde_json::to_string(&d).unwrap();
    // A window holding more values than its capacity, a negative histogram count, a
    // tail mass out of range: each is refused on deserialisation.
    for (from, to) in [
        ("\"capacity\":300", "\"capacity\":3"),
        ("\"counts\":[", "\"counts\":[-1.0,"),
        ("\"mass\":0.05", "\"mass\":0.7"),
    ] {
        assert!(json.contains(from), "{from}");
        let bad = json.replacen(from, to, 1);
        assert!(
            serde_json::from_str::<AnomalyDetector>(&bad).is_err(),
            "{from} -> {to} accepted"
        );
    }
}

/// Verdicts carry infinities (the open side of a one-sided band, the whole band
/// while warming up, the score of p = 0) and NaN (warm-up, missing values): they
/// still round-trip through JSON bit for bit, written as "inf", "-inf", "NaN".
#[test]
fn verdicts_round_trip_through_json_bit_for_bit() {
    let ys = series(600, 11);
    let forecaster = ForecasterConfig::default().window(200);
    let mut seen_strings = [false; 3];
    for side in [Side::Upper, Side::Lower, Side::TwoSided] {
        let config = DetectorConfig::default()
            .forecaster(forecaster.clone())
            .side(side);
        let mut d = AnomalyDetector::new(config).unwrap();
        let mut verdicts = d.score(&ys).unwrap();
        // A value beyond any bounded tail gets p = 0 and an infinite score.
        verdicts.push(d.update(f64::MAX).unwrap());
        assert!(verdicts[0].warming_up && verdicts.iter().any(|v| v.missing));
        for v in &verdicts {
            let json = serde_json::to_string(v).unwrap();
            assert!(!json.contains("null"), "{json}");
            for (seen, name) in seen_strings
                .iter_mut()
                .zip(["\"inf\"", "\"-inf\"", "\"NaN\""])
            {
                *seen |= json.contains(name);
            }
            let back: Verdict = serde_json::from_str(&json).unwrap();
            assert!(same(v, &back), "{json}");
            assert_eq!(serde_json::to_string(&back).unwrap(), json);
        }
    }
    assert_eq!(seen_strings, [true; 3]);
    // Finite values stay plain numbers, and numbers are read as written.
    let json = serde_json::to_string(
        &AnomalyDetector::new(DetectorConfig::default())
            .unwrap()
            .update(1.0)
            .unwrap(),
    )
    .unwrap();
    assert!(json.contains("\"lower\":\"-inf\"") && json.contains("\"p_value\":\"NaN\""));
    let text = json
        .replace("\"lower\":\"-inf\"", "\"lower\":-3")
        .replace("\"upper\":\"inf\"", "\"upper\":2.5");
    let v: Verdict = serde_json::from_str(&text).unwrap();
    assert_eq!((v.lower, v.upper), (-3.0, 2.5));
    assert!(serde_json::from_str::<Verdict>(&json.replace("\"-inf\"", "\"minus\"")).is_err());
}
