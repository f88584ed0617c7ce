//! The automatic choice of a location model from the warm-up data.

use super::period::detect_seasons;
use super::{Location, LocationModel, SEASONAL_WARMUP_PERIODS, Tuning};
use crate::numeric::median;

/// One-step errors are clipped at this many times the level model's median absolute
/// error before they are averaged: spikes then count, but only up to the clip, and
/// the mean is stabler than a median.
const ERROR_CLIP: f64 = 3.0;

/// A candidate wins if its score is within this factor of the best, and candidates
/// are tried in order of preference (the level first): a later one must beat every
/// earlier one by 10 %. On series without structure the candidates' scores differ by
/// a few percent of noise, and a needless autoregression or season costs more than
/// that later (it follows stuck values, spreads a spike over its lags, and takes
/// longer to settle after a shift), so only a clear gain is worth it.
const TIE: f64 = 1.10;

/// Fewer scored one-step errors (both folds together) than this and the level is
/// chosen without a contest: the scores' relative standard error is about
/// `0.75/√m` on `m` errors, so the 10 % margin of [`TIE`] is two standard errors only
/// from 200 errors on, and on a short warm-up a spurious season or autoregression
/// wins by chance (on 50 values of a quasi-periodic sawtooth, a period of 6 that
/// forecasts the rest a quarter worse than the level).
const MIN_SCORED: usize = 200;

/// The first fold is trained on half the warm-up, or on more if a candidate needs
/// it (three periods of a long season), but on at most this share, so that at least
/// 40 % of it is scored.
const MAX_TRAIN_SHARE: f64 = 0.6;

