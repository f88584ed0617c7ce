//! Maximum-likelihood fit of the generalized Pareto distribution.
//!
//! The two-parameter problem is reduced to Grimshaw's (1993) one-dimensional profile
//! likelihood in `θ = ξ/σ` (see `profile.rs`), which is maximised by a safeguarded
//! Newton iteration (bisection whenever a step leaves the current bracket or fails to
//! shrink it), started from the method-of-moments estimate or from a caller's warm
//! start. A branch and bound over the whole profile then proves (within the
//! tolerance stated on [`GpdFitter::global`]) that no other point of the profile is
//! higher, climbing to any higher local maximum it finds, and the boundary `ξ = -1`
//! is compared explicitly.

use serde::{Deserialize, Serialize};

use super::bounds::{self, Scale};
use super::profile::{self, ProfilePoint};
use super::sample::Sample;
use crate::GeneralizedPareto;
use crate::checked::{Check, Checked};
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
/// * [`fit`](Checked::<GpdFitter>::fit): cold start from the method of moments.
/// * [`fit_with_start`](Checked::<GpdFitter>::fit_with_start): warm start from a previous estimate;
///   on a window that changed by a few points the Newton iteration converges in two or
///   three passes over the data.
///
/// Both are methods of the [`Checked`] fitter ([`check`](Check::check) it once),
/// take optional frequency weights, allocate nothing and return a `Copy`
/// [`GpdEstimate`]. With [`global(true)`](Self::global) (the default) a certified
/// search of the whole profile follows the local one; turn it off for the hot path
/// of a rolling refit that starts from the previous step's optimum.
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::fit::GpdFitter;
/// use tailcast::{Check, GeneralizedPareto};
///
/// // Quantiles of GPD(0.25, 2) as a smooth stand-in for a sample.
/// let truth = GeneralizedPareto::new(0.25, 2.0)?;
/// let x: Vec<f64> = (1..=400).map(|i| truth.quantile((i as f64 - 0.5) / 400.0)).collect();
/// let fitter = GpdFitter::default().check()?;
/// let est = fitter.fit(&x, None)?;
/// assert!((est.shape - 0.25).abs() < 0.05 && (est.scale - 2.0).abs() < 0.1);
///
/// // A refit after one new point, warm-started and without the global search.
/// let mut y = x.clone();
/// y[0] = 7.5;
/// let fast = GpdFitter::default().global(false).check()?;
/// assert!(!fast.global());
/// let again = fast.fit_with_start(&y, None, est.shape, est.scale)?;
/// assert!(again.iterations <= 4);
///
/// // Settings are stored as given and checked by `check`.
/// let err = GpdFitter::default().max_iterations(5).check().unwrap_err();
/// assert_eq!(err.to_string(), "max_iterations must be >= 10, got 5");
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
    /// At most 200 profile evaluations, tolerance `1e-14`, global search on.
    fn default() -> Self {
        Self {
            max_iterations: 200,
            tolerance: 1e-14,
            global: true,
        }
    }
}

