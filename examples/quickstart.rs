//! Quickstart: forecast a heavy-tailed series, check the forecasts' calibration and
//! flag its anomalies, on the bundled sample data.
//!
//! ```sh
//! cargo run --release --example quickstart
//! ```
//!
//! Reads `data/sample_series.csv` (3,000 hourly request counts with a daily profile,
//! heavy-tailed noise and 20 injected anomalies; see `data/README.md`) and, with the
//! library's public API:
//!
//! 1. **forecasts** every hour one step ahead with [`backtest`]: a robust seasonal
//!    level plus a spliced binned-Pareto (SBP) residual distribution, refitted on a
//!    rolling window;
//! 2. **scores the calibration** of those forecasts with [`tailcast::metrics`] (PP-plot
//!    error per region, interval coverage);
//! 3. **detects anomalies** with an [`AnomalyDetector`] (two-sided tail p-values,
//!    risk 0.001) and compares them with the `injected` ground-truth column;
//! 4. **fits the residual tails** with [`SplicedBinnedPareto::fit`], with standard
//!    errors.
//!
//! It prints a summary and writes a picture, `target/quickstart.svg`: the series with
//! its 1 %–99 % forecast band and the flagged points, a zoomed week, and the PP-plot.

#[path = "support/svg.rs"]
mod svg;

use std::error::Error;
use std::time::Instant;

use tailcast::metrics::{
    PAPER_TAIL, PpScore, central_interval_coverage, paper_quantile_levels, pp_score_from_pit,
};
use tailcast::{
    AnomalyDetector, Backtest, DetectorConfig, ForecasterConfig, LocationModel, SbpConfig, SbpFit,
    Side, SplicedBinnedPareto, Verdict, backtest,
};

use svg::{Marker, Panel, Stroke, Swatch};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample_series.csv");
const PICTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/quickstart.svg");

/// Hourly data with a daily cycle.
const PERIOD: usize = 24;
/// Hours collected before the first forecast (ten days; the first injected anomaly is
/// at hour 316).
const WARMUP: usize = 240;
/// Flag an hour when its two-sided tail probability is below this. Hours below the
/// detector's exclusion level (`max(risk, 1e-3)` by default) are also kept out of the
/// fit, so that a smaller risk gives fewer alarms without letting spikes fatten the
/// fitted upper tail (which would hide later spikes).
const RISK: f64 = 1e-3;
/// Quantile levels kept from the backtest: the 98 % and 90 % central intervals and
/// the median.
const LEVELS: [f64; 5] = [0.01, 0.05, 0.5, 0.95, 0.99];
/// The zoomed stretch of the picture: one week, midnight to midnight.
const ZOOM: (usize, usize) = (2328, 2496);

/// The sample file: hour index, value, and whether the hour is an injected anomaly.
struct Series {
    hour: Vec<f64>,
    value: Vec<f64>,
    injected: Vec<bool>,
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let start = Instant::now();
    let series = read_series(DATA)?;
    let n = series.value.len();

    // The noise is a percentage of the level (a busy hour varies more than a quiet
    // one), so model log(requests): one residual distribution then fits every hour of
    // the day. Tail probabilities, and so the anomalies, do not change under the log;
    // quantiles map back with exp.
    let log_values: Vec<f64> = series.value.iter().map(|v| v.ln()).collect();
    let forecaster = ForecasterConfig::default()
        .location(LocationModel::Seasonal { period: PERIOD })
        .warmup(WARMUP);

    // 1. One-step-ahead forecasts for every hour (NaN rows during the warm-up).
    let bt = backtest(&forecaster, &log_values, &LEVELS)?;
    let first = bt
        .first_forecast
        .ok_or("the series ended during the warm-up")?;

