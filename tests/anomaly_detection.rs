//! Detection quality on simulated series with injected anomalies of known size, at the
//! default risk level (1e-3, two-sided): recall (share of injected points flagged) and
//! false-alarm rate (share of the other points flagged), both after the warm-up.
//!
//! Each series has 50,000 points with about 240 anomalies of a fixed size and random
//! sign, injected every 100 to 300 steps from t = 2,000 on. The measured figures for
//! the seeds below are stated next to each assertion; the bounds leave room for a few
//! points of change. With 48,800 clean points a false-alarm rate of 1e-3 has a
//! standard error of 1.4e-4.

use rand::distr::Distribution;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Normal, StudentT};
use tailcast::{AnomalyDetector, DetectorConfig, ForecasterConfig, LocationModel, Side};

const N: usize = 50_000;

struct Rates {
    recall: f64,
    false_alarms: f64,
}

/// Adds `±size` at irregular times; returns the mask of injected points.
fn inject(ys: &mut [f64], size: f64, rng: &mut StdRng) -> Vec<bool> {
    let mut injected = vec![false; ys.len()];
    let mut t = 2000;
    while t < ys.len() {
        ys[t] += if rng.random::<bool>() { size } else { -size };
        injected[t] = true;
        t += rng.random_range(100..300);
    }
    injected
}

fn rates(config: DetectorConfig, ys: &[f64], injected: &[bool]) -> Rates {
    let mut detector = AnomalyDetector::new(config).unwrap();
    let verdicts = detector.score(ys).unwrap();
    let (mut hit, mut missed, mut false_alarm, mut quiet) = (0usize, 0usize, 0usize, 0usize);
    for (v, &inj) in verdicts.iter().zip(injected) {
        if v.warming_up {
            assert!(!v.is_anomaly);
            continue;
        }
        match (inj, v.is_anomaly) {
            (true, true) => hit += 1,
            (true, false) => missed += 1,
            (false, true) => false_alarm += 1,
            (false, false) => quiet += 1,
        }
    }
    Rates {
        recall: hit as f64 / (hit + missed) as f64,
        false_alarms: false_alarm as f64 / (false_alarm + quiet) as f64,
    }
}

fn report(name: &str, r: &Rates) {
    eprintln!(
        "{name}: recall {:.4}, false-alarm rate {:.5}",
        r.recall, r.false_alarms
    );
}

/// Level 10 plus standard normal noise, anomalies of ±6 standard deviations, default
/// detector (window 1,000). Measured: recall 0.996, false alarms 5.5e-4 (7.8e-4 before
/// the tails were scored with their remembered shapes)
/// (below the risk level: the tails are floored at the exponential, heavier than the
/// Gaussian's).
#[test]
fn gaussian_noise_six_sigma_anomalies() {
    let mut rng = StdRng::seed_from_u64(100);
    let noise = Normal::new(0.0, 1.0).unwrap();
    let mut ys: Vec<f64> = (0..N).map(|_| 10.0 + noise.sample(&mut rng)).collect();
    let injected = inject(&mut ys, 6.0, &mut rng);
    let r = rates(DetectorConfig::default(), &ys, &injected);
    report("gaussian, 6 sd", &r);
    assert!(r.recall >= 0.97, "recall {}", r.recall);
    assert!(r.false_alarms <= 1e-3, "false alarms {}", r.false_alarms);
}

/// The same series with ±4 sd anomalies, which sit where the noise itself reaches
/// about once in 16,000 points: recall drops to 0.42 (measured; 0.46 before the
/// recalibration followed a power law below the risk level), false alarms stay at
/// 2.7e-4. Recall was 0.53 before the detector's recalibration measured the
/// share of p-values just below the risk level: these anomalies come every ~200
/// points (five times the risk level) with p-values near 5e-4 under the fitted
/// exponential tails, which is what a too-light tail looks like to it.
#[test]
fn gaussian_noise_four_sigma_anomalies() {
    let mut rng = StdRng::seed_from_u64(100);
    let noise = Normal::new(0.0, 1.0).unwrap();
    let mut ys: Vec<f64> = (0..N).map(|_| 10.0 + noise.sample(&mut rng)).collect();
    let injected = inject(&mut ys, 4.0, &mut rng);
    let r = rates(DetectorConfig::default(), &ys, &injected);
    report("gaussian, 4 sd", &r);
    assert!((0.4..=0.8).contains(&r.recall), "recall {}", r.recall);
    assert!(r.false_alarms <= 1e-3, "false alarms {}", r.false_alarms);
}

