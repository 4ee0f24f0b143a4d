// Special functions in double, ported step for step from ts/backends/js/special.ts (same series,
// fractions, constant tables and branch points), so cuda and js agree to rounding. erf and
// erfinv are ported too rather than taken from libdevice, for the same reason.
#pragma once
#include "common.cuh"

namespace vi {

constexpr double SP_SQRT_PI = 1.7724538509055160273;
constexpr double SP_TWO_OVER_SQRT_PI = 1.1283791670955125739;
constexpr double SP_LOG_PI = 1.1447298858494001741;
constexpr double SP_HALF_LOG_2PI = 0.91893853320467274178;
constexpr double SP_EULER_GAMMA = 0.57721566490153286061;
constexpr double SP_PI = 3.141592653589793;
constexpr double SP_ASYMPTOTIC_MIN = 10;

__device__ __constant__ static const double SP_ZETA_M1[30] = {
    0.6449340668482264,    0.2020569031595943,    0.08232323371113819,   0.03692775514336993,
    0.01734306198444914,   0.008349277381922827,  0.00407735619794434,   0.0020083928260822143,
    0.0009945751278180853, 0.0004941886041194645, 0.0002460865533080483, 0.00012271334757848915,
    6.124813505870483e-5,  3.058823630702049e-5,  1.528225940865187e-5,  7.637197637899763e-6,
    3.81729326499984e-6,   1.908212716553939e-6,  9.539620338727962e-7,  4.769329867878064e-7,
    2.38450502727733e-7,   1.1921992596531106e-7, 5.960818905125948e-8,  2.980350351465228e-8,
    1.4901554828365043e-8, 7.45071178983543e-9,   3.725334024788457e-9,  1.862659723513049e-9,
    9.313274324196682e-10, 4.656629065033784e-10};

__device__ __constant__ static const double SP_BERNOULLI[9] = {
    1.0 / 6, -1.0 / 30, 1.0 / 42, -1.0 / 30, 5.0 / 66, -691.0 / 2730, 7.0 / 6, -3617.0 / 510, 43867.0 / 798};

__device__ __constant__ static const double SP_PSI_ROOT_TAYLOR[25] = {
    0.9676722454476214,     -0.44276316898359214,  0.2584997609556512,     -0.16394270544240658,
    0.10782405069126239,    -0.07219956125645476,  0.048804288164143145,   -0.033161126474847376,
    0.022597648232218125,   -0.015424765904948968, 0.010538791616612182,   -0.007204534386356875,
    0.004926781395729858,   -0.0033698016554393317, 0.00230512632673493,   -0.0015769367714301987,
    0.0010788252019162975,  -0.000738070938996006, 0.0005049532658346026,  -0.0003454680251063082,
    0.00023635601564027086, -0.00016170622091974825, 0.00011063372768747429, -7.569179582195077e-5,
    5.17857579522209e-5};

constexpr double SP_PSI_ROOT_HI = 1.4616321449683622;
constexpr double SP_PSI_ROOT_LO = 9.549995429965697e-17;

// JS Math.round: halves round toward +Inf.
__device__ __forceinline__ double jsRound(double x) { return floor(x + 0.5); }

__device__ inline double sp_erfSeries(double x) {
  const double x2 = x * x;
  double term = 1, sum = 1;
  for (int n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return SP_TWO_OVER_SQRT_PI * x * exp(-x2) * sum;
}

__device__ inline double sp_erfcFraction(double x) {
  const double tiny = 1e-300;
  double f = x, c = x, d = 0;
  for (int n = 1; n < 500; n++) {
    const double a = n / 2.0;
    d = x + a * d;
    d = d == 0 ? 1 / tiny : 1 / d;
    c = x + a / c;
    if (c == 0) c = tiny;
    const double delta = c * d;
    f *= delta;
    if (fabs(delta - 1) < 1e-16) break;
  }
  return exp(-x * x) / SP_SQRT_PI / f;
}

__device__ inline double sp_erfcPos(double x) {
  if (x < 2) return 1 - sp_erfSeries(x);
  if (x > 27.3) return 0;
  return sp_erfcFraction(x);
}

__device__ inline double sp_erf(double x) {
  if (x != x) return NAN;
  const double a = fabs(x);
  double r;
  if (a < 2) r = sp_erfSeries(a);
  else if (a < 6) r = 1 - sp_erfcFraction(a);
  else r = 1;
  return x < 0 ? -r : a == 0 ? x : r;
}

__device__ inline double sp_erfinvGiles(double x) {
  double w = -log((1 - x) * (1 + x));
  double p;
  if (w < 5) {
    w -= 2.5;
    p = 2.81022636e-8;
    p = 3.43273939e-7 + p * w;
    p = -3.5233877e-6 + p * w;
    p = -4.39150654e-6 + p * w;
    p = 0.00021858087 + p * w;
    p = -0.00125372503 + p * w;
    p = -0.00417768164 + p * w;
    p = 0.246640727 + p * w;
    p = 1.50140941 + p * w;
  } else {
    w = sqrt(w) - 3;
    p = -0.000200214257;
    p = 0.000100950558 + p * w;
    p = 0.00134934322 + p * w;
    p = -0.00367342844 + p * w;
    p = 0.00573950773 + p * w;
    p = -0.0076224613 + p * w;
    p = 0.00943887047 + p * w;
    p = 1.00167406 + p * w;
    p = 2.83297682 + p * w;
  }
  return p * x;
}

__device__ inline double sp_erfinv(double x) {
  if (x != x || x < -1 || x > 1) return NAN;
  if (x == 1) return INFINITY;
  if (x == -1) return -INFINITY;
  if (x == 0) return x;
  const double a = fabs(x);
  double y = sp_erfinvGiles(a);
  for (int i = 0; i < 2; i++) {
    const double resid = a <= 0.5 ? sp_erfSeries(y) - a : 1 - a - sp_erfcPos(y);
    const double dy = resid / (SP_TWO_OVER_SQRT_PI * exp(-y * y));
    y -= dy / (1 + y * dy);
  }
  return x < 0 ? -y : y;
}

__device__ inline double sp_absSinPi(double x) {
  const double r = fabs(x - jsRound(x));
  return r <= 0.25 ? sin(SP_PI * r) : cos(SP_PI * (0.5 - r));
}

__device__ inline double sp_cotPi(double x) {
  const double r = x - jsRound(x);
  return 1 / tan(SP_PI * r);
}

__device__ inline double sp_lgamma2p(double z) {
  double sum = 0, zk = z;
  for (int k = 2; k <= 31; k++) {
    zk *= -z;
    const double t = (SP_ZETA_M1[k - 2] / k) * zk;
    sum += t;
    if (fabs(t) < 1e-18 * fabs(sum)) break;
  }
  return (1 - SP_EULER_GAMMA) * z + sum;
}

__device__ inline double sp_lgamma1p(double z) { return sp_lgamma2p(z) - log1p(z); }

__device__ inline double sp_lgammaStirling(double x) {
  const double r = 1 / x, r2 = r * r;
  double s = 0, p = r;
  for (int k = 1; k <= 9; k++) {
    s += SP_BERNOULLI[k - 1] / (2 * k * (2 * k - 1)) * p;
    p *= r2;
  }
  return (x - 0.5) * log(x) - x + SP_HALF_LOG_2PI + s;
}

// ln Γ(x) for x >= -0.5 (no reflection), the part of js lgamma that does not recurse.
__device__ inline double sp_lgammaMain(double x) {
  if (x < 0) return sp_lgamma1p(x) - log(-x);
  if (x < 0.5) return sp_lgamma1p(x) - log(x);
  if (x < 1.5) return sp_lgamma1p(x - 1);
  if (x < 2.5) return sp_lgamma2p(x - 2);
  if (x < SP_ASYMPTOTIC_MIN) {
    const double n = floor(x - 1.5);
    const double y = x - n;
    double prod = 1;
    for (int i = 0; i < (int)n; i++) prod *= y + i;
    return sp_lgamma2p(y - 2) + log(prod);
  }
  return sp_lgammaStirling(x);
}

__device__ inline double sp_lgamma(double x) {
  if (x != x) return NAN;
  if (isinf(x)) return INFINITY;
  if (x <= 0 && x == floor(x)) return INFINITY;
  // Reflection: 1 - x > 1.5 lands in the non-reflected branches.
  if (x < -0.5) return SP_LOG_PI - log(sp_absSinPi(x)) - sp_lgammaMain(1 - x);
  return sp_lgammaMain(x);
}

__device__ inline double sp_digammaPos(double x) {
  if (fabs(x - SP_PSI_ROOT_HI) <= 0.25) {
    const double t = x - SP_PSI_ROOT_HI - SP_PSI_ROOT_LO;
    double s = 0;
    for (int k = 24; k >= 0; k--) s = s * t + SP_PSI_ROOT_TAYLOR[k];
    return s * t;
  }
  double acc = 0, y = x;
  while (y < SP_ASYMPTOTIC_MIN) {
    acc -= 1 / y;
    y += 1;
  }
  const double r2 = 1 / (y * y);
  double s = 0, p = r2;
  for (int k = 1; k <= 9; k++) {
    s += (SP_BERNOULLI[k - 1] / (2 * k)) * p;
    p *= r2;
  }
  return acc + (log(y) - 0.5 / y - s);
}

__device__ inline double sp_digamma(double x) {
  if (x != x || x == -INFINITY) return NAN;
  if (x == INFINITY) return INFINITY;
  if (x == 0) return signbit(x) ? INFINITY : -INFINITY;
  if (x < 0) {
    if (x == floor(x)) return NAN;
    return sp_digammaPos(1 - x) - SP_PI * sp_cotPi(x);
  }
  return sp_digammaPos(x);
}

__device__ inline double sp_trigammaPos(double x) {
  double acc = 0, y = x;
  while (y < SP_ASYMPTOTIC_MIN) {
    acc += 1 / (y * y);
    y += 1;
  }
  const double r = 1 / y, r2 = r * r;
  double s = 0, p = r2 * r;
  for (int k = 1; k <= 9; k++) {
    s += SP_BERNOULLI[k - 1] * p;
    p *= r2;
  }
  return acc + (r + 0.5 * r2 + s);
}

__device__ inline double sp_trigamma(double x) {
  if (x != x || x == -INFINITY) return NAN;
  if (x == INFINITY) return 0;
  if (x <= 0) {
    if (x == floor(x)) return INFINITY;
    const double s = sp_absSinPi(x);
    return (SP_PI * SP_PI) / (s * s) - sp_trigammaPos(1 - x);
  }
  return sp_trigammaPos(x);
}

}  // namespace vi
