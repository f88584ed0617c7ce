//! Predictive tails: each GPD tail of the residual law averaged over the sampling
//! uncertainty of its shape (see [`DetectorConfig::predictive_tails`]).
//!
//! A tail fitted to `n` exceedances has a shape estimate `ξ̂` with standard error
//! about `(1 + ξ̂)/√n`. Plugged in as if exact, it is too light on average far out,
//! where alarms are raised: the error is symmetric in `ξ`, but the tail probability
//! at a fixed point is convex in `ξ`. The predictive tail is the mixture
//! `Σ w_k S_k` over three shapes `ξ̂ + z_k (1 + ξ̂)/√n` (Gauss–Hermite nodes
//! `z = 0, ±√3`, weights `2/3, 1/6, 1/6` for a normal error), each with the scale
//! that keeps the fitted median excess (the best-determined feature of the fit).
//! It equals the plug-in tail at `n = ∞` and its tail index is the heaviest node's.
//!
//! [`DetectorConfig::predictive_tails`]: super::DetectorConfig::predictive_tails

use crate::SplicedBinnedPareto;
use crate::dist::GeneralizedPareto;

/// Gauss–Hermite nodes and weights for a standard normal error, three points.
const NODES: [(f64, f64); 3] = [
    (-1.732_050_807_568_877_2, 1.0 / 6.0),
    (0.0, 2.0 / 3.0),
    (1.732_050_807_568_877_2, 1.0 / 6.0),
];

/// `(2^ξ - 1)/ξ` (`ln 2` at `ξ = 0`): the median excess of a unit-scale GPD.
fn median_factor(shape: f64) -> f64 {
    if shape.abs() < 1e-12 {
        std::f64::consts::LN_2
    } else {
        (shape * std::f64::consts::LN_2).exp_m1() / shape
    }
}

/// One tail beyond its threshold: its mass and the mixture law of the excess.
#[derive(Debug, Clone, Copy, PartialEq)]
struct MixedTail {
    threshold: f64,
    mass: f64,
    ln_mass: f64,
    parts: [(f64, GeneralizedPareto); 3],
}

impl MixedTail {
    /// `gpd` (the law of the excess beyond `threshold`, holding `mass`), fitted to
    /// `n` exceedances, mixed over its shape's error; `None` for a tail without
    /// mass or a mixture outside the family (then the plug-in tail serves).
    fn new(
        threshold: f64,
        mass: f64,
        gpd: &GeneralizedPareto,
        n: f64,
        max_shape: f64,
    ) -> Option<Self> {
        if !(mass > 0.0 && n >= 1.0 && threshold.is_finite()) {
            return None;
        }
        let (shape, scale) = (gpd.shape(), gpd.scale());
        let se = (1.0 + shape).max(0.0) / n.sqrt();
        let median = scale * median_factor(shape);
        let mut parts = [(0.0, *gpd); 3];
        for (part, &(z, w)) in parts.iter_mut().zip(&NODES) {
            // Not below a bounded fit's own shape nor above the configured bound
            // (unless the fit itself is).
            let xi = (shape + z * se).clamp(shape.min(0.0), max_shape.max(shape));
            *part = (
                w,
                GeneralizedPareto::new(xi, median / median_factor(xi)).ok()?,
            );
        }
        Some(Self {
            threshold,
            mass,
            ln_mass: mass.ln(),
            parts,
        })
    }

    /// `ln P(excess >= x)` under the mixture, for `x >= 0`.
    fn ln_sf_excess(&self, x: f64) -> f64 {
        let logs = self.parts.map(|(w, g)| w.ln() + g.ln_sf(x));
        let top = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if top == f64::NEG_INFINITY {
            return top;
        }
        top + logs.iter().map(|l| (l - top).exp()).sum::<f64>().ln()
    }

    /// The excess whose mixture survival is `s` in `(0, 1)`: bisection between the
    /// parts' own quantiles, which bracket it.
    fn excess_at(&self, s: f64) -> f64 {
        let q = self.parts.map(|(_, g)| g.quantile(1.0 - s));
        let mut lo = q.iter().copied().fold(f64::INFINITY, f64::min).max(0.0);
        let mut hi = q.iter().copied().fold(0.0, f64::max).min(f64::MAX);
        let ln_s = s.ln();
        loop {
            let mid = 0.5 * lo + 0.5 * hi;
            if !(mid > lo && mid < hi) {
                return mid;
            }
            if self.ln_sf_excess(mid) > ln_s {
                lo = mid;
            } else {
                hi = mid;
            }
        }
    }
}

/// Both tails of a residual law, mixed over their shapes' errors (empty: the
/// plug-in tails serve).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct PredictiveTails {
    lower: Option<MixedTail>,
    upper: Option<MixedTail>,
}

