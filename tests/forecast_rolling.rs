//! The rolling forecaster's contract: warm-up, the forecast object on the original
//! scale, missing values, quantile paths and the batch helper.

use rand::SeedableRng;
use rand::distr::Distribution;
use rand::rngs::StdRng;
use rand_distr::Normal;
use tailcast::{Error, ForecasterConfig, LocationModel, RollingForecaster, backtest};

fn noisy(n: usize, seed: u64) -> Vec<f64> {
    let noise = Normal::new(0.0, 1.0).unwrap();
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| 50.0 + noise.sample(&mut rng)).collect()
}

#[test]
fn no_forecast_before_the_warmup_ends() {
    // The level model: the default `Auto` would raise the warm-up to 40.
    let config = ForecasterConfig::default()
        .location(LocationModel::Level)
        .window(100)
        .warmup(30);
    let mut f = RollingForecaster::new(config).unwrap();
    for (i, y) in noisy(29, 1).into_iter().enumerate() {
        assert_eq!(
            f.forecast().unwrap_err(),
            Error::NotReady { needed: 30, got: i }
        );
        f.observe(y).unwrap();
    }
    assert!(!f.is_ready());
    // Missing values do not count towards the warm-up.
    f.observe(f64::NAN).unwrap();
    assert!(!f.is_ready());
    f.observe(50.0).unwrap();
    assert!(f.is_ready());
    assert_eq!(f.steps(), 31);
    assert_eq!(f.window_len(), 30);
    assert!(f.forecast().is_ok());
}

#[test]
fn forecast_is_location_plus_residual_on_the_original_scale() {
    let mut f = RollingForecaster::new(ForecasterConfig::default().window(300)).unwrap();
    for y in noisy(1000, 2) {
        f.observe(y).unwrap();
    }
    let fc = f.forecast().unwrap();
    let (loc, res) = (fc.location(), fc.residual());
    assert!((loc - 50.0).abs() < 0.5, "location {loc}");
    for y in [40.0, 48.5, 50.0, 51.2, 60.0] {
        assert_eq!(fc.cdf(y), res.cdf(y - loc));
        assert_eq!(fc.sf(y), res.sf(y - loc));
        assert_eq!(fc.pdf(y), res.pdf(y - loc));
        assert_eq!(fc.ln_pdf(y), res.ln_pdf(y - loc));
        assert_eq!(fc.ln_sf(y), res.ln_sf(y - loc));
        assert_eq!(fc.ln_cdf(y), res.ln_cdf(y - loc));
    }
    let levels = [0.001, 0.05, 0.5, 0.95, 0.999];
    let qs = fc.quantiles(&levels).unwrap();
    for (&p, &q) in levels.iter().zip(&qs) {
        assert_eq!(q, fc.quantile(p));
        assert_eq!(q, loc + res.quantile(p));
        assert!((fc.cdf(q) - p).abs() < 1e-12, "{p}");
    }
    assert!(qs.windows(2).all(|w| w[0] < w[1]));
    // N(50, 1) noise around a level estimated with α = 0.1, whose own error has sd
    // sqrt(α / (2 - α)) = 0.23: the forecast is centred on the level estimate and its
    // 90 % band is 3.29 sqrt(1 + 0.053) = 3.38 wide.
    assert!((qs[2] - 50.0).abs() < 0.75, "{qs:?}");
    assert!((qs[3] - qs[1] - 3.38).abs() < 0.25, "{qs:?}");
    assert!(matches!(
        fc.try_quantile(1.5),
        Err(Error::ProbabilityOutOfRange { .. })
    ));
    assert!(fc.quantile(-0.1).is_nan());
    let mut short = [0.0; 2];
    assert!(matches!(
        fc.quantiles_into(&levels, &mut short),
        Err(Error::LengthMismatch { .. })
    ));
    assert!(fc.cdf(f64::NAN).is_nan());
}

