//! The rolling one-step-ahead forecaster.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, Slice};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use super::config::ForecasterConfig;
use super::location::{Location, LocationModel};
use super::residual::ResidualModel;
use super::window::Window;
use crate::SplicedBinnedPareto;
use crate::checked::{Checked, IntoChecked};
use crate::error::{Error, Result};
use crate::numeric::{saturate, type7_quantile};

/// A rolling forecaster: at every time step, a predictive distribution for the next
/// observation, `location + residual SBP`.
///
/// Each observation goes through the robust [`LocationModel`] (which predicts the next
/// location) and its residual `y - location` enters the window the residual
/// [`SplicedBinnedPareto`] is refitted on (see [`ForecasterConfig`] for the schedule).
/// The window's histogram counts and tail membership are updated incrementally, so an
/// observation costs O(1) plus the amortised refit; nothing is allocated per
/// observation.
///
/// # Missing data
///
/// A NaN observation is *missing*: time moves on (a seasonal phase advances, an
/// autoregression imputes its own prediction as the lag) but nothing is learned and
/// the window is untouched. Infinite observations are an error and leave the state
/// unchanged. During the warm-up, missing values are kept as gaps in the time axis;
/// the warm-up ends once `warmup` values have been observed within the last
/// `4 · warmup` steps, so a stream with more than three quarters of its values missing
/// never leaves it.
///
/// # Re-selection
///
/// With [`LocationModel::Auto`] the forecaster keeps the values it has seen since the
/// warm-up started (missing and excluded ones as gaps) and runs the automatic choice
/// again when they are 4 and 16 times the warm-up long (see
/// [`ForecasterConfig`]'s table; at most
/// [`MAX_RESELECTION_HISTORY`](crate::forecast::MAX_RESELECTION_HISTORY) values). If
/// it picks the model in use, nothing changes. If it picks another one, the new model
/// is started on the history, as it would have been at the end of a warm-up that
/// long, and the residual window is rebuilt from its residuals (the last `window` of
/// them): a season too long for the first choice (a day of 5-minute values needs
/// three days) replaces the level once it can be seen. Then the history is dropped.
/// [`residual_version`](Self::residual_version) changes with the restart, and the
/// choice allocates once; no other step does.
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::{ForecasterConfig, RollingForecaster};
///
/// let mut f = RollingForecaster::new(ForecasterConfig::default().window(200))?;
/// for t in 0..500 {
///     // A level of 10 with a deterministic wiggle and an occasional spike.
///     let y = 10.0 + ((t * 7919) % 101) as f64 / 100.0 + if t % 37 == 0 { 5.0 } else { 0.0 };
///     f.observe(y)?;
/// }
/// let forecast = f.forecast()?;
/// let (lo, hi) = (forecast.quantile(0.05), forecast.quantile(0.95));
/// assert!(lo > 9.5 && hi < 11.5, "{lo} {hi}");
/// assert!((forecast.cdf(forecast.quantile(0.3)) - 0.3).abs() < 1e-12);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "ForecasterRepr")]
pub struct RollingForecaster {
    config: Checked<ForecasterConfig>,
    /// Time steps seen (missing ones included).
    steps: u64,
    state: State,
}

/// The deserialised form of [`RollingForecaster`], checked before it is used (the
/// parts check themselves).
#[derive(Debug, Deserialize)]
struct ForecasterRepr {
    /// Checked as it is read.
    config: Checked<ForecasterConfig>,
    steps: u64,
    state: State,
}

