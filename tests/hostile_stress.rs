//! Random detector configurations on hostile streams (magnitudes from 1e-300 to
//! f64::MAX, bursts, atoms, alternating extremes, heavy tails), and the two
//! reproductions of issue 14: after every refit both residual tails keep their
//! shape within the configured range (`[0, max_tail_shape]`, or below the bound
//! only with bounded tails), no quantile is NaN, `forecast_paths` never returns NaN,
//! p-values stay in [0, 1] and calibration does not depend on the magnitude.
//!
//! The property test runs `TAILCAST_STRESS_CASES` cases (default 48, a few seconds);
//! set it higher for a longer search, e.g.
//! `TAILCAST_STRESS_CASES=5000 cargo test --release --test hostile_stress -- --nocapture`.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use tailcast::fit::SbpConfig;
use tailcast::{
    AnomalyDetector, Checked, DetectorConfig, ForecasterConfig, LocationModel, RollingForecaster,
    SplicedBinnedPareto,
};

/// What is wrong with a residual law under `config`, if anything.
fn violation(sbp: &SplicedBinnedPareto, config: &Checked<ForecasterConfig>) -> Option<String> {
    let bound = config.max_tail_shape();
    let lowest = if config.allow_bounded_tails() {
        f64::NEG_INFINITY
    } else {
        0.0
    };
    for (side, tail) in [("lower", sbp.lower_tail()), ("upper", sbp.upper_tail())] {
        let xi = tail.gpd().shape();
        if !(xi >= lowest && xi <= bound) {
            return Some(format!("{side} shape {xi} outside [{lowest}, {bound}]"));
        }
    }
    for p in [0.0, 1e-3, 0.05, 0.5, 0.95, 0.999, 1.0] {
        if sbp.quantile(p).is_nan() {
            return Some(format!("quantile({p}) is NaN"));
        }
    }
    None
}

/// Runs a forecaster over `ys`, checking the residual law after every refit and
/// the simulated paths at the end.
fn run_forecaster(config: &ForecasterConfig, ys: &[f64]) -> Result<(), String> {
    let mut f = RollingForecaster::new(config.clone()).map_err(|e| e.to_string())?;
    let mut version = 0;
    for (t, &y) in ys.iter().enumerate() {
        f.observe(y).map_err(|e| format!("{t}: {e}"))?;
        if f.residual_version() != version {
            version = f.residual_version();
            let sbp = f.forecast().map_err(|e| e.to_string())?.residual();
            if let Some(v) = violation(sbp, f.config()) {
                return Err(format!("after observation {t} ({y:e}): {v}"));
            }
        }
    }
    if f.is_ready() {
        let paths = f
            .forecast_paths(3, &[0.0, 0.01, 0.5, 0.99, 1.0], 64, 1)
            .map_err(|e| e.to_string())?;
        if paths.iter().any(|q| q.is_nan()) {
            return Err(format!("forecast_paths has NaN: {paths:?}"));
        }
    }
    Ok(())
}

fn load(name: &str) -> Vec<f64> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn reproduced_streams_keep_the_shape_bound_and_finite_paths() {
    // 298 values up to 1e308: a lower shape of 181 and `quantile(0.001) = -inf`
    // before the tail fits were rescaled, and NaN in the paths.
    let config = ForecasterConfig::default()
        .window(161)
        .refit_every(2)
        .warmup(294)
        .location(LocationModel::None);
    let ys = load("shape_bound_stream.json");
    run_forecaster(&config, &ys).unwrap();
    let mut f = RollingForecaster::new(config).unwrap();
    for &y in &ys {
        f.observe(y).unwrap();
    }
    assert!(f.forecast().unwrap().quantile(0.001).is_finite());
    // 358 values up to 1.7e158: a lower shape of 3.19.
    let config = ForecasterConfig::default()
        .window(5339)
        .refit_every(22)
        .warmup(336)
        .location(LocationModel::Auto);
    run_forecaster(&config, &load("shape_bound_stream2.json")).unwrap();
}

/// The share of flagged points on `ys` (after the warm-up).
fn flagged(ys: &[f64]) -> f64 {
    let mut d = AnomalyDetector::new(DetectorConfig::default()).unwrap();
    let (mut n, mut k) = (0, 0);
    for &y in ys {
        let v = d.update(y).unwrap();
        if !v.warming_up {
            n += 1;
            k += usize::from(v.is_anomaly);
        }
    }
    k as f64 / n as f64
}

