//! Grimshaw's profile likelihood of the generalized Pareto distribution.
//!
//! With `θ = ξ/σ` the log-likelihood `l(ξ, σ) = -W ln σ - (1 + 1/ξ) Σ w ln(1 + ξ x/σ)`
//! is maximised over `ξ` in closed form for fixed `θ` (Grimshaw 1993):
//!
//! ```text
//! ξ(θ) = (1/W) Σ w ln(1 + θ x)        σ(θ) = ξ(θ)/θ
//! l*(θ) = -W ln σ(θ) - W ξ(θ) - W       on θ > -1/x_max
//! ```
//!
//! so the fit is a one-dimensional problem. Everything here works in the scale-free
//! variable `u = θ x_max` (so `y = x/x_max` lies in `(0, 1]`) and returns `l*` with its
//! first two derivatives in `u`. `σ(θ)` is written as `ξ/θ`, which is `0/0` at the
//! exponential (`θ = 0`); for `|u| < U_SMALL` every quantity is instead summed from
//! its Taylor series in the scaled moments, which is exact to rounding there, so the
//! profile is smooth through `ξ = 0`.

use super::sample::{MOMENTS, Sample, split};

/// Below this `|u|` the series form is used: its truncation error is below
/// `|u|^8 ≈ 1e-16` relative, while the direct form loses accuracy as `u -> 0`
/// (`σ = ξ/u` with `ξ` known to about `n ε` absolute, `σ'` and `σ''` divide by `u`
/// again).
const U_SMALL: f64 = 1e-2;

/// The profile log-likelihood and its derivatives at one `u`, with the pieces the
/// global search bounds it from (see `bounds.rs`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProfilePoint {
    /// `v = ln(1 + u)`, the search variable.
    pub(crate) v: f64,
    /// `u = θ x_max = e^v - 1`.
    pub(crate) u: f64,
    /// `ξ(θ)`, the shape at this `θ` (the function `g(u) = mean ln(1 + u y)`).
    pub(crate) xi: f64,
    /// `σ(θ) / x_max = g(u)/u`.
    pub(crate) sigma_y: f64,
    /// `dσ_y/du`.
    pub(crate) d_sigma: f64,
    /// `d²σ_y/du²`.
    pub(crate) dd_sigma: f64,
    /// `g'(u) = mean y/(1 + u y)`.
    pub(crate) b: f64,
    /// `-g''(u) = mean (y/(1 + u y))²`.
    pub(crate) c: f64,
    /// `l*(θ)`, the full log-likelihood at `(ξ(θ), σ(θ))`.
    pub(crate) ll: f64,
    /// `dl*/du`.
    pub(crate) score: f64,
    /// `d²l*/du²`.
    pub(crate) curvature: f64,
    /// `ln(1 - e^{-|v|})`: `ln(-u)` left of 0, `ln(u/(1 + u))` right of it (the
    /// term of `l*` the bounds treat as a concave function of `v`).
    pub(crate) ln_tail: f64,
    /// `d ln(1 - e^{-|v|})/dv`: `(1 + u)/u` left of 0, `1/u` right of it.
    pub(crate) tail_slope: f64,
    /// `ξ(θ) > -1` and everything finite: a point of the constrained problem.
    pub(crate) feasible: bool,
}

/// Evaluates the profile at `v` (`u = e^v - 1 > -1`).
pub(crate) fn evaluate(sample: &mut Sample<'_>, v: f64) -> ProfilePoint {
    let u = v.exp_m1();
    let (xi, sigma, d_sigma, dd_sigma, b, c) = if u.abs() < U_SMALL {
        series(&sample.moments(), u)
    } else {
        direct(sample, v, u)
    };
    let w = sample.total;
    let ll = -w * (sigma.ln() + sample.ln_x_max + xi + 1.0);
    let r = d_sigma / sigma;
    let score = -w * (r + b);
    let curvature = -w * (dd_sigma / sigma - r * r - c);
    let feasible = xi > -1.0
        && sigma > 0.0
        && ll.is_finite()
        && score.is_finite()
        && curvature.is_finite()
        && b.is_finite()
        && c.is_finite();
    let (ln_tail, tail_slope) = if v < 0.0 {
        ((-u).ln(), (1.0 + u) / u)
    } else {
        (u.ln() - v, 1.0 / u)
    };
    ProfilePoint {
        v,
        u,
        xi,
        sigma_y: sigma,
        d_sigma,
        dd_sigma,
        b,
        c,
        ll,
        score,
        curvature,
        ln_tail,
        tail_slope,
        feasible,
    }
}

