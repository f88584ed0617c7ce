//! Scores a detector's verdicts and a forecaster's CRPS against a [`LabelledSeries`]:
//! false alarms on clean points, event recall and delay, alarm runs after shifts.

use serde::{Deserialize, Serialize};

use super::pathologies::LabelledSeries;
use crate::anomaly::Verdict;
use crate::error::{Error, Result};

/// The windows of [`score_detection`], in time steps.
///
/// | field | default | meaning |
/// |---|---|---|
/// | `tolerance` | 3 | an anomaly spanning `[a, a + len)` is detected by an alarm in `[a, a + len + tolerance)` |
/// | `after_anomaly` | 10 | steps after an anomaly ends that are not clean |
/// | `after_shift` | 50 | steps from a shift on that are not clean (the transition) |
/// | `shift_window` | 500 | steps from a shift on (up to the next shift) in which alarm runs are counted |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoringConfig {
    /// Steps after an anomaly's end within which an alarm still detects it.
    pub tolerance: usize,
    /// Steps after an anomaly's end that are not clean.
    pub after_anomaly: usize,
    /// Steps from a shift on that are not clean.
    pub after_shift: usize,
    /// Steps from a shift on in which alarm runs are counted.
    pub shift_window: usize,
}

impl Default for ScoringConfig {
    fn default() -> Self {
        Self {
            tolerance: 3,
            after_anomaly: 10,
            after_shift: 50,
            shift_window: 500,
        }
    }
}

/// What [`score_detection`] counts. Only scored verdicts count (not warming up, not
/// missing).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct DetectionReport {
    /// Scored steps.
    pub scored: usize,
    /// Scored steps that are clean ([`LabelledSeries::clean_mask`] with the
    /// configuration's `after_anomaly` and `after_shift`).
    pub clean: usize,
    /// Alarms on clean steps.
    pub false_alarms: usize,
    /// Injected anomalies whose start was scored.
    pub anomalies: usize,
    /// Those with an alarm in `[a, a + len + tolerance)`.
    pub detected: usize,
    /// Sum over detected anomalies of (first alarm - start).
    pub total_delay: usize,
    /// Scored steps with a p-value of 0 or an infinite score.
    pub zero_p_values: usize,
    /// Shifts at scored steps.
    pub shifts: usize,
    /// Runs of consecutive alarms, none of them detecting an anomaly, starting within
    /// `shift_window` steps from a scored shift (and before the next shift).
    pub alarm_runs_after_shifts: usize,
}

impl DetectionReport {
    /// False alarms per 10,000 clean steps (NaN without clean steps).
    pub fn false_alarms_per_10k(&self) -> f64 {
        1e4 * self.false_alarms as f64 / self.clean as f64
    }

    /// Detected share of the scored anomalies (NaN without any).
    pub fn recall(&self) -> f64 {
        self.detected as f64 / self.anomalies as f64
    }

    /// Mean steps from an anomaly's start to its first alarm (NaN if none detected).
    pub fn mean_delay(&self) -> f64 {
        self.total_delay as f64 / self.detected as f64
    }

    /// Alarm runs after shifts per scored shift (NaN without shifts).
    pub fn alarm_runs_per_shift(&self) -> f64 {
        self.alarm_runs_after_shifts as f64 / self.shifts as f64
    }
}

