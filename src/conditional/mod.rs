//! Conditional spliced binned-Pareto distributions: the distribution of an outcome
//! `y` given features `x` (distributional regression), fitted by penalised maximum
//! likelihood.
//!
//! # The model
//!
//! The features are standardised with the training means and standard deviations
//! (part of the fitted model). With `f = x_std`, or with `f = tanh(V x_std + c)` when a
//! hidden layer of width `m` is configured:
//!
//! ```text
//! body:   K equal-width bins on [low, high] (fixed), probabilities π(x) = softmax(W f + b)
//! tails:  ln σ_l(x) = a_l·f + a_l0,   ln σ_u(x) = a_u·f + a_u0,
//!         ξ_l, ξ_u constants in (lo, hi) through a logistic link
//! splice: τ_l(x), τ_u(x) the body's p_l- and (1 - p_u)-quantiles; the density is
//!         SplicedBinnedPareto's: p_l g_l(τ_l - y) below τ_l, the body between,
//!         p_u g_u(y - τ_u) above τ_u
//! ```
//!
//! so for every `x` the prediction is a [`SplicedBinnedPareto`] that integrates to
//! exactly 1 (tail masses fixed, default 5 %). Values of `y` outside `[low, high]` are
//! always tail points.
//!
//! # The fit
//!
//! Penalised maximum likelihood (an L2 penalty, i.e. a Gaussian prior, see
//! [`ConditionalSbpConfig`]) with argmin's L-BFGS and a More–Thuente (or Hager–Zhang)
//! line search on analytic gradients, in two stages that mirror the unconditional
//! SBP fit:
//!
//! 1. the body (and the hidden layer): the histogram likelihood of the bins of `y`
//!    (observations outside the grid counted in the end bins), a multinomial logistic
//!    regression, smooth and, without a hidden layer, convex;
//! 2. each tail: the GPD likelihood of the exceedances over the conditional
//!    thresholds `τ(x)` of the fitted body, in the log-scale slopes, intercept and
//!    shape.
//!
//! The exact spliced likelihood of the joint model is not smooth: it jumps wherever a
//! threshold crosses an observation (the body's and the tail's densities differ
//! there), and a joint maximiser can gain by parking thresholds on observations. The
//! two stages are smooth and are what the unconditional SBP does. An optional third
//! stage ([`ConditionalSbpConfig::joint_refinement`]) polishes every parameter on the
//! exact spliced likelihood, whose gradient includes the thresholds' dependence on the
//! logits (`∂τ/∂z_m = (w/π_j) π_m (q - c_m)`, `j` the bin holding `τ`, `c_m` the share
//! of bin `m` below `τ`). The reported log-likelihood is always the exact one.
//!
//! Optionally ([`ConditionalSbpConfig::censored_rounds`]) the body is refitted in
//! rounds on a censored likelihood: the thresholds of the current body held fixed, the
//! points beyond them count only by the body's mass on their side, so the tail points
//! place the thresholds without the body having to match their histogram (better
//! calibrated, several times the cost).
//!
//! The body stage runs in diagonally preconditioned parameters (bin `k`'s bias and
//! weights scaled by `(K π̄_k)^{-1/2}`, `π̄_k` the bin's share of the data: the
//! histogram likelihood's curvature is about `π̄_k` there, which spans orders of
//! magnitude between busy and rare bins) with the body's weights and biases kept
//! centred over the bins (the softmax is blind to a shift common to every bin, which
//! only the penalty pins down, weakly; without the centring the scaling would tilt each
//! step into that shift and L-BFGS would spend most of its iterations undoing it), and
//! from 40,000 rows on it starts from a loose fit on a subsample of 10,000 rows drawn
//! with the configured seed (its L2 penalty scaled to the same prior). Passes over
//! more than 4,096 rows are split into chunks evaluated on scoped threads and added in
//! chunk order, so the result does not depend on the number of threads.
//!
//! A linear model starts from the unconditional SBP of `y` (the same grid): body
//! biases from the histogram, tail intercepts and shapes from the unconditional GPD
//! fits, every slope 0; a hidden layer starts from seeded `N(0, 1/d)` weights. A
//! previous fit can be the starting point instead ([`ConditionalSbp::refit`]).
//!
//! # Examples
//!
//! ```
//! # fn main() -> Result<(), tailcast::Error> {
//! use ndarray::{Array1, Array2};
//! use tailcast::conditional::{ConditionalSbp, ConditionalSbpConfig};
//!
//! // y = 2 x + noise whose spread grows with |x|.
//! let n = 2_000;
//! let x = Array2::from_shape_fn((n, 1), |(i, _)| (i as f64 / n as f64) * 4.0 - 2.0);
//! let y = Array1::from_shape_fn(n, |i| {
//!     let u = ((i as f64 * 0.618_033_988_7).fract() - 0.5) * 2.0; // in (-1, 1)
//!     2.0 * x[[i, 0]] + (0.2 + 0.3 * x[[i, 0]].abs()) * u
//! });
//! let config = ConditionalSbpConfig::default().bins(30);
//! let fit = ConditionalSbp::fit(x.view(), y.view(), &config)?;
//! assert!(fit.converged);
//! let at_one = fit.model.predict(ndarray::arr1(&[1.0]).view())?;
//! assert!((at_one.quantile(0.5) - 2.0).abs() < 0.3);
//! // The percentile score of each outcome under its own conditional distribution.
//! let pit = fit.model.percentile_scores(x.view(), y.view())?;
//! assert!(pit.iter().all(|p| (0.0..=1.0).contains(p)));
//! # Ok(())
//! # }
//! ```

mod config;
mod engine;
mod series;
mod vector;

use std::cell::RefCell;

use argmin::core::{CostFunction, Executor, Gradient, State, TerminationReason};
use argmin::solver::linesearch::{HagerZhangLineSearch, MoreThuenteLineSearch};
use argmin::solver::quasinewton::LBFGS;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, Slice};
use rand::SeedableRng;
use rand_distr::Distribution;
use serde::{Deserialize, Serialize};

pub use config::{BinRange, ConditionalSbpConfig, LineSearch};
pub use series::{LagFeatures, SeriesForecaster};

