#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations)]
#![warn(unreachable_pub, rust_2018_idioms)]
// `!(x > 0.0)` is how a check rejects NaN along with the bad values (rand_distr does
// the same); the suggested `partial_cmp` form would hide that intent.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod anomaly;
mod checked;
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
pub use checked::{Check, Checked, IntoChecked};
pub use conditional::{ConditionalSbp, ConditionalSbpConfig, ConditionalSbpFit};
pub use dist::{Binned, GeneralizedPareto, SplicedBinnedPareto, Tail};
pub use error::{Error, Result};
pub use events::{Event, EventConfig, EventTracker, group_events};
pub use fit::{GpdFit, SbpConfig, SbpFit};
pub use forecast::{
    Backtest, Forecast, ForecasterConfig, LocationModel, RollingForecaster, ScoredBacktest,
    backtest,
};

/// The types most programs need, for a glob import: `use tailcast::prelude::*;`.
///
/// The configurations' [`Check`] / [`Checked`] pattern, the distributions, the
/// fitted-distribution configuration, the forecaster, the
/// detector with its verdicts and events, the conditional model, the error type and
/// the [`Crps`](crate::metrics::Crps) trait. Everything here is also at the crate
/// root; the generators, oracles and the paper's evaluation protocol (test and
/// benchmark scaffolding) stay in [`synthetic`] and [`metrics`].
///
/// ```
/// use tailcast::prelude::*;
/// # fn main() -> Result<()> {
/// let mut detector = AnomalyDetector::new(DetectorConfig::default())?;
/// let verdict: Verdict = detector.update(1.0)?;
/// assert!(verdict.warming_up);
/// # Ok(())
/// # }
/// ```
pub mod prelude {
    pub use crate::metrics::Crps;
    pub use crate::{
        AnomalyDetector, Binned, Check, Checked, ConditionalSbp, ConditionalSbpConfig,
        DetectorConfig, Error, Event, EventConfig, EventTracker, ForecasterConfig,
        GeneralizedPareto, LocationModel, Result, RollingForecaster, SbpConfig, Side,
        SplicedBinnedPareto, Tail, Verdict,
    };
}
