//! Online recalibration of p-values: the detector's p-values are mapped through the
//! empirical distribution of its own past p-values, so that the share of flagged
//! observations stays at the risk level even when the forecast's tails are off.
//!
//! # Why
//!
//! A p-value is exact only if the forecast's tail is. Deep in the tail it rests on
//! few exceedances: a plug-in GPD fitted to the 5 exceedances of a 100-point window
//! underestimates how far the next extreme may go, and on data whose spikes are
//! part of normal behaviour (shape 2 in the tail) the share of `p < 10⁻³` can be
//! fifty times the nominal one. Under a calibrated forecast `P(p <= ℓ) = ℓ`; the
//! recalibrator measures the share of p-values in bands on the stream and
//! reports `p' = p · f(p)`, with `f` the larger of two factors: the band
//! `[risk, 30 · risk]` against its calibrated share, applied up to `30 · risk`, and
//! a factor below the risk level from the bands `[risk / 9, risk / 3)` and
//! `[risk / 3, risk)`, fading (in log space) to 1 at `30 · risk`. The first catches
//! tails that are off everywhere; the second catches what the first cannot see,
//! tails that are right near the threshold and too light only where alarms are
//! raised (the usual error of a GPD extrapolated from 50 exceedances: see the
//! detector's *p-values*). It only ever raises a p-value (`p' >= p`): a
//! conservative forecast stays conservative.
//!
//! # Below the risk level
//!
//! A tail that is too light is too light by more the further out: on Student-t(4)
//! noise the share of raw p-values below `x` is about `3 x` at the risk level,
//! `5 x` at a third of it and `10 x` at a tenth (window 1,000, half the flagged
//! observations excluded: the fitted tail index is 0.17 where the law's is 0.25).
//! So the p-values below the risk level are taken to follow a power law
//! `P(p <= x) = F · risk · (x / risk)^a`, with `a` from the ratio of the shares
//! in the two bands (`3^(1 - a)` for a power law) and `F`, the factor at the risk
//! level, from the upper band's share; then `p' = F · risk · (p / risk)^a`: the
//! factor grows as `p` falls. The exponent is kept in `[MIN_CALIBRATION_EXPONENT, 1]`:
//! anomalies that are frequent and moderate fill the same bands and look like a
//! heavier tail, and the cap is what leaves them their p-values. The bands stop
//! at `risk / 9` so that anomalies far out, however frequent, do not count.
//!
//! # How much it trusts the stream
//!
//! The upper band starts with a prior of `n₀ = 20 / risk` calibrated
//! pseudo-observations, the lower one with `10 / risk` (about 7 pseudo-values in the
//! band: it must learn within a series of tens of thousands of points; on the
//! level-shift series of `cargo run --release --example real_world`, false alarms
//! per 10,000 clean points are 19.8 without it, 14.3 with a prior of `20 / risk`,
//! 11.6 with `10 / risk`, 9.9 with `5 / risk`, and recall on frequent moderate
//! anomalies falls as the prior weakens), and the counts are forgotten
//! with a half-life of `100 / risk` observations (100,000 at the default `10⁻³`):
//! a genuine anomaly moves the map very little, a flood of alarms from a badly
//! miscalibrated tail moves it within a few thousand observations, and slowly
//! changing behaviour is followed. The map is increasing in `p` at every moment,
//! so within a stretch of stream the ranking of observations is the ranking of their
//! raw p-values.
//!
//! Nothing is allocated: the levels are a fixed array.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The band of p-values `[risk, BAND · risk]` whose frequency is measured.
const BAND: f64 = 30.0;

/// Prior calibrated pseudo-observations, as a multiple of `1 / risk`.
const PRIOR: f64 = 20.0;

/// Prior calibrated pseudo-observations below the risk level, as a multiple of
/// `1 / risk`.
const DEEP_PRIOR: f64 = 10.0;

/// The bands of p-values `[risk / DEEP_BAND, risk)` and
/// `[risk / DEEP_BAND², risk / DEEP_BAND)` whose frequencies give the factor at
/// and below the risk level.
const DEEP_BAND: f64 = 3.0;

