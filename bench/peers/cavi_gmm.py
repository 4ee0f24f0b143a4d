"""scikit-learn BayesianGaussianMixture on the 2-D mixture written by bench/vi/cavi-gmm.ts, its peer.
Usage: cavi_gmm.py DATA.json. For full/diag covariance x Dirichlet / Dirichlet-process weights,
prints JSON: wall time of fit, iterations, lower_bound_ (scikit-learn omits constants), mean
log-likelihood under the plug-in posterior means (score), ARI against the true labels, and the
fitted posterior's parameters (for varinf's bayesGmmElbo: the ELBO with all constants).

PCA-reduced MNIST (the bench's second table):
  cavi_gmm.py --mnist-pca IDX_DIR OUT NCOMP: reads the 60,000 training images (IDX, pixels / 255),
    centers them and projects on the top NCOMP eigenvectors of the sample covariance (numpy eigh;
    each eigenvector's sign fixed so that its largest-magnitude loading is positive); writes OUT.x
    (N x NCOMP float64 little-endian) and OUT.labels (uint8) and prints {"n", "d", "explained"}.
  cavi_gmm.py --mnist-fit OUT K MAXITER [COVS [SEEDS]]: BayesianGaussianMixture (full and diag, or COVS e.g. 'diag', Dirichlet weights,
    (weight_concentration_prior_type="dirichlet_distribution", as varinf: scikit-learn's default is the process;
    defaults otherwise: kmeans init, tol 1e-3, reg_covar 1e-6) on that matrix, one fit each (random_state 0), or one per random_state 0..SEEDS-1;
    prints JSON rows as above."""
import json
import sys
import time

import numpy as np
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import BayesianGaussianMixture



def posterior(m):
    """The fitted q(pi, mu, Lambda) in varinf's parametrization (bayesGmmElbo): W^-1 = covariances_ * nu."""
    wc = m.weight_concentration_
    conc = np.concatenate(wc) if isinstance(wc, tuple) else wc
    nu = m.degrees_of_freedom_
    scale = nu[:, None, None] if m.covariance_type == "full" else nu[:, None]
    return {"concentration": conc.tolist(), "beta": m.mean_precision_.tolist(), "m": m.means_.ravel().tolist(),
            "nu": nu.tolist(), "winv": (m.covariances_ * scale).ravel().tolist()}


def read_idx(path):
    with open(path, "rb") as f:
        buf = f.read()
    ndim = buf[3]
    dims = [int.from_bytes(buf[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(buf, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


if sys.argv[1] == "--mnist-pca":
    idx, out, ncomp = sys.argv[2], sys.argv[3], int(sys.argv[4])
    img = read_idx(f"{idx}/train-images-idx3-ubyte").reshape(60000, -1).astype(np.float64) / 255
    lab = read_idx(f"{idx}/train-labels-idx1-ubyte")
    xc = img - img.mean(0)
    w, v = np.linalg.eigh(xc.T @ xc / (len(xc) - 1))
    order = np.argsort(w)[::-1][:ncomp]
    v = v[:, order]
    v *= np.sign(v[np.abs(v).argmax(0), np.arange(ncomp)])
    (xc @ v).astype("<f8").tofile(f"{out}.x")
    lab.astype(np.uint8).tofile(f"{out}.labels")
    print(json.dumps({"n": len(xc), "d": ncomp, "explained": float(w[order].sum() / w.sum())}))
    sys.exit(0)

if sys.argv[1] == "--mnist-fit":
    out, k, max_iter = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    truth = np.fromfile(f"{out}.labels", dtype=np.uint8)
    x = np.fromfile(f"{out}.x", dtype="<f8").reshape(len(truth), -1)
    seeds = int(sys.argv[6]) if len(sys.argv) > 6 else 1
    rows = []
    for cov, seed in [(c, s) for c in (sys.argv[5].split(",") if len(sys.argv) > 5 else ["full", "diag"]) for s in range(seeds)]:
        m = BayesianGaussianMixture(n_components=k, covariance_type=cov, weight_concentration_prior_type="dirichlet_distribution",
                                    max_iter=max_iter, random_state=seed)
        t0 = time.perf_counter()
        m.fit(x)
        wall = time.perf_counter() - t0
        rows.append({"covariance": cov, "prior": "dirichlet", "seed": seed, "wall_s": wall, "iterations": int(m.n_iter_), "bound": float(m.lower_bound_),
                     "mean_loglik": float(m.score(x)), "ari": float(adjusted_rand_score(truth, m.predict(x))), "posterior": posterior(m)})
    print(json.dumps(rows))
    sys.exit(0)

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
                    "mean_loglik": float(m.score(x)), "ari": float(adjusted_rand_score(truth, m.predict(x))), "posterior": posterior(m)})
print(json.dumps(out))
