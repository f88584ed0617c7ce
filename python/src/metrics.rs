//! The metrics (`tailcast.metrics` re-exports them with docs and stubs).

use numpy::{AllowTypeChange, PyArray1, PyArrayLike1, PyArrayLike2, PyArrayLikeDyn};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use tailcast::metrics::{self as m, Crps, Ties};

use crate::dist::{PyGpd, PySbp, map_values, to_vec};
use crate::{OrPy, guard};

/// `CRPS(dist, y)` elementwise, for a `GeneralizedPareto`, a `SplicedBinnedPareto`
/// or a `Forecast` (whose residual law is shifted by its location).
#[pyfunction]
fn crps<'py>(
    py: Python<'py>,
    dist: &Bound<'py, PyAny>,
    y: PyArrayLikeDyn<'py, f64, AllowTypeChange>,
) -> PyResult<Bound<'py, PyAny>> {
    if let Ok(d) = dist.cast::<PyGpd>() {
        let d = d.get().inner;
        return map_values(py, y, move |v| d.crps(v));
    }
    if let Ok(d) = dist.cast::<PySbp>() {
        let d = &d.get().inner;
        return map_values(py, y, |v| d.crps(v));
    }
    if let Ok(f) = dist.getattr("residual")
        && let Ok(r) = f.cast::<PySbp>()
    {
        let location: f64 = dist.getattr("location")?.extract()?;
        let d = &r.get().inner;
        return map_values(py, y, |v| d.crps(v - location));
    }
    Err(PyTypeError::new_err(
        "dist must be a GeneralizedPareto, SplicedBinnedPareto or Forecast",
    ))
}

/// The CRPS of an ensemble (samples) at `y`.
#[pyfunction]
fn crps_ensemble(samples: PyArrayLike1<'_, f64, AllowTypeChange>, y: f64) -> PyResult<f64> {
    let mut s = to_vec(&samples);
    guard(|| m::crps_ensemble(&mut s, y).or_py())
}

/// The empirical PP curve: the share of PIT values below each level.
#[pyfunction]
fn pp_curve_from_pit<'py>(
    py: Python<'py>,
    pit: PyArrayLike1<'py, f64, AllowTypeChange>,
    levels: PyArrayLike1<'py, f64, AllowTypeChange>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let (pit, levels) = (to_vec(&pit), to_vec(&levels));
    let curve = guard(|| m::pp_curve_from_pit(&pit, &levels).or_py())?;
    Ok(PyArray1::from_vec(py, curve))
}

fn score_dict<'py>(py: Python<'py>, s: m::PpScore) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("curve", PyArray1::from_vec(py, s.curve))?;
    d.set_item("lower", s.mae.lower)?;
    d.set_item("base", s.mae.base)?;
    d.set_item("upper", s.mae.upper)?;
    d.set_item("full", s.mae.full)?;
    Ok(d)
}

/// The PP curve from PIT values and its mean absolute error per region.
#[pyfunction]
#[pyo3(signature = (pit, levels=None, tail=0.05))]
fn pp_score_from_pit<'py>(
    py: Python<'py>,
    pit: PyArrayLike1<'py, f64, AllowTypeChange>,
    levels: Option<PyArrayLike1<'py, f64, AllowTypeChange>>,
    tail: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let pit = to_vec(&pit);
    let levels = levels
        .as_ref()
        .map(to_vec)
        .unwrap_or_else(m::paper_quantile_levels);
    let s = guard(|| m::pp_score_from_pit(&pit, &levels, tail).or_py())?;
    score_dict(py, s)
}

fn ties(s: &str) -> PyResult<Ties> {
    match s {
        "strict" => Ok(Ties::Strict),
        "half" => Ok(Ties::Half),
        _ => Err(PyValueError::new_err(format!(
            "ties must be 'strict' or 'half', got {s:?}"
        ))),
    }
}

