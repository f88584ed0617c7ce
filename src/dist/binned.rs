//! The binned (histogram) distribution: piecewise-uniform density over fixed edges.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, all_finite, finite};

/// Piecewise-uniform ("binned") distribution: bin `k` spans `[e_k, e_{k+1})` and holds
/// probability `π_k`, spread uniformly over it.
///
/// ```text
/// pdf(x) = π_k / w_k                      for e_k <= x < e_{k+1}, w_k = e_{k+1} - e_k
/// cdf(x) = C_k + π_k (x - e_k) / w_k      C_k = π_0 + ... + π_{k-1}
/// ```
///
/// The last bin is closed on the right. Cumulative masses, log-densities and upper
/// cumulative masses are precomputed at construction, so `pdf`, `cdf`, `sf` and
/// `quantile` are a bin look-up plus a few flops and never allocate. `sf` is summed
/// from the top, so it keeps its relative accuracy near the upper edge.
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::Binned;
///
/// // Two bins on [0, 1) and [1, 3): masses 1/4 and 3/4.
/// let b = Binned::new(vec![0.0, 1.0, 3.0], vec![1.0, 3.0])?;
/// assert_eq!(b.pdf(0.5), 0.25);
/// assert_eq!(b.pdf(2.0), 0.375);
/// assert_eq!(b.cdf(2.0), 0.625);
/// assert_eq!(b.quantile(0.625), 2.0);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "BinnedParams", into = "BinnedParams")]
pub struct Binned {
    edges: Vec<f64>,
    /// Probabilities as given (before normalisation): kept so that serialisation
    /// round-trips bit for bit.
    weights: Vec<f64>,
    mass: Vec<f64>,
    cum: Vec<f64>,
    upper_cum: Vec<f64>,
    /// `ln W` for the total `W` of the weights `w` as given. The densities are not
    /// stored but computed when asked for, bit for bit as they were stored before:
    /// a bin's mass over its width, and its log-density
    /// `ln w_k - ln W - ln(e_{k+1} - e_k)` from the logarithms. A rolling forecaster
    /// refitted at every step updates the weights far more often than it reads a
    /// density.
    ln_total: f64,
    /// `ln w_k`: a rolling refit changes few weights, so that few logarithms are
    /// taken per update (the normalisation is one more).
    ln_weight: Vec<f64>,
    /// `1/w` and `ln w` for the width `w = e_{k+1} - e_k`, taken when the edges are
    /// set.
    inv_width: Vec<f64>,
    ln_width: Vec<f64>,
    /// Every `1/w` is finite (a subnormal width has no finite inverse).
    inverses_finite: bool,
    /// `K / (e_K - e_0)`: the bin index guess for near-uniform grids.
    inv_mean_width: f64,
}

/// Sets to 1 the leading values of `sums` (non-increasing along it) that exceed 1:
/// `min(s, 1)` for each, without a `min` per element.
fn clamp_tail_to_one<'a>(sums: impl Iterator<Item = &'a mut f64>) {
    for s in sums {
        if *s > 1.0 {
            *s = 1.0;
        } else {
            break;
        }
    }
}

/// The serialised form of [`Binned`], validated through [`Binned::new`].
#[derive(Debug, Clone, Serialize, Deserialize)]
struct BinnedParams {
    edges: Vec<f64>,
    probs: Vec<f64>,
}

impl TryFrom<BinnedParams> for Binned {
    type Error = Error;
    fn try_from(p: BinnedParams) -> Result<Self> {
        Self::new(p.edges, p.probs)
    }
}

impl From<Binned> for BinnedParams {
    fn from(b: Binned) -> Self {
        Self {
            edges: b.edges,
            probs: b.weights,
        }
    }
}

