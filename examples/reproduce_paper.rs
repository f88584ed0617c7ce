//! Reproduces the synthetic experiment of Ehrlich, Callot & Aubet (2021), *Spliced
//! Binned-Pareto Distribution for Robust Modeling of Heavy-tailed Time Series*
//! (its section on synthetic data), with three forecasters and no neural network:
//!
//! * **SBP**: tailcast's [`RollingForecaster`]: a robust seasonal location plus a
//!   spliced binned-Pareto residual refitted on a rolling window.
//! * **binned-only**: the same location and the same residual window, and a histogram
//!   with the SBP body's bin width extended over the whole window (the SBP with its GPD
//!   tails replaced by the body's own histogram).
//! * **Gaussian**: the same location and window, a normal law with the maximum-
//!   likelihood mean and standard deviation of the window's residuals (a robust scale
//!   would be narrower and miss the tails by even more).
//!
//! Every method is scored by the paper's PP-plot error per region (lower tail, base,
//! upper tail, full), with the correct alignment and with the authors' two-step-late
//! protocol, and by the mean CRPS, next to the published numbers and the true
//! distribution (the oracle). Sections of the output:
//!
//! 1. the configuration search, on the validation splits only;
//! 2. the notebook's seed-42 data (`tests/fixtures/paper_series.json`);
//! 3. seeds 1..=20 of [`paper_datasets`]: mean, sd, min and max per method;
//! 4. a supplement with short windows, where the GPD tails matter;
//! 5. the reproduction targets, checked.
//!
//! ```sh
//! cargo run --release --example reproduce_paper
//! ```

use std::collections::VecDeque;
use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

use ndarray::{Array2, s};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::Value;
use statrs::distribution::{ContinuousCDF, Normal};
use tailcast::fit::BodyEstimator;
use tailcast::metrics::{
    Crps, PAPER_TAIL, RegionMae, Ties, paper_quantile_levels, pp_score_authors_protocol,
    pp_score_from_pit, pp_score_from_quantiles,
};
use tailcast::synthetic::{PaperConfig, PaperDatasets, PaperOracle, paper_datasets};
use tailcast::{Binned, ForecasterConfig, LocationModel, RollingForecaster, SbpConfig};

type Res<T> = Result<T, Box<dyn Error>>;

/// The paper's context length: forecasts are scored on targets `test[100..]`.
const CONTEXT: usize = 100;
/// Scored targets per series: `test[100..1000]` (the authors' protocol uses the first
/// 899 of these rows: see `pp_score_authors_protocol`).
const TARGETS: usize = PaperDatasets::TEST_LEN - CONTEXT;
/// Seeds of the replication over other data (`paper_datasets(seed)`).
const SEEDS: std::ops::RangeInclusive<u64> = 1..=20;

/// Published PP errors (lower, base, upper, full): the authors' README and their 2021
/// notebook. All were
/// computed with the authors' two-step-late protocol.
const PUBLISHED: [(&str, [f64; 4]); 8] = [
    ("README SBP", [0.006065, 0.060795, 0.006990, 0.039797]),
    ("README Binned", [0.006219, 0.083699, 0.007573, 0.053911]),
    ("README Gaussian", [0.105969, 0.381656, 0.022285, 0.259667]),
    (
        "2021 nb SBP (TCN)",
        [0.002086, 0.048117, 0.004072, 0.030829],
    ),
    ("2021 nb Binned", [0.003911, 0.077351, 0.008546, 0.049826]),
    (
        "2021 nb Gauss σ=1",
        [0.008083, 0.184631, 0.015983, 0.117856],
    ),
    (
        "2022 nb SBP (MLP)",
        [0.002981, 0.012848, 0.003944, 0.009252],
    ),
    ("2022 nb Gaussian", [0.008204, 0.085892, 0.008741, 0.055942]),
];

/// The three forecasters, in table order.
const METHODS: [&str; 3] = ["SBP (tailcast)", "binned-only", "Gaussian"];

/// One method's forecasts of the scored targets.
struct MethodRun {
    /// `TARGETS × levels` predictive quantiles.
    quantiles: Array2<f64>,
    /// CRPS of each target.
    crps: Vec<f64>,
}

