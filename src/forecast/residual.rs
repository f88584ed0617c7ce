//! The residual SBP of a rolling forecaster: the window of residuals and the
//! distribution refitted from it.
//!
//! A refit reads the window's histogram counts (O(bins)), takes the thresholds from
//! them, turns them into body probabilities, collects the exceedances by walking only
//! the tail bins of the window, fits each tail by maximum likelihood warm-started from
//! the previous fit, and updates the SBP in place. Nothing is allocated once the
//! scratch buffers have reached the window's size, not even when the grid moves.
//!
//! # Thresholds and body
//!
//! The thresholds are the window's empirical (weighted) quantiles at the tail masses,
//! `τ_l = Q(p_l)` and `τ_u = Q(1 - p_u)`, interpolated within their bins. The body is
//! the [`BodyEstimator`] of the [`SbpConfig`] applied to the counts (smoothing and
//! pseudo-count), with the mass beyond each threshold's bin rescaled so that the body's
//! own quantiles fall exactly on `τ_l` and `τ_u`. Without that step the pseudo-counts
//! in the bins beyond the thresholds would move the thresholds (by about
//! `α (p K - k) / n` in probability, `k` bins beyond, `n` points: a full point for
//! the default `α = 1/2` on a 1,000-point window), and the tails would be
//! miscalibrated by as much.
//!
//! # Grid policy
//!
//! With automatic bounds the grid is set from the window's weighted quantiles at the
//! tail masses, `q_l` and `q_u`, widened by half their span on each side, so the body
//! between the thresholds covers about half the bins (the margin of
//! [`Bounds::Auto`] is not used: min and max of a spiky window would leave the body a
//! handful of bins). Points outside the grid are counted in the edge bins: they lie in
//! the tails, whose fit uses their exact values. At each refit the grid is rebuilt
//! (O(W log W), the SBP's edges rewritten in place) only if a threshold falls into an edge bin
//! (the data have moved or widened) or the body has shrunk to fewer than a quarter of
//! the bins (they have narrowed). Fixed bounds are never moved.
//!
//! # Tails
//!
//! With at least `min_exceedances` points beyond a threshold the tail is the GPD
//! maximum-likelihood fit of the [`SbpConfig`]'s fitter (weighted when the window
//! decays). The first fit runs as configured (with its global scan, if on); later
//! ones are local Newton searches warm-started from the previous unconstrained
//! estimate, and once every `window` observations the configured search runs again
//! from the warm start, so a tail cannot stay on a local maximum for longer than one
//! window. A refit finds nothing new when the exceedances are exactly those of the
//! tail's last fit (equal weights, the same threshold, no point beyond it entered or
//! left the window since): the tail is then kept as it is. On an equal-weight window
//! that is most refits (one point in, one out, both in the body), which is what makes
//! refitting at every step affordable; with decay the threshold moves at every step
//! and every refit fits.
//!
//! Unless bounded tails are allowed, the shape is
//! constrained to `ξ >= 0`: an estimate below 0 is replaced by the constrained
//! maximum, the exponential fit. (On a window of a few dozen exceedances of a
//! light-tailed law the unconstrained estimate often puts the tail's end point at the
//! largest exceedance, and the next, slightly larger value would get probability 0.)
//! With a bound `c` on the shape, an estimate above it is replaced by the maximum
//! of the likelihood over the admissible shapes (`[0, c]`, or `[-1, c]` with bounded
//! tails), usually on the edge `ξ = c` with its own scale; should that fit fail, the
//! tail is the exponential fit.
//! With fewer exceedances, or if the fit fails (for
//! example when all the exceedances are equal), the tail is the exponential law with
//! the exceedances' weighted mean as its scale (the `ξ = 0` maximum-likelihood fit);
//! with no exceedance at all the previous tail is kept, or one bin width is used as
//! the scale.

use serde::{Deserialize, Serialize};

use super::config::{MAX_BINS, check_half_life};
use super::window::{MAX_WINDOW, Window};
use crate::error::{Error, Result};
use crate::fit::constrained::fit_max_shape;
use crate::fit::{BodyEstimator, Bounds, SbpConfig};
use crate::{Binned, GeneralizedPareto, SplicedBinnedPareto, Tail};

