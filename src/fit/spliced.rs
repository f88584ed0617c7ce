//! Fitting the spliced binned-Pareto distribution: body shares, thresholds at the
//! tail masses' quantiles, and a GPD on each tail's exceedances.

use serde::{Deserialize, Serialize};

use super::binned::{BodyEstimator, Smoothing};
use super::gpd::{GpdEstimate, GpdFit, GpdFitter, observed_information, standard_errors};
use super::policy::{Start, TailOutcome, central_grid, empirical_body};
use super::sample::check_weight;
use crate::checked::{Check, Checked, IntoChecked};
use crate::dist::spliced::check_tail_mass;
use crate::error::{Error, Result, all_finite};
use crate::{Binned, GeneralizedPareto, SplicedBinnedPareto, Tail};

/// Where the body's bins go.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Bounds {
    /// From the data: `[min - margin·range, max + margin·range]` with
    /// `range = max - min` (the paper uses the training series' min and max).
    Auto {
        /// Relative margin on each side, `>= 0`.
        margin: f64,
    },
    /// Fixed bin range (what a rolling forecaster uses, so the edges never move).
    Fixed {
        /// Lower edge of the first bin.
        low: f64,
        /// Upper edge of the last bin.
        high: f64,
    },
    /// From the data's central part: the weighted quantiles `q_l`, `q_u` at the tail
    /// masses, widened by `margin · (q_u - q_l)` on each side (the min-max span when
    /// they coincide). The rolling forecaster's grid (margin 1/2: the body between the
    /// thresholds covers about half the bins, where min and max of a spiky window
    /// would leave it a handful); points outside the grid are counted in the edge
    /// bins, which lie in the tails.
    Central {
        /// Relative margin on each side, `>= 0`.
        margin: f64,
    },
}

/// Where the tail thresholds go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Thresholds {
    /// At the fitted body's quantiles `p_l` and `1 - p_u` (smoothing and
    /// pseudo-counts move them slightly inside the empirical ones).
    #[default]
    BodyQuantiles,
    /// At the data's weighted quantiles `p_l` and `1 - p_u`, interpolated within
    /// their bins, with the body's mass beyond each threshold's bin rescaled so that
    /// the body's own quantiles fall exactly on them: what the rolling forecaster
    /// uses, because without the alignment the pseudo-counts beyond the thresholds
    /// move them (by about `α (p K - k) / n` in probability, `k` bins beyond, `n`
    /// points: a full point for `α = 1/2` on 1,000 points) and the tails are
    /// miscalibrated by as much.
    Empirical,
}

fn yes() -> bool {
    true
}

fn no_bound() -> f64 {
    f64::INFINITY
}

/// Checks a bound on the tails' shape: `> 0`, `+∞` for none.
///
/// # Errors
///
/// [`Error::NonFiniteParameter`] for NaN or `-∞`, [`Error::NonPositiveParameter`]
/// for a bound `<= 0`.
pub(crate) fn check_max_tail_shape(c: f64) -> Result<f64> {
    if c == f64::INFINITY {
        return Ok(c);
    }
    crate::error::positive("max_tail_shape", c)
}

