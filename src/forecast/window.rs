//! The sliding window of residuals and its incrementally maintained statistics.
//!
//! The window is a ring buffer of the last `W` residuals. Next to it live
//!
//! * the histogram of the window over a fixed equal-width grid: a weighted count per
//!   bin, updated in O(1) when a point enters or leaves;
//! * one intrusive doubly linked list per bin, threaded through the ring's slots, so
//!   that the points beyond a tail threshold are found by walking only the bins at
//!   that end of the grid: O(number of tail points + bins walked) instead of a pass
//!   over the whole window.
//!
//! Points outside the grid are counted in the edge bins (they belong to the tails,
//! whose likelihood uses their exact values, which the lists keep). The grid is moved
//! by [`Window::rebin`], an O(W) rebuild that the forecaster triggers only when the
//! grid no longer fits the data.
//!
//! With exponential decay each point carries a weight `2^(-age / h)`. Rather than
//! decaying every count at every step (O(bins)), a new point gets the *growing* raw
//! weight `2^(clock)` with `clock += 1/h` per point; relative weights are then exactly
//! the decay weights. When the clock passes [`RENORMALISE_AT`] every stored weight and
//! count is multiplied by the exact power of two `2^(-floor(clock))`.
//!
//! A bin's list always holds its points in the order they entered the window (points
//! are appended, and removal keeps the others' order), so the lists are a function of
//! the ring alone: they are not serialised, and a restored window rebuilds exactly the
//! same lists, which keeps fits bit-identical after a save and restore.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fit::BodyEstimator;
use crate::fit::binned::Guard;

/// End-of-list marker in the intrusive lists.
const NIL: u32 = u32::MAX;

/// The decay clock is renormalised once raw weights reach `2^RENORMALISE_AT`.
const RENORMALISE_AT: f64 = 64.0;

/// Slots allocated up front; beyond this the ring grows as it fills.
const INITIAL_CAPACITY: usize = 4096;

/// The largest supported window (slot indices are stored as `u32`).
pub(crate) const MAX_WINDOW: usize = (u32::MAX - 1) as usize;

/// A sliding window of residuals with histogram counts and per-bin membership lists.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "WindowRepr", into = "WindowRepr")]
pub(crate) struct Window {
    capacity: usize,
    /// `1/h` for a half-life `h`, 0 for equal weights.
    decay_rate: f64,
    /// `log2` of the raw weight the next point gets.
    clock: f64,
    values: Vec<f64>,
    weights: Vec<f64>,
    /// Slot of the oldest point.
    start: usize,
    len: usize,
    low: f64,
    high: f64,
    inv_width: f64,
    /// The bins of the grid as the fit counts them, and what it needs to assign
    /// points to them (`bins` bins on `[low, high]`).
    bins_of_fit: BodyEstimator,
    guard: Guard,
    counts: Vec<f64>,
    members: Vec<u32>,
    // The lists: derived from the ring, rebuilt on deserialisation.
    bin_of: Vec<u32>,
    next: Vec<u32>,
    prev: Vec<u32>,
    first: Vec<u32>,
    last: Vec<u32>,
}

/// The serialised form: the ring, the grid, the counts (which carry the rounding of
/// their history) and the clock. The lists are rebuilt.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct WindowRepr {
    capacity: usize,
    decay_rate: f64,
    clock: f64,
    /// Oldest first.
    values: Vec<f64>,
    /// Oldest first; empty when the window is unweighted.
    weights: Vec<f64>,
    low: f64,
    high: f64,
    counts: Vec<f64>,
}

impl From<Window> for WindowRepr {
    fn from(w: Window) -> Self {
        let values = w.iter().map(|(x, _)| x).collect();
        let weights = if w.decay_rate > 0.0 {
            w.iter().map(|(_, wt)| wt).collect()
        } else {
            Vec::new()
        };
        Self {
            capacity: w.capacity,
            decay_rate: w.decay_rate,
            clock: w.clock,
            values,
            weights,
            low: w.low,
            high: w.high,
            counts: w.counts,
        }
    }
}