    // 2. Calibration of those forecasts (the scored rows, after the warm-up): PIT
    //    values should be uniform.
    let scored = bt.scored();
    let pit: Vec<f64> = scored.pit.iter().copied().filter(|u| !u.is_nan()).collect();
    let levels = paper_quantile_levels();
    let pp = pp_score_from_pit(&pit, &levels, PAPER_TAIL)?;
    let quantiles = scored.quantiles;
    let coverage_90 = central_interval_coverage(&log_values[first..], quantiles, &LEVELS, 0.90)?;
    let coverage_98 = central_interval_coverage(&log_values[first..], quantiles, &LEVELS, 0.98)?;

    // 3. Detection: every hour against the forecast made before it. Flagged hours are
    //    kept out of the model, so a spike does not teach it that spikes are normal.
    let mut detector =
        AnomalyDetector::new(DetectorConfig::default().forecaster(forecaster).risk(RISK))?;
    let verdicts = detector.score(&log_values)?;

    // 4. The residual tails, fitted with standard errors on the one-step residuals the
    //    detector learned from.
    let residuals: Vec<f64> = verdicts
        .iter()
        .zip(&log_values)
        .filter(|(v, _)| !v.warming_up && !v.missing && !v.excluded)
        .map(|(v, y)| y - v.location)
        .collect();
    let fit = SplicedBinnedPareto::fit(&residuals, &SbpConfig::default())?;

    println!(
        "tailcast quickstart: {n} hourly values from data/sample_series.csv ({} injected anomalies)",
        series.injected.iter().filter(|&&i| i).count()
    );
    println!(
        "model: log(value) = robust seasonal level (period {PERIOD}) + SBP residual; window {}, first forecast at hour {first}",
        detector.config().forecaster().window()
    );
    print_tails(&fit, residuals.len());
    println!(
        "calibration of {} one-step forecasts (PP-plot mean abs. error; central interval coverage):",
        pit.len()
    );
    println!(
        "  lower tail {:.4} | base {:.4} | upper tail {:.4} | full {:.4} | 90 %: {:.1} % | 98 %: {:.1} %",
        pp.mae.lower,
        pp.mae.base,
        pp.mae.upper,
        pp.mae.full,
        100.0 * coverage_90,
        100.0 * coverage_98
    );
    print_anomalies(&series, &verdicts);

    let picture = picture(&series, &bt, &verdicts, &pp, &levels, pit.len());
    if let Some(dir) = std::path::Path::new(PICTURE).parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(PICTURE, picture)?;
    println!("picture: {PICTURE}");
    println!("elapsed: {:.3} s", start.elapsed().as_secs_f64());
    Ok(())
}

/// Reads `t,value,injected` rows (std only; the header is checked).
fn read_series(path: &str) -> Result<Series, Box<dyn Error>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    if header.trim() != "t,value,injected" {
        return Err(format!("{path}: expected the header t,value,injected, got {header:?}").into());
    }
    let mut series = Series {
        hour: Vec::new(),
        value: Vec::new(),
        injected: Vec::new(),
    };
    for (i, line) in lines.enumerate() {
        let bad = |what: &str| format!("{path}, line {}: {what} in {line:?}", i + 2);
        let mut cells = line.split(',').map(str::trim);
        let mut next = |name: &str| -> Result<f64, String> {
            let cell = cells.next().ok_or_else(|| bad(&format!("no {name}")))?;
            cell.parse()
                .map_err(|_| bad(&format!("{name} is not a number")))
        };
        let (hour, value, injected) = (next("t")?, next("value")?, next("injected")?);
        if !(value > 0.0 && value.is_finite()) {
            return Err(bad("value must be positive (it is modelled on the log scale)").into());
        }
        series.hour.push(hour);
        series.value.push(value);
        series.injected.push(injected == 1.0);
    }
    Ok(series)
}

