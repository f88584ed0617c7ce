//! Real-world pathologies with ground truth: zero-inflated counts, regime switches,
//! level shifts, normal bursts, stuck sensors, drifting scale and daily/weekly
//! seasonality, each with its injected anomalies, its shifts and the exact law of
//! every value (the oracle).
//!
//! The conventions shared by every generator are on [`LabelledSeries`].
//!
//! Every generator is deterministic given the caller's RNG (for a given version of
//! rand and rand_distr).

use rand::RngExt;
use rand::distr::Distribution;
use serde::{Deserialize, Serialize};
use statrs::function::{beta::beta_reg, erf::erfc, gamma::gamma_ur, gamma::ln_gamma};

use crate::dist::GeneralizedPareto;
use crate::error::{Error, Result, positive};

/// The first index at which an anomaly is injected.
pub const ANOMALY_SKIP: usize = 1_100;
/// Anomalies per step injected by the generators (one per 1,000 steps).
const ANOMALIES_PER_STEP: f64 = 1e-3;
/// The least distance between two anomalies.
const ANOMALY_GAP: usize = 50;
/// No anomaly from this many steps before a shift ...
const SHIFT_GUARD_BEFORE: usize = 20;
/// ... to this many steps after it.
const SHIFT_GUARD_AFTER: usize = 300;

/// The law of one value of a series (an oracle's one-step predictive distribution),
/// with its exact cdf and CRPS.
///
/// # Examples
///
/// ```
/// use tailcast::synthetic::StepLaw;
/// let law = StepLaw::Normal { mean: 1.0, sd: 2.0 };
/// assert!((law.cdf(1.0) - 0.5).abs() < 1e-15);
/// // CRPS at the mean: sd (√2 - 1)/√π.
/// let expected = 2.0 * (2f64.sqrt() - 1.0) / std::f64::consts::PI.sqrt();
/// assert!((law.crps(1.0) - expected).abs() < 1e-14);
///
/// let counts = StepLaw::ZeroInflatedPoisson { zero_prob: 0.2, mean: 3.0 };
/// assert!((counts.cdf(0.0) - (0.2 + 0.8 * (-3.0f64).exp())).abs() < 1e-15);
/// assert_eq!(counts.cdf_left(0.0), 0.0);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StepLaw {
    /// Normal with mean and standard deviation (> 0).
    Normal {
        /// The mean.
        mean: f64,
        /// The standard deviation.
        sd: f64,
    },
    /// Location-scale Student-t; the CRPS needs `dof > 1`.
    StudentT {
        /// The location (median).
        location: f64,
        /// The scale (> 0); the standard deviation is `scale √(dof/(dof - 2))`.
        scale: f64,
        /// The degrees of freedom (> 0).
        dof: f64,
    },
    /// `location + GPD(shape, scale)`: a Lomax (Pareto II) jump above `location` for
    /// `shape > 0`, an exponential one for `shape = 0`.
    Gpd {
        /// Where the law starts.
        location: f64,
        /// The GPD scale (> 0).
        scale: f64,
        /// The GPD shape in `[0, 2)` (finite CRPS).
        shape: f64,
    },
    /// Poisson counts with the given mean (> 0).
    Poisson {
        /// The mean.
        mean: f64,
    },
    /// 0 with probability `zero_prob`, else Poisson(`mean`): `P(0) = zero_prob +
    /// (1 - zero_prob) e^-mean`.
    ZeroInflatedPoisson {
        /// The probability of a structural zero, in [0, 1).
        zero_prob: f64,
        /// The mean of the Poisson part (> 0).
        mean: f64,
    },
    /// A finite mixture `(weight, law)` with weights summing to 1. Its CRPS is
    /// computed by adaptive quadrature (accurate to about 1e-9 of the components'
    /// scale for continuous components).
    Mixture(Vec<(f64, StepLaw)>),
}

