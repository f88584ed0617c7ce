//! The conditional SBP's likelihood, its analytic gradient and the prediction kernel.
//!
//! Everything here works on a flat parameter vector laid out by [`Frame`]; the public
//! types in `mod.rs` wrap it.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis, Slice};
use serde::{Deserialize, Serialize};

/// Below this value of `1 + ξ e/σ` (only reachable with `ξ < 0`, beyond the GPD's
/// endpoint) `ln(1 + ξ e/σ)` is continued by its second-order Taylor polynomial, so
/// the objective stays finite and smooth for the line search. The true maximum has
/// every excess inside the support, where the density is untouched.
const BARRIER: f64 = 1e-6;

/// Bound on the tail log-scales inside the likelihood (σ in [e^-40, e^40]).
const MAX_LN_SCALE: f64 = 40.0;

/// Rows per block of the blocked evaluation: the logits of a block stay in cache.
pub(crate) const BLOCK: usize = 256;

/// The fixed (not optimised) part of a model, and the layout of its parameters.
///
/// Parameters, in order: hidden weights `V` (`m × d`, row-major) and biases `c` (`m`),
/// body weights `W` (`K × p`) and biases `b` (`K`), lower log-scale slopes (`p`) and
/// intercept, upper log-scale slopes (`p`) and intercept, lower and upper shape
/// pre-images `θ` (`ξ = lo + (hi - lo)/(1 + e^{-θ})`); `p = m` with a hidden layer,
/// `p = d` without.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Frame {
    pub(crate) x_mean: Vec<f64>,
    pub(crate) x_scale: Vec<f64>,
    pub(crate) low: f64,
    pub(crate) high: f64,
    pub(crate) bins: usize,
    pub(crate) lower_mass: f64,
    pub(crate) upper_mass: f64,
    pub(crate) shape_low: f64,
    pub(crate) shape_high: f64,
    pub(crate) hidden: Option<usize>,
}

impl Frame {
    pub(crate) fn d(&self) -> usize {
        self.x_mean.len()
    }
    fn m(&self) -> usize {
        self.hidden.unwrap_or(0)
    }
    pub(crate) fn p(&self) -> usize {
        self.hidden.unwrap_or(self.d())
    }
    pub(crate) fn width(&self) -> f64 {
        (self.high - self.low) / self.bins as f64
    }
    pub(crate) fn body_w(&self) -> usize {
        self.m() * (self.d() + 1)
    }
    pub(crate) fn body_b(&self) -> usize {
        self.body_w() + self.bins * self.p()
    }
    pub(crate) fn lower_a(&self) -> usize {
        self.body_b() + self.bins
    }
    pub(crate) fn lower_a0(&self) -> usize {
        self.lower_a() + self.p()
    }
    pub(crate) fn upper_a(&self) -> usize {
        self.lower_a0() + 1
    }
    pub(crate) fn upper_a0(&self) -> usize {
        self.upper_a() + self.p()
    }
    pub(crate) fn lower_shape(&self) -> usize {
        self.upper_a0() + 1
    }
    pub(crate) fn upper_shape(&self) -> usize {
        self.lower_shape() + 1
    }
    pub(crate) fn len(&self) -> usize {
        self.upper_shape() + 1
    }
    /// Whether parameter `i` carries the L2 penalty.
    pub(crate) fn penalised(&self, i: usize) -> bool {
        i < self.lower_a0() || (self.upper_a()..self.upper_a0()).contains(&i)
    }
    /// `ξ` and `dξ/dθ` for a shape pre-image.
    pub(crate) fn shape(&self, theta: f64) -> (f64, f64) {
        let sig = sigmoid(theta);
        let span = self.shape_high - self.shape_low;
        (self.shape_low + span * sig, span * sig * (1.0 - sig))
    }
    /// The pre-image of a shape, clamped inside the open interval.
    pub(crate) fn shape_preimage(&self, xi: f64) -> f64 {
        let span = self.shape_high - self.shape_low;
        let u = ((xi - self.shape_low) / span).clamp(1e-3, 1.0 - 1e-3);
        (u / (1.0 - u)).ln()
    }
    /// The bin holding `y` (clamped to the grid; only used for body points).
    pub(crate) fn bin_of(&self, y: f64) -> usize {
        let k = ((y - self.low) / self.width()).floor();
        if k.is_nan() || k < 0.0 {
            0
        } else {
            (k as usize).min(self.bins - 1)
        }
    }
}

fn sigmoid(t: f64) -> f64 {
    if t >= 0.0 {
        1.0 / (1.0 + (-t).exp())
    } else {
        let e = t.exp();
        e / (1.0 + e)
    }
}

/// `ln(1 + t)/t`, 1 at 0.
fn ln1p_over(t: f64) -> f64 {
    if t.abs() < 1e-4 {
        1.0 - t * (0.5 - t * (1.0 / 3.0 - t * 0.25))
    } else {
        t.ln_1p() / t
    }
}

/// `(ln(1 + t) - t/(1 + t))/t²`, 1/2 at 0.
fn phi_over_t2(t: f64) -> f64 {
    if t.abs() < 1e-3 {
        // Σ_{n>=2} (-1)^n (n-1)/n t^(n-2)
        0.5 - t
            * (2.0 / 3.0 - t * (0.75 - t * (0.8 - t * (5.0 / 6.0 - t * (6.0 / 7.0 - t * 0.875)))))
    } else {
        (t.ln_1p() - t / (1.0 + t)) / (t * t)
    }
}

/// A GPD excess log-density `G(e) = -s - (1 + 1/ξ) ln(1 + ξ e e^{-s})` and its
/// partial derivatives in `s` (log-scale), `e` (the excess) and `ξ`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GpdTerm {
    pub(crate) g: f64,
    pub(crate) d_s: f64,
    pub(crate) d_e: f64,
    pub(crate) d_xi: f64,
}

