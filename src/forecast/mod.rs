//! The time axis: a rolling window of residuals with incremental statistics, robust
//! location models, and the forecaster that turns them into one predictive SBP per
//! time step.
//!
//! * [`RollingForecaster`]: `observe(y)` / `forecast()`, one step ahead, plus
//!   simulated quantile paths for longer horizons.
//! * [`Forecast`]: the predictive distribution, `location + residual SBP`.
//! * [`backtest`]: a whole series at once (quantiles, PIT values, log scores).
//! * [`ForecasterConfig`], [`LocationModel`]: the knobs.

mod config;
mod excess_pool;
pub(crate) use excess_pool::POOL_LEN;
pub(crate) mod location;
mod residual;
mod rolling;
pub(crate) mod window;

pub use config::{DEFAULT_MAX_TAIL_SHAPE, ForecasterConfig, MAX_RESELECTION_HISTORY};
pub use location::{LocationModel, MAX_LAGS, MAX_PERIOD};
pub use rolling::{Backtest, Forecast, RollingForecaster, ScoredBacktest, backtest};