/// Configuration of the spliced binned-Pareto fit: an unchecked builder whose
/// [`check`](Check::check) gives the [`Checked<SbpConfig>`](Checked) a fitter runs on
/// (see [`crate::Checked`]).
///
/// Defaults: 100 bins, automatic bounds with a 1 % margin, tail masses 0.05, no
/// smoothing, pseudo-count 0.5 per bin (see [`BodyEstimator`]), at least 10
/// exceedances per tail, and the default (global) [`GpdFitter`].
///
/// By default the thresholds are the *body's* quantiles, so the spliced cdf is
/// exactly `p_l` and `1 - p_u` there. Smoothing and pseudo-counts spread body mass
/// outwards, which moves those quantiles slightly inside the empirical ones: a tail
/// then holds a little more than `p · n` exceedances.
///
/// The rolling forecaster fits with the same configuration type and the same code:
/// its rules are options here, off by default ([`Checked<ForecasterConfig>::residual_sbp`]
/// turns them on), so a fit of a forecaster's residuals with its configuration is
/// its residual distribution:
///
/// | option | default | the forecaster's |
/// |---|---|---|
/// | [`thresholds`](Self::thresholds) | [`Thresholds::BodyQuantiles`] | [`Thresholds::Empirical`] (body aligned on them) |
/// | [`auto_bounds`](Self::auto_bounds) / [`central_bounds`](Self::central_bounds) | [`Bounds::Auto`], margin 0.01 | [`Bounds::Central`], margin 0.5 |
/// | [`allow_bounded_tails`](Self::allow_bounded_tails) | `true` | `false` (ξ >= 0) |
/// | [`max_tail_shape`](Self::max_tail_shape) | none | 1 |
/// | [`tail_fallbacks`](Self::tail_fallbacks) | `false` (errors) | `true` |
/// | [`rescale_exceedances`](Self::rescale_exceedances) | `false` | `true` |
///
/// [`Checked<ForecasterConfig>::residual_sbp`]: crate::Checked::<crate::ForecasterConfig>::residual_sbp
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::fit::SbpConfig;
/// use tailcast::SplicedBinnedPareto;
///
/// let x: Vec<f64> = (0..2000).map(|i| ((i as f64 * 0.618_033_988_7).fract() - 0.5) * 10.0).collect();
/// let config = SbpConfig::default().bins(50).tail_mass(0.05).pseudo_count(0.0);
/// let fit = SplicedBinnedPareto::fit(&x, &config)?;
/// assert!((fit.dist.cdf(fit.dist.upper_threshold()) - 0.95).abs() < 1e-12);
/// assert!((99..=101).contains(&fit.upper_exceedances));
/// // Uniform data: both tails are short (shape near -1).
/// assert!(fit.upper.dist.shape() < -0.5);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SbpConfig {
    bins: usize,
    bounds: Bounds,
    lower_tail_mass: f64,
    upper_tail_mass: f64,
    smoothing: Smoothing,
    pseudo_count: f64,
    min_exceedances: usize,
    gpd: GpdFitter,
    /// Absent in configurations saved before the option existed: the default.
    #[serde(default)]
    thresholds: Thresholds,
    #[serde(default = "yes")]
    bounded_tails: bool,
    /// `+∞`: no bound (written as `null`).
    #[serde(default = "no_bound", with = "crate::nonfinite::bound")]
    max_tail_shape: f64,
    #[serde(default)]
    tail_fallbacks: bool,
    #[serde(default)]
    rescale_exceedances: bool,
}

impl Default for SbpConfig {
    fn default() -> Self {
        Self {
            bins: 100,
            bounds: Bounds::Auto { margin: 0.01 },
            lower_tail_mass: 0.05,
            upper_tail_mass: 0.05,
            smoothing: Smoothing::None,
            pseudo_count: 0.5,
            min_exceedances: 10,
            gpd: GpdFitter::default(),
            thresholds: Thresholds::BodyQuantiles,
            bounded_tails: true,
            max_tail_shape: f64::INFINITY,
            tail_fallbacks: false,
            rescale_exceedances: false,
        }
    }
}

impl SbpConfig {
    /// Number of equal-width bins of the body.
    pub fn bins(mut self, bins: usize) -> Self {
        self.bins = bins;
        self
    }

    /// Fixed bin range `[low, high]`.
    pub fn bounds(mut self, low: f64, high: f64) -> Self {
        self.bounds = Bounds::Fixed { low, high };
        self
    }

    /// Bin range from the data's min and max, widened by `margin · (max - min)`.
    pub fn auto_bounds(mut self, margin: f64) -> Self {
        self.bounds = Bounds::Auto { margin };
        self
    }

    /// The same mass for both tails, in (0, 0.5).
    pub fn tail_mass(mut self, mass: f64) -> Self {
        self.lower_tail_mass = mass;
        self.upper_tail_mass = mass;
        self
    }

    /// Mass of the lower tail, in (0, 0.5).
    pub fn lower_tail_mass(mut self, mass: f64) -> Self {
        self.lower_tail_mass = mass;
        self
    }

    /// Mass of the upper tail, in (0, 0.5).
    pub fn upper_tail_mass(mut self, mass: f64) -> Self {
        self.upper_tail_mass = mass;
        self
    }

    /// Smoothing of the body's bin indicator.
    pub fn smoothing(mut self, smoothing: Smoothing) -> Self {
        self.smoothing = smoothing;
        self
    }

    /// Dirichlet pseudo-count per bin, `>= 0`.
    pub fn pseudo_count(mut self, alpha: f64) -> Self {
        self.pseudo_count = alpha;
        self
    }

    /// Minimum number of exceedances (points strictly beyond the threshold) for a
    /// tail fit; at least 2 is always required.
    pub fn min_exceedances(mut self, n: usize) -> Self {
        self.min_exceedances = n;
        self
    }

    /// The GPD fitter used for both tails.
    pub fn gpd_fitter(mut self, fitter: GpdFitter) -> Self {
        self.gpd = fitter;
        self
    }

    /// Bin range from the data's central part (see [`Bounds::Central`]).
    pub fn central_bounds(mut self, margin: f64) -> Self {
        self.bounds = Bounds::Central { margin };
        self
    }

    /// Where the thresholds go (default [`Thresholds::BodyQuantiles`]).
    pub fn thresholds(mut self, rule: Thresholds) -> Self {
        self.thresholds = rule;
        self
    }

