//! Streaming anomaly detection against the rolling SBP forecast.
//!
//! Every new observation is scored by its tail probability under the forecast made
//! *before* it was seen: how likely a value at least this extreme was. The surprise
//! score is `-log10 p`, so a score of 3 means "a one-in-a-thousand event".

use serde::{Deserialize, Serialize};

use crate::checked::{Check, Checked, IntoChecked};
use crate::error::{Error, Result};
use crate::forecast::{ForecasterConfig, LocationModel, RollingForecaster};

mod atoms;
mod calibration;
mod regime;
mod resolution;
mod shapes;
mod slots;
mod spread;
mod tails;

use atoms::Atoms;
use calibration::Calibrator;
use regime::{Outcome, RegimeWatch, Relearn};
use resolution::Resolution;
use shapes::ShapeMemory;
use slots::SlotWatch;
use spread::SpreadWatch;
use tails::ScoringTails;

pub use calibration::MIN_CALIBRATION_EXPONENT;
pub use shapes::{SHAPE_HALF_LIFE, SHAPE_WITHIN_ERRORS};

/// Which tail(s) make an observation anomalous.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Side {
    /// Only unusually high values: `p = P(Y >= y)`.
    Upper,
    /// Only unusually low values: `p = P(Y <= y)`.
    Lower,
    /// Both: `p = min(1, 2 min(P(Y <= y), P(Y >= y)))`.
    #[default]
    TwoSided,
}

/// Configuration of an [`AnomalyDetector`].
///
/// | setter | default | meaning |
/// |---|---|---|
/// | [`forecaster`](Self::forecaster) | [`ForecasterConfig::default`] | the forecaster scored against |
/// | [`risk`](Self::risk) | `1e-3` | flag when the p-value is below this |
/// | [`side`](Self::side) | [`Side::TwoSided`] | which tails count |
/// | [`exclude_anomalies`](Self::exclude_anomalies) | `true` | keep extreme points out of the fit |
/// | [`exclusion_risk`](Self::exclusion_risk) | `max(risk, 1e-3)` | how extreme: p-value below this |
/// | [`max_excluded_run`](Self::max_excluded_run) | 25 | but admit a run of exclusions longer than this |
///
/// [`check`](Check::check) applies every rule once (the forecaster's included) and
/// gives the [`Checked<DetectorConfig>`](Checked), which reads each setting back by
/// its name: [`forecaster`](Checked::<DetectorConfig>::forecaster),
/// [`risk`](Checked::<DetectorConfig>::risk), [`side`](Checked::<DetectorConfig>::side),
/// [`exclude_anomalies`](Checked::<DetectorConfig>::exclude_anomalies),
/// [`exclusion_risk`](Checked::<DetectorConfig>::exclusion_risk) (the default
/// resolved), [`max_excluded_run`](Checked::<DetectorConfig>::max_excluded_run) and
/// [`impute_excluded`](Checked::<DetectorConfig>::impute_excluded).
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::{Check, DetectorConfig, ForecasterConfig, Side};
/// let config = DetectorConfig::default()
///     .forecaster(ForecasterConfig::default().window(500))
///     .risk(1e-4)
///     .side(Side::Upper)
///     .check()?;
/// assert_eq!((config.risk(), config.side()), (1e-4, Side::Upper));
/// // The exclusion level defaults to max(risk, 1e-3).
/// assert_eq!(config.exclusion_risk(), 1e-3);
/// assert_eq!(config.forecaster().window(), 500);
/// assert!(DetectorConfig::default().risk(1.5).check().is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectorConfig {
    forecaster: ForecasterConfig,
    risk: f64,
    side: Side,
    exclude_anomalies: bool,
    /// `None`: [`DEFAULT_EXCLUSION_RISK`] or the risk, whichever is larger. (Absent in
    /// configurations saved before the field existed, which then get the default.)
    #[serde(default)]
    exclusion_risk: Option<f64>,
    max_excluded_run: usize,
    /// Absent in configurations saved before the option existed: off.
    #[serde(default)]
    impute_excluded: bool,
    /// Absent in configurations saved before the option existed: off.
    #[serde(default)]
    predictive_tails: bool,
}

/// The bound on the residual tails' shape in [`DetectorConfig::default`]'s
/// forecaster: 3, where a forecaster alone is bounded at
/// [`DEFAULT_MAX_TAIL_SHAPE`](crate::forecast::DEFAULT_MAX_TAIL_SHAPE) (1).
///
/// A forecaster's bound keeps its forecasts' mean, and so their CRPS, finite
/// (`ξ < 1`). A detector needs the tail's probabilities, not its mean, and spikes
/// whose mean is infinite are real: on the stream of
/// `cargo run --release --example spot_stream` (10 % Lomax spikes of shape 2) a
/// bound of 1 makes the alarms 3.2–3.8 times the risk level at windows 1,000 and
/// 10,000; a bound of 3 brings them to 0.9–1.6 times. A forecaster configuration
/// passed to [`DetectorConfig::forecaster`] keeps its own bound.
pub const DETECTOR_MAX_TAIL_SHAPE: f64 = 3.0;

/// Extreme observations are admitted while the share of excluded ones over the last
/// window (exponentially weighted, half-life one window) is at least this (see
/// *Lock-out*): 50 times the default exclusion level, so that a burst of spikes
/// shorter than 5 % of the window is still kept out whole.
pub const MAX_EXCLUDED_SHARE: f64 = 0.05;

/// The budget of excluded observations that may enter the window at the exclusion
/// cut grows by the exclusion level per observation up to this (see *Exclusion*):
/// one, so that a burst gets one of its points in, at the cut, and no more.
const CLIP_BUDGET_CAP: f64 = 1.0;

/// The budget's cap with [`DetectorConfig::predictive_tails`]: three, so that
/// excluded observations the budget could not take at once (when fewer than
/// expected were excluded just before) still enter later. With entries at the cut
/// and a cap of 1 the budget only ever errs on the light side: a deficit of
/// excluded points is lost, an excess is dropped.
pub const PREDICTIVE_CLIP_BUDGET_CAP: f64 = 3.0;

/// The exclusion level used when none is set and the risk is smaller: see
/// [`DetectorConfig::exclusion_risk`].
pub const DEFAULT_EXCLUSION_RISK: f64 = 1e-3;

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            forecaster: Self::default_forecaster(),
            risk: 1e-3,
            side: Side::TwoSided,
            exclude_anomalies: true,
            exclusion_risk: None,
            max_excluded_run: 25,
            impute_excluded: false,
            predictive_tails: false,
        }
    }
}

impl DetectorConfig {
    /// The forecaster configuration of [`DetectorConfig::default`]:
    /// [`ForecasterConfig::default`] with its tail-shape bound raised to
    /// [`DETECTOR_MAX_TAIL_SHAPE`]. Start from it to change the detector's window or
    /// location model and keep that bound.
    ///
    /// ```
    /// use tailcast::{DetectorConfig, LocationModel};
    /// let forecaster = DetectorConfig::default_forecaster()
    ///     .window(200)
    ///     .location(LocationModel::Level);
    /// let config = DetectorConfig::default().forecaster(forecaster);
    /// # let _ = config;
    /// ```
    pub fn default_forecaster() -> ForecasterConfig {
        ForecasterConfig::default().max_tail_shape(DETECTOR_MAX_TAIL_SHAPE)
    }

    /// The forecaster whose one-step forecasts the observations are scored against
    /// (default: [`default_forecaster`](Self::default_forecaster); a configuration
    /// passed here is used as it is: start from `default_forecaster()` to keep the
    /// detector's tail-shape bound).
    pub fn forecaster(mut self, config: ForecasterConfig) -> Self {
        self.forecaster = config;
        self
    }