/// Standard normal cdf.
fn norm_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// Standard normal density.
fn norm_pdf(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Standard Student-t cdf with `nu` degrees of freedom (accurate in both tails).
fn t_cdf(z: f64, nu: f64) -> f64 {
    if z.is_infinite() {
        return if z > 0.0 { 1.0 } else { 0.0 };
    }
    let tail = 0.5 * beta_reg(nu / 2.0, 0.5, nu / (nu + z * z));
    if z > 0.0 { 1.0 - tail } else { tail }
}

/// Standard Student-t density.
fn t_pdf(z: f64, nu: f64) -> f64 {
    let ln_c =
        ln_gamma((nu + 1.0) / 2.0) - ln_gamma(nu / 2.0) - 0.5 * (nu * std::f64::consts::PI).ln();
    (ln_c - (nu + 1.0) / 2.0 * (z * z / nu).ln_1p()).exp()
}

/// `ln B(a, b)`.
fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// Poisson cdf `P(X <= k)` for an integer `k >= 0`.
fn poisson_cdf(k: f64, mean: f64) -> f64 {
    gamma_ur(k + 1.0, mean)
}

impl StepLaw {
    /// `P(X <= x)`.
    pub fn cdf(&self, x: f64) -> f64 {
        match self {
            Self::Normal { mean, sd } => norm_cdf((x - mean) / sd),
            Self::StudentT {
                location,
                scale,
                dof,
            } => t_cdf((x - location) / scale, *dof),
            Self::Gpd {
                location,
                scale,
                shape,
            } => gpd(*shape, *scale).map_or(f64::NAN, |g| g.cdf(x - location)),
            Self::Poisson { mean } => {
                if x < 0.0 {
                    0.0
                } else {
                    poisson_cdf(x.floor(), *mean)
                }
            }
            Self::ZeroInflatedPoisson { zero_prob, mean } => {
                if x < 0.0 {
                    0.0
                } else {
                    zero_prob + (1.0 - zero_prob) * poisson_cdf(x.floor(), *mean)
                }
            }
            Self::Mixture(parts) => parts.iter().map(|(w, law)| w * law.cdf(x)).sum(),
        }
    }

    /// `P(X < x)`, the left limit of the cdf: equal to [`cdf`](Self::cdf) for a
    /// continuous law, lower by the atom at `x` for a count law.
    pub fn cdf_left(&self, x: f64) -> f64 {
        match self {
            Self::Poisson { .. } | Self::ZeroInflatedPoisson { .. } => {
                let below = x.ceil() - 1.0;
                if below < 0.0 { 0.0 } else { self.cdf(below) }
            }
            Self::Mixture(parts) => parts.iter().map(|(w, law)| w * law.cdf_left(x)).sum(),
            _ => self.cdf(x),
        }
    }

    /// The mean (`+∞` for a GPD shape `>= 1` or Student-t `dof <= 1`).
    pub fn mean(&self) -> f64 {
        match self {
            Self::Normal { mean, .. } => *mean,
            Self::StudentT { location, dof, .. } => {
                if *dof > 1.0 {
                    *location
                } else {
                    f64::NAN
                }
            }
            Self::Gpd {
                location,
                scale,
                shape,
            } => {
                if *shape < 1.0 {
                    location + scale / (1.0 - shape)
                } else {
                    f64::INFINITY
                }
            }
            Self::Poisson { mean } => *mean,
            Self::ZeroInflatedPoisson { zero_prob, mean } => (1.0 - zero_prob) * mean,
            Self::Mixture(parts) => parts.iter().map(|(w, law)| w * law.mean()).sum(),
        }
    }

    /// Whether the law is a count law (atoms on the integers).
    pub fn is_discrete(&self) -> bool {
        match self {
            Self::Poisson { .. } | Self::ZeroInflatedPoisson { .. } => true,
            Self::Mixture(parts) => parts.iter().any(|(_, law)| law.is_discrete()),
            _ => false,
        }
    }

    /// A typical width of the law (standard deviation or scale), used to scale
    /// quadrature and to express shifts in noise units.
    pub fn scale(&self) -> f64 {
        match self {
            Self::Normal { sd, .. } => *sd,
            Self::StudentT { scale, .. } | Self::Gpd { scale, .. } => *scale,
            Self::Poisson { mean } | Self::ZeroInflatedPoisson { mean, .. } => mean.sqrt(),
            Self::Mixture(parts) => parts
                .iter()
                .map(|(_, law)| law.scale())
                .fold(f64::INFINITY, f64::min),
        }
    }

    /// The continuous ranked probability score `∫ (F(x) - 1{x >= y})² dx` of the law
    /// for the outcome `y`. Closed forms for the normal (Gneiting et al. 2005), the
    /// Student-t (Jordan, Krüger and Lerch 2019; `+∞` for `dof <= 1`) and the GPD
    /// (the crate's [`Crps`](crate::metrics::Crps)); an exact sum over the support for
    /// counts (truncated where the upper tail is below 1e-30); adaptive quadrature for
    /// a mixture. `NaN` for `y = NaN`, `+∞` for `y = ±∞`.
    pub fn crps(&self, y: f64) -> f64 {
        if y.is_nan() {
            return f64::NAN;
        }
        if y.is_infinite() {
            return f64::INFINITY;
        }
        match self {
            Self::Normal { mean, sd } => {
                let z = (y - mean) / sd;
                sd * (z * (2.0 * norm_cdf(z) - 1.0) + 2.0 * norm_pdf(z)
                    - 1.0 / std::f64::consts::PI.sqrt())
            }
            Self::StudentT {
                location,
                scale,
                dof,
            } => {
                let nu = *dof;
                if !(nu > 1.0) {
                    return f64::INFINITY;
                }
                let z = (y - location) / scale;
                let c = 2.0 * nu.sqrt() / (nu - 1.0)
                    * (ln_beta(0.5, nu - 0.5) - 2.0 * ln_beta(0.5, nu / 2.0)).exp();
                scale
                    * (z * (2.0 * t_cdf(z, nu) - 1.0)
                        + 2.0 * t_pdf(z, nu) * (nu + z * z) / (nu - 1.0)
                        - c)
            }
            Self::Gpd {
                location,
                scale,
                shape,
            } => gpd(*shape, *scale)
                .map_or(f64::NAN, |g| crate::metrics::Crps::crps(&g, y - location)),
            Self::Poisson { mean } => count_crps(y, 0.0, *mean),
            Self::ZeroInflatedPoisson { zero_prob, mean } => count_crps(y, *zero_prob, *mean),
            Self::Mixture(_) => self.crps_by_quadrature(y),
        }
    }

    /// `∫_{-∞}^{y} F² + ∫_{y}^{∞} (1 - F)²` by adaptive Gauss–Kronrod quadrature in
    /// `x = y ∓ s t/(1 - t)`, `t` in `[0, 1)`, `s` the law's [`scale`](Self::scale).
    fn crps_by_quadrature(&self, y: f64) -> f64 {
        let s = self.scale();
        if !(s > 0.0 && s.is_finite()) {
            return f64::NAN;
        }
        let below = |t: f64| {
            let f = self.cdf(y - s * t / (1.0 - t));
            f * f * s / ((1.0 - t) * (1.0 - t))
        };
        let above = |t: f64| {
            let g = 1.0 - self.cdf(y + s * t / (1.0 - t));
            g * g * s / ((1.0 - t) * (1.0 - t))
        };
        let tol = 1e-11 * s;
        let pieces = 16;
        let mut total = 0.0;
        for i in 0..pieces {
            let (a, b) = (i as f64 / pieces as f64, (i + 1) as f64 / pieces as f64);
            total += gauss_kronrod(&below, a, b, tol, 30) + gauss_kronrod(&above, a, b, tol, 30);
        }
        total
    }

    /// A draw from the law (parameters already validated by the generator).
    fn draw<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Self::Normal { mean, sd } => {
                let z: f64 = rand_distr::StandardNormal.sample(rng);
                mean + sd * z
            }
            Self::StudentT {
                location,
                scale,
                dof,
            } => {
                let t = rand_distr::StudentT::new(*dof).map_or(f64::NAN, |d| d.sample(rng));
                location + scale * t
            }
            Self::Gpd {
                location,
                scale,
                shape,
            } => gpd(*shape, *scale).map_or(f64::NAN, |g| location + g.sample(rng)),
            Self::Poisson { mean } => {
                rand_distr::Poisson::new(*mean).map_or(f64::NAN, |d| d.sample(rng))
            }
            Self::ZeroInflatedPoisson { zero_prob, mean } => {
                if rng.random::<f64>() < *zero_prob {
                    0.0
                } else {
                    rand_distr::Poisson::new(*mean).map_or(f64::NAN, |d| d.sample(rng))
                }
            }
            Self::Mixture(parts) => {
                let mut u = rng.random::<f64>();
                for (w, law) in parts {
                    if u < *w {
                        return law.draw(rng);
                    }
                    u -= w;
                }
                parts.last().map_or(f64::NAN, |(_, law)| law.draw(rng))
            }
        }
    }
}

