//! Throughput of the streaming detector and forecaster, in observations per second.
//!
//! The series is the paper's kind of data: a level of 5 plus a sine of period 100,
//! Gaussian noise (sd 0.25) and 15 % of exponential spikes, half up and half down.
//! Every detector is warmed up (and its window filled) outside the measurement; each
//! iteration clones it and streams a fixed batch through `update`, so the figure is
//! the steady-state cost per observation. Windows of 100, 1,000 and 10,000 show that
//! the per-observation cost does not grow with the window.

use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tailcast::{ForecasterConfig, RollingForecaster};

#[path = "../examples/support/detector_stream.rs"]
mod detector_stream;
use detector_stream::{default_forecaster, refit_every_step, series, warmed};

const WINDOWS: [usize; 3] = [100, 1_000, 10_000];

fn stream(c: &mut Criterion, group: &str, batch: usize, config: fn(usize) -> ForecasterConfig) {
    let mut group = c.benchmark_group(group);
    group.throughput(Throughput::Elements(batch as u64));
    let ys = series(batch, 2);
    for window in WINDOWS {
        let detector = warmed(config(window), window);
        group.bench_with_input(BenchmarkId::from_parameter(window), &ys, |b, ys| {
            b.iter_batched(
                || detector.clone(),
                |mut d| {
                    for &y in ys {
                        black_box(d.update(black_box(y)).unwrap());
                    }
                    d
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

/// `AnomalyDetector::update` with default settings (the automatic location model,
/// which picks the season of period 100 here, 100 bins, refit every `window / 10`
/// observations, the detector's tail-shape bound): location update, O(1) window
/// update, p-value and the amortised refit.
fn detector_default(c: &mut Criterion) {
    stream(c, "detector_default", 100_000, default_forecaster);
}

/// `AnomalyDetector::update` with the residual SBP refitted at every observation:
/// body from the counts and thresholds at every step; a tail is refitted (exceedances
/// from the tail bins, warm-started GPD fit) only when its exceedances changed, about
/// one step in ten per tail, so this cost grows with the number of exceedances
/// (5 % of the window) while the body's is fixed by the 100 bins.
fn detector_refit_every_step(c: &mut Criterion) {
    stream(c, "detector_refit_every_step", 20_000, refit_every_step);
}

/// `RollingForecaster::observe` alone with the seasonal location model (period 100)
/// and default refits: the forecaster without the detector's scoring.
fn forecaster_seasonal(c: &mut Criterion) {
    let mut group = c.benchmark_group("forecaster_seasonal_observe");
    let batch = 100_000;
    group.throughput(Throughput::Elements(batch as u64));
    let ys = series(batch, 3);
    for window in WINDOWS {
        let mut f = RollingForecaster::new(
            ForecasterConfig::default()
                .window(window)
                .location(tailcast::LocationModel::Seasonal { period: 100 }),
        )
        .unwrap();
        for y in series(2 * window + 2000, 4) {
            f.observe(y).unwrap();
        }
        group.bench_with_input(BenchmarkId::from_parameter(window), &ys, |b, ys| {
            b.iter_batched(
                || f.clone(),
                |mut f| {
                    for &y in ys {
                        f.observe(black_box(y)).unwrap();
                    }
                    f
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    detector_default,
    detector_refit_every_step,
    forecaster_seasonal
);
criterion_main!(benches);
