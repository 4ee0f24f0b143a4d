#!/usr/bin/env bash
# The device-machine side of the CUDA verification (see bench/README-cuda.md): builds the addon
# with plain cmake, runs the conformance + gradient suites + checks + benchmarks, the end-to-end
# training runs beside PyTorch's, PyTorch's kernel benchmarks, and compute-sanitizer (memcheck,
# racecheck) over the reduced case set. Expects .carry/ (node.xz, node-inc, naa, dist, mnist)
# from the lead machine and writes logs under $OUT. NO_TRAIN, NO_TORCH, NO_SANITIZER skip parts;
# BURDA=vae|iwae|iwae2 adds a resumable stretch of Burda et al.'s schedule (bench/gpu/burda.ts);
# CUDA_ARCHS=90 builds for Hopper only (half the build time).
set -u
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
xz -dc .carry/node.xz > /tmp/node && chmod +x /tmp/node
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv | tee "$OUT/gpu.txt"
nvcc --version | tail -2
t0=$(date +%s)
{ cmake -S . -B build -DNODE_INCLUDE_DIRS="$PWD/.carry/node-inc" -DNODE_ADDON_API_DIR="$PWD/.carry/naa" "-DCMAKE_CUDA_ARCHITECTURES=${CUDA_ARCHS:-90;80}" \
  && cmake --build build --parallel 16; } > "$OUT/build.log" 2>&1
rc=$?
echo "build rc=$rc in $(( $(date +%s) - t0 )) s"
grep -E "error|warning" "$OUT/build.log" | grep -v "^--" | head -40
if [ $rc -ne 0 ]; then tail -60 "$OUT/build.log"; exit 1; fi
export VARINF_CUDA_ADDON=$PWD/build/Release/varinf_cuda.node VARINF_QUIET=1
timeout "${VERIFY_S:-240}" /tmp/node .carry/dist/bench/gpu/verify.js ${VERIFY_ARGS:-} --json "$OUT/verify.json" 2>&1 | tee "$OUT/verify.log"
echo "verify rc=${PIPESTATUS[0]}"
if [ -z "${NO_TRAIN:-}" ]; then
  test_bin=/tmp/mnist-test-binarized-idx3-ubyte
  VARINF_MNIST_DIR=$PWD/.carry/mnist timeout "${TRAIN_S:-200}" /tmp/node .carry/dist/bench/gpu/train.js --test-out $test_bin ${TRAIN_ARGS:-} 2>&1 | tee "$OUT/train.log"
  echo "train rc=${PIPESTATUS[0]}"
  if [ -n "${PROFILE:-}" ]; then
    # A CPU profile of the JS side of eager training on cuda (short runs), for where the time goes.
    VARINF_MNIST_DIR=$PWD/.carry/mnist timeout 120 /tmp/node --cpu-prof --cpu-prof-dir "$OUT/prof" .carry/dist/bench/gpu/train.js \
      --test-out $test_bin --steps-vae 300 --steps-iwae 20 > "$OUT/profile-run.log" 2>&1
    echo "profile rc=$?"
  fi
  if [ -z "${NO_TORCH:-}" ]; then
    for ok in "elbo 1 ${STEPS_VAE:-1200}" "iwae 50 ${STEPS_IWAE:-200}"; do
      set -- $ok
      timeout 120 python3 bench/peers/vae_torch.py --device cuda --mnist .carry/mnist --test-bin $test_bin --objective $1 --k $2 --steps $3 2>&1 | tail -1 | tee -a "$OUT/train.log"
    done
  fi
fi
if [ -n "${BURDA:-}" ]; then
  # Burda et al.'s Table 1 schedule (bench/gpu/burda.ts), resumable: the checkpoint comes back in
  # $OUT; put it in .carry/ for the next session to continue (BURDA=vae|iwae|iwae2, BURDA_S seconds).
  ck=.carry/burda-$BURDA.safetensors
  VARINF_MNIST_DIR=$PWD/.carry/mnist timeout $(( ${BURDA_S:-300} + 240 )) /tmp/node .carry/dist/bench/gpu/burda.js --model "$BURDA" --graphs \
    --time-limit "${BURDA_S:-300}" --checkpoint "$ck" 2>&1 | grep -v "^\[" | tee "$OUT/burda.log"
  echo "burda rc=${PIPESTATUS[0]}"
  [ -f "$ck" ] && cp "$ck" "$OUT/"
fi
if [ -z "${NO_TORCH:-}" ]; then
  PYTHONUNBUFFERED=1 timeout 120 python3 bench/gpu/torch_bench.py 2>&1 | tee "$OUT/torch.log"
fi
if [ -z "${NO_SANITIZER:-}" ]; then
  for tool in memcheck racecheck; do
    timeout "${SAN_S:-150}" compute-sanitizer --tool $tool --report-api-errors no $([ $tool = memcheck ] && echo --leak-check no) /tmp/node \
      .carry/dist/bench/gpu/verify.js --reduced > "$OUT/$tool.log" 2>&1
    echo "$tool rc=$?"
    grep -E "ERROR SUMMARY|RACECHECK SUMMARY|Invalid|hazard|conformance|gradients on" "$OUT/$tool.log" | head -20
  done
fi
