//! Certified upper bounds of the generalized Pareto profile likelihood over intervals
//! of the search variable, from the exact values at the interval's ends: what lets
//! the global search discard a whole interval after two evaluations.
//!
//! Notation (scaled units as in `profile.rs`: `y = x/x_max` in `(0, 1]`, weights `w`
//! with total `W`, means weighted):
//!
//! ```text
//! g(u) = mean ln(1 + u y)  (= ξ)      σ(u) = g(u)/u  (= σ/x_max)      v = ln(1 + u)
//! l*(u) = -W [ln σ(u) + g(u) + 1 + ln x_max]
//! ```
//!
//! Each fact below holds for every point's term as a function of `u y` (or of `v`),
//! so it holds for the weighted means, on the whole domain `u > -1`:
//!
//! * (F1) `g` is increasing and concave in `u`.
//! * (F2) `σ(u) = mean y φ(u y)` with `φ(t) = ln(1 + t)/t = ∫₀¹ ds/(1 + s t)`, so `σ`
//!   is positive, decreasing and convex, and `|σ'|` and `σ''` are decreasing
//!   (`φ' < 0 < φ''`, and `φ''` decreases).
//! * (F3) `c(u) = -g''(u) = mean (y/(1 + u y))²` is positive and decreasing.
//! * (F4) In `v`, each term `ln(1 - y + y e^v)` is increasing and convex with slope
//!   `y e^v/(1 - y + y e^v) <= 1`. So `g` is convex in `v`, and `D(v) = g - v` is
//!   decreasing and convex with limit `L = mean ln y` as `v -> ∞`: `D >= L`.
//! * (F5) `ln(1 - e^v)` (`v < 0`) and `ln(1 - e^{-v})` (`v > 0`) are concave.
//!
//! The bounds, for an interval between evaluated points `a < b`, each a maximum of a
//! function that is convex between known break points (so its largest value is at one
//! of them):
//!
//! * (A) Any interval: `σ >=` its tangents at `a` and `b` (F2) and `g >=` its chord
//!   (F1), so `l*/W <= -ln σ_lo - g_lo - 1 - ln x_max`, convex on each side of the
//!   tangents' crossing.
//! * (B) `v < 0`: `l*/W = G(g) + ln(1 - e^v) - 1 - ln x_max` with
//!   `G(g) = -ln(-g) - g`, increasing on the feasible range `-1 <= g < 0`. `g <=` its
//!   chord in `v` (F4) and `ln(1 - e^v) <=` the smaller of its tangents at `a` and
//!   `b` (F5): `G(chord) + tangent` is convex on each side of the tangents'
//!   crossing. Where the chord is below `-1` so is `g`: no feasible point.
//! * (C) `v > 0`: `l*/W = -ln(v + D) - D + ln(1 - e^{-v}) - 1 - ln x_max`, decreasing
//!   in `D`; `D >=` its tangents at `a` and `b` (F4) and `ln(1 - e^{-v}) <=` the
//!   smaller of its tangents at `a` and `b` (F5): convex between the two crossings.
//! * (K) Concavity: `l*''/W = -σ''/σ + (σ'/σ)² + c <= -σ''(b)/σ(a) + (σ'(a)/σ(b))² +
//!   c(a) = K` (F2, F3). If `K < 0`, `l*` lies below the parabola through either end
//!   with that end's slope and curvature `W K`.
//! * (M) Monotonicity: `(dl*/du)/W = |σ'|/σ - g'` lies between
//!   `|σ'(b)|/σ(a) - g'(a)` and `|σ'(a)|/σ(b) - g'(b)` (F1, F2); if either bound has
//!   a strict sign, `l*` is monotone and its maximum is at an end.
//!
//! And the two unbounded ends:
//!
//! * Left of a feasible point at `v_L < 0`, `g <= g(v_L)` (F1) and `ln(1 - e^v) <= 0`,
//!   so `l* <= l*(v_L) - W ln(1 - e^{v_L})`; also every feasible point there has
//!   `ξ >= -1` and `σ >= σ(v_L)`, so `l* <= -W ln σ(v_L) - W ln x_max`.
//! * Right of `v_R > 0`, `D >= max(L, tangent at v_R)` (F4) carries (C) to infinity.
//!
//! Every bound is an upper bound of the unconstrained profile, hence of its feasible
//! (`ξ >= -1`) part; (B) and the left end also use the constraint.

use super::profile::ProfilePoint;

/// `W` and `1 + ln x_max`, the constants of `l* = -W [ln σ + g + 1 + ln x_max]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scale {
    pub(crate) w: f64,
    pub(crate) offset: f64,
}

