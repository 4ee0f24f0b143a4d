// The rational-quadratic spline flow step rqSpline and its backward rqSplineGrad (ts/kernels/spec.ts;
// the js reference ts/backends/js/spline.ts). One thread per output element, in double for both
// dtypes and rounded on the store, as js does. K may reach 1000, so nothing K-sized is kept per
// thread: the softmax's max and sum take two passes over a parameter row, a third walks the
// cumulative sums to the element's bin (the knots in the same order of operations as js), and
// the backward recomputes each softmax weight as it writes that parameter's cotangent.
//
// `meta` is [rank, shape.., sx.., sw.., sh.., sd..]: the output shape and, per output axis, the
// element stride of x and of each parameter row's start (0 where broadcast).
#include "common.cuh"
#include "kernels.h"

namespace vi {

constexpr double SPLINE_MIN_BIN = 1e-3;
constexpr double SPLINE_MIN_DERIVATIVE = 1e-3;

// x and the three parameter rows, each at its strides over the output shape.
using SplineLayout = StridedN<4>;

// A parameter row's softmax: its max and the sum of exp(u − max).
struct Softmax {
  double m, z;
};

template <class T>
__device__ Softmax softmaxOf(const T* u, int k) {
  double m = -INFINITY;
  bool nan = false;
  for (int j = 0; j < k; j++) {
    const double v = double(u[j]);
    nan |= v != v;
    m = fmax(m, v);
  }
  // As Math.max in js: a NaN anywhere makes the row NaN.
  if (nan) m = NAN;
  double z = 0;
  for (int j = 0; j < k; j++) z += exp(double(u[j]) - m);
  return {m, z};
}

// Knot b and b + 1 of a row and the softmax mass below each (S_b, S_b+1), the knots as js builds them.
struct Knots {
  double c0, c1, s0, s1;
};

// Walks the row's knots: with `search` to the bin of v (the last b < K with c_b ≤ v), else to bin `b`.
template <class T>
__device__ Knots walk(const T* u, int k, double bound, Softmax sm, bool search, double v, int& b) {
  const double scale = 1.0 - k * SPLINE_MIN_BIN;
  double cum = 0, mass = 0;
  double c0 = -bound;
  int j = 0;
  for (;; j++) {
    const double s = exp(double(u[j]) - sm.m) / sm.z;
    cum += SPLINE_MIN_BIN + scale * s;
    const double c1 = j == k - 1 ? bound : 2.0 * bound * cum - bound;
    const bool stop = search ? (j == k - 1 || !(v >= c1)) : j == b;
    if (stop) {
      b = j;
      return {c0, c1, mass, mass + s};
    }
    mass += s;
    c0 = c1;
  }
}

__device__ __forceinline__ double splineSoftplus(double v) { return fmax(v, 0.0) + log1p(exp(-fabs(v))); }
__device__ __forceinline__ double splineSigmoid(double v) {
  if (v >= 0) return 1.0 / (1.0 + exp(-v));
  const double e = exp(v);
  return e / (1.0 + e);
}

// One element's bin: θ, width, height, slope, knot derivatives, the knots and softmax masses.
struct Bin {
  int b;
  double theta, w, h, s, d0, d1, x0, y0;
  Knots kw, kh;
  Softmax mw, mh;
};

template <class T>
__device__ Bin locate(const T* w, const T* h, const T* d, int k, double bound, bool inverse, double v) {
  Bin r;
  r.mw = softmaxOf(w, k);
  r.mh = softmaxOf(h, k);
  int b = 0;
  if (!inverse) {
    r.kw = walk(w, k, bound, r.mw, true, v, b);
    r.kh = walk(h, k, bound, r.mh, false, v, b);
  } else {
    r.kh = walk(h, k, bound, r.mh, true, v, b);
    r.kw = walk(w, k, bound, r.mw, false, v, b);
  }
  r.b = b;
  r.x0 = r.kw.c0;
  r.y0 = r.kh.c0;
  r.w = r.kw.c1 - r.kw.c0;
  r.h = r.kh.c1 - r.kh.c0;
  r.s = r.h / r.w;
  r.d0 = b == 0 ? 1.0 - SPLINE_MIN_DERIVATIVE : SPLINE_MIN_DERIVATIVE + splineSoftplus(double(d[b - 1]));
  r.d1 = b == k - 1 ? 1.0 - SPLINE_MIN_DERIVATIVE : SPLINE_MIN_DERIVATIVE + splineSoftplus(double(d[b]));
  if (!inverse) {
    r.theta = (v - r.x0) / r.w;
  } else {
    // The stable root 2c / (−b − √(b² − 4ac)) of the bin's quadratic in θ.
    const double dy = v - r.y0;
    const double e = r.d0 + r.d1 - 2 * r.s;
    const double qa = dy * e + r.h * (r.s - r.d0);
    const double qb = r.h * r.d0 - dy * e;
    const double qc = -r.s * dy;
    const double disc = fmax(qb * qb - 4 * qa * qc, 0.0);
    r.theta = (2 * qc) / (-qb - sqrt(disc));
  }
  return r;
}

template <class T>
__global__ void rqSplineK(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ h,
                          const T* __restrict__ d, T* __restrict__ y, T* __restrict__ logdet, int64_t n, int k,
                          double bound, bool inverse, SplineLayout lay) {
  VI_GRID_LOOP(i, n) {
    int64_t off[4];
    offsets<4>(i, lay, off);
    const double v = double(x[off[0]]);
    if (!(v >= -bound && v <= bound)) {
      y[i] = T(v);
      logdet[i] = T(0);
      continue;
    }
    const Bin r = locate(w + off[1], h + off[2], d + off[3], k, bound, inverse, v);
    const double th = r.theta, s = r.s;
    const double t = th * (1 - th);
    const double den = s + (r.d0 + r.d1 - 2 * s) * t;
    const double m = r.d1 * th * th + 2 * s * t + r.d0 * (1 - th) * (1 - th);
    const double ld = log(s * s * m) - 2 * log(den);
    y[i] = T(inverse ? r.x0 + th * r.w : r.y0 + (r.h * (s * th * th + r.d0 * t)) / den);
    logdet[i] = T(inverse ? -ld : ld);
  }
}

// Cotangents of one unnormalized knot row: ∂c_j/∂u_m = 2B(1 − K·minW)·s_m·([m < j] − S_j), nothing
// for the fixed ends j = 0 and K.
template <class T>
__device__ void knotGrad(const T* u, int k, double bound, Softmax sm, const Knots& kn, int b, double g0, double g1,
                         T* out) {
  const double c = 2 * bound * (1 - k * SPLINE_MIN_BIN);
  const double a0 = b > 0 ? g0 : 0.0;
  const double a1 = b + 1 < k ? g1 : 0.0;
  for (int m = 0; m < k; m++) {
    const double s = exp(double(u[m]) - sm.m) / sm.z;
    out[m] = T(c * s * (a0 * ((m < b ? 1.0 : 0.0) - kn.s0) + a1 * ((m < b + 1 ? 1.0 : 0.0) - kn.s1)));
  }
}

template <class T>
__global__ void rqSplineGradK(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ h,
                              const T* __restrict__ d, const T* __restrict__ gy, const T* __restrict__ gl,
                              T* __restrict__ dx, T* __restrict__ dw, T* __restrict__ dh, T* __restrict__ dd,
                              int64_t n, int k, double bound, bool inverse, SplineLayout lay) {
  VI_GRID_LOOP(i, n) {
    int64_t off[4];
    offsets<4>(i, lay, off);
    const double v = double(x[off[0]]);
    const double cy = double(gy[i]), cl = double(gl[i]);
    T* rw = dw + i * k;
    T* rh = dh + i * k;
    T* rd = dd + i * (k - 1);
    for (int j = 0; j < k - 1; j++) rd[j] = T(0);
    if (!(v >= -bound && v <= bound)) {
      dx[i] = T(cy);
      for (int j = 0; j < k; j++) rw[j] = rh[j] = T(0);
      continue;
    }
    const T* pw = w + off[1];
    const T* ph = h + off[2];
    const T* pd = d + off[3];
    const Bin r = locate(pw, ph, pd, k, bound, inverse, v);
    // The chain rule through the bin, as splineLocalGrad in the js reference.
    const double th = r.theta, wd = r.w, hh = r.h, s = r.s, d0 = r.d0, d1 = r.d1;
    const double t = th * (1 - th);
    const double e = d0 + d1 - 2 * s;
    const double den = s + e * t;
    const double q = (s * th * th + d0 * t) / den;
    const double m = d1 * th * th + 2 * s * t + d0 * (1 - th) * (1 - th);
    const double denT = e * (1 - 2 * th);
    const double denS = 1 - 2 * t;
    const double yT = (hh * (2 * s * th + d0 * (1 - 2 * th) - q * denT)) / den;
    const double yS = (hh * (th * th - q * denS)) / den;
    const double yD0 = (hh * t * (1 - q)) / den;
    const double yD1 = (-hh * q * t) / den;
    const double lT = (2 * d1 * th + 2 * s * (1 - 2 * th) - 2 * d0 * (1 - th)) / m - (2 * denT) / den;
    const double lS = 2 / s + (2 * t) / m - (2 * denS) / den;
    const double lD0 = ((1 - th) * (1 - th)) / m - (2 * t) / den;
    const double lD1 = (th * th) / m - (2 * t) / den;
    double dv, gs, gh, gy0, gw, gx0, gx1, gd0, gd1;
    if (!inverse) {
      const double gt = cy * yT + cl * lT;
      dv = gt / wd;
      gs = cy * yS + cl * lS;
      gd0 = cy * yD0 + cl * lD0;
      gd1 = cy * yD1 + cl * lD1;
      gh = cy * q;
      gy0 = cy;
      gw = 0;
      gx0 = (gt * (th - 1)) / wd;
      gx1 = (-gt * th) / wd;
    } else {
      const double lam = (cy * wd - cl * lT) / yT;
      dv = lam;
      gy0 = -lam;
      gh = -lam * q;
      gs = -lam * yS - cl * lS;
      gd0 = -lam * yD0 - cl * lD0;
      gd1 = -lam * yD1 - cl * lD1;
      gw = cy * th;
      gx0 = cy;
      gx1 = 0;
    }
    gh += gs / wd;
    gw -= (gs * s) / wd;
    dx[i] = T(dv);
    knotGrad(pw, k, bound, r.mw, r.kw, r.b, gx0 - gw, gx1 + gw, rw);
    knotGrad(ph, k, bound, r.mh, r.kh, r.b, gy0 - gh, gh, rh);
    if (r.b >= 1) rd[r.b - 1] = T(gd0 * splineSigmoid(double(pd[r.b - 1])));
    if (r.b + 1 < k) rd[r.b] = T(gd1 * splineSigmoid(double(pd[r.b])));
  }
}

static SplineLayout splineLayout(const char* op, const Dims& meta, int64_t& n) {
  const int64_t r = meta.empty() ? -1 : meta[0];
  if (r < 0 || (int64_t)meta.size() != 1 + 5 * r)
    throw std::runtime_error(std::string("cuda ") + op + ": malformed layout of " + std::to_string(meta.size()) +
                             " entries");
  if (r > MAX_RANK)
    throw std::runtime_error(std::string("cuda ") + op + ": rank " + std::to_string(r) + " exceeds " +
                             std::to_string(MAX_RANK));
  SplineLayout s{};
  s.rank = (int)r;
  n = 1;
  for (int a = 0; a < s.rank; a++) {
    s.shape[a] = meta[1 + a];
    n *= s.shape[a];
    for (int p = 0; p < 4; p++) s.st[p][a] = meta[1 + (p + 1) * r + a];
  }
  return s;
}

void rqSpline(int dt, const void* x, const void* w, const void* h, const void* d, void* y, void* logdet,
              const Dims& meta, int64_t k, double bound, bool inverse) {
  int64_t n = 0;
  const SplineLayout lay = splineLayout("rqSpline", meta, n);
  if (n == 0) return;
  if (dt == F32)
    rqSplineK<float><<<gridFor(n), THREADS, 0, stream()>>>((const float*)x, (const float*)w, (const float*)h,
                                                            (const float*)d, (float*)y, (float*)logdet, n, (int)k,
                                                            bound, inverse, lay);
  else if (dt == F64)
    rqSplineK<double><<<gridFor(n), THREADS, 0, stream()>>>((const double*)x, (const double*)w, (const double*)h,
                                                             (const double*)d, (double*)y, (double*)logdet, n, (int)k,
                                                             bound, inverse, lay);
  else throw std::runtime_error("cuda rqSpline: int32 is not supported");
  checkLaunch("rqSpline");
}

void rqSplineGrad(int dt, const void* x, const void* w, const void* h, const void* d, const void* dy,
                  const void* dlogdet, void* dx, void* dw, void* dh, void* dd, const Dims& meta, int64_t k,
                  double bound, bool inverse) {
  int64_t n = 0;
  const SplineLayout lay = splineLayout("rqSplineGrad", meta, n);
  if (n == 0) return;
  if (dt == F32)
    rqSplineGradK<float><<<gridFor(n), THREADS, 0, stream()>>>(
        (const float*)x, (const float*)w, (const float*)h, (const float*)d, (const float*)dy, (const float*)dlogdet,
        (float*)dx, (float*)dw, (float*)dh, (float*)dd, n, (int)k, bound, inverse, lay);
  else if (dt == F64)
    rqSplineGradK<double><<<gridFor(n), THREADS, 0, stream()>>>(
        (const double*)x, (const double*)w, (const double*)h, (const double*)d, (const double*)dy,
        (const double*)dlogdet, (double*)dx, (double*)dw, (double*)dh, (double*)dd, n, (int)k, bound, inverse, lay);
  else throw std::runtime_error("cuda rqSplineGrad: int32 is not supported");
  checkLaunch("rqSplineGrad");
}

}  // namespace vi
