"""tailcast: forecast heavy-tailed time series with spliced binned-Pareto (SBP)
distributions and flag anomalies, with a Rust core.

>>> import numpy as np, tailcast
>>> det = tailcast.AnomalyDetector(window=200, risk=1e-3)
>>> y = np.sin(np.arange(2000) / 10.0) + np.random.default_rng(0).standard_t(3, 2000)
>>> y[1500] = 40.0
>>> out = det.update_many(y)          # dict of numpy arrays, GIL released
>>> bool(out["is_anomaly"][1500])
True

Modules: :mod:`tailcast.metrics` (CRPS, PIT, PP errors), :mod:`tailcast.frames`
(one detector per series in pandas / Polars) and :mod:`tailcast.spark` (the same on
Spark with ``groupBy().applyInPandas``).
"""

from ._tailcast import (
    AnomalyDetector,
    Forecast,
    GeneralizedPareto,
    GpdFit,
    RollingForecaster,
    SbpFit,
    SplicedBinnedPareto,
    Verdict,
    __version__,
    backtest,
    detect,
    group_events,
)
from . import metrics

__all__ = [
    "AnomalyDetector",
    "Forecast",
    "GeneralizedPareto",
    "GpdFit",
    "RollingForecaster",
    "SbpFit",
    "SplicedBinnedPareto",
    "Verdict",
    "__version__",
    "backtest",
    "detect",
    "group_events",
    "metrics",
]