    /// Whether a tail may have a finite end point, a shape `ξ < 0` (default `true`).
    /// Off, an estimate below 0 is replaced by the maximum over `ξ >= 0`, the
    /// exponential fit (what the forecaster does unless told otherwise: on a few
    /// dozen exceedances of a light tail the unconstrained estimate often ends the
    /// tail at the largest one, and the next, slightly larger value would get
    /// probability 0).
    pub fn allow_bounded_tails(mut self, on: bool) -> Self {
        self.bounded_tails = on;
        self
    }

    /// An upper bound `c > 0` on both tails' shape (default none: `f64::INFINITY`,
    /// a valid value, is no bound): an estimate above it is replaced by the maximum of the
    /// likelihood over the admissible shapes, usually on the edge `ξ = c` with its
    /// own scale (see [`ForecasterConfig::max_tail_shape`](crate::ForecasterConfig::max_tail_shape)).
    pub fn max_tail_shape(mut self, c: f64) -> Self {
        self.max_tail_shape = c;
        self
    }

    /// Whether a tail that cannot be fitted falls back instead of failing (default
    /// `false`): a failed fit is retried locally from the exponential fit; too few
    /// exceedances or a failure give the exponential law with the exceedances'
    /// weighted mean as its scale (the `ξ = 0` maximum-likelihood fit); no
    /// exceedance at all keeps the previous tail (in [`SbpFitter::fit_into`]) or uses
    /// one bin width as the scale. What a forecaster needs: it must forecast at
    /// every step.
    pub fn tail_fallbacks(mut self, on: bool) -> Self {
        self.tail_fallbacks = on;
        self
    }

    /// Whether the tail fits run on the exceedances divided by a power of two near
    /// the largest (default `false`): the same fit (the GPD is a scale family and
    /// the division is exact), but no sum overflows and no exceedance is too small
    /// to resolve next to the largest, whatever the magnitude of the data.
    pub fn rescale_exceedances(mut self, on: bool) -> Self {
        self.rescale_exceedances = on;
        self
    }

    /// Fits a spliced binned-Pareto distribution (see [`SbpFitter`]).
    ///
    /// # Errors
    ///
    /// As [`SbpFitter::new`] and [`SbpFitter::fit`].
    pub fn fit(&self, data: &[f64]) -> Result<SbpFit> {
        SbpFitter::new(self)?.fit(data, None)
    }
}

impl Check for SbpConfig {
    /// # Errors
    ///
    /// [`Error::InvalidCount`] for zero bins, [`Error::TailMassOutOfRange`],
    /// [`Error::NonFiniteParameter`] / [`Error::ParameterOutOfRange`] for bad bounds,
    /// margin or pseudo-count, [`Error::NonPositiveParameter`] for a shape bound
    /// `<= 0`, and the errors of the [`GpdFitter`]'s check.
    fn check(&self) -> Result<Checked<Self>> {
        if self.bins == 0 {
            return Err(Error::InvalidCount {
                name: "bins",
                value: 0,
                expected: ">= 1",
            });
        }
        check_tail_mass("lower_tail_mass", self.lower_tail_mass)?;
        check_tail_mass("upper_tail_mass", self.upper_tail_mass)?;
        match self.bounds {
            Bounds::Auto { margin } | Bounds::Central { margin } => {
                crate::error::finite("margin", margin)?;
                if margin < 0.0 {
                    return Err(Error::ParameterOutOfRange {
                        name: "margin",
                        value: margin,
                        expected: ">= 0",
                    });
                }
            }
            Bounds::Fixed { low, high } => {
                BodyEstimator::new(low, high, self.bins)?;
            }
        }
        BodyEstimator::new(0.0, 1.0, self.bins)?.pseudo_count(self.pseudo_count)?;
        check_max_tail_shape(self.max_tail_shape)?;
        self.gpd.check()?;
        Ok(Checked::after_check(*self))
    }
}

/// Every setting of a checked [`SbpConfig`], read back by its name.
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::fit::{Bounds, SbpConfig, Thresholds};
/// use tailcast::Check;
///
/// let config = SbpConfig::default().bins(40).upper_tail_mass(0.1).check()?;
/// assert_eq!(config.bins(), 40);
/// assert_eq!((config.lower_tail_mass(), config.upper_tail_mass()), (0.05, 0.1));
/// assert_eq!(config.bounds(), Bounds::Auto { margin: 0.01 });
/// assert_eq!(config.thresholds(), Thresholds::BodyQuantiles);
/// // No bound on the tails' shape reads back as infinity.
/// assert_eq!(config.max_tail_shape(), f64::INFINITY);
/// assert!(config.gpd_fitter().global());
/// # Ok(())
/// # }
/// ```
impl Checked<SbpConfig> {
    /// Number of bins of the body.
    pub fn bins(&self) -> usize {
        self.config().bins
    }

