//! The generalized Pareto maximum-likelihood fit with the shape bounded above:
//! the maximum of the likelihood over `lower <= ξ <= max_shape`, for when the
//! unconstrained maximum lies above `max_shape`.
//!
//! The constrained maximum is on the edge `ξ = max_shape`, at an interior stationary
//! point of the likelihood, or on the lower edge; all three are computed and the best
//! one is returned.
//!
//! * **Edge `ξ = c`**: with the shape fixed at `c > 0` the log-likelihood in
//!   `θ = c/σ` has the score `(W/θ) [1 - (1 + c) A(θ)]` with
//!   `A(θ) = (1/W) Σ w θx/(1 + θx)`, which increases from 0 to 1: one root, the unique
//!   maximum, where `A(θ) = c/(1 + c)`.
//! * **Interior**: a stationary point with `ξ < c` is a stationary point of Grimshaw's
//!   profile `l*(θ)` (see `profile.rs`) where `ξ(θ) = mean ln(1 + θx) < c`. Since
//!   `ξ(θ)` increases with `θ`, that is the interval `θ < θ_c`, `ξ(θ_c) = c`. The
//!   profile is scanned on that interval in steps of 1 in `v = ln(1 + θ max x)` (the
//!   grid of the unconstrained fit's global scan) and every bracket where its score
//!   turns from positive to negative is refined to the local maximum. (When the
//!   profile is unimodal, as it nearly always is, its score is positive all the way
//!   to `θ_c` and the scan costs a handful of passes over the data.)
//! * **Lower edge**: the exponential fit (`ξ = 0`, scale the mean) when shapes are
//!   floored at 0; the uniform law on `[0, max x]` (`ξ = -1`) otherwise, the boundary
//!   candidate of the unconstrained fit.

use super::gpd::GpdEstimate;
use super::profile::{self, ProfilePoint};
use super::sample::Sample;
use crate::error::{Error, Result};

/// Grid step of the interior scan in `v = ln(1 + θ max x)`, as in the global scan of
/// the unconstrained fit.
const STEP: f64 = 1.0;
/// At most this many evaluations per root or local maximum.
const MAX_ITERATIONS: u32 = 200;

/// The maximum-likelihood GPD fit of `data` (positive exceedances, optional frequency
/// weights) over `lower <= ξ <= max_shape`, where `lower` is 0 (`floor_at_zero`) or
/// -1.
///
/// # Errors
///
/// The data errors of [`Checked<GpdFitter>::fit`](crate::Checked::<super::GpdFitter>::fit),
/// [`Error::NonPositiveParameter`] for a `max_shape` that is not positive and
/// [`Error::NotConverged`] if no candidate is finite.
pub(crate) fn fit_max_shape(
    data: &[f64],
    weights: Option<&[f64]>,
    max_shape: f64,
    floor_at_zero: bool,
) -> Result<GpdEstimate> {
    if !(max_shape > 0.0) {
        return Err(Error::NonPositiveParameter {
            name: "max_shape",
            value: max_shape,
        });
    }
    let mut sample = Sample::new("generalized Pareto fit", data, weights)?;
    let mut fit = Constrained {
        sample: &mut sample,
        c: max_shape,
        lower: if floor_at_zero { 0.0 } else { -1.0 },
        evaluations: 0,
    };
    let mut best = fit.edge();
    for candidate in [fit.interior(), Some(fit.lower_edge())]
        .into_iter()
        .flatten()
    {
        if best.is_none_or(|b| candidate.log_likelihood > b.log_likelihood) {
            best = Some(candidate);
        }
    }
    let evaluations = fit.evaluations;
    match best {
        Some(mut est) if est.scale > 0.0 && est.scale.is_finite() && est.shape.is_finite() => {
            est.iterations = evaluations;
            Ok(est)
        }
        _ => Err(Error::NotConverged {
            what: "shape-bounded generalized Pareto fit",
            iterations: u64::from(evaluations),
        }),
    }
}

struct Constrained<'s, 'a> {
    sample: &'s mut Sample<'a>,
    /// The bound `c` on the shape.
    c: f64,
    /// The lower end of the shape's range (0 or -1).
    lower: f64,
    evaluations: u32,
}

impl Constrained<'_, '_> {
    /// An estimate with this sample's bookkeeping.
    fn estimate(&self, shape: f64, scale: f64, log_likelihood: f64) -> GpdEstimate {
        GpdEstimate {
            shape,
            scale,
            log_likelihood,
            iterations: 0,
            at_boundary: false,
            count: self.sample.count,
            total_weight: self.sample.total,
        }
    }