fn gpd(shape: f64, scale: f64) -> Result<GeneralizedPareto> {
    GeneralizedPareto::new(shape, scale)
}

/// Exact CRPS of `zero_prob·δ_0 + (1 - zero_prob)·Poisson(mean)` at `y`: the cdf is
/// constant on each `[k, k + 1)`, so the integral is a sum over `k`, truncated where
/// the Poisson tail is negligible (`mean + 40√mean + 40`; the cdf is taken as 1
/// beyond).
fn count_crps(y: f64, zero_prob: f64, mean: f64) -> f64 {
    if !(mean > 0.0 && mean.is_finite() && (0.0..1.0).contains(&zero_prob)) {
        return f64::NAN;
    }
    let k_hi = (mean + 40.0 * mean.sqrt() + 40.0).ceil();
    // Below 0 the cdf is 0: only (1 - 0)² over [y, 0) counts.
    let mut total = (0.0 - y).max(0.0) + (y - k_hi).max(0.0);
    let (ln_mean, mut ln_pmf, mut cdf) = (mean.ln(), -mean, 0.0);
    let mut k = 0.0;
    while k < k_hi {
        if k > 0.0 {
            ln_pmf += ln_mean - k.ln();
        }
        cdf += ln_pmf.exp();
        let f = (zero_prob + (1.0 - zero_prob) * cdf).min(1.0);
        // The piece [k, k + 1) split at y.
        let below = (y.min(k + 1.0) - k).clamp(0.0, 1.0);
        total += f * f * below + (1.0 - f) * (1.0 - f) * (1.0 - below);
        k += 1.0;
    }
    total
}

/// Adaptive 7/15-point Gauss–Kronrod integral of `f` over `[a, b]` to absolute
/// tolerance `tol`.
fn gauss_kronrod(f: &dyn Fn(f64) -> f64, a: f64, b: f64, tol: f64, depth: u32) -> f64 {
    const XK: [f64; 8] = [
        0.991_455_371_120_812_6,
        0.949_107_912_342_758_5,
        0.864_864_423_359_769_1,
        0.741_531_185_599_394_4,
        0.586_087_235_467_691_1,
        0.405_845_151_377_397_2,
        0.207_784_955_007_898_5,
        0.0,
    ];
    const WK: [f64; 8] = [
        0.022_935_322_010_529_22,
        0.063_092_092_629_978_55,
        0.104_790_010_322_250_18,
        0.140_653_259_715_525_92,
        0.169_004_726_639_267_9,
        0.190_350_578_064_785_4,
        0.204_432_940_075_298_9,
        0.209_482_141_084_727_83,
    ];
    // Gauss weights of the nodes XK[1], XK[3], XK[5] and XK[7] = 0.
    const WG: [f64; 4] = [
        0.129_484_966_168_869_7,
        0.279_705_391_489_276_7,
        0.381_830_050_505_118_9,
        0.417_959_183_673_469_4,
    ];
    let (c, h) = (0.5 * (a + b), 0.5 * (b - a));
    let mut kronrod = WK[7] * f(c);
    let mut gauss = WG[3] * f(c);
    for i in 0..7 {
        let pair = f(c - h * XK[i]) + f(c + h * XK[i]);
        kronrod += WK[i] * pair;
        if i % 2 == 1 {
            gauss += WG[i / 2] * pair;
        }
    }
    let (kronrod, gauss) = (kronrod * h, gauss * h);
    if depth == 0 || (kronrod - gauss).abs() <= tol {
        kronrod
    } else {
        gauss_kronrod(f, a, c, tol / 2.0, depth - 1) + gauss_kronrod(f, c, b, tol / 2.0, depth - 1)
    }
}