impl Binned {
    /// Creates a binned distribution from `K + 1` strictly increasing finite edges and
    /// `K` finite, non-negative probabilities with a positive sum (they are normalised).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCount`] for fewer than 2 edges, [`Error::NonFiniteValue`] for a
    /// NaN or infinite edge or probability, [`Error::EdgesNotIncreasing`] for a bin of
    /// zero or negative width, [`Error::LengthMismatch`] if `probs.len() + 1 !=
    /// edges.len()`, [`Error::NegativeProbability`] and [`Error::InvalidTotal`] (sum
    /// zero or overflowing).
    pub fn new(edges: Vec<f64>, probs: Vec<f64>) -> Result<Self> {
        if edges.len() < 2 {
            return Err(Error::InvalidCount {
                name: "edges.len()",
                value: edges.len(),
                expected: ">= 2",
            });
        }
        all_finite("edges", &edges)?;
        if let Some(index) = edges.windows(2).position(|w| w[0] >= w[1]) {
            return Err(Error::EdgesNotIncreasing {
                index,
                left: edges[index],
                right: edges[index + 1],
            });
        }
        let k = edges.len() - 1;
        let inv_mean_width = k as f64 / (edges[k] - edges[0]);
        if !inv_mean_width.is_finite() {
            // The span overflows f64; such a grid cannot be evaluated reliably.
            return Err(Error::NonFiniteParameter {
                name: "edges span",
                value: edges[k] - edges[0],
            });
        }
        let mut binned = Self {
            edges,
            weights: Vec::with_capacity(k),
            mass: vec![0.0; k],
            cum: vec![0.0; k + 1],
            upper_cum: vec![0.0; k + 1],
            ln_total: 0.0,
            ln_weight: vec![0.0; k],
            inv_width: vec![0.0; k],
            ln_width: vec![0.0; k],
            inverses_finite: true,
            inv_mean_width,
        };
        binned.set_widths();
        binned.set_probs(&probs)?;
        Ok(binned)
    }

