"""Distributions and fits: the Rust crate's golden values, vectorised vs scalar,
errors, pickling."""

import copy
import pickle

import numpy as np
import pytest

import tailcast
from tailcast import GeneralizedPareto, SplicedBinnedPareto

from conftest import assert_close, num


def near_endpoint_tolerance(d, x):
    """As the crate's tests/dist_golden.rs: the conditioning near a finite end point."""
    gap = 1.0 + d.shape * x / d.scale
    condition = abs(x / d.scale / gap) * (1.0 + 1.0 / abs(d.shape))
    return max(1e-12, 4.0 * 2.220446049250313e-16 * condition)


def test_gpd_matches_the_crates_golden_values(fixture):
    fx = fixture("gpd_values.json")
    cases = fx["cases"]
    assert len(cases) > 1000
    for c in cases:
        d = GeneralizedPareto(num(c["shape"]), num(c["scale"]))
        x = num(c["x"])
        rtol = near_endpoint_tolerance(d, x) if c.get("near_endpoint") else 1e-12
        assert_close(d.pdf(x), num(c["pdf"]), rtol, 1e-300, f"{d} pdf({x})")
        assert_close(d.cdf(x), num(c["cdf"]), rtol, 1e-300, f"{d} cdf({x})")
        assert_close(d.sf(x), num(c["sf"]), rtol, 1e-300, f"{d} sf({x})")
        assert_close(d.logpdf(x), num(c["logpdf"]), rtol, rtol, f"{d} logpdf({x})")
    for c in fx["ppf_cases"]:
        d = GeneralizedPareto(num(c["shape"]), num(c["scale"]))
        p = num(c["p"])
        assert_close(d.ppf(p), num(c["ppf"]), 1e-12, 1e-300, f"{d} ppf({p})")
        assert_close(d.isf(p), num(c["isf"]), 1e-12, 1e-300, f"{d} isf({p})")


def test_sbp_matches_the_crates_golden_values(fixture):
    for s in fixture("sbp_values.json")["sets"]:
        d = SplicedBinnedPareto.from_logits(
            num(s["lo"]), num(s["hi"]), s["logits"], num(s["tail_mass"]),
            (num(s["xi_l"]), num(s["beta_l"])), (num(s["xi_u"]), num(s["beta_u"])),
        )
        assert_close(d.lower_threshold, num(s["tau_l"]), 1e-12, 1e-12, "tau_l")
        assert_close(d.upper_threshold, num(s["tau_u"]), 1e-12, 1e-12, "tau_u")
        assert_close(d.mean(), num(s["mean"]), 1e-12, 1e-12, "mean")
        for p in s["points"]:
            kind = p["kind"]
            x = {"tau_l": d.lower_threshold, "tau_u": d.upper_threshold}.get(kind, num(p.get("x", 0)))
            rtol = (
                near_endpoint_tolerance(GeneralizedPareto(*d.lower_tail[1:]), d.lower_threshold - x)
                if kind == "near_lower_endpoint"
                else 1e-12
            )
            assert_close(d.pdf(x), num(p["pdf"]), rtol, 1e-300, f"{kind} pdf({x})")
            assert_close(d.cdf(x), num(p["cdf"]), rtol, 1e-300, f"{kind} cdf({x})")
            assert_close(d.sf(x), num(p["sf"]), rtol, 1e-300, f"{kind} sf({x})")
            if kind != "underflow_bin":
                assert_close(d.logpdf(x), num(p["logpdf"]), rtol, 1e-12, f"{kind} logpdf({x})")
        for q in s["quantiles"]:
            assert_close(d.ppf(num(q["q"])), num(q["x"]), 1e-11, 1e-12, f"ppf({q['q']})")


def test_gpd_fit_matches_the_reference_fits(fixture):
    for s in fixture("gpd_fits.json")["samples"]:
        if s.get("best_shape") is None or "data" not in s:
            continue
        fit = GeneralizedPareto.fit(s["data"])
        # The crate's global search finds the reference maximum (or a higher one).
        assert fit.log_likelihood >= num(s["best_loglik"]) - 1e-6 * abs(num(s["best_loglik"])) - 1e-9


def test_gpd_fit_recovers_parameters_with_standard_errors():
    truth = GeneralizedPareto(0.3, 2.0)
    fit = GeneralizedPareto.fit(truth.rvs(5000, seed=7))
    assert abs(fit.shape - 0.3) < 4 * fit.shape_se
    assert abs(fit.scale - 2.0) < 4 * fit.scale_se
    assert fit.dist == GeneralizedPareto(fit.shape, fit.scale)
    assert np.isfinite(fit.log_likelihood) and fit.count == 5000
    assert "GpdFit(" in repr(fit)


