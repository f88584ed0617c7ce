"""Type stubs of the compiled core ``tailcast._tailcast`` (re-exported by ``tailcast``)."""

from typing import Any, Dict, Literal, Mapping, Optional, Sequence, Tuple, TypedDict, Union, overload

import numpy as np
import numpy.typing as npt

from . import metrics as metrics

__version__: str

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

class _Vectorised:
    @overload
    def pdf(self, x: float) -> float: ...
    @overload
    def pdf(self, x: ArrayLike) -> Union[float, FloatArray]: ...
    @overload
    def logpdf(self, x: float) -> float: ...
    @overload
    def logpdf(self, x: ArrayLike) -> Union[float, FloatArray]: ...
    @overload
    def cdf(self, x: float) -> float: ...
    @overload
    def cdf(self, x: ArrayLike) -> Union[float, FloatArray]: ...
    @overload
    def logcdf(self, x: float) -> float: ...
    @overload
    def logcdf(self, x: ArrayLike) -> Union[float, FloatArray]: ...
    @overload
    def sf(self, x: float) -> float: ...
    @overload
    def sf(self, x: ArrayLike) -> Union[float, FloatArray]: ...
    @overload
    def logsf(self, x: float) -> float: ...
    @overload
    def logsf(self, x: ArrayLike) -> Union[float, FloatArray]: ...
    @overload
    def ppf(self, q: float) -> float: ...
    @overload
    def ppf(self, q: ArrayLike) -> Union[float, FloatArray]:
        """Quantile function; NaN for levels outside [0, 1]."""

class GeneralizedPareto(_Vectorised):
    """The generalized Pareto law of exceedances: shape ξ (any real), scale σ > 0.

    scipy.stats naming; every method takes a float (returns a float) or an array
    (returns an array of the same shape).

    >>> g = GeneralizedPareto(0.2, 1.0)
    >>> round(float(g.sf(g.ppf(0.99))), 12)
    0.01
    >>> fit = GeneralizedPareto.fit(g.rvs(5000, seed=1))
    >>> abs(fit.shape - 0.2) < 4 * fit.shape_se
    True
    """

    def __init__(self, shape: float, scale: float) -> None: ...
    @staticmethod
    def fit(x: ArrayLike, weights: Optional[ArrayLike] = None) -> GpdFit:
        """Maximum likelihood (Grimshaw's reduction, global over the shape) on
        positive exceedances; ValueError for bad data."""
    @property
    def shape(self) -> float: ...
    @property
    def scale(self) -> float: ...
    @property
    def support(self) -> Tuple[float, float]: ...
    def isf(self, q: ArrayLike) -> Union[float, FloatArray]: ...
    def rvs(self, size: int, seed: Optional[int] = None) -> FloatArray: ...
    def mean(self) -> float: ...
    def var(self) -> float: ...
    def median(self) -> float: ...
    def entropy(self) -> float: ...

class GpdFit:
    """A GPD fit: ``dist``, ``shape``, ``scale``, ``log_likelihood``, standard errors
    (None when the information matrix is singular), ``count`` and ``at_boundary``."""

    dist: GeneralizedPareto
    shape: float
    scale: float
    log_likelihood: float
    shape_se: Optional[float]
    scale_se: Optional[float]
    count: int
    at_boundary: bool

class SplicedBinnedPareto(_Vectorised):
    """A histogram body between two GPD tails (the normalised spliced density).

    ``SplicedBinnedPareto(edges, probs, lower=(mass, shape, scale), upper=(...))``

    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_t(3, 5000)
    >>> fit = SplicedBinnedPareto.fit(x, bins=50, tail_mass=0.05)
    >>> d = fit.dist
    >>> abs(float(d.cdf(d.upper_threshold)) - 0.95) < 1e-12
    True
    """

    def __init__(
        self,
        edges: ArrayLike,
        probs: ArrayLike,
        lower: Tuple[float, float, float],
        upper: Tuple[float, float, float],
    ) -> None: ...
    @staticmethod
    def from_logits(
        lo: float,
        hi: float,
        logits: ArrayLike,
        tail_mass: float,
        lower: Tuple[float, float],
        upper: Tuple[float, float],
    ) -> SplicedBinnedPareto:
        """Equal-width bins on [lo, hi] with softmax(logits) masses; tails of mass
        ``tail_mass`` with (shape, scale) GPDs."""
    @staticmethod
    def fit(
        x: ArrayLike,
        *,
        weights: Optional[ArrayLike] = None,
        bins: int = 100,
        tail_mass: Optional[float] = None,
        lower_tail_mass: Optional[float] = None,
        upper_tail_mass: Optional[float] = None,
        bounds: Optional[Tuple[float, float]] = None,
        margin: float = 0.01,
        pseudo_count: float = 0.5,
        min_exceedances: int = 10,
    ) -> SbpFit: ...
    @property
    def edges(self) -> FloatArray: ...
    @property
    def probs(self) -> FloatArray: ...
    @property
    def lower_tail(self) -> Tuple[float, float, float]:
        """(mass, shape, scale)"""
    @property
    def upper_tail(self) -> Tuple[float, float, float]: ...
    @property
    def lower_threshold(self) -> float: ...
    @property
    def upper_threshold(self) -> float: ...
    @property
    def support(self) -> Tuple[float, float]: ...
    def rvs(self, size: int, seed: Optional[int] = None) -> FloatArray: ...
    def mean(self) -> float: ...
    def var(self) -> float: ...
    def median(self) -> float: ...

