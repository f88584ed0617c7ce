//! Kolmogorov–Smirnov tests, randomised PIT, pinball loss, coverage and log score,
//! against scipy values and statistical identities.

mod common;

use common::assert_close;
use ndarray::Array2;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Beta, Distribution};
use statrs::distribution::{Continuous, ContinuousCDF, Normal};
use tailcast::metrics::{
    central_interval_coverage, interval_coverage, kolmogorov_sf, ks_one_sample, ks_two_sample,
    ks_uniform, mean_log_score, mean_pinball_loss, pinball_loss, randomized_pit,
};

/// `scipy.special.kolmogorov(x)` (scipy 1.17.1).
const KOLMOGOROV: [(f64, f64); 9] = [
    (0.3, 0.9999906941986655),
    (0.5, 0.9639452436648751),
    (0.8, 0.5441424115741981),
    (1.0, 0.26999967167735456),
    (1.2, 0.11224966667072497),
    (1.3581, 0.0499996304316674),
    (1.9495, 0.0009998019790258981),
    (2.5, 7.453306344157342e-06),
    (3.0, 3.045995948942526e-08),
];

#[test]
fn kolmogorov_sf_matches_scipy() {
    for (x, p) in KOLMOGOROV {
        assert_close(
            kolmogorov_sf(x),
            p,
            1e-12,
            1e-16,
            &format!("kolmogorov({x})"),
        );
    }
}

/// `scipy.stats.kstest(a, 'uniform', method='asymp')` and `ks_2samp(a, b)`'s statistic,
/// with `a_i = ((i φ) mod 1)^1.3`, `i = 1..300`, `b_i = 1.1 ((i ρ) mod 1)`, `i = 1..200`
/// (φ, ρ: golden and plastic ratios' fractional parts); the two-sample p-value is
/// `scipy.special.kolmogorov(sqrt(300·200/500) D)`.
#[test]
fn ks_tests_match_scipy() {
    let a: Vec<f64> = (1..=300)
        .map(|i| ((i as f64 * 0.6180339887498949) % 1.0).powf(1.3))
        .collect();
    let b: Vec<f64> = (1..=200)
        .map(|i| ((i as f64 * 0.7548776662466927) % 1.0) * 1.1)
        .collect();
    let one = ks_uniform(&a).unwrap();
    assert_close(
        one.statistic,
        0.09821108981528892,
        1e-14,
        0.0,
        "one-sample D",
    );
    assert_close(
        one.p_value,
        0.0061328007202427785,
        1e-10,
        0.0,
        "one-sample p",
    );
    let two = ks_two_sample(&a, &b).unwrap();
    assert_close(two.statistic, 0.14, 1e-14, 0.0, "two-sample D");
    assert_close(two.p_value, 0.01811792384787304, 1e-10, 0.0, "two-sample p");
    assert_eq!(two.effective_n, 120.0);
}

#[test]
fn ks_p_values_are_calibrated_under_the_null_and_powerful_against_bad_pit() {
    let mut rng = StdRng::seed_from_u64(77);
    let reps = 1000;
    let mut rejections = 0;
    let mut pit = vec![0.0; 300];
    for _ in 0..reps {
        pit.iter_mut().for_each(|u| *u = rng.random::<f64>());
        if ks_uniform(&pit).unwrap().p_value < 0.05 {
            rejections += 1;
        }
    }
    // The asymptotic p-value is slightly conservative at n = 300: the rate is a bit
    // under 5 %; binomial sd at 1000 reps is 0.7 %.
    let rate = rejections as f64 / reps as f64;
    assert!((0.025..0.065).contains(&rate), "rejection rate {rate}");
    // An over-dispersed forecaster (PIT ~ Beta(2, 2)) is caught at n = 899.
    let beta = Beta::new(2.0, 2.0).unwrap();
    let bad: Vec<f64> = (0..899).map(|_| beta.sample(&mut rng)).collect();
    assert!(ks_uniform(&bad).unwrap().p_value < 1e-6);
    // One-sample against a normal cdf, of normal draws.
    let n = Normal::new(2.0, 3.0).unwrap();
    let xs: Vec<f64> = (0..2000).map(|_| n.sample(&mut rng)).collect();
    assert!(ks_one_sample(&xs, |x| n.cdf(x)).unwrap().p_value > 1e-3);
}

