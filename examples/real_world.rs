//! The default detector on real-world pathologies, against the true laws and skaters.
//!
//! ```sh
//! cargo run --release --example real_world            # n = 20,000 per series
//! cargo run --release --example real_world -- 5000    # shorter series
//! # other location models (none, level, auto, s<period>, ar<lags>), some series only:
//! cargo run --release --example real_world -- 20000 level,auto,s24,ar2 daily
//! # other seeds than 2024; a range gives the mean row over its seeds:
//! cargo run --release --example real_world -- 20000 auto "" 1-6
//! ```
//!
//! For each series of [`tailcast::synthetic::pathology_suite`] (seed 2024: zero-inflated
//! counts, two-regime switching, level shifts under Student-t noise, normal bursts,
//! stuck-sensor flat lines, drifting scale, daily/weekly seasonality) it streams the
//! values through two detectors, the default one (`DetectorConfig::default()`: window
//! 1,000, risk 1e-3) with the location model set to `LocationModel::Level` and to
//! `LocationModel::Auto`, and prints one row per series and detector:
//!
//! * `FA/10k`: alarms per 10,000 *clean* scored steps. A step is clean unless it lies
//!   inside an injected anomaly or within 10 steps after one ends, or within 50 steps
//!   from a shift (the shift's own step included); see
//!   [`ScoringConfig`](tailcast::synthetic::ScoringConfig).
//! * `recall`: the share of injected anomalies (scored ones) with an alarm at their
//!   start or up to 3 steps after their end; `delay`: mean steps from the start to
//!   that first alarm.
//! * `p=0`: scored steps with a p-value of exactly 0 or an infinite score.
//! * `runs/shift`: runs of consecutive alarms that detect no anomaly, starting within
//!   500 steps after a shift (and before the next), per shift.
//! * `CRPS/or`: the forecaster's mean one-step CRPS (exact, on the forecast made before
//!   the value was seen) over the scored steps outside injected anomalies, divided by
//!   the oracle's on the same steps (1 is ideal); `shift/or`: the same over steps
//!   50..200 after each shift of at least 5 noise scales.
//! * `sk/tc`, `sk/tc shift`: skaters' `laplace(1)` mean CRPS divided by this tailcast
//!   detector's on the same steps (above 1: tailcast is better). Both CRPS values here
//!   come from the same quantile approximation, `CRPS ≈ (2/m) Σ ρ_τ(y - q_τ)` over the
//!   `m = 50` levels `τ = (i + 1/2)/m`, because skaters gives a distribution whose
//!   CRPS it only approximates on a quantile grid; using the same grid for both keeps
//!   the comparison fair.
//! * `picked`: the location model the detector resolved to (`S24`: seasonal with
//!   period 24, `AR1`: one lag).

use std::error::Error;
use std::time::Instant;

use tailcast::metrics::{Crps, pinball_loss};
use tailcast::synthetic::{
    DetectionReport, LabelledSeries, ScoringConfig, crps_ratio, pathology_suite, score_detection,
};
use tailcast::{AnomalyDetector, DetectorConfig, LocationModel, Verdict};

const SEED: u64 = 2024;

/// Seeds from `"a"` or `"a-b"` (inclusive).
fn parse_seeds(arg: &str) -> Result<Vec<u64>, String> {
    let number = |x: &str| x.parse::<u64>().map_err(|e| format!("bad seed {x:?}: {e}"));
    match arg.split_once('-') {
        Some((a, b)) => Ok((number(a)?..=number(b)?).collect()),
        None => Ok(vec![number(arg)?]),
    }
}
/// Quantile levels of the CRPS approximation shared by tailcast and skaters.
const LEVELS: usize = 50;
/// Shifts at least this large (in noise scales) count for the after-shift CRPS ...
const BIG_SHIFT: f64 = 5.0;
/// ... over these steps after the shift.
const AFTER_SHIFT: (usize, usize) = (50, 200);

/// `(2/m) Σ ρ_τ(y - q_τ)`: the CRPS of the distribution with those quantiles, to
/// the grid's resolution.
fn quantile_crps(levels: &[f64], quantiles: &[f64], y: f64) -> f64 {
    let sum: f64 = levels
        .iter()
        .zip(quantiles)
        .map(|(&tau, &q)| pinball_loss(y, q, tau))
        .sum();
    2.0 * sum / levels.len() as f64
}

/// One detector's pass: its verdicts, its per-step CRPS (NaN while warming up) and
/// the location model it resolved to.
struct Run {
    verdicts: Vec<Verdict>,
    crps: Vec<f64>,
    crps_grid: Vec<f64>,
    model: LocationModel,
}

