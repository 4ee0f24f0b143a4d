#!/usr/bin/env bash
# Adds the conjugate-VI peers to bench/peers/.venv: scikit-learn (BayesianGaussianMixture,
# LatentDirichletAllocation) and hmmlearn (VariationalGaussianHMM, VariationalCategoricalHMM).
# Creates the venv if absent (bench/peers/setup.sh makes the same one with NumPy); only adds
# packages, never removes. Idempotent.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
fi
if ! "$venv/bin/python" -c 'import sklearn, hmmlearn' 2>/dev/null; then
  "$venv/bin/python" -m pip install --quiet numpy scipy scikit-learn hmmlearn
fi
"$venv/bin/python" -c 'import sklearn, hmmlearn; print("bench/peers/.venv: scikit-learn", sklearn.__version__, "hmmlearn", hmmlearn.__version__)'
# The VB-HMM bench (bench/vi/cavi-hmm.ts) takes real sequences from statsmodels' bundled datasets
# (macrodata, sunspots) through bench/peers/cavi_hmm.py --dump.
if ! "$venv/bin/python" -c 'import statsmodels' 2>/dev/null; then
  "$venv/bin/python" -m pip install --quiet statsmodels
fi
"$venv/bin/python" -c 'import statsmodels; print("bench/peers/.venv: statsmodels", statsmodels.__version__)'
