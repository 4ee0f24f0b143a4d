/**
 * Discrete distributions: Bernoulli, Binomial, Categorical, OneHotCategorical, Poisson,
 * Geometric, NegativeBinomial, Multinomial. Parameterized by probabilities or logits; the
 * densities use logits internally for stability.
 */
import { ValueError } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { ENGINE } from '../core/engine.js';
import type { TensorLike } from '../ops/creation.js';
import {
  add,
  cast,
  exp,
  floor,
  less,
  lgamma,
  log,
  log1p,
  mul,
  neg,
  oneHot,
  sigmoid,
  softplus,
  sub,
  div,
  square,
  equal,
} from '../ops/elementwise.js';
import { argmax, logSoftmax, softmax, sum } from '../ops/reduce.js';
import { broadcastTo, reshape } from '../ops/shape.js';
import type { Key } from '../random/key.js';
import { split } from '../random/key.js';
import { boolean, integerInterval, nonnegativeInteger, positive, real, simplex, unitInterval, type Constraint } from './constraints.js';
import { batchOf, checkExpand, Distribution, oneOf, params, type DistributionOptions } from './distribution.js';
import { standardGamma } from './gamma.js';
import { openUniform, stdUniform } from './util.js';

/** Either probabilities or logits (unnormalized log-probabilities), not both. */
export type ProbsOrLogits =
  | {
      /** Probabilities: p ∈ [0, 1] (binary families) or rows on the simplex (categorical ones, last axis). */
      probs: TensorLike;
      /** Not with `probs`. */
      logits?: undefined;
    }
  | {
      /** Logits: log(p/(1−p)) (binary families) or unnormalized log-probabilities (categorical ones, last axis). */
      logits: TensorLike;
      /** Not with `logits`. */
      probs?: undefined;
    };

function logitsOf(name: string, p: ProbsOrLogits, binary: boolean): Tensor {
  if (oneOf(name, 'the probs/logits argument', p, ['probs', 'logits']) === 'logits') return params(p.logits as TensorLike)[0];
  const pr = params(p.probs as TensorLike)[0];
  // Binary: log p − log(1 − p); categorical: log p (softmax-invariant up to a constant).
  return binary ? sub(log(pr), log1p(neg(pr))) : log(pr);
}

/**
 * Bernoulli(p): log p(x) = x·ℓ − softplus(ℓ) with logit ℓ.
 * @example sample('y', new Bernoulli({ logits: mul(x, w) }), { obs: y }) // logistic regression
 */
export class Bernoulli extends Distribution {
  /** log(p/(1−p)), the parameter as stored (probabilities given are converted). */
  readonly logits: Tensor;
  constructor(p: ProbsOrLogits, opts: DistributionOptions = {}) {
    const l = logitsOf('Bernoulli', p, true);
    super(l.shape, [], opts);
    if (p.probs !== undefined) this.checkParams([{ name: 'probs', value: params(p.probs)[0], constraint: unitInterval }]);
    this.logits = l;
  }
  /** p = σ(logits). */
  get probs(): Tensor {
    return sigmoid(this.logits);
  }
  get support(): Constraint {
    return boolean;
  }
  protected paramLike(): Tensor {
    return this.logits;
  }
  override sample(key: Key, sampleShape: Shape = []): Tensor {
    return cast(less(stdUniform(key, this.shape(sampleShape), this.dtype), broadcastTo(this.probs, this.batchShape)), this.dtype);
  }
  protected logProbRaw(x: Tensor): Tensor {
    return sub(mul(x, this.logits), softplus(this.logits));
  }
  override get mean(): Tensor {
    return this.probs;
  }
  override get variance(): Tensor {
    const p = this.probs;
    return mul(p, sub(1, p));
  }
  override entropy(): Tensor {
    // softplus(ℓ) − p·ℓ
    return sub(softplus(this.logits), mul(this.probs, this.logits));
  }
  expand(batchShape: Shape): Bernoulli {
    checkExpand(this.name, this.batchShape, batchShape);
    return new Bernoulli({ logits: broadcastTo(this.logits, batchShape) }, { validateArgs: false });
  }
}