impl TryFrom<ForecasterRepr> for RollingForecaster {
    type Error = Error;
    fn try_from(r: ForecasterRepr) -> Result<Self> {
        let warmup = r.config.warmup();
        match &r.state {
            State::WarmingUp(w) => {
                if w.buffer.len() > warmup.saturating_mul(4) {
                    return Err(Error::LengthMismatch {
                        name: "warm-up buffer",
                        expected: warmup.saturating_mul(4),
                        got: w.buffer.len(),
                    });
                }
                // Observations are finite, missing ones NaN: nothing else.
                if w.buffer.iter().any(|y| y.is_infinite()) {
                    return Err(Error::InvalidState {
                        reason: "the warm-up buffer holds an infinite value",
                    });
                }
                let observed = w.buffer.iter().filter(|y| y.is_finite()).count();
                if observed != w.observed || observed >= warmup {
                    return Err(Error::InvalidState {
                        reason: "the warm-up count differs from the buffer's values",
                    });
                }
            }
            State::Running(run) => {
                if let Some(history) = &run.history {
                    let longest = r.config.reselection_lengths().last().unwrap_or(0);
                    if history.len() >= longest {
                        return Err(Error::LengthMismatch {
                            name: "location history",
                            expected: longest.saturating_sub(1),
                            got: history.len(),
                        });
                    }
                    if history.iter().any(|y| y.is_infinite()) {
                        return Err(Error::InvalidState {
                            reason: "the location history holds an infinite value",
                        });
                    }
                }
                // The residual model's copy of the configuration must be the
                // configuration: every capacity and length it checks itself against
                // follows from it.
                if run.residuals.spec() != &r.config.residual_spec() {
                    return Err(Error::InvalidState {
                        reason: "the residual model's settings differ from the configuration",
                    });
                }
                run.location.check_config(
                    r.config.location(),
                    r.config.tuning(),
                    warmup.saturating_mul(4),
                    r.config.window(),
                    ar_refit_every(&r.config),
                )?;
            }
        }
        Ok(Self {
            config: r.config,
            steps: r.steps,
            state: r.state,
        })
    }
}

/// The autoregression's refit period for a configuration.
fn ar_refit_every(config: &Checked<ForecasterConfig>) -> usize {
    config.refit_every().max(config.window() / 10).max(1)
}

/// What one observation teaches the forecaster.
#[derive(Debug, Clone, Copy)]
enum Learn {
    Everything,
    Nothing,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(clippy::large_enum_variant)]
enum State {
    WarmingUp(WarmUp),
    Running(Running),
}

/// The warm-up buffer: the last `4 · warmup` time steps, NaN for missing.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct WarmUp {
    /// Oldest first (the buffer is short-lived; a `remove(0)` costs O(warmup) only
    /// when more than `3 · warmup` values are missing). Missing values are NaN,
    /// saved as `"NaN"` (the crate's convention; `null`, as older states have it,
    /// reads back as NaN).
    #[serde(with = "crate::nonfinite::vec")]
    buffer: Vec<f64>,
    observed: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Running {
    location: Location,
    residuals: ResidualModel,
    /// The time steps since the warm-up's start (NaN for missing and excluded
    /// observations) while [`LocationModel::Auto`] has a choice left to make (see
    /// *Re-selection*); `None` after the last one and for fixed models. Capacity
    /// reserved at the start: pushing never allocates.
    #[serde(default, with = "crate::nonfinite::option_vec")]
    history: Option<Vec<f64>>,
    /// Added to the residual model's version so that [`RollingForecaster::
    /// residual_version`] keeps increasing when a re-selection replaces the model.
    #[serde(default)]
    version_base: u64,
}

impl Running {
    /// Puts a new residual model in place; the version keeps changing (wrapping:
    /// it only has to differ, and a restored state may hold any base).
    fn replace_residuals(&mut self, model: ResidualModel) {
        self.version_base = self
            .version_base
            .wrapping_add(self.residuals.version())
            .wrapping_add(1);
        self.residuals = model;
    }
}

/// A one-step-ahead predictive distribution on the original scale: `location +`
/// the residual SBP. A borrowed view: making one costs nothing.
///
/// # Examples
///
/// See [`RollingForecaster`].
#[derive(Debug, Clone, Copy)]
pub struct Forecast<'a> {
    location: f64,
    residual: &'a SplicedBinnedPareto,
}

impl<'a> Forecast<'a> {
    /// A forecast centred at `location` with the given residual distribution.
    pub fn new(location: f64, residual: &'a SplicedBinnedPareto) -> Self {
        Self { location, residual }
    }

    /// The location the residual distribution is added to.
    pub fn location(&self) -> f64 {
        self.location
    }

