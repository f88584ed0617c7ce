//! Gauss–Legendre nodes and weights, and piecewise Chebyshev interpolation: the two
//! numerical tools behind the oracle's tables.

/// Gauss–Legendre rule with `n` nodes on `[-1, 1]` (exact for polynomials of degree
/// `2n - 1`), by Newton's method on the Legendre polynomial `P_n`.
#[derive(Debug, Clone)]
pub(super) struct GaussLegendre {
    nodes: Vec<f64>,
    weights: Vec<f64>,
}

impl GaussLegendre {
    pub(super) fn new(n: usize) -> Self {
        let mut nodes = Vec::with_capacity(n);
        let mut weights = Vec::with_capacity(n);
        for i in 0..n {
            // Tricomi's initial guess for the i-th root, then Newton on P_n.
            let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
            let mut dp = 1.0;
            for _ in 0..100 {
                let (p, d) = legendre(n, x);
                dp = d;
                let step = p / d;
                x -= step;
                if step.abs() < 1e-16 {
                    break;
                }
            }
            let (_, d) = legendre(n, x);
            dp = if d.is_finite() { d } else { dp };
            nodes.push(x);
            weights.push(2.0 / ((1.0 - x * x) * dp * dp));
        }
        Self { nodes, weights }
    }

    /// `∫_a^b f` by this rule.
    pub(super) fn integrate(&self, a: f64, b: f64, mut f: impl FnMut(f64) -> f64) -> f64 {
        let (mid, half) = ((a + b) / 2.0, (b - a) / 2.0);
        half * self
            .nodes
            .iter()
            .zip(&self.weights)
            .map(|(&x, &w)| w * f(mid + half * x))
            .sum::<f64>()
    }

    /// `∫_a^b f` on `panels` equal sub-intervals.
    pub(super) fn integrate_panels(
        &self,
        a: f64,
        b: f64,
        panels: usize,
        mut f: impl FnMut(f64) -> f64,
    ) -> f64 {
        let h = (b - a) / panels as f64;
        (0..panels)
            .map(|k| {
                let lo = a + h * k as f64;
                let hi = if k + 1 == panels { b } else { lo + h };
                self.integrate(lo, hi, &mut f)
            })
            .sum()
    }
}

/// `(P_n(x), P_n'(x))` by the three-term recurrence.
fn legendre(n: usize, x: f64) -> (f64, f64) {
    let (mut p0, mut p1) = (1.0, x);
    if n == 0 {
        return (1.0, 0.0);
    }
    for k in 2..=n {
        let kf = k as f64;
        let p2 = ((2.0 * kf - 1.0) * x * p1 - (kf - 1.0) * p0) / kf;
        p0 = p1;
        p1 = p2;
    }
    let d = n as f64 * (x * p1 - p0) / (x * x - 1.0);
    (p1, d)
}

/// A function tabulated as one Chebyshev interpolant of degree `m - 1` per panel
/// `[breaks[k], breaks[k + 1]]`. Panels are closed on the left, so at a break the
/// right panel's value is returned (right-continuity, as a cdf); [`eval_left`] gives
/// the left panel's.
///
/// [`eval_left`]: PiecewiseChebyshev::eval_left
#[derive(Debug, Clone)]
pub(super) struct PiecewiseChebyshev {
    breaks: Vec<f64>,
    m: usize,
    coeffs: Vec<f64>,
}