/// A series with its ground truth: injected anomalies, shifts, and the law of every
/// value.
///
/// # Conventions shared by every generator
///
/// * **Oracle.** `oracle[t]` is the law `values[t]` was drawn from: the law of the
///   value given the past *and the latent state* (current regime, level, scale,
///   seasonal position), before any anomaly is injected. It differs from the law given
///   the past alone only at the steps where a random regime change or level shift
///   takes effect (where the law given the past alone is a mixture putting the
///   hazard, about 1/1000, on the new regime), so it is the ideal one-step
///   forecast everywhere else. Oracle PIT values of non-anomalous points are exactly
///   uniform (randomised on the atoms of count laws).
/// * **Anomalies.** `anomalies` are sorted start indices, `anomaly_lengths` their
///   lengths (1 for a point anomaly, the stretch length for a stuck sensor). They are
///   placed at or after [`ANOMALY_SKIP`] (after the default detector's warm-up of
///   1,000 steps), at least 50 steps apart, never from 20 steps before a shift to
///   300 steps after it, about one per 1,000 steps. An anomaly *replaces* the value.
/// * **Shifts.** `shifts` are sorted indices where a new level, regime or behaviour
///   takes effect; `shift_sizes[i]` is the change of location at `shifts[i]` in noise
///   scales (the larger of the scales before and after; 0 for the end of a stuck
///   stretch, where the location does not change). Shifts are not anomalies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelledSeries {
    /// The observations, anomalies included.
    pub values: Vec<f64>,
    /// Start indices of the injected anomalies, sorted.
    pub anomalies: Vec<usize>,
    /// Length of each anomaly (1 for a point, the stretch for a stuck sensor).
    pub anomaly_lengths: Vec<usize>,
    /// Indices where a level, scale or regime change takes effect, sorted.
    pub shifts: Vec<usize>,
    /// The change of location at each shift in noise scales.
    pub shift_sizes: Vec<f64>,
    /// The law of each value given the past and the latent state, without the
    /// anomaly injection.
    pub oracle: Vec<StepLaw>,
}

impl LabelledSeries {
    /// `mask[t]`: step `t` lies inside an injected anomaly.
    pub fn anomalous_mask(&self) -> Vec<bool> {
        let mut mask = vec![false; self.values.len()];
        for (&a, &len) in self.anomalies.iter().zip(&self.anomaly_lengths) {
            let end = (a + len).min(mask.len());
            mask[a.min(end)..end].fill(true);
        }
        mask
    }

    /// `mask[t]`: step `t` is clean, i.e. not inside an anomaly nor within
    /// `after_anomaly` steps after one ends, and not within `after_shift` steps from a
    /// shift (the shift's own index included).
    pub fn clean_mask(&self, after_anomaly: usize, after_shift: usize) -> Vec<bool> {
        let n = self.values.len();
        let mut mask = vec![true; n];
        for (&a, &len) in self.anomalies.iter().zip(&self.anomaly_lengths) {
            let end = a.saturating_add(len).saturating_add(after_anomaly).min(n);
            mask[a.min(end)..end].fill(false);
        }
        for &s in &self.shifts {
            let end = s.saturating_add(after_shift).min(n);
            mask[s.min(end)..end].fill(false);
        }
        mask
    }

    /// The oracle's one-step CRPS at every step, `oracle[t].crps(values[t])`: the
    /// reference a forecaster's CRPS is divided by (see [`crps_ratio`](super::crps_ratio)).
    pub fn oracle_crps(&self) -> Vec<f64> {
        self.oracle
            .iter()
            .zip(&self.values)
            .map(|(law, &y)| law.crps(y))
            .collect()
    }

    /// `mask[t]`: `t - s` is in `from..to` for a shift `s` of size at least
    /// `min_size` noise scales, `t` is before the next shift and not inside an
    /// anomaly.
    pub fn after_shift_mask(&self, min_size: f64, from: usize, to: usize) -> Vec<bool> {
        let n = self.values.len();
        let mut mask = vec![false; n];
        for (i, (&s, &size)) in self.shifts.iter().zip(&self.shift_sizes).enumerate() {
            if !(size >= min_size) {
                continue;
            }
            let next = self.shifts.get(i + 1).copied().unwrap_or(n);
            let (a, b) = (
                s.saturating_add(from),
                s.saturating_add(to).min(next).min(n),
            );
            if a < b {
                mask[a..b].fill(true);
            }
        }
        let anomalous = self.anomalous_mask();
        for (m, bad) in mask.iter_mut().zip(anomalous) {
            *m &= !bad;
        }
        mask
    }
}

/// Positions of about one anomaly per 1,000 steps: uniform in `[ANOMALY_SKIP, n - 1)`,
/// at least `ANOMALY_GAP` apart, outside the half-open `forbidden` ranges; sorted.
fn place_anomalies<R: rand::Rng + ?Sized>(
    n: usize,
    forbidden: &[(usize, usize)],
    rng: &mut R,
) -> Vec<usize> {
    let mut chosen: Vec<usize> = Vec::new();
    if n <= ANOMALY_SKIP + 1 {
        return chosen;
    }
    let count = (n as f64 * ANOMALIES_PER_STEP).round() as usize;
    for _ in 0..count * 200 {
        if chosen.len() == count {
            break;
        }
        let i = rng.random_range(ANOMALY_SKIP..n - 1);
        if forbidden.iter().any(|&(a, b)| (a..b).contains(&i))
            || chosen.iter().any(|&c| c.abs_diff(i) < ANOMALY_GAP)
        {
            continue;
        }
        chosen.push(i);
    }
    chosen.sort_unstable();
    chosen
}

/// The ranges around shifts where no anomaly goes.
fn shift_guards(shifts: &[usize]) -> Vec<(usize, usize)> {
    shifts
        .iter()
        .map(|&s| (s.saturating_sub(SHIFT_GUARD_BEFORE), s + SHIFT_GUARD_AFTER))
        .collect()
}

/// Change points at gaps drawn uniformly from `gaps`, the first after one gap.
fn change_points<R: rand::Rng + ?Sized>(
    n: usize,
    gaps: std::ops::RangeInclusive<usize>,
    rng: &mut R,
) -> Vec<usize> {
    let mut out = Vec::new();
    let mut t = rng.random_range(gaps.clone());
    while t < n {
        out.push(t);
        t += rng.random_range(gaps.clone());
    }
    out
}

