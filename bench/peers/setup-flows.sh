#!/usr/bin/env bash
# Adds PyTorch and zuko (normalizing flows, the Python registry's wheels, used on the CPU) to
# bench/peers/.venv for the density-estimation peer bench/peers/flows_zuko.py. Idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
peer_install torch zuko -- torch zuko
"$py" -c 'import torch, zuko; print("bench/peers/.venv: torch", torch.__version__, "zuko", zuko.__version__, "threads", torch.get_num_threads())'
