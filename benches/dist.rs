//! Per-evaluation cost of the distributions.
//!
//! Each benchmark evaluates one method on 1,024 fixed points spread over the whole
//! support (both tails and the body), so the figure is an average over regions;
//! criterion reports elements per second, i.e. evaluations per second.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::distr::Distribution;
use rand::rngs::StdRng;
use tailcast::{GeneralizedPareto, SplicedBinnedPareto};

const POINTS: usize = 1024;

/// A named method of a distribution and the arguments it is evaluated at.
type Method<'a, D> = (&'static str, fn(&D, f64) -> f64, &'a [f64]);
const BINS: [usize; 3] = [10, 100, 1000];

fn sbp(bins: usize) -> SplicedBinnedPareto {
    tailcast::synthetic::reference_sbp(bins)
}

/// Points drawn from the distribution itself, so every region is visited in
/// proportion to its mass (5 % in each tail).
fn points(d: &SplicedBinnedPareto) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(1);
    d.sample_iter(&mut rng).take(POINTS).collect()
}

fn levels() -> Vec<f64> {
    (0..POINTS)
        .map(|i| (i as f64 + 0.5) / POINTS as f64)
        .collect()
}

/// pdf, ln_pdf, cdf, sf and quantile of the spliced binned-Pareto, for 10, 100 and
/// 1,000 bins: stresses the bin look-up and the tail formulas.
fn spliced(c: &mut Criterion) {
    let mut group = c.benchmark_group("sbp");
    group.throughput(Throughput::Elements(POINTS as u64));
    for bins in BINS {
        let d = sbp(bins);
        let xs = points(&d);
        let ps = levels();
        let methods: [Method<'_, SplicedBinnedPareto>; 5] = [
            ("pdf", SplicedBinnedPareto::pdf, &xs),
            ("ln_pdf", SplicedBinnedPareto::ln_pdf, &xs),
            ("cdf", SplicedBinnedPareto::cdf, &xs),
            ("sf", SplicedBinnedPareto::sf, &xs),
            ("quantile", SplicedBinnedPareto::quantile, &ps),
        ];
        for (name, f, args) in methods {
            group.bench_with_input(BenchmarkId::new(name, bins), args, |b, args| {
                b.iter(|| args.iter().map(|&x| f(black_box(&d), x)).sum::<f64>())
            });
        }
    }
    group.finish();
}

/// The generalized Pareto alone (the tails' cost): ln_pdf, cdf and quantile.
fn gpd(c: &mut Criterion) {
    let mut group = c.benchmark_group("gpd");
    group.throughput(Throughput::Elements(POINTS as u64));
    let d = GeneralizedPareto::new(0.2, 1.0).unwrap();
    let mut rng = StdRng::seed_from_u64(2);
    let xs: Vec<f64> = d.sample_iter(&mut rng).take(POINTS).collect();
    let ps = levels();
    let methods: [Method<'_, GeneralizedPareto>; 3] = [
        ("ln_pdf", GeneralizedPareto::ln_pdf, &xs),
        ("cdf", GeneralizedPareto::cdf, &xs),
        ("quantile", GeneralizedPareto::quantile, &ps),
    ];
    for (name, f, args) in methods {
        group.bench_function(name, |b| {
            b.iter(|| args.iter().map(|&x| f(black_box(&d), x)).sum::<f64>())
        });
    }
    group.finish();
}

criterion_group!(benches, spliced, gpd);
criterion_main!(benches);