/// Everything the residual model needs from the forecaster's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct ResidualSpec {
    pub(crate) sbp: SbpConfig,
    pub(crate) window: usize,
    pub(crate) half_life: Option<f64>,
    pub(crate) refit_every: usize,
    /// Keep fitted shapes below 0 (finite endpoints) instead of flooring them at 0.
    pub(crate) bounded_tails: bool,
    /// The bound on the shapes, if any (absent in models saved before it existed:
    /// then none, as they were fitted).
    #[serde(default)]
    pub(crate) max_shape: Option<f64>,
}

impl ResidualSpec {
    /// Checks every setting, as [`ForecasterConfig::validate`] does for the
    /// configuration it comes from.
    ///
    /// [`ForecasterConfig::validate`]: super::ForecasterConfig::validate
    fn validate(&self) -> Result<()> {
        if self.window == 0 || self.window > MAX_WINDOW {
            return Err(Error::InvalidCount {
                name: "window",
                value: self.window,
                expected: "in [1, 2^32 - 2]",
            });
        }
        if self.refit_every == 0 {
            return Err(Error::InvalidCount {
                name: "refit_every",
                value: 0,
                expected: ">= 1",
            });
        }
        if let Some(h) = self.half_life {
            check_half_life(h)?;
        }
        if let Some(c) = self.max_shape {
            crate::error::positive("max_tail_shape", c)?;
        }
        self.sbp.check()?;
        if self.bins() > MAX_BINS {
            return Err(Error::InvalidCount {
                name: "bins",
                value: self.bins(),
                expected: "<= 2^20 in a forecaster",
            });
        }
        Ok(())
    }

    /// The admissible tail shapes `[lowest, highest]`.
    fn shape_range(&self) -> (f64, f64) {
        let lowest = if self.bounded_tails {
            f64::NEG_INFINITY
        } else {
            0.0
        };
        (lowest, self.max_shape.unwrap_or(f64::INFINITY))
    }

    fn bins(&self) -> usize {
        self.sbp.bin_count()
    }

    fn masses(&self) -> (f64, f64) {
        self.sbp.tail_masses()
    }

    fn fixed_bounds(&self) -> Option<(f64, f64)> {
        match self.sbp.bounds_setting() {
            Bounds::Fixed { low, high } => Some((low, high)),
            Bounds::Auto { .. } => None,
        }
    }
}

/// Half the central span is added on each side of the automatic grid.
const GRID_MARGIN: f64 = 0.5;

/// A warm start for a tail fit: the previous maximum-likelihood `(shape, scale)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Start {
    shape: f64,
    scale: f64,
}

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

    /// Records that `entered` joined the window and `left` (if any) was evicted.
    #[inline]
    fn note(&mut self, upper: bool, entered: f64, left: Option<f64>) {
        self.since_global = self.since_global.saturating_add(1);
        self.since_fit = self.since_fit.saturating_add(1);
        if let Some(t) = self.threshold {
            let beyond = |x: f64| if upper { x > t } else { x < t };
            if beyond(entered) || left.is_some_and(beyond) {
                self.changed = true;
            }
        }
    }
}

/// The window of residuals and the SBP fitted to it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "ResidualRepr")]
pub(crate) struct ResidualModel {
    spec: ResidualSpec,
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
    spec: ResidualSpec,
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
}