pub(crate) fn gpd_term(e: f64, s: f64, xi: f64) -> GpdTerm {
    // A log-scale beyond ±MAX_LN_SCALE (only met by wild line-search trials) is
    // saturated so that σ stays finite; the objective is then flat in it there.
    if s.abs() > MAX_LN_SCALE {
        let mut t = gpd_term(e, s.clamp(-MAX_LN_SCALE, MAX_LN_SCALE), xi);
        t.d_s = 0.0;
        return t;
    }
    let sigma = s.exp();
    let u = e / sigma;
    let t = xi * u;
    let v = 1.0 + t;
    if v >= BARRIER {
        GpdTerm {
            g: -s - (1.0 + xi) * u * ln1p_over(t),
            d_s: -1.0 + (1.0 + xi) * u / v,
            d_e: -(1.0 + xi) / (sigma * v),
            d_xi: u * u * phi_over_t2(t) - u / v,
        }
    } else {
        // Beyond the endpoint (ξ < 0): ln v continued quadratically below BARRIER.
        let dv = v - BARRIER;
        let l = BARRIER.ln() + dv / BARRIER - dv * dv / (2.0 * BARRIER * BARRIER);
        let lp = 1.0 / BARRIER - dv / (BARRIER * BARRIER);
        GpdTerm {
            g: -s - (1.0 + 1.0 / xi) * l,
            d_s: -1.0 + (1.0 + xi) * u * lp,
            d_e: -(1.0 + xi) * lp / sigma,
            d_xi: l / (xi * xi) - (1.0 + 1.0 / xi) * lp * u,
        }
    }
}

/// Where a quantile of the body falls: bin `j` and the fraction `r` of the bin below
/// the quantile.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cut {
    pub(crate) j: usize,
    pub(crate) r: f64,
}

/// The bin with `C_j < q <= C_{j+1}` (as `Binned::quantile` chooses it).
pub(crate) fn cut(probs: &[f64], q: f64) -> Cut {
    let mut acc = 0.0;
    let mut last = 0;
    for (j, &p) in probs.iter().enumerate() {
        if p > 0.0 {
            if acc + p >= q {
                return Cut {
                    j,
                    r: ((q - acc) / p).clamp(0.0, 1.0),
                };
            }
            last = j;
        }
        acc += p;
    }
    // Rounding left the total short of q: the top of the last non-empty bin.
    let _ = acc;
    Cut { j: last, r: 1.0 }
}

/// Constants of one evaluation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowConsts {
    low: f64,
    width: f64,
    ln_width: f64,
    q_l: f64,
    q_u: f64,
    ln_pl: f64,
    ln_pu: f64,
}

impl RowConsts {
    pub(crate) fn new(frame: &Frame) -> Self {
        let width = frame.width();
        Self {
            low: frame.low,
            width,
            ln_width: width.ln(),
            q_l: frame.lower_mass,
            q_u: 1.0 - frame.upper_mass,
            ln_pl: frame.lower_mass.ln(),
            ln_pu: frame.upper_mass.ln(),
        }
    }
}

/// `e^x` for `x <= 0` (larger `x` is not met: softmax subtracts the maximum),
/// branch-free so that a loop over a slice vectorises: `x = k ln 2 + r` with
/// `|r| <= ln 2 / 2` (`k` by the round-to-nearest of adding `1.5·2^52`), `e^r` by its
/// Taylor polynomial of degree 12 (truncation below `2·10^-16` relative) evaluated in
/// Estrin's scheme (powers `r², r⁴, r⁸` and pairs of coefficients: a dependency chain
/// of 5 multiply-adds instead of Horner's 12, so consecutive elements overlap in the
/// pipeline), `2^k` built in the exponent bits. Arguments below -708 give
/// `e^-708 ≈ 3·10^-308` instead of underflowing. Within a few ulp of `f64::exp`
/// (tested).
#[inline(always)]
fn exp_nonpositive(x: f64) -> f64 {
    const MAGIC: f64 = 6_755_399_441_055_744.0; // 1.5 · 2^52
    const LN2_HI: f64 = 0.693_147_180_369_123_8;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    // 1/j! for j = 0..=12.
    const C: [f64; 13] = [
        1.0,
        1.0,
        0.5,
        1.0 / 6.0,
        1.0 / 24.0,
        1.0 / 120.0,
        1.0 / 720.0,
        1.0 / 5_040.0,
        1.0 / 40_320.0,
        1.0 / 362_880.0,
        1.0 / 3_628_800.0,
        1.0 / 39_916_800.0,
        1.0 / 479_001_600.0,
    ];
    let x = x.max(-708.0);
    let shifted = x * std::f64::consts::LOG2_E + MAGIC;
    let k = shifted - MAGIC;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let r2 = r * r;
    let r4 = r2 * r2;
    let r8 = r4 * r4;
    let p01 = C[0] + C[1] * r;
    let p23 = C[2] + C[3] * r;
    let p45 = C[4] + C[5] * r;
    let p67 = C[6] + C[7] * r;
    let p89 = C[8] + C[9] * r;
    let p1011 = C[10] + C[11] * r;
    let p03 = p01 + p23 * r2;
    let p47 = p45 + p67 * r2;
    let p811 = p89 + p1011 * r2;
    let p812 = p811 + C[12] * r4;
    let p = (p03 + p47 * r4) + p812 * r8;
    // The low bits of `shifted` hold k (two's complement); 2^k = (k + 1023) << 52.
    let k_bits = shifted.to_bits().wrapping_sub(MAGIC.to_bits());
    p * f64::from_bits(k_bits.wrapping_add(1023) << 52)
}

/// Softmax in place; returns `ln Σ e^z`.
#[inline]
pub(crate) fn softmax(z: &mut [f64]) -> f64 {
    softmax_times(z, 1.0)
}

/// `a ·` softmax in place (one pass fewer than a softmax followed by a scaling);
/// returns `ln Σ e^z`.
#[inline]
fn softmax_times(z: &mut [f64], a: f64) -> f64 {
    // The maximum by plain comparisons (one `maxpd` per pair; the logits are finite,
    // so `f64::max`'s NaN handling is not needed).
    let mut lanes = [f64::NEG_INFINITY; 4];
    let mut chunks = z.chunks_exact(4);
    for c in &mut chunks {
        for (l, &v) in lanes.iter_mut().zip(c) {
            *l = if v > *l { v } else { *l };
        }
    }
    let m = chunks.remainder().iter().copied().fold(
        lanes.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        f64::max,
    );
    let mut sums = [0.0; 4];
    let mut chunks = z.chunks_exact_mut(4);
    for c in &mut chunks {
        for (s, v) in sums.iter_mut().zip(c) {
            *v = exp_nonpositive(*v - m);
            *s += *v;
        }
    }
    let mut rest = 0.0;
    for v in chunks.into_remainder() {
        *v = exp_nonpositive(*v - m);
        rest += *v;
    }
    let sum = rest + (sums[0] + sums[1]) + (sums[2] + sums[3]);
    let scale = a / sum;
    for v in z.iter_mut() {
        *v *= scale;
    }
    m + sum.ln()
}

