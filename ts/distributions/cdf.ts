/**
 * Cumulative distribution functions that need more than the elementwise kernels: atan (for the
 * Cauchy family), the regularized incomplete gamma P(a, x) with gradients in both arguments, the
 * Student-t cdf (through the regularized incomplete beta function, computed on the host), and a
 * vectorized bisection that inverts any monotone cdf.
 */
import { customGradient } from '../core/autodiff.js';
import { allocArray } from '../core/dtype.js';
import { ENGINE } from '../core/engine.js';
import { broadcastShapes } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import {
  abs, add, clamp, div, erf, erfinv, exp, greater, less, lgamma, log, log1p, maximum, mul, neg, sign, sqrt, square, sub, where,
} from '../ops/elementwise.js';
import { broadcastTo, reshape } from '../ops/shape.js';
import { max, sum } from '../ops/reduce.js';

/** atan(u) for |u| ≤ tan(π/16) ≈ 0.199 by its Taylor series (13 terms: error below 1e-19). */
function atanSmall(u: Tensor): Tensor {
  const u2 = square(u);
  let acc = mul(u2, 0);
  for (let k = 12; k >= 0; k--) acc = add(mul(acc, u2), (k % 2 === 0 ? 1 : -1) / (2 * k + 1));
  return mul(acc, u);
}

/** atan x on tensors: three argument reductions, then the series. */
function atanValue(x: Tensor): Tensor {
  const a = abs(x);
  const big = greater(a, 1);
  // atan a = π/2 − atan(1/a) for a > 1 (1/∞ = 0 keeps ±∞ exact)
  const t = where(big, div(1, maximum(a, 1)), a);
  // atan t = π/4 + atan((t − 1)/(t + 1)) for t > tan(π/8)
  const mid = greater(t, Math.SQRT2 - 1);
  const s = where(mid, div(sub(t, 1), add(t, 1)), t);
  // atan s = 2 atan(s / (1 + √(1 + s²)))
  const h = div(s, add(sqrt(add(square(s), 1)), 1));
  let r = mul(atanSmall(h), 2);
  r = where(mid, add(r, Math.PI / 4), r);
  r = where(big, sub(Math.PI / 2, r), r);
  return mul(sign(x), r);
}

/**
 * The arctangent, elementwise, with its exact gradient 1/(1 + x²).
 *
 * Shapes: elementwise.
 * @example atan(tensor([1])) // [π/4]
 */
export const atan = customGradient((x: Tensor) => ({
  value: atanValue(x),
  grad: (dy: Tensor) => [div(dy, add(square(x), 1))],
}));

/** log Γ on the host (Lanczos, g = 7), for the continued fractions below. */
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
function lgammaHost(z: number): number {
  if (z < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * z))) - lgammaHost(1 - z);
  const zz = z - 1;
  let s = LANCZOS[0];
  for (let i = 1; i < 9; i++) s += LANCZOS[i] / (zz + i);
  const t = zz + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (zz + 0.5) * Math.log(t) - t + Math.log(s);
}

/** The continued fraction of I_x(a, b) (modified Lentz), valid for x < (a + 1)/(a + b + 2). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let f = d;
  for (let m = 1; m <= 500; m++) {
    // even step, then odd step of the fraction's coefficients
    for (const odd of [false, true]) {
      const num = odd ? (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1)) : (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
      d = 1 + num * d;
      if (Math.abs(d) < tiny) d = tiny;
      c = 1 + num / c;
      if (Math.abs(c) < tiny) c = tiny;
      d = 1 / d;
      const delta = c * d;
      f *= delta;
      if (odd && Math.abs(delta - 1) < 1e-16) return f;
    }
  }
  return f;
}

/**
 * The regularized incomplete beta function I_x(a, b) = B(x; a, b) / B(a, b), on the host
 * (continued fraction, with the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) where it converges faster).
 */
export function incompleteBetaHost(a: number, b: number, x: number): number {
  if (Number.isNaN(a) || Number.isNaN(b) || Number.isNaN(x)) return NaN;
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(a * Math.log(x) + b * Math.log1p(-x) - (lgammaHost(a) + lgammaHost(b) - lgammaHost(a + b)));
  if (x < (a + 1) / (a + b + 2)) return (front * betaFraction(a, b, x)) / a;
  return 1 - (front * betaFraction(b, a, 1 - x)) / b;
}