#[test]
fn missing_values_move_time_but_teach_nothing() {
    let ys = noisy(800, 3);
    let config = ForecasterConfig::default()
        .window(200)
        .location(LocationModel::Seasonal { period: 7 });
    let mut a = RollingForecaster::new(config.clone()).unwrap();
    for &y in &ys {
        a.observe(y).unwrap();
    }
    let mut b = a.clone();
    let before = serde_json::to_string(&a).unwrap();
    // Seven missing steps bring a seasonal model back to the same phase with the same
    // state: the forecast is unchanged, bit for bit.
    for _ in 0..7 {
        b.observe(f64::NAN).unwrap();
    }
    assert_eq!(b.steps(), a.steps() + 7);
    assert_eq!(b.window_len(), a.window_len());
    let (fa, fb) = (a.forecast().unwrap(), b.forecast().unwrap());
    assert_eq!(fa.location().to_bits(), fb.location().to_bits());
    assert_eq!(fa.residual(), fb.residual());
    // An infinite observation is an error and changes nothing.
    for bad in [f64::INFINITY, f64::NEG_INFINITY] {
        assert_eq!(
            a.observe(bad).unwrap_err(),
            Error::InfiniteObservation { value: bad }
        );
    }
    assert_eq!(serde_json::to_string(&a).unwrap(), before);
}

#[test]
fn quantile_paths_without_location_dynamics_repeat_the_one_step_law() {
    // With no location model every step ahead has the same distribution, so each
    // simulated row must match row 0 (exact) within Monte Carlo error.
    let mut f = RollingForecaster::new(
        ForecasterConfig::default()
            .window(500)
            .location(LocationModel::None),
    )
    .unwrap();
    for y in noisy(1000, 4) {
        f.observe(y).unwrap();
    }
    let levels = [0.05, 0.25, 0.5, 0.75, 0.95];
    let paths = 20_000;
    let q = f.forecast_paths(4, &levels, paths, 7).unwrap();
    assert_eq!(q.dim(), (4, 5));
    let fc = f.forecast().unwrap();
    for (j, &p) in levels.iter().enumerate() {
        assert_eq!(q[[0, j]], fc.quantile(p));
        // Standard error of a sample quantile: sqrt(p(1-p)/n) / density.
        let se = (p * (1.0 - p) / paths as f64).sqrt() / fc.pdf(fc.quantile(p));
        for k in 1..4 {
            assert!(
                (q[[k, j]] - q[[0, j]]).abs() < 5.0 * se,
                "step {k} level {p}: {} vs {} (se {se})",
                q[[k, j]],
                q[[0, j]]
            );
        }
    }
    // Seeded: the same call gives the same paths.
    assert_eq!(q, f.forecast_paths(4, &levels, paths, 7).unwrap());
}

#[test]
fn quantile_paths_of_a_level_model_widen_with_the_horizon() {
    let config = ForecasterConfig::default()
        .location(LocationModel::Level)
        .window(500)
        .level_smoothing(0.5);
    let mut f = RollingForecaster::new(config).unwrap();
    for y in noisy(1000, 5) {
        f.observe(y).unwrap();
    }
    let q = f.forecast_paths(20, &[0.05, 0.95], 4000, 1).unwrap();
    let width = |k: usize| q[[k, 1]] - q[[k, 0]];
    assert!(width(19) > width(0) * 1.1, "{} vs {}", width(19), width(0));
    assert!(matches!(
        f.forecast_paths(0, &[0.5], 10, 1),
        Err(Error::InvalidCount {
            name: "horizon",
            ..
        })
    ));
    assert!(matches!(
        f.forecast_paths(3, &[0.5], 1, 1),
        Err(Error::InvalidCount { name: "paths", .. })
    ));
    assert!(matches!(
        f.forecast_paths(3, &[2.0], 10, 1),
        Err(Error::ProbabilityOutOfRange { .. })
    ));
    let fresh = RollingForecaster::new(ForecasterConfig::default()).unwrap();
    assert!(matches!(
        fresh.forecast_paths(3, &[0.5], 10, 1),
        Err(Error::NotReady { .. })
    ));
}