/// Per-row gradient pieces besides the logits'.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RowGrad {
    pub(crate) ds_l: f64,
    pub(crate) ds_u: f64,
    pub(crate) dxi_l: f64,
    pub(crate) dxi_u: f64,
}

/// `ln f(y)` for one row; `z` holds the logits on entry and `∂ ln f/∂z` on exit.
#[inline]
#[allow(clippy::too_many_arguments)]
pub(crate) fn row_log_density(
    z: &mut [f64],
    s_l: f64,
    s_u: f64,
    xi_l: f64,
    xi_u: f64,
    y: f64,
    bin: usize,
    c: &RowConsts,
    g: &mut RowGrad,
) -> f64 {
    let z_bin = z[bin];
    let lse = softmax(z);
    let lo = cut(z, c.q_l);
    let tau_l = c.low + c.width * (lo.j as f64 + lo.r);
    if y < tau_l {
        let t = gpd_term(tau_l - y, s_l, xi_l);
        tail_logit_gradient(z, lo, c.q_l, t.d_e * c.width / z[lo.j]);
        g.ds_l = t.d_s;
        g.dxi_l = t.d_xi;
        return c.ln_pl + t.g;
    }
    let up = cut(z, c.q_u);
    let tau_u = c.low + c.width * (up.j as f64 + up.r);
    if y > tau_u {
        let t = gpd_term(y - tau_u, s_u, xi_u);
        tail_logit_gradient(z, up, c.q_u, -t.d_e * c.width / z[up.j]);
        g.ds_u = t.d_s;
        g.dxi_u = t.d_xi;
        return c.ln_pu + t.g;
    }
    for v in z.iter_mut() {
        *v = -*v;
    }
    z[bin] += 1.0;
    z_bin - lse - c.ln_width
}

/// `z_m <- a π_m (q - c_m)` with `c_m` = 1 below the cut's bin, `r` in it, 0 above:
/// `a` times `∂τ/∂z_m · π_j/w` for the threshold `τ` at level `q`.
#[inline]
fn tail_logit_gradient(z: &mut [f64], cut: Cut, q: f64, a: f64) {
    let (below, rest) = z.split_at_mut(cut.j);
    let below_factor = a * (q - 1.0);
    for v in below {
        *v *= below_factor;
    }
    rest[0] *= a * (q - cut.r);
    let above_factor = a * q;
    for v in &mut rest[1..] {
        *v *= above_factor;
    }
}

/// How an observation enters the censored body likelihood ([`Kind::Censored`]): as a
/// body point (its bin), or as a point below (above) a fixed lower (upper) threshold
/// lying at fraction `r` of bin `j`, counted by the body's mass on that side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Censor {
    Body,
    Below { j: usize, r: f64 },
    Above { j: usize, r: f64 },
}

/// Data prepared for the likelihood: standardised features, outcomes and their bins.
#[derive(Debug)]
pub(crate) struct Data {
    pub(crate) x: Array2<f64>,
    pub(crate) y: Vec<f64>,
    pub(crate) bin: Vec<usize>,
    pub(crate) censor: Vec<Censor>,
}

impl Data {
    pub(crate) fn new(frame: &Frame, x: ArrayView2<'_, f64>, y: &[f64]) -> Self {
        let mut xs = x.to_owned();
        for mut row in xs.rows_mut() {
            for ((v, &m), &sd) in row.iter_mut().zip(&frame.x_mean).zip(&frame.x_scale) {
                *v = (*v - m) / sd;
            }
        }
        Self {
            x: xs,
            y: y.to_vec(),
            bin: y.iter().map(|&v| frame.bin_of(v)).collect(),
            censor: vec![Censor::Body; y.len()],
        }
    }

    /// Fixes the censoring of every row at the conditional thresholds of the body in
    /// `theta`; returns how many rows changed side.
    pub(crate) fn censor_at(&mut self, frame: &Frame, theta: &[f64]) -> usize {
        let consts = RowConsts::new(frame);
        let mut scratch = RowScratch::new(frame, theta);
        let mut changed = 0;
        for (i, row) in self.x.rows().into_iter().enumerate() {
            row_forward_standardised(frame, theta, row.iter().copied(), &mut scratch);
            let y = self.y[i];
            let lo = cut(&scratch.probs, consts.q_l);
            let up = cut(&scratch.probs, consts.q_u);
            let tau_l = consts.low + consts.width * (lo.j as f64 + lo.r);
            let tau_u = consts.low + consts.width * (up.j as f64 + up.r);
            let c = if y < tau_l {
                Censor::Below { j: lo.j, r: lo.r }
            } else if y > tau_u {
                Censor::Above { j: up.j, r: up.r }
            } else {
                Censor::Body
            };
            let side = |c: Censor| match c {
                Censor::Body => 0,
                Censor::Below { .. } => 1,
                Censor::Above { .. } => 2,
            };
            if side(c) != side(self.censor[i]) {
                changed += 1;
            }
            self.censor[i] = c;
        }
        changed
    }

    pub(crate) fn n(&self) -> usize {
        self.y.len()
    }

    /// The rows `rows` (indices into this data set).
    pub(crate) fn subset(&self, rows: &[usize]) -> Self {
        Self {
            x: self.x.select(Axis(0), rows),
            y: rows.iter().map(|&i| self.y[i]).collect(),
            bin: rows.iter().map(|&i| self.bin[i]).collect(),
            censor: rows.iter().map(|&i| self.censor[i]).collect(),
        }
    }
}

/// Buffers of one blocked evaluation.
#[derive(Debug)]
pub(crate) struct Workspace {
    z: Array2<f64>,
    h: Array2<f64>,
    dh: Array2<f64>,
    s_l: Vec<f64>,
    s_u: Vec<f64>,
    ds_l: Vec<f64>,
    ds_u: Vec<f64>,
}

