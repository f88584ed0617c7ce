//! `group_events`: alarms grouped into anomaly events, from `update_many`'s arrays.

use numpy::{AllowTypeChange, PyArray1, PyArrayLike1};
use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use tailcast::Verdict;
use tailcast::events::{EventConfig, group_events as group};

use crate::stream::{side_code, side_from_code};
use crate::{OrPy, guard};

/// The column `key` of a verdict dict, as a vector of `T`.
fn column<'py, T: numpy::Element + Copy + 'py + for<'a> FromPyObject<'a, 'py>>(
    verdicts: &Bound<'py, PyDict>,
    key: &str,
) -> PyResult<Vec<T>> {
    let value = verdicts
        .get_item(key)?
        .ok_or_else(|| PyKeyError::new_err(format!("verdicts has no {key:?} column")))?;
    let array: PyArrayLike1<'py, T, AllowTypeChange> = value.extract().map_err(|_| {
        PyValueError::new_err(format!("verdicts[{key:?}] is not a one-dimensional array"))
    })?;
    Ok(array.as_array().to_vec())
}

/// Groups alarms into events (start, end, peak, peak_score, peak_p_value, side,
/// alarms); `verdicts` is `AnomalyDetector.update_many`'s dict (only its
/// `is_anomaly`, `score`, `p_value`, `side`, `warming_up` and `missing` columns are
/// read). An event ends after `rearm` scored rows without an alarm; `max_len`
/// splits longer ones.
#[pyfunction]
#[pyo3(signature = (verdicts, rearm = 10, max_len = None))]
fn group_events<'py>(
    py: Python<'py>,
    verdicts: &Bound<'py, PyDict>,
    rearm: usize,
    max_len: Option<usize>,
) -> PyResult<Bound<'py, PyDict>> {
    let is_anomaly: Vec<bool> = column(verdicts, "is_anomaly")?;
    let score: Vec<f64> = column(verdicts, "score")?;
    let p_value: Vec<f64> = column(verdicts, "p_value")?;
    let sides: Vec<i8> = column(verdicts, "side")?;
    let warming_up: Vec<bool> = column(verdicts, "warming_up")?;
    let missing: Vec<bool> = column(verdicts, "missing")?;
    let n = is_anomaly.len();
    for (key, len) in [
        ("score", score.len()),
        ("p_value", p_value.len()),
        ("side", sides.len()),
        ("warming_up", warming_up.len()),
        ("missing", missing.len()),
    ] {
        if len != n {
            return Err(PyValueError::new_err(format!(
                "verdicts[{key:?}] has {len} rows, is_anomaly has {n}"
            )));
        }
    }
    let rows: Vec<Verdict> = (0..n)
        .map(|i| Verdict {
            p_value: p_value[i],
            score: score[i],
            is_anomaly: is_anomaly[i],
            lower: f64::NAN,
            upper: f64::NAN,
            location: f64::NAN,
            side: side_from_code(sides[i]),
            warming_up: warming_up[i],
            missing: missing[i],
            excluded: false,
            regime_change: false,
        })
        .collect();
    let mut config = EventConfig::default().rearm(rearm);
    if let Some(n) = max_len {
        config = config.max_len(n);
    }
    let events = guard(|| group(&rows, config).or_py())?;
    let d = PyDict::new(py);
    let ints = |f: fn(&tailcast::Event) -> u64| events.iter().map(f).collect::<Vec<u64>>();
    d.set_item("start", PyArray1::from_vec(py, ints(|e| e.start)))?;
    d.set_item("end", PyArray1::from_vec(py, ints(|e| e.end)))?;
    d.set_item("peak", PyArray1::from_vec(py, ints(|e| e.peak)))?;
    let floats = |f: fn(&tailcast::Event) -> f64| events.iter().map(f).collect::<Vec<f64>>();
    d.set_item(
        "peak_score",
        PyArray1::from_vec(py, floats(|e| e.peak_score)),
    )?;
    d.set_item(
        "peak_p_value",
        PyArray1::from_vec(py, floats(|e| e.peak_p_value)),
    )?;
    let codes: Vec<i8> = events.iter().map(|e| side_code(e.side)).collect();
    d.set_item("side", PyArray1::from_vec(py, codes))?;
    d.set_item("alarms", PyArray1::from_vec(py, ints(|e| e.alarms)))?;
    Ok(d)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(group_events, m)?)
}