/**
 * Categorical over {0, …, K−1} along the last axis of probs/logits; draws are float indices.
 * @example new Categorical({ probs: tensor([0.2, 0.8]) }).sample(key(0), [5]) // int-valued [5]
 */
export class Categorical extends Distribution {
  /** Normalized log-probabilities [..., K] (log-softmax of what was given). */
  readonly logits: Tensor;
  constructor(p: ProbsOrLogits, opts: DistributionOptions = {}) {
    const raw = logitsOf('Categorical', p, false);
    if (raw.shape.length < 1) throw new ValueError('Categorical: probs/logits need at least one axis');
    super(raw.shape.slice(0, -1), [], opts);
    if (p.probs !== undefined) this.checkParams([{ name: 'probs', value: params(p.probs)[0], constraint: simplex }]);
    this.logits = logSoftmax(raw, -1);
  }
  /** K, the last axis of the logits. */
  get numCategories(): number {
    return this.logits.shape[this.logits.shape.length - 1];
  }
  /** softmax(logits) [..., K]. */
  get probs(): Tensor {
    return softmax(this.logits, -1);
  }
  get support(): Constraint {
    return integerInterval(0, this.numCategories - 1);
  }
  protected paramLike(): Tensor {
    return this.logits;
  }
  /** Gumbel-max: argmax(ℓ + G) with G standard Gumbel. */
  override sample(key: Key, sampleShape: Shape = []): Tensor {
    const u = openUniform(key, [...this.shape(sampleShape), this.numCategories], this.dtype);
    const g = neg(log(neg(log(u))));
    return cast(argmax(add(this.logits, g), -1), this.dtype);
  }
  protected logProbRaw(x: Tensor): Tensor {
    const k = this.numCategories;
    // log p[x] as a one-hot contraction (differentiable in the logits, broadcast over the batch).
    const oh = oneHot(cast(x, 'int32'), k, this.dtype);
    return sum(mul(oh, this.logits), -1);
  }
  override get mean(): Tensor {
    return mul(this.logits, NaN);
  }
  override entropy(): Tensor {
    return neg(sum(mul(this.probs, this.logits), -1));
  }
  expand(batchShape: Shape): Categorical {
    checkExpand(this.name, this.batchShape, batchShape);
    return new Categorical({ logits: broadcastTo(this.logits, [...batchShape, this.numCategories]) }, { validateArgs: false });
  }
}

/**
 * Categorical with one-hot draws (event shape [K]).
 * @example new OneHotCategorical({ logits: zeros([3]) }).sample(key(0)) // e.g. [0, 1, 0]
 */
export class OneHotCategorical extends Distribution {
  /** The Categorical over the index of the 1. */
  readonly base: Categorical;
  constructor(p: ProbsOrLogits, opts: DistributionOptions = {}) {
    const base = new Categorical(p, opts);
    super(base.batchShape, [base.numCategories], opts);
    this.base = base;
  }
  get support(): Constraint {
    return simplex;
  }
  protected paramLike(): Tensor {
    return this.base.logits;
  }
  override sample(key: Key, sampleShape: Shape = []): Tensor {
    return oneHot(cast(this.base.sample(key, sampleShape), 'int32'), this.base.numCategories, this.dtype);
  }
  protected logProbRaw(x: Tensor): Tensor {
    return sum(mul(x, this.base.logits), -1);
  }
  override get mean(): Tensor {
    return this.base.probs;
  }
  override get variance(): Tensor {
    const p = this.base.probs;
    return mul(p, sub(1, p));
  }
  override entropy(): Tensor {
    return this.base.entropy();
  }
  expand(batchShape: Shape): OneHotCategorical {
    checkExpand(this.name, this.batchShape, batchShape);
    return new OneHotCategorical({ logits: broadcastTo(this.base.logits, [...batchShape, this.base.numCategories]) }, { validateArgs: false });
  }
}

/** Poisson's rate λ, or its logarithm f = log λ (Stan's poisson_log). */
export type RateOrLogRate =
  | TensorLike
  | {
      /** The log rate f = log λ (any real). */
      logRate: TensorLike;
    };

