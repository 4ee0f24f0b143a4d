// Batched matrix products through cuBLAS. cuBLAS is column-major; a row-major C = A·B is the
// column-major Cᵀ = Bᵀ·Aᵀ, so we pass B first and swap m and n: no transposes are materialized.
#include <cublas_v2.h>
#include <cuda_bf16.h>

#include <algorithm>

#include "common.cuh"
#include "kernels.h"

namespace vi {

static cublasHandle_t gHandle = nullptr;
// float32 products: 0 full float32, 1 TF32 tensor cores, 2 bfloat16 inputs with float32 accumulation.
static int gPrecision = 0;

static void checkBlas(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string("cuda ") + what + ": cuBLAS error " + std::to_string((int)s) + " (" +
                             cublasGetStatusString(s) + ")");
}

static cublasMath_t mathMode() { return gPrecision == 1 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH; }

static cublasHandle_t handle() {
  if (gHandle == nullptr) {
    checkBlas(cublasCreate(&gHandle), "matmul (cublasCreate)");
    checkBlas(cublasSetStream(gHandle, stream()), "matmul (cublasSetStream)");
    // A workspace of our own (NVIDIA's recommended 32 MiB for Hopper), set after the stream (which
    // resets it): cuBLAS then never allocates, also not inside a CUDA-graph capture.
    constexpr size_t WORKSPACE = 32u << 20;
    void* ws = nullptr;
    check(cudaMalloc(&ws, WORKSPACE), "matmul (cuBLAS workspace)");
    checkBlas(cublasSetWorkspace(gHandle, ws, WORKSPACE), "matmul (cublasSetWorkspace)");
    checkBlas(cublasSetMathMode(gHandle, mathMode()), "matmul (math mode)");
  }
  return gHandle;
}

void setMatmulPrecision(int mode) {
  if (mode < 0 || mode > 2) throw std::runtime_error("setMatmulPrecision: mode must be 0, 1 or 2, got " + std::to_string(mode));
  gPrecision = mode;
  if (gHandle != nullptr) checkBlas(cublasSetMathMode(gHandle, mathMode()), "setMatmulPrecision");
}

__global__ void toBF16K(const float* __restrict__ x, __nv_bfloat16* __restrict__ out, int64_t n) {
  VI_GRID_LOOP(i, n) out[i] = __float2bfloat16_rn(x[i]);
}

// A float32 operand rounded to bfloat16 in pool scratch (released by the caller, stream-ordered).
static __nv_bfloat16* toBF16(const float* x, int64_t n) {
  auto* out = (__nv_bfloat16*)scratch(sizeof(__nv_bfloat16) * n);
  toBF16K<<<gridFor(n), THREADS, 0, stream()>>>(x, out, n);
  checkLaunch("matmul (bfloat16 rounding)");
  return out;
}

// C = A·B over bfloat16 operands with float32 accumulation and output (tensor cores).
static void gemmStoredBF16(const __nv_bfloat16* a16, const __nv_bfloat16* b16, float* c, int64_t m, int64_t n, int64_t k,
                           bool transA, bool transB, int64_t strideA, int64_t strideB, int64_t count) {
  const int lda = (int)(transA ? m : k);
  const int ldb = (int)(transB ? k : n);
  const float one = 1, zero = 0;
  checkBlas(cublasGemmStridedBatchedEx(handle(), transB ? CUBLAS_OP_T : CUBLAS_OP_N, transA ? CUBLAS_OP_T : CUBLAS_OP_N,
                                       (int)n, (int)m, (int)k, &one, b16, CUDA_R_16BF, ldb, strideB, a16, CUDA_R_16BF, lda,
                                       strideA, &zero, c, CUDA_R_32F, (int)n, m * n, (int)count, CUBLAS_COMPUTE_32F,
                                       CUBLAS_GEMM_DEFAULT),
            "matmul (bfloat16)");
}

// The same with bfloat16 copies of float32 A and B (elements [0, nA) and [0, nB) of each): the
// tensor-core path for float32 tensors when the user allows it.
static void gemmBF16(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, bool transA,
                     bool transB, int64_t strideA, int64_t strideB, int64_t count, int64_t nA, int64_t nB) {
  __nv_bfloat16* a16 = toBF16(a, nA);
  __nv_bfloat16* b16 = toBF16(b, nB);
  gemmStoredBF16(a16, b16, c, m, n, k, transA, transB, strideA, strideB, count);
  releaseScratch(a16, sizeof(__nv_bfloat16) * nA);
  releaseScratch(b16, sizeof(__nv_bfloat16) * nB);
}

template <class T>
static void gemmBatched(const T* a, const T* b, T* c, int64_t m, int64_t n, int64_t k, bool transA, bool transB,
                        int64_t strideA, int64_t strideB, int64_t count) {
  // Row-major A is column-major Aᵀ with leading dimension = its row length.
  const int lda = (int)(transA ? m : k);
  const int ldb = (int)(transB ? k : n);
  const cublasOperation_t opA = transA ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t opB = transB ? CUBLAS_OP_T : CUBLAS_OP_N;
  const T one = 1, zero = 0;
  cublasStatus_t s;
  if constexpr (std::is_same_v<T, float>)
    s = cublasSgemmStridedBatched(handle(), opB, opA, (int)n, (int)m, (int)k, &one, b, ldb, strideB, a, lda, strideA,
                                  &zero, c, (int)n, m * n, (int)count);
  else
    s = cublasDgemmStridedBatched(handle(), opB, opA, (int)n, (int)m, (int)k, &one, b, ldb, strideB, a, lda, strideA,
                                  &zero, c, (int)n, m * n, (int)count);
  checkBlas(s, "matmul");
}

