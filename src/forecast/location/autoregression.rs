//! The robust autoregression: `z_t = c + Σ φ_i z_{t-i}` on the cleaned series,
//! refitted by Huber IRLS on a ring of the last cleaned values, with its small
//! numerics (a Cholesky solve with a ridge, the companion matrix's spectral radius,
//! and the shrinking of explosive fits to a unit root).

use serde::{Deserialize, Serialize};

use super::{LocationModel, MAX_LAGS, Tuning};
use crate::checked::Check;
use crate::error::{Error, Result};
use crate::numeric::saturate;

/// The history ring is grown as it fills, from at most this many slots, so that a
/// huge window costs nothing until the data arrive.
const INITIAL_CAPACITY: usize = 4096;

/// The warm-up data are winsorised at this many rejection points (`START_STEP_CLIP ·
/// k · s` per step) before the first fit, so that it sees no raw spikes while real
/// moves of a few scales pass.
const START_STEP_CLIP: f64 = 4.0;

/// Huber IRLS iterations of the first robust fit, from the least-squares start.
const START_IRLS_ITERATIONS: usize = 4;

/// Huber IRLS iterations of each periodic refit, warm-started from the previous
/// coefficients (which are already close).
const REFIT_IRLS_ITERATIONS: usize = 2;

/// `2^-72`: when the prediction overflows it is redone in this scale, which leaves
/// every deviation below `2^-71 MAX` (see [`Ar::predict`]).
const PREDICT_SCALE: f64 = 1.0 / 4_722_366_482_869_645_213_696.0;
/// `2^72`, the inverse of [`PREDICT_SCALE`] (exact: both are powers of two).
const PREDICT_UNSCALE: f64 = 4_722_366_482_869_645_213_696.0;

/// Relative ridge added to the normal equations' diagonal (per unit of mean
/// diagonal): far below the data's own conditioning, enough to make a singular
/// system (collinear lags on a constant stretch) factorise.
const RIDGE: f64 = 1e-10;
/// Absolute ridge, for an all-zero system.
const RIDGE_FLOOR: f64 = 1e-300;

/// Steps of the power iteration that estimates the spectral radius: the estimate's
/// error is about `ln(eigenvector conditioning) / RADIUS_STEPS`.
const RADIUS_STEPS: usize = 1000;

/// A spectral radius up to `1 + UNIT_ROOT_TOLERANCE` counts as a unit root (kept):
/// the estimate is within about `1/RADIUS_STEPS · ln(conditioning)` of the truth, and a
/// random walk's unit root must not be mistaken for an explosive one.
const UNIT_ROOT_TOLERANCE: f64 = 5e-3;

/// The radius assumed when the power iteration overflows (any large value shrinks
/// the fit to near zero; this one keeps the divisions `1/ρ^i` finite for 64 lags).
const RADIUS_OVERFLOW: f64 = 1e3;

/// The fewest cleaned values a fit of `lags` lags needs: two per parameter
/// (`lags` coefficients and the intercept), so that the IRLS is overdetermined.
fn min_fit_len(lags: usize) -> usize {
    2 * (lags + 1)
}