use engine::{Data, Frame, Kind, RowConsts, RowScratch, Workspace};
use vector::ParamVec;

use crate::checked::{Check, Checked, IntoChecked};
use crate::error::{Error, Result};
use crate::{Binned, GeneralizedPareto, SplicedBinnedPareto, Tail};

/// A fitted conditional spliced binned-Pareto model: features in, a
/// [`SplicedBinnedPareto`] out. See the [module documentation](self) for the model.
///
/// Serialises to its standardisation, grid, tail masses, shape bounds, hidden width
/// and parameter vector; deserialising checks that they are consistent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ModelParams", into = "ModelParams")]
pub struct ConditionalSbp {
    frame: Frame,
    theta: Vec<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ModelParams {
    frame: Frame,
    parameters: Vec<f64>,
}

impl TryFrom<ModelParams> for ConditionalSbp {
    type Error = Error;
    fn try_from(p: ModelParams) -> Result<Self> {
        let f = &p.frame;
        if f.x_scale.len() != f.x_mean.len() {
            return Err(Error::LengthMismatch {
                name: "x_scale",
                expected: f.x_mean.len(),
                got: f.x_scale.len(),
            });
        }
        crate::error::all_finite("x_mean", &f.x_mean)?;
        crate::error::all_finite("x_scale", &f.x_scale)?;
        if let Some(index) = f.x_scale.iter().position(|&s| !(s > 0.0)) {
            return Err(Error::NonPositiveValue {
                name: "x_scale",
                index,
                value: f.x_scale[index],
            });
        }
        ConditionalSbpConfig::default()
            .bins(f.bins)
            .bounds(f.low, f.high)
            .lower_tail_mass(f.lower_mass)
            .upper_tail_mass(f.upper_mass)
            .hidden(f.hidden)
            .shape_bounds(f.shape_low, f.shape_high)
            .check()?;
        if p.parameters.len() != f.len() {
            return Err(Error::LengthMismatch {
                name: "parameters",
                expected: f.len(),
                got: p.parameters.len(),
            });
        }
        crate::error::all_finite("parameters", &p.parameters)?;
        Ok(Self {
            frame: p.frame,
            theta: p.parameters,
        })
    }
}

impl From<ConditionalSbp> for ModelParams {
    fn from(m: ConditionalSbp) -> Self {
        Self {
            frame: m.frame,
            parameters: m.theta,
        }
    }
}

/// The result of [`ConditionalSbp::fit`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionalSbpFit {
    /// The fitted model.
    pub model: ConditionalSbp,
    /// `Σ ln f(y_i | x_i)` at the estimate (without the penalty).
    pub log_likelihood: f64,
    /// The minimised objective: mean negative log-likelihood plus the penalty per row.
    pub objective: f64,
    /// Euclidean norm of the objective's gradient at the estimate.
    pub gradient_norm: f64,
    /// L-BFGS iterations.
    pub iterations: u64,
    /// Whether L-BFGS met its tolerance (`false` only with
    /// [`allow_unconverged`](ConditionalSbpConfig::allow_unconverged); otherwise a
    /// fit that does not converge is an [`Error::NotConverged`]).
    pub converged: bool,
    /// Why the optimiser stopped, in argmin's words.
    pub termination: String,
    /// The configuration of the fit (saved as the plain configuration, checked again
    /// when read).
    pub config: Checked<ConditionalSbpConfig>,
}

/// Standard errors of the two tail shapes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ShapeStandardErrors {
    /// Standard error of the lower tail's shape.
    pub lower: f64,
    /// Standard error of the upper tail's shape.
    pub upper: f64,
}

fn check_xy(x: ArrayView2<'_, f64>, y: Option<ArrayView1<'_, f64>>, d: usize) -> Result<()> {
    if let Some(y) = y
        && y.len() != x.nrows()
    {
        return Err(Error::LengthMismatch {
            name: "y",
            expected: x.nrows(),
            got: y.len(),
        });
    }
    if x.ncols() != d {
        return Err(Error::LengthMismatch {
            name: "x row",
            expected: d,
            got: x.ncols(),
        });
    }
    for (row, values) in x.rows().into_iter().enumerate() {
        if let Some((column, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFiniteFeature { row, column, value });
        }
    }
    if let Some(y) = y
        && let Some((index, &value)) = y.iter().enumerate().find(|(_, v)| !v.is_finite())
    {
        return Err(Error::NonFiniteValue {
            name: "y",
            index,
            value,
        });
    }
    Ok(())
}

/// Empirical quantile (linear interpolation between order statistics) of sorted data.
/// The model's frame: the feature scaling and bin range found (or given) with the
/// settings of `config` (used by a fit and by a model built from its parts).
fn frame_of(
    config: &Checked<ConditionalSbpConfig>,
    x_mean: Vec<f64>,
    x_scale: Vec<f64>,
    low: f64,
    high: f64,
) -> Frame {
    let (shape_low, shape_high) = config.shape_bounds();
    Frame {
        x_mean,
        x_scale,
        low,
        high,
        bins: config.bins(),
        lower_mass: config.lower_tail_mass(),
        upper_mass: config.upper_tail_mass(),
        shape_low,
        shape_high,
        hidden: config.hidden(),
    }
}

fn sorted_quantile(sorted: &[f64], p: f64) -> f64 {
    let h = p * (sorted.len() - 1) as f64;
    let i = h.floor() as usize;
    let j = (i + 1).min(sorted.len() - 1);
    sorted[i] + (h - i as f64) * (sorted[j] - sorted[i])
}

/// An objective as argmin sees it; cost and gradient come from one pass, cached.
struct Problem<F: Fn(&[f64], &mut [f64]) -> f64> {
    eval: F,
    state: RefCell<(Vec<f64>, f64, Vec<f64>)>,
}

impl<F: Fn(&[f64], &mut [f64]) -> f64> Problem<F> {
    fn evaluate(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        let mut st = self.state.borrow_mut();
        let (at, cost, grad) = &mut *st;
        if at.as_slice() != theta || grad.is_empty() {
            grad.resize(theta.len(), 0.0);
            *cost = (self.eval)(theta, grad);
            at.clear();
            at.extend_from_slice(theta);
        }
        (*cost, grad.clone())
    }
}

