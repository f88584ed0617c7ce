//! Anomalies injected into a series at known positions with known sizes, for testing
//! detectors.

use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::paper::Spike;
use crate::error::{Error, Result, all_finite, finite};

/// Direction of injected anomalies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Direction {
    /// Upward only.
    Up,
    /// Downward only.
    Down,
    /// Each one up or down with probability 1/2.
    #[default]
    Both,
}

/// Where and how large the injected anomalies are.
///
/// `count` positions are drawn uniformly among the configurations with every position
/// `>= skip` (so a detector has history before the first one) and any two positions at
/// least `min_gap` apart; each gets `± size`, `size` uniform in `[min_size, max_size]`.
///
/// Defaults: 10 anomalies of size 5 to 10, both directions, `min_gap` 20, `skip` 100.
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use rand::SeedableRng;
/// use tailcast::synthetic::{AnomalyConfig, Direction};
/// let mut xs = vec![0.0; 1000];
/// let config = AnomalyConfig::default().count(5).sizes(3.0, 3.0).direction(Direction::Up);
/// let injected = config.inject(&mut xs, &mut rand::rngs::StdRng::seed_from_u64(4))?;
/// assert_eq!(injected.len(), 5);
/// for a in &injected {
///     assert_eq!(xs[a.index], 3.0);
///     assert!(a.index >= 100);
/// }
/// assert!(injected.windows(2).all(|w| w[1].index >= w[0].index + 20));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyConfig {
    count: usize,
    min_size: f64,
    max_size: f64,
    direction: Direction,
    min_gap: usize,
    skip: usize,
}

impl Default for AnomalyConfig {
    fn default() -> Self {
        Self {
            count: 10,
            min_size: 5.0,
            max_size: 10.0,
            direction: Direction::Both,
            min_gap: 20,
            skip: 100,
        }
    }
}

impl AnomalyConfig {
    /// Number of anomalies.
    pub fn count(mut self, count: usize) -> Self {
        self.count = count;
        self
    }

    /// Range of the absolute sizes, `0 <= min <= max`.
    pub fn sizes(mut self, min: f64, max: f64) -> Self {
        self.min_size = min;
        self.max_size = max;
        self
    }

    /// Up, down or both.
    pub fn direction(mut self, direction: Direction) -> Self {
        self.direction = direction;
        self
    }

    /// Minimum distance between two anomalies (0 and 1 both mean "distinct").
    pub fn min_gap(mut self, gap: usize) -> Self {
        self.min_gap = gap;
        self
    }

    /// Positions before this index get no anomaly.
    pub fn skip(mut self, skip: usize) -> Self {
        self.skip = skip;
        self
    }

    /// Adds the anomalies to `series` in place and returns them sorted by index.
    ///
    /// # Errors
    ///
    /// [`Error::NonFiniteValue`] for a non-finite series value,
    /// [`Error::NonFiniteParameter`] or [`Error::ParameterOutOfRange`] for sizes that are
    /// not `0 <= min <= max < ∞`, and [`Error::InvalidCount`] if `count` anomalies do
    /// not fit after `skip` with the required gap.
    pub fn inject<R: rand::Rng + ?Sized>(
        &self,
        series: &mut [f64],
        rng: &mut R,
    ) -> Result<Vec<Spike>> {
        all_finite("series", series)?;
        finite("min_size", self.min_size)?;
        finite("max_size", self.max_size)?;
        if !(self.min_size >= 0.0) {
            return Err(Error::ParameterOutOfRange {
                name: "min_size",
                value: self.min_size,
                expected: ">= 0",
            });
        }
        if !(self.max_size >= self.min_size) {
            return Err(Error::ParameterOutOfRange {
                name: "max_size",
                value: self.max_size,
                expected: ">= min_size",
            });
        }
        if self.count == 0 {
            return Ok(Vec::new());
        }
        let gap = self.min_gap.max(1);
        let room = series.len().saturating_sub(self.skip);
        // Positions p_0 < ... < p_{c-1} with gaps >= g correspond one to one to c
        // distinct values in 0..room - (c-1)(g-1), via p_i = skip + s_(i) + i(g-1).
        let slack = (self.count - 1).saturating_mul(gap - 1);
        let free = room.checked_sub(slack).filter(|&f| f >= self.count);
        let Some(free) = free else {
            return Err(Error::InvalidCount {
                name: "count",
                value: self.count,
                expected: "small enough to fit after `skip` with `min_gap` between anomalies",
            });
        };
        let mut picks = rand::seq::index::sample(rng, free, self.count).into_vec();
        picks.sort_unstable();
        let mut out = Vec::with_capacity(self.count);
        for (i, s) in picks.into_iter().enumerate() {
            let index = self.skip + s + i * (gap - 1);
            let magnitude = self.min_size + (self.max_size - self.min_size) * rng.random::<f64>();
            let up = match self.direction {
                Direction::Up => true,
                Direction::Down => false,
                Direction::Both => rng.random::<bool>(),
            };
            let size = if up { magnitude } else { -magnitude };
            series[index] += size;
            out.push(Spike { index, size });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn tight_packing_is_possible_and_overpacking_is_an_error() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        // 10 slots after skip 0, gap 3: at most 4 anomalies (0, 3, 6, 9).
        let mut xs = vec![0.0; 10];
        let c = AnomalyConfig::default().skip(0).min_gap(3).count(4);
        let got = c.inject(&mut xs, &mut rng).unwrap();
        let idx: Vec<usize> = got.iter().map(|a| a.index).collect();
        assert_eq!(idx, vec![0, 3, 6, 9]);
        let mut xs = vec![0.0; 10];
        assert!(matches!(
            c.count(5).inject(&mut xs, &mut rng),
            Err(Error::InvalidCount { name: "count", .. })
        ));
        let mut short = vec![0.0; 50];
        assert!(
            AnomalyConfig::default()
                .inject(&mut short, &mut rng)
                .is_err()
        );
    }

    #[test]
    fn bad_sizes_and_series_are_named() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        let mut xs = vec![0.0; 1000];
        assert!(matches!(
            AnomalyConfig::default()
                .sizes(2.0, 1.0)
                .inject(&mut xs, &mut rng),
            Err(Error::ParameterOutOfRange {
                name: "max_size",
                ..
            })
        ));
        xs[3] = f64::NAN;
        assert!(matches!(
            AnomalyConfig::default().inject(&mut xs, &mut rng),
            Err(Error::NonFiniteValue {
                name: "series",
                index: 3,
                ..
            })
        ));
    }
}
