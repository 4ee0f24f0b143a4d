"""NumPyro peer of bench/kernels/distributions.ts: the same distribution calls, jitted, on CPU.

Run by the bench program in bench/peers/.venv (needs numpyro, jax). Prints one JSON line:
seconds per call (fastest of repeated batches) by task name, plus the library versions.
All float32 (JAX's default), with the same inputs as the TypeScript side.
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

jax.config.update("jax_platform_name", "cpu")

ap = argparse.ArgumentParser()
ap.add_argument("--n", type=int, default=1 << 20)
ap.add_argument("--dir-k", type=int, default=10)
ap.add_argument("--dir-n", type=int, default=100_000)
ap.add_argument("--budget-ms", type=float, default=600)
ap.add_argument("--mvn", default="10:10000,100:1000,500:200")
args = ap.parse_args()


def best_time(fn, *xs):
    """Fastest per-call seconds over batches of ~2 ms after a warm-up (compilation) call."""
    jax.block_until_ready(fn(*xs))
    t = time.perf_counter()
    jax.block_until_ready(fn(*xs))
    one = time.perf_counter() - t
    batch = max(1, int(0.002 / max(one, 1e-7)))
    best = math.inf
    start = time.perf_counter()
    while time.perf_counter() - start < args.budget_ms / 1000 or best == math.inf:
        t = time.perf_counter()
        # Keep every output and wait for all: JAX dispatches asynchronously.
        outs = [fn(*xs) for _ in range(batch)]
        jax.block_until_ready(outs)
        best = min(best, (time.perf_counter() - t) / batch)
    return best


def tril_factor(d):
    """The same factor as trilFactor in bench/kernels/distributions.ts."""
    l = np.zeros((d, d), dtype=np.float32)
    for i in range(d):
        for j in range(i):
            l[i, j] = 0.1 * math.sin(i + 2 * j) / math.sqrt(d)
        l[i, i] = 1 + 0.5 * math.cos(i)
    return jnp.asarray(l)


n = args.n
res = {"__numpyro_version": numpyro.__version__, "__jax_version": jax.__version__}
x = jnp.asarray((np.sin(np.arange(n) * 1e-3) * 2).astype(np.float32))
normal = dist.Normal(jnp.float32(0.3), jnp.float32(1.7))
res["Normal.logProb"] = best_time(jax.jit(normal.log_prob), x)
keys = iter(jax.random.split(jax.random.PRNGKey(0), 1_000_000))
rs = jax.jit(lambda k: normal.rsample(k, (n,)))
res["Normal.rsample"] = best_time(lambda: rs(next(keys)))
gamma = dist.Gamma(jnp.float32(2.5), jnp.float32(1.0))
gs = jax.jit(lambda k: gamma.sample(k, (n,)))
res["Gamma(2.5).sample"] = best_time(lambda: gs(next(keys)))
dirichlet = dist.Dirichlet(jnp.asarray(0.5 + 0.3 * np.arange(args.dir_k), dtype=jnp.float32))
ds = jax.jit(lambda k: dirichlet.sample(k, (args.dir_n,)))
res[f"Dirichlet(K={args.dir_k}).sample"] = best_time(lambda: ds(next(keys)))
for spec in args.mvn.split(","):
    d, m = (int(v) for v in spec.split(":"))
    mvn = dist.MultivariateNormal(jnp.zeros(d, dtype=jnp.float32), scale_tril=tril_factor(d))
    pts = jnp.asarray(np.cos(np.arange(m * d) * 0.37).astype(np.float32).reshape(m, d))
    res[f"MVN.logProb d={d}"] = best_time(jax.jit(mvn.log_prob), pts)
print(json.dumps(res))
