// Special functions in double, ported step for step from ts/backends/js/special.ts (same series,
// fractions, constant tables and branch points), so cuda and js agree to rounding. erf and
// erfinv are ported too rather than taken from libdevice, for the same reason. Also here: the
// regularized incomplete gamma function (ts/backends/js/igamma.ts), the scaled Bessel functions
// i0e/i1e (ts/backends/js/bessel.ts) and the von Mises CDF (ts/backends/js/vonmises.ts), with
// the Rust ports in native/src/special.rs and native/src/vonmises.rs as the second reference.
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
  // zk starts at -z so that the first term (k = 2) is +z^2, as js's lgamma2p.
  double sum = 0, zk = -z;
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


// ---- incomplete gamma ----
// P(a, x) and dP/da as Numerical Recipes §6.2: the series for x < a + 1, the modified-Lentz
// continued fraction for Q = 1 - P otherwise, both carried in forward-mode dual numbers in a so
// value and derivative share one convergence test. Gamma draws' gradients follow Figurnov,
// Mohamed & Mnih (2018): dx/da = -(dP/da) / p(x; a).
constexpr double SP_IG_EPS = 1e-16;
constexpr int SP_IG_MAX_ITER = 100000;
constexpr double SP_IG_TINY = 1e-300;

struct SpPAndGrad {
  double p, dp;
};

__device__ inline SpPAndGrad sp_igammaSeries(double a, double x) {
  // Term t_n = prod_k x / (a + k); dt tracks dt_n/da.
  double t = 1, dt = 0, s = 1, ds = 0;
  for (int n = 1; n < SP_IG_MAX_ITER; n++) {
    const double an = a + n;
    const double r = x / an;
    dt = r * (dt - t / an);
    t *= r;
    s += t;
    ds += dt;
    if (fabs(t) < fabs(s) * SP_IG_EPS && fabs(dt) <= fabs(ds) * SP_IG_EPS) break;
  }
  const double pre = exp(a * log(x) - x - sp_lgamma(a + 1));
  const double dLogPre = log(x) - sp_digamma(a + 1);
  return {pre * s, pre * (dLogPre * s + ds)};
}

__device__ inline SpPAndGrad sp_igammaFraction(double a, double x) {
  // Dual numbers (value, d/da) through modified Lentz on Q's fraction (NR eq. 6.2.7).
  double b = x + 1 - a;
  const double db = -1;
  double c = 1 / SP_IG_TINY, dc = 0;
  double d = 1 / b, dd = -db / (b * b);
  double h = d, dh = dd;
  for (int i = 1; i < SP_IG_MAX_ITER; i++) {
    const double fi = i;
    const double an = -fi * (fi - a);
    const double dan = fi;
    b += 2;
    // d = 1 / (an d + b)
    double den = an * d + b;
    const double dden = dan * d + an * dd + db;
    if (fabs(den) < SP_IG_TINY) den = SP_IG_TINY;
    d = 1 / den;
    dd = -dden / (den * den);
    // c = b + an / c
    double cn = b + an / c;
    const double dcn = db + (dan * c - an * dc) / (c * c);
    if (fabs(cn) < SP_IG_TINY) cn = SP_IG_TINY;
    c = cn;
    dc = dcn;
    const double del = d * c;
    const double ddel = dd * c + d * dc;
    const double hn = h * del;
    dh = dh * del + h * ddel;
    h = hn;
    if (fabs(del - 1) < SP_IG_EPS && fabs(ddel) <= fabs(dh) * SP_IG_EPS) break;
  }
  const double pre = exp(a * log(x) - x - sp_lgamma(a));
  const double dLogPre = log(x) - sp_digamma(a);
  const double q = pre * h;
  const double dq = pre * (dLogPre * h + dh);
  return {1 - q, -dq};
}