impl Workspace {
    pub(crate) fn new(frame: &Frame) -> Self {
        let m = frame.m();
        Self {
            z: Array2::zeros((BLOCK, frame.bins)),
            h: Array2::zeros((BLOCK, m)),
            dh: Array2::zeros((BLOCK, frame.p())),
            s_l: vec![0.0; BLOCK],
            s_u: vec![0.0; BLOCK],
            ds_l: vec![0.0; BLOCK],
            ds_u: vec![0.0; BLOCK],
        }
    }
}

fn view2(theta: &[f64], start: usize, rows: usize, cols: usize) -> ArrayView2<'_, f64> {
    ArrayView2::from_shape((rows, cols), &theta[start..start + rows * cols])
        .unwrap_or_else(|_| unreachable!("the layout fixes the length"))
}

fn view2_mut(g: &mut [f64], start: usize, rows: usize, cols: usize) -> ArrayViewMut2<'_, f64> {
    ArrayViewMut2::from_shape((rows, cols), &mut g[start..start + rows * cols])
        .unwrap_or_else(|_| unreachable!("the layout fixes the length"))
}

/// Writes the block's features (hidden activations or the standardised inputs'
/// copy) into `ws.h` when there is a hidden layer.
fn hidden_forward(frame: &Frame, theta: &[f64], xb: ArrayView2<'_, f64>, h: &mut Array2<f64>) {
    let (m, d) = (frame.m(), frame.d());
    let v = view2(theta, 0, m, d);
    let c = &theta[m * d..m * (d + 1)];
    let rows = xb.nrows();
    let mut hb = h.slice_axis_mut(Axis(0), Slice::from(..rows));
    general_mat_mul(1.0, &xb, &v.t(), 0.0, &mut hb);
    for mut row in hb.rows_mut() {
        for (a, &ci) in row.iter_mut().zip(c) {
            *a = (*a + ci).tanh();
        }
    }
}

/// Body logits and tail log-scales of a block of feature rows.
fn heads(
    frame: &Frame,
    theta: &[f64],
    f: ArrayView2<'_, f64>,
    z: &mut Array2<f64>,
    s_l: &mut [f64],
    s_u: &mut [f64],
) {
    let (k, p) = (frame.bins, frame.p());
    let rows = f.nrows();
    let w = view2(theta, frame.body_w(), k, p);
    let b = &theta[frame.body_b()..frame.body_b() + k];
    let mut zb = z.slice_axis_mut(Axis(0), Slice::from(..rows));
    for mut row in zb.rows_mut() {
        row.as_slice_mut()
            .unwrap_or_else(|| unreachable!("standard layout"))
            .copy_from_slice(b);
    }
    general_mat_mul(1.0, &f, &w.t(), 1.0, &mut zb);
    let a_l = &theta[frame.lower_a()..frame.lower_a0()];
    let a_u = &theta[frame.upper_a()..frame.upper_a0()];
    let (a_l0, a_u0) = (theta[frame.lower_a0()], theta[frame.upper_a0()]);
    for (i, row) in f.rows().into_iter().enumerate() {
        let (mut sl, mut su) = (a_l0, a_u0);
        for ((&fi, &al), &au) in row.iter().zip(a_l).zip(a_u) {
            sl += fi * al;
            su += fi * au;
        }
        s_l[i] = sl;
        s_u[i] = su;
    }
}

/// `Σ ln f(y_i | x_i)` of the spliced density, and its gradient added into `grad`
/// when given.
pub(crate) fn log_likelihood(
    frame: &Frame,
    theta: &[f64],
    data: &Data,
    ws: &mut Workspace,
    grad: Option<&mut [f64]>,
) -> f64 {
    let consts = RowConsts::new(frame);
    let (xi_l, _) = frame.shape(theta[frame.lower_shape()]);
    let (xi_u, _) = frame.shape(theta[frame.upper_shape()]);
    blocked_pass(frame, theta, data, ws, grad, |i, z, s_l, s_u, g| {
        row_log_density(z, s_l, s_u, xi_l, xi_u, data.y[i], data.bin[i], &consts, g)
    })
}

/// The histogram (multinomial) log-likelihood of the bins of `y`, observations
/// outside the grid counted in the end bins: the body part of the two-stage fit.
pub(crate) fn body_log_likelihood(
    frame: &Frame,
    theta: &[f64],
    data: &Data,
    ws: &mut Workspace,
    grad: Option<&mut [f64]>,
) -> f64 {
    blocked_pass(frame, theta, data, ws, grad, |i, z, _, _, _| {
        let bin = data.bin[i];
        let z_bin = z[bin];
        let lse = softmax_times(z, -1.0);
        z[bin] += 1.0;
        z_bin - lse
    })
}

/// The censored body likelihood: body points by their bins (as in
/// [`body_log_likelihood`]), points beyond the fixed thresholds of [`Data::censor_at`]
/// by the body's mass beyond them, so the tail points pin the body's tail masses at
/// the thresholds without their histogram shaping the body's end bins.
pub(crate) fn censored_body_log_likelihood(
    frame: &Frame,
    theta: &[f64],
    data: &Data,
    ws: &mut Workspace,
    grad: Option<&mut [f64]>,
) -> f64 {
    blocked_pass(frame, theta, data, ws, grad, |i, z, _, _, _| {
        let z_bin = z[data.bin[i]];
        let lse = softmax(z);
        let (j, r, below) = match data.censor[i] {
            Censor::Body => {
                for v in z.iter_mut() {
                    *v = -*v;
                }
                z[data.bin[i]] += 1.0;
                return z_bin - lse;
            }
            Censor::Below { j, r } => (j, r, true),
            Censor::Above { j, r } => (j, r, false),
        };
        // Mass on the censored side: Σ a_m π_m with a_m = 1, r, 0 below, in, above
        // bin j (1 - a_m for the upper side); ∂ ln M/∂z_m = a_m π_m / M - π_m.
        let (head, tail) = z.split_at_mut(j);
        let (mid, rest) = tail.split_at_mut(1);
        let (inner, a_mid, outer): (&mut [f64], f64, &mut [f64]) = if below {
            (head, r, rest)
        } else {
            (rest, 1.0 - r, head)
        };
        let mass = (inner.iter().sum::<f64>() + a_mid * mid[0]).max(1e-300);
        let inv = 1.0 / mass;
        for v in inner.iter_mut() {
            *v *= inv - 1.0;
        }
        mid[0] *= a_mid * inv - 1.0;
        for v in outer.iter_mut() {
            *v = -*v;
        }
        mass.ln()
    })
}

