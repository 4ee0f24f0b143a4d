"""PyTorch's figures for the CUDA benchmarks of verify.ts, on the same GPU in the same run.

GEMM at VAE shapes (float32 with TF32 off, then on; then bfloat16: float32 tensors rounded per call
as varinf's 'bf16' precision does, and tensors already stored in bfloat16), a 64M-element mul/exp and the reparameterized sample in GB/s against a
device copy, SVGD's direction at two sizes, and one small op's cost from Python (queued, and with a sync round trip).
Prints one line per figure and a JSON line last.
"""
import json
import math
import time

import torch


def timed(fn, iters, reps=5):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        s = time.perf_counter()
        for _ in range(iters):
            fn()
        torch.cuda.synchronize()
        ts.append((time.perf_counter() - s) / iters)
    ts.sort()
    return ts[len(ts) // 2] * 1e3  # ms


def svgd_phi(x, g):
    """SVGD's direction as a PyTorch user writes it: squared distances by the Gram matrix, the
    median heuristic over all n² entries (the mean of the two middle values, as varinf), the RBF
    kernel, and phi = (K g + (2/h)(x · rowsum K − K x)) / n."""
    n = x.shape[0]
    sq = (x * x).sum(1)
    dist = (sq[:, None] + sq[None, :] - 2 * x @ x.T).clamp_min(0)
    s = dist.flatten().sort().values
    m = s.numel() // 2
    med = s[m] if s.numel() % 2 == 1 else 0.5 * (s[m - 1] + s[m])
    h = med / math.log(n + 1)
    k = torch.exp(-dist / h)
    return (k @ g + (2 / h) * (x * k.sum(1, keepdim=True) - k @ x)) / n


def main():
    dev = torch.device("cuda")
    out = {"torch": torch.__version__, "device": torch.cuda.get_device_name(0)}
    print(f"torch {torch.__version__} on {out['device']}")
    for tf32 in (False, True):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        for m, k, n in ((128, 784, 512), (512, 784, 512), (1024, 784, 512)):
            a = torch.randn(m, k, device=dev)
            b = torch.randn(k, n, device=dev)
            ms = timed(lambda: torch.matmul(a, b), 200)
            tf = 2 * m * k * n / (ms * 1e-3) / 1e12
            key = f"gemm_{'tf32' if tf32 else 'fp32'}_{m}x{k}x{n}"
            out[key] = tf
            print(f"  {key}: {ms * 1000:.1f} us, {tf:.1f} TFLOP/s")
    torch.backends.cuda.matmul.allow_tf32 = False
    for m, k, n in ((128, 784, 512), (512, 784, 512), (1024, 784, 512)):
        a = torch.randn(m, k, device=dev)
        b = torch.randn(k, n, device=dev)
        a16, b16 = a.bfloat16(), b.bfloat16()
        ms = timed(lambda: torch.matmul(a.bfloat16(), b.bfloat16()).float(), 200)
        ms16 = timed(lambda: torch.matmul(a16, b16), 200)
        for key, t in ((f"gemm_bf16_{m}x{k}x{n}", ms), (f"gemm_bf16stored_{m}x{k}x{n}", ms16)):
            out[key] = 2 * m * k * n / (t * 1e-3) / 1e12
            print(f"  {key}: {t * 1000:.1f} us, {out[key]:.1f} TFLOP/s")
    n = 64 * 2**20
    x = torch.randn(n, device=dev)
    y = torch.randn(n, device=dev)
    o = torch.empty(n, device=dev)
    ms_mul = timed(lambda: torch.mul(x, y, out=o), 20)
    ms_exp = timed(lambda: torch.exp(x, out=o), 20)
    ms_copy = timed(lambda: o.copy_(x), 20)
    out["mul_64M_GBs"] = 3 * n * 4 / (ms_mul * 1e-3) / 1e9
    out["exp_64M_GBs"] = 2 * n * 4 / (ms_exp * 1e-3) / 1e9
    out["copy_64M_GBs"] = 2 * n * 4 / (ms_copy * 1e-3) / 1e9
    print(f"  mul 64M: {ms_mul:.3f} ms, {out['mul_64M_GBs']:.0f} GB/s; exp: {out['exp_64M_GBs']:.0f} GB/s; copy: {out['copy_64M_GBs']:.0f} GB/s")
    # Reductions: a full sum and row sums of [8192, 8192] (varinf's are its own kernels, not CUB).
    s0 = torch.empty((), device=dev)
    rows = torch.empty(8192, device=dev)
    ms_sum = timed(lambda: torch.sum(x, out=s0), 20)
    ms_rows = timed(lambda: torch.sum(x.view(8192, 8192), 1, out=rows), 20)
    out["sum_64M_GBs"] = n * 4 / (ms_sum * 1e-3) / 1e9
    out["rowsum_8192x8192_GBs"] = n * 4 / (ms_rows * 1e-3) / 1e9
    print(f"  sum 64M: {out['sum_64M_GBs']:.0f} GB/s; row sums [8192, 8192]: {out['rowsum_8192x8192_GBs']:.0f} GB/s")
    # The reparameterized sample and its log-density as PyTorch code writes it (randn, then the
    # elementwise chain), counted as varinf's fused kernel's traffic: read loc and log-scale, write z and log q.
    loc, ls = x, y
    c = 0.5 * math.log(2 * math.pi)

    def reparam():
        eps = torch.randn(n, device=dev)
        return loc + torch.exp(ls) * eps, -0.5 * eps * eps - ls - c

    ms_rep = timed(reparam, 20)
    out["reparam_64M_GBs"] = 4 * n * 4 / (ms_rep * 1e-3) / 1e9
    print(f"  reparameterized sample + log q 64M (randn + chain): {ms_rep:.3f} ms, {out['reparam_64M_GBs']:.0f} GB/s-equivalent")
    del x, y, o
    for sn, sd in ((1000, 100), (4096, 1000)):
        px = torch.randn(sn, sd, device=dev) * 0.5
        pg = torch.randn(sn, sd, device=dev)
        ms_svgd = timed(lambda: svgd_phi(px, pg), 10 if sn > 2000 else 50)
        out[f"svgd_{sn}x{sd}_ms"] = ms_svgd
        print(f"  svgd phi n={sn} d={sd} (straightforward PyTorch): {ms_svgd:.3f} ms")
    a = torch.randn(16, device=dev)
    b = torch.randn(16, device=dev)
    out["small_add_queued_us"] = timed(lambda: torch.add(a, b), 20000) * 1000
    out["small_add_roundtrip_us"] = timed(lambda: torch.add(a, b).cpu(), 2000) * 1000
    print(f"  add [16] queued: {out['small_add_queued_us']:.2f} us/op; with .cpu() round trip: {out['small_add_roundtrip_us']:.2f} us")
    print("TORCH_JSON " + json.dumps(out))


if __name__ == "__main__":
    main()