impl PiecewiseChebyshev {
    /// Interpolates `f` at the `m` Chebyshev points of the first kind of each panel
    /// (the end points are never evaluated, so `f` may jump there).
    pub(super) fn new(breaks: Vec<f64>, m: usize, mut f: impl FnMut(f64) -> f64) -> Self {
        let panels = breaks.len() - 1;
        let mut coeffs = vec![0.0; panels * m];
        let mut values = vec![0.0; m];
        let angles: Vec<f64> = (0..m)
            .map(|j| std::f64::consts::PI * (j as f64 + 0.5) / m as f64)
            .collect();
        for k in 0..panels {
            let (a, b) = (breaks[k], breaks[k + 1]);
            for (v, &th) in values.iter_mut().zip(&angles) {
                *v = f((a + b) / 2.0 + (b - a) / 2.0 * th.cos());
            }
            for (i, c) in coeffs[k * m..(k + 1) * m].iter_mut().enumerate() {
                let s: f64 = values
                    .iter()
                    .zip(&angles)
                    .map(|(v, th)| v * (i as f64 * th).cos())
                    .sum();
                *c = 2.0 / m as f64 * s;
            }
            coeffs[k * m] /= 2.0;
        }
        Self { breaks, m, coeffs }
    }

    pub(super) fn breaks(&self) -> &[f64] {
        &self.breaks
    }

    pub(super) fn panels(&self) -> usize {
        self.breaks.len() - 1
    }

    /// Index of the panel holding `x` (`breaks[k] <= x < breaks[k + 1]`), clamped.
    pub(super) fn panel(&self, x: f64) -> usize {
        let p = self.panels();
        self.breaks[1..p].partition_point(|&b| b <= x)
    }

    /// The interpolant of panel `k` at `x` (extrapolated if `x` is outside it).
    pub(super) fn eval_in(&self, k: usize, x: f64) -> f64 {
        let (a, b) = (self.breaks[k], self.breaks[k + 1]);
        let t = (2.0 * x - a - b) / (b - a);
        let c = &self.coeffs[k * self.m..(k + 1) * self.m];
        // Clenshaw's recurrence.
        let (mut b1, mut b2) = (0.0, 0.0);
        for &ci in c[1..].iter().rev() {
            let b0 = 2.0 * t * b1 - b2 + ci;
            b2 = b1;
            b1 = b0;
        }
        t * b1 - b2 + c[0]
    }

    /// The value at `x` inside `[breaks[0], breaks[last]]`.
    pub(super) fn eval(&self, x: f64) -> f64 {
        self.eval_in(self.panel(x), x)
    }

    /// The left limit at `x` (differs from [`eval`](Self::eval) only at a break).
    pub(super) fn eval_left(&self, x: f64) -> f64 {
        let k = self.panel(x);
        if k > 0 && x == self.breaks[k] {
            self.eval_in(k - 1, x)
        } else {
            self.eval_in(k, x)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauss_legendre_is_exact_for_polynomials_and_accurate_for_smooth_functions() {
        let g = GaussLegendre::new(12);
        // Degree 23 is integrated exactly.
        let exact = (2f64.powi(24) - 1.0) / 24.0;
        assert!((g.integrate(1.0, 2.0, |x| x.powi(23)) - exact).abs() < 1e-13 * exact);
        let e = g.integrate_panels(0.0, 3.0, 3, f64::exp);
        assert!((e - (3f64.exp() - 1.0)).abs() < 1e-13);
        let w: f64 = GaussLegendre::new(40).integrate(-1.0, 1.0, |_| 1.0);
        assert!((w - 2.0).abs() < 1e-14);
    }

    #[test]
    fn chebyshev_table_reproduces_a_function_with_a_jump() {
        let f = |x: f64| {
            if x < 0.0 {
                x.exp() / 4.0
            } else {
                1.0 - (-x).exp() / 2.0
            }
        };
        let breaks: Vec<f64> = (-8..=8).map(|k| k as f64 * 0.5).collect();
        let t = PiecewiseChebyshev::new(breaks, 16, f);
        for i in 0..=400 {
            let x = -4.0 + 8.0 * i as f64 / 400.0;
            assert!((t.eval(x) - f(x)).abs() < 1e-14, "x={x}");
        }
        assert!((t.eval(0.0) - 0.5).abs() < 1e-14);
        assert!((t.eval_left(0.0) - 0.25).abs() < 1e-14);
    }
}
