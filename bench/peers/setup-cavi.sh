#!/usr/bin/env bash
# Adds the conjugate-VI peers to bench/peers/.venv: scikit-learn (BayesianGaussianMixture,
# LatentDirichletAllocation), hmmlearn (variational HMMs) and statsmodels (whose bundled datasets
# give the VB-HMM bench real sequences). Idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
peer_install sklearn hmmlearn -- numpy scipy scikit-learn hmmlearn
peer_install statsmodels -- statsmodels
"$py" -c 'import sklearn, hmmlearn, statsmodels; print("bench/peers/.venv: scikit-learn", sklearn.__version__, "hmmlearn", hmmlearn.__version__, "statsmodels", statsmodels.__version__)'
