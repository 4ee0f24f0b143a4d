"""Golden values for the js reference kernels: writes test/fixtures/kernels.json.

Special functions come from mpmath at 40 digits (scipy's own double versions are off by up to
1e-12 near some negative poles and roots); reductions, linear algebra and indexing from numpy and
scipy. Rerun from the repository root:

    python3 -m venv .venv-golden && .venv-golden/bin/pip install numpy scipy mpmath
    .venv-golden/bin/python scripts/golden/kernels.py

Non-finite numbers are written as the strings "inf", "-inf" and "nan".
"""
import json
import pathlib

import mpmath as mp
import numpy as np
import scipy.linalg as sla

mp.mp.dps = 40
rng = np.random.default_rng(20240601)
OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "fixtures" / "kernels.json"


def enc(values):
    """Floats as JSON numbers, non-finite ones as strings."""
    out = []
    for v in np.asarray(values, dtype=np.float64).ravel():
        out.append(float(v) if np.isfinite(v) else ("nan" if np.isnan(v) else ("inf" if v > 0 else "-inf")))
    return out


def mpf_or_nan(fn, x):
    try:
        v = fn(mp.mpf(float(x)))
        return float(v) if mp.im(v) == 0 else float("nan")
    except (ValueError, ZeroDivisionError):
        return float("nan")


# ---------------------------------------------------------------- special functions

def grid(*parts):
    return np.concatenate([np.asarray(p, dtype=np.float64) for p in parts])


negatives = -rng.integers(0, 25, 40) - rng.uniform(0.05, 0.95, 40)
SPECIAL = [
    # (function, label, points, rtol, atol)
    ("lgamma", "positive", grid(rng.uniform(0.01, 30, 40), [0.5, 1.5, 2.5, 3, 10, 20.5], 10 ** rng.uniform(-300, 300, 12)), 1e-13, 0),
    ("lgamma", "near 1 and 2", grid(1 + 10.0 ** -np.arange(1, 14), 1 - 10.0 ** -np.arange(1, 14), 2 + 10.0 ** -np.arange(1, 14), 2 - 10.0 ** -np.arange(1, 14)), 1e-13, 0),
    ("lgamma", "negative non-integers", negatives, 1e-13, 1e-13),
    ("lgamma", "poles and limits", [0.0, -1.0, -7.0, np.inf], 0, 0),
    ("digamma", "positive", grid(rng.uniform(0.01, 30, 40), [1, 2, 10, 1e3, 1e10, 1e-8], 1.4616321449683622 + 10.0 ** -np.arange(2, 15)), 1e-13, 0),
    ("digamma", "negative non-integers", negatives, 1e-13, 1e-12),
    ("trigamma", "positive", grid(rng.uniform(0.01, 30, 40), [1, 2, 10, 1e3, 1e10, 1e-8]), 1e-13, 0),
    ("trigamma", "negative non-integers", negatives, 1e-12, 0),
    ("erf", "grid", grid(rng.uniform(-6, 6, 40), [0, 1e-300, 1e-10, 0.5, 1.9, 2, 2.1, 3, 5.9, 6, 6.1, 30, -30]), 1e-14, 0),
    ("erfinv", "grid", grid(rng.uniform(-1, 1, 40), [0.5, -0.5, 1e-300, 1e-10, 0.999, -0.999999], 1 - 10.0 ** -np.arange(3, 17), -1 + 10.0 ** -np.arange(3, 17)), 1e-13, 0),
    ("erfinv", "limits", [1.0, -1.0], 0, 0),
]
MPF = {
    "lgamma": lambda x: mp.log(abs(mp.gamma(x))),
    "digamma": mp.digamma,
    "trigamma": lambda x: mp.polygamma(1, x),
    "erf": mp.erf,
    "erfinv": mp.erfinv,
}
LIMITS = {("lgamma", 0.0): np.inf, ("lgamma", -1.0): np.inf, ("lgamma", -7.0): np.inf, ("lgamma", np.inf): np.inf,
          ("erfinv", 1.0): np.inf, ("erfinv", -1.0): -np.inf}


def special_value(fn, x):
    if (fn, x) in LIMITS:
        return LIMITS[(fn, x)]
    return mpf_or_nan(MPF[fn], x)


special = [
    {"fn": fn, "label": label, "x": enc(xs), "y": enc([special_value(fn, float(x)) for x in xs]), "rtol": rtol, "atol": atol}
    for fn, label, xs, rtol, atol in SPECIAL
]

# ---------------------------------------------------------------- kernels


def tensor(a, dtype="float64"):
    a = np.asarray(a)
    return {"dtype": dtype, "shape": list(a.shape), "data": enc(a)}


cases = []