impl<F: Fn(&[f64], &mut [f64]) -> f64> CostFunction for Problem<F> {
    type Param = ParamVec;
    type Output = f64;
    fn cost(&self, p: &ParamVec) -> std::result::Result<f64, argmin::core::Error> {
        Ok(self.evaluate(&p.0).0)
    }
}

impl<F: Fn(&[f64], &mut [f64]) -> f64> Gradient for Problem<F> {
    type Param = ParamVec;
    type Gradient = ParamVec;
    fn gradient(&self, p: &ParamVec) -> std::result::Result<ParamVec, argmin::core::Error> {
        Ok(ParamVec(self.evaluate(&p.0).1))
    }
}

/// The result of one L-BFGS run.
struct Stage {
    theta: Vec<f64>,
    iterations: u64,
    gradient_norm: f64,
    converged: bool,
    termination: String,
}

/// The optimiser settings of one L-BFGS run: the configured ones, or looser.
#[derive(Debug, Clone, Copy)]
struct Solver {
    tolerance: f64,
    stall_tolerance: f64,
    memory: usize,
    max_iterations: u64,
    line_search: LineSearch,
}

impl Solver {
    fn of(config: &Checked<ConditionalSbpConfig>) -> Self {
        Self {
            tolerance: config.tolerance(),
            stall_tolerance: config.stall_tolerance(),
            memory: config.memory(),
            max_iterations: config.max_iterations(),
            line_search: config.line_search(),
        }
    }

    /// The same with a gradient tolerance of at least `tolerance`.
    fn loose(self, tolerance: f64) -> Self {
        Self {
            tolerance: self.tolerance.max(tolerance),
            ..self
        }
    }
}

/// Minimises `eval` (returning the cost, writing the gradient) from `init` with
/// L-BFGS and the configured line search.
fn minimise(
    eval: impl Fn(&[f64], &mut [f64]) -> f64,
    init: Vec<f64>,
    config: &Solver,
) -> Result<Stage> {
    let not_converged = |iterations| Error::NotConverged {
        what: "conditional SBP fit",
        iterations,
    };
    let problem = Problem {
        eval,
        state: RefCell::new((Vec::new(), 0.0, Vec::new())),
    };
    let tol = config.tolerance;
    let init = ParamVec(init);
    macro_rules! run_with {
        ($ls:expr) => {{
            let solver = LBFGS::new($ls, config.memory)
                .with_tolerance_grad(tol)
                .and_then(|s| s.with_tolerance_cost(tol * tol))
                .map_err(|_| not_converged(0))?;
            let res = Executor::new(problem, solver)
                .configure(|s| s.param(init).max_iters(config.max_iterations))
                .run()
                .map_err(|_| not_converged(0))?;
            let st = res.state();
            (
                st.get_best_param().cloned(),
                st.get_iter(),
                st.get_termination_reason().cloned(),
                res.problem,
            )
        }};
    }
    let (best, iterations, reason, problem) = match config.line_search {
        LineSearch::MoreThuente => run_with!(MoreThuenteLineSearch::new()),
        LineSearch::HagerZhang => run_with!(HagerZhangLineSearch::new()),
    };
    let theta = best.ok_or_else(|| not_converged(iterations))?.0;
    if theta.iter().any(|t| !t.is_finite()) {
        return Err(not_converged(iterations));
    }
    // The best point is usually the last one evaluated: `evaluate` then answers from
    // its cache instead of another pass over the data.
    let (_, grad) = problem
        .problem
        .as_ref()
        .ok_or_else(|| not_converged(iterations))?
        .evaluate(&theta);
    let gradient_norm = grad.iter().map(|g| g * g).sum::<f64>().sqrt();
    let converged = match &reason {
        Some(TerminationReason::SolverConverged) => true,
        // A line search stalled at a jump of the likelihood (see stall_tolerance).
        Some(TerminationReason::SolverExit(_)) => gradient_norm <= config.stall_tolerance,
        _ => false,
    };
    Ok(Stage {
        theta,
        iterations,
        gradient_norm,
        converged,
        termination: reason.map_or_else(|| "not terminated".to_owned(), |r| r.text().to_owned()),
    })
}

impl ConditionalSbp {
    /// Fits the conditional SBP of `y` given the rows of `x` by penalised maximum
    /// likelihood.
    ///
    /// # Errors
    ///
    /// The errors of [`ConditionalSbpConfig`]'s [`check`](Check::check) (when given
    /// unchecked);
    /// [`Error::LengthMismatch`] if `y` and `x` differ in rows;
    /// [`Error::InvalidCount`] for `x` without columns;
    /// [`Error::NonFiniteFeature`] naming the row and column of `x` holding NaN or
    /// ±∞, [`Error::NonFiniteValue`] naming the index of `y` holding one;
    /// [`Error::TooFewObservations`] for fewer rows than parameters
    /// ([`parameter_count`](Self::parameter_count));
    /// [`Error::ConstantFeature`] naming a constant column of `x`;
    /// [`Error::ConstantData`] for constant `y`;
    /// [`Error::NotConverged`] when L-BFGS stops before its tolerance (unless
    /// allowed) or its line search fails.
    pub fn fit(
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        config: impl IntoChecked<ConditionalSbpConfig>,
    ) -> Result<ConditionalSbpFit> {
        let config = config.into_checked()?;
        let d = x.ncols();
        if d == 0 {
            return Err(Error::InvalidCount {
                name: "x columns",
                value: 0,
                expected: ">= 1",
            });
        }
        check_xy(x, Some(y), d)?;
        let n = x.nrows();
        // Before the standardisation, which needs rows to tell a constant column.
        let needed = Self::parameter_count(d, config.config());
        if n < needed {
            return Err(Error::TooFewObservations {
                what: "conditional SBP fit (one per parameter)",
                needed,
                got: n,
            });
        }
        let y: Vec<f64> = y.to_vec();
        // Standardisation.
        let mut x_mean = vec![0.0; d];
        let mut x_scale = vec![0.0; d];
        for (j, col) in x.columns().into_iter().enumerate() {
            let mean = col.sum() / n.max(1) as f64;
            let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n.max(1) as f64;
            let sd = var.sqrt();
            if !(sd > 1e-12 * mean.abs().max(1.0)) || !sd.is_finite() {
                return Err(Error::ConstantFeature {
                    column: j,
                    value: col.first().copied().unwrap_or(f64::NAN),
                });
            }
            x_mean[j] = mean;
            x_scale[j] = sd;
        }
        let (low, high) = match config.range() {
            BinRange::Fixed { low, high } => (low, high),
            BinRange::Quantiles { level, margin } => {
                let mut sorted = y.clone();
                sorted.sort_by(f64::total_cmp);
                if sorted.is_empty() {
                    return Err(Error::TooFewObservations {
                        what: "conditional SBP fit",
                        needed: 1,
                        got: 0,
                    });
                }
                let (a, b) = (
                    sorted_quantile(&sorted, level),
                    sorted_quantile(&sorted, 1.0 - level),
                );
                let r = b - a;
                if !(r > 0.0) {
                    return Err(Error::ConstantData {
                        what: "conditional SBP fit (the bin range of y)",
                        value: a,
                    });
                }
                (a - margin * r, b + margin * r)
            }
        };
        let frame = frame_of(&config, x_mean, x_scale, low, high);
        if n < frame.len() {
            return Err(Error::TooFewObservations {
                what: "conditional SBP fit (one per parameter)",
                needed: frame.len(),
                got: n,
            });
        }
        let theta = initial_parameters(&frame, &y, config.seed());
        run(frame, theta, x, &y, config, false)
    }

