"""Eight schools (non-centered), AutoNormal or AutoMultivariateNormal, one particle, Adam: NumPyro's
compiled SVI loop, for bench/vi/eight-schools.ts. Prints one JSON line: compile seconds (the first
call of the jitted update, tracing and XLA compilation) and microseconds per step, both for the
per-step jitted `svi.update` (wall and process CPU time) and for `svi.run` (a lax.scan over all
steps)."""
import json
import sys
import time

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from numpyro.infer import SVI, Trace_ELBO
from numpyro.infer.autoguide import AutoMultivariateNormal, AutoNormal
from numpyro.optim import Adam

jax.config.update("jax_enable_x64", True)
numpyro.set_platform("cpu")

y = jnp.array([28.0, 8, -3, 7, -1, 1, 18, 12])
sigma = jnp.array([15.0, 10, 16, 11, 9, 11, 10, 18])


def model(y, sigma):
    mu = numpyro.sample("mu", dist.Normal(0, 5))
    tau = numpyro.sample("tau", dist.HalfCauchy(5))
    with numpyro.plate("J", 8):
        raw = numpyro.sample("theta_raw", dist.Normal(0, 1))
        numpyro.sample("obs", dist.Normal(mu + tau * raw, sigma), obs=y)


def main():
    guide_name = sys.argv[1] if len(sys.argv) > 1 else "normal"
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    guide = AutoNormal(model) if guide_name == "normal" else AutoMultivariateNormal(model)
    svi = SVI(model, guide, Adam(0.01), Trace_ELBO())
    state = svi.init(jax.random.PRNGKey(0), y, sigma)
    update = jax.jit(svi.update)
    t0 = time.perf_counter()
    state, loss = update(state, y, sigma)
    loss.block_until_ready()
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    c0 = time.process_time()
    for _ in range(steps):
        state, loss = update(state, y, sigma)
    loss.block_until_ready()
    per_step = (time.perf_counter() - t0) / steps * 1e6
    # CPU time of the process (all its threads) per step: less moved by other jobs than wall time.
    per_step_cpu = (time.process_time() - c0) / steps * 1e6
    t0 = time.perf_counter()
    svi.run(jax.random.PRNGKey(1), steps, y, sigma, progress_bar=False)
    run_total = time.perf_counter() - t0
    print(json.dumps({"compile_s": compile_s, "step_us": per_step, "step_cpu_us": per_step_cpu, "run_total_s": run_total, "run_us": run_total / steps * 1e6}))


if __name__ == "__main__":
    main()
