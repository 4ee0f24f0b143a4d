"""Freezes SciPy reference values for the SBC and PPC tests into test/fixtures/sbc.json.

Run: bench/peers/.venv/bin/python scripts/golden/sbc.py   (needs numpy and scipy; bash bench/peers/setup-arviz.sh installs them)

* chi2_sf: scipy.stats.chi2.sf(x, df) on a grid of (df, x), the p-value of the binned-rank chi-square test.
* chisquare: scipy.stats.chisquare(counts, expected) for ranks 0..L binned into B bins, with the
  ranks drawn here (fixed seed) and the expected counts N * (ranks in bin)/(L + 1).
* binom_tails: min(1, 2 min(P(C <= c), P(C >= c))) for C ~ Binomial(N, p), the pointwise
  two-sided tail probability of the ECDF test (scipy.stats.binom.cdf and .sf).
* quantiles: numpy.quantile(x, q) with the default (linear, type 7) method, for the PPC statistics.
"""
import json
import pathlib

import numpy as np
from scipy import stats

OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "fixtures" / "sbc.json"
rng = np.random.default_rng(20261207)

chi2_sf = []
for df in [1, 2, 4.5, 9, 19, 49]:
    for x in [0.01, 0.5, 1.0, 3.7, 9.0, 20.0, 60.0, 150.0]:
        chi2_sf.append({"df": df, "x": x, "sf": float(stats.chi2.sf(x, df))})

chisquare = []
for N, L, B in [(200, 99, 20), (50, 9, 5), (1000, 255, 16), (120, 29, 7)]:
    ranks = rng.integers(0, L + 1, size=N)
    if B == 7:  # a lopsided case, so the p-value is small
        ranks = np.minimum(ranks, rng.integers(0, L + 1, size=N))
    bins = (ranks * B) // (L + 1)
    counts = np.bincount(bins, minlength=B)
    expected = np.bincount((np.arange(L + 1) * B) // (L + 1), minlength=B) * N / (L + 1)
    r = stats.chisquare(counts, expected)
    chisquare.append({"L": L, "bins": B, "ranks": ranks.tolist(), "statistic": float(r.statistic), "p": float(r.pvalue)})

binom_tails = []
for N, p in [(100, 0.5), (250, 0.1), (40, 0.93)]:
    for c in sorted({0, 1, int(N * p) - 7, int(N * p), int(N * p) + 3, N - 1, N}):
        t = min(1.0, 2 * min(stats.binom.cdf(c, N, p), stats.binom.sf(c - 1, N, p)))
        binom_tails.append({"N": N, "p": p, "c": c, "tail": float(t)})

x = rng.normal(size=37).round(6)
qs = [0.0, 0.05, 0.25, 0.5, 0.9, 1.0]
quantiles = {"x": x.tolist(), "q": qs, "values": [float(np.quantile(x, q)) for q in qs]}

OUT.write_text(json.dumps({"chi2_sf": chi2_sf, "chisquare": chisquare, "binom_tails": binom_tails, "quantiles": quantiles}, indent=None))
print("wrote", OUT)