    /// Refits this model's parameters to new data, starting from the current ones
    /// (a warm start): the standardisation, grid, tail masses, shape bounds and hidden
    /// width are kept; bins, bounds, tail masses, shape bounds and hidden width in
    /// `config` are ignored, its penalty and optimiser settings are used.
    ///
    /// # Errors
    ///
    /// As [`ConditionalSbp::fit`]; [`Error::LengthMismatch`] if `x` has a different
    /// number of columns than the model.
    pub fn refit(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        config: impl IntoChecked<ConditionalSbpConfig>,
    ) -> Result<ConditionalSbpFit> {
        let config = config.into_checked()?;
        check_xy(x, Some(y), self.frame.d())?;
        if x.nrows() < self.frame.len() {
            return Err(Error::TooFewObservations {
                what: "conditional SBP fit (one per parameter)",
                needed: self.frame.len(),
                got: x.nrows(),
            });
        }
        let y = y.to_vec();
        run(self.frame.clone(), self.theta.clone(), x, &y, config, true)
    }

    /// Number of features.
    pub fn features(&self) -> usize {
        self.frame.d()
    }

    /// Number of body bins.
    pub fn bins(&self) -> usize {
        self.frame.bins
    }

    /// The bin range `(low, high)`.
    pub fn bin_range(&self) -> (f64, f64) {
        (self.frame.low, self.frame.high)
    }

    /// Width of the hidden layer (`None`: the heads are affine in the features).
    pub fn hidden(&self) -> Option<usize> {
        self.frame.hidden
    }

    /// Tail masses `(p_l, p_u)`.
    pub fn tail_masses(&self) -> (f64, f64) {
        (self.frame.lower_mass, self.frame.upper_mass)
    }

    /// The fitted tail shapes `(ξ_l, ξ_u)`.
    pub fn shapes(&self) -> (f64, f64) {
        (
            self.frame.shape(self.theta[self.frame.lower_shape()]).0,
            self.frame.shape(self.theta[self.frame.upper_shape()]).0,
        )
    }

    /// The feature means and standard deviations used for standardisation.
    pub fn standardisation(&self) -> (&[f64], &[f64]) {
        (&self.frame.x_mean, &self.frame.x_scale)
    }

    /// The parameter vector (layout in the module documentation of the engine:
    /// hidden weights and biases, body weights `K × p` and biases, lower log-scale
    /// slopes and intercept, upper log-scale slopes and intercept, the two shape
    /// pre-images).
    pub fn parameters(&self) -> &[f64] {
        &self.theta
    }

