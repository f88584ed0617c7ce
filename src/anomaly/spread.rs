//! Changes of scale: the noise grows while the level stays (a sensor that comes
//! alive after a flat stretch, a load that makes a latency five times as variable).
//!
//! Under a calibrated forecast an observation lands beyond the two-sided 1 % point
//! with probability 0.01, independently of the others; [`MIN_BEYOND`] or more of the
//! last [`WINDOW`] doing so happens by chance with probability about `10⁻⁸` per step.
//! A scale change is also two-sided: at least [`MIN_PER_SIDE`] of them on each side,
//! which a burst of spikes (one-sided, or a level shift, which
//! [`RegimeWatch`](super::regime::RegimeWatch) handles) does not show. When both
//! hold, the spread of the newest [`RECENT`] residuals is reported and the watch
//! starts afresh.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The observations watched.
pub(crate) const WINDOW: usize = 16;

/// Observations beyond the two-sided 1 % point among the last [`WINDOW`], at least.
pub(crate) const MIN_BEYOND: usize = 6;

/// ... with at least this many on each side.
pub(crate) const MIN_PER_SIDE: usize = 2;

/// The newest observations whose spread is reported.
pub(crate) const RECENT: usize = WINDOW / 2;

/// `ln 0.005`: the nearer tail's probability beyond the two-sided 1 % point.
const LN_HALF_PERCENT: f64 = -5.298_317_366_548_036;

/// The last [`WINDOW`] scored observations: residuals and where they fell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SpreadRepr")]
pub(crate) struct SpreadWatch {
    residuals: [f64; WINDOW],
    /// `1` beyond the upper 1 % point, `-1` beyond the lower one, `0` otherwise.
    sides: [i8; WINDOW],
    /// Observations taken since the last reset (the ring's fill).
    seen: usize,
    /// How many of `sides` are `1` and `-1` (derived, kept as the ring turns so
    /// that a step does not rescan it).
    #[serde(skip)]
    beyond: (usize, usize),
}

#[derive(Deserialize)]
struct SpreadRepr {
    residuals: [f64; WINDOW],
    sides: [i8; WINDOW],
    seen: usize,
}

impl TryFrom<SpreadRepr> for SpreadWatch {
    type Error = Error;
    fn try_from(r: SpreadRepr) -> Result<Self> {
        if r.sides.iter().any(|s| !(-1..=1).contains(s)) {
            return Err(Error::InvalidState {
                reason: "the spread watch's sides are not -1, 0 or 1",
            });
        }
        crate::error::all_finite("spread.residuals", &r.residuals[..r.seen.min(WINDOW)])?;
        Ok(Self {
            residuals: r.residuals,
            sides: r.sides,
            seen: r.seen,
            beyond: count_beyond(&r.sides),
        })
    }
}

impl Default for SpreadWatch {
    fn default() -> Self {
        Self {
            residuals: [0.0; WINDOW],
            sides: [0; WINDOW],
            seen: 0,
            beyond: (0, 0),
        }
    }
}

/// The numbers of `1` and `-1` in `sides`.
fn count_beyond(sides: &[i8; WINDOW]) -> (usize, usize) {
    let high = sides.iter().filter(|&&s| s == 1).count();
    let low = sides.iter().filter(|&&s| s == -1).count();
    (high, low)
}

/// `(1, 0)` for side `1`, `(0, 1)` for `-1`, `(0, 0)` for `0`.
#[inline]
fn one_beyond(side: i8) -> (usize, usize) {
    (usize::from(side == 1), usize::from(side == -1))
}

impl SpreadWatch {
    /// Takes one scored observation: its residual, the log of its nearer tail's
    /// probability and that side. Returns the median absolute deviation of the
    /// newest [`RECENT`] residuals from their median, and those residuals, when the
    /// scale has changed.
    #[inline]
    pub(crate) fn observe(
        &mut self,
        residual: f64,
        ln_near: f64,
        upper: bool,
    ) -> Option<(f64, [f64; RECENT])> {
        debug_assert!((LN_HALF_PERCENT - 0.005f64.ln()).abs() < 1e-15);
        if !residual.is_finite() {
            return None;
        }
        let slot = self.seen % WINDOW;
        self.residuals[slot] = residual;
        let side = match (ln_near < LN_HALF_PERCENT, upper) {
            (false, _) => 0,
            (true, true) => 1,
            (true, false) => -1,
        };
        let (old, new) = (one_beyond(self.sides[slot]), one_beyond(side));
        self.beyond = (self.beyond.0 - old.0 + new.0, self.beyond.1 - old.1 + new.1);
        self.sides[slot] = side;
        debug_assert_eq!(self.beyond, count_beyond(&self.sides));
        self.seen = self.seen.saturating_add(1);
        if self.seen < WINDOW {
            return None;
        }
        let (high, low) = self.beyond;
        if high + low < MIN_BEYOND || high < MIN_PER_SIDE || low < MIN_PER_SIDE {
            return None;
        }
        // The newest half: the change is seen a few steps after it happened, and the
        // older half still holds the old regime.
        let mut newest = [0.0; RECENT];
        for (k, r) in newest.iter_mut().enumerate() {
            *r = self.residuals[(self.seen - RECENT + k) % WINDOW];
        }
        let (_, spread) = crate::numeric::median_and_mad(&mut newest.clone());
        self.reset();
        Some((spread, newest))
    }

    /// Forgets the observations watched.
    pub(crate) fn reset(&mut self) {
        self.sides = [0; WINDOW];
        self.seen = 0;
        self.beyond = (0, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_sided_excursions_are_a_change_one_sided_ones_are_not() {
        let far = (1e-4f64).ln();
        let near = (0.2f64).ln();
        // Ten quiet observations, then six beyond on both sides.
        let mut watch = SpreadWatch::default();
        for i in 0..10 {
            assert_eq!(watch.observe(0.1 * i as f64, near, true), None);
        }
        let mut change = None;
        for i in 0..6 {
            let up = i % 2 == 0;
            change = watch.observe(if up { 5.0 } else { -5.0 }, far, up);
        }
        let (spread, newest) = change.expect("a change of scale");
        assert_eq!(newest[RECENT - 1], -5.0);
        assert!(spread > 0.3, "{spread}");
        // After a change the watch starts afresh.
        assert_eq!(watch.observe(5.0, far, true), None);
        // Sixteen far observations on one side are a level shift, not a scale change.
        let mut watch = SpreadWatch::default();
        for _ in 0..32 {
            assert_eq!(watch.observe(5.0, far, true), None);
        }
        // Five of sixteen are not enough.
        let mut watch = SpreadWatch::default();
        for i in 0..48 {
            let beyond = i % 16 < 5;
            let up = i % 2 == 0;
            let ln_p = if beyond { far } else { near };
            assert_eq!(
                watch.observe(if up { 1.0 } else { -1.0 }, ln_p, up),
                None,
                "{i}"
            );
        }
    }
}
