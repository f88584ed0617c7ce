//! Regime changes: a persistent shift of the level, told apart from a patch of
//! spikes by its persistence on one side, and from a slow drift the location model
//! lags behind by its size.
//!
//! Under a calibrated forecast an observation lands beyond the one-sided 1 % point
//! of its tail with probability 0.01, independently of the others; [`RUN`] such
//! observations in a row *on the same side* happen by chance with probability
//! `2 · 0.01^8 = 2·10⁻¹⁶` per step. Real series are not that independent: a daily
//! cycle the location does not model, or a trough of a seasonal pattern, also stays
//! beyond the 1 % point for a while, but only just. So the run must also be far
//! out: its surprises `-log10 p` in excess of 2 must add up to [`EXCESS`] (eight
//! observations at `p = 10⁻⁴` do, sixteen at `10⁻³` do, any number at `5·10⁻³` do
//! not). When both hold the level has moved. A shift of many noise scales shows
//! sooner: [`FAST_RUN`] observations whose excess already adds up to [`EXCESS`]
//! (`p = 10⁻⁶` each on average), grouped tightly (see [`FAST_SEPARATION`]), are a
//! provisional change, which the next residuals confirm or revert (see
//! [`RegimeWatch::complete`]). The location is re-anchored by the median
//! residual of the last (up to) eight observations of the run (so that the next
//! forecasts are centred on the new regime at once instead of being learned
//! through the robust filter's clip, one bounded step at a time, while every
//! observation in between is flagged) and the change is reported once. A spike
//! patch alternates sides or breaks off.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Observations in a row beyond the one-sided [`LEVEL`] on one side, at least.
pub(crate) const RUN: usize = 8;

/// A shorter run is a regime change when it is far out: its surprise excess reaches
/// [`EXCESS`] in this many observations (on average `p = 10⁻⁶` each).
pub(crate) const FAST_RUN: usize = 4;

/// A short run is a change of level only if its median is this many median
/// absolute deviations of the run away from the old level (a shift of about
/// three noise scales at least); noise that grows without a shift has runs
/// about as spread as they are far.
pub(crate) const FAST_SEPARATION: f64 = 4.0;

/// The one-sided tail probability every observation of the run is below.
pub(crate) const LEVEL: f64 = 0.01;

/// `ln LEVEL` (a constant: no logarithm per observation).
const LN_LEVEL: f64 = -4.605_170_185_988_091;

/// The sum over the run of `-log10 p - 2` that makes it a regime change.
pub(crate) const EXCESS: f64 = 16.0;

/// A completed run: where the new level is and how spread the run was.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Change {
    /// The median residual of the run's last `len` observations: the shift of
    /// the level.
    pub(crate) shift: f64,
    /// The median absolute deviation of those residuals from `shift`: a (rough,
    /// four- to eight-point) measure of the new regime's noise.
    pub(crate) spread: f64,
    /// Those residuals less `shift`: the new regime's noise around its level
    /// (the first `len`).
    pub(crate) noise: [f64; RUN],
    /// How many residuals of the run `shift` and `spread` come from.
    pub(crate) len: usize,
}

impl Change {
    /// Found on a run shorter than [`RUN`]: the residuals that follow confirm it
    /// or not (see [`RegimeWatch::complete`]).
    pub(crate) fn is_provisional(&self) -> bool {
        self.len < RUN
    }
}

/// The run in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "WatchRepr")]
pub(crate) struct RegimeWatch {
    /// Length of the run.
    len: usize,
    /// Side of the run: `true` for high values.
    upper: bool,
    /// Sum of `-log10 p - 2` over the run.
    #[serde(default)]
    excess: f64,
    /// The last [`RUN`] residuals of the run, a ring: residual `i` of the run is at
    /// `i % RUN`.
    residuals: [f64; RUN],
    /// After a change found on a short run (provisional until confirmed): the new
    /// regime's noise so far (the run's, then the residuals that follow), until
    /// there are [`RUN`].
    #[serde(default)]
    pending: Option<Noise>,
}

/// Residuals of a new regime around its level, the first `len` of `values`; the
/// first `run` came from the run, the others followed the provisional change of
/// the level by `shift`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct Noise {
    values: [f64; RUN],
    len: usize,
    run: usize,
    shift: f64,
    /// The factor the residual window was rescaled by at the change.
    rescaled: f64,
}

