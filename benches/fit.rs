//! Cost of the maximum-likelihood fits.
//!
//! GPD: the 1,000 GPD(0.2, 1) draws of `tests/fixtures/bench_gpd_1000.json` (the same
//! data `scripts/time_scipy_fit.py` times scipy on), fitted cold with and without the
//! certified global search, and a warm-started local refit of a 50-point window (what a rolling
//! forecaster does at every step). SBP: windows of 500, 5,000 and 50,000 points of a
//! seeded spliced binned-Pareto sample, refitted in place by a reusable `SbpFitter`.
//! Throughput is in points per second.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::distr::Distribution;
use rand::rngs::StdRng;
use tailcast::Check;
use tailcast::fit::{GpdFitter, SbpConfig, SbpFitter};
use tailcast::{GeneralizedPareto, SplicedBinnedPareto};

fn bench_data() -> Vec<f64> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/bench_gpd_1000.json"
    );
    let text = std::fs::read_to_string(path).expect("bench fixture");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    v["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

/// Cold GPD fits on 1,000 points: the full fit (local Newton + global search + standard
/// errors), the fitter with the search, and the local Newton alone.
fn gpd_fit(c: &mut Criterion) {
    let x = bench_data();
    let mut g = c.benchmark_group("gpd_fit_1000");
    g.throughput(Throughput::Elements(x.len() as u64));
    g.bench_function("GeneralizedPareto::fit", |b| {
        b.iter(|| GeneralizedPareto::fit(black_box(&x)).unwrap())
    });
    let global = GpdFitter::default().check().unwrap();
    g.bench_function("fitter_global", |b| {
        b.iter(|| global.fit(black_box(&x), None).unwrap())
    });
    let local = GpdFitter::default().global(false).check().unwrap();
    g.bench_function("fitter_local", |b| {
        b.iter(|| local.fit(black_box(&x), None).unwrap())
    });
    g.finish();
}

/// A rolling tail refit: 50 exceedances, the window moved by one point, warm start
/// from the previous estimate, no global search.
fn gpd_refit_warm(c: &mut Criterion) {
    let x = bench_data();
    let fitter = GpdFitter::default().global(false).check().unwrap();
    let prev = fitter.fit(&x[..50], None).unwrap();
    let window = &x[1..51];
    let mut g = c.benchmark_group("gpd_refit_warm_50");
    g.throughput(Throughput::Elements(50));
    g.bench_function("fit_with_start", |b| {
        b.iter(|| {
            fitter
                .fit_with_start(black_box(window), None, prev.shape, prev.scale)
                .unwrap()
        })
    });
    g.finish();
}

/// SBP refits in place on windows of several sizes (100 bins, automatic bounds, default
/// global GPD fits of both tails).
fn sbp_fit(c: &mut Criterion) {
    let logits: Vec<f64> = (0..100)
        .map(|k| -0.5 * ((k as f64 - 50.0) / 15.0).powi(2))
        .collect();
    let truth = SplicedBinnedPareto::from_logits(
        0.0,
        10.0,
        &logits,
        0.05,
        GeneralizedPareto::new(0.1, 0.5).unwrap(),
        GeneralizedPareto::new(0.4, 1.0).unwrap(),
    )
    .unwrap();
    let mut rng = StdRng::seed_from_u64(42);
    let all: Vec<f64> = (0..50_000).map(|_| truth.sample(&mut rng)).collect();
    let mut g = c.benchmark_group("sbp_fit");
    for n in [500usize, 5_000, 50_000] {
        let x = &all[..n];
        let config = SbpConfig::default();
        let mut fitter = SbpFitter::new(config).unwrap();
        let mut dist = fitter.fit(x, None).unwrap().dist;
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("fit_into", n), &n, |b, _| {
            b.iter(|| fitter.fit_into(black_box(x), None, &mut dist).unwrap())
        });
        let local = config.gpd_fitter(GpdFitter::default().global(false));
        let mut fast = SbpFitter::new(local).unwrap().warm_start(true);
        let mut d2 = fast.fit(x, None).unwrap().dist;
        g.bench_with_input(BenchmarkId::new("fit_into_local_warm", n), &n, |b, _| {
            b.iter(|| fast.fit_into(black_box(x), None, &mut d2).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, gpd_fit, gpd_refit_warm, sbp_fit);
criterion_main!(benches);