/// `(ξ, σ, σ', σ'', ξ', -ξ'')` in scaled units from one pass over the data.
fn direct(sample: &Sample<'_>, v: f64, u: f64) -> (f64, f64, f64, f64, f64, f64) {
    let inv = 1.0 / sample.x_max;
    let [s_ln, s_b, s_c] = if 1.0 + u < LEFT {
        sums_left(sample.x, sample.w, sample.x_max, v)
    } else {
        let theta = u * inv;
        match sample.w {
            None => sums_unweighted(sample.x, theta, u, v),
            Some(w) => sums_scalar(sample.x.iter().copied().zip(w.iter().copied()), theta),
        }
    };
    let wt = sample.total;
    let xi = s_ln / wt;
    let b = s_b * inv / wt;
    let c = s_c * inv * inv / wt;
    let sigma = xi / u;
    let d_sigma = (b - sigma) / u;
    let dd_sigma = (-c - 2.0 * d_sigma) / u;
    (xi, sigma, d_sigma, dd_sigma, b, c)
}

/// Below this `1 + u` the data are scaled first and `1 + u y` is formed as
/// `(1 - y) + e^v y`, which keeps its relative accuracy as `1 + u -> 0` (above it
/// the rounding of `θx` moves `ln(1 + θx)` by less than `ε/LEFT`).
const LEFT: f64 = 1e-3;

/// `ln(1 + t)` from `a = 1 + t` (rounded) and `q = 1/a`: the rounding of `a` is
/// corrected to first order, which makes it as accurate as `ln_1p` at the cost of one
/// `ln` (cheaper than `ln_1p`) and a multiply.
#[inline(always)]
fn ln_1p_from(t: f64, a: f64, q: f64) -> f64 {
    a.ln() + (t - (a - 1.0)) * q
}

/// The sums of [`sums_scalar`] for `u` near `-1`, from `e^v` rather than `u` (which
/// rounds to `-1` for `v` below about `-37`): `1 + u y = (1 - y) + e^v y` with
/// `y = x/x_max` (exactly 1 at the largest point, whose logarithm is then `v` itself,
/// so `ξ` is right however far left `v` goes). Returned in unscaled form like the
/// other sums.
fn sums_left(x: &[f64], w: Option<&[f64]>, x_max: f64, v: f64) -> [f64; 3] {
    let e = v.exp();
    let mut acc = [0.0f64; 3];
    for (i, &xi) in x.iter().enumerate() {
        let wi = w.map_or(1.0, |w| w[i]);
        if wi == 0.0 {
            continue;
        }
        let y = xi / x_max;
        let (ln_a, a) = if y == 1.0 {
            (v, e)
        } else {
            let a = (1.0 - y) + e * y;
            (a.ln(), a)
        };
        let xq = xi / a;
        acc[0] += wi * ln_a;
        acc[1] += wi * xq;
        acc[2] += wi * xq * xq;
    }
    acc
}