/// The result of [`Checked<GpdFitter>::fit`](Checked::<GpdFitter>::fit): small and `Copy`, for hot loops.
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
    #[serde(with = "crate::nonfinite")]
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
    #[serde(with = "crate::nonfinite")]
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

    /// Caps the number of profile evaluations (passes over the data), at least 10;
    /// the fit returns [`Error::NotConverged`] beyond it.
    pub fn max_iterations(mut self, n: u32) -> Self {
        self.max_iterations = n;
        self
    }

    /// Stopping rule, finite and `> 0`: the Newton iteration stops when the
    /// log-likelihood gain the next step predicts is below
    /// `tolerance · (1 + |log-likelihood|)`.
    pub fn tolerance(mut self, tolerance: f64) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Whether to certify that the fit is the global maximum (default `true`).
    ///
    /// The profile likelihood can have several local maxima (data in clusters many
    /// orders of magnitude apart commonly produce them), and a local climb ends on
    /// whichever it reaches first. With the global search on, a branch and bound
    /// covers the whole range of `θ`: it bounds the profile on each interval between
    /// two evaluated points from their exact values and derivatives (the concavity of
    /// `ξ(θ)`, the convexity of `σ(θ)` and related facts, each proved in the source),
    /// discards the interval when the bound is not above the best value found,
    /// climbs to every local maximum it cannot rule out, and splits everything else.
    ///
    /// The guarantee: the returned log-likelihood is at least the supremum of the
    /// log-likelihood over `ξ >= -1`, `σ > 0` minus `1e-12 (1 + |l|)`, up to the
    /// rounding of the profile evaluations (about `n ε` in the sum of logarithms),
    /// with two limits on the range searched: intervals narrower than
    /// `1e-9 (1 + |v|)` in `v = ln(1 + θ max x)` are not split further, and `v` is
    /// searched up to 700 (`θ max x` up to about `1e304`). The maximum at `ξ = -1`
    /// is compared explicitly. Off, the fit returns the local maximum reached from
    /// the start (the right choice for warm-started rolling refits).
    pub fn global(mut self, on: bool) -> Self {
        self.global = on;
        self
    }
}

/// The default fitter, checked (its settings are valid by construction).
pub(crate) fn default_fitter() -> Checked<GpdFitter> {
    Checked::after_check(GpdFitter::default())
}

/// The fewest profile evaluations a fit may be capped at.
const MIN_ITERATIONS: u32 = 10;

impl Check for GpdFitter {
    /// # Errors
    ///
    /// [`Error::InvalidCount`] for fewer than 10 iterations,
    /// [`Error::NonFiniteParameter`] / [`Error::NonPositiveParameter`] for a bad
    /// tolerance.
    fn check(&self) -> Result<Checked<Self>> {
        if self.max_iterations < MIN_ITERATIONS {
            return Err(Error::InvalidCount {
                name: "max_iterations",
                value: self.max_iterations as usize,
                expected: ">= 10",
            });
        }
        crate::error::positive("tolerance", self.tolerance)?;
        Ok(Checked::after_check(*self))
    }
}

impl Checked<GpdFitter> {
    /// The cap on profile evaluations.
    pub fn max_iterations(&self) -> u32 {
        self.config().max_iterations
    }

    /// The stopping rule's relative tolerance.
    pub fn tolerance(&self) -> f64 {
        self.config().tolerance
    }

    /// Whether the fit certifies the global maximum (see [`GpdFitter::global`]).
    pub fn global(&self) -> bool {
        self.config().global
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
        self.fit_with_information(data, weights).map(|(est, _)| est)
    }

    /// [`fit`](Self::fit), with the observed information at the estimate when the
    /// profile point it came from gives it accurately (see [`information_at`]).
    pub(crate) fn fit_with_information(
        &self,
        data: &[f64],
        weights: Option<&[f64]>,
    ) -> Result<(GpdEstimate, Option<[[f64; 2]; 2]>)> {
        let mut sample = Sample::new("generalized Pareto fit", data, weights)?;
        let v0 = moment_start(&mut sample);
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
            .map(|(est, _)| est)
    }

    fn run(
        &self,
        sample: &mut Sample<'_>,
        v0: f64,
    ) -> Result<(GpdEstimate, Option<[[f64; 2]; 2]>)> {
        // The evaluated points live in a buffer kept per thread, so that repeated
        // fits allocate nothing once it has grown (taken out while in use, which
        // also makes a nested fit on the same thread safe).
        let nodes = NODE_BUFFER.with(|b| std::mem::take(&mut *b.borrow_mut()));
        let mut search = Search::new(sample, self, nodes);
        let result = self.search(&mut search, v0);
        let nodes = std::mem::take(&mut search.nodes);
        NODE_BUFFER.with(|b| *b.borrow_mut() = nodes);
        result
    }

