//! Time-series use of the conditional SBP: lag and calendar features built from a
//! series, and a one-step forecaster (the paper's setting: the SBP of the next value
//! given the last `k` values).

use ndarray::{Array1, Array2, ArrayView1};
use serde::{Deserialize, Serialize};

use super::{ConditionalSbp, ConditionalSbpConfig, ConditionalSbpFit, Predictor};
use crate::SplicedBinnedPareto;
use crate::checked::IntoChecked;
use crate::error::{Error, Result};

/// Which features describe time step `t` of a series `y`: the last `lags` values
/// `y[t-1], …, y[t-lags]` (most recent first) and, with a `period`, the calendar pair
/// `sin(2π t/period), cos(2π t/period)`.
///
/// # Examples
///
/// ```
/// use tailcast::conditional::LagFeatures;
/// let y = [1.0, 2.0, 4.0, 8.0, 16.0];
/// let (x, target) = LagFeatures::new(2).features(&y).unwrap();
/// assert_eq!(x.row(0).to_vec(), vec![2.0, 1.0]); // predicts y[2] = 4
/// assert_eq!(target.to_vec(), vec![4.0, 8.0, 16.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LagFeatures {
    /// Number of lagged values, `>= 1`.
    pub lags: usize,
    /// Period of the calendar features (`None`: none), `>= 2`.
    pub period: Option<usize>,
}

impl LagFeatures {
    /// `lags` lagged values, no calendar features.
    pub fn new(lags: usize) -> Self {
        Self { lags, period: None }
    }

    /// Adds the calendar pair of a cycle of `period` steps.
    pub fn period(mut self, period: usize) -> Self {
        self.period = Some(period);
        self
    }

    /// Number of features per row.
    pub fn width(&self) -> usize {
        self.lags + if self.period.is_some() { 2 } else { 0 }
    }

    fn check(&self) -> Result<()> {
        if self.lags == 0 {
            return Err(Error::InvalidCount {
                name: "lags",
                value: 0,
                expected: ">= 1",
            });
        }
        if let Some(p) = self.period
            && p < 2
        {
            return Err(Error::InvalidCount {
                name: "period",
                value: p,
                expected: ">= 2",
            });
        }
        Ok(())
    }

    /// Writes the features of step `t` (needs `history[t - lags..t]`) into `out`.
    fn row_into(&self, history: &[f64], t: usize, out: &mut [f64]) {
        for (j, o) in out[..self.lags].iter_mut().enumerate() {
            *o = history[t - 1 - j];
        }
        if let Some(p) = self.period {
            let angle = std::f64::consts::TAU * (t % p) as f64 / p as f64;
            out[self.lags] = angle.sin();
            out[self.lags + 1] = angle.cos();
        }
    }

    /// The feature rows and targets of every step `t >= lags` of `y`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCount`] for zero lags or a period below 2;
    /// [`Error::TooFewObservations`] for a series no longer than `lags`;
    /// [`Error::NonFiniteValue`] for NaN or ±∞ in `y`.
    pub fn features(&self, y: &[f64]) -> Result<(Array2<f64>, Array1<f64>)> {
        self.check()?;
        crate::error::all_finite("series", y)?;
        if y.len() <= self.lags {
            return Err(Error::TooFewObservations {
                what: "lag features (a series longer than the lags)",
                needed: self.lags + 1,
                got: y.len(),
            });
        }
        let n = y.len() - self.lags;
        let mut x = Array2::zeros((n, self.width()));
        for (i, mut row) in x.rows_mut().into_iter().enumerate() {
            let out = row
                .as_slice_mut()
                .unwrap_or_else(|| unreachable!("standard layout"));
            self.row_into(y, self.lags + i, out);
        }
        Ok((x, Array1::from_vec(y[self.lags..].to_vec())))
    }
}

/// A one-step forecaster: a conditional SBP of `y[t]` given [`LagFeatures`] of the
/// series before `t`.
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::conditional::{ConditionalSbpConfig, LagFeatures, SeriesForecaster};
/// // An AR(1)-like series with a daily cycle.
/// let mut y = vec![0.0; 3_000];
/// for t in 1..y.len() {
///     let noise = ((t as f64 * 0.618_033_988_7).fract() - 0.5) * 2.0;
///     y[t] = 0.6 * y[t - 1] + (std::f64::consts::TAU * t as f64 / 24.0).sin() + noise;
/// }
/// let features = LagFeatures::new(3).period(24);
/// let config = ConditionalSbpConfig::default().bins(30);
/// let forecaster = SeriesForecaster::fit(&y[..2_000], features, &config)?;
/// // The predictive SBP of y[2000] from everything before it.
/// let dist = forecaster.forecast(&y[..2_000])?;
/// assert!(dist.quantile(0.05) < dist.quantile(0.95));
/// // Percentile scores of the held-out steps, each from its own past.
/// let pit = forecaster.percentile_scores(&y, 2_000)?;
/// assert_eq!(pit.len(), 1_000);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesForecaster {
    /// The features of each step.
    pub features: LagFeatures,
    /// The fitted conditional SBP.
    pub fit: ConditionalSbpFit,
}