    /// A reusable predictor: one distribution updated in place per row, so
    /// prediction does not allocate.
    pub fn predictor(&self) -> Predictor<'_> {
        let probs = vec![1.0; self.frame.bins];
        let gpd = GeneralizedPareto::exponential(1.0)
            .unwrap_or_else(|_| unreachable!("scale 1 is valid"));
        let body = Binned::equal_width(self.frame.low, self.frame.high, probs)
            .unwrap_or_else(|_| unreachable!("the frame's grid is valid"));
        let lower = Tail::new(self.frame.lower_mass, gpd)
            .unwrap_or_else(|_| unreachable!("validated mass"));
        let upper = Tail::new(self.frame.upper_mass, gpd)
            .unwrap_or_else(|_| unreachable!("validated mass"));
        Predictor {
            model: self,
            scratch: RowScratch::new(&self.frame, &self.theta),
            dist: SplicedBinnedPareto::new(body, lower, upper)
                .unwrap_or_else(|_| unreachable!("valid parts")),
        }
    }

    /// The conditional distribution of `y` given one feature row.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`] for a row of the wrong length,
    /// [`Error::NonFiniteValue`] for NaN or ±∞ in it.
    pub fn predict(&self, x_row: ArrayView1<'_, f64>) -> Result<SplicedBinnedPareto> {
        let mut p = self.predictor();
        p.predict(x_row)?;
        Ok(p.dist)
    }

    /// Quantiles at `levels` of each row's conditional distribution: an
    /// `n × levels.len()` array.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`] if `x` has the wrong number of columns,
    /// [`Error::NonFiniteFeature`] (row and column) for NaN or ±∞ in it,
    /// [`Error::ProbabilityOutOfRange`] for a level outside `[0, 1]`.
    pub fn predict_quantiles(&self, x: ArrayView2<'_, f64>, levels: &[f64]) -> Result<Array2<f64>> {
        for &p in levels {
            crate::dist::check_level(p)?;
        }
        check_xy(x, None, self.frame.d())?;
        let mut out = Array2::zeros((x.nrows(), levels.len()));
        let mut pred = self.predictor();
        for (row, mut o) in x.rows().into_iter().zip(out.rows_mut()) {
            let dist = pred.predict_unchecked(row)?;
            for (v, &p) in o.iter_mut().zip(levels) {
                *v = dist.quantile(p);
            }
        }
        Ok(out)
    }

    /// The percentile score (PIT) of each outcome under its own conditional
    /// distribution, `F(y_i | x_i)`: uniform on (0, 1) when the model is right, and
    /// the "how unusual was this, given the circumstances" score of one outcome.
    ///
    /// Evaluated in chunks of 4,096 rows, standardised into a buffer per thread and
    /// handed out to up to [`std::thread::available_parallelism`] scoped
    /// threads (each score depends on its row only, so the result does not depend on
    /// the threads); no per-row allocation.
    ///
    /// # Errors
    ///
    /// As [`log_likelihood`](Self::log_likelihood).
    pub fn percentile_scores(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
    ) -> Result<Array1<f64>> {
        check_xy(x, Some(y), self.frame.d())?;
        let frame = &self.frame;
        let consts = RowConsts::new(frame);
        let (xi_l, xi_u) = self.shapes();
        let n = x.nrows();
        let mut out = Array1::zeros(n);
        let Some(dst) = out.as_slice_mut() else {
            unreachable!("a new array is contiguous")
        };
        let chunks = std::sync::Mutex::new(dst.chunks_mut(SCORE_CHUNK).enumerate());
        let work = || {
            let mut ws = Workspace::new(frame);
            let mut xs = Array2::zeros((SCORE_CHUNK.min(n), frame.d()));
            loop {
                let next = chunks
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .next();
                let Some((c, dst)) = next else { return };
                let start = c * SCORE_CHUNK;
                let rows = dst.len();
                let xb = x.slice_axis(Axis(0), Slice::from(start..start + rows));
                for (mut o, row) in xs.rows_mut().into_iter().zip(xb.rows()) {
                    for (((o, &v), &m), &sd) in o
                        .iter_mut()
                        .zip(&row)
                        .zip(&frame.x_mean)
                        .zip(&frame.x_scale)
                    {
                        *o = (v - m) / sd;
                    }
                }
                engine::for_each_row(
                    frame,
                    &self.theta,
                    xs.slice_axis(Axis(0), Slice::from(..rows)),
                    &mut ws,
                    |i, probs, sl, su| {
                        dst[i] = engine::row_cdf(&consts, probs, sl, su, xi_l, xi_u, y[start + i]);
                    },
                );
            }
        };
        let threads = std::thread::available_parallelism()
            .map_or(1, std::num::NonZeroUsize::get)
            .min(n.div_ceil(SCORE_CHUNK));
        std::thread::scope(|scope| {
            for _ in 1..threads {
                scope.spawn(work);
            }
            work();
        });
        Ok(out)
    }

    /// `Σ ln f(y_i | x_i)`.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`] if `y` and `x` differ in rows or `x` has the wrong
    /// number of columns; [`Error::NonFiniteFeature`] (row and column) for NaN or ±∞
    /// in `x`, [`Error::NonFiniteValue`] for one in `y`.
    pub fn log_likelihood(&self, x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>) -> Result<f64> {
        check_xy(x, Some(y), self.frame.d())?;
        let data = Data::new(&self.frame, x, &y.to_vec());
        let mut ws = Workspace::new(&self.frame);
        Ok(engine::log_likelihood(
            &self.frame,
            &self.theta,
            &data,
            &mut ws,
            None,
        ))
    }

    /// Builds a model from its parts (for tests and generators: a known conditional
    /// SBP to sample from). `parameters` follows [`parameters`](Self::parameters);
    /// `mean`/`scale` standardise the features; bins, range, tail masses, shape
    /// bounds and hidden width come from `config`.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`] for vectors of the wrong length, the errors of
    /// [`ConditionalSbpConfig`]'s [`check`](Check::check) (when given unchecked),
    /// [`Error::ParameterOutOfRange`] if the
    /// range is not [`BinRange::Fixed`], and the checks of deserialisation.
    pub fn from_parts(
        config: impl IntoChecked<ConditionalSbpConfig>,
        mean: Vec<f64>,
        scale: Vec<f64>,
        parameters: Vec<f64>,
    ) -> Result<Self> {
        let config = config.into_checked()?;
        let BinRange::Fixed { low, high } = config.range() else {
            return Err(Error::ParameterOutOfRange {
                name: "range",
                value: f64::NAN,
                expected: "BinRange::Fixed for a model built from its parts",
            });
        };
        ConditionalSbp::try_from(ModelParams {
            frame: frame_of(&config, mean, scale, low, high),
            parameters,
        })
    }

    /// Number of parameters of a model with `features` inputs under `config`.
    pub fn parameter_count(features: usize, config: &ConditionalSbpConfig) -> usize {
        let p = config.hidden.unwrap_or(features);
        config.hidden.map_or(0, |m| m * (features + 1)) + config.bins * (p + 1) + 2 * (p + 1) + 2
    }

    /// The shape parameter's pre-image for a shape `xi` under `config`'s bounds (for
    /// [`from_parts`](Self::from_parts)).
    pub fn shape_preimage(config: &ConditionalSbpConfig, xi: f64) -> f64 {
        let (lo, hi) = config.shape_bounds;
        let u = (xi - lo) / (hi - lo);
        (u / (1.0 - u)).ln()
    }
}

/// Predicts one row at a time into one reusable [`SplicedBinnedPareto`] (no
/// allocation per row). From [`ConditionalSbp::predictor`].
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// # use ndarray::{Array1, Array2};
/// # use tailcast::conditional::{ConditionalSbp, ConditionalSbpConfig};
/// # let x = Array2::from_shape_fn((1000, 1), |(i, _)| i as f64);
/// # let y = Array1::from_shape_fn(1000, |i| i as f64 * 0.01 + (i as f64 * 0.7).sin().powi(3));
/// let fit = ConditionalSbp::fit(x.view(), y.view(), &ConditionalSbpConfig::default().bins(20))?;
/// let mut predictor = fit.model.predictor();
/// for row in x.rows() {
///     let dist = predictor.predict(row)?;
///     assert!(dist.quantile(0.9) > dist.quantile(0.1));
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Predictor<'a> {
    model: &'a ConditionalSbp,
    scratch: RowScratch,
    dist: SplicedBinnedPareto,
}

