//! `RollingForecaster`, `AnomalyDetector`, `Verdict`, `Forecast` and `backtest`,
//! with their keyword configurations and their byte encoding.

use numpy::{AllowTypeChange, PyArray1, PyArray2, PyArrayLike1, ToPyArray};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tailcast::{
    AnomalyDetector, Check, Checked, DetectorConfig, ForecasterConfig, LocationModel,
    RollingForecaster, SbpConfig, Side, Verdict,
};

use crate::dist::{PySbp, law_pymethods, to_vec};
use crate::{OrPy, guard};

/// Byte-format tags: four bytes naming the type and the format version, then the
/// MessagePack encoding (field names included, so a state saved by an older version
/// with fewer fields still loads).
const DETECTOR_TAG: &[u8; 4] = b"TCD1";
const FORECASTER_TAG: &[u8; 4] = b"TCF1";

/// `tag` + MessagePack of `value`.
pub(crate) fn encode<'py, T: Serialize>(
    py: Python<'py>,
    tag: &[u8; 4],
    value: &T,
) -> PyResult<Bound<'py, PyBytes>> {
    let mut out = tag.to_vec();
    rmp_serde::encode::write_named(&mut out, value)
        .map_err(|e| PyRuntimeError::new_err(format!("cannot encode the state: {e}")))?;
    Ok(PyBytes::new(py, &out))
}

/// The inverse of [`encode`]: a `ValueError` for bytes of another kind, of a later
/// format, or that do not hold a valid state.
pub(crate) fn decode<T: DeserializeOwned>(tag: &[u8; 4], what: &str, data: &[u8]) -> PyResult<T> {
    guard(|| {
        let Some(body) = data.strip_prefix(&tag[..]) else {
            let kind = data
                .get(..4)
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            return Err(PyValueError::new_err(format!(
                "not a saved {what}: the bytes start with {kind:?}, expected {:?}",
                String::from_utf8_lossy(tag)
            )));
        };
        rmp_serde::from_slice(body)
            .map_err(|e| PyValueError::new_err(format!("invalid saved {what}: {e}")))
    })
}

fn key_error(key: &str) -> PyErr {
    PyTypeError::new_err(format!("unexpected keyword argument '{key}'"))
}

/// The value of a keyword, with its name in the error.
fn arg<'py, T: for<'a> FromPyObject<'a, 'py>>(key: &str, v: &Bound<'py, PyAny>) -> PyResult<T> {
    v.extract::<T>().map_err(|_| {
        let tn = v
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "?".into());
        PyTypeError::new_err(format!("{key}: unexpected type {tn}"))
    })
}

/// Applies one forecaster keyword to `c`; `Ok(false)` if `key` is not one.
fn forecaster_key(
    c: &mut ForecasterConfig,
    loc: &mut LocationSpec,
    key: &str,
    v: &Bound<'_, PyAny>,
) -> PyResult<bool> {
    let x = c.clone();
    let sbp = loc.sbp;
    *c = match key {
        "window" => x.window(arg(key, v)?),
        "half_life" => match arg::<Option<f64>>(key, v)? {
            Some(h) => x.half_life(h),
            None => x.no_decay(),
        },
        "refit_every" => x.refit_every(arg(key, v)?),
        "warmup" => x.warmup(arg(key, v)?),
        "location" => {
            loc.name = Some(arg(key, v)?);
            x
        }
        "period" => {
            loc.period = Some(arg(key, v)?);
            x
        }
        "lags" => {
            loc.lags = Some(arg(key, v)?);
            x
        }
        "level_smoothing" => x.level_smoothing(arg(key, v)?),
        "adaptive_level" => x.adaptive_level(arg(key, v)?),
        "seasonal_smoothing" => x.seasonal_smoothing(arg(key, v)?),
        "robust_clip" => x.robust_clip(arg(key, v)?),
        "allow_bounded_tails" => x.allow_bounded_tails(arg(key, v)?),
        "max_tail_shape" => x.max_tail_shape(arg::<Option<f64>>(key, v)?.unwrap_or(f64::INFINITY)),
        "bins" => set_sbp(x, loc, sbp.bins(arg(key, v)?)),
        "tail_mass" => set_sbp(x, loc, sbp.tail_mass(arg(key, v)?)),
        "lower_tail_mass" => set_sbp(x, loc, sbp.lower_tail_mass(arg(key, v)?)),
        "upper_tail_mass" => set_sbp(x, loc, sbp.upper_tail_mass(arg(key, v)?)),
        "pseudo_count" => set_sbp(x, loc, sbp.pseudo_count(arg(key, v)?)),
        "min_exceedances" => set_sbp(x, loc, sbp.min_exceedances(arg(key, v)?)),
        "margin" => set_sbp(x, loc, sbp.auto_bounds(arg(key, v)?)),
        "bounds" => {
            let (lo, hi): (f64, f64) = arg(key, v)?;
            set_sbp(x, loc, sbp.bounds(lo, hi))
        }
        _ => return Ok(false),
    };
    Ok(true)
}

