// SVGD's update direction (Liu & Wang 2016), the `svgdPhi` kernel of ts/kernels/spec.ts, for n
// particles x [n, d] and scores g [n, d]:
//   phi = (K g + (2/h)(x ⊙ rowsum(K) − K x)) / n,  K_ij = exp(−D_ij / h),  D_ij = ‖x_i − x_j‖².
// Everything is queued on the one stream and nothing is read back to the host:
//  1. Column sums of x (a product with a ones vector); the centered particles xc = x − mean and
//     their squared norms sq. D and the repulsion x_i Σ_j K_ij − Σ_j K_ij x_j are translation
//     invariant, and centering keeps sq_i + sq_j − 2 xc_i·xc_j from cancelling for particles far
//     from the origin (any shift will do, so the mean need not be exact).
//  2. G = xc xcᵀ by cuBLAS, through the matmul entry (so the float32 precision setting applies).
//  3. D = max(0, sq_i + sq_j − 2 G_ij) in place, diagonal 0, with (median heuristic) the first
//     digit histogram of D's strict upper triangle taken on the way.
//  4. The median by an exact radix select on bit patterns (non-negative floats order like their
//     bits as unsigned integers; the sign bit is dropped, so −0 counts as +0): 11-bit digits, 3
//     passes for float32 (31 key bits), 6 for float64 (63). A pass counts the digit of every key
//     matching the prefix found so far in a shared-memory histogram, with warp-aggregated atomics
//     (distances crowd into a few bins), and one block then scans the 2048 bins for the wanted
//     rank and extends the prefix. 11-bit digits rather than 16: 2048 counters take 8 KB of shared
//     memory, where 65536 would take 256 KB, more than a block may have.
//     Of the n² distances the diagonal's n zeros sort first and every other one appears twice, so
//     rank k ≥ n of all n² is rank ⌊(k − n)/2⌋ of the triangle: only its n(n − 1)/2 keys are read.
//     An even count's second middle value is a tie of the first or the smallest key above it (one
//     min pass).
//  5. h = med / log(n + 1), or the fixed bandwidth, written on the device; K = exp(−D/h) in place
//     with the row sums r.
//  6. Cg = K g and Cx = K xc by cuBLAS, then phi = (Cg + (2/h)(xc ⊙ r − Cx)) / n.
#include <algorithm>
#include <cmath>

#include "common.cuh"
#include "kernels.h"

namespace vi {

namespace {

using u64 = unsigned long long;

constexpr int RADIX = 11;
constexpr int BINS = 1 << RADIX;
constexpr int PICK_THREADS = BINS / 2;
constexpr unsigned FULL = 0xffffffffu;

// What the median is made of, by the particle count: 0 (n = 1), U[r] (n odd), (0 + U[r]) / 2
// (n = 2), (U[r] + U[r + 1]) / 2 (n even, n ≥ 4), U the sorted strict upper triangle.
enum Mode { M_ZERO, M_ONE, M_HALF, M_PAIR };

// A non-negative float's order key: its bit pattern without the sign.
__device__ __forceinline__ u64 keyOf(float v) { return (u64)(__float_as_uint(v) & 0x7fffffffu); }
__device__ __forceinline__ u64 keyOf(double v) { return (u64)__double_as_longlong(v) & 0x7fffffffffffffffull; }
template <class T>
__device__ __forceinline__ double valueOf(u64 k);
template <>
__device__ __forceinline__ double valueOf<float>(u64 k) {
  return (double)__uint_as_float((unsigned)k);
}
template <>
__device__ __forceinline__ double valueOf<double>(u64 k) {
  return __longlong_as_double((long long)k);
}

// The radix select's state, in device memory.
struct Select {
  u64 prefix;     // key bits found so far (after the last pass: the selected key)
  u64 mask;       // which bits those are
  u64 rank;       // rank of the wanted key among the keys matching the prefix
  u64 ties;       // after the last pass: how many keys equal the selected one
  u64 next;       // the smallest key above the selected one (set by nextK)
  int nonFinite;  // a particle coordinate is NaN or ±∞ (the median is then NaN)
};

__global__ void initK(Select* st, u64 rank) {
  st->prefix = 0;
  st->mask = 0;
  st->rank = rank;
  st->ties = 0;
  st->next = ~0ull;
  st->nonFinite = 0;
}

// The sum over the block, in every thread, added in a fixed order (deterministic); `sh` holds a
// double per warp.
__device__ double blockSum(double v, double* sh) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL, v, o);
  if ((threadIdx.x & 31) == 0) sh[threadIdx.x >> 5] = v;
  __syncthreads();
  double s = 0;
  for (int w = 0; w < (int)(blockDim.x >> 5); w++) s += sh[w];
  // `sh` is reused by the next call.
  __syncthreads();
  return s;
}

