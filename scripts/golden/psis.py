"""Freezes ArviZ reference values for the diagnostics tests into test/fixtures/psis.json.

Run: .venv-golden/bin/python scripts/golden/psis.py   (needs numpy, scipy and arviz; built with arviz 0.23)

* psis: log importance ratios log p(x) - log q(x), x ~ q, for a normal target with a wider
  proposal (small k-hat), narrower proposals (large k-hat), a Student-t target with a normal
  proposal (heavy tail), S = 20 (tail too short to fit), 100, 1000 and 4000 draws, and one case
  with a relative efficiency r_eff < 1. The inputs are rounded to 12 significant digits before
  ArviZ sees them, so the JSON text parses to exactly the numbers ArviZ used. Reference:
  `arviz.psislw` (normalized smoothed log weights and k-hat); ESS = 1 / sum(w^2) from those weights.
* loo: a normal linear model y = a + b x + e, e ~ N(0, 1), flat-ish N(0, 10^2) priors, with one
  outlier; S draws of (a, b) from the exact Gaussian posterior (rounded as above). The pointwise
  log-likelihood matrix is log N(y_i | a_s + b_s x_i, 1), which the test recomputes from the
  stored draws with the stored constant log(2 pi). Reference: `arviz.loo(pointwise=True)`.
* ks: scipy.stats.ks_2samp(p, 1 - p, method="exact") for the VSBC symmetry test.
"""
import json
import math
import pathlib
import warnings

import numpy as np
from scipy import stats

warnings.filterwarnings("ignore")
import arviz as az  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "fixtures" / "psis.json"
rng = np.random.default_rng(20240501)


def r12(a):
    """Round to 12 significant digits, the precision the fixture stores inputs at."""
    return np.array([float(f"{v:.12g}") for v in np.ravel(a)]).reshape(np.shape(a))


def fin(v):
    v = float(v)
    return v if math.isfinite(v) else None


def psis_case(name, log_ratios, reff=1.0):
    lr = r12(log_ratios)
    lw, k = az.psislw(lr.copy(), reff=reff)
    w = np.exp(lw)
    return {
        "name": name,
        "reff": reff,
        "logRatios": [float(f"{v:.12g}") for v in lr],
        "logWeights": [float(v) for v in lw],
        "khat": fin(k),
        "ess": float(reff / np.sum(w * w)),
    }


def normal_ratio(S, sd_q, sd_p=1.0):
    x = rng.normal(0.0, sd_q, S)
    return stats.norm.logpdf(x, 0, sd_p) - stats.norm.logpdf(x, 0, sd_q)


psis = [
    psis_case("normal target, wider proposal sd=2, S=1000", normal_ratio(1000, 2.0)),
    psis_case("normal target, narrower proposal sd=0.8, S=1000", normal_ratio(1000, 0.8)),
    psis_case("normal target, narrow proposal sd=0.5, S=1000", normal_ratio(1000, 0.5)),
    psis_case("normal target, narrow proposal sd=0.6, S=100", normal_ratio(100, 0.6)),
    psis_case("normal target, S=20 (tail of 4: k-hat undefined)", normal_ratio(20, 0.7)),
]
xt = rng.normal(0.0, 1.0, 4000)
psis.append(psis_case("t(3) target, normal proposal, S=4000", stats.t.logpdf(xt, 3) - stats.norm.logpdf(xt)))
xt = rng.normal(0.0, 1.2, 1000)
psis.append(psis_case("t(5) target, normal proposal sd=1.2, S=1000, reff=0.6",
                      stats.t.logpdf(xt, 5) - stats.norm.logpdf(xt, 0, 1.2), reff=0.6))

# LOO: normal linear model with known noise sd 1 and an outlier at the last observation.
N, S = 20, 4000
x = np.round(np.linspace(-2, 2, N), 12)
y = np.round(0.5 + 1.3 * x + rng.normal(0, 1, N), 6)
y[-1] = 9.0  # outlier: far from the line at x = 2
X = np.column_stack([np.ones(N), x])
prec = X.T @ X + np.eye(2) / 100.0
cov = np.linalg.inv(prec)
mean = cov @ X.T @ y
draws = r12(rng.multivariate_normal(mean, cov, S))
a, b = draws[:, 0], draws[:, 1]
LOG_2PI = math.log(2 * math.pi)
ll = -0.5 * LOG_2PI - 0.5 * (y[None, :] - (a[:, None] + b[:, None] * x[None, :])) ** 2
idata = az.from_dict(posterior={"a": a[None], "b": b[None]}, log_likelihood={"y": ll[None]})
res = az.loo(idata, pointwise=True)
loo = {
    "x": [float(v) for v in x],
    "y": [float(v) for v in y],
    "a": [float(v) for v in a],
    "b": [float(v) for v in b],
    "log2pi": LOG_2PI,
    "elpd_loo": float(res["elpd_loo"]),
    "se": float(res["se"]),
    "p_loo": float(res["p_loo"]),
    "good_k": float(res["good_k"]),
    "loo_i": [float(v) for v in np.asarray(res["loo_i"])],
    "pareto_k": [float(v) for v in np.asarray(res["pareto_k"])],
}

# KS two-sample symmetry test between p and 1 - p.
ks = []
for n, dist in [(10, stats.uniform()), (50, stats.beta(2, 2)), (200, stats.beta(2, 1.3)), (500, stats.uniform())]:
    p = np.round(dist.rvs(size=n, random_state=rng), 10)
    r = stats.ks_2samp(p, 1 - p, method="exact")
    ks.append({"p": [float(v) for v in p], "statistic": float(r.statistic), "pvalue": float(r.pvalue)})

OUT.write_text(json.dumps({"psis": psis, "loo": loo, "ks": ks}))
print(f"wrote {len(psis)} psis cases, loo (S={S}, N={N}), {len(ks)} ks cases to {OUT}")
for c in psis:
    print(f"  {c['name']}: khat={c['khat']} ess={c['ess']:.1f}")
print(f"  loo: elpd={loo['elpd_loo']:.4f} se={loo['se']:.4f} p_loo={loo['p_loo']:.4f} "
      f"max k={max(loo['pareto_k']):.3f} (last {loo['pareto_k'][-1]:.3f})")
for c in ks:
    print(f"  ks n={len(c['p'])}: D={c['statistic']:.4f} p={c['pvalue']:.4g}")
