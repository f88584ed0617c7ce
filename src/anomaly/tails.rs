//! The tails the detector scores with: each GPD tail of the residual law with its
//! shape taken from the detector's [shape memory](super::shapes) (see
//! [`AnomalyDetector`]'s *p-values*), and with
//! [`DetectorConfig::predictive_tails`] averaged over the sampling uncertainty of
//! that shape.
//!
//! # Predictive tails
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
//! [`AnomalyDetector`]: super::AnomalyDetector
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

/// The law of the excess beyond a tail's threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Excess {
    /// One GPD.
    Single(GeneralizedPareto),
    /// A mixture of GPDs with these weights (see *Predictive tails*).
    Mixture([(f64, GeneralizedPareto); 3]),
}

/// One tail beyond its threshold: its mass and the law of the excess.
#[derive(Debug, Clone, Copy, PartialEq)]
struct TailLaw {
    threshold: f64,
    mass: f64,
    ln_mass: f64,
    excess: Excess,
}

impl TailLaw {
    /// The tail of `fitted` (the law of the excess beyond `threshold`, holding
    /// `mass`) with its shape replaced by `shape` and the scale that keeps its
    /// median excess, fitted to `n` exceedances: with `predictive`, mixed over the
    /// shape's error. `None` for a tail without mass, a bounded fit or a shape
    /// outside the family (then the fitted tail serves, with its rule beyond an
    /// end point).
    fn new(
        threshold: f64,
        mass: f64,
        fitted: &GeneralizedPareto,
        shape: f64,
        predictive: Option<(f64, f64)>,
    ) -> Option<Self> {
        if !(mass > 0.0 && threshold.is_finite() && fitted.shape() >= 0.0 && shape >= 0.0) {
            return None;
        }
        let median = fitted.scale() * median_factor(fitted.shape());
        let with_shape = |xi: f64| GeneralizedPareto::new(xi, median / median_factor(xi)).ok();
        let excess = match predictive {
            None => Excess::Single(with_shape(shape)?),
            Some((n, max_shape)) => {
                if !(n >= 1.0) {
                    return None;
                }
                let se = (1.0 + shape) / n.sqrt();
                let mut parts = [(0.0, *fitted); 3];
                for (part, &(z, w)) in parts.iter_mut().zip(&NODES) {
                    // Not above the configured bound (unless the shape itself is).
                    let xi = (shape + z * se).clamp(0.0, max_shape.max(shape));
                    *part = (w, with_shape(xi)?);
                }
                Excess::Mixture(parts)
            }
        };
        Some(Self {
            threshold,
            mass,
            ln_mass: mass.ln(),
            excess,
        })
    }

    /// `ln P(excess >= x)`, for `x >= 0`.
    #[inline]
    fn ln_sf_excess(&self, x: f64) -> f64 {
        let parts = match &self.excess {
            Excess::Single(g) => return g.ln_sf(x),
            Excess::Mixture(parts) => parts,
        };
        let logs = parts.map(|(w, g)| w.ln() + g.ln_sf(x));
        let top = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if top == f64::NEG_INFINITY {
            return top;
        }
        top + logs.iter().map(|l| (l - top).exp()).sum::<f64>().ln()
    }

