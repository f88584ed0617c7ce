//! Maximum-likelihood fit of the generalized Pareto distribution.
//!
//! The two-parameter problem is reduced to Grimshaw's (1993) one-dimensional profile
//! likelihood in `θ = ξ/σ` (see `profile.rs`), which is maximised by a safeguarded
//! Newton iteration (bisection whenever a step leaves the current bracket or fails to
//! shrink it), started from the method-of-moments estimate or from a caller's warm
//! start. A branch-and-bound scan then proves (up to the resolution stated on
//! [`GpdFitter::global`]) that no other local maximum of the profile is higher, and the
//! boundary `ξ = -1` is compared explicitly.

use serde::{Deserialize, Serialize};

use super::profile::{self, ProfilePoint};
use super::sample::Sample;
use crate::GeneralizedPareto;
use crate::error::{Error, Result};

/// Options of the generalized Pareto maximum-likelihood fit, and the allocation-free
/// entry points a rolling forecaster calls at every step.
///
/// The fit maximises the (weighted) log-likelihood over `ξ >= -1`, `σ > 0`. Below
/// `ξ = -1` the likelihood is unbounded (it grows without limit as the upper endpoint
/// `-σ/ξ` closes on the largest observation), so no maximum exists there; the
/// estimate is restricted to `ξ >= -1`, and when the best value in that range is on
/// the boundary the fit reports `ξ = -1`, `σ = max(x)` (the uniform law on
/// `[0, max x]`) with [`GpdEstimate::at_boundary`] set.
///
/// * [`fit`](Self::fit): cold start from the method of moments.
/// * [`fit_with_start`](Self::fit_with_start): warm start from a previous estimate;
///   on a window that changed by a few points the Newton iteration converges in two or
///   three passes over the data.
///
/// Both take optional frequency weights, allocate nothing and return a `Copy`
/// [`GpdEstimate`]. With [`global(true)`](Self::global) (the default) a scan of the
/// whole profile follows the local search; turn it off for the hot path of a rolling
/// refit that starts from the previous step's optimum.
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::fit::GpdFitter;
/// use tailcast::GeneralizedPareto;
///
/// // Quantiles of GPD(0.25, 2) as a smooth stand-in for a sample.
/// let truth = GeneralizedPareto::new(0.25, 2.0)?;
/// let x: Vec<f64> = (1..=400).map(|i| truth.quantile((i as f64 - 0.5) / 400.0)).collect();
/// let fitter = GpdFitter::default();
/// let est = fitter.fit(&x, None)?;
/// assert!((est.shape - 0.25).abs() < 0.05 && (est.scale - 2.0).abs() < 0.1);
///
/// // A refit after one new point, warm-started and without the global scan.
/// let mut y = x.clone();
/// y[0] = 7.5;
/// let fast = GpdFitter::default().global(false);
/// let again = fast.fit_with_start(&y, None, est.shape, est.scale)?;
/// assert!(again.iterations <= 4);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GpdFitter {
    max_iterations: u32,
    tolerance: f64,
    global: bool,
}

impl Default for GpdFitter {
    /// At most 200 profile evaluations, tolerance `1e-15`, global scan on.
    fn default() -> Self {
        Self {
            max_iterations: 200,
            tolerance: 1e-15,
            global: true,
        }
    }
}

/// The result of [`GpdFitter::fit`]: small and `Copy`, for hot loops.
///
/// `shape` and `scale` always form a valid [`GeneralizedPareto`]
/// ([`dist`](Self::dist) cannot fail) and `log_likelihood` is the weighted
/// log-likelihood `Σ w ln pdf(x)` at exactly these parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GpdEstimate {
    /// Fitted shape `ξ >= -1`.
    pub shape: f64,
    /// Fitted scale `σ > 0`.
    pub scale: f64,
    /// Weighted log-likelihood at the estimate.
    pub log_likelihood: f64,
    /// Number of passes over the data (profile evaluations) the fit took.
    pub iterations: u32,
    /// The maximum is on the boundary `ξ = -1` (then `scale` is the largest point).
    pub at_boundary: bool,
    /// Number of points with positive weight.
    pub count: usize,
    /// Sum of the weights (`count` when unweighted).
    pub total_weight: f64,
}