    fn search(
        &self,
        search: &mut Search<'_, '_>,
        v0: f64,
    ) -> Result<(GpdEstimate, Option<[[f64; 2]; 2]>)> {
        let local = search.local_max(v0, f64::NEG_INFINITY, f64::INFINITY)?;
        let mut best = match local {
            Local::Interior(p) => Some(p),
            Local::Boundary => None,
        };
        if self.global() {
            search.global(&mut best)?;
        }
        let sample = &*search.sample;
        let boundary_ll = -sample.total * sample.ln_x_max;
        let info = best
            .filter(|p| p.ll >= boundary_ll)
            .and_then(|p| information_at(&p, sample.total, sample.x_max));
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
        Ok((est, info))
    }
}

/// `v = ln(1 + θ max x)` of the method-of-moments estimate `ξ = (1 - mean²/var)/2`,
/// `σ = mean (1 - ξ)` (no logarithms: one pass already made by `Sample`).
///
/// The moments say little once `ξ` nears 1/2 (the variance stops existing). Then the
/// start is `v = -mean ln(x/max x) - 1/2` instead, when larger: for a heavy tail
/// `ln x ≈ ln(σ/ξ) + ξ E` with `E` standard exponential, so `-mean ln(x/max x)` is
/// about `ξ ln n`, which is also about `ln(θ max x)` since `max x ≈ (σ/ξ) n^ξ`.
fn moment_start(sample: &mut Sample<'_>) -> f64 {
    let m = sample.mean_y;
    let var = sample.mean_y2 - m * m;
    let raw = if var > 0.0 {
        0.5 * (1.0 - m * m / var)
    } else {
        0.0
    };
    let xi = raw.clamp(-0.9, 0.45);
    let sigma = m * (1.0 - xi);
    let u = (xi / sigma).max(-0.99);
    let v = if u.is_finite() { u.ln_1p() } else { 0.0 };
    if raw >= 0.4 {
        let heavy = -sample.mean_ln_y() - 0.5;
        if heavy > v && heavy.is_finite() {
            return heavy.min(V_MAX / 2.0);
        }
    }
    v
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
/// Beyond this `v`, `θ max x = e^v - 1` is ~1e304: the search stops there.
const V_MAX: f64 = 700.0;
thread_local! {
    /// The global search's evaluated points, reused by every fit on the thread.
    static NODE_BUFFER: std::cell::RefCell<Vec<Node>> = const { std::cell::RefCell::new(Vec::new()) };
}
/// An interval is discarded once its bound is at most `best + TAU (1 + |best|)`.
const TAU: f64 = 1e-12;
/// Intervals narrower than this in `v` (relative to `1 + |v|`) are not split further.
const MIN_WIDTH: f64 = 1e-9;
/// Profile drop (log-likelihood units) aimed at by the first points placed either side
/// of a local maximum: near enough for the concavity bound, far enough that the
/// value bounds beyond them have room.
const DROP: f64 = 4.0;

/// An evaluated point of the profile, as the global search keeps it.
#[derive(Debug, Clone, Copy)]
struct Node {
    p: ProfilePoint,
    /// A local search converged here (its score counts as zero).
    is_max: bool,
    /// The piece right of this point (up to the next node, or to `+∞`) is cleared.
    right_done: bool,
}

struct Search<'s, 'a> {
    sample: &'s mut Sample<'a>,
    tolerance: f64,
    max_iterations: u32,
    iterations: u32,
    /// Every evaluated point, sorted by `v`.
    nodes: Vec<Node>,
    left_done: bool,
    /// The highest feasible point evaluated so far.
    top: Option<ProfilePoint>,
}

impl<'s, 'a> Search<'s, 'a> {
    fn new(sample: &'s mut Sample<'a>, fitter: &Checked<GpdFitter>, mut nodes: Vec<Node>) -> Self {
        nodes.clear();
        Self {
            sample,
            tolerance: fitter.tolerance(),
            max_iterations: fitter.max_iterations(),
            iterations: 0,
            nodes,
            left_done: false,
            top: None,
        }
    }

    fn not_converged(&self) -> Error {
        Error::NotConverged {
            what: "generalized Pareto fit",
            iterations: u64::from(self.iterations),
        }
    }

    /// Evaluates the profile at `v` and records the point.
    fn eval(&mut self, v: f64) -> Result<ProfilePoint> {
        if self.iterations >= self.max_iterations {
            return Err(self.not_converged());
        }
        self.iterations += 1;
        let p = profile::evaluate(self.sample, v);
        if p.feasible && self.top.is_none_or(|t| p.ll > t.ll) {
            self.top = Some(p);
        }
        let at = self.nodes.partition_point(|n| n.p.v < v);
        if self.nodes.get(at).is_none_or(|n| n.p.v != v) {
            self.nodes.insert(
                at,
                Node {
                    p,
                    is_max: false,
                    right_done: false,
                },
            );
        }
        Ok(p)
    }

    /// Marks the recorded point at `v` as a local maximum.
    fn mark_max(&mut self, v: f64) {
        if let Some(n) = self.nodes.iter_mut().find(|n| n.p.v == v) {
            n.is_max = true;
        }
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
            if let Some(dv) = newton_step(&p) {
                let gain = 0.5 * p.score * (1.0 + p.u) * dv;
                if gain <= self.tolerance * (1.0 + p.ll.abs()) {
                    self.mark_max(p.v);
                    return Ok(Local::Interior(p));
                }
                let cand = v + dv;
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
                    Some(q) if a_feasible => {
                        self.mark_max(q.v);
                        Local::Interior(q)
                    }
                    _ => Local::Boundary,
                });
            }
            if v_next > V_MAX {
                return Err(self.not_converged());
            }
            v = v_next;
        }
    }

    /// Branch and bound over the whole admissible range: proves that no point of the
    /// profile is higher than `best` (or the boundary candidate) by more than
    /// `TAU (1 + |best|)`, climbing to every local maximum it cannot rule out.
    ///
    /// The real line of `v` is covered by the left end (`-∞` to the first point),
    /// the intervals between consecutive evaluated points and the right end. Each
    /// piece is cleared by a bound of `bounds.rs` at most the target, or by being
    /// narrower than `MIN_WIDTH`; otherwise an interval whose score turns from
    /// positive to negative gets a bracketed Newton climb (which records its points
    /// and may raise `best`), any other interval is split by a new evaluation, and an
    /// end is pushed outwards. Cleared pieces stay cleared, since `best` only rises.
    fn global(&mut self, best: &mut Option<ProfilePoint>) -> Result<()> {
        let scale = Scale {
            w: self.sample.total,
            offset: 1.0 + self.sample.ln_x_max,
        };
        let boundary = -self.sample.total * self.sample.ln_x_max;
        let mut mean_ln_y = None;
        if self.nodes.is_empty() {
            self.eval(0.0)?;
        }
        loop {
            // Every evaluated feasible point is a candidate, not only local maxima.
            if let Some(t) = self.top
                && best.is_none_or(|p| t.ll > p.ll)
            {
                *best = Some(t);
            }
            let level = best.map_or(boundary, |p| p.ll.max(boundary));
            let target = level + TAU * (1.0 + level.abs());
            if !self.left_done {
                let first = self.nodes[0].p;
                if bounds::left_end(&first, scale) <= target {
                    self.left_done = true;
                } else if first.v < -1e9 {
                    return Err(self.not_converged());
                } else {
                    // The left-end bound loses about W e^v: start where that is small.
                    let v = if first.v < 0.0 {
                        (2.0 * first.v).min(first.v - 1.0)
                    } else {
                        -(self.sample.total.ln() - 2.0).max(1.0)
                    };
                    self.eval_new(v)?;
                }
                continue;
            }
            let Some(i) = self.nodes.iter().position(|n| !n.right_done) else {
                return Ok(());
            };
            if i + 1 == self.nodes.len() {
                let last = self.nodes[i].p;
                let l = *mean_ln_y.get_or_insert_with(|| self.sample.mean_ln_y());
                if last.v >= V_MAX || bounds::right_end(&last, l, scale) <= target {
                    self.nodes[i].right_done = true;
                } else {
                    let v = if last.v > 0.0 {
                        (2.0 * last.v).max(last.v + 1.0).min(V_MAX)
                    } else {
                        1.0
                    };
                    self.eval_new(v)?;
                }
                continue;
            }
            let (a, b) = (self.nodes[i], self.nodes[i + 1]);
            let width = b.p.v - a.p.v;
            if width <= MIN_WIDTH * (1.0 + a.p.v.abs().max(b.p.v.abs()))
                || bounds::interval_below(&a.p, &b.p, scale, target)
            {
                self.nodes[i].right_done = true;
                continue;
            }
            let slope = |n: &Node| if n.is_max { 0.0 } else { n.p.score };
            if a.p.feasible && b.p.feasible && slope(&a) > 0.0 && slope(&b) < 0.0 {
                let v0 = newton_start(&a.p, &b.p);
                self.local_max(v0, a.p.v, b.p.v)?;
                continue;
            }
            self.eval_new(split_point(&a, &b))?;
        }
    }

    /// Evaluates a new point for the global search.
    fn eval_new(&mut self, v: f64) -> Result<()> {
        self.eval(v).map(|_| ())
    }
}