    /// Where the body's bins go.
    pub fn bounds(&self) -> Bounds {
        self.config().bounds
    }

    /// Mass of the lower tail.
    pub fn lower_tail_mass(&self) -> f64 {
        self.config().lower_tail_mass
    }

    /// Mass of the upper tail.
    pub fn upper_tail_mass(&self) -> f64 {
        self.config().upper_tail_mass
    }

    /// Smoothing of the body's bin indicator.
    pub fn smoothing(&self) -> Smoothing {
        self.config().smoothing
    }

    /// Dirichlet pseudo-count per bin.
    pub fn pseudo_count(&self) -> f64 {
        self.config().pseudo_count
    }

    /// Minimum number of exceedances for a tail fit (at least 2 is always required).
    pub fn min_exceedances(&self) -> usize {
        self.config().min_exceedances
    }

    /// The exceedances a tail fit needs: the configured minimum, and never fewer
    /// than 2.
    pub(crate) fn exceedances_needed(&self) -> usize {
        self.min_exceedances().max(2)
    }

    /// The GPD fitter used for both tails (checked with this configuration).
    pub fn gpd_fitter(&self) -> Checked<GpdFitter> {
        Checked::after_check(self.config().gpd)
    }

    /// The threshold rule.
    pub fn thresholds(&self) -> Thresholds {
        self.config().thresholds
    }

    /// Whether tails may have a finite end point.
    pub fn allow_bounded_tails(&self) -> bool {
        self.config().bounded_tails
    }

    /// The bound on the tails' shape (`f64::INFINITY` when there is none).
    pub fn max_tail_shape(&self) -> f64 {
        self.config().max_tail_shape
    }

    /// Whether tails fall back instead of failing.
    pub fn tail_fallbacks(&self) -> bool {
        self.config().tail_fallbacks
    }

    /// Whether tail fits run on rescaled exceedances.
    pub fn rescale_exceedances(&self) -> bool {
        self.config().rescale_exceedances
    }

    /// The body's estimator on the grid `[low, high]` (for the rolling forecaster,
    /// which applies the same rules, see `policy.rs`, to its incrementally
    /// maintained window instead of to a slice).
    pub(crate) fn body_estimator(&self, low: f64, high: f64) -> Result<BodyEstimator> {
        BodyEstimator::new(low, high, self.bins())?
            .smoothing(self.smoothing())
            .pseudo_count(self.pseudo_count())
    }
}

/// A fitted spliced binned-Pareto distribution with both tails' fits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SbpFit {
    /// The fitted distribution.
    pub dist: SplicedBinnedPareto,
    /// Weighted log-likelihood of the normalised spliced density on the data.
    #[serde(with = "crate::nonfinite")]
    pub log_likelihood: f64,
    /// The lower tail's GPD fit (on the mirrored excesses `τ_l - x`).
    pub lower: GpdFit,
    /// The upper tail's GPD fit (on the excesses `x - τ_u`).
    pub upper: GpdFit,
    /// Number of points strictly below `τ_l` (with positive weight).
    pub lower_exceedances: usize,
    /// Number of points strictly above `τ_u` (with positive weight).
    pub upper_exceedances: usize,
}

/// What [`SbpFitter::fit_into`] returns: `Copy`, nothing allocated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SbpEstimate {
    /// Weighted log-likelihood of the normalised spliced density on the data.
    #[serde(with = "crate::nonfinite")]
    pub log_likelihood: f64,
    /// The lower tail's estimate.
    pub lower: GpdEstimate,
    /// The upper tail's estimate.
    pub upper: GpdEstimate,
}