// Offsets (in matrices) of each batch's A and B; when they step evenly, one strided call does all.
struct Batches {
  int64_t count = 1;
  std::vector<int64_t> offA, offB;
  bool even = true;
  int64_t da = 0, db = 0;
};

static Batches batchesOf(const Dims& batch, const Dims& aB, const Dims& bB) {
  Batches p;
  for (auto d : batch) p.count *= d;
  p.offA.resize(p.count);
  p.offB.resize(p.count);
  const int r = (int)batch.size();
  for (int64_t i = 0; i < p.count; i++) {
    int64_t rem = i, oa = 0, ob = 0;
    for (int d = r - 1; d >= 0; d--) {
      const int64_t q = rem / batch[d], idx = rem - q * batch[d];
      rem = q;
      oa += idx * aB[d];
      ob += idx * bB[d];
    }
    p.offA[i] = oa;
    p.offB[i] = ob;
  }
  p.da = p.count > 1 ? p.offA[1] - p.offA[0] : 0;
  p.db = p.count > 1 ? p.offB[1] - p.offB[0] : 0;
  for (int64_t i = 1; i < p.count && p.even; i++)
    p.even = p.offA[i] - p.offA[i - 1] == p.da && p.offB[i] - p.offB[i - 1] == p.db;
  return p;
}

// Products over bfloat16 storage: float32 accumulation into a float32 result.
static void matmulStoredBF16(const __nv_bfloat16* a, const __nv_bfloat16* b, float* out, const Dims& batch, const Dims& aB,
                             const Dims& bB, int64_t m, int64_t n, int64_t k, bool transA, bool transB) {
  const Batches p = batchesOf(batch, aB, bB);
  if (p.count == 0 || m == 0 || n == 0) return;
  if (k == 0) {
    check(cudaMemsetAsync(out, 0, sizeof(float) * p.count * m * n, stream()), "matmul (k = 0)");
    return;
  }
  const int64_t ma = m * k, mb = k * n;
  if (p.even) {
    gemmStoredBF16(a + p.offA[0] * ma, b + p.offB[0] * mb, out, m, n, k, transA, transB, p.da * ma, p.db * mb, p.count);
    return;
  }
  for (int64_t i = 0; i < p.count; i++)
    gemmStoredBF16(a + p.offA[i] * ma, b + p.offB[i] * mb, out + i * m * n, m, n, k, transA, transB, 0, 0, 1);
}

template <class T>
static void matmulT(const T* a, const T* b, T* out, const Dims& batch, const Dims& aB, const Dims& bB, int64_t m,
                    int64_t n, int64_t k, bool transA, bool transB) {
  const Batches p = batchesOf(batch, aB, bB);
  const int64_t count = p.count;
  if (count == 0 || m == 0 || n == 0) return;
  if (k == 0) {
    check(cudaMemsetAsync(out, 0, sizeof(T) * count * m * n, stream()), "matmul (k = 0)");
    return;
  }
  const std::vector<int64_t>& offA = p.offA;
  const std::vector<int64_t>& offB = p.offB;
  const bool even = p.even;
  const int64_t da = p.da, db = p.db;
  const int64_t ma = m * k, mb = k * n;
  if constexpr (std::is_same_v<T, float>) {
    if (gPrecision == 2) {
      // One bfloat16 copy of each operand's whole extent, then per-batch offsets into the copies.
      int64_t lastA = 0, lastB = 0;
      for (int64_t i = 0; i < count; i++) lastA = std::max(lastA, offA[i]), lastB = std::max(lastB, offB[i]);
      if (even) {
        gemmBF16(a + offA[0] * ma, b + offB[0] * mb, out, m, n, k, transA, transB, da * ma, db * mb, count,
                 (lastA - offA[0] + 1) * ma, (lastB - offB[0] + 1) * mb);
        return;
      }
      for (int64_t i = 0; i < count; i++)
        gemmBF16(a + offA[i] * ma, b + offB[i] * mb, out + i * m * n, m, n, k, transA, transB, 0, 0, 1, ma, mb);
      return;
    }
  }
  if (even) {
    gemmBatched<T>(a + offA[0] * ma, b + offB[0] * mb, out, m, n, k, transA, transB, da * ma, db * mb, count);
    return;
  }
  for (int64_t i = 0; i < count; i++)
    gemmBatched<T>(a + offA[i] * ma, b + offB[i] * mb, out + i * m * n, m, n, k, transA, transB, 0, 0, 1);
}

void matmul(int dt, const void* a, const void* b, void* out, const Dims& batch, const Dims& aB, const Dims& bB,
            int64_t m, int64_t n, int64_t k, bool transA, bool transB) {
  if (dt == BF16)
    matmulStoredBF16((const __nv_bfloat16*)a, (const __nv_bfloat16*)b, (float*)out, batch, aB, bB, m, n, k, transA, transB);
  else if (dt == F32) matmulT<float>((const float*)a, (const float*)b, (float*)out, batch, aB, bB, m, n, k, transA, transB);
  else if (dt == F64)
    matmulT<double>((const double*)a, (const double*)b, (double*)out, batch, aB, bB, m, n, k, transA, transB);
  else throw std::runtime_error("cuda matmul: int32 is not supported");
}

}  // namespace vi
