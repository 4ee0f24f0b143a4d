#!/usr/bin/env bash
# Stan's ADVI for bench/vi/posteriordb-stan.ts: rstan 2.21 from Debian (r-cran-rstan, with jsonlite
# to read Stan's JSON data), then each posterior's program compiled once into bench/results/rstan/
# (cached .rds, about a minute of CPU each, serially under nice -n 19). Idempotent. Needs root for apt.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
if ! Rscript -e 'suppressMessages(library(rstan)); library(jsonlite)' >/dev/null 2>&1; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y r-cran-rstan r-cran-jsonlite
fi
# Debian's r-cran-bh is a virtual package: Boost lives in /usr/include, but rstan looks for it
# under BH's own include folder and stops with "Boost not found; call install.packages('BH')".
bh=$(Rscript -e 'cat(system.file(package="BH"))')
if [ -n "$bh" ] && [ ! -e "$bh/include/boost/version.hpp" ] && [ -e /usr/include/boost/version.hpp ]; then
  ln -s /usr/include "$bh/include"
fi
nice -n 19 npx tsx bench/vi/posteriordb-stan.ts --compile-peers "$@"
