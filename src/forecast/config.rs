//! The rolling forecaster's configuration.

use serde::{Deserialize, Serialize};

use super::location::{LocationModel, Tuning};
use super::residual::{ResidualSpec, check_residual_sbp, check_window_settings};
use super::window::MAX_WINDOW;
use crate::checked::{Check, Checked};
use crate::error::{Error, Result};
use crate::fit::SbpConfig;
use crate::fit::spliced::check_max_tail_shape;

/// The most bins a forecaster's residual SBP may have.
pub(crate) const MAX_BINS: usize = 1 << 20;

/// The longest history [`LocationModel::Auto`] keeps for its later choices (values,
/// 128 KiB): re-selections that would need more are not made.
pub const MAX_RESELECTION_HISTORY: usize = 1 << 14;

/// Configuration of a [`RollingForecaster`](crate::RollingForecaster): the window, its
/// weighting, the refit schedule, the residual SBP and the location model.
///
/// Setters are infallible builders that store what they are given;
/// [`check`](Check::check) (run by [`RollingForecaster::new`](crate::RollingForecaster::new)
/// unless the configuration is already checked) applies every rule once, names the
/// first bad setting, and gives the [`Checked<ForecasterConfig>`](Checked) whose
/// getters read each setting back by its name (defaults resolved).
///
/// | setter | default | meaning |
/// |---|---|---|
/// | [`window`](Self::window) | 1000 | residuals the SBP is fitted on |
/// | [`half_life`](Self::half_life) | none | exponential decay of the weights inside the window |
/// | [`refit_every`](Self::refit_every) | `max(1, window / 10)` | observations between refits of the SBP |
/// | [`warmup`](Self::warmup) | `clamp(window, 20, 1000)` | observations before the first forecast |
/// | [`sbp`](Self::sbp) | [`SbpConfig::default`] with pseudo-count 0.1 | bins, tail masses, bounds of the residual SBP |
/// | [`location`](Self::location) | [`LocationModel::Auto`] | the robust location model |
/// | [`level_smoothing`](Self::level_smoothing) | 0.1 | `α` of the level |
/// | [`adaptive_level`](Self::adaptive_level) | `true` | levels at `α/3, α, 3α`, the best recent one forecasts |
/// | [`seasonal_smoothing`](Self::seasonal_smoothing) | 0.1 | `γ` of the seasonal profile |
/// | [`robust_clip`](Self::robust_clip) | 2.5 | clip `k` of the robust update, in running scales |
/// | [`allow_bounded_tails`](Self::allow_bounded_tails) | `false` | tail shapes `ξ < 0` allowed |
/// | [`max_tail_shape`](Self::max_tail_shape) | 1 | tail shapes `ξ` at most this |
///
/// The pseudo-count is lowered from the SBP fit's default 1/2 because every
/// pseudo-count puts a uniform layer of mass over the body: on a 1,000-point window
/// with 50 bins between the thresholds, 1/2 per bin is 2.7 % of the body, enough to
/// move the predictive cdf of a skewed body by about one percentage point (a
/// Kolmogorov–Smirnov test of the PIT values of 28,000 forecasts then rejects), while
/// 0.1 keeps every bin's density positive at a fifth of that cost.
///
/// The warm-up is raised to what the location model needs (three periods for a
/// seasonal model, `10 (lags + 1)` for an autoregression, 40 for `Auto`).
///
/// The location model defaults to [`LocationModel::Auto`], chosen on the warm-up: on
/// series without a season it resolves to the level (a more complex model must
/// forecast the warm-up's second part 10 % better), and on seasonal ones it finds the
/// season, e.g. the week of hourly data with a weekly rhythm, where the level alone
/// has 7 times the oracle's CRPS (`cargo run --release --example real_world`).
///
/// With `Auto` the choice is made again on the history when it is 4 and 16 times
/// the warm-up long (at most [`MAX_RESELECTION_HISTORY`] values), so that a season
/// too long for the warm-up (a day of 5-minute values needs three days) is found
/// once enough of it has been seen. A re-selection that picks another model restarts
/// the location model and the residual window on the history (see
/// [`RollingForecaster`](crate::RollingForecaster)'s *Re-selection*).
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::{Check, ForecasterConfig, LocationModel};
/// let config = ForecasterConfig::default()
///     .window(2000)
///     .half_life(500.0)
///     .location(LocationModel::Seasonal { period: 100 })
///     .check()?;
/// assert_eq!(config.refit_every(), 200);
/// assert_eq!(config.warmup(), 1000);
/// assert!(ForecasterConfig::default().window(0).check().is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecasterConfig {
    window: usize,
    half_life: Option<f64>,
    refit_every: Option<usize>,
    warmup: Option<usize>,
    sbp: SbpConfig,
    location: LocationModel,
    level_smoothing: f64,
    /// Configurations saved before the option existed had a fixed level: off.
    #[serde(default)]
    adaptive_level: bool,
    seasonal_smoothing: f64,
    robust_clip: f64,
    bounded_tails: bool,
    /// `+∞`: no bound (written as `null`). Configurations saved before the field
    /// existed get the default.
    #[serde(default = "default_max_tail_shape", with = "crate::nonfinite::bound")]
    max_tail_shape: f64,
}