/// Sets the SBP configuration on `c` and keeps it for the next keyword.
fn set_sbp(c: ForecasterConfig, loc: &mut LocationSpec, sbp: SbpConfig) -> ForecasterConfig {
    loc.sbp = sbp;
    c.sbp(sbp)
}

/// `location`, `period` and `lags` are read together; the SBP settings are
/// collected one keyword at a time on the base configuration's.
struct LocationSpec {
    name: Option<String>,
    period: Option<usize>,
    lags: Option<usize>,
    sbp: SbpConfig,
}

impl LocationSpec {
    /// Collects keywords on top of `base`.
    fn new(base: &Checked<ForecasterConfig>) -> Self {
        Self {
            name: None,
            period: None,
            lags: None,
            sbp: base.sbp().into_config(),
        }
    }

    fn apply(self, c: ForecasterConfig) -> PyResult<ForecasterConfig> {
        let name = match (&self.name, self.period, self.lags) {
            (Some(n), _, _) => n.to_ascii_lowercase().replace(['-', '_'], ""),
            (None, Some(_), None) => "seasonal".into(),
            (None, None, Some(_)) => "autoregressive".into(),
            (None, None, None) => return Ok(c),
            (None, Some(_), Some(_)) => {
                return Err(PyValueError::new_err(
                    "give either period (seasonal) or lags (autoregressive), not both",
                ));
            }
        };
        let need = |v: Option<usize>, what: &str| {
            v.ok_or_else(|| PyValueError::new_err(format!("location {name:?} needs {what}")))
        };
        let model = match name.as_str() {
            "auto" => LocationModel::Auto,
            "none" => LocationModel::None,
            "level" => LocationModel::Level,
            "seasonal" => LocationModel::Seasonal {
                period: need(self.period, "period=")?,
            },
            "autoregressive" | "ar" => LocationModel::Autoregressive {
                lags: need(self.lags, "lags=")?,
            },
            _ => {
                return Err(PyValueError::new_err(format!(
                    "location must be one of 'auto', 'none', 'level', 'seasonal', 'autoregressive', got {:?}",
                    self.name.unwrap_or_default()
                )));
            }
        };
        Ok(c.location(model))
    }
}

/// A forecaster configuration from keywords, starting from `base`.
fn forecaster_config(
    base: Checked<ForecasterConfig>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<Checked<ForecasterConfig>> {
    let mut loc = LocationSpec::new(&base);
    let mut c = base.into_config();
    if let Some(kw) = kwargs {
        for (k, v) in kw.iter() {
            let key: String = k.extract()?;
            if !forecaster_key(&mut c, &mut loc, &key, &v)? {
                return Err(key_error(&key));
            }
        }
    }
    loc.apply(c)?.check().or_py()
}

fn parse_side(s: &str) -> PyResult<Side> {
    match s.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
        "upper" | "high" => Ok(Side::Upper),
        "lower" | "low" => Ok(Side::Lower),
        "twosided" | "both" => Ok(Side::TwoSided),
        _ => Err(PyValueError::new_err(format!(
            "side must be 'upper', 'lower' or 'two-sided', got {s:?}"
        ))),
    }
}

