//! The rules of the spliced fit that a rolling forecaster needs and a one-off fit
//! may choose: the central grid, empirical thresholds with the body aligned on them,
//! and the tail policy (shape floor and bound, fallbacks, rescaled exceedances).
//!
//! [`SbpFitter`](super::SbpFitter) applies them to a data slice and the rolling
//! forecaster to its incrementally maintained window: both call these functions, so
//! the two give the same distribution for the same points and the same search (see
//! [`SbpConfig`]'s options).

use serde::{Deserialize, Serialize};

use super::binned::BodyEstimator;
use super::constrained::fit_max_shape;
use super::gpd::GpdEstimate;
use super::spliced::SbpConfig;
use crate::GeneralizedPareto;
use crate::checked::Checked;
use crate::error::{Error, Result};
use crate::numeric::{lower_point, upper_point, weighted_quantile_sorted};

/// The automatic grid of [`Bounds::Central`](super::Bounds::Central) for the points
/// `(value, weight)` in `sorted` (sorted here): the weighted quantiles `q_l`, `q_u`
/// at the tail masses, widened by `margin · (q_u - q_l)` on each side (the min-max
/// span when the quantiles coincide), with the span kept resolvable next to the
/// values' magnitude and the grid finite.
pub(crate) fn central_grid(
    sorted: &mut [(f64, f64)],
    masses: (f64, f64),
    margin: f64,
) -> (f64, f64) {
    let (p_l, p_u) = masses;
    let (q_l, q_u, min, max) = match unit_weight_quantiles(sorted, p_l, 1.0 - p_u) {
        Some(found) => found,
        None => {
            sorted.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
            let total: f64 = sorted.iter().map(|p| p.1).sum();
            (
                weighted_quantile_sorted(sorted, total, p_l),
                weighted_quantile_sorted(sorted, total, 1.0 - p_u),
                sorted.first().map_or(0.0, |p| p.0),
                sorted.last().map_or(0.0, |p| p.0),
            )
        }
    };
    let magnitude = q_l.abs().max(q_u.abs());
    let mut span = q_u - q_l;
    if !(span > 0.0) {
        span = max - min;
    }
    // Bins must stay resolvable next to the magnitude of the values, and finite.
    let span = span.max(1e-9 * magnitude).clamp(1e-300, f64::MAX / 8.0);
    let low = (q_l - margin * span).clamp(-f64::MAX / 4.0, f64::MAX / 4.0);
    let high = (q_u + margin * span).clamp(-f64::MAX / 4.0, f64::MAX / 4.0);
    if low < high {
        (low, high)
    } else {
        // Values beyond ±MAX/4: a grid of the largest width that stays finite.
        let centre = (q_l / 2.0 + q_u / 2.0).clamp(-f64::MAX / 8.0, f64::MAX / 8.0);
        (centre - span / 2.0, centre + span / 2.0)
    }
}

/// What [`central_grid`] reads from the sorted points — the weighted quantiles at
/// `p` and `q` and the smallest and largest value — when every weight is 1, found
/// by selection in O(n) instead of a sort; `None` for other weights or no points.
///
/// With unit weights the running total after the `j`-th sorted point is `j + 1`
/// exactly, so [`weighted_quantile_sorted`] returns the order statistic of rank
/// `ceil(p n) - 1` (at least 0; the last for `p n > n` or NaN). Points that tie
/// under `total_cmp` have the same bits, so the selected value is the one the sort
/// puts there.
fn unit_weight_quantiles(
    points: &mut [(f64, f64)],
    p: f64,
    q: f64,
) -> Option<(f64, f64, f64, f64)> {
    let n = points.len();
    if n == 0 || n as f64 > 2f64.powi(52) || points.iter().any(|pt| pt.1 != 1.0) {
        return None;
    }
    let total = n as f64;
    let rank = |p: f64| {
        let target = p * total;
        if target <= total {
            (target.ceil().max(1.0) as usize - 1).min(n - 1)
        } else {
            n - 1
        }
    };
    let by_value = |a: &(f64, f64), b: &(f64, f64)| a.0.total_cmp(&b.0);
    let (k_p, k_q) = (rank(p), rank(q));
    let (lo, hi) = (k_p.min(k_q), k_p.max(k_q));
    let at_lo = points.select_nth_unstable_by(lo, by_value).1.0;
    // After the first selection the points above `lo` are all at or above it: the
    // second is selected among them.
    let at_hi = if hi == lo {
        at_lo
    } else {
        points[lo + 1..]
            .select_nth_unstable_by(hi - lo - 1, by_value)
            .1
            .0
    };
    let (q_p, q_q) = if k_p <= k_q {
        (at_lo, at_hi)
    } else {
        (at_hi, at_lo)
    };
    // The smallest is at or below `lo`, the largest at or above `hi`.
    let min = points[..=lo]
        .iter()
        .min_by(|a, b| by_value(a, b))
        .map_or(0.0, |pt| pt.0);
    let max = points[hi..]
        .iter()
        .max_by(|a, b| by_value(a, b))
        .map_or(0.0, |pt| pt.0);
    Some((q_p, q_q, min, max))
}

