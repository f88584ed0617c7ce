//! The residual SBP of a rolling forecaster: the window of residuals and the
//! distribution refitted from it.
//!
//! # One fitting path
//!
//! The fit is [`SbpFitter`](crate::fit::SbpFitter)'s with the forecaster's
//! [`SbpConfig`] ([`residual_fit_config`], public as
//! [`Checked<ForecasterConfig>::residual_sbp`](crate::Checked::<super::ForecasterConfig>::residual_sbp)):
//! empirical thresholds with the body aligned on them
//! ([`Thresholds::Empirical`]), the central grid ([`Bounds::Central`], margin 1/2),
//! the tail-shape floor and bound, tail fallbacks and rescaled exceedances. The rules
//! themselves live in `fit/policy.rs` and are called from both places; this module
//! keeps only the bookkeeping that makes rolling refits cheap:
//!
//! * the window's histogram counts and per-bin lists, updated per observation (a
//!   refit reads the counts in O(bins) and walks only the tail bins for the
//!   exceedances, in the order the fitter sums them);
//! * the grid moves only when the data leave it: at a refit the grid is rebuilt
//!   (O(W log W), the SBP's edges rewritten in place) only if a threshold falls into
//!   an edge bin (the data have moved or widened) or the body has shrunk to fewer
//!   than a quarter of the bins (they have narrowed), and after a search that found
//!   no better grid not again before a sixteenth of the window has been replaced.
//!   Fixed bounds are never moved;
//! * warm starts: the first fit of a tail runs the configured search (with its
//!   global scan, if on); later ones are local Newton searches warm-started from
//!   the previous unconstrained estimate, and once every `window` observations the
//!   configured search runs again from the warm start, so a tail cannot stay on a
//!   local maximum for longer than one window;
//! * skip-if-unchanged: a refit finds nothing new when the exceedances are exactly
//!   those of the tail's last fit (equal weights, the same threshold, no point beyond
//!   it entered or left the window since): the tail is then kept as it is. On an
//!   equal-weight window that is most refits (one point in, one out, both in the
//!   body), which is what makes refitting at every step affordable; with decay the
//!   threshold moves at every step and every refit fits. A threshold inside an atom
//!   is refitted at most once every `walked / 64` observations;
//! * the truncation correction of an anomaly detector (below), which needs the
//!   current fit;
//! * short windows: each tail keeps its newest 64 excesses (each beyond the
//!   threshold in force when its point entered), and a tail with fewer exceedances
//!   in the window than the configuration's minimum is fitted to those instead of
//!   falling back to the exponential law (see `excess_pool.rs`: at window 100 a 5 %
//!   tail holds 5 points).
//!
//! So for the same points, the same grid and the same search, the forecaster's SBP
//! and the fitter's are the same, bit for bit with equal weights and with decay up
//! to the rounding of the incrementally kept counts (`tests/forecast_residual_fit.rs`),
//! as long as each tail holds the configured minimum of exceedances: with fewer the
//! fitter falls back to the exponential law and the forecaster uses its pool.
//! With decay the window keeps raw weights that grow with its clock; the counts and
//! the exceedances' weights are divided by the newest point's before they are used,
//! so that the pseudo-count weighs the same against the data at every step.
//! Nothing is allocated once the scratch buffers have reached the window's size,
//! not even when the grid moves.
//!
//! # Truncated tails
//!
//! When an anomaly detector keeps residuals beyond a cut out of the window
//! ([`ResidualModel::set_truncation`]), each tail fit first adds back the part of the
//! tail beyond the cut that the current fit predicts (one step of the EM algorithm
//! for truncated data per refit).

use serde::{Deserialize, Serialize};

use super::config::{MAX_BINS, check_half_life};
use super::excess_pool::{ExcessPool, POOL_LEN};
use super::window::{MAX_WINDOW, Window};
use crate::checked::{Check, Checked, IntoChecked};
use crate::error::{Error, Result};
use crate::fit::policy::{Start, central_grid, empirical_body, impute_truncated};
use crate::fit::spliced::check_max_tail_shape;
use crate::fit::{BodyEstimator, Bounds, SbpConfig, Thresholds};
use crate::{Binned, GeneralizedPareto, SplicedBinnedPareto, Tail};

/// Everything the residual model needs from the forecaster's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct ResidualSpec {
    /// Checked as it is read.
    pub(crate) sbp: Checked<SbpConfig>,
    pub(crate) window: usize,
    pub(crate) half_life: Option<f64>,
    pub(crate) refit_every: usize,
    /// Keep fitted shapes below 0 (finite endpoints) instead of flooring them at 0.
    pub(crate) bounded_tails: bool,
    /// The bound on the shapes, `+∞` for none (absent in models saved before it
    /// existed: then none, as they were fitted).
    #[serde(default = "no_bound", with = "crate::nonfinite::bound")]
    pub(crate) max_shape: f64,
}

fn no_bound() -> f64 {
    f64::INFINITY
}

/// The rules on a forecaster's window settings: a window in `[1, 2^32 - 2]`, a
/// half-life of at least one observation, a refit interval of at least 1.
pub(crate) fn check_window_settings(
    window: usize,
    half_life: Option<f64>,
    refit_every: usize,
) -> Result<()> {
    if window == 0 || window > MAX_WINDOW {
        return Err(Error::InvalidCount {
            name: "window",
            value: window,
            expected: "in [1, 2^32 - 2]",
        });
    }
    if let Some(h) = half_life {
        check_half_life(h)?;
    }
    if refit_every == 0 {
        return Err(Error::InvalidCount {
            name: "refit_every",
            value: 0,
            expected: ">= 1",
        });
    }
    Ok(())
}