/// The shortest half-life: one observation. A shorter one gives all the weight to
/// the newest residual (and a subnormal one an infinite decay rate, which no saved
/// state can hold).
pub(crate) const MIN_HALF_LIFE: f64 = 1.0;

/// Checks a half-life: finite and at least [`MIN_HALF_LIFE`].
pub(crate) fn check_half_life(h: f64) -> Result<f64> {
    crate::error::positive("half_life", h)?;
    if h < MIN_HALF_LIFE {
        return Err(Error::ParameterOutOfRange {
            name: "half_life",
            value: h,
            expected: ">= 1 (observation)",
        });
    }
    Ok(h)
}

/// The default bound on the residual tails' shape (see
/// [`ForecasterConfig::max_tail_shape`]).
pub const DEFAULT_MAX_TAIL_SHAPE: f64 = 1.0;

fn default_max_tail_shape() -> f64 {
    DEFAULT_MAX_TAIL_SHAPE
}

impl Default for ForecasterConfig {
    fn default() -> Self {
        Self {
            window: 1000,
            half_life: None,
            refit_every: None,
            warmup: None,
            sbp: SbpConfig::default().pseudo_count(0.1),
            location: LocationModel::Auto,
            level_smoothing: 0.1,
            adaptive_level: true,
            seasonal_smoothing: 0.1,
            robust_clip: 2.5,
            bounded_tails: false,
            max_tail_shape: default_max_tail_shape(),
        }
    }
}

impl ForecasterConfig {
    /// The number of residuals the SBP is fitted on (a hard window; with a
    /// [`half_life`](Self::half_life) also the truncation of the decaying weights).
    pub fn window(mut self, n: usize) -> Self {
        self.window = n;
        self
    }

    /// Weights the window's residuals by `2^(-age / half_life)` (age in observations)
    /// instead of equally. Points older than the window are still dropped, so set the
    /// window to several half-lives. At least 1 (observation).
    pub fn half_life(mut self, half_life: f64) -> Self {
        self.half_life = Some(half_life);
        self
    }

    /// Equal weights in the window (the default).
    pub fn no_decay(mut self) -> Self {
        self.half_life = None;
        self
    }

    /// Refits the residual SBP (body, thresholds and both tails) every `n`
    /// observations; `1` refits at every step. The location model is updated at every
    /// step regardless.
    pub fn refit_every(mut self, n: usize) -> Self {
        self.refit_every = Some(n);
        self
    }

    /// The number of observations (NaN not counted) collected before the location
    /// model is initialised and the first forecast is made.
    pub fn warmup(mut self, n: usize) -> Self {
        self.warmup = Some(n);
        self
    }

    /// The residual SBP's configuration: bins, tail masses, bounds (fixed bounds are
    /// in residual units and are never moved), minimum exceedances.
    pub fn sbp(mut self, sbp: SbpConfig) -> Self {
        self.sbp = sbp;
        self
    }