/// The robust autoregression's state: coefficients in centred form and the ring of
/// cleaned values it is fitted on.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "ArRepr", into = "ArRepr")]
pub(super) struct Ar {
    /// Centre `m`: predictions are `m + intercept + Σ φ_i (z_{t-i} - m)`.
    pub(super) centre: f64,
    pub(super) intercept: f64,
    pub(super) phi: Vec<f64>,
    /// Cleaned values, ring of capacity `window + lags`.
    history: Vec<f64>,
    /// Slot of the oldest value.
    start: usize,
    capacity: usize,
    refit_every: usize,
    since_fit: usize,
    /// IRLS normal equations, `(lags + 1)^2` and `lags + 1` (scratch).
    gram: Vec<f64>,
    rhs: Vec<f64>,
    /// The history in time order, centred and scaled, read once per refit instead
    /// of through the ring at every iteration (scratch; it grows with the history
    /// and then allocates no more).
    ordered: Vec<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ArRepr {
    centre: f64,
    intercept: f64,
    phi: Vec<f64>,
    /// Oldest first.
    history: Vec<f64>,
    capacity: usize,
    refit_every: usize,
    since_fit: usize,
}

impl From<Ar> for ArRepr {
    fn from(a: Ar) -> Self {
        let history = (0..a.history.len()).map(|i| a.at(i)).collect();
        Self {
            centre: a.centre,
            intercept: a.intercept,
            phi: a.phi,
            history,
            capacity: a.capacity,
            refit_every: a.refit_every,
            since_fit: a.since_fit,
        }
    }
}

impl TryFrom<ArRepr> for Ar {
    type Error = Error;
    fn try_from(r: ArRepr) -> Result<Self> {
        LocationModel::Autoregressive { lags: r.phi.len() }.check()?;
        if r.history.len() < r.phi.len() || r.history.len() > r.capacity {
            return Err(Error::LengthMismatch {
                name: "history",
                expected: r.capacity,
                got: r.history.len(),
            });
        }
        if r.refit_every == 0 {
            return Err(Error::InvalidCount {
                name: "refit_every",
                value: 0,
                expected: ">= 1",
            });
        }
        if r.since_fit >= r.refit_every {
            return Err(Error::InvalidState {
                reason: "the autoregression's refit is overdue",
            });
        }
        crate::error::all_finite("phi", &r.phi)?;
        crate::error::all_finite("history", &r.history)?;
        crate::error::finite("centre", r.centre)?;
        crate::error::finite("intercept", r.intercept)?;
        let p = r.phi.len();
        // Grown as it fills, like the residual window.
        let mut history = Vec::with_capacity(r.capacity.min(INITIAL_CAPACITY).max(r.history.len()));
        history.extend_from_slice(&r.history);
        Ok(Self {
            centre: r.centre,
            intercept: r.intercept,
            phi: r.phi,
            history,
            start: 0,
            capacity: r.capacity,
            refit_every: r.refit_every,
            since_fit: r.since_fit,
            gram: vec![0.0; (p + 1) * (p + 1)],
            rhs: vec![0.0; p + 1],
            ordered: Vec::new(),
        })
    }
}

impl Ar {
    /// A fitted autoregression of `lags` lags on warm-up `data` (time order, NaN =
    /// missing), its history reset to the start of the data so that the filter can
    /// run over them again. `scale` is the starting robust scale.
    pub(super) fn start(
        lags: usize,
        data: &[f64],
        scale: f64,
        tuning: Tuning,
        window: usize,
        refit_every: usize,
    ) -> Self {
        let capacity = window.max(min_fit_len(lags)) + lags;
        // Start from the data winsorised around a running median of changes, missing
        // values carried forward, so the first fit sees no raw spikes.
        let finite: Vec<f64> = data.iter().copied().filter(|x| x.is_finite()).collect();
        let first = finite.first().copied().unwrap_or(0.0);
        let mut cleaned = Vec::with_capacity(data.len());
        let mut last = first;
        let step_clip = START_STEP_CLIP * tuning.clip * scale;
        for &y in data {
            let v = if y.is_finite() {
                last + saturate(y - last).clamp(-step_clip, step_clip)
            } else {
                last
            };
            last = saturate(v);
            cleaned.push(last);
        }
        let keep = cleaned.len().min(capacity);
        // Grown as it fills: the window may be far longer than the data.
        let mut history = Vec::with_capacity(capacity.min(INITIAL_CAPACITY).max(keep));
        history.extend_from_slice(&cleaned[cleaned.len() - keep..]);
        let p = lags;
        let mut ar = Self {
            centre: last,
            intercept: 0.0,
            // A random walk start: the prediction is the last cleaned value.
            phi: {
                let mut phi = vec![0.0; p];
                phi[0] = 1.0;
                phi
            },
            history,
            start: 0,
            capacity,
            refit_every,
            since_fit: 0,
            gram: vec![0.0; (p + 1) * (p + 1)],
            rhs: vec![0.0; p + 1],
            ordered: Vec::new(),
        };
        // Least squares first (all weights 1 via an infinite clip), then Huber.
        ar.fit(f64::INFINITY, tuning, 1);
        ar.fit(scale, tuning, START_IRLS_ITERATIONS);
        // The filter will run over the warm-up data again from its beginning.
        ar.history.clear();
        ar.start = 0;
        let seed = cleaned.len().min(p);
        ar.history.extend_from_slice(&cleaned[..seed]);
        while ar.history.len() < p {
            ar.history.push(first);
        }
        ar
    }