/// The smallest exponent of the power law below the risk level (see *Below the
/// risk level*): the factor grows at most as `(risk / p)^(1 - MIN_CALIBRATION_EXPONENT)`.
///
/// Measured with the detector's remembered tail shapes, exponent 1 (a flat factor
/// below the risk level) → 0.75: on Student-t(4) noise without anomalies (windows
/// 100–10,000, hard and decaying, seeds 1–3, `cargo run --release --example
/// heavy_tail_calibration`) alarms per risk level 2.04–2.20 → 1.62–1.79; on the
/// level-shift series of `cargo run --release --example real_world` (seeds 1–6)
/// false alarms per 10,000 clean points 16.8 → 14.2. The price, on
/// `tests/anomaly_detection.rs`'s series with their seed and six more (recall of
/// injected anomalies every 100–300 steps, five times the risk level): Student-t(4)
/// with ±12 0.992 → 0.992 (other seeds 0.975–0.988 → 0.954–0.975), the paper's
/// series with ±10 0.86 → 0.75 (0.78–0.98 → 0.61–0.93), Gaussian noise with ±4 sd
/// 0.48 → 0.42. An exponent of 0.7 (measured with a memory of half-life one
/// window) brought Student-t(4) to 1.53–1.66 and the Gaussian series below 0.4,
/// the bound of its test.
pub const MIN_CALIBRATION_EXPONENT: f64 = 0.75;

/// Half-life of the counts, as a multiple of `1 / risk`.
const HALF_LIFE: f64 = 100.0;

/// The largest factor a p-value is multiplied by: a forecast more than that far off
/// is better fixed in the forecaster (a longer window, a location model) than
/// hidden here.
const MAX_FACTOR: f64 = 10.0;

/// The factor is updated once every this many observations (so that what the
/// detector derives from it, the band, is recomputed rarely).
const UPDATE_EVERY: u32 = 64;

/// The raw weight at which the counts are rescaled back to weight 1.
const RENORMALISE_AT: f64 = 1e100;

/// The recalibration factor and the counts behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "CalibratorRepr")]
pub(crate) struct Calibrator {
    risk: f64,
    /// Decayed count of past p-values in the band, in raw units that grow with
    /// `weight` (a lazy decay).
    in_band: f64,
    /// Decayed count of past p-values.
    total: f64,
    /// Decayed count of past p-values in `[risk / 3, risk)`.
    #[serde(default)]
    deep: f64,
    /// Decayed count of past p-values in `[risk / 9, risk / 3)`.
    #[serde(default)]
    deeper: f64,
    /// `ln` of the factor at the risk level from below.
    #[serde(default)]
    ln_deep: f64,
    /// The power law's exponent below the risk level (see *Below the risk level*).
    #[serde(default = "flat")]
    exponent: f64,
    /// The raw weight of the next p-value.
    weight: f64,
    /// `ln` of the current factor (from the counts at the last update).
    ln_factor: f64,
    /// The larger of the two factors, what [`factor`](Self::factor) reports (derived:
    /// read at every observation, so not recomputed there).
    #[serde(skip)]
    at_risk: f64,
    /// The raw p-value whose calibrated one is the risk level (derived).
    #[serde(skip)]
    raw_risk: f64,
    /// The growth of `weight` per observation (derived from the risk).
    #[serde(skip)]
    growth: f64,
    /// `ln risk` and `ln top()` (derived from the risk).
    #[serde(skip)]
    ln_bottom: f64,
    #[serde(skip)]
    ln_top: f64,
    /// Observations since the factor was last updated.
    #[serde(default)]
    since_update: u32,
}

#[derive(Deserialize)]
struct CalibratorRepr {
    risk: f64,
    in_band: f64,
    total: f64,
    weight: f64,
    ln_factor: f64,
    #[serde(default)]
    since_update: u32,
    #[serde(default)]
    deep: f64,
    #[serde(default)]
    deeper: f64,
    #[serde(default)]
    ln_deep: f64,
    #[serde(default = "flat")]
    exponent: f64,
}

/// The exponent of a calibrator saved before it had one: a flat factor.
fn flat() -> f64 {
    1.0
}

impl TryFrom<CalibratorRepr> for Calibrator {
    type Error = Error;
    fn try_from(r: CalibratorRepr) -> Result<Self> {
        let fresh = Calibrator::new(r.risk)?;
        let ok = |x: f64| x.is_finite() && x >= 0.0;
        if !(ok(r.in_band)
            && ok(r.total)
            && r.in_band <= r.total
            && ok(r.deep)
            && r.deep <= r.total
            && ok(r.deeper)
            && r.deeper <= r.total
            && (MIN_CALIBRATION_EXPONENT..=1.0).contains(&r.exponent)
            && (0.0..=MAX_FACTOR.ln()).contains(&r.ln_deep)
            && r.weight.is_finite()
            && (1.0..=RENORMALISE_AT).contains(&r.weight)
            && r.since_update < UPDATE_EVERY
            && (0.0..=MAX_FACTOR.ln()).contains(&r.ln_factor))
        {
            return Err(Error::InvalidState {
                reason: "the p-value calibration counts are inconsistent",
            });
        }
        let mut c = Self {
            in_band: r.in_band,
            total: r.total,
            weight: r.weight,
            ln_factor: r.ln_factor,
            since_update: r.since_update,
            deep: r.deep,
            deeper: r.deeper,
            ln_deep: r.ln_deep,
            exponent: r.exponent,
            ..fresh
        };
        c.derive();
        Ok(c)
    }
}

