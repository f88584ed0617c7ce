//! Fitting the spliced binned-Pareto distribution: body shares, thresholds at the
//! tail masses' quantiles, and a GPD on each tail's exceedances.

use serde::{Deserialize, Serialize};

use super::binned::{BodyEstimator, Smoothing};
use super::gpd::{GpdEstimate, GpdFit, GpdFitter, observed_information, standard_errors};
use super::sample::check_weight;
use crate::error::{Error, Result};
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
    excess: Vec<f64>,
    excess_w: Vec<f64>,
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
            excess: Vec::new(),
            excess_w: Vec::new(),
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
        let with_se = |e: GpdEstimate, lower: bool, this: &mut Self| -> GpdFit {
            this.collect_excess(data, weights, &dist, lower);
            let w = weights.map(|_| this.excess_w.as_slice());
            let info = observed_information(&this.excess, w, e.shape, e.scale);
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
        let lower = with_se(est.lower, true, self);
        let upper = with_se(est.upper, false, self);
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
                for (i, &x) in data.iter().enumerate() {
                    if !x.is_finite() {
                        return Err(Error::NonFiniteValue {
                            name: "data",
                            index: i,
                            value: x,
                        });
                    }
                    if weights.is_none_or(|w| w.get(i).is_some_and(|&w| w > 0.0)) {
                        lo = lo.min(x);
                        hi = hi.max(x);
                    }
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
        BodyEstimator::new(low, high, self.config.bins)?
            .smoothing(self.config.smoothing)
            .pseudo_count(self.config.pseudo_count)?
            .probabilities(data, weights, &mut self.probs)?;
        Ok((low, high))
    }

    /// Fills `self.excess` (and `self.excess_w`) with one tail's exceedances of
    /// positive weight.
    fn collect_excess(
        &mut self,
        data: &[f64],
        weights: Option<&[f64]>,
        dist: &SplicedBinnedPareto,
        lower: bool,
    ) {
        self.excess.clear();
        self.excess_w.clear();
        let (tl, tu) = (dist.lower_threshold(), dist.upper_threshold());
        for (i, &x) in data.iter().enumerate() {
            let w = weights.map_or(1.0, |w| w[i]);
            let e = if lower { tl - x } else { x - tu };
            if e > 0.0 && w > 0.0 {
                self.excess.push(e);
                if weights.is_some() {
                    self.excess_w.push(w);
                }
            }
        }
    }

    /// Fits both tails against `dist`'s thresholds, writes them into `dist` and
    /// computes the log-likelihood.
    fn tails_into(
        &mut self,
        data: &[f64],
        weights: Option<&[f64]>,
        dist: &mut SplicedBinnedPareto,
    ) -> Result<SbpEstimate> {
        let mut fits = [None, None];
        for (slot, lower) in fits.iter_mut().zip([true, false]) {
            self.collect_excess(data, weights, dist, lower);
            let needed = self.config.min_exceedances.max(2);
            if self.excess.len() < needed {
                return Err(Error::TooFewObservations {
                    what: if lower {
                        "lower tail fit"
                    } else {
                        "upper tail fit"
                    },
                    needed,
                    got: self.excess.len(),
                });
            }
            let w = weights.map(|_| self.excess_w.as_slice());
            let previous = self
                .previous
                .filter(|_| self.warm_start)
                .map(|(l, u)| if lower { l } else { u });
            let est = match previous {
                Some(p) => self
                    .config
                    .gpd
                    .fit_with_start(&self.excess, w, p.shape, p.scale)?,
                None => self.config.gpd.fit(&self.excess, w)?,
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
        // Tail points contribute ln p + ln g(excess), already summed by the GPD fits;
        // body points are a table look-up each.
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
