"""Minibatch SVI in NumPyro, for bench/vi/minibatch.ts: the same models on the same data (varinf's
simulation, read from the raw float64/int32 files it wrote), one particle, Adam, AutoNormal, the
likelihood plate subsampled with `numpyro.plate(..., subsample_size=S)`.

Tasks:
  logreg N D S XFILE YFILE          Bayesian logistic regression, w ~ N(0, 1), b ~ N(0, 5).
  hier N G S GFILE XFILE YFILE      varying intercepts (non-centered), G groups.

Prints one JSON line: compile_s (first call of the jitted update), step_us (the jitted update
called per step, over min(STEPS, 200) steps), run_us (svi.run, a lax.scan, its compilation
included, divided by the steps) and the losses of that run.

Usage: minibatch_numpyro.py TASK STEPS LR ARGS..."""
import json
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.infer import SVI, Trace_ELBO
from numpyro.infer.autoguide import AutoNormal
from numpyro.optim import Adam

jax.config.update("jax_enable_x64", True)
numpyro.set_platform("cpu")


def make_logreg(n, d, s):
    def model(x, y):
        with numpyro.plate("D", d):
            w = numpyro.sample("w", dist.Normal(0.0, 1.0))
        b = numpyro.sample("b", dist.Normal(0.0, 5.0))
        with numpyro.plate("N", n, subsample_size=s) as idx:
            logits = x[idx] @ w + b
            numpyro.sample("y", dist.Bernoulli(logits=logits), obs=y[idx])

    return model


def make_hier(n, groups, s):
    def model(g, x, y):
        mu = numpyro.sample("mu", dist.Normal(0.0, 5.0))
        tau = numpyro.sample("tau", dist.HalfNormal(1.0))
        beta = numpyro.sample("beta", dist.Normal(0.0, 1.0))
        sigma = numpyro.sample("sigma", dist.HalfNormal(1.0))
        with numpyro.plate("G", groups):
            raw = numpyro.sample("a_raw", dist.Normal(0.0, 1.0))
        a = mu + tau * raw
        with numpyro.plate("N", n, subsample_size=s) as idx:
            numpyro.sample("y", dist.Normal(a[g[idx]] + beta * x[idx], sigma), obs=y[idx])

    return model


def main():
    task, steps, lr = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    rest = sys.argv[4:]
    if task == "logreg":
        n, d, s = int(rest[0]), int(rest[1]), int(rest[2])
        x = jnp.asarray(np.fromfile(rest[3], dtype=np.float64).reshape(n, d))
        y = jnp.asarray(np.fromfile(rest[4], dtype=np.float64))
        model, args = make_logreg(n, d, s), (x, y)
    else:
        n, groups, s = int(rest[0]), int(rest[1]), int(rest[2])
        g = jnp.asarray(np.fromfile(rest[3], dtype=np.int32))
        x = jnp.asarray(np.fromfile(rest[4], dtype=np.float64))
        y = jnp.asarray(np.fromfile(rest[5], dtype=np.float64))
        model, args = make_hier(n, groups, s), (g, x, y)
    svi = SVI(model, AutoNormal(model), Adam(lr), Trace_ELBO())
    state = svi.init(jax.random.PRNGKey(0), *args)
    update = jax.jit(svi.update)
    t0 = time.perf_counter()
    state, loss = update(state, *args)
    loss.block_until_ready()
    compile_s = time.perf_counter() - t0
    n_upd = min(steps, 200)
    t0 = time.perf_counter()
    for _ in range(n_upd):
        state, loss = update(state, *args)
    loss.block_until_ready()
    step_us = (time.perf_counter() - t0) / n_upd * 1e6
    t0 = time.perf_counter()
    res = svi.run(jax.random.PRNGKey(1), steps, *args, progress_bar=False)
    res.losses.block_until_ready()
    run_total = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "compile_s": compile_s,
                "step_us": step_us,
                "run_us": run_total / steps * 1e6,
                "losses": [float(v) for v in res.losses],
                "jax": jax.__version__,
                "numpyro": numpyro.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