// Adds the lanes with `take` to sh[digit]: the lanes holding one digit add their count once.
// Every lane of the warp must call it.
__device__ __forceinline__ void countDigit(unsigned* sh, bool take, unsigned digit) {
  const unsigned active = __ballot_sync(FULL, take);
  if (take) {
    const unsigned peers = __match_any_sync(active, digit);
    if ((int)(threadIdx.x & 31) == __ffs(peers) - 1) atomicAdd(&sh[digit], (unsigned)__popc(peers));
  }
}

__device__ __forceinline__ void clearBins(unsigned* sh) {
  for (int b = threadIdx.x; b < BINS; b += blockDim.x) sh[b] = 0;
}

__device__ __forceinline__ void flushBins(const unsigned* sh, u64* hist) {
  for (int b = threadIdx.x; b < BINS; b += blockDim.x)
    if (sh[b] != 0) atomicAdd(&hist[b], (u64)sh[b]);
}

// xc = x − sums/n and sq_i = ‖xc_i‖², a block per row; flags a non-finite coordinate in `st`.
template <class T>
__global__ void centerK(const T* __restrict__ x, const T* __restrict__ sums, T* __restrict__ xc, T* __restrict__ sq,
                        int64_t n, int64_t d, Select* st) {
  __shared__ double sh[THREADS / 32];
  for (int64_t i = blockIdx.x; i < n; i += gridDim.x) {
    double acc = 0;
    bool bad = false;
    for (int64_t k = threadIdx.x; k < d; k += blockDim.x) {
      const T v = x[i * d + k];
      bad |= !isfinite(v);
      const T c = T(double(v) - double(sums[k]) / double(n));
      xc[i * d + k] = c;
      acc += double(c) * double(c);
    }
    if (bad && st != nullptr) st->nonFinite = 1;
    const double s = blockSum(acc, sh);
    if (threadIdx.x == 0) sq[i] = T(s);
  }
}

// D = max(0, sq_i + sq_j − 2 G_ij) over G in place, diagonal 0, a block per row; with `hist`, the
// counts of the strict upper triangle's digit (key >> shift) & digits too.
template <class T>
__global__ void distK(T* __restrict__ D, const T* __restrict__ sq, int64_t n, u64* __restrict__ hist, int shift,
                      unsigned digits) {
  __shared__ unsigned sh[BINS];
  const bool counting = hist != nullptr;
  if (counting) clearBins(sh);
  __syncthreads();
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  for (int64_t i = blockIdx.x; i < n; i += gridDim.x) {
    const T si = sq[i];
    T* row = D + i * n;
    // Warp-aligned columns, so every lane of a warp runs the same iterations (countDigit).
    for (int64_t j0 = (int64_t)warp * 32; j0 < n; j0 += (int64_t)warps * 32) {
      const int64_t j = j0 + lane;
      T v = 0;
      if (j < n) {
        const T s = si + sq[j] - (row[j] + row[j]);
        v = (j == i || s < T(0)) ? T(0) : s;
        row[j] = v;
      }
      if (counting) countDigit(sh, j > i && j < n, (unsigned)(keyOf(v) >> shift) & digits);
    }
  }
  if (!counting) return;
  __syncthreads();
  flushBins(sh, hist);
}

// The digit counts of the strict upper triangle's keys that match the prefix found so far.
template <class T>
__global__ void histK(const T* __restrict__ D, int64_t n, const Select* __restrict__ st, u64* __restrict__ hist,
                      int shift, unsigned digits) {
  __shared__ unsigned sh[BINS];
  clearBins(sh);
  const u64 prefix = st->prefix, mask = st->mask;
  __syncthreads();
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  for (int64_t i = blockIdx.x; i < n; i += gridDim.x) {
    const T* row = D + i * n;
    for (int64_t j0 = ((i + 1) & ~int64_t(31)) + (int64_t)warp * 32; j0 < n; j0 += (int64_t)warps * 32) {
      const int64_t j = j0 + lane;
      bool take = false;
      unsigned digit = 0;
      if (j > i && j < n) {
        const u64 k = keyOf(row[j]);
        take = (k & mask) == prefix;
        digit = (unsigned)(k >> shift) & digits;
      }
      countDigit(sh, take, digit);
    }
  }
  __syncthreads();
  flushBins(sh, hist);
}

