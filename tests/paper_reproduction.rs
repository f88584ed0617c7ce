//! The paper's synthetic experiment (REFERENCE.md §3) as a regression test: the rolling
//! SBP forecaster, in the configuration `examples/reproduce_paper.rs` selects on the
//! validation splits, must stay within the reproduction targets of the true
//! distribution (the oracle) on the notebook's seed-42 data
//! (tests/fixtures/paper_series.json) and on average over seeds 1..=20.
//!
//! Targets: PP error (correct alignment) of the full distribution no more than 0.003
//! above the oracle's, of each tail no more than 0.002 above; mean CRPS no more than
//! 3 % above the oracle's. The oracle has a 21 % atom that the paper's strict rule
//! (`y < z`) charges it for; the SBP is continuous and is not charged, so it is also
//! compared with the oracle's randomised PIT (the calibrated floor). Being *better*
//! than the oracle on the PP error is not a failure (a forecaster that follows its own
//! errors can look better calibrated than the truth), but a CRPS clearly below the
//! oracle's would mean the forecast saw its target: that is checked too.

mod common;

use common::{fixture, nums};
use ndarray::Array2;
use rand::SeedableRng;
use rand::rngs::StdRng;
use tailcast::metrics::{
    Crps, PAPER_TAIL, RegionMae, Ties, paper_quantile_levels, pp_score_from_pit,
    pp_score_from_quantiles,
};
use tailcast::synthetic::{PaperConfig, PaperOracle, paper_datasets};
use tailcast::{ForecasterConfig, RollingForecaster};

const CONTEXT: usize = 100;
const TEST_LEN: usize = 1000;
const TARGETS: usize = TEST_LEN - CONTEXT;

/// The configuration `examples/reproduce_paper.rs` chooses on the validation splits
/// (lowest SBP mean CRPS over seeds 1..=20): a robust seasonal location of period 100
/// with slow smoothing (the true location is a fixed sine), a 5,000-residual window,
/// the paper's 100 bins and 5 % tails.
fn config() -> ForecasterConfig {
    tailcast::synthetic::paper_forecaster_config()
}

/// PP errors and mean CRPS of one forecaster (or the oracle) on `test[100..]`.
struct Scores {
    pp: RegionMae,
    crps: f64,
}

/// The SBP forecaster over train ++ validation ++ test, scored on `test[100..]`.
fn sbp_scores(train: &[f64], validation: &[f64], test: &[f64]) -> Scores {
    let levels = paper_quantile_levels();
    let series = [train, validation, test].concat();
    let start = series.len() - TARGETS;
    let mut f = RollingForecaster::new(config()).unwrap();
    let mut quantiles = Array2::zeros((TARGETS, levels.len()));
    let mut crps = 0.0;
    for (t, &y) in series.iter().enumerate() {
        if t >= start {
            let forecast = f.forecast().unwrap();
            let row = quantiles.row_mut(t - start);
            forecast
                .quantiles_into(&levels, row.into_slice().unwrap())
                .unwrap();
            crps += forecast.residual().crps(y - forecast.location());
        }
        f.observe(y).unwrap();
    }
    let pp = pp_score_from_quantiles(
        &test[CONTEXT..],
        quantiles.view(),
        &levels,
        Ties::Strict,
        PAPER_TAIL,
    )
    .unwrap();
    Scores {
        pp: pp.mae,
        crps: crps / TARGETS as f64,
    }
}

/// The oracle by the strict rule, by its randomised PIT, and its mean CRPS.
fn oracle_scores(oracle: &PaperOracle, rows: &Array2<f64>, test: &[f64], seed: u64) -> [Scores; 2] {
    let levels = paper_quantile_levels();
    let strict = pp_score_from_quantiles(
        &test[CONTEXT..],
        rows.view(),
        &levels,
        Ties::Strict,
        PAPER_TAIL,
    )
    .unwrap();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut pit = Vec::with_capacity(TARGETS);
    let mut crps = 0.0;
    for (t, &y) in test.iter().enumerate().skip(CONTEXT) {
        let step = oracle.at(t).unwrap();
        pit.push(step.randomized_pit(y, &mut rng).unwrap());
        crps += step.crps(y);
    }
    let crps = crps / TARGETS as f64;
    let randomized = pp_score_from_pit(&pit, &levels, PAPER_TAIL).unwrap();
    [
        Scores {
            pp: strict.mae,
            crps,
        },
        Scores {
            pp: randomized.mae,
            crps,
        },
    ]
}

