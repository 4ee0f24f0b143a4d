// Reductions over contiguous rows (the TS side permutes reduced axes last), arg-reductions,
// softmax/logSoftmax and cumsum along one axis of an [outer, len, inner] view.
// Accumulation is in double for every dtype, as the js reference accumulates in JS numbers.
#include "common.cuh"
#include "kernels.h"

namespace vi {

enum ROp { R_SUM, R_PROD, R_MAX, R_MIN, R_LSE, R_ARGMAX, R_ARGMIN, R_IPROD };

// One accumulator shape for every op: value, logsumexp's scaled sum, and the arg index.
struct Acc {
  double v;
  double s;
  int64_t i;
};

template <int OP>
__device__ __forceinline__ Acc rInit() {
  if constexpr (OP == R_SUM) return {0.0, 0.0, 0};
  if constexpr (OP == R_PROD || OP == R_IPROD) return {1.0, 0.0, 0};
  if constexpr (OP == R_MAX || OP == R_ARGMAX || OP == R_LSE) return {-INFINITY, 0.0, INT64_MAX};
  return {INFINITY, 0.0, INT64_MAX};
}

template <int OP>
__device__ __forceinline__ Acc rLoad(double x, int64_t i) {
  if constexpr (OP == R_LSE) return {x, 1.0, i};
  return {x, 0.0, i};
}

template <int OP>
__device__ __forceinline__ Acc rComb(const Acc& a, const Acc& b) {
  if constexpr (OP == R_SUM) return {a.v + b.v, 0.0, 0};
  if constexpr (OP == R_PROD) return {a.v * b.v, 0.0, 0};
  // int32 products wrap modulo 2^32 (Math.imul in the js reference).
  if constexpr (OP == R_IPROD)
    return {double((int32_t)((uint32_t)(int32_t)a.v * (uint32_t)(int32_t)b.v)), 0.0, 0};
  // NaN propagates through max/min, as in the elementwise maximum/minimum.
  if constexpr (OP == R_MAX) return (a.v > b.v || a.v != a.v) ? a : b;
  if constexpr (OP == R_MIN) return (a.v < b.v || a.v != a.v) ? a : b;
  if constexpr (OP == R_ARGMAX || OP == R_ARGMIN) {
    // The first occurrence wins ties; a NaN beats any number (NumPy's rule).
    const bool an = a.v != a.v, bn = b.v != b.v;
    if (an || bn) return (an && (!bn || a.i < b.i)) ? a : b;
    const bool better = OP == R_ARGMAX ? a.v > b.v : a.v < b.v;
    return (better || (a.v == b.v && a.i < b.i)) ? a : b;
  }
  if constexpr (OP == R_LSE) {
    // Online logsumexp: s is the sum of exp(x - v) over what was seen.
    if (a.v != a.v) return a;
    if (b.v != b.v) return b;
    if (a.v == -INFINITY) return b;
    if (b.v == -INFINITY) return a;
    const double m = a.v > b.v ? a.v : b.v;
    if (isinf(m)) return {m, 1.0, 0};
    return {m, a.s * exp(a.v - m) + b.s * exp(b.v - m), 0};
  }
}

template <int OP, class O>
__device__ __forceinline__ O rFinal(const Acc& a) {
  if constexpr (OP == R_ARGMAX || OP == R_ARGMIN) return O(a.i);
  double r = a.v;
  if constexpr (OP == R_LSE) r = isinf(a.v) || a.v != a.v ? a.v : a.v + log(a.s);
  if constexpr (std::is_same_v<O, int32_t>) return toInt32(r);
  else return O(r);
}

// One block per (row, chunk). Stage 1 reads x; stage 2 (x null) folds stage 1's partials.
template <int OP, class T, class O>
__global__ void reduceK(const T* __restrict__ x, const Acc* __restrict__ part, Acc* __restrict__ partOut,
                        O* __restrict__ out, int64_t rows, int64_t len, int chunks, int64_t chunkLen) {
  __shared__ Acc sh[THREADS];
  const int64_t b = blockIdx.x;
  const int64_t row = b / chunks;
  const int64_t c = b - row * chunks;
  const int64_t start = c * chunkLen;
  const int64_t end = min(len, start + chunkLen);
  Acc acc = rInit<OP>();
  for (int64_t j = start + threadIdx.x; j < end; j += blockDim.x)
    acc = rComb<OP>(acc, x ? rLoad<OP>(double(x[row * len + j]), j) : part[row * len + j]);
  sh[threadIdx.x] = acc;
  __syncthreads();
  for (int w = THREADS / 2; w > 0; w >>= 1) {
    if ((int)threadIdx.x < w) sh[threadIdx.x] = rComb<OP>(sh[threadIdx.x], sh[threadIdx.x + w]);
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    if (out) out[row] = rFinal<OP, O>(sh[0]);
    else partOut[b] = sh[0];
  }
}

// Short rows: one thread per row.
template <int OP, class T, class O>
__global__ void reduceSmallK(const T* __restrict__ x, O* __restrict__ out, int64_t rows, int64_t len) {
  VI_GRID_LOOP(r, rows) {
    Acc acc = rInit<OP>();
    for (int64_t j = 0; j < len; j++) acc = rComb<OP>(acc, rLoad<OP>(double(x[r * len + j]), j));
    out[r] = rFinal<OP, O>(acc);
  }
}

template <int OP, class T, class O>
static void reduceLaunch(const void* xv, void* outv, int64_t rows, int64_t len, const char* name) {
  const T* x = (const T*)xv;
  O* out = (O*)outv;
  if (rows == 0) return;
  if (len <= 32 && rows >= 1024) {
    reduceSmallK<OP, T, O><<<gridFor(rows), THREADS, 0, stream()>>>(x, out, rows, len);
    checkLaunch(name);
    return;
  }
  // Few long rows: split each into chunks so the whole device works, then fold the partials.
  int chunks = 1;
  if (rows < 528 && len > 16384) {
    int64_t want = (1056 + rows - 1) / rows;
    int64_t maxc = (len + 4095) / 4096;
    chunks = (int)(want < maxc ? want : maxc);
  }
  if (chunks == 1) {
    reduceK<OP, T, O><<<(unsigned)rows, THREADS, 0, stream()>>>(x, nullptr, nullptr, out, rows, len, 1, len);
    checkLaunch(name);
    return;
  }
  const int64_t chunkLen = (len + chunks - 1) / chunks;
  const size_t bytes = sizeof(Acc) * rows * chunks;
  Acc* part = (Acc*)scratch(bytes);
  reduceK<OP, T, O><<<(unsigned)(rows * chunks), THREADS, 0, stream()>>>(x, nullptr, part, nullptr, rows, len, chunks,
                                                                        chunkLen);
  checkLaunch(name);
  reduceK<OP, T, O><<<(unsigned)rows, THREADS, 0, stream()>>>(nullptr, part, nullptr, out, rows, chunks, 1, chunks);
  checkLaunch(name);
  releaseScratch(part, bytes);
}

template <int OP>
static void reduceDt(int dt, const void* x, void* out, int64_t rows, int64_t len, const char* name) {
  if (dt == F32) reduceLaunch<OP, float, float>(x, out, rows, len, name);
  else if (dt == F64) reduceLaunch<OP, double, double>(x, out, rows, len, name);
  else reduceLaunch<OP, int32_t, int32_t>(x, out, rows, len, name);
}

void reduceRows(const std::string& op, int dt, const void* x, void* out, int64_t rows, int64_t len) {
  if (op == "sum") reduceDt<R_SUM>(dt, x, out, rows, len, "sum");
  else if (op == "prod" && dt == I32) reduceLaunch<R_IPROD, int32_t, int32_t>(x, out, rows, len, "prod");
  else if (op == "prod") reduceDt<R_PROD>(dt, x, out, rows, len, "prod");
  else if (op == "max") reduceDt<R_MAX>(dt, x, out, rows, len, "max");
  else if (op == "min") reduceDt<R_MIN>(dt, x, out, rows, len, "min");
  else if (op == "logsumexp") {
    if (dt == I32) throw std::runtime_error("cuda logsumexp: int32 is not supported");
    reduceDt<R_LSE>(dt, x, out, rows, len, "logsumexp");
  } else throw std::runtime_error("cuda reduce: unknown op '" + op + "'");
}

void argReduceRows(bool isMax, int dt, const void* x, int32_t* out, int64_t rows, int64_t len) {
  const char* name = isMax ? "argmax" : "argmin";
  if (isMax) {
    if (dt == F32) reduceLaunch<R_ARGMAX, float, int32_t>(x, out, rows, len, name);
    else if (dt == F64) reduceLaunch<R_ARGMAX, double, int32_t>(x, out, rows, len, name);
    else reduceLaunch<R_ARGMAX, int32_t, int32_t>(x, out, rows, len, name);
  } else {
    if (dt == F32) reduceLaunch<R_ARGMIN, float, int32_t>(x, out, rows, len, name);
    else if (dt == F64) reduceLaunch<R_ARGMIN, double, int32_t>(x, out, rows, len, name);
    else reduceLaunch<R_ARGMIN, int32_t, int32_t>(x, out, rows, len, name);
  }
}

// ---- softmax: one warp per line (o, i), elements strided by `inner` ----
template <class T>
__global__ void softmaxK(const T* __restrict__ x, T* __restrict__ out, int64_t outer, int64_t len, int64_t inner,
                         bool logOut) {
  const int lane = threadIdx.x & 31;
  const int64_t lines = outer * inner;
  const int64_t warps = (int64_t)gridDim.x * (blockDim.x / 32);
  for (int64_t line = blockIdx.x * (int64_t)(blockDim.x / 32) + threadIdx.x / 32; line < lines; line += warps) {
    const int64_t o = line / inner, i = line - o * inner;
    const T* xp = x + o * len * inner + i;
    T* op = out + o * len * inner + i;
    double m = -INFINITY;
    for (int64_t k = lane; k < len; k += 32) {
      const double v = xp[k * inner];
      m = (v > m || v != v) ? v : m;
    }
    for (int s = 16; s > 0; s >>= 1) {
      const double w = __shfl_xor_sync(0xffffffffu, m, s);
      m = (w > m || w != w) ? w : m;
    }
    double sum = 0;
    for (int64_t k = lane; k < len; k += 32) sum += exp(double(xp[k * inner]) - m);
    for (int s = 16; s > 0; s >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, s);
    const double ls = log(sum);
    for (int64_t k = lane; k < len; k += 32) {
      const double d = double(xp[k * inner]) - m;
      op[k * inner] = logOut ? T(d - ls) : T(exp(d) / sum);
    }
  }
}

void softmax(bool logOut, int dt, const void* x, void* out, int64_t outer, int64_t len, int64_t inner) {
  const int64_t lines = outer * inner;
  if (lines == 0 || len == 0) return;
  const unsigned g = gridFor(lines * 32);
  if (dt == F32) softmaxK<float><<<g, THREADS, 0, stream()>>>((const float*)x, (float*)out, outer, len, inner, logOut);
  else softmaxK<double><<<g, THREADS, 0, stream()>>>((const double*)x, (double*)out, outer, len, inner, logOut);
  checkLaunch(logOut ? "logSoftmax" : "softmax");
}

// ---- cumsum: one thread per line; neighbouring threads read neighbouring i, so loads coalesce ----
template <class T>
__global__ void cumsumK(const T* __restrict__ x, T* __restrict__ out, int64_t outer, int64_t len, int64_t inner,
                        bool reverse) {
  VI_GRID_LOOP(line, outer * inner) {
    const int64_t o = line / inner, i = line - o * inner;
    const int64_t base = o * len * inner + i;
    double acc = 0;
    for (int64_t t = 0; t < len; t++) {
      const int64_t k = reverse ? len - 1 - t : t;
      acc += double(x[base + k * inner]);
      if constexpr (std::is_same_v<T, int32_t>) out[base + k * inner] = toInt32(acc);
      else out[base + k * inner] = T(acc);
    }
  }
}

void cumsum(bool reverse, int dt, const void* x, void* out, int64_t outer, int64_t len, int64_t inner) {
  const int64_t lines = outer * inner;
  if (lines == 0 || len == 0) return;
  const unsigned g = gridFor(lines);
  if (dt == F32) cumsumK<float><<<g, THREADS, 0, stream()>>>((const float*)x, (float*)out, outer, len, inner, reverse);
  else if (dt == F64) cumsumK<double><<<g, THREADS, 0, stream()>>>((const double*)x, (double*)out, outer, len, inner, reverse);
  else cumsumK<int32_t><<<g, THREADS, 0, stream()>>>((const int32_t*)x, (int32_t*)out, outer, len, inner, reverse);
  checkLaunch("cumsum");
}

}  // namespace vi
