"""Golden values for the bfloat16 storage dtype: writes test/fixtures/bfloat16.json.

The reference is PyTorch's own bfloat16 (torch.Tensor.to(torch.bfloat16), round to nearest even,
NaN to 0x7fc0; the version used is recorded in the output): the bits of float32 values chosen to
hit halfway cases, subnormals, the largest finite values, overflow to infinity and signed zeros,
and of float64 values converted as PyTorch does (through float32). Also a bfloat16 matrix product
with float32 output, accumulated in float64 by numpy from the bfloat16 values (what varinf's js
reference computes). Rerun from the repository root (torch is in the bench environment):

    bench/peers/.venv/bin/python scripts/golden/bfloat16.py
"""
import json
import pathlib

import numpy as np
import torch

OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "fixtures" / "bfloat16.json"
rng = np.random.default_rng(20261124)


def bits(t):
    return t.view(torch.int16).numpy().astype(np.int64).__and__(0xFFFF).tolist()


# float32 values: every kind of rounding edge, plus random ones across the exponent range.
edges = np.array(
    [0.0, -0.0, 1.0, -1.0, 1.00390625, 1.01171875, 1.0078125, 3.0078125, 0.1, -0.3, 65504.0, 3.3895314e38,
     3.39e38, np.float32(3.4028235e38), 1e-38, 1.1754944e-38, 9.18355e-41, 1e-45, np.inf, -np.inf, np.nan,
     2.0 ** -133, 1.0 + 2.0 ** -8 + 2.0 ** -23],
    dtype=np.float32,
)
rand = (rng.standard_normal(200) * np.exp(rng.uniform(-40, 40, 200))).astype(np.float32)
f32 = np.concatenate([edges, rand])
f64 = np.concatenate([rng.standard_normal(50) * 10.0 ** rng.uniform(-5, 5, 50),
                      # float64 values just beyond a float32 halfway point: rounding twice decides
                      [1.0 + 2.0 ** -8 + 2.0 ** -40, 1.0 + 2.0 ** -8 - 2.0 ** -40]])

a = rng.standard_normal((3, 5, 4)).astype(np.float32)
b = rng.standard_normal((4, 6)).astype(np.float32)
a16 = torch.from_numpy(a).to(torch.bfloat16)
b16 = torch.from_numpy(b).to(torch.bfloat16)
prod = (a16.to(torch.float64).numpy() @ b16.to(torch.float64).numpy()).astype(np.float32)


def num(x):
    x = float(x)
    return "NaN" if np.isnan(x) else ("Infinity" if x == np.inf else ("-Infinity" if x == -np.inf else x))


out = {
    "torch": torch.__version__,
    "f32": [num(x) for x in f32],
    "f32_bits": bits(torch.from_numpy(f32).to(torch.bfloat16)),
    "f64": [num(x) for x in f64],
    "f64_bits": bits(torch.from_numpy(f64).to(torch.bfloat16)),
    "matmul": {"a": a.ravel().tolist(), "a_shape": list(a.shape), "b": b.ravel().tolist(), "b_shape": list(b.shape),
               "a_bits": bits(a16.reshape(-1)), "b_bits": bits(b16.reshape(-1)), "out": prod.ravel().tolist()},
}
OUT.write_text(json.dumps(out))
print(f"wrote {OUT} (torch {torch.__version__})")
