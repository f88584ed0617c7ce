//! The generalized Pareto distribution of exceedances.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::special::{exp_m1_over, ln_1m_exp, ln_1p_over};
use crate::error::{Error, Result, finite, positive};

/// Generalized Pareto distribution (GPD) with location 0, shape `ξ` and scale `σ`:
/// the limit law of excesses over a high threshold (Pickands–Balkema–de Haan).
///
/// ```text
/// pdf(x) = (1/σ) (1 + ξ x/σ)^(-1 - 1/ξ)      x >= 0, and 1 + ξ x/σ > 0
/// sf(x)  = (1 + ξ x/σ)^(-1/ξ)
/// ξ = 0:   pdf(x) = (1/σ) e^(-x/σ)          (the exponential distribution)
/// ```
///
/// `ξ > 0` gives a heavy (power-law) tail, `ξ = 0` the exponential tail and `ξ < 0` a
/// bounded support `[0, -σ/ξ]`. Every formula is evaluated through `ln(1+t)/t` and
/// `(e^u - 1)/u`, so it stays accurate to full precision as `ξ -> 0` from either side
/// (no switch to the exponential at a cut-off). See
/// <https://en.wikipedia.org/wiki/Generalized_Pareto_distribution>.
///
/// Outside the support the density is 0 and the cdf is 0 or 1; `NaN` in gives `NaN`
/// out. No method panics.
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::GeneralizedPareto;
///
/// let gpd = GeneralizedPareto::new(0.5, 2.0)?;
/// // sf(x) = (1 + 0.5 x / 2)^-2, so sf(4) = 1/4.
/// assert!((gpd.sf(4.0) - 0.25).abs() < 1e-15);
/// assert!((gpd.quantile(0.75) - 4.0).abs() < 1e-14);
/// assert_eq!(gpd.mean(), Some(4.0)); // σ / (1 - ξ)
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "GpdParams", into = "GpdParams")]
pub struct GeneralizedPareto {
    shape: f64,
    scale: f64,
    ln_scale: f64,
}

/// The serialised form of [`GeneralizedPareto`]; deserialising goes through
/// [`GeneralizedPareto::new`], so an invalid object is never built.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct GpdParams {
    shape: f64,
    scale: f64,
}

impl TryFrom<GpdParams> for GeneralizedPareto {
    type Error = Error;
    fn try_from(p: GpdParams) -> Result<Self> {
        Self::new(p.shape, p.scale)
    }
}

impl From<GeneralizedPareto> for GpdParams {
    fn from(g: GeneralizedPareto) -> Self {
        Self {
            shape: g.shape,
            scale: g.scale,
        }
    }
}

impl GeneralizedPareto {
    /// Creates a GPD with the given shape `ξ` (any finite real) and scale `σ > 0`.
    ///
    /// # Errors
    ///
    /// [`Error::NonFiniteParameter`] if either parameter is NaN or infinite,
    /// [`Error::NonPositiveParameter`] if `scale <= 0`.
    pub fn new(shape: f64, scale: f64) -> Result<Self> {
        let shape = finite("shape", shape)?;
        let scale = positive("scale", scale)?;
        Ok(Self {
            shape,
            scale,
            ln_scale: scale.ln(),
        })
    }

    /// The exponential distribution with the given scale (the `ξ = 0` member).
    ///
    /// # Errors
    ///
    /// As [`GeneralizedPareto::new`].
    pub fn exponential(scale: f64) -> Result<Self> {
        Self::new(0.0, scale)
    }

    /// The shape (tail index) `ξ`.
    pub fn shape(&self) -> f64 {
        self.shape
    }

    /// The scale `σ`.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The upper end of the support: `-σ/ξ` when `ξ < 0`, `+∞` otherwise.
    pub fn upper_endpoint(&self) -> f64 {
        if self.shape < 0.0 {
            -self.scale / self.shape
        } else {
            f64::INFINITY
        }
    }

