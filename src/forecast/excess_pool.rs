//! The newest exceedances of one residual tail, for a window too short to fit it.
//!
//! A window of 100 residuals holds five points beyond a 5 % threshold: too few for a
//! generalized Pareto fit, so the tail used to fall back to the exponential law. On
//! data whose spikes are heavy-tailed (the libspot stream: 10 % Lomax spikes, shape
//! 2) an exponential tail puts ordinary spikes at p ~ 1e-6, and a detector at risk
//! 1e-3 then flagged 3 % of the points. The pool keeps each tail's last
//! [`POOL_LEN`] excesses, each measured beyond the threshold in force when its point
//! entered the window; a tail whose window holds too few exceedances is fitted to
//! them instead. The tail's shape is a property of the noise that changes slowly,
//! so it may be learnt over a longer stretch than the window; the window still
//! sets the threshold and the body.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The excesses a pool keeps: enough for a shape estimate with a standard error
/// near 0.15 at shape 0 (`(1 + ξ)/sqrt(n)`), few enough to follow a change of the
/// tail within `POOL_LEN / mass` observations (1,280 at a 5 % tail).
pub(crate) const POOL_LEN: usize = 64;

/// A ring of the newest excesses (positive, finite), at most [`POOL_LEN`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct ExcessPool {
    excesses: Vec<f64>,
    /// Where the next excess goes once the ring is full.
    next: usize,
}

impl ExcessPool {
    /// An empty pool with room for [`POOL_LEN`] excesses, so that pushing never
    /// allocates.
    pub(crate) fn new() -> Self {
        Self {
            excesses: Vec::with_capacity(POOL_LEN),
            next: 0,
        }
    }

    /// Room for [`POOL_LEN`] excesses (a restored pool holds only what it read).
    pub(crate) fn reserve(&mut self) {
        self.excesses
            .reserve(POOL_LEN.saturating_sub(self.excesses.len()));
    }

    /// Keeps `excess` (positive and finite; anything else is ignored), forgetting the
    /// oldest when full.
    #[inline]
    pub(crate) fn push(&mut self, excess: f64) {
        if !(excess > 0.0 && excess.is_finite()) {
            return;
        }
        if self.excesses.len() < POOL_LEN {
            self.excesses.push(excess);
        } else {
            self.excesses[self.next] = excess;
        }
        self.next = (self.next + 1) % POOL_LEN;
    }

    /// The excesses kept, in no particular order.
    pub(crate) fn excesses(&self) -> &[f64] {
        &self.excesses
    }

    /// Multiplies every excess by `factor` (the residuals' scale changed).
    pub(crate) fn rescale(&mut self, factor: f64) {
        for x in &mut self.excesses {
            *x = (*x * factor).clamp(f64::MIN_POSITIVE, f64::MAX);
        }
    }

    /// Checks a restored pool.
    pub(crate) fn check(&self) -> Result<()> {
        let bad = |reason| Err(Error::InvalidState { reason });
        if self.excesses.len() > POOL_LEN || self.next >= POOL_LEN {
            return bad("an excess pool is longer than its capacity");
        }
        if self.excesses.len() < POOL_LEN && self.next != self.excesses.len() {
            return bad("an excess pool's ring position does not match its length");
        }
        if !self.excesses.iter().all(|&x| x > 0.0 && x.is_finite()) {
            return bad("an excess pool holds a non-positive or non-finite excess");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_excesses() {
        let mut pool = ExcessPool::new();
        for i in 1..=(POOL_LEN + 3) {
            pool.push(i as f64);
        }
        pool.push(f64::NAN);
        pool.push(-1.0);
        let mut kept = pool.excesses().to_vec();
        kept.sort_by(f64::total_cmp);
        let newest: Vec<f64> = (4..=(POOL_LEN + 3)).map(|i| i as f64).collect();
        assert_eq!(kept, newest);
        assert!(pool.check().is_ok());
        pool.rescale(2.0);
        assert!(pool.excesses().iter().all(|&x| x >= 8.0));
    }

    #[test]
    fn a_bad_restored_pool_is_rejected() {
        let pool = ExcessPool {
            excesses: vec![1.0, 0.0],
            next: 2,
        };
        assert!(pool.check().is_err());
        let pool = ExcessPool {
            excesses: vec![1.0],
            next: 0,
        };
        assert!(pool.check().is_err());
    }
}