/// All scores of one method (or the oracle) on one series.
#[derive(Clone, Copy)]
struct Scores {
    correct: RegionMae,
    authors: RegionMae,
    crps: f64,
    /// Targets whose CRPS is infinite (a tail too heavy for the integral).
    infinite: usize,
}

/// The residual window shared by the two baselines (the SBP's own window is inside
/// the forecaster): residuals `y - location` in arrival order. It starts filling when
/// the forecaster's warm-up ends (the SBP's window also holds the warm-up's
/// residuals), so it is full from the 6,000th step on: for every test target, and
/// 4,000 to 4,900 residuals long for the validation targets.
struct Baselines {
    window: VecDeque<f64>,
    capacity: usize,
    pseudo_count: f64,
    binned: Option<Binned>,
    normal: Option<Normal>,
}

impl Baselines {
    fn new(capacity: usize, pseudo_count: f64) -> Self {
        Self {
            window: VecDeque::with_capacity(capacity + 1),
            capacity,
            pseudo_count,
            binned: None,
            normal: None,
        }
    }

    fn push(&mut self, r: f64) {
        self.window.push_back(r);
        if self.window.len() > self.capacity {
            self.window.pop_front();
        }
    }

    /// Refits both baselines on the window. The histogram keeps the SBP body's bin
    /// width and grid, extended by whole bins to cover the window's min and max, so
    /// between the SBP's bins it *is* the SBP body; only the tails differ.
    fn refit(&mut self, body: &Binned) -> Res<()> {
        let data: Vec<f64> = self.window.iter().copied().collect();
        if data.len() < 2 {
            return Ok(());
        }
        let (min, max) = data
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        let edges = body.edges();
        let width = edges[1] - edges[0];
        let (first, last) = (edges[0], edges[edges.len() - 1]);
        // One spare bin beyond the extreme residual on each side.
        let below = ((first - min) / width).ceil().max(0.0) + 1.0;
        let above = ((max - last) / width).ceil().max(0.0) + 1.0;
        let (low, high) = (first - below * width, last + above * width);
        let bins = body.bins() + (below + above) as usize;
        self.binned = Some(
            BodyEstimator::new(low, high, bins)?
                .pseudo_count(self.pseudo_count)?
                .fit(&data, None)?,
        );
        let n = data.len() as f64;
        let mean = data.iter().sum::<f64>() / n;
        let var = data.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        self.normal = Some(Normal::new(mean, var.sqrt())?);
        Ok(())
    }
}

