//! The real-world pathology generators: shapes of the labels, calibration of the
//! oracle, the share of zeros, and the oracle's CRPS against numerical integration.

mod common;

use common::{assert_close, integrate};
use rand::SeedableRng;
use rand::rngs::StdRng;
use tailcast::metrics::{Crps, ks_uniform, randomized_pit};
use tailcast::synthetic::{
    ANOMALY_SKIP, LabelledSeries, ScoringConfig, StepLaw, crps_ratio, drifting_scale, level_shifts,
    normal_bursts, pathology_suite, regime_switching, score_detection, zero_inflated_counts,
};
use tailcast::{AnomalyDetector, DetectorConfig, Error};

const N: usize = 20_000;

fn suite() -> Vec<(&'static str, LabelledSeries)> {
    pathology_suite(11, N).unwrap()
}

#[test]
fn labels_have_the_right_shapes() {
    for (name, s) in suite() {
        let n = s.values.len();
        assert_eq!(n, N, "{name}");
        assert_eq!(s.oracle.len(), n, "{name}");
        assert_eq!(s.anomaly_lengths.len(), s.anomalies.len(), "{name}");
        assert_eq!(s.shift_sizes.len(), s.shifts.len(), "{name}");
        assert!(s.values.iter().all(|v| v.is_finite()), "{name}");
        assert!(s.anomalies.windows(2).all(|w| w[0] < w[1]), "{name}");
        assert!(s.shifts.windows(2).all(|w| w[0] < w[1]), "{name}");
        assert!(s.shifts.iter().all(|&t| t < n), "{name}");
        for (&a, &len) in s.anomalies.iter().zip(&s.anomaly_lengths) {
            assert!(
                a >= ANOMALY_SKIP && len >= 1 && a + len <= n,
                "{name}: {a} + {len}"
            );
        }
        assert!(
            s.anomalies.len() >= 5,
            "{name}: {} anomalies",
            s.anomalies.len()
        );
        // Point anomalies stay clear of the shifts' transitions.
        if s.anomaly_lengths.iter().all(|&l| l == 1) {
            for &a in &s.anomalies {
                assert!(
                    s.shifts.iter().all(|&t| a + 20 < t || a >= t + 300),
                    "{name}: {a}"
                );
            }
        }
    }
}

#[test]
fn shifts_match_the_oracle() {
    for (name, s) in suite() {
        for (&t, &size) in s.shifts.iter().zip(&s.shift_sizes) {
            let (before, after) = (&s.oracle[t - 1], &s.oracle[t]);
            let jump = (after.mean() - before.mean()).abs();
            let scale = before.scale().max(after.scale());
            if name == "flat_lines" {
                assert_eq!(size, 0.0);
            } else {
                assert_close(jump / scale, size, 1e-9, 1e-9, name);
            }
        }
    }
}

/// PIT values of the non-anomalous points under the oracle (randomised on atoms).
fn oracle_pit(s: &LabelledSeries, rng: &mut StdRng) -> Vec<f64> {
    let anomalous = s.anomalous_mask();
    s.values
        .iter()
        .zip(&s.oracle)
        .zip(anomalous)
        .filter(|(_, bad)| !bad)
        .map(|((&y, law), _)| randomized_pit(law.cdf_left(y), law.cdf(y), rng).unwrap())
        .collect()
}

#[test]
fn oracle_pit_of_clean_points_is_uniform() {
    let mut rng = StdRng::seed_from_u64(99);
    for (name, s) in suite() {
        let pit = oracle_pit(&s, &mut rng);
        let ks = ks_uniform(&pit).unwrap();
        assert!(ks.p_value > 1e-3, "{name}: KS p-value {}", ks.p_value);
    }
}

#[test]
fn anomalies_are_far_out_under_the_oracle() {
    for (name, s) in suite() {
        if name == "flat_lines" {
            continue; // a stuck value is an ordinary value
        }
        for &a in &s.anomalies {
            let (law, y) = (&s.oracle[a], s.values[a]);
            let p = 2.0 * law.cdf(y).min(1.0 - law.cdf_left(y));
            assert!(p < 1e-4, "{name} at {a}: y = {y}, two-sided p = {p}");
        }
    }
}

#[test]
fn thirty_percent_zeros() {
    let s = zero_inflated_counts(N, 0.3, 6.0, &mut StdRng::seed_from_u64(5)).unwrap();
    let zeros = s.values.iter().filter(|&&v| v == 0.0).count() as f64 / N as f64;
    assert!((zeros - 0.3).abs() < 0.03, "{zeros}");
    for law in &s.oracle {
        assert_close(law.cdf(0.0), 0.3, 1e-12, 1e-12, "P(0)");
    }
}

/// `∫ (F(x) - 1{x >= y})² dx` numerically over `[lo, hi]` plus the exact outside,
/// in pieces cut at `y`, geometrically around the centre and `y`, and at the integers
/// (where a count law jumps).
fn crps_by_integration(law: &StepLaw, y: f64, lo: f64, hi: f64) -> f64 {
    let mut cuts: Vec<f64> = vec![lo, y.clamp(lo, hi), hi];
    // Geometric cuts around the centre and around y, so the adaptive rule sees the
    // body of a law on a wide range.
    for centre in [law.mean(), y] {
        for k in -2..=10 {
            let d = 10f64.powf(k as f64 / 2.0);
            cuts.extend([centre - d, centre + d].map(|c| c.clamp(lo, hi)));
        }
    }
    if law.is_discrete() {
        cuts.extend((lo.ceil() as i64..=hi.floor() as i64).map(|k| k as f64));
    }
    cuts.sort_by(f64::total_cmp);
    cuts.dedup();
    let f = |x: f64| {
        let d = law.cdf(x) - if x >= y { 1.0 } else { 0.0 };
        d * d
    };
    let body: f64 = cuts
        .windows(2)
        .map(|w| integrate(&f, w[0], w[1], 1e-12))
        .sum();
    // Beyond [lo, hi] F is 0 below, 1 above (lo, hi chosen far out), except for y there.
    body + (lo - y).max(0.0) + (y - hi).max(0.0)
}

