"""NumPy's side of bench/kernels/gemm.ts: square `a @ b` per dtype and size, in the same run.

Reads a JSON config from argv[1] ({"sizes": [...], "budget": seconds per product, "layer": [[label,
m, n, k, transA, transB], ...]}) and prints one JSON object: NumPy's version, its BLAS (name,
version and, for OpenBLAS, the kernel set it picked for this CPU at load time), and for each dtype
and size (or layer label) the fastest call in seconds. A transposed operand is a `.T` view, which
NumPy hands to the BLAS as a transpose flag, as varinf's transA/transB do. Timings are the
fastest of repeated short batches (about 2 ms each), as in bench/kernels/timing.ts.
"""

import ctypes
import glob
import json
import os
import sys
import time

import numpy as np


def time_it(fn, budget):
    t = time.perf_counter()
    fn()
    dt = time.perf_counter() - t
    target = min(budget / 20, 0.002)
    batch = max(1, int(target / max(dt, 1e-9))) if dt < target else 1
    best = float("inf")
    start = time.perf_counter()
    runs = 0
    while runs < 3 or time.perf_counter() - start < budget:
        t = time.perf_counter()
        for _ in range(batch):
            fn()
        best = min(best, (time.perf_counter() - t) / batch)
        runs += 1
    return best


def blas():
    """The BLAS NumPy was built with, and OpenBLAS's runtime kernel choice where it reports one."""
    try:
        dep = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        name = f'{dep.get("name", "?")} {dep.get("version", "")}'.strip()
    except Exception:  # older NumPy: no dict mode
        name = "unknown"
    core = None
    libdir = os.path.join(os.path.dirname(np.__file__), "..", "numpy.libs")
    for path in glob.glob(os.path.join(libdir, "*openblas*")):
        lib = ctypes.CDLL(path)
        for sym in ("scipy_openblas_get_corename64_", "openblas_get_corename64_", "openblas_get_corename"):
            if hasattr(lib, sym):
                f = getattr(lib, sym)
                f.restype = ctypes.c_char_p
                core = f().decode()
                break
    return name, core


def main():
    cfg = json.loads(sys.argv[1])
    rng = np.random.default_rng(0)
    name, core = blas()
    out = {"version": np.__version__, "blas": name, "core": core, "seconds": {}}
    for dt in ("float32", "float64"):
        res = {}
        for n in cfg["sizes"]:
            a = rng.uniform(-1, 1, (n, n)).astype(dt)
            b = rng.uniform(-1, 1, (n, n)).astype(dt)
            res[str(n)] = time_it(lambda: a @ b, cfg["budget"])
        for label, m, n, k, ta, tb in cfg.get("layer", []):
            a = rng.uniform(-1, 1, (k, m) if ta else (m, k)).astype(dt)
            b = rng.uniform(-1, 1, (n, k) if tb else (k, n)).astype(dt)
            oa = a.T if ta else a
            ob = b.T if tb else b
            res[label] = time_it(lambda: oa @ ob, cfg["budget"])
        out["seconds"][dt] = res
    print(json.dumps(out))


main()