/// The Newton step in `v` at a feasible point, from the profile's slope and
/// curvature in `v` (`dl/dv = (1 + u) dl/du`, `d²l/dv² = (1 + u)² d²l/du² + (1 + u)
/// dl/du`), or in `u` where the profile is not concave in `v`; `None` where it is
/// concave in neither.
fn newton_step(p: &ProfilePoint) -> Option<f64> {
    if !p.feasible {
        return None;
    }
    let a = 1.0 + p.u;
    let curv_v = p.curvature * a * a + p.score * a;
    if curv_v < 0.0 {
        Some(-p.score * a / curv_v)
    } else if p.curvature < 0.0 {
        Some(-p.score / p.curvature / a)
    } else {
        None
    }
}

/// Where a bracketed climb in `[a, b]` starts: a Newton step from an end if it lands
/// inside, else the midpoint.
fn newton_start(a: &ProfilePoint, b: &ProfilePoint) -> f64 {
    for p in [a, b] {
        if let Some(dv) = newton_step(p) {
            let v = p.v + dv;
            if v > a.v && v < b.v {
                return v;
            }
        }
    }
    0.5 * (a.v + b.v)
}

/// Where an interval that could not be cleared is split: next to a local maximum, at
/// the distance where the quadratic model has dropped by `DROP`; elsewhere in the
/// middle.
fn split_point(a: &Node, b: &Node) -> f64 {
    let (va, vb) = (a.p.v, b.p.v);
    let half = 0.5 * (vb - va);
    let near = |m: &ProfilePoint| {
        // d²l*/dv² at a stationary point is (du/dv)² d²l*/du².
        let curv_v = m.curvature * (1.0 + m.u) * (1.0 + m.u);
        let d = (2.0 * DROP / -curv_v).sqrt();
        if d.is_finite() && d > 0.0 {
            d.min(half)
        } else {
            half
        }
    };
    if a.is_max {
        va + near(&a.p)
    } else if b.is_max {
        vb - near(&b.p)
    } else {
        va + half
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
    /// Newton steps and a certified global search.
    ///
    /// # Errors
    ///
    /// As [`Checked<GpdFitter>::fit`](Checked::<GpdFitter>::fit).
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
        let (est, info) = default_fitter().fit_with_information(data, None)?;
        Ok(with_standard_errors(est, info, data, None))
    }

    /// Weighted maximum-likelihood fit: `weights` are non-negative frequency weights
    /// (a weight of 2 counts a point twice), e.g. exponentially decayed by age.
    ///
    /// # Errors
    ///
    /// As [`Checked<GpdFitter>::fit`](Checked::<GpdFitter>::fit).
    pub fn fit_weighted(data: &[f64], weights: &[f64]) -> Result<GpdFit> {
        let (est, info) = default_fitter().fit_with_information(data, Some(weights))?;
        Ok(with_standard_errors(est, info, data, Some(weights)))
    }
}