__device__ inline SpPAndGrad sp_igammaAndGrad(double a, double x) {
  if (!(a > 0) || !(x >= 0) || x != x) return {NAN, NAN};
  if (x == 0) return {0, 0};
  if (x == INFINITY) return {1, 0};
  return x < a + 1 ? sp_igammaSeries(a, x) : sp_igammaFraction(a, x);
}

// P(a, x) = gamma(a, x) / Gamma(a), the regularized lower incomplete gamma function.
__device__ inline double sp_igamma(double a, double x) { return sp_igammaAndGrad(a, x).p; }

// dx/da for a unit-rate gamma draw x of concentration a, with
// log p(x; a) = (a - 1) log x - x - lgamma(a).
__device__ inline double sp_gammaSampleGrad(double a, double x) {
  if (!(x > 0)) return 0;
  const double logDensity = (a - 1) * log(x) - x - sp_lgamma(a);
  return -sp_igammaAndGrad(a, x).dp / exp(logDensity);
}

// ---- exponentially scaled modified Bessel functions i0e, i1e ----
// |x| <= SP_BESSEL_SERIES_MAX: the ascending series (Abramowitz & Stegun 9.6.10), scaled by
// e^-|x| at the end; above: the Hankel asymptotic expansion (A&S 9.7.1), summed until the terms
// stop shrinking.
constexpr double SP_BESSEL_SERIES_MAX = 25;
constexpr double SP_BESSEL_EPS = 5.551115123125783e-17;  // 2^-54

// e^-x I_nu(x) for x >= 0 and nu in {0, 1} by the ascending series.
__device__ inline double sp_besselSeriesScaled(int nu, double x) {
  const double q = (x * x) / 4;
  double t = nu == 0 ? 1 : x / 2;
  double s = t;
  for (int k = 1; k < 500; k++) {
    const double kd = k;
    t *= q / (kd * (kd + nu));
    s += t;
    if (t <= s * SP_BESSEL_EPS) break;
  }
  return s * exp(-x);
}

// e^-x I_nu(x) for x > SP_BESSEL_SERIES_MAX and nu in {0, 1} by the asymptotic expansion.
__device__ inline double sp_besselAsymptoticScaled(int nu, double x) {
  if (x == INFINITY) return 0;
  const double mu = 4 * nu * nu;
  double t = 1, s = 1;
  for (int k = 1; k < 200; k++) {
    const double j = 2 * k - 1;
    const double r = -(mu - j * j) / (8 * double(k) * x);
    // The expansion diverges once the ratio reaches 1: stop at the smallest term.
    if (fabs(r) >= 1) break;
    t *= r;
    s += t;
    if (fabs(t) <= fabs(s) * SP_BESSEL_EPS) break;
  }
  return s / sqrt(2 * SP_PI * x);
}

// i0e(x) = e^-|x| I0(x), even.
__device__ inline double sp_i0e(double x) {
  if (x != x) return NAN;
  const double a = fabs(x);
  return a <= SP_BESSEL_SERIES_MAX ? sp_besselSeriesScaled(0, a) : sp_besselAsymptoticScaled(0, a);
}

// i1e(x) = e^-|x| I1(x), odd (i1e(-0) = -0).
__device__ inline double sp_i1e(double x) {
  if (x != x) return NAN;
  const double a = fabs(x);
  const double v = a <= SP_BESSEL_SERIES_MAX ? sp_besselSeriesScaled(1, a) : sp_besselAsymptoticScaled(1, a);
  return signbit(x) ? -v : v;
}

// ---- von Mises CDF and sample gradient ----
// CDF of the centered VM(0, k) on [-pi, pi] (Hill 1977, ACM Algorithm 518): backward recurrences
// below SP_VM_CDF_SERIES_MAX, Hill's corrected normal approximation above; dF/dk is the same
// computation in forward-mode dual numbers. A draw's gradient is dx/dk = -(dF/dk) / p(x; k)
// (Figurnov, Mohamed & Mnih 2018), p(x; k) = e^(k (cos x - 1)) / (2 pi i0e(k)).
constexpr double SP_VM_CDF_SERIES_MAX = 50;
constexpr double SP_SQRT2 = 1.4142135623730951;