def case(name, label, inputs, attrs, outputs, rtol=1e-12, atol=1e-12):
    cases.append({"name": name, "label": label, "inputs": inputs, "attrs": attrs, "outputs": outputs, "rtol": rtol, "atol": atol})


x = rng.normal(size=(3, 4, 5))
case("sum", "axes [0,2]", [tensor(x)], {"axes": [0, 2], "keepDims": False}, [tensor(x.sum(axis=(0, 2)))])
case("prod", "axes [1] keepDims", [tensor(x)], {"axes": [1], "keepDims": True}, [tensor(x.prod(axis=1, keepdims=True))])
case("max", "axes [2]", [tensor(x)], {"axes": [2], "keepDims": False}, [tensor(x.max(axis=2))])
case("min", "all axes", [tensor(x)], {"axes": [0, 1, 2], "keepDims": False}, [tensor(x.min())])
case("sum", "int32 wraps", [tensor([2**31 - 1, 1, 5], "int32")], {"axes": [0], "keepDims": False}, [tensor(np.array([2**31 - 1, 1, 5], dtype=np.int32).sum(dtype=np.int32), "int32")])

big = rng.normal(size=(4, 6)) * 5 + 1000
big[2, :] = -np.inf
big[3, 1] = np.inf
lse = []
for row in big:
    m = row.max()
    lse.append(m if np.isinf(m) else m + np.log(np.exp(row - m).sum()))
case("logsumexp", "large values, −Inf and +Inf rows", [tensor(big)], {"axes": [1], "keepDims": False}, [tensor(lse)])

ties = np.array([[1.0, 3, 3, 0], [np.nan, 2, np.nan, 9], [-1, -1, -2, -2]])
case("argmax", "ties and NaN", [tensor(ties)], {"axis": 1, "keepDims": False}, [tensor(np.argmax(ties, axis=1), "int32")], 0, 0)
case("argmin", "ties and NaN", [tensor(ties)], {"axis": 1, "keepDims": False}, [tensor(np.argmin(ties, axis=1), "int32")], 0, 0)

s = rng.normal(size=(3, 4)) * 30
sm = np.exp(s - s.max(axis=0, keepdims=True))
sm /= sm.sum(axis=0, keepdims=True)
case("softmax", "axis 0", [tensor(s)], {"axis": 0}, [tensor(sm)])
lsm = s - s.max(axis=1, keepdims=True)
lsm -= np.log(np.exp(lsm).sum(axis=1, keepdims=True))
case("logSoftmax", "axis 1", [tensor(s)], {"axis": 1}, [tensor(lsm)])
case("cumsum", "axis 1", [tensor(x)], {"axis": 1, "reverse": False}, [tensor(np.cumsum(x, axis=1))])
case("cumsum", "axis 2 reverse", [tensor(x)], {"axis": 2, "reverse": True}, [tensor(np.flip(np.cumsum(np.flip(x, 2), axis=2), 2))])

a = rng.normal(size=(2, 1, 3, 4))
b = rng.normal(size=(3, 5, 4))
case("matmul", "batch broadcast, transB", [tensor(a), tensor(b)], {"transA": False, "transB": True}, [tensor(a @ np.swapaxes(b, -1, -2))])
a2 = rng.normal(size=(4, 3))
b2 = rng.normal(size=(4, 2))
case("matmul", "transA", [tensor(a2), tensor(b2)], {"transA": True, "transB": False}, [tensor(a2.T @ b2)])

m = rng.normal(size=(3, 4, 4))
spd = m @ np.swapaxes(m, -1, -2) + 4 * np.eye(4)
case("cholesky", "batch of 3", [tensor(spd)], {}, [tensor(np.linalg.cholesky(spd))])

tri = np.tril(rng.normal(size=(4, 4))) + 3 * np.eye(4)
rhs = rng.normal(size=(4, 2))
for lower in (True, False):
    for trans in (False, True):
        A = tri if lower else tri.T
        sol = sla.solve_triangular(A, rhs, lower=lower, trans=1 if trans else 0)
        case("triangularSolve", f"lower={lower} transA={trans}", [tensor(A), tensor(rhs)], {"lower": lower, "transA": trans}, [tensor(sol)])

g = rng.normal(size=(2, 5, 3))
idx = np.array([[4, 0, 0], [2, 1, 4]], dtype=np.int32)
case("gather", "axis 1, 2-D indices", [tensor(g), tensor(idx, "int32")], {"axis": 1}, [tensor(np.take(g, idx, axis=1))], 0, 0)
upd = rng.normal(size=(2, 2, 3, 3))
acc = np.zeros((2, 5, 3))
for i in range(2):
    for j in range(3):
        acc[:, idx[i, j], :] += upd[:, i, j, :]
