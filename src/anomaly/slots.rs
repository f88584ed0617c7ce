//! Lock-out of one slot of a season: when a seasonal location model's profile is
//! wrong at one time of the cycle (its warm-up had more spikes than ordinary values
//! at that time, say), every observation at that time is flagged, hence excluded,
//! hence never learned, and the same false alarm comes back every cycle.
//!
//! The detector watches each slot of the season (the time step modulo the period)
//! for [`RECUR`] exclusions in a row *in consecutive cycles*, on the same side and
//! mutually consistent (spread, max minus min, at most half the size of their
//! median): that is a wrong profile entry, not spikes, which neither repeat at one
//! time of day cycle after cycle nor agree in size. The entry is then moved by the
//! median residual. Slots are tracked for periods up to [`MAX_SLOTS`].

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Exclusions in a row at one slot that make it a wrong profile entry.
pub(crate) const RECUR: usize = 3;

/// The longest period whose slots are watched (memory: 32 bytes a slot).
pub(crate) const MAX_SLOTS: usize = 1 << 16;

/// The runs of exclusions per slot.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(try_from = "SlotsRepr")]
pub(crate) struct SlotWatch {
    /// Signed length of the run at each slot (positive: high values).
    runs: Vec<i8>,
    /// The run's residuals at each slot (the first `|run|`).
    residuals: Vec<[f64; RECUR]>,
}

#[derive(Deserialize)]
struct SlotsRepr {
    runs: Vec<i8>,
    residuals: Vec<[f64; RECUR]>,
}

impl TryFrom<SlotsRepr> for SlotWatch {
    type Error = Error;
    fn try_from(r: SlotsRepr) -> Result<Self> {
        if r.runs.len() != r.residuals.len() || r.runs.len() > MAX_SLOTS {
            return Err(Error::LengthMismatch {
                name: "slots.residuals",
                expected: r.runs.len(),
                got: r.residuals.len(),
            });
        }
        for (run, res) in r.runs.iter().zip(&r.residuals) {
            let n = run.unsigned_abs() as usize;
            if n >= RECUR || res[..n].iter().any(|x| !x.is_finite()) {
                return Err(Error::InvalidState {
                    reason: "a season slot's run is inconsistent",
                });
            }
        }
        Ok(Self {
            runs: r.runs,
            residuals: r.residuals,
        })
    }
}

impl SlotWatch {
    /// Takes the observation at time step `step` of a season of `period` steps:
    /// whether it was excluded, its side and its residual. Returns the correction
    /// of that slot's profile entry when a run completes. Allocates once, when the
    /// period is first seen.
    pub(crate) fn observe(
        &mut self,
        period: usize,
        step: u64,
        excluded: bool,
        upper: bool,
        residual: f64,
    ) -> Option<f64> {
        if !(2..=MAX_SLOTS).contains(&period) {
            return None;
        }
        if self.runs.len() != period {
            self.runs = vec![0; period];
            self.residuals = vec![[0.0; RECUR]; period];
        }
        let slot = (step % period as u64) as usize;
        let run = &mut self.runs[slot];
        if !excluded || !residual.is_finite() {
            *run = 0;
            return None;
        }
        if (*run > 0) != upper {
            *run = 0;
        }
        let n = run.unsigned_abs() as usize;
        self.residuals[slot][n] = residual;
        if n + 1 < RECUR {
            *run = if upper { *run + 1 } else { *run - 1 };
            return None;
        }
        *run = 0;
        let mut r = self.residuals[slot];
        r.sort_unstable_by(f64::total_cmp);
        let median = r[RECUR / 2];
        (r[RECUR - 1] - r[0] <= 0.5 * median.abs()).then_some(median)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_consistent_run_at_one_slot_is_a_correction() {
        let mut w = SlotWatch::default();
        for cycle in 0..RECUR as u64 {
            // Slot 7 of 10 is off by about -1.2 every cycle; others are fine.
            for step in 0..10 {
                let t = 10 * cycle + step;
                let bad = step == 7;
                let got = w.observe(
                    10,
                    t,
                    bad,
                    false,
                    if bad { -1.2 + 0.01 * cycle as f64 } else { 0.0 },
                );
                if bad && cycle + 1 == RECUR as u64 {
                    assert_eq!(got, Some(-1.19));
                } else {
                    assert_eq!(got, None);
                }
            }
        }
    }

    #[test]
    fn spikes_of_different_sizes_or_sides_are_not() {
        let mut w = SlotWatch::default();
        let sizes = [3.0, 40.0, 7.0];
        let got: Vec<_> = (0..RECUR)
            .map(|k| w.observe(5, 5 * k as u64, true, true, sizes[k]))
            .collect();
        assert!(got.iter().all(Option::is_none));
        let mut w = SlotWatch::default();
        let got: Vec<_> = (0..RECUR)
            .map(|k| {
                w.observe(
                    5,
                    5 * k as u64,
                    true,
                    k % 2 == 0,
                    if k % 2 == 0 { 1.0 } else { -1.0 },
                )
            })
            .collect();
        assert!(got.iter().all(Option::is_none));
        // Too long a period: not watched, nothing allocated.
        let mut w = SlotWatch::default();
        assert_eq!(w.observe(MAX_SLOTS + 1, 0, true, true, 1.0), None);
        assert!(w.runs.is_empty());
    }
}