    /// The residual distribution.
    pub fn residual(&self) -> &'a SplicedBinnedPareto {
        self.residual
    }

    #[inline]
    fn centred(&self, y: f64) -> f64 {
        // NaN passes through; an overflowing difference saturates.
        let r = y - self.location;
        if r.is_nan() { r } else { saturate(r) }
    }

    /// Cumulative distribution function at `y` (the PIT value of `y`).
    pub fn cdf(&self, y: f64) -> f64 {
        self.residual.cdf(self.centred(y))
    }

    /// Survival function `P(Y > y)`.
    pub fn sf(&self, y: f64) -> f64 {
        self.residual.sf(self.centred(y))
    }

    /// `ln cdf(y)`, accurate deep in the lower tail.
    pub fn ln_cdf(&self, y: f64) -> f64 {
        self.residual.ln_cdf(self.centred(y))
    }

    /// `ln sf(y)`, accurate deep in the upper tail.
    pub fn ln_sf(&self, y: f64) -> f64 {
        self.residual.ln_sf(self.centred(y))
    }

    /// Density at `y`.
    pub fn pdf(&self, y: f64) -> f64 {
        self.residual.pdf(self.centred(y))
    }

    /// Log-density at `y` (the log score of the observation `y`).
    pub fn ln_pdf(&self, y: f64) -> f64 {
        self.residual.ln_pdf(self.centred(y))
    }

    /// The quantile at `p`; NaN for `p` outside `[0, 1]`.
    pub fn quantile(&self, p: f64) -> f64 {
        self.location + self.residual.quantile(p)
    }

    /// The quantile at `p`.
    ///
    /// # Errors
    ///
    /// [`Error::ProbabilityOutOfRange`] for `p` outside `[0, 1]`.
    pub fn try_quantile(&self, p: f64) -> Result<f64> {
        Ok(self.location + self.residual.try_quantile(p)?)
    }

    /// Quantiles at several levels.
    ///
    /// # Errors
    ///
    /// [`Error::ProbabilityOutOfRange`] for a level outside `[0, 1]`.
    pub fn quantiles(&self, levels: &[f64]) -> Result<Vec<f64>> {
        let mut out = vec![0.0; levels.len()];
        self.quantiles_into(levels, &mut out)?;
        Ok(out)
    }

    /// Quantiles at several levels written into `out` (no allocation).
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`] if the slices differ in length,
    /// [`Error::ProbabilityOutOfRange`] for a level outside `[0, 1]`.
    pub fn quantiles_into(&self, levels: &[f64], out: &mut [f64]) -> Result<()> {
        self.residual.quantiles_into(levels, out)?;
        for q in out.iter_mut() {
            *q += self.location;
        }
        Ok(())
    }
}

impl RollingForecaster {
    /// A forecaster in its warm-up.
    ///
    /// # Errors
    ///
    /// The errors of [`ForecasterConfig`]'s [`check`](crate::Check::check), unless `config`
    /// is already checked.
    pub fn new(config: impl IntoChecked<ForecasterConfig>) -> Result<Self> {
        let config = config.into_checked()?;
        let warmup = config.warmup();
        Ok(Self {
            config,
            steps: 0,
            state: State::WarmingUp(WarmUp {
                // Grown as values arrive: a long warm-up may never be reached.
                buffer: Vec::with_capacity(warmup.saturating_mul(4).min(4096)),
                observed: 0,
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Checked<ForecasterConfig> {
        &self.config
    }

    /// Time steps seen so far, missing ones included.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Whether the warm-up is over (forecasts are available).
    pub fn is_ready(&self) -> bool {
        matches!(self.state, State::Running(_))
    }

    /// The location model in use: the configured one, or after the warm-up the one
    /// [`LocationModel::Auto`] chose.
    pub fn location_model(&self) -> LocationModel {
        match &self.state {
            State::Running(r) => r.location.model(),
            State::WarmingUp(_) => self.config.location(),
        }
    }

    /// The number of residuals in the window (0 during the warm-up).
    pub fn window_len(&self) -> usize {
        match &self.state {
            State::Running(r) => r.residuals.len(),
            State::WarmingUp(_) => 0,
        }
    }

    /// The residuals `y - location` in the window the residual SBP is fitted on,
    /// oldest first (none during the warm-up). Missing and excluded observations are
    /// not in the window. With [`residual_weights`](Self::residual_weights) they are
    /// what a refit with standard errors needs.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> Result<(), tailcast::Error> {
    /// use tailcast::{ForecasterConfig, RollingForecaster, SbpConfig, SplicedBinnedPareto};
    ///
    /// let config = ForecasterConfig::default().window(500).half_life(500.0);
    /// let mut f = RollingForecaster::new(config)?;
    /// for t in 0..800 {
    ///     // Heavy-tailed both ways: a symmetric Pareto-like transform of a uniform.
    ///     let u = ((t as f64 + 0.5) * 0.618_033_988_75).fract() - 0.5;
    ///     f.observe(u.signum() * ((1.0 - 2.0 * u.abs()).powf(-0.25) - 1.0))?;
    /// }
    /// let residuals: Vec<f64> = f.residuals().collect();
    /// let weights: Vec<f64> = f.residual_weights().collect();
    /// assert_eq!((residuals.len(), weights.len()), (500, 500));
    /// assert_eq!(weights[499], 1.0); // the newest; the oldest is 499 steps older
    /// assert!((weights[0] - (-499.0f64 / 500.0).exp2()).abs() < 1e-12);
    /// let config = SbpConfig::default().pseudo_count(0.0);
    /// let fit = SplicedBinnedPareto::fit_weighted(&residuals, &weights, &config)?;
    /// assert!(fit.upper.shape_se.is_some() && fit.upper.scale_se.is_some());
    /// # Ok(())
    /// # }
    /// ```
    pub fn residuals(&self) -> impl ExactSizeIterator<Item = f64> + '_ {
        let window = self.residual_window();
        let n = window.map_or(0, Window::len);
        (0..n).map(move |i| window.map_or(f64::NAN, |w| w.point(i).0))
    }

    /// The weights of [`residuals`](Self::residuals) in the fit, relative to the
    /// newest residual's: `2^(-age / half_life)` with a
    /// [`half_life`](ForecasterConfig::half_life), all 1 without.
    pub fn residual_weights(&self) -> impl ExactSizeIterator<Item = f64> + '_ {
        let window = self.residual_window();
        let n = window.map_or(0, Window::len);
        let newest = match window {
            Some(w) if n > 0 => w.point(n - 1).1,
            _ => 1.0,
        };
        (0..n).map(move |i| window.map_or(1.0, |w| w.point(i).1 / newest))
    }

    fn residual_window(&self) -> Option<&Window> {
        match &self.state {
            State::Running(r) => Some(r.residuals.window()),
            State::WarmingUp(_) => None,
        }
    }

    /// Takes the next observation; NaN is a missing value (see the type's docs).
    ///
    /// # Errors
    ///
    /// [`Error::InfiniteObservation`] for `±∞` (the state is unchanged).
    #[inline]
    pub fn observe(&mut self, y: f64) -> Result<()> {
        self.step(y, Learn::Everything)
    }

    /// Takes an observation that moves time but is kept out of everything that is
    /// learned (location and window), as for a missing value: what
    /// [`AnomalyDetector`](crate::AnomalyDetector) does with flagged points.
    ///
    /// # Errors
    ///
    /// [`Error::InfiniteObservation`] for `±∞`.
    pub fn observe_excluded(&mut self, y: f64) -> Result<()> {
        self.step(y, Learn::Nothing)
    }

    #[inline]
    fn step(&mut self, y: f64, learn: Learn) -> Result<()> {
        if y.is_infinite() {
            return Err(Error::InfiniteObservation { value: y });
        }
        self.steps = self.steps.saturating_add(1);
        match &mut self.state {
            State::Running(run) => {
                let learned = match learn {
                    _ if y.is_nan() => {
                        run.location.skip();
                        false
                    }
                    Learn::Everything => {
                        let r = run.location.observe(y);
                        run.residuals.push(r);
                        true
                    }
                    Learn::Nothing => {
                        run.location.skip();
                        false
                    }
                };
                if let Some(history) = &mut run.history {
                    history.push(if learned { y } else { f64::NAN });
                    let len = history.len();
                    if self.config.reselection_lengths().any(|n| n == len) {
                        self.reselect();
                    }
                }
                Ok(())
            }
            State::WarmingUp(w) => {
                let warmup = self.config.warmup();
                if w.buffer.len() == warmup.saturating_mul(4) {
                    if w.buffer[0].is_finite() {
                        w.observed -= 1;
                    }
                    w.buffer.remove(0);
                }
                let keep = !y.is_nan() && matches!(learn, Learn::Everything);
                w.buffer.push(if keep { y } else { f64::NAN });
                w.observed += usize::from(keep);
                if w.observed >= warmup {
                    self.start()?;
                }
                Ok(())
            }
        }
    }

    /// Ends the warm-up: initialises the location model on the buffer, fills the
    /// window with its residuals and fits the first SBP.
    fn start(&mut self) -> Result<()> {
        let State::WarmingUp(w) = &self.state else {
            return Ok(());
        };
        let mut residuals = Vec::with_capacity(w.buffer.len());
        let location = Location::initialise(
            // Checked with the configuration.
            Checked::after_check(self.config.location()),
            &w.buffer,
            self.config.tuning(),
            self.config.window(),
            ar_refit_every(&self.config),
            &mut residuals,
        )?;
        let residuals = ResidualModel::new(self.config.residual_spec(), &residuals)?;
        let history = self
            .config
            .reselection_lengths()
            .last()
            .filter(|&n| n > w.buffer.len())
            .map(|n| {
                let mut history = Vec::with_capacity(n);
                history.extend_from_slice(&w.buffer);
                history
            });
        self.state = State::Running(Running {
            location,
            residuals,
            history,
            version_base: 0,
        });
        Ok(())
    }

    /// [`LocationModel::Auto`] chooses again on the history (see *Re-selection*). If
    /// it picks another model, the location model and the residual window restart on
    /// the history; if that fails (it cannot on a history that started a model
    /// before), the current model stays. The history is dropped after the last
    /// choice.
    fn reselect(&mut self) {
        let State::Running(run) = &mut self.state else {
            return;
        };
        let Some(history) = &run.history else {
            return;
        };
        let mut residuals = Vec::with_capacity(history.len());
        let restarted = Location::initialise(
            LocationModel::Auto,
            history,
            self.config.tuning(),
            self.config.window(),
            ar_refit_every(&self.config),
            &mut residuals,
        )
        .ok()
        .filter(|location| location.model() != run.location.model())
        .and_then(|location| {
            ResidualModel::new(self.config.residual_spec(), &residuals)
                .ok()
                .map(|model| (location, model))
        });
        let last = self.config.reselection_lengths().last() <= Some(history.len());
        if let Some((location, model)) = restarted {
            run.location = location;
            run.replace_residuals(model);
        }
        if last {
            run.history = None;
        }
    }

    /// Re-anchors the location after a regime change: the location model's next
    /// prediction moves by `delta` (its level, or an autoregression's centre and
    /// lags), its scale and the residual window are kept. Returns whether the
    /// location moved: not during the warm-up, not for [`LocationModel::None`] and
    /// not for a non-finite `delta`.
    pub fn shift_location(&mut self, delta: f64) -> bool {
        match &mut self.state {
            State::Running(r) => r.location.shift(delta),
            State::WarmingUp(_) => false,
        }
    }

    /// Moves the seasonal profile's entry for the time step just observed by
    /// `delta`: for a slot of the season that has been persistently wrong (see
    /// [`AnomalyDetector`](crate::AnomalyDetector)'s *Lock-out*). Returns whether
    /// anything moved: only for a running [`LocationModel::Seasonal`] model (also
    /// when chosen by [`LocationModel::Auto`]) and a finite `delta`.
    pub fn shift_last_season_slot(&mut self, delta: f64) -> bool {
        match &mut self.state {
            State::Running(r) => r.location.shift_last_slot(delta),
            State::WarmingUp(_) => false,
        }
    }

    /// Declares that observations whose residual (observation minus location) is
    /// below `lower` or above `upper` are kept out of the window, as
    /// [`AnomalyDetector`](crate::AnomalyDetector) does with extreme observations
    /// (`None`: no cut on that side). The tail fits then add back, at each refit,
    /// the part of the tail beyond the cut that the current fit predicts, so that
    /// leaving the most extreme points out does not make the tails lighter (one step
    /// of the EM algorithm for truncated data per refit). Nothing happens during the
    /// warm-up.
    pub fn set_residual_truncation(&mut self, lower: Option<f64>, upper: Option<f64>) {
        if let State::Running(r) = &mut self.state {
            r.residuals.set_truncation(lower, upper);
        }
    }

    /// Rescales the noise after a regime change: every residual in the window and
    /// the residual distribution's grid are multiplied by `factor` and the residual
    /// SBP is refitted (its shape is kept, its spread follows), and so is the
    /// location model's running scale. Returns whether anything changed: not during
    /// the warm-up, not for a factor that is not positive and finite, and not if the
    /// rescaled grid would not be finite.
    pub fn rescale_residuals(&mut self, factor: f64) -> bool {
        match &mut self.state {
            State::Running(r) if factor > 0.0 && factor.is_finite() => {
                let done = r.residuals.rescale(factor);
                if done {
                    r.location.rescale(factor);
                }
                done
            }
            _ => false,
        }
    }

    /// Rebuilds the residual window from `residuals` alone (the finite ones), after
    /// a regime change whose noise the old window cannot describe even rescaled
    /// (a window of a flat stretch has no spread to scale); the location model's
    /// running scale is set to their median absolute deviation. Returns whether
    /// anything changed: not during the warm-up, not without a finite residual or
    /// with residuals of no spread.
    pub(crate) fn restart_residuals(&mut self, residuals: &[f64]) -> bool {
        let State::Running(run) = &mut self.state else {
            return false;
        };
        let finite: Vec<f64> = residuals
            .iter()
            .copied()
            .filter(|r| r.is_finite())
            .collect();
        if finite.is_empty() {
            return false;
        }
        let (_, spread) = crate::numeric::median_and_mad(&mut finite.clone());
        if !(spread > 0.0 && spread.is_finite()) {
            return false;
        }
        let Ok(model) = ResidualModel::new(self.config.residual_spec(), &finite) else {
            return false;
        };
        run.replace_residuals(model);
        run.location.set_scale(spread);
        true
    }

    /// The predictive distribution of the next observation.
    ///
    /// # Errors
    ///
    /// [`Error::NotReady`] during the warm-up.
    #[inline]
    pub fn forecast(&self) -> Result<Forecast<'_>> {
        match &self.state {
            State::Running(r) => Ok(Forecast {
                location: r.location.prediction(),
                residual: r.residuals.sbp(),
            }),
            State::WarmingUp(w) => Err(Error::NotReady {
                needed: self.config.warmup(),
                got: w.observed,
            }),
        }
    }

    /// The version of the residual SBP: it changes exactly when the SBP is refitted,
    /// so a caller can cache what it derives from [`Forecast::residual`].
    pub fn residual_version(&self) -> u64 {
        match &self.state {
            State::Running(r) => r.version_base.wrapping_add(r.residuals.version()),
            State::WarmingUp(_) => 0,
        }
    }

    /// Refits the residual SBP now, outside the schedule.
    ///
    /// # Errors
    ///
    /// [`Error::NotReady`] during the warm-up.
    pub fn refit(&mut self) -> Result<()> {
        match &mut self.state {
            State::Running(r) => {
                r.residuals.refit();
                Ok(())
            }
            State::WarmingUp(w) => Err(Error::NotReady {
                needed: self.config.warmup(),
                got: w.observed,
            }),
        }
    }

    /// Quantile paths for the next `horizon` steps: row `k` holds the quantiles of
    /// `y_{t+k+1}` at `levels`.
    ///
    /// Row 0 is exact (the one-step forecast). Later rows are **simulated**: `paths`
    /// sample paths draw each residual from the current residual SBP (held fixed over
    /// the horizon) and feed `location + residual` back through a copy of the robust
    /// location model, exactly as real observations would be; the quantiles are the
    /// empirical quantiles (type 7, linear interpolation) across paths. The simulation
    /// is seeded by `seed`, so results are reproducible.
    ///
    /// # Errors
    ///
    /// [`Error::NotReady`] during the warm-up, [`Error::InvalidCount`] for a zero
    /// horizon or fewer than 2 paths, [`Error::ProbabilityOutOfRange`] for a level
    /// outside `[0, 1]`.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> Result<(), tailcast::Error> {
    /// use tailcast::{ForecasterConfig, RollingForecaster};
    /// let mut f = RollingForecaster::new(ForecasterConfig::default().window(100))?;
    /// for t in 0..300 {
    ///     f.observe(((t * 37) % 17) as f64)?;
    /// }
    /// let paths = f.forecast_paths(5, &[0.1, 0.5, 0.9], 2000, 42)?;
    /// assert_eq!(paths.dim(), (5, 3));
    /// assert_eq!(paths[[0, 1]], f.forecast()?.quantile(0.5));
    /// assert!(paths[[4, 0]] < paths[[4, 1]] && paths[[4, 1]] < paths[[4, 2]]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn forecast_paths(
        &self,
        horizon: usize,
        levels: &[f64],
        paths: usize,
        seed: u64,
    ) -> Result<Array2<f64>> {
        if horizon == 0 {
            return Err(Error::InvalidCount {
                name: "horizon",
                value: 0,
                expected: ">= 1",
            });
        }
        if paths < 2 {
            return Err(Error::InvalidCount {
                name: "paths",
                value: paths,
                expected: ">= 2",
            });
        }
        for &p in levels {
            crate::dist::check_level(p)?;
        }
        let forecast = self.forecast()?;
        let State::Running(run) = &self.state else {
            unreachable!("forecast() succeeded")
        };
        let mut out = Array2::zeros((horizon, levels.len()));
        for (j, &p) in levels.iter().enumerate() {
            out[[0, j]] = forecast.quantile(p);
        }
        if horizon == 1 {
            return Ok(out);
        }
        let sbp = run.residuals.sbp();
        let mut rng = StdRng::seed_from_u64(seed);
        // values[k * paths + i]: step k + 1 of path i.
        let mut values = vec![0.0; (horizon - 1) * paths];
        for i in 0..paths {
            let mut loc = run.location.clone();
            // Step 0 is exact; the path still has to pass through it.
            // Draws saturate (a heavy tail can draw ±∞), as observations would.
            let mut y = saturate(loc.prediction() + sbp.sample_with(&mut rng));
            for k in 0..horizon - 1 {
                loc.observe(y);
                y = saturate(loc.prediction() + sbp.sample_with(&mut rng));
                values[k * paths + i] = y;
            }
        }
        for k in 0..horizon - 1 {
            let column = &mut values[k * paths..(k + 1) * paths];
            column.sort_unstable_by(f64::total_cmp);
            for (j, &p) in levels.iter().enumerate() {
                out[[k + 1, j]] = type7_quantile(column, p);
            }
        }
        Ok(out)
    }

    /// Runs the forecaster over `ys` (continuing from its current state): see
    /// [`Backtest`].
    ///
    /// # Errors
    ///
    /// [`Error::ProbabilityOutOfRange`] for a level outside `[0, 1]`,
    /// [`Error::InfiniteObservation`] for an infinite value in `ys` (the forecaster
    /// then holds the values before it).
    pub fn backtest(&mut self, ys: &[f64], levels: &[f64]) -> Result<Backtest> {
        for &p in levels {
            crate::dist::check_level(p)?;
        }
        let n = ys.len();
        let mut quantiles = Array2::from_elem((n, levels.len()), f64::NAN);
        let mut pit = vec![f64::NAN; n];
        let mut log_score = vec![f64::NAN; n];
        let mut location = vec![f64::NAN; n];
        let mut residual = vec![f64::NAN; n];
        let mut first = None;
        for (t, &y) in ys.iter().enumerate() {
            if let Ok(f) = self.forecast() {
                first.get_or_insert(t);
                let mut row = quantiles.row_mut(t);
                for (q, &p) in row.iter_mut().zip(levels) {
                    *q = f.quantile(p);
                }
                pit[t] = f.cdf(y);
                log_score[t] = f.ln_pdf(y);
                location[t] = f.location();
                residual[t] = y - f.location();
            }
            self.observe(y)?;
        }
        Ok(Backtest {
            quantiles,
            pit: pit.into(),
            log_score: log_score.into(),
            location: location.into(),
            residual: residual.into(),
            first_forecast: first,
        })
    }
}