/// A random sign.
fn sign<R: rand::Rng + ?Sized>(rng: &mut R) -> f64 {
    if rng.random::<bool>() { 1.0 } else { -1.0 }
}

/// Draws every value from its law.
fn draw_all<R: rand::Rng + ?Sized>(oracle: &[StepLaw], rng: &mut R) -> Vec<f64> {
    oracle.iter().map(|law| law.draw(rng)).collect()
}

/// Point anomalies (length 1) at `anomalies`.
fn points(anomalies: Vec<usize>) -> (Vec<usize>, Vec<usize>) {
    let lengths = vec![1; anomalies.len()];
    (anomalies, lengths)
}

/// How far the log-mean of [`zero_inflated_counts`] swings around `ln mean`.
const COUNT_WIGGLE: f64 = 0.4;

/// **Counts with a fixed share of zeros.** Zero-inflated Poisson counts whose Poisson
/// mean varies slowly, `λ_t = mean · exp(0.4 sin(2π t/3000 + φ))` (random phase `φ`),
/// with the structural-zero probability set at every step so that `P(value = 0)` is
/// exactly `zero_fraction`. Anomalies are large counts, `round(λ + (10..20)√λ + 5)`.
/// No shifts.
///
/// # Errors
///
/// [`Error::ProbabilityOutOfRange`] for `zero_fraction` outside (0, 1);
/// [`Error::NonPositiveParameter`]/[`Error::NonFiniteParameter`] for a bad `mean`;
/// [`Error::ParameterOutOfRange`] for a `mean` above 10,000 or so small that the
/// Poisson part alone has more zeros than `zero_fraction` (`mean e^-0.4 <= -ln
/// zero_fraction`).
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use rand::SeedableRng;
/// use tailcast::synthetic::zero_inflated_counts;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(1);
/// let s = zero_inflated_counts(20_000, 0.3, 6.0, &mut rng)?;
/// let zeros = s.values.iter().filter(|&&v| v == 0.0).count() as f64 / 20_000.0;
/// assert!((zeros - 0.3).abs() < 0.02);
/// assert!(s.values.iter().all(|v| v.fract() == 0.0 && *v >= 0.0));
/// assert!((s.oracle[5].cdf(0.0) - 0.3).abs() < 1e-12);
/// # Ok(())
/// # }
/// ```
pub fn zero_inflated_counts<R: rand::Rng + ?Sized>(
    n: usize,
    zero_fraction: f64,
    mean: f64,
    rng: &mut R,
) -> Result<LabelledSeries> {
    if !(zero_fraction > 0.0 && zero_fraction < 1.0) {
        return Err(Error::ProbabilityOutOfRange {
            name: "zero_fraction",
            value: zero_fraction,
            expected: "(0, 1)",
        });
    }
    positive("mean", mean)?;
    if mean > 1e4 {
        return Err(Error::ParameterOutOfRange {
            name: "mean",
            value: mean,
            expected: "<= 10000",
        });
    }
    if !(mean * (-COUNT_WIGGLE).exp() > -zero_fraction.ln()) {
        return Err(Error::ParameterOutOfRange {
            name: "mean",
            value: mean,
            expected: "> -ln(zero_fraction) e^0.4 (fewer Poisson zeros than zero_fraction)",
        });
    }
    let phase = rng.random::<f64>() * std::f64::consts::TAU;
    let oracle: Vec<StepLaw> = (0..n)
        .map(|t| {
            let arg = std::f64::consts::TAU * t as f64 / 3000.0 + phase;
            let lambda = mean * (COUNT_WIGGLE * arg.sin()).exp();
            let e0 = (-lambda).exp();
            StepLaw::ZeroInflatedPoisson {
                zero_prob: (zero_fraction - e0) / (1.0 - e0),
                mean: lambda,
            }
        })
        .collect();
    let mut values = draw_all(&oracle, rng);
    let anomalies = place_anomalies(n, &[], rng);
    for &a in &anomalies {
        let lambda = match oracle[a] {
            StepLaw::ZeroInflatedPoisson { mean, .. } => mean,
            _ => unreachable!("every law is zero-inflated Poisson"),
        };
        values[a] = (lambda + rng.random_range(10.0..20.0) * lambda.sqrt() + 5.0).round();
    }
    let (anomalies, anomaly_lengths) = points(anomalies);
    Ok(LabelledSeries {
        values,
        anomalies,
        anomaly_lengths,
        shifts: Vec::new(),
        shift_sizes: Vec::new(),
        oracle,
    })
}

/// Noise standard deviation of a regime of [`regime_switching`], relative to its level.
const REGIME_NOISE: f64 = 0.1;