    /// The risk level in (0, 1): an observation whose p-value is below it is flagged.
    /// It is the false-alarm rate per observation when the forecasts are calibrated.
    pub fn risk(mut self, risk: f64) -> Self {
        self.risk = risk;
        self
    }

    /// Which tail(s) count.
    pub fn side(mut self, side: Side) -> Self {
        self.side = side;
        self
    }

    /// Whether extreme observations (p-value below the
    /// [`exclusion_risk`](Self::exclusion_risk), which includes every flagged one) are
    /// kept out of the location model and the fitting window (default `true`), so
    /// that a burst of spikes does not teach the model that spikes are normal. An
    /// excluded observation is treated as missing, except that as many as a
    /// calibrated forecast expects enter the window at the exclusion cut (see
    /// [`AnomalyDetector`]'s *Exclusion*).
    pub fn exclude_anomalies(mut self, on: bool) -> Self {
        self.exclude_anomalies = on;
        self
    }

    /// The p-value below which an observation is kept out of the fit (when
    /// [`exclude_anomalies`](Self::exclude_anomalies) is on), in `[risk, 1)`. By
    /// default it is `max(risk, 1e-3)` ([`DEFAULT_EXCLUSION_RISK`]).
    ///
    /// It is separate from the alarm level because lowering the risk to get fewer
    /// alarms must not let more spikes in: an observation with a p-value between the
    /// two is not worth an alarm but is still far too extreme to be taken as a sample
    /// of the noise. Admitted, a few such points fatten the fitted tail (on the
    /// bundled sample at risk `1e-4`, the upper tail's shape reaches 1.2 and the band
    /// explodes), which then hides later spikes. At the default risk `1e-3` the two
    /// levels coincide. A looser level protects more but withholds more genuine
    /// noise: under a calibrated forecast a fraction `exclusion_risk` of ordinary
    /// observations is excluded, the most extreme ones, which thins the fitted tails
    /// (at `1e-3` and 5 % tails, the top 2 % of each tail's exceedances).
    pub fn exclusion_risk(mut self, p: f64) -> Self {
        self.exclusion_risk = Some(p);
        self
    }

    /// After this many consecutive excluded observations, extreme points are admitted
    /// again (until one that is not extreme resets the count), so that a genuine level
    /// shift is eventually learned instead of being flagged forever. 0 admits every
    /// point.
    pub fn max_excluded_run(mut self, n: usize) -> Self {
        self.max_excluded_run = n;
        self
    }

    /// Whether the tail fits add back the part of each tail that exclusion keeps
    /// out of the window (default `false`).
    ///
    /// Excluded observations are the most extreme ones, so a window without them
    /// is a *truncated* sample: fitted as if complete, its tails come out lighter
    /// than the data's, the band narrows and more observations are flagged (on
    /// heavy-tailed noise without any anomaly, 2–4 times the risk level). With this
    /// option the forecaster is told where the exclusion points are and each tail
    /// refit adds back, at the current fit's conditional quantiles beyond them, the
    /// weight that fit says lies there: one step of the EM algorithm for truncated
    /// data per refit, which converges to the truncated maximum-likelihood fit.
    ///
    /// Measured with `cargo run --release --example real_world` (false alarms per
    /// 10,000 clean points, default detector → with this option): level shifts
    /// under Student-t noise 22 → 15, normal bursts 9.6 → 2.7, drifting scale
    /// 13 → 6. The price is paid when anomalies are frequent and moderate: the
    /// truncated fit lets the tail shape drift up until the band reaches them, and
    /// then they are learned (in `tests/anomaly_detection.rs`'s paper-like series
    /// with ±10 anomalies every 100–300 steps, recall falls from 0.90 to 0.26).
    /// Off by default for that reason.
    pub fn impute_excluded(mut self, on: bool) -> Self {
        self.impute_excluded = on;
        self
    }

    /// Scores the tails with *predictive* tails instead of the fitted ones (off by
    /// default): each GPD tail (with its remembered shape, see [`AnomalyDetector`]'s
    /// *p-values*) averaged over the sampling error of that shape (`(1 + ξ̂)/√n` for
    /// `n` exceedances), which the fitted tail, plugged in as if exact, leaves out.
    /// With it, excluded observations enter the window beyond the exclusion cut, at
    /// depths spread over the predictive tail there (instead of at the cut), and up
    /// to [`PREDICTIVE_CLIP_BUDGET_CAP`] of them may wait for the budget (see
    /// *Exclusion* in [`AnomalyDetector`]).
    ///
    /// Why: on heavy-tailed noise without anomalies the fitted tails are too light
    /// where alarms are raised, and excluding the extremes makes them lighter. On
    /// Student-t(4) noise (`cargo run --release --example heavy_tail_calibration`,
    /// windows 100, 1,000 and 10,000, hard and with a half-life of half the
    /// window, seeds 1–3), the share of flagged points is 1.8–1.9 times the risk
    /// level at risk 1e-3 and 3.5–4.5 times at 1e-4 by default, 0.9–1.1 and
    /// 0.6–1.2 times with this option; on Student-t(2.5) at 1e-3, 1.8–2.7 and
    /// 0.9–1.3 times. On lighter tails it is conservative: Student-t(10) 0.6–0.9
    /// times (default 1.0–1.1), Gaussian 0.2–0.3 (default 0.4–0.6).
    ///
    /// The price is masking: the band is wider and the excluded anomalies' count
    /// enters the window beyond the cut, so anomalies that are both moderate and
    /// frequent are learned. In `tests/anomaly_detection.rs` (anomalies every
    /// 100–300 steps, five times the risk level), recall falls from 0.99 to 0.09
    /// for ±12 on Student-t(4) and from 0.996 to 0.92 for ±6 sd on Gaussian noise;
    /// the bundled sample at risk 1e-4 catches 10 of its 20 anomalies instead of
    /// 15. Off by default for that reason: the default keeps the protection
    /// against masking and accepts nearly twice the nominal alarms on Student-t(4)
    /// noise. Turn it on for heavy-tailed series whose anomalies are rarer than
    /// the exclusion level (one in 1,000 by default).
    pub fn predictive_tails(mut self, on: bool) -> Self {
        self.predictive_tails = on;
        self
    }
}

impl Check for DetectorConfig {
    /// # Errors
    ///
    /// [`Error::ProbabilityOutOfRange`] for a risk outside (0, 1) or an exclusion risk
    /// outside `[risk, 1)`, and the errors of [`ForecasterConfig`]'s check.
    fn check(&self) -> Result<Checked<Self>> {
        if !(self.risk > 0.0 && self.risk < 1.0) {
            return Err(Error::ProbabilityOutOfRange {
                name: "risk",
                value: self.risk,
                expected: "(0, 1)",
            });
        }
        if let Some(p) = self.exclusion_risk
            && !(p >= self.risk && p < 1.0)
        {
            return Err(Error::ProbabilityOutOfRange {
                name: "exclusion_risk",
                value: p,
                expected: "[risk, 1)",
            });
        }
        self.forecaster.check()?;
        Ok(Checked::after_check(self.clone()))
    }
}

impl Checked<DetectorConfig> {
    /// The forecaster configuration (checked with this one).
    pub fn forecaster(&self) -> Checked<ForecasterConfig> {
        Checked::after_check(self.config().forecaster.clone())
    }

    /// The risk level.
    pub fn risk(&self) -> f64 {
        self.config().risk
    }

    /// The side.
    pub fn side(&self) -> Side {
        self.config().side
    }

