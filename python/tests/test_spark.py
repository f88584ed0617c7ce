"""tailcast.spark on a real Spark (local[2]): several hundred short series."""

import numpy as np
import pytest

from tailcast import AnomalyDetector
from tailcast.frames import RESULT_COLUMNS

from conftest import heavy_series

pd = pytest.importorskip("pandas")

SERIES = 300
LENGTH = 240
CONFIG = {"window": 100, "risk": 1e-3}


@pytest.fixture(scope="module")
def data():
    frames = []
    for k in range(SERIES):
        y = heavy_series(LENGTH, 1000 + k)
        if k % 7 == 0:
            y[LENGTH // 2] = np.nan  # missing values travel as nulls
        frames.append(pd.DataFrame({"sensor": k, "ts": np.arange(LENGTH, dtype=np.int64), "reading": y}))
    return pd.concat(frames, ignore_index=True)


def local_results(pdf):
    """The reference: one detector per series, in time order."""
    out = {}
    for k, g in pdf.groupby("sensor"):
        g = g.sort_values("ts")
        out[k] = (g.ts.to_numpy(), AnomalyDetector(**CONFIG).update_many(g.reading.to_numpy()))
    return out


def check_against(result_pdf, reference):
    assert set(result_pdf.sensor.unique()) == set(reference)
    for k, g in result_pdf.groupby("sensor"):
        g = g.sort_values("ts")
        ts, want = reference[k]
        np.testing.assert_array_equal(g.ts.to_numpy(), ts)
        for c in RESULT_COLUMNS:
            np.testing.assert_array_equal(g[c].to_numpy(dtype=want[c].dtype), want[c], err_msg=f"{k} {c}")


def test_detect_on_spark_equals_local_detectors(spark, data):
    from tailcast.spark import detect

    df = spark.createDataFrame(data.sample(frac=1.0, random_state=3))
    out = detect(df, "sensor", "ts", "reading", **CONFIG)
    assert out.columns == ["sensor", "ts", "reading", *RESULT_COLUMNS]
    pdf = out.toPandas()
    assert len(pdf) == SERIES * LENGTH
    check_against(pdf, local_results(data))
    assert pdf.is_anomaly.sum() > 0


def test_detect_incremental_resumes_like_one_pass(spark, data):
    from tailcast.spark import detect_incremental

    cut1, cut2 = 90, 170
    first = data[data.ts < cut1]
    second = data[(data.ts >= cut1) & (data.ts < cut2) & (data.sensor != 5)]  # sensor 5 skips a batch
    third = data[(data.ts >= cut2) | ((data.sensor == 5) & (data.ts >= cut1))]
    r1, s1 = detect_incremental(spark.createDataFrame(first), None, "sensor", "ts", "reading", **CONFIG)
    s1 = s1.cache()
    assert s1.count() == SERIES
    r2, s2 = detect_incremental(spark.createDataFrame(second), s1, "sensor", "ts", "reading", cache=True)
    r3, s3 = detect_incremental(spark.createDataFrame(third), s2, "sensor", "ts", "reading")
    pieces = [r.toPandas() for r in (r1, r2, r3)]
    check_against(pd.concat(pieces, ignore_index=True), local_results(data))
    states = s3.toPandas()
    assert len(states) == SERIES and states.sensor.is_unique
    # The saved state is the detector after the whole series.
    k = 11
    whole = AnomalyDetector(**CONFIG)
    whole.update_many(data[data.sensor == k].sort_values("ts").reading.to_numpy())
    assert bytes(states[states.sensor == k].state.iloc[0]) == whole.to_bytes()


def test_bad_config_fails_on_the_driver(spark, data):
    from tailcast.spark import detect

    df = spark.createDataFrame(data.head(10))
    with pytest.raises(ValueError, match="risk"):
        detect(df, "sensor", "ts", "reading", risk=2.0)
    with pytest.raises(ValueError, match="not in the DataFrame"):
        detect(df, "sensor", "time", "reading")
