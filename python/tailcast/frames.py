"""One detector per series on data frames: the per-series function that
:mod:`tailcast.spark` runs on each group, usable directly from pandas and Polars.

pandas::

    import tailcast.frames as tf
    out = (df.groupby("key", group_keys=False)
             .apply(lambda g: tf.detect_frame(g, "time", "value", key="key", window=500)))

Polars::

    out = df.group_by("key").map_groups(
        lambda g: tf.detect_frame(g, "time", "value", key="key", window=500))

Each group is sorted by ``time`` and run through a fresh :class:`AnomalyDetector`
configured with the keywords; the result has one row per observation with the
columns of :data:`RESULT_COLUMNS` (the key column first when ``key`` is given), of
the same kind of frame as the input.
"""

from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from ._tailcast import AnomalyDetector

#: The verdict columns added to (key, time, value), in order.
RESULT_COLUMNS: Tuple[str, ...] = (
    "p_value",
    "score",
    "is_anomaly",
    "lower",
    "upper",
    "regime_change",
)


def _is_polars(df: Any) -> bool:
    return type(df).__module__.split(".")[0] == "polars"


def _columns(df: Any, key: Optional[str], time: str, value: str) -> Tuple[Any, Any, np.ndarray]:
    """(key value or None, sorted times, values in time order)."""
    if _is_polars(df):
        df = df.sort(time, maintain_order=True)
        times = df.get_column(time)
        values = df.get_column(value).cast(float).to_numpy()
        k = df.get_column(key)[0] if key is not None and len(df) else None
        return k, times, np.ascontiguousarray(values, dtype=float)
    df = df.sort_values(time, kind="mergesort")
    times = df[time].to_numpy()
    values = df[value].to_numpy(dtype=float, na_value=np.nan)
    k = None
    if key is not None:
        if key in df.columns:
            k = df[key].iloc[0] if len(df) else None
        else:
            # pandas >= 3 leaves the grouping column out of groupby().apply's
            # groups; the group's name is its key.
            k = getattr(df, "name", None)
    return k, times, np.ascontiguousarray(values, dtype=float)


def _frame(like: Any, data: Dict[str, Any]) -> Any:
    if _is_polars(like):
        import polars as pl

        return pl.DataFrame(data)
    import pandas as pd

    return pd.DataFrame(data)


def run_detector(detector: AnomalyDetector, values: np.ndarray) -> Dict[str, np.ndarray]:
    """The verdict columns of :data:`RESULT_COLUMNS` for ``values`` (GIL released)."""
    out = detector.update_many(values)
    return {c: out[c] for c in RESULT_COLUMNS}


def detect_frame(
    df: Any,
    time: str,
    value: str,
    *,
    key: Optional[str] = None,
    state: Optional[bytes] = None,
    **config: Any,
) -> Any:
    """Runs one detector over one series (a pandas or Polars frame).

    ``state``: bytes from :meth:`AnomalyDetector.to_bytes` to resume from (the
    configuration keywords are then ignored: the state carries its own).
    """
    k, times, values = _columns(df, key, time, value)
    det = AnomalyDetector.from_bytes(state) if state is not None else AnomalyDetector(**config)
    data: Dict[str, Any] = {}
    if key is not None:
        data[key] = [k] * len(values)
    data[time] = times
    data[value] = values
    data.update(run_detector(det, values))
    return _frame(df, data)


def detect_frame_with_state(
    df: Any,
    time: str,
    value: str,
    *,
    key: Optional[str] = None,
    state: Optional[bytes] = None,
    **config: Any,
) -> Tuple[Any, bytes]:
    """As :func:`detect_frame`, and the detector's state after the last row."""
    k, times, values = _columns(df, key, time, value)
    det = AnomalyDetector.from_bytes(state) if state is not None else AnomalyDetector(**config)
    data: Dict[str, Any] = {}
    if key is not None:
        data[key] = [k] * len(values)
    data[time] = times
    data[value] = values
    data.update(run_detector(det, values))
    return _frame(df, data), det.to_bytes()


__all__: List[str] = ["RESULT_COLUMNS", "detect_frame", "detect_frame_with_state", "run_detector"]
