//! Spliced binned-Pareto fit: tail recovery on simulated SBP data, the normalised
//! log-likelihood, in-place refits, and bad input.

use rand::SeedableRng;
use rand::distr::Distribution;
use rand::rngs::StdRng;
use tailcast::fit::{BodyEstimator, GpdFitter, SbpConfig, SbpFitter, Smoothing};
use tailcast::{Error, GeneralizedPareto, SplicedBinnedPareto};

fn truth() -> SplicedBinnedPareto {
    let logits: Vec<f64> = (0..100)
        .map(|k| -0.5 * ((k as f64 - 50.0) / 15.0).powi(2))
        .collect();
    SplicedBinnedPareto::from_logits(
        0.0,
        10.0,
        &logits,
        0.05,
        GeneralizedPareto::new(0.1, 0.5).unwrap(),
        GeneralizedPareto::new(0.4, 1.0).unwrap(),
    )
    .unwrap()
}

fn draw(n: usize, seed: u64) -> Vec<f64> {
    let t = truth();
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| t.sample(&mut rng)).collect()
}

#[test]
fn log_likelihood_is_that_of_the_normalised_density() {
    let x = draw(3000, 1);
    for smoothing in [Smoothing::None, Smoothing::Cheap, Smoothing::Kernel] {
        let fit = SplicedBinnedPareto::fit(&x, &SbpConfig::default().smoothing(smoothing)).unwrap();
        let direct: f64 = x.iter().map(|&v| fit.dist.ln_pdf(v)).sum();
        assert!(
            (fit.log_likelihood - direct).abs() < 1e-9 * direct.abs(),
            "{smoothing:?}"
        );
        assert!((fit.dist.cdf(fit.dist.upper_threshold()) - 0.95).abs() < 1e-12);
        assert!((fit.dist.body_mass() - 0.9).abs() < 1e-12);
    }
}

#[test]
fn log_likelihood_is_exact_for_points_on_bin_edges_and_with_weights() {
    // Integers on integer edges (every point on an edge), with ties, weights and
    // zero weights: the log-likelihood from per-bin totals equals the sum of the
    // density at every point.
    let x: Vec<f64> = (0..600).map(|i| ((i * 37) % 41) as f64 - 20.0).collect();
    let w: Vec<f64> = (0..600).map(|i| ((i % 5) as f64) * 0.5).collect();
    for bins in [40, 13] {
        let config = SbpConfig::default()
            .bins(bins)
            .bounds(-20.0, 20.0)
            .min_exceedances(3);
        for weights in [None, Some(&w[..])] {
            let fit = match weights {
                None => SplicedBinnedPareto::fit(&x, &config).unwrap(),
                Some(w) => SplicedBinnedPareto::fit_weighted(&x, w, &config).unwrap(),
            };
            let direct: f64 = x
                .iter()
                .enumerate()
                .map(|(i, &v)| match weights.map_or(1.0, |w| w[i]) {
                    0.0 => 0.0,
                    wi => wi * fit.dist.ln_pdf(v),
                })
                .sum();
            assert!(
                (fit.log_likelihood - direct).abs() < 1e-9 * direct.abs(),
                "bins {bins}: {} vs {direct}",
                fit.log_likelihood
            );
        }
    }
}

#[test]
fn tails_are_gpd_fits_of_the_exceedances() {
    let x = draw(4000, 2);
    let fit = SplicedBinnedPareto::fit(&x, &SbpConfig::default()).unwrap();
    let tu = fit.dist.upper_threshold();
    let up: Vec<f64> = x.iter().filter(|&&v| v > tu).map(|&v| v - tu).collect();
    let direct = GeneralizedPareto::fit(&up).unwrap();
    assert_eq!(fit.upper_exceedances, up.len());
    assert_eq!(fit.upper.dist, direct.dist);
    let tl = fit.dist.lower_threshold();
    let low: Vec<f64> = x.iter().filter(|&&v| v < tl).map(|&v| tl - v).collect();
    assert_eq!(fit.lower.dist, GeneralizedPareto::fit(&low).unwrap().dist);
}

/// Share of `reps` replications (n = 10^4, about 500 exceedances per tail) in which each
/// tail's fitted shape is within three standard errors of the truth. The thresholds are
/// estimated, so the tails are close to but not exactly the true GPDs.
fn tail_shape_coverage(reps: u64) -> [f64; 2] {
    let mut hits = [0u64; 2];
    for seed in 0..reps {
        let x = draw(10_000, 100 + seed);
        let config = SbpConfig::default().bounds(0.0, 10.0).pseudo_count(0.0);
        let fit = SplicedBinnedPareto::fit(&x, &config).unwrap();
        for (k, (f, xi)) in [(&fit.lower, 0.1), (&fit.upper, 0.4)]
            .into_iter()
            .enumerate()
        {
            if (f.dist.shape() - xi).abs() <= 3.0 * f.shape_se.unwrap() {
                hits[k] += 1;
            }
        }
    }
    hits.map(|h| h as f64 / reps as f64)
}

#[test]
fn tail_shapes_recovered_within_three_standard_errors() {
    for (k, c) in tail_shape_coverage(40).into_iter().enumerate() {
        assert!(c >= 0.95, "tail {k}: coverage {c}");
    }
}

