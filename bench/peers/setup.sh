#!/usr/bin/env bash
# Creates the Python peers' virtual environment used by `npm run bench`:
#   bench/peers/.venv with NumPy. Idempotent; rerun to upgrade.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet numpy
"$venv/bin/python" -c 'import numpy; print("bench/peers/.venv: numpy", numpy.__version__)'