/// A detector configuration from keywords (detector keywords plus the forecaster's).
pub(crate) fn detector_config(
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<Checked<DetectorConfig>> {
    let mut d = DetectorConfig::default();
    let base = d.check().or_py()?.forecaster();
    let mut loc = LocationSpec::new(&base);
    let mut f = base.into_config();
    if let Some(kw) = kwargs {
        for (k, v) in kw.iter() {
            let key: String = k.extract()?;
            d = match key.as_str() {
                "risk" => d.risk(arg(&key, &v)?),
                "side" => d.side(parse_side(&arg::<String>(&key, &v)?)?),
                "exclude_anomalies" => d.exclude_anomalies(arg(&key, &v)?),
                "exclusion_risk" => match arg::<Option<f64>>(&key, &v)? {
                    Some(p) => d.exclusion_risk(p),
                    None => d,
                },
                "max_excluded_run" => d.max_excluded_run(arg(&key, &v)?),
                "impute_excluded" => d.impute_excluded(arg(&key, &v)?),
                "predictive_tails" => d.predictive_tails(arg(&key, &v)?),
                _ => {
                    if !forecaster_key(&mut f, &mut loc, &key, &v)? {
                        return Err(key_error(&key));
                    }
                    d
                }
            };
        }
    }
    d.forecaster(loc.apply(f)?).check().or_py()
}

/// One `#[pymethods]` block (pyo3 takes one a class) holding the class's own methods
/// and the persistence every stateful class shares: `to_bytes` / `from_bytes` under
/// its `$tag` (errors name `$name`), pickling through the module's `$restore`,
/// `copy` and `deepcopy`, and the `config` getter. The class wraps its Rust value in
/// a field `inner`.
macro_rules! saved_pymethods {
    ($class:ty, $tag:expr, $name:literal, $restore:literal; $($own:tt)*) => {
        #[::pyo3::pymethods]
        impl $class {
            /// The whole state as bytes (`from_bytes` resumes bit-identically).
            fn to_bytes<'py>(
                &self,
                py: ::pyo3::Python<'py>,
            ) -> ::pyo3::PyResult<::pyo3::Bound<'py, ::pyo3::types::PyBytes>> {
                encode(py, $tag, &self.inner)
            }

            #[staticmethod]
            fn from_bytes(data: &[u8]) -> ::pyo3::PyResult<Self> {
                Ok(Self {
                    inner: decode($tag, $name, data)?,
                })
            }

            fn __reduce__<'py>(
                &self,
                py: ::pyo3::Python<'py>,
            ) -> ::pyo3::PyResult<(
                ::pyo3::Bound<'py, ::pyo3::PyAny>,
                (::pyo3::Bound<'py, ::pyo3::types::PyBytes>,),
            )> {
                Ok((crate::restorer(py, $restore)?, (self.to_bytes(py)?,)))
            }

            fn __copy__(&self) -> Self {
                Self {
                    inner: self.inner.clone(),
                }
            }

            fn __deepcopy__(&self, _memo: &::pyo3::Bound<'_, ::pyo3::PyAny>) -> Self {
                self.__copy__()
            }

            /// The configuration, as the Rust crate serialises it.
            #[getter]
            fn config<'py>(
                &self,
                py: ::pyo3::Python<'py>,
            ) -> ::pyo3::PyResult<::pyo3::Bound<'py, ::pyo3::PyAny>> {
                to_python(py, self.inner.config())
            }

            $($own)*
        }
    };
}

/// A value as a Python object through JSON (for `config`).
fn to_python<'py, T: Serialize>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_string(value)
        .map_err(|e| PyRuntimeError::new_err(format!("cannot encode: {e}")))?;
    py.import("json")?.call_method1("loads", (json,))
}