/// The paper's kind of series: level 5, a sine of period 100, Student-t(10) noise
/// scaled by 0.25 and 15 % of exponential spikes (half up, half down), which are
/// *normal* here; anomalies of ±10 on top, seasonal location model. Measured: recall
/// 0.74, false alarms 4.9e-4 (0.71 and 6.8e-4 before the tails were scored with
/// their remembered shapes and the recalibration followed a power law below the
/// risk level; six more seeds: 0.50–0.80 before, 0.61–0.93 after; 0.85 and 1.1e-3
/// before the recalibration measured the
/// share just below the risk level: anomalies every ~200 points, many of them with
/// p-values in that band, read partly as a too-light tail; see the detector's
/// *p-values*).
#[test]
fn paper_series_with_spikes() {
    let (ys, injected) = paper_series(200);
    let config = DetectorConfig::default()
        .forecaster(ForecasterConfig::default().location(LocationModel::Seasonal { period: 100 }));
    let r = rates(config, &ys, &injected);
    report("paper series, ±10", &r);
    assert!(r.recall >= 0.65, "recall {}", r.recall);
    assert!(r.false_alarms <= 3e-3, "false alarms {}", r.false_alarms);
}

/// Heavy-tailed noise (Student-t with 4 degrees of freedom, tail index 1/4) with ±12
/// anomalies. Measured: recall 0.99, false alarms 1.8e-3 with exclusion on (the
/// default), 1.2e-3 on the clean series with exclusion off (0.98, 2.0e-3 and 1.5e-3
/// before the tails were scored with their remembered shapes; before the
/// recalibration below the risk level: 1.0, 3.1e-3 and 1.6e-3). Both exceed the
/// risk level: the GPD fitted to 50 exceedances is extrapolated to 1 % of its tail,
/// and the plug-in estimate is too light on average; keeping flagged points out of
/// the window then thins the tail it is fitted to.
#[test]
fn heavy_tailed_noise_and_the_cost_of_exclusion() {
    let mut rng = StdRng::seed_from_u64(300);
    let t4 = StudentT::new(4.0).unwrap();
    let clean: Vec<f64> = (0..N).map(|_| 10.0 + t4.sample(&mut rng)).collect();
    let mut ys = clean.clone();
    let injected = inject(&mut ys, 12.0, &mut rng);
    let with_exclusion = rates(DetectorConfig::default(), &ys, &injected);
    report("student-t(4), ±12", &with_exclusion);
    assert!(
        with_exclusion.recall >= 0.97,
        "recall {}",
        with_exclusion.recall
    );
    assert!(
        with_exclusion.false_alarms <= 6e-3,
        "false alarms {}",
        with_exclusion.false_alarms
    );
    let none = vec![false; N];
    let clean_rates = rates(
        DetectorConfig::default().exclude_anomalies(false),
        &clean,
        &none,
    );
    report("student-t(4), clean, no exclusion", &clean_rates);
    assert!(
        clean_rates.false_alarms <= 3e-3,
        "{}",
        clean_rates.false_alarms
    );
    assert!(clean_rates.false_alarms < with_exclusion.false_alarms);
    // Without exclusion the injected anomalies enter the window and fatten the
    // tails: most of them are then missed (measured recall 0.06; 0.27 before the
    // remembered shapes, which then remember the fattened tails).
    let without = rates(
        DetectorConfig::default().exclude_anomalies(false),
        &ys,
        &injected,
    );
    report("student-t(4), ±12, no exclusion", &without);
    assert!(without.recall < 0.5, "recall {}", without.recall);
}