/**
 * Poisson(λ): log p(k) = k log λ − λ − log k!. Give the rate, or `{ logRate: f }` (Stan's
 * poisson_log): then log p(k) = k f − e^f − log k! is computed from f directly, exact and finite
 * where λ = e^f underflows (f = −800: log p(0) = 0, not NaN), and, past f ≈ 709, where e^f itself
 * overflows, −∞ (the true value, below −1.8e308) rather than NaN.
 *
 * Shapes: batch = the parameter's shape; event scalar.
 * @example new Poisson({ logRate: tensor([-800, 0, 3]) }).logProb(tensor([0, 1, 20]))
 */
export class Poisson extends Distribution {
  private readonly givenRate: Tensor | null;
  private readonly givenLogRate: Tensor | null;
  constructor(rate: RateOrLogRate, opts: DistributionOptions = {}) {
    const lr = typeof rate === 'object' && 'logRate' in rate ? params(rate.logRate)[0] : null;
    const r = lr === null ? params(rate as TensorLike)[0] : null;
    super((lr ?? (r as Tensor)).shape, [], opts);
    if (r !== null) this.checkParams([{ name: 'rate', value: r, constraint: positive }]);
    else this.checkParams([{ name: 'logRate', value: lr as Tensor, constraint: real }]);
    this.givenRate = r;
    this.givenLogRate = lr;
  }
  /** λ (e^f when made from a log-rate). */
  get rate(): Tensor {
    return this.givenRate ?? exp(this.givenLogRate as Tensor);
  }
  /** log λ (as given, or the log of the given rate). */
  get logRate(): Tensor {
    return this.givenLogRate ?? log(this.givenRate as Tensor);
  }
  get support(): Constraint {
    return nonnegativeInteger;
  }
  protected paramLike(): Tensor {
    return this.givenRate ?? (this.givenLogRate as Tensor);
  }
  override sample(key: Key, sampleShape: Shape = []): Tensor {
    return ENGINE.runKernel('randomPoisson', [broadcastTo(this.rate, this.shape(sampleShape))], { key: key.words })[0];
  }
  protected logProbRaw(k: Tensor): Tensor {
    if (this.givenRate !== null) return sub(sub(mul(k, log(this.givenRate)), this.givenRate), lgamma(add(k, 1)));
    const f = this.givenLogRate as Tensor;
    return sub(sub(mul(k, f), exp(f)), lgamma(add(k, 1)));
  }
  override get mean(): Tensor {
    return this.rate;
  }
  override get variance(): Tensor {
    return this.rate;
  }
  expand(batchShape: Shape): Poisson {
    checkExpand(this.name, this.batchShape, batchShape);
    if (this.givenLogRate !== null) return new Poisson({ logRate: broadcastTo(this.givenLogRate, batchShape) }, { validateArgs: false });
    return new Poisson(broadcastTo(this.givenRate as Tensor, batchShape), { validateArgs: false });
  }
}

/**
 * Number of failures before the first success: log p(k) = k log(1−p) + log p.
 * @example new Geometric({ probs: 0.25 }).mean // (1 − p)/p = 3
 */
export class Geometric extends Distribution {
  /** log(p/(1−p)) of the success probability p. */
  readonly logits: Tensor;
  constructor(p: ProbsOrLogits, opts: DistributionOptions = {}) {
    const l = logitsOf('Geometric', p, true);
    super(l.shape, [], opts);
    this.logits = l;
  }
  /** p = σ(logits). */
  get probs(): Tensor {
    return sigmoid(this.logits);
  }
  get support(): Constraint {
    return nonnegativeInteger;
  }
  protected paramLike(): Tensor {
    return this.logits;
  }
  override sample(key: Key, sampleShape: Shape = []): Tensor {
    // Inverse CDF: floor(log u / log(1 − p)).
    const u = openUniform(key, this.shape(sampleShape), this.dtype);
    return floor(div(log(u), neg(softplus(this.logits))));
  }
  protected logProbRaw(k: Tensor): Tensor {
    // log(1−p) = −softplus(ℓ), log p = −softplus(−ℓ)
    return sub(neg(mul(k, softplus(this.logits))), softplus(neg(this.logits)));
  }
  override get mean(): Tensor {
    return exp(neg(this.logits));
  }
  override get variance(): Tensor {
    const p = this.probs;
    return div(sub(1, p), square(p));
  }
  expand(batchShape: Shape): Geometric {
    checkExpand(this.name, this.batchShape, batchShape);
    return new Geometric({ logits: broadcastTo(this.logits, batchShape) }, { validateArgs: false });
  }
}

