//! The robust filter every model shares: the redescending influence function `ψ`,
//! the running robust scale of one-step errors (with its restart after a run of
//! rejected errors on one side), and the starting state of the level and seasonal
//! models.

use super::Location;
use crate::numeric::{median, saturate};

/// Smoothing weight of the running robust scale of one-step errors: an effective
/// memory of about 20 errors, long enough that a few spikes barely move it.
pub(crate) const SCALE_SMOOTHING: f64 = 0.05;

/// Errors larger than this many scales are clipped in the scale update, so one spike
/// raises the scale by at most `SCALE_SMOOTHING · (SCALE_CLIP - 1)`, 10 %.
const SCALE_CLIP: f64 = 3.0;

/// This many consecutive rejected errors on one side restart the running scale: spikes
/// of random sign line up five in a row on one side with probability 1/16 even if
/// every error were rejected (and rejections are rare), so such a run is a shift.
pub(super) const SHIFT_RUN: u32 = 5;

/// `ψ` reaches 0 at this many clips (`2c`): errors beyond are rejected outright, and
/// errors between `c` and `2c` taper linearly rather than jump from `c` to 0.
pub(super) const REJECTION: f64 = 2.0;

/// The running scale never falls below this fraction of the location's magnitude:
/// on constant data it would otherwise collapse to 0 and no later change could be
/// learned (1e-12 is 10^4 ulps, far above rounding and far below any real noise).
const RELATIVE_SCALE_FLOOR: f64 = 1e-12;

/// The running scale's ceiling: keeps `SCALE_CLIP · s` and the rejection point
/// `REJECTION · k · s` finite for clips `k` up to 8.
pub(super) const MAX_SCALE: f64 = f64::MAX / 16.0;

/// The level starts from the median of the first `LEVEL_HEAD_TIME_CONSTANTS / α`
/// values (two time constants of the smoothing): the filter runs from the start of
/// the data, which may trend, so the whole warm-up's median would be stale.
const LEVEL_HEAD_TIME_CONSTANTS: f64 = 2.0;

/// ... and from at least this many values, so that one spike cannot set it.
const LEVEL_HEAD_MIN: usize = 5;

/// The redescending influence function: `r` inside `[-c, c]`, tapering linearly to 0
/// at `±2c`, 0 beyond.
#[inline]
pub(super) fn redescend(r: f64, c: f64) -> f64 {
    let a = r.abs();
    if a <= c {
        r
    } else if a < REJECTION * c {
        (REJECTION * c - a).copysign(r)
    } else {
        0.0
    }
}

/// A robust scale of one-step changes, to start the running scale.
pub(super) fn initial_scale(finite: &[f64]) -> f64 {
    let diffs: Vec<f64> = finite
        .windows(2)
        .map(|w| saturate(w[1] - w[0]).abs())
        .collect();
    let m = if diffs.is_empty() {
        0.0
    } else {
        median(&diffs)
    };
    let level = if finite.is_empty() {
        0.0
    } else {
        median(finite).abs()
    };
    m.max(RELATIVE_SCALE_FLOOR * level)
        .clamp(f64::MIN_POSITIVE, MAX_SCALE)
}

/// The starting level for smoothing weight `alpha`: the median of the first stretch
/// of the finite values (see [`LEVEL_HEAD_TIME_CONSTANTS`]).
pub(super) fn initial_level(finite: &[f64], alpha: f64) -> f64 {
    let head = (LEVEL_HEAD_TIME_CONSTANTS / alpha).ceil() as usize;
    median(&finite[..finite.len().min(head.max(LEVEL_HEAD_MIN))])
}

/// The starting level and seasonal profile of period `period` (time order, NaN =
/// missing; `finite` the finite values): the level is the median of all values, each
/// phase's profile the median of its deviations from it.
pub(super) fn initial_profile(data: &[f64], finite: &[f64], period: usize) -> (f64, Vec<f64>) {
    let level = median(finite);
    let mut profile = vec![0.0; period];
    let mut bucket = Vec::with_capacity(data.len() / period + 1);
    for (phase, p) in profile.iter_mut().enumerate() {
        bucket.clear();
        bucket.extend(
            data.iter()
                .skip(phase)
                .step_by(period)
                .filter(|x| x.is_finite())
                .map(|x| saturate(x - level)),
        );
        if !bucket.is_empty() {
            *p = saturate(median(&bucket));
        }
    }
    (level, profile)
}