    /// `K` equal-width bins between `low` and `high` holding `probs`.
    ///
    /// # Errors
    ///
    /// [`Error::NonFiniteParameter`] for non-finite bounds,
    /// [`Error::ParameterOutOfRange`] if `low >= high` or the span `high - low`
    /// overflows, [`Error::InvalidCount`] for empty `probs`, and the errors of
    /// [`Binned::new`].
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> Result<(), tailcast::Error> {
    /// let b = tailcast::Binned::equal_width(0.0, 10.0, vec![1.0; 10])?;
    /// assert_eq!(b.edges()[3], 3.0);
    /// assert!((b.cdf(2.5) - 0.25).abs() < 1e-15);
    /// # Ok(())
    /// # }
    /// ```
    pub fn equal_width(low: f64, high: f64, probs: Vec<f64>) -> Result<Self> {
        let edges = equal_width_edges(low, high, probs.len())?;
        Self::new(edges, probs)
    }

    /// Replaces the bin probabilities in place (edges unchanged), reusing every buffer:
    /// the way a rolling forecaster updates its body without allocating.
    ///
    /// # Errors
    ///
    /// As [`Binned::new`] for `probs`; on error `self` is left unchanged.
    pub fn set_probs(&mut self, probs: &[f64]) -> Result<()> {
        let total = self.check_probs(probs)?;
        let k = self.mass.len();
        if self.weights.len() != k {
            // No previous weights: every logarithm is taken (NaN equals no weight).
            self.weights.clear();
            self.weights.resize(k, f64::NAN);
        }
        // A rolling refit changes few weights: only their logarithms are taken.
        let (weights, ln_weight) = (&mut self.weights[..k], &mut self.ln_weight[..k]);
        let probs = &probs[..k];
        for i in 0..k {
            if probs[i].to_bits() != weights[i].to_bits() {
                weights[i] = probs[i];
                ln_weight[i] = probs[i].ln();
            }
        }
        let inv_total = 1.0 / total;
        self.ln_total = total.ln();
        // Products with the inverse rather than divisions, in a pass without
        // branches (it vectorises).
        for (m, &p) in self.mass[..k].iter_mut().zip(probs) {
            *m = p * inv_total;
        }
        // The cumulative sums from each end. Summation rounding must not leave
        // them past 1 (nor the cdf short of it, below); they never decrease, so
        // the sums past 1 are the last ones, set to 1 afterwards.
        let mut acc = 0.0f64;
        for (c, &m) in self.cum[..k].iter_mut().zip(&self.mass) {
            *c = acc;
            acc += m;
        }
        clamp_tail_to_one(self.cum[..k].iter_mut().rev());
        self.cum[k] = 1.0;
        let mut acc = 0.0f64;
        self.upper_cum[k] = 0.0;
        for (upper, &m) in self.upper_cum[..k].iter_mut().zip(&self.mass).rev() {
            acc += m;
            *upper = acc;
        }
        clamp_tail_to_one(self.upper_cum[..k].iter_mut());
        self.upper_cum[0] = 1.0;
        Ok(())
    }

    /// Fills the widths' inverses and logarithms from the edges.
    fn set_widths(&mut self) {
        let terms = self.inv_width.iter_mut().zip(&mut self.ln_width);
        for ((inv, ln), e) in terms.zip(self.edges.windows(2)) {
            let width = e[1] - e[0];
            (*inv, *ln) = (1.0 / width, width.ln());
        }
        self.inverses_finite = self.inv_width.iter().all(|v| v.is_finite());
    }

    /// The total of `probs` if they can replace this distribution's probabilities.
    fn check_probs(&self, probs: &[f64]) -> Result<f64> {
        let k = self.mass.len();
        if probs.len() != k {
            return Err(Error::LengthMismatch {
                name: "probs",
                expected: k,
                got: probs.len(),
            });
        }
        // The sum and the signs in one pass; a finite total means finite terms.
        // The errors are looked for in their order only if there may be one.
        let (total, any_sign) = crate::numeric::sum_and_any_sign(probs);
        let valid_total = total > 0.0 && total.is_finite();
        if valid_total && !any_sign {
            return Ok(total);
        }
        all_finite("probs", probs)?;
        if let Some(index) = probs.iter().position(|&p| p < 0.0) {
            return Err(Error::NegativeProbability {
                index,
                value: probs[index],
            });
        }
        if valid_total {
            return Ok(total);
        }
        Err(Error::InvalidTotal {
            name: "probs",
            sum: total,
        })
    }

    /// Moves the edges to `K` equal-width bins on `[low, high]` (the same edges as
    /// [`Binned::equal_width`]) and replaces the probabilities, reusing every buffer:
    /// how a rolling forecaster moves its grid without allocating.
    ///
    /// # Errors
    ///
    /// As [`Binned::equal_width`] and [`Binned::set_probs`]; on error `self` is left
    /// unchanged.
    pub(crate) fn set_equal_width(&mut self, low: f64, high: f64, probs: &[f64]) -> Result<()> {
        let k = self.mass.len();
        let inv_mean_width = check_grid(low, high, k)?;
        self.check_probs(probs)?;
        let edge = |i: usize| equal_width_edge(low, high, k, i);
        if let Some(index) = (0..k).position(|i| edge(i) >= edge(i + 1)) {
            // Bins too narrow to be resolved next to the magnitude of the edges.
            return Err(Error::EdgesNotIncreasing {
                index,
                left: edge(index),
                right: edge(index + 1),
            });
        }
        for (i, e) in self.edges.iter_mut().enumerate() {
            *e = edge(i);
        }
        self.inv_mean_width = inv_mean_width;
        self.set_widths();
        self.set_probs(probs)
    }

    /// The `K + 1` bin edges.
    pub fn edges(&self) -> &[f64] {
        &self.edges
    }

    /// The `K` normalised bin probabilities.
    pub fn probs(&self) -> &[f64] {
        &self.mass
    }

    /// The number of bins `K`.
    pub fn bins(&self) -> usize {
        self.mass.len()
    }

    /// The support `[e_0, e_K]`.
    pub fn support(&self) -> (f64, f64) {
        (self.edges[0], self.edges[self.edges.len() - 1])
    }

    /// Index of the bin holding `x`, for `e_0 <= x <= e_K` (the last bin is closed).
    #[inline]
    pub(crate) fn bin_index(&self, x: f64) -> usize {
        let k = self.mass.len();
        // A guess from the mean width is exact for equal-width grids; one check
        // against the true edges confirms it, else a binary search settles it.
        let guess = crate::numeric::index_below((x - self.edges[0]) * self.inv_mean_width, k - 1);
        if self.edges[guess] <= x && (x < self.edges[guess + 1] || guess == k - 1) {
            return guess;
        }
        if guess > 0 && self.edges[guess - 1] <= x && x < self.edges[guess] {
            return guess - 1;
        }
        if guess + 2 <= k
            && self.edges[guess + 1] <= x
            && (guess + 2 == k || x < self.edges[guess + 2])
        {
            return guess + 1;
        }
        (self.edges[1..k].partition_point(|&e| e <= x)).min(k - 1)
    }

    /// The density in bin `k`: its mass over its width (by the width's inverse
    /// when every inverse is finite).
    #[inline]
    fn density(&self, k: usize) -> f64 {
        if self.inverses_finite {
            self.mass[k] * self.inv_width[k]
        } else {
            self.mass[k] / (self.edges[k + 1] - self.edges[k])
        }
    }

    /// The log-density in bin `k`, from the logarithms, so that neither the
    /// density's overflow nor its underflow reaches it.
    #[inline]
    fn ln_density(&self, k: usize) -> f64 {
        (self.ln_weight[k] - self.ln_total) - self.ln_width[k]
    }

    /// Density; 0 outside `[e_0, e_K]`.
    pub fn pdf(&self, x: f64) -> f64 {
        let (lo, hi) = self.support();
        if x.is_nan() {
            f64::NAN
        } else if x < lo || x > hi {
            0.0
        } else {
            self.density(self.bin_index(x))
        }
    }

    /// Log-density; `-∞` outside `[e_0, e_K]` and in empty bins.
    pub fn ln_pdf(&self, x: f64) -> f64 {
        let (lo, hi) = self.support();
        if x.is_nan() {
            f64::NAN
        } else if x < lo || x > hi {
            f64::NEG_INFINITY
        } else {
            self.ln_density(self.bin_index(x))
        }
    }

    /// Cumulative distribution function.
    pub fn cdf(&self, x: f64) -> f64 {
        let (lo, hi) = self.support();
        if x.is_nan() {
            return f64::NAN;
        }
        if x <= lo {
            return 0.0;
        }
        if x >= hi {
            return 1.0;
        }
        let k = self.bin_index(x);
        (self.cum[k] + self.density(k) * (x - self.edges[k])).min(self.cum[k + 1])
    }

    /// `(cdf(x), sf(x))`, bit for bit, with one bin lookup.
    #[inline]
    pub(crate) fn cdf_and_sf(&self, x: f64) -> (f64, f64) {
        let (lo, hi) = self.support();
        if x.is_nan() {
            return (f64::NAN, f64::NAN);
        }
        if x <= lo {
            return (0.0, 1.0);
        }
        if x >= hi {
            return (1.0, 0.0);
        }
        let k = self.bin_index(x);
        let density = self.density(k);
        let cdf = (self.cum[k] + density * (x - self.edges[k])).min(self.cum[k + 1]);
        let sf = (self.upper_cum[k + 1] + density * (self.edges[k + 1] - x)).min(self.upper_cum[k]);
        (cdf, sf)
    }

    /// Survival function `1 - cdf(x)`, summed from the top for accuracy near `e_K`.
    pub fn sf(&self, x: f64) -> f64 {
        let (lo, hi) = self.support();
        if x.is_nan() {
            return f64::NAN;
        }
        if x <= lo {
            return 1.0;
        }
        if x >= hi {
            return 0.0;
        }
        let k = self.bin_index(x);
        (self.upper_cum[k + 1] + self.density(k) * (self.edges[k + 1] - x)).min(self.upper_cum[k])
    }

    /// Quantile function `inf { x : cdf(x) >= p }`; at `p = 0` the lower edge of the
    /// first non-empty bin, at `p = 1` the upper edge of the last non-empty bin; `NaN`
    /// for `p` outside `[0, 1]`.
    #[doc(alias = "inverse_cdf")]
    pub fn quantile(&self, p: f64) -> f64 {
        if !(0.0..=1.0).contains(&p) {
            return f64::NAN;
        }
        let k = self.mass.len();
        if p == 0.0 {
            let first = self.mass.iter().position(|&m| m > 0.0).unwrap_or(0);
            return self.edges[first];
        }
        if p == 1.0 {
            let last = self.mass.iter().rposition(|&m| m > 0.0).unwrap_or(k - 1);
            return self.edges[last + 1];
        }
        // The bin with C_k < p <= C_{k+1}; it has positive mass.
        let bin = self.cum[1..k].partition_point(|&c| c < p);
        let x = self.edges[bin] + (p - self.cum[bin]) / self.density(bin);
        x.clamp(self.edges[bin], self.edges[bin + 1])
    }

    /// The quantile at `p`, or an error if `p` is not in `[0, 1]`.
    ///
    /// # Errors
    ///
    /// [`Error::ProbabilityOutOfRange`] naming `p`.
    pub fn try_quantile(&self, p: f64) -> Result<f64> {
        super::check_level(p)?;
        Ok(self.quantile(p))
    }

    /// `∫ (x - center)^order f(x) dx` over `[lo, hi]` (clipped to the support), exact
    /// for the piecewise-constant density. `order` is 0, 1 or 2.
    pub(crate) fn partial_moment(&self, lo: f64, hi: f64, center: f64, order: i32) -> f64 {
        let (a0, b0) = self.support();
        let (lo, hi) = (lo.max(a0), hi.min(b0));
        if !(lo < hi) {
            return 0.0;
        }
        let power = order + 1;
        let (first, last) = (self.bin_index(lo), self.bin_index(hi));
        (first..=last)
            .map(|i| {
                let a = self.edges[i].max(lo) - center;
                let b = self.edges[i + 1].min(hi) - center;
                if b > a {
                    self.density(i) * (b.powi(power) - a.powi(power)) / power as f64
                } else {
                    0.0
                }
            })
            .sum()
    }

    /// Mean `Σ π_k (e_k + e_{k+1}) / 2` (always finite).
    pub fn mean(&self) -> Option<f64> {
        let (lo, hi) = self.support();
        Some(self.partial_moment(lo, hi, 0.0, 1))
    }

    /// Variance (always finite).
    pub fn variance(&self) -> Option<f64> {
        let (lo, hi) = self.support();
        let mean = self.mean()?;
        Some(self.partial_moment(lo, hi, mean, 2))
    }

    pub(crate) fn sample_with<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let u: f64 = rand::RngExt::sample(rng, rand::distr::Open01);
        self.quantile(u)
    }
}