/// The body of [`Thresholds::Empirical`](super::Thresholds::Empirical) from raw
/// (weighted) bin counts on the estimator's grid: returns the thresholds (the
/// counts' quantiles at the tail masses, interpolated within their bins) and writes
/// the body's weights, aligned on them, into `probs` in count units (the
/// distribution normalises them); `None` if the counts hold no weight or the
/// estimator rejects them.
pub(crate) fn empirical_body(
    estimator: &BodyEstimator,
    counts: &[f64],
    masses: (f64, f64),
    probs: &mut Vec<f64>,
) -> Option<(f64, f64)> {
    // The checks of `BodyEstimator::probabilities_from_counts` in the pass that
    // sums: a finite total means finite counts.
    let (total, any_sign) = crate::numeric::sum_and_any_sign(counts);
    let negative = any_sign && counts.iter().any(|&c| c < 0.0);
    if !(total > 0.0 && total.is_finite()) || negative || counts.len() != estimator.bins() {
        return None;
    }
    let (low, high) = estimator.range();
    let (p_l, p_u) = masses;
    let tau_l = lower_point(counts, total, low, high, p_l);
    let tau_u = upper_point(counts, total, low, high, p_u);
    probs.clear();
    probs.extend_from_slice(counts);
    // Left in count units (the alignment is homogeneous; the distribution
    // normalises): with equal weights the counts and their sums are exact, so that a
    // refit changes only the bins whose counts changed, and the body's update takes
    // the logarithm of only those densities.
    estimator.smooth_and_pad(probs).ok()?;
    align_thresholds(probs, low, high, (tau_l, tau_u), masses);
    Some((tau_l, tau_u))
}

/// Rescales the body weights (normalised or not: the conditions below are
/// homogeneous) beyond the thresholds' bins so that
/// the body's quantiles at `p_l` and `1 - p_u` are exactly `τ_l` and `τ_u`, keeping
/// the bins between them as they are. With `a` and `b` the new masses below bin
/// `k_l` and above bin `k_u`, `I` the mass of bins `k_l..=k_u`, `f_l` the fraction of
/// bin `k_l` below `τ_l` and `g_u` that of bin `k_u` above `τ_u`, the conditions
/// `a + π_{k_l} f_l = p_l T` and `b + π_{k_u} g_u = p_u T` with `T = a + I + b` are two
/// linear equations in `a` and `b`. If their solution is not admissible (a negative
/// mass, or mass where there is no bin) the probabilities are left alone.
pub(crate) fn align_thresholds(
    probs: &mut [f64],
    low: f64,
    high: f64,
    tau: (f64, f64),
    p: (f64, f64),
) {
    let k = probs.len();
    let scale = k as f64 / (high - low);
    let position = |x: f64| ((x - low) * scale).clamp(0.0, k as f64);
    let (xl, xu) = (position(tau.0), position(tau.1));
    let kl = (xl as usize).min(k - 1);
    let ku = (xu as usize).min(k - 1);
    let f_l = xl - kl as f64;
    let g_u = (ku + 1) as f64 - xu;
    let lower: f64 = probs[..kl].iter().sum();
    let upper: f64 = probs[ku + 1..].iter().sum();
    let inner: f64 = probs[kl..=ku].iter().sum();
    let (p_l, p_u) = p;
    let r1 = p_l * inner - probs[kl] * f_l;
    let r2 = p_u * inner - probs[ku] * g_u;
    let det = 1.0 - p_l - p_u;
    let a = ((1.0 - p_u) * r1 + p_l * r2) / det;
    let b = (p_u * r1 + (1.0 - p_l) * r2) / det;
    let admissible =
        |mass: f64, bins: usize| mass >= 0.0 && mass.is_finite() && (mass == 0.0 || bins > 0);
    if !(admissible(a, kl) && admissible(b, k - 1 - ku)) {
        return;
    }
    let spread = |region: &mut [f64], current: f64, target: f64| {
        if current > 0.0 {
            let factor = target / current;
            region.iter_mut().for_each(|q| *q *= factor);
        } else if !region.is_empty() {
            let each = target / region.len() as f64;
            region.iter_mut().for_each(|q| *q = each);
        }
    };
    spread(&mut probs[..kl], lower, a);
    spread(&mut probs[ku + 1..], upper, b);
}