    /// `(1/W) Σ w f(y)` over the points of positive weight, `y = x / max x`, for the
    /// two components of `f` in one pass.
    fn means(&mut self, f: impl Fn(f64) -> (f64, f64)) -> (f64, f64) {
        self.evaluations += 1;
        let inv = 1.0 / self.sample.x_max;
        let (a, b) = match self.sample.w {
            None => self.sample.x.iter().fold((0.0, 0.0), |(a, b), &x| {
                let (fa, fb) = f(x * inv);
                (a + fa, b + fb)
            }),
            Some(w) => self.sample.x.iter().zip(w).filter(|p| *p.1 > 0.0).fold(
                (0.0, 0.0),
                |(a, b), (&x, &w)| {
                    let (fa, fb) = f(x * inv);
                    (a + w * fa, b + w * fb)
                },
            ),
        };
        (a / self.sample.total, b / self.sample.total)
    }

    /// The maximum on the edge `ξ = c`.
    fn edge(&mut self) -> Option<GpdEstimate> {
        let c = self.c;
        let target = c / (1.0 + c);
        // A(u) <= u mean y and A(u) >= u y_min/(1 + u y_min) bracket the root.
        let y_min = self.sample.x_min / self.sample.x_max;
        let lo = target / self.sample.mean_y;
        let hi = c / y_min;
        let u = self.increasing_root(lo, hi, 1e-15, |this, u| {
            let (a, da) = this.means(|y| {
                let q = 1.0 / (1.0 + u * y);
                (u * y * q, y * q * q)
            });
            (a - target, da)
        })?;
        let scale = c * self.sample.x_max / u;
        let sum_ln = self.means(|y| ((u * y).ln_1p(), 0.0)).0 * self.sample.total;
        let ll = -self.sample.total * scale.ln() - (1.0 + 1.0 / c) * sum_ln;
        ll.is_finite().then(|| self.estimate(c, scale, ll))
    }

    /// The best interior local maximum with `lower < ξ < c`, if any.
    fn interior(&mut self) -> Option<GpdEstimate> {
        let c = self.c;
        // ξ(u) = mean ln(1 + u y) is squeezed between ln(1 + u y_min) and
        // ln(1 + u mean y) (Jensen).
        let y_min = self.sample.x_min / self.sample.x_max;
        let e = c.exp_m1();
        // Only the scan's range depends on θ_c (the edge itself is the candidate
        // above), so a loose tolerance does.
        let u_c = self.increasing_root(e / self.sample.mean_y, e / y_min, 1e-8, |this, u| {
            let (xi, dxi) = this.means(|y| ((u * y).ln_1p(), y / (1.0 + u * y)));
            (xi - c, dxi)
        })?;
        let v_c = u_c.ln_1p();
        // Nodes from v_c down to the lower edge: v = 0 (ξ = 0) when floored, else on
        // until ξ(θ) drops below -1, the profile is infeasible, or everything further
        // left is dominated by the ξ = -1 candidate.
        let mut best: Option<ProfilePoint> = None;
        let mut right = (v_c, self.profile(v_c));
        loop {
            let v = if self.lower == 0.0 {
                (right.0 - STEP).max(0.0)
            } else if right.0 - STEP < -1.0 {
                // Towards u = -1 (v = -∞) the nodes double their distance, as in the
                // global scan of the unconstrained fit.
                (2.0 * right.0).min(right.0 - STEP)
            } else {
                right.0 - STEP
            };
            let p = self.profile(v);
            self.refine(v, p, right.0, right.1, &mut best);
            let stop = (self.lower == 0.0 && v <= 0.0)
                || v < -64.0
                || !p.feasible
                || p.xi < self.lower
                || (p.u < 0.0 && p.sigma_y >= 1.0)
                || self.evaluations > 20 * MAX_ITERATIONS;
            if stop {
                break;
            }
            right = (v, p);
        }
        let p = best?;
        (p.xi >= self.lower && p.xi <= c)
            .then(|| self.estimate(p.xi, p.sigma_y * self.sample.x_max, p.ll))
    }

    /// The candidate on the lower edge of the shape's range.
    fn lower_edge(&mut self) -> GpdEstimate {
        let w = self.sample.total;
        if self.lower == 0.0 {
            let mean = self.sample.mean_y * self.sample.x_max;
            self.estimate(0.0, mean, -w * (mean.ln() + 1.0))
        } else {
            let x_max = self.sample.x_max;
            GpdEstimate {
                at_boundary: true,
                ..self.estimate(-1.0, x_max, -w * x_max.ln())
            }
        }
    }

