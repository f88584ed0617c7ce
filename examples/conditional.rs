//! Conditional SBP on a heteroscedastic, heavy-tailed regression: "plays" whose
//! circumstances move the median, the spread and the right tail's heaviness of the
//! yards gained.
//!
//! ```sh
//! cargo run --release --example conditional            # 50,000 training, 50,000 test plays
//! cargo run --release --example conditional -- 20000   # another training size
//! ```
//!
//! The generator knows the true conditional law of every play (the oracle). Three
//! forecasters are fitted on the training plays and scored on fresh test plays, by
//! mean CRPS (closed forms, [`tailcast::metrics::Crps`]) and by the paper's PP-plot
//! error per region (of the PIT values, [`tailcast::metrics::pp_score_from_pit`]):
//!
//! - the **conditional SBP** ([`ConditionalSbp`], linear, 100 bins, defaults);
//! - the **unconditional SBP** of all training outcomes ([`SplicedBinnedPareto::fit`]);
//! - a **Gaussian linear model** with a constant variance (ordinary least squares on
//!   the raw circumstances, residual standard deviation).
//!
//! It then prints the percentile scores (the PIT of the outcome under its own
//! conditional distribution, ×100) of a few example plays under each model.
//!
//! # The plays
//!
//! Circumstances: yards to the goal `g ~ U(5, 95)`, down `∈ {1, 2, 3}`, yards to go
//! `t ∈ [1, 20]`, shotgun formation `∈ {0, 1}`, defenders in the box `∈ {5, …, 8}`.
//! Yards gained `y = μ(x) + s(x) ε(x)` with
//!
//! ```text
//! μ = 3 + 0.15 t - 0.8 (box - 6) + 0.6 shotgun - 0.3 (down - 1)
//! s = 3 exp(0.25 shotgun + 0.03 (t - 8) - 0.12 (box - 6))
//! ε: a standard normal body (400 bins on [-4, 4]); a lower GPD tail of mass 3 %
//!    (shape -0.1) and an upper GPD tail of mass 10 % whose shape
//!    ξ_u = 0.05 + 0.4 / (1 + exp(-(g - 50)/12)) grows with open field ahead
//!    (0.07 near the goal, 0.43 deep in the own half); GPD scales match the normal
//!    density at the thresholds.
//! ```
//!
//! The conditional SBP's shapes are constants, so the varying right tail is outside
//! its model (its tail scale is log-linear in the circumstances and absorbs part of it).

use std::error::Error;
use std::time::Instant;

use ndarray::{Array1, Array2, ArrayView1};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use statrs::distribution::{ContinuousCDF, Normal};
use tailcast::conditional::{ConditionalSbp, ConditionalSbpConfig};
use tailcast::metrics::{Crps, PAPER_TAIL, RegionMae, paper_quantile_levels, pp_score_from_pit};
use tailcast::{Binned, GeneralizedPareto, SbpConfig, SplicedBinnedPareto, Tail};

/// Number of circumstances.
const D: usize = 5;
/// Bins of the oracle's normal body (in units of the spread).
const ORACLE_BINS: usize = 400;
const LOWER_MASS: f64 = 0.03;
const UPPER_MASS: f64 = 0.10;
const LOWER_SHAPE: f64 = -0.1;

/// The true law of the plays.
struct Oracle {
    /// Normal probabilities of the oracle's body bins on [-4, 4].
    probs: Vec<f64>,
    lower_scale: f64,
    upper_scale: f64,
}

