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

use super::sample::{MOMENTS, Sample};

/// Below this `|u|` the series form is used (its truncation error is below `u^8`).
const U_SMALL: f64 = 1e-3;

/// The profile log-likelihood and its derivatives at one `u`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProfilePoint {
    /// `u = θ x_max`.
    pub(crate) u: f64,
    /// `ξ(θ)`, the shape at this `θ`.
    pub(crate) xi: f64,
    /// `σ(θ) / x_max`.
    pub(crate) sigma_y: f64,
    /// `l*(θ)`, the full log-likelihood at `(ξ(θ), σ(θ))`.
    pub(crate) ll: f64,
    /// `dl*/du`.
    pub(crate) score: f64,
    /// `d²l*/du²`.
    pub(crate) curvature: f64,
    /// `ξ(θ) > -1` and everything finite: a point of the constrained problem.
    pub(crate) feasible: bool,
}

/// Evaluates the profile at `u > -1`.
pub(crate) fn evaluate(sample: &mut Sample<'_>, u: f64) -> ProfilePoint {
    let (xi, sigma, d_sigma, dd_sigma, b, c) = if u.abs() < U_SMALL {
        series(&sample.moments(), u)
    } else {
        direct(sample, u)
    };
    let w = sample.total;
    let ll = -w * (sigma.ln() + sample.x_max.ln() + xi + 1.0);
    let r = d_sigma / sigma;
    let score = -w * (r + b);
    let curvature = -w * (dd_sigma / sigma - r * r - c);
    let feasible = xi > -1.0 && sigma > 0.0 && ll.is_finite() && score.is_finite();
    ProfilePoint {
        u,
        xi,
        sigma_y: sigma,
        ll,
        score,
        curvature,
        feasible,
    }
}

/// `(ξ, σ, σ', σ'', ξ', -ξ'')` in scaled units from one pass over the data.
fn direct(sample: &Sample<'_>, u: f64) -> (f64, f64, f64, f64, f64, f64) {
    let inv = 1.0 / sample.x_max;
    let theta = u * inv;
    let [s_ln, s_b, s_c] = match sample.w {
        None => sums_unweighted(sample.x, theta),
        Some(w) => sums_weighted(sample.x, w, theta),
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

/// `ln(1 + t)` from `a = 1 + t` (rounded) and `q = 1/a`: the rounding of `a` is
/// corrected to first order, which makes it as accurate as `ln_1p` at the cost of one
/// `ln` (cheaper than `ln_1p`) and a multiply.
#[inline(always)]
fn ln_1p_from(t: f64, a: f64, q: f64) -> f64 {
    a.ln() + (t - (a - 1.0)) * q
}

/// `[Σ ln(1+θx), Σ x/(1+θx), Σ (x/(1+θx))²]`, with two interleaved accumulators so the
/// additions do not wait on each other.
fn sums_unweighted(x: &[f64], theta: f64) -> [f64; 3] {
    let mut acc = [[0.0f64; 3]; 2];
    let mut chunks = x.chunks_exact(2);
    for pair in &mut chunks {
        for (lane, &xi) in pair.iter().enumerate() {
            let t = theta * xi;
            let a = 1.0 + t;
            let q = 1.0 / a;
            let xq = xi * q;
            acc[lane][0] += ln_1p_from(t, a, q);
            acc[lane][1] += xq;
            acc[lane][2] += xq * xq;
        }
    }
    for &xi in chunks.remainder() {
        let t = theta * xi;
        let a = 1.0 + t;
        let q = 1.0 / a;
        let xq = xi * q;
        acc[0][0] += ln_1p_from(t, a, q);
        acc[0][1] += xq;
        acc[0][2] += xq * xq;
    }
    [
        acc[0][0] + acc[1][0],
        acc[0][1] + acc[1][1],
        acc[0][2] + acc[1][2],
    ]
}

/// Weighted form of [`sums_unweighted`]; zero-weight points contribute nothing (and a
/// point far outside the support of a zero-weight-free fit cannot poison the sums).
fn sums_weighted(x: &[f64], w: &[f64], theta: f64) -> [f64; 3] {
    let mut acc = [0.0f64; 3];
    for (&xi, &wi) in x.iter().zip(w) {
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
    // Plain power sums are exact enough: |u| < 1e-3, ten terms at most.
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
        for u in [-9.9e-4, -2e-4, 3e-4, 9.9e-4] {
            let a = series(&s.moments(), u);
            // The direct form is accurate to ~1e-16/|u| relative in σ' and ~1e-16/u²
            // in σ'' at these u, hence the looser tolerances for those two.
            let d0 = direct(&s, u);
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
            let p = evaluate(&mut s, u);
            let (lp, lm) = (evaluate(&mut s, u + h), evaluate(&mut s, u - h));
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
        for u in [-0.6, 0.0, 1e-4, 0.8, 12.0] {
            let p = evaluate(&mut s, u);
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
