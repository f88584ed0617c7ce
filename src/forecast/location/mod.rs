//! Robust location models: the moving centre that the residual SBP is added to.
//!
//! Every model is a one-step filter that never lets one observation move it by more
//! than a bounded amount. It keeps a running robust scale `s` of its one-step errors
//! (the mean absolute error with errors clipped at `3 s`, smoothed with weight
//! [`SCALE_SMOOTHING`](filter::SCALE_SMOOTHING)) and feeds each error `r` to its state only through the
//! redescending `ψ(r)`: `r` while `|r| <= c`, tapering linearly to 0 at `2c`, and 0
//! beyond, with `c = k s` and `k` the configured clip. A spike therefore moves a level
//! by at most `α c`, and a large one not at all: 15 % of spikes (the paper's data) do
//! not drag the location. (A constant offset of the location would not matter anyway:
//! the residual SBP absorbs it.) A genuine level shift is learned once the running
//! scale, which grows by a factor `1 + 2·SCALE_SMOOTHING` per large error, has
//! caught up with it, or at once after five consecutive rejected errors on the same
//! side, which restart the scale at the size of the error.
//!
//! * **Level**: `ℓ += α ψ`; with the adaptive level (the default), three such levels
//!   at `α/3, α, 3α` and the one with the smallest recent errors forecasts (see
//!   [`pace`]).
//! * **Seasonal**: level plus a seasonal profile, a robust additive Holt–Winters
//!   recursion: `ℓ += α ψ`, `S[phase] += γ (1 - α) ψ`.
//! * **Autoregressive**: `z_t = c + Σ φ_i z_{t-i}` on the *cleaned* series
//!   `z_t = prediction + ψ` (a spike enters the lags as the prediction, so it cannot
//!   propagate into the next forecasts), re-estimated periodically by Huber
//!   IRLS on the last `W` cleaned values. A fit whose recursion would explode is
//!   shrunk back to spectral radius 1 (a unit root, which a random walk needs, is kept).
//! * **Auto**: see [`LocationModel::Auto`].
//!
//! A missing (or excluded) observation moves the clock (the seasonal phase advances,
//! the autoregression imputes its own prediction as the lag) but changes nothing else.
//!
//! One file per idea: [`filter`] (the robust filter shared by every model: `ψ`, the
//! running scale, the level and seasonal starts), [`pace`] (the adaptive level),
//! [`autoregression`] (the robust AR and its numerics), [`auto`] (the automatic
//! choice) and [`period`] (season-length detection). This file holds the public
//! enum and the dispatching [`Location`].

mod auto;
mod autoregression;
mod filter;
mod pace;
mod period;
#[cfg(test)]
mod testing;

use serde::{Deserialize, Serialize};

use self::autoregression::Ar;
use self::pace::Pace;
use crate::checked::{Check, Checked, IntoChecked};
use crate::error::{Error, Result};
use crate::numeric::saturate;

/// The most lags an autoregression may have.
pub const MAX_LAGS: usize = 64;

/// The longest seasonal period (`2^30` steps): its warm-up of three periods then
/// stays far from overflowing a count.
pub const MAX_PERIOD: usize = 1 << 30;

/// The phase after `phase` in a season of `len`: `(phase + 1) % len` for the
/// `phase < len` a state keeps (checked when restored), without a division per step.
#[inline]
fn next_phase(phase: usize, len: usize) -> usize {
    if phase + 1 >= len { 0 } else { phase + 1 }
}

/// A seasonal model's warm-up in periods: the profile starts from per-phase medians,
/// and a median of three values is the first that ignores one spike.
const SEASONAL_WARMUP_PERIODS: usize = 3;

/// An autoregression's warm-up per parameter (`lags` coefficients and the
/// intercept): ten points per parameter, the usual floor for a regression.
const AR_WARMUP_PER_PARAMETER: usize = 10;

/// The automatic choice's warm-up: two halves of 20, each enough for the first fold
/// to start an `Autoregressive { lags: 1 }` (which needs 20).
const AUTO_WARMUP: usize = 40;