/// A warm start for a tail fit: a previous unconstrained maximum-likelihood
/// `(shape, scale)`, in the data's units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct Start {
    pub(crate) shape: f64,
    pub(crate) scale: f64,
}

/// What [`fit_tail`](Checked::<SbpConfig>::fit_tail) returns.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TailOutcome {
    /// The tail's GPD.
    pub(crate) gpd: GeneralizedPareto,
    /// Its estimate in the data's units (`log_likelihood` at `gpd` on the
    /// exceedances); `None` when there was nothing to fit (a fallback tail).
    pub(crate) estimate: Option<GpdEstimate>,
    /// The next warm start: the unconstrained estimate, or the given start when no
    /// fit succeeded.
    pub(crate) start: Option<Start>,
    /// The power of two the exceedances were divided by (1 without rescaling).
    pub(crate) unit: f64,
}

/// Scaled exceedances are at least this (relative to the largest, about 1): below,
/// a point is at the threshold for every purpose of the fit.
const SMALLEST_SCALED_EXCESS: f64 = 1e-300;

/// A power of two near the largest of `excess` and its inverse, both exact: the
/// unit rescaled tail fits work in. 1 when there is no positive finite exceedance.
fn excess_unit(excess: &[f64]) -> (f64, f64) {
    let max = excess.iter().fold(0.0, |m: f64, &x| m.max(x));
    if !(max > 0.0 && max.is_finite()) {
        return (1.0, 1.0);
    }
    // The exponent of `max`, kept where both the unit and its inverse are normal.
    let e = max.log2().floor().clamp(-1000.0, 1000.0);
    (e.exp2(), (-e).exp2())
}

impl Checked<SbpConfig> {
    /// The admissible tail shapes `[lowest, highest]`.
    pub(crate) fn shape_range(&self) -> (f64, f64) {
        let lowest = if self.allow_bounded_tails() {
            f64::NEG_INFINITY
        } else {
            0.0
        };
        (lowest, self.max_tail_shape())
    }