impl TryFrom<WindowRepr> for Window {
    type Error = Error;
    fn try_from(r: WindowRepr) -> Result<Self> {
        let mut w = Window::new(
            r.capacity,
            r.counts.len(),
            r.low,
            r.high,
            (r.decay_rate > 0.0).then(|| 1.0 / r.decay_rate),
        )?;
        if !(r.decay_rate >= 0.0 && r.decay_rate.is_finite()) {
            return Err(Error::NonFiniteParameter {
                name: "window.decay_rate",
                value: r.decay_rate,
            });
        }
        if r.values.len() > r.capacity {
            return Err(Error::LengthMismatch {
                name: "window.values",
                expected: r.capacity,
                got: r.values.len(),
            });
        }
        let weighted = r.decay_rate > 0.0;
        if weighted && r.weights.len() != r.values.len() {
            return Err(Error::LengthMismatch {
                name: "window.weights",
                expected: r.values.len(),
                got: r.weights.len(),
            });
        }
        crate::error::all_finite("window.values", &r.values)?;
        crate::error::all_finite("window.weights", &r.weights)?;
        crate::error::all_finite("window.counts", &r.counts)?;
        if let Some(index) = r.weights.iter().position(|&x| x < 0.0) {
            return Err(Error::NegativeWeight {
                index,
                value: r.weights[index],
            });
        }
        if let Some(index) = r.counts.iter().position(|&x| x < 0.0) {
            return Err(Error::NegativeWeight {
                index,
                value: r.counts[index],
            });
        }
        crate::error::finite("window.clock", r.clock)?;
        // The clock is renormalised below RENORMALISE_AT (and never negative), so
        // no raw weight exceeds 2^RENORMALISE_AT.
        if !(0.0..RENORMALISE_AT).contains(&r.clock) {
            return Err(Error::InvalidState {
                reason: "the window's decay clock is out of range",
            });
        }
        let max_weight = RENORMALISE_AT.exp2();
        if r.weights.iter().any(|&x| x > max_weight) {
            return Err(Error::InvalidState {
                reason: "a window weight exceeds the largest raw weight",
            });
        }
        w.decay_rate = r.decay_rate;
        w.clock = r.clock;
        for (i, &x) in r.values.iter().enumerate() {
            let weight = if weighted { r.weights[i] } else { 1.0 };
            w.values.push(x);
            w.weights.push(weight);
            let bin = w.bin(x);
            w.members[bin] += 1;
            w.bin_of.push(bin as u32);
            w.next.push(NIL);
            w.prev.push(NIL);
            w.link(i, bin);
        }
        w.len = r.values.len();
        // The counts carry the rounding of their history, so they are kept, but
        // they must be the window's: exactly 0 for an empty bin, and otherwise the
        // sum of the bin's weights up to rounding.
        let total: f64 = w.weights.iter().sum();
        let mut sums = vec![0.0; r.counts.len()];
        for (&x, &weight) in w.values.iter().zip(&w.weights) {
            sums[w.bin(x)] += weight;
        }
        let consistent = r
            .counts
            .iter()
            .zip(&sums)
            .zip(&w.members)
            .all(|((&c, &s), &m)| {
                if m == 0 {
                    c == 0.0
                } else {
                    (c - s).abs() <= COUNT_TOLERANCE * total
                }
            });
        if consistent {
            w.counts = r.counts;
            return Ok(w);
        }
        // A window saved before the fit's binning was adopted: its counts are
        // checked against the binning it was saved with, then recounted.
        let mut legacy = vec![0.0; r.counts.len()];
        let mut members = vec![0u32; r.counts.len()];
        for (&x, &weight) in w.values.iter().zip(&w.weights) {
            let k = w.legacy_bin(x);
            legacy[k] += weight;
            members[k] += 1;
        }
        let consistent_before = r
            .counts
            .iter()
            .zip(&legacy)
            .zip(&members)
            .all(|((&c, &s), &m)| {
                if m == 0 {
                    c == 0.0
                } else {
                    (c - s).abs() <= COUNT_TOLERANCE * total
                }
            });
        if !consistent_before {
            return Err(Error::InvalidState {
                reason: "the window's counts differ from its values",
            });
        }
        w.counts = sums;
        Ok(w)
    }
}

