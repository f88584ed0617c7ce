//! One convention for non-finite numbers in saved state: every saved type that may
//! hold NaN or ±∞ writes them as "NaN", "inf" and "-inf" in JSON and reads them back
//! bit for bit (NaN as NaN); no `null` is written.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tailcast::Check;
use tailcast::fit::{GpdEstimate, GpdFit, GpdFitter, SbpConfig, SbpEstimate, SbpFit, SbpFitter};
use tailcast::metrics::{RegionMae, pp_score_from_pit};
use tailcast::{
    AnomalyDetector, DetectorConfig, Event, ForecasterConfig, GeneralizedPareto, RollingForecaster,
    Side, SplicedBinnedPareto, Verdict,
};

const NAMES: [(&str, f64); 3] = [
    ("NaN", f64::NAN),
    ("inf", f64::INFINITY),
    ("-inf", f64::NEG_INFINITY),
];

/// The value at a `/`-separated path of object keys.
fn at<'v>(v: &'v mut Value, path: &str) -> &'v mut Value {
    path.split('/').fold(v, |v, key| {
        v.get_mut(key)
            .unwrap_or_else(|| panic!("no {key} in {path}"))
    })
}

/// Sets each field of `paths` of `value`'s JSON to each non-finite value in turn and
/// checks that it reads back as that value (`get`) and writes back as the same JSON.
/// A field's path in the JSON and how to read it from the value.
type Field<'a, T> = (&'a str, fn(&T) -> f64);

fn round_trips<T: Serialize + DeserializeOwned>(value: &T, fields: &[Field<'_, T>]) {
    let original = serde_json::to_value(value).unwrap();
    for &(path, get) in fields {
        for (name, want) in NAMES {
            let mut json = original.clone();
            *at(&mut json, path) = Value::String(name.into());
            let text = serde_json::to_string(&json).unwrap();
            let back: T = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{path} = {name}: {e} in {text}"));
            let got = get(&back);
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "{path} = {name}: read {got}"
            );
            let again = serde_json::to_string(&back).unwrap();
            let parse = |t: &str| serde_json::from_str::<Value>(t).unwrap();
            assert_eq!(parse(&again), parse(&text), "{path} = {name}");
        }
    }
}

fn sample() -> Vec<f64> {
    (0..2000)
        .map(|i| {
            let u = ((i as f64 + 0.5) * 0.618_033_988_75).fract() - 0.5;
            u.signum() * ((1.0 - 2.0 * u.abs()).powf(-0.3) - 1.0)
        })
        .collect()
}

#[test]
fn fits_round_trip_non_finite_log_likelihoods() {
    let x = sample();
    let excess: Vec<f64> = x.iter().filter(|&&v| v > 1.0).map(|v| v - 1.0).collect();
    let gpd_fit: GpdFit = GeneralizedPareto::fit(&excess).unwrap();
    round_trips(
        &gpd_fit,
        &[
            ("log_likelihood", |f: &GpdFit| f.log_likelihood),
            ("estimate/log_likelihood", |f: &GpdFit| {
                f.estimate.log_likelihood
            }),
        ],
    );
    let est: GpdEstimate = GpdFitter::default()
        .check()
        .unwrap()
        .fit(&excess, None)
        .unwrap();
    round_trips(
        &est,
        &[("log_likelihood", |e: &GpdEstimate| e.log_likelihood)],
    );
    let sbp_fit: SbpFit = SplicedBinnedPareto::fit(&x, &SbpConfig::default()).unwrap();
    round_trips(
        &sbp_fit,
        &[
            ("log_likelihood", |f: &SbpFit| f.log_likelihood),
            ("upper/log_likelihood", |f: &SbpFit| f.upper.log_likelihood),
            ("lower/estimate/log_likelihood", |f: &SbpFit| {
                f.lower.estimate.log_likelihood
            }),
        ],
    );
    let mut fitter = SbpFitter::new(SbpConfig::default().bounds(-20.0, 20.0)).unwrap();
    let mut dist = sbp_fit.dist.clone();
    let sbp_est: SbpEstimate = fitter.fit_into(&x, None, &mut dist).unwrap();
    round_trips(
        &sbp_est,
        &[
            ("log_likelihood", |e: &SbpEstimate| e.log_likelihood),
            ("lower/log_likelihood", |e: &SbpEstimate| {
                e.lower.log_likelihood
            }),
        ],
    );
}