    /// The location model.
    pub fn location(mut self, model: LocationModel) -> Self {
        self.location = model;
        self
    }

    /// The level smoothing weight `α` in (0, 1].
    pub fn level_smoothing(mut self, alpha: f64) -> Self {
        self.level_smoothing = alpha;
        self
    }

    /// Whether a level model adapts its smoothing (default `true`): three robust
    /// levels run at `α/3, α, 3α` (each at most 1) and the one whose recent
    /// one-step errors are smallest forecasts, a slow one on noise around a steady
    /// level, a fast one on a wandering level. Off, the level is smoothed at `α`
    /// only. It applies to [`LocationModel::Level`] and to [`LocationModel::Auto`]
    /// when that resolves to the level; seasonal and autoregressive models are
    /// unchanged.
    ///
    /// Measured with `cargo run --release --example real_world` (one-step CRPS
    /// against the oracle's, fixed → adaptive): counts with zeros 1.07 → 1.06, two
    /// regimes 1.10 → 1.09, level shifts 1.08 → 1.07, normal bursts and drifting
    /// scale 1.02 → 1.01, and the hourly daily/weekly series with the level alone
    /// 7.41 → 5.38.
    ///
    /// ```
    /// # fn main() -> Result<(), tailcast::Error> {
    /// use tailcast::{ForecasterConfig, LocationModel, RollingForecaster};
    /// // A random walk: the adaptive level follows it closely.
    /// let walk: Vec<f64> = (0..3000).map(|t| ((t * 7919 % 1009) as f64 / 1009.0 - 0.5) * 0.1)
    ///     .scan(0.0, |x, step| { *x += step + 0.05; Some(*x) })
    ///     .collect();
    /// let error = |adaptive: bool| -> Result<f64, tailcast::Error> {
    ///     let config = ForecasterConfig::default()
    ///         .location(LocationModel::Level)
    ///         .adaptive_level(adaptive);
    ///     let mut f = RollingForecaster::new(config)?;
    ///     let mut total = 0.0;
    ///     for &y in &walk {
    ///         if let Ok(forecast) = f.forecast() {
    ///             total += (y - forecast.location()).abs();
    ///         }
    ///         f.observe(y)?;
    ///     }
    ///     Ok(total)
    /// };
    /// assert!(error(true)? < error(false)?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn adaptive_level(mut self, on: bool) -> Self {
        self.adaptive_level = on;
        self
    }

    /// The seasonal smoothing weight `γ` in (0, 1].
    pub fn seasonal_smoothing(mut self, gamma: f64) -> Self {
        self.seasonal_smoothing = gamma;
        self
    }

    /// The clip `k` of the robust location update, in running scales (> 0): errors
    /// beyond `k` scales are down-weighted, beyond `2k` ignored.
    pub fn robust_clip(mut self, k: f64) -> Self {
        self.robust_clip = k;
        self
    }

    /// Whether the residual tails may have a finite end point (a fitted shape
    /// `ξ < 0`). Off by default: shapes are constrained to `ξ >= 0`, because on a short
    /// window the unconstrained fit of a light tail often ends the tail at the largest
    /// exceedance, and the next slightly larger observation would get probability 0
    /// (an infinite anomaly score). Turn it on for data known to be bounded.
    pub fn allow_bounded_tails(mut self, on: bool) -> Self {
        self.bounded_tails = on;
        self
    }

    /// An upper bound `c > 0` on the shape `ξ` of both residual tails (default 1;
    /// `f64::INFINITY`, a valid value, is no bound). Fits are the constrained maximum-likelihood
    /// estimates, the maximum of the likelihood over `ξ <= c` (with the scale refitted
    /// on the edge `ξ = c`), not the unconstrained estimate clamped.
    ///
    /// Why: on a short window a tail is fitted on a dozen exceedances, and one
    /// outlier among them can give an estimate far above the truth (on the paper's
    /// series, `ξ ≈ 0.03`, windows of 200 give `ξ >= 2` in 1 % of refits, up to
    /// `ξ = 33`). The predictive distribution then has an infinite mean (`ξ >= 1`)
    /// and an infinite CRPS (`ξ >= 2`), and its quantiles are far too wide. With
    /// `ξ <= 1` the mean always exists. The default is 1 rather than 1/2 (finite
    /// variance) because the shape estimate's standard error on 10–15 exceedances is
    /// about `(1 + ξ)/√n ≈ 0.3`: a bound of 1/2 would often bind on genuinely
    /// heavy tails (Student-t with 2–4 degrees of freedom has `ξ` = 1/2–1/4) and
    /// bias them light, while 1 is more than 2 standard errors above them, and
    /// admits every law with a mean.
    pub fn max_tail_shape(mut self, c: f64) -> Self {
        self.max_tail_shape = c;
        self
    }
}

