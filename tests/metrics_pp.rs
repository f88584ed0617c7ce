//! The paper's PP-plot metric against the numpy reference `ref_sbp.py`
//! (REFERENCE.md §3.3) and against hand-computed cases.

mod common;

use common::{assert_close, fixture, num, nums};
use ndarray::{Array2, array};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tailcast::Error;
use tailcast::metrics::{
    PAPER_TAIL, Region, RegionMae, Ties, paper_quantile_levels, pp_curve_from_pit,
    pp_curve_from_quantiles, pp_mae_by_region, pp_score_authors_protocol, pp_score_from_pit,
    pp_score_from_quantiles,
};

fn assert_mae(got: RegionMae, expected: [f64; 4], tol: f64, what: &str) {
    for (r, e) in Region::ALL.into_iter().zip(expected) {
        assert_close(got.get(r), e, 0.0, tol, &format!("{what} {r}"));
    }
}

#[test]
fn the_129_levels_equal_the_fixture_bit_for_bit() {
    let fx = fixture("paper_series.json");
    let expected = nums(&fx["quantile_levels"]);
    assert_eq!(paper_quantile_levels(), expected);
    let sizes = &fx["region_sizes"];
    let levels = paper_quantile_levels();
    for r in Region::ALL {
        let n = levels
            .iter()
            .filter(|&&q| r.contains(q, PAPER_TAIL))
            .count();
        assert_eq!(n as u64, sizes[r.name()].as_u64().unwrap(), "{r}");
    }
}

/// `python3 -c` with `ref_sbp.pp_mae_by_region(levels, ref_sbp.pp_curve_from_pit(u, levels))`
/// for `u_i = (i · 0.6180339887498949) mod 1`, `i = 1..899`, and for `u_i²`.
#[test]
fn pp_mae_of_a_known_pit_sample_matches_ref_sbp() {
    let levels = paper_quantile_levels();
    let pit: Vec<f64> = (1..900)
        .map(|i| (i as f64 * 0.6180339887498949) % 1.0)
        .collect();
    let got = pp_score_from_pit(&pit, &levels, PAPER_TAIL).unwrap().mae;
    let expected = [
        0.00046968854282536106,
        0.0004160881992650036,
        0.00035854653318502055,
        0.0004097662346621116,
    ];
    assert_mae(got, expected, 1e-15, "golden-ratio PIT");
    let squared: Vec<f64> = pit.iter().map(|u| u * u).collect();
    let got = pp_score_from_pit(&squared, &levels, PAPER_TAIL)
        .unwrap()
        .mae;
    let expected = [
        0.12288598442714127,
        0.17849088297827403,
        0.01221783463107158,
        0.1359702080692587,
    ];
    assert_mae(got, expected, 1e-15, "squared PIT");
}

/// ref_sbp `pp_curve_from_quantiles(obs, Q, levels, ties)` with `obs_t = t mod 7` and
/// `Q[t, j] = round(2 (obs_t + 4 (q_j - 1/2)))/2` (numpy rounding, many exact ties).
#[test]
fn quantile_curve_with_ties_matches_ref_sbp() {
    let levels = paper_quantile_levels();
    let obs: Vec<f64> = (0..50).map(|t| (t % 7) as f64).collect();
    let q = Array2::from_shape_fn((50, levels.len()), |(t, j)| {
        ((obs[t] + (levels[j] - 0.5) * 4.0) * 2.0).round_ties_even() / 2.0
    });
    let strict =
        pp_score_from_quantiles(&obs, q.view(), &levels, Ties::Strict, PAPER_TAIL).unwrap();
    let expected = [
        0.024499999999999997,
        0.28208860759493676,
        0.024500000000000022,
        0.18264341085271318,
    ];
    assert_mae(strict.mae, expected, 1e-15, "strict");
    let half = pp_score_from_quantiles(&obs, q.view(), &levels, Ties::Half, PAPER_TAIL).unwrap();
    let expected = [
        0.024499999999999997,
        0.2167215189873418,
        0.024500000000000022,
        0.14261240310077522,
    ];
    assert_mae(half.mae, expected, 1e-15, "mid ties");
}

/// ref_sbp `pp_mae_authors_protocol(series, rows, levels, context_length=5)` with
/// `series_t = 7t mod 11` (30 points) and `rows[i, j] = series_{i+5} + 10 (q_j - 1/2)`.
#[test]
fn authors_protocol_matches_ref_sbp() {
    let levels = paper_quantile_levels();
    let series: Vec<f64> = (0..30).map(|t| ((7 * t) % 11) as f64).collect();
    let rows = Array2::from_shape_fn((25, levels.len()), |(i, j)| {
        ((7 * (i + 5)) % 11) as f64 + (levels[j] - 0.5) * 10.0
    });
    let got = pp_score_authors_protocol(&series, rows.view(), &levels, 5, PAPER_TAIL).unwrap();
    let expected = [
        0.21549999999999994,
        0.20299999999999999,
        0.05549999999999994,
        0.17644186046511626,
    ];
    assert_mae(got.mae, expected, 1e-15, "authors' protocol");
}