/// The paper's series of `paper_series_with_spikes` with seed `seed`.
fn paper_series(seed: u64) -> (Vec<f64>, Vec<bool>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let t10 = StudentT::new(10.0).unwrap();
    let mut ys: Vec<f64> = (0..N)
        .map(|i| {
            let mut y = 5.0
                + (std::f64::consts::TAU * i as f64 / 100.0).sin()
                + 0.25 * t10.sample(&mut rng);
            if rng.random::<f64>() < 0.15 {
                let spike = -rng.random::<f64>().ln();
                y += if rng.random::<bool>() { spike } else { -spike };
            }
            y
        })
        .collect();
    let injected = inject(&mut ys, 10.0, &mut rng);
    (ys, injected)
}

/// The recalls above rest on one seed each; the ranking of extremes over time is
/// what decides them, and it holds over six more. Student-t(4) with ±12 (seeds
/// 301–306): every recall at least 0.95, measured 0.954–0.975 (0.87–0.93 before the
/// tails were scored with their remembered shapes, `AnomalyDetector`'s *p-values*);
/// the paper's series with ±10 (seeds 201–206): mean recall at least 0.7, measured
/// 0.77 (0.64 before).
#[test]
fn recall_holds_over_more_seeds() {
    let t4 = StudentT::new(4.0).unwrap();
    for seed in 301..=306 {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut ys: Vec<f64> = (0..N).map(|_| 10.0 + t4.sample(&mut rng)).collect();
        let injected = inject(&mut ys, 12.0, &mut rng);
        let r = rates(DetectorConfig::default(), &ys, &injected);
        report(&format!("student-t(4), ±12, seed {seed}"), &r);
        assert!(r.recall >= 0.95, "seed {seed}: recall {}", r.recall);
    }
    let config = DetectorConfig::default()
        .forecaster(ForecasterConfig::default().location(LocationModel::Seasonal { period: 100 }));
    let mut mean = 0.0;
    for seed in 201..=206 {
        let (ys, injected) = paper_series(seed);
        let r = rates(config.clone(), &ys, &injected);
        report(&format!("paper series, ±10, seed {seed}"), &r);
        mean += r.recall / 6.0;
    }
    assert!(mean >= 0.7, "mean recall {mean}");
}

/// A larger window reduces the plug-in error: on the clean Student-t(4) series the
/// false-alarm rate without exclusion falls from 1.2e-3 (window 1,000) to 1.1e-3
/// (window 5,000), measured (1.6e-3 and 1.2e-3 before the tails were scored with
/// their remembered shapes, which take much of the plug-in error out at 1,000).
#[test]
fn larger_windows_extrapolate_better() {
    let mut rng = StdRng::seed_from_u64(300);
    let t4 = StudentT::new(4.0).unwrap();
    let clean: Vec<f64> = (0..N).map(|_| 10.0 + t4.sample(&mut rng)).collect();
    let none = vec![false; N];
    let small = rates(
        DetectorConfig::default().exclude_anomalies(false),
        &clean,
        &none,
    );
    let large = rates(
        DetectorConfig::default()
            .exclude_anomalies(false)
            .forecaster(ForecasterConfig::default().window(5000)),
        &clean,
        &none,
    );
    report("student-t(4), window 5000", &large);
    assert!(large.false_alarms < small.false_alarms);
    assert!(large.false_alarms <= 2e-3, "{}", large.false_alarms);
}