/// The fit with standard errors from `info` (the observed information at the
/// estimate), computed from the data when the fit did not provide it.
pub(super) fn with_standard_errors(
    est: GpdEstimate,
    info: Option<[[f64; 2]; 2]>,
    data: &[f64],
    weights: Option<&[f64]>,
) -> GpdFit {
    let info = info.or_else(|| observed_information(data, weights, est.shape, est.scale));
    let (shape_se, scale_se) = match info {
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

/// The observed information of [`observed_information`] at a profile point, from
/// the sums its evaluation already made (no pass over the data). In scaled units
/// (`y = x/x_max`, `q = 1/(1 + u y)`, means weighted, `σ_y = σ/x_max`), with
/// `z = x/σ = y/σ_y` and `t = ξ z = u y`:
///
/// ```text
/// Σ w z q = W b/σ_y     Σ w (z q)² = W c/σ_y²     Σ w z q² = W (b - u c)/σ_y
/// Σ w 2 z³ K(t) = (2/ξ³) (Σ w t q - Σ w ln(1 + t)) + Σ w z² q²/ξ
///               = (2/ξ³) W (u b - ξ) + W c/(ξ σ_y²)
/// ```
///
/// (`z³/t³ = 1/ξ³`, and `y q² = y q - u y² q²`). The first line of `K` cancels to
/// `O(1)` from terms of size `1/u` as `u -> 0`, and `b - u c` loses digits as
/// `u -> ∞`: outside `0.1 <= |u| <= 1e8` this returns `None` and the caller sums
/// the point-by-point form instead (which handles small `t` by a series).
fn information_at(p: &ProfilePoint, w: f64, x_max: f64) -> Option<[[f64; 2]; 2]> {
    if !(p.feasible && (0.1..=1e8).contains(&p.u.abs())) {
        return None;
    }
    let (xi, sy, u) = (p.xi, p.sigma_y, p.u);
    let sigma = sy * x_max;
    let s_zq = w * p.b / sy;
    let s_zq2 = w * p.c / (sy * sy);
    let s_zqq = w * (p.b - u * p.c) / sy;
    let s_k = 2.0 / (xi * xi * xi) * w * (u * p.b - xi) + s_zq2 / xi;
    let l_ss = (w - (1.0 + xi) * (s_zq + s_zqq)) / (sigma * sigma);
    let l_xs = (s_zq - (1.0 + xi) * s_zq2) / sigma;
    let info = [[-(s_k + s_zq2), -l_xs], [-l_xs, -l_ss]];
    info.iter().flatten().all(|v| v.is_finite()).then_some(info)
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
    fn information_from_a_profile_point_equals_the_point_by_point_sum() {
        let heavy: Vec<f64> = (1..=300)
            .map(|i| {
                let p = (i as f64 - 0.5) / 300.0;
                ((1.0 - p).powf(-0.7) - 1.0) / 0.7
            })
            .collect();
        let spread: Vec<f64> = (1..200)
            .map(|i| 1e-4 + (i as f64 * 0.618_033_988_7).fract().powi(3) * 50.0)
            .collect();
        let weights: Vec<f64> = (0..spread.len()).map(|i| (i % 4) as f64 * 0.5).collect();
        for (x, w) in [
            (&heavy[..], None),
            (&spread[..], None),
            (&spread[..], Some(&weights[..])),
        ] {
            let mut sample = Sample::new("test", x, w).unwrap();
            for u in [-0.9f64, -0.5, -0.1, 0.1, 0.5, 3.0, 50.0, 1e4, 1e7] {
                let p = profile::evaluate(&mut sample, u.ln_1p());
                let fast = information_at(&p, sample.total, sample.x_max).unwrap();
                let (shape, scale) = (p.xi, p.sigma_y * sample.x_max);
                let slow = observed_information(x, w, shape, scale).unwrap();
                let norm = slow.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
                for (a, b) in fast.iter().flatten().zip(slow.iter().flatten()) {
                    assert!((a - b).abs() <= 1e-9 * norm, "u={u}: {fast:?} vs {slow:?}");
                }
            }
            let p = profile::evaluate(&mut sample, 0.05f64.ln_1p());
            assert!(information_at(&p, sample.total, sample.x_max).is_none());
        }
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
