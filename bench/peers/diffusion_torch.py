"""PyTorch peer of bench/vi/diffusion-mnist.ts: the same DDPM, U-Net, data, schedule and bound.

The U-Net of ts/models/diffusion/unet.ts (c base channels, 2c at H/2 and H/4; residual blocks
conv3 -> +time -> SiLU -> conv3 with 1x1 skips, no normalization; stride-2 conv downsampling,
stride-2 4x4 transposed-conv upsampling, skips by concatenation), the same sinusoidal time
embedding (sin/cos of t/T times frequencies 1..1000 spread geometrically), PyTorch's default
initialization (which varinf's layers copy). Linear beta schedule 1e-4..0.02 over T steps.
Training: L_simple (or L_vlb with --objective vlb) on 8-bit MNIST scaled to [-1, 1], batches
drawn from a fresh permutation each epoch, Adam (betas 0.9/0.999, eps 1e-8). The bound: every
term of L = L_T + sum_{t>=2} L_{t-1} + L_0 with one draw of x_t per term, sigma_t^2 = beta_t,
Ho et al.'s discretized Gaussian decoder (256 bins, the edge bins open, bin probabilities floored at
1e-12) evaluated in float64, on the first --test-n test images. Prints one JSON line.

    python diffusion_torch.py --mnist DIR --steps 300 --batch 32 --test-n 32 --T 1000 --channels 8 --threads 1
"""
import argparse
import json
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from vae_torch import read_idx  # the IDX reader of the MLP peer, beside this script


def time_embedding(t, dim, T):
    half = dim // 2
    k = torch.arange(half, dtype=torch.float64)
    freqs = (torch.exp(math.log(1000.0) * k / max(1, half - 1)) / T).to(t.dtype)
    ang = t.reshape(-1, 1) * freqs.reshape(1, -1)
    return torch.cat([torch.sin(ang), torch.cos(ang)], 1)


class Res(nn.Module):
    def __init__(self, a, b, tdim):
        super().__init__()
        self.conv1 = nn.Conv2d(a, b, 3, padding=1)
        self.time = nn.Linear(tdim, b)
        self.conv2 = nn.Conv2d(b, b, 3, padding=1)
        self.skip = nn.Conv2d(a, b, 1) if a != b else None

    def forward(self, h, temb):
        g = self.conv1(F.silu(h)) + self.time(temb)[:, :, None, None]
        g = self.conv2(F.silu(g))
        return g + (h if self.skip is None else self.skip(h))


class UNet(nn.Module):
    def __init__(self, T, c=8, emb=32, tdim=64, H=28, W=28):
        super().__init__()
        self.T, self.emb, self.H, self.W = T, emb, H, W
        self.time1 = nn.Linear(emb, tdim)
        self.time2 = nn.Linear(tdim, tdim)
        self.inConv = nn.Conv2d(1, c, 3, padding=1)
        self.res1 = Res(c, c, tdim)
        self.down1 = nn.Conv2d(c, c, 3, stride=2, padding=1)
        self.res2 = Res(c, 2 * c, tdim)
        self.down2 = nn.Conv2d(2 * c, 2 * c, 3, stride=2, padding=1)
        self.mid = Res(2 * c, 2 * c, tdim)
        self.up2 = nn.ConvTranspose2d(2 * c, 2 * c, 4, stride=2, padding=1)
        self.res3 = Res(4 * c, 2 * c, tdim)
        self.up1 = nn.ConvTranspose2d(2 * c, c, 4, stride=2, padding=1)
        self.res4 = Res(2 * c, c, tdim)
        self.outConv = nn.Conv2d(c, 1, 3, padding=1)

    def forward(self, x, t):
        n = x.shape[0]
        temb = F.silu(self.time2(F.silu(self.time1(time_embedding(t, self.emb, self.T)))))
        r1 = self.res1(self.inConv(x.view(n, 1, self.H, self.W)), temb)
        r2 = self.res2(self.down1(r1), temb)
        m = self.mid(self.down2(r2), temb)
        u2 = self.res3(torch.cat([self.up2(m), r2], 1), temb)
        u1 = self.res4(torch.cat([self.up1(u2), r1], 1), temb)
        return self.outConv(F.silu(u1)).view(n, self.H * self.W)


class Schedule:
    def __init__(self, T):
        k = 1000.0 / T
        self.T = T
        self.betas = torch.linspace(1e-4 * k, min(0.02 * k, 0.999), T, dtype=torch.float64)
        self.alphas = 1 - self.betas
        self.ab = torch.cumprod(self.alphas, 0)
        prev = torch.cat([torch.ones(1, dtype=torch.float64), self.ab[:-1]])
        self.pv = self.betas * (1 - prev) / (1 - self.ab)
        self.c0 = prev.sqrt() * self.betas / (1 - self.ab)
        self.ct = self.alphas.sqrt() * (1 - prev) / (1 - self.ab)


def discretized_loglik(x0, mu, sigma2):
    """log p(x0 | x1) per image for x0 on 256 levels in [-1, 1], in float64."""
    x = x0.double()
    c = x - mu.double()
    k = 1 / math.sqrt(2 * sigma2)
    up = torch.where(x > 1 - 1 / 255, torch.ones_like(x), 0.5 * (1 + torch.erf((c + 1 / 255) * k)))
    lo = torch.where(x < -1 + 1 / 255, torch.zeros_like(x), 0.5 * (1 + torch.erf((c - 1 / 255) * k)))
    return torch.log(torch.clamp(up - lo, min=1e-12)).sum(-1)