@pytest.mark.parametrize("method", ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf", "ppf"])
def test_vectorised_equals_scalar(method):
    g = GeneralizedPareto(0.25, 1.5)
    s = SplicedBinnedPareto.fit(np.random.default_rng(3).standard_t(3, 3000), bins=40).dist
    xs = np.linspace(0.001, 0.999, 37) if method == "ppf" else np.linspace(-8, 12, 37)
    for d in (g, s):
        f = getattr(d, method)
        vec = f(xs)
        assert isinstance(vec, np.ndarray) and vec.shape == xs.shape
        scalar = np.array([f(float(x)) for x in xs])
        np.testing.assert_array_equal(vec, scalar)
        # Shapes are kept, lists accepted, scalars give floats.
        assert f(xs.reshape(37, 1)).shape == (37, 1)
        np.testing.assert_array_equal(f(list(xs)), vec)
        assert isinstance(f(0.5), float)
        # Large arrays (evaluated with the GIL released) agree too.
        big = np.tile(xs, 200)
        np.testing.assert_array_equal(f(big), np.tile(vec, 200))


def test_ppf_is_the_inverse_of_cdf_and_nan_outside():
    s = SplicedBinnedPareto.fit(np.random.default_rng(4).standard_t(2, 4000)).dist
    q = np.array([1e-9, 0.01, 0.05, 0.3, 0.95, 0.999999])
    np.testing.assert_allclose(s.cdf(s.ppf(q)), q, rtol=1e-9)
    assert np.isnan(s.ppf(1.5)) and np.isnan(GeneralizedPareto(0.1, 1).ppf(-0.1))


def test_rvs_is_seeded_and_fits_back():
    s = SplicedBinnedPareto.fit(np.random.default_rng(5).standard_t(4, 4000)).dist
    a, b = s.rvs(10000, seed=1), s.rvs(10000, seed=1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, s.rvs(10000, seed=2))
    # The draws follow the law: a KS test of their PIT values.
    stat, p = tailcast.metrics.ks_uniform(s.cdf(a))
    assert p > 1e-4, (stat, p)


def test_sbp_fit_options_and_fields():
    x = np.random.default_rng(6).standard_t(3, 5000)
    fit = SplicedBinnedPareto.fit(x, bins=50, lower_tail_mass=0.02, upper_tail_mass=0.1, pseudo_count=0.0)
    d = fit.dist
    assert d.edges.shape == (51,) and d.probs.shape == (50,)
    assert abs(d.cdf(d.upper_threshold) - 0.9) < 1e-12
    assert abs(d.cdf(d.lower_threshold) - 0.02) < 1e-12
    assert d.lower_tail[0] == 0.02 and d.upper_tail[0] == 0.1
    assert fit.upper.shape_se is not None and fit.upper_exceedances > 400
    assert np.isfinite(fit.log_likelihood)
    same = SplicedBinnedPareto(d.edges, d.probs, d.lower_tail, d.upper_tail)
    np.testing.assert_allclose(same.cdf(x[:100]), d.cdf(x[:100]), rtol=1e-12)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: GeneralizedPareto(0.1, -1.0), "scale must be > 0"),
        (lambda: GeneralizedPareto(float("nan"), 1.0), "shape must be finite"),
        (lambda: GeneralizedPareto.fit([1.0, -2.0, 3.0]), "must be > 0"),
        (lambda: GeneralizedPareto.fit([]), "needs at least"),
        (lambda: SplicedBinnedPareto.fit([1.0] * 100), "spread"),
        (lambda: SplicedBinnedPareto.fit(np.arange(100.0), tail_mass=0.7), "(0, 0.5)"),
        (lambda: SplicedBinnedPareto([0, 1, 0.5], [1, 1], (0.05, 0.1, 1), (0.05, 0.1, 1)), "increasing"),
    ],
)
def test_errors_are_value_errors_with_the_crates_message(make, message):
    with pytest.raises(ValueError, match=None) as e:
        make()
    assert message in str(e.value)


def test_pickle_and_copy_round_trip():
    g = GeneralizedPareto(0.2, 0.8)
    s = SplicedBinnedPareto.fit(np.random.default_rng(8).standard_t(3, 2000)).dist
    for d in (g, s):
        back = pickle.loads(pickle.dumps(d))
        assert back == d and copy.deepcopy(d) == d
        xs = np.linspace(-5, 5, 11)
        np.testing.assert_array_equal(back.cdf(xs), d.cdf(xs))