impl Scale {
    /// `l*` from `-ln σ - g` (per unit weight, without the constant).
    fn ll(&self, per_weight: f64) -> f64 {
        self.w * (per_weight - self.offset)
    }
}

/// Whether `l*` is at most `target` on `[a.v, b.v]` (`a.v < b.v`): the bounds are
/// tried cheapest first, and the first one at most `target` settles it.
pub(crate) fn interval_below(a: &ProfilePoint, b: &ProfilePoint, s: Scale, target: f64) -> bool {
    if !b.feasible {
        // g(b) < -1 makes every point left of b infeasible (F1); anything else
        // unusable (non-finite) proves nothing.
        return b.xi < -1.0;
    }
    if !a.feasible {
        return a.xi < -1.0 && b.v < 0.0 && negative_v(a, b, s) <= target;
    }
    if a.ll.max(b.ll) > target {
        // Every bound is at least the larger end value.
        return false;
    }
    monotone(a, b) <= target
        || concave(a, b, s).is_some_and(|k| k <= target)
        || tangents_u(a, b, s) <= target
        || (b.v < 0.0 && negative_v(a, b, s) <= target)
        || (a.v > 0.0 && positive_v(a, b, s) <= target)
}

/// (M): the larger end value if `l*` is provably monotone on the interval.
fn monotone(a: &ProfilePoint, b: &ProfilePoint) -> f64 {
    let upper = -a.d_sigma / b.sigma_y - b.b;
    let lower = -b.d_sigma / a.sigma_y - a.b;
    if upper < 0.0 {
        a.ll
    } else if lower > 0.0 {
        b.ll
    } else {
        f64::INFINITY
    }
}

/// (K): the bound from the parabolas, if the curvature bound is negative.
fn concave(a: &ProfilePoint, b: &ProfilePoint, s: Scale) -> Option<f64> {
    let k = -b.dd_sigma / a.sigma_y + (a.d_sigma / b.sigma_y).powi(2) + a.c;
    if !(k < 0.0) {
        return None;
    }
    let curv = s.w * k;
    // Highest point of the parabola through `p` over [a.u, b.u].
    let top = |p: &ProfilePoint| {
        let peak = (p.u - p.score / curv).clamp(a.u, b.u);
        let d = peak - p.u;
        p.ll + p.score * d + 0.5 * curv * d * d
    };
    Some(top(a).min(top(b)))
}

/// (A): tangents of `σ`, chord of `g`, in `u`.
fn tangents_u(a: &ProfilePoint, b: &ProfilePoint, s: Scale) -> f64 {
    let du = b.u - a.u;
    let slope_diff = a.d_sigma - b.d_sigma;
    // The tangents cross inside [a, b] (σ convex); rounding can put it just outside.
    let cross = if slope_diff < 0.0 {
        (b.sigma_y - a.sigma_y + a.d_sigma * a.u - b.d_sigma * b.u) / slope_diff
    } else {
        0.5 * (a.u + b.u)
    }
    .clamp(a.u, b.u);
    let sigma_lo =
        (a.sigma_y + a.d_sigma * (cross - a.u)).max(b.sigma_y + b.d_sigma * (cross - b.u));
    if !(sigma_lo > 0.0) {
        return f64::INFINITY;
    }
    let g_lo = a.xi + (b.xi - a.xi) * ((cross - a.u) / du);
    let at_cross = s.ll(-sigma_lo.ln() - g_lo);
    at_cross.max(a.ll).max(b.ll)
}

/// `ln(1 - e^v)` for `v < 0`.
fn ln_one_minus_exp(v: f64) -> f64 {
    (-v.exp_m1()).ln()
}

/// The upper envelope of a concave function of `v` known at `a` and `b` with its
/// slopes there: the smaller of the two tangents, and where they cross.
struct Tangents {
    a: (f64, f64, f64),
    b: (f64, f64, f64),
    cross: f64,
}

impl Tangents {
    /// Of `ln(1 - e^{-|v|})`, from the values cached at the points.
    fn tail(a: &ProfilePoint, b: &ProfilePoint) -> Self {
        Self::new(
            (a.v, a.ln_tail, a.tail_slope),
            (b.v, b.ln_tail, b.tail_slope),
        )
    }

    fn new(a: (f64, f64, f64), b: (f64, f64, f64)) -> Self {
        // Concave: the slope falls from a to b and the tangents cross in between
        // (rounding can put the crossing just outside).
        let cross = if a.2 > b.2 {
            (b.1 - a.1 + a.2 * a.0 - b.2 * b.0) / (a.2 - b.2)
        } else {
            0.5 * (a.0 + b.0)
        }
        .clamp(a.0, b.0);
        Self { a, b, cross }
    }

    fn at(&self, v: f64) -> f64 {
        let ta = self.a.1 + self.a.2 * (v - self.a.0);
        let tb = self.b.1 + self.b.2 * (v - self.b.0);
        ta.min(tb)
    }
}