/// The rule a forecaster adds to its (checked) SBP configuration: at most `2^20`
/// bins, since the histogram and the body are allocated up front.
pub(crate) fn check_residual_sbp(sbp: &Checked<SbpConfig>) -> Result<()> {
    if sbp.bins() > MAX_BINS {
        return Err(Error::InvalidCount {
            name: "bins",
            value: sbp.bins(),
            expected: "<= 2^20 in a forecaster",
        });
    }
    Ok(())
}

impl Check for ResidualSpec {
    /// The rules of the forecaster's configuration this spec comes from (run when a
    /// saved model is read; the SBP configuration is checked as it is read).
    fn check(&self) -> Result<Checked<Self>> {
        check_window_settings(self.window, self.half_life, self.refit_every)?;
        check_max_tail_shape(self.max_shape)?;
        check_residual_sbp(&self.sbp)?;
        Ok(Checked::after_check(*self))
    }
}

impl Checked<ResidualSpec> {
    fn window(&self) -> usize {
        self.config().window
    }

    fn half_life(&self) -> Option<f64> {
        self.config().half_life
    }

    fn refit_every(&self) -> usize {
        self.config().refit_every
    }

    fn sbp(&self) -> Checked<SbpConfig> {
        self.config().sbp
    }

    /// The admissible tail shapes `[lowest, highest]`.
    fn shape_range(&self) -> (f64, f64) {
        self.fit_config().shape_range()
    }

    /// The configuration of the SBP fit this model maintains: what
    /// [`SbpFitter`](crate::fit::SbpFitter) gives on the window's points.
    pub(crate) fn fit_config(&self) -> Checked<SbpConfig> {
        let c = self.config();
        residual_fit_config(c.sbp, c.bounded_tails, c.max_shape)
    }

    fn bins(&self) -> usize {
        self.sbp().bins()
    }

    fn masses(&self) -> (f64, f64) {
        let sbp = self.sbp();
        (sbp.lower_tail_mass(), sbp.upper_tail_mass())
    }

    fn fixed_bounds(&self) -> Option<(f64, f64)> {
        match self.sbp().bounds() {
            Bounds::Fixed { low, high } => Some((low, high)),
            Bounds::Auto { .. } | Bounds::Central { .. } => None,
        }
    }
}

/// The SBP fit a forecaster's residual model maintains, from the forecaster's
/// settings: the configured SBP with empirical thresholds (the body aligned on
/// them), the central grid for automatic bounds ([`Bounds::Auto`]'s margin is not
/// used), the forecaster's shape floor and bound, tail fallbacks (a forecast at
/// every step) and rescaled exceedances (any magnitude of residuals). Checked as
/// its parts are: every option set here is valid whatever its value.
pub(crate) fn residual_fit_config(
    sbp: Checked<SbpConfig>,
    bounded_tails: bool,
    max_shape: f64,
) -> Checked<SbpConfig> {
    let config = sbp
        .into_config()
        .thresholds(Thresholds::Empirical)
        .allow_bounded_tails(bounded_tails)
        .max_tail_shape(max_shape)
        .tail_fallbacks(true)
        .rescale_exceedances(true);
    Checked::after_check(match sbp.bounds() {
        Bounds::Auto { .. } => config.central_bounds(GRID_MARGIN),
        Bounds::Fixed { .. } | Bounds::Central { .. } => config,
    })
}

/// Half the central span is added on each side of the automatic grid.
const GRID_MARGIN: f64 = 0.5;

/// What one tail's refits remember.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct TailState {
    /// The warm start: the last unconstrained maximum-likelihood estimate.
    start: Option<Start>,
    /// The threshold of the last fit (`None` before the first).
    threshold: Option<f64>,
    /// A point beyond `threshold` has entered or left the window since the last fit.
    changed: bool,
    /// Observations since the last fit with the configured fitter's own search (the
    /// global scan, if on).
    since_global: usize,
    /// Points the last fit walked (absent in models saved before it existed: 0).
    #[serde(default)]
    walked: usize,
    /// Observations since the last fit.
    #[serde(default)]
    since_fit: usize,
}

impl TailState {
    const NEW: Self = Self {
        start: None,
        threshold: None,
        changed: true,
        since_global: 0,
        walked: 0,
        since_fit: 0,
    };

    /// Checks a restored state: a finite threshold, a warm start with a finite
    /// shape and a positive finite scale.
    fn check(&self) -> Result<()> {
        if let Some(t) = self.threshold {
            crate::error::finite("threshold", t)?;
        }
        if let Some(st) = self.start {
            crate::error::finite("start.shape", st.shape)?;
            crate::error::positive("start.scale", st.scale)?;
        }
        Ok(())
    }

