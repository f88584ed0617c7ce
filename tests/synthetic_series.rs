//! Samplers, seasonal/random-walk series and injected anomalies: each generated part
//! is tested against the distribution it should follow (KS, critical p = 1e-3) or the
//! exact positions and sizes it should have.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::Normal;
use statrs::distribution::ContinuousCDF;
use tailcast::metrics::ks_one_sample;
use tailcast::synthetic::{
    AnomalyConfig, Direction, local_level, random_walk, sample, sample_into, seasonal_series,
};
use tailcast::{Error, GeneralizedPareto, SplicedBinnedPareto};

fn sbp() -> SplicedBinnedPareto {
    let logits: Vec<f64> = (0..50)
        .map(|k| -0.5 * ((k as f64 - 20.0) / 8.0).powi(2))
        .collect();
    SplicedBinnedPareto::from_logits(
        -2.0,
        3.0,
        &logits,
        0.05,
        GeneralizedPareto::new(0.3, 0.4).unwrap(),
        GeneralizedPareto::new(-0.2, 0.6).unwrap(),
    )
    .unwrap()
}

#[test]
fn samplers_draw_from_the_distribution() {
    let mut rng = StdRng::seed_from_u64(1);
    let g = GeneralizedPareto::new(0.25, 2.0).unwrap();
    let xs = sample(&g, 20_000, &mut rng);
    assert!(ks_one_sample(&xs, |x| g.cdf(x)).unwrap().p_value > 1e-3);
    let d = sbp();
    let mut buf = vec![0.0; 20_000];
    sample_into(&d, &mut buf, &mut rng);
    assert!(ks_one_sample(&buf, |x| d.cdf(x)).unwrap().p_value > 1e-3);
    // Same seed, same draws.
    let a = sample(&d, 5, &mut StdRng::seed_from_u64(3));
    let mut b = [0.0; 5];
    sample_into(&d, &mut b, &mut StdRng::seed_from_u64(3));
    assert_eq!(a, b);
}

#[test]
fn seasonal_series_is_location_plus_noise() {
    let d = sbp();
    let mut rng = StdRng::seed_from_u64(2);
    let s = seasonal_series(20_000, 4.0, 1.5, 24.0, &d, &mut rng).unwrap();
    for t in [0, 6, 13, 19_999] {
        let expected = 4.0 + 1.5 * (2.0 * std::f64::consts::PI * t as f64 / 24.0).sin();
        assert!((s.location[t] - expected).abs() < 1e-12);
    }
    let residual: Vec<f64> = s
        .values
        .iter()
        .zip(&s.location)
        .map(|(v, l)| v - l)
        .collect();
    assert!(ks_one_sample(&residual, |x| d.cdf(x)).unwrap().p_value > 1e-3);
    // PIT of the true forecast is uniform.
    let pit: Vec<f64> = residual.iter().map(|&r| d.cdf(r)).collect();
    assert!(tailcast::metrics::ks_uniform(&pit).unwrap().p_value > 1e-3);
    assert!(matches!(
        seasonal_series(10, 0.0, 1.0, 0.0, &d, &mut rng),
        Err(Error::NonPositiveParameter { name: "period", .. })
    ));
    assert!(seasonal_series(10, f64::NAN, 1.0, 5.0, &d, &mut rng).is_err());
    assert!(
        seasonal_series(0, 0.0, 1.0, 5.0, &d, &mut rng)
            .unwrap()
            .values
            .is_empty()
    );
}

#[test]
fn random_walk_increments_follow_the_step_law() {
    let mut rng = StdRng::seed_from_u64(4);
    let d = sbp();
    let xs = random_walk(20_000, 10.0, &d, &mut rng).unwrap();
    let mut steps = vec![xs[0] - 10.0];
    steps.extend(xs.windows(2).map(|w| w[1] - w[0]));
    // Differences of large partial sums lose a few ulps; the KS cannot see that.
    assert!(ks_one_sample(&steps, |x| d.cdf(x)).unwrap().p_value > 1e-3);
    assert!(random_walk(5, f64::INFINITY, &d, &mut rng).is_err());
}

