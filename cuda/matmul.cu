// Batched matrix products through cuBLAS. cuBLAS is column-major; a row-major C = A·B is the
// column-major Cᵀ = Bᵀ·Aᵀ, so we pass B first and swap m and n: no transposes are materialized.
#include <cublas_v2.h>

#include "common.cuh"
#include "kernels.h"

namespace vi {

static cublasHandle_t gHandle = nullptr;
static bool gTF32 = false;

static void checkBlas(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string("cuda ") + what + ": cuBLAS error " + std::to_string((int)s) + " (" +
                             cublasGetStatusString(s) + ")");
}

static cublasHandle_t handle() {
  if (gHandle == nullptr) {
    checkBlas(cublasCreate(&gHandle), "matmul (cublasCreate)");
    checkBlas(cublasSetStream(gHandle, stream()), "matmul (cublasSetStream)");
    checkBlas(cublasSetMathMode(gHandle, gTF32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH), "matmul (math mode)");
  }
  return gHandle;
}

void setTF32(bool on) {
  gTF32 = on;
  if (gHandle != nullptr)
    checkBlas(cublasSetMathMode(gHandle, on ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH), "setTF32");
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

template <class T>
static void matmulT(const T* a, const T* b, T* out, const Dims& batch, const Dims& aB, const Dims& bB, int64_t m,
                    int64_t n, int64_t k, bool transA, bool transB) {
  int64_t count = 1;
  for (auto d : batch) count *= d;
  if (count == 0 || m == 0 || n == 0) return;
  if (k == 0) {
    check(cudaMemsetAsync(out, 0, sizeof(T) * count * m * n, stream()), "matmul (k = 0)");
    return;
  }
  // Offsets of each batch's A and B in matrices; when they step evenly one strided call does all.
  std::vector<int64_t> offA(count), offB(count);
  const int r = (int)batch.size();
  for (int64_t i = 0; i < count; i++) {
    int64_t rem = i, oa = 0, ob = 0;
    for (int d = r - 1; d >= 0; d--) {
      const int64_t q = rem / batch[d], idx = rem - q * batch[d];
      rem = q;
      oa += idx * aB[d];
      ob += idx * bB[d];
    }
    offA[i] = oa;
    offB[i] = ob;
  }
  bool even = true;
  const int64_t da = count > 1 ? offA[1] - offA[0] : 0, db = count > 1 ? offB[1] - offB[0] : 0;
  for (int64_t i = 1; i < count && even; i++) even = offA[i] - offA[i - 1] == da && offB[i] - offB[i - 1] == db;
  const int64_t ma = m * k, mb = k * n;
  if (even) {
    gemmBatched<T>(a + offA[0] * ma, b + offB[0] * mb, out, m, n, k, transA, transB, da * ma, db * mb, count);
    return;
  }
  for (int64_t i = 0; i < count; i++)
    gemmBatched<T>(a + offA[i] * ma, b + offB[i] * mb, out + i * m * n, m, n, k, transA, transB, 0, 0, 1);
}

void matmul(int dt, const void* a, const void* b, void* out, const Dims& batch, const Dims& aB, const Dims& bB,
            int64_t m, int64_t n, int64_t k, bool transA, bool transB) {
  if (dt == F32) matmulT<float>((const float*)a, (const float*)b, (float*)out, batch, aB, bB, m, n, k, transA, transB);
  else if (dt == F64)
    matmulT<double>((const double*)a, (const double*)b, (double*)out, batch, aB, bB, m, n, k, transA, transB);
  else throw std::runtime_error("cuda matmul: int32 is not supported");
}

}  // namespace vi
