"""Golden values for the rational-quadratic spline (rqSpline): writes test/fixtures/spline.json.

The reference is Pyro's own spline, pyro.distributions.transforms.spline._monotonic_rational_spline
(pyro-ppl 1.9.x; the version used is recorded in the output), in float64 with lambdas=None (the
quadratic order) and its defaults min_bin_width = min_bin_height = min_derivative = 1e-3, fed
softmax(widths), softmax(heights) and softplus(derivatives) exactly as Pyro's `Spline._params`
does. That fixes the parametrization varinf follows, including Pyro's boundary knot derivatives
1 - min_derivative (it pads after adding min_derivative; nflows gets exactly 1).

Pyro assigns a point to a bin by comparing with the knots + 1e-6, so within 1e-6 above an interior
knot it extrapolates the lower bin where varinf uses the upper one (values agree to O(δ²), logdets
to O(δ)); the near-knot points therefore sit on the knots, 1e-9 below them, or 3e-6 above them.
Rerun from the repository root (torch is in the bench environment):

    bench/peers/.venv/bin/pip install pyro-ppl
    bench/peers/.venv/bin/python scripts/golden/spline.py
"""
import json
import pathlib

import numpy as np
import pyro
import torch
import torch.nn.functional as F
from pyro.distributions.transforms.spline import _monotonic_rational_spline

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(20261124)
OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "fixtures" / "spline.json"
MIN = 1e-3


def knots(u, bound):
    """The knot positions Pyro builds from unnormalized widths (or heights) u [d, K], per row."""
    k = u.shape[-1]
    s = np.exp(u - u.max(-1, keepdims=True))
    s /= s.sum(-1, keepdims=True)
    c = np.concatenate([np.zeros((u.shape[0], 1)), np.cumsum(MIN + (1 - k * MIN) * s, -1)], -1)
    return 2 * bound * c - bound


def pyro_spline(x, uw, uh, ud, bound, inverse):
    w = F.softmax(torch.tensor(uw), dim=-1)
    h = F.softmax(torch.tensor(uh), dim=-1)
    d = F.softplus(torch.tensor(ud))
    y, ld = _monotonic_rational_spline(torch.tensor(x), w, h, d, inverse=inverse, bound=bound)
    return y.numpy(), ld.numpy()


def case(label, bound, k, d, scale, points):
    """Parameters [d, K] drawn at `scale`; `points(knots_x, knots_y)` gives x [n, d] for forward, y [n, d] for inverse."""
    uw = rng.normal(size=(d, k)) * scale
    uh = rng.normal(size=(d, k)) * scale
    ud = rng.normal(size=(d, k - 1)) * scale
    cx, cy = knots(uw, bound), knots(uh, bound)
    out = []
    for inverse in (False, True):
        v = points(cy if inverse else cx, bound)
        y, ld = pyro_spline(v, uw, uh, ud, bound, inverse)
        out.append({
            "label": f"{label} {'inverse' if inverse else 'forward'}",
            "bound": bound, "k": k, "d": d, "n": v.shape[0], "inverse": inverse,
            "widths": uw.ravel().tolist(), "heights": uh.ravel().tolist(), "derivatives": ud.ravel().tolist(),
            "x": v.ravel().tolist(), "y": y.ravel().tolist(), "logdet": ld.ravel().tolist(),
        })
    return out


def spread(c, bound):
    """Random points inside, the bound itself and points outside it, per dimension (column)."""
    d = c.shape[0]
    inside = rng.uniform(-bound, bound, size=(40, d))
    edges = np.array([[-bound] * d, [bound] * d, [-1.5 * bound] * d, [1.5 * bound] * d, [-40.0] * d, [1e3] * d,
                      [-bound * (1 + 1e-12)] * d, [bound * (1 - 1e-12)] * d])
    return np.concatenate([inside, edges])


def near_knots(c, bound):
    """Each interior knot, 1e-9 below it and 3e-6 above it (past Pyro's 1e-6 search offset), per dimension."""
    inner = c[:, 1:-1]
    pts = np.concatenate([inner, inner - 1e-9, inner + 3e-6], -1)
    return pts.T.copy()


cases = []
cases += case("K=8 B=3", 3.0, 8, 3, 1.0, spread)
cases += case("K=5 B=1.5 sharp", 1.5, 5, 4, 3.0, spread)
cases += case("K=2 B=2", 2.0, 2, 2, 1.0, spread)
cases += case("K=1 B=1", 1.0, 1, 2, 1.0, spread)
cases += case("K=8 B=3 knots", 3.0, 8, 3, 1.0, near_knots)
cases += case("K=16 B=4 knots", 4.0, 16, 2, 2.0, near_knots)

OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps({
    "generator": "scripts/golden/spline.py",
    "reference": f"pyro.distributions.transforms.spline._monotonic_rational_spline, pyro-ppl {pyro.__version__}, torch {torch.__version__}, float64",
    "cases": cases,
}) + "\n")
print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