/// The rounding a saved bin count may carry, relative to the window's total weight.
const COUNT_TOLERANCE: f64 = 1e-6;

impl Window {
    /// An empty window of `capacity` points over `bins` equal-width bins on
    /// `[low, high]`, with equal weights or a decay half-life.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCount`] for a zero or too large capacity or zero bins,
    /// [`Error::NonFiniteParameter`] / [`Error::ParameterOutOfRange`] for a bad grid,
    /// [`Error::NonPositiveParameter`] for a bad half-life.
    pub(crate) fn new(
        capacity: usize,
        bins: usize,
        low: f64,
        high: f64,
        half_life: Option<f64>,
    ) -> Result<Self> {
        if capacity == 0 || capacity > MAX_WINDOW {
            return Err(Error::InvalidCount {
                name: "window",
                value: capacity,
                expected: "in [1, 2^32 - 2]",
            });
        }
        if bins == 0 {
            return Err(Error::InvalidCount {
                name: "bins",
                value: bins,
                expected: ">= 1",
            });
        }
        let decay_rate = match half_life {
            Some(h) => 1.0 / super::config::check_half_life(h)?,
            None => 0.0,
        };
        // The ring grows as it fills (a window may be configured far larger than the
        // data it will ever see); once full it never allocates again.
        let initial = capacity.min(INITIAL_CAPACITY);
        let placeholder = BodyEstimator::new(0.0, 1.0, bins)?;
        let mut w = Self {
            capacity,
            decay_rate,
            clock: 0.0,
            values: Vec::with_capacity(initial),
            weights: Vec::with_capacity(initial),
            start: 0,
            len: 0,
            low: 0.0,
            high: 1.0,
            inv_width: bins as f64,
            bins_of_fit: placeholder,
            guard: placeholder.guard(),
            counts: vec![0.0; bins],
            members: vec![0; bins],
            bin_of: Vec::with_capacity(initial),
            next: Vec::with_capacity(initial),
            prev: Vec::with_capacity(initial),
            first: vec![NIL; bins],
            last: vec![NIL; bins],
        };
        w.set_grid(low, high)?;
        Ok(w)
    }

    /// Checks a restored window against the settings it must have been built with
    /// (capacity, bins and half-life); the decay rate is then set to exactly the
    /// one they give.
    pub(crate) fn check_settings(
        &mut self,
        capacity: usize,
        bins: usize,
        half_life: Option<f64>,
    ) -> Result<()> {
        let rate = match half_life {
            Some(h) => 1.0 / h,
            None => 0.0,
        };
        // JSON may not give back the last bit of the saved rate.
        let close = (self.decay_rate - rate).abs() <= 1e-12 * rate;
        if self.capacity != capacity || self.counts.len() != bins || !close {
            return Err(Error::InvalidState {
                reason: "the window's capacity, bins or decay differ from the settings",
            });
        }
        self.decay_rate = rate;
        Ok(())
    }

    fn set_grid(&mut self, low: f64, high: f64) -> Result<()> {
        let inv_width = crate::dist::binned::check_grid(low, high, self.counts.len())?;
        let bins_of_fit = BodyEstimator::new(low, high, self.counts.len())?;
        self.low = low;
        self.high = high;
        self.inv_width = inv_width;
        self.bins_of_fit = bins_of_fit;
        self.guard = bins_of_fit.guard();
        Ok(())
    }

    /// The number of points in the window.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The grid `(low, high)`.
    pub(crate) fn grid(&self) -> (f64, f64) {
        (self.low, self.high)
    }

    /// The number of bins.
    #[cfg(test)]
    pub(crate) fn bins(&self) -> usize {
        self.counts.len()
    }

    /// Whether points carry decay weights.
    pub(crate) fn is_weighted(&self) -> bool {
        self.decay_rate > 0.0
    }

    /// The weighted count of each bin (points outside the grid in the edge bins). With
    /// decay the counts are in the raw-weight scale: only their ratios mean anything.
    pub(crate) fn counts(&self) -> &[f64] {
        &self.counts
    }

