/**
 * Stan's log densities and mass functions, as sums of terms over the broadcast arguments.
 *
 * Each density lists its terms with the arguments they depend on; with `propto` (a `~` statement,
 * or a `_lupdf` call under one) a term is dropped when none of its arguments depends on
 * parameters, exactly as Stan drops constants. Every function is vectorized the way Stan's is:
 * any argument may be a container, and the result is the sum over the broadcast elements.
 */
import type { Tensor } from '../core/tensor.js';
import { LOG_2PI, LOG_PI } from '../distributions/util.js';
import { scalar } from '../ops/creation.js';
import {
  abs, add, div, equal, exp, greater, less, lgamma, log, log1p, logicalOr, mul, neg, softplus, square, sub, where,
} from './tensormath.js';
import { matmul, triangularSolve, cholesky, diagonal } from '../ops/linalg.js';
import { logSoftmax } from '../ops/reduce.js';
import { sum } from '../ops/reduce.js';
import { broadcastTo, reshape, gather, transpose } from '../ops/shape.js';
import { tensor } from '../ops/creation.js';
import { StanSemanticError, type Loc } from './errors.js';
import { NotVectorizable, REAL, T, fmtTy, host, isScalar, shapeOf, type V } from './values.js';

/** Which terms to keep: `k(i, j)` is true unless `propto` and none of arguments i, j depends on parameters. */
export type Keep = (...argIdx: number[]) => boolean;
type Term = Tensor | number;
export type Lpdf = (x: Tensor[], k: Keep, args: V[], loc: Loc) => Term[];

/** The broadcast shape of argument shapes (numpy's rule), with −1 where two sizes disagree. */
export function bshape(shapes: number[][]): number[] {
  const r = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    let d = 1;
    for (const s of shapes) {
      const j = s.length - r + i;
      if (j < 0) continue;
      if (s[j] !== 1) d = d === 1 || d === s[j] ? s[j] : -1;
    }
    out.push(d);
  }
  return out;
}

const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

/** The terms added elementwise over the broadcast shape (one log density per element). */
function perElement(terms: Term[], shape: number[]): Tensor {
  let acc: Tensor = broadcastTo(scalar(0), shape);
  for (const t of terms) acc = add(acc, t);
  return acc;
}

function total(terms: Term[], n: number): Term {
  let acc: Term = 0;
  for (const t of terms) {
    const s = typeof t === 'number' ? t * n : mul(sum(t), n / t.size);
    acc = typeof acc === 'number' && typeof s === 'number' ? acc + s : add(T(acc), T(s));
  }
  return acc;
}

/** Elementwise (univariate) density: all arguments broadcast together. */
function uni(f: Lpdf): Lpdf {
  return f;
}

// Term builders on tensors.
const lchoose = (n: Tensor, k: Tensor): Tensor => sub(sub(lgamma(add(n, 1)), lgamma(add(k, 1))), lgamma(add(sub(n, k), 1)));
const lbeta = (a: Tensor, b: Tensor): Tensor => sub(add(lgamma(a), lgamma(b)), lgamma(add(a, b)));
const log1m = (x: Tensor): Tensor => log1p(neg(x));
// k log x and k log(1 − x) that are 0 where k = 0 (Stan's convention, so θ = 1 with no failures is fine),
// with the unused branch fed a harmless value so its gradient is not 0 · ∞.
const xlogy = (k: Tensor, x: Tensor): Tensor => {
  const z = equal(k, 0);
  return where(z, 0, mul(k, log(where(z, 1, x))));
};
const xlog1my = (k: Tensor, x: Tensor): Tensor => {
  const z = equal(k, 0);
  return where(z, 0, mul(k, log1m(where(z, 0, x))));
};
const outside = (y: Tensor, lo: Tensor | null, hi: Tensor | null): Tensor | null => {
  const a = lo === null ? null : less(y, lo);
  const b = hi === null ? null : greater(y, hi);
  const c = a === null ? b : b === null ? a : logicalOr(a, b);
  return c === null ? null : where(c, -Infinity, 0);
};