case("scatterAdd", "axis 1, repeated indices", [tensor(upd), tensor(idx, "int32")], {"axis": 1, "size": 5}, [tensor(acc)])

t = rng.normal(size=(2, 3, 4))
case("transpose", "perm [2,0,1]", [tensor(t)], {"perm": [2, 0, 1]}, [tensor(np.transpose(t, (2, 0, 1)))], 0, 0)
case("pad", "value 7", [tensor(t)], {"before": [0, 1, 2], "after": [1, 0, 1], "value": 7}, [tensor(np.pad(t, ((0, 1), (1, 0), (2, 1)), constant_values=7))], 0, 0)
case("slice", "middle block", [tensor(t)], {"begin": [1, 1, 0], "size": [1, 2, 3]}, [tensor(t[1:2, 1:3, 0:3])], 0, 0)
case("concat", "axis 2", [tensor(t), tensor(t[:, :, :1])], {"axis": 2}, [tensor(np.concatenate([t, t[:, :, :1]], axis=2))], 0, 0)
case("tril", "k = -1", [tensor(t)], {"k": -1}, [tensor(np.tril(t, -1))], 0, 0)
case("diagonal", "batch", [tensor(t)], {}, [tensor(np.diagonal(t, axis1=-2, axis2=-1))], 0, 0)
oh = np.array([0, 3, -1, 4, 2], dtype=np.int32)
case("oneHot", "out of range gives zeros", [tensor(oh, "int32")], {"depth": 4, "dtype": "float64"}, [tensor((oh[:, None] == np.arange(4)).astype(float))], 0, 0)

# SVGD's direction as Liu & Wang's reference code computes it (their svgd.py: squared pairwise
# distances by scipy's pdist, the median heuristic h² = ½·med/log(n + 1) with the kernel
# exp(−D/(2h²)), so the kernel's bandwidth attribute h = med/log(n + 1)).
from scipy.spatial.distance import pdist, squareform


def svgd_phi(x, g, bandwidth=0.0):
    n = x.shape[0]
    D = squareform(pdist(x)) ** 2
    h = bandwidth if bandwidth > 0 else np.median(D) / np.log(n + 1)
    K = np.exp(-D / h)
    dK = (-K @ x + x * K.sum(axis=1, keepdims=True)) * (2 / h)
    return (K @ g + dK) / n, h


for n, d, bw, label in [(7, 3, 0.0, "median, odd n²"), (12, 5, 0.0, "median, even n²"), (9, 4, 1.7, "bandwidth 1.7")]:
    px = rng.normal(size=(n, d)) * 1.5
    pg = rng.normal(size=(n, d))
    phi, h = svgd_phi(px, pg, bw)
    case("svgdPhi", f"n={n} d={d} {label}", [tensor(px), tensor(pg)], {"bandwidth": bw}, [tensor(phi), tensor(np.array(h))], 1e-12, 1e-13)

# KL(N(m, σ²) ‖ N(0, 1)) from scipy's entropy of the Gaussian and the expected log N(0, 1) density.
from scipy.stats import norm

m = rng.normal(size=(3, 4)) * 2
ls = rng.normal(size=(4,))
sig = np.exp(ls)
kl = -norm(m, sig).entropy() - norm.logpdf(0) + 0.5 * (m ** 2 + sig ** 2)
case("diagNormalKL", "broadcast [3,4] with [4]", [tensor(m), tensor(ls)], {}, [tensor(kl)], 1e-13, 1e-14)

# The affine flow step: y elementwise by the textbook formulas (scipy's expit and log_expit for the
# sigmoid gate), and log|det ∂y/∂x| per row from numpy's slogdet of the row's (diagonal) Jacobian,
# built from the analytic ∂y_j/∂x_j (1 on masked-off entries). Its own generator, so later cases'
# draws do not depend on these.
from scipy.special import expit, log_expit

frng = np.random.default_rng(7301)


def affine_flow(x, shift, s, gate, inverse, mask=None):
    x, shift, s = np.broadcast_arrays(x, shift, s)
    on = np.ones(x.shape[-1], bool) if mask is None else mask != 0
    if gate == "sigmoid":
        t, dydx = expit(s) * x + expit(-s) * shift, expit(s)
    elif inverse:
        t, dydx = (x - shift) * np.exp(-s), np.exp(-s)
    else:
        t, dydx = x * np.exp(s) + shift, np.exp(s)
    y = np.where(on, t, x)
    jac = np.where(on, dydx, 1.0)
    rows = jac.reshape(-1, jac.shape[-1])
    logdet = np.array([np.linalg.slogdet(np.diag(r))[1] for r in rows]).reshape(jac.shape[:-1])
    return y, logdet


