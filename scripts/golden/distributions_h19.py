"""Freezes SciPy (and mpmath) reference values for Poisson on the log scale, Binomial/Bernoulli on
the logit scale at extreme logits, HalfStudentT, the cdfs of StudentT/Cauchy/Exponential/Gamma,
and truncated distributions into test/fixtures/distributions-h19.json.

Run: .venv-golden/bin/python scripts/golden/distributions_h19.py   (needs numpy, scipy and mpmath)

Where float64 SciPy cannot represent a parameter (a rate of e^-800, a logit of 800) the value is
the closed form evaluated in mpmath at 50 digits.
"""
import json
import math
import pathlib

import mpmath as mp
import numpy as np
from scipy import integrate, stats

mp.mp.dps = 50
OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "fixtures" / "distributions-h19.json"


def fin(v):
    v = float(v)
    return v if math.isfinite(v) else (None if math.isnan(v) else ("inf" if v > 0 else "-inf"))


cases = []

# Poisson({ logRate: f }): k f - e^f - log k!
for f, ks in [(-800.0, [0, 1, 3]), (-3.0, [0, 1, 4]), (0.0, [0, 1, 5]), (2.5, [0, 7, 30]), (300.0, [0, 10**6])]:
    lp = [float(k * mp.mpf(f) - mp.exp(f) - mp.loggamma(k + 1)) for k in ks]
    if -50 < f < 50:
        ref = [float(stats.poisson.logpmf(k, math.exp(f))) for k in ks]
        assert np.allclose(lp, ref, rtol=1e-12), (f, lp, ref)
    cases.append({"name": "PoissonLog", "params": {"logRate": f}, "x": ks, "logProb": [fin(v) for v in lp]})
cases.append({"name": "PoissonLog", "params": {"logRate": 800.0}, "x": [0, 5], "logProb": ["-inf", "-inf"]})

# Binomial(n, { logits: l }) and Bernoulli({ logits: l }), including |l| = 800
for n, l, ks in [(10, 0.3, [0, 3, 10]), (20, -2.0, [0, 1, 20]), (5, 800.0, [0, 4, 5]), (5, -800.0, [0, 1, 5]), (1, 40.0, [0, 1])]:
    lp = []
    for k in ks:
        v = mp.log(mp.binomial(n, k)) + k * mp.mpf(l) - n * mp.log1p(mp.exp(l))
        lp.append(float(v))
    if abs(l) < 30:
        ref = [float(stats.binom.logpmf(k, n, 1 / (1 + math.exp(-l)))) for k in ks]
        assert np.allclose(lp, ref, rtol=1e-10), (n, l, lp, ref)
    cases.append({"name": "BinomialLogit", "params": {"totalCount": n, "logits": l}, "x": ks, "logProb": lp})
for l in [800.0, -800.0, 3.0]:
    lp = [float(k * mp.mpf(l) - mp.log1p(mp.exp(l))) for k in [0, 1]]
    cases.append({"name": "BernoulliLogit", "params": {"logits": l}, "x": [0, 1], "logProb": lp})

# HalfStudentT(df, scale): log 2 + t.logpdf; cdf 2 t.cdf - 1; mean and variance by quadrature
for df, scale in [(3.0, 2.5), (1.0, 1.0), (7.5, 0.4)]:
    xs = [0.0, 0.3 * scale, scale, 4 * scale]
    d = stats.t(df, scale=scale)
    pdf = lambda x: 2 * d.pdf(x)  # noqa: E731
    mean = integrate.quad(lambda x: x * pdf(x), 0, np.inf)[0] if df > 1 else None
    second = integrate.quad(lambda x: x * x * pdf(x), 0, np.inf)[0] if df > 2 else None
    cases.append({
        "name": "HalfStudentT",
        "params": {"df": df, "scale": scale},
        "x": xs,
        "logProb": [float(math.log(2) + d.logpdf(x)) for x in xs],
        "cdf": [float(2 * d.cdf(x) - 1) for x in xs],
        "mean": mean,
        "variance": None if second is None else second - mean * mean,
    })

