"""The kernel benchmarks of bench/run.ts in NumPy, run by it in the same process tree.

Reads a JSON config from argv[1] ({"sizes": [...], "elementwise": n, "small": n, "budget": s})
and prints one JSON object: matmul GFLOP/s by dtype and size, 1M-element add and copy in GB/s,
and the cost of one small add in nanoseconds. Timings are the best of repeated short batches (about 2 ms
each), as in bench/kernels/timing.ts.
"""

import json
import os
import sys
import time

import numpy as np


def time_it(fn, budget=0.3, min_batches=5):
    t = time.perf_counter()
    fn()
    dt = time.perf_counter() - t
    target = min(budget / 20, 0.002)
    batch = max(1, int(target / max(dt, 1e-9))) if dt < target else 1
    samples = []
    start = time.perf_counter()
    while not samples or (len(samples) < min_batches and dt < budget) or time.perf_counter() - start < budget:
        t = time.perf_counter()
        for _ in range(batch):
            fn()
        dt = time.perf_counter() - t
        samples.append(dt / batch)
        if dt > budget:
            break
    return min(samples)


def blas_name():
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]
        return f'{blas.get("name", "?")} {blas.get("version", "")}'.strip()
    except Exception:  # older NumPy: no dict mode
        return "unknown"


def main():
    cfg = json.loads(sys.argv[1])
    budget = cfg.get("budget", 0.3)
    rng = np.random.default_rng(0)
    out = {"version": np.__version__, "blas": blas_name(), "cpus": os.cpu_count(), "matmul": {}}
    for dt in ("float32", "float64"):
        res = {}
        for n in cfg["sizes"]:
            a = rng.standard_normal((n, n)).astype(dt)
            b = rng.standard_normal((n, n)).astype(dt)
            s = time_it(lambda: a @ b, budget)
            res[str(n)] = 2 * n**3 / s / 1e9
        out["matmul"][dt] = res
    n = cfg["elementwise"]
    a = rng.standard_normal(n).astype(np.float32)
    b = rng.standard_normal(n).astype(np.float32)
    c = np.empty_like(a)
    out["addGBs"] = 3 * 4 * n / time_it(lambda: np.add(a, b, out=c), budget) / 1e9
    out["addAllocGBs"] = 3 * 4 * n / time_it(lambda: a + b, budget) / 1e9
    out["copyGBs"] = 2 * 4 * n / time_it(lambda: np.copyto(c, a), budget) / 1e9
    k = cfg["small"]
    sa = rng.standard_normal(k)
    sb = rng.standard_normal(k)
    out["smallAddNs"] = time_it(lambda: sa + sb, budget) * 1e9
    print(json.dumps(out))


main()
