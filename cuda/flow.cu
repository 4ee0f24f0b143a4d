// The fused affine flow step (affineFlow in ts/kernels/spec.ts): y from x, shift and s over rows
// of d elements and each row's log|det J|. Modes: 0 'exp' (y = x·e^s + shift, logdet = Σs),
// 1 'exp' inverse (y = (x − shift)·e^−s, logdet = −Σs), 2 'sigmoid' (y = σ(s)·x + σ(−s)·shift,
// logdet = Σ log σ(s)); a zero mask entry passes x through and adds nothing to logdet.
// A group of L lanes (a power of two up to a warp, the smallest covering d) takes one row: the
// lanes stride over its elements, so y's stores coalesce, and a shuffle within the group sums
// logdet. Every element is computed in double and rounded once, as the js reference does; the
// logdet sum runs in double too (in another order than js's, within the suite's tolerance).
#include "common.cuh"
#include "kernels.h"

namespace vi {

__device__ __forceinline__ double sigmoidD(double v) {
  if (v >= 0) return 1.0 / (1.0 + exp(-v));
  const double e = exp(v);
  return e / (1.0 + e);
}

// log σ(v) = min(v, 0) − log1p(e^−|v|), without overflow or cancellation.
__device__ __forceinline__ double logSigmoidD(double v) { return fmin(v, 0.0) - log1p(exp(-fabs(v))); }

struct FlowArgs {
  int64_t rows, d;
  int64_t inner[3];  // x's, shift's and s's strides along the row
  int64_t maskStride;
  int mode;
  Strided batch;  // the batch shape (the output's leading dims) and the three inputs' strides over it
};

template <class T, int L>
__global__ void affineFlowK(const T* __restrict__ x, const T* __restrict__ shift, const T* __restrict__ s,
                            const T* __restrict__ mask, T* __restrict__ y, T* __restrict__ logdet, FlowArgs a) {
  const int64_t tid = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  const int lane = threadIdx.x % L;
  // The lanes of this group within its warp (blocks are whole warps, so groups never straddle two).
  const unsigned group = L == 32 ? 0xffffffffu : ((1u << L) - 1u) << ((threadIdx.x % 32) / L * L);
  const int64_t groups = (int64_t)gridDim.x * blockDim.x / L;
  // Every lane of a group has the same row, so the group runs the loop in step.
  for (int64_t r = tid / L; r < a.rows; r += groups) {
    int64_t off[3];
    offsets<3>(r, a.batch, off);
    double acc = 0;
    for (int64_t j = lane; j < a.d; j += L) {
      const T xv = x[off[0] + j * a.inner[0]];
      if (mask != nullptr && mask[j * a.maskStride] == T(0)) {
        y[r * a.d + j] = xv;
        continue;
      }
      const double xd = double(xv), h = double(shift[off[1] + j * a.inner[1]]), sv = double(s[off[2] + j * a.inner[2]]);
      double v, l;
      if (a.mode == 0) {
        v = xd * exp(sv) + h;
        l = sv;
      } else if (a.mode == 1) {
        v = (xd - h) * exp(-sv);
        l = -sv;
      } else {
        v = sigmoidD(sv) * xd + sigmoidD(-sv) * h;
        l = logSigmoidD(sv);
      }
      y[r * a.d + j] = T(v);
      acc += l;
    }
#pragma unroll
    for (int o = L / 2; o > 0; o >>= 1) acc += __shfl_down_sync(group, acc, o, L);
    if (lane == 0) logdet[r] = T(acc);
  }
}

template <class T>
static void launch(const void* x, const void* shift, const void* s, const void* mask, void* y, void* logdet,
                   const FlowArgs& a) {
  int l = 1;
  while (l < a.d && l < 32) l *= 2;
  const unsigned grid = gridFor(a.rows * l);
  const T *px = (const T*)x, *ph = (const T*)shift, *ps = (const T*)s, *pm = (const T*)mask;
  T *py = (T*)y, *pl = (T*)logdet;
  switch (l) {
    case 1: affineFlowK<T, 1><<<grid, THREADS, 0, stream()>>>(px, ph, ps, pm, py, pl, a); break;
    case 2: affineFlowK<T, 2><<<grid, THREADS, 0, stream()>>>(px, ph, ps, pm, py, pl, a); break;
    case 4: affineFlowK<T, 4><<<grid, THREADS, 0, stream()>>>(px, ph, ps, pm, py, pl, a); break;
    case 8: affineFlowK<T, 8><<<grid, THREADS, 0, stream()>>>(px, ph, ps, pm, py, pl, a); break;
    case 16: affineFlowK<T, 16><<<grid, THREADS, 0, stream()>>>(px, ph, ps, pm, py, pl, a); break;
    default: affineFlowK<T, 32><<<grid, THREADS, 0, stream()>>>(px, ph, ps, pm, py, pl, a); break;
  }
}

void affineFlow(int dt, int mode, const void* x, const void* shift, const void* s, const void* mask, void* y,
                void* logdet, const Dims& batch, const Dims& sx, const Dims& sShift, const Dims& sS,
                const Dims& inner, int64_t d, int64_t maskStride) {
  if (batch.size() > (size_t)MAX_RANK)
    throw std::runtime_error("cuda affineFlow: batch rank " + std::to_string(batch.size()) + " exceeds " +
                             std::to_string(MAX_RANK));
  if (inner.size() != 3) throw std::runtime_error("cuda affineFlow: expected 3 inner strides");
  FlowArgs a{};
  a.rows = 1;
  for (auto n : batch) a.rows *= n;
  if (a.rows == 0 || d == 0) return;
  a.d = d;
  a.maskStride = maskStride;
  a.mode = mode;
  a.batch.rank = (int)batch.size();
  for (int i = 0; i < 3; i++) a.inner[i] = inner[i];
  for (int k = 0; k < a.batch.rank; k++) {
    a.batch.shape[k] = batch[k];
    a.batch.st[0][k] = sx[k];
    a.batch.st[1][k] = sShift[k];
    a.batch.st[2][k] = sS[k];
  }
  if (dt == F32) launch<float>(x, shift, s, mask, y, logdet, a);
  else if (dt == F64) launch<double>(x, shift, s, mask, y, logdet, a);
  else throw std::runtime_error("cuda affineFlow: int32 is not supported");
  checkLaunch("affineFlow");
}

}  // namespace vi
