"""Freezes SciPy reference values for the distributions tests into test/fixtures/distributions.json.

Run: .venv-golden/bin/python scripts/golden/distributions.py   (needs numpy, scipy and mpmath)
Also writes test/fixtures/distributions2.json (VonMises, Wishart, the scaled Bessel kernels).
Every case: the distribution's varinf name and parameters, test values, and SciPy's log density,
mean, variance and entropy (None where SciPy has no finite value).
"""
import json
import math
import pathlib

import numpy as np
from scipy import special, stats

OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "fixtures" / "distributions.json"


def fin(v):
    v = float(v)
    return v if math.isfinite(v) else None


def case(name, params, dist, xs, entropy=True, cdf=False):
    c = {
        "name": name,
        "params": params,
        "x": [float(x) for x in xs],
        "logProb": [fin(dist.logpdf(x)) if hasattr(dist, "logpdf") else fin(dist.logpmf(x)) for x in xs],
        "mean": fin(dist.mean()),
        "variance": fin(dist.var()),
        "entropy": fin(dist.entropy()) if entropy else None,
    }
    if cdf:
        c["cdf"] = [fin(dist.cdf(x)) for x in xs]
    return c


cases = []
for loc, scale in [(0.0, 1.0), (1.5, 0.3), (-2.0, 4.0)]:
    xs = [loc - 2 * scale, loc - 0.1, loc, loc + 0.7 * scale, loc + 3 * scale]
    cases.append(case("Normal", [loc, scale], stats.norm(loc, scale), xs, cdf=True))
    cases.append(case("Laplace", [loc, scale], stats.laplace(loc, scale), xs))
    cases.append(case("Logistic", [loc, scale], stats.logistic(loc, scale), xs))
    cases.append(case("Gumbel", [loc, scale], stats.gumbel_r(loc, scale), xs))
    cases.append(case("Cauchy", [loc, scale], stats.cauchy(loc, scale), xs))
    cases.append(case("LogNormal", [loc, scale], stats.lognorm(scale, scale=math.exp(loc)), [0.2, 1.0, 3.3, 10.0]))
for scale in [0.5, 2.0]:
    xs = [0.01, 0.5, 1.7, 6.0]
    cases.append(case("HalfNormal", [scale], stats.halfnorm(scale=scale), xs))
    cases.append(case("HalfCauchy", [scale], stats.halfcauchy(scale=scale), xs))
for rate in [0.5, 3.0]:
    cases.append(case("Exponential", [rate], stats.expon(scale=1 / rate), [0.0, 0.2, 1.0, 4.0]))
for lo, hi in [(0.0, 1.0), (-2.0, 5.0)]:
    cases.append(case("Uniform", [lo, hi], stats.uniform(lo, hi - lo), [lo + 0.1, (lo + hi) / 2, hi - 0.01]))
for a, b in [(0.3, 1.0), (2.5, 0.7), (40.0, 3.0)]:
    cases.append(case("Gamma", [a, b], stats.gamma(a, scale=1 / b), [0.05, 0.9, 3.0, 14.0], cdf=True))
    cases.append(case("InverseGamma", [a, b], stats.invgamma(a, scale=b), [0.05, 0.9, 3.0, 14.0]))
for df in [1.0, 3.0, 9.5]:
    cases.append(case("Chi2", [df], stats.chi2(df), [0.1, 1.0, 5.0]))
for a, b in [(0.5, 0.5), (2.0, 5.0), (30.0, 4.0)]:
    cases.append(case("Beta", [a, b], stats.beta(a, b), [0.01, 0.3, 0.5, 0.93]))
for df, loc, scale in [(1.5, 0.0, 1.0), (4.0, -1.0, 2.0), (30.0, 3.0, 0.5)]:
    cases.append(case("StudentT", [df, loc, scale], stats.t(df, loc, scale), [loc - 3, loc, loc + 0.8, loc + 10]))
for p in [0.2, 0.9]:
    cases.append(case("Bernoulli", [p], stats.bernoulli(p), [0, 1]))
    cases.append(case("Geometric", [p], stats.geom(p, loc=-1), [0, 1, 4]))
    cases.append(case("Binomial", [7, p], stats.binom(7, p), [0, 3, 7]))
    cases.append(case("NegativeBinomial", [3.5, p], stats.nbinom(3.5, 1 - p), [0, 2, 11]))
for rate in [0.4, 7.0, 120.0]:
    cases.append(case("Poisson", [rate], stats.poisson(rate), [0, 3, 7, 130]))

probs = [0.1, 0.6, 0.3]
cat = {
    "name": "Categorical",
    "params": [probs],
    "x": [0, 1, 2],
    "logProb": [math.log(p) for p in probs],
    "mean": None,
    "variance": None,
    "entropy": float(stats.entropy(probs)),
}
cases.append(cat)

alpha = [0.7, 2.0, 5.5]
d = stats.dirichlet(alpha)
dir_x = [[0.2, 0.3, 0.5], [0.05, 0.05, 0.9]]
cases.append({
    "name": "Dirichlet",
    "params": [alpha],
    "x": dir_x,
    "logProb": [float(d.logpdf(x)) for x in dir_x],
    "mean": [float(v) for v in d.mean()],
    "variance": [float(v) for v in d.var()],
    "entropy": float(d.entropy()),
})

