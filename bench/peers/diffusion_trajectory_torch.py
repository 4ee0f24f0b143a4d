"""PyTorch side of bench/vi/diffusion-trajectory.ts: replays varinf's DDPM training in PyTorch.

Reads the JSON that script writes (the U-Net's initial parameters by state_dict name, and per step
the batch x0 in [-1, 1], the step indices t - 1 and the noise eps), loads the weights into the
U-Net of diffusion_torch.py, takes the same L_simple steps with torch.optim.Adam (betas 0.9/0.999,
eps 1e-8) in the same dtype, then evaluates the bound at varinf's final weights on the same test
images with varinf's noise draws (the .noise file beside the JSON: float64, one [n, 784] draw per
step t = 1..T) by the term formulas of diffusion_torch.py's `bound`. Prints one JSON line: its loss
per step, the worst relative difference of its final parameters from varinf's, and the bound.

    python diffusion_trajectory_torch.py /tmp/diffusion-trajectory.json
"""
import json
import sys

import numpy as np
import torch

from diffusion_torch import Schedule, UNet, bound


def main():
    rec = json.load(open(sys.argv[1]))
    dt = torch.float64 if rec["dtype"] == "float64" else torch.float32
    torch.set_default_dtype(dt)
    torch.set_num_threads(1)
    T, batch = rec["T"], rec["batch"]
    net = UNet(T, rec["channels"])
    with torch.no_grad():
        names = dict(net.named_parameters())
        missing = set(names) ^ set(rec["p0"])
        if missing:
            raise SystemExit(f"parameter names differ: {sorted(missing)}")
        for name, p in names.items():
            p.copy_(torch.tensor(rec["p0"][name]["data"], dtype=dt).reshape(p.shape))
    s = Schedule(T)
    opt = torch.optim.Adam(net.parameters(), lr=rec["lr"], betas=(0.9, 0.999), eps=1e-8)
    losses = []
    for x, idx, eps in zip(rec["x"], rec["idx"], rec["eps"]):
        x0 = torch.tensor(x, dtype=dt).reshape(batch, 784)
        i = torch.tensor(idx, dtype=torch.int64)
        e = torch.tensor(eps, dtype=dt).reshape(batch, 784)
        ab = s.ab[i].to(dt).reshape(batch, 1)
        xt = ab.sqrt() * x0 + (1 - ab).sqrt() * e
        loss = ((e - net(xt, (i + 1).to(dt))) ** 2).sum(-1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    worst, where = 0.0, ""
    for name, p in net.named_parameters():
        v = torch.tensor(rec["pFinal"][name]["data"], dtype=torch.float64).reshape(p.shape)
        d = ((p.detach().double() - v).abs() / v.abs().clamp(min=1e-3)).max().item()
        if d > worst:
            worst, where = d, name
    with torch.no_grad():
        for name, p in net.named_parameters():
            p.copy_(torch.tensor(rec["pFinal"][name]["data"], dtype=dt).reshape(p.shape))
    n = rec["boundN"]
    noise = torch.from_numpy(np.fromfile(sys.argv[1] + ".noise", dtype=np.float64).reshape(T, n, 784))
    x_test = torch.tensor(rec["xTest"], dtype=dt).reshape(n, 784)
    per, prior, kls, dec = bound(net, s, x_test, noise)
    print(json.dumps({"framework": f"PyTorch {torch.__version__}", "losses": losses, "worst_param": where, "worst_param_rel": worst,
                      "bound": {"perPoint": per.tolist(), "prior": prior, "kls": kls, "decoder": dec}}))


if __name__ == "__main__":
    main()