/** Univariate densities: arguments (y, θ1, θ2, ...). */
const UNI: Record<string, Lpdf> = {
  normal: uni(([y, mu, s], k) => {
    const z = div(sub(y, mu), s);
    return [k() ? -0.5 * LOG_2PI : 0, k(2) ? neg(log(s)) : 0, k(0, 1, 2) ? mul(square(z), -0.5) : 0];
  }),
  std_normal: ([y], k) => [k() ? -0.5 * LOG_2PI : 0, k(0) ? mul(square(y), -0.5) : 0],
  cauchy: ([y, mu, s], k) => {
    const z = div(sub(y, mu), s);
    return [k() ? -LOG_PI : 0, k(2) ? neg(log(s)) : 0, k(0, 1, 2) ? neg(log1p(square(z))) : 0];
  },
  student_t: ([y, nu, mu, s], k) => {
    const z = div(sub(y, mu), s);
    const h = mul(add(nu, 1), 0.5);
    return [
      k() ? -0.5 * LOG_PI : 0,
      k(1) ? sub(sub(lgamma(h), lgamma(mul(nu, 0.5))), mul(log(nu), 0.5)) : 0,
      k(3) ? neg(log(s)) : 0,
      k(0, 1, 2, 3) ? neg(mul(h, log1p(div(square(z), nu)))) : 0,
    ];
  },
  double_exponential: ([y, mu, s], k) => [k() ? -Math.LN2 : 0, k(2) ? neg(log(s)) : 0, k(0, 1, 2) ? neg(div(abs(sub(y, mu)), s)) : 0],
  logistic: ([y, mu, s], k) => {
    const z = div(sub(y, mu), s);
    return [k(2) ? neg(log(s)) : 0, k(0, 1, 2) ? sub(neg(z), mul(softplus(neg(z)), 2)) : 0];
  },
  lognormal: ([y, mu, s], k) => {
    const ly = log(y);
    const z = div(sub(ly, mu), s);
    return [k() ? -0.5 * LOG_2PI : 0, k(2) ? neg(log(s)) : 0, k(0) ? neg(ly) : 0, k(0, 1, 2) ? mul(square(z), -0.5) : 0];
  },
  exponential: ([y, b], k) => [k(1) ? log(b) : 0, k(0, 1) ? neg(mul(b, y)) : 0],
  gamma: ([y, a, b], k) => [
    k(1) ? neg(lgamma(a)) : 0,
    k(1, 2) ? mul(a, log(b)) : 0,
    k(0, 1) ? mul(sub(a, 1), log(y)) : 0,
    k(0, 2) ? neg(mul(b, y)) : 0,
  ],
  inv_gamma: ([y, a, b], k) => [
    k(1) ? neg(lgamma(a)) : 0,
    k(1, 2) ? mul(a, log(b)) : 0,
    k(0, 1) ? neg(mul(add(a, 1), log(y))) : 0,
    k(0, 2) ? neg(div(b, y)) : 0,
  ],
  beta: ([y, a, b], k) => [k(1, 2) ? neg(lbeta(a, b)) : 0, k(0, 1) ? mul(sub(a, 1), log(y)) : 0, k(0, 2) ? mul(sub(b, 1), log1m(y)) : 0],
  uniform: ([y, a, b], k) => [k(1, 2) ? neg(log(sub(b, a))) : 0, k(0, 1, 2) ? (outside(y, a, b) ?? 0) : 0],
  weibull: ([y, al, s], k) => [
    k(1) ? log(al) : 0,
    k(0, 1) ? mul(sub(al, 1), log(y)) : 0,
    k(1, 2) ? neg(mul(al, log(s))) : 0,
    k(0, 1, 2) ? neg(exp(mul(al, log(div(y, s))))) : 0,
  ],
  chi_square: ([y, nu], k) => {
    const h = mul(nu, 0.5);
    return [k(1) ? sub(neg(lgamma(h)), mul(h, Math.LN2)) : 0, k(0, 1) ? mul(sub(h, 1), log(y)) : 0, k(0) ? mul(y, -0.5) : 0];
  },
  inv_chi_square: ([y, nu], k) => {
    const h = mul(nu, 0.5);
    return [k(1) ? sub(neg(lgamma(h)), mul(h, Math.LN2)) : 0, k(0, 1) ? neg(mul(add(h, 1), log(y))) : 0, k(0) ? div(-0.5, y) : 0];
  },
  scaled_inv_chi_square: ([y, nu, s], k) => {
    const h = mul(nu, 0.5);
    return [
      k(1) ? sub(mul(h, log(h)), lgamma(h)) : 0,
      k(1, 2) ? mul(nu, log(s)) : 0,
      k(0, 1) ? neg(mul(add(h, 1), log(y))) : 0,
      k(0, 1, 2) ? neg(div(mul(h, square(s)), y)) : 0,
    ];
  },
  bernoulli: ([n, th], k) => [k(1) ? add(xlogy(n, th), xlog1my(sub(1, n), th)) : 0],
  bernoulli_logit: ([n, a], k) => [k(1) ? sub(mul(n, a), softplus(a)) : 0],
  binomial: ([n, N, th], k) => [k() ? lchoose(N, n) : 0, k(2) ? add(xlogy(n, th), xlog1my(sub(N, n), th)) : 0],
  binomial_logit: ([n, N, a], k) => [k() ? lchoose(N, n) : 0, k(2) ? sub(mul(n, a), mul(N, softplus(a))) : 0],
  poisson: ([n, l], k) => [k() ? neg(lgamma(add(n, 1))) : 0, k(1) ? sub(xlogy(n, l), l) : 0],
  poisson_log: ([n, a], k) => [k() ? neg(lgamma(add(n, 1))) : 0, k(1) ? sub(mul(n, a), exp(a)) : 0],
  neg_binomial_2: ([n, mu, phi], k) => {
    const lmp = log(add(mu, phi));
    return [
      k(2) ? sub(sub(lgamma(add(n, phi)), lgamma(add(n, 1))), lgamma(phi)) : 0,
      k(1, 2) ? mul(n, sub(log(mu), lmp)) : 0,
      k(1, 2) ? mul(phi, sub(log(phi), lmp)) : 0,
    ];
  },
  neg_binomial_2_log: ([n, eta, phi], k) => {
    const lmp = log(add(exp(eta), phi));
    return [
      k(2) ? sub(sub(lgamma(add(n, phi)), lgamma(add(n, 1))), lgamma(phi)) : 0,
      k(1, 2) ? mul(n, sub(eta, lmp)) : 0,
      k(1, 2) ? mul(phi, sub(log(phi), lmp)) : 0,
    ];
  },
  neg_binomial: ([n, a, b], k) => [
    k(1) ? sub(sub(lgamma(add(n, a)), lgamma(add(n, 1))), lgamma(a)) : 0,
    k(1, 2) ? sub(mul(a, log(div(b, add(b, 1)))), mul(n, log1p(b))) : 0,
  ],
  beta_binomial: ([n, N, a, b], k) => [k() ? lchoose(N, n) : 0, k(2, 3) ? sub(lbeta(add(n, a), add(sub(N, n), b)), lbeta(a, b)) : 0],
};

