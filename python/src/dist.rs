//! `GeneralizedPareto`, `SplicedBinnedPareto` and their fits.

use numpy::{AllowTypeChange, PyArray1, PyArrayDyn, PyArrayLike1, PyArrayLikeDyn};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyFloat;
use rand::SeedableRng;
use rand::distr::Distribution;
use rand::rngs::StdRng;
use tailcast::{Binned, GeneralizedPareto, SbpConfig, SplicedBinnedPareto, Tail};

use crate::{OrPy, guard};

/// Arrays at least this long are evaluated with the GIL released.
const DETACH_LEN: usize = 2048;

/// One `#[pymethods]` block (pyo3 takes one a class) holding the class's own methods
/// and the pointwise functions every distribution class shares: `pdf`, `logpdf`,
/// `cdf`, `logcdf`, `sf`, `logsf` of the argument named `$x`, and `ppf` of `q`, each
/// mapped over an array (or a scalar) by [`map_values`]. `|$this| $law` gives the law
/// from `&self`.
macro_rules! law_pymethods {
    ($class:ty, |$this:ident| $law:expr, $x:ident; $($own:tt)*) => {
        law_pymethods!(@impl $class, $this, $law, [
            (pdf, pdf, $x),
            (logpdf, ln_pdf, $x),
            (cdf, cdf, $x),
            (logcdf, ln_cdf, $x),
            (sf, sf, $x),
            (logsf, ln_sf, $x),
            (ppf, quantile, q)
        ], $($own)*);
    };
    (@impl $class:ty, $this:ident, $law:expr,
        [$(($name:ident, $f:ident, $arg:ident)),*], $($own:tt)*) => {
        #[::pyo3::pymethods]
        impl $class {
            $(
                fn $name<'py>(
                    &self,
                    py: ::pyo3::Python<'py>,
                    $arg: ::numpy::PyArrayLikeDyn<'py, f64, ::numpy::AllowTypeChange>,
                ) -> ::pyo3::PyResult<::pyo3::Bound<'py, ::pyo3::PyAny>> {
                    let $this = self;
                    let law = $law;
                    $crate::dist::map_values(py, $arg, move |v| law.$f(v))
                }
            )*

            $($own)*
        }
    };
}
pub(crate) use law_pymethods;

/// Applies `f` elementwise: a float for a scalar (0-d) input, an array of the same
/// shape otherwise.
pub(crate) fn map_values<'py>(
    py: Python<'py>,
    x: PyArrayLikeDyn<'py, f64, AllowTypeChange>,
    f: impl Fn(f64) -> f64 + Send + Sync,
) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        let view = x.as_array();
        if view.ndim() == 0 {
            let v = view.iter().next().copied().unwrap_or(f64::NAN);
            return Ok(PyFloat::new(py, f(v)).into_any());
        }
        let out = if view.len() >= DETACH_LEN {
            py.detach(|| view.mapv(&f))
        } else {
            view.mapv(&f)
        };
        Ok(PyArrayDyn::from_owned_array(py, out).into_any())
    })
}

/// A 1-D input as a contiguous vector (copied: the GIL may be released while it is
/// read, and Python code could otherwise write to the array meanwhile).
pub(crate) fn to_vec(x: &PyArrayLike1<'_, f64, AllowTypeChange>) -> Vec<f64> {
    match x.as_slice() {
        Ok(s) => s.to_vec(),
        Err(_) => x.as_array().to_vec(),
    }
}

/// A random generator: seeded for reproducible draws, else from the OS.
pub(crate) fn rng(seed: Option<u64>) -> StdRng {
    match seed {
        Some(s) => StdRng::seed_from_u64(s),
        None => rand::make_rng::<StdRng>(),
    }
}

/// Draws `size` values of `dist` (released GIL for large draws).
fn draw<'py, D: Distribution<f64> + Sync>(
    py: Python<'py>,
    dist: &D,
    size: usize,
    seed: Option<u64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    guard(|| {
        let mut rng = rng(seed);
        let mut run = || {
            (0..size)
                .map(|_| dist.sample(&mut rng))
                .collect::<Vec<f64>>()
        };
        let v = if size >= DETACH_LEN {
            py.detach(run)
        } else {
            run()
        };
        Ok(PyArray1::from_vec(py, v))
    })
}

/// The generalized Pareto distribution of exceedances over a threshold.
#[pyclass(module = "tailcast._tailcast", name = "GeneralizedPareto", frozen)]
#[derive(Clone)]
pub(crate) struct PyGpd {
    pub(crate) inner: GeneralizedPareto,
}