impl SeriesForecaster {
    /// Fits the conditional SBP of every step `t >= lags` of `y` given its features.
    ///
    /// # Errors
    ///
    /// Those of [`LagFeatures::features`] and [`ConditionalSbp::fit`].
    pub fn fit(
        y: &[f64],
        features: LagFeatures,
        config: impl IntoChecked<ConditionalSbpConfig>,
    ) -> Result<Self> {
        let (x, target) = features.features(y)?;
        let fit = ConditionalSbp::fit(x.view(), target.view(), config)?;
        Ok(Self { features, fit })
    }

    /// The model.
    pub fn model(&self) -> &ConditionalSbp {
        &self.fit.model
    }

    /// The predictive distribution of the step after `history` (its time index is
    /// `history.len()`, which places it in the calendar cycle).
    ///
    /// # Errors
    ///
    /// [`Error::TooFewObservations`] for a history shorter than the lags,
    /// [`Error::NonFiniteValue`] for NaN or ±∞ in the values used.
    pub fn forecast(&self, history: &[f64]) -> Result<SplicedBinnedPareto> {
        let mut predictor = self.fit.model.predictor();
        let mut row = vec![0.0; self.features.width()];
        Ok(self
            .forecast_with(&mut predictor, &mut row, history)?
            .clone())
    }

    fn forecast_with<'p>(
        &self,
        predictor: &'p mut Predictor<'_>,
        row: &mut [f64],
        history: &[f64],
    ) -> Result<&'p SplicedBinnedPareto> {
        let t = history.len();
        if t < self.features.lags {
            return Err(Error::TooFewObservations {
                what: "a one-step forecast (a history of at least the lags)",
                needed: self.features.lags,
                got: t,
            });
        }
        self.features.row_into(history, t, row);
        predictor.predict(ArrayView1::from(&*row))
    }

    /// One-step percentile scores `F_t(y[t])` of the steps `start..y.len()`, each from
    /// the values before it (no refit).
    ///
    /// # Errors
    ///
    /// As [`forecast`](Self::forecast) for `start`, and [`Error::NonFiniteValue`] for
    /// NaN or ±∞ in `y`.
    pub fn percentile_scores(&self, y: &[f64], start: usize) -> Result<Array1<f64>> {
        crate::error::all_finite("series", y)?;
        let mut predictor = self.fit.model.predictor();
        let mut row = vec![0.0; self.features.width()];
        let mut out = Array1::zeros(y.len().saturating_sub(start));
        for (o, t) in out.iter_mut().zip(start..y.len()) {
            *o = self
                .forecast_with(&mut predictor, &mut row, &y[..t])?
                .cdf(y[t]);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_and_forecasts_line_up() {
        let y: Vec<f64> = (0..2_000)
            .map(|t| {
                let u = ((t + 1) as f64 * 0.618_033_988_7).fract();
                (t as f64 * 0.37).sin() * 3.0 + (u / (1.0 - u)).ln()
            })
            .collect();
        let lf = LagFeatures::new(2).period(7);
        let (x, target) = lf.features(&y).unwrap();
        assert_eq!(x.dim(), (1_998, 4));
        assert_eq!(x.row(5).to_vec()[..2], [y[6], y[5]]);
        let angle = std::f64::consts::TAU * (7 % 7) as f64 / 7.0;
        assert!((x[[5, 2]] - angle.sin()).abs() < 1e-15);
        assert_eq!(target[5], y[7]);
        let config = ConditionalSbpConfig::default().bins(12);
        let f = SeriesForecaster::fit(&y, lf, config).unwrap();
        // A forecast from history y[..t] is the model's prediction for row t - lags.
        let direct = f.model().predict(x.row(100)).unwrap();
        let via = f.forecast(&y[..102]).unwrap();
        assert_eq!(direct, via);
        let pit = f.percentile_scores(&y, 1_900).unwrap();
        assert_eq!(pit.len(), 100);
        assert!((pit[0] - direct_cdf(&f, &x, 1_898, y[1_900])).abs() < 1e-15);
        assert!(matches!(
            f.forecast(&y[..1]),
            Err(Error::TooFewObservations { .. })
        ));
        assert!(matches!(
            LagFeatures::new(0).features(&y),
            Err(Error::InvalidCount { name: "lags", .. })
        ));
        assert!(matches!(
            LagFeatures::new(3).features(&y[..3]),
            Err(Error::TooFewObservations { .. })
        ));
    }

    fn direct_cdf(f: &SeriesForecaster, x: &Array2<f64>, row: usize, y: f64) -> f64 {
        f.model().predict(x.row(row)).unwrap().cdf(y)
    }
}
