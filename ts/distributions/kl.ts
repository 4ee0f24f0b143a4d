/**
 * KL(p ‖ q) by dispatch on the pair of types. Closed forms are registered per pair with
 * `registerKL`; a pair without one is an error that names both types.
 */
import { ValueError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { abs, add, digamma, div, exp, lgamma, log, mul, neg, sigmoid, softplus, square, sub, where, greaterEqual, lessEqual } from '../ops/elementwise.js';
import { diagonal, triangularSolve } from '../ops/linalg.js';
import { sum } from '../ops/reduce.js';
import { broadcastTo } from '../ops/shape.js';
import { Exponential, HalfNormal, Laplace, LogNormal, Normal, Uniform } from './continuous.js';
import { Bernoulli, Categorical, Poisson } from './discrete.js';
import type { Distribution } from './distribution.js';
import { Beta, Dirichlet, Gamma, lbeta } from './gamma.js';
import { MultivariateNormal, solveLowerVec } from './multivariate.js';
import { Independent } from './structured.js';
import { broadcastShapes } from '../core/shape.js';

/** A distribution class (any constructor of a Distribution subtype). */
export type DistributionClass<T> = abstract new (...args: never[]) => T;
type KLFn = (p: Distribution, q: Distribution) => Tensor;

const REGISTRY: { p: DistributionClass<Distribution>; q: DistributionClass<Distribution>; fn: KLFn }[] = [];

/**
 * Registers the closed form of KL(p ‖ q) for instances of P and Q.
 * @example registerKL(MyDist, Normal, (p, q) => myClosedForm(p, q));
 */
export function registerKL<P extends Distribution, Q extends Distribution>(p: DistributionClass<P>, q: DistributionClass<Q>, fn: (p: P, q: Q) => Tensor): void {
  REGISTRY.push({ p, q, fn: fn as KLFn });
}

/**
 * KL(p ‖ q) = E_p[log p − log q], in closed form, with the broadcast batch shape.
 * @example kl(new Normal(0, 1), new Normal(1, 2))
 */
export function kl(p: Distribution, q: Distribution): Tensor {
  // The most specific registration wins: exact constructor matches first.
  const exact = REGISTRY.find((r) => p.constructor === r.p && q.constructor === r.q);
  const any = exact ?? REGISTRY.find((r) => p instanceof r.p && q instanceof r.q);
  if (any === undefined) throw new ValueError(`kl: no closed form is registered for KL(${p.name} ‖ ${q.name})`);
  return any.fn(p, q);
}

/**
 * Whether kl(p, q) has a closed form.
 * @example hasKL(new Normal(0, 1), new Normal(1, 2)) // true
 */
export function hasKL(p: Distribution, q: Distribution): boolean {
  return REGISTRY.some((r) => p instanceof r.p && q instanceof r.q);
}

function normalKL(mp: Tensor, sp: Tensor, mq: Tensor, sq: Tensor): Tensor {
  // log(σq/σp) + (σp² + (μp − μq)²) / (2σq²) − ½
  const r = div(sp, sq);
  return sub(add(neg(log(r)), mul(add(square(r), square(div(sub(mp, mq), sq))), 0.5)), 0.5);
}

registerKL(Normal, Normal, (p, q) => broadcastTo(normalKL(p.loc, p.scale, q.loc, q.scale), broadcastShapes('kl', p.batchShape, q.batchShape)));
registerKL(LogNormal, LogNormal, (p, q) => broadcastTo(normalKL(p.loc, p.scale, q.loc, q.scale), broadcastShapes('kl', p.batchShape, q.batchShape)));
registerKL(HalfNormal, HalfNormal, (p, q) => normalKL(mul(p.scale, 0), p.scale, mul(q.scale, 0), q.scale));

registerKL(MultivariateNormal, MultivariateNormal, (p, q) => {
  // ½[‖Lq⁻¹Lp‖²_F + ‖Lq⁻¹(μq − μp)‖² − d] + Σ log diag Lq − Σ log diag Lp
  const d = p.eventShape[0];
  const lq = q.scaleTril;
  const batch = broadcastShapes('kl', p.batchShape, q.batchShape);
  const lqB = broadcastTo(lq, [...batch, d, d]);
  const m = triangularSolve(lqB, broadcastTo(p.scaleTril, [...batch, d, d]), { lower: true });
  const delta = solveLowerVec(lqB, broadcastTo(sub(q.loc, p.loc), [...batch, d]));
  const tr = sum(square(m), [-2, -1]);
  const maha = sum(square(delta), -1);
  const logDet = sub(sum(log(diagonal(lq)), -1), sum(log(diagonal(p.scaleTril)), -1));
  return add(mul(sub(add(tr, maha), d), 0.5), logDet);
});

registerKL(Gamma, Gamma, (p, q) => {
  const a1 = p.concentration;
  const b1 = p.rate;
  const a2 = q.concentration;
  const b2 = q.rate;
  // (a1−a2)ψ(a1) − lnΓ(a1) + lnΓ(a2) + a2(ln b1 − ln b2) + a1(b2 − b1)/b1
  const t1 = sub(mul(sub(a1, a2), digamma(a1)), sub(lgamma(a1), lgamma(a2)));
  const t2 = add(mul(a2, sub(log(b1), log(b2))), div(mul(a1, sub(b2, b1)), b1));
  return broadcastTo(add(t1, t2), broadcastShapes('kl', p.batchShape, q.batchShape));
});

registerKL(Beta, Beta, (p, q) => {
  const a1 = p.concentration1;
  const b1 = p.concentration0;
  const a2 = q.concentration1;
  const b2 = q.concentration0;
  // log B(a2,b2) − log B(a1,b1) + (a1−a2)ψ(a1) + (b1−b2)ψ(b1) + (a2−a1+b2−b1)ψ(a1+b1)
  const t = add(sub(lbeta(a2, b2), lbeta(a1, b1)), add(mul(sub(a1, a2), digamma(a1)), mul(sub(b1, b2), digamma(b1))));
  const r = add(t, mul(sub(add(a2, b2), add(a1, b1)), digamma(add(a1, b1))));
  return broadcastTo(r, broadcastShapes('kl', p.batchShape, q.batchShape));
});

registerKL(Dirichlet, Dirichlet, (p, q) => {
  const a = p.concentration;
  const b = q.concentration;
  const a0 = sum(a, -1, true);
  // lnΓ(a0) − Σ lnΓ(a) − lnΓ(b0) + Σ lnΓ(b) + Σ (a − b)(ψ(a) − ψ(a0))
  const t1 = sub(sub(lgamma(sum(a, -1)), sum(lgamma(a), -1)), sub(lgamma(sum(b, -1)), sum(lgamma(b), -1)));
  return add(t1, sum(mul(sub(a, b), sub(digamma(a), digamma(a0))), -1));
});

registerKL(Categorical, Categorical, (p, q) => sum(mul(exp(p.logits), sub(p.logits, q.logits)), -1));

registerKL(Bernoulli, Bernoulli, (p, q) => {
  const pp = sigmoid(p.logits);
  // log p = −softplus(−ℓ), log(1−p) = −softplus(ℓ)
  const t1 = mul(pp, sub(softplus(neg(q.logits)), softplus(neg(p.logits))));
  const t2 = mul(sub(1, pp), sub(softplus(q.logits), softplus(p.logits)));
  return add(t1, t2);
});

registerKL(Laplace, Laplace, (p, q) => {
  // log(b2/b1) + |μ1−μ2|/b2 + (b1/b2) e^(−|μ1−μ2|/b1) − 1
  const d = abs(sub(p.loc, q.loc));
  const r = add(add(log(div(q.scale, p.scale)), div(d, q.scale)), sub(mul(div(p.scale, q.scale), exp(neg(div(d, p.scale)))), 1));
  return broadcastTo(r, broadcastShapes('kl', p.batchShape, q.batchShape));
});

registerKL(Exponential, Exponential, (p, q) => {
  const r = div(q.rate, p.rate);
  return sub(sub(r, log(r)), 1);
});

registerKL(Poisson, Poisson, (p, q) => add(sub(mul(p.rate, sub(p.logRate, q.logRate)), p.rate), q.rate));

registerKL(Uniform, Uniform, (p, q) => {
  // log((b2−a2)/(b1−a1)) when [a1, b1] ⊆ [a2, b2], else +∞.
  const inside = mul(greaterEqual(p.low, q.low), lessEqual(p.high, q.high));
  const r = log(div(sub(q.high, q.low), sub(p.high, p.low)));
  return broadcastTo(where(inside, r, Infinity), broadcastShapes('kl', p.batchShape, q.batchShape));
});

registerKL(Independent, Independent, (p, q) => {
  if (p.reinterpreted !== q.reinterpreted)
    throw new ValueError(`kl: Independent distributions reinterpret ${p.reinterpreted} and ${q.reinterpreted} axes`);
  const inner = kl(p.base, q.base);
  const n = p.reinterpreted;
  return n === 0 ? inner : sum(inner, Array.from({ length: n }, (_, i) => -1 - i));
});