fn location_name(m: LocationModel) -> String {
    match m {
        LocationModel::None => "none".into(),
        LocationModel::Level => "level".into(),
        LocationModel::Seasonal { period } => format!("seasonal(period={period})"),
        LocationModel::Autoregressive { lags } => format!("autoregressive(lags={lags})"),
        LocationModel::Auto => "auto".into(),
    }
}

fn side_name(s: Side) -> Option<&'static str> {
    match s {
        Side::Upper => Some("upper"),
        Side::Lower => Some("lower"),
        _ => None,
    }
}

/// A side as the arrays carry it: +1 upper, -1 lower, 0 neither (or both).
pub(crate) fn side_code(s: Side) -> i8 {
    match s {
        Side::Upper => 1,
        Side::Lower => -1,
        _ => 0,
    }
}

/// The inverse of [`side_code`] (any other code is both sides).
pub(crate) fn side_from_code(code: i8) -> Side {
    match code {
        1 => Side::Upper,
        -1 => Side::Lower,
        _ => Side::TwoSided,
    }
}

/// Rejects `±∞` before anything is learned (NaN is a missing value).
fn check_observations(ys: &[f64]) -> PyResult<()> {
    if let Some((i, y)) = ys.iter().enumerate().find(|(_, y)| y.is_infinite()) {
        return Err(PyValueError::new_err(format!(
            "y[{i}]: observation must be finite or NaN (missing), got {y} (nothing was learned from this batch)"
        )));
    }
    Ok(())
}

/// The one-step predictive distribution: `location + residual`.
#[pyclass(module = "tailcast._tailcast", name = "Forecast", frozen)]
pub(crate) struct PyForecast {
    location: f64,
    residual: tailcast::SplicedBinnedPareto,
}

impl PyForecast {
    fn view(&self) -> tailcast::Forecast<'_> {
        tailcast::Forecast::new(self.location, &self.residual)
    }
}

law_pymethods! {
    PyForecast, |this| this.view(), y;

    /// The location model's prediction, which the residual law is centred on.
    #[getter]
    fn location(&self) -> f64 {
        self.location
    }

    /// The residual law (`y - location`).
    #[getter]
    fn residual(&self) -> PySbp {
        PySbp {
            inner: self.residual.clone(),
        }
    }

    fn __repr__(&self) -> String {
        let f = self.view();
        format!(
            "Forecast(location={:?}, median={:?}, 90% interval=({:?}, {:?}))",
            self.location,
            f.quantile(0.5),
            f.quantile(0.05),
            f.quantile(0.95)
        )
    }
}

/// The verdict on one observation (see `AnomalyDetector.update`).
#[pyclass(module = "tailcast._tailcast", name = "Verdict", frozen, get_all)]
pub(crate) struct PyVerdict {
    p_value: f64,
    score: f64,
    is_anomaly: bool,
    lower: f64,
    upper: f64,
    location: f64,
    side: Option<&'static str>,
    warming_up: bool,
    missing: bool,
    excluded: bool,
    regime_change: bool,
}

impl From<Verdict> for PyVerdict {
    fn from(v: Verdict) -> Self {
        Self {
            p_value: v.p_value,
            score: v.score,
            is_anomaly: v.is_anomaly,
            lower: v.lower,
            upper: v.upper,
            location: v.location,
            side: side_name(v.side),
            warming_up: v.warming_up,
            missing: v.missing,
            excluded: v.excluded,
            regime_change: v.regime_change,
        }
    }
}

#[pymethods]
impl PyVerdict {
    /// The verdict as a dict (the keys of `AnomalyDetector.update_many`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("p_value", self.p_value)?;
        d.set_item("score", self.score)?;
        d.set_item("is_anomaly", self.is_anomaly)?;
        d.set_item("lower", self.lower)?;
        d.set_item("upper", self.upper)?;
        d.set_item("location", self.location)?;
        d.set_item("side", self.side)?;
        d.set_item("warming_up", self.warming_up)?;
        d.set_item("missing", self.missing)?;
        d.set_item("excluded", self.excluded)?;
        d.set_item("regime_change", self.regime_change)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "Verdict(p_value={:?}, score={:?}, is_anomaly={}, lower={:?}, upper={:?}, location={:?}, side={}, warming_up={}, missing={}, excluded={}, regime_change={})",
            self.p_value,
            self.score,
            py_bool(self.is_anomaly),
            self.lower,
            self.upper,
            self.location,
            self.side.map_or("None".to_owned(), |s| format!("'{s}'")),
            py_bool(self.warming_up),
            py_bool(self.missing),
            py_bool(self.excluded),
            py_bool(self.regime_change),
        )
    }
}

fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// Columns of verdicts, filled without the GIL.
struct Columns {
    p_value: Vec<f64>,
    score: Vec<f64>,
    is_anomaly: Vec<bool>,
    lower: Vec<f64>,
    upper: Vec<f64>,
    location: Vec<f64>,
    side: Vec<i8>,
    warming_up: Vec<bool>,
    missing: Vec<bool>,
    excluded: Vec<bool>,
    regime_change: Vec<bool>,
}

impl Columns {
    fn with_capacity(n: usize) -> Self {
        Self {
            p_value: Vec::with_capacity(n),
            score: Vec::with_capacity(n),
            is_anomaly: Vec::with_capacity(n),
            lower: Vec::with_capacity(n),
            upper: Vec::with_capacity(n),
            location: Vec::with_capacity(n),
            side: Vec::with_capacity(n),
            warming_up: Vec::with_capacity(n),
            missing: Vec::with_capacity(n),
            excluded: Vec::with_capacity(n),
            regime_change: Vec::with_capacity(n),
        }
    }

    #[inline]
    fn push(&mut self, v: &Verdict) {
        self.p_value.push(v.p_value);
        self.score.push(v.score);
        self.is_anomaly.push(v.is_anomaly);
        self.lower.push(v.lower);
        self.upper.push(v.upper);
        self.location.push(v.location);
        self.side.push(side_code(v.side));
        self.warming_up.push(v.warming_up);
        self.missing.push(v.missing);
        self.excluded.push(v.excluded);
        self.regime_change.push(v.regime_change);
    }

    fn into_dict(self, py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("p_value", PyArray1::from_vec(py, self.p_value))?;
        d.set_item("score", PyArray1::from_vec(py, self.score))?;
        d.set_item("is_anomaly", PyArray1::from_vec(py, self.is_anomaly))?;
        d.set_item("lower", PyArray1::from_vec(py, self.lower))?;
        d.set_item("upper", PyArray1::from_vec(py, self.upper))?;
        d.set_item("location", PyArray1::from_vec(py, self.location))?;
        d.set_item("side", PyArray1::from_vec(py, self.side))?;
        d.set_item("warming_up", PyArray1::from_vec(py, self.warming_up))?;
        d.set_item("missing", PyArray1::from_vec(py, self.missing))?;
        d.set_item("excluded", PyArray1::from_vec(py, self.excluded))?;
        d.set_item("regime_change", PyArray1::from_vec(py, self.regime_change))?;
        Ok(d)
    }
}

/// A streaming anomaly detector (one per series).
#[pyclass(module = "tailcast._tailcast", name = "AnomalyDetector")]
pub(crate) struct PyDetector {
    inner: AnomalyDetector,
}

