#!/usr/bin/env python3
"""Time scipy's GPD maximum-likelihood fit, for comparison with the Rust criterion bench.

Cases:
  1. scipy.stats.genpareto.fit(data, floc=0) on the 1000 draws of
     tests/fixtures/bench_gpd_1000.json (shape 0.2, scale 1), the data of the Rust bench;
  2. the same on 5000 exceedances: the excesses over the empirical 95 % quantile of
     100 000 Student-t(3) draws (numpy.random.default_rng(7)), i.e. what an SBP-style
     tail fit on a long series sees.
Prints one line per case: median and minimum wall time over --reps repetitions
(time.perf_counter, after one warm-up call). Writes nothing.

Run (from the repository root):
    python3 scripts/time_scipy_fit.py            # default 50 repetitions
    python3 scripts/time_scipy_fit.py --reps 200
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import warnings

import numpy as np
import scipy
from scipy import stats

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def exceedances_5000() -> np.ndarray:
    x = np.random.default_rng(7).standard_t(3, 100_000)
    u = np.quantile(x, 0.95)
    exc = x[x > u] - u
    return exc


def time_fit(data: np.ndarray, reps: int):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = stats.genpareto.fit(data, floc=0)  # warm-up
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            stats.genpareto.fit(data, floc=0)
            times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), fit


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=50)
    args = ap.parse_args()
    with open(os.path.join(REPO, "tests", "fixtures", "bench_gpd_1000.json")) as f:
        bench = json.load(f)
    cases = [
        (f"bench_gpd_1000.json (shape {bench['shape']}, scale {bench['scale']})",
         np.asarray(bench["data"], dtype=float)),
        ("t(3) exceedances over the 95% quantile", exceedances_5000()),
    ]
    for label, data in cases:
        med, mn, fit = time_fit(data, args.reps)
        print(f"scipy genpareto.fit(floc=0), n={data.size}: median {med * 1e3:.2f} ms "
              f"(min {mn * 1e3:.2f} ms), scipy {scipy.__version__}, numpy {np.__version__} "
              f"[{label}; {args.reps} reps; fit shape {fit[0]:.6f}, scale {fit[2]:.6f}]")


if __name__ == "__main__":
    main()
