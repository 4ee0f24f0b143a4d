// Batched linear algebra: Cholesky (one block per matrix, accumulating in double; cuSOLVER's
// potrf for matrices of CUSOLVER_MIN_N and more when the library can be loaded) and triangular
// solves (one thread per right-hand-side column, in double).
#include <dlfcn.h>

#include <climits>
#include <cstdlib>

#include "common.cuh"
#include "kernels.h"

namespace vi {

// cuSOLVER is loaded when first wanted, not linked: the addon builds and runs without it (the
// compile check has no cuSOLVER), and it is found where the CUDA toolkit or PyTorch put it
// (VARINF_CUSOLVER names the file). The few entry points are declared here, as cusolverDn.h does.
constexpr int64_t CUSOLVER_MIN_N = 256;
using SolverHandle = void*;
struct Solver {
  SolverHandle h = nullptr;
  int (*setStream)(SolverHandle, cudaStream_t) = nullptr;
  int (*sBuf)(SolverHandle, int, int, float*, int, int*) = nullptr;
  int (*dBuf)(SolverHandle, int, int, double*, int, int*) = nullptr;
  int (*spotrf)(SolverHandle, int, int, float*, int, float*, int, int*) = nullptr;
  int (*dpotrf)(SolverHandle, int, int, double*, int, double*, int, int*) = nullptr;
};

static Solver* solver() {
  static bool tried = false;
  static Solver s;
  if (tried) return s.h != nullptr ? &s : nullptr;
  tried = true;
  const char* env = std::getenv("VARINF_CUSOLVER");
  const char* names[] = {env, "libcusolver.so.12", "libcusolver.so.11", "libcusolver.so", "/usr/local/cuda/lib64/libcusolver.so"};
  void* lib = nullptr;
  for (const char* n : names)
    if (n != nullptr && (lib = dlopen(n, RTLD_NOW | RTLD_LOCAL)) != nullptr) break;
  if (lib == nullptr) return nullptr;
  auto create = (int (*)(SolverHandle*))dlsym(lib, "cusolverDnCreate");
  s.setStream = (int (*)(SolverHandle, cudaStream_t))dlsym(lib, "cusolverDnSetStream");
  s.sBuf = (int (*)(SolverHandle, int, int, float*, int, int*))dlsym(lib, "cusolverDnSpotrf_bufferSize");
  s.dBuf = (int (*)(SolverHandle, int, int, double*, int, int*))dlsym(lib, "cusolverDnDpotrf_bufferSize");
  s.spotrf = (int (*)(SolverHandle, int, int, float*, int, float*, int, int*))dlsym(lib, "cusolverDnSpotrf");
  s.dpotrf = (int (*)(SolverHandle, int, int, double*, int, double*, int, int*))dlsym(lib, "cusolverDnDpotrf");
  if (!create || !s.setStream || !s.sBuf || !s.dBuf || !s.spotrf || !s.dpotrf || create(&s.h) != 0) {
    s.h = nullptr;
    return nullptr;
  }
  if (s.setStream(s.h, stream()) != 0) s.h = nullptr;
  return s.h != nullptr ? &s : nullptr;
}

// Marks matrix b when potrf reported a failed minor (info[b] ≠ 0) or its factor's diagonal is not
// positive and finite (potrf lets NaN input through; the js reference, and choleskyK, reject it).
template <class T>
__global__ void potrfCheckK(const T* __restrict__ l, const int* __restrict__ info, int64_t batch, int64_t n, int* bad) {
  VI_GRID_LOOP(t, batch * n) {
    const int64_t b = t / n, i = t % n;
    const double d = double(l[b * n * n + i * n + i]);
    if ((i == 0 && info[b] != 0) || !(d > 0) || !isfinite(d)) atomicMin(bad, (int)b);
  }
}

// potrf on each matrix in place in out (a copy of x). Row-major A is column-major Aᵀ = A, whose
// upper factor U (A = UᵀU) read row-major is L; the strict upper triangle keeps A's values until
// tril zeroes it. Returns false when the library or the dtype is not there (the caller falls back).
template <class T>
static bool potrfBatch(const T* x, T* out, int64_t batch, int64_t n, int* bad) {
  Solver* s = solver();
  if (s == nullptr || n > INT_MAX) return false;
  constexpr int UPPER = 1;  // CUBLAS_FILL_MODE_UPPER
  const int ni = (int)n;
  int lwork = 0;
  const int st = std::is_same_v<T, float> ? s->sBuf(s->h, UPPER, ni, (float*)out, ni, &lwork)
                                          : s->dBuf(s->h, UPPER, ni, (double*)out, ni, &lwork);
  if (st != 0) throw std::runtime_error("cuda cholesky: cusolverDn potrf_bufferSize failed (status " + std::to_string(st) + ")");
  check(cudaMemcpyAsync(out, x, sizeof(T) * batch * n * n, cudaMemcpyDeviceToDevice, stream()), "cholesky (copy)");
  T* work = (T*)scratch(sizeof(T) * std::max(1, lwork));
  int* info = (int*)scratch(sizeof(int) * batch);
  for (int64_t b = 0; b < batch; b++) {
    T* m = out + b * n * n;
    const int r = std::is_same_v<T, float> ? s->spotrf(s->h, UPPER, ni, (float*)m, ni, (float*)work, lwork, info + b)
                                           : s->dpotrf(s->h, UPPER, ni, (double*)m, ni, (double*)work, lwork, info + b);
    if (r != 0) {
      releaseScratch(work, sizeof(T) * std::max(1, lwork));
      releaseScratch(info, sizeof(int) * batch);
      throw std::runtime_error("cuda cholesky: cusolverDn potrf failed (status " + std::to_string(r) + ")");
    }
  }
  tril(std::is_same_v<T, float> ? F32 : F64, out, out, batch, n, n, 0);
  potrfCheckK<T><<<gridFor(batch * n), THREADS, 0, stream()>>>(out, info, batch, n, bad);
  checkLaunch("cholesky (status)");
  releaseScratch(work, sizeof(T) * std::max(1, lwork));
  releaseScratch(info, sizeof(int) * batch);
  return true;
}

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
  const bool large = n >= CUSOLVER_MIN_N;
  if (dt == F32) {
    if (!(large && potrfBatch<float>((const float*)x, (float*)out, batch, n, bad)))
      choleskyK<float><<<(unsigned)batch, 128, 0, stream()>>>((const float*)x, (float*)out, n, bad);
  } else if (dt == F64) {
    if (!(large && potrfBatch<double>((const double*)x, (double*)out, batch, n, bad)))
      choleskyK<double><<<(unsigned)batch, 128, 0, stream()>>>((const double*)x, (double*)out, n, bad);
  } else throw std::runtime_error("cuda cholesky: int32 is not supported");
  checkLaunch("cholesky");
  int h = INT_MAX;
  // The positive-definiteness check needs the answer now: this one small read syncs the stream.
  check(cudaMemcpyAsync(&h, bad, sizeof(int), cudaMemcpyDeviceToHost, stream()), "cholesky (read status)");
  check(cudaStreamSynchronize(stream()), "cholesky");
  releaseScratch(bad, sizeof(int));
  return h == INT_MAX ? -1 : h;
}