/// How a provisional change ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Outcome {
    /// The residuals after it all stayed nearer the new level than the old one:
    /// the change holds, with its noise (the run's and theirs) and their spread.
    Confirmed { spread: f64, noise: [f64; RUN] },
    /// One went back nearer the old level: a burst, not a shift; the level moves
    /// back by `shift` and the residual window is scaled back by `1 / rescaled`.
    Reverted { shift: f64, rescaled: f64 },
}

#[derive(Deserialize)]
struct WatchRepr {
    len: usize,
    upper: bool,
    #[serde(default)]
    excess: f64,
    residuals: [f64; RUN],
    #[serde(default)]
    pending: Option<Noise>,
}

impl TryFrom<WatchRepr> for RegimeWatch {
    type Error = Error;
    fn try_from(r: WatchRepr) -> Result<Self> {
        if !(r.excess >= 0.0 && r.excess.is_finite()) || (r.len == 0 && r.excess != 0.0) {
            return Err(Error::InvalidState {
                reason: "the regime watch's surprise sum is inconsistent",
            });
        }
        crate::error::all_finite("regime.residuals", &r.residuals[..r.len.min(RUN)])?;
        if let Some(noise) = &r.pending {
            if noise.len >= RUN
                || noise.run > noise.len
                || !noise.shift.is_finite()
                || !(noise.rescaled > 0.0 && noise.rescaled.is_finite())
            {
                return Err(Error::InvalidState {
                    reason: "the regime watch's provisional change is inconsistent",
                });
            }
            crate::error::all_finite("regime.pending", &noise.values[..noise.len])?;
        }
        Ok(Self {
            len: r.len,
            upper: r.upper,
            excess: r.excess,
            residuals: r.residuals,
            pending: r.pending,
        })
    }
}

impl Default for RegimeWatch {
    fn default() -> Self {
        Self {
            len: 0,
            upper: true,
            excess: 0.0,
            residuals: [0.0; RUN],
            pending: None,
        }
    }
}

impl RegimeWatch {
    /// Takes one scored observation: its residual (observation minus location), the
    /// log of its one-sided tail probability on its nearer side, and that side.
    /// Returns the change when the run qualifies; the run then starts afresh.
    #[inline]
    pub(crate) fn observe(&mut self, residual: f64, ln_p: f64, upper: bool) -> Option<Change> {
        // `ln_p < ln LEVEL`, with the logarithm a constant.
        debug_assert!((LN_LEVEL - LEVEL.ln()).abs() < 1e-15);
        if !(ln_p < LN_LEVEL) || !residual.is_finite() {
            self.reset();
            return None;
        }
        if self.len > 0 && upper != self.upper {
            self.reset();
        }
        self.upper = upper;
        self.residuals[self.len % RUN] = residual;
        self.len = self.len.saturating_add(1);
        let surprise = -ln_p * std::f64::consts::LOG10_E;
        self.excess = (self.excess + surprise - 2.0).min(f64::MAX);
        if self.len < FAST_RUN || self.excess < EXCESS {
            return None;
        }
        let len = self.len.min(RUN);
        // On a copy: the run is kept as it is.
        let mut run = self.residuals;
        let (shift, spread) = crate::numeric::median_and_mad(&mut run[..len]);
        if len < RUN && spread * FAST_SEPARATION > shift.abs() {
            // Not a tight group away from the level (noise that grew, say): only a
            // full run can tell.
            return None;
        }
        self.reset();
        let mut noise = [0.0; RUN];
        for (n, r) in noise.iter_mut().zip(&self.residuals[..len]) {
            *n = r - shift;
        }
        Some(Change {
            shift,
            spread,
            noise,
            len,
        })
    }

    /// After a provisional `change` was applied (the level re-anchored, the
    /// residual window rescaled by `rescaled`): the next residuals decide (see
    /// [`complete`](Self::complete)).
    pub(crate) fn await_confirmation(&mut self, change: &Change, rescaled: f64) {
        debug_assert!(change.is_provisional());
        self.pending = Some(Noise {
            values: change.noise,
            len: change.len,
            run: change.len,
            shift: change.shift,
            rescaled,
        });
    }

