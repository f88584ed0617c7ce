//! tailcast's default detector and libspot-rs's SPOT, side by side on the stream SPOT
//! is benchmarked on (`tailcast::synthetic::spot_stream`: a sine of period 100,
//! uniform noise and 10 % Lomax spikes). Every run measures both on the same
//! 200,000 observations, so the ratio of their throughputs is read from one run:
//!
//! ```sh
//! cargo bench --bench spot -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! * `spot`: `SpotDetector` with its defaults (`q = 1e-4`, level 0.998, upper tail,
//!   anomalies discarded), fitted on 10 % of the stream's length before the
//!   measurement, then `step` per observation: one comparison per step and a GPD
//!   refit of its single tail on each excess.
//! * `tailcast`: `AnomalyDetector::new(DetectorConfig::default())` with a window of
//!   1,000, warmed up before the measurement (17,000 observations: past the
//!   automatic location model's last re-selection at 16 warm-ups, a one-off of
//!   about 0.1 G instructions), then `update` per observation: a
//!   location model, the window's histogram, a two-sided p-value from the full
//!   predictive distribution and the amortised refit of the spliced binned-Pareto.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use libspot_rs::{SpotConfig, SpotDetector};
use rand::SeedableRng;
use rand::rngs::StdRng;
use tailcast::Check;
use tailcast::synthetic::spot_stream;
use tailcast::{AnomalyDetector, DetectorConfig};

const BATCH: usize = 200_000;

fn side_by_side(c: &mut Criterion) {
    let warm = spot_stream(BATCH / 10, &mut StdRng::seed_from_u64(1));
    let ys = spot_stream(BATCH, &mut StdRng::seed_from_u64(2));
    let mut group = c.benchmark_group("spot_stream");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("spot", |b| {
        b.iter_batched(
            || {
                let mut spot = SpotDetector::new(SpotConfig::default()).unwrap();
                spot.fit(&warm).unwrap();
                spot
            },
            |mut spot| {
                for &y in &ys {
                    black_box(spot.step(black_box(y)).unwrap());
                }
                spot
            },
            BatchSize::LargeInput,
        )
    });
    let forecaster = DetectorConfig::default()
        .check()
        .unwrap()
        .forecaster()
        .into_config()
        .window(1_000);
    let mut detector =
        AnomalyDetector::new(DetectorConfig::default().forecaster(forecaster)).unwrap();
    for y in spot_stream(17_000, &mut StdRng::seed_from_u64(3)) {
        detector.update(y).unwrap();
    }
    group.bench_function("tailcast", |b| {
        b.iter_batched(
            || detector.clone(),
            |mut d| {
                for &y in &ys {
                    black_box(d.update(black_box(y)).unwrap());
                }
                d
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, side_by_side);
criterion_main!(benches);
