//! Hot paths allocate nothing: a counting global allocator watches this thread while
//! the distributions are evaluated.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use tailcast::{GeneralizedPareto, SplicedBinnedPareto};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is a
// const-initialised thread-local, so counting itself never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made on this thread while `f` runs.
fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

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