    pub(super) fn lags(&self) -> usize {
        self.phi.len()
    }

    /// The `i`-th value, oldest first.
    #[inline]
    fn at(&self, i: usize) -> f64 {
        let n = self.history.len();
        if n < self.capacity {
            self.history[i]
        } else {
            self.history[(self.start + i) % n]
        }
    }

    #[inline]
    pub(super) fn predict(&self) -> f64 {
        let acc = self.predict_scaled(1.0);
        if acc.is_finite() {
            return acc;
        }
        // Lags of opposite signs near ±MAX overflow their deviations from the centre,
        // and `+inf - inf` would be NaN. Redo the sum scaled down by a power of two
        // (exact, so the value is the one the overflow hid): deviations are then at
        // most 2^-71 MAX, and the sum of 64 terms with |φ_i| <= C(64, i) (the bound
        // at spectral radius 1) stays finite. The caller saturates the result.
        PREDICT_UNSCALE * self.predict_scaled(PREDICT_SCALE)
    }

    /// The prediction times `k` (a power of two), computed in that scale.
    #[inline]
    fn predict_scaled(&self, k: f64) -> f64 {
        let n = self.history.len();
        let centre = k * self.centre;
        let mut acc = centre + k * self.intercept;
        for (i, &phi) in self.phi.iter().enumerate() {
            acc += phi * (k * self.at(n - 1 - i) - centre);
        }
        acc
    }

    /// Moves the centre and every lag by `delta` (a regime change).
    pub(super) fn shift(&mut self, delta: f64) {
        self.centre = saturate(self.centre + delta);
        self.history
            .iter_mut()
            .for_each(|z| *z = saturate(*z + delta));
    }

    /// Checks a restored model against the window and refit period it was started
    /// with (see [`start`](Self::start)).
    pub(super) fn check_config(&self, window: usize, refit_every: usize) -> Result<()> {
        let lags = self.phi.len();
        let capacity = window.max(min_fit_len(lags)).saturating_add(lags);
        if self.capacity != capacity || self.refit_every != refit_every {
            return Err(Error::InvalidState {
                reason: "the autoregression's window or refit period differs from the configuration",
            });
        }
        Ok(())
    }

    /// Appends the cleaned value `z`, refitting when it is due.
    #[inline]
    pub(super) fn push(&mut self, z: f64, scale: f64, tuning: Tuning) {
        if self.history.len() < self.capacity {
            self.history.push(z);
        } else {
            self.history[self.start] = z;
            self.start = (self.start + 1) % self.capacity;
        }
        self.since_fit += 1;
        if self.since_fit >= self.refit_every {
            self.fit(scale, tuning, REFIT_IRLS_ITERATIONS);
        }
    }