/** The elementwise densities' names (for the type checker and `--help`). */
export const UNIVARIATE = Object.keys(UNI);

function lastDim(v: V): number {
  const s = shapeOf(v);
  return s[s.length - 1];
}

/** Multivariate densities: the event is the trailing vector or matrix. */
const MULTI: Record<string, (x: Tensor[], k: Keep, args: V[], loc: Loc) => Term> = {
  multi_normal_cholesky: ([y, mu, L], k, args) => mvnChol(y, mu, L, k, args),
  multi_normal: ([y, mu, S], k, args) => mvnChol(y, mu, cholesky(S), k, args),
  dirichlet: ([th, al], k, args) => {
    const nt = size(shapeOf(args[0]).slice(0, -1));
    const na = size(shapeOf(args[1]).slice(0, -1));
    const n = Math.max(nt, na);
    let acc: Term = 0;
    if (k(1)) acc = mul(sum(sub(lgamma(sum(al, -1)), sum(lgamma(al), -1))), n / na);
    if (k(0, 1)) acc = add(T(acc), sum(mul(sub(al, 1), log(th))));
    return acc;
  },
  lkj_corr_cholesky: ([L, eta], k, args) => {
    // Σ_{k=2..K} (K − k + 2η − 2) log L_kk; the normalizing constant (a function of η alone) is left out.
    if (!k(0, 1)) return 0;
    const K = lastDim(args[0]);
    const d = log(diagonal(L));
    const w = tensor(Array.from({ length: K }, (_, i) => (i === 0 ? 0 : K - (i + 1) - 2)), [K]);
    return sum(mul(add(w, mul(2, mul(eta, tensor(Array.from({ length: K }, (_, i) => (i === 0 ? 0 : 1)), [K])))), d));
  },
  lkj_corr: ([O, eta], k) => {
    if (!k(0, 1)) return 0;
    return mul(sub(eta, 1), mul(2, sum(log(diagonal(cholesky(O))))));
  },
  categorical: ([_y, th], k, args, loc) => (k(1) ? sum(gather(log(th), indices(args[0], th.shape[0], loc), 0)) : 0),
  categorical_logit: ([_y, b], k, args, loc) => (k(1) ? sum(gather(logSoftmax(b), indices(args[0], b.shape[0], loc), 0)) : 0),
  multinomial: ([n, th], k) => {
    const terms: Term[] = [];
    if (k()) terms.push(sub(lgamma(add(sum(n), 1)), sum(lgamma(add(n, 1)))));
    if (k(1)) terms.push(sum(mul(n, log(th))));
    return terms.reduce<Term>((a, t) => add(T(a), T(t)), 0);
  },
};