/// One blocked pass over the data: `row(i, z, s_l, s_u, g)` returns row `i`'s
/// log-likelihood given its logits `z` and log-scales, writing `∂/∂z` into `z` and
/// the other partial derivatives into `g`; the chain rule through the heads and the
/// hidden layer is applied here.
///
/// More than [`CHUNK`] rows are cut into chunks of [`chunk_rows`] rows evaluated on up
/// to [`std::thread::available_parallelism`] scoped threads; the chunks' sums are
/// added in chunk order, so the result does not depend on the number of threads.
fn blocked_pass<R>(
    frame: &Frame,
    theta: &[f64],
    data: &Data,
    ws: &mut Workspace,
    grad: Option<&mut [f64]>,
    row: R,
) -> f64
where
    R: Fn(usize, &mut [f64], f64, f64, &mut RowGrad) -> f64 + Sync,
{
    let n = data.n();
    if n <= CHUNK {
        return pass_range(frame, theta, data, 0, n, ws, grad, &row);
    }
    let size = chunk_rows(n);
    let chunks = n.div_ceil(size);
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(chunks);
    let want_grad = grad.is_some();
    let row = &row;
    let run_chunk = move |c: usize, ws: &mut Workspace| {
        let mut g = if want_grad {
            vec![0.0; theta.len()]
        } else {
            Vec::new()
        };
        let (start, end) = (c * size, ((c + 1) * size).min(n));
        let total = pass_range(
            frame,
            theta,
            data,
            start,
            end,
            ws,
            want_grad.then_some(&mut g[..]),
            row,
        );
        (total, g)
    };
    let mut parts: Vec<(f64, Vec<f64>)> = vec![(0.0, Vec::new()); chunks];
    if threads <= 1 {
        for (c, part) in parts.iter_mut().enumerate() {
            *part = run_chunk(c, ws);
        }
    } else {
        // Chunks are handed out one at a time (the calling thread works too), so a
        // thread slowed down by other work on the machine takes fewer of them.
        let next = std::sync::atomic::AtomicUsize::new(0);
        let next = &next;
        let work = move |ws: &mut Workspace| {
            let mut done = Vec::new();
            loop {
                let c = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if c >= chunks {
                    return done;
                }
                done.push((c, run_chunk(c, ws)));
            }
        };
        std::thread::scope(|scope| {
            let handles: Vec<_> = (1..threads)
                .map(|_| scope.spawn(move || work(&mut Workspace::new(frame))))
                .collect();
            for (c, part) in work(ws) {
                parts[c] = part;
            }
            for handle in handles {
                let done = handle
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e));
                for (c, part) in done {
                    parts[c] = part;
                }
            }
        });
    }
    let mut total = 0.0;
    let mut grad = grad;
    for (t, g) in &parts {
        total += t;
        if let Some(grad) = grad.as_deref_mut() {
            for (a, b) in grad.iter_mut().zip(g) {
                *a += b;
            }
        }
    }
    total
}

/// The most rows per chunk of a multi-threaded pass (a multiple of [`BLOCK`]); a
/// pass over at most this many rows runs on the calling thread alone.
const CHUNK: usize = 16 * BLOCK;

/// The fewest rows per chunk (a multiple of [`BLOCK`]).
const MIN_CHUNK: usize = 4 * BLOCK;

/// Rows per chunk of a pass over `n` rows: about `n/16` in whole blocks, between
/// [`MIN_CHUNK`] and [`CHUNK`]. Depends on `n` only (so does the result), and cuts a
/// mid-sized pass into enough chunks for the threads to share evenly (a 10,000-row
/// pass in chunks of 4,096 rows would leave one of two threads a third of the work:
/// two chunks against one).
fn chunk_rows(n: usize) -> usize {
    (n.div_ceil(16).div_ceil(BLOCK) * BLOCK).clamp(MIN_CHUNK, CHUNK)
}