    /// Drops a provisional change (something else explains the run, a change of
    /// scale say): `(shift, rescaled)` to undo, as for [`Outcome::Reverted`].
    pub(crate) fn cancel(&mut self) -> Option<(f64, f64)> {
        self.pending.take().map(|n| (n.shift, n.rescaled))
    }

    /// The shift of a provisional change, while it waits for its residuals.
    #[inline]
    pub(crate) fn provisional(&self) -> Option<f64> {
        self.pending.as_ref().map(|n| n.shift)
    }

    /// Takes the residual (around the re-anchored level) of an observation after a
    /// provisional change; once [`RUN`] residuals are in, says whether it holds:
    /// it does if every residual that followed it is nearer the new level than
    /// the old one (then with the new regime's spread, the median absolute
    /// deviation of all of them from their median).
    #[inline]
    pub(crate) fn complete(&mut self, residual: f64) -> Option<Outcome> {
        let noise = self.pending.as_mut()?;
        if !residual.is_finite() {
            return None;
        }
        noise.values[noise.len] = residual;
        noise.len += 1;
        if noise.len < RUN {
            return None;
        }
        let Noise {
            values,
            run,
            shift,
            rescaled,
            ..
        } = *noise;
        self.pending = None;
        // One value back nearer the old level ends the run, as it would have
        // ended a full one.
        if values[run..].iter().any(|&r| (r + shift).abs() < r.abs()) {
            return Some(Outcome::Reverted { shift, rescaled });
        }
        let (_, spread) = crate::numeric::median_and_mad(&mut values.clone());
        Some(Outcome::Confirmed {
            spread,
            noise: values,
        })
    }

    /// Forgets the run in progress (not the noise of a change being completed).
    pub(crate) fn reset(&mut self) {
        self.len = 0;
        self.excess = 0.0;
    }
}

/// The relearning period after a regime change: nothing is excluded, and the
/// share of new residuals outside the residual law's interquartile half-width
/// around its median is counted, to check the scale set at the change.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(try_from = "RelearnRepr")]
pub(crate) struct Relearn {
    /// Observations left in the period (0: not relearning).
    remaining: u32,
    centre: f64,
    spread: f64,
    outside: u32,
    seen: u32,
}

#[derive(Deserialize)]
struct RelearnRepr {
    remaining: u32,
    centre: f64,
    spread: f64,
    outside: u32,
    seen: u32,
}

impl TryFrom<RelearnRepr> for Relearn {
    type Error = Error;
    fn try_from(r: RelearnRepr) -> Result<Self> {
        if r.remaining > RELEARN
            || r.outside > r.seen
            || r.seen.saturating_add(r.remaining) > RELEARN
            || !r.centre.is_finite()
            || !(r.spread >= 0.0 && r.spread.is_finite())
        {
            return Err(Error::InvalidState {
                reason: "the relearning period is inconsistent",
            });
        }
        Ok(Self {
            remaining: r.remaining,
            centre: r.centre,
            spread: r.spread,
            outside: r.outside,
            seen: r.seen,
        })
    }
}

/// The length of the relearning period.
pub(crate) const RELEARN: u32 = 100;

impl Relearn {
    /// Starts a period: `centre` and `spread` are the residual law's median and
    /// interquartile half-width (half the residuals are expected outside
    /// `centre ± spread` if the scale is right).
    pub(crate) fn start(centre: f64, spread: f64) -> Self {
        if !(centre.is_finite() && spread > 0.0 && spread.is_finite()) {
            return Self::default();
        }
        Self {
            remaining: RELEARN,
            centre,
            spread,
            outside: 0,
            seen: 0,
        }
    }

    /// Whether the period is on (nothing is excluded).
    #[inline]
    pub(crate) fn is_on(&self) -> bool {
        self.remaining > 0
    }

    /// Counts a residual; at the end of the period returns the law's spread at the
    /// start and the share of the period's residuals outside `centre ± spread`.
    #[inline]
    pub(crate) fn observe(&mut self, residual: f64) -> Option<(f64, f64)> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        self.seen += 1;
        self.outside += u32::from((residual - self.centre).abs() > self.spread);
        if self.remaining > 0 {
            return None;
        }
        let share = (f64::from(self.outside) + 0.5) / (f64::from(self.seen) + 1.0);
        Some((self.spread, share))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_constants_agree() {
        assert_eq!(LN_LEVEL, LEVEL.ln());
        assert_eq!(LEVEL.log10(), -2.0);
    }