impl Check for ForecasterConfig {
    /// # Errors
    ///
    /// [`Error::InvalidCount`] for a window or warm-up outside `[1, 2^32 - 2]` (`[2, ..]`
    /// for the warm-up), a refit interval of 0 or more than `2^20` bins (the
    /// histogram and the body are allocated up front);
    /// [`Error::NonPositiveParameter`] /
    /// [`Error::NonFiniteParameter`] for a bad half-life, clip or tail-shape bound,
    /// [`Error::ParameterOutOfRange`] for a half-life below one observation;
    /// [`Error::ProbabilityOutOfRange`] for a smoothing weight outside (0, 1]; the
    /// location model's and the SBP configuration's own errors.
    fn check(&self) -> Result<Checked<Self>> {
        check_window_settings(self.window, self.half_life, self.refit_interval())?;
        if let Some(n) = self.warmup
            && !(2..=MAX_WINDOW).contains(&n)
        {
            return Err(Error::InvalidCount {
                name: "warmup",
                value: n,
                expected: "in [2, 2^32 - 2]",
            });
        }
        self.location.check()?;
        for (name, value) in [
            ("level_smoothing", self.level_smoothing),
            ("seasonal_smoothing", self.seasonal_smoothing),
        ] {
            if !(value > 0.0 && value <= 1.0) {
                return Err(Error::ProbabilityOutOfRange {
                    name,
                    value,
                    expected: "(0, 1]",
                });
            }
        }
        crate::error::positive("robust_clip", self.robust_clip)?;
        check_max_tail_shape(self.max_tail_shape)?;
        check_residual_sbp(&self.sbp.check()?)?;
        Ok(Checked::after_check(self.clone()))
    }
}

impl ForecasterConfig {
    /// The refit interval, the default resolved.
    fn refit_interval(&self) -> usize {
        self.refit_every.unwrap_or((self.window / 10).max(1))
    }
}

/// Every setting of a checked [`ForecasterConfig`], read back by its name with the
/// defaults resolved.
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::fit::{Bounds, Thresholds};
/// use tailcast::{Check, ForecasterConfig, LocationModel};
///
/// let config = ForecasterConfig::default().window(400).check()?;
/// assert_eq!((config.window(), config.refit_every(), config.warmup()), (400, 40, 400));
/// assert_eq!(config.location(), LocationModel::Auto);
/// assert_eq!(config.max_tail_shape(), 1.0);
/// assert_eq!(config.sbp().pseudo_count(), 0.1);
/// // The SBP fit the forecaster maintains on its residuals.
/// let residual = config.residual_sbp();
/// assert_eq!(residual.thresholds(), Thresholds::Empirical);
/// assert_eq!(residual.bounds(), Bounds::Central { margin: 0.5 });
/// # Ok(())
/// # }
/// ```
impl Checked<ForecasterConfig> {
    /// The window length.
    pub fn window(&self) -> usize {
        self.config().window
    }

    /// The decay half-life, if any.
    pub fn half_life(&self) -> Option<f64> {
        self.config().half_life
    }

    /// The refit interval in observations (the default resolved).
    pub fn refit_every(&self) -> usize {
        self.config().refit_interval()
    }

    /// The warm-up length in observations (the default resolved, raised to what the
    /// location model needs).
    pub fn warmup(&self) -> usize {
        let c = self.config();
        c.warmup
            .unwrap_or(c.window.clamp(20, 1000))
            .max(c.location.min_warmup())
    }