struct SpCdfAndGrad {
  double cdf, dcdf;
};

__device__ inline SpCdfAndGrad sp_vonMisesCdfSeries(double x, double k) {
  const int p = (int)ceil(28 + 0.5 * k - 100 / (k + 5));
  double r = 0, dr = 0, v = 0, dv = 0;
  for (int n = p; n >= 1; n--) {
    const double nd = n;
    const double den = (2 * nd) / k + r;
    const double dden = (-2 * nd) / (k * k) + dr;
    r = 1 / den;
    dr = -dden / (den * den);
    const double m = sin(nd * x) / nd + v;
    // Not contracted to an FMA: dF/dk cancels far in the tails, where one extra rounding
    // difference from js shows (the other products here feed divisions or sin, never an add).
    dv = __dadd_rn(__dmul_rn(dr, m), __dmul_rn(r, dv));
    v = r * m;
  }
  const double cdf = 0.5 + x / (2 * SP_PI) + v / SP_PI;
  // Clipped values no longer depend on k.
  if (cdf < 0) return {0, 0};
  if (cdf > 1) return {1, 0};
  return {cdf, dv / SP_PI};
}

__device__ inline SpCdfAndGrad sp_vonMisesCdfNormal(double x, double k) {
  const double e0 = sp_i0e(k);
  const double de0 = sp_i1e(k) - e0;
  const double sh = sqrt(2 / SP_PI) * sin(0.5 * x);
  const double z = sh / e0;
  const double dz = (-sh * de0) / (e0 * e0);
  const double z2 = z * z;
  const double c = 24 * k;
  const double num = z2 * z2 + 1.75 * z2 + 83.5;
  const double dnum = (4 * z2 * z + 3.5 * z) * dz;
  const double m = c - 53 - z2;
  const double dm = 24 - 2 * z * dz;
  const double d = (c - 2 * z2 - 16) / 3 - num / m;
  const double dd = (24 - 4 * z * dz) / 3 - (dnum * m - num * dm) / (m * m);
  const double xi = z - (z2 * z) / (d * d);
  const double dxi = dz - (3 * z2 * dz) / (d * d) + (2 * z2 * z * dd) / (d * d * d);
  const double cdf = 0.5 * (1 + sp_erf(xi / SP_SQRT2));
  const double pdf = exp(-0.5 * xi * xi) / sqrt(2 * SP_PI);
  return {cdf, pdf * dxi};
}

// F(x; k) of the centered von Mises for any real x (whole turns add whole units) and dF/dk.
__device__ inline SpCdfAndGrad sp_vonMisesCdf(double x, double k) {
  if (!(k >= 0) || x != x) return {NAN, NAN};
  const double turns = jsRound(x / (2 * SP_PI));
  const double y = x - 2 * SP_PI * turns;
  SpCdfAndGrad r;
  if (k == 0) r = {0.5 + y / (2 * SP_PI), 0};
  else if (k < SP_VM_CDF_SERIES_MAX) r = sp_vonMisesCdfSeries(y, k);
  else r = sp_vonMisesCdfNormal(y, k);
  return {r.cdf + turns, r.dcdf};
}

// dx/dk = -(dF/dk) / p(x; k) for a centered draw x; 0 where p underflows.
__device__ inline double sp_vonMisesSampleGrad(double k, double x) {
  if (!(k > 0) || !isfinite(k) || x != x) return k == 0 ? 0 : NAN;
  const double dcdf = sp_vonMisesCdf(x, k).dcdf;
  const double logP = __dadd_rn(__dmul_rn(k, cos(x) - 1), -log(2 * SP_PI * sp_i0e(k)));
  const double p = exp(logP);
  return p > 0 ? -dcdf / p : 0;
}

}  // namespace vi
