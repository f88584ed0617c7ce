//! The default detector on the suite of real-world pathologies
//! (`tailcast::synthetic::pathology_suite`, 20,000 points per series, seed 2024, risk
//! 1e-3): false alarms, p-values, regime changes, counts with zeros, CRPS after level
//! shifts. `cargo run --release --example real_world` prints the same figures as a
//! table. The measured values are stated next to each bound.

use tailcast::events::{EventConfig, group_events};
use tailcast::metrics::Crps;
use tailcast::synthetic::{LabelledSeries, ScoringConfig, crps_ratio, score_detection};
use tailcast::{AnomalyDetector, DetectorConfig, Verdict};

const N: usize = 20_000;
const SEED: u64 = 2024;

struct Run {
    verdicts: Vec<Verdict>,
    /// One-step CRPS of the forecast each value was scored against (NaN in the
    /// warm-up).
    crps: Vec<f64>,
}

fn run(series: &LabelledSeries, config: DetectorConfig) -> Run {
    let mut detector = AnomalyDetector::new(config).unwrap();
    let mut verdicts = Vec::with_capacity(series.values.len());
    let mut crps = Vec::with_capacity(series.values.len());
    for &y in &series.values {
        crps.push(match detector.forecaster().forecast() {
            Ok(f) => f.residual().crps(y - f.location()),
            Err(_) => f64::NAN,
        });
        verdicts.push(detector.update(y).unwrap());
    }
    Run { verdicts, crps }
}

fn suite() -> Vec<(&'static str, LabelledSeries)> {
    tailcast::synthetic::pathology_suite(SEED, N).unwrap()
}

/// False alarms per 10,000 clean points, at risk 1e-3 (nominal 10). Measured:
/// counts 5.9, regime switching 4.9, level shifts 11.0, normal bursts 3.2, flat
/// lines 5.3, drifting scale 9.6, daily/weekly 6.9 (since the tails are scored
/// with their remembered shapes and the recalibration follows a power law below
/// the risk level; seeds 1–6: level shifts 14.2, was 19.8). Level shifts under
/// Student-t(3–5) noise were at 19.8 (and drifting scale at 10.1) before the
/// detector's recalibration measured the share of p-values just below the risk
/// level: the GPD fitted to a 1,000-point window's 50 exceedances is too light where
/// alarms are raised, and leaving the flagged values out of the window thins it
/// further. The target, 15 (1.5 × the risk level), now holds on every series.
/// Recall of the injected anomalies is at least 0.95 on every series but flat
/// lines, where a stuck value inside the normal range is not improbable (0.30).
#[test]
fn false_alarms_and_recall_on_every_pathology() {
    for (name, series) in suite() {
        let r = run(&series, DetectorConfig::default());
        let report = score_detection(&series, &r.verdicts, &ScoringConfig::default()).unwrap();
        let fa = report.false_alarms_per_10k();
        eprintln!(
            "{name}: {fa:.1} false alarms per 10k, recall {:.2}",
            report.recall()
        );
        assert!(fa <= 15.0, "{name}: {fa} false alarms per 10k");
        let recall = if name == "flat_lines" { 0.25 } else { 0.95 };
        assert!(
            report.recall() >= recall,
            "{name}: recall {}",
            report.recall()
        );
        if name == "level_shifts" {
            let imputed = run(&series, DetectorConfig::default().impute_excluded(true));
            let report =
                score_detection(&series, &imputed.verdicts, &ScoringConfig::default()).unwrap();
            assert!(report.false_alarms_per_10k() <= 16.0, "{report:?}");
        }
    }
}

/// No finite value is impossible: every scored verdict of every series has a
/// positive p-value and a finite score.
#[test]
fn no_zero_p_value_anywhere() {
    for (name, series) in suite() {
        let r = run(&series, DetectorConfig::default());
        for (t, v) in r.verdicts.iter().enumerate() {
            if v.warming_up || v.missing {
                continue;
            }
            assert!(
                v.p_value > 0.0 && v.score.is_finite(),
                "{name} at {t}: {v:?}"
            );
        }
    }
}