#[test]
#[ignore = "statistical: 200 replications of n = 10^4 (run with --ignored)"]
fn tail_shapes_recovered_within_three_standard_errors_200_replications() {
    let coverage = tail_shape_coverage(200);
    println!("3-SE coverage of the tail shapes (lower, upper): {coverage:?}");
    for (k, c) in coverage.into_iter().enumerate() {
        assert!(c >= 0.95, "tail {k}: coverage {c}");
    }
}

#[test]
fn fitter_in_place_equals_a_fresh_fit_and_keeps_working_across_windows() {
    let x = draw(2000, 3);
    let config = SbpConfig::default().bounds(0.0, 10.0);
    let mut fitter = SbpFitter::new(config).unwrap();
    let mut dist = fitter.fit(&x[..1000], None).unwrap().dist;
    for start in [1, 2, 500] {
        let window = &x[start..start + 1000];
        let est = fitter.fit_into(window, None, &mut dist).unwrap();
        let fresh = SplicedBinnedPareto::fit(window, &config).unwrap();
        assert_eq!(dist, fresh.dist);
        assert!((est.log_likelihood - fresh.log_likelihood).abs() < 1e-9);
    }
    // Warm-started local refits reach the same optimum on these windows.
    let local = config.gpd_fitter(GpdFitter::default().global(false));
    let mut warm = SbpFitter::new(local).unwrap().warm_start(true);
    let mut d2 = warm.fit(&x[..1000], None).unwrap().dist;
    warm.fit_into(&x[1..1001], None, &mut d2).unwrap();
    let fresh = SplicedBinnedPareto::fit(&x[1..1001], &config).unwrap().dist;
    assert!((d2.upper_tail().gpd().shape() - fresh.upper_tail().gpd().shape()).abs() < 1e-7);
}

#[test]
fn weights_equal_repeated_points() {
    let x = draw(600, 4);
    let w: Vec<f64> = (0..600).map(|i| (i % 3) as f64).collect();
    let rep: Vec<f64> = x
        .iter()
        .zip(&w)
        .flat_map(|(&v, &k)| std::iter::repeat_n(v, k as usize))
        .collect();
    let config = SbpConfig::default().bins(30).bounds(-2.0, 12.0);
    let a = SplicedBinnedPareto::fit_weighted(&x, &w, &config).unwrap();
    let b = SplicedBinnedPareto::fit(&rep, &config).unwrap();
    assert!((a.log_likelihood - b.log_likelihood).abs() < 1e-8 * b.log_likelihood.abs());
    assert!((a.upper.dist.shape() - b.upper.dist.shape()).abs() < 1e-8);
}

#[test]
fn empty_bins_keep_a_positive_density_with_a_pseudo_count() {
    let est = BodyEstimator::new(0.0, 10.0, 10).unwrap();
    let mut p = [0.0; 10];
    est.probabilities(&[1.5, 1.6, 8.2], None, &mut p).unwrap();
    assert!(p.iter().all(|&v| v > 0.0));
    assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-15);
    assert!((p[0] - 0.5 / 8.0).abs() < 1e-15); // (0 + 0.5) / (3 + 10 · 0.5)
}

#[test]
fn bad_input_gets_a_named_error() {
    let c = SbpConfig::default();
    let fit = |x: &[f64]| SplicedBinnedPareto::fit(x, &c).map(|f| f.log_likelihood);
    assert!(matches!(
        fit(&[]),
        Err(Error::TooFewObservations { got: 0, .. })
    ));
    assert!(matches!(
        fit(&[1.0, f64::NAN]),
        Err(Error::NonFiniteValue {
            name: "data",
            index: 1,
            ..
        })
    ));
    assert!(matches!(
        fit(&[1.0, f64::NEG_INFINITY]),
        Err(Error::NonFiniteValue { .. })
    ));
    assert!(matches!(
        fit(&[3.0; 50]),
        Err(Error::ConstantData { value: 3.0, .. })
    ));
    let few = draw(100, 9); // 5 exceedances per tail < 10
    assert!(matches!(
        fit(&few),
        Err(Error::TooFewObservations {
            what: "lower tail fit",
            needed: 10,
            ..
        })
    ));
    let x = draw(400, 9);
    let zeros = vec![0.0; 400];
    assert!(matches!(
        SplicedBinnedPareto::fit_weighted(&x, &zeros, &c),
        Err(Error::InvalidTotal {
            name: "weights",
            ..
        })
    ));
    assert!(matches!(
        SplicedBinnedPareto::fit(&x, &c.tail_mass(0.5)),
        Err(Error::TailMassOutOfRange {
            name: "lower_tail_mass",
            ..
        })
    ));
    assert!(matches!(
        SplicedBinnedPareto::fit(&x, &c.bins(0)),
        Err(Error::InvalidCount { name: "bins", .. })
    ));
    assert!(matches!(
        SplicedBinnedPareto::fit(&x, &c.bounds(1.0, 1.0)),
        Err(Error::ParameterOutOfRange { name: "low", .. })
    ));
    assert!(matches!(
        SplicedBinnedPareto::fit(&x, &c.pseudo_count(-1.0)),
        Err(Error::ParameterOutOfRange {
            name: "pseudo_count",
            ..
        })
    ));
}
