"""SVI at scale in NumPyro, for bench/vi/svi-scale.ts: logistic regression (10,000 x 50) or varying
intercepts (1,000 groups, 20,000 observations), AutoNormal / AutoMultivariateNormal /
AutoLowRankMultivariateNormal (rank 32), one particle, Adam. The data are varinf's simulation,
read from the raw files it wrote. Prints one JSON line: compile seconds (first call of the jitted
update), microseconds per step of the jitted update called per step, the loss of every one of
those steps, and microseconds per step of svi.run (a lax.scan; total time including its
compilation, divided by the step count).

Usage: svi_scale_numpyro.py TASK GUIDE STEPS LR FILE..."""
import json
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.infer import SVI, Trace_ELBO
from numpyro.infer.autoguide import AutoLowRankMultivariateNormal, AutoMultivariateNormal, AutoNormal
from numpyro.optim import Adam

jax.config.update("jax_enable_x64", True)
numpyro.set_platform("cpu")


def logreg(x, y):
    with numpyro.plate("D", x.shape[1]):
        w = numpyro.sample("w", dist.Normal(0.0, 1.0))
    b = numpyro.sample("b", dist.Normal(0.0, 5.0))
    logits = x @ w + b
    with numpyro.plate("N", x.shape[0]):
        numpyro.sample("y", dist.Bernoulli(logits=logits), obs=y)


def intercepts(g, x, y, groups=1000):
    mu = numpyro.sample("mu", dist.Normal(0.0, 5.0))
    tau = numpyro.sample("tau", dist.HalfNormal(1.0))
    beta = numpyro.sample("beta", dist.Normal(0.0, 1.0))
    sigma = numpyro.sample("sigma", dist.HalfNormal(1.0))
    with numpyro.plate("G", groups):
        raw = numpyro.sample("a_raw", dist.Normal(0.0, 1.0))
    a = mu + tau * raw
    with numpyro.plate("N", x.shape[0]):
        numpyro.sample("y", dist.Normal(a[g] + beta * x, sigma), obs=y)


def main():
    task, guide_name, steps, lr = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    files = sys.argv[5:]
    if task == "logreg":
        y = jnp.asarray(np.fromfile(files[1], dtype=np.float64))
        x = jnp.asarray(np.fromfile(files[0], dtype=np.float64).reshape(y.shape[0], -1))
        model, args = logreg, (x, y)
    else:
        g = jnp.asarray(np.fromfile(files[0], dtype=np.int32))
        args = (g, jnp.asarray(np.fromfile(files[1], dtype=np.float64)), jnp.asarray(np.fromfile(files[2], dtype=np.float64)))
        model = intercepts
    if guide_name == "normal":
        guide = AutoNormal(model)
    elif guide_name == "mvn":
        guide = AutoMultivariateNormal(model)
    else:
        guide = AutoLowRankMultivariateNormal(model, rank=32)
    svi = SVI(model, guide, Adam(lr), Trace_ELBO())
    state = svi.init(jax.random.PRNGKey(0), *args)
    update = jax.jit(svi.update)
    t0 = time.perf_counter()
    state, loss = update(state, *args)
    loss.block_until_ready()
    compile_s = time.perf_counter() - t0
    losses = [loss]
    t0 = time.perf_counter()
    for _ in range(steps - 1):
        state, loss = update(state, *args)
        losses.append(loss)
    loss.block_until_ready()
    step_us = (time.perf_counter() - t0) / (steps - 1) * 1e6
    t0 = time.perf_counter()
    res = svi.run(jax.random.PRNGKey(1), steps, *args, progress_bar=False)
    res.losses.block_until_ready()
    run_total = time.perf_counter() - t0
    out = {
        "compile_s": compile_s,
        "step_us": step_us,
        "run_total_s": run_total,
        "run_us": run_total / steps * 1e6,
        "losses": [float(v) for v in jnp.stack(losses)],
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