class SbpFit:
    dist: SplicedBinnedPareto
    log_likelihood: float
    lower: GpdFit
    upper: GpdFit
    lower_exceedances: int
    upper_exceedances: int

class Forecast(_Vectorised):
    """The predictive law of the next observation: ``location + residual``."""

    @property
    def location(self) -> float: ...
    @property
    def residual(self) -> SplicedBinnedPareto: ...

class Verdict:
    """What the detector says about one observation."""

    p_value: float
    score: float
    is_anomaly: bool
    lower: float
    upper: float
    location: float
    side: Optional[Literal["upper", "lower"]]
    warming_up: bool
    missing: bool
    excluded: bool
    regime_change: bool
    def to_dict(self) -> Dict[str, Any]: ...

class Verdicts(TypedDict):
    """``update_many``'s result; ``side`` is +1 (upper), -1 (lower), 0 (not scored)."""

    p_value: FloatArray
    score: FloatArray
    is_anomaly: BoolArray
    lower: FloatArray
    upper: FloatArray
    location: FloatArray
    side: npt.NDArray[np.int8]
    warming_up: BoolArray
    missing: BoolArray
    excluded: BoolArray
    regime_change: BoolArray

class BacktestResult(TypedDict, total=False):
    quantiles: npt.NDArray[np.float64]
    pit: FloatArray
    log_score: FloatArray
    location: FloatArray
    residual: FloatArray
    first_forecast: Optional[int]

Location = Literal["auto", "none", "level", "seasonal", "autoregressive", "ar"]

class RollingForecaster:
    """A rolling one-step-ahead forecaster: robust location + residual SBP refitted
    on a window.

    Keywords (all optional; the Rust ``ForecasterConfig``): ``window=1000``,
    ``half_life=None``, ``refit_every``, ``warmup``, ``location='auto'`` with
    ``period=`` (seasonal) or ``lags=`` (autoregressive), ``level_smoothing=0.1``,
    ``adaptive_level=True``, ``seasonal_smoothing=0.1``, ``robust_clip=2.5``,
    ``allow_bounded_tails=False``, ``max_tail_shape=1.0`` (None: unbounded), ``bins=100``, ``tail_mass=0.05``,
    ``lower_tail_mass``, ``upper_tail_mass``, ``pseudo_count=0.1``,
    ``min_exceedances=10``, ``margin=0.01``, ``bounds=(lo, hi)``.

    >>> import numpy as np
    >>> f = RollingForecaster(window=200)
    >>> out = f.update_many(np.random.default_rng(0).standard_t(4, 500))
    >>> f.is_ready, out["pit"].shape
    (True, (500,))
    >>> lo, hi = f.forecast().ppf([0.05, 0.95])
    """

    def __init__(
        self,
        *,
        window: int = ...,
        half_life: Optional[float] = ...,
        refit_every: int = ...,
        warmup: int = ...,
        location: Location = ...,
        period: int = ...,
        lags: int = ...,
        level_smoothing: float = ...,
        adaptive_level: bool = ...,
        seasonal_smoothing: float = ...,
        robust_clip: float = ...,
        allow_bounded_tails: bool = ...,
        max_tail_shape: Optional[float] = ...,
        bins: int = ...,
        tail_mass: float = ...,
        lower_tail_mass: float = ...,
        upper_tail_mass: float = ...,
        pseudo_count: float = ...,
        min_exceedances: int = ...,
        margin: float = ...,
        bounds: Tuple[float, float] = ...,
    ) -> None: ...
    def update(self, y: float) -> None:
        """Takes the next observation (NaN: missing; ValueError for ±inf)."""
    def update_many(self, y: ArrayLike) -> BacktestResult:
        """Takes a batch (GIL released): PIT, log score, location and residual of
        each observation under the forecast made before it (NaN in the warm-up)."""
    def backtest(self, y: ArrayLike, levels: ArrayLike) -> BacktestResult:
        """As update_many, plus ``quantiles`` (n × len(levels))."""
    def forecast(self) -> Forecast:
        """RuntimeError during the warm-up."""
    def forecast_paths(
        self, horizon: int, levels: ArrayLike, paths: int = 1000, seed: int = 0
    ) -> npt.NDArray[np.float64]: ...
    def residuals(self) -> FloatArray: ...
    def to_bytes(self) -> bytes: ...
    @staticmethod
    def from_bytes(data: bytes) -> RollingForecaster: ...
    @property
    def config(self) -> Dict[str, Any]: ...
    @property
    def steps(self) -> int: ...
    @property
    def is_ready(self) -> bool: ...
    @property
    def location_model(self) -> str: ...
    @property
    def window_len(self) -> int: ...