impl GpdEstimate {
    /// The fitted distribution.
    pub fn dist(&self) -> GeneralizedPareto {
        // shape is finite and scale > 0 by construction of every estimate.
        GeneralizedPareto::new(self.shape, self.scale)
            .unwrap_or_else(|_| unreachable!("estimates are valid by construction"))
    }
}

/// A generalized Pareto maximum-likelihood fit with its standard errors: the result of
/// [`GeneralizedPareto::fit`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GpdFit {
    /// The fitted distribution.
    pub dist: GeneralizedPareto,
    /// Weighted log-likelihood at the estimate.
    pub log_likelihood: f64,
    /// Standard error of the shape from the observed information; `None` when
    /// `ξ <= -1/2` (the likelihood is not regular there) or the information matrix is
    /// not positive definite.
    pub shape_se: Option<f64>,
    /// Standard error of the scale, under the same conditions as `shape_se`.
    pub scale_se: Option<f64>,
    /// The estimate with its bookkeeping (iterations, boundary flag, counts).
    pub estimate: GpdEstimate,
}

impl GpdFitter {
    /// The default options (see [`Default`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Caps the number of profile evaluations (passes over the data); the fit returns
    /// [`Error::NotConverged`] beyond it. Values below 10 are raised to 10.
    pub fn max_iterations(mut self, n: u32) -> Self {
        self.max_iterations = n.max(10);
        self
    }

    /// Stopping rule: the Newton iteration stops when the log-likelihood gain the next
    /// step predicts is below `tolerance · (1 + |log-likelihood|)`. Non-finite or
    /// non-positive values restore the default `1e-15`.
    pub fn tolerance(mut self, tolerance: f64) -> Self {
        self.tolerance = if tolerance > 0.0 && tolerance.is_finite() {
            tolerance
        } else {
            1e-15
        };
        self
    }

    /// Whether to scan the whole profile for a higher local maximum after the local
    /// search (default `true`).
    ///
    /// The profile likelihood can have two local maxima: data whose smallest values
    /// are many orders of magnitude below the largest can produce a second one at a
    /// very large shape. The scan splits the admissible range of `θ` into intervals,
    /// bounds the profile on each from the concavity of `ξ(θ)` and the convexity of
    /// `σ(θ)`, refines every interval where the score changes sign, and discards an
    /// interval once its bound is below the best value found. Intervals are not split
    /// below a width of `1e-3` in `ln(1 + θ max x)`, and the interval holding the
    /// local solution counts as resolved. Off, the fit returns the local maximum
    /// reached from the start (the right choice for warm-started rolling refits).
    pub fn global(mut self, on: bool) -> Self {
        self.global = on;
        self
    }

    /// Fits from the method-of-moments start.
    ///
    /// `data` are positive exceedances; `weights`, if given, are non-negative
    /// frequency weights of the same length (zero-weight points are ignored).
    ///
    /// # Errors
    ///
    /// [`Error::NonFiniteValue`] for a NaN or infinite value or weight,
    /// [`Error::NonPositiveValue`] for a value `<= 0` (the likelihood is unbounded
    /// with an exceedance of exactly 0), [`Error::NegativeWeight`],
    /// [`Error::LengthMismatch`], [`Error::InvalidTotal`] when all weights are zero,
    /// [`Error::TooFewObservations`] for fewer than two weighted points,
    /// [`Error::ConstantData`] when they are all equal, and [`Error::NotConverged`]
    /// if the iteration cap is hit.
    pub fn fit(&self, data: &[f64], weights: Option<&[f64]>) -> Result<GpdEstimate> {
        let mut sample = Sample::new("generalized Pareto fit", data, weights)?;
        let v0 = moment_start(&sample);
        self.run(&mut sample, v0)
    }

