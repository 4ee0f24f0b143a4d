"""PyTorch peer of bench/vi/vae-flow-mnist.ts: the same VAE with a Gaussian or an IAF posterior.

Architecture (as varinf's FlowVAE): encoder 784-200-200 tanh with mean and log-variance heads (50,
log-variance clamped to [-10, 10]) and, for IAF, a context head h = tanh(Linear(200, 200)); decoder
50-200-200-784 tanh with Bernoulli logits. IAF (Kingma et al. 2016): K layers, each a MADE
50 -> [hidden] ReLU -> (m, s) with the context added (unmasked, no bias) to the first hidden
layer, the output layer initialized to zero, the sigmoid gate sigma = sigmoid(s + 2),
z <- sigma * z + (1 - sigma) * m, log|det| = sum log sigma; the order is reversed in every other
layer. The MADE's degrees and masks are varinf's (nn/made.ts): input i has degree order[i] + 1,
hidden unit k degree (k mod (D - 1)) + 1, a hidden weight keeps j -> k when m(k) >= m(j), an output
weight keeps k -> i when m(i) > m(k). Every other weight and bias: PyTorch's default Linear
initialization (varinf's default too). Adam (lr 1e-3, betas 0.9/0.999, eps 1e-4), batch 100,
dynamic binarization (a fresh draw every epoch), float32, ELBO with one sample.

Evaluation: test ELBO (one sample, all test images), and log p(x) by importance sampling with
k samples (chunks of 250) on the first --ll-images test images. Prints one JSON line with the
wall-clock and the process CPU time of the training loop (all threads).

Threads: one by default (--threads). vae_torch.py leaves PyTorch at its default (2 on this machine);
on the shared machine under load (load average ~19 on 2 cores) the two OpenMP threads spin against
each other: 550 images/s and 1,350 per CPU second with 2 threads against 3,100 and 11,100 with 1
thread, for the Gaussian VAE's step (50 steps, same minute).

    python vae_flow_torch.py --mnist DIR --test-bin FILE --posterior iaf --steps 6000 --ll-images 1000 --ll-k 5000
"""
import argparse
import json
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from vae_torch import read_idx

LOG_2PI = math.log(2 * math.pi)


def made_masks(d, hidden, outputs, order):
    """varinf's MADE masks ([out, in] like the weights) for inputs in `order`."""
    deg_in = torch.tensor([o + 1 for o in order])
    cycle = max(1, d - 1)
    masks, prev = [], deg_in
    for h in hidden:
        deg = torch.arange(h) % cycle + 1
        masks.append((deg[:, None] >= prev[None, :]).float())
        prev = deg
    out_deg = deg_in.repeat(outputs)  # row r is (output r // d, input r % d)
    masks.append((out_deg[:, None] > prev[None, :]).float())
    return masks


class IAFLayer(nn.Module):
    def __init__(self, d, hidden, context, order, gate_bias=2.0):
        super().__init__()
        sizes = [d, *hidden, 2 * d]
        self.lins = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.ctx = nn.Linear(context, hidden[0], bias=False)
        for i, m in enumerate(made_masks(d, hidden, 2, order)):
            self.register_buffer(f"mask{i}", m)
        nn.init.zeros_(self.lins[-1].weight)
        nn.init.zeros_(self.lins[-1].bias)
        self.d, self.gate_bias = d, gate_bias

    def forward(self, z, h):
        a = z
        for i, lin in enumerate(self.lins):
            a = F.linear(a, lin.weight * getattr(self, f"mask{i}"), lin.bias)
            if i == 0:
                a = a + self.ctx(h)
            if i < len(self.lins) - 1:
                a = F.relu(a)
        m, s = a[..., : self.d], a[..., self.d:]
        s = s + self.gate_bias
        sig = torch.sigmoid(s)
        return sig * z + (1 - sig) * m, F.logsigmoid(s).sum(-1)