/// The location model [`LocationModel::Auto`] picks for `data` (see there).
///
/// Candidates, in order of preference: `Level`, `Autoregressive { lags: 1 }` and `{
/// lags: 2 }`, then the seasons [`detect_seasons`] finds (the period, then a multiple
/// of it such as a week of hourly data). Seasons come last because a wrong period
/// degrades with time (on a quasi-periodic sequence whose period is not a whole
/// number of steps, the profile drifts a fraction of a step per cycle, which a short
/// contest does not see), while a true one wins by far more than the margin (on
/// hourly data with a weekly rhythm, the weekly season scores 43 % below the best
/// autoregression). `None` is never chosen: a fixed location of 0 cannot follow a level
/// shift, nor be re-anchored after one.
///
/// Each candidate is started on the first part of the data and scored on the one-step
/// errors over the rest (out of sample), forward in time and then on the reversed
/// series; the score is the mean absolute error clipped at [`ERROR_CLIP`] times the
/// level model's median absolute error (stabler than a median, and spikes count only
/// up to the clip). The first candidate within [`TIE`] of the best wins. Warm-ups too
/// short for a fair contest (under [`MIN_SCORED`] scored errors) get the level.
pub(super) fn choose(data: &[f64], tuning: Tuning, window: usize) -> LocationModel {
    let n = data.len();
    if 2 * (n - n / 2) < MIN_SCORED {
        return LocationModel::Level;
    }
    let longest_train = (n as f64 * MAX_TRAIN_SHARE) as usize;
    let mut candidates = vec![
        LocationModel::Level,
        LocationModel::Autoregressive { lags: 1 },
        LocationModel::Autoregressive { lags: 2 },
    ];
    if let Some(seasons) = detect_seasons(data, longest_train / SEASONAL_WARMUP_PERIODS) {
        candidates.push(LocationModel::Seasonal {
            period: seasons.period,
        });
        if let Some(period) = seasons.multiple {
            candidates.push(LocationModel::Seasonal { period });
        }
    }
    candidates.retain(|m| m.min_warmup() <= longest_train);
    let train = candidates
        .iter()
        .map(LocationModel::min_warmup)
        .fold(n / 2, usize::max);
    let reversed: Vec<f64> = data.iter().rev().copied().collect();
    let mut errors: Vec<Vec<f64>> = vec![Vec::new(); candidates.len()];
    for (model, errors) in candidates.iter().zip(&mut errors) {
        for series in [data, &reversed[..]] {
            let (train, test) = series.split_at(train);
            if train.iter().filter(|x| x.is_finite()).count() < 2 {
                continue;
            }
            let mut loc = Location::start(*model, train, tuning, window, window.max(1));
            for &y in train {
                if y.is_finite() {
                    loc.observe(y);
                } else {
                    loc.skip();
                }
            }
            for &y in test {
                if y.is_finite() {
                    errors.push(loc.observe(y).abs());
                } else {
                    loc.skip();
                }
            }
        }
    }
    // Every candidate needs both folds scored over the same points.
    let full = errors[0].len();
    if full < MIN_SCORED {
        return LocationModel::Level;
    }
    let clip = ERROR_CLIP * median(&errors[0]);
    let scores: Vec<f64> = errors
        .iter()
        .map(|e| {
            if e.len() == full {
                e.iter().map(|x| x.min(clip)).sum::<f64>() / full as f64
            } else {
                f64::INFINITY
            }
        })
        .collect();
    let best = scores.iter().copied().fold(f64::INFINITY, f64::min);
    candidates
        .iter()
        .zip(scores)
        .find(|(_, score)| *score <= best * TIE)
        .map_or(LocationModel::Level, |(c, _)| *c)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use rand_distr::{Distribution, StandardNormal};

    use super::super::testing::{TUNING, spiky};
    use super::super::{Location, LocationModel};

    #[test]
    fn auto_picks_seasonal_level_or_autoregression() {
        let period = 40;
        let seasonal = spiky(
            800,
            |t| (2.0 * std::f64::consts::PI * t as f64 / period as f64).sin() * 2.0,
            0.2,
            4,
        );
        let mut res = Vec::new();
        let loc = Location::initialise(LocationModel::Auto, &seasonal, TUNING, 800, 80, &mut res)
            .unwrap();
        assert_eq!(loc.model(), LocationModel::Seasonal { period });
        assert_eq!(res.len(), seasonal.len());

        // A random walk: the level or an AR(1) near a unit root, never a season.
        let mut rng = StdRng::seed_from_u64(5);
        let mut walk = vec![0.0];
        for _ in 1..800 {
            let z: f64 = StandardNormal.sample(&mut rng);
            walk.push(walk.last().unwrap() + z);
        }
        let loc =
            Location::initialise(LocationModel::Auto, &walk, TUNING, 800, 80, &mut res).unwrap();
        assert!(
            matches!(
                loc.model(),
                LocationModel::Level | LocationModel::Autoregressive { .. }
            ),
            "{:?}",
            loc.model()
        );

        // Zero-centred white noise: the level (a fixed location of 0 would score a
        // little better here, but could never follow a shift, so it is not offered).
        let noise = spiky(800, |_| 0.0, 1.0, 6);
        let loc =
            Location::initialise(LocationModel::Auto, &noise, TUNING, 800, 80, &mut res).unwrap();
        assert_eq!(loc.model(), LocationModel::Level);
    }

    /// Heavy-tailed noise with level shifts of 5–15 noise scales inside the warm-up:
    /// the shifts make the series look autocorrelated, but no autoregression predicts
    /// them, and one that mean-reverts lags after each; the level is chosen.
    #[test]
    fn auto_picks_the_level_despite_shifts_in_the_warmup() {
        for seed in 0..10u64 {
            let mut rng = StdRng::seed_from_u64(seed);
            let data: Vec<f64> = (0..1000)
                .map(|t| {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    let u: f64 = StandardNormal.sample(&mut rng);
                    let v: f64 = StandardNormal.sample(&mut rng);
                    // Student-t with 2 degrees of freedom: heavy tails.
                    let noise = z / ((u * u + v * v) / 2.0).sqrt();
                    let level = match t {
                        0..300 => 0.0,
                        300..650 => 9.0,
                        _ => -4.0,
                    };
                    level + noise
                })
                .collect();
            let mut res = Vec::new();
            let loc = Location::initialise(LocationModel::Auto, &data, TUNING, 1000, 100, &mut res)
                .unwrap();
            assert_eq!(loc.model(), LocationModel::Level, "seed {seed}");
        }
    }

    /// Hourly data whose daily cycle is modulated over the week: the weekly period,
    /// which holds every day's own profile, is offered and chosen when three weeks fit
    /// in the first fold.
    #[test]
    fn auto_picks_the_week_of_a_modulated_daily_cycle() {
        use std::f64::consts::TAU;
        let f = |t: usize| {
            let t = t as f64;
            100.0 * (1.0 + 0.5 * (TAU * t / 24.0).sin()) * (1.0 + 0.25 * (TAU * t / 168.0).sin())
        };
        let data = spiky(1000, f, 3.0, 8);
        let mut res = Vec::new();
        let loc =
            Location::initialise(LocationModel::Auto, &data, TUNING, 1000, 100, &mut res).unwrap();
        assert_eq!(loc.model(), LocationModel::Seasonal { period: 168 });
    }
}