impl Oracle {
    fn new() -> Self {
        let n = Normal::standard();
        let w = 8.0 / ORACLE_BINS as f64;
        let mut probs: Vec<f64> = (0..ORACLE_BINS)
            .map(|k| n.cdf(-4.0 + w * (k + 1) as f64) - n.cdf(-4.0 + w * k as f64))
            .collect();
        let total: f64 = probs.iter().sum();
        probs.iter_mut().for_each(|p| *p /= total);
        // Continuity of the density at the thresholds: mass / σ = φ(z).
        let pdf = |z: f64| (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let z_l = n.inverse_cdf(LOWER_MASS);
        let z_u = n.inverse_cdf(1.0 - UPPER_MASS);
        Self {
            probs,
            lower_scale: LOWER_MASS / pdf(z_l),
            upper_scale: UPPER_MASS / pdf(z_u),
        }
    }

    fn location(x: ArrayView1<'_, f64>) -> f64 {
        let (down, togo, shotgun, boxn) = (x[1], x[2], x[3], x[4]);
        3.0 + 0.15 * togo - 0.8 * (boxn - 6.0) + 0.6 * shotgun - 0.3 * (down - 1.0)
    }

    fn spread(x: ArrayView1<'_, f64>) -> f64 {
        let (togo, shotgun, boxn) = (x[2], x[3], x[4]);
        3.0 * (0.25 * shotgun + 0.03 * (togo - 8.0) - 0.12 * (boxn - 6.0)).exp()
    }

    fn upper_shape(x: ArrayView1<'_, f64>) -> f64 {
        0.05 + 0.4 / (1.0 + (-(x[0] - 50.0) / 12.0).exp())
    }

    /// The true conditional distribution of the yards gained on a play.
    fn law(&self, x: ArrayView1<'_, f64>) -> Result<SplicedBinnedPareto, tailcast::Error> {
        let (mu, s) = (Self::location(x), Self::spread(x));
        let body = Binned::equal_width(mu - 4.0 * s, mu + 4.0 * s, self.probs.clone())?;
        let lower = Tail::new(
            LOWER_MASS,
            GeneralizedPareto::new(LOWER_SHAPE, s * self.lower_scale)?,
        )?;
        let upper = Tail::new(
            UPPER_MASS,
            GeneralizedPareto::new(Self::upper_shape(x), s * self.upper_scale)?,
        )?;
        SplicedBinnedPareto::new(body, lower, upper)
    }
}

/// `n` plays: circumstances and yards gained, drawn from the oracle.
fn plays(
    oracle: &Oracle,
    n: usize,
    seed: u64,
) -> Result<(Array2<f64>, Array1<f64>), Box<dyn Error>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut x = Array2::zeros((n, D));
    for mut row in x.rows_mut() {
        row[0] = rng.random_range(5.0..95.0);
        row[1] = rng.random_range(1..=3) as f64;
        // Yards to go: mostly 10 on first down, shorter or longer later.
        row[2] = if row[1] == 1.0 && rng.random::<f64>() < 0.8 {
            10.0
        } else {
            rng.random_range(1.0f64..20.0).round()
        };
        row[3] = f64::from(u8::from(rng.random::<f64>() < 0.5));
        row[4] = rng.random_range(5..=8) as f64;
    }
    let mut y = Array1::zeros(n);
    for (row, v) in x.rows().into_iter().zip(y.iter_mut()) {
        *v = oracle.law(row)?.quantile(rng.random::<f64>());
    }
    Ok((x, y))
}

