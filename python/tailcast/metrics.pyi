from typing import Any, Optional, Tuple, TypedDict, Union

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

class PpScore(TypedDict):
    curve: FloatArray
    lower: float
    base: float
    upper: float
    full: float

PAPER_TAIL: float

def crps(dist: Any, y: npt.ArrayLike) -> Union[float, FloatArray]: ...
def crps_ensemble(samples: npt.ArrayLike, y: float) -> float: ...
def pit(dist: Any, y: npt.ArrayLike) -> Union[float, FloatArray]: ...
def pp_curve_from_pit(pit: npt.ArrayLike, levels: npt.ArrayLike) -> FloatArray: ...
def pp_score_from_pit(
    pit: npt.ArrayLike, levels: Optional[npt.ArrayLike] = None, tail: float = 0.05
) -> PpScore: ...
def pp_score_from_quantiles(
    y: npt.ArrayLike,
    quantiles: npt.ArrayLike,
    levels: npt.ArrayLike,
    tail: float = 0.05,
    ties: str = "strict",
) -> PpScore: ...
def mean_pinball_loss(y: npt.ArrayLike, quantiles: npt.ArrayLike, levels: npt.ArrayLike) -> FloatArray: ...
def interval_coverage(y: npt.ArrayLike, lower: npt.ArrayLike, upper: npt.ArrayLike) -> float: ...
def central_interval_coverage(
    y: npt.ArrayLike, quantiles: npt.ArrayLike, levels: npt.ArrayLike, nominal: float
) -> float: ...
def ks_uniform(pit: npt.ArrayLike) -> Tuple[float, float]: ...
def paper_quantile_levels() -> FloatArray: ...