#[track_caller]
fn assert_within_targets(what: &str, sbp: &Scores, strict: &Scores, randomized: &Scores) {
    for oracle in [strict, randomized] {
        assert!(
            sbp.pp.full <= oracle.pp.full + 0.003,
            "{what}: full PP error {} vs oracle {}",
            sbp.pp.full,
            oracle.pp.full
        );
        assert!(
            sbp.pp.lower <= oracle.pp.lower + 0.002 && sbp.pp.upper <= oracle.pp.upper + 0.002,
            "{what}: tails {} {} vs oracle {} {}",
            sbp.pp.lower,
            sbp.pp.upper,
            oracle.pp.lower,
            oracle.pp.upper
        );
    }
    let ratio = sbp.crps / strict.crps;
    assert!(
        ratio <= 1.03,
        "{what}: CRPS {} is {ratio} x the oracle's",
        sbp.crps
    );
    // The 20-seed spread of this ratio is 0.003: a value below 0.995 would mean the
    // forecasts had seen their targets.
    assert!(ratio >= 0.995, "{what}: CRPS ratio {ratio} beats the truth");
}

#[test]
fn seed_42_sbp_is_within_the_targets_of_the_oracle() {
    let fx = fixture("paper_series.json");
    let (train, validation, test) = (
        nums(&fx["train"]),
        nums(&fx["validation"]),
        nums(&fx["test"]),
    );
    let oracle = PaperOracle::new(&PaperConfig::default(), TEST_LEN).unwrap();
    let rows = oracle
        .quantile_rows(CONTEXT..TEST_LEN, &paper_quantile_levels())
        .unwrap();
    let sbp = sbp_scores(&train, &validation, &test);
    let [strict, randomized] = oracle_scores(&oracle, &rows, &test, 42);
    assert_within_targets("seed 42", &sbp, &strict, &randomized);
}

#[test]
fn twenty_seeds_sbp_is_within_the_targets_of_the_oracle_on_average() {
    let oracle = PaperOracle::new(&PaperConfig::default(), TEST_LEN).unwrap();
    let rows = oracle
        .quantile_rows(CONTEXT..TEST_LEN, &paper_quantile_levels())
        .unwrap();
    let seeds = 1..=20u64;
    let n = seeds.clone().count() as f64;
    let zero = RegionMae {
        lower: 0.0,
        base: 0.0,
        upper: 0.0,
        full: 0.0,
    };
    let mut means = [0, 1, 2].map(|_| Scores {
        pp: zero,
        crps: 0.0,
    });
    for seed in seeds {
        let d = paper_datasets(seed);
        let sbp = sbp_scores(&d.train, &d.validation, &d.test);
        let [strict, randomized] = oracle_scores(&oracle, &rows, &d.test, 1000 + seed);
        for (mean, s) in means.iter_mut().zip([sbp, strict, randomized]) {
            mean.pp.lower += s.pp.lower / n;
            mean.pp.base += s.pp.base / n;
            mean.pp.upper += s.pp.upper / n;
            mean.pp.full += s.pp.full / n;
            mean.crps += s.crps / n;
        }
    }
    let [sbp, strict, randomized] = means;
    assert_within_targets("seeds 1..=20", &sbp, &strict, &randomized);
    // On average the SBP is also within the targets from *below* of the calibrated
    // floor: its PP error is not bought by chasing its own errors.
    assert!(
        (sbp.pp.full - randomized.pp.full).abs() <= 0.003,
        "{} vs {}",
        sbp.pp.full,
        randomized.pp.full
    );
}