#[test]
fn calibration_does_not_depend_on_the_magnitude() {
    // Uniform noise on ±s: 47 % of points flagged at s = 1e308 and 34 % at 8e307
    // before; alternating ±MAX: 100 %.
    let mut rng = StdRng::seed_from_u64(3);
    let unit: Vec<f64> = (0..6000).map(|_| rng.random_range(-1.0..1.0)).collect();
    let ordinary = flagged(&unit);
    for s in [1e308, 8e307, 4e307, 2e307, 1e-300] {
        let ys: Vec<f64> = unit.iter().map(|u| u * s).collect();
        let share = flagged(&ys);
        assert!(share <= ordinary + 0.003, "±{s:e}: {share} vs {ordinary}");
    }
    let alternating: Vec<f64> = (0..6000)
        .map(|t| if t % 2 == 0 { f64::MAX } else { -f64::MAX })
        .collect();
    let share = flagged(&alternating);
    assert!(share <= 0.01, "alternating ±MAX: {share}");
}

#[test]
fn a_burst_of_huge_values_does_not_slow_the_refits() {
    // refit_every(1): 1e240·N(0,1) then N(0,1), and a window of atoms (90 % zeros)
    // against plain noise. Before: 3,658 obs/s against 145,558 for the burst (every
    // refit re-sorted the window), and a cost growing with the window for atoms.
    // Timing is noisy on a shared machine: the bound is loose (a factor of 8) and
    // the best of three runs counts.
    let w = 20_000;
    let mut rng = StdRng::seed_from_u64(1);
    let mut normal = || -> f64 { StandardNormal.sample(&mut rng) };
    let noise: Vec<f64> = (0..2 * w).map(|_| normal()).collect();
    let mut burst: Vec<f64> = (0..w).map(|_| 1e240 * normal()).collect();
    burst.extend((0..w).map(|_| normal()));
    let atoms: Vec<f64> = noise
        .iter()
        .enumerate()
        .map(|(i, z)| if i % 10 != 0 { 0.0 } else { 1e6 * z.abs() })
        .collect();
    let rate = |ys: &[f64]| {
        (0..3)
            .map(|_| {
                let config = ForecasterConfig::default().window(w).refit_every(1);
                let mut f = RollingForecaster::new(config).unwrap();
                let start = std::time::Instant::now();
                for &y in ys {
                    f.observe(y).unwrap();
                }
                ys.len() as f64 / start.elapsed().as_secs_f64()
            })
            .fold(0.0, f64::max)
    };
    let plain = rate(&noise);
    for (name, ys) in [("burst", &burst), ("atoms", &atoms)] {
        let r = rate(ys);
        eprintln!("{name}: {r:.0} obs/s, plain noise {plain:.0}");
        assert!(r * 8.0 > plain, "{name}: {r:.0} obs/s against {plain:.0}");
    }
}

/// Hostile streams: noise at any magnitude, bursts, atoms with spikes, alternating
/// extremes, heavy tails and values near ±MAX.
fn hostile(kind: u8, n: usize, exponent: i32, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let scale = 10f64.powi(exponent).min(f64::MAX);
    let mut normal = move || -> f64 { StandardNormal.sample(&mut rng) };
    let mut rng2 = StdRng::seed_from_u64(seed ^ 0x5eed);
    (0..n)
        .map(|t| {
            let z = normal();
            let u: f64 = rng2.random();
            let v = match kind % 7 {
                0 => scale * z,
                1 => {
                    if t < n / 2 {
                        scale * z
                    } else {
                        z
                    }
                }
                2 => {
                    if u < 0.9 {
                        0.0
                    } else {
                        scale * z.abs()
                    }
                }
                3 => {
                    if t % 2 == 0 {
                        f64::MAX
                    } else {
                        -f64::MAX * u
                    }
                }
                4 => scale * z.signum() * (u.powf(-2.0) - 1.0),
                5 => {
                    if u < 0.01 {
                        f64::NAN
                    } else if u < 0.03 {
                        f64::MAX * z.signum()
                    } else {
                        scale * (t as f64 * 0.1).sin() + z
                    }
                }
                _ => f64::MAX * (2.0 * u - 1.0),
            };
            if v.is_infinite() {
                f64::MAX.copysign(v)
            } else {
                v
            }
        })
        .collect()
}