/** Shared by Binomial and NegativeBinomial: a count parameter and a success logit. */
abstract class CountAndLogits extends Distribution {
  /** log(p/(1−p)) of the success probability p. */
  readonly logits: Tensor;
  /** n, the number of trials (Binomial) or of successes to wait for (NegativeBinomial). */
  readonly totalCount: Tensor;
  constructor(name: string, totalCount: TensorLike, p: ProbsOrLogits, countConstraint: Constraint, opts: DistributionOptions) {
    const l = logitsOf(name, p, true);
    const [n] = params(totalCount, l);
    super(batchOf(name, n, l), [], opts);
    this.logits = l;
    this.totalCount = n;
    this.checkParams([{ name: 'totalCount', value: n, constraint: countConstraint }]);
  }
  /** p = σ(logits). */
  get probs(): Tensor {
    return sigmoid(this.logits);
  }
  protected paramLike(): Tensor {
    return this.logits;
  }
}

/**
 * Successes in `totalCount` trials: log p(k) = log C(n, k) + k log p + (n−k) log(1−p).
 * @example new Binomial(10, { probs: 0.3 }).logProb(3)
 */
export class Binomial extends CountAndLogits {
  constructor(totalCount: TensorLike, p: ProbsOrLogits, opts: DistributionOptions = {}) {
    super('Binomial', totalCount, p, nonnegativeInteger, opts);
  }
  get support(): Constraint {
    const n = this.totalCount;
    return {
      ...nonnegativeInteger,
      name: 'integerInterval(0, totalCount)',
      check: (x: Tensor) => mul(nonnegativeInteger.check(x), cast(equal(less(n, x), 0), 'int32')),
      toString: () => 'integerInterval(0, totalCount)',
    };
  }
  /** Sum of Bernoulli draws (exact; cost grows with the largest count). */
  override sample(key: Key, sampleShape: Shape = []): Tensor {
    const nMax = Math.max(0, ...Array.from(this.totalCount.dataSync()));
    const s = this.shape(sampleShape);
    const u = stdUniform(key, [nMax, ...s], this.dtype);
    const trial = reshape(cast(less(u, this.probs), this.dtype), [nMax, ...s]);
    // Trials past a row's own count are masked out.
    const idx = reshape(ENGINE.fromArray(Float64Array.from({ length: nMax }, (_, i) => i), [nMax]), [nMax, ...s.map(() => 1)]);
    const active = cast(less(cast(idx, this.dtype), this.totalCount), this.dtype);
    return sum(mul(trial, active), 0);
  }
  protected logProbRaw(k: Tensor): Tensor {
    const n = this.totalCount;
    const logChoose = sub(lgamma(add(n, 1)), add(lgamma(add(k, 1)), lgamma(add(sub(n, k), 1))));
    // k log p + (n − k) log(1 − p) = k ℓ − n softplus(ℓ)
    return add(logChoose, sub(mul(k, this.logits), mul(n, softplus(this.logits))));
  }
  override get mean(): Tensor {
    return mul(this.totalCount, this.probs);
  }
  override get variance(): Tensor {
    const p = this.probs;
    return mul(mul(this.totalCount, p), sub(1, p));
  }
  expand(batchShape: Shape): Binomial {
    checkExpand(this.name, this.batchShape, batchShape);
    return new Binomial(broadcastTo(this.totalCount, batchShape), { logits: broadcastTo(this.logits, batchShape) }, { validateArgs: false });
  }
}

