//! The spliced binned-Pareto distribution: a histogram body with GPD tails.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Binned, GeneralizedPareto};
use crate::error::{Error, Result, all_finite};

/// One tail of a [`SplicedBinnedPareto`]: the probability `mass` it carries and the
/// generalized Pareto law of the distance beyond its threshold.
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::{GeneralizedPareto, Tail};
/// let tail = Tail::new(0.05, GeneralizedPareto::new(0.2, 1.0)?)?;
/// assert_eq!(tail.mass(), 0.05);
/// assert!(Tail::new(0.5, GeneralizedPareto::new(0.2, 1.0)?).is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TailParams", into = "TailParams")]
pub struct Tail {
    mass: f64,
    gpd: GeneralizedPareto,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct TailParams {
    mass: f64,
    gpd: GeneralizedPareto,
}

impl TryFrom<TailParams> for Tail {
    type Error = Error;
    fn try_from(p: TailParams) -> Result<Self> {
        Self::new(p.mass, p.gpd)
    }
}

impl From<Tail> for TailParams {
    fn from(t: Tail) -> Self {
        Self {
            mass: t.mass,
            gpd: t.gpd,
        }
    }
}

/// Checks a tail mass: in the open interval (0, 0.5), NaN rejected. The one rule
/// behind every tail mass of the crate (a tail's, a fit's, a metric's region).
///
/// # Errors
///
/// [`Error::TailMassOutOfRange`] naming `name`.
pub(crate) fn check_tail_mass(name: &'static str, mass: f64) -> Result<f64> {
    if mass > 0.0 && mass < 0.5 {
        Ok(mass)
    } else {
        Err(Error::TailMassOutOfRange { name, value: mass })
    }
}

impl Tail {
    /// A tail with probability `mass` in the open interval (0, 0.5).
    ///
    /// # Errors
    ///
    /// [`Error::TailMassOutOfRange`] naming `mass` (NaN included).
    pub fn new(mass: f64, gpd: GeneralizedPareto) -> Result<Self> {
        let mass = check_tail_mass("mass", mass)?;
        Ok(Self { mass, gpd })
    }

    /// The probability carried by the tail.
    pub fn mass(&self) -> f64 {
        self.mass
    }

