// The fused Cholesky-guide sample mvnReparam (ts/kernels/spec.ts): per batch row b,
// z = loc + L ε over L's lower triangle and log q = −½‖ε‖² − Σ_i log|L_ii| − (d/2) log 2π, with loc
// and L broadcast over the batch through strides. ε is randomNormal's stream for z's shape,
// written into z by randomNormal itself; a second kernel then overwrites each row
// in place from its last element down, since z_i reads only ε_0..ε_i. Sums accumulate in double with
// explicitly rounded multiplies and adds (no FMA contraction), each result rounded to T where the
// unfused kernels store theirs. Rows of d < 32 take one thread each; longer rows a warp each, its
// lanes splitting every dot product (so the order of the sums, not their terms, differs).
#include <type_traits>

#include "common.cuh"
#include "kernels.h"

namespace vi {
namespace {

// log 2π, as the js reference's Math.log(2 * Math.PI).
constexpr double LOG_2PI_MVN = 1.8378770664093453;
// Rows at least this long are computed by a warp.
constexpr int64_t WARP_ROW_MIN = 32;

template <class T>
__device__ __forceinline__ double rnd(double v) {
  return double(T(v));
}

// One thread per row: the js reference's loops and order exactly.
template <class T>
__global__ void mvnRowK(const T* __restrict__ loc, const T* __restrict__ l, T* __restrict__ z, T* __restrict__ logq,
                        int64_t rows, int64_t d, double c, Strided s) {
  VI_GRID_LOOP(r, rows) {
    int64_t off[2];
    offsets<2>(r, s, off);
    const T* m = loc + off[0];
    const T* L = l + off[1];
    T* zr = z + r * d;
    double sq = 0, ld = 0;
    for (int64_t i = 0; i < d; i++) {
      const double e = double(zr[i]);
      sq = __dadd_rn(sq, rnd<T>(__dmul_rn(e, e)));
      ld = __dadd_rn(ld, rnd<T>(log(fabs(double(L[i * d + i])))));
    }
    for (int64_t i = d - 1; i >= 0; i--) {
      double acc = 0;
      for (int64_t k = 0; k <= i; k++) acc = __dadd_rn(acc, __dmul_rn(double(L[i * d + k]), double(zr[k])));
      zr[i] = T(__dadd_rn(double(m[i]), rnd<T>(acc)));
    }
    logq[r] = T(__dsub_rn(rnd<T>(__dsub_rn(rnd<T>(__dmul_rn(rnd<T>(sq), -0.5)), rnd<T>(ld))), c));
  }
}

__device__ __forceinline__ double warpSum(double v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// One warp per row (d ≥ 32): lanes stride over k in each dot product and over i in the sums.
template <class T>
__global__ void mvnWarpK(const T* __restrict__ loc, const T* __restrict__ l, T* __restrict__ z, T* __restrict__ logq,
                         int64_t rows, int64_t d, double c, Strided s) {
  const int lane = threadIdx.x & 31;
  const int64_t warp = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5;
  const int64_t warps = ((int64_t)gridDim.x * blockDim.x) >> 5;
  for (int64_t r = warp; r < rows; r += warps) {
    int64_t off[2];
    offsets<2>(r, s, off);
    const T* m = loc + off[0];
    const T* L = l + off[1];
    T* zr = z + r * d;
    double sq = 0, ld = 0;
    for (int64_t i = lane; i < d; i += 32) {
      const double e = double(zr[i]);
      sq += rnd<T>(e * e);
      ld += rnd<T>(log(fabs(double(L[i * d + i]))));
    }
    sq = warpSum(sq);
    ld = warpSum(ld);
    for (int64_t i = d - 1; i >= 0; i--) {
      double acc = 0;
      for (int64_t k = lane; k <= i; k += 32) acc += double(L[i * d + k]) * double(zr[k]);
      acc = warpSum(acc);
      // Every lane has read ε_0..ε_i (the shuffles above wait for all of them) before z_i is stored.
      if (lane == 0) zr[i] = T(double(m[i]) + rnd<T>(acc));
      __syncwarp();
    }
    if (lane == 0) logq[r] = T(rnd<T>(rnd<T>(rnd<T>(sq) * -0.5) - rnd<T>(ld)) - c);
  }
}

template <class T>
void launchMvn(Key key, const void* loc, const void* l, void* z, void* logq, int64_t rows,
               int64_t d, const Strided& s) {
  const int64_t n = rows * d;
  // ε first, into z: randomNormal's draws of the key, so z = loc + Lε uses the same normals.
  randomNormal(key, std::is_same_v<T, float> ? F32 : F64, z, n);
  const double c = rnd<T>(0.5 * double(d) * LOG_2PI_MVN);
  if (d < WARP_ROW_MIN)
    mvnRowK<T><<<gridFor(rows), THREADS, 0, stream()>>>((const T*)loc, (const T*)l, (T*)z, (T*)logq, rows, d, c, s);
  else
    mvnWarpK<T><<<gridFor(rows * 32), THREADS, 0, stream()>>>((const T*)loc, (const T*)l, (T*)z, (T*)logq, rows, d,
                                                                c, s);
}

}  // namespace

void mvnReparam(Key key, int dt, const void* loc, const void* scaleTril, void* z, void* logq,
                const Dims& batch, const Dims& sLoc, const Dims& sL, int64_t d) {
  if (batch.size() > (size_t)MAX_RANK)
    throw std::runtime_error("cuda mvnReparam: batch rank " + std::to_string(batch.size()) + " exceeds " +
                             std::to_string(MAX_RANK));
  Strided s{};
  s.rank = (int)batch.size();
  int64_t rows = 1;
  for (int a = 0; a < s.rank; a++) {
    s.shape[a] = batch[a];
    s.st[0][a] = sLoc[a];
    s.st[1][a] = sL[a];
    rows *= batch[a];
  }
  if (rows == 0 || d == 0) return;
  if (dt == F32) launchMvn<float>(key, loc, scaleTril, z, logq, rows, d, s);
  else if (dt == F64) launchMvn<double>(key, loc, scaleTril, z, logq, rows, d, s);
  else throw std::runtime_error("cuda mvnReparam: int32 is not supported");
  checkLaunch("mvnReparam");
}

}  // namespace vi