    /// The support `[0, upper_endpoint]`.
    pub fn support(&self) -> (f64, f64) {
        (0.0, self.upper_endpoint())
    }

    /// `ln sf(x)`, accurate deep into the tail where `sf` itself underflows.
    pub fn ln_sf(&self, x: f64) -> f64 {
        if x.is_nan() {
            return f64::NAN;
        }
        if x <= 0.0 {
            return 0.0;
        }
        let y = x / self.scale;
        if y == f64::INFINITY {
            return f64::NEG_INFINITY; // ξ y would be 0 · ∞ for ξ = 0
        }
        let t = self.shape * y;
        if t <= -1.0 {
            return f64::NEG_INFINITY;
        }
        if t.abs() < 0.5 {
            -y * ln_1p_over(t)
        } else {
            -t.ln_1p() / self.shape
        }
    }

    /// Survival function `P(X > x)`.
    pub fn sf(&self, x: f64) -> f64 {
        self.ln_sf(x).exp()
    }

    /// Cumulative distribution function `P(X <= x)`, accurate near 0.
    pub fn cdf(&self, x: f64) -> f64 {
        -self.ln_sf(x).exp_m1()
    }

    /// `ln cdf(x)`.
    pub fn ln_cdf(&self, x: f64) -> f64 {
        ln_1m_exp(self.ln_sf(x))
    }

    /// Log-density.
    pub fn ln_pdf(&self, x: f64) -> f64 {
        if x.is_nan() {
            return f64::NAN;
        }
        let y = x / self.scale;
        if x < 0.0 || y == f64::INFINITY {
            return f64::NEG_INFINITY;
        }
        let t = self.shape * y;
        if t < -1.0 {
            return f64::NEG_INFINITY;
        }
        if self.shape == -1.0 {
            // Uniform on [0, σ]; the general form would give 0 · ∞ at the endpoint.
            return -self.ln_scale;
        }
        // (1 + 1/ξ) ln(1 + t), written so that ξ -> 0 is exact.
        let exponent = if t.abs() < 0.5 {
            (1.0 + self.shape) * y * ln_1p_over(t)
        } else {
            (1.0 + self.shape) / self.shape * t.ln_1p()
        };
        -self.ln_scale - exponent
    }

    /// Density.
    pub fn pdf(&self, x: f64) -> f64 {
        self.ln_pdf(x).exp()
    }

    /// Excess over 0 at which the survival function equals `ln_s.exp()`, for
    /// `ln_s <= 0`: the quantile at `1 - e^ln_s` without forming that difference.
    fn excess_at_ln_sf(&self, ln_s: f64) -> f64 {
        // z/σ = (e^{ξL} - 1)/ξ with L = -ln s.
        let l = -ln_s;
        if l == f64::INFINITY {
            return self.upper_endpoint();
        }
        (self.scale * l * exp_m1_over(self.shape * l)).min(self.upper_endpoint())
    }

    /// Quantile function (inverse cdf): the `x` with `cdf(x) = p`.
    ///
    /// Returns 0 at `p = 0`, the upper endpoint at `p = 1` and `NaN` for `p` outside
    /// `[0, 1]` (see [`GeneralizedPareto::try_quantile`] for an error instead).
    #[doc(alias = "inverse_cdf")]
    #[doc(alias = "ppf")]
    pub fn quantile(&self, p: f64) -> f64 {
        if !(0.0..=1.0).contains(&p) {
            return f64::NAN;
        }
        self.excess_at_ln_sf((-p).ln_1p())
    }

    /// Inverse survival function: the `x` with `sf(x) = s`. More accurate than
    /// `quantile(1 - s)` for small `s`.
    #[doc(alias = "isf")]
    pub fn inverse_sf(&self, s: f64) -> f64 {
        if !(0.0..=1.0).contains(&s) {
            return f64::NAN;
        }
        self.excess_at_ln_sf(s.ln())
    }

