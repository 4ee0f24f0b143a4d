"""NumPyro peer of bench/flows/funnel.ts: AutoIAFNormal and AutoBNAFNormal on Neal's funnel
(d = 10: v ~ N(0, 3^2), x_i | v ~ N(0, e^v), i = 1..9) with the same SVI budget (TraceELBO with 8
particles, Adam, the same steps). Draws N latent vectors from each fitted guide with their
log-density (sample_with_intermediates, so IAF needs no inverse) and prints one JSON line per
guide: sd and mean of v, fit seconds, and the log ratios log p - log q (the bench computes k-hat
with varinf's PSIS, the same code for every guide).

    python funnel_numpyro.py --steps 5000 --lr 1e-2 --n 4000
"""
import argparse
import json
import math
import time

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.infer import SVI, Trace_ELBO
from numpyro.infer.autoguide import AutoBNAFNormal, AutoIAFNormal

D = 9


def funnel():
    v = numpyro.sample("v", dist.Normal(0.0, 3.0))
    with numpyro.plate("dims", D):
        numpyro.sample("x", dist.Normal(0.0, jnp.exp(v / 2)))


def log_p(z):
    v = z[:, 0]
    x = z[:, 1:]
    lp = -0.5 * (v / 3) ** 2 - math.log(3) - 0.5 * math.log(2 * math.pi)
    lp = lp + jnp.sum(-0.5 * x**2 * jnp.exp(-v)[:, None] - 0.5 * v[:, None] - 0.5 * math.log(2 * math.pi), axis=1)
    return lp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=5000)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--n", type=int, default=4000)
    a = ap.parse_args()
    guides = [
        ("NumPyro AutoIAFNormal (3 x IAF [20, 20])", lambda: AutoIAFNormal(funnel, num_flows=3, hidden_dims=[20, 20])),
        ("NumPyro AutoBNAFNormal (2 x BNAF [8])", lambda: AutoBNAFNormal(funnel, num_flows=2, hidden_factors=[8])),
    ]
    for name, make in guides:
        guide = make()
        svi = SVI(funnel, guide, numpyro.optim.Adam(a.lr), Trace_ELBO(num_particles=8))
        t0 = time.perf_counter()
        res = svi.run(jax.random.PRNGKey(1), a.steps, progress_bar=False)
        secs = time.perf_counter() - t0
        post = guide.get_posterior(res.params)
        z, inter = post.sample_with_intermediates(jax.random.PRNGKey(9), (a.n,))
        lq = post.log_prob(z, inter)
        lr = np.asarray(log_p(z) - lq, dtype=np.float64)
        v = np.asarray(z[:, 0])
        print(json.dumps({
            "guide": name + ", numpyro " + numpyro.__version__,
            "sd_v": float(v.std(ddof=1)),
            "mean_v": float(v.mean()),
            "fit_s": secs,
            "log_ratios": [float(x) for x in lr],
        }))


if __name__ == "__main__":
    main()
