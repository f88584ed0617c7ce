//! Regime changes: a persistent shift of the level, told apart from a patch of
//! spikes by its persistence on one side.
//!
//! Under a calibrated forecast an observation lands beyond the one-sided 1 % point
//! of its tail with probability 0.01, independently of the others; [`RUN`] such
//! observations in a row *on the same side* happen by chance with probability
//! `2 · 0.01^8 = 2·10⁻¹⁶` per step. When they happen the level has moved: the
//! location is re-anchored by the median residual of the run (so that the next
//! forecasts are centred on the new regime at once instead of being learned through
//! the robust filter's clip, one bounded step at a time, while every observation in
//! between is flagged) and the change is reported once. A spike patch alternates
//! sides or breaks off; a seasonal pattern the location does not follow drifts
//! slowly through the 1 % points without staying beyond them.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Observations in a row beyond the one-sided [`LEVEL`] on one side.
pub(crate) const RUN: usize = 8;

/// The one-sided tail probability an observation of the run must be below.
pub(crate) const LEVEL: f64 = 0.01;

/// The run in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "WatchRepr")]
pub(crate) struct RegimeWatch {
    /// Length of the run (0..RUN).
    len: usize,
    /// Side of the run: `true` for high values.
    upper: bool,
    /// Residuals of the run (the first `len`).
    residuals: [f64; RUN],
}

#[derive(Deserialize)]
struct WatchRepr {
    len: usize,
    upper: bool,
    residuals: [f64; RUN],
}

impl TryFrom<WatchRepr> for RegimeWatch {
    type Error = Error;
    fn try_from(r: WatchRepr) -> Result<Self> {
        if r.len >= RUN {
            return Err(Error::InvalidCount {
                name: "regime.len",
                value: r.len,
                expected: "< 8",
            });
        }
        crate::error::all_finite("regime.residuals", &r.residuals[..r.len])?;
        Ok(Self {
            len: r.len,
            upper: r.upper,
            residuals: r.residuals,
        })
    }
}

impl Default for RegimeWatch {
    fn default() -> Self {
        Self {
            len: 0,
            upper: true,
            residuals: [0.0; RUN],
        }
    }
}

impl RegimeWatch {
    /// Takes one scored observation: its residual (observation minus location), the
    /// log of its one-sided tail probability on its nearer side, and that side.
    /// Returns the shift of the level (the median residual of the run) when the run
    /// completes; the run then starts afresh.
    #[inline]
    pub(crate) fn observe(&mut self, residual: f64, ln_p: f64, upper: bool) -> Option<f64> {
        if !(ln_p < LEVEL.ln()) || !residual.is_finite() {
            self.len = 0;
            return None;
        }
        if self.len > 0 && upper != self.upper {
            self.len = 0;
        }
        self.upper = upper;
        self.residuals[self.len] = residual;
        self.len += 1;
        if self.len < RUN {
            return None;
        }
        self.len = 0;
        let mut sorted = self.residuals;
        sorted.sort_unstable_by(f64::total_cmp);
        Some(sorted[RUN / 2 - 1] / 2.0 + sorted[RUN / 2] / 2.0)
    }

    /// Forgets the run in progress.
    pub(crate) fn reset(&mut self) {
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_on_one_side_gives_its_median() {
        let mut w = RegimeWatch::default();
        let ln_p = (1e-4f64).ln();
        for i in 0..RUN - 1 {
            assert_eq!(w.observe(10.0 + i as f64, ln_p, true), None);
        }
        assert_eq!(w.observe(100.0, ln_p, true), Some(13.5));
        // The run restarts.
        assert_eq!(w.observe(10.0, ln_p, true), None);
    }

    #[test]
    fn a_side_change_or_an_ordinary_value_breaks_the_run() {
        let mut w = RegimeWatch::default();
        let ln_p = (1e-4f64).ln();
        for i in 0..3 * RUN {
            let upper = i % 2 == 0;
            assert_eq!(w.observe(if upper { 5.0 } else { -5.0 }, ln_p, upper), None);
        }
        for i in 0..3 * RUN {
            let p = if i % 5 == 4 { 0.2f64 } else { 1e-4 };
            assert_eq!(w.observe(5.0, p.ln(), true), None);
        }
    }
}