def simple_loss(net, s, x0):
    n = x0.shape[0]
    idx = torch.randint(0, s.T, (n,))
    ab = s.ab[idx].float().reshape(n, 1)
    eps = torch.randn_like(x0)
    xt = ab.sqrt() * x0 + (1 - ab).sqrt() * eps
    return ((eps - net(xt, (idx + 1).float())) ** 2).sum(-1).mean()


def vlb_loss(net, s, x0):
    n, d = x0.shape
    idx = torch.randint(0, s.T, (n,))
    b, a, ab, pv = s.betas, s.alphas, s.ab, s.pv
    w = b ** 2 / (2 * b * a * (1 - ab))
    c = 0.5 * d * (torch.log(b / pv.clamp(min=1e-300)) + pv / b - 1)
    w[0], c[0] = 0, 0
    abi = ab[idx].float().reshape(n, 1)
    eps = torch.randn_like(x0)
    xt = abi.sqrt() * x0 + (1 - abi).sqrt() * eps
    e = net(xt, (idx + 1).float())
    kl = w[idx].float() * ((eps - e) ** 2).sum(-1) + c[idx].float()
    mu1 = (xt - e * float(b[0] / (1 - ab[0]).sqrt())) / float(a[0].sqrt())
    nll = -discretized_loglik(x0, mu1, float(b[0])).float()
    term = torch.where(idx == 0, nll, kl)
    abT = float(ab[-1])
    prior = 0.5 * abT * (x0 ** 2).sum(-1) + 0.5 * d * (-abT - math.log(1 - abT))
    return s.T * term.mean() + prior.mean()


@torch.no_grad()
def bound(net, s, x0, noise=None):
    """Per-image L (nats) and the per-term means: prior, sum of KLs, decoder. The draw of x_t uses
    noise[t - 1] when given (bench/peers/diffusion_trajectory_torch.py replays varinf's), else randn."""
    n, d = x0.shape
    abT = float(s.ab[-1])
    per = (0.5 * abT * (x0.double() ** 2).sum(-1) + 0.5 * d * (-abT - math.log(1 - abT)))
    prior = per.mean().item()
    kls, dec = 0.0, 0.0
    for t in range(s.T, 0, -1):
        i = t - 1
        ab = float(s.ab[i])
        z = torch.randn_like(x0) if noise is None else noise[i].to(x0.dtype)
        xt = math.sqrt(ab) * x0 + math.sqrt(1 - ab) * z
        e = net(xt, torch.full((n,), float(t), dtype=x0.dtype))
        mu = (xt - e * (float(s.betas[i]) / math.sqrt(1 - ab))) / math.sqrt(float(s.alphas[i]))
        if t == 1:
            v = -discretized_loglik(x0, mu, float(s.betas[0]))
            dec = v.mean().item()
        else:
            sig2, bt = float(s.betas[i]), float(s.pv[i])
            mt = float(s.c0[i]) * x0 + float(s.ct[i]) * xt
            v = ((mt - mu).double() ** 2).sum(-1) * (0.5 / sig2) + 0.5 * d * (math.log(sig2 / bt) + bt / sig2 - 1)
            kls += v.mean().item()
        per += v
    return per, prior, kls, dec


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mnist", required=True)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--T", type=int, default=1000)
    ap.add_argument("--channels", type=int, default=8)
    ap.add_argument("--test-n", type=int, default=32)
    ap.add_argument("--objective", choices=["simple", "vlb"], default="simple")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    find = lambda b: next(p for p in (os.path.join(args.mnist, b), os.path.join(args.mnist, b + ".gz")) if os.path.exists(p))
    train = read_idx(find("train-images-idx3-ubyte")).reshape(-1, 784).float() / 127.5 - 1
    test = read_idx(find("t10k-images-idx3-ubyte")).reshape(-1, 784)[: args.test_n].float() / 127.5 - 1
    s = Schedule(args.T)
    net = UNet(args.T, args.channels)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    loss_fn = simple_loss if args.objective == "simple" else vlb_loss
    per_epoch = train.shape[0] // args.batch
    perm = None
    losses = []
    t0, c0 = time.perf_counter(), time.process_time()
    for step in range(args.steps):
        if step % per_epoch == 0:
            perm = torch.randperm(train.shape[0])
        j = step % per_epoch
        xb = train[perm[j * args.batch:(j + 1) * args.batch]]
        loss = loss_fn(net, s, xb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    train_s, train_cpu = time.perf_counter() - t0, time.process_time() - c0
    t1, c1 = time.perf_counter(), time.process_time()
    if args.test_n > 0:
        per, prior, kls, dec = bound(net, s, test)
    else:
        per, prior, kls, dec = torch.full((1,), float("nan")), float("nan"), float("nan"), float("nan")
    eval_s, eval_cpu = time.perf_counter() - t1, time.process_time() - c1
    d = 784 * math.log(2)
    bpd = (per / d)
    tail = losses[-max(1, len(losses) // 10):]
    print(json.dumps({
        "framework": f"PyTorch {torch.__version__}", "threads": torch.get_num_threads(),
        "train_seconds": train_s, "train_cpu_seconds": train_cpu,
        "images_per_s": args.steps * args.batch / train_s, "images_per_cpu_s": args.steps * args.batch / train_cpu,
        "final_loss": sum(tail) / len(tail),
        "eval_seconds": eval_s, "eval_cpu_seconds": eval_cpu,
        "bits_per_dim": bpd.mean().item(), "bits_per_dim_se": (bpd.std() / math.sqrt(len(bpd))).item() if len(bpd) > 1 else float("nan"),
        "prior": prior, "kls": kls, "decoder": dec,
    }))


if __name__ == "__main__":
    main()
