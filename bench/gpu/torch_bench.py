"""PyTorch's figures for the CUDA benchmarks of verify.ts, on the same GPU in the same run.

GEMM at VAE shapes (float32 with TF32 off, then on), a 64M-element mul/exp in GB/s against a
device copy, and one small op's cost from Python (queued, and with a sync round trip).
Prints one line per figure and a JSON line last.
"""
import json
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
    a = torch.randn(16, device=dev)
    b = torch.randn(16, device=dev)
    out["small_add_queued_us"] = timed(lambda: torch.add(a, b), 20000) * 1000
    out["small_add_roundtrip_us"] = timed(lambda: torch.add(a, b).cpu(), 2000) * 1000
    print(f"  add [16] queued: {out['small_add_queued_us']:.2f} us/op; with .cpu() round trip: {out['small_add_roundtrip_us']:.2f} us")
    print("TORCH_JSON " + json.dumps(out))


if __name__ == "__main__":
    main()