    /// Fits from a warm start `(shape, scale)`, typically the previous estimate on an
    /// overlapping window. A start outside the admissible region is moved inside, so
    /// any finite pair with `scale > 0` is accepted.
    ///
    /// # Errors
    ///
    /// As [`fit`](Self::fit), plus [`Error::NonFiniteParameter`] or
    /// [`Error::NonPositiveParameter`] for an invalid start.
    pub fn fit_with_start(
        &self,
        data: &[f64],
        weights: Option<&[f64]>,
        shape: f64,
        scale: f64,
    ) -> Result<GpdEstimate> {
        crate::error::finite("shape", shape)?;
        crate::error::positive("scale", scale)?;
        let mut sample = Sample::new("generalized Pareto fit", data, weights)?;
        let u0 = (shape / scale * sample.x_max).max(-0.999);
        let v0 = if u0.is_finite() { u0.ln_1p() } else { 0.0 };
        self.run(&mut sample, v0.clamp(-30.0, 700.0))
    }

    fn run(&self, sample: &mut Sample<'_>, v0: f64) -> Result<GpdEstimate> {
        let mut search = Search {
            sample,
            tolerance: self.tolerance,
            max_iterations: self.max_iterations,
            iterations: 0,
        };
        let local = search.local_max(v0, f64::NEG_INFINITY, f64::INFINITY)?;
        let mut best = match local {
            Local::Interior(p) => Some(p),
            Local::Boundary => None,
        };
        if self.global {
            search.scan(&mut best)?;
        }
        let sample = &*search.sample;
        let boundary_ll = -sample.total * sample.x_max.ln();
        let est = match best {
            Some(p) if p.ll >= boundary_ll => GpdEstimate {
                shape: p.xi,
                scale: p.sigma_y * sample.x_max,
                log_likelihood: p.ll,
                iterations: search.iterations,
                at_boundary: false,
                count: sample.count,
                total_weight: sample.total,
            },
            _ => GpdEstimate {
                shape: -1.0,
                scale: sample.x_max,
                log_likelihood: boundary_ll,
                iterations: search.iterations,
                at_boundary: true,
                count: sample.count,
                total_weight: sample.total,
            },
        };
        if !(est.scale > 0.0 && est.scale.is_finite() && est.shape.is_finite()) {
            return Err(Error::NotConverged {
                what: "generalized Pareto fit",
                iterations: u64::from(search.iterations),
            });
        }
        Ok(est)
    }
}

/// `v = ln(1 + θ max x)` of the method-of-moments estimate `ξ = (1 - mean²/var)/2`,
/// `σ = mean (1 - ξ)` (no logarithms: one pass already made by `Sample`).
fn moment_start(sample: &Sample<'_>) -> f64 {
    let m = sample.mean_y;
    let var = sample.mean_y2 - m * m;
    let xi = if var > 0.0 {
        (0.5 * (1.0 - m * m / var)).clamp(-0.9, 0.45)
    } else {
        0.0
    };
    let sigma = m * (1.0 - xi);
    let u = (xi / sigma).max(-0.99);
    if u.is_finite() { u.ln_1p() } else { 0.0 }
}

/// Outcome of a local search.
enum Local {
    /// An interior local maximum of the profile (`ξ > -1`).
    Interior(ProfilePoint),
    /// The profile rises all the way to the feasibility edge `ξ = -1`, where its
    /// value is below the boundary candidate `-W ln max x`.
    Boundary,
}

/// Newton steps in `v` larger than this are cut (bisection or expansion instead).
const MAX_STEP: f64 = 4.0;
/// Grid step of the global scan in `v = ln(1 + θ max x)`.
const SCAN_STEP: f64 = 1.0;
/// First node of the global scan (`θ max x = e^-2 - 1`), from which it sweeps both ways.
const SCAN_START: f64 = -2.0;
/// Beyond this `v`, `θ max x = e^v - 1` is ~1e304: the profile cannot rise there.
const V_MAX: f64 = 700.0;