mu = [0.5, -1.0, 2.0]
cov = [[2.0, 0.3, -0.4], [0.3, 1.0, 0.2], [-0.4, 0.2, 0.8]]
m = stats.multivariate_normal(mu, cov)
mvn_x = [[0.0, 0.0, 0.0], [1.0, -2.0, 2.5]]
cases.append({
    "name": "MultivariateNormal",
    "params": [mu, cov],
    "x": mvn_x,
    "logProb": [float(m.logpdf(x)) for x in mvn_x],
    "mean": mu,
    "variance": [cov[i][i] for i in range(3)],
    "entropy": float(m.entropy()),
})

multi = stats.multinomial(6, probs)
multi_x = [[1, 3, 2], [0, 6, 0]]
cases.append({
    "name": "Multinomial",
    "params": [6, probs],
    "x": multi_x,
    "logProb": [float(multi.logpmf(x)) for x in multi_x],
    "mean": [6 * p for p in probs],
    "variance": [6 * p * (1 - p) for p in probs],
    "entropy": None,
})

# Implicit reparameterization: dP(a, x)/da by central differences of scipy's gammainc.
igamma = []
for a, x in [(0.05, 0.001), (0.3, 0.2), (0.3, 4.0), (1.0, 2.0), (2.5, 1.3), (10.0, 12.0), (100.0, 90.0), (500.0, 530.0)]:
    h = 1e-5 * a
    dpda = (special.gammainc(a + h, x) - special.gammainc(a - h, x)) / (2 * h)
    igamma.append({"a": a, "x": x, "P": float(special.gammainc(a, x)), "dPda": float(dpda)})

OUT.write_text(json.dumps({"cases": cases, "igamma": igamma}, indent=1))
print(f"wrote {len(cases)} distribution cases and {len(igamma)} igamma cases to {OUT}")


# ---------------------------------------------------------------------------------------------
# Second fixture (test/fixtures/distributions2.json): VonMises, Wishart, and the scaled Bessel
# kernels. Needs mpmath as well. The first fixture above is rewritten unchanged (deterministic).
import mpmath as mp  # noqa: E402

OUT2 = OUT.with_name("distributions2.json")
mp.mp.dps = 30

bessel_x = [0.0, 1e-6, 0.1, 0.5, 1.0, 2.5, 3.75, 7.5, 12.0, 20.0, 24.5, 25.0, 25.5, 30.0, 60.0, 150.0, 700.0, 1e4, -0.7, -3.0, -26.0]
bessel = {
    "x": bessel_x,
    "i0e": [float(special.i0e(x)) for x in bessel_x],
    "i1e": [float(special.i1e(x)) for x in bessel_x],
}


def vm_cdf(x, k):
    """F(x; k) of the centered von Mises on [-pi, pi] by quadrature (mpmath)."""
    x, k = mp.mpf(x), mp.mpf(k)
    norm = 2 * mp.pi * mp.besseli(0, k)
    return mp.quad(lambda t: mp.e ** (k * mp.cos(t)), [-mp.pi, 0, x] if x > 0 else [-mp.pi, x]) / norm


vonmises = []
for loc, k in [(0.0, 0.5), (1.0, 2.0), (-2.0, 10.0), (0.3, 60.0)]:
    d = stats.vonmises(k, loc=loc)
    xs = [loc - 1.0, loc, loc + 0.4, 2.5]
    xs = [float((x + math.pi) % (2 * math.pi) - math.pi) for x in xs]
    centered = [-2.5, -0.8, -0.05, 0.3, 1.7]
    vonmises.append({
        "loc": loc,
        "concentration": k,
        "x": xs,
        "logProb": [float(d.logpdf(x)) for x in xs],
        "mean": loc,
        "circularVariance": float(1 - special.i1e(k) / special.i0e(k)),
        "entropy": float(d.entropy()),
        # CDF of the centered distribution and its derivative in k (mpmath quadrature and mp.diff).
        "centered": centered,
        "cdf": [float(vm_cdf(x, k)) for x in centered],
        "dcdf": [float(mp.diff(lambda kk: vm_cdf(x, kk), k)) for x in centered],
    })

wishart = []
for df, scale, xs in [
    (3.5, [[1.0, 0.0], [0.0, 1.0]], [[[1.0, 0.2], [0.2, 0.5]], [[4.0, -1.0], [-1.0, 3.0]]]),
    (6.0, [[2.0, 0.3, -0.4], [0.3, 1.0, 0.2], [-0.4, 0.2, 0.8]], [[[9.0, 1.0, -2.0], [1.0, 5.0, 0.5], [-2.0, 0.5, 4.0]], [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]]),
    (2.2, [[0.5, 0.1], [0.1, 0.3]], [[[0.3, 0.05], [0.05, 0.9]]]),
]:
    w = stats.wishart(df=df, scale=scale)
    wishart.append({
        "df": df,
        "scale": scale,
        "x": xs,
        "logProb": [float(w.logpdf(np.array(x))) for x in xs],
        "mean": w.mean().tolist(),
        "variance": w.var().tolist(),
        "entropy": float(w.entropy()),
    })

OUT2.write_text(json.dumps({"bessel": bessel, "vonmises": vonmises, "wishart": wishart}, indent=1))
print(f"wrote {len(bessel_x)} Bessel points, {len(vonmises)} von Mises and {len(wishart)} Wishart cases to {OUT2}")
