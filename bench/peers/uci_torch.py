"""PyTorch peer of bench/bnn/uci.ts (MC dropout only): the same protocol on the UCI splits of
../shared/data/uci -- one hidden ReLU layer, dropout before every Linear layer, Glorot-uniform
weights and zero biases, Adam(1e-3), batch 128 (the last batch of an epoch smaller), 40 x epochx
epochs, weight decay l^2 (1 - p) / (2 N tau) on the weights with l = 1e-2, the 80/20 grid search
over the set's dropout rates and taus by validation log-likelihood (tval passes), retraining on all
training rows, and test RMSE / LL over T passes (one forward pass per draw, as the published code).
One thread (torch.set_num_threads(1)), float32, CPU.

Run: bench/peers/.venv/bin/python bench/peers/uci_torch.py --set yacht --splits 3 --epochx 10 --T 10000 --tval 1000
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch

SETS = {
    "boston": "bostonHousing", "concrete": "concrete", "energy": "energy", "kin8nm": "kin8nm",
    "naval": "naval-propulsion-plant", "power": "power-plant", "protein": "protein-tertiary-structure",
    "wine": "wine-quality-red", "yacht": "yacht",
}

ap = argparse.ArgumentParser()
ap.add_argument("--set", default="yacht")
ap.add_argument("--splits", type=int, default=1000)
ap.add_argument("--epochx", type=int, default=10)
ap.add_argument("--T", type=int, default=10000)
ap.add_argument("--tval", type=int, default=None)
args = ap.parse_args()
tval = args.tval or args.T
torch.set_num_threads(1)
here = os.path.dirname(os.path.abspath(__file__))
uci = os.environ.get("VARINF_UCI") or next(
    (d for d in [os.path.join(here, "../../../shared/data/uci"), os.path.join(here, "../../../../shared/data/uci")] if os.path.isdir(d)), "")
root = os.path.join(uci, SETS[args.set])


def nums(f):
    return np.loadtxt(os.path.join(root, f), ndmin=1)


data = np.loadtxt(os.path.join(root, "data.txt"))
feats = nums("index_features.txt").astype(int)
target = int(nums("index_target.txt")[0])
X, Y = data[:, feats], data[:, target]
hidden = int(nums("n_hidden.txt")[0])
epochs = int(nums("n_epochs.txt")[0]) * args.epochx
rates, taus = nums("dropout_rates.txt"), nums("tau_values.txt")
n_splits = min(int(nums("n_splits.txt")[0]), args.splits)


def fit_score(xtr, ytr, xte, yte, p, tau, passes, seed):
    torch.manual_seed(seed)
    mx, sx = xtr.mean(0), xtr.std(0)
    sx[sx == 0] = 1
    my, sy = ytr.mean(), ytr.std()
    xt = torch.tensor((xtr - mx) / sx, dtype=torch.float32)
    yt = torch.tensor(((ytr - my) / sy)[:, None], dtype=torch.float32)
    xe = torch.tensor((xte - mx) / sx, dtype=torch.float32)
    l1, l2 = torch.nn.Linear(xt.shape[1], hidden), torch.nn.Linear(hidden, 1)
    for l in (l1, l2):
        torch.nn.init.xavier_uniform_(l.weight)
        torch.nn.init.zeros_(l.bias)
    drop = torch.nn.Dropout(p)
    net = lambda x: l2(drop(torch.relu(l1(drop(x)))))
    params = [*l1.parameters(), *l2.parameters()]
    opt = torch.optim.Adam(params, lr=1e-3)
    n = xt.shape[0]
    reg = 1e-4 * (1 - p) / (2 * n * tau)
    for _ in range(epochs):
        perm = torch.randperm(n)
        for b in range(0, n, 128):
            idx = perm[b:b + 128]
            loss = torch.mean((net(xt[idx]) - yt[idx]) ** 2) + reg * (l1.weight.pow(2).sum() + l2.weight.pow(2).sum())
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        draws = np.stack([net(xe).numpy()[:, 0] for _ in range(passes)]) * sy + my
    mean = draws.mean(0)
    rmse = math.sqrt(np.mean((yte - mean) ** 2))
    a = -0.5 * tau * (yte[None] - draws) ** 2
    m = a.max(0)
    ll = m + np.log(np.exp(a - m).sum(0)) - math.log(passes) - 0.5 * math.log(2 * math.pi) + 0.5 * math.log(tau)
    return rmse, float(np.mean(ll))


out = []
for s in range(n_splits):
    tr = nums(f"index_train_{s}.txt").astype(int)
    te = nums(f"index_test_{s}.txt").astype(int)
    t0 = time.time()
    cut = int(0.8 * len(tr))
    best = (-math.inf, None, None)
    for p in rates:
        for tau in taus:
            _, ll = fit_score(X[tr[:cut]], Y[tr[:cut]], X[tr[cut:]], Y[tr[cut:]], float(p), float(tau), tval, s)
            if ll > best[0]:
                best = (ll, float(p), float(tau))
    rmse, ll = fit_score(X[tr], Y[tr], X[te], Y[te], best[1], best[2], args.T, 1000 + s)
    out.append({"split": s, "rmse": rmse, "ll": ll, "p": best[1], "tau": best[2], "seconds": time.time() - t0})
    print(json.dumps(out[-1]), flush=True)
r, l, t = (np.array([o[k] for o in out]) for k in ("rmse", "ll", "seconds"))
se = lambda v: v.std(ddof=1) / math.sqrt(len(v)) if len(v) > 1 else 0.0
print(f"| {SETS[args.set]} (PyTorch) | {len(out)} | {r.mean():.2f} ± {se(r):.2f} | {l.mean():.2f} ± {se(l):.2f} | {t.mean():.1f} s/split |")