/// Two-regime switching (levels 30 and 100, noise 10 % of the level, 13 switches):
/// at most two events (alarms grouped with the default re-arm rule) that detect no
/// injected anomaly start within the transition (150 steps: the detection, the
/// relearning period and its scale check) after each switch, at most 1.5 on
/// average within 500 steps (beyond the transition, chance alarms at the risk
/// level add about 0.35), and each switch is reported as a regime change within
/// 20 steps. Measured: 1.3 events per switch within 500 steps.
#[test]
fn a_regime_switch_is_one_event_and_one_regime_change() {
    let series = suite()
        .into_iter()
        .find(|(name, _)| *name == "regime_switching")
        .unwrap()
        .1;
    let r = run(&series, DetectorConfig::default());
    let events = group_events(&r.verdicts, EventConfig::default()).unwrap();
    let anomalous = series.anomalous_mask();
    let scored_switches: Vec<usize> = series
        .shifts
        .iter()
        .copied()
        .filter(|&s| !r.verdicts[s].warming_up)
        .collect();
    assert!(scored_switches.len() >= 5);
    let mut total = 0;
    for (i, &s) in scored_switches.iter().enumerate() {
        let next = scored_switches.get(i + 1).copied().unwrap_or(N);
        let end = (s + 500).min(next);
        let after: Vec<_> = events
            .iter()
            .filter(|e| (s as u64..end as u64).contains(&e.start))
            .filter(|e| !(e.start..=e.end).any(|t| anomalous[t as usize]))
            .collect();
        let transition = after.iter().filter(|e| e.start < s as u64 + 150).count();
        assert!(transition <= 2, "switch at {s}: {after:?}");
        total += after.len();
        let reported = (s..(s + 20).min(N)).any(|t| r.verdicts[t].regime_change);
        assert!(reported, "switch at {s} not reported");
    }
    let per_switch = total as f64 / scored_switches.len() as f64;
    eprintln!("{per_switch:.2} events per switch");
    assert!(per_switch <= 1.5, "{per_switch}");
}

/// Counts with 30 % zeros: no zero is flagged after the warm-up (a zero is an atom
/// of the series and gets its mid-p-value).
#[test]
fn no_zero_of_a_count_series_is_flagged() {
    let series = suite()
        .into_iter()
        .find(|(name, _)| *name == "zero_inflated_counts")
        .unwrap()
        .1;
    let zeros = series.values.iter().filter(|&&y| y == 0.0).count();
    assert!((0.25..0.35).contains(&(zeros as f64 / N as f64)));
    let r = run(&series, DetectorConfig::default());
    let flagged = series
        .values
        .iter()
        .zip(&r.verdicts)
        .filter(|(y, v)| **y == 0.0 && v.is_anomaly)
        .count();
    assert_eq!(flagged, 0);
}

/// After a level shift of at least 5 noise scales, the one-step CRPS over the next
/// 50–200 steps is within 10 % of the oracle's. Measured: level shifts 1.05, regime
/// switching 1.08.
#[test]
fn crps_after_shifts_is_near_the_oracle() {
    for name in ["level_shifts", "regime_switching"] {
        let series = suite().into_iter().find(|(n, _)| *n == name).unwrap().1;
        let r = run(&series, DetectorConfig::default());
        let oracle = series.oracle_crps();
        let clean = series.anomalous_mask();
        let mask: Vec<bool> = series
            .after_shift_mask(5.0, 50, 200)
            .iter()
            .zip(&clean)
            .map(|(&after, &anomalous)| after && !anomalous)
            .collect();
        let (ratio, steps) = crps_ratio(&r.crps, &oracle, &mask).unwrap();
        eprintln!("{name}: CRPS after shifts {ratio:.3} x the oracle over {steps} steps");
        assert!(steps >= 500, "{name}: {steps}");
        assert!(ratio <= 1.10, "{name}: {ratio}");
    }
}
