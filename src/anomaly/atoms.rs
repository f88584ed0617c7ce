//! Atoms: values that recur exactly (zeros of a count series, the integer counts
//! themselves, a sensor stuck on one reading), whose probability the continuous
//! forecast cannot express.
//!
//! A spliced binned-Pareto forecast has a density: a value repeated a third of the
//! time is a spike of mass the histogram smears over a bin and the tail fit may put
//! just outside a threshold, so an ordinary zero can get a vanishing p-value. The
//! detector therefore counts how often each recent value occurred exactly, and for a
//! value that makes up a share `f >= MIN_SHARE` of the recent observations (and
//! occurred at least [`MIN_COUNT`] times, recently weighted) it uses
//! the *mid-p-value*: the forecast's tail probability, but at least half the atom's
//! empirical mass on each side — `max(p, f/2)` one-sided, `max(p, f)` two-sided
//! (`P(Y < y) + P(Y = y)/2 >= f/2`). A value that is 1 % or more of recent data is
//! therefore never flagged at a risk below `f`; a value that occurred only a few
//! times (a repeated anomaly) is not an atom and is scored by the forecast alone.
//!
//! The counts are kept for [`SLOTS`] values with the space-saving rule (a value not
//! in the table replaces the one with the smallest count) and forgotten with a
//! half-life of one forecaster window, so a frequent value always holds a slot and
//! the table costs a few comparisons per observation, with no allocation.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Values tracked at once.
pub(crate) const SLOTS: usize = 8;

/// The share of recent observations from which a value is an atom.
pub(crate) const MIN_SHARE: f64 = 0.01;

/// The (decayed) number of recent occurrences from which a value can be an atom.
pub(crate) const MIN_COUNT: f64 = 5.0;

/// The raw weight at which the counts are rescaled back to weight 1.
const RENORMALISE_AT: f64 = 1e100;

/// Recent exact values and their decayed counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "AtomsRepr")]
pub(crate) struct Atoms {
    values: [f64; SLOTS],
    /// Decayed counts in raw units (growing with `weight`); 0 for an empty slot.
    counts: [f64; SLOTS],
    total: f64,
    weight: f64,
    /// The half-life of the counts, in observations.
    half_life: f64,
    #[serde(skip)]
    growth: f64,
}

#[derive(Deserialize)]
struct AtomsRepr {
    values: [f64; SLOTS],
    counts: [f64; SLOTS],
    total: f64,
    weight: f64,
    half_life: f64,
}

impl TryFrom<AtomsRepr> for Atoms {
    type Error = Error;
    fn try_from(r: AtomsRepr) -> Result<Self> {
        let fresh = Atoms::new(r.half_life)?;
        let ok = |x: f64| x.is_finite() && x >= 0.0;
        let sum: f64 = r.counts.iter().sum();
        if !(r.counts.iter().all(|&c| ok(c))
            && r.values.iter().all(|v| v.is_finite())
            && ok(r.total)
            && sum <= r.total * (1.0 + 1e-9) + 1e-300
            && r.weight.is_finite()
            && (1.0..=RENORMALISE_AT).contains(&r.weight))
        {
            return Err(Error::InvalidState {
                reason: "the atom counts are inconsistent",
            });
        }
        Ok(Self {
            values: r.values,
            counts: r.counts,
            total: r.total,
            weight: r.weight,
            ..fresh
        })
    }
}

impl Atoms {
    /// An empty table whose counts halve every `half_life` observations (>= 1).
    pub(crate) fn new(half_life: f64) -> Result<Self> {
        if !(half_life >= 1.0 && half_life.is_finite()) {
            return Err(Error::ParameterOutOfRange {
                name: "atoms.half_life",
                value: half_life,
                expected: "a finite number >= 1",
            });
        }
        Ok(Self {
            values: [0.0; SLOTS],
            counts: [0.0; SLOTS],
            total: 0.0,
            weight: 1.0,
            half_life,
            growth: (1.0 / half_life).exp2(),
        })
    }

