"""PyTorch peer of bench/vi/vae-mnist.ts: the same VAE / IWAE, data, schedule and evaluation.

Architecture (Burda et al. 2016, one stochastic layer): encoder 784-200-200 tanh with mean and
log-variance heads (50), log-variance clamped to [-10, 10]; decoder 50-200-200-784 tanh with
Bernoulli logits. Adam (lr 1e-3, betas 0.9/0.999, eps 1e-4), batch 100, dynamic binarization of the
training images (a new draw per epoch), PyTorch's default Linear initialization.

Reads the MNIST IDX files itself (plain or .gz) and the statically binarized test set that the
varinf bench writes (an IDX uint8 file), so both frameworks are scored on the same test images.
Prints one JSON line.

    python vae_torch.py --mnist DIR --test-bin FILE --objective elbo --k 1 --steps 3000
"""
import argparse
import gzip
import json
import math
import os
import struct
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    zero, code, ndim = struct.unpack(">HBB", raw[:4])
    assert zero == 0 and code == 0x08, f"{path}: not a uint8 IDX file"
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    data = torch.frombuffer(bytearray(raw[4 + 4 * ndim:]), dtype=torch.uint8)
    return data.reshape(dims)


class VAE(nn.Module):
    def __init__(self, x=784, h=200, z=50):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(x, h), nn.Tanh(), nn.Linear(h, h), nn.Tanh())
        self.mu = nn.Linear(h, z)
        self.lv = nn.Linear(h, z)
        self.dec = nn.Sequential(nn.Linear(z, h), nn.Tanh(), nn.Linear(h, h), nn.Tanh(), nn.Linear(h, x))
        self.z = z

    def terms(self, x, k, analytic):
        """log p(x|z) [k, B] and the per-example KL term [k, B] (closed form: [1, B])."""
        h = self.enc(x)
        mu, lv = self.mu(h), self.lv(h).clamp(-10, 10)
        eps = torch.randn(k, *mu.shape)
        z = mu + torch.exp(0.5 * lv) * eps
        logits = self.dec(z)
        logpx = -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").sum(-1)
        if analytic:
            kl = 0.5 * (mu.pow(2) + lv.exp() - lv - 1).sum(-1, keepdim=True).T
        else:
            logq = -0.5 * (math.log(2 * math.pi) + lv + eps.pow(2)).sum(-1)
            logp = -0.5 * (math.log(2 * math.pi) + z.pow(2)).sum(-1)
            kl = logq - logp
        return logpx, kl

    def loss(self, x, objective, k):
        if objective == "elbo":
            logpx, kl = self.terms(x, k, True)
            return (kl.mean() - logpx.mean())
        logpx, kl = self.terms(x, k, False)
        logw = logpx - kl
        return -(torch.logsumexp(logw, 0) - math.log(k)).mean()


@torch.no_grad()
def test_bound(model, x, k, batch=500):
    total = 0.0
    for s in range(0, x.shape[0], batch):
        xb = x[s:s + batch]
        if k == 1:
            logpx, kl = model.terms(xb, 1, True)
            total += (logpx - kl).sum().item()
        else:
            logpx, kl = model.terms(xb, k, False)
            total += (torch.logsumexp(logpx - kl, 0) - math.log(k)).sum().item()
    return total / x.shape[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mnist", required=True)
    ap.add_argument("--test-bin", required=True)
    ap.add_argument("--objective", default="elbo", choices=["elbo", "iwae"])
    ap.add_argument("--k", type=int, default=1)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.manual_seed(args.seed)

    find = lambda b: next(p for p in (os.path.join(args.mnist, b), os.path.join(args.mnist, b + ".gz")) if os.path.exists(p))
    train = read_idx(find("train-images-idx3-ubyte")).reshape(-1, 784).float() / 255.0
    test = read_idx(args.test_bin).reshape(-1, 784).float()
    model = VAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-4)
    n = train.shape[0]
    bpe = n // args.batch
    step = 0
    t_start = time.perf_counter()  # the whole loop is timed, data preparation included
    while step < args.steps:
        perm = torch.randperm(n)
        binar = torch.bernoulli(train)  # dynamic binarization: a fresh draw every epoch
        for i in range(bpe):
            if step >= args.steps:
                break
            x = binar[perm[i * args.batch:(i + 1) * args.batch]]
            loss = model.loss(x, args.objective, args.k)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
    t_train = time.perf_counter() - t_start
    out = {
        "framework": f"PyTorch {torch.__version__}",
        "threads": torch.get_num_threads(),
        "objective": args.objective,
        "k": args.k,
        "steps": args.steps,
        "images_per_s": args.steps * args.batch / t_train,
        "train_seconds": t_train,
        "test_elbo": test_bound(model, test, 1),
    }
    if args.objective == "iwae":
        out["test_bound_k"] = test_bound(model, test, args.k, batch=100)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