// Records in *bad the smallest flat index bi·n + i of a zero diagonal element A_bi[i][i].
template <class T>
__global__ void zeroDiagonalK(const T* __restrict__ a, int64_t count, int64_t n, unsigned long long* bad) {
  VI_GRID_LOOP(t, count * n) {
    const int64_t bi = t / n, i = t % n;
    if (a[bi * n * n + i * (n + 1)] == T(0)) atomicMin(bad, (unsigned long long)t);
  }
}

int64_t triangularZeroDiagonal(int dt, const void* a, int64_t count, int64_t n) {
  if (count * n == 0) return -1;
  // A status read syncs the stream, which a CUDA graph capture cannot hold: while capturing, the
  // check is left to the compiled step's finiteness test of its loss and gradients.
  cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusNone;
  check(cudaStreamIsCapturing(stream(), &capturing), "triangularSolve (capture status)");
  if (capturing != cudaStreamCaptureStatusNone) return -1;
  auto* bad = (unsigned long long*)scratch(sizeof(unsigned long long));
  check(cudaMemsetAsync(bad, 0xff, sizeof(unsigned long long), stream()), "triangularSolve (status)");
  const unsigned g = gridFor(count * n, 128);
  if (dt == F32)
    zeroDiagonalK<float><<<g, 128, 0, stream()>>>((const float*)a, count, n, bad);
  else if (dt == F64)
    zeroDiagonalK<double><<<g, 128, 0, stream()>>>((const double*)a, count, n, bad);
  else throw std::runtime_error("cuda triangularSolve: int32 is not supported");
  checkLaunch("triangularSolve (diagonal check)");
  unsigned long long h = ~0ull;
  check(cudaMemcpyAsync(&h, bad, sizeof(h), cudaMemcpyDeviceToHost, stream()), "triangularSolve (read status)");
  check(cudaStreamSynchronize(stream()), "triangularSolve");
  releaseScratch(bad, sizeof(unsigned long long));
  return h == ~0ull ? -1 : (int64_t)h;
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