    /// The history lengths at which [`LocationModel::Auto`] chooses again: 4 and 16
    /// times the warm-up, up to [`MAX_RESELECTION_HISTORY`]; none for a fixed model.
    pub(crate) fn reselection_lengths(&self) -> impl Iterator<Item = usize> + use<> {
        let warmup = self.warmup();
        let auto = self.location() == LocationModel::Auto;
        [4usize, 16]
            .into_iter()
            .map(move |k| warmup.saturating_mul(k))
            .filter(move |&n| auto && n <= MAX_RESELECTION_HISTORY)
    }

    /// The bound on the residual tails' shape (`f64::INFINITY` when there is none).
    pub fn max_tail_shape(&self) -> f64 {
        self.config().max_tail_shape
    }

    /// The level smoothing weight `α`.
    pub fn level_smoothing(&self) -> f64 {
        self.config().level_smoothing
    }

    /// Whether a level model adapts its smoothing.
    pub fn adaptive_level(&self) -> bool {
        self.config().adaptive_level
    }

    /// The seasonal smoothing weight `γ`.
    pub fn seasonal_smoothing(&self) -> f64 {
        self.config().seasonal_smoothing
    }

    /// The clip `k` of the robust location update, in running scales.
    pub fn robust_clip(&self) -> f64 {
        self.config().robust_clip
    }

    /// Whether the residual tails may have a finite end point.
    pub fn allow_bounded_tails(&self) -> bool {
        self.config().bounded_tails
    }

    /// The residual SBP's configuration as set by [`sbp`](ForecasterConfig::sbp)
    /// (checked with this configuration).
    pub fn sbp(&self) -> Checked<SbpConfig> {
        Checked::after_check(self.config().sbp)
    }

    /// The configuration of the SBP fit the forecaster maintains on its window:
    /// [`sbp`](Self::sbp) with empirical thresholds (the body aligned on them,
    /// [`Thresholds::Empirical`](crate::fit::Thresholds::Empirical)), the central
    /// grid for automatic bounds ([`Bounds::Central`](crate::fit::Bounds::Central)
    /// with margin 1/2), the forecaster's tail-shape floor
    /// ([`allow_bounded_tails`](ForecasterConfig::allow_bounded_tails)) and bound
    /// ([`max_tail_shape`](ForecasterConfig::max_tail_shape)), tail fallbacks and
    /// rescaled exceedances.
    ///
    /// Fitting the forecaster's [`residuals`](crate::RollingForecaster::residuals)
    /// and [`residual_weights`](crate::RollingForecaster::residual_weights) with it
    /// gives the forecaster's residual SBP, with two kinds of bookkeeping left to
    /// the forecaster: its grid moves only when the data leave it (fix the
    /// bounds to the residual body's support to compare), and its tail fits after
    /// the first are warm-started local searches (a fresh fit runs the configured
    /// search). A tail whose window holds fewer exceedances than the minimum is
    /// fitted by the forecaster to that tail's newest 64 excesses, where the fitter
    /// falls back to the exponential law.
    pub fn residual_sbp(&self) -> Checked<SbpConfig> {
        super::residual::residual_fit_config(
            self.sbp(),
            self.allow_bounded_tails(),
            self.max_tail_shape(),
        )
    }

    /// The location model.
    pub fn location(&self) -> LocationModel {
        self.config().location
    }

    pub(crate) fn tuning(&self) -> Tuning {
        Tuning {
            level: self.level_smoothing(),
            seasonal: self.seasonal_smoothing(),
            clip: self.robust_clip(),
            adaptive: self.adaptive_level(),
        }
    }

    /// What the residual model needs, checked by this configuration's check.
    pub(crate) fn residual_spec(&self) -> Checked<ResidualSpec> {
        Checked::after_check(ResidualSpec {
            sbp: self.sbp(),
            window: self.window(),
            half_life: self.half_life(),
            refit_every: self.refit_every(),
            bounded_tails: self.allow_bounded_tails(),
            max_shape: self.max_tail_shape(),
        })
    }
}