/// [`blocked_pass`] over rows `first..n`, on one thread.
#[allow(clippy::too_many_arguments)]
fn pass_range(
    frame: &Frame,
    theta: &[f64],
    data: &Data,
    first: usize,
    n: usize,
    ws: &mut Workspace,
    mut grad: Option<&mut [f64]>,
    row: &impl Fn(usize, &mut [f64], f64, f64, &mut RowGrad) -> f64,
) -> f64 {
    let (k, p, d) = (frame.bins, frame.p(), frame.d());
    let (_, dxi_dth_l) = frame.shape(theta[frame.lower_shape()]);
    let (_, dxi_dth_u) = frame.shape(theta[frame.upper_shape()]);
    let mut total = 0.0;
    let (mut dxi_l_sum, mut dxi_u_sum) = (0.0, 0.0);
    let mut start = first;
    while start < n {
        let end = (start + BLOCK).min(n);
        let rows = end - start;
        let xb = data.x.slice_axis(Axis(0), Slice::from(start..end));
        if frame.hidden.is_some() {
            hidden_forward(frame, theta, xb, &mut ws.h);
        }
        let f = if frame.hidden.is_some() {
            ws.h.slice_axis(Axis(0), Slice::from(..rows))
        } else {
            xb
        };
        heads(frame, theta, f, &mut ws.z, &mut ws.s_l, &mut ws.s_u);
        for i in 0..rows {
            let mut g = RowGrad::default();
            let z =
                ws.z.row_mut(i)
                    .into_slice()
                    .unwrap_or_else(|| unreachable!("standard layout"));
            total += row(start + i, z, ws.s_l[i], ws.s_u[i], &mut g);
            ws.ds_l[i] = g.ds_l;
            ws.ds_u[i] = g.ds_u;
            dxi_l_sum += g.dxi_l;
            dxi_u_sum += g.dxi_u;
        }
        if let Some(grad) = grad.as_deref_mut() {
            let dz = ws.z.slice_axis(Axis(0), Slice::from(..rows));
            {
                let mut gw = view2_mut(grad, frame.body_w(), k, p);
                general_mat_mul(1.0, &dz.t(), &f, 1.0, &mut gw);
            }
            {
                // Column sums of the block's ∂/∂z over contiguous rows (vectorises).
                let gb = &mut grad[frame.body_b()..frame.body_b() + k];
                let dz_rows = dz
                    .as_slice()
                    .unwrap_or_else(|| unreachable!("a row range of a standard layout"));
                for row in dz_rows.chunks_exact(k) {
                    for (g, &v) in gb.iter_mut().zip(row) {
                        *g += v;
                    }
                }
            }
            for (i, row) in f.rows().into_iter().enumerate() {
                let (dl, du) = (ws.ds_l[i], ws.ds_u[i]);
                if dl != 0.0 {
                    grad[frame.lower_a0()] += dl;
                    let ga = &mut grad[frame.lower_a()..frame.lower_a0()];
                    for (g, &fi) in ga.iter_mut().zip(row.iter()) {
                        *g += dl * fi;
                    }
                }
                if du != 0.0 {
                    grad[frame.upper_a0()] += du;
                    let ga = &mut grad[frame.upper_a()..frame.upper_a0()];
                    for (g, &fi) in ga.iter_mut().zip(row.iter()) {
                        *g += du * fi;
                    }
                }
            }
            if let Some(m) = frame.hidden {
                // Back through the heads to the hidden activations, then through tanh.
                let w = view2(theta, frame.body_w(), k, p);
                let a_l = &theta[frame.lower_a()..frame.lower_a0()];
                let a_u = &theta[frame.upper_a()..frame.upper_a0()];
                let mut dh = ws.dh.slice_axis_mut(Axis(0), Slice::from(..rows));
                general_mat_mul(1.0, &dz, &w, 0.0, &mut dh);
                for (i, mut row) in dh.rows_mut().into_iter().enumerate() {
                    let (dl, du) = (ws.ds_l[i], ws.ds_u[i]);
                    for (j, v) in row.iter_mut().enumerate() {
                        let h = ws.h[[i, j]];
                        *v = (*v + dl * a_l[j] + du * a_u[j]) * (1.0 - h * h);
                    }
                }
                let dh = ws.dh.slice_axis(Axis(0), Slice::from(..rows));
                {
                    let mut gv = view2_mut(grad, 0, m, d);
                    general_mat_mul(1.0, &dh.t(), &xb, 1.0, &mut gv);
                }
                let gc = &mut grad[m * d..m * (d + 1)];
                for row in dh.rows() {
                    for (g, &v) in gc.iter_mut().zip(row.iter()) {
                        *g += v;
                    }
                }
            }
        }
        start = end;
    }
    if let Some(grad) = grad {
        grad[frame.lower_shape()] += dxi_l_sum * dxi_dth_l;
        grad[frame.upper_shape()] += dxi_u_sum * dxi_dth_u;
    }
    total
}

/// Which likelihood an objective uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The exact spliced likelihood (every parameter).
    Joint,
    /// The body's histogram likelihood (hidden layer and body parameters only).
    Body,
    /// The censored body likelihood (hidden layer and body parameters only).
    Censored,
}

/// The penalised objective per row and its gradient (written into `grad`).
pub(crate) fn objective(
    frame: &Frame,
    theta: &[f64],
    data: &Data,
    l2: f64,
    kind: Kind,
    ws: &mut Workspace,
    grad: &mut [f64],
) -> f64 {
    grad.fill(0.0);
    let ll = match kind {
        Kind::Joint => log_likelihood(frame, theta, data, ws, Some(grad)),
        Kind::Body => body_log_likelihood(frame, theta, data, ws, Some(grad)),
        Kind::Censored => censored_body_log_likelihood(frame, theta, data, ws, Some(grad)),
    };
    let n = data.n() as f64;
    let mut penalty = 0.0;
    for (i, (g, &t)) in grad.iter_mut().zip(theta).enumerate() {
        *g /= -n;
        if frame.penalised(i) && (kind == Kind::Joint || i < frame.lower_a()) {
            penalty += t * t;
            *g += l2 / n * t;
        }
    }
    -ll / n + 0.5 * l2 / n * penalty
}

/// The value of [`objective`] with [`Kind::Joint`] from the log-likelihood `ll` of
/// `n` rows (no pass over the data).
pub(crate) fn joint_objective_value(
    frame: &Frame,
    theta: &[f64],
    n: usize,
    l2: f64,
    ll: f64,
) -> f64 {
    let n = n as f64;
    let penalty: f64 = theta
        .iter()
        .enumerate()
        .filter(|&(i, _)| frame.penalised(i))
        .map(|(_, t)| t * t)
        .sum();
    -ll / n + 0.5 * l2 / n * penalty
}

/// The exceedances of one tail and the feature rows they come with.
#[derive(Debug, Clone)]
pub(crate) struct TailData {
    pub(crate) f: Vec<f64>,
    pub(crate) e: Vec<f64>,
}

/// Splits the data into the two tails' exceedances over the conditional thresholds
/// of the body in `theta`.
pub(crate) fn tail_data(frame: &Frame, theta: &[f64], data: &Data) -> (TailData, TailData) {
    let consts = RowConsts::new(frame);
    let p = frame.p();
    let mut lower = TailData {
        f: Vec::new(),
        e: Vec::new(),
    };
    let mut upper = TailData {
        f: Vec::new(),
        e: Vec::new(),
    };
    let mut scratch = RowScratch::new(frame, theta);
    for (i, row) in data.x.rows().into_iter().enumerate() {
        row_forward_standardised(frame, theta, row.iter().copied(), &mut scratch);
        let y = data.y[i];
        let lo = cut(&scratch.probs, consts.q_l);
        let tau_l = consts.low + consts.width * (lo.j as f64 + lo.r);
        let up = cut(&scratch.probs, consts.q_u);
        let tau_u = consts.low + consts.width * (up.j as f64 + up.r);
        let f: &[f64] = if frame.hidden.is_some() {
            &scratch.h
        } else {
            &scratch.xs
        };
        if y < tau_l {
            lower.e.push(tau_l - y);
            lower.f.extend_from_slice(&f[..p]);
        } else if y > tau_u {
            upper.e.push(y - tau_u);
            upper.f.extend_from_slice(&f[..p]);
        }
    }
    (lower, upper)
}

