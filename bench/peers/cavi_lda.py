"""scikit-learn LatentDirichletAllocation on AssociatedPress, the peer of bench/vi/cavi-lda.ts.
Usage: cavi_lda.py DATA_DIR K EPOCHS HELDOUT [OUT_DIR]. Trains on the first D - HELDOUT documents,
batch and online (batch size 128, learning_offset 10, learning_decay 0.7, the defaults; n_jobs
default = one process), and prints JSON per method: wall time of fit, iterations, and on scikit-learn's
own evaluation
  - perplexity (exp(-bound / tokens), the bound including the topic term) on the training and
    held-out documents, with the bound itself;
  - held-out perplexity of the per-document bound only (the same bound minus the topic term
    E[log p(beta) - log q(beta)], computed here from components_ as sklearn's _loglikelihood does);
  - document completion: each held-out document's non-zeros with an even term index are observed,
    theta = transform(observed) (normalized), and the perplexity of the odd-index non-zeros is
    exp(-sum n log(theta . beta_bar_w) / sum n), beta_bar = components_ normalized per topic.
With OUT_DIR, components_ (K x V, float64 little-endian) is written to OUT_DIR/sklearn_METHOD.f64 so
that bench/vi/cavi-lda.ts can evaluate scikit-learn's topics with varinf's evaluator too.
With --seeds N (and no OUT_DIR): the online method only, once per random_state 0..N-1, one row each."""
import json
import sys
import time

import numpy as np
from scipy.sparse import csr_matrix
from scipy.special import gammaln, psi
from sklearn.decomposition import LatentDirichletAllocation

argv = sys.argv[1:]
seeds = None
if "--seeds" in argv:
    i = argv.index("--seeds")
    seeds = int(argv[i + 1])
    del argv[i : i + 2]
data, k, epochs, heldout = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
out_dir = argv[4] if len(argv) > 4 else None
raw = np.loadtxt(f"{data}/ap_triplets.txt", skiprows=1, dtype=np.int64)
with open(f"{data}/ap_triplets.txt") as f:
    nd, nv, _ = map(int, f.readline().split())
x = csr_matrix((raw[:, 2].astype(np.float64), (raw[:, 0] - 1, raw[:, 1] - 1)), shape=(nd, nv))
x.sum_duplicates()
ntrain = nd - heldout
xtr, xte = x[:ntrain], x[ntrain:]
coo = xte.tocoo()
even = coo.col % 2 == 0
x_obs = csr_matrix((coo.data[even], (coo.row[even], coo.col[even])), shape=xte.shape)
ev_r, ev_c, ev_n = coo.row[~even], coo.col[~even], coo.data[~even]


def topic_term(lda):
    lam = lda.components_
    eta = lda.topic_word_prior_
    elog = psi(lam) - psi(lam.sum(1))[:, None]
    return np.sum((eta - lam) * elog) + np.sum(gammaln(lam) - gammaln(eta)) + np.sum(gammaln(eta * nv) - gammaln(lam.sum(1)))


out = []
runs = [(m, 0) for m in ["batch", "online"]] if seeds is None else [("online", s) for s in range(seeds)]
for method, seed in runs:
    lda = LatentDirichletAllocation(n_components=k, max_iter=epochs, learning_method=method, batch_size=128, random_state=seed)
    t0 = time.perf_counter()
    lda.fit(xtr)
    wall = time.perf_counter() - t0
    ptr = lda.perplexity(xtr)
    pte = lda.perplexity(xte)
    ntok = xte.sum()
    doc_only = -np.log(pte) * ntok - topic_term(lda)
    theta = lda.transform(x_obs)
    beta = lda.components_ / lda.components_.sum(1)[:, None]
    p = np.einsum("ik,ki->i", theta[ev_r], beta[:, ev_c])
    completion = float(np.exp(-np.sum(ev_n * np.log(p)) / ev_n.sum()))
    if out_dir:
        lda.components_.astype("<f8").tofile(f"{out_dir}/sklearn_{method}.f64")
    out.append({
        "method": method, "seed": seed, "wall_s": wall, "iterations": int(lda.n_iter_),
        "train_perplexity": ptr, "heldout_perplexity": pte,
        "train_elbo": -np.log(ptr) * xtr.sum(), "heldout_elbo": -np.log(pte) * ntok,
        "heldout_doc_perplexity": float(np.exp(-doc_only / ntok)), "completion_perplexity": completion,
    })
print(json.dumps(out))
