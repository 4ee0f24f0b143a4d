"""Freezes NumPy's dense linear algebra for the Stan front end's matrix functions
(ts/stan/matrix-functions.ts) into test/fixtures/stan/linalg.json.

Run: .venv-golden/bin/python scripts/golden/stan_linalg.py   (needs numpy)

Eigenvectors are stored with each column's largest-magnitude entry made positive (their sign is
arbitrary); the test normalizes varinf's the same way.
"""
import json
import pathlib

import numpy as np

OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "fixtures" / "stan" / "linalg.json"
rng = np.random.default_rng(20261207)
n = 4
G = rng.normal(size=(n, n))
X = rng.normal(size=(n, n))
A = X @ X.T + n * np.eye(n)
b = rng.normal(size=n)
B = rng.normal(size=(2, n))
v = rng.normal(size=6)
w, V = np.linalg.eigh(A)
V = V * np.sign(V[np.abs(V).argmax(axis=0), range(n)])
out = {
    "numpy": np.__version__,
    "G": G.tolist(), "A": A.tolist(), "b": b.tolist(), "B": B.tolist(), "v": v.tolist(),
    "inverse_G": np.linalg.inv(G).tolist(),
    "inverse_spd_A": np.linalg.inv(A).tolist(),
    "mdivide_left_G_b": np.linalg.solve(G, b).tolist(),
    "mdivide_right_B_G": (B @ np.linalg.inv(G)).tolist(),
    "mdivide_left_spd_A_b": np.linalg.solve(A, b).tolist(),
    "mdivide_right_spd_B_A": (B @ np.linalg.inv(A)).tolist(),
    "eigenvalues_sym_A": w.tolist(),
    "eigenvectors_sym_A": V.tolist(),
    "sort_asc_v": np.sort(v).tolist(),
    "sort_desc_v": np.sort(v)[::-1].tolist(),
    "sort_indices_asc_v": (np.argsort(v, kind="stable") + 1).tolist(),
    "sort_indices_desc_v": (np.argsort(-v, kind="stable") + 1).tolist(),
    "rank_v_3": int((v < v[2]).sum()),
}
OUT.write_text(json.dumps(out, indent=1) + "\n")
print(f"wrote {OUT}")