    /// Whether extreme observations are kept out of the fit (see
    /// [`DetectorConfig::exclude_anomalies`]).
    pub fn exclude_anomalies(&self) -> bool {
        self.config().exclude_anomalies
    }

    /// The p-value below which observations are kept out of the fit (the default
    /// resolved: `max(risk, 1e-3)` unless set), whether or not exclusion is on.
    pub fn exclusion_risk(&self) -> f64 {
        let c = self.config();
        c.exclusion_risk
            .unwrap_or(c.risk.max(DEFAULT_EXCLUSION_RISK))
    }

    /// The longest run of consecutive exclusions (see
    /// [`DetectorConfig::max_excluded_run`]).
    pub fn max_excluded_run(&self) -> usize {
        self.config().max_excluded_run
    }

    /// Whether excluded observations are imputed in the tail fits (see
    /// [`DetectorConfig::impute_excluded`]).
    pub fn impute_excluded(&self) -> bool {
        self.config().impute_excluded
    }

    /// Whether the tails are scored with predictive tails (see
    /// [`DetectorConfig::predictive_tails`]).
    pub fn predictive_tails(&self) -> bool {
        self.config().predictive_tails
    }

    /// The most excluded observations the budget may hold (see *Exclusion* in
    /// [`AnomalyDetector`]).
    fn clip_budget_cap(&self) -> f64 {
        if self.predictive_tails() {
            PREDICTIVE_CLIP_BUDGET_CAP
        } else {
            CLIP_BUDGET_CAP
        }
    }
}

/// What the detector says about one observation. Small and `Copy`.
///
/// With serde, the float fields that may be infinite or NaN are written as the
/// strings `"inf"`, `"-inf"` and `"NaN"` in JSON (which has no such numbers),
/// so a verdict reads back bit for bit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The tail probability of the observation under the forecast made before it was
    /// seen (upper, lower or two-sided as configured; see [`AnomalyDetector`]'s
    /// *p-values*). NaN while warming up and for a missing observation; otherwise in
    /// `[SMALLEST_P_VALUE, 1]`, never 0.
    #[serde(with = "crate::nonfinite")]
    pub p_value: f64,
    /// The surprise `-log10 p` (3 = one in a thousand), computed from the
    /// logarithm of the p-value, so finite and strictly ranking even where
    /// `p_value` is clamped at [`SMALLEST_P_VALUE`]; NaN when `p_value` is.
    #[serde(with = "crate::nonfinite")]
    pub score: f64,
    /// `p_value < risk`. Never set while warming up or for a missing observation.
    pub is_anomaly: bool,
    /// The predicted band: an observation outside `[lower, upper]` is an anomaly (one
    /// side is infinite for a one-sided detector). Infinite while warming up.
    #[serde(with = "crate::nonfinite")]
    pub lower: f64,
    /// Upper end of the predicted band.
    #[serde(with = "crate::nonfinite")]
    pub upper: f64,
    /// The forecast's location (NaN while warming up).
    #[serde(with = "crate::nonfinite")]
    pub location: f64,
    /// The tail the p-value was measured in: [`Side::Upper`] for an observation on
    /// the high side, [`Side::Lower`] on the low side. A one-sided detector always
    /// measures its own tail; a two-sided one the nearer tail (`Lower` when
    /// `P(Y <= y) < P(Y >= y)`, else `Upper`), so for an alarm it says whether the
    /// value was too high or too low. [`Side::TwoSided`] when nothing was scored
    /// (warm-up, missing value).
    #[serde(default)]
    pub side: Side,
    /// No forecast existed yet: the detector is still collecting its warm-up.
    pub warming_up: bool,
    /// The observation was missing (NaN).
    pub missing: bool,
    /// The observation's value was kept out of the model: exclusion is on and its
    /// p-value is below the [exclusion level](DetectorConfig::exclusion_risk) (every
    /// anomaly, and observations almost extreme enough to be one), within the limits
    /// of [`AnomalyDetector`]'s *Lock-out*. It may have entered the window at the
    /// exclusion cut instead (see *Exclusion* there).
    pub excluded: bool,
    /// This observation completed a persistent shift of the level: eight in a row
    /// beyond the one-sided 1 % point of the same tail. The location has been
    /// re-anchored on the new level (by the median residual of the run) from the
    /// next forecast on, or, for a shift of many noise scales, since the fourth of
    /// the eight (see [`AnomalyDetector`]'s *Regime changes*); the change is
    /// reported once, on this observation. (Absent in verdicts saved before the
    /// field existed: `false`.)
    #[serde(default)]
    pub regime_change: bool,
}

impl Verdict {
    fn unscored(warming_up: bool, missing: bool, location: f64) -> Self {
        Self {
            p_value: f64::NAN,
            score: f64::NAN,
            is_anomaly: false,
            lower: f64::NEG_INFINITY,
            upper: f64::INFINITY,
            location,
            side: Side::TwoSided,
            warming_up,
            missing,
            excluded: false,
            regime_change: false,
        }
    }
}