/// Scores `verdicts[t]`, the verdict on `series.values[t]`, against the series'
/// labels (see [`DetectionReport`] and [`ScoringConfig`] for the definitions).
///
/// # Errors
///
/// [`Error::LengthMismatch`] if there is not one verdict per value.
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::{AnomalyDetector, DetectorConfig};
/// use tailcast::synthetic::{drifting_scale, score_detection, ScoringConfig};
/// use rand::SeedableRng;
/// let s = drifting_scale(4_000, 2.0, &mut rand::rngs::StdRng::seed_from_u64(1))?;
/// let verdicts = AnomalyDetector::new(DetectorConfig::default())?.score(&s.values)?;
/// let report = score_detection(&s, &verdicts, &ScoringConfig::default())?;
/// assert_eq!(report.scored, 3_000); // after the warm-up of 1,000
/// assert!(report.recall() >= 0.5);
/// # Ok(())
/// # }
/// ```
pub fn score_detection(
    series: &LabelledSeries,
    verdicts: &[Verdict],
    config: &ScoringConfig,
) -> Result<DetectionReport> {
    let n = series.values.len();
    if verdicts.len() != n {
        return Err(Error::LengthMismatch {
            name: "verdicts",
            expected: n,
            got: verdicts.len(),
        });
    }
    let scored: Vec<bool> = verdicts
        .iter()
        .map(|v| !v.warming_up && !v.missing)
        .collect();
    let alarm: Vec<bool> = verdicts.iter().map(|v| v.is_anomaly).collect();
    let clean = series.clean_mask(config.after_anomaly, config.after_shift);
    let mut report = DetectionReport::default();
    // Steps where an alarm detects an anomaly.
    let mut detecting = vec![false; n];
    for (&a, &len) in series.anomalies.iter().zip(&series.anomaly_lengths) {
        let end = a
            .saturating_add(len)
            .saturating_add(config.tolerance)
            .min(n);
        if a >= n {
            continue;
        }
        detecting[a..end].fill(true);
        if !scored[a] {
            continue;
        }
        report.anomalies += 1;
        if let Some(first) = (a..end).find(|&t| alarm[t]) {
            report.detected += 1;
            report.total_delay += first - a;
        }
    }
    for t in 0..n {
        if !scored[t] {
            continue;
        }
        report.scored += 1;
        if clean[t] {
            report.clean += 1;
            report.false_alarms += usize::from(alarm[t]);
        }
        let v = &verdicts[t];
        report.zero_p_values += usize::from(v.p_value == 0.0 || v.score == f64::INFINITY);
    }
    for (i, &s) in series.shifts.iter().enumerate() {
        if s >= n || !scored[s] {
            continue;
        }
        report.shifts += 1;
        let next = series.shifts.get(i + 1).copied().unwrap_or(n);
        let end = s.saturating_add(config.shift_window).min(next).min(n);
        let false_alarm = |t: usize| alarm[t] && !detecting[t];
        report.alarm_runs_after_shifts += (s..end)
            .filter(|&t| false_alarm(t) && (t == 0 || !false_alarm(t - 1)))
            .count();
    }
    Ok(report)
}

/// `Σ model / Σ reference` over the steps where `mask` is set and both are finite,
/// with the number of such steps: e.g. a forecaster's mean CRPS relative to the
/// oracle's on the same steps. NaN when no step qualifies.
///
/// # Errors
///
/// [`Error::LengthMismatch`] if the three slices differ in length.
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::synthetic::crps_ratio;
/// let (ratio, steps) = crps_ratio(&[2.0, f64::NAN, 3.0], &[1.0, 1.0, 1.0], &[true, true, false])?;
/// assert_eq!((ratio, steps), (2.0, 1));
/// # Ok(())
/// # }
/// ```
pub fn crps_ratio(model: &[f64], reference: &[f64], mask: &[bool]) -> Result<(f64, usize)> {
    for (name, len) in [("reference", reference.len()), ("mask", mask.len())] {
        if len != model.len() {
            return Err(Error::LengthMismatch {
                name,
                expected: model.len(),
                got: len,
            });
        }
    }
    let (mut num, mut den, mut steps) = (0.0, 0.0, 0);
    for ((&m, &r), &keep) in model.iter().zip(reference).zip(mask) {
        if keep && m.is_finite() && r.is_finite() {
            num += m;
            den += r;
            steps += 1;
        }
    }
    let ratio = if steps == 0 { f64::NAN } else { num / den };
    Ok((ratio, steps))
}