/// **Two regimes (CPU-like).** The value sits near `low` or near `high` (normal noise
/// with sd 10 % of the level), switching after durations uniform in 300..=3000 steps
/// (starting regime at random). Every switch is a shift, not an anomaly. Anomalies
/// are spikes or dips of 6–10 noise sds.
///
/// # Errors
///
/// [`Error::NonPositiveParameter`]/[`Error::NonFiniteParameter`] for a bad `low` or
/// `high`; [`Error::ParameterOutOfRange`] for `high <= low`.
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use rand::SeedableRng;
/// use tailcast::synthetic::regime_switching;
/// let s = regime_switching(10_000, 30.0, 100.0, &mut rand::rngs::StdRng::seed_from_u64(2))?;
/// assert!(s.shifts.len() >= 3);
/// assert!(s.shift_sizes.iter().all(|&z| (z - 7.0).abs() < 1e-12)); // 70 / (0.1 · 100)
/// # Ok(())
/// # }
/// ```
pub fn regime_switching<R: rand::Rng + ?Sized>(
    n: usize,
    low: f64,
    high: f64,
    rng: &mut R,
) -> Result<LabelledSeries> {
    positive("low", low)?;
    positive("high", high)?;
    if !(high > low) {
        return Err(Error::ParameterOutOfRange {
            name: "high",
            value: high,
            expected: "> low",
        });
    }
    let mut is_high = rng.random::<bool>();
    let shifts = change_points(n, 300..=3000, rng);
    let mut next = 0;
    let oracle: Vec<StepLaw> = (0..n)
        .map(|t| {
            if shifts.get(next) == Some(&t) {
                is_high = !is_high;
                next += 1;
            }
            let level = if is_high { high } else { low };
            StepLaw::Normal {
                mean: level,
                sd: REGIME_NOISE * level,
            }
        })
        .collect();
    let mut values = draw_all(&oracle, rng);
    let anomalies = place_anomalies(n, &shift_guards(&shifts), rng);
    for &a in &anomalies {
        let (mean, sd) = match oracle[a] {
            StepLaw::Normal { mean, sd } => (mean, sd),
            _ => unreachable!("every law is normal"),
        };
        values[a] = mean + sign(rng) * rng.random_range(6.0..10.0) * sd;
    }
    let shift_sizes = vec![(high - low) / (REGIME_NOISE * high); shifts.len()];
    let (anomalies, anomaly_lengths) = points(anomalies);
    Ok(LabelledSeries {
        values,
        anomalies,
        anomaly_lengths,
        shifts,
        shift_sizes,
        oracle,
    })
}

/// **Level shifts under Student-t noise.** Level 0 plus Student-t(`dof`) noise of
/// scale 1 (the noise scale); the level jumps after durations uniform in
/// 1000..=2000 steps, by a random sign times a size uniform in 5–15 scales (80 % of
/// the shifts) or 1–5 scales (20 %). Anomalies are spikes or dips of 20–40 scales.
///
/// # Errors
///
/// [`Error::ParameterOutOfRange`] for `dof <= 1` (the CRPS needs a mean) or not
/// finite.
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use rand::SeedableRng;
/// use tailcast::synthetic::level_shifts;
/// let s = level_shifts(20_000, 4.0, &mut rand::rngs::StdRng::seed_from_u64(3))?;
/// assert!(s.shifts.len() >= 9 && s.anomalies.len() >= 10);
/// assert!(s.shift_sizes.iter().all(|&z| (1.0..=15.0).contains(&z)));
/// # Ok(())
/// # }
/// ```
pub fn level_shifts<R: rand::Rng + ?Sized>(
    n: usize,
    dof: f64,
    rng: &mut R,
) -> Result<LabelledSeries> {
    if !(dof > 1.0 && dof.is_finite()) {
        return Err(Error::ParameterOutOfRange {
            name: "dof",
            value: dof,
            expected: "finite and > 1",
        });
    }
    let shifts = change_points(n, 1000..=2000, rng);
    let shift_sizes: Vec<f64> = shifts
        .iter()
        .map(|_| {
            if rng.random::<f64>() < 0.8 {
                rng.random_range(5.0..15.0)
            } else {
                rng.random_range(1.0..5.0)
            }
        })
        .collect();
    let mut level = 0.0;
    let mut next = 0;
    let mut oracle = Vec::with_capacity(n);
    for t in 0..n {
        if shifts.get(next) == Some(&t) {
            level += sign(rng) * shift_sizes[next];
            next += 1;
        }
        oracle.push(StepLaw::StudentT {
            location: level,
            scale: 1.0,
            dof,
        });
    }
    let mut values = draw_all(&oracle, rng);
    let anomalies = place_anomalies(n, &shift_guards(&shifts), rng);
    for &a in &anomalies {
        values[a] = oracle[a].mean() + sign(rng) * rng.random_range(20.0..40.0);
    }
    let (anomalies, anomaly_lengths) = points(anomalies);
    Ok(LabelledSeries {
        values,
        anomalies,
        anomaly_lengths,
        shifts,
        shift_sizes,
        oracle,
    })
}

/// Level of [`normal_bursts`].
const BURST_LEVEL: f64 = 50.0;
/// GPD scale of the bursts of [`normal_bursts`], in noise sds.
const BURST_SCALE: f64 = 2.0;

/// **Bursts that are normal.** Around a level of 50, each value is normal noise
/// (sd 1) with probability `1 - burst_prob` and otherwise a burst `50 + GPD(
/// tail_shape, 2)` (a Lomax jump for `tail_shape > 0`): the oracle is that mixture,
/// so bursts are ordinary. Injected anomalies are far larger: upward ones 1–2 times
/// the burst quantile of level `1 - 1e-7/burst_prob` (an upper tail probability of
/// 1e-7), downward ones 8–12 sds below the level.
///
/// # Errors
///
/// [`Error::ProbabilityOutOfRange`] for `burst_prob` outside (0, 0.5);
/// [`Error::ParameterOutOfRange`] for `tail_shape` outside `[0, 1)`.
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use rand::SeedableRng;
/// use tailcast::synthetic::normal_bursts;
/// let s = normal_bursts(20_000, 0.07, 0.4, &mut rand::rngs::StdRng::seed_from_u64(4))?;
/// // Above 53, three noise sds: 0.1 % of the normal part, 31 % of the bursts.
/// let high = s.values.iter().filter(|&&v| v > 53.0).count() as f64 / 20_000.0;
/// assert!((high - (0.93 * 0.00135 + 0.07 * 0.31)).abs() < 0.005);
/// # Ok(())
/// # }
/// ```
pub fn normal_bursts<R: rand::Rng + ?Sized>(
    n: usize,
    burst_prob: f64,
    tail_shape: f64,
    rng: &mut R,
) -> Result<LabelledSeries> {
    if !(burst_prob > 0.0 && burst_prob < 0.5) {
        return Err(Error::ProbabilityOutOfRange {
            name: "burst_prob",
            value: burst_prob,
            expected: "(0, 0.5)",
        });
    }
    if !(0.0..1.0).contains(&tail_shape) {
        return Err(Error::ParameterOutOfRange {
            name: "tail_shape",
            value: tail_shape,
            expected: "in [0, 1)",
        });
    }
    let law = StepLaw::Mixture(vec![
        (
            1.0 - burst_prob,
            StepLaw::Normal {
                mean: BURST_LEVEL,
                sd: 1.0,
            },
        ),
        (
            burst_prob,
            StepLaw::Gpd {
                location: BURST_LEVEL,
                scale: BURST_SCALE,
                shape: tail_shape,
            },
        ),
    ]);
    let oracle = vec![law; n];
    let mut values = draw_all(&oracle, rng);
    let big = gpd(tail_shape, BURST_SCALE)?.quantile(1.0 - 1e-7 / burst_prob);
    let anomalies = place_anomalies(n, &[], rng);
    for &a in &anomalies {
        values[a] = if rng.random::<bool>() {
            BURST_LEVEL + big * rng.random_range(1.0..2.0)
        } else {
            BURST_LEVEL - rng.random_range(8.0..12.0)
        };
    }
    let (anomalies, anomaly_lengths) = points(anomalies);
    Ok(LabelledSeries {
        values,
        anomalies,
        anomaly_lengths,
        shifts: Vec::new(),
        shift_sizes: Vec::new(),
        oracle,
    })
}