/// The location model of a [`RollingForecaster`](crate::RollingForecaster): what the
/// forecast is centred on before the residual SBP is added.
///
/// All models are robust (see the module notes in the README): a spike moves them by
/// a bounded amount, so a window with 15 % spikes is not dragged around.
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::{Check, ForecasterConfig, LocationModel};
/// let config = ForecasterConfig::default()
///     .window(500)
///     .location(LocationModel::Seasonal { period: 24 })
///     .check()?;
/// assert_eq!(config.location(), LocationModel::Seasonal { period: 24 });
/// assert!(LocationModel::Seasonal { period: 1 }.check().is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum LocationModel {
    /// No location: the SBP is fitted to the observations themselves.
    None,
    /// A robust local level (Huber-clipped exponential smoothing).
    Level,
    /// A robust local level plus a seasonal profile of `period` steps (robust additive
    /// Holt–Winters). Needs a warm-up of at least three periods.
    Seasonal {
        /// The season length in time steps, 2 to [`MAX_PERIOD`].
        period: usize,
    },
    /// A robust autoregression with intercept on the last `lags` cleaned observations
    /// (1 to [`MAX_LAGS`]), refitted by Huber IRLS on the window.
    Autoregressive {
        /// The number of lags.
        lags: usize,
    },
    /// Chosen from the warm-up data (the default of
    /// [`ForecasterConfig`](crate::ForecasterConfig)). Candidates, in order of
    /// preference: `Level`, `Autoregressive { lags: 1 }`, `Autoregressive { lags: 2
    /// }` and, if a robust autocorrelation of the warm-up data has a clear peak near
    /// some lag, `Seasonal { period: m }` with `m` the period within ±20 % of the peak
    /// that folds the warm-up best (the exact period matters: one lag off, the
    /// profile drifts a lag per cycle), then a multiple of `m` whose autocorrelation
    /// is clearly higher (a week of hourly data whose days differ). Each is
    /// initialised on the first half of the warm-up (more if three periods of a
    /// season need it) and scored by its clipped mean absolute one-step error on the
    /// rest, forward and backward in time (honest, out-of-sample); the first
    /// candidate within 10 % of the best score wins, so anything but the level needs
    /// a clear gain. A warm-up of fewer than 200 observations is too short for a fair
    /// contest and gets the level. `None` is never chosen: it could not follow, nor
    /// be re-anchored after, a level shift.
    #[default]
    Auto,
}

impl Check for LocationModel {
    /// # Errors
    ///
    /// [`Error::InvalidCount`] for a seasonal `period` outside `[2, MAX_PERIOD]` or
    /// `lags` outside `[1, MAX_LAGS]`.
    fn check(&self) -> Result<Checked<Self>> {
        match *self {
            Self::Seasonal { period } if !(2..=MAX_PERIOD).contains(&period) => {
                Err(Error::InvalidCount {
                    name: "period",
                    value: period,
                    expected: "in [2, 2^30]",
                })
            }
            Self::Autoregressive { lags } if !(1..=MAX_LAGS).contains(&lags) => {
                Err(Error::InvalidCount {
                    name: "lags",
                    value: lags,
                    expected: "in [1, 64]",
                })
            }
            _ => Ok(Checked::after_check(*self)),
        }
    }
}

impl LocationModel {
    /// The fewest warm-up time steps the model needs to initialise.
    pub(crate) fn min_warmup(&self) -> usize {
        match *self {
            Self::None => 1,
            Self::Level => 2,
            Self::Seasonal { period } => period.saturating_mul(SEASONAL_WARMUP_PERIODS),
            Self::Autoregressive { lags } => AR_WARMUP_PER_PARAMETER * (lags + 1),
            Self::Auto => AUTO_WARMUP,
        }
    }
}

/// The tuning shared by the location models (validated by the forecaster's config).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct Tuning {
    /// Level smoothing `α` in (0, 1].
    pub(crate) level: f64,
    /// Seasonal smoothing `γ` in (0, 1].
    pub(crate) seasonal: f64,
    /// Huber clip `k` in scales.
    pub(crate) clip: f64,
    /// Whether the level adapts its smoothing (see [`pace`]); absent in states saved
    /// before the option existed, which had a fixed level.
    #[serde(default)]
    pub(crate) adaptive: bool,
}

