"""Freezes GPy's EP Gaussian-process classification (probit likelihood, RBF kernel with fixed
hyperparameters) on Ionosphere and Sonar into test/fixtures/ep-gpy.json, for test/unit/ep-gpy.test.ts.

With --laplace (bench/vi/ep.ts uses it) it adds GPy's Laplace approximation at the same settings.

Setup: bash bench/peers/setup-gpy.sh (GPy into bench/peers/.venv). Data: test/fixtures/ep-*.csv,
written from R's mlbench by bench/ep/export-mlbench.R. Run:
    bench/peers/.venv/bin/python bench/peers/ep_gpy.py [--out test/fixtures/ep-gpy.json]

Preprocessing (mirrored in the test): every feature column standardized to mean 0 and population
standard deviation 1, constant columns dropped; rows with index % 3 == 2 are the test set, the rest
train. EP runs to a tight fixed point (mean squared change of the site parameters below 1e-24, or
200 sweeps), both with GPy's default sequential updates (random order, seed 0) and with its parallel
updates; hyperparameters are fixed, never optimized. "linear" is Bayesian probit regression with
w ~ N(0, I) and an intercept ~ N(0, 1), run as a GP with kernel x·x′ + 1.
"""
import argparse
import json
import os

import numpy as np
import GPy

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SETS = {
    # name: (csv, RBF variance, RBF lengthscale)
    "ionosphere": ("ep-ionosphere.csv", 4.0, 3.0),
    "sonar": ("ep-sonar.csv", 9.0, 6.0),
}


def load(csv):
    raw = np.loadtxt(os.path.join(ROOT, "test", "fixtures", csv), delimiter=",", skiprows=1)
    x, y = raw[:, :-1], raw[:, -1]
    sd = x.std(axis=0)
    keep = sd > 0
    x = (x[:, keep] - x[:, keep].mean(axis=0)) / sd[keep]
    test = np.arange(len(y)) % 3 == 2
    return x[~test], y[~test], x[test], y[test]


def run(x, y, xt, variance, lengthscale, parallel, laplace=False, linear=False):
    np.random.seed(0)
    if linear:
        # Bayesian probit regression w ~ N(0, I), intercept b ~ N(0, 1), as a GP: k = x·x′ + 1.
        kern = GPy.kern.Linear(x.shape[1], variances=1.0) + GPy.kern.Bias(x.shape[1], variance=1.0)
    else:
        kern = GPy.kern.RBF(x.shape[1], variance=variance, lengthscale=lengthscale)
    if laplace:
        inf = GPy.inference.latent_function_inference.Laplace()
    else:
        inf = GPy.inference.latent_function_inference.EP(epsilon=1e-24, max_iters=200, parallel_updates=parallel)
    m = GPy.core.GP(x, y[:, None], kernel=kern, likelihood=GPy.likelihoods.Bernoulli(), inference_method=inf)
    mu, var = m.predict_noiseless(xt)
    prob, _ = m.predict(xt)
    return {
        "logMarginal": float(m.log_likelihood()),
        "latentMean": mu[:, 0].tolist(),
        "latentVar": var[:, 0].tolist(),
        "prob": prob[:, 0].tolist(),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "test", "fixtures", "ep-gpy.json"))
    ap.add_argument("--laplace", action="store_true", help="also GPy's Laplace approximation (for bench/vi/ep.ts)")
    args = ap.parse_args()
    out = {"gpy": GPy.__version__, "numpy": np.__version__, "sets": {}}
    for name, (csv, variance, lengthscale) in SETS.items():
        x, y, xt, yt = load(csv)
        seq = run(x, y, xt, variance, lengthscale, False)
        par = run(x, y, xt, variance, lengthscale, True)
        out["sets"][name] = {
            "csv": csv, "variance": variance, "lengthscale": lengthscale,
            "nTrain": int(len(y)), "nTest": int(len(yt)), "features": int(x.shape[1]),
            "sequential": seq, "parallel": par,
        }
        # The same data as a linear model (for epLinear, weight space), with unit Gaussian priors.
        out["sets"][name]["linear"] = run(x, y, xt, variance, lengthscale, False, linear=True)
        if args.laplace:
            out["sets"][name]["laplace"] = run(x, y, xt, variance, lengthscale, False, laplace=True)
        print(f"{name}: n={len(y)} d={x.shape[1]} logML seq {seq['logMarginal']:.10f} par {par['logMarginal']:.10f}")
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
