"""scikit-learn BayesianGaussianMixture on the 2-D mixture written by bench/vi/cavi-gmm.ts, its peer.
Usage: cavi_gmm.py DATA.json. For full/diag covariance x Dirichlet / Dirichlet-process weights,
prints JSON: wall time of fit, iterations, lower_bound_ (scikit-learn omits constants), mean
log-likelihood under the plug-in posterior means (score), ARI against the true labels."""
import json
import sys
import time

import numpy as np
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import BayesianGaussianMixture

spec = json.load(open(sys.argv[1]))
x = np.array(spec["x"]).reshape(-1, spec["d"])
truth = np.array(spec["labels"])
out = []
for cov in ["full", "diag"]:
    for prior in ["dirichlet_distribution", "dirichlet_process"]:
        m = BayesianGaussianMixture(n_components=spec["k"], covariance_type=cov, weight_concentration_prior_type=prior,
                                    max_iter=100, random_state=0)
        times = []
        for _ in range(3):  # median of 3 fits, as the varinf side
            t0 = time.perf_counter()
            m.fit(x)
            times.append(time.perf_counter() - t0)
        wall = sorted(times)[1]
        out.append({"covariance": cov, "prior": "dirichlet" if prior == "dirichlet_distribution" else "dirichlet-process",
                    "wall_s": wall, "iterations": int(m.n_iter_), "bound": float(m.lower_bound_),
                    "mean_loglik": float(m.score(x)), "ari": float(adjusted_rand_score(truth, m.predict(x)))})
print(json.dumps(out))
