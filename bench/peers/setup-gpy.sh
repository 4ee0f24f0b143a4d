#!/usr/bin/env bash
# Adds GPy (the Sheffield Gaussian-process toolbox) to bench/peers/.venv, for the EP
# Gaussian-process classification peer (bench/peers/ep_gpy.py). Idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
peer_install GPy -- GPy
"$py" -c 'import GPy, numpy, scipy; print("bench/peers/.venv: GPy", GPy.__version__, "numpy", numpy.__version__, "scipy", scipy.__version__)'