impl Location {
    /// Feeds the one-step error `r` to the running robust scale.
    pub(super) fn update_scale(&mut self, r: f64) {
        let s = self.scale;
        // A run of errors beyond the rejection point, all on one side, is a level
        // shift, not a patch of spikes: restart the scale at the error's size (with the
        // clip, the next error is then learned) rather than growing it by 10 % a step,
        // which from a collapsed scale could take thousands of steps.
        if r.abs() >= REJECTION * self.tuning.clip * s {
            self.rejected = if r > 0.0 {
                self.rejected.max(0) + 1
            } else {
                self.rejected.min(0) - 1
            };
        } else {
            self.rejected = 0;
        }
        if self.rejected.unsigned_abs() >= SHIFT_RUN {
            self.rejected = 0;
            self.scale = (r.abs() / self.tuning.clip).clamp(f64::MIN_POSITIVE, MAX_SCALE);
            return;
        }
        let target = r.abs().min(SCALE_CLIP * s);
        let s = s + SCALE_SMOOTHING * (target - s);
        // A floor relative to the location keeps the clip from collapsing to zero on
        // constant data, so that a later change can still be learned (the scale then
        // grows by a factor 1 + 2·SCALE_SMOOTHING per step).
        self.scale = s
            .max(RELATIVE_SCALE_FLOOR * self.prediction.abs())
            .clamp(f64::MIN_POSITIVE, MAX_SCALE);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{TUNING, run, spiky};
    use super::super::{Location, LocationModel};

    #[test]
    fn level_is_not_dragged_by_spikes() {
        let data = spiky(4000, |_| 10.0, 0.25, 1);
        let (_, preds) = run(LocationModel::Level, &data, 200);
        let worst = preds.iter().map(|p| (p - 10.0).abs()).fold(0.0, f64::max);
        // A spike moves the level by at most α k s ≈ 0.08, and most spikes (beyond 2ks)
        // not at all; exponential smoothing with the same α and no clipping wanders by
        // about ±1 on these data (spike variance 8·0.15 = 1.2, level sd 0.25).
        assert!(worst < 0.3, "level strayed by {worst}");
    }

    #[test]
    fn seasonal_tracks_the_profile_through_spikes() {
        let period = 50;
        let f = |t: usize| 5.0 + (2.0 * std::f64::consts::PI * t as f64 / period as f64).sin();
        let data = spiky(6000, f, 0.2, 2);
        let (loc, preds) = run(LocationModel::Seasonal { period }, &data, 300);
        let errs: Vec<f64> = preds
            .iter()
            .enumerate()
            .skip(1000)
            .map(|(i, p)| (p - f(i + 300)).abs())
            .collect();
        let mean = errs.iter().sum::<f64>() / errs.len() as f64;
        assert!(mean < 0.12, "mean error {mean}");
        assert_eq!(loc.model(), LocationModel::Seasonal { period });
    }

    #[test]
    fn missing_values_move_the_clock_only() {
        let period = 4;
        let data: Vec<f64> = (0..40).map(|t| (t % period) as f64).collect();
        let mut res = Vec::new();
        let mut loc = Location::initialise(
            LocationModel::Seasonal { period },
            &data,
            TUNING,
            100,
            10,
            &mut res,
        )
        .unwrap();
        // Next phase is 0; skip two steps: the prediction is for phase 2.
        loc.skip();
        loc.skip();
        assert!(
            (loc.prediction() - 2.0).abs() < 1e-9,
            "{}",
            loc.prediction()
        );
        let before = loc.clone();
        loc.skip();
        loc.skip();
        loc.skip();
        loc.skip();
        assert_eq!(loc.prediction(), before.prediction());
    }

    #[test]
    fn a_shift_after_constant_data_is_learned_quickly() {
        // The running scale has collapsed to its floor on constant zeros; five
        // rejected errors on one side restart it and the level follows.
        let mut res = Vec::new();
        let mut loc =
            Location::initialise(LocationModel::Level, &[0.0; 50], TUNING, 50, 5, &mut res)
                .unwrap();
        assert!(loc.scale() < 1e-300);
        for _ in 0..80 {
            loc.observe(1.0);
        }
        assert!(
            (loc.prediction() - 1.0).abs() < 1e-3,
            "{}",
            loc.prediction()
        );
        // Spikes alternating in sign are not a shift: the level stays put.
        let mut loc =
            Location::initialise(LocationModel::Level, &[0.0; 50], TUNING, 50, 5, &mut res)
                .unwrap();
        for i in 0..80 {
            loc.observe(if i % 2 == 0 { 1.0 } else { -1.0 });
        }
        assert!(loc.prediction().abs() < 1e-200, "{}", loc.prediction());
    }
}
