//! The detector and forecaster never panic on any stream of f64 (NaN, infinities,
//! huge, tiny, constant, alternating), infinities are errors that change nothing, and
//! no finite observation poisons the state: after the warm-up every finite value gets
//! a p-value in [0, 1], and a detector restored from its saved state continues bit
//! for bit.

use proptest::prelude::*;
use tailcast::Check;
use tailcast::{
    AnomalyDetector, DetectorConfig, ForecasterConfig, LocationModel, RollingForecaster, Side,
};

/// Any f64 at all, with the awkward ones over-represented.
fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => any::<f64>(),
        2 => -10.0..10.0f64,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(f64::MAX),
        1 => Just(-f64::MAX),
        1 => Just(f64::MIN_POSITIVE),
        1 => Just(0.0),
        1 => (-300i32..300).prop_map(|e| 10f64.powi(e)),
    ]
}

/// Streams: arbitrary values, a constant, an alternation of two values, mostly
/// missing, or a smooth series with arbitrary interruptions.
fn stream() -> impl Strategy<Value = Vec<f64>> {
    prop_oneof![
        prop::collection::vec(value(), 0..400),
        (value(), 1usize..300).prop_map(|(v, n)| vec![v; n]),
        (value(), value(), 1usize..300)
            .prop_map(|(a, b, n)| (0..n).map(|i| if i % 2 == 0 { a } else { b }).collect()),
        prop::collection::vec(prop_oneof![9 => Just(f64::NAN), 1 => value()], 0..400),
        (
            prop::collection::vec((0usize..300, value()), 0..20),
            100usize..300
        )
            .prop_map(|(breaks, n)| {
                let mut v: Vec<f64> = (0..n).map(|i| (i as f64 * 0.3).sin()).collect();
                for (i, x) in breaks {
                    if i < n {
                        v[i] = x;
                    }
                }
                v
            }),
    ]
}

fn model() -> impl Strategy<Value = LocationModel> {
    prop_oneof![
        Just(LocationModel::None),
        Just(LocationModel::Level),
        (2usize..6).prop_map(|period| LocationModel::Seasonal { period }),
        (1usize..4).prop_map(|lags| LocationModel::Autoregressive { lags }),
        Just(LocationModel::Auto),
    ]
}

fn config() -> impl Strategy<Value = DetectorConfig> {
    (
        model(),
        10usize..60,
        prop::option::of(1.0..50.0f64),
        1usize..10,
        any::<bool>(),
        prop_oneof![Just(Side::Upper), Just(Side::Lower), Just(Side::TwoSided)],
        any::<bool>(),
        4usize..30,
        any::<bool>(),
    )
        .prop_map(
            |(location, window, half_life, refit, bounded, side, exclude, bins, predictive)| {
                let mut f = ForecasterConfig::default()
                    .window(window)
                    .warmup(window.max(location.min_warmup_hint()))
                    .refit_every(refit)
                    .location(location)
                    .allow_bounded_tails(bounded)
                    .sbp(tailcast::fit::SbpConfig::default().bins(bins));
                if let Some(h) = half_life {
                    f = f.half_life(h);
                }
                DetectorConfig::default()
                    .forecaster(f)
                    .side(side)
                    .exclude_anomalies(exclude)
                    .predictive_tails(predictive)
            },
        )
}

/// The warm-up a model needs (mirrors the documented minimums, so that short
/// proptest windows still reach the running phase).
trait MinWarmup {
    fn min_warmup_hint(&self) -> usize;
}