    /// The excess whose survival is `s` in `(0, 1)`: for a mixture, bisection
    /// between the parts' own quantiles, which bracket it.
    fn excess_at(&self, s: f64) -> f64 {
        let parts = match &self.excess {
            Excess::Single(g) => return g.quantile(1.0 - s),
            Excess::Mixture(parts) => parts,
        };
        let q = parts.map(|(_, g)| g.quantile(1.0 - s));
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

/// Both tails the detector scores with (empty, or one side missing: the residual
/// law's own tail serves).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct ScoringTails {
    lower: Option<TailLaw>,
    upper: Option<TailLaw>,
}

/// The number of exceedances a tail of mass `mass` was fitted to on a window of
/// `n` effective observations: its share of the window, or a full excess pool
/// when the window holds fewer than `needed` (see the forecaster's tail pools).
pub(crate) fn exceedances(mass: f64, n: f64, needed: usize) -> f64 {
    let in_window = mass * n;
    if in_window < needed as f64 {
        crate::forecast::POOL_LEN as f64
    } else {
        in_window
    }
}

impl ScoringTails {
    /// The tails of `sbp` with shapes `(lower, upper)`; with `predictive`
    /// (`(n, needed, max_shape)`: the window's effective length, the exceedances a
    /// fit needs, the shape bound), mixed over each shape's error.
    pub(crate) fn new(
        sbp: &SplicedBinnedPareto,
        shapes: (f64, f64),
        predictive: Option<(f64, usize, f64)>,
    ) -> Self {
        let tail = |threshold: f64, t: &crate::dist::Tail, shape: f64| {
            let mixture =
                predictive.map(|(n, needed, max)| (exceedances(t.mass(), n, needed), max));
            TailLaw::new(threshold, t.mass(), t.gpd(), shape, mixture)
        };
        Self {
            lower: tail(sbp.lower_threshold(), sbp.lower_tail(), shapes.0),
            upper: tail(sbp.upper_threshold(), sbp.upper_tail(), shapes.1),
        }
    }

    /// The upper or lower tail, if any.
    #[inline]
    fn tail(&self, upper: bool) -> Option<&TailLaw> {
        if upper {
            self.upper.as_ref()
        } else {
            self.lower.as_ref()
        }
    }

    /// `ln P(R >= r)` (upper) or `ln P(R <= r)` (lower) where `r` is beyond that
    /// tail's threshold; `None` in the body or without that tail.
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
    /// is not below the tail's mass or there is no such tail.
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
            let tails = ScoringTails::new(&sbp, (shape, shape), Some((1000.0, 10, 3.0)));
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
        let tails = ScoringTails::new(&sbp, (0.25, 0.25), Some((1e18, 10, 3.0)));
        for r in [1.5, 3.0, 30.0] {
            let want = sbp.ln_sf(r);
            let got = tails.ln_tail(r, true).unwrap();
            assert!((got - want).abs() < 1e-6 * want.abs(), "{r}: {got} {want}");
        }
    }

    #[test]
    fn a_window_too_short_for_a_fit_counts_the_pool() {
        let sbp = law(0.25);
        let shapes = (0.25, 0.25);
        let short = ScoringTails::new(&sbp, shapes, Some((100.0, 10, 3.0)));
        let pooled = ScoringTails::new(
            &sbp,
            shapes,
            Some((crate::forecast::POOL_LEN as f64 / 0.05, 10, 3.0)),
        );
        assert_eq!(short, pooled);
    }

    #[test]
    fn a_remembered_shape_keeps_the_median_excess() {
        let sbp = law(0.25);
        // The fitted shape: the fitted tail.
        let same = ScoringTails::new(&sbp, (0.25, 0.25), None);
        for r in [1.5, 3.0, 30.0] {
            let want = sbp.ln_sf(r);
            let got = same.ln_tail(r, true).unwrap();
            assert!((got - want).abs() < 1e-12 * want.abs(), "{r}: {got} {want}");
        }
        // Another shape: the same median excess, a heavier tail far out.
        let heavier = ScoringTails::new(&sbp, (0.5, 0.5), None);
        for upper in [true, false] {
            let median = heavier.quantile(0.025, upper).unwrap();
            let fitted = if upper {
                sbp.quantile(0.975)
            } else {
                sbp.quantile(0.025)
            };
            assert!((median - fitted).abs() < 1e-12, "{median} {fitted}");
            let far = if upper { 30.0 } else { -30.0 };
            assert!(heavier.ln_tail(far, upper).unwrap() > same.ln_tail(far, upper).unwrap());
        }
        // A bounded fit keeps its own tail (and its rule beyond the end point).
        let bounded = ScoringTails::new(&law(-0.25), (0.1, 0.1), None);
        assert_eq!(bounded, ScoringTails::default());
    }
}
