"""Benchmarks of the Python bindings (figures quoted in README.md's Python section).

    python python/benches/bench.py                    # everything
    python python/benches/bench.py --only update_many fit
    python python/benches/bench.py --only spark --series 10000 --length 2000

1. ``update_many`` on 10^6 points against the same detector driven from Rust
   (``python/examples/update_many_baseline.rs``, run with cargo): the bindings'
   overhead.
2. ``GeneralizedPareto.fit`` against ``scipy.stats.genpareto.fit`` (location fixed
   at 0) on the same samples: time and log-likelihood reached.
3. Spark local[2]: series per second for ``--series`` series of ``--length`` points
   through ``tailcast.spark.detect``, and the share of the wall time spent outside
   tailcast (the detectors' own time is measured by running the same series
   locally).
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np

import tailcast

ROOT = pathlib.Path(__file__).resolve().parents[2]


def series(n, seed):
    """As benches/detector.rs: a sine of period 100, N(0, 0.25) noise, 15 % spikes."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 5.0 + np.sin(t * 2 * np.pi / 100) + rng.normal(0, 0.25, n)
    spikes = rng.uniform(size=n) < 0.15
    sign = np.where(rng.uniform(size=n) < 0.5, 1.0, -1.0)
    y[spikes] += sign[spikes] * rng.exponential(1.0, spikes.sum())
    return y


def bench_update_many(n=1_000_000, window=1000):
    y = series(n, 2)
    best = np.inf
    for _ in range(3):
        det = tailcast.AnomalyDetector(window=window)
        start = time.perf_counter()
        out = det.update_many(y)
        best = min(best, time.perf_counter() - start)
    with tempfile.NamedTemporaryFile(suffix=".f64", delete=False) as f:
        f.write(y.astype("<f8").tobytes())
        path = f.name
    try:
        run = subprocess.run(
            ["cargo", "run", "--quiet", "--release", "-p", "tailcast-python",
             "--example", "update_many_baseline", "--", path, str(window)],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )
        rust = json.loads(run.stdout.strip().splitlines()[-1])
    finally:
        os.unlink(path)
    assert rust["anomalies"] == int(out["is_anomaly"].sum()), "Python and Rust disagree"
    overhead = best / rust["seconds"] - 1
    print(f"update_many, {n:,} points, window {window}: Python {best:.3f} s "
          f"({n / best / 1e6:.2f} M points/s), Rust {rust['seconds']:.3f} s; "
          f"overhead {100 * overhead:+.1f} %")
    return {"python_s": best, "rust_s": rust["seconds"], "overhead": overhead}


def bench_fit(sizes=(100, 1000, 10_000), shapes=(-0.2, 0.2, 0.7), reps=5):
    from scipy import stats

    rows = []
    for n in sizes:
        for xi in shapes:
            t_ours = t_scipy = 0.0
            gains = []
            for r in range(reps):
                x = tailcast.GeneralizedPareto(xi, 1.0).rvs(n, seed=1000 * r + n)
                start = time.perf_counter()
                fit = tailcast.GeneralizedPareto.fit(x)
                t_ours += time.perf_counter() - start
                start = time.perf_counter()
                c, _, scale = stats.genpareto.fit(x, floc=0)
                t_scipy += time.perf_counter() - start
                ll_scipy = float(np.sum(tailcast.GeneralizedPareto(c, scale).logpdf(x)))
                gains.append(fit.log_likelihood - ll_scipy)
            rows.append((n, xi, t_ours / reps, t_scipy / reps, min(gains), max(gains)))
            print(f"fit n={n:>6} shape={xi:+.1f}: tailcast {1e3 * t_ours / reps:8.3f} ms, "
                  f"scipy {1e3 * t_scipy / reps:8.3f} ms ({t_scipy / t_ours:6.1f}x); "
                  f"log-lik tailcast - scipy in [{min(gains):.2e}, {max(gains):.2e}]")
    return rows


def bench_spark(series_count, length, window):
    import pandas as pd
    from pyspark.sql import SparkSession

    from pyspark.sql import functions as F

    from tailcast.spark import detect

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (
        SparkSession.builder.master("local[2]").appName("tailcast-bench")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "4g")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    rng = np.random.default_rng(0)
    values = np.concatenate([series(length, int(s)) for s in rng.integers(0, 2**31, series_count)])
    pdf = pd.DataFrame({
        "key": np.repeat(np.arange(series_count), length),
        "t": np.tile(np.arange(length), series_count),
        "y": values,
    })
    df = spark.createDataFrame(pdf).cache()
    df.count()
    config = {"window": window}
    start = time.perf_counter()
    out = detect(df, "key", "t", "y", **config)
    flagged = out.select(F.sum(F.col("is_anomaly").cast("long"))).collect()[0][0]
    wall = time.perf_counter() - start
    # The detectors' own time, single-threaded, for the same series.
    start = time.perf_counter()
    for k in range(series_count):
        tailcast.AnomalyDetector(**config).update_many(values[k * length:(k + 1) * length])
    inside = time.perf_counter() - start
    spark.stop()
    share_outside = 1 - inside / (2 * wall)
    print(f"spark local[2]: {series_count:,} series x {length:,} points in {wall:.1f} s = "
          f"{series_count / wall:,.0f} series/s ({series_count * length / wall / 1e6:.2f} M points/s); "
          f"tailcast alone {inside:.1f} s on one core; share of the 2 cores' time outside "
          f"tailcast {100 * share_outside:.0f} %; {flagged} anomalies flagged")
    return {"wall_s": wall, "inside_s": inside, "share_outside": share_outside}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", nargs="*", default=["update_many", "fit", "spark"])
    p.add_argument("--points", type=int, default=1_000_000)
    p.add_argument("--series", type=int, default=10_000)
    p.add_argument("--length", type=int, default=2_000)
    p.add_argument("--window", type=int, default=1000)
    a = p.parse_args()
    if "update_many" in a.only:
        bench_update_many(a.points, a.window)
    if "fit" in a.only:
        bench_fit()
    if "spark" in a.only:
        bench_spark(a.series, a.length, min(a.window, a.length // 2))


if __name__ == "__main__":
    main()
