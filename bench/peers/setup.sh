#!/usr/bin/env bash
# Creates the Python peers' virtual environment used by `npm run bench`: bench/peers/.venv with
# NumPy. Idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
peer_install numpy -- numpy
"$py" -c 'import numpy; print("bench/peers/.venv: numpy", numpy.__version__)'
