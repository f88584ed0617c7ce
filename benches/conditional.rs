//! Cost of the conditional SBP: the fit of 100,000 rows × 10 features (linear, 100
//! bins), prediction plus one quantile per row, and percentile scores over 10^6 rows.
//!
//! ```sh
//! cargo bench --bench conditional
//! ```
//!
//! The data: standard normal features; the outcome's location and log-spread linear
//! in three of them, a Student-t(3)-like noise (a normal over the root of a scaled
//! chi-square) for heavy tails on both sides.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ndarray::{Array1, Array2};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{ChiSquared, Distribution, StandardNormal};
use tailcast::conditional::{ConditionalSbp, ConditionalSbpConfig};

const D: usize = 10;

fn data(n: usize, seed: u64) -> (Array2<f64>, Array1<f64>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let chi = ChiSquared::<f64>::new(3.0).expect("valid");
    let x = Array2::from_shape_fn((n, D), |_| {
        let z: f64 = StandardNormal.sample(&mut rng);
        z
    });
    let y = Array1::from_shape_fn(n, |i| {
        let z: f64 = StandardNormal.sample(&mut rng);
        let v: f64 = chi.sample(&mut rng);
        let t = z / (v / 3.0).sqrt();
        let location = x[[i, 0]] - 0.5 * x[[i, 1]] + 0.2 * x[[i, 2]];
        location + (0.3 * x[[i, 3]]).exp() * t
    });
    (x, y)
}

fn fit(c: &mut Criterion) {
    let (x, y) = data(100_000, 1);
    let config = ConditionalSbpConfig::default();
    let mut g = c.benchmark_group("conditional_fit");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(60));
    g.throughput(Throughput::Elements(100_000));
    g.bench_function("linear_100000x10_100bins", |b| {
        b.iter(|| ConditionalSbp::fit(black_box(x.view()), black_box(y.view()), config).unwrap())
    });
    g.finish();
}

fn predict(c: &mut Criterion) {
    let (x, y) = data(20_000, 2);
    let model = ConditionalSbp::fit(x.view(), y.view(), ConditionalSbpConfig::default())
        .unwrap()
        .model;
    let (xt, yt) = data(1_000_000, 3);
    let mut g = c.benchmark_group("conditional_predict");
    let rows = 10_000;
    g.throughput(Throughput::Elements(rows as u64));
    g.bench_function("predictor_plus_quantile_per_row", |b| {
        let mut predictor = model.predictor();
        b.iter(|| {
            let mut acc = 0.0;
            for row in xt.rows().into_iter().take(rows) {
                acc += predictor.predict(black_box(row)).unwrap().quantile(0.95);
            }
            acc
        })
    });
    g.finish();
    let mut g = c.benchmark_group("conditional_percentile_scores");
    g.sample_size(10);
    g.throughput(Throughput::Elements(xt.nrows() as u64));
    g.bench_function("1000000_rows", |b| {
        b.iter(|| {
            model
                .percentile_scores(black_box(xt.view()), black_box(yt.view()))
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, fit, predict);
criterion_main!(benches);