    /// The bin of `x`, edge bins for points outside the grid (and NaN in the first):
    /// the bin the SBP fit counts it in and the body's density is read from
    /// ([`BodyEstimator`]'s, exact at the edges). Monotone in `x`, which is what the
    /// tail walks rely on.
    #[inline]
    pub(crate) fn bin(&self, x: f64) -> usize {
        self.bins_of_fit.bin_of(x, &self.guard)
    }

    /// The bin of `x` as windows saved before the fit's binning was adopted computed
    /// it (it may differ for a point within rounding of an edge).
    fn legacy_bin(&self, x: f64) -> usize {
        // `as usize` saturates: negative and NaN give 0, huge values the maximum.
        (((x - self.low) * self.inv_width) as usize).min(self.counts.len() - 1)
    }

    /// Adds `x` (finite) as the newest point, evicting the oldest when full; returns
    /// the evicted value.
    pub(crate) fn push(&mut self, x: f64) -> Option<f64> {
        let weight = if self.decay_rate > 0.0 {
            let w = self.clock.exp2();
            self.clock += self.decay_rate;
            w
        } else {
            1.0
        };
        let bin = self.bin(x);
        let mut evicted = None;
        let slot = if self.len < self.capacity {
            let slot = self.values.len();
            self.values.push(x);
            self.weights.push(weight);
            self.bin_of.push(bin as u32);
            self.next.push(NIL);
            self.prev.push(NIL);
            self.len += 1;
            slot
        } else {
            let slot = self.start;
            self.remove_slot(slot);
            evicted = Some(self.values[slot]);
            self.values[slot] = x;
            self.weights[slot] = weight;
            self.bin_of[slot] = bin as u32;
            // `start < capacity`: a compare instead of a division per step.
            self.start = if self.start + 1 == self.capacity {
                0
            } else {
                self.start + 1
            };
            slot
        };
        self.counts[bin] += weight;
        self.members[bin] += 1;
        self.link(slot, bin);
        if self.clock >= RENORMALISE_AT {
            self.renormalise();
        }
        evicted
    }

    fn remove_slot(&mut self, slot: usize) {
        let bin = self.bin_of[slot] as usize;
        self.members[bin] -= 1;
        // An empty bin is exactly empty: no rounding residue from the subtractions.
        self.counts[bin] = if self.members[bin] == 0 {
            0.0
        } else {
            (self.counts[bin] - self.weights[slot]).max(0.0)
        };
        let (p, n) = (self.prev[slot], self.next[slot]);
        if p == NIL {
            self.first[bin] = n;
        } else {
            self.next[p as usize] = n;
        }
        if n == NIL {
            self.last[bin] = p;
        } else {
            self.prev[n as usize] = p;
        }
    }

    fn link(&mut self, slot: usize, bin: usize) {
        let tail = self.last[bin];
        self.prev[slot] = tail;
        self.next[slot] = NIL;
        if tail == NIL {
            self.first[bin] = slot as u32;
        } else {
            self.next[tail as usize] = slot as u32;
        }
        self.last[bin] = slot as u32;
    }

    /// Multiplies every raw weight and count by the exact power of two that brings the
    /// clock back below 1 (O(W + bins), once every `64 h` points).
    fn renormalise(&mut self) {
        let shift = self.clock.floor();
        let factor = (-shift).exp2();
        self.clock -= shift;
        for w in &mut self.weights {
            *w *= factor;
        }
        for c in &mut self.counts {
            *c *= factor;
        }
    }

