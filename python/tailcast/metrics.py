"""Yardsticks for probabilistic forecasts on numpy arrays (computed in Rust).

>>> import numpy as np
>>> from tailcast import GeneralizedPareto, metrics
>>> g = GeneralizedPareto(0.2, 1.0)
>>> float(metrics.crps(g, 1.0)) > 0
True
>>> pit = np.random.default_rng(1).uniform(size=1000)
>>> metrics.pp_score_from_pit(pit)["full"] < 0.05
True

``crps(dist, y)`` elementwise CRPS of a GeneralizedPareto, SplicedBinnedPareto or
Forecast; ``crps_ensemble(samples, y)``; ``pit(dist, y)`` (the predictive cdf at the
observations); ``pp_curve_from_pit`` / ``pp_score_from_pit`` /
``pp_score_from_quantiles`` (the paper's PP-plot error per region: ``lower``,
``base``, ``upper``, ``full``); ``mean_pinball_loss``; ``interval_coverage``;
``central_interval_coverage``; ``ks_uniform``; ``paper_quantile_levels``.
"""

from typing import Any

import numpy as np

from ._tailcast import metrics as _m

crps = _m.crps
crps_ensemble = _m.crps_ensemble
pp_curve_from_pit = _m.pp_curve_from_pit
pp_score_from_pit = _m.pp_score_from_pit
pp_score_from_quantiles = _m.pp_score_from_quantiles
mean_pinball_loss = _m.mean_pinball_loss
interval_coverage = _m.interval_coverage
central_interval_coverage = _m.central_interval_coverage
ks_uniform = _m.ks_uniform
paper_quantile_levels = _m.paper_quantile_levels
PAPER_TAIL: float = _m.PAPER_TAIL


def pit(dist: Any, y: Any) -> Any:
    """PIT values ``F(y)``: the predictive cdf at the observations (uniform on (0, 1)
    for a calibrated forecast). ``dist`` is anything with a ``cdf`` method."""
    return dist.cdf(np.asarray(y, dtype=float))


__all__ = [
    "PAPER_TAIL",
    "central_interval_coverage",
    "crps",
    "crps_ensemble",
    "interval_coverage",
    "ks_uniform",
    "mean_pinball_loss",
    "paper_quantile_levels",
    "pit",
    "pp_curve_from_pit",
    "pp_score_from_pit",
    "pp_score_from_quantiles",
]
