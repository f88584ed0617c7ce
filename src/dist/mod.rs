//! The distributions: pure maths, no fitting and no time axis.
//!
//! [`GeneralizedPareto`] models the tails, [`Binned`] the body and
//! [`SplicedBinnedPareto`] joins them. All three implement the statrs traits
//! ([`Continuous`](statrs::distribution::Continuous),
//! [`ContinuousCDF`](statrs::distribution::ContinuousCDF), the moments of
//! [`statrs::statistics::Distribution`]) and [`rand::distr::Distribution<f64>`],
//! delegating to their inherent methods so there is one implementation of each formula.

pub(crate) mod binned;
mod gpd;
mod special;
pub(crate) mod spliced;

pub use binned::Binned;
pub use gpd::GeneralizedPareto;
pub(crate) use gpd::check_level;
pub use spliced::{SplicedBinnedPareto, Tail};

/// Implements the statrs and rand traits for a distribution type by delegation to its
/// inherent `pdf`, `ln_pdf`, `cdf`, `sf`, `quantile`, `support`, `mean`, `variance`
/// and `sample_with`. The trait methods are total: `NaN` in gives `NaN` out, and
/// `try_inverse_cdf` returns an error (statrs's default would panic) for `p` outside
/// `[0, 1]`.
macro_rules! impl_distribution_traits {
    ($ty:ty) => {
        impl statrs::distribution::Continuous<f64, f64> for $ty {
            fn pdf(&self, x: f64) -> f64 {
                <$ty>::pdf(self, x)
            }
            fn ln_pdf(&self, x: f64) -> f64 {
                <$ty>::ln_pdf(self, x)
            }
        }

        impl statrs::distribution::ContinuousCDF<f64, f64> for $ty {
            fn cdf(&self, x: f64) -> f64 {
                <$ty>::cdf(self, x)
            }
            fn sf(&self, x: f64) -> f64 {
                <$ty>::sf(self, x)
            }
            fn inverse_cdf(&self, p: f64) -> f64 {
                <$ty>::quantile(self, p)
            }
            fn try_inverse_cdf(
                &self,
                p: f64,
            ) -> std::result::Result<f64, statrs::distribution::InverseCdfError> {
                if (0.0..=1.0).contains(&p) {
                    Ok(<$ty>::quantile(self, p))
                } else {
                    Err(statrs::distribution::InverseCdfError::ArgumentOutOfRange)
                }
            }
        }

        impl statrs::statistics::Min<f64> for $ty {
            fn min(&self) -> f64 {
                <$ty>::support(self).0
            }
        }

        impl statrs::statistics::Max<f64> for $ty {
            fn max(&self) -> f64 {
                <$ty>::support(self).1
            }
        }

        impl statrs::statistics::Distribution<f64> for $ty {
            fn mean(&self) -> Option<f64> {
                <$ty>::mean(self)
            }
            fn variance(&self) -> Option<f64> {
                <$ty>::variance(self)
            }
        }

        impl statrs::statistics::Median<f64> for $ty {
            fn median(&self) -> f64 {
                <$ty>::quantile(self, 0.5)
            }
        }

        impl rand::distr::Distribution<f64> for $ty {
            fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> f64 {
                <$ty>::sample_with(self, rng)
            }
        }
    };
}
pub(crate) use impl_distribution_traits;