/// A streaming anomaly detector: a [`RollingForecaster`] plus a tail-probability test
/// of each observation against the forecast made before it.
///
/// [`update`](Self::update) scores `y` against the current forecast, then feeds it to
/// the forecaster (unless exclusion is on and its p-value is below the
/// [exclusion level](DetectorConfig::exclusion_risk), which every flagged point's is). No alarm is raised
/// during the forecaster's warm-up. The detector's whole state serialises with serde,
/// and a detector restored mid-stream produces bit-identical verdicts.
///
/// # Missing and infinite values
///
/// NaN is a missing observation: its verdict has `missing` set and no p-value, time
/// moves on (see [`RollingForecaster`]'s *Missing data*) and nothing is learned.
/// `±∞` is an error ([`Error::InfiniteObservation`]) that leaves the detector
/// unchanged. Finite values of any size are scored and never make the state
/// non-finite.
///
/// # p-values
///
/// The p-value of `y` is its tail probability under the forecast (one-sided, or
/// twice the nearer tail's), with the tails as the detector scores them:
///
/// * **remembered tail shapes**: beyond the body's thresholds the forecast's
///   generalized Pareto tails are scored with their shape averaged over the fits
///   of the last windows (half-life [`SHAPE_HALF_LIFE`] windows, weighted by the
///   exceedances each fit had) and kept within [`SHAPE_WITHIN_ERRORS`] standard
///   errors of the newest fit, and the scale that keeps the newest fit's median
///   excess. A shape fitted to 50 exceedances moves by about 0.2 from one refit to
///   the next, which far out changes a p-value a hundredfold: the same extreme
///   value would be an alarm after one refit and ordinary after the next. On
///   Student-t(4) noise with ±12 anomalies every 100–300 steps (seven seeds) the
///   recall rises from 0.87–0.98 to 0.975–0.99 at the same false-alarm rate (see
///   [`SHAPE_HALF_LIFE`]). The forecaster's own forecasts keep the newest fit.
///
/// then:
///
/// * **never 0**: beyond the end point of a bounded tail (only with
///   [`allow_bounded_tails`](ForecasterConfig::allow_bounded_tails)) the tail is
///   scored as the exponential tail of the same mass and scale, so the p-value keeps
///   decreasing with the distance; a p-value below [`SMALLEST_P_VALUE`] is reported
///   as that value, and its `score` (computed from the logarithm) keeps the ranking.
///   Every finite observation gets `p > 0` and a finite score.
/// * **mid-p for atoms**: a value that recurs exactly (zeros of a count series, a
///   stuck reading) and makes up a share `f` of recent observations (at least 1 %, at
///   least five recent occurrences) gets at least `f` (two-sided) or `f / 2`
///   (one-sided): `P(Y < y) + P(Y = y) / 2` with the atom's empirical mass. A
///   continuous forecast cannot put mass on a point; without this an ordinary zero
///   can look impossibly low.
/// * **at a resolution**: never below the p-value of a normal law whose standard
///   deviation is a millionth of the forecast locations' mean absolute deviation
///   (exponentially weighted, half-life one window; the locations, not the values,
///   so that heavy-tailed spikes do not widen it). On a series without noise the
///   residual law collapses to the location model's rounding errors, and a change
///   in those is not an anomaly (a clean sine: 29 alarms in 4,032 points before,
///   none after); on data with noise the floor lies deep inside the body.
/// * **recalibrated**: small p-values are raised by a factor measured on the
///   stream ([`calibration_factor`](Self::calibration_factor) at the risk level,
///   1 to 10), so that the share of alarms stays near the risk when the
///   forecast's tails are too light. A generalized Pareto tail fitted to the 50
///   exceedances of a 1,000-point window is too light where alarms are raised:
///   under Student-t(4) noise the fitted shape is about 0.17 (the law's is 0.25,
///   reached only far beyond the 95 % threshold) and `p < 10⁻³` is seen 1.6 times
///   as often as it should be, three times once the flagged points are kept out.
///   The shares of p-values in two bands just below the risk level
///   (`[risk / 9, risk / 3)` and `[risk / 3, risk)`) measure that directly, and
///   how it grows further out: the factor at a p-value below the risk level
///   follows the power law the two bands show, growing at most as
///   `(risk / p)^(1 - MIN_CALIBRATION_EXPONENT)` (see
///   [`MIN_CALIBRATION_EXPONENT`]). Its price: anomalies that are both frequent
///   (several times the risk level) and moderate (p-values in those bands) read
///   as miscalibration, and some are then missed (Gaussian noise with ±4 sd
///   anomalies every ~200 points: recall 0.53 → 0.42); anomalies far beyond the
///   bands do not move it.
///
/// # Regime changes
///
/// Eight observations in a row beyond the one-sided 1 % point of the same tail, with
/// surprises `-log10 p` adding up to 2 beyond that level on average, are a
/// persistent shift: the location is re-anchored on the median residual of the run
/// (reported once, in [`Verdict::regime_change`]); if the run is more spread than the
/// residual law by more than [`SCALE_CHANGE`], the residual window is rescaled to it;
/// then, for [`RELEARN_LEN`] observations, nothing is excluded and the spread is
/// checked again (rescaled if off by more than [`SCALE_CHECK`]). A change of scale
/// with the level unchanged is seen as two-sided excursions: six of the last sixteen
/// observations beyond the two-sided 1 % point, at least two on each side (by chance
/// about once in 10⁸ steps); it is reported the same way and the window is rescaled
/// to the spread of the newest eight (a variance five times larger: about 100
/// alarms before, 6–10 with the scale watch). A window with almost no spread (more
/// than [`MAX_RESCALE`] times narrower than the new regime, say after a flat start)
/// cannot be scaled up to it: it restarts from the run's residuals instead (a
/// sensor that comes alive after 1,500 flat values: 123–174 alarms before, 18–41). A patch of spikes on one side breaks
/// off and is no change of level; six or more in sixteen steps on both sides are a
/// change of scale.
///
/// A shift of many noise scales is seen sooner: four observations whose surprises
/// already add up to 16 beyond the 1 % level (`p = 10⁻⁶` each on average), grouped
/// tightly (their median at least four median absolute deviations of theirs from
/// the old level), make a *provisional* change: the forecasts move to the new level
/// at once (rescaled if the four are more spread, beyond [`SCALE_CHANGE`]), but
/// alarms are still raised against the old level and nothing is reported. The next
/// four residuals decide: if one of them is back nearer the old level, it was a
/// burst and the level (and scale) move back; otherwise the change is confirmed,
/// reported, and its scale judged on all eight (rescaled beyond [`SCALE_CHECK`]).
/// So alarms and reports are those of the eight-observation rule (bursts of four
/// to seven observations far out: every point flagged, no change reported,
/// `tests/anomaly_detection.rs`), and the forecasts are four steps earlier at the
/// new level: on the two-regime series of `cargo run --release --example
/// real_world` (seeds 1–6, `-- 20000 auto regime 1-6`), one-step CRPS against the
/// oracle's 1.12 → 1.08 and skaters / tailcast 0.97 → 1.01.
///
/// # Exclusion
///
/// An observation whose p-value is below the
/// [`exclusion_risk`](DetectorConfig::exclusion_risk) is kept out of the location
/// model and the residual window (see [`DetectorConfig::exclude_anomalies`]). Kept
/// out entirely, the window would lose exactly its most extreme genuine values (a
/// share `exclusion level` of ordinary observations under a calibrated forecast),
/// its tails would come out lighter, the band narrower, and more would be excluded.
/// So the excluded observations that a calibrated forecast expects are counted in
/// but not their values: a budget grows by the exclusion level at every observation
/// (at most to one), and while it holds one, an excluded observation enters the
/// window *at the exclusion cut* of its side (the residual where the forecast's
/// p-value is the exclusion level) and spends it. The tails keep their count beyond
/// the cut; no excluded value, however far out, enters; and anomalies more frequent
/// than the exclusion level cannot add more than a calibrated forecast's share at
/// the cut. Measured with `cargo run --release --example real_world` (false alarms
/// per 10,000 clean points, before → after): level shifts under Student-t noise
/// 26.4 → 19.8, normal bursts 9.6 → 5.9, drifting scale 12.2 → 10.1; the bundled
/// sample at risk 1e-4 catches 16 of its 20 anomalies (15 before; 15 since the
/// tails are scored with their remembered shapes). Not done with
/// [`impute_excluded`](DetectorConfig::impute_excluded), which corrects the fit
/// for the whole truncation instead. With
/// [`predictive_tails`](DetectorConfig::predictive_tails) the entries go beyond the
/// cut, spread over the predictive tail there, and the budget holds up to
/// [`PREDICTIVE_CLIP_BUDGET_CAP`].
///
/// # Lock-out
///
/// Excluding flagged observations protects the fit from a burst of spikes but could
/// lock a wrong model in: everything it flags stays out, so it never learns. Four
/// things prevent that, each aimed at one way it happens: a level that moved is a
/// regime change (above); a run of more than
/// [`max_excluded_run`](DetectorConfig::max_excluded_run) exclusions is admitted; a
/// slot of a seasonal profile that is excluded three cycles running with consistent
/// residuals (a wrong profile entry, say from a warm-up with more spikes than values
/// at that time of day) is corrected by their median; and extreme observations are
/// admitted while more than [`MAX_EXCLUDED_SHARE`] (5 %) of the recent ones
/// (exponentially weighted, half-life one window) were excluded. The last is for
/// spikes that are normal but too frequent for the window to hold them once the
/// first ones are kept out (libspot's stream, 10 % Lomax spikes, window 100: over
/// 100 alarms per 1,000 points without it, 32 with it; see the README): it is set
/// high, at 50 times the exclusion level, because a bound on the share lets a burst
/// in exactly when the burst is longest, and a burst shorter than 5 % of the window
/// is still kept out whole.
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::{AnomalyDetector, DetectorConfig, ForecasterConfig};
///
/// let config = DetectorConfig::default().forecaster(ForecasterConfig::default().window(200));
/// let mut detector = AnomalyDetector::new(config)?;
/// for t in 0..400 {
///     let y = ((t * 7919) % 1009) as f64 / 1009.0; // uniform-looking noise on [0, 1)
///     let v = detector.update(y)?;
///     assert!(!v.is_anomaly);
/// }
/// let v = detector.update(25.0)?;
/// assert!(v.is_anomaly && v.score > 3.0 && v.upper < 25.0);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "DetectorRepr")]
pub struct AnomalyDetector {
    config: Checked<DetectorConfig>,
    forecaster: RollingForecaster,
    excluded_run: usize,
    calibrator: Calibrator,
    regime: RegimeWatch,
    atoms: Atoms,
    /// The relearning period after a regime change.
    relearn: Relearn,
    /// Runs of exclusions per slot of a seasonal location.
    slots: SlotWatch,
    /// The band in residual units and the residual version it was computed for: a
    /// cache, not serialised (it may hold infinities, which JSON cannot), recomputed
    /// identically after a restore since version 0 never matches a fitted SBP.
    #[serde(skip, default = "open_band")]
    band: (f64, f64),
    /// The raw p-value the band was computed for (see calibration).
    #[serde(skip)]
    band_raw_risk: f64,
    /// The recent share of excluded observations (see *Lock-out*).
    #[serde(default)]
    excluded_share: f64,
    /// The locations' running spread, for the resolution floor (see *p-values*).
    #[serde(default)]
    resolution: Resolution,
    /// Two-sided excursions, for changes of scale (see *Regime changes*).
    #[serde(default)]
    spread: SpreadWatch,
    /// Excluded observations that may still enter the window at the exclusion cut
    /// (see *Exclusion*).
    #[serde(default)]
    clip_budget: f64,
    /// The exclusion cut in residual units for the cached band's version, once
    /// computed (see [`exclusion_cut`]).
    #[serde(skip)]
    cut: Option<(f64, f64)>,
    /// `ln` of the exclusion level (derived from the config).
    #[serde(skip)]
    ln_exclusion: f64,
    /// The weight of the newest observation in averages with a half-life of one
    /// window (derived from the config).
    #[serde(skip)]
    window_weight: f64,
    #[serde(skip)]
    band_version: u64,
    /// The tails scored with, for the cached band's version: the residual law's
    /// with the remembered shapes (see *p-values*), mixed over their error with
    /// [`DetectorConfig::predictive_tails`].
    #[serde(skip)]
    tails: ScoringTails,
    /// Excluded observations entered beyond the cut so far: the index of the next
    /// one's depth (see [`DetectorConfig::predictive_tails`]).
    #[serde(default)]
    entered: u64,
    /// The recent fitted shapes of the residual law's tails (see *p-values*).
    #[serde(default)]
    shapes: ShapeMemory,
}