/// A running location model.
///
/// The per-model work lives in the sibling files; this type only dispatches.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "LocationRepr")]
pub(crate) struct Location {
    tuning: Tuning,
    /// Running robust scale of one-step errors.
    scale: f64,
    /// The one-step prediction for the next time step (cached).
    prediction: f64,
    /// Consecutive rejected errors, signed by side.
    #[serde(default)]
    rejected: i32,
    state: State,
    /// The adaptive level's members, for a level model with adaptive smoothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pace: Option<Pace>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
enum State {
    Zero,
    Level {
        level: f64,
    },
    Seasonal {
        level: f64,
        profile: Vec<f64>,
        phase: usize,
    },
    Autoregressive(Ar),
}

/// The deserialised form of [`Location`], checked before it is used.
#[derive(Debug, Deserialize)]
struct LocationRepr {
    tuning: Tuning,
    scale: f64,
    prediction: f64,
    #[serde(default)]
    rejected: i32,
    state: State,
    #[serde(default)]
    pace: Option<Pace>,
}

impl TryFrom<LocationRepr> for Location {
    type Error = Error;
    fn try_from(r: LocationRepr) -> Result<Self> {
        for (name, value) in [
            ("level_smoothing", r.tuning.level),
            ("seasonal_smoothing", r.tuning.seasonal),
        ] {
            if !(value > 0.0 && value <= 1.0) {
                return Err(Error::ProbabilityOutOfRange {
                    name,
                    value,
                    expected: "(0, 1]",
                });
            }
        }
        crate::error::positive("robust_clip", r.tuning.clip)?;
        crate::error::positive("scale", r.scale)?;
        if r.scale > filter::MAX_SCALE {
            return Err(Error::InvalidState {
                reason: "the location's running scale is beyond its bound",
            });
        }
        if r.rejected.unsigned_abs() >= filter::SHIFT_RUN {
            return Err(Error::InvalidState {
                reason: "the location's run of rejected errors is too long",
            });
        }
        crate::error::finite("prediction", r.prediction)?;
        match &r.state {
            State::Zero | State::Autoregressive(_) => {}
            State::Level { level } => {
                crate::error::finite("level", *level)?;
            }
            State::Seasonal {
                level,
                profile,
                phase,
            } => {
                crate::error::finite("level", *level)?;
                LocationModel::Seasonal {
                    period: profile.len(),
                }
                .check()?;
                crate::error::all_finite("profile", profile)?;
                if *phase >= profile.len() {
                    return Err(Error::InvalidCount {
                        name: "phase",
                        value: *phase,
                        expected: "< period",
                    });
                }
            }
        }
        let level_model = matches!(r.state, State::Level { .. });
        match &r.pace {
            Some(pace) if level_model && r.tuning.adaptive => pace.check()?,
            None if !(level_model && r.tuning.adaptive) => {}
            _ => {
                return Err(Error::InvalidState {
                    reason: "the adaptive level's members do not match the location model",
                });
            }
        }
        Ok(Self {
            tuning: r.tuning,
            scale: r.scale,
            prediction: r.prediction,
            rejected: r.rejected,
            state: r.state,
            pace: r.pace,
        })
    }
}

impl Location {
    /// Initialises `model` (resolving [`LocationModel::Auto`]) from warm-up data (time
    /// order, NaN = missing), runs the filter over the same data and writes one
    /// residual per time step into `residuals` (NaN for missing steps). `window` is the
    /// autoregression's fitting window and `ar_refit_every` its refit period.
    ///
    /// # Errors
    ///
    /// [`Error::TooFewObservations`] if the data are shorter than the model needs or
    /// hold fewer than two observations; the model's check errors unless it is
    /// already checked.
    pub(crate) fn initialise(
        model: impl IntoChecked<LocationModel>,
        data: &[f64],
        tuning: Tuning,
        window: usize,
        ar_refit_every: usize,
        residuals: &mut Vec<f64>,
    ) -> Result<Self> {
        let model = *model.into_checked()?.config();
        let observed = data.iter().filter(|x| x.is_finite()).count();
        let needed = model.min_warmup();
        if data.len() < needed || observed < 2 {
            return Err(Error::TooFewObservations {
                what: "location model",
                needed: needed.max(2),
                got: observed.min(data.len()),
            });
        }
        let model = match model {
            LocationModel::Auto => auto::choose(data, tuning, window),
            m => m,
        };
        let mut loc = Self::start(model, data, tuning, window, ar_refit_every);
        residuals.clear();
        for &y in data {
            if y.is_finite() {
                residuals.push(loc.observe(y));
            } else {
                loc.skip();
                residuals.push(f64::NAN);
            }
        }
        Ok(loc)
    }

    /// The initial state of a resolved model from `data`, before filtering.
    fn start(
        model: LocationModel,
        data: &[f64],
        tuning: Tuning,
        window: usize,
        ar_refit_every: usize,
    ) -> Self {
        let finite: Vec<f64> = data.iter().copied().filter(|x| x.is_finite()).collect();
        let scale = filter::initial_scale(&finite);
        let state = match model {
            LocationModel::None => State::Zero,
            LocationModel::Level | LocationModel::Auto => State::Level {
                level: filter::initial_level(&finite, tuning.level),
            },
            LocationModel::Seasonal { period } => {
                let (level, profile) = filter::initial_profile(data, &finite, period);
                State::Seasonal {
                    level,
                    profile,
                    phase: 0,
                }
            }
            LocationModel::Autoregressive { lags } => {
                State::Autoregressive(Ar::start(lags, data, scale, tuning, window, ar_refit_every))
            }
        };
        let pace = match &state {
            State::Level { level } if tuning.adaptive => Some(Pace::new(*level)),
            _ => None,
        };
        let mut loc = Self {
            tuning,
            scale,
            prediction: 0.0,
            rejected: 0,
            state,
            pace,
        };
        loc.predict_next();
        loc
    }