/// Ordinary least squares of `y` on `[1, x]`: coefficients and residual SD.
fn ols(x: &Array2<f64>, y: &Array1<f64>) -> (Vec<f64>, f64) {
    let p = x.ncols() + 1;
    let mut a = vec![0.0; p * p];
    let mut b = vec![0.0; p];
    let mut f = vec![0.0; p];
    for (row, &v) in x.rows().into_iter().zip(y) {
        f[0] = 1.0;
        for (fi, &xi) in f[1..].iter_mut().zip(row) {
            *fi = xi;
        }
        for i in 0..p {
            b[i] += f[i] * v;
            for j in 0..p {
                a[i * p + j] += f[i] * f[j];
            }
        }
    }
    // Gaussian elimination with partial pivoting.
    for c in 0..p {
        let piv = (c..p)
            .max_by(|&i, &j| a[i * p + c].abs().total_cmp(&a[j * p + c].abs()))
            .unwrap_or(c);
        for j in 0..p {
            a.swap(c * p + j, piv * p + j);
        }
        b.swap(c, piv);
        for i in c + 1..p {
            let r = a[i * p + c] / a[c * p + c];
            for j in c..p {
                a[i * p + j] -= r * a[c * p + j];
            }
            b[i] -= r * b[c];
        }
    }
    let mut beta = vec![0.0; p];
    for i in (0..p).rev() {
        let s: f64 = (i + 1..p).map(|j| a[i * p + j] * beta[j]).sum();
        beta[i] = (b[i] - s) / a[i * p + i];
    }
    let rss: f64 = x
        .rows()
        .into_iter()
        .zip(y)
        .map(|(row, &v)| (v - predict_ols(&beta, row)).powi(2))
        .sum();
    (beta, (rss / (y.len() - p) as f64).sqrt())
}

fn predict_ols(beta: &[f64], row: ArrayView1<'_, f64>) -> f64 {
    beta[0] + beta[1..].iter().zip(row).map(|(b, x)| b * x).sum::<f64>()
}

/// Mean CRPS and PIT values of one forecaster over the test plays.
struct Scores {
    name: &'static str,
    crps: f64,
    pit: Vec<f64>,
}