/** The standard Student-t cdf with ν degrees of freedom, on the host. */
export function studentTCdfHost(t: number, nu: number): number {
  if (Number.isNaN(t) || !(nu > 0)) return NaN;
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  // the tail ½ I_{ν/(ν+t²)}(ν/2, ½); for small |t| the complement form avoids 1 − (nearly 1)
  const t2 = t * t;
  const tail = t2 < nu ? 0.5 - 0.5 * incompleteBetaHost(0.5, nu / 2, t2 / (nu + t2)) : 0.5 * incompleteBetaHost(nu / 2, 0.5, nu / (nu + t2));
  return t > 0 ? 1 - tail : tail;
}

/** A host function applied elementwise to broadcast tensors, the result on a's device and dtype. */
function mapHost(f: (a: number, b: number) => number, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes('studentTCdf', a.shape, b.shape);
  const av = broadcastTo(a, shape).dataSync();
  const bv = broadcastTo(b, shape).dataSync();
  const out = allocArray(a.dtype, av.length);
  for (let i = 0; i < av.length; i++) out[i] = f(av[i], bv[i]);
  const t = ENGINE.fromArray(out, shape, ENGINE.computeFor('cpu'));
  return a.backend.device === 'cpu' ? t : ENGINE.toBackend(t, a.backend);
}

/** log density of the standard Student-t, on tensors. */
function studentTLogPdf(t: Tensor, nu: Tensor): Tensor {
  const c = sub(sub(lgamma(mul(add(nu, 1), 0.5)), lgamma(mul(nu, 0.5))), mul(add(log(nu), Math.log(Math.PI)), 0.5));
  return sub(c, mul(mul(add(nu, 1), 0.5), log1p(div(square(t), nu))));
}

/**
 * The standard Student-t cdf F(t; ν) = 1 − ½ I_{ν/(ν+t²)}(ν/2, ½) for t > 0 (symmetric below),
 * computed on the host. Gradients: ∂F/∂t is the density (exact); ∂F/∂ν by a central difference
 * of the host function (relative step 1e-5, about 1e-9 accurate).
 *
 * Shapes: t and ν broadcast; the result has their broadcast shape.
 * @example studentTCdf(tensor([0, 2]), tensor([3, 3])) // [0.5, 0.930...]
 */
export const studentTCdf = customGradient((t: Tensor, nu: Tensor) => {
  const value = mapHost(studentTCdfHost, t, nu);
  return {
    value,
    grad: (dy: Tensor) => {
      const dt = mul(dy, exp(studentTLogPdf(t, nu)));
      const h = (n: number): number => 1e-5 * Math.max(1, n);
      const dnu = mapHost((tv, n) => (studentTCdfHost(tv, n + h(n)) - studentTCdfHost(tv, n - h(n))) / (2 * h(n)), t, nu);
      return [reduceTo(dt, t.shape), reduceTo(mul(dy, dnu), nu.shape)];
    },
  };
});

/** Sums a gradient over the axes that `shape` was broadcast along. */
function reduceTo(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  return reshape(sum(g, axes, true), shape);
}

/**
 * The regularized lower incomplete gamma function P(a, x) (the Gamma(a, 1) cdf) with gradients
 * in both arguments: ∂P/∂x = x^{a−1} e^{−x} / Γ(a), and ∂P/∂a = −(gammaSampleGrad(a, x)) ·
 * ∂P/∂x, since that kernel computes dx/da = −(∂P/∂a)/(∂P/∂x).
 *
 * Shapes: a and x broadcast.
 * @example regularizedGammaP(tensor([2]), tensor([1])) // [1 − 2/e]
 */
export const regularizedGammaP = customGradient((a: Tensor, x: Tensor) => {
  const shape = broadcastShapes('regularizedGammaP', a.shape, x.shape);
  const ab = broadcastTo(a, shape);
  const xb = broadcastTo(x, shape);
  return {
    value: ENGINE.runKernel('igamma', [ab, xb], {})[0],
    grad: (dy: Tensor) => {
      const pdf = exp(sub(sub(mul(sub(ab, 1), log(xb)), xb), lgamma(ab)));
      const da = neg(mul(ENGINE.runKernel('gammaSampleGrad', [ab, xb], {})[0], pdf));
      return [reduceTo(mul(dy, da), a.shape), reduceTo(mul(dy, pdf), x.shape)];
    },
  };
});

/**
 * The x with cdf(x) = p for a monotone, vectorized `cdf`, by bisection on the host's schedule
 * (the bracket [lo, hi] is widened by doubling where the bounds are infinite). Not differentiable:
 * for draws, not gradients.
 *
 * Shapes: p's shape (cdf must broadcast its argument against its own parameters to it).
 */
