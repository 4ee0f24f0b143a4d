#!/usr/bin/env bash
# Installs a CUDA 13 compiler (nvcc, cicc, ptxas), the runtime headers and libcudart, CCCL
# (CUB/Thrust/libcu++) and cuBLAS from NVIDIA's wheels on PyPI into .cuda-toolchain/ (git-ignored),
# so that `npm run check:cuda` can compile cuda/ on any Linux x86-64 machine, with no GPU and no
# system CUDA install. It prints the environment lines that put the toolchain to use.
#
#   bash scripts/install-cuda-compiler.sh              # ~129 MB compiler + ~444 MB cuBLAS (573 MB)
#   bash scripts/install-cuda-compiler.sh --no-cublas  # ~129 MB; check:cuda then skips matmul.cu
#   bash scripts/install-cuda-compiler.sh --env        # only print the environment lines
#
# CUDA 13 because its nvcc wheel ships the nvcc driver itself (the cu12 wheels carry ptxas
# alone). Binaries it builds need an R580+ driver; sm_80 and sm_90 are both covered.
# Rerunning with the same versions does nothing and takes well under a second.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${VARINF_CUDA_TOOLCHAIN:-$root/.cuda-toolchain}"

CUDA_VER=13.5.37
compiler_pkgs=(
  "nvidia-cuda-nvcc==$CUDA_VER"     # nvcc, ptxas, fatbinary, nvlink, cudafe++  (47 MB)
  "nvidia-nvvm==$CUDA_VER"          # cicc and libdevice                        (75 MB)
  "nvidia-cuda-crt==$CUDA_VER"      # crt/ headers nvcc injects                 (0.2 MB)
  "nvidia-cuda-runtime==$CUDA_VER"  # cuda_runtime.h and libcudart              (2.5 MB)
  "nvidia-cuda-cccl==13.3.5.0.6"    # CUB, Thrust, libcu++ (nv/target)          (4.1 MB)
)
cublas_pkg="nvidia-cublas==13.10.0.20"  # cublas_v2.h, libcublas, libcublasLt  (444 MB)

with_cublas=1
env_only=0
for arg in "$@"; do
  case "$arg" in
    --no-cublas) with_cublas=0 ;;
    --env) env_only=1 ;;
    -h | --help)
      sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "install-cuda-compiler: unknown argument '$arg' (try --help)" >&2
      exit 2
      ;;
  esac
done

pkgs=("${compiler_pkgs[@]}")
if [ "$with_cublas" = 1 ]; then pkgs+=("$cublas_pkg"); fi
# The stamp names exactly what is installed; a different list reinstalls the whole folder.
want="$(printf '%s\n' "${pkgs[@]}")"
home="$dest/nvidia/cu13"

print_env() {
  cat <<EOF
# CUDA toolchain in $home ($("$home/bin/nvcc" --version | grep -oE 'release [0-9.]+' || echo 'nvcc ?')):
export CUDA_HOME="$home"
export CUDA_PATH="$home"
export CUDACXX="$home/bin/nvcc"
export PATH="$home/bin:\$PATH"
export CPATH="$home/include\${CPATH:+:\$CPATH}"
export LIBRARY_PATH="$home/lib\${LIBRARY_PATH:+:\$LIBRARY_PATH}"
export LD_LIBRARY_PATH="$home/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
EOF
}

installed=0
if [ -f "$dest/.installed" ] && [ "$(cat "$dest/.installed")" = "$want" ] && [ -x "$home/bin/nvcc" ]; then
  installed=1
fi
if [ "$env_only" = 1 ]; then
  if [ "$installed" = 0 ]; then
    echo "install-cuda-compiler: nothing installed in $dest yet" >&2
    exit 1
  fi
  print_env
  exit 0
fi

if [ "$installed" = 1 ]; then
  echo "install-cuda-compiler: already installed in $dest" >&2
else
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) ;;
    *)
      echo "install-cuda-compiler: the NVIDIA wheels pinned here are for Linux x86-64 only" >&2
      exit 1
      ;;
  esac
  py="$(command -v python3 || command -v python || true)"
  if [ -z "$py" ] || ! "$py" -m pip --version >/dev/null 2>&1; then
    echo "install-cuda-compiler: needs python3 with pip" >&2
    exit 1
  fi
  mb=129
  if [ "$with_cublas" = 1 ]; then mb=573; fi
  echo "install-cuda-compiler: downloading about $mb MB of wheels into $dest ..." >&2
  # Staged beside the destination, then swapped in: an interrupted run leaves the old one intact.
  stage="$dest.partial"
  rm -rf "$stage"
  # --no-deps: the list above is complete for compiling and linking (cuBLAS's nvrtc dependency
  # is only loaded at run time, for a few cuBLASLt kernels).
  PIP_ROOT_USER_ACTION=ignore "$py" -m pip install --quiet --disable-pip-version-check --no-deps --no-compile \
    --only-binary=:all: --target "$stage" "${pkgs[@]}"
  stage_home="$stage/nvidia/cu13"
  # The wheels ship only versioned sonames; the linker's -lcudart/-lcublas want the plain names.
  for lib in "$stage_home"/lib/lib*.so.*; do
    [ -e "$lib" ] || continue
    base="$(basename "$lib")"
    plain="${base%%.so.*}.so"
    [ -e "$stage_home/lib/$plain" ] || ln -s "$base" "$stage_home/lib/$plain"
  done
  # CMake's FindCUDAToolkit locates the toolkit from nvcc; it also reads version.json when present.
  printf '{ "cuda" : { "name" : "CUDA SDK", "version" : "%s" } }\n' "$CUDA_VER" >"$stage_home/version.json"
  printf '%s\n' "${pkgs[@]}" >"$stage/.installed"
  "$stage_home/bin/nvcc" --version >/dev/null
  rm -rf "$dest"
  mv "$stage" "$dest"
  echo "install-cuda-compiler: installed $(du -sm "$dest" | cut -f1) MB in $dest" >&2
fi

echo "install-cuda-compiler: to use it in a shell, run: eval \"\$(bash scripts/install-cuda-compiler.sh --env)\"" >&2
echo "install-cuda-compiler: npm run check:cuda finds it without that." >&2
print_env