/// **Flat lines (a stuck sensor).** A slow sine around 20 (amplitude 3, period 1000)
/// plus normal noise (sd 1), with stretches of 20–300 steps where the value is stuck
/// at the last value before the stretch; stretches start from [`ANOMALY_SKIP`] on,
/// 1000–3000 steps apart. Each stretch is one anomaly (start index, length); the step
/// after it, where the sensor works again, is a shift of size 0. The oracle is the
/// working sensor's law throughout. There are no other anomalies.
///
/// A stuck value is an ordinary value, so a detector of improbable values cannot
/// flag the start of a stretch: what this series measures is the false alarms
/// after it, once a model that learned the stretch sees noise again.
///
/// # Errors
///
/// None at present (the `Result` keeps the generators uniform).
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use rand::SeedableRng;
/// use tailcast::synthetic::flat_lines;
/// let s = flat_lines(20_000, &mut rand::rngs::StdRng::seed_from_u64(5))?;
/// let (a, len) = (s.anomalies[0], s.anomaly_lengths[0]);
/// assert!(s.values[a..a + len].iter().all(|&v| v == s.values[a - 1]));
/// assert_eq!(s.shifts[0], a + len);
/// # Ok(())
/// # }
/// ```
pub fn flat_lines<R: rand::Rng + ?Sized>(n: usize, rng: &mut R) -> Result<LabelledSeries> {
    let phase = rng.random::<f64>() * std::f64::consts::TAU;
    let oracle: Vec<StepLaw> = (0..n)
        .map(|t| StepLaw::Normal {
            mean: 20.0 + 3.0 * (std::f64::consts::TAU * t as f64 / 1000.0 + phase).sin(),
            sd: 1.0,
        })
        .collect();
    let mut values = draw_all(&oracle, rng);
    let (mut anomalies, mut anomaly_lengths, mut shifts) = (Vec::new(), Vec::new(), Vec::new());
    let mut start = ANOMALY_SKIP + rng.random_range(0..=1000);
    loop {
        let len = rng.random_range(20..=300);
        if start + len >= n {
            break;
        }
        let stuck = values[start - 1];
        values[start..start + len].fill(stuck);
        anomalies.push(start);
        anomaly_lengths.push(len);
        shifts.push(start + len);
        start += len + rng.random_range(1000..=3000);
    }
    let shift_sizes = vec![0.0; shifts.len()];
    Ok(LabelledSeries {
        values,
        anomalies,
        anomaly_lengths,
        shifts,
        shift_sizes,
        oracle,
    })
}

/// **Drifting scale.** Normal noise around 0 whose sd grows geometrically from 1 to
/// `factor` over the series (`sd_t = factor^(t/(n-1))`). Anomalies are spikes or dips
/// of 8–12 current sds. No shifts.
///
/// # Errors
///
/// [`Error::NonPositiveParameter`]/[`Error::NonFiniteParameter`] for a bad `factor`.
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use rand::SeedableRng;
/// use tailcast::synthetic::{drifting_scale, StepLaw};
/// let s = drifting_scale(1_001, 4.0, &mut rand::rngs::StdRng::seed_from_u64(6))?;
/// assert_eq!(s.oracle[1_000], StepLaw::Normal { mean: 0.0, sd: 4.0 });
/// # Ok(())
/// # }
/// ```
pub fn drifting_scale<R: rand::Rng + ?Sized>(
    n: usize,
    factor: f64,
    rng: &mut R,
) -> Result<LabelledSeries> {
    positive("factor", factor)?;
    let last = n.saturating_sub(1).max(1) as f64;
    let oracle: Vec<StepLaw> = (0..n)
        .map(|t| StepLaw::Normal {
            mean: 0.0,
            sd: factor.powf(t as f64 / last),
        })
        .collect();
    let mut values = draw_all(&oracle, rng);
    let anomalies = place_anomalies(n, &[], rng);
    for &a in &anomalies {
        values[a] = sign(rng) * rng.random_range(8.0..12.0) * oracle[a].scale();
    }
    let (anomalies, anomaly_lengths) = points(anomalies);
    Ok(LabelledSeries {
        values,
        anomalies,
        anomaly_lengths,
        shifts: Vec::new(),
        shift_sizes: Vec::new(),
        oracle,
    })
}