class FlowVAE(nn.Module):
    def __init__(self, posterior, x=784, h=200, z=50, layers=2, flow_hidden=(100,), context=200):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(x, h), nn.Tanh(), nn.Linear(h, h), nn.Tanh())
        self.mu = nn.Linear(h, z)
        self.lv = nn.Linear(h, z)
        self.dec = nn.Sequential(nn.Linear(z, h), nn.Tanh(), nn.Linear(h, h), nn.Tanh(), nn.Linear(h, x))
        self.posterior = posterior
        if posterior == "iaf":
            self.ctx = nn.Linear(h, context)
            orders = [list(range(z)) if l % 2 == 0 else list(range(z - 1, -1, -1)) for l in range(layers)]
            self.flows = nn.ModuleList(IAFLayer(z, list(flow_hidden), context, o) for o in orders)
        self.z = z

    def log_weights(self, x, k):
        """log p(x, z) - log q(z | x) for k draws per row, [k, B]."""
        hid = self.enc(x)
        mu, lv = self.mu(hid), self.lv(hid).clamp(-10, 10)
        eps = torch.randn(k, *mu.shape)
        z = mu + torch.exp(0.5 * lv) * eps
        logq = -0.5 * (LOG_2PI + lv + eps.pow(2)).sum(-1)
        if self.posterior == "iaf":
            c = torch.tanh(self.ctx(hid))
            for f in self.flows:
                z, ladj = f(z, c)
                logq = logq - ladj
        logp = -0.5 * (LOG_2PI + z.pow(2)).sum(-1)
        logits = self.dec(z)
        logpx = -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").sum(-1)
        return logpx + logp - logq


@torch.no_grad()
def test_elbo(model, x, batch=500):
    return sum(model.log_weights(x[s:s + batch], 1).sum().item() for s in range(0, x.shape[0], batch)) / x.shape[0]


@torch.no_grad()
def log_px(model, x, k, rows=20, chunk=250):
    total = 0.0
    for s in range(0, x.shape[0], rows):
        xb = x[s:s + rows]
        lw = torch.cat([model.log_weights(xb, min(chunk, k - j)) for j in range(0, k, chunk)], 0)
        total += (torch.logsumexp(lw.double(), 0) - math.log(k)).sum().item()
    return total / x.shape[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mnist", required=True)
    ap.add_argument("--test-bin", required=True)
    ap.add_argument("--posterior", default="iaf", choices=["gaussian", "iaf"])
    ap.add_argument("--flow-layers", type=int, default=2)
    ap.add_argument("--flow-hidden", type=int, default=100)
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--ll-images", type=int, default=1000)
    ap.add_argument("--ll-k", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="intra-op threads; default 1 (see the docstring)")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)

    find = lambda b: next(p for p in (os.path.join(args.mnist, b), os.path.join(args.mnist, b + ".gz")) if os.path.exists(p))
    train = read_idx(find("train-images-idx3-ubyte")).reshape(-1, 784).float() / 255.0
    test = read_idx(args.test_bin).reshape(-1, 784).float()
    model = FlowVAE(args.posterior, layers=args.flow_layers, flow_hidden=(args.flow_hidden,))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-4)
    n = train.shape[0]
    bpe = n // args.batch
    step = 0
    t0, c0 = time.perf_counter(), time.process_time()  # the whole loop, data preparation included
    while step < args.steps:
        perm = torch.randperm(n)
        binar = torch.bernoulli(train)
        for i in range(bpe):
            if step >= args.steps:
                break
            x = binar[perm[i * args.batch:(i + 1) * args.batch]]
            loss = -model.log_weights(x, 1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    model.eval()
    t1 = time.perf_counter()
    ll = log_px(model, test[: args.ll_images], args.ll_k)
    out = {
        "framework": f"PyTorch {torch.__version__}",
        "threads": torch.get_num_threads(),
        "posterior": args.posterior,
        "steps": args.steps,
        "images_per_s": args.steps * args.batch / wall,
        "images_per_cpu_s": args.steps * args.batch / cpu,
        "train_seconds": wall,
        "test_elbo": test_elbo(model, test),
        "log_px": ll,
        "eval_seconds": time.perf_counter() - t1,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