impl Calibrator {
    /// A calibrator for alarms at `risk` in (0, 1), with no history.
    pub(crate) fn new(risk: f64) -> Result<Self> {
        if !(risk > 0.0 && risk < 1.0) {
            return Err(Error::ProbabilityOutOfRange {
                name: "risk",
                value: risk,
                expected: "(0, 1)",
            });
        }
        Ok(Self {
            risk,
            in_band: 0.0,
            total: 0.0,
            weight: 1.0,
            ln_factor: 0.0,
            at_risk: 1.0,
            raw_risk: risk,
            growth: (risk / HALF_LIFE).exp2(),
            ln_bottom: risk.ln(),
            ln_top: (BAND * risk).min(0.5).ln(),
            since_update: 0,
            deep: 0.0,
            deeper: 0.0,
            ln_deep: 0.0,
            exponent: 1.0,
        })
    }

    /// The risk the calibrator was made for.
    pub(crate) fn risk(&self) -> f64 {
        self.risk
    }

    /// The upper end of the band (at most 1/2).
    #[inline]
    fn top(&self) -> f64 {
        (BAND * self.risk).min(0.5)
    }

    fn update_factor(&mut self) {
        let deep_prior = DEEP_PRIOR / self.risk * self.weight;
        // The shares per unit of p in the two bands below the risk level.
        let density = |count: f64, width: f64| {
            (count + deep_prior * width) / (self.total + deep_prior) / width
        };
        let deep_width = self.risk * (1.0 - 1.0 / DEEP_BAND);
        let deep = density(self.deep, deep_width);
        let deeper = density(self.deeper, deep_width / DEEP_BAND);
        // A power law's density grows by 3^(1 - a) from one band to the next.
        let exponent = 1.0 - (deeper / deep).ln() / DEEP_BAND.ln();
        self.exponent = if exponent.is_nan() {
            1.0
        } else {
            exponent.clamp(MIN_CALIBRATION_EXPONENT, 1.0)
        };
        // Its share below the risk level, from the upper band's.
        let kept = 1.0 - DEEP_BAND.powf(-self.exponent);
        let at_risk = deep * (1.0 - 1.0 / DEEP_BAND) / kept;
        self.ln_deep = at_risk.clamp(1.0, MAX_FACTOR).ln();
        let width = self.top() - self.risk;
        self.ln_factor = if width > 0.0 {
            let prior = PRIOR / self.risk * self.weight;
            let share = (self.in_band + prior * width) / (self.total + prior);
            (share / width).clamp(1.0, MAX_FACTOR).ln()
        } else {
            0.0
        };
        self.derive();
    }

    /// Sets what follows from the factors: the factor at the risk level and the
    /// raw p-value calibrated to it (`p · max(band, deep(p)) = risk`, solved on
    /// each branch of [`ln_calibrated`](Self::ln_calibrated) below the risk level).
    fn derive(&mut self) {
        self.at_risk = self.ln_factor.max(self.ln_deep).exp();
        let by_band = -self.ln_factor;
        let by_power = -self.ln_deep / self.exponent;
        let by_cap = -MAX_FACTOR.ln();
        self.raw_risk = self.risk * by_band.min(by_power.max(by_cap)).exp();
    }

    /// `ln p'` for `ln p` (see the module notes): `p` times the factor up to the top
    /// of the band, then a factor fading to 1 at `p = 1`. Never below `ln_p`,
    /// increasing in `ln_p`.
    #[inline]
    pub(crate) fn ln_calibrated(&self, ln_p: f64) -> f64 {
        if !(ln_p < 0.0) || (self.ln_factor == 0.0 && self.ln_deep == 0.0) {
            return ln_p.min(0.0);
        }
        let ln_top = self.ln_top;
        let weight = if ln_p <= ln_top { 1.0 } else { ln_p / ln_top };
        // Below the risk level the deep factor follows the power law (up to the
        // largest factor); above, it fades to 1 at the top of the band.
        let deep = if ln_p <= self.ln_bottom {
            let below = (self.exponent - 1.0) * (ln_p - self.ln_bottom);
            (self.ln_deep + below).min(MAX_FACTOR.ln())
        } else if ln_p < ln_top {
            self.ln_deep * (ln_top - ln_p) / (ln_top - self.ln_bottom)
        } else {
            0.0
        };
        (ln_p + (weight * self.ln_factor).max(deep)).min(0.0)
    }