fn print_tails(fit: &SbpFit, count: usize) {
    println!("residual tails (SBP fit on {count} one-step log-residuals, flagged hours left out):");
    let pm = |x: f64, se: Option<f64>, decimals: usize| match se {
        Some(se) => format!("{x:+.decimals$} ± {se:.decimals$}"),
        None => format!("{x:+.decimals$} (no s.e.)"),
    };
    for (name, tail, threshold, exceedances) in [
        (
            "lower",
            &fit.lower,
            fit.dist.lower_threshold(),
            fit.lower_exceedances,
        ),
        (
            "upper",
            &fit.upper,
            fit.dist.upper_threshold(),
            fit.upper_exceedances,
        ),
    ] {
        println!(
            "  {name}: threshold {threshold:+.3} ({:+.1} % of the level), {exceedances} points, shape {}, scale {}",
            100.0 * threshold.exp_m1(),
            pm(tail.dist.shape(), tail.shape_se, 3),
            pm(tail.dist.scale(), tail.scale_se, 4).trim_start_matches('+'),
        );
    }
}

fn print_anomalies(series: &Series, verdicts: &[Verdict]) {
    let flagged: Vec<usize> = (0..verdicts.len())
        .filter(|&t| verdicts[t].is_anomaly)
        .collect();
    let caught = flagged.iter().filter(|&&t| series.injected[t]).count();
    let injected = series.injected.iter().filter(|&&i| i).count();
    println!(
        "anomalies (two-sided p < {RISK}): {} flagged, {caught} of {injected} injected caught, {} false alarms",
        flagged.len(),
        flagged.len() - caught
    );
    println!(
        "  {:>5} {:>8}  {:>15}  {:>8} {:>6}  {:<4}  injected",
        "hour", "value", "99.9 % band", "p-value", "score", "side"
    );
    for &t in &flagged {
        let v = &verdicts[t];
        let band = format!("{:.0}–{:.0}", v.lower.exp(), v.upper.exp());
        println!(
            "  {:>5} {:>8.1}  {band:>15}  {:>8.1e} {:>6.2}  {:<4}  {}",
            series.hour[t],
            series.value[t],
            v.p_value,
            v.score,
            if v.side == Side::Upper { "high" } else { "low" },
            if series.injected[t] { "yes" } else { "no" }
        );
    }
    let missed: Vec<String> = (0..verdicts.len())
        .filter(|&t| series.injected[t] && !verdicts[t].is_anomaly)
        .map(|t| {
            format!(
                "hour {} (p = {})",
                series.hour[t],
                fmt_p(verdicts[t].p_value)
            )
        })
        .collect();
    if !missed.is_empty() {
        println!("  missed: {}", missed.join(", "));
    }
}

const BAND: &str = "#c6dbef";
const SERIES: &str = "#252525";
const MEDIAN: &str = "#2171b5";
const FLAG: &str = "#d62728";
const RING: &str = "#111111";
const WARM: &str = "#eeeeee";
const TAIL: &str = "#fde3c8";

/// The whole picture: full series, zoomed week, PP-plot and its deviations.
fn picture(
    series: &Series,
    bt: &Backtest,
    verdicts: &[Verdict],
    pp: &PpScore,
    levels: &[f64],
    n_pit: usize,
) -> String {
    // Back to requests per hour: quantiles map through exp.
    let column =
        |j: usize| -> Vec<f64> { bt.quantiles.column(j).iter().map(|q| q.exp()).collect() };
    let (q01, q50, q99) = (column(0), column(2), column(4));
    let width = 1200.0;
    let mut parts = Vec::new();

    let full = (0, series.value.len());
    parts.push(series_panel(
        series,
        verdicts,
        (&q01, &q50, &q99),
        full,
        ((0.0, 0.0), (width, 340.0)),
    ));
    parts.push(series_panel(
        series,
        verdicts,
        (&q01, &q50, &q99),
        ZOOM,
        ((0.0, 350.0), (width, 320.0)),
    ));
    parts.push(pp_panel(pp, levels, ((0.0, 680.0), (430.0, 400.0))));
    parts.push(deviation_panel(
        pp,
        levels,
        n_pit,
        ((430.0, 680.0), (width - 430.0, 400.0)),
    ));
    svg::document(width, 1090.0, &parts)
}

type Place = ((f64, f64), (f64, f64));