    /// Fits one tail to its exceedances `excess` (positive; rescaled in place when
    /// the configuration says so) with `weights` (same length; used only when
    /// `weighted`), by the tail policy of this configuration:
    ///
    /// * the GPD fit of the configured [`GpdFitter`](super::GpdFitter): cold when
    ///   there is no `start`, else from `start`, with the configured search when
    ///   `global` and a local one otherwise;
    /// * a shape below the floor (0 unless bounded tails are allowed) is replaced by
    ///   the constrained maximum, the exponential fit; one above the bound by the
    ///   maximum over the admissible shapes;
    /// * with fallbacks: a failed fit is retried locally from the exponential fit,
    ///   too few exceedances or a failure give the exponential fit (mean excess as
    ///   scale), and no exceedance at all keeps `previous` (if admissible) or uses
    ///   the exponential law of scale `bin_width`. Without fallbacks these are errors.
    ///
    /// `what` names the tail in errors.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn fit_tail(
        &self,
        what: &'static str,
        excess: &mut [f64],
        weights: &[f64],
        weighted: bool,
        start: Option<Start>,
        global: bool,
        previous: Option<GeneralizedPareto>,
        bin_width: f64,
    ) -> Result<TailOutcome> {
        let (unit, inv) = if self.rescale_exceedances() {
            let (unit, inv) = excess_unit(excess);
            for x in excess.iter_mut() {
                *x = (*x * inv).max(SMALLEST_SCALED_EXCESS);
            }
            (unit, inv)
        } else {
            (1.0, 1.0)
        };
        let w = weighted.then_some(weights);
        let to_gpd = |shape: f64, scaled: f64| {
            GeneralizedPareto::new(shape, (scaled * unit).clamp(f64::MIN_POSITIVE, f64::MAX))
        };
        let to_start = |shape: f64, scaled: f64| Start {
            shape,
            scale: (scaled * unit).clamp(f64::MIN_POSITIVE, f64::MAX),
        };
        // An estimate on the scaled exceedances in the data's units.
        let ln_unit = unit.ln();
        let unscaled = |e: GpdEstimate| GpdEstimate {
            scale: (e.scale * unit).clamp(f64::MIN_POSITIVE, f64::MAX),
            log_likelihood: e.log_likelihood - e.total_weight * ln_unit,
            ..e
        };
        // The weighted mean excess: the exponential (ξ = 0) maximum-likelihood scale,
        // the fallback tail and the start of a fit that has nothing better.
        let (sum, total) = excess
            .iter()
            .zip(weights)
            .fold((0.0, 0.0), |(a, b), (&x, &w)| (a + w * x, b + w));
        let mean = sum / total;
        let exponential = |gpd: GeneralizedPareto| {
            let count = excess
                .iter()
                .zip(weights)
                .filter(|&(_, &w)| w > 0.0)
                .count();
            let scale = gpd.scale();
            GpdEstimate {
                shape: 0.0,
                scale,
                log_likelihood: -total * (scale.ln() + 1.0),
                iterations: 0,
                at_boundary: false,
                count,
                total_weight: total,
            }
        };
        let (lowest, highest) = self.shape_range();
        let fallbacks = self.tail_fallbacks();
        let needed = self.exceedances_needed();
        let outcome = |gpd: GeneralizedPareto, estimate, start| TailOutcome {
            gpd,
            estimate,
            start,
            unit,
        };
        if excess.len() >= needed {
            let configured = self.gpd_fitter();
            // The same settings without the global search: still valid.
            let local = Checked::after_check(configured.into_config().global(false));
            let fitted = match start {
                Some(st) => {
                    let fitter = if global { configured } else { local };
                    let scale = (st.scale * inv).max(f64::MIN_POSITIVE);
                    fitter.fit_with_start(excess, w, st.shape, scale)
                }
                None => configured.fit(excess, w),
            };
            let fitted = if fallbacks {
                fitted.or_else(|_| local.fit_with_start(excess, w, 0.0, mean))
            } else {
                fitted
            };
            match fitted {
                Ok(est) => {
                    // The unconstrained optimum stays the warm start either way.
                    let next = Some(to_start(est.shape, est.scale));
                    let admissible = if est.shape > highest {
                        // The maximum over the admissible shapes, on the edge ξ = c
                        // unless the likelihood has a higher local maximum below it.
                        let floor = !self.allow_bounded_tails();
                        match fit_max_shape(excess, w, highest, floor) {
                            Ok(b) => Some(b),
                            Err(e) if !fallbacks => return Err(e),
                            Err(_) => None,
                        }
                    } else if est.shape >= lowest {
                        Some(est)
                    } else {
                        None
                    };
                    // Whatever the fit returned, only an admissible shape is used.
                    if let Some(b) = admissible
                        && b.shape >= lowest
                        && b.shape <= highest
                        && let Ok(g) = to_gpd(b.shape, b.scale)
                    {
                        return Ok(outcome(g, Some(unscaled(b)), next));
                    }
                    // Floored at ξ = 0 (or a failed bounded fit): for a likelihood
                    // unimodal in ξ the constrained maximum below the floor is the
                    // exponential fit, whose scale is the mean excess.
                    if let Ok(g) = to_gpd(0.0, mean) {
                        return Ok(outcome(g, Some(exponential(g)), next));
                    }
                }
                Err(e) if !fallbacks => return Err(e),
                Err(_) => {}
            }
        } else if !fallbacks {
            return Err(Error::TooFewObservations {
                what,
                needed,
                got: excess.len(),
            });
        }
        if let Ok(g) = to_gpd(0.0, mean) {
            return Ok(outcome(g, Some(exponential(g)), start));
        }
        if !fallbacks {
            return Err(Error::NotConverged {
                what,
                iterations: 0,
            });
        }
        // No exceedance: the previous tail is kept if it is admissible.
        if let Some(current) = previous {
            let shape = current.shape();
            if shape >= lowest && shape <= highest {
                return Ok(outcome(current, None, start));
            }
        }
        let scale = if bin_width > 0.0 && bin_width.is_finite() {
            bin_width
        } else {
            1.0
        };
        let gpd = GeneralizedPareto::exponential(scale).unwrap_or_else(|_| unit_exponential());
        Ok(outcome(gpd, None, start))
    }
}

/// The unit exponential (for the unreachable case of a bad fallback scale).
fn unit_exponential() -> GeneralizedPareto {
    GeneralizedPareto::exponential(1.0).unwrap_or_else(|_| unreachable!("1 is a valid scale"))
}

/// Imputed points per truncated tail.
const IMPUTED: usize = 4;

