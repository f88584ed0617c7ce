//! The detector's memory of its tails' shapes: each tail is scored with the
//! average of its recent fitted shapes instead of the newest one (see
//! [`AnomalyDetector`]'s *p-values*).
//!
//! # Why
//!
//! A GPD fitted to the 50 exceedances of a 1,000-point window has a shape with a
//! standard error of about `(1 + ξ)/√50`, 0.18 at `ξ = 0.25`, and every refit moves
//! it. Far out, where alarms are raised, the tail probability is exponentially
//! sensitive to the shape (at 20 scales beyond the threshold, `ξ` 0.1 → 0.35 is a
//! factor of 150 in the probability), so the same value gets p-values a hundred
//! times apart from one refit to the next: the ranking of extremes over time is
//! mostly the ranking of refits. The shape of a series' tail changes slowly, its
//! scale does not: the shape is averaged over the fits of the last windows
//! (weights: exceedances fitted to times steps since the previous fit, halved
//! every [`SHAPE_HALF_LIFE`] windows) and kept within [`SHAPE_WITHIN_ERRORS`] standard
//! errors of the newest fit, while each tail's threshold, mass and median excess
//! stay the newest fit's (the scale follows from them).
//!
//! [`AnomalyDetector`]: super::AnomalyDetector

use serde::{Deserialize, Serialize};

use super::tails::exceedances;
use crate::SplicedBinnedPareto;
use crate::error::{Error, Result};

/// The half-life of the shape memory, in forecaster windows.
///
/// Measured on `tests/anomaly_detection.rs`'s series with their seed and six more
/// (recall of the injected points, with the recalibration of before: a flat factor
/// below the risk level), without memory → with it: Student-t(4) noise with ±12
/// every 100–300 steps 0.975 (other seeds 0.87–0.93) → 0.992 (0.975–0.988), false
/// alarms 1.9e-3 → 2.2e-3; the paper's series with ±10 0.71 (0.50–0.80) → 0.86
/// (0.78–0.98); Gaussian noise with ±4 sd 0.47 → 0.48. A half-life of one window
/// did about as well on Student-t(4) and worse on the paper's series (0.50–0.97 over
/// the seeds), half a window worse on both.
pub const SHAPE_HALF_LIFE: f64 = 2.0;

/// The shape scored with is the remembered one kept within this many standard
/// errors (`(1 + ξ)/√n` for `n` exceedances) of the newest fit: the memory smooths
/// the fits' sampling noise but never contradicts a fit. When the tail's law
/// really changes, the newest fit pulls the scored shape along at once: a
/// noise-free sine whose location errors change character raises 9 alarms in
/// 4,032 points with the memory unbounded, none with the bound; a noise-free
/// plateau series, whose residual fits jump to the shape bound and back, keeps a
/// band of 511 instead of 4,594 above a location of 80.
pub const SHAPE_WITHIN_ERRORS: f64 = 2.0;

/// Decayed weights and weighted sums of the fitted shapes of each tail.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub(crate) struct ShapeMemory {
    /// `(lower, upper)` total weights.
    weight: (f64, f64),
    /// `(lower, upper)` weighted sums of shapes.
    sum: (f64, f64),
    /// The residual law's version last absorbed (0: none).
    version: u64,
    /// The step it was absorbed at.
    step: u64,
    /// The shapes to score with for that version: the remembered ones within
    /// [`SHAPE_WITHIN_ERRORS`] standard errors of its fits.
    scoring: (f64, f64),
}

impl ShapeMemory {
    /// Absorbs the tails of residual law `sbp` of version `version`, seen at step
    /// `step` on a window of `n` effective observations (`needed`: the
    /// exceedances a fit needs; `half_life` in steps); a version already absorbed
    /// is not counted twice.
    pub(crate) fn absorb(
        &mut self,
        sbp: &SplicedBinnedPareto,
        version: u64,
        step: u64,
        n: f64,
        needed: usize,
        half_life: f64,
    ) {
        // After a restore the detector sees the last absorbed law again.
        if version == self.version {
            return;
        }
        // The first fit has no steps of its own to cover: it is a start, that the
        // next fit outweighs.
        let elapsed = if self.version == 0 {
            1.0
        } else {
            step.saturating_sub(self.step).max(1) as f64
        };
        let decay = (-elapsed * std::f64::consts::LN_2 / half_life).exp();
        let absorb =
            |weight: &mut f64, sum: &mut f64, scoring: &mut f64, tail: &crate::dist::Tail| {
                let shape = tail.gpd().shape();
                let fitted_on = exceedances(tail.mass(), n, needed);
                let w = elapsed * fitted_on;
                if !(shape.is_finite() && w.is_finite()) {
                    return;
                }
                *weight = *weight * decay + w;
                *sum = *sum * decay + w * shape;
                let error = SHAPE_WITHIN_ERRORS * (1.0 + shape.max(0.0)) / fitted_on.sqrt();
                *scoring = (*sum / *weight).clamp(shape - error, shape + error);
            };
        absorb(
            &mut self.weight.0,
            &mut self.sum.0,
            &mut self.scoring.0,
            sbp.lower_tail(),
        );
        absorb(
            &mut self.weight.1,
            &mut self.sum.1,
            &mut self.scoring.1,
            sbp.upper_tail(),
        );
        self.version = version;
        self.step = step;
    }