/// A burst of spikes, alternating in size, that never stays eight steps beyond the
/// 1 % point: every one is flagged with exclusion on, and afterwards the band is
/// where it was. With exclusion off the burst widens the band and later spikes pass.
#[test]
fn a_burst_of_spikes_does_not_teach_the_model() {
    let mut rng = StdRng::seed_from_u64(400);
    let noise = Normal::new(0.0, 1.0).unwrap();
    let mut ys: Vec<f64> = (0..6000).map(|_| noise.sample(&mut rng)).collect();
    // 20 spikes of +8 sd among 30 steps: runs of two spikes, one ordinary value.
    let spikes: Vec<usize> = (3000..3030).filter(|t| (t - 3000) % 3 != 2).collect();
    for &t in &spikes {
        ys[t] += 8.0;
    }
    let config = |exclude| {
        DetectorConfig::default()
            .exclude_anomalies(exclude)
            .forecaster(ForecasterConfig::default().window(500).refit_every(5))
    };
    let mut on = AnomalyDetector::new(config(true)).unwrap();
    let mut off = AnomalyDetector::new(config(false)).unwrap();
    let v_on = on.score(&ys).unwrap();
    let v_off = off.score(&ys).unwrap();
    assert!(
        spikes
            .iter()
            .all(|&t| v_on[t].is_anomaly && v_on[t].excluded)
    );
    assert!(v_on.iter().all(|v| !v.regime_change));
    let flagged_off = spikes.iter().filter(|&&t| v_off[t].is_anomaly).count();
    assert!(flagged_off < 20, "{flagged_off}");
    let before = v_on[2999].upper - v_on[2999].location;
    let after = v_on[3040].upper - v_on[3040].location;
    assert!(
        (after - before).abs() < 0.05 * before,
        "{before} -> {after}"
    );
    let after_off = v_off[3040].upper - v_off[3040].location;
    assert!(after_off > 1.5 * before, "{before} -> {after_off}");
}

/// A permanent shift of +10 sd is a regime change: reported once, after eight
/// flagged observations, and the detector is quiet in the new regime at once. With
/// regime changes out of reach (a location fixed at 0) the run limit (25) still
/// lets the new level in eventually, and so does the bound on the excluded share
/// with an unlimited run.
#[test]
fn a_level_shift_is_a_regime_change() {
    let mut rng = StdRng::seed_from_u64(500);
    let noise = Normal::new(0.0, 1.0).unwrap();
    let ys: Vec<f64> = (0..8000)
        .map(|t| noise.sample(&mut rng) + if t >= 3000 { 10.0 } else { 0.0 })
        .collect();
    let base = ForecasterConfig::default().window(500);
    let mut detector =
        AnomalyDetector::new(DetectorConfig::default().forecaster(base.clone())).unwrap();
    let v = detector.score(&ys).unwrap();
    // Ten noise scales: the forecasts move to the new level after four
    // observations far out, the change is confirmed (and reported) after four more;
    // until then alarms are raised against the old level.
    assert!(v[3000..3008].iter().all(|v| v.is_anomaly));
    assert!(v[3000..3004].iter().all(|v| v.excluded));
    let changes: Vec<usize> = (0..v.len()).filter(|&t| v[t].regime_change).collect();
    assert_eq!(changes, [3007]);
    let forecast_at = |t: usize| {
        let mut d =
            AnomalyDetector::new(DetectorConfig::default().forecaster(base.clone())).unwrap();
        d.score(&ys[..t]).unwrap();
        d.forecaster().forecast().unwrap().location()
    };
    assert!(forecast_at(3003) < 2.0 && forecast_at(3004) > 8.0);
    let after = v[3008..].iter().filter(|v| v.is_anomaly).count();
    assert!(after <= 10, "{after} alarms after the shift");

    let fixed = base.location(LocationModel::None);
    let mut limited =
        AnomalyDetector::new(DetectorConfig::default().forecaster(fixed.clone())).unwrap();
    let v = limited.score(&ys).unwrap();
    assert!(v[3000..3025].iter().all(|v| v.is_anomaly && v.excluded));
    let late = v[4000..].iter().filter(|v| v.is_anomaly).count();
    assert!(late <= 10, "{late} alarms long after the shift");
    // Without the run limit, the bound on the excluded share (5 % of the window)
    // lets the new level in, later.
    let mut unlimited = AnomalyDetector::new(
        DetectorConfig::default()
            .forecaster(fixed)
            .max_excluded_run(usize::MAX),
    )
    .unwrap();
    let v = unlimited.score(&ys).unwrap();
    assert!(v[3000..3030].iter().all(|v| v.is_anomaly && v.excluded));
    let late = v[4000..].iter().filter(|v| v.is_anomaly).count();
    assert!(late <= 10, "{late} alarms long after the shift");
}

