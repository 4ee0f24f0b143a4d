/** Wrappers and composites: Independent, Delta, MixtureSameFamily, StudentT. */
import { ShapeError, fmtShape } from '../core/errors.js';
import { broadcastShapes, type Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { arange, asTensor, type TensorLike } from '../ops/creation.js';
import { add, cast, digamma, div, equal, greater, lgamma, onDeviceOf, log, log1p, mul, sqrt, square, sub, where } from '../ops/elementwise.js';
import { logSoftmax, logsumexp, min, softmax, sum } from '../ops/reduce.js';
import { broadcastTo, expandDims, reshape } from '../ops/shape.js';
import { split, type Key } from '../random/key.js';
import { invertCdf, studentTCdf } from './cdf.js';
import { independentConstraint, positive, real, type Constraint } from './constraints.js';
import { Categorical } from './discrete.js';
import { batchOf, checkExpand, Distribution, params, registerIndependent, type DistributionOptions } from './distribution.js';
import { standardGamma, lbeta } from './gamma.js';
import { stdNormal, LOG_PI } from './util.js';

/**
 * Reinterprets the rightmost `reinterpreted` batch axes of `base` as event axes: log p sums over
 * them. `Independent(Normal(zeros([3]), 1), 1)` is a diagonal normal with event shape [3].
 * @example new Independent(new Normal(zeros([3]), 1), 1).logProb(zeros([3])).shape // []
 */
export class Independent extends Distribution {
  /** The distribution whose batch axes are reinterpreted. */
  readonly base: Distribution;
  /** How many rightmost batch axes became event axes. */
  readonly reinterpreted: number;
  override readonly hasRsample: boolean;
  constructor(base: Distribution, reinterpreted: number, opts: DistributionOptions = {}) {
    const b = base.batchShape;
    if (!Number.isInteger(reinterpreted) || reinterpreted < 0 || reinterpreted > b.length)
      throw new ShapeError(`Independent: cannot reinterpret ${reinterpreted} axes of batch shape ${fmtShape(b)}`);
    super(b.slice(0, b.length - reinterpreted), [...b.slice(b.length - reinterpreted), ...base.eventShape], { validateArgs: opts.validateArgs ?? base.validateArgs });
    this.base = base;
    this.reinterpreted = reinterpreted;
    this.hasRsample = base.hasRsample;
  }
  get support(): Constraint {
    return independentConstraint(this.base.support, this.reinterpreted);
  }
  protected paramLike(): Tensor {
    return this.base.mean;
  }
  override get dtype(): Tensor['dtype'] {
    return this.base.dtype;
  }
  override sample(key: Key, sampleShape: Shape = []): Tensor {
    return this.base.sample(key, sampleShape);
  }
  override rsample(key: Key, sampleShape: Shape = []): Tensor {
    return this.base.rsample(key, sampleShape);
  }
  protected logProbRaw(x: Tensor): Tensor {
    return this.sumEvent(this.base.logProb(x));
  }
  private sumEvent(t: Tensor): Tensor {
    if (this.reinterpreted === 0) return t;
    return sum(t, Array.from({ length: this.reinterpreted }, (_, i) => -1 - i));
  }
  override logProb(value: TensorLike): Tensor {
    return this.sumEvent(this.base.logProb(value));
  }
  override get mean(): Tensor {
    return this.base.mean;
  }
  override get variance(): Tensor {
    return this.base.variance;
  }
  override entropy(): Tensor {
    return this.sumEvent(this.base.entropy());
  }
  expand(batchShape: Shape): Independent {
    checkExpand(this.name, this.batchShape, batchShape);
    const moved = this.base.batchShape.slice(this.base.batchShape.length - this.reinterpreted);
    return new Independent(this.base.expand([...batchShape, ...moved]), this.reinterpreted);
  }
}

registerIndependent((base, n) => new Independent(base, n));

/**
 * A point mass at `value` (AutoDelta's guide): draws are `value` itself, so gradients reach it;
 * log p(x) = logDensity where x = value and −∞ elsewhere.
 * @example new Delta(tensor([1, 2]), { eventDim: 1 }).sample(key(0)) // [1, 2]
 */
export class Delta extends Distribution {
  override readonly hasRsample = true;
  /** The point (shape batch + event). */
  readonly value: Tensor;
  /** log p at the point (e.g. −log|det J| for a transformed point; 0 by default). */
  readonly logDensity: Tensor;
  constructor(value: TensorLike, opts: DistributionOptions & { logDensity?: TensorLike; eventDim?: number } = {}) {
    const [v] = params(value);
    const e = opts.eventDim ?? 0;
    if (e > v.shape.length) throw new ShapeError(`Delta: eventDim ${e} exceeds the rank of value ${fmtShape(v.shape)}`);
    super(v.shape.slice(0, v.shape.length - e), v.shape.slice(v.shape.length - e), opts);
    this.value = v;
    this.logDensity = params(opts.logDensity ?? 0, v)[0];
  }
  get support(): Constraint {
    return real;
  }
  protected paramLike(): Tensor {
    return this.value;
  }
  override rsample(_key: Key, sampleShape: Shape = []): Tensor {
    return broadcastTo(this.value, this.shape(sampleShape));
  }
  protected logProbRaw(x: Tensor): Tensor {
    const hit = cast(equal(x, this.value), x.dtype);
    const e = this.eventShape.length;
    const all = e === 0 ? hit : min(hit, Array.from({ length: e }, (_, i) => -1 - i));
    return where(all, this.logDensity, -Infinity);
  }
  override get mean(): Tensor {
    return this.value;
  }
  override get variance(): Tensor {
    return mul(this.value, 0);
  }
  expand(batchShape: Shape): Delta {
    checkExpand(this.name, this.batchShape, batchShape);
    return new Delta(broadcastTo(this.value, [...batchShape, ...this.eventShape]), { eventDim: this.eventShape.length, logDensity: this.logDensity, validateArgs: false });
  }
}

/**
 * A finite mixture: `mixing` is a Categorical over K components whose batch is
 * `components.batchShape = [...batch, K]`. log p(x) = logsumexp_k(log πₖ + log pₖ(x)).
 * @example new MixtureSameFamily(new Categorical({ probs: tensor([0.3, 0.7]) }), new Normal(tensor([-2, 2]), 1)).logProb(0)
 */
export class MixtureSameFamily extends Distribution {
  /** The Categorical over the K components (batch [...batch]). */
  readonly mixing: Categorical;
  /** The components, batch [...batch, K]. */
  readonly components: Distribution;
  constructor(mixing: Categorical, components: Distribution, opts: DistributionOptions = {}) {
    const cb = components.batchShape;
    const k = mixing.numCategories;
    if (cb.length < 1 || cb[cb.length - 1] !== k)
      throw new ShapeError(`MixtureSameFamily: components have batch shape ${fmtShape(cb)}; its last axis must be the ${k} mixture components`);
    super(broadcastShapes('MixtureSameFamily', mixing.batchShape, cb.slice(0, -1)), components.eventShape, opts);
    this.mixing = mixing;
    this.components = components;
  }
  get support(): Constraint {
    return this.components.support;
  }
  protected paramLike(): Tensor {
    return this.mixing.logits;
  }
  override sample(key: Key, sampleShape: Shape = []): Tensor {
    const [k1, k2] = split(key);
    const all = this.components.sample(k1, sampleShape); // [...s, ...batch, K, ...event]
    const idx = cast(this.mixing.expand(this.batchShape).sample(k2, sampleShape), 'int32'); // [...s, ...batch]
    const e = this.eventShape.length;
    const k = this.mixing.numCategories;
    // Pick component idx along the K axis with a one-hot contraction (no data-dependent gather).
    const range = onDeviceOf(arange(0, k, 1, all.dtype), all);
    const oh = reshape(cast(equal(expandDims(cast(idx, all.dtype), -1), range), all.dtype), [...idx.shape, k, ...this.eventShape.map(() => 1)]);
    return sum(mul(all, oh), -1 - e);
  }
  protected logProbRaw(x: Tensor): Tensor {
    const e = this.eventShape.length;
    const xk = expandDims(x, x.shape.length - e); // insert the K axis before the event axes
    const lp = this.components.logProb(xk);
    return logsumexp(add(lp, logSoftmax(this.mixing.logits, -1)), -1);
  }
  override get mean(): Tensor {
    const e = this.eventShape.length;
    const w = reshape(softmax(this.mixing.logits, -1), [...this.mixing.logits.shape, ...this.eventShape.map(() => 1)]);
    return sum(mul(w, this.components.mean), -1 - e);
  }
  override get variance(): Tensor {
    const e = this.eventShape.length;
    const w = reshape(softmax(this.mixing.logits, -1), [...this.mixing.logits.shape, ...this.eventShape.map(() => 1)]);
    const m = this.components.mean;
    const mean = sum(mul(w, m), -1 - e);
    const second = sum(mul(w, add(this.components.variance, square(m))), -1 - e);
    return sub(second, square(mean));
  }
  expand(batchShape: Shape): MixtureSameFamily {
    checkExpand(this.name, this.batchShape, batchShape);
    const k = this.mixing.numCategories;
    return new MixtureSameFamily(this.mixing.expand(batchShape), this.components.expand([...batchShape, k]), { validateArgs: false });
  }
}

/**
 * Student's t with ν degrees of freedom:
 * log p(x) = log Γ((ν+1)/2) − log Γ(ν/2) − ½ log(νπ) − log σ − (ν+1)/2 · log(1 + z²/ν).
 * Reparameterized as z = ε / √(g/ν), g ~ χ²_ν (implicit gradient in ν).
 * @example new StudentT(3, 0, 1).logProb(tensor([0, 5])) // heavier tails than Normal(0, 1)
 */
export class StudentT extends Distribution {
  override readonly hasRsample = true;
  /** Degrees of freedom ν > 0. */
  readonly df: Tensor;
  /** The location μ. */
  readonly loc: Tensor;
  /** The scale σ > 0. */
  readonly scale: Tensor;
  constructor(df: TensorLike, loc: TensorLike = 0, scale: TensorLike = 1, opts: DistributionOptions = {}) {
    const [nu, l, s] = params(df, loc, scale);
    super(batchOf('StudentT', nu, l, s), [], opts);
    this.df = nu;
    this.loc = l;
    this.scale = s;
    this.checkParams([
      { name: 'df', value: nu, constraint: positive },
      { name: 'scale', value: s, constraint: positive },
    ]);
  }
  get support(): Constraint {
    return real;
  }
  protected paramLike(): Tensor {
    return this.loc;
  }
  override rsample(key: Key, sampleShape: Shape = []): Tensor {
    const [k1, k2] = split(key);
    const shape = this.shape(sampleShape);
    const eps = stdNormal(k1, shape, this.dtype);
    const chi2 = mul(standardGamma(k2, mul(this.df, 0.5), shape), 2);
    return add(this.loc, mul(this.scale, div(eps, sqrt(div(chi2, this.df)))));
  }
  protected logProbRaw(x: Tensor): Tensor {
    const nu = this.df;
    const z = div(sub(x, this.loc), this.scale);
    const c = sub(sub(lgamma(mul(add(nu, 1), 0.5)), lgamma(mul(nu, 0.5))), add(mul(add(log(nu), LOG_PI), 0.5), log(this.scale)));
    return sub(c, mul(mul(add(nu, 1), 0.5), log1p(div(square(z), nu))));
  }
  /** P(X ≤ x) = F_ν((x − μ)/σ), the Student-t cdf (computed on the host; see studentTCdf). */
  cdf(x: TensorLike): Tensor {
    return studentTCdf(div(sub(params(x, this.loc)[0], this.loc), this.scale), this.df);
  }
  /** The quantile, by bisection on the cdf (host schedule, not differentiable). */
  icdf(p: TensorLike): Tensor {
    const pt = params(p, this.loc)[0];
    const shape = broadcastShapes('StudentT.icdf', pt.shape, this.batchShape);
    const z = invertCdf((v) => studentTCdf(v, this.df), broadcastTo(pt, shape), asTensor(-Infinity, pt), asTensor(Infinity, pt));
    return add(this.loc, mul(this.scale, z));
  }
  /** loc for ν > 1, undefined (NaN) otherwise. */
  override get mean(): Tensor {
    return broadcastTo(where(greater(this.df, 1), add(this.loc, mul(this.df, 0)), NaN), this.batchShape);
  }
  /** σ²ν/(ν − 2) for ν > 2, +∞ for 1 < ν ≤ 2, NaN otherwise. */
  override get variance(): Tensor {
    const nu = this.df;
    const finite = div(mul(square(this.scale), nu), sub(nu, 2));
    return broadcastTo(where(greater(nu, 2), finite, where(greater(nu, 1), Infinity, NaN)), this.batchShape);
  }
  override entropy(): Tensor {
    const nu = this.df;
    const h = mul(add(nu, 1), 0.5);
    // (ν+1)/2 (ψ((ν+1)/2) − ψ(ν/2)) + ½ log ν + log B(ν/2, ½) + log σ
    const r = add(add(mul(h, sub(digamma(h), digamma(mul(nu, 0.5)))), mul(log(nu), 0.5)), add(lbeta(mul(nu, 0.5), params(0.5, nu)[0]), log(this.scale)));
    return broadcastTo(r, this.batchShape);
  }
  expand(batchShape: Shape): StudentT {
    checkExpand(this.name, this.batchShape, batchShape);
    return new StudentT(broadcastTo(this.df, batchShape), broadcastTo(this.loc, batchShape), broadcastTo(this.scale, batchShape), { validateArgs: false });
  }
}