export function invertCdf(cdf: (x: Tensor) => Tensor, p: Tensor, lo: Tensor, hi: Tensor, iters = 120): Tensor {
  let a = broadcastTo(lo, p.shape);
  let b = broadcastTo(hi, p.shape);
  // widen infinite ends: start at ±1 around 0 and double until the bracket holds p
  let w = add(mul(p, 0), 1);
  a = where(less(a, -Number.MAX_VALUE), neg(w), a);
  b = where(greater(b, Number.MAX_VALUE), w, b);
  const loInf = less(broadcastTo(lo, p.shape), -Number.MAX_VALUE);
  const hiInf = greater(broadcastTo(hi, p.shape), Number.MAX_VALUE);
  for (let k = 0; k < 1100; k++) {
    const needLo = mul(loInf, greater(cdf(a), p));
    const needHi = mul(hiInf, less(cdf(b), p));
    if (max(needLo).item() === 0 && max(needHi).item() === 0) break;
    w = mul(w, 2);
    a = where(needLo, sub(a, w), a);
    b = where(needHi, add(b, w), b);
  }
  for (let k = 0; k < iters; k++) {
    const m = mul(add(a, b), 0.5);
    const below = less(cdf(m), p);
    a = where(below, m, a);
    b = where(below, b, m);
  }
  return mul(add(a, b), 0.5);
}

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
/** Below −TAIL the normal cdf comes from the continued fraction (erf's cancellation costs more there). */
const TAIL = 3.5;

/** The Mills-ratio continued fraction x + 1/(x + 2/(x + 3/(x + ...))) (40 terms), for x ≥ 3.5, where it is exact to 1e-15. */
function millsDenominator(x: Tensor): Tensor {
  let r = x;
  for (let k = 40; k >= 1; k--) r = add(x, div(k, r));
  return r;
}

/**
 * The standard normal cdf Φ(z), accurate in relative terms in the lower tail: ½(1 + erf(z/√2))
 * above z = −3.5, φ(z)/(−z + 1/(−z + 2/(−z + ...))) below (erf's 1 + (≈ −1) would lose digits).
 *
 * Shapes: elementwise.
 * @example normalCdf(tensor([-10])) // [7.62e-24]
 */
export function normalCdf(z: Tensor): Tensor {
  const x = maximum(neg(z), TAIL);
  const tail = div(exp(sub(mul(square(x), -0.5), HALF_LOG_2PI)), millsDenominator(x));
  const bulk = mul(add(erf(mul(maximum(z, -TAIL), Math.SQRT1_2)), 1), 0.5);
  return where(less(z, -TAIL), tail, bulk);
}

/**
 * log Φ(z), finite far into the lower tail (z = −1000 included): the continued fraction's
 * −z²/2 − ½ log 2π − log(denominator) below z = −3.5, log of the erf form above.
 *
 * Shapes: elementwise.
 * @example logNormalCdf(tensor([-40])) // [−804.6...]
 */
export function logNormalCdf(z: Tensor): Tensor {
  const x = maximum(neg(z), TAIL);
  const tail = sub(sub(mul(square(x), -0.5), HALF_LOG_2PI), log(millsDenominator(x)));
  const bulk = log(mul(add(erf(mul(maximum(z, -TAIL), Math.SQRT1_2)), 1), 0.5));
  return where(less(z, -TAIL), tail, bulk);
}

/** Φ⁻¹(q) for q ≤ 1e-4 (any q is clamped there): an asymptotic start and five Newton steps on log Φ. */
function normalTailQuantile(q: Tensor): Tensor {
  const lq = log(clamp(q, 1e-300, 1e-4));
  const t = mul(lq, -2);
  let x = neg(sqrt(sub(sub(t, log(t)), Math.log(2 * Math.PI))));
  for (let i = 0; i < 5; i++) {
    const lphi = sub(mul(square(x), -0.5), HALF_LOG_2PI);
    const lcdf = logNormalCdf(x);
    x = sub(x, mul(sub(lcdf, lq), exp(sub(lcdf, lphi))));
  }
  return x;
}

/**
 * The standard normal quantile Φ⁻¹(p): √2 erfinv(2p − 1) in the bulk, Newton on log Φ below
 * p = 1e-4 (and by symmetry above 1 − 1e-4), where 2p − 1 would round away p's digits.
 *
 * Shapes: elementwise.
 * @example normalIcdf(tensor([1e-30])) // [−11.46...]
 */
export function normalIcdf(p: Tensor): Tensor {
  const lo = 1e-4;
  const bulk = mul(erfinv(sub(mul(clamp(p, lo, 1 - lo), 2), 1)), Math.SQRT2);
  const low = normalTailQuantile(p);
  const high = neg(normalTailQuantile(sub(1, p)));
  return where(less(p, lo), low, where(greater(p, 1 - lo), high, bulk));
}
