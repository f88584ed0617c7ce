#!/usr/bin/env python3
"""Reference values of the paper series' true noise distribution (the oracle).

Writes tests/fixtures/paper_oracle.json: the cdf of
    eps = min(0, 0.25 T1) + max(0, 0.25 T2) + J,   T1, T2 ~ t(10) iid,
    J = -GPD(1/50, 1) w.p. 0.075, +GPD(1/25, 1) w.p. 0.075, 0 otherwise,
at a few points (and its left limit at the atom 0), by nested scipy.integrate.quad:
    F0(x) = P(min(0,A) + max(0,B) <= x)
          = G(x)/2 + int_0^inf g(p) G(x - p) dp            (x < 0)
          = G(x)/2 + int_0^inf g(r) G(x + r) dr            (x >= 0)
    F(e)  = 0.85 F0(e) + 0.075 E[F0(e + Y_l)] + 0.075 E[F0(e - Y_u)],
with G, g the cdf and density of 0.25 T (scipy.stats.t) and the spike expectations
split at the jump of F0 at 0. Independent of the Rust construction (which uses
Gauss-Legendre in other variables and Chebyshev tables).

Run from the repository root (about four minutes):
    python3 scripts/gen_oracle_fixture.py
Requires numpy and scipy.
"""

import json
import os

import numpy as np
import scipy
from scipy import integrate, stats

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
S = 0.25
T = stats.t(10)
Y_LOWER = stats.genpareto(1 / 50)
Y_UPPER = stats.genpareto(1 / 25)
P_SPIKE = 0.075
QUAD = dict(epsabs=1e-14, epsrel=1e-13, limit=200)


def G(x):
    return T.cdf(x / S)


def g(x):
    return T.pdf(x / S) / S


def f0(x, left=False):
    if x == 0.0:
        return 0.375 if left else 0.625  # 1/4 + 1/8 below, plus the atom 1/4
    if x < 0:
        return 0.5 * G(x) + integrate.quad(lambda p: g(p) * G(x - p), 0, np.inf, **QUAD)[0]
    return 0.5 * G(x) + integrate.quad(lambda r: g(r) * G(x + r), 0, np.inf, **QUAD)[0]


def spike(e, y, sign):
    """E[F0(e + sign Y)], split where the argument crosses the jump at 0."""
    f = lambda v: y.pdf(v) * f0(e + sign * v)
    jump = -sign * e
    if jump > 0:
        return integrate.quad(f, 0, jump, **QUAD)[0] + integrate.quad(f, jump, np.inf, **QUAD)[0]
    return integrate.quad(f, 0, np.inf, **QUAD)[0]


def cdf(e, left=False):
    base = f0(e, left) if e == 0.0 else f0(e)
    return (1 - 2 * P_SPIKE) * base + P_SPIKE * (spike(e, Y_LOWER, 1.0) + spike(e, Y_UPPER, -1.0))


def main():
    points = [-6.0, -3.0, -1.0, -0.3, -0.05, 0.0, 0.1, 0.5, 2.0, 5.0]
    rows = []
    for e in points:
        row = {"e": e, "cdf": cdf(e)}
        if e == 0.0:
            row["cdf_left"] = cdf(e, left=True)
        print(row, flush=True)
        rows.append(row)
    out = {
        "source": f"nested scipy.integrate.quad (epsabs 1e-14, epsrel 1e-13; scipy {scipy.__version__}, "
                  f"numpy {np.__version__})",
        "command": "python3 scripts/gen_oracle_fixture.py",
        "model": "eps = min(0, 0.25 T1) + max(0, 0.25 T2) + J; T ~ t(10); J = -GPD(1/50,1) w.p. 0.075, "
                 "+GPD(1/25,1) w.p. 0.075, else 0 (the paper's series with n = 1000 or 5000)",
        "atom": 0.2125,
        "points": rows,
    }
    path = os.path.join(REPO, "tests", "fixtures", "paper_oracle.json")
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
