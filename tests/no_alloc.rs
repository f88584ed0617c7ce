//! Hot paths allocate nothing: a counting global allocator watches this thread while
//! the distributions are evaluated.

use tailcast::{GeneralizedPareto, SplicedBinnedPareto};

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{Counting, allocations_during};

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn the_counter_sees_allocations() {
    assert!(allocations_during(|| drop(std::hint::black_box(vec![1u8; 64]))) >= 1);
}

#[test]
fn distribution_evaluations_do_not_allocate() {
    let logits: Vec<f64> = (0..100)
        .map(|k| -((k as f64 - 40.0) / 15.0).powi(2))
        .collect();
    let gpd = GeneralizedPareto::new(0.2, 0.8).unwrap();
    let mut sbp = SplicedBinnedPareto::from_logits(0.0, 10.0, &logits, 0.05, gpd, gpd).unwrap();
    let probs: Vec<f64> = logits.iter().map(|l| l.exp()).collect();
    let (lower, upper) = (*sbp.lower_tail(), *sbp.upper_tail());
    let levels = [0.001, 0.5, 0.999];
    let mut out = [0.0; 3];
    let n = allocations_during(|| {
        let mut acc = 0.0;
        for i in 0..10_000 {
            let x = -5.0 + 20.0 * i as f64 / 10_000.0;
            acc += sbp.pdf(x) + sbp.ln_pdf(x) + sbp.cdf(x) + sbp.sf(x) + sbp.ln_sf(x);
            acc += sbp.quantile(i as f64 / 10_000.0) + gpd.cdf(x) + gpd.quantile(0.3);
        }
        sbp.quantiles_into(&levels, &mut out).unwrap();
        sbp.update(&probs, lower, upper).unwrap();
        std::hint::black_box(acc);
    });
    assert_eq!(n, 0, "distribution evaluations allocated {n} times");
}