/// The penalised negative log-likelihood per exceedance of one tail's GPD with
/// parameters `[a (p), a0, θ]` (`ln σ = a·f + a0`, `ξ` from `θ`), and its gradient.
pub(crate) fn tail_objective(
    frame: &Frame,
    params: &[f64],
    tail: &TailData,
    l2: f64,
    grad: &mut [f64],
) -> f64 {
    let p = frame.p();
    let (a, a0) = (&params[..p], params[p]);
    let (xi, dxi) = frame.shape(params[p + 1]);
    grad.fill(0.0);
    let mut total = 0.0;
    for (f, &e) in tail.f.chunks_exact(p.max(1)).zip(&tail.e) {
        let f = &f[..p];
        let s = a0 + a.iter().zip(f).map(|(a, b)| a * b).sum::<f64>();
        let t = gpd_term(e, s, xi);
        total += t.g;
        for (g, &fi) in grad[..p].iter_mut().zip(f) {
            *g += t.d_s * fi;
        }
        grad[p] += t.d_s;
        grad[p + 1] += t.d_xi * dxi;
    }
    let n = tail.e.len().max(1) as f64;
    let mut penalty = 0.0;
    for (i, g) in grad.iter_mut().enumerate() {
        *g /= -n;
        if i < p {
            penalty += params[i] * params[i];
            *g += l2 / n * params[i];
        }
    }
    -total / n + 0.5 * l2 / n * penalty
}

/// Scratch of the one-row prediction kernel, with the body weights of the
/// parameters it was made for transposed (`p × K`), so that the logits are `p`
/// contiguous, vectorisable updates `z += f_j W_{·j}` instead of `K` short dot
/// products.
#[derive(Debug, Clone)]
pub(crate) struct RowScratch {
    pub(crate) xs: Vec<f64>,
    pub(crate) h: Vec<f64>,
    pub(crate) probs: Vec<f64>,
    w_t: Vec<f64>,
}

impl RowScratch {
    /// Scratch for the parameters `theta` (the kernels must be called with them).
    pub(crate) fn new(frame: &Frame, theta: &[f64]) -> Self {
        let (k, p) = (frame.bins, frame.p());
        let w = &theta[frame.body_w()..frame.body_b()];
        let mut w_t = vec![0.0; k * p];
        for kk in 0..k {
            for j in 0..p {
                w_t[j * k + kk] = w[kk * p + j];
            }
        }
        Self {
            xs: vec![0.0; frame.d()],
            h: vec![0.0; frame.m()],
            probs: vec![0.0; k],
            w_t,
        }
    }
}

/// Bin probabilities (into `scratch.probs`) and the two tail log-scales of one raw
/// feature row (of the right length, finite: checked by the caller).
pub(crate) fn row_forward(
    frame: &Frame,
    theta: &[f64],
    x: impl Iterator<Item = f64>,
    scratch: &mut RowScratch,
) -> (f64, f64) {
    let standardised = x
        .zip(frame.x_mean.iter().zip(&frame.x_scale))
        .map(|(v, (&m, &sd))| (v - m) / sd);
    row_forward_standardised(frame, theta, standardised, scratch)
}

/// As [`row_forward`] for an already standardised row; the features used by the
/// heads are left in `scratch.h` (hidden layer) or `scratch.xs`.
pub(crate) fn row_forward_standardised(
    frame: &Frame,
    theta: &[f64],
    x: impl Iterator<Item = f64>,
    scratch: &mut RowScratch,
) -> (f64, f64) {
    let (k, p, d) = (frame.bins, frame.p(), frame.d());
    for (o, v) in scratch.xs.iter_mut().zip(x) {
        *o = v;
    }
    let f: &[f64] = if let Some(m) = frame.hidden {
        for j in 0..m {
            let w = &theta[j * d..(j + 1) * d];
            let a: f64 = w.iter().zip(&scratch.xs).map(|(a, b)| a * b).sum();
            scratch.h[j] = (a + theta[m * d + j]).tanh();
        }
        &scratch.h
    } else {
        &scratch.xs
    };
    scratch
        .probs
        .copy_from_slice(&theta[frame.body_b()..frame.body_b() + k]);
    for (&fj, col) in f[..p].iter().zip(scratch.w_t.chunks_exact(k)) {
        for (o, &w) in scratch.probs.iter_mut().zip(col) {
            *o += fj * w;
        }
    }
    softmax(&mut scratch.probs);
    let dot = |a: &[f64], a0: f64| a0 + a.iter().zip(f).map(|(a, b)| a * b).sum::<f64>();
    (
        dot(
            &theta[frame.lower_a()..frame.lower_a0()],
            theta[frame.lower_a0()],
        ),
        dot(
            &theta[frame.upper_a()..frame.upper_a0()],
            theta[frame.upper_a0()],
        ),
    )
}

/// Calls `each(i, probs, s_l, s_u)` for every row of a block-evaluated batch of
/// standardised features `xs` (probabilities in `probs`, overwritable).
pub(crate) fn for_each_row(
    frame: &Frame,
    theta: &[f64],
    xs: ArrayView2<'_, f64>,
    ws: &mut Workspace,
    mut each: impl FnMut(usize, &mut [f64], f64, f64),
) {
    let n = xs.nrows();
    let mut start = 0;
    while start < n {
        let end = (start + BLOCK).min(n);
        let rows = end - start;
        let xb = xs.slice_axis(Axis(0), Slice::from(start..end));
        if frame.hidden.is_some() {
            hidden_forward(frame, theta, xb, &mut ws.h);
        }
        let f = if frame.hidden.is_some() {
            ws.h.slice_axis(Axis(0), Slice::from(..rows))
        } else {
            xb
        };
        heads(frame, theta, f, &mut ws.z, &mut ws.s_l, &mut ws.s_u);
        for i in 0..rows {
            let z =
                ws.z.row_mut(i)
                    .into_slice()
                    .unwrap_or_else(|| unreachable!("standard layout"));
            softmax(z);
            each(start + i, z, ws.s_l[i], ws.s_u[i]);
        }
        start = end;
    }
}