/// Runs the rolling forecaster over `series` and scores the last [`TARGETS`] points
/// (one-step-ahead: each forecast is made before its target is seen). With
/// `baselines = Some(pseudo_count)` the binned-only and Gaussian forecasters run on
/// the same residuals and the quantiles are kept; otherwise only the SBP's CRPS is
/// computed (for the configuration search).
fn run(config: &ForecasterConfig, series: &[f64], baselines: Option<f64>) -> Res<Vec<MethodRun>> {
    let levels = paper_quantile_levels();
    let start = series.len() - TARGETS;
    let keep_quantiles = baselines.is_some();
    let methods = if keep_quantiles { 3 } else { 1 };
    let mut runs: Vec<MethodRun> = (0..methods)
        .map(|_| MethodRun {
            quantiles: Array2::zeros(if keep_quantiles {
                (TARGETS, levels.len())
            } else {
                (0, 0)
            }),
            crps: Vec::with_capacity(TARGETS),
        })
        .collect();
    let mut forecaster = RollingForecaster::new(config.clone())?;
    let mut base = Baselines::new(forecaster.config().window(), baselines.unwrap_or(0.0));
    let mut version = None;
    for (t, &y) in series.iter().enumerate() {
        if let Ok(f) = forecaster.forecast() {
            let location = f.location();
            if keep_quantiles && version != Some(forecaster.residual_version()) {
                // The baselines are refitted exactly when the SBP is.
                version = Some(forecaster.residual_version());
                base.refit(f.residual().body())?;
            }
            if t >= start {
                let i = t - start;
                runs[0].crps.push(f.residual().crps(y - location));
                if keep_quantiles {
                    let (Some(binned), Some(normal)) = (&base.binned, &base.normal) else {
                        return Err("the baselines have no window before the scored targets".into());
                    };
                    for (j, &p) in levels.iter().enumerate() {
                        runs[0].quantiles[[i, j]] = f.quantile(p);
                        runs[1].quantiles[[i, j]] = location + binned.quantile(p);
                        runs[2].quantiles[[i, j]] = location + normal.inverse_cdf(p);
                    }
                    runs[1].crps.push(binned.crps(y - location));
                    runs[2].crps.push(normal.crps(y - location));
                }
            }
            if keep_quantiles {
                base.push(y - location);
            }
        }
        forecaster.observe(y)?;
    }
    Ok(runs)
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Scores of quantile rows for the targets `test[100..1000]`.
fn score(test: &[f64], quantiles: &Array2<f64>, crps: &[f64]) -> Res<Scores> {
    let levels = paper_quantile_levels();
    let correct = pp_score_from_quantiles(
        &test[CONTEXT..],
        quantiles.view(),
        &levels,
        Ties::Strict,
        PAPER_TAIL,
    )?;
    // The authors score forecast rows i = 0..899 (targets test[100 + i]) against
    // test[102 + i].
    let authors = pp_score_authors_protocol(
        test,
        quantiles.slice(s![..TARGETS - 1, ..]),
        &levels,
        CONTEXT,
        PAPER_TAIL,
    )?;
    Ok(Scores {
        correct: correct.mae,
        authors: authors.mae,
        crps: mean(crps),
        infinite: crps.iter().filter(|c| c.is_infinite()).count(),
    })
}

/// The three methods and the oracle (strict rule, and randomised PIT) on one
/// train/validation/test triple. The forecaster runs over train ++ validation ++ test.
struct Evaluation {
    methods: [Scores; 3],
    oracle: Scores,
    oracle_randomized: RegionMae,
}

fn evaluate(
    config: &ForecasterConfig,
    binned_pseudo_count: f64,
    train: &[f64],
    validation: &[f64],
    test: &[f64],
    oracle: &Oracle,
    pit_seed: u64,
) -> Res<Evaluation> {
    let series = [train, validation, test].concat();
    let runs = run(config, &series, Some(binned_pseudo_count))?;
    let mut methods = [None; 3];
    for (slot, r) in methods.iter_mut().zip(&runs) {
        *slot = Some(score(test, &r.quantiles, &r.crps)?);
    }
    let oracle_crps = (CONTEXT..PaperDatasets::TEST_LEN)
        .map(|t| Ok(oracle.law.at(t)?.crps(test[t])))
        .collect::<Res<Vec<f64>>>()?;
    let mut rng = StdRng::seed_from_u64(pit_seed);
    let pit = (CONTEXT..PaperDatasets::TEST_LEN)
        .map(|t| Ok(oracle.law.at(t)?.randomized_pit(test[t], &mut rng)?))
        .collect::<Res<Vec<f64>>>()?;
    Ok(Evaluation {
        methods: methods.map(|m| m.expect("three runs")),
        oracle: score(test, &oracle.rows, &oracle_crps)?,
        oracle_randomized: pp_score_from_pit(&pit, &paper_quantile_levels(), PAPER_TAIL)?.mae,
    })
}

/// The true predictive distribution of every test point and its quantile rows.
struct Oracle {
    law: PaperOracle,
    rows: Array2<f64>,
}

fn fmt_mae(m: &RegionMae) -> String {
    format!(
        "{:>9.6} {:>9.6} {:>9.6} {:>9.6}",
        m.lower, m.base, m.upper, m.full
    )
}

fn header(last: &str) {
    println!(
        "  {:<34} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "", "lower", "base", "upper", "full", last
    );
}

fn row(name: &str, m: &RegionMae, extra: &str) {
    println!("  {:<34} {} {:>9}", name, fmt_mae(m), extra);
}

fn published_rows() {
    for (name, [lower, base, upper, full]) in PUBLISHED {
        let m = RegionMae {
            lower,
            base,
            upper,
            full,
        };
        row(&format!("published: {name}"), &m, "");
    }
}

/// Mean, sample standard deviation, min and max.
fn summary(xs: &[f64]) -> (f64, f64, f64, f64) {
    let m = mean(xs);
    let sd = (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64).sqrt();
    let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (m, sd, min, max)
}

fn fixture() -> Res<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/paper_series.json");
    Ok(serde_json::from_str(&std::fs::read_to_string(path)?)?)
}

