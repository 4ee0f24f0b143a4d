"""hmmlearn peer of bench/vi/cavi-hmm.ts, and the source of its real sequence data.

  cavi_hmm.py --dump OUT.json   writes the real sequences (both sides fit the same ones):
    text:     the English text of scikit-learn's bundled dataset descriptions
              (sklearn/datasets/descr/*.rst, one sequence per file, sorted by name), lowercased,
              a-z -> 0..25, every run of other characters -> 26 (27 symbols);
    macro:    statsmodels' macrodata (US quarterly 1959Q1-2009Q3): annualized real-GDP growth
              (400 diff log realgdp), inflation (infl), unemployment rate (unemp), 202 x 3;
    sunspots: statsmodels' yearly sunspot numbers 1700-2008, 309 x 1.
  cavi_hmm.py TASKS.json        fits each task with VariationalCategoricalHMM / VariationalGaussianHMM
    (hmmlearn defaults: priors 1/K, 1/M, beta 1, dof D, scale 1e-3 I, means prior = data mean),
    n_iter and tol as given, random_state 0; wall time = median of 3 fits. Prints JSON with the
    iterations, the final lower bound (monitor_.history[-1]) and the posterior-mean parameters.
"""
import json
import sys
import time
from pathlib import Path

import numpy as np


def dump(out):
    import sklearn
    import statsmodels
    import statsmodels.api as sm

    descr = sorted((Path(sklearn.__file__).parent / "datasets" / "descr").glob("*.rst"))
    text = []
    for f in descr:
        seq, prev_other = [], False
        for ch in f.read_text(encoding="utf-8").lower():
            if "a" <= ch <= "z":
                seq.append(ord(ch) - 97)
                prev_other = False
            elif not prev_other:
                seq.append(26)
                prev_other = True
        text.append(seq)
    m = sm.datasets.macrodata.load_pandas().data
    gdp = 400 * np.diff(np.log(m["realgdp"].to_numpy()))
    macro = np.column_stack([gdp, m["infl"].to_numpy()[1:], m["unemp"].to_numpy()[1:]])
    sun = sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy()
    json.dump({"text": text, "text_files": [f.name for f in descr], "macro": macro.ravel().tolist(),
               "sunspots": sun.tolist(), "sklearn": sklearn.__version__, "statsmodels": statsmodels.__version__},
              open(out, "w"))
    print(json.dumps({"ok": True}))


def fit(path):
    from hmmlearn.vhmm import VariationalCategoricalHMM, VariationalGaussianHMM

    tasks = json.load(open(path))
    out = []
    for t in tasks:
        lengths = t["lengths"]
        if t["emission"] == "categorical":
            X = np.array(t["x"], dtype=int).reshape(-1, 1)
            make = lambda: VariationalCategoricalHMM(n_components=t["k"], n_features=t["m"], n_iter=t["max_iter"], tol=t["tol"], random_state=0)
        else:
            X = np.array(t["x"], dtype=float).reshape(-1, t["d"])
            make = lambda: VariationalGaussianHMM(n_components=t["k"], covariance_type=t["covariance"], n_iter=t["max_iter"], tol=t["tol"], random_state=0)
        times = []
        for _ in range(3):
            m = make()
            t0 = time.perf_counter()
            m.fit(X, lengths)
            times.append(time.perf_counter() - t0)
        r = {"name": t["name"], "wall_s": sorted(times)[1], "iterations": int(m.monitor_.iter),
             "bound": float(m.monitor_.history[-1]), "startprob": m.startprob_.tolist(), "transmat": m.transmat_.ravel().tolist(),
             "score": float(m.score(X, lengths))}
        if t["emission"] == "categorical":
            r["emissionprob"] = m.emissionprob_.ravel().tolist()
        else:
            r["means"] = m.means_.ravel().tolist()
            cov = m.covars_
            r["covars"] = (cov if t["covariance"] == "full" else np.array([np.diag(c) for c in cov])).ravel().tolist()
        out.append(r)
    print(json.dumps(out))


if __name__ == "__main__":
    if sys.argv[1] == "--dump":
        dump(sys.argv[2])
    else:
        fit(sys.argv[1])
