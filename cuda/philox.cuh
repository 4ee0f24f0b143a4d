// The Philox-4x32-10 stream of ts/random/philox.ts, bit for bit, and its Box–Muller normals:
// shared by the random kernels (random.cu) and the fused Gaussian kernels (gauss.cu), so a fused
// sample draws exactly the normals randomNormal writes for the same key and shape.
#pragma once
#include <type_traits>

#include "common.cuh"

namespace vi {

constexpr double TWO_PI = 6.283185307179586;

struct W4 {
  uint32_t w[4];
};

__device__ __forceinline__ W4 philox(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1) {
#pragma unroll
  for (int r = 0; r < 10; r++) {
    const uint32_t hi0 = __umulhi(0xd2511f53u, c0), lo0 = 0xd2511f53u * c0;
    const uint32_t hi1 = __umulhi(0xcd9e8d57u, c2), lo1 = 0xcd9e8d57u * c2;
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += 0x9e3779b9u;
    k1 += 0xbb67ae85u;
  }
  return {{c0, c1, c2, c3}};
}

__device__ __forceinline__ W4 streamBlock(int64_t b, uint32_t k0, uint32_t k1) {
  return philox((uint32_t)b, (uint32_t)((uint64_t)b >> 32), 0, 0, k0, k1);
}

__device__ __forceinline__ double u32ToF32(uint32_t w) { return double(w >> 8) * 5.960464477539063e-8; }
__device__ __forceinline__ double u64ToF64(uint32_t w0, uint32_t w1) {
  return (double(w0 >> 5) * 67108864.0 + double(w1 >> 6)) * 1.1102230246251565e-16;
}

// Normals per Philox block: two Box–Muller pairs of float32 uniforms, or one pair of float64 ones.
template <class T>
constexpr int NORMALS_PER_BLOCK = std::is_same_v<T, float> ? 4 : 2;

// Normals PER·b .. PER·b + PER − 1 of the dtype's stream, from uniforms (2m, 2m+1): element 2m is
// r cos θ, 2m + 1 is r sin θ, in double and rounded to T on the store, as js does.
template <class T>
__device__ __forceinline__ void normalBlock(int64_t b, uint32_t k0, uint32_t k1, T (&eps)[NORMALS_PER_BLOCK<T>]) {
  constexpr int PER = NORMALS_PER_BLOCK<T>;
  const W4 r = streamBlock(b, k0, k1);
  double u[4];
  if constexpr (PER == 4) {
#pragma unroll
    for (int l = 0; l < 4; l++) u[l] = u32ToF32(r.w[l]);
  } else {
    u[0] = u64ToF64(r.w[0], r.w[1]);
    u[1] = u64ToF64(r.w[2], r.w[3]);
  }
#pragma unroll
  for (int p = 0; p < PER / 2; p++) {
    const double rad = sqrt(-2 * log(1 - u[2 * p]));
    const double th = TWO_PI * u[2 * p + 1];
    eps[2 * p] = T(rad * cos(th));
    eps[2 * p + 1] = T(rad * sin(th));
  }
}

}  // namespace vi