// One block of BINS/2 threads: finds the bin that holds rank st->rank among this pass's counts,
// extends the prefix by it, and clears the histogram for the next pass.
__global__ void pickK(u64* __restrict__ hist, Select* st, int shift, unsigned digits) {
  __shared__ u64 scan[PICK_THREADS];
  const int t = threadIdx.x;
  const u64 c0 = hist[2 * t], c1 = hist[2 * t + 1];
  const u64 rank = st->rank;
  scan[t] = c0 + c1;
  __syncthreads();
  for (int o = 1; o < PICK_THREADS; o <<= 1) {
    const u64 add = t >= o ? scan[t - o] : 0;
    __syncthreads();
    scan[t] += add;
    __syncthreads();
  }
  const u64 below = scan[t] - (c0 + c1);
  if (below <= rank && rank < scan[t]) {
    const bool first = rank < below + c0;
    st->prefix |= (u64)(2 * t + (first ? 0 : 1)) << shift;
    st->mask |= (u64)digits << shift;
    st->rank = rank - (first ? below : below + c0);
    st->ties = first ? c0 : c1;
  }
  hist[2 * t] = 0;
  hist[2 * t + 1] = 0;
}

// The smallest key of the strict upper triangle above the selected one, unless the next order
// statistic ties the selected key.
template <class T>
__global__ void nextK(const T* __restrict__ D, int64_t n, Select* st) {
  if (st->rank + 1 < st->ties) return;
  const u64 sel = st->prefix;
  u64 best = ~0ull;
  for (int64_t i = blockIdx.x; i < n; i += gridDim.x)
    for (int64_t j = i + 1 + threadIdx.x; j < n; j += blockDim.x) {
      const u64 k = keyOf(D[i * n + j]);
      if (k > sel && k < best) best = k;
    }
  for (int o = 16; o > 0; o >>= 1) best = min(best, __shfl_xor_sync(FULL, best, o));
  if ((threadIdx.x & 31) == 0 && best != ~0ull) atomicMin(&st->next, best);
}

// h = med / log(n + 1) from the selected keys (1 where the median is 0, NaN for a non-finite
// particle), rounded to T.
template <class T>
__global__ void finalizeK(const Select* st, T* h, int64_t n, int mode) {
  const double v = valueOf<T>(st->prefix);
  double med = 0;
  if (mode == M_ONE) med = v;
  else if (mode == M_HALF) med = 0.5 * v;
  else if (mode == M_PAIR) med = 0.5 * (v + (st->rank + 1 < st->ties ? v : valueOf<T>(st->next)));
  double b = med / log(double(n + 1));
  if (!(b > 0)) b = 1;
  if (st->nonFinite) b = NAN;
  h[0] = T(b);
}

// K = exp(−D/h) in place and r_i = Σ_j K_ij, a block per row.
template <class T>
__global__ void expRowsK(T* __restrict__ K, int64_t n, const T* __restrict__ hp, T* __restrict__ rsum) {
  __shared__ double sh[THREADS / 32];
  const T h = *hp;
  for (int64_t i = blockIdx.x; i < n; i += gridDim.x) {
    double acc = 0;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
      const T e = m_exp(-K[i * n + j] / h);
      K[i * n + j] = e;
      acc += double(e);
    }
    const double s = blockSum(acc, sh);
    if (threadIdx.x == 0) rsum[i] = T(s);
  }
}

// phi = (Cg + (2/h)(xc ⊙ r − Cx)) / n, elementwise in double.
template <class T>
__global__ void combineK(const T* __restrict__ Cg, const T* __restrict__ Cx, const T* __restrict__ xc,
                         const T* __restrict__ rsum, const T* __restrict__ hp, T* __restrict__ phi, int64_t n, int64_t d) {
  const double twoH = 2.0 / double(*hp), invN = 1.0 / double(n);
  VI_GRID_LOOP(e, n * d) {
    phi[e] = T((double(Cg[e]) + twoH * (double(xc[e]) * double(rsum[e / d]) - double(Cx[e]))) * invN);
  }
}