/// The spliced cdf at `y` from bin probabilities, log-scales and shapes.
pub(crate) fn row_cdf(
    c: &RowConsts,
    probs: &[f64],
    s_l: f64,
    s_u: f64,
    xi_l: f64,
    xi_u: f64,
    y: f64,
) -> f64 {
    let lo = cut(probs, c.q_l);
    let tau_l = c.low + c.width * (lo.j as f64 + lo.r);
    if y < tau_l {
        return c.q_l * gpd_sf(tau_l - y, s_l, xi_l);
    }
    let up = cut(probs, c.q_u);
    let tau_u = c.low + c.width * (up.j as f64 + up.r);
    if y > tau_u {
        return 1.0 - (1.0 - c.q_u) * gpd_sf(y - tau_u, s_u, xi_u);
    }
    let k = (((y - c.low) / c.width).floor().max(0.0) as usize).min(probs.len() - 1);
    let below: f64 = probs[..k].iter().sum();
    let into = ((y - c.low) / c.width - k as f64).clamp(0.0, 1.0);
    (below + probs[k] * into).clamp(0.0, 1.0)
}

fn gpd_sf(e: f64, s: f64, xi: f64) -> f64 {
    let u = e / s.exp();
    let t = xi * u;
    if t <= -1.0 {
        0.0
    } else {
        (-u * ln1p_over(t)).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn chunked_threaded_pass_equals_one_sequential_pass() {
        let (d, k) = (3, 12);
        let frame = Frame {
            x_mean: vec![0.0; d],
            x_scale: vec![1.0; d],
            low: -3.0,
            high: 3.0,
            bins: k,
            lower_mass: 0.05,
            upper_mass: 0.05,
            shape_low: -0.5,
            shape_high: 1.0,
            hidden: None,
        };
        let n = 2 * CHUNK + 77;
        let x = Array2::from_shape_fn((n, d), |(i, j)| ((i * (j + 7)) % 101) as f64 / 50.0 - 1.0);
        let y: Vec<f64> = (0..n)
            .map(|i| ((i * 37) % 211) as f64 / 30.0 - 3.5)
            .collect();
        let data = Data::new(&frame, x.view(), &y);
        let theta: Vec<f64> = (0..frame.len())
            .map(|i| ((i * 13) % 7) as f64 * 0.05 - 0.1)
            .collect();
        let mut ws = Workspace::new(&frame);
        let mut g1 = vec![0.0; theta.len()];
        let ll1 = log_likelihood(&frame, &theta, &data, &mut ws, Some(&mut g1));
        let consts = RowConsts::new(&frame);
        let (xi_l, _) = frame.shape(theta[frame.lower_shape()]);
        let (xi_u, _) = frame.shape(theta[frame.upper_shape()]);
        let mut g2 = vec![0.0; theta.len()];
        let ll2 = pass_range(
            &frame,
            &theta,
            &data,
            0,
            n,
            &mut ws,
            Some(&mut g2),
            &|i, z, s_l, s_u, g| {
                row_log_density(z, s_l, s_u, xi_l, xi_u, data.y[i], data.bin[i], &consts, g)
            },
        );
        assert!((ll1 - ll2).abs() < 1e-9 * ll2.abs(), "{ll1} vs {ll2}");
        for (a, b) in g1.iter().zip(&g2) {
            assert!((a - b).abs() < 1e-9 * (1.0 + b.abs()), "{a} vs {b}");
        }
    }

    #[test]
    fn fast_exp_matches_the_library_exp() {
        let mut worst = 0.0f64;
        let mut x = 0.0;
        while x > -745.0 {
            let (a, b) = (exp_nonpositive(x), x.max(-708.0).exp());
            worst = worst.max((a - b).abs() / b);
            x -= 0.001_234_567;
        }
        for x in [
            0.0,
            -1e-300,
            -0.5 * std::f64::consts::LN_2,
            -std::f64::consts::LN_2,
        ] {
            let (a, b) = (exp_nonpositive(x), x.exp());
            worst = worst.max((a - b).abs() / b);
        }
        assert!(worst < 4.0 * f64::EPSILON, "{worst:e}");
        let mut z = [3.0, -1.0, 0.5, 2.0, 2.5, -40.0, 1.0];
        let direct: Vec<f64> = z.iter().map(|v: &f64| v.exp()).collect();
        let total: f64 = direct.iter().sum();
        let lse = softmax(&mut z);
        assert!((lse - total.ln()).abs() < 1e-14);
        for (p, d) in z.iter().zip(&direct) {
            assert!((p - d / total).abs() < 1e-15);
        }
    }

    #[test]
    fn series_branches_agree_with_direct_forms() {
        for t in [-2e-3, -9.9e-4, 9.9e-4, 2e-3, 1.1e-4, -1.1e-4, 9e-5] {
            let direct = (f64::ln_1p(t) - t / (1.0 + t)) / (t * t);
            assert!((phi_over_t2(t) - direct).abs() < 1e-9, "{t}");
            assert!((ln1p_over(t) - t.ln_1p() / t).abs() < 1e-15, "{t}");
        }
        assert_eq!(phi_over_t2(0.0), 0.5);
    }

    #[test]
    fn gpd_term_matches_the_distribution() {
        let g = crate::GeneralizedPareto::new(0.3, 2.0).unwrap();
        let t = gpd_term(1.7, 2f64.ln(), 0.3);
        assert!((t.g - g.ln_pdf(1.7)).abs() < 1e-14);
        let g0 = crate::GeneralizedPareto::new(0.0, 2.0).unwrap();
        assert!((gpd_term(1.7, 2f64.ln(), 0.0).g - g0.ln_pdf(1.7)).abs() < 1e-14);
        // Derivatives by central differences, in and beyond the support.
        for (e, s, xi) in [
            (1.7, 0.3, 0.3),
            (0.4, -0.2, -0.4),
            (3.0, 0.0, -0.5),
            (0.2, 0.1, 1e-7),
        ] {
            let t = gpd_term(e, s, xi);
            let h = 1e-6;
            let fd = |f: &dyn Fn(f64) -> f64| (f(h) - f(-h)) / (2.0 * h);
            let ds = fd(&|d| gpd_term(e, s + d, xi).g);
            let de = fd(&|d| gpd_term(e + d, s, xi).g);
            let dx = fd(&|d| gpd_term(e, s, xi + d).g);
            for (a, b) in [(t.d_s, ds), (t.d_e, de), (t.d_xi, dx)] {
                assert!(
                    (a - b).abs() < 1e-6 * (1.0 + a.abs()),
                    "{e} {s} {xi}: {a} vs {b}"
                );
            }
        }
    }
}
