"""PyTorch peer of bench/vi/vae-conv.ts: the same convolutional VAE, data, schedule and evaluation.

Architecture: encoder conv(1->32, 4, s2, p1) -> ReLU -> conv(32->64, 4, s2, p1) -> ReLU -> flatten
(64*7*7) -> linear heads mu and log-variance (clamped to [-10, 10]) of a 16-dim latent; decoder
linear(16 -> 64*7*7) -> ReLU -> reshape -> conv_transpose(64->32, 4, s2, p1) -> ReLU ->
conv_transpose(32->1, 4, s2, p1) -> Bernoulli logits on 28x28. PyTorch's default initialization.
Adam (lr 1e-3, betas 0.9/0.999, eps 1e-8), dynamic binarization of the training images (a fresh
draw per epoch), ELBO with one sample and the closed-form KL.

Reads the Fashion-MNIST IDX files itself (plain or .gz) and the statically binarized test set that
the varinf bench writes (an IDX uint8 file), so both frameworks are scored on the same test images.
Prints one JSON line.

    python vae_conv_torch.py --data DIR --test-bin FILE --steps 600 --batch 100
"""
import argparse
import json
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from vae_torch import read_idx  # the IDX reader of the MLP peer, beside this script


class ConvVAE(nn.Module):
    def __init__(self, c1=32, c2=64, z=16):
        super().__init__()
        self.enc1 = nn.Conv2d(1, c1, 4, 2, 1)
        self.enc2 = nn.Conv2d(c1, c2, 4, 2, 1)
        self.mu = nn.Linear(c2 * 49, z)
        self.lv = nn.Linear(c2 * 49, z)
        self.dec = nn.Linear(z, c2 * 49)
        self.dec1 = nn.ConvTranspose2d(c2, c1, 4, 2, 1)
        self.dec2 = nn.ConvTranspose2d(c1, 1, 4, 2, 1)
        self.c2 = c2

    def encode(self, x):
        h = F.relu(self.enc2(F.relu(self.enc1(x.view(-1, 1, 28, 28))))).flatten(1)
        return self.mu(h), self.lv(h).clamp(-10, 10)

    def decode(self, z):
        h = F.relu(self.dec(z)).view(-1, self.c2, 7, 7)
        return self.dec2(F.relu(self.dec1(h))).view(-1, 784)

    def terms(self, x):
        """log p(x|z) [B] with one sample, and the closed-form KL [B]."""
        mu, lv = self.encode(x)
        z = mu + torch.exp(0.5 * lv) * torch.randn_like(mu)
        logits = self.decode(z)
        logpx = -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)
        kl = 0.5 * (mu.pow(2) + lv.exp() - lv - 1).sum(-1)
        return logpx, kl


@torch.no_grad()
def test_elbo(model, x, batch=500):
    total = 0.0
    for s in range(0, x.shape[0], batch):
        logpx, kl = model.terms(x[s:s + batch])
        total += (logpx - kl).sum().item()
    return total / x.shape[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--test-bin", required=True)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: PyTorch's default)")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    find = lambda b: next(p for p in (os.path.join(args.data, b), os.path.join(args.data, b + ".gz")) if os.path.exists(p))
    train = read_idx(find("train-images-idx3-ubyte")).reshape(-1, 784).float() / 255.0
    test = read_idx(args.test_bin).reshape(-1, 784).float()
    model = ConvVAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n = train.shape[0]
    bpe = n // args.batch
    step = 0
    loss_sum, loss_n = 0.0, 0
    t_start = time.perf_counter()  # the whole loop is timed, data preparation included
    while step < args.steps:
        perm = torch.randperm(n)
        binar = torch.bernoulli(train)  # dynamic binarization: a fresh draw every epoch
        for i in range(bpe):
            if step >= args.steps:
                break
            x = binar[perm[i * args.batch:(i + 1) * args.batch]]
            logpx, kl = model.terms(x)
            loss = kl.mean() - logpx.mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if step >= args.steps - 100:
                loss_sum += loss.item()
                loss_n += 1
            step += 1
    t_train = time.perf_counter() - t_start
    print(json.dumps({
        "framework": f"PyTorch {torch.__version__}",
        "threads": torch.get_num_threads(),
        "steps": args.steps,
        "batch": args.batch,
        "images_per_s": args.steps * args.batch / t_train,
        "train_seconds": t_train,
        "train_elbo_last100": -loss_sum / max(1, loss_n),
        "test_elbo": test_elbo(model, test),
    }))


if __name__ == "__main__":
    main()