    /// Records a raw p-value (as its log) in the counts.
    #[inline]
    pub(crate) fn record(&mut self, ln_p: f64) {
        if ln_p.is_nan() {
            return;
        }
        // In log space: no exponential per observation.
        if ln_p >= self.ln_bottom && ln_p <= self.ln_top {
            self.in_band += self.weight;
        } else if ln_p < self.ln_bottom && ln_p >= self.ln_bottom - DEEP_BAND.ln() {
            self.deep += self.weight;
        } else if ln_p < self.ln_bottom && ln_p >= self.ln_bottom - 2.0 * DEEP_BAND.ln() {
            self.deeper += self.weight;
        }
        self.total += self.weight;
        self.weight *= self.growth;
        if self.weight >= RENORMALISE_AT {
            let f = 1.0 / self.weight;
            self.in_band *= f;
            self.deep *= f;
            self.deeper *= f;
            self.total *= f;
            self.weight = 1.0;
        }
        self.since_update += 1;
        if self.since_update >= UPDATE_EVERY {
            self.since_update = 0;
            self.update_factor();
        }
    }

    /// The current factor `p' / p` at the risk level (the larger of the band's and
    /// the deep one's, kept in `at_risk`).
    #[inline]
    pub(crate) fn factor(&self) -> f64 {
        self.at_risk
    }

    /// The raw p-value below which an observation is flagged: the one whose
    /// calibrated p-value is the risk level.
    #[inline]
    pub(crate) fn raw_risk(&self) -> f64 {
        self.raw_risk
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_calibrated_stream_leaves_p_values_alone() {
        let mut c = Calibrator::new(1e-3).unwrap();
        // Uniform p-values on a fine grid.
        for i in 0..200_000u64 {
            let u = ((i as f64 + 0.5) * 0.618_033_988_749_894_9).fract();
            c.record(u.ln());
        }
        for p in [1e-6, 1e-4, 1e-3, 1e-2, 0.3] {
            let q = c.ln_calibrated(f64::ln(p)).exp();
            assert!(q >= p && q < 1.3 * p, "{p}: {q}");
        }
    }

    #[test]
    fn too_many_small_p_values_are_raised_monotonically() {
        let mut c = Calibrator::new(1e-3).unwrap();
        // p-values ten times too small.
        for i in 0..200_000u64 {
            let u = ((i as f64 + 0.5) * 0.618_033_988_749_894_9).fract();
            c.record((u / 10.0).ln());
        }
        let q = c.ln_calibrated(f64::ln(1e-4)).exp();
        assert!(q > 5e-4 && q < 2e-3, "{q}");
        let mut last = f64::NEG_INFINITY;
        for i in 0..2000 {
            let ln_p = -700.0 + 0.35 * i as f64;
            let q = c.ln_calibrated(ln_p.min(0.0));
            assert!(q >= last && q >= ln_p.min(0.0), "{ln_p}");
            last = q;
        }
    }

    #[test]
    fn too_many_p_values_just_below_the_risk_are_raised() {
        let mut c = Calibrator::new(1e-3).unwrap();
        // Uniform p-values, except that those in [3e-4, 1e-3) are twice as many
        // as they should be (a tail too light only where alarms are raised).
        for i in 0..200_000u64 {
            let u = ((i as f64 + 0.5) * 0.618_033_988_749_894_9).fract();
            let p = if (1e-3..1.7e-3).contains(&u) {
                u - 7e-4
            } else {
                u
            };
            c.record(p.ln());
        }
        assert!(c.ln_factor < 0.1_f64.ln_1p(), "{}", c.ln_factor);
        assert!(c.factor() > 1.5 && c.factor() < 2.1, "{}", c.factor());
        let at = |p: f64| c.ln_calibrated(p.ln()).exp() / p;
        assert!((at(5e-4) - c.factor()).abs() < 1e-12);
        assert!(at(3e-2) < 1.1, "{}", at(3e-2));
    }

    #[test]
    fn anomalies_far_below_the_risk_do_not_move_the_factor() {
        let mut c = Calibrator::new(1e-3).unwrap();
        // Calibrated p-values plus one anomaly at p = 1e-9 every 100 observations.
        for i in 0..200_000u64 {
            let u = ((i as f64 + 0.5) * 0.618_033_988_749_894_9).fract();
            let p = if i % 100 == 0 { 1e-9 } else { u };
            c.record(p.ln());
        }
        assert!(c.factor() < 1.15, "{}", c.factor());
    }

    #[test]
    fn bad_risk_is_an_error() {
        for r in [0.0, 1.0, f64::NAN, -1.0] {
            assert!(Calibrator::new(r).is_err());
        }
    }
}