# cdfs of the bases
for df, loc, scale in [(3.0, 0.0, 1.0), (0.7, 1.0, 2.0), (30.0, -1.0, 0.5), (2.0, 0.0, 1.0)]:
    xs = [loc - 50 * scale, loc - 2 * scale, loc - 0.1 * scale, loc, loc + 0.5 * scale, loc + 3 * scale, loc + 1e4 * scale]
    cases.append({"name": "StudentTCdf", "params": {"df": df, "loc": loc, "scale": scale}, "x": xs, "cdf": [float(stats.t.cdf(x, df, loc, scale)) for x in xs]})
for loc, scale in [(0.0, 1.0), (2.0, 0.5)]:
    xs = [loc - 1e3, loc - 3, loc - 0.2, loc, loc + 0.7, loc + 40]
    cases.append({"name": "CauchyCdf", "params": {"loc": loc, "scale": scale}, "x": xs, "cdf": [float(stats.cauchy.cdf(x, loc, scale)) for x in xs]})
for rate in [0.5, 3.0]:
    xs = [0.0, 0.1, 1.0, 5.0]
    cases.append({"name": "ExponentialCdf", "params": {"rate": rate}, "x": xs, "cdf": [float(stats.expon.cdf(x, scale=1 / rate)) for x in xs]})
for a, b in [(2.0, 1.0), (0.5, 3.0), (7.0, 0.5)]:
    xs = [0.01, 0.5, 2.0, 9.0]
    cases.append({"name": "GammaCdf", "params": {"concentration": a, "rate": b}, "x": xs, "cdf": [float(stats.gamma.cdf(x, a, scale=1 / b)) for x in xs]})


def truncated(name, base_params, dist, low, high, xs):
    lo = -np.inf if low is None else low
    hi = np.inf if high is None else high
    # the mass through the survival function where the interval is in the upper tail
    mass = dist.sf(lo) - dist.sf(hi) if lo > dist.median() else dist.cdf(hi) - dist.cdf(lo)
    lp = [float(dist.logpdf(x) - math.log(mass)) for x in xs]
    cdf = [float((dist.cdf(x) - dist.cdf(lo)) / mass) if lo <= dist.median() else float((dist.sf(lo) - dist.sf(x)) / mass) for x in xs]
    cases.append({"name": "Truncated" + name, "params": base_params, "low": low, "high": high, "x": xs, "logProb": lp, "cdf": cdf})


truncated("Normal", {"loc": 0.5, "scale": 2.0}, stats.norm(0.5, 2.0), 0.0, None, [0.0, 0.3, 2.0, 9.0])
truncated("Normal", {"loc": 0.0, "scale": 1.0}, stats.norm(0.0, 1.0), -1.0, 2.0, [-1.0, 0.0, 1.9])
truncated("Normal", {"loc": 0.0, "scale": 1.0}, stats.norm(0.0, 1.0), 5.0, 6.0, [5.0, 5.2, 5.9])
truncated("Normal", {"loc": 1.0, "scale": 0.5}, stats.norm(1.0, 0.5), None, 0.2, [-1.0, 0.0, 0.2])
truncated("StudentT", {"df": 3.0, "loc": 0.0, "scale": 2.5}, stats.t(3.0, 0.0, 2.5), 0.0, None, [0.0, 1.0, 10.0])
truncated("StudentT", {"df": 5.0, "loc": 1.0, "scale": 1.0}, stats.t(5.0, 1.0, 1.0), -2.0, 0.5, [-2.0, 0.0, 0.5])
truncated("StudentT", {"df": 4.0, "loc": 0.0, "scale": 1.0}, stats.t(4.0, 0.0, 1.0), 3.0, 8.0, [3.0, 4.0, 7.5])
truncated("Cauchy", {"loc": 0.0, "scale": 1.0}, stats.cauchy(0.0, 1.0), -1.0, 3.0, [-1.0, 0.0, 2.0])
truncated("Cauchy", {"loc": 2.0, "scale": 0.5}, stats.cauchy(2.0, 0.5), 2.5, None, [2.5, 3.0, 50.0])
truncated("Exponential", {"rate": 2.0}, stats.expon(scale=0.5), 0.5, 3.0, [0.5, 1.0, 2.9])
truncated("Exponential", {"rate": 0.7}, stats.expon(scale=1 / 0.7), None, 2.0, [0.0, 1.0, 2.0])
truncated("Gamma", {"concentration": 2.0, "rate": 1.5}, stats.gamma(2.0, scale=1 / 1.5), 0.5, 4.0, [0.5, 1.0, 3.5])
truncated("Gamma", {"concentration": 0.8, "rate": 1.0}, stats.gamma(0.8, scale=1.0), None, 1.0, [0.01, 0.5, 1.0])