fn run_tailcast(
    config: DetectorConfig,
    values: &[f64],
    levels: &[f64],
) -> Result<Run, Box<dyn Error>> {
    let mut detector = AnomalyDetector::new(config)?;
    let n = values.len();
    let (mut crps, mut crps_grid) = (vec![f64::NAN; n], vec![f64::NAN; n]);
    let mut verdicts = Vec::with_capacity(n);
    let mut q = vec![0.0; levels.len()];
    for (t, &y) in values.iter().enumerate() {
        // The forecast for y, made before y is seen.
        if let Ok(f) = detector.forecaster().forecast() {
            crps[t] = f.residual().crps(y - f.location());
            f.quantiles_into(levels, &mut q)?;
            crps_grid[t] = quantile_crps(levels, &q, y);
        }
        verdicts.push(detector.update(y)?);
    }
    Ok(Run {
        verdicts,
        crps,
        crps_grid,
        model: detector.forecaster().location_model(),
    })
}

/// A short name of a resolved location model.
fn short(model: LocationModel) -> String {
    match model {
        LocationModel::None => "none".into(),
        LocationModel::Level => "level".into(),
        LocationModel::Seasonal { period } => format!("S{period}"),
        LocationModel::Autoregressive { lags } => format!("AR{lags}"),
        LocationModel::Auto => "auto".into(),
    }
}

/// A location model from its short name.
fn parse_model(name: &str) -> Result<LocationModel, String> {
    let number = |rest: &str| {
        rest.parse::<usize>()
            .map_err(|e| format!("bad model {name:?}: {e}"))
    };
    match name {
        "none" => Ok(LocationModel::None),
        "level" => Ok(LocationModel::Level),
        "auto" => Ok(LocationModel::Auto),
        _ if name.starts_with('s') => Ok(LocationModel::Seasonal {
            period: number(&name[1..])?,
        }),
        _ if name.starts_with("ar") => Ok(LocationModel::Autoregressive {
            lags: number(&name[2..])?,
        }),
        _ => Err(format!("unknown model {name:?}")),
    }
}

/// skaters' `laplace(1)`: `step(y)` returns the forecast of the next value.
fn run_skaters(values: &[f64], levels: &[f64]) -> Vec<f64> {
    let mut model = skaters::laplace(1);
    let mut pending: Option<skaters::PDist> = None;
    let mut q = vec![0.0; levels.len()];
    values
        .iter()
        .map(|&y| {
            let crps = pending.as_ref().map_or(f64::NAN, |d| {
                for (qi, &tau) in q.iter_mut().zip(levels) {
                    *qi = d.quantile(tau);
                }
                quantile_crps(levels, &q, y)
            });
            pending = model.step(y).into_iter().next();
            crps
        })
        .collect()
}