/// **Daily and weekly seasonality (hourly data).** A positive location
/// `100 (1 + 0.5 sin(2π (t - 6)/24)) (1 + 0.25 sin(2π t/168))` (between 37.5 and
/// 187.5) with multiplicative normal noise: sd 5 % of the location. Anomalies are
/// spikes or dips of 8–12 current sds. No shifts.
///
/// # Errors
///
/// None at present (the `Result` keeps the generators uniform).
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use rand::SeedableRng;
/// use tailcast::synthetic::daily_weekly;
/// let s = daily_weekly(24 * 7 * 10, &mut rand::rngs::StdRng::seed_from_u64(7))?;
/// assert!(s.values.iter().all(|&v| v > 0.0));
/// // Noon is busier than midnight.
/// assert!(s.oracle[12].mean() > 2.0 * s.oracle[0].mean());
/// # Ok(())
/// # }
/// ```
pub fn daily_weekly<R: rand::Rng + ?Sized>(n: usize, rng: &mut R) -> Result<LabelledSeries> {
    use std::f64::consts::TAU;
    let oracle: Vec<StepLaw> = (0..n)
        .map(|t| {
            let t = t as f64;
            let mean = 100.0
                * (1.0 + 0.5 * (TAU * (t - 6.0) / 24.0).sin())
                * (1.0 + 0.25 * (TAU * t / 168.0).sin());
            StepLaw::Normal {
                mean,
                sd: 0.05 * mean,
            }
        })
        .collect();
    let mut values = draw_all(&oracle, rng);
    let anomalies = place_anomalies(n, &[], rng);
    for &a in &anomalies {
        values[a] = oracle[a].mean() + sign(rng) * rng.random_range(8.0..12.0) * oracle[a].scale();
    }
    let (anomalies, anomaly_lengths) = points(anomalies);
    Ok(LabelledSeries {
        values,
        anomalies,
        anomaly_lengths,
        shifts: Vec::new(),
        shift_sizes: Vec::new(),
        oracle,
    })
}

/// Every pathology with fixed parameters, each from its own RNG seeded from `seed`
/// and its position: `zero_inflated_counts` (30 % zeros, mean 6),
/// `regime_switching` (30 / 100), `level_shifts` (Student-t, 4 dof),
/// `normal_bursts` (7 % bursts, shape 0.4), `flat_lines`, `drifting_scale`
/// (factor 4) and `daily_weekly`.
///
/// # Errors
///
/// None for these parameters (the generators' errors are passed on).
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// let suite = tailcast::synthetic::pathology_suite(42, 3_000)?;
/// assert_eq!(suite.len(), 7);
/// for (name, s) in &suite {
///     assert_eq!(s.values.len(), 3_000, "{name}");
///     assert_eq!(s.oracle.len(), 3_000, "{name}");
/// }
/// # Ok(())
/// # }
/// ```
pub fn pathology_suite(seed: u64, n: usize) -> Result<Vec<(&'static str, LabelledSeries)>> {
    use rand::SeedableRng;
    let rng = |i: u64| rand::rngs::StdRng::seed_from_u64(seed.wrapping_mul(1_000).wrapping_add(i));
    Ok(vec![
        (
            "zero_inflated_counts",
            zero_inflated_counts(n, 0.3, 6.0, &mut rng(1))?,
        ),
        (
            "regime_switching",
            regime_switching(n, 30.0, 100.0, &mut rng(2))?,
        ),
        ("level_shifts", level_shifts(n, 4.0, &mut rng(3))?),
        ("normal_bursts", normal_bursts(n, 0.07, 0.4, &mut rng(4))?),
        ("flat_lines", flat_lines(n, &mut rng(5))?),
        ("drifting_scale", drifting_scale(n, 4.0, &mut rng(6))?),
        ("daily_weekly", daily_weekly(n, &mut rng(7))?),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadrature_matches_closed_forms() {
        for law in [
            StepLaw::Normal { mean: 1.0, sd: 2.0 },
            StepLaw::StudentT {
                location: -1.0,
                scale: 0.5,
                dof: 3.0,
            },
            StepLaw::Gpd {
                location: 2.0,
                scale: 1.5,
                shape: 0.4,
            },
        ] {
            for y in [-30.0, -2.0, 0.0, 0.7, 3.0, 50.0] {
                let (exact, numeric) = (law.crps(y), law.crps_by_quadrature(y));
                assert!(
                    (exact - numeric).abs() < 1e-8 * (1.0 + exact),
                    "{law:?} at {y}: {exact} vs {numeric}"
                );
            }
        }
    }

    #[test]
    fn count_crps_matches_the_kernel_form() {
        // E|X - y| - E|X - X'|/2 by direct sums over the support.
        let (pi, mean) = (0.25, 4.0);
        let law = StepLaw::ZeroInflatedPoisson {
            zero_prob: pi,
            mean,
        };
        let pmf: Vec<f64> = (0..80)
            .map(|k| {
                let p = (k as f64 * mean.ln() - mean - ln_gamma(k as f64 + 1.0)).exp();
                (1.0 - pi) * p + if k == 0 { pi } else { 0.0 }
            })
            .collect();
        let mut spread = 0.0;
        for (i, p) in pmf.iter().enumerate() {
            for (j, q) in pmf.iter().enumerate() {
                spread += p * q * (i as f64 - j as f64).abs();
            }
        }
        for y in [-3.0, 0.0, 0.5, 2.0, 7.0, 40.0] {
            let abs: f64 = pmf
                .iter()
                .enumerate()
                .map(|(k, p)| p * (k as f64 - y).abs())
                .sum();
            let kernel = abs - spread / 2.0;
            assert!((law.crps(y) - kernel).abs() < 1e-12, "{y}");
        }
    }
}