struct Search<'s, 'a> {
    sample: &'s mut Sample<'a>,
    tolerance: f64,
    max_iterations: u32,
    iterations: u32,
}

impl Search<'_, '_> {
    fn eval(&mut self, v: f64) -> Result<ProfilePoint> {
        if self.iterations >= self.max_iterations {
            return Err(Error::NotConverged {
                what: "generalized Pareto fit",
                iterations: u64::from(self.iterations),
            });
        }
        self.iterations += 1;
        // e^v - 1 >= -1 always; at -1 exactly the largest point has 1 + θx = 0 and
        // the point comes back infeasible.
        Ok(profile::evaluate(self.sample, v.exp_m1()))
    }

    /// Safeguarded Newton iteration on the profile score in `v = ln(1 + u)`, inside the
    /// bracket `(a, b)`: the score is positive (or the point infeasible) at `a` and
    /// negative at `b`, so a local maximum lies between once both are finite.
    fn local_max(&mut self, v0: f64, mut a: f64, mut b: f64) -> Result<Local> {
        let mut v = v0;
        let mut a_feasible = false;
        let mut best: Option<ProfilePoint> = None;
        let mut expand = 1.0;
        let mut step_old = f64::INFINITY;
        let mut step = f64::INFINITY;
        loop {
            let p = self.eval(v)?;
            if p.feasible && best.is_none_or(|q| p.ll > q.ll) {
                best = Some(p);
            }
            if !p.feasible || p.score > 0.0 {
                a = v;
                a_feasible = p.feasible;
            } else {
                b = v;
                if !a_feasible && a.is_finite() && dominated_leftwards(&p) {
                    // Everything between the edge ξ = -1 and here is below the
                    // boundary candidate: the climb ends there.
                    return Ok(Local::Boundary);
                }
            }
            let mut next = None;
            if p.feasible && p.curvature < 0.0 {
                let du = -p.score / p.curvature;
                let gain = 0.5 * p.score * du;
                if gain <= self.tolerance * (1.0 + p.ll.abs()) {
                    return Ok(Local::Interior(p));
                }
                let cand = v + du / (1.0 + p.u);
                // Accept the Newton step only inside the bracket, of bounded size and,
                // once bracketed, at most half the step before last (else bisect: the
                // classic rtsafe rule, which guarantees the bracket shrinks).
                let d = (cand - v).abs();
                let bracketed = a.is_finite() && b.is_finite();
                if cand > a && cand < b && d <= MAX_STEP && (!bracketed || d <= 0.5 * step_old) {
                    next = Some(cand);
                }
            }
            let v_next = match next {
                Some(c) => c,
                None if a.is_finite() && b.is_finite() => 0.5 * (a + b),
                None if b.is_finite() => {
                    let c = b - expand;
                    expand *= 2.0;
                    c
                }
                None => {
                    let c = a + expand;
                    expand *= 2.0;
                    c
                }
            };
            step_old = step;
            step = (v_next - v).abs();
            if a.is_finite() && b.is_finite() && b - a <= 1e-14 * (1.0 + a.abs() + b.abs()) {
                // The bracket has collapsed without the gain test firing (rounding).
                return Ok(match best {
                    Some(q) if a_feasible => Local::Interior(q),
                    _ => Local::Boundary,
                });
            }
            if v_next > V_MAX {
                return Err(Error::NotConverged {
                    what: "generalized Pareto fit",
                    iterations: u64::from(self.iterations),
                });
            }
            v = v_next;
        }
    }

