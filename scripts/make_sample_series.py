#!/usr/bin/env python3
"""Write data/sample_series.csv, the bundled sample series for the tailcast quickstart.

A synthetic hourly "requests per hour" series of 3000 points (125 days):
  * level: about 1000 requests/hour with a gentle upward trend (+15 % over the series),
  * a daily profile (period 24: night trough, late-morning and evening peaks) and a
    slightly quieter weekend (period 168),
  * multiplicative, asymmetric, heavy-tailed noise: 1 + 0.04*min(0, T1) + 0.07*max(0, T2)
    with T1, T2 iid Student-t(4) (the shape of the paper's noise, heavier tails),
  * 20 injected anomalies: 13 isolated spikes of varied size (x1.35 to x4.5), 4 dips
    (x0.15 to x0.55) and one burst of 3 consecutive spikes, none in the first 300 hours
    (left free for a forecaster's context window).
Columns: t (hour index 0..2999), value (4 decimals), injected (1 = injected anomaly, else 0).
Also writes data/README.md. Deterministic (numpy.random.default_rng(2021)).

Run (from the repository root):
    python3 scripts/make_sample_series.py
"""

from __future__ import annotations

import os

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(REPO, "data")
N = 3000
SEED = 2021


def daily_profile(hour: np.ndarray) -> np.ndarray:
    """Multiplicative hour-of-day factor, mean about 1."""
    h = hour.astype(float)
    prof = (1.0
            + 0.38 * np.sin(2 * np.pi * (h - 8.0) / 24.0)
            + 0.12 * np.sin(4 * np.pi * (h - 5.0) / 24.0))
    return prof


def make_series():
    rng = np.random.default_rng(SEED)
    t = np.arange(N)
    hour = t % 24
    day_of_week = (t // 24) % 7
    trend = 1000.0 * (1.0 + 0.15 * t / N)
    weekend = np.where(day_of_week >= 5, 0.85, 1.0)
    mean = trend * daily_profile(hour) * weekend
    t1 = rng.standard_t(4, N)
    t2 = rng.standard_t(4, N)
    noise = 1.0 + 0.04 * np.minimum(0.0, t1) + 0.07 * np.maximum(0.0, t2)
    noise = np.maximum(noise, 0.3)  # a t(4) draw below -17.5 would make the value negative
    value = mean * noise

    # anomaly positions: 18 slots spread over [300, N), at least 60 h apart
    slots = np.sort(rng.choice(np.arange(300, N - 5, 60), size=18, replace=False))
    slots = slots + rng.integers(0, 40, size=slots.size)
    spike_factors = [1.35, 1.5, 1.7, 1.9, 2.1, 2.4, 2.7, 3.0, 3.3, 3.6, 4.0, 4.5, 1.45]
    dip_factors = [0.15, 0.3, 0.45, 0.55]
    kinds = ["spike"] * len(spike_factors) + ["dip"] * len(dip_factors) + ["burst"]
    order = rng.permutation(len(kinds))
    injected = np.zeros(N, dtype=int)
    si = di = 0
    for pos, k in zip(slots, [kinds[i] for i in order]):
        if k == "spike":
            value[pos] = mean[pos] * spike_factors[si]
            si += 1
            injected[pos] = 1
        elif k == "dip":
            value[pos] = mean[pos] * dip_factors[di]
            di += 1
            injected[pos] = 1
        else:
            for j, f in enumerate((2.2, 2.9, 2.4)):
                value[pos + j] = mean[pos + j] * f
                injected[pos + j] = 1
    assert injected.sum() == 20, injected.sum()
    assert np.all(value > 0)
    return t, value, injected


README = """# Sample data

`sample_series.csv`: a synthetic hourly "requests per hour" series bundled for the tailcast
quickstart and examples. 3000 rows (125 days) plus a header line.

| column | type | meaning |
|---|---|---|
| `t` | integer | hour index, 0 … 2999 |
| `value` | float, 4 decimals | requests in that hour |
| `injected` | 0/1 | 1 for the 20 injected anomaly points, else 0 |

How it is made (all synthetic, fixed seed): a level of about 1000 requests/hour with a gentle
upward trend (+15 % over the series), a daily profile (period 24: night trough, late-morning
and evening peaks), a slightly quieter weekend (period 168), and multiplicative asymmetric
heavy-tailed noise `1 + 0.04*min(0, T1) + 0.07*max(0, T2)` with `T1, T2` iid Student-t(4).
Injected anomalies (none in the first 300 hours): 13 isolated spikes (×1.35 to ×4.5 the
expected level), 4 dips (×0.15 to ×0.55) and one burst of 3 consecutive spikes
(×2.2, ×2.9, ×2.4). Some spikes are small on purpose: the noise alone produces occasional
+30–50 % hours, so not every injected point is detectable and not every large hour is injected.

Regenerate from the repository root:

    python3 scripts/make_sample_series.py
"""


def main():
    t, value, injected = make_series()
    os.makedirs(DATA, exist_ok=True)
    path = os.path.join(DATA, "sample_series.csv")
    with open(path, "w", newline="\n") as f:
        f.write("t,value,injected\n")
        for ti, v, inj in zip(t, value, injected):
            f.write(f"{ti},{v:.4f},{inj}\n")
    with open(os.path.join(DATA, "README.md"), "w") as f:
        f.write(README)
    print(f"wrote {os.path.relpath(path, REPO)}: {len(t)} rows, {int(injected.sum())} injected, "
          f"value range {value.min():.1f} .. {value.max():.1f}, median {np.median(value):.1f}")
    print("injected at t =", ", ".join(str(i) for i in np.nonzero(injected)[0]))


if __name__ == "__main__":
    main()