impl MinWarmup for LocationModel {
    fn min_warmup_hint(&self) -> usize {
        match *self {
            LocationModel::Seasonal { period } => 3 * period,
            LocationModel::Autoregressive { lags } => 10 * (lags + 1),
            LocationModel::Auto => 40,
            _ => 2,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn detector_never_panics_and_never_poisons(config in config(), ys in stream()) {
        let mut d = AnomalyDetector::new(config.clone()).unwrap();
        let risk = config.check().unwrap().risk();
        for &y in &ys {
            if y.is_infinite() {
                let before = serde_json::to_string(&d).unwrap();
                prop_assert!(d.update(y).is_err());
                prop_assert_eq!(serde_json::to_string(&d).unwrap(), before);
                continue;
            }
            let v = d.update(y).unwrap();
            prop_assert_eq!(v.missing, y.is_nan());
            if v.warming_up || v.missing {
                prop_assert!(v.p_value.is_nan() && !v.is_anomaly);
                continue;
            }
            prop_assert!((0.0..=1.0).contains(&v.p_value), "p = {} for y = {}", v.p_value, y);
            // No finite value is impossible: p > 0 and a finite score.
            prop_assert!(v.p_value > 0.0, "p = 0 for y = {}", y);
            prop_assert!(v.score >= 0.0 && v.score.is_finite(), "score {}", v.score);
            prop_assert_eq!(v.is_anomaly, v.p_value < risk);
            prop_assert!(v.location.is_finite());
            prop_assert!(!v.lower.is_nan() && !v.upper.is_nan() && v.lower <= v.upper);
        }
        // The state still round-trips, and the restored detector goes on exactly as
        // the live one (the same stream again, reversed).
        let json = serde_json::to_string(&d).unwrap();
        let mut back: AnomalyDetector = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(serde_json::to_string(&back).unwrap(), json);
        for &y in ys.iter().rev().filter(|y| !y.is_infinite()) {
            let (a, b) = (d.update(y).unwrap(), back.update(y).unwrap());
            prop_assert_eq!(a.p_value.to_bits(), b.p_value.to_bits());
            prop_assert_eq!(a.lower.to_bits(), b.lower.to_bits());
            prop_assert_eq!(a.upper.to_bits(), b.upper.to_bits());
            prop_assert_eq!(a.location.to_bits(), b.location.to_bits());
            prop_assert_eq!((a.is_anomaly, a.excluded), (b.is_anomaly, b.excluded));
        }
    }

    #[test]
    fn forecaster_quantiles_stay_ordered(config in config(), ys in stream()) {
        let mut f = RollingForecaster::new(config.check().unwrap().forecaster()).unwrap();
        for &y in &ys {
            let _ = f.observe(y);
        }
        if let Ok(fc) = f.forecast() {
            let qs = fc.quantiles(&[0.001, 0.05, 0.5, 0.95, 0.999]).unwrap();
            prop_assert!(qs.iter().all(|q| !q.is_nan()), "{:?}", qs);
            prop_assert!(qs.windows(2).all(|w| w[0] <= w[1]), "{:?}", qs);
            prop_assert!(fc.location().is_finite());
        }
    }
}

/// The autoregression of the two shrunk cases below (window 10, warm-up 40, a
/// refit at every step, 4 bins).
fn ar3_config() -> ForecasterConfig {
    ForecasterConfig::default()
        .window(10)
        .warmup(40)
        .refit_every(1)
        .location(LocationModel::Autoregressive { lags: 3 })
        .sbp(tailcast::fit::SbpConfig::default().bins(4))
}

/// The shrunk case of `forecaster_quantiles_stay_ordered`: an autoregression on
/// values of both signs near ±MAX predicted NaN (an overflowing `+inf - inf`), and
/// the forecast made from it had all-NaN quantiles.
#[test]
fn autoregression_on_extremes_gives_no_nan_quantiles() {
    let (m, z) = (f64::MAX, 0.0);
    let ys = [
        z,
        f64::NAN,
        -m,
        m,
        m,
        z,
        m,
        m,
        z,
        m,
        -z,
        m,
        z,
        m,
        z,
        m,
        z,
        m,
        m,
        m,
        m,
        z,
        m,
        m,
        m,
        z,
        z,
        z,
        m,
        z,
        z,
        m,
        z,
        z,
        m,
        m,
        m,
        z,
        -m,
        f64::MIN_POSITIVE,
        m,
    ];
    let mut f = RollingForecaster::new(ar3_config()).unwrap();
    for &y in &ys {
        f.observe(y).unwrap();
    }
    let fc = f.forecast().unwrap();
    let qs = fc.quantiles(&[0.001, 0.05, 0.5, 0.95, 0.999]).unwrap();
    assert!(qs.iter().all(|q| !q.is_nan()), "{qs:?}");
    assert!(qs.windows(2).all(|w| w[0] <= w[1]), "{qs:?}");
    assert!(fc.location().is_finite());
}

/// The shrunk case of `detector_never_panics_and_never_poisons`: the same NaN
/// prediction made every residual of the warm-up NaN, so the warm-up ended in
/// `TooFewObservations` from `update` on the finite 40th value.
#[test]
fn autoregression_on_extremes_ends_the_warmup_without_error() {
    let (m, z) = (f64::MAX, 0.0);
    let ys = [
        z,
        -m,
        z,
        z,
        z,
        z,
        m,
        z,
        m,
        -z,
        m,
        z,
        m,
        z,
        m,
        z,
        m,
        z,
        z,
        z,
        z,
        -z,
        z,
        m,
        z,
        z,
        z,
        -z,
        z,
        z,
        m,
        z,
        z,
        -z,
        z,
        m,
        z,
        -m,
        f64::MIN_POSITIVE,
        m,
    ];
    let config = DetectorConfig::default()
        .forecaster(ar3_config())
        .side(Side::Upper)
        .exclude_anomalies(false);
    let mut d = AnomalyDetector::new(config).unwrap();
    for &y in &ys {
        d.update(y).unwrap();
    }
    let v = d.update(1.0).unwrap();
    assert!(!v.warming_up && v.location.is_finite() && (0.0..=1.0).contains(&v.p_value));
}