    /// The resolved model.
    pub(crate) fn model(&self) -> LocationModel {
        match &self.state {
            State::Zero => LocationModel::None,
            State::Level { .. } => LocationModel::Level,
            State::Seasonal { profile, .. } => LocationModel::Seasonal {
                period: profile.len(),
            },
            State::Autoregressive(ar) => LocationModel::Autoregressive { lags: ar.lags() },
        }
    }

    /// Checks a restored model against the forecaster's configuration: the tuning,
    /// the model (the configured one, or one [`LocationModel::Auto`] can choose from
    /// a warm-up of `warmup` values) and an autoregression's window and refit period
    /// (what [`initialise`](Self::initialise) was given).
    pub(crate) fn check_config(
        &self,
        model: LocationModel,
        tuning: Tuning,
        warmup: usize,
        window: usize,
        ar_refit_every: usize,
    ) -> Result<()> {
        let resolved = self.model();
        let admissible = match model {
            LocationModel::Auto => match resolved {
                LocationModel::None | LocationModel::Auto => false,
                LocationModel::Level => true,
                LocationModel::Autoregressive { lags } => lags <= MAX_LAGS,
                LocationModel::Seasonal { period } => period <= warmup,
            },
            m => m == resolved,
        };
        if self.tuning != tuning || !admissible {
            return Err(Error::InvalidState {
                reason: "the location model differs from the configuration",
            });
        }
        if let State::Autoregressive(ar) = &self.state {
            ar.check_config(window, ar_refit_every)?;
        }
        Ok(())
    }

    /// The location predicted for the next time step.
    #[inline]
    pub(crate) fn prediction(&self) -> f64 {
        self.prediction
    }

    /// The running robust scale of one-step errors.
    #[cfg(test)]
    pub(crate) fn scale(&self) -> f64 {
        self.scale
    }

    fn predict_next(&mut self) {
        self.prediction = saturate(match &self.state {
            State::Zero => 0.0,
            State::Level { level } => *level,
            State::Seasonal {
                level,
                profile,
                phase,
            } => level + profile[*phase],
            State::Autoregressive(ar) => ar.predict(),
        });
    }

    /// Takes a finite observation, returns its residual `y - prediction` (saturated
    /// to a finite value) and moves to the next time step.
    #[inline]
    pub(crate) fn observe(&mut self, y: f64) -> f64 {
        let r = saturate(y - self.prediction);
        let psi = filter::redescend(r, self.tuning.clip * self.scale);
        let alpha = self.tuning.level;
        match &mut self.state {
            State::Zero => {}
            State::Level { level } => match &mut self.pace {
                Some(pace) => {
                    let frozen = self.scale >= pace::FROZEN_SCALE;
                    *level = pace.observe(y, alpha, self.tuning.clip * self.scale, frozen);
                }
                None => *level = saturate(*level + alpha * psi),
            },
            State::Seasonal {
                level,
                profile,
                phase,
            } => {
                *level = saturate(*level + alpha * psi);
                profile[*phase] =
                    saturate(profile[*phase] + self.tuning.seasonal * (1.0 - alpha) * psi);
                *phase = next_phase(*phase, profile.len());
            }
            State::Autoregressive(ar) => {
                ar.push(saturate(self.prediction + psi), self.scale, self.tuning);
            }
        }
        self.update_scale(r);
        self.predict_next();
        r
    }

    /// Moves the location by `delta` at once (a regime change): the level, or the
    /// autoregression's centre and lags. Returns `false` (and changes nothing) for
    /// [`LocationModel::None`], whose location is fixed at 0.
    pub(crate) fn shift(&mut self, delta: f64) -> bool {
        if !delta.is_finite() {
            return false;
        }
        match &mut self.state {
            State::Zero => return false,
            State::Level { level } | State::Seasonal { level, .. } => {
                *level = match &mut self.pace {
                    Some(pace) => pace.shift(delta),
                    None => saturate(*level + delta),
                };
            }
            State::Autoregressive(ar) => ar.shift(delta),
        }
        self.rejected = 0;
        self.predict_next();
        true
    }

