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
    /// `ln x_max`.
    pub(crate) ln_x_max: f64,
    pub(crate) x_min: f64,
    /// Weighted mean of `y = x / x_max`.
    pub(crate) mean_y: f64,
    /// Weighted mean of `y²`.
    pub(crate) mean_y2: f64,
    /// Weighted means of `y^k`, `k = 1..=MOMENTS`, filled on first use.
    moments: Option<[f64; MOMENTS]>,
    /// Weighted mean of `ln y`, filled on first use.
    mean_ln_y: Option<f64>,
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
        if w.is_none()
            && let Some(sample) = Self::unweighted(what, x)
        {
            return sample;
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
            ln_x_max: x_max.ln(),
            x_min,
            mean_y: s1 / total,
            mean_y2: s2 / total,
            moments: None,
            mean_ln_y: None,
        })
    }

    /// The unweighted case in one branch-free pass (checks, extremes and both power
    /// sums at once, in four lanes); `None` when some value is invalid or the raw
    /// squares could overflow or underflow, and the general two-pass path takes over
    /// (and names the first bad value).
    fn unweighted(what: &'static str, x: &'a [f64]) -> Option<Result<Self>> {
        let mut lo = [f64::INFINITY; 4];
        let mut hi = [0.0f64; 4];
        let mut s1 = [0.0f64; 4];
        let mut s2 = [0.0f64; 4];
        let n4 = x.len() / 4 * 4;
        for quad in x[..n4].chunks_exact(4) {
            for i in 0..4 {
                let v = quad[i];
                lo[i] = if v < lo[i] { v } else { lo[i] };
                hi[i] = if v > hi[i] { v } else { hi[i] };
                s1[i] += v;
                s2[i] += v * v;
            }
        }
        for (k, &v) in x[n4..].iter().enumerate() {
            lo[k] = if v < lo[k] { v } else { lo[k] };
            hi[k] = if v > hi[k] { v } else { hi[k] };
            s1[k] += v;
            s2[k] += v * v;
        }
        let x_max = hi[0].max(hi[1]).max(hi[2].max(hi[3]));
        let x_min = lo[0].min(lo[1]).min(lo[2].min(lo[3]));
        let sum1 = (s1[0] + s1[1]) + (s1[2] + s1[3]);
        let sum2 = (s2[0] + s2[1]) + (s2[2] + s2[3]);
        // A NaN makes the sums NaN (the comparisons skip it); an infinity or a value
        // <= 0 shows in the extremes. Squares of values in [1e-150, 1e150] neither
        // overflow nor lose precision.
        if !(x_min >= 1e-150 && x_max <= 1e150 && sum1.is_finite() && sum2.is_finite()) {
            return None;
        }
        let count = x.len();
        if count < 2 {
            return Some(Err(Error::TooFewObservations {
                what,
                needed: 2,
                got: count,
            }));
        }
        if x_min == x_max {
            return Some(Err(Error::ConstantData { what, value: x_max }));
        }
        let total = count as f64;
        let inv = 1.0 / x_max;
        Some(Ok(Self {
            x,
            w: None,
            total,
            count,
            x_max,
            ln_x_max: x_max.ln(),
            x_min,
            mean_y: sum1 * inv / total,
            mean_y2: sum2 * inv * inv / total,
            moments: None,
            mean_ln_y: None,
        }))
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

impl Sample<'_> {
    /// Weighted mean of `ln(x / x_max)` (computed once).
    pub(crate) fn mean_ln_y(&mut self) -> f64 {
        if let Some(m) = self.mean_ln_y {
            return m;
        }
        let s = match self.w {
            None => sum_ln(self.x, self.x_min, self.x_max),
            Some(w) => self
                .x
                .iter()
                .zip(w)
                .filter(|&(_, &wi)| wi > 0.0)
                .map(|(&xi, &wi)| wi * xi.ln())
                .sum(),
        };
        let m = s / self.total - self.ln_x_max;
        self.mean_ln_y = Some(m);
        m
    }
}

/// `Σ ln x` for values in `[lo, hi]` (`lo > 0`) as the logarithm of their product,
/// split into mantissa and exponent every `block` factors so that it cannot overflow
/// or underflow: one logarithm per block instead of one per value (within `n ε/2` of
/// the exact sum).
fn sum_ln(x: &[f64], lo: f64, hi: f64) -> f64 {
    let step = lo.log2().abs().max(hi.log2().abs()) + 1.0;
    let block = (900.0 / step).min(512.0);
    if block < 4.0 {
        return x.iter().map(|v| v.ln()).sum();
    }
    let block = block as usize;
    let mut prod = [1.0f64; 4];
    let mut expo = 0i64;
    let n4 = x.len() / 4 * 4;
    for big in x[..n4].chunks(4 * block) {
        for quad in big.chunks_exact(4) {
            for i in 0..4 {
                prod[i] *= quad[i];
            }
        }
        for p in prod.iter_mut() {
            let (m, e) = split(*p);
            *p = m;
            expo += e;
        }
    }
    let mut s = expo as f64 * std::f64::consts::LN_2;
    for p in prod {
        s += p.ln();
    }
    s + x[n4..].iter().map(|v| v.ln()).sum::<f64>()
}

/// `p = m · 2^e` with `m` in `[1, 2)`, for a positive normal `p`.
#[inline(always)]
pub(crate) fn split(p: f64) -> (f64, i64) {
    const MANTISSA: u64 = (1 << 52) - 1;
    let bits = p.to_bits();
    let e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    (f64::from_bits((bits & MANTISSA) | 0x3ff0_0000_0000_0000), e)
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
