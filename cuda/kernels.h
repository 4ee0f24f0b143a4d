// Host entry points of the kernel families (one .cu each), called by the binding in addon.cc.
// Plain C++ so that the binding compiles with the host compiler. Every function queues work on
// vi::stream() and throws std::runtime_error naming the kernel on failure. Pointers are device
// pointers; sizes and strides are in elements; dtypes are vi::DType codes (0 f32, 1 f64, 2 i32).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace vi {

using Dims = std::vector<int64_t>;

// BF16: bfloat16 storage (the bits, as uint16), taken by cast, matmul and the copies.
enum DType : int { F32 = 0, F64 = 1, I32 = 2, BF16 = 3 };

inline size_t dtypeBytes(int dt) { return dt == F64 ? 8 : dt == BF16 ? 2 : 4; }

#ifdef __CUDACC__
#define VI_HOST_DEVICE __host__ __device__
#else
#define VI_HOST_DEVICE
#endif

// A Philox key for the random kernels: its two words, or, for a step replayed as a CUDA graph, the
// device address of the two words, read when the kernel runs (a captured launch's arguments are
// frozen, so each replay's fresh key must come through memory).
struct Key {
  uint32_t k0 = 0, k1 = 0;
  const uint32_t* at = nullptr;
  VI_HOST_DEVICE uint32_t word(int i) const { return at != nullptr ? at[i] : (i == 0 ? k0 : k1); }
};

// The one stream every kernel, copy and cuBLAS call is queued on: ordering on it is what makes
// pooled memory safe to reuse without events.
cudaStream_t stream();

// Throws std::runtime_error naming `what` when `e` is an error.
void check(cudaError_t e, const char* what);
// Checks the last launch error, naming the kernel.
void checkLaunch(const char* kernel);

// Scratch device memory from the pool (released with releaseScratch), for multi-pass kernels.
void* scratch(size_t bytes);
void releaseScratch(void* p, size_t bytes);

// ---- elementwise.cu ----
void unary(const std::string& op, int dt, const void* x, void* out, int64_t n);
// Binary and compare ops broadcast through strides sa/sb over `shape` (the output's).
void binary(const std::string& op, int dt, const void* a, const void* b, void* out, const Dims& shape, const Dims& sa,
            const Dims& sb);
void compare(const std::string& op, int dt, const void* a, const void* b, void* out, const Dims& shape, const Dims& sa,
             const Dims& sb);
void where(int cdt, int dt, const void* c, const void* a, const void* b, void* out, const Dims& shape, const Dims& sc,
           const Dims& sa, const Dims& sb);
void clamp(int dt, const void* x, void* out, int64_t n, double lo, double hi);
void cast(int from, int to, const void* x, void* out, int64_t n);

// ---- reduce.cu ----
// Reduces each of `rows` contiguous rows of length `len`.
void reduceRows(const std::string& op, int dt, const void* x, void* out, int64_t rows, int64_t len);
void argReduceRows(bool isMax, int dt, const void* x, int32_t* out, int64_t rows, int64_t len);
// Softmax/logSoftmax/cumsum along the middle axis of an [outer, len, inner] view.
void softmax(bool log, int dt, const void* x, void* out, int64_t outer, int64_t len, int64_t inner);
void cumsum(bool reverse, int dt, const void* x, void* out, int64_t outer, int64_t len, int64_t inner);

// ---- matmul.cu ----
// out[batch..., m, n] = op(a) op(b); aBatch/bBatch are per-batch-axis strides in matrices (0 when
// broadcast) over `batch` (the output's batch shape).
void matmul(int dt, const void* a, const void* b, void* out, const Dims& batch, const Dims& aBatch, const Dims& bBatch,
            int64_t m, int64_t n, int64_t k, bool transA, bool transB);
// dt BF16: bfloat16 operands, float32 accumulation and output (out is float*).
// float32 matrix products: 0 full float32, 1 TF32 tensor cores, 2 bfloat16 inputs, float32 accumulation.
void setMatmulPrecision(int mode);

// ---- shape.cu ----
// out[i] = x[base + sum_d idx_d(i) * st[d]] over `shape`: transpose, slice, broadcastTo, diagonal.
void stridedCopy(int dt, const void* x, void* out, const Dims& shape, const Dims& st, int64_t base);
void pad(int dt, const void* x, void* out, const Dims& inShape, const Dims& before, const Dims& outShape, double value);
void gather(int dt, const void* x, const int32_t* idx, void* out, int64_t outer, int64_t axisLen, int64_t nIdx,
            int64_t inner);
void scatterAdd(int dt, const void* upd, const int32_t* idx, void* out, int64_t outer, int64_t size, int64_t nIdx,
                int64_t inner);