/// The series over `range` with its band, median and markers.
fn series_panel(
    series: &Series,
    verdicts: &[Verdict],
    (q01, q50, q99): (&[f64], &[f64], &[f64]),
    (from, to): (usize, usize),
    (origin, size): Place,
) -> String {
    let to = to.min(series.value.len());
    let zoomed = from > 0 || to < series.value.len();
    let hours = &series.hour[from..to];
    let values = &series.value[from..to];
    // On the whole series, let the largest point go off scale so that the rest gets
    // the room: it is drawn on the top edge with its value written next to it.
    let mut sorted: Vec<f64> = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let skip = if zoomed { 1 } else { 2 };
    let cap = sorted[sorted.len().saturating_sub(skip)].max(
        q99[from..to]
            .iter()
            .copied()
            .filter(|q| q.is_finite())
            .fold(0.0, f64::max),
    );
    let y_max = nice_ceiling(cap * 1.05);
    let x_range = (hours[0], hours[hours.len() - 1] + 1.0);
    let mut panel = Panel::new(origin, size, x_range, (0.0, y_max));

    if !zoomed {
        let warm_end = verdicts.iter().position(|v| !v.warming_up).unwrap_or(0) as f64;
        panel.vspan(0.0, warm_end, WARM, Some("warm-up"));
        panel.vspan(
            ZOOM.0 as f64,
            ZOOM.1 as f64,
            "#fff5c2",
            Some("zoomed below"),
        );
    } else {
        // Grid lines at midnight.
        let ticks = (from..to)
            .filter(|h| h % 24 == 0)
            .map(|h| (h as f64, format!("{h}")))
            .collect();
        panel.x_ticks(ticks);
    }
    panel.band(
        hours,
        &q01[from..to],
        &q99[from..to],
        BAND,
        Some("1 %–99 % forecast band"),
    );
    if zoomed {
        // On the whole series the median is hidden under the data anyway.
        panel.line(
            hours,
            &q50[from..to],
            Stroke::dashed(MEDIAN, 1.4),
            Some("forecast median"),
        );
    }
    panel.line(
        hours,
        values,
        Stroke::solid(SERIES, if zoomed { 1.5 } else { 0.6 }),
        Some("requests"),
    );

    let dot = (Marker::Dot, FLAG, if zoomed { 4.5 } else { 3.5 });
    let ring = (Marker::Ring, RING, if zoomed { 8.0 } else { 6.5 });
    let mut flagged = (Vec::new(), Vec::new());
    let mut injected = (Vec::new(), Vec::new());
    for (t, verdict) in verdicts.iter().enumerate().take(to).skip(from) {
        let (hour, value) = (series.hour[t], series.value[t]);
        let y = value.min(y_max);
        if verdict.is_anomaly {
            flagged.0.push(hour);
            flagged.1.push(y);
        }
        if series.injected[t] {
            injected.0.push(hour);
            injected.1.push(y);
        }
        if value > y_max {
            // Write the value on the side with room.
            let near_right = (hour - x_range.0) / (x_range.1 - x_range.0) > 0.9;
            let (dx, anchor) = if near_right {
                (-10.0, "end")
            } else {
                (10.0, "start")
            };
            panel.text((hour, y_max), (dx, 16.0), anchor, &format!("{value:.0} ↑"));
        }
    }
    panel.markers(&injected.0, &injected.1, ring, None);
    panel.markers(&flagged.0, &flagged.1, dot, None);
    let (dot_swatch, ring_swatch) = (
        Swatch::Marker(dot.0, dot.1.into(), dot.2),
        Swatch::Marker(ring.0, ring.1.into(), ring.2),
    );
    panel.legend_entry("caught", vec![ring_swatch.clone(), dot_swatch.clone()]);
    panel.legend_entry("false alarm", vec![dot_swatch]);
    panel.legend_entry("missed injected anomaly", vec![ring_swatch]);

    let title = if zoomed {
        format!("Zoom: hours {from}–{to} (one week; grid lines at midnight)")
    } else {
        format!(
            "Sample series: one-step forecasts and anomalies flagged at p < {RISK} (dot = flagged, ring = injected)"
        )
    };
    panel.render(&title, "hour", "requests per hour")
}