fn score<D: Crps>(
    name: &'static str,
    x: &Array2<f64>,
    y: &Array1<f64>,
    mut each: impl FnMut(ArrayView1<'_, f64>, &mut dyn FnMut(&D)),
    cdf: impl Fn(&D, f64) -> f64,
) -> Scores {
    let mut total = 0.0;
    let mut pit = Vec::with_capacity(y.len());
    for (row, &v) in x.rows().into_iter().zip(y) {
        each(row, &mut |dist: &D| {
            total += dist.crps(v);
            pit.push(cdf(dist, v));
        });
    }
    Scores {
        name,
        crps: total / y.len() as f64,
        pit,
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let n_train: usize = match std::env::args().nth(1) {
        Some(a) => a.parse()?,
        None => 50_000,
    };
    let n_test = 50_000;
    let oracle = Oracle::new();
    let (x, y) = plays(&oracle, n_train, 1)?;
    let (xt, yt) = plays(&oracle, n_test, 2)?;
    println!(
        "{n_train} training and {n_test} test plays, {D} circumstances (yards to goal, down, \
         yards to go, shotgun, defenders in the box)"
    );

    let config = ConditionalSbpConfig::default();
    let start = Instant::now();
    let fit = ConditionalSbp::fit(x.view(), y.view(), config)?;
    let fit_time = start.elapsed();
    let (xi_l, xi_u) = fit.model.shapes();
    println!(
        "conditional SBP: linear, {} bins on [{:.1}, {:.1}], fitted in {:.2} s ({} L-BFGS \
         iterations, converged: {}), shapes {xi_l:.3} / {xi_u:.3}",
        fit.model.bins(),
        fit.model.bin_range().0,
        fit.model.bin_range().1,
        fit_time.as_secs_f64(),
        fit.iterations,
        fit.converged,
    );
    let unconditional =
        SplicedBinnedPareto::fit(y.as_slice().ok_or("contiguous")?, &SbpConfig::default())?.dist;
    let (beta, sd) = ols(&x, &y);
    println!("Gaussian linear model: residual SD {sd:.2}");

    let oracle_scores = score(
        "oracle",
        &xt,
        &yt,
        |row, f| f(&oracle.law(row).expect("valid law")),
        |d: &SplicedBinnedPareto, v| d.cdf(v),
    );
    let mut predictor = fit.model.predictor();
    let conditional = score(
        "conditional SBP",
        &xt,
        &yt,
        |row, f| f(predictor.predict(row).expect("valid row")),
        |d: &SplicedBinnedPareto, v| d.cdf(v),
    );
    let unconditional_scores = score(
        "unconditional SBP",
        &xt,
        &yt,
        |_, f| f(&unconditional),
        |d: &SplicedBinnedPareto, v| d.cdf(v),
    );
    let gaussian = score(
        "Gaussian linear",
        &xt,
        &yt,
        |row, f| f(&Normal::new(predict_ols(&beta, row), sd).expect("positive SD")),
        |d: &Normal, v| d.cdf(v),
    );

    let levels = paper_quantile_levels();
    println!(
        "\nTest plays: mean CRPS (yards; relative to the oracle) and PP-plot error per region \
         (tail {PAPER_TAIL})"
    );
    println!(
        "{:<18} {:>8} {:>9}   {:>8} {:>8} {:>8} {:>8}",
        "model", "CRPS", "vs oracle", "lower", "base", "upper", "full"
    );
    for s in [
        &oracle_scores,
        &conditional,
        &unconditional_scores,
        &gaussian,
    ] {
        let RegionMae {
            lower,
            base,
            upper,
            full,
        } = pp_score_from_pit(&s.pit, &levels, PAPER_TAIL)?.mae;
        println!(
            "{:<18} {:>8.4} {:>+8.2}%   {lower:>8.4} {base:>8.4} {upper:>8.4} {full:>8.4}",
            s.name,
            s.crps,
            100.0 * (s.crps / oracle_scores.crps - 1.0)
        );
    }

    // A few plays and their percentile scores.
    println!(
        "\nPercentile scores (100 × PIT of the outcome under each model's distribution for \
         the play)"
    );
    let examples: [(&str, [f64; D], f64); 5] = [
        (
            "1st & 10 at midfield, under centre, 7 in the box",
            [50.0, 1.0, 10.0, 0.0, 7.0],
            4.0,
        ),
        (
            "3rd & 15 at own 15, shotgun, 5 in the box",
            [85.0, 3.0, 15.0, 1.0, 5.0],
            12.0,
        ),
        (
            "2nd & 2 at the 5, under centre, 8 in the box",
            [5.0, 2.0, 2.0, 0.0, 8.0],
            4.0,
        ),
        (
            "1st & 10 at own 20, shotgun, 6 in the box: a 40-yard gain",
            [80.0, 1.0, 10.0, 1.0, 6.0],
            40.0,
        ),
        (
            "1st & 10 at the 20, under centre, 8 in the box: a 20-yard gain",
            [20.0, 1.0, 10.0, 0.0, 8.0],
            20.0,
        ),
    ];
    println!(
        "{:<64} {:>6} {:>7} {:>7} {:>7} {:>7}   {:>15}",
        "play", "yards", "oracle", "cSBP", "uSBP", "Gauss", "cSBP 5–50–95 %"
    );
    for (label, circumstances, yards) in examples {
        let row = ndarray::arr1(&circumstances);
        let truth = oracle.law(row.view())?;
        let cond = fit.model.predict(row.view())?;
        let gauss = Normal::new(predict_ols(&beta, row.view()), sd)?;
        println!(
            "{label:<64} {yards:>6.1} {:>7.1} {:>7.1} {:>7.1} {:>7.1}   {:>4.1} {:>4.1} {:>5.1}",
            100.0 * truth.cdf(yards),
            100.0 * cond.cdf(yards),
            100.0 * unconditional.cdf(yards),
            100.0 * gauss.cdf(yards),
            cond.quantile(0.05),
            cond.quantile(0.5),
            cond.quantile(0.95),
        );
    }
    // The same through the batch API over the test plays.
    let start = Instant::now();
    let pit = fit.model.percentile_scores(xt.view(), yt.view())?;
    println!(
        "\npercentile_scores over the {n_test} test plays: {:.1} ms; share above the 99th \
         percentile {:.4} (expected 0.01)",
        start.elapsed().as_secs_f64() * 1e3,
        pit.iter().filter(|&&p| p > 0.99).count() as f64 / n_test as f64
    );
    Ok(())
}
