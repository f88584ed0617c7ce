import json
import math
import os
import pathlib
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


def num(v):
    """A fixture number ('inf', '-inf', 'NaN' are strings)."""
    if isinstance(v, str):
        return float(v.replace("NaN", "nan"))
    return float(v)


@pytest.fixture(scope="session")
def fixture():
    def load(name):
        with open(FIXTURES / name) as f:
            return json.load(f)

    return load


def assert_close(got, want, rtol, atol, what=""):
    if math.isnan(want):
        assert math.isnan(got), what
        return
    if math.isinf(want):
        assert got == want, f"{what}: {got} != {want}"
        return
    assert abs(got - want) <= max(rtol * abs(want), atol), f"{what}: {got} != {want}"


def heavy_series(n, seed, spikes=True):
    """A level with Student-t noise, a daily-like wave and a few spikes."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 10 + np.sin(t / 7.0) + rng.standard_t(3, n)
    if spikes:
        idx = rng.choice(n, size=max(1, n // 200), replace=False)
        y[idx] += rng.choice([-1, 1], size=idx.size) * 25
    return y


@pytest.fixture(scope="session")
def spark():
    """One local[2] SparkSession for the whole test session (skipped without
    pyspark or Java, unless TAILCAST_REQUIRE_SPARK=1, as in CI)."""
    required = os.environ.get("TAILCAST_REQUIRE_SPARK") == "1"
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        if required:
            raise
        pytest.skip("pyspark is not installed")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("tailcast-tests")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.memory", "1g")
        .config("spark.python.worker.reuse", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
