/**
 * Stan's cumulative distribution functions: `<dist>_cdf`, `<dist>_lcdf` and `<dist>_lccdf` of the
 * continuous univariate distributions, and truncation `y ~ dist(...) T[L, U]`, on the library's
 * cdfs (ts/distributions/cdf.ts), differentiable in every argument.
 *
 * As in Stan, a vectorized call multiplies the cdfs of its elements (`_cdf`) or sums their logs
 * (`_lcdf`, `_lccdf`); truncation subtracts log(F(U) − F(L)) from the density and makes a value
 * outside [L, U] impossible (target −∞).
 */
import type { Tensor } from '../core/tensor.js';
import { atan, logNormalCdf, regularizedGammaP, studentTCdf } from '../distributions/cdf.js';
import { add, clamp, div, exp, expm1, greater, less, log, log1p, maximum, mul, neg, pow, softplus, sub, where } from '../ops/elementwise.js';
import { logicalOr } from './tensormath.js';
import { sum } from '../ops/reduce.js';
import { broadcastTo } from '../ops/shape.js';
import { bshape } from './distributions.js';
import { StanSemanticError, type Loc } from './errors.js';
import { NotVectorizable, REAL, T, fmtTy, shapeOf, type V } from './values.js';

/** log F(y) and log(1 − F(y)), elementwise over broadcast arguments (y first). */
type Tails = (x: Tensor[]) => [Tensor, Tensor];

const log1mExp = (a: Tensor): Tensor => log(neg(expm1(a)));
const standard = (y: Tensor, mu: Tensor, s: Tensor): Tensor => div(sub(y, mu), s);
const normalTails = (z: Tensor): [Tensor, Tensor] => [logNormalCdf(z), logNormalCdf(neg(z))];

const TAILS: Record<string, Tails> = {
  normal: ([y, mu, s]) => normalTails(standard(y, mu, s)),
  std_normal: ([y]) => normalTails(y),
  lognormal: ([y, mu, s]) => normalTails(standard(log(maximum(y, 0)), mu, s)),
  student_t: ([y, nu, mu, s]) => {
    const z = standard(y, mu, s);
    return [log(studentTCdf(z, nu)), log(studentTCdf(neg(z), nu))];
  },
  cauchy: ([y, mu, s]) => {
    const a = div(atan(standard(y, mu, s)), Math.PI);
    return [log(add(a, 0.5)), log(sub(0.5, a))];
  },
  logistic: ([y, mu, s]) => {
    const z = standard(y, mu, s);
    return [neg(softplus(neg(z))), neg(softplus(z))];
  },
  double_exponential: ([y, mu, s]) => {
    const z = standard(y, mu, s);
    const below = less(z, 0);
    // Each branch only where it is finite: exp of the other side's argument would overflow.
    const zl = where(below, z, 0);
    const zu = where(below, 0, z);
    return [where(below, sub(zl, Math.LN2), log1p(mul(exp(neg(zu)), -0.5))), where(below, log1p(mul(exp(zl), -0.5)), sub(neg(zu), Math.LN2))];
  },
  exponential: ([y, b]) => {
    const r = mul(b, maximum(y, 0));
    return [log1mExp(neg(r)), neg(r)];
  },
  weibull: ([y, alpha, sigma]) => {
    const w = pow(div(maximum(y, 0), sigma), alpha);
    return [log1mExp(neg(w)), neg(w)];
  },
  gamma: ([y, a, b]) => {
    const p = regularizedGammaP(a, mul(b, maximum(y, 0)));
    return [log(p), log1p(neg(p))];
  },
  uniform: ([y, a, b]) => {
    const p = clamp(div(sub(y, a), sub(b, a)), 0, 1);
    return [log(p), log1p(neg(p))];
  },
};

/** Distributions with a cdf here. */
export function hasCdf(dist: string): boolean {
  return dist in TAILS;
}

/** Broadcast shape of the arguments, or an error naming the call. */
function broadcastOf(what: string, args: V[], loc: Loc): number[] {
  const shape = bshape(args.map(shapeOf));
  if (shape.includes(-1)) throw new StanSemanticError(loc, `${what}: argument sizes do not match (${args.map((a) => `${fmtTy(a.ty)}[${shapeOf(a).join(',')}]`).join(', ')})`);
  return shape;
}

function tails(dist: string, args: V[], what: string, loc: Loc): [Tensor, Tensor] {
  const shape = broadcastOf(what, args, loc);
  const xs = args.map((a) => broadcastTo(T(a.v), shape));
  return TAILS[dist](xs);
}

/**
 * `<dist>_cdf`, `_lcdf` or `_lccdf` of (y | θ...): the product of the elements' cdfs, or the sum
 * of their log cdfs / log complementary cdfs.
 * @example cdfCall('normal', 'lcdf', [y, mu, sigma], loc)
 */
export function cdfCall(dist: string, kind: 'cdf' | 'lcdf' | 'lccdf', args: V[], loc: Loc): V {
  if (args.some((a) => a.b === true)) throw new NotVectorizable(`${dist}_${kind} in a vectorized loop`);
  const [lc, lcc] = tails(dist, args, `${dist}_${kind}`, loc);
  const s = sum(kind === 'lccdf' ? lcc : lc);
  return { v: kind === 'cdf' ? exp(s) : s, ty: REAL, dep: args.some((a) => a.dep) };
}

/**
 * The truncation term of `y ~ dist(θ) T[lo, hi]`: −log(F(hi) − F(lo)) per element of y (−log(1 −
 * F(lo)) or −log F(hi) for a one-sided bound), and −∞ where y is outside the bounds.
 */
export function truncationTerm(dist: string, y: V, params: V[], lo: V | null, hi: V | null, loc: Loc): V {
  if (!hasCdf(dist)) throw new StanSemanticError(loc, `truncation T[,] needs the cdf of ${dist}, which is not available`);
  const what = `${dist} T[,]`;
  const yT = T(y.v);
  // The bounds take y's shape, so the normalizer counts once per element of y.
  const at = (b: V): V => ({ ...b, v: add(T(b.v), mul(yT, 0)) });
  let term: Tensor | number = 0;
  let outside: Tensor | null = null;
  if (lo !== null && hi !== null) {
    const [lcHi] = tails(dist, [at(hi), ...params], what, loc);
    const [lcLo] = tails(dist, [at(lo), ...params], what, loc);
    // log(F(hi) − F(lo)) = log F(hi) + log(1 − exp(log F(lo) − log F(hi)))
    term = neg(sum(add(lcHi, log1mExp(sub(lcLo, lcHi)))));
    outside = logicalOr(less(yT, T(lo.v)), greater(yT, T(hi.v)));
  } else if (lo !== null) {
    const [, lccLo] = tails(dist, [at(lo), ...params], what, loc);
    term = neg(sum(lccLo));
    outside = less(yT, T(lo.v));
  } else if (hi !== null) {
    const [lcHi] = tails(dist, [at(hi), ...params], what, loc);
    term = neg(sum(lcHi));
    outside = greater(yT, T(hi.v));
  }
  const v = outside === null ? T(term) : add(T(term), sum(where(outside, -Infinity, 0)));
  return { v, ty: REAL, dep: [y, ...params, ...(lo ? [lo] : []), ...(hi ? [hi] : [])].some((a) => a.dep) };
}
