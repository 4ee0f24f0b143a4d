"""Freezes SciPy's log cdf and log survival function for the Stan front end's `_lcdf`/`_lccdf`
functions and truncation (ts/stan/cdfs.ts) into test/fixtures/stan/cdfs.json.

Run: .venv-golden/bin/python scripts/golden/stan_cdfs.py   (needs numpy and scipy)

Each case is a Stan distribution name, its arguments in Stan's order (y first, Stan's
parametrization) and SciPy's logcdf / logsf of y under the same distribution.
"""
import json
import pathlib

import numpy as np
from scipy import stats

OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "fixtures" / "stan" / "cdfs.json"

# (stan name, stan args (y, theta...), scipy frozen distribution)
CASES = [
    ("normal", [0.3, -0.2, 1.7], stats.norm(-0.2, 1.7)),
    ("normal", [-9.0, 0.0, 1.0], stats.norm(0, 1)),
    ("std_normal", [1.2], stats.norm(0, 1)),
    ("lognormal", [2.5, 0.4, 0.8], stats.lognorm(s=0.8, scale=np.exp(0.4))),
    ("student_t", [0.0, 3.0, 0.0, 36.0], stats.t(3, 0, 36)),
    ("student_t", [1.9, 4.5, 0.5, 1.3], stats.t(4.5, 0.5, 1.3)),
    ("student_t", [-2.2, 2.5, 0.5, 1.3], stats.t(2.5, 0.5, 1.3)),
    ("cauchy", [1.1, -0.3, 2.0], stats.cauchy(-0.3, 2.0)),
    ("logistic", [-0.7, 0.2, 0.6], stats.logistic(0.2, 0.6)),
    ("double_exponential", [-0.7, 0.2, 0.6], stats.laplace(0.2, 0.6)),
    ("double_exponential", [1.4, 0.2, 0.6], stats.laplace(0.2, 0.6)),
    ("exponential", [0.8, 1.7], stats.expon(scale=1 / 1.7)),
    ("weibull", [1.3, 2.2, 1.5], stats.weibull_min(2.2, scale=1.5)),
    ("gamma", [2.1, 3.0, 1.4], stats.gamma(3.0, scale=1 / 1.4)),
    ("uniform", [0.35, -1.0, 2.0], stats.uniform(-1.0, 3.0)),
]

out = []
for name, args, d in CASES:
    y = args[0]
    out.append({"dist": name, "args": args, "lcdf": float(d.logcdf(y)), "lccdf": float(d.logsf(y)), "lpdf": float(d.logpdf(y))})
# Truncation: y ~ normal(mu, 1.5) T[-1, 2.5] summed over four values, at two values of mu.
ys = np.array([0.2, 1.9, -0.6, 2.2])
trunc = {"y": ys.tolist(), "sigma": 1.5, "lo": -1.0, "hi": 2.5, "mu": [0.3, 1.1],
         "logpdf": [float(stats.truncnorm.logpdf(ys, (-1 - mu) / 1.5, (2.5 - mu) / 1.5, loc=mu, scale=1.5).sum()) for mu in (0.3, 1.1)]}
OUT.write_text(json.dumps({"scipy": __import__("scipy").__version__, "cases": out, "truncnorm": trunc}, indent=1) + "\n")
print(f"wrote {len(out)} cases to {OUT}")
