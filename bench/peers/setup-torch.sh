#!/usr/bin/env bash
# Adds PyTorch (the Python registry's wheel, used on the CPU) to bench/peers/.venv for the VAE peer
# bench/peers/vae_torch.py. The Linux wheel pulls its CUDA runtime packages too (a few GB).
# Idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
peer_install torch -- torch
"$py" -c 'import torch; print("bench/peers/.venv: torch", torch.__version__, "threads", torch.get_num_threads())'