saved_pymethods! {
    PyDetector, DETECTOR_TAG, "AnomalyDetector", "_restore_detector";

    #[new]
    #[pyo3(signature = (**config))]
    fn new(config: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let config = detector_config(config)?;
        Ok(Self {
            inner: AnomalyDetector::new(config).or_py()?,
        })
    }

    /// Scores `y` against the forecast made before it, then learns from it.
    fn update(&mut self, y: f64) -> PyResult<PyVerdict> {
        guard(|| Ok(self.inner.update(y).or_py()?.into()))
    }

    /// Scores a batch with the GIL released; returns a dict of arrays.
    fn update_many<'py>(
        &mut self,
        py: Python<'py>,
        y: PyArrayLike1<'py, f64, AllowTypeChange>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let ys = to_vec(&y);
        drop(y);
        check_observations(&ys)?;
        let inner = &mut self.inner;
        let cols = guard(|| {
            py.detach(|| {
                let mut cols = Columns::with_capacity(ys.len());
                for &y in &ys {
                    cols.push(&inner.update(y).or_py()?);
                }
                Ok(cols)
            })
        })?;
        cols.into_dict(py)
    }

    /// The forecast for the next observation (`RuntimeError` during the warm-up).
    fn forecast(&self) -> PyResult<PyForecast> {
        let f = self.inner.forecaster().forecast().or_py()?;
        Ok(PyForecast {
            location: f.location(),
            residual: f.residual().clone(),
        })
    }

    /// Time steps seen (missing ones included).
    #[getter]
    fn steps(&self) -> u64 {
        self.inner.forecaster().steps()
    }

    /// Whether the warm-up is over.
    #[getter]
    fn is_ready(&self) -> bool {
        self.inner.forecaster().is_ready()
    }

    /// The location model in use (after the warm-up, the one `auto` chose).
    #[getter]
    fn location_model(&self) -> String {
        location_name(self.inner.forecaster().location_model())
    }

    /// The current factor of the online p-value recalibration at the risk level
    /// (1 to 10; below the risk level it may grow, see the Rust docs).
    #[getter]
    fn calibration_factor(&self) -> f64 {
        self.inner.calibration_factor()
    }

    fn __repr__(&self) -> String {
        format!(
            "AnomalyDetector(steps={}, ready={}, location_model={:?}, risk={:?})",
            self.steps(),
            py_bool(self.is_ready()),
            self.location_model(),
            self.inner.config().risk()
        )
    }
}

/// A dict of backtest arrays.
fn backtest_dict<'py>(
    py: Python<'py>,
    bt: tailcast::Backtest,
    with_quantiles: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    if with_quantiles {
        let q: Bound<'py, PyArray2<f64>> = bt.quantiles.to_pyarray(py);
        d.set_item("quantiles", q)?;
    }
    d.set_item("pit", bt.pit.to_pyarray(py))?;
    d.set_item("log_score", bt.log_score.to_pyarray(py))?;
    d.set_item("location", bt.location.to_pyarray(py))?;
    d.set_item("residual", bt.residual.to_pyarray(py))?;
    d.set_item("first_forecast", bt.first_forecast)?;
    Ok(d)
}

/// A rolling one-step-ahead forecaster.
#[pyclass(module = "tailcast._tailcast", name = "RollingForecaster")]
pub(crate) struct PyForecaster {
    inner: RollingForecaster,
}

impl PyForecaster {
    fn run<'py>(
        &mut self,
        py: Python<'py>,
        y: PyArrayLike1<'py, f64, AllowTypeChange>,
        levels: Vec<f64>,
        with_quantiles: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let ys = to_vec(&y);
        drop(y);
        check_observations(&ys)?;
        for &p in &levels {
            crate::dist::check_unit("levels", p)?;
        }
        let inner = &mut self.inner;
        let bt = guard(|| py.detach(|| inner.backtest(&ys, &levels)).or_py())?;
        backtest_dict(py, bt, with_quantiles)
    }
}

