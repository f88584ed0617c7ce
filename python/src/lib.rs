//! Python bindings of `tailcast` (the extension module `tailcast._tailcast`).
//!
//! The Python package in `python/tailcast/` re-exports what is defined here and adds
//! the pure-Python parts (`tailcast.metrics`, `tailcast.spark`). Every entry point
//! runs inside [`guard`], so a Rust panic becomes a `RuntimeError` instead of
//! crossing into Python, and every `tailcast::Error` becomes a `ValueError` (bad
//! input) or a `RuntimeError` (a fit that did not converge, a forecast asked for
//! too early) with the Rust message.

use std::panic::{AssertUnwindSafe, catch_unwind};

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

mod dist;
mod events;
mod metrics;
mod stream;

/// Converts a crate error: bad input is a `ValueError`, a state that cannot answer
/// (not converged, not ready) a `RuntimeError`, with the crate's message.
pub(crate) fn to_py(e: tailcast::Error) -> PyErr {
    use tailcast::Error as E;
    match e {
        E::NotConverged { .. } | E::NotReady { .. } => PyRuntimeError::new_err(e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}

/// `Result<T, tailcast::Error>` → `PyResult<T>`.
pub(crate) trait OrPy<T> {
    fn or_py(self) -> PyResult<T>;
}

impl<T> OrPy<T> for tailcast::Result<T> {
    fn or_py(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}

/// Runs `f`, turning a panic into a `RuntimeError` (nothing unwinds into Python).
pub(crate) fn guard<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(PyRuntimeError::new_err(format!(
            "internal error in tailcast (please report): {}",
            panic_message(&payload)
        ))),
    }
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_owned()
    }
}

/// The compiled core of the `tailcast` Python package.
#[pymodule]
fn _tailcast(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    dist::register(m)?;
    stream::register(m)?;
    metrics::register(m)?;
    events::register(m)?;
    Ok(())
}

/// A module-level function of `tailcast._tailcast`, for `__reduce__`.
pub(crate) fn restorer<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("tailcast._tailcast")?.getattr(name)
}