#[test]
fn crps_closed_forms_match_integration() {
    let laws = [
        (StepLaw::Normal { mean: 2.0, sd: 0.7 }, -20.0, 25.0),
        (
            StepLaw::StudentT {
                location: -1.0,
                scale: 2.0,
                dof: 4.0,
            },
            -1e5,
            1e5,
        ),
        (StepLaw::Poisson { mean: 3.5 }, -1.0, 60.0),
        (
            StepLaw::ZeroInflatedPoisson {
                zero_prob: 0.3,
                mean: 6.0,
            },
            -1.0,
            80.0,
        ),
        (
            StepLaw::Mixture(vec![
                (
                    0.93,
                    StepLaw::Normal {
                        mean: 50.0,
                        sd: 1.0,
                    },
                ),
                (
                    0.07,
                    StepLaw::Gpd {
                        location: 50.0,
                        scale: 2.0,
                        shape: 0.2,
                    },
                ),
            ]),
            30.0,
            3e4,
        ),
    ];
    for (law, lo, hi) in &laws {
        for y in [-3.0, 0.0, 0.4, 2.0, 4.0, 7.0, 49.0, 50.5, 58.0, 300.0] {
            let numeric = crps_by_integration(law, y, *lo, *hi);
            // Student-t: the integral beyond ±1e5 is O(1e5^-7), negligible.
            assert_close(law.crps(y), numeric, 1e-7, 1e-8, &format!("{law:?} at {y}"));
        }
    }
}

#[test]
fn normal_crps_agrees_with_the_metrics_module() {
    let law = StepLaw::Normal {
        mean: -3.0,
        sd: 2.5,
    };
    let reference = statrs::distribution::Normal::new(-3.0, 2.5).unwrap();
    for y in [-40.0, -3.0, 0.1, 9.0] {
        assert_close(law.crps(y), reference.crps(y), 1e-13, 1e-14, "normal");
    }
}

#[test]
fn bad_parameters_are_typed_errors() {
    let mut rng = StdRng::seed_from_u64(0);
    assert!(matches!(
        zero_inflated_counts(10, 1.5, 6.0, &mut rng),
        Err(Error::ProbabilityOutOfRange {
            name: "zero_fraction",
            ..
        })
    ));
    assert!(matches!(
        zero_inflated_counts(10, 0.3, 0.5, &mut rng),
        Err(Error::ParameterOutOfRange { name: "mean", .. })
    ));
    assert!(matches!(
        regime_switching(10, 100.0, 30.0, &mut rng),
        Err(Error::ParameterOutOfRange { name: "high", .. })
    ));
    assert!(matches!(
        level_shifts(10, 1.0, &mut rng),
        Err(Error::ParameterOutOfRange { name: "dof", .. })
    ));
    assert!(matches!(
        normal_bursts(10, 0.07, 1.0, &mut rng),
        Err(Error::ParameterOutOfRange {
            name: "tail_shape",
            ..
        })
    ));
    assert!(matches!(
        drifting_scale(10, f64::NAN, &mut rng),
        Err(Error::NonFiniteParameter { name: "factor", .. })
    ));
}

#[test]
fn generators_are_deterministic_and_handle_short_series() {
    assert_eq!(
        pathology_suite(3, 2_500).unwrap(),
        pathology_suite(3, 2_500).unwrap()
    );
    for (name, s) in pathology_suite(3, 10).unwrap() {
        assert_eq!(s.values.len(), 10, "{name}");
        assert!(s.anomalies.is_empty(), "{name}");
    }
    assert!(
        pathology_suite(3, 0)
            .unwrap()
            .iter()
            .all(|(_, s)| s.values.is_empty())
    );
}

#[test]
fn scoring_a_perfect_detector() {
    let s = level_shifts(6_000, 4.0, &mut StdRng::seed_from_u64(8)).unwrap();
    let mut verdicts = AnomalyDetector::new(DetectorConfig::default())
        .unwrap()
        .score(&s.values)
        .unwrap();
    // Overwrite the alarms with the truth, one step late.
    for v in verdicts.iter_mut() {
        v.is_anomaly = false;
    }
    for &a in &s.anomalies {
        verdicts[a + 1].is_anomaly = true;
    }
    let report = score_detection(&s, &verdicts, &ScoringConfig::default()).unwrap();
    assert_eq!(report.detected, report.anomalies);
    assert_eq!(report.mean_delay(), 1.0);
    assert_eq!(report.false_alarms, 0);
    assert_eq!(report.alarm_runs_after_shifts, 0);
    assert_eq!(report.scored, 5_000);
    // The oracle against itself.
    let oracle = s.oracle_crps();
    let (ratio, steps) = crps_ratio(&oracle, &oracle, &vec![true; s.values.len()]).unwrap();
    assert_eq!((ratio, steps), (1.0, 6_000));
}