    /// This table with its counts but the given half-life (to compare settings).
    pub(crate) fn with_half_life(&self, half_life: f64) -> Result<Self> {
        Ok(Self {
            values: self.values,
            counts: self.counts,
            total: self.total,
            weight: self.weight,
            ..Self::new(half_life)?
        })
    }

    /// The share of recent observations exactly equal to `y` (0 if untracked).
    #[inline]
    #[cfg(test)]
    pub(crate) fn share(&self, y: f64) -> f64 {
        if !(self.total > 0.0) {
            return 0.0;
        }
        for (v, c) in self.values.iter().zip(&self.counts) {
            if *v == y && *c > 0.0 {
                // A value seen only a few times is not an atom, however short
                // the memory: a repeated anomaly must stay an anomaly.
                let recent = c / self.weight;
                return if recent >= MIN_COUNT {
                    c / self.total
                } else {
                    0.0
                };
            }
        }
        0.0
    }

    /// The share of recent observations exactly equal to `y` before counting it
    /// (as the test-only `share`), then counts it (as [`record`](Self::record)):
    /// one pass over the table.
    #[inline]
    pub(crate) fn share_then_record(&mut self, y: f64) -> f64 {
        if !y.is_finite() {
            return 0.0;
        }
        let mut smallest = 0;
        let mut found = None;
        for i in 0..SLOTS {
            if self.values[i] == y && self.counts[i] > 0.0 {
                found = Some(i);
                break;
            }
            if self.counts[i] < self.counts[smallest] {
                smallest = i;
            }
        }
        let share = match found {
            Some(i) if self.counts[i] / self.weight >= MIN_COUNT => self.counts[i] / self.total,
            _ => 0.0,
        };
        match found {
            Some(i) => self.counts[i] += self.weight,
            None => {
                self.values[smallest] = y;
                self.counts[smallest] = self.weight;
            }
        }
        self.total += self.weight;
        self.weight *= self.growth;
        if self.weight >= RENORMALISE_AT {
            self.renormalise();
        }
        share
    }

    fn renormalise(&mut self) {
        let f = 1.0 / self.weight;
        self.counts.iter_mut().for_each(|c| *c *= f);
        self.total *= f;
        self.weight = 1.0;
    }

    /// Counts a finite observation.
    #[inline]
    pub(crate) fn record(&mut self, y: f64) {
        self.share_then_record(y);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frequent_value_has_its_share_and_a_rare_one_none() {
        let mut a = Atoms::new(1000.0).unwrap();
        for t in 0..5000 {
            // 30 % zeros, the rest distinct values.
            let y = if t % 10 < 3 { 0.0 } else { t as f64 + 0.5 };
            a.record(y);
        }
        assert!((a.share(0.0) - 0.3).abs() < 0.02, "{}", a.share(0.0));
        assert!(a.share(4999.5) < 1e-3);
        assert_eq!(a.share(-7.0), 0.0);
    }

    #[test]
    fn an_old_atom_is_forgotten() {
        let mut a = Atoms::new(100.0).unwrap();
        for _ in 0..500 {
            a.record(1.0);
        }
        assert!(a.share(1.0) > 0.99);
        for t in 0..2000 {
            a.record(t as f64 + 0.25);
        }
        assert!(a.share(1.0) < MIN_SHARE);
    }

    #[test]
    fn serde_round_trip_and_bad_states() {
        let mut a = Atoms::new(50.0).unwrap();
        for t in 0..300 {
            a.record((t % 7) as f64);
        }
        let json = serde_json::to_string(&a).unwrap();
        let b: Atoms = serde_json::from_str(&json).unwrap();
        assert_eq!(a, b);
        let bad = json.replace("\"half_life\":50.0", "\"half_life\":0.0");
        assert!(serde_json::from_str::<Atoms>(&bad).is_err());
    }
}