impl Predictor<'_> {
    /// The conditional distribution for one feature row, valid until the next call.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`] for a row of the wrong length,
    /// [`Error::NonFiniteValue`] for NaN or ±∞ in it.
    pub fn predict(&mut self, x_row: ArrayView1<'_, f64>) -> Result<&SplicedBinnedPareto> {
        let d = self.model.frame.d();
        if x_row.len() != d {
            return Err(Error::LengthMismatch {
                name: "x_row",
                expected: d,
                got: x_row.len(),
            });
        }
        if let Some((index, &value)) = x_row.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFiniteValue {
                name: "x_row",
                index,
                value,
            });
        }
        self.predict_unchecked(x_row)
    }

    fn predict_unchecked(&mut self, x_row: ArrayView1<'_, f64>) -> Result<&SplicedBinnedPareto> {
        let frame = &self.model.frame;
        let theta = &self.model.theta;
        let (s_l, s_u) =
            engine::row_forward(frame, theta, x_row.iter().copied(), &mut self.scratch);
        let (xi_l, xi_u) = self.model.shapes();
        // A log-scale beyond ±700 would over- or underflow σ: saturate it.
        let lower = GeneralizedPareto::new(xi_l, s_l.clamp(-700.0, 700.0).exp())?;
        let upper = GeneralizedPareto::new(xi_u, s_u.clamp(-700.0, 700.0).exp())?;
        self.dist.update(
            &self.scratch.probs,
            Tail::new(frame.lower_mass, lower)?,
            Tail::new(frame.upper_mass, upper)?,
        )?;
        Ok(&self.dist)
    }
}

impl ConditionalSbpFit {
    /// Standard errors of the tail shapes from the observed information of each
    /// tail's penalised GPD likelihood at the estimate, given the fitted body (its
    /// conditional thresholds held fixed, as in the two-stage fit): the Hessian by
    /// central differences of the analytic gradient, inverted by Cholesky, and the
    /// delta method from the shape pre-image to the shape. `None` if a Hessian is not
    /// positive definite.
    ///
    /// # Errors
    ///
    /// As [`ConditionalSbp::log_likelihood`].
    pub fn shape_standard_errors(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
    ) -> Result<Option<ShapeStandardErrors>> {
        let model = &self.model;
        let frame = &model.frame;
        check_xy(x, Some(y), frame.d())?;
        let data = Data::new(frame, x, &y.to_vec());
        let (lower, upper) = engine::tail_data(frame, &model.theta, &data);
        let p = frame.p();
        let mut se = [0.0; 2];
        for (out, (tail, a, shape)) in se.iter_mut().zip([
            (&lower, frame.lower_a(), frame.lower_shape()),
            (&upper, frame.upper_a(), frame.upper_shape()),
        ]) {
            let mut params = model.theta[a..a + p + 1].to_vec();
            params.push(model.theta[shape]);
            let np = params.len();
            let n = tail.e.len() as f64;
            let mut hess = vec![0.0; np * np];
            let (mut gp, mut gm) = (vec![0.0; np], vec![0.0; np]);
            for i in 0..np {
                let h = 1e-5 * params[i].abs().max(1.0);
                let t0 = params[i];
                params[i] = t0 + h;
                engine::tail_objective(frame, &params, tail, self.config.l2(), &mut gp);
                params[i] = t0 - h;
                engine::tail_objective(frame, &params, tail, self.config.l2(), &mut gm);
                params[i] = t0;
                for j in 0..np {
                    hess[i * np + j] = (gp[j] - gm[j]) / (2.0 * h) * n;
                }
            }
            for i in 0..np {
                for j in 0..i {
                    let s = 0.5 * (hess[i * np + j] + hess[j * np + i]);
                    hess[i * np + j] = s;
                    hess[j * np + i] = s;
                }
            }
            let Some(chol) = cholesky(&mut hess, np) else {
                return Ok(None);
            };
            let mut e = vec![0.0; np];
            e[np - 1] = 1.0;
            chol_solve(chol, np, &mut e);
            let (_, dxi) = frame.shape(params[np - 1]);
            *out = dxi * e[np - 1].sqrt();
        }
        Ok(Some(ShapeStandardErrors {
            lower: se[0],
            upper: se[1],
        }))
    }
}

/// In-place Cholesky factor (lower triangle) of a symmetric `n × n` matrix.
fn cholesky(a: &mut [f64], n: usize) -> Option<&[f64]> {
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        if !(d > 0.0) {
            return None;
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / d;
        }
    }
    Some(a)
}

/// Solves `L Lᵀ x = b` in place.
fn chol_solve(l: &[f64], n: usize, b: &mut [f64]) {
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i * n + k] * b[k];
        }
        b[i] = s / l[i * n + i];
    }
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= l[k * n + i] * b[k];
        }
        b[i] = s / l[i * n + i];
    }
}