    /// Moves the seasonal profile's entry for the time step just observed by
    /// `delta` (one slot that has been persistently wrong). Returns `false` (and
    /// changes nothing) unless the model is seasonal and `delta` finite.
    pub(crate) fn shift_last_slot(&mut self, delta: f64) -> bool {
        if !delta.is_finite() {
            return false;
        }
        let State::Seasonal { profile, phase, .. } = &mut self.state else {
            return false;
        };
        let n = profile.len();
        let last = (*phase + n - 1) % n;
        profile[last] = saturate(profile[last] + delta);
        self.predict_next();
        true
    }

    /// Multiplies the running robust scale by `factor` (a change of the noise's
    /// scale), within its usual bounds.
    /// Sets the running scale of one-step errors (positive and finite, else
    /// nothing changes): after a restart of the residual window.
    pub(crate) fn set_scale(&mut self, scale: f64) {
        if scale > 0.0 && scale.is_finite() {
            self.scale = scale.clamp(f64::MIN_POSITIVE, filter::MAX_SCALE);
        }
    }

    pub(crate) fn rescale(&mut self, factor: f64) {
        if factor > 0.0 && factor.is_finite() {
            self.scale = (self.scale * factor).clamp(f64::MIN_POSITIVE, filter::MAX_SCALE);
        }
    }

    /// A missing or excluded observation: the clock moves, nothing is learned.
    #[inline]
    pub(crate) fn skip(&mut self) {
        match &mut self.state {
            State::Zero | State::Level { .. } => {}
            State::Seasonal { profile, phase, .. } => *phase = next_phase(*phase, profile.len()),
            State::Autoregressive(ar) => ar.push(self.prediction, self.scale, self.tuning),
        }
        self.predict_next();
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{TUNING, spiky};
    use super::*;

    #[test]
    fn extreme_values_stay_finite() {
        let data = [
            1e308,
            -1e308,
            1e308,
            0.0,
            f64::MAX,
            -f64::MAX,
            1.0,
            2.0,
            3.0,
            4.0,
        ];
        for model in [
            LocationModel::None,
            LocationModel::Level,
            LocationModel::Seasonal { period: 2 },
            LocationModel::Autoregressive { lags: 1 },
        ] {
            let mut warm = data.to_vec();
            warm.extend_from_slice(&data);
            warm.extend_from_slice(&data);
            let mut res = Vec::new();
            let mut loc = Location::initialise(model, &warm, TUNING, 20, 3, &mut res).unwrap();
            assert!(res.iter().all(|r| r.is_finite()), "{model:?}");
            for &y in data.iter().cycle().take(200) {
                let r = loc.observe(y);
                assert!(r.is_finite() && loc.prediction().is_finite(), "{model:?}");
                assert!(loc.scale() > 0.0 && loc.scale().is_finite());
            }
        }
    }

    #[test]
    fn bad_models_and_short_warmups_are_errors() {
        assert!(LocationModel::Seasonal { period: 1 }.check().is_err());
        assert!(LocationModel::Autoregressive { lags: 0 }.check().is_err());
        assert!(LocationModel::Autoregressive { lags: 65 }.check().is_err());
        let mut res = Vec::new();
        let err = Location::initialise(
            LocationModel::Seasonal { period: 10 },
            &[1.0; 20],
            TUNING,
            10,
            1,
            &mut res,
        )
        .unwrap_err();
        assert!(
            matches!(err, Error::TooFewObservations { needed: 30, .. }),
            "{err}"
        );
        assert!(
            Location::initialise(
                LocationModel::Level,
                &[f64::NAN; 10],
                TUNING,
                10,
                1,
                &mut res
            )
            .is_err()
        );
    }

    #[test]
    fn serde_round_trip_continues_identically() {
        let data = spiky(600, |t| (t as f64 * 0.3).sin(), 0.3, 9);
        for model in [
            LocationModel::Level,
            LocationModel::Seasonal { period: 21 },
            LocationModel::Autoregressive { lags: 3 },
        ] {
            let mut res = Vec::new();
            let mut a =
                Location::initialise(model, &data[..200], TUNING, 100, 7, &mut res).unwrap();
            for &y in &data[200..350] {
                a.observe(y);
            }
            let json = serde_json::to_string(&a).unwrap();
            let mut b: Location = serde_json::from_str(&json).unwrap();
            for &y in &data[350..] {
                assert_eq!(a.prediction().to_bits(), b.prediction().to_bits());
                assert_eq!(a.observe(y).to_bits(), b.observe(y).to_bits());
            }
        }
    }
}