/// One-step-ahead forecasts of a whole series, one row per time step: what
/// [`backtest`] returns.
///
/// Row `t` is the forecast made *before* `y_t` was seen. Rows before the first
/// forecast (the warm-up) are NaN, and so are the PIT value, log score and residual
/// of a missing observation. [`scored`](Self::scored) gives the rows from the first
/// forecast on.
#[derive(Debug, Clone, PartialEq)]
pub struct Backtest {
    /// Predictive quantiles, `n × levels`.
    pub quantiles: Array2<f64>,
    /// PIT values `F_t(y_t)`: uniform on (0, 1) for a calibrated forecaster.
    pub pit: Array1<f64>,
    /// Log scores `ln f_t(y_t)` (log predictive density; higher is better).
    pub log_score: Array1<f64>,
    /// The location model's prediction for step `t`, which the residual distribution
    /// is centred on.
    pub location: Array1<f64>,
    /// The one-step residuals `y_t - location_t`.
    pub residual: Array1<f64>,
    /// The index of the first forecast, `None` if the series ended in the warm-up.
    pub first_forecast: Option<usize>,
}

/// The scored part of a [`Backtest`]: views of its rows from the first forecast on,
/// without the warm-up's NaN rows (a missing observation still has a NaN PIT value,
/// log score and residual). What [`Backtest::scored`] returns.
#[derive(Debug, Clone, Copy)]
pub struct ScoredBacktest<'a> {
    /// The index in the series of the first row (the first forecast; the series'
    /// length if there was none).
    pub start: usize,
    /// Predictive quantiles, one row per scored step.
    pub quantiles: ArrayView2<'a, f64>,
    /// PIT values.
    pub pit: ArrayView1<'a, f64>,
    /// Log scores.
    pub log_score: ArrayView1<'a, f64>,
    /// Locations.
    pub location: ArrayView1<'a, f64>,
    /// Residuals `y - location`.
    pub residual: ArrayView1<'a, f64>,
}

