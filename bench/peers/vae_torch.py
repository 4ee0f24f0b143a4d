"""PyTorch peer of bench/vi/vae-mnist.ts: the same VAE / IWAE, data, schedule and evaluation.

Architecture (Burda et al. 2016, one stochastic layer): encoder 784-200-200 tanh with mean and
log-variance heads (50), log-variance clamped to [-10, 10]; decoder 50-200-200-784 tanh with
Bernoulli logits. Adam (lr 1e-3, betas 0.9/0.999, eps 1e-4), batch 100, dynamic binarization of the
training images (a new draw per epoch), PyTorch's default Linear initialization.

Reads the MNIST IDX files itself (plain or .gz) and the statically binarized test set that the
varinf bench writes (an IDX uint8 file), so both frameworks are scored on the same test images.
Prints one JSON line.

--replay DIR (the bench's --paired mode) takes varinf's draws instead of PyTorch's: the initial
parameters (DIR/init.<name>.f32, float32, PyTorch's layout), the binarized training batches of
every step (DIR/x.u8, steps x batch x 784) and the reparameterization noise of every step
(DIR/eps.f32, steps x k x batch x 50), and the noise of the test ELBO (DIR/test_eps.f32, one row
per test image); shapes in DIR/manifest.json. With the same inputs the two
implementations run the same computation, so their test ELBOs differ only by float32 rounding
(and the one-sample test noise), not by seed-to-seed variation.

    python vae_torch.py --mnist DIR --test-bin FILE --objective elbo --k 1 --steps 3000 [--replay DIR]
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

    def terms(self, x, k, analytic, eps=None):
        """log p(x|z) [k, B] and the per-example KL term [k, B] (closed form: [1, B]); eps [k, B, z] or drawn here."""
        h = self.enc(x)
        mu, lv = self.mu(h), self.lv(h).clamp(-10, 10)
        if eps is None:
            eps = torch.randn(k, *mu.shape, device=mu.device)
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

    def loss(self, x, objective, k, eps=None):
        if objective == "elbo":
            logpx, kl = self.terms(x, k, True, eps)
            return (kl.mean() - logpx.mean())
        logpx, kl = self.terms(x, k, False, eps)
        logw = logpx - kl
        return -(torch.logsumexp(logw, 0) - math.log(k)).mean()


@torch.no_grad()
def test_bound(model, x, k, batch=500, eps=None):
    """Mean bound per test image; eps [n, z] (k = 1 only) replaces the noise draws."""
    total = 0.0
    for s in range(0, x.shape[0], batch):
        xb = x[s:s + batch]
        if k == 1:
            logpx, kl = model.terms(xb, 1, True, None if eps is None else eps[None, s:s + batch])
            total += (logpx - kl).sum().item()
        else:
            logpx, kl = model.terms(xb, k, False)
            total += (torch.logsumexp(logpx - kl, 0) - math.log(k)).sum().item()
    return total / x.shape[0]


def read_f32(path, shape):
    return torch.frombuffer(bytearray(open(path, "rb").read()), dtype=torch.float32).reshape(shape)


class Replay:
    """varinf's draws from the bench's --paired mode: initial parameters, batches and noise per step."""

    def __init__(self, d):
        man = json.load(open(os.path.join(d, "manifest.json")))
        self.params = {n: read_f32(os.path.join(d, f"init.{n}.f32"), s) for n, s in man["params"].items()}
        self.steps, self.batch, self.k, self.z = man["steps"], man["batch"], man["k"], man["z"]
        raw = open(os.path.join(d, "x.u8"), "rb").read()
        self.x = torch.frombuffer(bytearray(raw), dtype=torch.uint8).reshape(self.steps, self.batch, -1)
        self.eps = read_f32(os.path.join(d, "eps.f32"), (self.steps, self.k, self.batch, self.z))
        self.test_eps = read_f32(os.path.join(d, "test_eps.f32"), (-1, self.z))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mnist", required=True)
    ap.add_argument("--test-bin", required=True)
    ap.add_argument("--objective", default="elbo", choices=["elbo", "iwae"])
    ap.add_argument("--k", type=int, default=1)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu", help="cpu or cuda (bench/gpu/train.ts on the device machine)")
    ap.add_argument("--replay", default=None, help="a folder of varinf's draws (the bench's --paired mode)")
    args = ap.parse_args()
    torch.manual_seed(args.seed)

    find = lambda b: next(p for p in (os.path.join(args.mnist, b), os.path.join(args.mnist, b + ".gz")) if os.path.exists(p))
    dev = torch.device(args.device)
    train = (read_idx(find("train-images-idx3-ubyte")).reshape(-1, 784).float() / 255.0).to(dev)
    test = read_idx(args.test_bin).reshape(-1, 784).float().to(dev)
    model = VAE().to(dev)
    replay = Replay(args.replay) if args.replay else None
    if replay is not None:
        assert replay.steps >= args.steps and replay.batch == args.batch and replay.k == args.k, "--replay: the draws do not fit --steps/--batch/--k"
        model.load_state_dict(replay.params)
        assert args.device == "cpu", "--replay runs on the cpu"
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-4)
    n = train.shape[0]
    bpe = n // args.batch
    step = 0
    t_start = time.perf_counter()  # the whole loop is timed, data preparation included
    while step < args.steps:
        if replay is None:
            perm = torch.randperm(n, device=dev)
            binar = torch.bernoulli(train)  # dynamic binarization: a fresh draw every epoch
        for i in range(bpe):
            if step >= args.steps:
                break
            if replay is None:
                x, eps = binar[perm[i * args.batch:(i + 1) * args.batch]], None
            else:
                x, eps = replay.x[step].float(), replay.eps[step]
            loss = model.loss(x, args.objective, args.k, eps)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t_train = time.perf_counter() - t_start
    out = {
        "framework": f"PyTorch {torch.__version__}",
        "threads": torch.get_num_threads(),
        "device": torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu",
        "objective": args.objective,
        "k": args.k,
        "steps": args.steps,
        "replay": args.replay is not None,
        "images_per_s": args.steps * args.batch / t_train,
        "train_seconds": t_train,
        "test_elbo": test_bound(model, test, 1, eps=None if replay is None else replay.test_eps),
    }
    if args.objective == "iwae":
        out["test_bound_k"] = test_bound(model, test, args.k, batch=100)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