class AnomalyDetector:
    """A streaming anomaly detector: each value is scored by its tail probability
    under the forecast made before it was seen.

    Keywords: the detector's ``risk=1e-3``, ``side='two-sided'`` (or 'upper',
    'lower'), ``exclude_anomalies=True``, ``exclusion_risk=None``,
    ``max_excluded_run=25``, ``impute_excluded=False``, ``predictive_tails=False``
    (calibrated alarms on heavy-tailed noise, at a cost in recall on frequent
    moderate anomalies: see ``DetectorConfig::predictive_tails``), and every
    :class:`RollingForecaster` keyword (the detector's default ``max_tail_shape`` is
    3).

    >>> import numpy as np
    >>> det = AnomalyDetector(window=200)
    >>> y = np.random.default_rng(0).standard_t(5, 1000); y[900] = 30.0
    >>> out = det.update_many(y)
    >>> bool(out["is_anomaly"][900])
    True
    >>> again = AnomalyDetector.from_bytes(det.to_bytes())  # resumes bit-identically
    """

    def __init__(
        self,
        *,
        risk: float = ...,
        side: Literal["two-sided", "upper", "lower"] = ...,
        exclude_anomalies: bool = ...,
        exclusion_risk: Optional[float] = ...,
        max_excluded_run: int = ...,
        impute_excluded: bool = ...,
        predictive_tails: bool = ...,
        window: int = ...,
        half_life: Optional[float] = ...,
        refit_every: int = ...,
        warmup: int = ...,
        location: Location = ...,
        period: int = ...,
        lags: int = ...,
        level_smoothing: float = ...,
        adaptive_level: bool = ...,
        seasonal_smoothing: float = ...,
        robust_clip: float = ...,
        allow_bounded_tails: bool = ...,
        max_tail_shape: Optional[float] = ...,
        bins: int = ...,
        tail_mass: float = ...,
        lower_tail_mass: float = ...,
        upper_tail_mass: float = ...,
        pseudo_count: float = ...,
        min_exceedances: int = ...,
        margin: float = ...,
        bounds: Tuple[float, float] = ...,
    ) -> None: ...
    def update(self, y: float) -> Verdict: ...
    def update_many(self, y: ArrayLike) -> Verdicts:
        """Scores a batch with the GIL released. ±inf anywhere: ValueError and
        nothing is learned."""
    def forecast(self) -> Forecast: ...
    def to_bytes(self) -> bytes: ...
    @staticmethod
    def from_bytes(data: bytes) -> AnomalyDetector: ...
    @property
    def config(self) -> Dict[str, Any]: ...
    @property
    def steps(self) -> int: ...
    @property
    def is_ready(self) -> bool: ...
    @property
    def location_model(self) -> str: ...
    @property
    def calibration_factor(self) -> float: ...

def backtest(y: ArrayLike, levels: ArrayLike, **config: Any) -> BacktestResult:
    """One-step-ahead forecasts of a whole series by a fresh RollingForecaster."""

def detect(y: ArrayLike, **config: Any) -> Verdicts:
    """A fresh AnomalyDetector over a whole series."""

class Events(TypedDict):
    """``group_events``' result, one entry per event; ``side`` is +1 (upper), -1
    (lower), 0 (alarms on both sides)."""

    start: npt.NDArray[np.uint64]
    end: npt.NDArray[np.uint64]
    peak: npt.NDArray[np.uint64]
    peak_score: FloatArray
    peak_p_value: FloatArray
    side: npt.NDArray[np.int8]
    alarms: npt.NDArray[np.uint64]

def group_events(
    verdicts: Mapping[str, Any], rearm: int = 10, max_len: Optional[int] = None
) -> Events:
    """Groups ``update_many``'s alarms into events: an event ends after ``rearm``
    scored rows without an alarm (missing and warm-up rows do not count), and
    ``max_len`` splits longer ones.

    >>> import numpy as np, tailcast
    >>> y = np.sin(np.arange(1500) / 10.0)
    >>> y[1200:1203] += 30.0
    >>> out = tailcast.AnomalyDetector(window=200).update_many(y)
    >>> ev = tailcast.group_events(out)
    >>> int(ev["start"][0]), int(ev["alarms"][0])
    (1200, 3)
    """
