# Sourced by the bench/peers/setup*.sh scripts: one virtual environment, bench/peers/.venv, that
# each script only adds packages to.
#   peer_install MODULES -- PACKAGES   installs PACKAGES unless every MODULE already imports.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
py="$venv/bin/python"
if [ ! -x "$py" ]; then
  python3 -m venv "$venv"
  "$py" -m pip install --quiet --upgrade pip
fi

peer_install() {
  local modules=()
  while [ "$1" != "--" ]; do modules+=("$1"); shift; done
  shift
  local imports
  imports="$(IFS=,; echo "${modules[*]}")"
  if ! "$py" -c "import $imports" 2>/dev/null; then
    "$py" -m pip install --quiet "$@"
  fi
}
