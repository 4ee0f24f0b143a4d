"""scikit-learn LatentDirichletAllocation on AssociatedPress, the peer of bench/vi/cavi-lda.ts.
Usage: cavi_lda.py DATA_DIR K EPOCHS HELDOUT. Trains on the first D - HELDOUT documents, batch and
online (batch size 128, learning_offset 10, learning_decay 0.7, the defaults), and prints JSON:
wall time of fit, iterations, and sklearn's perplexity (exp(-bound / tokens), bound including the
topic term) on the training and held-out documents, with the bound itself."""
import json
import sys
import time

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.decomposition import LatentDirichletAllocation

data, k, epochs, heldout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
raw = np.loadtxt(f"{data}/ap_triplets.txt", skiprows=1, dtype=np.int64)
with open(f"{data}/ap_triplets.txt") as f:
    nd, nv, _ = map(int, f.readline().split())
x = csr_matrix((raw[:, 2].astype(np.float64), (raw[:, 0] - 1, raw[:, 1] - 1)), shape=(nd, nv))
ntrain = nd - heldout
xtr, xte = x[:ntrain], x[ntrain:]
out = []
for method in ["batch", "online"]:
    lda = LatentDirichletAllocation(n_components=k, max_iter=epochs, learning_method=method, batch_size=128, random_state=0)
    t0 = time.perf_counter()
    lda.fit(xtr)
    wall = time.perf_counter() - t0
    ptr = lda.perplexity(xtr)
    pte = lda.perplexity(xte)
    out.append({
        "method": method, "wall_s": wall, "iterations": int(lda.n_iter_),
        "train_perplexity": ptr, "heldout_perplexity": pte,
        "train_elbo": -np.log(ptr) * xtr.sum(), "heldout_elbo": -np.log(pte) * xte.sum(),
    })
print(json.dumps(out))
