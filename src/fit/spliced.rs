//! Fitting the spliced binned-Pareto distribution: body shares, thresholds at the
//! tail masses' quantiles, and a GPD on each tail's exceedances.

use serde::{Deserialize, Serialize};

use super::binned::{BodyEstimator, Smoothing};
use super::gpd::{GpdEstimate, GpdFit, GpdFitter, observed_information, standard_errors};
use super::sample::check_weight;
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
}

/// Configuration of the spliced binned-Pareto fit; validated when a fit starts.
///
/// Defaults: 100 bins, automatic bounds with a 1 % margin, tail masses 0.05, no
/// smoothing, pseudo-count 0.5 per bin (see [`BodyEstimator`]), at least 10
/// exceedances per tail, and the default (global) [`GpdFitter`].
///
/// The thresholds are the *body's* quantiles, so the spliced cdf is exactly `p_l` and
/// `1 - p_u` there. Smoothing and pseudo-counts spread body mass outwards, which moves
/// those quantiles slightly inside the empirical ones: a tail then holds a little
/// more than `p · n` exceedances.
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

    /// Checks every setting.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCount`] for zero bins, [`Error::TailMassOutOfRange`],
    /// [`Error::NonFiniteParameter`] / [`Error::ParameterOutOfRange`] for bad bounds,
    /// margin or pseudo-count.
    pub fn check(&self) -> Result<()> {
        if self.bins == 0 {
            return Err(Error::InvalidCount {
                name: "bins",
                value: 0,
                expected: ">= 1",
            });
        }
        for (name, m) in [
            ("lower_tail_mass", self.lower_tail_mass),
            ("upper_tail_mass", self.upper_tail_mass),
        ] {
            if !(m > 0.0 && m < 0.5) {
                return Err(Error::TailMassOutOfRange { name, value: m });
            }
        }
        match self.bounds {
            Bounds::Auto { margin } => {
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
        Ok(())
    }

    /// Fits a spliced binned-Pareto distribution (see [`SbpFitter`]).
    ///
    /// # Errors
    ///
    /// As [`SbpFitter::fit`].
    pub fn fit(&self, data: &[f64]) -> Result<SbpFit> {
        SbpFitter::new(*self)?.fit(data, None)
    }
}

/// Read access for the rolling forecaster, which applies the same settings to its
/// incrementally maintained window instead of calling [`SbpFitter`].
impl SbpConfig {
    pub(crate) fn bin_count(&self) -> usize {
        self.bins
    }
    pub(crate) fn bounds_setting(&self) -> Bounds {
        self.bounds
    }
    pub(crate) fn tail_masses(&self) -> (f64, f64) {
        (self.lower_tail_mass, self.upper_tail_mass)
    }
    pub(crate) fn body_estimator(&self, low: f64, high: f64) -> Result<BodyEstimator> {
        BodyEstimator::new(low, high, self.bins)?
            .smoothing(self.smoothing)
            .pseudo_count(self.pseudo_count)
    }
    pub(crate) fn min_exceedance_count(&self) -> usize {
        self.min_exceedances
    }
    pub(crate) fn gpd_setting(&self) -> GpdFitter {
        self.gpd
    }
}

/// A fitted spliced binned-Pareto distribution with both tails' fits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SbpFit {
    /// The fitted distribution.
    pub dist: SplicedBinnedPareto,
    /// Weighted log-likelihood of the normalised spliced density on the data.
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
    config: SbpConfig,
    warm_start: bool,
    probs: Vec<f64>,
    /// Raw (weighted) bin counts of the last fit, before smoothing.
    counts: Vec<f64>,
    /// The body's bins of the last fit.
    body: Option<BodyEstimator>,
    /// Exceedances (and weights, when weighted) of the lower and upper tails.
    excess: [Vec<f64>; 2],
    excess_w: [Vec<f64>; 2],
    previous: Option<(GpdEstimate, GpdEstimate)>,
}

impl SbpFitter {
    /// A fitter for `config`.
    ///
    /// # Errors
    ///
    /// As [`SbpConfig::check`].
    pub fn new(config: SbpConfig) -> Result<Self> {
        config.check()?;
        Ok(Self {
            config,
            warm_start: false,
            probs: vec![0.0; config.bins],
            counts: vec![0.0; config.bins],
            body: None,
            excess: [Vec::new(), Vec::new()],
            excess_w: [Vec::new(), Vec::new()],
            previous: None,
        })
    }

