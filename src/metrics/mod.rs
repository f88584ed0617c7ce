//! Yardsticks for probabilistic forecasts: PIT values and their uniformity, the
//! paper's PP-plot errors per region, the continuous ranked probability score, the
//! quantile (pinball) loss, interval coverage and the log score.
//!
//! Conventions: observations and levels come in as `&[f64]`; predicted quantiles come
//! in as an [`ndarray::ArrayView2`] whose rows are time steps and whose columns are the
//! levels (the layout [`SplicedBinnedPareto::quantiles_into`] fills row by row).
//!
//! [`SplicedBinnedPareto::quantiles_into`]: crate::SplicedBinnedPareto::quantiles_into
//!
//! # Examples
//!
//! Score a calibrated forecaster the way the paper does:
//!
//! ```
//! # fn main() -> Result<(), tailcast::Error> {
//! use rand::{RngExt, SeedableRng};
//! use tailcast::metrics::{ks_uniform, paper_quantile_levels, pp_score_from_pit, PAPER_TAIL};
//!
//! let mut rng = rand::rngs::StdRng::seed_from_u64(1);
//! let pit: Vec<f64> = (0..899).map(|_| rng.random::<f64>()).collect();
//! let score = pp_score_from_pit(&pit, &paper_quantile_levels(), PAPER_TAIL)?;
//! // The paper's noise floor for 899 targets is about 0.008 (full region).
//! assert!(score.mae.full < 0.03);
//! assert!(ks_uniform(&pit)?.p_value > 1e-3);
//! # Ok(())
//! # }
//! ```

mod authors;
mod crps;
mod ks;
mod levels;
mod pit;
mod pp;
mod scores;

pub use authors::pp_score_authors_protocol;
pub use crps::{Crps, crps_ensemble, mean_crps};
pub use ks::{
    KsTest, kolmogorov_sf, ks_one_sample, ks_one_sample_with_atoms, ks_two_sample, ks_uniform,
};
pub use levels::{
    PAPER_TAIL, Region, check_levels, check_tail, paper_quantile_levels, region_mask,
};
pub use pit::randomized_pit;
pub use pp::{
    PpScore, RegionMae, Ties, pp_curve_from_pit, pp_curve_from_quantiles, pp_mae_by_region,
    pp_score_from_pit, pp_score_from_quantiles,
};
pub use scores::{
    central_interval_coverage, interval_coverage, mean_log_score, mean_pinball_loss, pinball_loss,
};
