"""Freezes Stan's own log density and gradient at random unconstrained points, for the Stan front end's tests.

Run: .venv-stan/bin/python scripts/golden/stan.py [NAME ...]
  (python3 -m venv .venv-stan && .venv-stan/bin/pip install pystan; PyStan 3 builds each program with its
  bundled stanc and g++, offline, in about 30 s.)

For each posteriordb program named (default: the list below) it reads model.stan and data.json from
../shared/data/posteriordb/<name>/ (or $POSTERIORDB), draws 20 unconstrained points u ~ U(-1.5, 1.5)^d
(seeded by the name, rounded to 6 decimals), and writes test/fixtures/stan/golden/<name>.json with
  {name, stan_version, dim, points: [u...], log_prob: [...], grad: [[...]...]}
where log_prob = posterior.log_prob(u, adjust_transform=True) (null where Stan's value is not finite) (Stan's target with `~` dropping
constants, plus the log-Jacobian) and grad = posterior.grad_log_prob(u). A program Stan cannot build
or evaluate is recorded with its error instead, so the table of failures is reproducible too.
Small programs' model and data are copied next to the values so the test runs without ../shared.

.venv-stan/bin/python scripts/golden/stan.py --timing NAME ... prints, one JSON line per program, Stan's
own gradient times at the program's first frozen point (see stan_gradient_seconds); bench/stan/speed.ts
runs it beside varinf's.
"""
import dataclasses
import hashlib
import importlib.metadata
import json
import os
import pathlib
import re
import subprocess
import sys
import time

import numpy as np

# This file is named stan.py: drop its own folder from the path so `import stan` finds PyStan.
sys.path = [p for p in sys.path if pathlib.Path(p or ".").resolve() != pathlib.Path(__file__).resolve().parent]
import aiohttp  # noqa: E402
import stan  # noqa: E402

# PyStan's client session keeps aiohttp's default 300 s limit per request, and a model build on a
# loaded machine takes longer: lift it (the builds finish; only their time varies).
_session_init = aiohttp.ClientSession.__init__


def _no_timeout(self, *args, **kwargs):
    kwargs.setdefault("timeout", aiohttp.ClientTimeout(total=None))
    _session_init(self, *args, **kwargs)


aiohttp.ClientSession.__init__ = _no_timeout

# httpstan runs stanc (`stanc --print-cpp`, in httpstan/compile.py) through `subprocess.run(...,
# timeout=1)`. On a loaded machine stanc alone takes longer than a second, the call raises
# TimeoutExpired inside the server, and the client sees an unrelated-looking error (a TAPE_ERROR
# from its JSON reader). Give httpstan's compile module a `subprocess` whose `run` ignores the
# timeout; nothing else in the process is touched (the venv's files are left as installed).
import httpstan.compile  # noqa: E402
import httpstan.models  # noqa: E402


class _SubprocessWithoutTimeout:
    """The `subprocess` module as httpstan.compile sees it, with `run`'s timeout dropped."""

    def __getattr__(self, attr):
        return getattr(subprocess, attr)

    @staticmethod
    def run(*args, **kwargs):
        kwargs.pop("timeout", None)
        return subprocess.run(*args, **kwargs)


httpstan.compile.subprocess = _SubprocessWithoutTimeout()

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "test" / "fixtures" / "stan" / "golden"
CANDIDATES = [ROOT.parent / "shared", ROOT.parent.parent / "shared"]
PDB = pathlib.Path(os.environ["POSTERIORDB"]) if "POSTERIORDB" in os.environ else next(
    (c / "data" / "posteriordb" for c in CANDIDATES if (c / "data" / "posteriordb").exists()), None)

DEFAULT = [
    "eight_schools-eight_schools_noncentered", "eight_schools-eight_schools_centered", "arK-arK", "garch-garch11",
    "gp_pois_regr-gp_regr", "low_dim_gauss_mix-low_dim_gauss_mix", "sblri-blr", "kidiq-kidscore_momiq",
    "earnings-logearn_height", "dogs-dogs", "Rate_1_data-Rate_1_model", "GLM_Poisson_Data-GLM_Poisson_model",
    "normal_5-normal_mixture_k", "dogs-dogs_nonhierarchical", "mesquite-logmesquite", "nes1972-nes",
    "M0_data-M0_model", "Survey_data-Survey_model", "dugongs_data-dugongs_model", "irt_2pl-irt_2pl",
]
NPOINTS = 20
SMALL = 40_000  # bytes of data copied into the fixtures


def unconstrained_dim(post):
    """Length of the unconstrained vector: from one draw, or (when the sampler's output cannot be
    read back) the smallest length log_prob accepts."""
    try:
        fit = post.sample(num_chains=1, num_samples=1, num_warmup=10)
        draw = {k: np.reshape(fit[k][..., 0], d).tolist() for k, d in zip(post.param_names, post.dims)}
        return len(post.unconstrain_pars(draw))
    except Exception:
        for d in range(0, 2000):
            try:
                post.log_prob([0.1] * d, adjust_transform=True)
                return d
            except Exception as e:
                if not any(w in str(e).lower() for w in ("size", "dimension", "mismatch", "number of")):
                    return d
        raise