    /// Start each tail's GPD fit from the previous fit's estimate (default off). Pair
    /// it with `GpdFitter::global(false)` for the fastest rolling refits.
    pub fn warm_start(mut self, on: bool) -> Self {
        self.warm_start = on;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &SbpConfig {
        &self.config
    }

    /// Fits and returns a new distribution with both tails' fits and standard errors.
    ///
    /// # Errors
    ///
    /// [`Error::TooFewObservations`] for empty data or fewer exceedances than
    /// configured in a tail, [`Error::NonFiniteValue`] for NaN or infinite data or
    /// weights, [`Error::NegativeWeight`], [`Error::LengthMismatch`],
    /// [`Error::InvalidTotal`] when all weights are zero, [`Error::ConstantData`] when
    /// all points are equal (automatic bounds) and the errors of the GPD fit.
    pub fn fit(&mut self, data: &[f64], weights: Option<&[f64]>) -> Result<SbpFit> {
        let (low, high) = self.prepare(data, weights)?;
        let body = Binned::equal_width(low, high, self.probs.clone())?;
        let lower = Tail::new(
            self.config.lower_tail_mass,
            GeneralizedPareto::exponential(1.0)?,
        )?;
        let upper = Tail::new(
            self.config.upper_tail_mass,
            GeneralizedPareto::exponential(1.0)?,
        )?;
        let mut dist = SplicedBinnedPareto::new(body, lower, upper)?;
        let est = self.tails_into(data, weights, &mut dist)?;
        let with_se = |e: GpdEstimate, side: usize, this: &Self| -> GpdFit {
            let w = weights.map(|_| this.excess_w[side].as_slice());
            let info = observed_information(&this.excess[side], w, e.shape, e.scale);
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
        let (low, high) = self.prepare(data, weights)?;
        let lower = Tail::new(self.config.lower_tail_mass, *target.lower_tail().gpd())?;
        let upper = Tail::new(self.config.upper_tail_mass, *target.upper_tail().gpd())?;
        let body = target.body();
        if body.bins() == self.config.bins && body.support() == (low, high) {
            target.update(&self.probs, lower, upper)?;
        } else {
            let body = Binned::equal_width(low, high, self.probs.clone())?;
            *target = SplicedBinnedPareto::new(body, lower, upper)?;
        }
        self.tails_into(data, weights, target)
    }

    /// Validates the data, sets the bin range and fills `self.probs`.
    fn prepare(&mut self, data: &[f64], weights: Option<&[f64]>) -> Result<(f64, f64)> {
        if data.is_empty() {
            return Err(Error::TooFewObservations {
                what: "spliced binned-Pareto fit",
                needed: 1,
                got: 0,
            });
        }
        let (low, high) = match self.config.bounds {
            Bounds::Fixed { low, high } => (low, high),
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
        let body = BodyEstimator::new(low, high, self.config.bins)?
            .smoothing(self.config.smoothing)
            .pseudo_count(self.config.pseudo_count)?;
        body.counts(data, weights, &mut self.counts)?;
        self.probs.copy_from_slice(&self.counts);
        body.finish(&mut self.probs)?;
        self.body = Some(body);
        Ok((low, high))
    }

    /// Fills `self.excess` (and `self.excess_w`) with both tails' exceedances of
    /// positive weight in one pass, and returns `Σ w ln f_body` over them (the body
    /// density of the bin each falls in, as counted in `self.counts`), which the
    /// body's log-likelihood subtracts from its per-bin total.
    fn collect_excess(
        &mut self,
        data: &[f64],
        weights: Option<&[f64]>,
        dist: &SplicedBinnedPareto,
        ln_density: impl Fn(usize) -> f64,
    ) -> f64 {
        for side in [LOWER, UPPER] {
            self.excess[side].clear();
            self.excess_w[side].clear();
        }
        let (tl, tu) = (dist.lower_threshold(), dist.upper_threshold());
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
                self.excess[side].push(e);
                if weights.is_some() {
                    self.excess_w[side].push(w);
                }
                excess_ll += w * ln_density(body.bin_of(x, &guard));
            }
        }
        excess_ll
    }

    /// Fits both tails against `dist`'s thresholds, writes them into `dist` and
    /// computes the log-likelihood.
    fn tails_into(
        &mut self,
        data: &[f64],
        weights: Option<&[f64]>,
        dist: &mut SplicedBinnedPareto,
    ) -> Result<SbpEstimate> {
        // The body's log-density per bin (its midpoint lies strictly inside it).
        let ln_density = |k: usize| {
            let e = dist.body().edges();
            dist.body().ln_pdf(0.5 * (e[k] + e[k + 1]))
        };
        let excess_ll = self.collect_excess(data, weights, dist, ln_density);
        let needed = self.config.min_exceedances.max(2);
        for (side, what) in [(LOWER, "lower tail fit"), (UPPER, "upper tail fit")] {
            if self.excess[side].len() < needed {
                return Err(Error::TooFewObservations {
                    what,
                    needed,
                    got: self.excess[side].len(),
                });
            }
        }
        let mut fits = [None, None];
        for (side, slot) in fits.iter_mut().enumerate() {
            let w = weights.map(|_| self.excess_w[side].as_slice());
            let previous = self
                .previous
                .filter(|_| self.warm_start)
                .map(|(l, u)| if side == LOWER { l } else { u });
            let est = match previous {
                Some(p) => {
                    self.config
                        .gpd
                        .fit_with_start(&self.excess[side], w, p.shape, p.scale)?
                }
                None => self.config.gpd.fit(&self.excess[side], w)?,
            };
            *slot = Some(est);
        }
        let [Some(lo), Some(up)] = fits else {
            unreachable!("both tails are fitted above")
        };
        let lower = Tail::new(self.config.lower_tail_mass, lo.dist())?;
        let upper = Tail::new(self.config.upper_tail_mass, up.dist())?;
        dist.update(&self.probs, lower, upper)?;
        self.previous = Some((lo, up));
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
            let (tl, tu) = (dist.lower_threshold(), dist.upper_threshold());
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
            + lo.log_likelihood
            + lo.total_weight * self.config.lower_tail_mass.ln()
            + up.log_likelihood
            + up.total_weight * self.config.upper_tail_mass.ln();
        Ok(SbpEstimate {
            log_likelihood,
            lower: lo,
            upper: up,
        })
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
    /// [`SbpConfig::check`]'s errors and those of [`SbpFitter::fit`].
    pub fn fit(data: &[f64], config: &SbpConfig) -> Result<SbpFit> {
        SbpFitter::new(*config)?.fit(data, None)
    }

    /// Weighted fit (non-negative frequency weights, e.g. decayed by age).
    ///
    /// # Errors
    ///
    /// As [`SplicedBinnedPareto::fit`].
    pub fn fit_weighted(data: &[f64], weights: &[f64], config: &SbpConfig) -> Result<SbpFit> {
        for (i, &w) in weights.iter().enumerate() {
            check_weight(w, i)?;
        }
        SbpFitter::new(*config)?.fit(data, Some(weights))
    }
}