fn numbers(v: &Value) -> Res<Vec<f64>> {
    v.as_array()
        .ok_or("expected an array")?
        .iter()
        .map(|x| x.as_f64().ok_or_else(|| "expected a number".into()))
        .collect()
}

fn region(v: &Value) -> Res<RegionMae> {
    let get = |k: &str| v[k].as_f64().ok_or(format!("missing {k}"));
    Ok(RegionMae {
        lower: get("lower")?,
        base: get("base")?,
        upper: get("upper")?,
        full: get("full")?,
    })
}

/// The forecaster configuration for a point of the search grid. Fixed parts, not
/// searched: the paper's 100 bins and 5 % tails, the forecaster's default
/// pseudo-count, and a refit every 50 steps (the residual law is stationary, so the
/// schedule barely matters; 50 keeps a 7,000-step run at a few milliseconds).
fn candidate(window: usize, location: LocationModel, alpha: f64, gamma: f64) -> ForecasterConfig {
    ForecasterConfig::default()
        .window(window)
        .refit_every(50)
        .location(location)
        .level_smoothing(alpha)
        .seasonal_smoothing(gamma)
        .sbp(
            SbpConfig::default()
                .bins(100)
                .tail_mass(0.05)
                .pseudo_count(0.1),
        )
}

fn main() -> Res<()> {
    let started = Instant::now();
    let levels = paper_quantile_levels();
    let oracle = {
        let law = PaperOracle::new(&PaperConfig::default(), PaperDatasets::TEST_LEN)?;
        let rows = law.quantile_rows(CONTEXT..PaperDatasets::TEST_LEN, &levels)?;
        Oracle { law, rows }
    };
    let seeds: Vec<u64> = SEEDS.collect();
    let datasets: Vec<PaperDatasets> = seeds.iter().map(|&s| paper_datasets(s)).collect();

    println!("Reproduction of Ehrlich, Callot & Aubet (2021), synthetic experiment");
    println!(
        "{} quantile levels, tail regions q < {} and q > {}; PP error = mean |y_q - q| per region.",
        levels.len(),
        PAPER_TAIL,
        1.0 - PAPER_TAIL
    );

    // ---- 1. Configuration, chosen on the validation splits only -------------------
    //
    // The forecaster runs over train ++ validation (++ test for the final scores):
    // the three series are independent draws of one stationary process whose sine
    // restarts at phase 0 with each series, and 5000 and 1000 are multiples of the
    // period 100, so a seasonal profile stays aligned across the junctions. The
    // validation targets are then forecast with a full window behind them, as the test
    // targets will be. The paper's networks also learn from the whole training
    // series; every forecast here is still one step ahead (made before its target
    // is seen).
    //
    // The series is 5 + sin(2π t/100) plus i.i.d. noise, so the location model is
    // seasonal with period 100; `Level` and `Auto` are in the grid to show what the
    // choice is worth. Candidates are ranked by the SBP's mean CRPS over the
    // validation targets of seeds 1..=20 (a proper score: the PP error alone rewards
    // a forecaster that chases its own errors, see the level model's row). The test
    // splits are not looked at until the configuration is fixed.
    println!();
    println!(
        "1. Configuration search on the VALIDATION splits (seeds {}..={}, 900 targets each, SBP mean CRPS)",
        seeds[0],
        seeds[seeds.len() - 1]
    );
    let seasonal = LocationModel::Seasonal { period: 100 };
    let mut grid: Vec<(String, ForecasterConfig)> = Vec::new();
    for window in [1000, 5000] {
        for (alpha, gamma) in [
            (0.1, 0.1),
            (0.03, 0.1),
            (0.03, 0.03),
            (0.01, 0.03),
            (0.003, 0.03),
            (0.003, 0.01),
        ] {
            grid.push((
                format!("Seasonal(100) α={alpha} γ={gamma} W={window}"),
                candidate(window, seasonal, alpha, gamma),
            ));
        }
        grid.push((
            format!("Level α=0.1 W={window}"),
            candidate(window, LocationModel::Level, 0.1, 0.1),
        ));
        grid.push((
            format!("Auto α=0.1 γ=0.1 W={window}"),
            candidate(window, LocationModel::Auto, 0.1, 0.1),
        ));
    }
    let validation_series: Vec<Vec<f64>> = datasets
        .iter()
        .map(|d| [&d.train[..], &d.validation[..]].concat())
        .collect();
    let oracle_validation_crps = mean(
        &datasets
            .iter()
            .map(|d| {
                let c = (CONTEXT..PaperDatasets::VALIDATION_LEN)
                    .map(|t| Ok(oracle.law.at(t)?.crps(d.validation[t])))
                    .collect::<Res<Vec<f64>>>()?;
                Ok(mean(&c))
            })
            .collect::<Res<Vec<f64>>>()?,
    );
    let mut best: Option<(f64, usize)> = None;
    for (k, (name, config)) in grid.iter().enumerate() {
        let mut per_seed = Vec::with_capacity(seeds.len());
        for series in &validation_series {
            per_seed.push(mean(&run(config, series, None)?[0].crps));
        }
        let crps = mean(&per_seed);
        println!(
            "  {name:<38} CRPS {crps:.5}  ({:+.2} % vs oracle)",
            100.0 * (crps / oracle_validation_crps - 1.0)
        );
        if best.is_none_or(|(b, _)| crps < b) {
            best = Some((crps, k));
        }
    }
    println!(
        "  {:<38} CRPS {oracle_validation_crps:.5}",
        "oracle (true distribution)"
    );
    let (_, chosen) = best.ok_or("empty grid")?;
    let (chosen_name, config) = grid[chosen].clone();
    // The binned-only baseline's one knob, its pseudo-count per bin, is chosen the
    // same way: 0 is the plain histogram; 0.1 (the SBP body's) spreads a uniform layer
    // over the hundreds of mostly empty tail bins.
    let mut binned_choice: Option<(f64, f64)> = None;
    for pc in [0.0, 0.1] {
        let mut per_seed = Vec::with_capacity(seeds.len());
        for series in &validation_series {
            per_seed.push(mean(&run(&config, series, Some(pc))?[1].crps));
        }
        let crps = mean(&per_seed);
        println!("  binned-only, pseudo-count {pc:<4} (same location/window) CRPS {crps:.5}");
        if binned_choice.is_none_or(|(b, _)| crps < b) {
            binned_choice = Some((crps, pc));
        }
    }
    let (_, binned_pc) = binned_choice.ok_or("no pseudo-count")?;
    println!("  => chosen: {chosen_name}; binned-only pseudo-count {binned_pc}");
    println!(
        "     (SBP: 100 bins, tail mass 0.05, pseudo-count 0.1, refit every 50; series = train ++ validation ++ test)"
    );

    // ---- 2. Seed 42: the notebook's own data ---------------------------------------
    let fx = fixture()?;
    let (train, validation, test) = (
        numbers(&fx["train"])?,
        numbers(&fx["validation"])?,
        numbers(&fx["test"])?,
    );
    let floor_mean = region(&fx["calibrated_noise_floor_n899"]["mean"])?;
    let floor_p90 = region(&fx["calibrated_noise_floor_n899"]["p90"])?;
    let e42 = evaluate(&config, binned_pc, &train, &validation, &test, &oracle, 42)?;
    println!();
    println!(
        "2. Seed 42 (the notebook's data, tests/fixtures/paper_series.json), test split, {TARGETS} targets"
    );
    println!();
    println!(
        "  a) correct alignment: forecast of test[t] scored against test[t], t = 100..999; y < z strictly"
    );
    header("CRPS");
    for (name, s) in METHODS.iter().zip(&e42.methods) {
        row(name, &s.correct, &format!("{:.5}", s.crps));
    }
    row(
        "oracle, paper's strict rule",
        &e42.oracle.correct,
        &format!("{:.5}", e42.oracle.crps),
    );
    row("oracle, randomised PIT", &e42.oracle_randomized, "");
    row("calibrated noise floor, mean", &floor_mean, "");
    row("calibrated noise floor, 90th pct", &floor_p90, "");
    published_rows();
    println!(
        "  (published numbers use the authors' protocol of b); the 2022 notebook ran on these data)"
    );
    println!();
    println!(
        "  b) authors' protocol: forecast row i (target test[100+i]) compared with test[102+i], 899 rows"
    );
    header("");
    for (name, s) in METHODS.iter().zip(&e42.methods) {
        row(name, &s.authors, "");
    }
    row("oracle", &e42.oracle.authors, "");
    published_rows();

    // ---- 3. Twenty other seeds --------------------------------------------------------
    // Every seed's test split under `config` (the PIT randomisation seeded per data seed).
    let evaluate_seeds = |config: &ForecasterConfig| {
        datasets
            .iter()
            .zip(&seeds)
            .map(|(d, &seed)| {
                evaluate(
                    config,
                    binned_pc,
                    &d.train,
                    &d.validation,
                    &d.test,
                    &oracle,
                    1000 + seed,
                )
            })
            .collect::<Res<Vec<Evaluation>>>()
    };
    let evaluations = evaluate_seeds(&config)?;
    let collect = |f: &dyn Fn(&Evaluation) -> f64| evaluations.iter().map(f).collect::<Vec<f64>>();
    println!();
    println!(
        "3. Seeds {}..={} (paper_datasets), test splits, {TARGETS} targets each: mean ± sd [min, max]",
        seeds[0],
        seeds[seeds.len() - 1]
    );
    type Getter = fn(&Scores) -> &RegionMae;
    let protocols: [(&str, Getter); 2] = [
        ("a) correct alignment", |s| &s.correct),
        ("b) authors' protocol (2 steps late)", |s| &s.authors),
    ];
    let region_names = ["lower", "base", "upper", "full"];
    let pick = |m: &RegionMae, r: usize| [m.lower, m.base, m.upper, m.full][r];
    for (title, get) in protocols {
        println!();
        println!("  {title}");
        println!(
            "  {:<28} {:^27} {:^27} {:^27} {:^27}",
            "", "lower", "base", "upper", "full"
        );
        let mut lines: Vec<(String, Vec<f64>)> = Vec::new();
        for (k, name) in METHODS.iter().enumerate() {
            for r in 0..4 {
                lines.push((name.to_string(), collect(&|e| pick(get(&e.methods[k]), r))));
            }
        }
        for r in 0..4 {
            lines.push(("oracle".into(), collect(&|e| pick(get(&e.oracle), r))));
        }
        if title.starts_with("a)") {
            for r in 0..4 {
                lines.push((
                    "oracle, randomised PIT".into(),
                    collect(&|e| pick(&e.oracle_randomized, r)),
                ));
            }
        }
        for chunk in lines.chunks(4) {
            let cells: Vec<String> = chunk
                .iter()
                .map(|(_, xs)| {
                    let (m, sd, lo, hi) = summary(xs);
                    format!("{m:.4}±{sd:.4} [{lo:.4},{hi:.4}]")
                })
                .collect();
            println!("  {:<28} {}", chunk[0].0, cells.join(" "));
        }
    }
    println!();
    println!("  mean CRPS (lower is better; paired difference to the SBP in brackets)");
    for (k, name) in METHODS.iter().enumerate() {
        let (m, sd, lo, hi) = summary(&collect(&|e| e.methods[k].crps));
        let ratio = summary(&collect(&|e| e.methods[k].crps / e.oracle.crps));
        let diff = summary(&collect(&|e| e.methods[k].crps - e.methods[0].crps));
        println!(
            "  {name:<28} {m:.5} ± {sd:.5} [{lo:.5}, {hi:.5}]   / oracle {:.4} ± {:.4}   [{:+.6} ± {:.6}]",
            ratio.0, ratio.1, diff.0, diff.1
        );
    }
    let (m, sd, lo, hi) = summary(&collect(&|e| e.oracle.crps));
    println!("  {:<28} {m:.5} ± {sd:.5} [{lo:.5}, {hi:.5}]", "oracle");

    // ---- 4. Short windows -------------------------------------------------------------
    //
    // With 5,000 residuals in the window even the 0.001 quantile rests on five points,
    // and a plain histogram's tails are as good as a GPD's at the paper's levels. The
    // GPD earns its keep when the window is short: the same forecasters with windows
    // of 100 (the paper's context length) and 300 residuals, everything else fixed.
    println!();
    println!(
        "4. Supplement: short windows (seeds {}..={}, test splits, correct alignment; same location model, refit every 10)",
        seeds[0],
        seeds[seeds.len() - 1]
    );
    println!(
        "  {:<34} {:>9} {:>9} {:>9} {:>9} {:>12}",
        "", "lower", "upper", "full", "CRPS", "CRPS = inf"
    );
    for window in [100, 300] {
        let short = config.clone().window(window).refit_every(10);
        let evals = evaluate_seeds(&short)?;
        let avg = |f: &dyn Fn(&Evaluation) -> f64| mean(&evals.iter().map(f).collect::<Vec<_>>());
        for (k, name) in METHODS.iter().enumerate() {
            println!(
                "  {:<34} {:>9.5} {:>9.5} {:>9.5} {:>9.5} {:>12}",
                format!("W={window} {name}"),
                avg(&|e| e.methods[k].correct.lower),
                avg(&|e| e.methods[k].correct.upper),
                avg(&|e| e.methods[k].correct.full),
                avg(&|e| e.methods[k].crps),
                evals.iter().map(|e| e.methods[k].infinite).sum::<usize>(),
            );
        }
    }

    // ---- 5. Targets ------------------------------------------------------------------
    println!();
    println!("5. Targets (20-seed means of section 3, correct alignment)");
    let sbp = |r: usize| mean(&collect(&|e| pick(&e.methods[0].correct, r)));
    let strict = |r: usize| mean(&collect(&|e| pick(&e.oracle.correct, r)));
    let randomized = |r: usize| mean(&collect(&|e| pick(&e.oracle_randomized, r)));
    println!(
        "  The oracle is scored two ways: by the paper's strict rule, which charges it for its 21 % atom at"
    );
    println!(
        "  5 + sin (exact ties count as 'not below'), and by its randomised PIT, the calibrated floor. The SBP"
    );
    println!(
        "  is continuous, so the rule cannot charge it: compare it with the second (being below the"
    );
    println!("  strict-rule oracle is not a miss).");
    for (r, name) in region_names.iter().enumerate() {
        if r == 1 {
            continue; // no target for the base region
        }
        let tol = if r == 3 { 0.003 } else { 0.002 };
        let d_strict = sbp(r) - strict(r);
        let d_random = sbp(r) - randomized(r);
        println!(
            "  {name:<5} SBP {:.5}; oracle randomised PIT {:.5} (SBP {d_random:+.5}), strict rule {:.5} (SBP {d_strict:+.5}); |SBP - oracle| <= {tol}: {}",
            sbp(r),
            randomized(r),
            strict(r),
            verdict(d_random.abs() <= tol && d_strict <= tol),
        );
    }
    let crps_ratio = mean(&collect(&|e| e.methods[0].crps)) / mean(&collect(&|e| e.oracle.crps));
    println!(
        "  CRPS  SBP / oracle = {crps_ratio:.4} ({:+.2} %); within 3 %: {}",
        100.0 * (crps_ratio - 1.0),
        verdict(crps_ratio <= 1.03)
    );
    for (k, name) in METHODS.iter().enumerate().skip(1) {
        let lower = mean(&collect(&|e| e.methods[k].correct.lower));
        let upper = mean(&collect(&|e| e.methods[k].correct.upper));
        let worse = collect(&|e| {
            f64::from(
                u8::from(e.methods[k].correct.lower > e.methods[0].correct.lower)
                    + u8::from(e.methods[k].correct.upper > e.methods[0].correct.upper),
            )
        });
        // "Clearly worse": both tails' means above the SBP's by more than the tail
        // tolerance of the targets.
        let clearly = lower - sbp(0) > 0.002 && upper - sbp(2) > 0.002;
        println!(
            "  {name} tails: lower {lower:.5} (SBP {:.5}), upper {upper:.5} (SBP {:.5}); worse than the SBP in {} of {} seed-tails; clearly worse (> 0.002 in both): {}",
            sbp(0),
            sbp(2),
            worse.iter().sum::<f64>(),
            2 * seeds.len(),
            if clearly { "yes" } else { "NO" }
        );
    }

    println!();
    println!("elapsed {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}