/// A reusable spliced binned-Pareto fitter: keeps its scratch buffers, so repeated
/// fits of windows of the same size allocate nothing, and can write into an existing
/// [`SplicedBinnedPareto`] through [`SplicedBinnedPareto::update`].
///
/// The fit, for data `x` with optional frequency weights:
///
/// 1. bin range from [`Bounds`]; body probabilities by [`BodyEstimator`] on all points;
/// 2. thresholds `τ_l`, `τ_u` at the body's quantiles `p_l` and `1 - p_u` (so the
///    spliced cdf is exactly `p_l` and `1 - p_u` there);
/// 3. the upper GPD on `x - τ_u` for `x > τ_u`, the lower GPD on `τ_l - x` for
///    `x < τ_l`, each by [`GpdFitter`] (warm-started from the previous fit when
///    [`warm_start`](Self::warm_start) is on);
/// 4. the log-likelihood of the normalised spliced density on all points.
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::fit::{GpdFitter, SbpConfig, SbpFitter};
///
/// let x: Vec<f64> = (0..1000).map(|i| ((i as f64 * 0.754_877_666).fract() - 0.5).powi(3) * 40.0).collect();
/// let config = SbpConfig::default().bounds(-6.0, 6.0).gpd_fitter(GpdFitter::default().global(false));
/// let mut fitter = SbpFitter::new(config)?.warm_start(true);
/// let mut dist = fitter.fit(&x, None)?.dist;
/// // Later windows: refit in place, no allocation.
/// let est = fitter.fit_into(&x[1..], None, &mut dist)?;
/// assert!(est.log_likelihood.is_finite());
/// assert!((dist.cdf(dist.lower_threshold()) - 0.05).abs() < 1e-12);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct SbpFitter {
    config: Checked<SbpConfig>,
    warm_start: bool,
    /// Warm-started fits run the configured search (`true`) or a local one.
    global_warm: bool,
    probs: Vec<f64>,
    /// Raw (weighted) bin counts of the last fit, before smoothing.
    counts: Vec<f64>,
    /// The body's bins of the last fit.
    body: Option<BodyEstimator>,
    /// The points of positive weight, for [`Bounds::Central`].
    sorted: Vec<(f64, f64)>,
    /// Exceedances and their weights (1 when unweighted) of the lower and upper tails.
    excess: [Vec<f64>; 2],
    excess_w: [Vec<f64>; 2],
    /// With [`Thresholds::Empirical`]: each tail's (bin, index, excess, weight).
    walk: [Vec<(usize, usize, f64, f64)>; 2],
    /// Each tail's warm start: its last unconstrained estimate.
    previous: Option<[Option<Start>; 2]>,
}

impl SbpFitter {
    /// A fitter for `config`, checked here unless it already is.
    ///
    /// # Errors
    ///
    /// The errors of [`SbpConfig`]'s [`check`](Check::check).
    pub fn new(config: impl IntoChecked<SbpConfig>) -> Result<Self> {
        let config = config.into_checked()?;
        let bins = config.bins();
        Ok(Self {
            config,
            warm_start: false,
            global_warm: true,
            probs: vec![0.0; bins],
            counts: vec![0.0; bins],
            body: None,
            sorted: Vec::new(),
            excess: [Vec::new(), Vec::new()],
            excess_w: [Vec::new(), Vec::new()],
            walk: [Vec::new(), Vec::new()],
            previous: None,
        })
    }

    /// Start each tail's GPD fit from the previous fit's estimate (default off). Pair
    /// it with [`GpdFitter::global(false)`](GpdFitter::global) for the fastest rolling refits.
    pub fn warm_start(mut self, on: bool) -> Self {
        self.warm_start = on;
        self
    }

    /// Warm starts as a rolling forecaster holds them (each tail's last
    /// unconstrained estimate), and whether the next fits from them run the
    /// configured search (`global`) or a local one: what reproduces a forecaster's
    /// warm-started refit.
    #[cfg(test)]
    pub(crate) fn set_warm_starts(&mut self, starts: [Option<Start>; 2], global: bool) {
        self.warm_start = true;
        self.global_warm = global;
        self.previous = Some(starts);
    }

    /// The configuration.
    pub fn config(&self) -> &Checked<SbpConfig> {
        &self.config
    }

    /// Fits and returns a new distribution with both tails' fits and standard errors.
    ///
    /// # Errors
    ///
    /// [`Error::TooFewObservations`] for empty data or fewer exceedances than
    /// configured in a tail (unless [`SbpConfig::tail_fallbacks`]),
    /// [`Error::NonFiniteValue`] for NaN or infinite data or weights,
    /// [`Error::NegativeWeight`], [`Error::LengthMismatch`], [`Error::InvalidTotal`]
    /// when all weights are zero, [`Error::ConstantData`] when all points are equal
    /// ([`Bounds::Auto`]) and the errors of the GPD fit.
    pub fn fit(&mut self, data: &[f64], weights: Option<&[f64]>) -> Result<SbpFit> {
        let ((low, high), taus) = self.prepare(data, weights)?;
        let body = Binned::equal_width(low, high, self.probs.clone())?;
        let lower = Tail::new(
            self.config.lower_tail_mass(),
            GeneralizedPareto::exponential(1.0)?,
        )?;
        let upper = Tail::new(
            self.config.upper_tail_mass(),
            GeneralizedPareto::exponential(1.0)?,
        )?;
        let mut dist = SplicedBinnedPareto::new(body, lower, upper)?;
        let (est, units) = self.tails_into(data, weights, &mut dist, taus, None)?;
        let with_se = |e: GpdEstimate, side: usize, this: &Self| -> GpdFit {
            let w = weights.map(|_| this.excess_w[side].as_slice());
            // The exceedances may be in units of `unit` (see `rescale_exceedances`).
            let unit = units[side];
            let info =
                observed_information(&this.excess[side], w, e.shape, e.scale / unit).map(|i| {
                    [
                        [i[0][0], i[0][1] / unit],
                        [i[1][0] / unit, i[1][1] / (unit * unit)],
                    ]
                });
            let (shape_se, scale_se) = match info {
                Some(i) if e.shape > -0.5 && !e.at_boundary => standard_errors(i),
                _ => (None, None),
            };
            GpdFit {
                dist: e.dist(),
                log_likelihood: e.log_likelihood,
                shape_se,
                scale_se,
                estimate: e,
            }
        };
        let lower = with_se(est.lower, LOWER, self);
        let upper = with_se(est.upper, UPPER, self);
        Ok(SbpFit {
            dist,
            log_likelihood: est.log_likelihood,
            lower,
            upper,
            lower_exceedances: est.lower.count,
            upper_exceedances: est.upper.count,
        })
    }