/// The PP curve from predicted quantiles (n × levels) and its error per region.
#[pyfunction]
#[pyo3(signature = (y, quantiles, levels, tail=0.05, ties="strict"))]
fn pp_score_from_quantiles<'py>(
    py: Python<'py>,
    y: PyArrayLike1<'py, f64, AllowTypeChange>,
    quantiles: PyArrayLike2<'py, f64, AllowTypeChange>,
    levels: PyArrayLike1<'py, f64, AllowTypeChange>,
    tail: f64,
    ties: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let t = self::ties(ties)?;
    let (y, levels) = (to_vec(&y), to_vec(&levels));
    let q = quantiles.as_array();
    let s = guard(|| m::pp_score_from_quantiles(&y, q, &levels, t, tail).or_py())?;
    score_dict(py, s)
}

/// The mean pinball loss per level of predicted quantiles (n × levels).
#[pyfunction]
fn mean_pinball_loss<'py>(
    py: Python<'py>,
    y: PyArrayLike1<'py, f64, AllowTypeChange>,
    quantiles: PyArrayLike2<'py, f64, AllowTypeChange>,
    levels: PyArrayLike1<'py, f64, AllowTypeChange>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let (y, levels) = (to_vec(&y), to_vec(&levels));
    let q = quantiles.as_array();
    let v = guard(|| m::mean_pinball_loss(&y, q, &levels).or_py())?;
    Ok(PyArray1::from_vec(py, v))
}

/// The share of observations inside `[lower, upper]`.
#[pyfunction]
fn interval_coverage(
    y: PyArrayLike1<'_, f64, AllowTypeChange>,
    lower: PyArrayLike1<'_, f64, AllowTypeChange>,
    upper: PyArrayLike1<'_, f64, AllowTypeChange>,
) -> PyResult<f64> {
    let (y, lo, hi) = (to_vec(&y), to_vec(&lower), to_vec(&upper));
    guard(|| m::interval_coverage(&y, &lo, &hi).or_py())
}

/// The coverage of the central `nominal` interval of predicted quantiles.
#[pyfunction]
fn central_interval_coverage(
    y: PyArrayLike1<'_, f64, AllowTypeChange>,
    quantiles: PyArrayLike2<'_, f64, AllowTypeChange>,
    levels: PyArrayLike1<'_, f64, AllowTypeChange>,
    nominal: f64,
) -> PyResult<f64> {
    let (y, levels) = (to_vec(&y), to_vec(&levels));
    let q = quantiles.as_array();
    guard(|| m::central_interval_coverage(&y, q, &levels, nominal).or_py())
}

/// One-sample Kolmogorov–Smirnov test of PIT values against U(0, 1):
/// `(statistic, p_value)`.
#[pyfunction]
fn ks_uniform(pit: PyArrayLike1<'_, f64, AllowTypeChange>) -> PyResult<(f64, f64)> {
    let pit = to_vec(&pit);
    let t = guard(|| m::ks_uniform(&pit).or_py())?;
    Ok((t.statistic, t.p_value))
}

/// The paper's quantile levels (0.001 … 0.999, dense in the tails).
#[pyfunction]
fn paper_quantile_levels<'py>(py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
    PyArray1::from_vec(py, m::paper_quantile_levels())
}

pub(crate) fn register(parent: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = parent.py();
    let sub = PyModule::new(py, "metrics")?;
    sub.add_function(wrap_pyfunction!(crps, &sub)?)?;
    sub.add_function(wrap_pyfunction!(crps_ensemble, &sub)?)?;
    sub.add_function(wrap_pyfunction!(pp_curve_from_pit, &sub)?)?;
    sub.add_function(wrap_pyfunction!(pp_score_from_pit, &sub)?)?;
    sub.add_function(wrap_pyfunction!(pp_score_from_quantiles, &sub)?)?;
    sub.add_function(wrap_pyfunction!(mean_pinball_loss, &sub)?)?;
    sub.add_function(wrap_pyfunction!(interval_coverage, &sub)?)?;
    sub.add_function(wrap_pyfunction!(central_interval_coverage, &sub)?)?;
    sub.add_function(wrap_pyfunction!(ks_uniform, &sub)?)?;
    sub.add_function(wrap_pyfunction!(paper_quantile_levels, &sub)?)?;
    sub.add("PAPER_TAIL", m::PAPER_TAIL)?;
    parent.add_submodule(&sub)?;
    Ok(())
}