/// The deserialised form of [`AnomalyDetector`], checked before it is used.
#[derive(Debug, Deserialize)]
struct DetectorRepr {
    /// Checked as it is read.
    config: Checked<DetectorConfig>,
    forecaster: RollingForecaster,
    excluded_run: usize,
    /// Absent in detectors saved before recalibration existed: a fresh one.
    #[serde(default)]
    calibrator: Option<Calibrator>,
    /// Absent in detectors saved before regime changes were detected: no run.
    #[serde(default)]
    regime: RegimeWatch,
    /// Absent in detectors saved before atoms were tracked: an empty table.
    #[serde(default)]
    atoms: Option<Atoms>,
    #[serde(default)]
    relearn: Relearn,
    #[serde(default)]
    slots: SlotWatch,
    /// Absent in detectors saved before the share was bounded: none excluded.
    #[serde(default)]
    excluded_share: f64,
    #[serde(default)]
    clip_budget: f64,
    #[serde(default)]
    resolution: Resolution,
    #[serde(default)]
    spread: SpreadWatch,
    #[serde(default)]
    entered: u64,
    /// Absent in detectors saved before the shapes were remembered: none.
    #[serde(default)]
    shapes: ShapeMemory,
}

impl TryFrom<DetectorRepr> for AnomalyDetector {
    type Error = Error;
    fn try_from(r: DetectorRepr) -> Result<Self> {
        if r.forecaster.config() != &r.config.forecaster() {
            return Err(Error::InvalidState {
                reason: "the forecaster's config differs from the detector's",
            });
        }
        // A run of exclusions is no longer than the steps seen, and can always grow
        // by one.
        if r.excluded_run as u64 > r.forecaster.steps() || r.excluded_run == usize::MAX {
            return Err(Error::InvalidState {
                reason: "the run of excluded observations is longer than the stream",
            });
        }
        let atoms = match r.atoms {
            Some(a) if a == a.with_half_life(atom_half_life(&r.config))? => a,
            Some(_) => {
                return Err(Error::InvalidState {
                    reason: "the atom table's half-life differs from the window",
                });
            }
            None => Atoms::new(atom_half_life(&r.config))?,
        };
        let calibrator = match r.calibrator {
            Some(c) => {
                if c.risk() != r.config.risk() {
                    return Err(Error::InvalidState {
                        reason: "the p-value calibration was made for another risk",
                    });
                }
                c
            }
            None => Calibrator::new(r.config.risk())?,
        };
        if !(0.0..=1.0).contains(&r.excluded_share) {
            return Err(Error::InvalidState {
                reason: "the share of excluded observations is outside [0, 1]",
            });
        }
        if !(0.0..=r.config.clip_budget_cap()).contains(&r.clip_budget) {
            return Err(Error::InvalidState {
                reason: "the budget of clipped observations is outside [0, its cap]",
            });
        }
        r.resolution.check()?;
        r.shapes.check(r.forecaster.steps())?;
        let ln_exclusion = r.config.exclusion_risk().ln();
        let window_weight = window_weight(&r.config);
        Ok(Self {
            excluded_share: r.excluded_share,
            resolution: r.resolution,
            spread: r.spread,
            clip_budget: r.clip_budget,
            cut: None,
            config: r.config,
            forecaster: r.forecaster,
            excluded_run: r.excluded_run,
            calibrator,
            regime: r.regime,
            atoms,
            relearn: r.relearn,
            slots: r.slots,
            band: open_band(),
            band_raw_risk: 0.0,
            ln_exclusion,
            window_weight,
            band_version: 0,
            tails: ScoringTails::default(),
            entered: r.entered,
            shapes: r.shapes,
        })
    }
}

/// The weight of the newest observation in averages with a half-life of one window.
fn window_weight(config: &Checked<DetectorConfig>) -> f64 {
    let window = config.forecaster().window() as f64;
    -(-std::f64::consts::LN_2 / window).exp_m1()
}

fn open_band() -> (f64, f64) {
    (f64::NEG_INFINITY, f64::INFINITY)
}