    /// Fits and writes the result into `target`. When `target` already has this
    /// fitter's bins and range (always the case with [`Bounds::Fixed`] after the first
    /// fit), the update is in place and allocates nothing; otherwise `target` is
    /// replaced by a new distribution.
    ///
    /// # Errors
    ///
    /// As [`fit`](Self::fit); on error `target` may hold the new body with its old
    /// tails.
    pub fn fit_into(
        &mut self,
        data: &[f64],
        weights: Option<&[f64]>,
        target: &mut SplicedBinnedPareto,
    ) -> Result<SbpEstimate> {
        let previous = [*target.lower_tail().gpd(), *target.upper_tail().gpd()];
        let ((low, high), taus) = self.prepare(data, weights)?;
        let lower = Tail::new(self.config.lower_tail_mass(), previous[LOWER])?;
        let upper = Tail::new(self.config.upper_tail_mass(), previous[UPPER])?;
        let body = target.body();
        if body.bins() == self.config.bins() && body.support() == (low, high) {
            target.update(&self.probs, lower, upper)?;
        } else {
            let body = Binned::equal_width(low, high, self.probs.clone())?;
            *target = SplicedBinnedPareto::new(body, lower, upper)?;
        }
        self.tails_into(data, weights, target, taus, Some(previous))
            .map(|(est, _)| est)
    }

    /// Validates the data, sets the bin range and fills `self.probs`; returns the
    /// range and, for [`Thresholds::Empirical`], the thresholds.
    #[allow(clippy::type_complexity)]
    fn prepare(
        &mut self,
        data: &[f64],
        weights: Option<&[f64]>,
    ) -> Result<((f64, f64), Option<(f64, f64)>)> {
        if data.is_empty() {
            return Err(Error::TooFewObservations {
                what: "spliced binned-Pareto fit",
                needed: 1,
                got: 0,
            });
        }
        let (low, high) = match self.config.bounds() {
            Bounds::Fixed { low, high } => (low, high),
            Bounds::Central { margin } => {
                all_finite("data", data)?;
                self.sorted.clear();
                match weights {
                    None => self.sorted.extend(data.iter().map(|&x| (x, 1.0))),
                    Some(w) => {
                        if w.len() != data.len() {
                            return Err(Error::LengthMismatch {
                                name: "weights",
                                expected: data.len(),
                                got: w.len(),
                            });
                        }
                        for (i, (&x, &w)) in data.iter().zip(w).enumerate() {
                            if check_weight(w, i)? > 0.0 {
                                self.sorted.push((x, w));
                            }
                        }
                    }
                }
                if self.sorted.is_empty() {
                    return Err(Error::InvalidTotal {
                        name: "weights",
                        sum: 0.0,
                    });
                }
                let masses = (self.config.lower_tail_mass(), self.config.upper_tail_mass());
                central_grid(&mut self.sorted, masses, margin)
            }
            Bounds::Auto { margin } => {
                let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
                // `x · 0` is NaN exactly for a NaN or infinite `x`.
                let mut poison = 0.0;
                match weights {
                    None => {
                        for &x in data {
                            poison += x * 0.0;
                            lo = if x < lo { x } else { lo };
                            hi = if x > hi { x } else { hi };
                        }
                    }
                    Some(w) => {
                        for (i, &x) in data.iter().enumerate() {
                            poison += x * 0.0;
                            if w.get(i).is_some_and(|&w| w > 0.0) {
                                lo = if x < lo { x } else { lo };
                                hi = if x > hi { x } else { hi };
                            }
                        }
                    }
                }
                if poison.is_nan() {
                    // The sum is NaN exactly when some value is not finite; name the first.
                    all_finite("data", data)?;
                }
                if !(lo <= hi) {
                    // No point has positive weight (lengths are checked below).
                    let sum = weights.map_or(0.0, |w| w.iter().sum());
                    if weights.is_some_and(|w| w.len() != data.len()) {
                        return Err(Error::LengthMismatch {
                            name: "weights",
                            expected: data.len(),
                            got: weights.map_or(0, <[f64]>::len),
                        });
                    }
                    return Err(Error::InvalidTotal {
                        name: "weights",
                        sum,
                    });
                }
                if lo == hi {
                    return Err(Error::ConstantData {
                        what: "spliced binned-Pareto fit",
                        value: lo,
                    });
                }
                let pad = margin * (hi - lo);
                (lo - pad, hi + pad)
            }
        };
        let body = BodyEstimator::new(low, high, self.config.bins())?
            .smoothing(self.config.smoothing())
            .pseudo_count(self.config.pseudo_count())?;
        body.counts(data, weights, &mut self.counts)?;
        self.body = Some(body);
        let taus = match self.config.thresholds() {
            Thresholds::BodyQuantiles => {
                self.probs.copy_from_slice(&self.counts);
                body.finish(&mut self.probs)?;
                None
            }
            Thresholds::Empirical => {
                let masses = (self.config.lower_tail_mass(), self.config.upper_tail_mass());
                let taus = empirical_body(&body, &self.counts, masses, &mut self.probs);
                Some(taus.ok_or(Error::InvalidTotal {
                    name: "weights",
                    sum: self.counts.iter().sum(),
                })?)
            }
        };
        Ok(((low, high), taus))
    }