#[test]
fn randomized_pit_of_a_discrete_forecast_is_uniform() {
    // Forecast and truth: Poisson-like discrete law on {0, 1, 2} with masses .2, .5, .3.
    let cdf = [0.2, 0.7, 1.0];
    let mut rng = StdRng::seed_from_u64(5);
    let pit: Vec<f64> = (0..20_000)
        .map(|_| {
            let u: f64 = rng.random();
            let k = cdf.iter().position(|&c| u < c).unwrap_or(2);
            let below = if k == 0 { 0.0 } else { cdf[k - 1] };
            randomized_pit(below, cdf[k], &mut rng).unwrap()
        })
        .collect();
    assert!(ks_uniform(&pit).unwrap().p_value > 1e-3);
    // Without randomisation the PIT piles up on three values.
    let naive: Vec<f64> = pit
        .iter()
        .map(|&u| cdf[cdf.iter().position(|&c| u <= c).unwrap()])
        .collect();
    assert!(ks_uniform(&naive).unwrap().p_value < 1e-10);
}

#[test]
fn pinball_loss_is_minimised_by_the_true_quantile_and_coverage_is_nominal() {
    let n = Normal::new(0.0, 1.0).unwrap();
    let mut rng = StdRng::seed_from_u64(8);
    let obs: Vec<f64> = (0..20_000).map(|_| n.sample(&mut rng)).collect();
    let levels = [0.05, 0.5, 0.95];
    let truth: Vec<f64> = levels.iter().map(|&q| n.inverse_cdf(q)).collect();
    let rows = |shift: f64| Array2::from_shape_fn((obs.len(), 3), |(_, j)| truth[j] + shift);
    let best = mean_pinball_loss(&obs, rows(0.0).view(), &levels).unwrap();
    for shift in [-0.2, 0.2] {
        let worse = mean_pinball_loss(&obs, rows(shift).view(), &levels).unwrap();
        assert!(worse.iter().zip(&best).all(|(w, b)| w > b), "shift {shift}");
    }
    // Expected pinball loss of the true q-quantile of N(0,1) is φ(z_q) (closed form);
    // sd of the mean is below 1/sqrt(n).
    for (j, &q) in levels.iter().enumerate() {
        let expected = n.pdf(n.inverse_cdf(q));
        assert!(
            (best[j] - expected).abs() < 4.0 / (obs.len() as f64).sqrt(),
            "level {q}"
        );
    }
    let coverage = central_interval_coverage(&obs, rows(0.0).view(), &levels, 0.9).unwrap();
    let sd = (0.9f64 * 0.1 / obs.len() as f64).sqrt();
    assert!((coverage - 0.9).abs() < 4.0 * sd, "coverage {coverage}");
    let lower = vec![truth[0]; obs.len()];
    let upper = vec![truth[2]; obs.len()];
    assert_eq!(interval_coverage(&obs, &lower, &upper).unwrap(), coverage);
    assert!((pinball_loss(-1.0, 0.0, 0.25) - 0.75).abs() < 1e-15);
}

#[test]
fn log_score_is_the_mean_negative_log_density() {
    let n = Normal::new(1.0, 2.0).unwrap();
    let pairs = [(&n, 0.0), (&n, 1.0), (&n, 5.0)];
    let expected = -(n.ln_pdf(0.0) + n.ln_pdf(1.0) + n.ln_pdf(5.0)) / 3.0;
    assert_close(
        mean_log_score(pairs).unwrap(),
        expected,
        1e-15,
        0.0,
        "log score",
    );
    assert!(mean_log_score([(&n, f64::INFINITY)]).is_err());
    let none: [(&Normal, f64); 0] = [];
    assert!(mean_log_score(none).is_err());
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Arbitrary f64 input never panics; accepted input gives D in [0, 1] and
        /// p in [0, 1].
        #[test]
        fn ks_and_scores_never_panic(
            a in prop::collection::vec(proptest::num::f64::ANY, 0..40),
            b in prop::collection::vec(proptest::num::f64::ANY, 0..40),
            x in proptest::num::f64::ANY,
        ) {
            let tests = [ks_uniform(&a), ks_two_sample(&a, &b), ks_one_sample(&a, |v| v.clamp(0.0, 1.0))];
            for t in tests.into_iter().flatten() {
                prop_assert!((0.0..=1.0).contains(&t.statistic));
                prop_assert!((0.0..=1.0).contains(&t.p_value));
            }
            let p = kolmogorov_sf(x);
            prop_assert!(p.is_nan() == x.is_nan());
            let _ = pinball_loss(x, 0.0, 0.5);
            if a.len() == b.len() {
                let _ = interval_coverage(&a, &b, &a);
            }
            let mut rng = StdRng::seed_from_u64(0);
            if let Ok(u) = randomized_pit(x, 0.5, &mut rng) {
                prop_assert!((0.0..=0.5).contains(&u));
            }
        }
    }
}