law_pymethods! {
    PyGpd, |this| this.inner, x;

    #[new]
    fn new(shape: f64, scale: f64) -> PyResult<Self> {
        Ok(Self {
            inner: GeneralizedPareto::new(shape, scale).or_py()?,
        })
    }

    /// Maximum-likelihood fit to positive exceedances (optionally weighted).
    #[staticmethod]
    #[pyo3(signature = (x, weights=None))]
    fn fit(
        py: Python<'_>,
        x: PyArrayLike1<'_, f64, AllowTypeChange>,
        weights: Option<PyArrayLike1<'_, f64, AllowTypeChange>>,
    ) -> PyResult<PyGpdFit> {
        let x = to_vec(&x);
        let w = weights.as_ref().map(to_vec);
        guard(|| {
            let fit = py.detach(|| match &w {
                Some(w) => GeneralizedPareto::fit_weighted(&x, w),
                None => GeneralizedPareto::fit(&x),
            });
            PyGpdFit::from_fit(py, fit.or_py()?)
        })
    }

    #[getter]
    fn shape(&self) -> f64 {
        self.inner.shape()
    }

    #[getter]
    fn scale(&self) -> f64 {
        self.inner.scale()
    }

    /// `(0, upper end point)`.
    #[getter]
    fn support(&self) -> (f64, f64) {
        self.inner.support()
    }

    fn isf<'py>(
        &self,
        py: Python<'py>,
        q: PyArrayLikeDyn<'py, f64, AllowTypeChange>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let d = self.inner;
        map_values(py, q, move |s| d.inverse_sf(s))
    }

    #[pyo3(signature = (size, seed=None))]
    fn rvs<'py>(
        &self,
        py: Python<'py>,
        size: usize,
        seed: Option<u64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        draw(py, &self.inner, size, seed)
    }

    /// The mean, or `inf` when the shape is at least 1.
    fn mean(&self) -> f64 {
        self.inner.mean().unwrap_or(f64::INFINITY)
    }

    /// The variance, or `inf` when the shape is at least 1/2.
    fn var(&self) -> f64 {
        self.inner.variance().unwrap_or(f64::INFINITY)
    }

    fn median(&self) -> f64 {
        self.inner.median()
    }

    fn entropy(&self) -> f64 {
        self.inner.entropy()
    }

    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (f64, f64))> {
        let restore = crate::restorer(py, "_restore_gpd")?;
        Ok((restore, (self.inner.shape(), self.inner.scale())))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyGpd>()
            .is_ok_and(|o| o.get().inner == self.inner)
    }

    fn __repr__(&self) -> String {
        format!(
            "GeneralizedPareto(shape={:?}, scale={:?})",
            self.inner.shape(),
            self.inner.scale()
        )
    }
}

/// A GPD fit: the distribution, its log-likelihood and standard errors.
#[pyclass(module = "tailcast._tailcast", name = "GpdFit", frozen, get_all)]
pub(crate) struct PyGpdFit {
    dist: Py<PyGpd>,
    shape: f64,
    scale: f64,
    log_likelihood: f64,
    /// `None` when the observed information is singular (shape <= -1/2).
    shape_se: Option<f64>,
    scale_se: Option<f64>,
    count: usize,
    at_boundary: bool,
}

impl PyGpdFit {
    fn from_fit(py: Python<'_>, fit: tailcast::GpdFit) -> PyResult<Self> {
        Ok(Self {
            dist: Py::new(py, PyGpd { inner: fit.dist })?,
            shape: fit.dist.shape(),
            scale: fit.dist.scale(),
            log_likelihood: fit.log_likelihood,
            shape_se: fit.shape_se,
            scale_se: fit.scale_se,
            count: fit.estimate.count,
            at_boundary: fit.estimate.at_boundary,
        })
    }
}

#[pymethods]
impl PyGpdFit {
    fn __repr__(&self) -> String {
        format!(
            "GpdFit(shape={:?}, scale={:?}, log_likelihood={:?}, shape_se={}, scale_se={}, count={})",
            self.shape,
            self.scale,
            self.log_likelihood,
            opt(self.shape_se),
            opt(self.scale_se),
            self.count
        )
    }
}

/// The spliced binned-Pareto distribution: a histogram body between two GPD tails.
#[pyclass(module = "tailcast._tailcast", name = "SplicedBinnedPareto", frozen)]
#[derive(Clone)]
pub(crate) struct PySbp {
    pub(crate) inner: SplicedBinnedPareto,
}

