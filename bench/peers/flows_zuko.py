"""zuko peer of bench/flows/density.ts: the same flow (MAF or autoregressive NSF), data split,
batch size, learning rate, epochs and early-stopping rule, trained by maximum likelihood on the CPU.

Reads the standardized splits the varinf bench writes (float32, row-major, DIR/{train,val,test}.f32
with DIR/manifest.json giving the row counts and the width) and prints one JSON line: the test
log-likelihood (nats per row, mean and standard error), epochs run, the best epoch and the training
throughput (rows per second over the training steps only, per wall second and per CPU second).

    python flows_zuko.py --dir DIR --flow maf --layers 3 --hidden 64,64 --epochs 50 --batch 512 --lr 1e-3
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import zuko


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--flow", choices=["maf", "nsf"], default="maf")
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--hidden", default="64,64")
    ap.add_argument("--bins", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--patience", type=int, default=10)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    man = json.load(open(os.path.join(a.dir, "manifest.json")))
    d = man["d"]

    def load(name):
        x = np.fromfile(os.path.join(a.dir, name + ".f32"), dtype=np.float32)
        return torch.from_numpy(x.reshape(man[name], d))

    train, val, test = load("train"), load("val"), load("test")
    hidden = tuple(int(h) for h in a.hidden.split(","))
    if a.flow == "maf":
        flow = zuko.flows.MAF(d, transforms=a.layers, hidden_features=hidden)
    else:
        flow = zuko.flows.NSF(d, bins=a.bins, transforms=a.layers, hidden_features=hidden)
    opt = torch.optim.Adam(flow.parameters(), lr=a.lr)

    def nll(x):
        with torch.no_grad():
            return -flow().log_prob(x)

    n = train.shape[0]
    steps = n // a.batch
    g = torch.Generator().manual_seed(a.seed)
    best, best_epoch, since, train_s, train_cpu, epoch = math.inf, -1, 0, 0.0, 0.0, 0
    best_state = None
    while epoch < a.epochs:
        perm = torch.randperm(n, generator=g)
        t0 = time.perf_counter()
        c0 = time.process_time()
        for s in range(steps):
            xb = train[perm[s * a.batch:(s + 1) * a.batch]]
            loss = -flow().log_prob(xb).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        train_s += time.perf_counter() - t0
        train_cpu += time.process_time() - c0
        v = nll(val).mean().item()
        epoch += 1
        if v < best:
            best, best_epoch, since = v, epoch - 1, 0
            best_state = {k: t.clone() for k, t in flow.state_dict().items()}
        else:
            since += 1
            if since >= a.patience:
                break
    flow.load_state_dict(best_state)
    t = -nll(test)
    print(json.dumps({
        "peer": "zuko " + zuko.__version__ + ", torch " + torch.__version__,
        "threads": torch.get_num_threads(),
        "test_ll": t.mean().item(),
        "test_ll_se": (t.std() / math.sqrt(t.shape[0])).item(),
        "epochs": epoch,
        "best_epoch": best_epoch,
        "rows_per_sec": epoch * steps * a.batch / train_s,
        "cpu_rows_per_sec": epoch * steps * a.batch / train_cpu,
    }))


if __name__ == "__main__":
    main()