impl TryFrom<ResidualRepr> for ResidualModel {
    type Error = Error;
    fn try_from(r: ResidualRepr) -> Result<Self> {
        let spec = r.spec;
        spec.validate()?;
        let invalid = |reason: &'static str| Err(Error::InvalidState { reason });
        // The window's copy of the settings.
        let mut window = r.window;
        window.check_settings(spec.window, spec.bins(), spec.half_life)?;
        if let Some(grid) = spec.fixed_bounds()
            && window.grid() != grid
        {
            return invalid("the window's grid differs from the fixed bounds");
        }
        let (low, high) = window.grid();
        let estimator = spec.sbp.body_estimator(low, high)?;
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
        if r.since_refit >= spec.refit_every {
            return invalid("the residual model's refit is overdue");
        }
        for cut in [r.truncation.0, r.truncation.1].into_iter().flatten() {
            crate::error::finite("truncation", cut)?;
        }
        if r.grid_wait > grid_retry(window.len()) {
            return invalid("the residual model's grid wait is longer than its window allows");
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
        room(&mut self.excess, points);
        room(&mut self.weights, points);
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
    pub(crate) fn new(spec: ResidualSpec, residuals: &[f64]) -> Result<Self> {
        let finite = residuals.iter().filter(|r| r.is_finite()).count();
        if finite == 0 {
            return Err(Error::TooFewObservations {
                what: "residual distribution",
                needed: 1,
                got: 0,
            });
        }
        let (low, high) = spec.fixed_bounds().unwrap_or((0.0, 1.0));
        let mut window = Window::new(spec.window, spec.bins(), low, high, spec.half_life)?;
        for &r in residuals.iter().filter(|r| r.is_finite()) {
            window.push(r);
        }
        let mut scratch = Scratch::default();
        if spec.fixed_bounds().is_none() {
            let (low, high) = auto_grid(&window, &spec, &mut scratch.sorted);
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
            estimator: spec.sbp.body_estimator(low, high)?,
            sbp,
            lower: TailState::NEW,
            upper: TailState::NEW,
            since_refit: 0,
            truncation: (None, None),
            grid_wait: 0,
            version: 0,
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
    pub(crate) fn spec(&self) -> &ResidualSpec {
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
        self.lower.note(false, r, left);
        self.upper.note(true, r, left);
        self.since_refit = self.since_refit.saturating_add(1);
        self.grid_wait = self.grid_wait.saturating_sub(1);
        if self.since_refit >= self.spec.refit_every {
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
        match self.spec.sbp.body_estimator(low, high) {
            Ok(estimator) => self.estimator = estimator,
            Err(_) => return false,
        }
        self.lower = TailState::NEW;
        self.upper = TailState::NEW;
        self.grid_wait = 0;
        self.refit();
        true
    }

    /// Declares that residuals below `lower` or above `upper` are kept out of the
    /// window (`None`: no such point), as an anomaly detector does with extreme
    /// observations. The tail fits then correct for the missing part of each tail
    /// (see the module notes, *Truncated tails*). Takes effect at the next refit.
    pub(crate) fn set_truncation(&mut self, lower: Option<f64>, upper: Option<f64>) {
        self.truncation = (lower, upper);
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
        // The window's grid may have moved outside a refit (a rescale).
        let mut rebuilt = self.sbp.body().support() != self.window.grid();
        if self.spec.fixed_bounds().is_none() && bins >= 8 && self.grid_wait == 0 {
            let (bl, bu) = (self.window.bin(tau_l), self.window.bin(tau_u));
            if bl == 0 || bu == bins - 1 || 4 * (bu - bl + 1) < bins {
                let (low, high) = auto_grid(&self.window, &self.spec, &mut self.scratch.sorted);
                let estimator = self.spec.sbp.body_estimator(low, high);
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
        let (lower, lower_state) = self.refit_tail(false, tau_l, rebuilt, width);
        let (upper, upper_state) = self.refit_tail(true, tau_u, rebuilt, width);
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
    /// or `None` if the window holds no weight.
    fn body(&mut self) -> Option<(f64, f64)> {
        let counts = self.window.counts();
        let total: f64 = counts.iter().sum();
        if !(total > 0.0 && total.is_finite()) {
            return None;
        }
        let (low, high) = self.window.grid();
        let (p_l, p_u) = self.spec.masses();
        let tau_l = lower_point(counts, total, low, high, p_l);
        let tau_u = upper_point(counts, total, low, high, p_u);
        let probs = &mut self.scratch.probs;
        probs.clear();
        probs.extend_from_slice(counts);
        self.estimator.probabilities_from_counts(probs).ok()?;
        align_thresholds(probs, low, high, (tau_l, tau_u), (p_l, p_u));
        Some((tau_l, tau_u))
    }

    /// The tail beyond `tau` and the tail's state after this refit: the current GPD
    /// again if its exceedances are exactly those of its last fit, else a new fit.
    fn refit_tail(
        &mut self,
        upper: bool,
        tau: f64,
        rebuilt: bool,
        bin_width: f64,
    ) -> (GeneralizedPareto, TailState) {
        let state = if upper { self.upper } else { self.lower };
        let due = state.since_global >= self.spec.window;
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
        let expected =
            mass * self.window.len() as f64 + self.spec.sbp.min_exceedance_count() as f64;
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
            let (gpd, start, walked) = self.fit_tail(upper, tau, state.start, global, bin_width);
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

    /// Fits one tail beyond `tau`; returns the GPD and the next warm start. With
    /// `global` the configured fitter runs as configured (its global scan included),
    /// otherwise it is a local search from `start`.
    fn fit_tail(
        &mut self,
        upper: bool,
        tau: f64,
        start: Option<Start>,
        global: bool,
        bin_width: f64,
    ) -> (GeneralizedPareto, Option<Start>, usize) {
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
        let imputed = impute_truncated(&current, cut, &mut s.excess, &mut s.weights);
        let weights = (imputed || self.window.is_weighted()).then_some(&s.weights[..]);
        // The fit runs on the exceedances in units of a power of two near the
        // largest (exact, and the same fit: the GPD is a scale family), so that no
        // sum overflows and no exceedance is too small to resolve next to the
        // largest, whatever the magnitude of the residuals.
        let (unit, inv) = excess_unit(&s.excess);
        for x in s.excess.iter_mut() {
            *x = (*x * inv).max(SMALLEST_SCALED_EXCESS);
        }
        let to_gpd = |shape: f64, scaled: f64| {
            GeneralizedPareto::new(shape, (scaled * unit).clamp(f64::MIN_POSITIVE, f64::MAX))
        };
        let to_start = |shape: f64, scaled: f64| Start {
            shape,
            scale: (scaled * unit).clamp(f64::MIN_POSITIVE, f64::MAX),
        };
        // The weighted mean excess: the exponential (ξ = 0) maximum-likelihood scale,
        // the fallback tail and the start of a fit that has nothing better.
        let (sum, total) = s
            .excess
            .iter()
            .zip(&s.weights)
            .fold((0.0, 0.0), |(a, b), (&x, &w)| (a + w * x, b + w));
        let mean = sum / total;
        let (lowest, highest) = self.spec.shape_range();
        if s.excess.len() >= self.spec.sbp.min_exceedance_count().max(2) {
            let configured = self.spec.sbp.gpd_setting();
            let local = configured.global(false);
            let fitted = match start {
                Some(st) => {
                    let fitter = if global { configured } else { local };
                    let scale = (st.scale * inv).max(f64::MIN_POSITIVE);
                    fitter.fit_with_start(&s.excess, weights, st.shape, scale)
                }
                None => configured.fit(&s.excess, weights),
            }
            .or_else(|_| local.fit_with_start(&s.excess, weights, 0.0, mean));
            if let Ok(est) = fitted {
                // The unconstrained optimum stays the warm start either way.
                let next = Some(to_start(est.shape, est.scale));
                let admissible = if est.shape > highest {
                    // The maximum over the admissible shapes, on the edge ξ = c
                    // unless the likelihood has a higher local maximum below it.
                    let floor = !self.spec.bounded_tails;
                    fit_max_shape(&s.excess, weights, highest, floor)
                        .ok()
                        .map(|b| (b.shape, b.scale))
                } else if est.shape >= lowest {
                    Some((est.shape, est.scale))
                } else {
                    None
                };
                // Whatever the fit returned, only an admissible shape is used.
                if let Some((shape, scale)) = admissible
                    && shape >= lowest
                    && shape <= highest
                    && let Ok(g) = to_gpd(shape, scale)
                {
                    return (g, next, walked);
                }
                // Floored at ξ = 0 (or a failed bounded fit): for a likelihood
                // unimodal in ξ the constrained maximum below the floor is the
                // exponential fit, whose scale is the mean excess.
                if let Ok(g) = to_gpd(0.0, mean) {
                    return (g, next, walked);
                }
            }
        }
        if let Ok(g) = to_gpd(0.0, mean) {
            return (g, start, walked);
        }
        // No exceedance: the current tail is kept if it is admissible.
        let shape = current.shape();
        if shape >= lowest && shape <= highest {
            return (current, start, walked);
        }
        let scale = if bin_width > 0.0 && bin_width.is_finite() {
            bin_width
        } else {
            1.0
        };
        (
            GeneralizedPareto::exponential(scale).unwrap_or(self_unit()),
            start,
            walked,
        )
    }
}

/// Scaled exceedances are at least this (relative to the largest, about 1): below,
/// a point is at the threshold for every purpose of the fit.
const SMALLEST_SCALED_EXCESS: f64 = 1e-300;

/// A power of two near the largest of `excess` and its inverse, both exact: the
/// unit the tail fits work in. 1 when there is no positive finite exceedance.
fn excess_unit(excess: &[f64]) -> (f64, f64) {
    let max = excess.iter().fold(0.0, |m: f64, &x| m.max(x));
    if !(max > 0.0 && max.is_finite()) {
        return (1.0, 1.0);
    }
    // The exponent of `max`, kept where both the unit and its inverse are normal.
    let e = max.log2().floor().clamp(-1000.0, 1000.0);
    (e.exp2(), (-e).exp2())
}

/// A tail whose fits walk more than twice its share of the window is refitted
/// at most once every `walked / THROTTLE` observations (see `refit_tail`).
const THROTTLE: usize = 64;

/// Imputed points per truncated tail.
const IMPUTED: usize = 4;

/// Appends to the exceedances `excess` (weights `weights`) the part of the tail
/// beyond `cut` that truncation removed, as `gpd` (the current fit) predicts it:
/// total weight `W S(cut) / F(cut)` (`W` the observed weight) at the
/// [`IMPUTED`] conditional quantiles `(j - 1/2) / IMPUTED` beyond `cut`. Returns
/// whether anything was added (not for a cut that is not positive and finite, nor
/// when no observed exceedance lies below it, nor when the predicted weight is
/// negligible).
fn impute_truncated(
    gpd: &GeneralizedPareto,
    cut: f64,
    excess: &mut Vec<f64>,
    weights: &mut Vec<f64>,
) -> bool {
    if !(cut > 0.0 && cut.is_finite()) || excess.is_empty() {
        return false;
    }
    let beyond = gpd.sf(cut);
    let observed: f64 = weights.iter().sum();
    let missing = observed * beyond / (1.0 - beyond);
    if !(missing > 1e-9 * observed && missing.is_finite()) {
        return false;
    }
    // Beyond the cut the GPD is again a GPD, with scale σ + ξ·cut.
    let Ok(rest) = GeneralizedPareto::new(gpd.shape(), gpd.scale() + gpd.shape() * cut) else {
        return false;
    };
    for j in 0..IMPUTED {
        let x = cut + rest.quantile((j as f64 + 0.5) / IMPUTED as f64);
        if x.is_finite() {
            excess.push(x);
            weights.push(missing / IMPUTED as f64);
        }
    }
    true
}

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

/// The unit exponential (for the unreachable case of a bad fallback scale).
fn self_unit() -> GeneralizedPareto {
    GeneralizedPareto::exponential(1.0).unwrap_or_else(|_| unreachable!("1 is a valid scale"))
}

/// The quantile at `p` of the binned law with unnormalised masses `probs` (sum
/// `total`) on equal-width bins over `[low, high]`, as [`Binned::quantile`] defines
/// it, without building one: [`lower_point`] for `p <= 1/2`, else [`upper_point`].
#[cfg(test)]
fn binned_quantile(probs: &[f64], total: f64, low: f64, high: f64, p: f64) -> f64 {
    if p <= 0.5 {
        lower_point(probs, total, low, high, p)
    } else {
        upper_point(probs, total, low, high, 1.0 - p)
    }
}

/// The point with mass `mass · total` of `probs` below it (see [`upper_point`]).
fn lower_point(probs: &[f64], total: f64, low: f64, high: f64, mass: f64) -> f64 {
    let k = probs.len();
    let width = (high - low) / k as f64;
    let edge = |i: usize| if i == k { high } else { low + width * i as f64 };
    let target = mass * total;
    let mut acc = 0.0;
    for (i, &m) in probs.iter().enumerate() {
        if acc + m >= target && m > 0.0 {
            let x = edge(i) + (target - acc) / m * width;
            return x.clamp(edge(i), edge(i + 1));
        }
        acc += m;
    }
    high
}

/// The point with mass `mass · total` of the unnormalised bin masses `probs` above
/// it, on equal-width bins over `[low, high]`, interpolated within its bin.
///
/// The masses are accumulated in count units from the top ([`lower_point`]: from
/// the bottom). With equal weights the counts are integers, so the sums are exact and
/// the point depends only on the bins at its own end of the grid: a point entering or
/// leaving the window on the other side does not move it, not even by a rounding
/// error, which lets a refit keep a tail whose exceedances have not changed.
fn upper_point(probs: &[f64], total: f64, low: f64, high: f64, mass: f64) -> f64 {
    let k = probs.len();
    let width = (high - low) / k as f64;
    let edge = |i: usize| if i == k { high } else { low + width * i as f64 };
    let target = mass * total;
    let mut acc = 0.0;
    for (i, &m) in probs.iter().enumerate().rev() {
        if acc + m >= target && m > 0.0 {
            let x = edge(i + 1) - (target - acc) / m * width;
            return x.clamp(edge(i), edge(i + 1));
        }
        acc += m;
    }
    low
}

/// Rescales the (normalised) body probabilities beyond the thresholds' bins so that
/// the body's quantiles at `p_l` and `1 - p_u` are exactly `τ_l` and `τ_u`, keeping
/// the bins between them as they are. With `a` and `b` the new masses below bin
/// `k_l` and above bin `k_u`, `I` the mass of bins `k_l..=k_u`, `f_l` the fraction of
/// bin `k_l` below `τ_l` and `g_u` that of bin `k_u` above `τ_u`, the conditions
/// `a + π_{k_l} f_l = p_l T` and `b + π_{k_u} g_u = p_u T` with `T = a + I + b` are two
/// linear equations in `a` and `b`. If their solution is not admissible (a negative
/// mass, or mass where there is no bin) the probabilities are left alone.
fn align_thresholds(probs: &mut [f64], low: f64, high: f64, tau: (f64, f64), p: (f64, f64)) {
    let k = probs.len();
    let scale = k as f64 / (high - low);
    let position = |x: f64| ((x - low) * scale).clamp(0.0, k as f64);
    let (xl, xu) = (position(tau.0), position(tau.1));
    let kl = (xl as usize).min(k - 1);
    let ku = (xu as usize).min(k - 1);
    let f_l = xl - kl as f64;
    let g_u = (ku + 1) as f64 - xu;
    let lower: f64 = probs[..kl].iter().sum();
    let upper: f64 = probs[ku + 1..].iter().sum();
    let inner: f64 = probs[kl..=ku].iter().sum();
    let (p_l, p_u) = p;
    let r1 = p_l * inner - probs[kl] * f_l;
    let r2 = p_u * inner - probs[ku] * g_u;
    let det = 1.0 - p_l - p_u;
    let a = ((1.0 - p_u) * r1 + p_l * r2) / det;
    let b = (p_u * r1 + (1.0 - p_l) * r2) / det;
    let admissible =
        |mass: f64, bins: usize| mass >= 0.0 && mass.is_finite() && (mass == 0.0 || bins > 0);
    if !(admissible(a, kl) && admissible(b, k - 1 - ku)) {
        return;
    }
    let spread = |region: &mut [f64], current: f64, target: f64| {
        if current > 0.0 {
            let factor = target / current;
            region.iter_mut().for_each(|q| *q *= factor);
        } else if !region.is_empty() {
            let each = target / region.len() as f64;
            region.iter_mut().for_each(|q| *q = each);
        }
    };
    spread(&mut probs[..kl], lower, a);
    spread(&mut probs[ku + 1..], upper, b);
}

/// The automatic grid for the window's current values (see the module notes).
fn auto_grid(window: &Window, spec: &ResidualSpec, sorted: &mut Vec<(f64, f64)>) -> (f64, f64) {
    sorted.clear();
    sorted.extend(window.iter());
    sorted.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = sorted.iter().map(|p| p.1).sum();
    let quantile = |p: f64| -> f64 {
        let target = p * total;
        let mut acc = 0.0;
        for &(x, w) in sorted.iter() {
            acc += w;
            if acc >= target {
                return x;
            }
        }
        sorted.last().map_or(0.0, |p| p.0)
    };
    let (p_l, p_u) = spec.masses();
    let q_l = quantile(p_l);
    let q_u = quantile(1.0 - p_u);
    let (min, max) = (
        sorted.first().map_or(0.0, |p| p.0),
        sorted.last().map_or(0.0, |p| p.0),
    );
    let magnitude = q_l.abs().max(q_u.abs());
    let mut span = q_u - q_l;
    if !(span > 0.0) {
        span = max - min;
    }
    // Bins must stay resolvable next to the magnitude of the values, and finite.
    let span = span.max(1e-9 * magnitude).clamp(1e-300, f64::MAX / 8.0);
    let low = (q_l - GRID_MARGIN * span).clamp(-f64::MAX / 4.0, f64::MAX / 4.0);
    let high = (q_u + GRID_MARGIN * span).clamp(-f64::MAX / 4.0, f64::MAX / 4.0);
    if low < high {
        (low, high)
    } else {
        // Values beyond ±MAX/4: a grid of the largest width that stays finite.
        let centre = (q_l / 2.0 + q_u / 2.0).clamp(-f64::MAX / 8.0, f64::MAX / 8.0);
        (centre - span / 2.0, centre + span / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    fn spec() -> ResidualSpec {
        ResidualSpec {
            sbp: SbpConfig::default(),
            window: 2000,
            half_life: None,
            refit_every: 1,
            bounded_tails: false,
            max_shape: None,
        }
    }

    #[test]
    fn binned_quantile_matches_binned() {
        let probs = [0.0, 3.0, 0.5, 0.0, 2.0, 1.5];
        let b = Binned::equal_width(-1.0, 2.0, probs.to_vec()).unwrap();
        for p in [0.01, 0.05, 0.3, 0.5, 0.52, 0.9, 0.95, 0.99, 0.999] {
            let q = binned_quantile(&probs, 7.0, -1.0, 2.0, p);
            assert!(
                (q - b.quantile(p)).abs() < 1e-14,
                "{p}: {q} vs {}",
                b.quantile(p)
            );
        }
    }

    #[test]
    fn aligned_body_quantiles_are_the_thresholds() {
        let mut rng = StdRng::seed_from_u64(9);
        for case in 0..200 {
            let k = 100;
            let mut probs: Vec<f64> = (0..k).map(|_| rng.random::<f64>() + 0.01).collect();
            let total: f64 = probs.iter().sum();
            probs.iter_mut().for_each(|p| *p /= total);
            let tau_l = rng.random_range(2.0..8.0);
            let tau_u = rng.random_range(12.0..18.0);
            align_thresholds(&mut probs, 0.0, 20.0, (tau_l, tau_u), (0.05, 0.1));
            let b = Binned::equal_width(0.0, 20.0, probs.clone()).unwrap();
            assert!((b.quantile(0.05) - tau_l).abs() < 1e-9, "case {case}");
            assert!((b.quantile(0.9) - tau_u).abs() < 1e-9, "case {case}");
        }
        // Inadmissible (the inner bins alone already hold more than p_l below τ_l):
        // left unchanged.
        let mut probs = vec![0.0, 0.9, 0.1];
        align_thresholds(&mut probs, 0.0, 3.0, (1.5, 2.5), (0.05, 0.05));
        assert_eq!(probs, [0.0, 0.9, 0.1]);
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
        let fitter = crate::fit::GpdFitter::default();
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
