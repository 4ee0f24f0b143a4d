"""Golden values for the diffusion U-Net (ts/models/diffusion/unet.ts): writes
test/fixtures/ddpm-unet.json.

The reference is the PyTorch module of bench/peers/diffusion_torch.py (torch.nn.Conv2d,
ConvTranspose2d, Linear and F.silu) in float64: a tiny U-Net (T = 10, c = 2, embedding 4, time
width 6, 8x8 images) with parameters drawn from a fixed NumPy generator (stored by their
state_dict names, which are the paths of varinf's parameter tree), three images and steps, and
the network's output and the gradient of sum(output * w) with respect to every parameter.
Rerun from the repository root (torch is in the bench environment):

    bench/peers/.venv/bin/python scripts/golden/ddpm_unet.py
"""
import json
import pathlib
import sys

import numpy as np
import torch

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench" / "peers"))
from diffusion_torch import UNet  # noqa: E402

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(20261207)
net = UNet(10, c=2, emb=4, tdim=6, H=8, W=8)
params = {}
with torch.no_grad():
    for name, p in net.named_parameters():
        v = rng.normal(0, 0.4, size=tuple(p.shape))
        p.copy_(torch.from_numpy(v))
        params[name] = {"shape": list(p.shape), "data": v.ravel().tolist()}
x = rng.uniform(-1, 1, size=(3, 64))
t = np.array([1.0, 4.0, 10.0])
w = rng.normal(size=(3, 64))
out = net(torch.from_numpy(x), torch.from_numpy(t))
(out * torch.from_numpy(w)).sum().backward()
grads = {name: p.grad.numpy().ravel().tolist() for name, p in net.named_parameters()}
OUT = ROOT / "test" / "fixtures" / "ddpm-unet.json"
OUT.write_text(json.dumps({
    "source": f"PyTorch {torch.__version__}, bench/peers/diffusion_torch.py UNet(T=10, c=2, emb=4, tdim=6, H=W=8), float64",
    "T": 10, "channels": 2, "embDim": 4, "timeDim": 6, "height": 8, "width": 8,
    "params": params, "x": x.ravel().tolist(), "t": t.tolist(), "w": w.ravel().tolist(),
    "out": out.detach().numpy().ravel().tolist(), "grads": grads,
}))
print(f"wrote {OUT}")