/// Starting values: the unconditional SBP of `y` on the model's grid, zero slopes;
/// seeded small weights for a hidden layer.
fn initial_parameters(frame: &Frame, y: &[f64], seed: u64) -> Vec<f64> {
    let mut theta = vec![0.0; frame.len()];
    let k = frame.bins;
    let mut counts = vec![0.5; k];
    for &v in y {
        if v >= frame.low && v <= frame.high {
            counts[frame.bin_of(v)] += 1.0;
        }
    }
    let total: f64 = counts.iter().sum();
    let mean_log = counts.iter().map(|c| (c / total).ln()).sum::<f64>() / k as f64;
    for (t, c) in theta[frame.body_b()..frame.body_b() + k]
        .iter_mut()
        .zip(&counts)
    {
        *t = (c / total).ln() - mean_log;
    }
    // Tails: GPDs of the exceedances over the unconditional body's thresholds.
    let mut lower_scale = frame.width();
    let mut upper_scale = frame.width();
    let (mut xi_l, mut xi_u) = (0.1, 0.1);
    if let Ok(body) = Binned::equal_width(frame.low, frame.high, counts) {
        let tau_l = body.quantile(frame.lower_mass);
        let tau_u = body.quantile(1.0 - frame.upper_mass);
        let below: Vec<f64> = y
            .iter()
            .filter(|&&v| v < tau_l)
            .map(|v| tau_l - v)
            .collect();
        let above: Vec<f64> = y
            .iter()
            .filter(|&&v| v > tau_u)
            .map(|v| v - tau_u)
            .collect();
        if below.len() >= 10
            && let Ok(fit) = GeneralizedPareto::fit(&below)
        {
            lower_scale = fit.dist.scale();
            xi_l = fit.dist.shape();
        }
        if above.len() >= 10
            && let Ok(fit) = GeneralizedPareto::fit(&above)
        {
            upper_scale = fit.dist.scale();
            xi_u = fit.dist.shape();
        }
    }
    theta[frame.lower_a0()] = lower_scale.ln();
    theta[frame.upper_a0()] = upper_scale.ln();
    theta[frame.lower_shape()] = frame.shape_preimage(xi_l);
    theta[frame.upper_shape()] = frame.shape_preimage(xi_u);
    if let Some(m) = frame.hidden {
        let d = frame.d();
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let sd = 1.0 / (d as f64).sqrt();
        for t in &mut theta[..m * d] {
            let z: f64 = rand_distr::StandardNormal.sample(&mut rng);
            *t = sd * z;
        }
    }
    theta
}

/// Diagonal preconditioning of the body stage: parameter `θ_i = c_i u_i`, L-BFGS
/// working on `u`. The curvature of the histogram likelihood in bin `k`'s bias and
/// weights is about `π̄_k (1 - π̄_k)` (`π̄_k` the bin's share of the observations, out
/// of grid ones in the end bins), which spans orders of magnitude between busy and
/// rare bins; `c_k = (K (π̄_k + 1/n))^{-1/2}` evens it out. Other parameters: 1.
fn body_scales(frame: &Frame, data: &Data) -> Vec<f64> {
    let k = frame.bins;
    let n = data.n().max(1) as f64;
    let mut counts = vec![0.0; k];
    for &b in &data.bin {
        counts[b] += 1.0;
    }
    let mut scale = vec![1.0; frame.len()];
    let p = frame.p();
    for (j, &c) in counts.iter().enumerate() {
        let share = c / n + 1.0 / n;
        let s = (k as f64 * share).sqrt().recip();
        for v in &mut scale[frame.body_w() + j * p..frame.body_w() + (j + 1) * p] {
            *v = s;
        }
        scale[frame.body_b() + j] = s;
    }
    scale
}

/// Subtracts, for each feature and for the bias, the mean over the bins of the body's
/// weights (biases) in `v` (parameters or a gradient): the orthogonal projection onto
/// parameters whose logits sum to zero over the bins for every row.
///
/// The softmax does not change when the same affine function of the features is
/// added to every bin's logit, so the likelihood (histogram, censored or spliced) is
/// flat along those directions and its gradient orthogonal to them; the L2 penalty
/// alone pins them down, at zero, with a curvature of only `l2/n` per row.
fn center_body(frame: &Frame, v: &mut [f64]) {
    let (k, p) = (frame.bins, frame.p());
    let kf = k as f64;
    let w = &mut v[frame.body_w()..frame.body_b()];
    for j in 0..p {
        let mean = w.iter().skip(j).step_by(p).sum::<f64>() / kf;
        for x in w.iter_mut().skip(j).step_by(p) {
            *x -= mean;
        }
    }
    let b = &mut v[frame.body_b()..frame.body_b() + k];
    let mean = b.iter().sum::<f64>() / kf;
    for x in b {
        *x -= mean;
    }
}

/// [`minimise`] of a body-stage objective in the scaled parameters `u = θ / c`, with
/// the body's parameters centred over the bins ([`center_body`]): L-BFGS minimises
/// `f(P(c ⊙ u))`, `P` the centring, whose gradient is `c ⊙ P ∇f`. The returned
/// parameters are in `θ` (centred), the gradient norm in `u`.
///
/// The centring changes nothing at the optimum (the penalised optimum is centred:
/// centring leaves the likelihood as it is and lowers the penalty), but without it
/// the scaling would tilt every step out of the centred subspace (a step `c² ⊙ g`
/// has a shift component even though `g` has none), and L-BFGS would then spend
/// most of its iterations bringing the shift back along the penalty's weak
/// curvature (on the bench's 100,000 × 10 fit: 57 iterations of the full-data stage
/// without, 27 with, to the same objective).
fn minimise_scaled(
    eval: impl Fn(&[f64], &mut [f64]) -> f64,
    frame: &Frame,
    init: Vec<f64>,
    scale: &[f64],
    config: &Solver,
) -> Result<Stage> {
    let u0: Vec<f64> = init.iter().zip(scale).map(|(t, c)| t / c).collect();
    let theta = RefCell::new(vec![0.0; init.len()]);
    let mut stage = minimise(
        |u, g| {
            let mut theta = theta.borrow_mut();
            for ((t, u), c) in theta.iter_mut().zip(u).zip(scale) {
                *t = u * c;
            }
            center_body(frame, &mut theta);
            let f = eval(&theta, g);
            center_body(frame, g);
            for (g, c) in g.iter_mut().zip(scale) {
                *g *= c;
            }
            f
        },
        u0,
        config,
    )?;
    for (t, c) in stage.theta.iter_mut().zip(scale) {
        *t *= c;
    }
    center_body(frame, &mut stage.theta);
    Ok(stage)
}

/// Rows per chunk of [`ConditionalSbp::percentile_scores`] (a multiple of the
/// engine's block of rows).
const SCORE_CHUNK: usize = 16 * engine::BLOCK;

/// The censored rounds stop once fewer than one row in this many changes side.
const CENSOR_STABLE: usize = 2_000;

/// Rows from which the body stage starts on a subsample.
const WARM_SUBSAMPLE_MIN: usize = 40_000;
/// Rows of that subsample.
const WARM_SUBSAMPLE: usize = 10_000;
/// Gradient tolerance of the subsample's fit (only a starting point).
const WARM_TOLERANCE: f64 = 1e-4;

