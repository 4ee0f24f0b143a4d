// Elementwise kernels: unary, binary and compare with broadcasting, where, clamp, cast. The special
// functions (lgamma ... besselI1e, igamma, gammaSampleGrad, vonMisesSampleGrad) come from special.cuh.
#include "common.cuh"
#include "kernels.h"
#include "special.cuh"

namespace vi {

enum UOp {
  U_NEG, U_ABS, U_SIGN, U_RECIP, U_SQUARE, U_SQRT, U_RSQRT, U_EXP, U_EXPM1, U_LOG, U_LOG1P, U_SIN, U_COS,
  U_TANH, U_SIGMOID, U_SOFTPLUS, U_RELU, U_FLOOR, U_CEIL, U_ERF, U_ERFINV, U_LGAMMA, U_DIGAMMA, U_TRIGAMMA,
  U_BESSEL_I0E, U_BESSEL_I1E
};

template <int OP, class T>
__device__ __forceinline__ T unaryOp(T x) {
  if constexpr (OP == U_NEG) return -x;
  if constexpr (OP == U_SQUARE) return x * x;
  if constexpr (OP == U_SIGN) return x > T(0) ? T(1) : x < T(0) ? T(-1) : x;
  if constexpr (OP == U_ABS) {
    if constexpr (std::is_same_v<T, int32_t>) return x < 0 ? T(0u - static_cast<uint32_t>(x)) : x;
    else return m_abs(x);
  }
  if constexpr (std::is_floating_point_v<T>) {
    if constexpr (OP == U_RECIP) return T(1) / x;
    if constexpr (OP == U_SQRT) return m_sqrt(x);
    if constexpr (OP == U_RSQRT) return T(1) / m_sqrt(x);
    if constexpr (OP == U_EXP) return m_exp(x);
    if constexpr (OP == U_EXPM1) return m_expm1(x);
    if constexpr (OP == U_LOG) return m_log(x);
    if constexpr (OP == U_LOG1P) return m_log1p(x);
    if constexpr (OP == U_SIN) return m_sin(x);
    if constexpr (OP == U_COS) return m_cos(x);
    if constexpr (OP == U_TANH) return m_tanh(x);
    // The two branches keep exp's argument non-positive, so neither overflows.
    if constexpr (OP == U_SIGMOID) return x >= T(0) ? T(1) / (T(1) + m_exp(-x)) : m_exp(x) / (T(1) + m_exp(x));
    if constexpr (OP == U_SOFTPLUS) return (x > T(0) ? x : T(0)) + m_log1p(m_exp(-m_abs(x)));
    if constexpr (OP == U_RELU) return x > T(0) ? x : T(0);
    if constexpr (OP == U_FLOOR) return m_floor(x);
    if constexpr (OP == U_CEIL) return m_ceil(x);
    // Special functions run in double for both float dtypes, as the js reference does.
    if constexpr (OP == U_ERF) return T(sp_erf(double(x)));
    if constexpr (OP == U_ERFINV) return T(sp_erfinv(double(x)));
    if constexpr (OP == U_LGAMMA) return T(sp_lgamma(double(x)));
    if constexpr (OP == U_DIGAMMA) return T(sp_digamma(double(x)));
    if constexpr (OP == U_TRIGAMMA) return T(sp_trigamma(double(x)));
    if constexpr (OP == U_BESSEL_I0E) return T(sp_i0e(double(x)));
    if constexpr (OP == U_BESSEL_I1E) return T(sp_i1e(double(x)));
  }
  return x;
}

template <int OP, class T>
__global__ void unaryK(const T* __restrict__ x, T* __restrict__ out, int64_t n) {
  VI_GRID_LOOP(i, n) out[i] = unaryOp<OP, T>(x[i]);
}

static int unaryCode(const std::string& op) {
  static const char* names[] = {"neg",   "abs",     "sign",     "reciprocal", "square",  "sqrt",   "rsqrt", "exp",
                                "expm1", "log",     "log1p",    "sin",        "cos",     "tanh",   "sigmoid",
                                "softplus", "relu", "floor",    "ceil",       "erf",     "erfinv", "lgamma",
                                "digamma", "trigamma", "besselI0e", "besselI1e"};
  for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
    if (op == names[i]) return i;
  throw std::runtime_error("cuda unary: unknown op '" + op + "'");
}

template <class T>
static void unaryT(int code, const T* x, T* out, int64_t n) {
  const unsigned g = gridFor(n);
  switch (code) {
#define CASE(C) \
  case C: unaryK<C, T><<<g, THREADS, 0, stream()>>>(x, out, n); break;
    CASE(U_NEG) CASE(U_ABS) CASE(U_SIGN) CASE(U_RECIP) CASE(U_SQUARE) CASE(U_SQRT) CASE(U_RSQRT) CASE(U_EXP)
    CASE(U_EXPM1) CASE(U_LOG) CASE(U_LOG1P) CASE(U_SIN) CASE(U_COS) CASE(U_TANH) CASE(U_SIGMOID) CASE(U_SOFTPLUS)
    CASE(U_RELU) CASE(U_FLOOR) CASE(U_CEIL) CASE(U_ERF) CASE(U_ERFINV) CASE(U_LGAMMA) CASE(U_DIGAMMA)
    CASE(U_TRIGAMMA) CASE(U_BESSEL_I0E) CASE(U_BESSEL_I1E)
#undef CASE
  }
}

void unary(const std::string& op, int dt, const void* x, void* out, int64_t n) {
  const int code = unaryCode(op);
  if (n == 0) return;
  if (dt == F32) unaryT<float>(code, (const float*)x, (float*)out, n);
  else if (dt == F64) unaryT<double>(code, (const double*)x, (double*)out, n);
  else {
    if (code != U_NEG && code != U_ABS && code != U_SIGN && code != U_SQUARE)
      throw std::runtime_error("cuda " + op + ": int32 is not supported");
    // Wrap-around arithmetic in unsigned, as JS's Int32Array stores do.
    unaryT<int32_t>(code, (const int32_t*)x, (int32_t*)out, n);
  }
  checkLaunch(op.c_str());
}

// ---- binary and compare ----
// B_IGAMMA, B_GAMMA_GRAD and B_VM_GRAD are float-only special functions of (a, x) / (kappa, x).
enum BOp {
  B_ADD, B_SUB, B_MUL, B_DIV, B_POW, B_MAX, B_MIN, C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE,
  B_IGAMMA, B_GAMMA_GRAD, B_VM_GRAD
};

template <int OP, class T>
__device__ __forceinline__ auto binOp(T a, T b) {
  if constexpr (std::is_same_v<T, int32_t>) {
    const uint32_t ua = a, ub = b;
    if constexpr (OP == B_ADD) return int32_t(ua + ub);
    if constexpr (OP == B_SUB) return int32_t(ua - ub);
    if constexpr (OP == B_MUL) return int32_t(ua * ub);
    // Truncating division; x/0 is 0 and INT_MIN/-1 wraps, matching the js reference.
    if constexpr (OP == B_DIV) return b == 0 ? 0 : b == -1 ? int32_t(0u - ua) : a / b;
    if constexpr (OP == B_POW) return a;
  } else {
    if constexpr (OP == B_ADD) return a + b;
    if constexpr (OP == B_SUB) return a - b;
    if constexpr (OP == B_MUL) return a * b;
    if constexpr (OP == B_DIV) return a / b;
    if constexpr (OP == B_POW) return m_pow(a, b);
    // In double for both float dtypes, rounded on the store, as the js reference does.
    if constexpr (OP == B_IGAMMA) return T(sp_igamma(double(a), double(b)));
    if constexpr (OP == B_GAMMA_GRAD) return T(sp_gammaSampleGrad(double(a), double(b)));
    if constexpr (OP == B_VM_GRAD) return T(sp_vonMisesSampleGrad(double(a), double(b)));
  }
  // NaN-propagating, as NumPy's maximum/minimum.
  if constexpr (OP == B_MAX) return (a > b || a != a) ? a : b;
  if constexpr (OP == B_MIN) return (a < b || a != a) ? a : b;
  if constexpr (OP == C_EQ) return int32_t(a == b);
  if constexpr (OP == C_NE) return int32_t(a != b);
  if constexpr (OP == C_LT) return int32_t(a < b);
  if constexpr (OP == C_LE) return int32_t(a <= b);
  if constexpr (OP == C_GT) return int32_t(a > b);
  if constexpr (OP == C_GE) return int32_t(a >= b);
}

template <int OP, class T, class O>
__global__ void binaryFlatK(const T* __restrict__ a, const T* __restrict__ b, O* __restrict__ out, int64_t n, int mode) {
  // mode 0: same shape; 1: b is a scalar; 2: a is a scalar.
  if (mode == 0) {
    VI_GRID_LOOP(i, n) out[i] = binOp<OP, T>(a[i], b[i]);
  } else if (mode == 1) {
    const T v = b[0];
    VI_GRID_LOOP(i, n) out[i] = binOp<OP, T>(a[i], v);
  } else {
    const T v = a[0];
    VI_GRID_LOOP(i, n) out[i] = binOp<OP, T>(v, b[i]);
  }
}

template <int OP, class T, class O>
__global__ void binaryK(const T* __restrict__ a, const T* __restrict__ b, O* __restrict__ out, int64_t n, Strided s) {
  VI_GRID_LOOP(i, n) {
    int64_t off[2];
    offsets<2>(i, s, off);
    out[i] = binOp<OP, T>(a[off[0]], b[off[1]]);
  }
}

static int64_t numel(const Dims& shape) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

static bool contiguous(const Dims& shape, const Dims& st) {
  int64_t acc = 1;
  for (int d = (int)shape.size() - 1; d >= 0; d--) {
    if (shape[d] != 1 && st[d] != acc) return false;
    acc *= shape[d];
  }
  return true;
}

static bool allZero(const Dims& st) {
  for (auto v : st)
    if (v != 0) return false;
  return true;
}

static Strided makeStrided(const Dims& shape, std::initializer_list<const Dims*> sts) {
  if (shape.size() > (size_t)MAX_RANK) throw std::runtime_error("cuda: rank " + std::to_string(shape.size()) + " exceeds " + std::to_string(MAX_RANK));
  Strided s{};
  s.rank = (int)shape.size();
  for (int d = 0; d < s.rank; d++) s.shape[d] = shape[d];
  int k = 0;
  for (const Dims* st : sts) {
    for (int d = 0; d < s.rank; d++) s.st[k][d] = (*st)[d];
    k++;
  }
  return s;
}

template <int OP, class T, class O>
static void launchBinary(const void* a, const void* b, void* out, const Dims& shape, const Dims& sa, const Dims& sb) {
  const int64_t n = numel(shape);
  const unsigned g = gridFor(n);
  const bool ca = contiguous(shape, sa), cb = contiguous(shape, sb);
  int mode = -1;
  if (ca && cb) mode = 0;
  else if (ca && allZero(sb)) mode = 1;
  else if (cb && allZero(sa)) mode = 2;
  if (mode >= 0)
    binaryFlatK<OP, T, O><<<g, THREADS, 0, stream()>>>((const T*)a, (const T*)b, (O*)out, n, mode);
  else
    binaryK<OP, T, O><<<g, THREADS, 0, stream()>>>((const T*)a, (const T*)b, (O*)out, n, makeStrided(shape, {&sa, &sb}));
}

template <int OP, class O>
static void binaryDt(int dt, const void* a, const void* b, void* out, const Dims& shape, const Dims& sa, const Dims& sb) {
  if (dt == F32) launchBinary<OP, float, std::conditional_t<std::is_same_v<O, void>, float, O>>(a, b, out, shape, sa, sb);
  else if (dt == F64) launchBinary<OP, double, std::conditional_t<std::is_same_v<O, void>, double, O>>(a, b, out, shape, sa, sb);
  else launchBinary<OP, int32_t, int32_t>(a, b, out, shape, sa, sb);
}

// The float-only special binaries: never instantiated for int32.
template <int OP>
static void binaryFloat(const std::string& op, int dt, const void* a, const void* b, void* out, const Dims& shape,
                        const Dims& sa, const Dims& sb) {
  if (dt == F32) launchBinary<OP, float, float>(a, b, out, shape, sa, sb);
  else if (dt == F64) launchBinary<OP, double, double>(a, b, out, shape, sa, sb);
  else throw std::runtime_error("cuda " + op + ": int32 is not supported");
}

void binary(const std::string& op, int dt, const void* a, const void* b, void* out, const Dims& shape, const Dims& sa,
            const Dims& sb) {
  if (numel(shape) == 0) return;
  if (op == "add") binaryDt<B_ADD, void>(dt, a, b, out, shape, sa, sb);
  else if (op == "sub") binaryDt<B_SUB, void>(dt, a, b, out, shape, sa, sb);
  else if (op == "mul") binaryDt<B_MUL, void>(dt, a, b, out, shape, sa, sb);
  else if (op == "div") binaryDt<B_DIV, void>(dt, a, b, out, shape, sa, sb);
  else if (op == "pow") {
    if (dt == I32) throw std::runtime_error("cuda pow: int32 is not supported");
    binaryDt<B_POW, void>(dt, a, b, out, shape, sa, sb);
  } else if (op == "maximum") binaryDt<B_MAX, void>(dt, a, b, out, shape, sa, sb);
  else if (op == "minimum") binaryDt<B_MIN, void>(dt, a, b, out, shape, sa, sb);
  else if (op == "igamma") binaryFloat<B_IGAMMA>(op, dt, a, b, out, shape, sa, sb);
  else if (op == "gammaSampleGrad") binaryFloat<B_GAMMA_GRAD>(op, dt, a, b, out, shape, sa, sb);
  else if (op == "vonMisesSampleGrad") binaryFloat<B_VM_GRAD>(op, dt, a, b, out, shape, sa, sb);
  else throw std::runtime_error("cuda binary: unknown op '" + op + "'");
  checkLaunch(op.c_str());
}

void compare(const std::string& op, int dt, const void* a, const void* b, void* out, const Dims& shape, const Dims& sa,
             const Dims& sb) {
  if (numel(shape) == 0) return;
  if (op == "equal") binaryDt<C_EQ, int32_t>(dt, a, b, out, shape, sa, sb);
  else if (op == "notEqual") binaryDt<C_NE, int32_t>(dt, a, b, out, shape, sa, sb);
  else if (op == "less") binaryDt<C_LT, int32_t>(dt, a, b, out, shape, sa, sb);
  else if (op == "lessEqual") binaryDt<C_LE, int32_t>(dt, a, b, out, shape, sa, sb);
  else if (op == "greater") binaryDt<C_GT, int32_t>(dt, a, b, out, shape, sa, sb);
  else if (op == "greaterEqual") binaryDt<C_GE, int32_t>(dt, a, b, out, shape, sa, sb);
  else throw std::runtime_error("cuda compare: unknown op '" + op + "'");
  checkLaunch(op.c_str());
}

// ---- where, clamp, cast ----
template <class C, class T>
__global__ void whereK(const C* __restrict__ c, const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ out,
                       int64_t n, Strided s) {
  VI_GRID_LOOP(i, n) {
    int64_t off[3];
    offsets<3>(i, s, off);
    out[i] = c[off[0]] != C(0) ? a[off[1]] : b[off[2]];
  }
}

template <class C>
static void whereC(int dt, const void* c, const void* a, const void* b, void* out, int64_t n, const Strided& s) {
  const unsigned g = gridFor(n);
  if (dt == F32) whereK<C, float><<<g, THREADS, 0, stream()>>>((const C*)c, (const float*)a, (const float*)b, (float*)out, n, s);
  else if (dt == F64) whereK<C, double><<<g, THREADS, 0, stream()>>>((const C*)c, (const double*)a, (const double*)b, (double*)out, n, s);
  else whereK<C, int32_t><<<g, THREADS, 0, stream()>>>((const C*)c, (const int32_t*)a, (const int32_t*)b, (int32_t*)out, n, s);
}

void where(int cdt, int dt, const void* c, const void* a, const void* b, void* out, const Dims& shape, const Dims& sc,
           const Dims& sa, const Dims& sb) {
  const int64_t n = numel(shape);
  if (n == 0) return;
  const Strided s = makeStrided(shape, {&sc, &sa, &sb});
  if (cdt == F32) whereC<float>(dt, c, a, b, out, n, s);
  else if (cdt == F64) whereC<double>(dt, c, a, b, out, n, s);
  else whereC<int32_t>(dt, c, a, b, out, n, s);
  checkLaunch("where");
}

template <class T>
__global__ void clampK(const T* __restrict__ x, T* __restrict__ out, int64_t n, T lo, T hi) {
  VI_GRID_LOOP(i, n) {
    const T v = x[i];
    out[i] = v < lo ? lo : v > hi ? hi : v;
  }
}

void clamp(int dt, const void* x, void* out, int64_t n, double lo, double hi) {
  if (n == 0) return;
  const unsigned g = gridFor(n);
  if (dt == F32) clampK<float><<<g, THREADS, 0, stream()>>>((const float*)x, (float*)out, n, (float)lo, (float)hi);
  else if (dt == F64) clampK<double><<<g, THREADS, 0, stream()>>>((const double*)x, (double*)out, n, lo, hi);
  else {
    // Integer bounds as the js reference compares: against the (possibly fractional) doubles.
    const double l = lo < -2147483648.0 ? -2147483648.0 : ceil(lo), h = hi > 2147483647.0 ? 2147483647.0 : floor(hi);
    clampK<int32_t><<<g, THREADS, 0, stream()>>>((const int32_t*)x, (int32_t*)out, n, (int32_t)l, (int32_t)h);
  }
  checkLaunch("clamp");
}

template <class A, class B>
__global__ void castK(const A* __restrict__ x, B* __restrict__ out, int64_t n) {
  VI_GRID_LOOP(i, n) {
    if constexpr (std::is_same_v<B, int32_t> && !std::is_same_v<A, int32_t>) out[i] = castInt32(double(x[i]));
    else out[i] = B(x[i]);
  }
}

// To bfloat16 bits: through float (float64 rounds twice, as the js reference and PyTorch do).
template <class A>
__global__ void toBf16K(const A* __restrict__ x, uint16_t* __restrict__ out, int64_t n) {
  VI_GRID_LOOP(i, n) out[i] = bf16Bits(float(x[i]));
}

template <class B>
__global__ void fromBf16K(const uint16_t* __restrict__ x, B* __restrict__ out, int64_t n) {
  VI_GRID_LOOP(i, n) {
    const float v = bf16Value(x[i]);
    if constexpr (std::is_same_v<B, int32_t>) out[i] = castInt32(double(v));
    else out[i] = B(v);
  }
}

template <class A>
static void castFrom(int to, const void* x, void* out, int64_t n) {
  const unsigned g = gridFor(n);
  if (to == F32) castK<A, float><<<g, THREADS, 0, stream()>>>((const A*)x, (float*)out, n);
  else if (to == F64) castK<A, double><<<g, THREADS, 0, stream()>>>((const A*)x, (double*)out, n);
  else if (to == BF16) toBf16K<A><<<g, THREADS, 0, stream()>>>((const A*)x, (uint16_t*)out, n);
  else castK<A, int32_t><<<g, THREADS, 0, stream()>>>((const A*)x, (int32_t*)out, n);
}

void cast(int from, int to, const void* x, void* out, int64_t n) {
  if (n == 0) return;
  const unsigned g = gridFor(n);
  if (from == BF16) {
    if (to == F32) fromBf16K<float><<<g, THREADS, 0, stream()>>>((const uint16_t*)x, (float*)out, n);
    else if (to == F64) fromBf16K<double><<<g, THREADS, 0, stream()>>>((const uint16_t*)x, (double*)out, n);
    else if (to == BF16) check(cudaMemcpyAsync(out, x, 2 * n, cudaMemcpyDeviceToDevice, stream()), "cast");
    else fromBf16K<int32_t><<<g, THREADS, 0, stream()>>>((const uint16_t*)x, (int32_t*)out, n);
  } else if (from == F32) castFrom<float>(to, x, out, n);
  else if (from == F64) castFrom<double>(to, x, out, n);
  else castFrom<int32_t>(to, x, out, n);
  checkLaunch("cast");
}

}  // namespace vi