/// `(mass, shape, scale)` of a tail.
type TailTuple = (f64, f64, f64);

fn tail(t: TailTuple) -> PyResult<Tail> {
    Tail::new(t.0, GeneralizedPareto::new(t.1, t.2).or_py()?).or_py()
}

fn tail_tuple(t: &Tail) -> TailTuple {
    (t.mass(), t.gpd().shape(), t.gpd().scale())
}

law_pymethods! {
    PySbp, |this| &this.inner, x;

    /// `edges` (n + 1, increasing) and `probs` (n, normalised here) of the body;
    /// `lower` and `upper` are `(mass, shape, scale)` of the tails.
    #[new]
    fn new(
        edges: PyArrayLike1<'_, f64, AllowTypeChange>,
        probs: PyArrayLike1<'_, f64, AllowTypeChange>,
        lower: TailTuple,
        upper: TailTuple,
    ) -> PyResult<Self> {
        let body = Binned::new(to_vec(&edges), to_vec(&probs)).or_py()?;
        Ok(Self {
            inner: SplicedBinnedPareto::new(body, tail(lower)?, tail(upper)?).or_py()?,
        })
    }

    /// Equal-width bins on `[lo, hi]` with softmax(`logits`) masses, tails of mass
    /// `tail_mass` with `(shape, scale)` GPDs (the paper's network output).
    #[staticmethod]
    fn from_logits(
        lo: f64,
        hi: f64,
        logits: PyArrayLike1<'_, f64, AllowTypeChange>,
        tail_mass: f64,
        lower: (f64, f64),
        upper: (f64, f64),
    ) -> PyResult<Self> {
        let logits = to_vec(&logits);
        let l = GeneralizedPareto::new(lower.0, lower.1).or_py()?;
        let u = GeneralizedPareto::new(upper.0, upper.1).or_py()?;
        Ok(Self {
            inner: SplicedBinnedPareto::from_logits(lo, hi, &logits, tail_mass, l, u).or_py()?,
        })
    }

    /// Fits the body histogram and both GPD tails to `x`.
    #[staticmethod]
    #[pyo3(signature = (x, *, weights=None, bins=100, tail_mass=None, lower_tail_mass=None, upper_tail_mass=None, bounds=None, margin=0.01, pseudo_count=0.5, min_exceedances=10))]
    #[allow(clippy::too_many_arguments)]
    fn fit(
        py: Python<'_>,
        x: PyArrayLike1<'_, f64, AllowTypeChange>,
        weights: Option<PyArrayLike1<'_, f64, AllowTypeChange>>,
        bins: usize,
        tail_mass: Option<f64>,
        lower_tail_mass: Option<f64>,
        upper_tail_mass: Option<f64>,
        bounds: Option<(f64, f64)>,
        margin: f64,
        pseudo_count: f64,
        min_exceedances: usize,
    ) -> PyResult<PySbpFit> {
        let mut config = SbpConfig::default()
            .bins(bins)
            .pseudo_count(pseudo_count)
            .min_exceedances(min_exceedances)
            .auto_bounds(margin);
        if let Some(m) = tail_mass {
            config = config.tail_mass(m);
        }
        if let Some(m) = lower_tail_mass {
            config = config.lower_tail_mass(m);
        }
        if let Some(m) = upper_tail_mass {
            config = config.upper_tail_mass(m);
        }
        if let Some((lo, hi)) = bounds {
            config = config.bounds(lo, hi);
        }
        let x = to_vec(&x);
        let w = weights.as_ref().map(to_vec);
        guard(|| {
            let fit = py.detach(|| match &w {
                Some(w) => SplicedBinnedPareto::fit_weighted(&x, w, &config),
                None => SplicedBinnedPareto::fit(&x, &config),
            });
            PySbpFit::new(py, fit.or_py()?)
        })
    }

    /// The body's bin edges.
    #[getter]
    fn edges<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, self.inner.body().edges())
    }

    /// The body's bin probabilities (summing to 1 within the body).
    #[getter]
    fn probs<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, self.inner.body().probs())
    }

    /// `(mass, shape, scale)` of the lower tail.
    #[getter]
    fn lower_tail(&self) -> TailTuple {
        tail_tuple(self.inner.lower_tail())
    }

    /// `(mass, shape, scale)` of the upper tail.
    #[getter]
    fn upper_tail(&self) -> TailTuple {
        tail_tuple(self.inner.upper_tail())
    }

    #[getter]
    fn lower_threshold(&self) -> f64 {
        self.inner.lower_threshold()
    }

    #[getter]
    fn upper_threshold(&self) -> f64 {
        self.inner.upper_threshold()
    }

    #[getter]
    fn support(&self) -> (f64, f64) {
        self.inner.support()
    }

    #[pyo3(signature = (size, seed=None))]
    fn rvs<'py>(
        &self,
        py: Python<'py>,
        size: usize,
        seed: Option<u64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        draw(py, &self.inner, size, seed)
    }

    /// The mean, or `inf` when a tail shape is at least 1.
    fn mean(&self) -> f64 {
        self.inner.mean().unwrap_or(f64::INFINITY)
    }

    /// The variance, or `inf` when a tail shape is at least 1/2.
    fn var(&self) -> f64 {
        self.inner.variance().unwrap_or(f64::INFINITY)
    }

    fn median(&self) -> f64 {
        self.inner.quantile(0.5)
    }

    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyAny>,))> {
        let bytes = crate::stream::encode(py, b"TCS1", &self.inner)?;
        Ok((crate::restorer(py, "_restore_sbp")?, (bytes.into_any(),)))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PySbp>()
            .is_ok_and(|o| o.get().inner == self.inner)
    }

    fn __repr__(&self) -> String {
        let (l, u) = (self.inner.lower_tail(), self.inner.upper_tail());
        format!(
            "SplicedBinnedPareto(bins={}, lower_threshold={:?}, upper_threshold={:?}, lower=(mass={:?}, shape={:?}, scale={:?}), upper=(mass={:?}, shape={:?}, scale={:?}))",
            self.inner.body().bins(),
            self.inner.lower_threshold(),
            self.inner.upper_threshold(),
            l.mass(),
            l.gpd().shape(),
            l.gpd().scale(),
            u.mass(),
            u.gpd().shape(),
            u.gpd().scale(),
        )
    }
}