#[test]
fn local_level_has_both_laws() {
    let mut rng = StdRng::seed_from_u64(5);
    let step = Normal::new(0.0, 0.05).unwrap();
    let noise = GeneralizedPareto::new(0.2, 1.0).unwrap();
    let s = local_level(20_000, 1.0, &step, &noise, &mut rng).unwrap();
    let eps: Vec<f64> = s
        .values
        .iter()
        .zip(&s.location)
        .map(|(v, l)| v - l)
        .collect();
    assert!(ks_one_sample(&eps, |x| noise.cdf(x)).unwrap().p_value > 1e-3);
    let mut eta = vec![s.location[0] - 1.0];
    eta.extend(s.location.windows(2).map(|w| w[1] - w[0]));
    let normal = statrs::distribution::Normal::new(0.0, 0.05).unwrap();
    assert!(ks_one_sample(&eta, |x| normal.cdf(x)).unwrap().p_value > 1e-3);
}

#[test]
fn anomalies_land_where_they_say_with_the_sizes_they_say() {
    let mut rng = StdRng::seed_from_u64(6);
    let base: Vec<f64> = (0..5000).map(|t| (t as f64 * 0.01).sin()).collect();
    let mut xs = base.clone();
    let config = AnomalyConfig::default()
        .count(40)
        .sizes(2.0, 4.0)
        .min_gap(50)
        .skip(200);
    let injected = config.inject(&mut xs, &mut rng).unwrap();
    assert_eq!(injected.len(), 40);
    assert!(injected.windows(2).all(|w| w[1].index >= w[0].index + 50));
    assert!(injected.iter().all(|a| a.index >= 200 && a.index < 5000));
    assert!(injected.iter().all(|a| (2.0..=4.0).contains(&a.size.abs())));
    let ups = injected.iter().filter(|a| a.size > 0.0).count();
    assert!(ups > 5 && ups < 35, "both directions: {ups} up of 40");
    for (t, (x, b)) in xs.iter().zip(&base).enumerate() {
        match injected.iter().find(|a| a.index == t) {
            Some(a) => assert_eq!(*x, b + a.size),
            None => assert_eq!(x, b),
        }
    }
    let mut ys = vec![0.0; 1000];
    let down = AnomalyConfig::default()
        .direction(Direction::Down)
        .inject(&mut ys, &mut rng)
        .unwrap();
    assert!(down.iter().all(|a| a.size < 0.0));
}

#[test]
fn anomaly_positions_are_uniform_without_a_gap() {
    // With min_gap 1 and no skip every index is equally likely: over many draws the
    // mean position is (n - 1)/2 with sd sqrt((n² - 1)/12 / draws).
    let mut rng = StdRng::seed_from_u64(7);
    let n = 1000;
    let config = AnomalyConfig::default().count(10).min_gap(1).skip(0);
    let mut sum = 0.0;
    let draws = 2000;
    for _ in 0..draws / 10 {
        let mut xs = vec![0.0; n];
        sum += config
            .inject(&mut xs, &mut rng)
            .unwrap()
            .iter()
            .map(|a| a.index as f64)
            .sum::<f64>();
    }
    let mean = sum / draws as f64;
    let sd = (((n * n - 1) as f64 / 12.0) / draws as f64).sqrt();
    assert!(
        (mean - (n as f64 - 1.0) / 2.0).abs() < 4.0 * sd,
        "mean position {mean}"
    );
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Arbitrary configurations and series never panic; accepted ones respect
        /// every constraint.
        #[test]
        fn inject_never_panics(
            n in 0usize..300,
            count in 0usize..40,
            gap in 0usize..30,
            skip in 0usize..400,
            min in proptest::num::f64::ANY,
            max in proptest::num::f64::ANY,
            seed in any::<u64>(),
        ) {
            let mut xs = vec![1.0; n];
            let config = AnomalyConfig::default().count(count).min_gap(gap).skip(skip).sizes(min, max);
            if let Ok(found) = config.inject(&mut xs, &mut StdRng::seed_from_u64(seed)) {
                prop_assert_eq!(found.len(), count);
                prop_assert!(found.iter().all(|a| a.index >= skip && a.index < n));
                prop_assert!(found.windows(2).all(|w| w[1].index >= w[0].index + gap.max(1)));
            }
        }
    }
}
