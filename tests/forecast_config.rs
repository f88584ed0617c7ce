//! Every configuration field is validated with an error that names it and the value.

use tailcast::fit::SbpConfig;
use tailcast::{
    AnomalyDetector, DetectorConfig, Error, ForecasterConfig, LocationModel, RollingForecaster,
};
use tailcast::{Check, Checked};

#[track_caller]
fn rejects(config: ForecasterConfig, message: &str) {
    let err = RollingForecaster::new(config.clone()).unwrap_err();
    assert_eq!(err.to_string(), message);
    // The detector reports the same error for the same forecaster config (compared
    // as text: a NaN value makes the errors themselves unequal).
    let err2 = AnomalyDetector::new(DetectorConfig::default().forecaster(config)).unwrap_err();
    assert_eq!(err2.to_string(), message);
}

#[test]
fn defaults_are_valid_and_documented() {
    let checked = |c: ForecasterConfig| -> Checked<ForecasterConfig> { c.check().unwrap() };
    let c = checked(ForecasterConfig::default());
    assert_eq!(c.window(), 1000);
    assert_eq!(c.half_life(), None);
    assert_eq!(c.refit_every(), 100);
    assert_eq!(c.warmup(), 1000);
    assert_eq!(c.location(), LocationModel::Auto);
    assert_eq!(c.level_smoothing(), 0.1);
    assert_eq!(c.seasonal_smoothing(), 0.1);
    assert_eq!(c.robust_clip(), 2.5);
    assert!(!c.allow_bounded_tails());
    assert_eq!(c.max_tail_shape(), 1.0);
    let set = checked(
        ForecasterConfig::default()
            .level_smoothing(0.2)
            .seasonal_smoothing(0.3)
            .robust_clip(4.0)
            .allow_bounded_tails(true)
            .max_tail_shape(0.5),
    );
    assert_eq!(
        (
            set.level_smoothing(),
            set.seasonal_smoothing(),
            set.robust_clip(),
            set.allow_bounded_tails(),
            set.max_tail_shape()
        ),
        (0.2, 0.3, 4.0, true, 0.5)
    );
    let d = DetectorConfig::default().check().unwrap();
    assert_eq!(d.risk(), 1e-3);
    assert_eq!(d.side(), tailcast::Side::TwoSided);
    assert!(d.exclude_anomalies());
    assert_eq!(d.exclusion_risk(), 1e-3);
    assert_eq!(d.max_excluded_run(), 25);
    assert!(!d.impute_excluded());
    // The detector's forecaster is the default one with a looser tail-shape bound.
    assert_eq!(
        d.forecaster().config(),
        &ForecasterConfig::default().max_tail_shape(tailcast::anomaly::DETECTOR_MAX_TAIL_SHAPE)
    );
    assert_eq!(d.forecaster().max_tail_shape(), 3.0);
    // Every setter is read back by its getter.
    let set = DetectorConfig::default()
        .forecaster(ForecasterConfig::default().window(77))
        .risk(1e-4)
        .side(tailcast::Side::Upper)
        .exclude_anomalies(false)
        .exclusion_risk(5e-3)
        .max_excluded_run(3)
        .check()
        .unwrap();
    assert_eq!(set.forecaster().window(), 77);
    assert_eq!(set.risk(), 1e-4);
    assert_eq!(set.side(), tailcast::Side::Upper);
    assert!(!set.exclude_anomalies());
    assert_eq!(set.exclusion_risk(), 5e-3);
    assert_eq!(set.max_excluded_run(), 3);
    // Small windows warm up on at least 20 values; models raise the warm-up (the
    // default `Auto` to 40).
    let level = ForecasterConfig::default().location(LocationModel::Level);
    assert_eq!(checked(level.window(5)).warmup(), 20);
    assert_eq!(checked(ForecasterConfig::default().window(5)).warmup(), 40);
    let seasonal = ForecasterConfig::default()
        .window(100)
        .location(LocationModel::Seasonal { period: 48 });
    assert_eq!(checked(seasonal).warmup(), 144);
    assert_eq!(
        checked(ForecasterConfig::default().window(10)).refit_every(),
        1
    );
}

#[test]
fn window() {
    rejects(
        ForecasterConfig::default().window(0),
        "window must be in [1, 2^32 - 2], got 0",
    );
}