    fn profile(&mut self, v: f64) -> ProfilePoint {
        self.evaluations += 1;
        profile::evaluate(self.sample, v)
    }

    /// If the profile's score turns from positive at `va` to negative at `vb`, finds
    /// the local maximum between them and keeps it in `best` if it is higher.
    fn refine(
        &mut self,
        va: f64,
        pa: ProfilePoint,
        vb: f64,
        pb: ProfilePoint,
        best: &mut Option<ProfilePoint>,
    ) {
        if !(pa.feasible && pb.feasible && pa.score > 0.0 && pb.score < 0.0) {
            return;
        }
        let (mut a, mut b) = (va, vb);
        let mut v = 0.5 * (a + b);
        let mut found = None;
        for _ in 0..MAX_ITERATIONS {
            let p = self.profile(v);
            if !p.feasible {
                break;
            }
            if p.score > 0.0 {
                a = v;
            } else {
                b = v;
            }
            found = Some(p);
            // Newton in v (du/dv = 1 + u), kept inside the bracket.
            let newton = v - p.score / (p.curvature * (1.0 + p.u));
            let next = if p.curvature < 0.0 && newton > a && newton < b {
                newton
            } else {
                0.5 * (a + b)
            };
            if (next - v).abs() <= 1e-13 * (1.0 + v.abs()) || b - a <= 1e-13 * (1.0 + a.abs()) {
                break;
            }
            v = next;
        }
        if let Some(p) = found
            && best.is_none_or(|q| p.ll > q.ll)
        {
            *best = Some(p);
        }
    }

