#!/usr/bin/env bash
# Adds NumPyro and JAX (CPU) to bench/peers/.venv for the SVI and distribution benches. Idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
peer_install jax numpyro -- "jax[cpu]" numpyro
"$py" -c 'import jax, numpyro; print("bench/peers/.venv: jax", jax.__version__, "numpyro", numpyro.__version__)'