#[test]
fn limits() {
    rejects(
        ForecasterConfig::default().window(usize::MAX),
        &format!("window must be in [1, 2^32 - 2], got {}", usize::MAX),
    );
    rejects(
        ForecasterConfig::default().warmup(1 << 40),
        "warmup must be in [2, 2^32 - 2], got 1099511627776",
    );
    rejects(
        ForecasterConfig::default().location(LocationModel::Seasonal { period: usize::MAX }),
        &format!("period must be in [2, 2^30], got {}", usize::MAX),
    );
    rejects(
        ForecasterConfig::default().sbp(SbpConfig::default().bins(1 << 40)),
        "bins must be <= 2^20 in a forecaster, got 1099511627776",
    );
    // The largest window and warm-up are valid, and memory follows the data, not
    // the configuration: this detector holds a few thousand points.
    let huge = (u32::MAX - 1) as usize;
    for location in [
        LocationModel::Level,
        LocationModel::Autoregressive { lags: 2 },
        LocationModel::Seasonal { period: 7 },
    ] {
        let config = ForecasterConfig::default()
            .window(huge)
            .warmup(100)
            .location(location);
        let mut d = AnomalyDetector::new(DetectorConfig::default().forecaster(config)).unwrap();
        for t in 0..3000 {
            d.update((t % 17) as f64).unwrap();
        }
        assert_eq!(d.forecaster().window_len(), 2900 + 100);
    }
    ForecasterConfig::default().warmup(huge).check().unwrap();
}

#[test]
fn half_life() {
    for (h, msg) in [
        (0.0, "half_life must be > 0, got 0"),
        (-3.0, "half_life must be > 0, got -3"),
        (f64::NAN, "half_life must be finite, got NaN"),
        (f64::INFINITY, "half_life must be finite, got inf"),
    ] {
        rejects(ForecasterConfig::default().half_life(h), msg);
    }
    ForecasterConfig::default()
        .half_life(5.0)
        .no_decay()
        .check()
        .unwrap();
}

#[test]
fn refit_every_and_warmup() {
    rejects(
        ForecasterConfig::default().refit_every(0),
        "refit_every must be >= 1, got 0",
    );
    rejects(
        ForecasterConfig::default().warmup(1),
        "warmup must be in [2, 2^32 - 2], got 1",
    );
}

#[test]
fn location_models() {
    rejects(
        ForecasterConfig::default().location(LocationModel::Seasonal { period: 1 }),
        "period must be in [2, 2^30], got 1",
    );
    rejects(
        ForecasterConfig::default().location(LocationModel::Autoregressive { lags: 0 }),
        "lags must be in [1, 64], got 0",
    );
    rejects(
        ForecasterConfig::default().location(LocationModel::Autoregressive { lags: 65 }),
        "lags must be in [1, 64], got 65",
    );
}

#[test]
fn smoothing_and_clip() {
    for v in [0.0, -0.1, 1.5, f64::NAN] {
        rejects(
            ForecasterConfig::default().level_smoothing(v),
            &format!("level_smoothing must be in (0, 1], got {v}"),
        );
        rejects(
            ForecasterConfig::default().seasonal_smoothing(v),
            &format!("seasonal_smoothing must be in (0, 1], got {v}"),
        );
    }
    ForecasterConfig::default()
        .level_smoothing(1.0)
        .check()
        .unwrap();
    rejects(
        ForecasterConfig::default().robust_clip(0.0),
        "robust_clip must be > 0, got 0",
    );
    rejects(
        ForecasterConfig::default().robust_clip(f64::INFINITY),
        "robust_clip must be finite, got inf",
    );
}

#[test]
fn sbp_settings() {
    rejects(
        ForecasterConfig::default().sbp(SbpConfig::default().bins(0)),
        "bins must be >= 1, got 0",
    );
    rejects(
        ForecasterConfig::default().sbp(SbpConfig::default().tail_mass(0.5)),
        "lower_tail_mass must be in (0, 0.5), got 0.5",
    );
    rejects(
        ForecasterConfig::default().sbp(SbpConfig::default().bounds(1.0, -1.0)),
        "low must be < high (with a finite span), got 1",
    );
    rejects(
        ForecasterConfig::default().sbp(SbpConfig::default().pseudo_count(-1.0)),
        "pseudo_count must be >= 0, got -1",
    );
    rejects(
        ForecasterConfig::default().sbp(SbpConfig::default().upper_tail_mass(0.0)),
        "upper_tail_mass must be in (0, 0.5), got 0",
    );
    rejects(
        ForecasterConfig::default().sbp(SbpConfig::default().auto_bounds(-0.5)),
        "margin must be >= 0, got -0.5",
    );
    rejects(
        ForecasterConfig::default().sbp(SbpConfig::default().bounds(f64::NAN, 1.0)),
        "low must be finite, got NaN",
    );
}

#[test]
fn risk_level() {
    for risk in [0.0, 1.0, -1e-3, 2.0, f64::NAN] {
        let err = AnomalyDetector::new(DetectorConfig::default().risk(risk)).unwrap_err();
        assert!(matches!(
            err,
            Error::ProbabilityOutOfRange { name: "risk", .. }
        ));
        assert_eq!(
            err.to_string(),
            format!("risk must be in (0, 1), got {risk}")
        );
    }
}

#[test]
fn configs_round_trip_through_serde() {
    let c = DetectorConfig::default().risk(1e-4).forecaster(
        ForecasterConfig::default()
            .window(77)
            .half_life(12.5)
            .location(LocationModel::Autoregressive { lags: 3 })
            .sbp(SbpConfig::default().bins(40).tail_mass(0.1)),
    );
    let back: DetectorConfig = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
    assert_eq!(back, c);
}
