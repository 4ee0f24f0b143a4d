// The fused Gaussian kernels of variational inference (ts/kernels/spec.ts), loc and logScale
// broadcast through strides over the output shape:
// - normalReparam: z = loc + exp(logScale)·ε and log q = −½ε² − logScale − ½ log 2π, ε the normals
//   randomNormal writes for the same key and shape (philox.cuh's normalBlock). Each thread draws
//   one Philox block and writes the elements its normals make. Multiplies and adds are the
//   explicitly rounded intrinsics, so no FMA contraction creeps in: z and log q equal this
//   backend's randomNormal → exp → mul → add and square → mul → sub → sub kernels.
// - diagNormalKL: KL(N(loc, σ²) ‖ N(0, 1)) = ½ loc² + ½ expm1(2·logScale) − logScale, in double
//   and rounded on the store, as js does.
#include "common.cuh"
#include "kernels.h"
#include "philox.cuh"

namespace vi {

// ½ log 2π, as the js reference's 0.5 * Math.log(2 * Math.PI).
constexpr double HALF_LOG_2PI = 0.9189385332046727;

__device__ __forceinline__ float mulRn(float a, float b) { return __fmul_rn(a, b); }
__device__ __forceinline__ double mulRn(double a, double b) { return __dmul_rn(a, b); }
__device__ __forceinline__ float addRn(float a, float b) { return __fadd_rn(a, b); }
__device__ __forceinline__ double addRn(double a, double b) { return __dadd_rn(a, b); }
__device__ __forceinline__ float subRn(float a, float b) { return __fsub_rn(a, b); }
__device__ __forceinline__ double subRn(double a, double b) { return __dsub_rn(a, b); }

template <class T>
__global__ void normalReparamK(Key key, const T* __restrict__ loc, const T* __restrict__ logScale,
                               T* __restrict__ z, T* __restrict__ logq, int64_t n, Strided s) {
  const uint32_t k0 = key.word(0), k1 = key.word(1);
  constexpr int PER = NORMALS_PER_BLOCK<T>;
  const T c = T(HALF_LOG_2PI);
  VI_GRID_LOOP(b, (n + PER - 1) / PER) {
    T eps[PER];
    normalBlock<T>(b, k0, k1, eps);
#pragma unroll
    for (int l = 0; l < PER; l++) {
      const int64_t i = PER * b + l;
      if (i >= n) break;
      int64_t off[2];
      offsets<2>(i, s, off);
      const T e = eps[l];
      const T ls = logScale[off[1]];
      z[i] = addRn(loc[off[0]], mulRn(m_exp(ls), e));
      logq[i] = subRn(subRn(mulRn(mulRn(e, e), T(-0.5)), ls), c);
    }
  }
}

template <class T>
__global__ void diagNormalKLK(const T* __restrict__ loc, const T* __restrict__ logScale, T* __restrict__ out, int64_t n,
                              Strided s) {
  VI_GRID_LOOP(i, n) {
    int64_t off[2];
    offsets<2>(i, s, off);
    const double m = double(loc[off[0]]), ls = double(logScale[off[1]]);
    out[i] = T(0.5 * m * m + 0.5 * expm1(2 * ls) - ls);
  }
}

// The output shape with the strides of loc and logScale over it.
static Strided gaussStrided(const char* op, const Dims& shape, const Dims& sLoc, const Dims& sLogScale) {
  if (shape.size() > (size_t)MAX_RANK)
    throw std::runtime_error(std::string("cuda ") + op + ": rank " + std::to_string(shape.size()) + " exceeds " +
                             std::to_string(MAX_RANK));
  Strided s{};
  s.rank = (int)shape.size();
  for (int d = 0; d < s.rank; d++) {
    s.shape[d] = shape[d];
    s.st[0][d] = sLoc[d];
    s.st[1][d] = sLogScale[d];
  }
  return s;
}

static int64_t numel(const Dims& shape) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

void normalReparam(Key key, int dt, const void* loc, const void* logScale, void* z, void* logq,
                   const Dims& shape, const Dims& sLoc, const Dims& sLogScale) {
  const int64_t n = numel(shape);
  if (n == 0) return;
  const Strided s = gaussStrided("normalReparam", shape, sLoc, sLogScale);
  if (dt == F32)
    normalReparamK<float><<<gridFor((n + 3) / 4), THREADS, 0, stream()>>>(
        key, (const float*)loc, (const float*)logScale, (float*)z, (float*)logq, n, s);
  else if (dt == F64)
    normalReparamK<double><<<gridFor((n + 1) / 2), THREADS, 0, stream()>>>(
        key, (const double*)loc, (const double*)logScale, (double*)z, (double*)logq, n, s);
  else throw std::runtime_error("cuda normalReparam: int32 is not supported");
  checkLaunch("normalReparam");
}

void diagNormalKL(int dt, const void* loc, const void* logScale, void* out, const Dims& shape, const Dims& sLoc,
                  const Dims& sLogScale) {
  const int64_t n = numel(shape);
  if (n == 0) return;
  const Strided s = gaussStrided("diagNormalKL", shape, sLoc, sLogScale);
  if (dt == F32)
    diagNormalKLK<float><<<gridFor(n), THREADS, 0, stream()>>>((const float*)loc, (const float*)logScale, (float*)out,
                                                              n, s);
  else if (dt == F64)
    diagNormalKLK<double><<<gridFor(n), THREADS, 0, stream()>>>((const double*)loc, (const double*)logScale,
                                                               (double*)out, n, s);
  else throw std::runtime_error("cuda diagNormalKL: int32 is not supported");
  checkLaunch("diagNormalKL");
}

}  // namespace vi
