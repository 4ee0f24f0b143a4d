"""Freezes reference values of Stan's constraint transforms into test/fixtures/stan-transforms.json.

Run: .venv-golden/bin/python scripts/golden/stan_transforms.py   (needs numpy)

Each transform is written here as the Stan Reference Manual's chapter "Constraint transforms"
(and Stan Math's *_constrain functions) states it, loop by loop in Stan's order of the
unconstrained coordinates, with Stan's log-Jacobian term. Every closed-form log-Jacobian is
also checked here against a central-difference Jacobian on the free coordinates of the output
(log sqrt(det(J^T J)) for sum_to_zero, whose output lives on a hyperplane), before it is written.
"""
import json
import math
import pathlib

import numpy as np

OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "fixtures" / "stan-transforms.json"
rng = np.random.default_rng(20261207)


def lower(x, lb):
    return lb + math.exp(x), x


def upper(x, ub):
    return ub - math.exp(x), x


def lub(x, lb, ub):
    s = 1 / (1 + math.exp(-x))
    return lb + (ub - lb) * s, math.log(ub - lb) + math.log(s) + math.log1p(-s)


def offset_multiplier(x, mu, sigma):
    return mu + sigma * x, math.log(sigma)


def ordered(x):
    y = np.empty_like(x)
    y[0] = x[0]
    for k in range(1, len(x)):
        y[k] = y[k - 1] + math.exp(x[k])
    return y, float(np.sum(x[1:]))


def positive_ordered(x):
    y = np.empty_like(x)
    y[0] = math.exp(x[0])
    for k in range(1, len(x)):
        y[k] = y[k - 1] + math.exp(x[k])
    return y, float(np.sum(x))


def simplex(x):
    # stick-breaking, Stan <= 2.36
    km1 = len(x)
    y = np.empty(km1 + 1)
    stick = 1.0
    lj = 0.0
    for k in range(km1):
        z = 1 / (1 + math.exp(-(x[k] - math.log(km1 - k))))
        y[k] = stick * z
        lj += math.log(stick) + math.log(z) + math.log1p(-z)
        stick -= y[k]
    y[km1] = stick
    return y, lj


def unit_vector(x):
    r2 = float(np.dot(x, x))
    return x / math.sqrt(r2), -0.5 * r2


def sum_to_zero(x):
    # Stan 2.36: isometric (Helmert) map, no Jacobian term
    n = len(x)
    z = np.zeros(n + 1)
    sum_w = 0.0
    for i in range(n, 0, -1):
        w = x[i - 1] / math.sqrt(i * (i + 1))
        sum_w += w
        z[i - 1] += sum_w
        z[i] -= w * i
    return z, 0.0


def cholesky_factor_cov(x, m, n):
    y = np.zeros((m, n))
    lj = 0.0
    pos = 0
    for i in range(n):
        for j in range(i):
            y[i, j] = x[pos]
            pos += 1
        y[i, i] = math.exp(x[pos])
        lj += x[pos]
        pos += 1
    for i in range(n, m):
        for j in range(n):
            y[i, j] = x[pos]
            pos += 1
    return y, lj


def cov_matrix(x, k):
    l_, _ = cholesky_factor_cov(x, k, k)
    lj = k * math.log(2)
    for i in range(k):
        lj += (k - i + 1) * math.log(l_[i, i])
    return l_ @ l_.T, lj


def cholesky_factor_corr(x, k):
    z = np.tanh(x)
    lj = float(np.sum(np.log1p(-z * z)))
    y = np.zeros((k, k))
    y[0, 0] = 1
    c = 0
    for i in range(1, k):
        y[i, 0] = z[c]
        c += 1
        ss = y[i, 0] ** 2
        for j in range(1, i):
            lj += 0.5 * math.log1p(-ss)
            y[i, j] = z[c] * math.sqrt(1 - ss)
            c += 1
            ss += y[i, j] ** 2
        y[i, i] = math.sqrt(1 - ss)
    return y, lj


def corr_matrix(x, k):
    # canonical partial correlations in column-major order (Stan's read_corr_L)
    z = np.tanh(x)
    lj = float(np.sum(np.log1p(-z * z)))
    cpc = np.zeros((k, k))
    c = 0
    for j in range(k):
        for i in range(j + 1, k):
            cpc[i, j] = z[c]
            lj += 0.5 * (k - j - 2) * math.log1p(-z[c] ** 2)
            c += 1
    l_ = np.zeros((k, k))
    l_[0, 0] = 1
    for i in range(1, k):
        rest = 1.0
        for j in range(i):
            l_[i, j] = cpc[i, j] * math.sqrt(rest)
            rest -= l_[i, j] ** 2
        l_[i, i] = math.sqrt(rest)
    return l_ @ l_.T, lj


