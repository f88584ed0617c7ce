//! Cost of the conditional SBP: the fit of 100,000 rows × 10 features (linear, 100
//! bins), prediction plus one quantile per row, and percentile scores over 10^6 rows.
//!
//! ```sh
//! cargo bench --bench conditional
//! ```
//!
//! The data (`examples/support/conditional_data.rs`, shared with
//! `examples/conditional_profile.rs`): standard normal features; the outcome's location
//! and log-spread linear in three of them, a Student-t(3)-like noise (a normal over the
//! root of a scaled chi-square) for heavy tails on both sides.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tailcast::conditional::{ConditionalSbp, ConditionalSbpConfig};

#[path = "../examples/support/conditional_data.rs"]
mod conditional_data;
use conditional_data::data;

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