    /// Records that `entered` joined the window and `left` (if any) was evicted;
    /// returns how far `entered` lies beyond the last fit's threshold, if it does
    /// (the excess the tail's pool keeps).
    #[inline]
    fn note(&mut self, upper: bool, entered: f64, left: Option<f64>) -> Option<f64> {
        self.since_global = self.since_global.saturating_add(1);
        self.since_fit = self.since_fit.saturating_add(1);
        let t = self.threshold?;
        let beyond = |x: f64| if upper { x > t } else { x < t };
        let excess = beyond(entered).then_some(if upper { entered - t } else { t - entered });
        if excess.is_some() || left.is_some_and(beyond) {
            self.changed = true;
        }
        excess
    }
}

/// The window of residuals and the SBP fitted to it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "ResidualRepr")]
pub(crate) struct ResidualModel {
    spec: Checked<ResidualSpec>,
    window: Window,
    /// The body estimator for the current grid: a function of the spec and the
    /// window's grid, rebuilt when restored (not stored twice).
    #[serde(skip_serializing)]
    estimator: BodyEstimator,
    sbp: SplicedBinnedPareto,
    lower: TailState,
    upper: TailState,
    since_refit: usize,
    /// Incremented at every refit: lets callers cache what they derive from the SBP.
    version: u64,
    /// Residuals beyond these points (lower, upper) are kept out of the window by
    /// the caller (see [`set_truncation`](Self::set_truncation)).
    #[serde(default)]
    truncation: (Option<f64>, Option<f64>),
    /// Observations to wait before the grid is searched again, after a search
    /// that found no better grid (see [`grid_retry`]).
    #[serde(default)]
    grid_wait: usize,
    /// Each tail's newest excesses (lower, upper), fitted when the window holds too
    /// few (see `excess_pool.rs`). Absent in models saved before they existed: empty.
    #[serde(default)]
    pools: (ExcessPool, ExcessPool),
    #[serde(skip)]
    scratch: Scratch,
}

/// The wait after a grid search that found nothing better: a sixteenth of the
/// window, so that the search costs O(log W) per observation at most.
fn grid_retry(len: usize) -> usize {
    (len / 16).max(1)
}

/// The deserialised form of [`ResidualModel`], checked as a whole before it is used.
#[derive(Debug, Deserialize)]
struct ResidualRepr {
    /// Checked as it is read.
    spec: Checked<ResidualSpec>,
    window: Window,
    sbp: SplicedBinnedPareto,
    lower: TailState,
    upper: TailState,
    since_refit: usize,
    version: u64,
    #[serde(default)]
    truncation: (Option<f64>, Option<f64>),
    #[serde(default)]
    grid_wait: usize,
    #[serde(default)]
    pools: (ExcessPool, ExcessPool),
}

impl TryFrom<ResidualRepr> for ResidualModel {
    type Error = Error;
    fn try_from(r: ResidualRepr) -> Result<Self> {
        let spec = r.spec;
        let invalid = |reason: &'static str| Err(Error::InvalidState { reason });
        // The window's copy of the settings.
        let mut window = r.window;
        window.check_settings(spec.window(), spec.bins(), spec.half_life())?;
        if let Some(grid) = spec.fixed_bounds()
            && window.grid() != grid
        {
            return invalid("the window's grid differs from the fixed bounds");
        }
        let (low, high) = window.grid();
        let estimator = spec.sbp().body_estimator(low, high)?;
        // The distribution's.
        let sbp = r.sbp;
        let (p_l, p_u) = spec.masses();
        if sbp.body().bins() != spec.bins()
            || sbp.lower_tail().mass() != p_l
            || sbp.upper_tail().mass() != p_u
        {
            return invalid(
                "the residual distribution's bins or tail masses differ from the settings",
            );
        }
        let (lowest, highest) = spec.shape_range();
        for tail in [sbp.lower_tail(), sbp.upper_tail()] {
            let xi = tail.gpd().shape();
            if !(xi >= lowest && xi <= highest) {
                return invalid("a residual tail's shape is outside the admissible range");
            }
        }
        for state in [&r.lower, &r.upper] {
            state.check()?;
        }
        if r.since_refit >= spec.refit_every() {
            return invalid("the residual model's refit is overdue");
        }
        for cut in [r.truncation.0, r.truncation.1].into_iter().flatten() {
            crate::error::finite("truncation", cut)?;
        }
        if r.grid_wait > grid_retry(window.len()) {
            return invalid("the residual model's grid wait is longer than its window allows");
        }
        let mut pools = r.pools;
        for pool in [&mut pools.0, &mut pools.1] {
            pool.check()?;
            pool.reserve();
        }
        let mut model = Self {
            spec,
            window,
            estimator,
            sbp,
            lower: r.lower,
            upper: r.upper,
            since_refit: r.since_refit,
            version: r.version,
            truncation: r.truncation,
            grid_wait: r.grid_wait,
            pools,
            scratch: Scratch::default(),
        };
        // A state that could never refit again (no weight in the window) is not one
        // a model saves.
        if model.window.len() > 0 && model.body().is_none() {
            return invalid("the window's counts hold no weight");
        }
        Ok(model)
    }
}

/// Buffers reused by every refit (not serialised: their contents never outlive one).
#[derive(Debug, Clone, Default)]
struct Scratch {
    probs: Vec<f64>,
    /// The window's counts relative to the newest point's weight (with decay).
    counts: Vec<f64>,
    excess: Vec<f64>,
    weights: Vec<f64>,
    sorted: Vec<(f64, f64)>,
}

