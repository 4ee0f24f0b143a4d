"""PyTorch's figures for bench/vi/svgd.ts: SVGD's update direction as a PyTorch user writes it,
timed on the CPU (or --device cuda) at the sizes given, float32 and float64, inputs drawn the same
way as the varinf side (a fixed deterministic fill, so both compute on the same numbers).

Prints a JSON line last: {"framework": "torch <version>", "threads": N, "rows": [{n, d, dtype, ms, ms_lower_median, phi_checksum, h}]}.
"""
import argparse
import json
import math
import time

import torch


def svgd_phi(x, g, lower_median=False):
    """Squared distances by the Gram matrix, the median heuristic over all n² entries (the mean of
    the two middle values, as varinf, by a sort; or torch.median's lower middle value by selection
    with lower_median), the RBF kernel, phi = (K g + (2/h)(x·rowsum K − K x)) / n."""
    n = x.shape[0]
    sq = (x * x).sum(1)
    dist = (sq[:, None] + sq[None, :] - 2 * x @ x.T).clamp_min(0)
    if lower_median:
        med = dist.median()
    else:
        s = dist.flatten().sort().values
        m = s.numel() // 2
        med = s[m] if s.numel() % 2 == 1 else 0.5 * (s[m - 1] + s[m])
    h = med / math.log(n + 1)
    k = torch.exp(-dist / h)
    return (k @ g + (2 / h) * (x * k.sum(1, keepdim=True) - k @ x)) / n, h


def fill(n, d, a, dtype, dev):
    """sin(a·(i + 1)) for the flat index i: the same numbers as bench/vi/svgd.ts."""
    i = torch.arange(n * d, dtype=torch.float64)
    return torch.sin(a * (i + 1)).reshape(n, d).to(dtype).to(dev)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="1000x100,4096x1000")
    p.add_argument("--device", default="cpu")
    p.add_argument("--reps", type=int, default=5)
    a = p.parse_args()
    dev = torch.device(a.device)
    rows = []
    for size in a.sizes.split(","):
        n, d = (int(v) for v in size.split("x"))
        for dtype in (torch.float32, torch.float64):
            x = fill(n, d, 0.37, dtype, dev)
            g = fill(n, d, 1.3, dtype, dev)
            def timed(lower):
                phi, h = svgd_phi(x, g, lower)
                ts = []
                for _ in range(a.reps):
                    if dev.type == "cuda":
                        torch.cuda.synchronize()
                    s = time.perf_counter()
                    phi, h = svgd_phi(x, g, lower)
                    if dev.type == "cuda":
                        torch.cuda.synchronize()
                    ts.append(time.perf_counter() - s)
                ts.sort()
                return ts[len(ts) // 2] * 1e3, phi, h

            ms, phi, h = timed(False)
            ms_lower, _, _ = timed(True)
            rows.append({"n": n, "d": d, "dtype": str(dtype).split(".")[-1], "ms": ms, "ms_lower_median": ms_lower,
                         "phi_checksum": float(phi.double().abs().sum()), "h": float(h)})
            print(f"  torch n={n} d={d} {rows[-1]['dtype']}: {ms:.2f} ms (sort median), {ms_lower:.2f} ms (torch.median)", flush=True)
    print(json.dumps({"framework": f"torch {torch.__version__}", "threads": torch.get_num_threads(), "rows": rows}))


if __name__ == "__main__":
    main()