    #[test]
    fn a_run_on_one_side_gives_its_median() {
        let mut w = RegimeWatch::default();
        // Surprise 4.2 per observation: the excess reaches 16 at the eighth.
        let ln_p = -4.2 * std::f64::consts::LN_10;
        for i in 0..RUN - 1 {
            assert_eq!(w.observe(10.0 + i as f64, ln_p, true), None);
        }
        let change = w.observe(100.0, ln_p, true).unwrap();
        // Residuals 10..=16 and 100: median 13.5, deviations 3.5, 2.5, 1.5, 0.5,
        // 0.5, 1.5, 2.5, 86.5.
        assert_eq!(change.shift, 13.5);
        assert_eq!(change.spread, 2.0);
        // The run restarts.
        assert_eq!(w.observe(10.0, ln_p, true), None);
    }

    #[test]
    fn a_short_run_far_out_is_a_change_whose_noise_is_completed() {
        let mut w = RegimeWatch::default();
        // Surprise 7 per observation: the excess reaches 16 at the fourth.
        let ln_p = (1e-7f64).ln();
        for r in [50.0, 52.0, 48.0] {
            assert_eq!(w.observe(r, ln_p, true), None);
            assert_eq!(w.complete(0.0), None);
        }
        let change = w.observe(51.0, ln_p, true).unwrap();
        // Nothing is completed unless the change was applied.
        assert_eq!(w.complete(0.0), None);
        assert!(change.is_provisional());
        w.await_confirmation(&change, 1.0);
        assert_eq!(w.provisional(), Some(50.5));
        assert_eq!(
            (change.len, change.shift, change.spread),
            (FAST_RUN, 50.5, 1.0)
        );
        assert_eq!(change.noise[..FAST_RUN], [-0.5, 1.5, -2.5, 0.5]);
        // The next four residuals, around the new level, complete the noise.
        for r in [3.0, -3.0, 2.0] {
            assert_eq!(w.complete(r), None);
        }
        let Some(Outcome::Confirmed { spread, noise }) = w.complete(-2.0) else {
            panic!("the residuals stayed at the new level");
        };
        assert_eq!(noise, [-0.5, 1.5, -2.5, 0.5, 3.0, -3.0, 2.0, -2.0]);
        // |noise| sorted: 0.5, 0.5, 1.5, 2, 2, 2.5, 3, 3 around the median 0.
        assert_eq!(spread, 2.0);
        assert_eq!(w.complete(1.0), None);
        assert_eq!(w.provisional(), None);
        // A burst: the residuals after the change go back to the old level.
        for r in [50.0, 52.0, 48.0] {
            w.observe(r, ln_p, true);
        }
        let change = w.observe(51.0, ln_p, true).unwrap();
        w.await_confirmation(&change, 2.0);
        for r in [-49.0, -51.0, 3.0] {
            assert_eq!(w.complete(r), None);
        }
        assert_eq!(w.provisional(), Some(50.5));
        assert_eq!(
            w.complete(-50.0),
            Some(Outcome::Reverted {
                shift: 50.5,
                rescaled: 2.0
            })
        );
        // A full run has nothing to complete.
        let ln_p = -4.2 * std::f64::consts::LN_10;
        for _ in 0..RUN - 1 {
            assert_eq!(w.observe(10.0, ln_p, true), None);
        }
        let change = w.observe(10.0, ln_p, true).unwrap();
        assert_eq!(change.len, RUN);
        assert!(!change.is_provisional());
        assert_eq!(w.cancel(), None);
        // A short run spread about as much as it is far is no fast change.
        let ln_p = (1e-7f64).ln();
        for r in [1.0, 5.0, 0.5, 3.0, 0.2] {
            assert_eq!(w.observe(r, ln_p, true), None);
        }
        // A provisional change can be dropped (a change of scale explains it).
        w.reset();
        for r in [50.0, 52.0, 48.0] {
            w.observe(r, ln_p, true);
        }
        let change = w.observe(51.0, ln_p, true).unwrap();
        assert!(change.is_provisional());
        w.await_confirmation(&change, 1.0);
        assert_eq!(w.cancel(), Some((50.5, 1.0)));
        assert_eq!(w.complete(0.0), None);
        assert_eq!(w.complete(0.0), None);
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