impl Scratch {
    /// Room for the whole window in every buffer, so that no part of a refit
    /// allocates: a no-op once the window is full (restored models start with empty
    /// buffers; while the window fills, the buffers grow with it).
    fn reserve(&mut self, points: usize, bins: usize) {
        let room = |v: &mut Vec<f64>, n: usize| {
            if v.capacity() < n {
                v.reserve(n - v.len());
            }
        };
        room(&mut self.probs, bins);
        room(&mut self.counts, bins);
        room(&mut self.excess, points.max(POOL_LEN));
        room(&mut self.weights, points.max(POOL_LEN));
        if self.sorted.capacity() < points {
            self.sorted.reserve(points - self.sorted.len());
        }
    }
}

impl ResidualModel {
    /// Builds the window from the initial residuals (NaN entries skipped, the last
    /// `window` kept), sets the grid and fits the SBP.
    ///
    /// # Errors
    ///
    /// [`Error::TooFewObservations`] if there is no finite residual; grid errors for
    /// invalid fixed bounds.
    pub(crate) fn new(spec: impl IntoChecked<ResidualSpec>, residuals: &[f64]) -> Result<Self> {
        let spec = spec.into_checked()?;
        let finite = residuals.iter().filter(|r| r.is_finite()).count();
        if finite == 0 {
            return Err(Error::TooFewObservations {
                what: "residual distribution",
                needed: 1,
                got: 0,
            });
        }
        let (low, high) = spec.fixed_bounds().unwrap_or((0.0, 1.0));
        let mut window = Window::new(spec.window(), spec.bins(), low, high, spec.half_life())?;
        for &r in residuals.iter().filter(|r| r.is_finite()) {
            window.push(r);
        }
        let mut scratch = Scratch::default();
        if spec.fixed_bounds().is_none() {
            let (low, high) = auto_grid(&window, &spec.fit_config(), &mut scratch.sorted);
            window.rebin(low, high)?;
        }
        let (low, high) = window.grid();
        // A placeholder body and tails, replaced by the first refit below.
        let unit = GeneralizedPareto::exponential(1.0)?;
        let (p_l, p_u) = spec.masses();
        let sbp = SplicedBinnedPareto::new(
            Binned::equal_width(low, high, vec![1.0; spec.bins()])?,
            Tail::new(p_l, unit)?,
            Tail::new(p_u, unit)?,
        )?;
        let mut model = Self {
            spec,
            window,
            estimator: spec.sbp().body_estimator(low, high)?,
            sbp,
            lower: TailState::NEW,
            upper: TailState::NEW,
            since_refit: 0,
            truncation: (None, None),
            grid_wait: 0,
            version: 0,
            pools: (ExcessPool::new(), ExcessPool::new()),
            scratch,
        };
        model.refit();
        Ok(model)
    }

    /// The current residual distribution.
    #[inline]
    pub(crate) fn sbp(&self) -> &SplicedBinnedPareto {
        &self.sbp
    }

    /// How many refits have happened (changes whenever [`sbp`](Self::sbp) does).
    #[inline]
    pub(crate) fn version(&self) -> u64 {
        self.version
    }

    /// The number of residuals in the window.
    pub(crate) fn len(&self) -> usize {
        self.window.len()
    }

    /// The settings the model was built with.
    pub(crate) fn spec(&self) -> &Checked<ResidualSpec> {
        &self.spec
    }

    /// The window of residuals.
    pub(crate) fn window(&self) -> &Window {
        &self.window
    }

    /// Adds a finite residual; refits when the schedule says so.
    #[inline]
    pub(crate) fn push(&mut self, r: f64) {
        let left = self.window.push(r);
        if let Some(excess) = self.lower.note(false, r, left) {
            self.pools.0.push(excess);
        }
        if let Some(excess) = self.upper.note(true, r, left) {
            self.pools.1.push(excess);
        }
        self.since_refit = self.since_refit.saturating_add(1);
        self.grid_wait = self.grid_wait.saturating_sub(1);
        if self.since_refit >= self.spec.refit_every() {
            self.refit();
        }
    }

    /// Rescales the window by `factor` (a change of the noise's scale) and refits
    /// from scratch: thresholds, body and tails with the configured search, the
    /// warm starts forgotten. Returns whether the window was rescaled.
    pub(crate) fn rescale(&mut self, factor: f64) -> bool {
        // A fixed grid is the user's: it is not moved.
        if self.spec.fixed_bounds().is_some() || self.window.rescale(factor).is_err() {
            return false;
        }
        let (low, high) = self.window.grid();
        match self.spec.sbp().body_estimator(low, high) {
            Ok(estimator) => self.estimator = estimator,
            Err(_) => return false,
        }
        self.lower = TailState::NEW;
        self.upper = TailState::NEW;
        self.pools.0.rescale(factor);
        self.pools.1.rescale(factor);
        self.grid_wait = 0;
        self.refit();
        true
    }

    /// Declares that residuals below `lower` or above `upper` are kept out of the
    /// window (`None`: no such point), as an anomaly detector does with extreme
    /// observations. The tail fits then correct for the missing part of each tail
    /// (see the module notes, *Truncated tails*). Takes effect at the next refit.
    pub(crate) fn set_truncation(&mut self, lower: Option<f64>, upper: Option<f64>) {
        // A cut that is not finite removes nothing: it is no cut (and the state
        // keeps only finite numbers).
        let finite = |c: Option<f64>| c.filter(|c| c.is_finite());
        self.truncation = (finite(lower), finite(upper));
    }