void oneHot(int dt, const int32_t* idx, void* out, int64_t n, int64_t depth);
void diagEmbed(int dt, const void* x, void* out, int64_t batch, int64_t n);
void tril(int dt, const void* x, void* out, int64_t batch, int64_t m, int64_t n, int64_t k);
// Copies `rows` rows of `rowBytes` from x (pitch rowBytes) to out at byte column `col` (pitch outPitch).
void copy2d(const void* x, void* out, int64_t rows, int64_t rowBytes, int64_t outPitch, int64_t col);
void fill(int dt, void* out, int64_t n, double value);

// ---- linalg.cu ----
// Returns -1, or the first batch index whose matrix is not positive definite.
int64_t cholesky(int dt, const void* x, void* out, int64_t batch, int64_t n);
// Returns -1, or the first flat index bi·n + i (over a's own count matrices) of a zero on a diagonal.
// Returns -1 without checking while the stream is being captured into a graph.
int64_t triangularZeroDiagonal(int dt, const void* a, int64_t count, int64_t n);
void triangularSolve(int dt, const void* a, const void* b, void* out, const Dims& batch, const Dims& aBatch,
                     const Dims& bBatch, int64_t n, int64_t k, bool lower, bool transA);

// ---- random.cu ----
void randomBits(Key key, int32_t* out, int64_t n);
void randomUniform(Key key, int dt, void* out, int64_t n);
void randomNormal(Key key, int dt, void* out, int64_t n);
// Per-element rejection samplers; `param` (alpha, rate or concentration) has the output's dtype and size.
void randomGamma(Key key, int dt, const void* param, void* out, int64_t n);
void randomPoisson(Key key, int dt, const void* param, void* out, int64_t n);
void randomVonMises(Key key, int dt, const void* param, void* out, int64_t n);

// ---- gauss.cu ----
// loc and logScale broadcast through strides sLoc/sLogScale over `shape` (the outputs').
// z = loc + exp(logScale)·ε and logq = −½ε² − logScale − ½ log 2π, ε randomNormal's draws of `key`.
void normalReparam(Key key, int dt, const void* loc, const void* logScale, void* z, void* logq,
                   const Dims& shape, const Dims& sLoc, const Dims& sLogScale);
// KL(N(loc, exp(logScale)²) ‖ N(0, 1)), elementwise.
void diagNormalKL(int dt, const void* loc, const void* logScale, void* out, const Dims& shape, const Dims& sLoc,
                  const Dims& sLogScale);

// ---- mvn.cu ----
// Per batch row of d: z = loc + L ε (L's lower triangle) and logq = −½‖ε‖² − Σ log|L_ii| − (d/2) log 2π,
// ε randomNormal's draws of `key` for z [batch..., d]; loc and L read at their batch strides
// sLoc/sL (in elements) over `batch`.
void mvnReparam(Key key, int dt, const void* loc, const void* scaleTril, void* z, void* logq,
                const Dims& batch, const Dims& sLoc, const Dims& sL, int64_t d);

// ---- svgd.cu ----
// SVGD's update direction for n particles x [n, d] with scores g [n, d]: phi [n, d] and the
// bandwidth used, h (one element); bandwidth > 0 fixes h, 0 asks for the median heuristic.
void svgdPhi(int dt, const void* x, const void* g, void* phi, void* h, int64_t n, int64_t d, double bandwidth);

// ---- flow.cu ----
// The affine flow step over rows of d: mode 0 exp, 1 exp inverse, 2 sigmoid. x, shift and s are read
// at their strides sx/sShift/sS over the batch shape (the output's leading dims) plus
// inner[k]·j along the row; mask (nullable) at maskStride·j. Writes y [rows, d] and logdet [rows].
void affineFlow(int dt, int mode, const void* x, const void* shift, const void* s, const void* mask, void* y,
                void* logdet, const Dims& batch, const Dims& sx, const Dims& sShift, const Dims& sS,
                const Dims& inner, int64_t d, int64_t maskStride);

// ---- spline.cu ----
// The rational-quadratic spline step and its backward (ts/kernels/spec.ts's rqSpline, rqSplineGrad):
// meta = [rank, shape.., sx.., sw.., sh.., sd..], the output shape and the element strides of x and
// of each parameter row's start over it; K bins on [−bound, bound].
void rqSpline(int dt, const void* x, const void* w, const void* h, const void* d, void* y, void* logdet,
              const Dims& meta, int64_t k, double bound, bool inverse);
void rqSplineGrad(int dt, const void* x, const void* w, const void* h, const void* d, const void* dy,
                  const void* dlogdet, void* dx, void* dw, void* dh, void* dd, const Dims& meta, int64_t k,
                  double bound, bool inverse);

}  // namespace vi