/// `[Σ ln(1+θx), Σ x/(1+θx), Σ (x/(1+θx))²]` for unweighted data.
///
/// The logarithms are not taken point by point: `Σ ln a = ln Π a`, so each lane
/// multiplies its `a = 1 + θx` together and splits the product into mantissa and
/// exponent only every `block` points, with `block` small enough that the product can
/// neither overflow nor underflow (`a` lies between 1 and `1 + u`, so `block` factors
/// change the exponent by at most `block · |log2(1 + u)|`). Four logarithms per pass
/// instead of one per point, and the loop is plain multiplies, adds and one division,
/// which vectorise. Each product rounding and each rounding of `a = 1 + θx` moves
/// `ln Π a` by at most half an ulp, so the sum is within `n ε` of the exact one (a
/// point-by-point sum of rounded logarithms is within about `n ε/2`).
///
/// Falls back to [`sums_scalar`] when `1 + u` is too close to 0, or `|u|` too large
/// for blocks of a useful length.
// Kept out of line: inlined into `evaluate`, the vectoriser was seen to split the
// divisions into scalar ones, at twice the cost.
#[inline(never)]
fn sums_unweighted(x: &[f64], theta: f64, u: f64, v: f64) -> [f64; 3] {
    let one_plus_u = 1.0 + u;
    // Exponent change per factor, with room for the rounding of θx against u.
    let log2_step = v.abs() * std::f64::consts::LOG2_E + 1e-3;
    let block = (900.0 / log2_step).min(512.0);
    // Below 1e-12 the rounding of θx could push some a to zero or below.
    if !(one_plus_u >= 1e-12 && block >= 4.0) {
        return sums_scalar(x.iter().map(|&xi| (xi, 1.0)), theta);
    }
    let block = block as usize;
    // Four lanes, written one operation at a time over the lanes so that the
    // vectoriser pairs them into SSE2 registers (and the products and sums form
    // independent chains).
    let mut prod = [1.0f64; 4];
    let mut s_b = [0.0f64; 4];
    let mut s_c = [0.0f64; 4];
    let mut expo = 0i64;
    let n4 = x.len() / 4 * 4;
    for big in x[..n4].chunks(4 * block) {
        for quad in big.chunks_exact(4) {
            let mut a = [0.0; 4];
            let mut xq = [0.0; 4];
            for i in 0..4 {
                a[i] = 1.0 + theta * quad[i];
            }
            for i in 0..4 {
                xq[i] = quad[i] / a[i];
            }
            for i in 0..4 {
                prod[i] *= a[i];
            }
            for i in 0..4 {
                s_b[i] += xq[i];
            }
            for i in 0..4 {
                s_c[i] += xq[i] * xq[i];
            }
        }
        for p in prod.iter_mut() {
            let (m, e) = split(*p);
            *p = m;
            expo += e;
        }
    }
    let mut s_ln = expo as f64 * std::f64::consts::LN_2;
    for p in prod {
        s_ln += p.ln();
    }
    let sum = |v: [f64; 4]| (v[0] + v[1]) + (v[2] + v[3]);
    let mut acc = [s_ln, sum(s_b), sum(s_c)];
    let rest = sums_scalar(x[n4..].iter().map(|&xi| (xi, 1.0)), theta);
    for (a, r) in acc.iter_mut().zip(rest) {
        *a += r;
    }
    acc
}

/// `[Σ w ln(1+θx), Σ w x/(1+θx), Σ w (x/(1+θx))²]` one point at a time (weighted data,
/// and the fallback of [`sums_unweighted`]); zero-weight points contribute nothing
/// (and a point far outside the support of a zero-weight-free fit cannot poison the
/// sums).
fn sums_scalar(points: impl Iterator<Item = (f64, f64)>, theta: f64) -> [f64; 3] {
    let mut acc = [0.0f64; 3];
    for (xi, wi) in points {
        if wi == 0.0 {
            continue;
        }
        let t = theta * xi;
        let a = 1.0 + t;
        let q = 1.0 / a;
        let xq = xi * q;
        acc[0] += wi * ln_1p_from(t, a, q);
        acc[1] += wi * xq;
        acc[2] += wi * xq * xq;
    }
    acc
}