    /// Refits the body and both tails from the window.
    pub(crate) fn refit(&mut self) {
        self.scratch.reserve(self.window.len(), self.spec.bins());
        self.since_refit = 0;
        // Wraps (after 2^64 refits), skipping 0, which means "never fitted".
        self.version = self.version.wrapping_add(1).max(1);
        let Some((mut tau_l, mut tau_u)) = self.body() else {
            return;
        };
        let bins = self.spec.bins();
        let fit = self.spec.fit_config();
        // The window's grid may have moved outside a refit (a rescale).
        let mut rebuilt = self.sbp.body().support() != self.window.grid();
        if self.spec.fixed_bounds().is_none() && bins >= 8 && self.grid_wait == 0 {
            let (bl, bu) = (self.window.bin(tau_l), self.window.bin(tau_u));
            if bl == 0 || bu == bins - 1 || 4 * (bu - bl + 1) < bins {
                let (low, high) = auto_grid(&self.window, &fit, &mut self.scratch.sorted);
                let estimator = self.spec.sbp().body_estimator(low, high);
                if (low, high) != self.window.grid()
                    && resolvable(low, high, bins)
                    && let Ok(estimator) = estimator
                    && self.window.rebin(low, high).is_ok()
                {
                    self.estimator = estimator;
                    rebuilt = true;
                    match self.body() {
                        Some(t) => (tau_l, tau_u) = t,
                        None => return,
                    }
                } else {
                    // The window's own grid is no better (atoms, a constant stretch,
                    // values beyond the grid's range): the O(W log W) search is not
                    // repeated before a share of the window has been replaced.
                    self.grid_wait = grid_retry(self.window.len());
                }
            }
        }
        let width = {
            let (low, high) = self.window.grid();
            (high - low) / bins as f64
        };
        let (lower, lower_state) = self.refit_tail(&fit, false, tau_l, rebuilt, width);
        let (upper, upper_state) = self.refit_tail(&fit, true, tau_u, rebuilt, width);
        let (p_l, p_u) = self.spec.masses();
        let (Ok(lower), Ok(upper)) = (Tail::new(p_l, lower), Tail::new(p_u, upper)) else {
            return;
        };
        // Neither update can fail: the probabilities come from the estimator and the
        // grid was checked to be resolvable before the window moved to it.
        let updated = if rebuilt {
            // The grid moved: new edges, same buffers.
            let (low, high) = self.window.grid();
            self.sbp
                .update_grid(low, high, &self.scratch.probs, lower, upper)
        } else {
            self.sbp.update(&self.scratch.probs, lower, upper)
        };
        if updated.is_ok() {
            self.lower = lower_state;
            self.upper = upper_state;
        }
    }

    /// Fills `scratch.probs` with the body probabilities and returns the thresholds,
    /// or `None` if the window holds no weight (the rule of
    /// [`Thresholds::Empirical`], on the window's counts).
    ///
    /// With decay the window's counts are in raw weights, which grow with the
    /// window's clock: they are brought to weights relative to the newest point
    /// (those of [`RollingForecaster::residual_weights`]) first, so that the
    /// pseudo-count weighs the same against the data whatever the clock.
    ///
    /// [`RollingForecaster::residual_weights`]: crate::RollingForecaster::residual_weights
    fn body(&mut self) -> Option<(f64, f64)> {
        let counts = self.window.counts();
        let counts = match self.window.newest_weight() {
            Some(newest) if self.window.is_weighted() => {
                let relative = &mut self.scratch.counts;
                relative.clear();
                relative.extend(counts.iter().map(|&c| c / newest));
                &relative[..]
            }
            _ => counts,
        };
        empirical_body(
            &self.estimator,
            counts,
            self.spec.masses(),
            &mut self.scratch.probs,
        )
    }

    /// The tail beyond `tau` and the tail's state after this refit: the current GPD
    /// again if its exceedances are exactly those of its last fit, else a new fit.
    fn refit_tail(
        &mut self,
        fit: &Checked<SbpConfig>,
        upper: bool,
        tau: f64,
        rebuilt: bool,
        bin_width: f64,
    ) -> (GeneralizedPareto, TailState) {
        let state = if upper { self.upper } else { self.lower };
        let due = state.since_global >= self.spec.window();
        let global = state.start.is_none() || due;
        // Unweighted, same threshold, no point beyond it in or out: the same points in
        // the same order, hence the same fit (with decay, the relative weights of
        // the exceedances would not change either, but the threshold moves at every
        // step). That holds too when the last refit had nothing to fit (no warm
        // start): walking the threshold's bin again, which may hold most of the
        // window (an atom), would find the same nothing.
        let unchanged = !state.changed
            && state.threshold == Some(tau)
            && !rebuilt
            && !due
            && !self.window.is_weighted();
        // A threshold inside an atom (a bin holding much more of the window than
        // the tail's mass) makes every fit walk, and fit, a large share of the
        // window: such a tail is refitted once every `walked / THROTTLE`
        // observations at most, so that it costs O(THROTTLE) per observation.
        let (p_l, p_u) = self.spec.masses();
        let mass = if upper { p_u } else { p_l };
        let expected = mass * self.window.len() as f64 + self.spec.sbp().min_exceedances() as f64;
        let throttled = state.threshold.is_some()
            && !rebuilt
            && !due
            && state.walked as f64 > 2.0 * expected
            && state.since_fit.saturating_mul(THROTTLE) < state.walked;
        if throttled {
            let current = if upper {
                self.sbp.upper_tail()
            } else {
                self.sbp.lower_tail()
            };
            return (*current.gpd(), state);
        }
        let current = if upper {
            self.sbp.upper_tail()
        } else {
            self.sbp.lower_tail()
        };
        let (gpd, start, walked, since_fit) = if unchanged {
            (*current.gpd(), state.start, state.walked, state.since_fit)
        } else {
            let (gpd, start, walked) = self.fit_tail(fit, upper, tau, &state, global, bin_width);
            (gpd, start, walked, 0)
        };
        let next = TailState {
            start,
            threshold: Some(tau),
            changed: false,
            since_global: if global { 0 } else { state.since_global },
            walked,
            since_fit,
        };
        (gpd, next)
    }