/// Appends to the exceedances `excess` (weights `weights`) the part of the tail
/// beyond `cut` that truncation removed, as `gpd` (the current fit) predicts it:
/// total weight `W S(cut) / F(cut)` (`W` the observed weight) at the
/// [`IMPUTED`] conditional quantiles `(j - 1/2) / IMPUTED` beyond `cut`. Returns
/// whether anything was added (not for a cut that is not positive and finite, nor
/// when no observed exceedance lies below it, nor when the predicted weight is
/// negligible). One step of the EM algorithm for truncated data: it needs the
/// current fit, so only a rolling refit applies it.
pub(crate) fn impute_truncated(
    gpd: &GeneralizedPareto,
    cut: f64,
    excess: &mut Vec<f64>,
    weights: &mut Vec<f64>,
) -> bool {
    if !(cut > 0.0 && cut.is_finite()) || excess.is_empty() {
        return false;
    }
    let beyond = gpd.sf(cut);
    let observed: f64 = weights.iter().sum();
    let missing = observed * beyond / (1.0 - beyond);
    if !(missing > 1e-9 * observed && missing.is_finite()) {
        return false;
    }
    // Beyond the cut the GPD is again a GPD, with scale σ + ξ·cut.
    let Ok(rest) = GeneralizedPareto::new(gpd.shape(), gpd.scale() + gpd.shape() * cut) else {
        return false;
    };
    for j in 0..IMPUTED {
        let x = cut + rest.quantile((j as f64 + 0.5) / IMPUTED as f64);
        if x.is_finite() {
            excess.push(x);
            weights.push(missing / IMPUTED as f64);
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Binned;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    #[test]
    fn unit_weight_selection_is_the_sorted_quantiles_bit_for_bit() {
        let mut rng = StdRng::seed_from_u64(13);
        for trial in 0..400 {
            let n = 1 + trial % 37 + if trial % 5 == 0 { 1000 } else { 0 };
            // Few distinct values (ties, signed zeros) or continuous ones.
            let points: Vec<(f64, f64)> = (0..n)
                .map(|_| {
                    let x = if trial % 2 == 0 {
                        [0.0, -0.0, 1.0, -2.5, 3.0][rng.random_range(0..5)]
                    } else {
                        rng.random::<f64>() - 0.5
                    };
                    (x, 1.0)
                })
                .collect();
            let (p, q) = (rng.random::<f64>() * 0.5, 0.5 + rng.random::<f64>() * 0.5);
            for (p, q) in [(p, q), (q, p), (0.0, 1.0), (0.05, 0.95), (p, p)] {
                let mut sorted = points.clone();
                sorted.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
                let total: f64 = sorted.iter().map(|pt| pt.1).sum();
                let want = (
                    weighted_quantile_sorted(&sorted, total, p),
                    weighted_quantile_sorted(&sorted, total, q),
                    sorted[0].0,
                    sorted[n - 1].0,
                );
                let got = unit_weight_quantiles(&mut points.clone(), p, q).unwrap();
                let bits = |t: (f64, f64, f64, f64)| [t.0, t.1, t.2, t.3].map(f64::to_bits);
                assert_eq!(bits(got), bits(want), "trial {trial}, n {n}, p {p}, q {q}");
            }
        }
        // Other weights take the sort.
        assert!(unit_weight_quantiles(&mut [(1.0, 1.0), (2.0, 0.5)], 0.1, 0.9).is_none());
        assert!(unit_weight_quantiles(&mut [], 0.1, 0.9).is_none());
    }

    #[test]
    fn aligned_body_quantiles_are_the_thresholds() {
        let mut rng = StdRng::seed_from_u64(9);
        for case in 0..200 {
            let k = 100;
            let mut probs: Vec<f64> = (0..k).map(|_| rng.random::<f64>() + 0.01).collect();
            let total: f64 = probs.iter().sum();
            probs.iter_mut().for_each(|p| *p /= total);
            let tau_l = rng.random_range(2.0..8.0);
            let tau_u = rng.random_range(12.0..18.0);
            align_thresholds(&mut probs, 0.0, 20.0, (tau_l, tau_u), (0.05, 0.1));
            let b = Binned::equal_width(0.0, 20.0, probs.clone()).unwrap();
            assert!((b.quantile(0.05) - tau_l).abs() < 1e-9, "case {case}");
            assert!((b.quantile(0.9) - tau_u).abs() < 1e-9, "case {case}");
        }
        // Inadmissible (the inner bins alone already hold more than p_l below τ_l):
        // left unchanged.
        let mut probs = vec![0.0, 0.9, 0.1];
        align_thresholds(&mut probs, 0.0, 3.0, (1.5, 2.5), (0.05, 0.05));
        assert_eq!(probs, [0.0, 0.9, 0.1]);
    }
}