    /// The quantile at `p`, or an error if `p` is not in `[0, 1]`.
    ///
    /// # Errors
    ///
    /// [`Error::ProbabilityOutOfRange`] naming `p`.
    pub fn try_quantile(&self, p: f64) -> Result<f64> {
        check_level(p)?;
        Ok(self.quantile(p))
    }

    /// Mean `σ/(1 - ξ)`; `None` when `ξ >= 1` (infinite).
    pub fn mean(&self) -> Option<f64> {
        (self.shape < 1.0).then(|| self.scale / (1.0 - self.shape))
    }

    /// Variance `σ²/((1 - ξ)²(1 - 2ξ))`; `None` when `ξ >= 1/2` (infinite).
    pub fn variance(&self) -> Option<f64> {
        let xi = self.shape;
        (xi < 0.5).then(|| self.scale * self.scale / ((1.0 - xi) * (1.0 - xi) * (1.0 - 2.0 * xi)))
    }

    /// Skewness `2(1 + ξ)√(1 - 2ξ)/(1 - 3ξ)`; `None` when `ξ >= 1/3`.
    pub fn skewness(&self) -> Option<f64> {
        let xi = self.shape;
        (xi < 1.0 / 3.0).then(|| 2.0 * (1.0 + xi) * (1.0 - 2.0 * xi).sqrt() / (1.0 - 3.0 * xi))
    }

    /// Differential entropy `ln σ + ξ + 1`.
    pub fn entropy(&self) -> f64 {
        self.ln_scale + self.shape + 1.0
    }

    /// Median `σ(2^ξ - 1)/ξ`.
    pub fn median(&self) -> f64 {
        self.quantile(0.5)
    }

    /// Draws one value by inversion: `σ E (e^{ξE} - 1)/(ξE)` with `E ~ Exp(1)`.
    pub(crate) fn sample_with<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let u: f64 = rand::RngExt::sample(rng, rand::distr::OpenClosed01);
        self.excess_at_ln_sf(u.ln())
    }
}

/// Checks a probability level for a quantile function.
pub(crate) fn check_level(p: f64) -> Result<f64> {
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(Error::ProbabilityOutOfRange {
            name: "p",
            value: p,
            expected: "[0, 1]",
        })
    }
}

impl fmt::Display for GeneralizedPareto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "GeneralizedPareto(shape={}, scale={})",
            self.shape, self.scale
        )
    }
}

