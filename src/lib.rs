#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations)]
#![warn(unreachable_pub, rust_2018_idioms)]
// `!(x > 0.0)` is how a check rejects NaN along with the bad values (rand_distr does
// the same); the suggested `partial_cmp` form would hide that intent.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod anomaly;
pub mod conditional;
pub mod dist;
mod error;
pub mod events;
pub mod fit;
pub mod forecast;
pub mod metrics;
mod nonfinite;
mod numeric;
pub mod synthetic;

pub use anomaly::{AnomalyDetector, DetectorConfig, Side, Verdict};
pub use conditional::{ConditionalSbp, ConditionalSbpConfig, ConditionalSbpFit};
pub use dist::{Binned, GeneralizedPareto, SplicedBinnedPareto, Tail};
pub use error::{Error, Result};
pub use events::{Event, EventConfig, EventTracker, group_events};
pub use fit::{GpdFit, SbpConfig, SbpFit};
pub use forecast::{
    Backtest, Forecast, ForecasterConfig, LocationModel, RollingForecaster, ScoredBacktest,
    backtest,
};
