// Data movement: strided copy (transpose, slice, broadcastTo, diagonal), pad, gather, scatterAdd,
// oneHot, diagEmbed, tril, fill and 2-D copies (concat). Kernels move bytes, so they are
// templated on the element width alone where the dtype does not matter.
#include "common.cuh"
#include "kernels.h"

namespace vi {

template <class T>
__global__ void stridedCopyK(const T* __restrict__ x, T* __restrict__ out, int64_t n, Strided s, int64_t base) {
  VI_GRID_LOOP(i, n) {
    int64_t off[1];
    offsets<1>(i, s, off);
    out[i] = x[base + off[0]];
  }
}

static int64_t numel(const Dims& shape) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

void stridedCopy(int dt, const void* x, void* out, const Dims& shape, const Dims& st, int64_t base) {
  const int64_t n = numel(shape);
  if (n == 0) return;
  if (shape.size() > (size_t)MAX_RANK) throw std::runtime_error("cuda strided copy: rank exceeds 10");
  Strided s{};
  s.rank = (int)shape.size();
  for (int d = 0; d < s.rank; d++) {
    s.shape[d] = shape[d];
    s.st[0][d] = st[d];
  }
  const unsigned g = gridFor(n);
  if (dt == F64) stridedCopyK<int64_t><<<g, THREADS, 0, stream()>>>((const int64_t*)x, (int64_t*)out, n, s, base);
  else if (dt == BF16) stridedCopyK<uint16_t><<<g, THREADS, 0, stream()>>>((const uint16_t*)x, (uint16_t*)out, n, s, base);
  else stridedCopyK<int32_t><<<g, THREADS, 0, stream()>>>((const int32_t*)x, (int32_t*)out, n, s, base);
  checkLaunch("stridedCopy (transpose/slice/broadcastTo/diagonal)");
}

template <class T>
__global__ void padK(const T* __restrict__ x, T* __restrict__ out, int64_t n, Strided s, T value) {
  // s.shape: output shape; s.st[0]: input strides; s.st[1]: before; s.st[2]: input shape.
  VI_GRID_LOOP(i, n) {
    int64_t rem = i, off = 0;
    bool inside = true;
    for (int d = s.rank - 1; d >= 0; d--) {
      const int64_t q = rem / s.shape[d], idx = rem - q * s.shape[d] - s.st[1][d];
      rem = q;
      if (idx < 0 || idx >= s.st[2][d]) inside = false;
      off += idx * s.st[0][d];
    }
    out[i] = inside ? x[off] : value;
  }
}

template <class T>
static void padT(const void* x, void* out, int64_t n, const Strided& s, T v) {
  padK<T><<<gridFor(n), THREADS, 0, stream()>>>((const T*)x, (T*)out, n, s, v);
}

void pad(int dt, const void* x, void* out, const Dims& inShape, const Dims& before, const Dims& outShape, double value) {
  const int64_t n = numel(outShape);
  if (n == 0) return;
  if (outShape.size() > (size_t)MAX_RANK) throw std::runtime_error("cuda pad: rank exceeds 10");
  Strided s{};
  s.rank = (int)outShape.size();
  int64_t acc = 1;
  for (int d = s.rank - 1; d >= 0; d--) {
    s.shape[d] = outShape[d];
    s.st[0][d] = acc;
    s.st[1][d] = before[d];
    s.st[2][d] = inShape[d];
    acc *= inShape[d];
  }
  if (dt == F32) padT<float>(x, out, n, s, (float)value);
  else if (dt == F64) padT<double>(x, out, n, s, value);
  else padT<int32_t>(x, out, n, s, (int32_t)value);
  checkLaunch("pad");
}

// out[o, j, i] = x[o, idx[j], i]; an index outside [0, axisLen) gives 0 (the js reference throws;
// the TS side checks ranges before launching, so this only guards memory).
template <class T>
__global__ void gatherK(const T* __restrict__ x, const int32_t* __restrict__ idx, T* __restrict__ out, int64_t outer,
                        int64_t axisLen, int64_t nIdx, int64_t inner) {
  VI_GRID_LOOP(t, outer * nIdx * inner) {
    const int64_t i = t % inner, r = t / inner;
    const int64_t j = r % nIdx, o = r / nIdx;
    const int64_t k = idx[j];
    out[t] = (k >= 0 && k < axisLen) ? x[(o * axisLen + k) * inner + i] : T(0);
  }
}

void gather(int dt, const void* x, const int32_t* idx, void* out, int64_t outer, int64_t axisLen, int64_t nIdx,
            int64_t inner) {
  const int64_t n = outer * nIdx * inner;
  if (n == 0) return;
  const unsigned g = gridFor(n);
  if (dt == F64) gatherK<int64_t><<<g, THREADS, 0, stream()>>>((const int64_t*)x, idx, (int64_t*)out, outer, axisLen, nIdx, inner);
  else gatherK<int32_t><<<g, THREADS, 0, stream()>>>((const int32_t*)x, idx, (int32_t*)out, outer, axisLen, nIdx, inner);
  checkLaunch("gather");
}

// out[o, idx[j], i] += upd[o, j, i]. atomicAdd makes float sums order-dependent (last-bit noise).
template <class T>
__global__ void scatterAddK(const T* __restrict__ upd, const int32_t* __restrict__ idx, T* __restrict__ out,
                            int64_t outer, int64_t size, int64_t nIdx, int64_t inner) {
  VI_GRID_LOOP(t, outer * nIdx * inner) {
    const int64_t i = t % inner, r = t / inner;
    const int64_t j = r % nIdx, o = r / nIdx;
    const int64_t k = idx[j];
    if (k >= 0 && k < size) atomicAdd(&out[(o * size + k) * inner + i], upd[t]);
  }
}

void scatterAdd(int dt, const void* upd, const int32_t* idx, void* out, int64_t outer, int64_t size, int64_t nIdx,
                int64_t inner) {
  const int64_t nOut = outer * size * inner;
  if (nOut == 0) return;
  check(cudaMemsetAsync(out, 0, dtypeBytes(dt) * nOut, stream()), "scatterAdd (zero fill)");
  const int64_t n = outer * nIdx * inner;
  if (n == 0) return;
  const unsigned g = gridFor(n);
  if (dt == F32) scatterAddK<float><<<g, THREADS, 0, stream()>>>((const float*)upd, idx, (float*)out, outer, size, nIdx, inner);
  else if (dt == F64) scatterAddK<double><<<g, THREADS, 0, stream()>>>((const double*)upd, idx, (double*)out, outer, size, nIdx, inner);
  else scatterAddK<int><<<g, THREADS, 0, stream()>>>((const int*)upd, idx, (int*)out, outer, size, nIdx, inner);
  checkLaunch("scatterAdd");
}

template <class T>
__global__ void oneHotK(const int32_t* __restrict__ idx, T* __restrict__ out, int64_t n, int64_t depth) {
  VI_GRID_LOOP(t, n * depth) {
    const int64_t j = t / depth, d = t - j * depth;
    out[t] = idx[j] == d ? T(1) : T(0);
  }
}

void oneHot(int dt, const int32_t* idx, void* out, int64_t n, int64_t depth) {
  if (n * depth == 0) return;
  const unsigned g = gridFor(n * depth);
  if (dt == F32) oneHotK<float><<<g, THREADS, 0, stream()>>>(idx, (float*)out, n, depth);
  else if (dt == F64) oneHotK<double><<<g, THREADS, 0, stream()>>>(idx, (double*)out, n, depth);
  else oneHotK<int32_t><<<g, THREADS, 0, stream()>>>(idx, (int32_t*)out, n, depth);
  checkLaunch("oneHot");
}

template <class T>
__global__ void diagEmbedK(const T* __restrict__ x, T* __restrict__ out, int64_t batch, int64_t n) {
  VI_GRID_LOOP(t, batch * n * n) {
    const int64_t j = t % n, r = t / n;
    const int64_t i = r % n, b = r / n;
    out[t] = i == j ? x[b * n + i] : T(0);
  }
}

void diagEmbed(int dt, const void* x, void* out, int64_t batch, int64_t n) {
  if (batch * n == 0) return;
  const unsigned g = gridFor(batch * n * n);
  if (dt == F64) diagEmbedK<int64_t><<<g, THREADS, 0, stream()>>>((const int64_t*)x, (int64_t*)out, batch, n);
  else diagEmbedK<int32_t><<<g, THREADS, 0, stream()>>>((const int32_t*)x, (int32_t*)out, batch, n);
  checkLaunch("diagEmbed");
}

template <class T>
__global__ void trilK(const T* __restrict__ x, T* __restrict__ out, int64_t total, int64_t m, int64_t n, int64_t k) {
  VI_GRID_LOOP(t, total) {
    const int64_t j = t % n, i = (t / n) % m;
    out[t] = j - i <= k ? x[t] : T(0);
  }
}

void tril(int dt, const void* x, void* out, int64_t batch, int64_t m, int64_t n, int64_t k) {
  const int64_t total = batch * m * n;
  if (total == 0) return;
  const unsigned g = gridFor(total);
  if (dt == F64) trilK<int64_t><<<g, THREADS, 0, stream()>>>((const int64_t*)x, (int64_t*)out, total, m, n, k);
  else trilK<int32_t><<<g, THREADS, 0, stream()>>>((const int32_t*)x, (int32_t*)out, total, m, n, k);
  checkLaunch("tril");
}

void copy2d(const void* x, void* out, int64_t rows, int64_t rowBytes, int64_t outPitch, int64_t col) {
  if (rows == 0 || rowBytes == 0) return;
  check(cudaMemcpy2DAsync((char*)out + col, (size_t)outPitch, x, (size_t)rowBytes, (size_t)rowBytes, (size_t)rows,
                          cudaMemcpyDeviceToDevice, stream()),
        "concat (cudaMemcpy2DAsync)");
}

template <class T>
__global__ void fillK(T* __restrict__ out, int64_t n, T v) {
  VI_GRID_LOOP(i, n) out[i] = v;
}

void fill(int dt, void* out, int64_t n, double value) {
  if (n == 0) return;
  const unsigned g = gridFor(n);
  if (dt == F32) fillK<float><<<g, THREADS, 0, stream()>>>((float*)out, n, (float)value);
  else if (dt == F64) fillK<double><<<g, THREADS, 0, stream()>>>((double*)out, n, value);
  else fillK<int32_t><<<g, THREADS, 0, stream()>>>((int32_t*)out, n, (int32_t)value);
  checkLaunch("fill");
}

}  // namespace vi