/**
 * Failures before `totalCount` successes, as a Gamma–Poisson mixture: log p(k) = log Γ(k+r) − log k! − log Γ(r) + r log(1−p) + k log p.
 * @example new NegativeBinomial(5, { probs: 0.5 }).mean // r·p/(1 − p) = 5
 */
export class NegativeBinomial extends CountAndLogits {
  constructor(totalCount: TensorLike, p: ProbsOrLogits, opts: DistributionOptions = {}) {
    super('NegativeBinomial', totalCount, p, positive, opts);
  }
  get support(): Constraint {
    return nonnegativeInteger;
  }
  override sample(key: Key, sampleShape: Shape = []): Tensor {
    const [k1, k2] = split(key);
    const s = this.shape(sampleShape);
    const rate = mul(standardGamma(k1, this.totalCount, s), exp(this.logits));
    return ENGINE.runKernel('randomPoisson', [broadcastTo(rate, s)], { key: k2.words })[0];
  }
  protected logProbRaw(k: Tensor): Tensor {
    const r = this.totalCount;
    const coef = sub(sub(lgamma(add(k, r)), lgamma(add(k, 1))), lgamma(r));
    // r log(1−p) + k log p with log p = −softplus(−ℓ), log(1−p) = −softplus(ℓ)
    return sub(coef, add(mul(r, softplus(this.logits)), mul(k, softplus(neg(this.logits)))));
  }
  override get mean(): Tensor {
    return mul(this.totalCount, exp(this.logits));
  }
  override get variance(): Tensor {
    return div(this.mean, sub(1, this.probs));
  }
  expand(batchShape: Shape): NegativeBinomial {
    checkExpand(this.name, this.batchShape, batchShape);
    return new NegativeBinomial(broadcastTo(this.totalCount, batchShape), { logits: broadcastTo(this.logits, batchShape) }, { validateArgs: false });
  }
}

/**
 * Counts over K categories in n trials: log p(x) = log n! − Σ log xᵢ! + Σ xᵢ log pᵢ.
 * @example new Multinomial(10, { probs: tensor([0.2, 0.3, 0.5]) }).sample(key(0)) // counts summing to 10
 */
export class Multinomial extends Distribution {
  /** Normalized log-probabilities [..., K]. */
  readonly logits: Tensor;
  /** n, the number of draws. */
  readonly totalCount: number;
  constructor(totalCount: number, p: ProbsOrLogits, opts: DistributionOptions = {}) {
    const raw = logitsOf('Multinomial', p, false);
    if (!Number.isInteger(totalCount) || totalCount < 0) throw new ValueError(`Multinomial: totalCount must be a non-negative integer, got ${totalCount}`);
    super(raw.shape.slice(0, -1), raw.shape.slice(-1), opts);
    this.logits = logSoftmax(raw, -1);
    this.totalCount = totalCount;
  }
  /** softmax(logits) [..., K]. */
  get probs(): Tensor {
    return softmax(this.logits, -1);
  }
  get support(): Constraint {
    return nonnegativeInteger;
  }
  protected paramLike(): Tensor {
    return this.logits;
  }
  override sample(key: Key, sampleShape: Shape = []): Tensor {
    const k = this.eventShape[0];
    const cat = new Categorical({ logits: this.logits }, { validateArgs: false });
    const draws = cat.sample(key, [this.totalCount, ...sampleShape]);
    return sum(oneHot(cast(draws, 'int32'), k, this.dtype), 0);
  }
  protected logProbRaw(x: Tensor): Tensor {
    return add(sub(lgamma(add(sum(x, -1), 1)), sum(lgamma(add(x, 1)), -1)), sum(mul(x, this.logits), -1));
  }
  override get mean(): Tensor {
    return mul(this.probs, this.totalCount);
  }
  override get variance(): Tensor {
    const p = this.probs;
    return mul(mul(p, sub(1, p)), this.totalCount);
  }
  expand(batchShape: Shape): Multinomial {
    checkExpand(this.name, this.batchShape, batchShape);
    return new Multinomial(this.totalCount, { logits: broadcastTo(this.logits, [...batchShape, ...this.eventShape]) }, { validateArgs: false });
  }
}