    /// Grimshaw's scan: evaluates the profile on a grid in `v` over the whole
    /// admissible range and refines every other bracket where the score turns from
    /// positive to negative (a local maximum); updates `best`.
    ///
    /// Right of `v_hi` the score is provably negative: its sign is that of
    /// Grimshaw's `h(θ) = (1 + ξ) A - 1` with `A = mean 1/(1+θx) < 1/(θ min x)` and
    /// `ξ <= ln(1 + θ mean x)` (Jensen). Left of a node with `θ < 0` and
    /// `σ(θ) >= max x` nothing beats the boundary candidate (`dominated_leftwards`).
    fn scan(&mut self, best: &mut Option<ProfilePoint>) -> Result<()> {
        let (x_max, x_min, mean_y) = (self.sample.x_max, self.sample.x_min, self.sample.mean_y);
        let ratio = x_max / x_min;
        let mut u_hi = 1.0;
        while (1.0 + (u_hi * mean_y).ln_1p()) * ratio / u_hi >= 1.0 && u_hi < 1e300 {
            u_hi *= 2.0;
        }
        let v_hi = u_hi.ln_1p().min(V_MAX);
        let local_v = best.map(|p| p.u.ln_1p());
        let start = self.eval(SCAN_START)?;
        // Rightwards: nodes every SCAN_STEP up to v_hi.
        let mut prev = (SCAN_START, start);
        let mut v = SCAN_START;
        while v < v_hi {
            v = (v + SCAN_STEP).min(v_hi);
            let p = self.eval(v)?;
            let (va, pa) = prev;
            prev = (v, p);
            self.refine_bracket(va, pa, v, p, local_v, best)?;
        }
        // Leftwards: doubling distances towards u = -1 (v = -∞), until the edge
        // ξ = -1, a dominated node, or u has rounded to -1.
        let mut next = (SCAN_START, start);
        let mut v = SCAN_START;
        while next.1.feasible && !dominated_leftwards(&next.1) && v > -64.0 {
            v *= 2.0;
            let p = self.eval(v)?;
            let (vb, pb) = next;
            next = (v, p);
            self.refine_bracket(v, p, vb, pb, local_v, best)?;
        }
        Ok(())
    }

    /// Refines `[va, vb]` if the score turns from positive to negative inside and the
    /// bracket is not the local search's own.
    fn refine_bracket(
        &mut self,
        va: f64,
        pa: ProfilePoint,
        vb: f64,
        pb: ProfilePoint,
        local_v: Option<f64>,
        best: &mut Option<ProfilePoint>,
    ) -> Result<()> {
        if !(pa.feasible && pb.feasible && pa.score > 0.0 && pb.score < 0.0) {
            return Ok(());
        }
        if local_v.is_some_and(|v1| va <= v1 && v1 <= vb) {
            return Ok(());
        }
        if let Local::Interior(q) = self.local_max(0.5 * (va + vb), va, vb)?
            && best.is_none_or(|p| q.ll > p.ll)
        {
            *best = Some(q);
        }
        Ok(())
    }
}

/// For a feasible point with `θ < 0`: every feasible point to its left has a profile
/// value at most `-W ln σ(θ)` (there `σ` is larger and `ξ >= -1`), which is no more
/// than the boundary candidate `-W ln max x` once `σ(θ) >= max x`.
fn dominated_leftwards(p: &ProfilePoint) -> bool {
    p.feasible && p.u < 0.0 && p.sigma_y >= 1.0
}

