#!/usr/bin/env bash
# The device-machine side of the CUDA verification (see bench/README-cuda.md): builds the addon
# with plain cmake, runs the conformance + checks + benchmarks, PyTorch's benchmarks, and
# compute-sanitizer memcheck over the reduced case set. Expects .carry/ (node.xz, node-inc, naa,
# dist) from the lead machine and writes logs under $OUT.
set -u
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
xz -dc .carry/node.xz > /tmp/node && chmod +x /tmp/node
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv | tee "$OUT/gpu.txt"
nvcc --version | tail -2
t0=$(date +%s)
{ cmake -S . -B build -DNODE_INCLUDE_DIRS="$PWD/.carry/node-inc" -DNODE_ADDON_API_DIR="$PWD/.carry/naa" \
  && cmake --build build --parallel 16; } > "$OUT/build.log" 2>&1
rc=$?
echo "build rc=$rc in $(( $(date +%s) - t0 )) s"
grep -E "error|warning" "$OUT/build.log" | grep -v "^--" | head -40
if [ $rc -ne 0 ]; then tail -60 "$OUT/build.log"; exit 1; fi
export VARINF_CUDA_ADDON=$PWD/build/Release/varinf_cuda.node VARINF_QUIET=1
ls -la build/Release/
timeout "${VERIFY_S:-200}" /tmp/node .carry/dist/bench/gpu/verify.js ${VERIFY_ARGS:-} --json "$OUT/verify.json" 2>&1 | tee "$OUT/verify.log"
echo "verify rc=${PIPESTATUS[0]}"
if [ -z "${NO_TORCH:-}" ]; then
  PYTHONUNBUFFERED=1 timeout 120 python3 bench/gpu/torch_bench.py 2>&1 | tee "$OUT/torch.log"
fi
if [ -z "${NO_SANITIZER:-}" ]; then
  timeout "${SAN_S:-240}" compute-sanitizer --tool memcheck --leak-check no --report-api-errors no /tmp/node \
    .carry/dist/bench/gpu/verify.js --reduced > "$OUT/memcheck.log" 2>&1
  echo "memcheck rc=$?"
  grep -E "ERROR SUMMARY|Invalid|conformance" "$OUT/memcheck.log" | head -20
  tail -5 "$OUT/memcheck.log"
fi