#[test]
fn backtest_rows_are_the_forecasts_made_before_each_value() {
    let mut ys = noisy(600, 6);
    ys[450] = f64::NAN;
    let config = ForecasterConfig::default().window(200);
    let levels = [0.1, 0.5, 0.9];
    let bt = backtest(&config, &ys, &levels).unwrap();
    assert_eq!(bt.first_forecast, Some(200));
    assert_eq!(bt.quantiles.dim(), (600, 3));
    assert!(bt.quantiles.row(199).iter().all(|q| q.is_nan()));
    assert!(bt.pit[199].is_nan() && bt.log_score[199].is_nan());
    // Replay by hand: the row at t is the forecast before y_t.
    let mut f = RollingForecaster::new(config).unwrap();
    for (t, &y) in ys.iter().enumerate() {
        if t >= 200 {
            let fc = f.forecast().unwrap();
            for (j, &p) in levels.iter().enumerate() {
                assert_eq!(bt.quantiles[[t, j]].to_bits(), fc.quantile(p).to_bits());
            }
            if y.is_nan() {
                assert!(bt.pit[t].is_nan() && bt.log_score[t].is_nan());
            } else {
                assert_eq!(bt.pit[t], fc.cdf(y));
                assert_eq!(bt.log_score[t], fc.ln_pdf(y));
            }
        }
        f.observe(y).unwrap();
    }
    // A series shorter than the warm-up has no forecast at all.
    let short = backtest(&ForecasterConfig::default().window(200), &ys[..50], &levels).unwrap();
    assert_eq!(short.first_forecast, None);
    assert!(matches!(
        backtest(&ForecasterConfig::default(), &ys, &[1.5]),
        Err(Error::ProbabilityOutOfRange { .. })
    ));
    let mut with_inf = ys.clone();
    with_inf[300] = f64::INFINITY;
    assert!(matches!(
        backtest(&ForecasterConfig::default().window(200), &with_inf, &levels),
        Err(Error::InfiniteObservation { .. })
    ));
}

#[test]
fn backtest_locations_residuals_and_the_scored_part() {
    let mut ys = noisy(600, 16);
    ys[450] = f64::NAN;
    let config = ForecasterConfig::default()
        .window(200)
        .location(LocationModel::Seasonal { period: 10 });
    let levels = [0.05, 0.95];
    let bt = backtest(&config, &ys, &levels).unwrap();
    assert!(bt.location[199].is_nan() && bt.residual[199].is_nan());
    let mut f = RollingForecaster::new(config).unwrap();
    for (t, &y) in ys.iter().enumerate() {
        if t >= 200 {
            let m = f.forecast().unwrap().location();
            assert_eq!(bt.location[t].to_bits(), m.to_bits(), "t = {t}");
            if y.is_nan() {
                assert!(bt.residual[t].is_nan());
            } else {
                assert_eq!(bt.residual[t], y - m);
            }
        }
        f.observe(y).unwrap();
    }
    // The scored part: the same numbers from the first forecast on, no warm-up NaN.
    let scored = bt.scored();
    assert_eq!(scored.start, 200);
    assert_eq!(scored.quantiles.dim(), (400, 2));
    for (view, full) in [
        (scored.pit, &bt.pit),
        (scored.log_score, &bt.log_score),
        (scored.location, &bt.location),
        (scored.residual, &bt.residual),
    ] {
        assert_eq!(view.len(), 400);
        for (i, v) in view.iter().enumerate() {
            assert_eq!(v.to_bits(), full[200 + i].to_bits());
        }
    }
    assert_eq!(scored.quantiles.row(0), bt.quantiles.row(200));
    let nan = scored.pit.iter().filter(|u| u.is_nan()).count();
    assert_eq!(nan, 1, "only the missing observation");
    // No forecast at all: empty views starting at the end.
    let short = backtest(&ForecasterConfig::default().window(200), &ys[..50], &levels).unwrap();
    let none = short.scored();
    assert_eq!(
        (none.start, none.pit.len(), none.quantiles.dim()),
        (50, 0, (0, 2))
    );
}