fn run(
    frame: Frame,
    theta0: Vec<f64>,
    x: ArrayView2<'_, f64>,
    y: &[f64],
    config: Checked<ConditionalSbpConfig>,
    warm_start: bool,
) -> Result<ConditionalSbpFit> {
    let mut data = Data::new(&frame, x, y);
    let ws = RefCell::new(Workspace::new(&frame));
    let l2 = config.l2();
    let solver = Solver::of(&config);
    let mut stages = Vec::new();
    // Stage 1: the body's histogram likelihood (and the hidden layer), warm-started
    // on a seeded subsample of a large data set (cheap iterations that get close).
    let scale = body_scales(&frame, &data);
    let mut body_start = theta0.clone();
    let mut warm_iterations = 0;
    if !warm_start && data.n() >= WARM_SUBSAMPLE_MIN {
        let mut rng = rand::rngs::StdRng::seed_from_u64(config.seed() ^ 0x5EED_5AB5);
        let mut rows = rand::seq::index::sample(&mut rng, data.n(), WARM_SUBSAMPLE).into_vec();
        rows.sort_unstable();
        let sub = data.subset(&rows);
        // L2 per row is scaled with the rows, so the subsample's penalty matches.
        let sub_l2 = l2 * sub.n() as f64 / data.n() as f64;
        let loose = solver.loose(WARM_TOLERANCE);
        let warm = minimise_scaled(
            |t, g| engine::objective(&frame, t, &sub, sub_l2, Kind::Body, &mut ws.borrow_mut(), g),
            &frame,
            theta0.clone(),
            &scale,
            &loose,
        )?;
        warm_iterations = warm.iterations;
        body_start = warm.theta;
    }
    // With censored rounds to follow, the histogram stage only has to place the first
    // thresholds: a loose tolerance.
    let loose = solver.loose(WARM_TOLERANCE);
    let censored = config.censored_rounds() > 0;
    // A warm start from a fitted model goes straight to the censored rounds.
    let mut body = if warm_start && censored {
        Stage {
            theta: body_start,
            iterations: 0,
            gradient_norm: f64::NAN,
            converged: false,
            termination: String::new(),
        }
    } else {
        minimise_scaled(
            |t, g| engine::objective(&frame, t, &data, l2, Kind::Body, &mut ws.borrow_mut(), g),
            &frame,
            body_start,
            &scale,
            if censored { &loose } else { &solver },
        )?
    };
    body.iterations += warm_iterations;
    // Censored rounds: with the thresholds of the current body fixed, the points
    // beyond them count only by the body's mass on their side, so the tail points
    // place the thresholds without shaping the end bins. Loose rounds until fewer
    // than one row in CENSOR_STABLE changes side (at most `censored_rounds`), then a
    // final round to the configured tolerance.
    if censored {
        let mut round = 0;
        loop {
            let changed = data.censor_at(&frame, &body.theta);
            // A warm start sits at a fitted model's thresholds: one final round.
            let last = warm_start
                || round == config.censored_rounds()
                || (round > 0 && changed * CENSOR_STABLE < data.n());
            let next = minimise_scaled(
                |t, g| {
                    engine::objective(
                        &frame,
                        t,
                        &data,
                        l2,
                        Kind::Censored,
                        &mut ws.borrow_mut(),
                        g,
                    )
                },
                &frame,
                body.theta.clone(),
                &scale,
                if last { &solver } else { &loose },
            )?;
            let total = body.iterations + next.iterations;
            body = next;
            body.iterations = total;
            if last {
                break;
            }
            round += 1;
        }
    }
    let mut theta = body.theta.clone();
    stages.push(body);
    // Stage 2: each tail's GPD on its exceedances over the conditional thresholds.
    let (lower, upper) = engine::tail_data(&frame, &theta, &data);
    let p = frame.p();
    for (tail, a, shape, what) in [
        (&lower, frame.lower_a(), frame.lower_shape(), "lower tail"),
        (&upper, frame.upper_a(), frame.upper_shape(), "upper tail"),
    ] {
        if tail.e.len() < p + 12 {
            return Err(Error::TooFewObservations {
                what: if what == "lower tail" {
                    "conditional SBP lower tail (exceedances)"
                } else {
                    "conditional SBP upper tail (exceedances)"
                },
                needed: p + 12,
                got: tail.e.len(),
            });
        }
        let mut init = theta0[a..a + p + 1].to_vec();
        init.push(theta0[shape]);
        let stage = minimise(
            |t, g| engine::tail_objective(&frame, t, tail, l2, g),
            init,
            &solver,
        )?;
        theta[a..a + p + 1].copy_from_slice(&stage.theta[..p + 1]);
        theta[shape] = stage.theta[p + 1];
        stages.push(stage);
    }
    if config.joint_refinement() {
        let joint = minimise(
            |t, g| engine::objective(&frame, t, &data, l2, Kind::Joint, &mut ws.borrow_mut(), g),
            theta.clone(),
            &solver,
        )?;
        theta.clone_from(&joint.theta);
        stages.push(joint);
    }
    let iterations = stages.iter().map(|s| s.iterations).sum();
    let converged = stages.iter().all(|s| s.converged);
    if !converged && !config.allow_unconverged() {
        return Err(Error::NotConverged {
            what: "conditional SBP fit",
            iterations,
        });
    }
    let gradient_norm = stages.iter().map(|s| s.gradient_norm).fold(0.0, f64::max);
    let termination = stages
        .iter()
        .zip(["body", "lower tail", "upper tail", "joint"])
        .map(|(s, name)| format!("{name}: {} ({} iterations)", s.termination, s.iterations))
        .collect::<Vec<_>>()
        .join("; ");
    let log_likelihood = engine::log_likelihood(&frame, &theta, &data, &mut ws.borrow_mut(), None);
    let objective = engine::joint_objective_value(&frame, &theta, data.n(), l2, log_likelihood);
    Ok(ConditionalSbpFit {
        model: ConditionalSbp { frame, theta },
        log_likelihood,
        objective,
        gradient_norm,
        iterations,
        converged,
        termination,
        config,
    })
}

#[cfg(test)]
pub(crate) mod tests;
