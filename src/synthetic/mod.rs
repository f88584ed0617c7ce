//! Generators of heavy-tailed series for tests, examples and benches: the SBP paper's
//! series and its true distribution (the oracle), samples from any distribution,
//! seasonal and random-walk series with known location, and series with injected
//! anomalies at known positions.
//!
//! Every generator takes the caller's RNG (`&mut impl rand::Rng`), so a seed fixes the
//! output for a given version of rand and rand_distr.

mod anomalies;
mod level;
mod oracle;
mod paper;
mod reference;
mod samplers;

pub use anomalies::{AnomalyConfig, Direction};
pub use level::{LevelSeries, local_level, random_walk, seasonal_series};
pub use oracle::{OracleStep, PaperNoise, PaperOracle};
pub use paper::{PaperConfig, PaperDatasets, PaperSeries, Spike, paper_datasets, paper_series};
pub use reference::reference_sbp;
pub use samplers::{sample, sample_into};