/// Each side flags only its own tail; the band says which values are anomalies.
#[test]
fn sides_and_band() {
    let mut rng = StdRng::seed_from_u64(600);
    let noise = Normal::new(0.0, 1.0).unwrap();
    let ys: Vec<f64> = (0..3000).map(|_| noise.sample(&mut rng)).collect();
    for side in [Side::Upper, Side::Lower, Side::TwoSided] {
        let mut d = AnomalyDetector::new(
            DetectorConfig::default()
                .side(side)
                .forecaster(ForecasterConfig::default().window(500)),
        )
        .unwrap();
        d.score(&ys).unwrap();
        let mut probe = d.clone();
        let high = probe.update(12.0).unwrap();
        let mut probe = d.clone();
        let low = probe.update(-12.0).unwrap();
        let mut probe = d.clone();
        let mid = probe.update(0.0).unwrap();
        assert!(!mid.is_anomaly && mid.p_value > 0.3, "{side:?} {mid:?}");
        assert_eq!(high.is_anomaly, side != Side::Lower, "{side:?}");
        assert_eq!(low.is_anomaly, side != Side::Upper, "{side:?}");
        // The band agrees with the flags, and one-sided bands are open on the other
        // side.
        for v in [high, low, mid] {
            let y = if v == high {
                12.0
            } else if v == low {
                -12.0
            } else {
                0.0
            };
            assert_eq!(
                v.is_anomaly,
                !(v.lower..=v.upper).contains(&y),
                "{side:?} {v:?}"
            );
        }
        assert_eq!(side == Side::Lower, mid.upper == f64::INFINITY);
        assert_eq!(side == Side::Upper, mid.lower == f64::NEG_INFINITY);
        // p-values in the body: upper = sf, lower = cdf, two-sided = 2 min, raised
        // by the recalibration by at most its largest factor, 10. (Beyond the
        // thresholds the detector scores the tails with its remembered shapes,
        // not the newest fit's.)
        let f = d.forecaster().forecast().unwrap();
        let factor = d.calibration_factor();
        assert!((1.0..=10.0).contains(&factor));
        let raw: f64 = match side {
            Side::Upper => f.sf(0.0),
            Side::Lower => f.cdf(0.0),
            Side::TwoSided => 2.0 * f.cdf(0.0).min(f.sf(0.0)),
        };
        let p = mid.p_value;
        assert!(
            p >= raw.min(1.0) * (1.0 - 1e-12) && p <= (raw * 10.0).min(1.0) * (1.0 + 1e-12),
            "{side:?}: {raw} -> {p}"
        );
        assert!((high.score + high.p_value.log10()).abs() < 1e-9);
    }
}