def row_stochastic(x):
    rows = [simplex(r) for r in x]
    return np.stack([r[0] for r in rows]), float(sum(r[1] for r in rows))


def column_stochastic(x):
    y, lj = row_stochastic(x.T)
    return y.T, lj


def sum_to_zero_matrix(x):
    # the vector map along each row, then along each column (Stan 2.37)
    rows = np.stack([sum_to_zero(r)[0] for r in x])
    return np.stack([sum_to_zero(c)[0] for c in rows.T]).T, 0.0


def free(y, kind):
    """The free coordinates of an output: what the Jacobian is taken on."""
    y = np.asarray(y, dtype=float)
    if kind == "all":
        return y.ravel()
    if kind == "lower":
        return np.array([y[i, j] for i in range(y.shape[0]) for j in range(min(i + 1, y.shape[1]))])
    if kind == "strict":
        return np.array([y[i, j] for i in range(y.shape[0]) for j in range(i)])
    if kind == "head":  # simplex: the first K - 1
        return y[:-1]
    if kind == "rowhead":
        return y[:, :-1].ravel()
    if kind == "colhead":
        return y[:-1, :].ravel()
    raise ValueError(kind)


def fd_logdet(f, x, kind, volume=False, h=1e-6):
    cols = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h
        e = e.reshape(x.shape)
        cols.append((free(f(x + e)[0], kind) - free(f(x - e)[0], kind)) / (2 * h))
    j = np.stack(cols, axis=1)
    if volume:
        return 0.5 * float(np.linalg.slogdet(j.T @ j)[1])
    return float(np.linalg.slogdet(j)[1])


cases = []


def add(name, args, fn, x, kind, volume=False, jacobian=True):
    x = np.asarray(x, dtype=float)
    y, lj = fn(x, *args) if args else fn(x)
    if jacobian:
        ref = fd_logdet(lambda v: fn(v, *args) if args else fn(v), x, kind, volume)
        assert abs(ref - lj) < 1e-6 * max(1, abs(lj)), (name, ref, lj)
    cases.append({"name": name, "args": list(args), "x": x.tolist(), "y": np.asarray(y).tolist(), "logJ": lj})


for x in [-1.3, 0.0, 2.2]:
    for name, fn, args in [("lower", lower, (1.5,)), ("upper", upper, (-0.5,)), ("lub", lub, (-2.0, 3.0)), ("offsetMultiplier", offset_multiplier, (1.0, 2.5))]:
        y, lj = fn(x, *args)
        cases.append({"name": name, "args": list(args), "x": [x], "y": [y], "logJ": lj})

for k in [1, 2, 4]:
    add("ordered", (), ordered, rng.normal(size=k), "all")
    add("positiveOrdered", (), positive_ordered, rng.normal(size=k), "all")
    add("simplex", (), simplex, rng.normal(size=k), "head")
    add("sumToZero", (), sum_to_zero, rng.normal(size=k), "all", volume=True)
for k in [2, 3, 5]:
    add("unitVector", (), unit_vector, rng.normal(size=k), "all", jacobian=False)
for k in [2, 3, 4]:
    add("choleskyFactorCorr", (k,), cholesky_factor_corr, rng.normal(size=k * (k - 1) // 2), "strict")
    add("corrMatrix", (k,), corr_matrix, rng.normal(size=k * (k - 1) // 2), "strict")
    add("covMatrix", (k,), cov_matrix, rng.normal(size=k * (k + 1) // 2) * 0.7, "lower")
for m, n in [(2, 2), (3, 3), (4, 2), (3, 1)]:
    add("choleskyFactorCov", (m, n), cholesky_factor_cov, rng.normal(size=n * (n + 1) // 2 + (m - n) * n), "lower")

for n, m in [(2, 3), (3, 2)]:
    add("rowStochastic", (), row_stochastic, rng.normal(size=(n, m - 1)), "rowhead")
    add("columnStochastic", (), column_stochastic, rng.normal(size=(n - 1, m)), "colhead")
    add("sumToZeroMatrix", (), sum_to_zero_matrix, rng.normal(size=(n - 1, m - 1)), "all", volume=True)

OUT.write_text(json.dumps({"cases": cases}, indent=1) + "\n")
print(f"wrote {len(cases)} cases to {OUT}")