    /// Fits one tail beyond `tau` by the tail policy of `fit` (the forecaster's
    /// [`SbpConfig`], see [`residual_fit_config`]); returns the GPD, the next warm
    /// start and the number of points walked. With `global` the configured fitter
    /// runs as configured (its global scan included), otherwise it is a local
    /// search from the state's warm start.
    fn fit_tail(
        &mut self,
        fit: &Checked<SbpConfig>,
        upper: bool,
        tau: f64,
        state: &TailState,
        global: bool,
        bin_width: f64,
    ) -> (GeneralizedPareto, Option<Start>, usize) {
        let start = state.start;
        // Before the first fit the current tail is a placeholder.
        let fitted_before = state.threshold.is_some();
        let s = &mut self.scratch;
        let walked = if upper {
            self.window
                .upper_exceedances(tau, &mut s.excess, &mut s.weights)
        } else {
            self.window
                .lower_exceedances(tau, &mut s.excess, &mut s.weights)
        };
        // Truncation: the expected number of exceedances beyond the cut, under the
        // current tail, is added back at that tail's conditional quantiles beyond
        // the cut (one EM step per refit; see the module notes).
        let cut = if upper {
            self.truncation.1.map_or(f64::NAN, |c| c - tau)
        } else {
            self.truncation.0.map_or(f64::NAN, |c| tau - c)
        };
        let current = if upper {
            *self.sbp.upper_tail().gpd()
        } else {
            *self.sbp.lower_tail().gpd()
        };
        // With decay, the weights relative to the newest point's (those of
        // `RollingForecaster::residual_weights`; the raw ones grow with the clock).
        if self.window.is_weighted()
            && let Some(newest) = self.window.newest_weight()
        {
            s.weights.iter_mut().for_each(|w| *w /= newest);
        }
        let needed = self.spec.sbp().exceedances_needed();
        let pool = if upper { &self.pools.1 } else { &self.pools.0 };
        let weighted = if s.excess.len() < needed && pool.excesses().len() >= needed {
            // Too few in the window: the tail's newest excesses instead.
            s.excess.clear();
            s.excess.extend_from_slice(pool.excesses());
            s.weights.clear();
            s.weights.resize(s.excess.len(), 1.0);
            false
        } else {
            let imputed = impute_truncated(&current, cut, &mut s.excess, &mut s.weights);
            imputed || self.window.is_weighted()
        };
        let what = if upper {
            "upper tail fit"
        } else {
            "lower tail fit"
        };
        // With fallbacks on, the policy always gives a tail.
        match fit.fit_tail(
            what,
            &mut s.excess,
            &s.weights,
            weighted,
            start,
            global,
            fitted_before.then_some(current),
            bin_width,
        ) {
            Ok(t) => (t.gpd, t.start, walked),
            Err(_) => (current, start, walked),
        }
    }
}

/// A tail whose fits walk more than twice its share of the window is refitted
/// at most once every `walked / THROTTLE` observations (see `refit_tail`).
const THROTTLE: usize = 64;

/// Whether `bins` equal-width bins on `[low, high]` have strictly increasing edges
/// (the check [`SplicedBinnedPareto`]'s grid move makes).
fn resolvable(low: f64, high: f64, bins: usize) -> bool {
    let width = (high - low) / bins as f64;
    let edge = |i: usize| {
        if i == bins {
            high
        } else {
            low + width * i as f64
        }
    };
    (0..bins).all(|i| edge(i) < edge(i + 1))
}

