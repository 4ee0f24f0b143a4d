// Shared declarations of the CUDA addon: dtypes, the stream, error checks, launch geometry,
// strided indexing and the device math overloads every kernel family uses.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <string>

#include "kernels.h"

namespace vi {

// Shapes after the TS side merges contiguous dims rarely exceed this; longer ones are refused.
constexpr int MAX_RANK = 10;

// The output shape and up to three inputs' element strides (0 on broadcast axes).
template <int J>
struct StridedN {
  int rank;
  int64_t shape[MAX_RANK];
  int64_t st[J][MAX_RANK];
};
using Strided = StridedN<3>;

constexpr int THREADS = 256;

// Grid-stride launches: enough blocks to fill the device, never more than the work needs.
inline unsigned gridFor(int64_t n, int threads = THREADS) {
  int64_t b = (n + threads - 1) / threads;
  const int64_t cap = 132 * 32;
  if (b > cap) b = cap;
  if (b < 1) b = 1;
  return static_cast<unsigned>(b);
}

#define VI_GRID_LOOP(i, n) \
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

// Offset of output element i into input `k` of `s`.
template <int K, int J>
__device__ __forceinline__ void offsets(int64_t i, const StridedN<J>& s, int64_t (&off)[K]) {
  static_assert(K <= J, "offsets: more operands than the layout has strides for");
#pragma unroll
  for (int k = 0; k < K; k++) off[k] = 0;
  for (int d = s.rank - 1; d >= 0; d--) {
    const int64_t n = s.shape[d];
    const int64_t q = i / n;
    const int64_t r = i - q * n;
    i = q;
#pragma unroll
    for (int k = 0; k < K; k++) off[k] += r * s.st[k][d];
  }
}

// ---- device math: one name for float and double ----
#define VI_MATH1(name, f32, f64)                                   \
  __device__ __forceinline__ float name(float x) { return f32(x); } \
  __device__ __forceinline__ double name(double x) { return f64(x); }
VI_MATH1(m_exp, expf, exp)
VI_MATH1(m_expm1, expm1f, expm1)
VI_MATH1(m_log, logf, log)
VI_MATH1(m_log1p, log1pf, log1p)
VI_MATH1(m_sin, sinf, sin)
VI_MATH1(m_cos, cosf, cos)
VI_MATH1(m_tanh, tanhf, tanh)
VI_MATH1(m_sqrt, sqrtf, sqrt)
VI_MATH1(m_floor, floorf, floor)
VI_MATH1(m_ceil, ceilf, ceil)
VI_MATH1(m_abs, fabsf, fabs)
#undef VI_MATH1
__device__ __forceinline__ float m_pow(float a, float b) { return powf(a, b); }
__device__ __forceinline__ double m_pow(double a, double b) { return pow(a, b); }

// float → int32 as a cast: truncate toward zero, saturate out of range, NaN → 0 (Rust's `as i32`).
__device__ __forceinline__ int32_t castInt32(double v) {
  if (v != v) return 0;
  return v >= 2147483647.0 ? 2147483647 : v <= -2147483648.0 ? -2147483647 - 1 : static_cast<int32_t>(trunc(v));
}

// JS ToInt32 of a double (int32 reductions): truncate, wrap modulo 2^32; NaN and infinities give 0.
__device__ __forceinline__ int32_t toInt32(double v) {
  if (!isfinite(v)) return 0;
  double t = trunc(v);
  if (t >= -2147483648.0 && t <= 2147483647.0) return static_cast<int32_t>(t);
  t = fmod(t, 4294967296.0);
  if (t < 0) t += 4294967296.0;
  return static_cast<int32_t>(static_cast<uint32_t>(t));
}

// bfloat16 bits of a float, rounded to nearest even, NaN as 0x7fc0: the js reference's
// toBfloat16 (ts/core/dtype.ts) and PyTorch's, bit for bit. Its value is exact in float.
__device__ __forceinline__ uint16_t bf16Bits(float f) {
  const uint32_t u = __float_as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fc0;
  return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
__device__ __forceinline__ float bf16Value(uint16_t b) { return __uint_as_float((uint32_t)b << 16); }

}  // namespace vi