    /// The GPD of the excess beyond the threshold.
    pub fn gpd(&self) -> &GeneralizedPareto {
        &self.gpd
    }
}

/// Spliced binned-Pareto distribution (SBP; Ehrlich, Callot and Aubet, *Spliced
/// Binned-Pareto Distribution for Robust Modeling of Heavy-tailed Time Series*, ICLR
/// 2021 RobustML workshop, [arXiv:2106.10952](https://arxiv.org/abs/2106.10952)).
///
/// The body is a [`Binned`] distribution; below its `p_l`-quantile `τ_l` and above its
/// `(1 - p_u)`-quantile `τ_u` the body is replaced by generalized Pareto tails carrying
/// exactly the masses `p_l` and `p_u`:
///
/// ```text
/// f(x) = p_l g_l(τ_l - x)     x < τ_l        (lower tail, mirrored excess)
/// f(x) = f_body(x)            τ_l <= x <= τ_u
/// f(x) = p_u g_u(x - τ_u)     x > τ_u        (upper tail)
/// F(τ_l) = p_l,  F(τ_u) = 1 - p_u
/// ```
///
/// This is the normalised density: it integrates to exactly 1, its cdf is continuous
/// and strictly increasing where the density is positive, and [`quantile`] is its
/// exact inverse. (The authors' *training* loss adds the body's and the tail's
/// log-densities for tail points; that is a loss, not this density, and the
/// authors' code also counts the body mass twice: see the crate's README.) The density
/// may jump at `τ_l` and `τ_u`; nothing in the model forces continuity there.
///
/// [`quantile`]: SplicedBinnedPareto::quantile
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::{Binned, GeneralizedPareto, SplicedBinnedPareto, Tail};
///
/// let body = Binned::equal_width(0.0, 10.0, vec![1.0; 100])?;
/// let lower = Tail::new(0.05, GeneralizedPareto::new(0.1, 0.5)?)?;
/// let upper = Tail::new(0.05, GeneralizedPareto::new(0.3, 1.0)?)?;
/// let sbp = SplicedBinnedPareto::new(body, lower, upper)?;
///
/// assert!((sbp.upper_threshold() - 9.5).abs() < 1e-12);
/// assert!((sbp.cdf(sbp.upper_threshold()) - 0.95).abs() < 1e-15);
/// // Beyond τ_u the survival function is p_u times the GPD's.
/// assert!((sbp.sf(10.5) - 0.05 * (1.0 + 0.3f64).powf(-1.0 / 0.3)).abs() < 1e-15);
/// assert!((sbp.quantile(0.999) - (9.5 + (0.02f64.powf(-0.3) - 1.0) / 0.3)).abs() < 1e-12);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SbpParams", into = "SbpParams")]
pub struct SplicedBinnedPareto {
    body: Binned,
    lower: Tail,
    upper: Tail,
    lower_threshold: f64,
    upper_threshold: f64,
    ln_lower_mass: f64,
    ln_upper_mass: f64,
}

/// A tail mass up to which [`SplicedBinnedPareto::ln_nearer_tail`] knows, beyond
/// that tail's threshold, that the tail is the nearer side.
const NEAR_TAIL_MASS: f64 = 0.25;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SbpParams {
    body: Binned,
    lower: Tail,
    upper: Tail,
}

impl TryFrom<SbpParams> for SplicedBinnedPareto {
    type Error = Error;
    fn try_from(p: SbpParams) -> Result<Self> {
        Self::new(p.body, p.lower, p.upper)
    }
}

impl From<SplicedBinnedPareto> for SbpParams {
    fn from(s: SplicedBinnedPareto) -> Self {
        Self {
            body: s.body,
            lower: s.lower,
            upper: s.upper,
        }
    }
}

impl SplicedBinnedPareto {
    /// Splices `lower` and `upper` onto `body` at the body's quantiles `p_l` and
    /// `1 - p_u`.
    ///
    /// # Errors
    ///
    /// None today beyond those of the parts' constructors (the parts are valid by
    /// construction and two masses below 1/2 always leave a body between the
    /// thresholds); the `Result` keeps room for future checks.
    pub fn new(body: Binned, lower: Tail, upper: Tail) -> Result<Self> {
        let mut sbp = Self {
            body,
            lower,
            upper,
            lower_threshold: 0.0,
            upper_threshold: 0.0,
            ln_lower_mass: 0.0,
            ln_upper_mass: 0.0,
        };
        sbp.splice();
        Ok(sbp)
    }