/// The automatic grid for the window's current values: [`Bounds::Central`] of the
/// fit's configuration on the window's points.
fn auto_grid(
    window: &Window,
    fit: &Checked<SbpConfig>,
    sorted: &mut Vec<(f64, f64)>,
) -> (f64, f64) {
    let margin = match fit.bounds() {
        Bounds::Central { margin } => margin,
        Bounds::Auto { .. } | Bounds::Fixed { .. } => GRID_MARGIN,
    };
    sorted.clear();
    sorted.extend(window.iter());
    let masses = (fit.lower_tail_mass(), fit.upper_tail_mass());
    central_grid(sorted, masses, margin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    fn spec() -> ResidualSpec {
        ResidualSpec {
            sbp: SbpConfig::default().check().unwrap(),
            window: 2000,
            half_life: None,
            refit_every: 1,
            bounded_tails: false,
            max_shape: f64::INFINITY,
        }
    }

    #[test]
    fn warm_started_refits_are_the_fitters_with_the_same_starts() {
        // Decay (every refit fits both tails) and a refit at every step: each refit
        // is a local search from the previous unconstrained estimates. An SbpFitter
        // with the model's configuration, its grid and the same warm starts finds the
        // same SBP, up to the order of summation (see tests/forecast_residual_fit.rs).
        let t = rand_distr::StudentT::new(3.0).unwrap();
        let mut rng = StdRng::seed_from_u64(21);
        for (half_life, max_shape) in [(Some(150.0), 1.0), (None, f64::INFINITY)] {
            let mut s = spec();
            s.window = 400;
            s.refit_every = 1;
            s.half_life = half_life;
            s.max_shape = max_shape;
            let first: Vec<f64> = (0..400).map(|_| rng.sample(t)).collect();
            let mut model = ResidualModel::new(s, &first).unwrap();
            let mut compared = 0;
            for step in 0..300 {
                let starts = [model.lower.start, model.upper.start];
                model.push(rng.sample(t));
                // Only fitted tails are compared (not kept ones, nor refits that ran
                // the configured search), at the model's grid.
                let fitted =
                    [model.lower, model.upper].map(|st| st.since_fit == 0 && st.since_global > 0);
                if !fitted.iter().any(|&f| f) {
                    continue;
                }
                let (low, high) = model.window.grid();
                let config = s
                    .check()
                    .unwrap()
                    .fit_config()
                    .into_config()
                    .bounds(low, high);
                let mut fitter = crate::fit::SbpFitter::new(config).unwrap();
                fitter.set_warm_starts(starts, false);
                let (x, w): (Vec<f64>, Vec<f64>) = model.window.iter().unzip();
                let newest = *w.last().unwrap();
                let w: Vec<f64> = w.iter().map(|&v| v / newest).collect();
                let weights = half_life.is_some().then_some(&w[..]);
                let fit = fitter.fit(&x, weights).unwrap().dist;
                let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0);
                let sbp = model.sbp();
                let tail = |upper: bool, d: &SplicedBinnedPareto| {
                    let g = if upper {
                        d.upper_tail()
                    } else {
                        d.lower_tail()
                    }
                    .gpd();
                    [g.shape(), g.scale()]
                };
                let mut pairs = vec![
                    (fit.lower_threshold(), sbp.lower_threshold()),
                    (fit.upper_threshold(), sbp.upper_threshold()),
                ];
                for (side, upper) in [false, true].into_iter().enumerate() {
                    if fitted[side] {
                        pairs.extend(tail(upper, &fit).into_iter().zip(tail(upper, sbp)));
                    }
                }
                if half_life.is_none() {
                    // Equal weights: the same counts, points and order, the same bits.
                    assert!(pairs.iter().all(|(a, b)| a == b), "step {step}: {pairs:?}");
                    assert_eq!(fit.body().probs(), sbp.body().probs());
                }
                for (a, b) in pairs {
                    assert!(close(a, b), "step {step} {half_life:?}: {a} vs {b}");
                }
                for (a, b) in fit.body().probs().iter().zip(sbp.body().probs()) {
                    assert!(
                        (a - b).abs() <= 1e-12 * b.max(1e-3),
                        "step {step}: {a} vs {b}"
                    );
                }
                compared += 1;
            }
            assert!(compared > 20, "{half_life:?}: {compared}");
        }
    }

    #[test]
    fn pseudo_counts_do_not_move_the_thresholds() {
        // Default config: pseudo-count 1/2 per bin on a 1,000-point window.
        let mut rng = StdRng::seed_from_u64(8);
        let data: Vec<f64> = (0..1000)
            .map(|_| rng.random::<f64>().powi(2) * 4.0)
            .collect();
        let mut s = spec();
        s.window = 1000;
        let model = ResidualModel::new(s, &data).unwrap();
        let sbp = model.sbp();
        let below = data.iter().filter(|&&x| x < sbp.lower_threshold()).count();
        let above = data.iter().filter(|&&x| x > sbp.upper_threshold()).count();
        // Within a bin the points are not exactly uniform: a few points of slack.
        // Without the alignment only 17 points are below τ_l here.
        assert!((46..=54).contains(&below), "{below}");
        assert!((46..=54).contains(&above), "{above}");
    }

    #[test]
    fn recovers_a_known_sbp_from_its_samples() {
        // Residuals from an SBP with GPD(0.2, 1) tails beyond a uniform body.
        let truth = SplicedBinnedPareto::new(
            Binned::equal_width(-2.0, 2.0, vec![1.0; 40]).unwrap(),
            Tail::new(0.05, GeneralizedPareto::new(0.1, 0.5).unwrap()).unwrap(),
            Tail::new(0.05, GeneralizedPareto::new(0.2, 1.0).unwrap()).unwrap(),
        )
        .unwrap();
        let mut rng = StdRng::seed_from_u64(1);
        let data: Vec<f64> = (0..20_000)
            .map(|_| truth.quantile(rng.random::<f64>()))
            .collect();
        let mut s = spec();
        s.window = 20_000;
        let model = ResidualModel::new(s, &data).unwrap();
        let fitted = model.sbp();
        // Thresholds: the sample's 5 % and 95 % points, whose true cdf is within a few
        // binomial standard errors (0.0015) of the level.
        assert!((truth.cdf(fitted.lower_threshold()) - 0.05).abs() < 0.005);
        assert!((truth.cdf(fitted.upper_threshold()) - 0.95).abs() < 0.005);
        // Tail shape from ~1000 exceedances: standard error about 0.035.
        let xi = fitted.upper_tail().gpd().shape();
        assert!((xi - 0.2).abs() < 0.12, "upper shape {xi}");
        for p in [0.001, 0.01, 0.5, 0.99, 0.999] {
            let (a, b) = (fitted.quantile(p), truth.quantile(p));
            assert!((a - b).abs() < 0.1 * (1.0 + b.abs()), "{p}: {a} vs {b}");
        }
    }

    #[test]
    fn kept_tails_are_the_fits_of_their_exceedances() {
        // Equal weights, a refit at every step: most refits keep a tail, and every
        // tail must still be the maximum-likelihood fit of the window's exceedances
        // beyond its threshold (shape floored at 0), as a fresh global fit finds it.
        let t = rand_distr::StudentT::new(3.0).unwrap();
        let mut rng = StdRng::seed_from_u64(12);
        let mut s = spec();
        s.window = 400;
        s.refit_every = 1;
        let first: Vec<f64> = (0..400).map(|_| rng.sample(t)).collect();
        let mut model = ResidualModel::new(s, &first).unwrap();
        let fitter = crate::fit::GpdFitter::default().check().unwrap();
        let (mut kept, mut refitted) = (0, 0);
        let (mut ex, mut wt) = (Vec::new(), Vec::new());
        for step in 0..1500 {
            let before = *model.sbp().upper_tail();
            model.push(rng.sample(t));
            if *model.sbp().upper_tail() == before {
                kept += 1;
            } else {
                refitted += 1;
            }
            for upper in [false, true] {
                let (state, tail) = if upper {
                    (model.upper, model.sbp().upper_tail())
                } else {
                    (model.lower, model.sbp().lower_tail())
                };
                let tau = state.threshold.unwrap();
                if upper {
                    model.window.upper_exceedances(tau, &mut ex, &mut wt);
                } else {
                    model.window.lower_exceedances(tau, &mut ex, &mut wt);
                }
                let est = fitter.fit(&ex, None).unwrap();
                let want = if est.shape >= 0.0 {
                    est.dist()
                } else {
                    let mean = ex.iter().sum::<f64>() / ex.len() as f64;
                    GeneralizedPareto::exponential(mean).unwrap()
                };
                let got = tail.gpd();
                let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * (1.0 + b.abs());
                assert!(
                    close(got.shape(), want.shape()) && close(got.scale(), want.scale()),
                    "step {step}, upper {upper}: {got} vs {want}"
                );
            }
        }
        // About one step in ten changes the upper exceedances.
        assert!(
            kept > 1200 && refitted > 50,
            "kept {kept}, refitted {refitted}"
        );
    }

    #[test]
    fn grid_follows_a_shift_and_keeps_body_resolution() {
        let mut rng = StdRng::seed_from_u64(2);
        let mut s = spec();
        s.window = 500;
        s.refit_every = 50;
        let first: Vec<f64> = (0..500).map(|_| rng.random::<f64>()).collect();
        let mut model = ResidualModel::new(s, &first).unwrap();
        // Move the data far to the right and make them narrower.
        for _ in 0..1000 {
            model.push(100.0 + 0.01 * rng.random::<f64>());
        }
        let sbp = model.sbp();
        assert!(sbp.lower_threshold() > 99.99 && sbp.upper_threshold() < 100.02);
        let (low, high) = model.window.grid();
        let (bl, bu) = (
            model.window.bin(sbp.lower_threshold()),
            model.window.bin(sbp.upper_threshold()),
        );
        assert!(bl > 0 && bu < 99 && bu - bl >= 25, "{low} {high} {bl} {bu}");
    }

    #[test]
    fn constant_residuals_give_a_valid_distribution() {
        let mut s = spec();
        s.window = 100;
        let mut model = ResidualModel::new(s, &[0.0; 100]).unwrap();
        for _ in 0..10 {
            model.push(0.0);
        }
        let sbp = model.sbp();
        assert!(sbp.cdf(0.0).is_finite());
        assert!(
            sbp.sf(1.0) < 1e-3,
            "a jump of 1 is extreme: {}",
            sbp.sf(1.0)
        );
        let mut model = ResidualModel::new(s, &[5e300; 100]).unwrap();
        model.push(-5e300);
        model.push(f64::MAX);
        assert!(model.sbp().quantile(0.5).is_finite());
    }

    #[test]
    fn serde_resumes_bit_identically() {
        let mut rng = StdRng::seed_from_u64(4);
        for half_life in [None, Some(150.0)] {
            let mut s = spec();
            s.window = 300;
            s.half_life = half_life;
            s.refit_every = 7;
            let first: Vec<f64> = (0..300).map(|_| rng.random::<f64>().powi(3)).collect();
            let mut a = ResidualModel::new(s, &first).unwrap();
            for _ in 0..123 {
                a.push(rng.random::<f64>().powi(3));
            }
            let json = serde_json::to_string(&a).unwrap();
            let mut b: ResidualModel = serde_json::from_str(&json).unwrap();
            for _ in 0..500 {
                let r = rng.random::<f64>().powi(3) * 3.0 - 1.0;
                a.push(r);
                b.push(r);
                assert_eq!(a.sbp(), b.sbp());
                assert_eq!(a.version(), b.version());
            }
        }
    }
}