impl GeneralizedPareto {
    /// Maximum-likelihood fit to positive exceedances `data` (location 0), with
    /// standard errors from the observed information.
    ///
    /// The estimate maximises the likelihood over `ξ >= -1` (below `-1` the
    /// likelihood is unbounded, see [`GpdFitter`]); the method is Grimshaw's (1993)
    /// reduction to a one-dimensional profile likelihood, solved by safeguarded
    /// Newton steps with a global scan.
    ///
    /// # Errors
    ///
    /// As [`GpdFitter::fit`].
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> Result<(), tailcast::Error> {
    /// use tailcast::GeneralizedPareto;
    /// // The exponential MLE is the mean; these four points have mean 2.5 and a
    /// // maximum-likelihood shape of nearly 0.
    /// let fit = GeneralizedPareto::fit(&[0.5, 1.5, 3.0, 5.0])?;
    /// let direct: f64 = [0.5, 1.5, 3.0, 5.0].iter().map(|&x| fit.dist.ln_pdf(x)).sum();
    /// assert!((fit.log_likelihood - direct).abs() < 1e-12);
    /// # Ok(())
    /// # }
    /// ```
    pub fn fit(data: &[f64]) -> Result<GpdFit> {
        let est = GpdFitter::default().fit(data, None)?;
        Ok(with_standard_errors(est, data, None))
    }

    /// Weighted maximum-likelihood fit: `weights` are non-negative frequency weights
    /// (a weight of 2 counts a point twice), e.g. exponentially decayed by age.
    ///
    /// # Errors
    ///
    /// As [`GpdFitter::fit`].
    pub fn fit_weighted(data: &[f64], weights: &[f64]) -> Result<GpdFit> {
        let est = GpdFitter::default().fit(data, Some(weights))?;
        Ok(with_standard_errors(est, data, Some(weights)))
    }
}

fn with_standard_errors(est: GpdEstimate, data: &[f64], weights: Option<&[f64]>) -> GpdFit {
    let (shape_se, scale_se) = match observed_information(data, weights, est.shape, est.scale) {
        Some(info) if est.shape > -0.5 && !est.at_boundary => standard_errors(info),
        _ => (None, None),
    };
    GpdFit {
        dist: est.dist(),
        log_likelihood: est.log_likelihood,
        shape_se,
        scale_se,
        estimate: est,
    }
}

/// `(se(ξ), se(σ))` from the observed information, `None` unless positive definite.
pub(super) fn standard_errors(info: [[f64; 2]; 2]) -> (Option<f64>, Option<f64>) {
    let det = info[0][0] * info[1][1] - info[0][1] * info[1][0];
    if info[0][0] > 0.0 && det > 0.0 && det.is_finite() {
        (
            Some((info[1][1] / det).sqrt()),
            Some((info[0][0] / det).sqrt()),
        )
    } else {
        (None, None)
    }
}

/// The observed information `-∇² l` of the weighted GPD log-likelihood in
/// `(shape, scale)` at the given parameters, with analytic second derivatives; `None`
/// for invalid parameters, a point outside the support or non-finite results.
///
/// ```text
/// z = x/σ, t = ξ z, q = 1/(1 + t)
/// -l_σσ = -(1/σ²) [W - (1+ξ) Σ w z q (1 + q)]
/// -l_ξσ = -(1/σ)  [Σ w z q - (1+ξ) Σ w z² q²]
/// -l_ξξ = -Σ w [2 z³ K(t) + z² q²],  K(t) = (t q - ln(1+t))/t³ + q²/(2t)
/// ```
///
/// `K` is smooth at `t = 0` (`-1/3 + 3t/4 - ...`) and is summed from its series for
/// small `|t|`, so the information is exact through `ξ = 0`.
///
/// # Examples
///
/// ```
/// use tailcast::fit::observed_information;
/// // Exponential (ξ = 0, σ = 1) at x = 1: -l_σσ = -(1 - 2·1) = 1.
/// let info = observed_information(&[1.0], None, 0.0, 1.0).unwrap();
/// assert!((info[1][1] - 1.0).abs() < 1e-15);
/// ```
pub fn observed_information(
    data: &[f64],
    weights: Option<&[f64]>,
    shape: f64,
    scale: f64,
) -> Option<[[f64; 2]; 2]> {
    if !(scale > 0.0 && scale.is_finite() && shape.is_finite()) {
        return None;
    }
    if weights.is_some_and(|w| w.len() != data.len()) {
        return None;
    }
    let (mut w_sum, mut s_ss, mut s_xs_a, mut s_xs_b, mut s_xx) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (i, &x) in data.iter().enumerate() {
        let w = weights.map_or(1.0, |w| w[i]);
        if w == 0.0 {
            continue;
        }
        let z = x / scale;
        let t = shape * z;
        if !(t > -1.0) || !z.is_finite() {
            return None;
        }
        let q = 1.0 / (1.0 + t);
        let zq = z * q;
        w_sum += w;
        s_ss += w * zq * (1.0 + q);
        s_xs_a += w * zq;
        s_xs_b += w * zq * zq;
        s_xx += w * (2.0 * z * z * z * k_fn(t) + zq * zq);
    }
    let l_ss = (w_sum - (1.0 + shape) * s_ss) / (scale * scale);
    let l_xs = (s_xs_a - (1.0 + shape) * s_xs_b) / scale;
    let info = [[-s_xx, -l_xs], [-l_xs, -l_ss]];
    info.iter().flatten().all(|v| v.is_finite()).then_some(info)
}

/// `K(t) = (t/(1+t) - ln(1+t))/t³ + 1/(2t(1+t)²)`, from its series for `|t| < 0.02`.
fn k_fn(t: f64) -> f64 {
    if t.abs() < 0.02 {
        // Σ (-1)^{k+1} (k+1)(k+2)/(2(k+3)) t^k, nine terms: error < 1e-16.
        let mut sum = 0.0;
        let mut p = -1.0;
        for k in 0..10 {
            let kf = k as f64;
            sum += p * (kf + 1.0) * (kf + 2.0) / (2.0 * (kf + 3.0));
            p *= -t;
        }
        sum
    } else {
        let q = 1.0 / (1.0 + t);
        (t * q - t.ln_1p()) / (t * t * t) + q * q / (2.0 * t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_series_joins_the_closed_form() {
        for t in [-0.0199999, 0.0199999, -0.02, 0.02] {
            let q = 1.0 / (1.0 + t);
            let closed = (t * q - f64::ln_1p(t)) / (t * t * t) + q * q / (2.0 * t);
            assert!((k_fn(t) - closed).abs() < 1e-9, "t={t}");
        }
        assert_eq!(k_fn(0.0), -1.0 / 3.0);
    }

    #[test]
    fn information_matches_finite_differences_of_the_log_likelihood() {
        let x: Vec<f64> = (1..50)
            .map(|i| (i as f64 * 0.37).fract() * 4.0 + 0.05)
            .collect();
        for (xi, s) in [(0.3, 1.2), (0.0, 2.0), (1e-9, 2.0), (-0.3, 3.0), (1.5, 0.5)] {
            let ll = |xi: f64, s: f64| -> f64 {
                let g = GeneralizedPareto::new(xi, s).unwrap();
                x.iter().map(|&v| g.ln_pdf(v)).sum()
            };
            let info = observed_information(&x, None, xi, s).unwrap();
            let (h1, h2) = (1e-4, 1e-4 * s);
            let fxx = (ll(xi + h1, s) - 2.0 * ll(xi, s) + ll(xi - h1, s)) / (h1 * h1);
            let fss = (ll(xi, s + h2) - 2.0 * ll(xi, s) + ll(xi, s - h2)) / (h2 * h2);
            let fxs = (ll(xi + h1, s + h2) - ll(xi + h1, s - h2) - ll(xi - h1, s + h2)
                + ll(xi - h1, s - h2))
                / (4.0 * h1 * h2);
            let tol = |v: f64| 1e-4 * (1.0 + v.abs());
            assert!(
                (info[0][0] + fxx).abs() < tol(fxx),
                "xi={xi}: {} vs {}",
                info[0][0],
                -fxx
            );
            assert!(
                (info[1][1] + fss).abs() < tol(fss),
                "xi={xi}: {} vs {}",
                info[1][1],
                -fss
            );
            assert!(
                (info[0][1] + fxs).abs() < tol(fxs),
                "xi={xi}: {} vs {}",
                info[0][1],
                -fxs
            );
        }
    }
}
