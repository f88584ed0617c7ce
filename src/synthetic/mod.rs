//! Generators of heavy-tailed series for tests, examples and benches: the SBP paper's
//! series and its true distribution (the oracle), samples from any distribution,
//! seasonal and random-walk series with known location, series with injected
//! anomalies at known positions, and a suite of real-world pathologies (zero-inflated
//! counts, regime switches, level shifts, normal bursts, stuck sensors, drifting scale,
//! daily/weekly seasonality) labelled with their anomalies, shifts and exact one-step
//! laws, with the scoring of a detector against those labels.
//!
//! Every generator takes the caller's RNG (`&mut impl rand::Rng`), so a seed fixes the
//! output for a given version of rand and rand_distr.

mod anomalies;
mod level;
mod oracle;
mod paper;
mod pathologies;
mod reference;
mod samplers;
mod scoring;
mod spot;

pub use anomalies::{AnomalyConfig, Direction};
pub use level::{LevelSeries, local_level, random_walk, seasonal_series};
pub use oracle::{OracleStep, PaperNoise, PaperOracle};
pub use paper::{
    PaperConfig, PaperDatasets, PaperSeries, Spike, paper_datasets, paper_forecaster_config,
    paper_series,
};
pub use pathologies::{
    ANOMALY_SKIP, LabelledSeries, StepLaw, daily_weekly, drifting_scale, flat_lines, level_shifts,
    normal_bursts, pathology_suite, regime_switching, zero_inflated_counts,
};
pub use reference::reference_sbp;
pub use samplers::{sample, sample_into};
pub use scoring::{DetectionReport, ScoringConfig, crps_ratio, score_detection};
pub use spot::spot_stream;
