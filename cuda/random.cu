// Random kernels: the Philox-4x32-10 stream of ts/random/philox.ts, bit for bit. Each thread
// computes one Philox block (four words) and writes the elements those words make, so no block
// is computed twice. Normals use double arithmetic and round on the store, as js does.
#include "common.cuh"
#include "kernels.h"
#include "philox.cuh"
#include "special.cuh"

namespace vi {

constexpr uint32_t TAG_GAMMA = 0x47414d4du;
constexpr uint32_t TAG_POISSON = 0x504f4953u;
constexpr uint32_t TAG_VON_MISES = 0x564d4953u;
constexpr int MAX_ATTEMPTS = 4096;
constexpr uint32_t GAMMA_BOOST_BLOCK = 0xffffffffu;
constexpr double POISSON_PTRS_MIN_RATE = 10;

__global__ void bitsK(Key key, int32_t* __restrict__ out, int64_t n) {
  const uint32_t k0 = key.word(0), k1 = key.word(1);
  VI_GRID_LOOP(b, (n + 3) / 4) {
    const W4 r = streamBlock(b, k0, k1);
#pragma unroll
    for (int l = 0; l < 4; l++)
      if (4 * b + l < n) out[4 * b + l] = (int32_t)r.w[l];
  }
}

// Uniform float32 k is word k; float64 k is words 2k, 2k+1: per block, 4 or 2 numbers.
template <class T>
__global__ void uniformK(Key key, T* __restrict__ out, int64_t n) {
  const uint32_t k0 = key.word(0), k1 = key.word(1);
  constexpr int PER = std::is_same_v<T, float> ? 4 : 2;
  VI_GRID_LOOP(b, (n + PER - 1) / PER) {
    const W4 r = streamBlock(b, k0, k1);
#pragma unroll
    for (int l = 0; l < PER; l++) {
      const int64_t e = PER * b + l;
      if (e < n) out[e] = PER == 4 ? T(u32ToF32(r.w[l])) : T(u64ToF64(r.w[2 * l], r.w[2 * l + 1]));
    }
  }
}

// Box–Muller on uniforms (2m, 2m+1): a block holds two pairs (float32) or one (float64).
template <class T>
__global__ void normalK(Key key, T* __restrict__ out, int64_t n) {
  const uint32_t k0 = key.word(0), k1 = key.word(1);
  constexpr int PER = NORMALS_PER_BLOCK<T>;
  VI_GRID_LOOP(b, (n + PER - 1) / PER) {
    T eps[PER];
    normalBlock<T>(b, k0, k1, eps);
#pragma unroll
    for (int l = 0; l < PER; l++)
      if (PER * b + l < n) out[PER * b + l] = eps[l];
  }
}

void randomBits(Key key, int32_t* out, int64_t n) {
  if (n == 0) return;
  bitsK<<<gridFor((n + 3) / 4), THREADS, 0, stream()>>>(key, out, n);
  checkLaunch("randomBits");
}

void randomUniform(Key key, int dt, void* out, int64_t n) {
  if (n == 0) return;
  if (dt == F32) uniformK<float><<<gridFor((n + 3) / 4), THREADS, 0, stream()>>>(key, (float*)out, n);
  else if (dt == F64) uniformK<double><<<gridFor((n + 1) / 2), THREADS, 0, stream()>>>(key, (double*)out, n);
  else throw std::runtime_error("cuda randomUniform: int32 is not supported");
  checkLaunch("randomUniform");
}

void randomNormal(Key key, int dt, void* out, int64_t n) {
  if (n == 0) return;
  if (dt == F32) normalK<float><<<gridFor((n + 3) / 4), THREADS, 0, stream()>>>(key, (float*)out, n);
  else if (dt == F64) normalK<double><<<gridFor((n + 1) / 2), THREADS, 0, stream()>>>(key, (double*)out, n);
  else throw std::runtime_error("cuda randomNormal: int32 is not supported");
  checkLaunch("randomNormal");
}

// Marsaglia–Tsang, as gammaElement in ts/backends/js/random.ts.
__device__ double gammaElement(double alpha, int64_t i, uint32_t k0, uint32_t k1) {
  if (!(alpha > 0)) return NAN;
  if (alpha == INFINITY) return INFINITY;
  const uint32_t c0 = (uint32_t)i, c3 = (uint32_t)((uint64_t)i >> 32);
  const bool boost = alpha < 1;
  const double d = (boost ? alpha + 1 : alpha) - 1.0 / 3;
  const double c = 1 / sqrt(9 * d);
  double g = NAN;
  for (int t = 0; t < MAX_ATTEMPTS; t++) {
    W4 w = philox(c0, 2 * t, TAG_GAMMA, c3, k0, k1);
    const double x = sqrt(-2 * log(1 - u64ToF64(w.w[0], w.w[1]))) * cos(TWO_PI * u64ToF64(w.w[2], w.w[3]));
    const double v1 = 1 + c * x;
    if (v1 <= 0) continue;
    const double v = v1 * v1 * v1;
    w = philox(c0, 2 * t + 1, TAG_GAMMA, c3, k0, k1);
    const double u = u64ToF64(w.w[0], w.w[1]);
    const double x2 = x * x;
    if (u < 1 - 0.0331 * x2 * x2 || log(u) < 0.5 * x2 + d * (1 - v + log(v))) {
      g = d * v;
      break;
    }
  }
  if (boost) {
    const W4 w = philox(c0, GAMMA_BOOST_BLOCK, TAG_GAMMA, c3, k0, k1);
    g *= pow(1 - u64ToF64(w.w[0], w.w[1]), 1 / alpha);
  }
  return g;
}

// Knuth below rate 10, Hörmann's PTRS above, as poissonElement in ts/backends/js/random.ts.
__device__ double poissonElement(double rate, int64_t i, uint32_t k0, uint32_t k1) {
  if (!(rate >= 0)) return NAN;
  if (rate == 0) return 0;
  if (rate == INFINITY) return INFINITY;
  const uint32_t c0 = (uint32_t)i, c3 = (uint32_t)((uint64_t)i >> 32);
  if (rate < POISSON_PTRS_MIN_RATE) {
    const double limit = exp(-rate);
    double p = 1;
    W4 w;
    for (int k = 0; k < 2 * MAX_ATTEMPTS; k++) {
      if ((k & 1) == 0) {
        w = philox(c0, (uint32_t)(k >> 1), TAG_POISSON, c3, k0, k1);
        p *= u64ToF64(w.w[0], w.w[1]);
      } else p *= u64ToF64(w.w[2], w.w[3]);
      if (p <= limit) return k;
    }
    return NAN;
  }
  const double slam = sqrt(rate), loglam = log(rate);
  const double b = 0.931 + 2.53 * slam;
  const double a = -0.059 + 0.02483 * b;
  const double invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const double vr = 0.9277 - 3.6224 / (b - 2);
  for (int t = 0; t < MAX_ATTEMPTS; t++) {
    const W4 w = philox(c0, (uint32_t)t, TAG_POISSON, c3, k0, k1);
    const double u = u64ToF64(w.w[0], w.w[1]) - 0.5;
    const double v = u64ToF64(w.w[2], w.w[3]);
    const double us = 0.5 - fabs(u);
    const double k = floor(((2 * a) / us + b) * u + rate + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (log(v) + log(invalpha) - log(a / (us * us) + b) <= -rate + k * loglam - sp_lgamma(k + 1)) return k;
  }
  return NAN;
}

// Best–Fisher (1979), as vonMisesElement in ts/backends/js/vonmises.ts (and von_mises_element in
// native/src/random.rs): attempt t reads block t of counters [i mod 2^32, t, TAG_VON_MISES, i / 2^32],
// u = 2 (w0, w1) - 1, v = (w2, w3); the draw is sign(u) acos(w) in [-pi, pi].
__device__ double vonMisesElement(double k, int64_t i, uint32_t k0, uint32_t k1) {
  if (!(k >= 0)) return NAN;
  if (k == INFINITY) return 0;
  const uint32_t c0 = (uint32_t)i, c3 = (uint32_t)((uint64_t)i >> 32);
  if (k == 0) {
    const W4 w = philox(c0, 0, TAG_VON_MISES, c3, k0, k1);
    return SP_PI * (2 * u64ToF64(w.w[0], w.w[1]) - 1);
  }
  const double q = sqrt(1 + 4 * k * k);
  const double tau = 1 + q;
  // rho = (tau - sqrt(2 tau)) / (2k), written without the cancellation.
  const double rho = (2 * k * tau) / ((q + 1) * (tau + sqrt(2 * tau)));
  const double s = (1 + rho * rho) / (2 * rho);
  for (int t = 0; t < MAX_ATTEMPTS; t++) {
    const W4 w = philox(c0, (uint32_t)t, TAG_VON_MISES, c3, k0, k1);
    const double u = 2 * u64ToF64(w.w[0], w.w[1]) - 1;
    const double v = u64ToF64(w.w[2], w.w[3]);
    const double z = cos(SP_PI * u);
    const double wv = (1 + s * z) / (s + z);
    const double y = k * (s - wv);
    if (y * (2 - y) >= v || log(y / v) + 1 >= y) {
      // Clamped as Math.min/Math.max do (NaN passes through).
      const double a = acos(wv > 1 ? 1 : wv < -1 ? -1 : wv);
      return u < 0 ? -a : a;
    }
  }
  return NAN;
}

enum Sampler { S_GAMMA, S_POISSON, S_VON_MISES };

template <class T, int S>
__global__ void rejectK(Key key, const T* __restrict__ param, T* __restrict__ out, int64_t n) {
  const uint32_t k0 = key.word(0), k1 = key.word(1);
  VI_GRID_LOOP(i, n) {
    const double p = double(param[i]);
    if constexpr (S == S_GAMMA) out[i] = T(gammaElement(p, i, k0, k1));
    else if constexpr (S == S_POISSON) out[i] = T(poissonElement(p, i, k0, k1));
    else out[i] = T(vonMisesElement(p, i, k0, k1));
  }
}

template <int S>
static void reject(Key key, int dt, const void* param, void* out, int64_t n, const char* name) {
  if (n == 0) return;
  // Small blocks: rejection loops diverge, and many blocks spread the stragglers.
  const unsigned g = gridFor(n, 128);
  if (dt == F32) rejectK<float, S><<<g, 128, 0, stream()>>>(key, (const float*)param, (float*)out, n);
  else if (dt == F64) rejectK<double, S><<<g, 128, 0, stream()>>>(key, (const double*)param, (double*)out, n);
  else throw std::runtime_error(std::string("cuda ") + name + ": int32 is not supported");
  checkLaunch(name);
}

void randomGamma(Key key, int dt, const void* param, void* out, int64_t n) {
  reject<S_GAMMA>(key, dt, param, out, n, "randomGamma");
}

void randomPoisson(Key key, int dt, const void* param, void* out, int64_t n) {
  reject<S_POISSON>(key, dt, param, out, n, "randomPoisson");
}

void randomVonMises(Key key, int dt, const void* param, void* out, int64_t n) {
  reject<S_VON_MISES>(key, dt, param, out, n, "randomVonMises");
}

}  // namespace vi