fn location() -> impl Strategy<Value = LocationModel> {
    prop_oneof![
        Just(LocationModel::None),
        Just(LocationModel::Level),
        (2usize..30).prop_map(|period| LocationModel::Seasonal { period }),
        (1usize..4).prop_map(|lags| LocationModel::Autoregressive { lags }),
        Just(LocationModel::Auto),
    ]
}

fn forecaster() -> impl Strategy<Value = ForecasterConfig> {
    (
        (
            location(),
            10usize..600,
            1usize..30,
            prop::option::of(1.0..200.0f64),
        ),
        (
            4usize..120,
            0.005..0.3f64,
            0.005..0.3f64,
            prop_oneof![
                Just(0.25),
                Just(0.5),
                Just(1.0),
                Just(3.0),
                Just(f64::INFINITY)
            ],
            any::<bool>(),
            2usize..30,
        ),
    )
        .prop_map(
            |((loc, window, refit, half_life), (bins, p_l, p_u, bound, bounded, min_ex))| {
                let mut c = ForecasterConfig::default()
                    .location(loc)
                    .window(window)
                    .refit_every(refit)
                    .max_tail_shape(bound)
                    .allow_bounded_tails(bounded)
                    .sbp(
                        SbpConfig::default()
                            .bins(bins)
                            .lower_tail_mass(p_l)
                            .upper_tail_mass(p_u)
                            .min_exceedances(min_ex)
                            .pseudo_count(0.1),
                    );
                if let Some(h) = half_life {
                    c = c.half_life(h);
                }
                c
            },
        )
}

#[test]
fn random_configs_on_hostile_streams_keep_every_bound() {
    let cases: u32 = std::env::var("TAILCAST_STRESS_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(48);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        forecaster(),
        0u8..7,
        200usize..1500,
        -300i32..309,
        any::<u64>(),
    );
    let tried = std::cell::Cell::new(0u64);
    let observations = std::cell::Cell::new(0u64);
    let result = runner.run(&strategy, |(config, kind, n, exponent, seed)| {
        tried.set(tried.get() + 1);
        let ys = hostile(kind, n, exponent, seed);
        observations.set(observations.get() + ys.len() as u64);
        if let Err(e) = run_forecaster(&config, &ys) {
            return Err(TestCaseError::fail(format!(
                "kind {kind}, 1e{exponent}, {n} values: {e}"
            )));
        }
        // And the detector on the same stream: p-values in [0, 1].
        let d = DetectorConfig::default().forecaster(config.clone());
        let mut det = AnomalyDetector::new(d).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for &y in &ys {
            let v = det
                .update(y)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(
                v.missing || v.warming_up || (0.0..=1.0).contains(&v.p_value),
                "p-value {}",
                v.p_value
            );
        }
        Ok(())
    });
    eprintln!(
        "{} cases tried ({} observations, shrinking included)",
        tried.get(),
        observations.get()
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// An excluded observation enters the window at the exclusion cut (see
/// `AnomalyDetector`'s *Exclusion*); on a stream at the edge of the `f64` range the
/// location plus the cut overflowed and the detector fed the forecaster an
/// infinity (an error on a finite input). The case the stress test above found
/// (1,500 cases), kept as a fixed regression.
#[test]
fn an_excluded_value_is_never_moved_to_infinity() {
    let config = ForecasterConfig::default()
        .window(460)
        .refit_every(1)
        .location(LocationModel::Autoregressive { lags: 1 })
        .allow_bounded_tails(true)
        .max_tail_shape(0.25)
        .sbp(
            SbpConfig::default()
                .bins(4)
                .lower_tail_mass(0.005)
                .upper_tail_mass(0.005)
                .min_exceedances(2)
                .pseudo_count(0.1),
        );
    let ys = hostile(6, 466, 0, 14_217_244_527_459_984_044);
    let mut detector = AnomalyDetector::new(DetectorConfig::default().forecaster(config)).unwrap();
    for &y in &ys {
        let v = detector.update(y).unwrap();
        assert!(v.missing || v.warming_up || v.p_value > 0.0, "{v:?}");
    }
}
