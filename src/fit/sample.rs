//! A validated, optionally weighted sample of positive values (exceedances) and the
//! summaries the generalized Pareto fit needs, gathered in one pass.

use crate::error::{Error, Result};

/// Number of scaled raw moments kept for the series form of the profile likelihood
/// near the exponential (`θ -> 0`); see `profile.rs`.
pub(crate) const MOMENTS: usize = 10;

/// A checked sample: every value finite and `> 0`, every weight finite and `>= 0`, at
/// least two points of positive weight and not all of them equal.
///
/// Weights are frequency weights: a weight of 2 counts a point twice. Points of zero
/// weight are ignored everywhere (they do not even set the maximum).
#[derive(Debug, Clone)]
pub(crate) struct Sample<'a> {
    pub(crate) x: &'a [f64],
    pub(crate) w: Option<&'a [f64]>,
    /// `W = Σ w` (the number of points when unweighted).
    pub(crate) total: f64,
    /// Number of points with positive weight.
    pub(crate) count: usize,
    pub(crate) x_max: f64,
    pub(crate) x_min: f64,
    /// Weighted mean of `y = x / x_max`.
    pub(crate) mean_y: f64,
    /// Weighted mean of `y²`.
    pub(crate) mean_y2: f64,
    /// Weighted means of `y^k`, `k = 1..=MOMENTS`, filled on first use.
    moments: Option<[f64; MOMENTS]>,
}

impl<'a> Sample<'a> {
    /// Validates `x` (and `w`) for a fit named `what` (used in error messages).
    pub(crate) fn new(what: &'static str, x: &'a [f64], w: Option<&'a [f64]>) -> Result<Self> {
        if let Some(w) = w
            && w.len() != x.len()
        {
            return Err(Error::LengthMismatch {
                name: "weights",
                expected: x.len(),
                got: w.len(),
            });
        }
        let mut total = 0.0;
        let mut count = 0usize;
        let mut x_max = f64::NEG_INFINITY;
        let mut x_min = f64::INFINITY;
        for (i, &xi) in x.iter().enumerate() {
            if !xi.is_finite() {
                return Err(Error::NonFiniteValue {
                    name: "data",
                    index: i,
                    value: xi,
                });
            }
            if !(xi > 0.0) {
                return Err(Error::NonPositiveValue {
                    name: "data",
                    index: i,
                    value: xi,
                });
            }
            let wi = match w {
                Some(w) => check_weight(w[i], i)?,
                None => 1.0,
            };
            if wi > 0.0 {
                total += wi;
                count += 1;
                x_max = x_max.max(xi);
                x_min = x_min.min(xi);
            }
        }
        if w.is_some() && !(total > 0.0 && total.is_finite()) {
            return Err(Error::InvalidTotal {
                name: "weights",
                sum: total,
            });
        }
        if count < 2 {
            return Err(Error::TooFewObservations {
                what,
                needed: 2,
                got: count,
            });
        }
        if x_min == x_max {
            return Err(Error::ConstantData { what, value: x_max });
        }
        // Second pass for the scaled moments: y <= 1, so nothing overflows whatever
        // the magnitude of the data.
        let inv = 1.0 / x_max;
        let (s1, s2) = match w {
            None => x.iter().fold((0.0, 0.0), |(a, b), &xi| {
                let y = xi * inv;
                (a + y, b + y * y)
            }),
            Some(w) => x.iter().zip(w).fold((0.0, 0.0), |(a, b), (&xi, &wi)| {
                let y = xi * inv;
                (a + wi * y, b + wi * y * y)
            }),
        };
        Ok(Self {
            x,
            w,
            total,
            count,
            x_max,
            x_min,
            mean_y: s1 / total,
            mean_y2: s2 / total,
            moments: None,
        })
    }

    /// Weighted means of `(x / x_max)^k` for `k = 1..=MOMENTS` (computed once).
    pub(crate) fn moments(&mut self) -> [f64; MOMENTS] {
        if let Some(m) = self.moments {
            return m;
        }
        let inv = 1.0 / self.x_max;
        let mut acc = [0.0; MOMENTS];
        for (i, &xi) in self.x.iter().enumerate() {
            let wi = self.w.map_or(1.0, |w| w[i]);
            let y = xi * inv;
            let mut p = wi * y;
            for a in acc.iter_mut() {
                *a += p;
                p *= y;
            }
        }
        for a in acc.iter_mut() {
            *a /= self.total;
        }
        self.moments = Some(acc);
        acc
    }
}

/// Checks one weight: finite and non-negative.
pub(crate) fn check_weight(w: f64, index: usize) -> Result<f64> {
    if !w.is_finite() {
        return Err(Error::NonFiniteValue {
            name: "weights",
            index,
            value: w,
        });
    }
    if w < 0.0 {
        return Err(Error::NegativeWeight { index, value: w });
    }
    Ok(w)
}
