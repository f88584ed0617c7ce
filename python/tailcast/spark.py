"""Scale-out on Apache Spark: one :class:`~tailcast.AnomalyDetector` per series with
``groupBy(key).applyInPandas``. Importing this module does not import pyspark; the
functions do, when called.

>>> from tailcast.spark import detect                        # doctest: +SKIP
>>> out = detect(df, "sensor", "ts", "reading", window=500, risk=1e-4)  # doctest: +SKIP

Incremental runs keep each series' detector state in a DataFrame (one row per key,
the state column holding :meth:`AnomalyDetector.to_bytes`)::

    results, state = detect_incremental(batch1, None, "sensor", "ts", "reading", window=500)
    results2, state = detect_incremental(batch2, state, "sensor", "ts", "reading")

Resuming gives the same verdicts as one pass over the concatenated batches (each
batch's rows of a series must come after the previous batches' rows). Both returned
frames are lazy; they are computed from the same grouped pass, so cache the pair's
source (``cache=True``) when materialising both.
"""

from typing import TYPE_CHECKING, Any, Optional, Tuple

from .frames import RESULT_COLUMNS, detect_frame, detect_frame_with_state

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame

#: The state frame's column holding the detector bytes.
STATE_COLUMN = "state"

_VERDICT_TYPES = {
    "p_value": "double",
    "score": "double",
    "is_anomaly": "boolean",
    "lower": "double",
    "upper": "double",
    "regime_change": "boolean",
}


def _result_schema(df: "DataFrame", key: str, time: str, value: str) -> Any:
    from pyspark.sql.types import (
        BooleanType,
        DoubleType,
        StructField,
        StructType,
    )

    kinds = {"double": DoubleType(), "boolean": BooleanType()}
    fields = [
        StructField(key, df.schema[key].dataType, True),
        StructField(time, df.schema[time].dataType, True),
        StructField(value, DoubleType(), True),
    ]
    fields += [StructField(c, kinds[_VERDICT_TYPES[c]], True) for c in RESULT_COLUMNS]
    return StructType(fields)


def _check_columns(df: "DataFrame", *names: str) -> None:
    missing = [n for n in names if n not in df.columns]
    if missing:
        raise ValueError(f"columns {missing} not in the DataFrame (it has {df.columns})")


def detect(df: "DataFrame", key: str, time: str, value: str, **config: Any) -> "DataFrame":
    """One detector per series: ``df`` grouped by ``key``, each group sorted by
    ``time``; returns one row per observation with the columns ``key, time, value,
    p_value, score, is_anomaly, lower, upper, regime_change``. The keywords configure
    the detectors as in :class:`~tailcast.AnomalyDetector` (checked here, on the
    driver)."""
    from pyspark.sql import functions as F

    from ._tailcast import AnomalyDetector

    _check_columns(df, key, time, value)
    AnomalyDetector(**config)  # fail fast on a bad configuration
    schema = _result_schema(df, key, time, value)

    def per_series(pdf: Any) -> Any:
        return detect_frame(pdf, time, value, key=key, **config)

    source = df.select(F.col(key), F.col(time), F.col(value).cast("double").alias(value))
    return source.groupBy(key).applyInPandas(per_series, schema)


def detect_incremental(
    batch_df: "DataFrame",
    state_df: Optional["DataFrame"],
    key: str,
    time: str,
    value: str,
    *,
    cache: bool = False,
    **config: Any,
) -> Tuple["DataFrame", "DataFrame"]:
    """Scores a new batch of many series, resuming each series' detector from
    ``state_df`` (columns ``key`` and ``state``; ``None`` for the first batch).

    Returns ``(results, new_state)``: the results as in :func:`detect`, and one state
    row per key seen in either frame (series absent from the batch keep their
    state). New series get a detector configured with the keywords; resumed ones keep
    the configuration saved in their state.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.types import BinaryType, StructField, StructType

    from ._tailcast import AnomalyDetector

    _check_columns(batch_df, key, time, value)
    AnomalyDetector(**config)
    results_schema = _result_schema(batch_df, key, time, value)
    schema = StructType(list(results_schema.fields) + [StructField(STATE_COLUMN, BinaryType(), True)])
    key_type = batch_df.schema[key].dataType
    if state_df is None:
        spark = batch_df.sparkSession
        state_df = spark.createDataFrame(
            [], StructType([StructField(key, key_type, True), StructField(STATE_COLUMN, BinaryType(), True)])
        )
    else:
        _check_columns(state_df, key, STATE_COLUMN)
    names = [f.name for f in schema.fields]

    def per_series(batch: Any, state: Any) -> Any:
        import pandas as pd

        saved = None
        if len(state):
            saved = bytes(state[STATE_COLUMN].iloc[0])
        if len(batch) == 0:
            # Nothing new for this series: its state is carried over.
            row = {n: [None] for n in names}
            row[key] = [state[key].iloc[0]]
            row[STATE_COLUMN] = [saved]
            return pd.DataFrame(row, columns=names)
        out, new_state = detect_frame_with_state(batch, time, value, key=key, state=saved, **config)
        out[STATE_COLUMN] = None
        row = {n: [None] for n in names}
        row[key] = [batch[key].iloc[0]]
        row[STATE_COLUMN] = [new_state]
        return pd.concat([out, pd.DataFrame(row, columns=names)], ignore_index=True)[names]

    source = batch_df.select(F.col(key), F.col(time), F.col(value).cast("double").alias(value))
    states = state_df.select(F.col(key).cast(key_type).alias(key), F.col(STATE_COLUMN))
    combined = (
        source.groupBy(key).cogroup(states.groupBy(key)).applyInPandas(per_series, schema)
    )
    if cache:
        combined = combined.cache()
    is_state = F.col(STATE_COLUMN).isNotNull()
    results = combined.filter(~is_state).select(*[f.name for f in results_schema.fields])
    new_state = combined.filter(is_state).select(key, STATE_COLUMN)
    return results, new_state


__all__ = ["STATE_COLUMN", "detect", "detect_incremental"]
