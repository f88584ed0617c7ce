import numpy as np
import pytest

from tailcast import GeneralizedPareto, RollingForecaster, SplicedBinnedPareto, metrics

from conftest import assert_close, heavy_series, num


def test_crps_matches_the_crates_golden_values(fixture):
    fx = fixture("sbp_crps.json")
    for s in fx["sets"]:
        d = SplicedBinnedPareto.from_logits(
            num(s["lo"]), num(s["hi"]), s["logits"], num(s["tail_mass"]),
            (num(s["xi_l"]), num(s["beta_l"])), (num(s["xi_u"]), num(s["beta_u"])),
        )
        for c in s.get("cases", s.get("points", [])):
            y, want = num(c["y"]), num(c["crps"])
            assert_close(metrics.crps(d, y), want, 1e-9, 1e-12, f"{s['name']} crps({y})")


def test_crps_vectorised_and_for_forecasts():
    g = GeneralizedPareto(0.2, 1.0)
    ys = np.linspace(0, 10, 21)
    v = metrics.crps(g, ys)
    np.testing.assert_array_equal(v, [metrics.crps(g, float(y)) for y in ys])
    f = RollingForecaster(window=200)
    f.update_many(heavy_series(400, 1))
    fc = f.forecast()
    assert metrics.crps(fc, fc.location + 1.0) == metrics.crps(fc.residual, 1.0)
    with pytest.raises(TypeError):
        metrics.crps("not a law", 1.0)
    samples = g.rvs(20000, seed=3)
    assert abs(metrics.crps_ensemble(samples, 2.0) - metrics.crps(g, 2.0)) < 0.02


def test_pit_pp_scores_and_coverage():
    y = heavy_series(3000, 2)
    levels = metrics.paper_quantile_levels()
    f = RollingForecaster(window=500)
    bt = f.backtest(y, levels)
    start = bt["first_forecast"]
    pit = bt["pit"][start:]
    s = metrics.pp_score_from_pit(pit)
    assert set(s) == {"curve", "lower", "base", "upper", "full"} and s["full"] < 0.05
    np.testing.assert_array_equal(s["curve"], metrics.pp_curve_from_pit(pit, levels))
    q = bt["quantiles"][start:]
    sq = metrics.pp_score_from_quantiles(y[start:], q, levels, ties="half")
    assert abs(sq["full"] - s["full"]) < 0.01
    loss = metrics.mean_pinball_loss(y[start:], q, levels)
    assert loss.shape == levels.shape and (loss >= 0).all()
    cov = metrics.central_interval_coverage(y[start:], q, levels, 0.9)
    assert 0.85 < cov < 0.95
    lo, hi = q[:, 0], q[:, -1]
    assert metrics.interval_coverage(y[start:], lo, hi) > 0.99
    stat, p = metrics.ks_uniform(np.random.default_rng(0).uniform(size=500))
    assert 0 <= stat <= 1 and p > 1e-3
    np.testing.assert_array_equal(metrics.pit(f.forecast(), [1.0, 2.0]), f.forecast().cdf([1.0, 2.0]))
    with pytest.raises(ValueError, match="pit"):
        metrics.pp_score_from_pit([0.5, 1.5])
    with pytest.raises(ValueError, match="ties"):
        metrics.pp_score_from_quantiles(y[start:], q, levels, ties="odd")