    /// The root in `[lo, hi]` (both positive) of an increasing `h(u)`, given with its
    /// derivative, by Newton steps in `ln u` safeguarded by bisection, to a relative
    /// accuracy `tolerance` in `u`.
    fn increasing_root(
        &mut self,
        mut lo: f64,
        mut hi: f64,
        tolerance: f64,
        h: impl Fn(&mut Self, f64) -> (f64, f64),
    ) -> Option<f64> {
        if !(lo > 0.0 && hi >= lo && hi.is_finite()) {
            return None;
        }
        let (mut s_lo, mut s_hi) = (lo.ln(), hi.ln());
        let mut s = 0.5 * (s_lo + s_hi);
        for _ in 0..MAX_ITERATIONS {
            let u = s.exp();
            let (value, slope) = h(self, u);
            if !value.is_finite() {
                return None;
            }
            if value == 0.0 {
                return Some(u);
            }
            if value < 0.0 {
                (s_lo, lo) = (s, u);
            } else {
                (s_hi, hi) = (s, u);
            }
            let newton = s - value / (slope * u);
            let next = if newton > s_lo && newton < s_hi {
                newton
            } else {
                0.5 * (s_lo + s_hi)
            };
            if hi - lo <= tolerance * hi || (next - s).abs() <= 0.1 * tolerance * (1.0 + s.abs()) {
                return Some(next.exp().clamp(lo, hi));
            }
            s = next;
        }
        Some(0.5 * (lo + hi))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Check;
    use crate::GeneralizedPareto;
    use crate::fit::GpdFitter;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    fn ll(x: &[f64], w: Option<&[f64]>, shape: f64, scale: f64) -> f64 {
        let g = GeneralizedPareto::new(shape, scale).unwrap();
        x.iter()
            .enumerate()
            .map(|(i, &v)| w.map_or(1.0, |w| w[i]) * g.ln_pdf(v))
            .sum()
    }

    /// The best log-likelihood over a grid of shapes in `[lower, c]`, each with its
    /// scale maximised by a golden-section search on `ln σ` (unimodal for a fixed
    /// shape `>= 0`): an independent, brute-force reference.
    fn brute_force(x: &[f64], w: Option<&[f64]>, lower: f64, c: f64) -> (f64, f64, f64) {
        let x_max = x.iter().copied().fold(0.0, f64::max);
        let mut best = (f64::NEG_INFINITY, 0.0, 0.0);
        for i in 0..=200 {
            let xi = lower + (c - lower) * i as f64 / 200.0;
            // For ξ < 0 the support needs σ > -ξ max x.
            let floor = if xi < 0.0 {
                -xi * x_max * (1.0 + 1e-12)
            } else {
                0.0
            };
            let (mut a, mut b) = ((floor.max(1e-6 * x_max)).ln(), (1e3 * x_max).ln());
            let f = |s: f64| ll(x, w, xi, s.exp());
            let g = 0.5 * (5f64.sqrt() - 1.0);
            for _ in 0..70 {
                let (m1, m2) = (b - g * (b - a), a + g * (b - a));
                if f(m1) < f(m2) {
                    a = m1;
                } else {
                    b = m2;
                }
            }
            let value = f(0.5 * (a + b));
            if value > best.0 {
                best = (value, xi, (0.5 * (a + b)).exp());
            }
        }
        best
    }

    /// Small samples with a few far outliers, whose unconstrained shape is large.
    fn outlying(rng: &mut StdRng, n: usize) -> Vec<f64> {
        let mut x: Vec<f64> = (0..n).map(|_| -rng.random::<f64>().ln() * 0.05).collect();
        for v in x.iter_mut().take(2) {
            *v *= rng.random_range(20.0..400.0);
        }
        x
    }

    #[test]
    fn matches_a_brute_force_maximum_over_the_bounded_shapes() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut bound = 0;
        for case in 0..24 {
            let n = rng.random_range(10..30);
            let x = outlying(&mut rng, n);
            let w: Vec<f64> = (0..n).map(|_| rng.random_range(0.2..2.0)).collect();
            let weights = (case % 2 == 1).then_some(&w[..]);
            let c = [0.5, 1.0][case % 4 / 2];
            let free = GpdFitter::default()
                .check()
                .unwrap()
                .fit(&x, weights)
                .unwrap();
            for floor_at_zero in [true, false] {
                let lower = if floor_at_zero { 0.0 } else { -0.99 };
                let est = fit_max_shape(&x, weights, c, floor_at_zero).unwrap();
                assert!(est.shape <= c && est.shape >= lower - 0.01, "case {case}");
                // The log-likelihood is the one at the returned parameters ...
                let at = ll(&x, weights, est.shape, est.scale);
                assert!((at - est.log_likelihood).abs() < 1e-9 * (1.0 + at.abs()));
                // ... no higher than the unconstrained maximum, and at least the
                // brute-force maximum over the same range (up to the grid's accuracy).
                assert!(
                    est.log_likelihood <= free.log_likelihood + 1e-9 * free.log_likelihood.abs()
                );
                let (reference, xi, _) = brute_force(&x, weights, lower, c);
                assert!(
                    est.log_likelihood >= reference - 1e-7 * (1.0 + reference.abs()),
                    "case {case}: {est:?} vs ({reference}, ξ = {xi})"
                );
                assert!(est.log_likelihood <= reference + 1e-3 * (1.0 + reference.abs()));
                if free.shape > c {
                    bound += 1;
                    // Not a clamp: the unconstrained scale with ξ = c is worse.
                    let clamped = ll(&x, weights, c, free.scale);
                    assert!(est.log_likelihood >= clamped, "case {case}");
                }
            }
        }
        assert!(bound >= 16, "{bound} of 48 fits had a binding bound");
    }

    #[test]
    fn the_edge_maximum_is_stationary_in_the_scale() {
        let mut rng = StdRng::seed_from_u64(8);
        for _ in 0..20 {
            let x = outlying(&mut rng, 15);
            let free = GpdFitter::default().check().unwrap().fit(&x, None).unwrap();
            if free.shape <= 1.0 {
                continue;
            }
            let est = fit_max_shape(&x, None, 1.0, true).unwrap();
            if est.shape == 1.0 {
                let h = 1e-6 * est.scale;
                let d = (ll(&x, None, 1.0, est.scale + h) - ll(&x, None, 1.0, est.scale - h))
                    / (2.0 * h);
                assert!(d.abs() < 1e-4 * x.len() as f64 / est.scale, "{d}");
                // And the likelihood rises towards larger shapes (the bound binds).
                assert!(ll(&x, None, 1.0 + 1e-4, est.scale) > est.log_likelihood);
            }
        }
    }

    #[test]
    fn bad_bounds_and_data_are_errors() {
        let x = [0.1, 0.5, 3.0];
        assert!(fit_max_shape(&x, None, 0.0, true).is_err());
        assert!(fit_max_shape(&x, None, f64::NAN, true).is_err());
        assert!(fit_max_shape(&[1.0, 1.0], None, 1.0, true).is_err());
        assert!(fit_max_shape(&[1.0, f64::NAN], None, 1.0, true).is_err());
    }
}