impl AnomalyDetector {
    /// A detector in its warm-up.
    ///
    /// # Errors
    ///
    /// The errors of [`DetectorConfig`]'s [`check`](Check::check), unless `config` is
    /// already checked.
    pub fn new(config: impl IntoChecked<DetectorConfig>) -> Result<Self> {
        let config = config.into_checked()?;
        let forecaster = RollingForecaster::new(config.forecaster())?;
        let atoms = Atoms::new(atom_half_life(&config))?;
        let ln_exclusion = config.exclusion_risk().ln();
        let window_weight = window_weight(&config);
        Ok(Self {
            calibrator: Calibrator::new(config.risk())?,
            config,
            forecaster,
            excluded_run: 0,
            regime: RegimeWatch::default(),
            atoms,
            relearn: Relearn::default(),
            slots: SlotWatch::default(),
            excluded_share: 0.0,
            resolution: Resolution::default(),
            spread: SpreadWatch::default(),
            clip_budget: CLIP_BUDGET_CAP,
            cut: None,
            band: open_band(),
            band_raw_risk: 0.0,
            ln_exclusion,
            window_weight,
            band_version: 0,
            tails: ScoringTails::default(),
            entered: 0,
            shapes: ShapeMemory::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Checked<DetectorConfig> {
        &self.config
    }

    /// The forecaster (for its forecast, location model, window).
    pub fn forecaster(&self) -> &RollingForecaster {
        &self.forecaster
    }

    /// The factor the forecast's p-value at the risk level is currently multiplied
    /// by (between 1 and 10): the online recalibration that keeps the share of
    /// alarms at the risk level when the forecast's tails are too light. It is
    /// measured on the stream, with a half-life of `100 / risk` observations and
    /// updated every 64, in bands: the share of p-values between `risk` and
    /// `30 · risk` (prior: `20 / risk` calibrated observations) gives a factor for
    /// every p-value up to `30 · risk`; the shares between `risk / 9` and `risk`
    /// (prior: `10 / risk`) give one at `risk` that grows below it as a power law
    /// (at most as `(risk / p)^(1 - MIN_CALIBRATION_EXPONENT)`, and to 10) and
    /// fades to 1 at `30 · risk` above it. The larger applies; above `30 · risk` the
    /// factor fades to 1 at `p = 1`. See the calibration notes in the type's docs
    /// for what the bands below the risk level cost.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> Result<(), tailcast::Error> {
    /// use tailcast::{AnomalyDetector, DetectorConfig};
    /// let detector = AnomalyDetector::new(DetectorConfig::default())?;
    /// assert_eq!(detector.calibration_factor(), 1.0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn calibration_factor(&self) -> f64 {
        self.calibrator.factor()
    }

    /// Scores `y` against the forecast made before it, then learns from it.
    ///
    /// # Errors
    ///
    /// [`Error::InfiniteObservation`] for `±∞` (the state is unchanged). NaN is a
    /// missing value: its verdict has `missing` set and time moves on.
    #[inline]
    pub fn update(&mut self, y: f64) -> Result<Verdict> {
        if y.is_infinite() {
            return Err(Error::InfiniteObservation { value: y });
        }
        let version = self.forecaster.residual_version();
        let forecast = match self.forecaster.forecast() {
            Ok(f) => f,
            Err(_) => {
                self.forecaster.observe(y)?;
                self.atoms.record(y);
                return Ok(Verdict::unscored(true, y.is_nan(), f64::NAN));
            }
        };
        let location = forecast.location();
        if y.is_nan() {
            self.forecaster.observe(y)?;
            return Ok(Verdict::unscored(false, true, location));
        }
        let residual = forecast.residual();
        let new_law = version != self.band_version;
        let mut new_cut = None;
        if new_law {
            let forecaster = self.config.forecaster();
            let needed = forecaster.residual_sbp().exceedances_needed();
            let n = effective_len(&self.forecaster);
            self.shapes.absorb(
                residual,
                version,
                self.forecaster.steps(),
                n,
                needed,
                SHAPE_HALF_LIFE * forecaster.window() as f64,
            );
            let predictive = self
                .config
                .predictive_tails()
                .then(|| (n, needed, forecaster.max_tail_shape()));
            self.tails = ScoringTails::new(residual, self.shapes.shapes(), predictive);
            self.band_version = version;
            // Computed when an excluded observation needs it (rarely).
            self.cut = None;
            if self.config.exclude_anomalies() && self.config.impute_excluded() {
                // Excluded observations are missing from the window beyond these
                // points: the tail fits correct for it.
                let finite = |x: f64| x.is_finite().then_some(x);
                let cut = exclusion_cut(&mut self.cut, &self.tails, &self.config, residual);
                new_cut = Some((finite(cut.0), finite(cut.1)));
            }
        }
        // Flagged iff the raw p-value is below this (see calibration), which
        // moves with the calibration as well as with the law.
        let raw_risk = self.calibrator.raw_risk();
        if new_law || raw_risk != self.band_raw_risk {
            self.band = band(&self.tails, residual, self.config.side(), raw_risk);
            self.band_raw_risk = raw_risk;
        }
        let r = y - location;
        let tails = &self.tails;
        let (ln_p, side) = ln_p_value(tails, residual, r, self.config.side());
        // The nearer tail for the regime watch, whatever the configured side.
        let (ln_near, upper) = match self.config.side() {
            Side::TwoSided => (ln_p - std::f64::consts::LN_2, side == Side::Upper),
            _ => {
                let (nearer, side) = ln_nearer_tail(tails, residual, r);
                (nearer, side == Side::Upper)
            }
        };
        // Deviations far below the values' own spread are not evidence.
        let ln_p = ln_p.max(self.resolution.ln_floor(r, self.config.side()));
        let near_side = if upper { Side::Upper } else { Side::Lower };
        let ln_near = ln_near.max(self.resolution.ln_floor(r, near_side));
        self.resolution.record(location, self.window_weight);
        // A frequent exact value gets its mid-p-value (see atoms).
        let share = self.atoms.share_then_record(y);
        let (ln_p, ln_near) = if share >= atoms::MIN_SHARE {
            let one_sided = (share / 2.0).ln();
            let floor = match self.config.side() {
                Side::TwoSided => share.ln(),
                Side::Upper | Side::Lower => one_sided,
            };
            (ln_p.max(floor), ln_near.max(one_sided))
        } else {
            (ln_p, ln_near)
        };
        // After a provisional change of level (see *Regime changes*) the
        // forecasts are at the new level but alarms are raised against the old one
        // until the change is confirmed (a burst shorter than a full run raises
        // the alarms it did before); the change's own residuals decide it, not
        // the watches.
        let provisional = self.regime.provisional();
        let completed = self.regime.complete(r);
        let shift = if provisional.is_some() {
            None
        } else {
            self.regime.observe(r, ln_near, upper)
        };
        // During a relearning period the scale is checked at its end instead.
        let widened = if self.relearn.is_on() {
            None
        } else {
            self.spread.observe(r, ln_near, upper)
        };
        let raw_ln_p = ln_p;
        let (alarm_ln_p, side) = match provisional {
            Some(moved) => {
                let (old, side) = ln_p_value(&self.tails, residual, r + moved, self.config.side());
                (
                    old.max(self.resolution.ln_floor(r + moved, self.config.side())),
                    side,
                )
            }
            None => (raw_ln_p, side),
        };
        // The band the alarm is raised against (the old level's while provisional).
        let band_centre = location - provisional.unwrap_or(0.0);
        let ln_p = self.calibrator.ln_calibrated(alarm_ln_p);
        self.calibrator.record(alarm_ln_p);
        // The p-value never underflows to 0 (the score keeps the full ranking).
        let p_value = ln_p.exp().max(SMALLEST_P_VALUE);
        let score = -ln_p * std::f64::consts::LOG10_E;
        let is_anomaly = p_value < self.config.risk();
        // Exclusion follows the forecast's own p-value: recalibration (which
        // learns from the stream, anomalies included) must not let spikes in.
        let extreme = raw_ln_p < self.ln_exclusion;
        let relearning = self.relearn.is_on();
        let relearned = self.relearn.observe(r);
        let exclude = extreme
            && !relearning
            && self.config.exclude_anomalies()
            && self.excluded_run < self.config.max_excluded_run()
            && self.excluded_share < MAX_EXCLUDED_SHARE;
        let weight = self.window_weight;
        self.excluded_share += weight * (f64::from(u8::from(exclude)) - self.excluded_share);
        if extreme {
            self.excluded_run += 1;
        } else {
            self.excluded_run = 0;
        }
        let mut verdict = Verdict {
            p_value,
            score: score + 0.0, // -0.0 for p = 1 reads better as 0
            is_anomaly,
            lower: band_centre + self.band.0,
            upper: band_centre + self.band.1,
            location,
            side,
            warming_up: false,
            missing: false,
            excluded: exclude,
            regime_change: false,
        };
        let step = self.forecaster.steps();
        self.clip_budget =
            (self.clip_budget + self.config.exclusion_risk()).min(self.config.clip_budget_cap());
        // The observation moved to the cut, or beyond it with predictive tails (on
        // hostile data the sum may overflow: then it is only excluded).
        let enters = exclude && !self.config.impute_excluded() && self.clip_budget >= 1.0;
        let entry = if !enters {
            f64::NAN
        } else if self.config.predictive_tails() {
            entry_beyond_cut(
                &mut self.entered,
                &self.tails,
                &self.config,
                residual,
                upper,
            )
        } else {
            let cut = exclusion_cut(&mut self.cut, &self.tails, &self.config, residual);
            if upper { cut.1 } else { cut.0 }
        };
        let clipped = location + entry;
        if enters && clipped.is_finite() {
            // As many as a calibrated forecast puts beyond the cut enter the window,
            // at the cut: the tails keep their count, the values stay out.
            self.clip_budget -= 1.0;
            self.forecaster.observe(clipped)?;
        } else if exclude {
            self.forecaster.observe_excluded(y)?;
        } else {
            self.forecaster.observe(y)?;
        }
        // A season slot excluded cycle after cycle is a wrong profile entry.
        if let LocationModel::Seasonal { period } = self.forecaster.location_model()
            && let Some(delta) = self.slots.observe(period, step, exclude, upper, r)
        {
            self.forecaster.shift_last_season_slot(delta);
        }
        if let Some((lower, upper)) = new_cut {
            self.forecaster.set_residual_truncation(lower, upper);
        }
        if let Some(change) = shift
            && self.forecaster.shift_location(change.shift)
        {
            self.excluded_run = 0;
            self.regime.reset();
            self.spread.reset();
            if change.is_provisional() {
                // Reported once the next residuals confirm it; the window is
                // scaled up to a wider run meanwhile.
                let factor = self.rescale_to(change.spread, &[], SCALE_CHANGE);
                self.regime.await_confirmation(&change, factor);
            } else {
                verdict.regime_change = true;
                self.follow_scale(change.spread, &change.noise, SCALE_CHANGE);
            }
        } else if let Some(outcome) = completed {
            match outcome {
                Outcome::Confirmed { spread, noise } => {
                    verdict.regime_change = true;
                    self.excluded_run = 0;
                    // Half of these residuals were not selected for being far
                    // out: a smaller excess of spread is trusted.
                    self.follow_scale(spread, &noise, SCALE_CHECK);
                }
                Outcome::Reverted { shift, rescaled } => self.undo_change(shift, rescaled),
            }
        } else if let Some((spread, noise)) = widened {
            // A change of scale, not the provisional change of level.
            if let Some((shift, rescaled)) = self.regime.cancel() {
                self.undo_change(shift, rescaled);
            }
            verdict.regime_change = true;
            self.excluded_run = 0;
            self.regime.reset();
            self.follow_scale(spread, &noise, SCALE_CHANGE);
        } else if let Some((spread, share)) = relearned {
            self.check_scale(spread, share);
        }
        Ok(verdict)
    }

    /// After a regime change: if the run is more spread than the residual law by
    /// more than [`SCALE_CHANGE`], rescales the residual window to it (see
    /// [`RollingForecaster::rescale_residuals`]), then starts the relearning period.
    /// The run's spread is a median absolute deviation of eight values, compared
    /// with the law's interquartile half-width. Only a larger spread is trusted: the
    /// run is selected for being beyond the old law's 1 % point, which after a
    /// moderate shift truncates the new regime and makes it look narrower.
    fn follow_scale(&mut self, run_spread: f64, noise: &[f64], threshold: f64) {
        self.rescale_to(run_spread, noise, threshold);
        self.start_relearning();
    }

    /// Rescales the residual window up to `run_spread` if the law is narrower by
    /// more than `threshold` (or restarts it from `noise`, if not empty, when the
    /// law has almost no spread); returns the factor applied (1 if none).
    fn rescale_to(&mut self, run_spread: f64, noise: &[f64], threshold: f64) -> f64 {
        let Ok(forecast) = self.forecaster.forecast() else {
            return 1.0;
        };
        let (_, spread) = centre_and_spread(forecast.residual());
        let factor = run_spread / spread;
        // A law with (almost) no spread, say from a flat stretch, cannot be scaled up
        // to the new noise: the window restarts from the run's residuals.
        let degenerate = !(factor <= MAX_RESCALE) && run_spread > 0.0;
        let restarted = degenerate && !noise.is_empty() && self.forecaster.restart_residuals(noise);
        if !restarted && factor.is_finite() && factor > threshold {
            let factor = factor.min(MAX_RESCALE);
            self.forecaster.rescale_residuals(factor);
            return factor;
        }
        1.0
    }

    /// Moves the level back by `shift` and scales the residual window back by
    /// `1 / rescaled`: a provisional change that did not hold.
    fn undo_change(&mut self, shift: f64, rescaled: f64) {
        self.forecaster.shift_location(-shift);
        if rescaled != 1.0 {
            self.forecaster.rescale_residuals(1.0 / rescaled);
        }
    }

    /// Starts the relearning period on the current residual law.
    fn start_relearning(&mut self) {
        if let Ok(forecast) = self.forecaster.forecast() {
            let (centre, spread) = centre_and_spread(forecast.residual());
            self.relearn = Relearn::start(centre, spread);
        }
    }

    /// At the end of the relearning period: `share` of its residuals fell outside
    /// `centre ± spread`, where half should have. If the new regime is the law
    /// scaled by `k`, `share = P(|R - centre| > spread / k)`; `k` is solved with the
    /// current law's quantiles and the window rescaled by it when it is off by
    /// more than [`SCALE_CHECK`] either way.
    fn check_scale(&mut self, spread: f64, share: f64) {
        let Ok(forecast) = self.forecaster.forecast() else {
            return;
        };
        let law = forecast.residual();
        let g = share.clamp(0.02, 0.98);
        let half_width = (law.quantile(1.0 - g / 2.0) - law.quantile(g / 2.0)) / 2.0;
        let factor = spread / half_width;
        if factor.is_finite()
            && factor > 0.0
            && !(1.0 / SCALE_CHECK..=SCALE_CHECK).contains(&factor)
        {
            self.forecaster
                .rescale_residuals(factor.clamp(1.0 / MAX_RESCALE, MAX_RESCALE));
        }
    }

    /// Scores a batch: `out[i]` is the verdict of `ys[i]` (no allocation).
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`] if the slices differ in length (nothing is scored),
    /// [`Error::InfiniteObservation`] at the first infinite value (the values before it
    /// have been scored and learned).
    pub fn score_into(&mut self, ys: &[f64], out: &mut [Verdict]) -> Result<()> {
        if ys.len() != out.len() {
            return Err(Error::LengthMismatch {
                name: "out",
                expected: ys.len(),
                got: out.len(),
            });
        }
        for (o, &y) in out.iter_mut().zip(ys) {
            *o = self.update(y)?;
        }
        Ok(())
    }

    /// Scores a batch into a new vector.
    ///
    /// # Errors
    ///
    /// As [`score_into`](Self::score_into).
    pub fn score(&mut self, ys: &[f64]) -> Result<Vec<Verdict>> {
        let mut out = vec![Verdict::unscored(true, false, f64::NAN); ys.len()];
        self.score_into(ys, &mut out)?;
        Ok(out)
    }
}

/// A regime change whose run is more (or less) spread than the residual law by
/// more than this factor rescales the residual window: an eight-point median
/// absolute deviation is within ±50 % of the truth most of the time.
pub const SCALE_CHANGE: f64 = 1.5;

/// The relearning period after a regime change, in observations: nothing is
/// excluded, and the scale is checked at its end.
pub const RELEARN_LEN: u32 = regime::RELEARN;

/// At the end of the relearning period (the 100 observations after a regime
/// change, when nothing is excluded) the window is rescaled if the period's spread
/// differs from the residual law's by more than this factor (the share measured on
/// 100 observations fixes the scale to about ±10 %).
pub const SCALE_CHECK: f64 = 1.25;

/// The median and interquartile half-width of a residual law.
fn centre_and_spread(law: &crate::SplicedBinnedPareto) -> (f64, f64) {
    (
        law.quantile(0.5),
        (law.quantile(0.75) - law.quantile(0.25)) / 2.0,
    )
}

/// The largest rescaling at one regime change.
pub const MAX_RESCALE: f64 = 1e3;

/// The half-life of the atom counts: one forecaster window.
fn atom_half_life(config: &Checked<DetectorConfig>) -> f64 {
    config.forecaster().window().max(1) as f64
}

/// The smallest p-value reported: the smallest positive `f64`. A more extreme
/// observation keeps its rank through its (finite) score.
pub const SMALLEST_P_VALUE: f64 = 5e-324;

/// `ln P(R >= r)` (upper) or `ln P(R <= r)` (lower) for the residual law, finite for
/// every finite `r`.
///
/// Beyond the end point of a bounded tail (shape `ξ < 0`, only with
/// [`allow_bounded_tails`](crate::ForecasterConfig::allow_bounded_tails)) the
/// fitted law gives probability 0, which would tie every such value at an infinite
/// score. There the tail is scored as the exponential tail of the same scale and
/// mass (the `ξ = 0` member of the family, whose end point is at infinity): the
/// p-value keeps decreasing with the distance from the threshold, at least as fast
/// as the bounded tail did inside its support. The same rule applies if a tail's
/// p-value underflows: the result is clamped to a finite logarithm.
#[inline]
fn ln_tail(tails: &ScoringTails, sbp: &crate::SplicedBinnedPareto, r: f64, side: Side) -> f64 {
    let r = r.clamp(-f64::MAX, f64::MAX);
    if let Some(ln_p) = tails.ln_tail(r, side != Side::Lower) {
        return ln_p;
    }
    let ln_p = match side {
        Side::Lower => sbp.ln_cdf(r),
        _ => sbp.ln_sf(r),
    };
    if ln_p > f64::NEG_INFINITY || r.is_nan() {
        return ln_p;
    }
    let (tail, excess) = match side {
        Side::Lower => (sbp.lower_tail(), sbp.lower_threshold() - r),
        _ => (sbp.upper_tail(), r - sbp.upper_threshold()),
    };
    let exponential = tail.mass().ln() - excess.max(0.0) / tail.gpd().scale();
    exponential.max(-f64::MAX)
}

/// The nearer tail's log-probability ([`ln_tail`] of the side with the smaller
/// probability) and that side, with one logarithm in the body.
#[inline]
fn ln_nearer_tail(tails: &ScoringTails, sbp: &crate::SplicedBinnedPareto, r: f64) -> (f64, Side) {
    let r = r.clamp(-f64::MAX, f64::MAX);
    let (ln_p, upper) = sbp.ln_nearer_tail(r);
    let side = if upper { Side::Upper } else { Side::Lower };
    if let Some(mixed) = tails.ln_tail(r, upper) {
        (mixed, side)
    } else if ln_p > f64::NEG_INFINITY || r.is_nan() {
        (ln_p, side)
    } else {
        (ln_tail(tails, sbp, r, side), side)
    }
}

/// `ln p` of residual `r` for the configured side (two-sided: twice the nearer
/// tail) and the side it came from.
#[inline(always)]
fn ln_p_value(
    tails: &ScoringTails,
    law: &crate::SplicedBinnedPareto,
    r: f64,
    side: Side,
) -> (f64, Side) {
    match side {
        Side::Upper => (ln_tail(tails, law, r, Side::Upper), Side::Upper),
        Side::Lower => (ln_tail(tails, law, r, Side::Lower), Side::Lower),
        Side::TwoSided => {
            let (nearer, side) = ln_nearer_tail(tails, law, r);
            ((std::f64::consts::LN_2 + nearer).min(0.0), side)
        }
    }
}

/// The band in residual units for a side and risk level (the scoring tails'
/// quantiles where they reach).
fn band(
    tails: &ScoringTails,
    sbp: &crate::SplicedBinnedPareto,
    side: Side,
    risk: f64,
) -> (f64, f64) {
    let lower = |p: f64| tails.quantile(p, false).unwrap_or_else(|| sbp.quantile(p));
    let upper = |p: f64| {
        tails
            .quantile(p, true)
            .unwrap_or_else(|| sbp.quantile(1.0 - p))
    };
    match side {
        Side::Upper => (f64::NEG_INFINITY, upper(risk)),
        Side::Lower => (lower(risk), f64::INFINITY),
        Side::TwoSided => (lower(risk / 2.0), upper(risk / 2.0)),
    }
}

/// The exclusion cut of `residual` (the law of the cached band's version, scored
/// with `tails`): the residuals where the p-value is the exclusion level,
/// computed once per version, when first needed.
fn exclusion_cut(
    cache: &mut Option<(f64, f64)>,
    tails: &ScoringTails,
    config: &Checked<DetectorConfig>,
    residual: &crate::SplicedBinnedPareto,
) -> (f64, f64) {
    *cache.get_or_insert_with(|| band(tails, residual, config.side(), config.exclusion_risk()))
}

/// With predictive tails: where the next excluded observation enters on its
/// side, at the point beyond the cut where the predictive tail holds a share
/// `u` of the exclusion level's probability; `u` runs through the golden-ratio
/// sequence `{(k + 1/2) φ⁻¹}` (evenly spread, deterministic, one counter of
/// state), so that the entries together follow the tail beyond the cut instead
/// of piling up at it (which pulls the fitted shape down).
fn entry_beyond_cut(
    entered: &mut u64,
    tails: &ScoringTails,
    config: &Checked<DetectorConfig>,
    residual: &crate::SplicedBinnedPareto,
    upper: bool,
) -> f64 {
    const INV_PHI: f64 = 0.618_033_988_749_894_9;
    let u = ((*entered as f64 + 0.5) * INV_PHI).fract().max(1e-3);
    *entered = entered.wrapping_add(1);
    let side = if upper { Side::Upper } else { Side::Lower };
    let level = match config.side() {
        Side::TwoSided => config.exclusion_risk() / 2.0,
        _ => config.exclusion_risk(),
    } * u;
    let one_sided = band(tails, residual, side, level);
    if upper { one_sided.1 } else { one_sided.0 }
}

/// The effective number of residuals in the forecaster's window, `(Σw)²/Σw²`
/// (the window's length without decay); no allocation.
fn effective_len(forecaster: &RollingForecaster) -> f64 {
    if forecaster.config().half_life().is_none() {
        return forecaster.window_len() as f64;
    }
    let (sum, squares) = forecaster
        .residual_weights()
        .fold((0.0, 0.0), |(s, q), w| (s + w, q + w * w));
    if squares > 0.0 {
        sum * sum / squares
    } else {
        0.0
    }
}