    /// The `(lower, upper)` shapes to score the last absorbed law with (see
    /// [`SHAPE_WITHIN_ERRORS`]).
    pub(crate) fn shapes(&self) -> (f64, f64) {
        self.scoring
    }

    /// Checks a restored memory against the stream it claims to come from.
    pub(crate) fn check(&self, steps: u64) -> Result<()> {
        let ok = |w: f64, s: f64| w.is_finite() && w >= 0.0 && s.is_finite();
        if ok(self.weight.0, self.sum.0)
            && ok(self.weight.1, self.sum.1)
            && self.scoring.0.is_finite()
            && self.scoring.1.is_finite()
            && self.step <= steps
        {
            Ok(())
        } else {
            Err(Error::InvalidState {
                reason: "the memory of tail shapes is inconsistent",
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::GeneralizedPareto;
    use crate::{Binned, Tail};

    fn law(lower: f64, upper: f64) -> SplicedBinnedPareto {
        let body = Binned::equal_width(-1.0, 1.0, vec![0.25; 4]).unwrap();
        let tail = |xi: f64| Tail::new(0.05, GeneralizedPareto::new(xi, 0.5).unwrap()).unwrap();
        SplicedBinnedPareto::new(body, tail(lower), tail(upper)).unwrap()
    }

    #[test]
    fn the_memory_averages_recent_fits_and_forgets_old_ones() {
        let mut m = ShapeMemory::default();
        m.absorb(&law(0.1, 0.2), 1, 100, 1000.0, 10, 2000.0);
        assert_eq!(m.shapes(), (0.1, 0.2));
        // The same version again counts once.
        m.absorb(&law(0.9, 0.9), 1, 200, 1000.0, 10, 2000.0);
        assert_eq!(m.shapes(), (0.1, 0.2));
        // The first fit was only a start: a second one, 100 steps later, outweighs
        // it a hundred times.
        m.absorb(&law(0.3, 0.2), 2, 200, 1000.0, 10, 2000.0);
        let (lower, upper) = m.shapes();
        assert!((lower - 0.298).abs() < 1e-3, "{lower}");
        assert!((upper - 0.2).abs() < 1e-12, "{upper}");
        // A third as long after: about halfway between the two (decay 2^-0.05).
        m.absorb(&law(0.1, 0.2), 3, 300, 1000.0, 10, 2000.0);
        let lower = m.shapes().0;
        assert!((lower - 0.2).abs() < 0.005, "{lower}");
        // Many half-lives later the old fits are forgotten.
        m.absorb(&law(0.5, 0.5), 4, 300 + 40_000, 1000.0, 10, 2000.0);
        assert!((m.shapes().0 - 0.5).abs() < 1e-5);
        assert!(m.check(40_300).is_ok());
        assert!(m.check(40_299).is_err());
    }

    #[test]
    fn the_scored_shape_stays_within_two_errors_of_the_newest_fit() {
        let mut m = ShapeMemory::default();
        m.absorb(&law(0.2, 0.2), 1, 100, 1000.0, 10, 2000.0);
        m.absorb(&law(0.2, 0.2), 2, 200, 1000.0, 10, 2000.0);
        // 50 exceedances: two standard errors are 0.34 at shape 0.2, 0.99 at 2.5.
        m.absorb(&law(0.1, 2.5), 3, 210, 1000.0, 10, 2000.0);
        let (lower, upper) = m.shapes();
        assert!(lower > 0.19 && lower < 0.2, "{lower}");
        let error = 2.0 * 3.5 / 50f64.sqrt();
        assert!((upper - (2.5 - error)).abs() < 1e-12, "{upper}");
    }
}