// Pool scratch released when the scope ends (the pool reuses it only for work queued later).
struct Scratch {
  void* p;
  size_t bytes;
  explicit Scratch(size_t b) : p(vi::scratch(b)), bytes(b) {}
  ~Scratch() { releaseScratch(p, bytes); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  template <class P>
  P* as() const {
    return static_cast<P*>(p);
  }
};

// Rows per block: enough blocks to fill the device; a block clears and flushes its histogram once.
unsigned rowGrid(int64_t n) { return (unsigned)std::max<int64_t>(1, std::min<int64_t>(n, 1024)); }

template <class T>
void svgdPhiT(int dt, const T* x, const T* g, T* phi, T* h, int64_t n, int64_t d, double bandwidth) {
  const bool median = !(bandwidth > 0);
  const size_t s = sizeof(T);
  Scratch ones(s * n), sums(s * d), xc(s * n * d), sq(s * n), D(s * n * n), rsum(s * n), cg(s * n * d), cx(s * n * d);
  Scratch st(sizeof(Select)), hist(sizeof(u64) * BINS);
  const Dims none;
  const unsigned rows = rowGrid(n);
  cudaStream_t q = stream();

  int mode = M_ZERO;
  u64 rank = 0;
  const int64_t total = n * n;
  if (n == 2) mode = M_HALF;
  else if (n % 2 == 1 && n > 1) mode = M_ONE, rank = (u64)(((total - 1) / 2 - n) / 2);
  else if (n % 2 == 0) mode = M_PAIR, rank = (u64)((total / 2 - 1 - n) / 2);
  if (median) {
    initK<<<1, 1, 0, q>>>(st.as<Select>(), rank);
    checkLaunch("svgdPhi (init)");
    check(cudaMemsetAsync(hist.p, 0, sizeof(u64) * BINS, q), "svgdPhi (histogram)");
  }

  fill(dt, ones.p, n, 1.0);
  matmul(dt, ones.p, x, sums.p, none, none, none, 1, d, n, false, false);
  centerK<T><<<rows, THREADS, 0, q>>>(x, sums.as<T>(), xc.as<T>(), sq.as<T>(), n, d, median ? st.as<Select>() : nullptr);
  checkLaunch("svgdPhi (center)");
  matmul(dt, xc.p, xc.p, D.p, none, none, none, n, n, d, false, true);

  const int keyBits = sizeof(T) == 4 ? 31 : 63;
  const bool select = median && mode != M_ZERO;
  for (int hi = keyBits, pass = 0; pass == 0 || (select && hi > 0); pass++) {
    const int width = std::min(RADIX, hi);
    const int shift = hi - width;
    const unsigned digits = (1u << width) - 1;
    if (pass == 0)
      distK<T><<<rows, THREADS, 0, q>>>(D.as<T>(), sq.as<T>(), n, select ? hist.as<u64>() : nullptr, shift, digits);
    else
      histK<T><<<rows, THREADS, 0, q>>>(D.as<T>(), n, st.as<Select>(), hist.as<u64>(), shift, digits);
    checkLaunch(pass == 0 ? "svgdPhi (distances)" : "svgdPhi (median histogram)");
    if (select) {
      pickK<<<1, PICK_THREADS, 0, q>>>(hist.as<u64>(), st.as<Select>(), shift, digits);
      checkLaunch("svgdPhi (median digit)");
    }
    hi = shift;
  }
  if (median) {
    if (mode == M_PAIR) {
      nextK<T><<<rows, THREADS, 0, q>>>(D.as<T>(), n, st.as<Select>());
      checkLaunch("svgdPhi (median successor)");
    }
    finalizeK<T><<<1, 1, 0, q>>>(st.as<Select>(), h, n, mode);
    checkLaunch("svgdPhi (bandwidth)");
  } else {
    fill(dt, h, 1, bandwidth);
  }

  expRowsK<T><<<rows, THREADS, 0, q>>>(D.as<T>(), n, h, rsum.as<T>());
  checkLaunch("svgdPhi (kernel matrix)");
  matmul(dt, D.p, g, cg.p, none, none, none, n, d, n, false, false);
  matmul(dt, D.p, xc.p, cx.p, none, none, none, n, d, n, false, false);
  combineK<T><<<gridFor(n * d), THREADS, 0, q>>>(cg.as<T>(), cx.as<T>(), xc.as<T>(), rsum.as<T>(), h, phi, n, d);
  checkLaunch("svgdPhi (combine)");
}

}  // namespace

void svgdPhi(int dt, const void* x, const void* g, void* phi, void* h, int64_t n, int64_t d, double bandwidth) {
  if (dt == F32)
    svgdPhiT<float>(dt, (const float*)x, (const float*)g, (float*)phi, (float*)h, n, d, bandwidth);
  else if (dt == F64)
    svgdPhiT<double>(dt, (const double*)x, (const double*)g, (double*)phi, (double*)h, n, d, bandwidth);
  else
    throw std::runtime_error("cuda svgdPhi: int32 is not supported");
}

}  // namespace vi