fn fmt(x: f64, width: usize, decimals: usize) -> String {
    if x.is_nan() {
        format!("{:>width$}", "-")
    } else {
        format!("{x:>width$.decimals$}")
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let n: usize = match std::env::args().nth(1) {
        Some(arg) => arg
            .parse()
            .map_err(|e| format!("bad length {arg:?}: {e}"))?,
        None => 20_000,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let models: Vec<(String, LocationModel)> = args
        .get(1)
        .map_or("level,auto", String::as_str)
        .split(',')
        .map(|m| parse_model(m).map(|model| (m.to_string(), model)))
        .collect::<Result<_, _>>()?;
    let only = args.get(2).map_or("", String::as_str);
    let seeds = args.get(3).map_or(Ok(vec![SEED]), |a| parse_seeds(a))?;
    let seed_label = match seeds.as_slice() {
        [one] => format!("seed {one}"),
        many => format!("mean over seeds {}-{}", many[0], many[many.len() - 1]),
    };
    println!(
        "$ cargo run --release --example real_world{}",
        args.iter().map(|a| format!(" {a}")).collect::<String>()
    );
    println!(
        "n = {n} per series, {seed_label}, risk 1e-3; CRPS/or over non-anomalous scored steps, \
         shift/or over steps {}..{} after shifts >= {BIG_SHIFT} noise scales; sk/tc on a {LEVELS}-level quantile grid\n",
        AFTER_SHIFT.0, AFTER_SHIFT.1
    );
    let levels: Vec<f64> = (0..LEVELS)
        .map(|i| (i as f64 + 0.5) / LEVELS as f64)
        .collect();
    let scoring = ScoringConfig::default();
    println!(
        "{:<21} {:<6} {:>7} {:>6} {:>6} {:>4} {:>6} {:>5} {:>7} {:>8} {:>6} {:>8} {:>6}",
        "series",
        "model",
        "FA/10k",
        "recall",
        "delay",
        "p=0",
        "runs/",
        "CRPS/",
        "shift/",
        "(steps)",
        "sk/tc",
        "sk/tc",
        "picked"
    );
    println!(
        "{:<21} {:<6} {:>7} {:>6} {:>6} {:>4} {:>6} {:>5} {:>7} {:>8} {:>6} {:>8} {:>6}",
        "", "", "", "", "", "", "shift", "or", "or", "", "", "shift", ""
    );
    let started = Instant::now();
    // Per (series, model): the sums of each column over the seeds.
    let mut rows: Vec<(String, String, Row)> = Vec::new();
    for &seed in &seeds {
        for (name, series) in pathology_suite(seed, n)? {
            if !name.contains(only) {
                continue;
            }
            let oracle = series.oracle_crps();
            let skaters = run_skaters(&series.values, &levels);
            for (label, location) in &models {
                let config = DetectorConfig::default()
                    .forecaster(DetectorConfig::default_forecaster().location(*location));
                let run = run_tailcast(config, &series.values, &levels)?;
                let report = score_detection(&series, &run.verdicts, &scoring)?;
                let row = measure(&series, &report, &run, &oracle, &skaters)?;
                match rows.iter_mut().find(|(n, l, _)| n == name && l == label) {
                    Some((_, _, sum)) => sum.add(row),
                    None => rows.push((name.to_string(), label.clone(), row)),
                }
            }
        }
    }
    for (name, label, sum) in &rows {
        print_row(name, label, &sum.mean(seeds.len()));
    }
    println!("\n({:.1} s)", started.elapsed().as_secs_f64());
    Ok(())
}

/// One table row: the figures of one detector on one series (or their mean).
#[derive(Clone)]
struct Row {
    false_alarms: f64,
    recall: f64,
    delay: f64,
    zero_p_values: f64,
    runs_per_shift: f64,
    overall: f64,
    shifted: f64,
    shift_steps: f64,
    skaters: f64,
    skaters_shift: f64,
    picked: String,
}

impl Row {
    fn columns(&mut self) -> [&mut f64; 10] {
        [
            &mut self.false_alarms,
            &mut self.recall,
            &mut self.delay,
            &mut self.zero_p_values,
            &mut self.runs_per_shift,
            &mut self.overall,
            &mut self.shifted,
            &mut self.shift_steps,
            &mut self.skaters,
            &mut self.skaters_shift,
        ]
    }

    fn add(&mut self, mut other: Row) {
        for (a, b) in self.columns().into_iter().zip(other.columns()) {
            *a += *b;
        }
        if self.picked != other.picked {
            self.picked = "mixed".into();
        }
    }

    fn mean(&self, k: usize) -> Row {
        let mut mean = self.clone();
        for c in mean.columns() {
            *c /= k as f64;
        }
        mean
    }
}

fn measure(
    series: &LabelledSeries,
    report: &DetectionReport,
    run: &Run,
    oracle: &[f64],
    skaters: &[f64],
) -> Result<Row, Box<dyn Error>> {
    let everywhere: Vec<bool> = series.anomalous_mask().iter().map(|a| !a).collect();
    let after = series.after_shift_mask(BIG_SHIFT, AFTER_SHIFT.0, AFTER_SHIFT.1);
    let (overall, _) = crps_ratio(&run.crps, oracle, &everywhere)?;
    let (shifted, shift_steps) = crps_ratio(&run.crps, oracle, &after)?;
    let (sk, _) = crps_ratio(skaters, &run.crps_grid, &everywhere)?;
    let (sk_shift, _) = crps_ratio(skaters, &run.crps_grid, &after)?;
    Ok(Row {
        false_alarms: report.false_alarms_per_10k(),
        recall: report.recall(),
        delay: report.mean_delay(),
        zero_p_values: report.zero_p_values as f64,
        runs_per_shift: report.alarm_runs_per_shift(),
        overall,
        shifted,
        shift_steps: shift_steps as f64,
        skaters: sk,
        skaters_shift: sk_shift,
        picked: short(run.model),
    })
}

fn print_row(name: &str, label: &str, row: &Row) {
    println!(
        "{:<21} {:<6} {} {} {} {:>4} {} {} {} {:>8} {} {} {:>6}",
        name,
        label,
        fmt(row.false_alarms, 7, 1),
        fmt(row.recall, 6, 2),
        fmt(row.delay, 6, 1),
        row.zero_p_values,
        fmt(row.runs_per_shift, 6, 2),
        fmt(row.overall, 5, 2),
        fmt(row.shifted, 7, 2),
        row.shift_steps,
        fmt(row.skaters, 6, 2),
        fmt(row.skaters_shift, 8, 2),
        row.picked,
    );
}