/// (B): `v < 0`, chord of `g` in `v` and the tangents of `ln(1 - e^v)` at the ends.
/// Between the break points (the tangents' crossing, and where the chord reaches
/// `-1`) the bound is convex, so its largest value is at one of them; at the ends
/// it is the profile itself.
fn negative_v(a: &ProfilePoint, b: &ProfilePoint, s: Scale) -> f64 {
    let (ga, gb) = (a.xi, b.xi);
    if !((-1.0..0.0).contains(&gb) && ga <= gb) {
        return f64::INFINITY;
    }
    let chord = |v: f64| ga + (gb - ga) * ((v - a.v) / (b.v - a.v));
    // The part of [a, b] where the chord is >= -1 (left of it g < -1: infeasible).
    let v_lo = if ga >= -1.0 {
        a.v
    } else {
        a.v + (-1.0 - ga) / (gb - ga) * (b.v - a.v)
    };
    let tail = Tangents::tail(a, b);
    let big_g = |g: f64| -(-g).ln() - g;
    // l*/W + offset = -ln σ - g = G(g) + ln(1 - e^v).
    let at = |v: f64, g: f64| s.ll(big_g(g) + tail.at(v));
    let mut bound = b.ll;
    bound = bound.max(if ga >= -1.0 { a.ll } else { at(v_lo, -1.0) });
    if tail.cross > v_lo {
        bound = bound.max(at(tail.cross, chord(tail.cross)));
    }
    bound
}

/// `dD/dv = dg/dv - 1 = (1 + u) g'(u) - 1`.
fn d_slope(p: &ProfilePoint) -> f64 {
    (1.0 + p.u) * p.b - 1.0
}

/// `-ln(v + D) - D`, the part of `l*/W` that depends on `D` (`+∞` if `v + D <= 0`).
fn h(v: f64, d: f64) -> f64 {
    let g = v + d;
    if g > 0.0 { -g.ln() - d } else { f64::INFINITY }
}

/// (C): `v > 0`, tangents of `D = g - v` (a lower envelope: `D` is convex) and of
/// `ln(1 - e^{-v})` (an upper one), in `v`. Between the two crossing points the bound
/// is convex; at the ends it is the profile itself.
fn positive_v(a: &ProfilePoint, b: &ProfilePoint, s: Scale) -> f64 {
    let (da, db) = (a.xi - a.v, b.xi - b.v);
    let (sa, sb) = (d_slope(a), d_slope(b));
    let d_cross = if sa < sb {
        (db - da + sa * a.v - sb * b.v) / (sa - sb)
    } else {
        0.5 * (a.v + b.v)
    }
    .clamp(a.v, b.v);
    let d_lo = |v: f64| (da + sa * (v - a.v)).max(db + sb * (v - b.v));
    let tail = Tangents::tail(a, b);
    let at = |v: f64| s.ll(h(v, d_lo(v)) + tail.at(v));
    a.ll.max(b.ll).max(at(d_cross)).max(at(tail.cross))
}

/// An upper bound of `l*` over the feasible points left of `p` (`p.v < 0`).
pub(crate) fn left_end(p: &ProfilePoint, s: Scale) -> f64 {
    if p.xi < -1.0 {
        // g < -1 here and everywhere left of here (F1): nothing feasible.
        return f64::NEG_INFINITY;
    }
    // Only the value is needed (far left the derivatives can overflow).
    if !(p.v < 0.0 && p.xi >= -1.0 && p.ll.is_finite() && p.sigma_y > 0.0) {
        return f64::INFINITY;
    }
    let by_g = p.ll - s.w * p.ln_tail;
    let by_sigma = s.ll(-p.sigma_y.ln() + 1.0);
    by_g.min(by_sigma)
}

/// An upper bound of `l*` right of `p` (`p.v > 0`), with `mean_ln_y = L`.
pub(crate) fn right_end(p: &ProfilePoint, mean_ln_y: f64, s: Scale) -> f64 {
    if !(p.feasible && p.v > 0.0) {
        return f64::INFINITY;
    }
    let d = p.xi - p.v;
    let slope = d_slope(p);
    if !(slope < 0.0) {
        return f64::INFINITY;
    }
    // Where the tangent of D meets its floor L.
    let v_k = p.v + ((mean_ln_y - d) / slope).max(0.0);
    // ln(1 - e^{-v}) is increasing: below its value at v_k on [v, v_k], below 0 beyond.
    let cap = ln_one_minus_exp(-v_k);
    let per_weight = (h(p.v, d) + cap).max(h(v_k, mean_ln_y.min(d)));
    s.ll(per_weight)
}