    /// Fills `self.excess` and `self.excess_w` with both tails' exceedances beyond
    /// `(tl, tu)` of positive weight in one pass, and returns `Σ w ln f_body` over
    /// them (the body density of the bin each falls in, as counted in `self.counts`),
    /// which the body's log-likelihood subtracts from its per-bin total.
    fn collect_excess(
        &mut self,
        data: &[f64],
        weights: Option<&[f64]>,
        (tl, tu): (f64, f64),
        ln_density: impl Fn(usize) -> f64,
    ) -> f64 {
        for side in [LOWER, UPPER] {
            self.excess[side].clear();
            self.excess_w[side].clear();
            self.walk[side].clear();
        }
        let walk_order = self.config.thresholds() == Thresholds::Empirical;
        let body = self
            .body
            .unwrap_or_else(|| unreachable!("prepare ran first"));
        let guard = body.guard();
        let mut excess_ll = 0.0;
        for (i, &x) in data.iter().enumerate() {
            let (side, e) = if x < tl {
                (LOWER, tl - x)
            } else if x > tu {
                (UPPER, x - tu)
            } else {
                continue;
            };
            let w = weights.map_or(1.0, |w| w[i]);
            if w > 0.0 {
                let bin = body.bin_of(x, &guard);
                if walk_order {
                    self.walk[side].push((bin, i, e, w));
                } else {
                    self.excess[side].push(e);
                    self.excess_w[side].push(w);
                }
                excess_ll += w * ln_density(bin);
            }
        }
        if walk_order {
            // Bin by bin from the outside in, in the data's order within a bin: the
            // order a forecaster's window walks its tails in, so that the fit sums
            // in the same order (and gives the same bits).
            for side in [LOWER, UPPER] {
                let walk = &mut self.walk[side];
                if side == LOWER {
                    walk.sort_unstable_by_key(|p| (p.0, p.1));
                } else {
                    walk.sort_unstable_by_key(|p| (std::cmp::Reverse(p.0), p.1));
                }
                self.excess[side].extend(walk.iter().map(|p| p.2));
                self.excess_w[side].extend(walk.iter().map(|p| p.3));
            }
        }
        excess_ll
    }