/// Every scored verdict names the tail its p-value was measured in: a one-sided
/// detector its own, a two-sided one the nearer tail (the one with the smaller
/// probability), so a two-sided alarm says whether the value was too high or too
/// low. Unscored verdicts (warm-up, missing) name none.
#[test]
fn verdicts_name_the_tail_of_their_p_value() {
    let mut rng = StdRng::seed_from_u64(700);
    let noise = StudentT::new(3.0).unwrap();
    let mut ys: Vec<f64> = (0..4000).map(|_| noise.sample(&mut rng)).collect();
    for t in (1000..4000).step_by(97) {
        ys[t] += if t % 2 == 0 { 15.0 } else { -15.0 };
    }
    ys[2000] = f64::NAN;
    for side in [Side::Upper, Side::Lower, Side::TwoSided] {
        let config = DetectorConfig::default()
            .side(side)
            .forecaster(ForecasterConfig::default().window(500));
        let mut d = AnomalyDetector::new(config).unwrap();
        let (mut high, mut low) = (0, 0);
        for &y in &ys {
            let forecast = d.forecaster().forecast().ok().map(|f| (f.cdf(y), f.sf(y)));
            let v = d.update(y).unwrap();
            let Some((cdf, sf)) = forecast.filter(|_| !y.is_nan()) else {
                assert!(v.warming_up || v.missing);
                assert_eq!(v.side, Side::TwoSided);
                continue;
            };
            match side {
                Side::TwoSided => {
                    let nearer = if cdf < sf { Side::Lower } else { Side::Upper };
                    // Deep in the tails the two are far apart; near the median the
                    // log-scale comparison may round differently.
                    if (cdf - sf).abs() > 1e-9 {
                        assert_eq!(v.side, nearer, "y = {y}: cdf {cdf}, sf {sf}");
                    }
                }
                one => assert_eq!(v.side, one),
            }
            if v.is_anomaly {
                // Alarms are on the side of the value: the spikes are ±15.
                let sign = if y > v.location {
                    Side::Upper
                } else {
                    Side::Lower
                };
                assert_eq!(v.side, sign, "{v:?}");
                if sign == Side::Upper {
                    high += 1;
                } else {
                    low += 1;
                }
            }
        }
        // Verdicts saved before the field existed read back with no tail (a
        // two-sided verdict: a one-sided band has an infinite end, which JSON cannot
        // hold).
        if side == Side::TwoSided {
            let v = d.update(30.0).unwrap();
            let mut json = serde_json::to_value(v).unwrap();
            assert_eq!(json["side"], serde_json::json!("Upper"));
            json.as_object_mut().unwrap().remove("side");
            let old: tailcast::Verdict = serde_json::from_value(json).unwrap();
            assert_eq!(old.side, Side::TwoSided);
        }
        match side {
            Side::Upper => assert!(high >= 14 && low == 0, "{high} {low}"),
            Side::Lower => assert!(low >= 14 && high == 0, "{high} {low}"),
            Side::TwoSided => assert!(high >= 14 && low >= 14, "{high} {low}"),
        }
    }
}

/// Series without noise (a sine, a ramp, a square wave, a daily plateau, as in
/// synthetic test corpora): no alarm, although the residual law collapses to the
/// location model's rounding errors, and a spike of a tenth of the range is still
/// flagged (on the square wave and the plateau, whose jumps of 60 the level model
/// learns as residuals, a spike of ten ranges). Before the resolution floor (`AnomalyDetector`'s *p-values*), the sine
/// gave 29 alarms in 4,032 points.
#[test]
fn noise_free_series_raise_no_alarm_but_spikes_on_them_do() {
    let n = 4032;
    let day = |t: usize| (t % 288) as f64 / 12.0;
    let series: [(&str, Vec<f64>); 4] = [
        (
            "sine",
            (0..n)
                .map(|t| 50.0 + 30.0 * (std::f64::consts::TAU * t as f64 / 288.0).sin())
                .collect(),
        ),
        ("ramp", (0..n).map(|t| t as f64 * 0.5).collect()),
        (
            "square",
            (0..n)
                .map(|t| if (t / 144) % 2 == 0 { 20.0 } else { 80.0 })
                .collect(),
        ),
        (
            "plateau",
            (0..n)
                .map(|t| {
                    if (8.0..18.0).contains(&day(t)) {
                        80.0
                    } else {
                        20.0
                    }
                })
                .collect(),
        ),
    ];
    for (name, ys) in series {
        let v = AnomalyDetector::new(DetectorConfig::default())
            .unwrap()
            .score(&ys)
            .unwrap();
        let alarms = v.iter().filter(|v| v.is_anomaly).count();
        assert_eq!(alarms, 0, "{name}");
        let mut spiked = ys.clone();
        spiked[3000] += if matches!(name, "square" | "plateau") {
            600.0
        } else {
            6.0
        };
        let v = AnomalyDetector::new(DetectorConfig::default())
            .unwrap()
            .score(&spiked)
            .unwrap();
        assert!(v[3000].is_anomaly, "{name}: {:?}", v[3000]);
    }
}