/// A spliced fit: the distribution, its log-likelihood and both tails' GPD fits.
#[pyclass(module = "tailcast._tailcast", name = "SbpFit", frozen, get_all)]
pub(crate) struct PySbpFit {
    dist: Py<PySbp>,
    log_likelihood: f64,
    lower: Py<PyGpdFit>,
    upper: Py<PyGpdFit>,
    lower_exceedances: usize,
    upper_exceedances: usize,
}

impl PySbpFit {
    fn new(py: Python<'_>, fit: tailcast::SbpFit) -> PyResult<Self> {
        Ok(Self {
            dist: Py::new(py, PySbp { inner: fit.dist })?,
            log_likelihood: fit.log_likelihood,
            lower: Py::new(py, PyGpdFit::from_fit(py, fit.lower)?)?,
            upper: Py::new(py, PyGpdFit::from_fit(py, fit.upper)?)?,
            lower_exceedances: fit.lower_exceedances,
            upper_exceedances: fit.upper_exceedances,
        })
    }
}

#[pymethods]
impl PySbpFit {
    fn __repr__(&self) -> String {
        format!(
            "SbpFit(log_likelihood={:?}, lower_exceedances={}, upper_exceedances={})",
            self.log_likelihood, self.lower_exceedances, self.upper_exceedances
        )
    }
}

#[pyfunction]
fn _restore_gpd(shape: f64, scale: f64) -> PyResult<PyGpd> {
    PyGpd::new(shape, scale)
}

#[pyfunction]
fn _restore_sbp(data: &[u8]) -> PyResult<PySbp> {
    Ok(PySbp {
        inner: crate::stream::decode(b"TCS1", "SplicedBinnedPareto", data)?,
    })
}

/// Checks a probability level argument.
pub(crate) fn check_unit(name: &str, p: f64) -> PyResult<f64> {
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(PyValueError::new_err(format!(
            "{name} must be in [0, 1], got {p}"
        )))
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyGpd>()?;
    m.add_class::<PyGpdFit>()?;
    m.add_class::<PySbp>()?;
    m.add_class::<PySbpFit>()?;
    m.add_function(wrap_pyfunction!(_restore_gpd, m)?)?;
    m.add_function(wrap_pyfunction!(_restore_sbp, m)?)?;
    Ok(())
}

/// `repr` of an optional float.
fn opt(v: Option<f64>) -> String {
    v.map_or("None".to_owned(), |v| format!("{v:?}"))
}
