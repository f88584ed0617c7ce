//! Cost of the evaluation yardsticks: the exact CRPS of a spliced binned-Pareto per
//! observation, the paper's PP metric on a test set, and the oracle.
//!
//! Reports read as elements (observations) per second.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ndarray::Array2;
use rand::SeedableRng;
use rand::distr::Distribution;
use rand::rngs::StdRng;
use tailcast::SplicedBinnedPareto;
use tailcast::metrics::{
    Crps, PAPER_TAIL, Ties, ks_uniform, paper_quantile_levels, pp_score_from_quantiles,
};
use tailcast::synthetic::{PaperConfig, PaperOracle, paper_series};

const POINTS: usize = 1024;
const BINS: [usize; 3] = [10, 100, 1000];

fn sbp(bins: usize) -> SplicedBinnedPareto {
    tailcast::synthetic::reference_sbp(bins)
}

/// CRPS of an SBP with 10, 100 and 1,000 bins at observations drawn from it: the cost
/// is one pass over the bins between the thresholds, so it grows linearly with K.
fn crps(c: &mut Criterion) {
    let mut group = c.benchmark_group("crps_sbp");
    group.throughput(Throughput::Elements(POINTS as u64));
    for bins in BINS {
        let d = sbp(bins);
        let mut rng = StdRng::seed_from_u64(1);
        let ys: Vec<f64> = (0..POINTS).map(|_| d.sample(&mut rng)).collect();
        group.bench_with_input(BenchmarkId::from_parameter(bins), &ys, |b, ys| {
            b.iter(|| ys.iter().map(|&y| black_box(&d).crps(y)).sum::<f64>())
        });
    }
    group.finish();
}

/// The paper's evaluation of one test series: PP curve and region MAE from 899 rows of
/// 129 quantiles (strict ties), and the KS uniformity test of 899 PIT values.
fn pp_metric(c: &mut Criterion) {
    let levels = paper_quantile_levels();
    let mut rng = StdRng::seed_from_u64(2);
    let obs = paper_series(899, &mut rng);
    let d = sbp(100);
    let mut row = vec![0.0; levels.len()];
    d.quantiles_into(&levels, &mut row).unwrap();
    let q = Array2::from_shape_fn((899, levels.len()), |(_, j)| row[j]);
    let pit: Vec<f64> = obs.iter().map(|&y| d.cdf(y)).collect();
    let mut group = c.benchmark_group("paper_metric");
    group.throughput(Throughput::Elements(899));
    group.bench_function("pp_score_from_quantiles", |b| {
        b.iter(|| {
            pp_score_from_quantiles(black_box(&obs), q.view(), &levels, Ties::Strict, PAPER_TAIL)
                .unwrap()
        })
    });
    group.bench_function("ks_uniform", |b| {
        b.iter(|| ks_uniform(black_box(&pit)).unwrap())
    });
    group.finish();
}

/// The oracle: building its tables once (numerical integration), then its CRPS per
/// observation (a panel search and a 16-point Gauss–Legendre sum).
fn oracle(c: &mut Criterion) {
    let config = PaperConfig::default();
    let mut group = c.benchmark_group("oracle");
    group.sample_size(10);
    group.bench_function("build", |b| {
        b.iter(|| PaperOracle::new(black_box(&config), 1000).unwrap())
    });
    let oracle = PaperOracle::new(&config, 1000).unwrap();
    let mut rng = StdRng::seed_from_u64(3);
    let ys = paper_series(1000, &mut rng);
    group.sample_size(50);
    group.throughput(Throughput::Elements(1000));
    group.bench_function("crps", |b| {
        b.iter(|| {
            ys.iter()
                .enumerate()
                .map(|(t, &y)| oracle.at(t).unwrap().crps(black_box(y)))
                .sum::<f64>()
        })
    });
    group.finish();
}

criterion_group!(benches, crps, pp_metric, oracle);
criterion_main!(benches);
