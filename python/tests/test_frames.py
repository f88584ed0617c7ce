"""The per-series function on pandas and Polars groups, and the spark module's
import without pyspark."""

import subprocess
import sys

import numpy as np
import pytest

from tailcast import AnomalyDetector
from tailcast.frames import RESULT_COLUMNS, detect_frame, detect_frame_with_state

from conftest import heavy_series

pd = pytest.importorskip("pandas")


def long_frame(keys=5, n=400, seed=0):
    rows = []
    for k in range(keys):
        y = heavy_series(n, seed + k)
        rows.append(pd.DataFrame({"key": f"s{k}", "t": np.arange(n), "y": y}))
    df = pd.concat(rows, ignore_index=True)
    # Shuffled: each group is sorted by time inside.
    return df.sample(frac=1.0, random_state=1).reset_index(drop=True)


def test_pandas_groupby_apply_matches_one_detector_per_series():
    df = long_frame()
    out = df.groupby("key", group_keys=False).apply(
        lambda g: detect_frame(g, "t", "y", key="key", window=100)
    )
    assert list(out.columns) == ["key", "t", "y", *RESULT_COLUMNS]
    assert len(out) == len(df)
    for k, g in out.groupby("key"):
        src = df[df.key == k].sort_values("t")
        want = AnomalyDetector(window=100).update_many(src.y.to_numpy())
        np.testing.assert_array_equal(g.t.to_numpy(), src.t.to_numpy())
        for c in RESULT_COLUMNS:
            np.testing.assert_array_equal(g[c].to_numpy(), want[c], err_msg=c)


def test_state_resumes_across_frames():
    df = long_frame(keys=1, n=600).sort_values("t")
    whole = detect_frame(df, "t", "y", window=100)
    a, state = detect_frame_with_state(df.iloc[:250], "t", "y", window=100)
    b = detect_frame(df.iloc[250:], "t", "y", state=state)
    for c in RESULT_COLUMNS:
        np.testing.assert_array_equal(np.concatenate([a[c], b[c]]), whole[c].to_numpy(), err_msg=c)


def test_polars_group_by_map_groups():
    pl = pytest.importorskip("polars")
    df = pl.from_pandas(long_frame(keys=3, n=300))
    out = df.group_by("key").map_groups(lambda g: detect_frame(g, "t", "y", key="key", window=100))
    assert out.columns == ["key", "t", "y", *RESULT_COLUMNS] and out.height == df.height
    g = out.filter(pl.col("key") == "s1").sort("t")
    src = df.filter(pl.col("key") == "s1").sort("t")
    want = AnomalyDetector(window=100).update_many(src.get_column("y").to_numpy())
    np.testing.assert_array_equal(g.get_column("p_value").to_numpy(), want["p_value"])


def test_spark_module_imports_without_pyspark():
    code = (
        "import sys; sys.modules['pyspark'] = None\n"
        "import tailcast.spark as s\n"
        "try:\n    s.detect(None, 'k', 't', 'y')\nexcept ImportError:\n    print('lazy')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "lazy", out.stderr