saved_pymethods! {
    PyForecaster, FORECASTER_TAG, "RollingForecaster", "_restore_forecaster";

    #[new]
    #[pyo3(signature = (**config))]
    fn new(config: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let base = ForecasterConfig::default().check().or_py()?;
        let config = forecaster_config(base, config)?;
        Ok(Self {
            inner: RollingForecaster::new(config).or_py()?,
        })
    }

    /// Takes the next observation (NaN: missing).
    fn update(&mut self, y: f64) -> PyResult<()> {
        guard(|| self.inner.observe(y).or_py())
    }

    /// Takes a batch with the GIL released; returns the one-step forecasts' PIT
    /// values, log scores, locations and residuals (NaN before the first forecast).
    fn update_many<'py>(
        &mut self,
        py: Python<'py>,
        y: PyArrayLike1<'py, f64, AllowTypeChange>,
    ) -> PyResult<Bound<'py, PyDict>> {
        self.run(py, y, Vec::new(), false)
    }

    /// As `update_many`, plus the predictive quantiles at `levels` (n × levels).
    fn backtest<'py>(
        &mut self,
        py: Python<'py>,
        y: PyArrayLike1<'py, f64, AllowTypeChange>,
        levels: PyArrayLike1<'py, f64, AllowTypeChange>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let levels = to_vec(&levels);
        self.run(py, y, levels, true)
    }

    /// The predictive distribution of the next observation (`RuntimeError` during
    /// the warm-up).
    fn forecast(&self) -> PyResult<PyForecast> {
        let f = self.inner.forecast().or_py()?;
        Ok(PyForecast {
            location: f.location(),
            residual: f.residual().clone(),
        })
    }

    /// Simulated quantile paths: row k holds the quantiles of y[t+k+1] at `levels`.
    #[pyo3(signature = (horizon, levels, paths=1000, seed=0))]
    fn forecast_paths<'py>(
        &self,
        py: Python<'py>,
        horizon: usize,
        levels: PyArrayLike1<'py, f64, AllowTypeChange>,
        paths: usize,
        seed: u64,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let levels = to_vec(&levels);
        let inner = &self.inner;
        let out = guard(|| {
            py.detach(|| inner.forecast_paths(horizon, &levels, paths, seed))
                .or_py()
        })?;
        Ok(out.to_pyarray(py))
    }

    /// The residuals in the fitting window, oldest first.
    fn residuals<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_vec(py, self.inner.residuals().collect())
    }

    #[getter]
    fn steps(&self) -> u64 {
        self.inner.steps()
    }

    #[getter]
    fn is_ready(&self) -> bool {
        self.inner.is_ready()
    }

    #[getter]
    fn location_model(&self) -> String {
        location_name(self.inner.location_model())
    }

    #[getter]
    fn window_len(&self) -> usize {
        self.inner.window_len()
    }

    fn __repr__(&self) -> String {
        format!(
            "RollingForecaster(steps={}, ready={}, location_model={:?}, window_len={})",
            self.steps(),
            py_bool(self.is_ready()),
            self.location_model(),
            self.window_len()
        )
    }
}

/// One-step-ahead forecasts of a whole series by a fresh forecaster.
#[pyfunction]
#[pyo3(signature = (y, levels, **config))]
fn backtest<'py>(
    py: Python<'py>,
    y: PyArrayLike1<'py, f64, AllowTypeChange>,
    levels: PyArrayLike1<'py, f64, AllowTypeChange>,
    config: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let mut f = PyForecaster::new(config)?;
    let levels = to_vec(&levels);
    f.run(py, y, levels, true)
}

/// The whole-series detector run: a fresh detector over `y` (GIL released).
#[pyfunction]
#[pyo3(signature = (y, **config))]
fn detect<'py>(
    py: Python<'py>,
    y: PyArrayLike1<'py, f64, AllowTypeChange>,
    config: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let mut d = PyDetector::new(config)?;
    d.update_many(py, y)
}

#[pyfunction]
fn _restore_detector(data: &[u8]) -> PyResult<PyDetector> {
    PyDetector::from_bytes(data)
}

#[pyfunction]
fn _restore_forecaster(data: &[u8]) -> PyResult<PyForecaster> {
    PyForecaster::from_bytes(data)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyForecast>()?;
    m.add_class::<PyVerdict>()?;
    m.add_class::<PyDetector>()?;
    m.add_class::<PyForecaster>()?;
    m.add_function(wrap_pyfunction!(backtest, m)?)?;
    m.add_function(wrap_pyfunction!(detect, m)?)?;
    m.add_function(wrap_pyfunction!(_restore_detector, m)?)?;
    m.add_function(wrap_pyfunction!(_restore_forecaster, m)?)?;
    Ok(())
}