def freeze(name):
    src = (PDB / name / "model.stan").read_text()
    data = json.loads((PDB / name / "data.json").read_text())
    out = {"name": name, "pystan_version": importlib.metadata.version("pystan"), "httpstan_version": importlib.metadata.version("httpstan")}
    t0 = time.time()
    try:
        post = stan.build(src, data=data, random_seed=1)
        dim = unconstrained_dim(post)
        seed = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)
        rng = np.random.default_rng(seed)
        # Rounded to 6 decimals (the points are exact inputs, so nothing is lost): a program with
        # thousands of parameters writes 9 characters per coordinate instead of 20.
        pts = np.round(rng.uniform(-1.5, 1.5, size=(NPOINTS, dim)), 6)
        lps, grads = [], []
        for p in pts:
            # A point where Stan's density is not finite cannot be sent back as JSON (ValueError), and
            # one where the program throws (a declared bound of a transformed parameter violated:
            # Stan rejects the point) comes back as an error (RuntimeError): both recorded as null.
            try:
                lps.append(post.log_prob(list(p), adjust_transform=True))
                grads.append(list(post.grad_log_prob(list(p))))
            except (ValueError, RuntimeError):
                lps.append(None)
                grads.append(None)
        if all(v is None for v in lps):
            raise ValueError("Stan's log density is not finite at any of the points")
        out.update(dim=dim, points=pts.tolist(), log_prob=lps, grad=grads)
    except Exception as e:  # recorded, so the failure table is reproducible
        out["error"] = f"{type(e).__name__}: {e}"[:500]
    out["seconds"] = round(time.time() - t0, 1)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.json").write_text(json.dumps(out))
    if len(json.dumps(data)) < SMALL:
        (OUT / f"{name}.stan").write_text(src)
        (OUT / f"{name}.data.json").write_text(json.dumps(data))
    print(name, out.get("dim"), out.get("error", "ok"), out["seconds"], "s", flush=True)


GRADIENT_TOOK = re.compile(r"Gradient evaluation took ([0-9.eE+-]+) seconds")


def stan_gradient_seconds(name, repeats):
    """Stan's own time for one gradient at the program's first frozen point: the "Gradient
    evaluation took X seconds" that Stan's sampler reports when it initializes (one log_prob_grad
    timed in C++, microsecond resolution; the first evaluation, so with cold caches), from `repeats`
    one-chain runs started at that point. Only with PyStan's cached build (a build under load takes
    minutes and is the freeze's job)."""
    src = (PDB / name / "model.stan").read_text()
    data = json.loads((PDB / name / "data.json").read_text())
    u = json.loads((OUT / f"{name}.json").read_text())["points"][0]
    try:
        httpstan.models.import_services_extension_module(httpstan.models.calculate_model_name(src))
    except KeyError:
        raise LookupError(f"no cached PyStan build (run scripts/golden/stan.py {name} first)") from None
    post = stan.build(src, data=data, random_seed=1)
    flat = post.constrain_pars(u, include_tparams=False, include_gqs=False)
    init, k = {}, 0
    for pname, dims in zip(post.param_names, post.dims):
        if k == len(flat):  # param_names goes on with transformed parameters and generated quantities
            break
        n = int(np.prod(dims)) if dims else 1
        # Stan's flat layout is column-major.
        init[pname] = np.reshape(flat[k:k + n], dims, order="F").tolist() if dims else flat[k]
        k += n
    outputs = []
    fit_init = stan.fit.Fit.__init__

    def keep_outputs(self, stan_outputs, *args, **kwargs):
        outputs.extend(stan_outputs)
        fit_init(self, stan_outputs, *args, **kwargs)

    stan.fit.Fit.__init__ = keep_outputs
    try:
        # PyStan returns a cached fit for a repeated request: each run gets its own seed.
        for r in range(repeats):
            dataclasses.replace(post, random_seed=1 + r).sample(num_chains=1, num_samples=1, num_warmup=0, init=[init])
    finally:
        stan.fit.Fit.__init__ = fit_init
    return [float(m) for o in outputs for m in GRADIENT_TOOK.findall(o.decode(errors="replace"))]


if __name__ == "__main__":
    if PDB is None:
        sys.exit("stan.py: ../shared/data/posteriordb is absent; set POSTERIORDB")
    args = sys.argv[1:]
    if args[:1] == ["--timing"]:
        # One JSON line per program on stdout (PyStan's own messages go to stderr), for bench/stan/speed.ts.
        for n in args[1:]:
            try:
                print(json.dumps({"name": n, "seconds": stan_gradient_seconds(n, 7)}), flush=True)
            except Exception as e:
                print(json.dumps({"name": n, "error": f"{type(e).__name__}: {e}"[:300]}), flush=True)
    else:
        for n in args or DEFAULT:
            freeze(n)