/// The noise grows five times while the level stays: a change of scale, reported
/// once within a few dozen steps, the window rescaled to it. Before the scale watch
/// (`AnomalyDetector`'s *Regime changes*) the new regime was flagged about 100 times.
#[test]
fn a_jump_in_variance_is_a_regime_change() {
    let mut rng = StdRng::seed_from_u64(700);
    let noise = Normal::new(0.0, 1.0).unwrap();
    let ys: Vec<f64> = (0..6000)
        .map(|t| noise.sample(&mut rng) * if t >= 3000 { 5.0 } else { 1.0 })
        .collect();
    let v = AnomalyDetector::new(DetectorConfig::default())
        .unwrap()
        .score(&ys)
        .unwrap();
    let changes: Vec<usize> = (0..v.len()).filter(|&t| v[t].regime_change).collect();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert!((3000..3040).contains(&changes[0]), "{changes:?}");
    let after = v[3000..].iter().filter(|v| v.is_anomaly).count();
    assert!(after <= 15, "{after} alarms after the jump");
}

/// A sensor that comes alive after a flat stretch, and a counter that starts
/// counting after a run of zeros: the old window has no spread to rescale, so a
/// change of scale (or of level) restarts it from the new regime's residuals.
/// Measured over seeds 1–3: 18–41 and 27–50 alarms (123–174 and 82–93 before).
#[test]
fn a_flat_start_does_not_lock_the_detector_out() {
    use rand_distr::Poisson;
    for seed in 1..=3u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let noise = Normal::new(0.0, 1.0).unwrap();
        let counts = Poisson::new(3.0).unwrap();
        let alive: Vec<f64> = (0..6000)
            .map(|t| {
                if t < 1500 {
                    5.0
                } else {
                    5.0 + noise.sample(&mut rng)
                }
            })
            .collect();
        let counting: Vec<f64> = (0..6000)
            .map(|t| {
                if t < 2000 {
                    0.0
                } else {
                    10.0 + counts.sample(&mut rng)
                }
            })
            .collect();
        for (name, ys, start) in [("alive", alive, 1500), ("counting", counting, 2000)] {
            let v = AnomalyDetector::new(DetectorConfig::default())
                .unwrap()
                .score(&ys)
                .unwrap();
            let change = (0..v.len()).find(|&t| v[t].regime_change);
            assert!(
                change.is_some_and(|t| (start..start + 20).contains(&t)),
                "{name}, seed {seed}: {change:?}"
            );
            let alarms = v.iter().filter(|v| v.is_anomaly).count();
            assert!(alarms <= 60, "{name}, seed {seed}: {alarms} alarms");
        }
    }
}

/// Bursts of four to seven observations far out (+20 sd): the forecasts move to
/// the burst's level after four (a provisional change of level), the return to
/// the old level undoes it, and alarms are raised against the old level meanwhile:
/// every point of every burst is flagged, no regime change is reported, and no
/// alarm follows a burst (the same as before short runs moved the forecasts).
#[test]
fn short_bursts_far_out_are_not_regime_changes() {
    for len in 4..=7usize {
        let mut rng = StdRng::seed_from_u64(len as u64);
        let noise = Normal::new(0.0, 1.0).unwrap();
        let mut ys: Vec<f64> = (0..30_000).map(|_| noise.sample(&mut rng)).collect();
        let mut burst = vec![false; ys.len()];
        for start in (3000..29_000).step_by(1000) {
            for t in start..start + len {
                ys[t] += 20.0;
                burst[t] = true;
            }
        }
        let v = AnomalyDetector::new(DetectorConfig::default())
            .unwrap()
            .score(&ys)
            .unwrap();
        assert!(v.iter().all(|v| !v.regime_change), "bursts of {len}");
        let missed = (0..ys.len())
            .filter(|&t| burst[t] && !v[t].is_anomaly)
            .count();
        assert_eq!(missed, 0, "bursts of {len}");
        // The band the alarms are raised against is the old level's.
        let outside = (0..ys.len())
            .filter(|&t| burst[t] && ys[t] > v[t].upper)
            .count();
        assert_eq!(outside, len * 26, "bursts of {len}");
        let after = (3000..29_000)
            .step_by(1000)
            .filter(|&s| (s + len..s + len + 20).any(|t| v[t].is_anomaly))
            .count();
        assert_eq!(after, 0, "bursts of {len}: {after} followed by alarms");
    }
}
