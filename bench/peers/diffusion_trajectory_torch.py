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
import math
import sys

import numpy as np
import torch

from diffusion_torch import Schedule, UNet, discretized_loglik


@torch.no_grad()
def bound_with_draws(net, s, x0, noise):
    """diffusion_torch.bound with the draw of x_t for step t given (noise[t - 1])."""
    n, d = x0.shape
    abT = float(s.ab[-1])
    per = 0.5 * abT * (x0.double() ** 2).sum(-1) + 0.5 * d * (-abT - math.log(1 - abT))
    prior = per.mean().item()
    kls, dec = 0.0, 0.0
    for t in range(s.T, 0, -1):
        i = t - 1
        ab = float(s.ab[i])
        xt = math.sqrt(ab) * x0 + math.sqrt(1 - ab) * noise[i].to(x0.dtype)
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
    per, prior, kls, dec = bound_with_draws(net, s, x_test, noise)
    print(json.dumps({"framework": f"PyTorch {torch.__version__}", "losses": losses, "worst_param": where, "worst_param_rel": worst,
                      "bound": {"perPoint": per.tolist(), "prior": prior, "kls": kls, "decoder": dec}}))


if __name__ == "__main__":
    main()