function indices(v: V, n: number, loc: Loc): Tensor {
  const h = typeof v.v === 'number' ? [v.v] : Array.from(host(v.v));
  for (const i of h) if (!(i >= 1 && i <= n)) throw new StanSemanticError(loc, `categorical outcome ${i} out of range; expected 1..${n}`);
  return tensor(Int32Array.from(h, (i) => i - 1), [h.length], 'int32');
}

function mvnChol(y: Tensor, mu: Tensor, L: Tensor, k: Keep, args: V[]): Term {
  const K = L.shape[0];
  const ys = y.rank === 1 ? reshape(y, [1, K]) : y;
  const ms = mu.rank === 1 ? reshape(mu, [1, K]) : mu;
  const n = Math.max(ys.shape[0], ms.shape[0]);
  const terms: Term[] = [];
  if (k()) terms.push(-0.5 * LOG_2PI * K * n);
  if (k(2)) terms.push(mul(sum(log(diagonal(L))), -n));
  if (k(0, 1, 2)) {
    // z = L⁻¹ (y − μ)ᵀ, column per observation.
    const r = sub(ys, ms);
    const z = triangularSolve(L, transpose2(r), { lower: true });
    terms.push(mul(sum(square(z)), -0.5));
  }
  void args;
  return terms.reduce<Term>((a, t) => add(T(a), T(t)), 0);
}

function transpose2(x: Tensor): Tensor {
  return transpose(x);
}

/** GLM densities: (y | x, α, β, ...) with linear predictor α + x β. */
const GLM: Record<string, string> = {
  bernoulli_logit_glm: 'bernoulli_logit',
  poisson_log_glm: 'poisson_log',
  normal_id_glm: 'normal',
  neg_binomial_2_log_glm: 'neg_binomial_2_log',
};

/** Every distribution name the front end knows. */
export function hasDistribution(name: string): boolean {
  return name in UNI || name in MULTI || name in GLM;
}

/**
 * log p(args[0] | args[1..]) summed over elements, with terms dropped as `~` drops them when `propto`.
 * @example lpdf('normal', [y, mu, sigma], true, loc)
 */
export function lpdf(name: string, args: V[], propto: boolean, loc: Loc): V {
  const dep = args.some((a) => a.dep);
  if (args.some((a) => a.b === true)) {
    // Inside a vectorized loop: elementwise densities of per-iteration scalars only, one value per iteration.
    if (!(name in UNI) || !args.every((a) => isScalar(a.ty))) throw new NotVectorizable(`distribution ${name}`);
    const k: Keep = (...idx) => !propto || idx.some((i) => args[i]?.dep === true);
    const shape = bshape(args.map(shapeOf));
    return { v: perElement(UNI[name](args.map((a) => T(a.v)), k, args, loc), shape), ty: REAL, dep, b: true };
  }
  const k: Keep = (...idx) => !propto || idx.some((i) => args[i]?.dep === true);
  const xs = args.map((a) => T(a.v));
  let out: Term;
  if (name in UNI) {
    const n = size(bshape(args.map(shapeOf)));
    if (n < 0) throw new StanSemanticError(loc, `${name}: argument sizes do not match (${args.map((a) => `${fmtTy(a.ty)}[${shapeOf(a).join(',')}]`).join(', ')})`);
    out = total(UNI[name](xs, k, args, loc), n);
  } else if (name in MULTI) {
    out = MULTI[name](xs, k, args, loc);
  } else if (name in GLM) {
    const [y, x, alpha, beta, ...rest] = args;
    const eta = add(reshape(matmul(T(x.v), reshape(T(beta.v), [T(beta.v).shape[0], 1])), [T(x.v).shape[0]]), T(alpha.v));
    const etaV: V = { v: eta, ty: { base: 'vector', arr: 0 }, dep: x.dep || alpha.dep || beta.dep };
    return lpdf(GLM[name], name === 'normal_id_glm' || name === 'neg_binomial_2_log_glm' ? [y, etaV, ...rest] : [y, etaV], propto, loc);
  } else throw new StanSemanticError(loc, `unknown distribution '${name}'`);
  return { v: typeof out === 'number' ? out : out, ty: REAL, dep };
}