#[test]
fn metrics_verdicts_and_events_round_trip() {
    let pit: Vec<f64> = (0..500).map(|i| (i as f64 + 0.5) / 500.0).collect();
    let mae: RegionMae = pp_score_from_pit(&pit, &[0.1, 0.5, 0.9], 0.05).unwrap().mae;
    round_trips(
        &mae,
        &[
            ("lower", |m: &RegionMae| m.lower),
            ("base", |m: &RegionMae| m.base),
            ("upper", |m: &RegionMae| m.upper),
            ("full", |m: &RegionMae| m.full),
        ],
    );
    // A verdict of the warm-up holds NaN and infinite values already.
    let mut detector = AnomalyDetector::new(DetectorConfig::default()).unwrap();
    let verdict: Verdict = detector.update(1.0).unwrap();
    let json = serde_json::to_string(&verdict).unwrap();
    assert!(json.contains("\"NaN\"") && json.contains("inf"), "{json}");
    round_trips(
        &verdict,
        &[
            ("p_value", |v: &Verdict| v.p_value),
            ("score", |v: &Verdict| v.score),
            ("lower", |v: &Verdict| v.lower),
            ("upper", |v: &Verdict| v.upper),
            ("location", |v: &Verdict| v.location),
        ],
    );
    let side = serde_json::to_value(Side::Upper).unwrap();
    let event: Event = serde_json::from_value(serde_json::json!({
        "start": 3, "end": 5, "peak": 4, "peak_score": 4.5, "peak_p_value": 3e-5,
        "side": side, "alarms": 2
    }))
    .unwrap();
    round_trips(
        &event,
        &[
            ("peak_score", |e: &Event| e.peak_score),
            ("peak_p_value", |e: &Event| e.peak_p_value),
        ],
    );
}

#[test]
fn missing_values_in_a_warm_up_round_trip_as_nan() {
    let config = ForecasterConfig::default().window(50);
    let mut f = RollingForecaster::new(config).unwrap();
    for t in 0..30 {
        let y = if t % 4 == 1 { f64::NAN } else { (t % 7) as f64 };
        f.observe(y).unwrap();
    }
    let json = serde_json::to_string(&f).unwrap();
    let buffer = |json: &str| -> Vec<Value> {
        let mut v: Value = serde_json::from_str(json).unwrap();
        let b = at(&mut v, "state/WarmingUp/buffer");
        b.as_array().unwrap().clone()
    };
    let saved = buffer(&json);
    assert!(saved.contains(&Value::String("NaN".into())), "{json}");
    assert!(saved.iter().all(|v| !v.is_null()), "{json}");
    let mut back: RollingForecaster = serde_json::from_str(&json).unwrap();
    assert_eq!(serde_json::to_string(&back).unwrap(), json);
    // States written when missing values were saved as null still read back.
    let legacy = json.replace("\"NaN\"", "null");
    assert!(buffer(&legacy).iter().any(Value::is_null));
    let old: RollingForecaster = serde_json::from_str(&legacy).unwrap();
    assert_eq!(serde_json::to_string(&old).unwrap(), json);
    // Other spellings are read too; only the canonical one is written.
    let spelled = json.replacen("\"NaN\"", "\"nan\"", 1);
    let other: RollingForecaster = serde_json::from_str(&spelled).unwrap();
    assert_eq!(serde_json::to_string(&other).unwrap(), json);
    // An infinite value is still not an observation.
    let infinite = json.replacen("\"NaN\"", "\"inf\"", 1);
    assert!(serde_json::from_str::<RollingForecaster>(&infinite).is_err());
    // And the restored forecaster goes on as the original.
    for t in 30..120 {
        let y = (t % 7) as f64 + if t % 13 == 0 { f64::NAN } else { 0.0 };
        f.observe(y).unwrap();
        back.observe(y).unwrap();
    }
    assert_eq!(
        serde_json::to_string(&f).unwrap(),
        serde_json::to_string(&back).unwrap()
    );
    // The detector's saved warm-up holds the forecaster's buffer.
    let mut detector = AnomalyDetector::new(DetectorConfig::default()).unwrap();
    for t in 0..10 {
        detector
            .update(if t == 3 { f64::NAN } else { t as f64 })
            .unwrap();
    }
    let json = serde_json::to_string(&detector).unwrap();
    assert!(json.contains("\"NaN\""), "{json}");
    let back: AnomalyDetector = serde_json::from_str(&json).unwrap();
    assert_eq!(serde_json::to_string(&back).unwrap(), json);
}