/// Nominal level against the fraction of PIT values below it.
fn pp_panel(pp: &PpScore, levels: &[f64], (origin, size): Place) -> String {
    let mut panel = Panel::new(origin, size, (0.0, 1.0), (0.0, 1.0));
    panel.vspan(0.0, PAPER_TAIL, TAIL, Some("tail regions"));
    panel.vspan(1.0 - PAPER_TAIL, 1.0, TAIL, None);
    panel.line(
        &[0.0, 1.0],
        &[0.0, 1.0],
        Stroke::dashed("#777", 1.0),
        Some("ideal"),
    );
    panel.line(
        levels,
        &pp.curve,
        Stroke::solid(MEDIAN, 1.8),
        Some("forecasts"),
    );
    panel.render(
        "PP-plot of the one-step forecasts",
        "nominal level q",
        "fraction of PIT values below q",
    )
}

/// The PP-plot's deviations from the diagonal, one step per evaluated level (so the
/// tails, where the levels are dense, get room), with the sampling noise a perfectly
/// calibrated forecaster would show.
fn deviation_panel(pp: &PpScore, levels: &[f64], n: usize, (origin, size): Place) -> String {
    let index: Vec<f64> = (0..levels.len()).map(|i| i as f64).collect();
    let deviation: Vec<f64> = pp.curve.iter().zip(levels).map(|(y, q)| y - q).collect();
    let noise: Vec<f64> = levels
        .iter()
        .map(|q| 2.0 * (q * (1.0 - q) / n as f64).sqrt())
        .collect();
    let reach = deviation
        .iter()
        .chain(&noise)
        .fold(0.0_f64, |m, d| m.max(d.abs()))
        * 1.15;
    let last = (levels.len() - 1) as f64;
    let mut panel = Panel::new(origin, size, (-0.5, last + 0.5), (-reach, reach));
    // The x position of any level: linear between the evaluated ones.
    let at = |level: f64| {
        let i = levels.partition_point(|&l| l < level);
        if i == 0 || i == levels.len() {
            return i.min(levels.len() - 1) as f64;
        }
        let (a, b) = (levels[i - 1], levels[i]);
        (i - 1) as f64 + (level - a) / (b - a)
    };
    panel.vspan(-0.5, at(PAPER_TAIL), TAIL, Some("tail regions"));
    panel.vspan(at(1.0 - PAPER_TAIL), last + 0.5, TAIL, None);
    let minus: Vec<f64> = noise.iter().map(|e| -e).collect();
    panel.band(
        &index,
        &minus,
        &noise,
        "#e3e3e3",
        Some(&format!("±2 s.e. of a calibrated forecaster (n = {n})")),
    );
    panel.line(
        &[-0.5, last + 0.5],
        &[0.0, 0.0],
        Stroke::dashed("#777", 1.0),
        None,
    );
    panel.line(
        &index,
        &deviation,
        Stroke::solid(MEDIAN, 1.8),
        Some("forecasts"),
    );
    let ticks = [0.001, 0.02, 0.05, 0.25, 0.5, 0.75, 0.95, 0.98, 0.999]
        .iter()
        .map(|&q| (at(q), format!("{q}")))
        .collect();
    panel.x_ticks(ticks);
    panel.render(
        &format!(
            "PP-plot error: lower tail {:.4}, base {:.4}, upper tail {:.4} (mean abs.)",
            pp.mae.lower, pp.mae.base, pp.mae.upper
        ),
        "nominal level q (one step per evaluated level: the tails are stretched)",
        "fraction below q  −  q",
    )
}

/// `x` rounded up to a quarter of its power of ten (3,412 -> 3,500), so the axis
/// ends close to the data on a round number.
fn nice_ceiling(x: f64) -> f64 {
    let magnitude = 10f64.powf(x.log10().floor());
    (x / magnitude * 4.0).ceil() / 4.0 * magnitude
}

/// A p-value with two significant digits.
fn fmt_p(p: f64) -> String {
    if p >= 0.01 {
        format!("{p:.2}")
    } else {
        format!("{p:.1e}")
    }
}