    /// The points (value, raw weight), oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        // The slots of `point(0..len)`: from `start` to the end of the ring, then
        // from its beginning (`start < capacity`), without a division per point.
        let end = self.start + self.len;
        let slots =
            (self.start..end.min(self.capacity)).chain(0..end.saturating_sub(self.capacity));
        slots.map(move |slot| (self.values[slot], self.weights[slot]))
    }

    /// The raw weight of the newest point (`None` for an empty window).
    pub(crate) fn newest_weight(&self) -> Option<f64> {
        self.len.checked_sub(1).map(|i| self.point(i).1)
    }

    /// The `i`-th point (value, raw weight), oldest first; `i < len()`.
    #[inline]
    pub(crate) fn point(&self, i: usize) -> (f64, f64) {
        let slot = (self.start + i) % self.capacity;
        (self.values[slot], self.weights[slot])
    }

    /// Multiplies every value and the grid by `factor` (positive, finite) and
    /// recounts: O(W + bins). On error (a grid that would not be finite or
    /// resolvable) the window is unchanged.
    pub(crate) fn rescale(&mut self, factor: f64) -> Result<()> {
        let (low, high) = (self.low * factor, self.high * factor);
        if !(factor > 0.0 && low.is_finite() && high.is_finite() && low < high) {
            return Err(Error::ParameterOutOfRange {
                name: "factor",
                value: factor,
                expected: "a positive factor that keeps the grid finite",
            });
        }
        // Check the grid first so that a failure leaves the values alone.
        let (old_low, old_high) = (self.low, self.high);
        self.set_grid(low, high)?;
        self.set_grid(old_low, old_high)?;
        for i in 0..self.len {
            let slot = (self.start + i) % self.capacity;
            self.values[slot] = (self.values[slot] * factor).clamp(-f64::MAX, f64::MAX);
        }
        self.rebin(low, high)
    }

    /// Moves the grid to `[low, high]` and recounts: O(W + bins).
    ///
    /// # Errors
    ///
    /// As [`Window::new`] for the grid; on error the window is unchanged.
    pub(crate) fn rebin(&mut self, low: f64, high: f64) -> Result<()> {
        self.set_grid(low, high)?;
        self.counts.fill(0.0);
        self.members.fill(0);
        self.first.fill(NIL);
        self.last.fill(NIL);
        for i in 0..self.len {
            let slot = (self.start + i) % self.capacity;
            let bin = self.bin(self.values[slot]);
            self.bin_of[slot] = bin as u32;
            self.counts[bin] += self.weights[slot];
            self.members[bin] += 1;
            self.link(slot, bin);
        }
        Ok(())
    }

    /// Appends the excesses `x - threshold` of the points `x > threshold` and their raw
    /// weights to `excess` and `weights` (cleared first). Walks only the bins from the
    /// top down to the threshold's bin; returns the number of points walked.
    pub(crate) fn upper_exceedances(
        &self,
        threshold: f64,
        excess: &mut Vec<f64>,
        weights: &mut Vec<f64>,
    ) -> usize {
        excess.clear();
        weights.clear();
        let mut visited = 0;
        let stop = self.bin(threshold);
        for bin in (stop..self.counts.len()).rev() {
            let mut slot = self.first[bin];
            while slot != NIL {
                let s = slot as usize;
                visited += 1;
                let x = self.values[s];
                if x > threshold {
                    excess.push(x - threshold);
                    weights.push(self.weights[s]);
                }
                slot = self.next[s];
            }
        }
        visited
    }

    /// Appends the excesses `threshold - x` of the points `x < threshold` and their raw
    /// weights to `excess` and `weights` (cleared first). Walks only the bins from the
    /// bottom up to the threshold's bin; returns the number of points walked.
    pub(crate) fn lower_exceedances(
        &self,
        threshold: f64,
        excess: &mut Vec<f64>,
        weights: &mut Vec<f64>,
    ) -> usize {
        excess.clear();
        weights.clear();
        let mut visited = 0;
        let stop = self.bin(threshold);
        for bin in 0..=stop {
            let mut slot = self.first[bin];
            while slot != NIL {
                let s = slot as usize;
                visited += 1;
                let x = self.values[s];
                if x < threshold {
                    excess.push(threshold - x);
                    weights.push(self.weights[s]);
                }
                slot = self.next[s];
            }
        }
        visited
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    /// The brute-force statistics of the last `capacity` pushes.
    fn brute(history: &[f64], capacity: usize, w: &Window) -> (Vec<f64>, Vec<f64>) {
        let start = history.len().saturating_sub(capacity);
        let kept = &history[start..];
        let mut counts = vec![0.0; w.bins()];
        for &x in kept {
            counts[w.bin(x)] += 1.0;
        }
        (kept.to_vec(), counts)
    }

    fn sorted(mut v: Vec<f64>) -> Vec<f64> {
        v.sort_by(f64::total_cmp);
        v
    }

    #[test]
    fn counts_and_exceedances_match_brute_force_while_sliding() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut w = Window::new(50, 10, -1.0, 1.0, None).unwrap();
        let mut history = Vec::new();
        let (mut ex, mut wt) = (Vec::new(), Vec::new());
        for step in 0..400 {
            // Some points fall outside the grid, into the edge bins.
            let x: f64 = rng.random_range(-1.5..1.5);
            w.push(x);
            history.push(x);
            let (kept, counts) = brute(&history, 50, &w);
            assert_eq!(w.counts(), &counts[..], "step {step}");
            assert_eq!(w.len(), kept.len());
            let ordered: Vec<f64> = w.iter().map(|(x, _)| x).collect();
            assert_eq!(ordered, kept);
            for &t in &[-1.2, -0.55, 0.0, 0.3, 0.97, 1.3] {
                w.upper_exceedances(t, &mut ex, &mut wt);
                let want: Vec<f64> = kept.iter().filter(|&&x| x > t).map(|&x| x - t).collect();
                assert_eq!(sorted(ex.clone()), sorted(want), "upper {t} at {step}");
                assert!(wt.iter().all(|&v| v == 1.0));
                w.lower_exceedances(t, &mut ex, &mut wt);
                let want: Vec<f64> = kept.iter().filter(|&&x| x < t).map(|&x| t - x).collect();
                assert_eq!(sorted(ex.clone()), sorted(want), "lower {t} at {step}");
            }
        }
    }

    #[test]
    fn rebin_equals_a_fresh_window_fed_the_same_points() {
        let mut rng = StdRng::seed_from_u64(3);
        let mut w = Window::new(64, 8, 0.0, 1.0, None).unwrap();
        let mut history = Vec::new();
        for _ in 0..200 {
            let x: f64 = rng.random_range(-3.0..3.0);
            w.push(x);
            history.push(x);
        }
        w.rebin(-3.0, 3.0).unwrap();
        let mut fresh = Window::new(64, 8, -3.0, 3.0, None).unwrap();
        for &x in &history[history.len() - 64..] {
            fresh.push(x);
        }
        assert_eq!(w.counts(), fresh.counts());
        let (mut a, mut b, mut wa, mut wb) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        w.upper_exceedances(1.0, &mut a, &mut wa);
        fresh.upper_exceedances(1.0, &mut b, &mut wb);
        assert_eq!(a, b, "same points in the same order");
        assert!(w.rebin(1.0, 1.0).is_err());
        assert!(w.rebin(f64::NAN, 1.0).is_err());
        assert_eq!(w.grid(), (-3.0, 3.0), "a failed rebin leaves the grid");
    }

    #[test]
    fn decay_weights_are_powers_of_two_of_the_age_across_renormalisation() {
        let h = 2.5;
        let mut w = Window::new(40, 4, 0.0, 4.0, Some(h)).unwrap();
        let mut rng = StdRng::seed_from_u64(11);
        // 64 h = 160 points per renormalisation: cross it several times.
        for step in 0..1000 {
            w.push(rng.random_range(0.0..4.0));
            let pts: Vec<(f64, f64)> = w.iter().collect();
            let newest = pts.last().unwrap().1;
            for (age, &(_, wt)) in pts.iter().rev().enumerate() {
                let rel = wt / newest;
                let want = (-(age as f64) / h).exp2();
                assert!((rel / want - 1.0).abs() < 1e-12, "step {step} age {age}");
            }
            // Counts are the sums of the raw weights per bin.
            let mut counts = [0.0; 4];
            for &(x, wt) in &pts {
                counts[w.bin(x)] += wt;
            }
            for (c, b) in w.counts().iter().zip(counts) {
                assert!(
                    (c - b).abs() <= 1e-9 * b.max(1.0),
                    "step {step}: {c} vs {b}"
                );
            }
            assert!(w.clock < RENORMALISE_AT);
        }
    }

    #[test]
    fn serde_rebuilds_identical_lists() {
        let mut rng = StdRng::seed_from_u64(5);
        for half_life in [None, Some(7.0)] {
            let mut w = Window::new(30, 6, -1.0, 1.0, half_life).unwrap();
            for _ in 0..77 {
                w.push(rng.random_range(-1.2..1.2));
            }
            let json = serde_json::to_string(&w).unwrap();
            let mut back: Window = serde_json::from_str(&json).unwrap();
            // Slots are renumbered (oldest first) but every statistic is identical.
            assert_eq!(back.counts(), w.counts());
            let (mut a, mut b, mut wa, mut wb) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for t in [-0.8, 0.0, 0.5] {
                w.lower_exceedances(t, &mut a, &mut wa);
                back.lower_exceedances(t, &mut b, &mut wb);
                assert_eq!((&a, &wa), (&b, &wb));
                w.upper_exceedances(t, &mut a, &mut wa);
                back.upper_exceedances(t, &mut b, &mut wb);
                assert_eq!((&a, &wa), (&b, &wb));
            }
            // And they keep evolving identically.
            for _ in 0..50 {
                let x = rng.random_range(-1.2..1.2);
                w.push(x);
                back.push(x);
            }
            assert_eq!(back.counts(), w.counts());
            assert_eq!(
                back.iter().collect::<Vec<_>>(),
                w.iter().collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn corrupt_serialised_windows_are_rejected() {
        let mut w = Window::new(4, 2, 0.0, 1.0, None).unwrap();
        w.push(0.5);
        let json = serde_json::to_string(&w).unwrap();
        let bad = json.replace("\"capacity\":4", "\"capacity\":0");
        assert!(serde_json::from_str::<Window>(&bad).is_err());
        let bad = json.replace("\"counts\":[0.0,1.0]", "\"counts\":[-1.0,1.0]");
        assert!(serde_json::from_str::<Window>(&bad).is_err(), "{json}");
        let bad = json.replace("\"values\":[0.5]", "\"values\":[0.5,1,2,3,4]");
        assert!(serde_json::from_str::<Window>(&bad).is_err());
    }

    #[test]
    fn points_are_binned_as_the_body_bins_them_and_old_saves_still_load() {
        // Points on the edges, where `(x - low) / width` may round to the other side.
        let (low, high, bins) = (-4.935662049799552, 4.480823767226224, 100);
        let body = crate::Binned::equal_width(low, high, vec![1.0; bins]).unwrap();
        let mut w = Window::new(400, bins, low, high, None).unwrap();
        let mut differ = None;
        for &x in &body.edges()[1..bins] {
            w.push(x);
            let k = w.bin(x);
            // The body's bin: edges[k] <= x < edges[k + 1].
            assert!(body.edges()[k] <= x && x < body.edges()[k + 1], "{x}");
            if w.legacy_bin(x) != k {
                differ = Some(x);
            }
        }
        let x = differ.expect("some edge is binned differently by the old rule");
        // A window saved with the old binning: its counts follow the old rule.
        let mut repr = WindowRepr::from(w.clone());
        repr.counts.fill(0.0);
        for &(v, _) in &w.iter().collect::<Vec<_>>() {
            repr.counts[w.legacy_bin(v)] += 1.0;
        }
        assert_ne!(repr.counts, w.counts());
        let back = Window::try_from(repr.clone()).unwrap();
        assert_eq!(back.counts(), w.counts(), "recounted with the body's bins");
        // Counts that follow neither rule are still rejected.
        repr.counts[w.bin(x)] += 1.0;
        assert!(Window::try_from(repr).is_err());
    }

    #[test]
    fn bad_construction_is_an_error() {
        assert!(Window::new(0, 2, 0.0, 1.0, None).is_err());
        assert!(Window::new(2, 0, 0.0, 1.0, None).is_err());
        assert!(Window::new(2, 2, 1.0, 0.0, None).is_err());
        assert!(Window::new(2, 2, 0.0, f64::INFINITY, None).is_err());
        assert!(Window::new(2, 2, -f64::MAX, f64::MAX, None).is_err());
        assert!(Window::new(2, 2, 0.0, 1.0, Some(0.0)).is_err());
        assert!(Window::new(2, 2, 0.0, 1.0, Some(f64::NAN)).is_err());
    }
}
