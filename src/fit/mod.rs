//! Maximum-likelihood fitting: the generalized Pareto tails, the binned body and the
//! spliced binned-Pareto distribution that joins them.
//!
//! * [`GeneralizedPareto::fit`](crate::GeneralizedPareto::fit) and
//!   [`fit_weighted`](crate::GeneralizedPareto::fit_weighted) return a [`GpdFit`] with
//!   standard errors. [`GpdFitter`] is the allocation-free engine behind them, with a
//!   warm-started entry point ([`Checked<GpdFitter>::fit_with_start`](crate::Checked::<GpdFitter>::fit_with_start)) and a `Copy` result
//!   ([`GpdEstimate`]) for rolling refits.
//! * [`BodyEstimator`] turns (weighted) data or bin counts into bin probabilities in a
//!   caller buffer, with the authors' [`Smoothing`] and a Dirichlet pseudo-count.
//! * [`SplicedBinnedPareto::fit`](crate::SplicedBinnedPareto::fit) takes an
//!   [`SbpConfig`] and returns an [`SbpFit`]; [`SbpFitter`] keeps its buffers between
//!   fits and updates an existing distribution in place.
//!
//! Weights are frequency weights everywhere: a weight of 2 counts a point twice, so
//! exponentially decayed weights give a decayed-window fit.

pub(crate) mod binned;
mod bounds;
pub(crate) mod constrained;
mod gpd;
pub(crate) mod policy;
mod profile;
mod sample;
pub(crate) mod spliced;

pub use binned::{BodyEstimator, Smoothing};
pub use gpd::{GpdEstimate, GpdFit, GpdFitter, observed_information};
pub use spliced::{Bounds, SbpConfig, SbpEstimate, SbpFit, SbpFitter, Thresholds};
