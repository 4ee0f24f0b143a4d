#!/usr/bin/env bash
# Adds ArviZ (and matplotlib, which az.plot_ppc draws with) to bench/peers/.venv, for
# bench/peers/arviz_check.py, which reads varinf's ArviZ export back. Idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
peer_install arviz matplotlib scipy -- arviz matplotlib scipy
"$py" -c 'import arviz, matplotlib, scipy; print("bench/peers/.venv: arviz", arviz.__version__, "matplotlib", matplotlib.__version__, "scipy", scipy.__version__)'