super::impl_distribution_traits!(GeneralizedPareto);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_parameters_with_named_errors() {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(matches!(
                GeneralizedPareto::new(bad, 1.0),
                Err(Error::NonFiniteParameter { name: "shape", .. })
            ));
            assert!(matches!(
                GeneralizedPareto::new(0.1, bad),
                Err(Error::NonFiniteParameter { name: "scale", .. })
            ));
        }
        for bad in [0.0, -1.0] {
            assert_eq!(
                GeneralizedPareto::new(0.1, bad),
                Err(Error::NonPositiveParameter {
                    name: "scale",
                    value: bad
                })
            );
        }
    }

    #[test]
    fn exponential_limit_is_exact_at_zero_and_continuous_nearby() {
        let e = GeneralizedPareto::exponential(2.0).unwrap();
        assert!((e.ln_pdf(3.0) - (-(2.0f64).ln() - 1.5)).abs() < 1e-15);
        assert!((e.sf(3.0) - (-1.5f64).exp()).abs() < 1e-16);
        for xi in [1e-13, -1e-13] {
            let g = GeneralizedPareto::new(xi, 2.0).unwrap();
            // ln pdf = -ln σ - (1 + 1/ξ) ln(1 + ξ y); series in ξ: -ln σ - y - ξ(y - y²/2) + O(ξ²).
            let y = 1e4;
            let expected = -(2.0f64).ln() - y - xi * (y - y * y / 2.0);
            let got = g.ln_pdf(2.0 * y);
            assert!(
                ((got - expected) / expected).abs() < 1e-15,
                "xi={xi}: {got} vs {expected}"
            );
        }
    }

    #[test]
    fn bounded_support_for_negative_shape() {
        let g = GeneralizedPareto::new(-0.5, 1.0).unwrap();
        assert_eq!(g.upper_endpoint(), 2.0);
        assert_eq!(g.pdf(2.5), 0.0);
        assert_eq!(g.cdf(2.5), 1.0);
        assert_eq!(g.quantile(1.0), 2.0);
        assert_eq!(g.pdf(2.0), 0.0); // (1 + ξ y)^(1/ξ... ) -> 0 at the endpoint for ξ > -1
        let uniform = GeneralizedPareto::new(-1.0, 3.0).unwrap();
        assert!((uniform.pdf(3.0) - 1.0 / 3.0).abs() < 1e-16);
        assert!((uniform.cdf(1.5) - 0.5).abs() < 1e-16);
        let steep = GeneralizedPareto::new(-2.0, 1.0).unwrap();
        assert_eq!(steep.pdf(0.5), f64::INFINITY);
    }

    #[test]
    fn quantile_inverts_cdf_and_inverse_sf_inverts_sf() {
        for xi in [-0.9, -0.3, 0.0, 1e-10, 0.4, 2.5] {
            let g = GeneralizedPareto::new(xi, 1.7).unwrap();
            for p in [1e-12, 1e-3, 0.3, 0.5, 0.9, 0.999] {
                let x = g.quantile(p);
                assert!((g.cdf(x) - p).abs() <= 1e-13 * p.max(1e-3), "xi={xi} p={p}");
                let z = g.inverse_sf(p);
                // Near a finite endpoint sf is ill-conditioned (1 + ξ z/σ cancels), so
                // only the absolute error is small there.
                let err = if xi < 0.0 {
                    g.sf(z) - p
                } else {
                    (g.sf(z) - p) / p
                };
                assert!(err.abs() < 1e-12, "xi={xi} s={p}");
            }
        }
    }

    #[test]
    fn nan_in_nan_out_and_out_of_range_levels() {
        let g = GeneralizedPareto::new(0.2, 1.0).unwrap();
        assert!(g.pdf(f64::NAN).is_nan());
        assert!(g.cdf(f64::NAN).is_nan());
        assert!(g.quantile(1.5).is_nan());
        assert!(g.quantile(f64::NAN).is_nan());
        assert!(matches!(
            g.try_quantile(-0.1),
            Err(Error::ProbabilityOutOfRange { name: "p", .. })
        ));
        assert_eq!(g.pdf(f64::INFINITY), 0.0);
        assert_eq!(g.cdf(f64::INFINITY), 1.0);
        assert_eq!(g.cdf(f64::NEG_INFINITY), 0.0);
    }

    #[test]
    fn moments_exist_only_below_their_shape_bounds() {
        let g = GeneralizedPareto::new(0.25, 3.0).unwrap();
        assert_eq!(g.mean(), Some(4.0));
        assert!((g.variance().unwrap() - 9.0 / (0.5625 * 0.5)).abs() < 1e-12);
        assert_eq!(GeneralizedPareto::new(1.0, 1.0).unwrap().mean(), None);
        assert_eq!(GeneralizedPareto::new(0.5, 1.0).unwrap().variance(), None);
        assert_eq!(GeneralizedPareto::new(0.4, 1.0).unwrap().skewness(), None);
    }

    #[test]
    fn serde_round_trip_and_invalid_json_rejected() {
        let g = GeneralizedPareto::new(0.3, 2.5).unwrap();
        let json = serde_json::to_string(&g).unwrap();
        assert_eq!(json, r#"{"shape":0.3,"scale":2.5}"#);
        assert_eq!(serde_json::from_str::<GeneralizedPareto>(&json).unwrap(), g);
        let err =
            serde_json::from_str::<GeneralizedPareto>(r#"{"shape":0.3,"scale":-1.0}"#).unwrap_err();
        assert!(
            err.to_string().contains("scale must be > 0, got -1"),
            "{err}"
        );
    }
}
