/**
 * The regularized incomplete gamma function P(a, x) and its derivative in a, which give the
 * implicit reparameterization gradient of gamma draws (Figurnov, Mohamed & Mnih 2018):
 * for x ~ Gamma(a, 1), dx/da = −(∂P/∂a)(a, x) / p(x; a).
 *
 * P is evaluated as in Numerical Recipes §6.2: the series
 * P = e^(−x) x^a / Γ(a+1) · Σₙ xⁿ / ((a+1)···(a+n)) for x < a + 1, and the continued fraction for
 * Q = 1 − P otherwise (modified Lentz). ∂P/∂a is the same computation carried in forward-mode
 * dual numbers (value, derivative in a), so both share one convergence test.
 */
import { digamma, lgamma } from './special.js';

const EPS = 1e-16;
const MAX_ITER = 100000;
const TINY = 1e-300;

interface PAndGrad {
  p: number;
  dp: number;
}

/** Series branch: returns P and ∂P/∂a. */
function series(a: number, x: number): PAndGrad {
  // term t_n = Πₖ x/(a+k); dt_n tracks ∂t_n/∂a.
  let t = 1;
  let dt = 0;
  let s = 1;
  let ds = 0;
  for (let n = 1; n < MAX_ITER; n++) {
    const r = x / (a + n);
    dt = r * (dt - t / (a + n));
    t *= r;
    s += t;
    ds += dt;
    if (Math.abs(t) < Math.abs(s) * EPS && Math.abs(dt) <= Math.abs(ds) * EPS) break;
  }
  const logPre = a * Math.log(x) - x - lgamma(a + 1);
  const pre = Math.exp(logPre);
  const dLogPre = Math.log(x) - digamma(a + 1);
  return { p: pre * s, dp: pre * (dLogPre * s + ds) };
}

/** Continued-fraction branch for Q = 1 − P, returned as P and ∂P/∂a. */
function fraction(a: number, x: number): PAndGrad {
  // Dual numbers [value, d/da] through modified Lentz on Q's fraction (NR eq. 6.2.7).
  let b = x + 1 - a;
  const db = -1;
  let c = 1 / TINY;
  let dc = 0;
  let d = 1 / b;
  let dd = -db / (b * b);
  let h = d;
  let dh = dd;
  for (let i = 1; i < MAX_ITER; i++) {
    const an = -i * (i - a);
    const dan = i;
    b += 2;
    // d = 1 / (an·d + b)
    let den = an * d + b;
    const dden = dan * d + an * dd + db;
    if (Math.abs(den) < TINY) den = TINY;
    d = 1 / den;
    dd = -dden / (den * den);
    // c = b + an / c
    let cn = b + an / c;
    const dcn = db + (dan * c - an * dc) / (c * c);
    if (Math.abs(cn) < TINY) cn = TINY;
    c = cn;
    dc = dcn;
    const del = d * c;
    const ddel = dd * c + d * dc;
    const hn = h * del;
    dh = dh * del + h * ddel;
    h = hn;
    if (Math.abs(del - 1) < EPS && Math.abs(ddel) <= Math.abs(dh) * EPS) break;
  }
  const logPre = a * Math.log(x) - x - lgamma(a);
  const pre = Math.exp(logPre);
  const dLogPre = Math.log(x) - digamma(a);
  const q = pre * h;
  const dq = pre * (dLogPre * h + dh);
  return { p: 1 - q, dp: -dq };
}

function pAndGrad(a: number, x: number): PAndGrad {
  if (!(a > 0) || !(x >= 0) || Number.isNaN(x)) return { p: NaN, dp: NaN };
  if (x === 0) return { p: 0, dp: 0 };
  if (x === Infinity) return { p: 1, dp: 0 };
  return x < a + 1 ? series(a, x) : fraction(a, x);
}

/** P(a, x) = γ(a, x) / Γ(a), the regularized lower incomplete gamma function. */
export function igamma(a: number, x: number): number {
  return pAndGrad(a, x).p;
}

/** ∂P(a, x)/∂a. */
export function igammaGradA(a: number, x: number): number {
  return pAndGrad(a, x).dp;
}

/**
 * dx/da for a unit-rate gamma draw x with concentration a: −(∂P/∂a) / p(x; a), with
 * log p(x; a) = (a − 1) log x − x − log Γ(a).
 */
export function gammaSampleGrad(a: number, x: number): number {
  if (!(x > 0)) return 0;
  const logDensity = (a - 1) * Math.log(x) - x - lgamma(a);
  return -igammaGradA(a, x) / Math.exp(logDensity);
}
