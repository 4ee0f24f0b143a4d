// Small batched linear algebra: Cholesky (one block per matrix) and triangular solves (one
// thread per right-hand-side column). Both accumulate in double. Sized for the matrices of VI
// (covariances of a few hundred dimensions at most); large ones would want cuSOLVER.
#include <climits>

#include "common.cuh"
#include "kernels.h"

namespace vi {

// Left-looking Cholesky–Crout: column j needs only columns < j, so each column is one parallel
// step. A failed pivot (not positive, or NaN) records the batch index in *bad.
template <class T>
__global__ void choleskyK(const T* __restrict__ x, T* __restrict__ out, int64_t n, int* bad) {
  const int64_t b = blockIdx.x;
  const T* A = x + b * n * n;
  T* L = out + b * n * n;
  __shared__ double diag;
  for (int64_t t = threadIdx.x; t < n * n; t += blockDim.x) {
    const int64_t i = t / n, j = t % n;
    if (j > i) L[t] = T(0);
  }
  __syncthreads();
  for (int64_t j = 0; j < n; j++) {
    if (threadIdx.x == 0) {
      double s = double(A[j * n + j]);
      for (int64_t p = 0; p < j; p++) s -= double(L[j * n + p]) * double(L[j * n + p]);
      if (!(s > 0)) {
        atomicMin(bad, (int)b);
        s = NAN;
      }
      diag = sqrt(s);
      L[j * n + j] = T(diag);
    }
    __syncthreads();
    for (int64_t i = j + 1 + threadIdx.x; i < n; i += blockDim.x) {
      double s = double(A[i * n + j]);
      for (int64_t p = 0; p < j; p++) s -= double(L[i * n + p]) * double(L[j * n + p]);
      L[i * n + j] = T(s / diag);
    }
    __syncthreads();
  }
}

int64_t cholesky(int dt, const void* x, void* out, int64_t batch, int64_t n) {
  if (batch == 0 || n == 0) return -1;
  int* bad = (int*)scratch(sizeof(int));
  fill(I32, bad, 1, (double)INT_MAX);
  if (dt == F32) choleskyK<float><<<(unsigned)batch, 128, 0, stream()>>>((const float*)x, (float*)out, n, bad);
  else if (dt == F64) choleskyK<double><<<(unsigned)batch, 128, 0, stream()>>>((const double*)x, (double*)out, n, bad);
  else throw std::runtime_error("cuda cholesky: int32 is not supported");
  checkLaunch("cholesky");
  int h = INT_MAX;
  // The positive-definiteness check needs the answer now: this one small read syncs the stream.
  check(cudaMemcpyAsync(&h, bad, sizeof(int), cudaMemcpyDeviceToHost, stream()), "cholesky (read status)");
  check(cudaStreamSynchronize(stream()), "cholesky");
  releaseScratch(bad, sizeof(int));
  return h == INT_MAX ? -1 : h;
}

// Solves op(A) X = B for one column of one batch; X is built in place in out.
template <class T>
__global__ void triSolveK(const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ out, int64_t count,
                          Strided s, int64_t n, int64_t k, bool lower, bool transA) {
  VI_GRID_LOOP(t, count * k) {
    const int64_t c = t % k, bi = t / k;
    int64_t off[2];
    offsets<2>(bi, s, off);
    const T* A = a + off[0] * n * n;
    const T* B = b + off[1] * n * k;
    T* X = out + bi * n * k;
    // op(A) is lower (forward substitution) when lower != transA.
    const bool forward = lower != transA;
    for (int64_t step = 0; step < n; step++) {
      const int64_t i = forward ? step : n - 1 - step;
      double acc = double(B[i * k + c]);
      if (forward)
        for (int64_t p = 0; p < i; p++) acc -= double(transA ? A[p * n + i] : A[i * n + p]) * double(X[p * k + c]);
      else
        for (int64_t p = i + 1; p < n; p++) acc -= double(transA ? A[p * n + i] : A[i * n + p]) * double(X[p * k + c]);
      X[i * k + c] = T(acc / double(A[i * n + i]));
    }
  }
}

void triangularSolve(int dt, const void* a, const void* b, void* out, const Dims& batch, const Dims& aB,
                     const Dims& bB, int64_t n, int64_t k, bool lower, bool transA) {
  int64_t count = 1;
  for (auto d : batch) count *= d;
  if (count * n * k == 0) return;
  if (batch.size() > (size_t)MAX_RANK) throw std::runtime_error("cuda triangularSolve: batch rank exceeds 10");
  Strided s{};
  s.rank = (int)batch.size();
  for (int d = 0; d < s.rank; d++) {
    s.shape[d] = batch[d];
    s.st[0][d] = aB[d];
    s.st[1][d] = bB[d];
  }
  const unsigned g = gridFor(count * k, 128);
  if (dt == F32)
    triSolveK<float><<<g, 128, 0, stream()>>>((const float*)a, (const float*)b, (float*)out, count, s, n, k, lower, transA);
  else if (dt == F64)
    triSolveK<double><<<g, 128, 0, stream()>>>((const double*)a, (const double*)b, (double*)out, count, s, n, k, lower, transA);
  else throw std::runtime_error("cuda triangularSolve: int32 is not supported");
  checkLaunch("triangularSolve");
}

}  // namespace vi