    /// Fits both tails beyond `taus` (default: `dist`'s thresholds) by the
    /// configuration's tail policy, writes them into `dist` and computes the
    /// log-likelihood; also returns each tail's fitting unit.
    fn tails_into(
        &mut self,
        data: &[f64],
        weights: Option<&[f64]>,
        dist: &mut SplicedBinnedPareto,
        taus: Option<(f64, f64)>,
        previous: Option<[GeneralizedPareto; 2]>,
    ) -> Result<(SbpEstimate, [f64; 2])> {
        let taus = taus.unwrap_or((dist.lower_threshold(), dist.upper_threshold()));
        // The body's log-density per bin (its midpoint lies strictly inside it).
        let ln_density = |k: usize| {
            let e = dist.body().edges();
            dist.body().ln_pdf(0.5 * (e[k] + e[k + 1]))
        };
        let excess_ll = self.collect_excess(data, weights, taus, ln_density);
        let config = self.config;
        let needed = config.exceedances_needed();
        if !config.tail_fallbacks() {
            for (side, what) in [(LOWER, "lower tail fit"), (UPPER, "upper tail fit")] {
                if self.excess[side].len() < needed {
                    return Err(Error::TooFewObservations {
                        what,
                        needed,
                        got: self.excess[side].len(),
                    });
                }
            }
        }
        let bin_width = {
            let (low, high) = dist.body().support();
            (high - low) / config.bins() as f64
        };
        let starts = self.previous.filter(|_| self.warm_start);
        let mut fits = [None, None];
        for (side, slot) in fits.iter_mut().enumerate() {
            let what = if side == LOWER {
                "lower tail fit"
            } else {
                "upper tail fit"
            };
            let outcome = config.fit_tail(
                what,
                &mut self.excess[side],
                &self.excess_w[side],
                weights.is_some(),
                starts.and_then(|s| s[side]),
                self.global_warm,
                previous.map(|p| p[side]),
                bin_width,
            )?;
            *slot = Some(outcome);
        }
        let [Some(lo), Some(up)] = fits else {
            unreachable!("both tails are fitted above")
        };
        let lower = Tail::new(config.lower_tail_mass(), lo.gpd)?;
        let upper = Tail::new(config.upper_tail_mass(), up.gpd)?;
        dist.update(&self.probs, lower, upper)?;
        self.previous = Some([lo.start, up.start]);
        // A fallback tail with nothing to fit contributes nothing.
        let estimate = |o: &TailOutcome| {
            o.estimate.unwrap_or(GpdEstimate {
                shape: o.gpd.shape(),
                scale: o.gpd.scale(),
                log_likelihood: 0.0,
                iterations: 0,
                at_boundary: false,
                count: 0,
                total_weight: 0.0,
            })
        };
        let (lo_est, up_est) = (estimate(&lo), estimate(&up));
        // Tail points contribute ln p + ln g(excess), already summed by the GPD fits.
        // Body points contribute the log-density of their bin: all points' per-bin
        // totals minus the exceedances' share (the bins are the ones counted, when
        // the body has exactly the estimator's edges; else point by point).
        let body = self
            .body
            .unwrap_or_else(|| unreachable!("prepare ran first"));
        let body_ll = if body.same_edges(dist.body().edges()) {
            let total: f64 = self
                .counts
                .iter()
                .enumerate()
                .filter(|&(_, &c)| c > 0.0)
                .map(|(k, &c)| {
                    let e = dist.body().edges();
                    c * dist.body().ln_pdf(0.5 * (e[k] + e[k + 1]))
                })
                .sum();
            total - excess_ll
        } else {
            let (tl, tu) = taus;
            let mut body_ll = 0.0;
            for (i, &x) in data.iter().enumerate() {
                if x >= tl && x <= tu {
                    let w = weights.map_or(1.0, |w| w[i]);
                    if w > 0.0 {
                        body_ll += w * dist.body().ln_pdf(x);
                    }
                }
            }
            body_ll
        };
        let log_likelihood = body_ll
            + lo_est.log_likelihood
            + lo_est.total_weight * config.lower_tail_mass().ln()
            + up_est.log_likelihood
            + up_est.total_weight * config.upper_tail_mass().ln();
        Ok((
            SbpEstimate {
                log_likelihood,
                lower: lo_est,
                upper: up_est,
            },
            [lo.unit, up.unit],
        ))
    }
}

/// Index of the lower tail in the fitter's per-tail buffers.
const LOWER: usize = 0;
/// Index of the upper tail.
const UPPER: usize = 1;

impl SplicedBinnedPareto {
    /// Fits a spliced binned-Pareto distribution by maximum likelihood: the body's
    /// (smoothed) bin shares on all points, thresholds at the tail masses' quantiles
    /// of the body, and a GPD on each tail's exceedances (the lower tail mirrored).
    ///
    /// # Errors
    ///
    /// The errors of [`SbpConfig`]'s [`check`](Check::check) (unless `config` is
    /// already checked: pass a `&SbpConfig` or a `&Checked<SbpConfig>`) and those of
    /// [`SbpFitter::fit`].
    pub fn fit(data: &[f64], config: &(impl IntoChecked<SbpConfig> + Clone)) -> Result<SbpFit> {
        SbpFitter::new(config.clone())?.fit(data, None)
    }

    /// Weighted fit (non-negative frequency weights, e.g. decayed by age).
    ///
    /// # Errors
    ///
    /// As [`SplicedBinnedPareto::fit`].
    pub fn fit_weighted(
        data: &[f64],
        weights: &[f64],
        config: &(impl IntoChecked<SbpConfig> + Clone),
    ) -> Result<SbpFit> {
        for (i, &w) in weights.iter().enumerate() {
            check_weight(w, i)?;
        }
        SbpFitter::new(config.clone())?.fit(data, Some(weights))
    }
}
