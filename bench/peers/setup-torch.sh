#!/usr/bin/env bash
# Adds PyTorch (CPU use; the wheel from the Python registry) to bench/peers/.venv for the VAE
# peer bench/peers/vae_torch.py run by bench/vi/vae-mnist.ts. Creates the venv if absent
# (bench/peers/setup.sh makes the same one with NumPy); only adds packages. Idempotent.
# The registry's Linux wheel pulls its CUDA runtime packages too (a few GB); the peer runs on CPU.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
fi
if ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
  "$venv/bin/python" -m pip install --quiet torch
fi
"$venv/bin/python" -c 'import torch; print("bench/peers/.venv: torch", torch.__version__, "threads", torch.get_num_threads())'