    /// Huber IRLS on the cleaned history, warm-started from the current coefficients,
    /// in a centred and scaled space so that huge values cannot overflow the normal
    /// equations. Keeps the old coefficients if the system is degenerate.
    fn fit(&mut self, scale: f64, tuning: Tuning, iterations: usize) {
        self.since_fit = 0;
        let p = self.phi.len();
        let n = self.history.len();
        if n < min_fit_len(p) {
            return;
        }
        let centre = self.at(n - 1);
        let mut spread = 0.0f64;
        for i in 0..n {
            spread = spread.max(saturate(self.at(i) - centre).abs());
        }
        if !(spread > 0.0) || !spread.is_finite() {
            // Constant history: predict the constant.
            self.centre = centre;
            self.intercept = 0.0;
            return;
        }
        let inv = 1.0 / spread;
        let threshold = tuning.clip * scale * inv;
        // Current coefficients in the scaled, re-centred space.
        let mut c =
            (self.intercept + (self.centre - centre) * (1.0 - self.phi.iter().sum::<f64>())) * inv;
        if !c.is_finite() {
            c = 0.0;
        }
        let mut phi_buf = [0.0; MAX_LAGS];
        let phi = &mut phi_buf[..p];
        phi.copy_from_slice(&self.phi);
        let mut z = std::mem::take(&mut self.ordered);
        z.clear();
        let (older, newer) = if n < self.capacity {
            (&self.history[..n], &self.history[..0])
        } else {
            let (a, b) = self.history.split_at(self.start);
            (b, a)
        };
        z.extend(
            older
                .iter()
                .chain(newer)
                .map(|&v| saturate(v - centre) * inv),
        );
        for _ in 0..iterations {
            self.gram.fill(0.0);
            self.rhs.fill(0.0);
            match p {
                1 => normal_equations::<1>(&z, c, phi, threshold, &mut self.gram, &mut self.rhs),
                2 => normal_equations::<2>(&z, c, phi, threshold, &mut self.gram, &mut self.rhs),
                _ => normal_equations_any(&z, c, phi, threshold, &mut self.gram, &mut self.rhs),
            }
            if !solve_spd(&mut self.gram, &mut self.rhs, p + 1) {
                self.ordered = z;
                return;
            }
            c = self.rhs[0];
            phi.copy_from_slice(&self.rhs[1..]);
        }
        self.ordered = z;
        if !(c.is_finite() && phi.iter().all(|x| x.is_finite())) {
            return;
        }
        stabilise(phi);
        self.phi.copy_from_slice(phi);
        self.centre = centre;
        self.intercept = saturate(c * spread);
    }
}

/// Adds the weighted rows of the lagged regression on `z` to the lower triangle of
/// `gram` and to `rhs`, for `P` lags known at compile time.
fn normal_equations<const P: usize>(
    z: &[f64],
    c: f64,
    phi: &[f64],
    threshold: f64,
    gram: &mut [f64],
    rhs: &mut [f64],
) {
    let phi: [f64; P] = phi.try_into().expect("P lags");
    let mut g = [[0.0; 3]; 3];
    let mut r = [0.0; 3];
    for i in 0..=P {
        r[i] = rhs[i];
        for j in 0..=i {
            g[i][j] = gram[i * (P + 1) + j];
        }
    }
    for w in z.windows(P + 1) {
        let y = w[P];
        let mut row = [1.0; 3];
        for i in 0..P {
            row[i + 1] = w[P - 1 - i];
        }
        let fitted = c + phi.iter().zip(&row[1..=P]).map(|(a, b)| a * b).sum::<f64>();
        let e = (y - fitted).abs();
        let wt = if e > threshold { threshold / e } else { 1.0 };
        for a in 0..=P {
            let wa = wt * row[a];
            r[a] += wa * y;
            for b in 0..=a {
                g[a][b] += wa * row[b];
            }
        }
    }
    for i in 0..=P {
        rhs[i] = r[i];
        for j in 0..=i {
            gram[i * (P + 1) + j] = g[i][j];
        }
    }
}

/// The same for any number of lags up to [`MAX_LAGS`] (the row's length unknown to
/// the compiler: the general, slower loop).
fn normal_equations_any(
    z: &[f64],
    c: f64,
    phi: &[f64],
    threshold: f64,
    gram: &mut [f64],
    rhs: &mut [f64],
) {
    let p = phi.len();
    let mut row = [0.0; MAX_LAGS + 1];
    let row = &mut row[..=p];
    for t in p..z.len() {
        let y = z[t];
        row[0] = 1.0;
        for i in 0..p {
            row[i + 1] = z[t - 1 - i];
        }
        let fitted = c + phi.iter().zip(&row[1..]).map(|(a, b)| a * b).sum::<f64>();
        let e = (y - fitted).abs();
        let w = if e > threshold { threshold / e } else { 1.0 };
        for a in 0..=p {
            let wa = w * row[a];
            rhs[a] += wa * y;
            for b in 0..=a {
                gram[a * (p + 1) + b] += wa * row[b];
            }
        }
    }
}

/// Solves `A x = b` for a symmetric positive (semi-)definite `A` given by its lower
/// triangle (row-major, `k × k`) by Cholesky with a small ridge; `b` becomes `x`.
/// Returns `false` if the factorisation fails.
pub(super) fn solve_spd(a: &mut [f64], b: &mut [f64], k: usize) -> bool {
    let trace: f64 = (0..k).map(|i| a[i * k + i]).sum();
    let ridge = RIDGE * trace / k as f64 + RIDGE_FLOOR;
    for i in 0..k {
        a[i * k + i] += ridge;
    }
    for j in 0..k {
        let mut d = a[j * k + j];
        for m in 0..j {
            d -= a[j * k + m] * a[j * k + m];
        }
        if !(d > 0.0) || !d.is_finite() {
            return false;
        }
        let d = d.sqrt();
        a[j * k + j] = d;
        for i in j + 1..k {
            let mut s = a[i * k + j];
            for m in 0..j {
                s -= a[i * k + m] * a[j * k + m];
            }
            a[i * k + j] = s / d;
        }
    }
    for i in 0..k {
        let mut s = b[i];
        for m in 0..i {
            s -= a[i * k + m] * b[m];
        }
        b[i] = s / a[i * k + i];
    }
    for i in (0..k).rev() {
        let mut s = b[i];
        for m in i + 1..k {
            s -= a[m * k + i] * b[m];
        }
        b[i] = s / a[i * k + i];
    }
    b.iter().all(|x| x.is_finite())
}

/// The spectral radius of the autoregression's companion matrix, estimated from the
/// average growth of the homogeneous recursion over many steps (this also works for a
/// complex pair of dominant roots, where the norm oscillates).
fn spectral_radius(phi: &[f64]) -> f64 {
    // One or two lags: the roots of z^2 - φ1 z - φ2 in closed form.
    match *phi {
        [a] => return a.abs(),
        [a, b] => {
            let d = a * a + 4.0 * b;
            let r = if d >= 0.0 {
                (a.abs() + d.sqrt()) / 2.0
            } else {
                (-b).sqrt()
            };
            if r.is_finite() {
                return r;
            }
        }
        _ => {}
    }
    let p = phi.len();
    let mut state = [0.0; MAX_LAGS];
    let state = &mut state[..p];
    // A generic start, not orthogonal to any eigenvector in practice.
    for (i, s) in state.iter_mut().enumerate() {
        *s = 1.0 / (i as f64 + 1.5);
    }
    let mut log_growth = 0.0;
    let mut norm = state.iter().map(|x| x * x).sum::<f64>().sqrt();
    for _ in 0..RADIUS_STEPS {
        let next: f64 = phi.iter().zip(state.iter()).map(|(a, b)| a * b).sum();
        state.rotate_right(1);
        state[0] = next;
        let new_norm = state.iter().map(|x| x * x).sum::<f64>().sqrt();
        if !(new_norm > 0.0) || !new_norm.is_finite() {
            return if new_norm == 0.0 { 0.0 } else { f64::INFINITY };
        }
        log_growth += (new_norm / norm).ln();
        for s in state.iter_mut() {
            *s /= new_norm;
        }
        norm = 1.0;
    }
    (log_growth / RADIUS_STEPS as f64).exp()
}

/// Shrinks an explosive autoregression to spectral radius 1: `φ_i ← φ_i / ρ^i` divides
/// every root of the characteristic polynomial by `ρ`.
fn stabilise(phi: &mut [f64]) {
    let rho = spectral_radius(phi);
    if rho > 1.0 + UNIT_ROOT_TOLERANCE {
        let rho = if rho.is_finite() {
            rho
        } else {
            RADIUS_OVERFLOW
        };
        let mut f = 1.0;
        for x in phi.iter_mut() {
            f /= rho;
            *x *= f;
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};
    use rand_distr::{Distribution, StandardNormal};

    use super::super::testing::{TUNING, run};
    use super::super::{Location, LocationModel, State};
    use super::*;

    #[test]
    fn autoregression_recovers_coefficients_despite_spikes() {
        let mut rng = StdRng::seed_from_u64(3);
        let (a1, a2) = (0.6, -0.3);
        let mut clean = vec![0.0, 0.0];
        for t in 2..6000 {
            let z: f64 = StandardNormal.sample(&mut rng);
            let v = 2.0 + a1 * (clean[t - 1] - 2.0) + a2 * (clean[t - 2] - 2.0) + 0.5 * z;
            clean.push(v);
        }
        let data: Vec<f64> = clean
            .iter()
            .map(|&v| {
                if rng.random::<f64>() < 0.1 {
                    v + 20.0 * if rng.random::<bool>() { 1.0 } else { -1.0 }
                } else {
                    v
                }
            })
            .collect();
        let (loc, _) = run(LocationModel::Autoregressive { lags: 2 }, &data, 1000);
        let State::Autoregressive(ar) = &loc.state else {
            panic!("not an autoregression")
        };
        // IRLS on 500 points: standard errors about 0.05.
        assert!((ar.phi[0] - a1).abs() < 0.15, "{:?}", ar.phi);
        assert!((ar.phi[1] - a2).abs() < 0.15, "{:?}", ar.phi);
        let mean = ar.centre + ar.intercept / (1.0 - ar.phi.iter().sum::<f64>());
        assert!((mean - 2.0).abs() < 0.2, "mean {mean}");
    }

    #[test]
    fn explosive_fits_are_shrunk_to_a_unit_root() {
        let mut phi = [1.2];
        stabilise(&mut phi);
        assert!((phi[0] - 1.0).abs() < 1e-6, "{phi:?}");
        // A sinusoid's AR(2) has both roots on the unit circle: kept as it is.
        let w: f64 = 0.3;
        let mut phi = [2.0 * w.cos(), -1.0];
        stabilise(&mut phi);
        assert!(
            (phi[0] - 2.0 * w.cos()).abs() < 1e-12 && phi[1] == -1.0,
            "{phi:?}"
        );
        // A complex pair outside the circle is pulled onto it.
        let r: f64 = 1.1;
        let mut phi = [2.0 * r * w.cos(), -r * r];
        stabilise(&mut phi);
        assert!((spectral_radius(&phi) - 1.0).abs() < 0.01, "{phi:?}");
        assert!(spectral_radius(&[0.5]) < 0.51);
    }

    #[test]
    fn autoregression_on_extremes_of_both_signs_stays_finite() {
        // The shrunk proptest case: with lags of opposite signs near ±MAX, a lag's
        // deviation from the centre overflows to ±inf and the prediction summed
        // +inf and -inf into NaN, which then entered the history and every residual.
        let (m, z) = (f64::MAX, 0.0);
        let tail = [
            -m,
            m,
            m,
            z,
            m,
            m,
            z,
            m,
            -z,
            m,
            z,
            m,
            z,
            m,
            z,
            m,
            z,
            m,
            m,
            m,
            m,
            z,
            m,
            m,
            m,
            z,
            z,
            z,
            m,
            z,
            z,
            m,
            z,
            z,
            m,
            m,
            m,
            z,
            -m,
            f64::MIN_POSITIVE,
            m,
        ];
        let mut data = vec![0.0, f64::NAN];
        data.extend_from_slice(&tail);
        let mut res = Vec::new();
        let mut loc = Location::initialise(
            LocationModel::Autoregressive { lags: 3 },
            &data,
            TUNING,
            10,
            1,
            &mut res,
        )
        .unwrap();
        assert!(
            res.iter()
                .zip(&data)
                .all(|(r, y)| r.is_finite() == y.is_finite()),
            "{res:?}"
        );
        assert!(loc.prediction().is_finite());
        for &y in tail.iter().cycle().take(300) {
            assert!(loc.observe(y).is_finite() && loc.prediction().is_finite());
        }
    }
}