/// The same six quantities from the Taylor series in `u` and the scaled moments
/// `μ_k = mean y^k` (`μ_k <= μ_1`, so every truncated term is below `|u|^9 μ_1`).
fn series(mu: &[f64; MOMENTS], u: f64) -> (f64, f64, f64, f64, f64, f64) {
    // mu[k-1] = μ_k.
    let m = |k: usize| mu[k - 1];
    let (mut sigma, mut d_sigma, mut dd_sigma, mut b, mut c) = (0.0, 0.0, 0.0, 0.0, 0.0);
    // Plain power sums are exact enough: |u| < 1e-2, ten terms at most.
    let mut pk = 1.0; // (-u)^k
    for k in 0..MOMENTS {
        let kf = k as f64;
        // σ = Σ (-u)^k μ_{k+1}/(k+1);  ξ = u σ;  B = Σ (-u)^k μ_{k+1}.
        sigma += pk * m(k + 1) / (kf + 1.0);
        b += pk * m(k + 1);
        if k + 2 <= MOMENTS {
            c += (kf + 1.0) * pk * m(k + 2);
        }
        pk *= -u;
    }
    let xi = u * sigma;
    // σ' = Σ_{k>=1} (-1)^k k u^{k-1} μ_{k+1}/(k+1); σ'' = Σ_{k>=2} (-1)^k k(k-1) u^{k-2} μ_{k+1}/(k+1).
    let mut pk1 = 1.0; // (-1)^k u^{k-1}, starting at k = 1 with sign applied below
    for k in 1..MOMENTS {
        let kf = k as f64;
        let sign = if k % 2 == 0 { 1.0 } else { -1.0 };
        d_sigma += sign * kf * pk1 * m(k + 1) / (kf + 1.0);
        pk1 *= u;
    }
    let mut pk2 = 1.0; // u^{k-2}
    for k in 2..MOMENTS {
        let kf = k as f64;
        let sign = if k % 2 == 0 { 1.0 } else { -1.0 };
        dd_sigma += sign * kf * (kf - 1.0) * pk2 * m(k + 1) / (kf + 1.0);
        pk2 *= u;
    }
    (xi, sigma, d_sigma, dd_sigma, b, c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> Vec<f64> {
        (1..=200)
            .map(|i| {
                let p = (i as f64 - 0.5) / 200.0;
                // GPD(0.2, 1.5) quantiles: a smooth, deterministic sample.
                1.5 * ((1.0 - p).powf(-0.2) - 1.0) / 0.2
            })
            .collect()
    }

    #[test]
    fn series_and_direct_forms_agree_where_both_are_accurate() {
        let x = data();
        let mut s = Sample::new("test", &x, None).unwrap();
        for u in [-9.9e-3, -4e-3, 3e-3, 9.9e-3] {
            let a = series(&s.moments(), u);
            // The direct form is accurate to ~1e-16/|u| relative in σ' and ~1e-16/u²
            // in σ'' at these u, hence the looser tolerances for those two.
            let d0 = direct(&s, u.ln_1p(), u);
            let pairs = [(a.0, d0.0), (a.1, d0.1), (a.4, d0.4), (a.5, d0.5)];
            for (k, (p, q)) in pairs.iter().enumerate() {
                assert!(((p - q) / q).abs() < 1e-12, "u={u} k={k}: {p} vs {q}");
            }
            assert!(
                ((a.2 - d0.2) / d0.2).abs() < 1e-9,
                "u={u}: {} vs {}",
                a.2,
                d0.2
            );
            assert!(
                ((a.3 - d0.3) / d0.3).abs() < 1e-5,
                "u={u}: {} vs {}",
                a.3,
                d0.3
            );
        }
        let _ = evaluate(&mut s, 0.0);
    }

    #[test]
    fn score_and_curvature_match_finite_differences() {
        let x = data();
        let mut s = Sample::new("test", &x, None).unwrap();
        for u in [-0.7f64, -0.2, -5e-4, 0.0, 4e-4, 0.3, 2.0, 40.0] {
            let h = 1e-5 * (1.0 + u.abs());
            let p = evaluate(&mut s, u.ln_1p());
            let (lp, lm) = (
                evaluate(&mut s, (u + h).ln_1p()),
                evaluate(&mut s, (u - h).ln_1p()),
            );
            let fd = (lp.ll - lm.ll) / (2.0 * h);
            let fd2 = (lp.score - lm.score) / (2.0 * h);
            assert!(
                (p.score - fd).abs() < 1e-5 * (1.0 + fd.abs()),
                "u={u}: {} vs {fd}",
                p.score
            );
            assert!(
                (p.curvature - fd2).abs() < 1e-5 * (1.0 + fd2.abs()),
                "u={u}: {} vs {fd2}",
                p.curvature
            );
        }
    }

    #[test]
    fn profile_equals_the_full_log_likelihood() {
        let x = data();
        let mut s = Sample::new("test", &x, None).unwrap();
        for u in [-0.6f64, 0.0, 1e-4, 0.8, 12.0] {
            let p = evaluate(&mut s, u.ln_1p());
            let g = crate::GeneralizedPareto::new(p.xi, p.sigma_y * s.x_max).unwrap();
            let full: f64 = x.iter().map(|&v| g.ln_pdf(v)).sum();
            assert!(
                (p.ll - full).abs() < 1e-10 * full.abs(),
                "u={u}: {} vs {full}",
                p.ll
            );
        }
    }
}