/// The residual window: the last `window` residuals of observed (and, in a
/// detector, not excluded) steps, with their relative decay weights.
#[test]
fn the_residual_window_is_exposed_with_its_weights() {
    let mut ys = noisy(700, 17);
    ys[650] = f64::NAN;
    let config = ForecasterConfig::default().window(200);
    let mut f = RollingForecaster::new(config.clone()).unwrap();
    assert_eq!(f.residuals().len(), 0);
    assert_eq!(f.residual_weights().len(), 0);
    let bt = f.backtest(&ys, &[0.5]).unwrap();
    let expected: Vec<f64> = bt
        .residual
        .iter()
        .copied()
        .filter(|r| !r.is_nan())
        .collect();
    let expected = &expected[expected.len() - 200..];
    let got: Vec<f64> = f.residuals().collect();
    assert_eq!(got.len(), 200);
    for (a, b) in got.iter().zip(expected) {
        assert_eq!(a.to_bits(), b.to_bits());
    }
    assert!(f.residual_weights().all(|w| w == 1.0));

    // A detector keeps excluded points out of the window.
    let mut spiky = noisy(700, 18);
    for t in (300..700).step_by(50) {
        spiky[t] += 30.0;
    }
    let mut d = tailcast::AnomalyDetector::new(
        tailcast::DetectorConfig::default().forecaster(config.clone()),
    )
    .unwrap();
    let verdicts = d.score(&spiky).unwrap();
    let learned: Vec<f64> = verdicts
        .iter()
        .zip(&spiky)
        .filter(|(v, _)| !v.warming_up && !v.missing && !v.excluded)
        .map(|(v, y)| y - v.location)
        .collect();
    let window: Vec<f64> = d.forecaster().residuals().collect();
    assert_eq!(window, learned[learned.len() - 200..]);
    assert!(verdicts.iter().filter(|v| v.excluded).count() >= 8);

    // With decay the weights halve every half-life, counted in window positions.
    let mut f = RollingForecaster::new(config.half_life(50.0)).unwrap();
    for &y in &ys {
        f.observe(y).unwrap();
    }
    let weights: Vec<f64> = f.residual_weights().collect();
    assert_eq!(weights.len(), 200);
    for (i, w) in weights.iter().enumerate() {
        let age = (199 - i) as f64;
        assert!((w - (-age / 50.0).exp2()).abs() < 1e-12, "{i}: {w}");
    }
}

#[test]
fn refit_now_and_versions() {
    let mut f =
        RollingForecaster::new(ForecasterConfig::default().window(100).refit_every(1000)).unwrap();
    assert!(matches!(f.refit(), Err(Error::NotReady { .. })));
    for y in noisy(100, 7) {
        f.observe(y).unwrap();
    }
    let v = f.residual_version();
    for y in noisy(50, 8) {
        f.observe(y).unwrap();
    }
    assert_eq!(
        f.residual_version(),
        v,
        "no scheduled refit within 1000 steps"
    );
    f.refit().unwrap();
    assert_eq!(f.residual_version(), v + 1);
}

#[test]
fn decayed_window_follows_a_change_faster() {
    // The noise doubles at t = 2000: a decayed window's 95 % point adapts sooner.
    let noise = Normal::new(0.0, 1.0).unwrap();
    let mut rng = StdRng::seed_from_u64(9);
    let ys: Vec<f64> = (0..2600)
        .map(|t| noise.sample(&mut rng) * if t < 2000 { 1.0 } else { 2.0 })
        .collect();
    let run = |config: ForecasterConfig| {
        let mut f = RollingForecaster::new(config.location(LocationModel::None)).unwrap();
        for &y in &ys {
            f.observe(y).unwrap();
        }
        f.forecast().unwrap().quantile(0.95)
    };
    let hard = run(ForecasterConfig::default().window(2000).refit_every(10));
    let decayed = run(ForecasterConfig::default()
        .window(2000)
        .half_life(150.0)
        .refit_every(10));
    // True 95 % point after the change: 3.29; before: 1.64.
    assert!(decayed > hard + 0.5, "decayed {decayed}, hard {hard}");
    assert!((decayed - 3.29).abs() < 0.5, "decayed {decayed}");
}