for gate, inverse, sx, sh, ss, mask, label in [
    ("exp", False, (3, 5), (5,), (3, 5), None, "forward, shift [5]"),
    ("exp", True, (2, 3, 5), (2, 3, 5), (3, 5), np.array([0.0, 1, 0, 1, 1]), "inverse, mask [5], s [3,5]"),
    ("sigmoid", False, (4, 6), (4, 6), (4, 6), np.array([1.0, 1, 1, 0, 0, 0]), "mask [6], s up to ±40"),
    ("sigmoid", False, (6,), (6,), (2, 6), None, "x [6] over s [2,6]"),
]:
    fx = frng.normal(size=sx) * 2
    fh = frng.normal(size=sh)
    fs = frng.normal(size=ss) * (20 if "40" in label else 1)
    y, ld = affine_flow(fx, fh, fs, gate, inverse, mask)
    ins = [tensor(fx), tensor(fh), tensor(fs)] + ([] if mask is None else [tensor(mask)])
    case("affineFlow", f"{gate} {label}", ins, {"gate": gate, "inverse": inverse}, [tensor(y), tensor(ld)], 1e-13, 1e-13)

# The Cholesky-guide sample mvnReparam: ε written out here from the Philox-4x32-10 stream layout
# of ts/random/philox.ts (counter (b, b >> 32, 0, 0) per block b of four words, float64 uniforms from
# word pairs, Box–Muller pairs), z = loc + tril(L) ε with numpy, and log q(z) from scipy's
# multivariate_normal.logpdf with covariance tril(L) tril(L)ᵀ. Its own generator.
from scipy.stats import multivariate_normal


def philox4x32(ctr, key):
    c, (k0, k1) = list(ctr), key
    for _ in range(10):
        p0, p1 = 0xD2511F53 * c[0], 0xCD9E8D57 * c[2]
        c = [((p1 >> 32) ^ c[1] ^ k0) & 0xFFFFFFFF, p1 & 0xFFFFFFFF, ((p0 >> 32) ^ c[3] ^ k1) & 0xFFFFFFFF, p0 & 0xFFFFFFFF]
        k0, k1 = (k0 + 0x9E3779B9) & 0xFFFFFFFF, (k1 + 0xBB67AE85) & 0xFFFFFFFF
    return c


def std_normals_f64(key, n):
    words = [w for b in range((4 * ((n + 1) // 2) + 3) // 4) for w in philox4x32((b & 0xFFFFFFFF, b >> 32, 0, 0), key)]
    u = [((words[2 * k] >> 5) * 67108864 + (words[2 * k + 1] >> 6)) * 1.1102230246251565e-16 for k in range(2 * ((n + 1) // 2))]
    out = []
    for m in range(len(u) // 2):
        r, th = np.sqrt(-2 * np.log(1 - u[2 * m])), 2 * np.pi * u[2 * m + 1]
        out += [r * np.cos(th), r * np.sin(th)]
    return np.array(out[:n])


mrng = np.random.default_rng(4242)
for sl, sL, key in [((3,), (3, 3), [7, 0]), ((2, 1, 4), (3, 4, 4), [0xDEADBEEF, 0x12345678]), ((5, 3), (3, 3), [1, 2])]:
    d = sL[-1]
    L = np.tril(mrng.normal(size=sL) * 0.5)
    idx = np.arange(d)
    L[..., idx, idx] = mrng.uniform(0.3, 2.0, size=sL[:-1]) * np.where(idx == 1, -1.0, 1.0)
    Lin = L.copy()
    Lin[..., idx[:, None] < idx[None, :]] = np.nan  # the upper triangle must be ignored
    loc = mrng.normal(size=sl)
    batch = np.broadcast_shapes(sl[:-1], sL[:-2])
    eps = std_normals_f64(key, int(np.prod(batch, dtype=int)) * d).reshape(*batch, d)
    z = loc + np.einsum("...ij,...j->...i", np.broadcast_to(L, (*batch, d, d)), eps)
    Lb, mb = np.broadcast_to(L, (*batch, d, d)).reshape(-1, d, d), np.broadcast_to(loc, (*batch, d)).reshape(-1, d)
    lq = np.array([multivariate_normal(mb[i], Lb[i] @ Lb[i].T).logpdf(zi) for i, zi in enumerate(z.reshape(-1, d))]).reshape(batch)
    case("mvnReparam", f"loc {list(sl)} scaleTril {list(sL)}", [tensor(loc), tensor(Lin)], {"key": key}, [tensor(z), tensor(lq)], 1e-11, 1e-12)

OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps({"generator": "scripts/golden/kernels.py", "special": special, "kernels": cases}, indent=None) + "\n")
print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