/// `n + 1` equally spaced edges from `low` to `high` (both exact).
pub(crate) fn equal_width_edges(low: f64, high: f64, n: usize) -> Result<Vec<f64>> {
    check_grid(low, high, n)?;
    Ok((0..=n).map(|i| equal_width_edge(low, high, n, i)).collect())
}

/// Edge `i` of `n` equal-width bins on `[low, high]`: `low + i·width`, the last one
/// exactly `high`.
fn equal_width_edge(low: f64, high: f64, n: usize, i: usize) -> f64 {
    if i == n {
        high
    } else {
        low + (high - low) / n as f64 * i as f64
    }
}

/// Checks an equal-width grid of `bins` bins on `[low, high]`: finite bounds,
/// `low < high` with a finite span, at least one bin, and bins whose width has a
/// finite inverse. The one rule behind every such grid of the crate (a binned
/// body's, a body estimator's, a rolling window's). Returns `bins / (high - low)`.
///
/// # Errors
///
/// [`Error::NonFiniteParameter`] naming `low` or `high`;
/// [`Error::ParameterOutOfRange`] naming `low` when `low >= high` or the span
/// overflows; [`Error::InvalidCount`] for zero bins; [`Error::NonFiniteParameter`]
/// naming the inverse width when the bins are too narrow to resolve.
pub(crate) fn check_grid(low: f64, high: f64, bins: usize) -> Result<f64> {
    finite("low", low)?;
    finite("high", high)?;
    let span = high - low;
    if !(low < high) || !span.is_finite() {
        return Err(Error::ParameterOutOfRange {
            name: "low",
            value: low,
            expected: "< high (with a finite span)",
        });
    }
    if bins == 0 {
        return Err(Error::InvalidCount {
            name: "bins",
            value: 0,
            expected: ">= 1",
        });
    }
    let inv_width = bins as f64 / span;
    if !inv_width.is_finite() {
        return Err(Error::NonFiniteParameter {
            name: "bins / (high - low)",
            value: inv_width,
        });
    }
    Ok(inv_width)
}