    /// The paper's parametrisation: `logits.len()` equal-width bins between `low` and
    /// `high` with masses `softmax(logits)`, the same `tail_mass` for both tails, and
    /// the lower and upper GPDs.
    ///
    /// # Errors
    ///
    /// [`Error::NonFiniteValue`] for a non-finite logit, [`Error::TailMassOutOfRange`]
    /// for `tail_mass` outside (0, 0.5), and the errors of [`Binned::equal_width`].
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> Result<(), tailcast::Error> {
    /// use tailcast::{GeneralizedPareto, SplicedBinnedPareto};
    /// let gpd = GeneralizedPareto::new(0.2, 0.8)?;
    /// let sbp = SplicedBinnedPareto::from_logits(0.0, 10.0, &[0.0; 100], 0.05, gpd, gpd)?;
    /// assert!((sbp.lower_threshold() - 0.5).abs() < 1e-12);
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_logits(
        low: f64,
        high: f64,
        logits: &[f64],
        tail_mass: f64,
        lower: GeneralizedPareto,
        upper: GeneralizedPareto,
    ) -> Result<Self> {
        all_finite("logits", logits)?;
        let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let probs = logits.iter().map(|&l| (l - max).exp()).collect();
        let body = Binned::equal_width(low, high, probs)?;
        let lower = Tail::new(tail_mass, lower).map_err(|_| Error::TailMassOutOfRange {
            name: "tail_mass",
            value: tail_mass,
        })?;
        let upper = Tail::new(tail_mass, upper)?;
        Self::new(body, lower, upper)
    }

    /// Replaces the body's bin probabilities and both tails in place, reusing the
    /// body's buffers (no allocation): the update a rolling forecaster makes each step.
    ///
    /// # Errors
    ///
    /// As [`Binned::set_probs`]; on error `self` is unchanged.
    pub fn update(&mut self, probs: &[f64], lower: Tail, upper: Tail) -> Result<()> {
        self.body.set_probs(probs)?;
        self.lower = lower;
        self.upper = upper;
        self.splice();
        Ok(())
    }

    /// As [`update`](Self::update), and also moves the body's grid to equal-width
    /// bins on `[low, high]`, reusing every buffer (no allocation).
    ///
    /// # Errors
    ///
    /// As [`Binned::equal_width`] and [`Binned::set_probs`]; on error `self` is
    /// unchanged.
    pub(crate) fn update_grid(
        &mut self,
        low: f64,
        high: f64,
        probs: &[f64],
        lower: Tail,
        upper: Tail,
    ) -> Result<()> {
        self.body.set_equal_width(low, high, probs)?;
        self.lower = lower;
        self.upper = upper;
        self.splice();
        Ok(())
    }

    fn splice(&mut self) {
        self.lower_threshold = self.body.quantile(self.lower.mass);
        self.upper_threshold = self.body.quantile(1.0 - self.upper.mass);
        self.ln_lower_mass = self.lower.mass.ln();
        self.ln_upper_mass = self.upper.mass.ln();
    }

    /// The body.
    pub fn body(&self) -> &Binned {
        &self.body
    }

    /// The lower tail.
    pub fn lower_tail(&self) -> &Tail {
        &self.lower
    }

    /// The upper tail.
    pub fn upper_tail(&self) -> &Tail {
        &self.upper
    }

    /// `τ_l`, the body's quantile at the lower tail mass.
    pub fn lower_threshold(&self) -> f64 {
        self.lower_threshold
    }

    /// `τ_u`, the body's quantile at one minus the upper tail mass.
    pub fn upper_threshold(&self) -> f64 {
        self.upper_threshold
    }

    /// The support: unbounded on a side whose GPD shape is `>= 0`.
    pub fn support(&self) -> (f64, f64) {
        (
            self.lower_threshold - self.lower.gpd.upper_endpoint(),
            self.upper_threshold + self.upper.gpd.upper_endpoint(),
        )
    }

    /// Density.
    pub fn pdf(&self, x: f64) -> f64 {
        if x < self.lower_threshold {
            self.lower.mass * self.lower.gpd.pdf(self.lower_threshold - x)
        } else if x > self.upper_threshold {
            self.upper.mass * self.upper.gpd.pdf(x - self.upper_threshold)
        } else {
            self.body.pdf(x) // NaN falls through to here and comes back NaN
        }
    }

    /// Log-density.
    pub fn ln_pdf(&self, x: f64) -> f64 {
        if x < self.lower_threshold {
            self.ln_lower_mass + self.lower.gpd.ln_pdf(self.lower_threshold - x)
        } else if x > self.upper_threshold {
            self.ln_upper_mass + self.upper.gpd.ln_pdf(x - self.upper_threshold)
        } else {
            self.body.ln_pdf(x)
        }
    }

    /// Cumulative distribution function.
    pub fn cdf(&self, x: f64) -> f64 {
        if x < self.lower_threshold {
            self.lower.mass * self.lower.gpd.sf(self.lower_threshold - x)
        } else if x > self.upper_threshold {
            1.0 - self.upper.mass * self.upper.gpd.sf(x - self.upper_threshold)
        } else {
            self.body.cdf(x)
        }
    }

    /// Survival function `P(X > x)`, accurate in the upper tail.
    pub fn sf(&self, x: f64) -> f64 {
        if x < self.lower_threshold {
            1.0 - self.lower.mass * self.lower.gpd.sf(self.lower_threshold - x)
        } else if x > self.upper_threshold {
            self.upper.mass * self.upper.gpd.sf(x - self.upper_threshold)
        } else {
            self.body.sf(x)
        }
    }

    /// `ln cdf(x)`, accurate deep in the lower tail (where `cdf` underflows).
    pub fn ln_cdf(&self, x: f64) -> f64 {
        if x < self.lower_threshold {
            self.ln_lower_mass + self.lower.gpd.ln_sf(self.lower_threshold - x)
        } else if x > self.upper_threshold {
            (-self.upper.mass * self.upper.gpd.sf(x - self.upper_threshold)).ln_1p()
        } else {
            self.body.cdf(x).ln()
        }
    }

    /// `ln sf(x)`, accurate deep in the upper tail (where `sf` underflows).
    pub fn ln_sf(&self, x: f64) -> f64 {
        if x < self.lower_threshold {
            (-self.lower.mass * self.lower.gpd.sf(self.lower_threshold - x)).ln_1p()
        } else if x > self.upper_threshold {
            self.ln_upper_mass + self.upper.gpd.ln_sf(x - self.upper_threshold)
        } else {
            self.body.sf(x).ln()
        }
    }

    /// The log-probability of the nearer tail at `x` and which one it is:
    /// `(ln cdf(x), false)` if `cdf(x) < sf(x)`, else `(ln sf(x), true)`, as
    /// accurate as [`ln_cdf`](Self::ln_cdf) and [`ln_sf`](Self::ln_sf) (and
    /// computing only one logarithm in the body, where a two-sided test needs only
    /// the smaller side).
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> Result<(), tailcast::Error> {
    /// let sbp = tailcast::synthetic::reference_sbp(100);
    /// let (ln_p, upper) = sbp.ln_nearer_tail(sbp.quantile(0.999));
    /// assert!(upper && (ln_p - 0.001f64.ln()).abs() < 1e-9);
    /// let (ln_p, upper) = sbp.ln_nearer_tail(sbp.quantile(0.2));
    /// assert!(!upper && (ln_p - 0.2f64.ln()).abs() < 1e-9);
    /// # Ok(())
    /// # }
    /// ```
    #[inline]
    pub fn ln_nearer_tail(&self, x: f64) -> (f64, bool) {
        if x >= self.lower_threshold && x <= self.upper_threshold {
            let (c, s) = self.body.cdf_and_sf(x);
            return if c < s {
                (c.ln(), false)
            } else {
                (s.ln(), true)
            };
        }
        // Beyond a threshold whose tail holds at most a quarter, that tail's side is
        // at most `ln 1/4` and the other at least `ln(1 - 1/4)`: the comparison is
        // decided without the other side's logarithm (NaN takes the full path).
        if x > self.upper_threshold
            && x >= self.lower_threshold
            && self.upper.mass <= NEAR_TAIL_MASS
        {
            return (self.ln_sf(x), true);
        }
        if x < self.lower_threshold
            && x <= self.upper_threshold
            && self.lower.mass <= NEAR_TAIL_MASS
        {
            let ln_c = self.ln_cdf(x);
            if !ln_c.is_nan() {
                return (ln_c, false);
            }
        }
        let (ln_c, ln_s) = (self.ln_cdf(x), self.ln_sf(x));
        if ln_c < ln_s {
            (ln_c, false)
        } else {
            (ln_s, true)
        }
    }

    /// Quantile function, the exact inverse of [`cdf`](Self::cdf); `NaN` for `p`
    /// outside `[0, 1]`. `quantile(0)` and `quantile(1)` are the ends of the support.
    #[doc(alias = "inverse_cdf")]
    pub fn quantile(&self, p: f64) -> f64 {
        if !(0.0..=1.0).contains(&p) {
            f64::NAN
        } else if p < self.lower.mass {
            self.lower_threshold - self.lower.gpd.inverse_sf(p / self.lower.mass)
        } else if p > 1.0 - self.upper.mass {
            self.upper_threshold + self.upper.gpd.inverse_sf((1.0 - p) / self.upper.mass)
        } else {
            self.body
                .quantile(p)
                .clamp(self.lower_threshold, self.upper_threshold)
        }
    }

    /// The quantile at `p`, or an error if `p` is not in `[0, 1]`.
    ///
    /// # Errors
    ///
    /// [`Error::ProbabilityOutOfRange`] naming `p`.
    pub fn try_quantile(&self, p: f64) -> Result<f64> {
        super::check_level(p)?;
        Ok(self.quantile(p))
    }

    /// Quantiles at several levels, written into `out` (no allocation).
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`] if the slices differ in length,
    /// [`Error::ProbabilityOutOfRange`] for a level outside `[0, 1]`.
    pub fn quantiles_into(&self, levels: &[f64], out: &mut [f64]) -> Result<()> {
        if levels.len() != out.len() {
            return Err(Error::LengthMismatch {
                name: "out",
                expected: levels.len(),
                got: out.len(),
            });
        }
        for (o, &p) in out.iter_mut().zip(levels) {
            *o = self.try_quantile(p)?;
        }
        Ok(())
    }

    /// Mean; `None` when a tail shape is `>= 1` (the mean is infinite).
    pub fn mean(&self) -> Option<f64> {
        let lower = self.lower.gpd.mean()?;
        let upper = self.upper.gpd.mean()?;
        let body = self
            .body
            .partial_moment(self.lower_threshold, self.upper_threshold, 0.0, 1);
        Some(
            body + self.lower.mass * (self.lower_threshold - lower)
                + self.upper.mass * (self.upper_threshold + upper),
        )
    }

    /// Variance; `None` when a tail shape is `>= 1/2`.
    pub fn variance(&self) -> Option<f64> {
        let mean = self.mean()?;
        let tail_part = |tail: &Tail, offset: f64| -> Option<f64> {
            // E[(offset + Z)^2] for Z the GPD excess, offset = threshold - mean (signed).
            let m = tail.gpd.mean()?;
            let v = tail.gpd.variance()?;
            Some(tail.mass * (offset * offset + 2.0 * offset * m + v + m * m))
        };
        let lower = tail_part(&self.lower, mean - self.lower_threshold)?;
        let upper = tail_part(&self.upper, self.upper_threshold - mean)?;
        let body = self
            .body
            .partial_moment(self.lower_threshold, self.upper_threshold, mean, 2);
        Some(body + lower + upper)
    }

    /// The probability carried between the thresholds, `1 - p_l - p_u`, computed by
    /// integrating the body: a check that the splice is normalised.
    pub fn body_mass(&self) -> f64 {
        self.body
            .partial_moment(self.lower_threshold, self.upper_threshold, 0.0, 0)
    }

    pub(crate) fn sample_with<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let u: f64 = rand::RngExt::sample(rng, rand::distr::Open01);
        self.quantile(u)
    }
}

impl fmt::Display for SplicedBinnedPareto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SplicedBinnedPareto(bins={}, lower: mass={} below {} with {}, upper: mass={} above {} with {})",
            self.body.bins(),
            self.lower.mass,
            self.lower_threshold,
            self.lower.gpd,
            self.upper.mass,
            self.upper_threshold,
            self.upper.gpd
        )
    }
}

super::impl_distribution_traits!(SplicedBinnedPareto);

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> SplicedBinnedPareto {
        crate::synthetic::reference_sbp(100)
    }

    #[test]
    fn the_nearer_tail_is_the_comparison_of_both_sides_bit_for_bit() {
        let body = Binned::equal_width(-2.0, 3.0, vec![1.0, 4.0, 2.0, 0.5, 3.0]).unwrap();
        let mut laws = vec![example()];
        for (mass, shape) in [
            (0.05, 0.4),
            (0.25, -0.3),
            (0.3, 0.0),
            (0.45, 2.0),
            (0.01, 0.1),
        ] {
            let tail = |s: f64| Tail::new(mass, GeneralizedPareto::new(s, 0.7).unwrap()).unwrap();
            laws.push(SplicedBinnedPareto::new(body.clone(), tail(shape), tail(-shape)).unwrap());
        }
        for law in &laws {
            let (lo, hi) = (law.lower_threshold(), law.upper_threshold());
            let mut xs = vec![
                f64::NAN,
                f64::MAX,
                -f64::MAX,
                lo,
                hi,
                lo.next_down(),
                hi.next_up(),
            ];
            for i in -400..=400 {
                xs.push(lo + (hi - lo) * f64::from(i) / 40.0);
                xs.push(hi + 1e3 * f64::from(i).powi(3));
            }
            for x in xs {
                let (ln_c, ln_s) = (law.ln_cdf(x), law.ln_sf(x));
                let want = if ln_c < ln_s {
                    (ln_c, false)
                } else {
                    (ln_s, true)
                };
                let got = law.ln_nearer_tail(x);
                assert_eq!((got.0.to_bits(), got.1), (want.0.to_bits(), want.1), "{x}");
            }
        }
    }

    #[test]
    fn matches_the_reference_thresholds_and_values() {
        // The numpy reference's test distribution (scripts/gen_fixtures.py): τ = (2.576350, 6.524515),
        // icdf(0.001, 0.5, 0.999) = -1.146375, 4.550108, 11.271412; mean 4.56447.
        let s = example();
        assert!((s.lower_threshold() - 2.576350).abs() < 5e-7);
        assert!((s.upper_threshold() - 6.524515).abs() < 5e-7);
        assert!((s.quantile(0.001) - -1.146375).abs() < 5e-7);
        assert!((s.quantile(0.5) - 4.550108).abs() < 5e-7);
        assert!((s.quantile(0.999) - 11.271412).abs() < 5e-7);
        assert!((s.mean().unwrap() - 4.56447).abs() < 5e-6);
        assert!((s.ln_pdf(9.0) - -5.66296).abs() < 5e-6);
    }

    #[test]
    fn splice_is_normalised_and_continuous_in_cdf() {
        let s = example();
        assert!((s.body_mass() - 0.9).abs() < 1e-14);
        let (tl, tu) = (s.lower_threshold(), s.upper_threshold());
        assert!((s.cdf(tl) - 0.05).abs() < 1e-15);
        assert!((s.cdf(tu) - 0.95).abs() < 1e-15);
        let eps = 1e-12;
        assert!((s.cdf(tl - eps) - s.cdf(tl)).abs() < 1e-11);
        assert!((s.cdf(tu + eps) - s.cdf(tu)).abs() < 1e-11);
    }

    #[test]
    fn deep_tail_logs_do_not_underflow() {
        let s = example();
        let x = 1e200;
        assert_eq!(s.sf(x), 0.0);
        let expected = 0.05f64.ln() + s.upper_tail().gpd().ln_sf(x - s.upper_threshold());
        assert!((s.ln_sf(x) - expected).abs() < 1e-12 * expected.abs());
        assert!(s.ln_sf(x).is_finite());
        assert!(s.ln_cdf(-1e200).is_finite());
    }

    #[test]
    fn update_in_place_equals_fresh_construction() {
        let mut s = example();
        let probs: Vec<f64> = (0..100).map(|i| 1.0 + (i % 7) as f64).collect();
        let lower = Tail::new(0.02, GeneralizedPareto::new(-0.2, 1.0).unwrap()).unwrap();
        let upper = Tail::new(0.1, GeneralizedPareto::new(0.5, 2.0).unwrap()).unwrap();
        s.update(&probs, lower, upper).unwrap();
        let fresh =
            SplicedBinnedPareto::new(Binned::equal_width(0.0, 10.0, probs).unwrap(), lower, upper)
                .unwrap();
        assert_eq!(s, fresh);
    }

    #[test]
    fn update_grid_in_place_equals_fresh_construction() {
        let mut s = example();
        let probs: Vec<f64> = (0..100).map(|i| 1.0 + (i % 5) as f64).collect();
        let lower = Tail::new(0.03, GeneralizedPareto::new(0.0, 0.7).unwrap()).unwrap();
        let upper = Tail::new(0.08, GeneralizedPareto::new(0.25, 1.5).unwrap()).unwrap();
        s.update_grid(-3.0, 4.5, &probs, lower, upper).unwrap();
        let fresh =
            SplicedBinnedPareto::new(Binned::equal_width(-3.0, 4.5, probs).unwrap(), lower, upper)
                .unwrap();
        assert_eq!(s, fresh);
        assert!(s.update_grid(1.0, 0.0, &[1.0; 100], lower, upper).is_err());
        assert_eq!(s, fresh);
    }

    #[test]
    fn serde_round_trip_and_bad_mass_rejected() {
        let s = example();
        let json = serde_json::to_string(&s).unwrap();
        let back: SplicedBinnedPareto = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        let bad = json.replacen("\"mass\":0.05", "\"mass\":0.7", 1);
        let err = serde_json::from_str::<SplicedBinnedPareto>(&bad).unwrap_err();
        assert!(
            err.to_string()
                .contains("mass must be in (0, 0.5), got 0.7"),
            "{err}"
        );
    }

    #[test]
    fn infinite_mean_is_none() {
        let body = Binned::equal_width(0.0, 1.0, vec![1.0; 4]).unwrap();
        let heavy = Tail::new(0.1, GeneralizedPareto::new(1.5, 1.0).unwrap()).unwrap();
        let light = Tail::new(0.1, GeneralizedPareto::new(0.1, 1.0).unwrap()).unwrap();
        let s = SplicedBinnedPareto::new(body, light, heavy).unwrap();
        assert_eq!(s.mean(), None);
        assert_eq!(s.variance(), None);
        assert_eq!(s.support().1, f64::INFINITY);
    }
}
