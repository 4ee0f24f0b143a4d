"""Reads varinf's ArviZ exports back with ArviZ and runs what a user would: az.loo on each,
az.compare across them, and az.plot_ppc (saved as PNG). Prints one JSON line for bench/vi/arviz-export.ts.

Run: bench/peers/.venv/bin/python bench/peers/arviz_check.py OUT_DIR NAME=PATH [NAME=PATH ...]
(bash bench/peers/setup-arviz.sh installs ArviZ into bench/peers/.venv)
"""
import json
import sys
import warnings

import matplotlib

matplotlib.use("Agg")
import arviz as az  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

warnings.filterwarnings("ignore")
out_dir = sys.argv[1]
fits = dict(a.split("=", 1) for a in sys.argv[2:])
result = {"arviz": az.__version__, "fits": {}}
idatas = {}
for name, path in fits.items():
    with open(path) as f:
        idata = az.from_dict(**json.load(f))
    idatas[name] = idata
    loo = az.loo(idata, pointwise=True)
    pp = idata.posterior_predictive["obs"]
    result["fits"][name] = {
        "groups": sorted(idata.groups()),
        "obs_dims": list(pp.dims),
        "elpd_loo": float(loo.elpd_loo),
        "se": float(loo.se),
        "p_loo": float(loo.p_loo),
        "max_khat": float(loo.pareto_k.max()),
    }
    ax = az.plot_ppc(idata, num_pp_samples=100, random_seed=0)
    png = f"{out_dir}/ppc-{name}.png"
    plt.gcf().savefig(png, dpi=80)
    plt.close("all")
    result["fits"][name]["ppc_png"] = png
if len(idatas) > 1:
    cmp = az.compare(idatas)
    result["compare"] = {k: {"rank": int(cmp.loc[k, "rank"]), "elpd_loo": float(cmp.loc[k, "elpd_loo"]), "weight": float(cmp.loc[k, "weight"])} for k in cmp.index}
print(json.dumps(result))