# Weibull(scale, concentration) = scipy's weibull_min(c=concentration, scale=scale)
for scale, k in [(2.0, 1.5), (0.5, 0.7), (1.0, 5.0)]:
    d = stats.weibull_min(k, scale=scale)
    xs = [0.01, 0.3 * scale, scale, 3 * scale]
    cases.append({"name": "Weibull", "params": {"scale": scale, "concentration": k}, "x": xs,
                  "logProb": [float(d.logpdf(x)) for x in xs], "cdf": [float(d.cdf(x)) for x in xs],
                  "mean": float(d.mean()), "variance": float(d.var()), "entropy": float(d.entropy())})
truncated("Weibull", {"scale": 2.0, "concentration": 1.5}, stats.weibull_min(1.5, scale=2.0), 1.0, 3.0, [1.0, 2.0, 3.0])

# NegativeBinomial2(mean, concentration) = scipy's nbinom(n=phi, p=phi/(mu+phi)); the log-mean form in mpmath
for mu, phi in [(3.0, 2.0), (0.2, 10.0), (50.0, 0.5)]:
    d = stats.nbinom(phi, phi / (mu + phi))
    ks = [0, 1, 4, 60]
    cases.append({"name": "NegativeBinomial2", "params": {"mean": mu, "concentration": phi}, "x": ks,
                  "logProb": [float(d.logpmf(k)) for k in ks], "mean": mu, "variance": float(d.var())})
for eta, phi in [(-800.0, 2.0), (1.1, 3.0), (60.0, 0.8)]:
    ks = [0, 2, 30]
    e = mp.mpf(eta)
    lp = [float(mp.loggamma(k + phi) - mp.loggamma(phi) - mp.loggamma(k + 1) + phi * (mp.log(phi) - mp.log(mp.exp(e) + phi))
                + k * (e - mp.log(mp.exp(e) + phi))) for k in ks]
    cases.append({"name": "NegativeBinomial2Log", "params": {"logMean": eta, "concentration": phi}, "x": ks, "logProb": lp})

# the normal far into its tails (mpmath at 50 digits): cdf, log cdf, quantile, and truncation there
zs = [-1000.0, -40.0, -10.0, -5.0, -3.6, -3.4, -1.0, 0.0, 2.0, 8.0]
cases.append({"name": "NormalTail", "params": {"loc": 0.0, "scale": 1.0}, "x": zs,
              "cdf": [float(mp.ncdf(z)) for z in zs], "logCdf": [float(mp.log(mp.ncdf(z))) for z in zs]})
ps = [1e-300, 1e-30, 1e-10, 1e-5, 9e-5, 0.02, 0.5, 0.9, 1 - 1e-6]
cases.append({"name": "NormalQuantile", "params": {"loc": 0.0, "scale": 1.0}, "x": ps,
              "icdf": [float(mp.findroot(lambda x, p=p: mp.log(mp.ncdf(x)) - mp.log(p), -mp.sqrt(-2 * mp.log(p)) if p < 0.5 else 1)) for p in ps]})
for low, high, xs in [(10.0, None, [10.0, 10.5]), (40.0, 41.0, [40.0, 40.01]), (-50.0, -45.0, [-46.0, -45.0])]:
    lo = mp.mpf(low)
    hi = mp.inf if high is None else mp.mpf(high)
    # each mass from the tail it lies in, so 50 digits suffice
    mass = mp.ncdf(-lo) - mp.ncdf(-hi) if low > 0 else mp.ncdf(hi) - mp.ncdf(lo)
    lp = [float(-x * x / 2 - mp.log(mp.sqrt(2 * mp.pi)) - mp.log(mass)) for x in xs]
    cases.append({"name": "TruncatedNormal", "params": {"loc": 0.0, "scale": 1.0}, "low": low, "high": high, "x": xs, "logProb": lp})

OUT.write_text(json.dumps({"cases": cases}, indent=1) + "\n")
print(f"wrote {len(cases)} cases to {OUT}")
