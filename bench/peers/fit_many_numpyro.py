"""Eight schools (non-centered) fitted to many simulated data sets at once with NumPyro: AutoNormal,
Adam, Trace_ELBO with one particle, a fixed number of steps, the whole SVI loop vmapped over the
data sets and jitted. For bench/vi/fit-many.ts, which writes the data sets to a JSON file:
    {"ys": [[...8], ...], "sigma": [...8], "steps": S, "lr": LR}
Prints one JSON line: seconds of the first call (tracing and XLA compilation included), of a
second call (compiled), and each data set's fitted mu loc."""
import json
import os
import sys
import time

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from numpyro.infer import SVI, Trace_ELBO
from numpyro.infer.autoguide import AutoNormal
from numpyro.optim import Adam

jax.config.update("jax_enable_x64", True)
numpyro.set_platform("cpu")


def model(y, sigma):
    mu = numpyro.sample("mu", dist.Normal(0, 5))
    tau = numpyro.sample("tau", dist.HalfCauchy(5))
    with numpyro.plate("J", y.shape[0]):
        raw = numpyro.sample("theta_raw", dist.Normal(0, 1))
        numpyro.sample("obs", dist.Normal(mu + tau * raw, sigma), obs=y)


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    ys = jnp.array(spec["ys"], dtype=jnp.float64)
    sigma = jnp.array(spec["sigma"], dtype=jnp.float64)
    steps, lr = int(spec["steps"]), float(spec["lr"])
    svi = SVI(model, AutoNormal(model), Adam(lr), Trace_ELBO())

    def fit_one(key, y):
        state = svi.init(key, y, sigma)
        state = jax.lax.fori_loop(0, steps, lambda i, s: svi.update(s, y, sigma)[0], state)
        return svi.get_params(state)["mu_auto_loc"]

    keys = jax.random.split(jax.random.PRNGKey(0), ys.shape[0])
    fit_all = jax.jit(jax.vmap(fit_one))
    t0 = time.perf_counter()
    mu = fit_all(keys, ys).block_until_ready()
    first_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    mu = fit_all(keys, ys).block_until_ready()
    second_s = time.perf_counter() - t0
    print(json.dumps({"first_s": first_s, "second_s": second_s, "mu_loc": [float(v) for v in mu], "jax": jax.__version__, "numpyro": numpyro.__version__, "xla_flags": os.environ.get("XLA_FLAGS", "")}))


if __name__ == "__main__":
    main()