#[test]
fn authors_protocol_by_hand() {
    // Context 2, 4 rows. Row i targets series[i + 2] but is compared with
    // series[i + 4]: rows 0 and 1 meet series[4] = 10 and series[5] = 0; rows 2 and 3
    // run past the end (series[6] would be the padding NaN) and count as "not below".
    let series = [1.0, 2.0, 3.0, 4.0, 10.0, 0.0];
    let levels = [0.02, 0.5, 0.98];
    let q = array![
        [9.0, 11.0, 12.0], // 10 < 11, 10 < 12
        [-1.0, 0.5, 0.0],  // 0 < 0.5 only (0 == 0 is not below)
        [100.0, 100.0, 100.0],
        [100.0, 100.0, 100.0]
    ];
    let got = pp_score_authors_protocol(&series, q.view(), &levels, 2, PAPER_TAIL).unwrap();
    assert_eq!(got.curve, vec![0.0, 0.5, 0.25]);
    let expected = RegionMae {
        lower: 0.02,
        base: 0.0,
        upper: (0.98 - 0.25),
        full: (0.02 + 0.0 + 0.73) / 3.0,
    };
    assert_mae(
        got.mae,
        [expected.lower, expected.base, expected.upper, expected.full],
        1e-15,
        "hand",
    );
    // The correctly aligned version compares row i with series[i + 2].
    let aligned = pp_curve_from_quantiles(&series[2..], q.view(), &levels, Ties::Strict).unwrap();
    // Targets 3, 4, 10, 0: only row 1 (target 4) is above its quantiles.
    assert_eq!(aligned, vec![0.75, 0.75, 0.75]);
}

#[test]
fn calibrated_noise_floor_agrees_with_ref_sbp_in_distribution() {
    // ref_sbp.calibrated_noise_floor(899, levels, 500, default_rng(3)): mean MAE of a
    // perfectly calibrated forecaster. Ours, from a different stream, must agree
    // within the standard error of the two means.
    let fx = fixture("paper_series.json");
    let floor = &fx["calibrated_noise_floor_n899"]["mean"];
    let levels = paper_quantile_levels();
    let mut rng = StdRng::seed_from_u64(2024);
    let reps = 2000;
    let mut samples: Vec<[f64; 4]> = Vec::with_capacity(reps);
    let mut pit = vec![0.0; 899];
    for _ in 0..reps {
        pit.iter_mut().for_each(|u| *u = rng.random::<f64>());
        let m = pp_score_from_pit(&pit, &levels, PAPER_TAIL).unwrap().mae;
        samples.push([m.lower, m.base, m.upper, m.full]);
    }
    for (k, r) in Region::ALL.into_iter().enumerate() {
        let xs: Vec<f64> = samples.iter().map(|s| s[k]).collect();
        let mean = xs.iter().sum::<f64>() / reps as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (reps - 1) as f64;
        let se = (var / reps as f64 + var / 500.0).sqrt();
        let reference = num(&floor[r.name()]);
        assert!(
            (mean - reference).abs() < 4.0 * se,
            "{r}: {mean} vs {reference} (se {se})"
        );
    }
}

/// A region without levels has a NaN error, which JSON cannot hold as a number: it
/// is written as "NaN" and reads back, and finite errors stay plain numbers.
#[test]
fn region_mae_with_nan_round_trips_through_json() {
    let mae = RegionMae {
        lower: f64::NAN,
        base: 0.125,
        upper: f64::INFINITY,
        full: 0.1,
    };
    let json = serde_json::to_string(&mae).unwrap();
    assert_eq!(
        json,
        r#"{"lower":"NaN","base":0.125,"upper":"inf","full":0.1}"#
    );
    let back: RegionMae = serde_json::from_str(&json).unwrap();
    assert!(back.lower.is_nan() && back.upper == f64::INFINITY);
    assert_eq!((back.base, back.full), (0.125, 0.1));
}

#[test]
fn malformed_input_is_rejected_with_named_errors() {
    let levels = [0.1, 0.9];
    assert!(matches!(
        pp_curve_from_pit(&[0.5, f64::NAN], &levels),
        Err(Error::NonFiniteValue { name: "pit", .. })
    ));
    assert!(matches!(
        pp_curve_from_pit(&[0.5], &[0.1, 1.1]),
        Err(Error::ValueOutOfRange { name: "levels", .. })
    ));
    assert!(matches!(
        pp_mae_by_region(&levels, &[0.1, 0.9], 0.5),
        Err(Error::TailMassOutOfRange { .. })
    ));
    let q = array![[0.0, 1.0], [f64::NAN, 1.0]];
    assert!(matches!(
        pp_curve_from_quantiles(&[0.5, 0.5], q.view(), &levels, Ties::Strict),
        Err(Error::NonFiniteValue {
            name: "quantiles",
            ..
        })
    ));
    let empty = Array2::<f64>::zeros((0, 2));
    assert!(matches!(
        pp_score_authors_protocol(&[1.0], empty.view(), &levels, 1, PAPER_TAIL),
        Err(Error::TooFewObservations { .. })
    ));
    // NaN in the authors' inputs is padding, not an error: it counts as "not below".
    let q = array![[f64::NAN, 5.0]];
    let s = pp_score_authors_protocol(&[0.0, 0.0, f64::NAN, 1.0], q.view(), &levels, 0, PAPER_TAIL)
        .unwrap();
    assert_eq!(s.curve, vec![0.0, 0.0]);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Arbitrary f64 input never panics; accepted input gives curves in [0, 1].
        #[test]
        fn pp_functions_never_panic(
            pit in prop::collection::vec(proptest::num::f64::ANY, 0..50),
            levels in prop::collection::vec(proptest::num::f64::ANY, 0..10),
            tail in proptest::num::f64::ANY,
        ) {
            if let Ok(curve) = pp_curve_from_pit(&pit, &levels) {
                prop_assert!(curve.iter().all(|c| (0.0..=1.0).contains(c)));
                let _ = pp_mae_by_region(&levels, &curve, tail);
            }
            let n = pit.len();
            let m = levels.len();
            let q = Array2::from_shape_fn((n, m), |(i, j)| pit[i] - levels[j]);
            let _ = pp_curve_from_quantiles(&pit, q.view(), &levels, Ties::Half);
            let _ = pp_score_authors_protocol(&pit, q.view(), &levels, 3, tail);
        }
    }
}