impl Backtest {
    /// The rows from the first forecast on (all empty if the series ended in the
    /// warm-up): row `i` of each view is step `start + i` of the series.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> Result<(), tailcast::Error> {
    /// use tailcast::{ForecasterConfig, backtest};
    /// let ys: Vec<f64> = (0..300).map(|t| ((t * 7919) % 1009) as f64 / 1009.0).collect();
    /// let bt = backtest(&ForecasterConfig::default().window(100), &ys, &[0.1, 0.9])?;
    /// let scored = bt.scored();
    /// assert_eq!((scored.start, scored.pit.len()), (100, 200));
    /// assert!(scored.pit.iter().all(|u| (0.0..=1.0).contains(u)));
    /// let (y, r, m) = (ys[150], scored.residual[50], scored.location[50]);
    /// assert!((y - (m + r)).abs() < 1e-12);
    /// # Ok(())
    /// # }
    /// ```
    pub fn scored(&self) -> ScoredBacktest<'_> {
        let start = self.first_forecast.unwrap_or(self.pit.len());
        let rows = Slice::from(start..);
        ScoredBacktest {
            start,
            quantiles: self.quantiles.slice_axis(Axis(0), rows),
            pit: self.pit.slice_axis(Axis(0), rows),
            log_score: self.log_score.slice_axis(Axis(0), rows),
            location: self.location.slice_axis(Axis(0), rows),
            residual: self.residual.slice_axis(Axis(0), rows),
        }
    }
}

/// Runs a fresh forecaster with `config` over `ys` and returns, for every time step,
/// the predictive quantiles at `levels`, the PIT value and the log score.
///
/// # Errors
///
/// The errors of [`RollingForecaster::new`] and [`RollingForecaster::backtest`].
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::{ForecasterConfig, backtest};
/// let ys: Vec<f64> = (0..400).map(|t| ((t * 7919) % 1009) as f64 / 1009.0).collect();
/// let bt = backtest(&ForecasterConfig::default().window(100), &ys, &[0.05, 0.5, 0.95])?;
/// assert_eq!(bt.quantiles.dim(), (400, 3));
/// assert_eq!(bt.first_forecast, Some(100));
/// assert!(bt.pit[99].is_nan() && (0.0..=1.0).contains(&bt.pit[100]));
/// # Ok(())
/// # }
/// ```
pub fn backtest(
    config: &(impl IntoChecked<ForecasterConfig> + Clone),
    ys: &[f64],
    levels: &[f64],
) -> Result<Backtest> {
    RollingForecaster::new(config.clone())?.backtest(ys, levels)
}