impl fmt::Display for Binned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (lo, hi) = self.support();
        write!(f, "Binned(bins={}, support=[{lo}, {hi}])", self.bins())
    }
}

super::impl_distribution_traits!(Binned);

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Binned {
        Binned::new(vec![-1.0, 0.0, 0.5, 2.0, 2.5], vec![1.0, 0.0, 2.0, 1.0]).unwrap()
    }

    /// A negative zero sets the sign bit the fast check looks at, but is a valid
    /// (empty) bin; the cumulative sums stay within `[0, 1]` whatever the rounding.
    #[test]
    fn negative_zero_is_an_empty_bin_and_the_sums_stay_in_unit_range() {
        let b = Binned::new(vec![0.0, 1.0, 2.0, 3.0], vec![-0.0, 1.0, 2.0]).unwrap();
        assert_eq!(b.probs()[0], 0.0);
        assert_eq!(b.cdf(1.0), 0.0);
        assert_eq!(b.quantile(0.0), 1.0);
        // Masses whose float sums overshoot 1 from either end.
        // Empty bins after the overshoot (before it, from the top) hold the clamp.
        let cases = [
            [vec![0.1; 10], vec![0.0; 3]].concat(),
            [vec![0.0; 3], vec![0.1; 10]].concat(),
            vec![1.0 / 3.0; 30],
            vec![0.0, 0.7, 0.1, 0.1, 0.1],
        ];
        for probs in cases {
            let b = Binned::equal_width(0.0, 1.0, probs.clone()).unwrap();
            let k = probs.len();
            let mut acc = 0.0f64;
            for i in 0..k {
                assert_eq!(b.cum[i], acc.min(1.0), "cdf at bin {i} of {probs:?}");
                acc += b.mass[i];
            }
            let mut acc = 0.0f64;
            for i in (0..k).rev() {
                acc += b.mass[i];
                let want = if i == 0 { 1.0 } else { acc.min(1.0) };
                assert_eq!(b.upper_cum[i], want, "sf at bin {i} of {probs:?}");
            }
            assert!(b.cdf(0.999) <= 1.0 && b.sf(0.001) <= 1.0);
        }
    }

    #[test]
    fn rejects_each_bad_input_with_its_own_variant() {
        assert!(matches!(
            Binned::new(vec![0.0], vec![]),
            Err(Error::InvalidCount { .. })
        ));
        assert!(matches!(
            Binned::new(vec![0.0, f64::NAN], vec![1.0]),
            Err(Error::NonFiniteValue {
                name: "edges",
                index: 1,
                ..
            })
        ));
        assert_eq!(
            Binned::new(vec![0.0, 1.0, 1.0], vec![1.0, 1.0]),
            Err(Error::EdgesNotIncreasing {
                index: 1,
                left: 1.0,
                right: 1.0
            })
        );
        assert_eq!(
            Binned::new(vec![0.0, 1.0, 2.0], vec![1.0, -0.5]),
            Err(Error::NegativeProbability {
                index: 1,
                value: -0.5
            })
        );
        assert!(matches!(
            Binned::new(vec![0.0, 1.0, 2.0], vec![0.0, 0.0]),
            Err(Error::InvalidTotal { name: "probs", .. })
        ));
        assert!(matches!(
            Binned::new(vec![0.0, 1.0, 2.0], vec![f64::MAX, f64::MAX]),
            Err(Error::InvalidTotal { name: "probs", .. })
        ));
        assert!(matches!(
            Binned::new(vec![0.0, 1.0, 2.0], vec![1.0]),
            Err(Error::LengthMismatch {
                name: "probs",
                expected: 2,
                got: 1
            })
        ));
        assert!(matches!(
            Binned::equal_width(1.0, 1.0, vec![1.0]),
            Err(Error::ParameterOutOfRange { name: "low", .. })
        ));
    }

    #[test]
    fn pdf_cdf_sf_quantile_on_uneven_bins() {
        let b = example();
        assert_eq!(b.pdf(-0.5), 0.25);
        assert_eq!(b.pdf(0.25), 0.0);
        assert!((b.pdf(1.0) - 0.5 / 1.5).abs() < 1e-16);
        assert_eq!(b.pdf(2.5), 0.5); // last bin closed on the right
        assert_eq!(b.pdf(2.6), 0.0);
        assert_eq!(b.cdf(0.25), 0.25);
        assert!((b.cdf(1.25) - 0.5).abs() < 1e-16);
        assert!((b.sf(2.25) - 0.125).abs() < 1e-16);
        // The flat stretch over the empty bin: the quantile is its left end.
        assert_eq!(b.quantile(0.25), 0.0);
        assert!((b.quantile(0.5) - 1.25).abs() < 1e-15);
        assert_eq!(b.quantile(0.0), -1.0);
        assert_eq!(b.quantile(1.0), 2.5);
        assert!(b.quantile(1.1).is_nan());
    }

    #[test]
    fn bin_index_agrees_with_binary_search_on_uniform_and_uneven_grids() {
        let uniform = Binned::equal_width(-3.0, 7.0, vec![1.0; 100]).unwrap();
        let uneven = Binned::new(vec![0.0, 0.001, 0.002, 5.0, 5.5, 100.0], vec![1.0; 5]).unwrap();
        for b in [uniform, uneven] {
            let (lo, hi) = b.support();
            for i in 0..=10_000 {
                let x = lo + (hi - lo) * i as f64 / 10_000.0;
                let k = b.bin_index(x);
                assert!(b.edges[k] <= x && (x < b.edges[k + 1] || k == b.bins() - 1));
            }
        }
    }

    #[test]
    fn set_equal_width_equals_a_fresh_grid_and_is_atomic() {
        let mut b = example();
        let probs = [2.0, 0.0, 5.0];
        let mut moved = Binned::equal_width(0.0, 1.0, vec![1.0; 3]).unwrap();
        moved.set_equal_width(-1.5, 7.25, &probs).unwrap();
        assert_eq!(
            moved,
            Binned::equal_width(-1.5, 7.25, probs.to_vec()).unwrap()
        );
        let before = b.clone();
        let k = b.bins();
        let ok = vec![1.0; k];
        assert!(b.set_equal_width(1.0, 1.0, &ok).is_err());
        assert!(b.set_equal_width(f64::NAN, 1.0, &ok).is_err());
        assert!(b.set_equal_width(-f64::MAX, f64::MAX, &ok).is_err());
        assert!(
            b.set_equal_width(1e300, 1e300f64.next_up().next_up(), &ok)
                .is_err()
        );
        assert!(b.set_equal_width(0.0, 1.0, &vec![0.0; k]).is_err());
        assert!(b.set_equal_width(0.0, 1.0, &[1.0]).is_err());
        assert_eq!(b, before, "a failed move leaves the distribution");
    }

    #[test]
    fn moments_are_exact() {
        let b = Binned::equal_width(0.0, 2.0, vec![1.0, 1.0]).unwrap();
        assert!((b.mean().unwrap() - 1.0).abs() < 1e-15);
        assert!((b.variance().unwrap() - 1.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn serde_round_trip_is_bit_identical_and_validates() {
        let b = example();
        let json = serde_json::to_string(&b).unwrap();
        assert_eq!(
            json,
            r#"{"edges":[-1.0,0.0,0.5,2.0,2.5],"probs":[1.0,0.0,2.0,1.0]}"#
        );
        assert_eq!(serde_json::from_str::<Binned>(&json).unwrap(), b);
        assert!(serde_json::from_str::<Binned>(r#"{"edges":[0.0,1.0],"probs":[-1.0]}"#).is_err());
    }
}