impl PredictiveTails {
    /// The tails of `sbp`, fitted on a window of `n` effective observations (each
    /// tail's exceedances: its mass times `n`, or a full excess pool when the
    /// window holds too few for a fit, see the forecaster's tail pools).
    pub(crate) fn new(sbp: &SplicedBinnedPareto, n: f64, needed: usize, max_shape: f64) -> Self {
        let tail = |threshold: f64, t: &crate::dist::Tail| {
            let in_window = t.mass() * n;
            let fitted_on = if in_window < needed as f64 {
                crate::forecast::POOL_LEN as f64
            } else {
                in_window
            };
            MixedTail::new(threshold, t.mass(), t.gpd(), fitted_on, max_shape)
        };
        Self {
            lower: tail(sbp.lower_threshold(), sbp.lower_tail()),
            upper: tail(sbp.upper_threshold(), sbp.upper_tail()),
        }
    }

    /// The mixed upper or lower tail, if any.
    #[inline]
    fn tail(&self, upper: bool) -> Option<&MixedTail> {
        if upper {
            self.upper.as_ref()
        } else {
            self.lower.as_ref()
        }
    }

    /// `ln P(R >= r)` (upper) or `ln P(R <= r)` (lower) where `r` is beyond that
    /// tail's threshold; `None` in the body or without a mixed tail.
    #[inline]
    pub(crate) fn ln_tail(&self, r: f64, upper: bool) -> Option<f64> {
        let t = self.tail(upper)?;
        let excess = if upper {
            r - t.threshold
        } else {
            t.threshold - r
        };
        (excess > 0.0).then(|| (t.ln_mass + t.ln_sf_excess(excess)).max(-f64::MAX))
    }

    /// The residual beyond which the tail holds probability `p`; `None` when `p`
    /// is not below the tail's mass or there is no mixed tail.
    pub(crate) fn quantile(&self, p: f64, upper: bool) -> Option<f64> {
        let t = self.tail(upper)?;
        let s = p / t.mass;
        if !(s > 0.0 && s < 1.0) {
            return None;
        }
        let x = t.excess_at(s);
        Some(if upper {
            t.threshold + x
        } else {
            t.threshold - x
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Binned, Tail};

    fn law(shape: f64) -> SplicedBinnedPareto {
        let body = Binned::equal_width(-1.0, 1.0, vec![0.25; 4]).unwrap();
        let gpd = GeneralizedPareto::new(shape, 0.5).unwrap();
        let tail = Tail::new(0.05, gpd).unwrap();
        SplicedBinnedPareto::new(body, tail, tail).unwrap()
    }

    #[test]
    fn the_quantile_inverts_the_tail_and_the_mixture_is_heavier_far_out() {
        for shape in [0.0, 0.25, 1.0] {
            let sbp = law(shape);
            let tails = PredictiveTails::new(&sbp, 1000.0, 10, 3.0);
            for p in [1e-2, 1e-3, 1e-6, 1e-12] {
                for upper in [true, false] {
                    let r = tails.quantile(p, upper).unwrap();
                    let back = tails.ln_tail(r, upper).unwrap();
                    assert!((back - p.ln()).abs() < 1e-9, "{shape} {p} {upper}");
                    // Far out the mixture is heavier than the plug-in tail.
                    let plug_in = if upper {
                        sbp.quantile(1.0 - p)
                    } else {
                        sbp.quantile(p)
                    };
                    if p <= 1e-3 {
                        assert!((r - plug_in).abs() > 0.0 && (r > plug_in) == upper);
                    }
                }
            }
            // In the body, and beyond the tail's mass, the plug-in law serves.
            assert_eq!(tails.ln_tail(0.5, true), None);
            assert_eq!(tails.quantile(0.2, true), None);
        }
    }

    #[test]
    fn many_exceedances_give_the_plug_in_tail() {
        let sbp = law(0.25);
        let tails = PredictiveTails::new(&sbp, 1e18, 10, 3.0);
        for r in [1.5, 3.0, 30.0] {
            let want = sbp.ln_sf(r);
            let got = tails.ln_tail(r, true).unwrap();
            assert!((got - want).abs() < 1e-6 * want.abs(), "{r}: {got} {want}");
        }
    }

    #[test]
    fn a_window_too_short_for_a_fit_counts_the_pool() {
        let sbp = law(0.25);
        let short = PredictiveTails::new(&sbp, 100.0, 10, 3.0);
        let pooled = PredictiveTails::new(&sbp, crate::forecast::POOL_LEN as f64 / 0.05, 10, 3.0);
        assert_eq!(short, pooled);
    }
}
