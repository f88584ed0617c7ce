//! One SBP fitting path: fitting a forecaster's residuals (with their weights) with
//! the forecaster's `residual_sbp()` gives the forecaster's residual SBP.
//!
//! What is compared, and to what accuracy (1e-12 relative on every bin probability,
//! edge, threshold and tail scale, 1e-12 absolute on a tail shape below 1):
//!
//! * the first fit at the end of the warm-up, and a refit from scratch later
//!   (`rescale_residuals(1.0)` forgets the warm starts): both are cold fits with
//!   the configured GPD search, as `SbpFitter::fit` runs them;
//! * later in the stream the forecaster's grid only moves when the data leave it,
//!   so the fresh fit is given the forecaster's grid as fixed bounds.
//!
//! With equal weights the results are bit-identical: the same integer bin counts,
//! the same exceedances summed in the same order (the fitter orders them as the
//! window walks them, bin by bin from the outside in). With decay they agree to
//! 1e-12: the window keeps its histogram incrementally in raw weights (powers of
//! two of the clock) and divides by the newest point's weight, while the fitter
//! sums the relative weights, so the thresholds differ in the last bits. The
//! warm-started local searches of rolling refits are compared with the same search
//! in the crate's unit tests (`forecast::residual`).

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tailcast::Check;
use tailcast::fit::SbpFitter;
use tailcast::{ForecasterConfig, LocationModel, RollingForecaster, SplicedBinnedPareto};

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

fn assert_same(got: &SplicedBinnedPareto, want: &SplicedBinnedPareto, exact: bool, what: &str) {
    if exact {
        assert_eq!(got, want, "{what}");
        return;
    }
    let (g, w) = (got.body(), want.body());
    assert_eq!(g.bins(), w.bins(), "{what}: bins");
    for (k, (a, b)) in g.edges().iter().zip(w.edges()).enumerate() {
        assert!(close(*a, *b), "{what}: edge {k}: {a} vs {b}");
    }
    for (k, (a, b)) in g.probs().iter().zip(w.probs()).enumerate() {
        assert!(
            (a - b).abs() <= 1e-12 * b.max(1e-3),
            "{what}: bin {k}: {a} vs {b}"
        );
    }
    for (a, b, name) in [
        (
            got.lower_threshold(),
            want.lower_threshold(),
            "lower threshold",
        ),
        (
            got.upper_threshold(),
            want.upper_threshold(),
            "upper threshold",
        ),
    ] {
        assert!(close(a, b), "{what}: {name}: {a} vs {b}");
    }
    for (a, b, name) in [
        (got.lower_tail(), want.lower_tail(), "lower"),
        (got.upper_tail(), want.upper_tail(), "upper"),
    ] {
        assert_eq!(a.mass(), b.mass());
        let (a, b) = (a.gpd(), b.gpd());
        // The shape to 1e-12 absolute near 0 (it is often near 0), relative beyond.
        let shape_ok = (a.shape() - b.shape()).abs() <= 1e-12 * a.shape().abs().max(1.0);
        assert!(
            shape_ok && close(a.scale(), b.scale()),
            "{what}: {name} tail: {a} vs {b}"
        );
    }
}

/// The SBP `SbpFitter` gives on the forecaster's residuals with its configuration,
/// the grid fixed to `grid` if given.
fn refit(f: &RollingForecaster, grid: Option<(f64, f64)>) -> SplicedBinnedPareto {
    let mut config = f.config().residual_sbp();
    if let Some((low, high)) = grid {
        config = config.into_config().bounds(low, high).check().unwrap();
    }
    let residuals: Vec<f64> = f.residuals().collect();
    let weights: Vec<f64> = f.residual_weights().collect();
    let weighted = f.config().half_life().is_some();
    SbpFitter::new(config)
        .unwrap()
        .fit(&residuals, weighted.then_some(&weights[..]))
        .unwrap()
        .dist
}

/// Student-t(3)-like noise on a level with a daily season.
fn series(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let t = rand_distr::StudentT::new(3.0).unwrap();
    (0..n)
        .map(|i| 10.0 + (i as f64 * std::f64::consts::TAU / 24.0).sin() + rng.sample(t))
        .collect()
}

#[test]
fn fitting_the_residuals_with_the_forecasters_config_gives_its_sbp() {
    let configs = [
        ForecasterConfig::default().window(600),
        ForecasterConfig::default().window(800).half_life(300.0),
        ForecasterConfig::default()
            .window(500)
            .location(LocationModel::Seasonal { period: 24 })
            .allow_bounded_tails(true)
            .max_tail_shape(0.4),
        ForecasterConfig::default().window(400).sbp(
            tailcast::SbpConfig::default()
                .bins(40)
                .pseudo_count(0.3)
                .bounds(-9.0, 9.0),
        ),
    ];
    for (case, config) in configs.into_iter().enumerate() {
        let ys = series(3_000, 40 + case as u64);
        let warmup = config.clone().check().unwrap().warmup();
        let mut f = RollingForecaster::new(config).unwrap();
        for &y in &ys[..warmup] {
            f.observe(y).unwrap();
        }
        // The first fit: automatic grid, cold tail fits.
        let want = f.forecast().unwrap().residual().clone();
        // Equal weights: the same bits (the same counts, exceedances and order).
        let exact = f.config().half_life().is_none();
        assert_same(
            &refit(&f, None),
            &want,
            exact,
            &format!("case {case}, first fit"),
        );
        let mut compared = 0;
        for (t, &y) in ys[warmup..].iter().enumerate() {
            f.observe(y).unwrap();
            if t % 397 == 396 {
                // A refit from scratch on the forecaster's current grid.
                if !f.rescale_residuals(1.0) {
                    // Fixed bounds are never moved: a forced refit is not cold.
                    continue;
                }
                let want = f.forecast().unwrap().residual().clone();
                let grid = want.body().support();
                assert_same(
                    &refit(&f, Some(grid)),
                    &want,
                    exact,
                    &format!("case {case}, t {t}"),
                );
                compared += 1;
            }
        }
        assert!(compared >= 5 || case == 3, "case {case}: {compared}");
    }
}

#[test]
fn the_config_carries_the_forecasters_rules() {
    use tailcast::fit::{Bounds, Thresholds};
    let config = ForecasterConfig::default()
        .allow_bounded_tails(true)
        .max_tail_shape(2.0)
        .check()
        .unwrap()
        .residual_sbp();
    assert_eq!(config.thresholds(), Thresholds::Empirical);
    assert!(config.allow_bounded_tails() && config.max_tail_shape() == 2.0);
    assert!(config.tail_fallbacks() && config.rescale_exceedances());
    let json = serde_json::to_string(&config).unwrap();
    assert!(json.contains(&serde_json::to_string(&Bounds::Central { margin: 0.5 }).unwrap()));
    // The defaults of a plain fit are unchanged.
    let plain = tailcast::SbpConfig::default().check().unwrap();
    assert_eq!(plain.thresholds(), Thresholds::BodyQuantiles);
    assert!(plain.allow_bounded_tails() && plain.max_tail_shape() == f64::INFINITY);
    assert!(!plain.tail_fallbacks() && !plain.rescale_exceedances());
}
