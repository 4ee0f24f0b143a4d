#!/usr/bin/env bash
# Adds NumPyro and JAX (CPU) to bench/peers/.venv for bench/vi/eight-schools.ts. Idempotent.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "jax[cpu]" numpyro
"$venv/bin/python" -c 'import jax, numpyro; print("bench/peers/.venv: jax", jax.__version__, "numpyro", numpyro.__version__)'