/// Multi-step paths against the truth: a local-level series `y_t = ℓ_{t-1} + ε_t`,
/// `ℓ_t = ℓ_{t-1} + α ε_t` (exponential smoothing's own model, α = 0.3, Gaussian ε) is
/// forecast by the level model with the same α. Over 1,500 origins the simulated
/// 5-step 90 % band must cover `y_{t+5}` within 2.5 points of nominal (binomial
/// standard error 0.8 points), and its width must grow by the model's factor
/// `sqrt(1 + (h - 1) α²) = 1.166` over the one-step band's (to 5 %: the robust clip
/// slows the level a little for the largest errors).
#[test]
fn quantile_paths_are_calibrated_on_a_local_level_series() {
    let alpha = 0.3;
    let noise = Normal::new(0.0, 1.0).unwrap();
    let mut rng = StdRng::seed_from_u64(10);
    let mut level = 100.0;
    let ys: Vec<f64> = (0..17_000)
        .map(|_| {
            let e = noise.sample(&mut rng);
            let y = level + e;
            level += alpha * e;
            y
        })
        .collect();
    let mut f = RollingForecaster::new(
        ForecasterConfig::default()
            .window(1000)
            .level_smoothing(alpha),
    )
    .unwrap();
    let h = 5;
    let (mut covered, mut origins, mut ratio) = (0usize, 0usize, 0.0);
    for (t, &y) in ys.iter().enumerate() {
        if t >= 2000 && t % 10 == 0 && t + h <= ys.len() {
            let q = f.forecast_paths(h, &[0.05, 0.95], 1000, t as u64).unwrap();
            let target = ys[t + h - 1];
            covered += usize::from(q[[h - 1, 0]] <= target && target <= q[[h - 1, 1]]);
            ratio += (q[[h - 1, 1]] - q[[h - 1, 0]]) / (q[[0, 1]] - q[[0, 0]]);
            origins += 1;
        }
        f.observe(y).unwrap();
    }
    let coverage = covered as f64 / origins as f64;
    let ratio = ratio / origins as f64;
    eprintln!("{origins} origins: 5-step coverage {coverage:.4}, width ratio {ratio:.4}");
    assert!((coverage - 0.90).abs() <= 0.025, "coverage {coverage}");
    let want = (1.0 + (h - 1) as f64 * alpha * alpha).sqrt();
    assert!(
        (ratio / want - 1.0).abs() <= 0.05,
        "ratio {ratio} vs {want}"
    );
}

/// `ScoredBacktest` is reachable at the crate root, next to `Backtest`, so that a
/// function taking the scored rows can name its type.
#[test]
fn scored_backtest_is_named_at_the_crate_root() {
    fn mean_pit(scored: &tailcast::ScoredBacktest<'_>) -> f64 {
        scored.pit.mean().unwrap_or(f64::NAN)
    }
    let ys: Vec<f64> = (0..300)
        .map(|t| ((t * 7919) % 1009) as f64 / 1009.0)
        .collect();
    let bt: tailcast::Backtest =
        backtest(&ForecasterConfig::default().window(100), &ys, &[0.5]).unwrap();
    let scored = bt.scored();
    assert_eq!((scored.start, scored.pit.len()), (100, 200));
    // Uniform-looking noise: the PIT values average about 1/2 (sd 0.02 on 200).
    assert!(
        (mean_pit(&scored) - 0.5).abs() < 0.1,
        "{}",
        mean_pit(&scored)
    );
}
