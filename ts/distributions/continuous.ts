/**
 * Location–scale and inverse-CDF families, all reparameterized: Normal, LogNormal, HalfNormal,
 * Cauchy, HalfCauchy, Laplace, Logistic, Gumbel, Uniform, Exponential.
 */
import type { Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import type { TensorLike } from '../ops/creation.js';
import {
  abs,
  add,
  div,
  exp,
  expm1,
  log,
  log1p,
  maximum,
  mul,
  neg,
  sign,
  softplus,
  square,
  sub,
  sin,
  cos,
} from '../ops/elementwise.js';
import { broadcastTo } from '../ops/shape.js';
import type { Key } from '../random/key.js';
import { interval, nonnegative, positive, real, type Constraint } from './constraints.js';
import { batchOf, checkExpand, Distribution, params, type DistributionOptions } from './distribution.js';
import { atan, logNormalCdf, normalCdf, normalIcdf } from './cdf.js';
import { EULER_GAMMA, LOG_2, LOG_2PI, LOG_PI, openUniform, stdNormal } from './util.js';

/** Shared by families with a location and a scale: parameters, shapes and expand. */
abstract class LocScale extends Distribution {
  override readonly hasRsample = true;
  /** The location parameter (broadcasts with `scale` to the batch shape). */
  readonly loc: Tensor;
  /** The scale parameter, > 0. */
  readonly scale: Tensor;

  constructor(loc: TensorLike, scale: TensorLike, opts: DistributionOptions, name: string) {
    const [l, s] = params(loc, scale);
    super(batchOf(name, l, s), [], opts);
    this.loc = l;
    this.scale = s;
    this.checkParams([
      { name: 'loc', value: l, constraint: real },
      { name: 'scale', value: s, constraint: positive },
    ]);
  }

  protected paramLike(): Tensor {
    return this.loc;
  }

  /** loc + scale · ε for standard draws ε of the family. */
  protected shift(eps: Tensor): Tensor {
    return add(this.loc, mul(this.scale, eps));
  }

  /** (x − loc) / scale */
  protected z(x: Tensor): Tensor {
    return div(sub(x, this.loc), this.scale);
  }

  protected expandParams(batchShape: Shape): [Tensor, Tensor] {
    checkExpand(this.name, this.batchShape, batchShape);
    return [broadcastTo(this.loc, batchShape), broadcastTo(this.scale, batchShape)];
  }
}

/**
 * The normal distribution N(loc, scale²): log p(x) = −(x−μ)²/(2σ²) − log σ − ½ log 2π.
 * @example new Normal(0, 1).logProb(0.5)
 */
export class Normal extends LocScale {
  constructor(loc: TensorLike, scale: TensorLike, opts: DistributionOptions = {}) {
    super(loc, scale, opts, 'Normal');
  }
  get support(): Constraint {
    return real;
  }
  override rsample(key: Key, sampleShape: Shape = []): Tensor {
    return this.shift(stdNormal(key, this.shape(sampleShape), this.dtype));
  }
  protected logProbRaw(x: Tensor): Tensor {
    return sub(mul(square(this.z(x)), -0.5), add(log(this.scale), 0.5 * LOG_2PI));
  }
  /** P(X ≤ x) = Φ((x−μ)/σ) = ½(1 + erf((x−μ)/(σ√2))), accurate in relative terms in the lower tail (see normalCdf). */
  cdf(x: TensorLike): Tensor {
    return normalCdf(this.z(params(x, this.loc)[0]));
  }
  /** log P(X ≤ x), finite far into the lower tail (see logNormalCdf). */
  logCdf(x: TensorLike): Tensor {
    return logNormalCdf(this.z(params(x, this.loc)[0]));
  }
  /** The quantile μ + σ Φ⁻¹(p) = μ + σ√2 erfinv(2p − 1), with Newton steps in the tails (see normalIcdf). */
  icdf(p: TensorLike): Tensor {
    return this.shift(normalIcdf(params(p, this.loc)[0]));
  }
  override get mean(): Tensor {
    return broadcastTo(this.loc, this.batchShape);
  }
  override get variance(): Tensor {
    return broadcastTo(square(this.scale), this.batchShape);
  }
  override entropy(): Tensor {
    return broadcastTo(add(log(this.scale), 0.5 + 0.5 * LOG_2PI), this.batchShape);
  }
  expand(batchShape: Shape): Normal {
    const [l, s] = this.expandParams(batchShape);
    return new Normal(l, s, { validateArgs: false });
  }
}

/**
 * exp of a normal: log p(x) = log N(log x; μ, σ) − log x.
 * @example new LogNormal(0, 0.5).sample(key(0), [1000]) // positive draws, median 1
 */
export class LogNormal extends LocScale {
  constructor(loc: TensorLike, scale: TensorLike, opts: DistributionOptions = {}) {
    super(loc, scale, opts, 'LogNormal');
  }
  get support(): Constraint {
    return positive;
  }
  override rsample(key: Key, sampleShape: Shape = []): Tensor {
    return exp(this.shift(stdNormal(key, this.shape(sampleShape), this.dtype)));
  }
  protected logProbRaw(x: Tensor): Tensor {
    const lx = log(x);
    return sub(mul(square(this.z(lx)), -0.5), add(add(log(this.scale), 0.5 * LOG_2PI), lx));
  }
  override get mean(): Tensor {
    return broadcastTo(exp(add(this.loc, mul(square(this.scale), 0.5))), this.batchShape);
  }
  override get variance(): Tensor {
    const s2 = square(this.scale);
    return broadcastTo(mul(expm1(s2), exp(add(mul(this.loc, 2), s2))), this.batchShape);
  }
  override entropy(): Tensor {
    return broadcastTo(add(add(this.loc, log(this.scale)), 0.5 + 0.5 * LOG_2PI), this.batchShape);
  }
  expand(batchShape: Shape): LogNormal {
    const [l, s] = this.expandParams(batchShape);
    return new LogNormal(l, s, { validateArgs: false });
  }
}

/**
 * The Laplace distribution: log p(x) = −|x−μ|/b − log 2b.
 * @example new Laplace(0, 1).logProb(tensor([0, 1])) // [−log 2, −1 − log 2]
 */
export class Laplace extends LocScale {
  constructor(loc: TensorLike, scale: TensorLike, opts: DistributionOptions = {}) {
    super(loc, scale, opts, 'Laplace');
  }
  get support(): Constraint {
    return real;
  }
  override rsample(key: Key, sampleShape: Shape = []): Tensor {
    // Inverse CDF with u ∈ (−½, ½): μ − b·sign(u)·log(1 − 2|u|).
    const u = sub(openUniform(key, this.shape(sampleShape), this.dtype), 0.5);
    return this.shift(neg(mul(sign(u), log1p(mul(abs(u), -2)))));
  }
  protected logProbRaw(x: Tensor): Tensor {
    return sub(neg(abs(this.z(x))), add(log(this.scale), LOG_2));
  }
  override get mean(): Tensor {
    return broadcastTo(this.loc, this.batchShape);
  }
  override get variance(): Tensor {
    return broadcastTo(mul(square(this.scale), 2), this.batchShape);
  }
  override entropy(): Tensor {
    return broadcastTo(add(log(this.scale), 1 + LOG_2), this.batchShape);
  }
  expand(batchShape: Shape): Laplace {
    const [l, s] = this.expandParams(batchShape);
    return new Laplace(l, s, { validateArgs: false });
  }
}

/**
 * The logistic distribution: log p(x) = −z − log s − 2 log(1 + e^−z), z = (x−μ)/s.
 * @example new Logistic(0, 1).rsample(key(0), [3])
 */
export class Logistic extends LocScale {
  constructor(loc: TensorLike, scale: TensorLike, opts: DistributionOptions = {}) {
    super(loc, scale, opts, 'Logistic');
  }
  get support(): Constraint {
    return real;
  }
  override rsample(key: Key, sampleShape: Shape = []): Tensor {
    const u = openUniform(key, this.shape(sampleShape), this.dtype);
    return this.shift(sub(log(u), log1p(neg(u))));
  }
  protected logProbRaw(x: Tensor): Tensor {
    const z = this.z(x);
    return sub(sub(neg(z), log(this.scale)), mul(softplus(neg(z)), 2));
  }
  override get mean(): Tensor {
    return broadcastTo(this.loc, this.batchShape);
  }
  override get variance(): Tensor {
    return broadcastTo(mul(square(this.scale), (Math.PI * Math.PI) / 3), this.batchShape);
  }
  override entropy(): Tensor {
    return broadcastTo(add(log(this.scale), 2), this.batchShape);
  }
  expand(batchShape: Shape): Logistic {
    const [l, s] = this.expandParams(batchShape);
    return new Logistic(l, s, { validateArgs: false });
  }
}

/**
 * The Gumbel (max) distribution: log p(x) = −(z + e^−z) − log β.
 * @example new Gumbel(0, 1).sample(key(0), [3])
 */
export class Gumbel extends LocScale {
  constructor(loc: TensorLike, scale: TensorLike, opts: DistributionOptions = {}) {
    super(loc, scale, opts, 'Gumbel');
  }
  get support(): Constraint {
    return real;
  }
  override rsample(key: Key, sampleShape: Shape = []): Tensor {
    const u = openUniform(key, this.shape(sampleShape), this.dtype);
    return this.shift(neg(log(neg(log(u)))));
  }
  protected logProbRaw(x: Tensor): Tensor {
    const z = this.z(x);
    return sub(neg(add(z, exp(neg(z)))), log(this.scale));
  }
  override get mean(): Tensor {
    return broadcastTo(add(this.loc, mul(this.scale, EULER_GAMMA)), this.batchShape);
  }
  override get variance(): Tensor {
    return broadcastTo(mul(square(this.scale), (Math.PI * Math.PI) / 6), this.batchShape);
  }
  override entropy(): Tensor {
    return broadcastTo(add(log(this.scale), EULER_GAMMA + 1), this.batchShape);
  }
  expand(batchShape: Shape): Gumbel {
    const [l, s] = this.expandParams(batchShape);
    return new Gumbel(l, s, { validateArgs: false });
  }
}

/** tan(π(u − ½)) for u ∈ (0, 1): a standard Cauchy draw. */
function cauchyNoise(u: Tensor): Tensor {
  const a = mul(sub(u, 0.5), Math.PI);
  return div(sin(a), cos(a));
}

/**
 * The Cauchy distribution: log p(x) = −log π − log γ − log(1 + z²). Mean and variance do not exist.
 * @example new Cauchy(0, 2.5).logProb(0)
 */
export class Cauchy extends LocScale {
  constructor(loc: TensorLike, scale: TensorLike, opts: DistributionOptions = {}) {
    super(loc, scale, opts, 'Cauchy');
  }
  get support(): Constraint {
    return real;
  }
  override rsample(key: Key, sampleShape: Shape = []): Tensor {
    return this.shift(cauchyNoise(openUniform(key, this.shape(sampleShape), this.dtype)));
  }
  protected logProbRaw(x: Tensor): Tensor {
    return sub(neg(log1p(square(this.z(x)))), add(log(this.scale), LOG_PI));
  }
  /** P(X ≤ x) = ½ + atan((x − μ)/γ)/π. */
  cdf(x: TensorLike): Tensor {
    return add(div(atan(this.z(params(x, this.loc)[0])), Math.PI), 0.5);
  }
  /** The quantile μ + γ tan(π(p − ½)). */
  icdf(p: TensorLike): Tensor {
    return this.shift(cauchyNoise(params(p, this.loc)[0]));
  }
  override get mean(): Tensor {
    return broadcastTo(mul(this.loc, NaN), this.batchShape);
  }
  override get variance(): Tensor {
    return broadcastTo(add(mul(this.loc, 0), Infinity), this.batchShape);
  }
  override entropy(): Tensor {
    return broadcastTo(add(log(this.scale), Math.log(4 * Math.PI)), this.batchShape);
  }
  expand(batchShape: Shape): Cauchy {
    const [l, s] = this.expandParams(batchShape);
    return new Cauchy(l, s, { validateArgs: false });
  }
}

/** Shared by the half (folded at 0) distributions: one scale parameter. */
abstract class ScaleOnly extends Distribution {
  override readonly hasRsample = true;
  /** The scale σ > 0 of the distribution before folding. */
  readonly scale: Tensor;
  constructor(scale: TensorLike, opts: DistributionOptions) {
    const [s] = params(scale);
    super(s.shape, [], opts);
    this.scale = s;
    this.checkParams([{ name: 'scale', value: s, constraint: positive }]);
  }
  get support(): Constraint {
    return nonnegative;
  }
  protected paramLike(): Tensor {
    return this.scale;
  }
}

/**
 * |X| for X ~ N(0, σ²): log p(x) = log 2 + log N(x; 0, σ), x ≥ 0.
 * @example sample('sigma', new HalfNormal(1)) // a positive scale in a model
 */
export class HalfNormal extends ScaleOnly {
  constructor(scale: TensorLike, opts: DistributionOptions = {}) {
    super(scale, opts);
  }
  override rsample(key: Key, sampleShape: Shape = []): Tensor {
    return mul(this.scale, abs(stdNormal(key, this.shape(sampleShape), this.dtype)));
  }
  protected logProbRaw(x: Tensor): Tensor {
    return sub(mul(square(div(x, this.scale)), -0.5), add(log(this.scale), 0.5 * LOG_2PI - LOG_2));
  }
  override get mean(): Tensor {
    return mul(this.scale, Math.sqrt(2 / Math.PI));
  }
  override get variance(): Tensor {
    return mul(square(this.scale), 1 - 2 / Math.PI);
  }
  override entropy(): Tensor {
    return add(log(this.scale), 0.5 * Math.log(Math.PI / 2) + 0.5);
  }
  expand(batchShape: Shape): HalfNormal {
    checkExpand(this.name, this.batchShape, batchShape);
    return new HalfNormal(broadcastTo(this.scale, batchShape), { validateArgs: false });
  }
}

/**
 * |X| for X ~ Cauchy(0, γ): log p(x) = log 2 − log πγ − log(1 + (x/γ)²), x ≥ 0.
 * @example sample('tau', new HalfCauchy(5)) // the eight-schools prior on τ
 */
export class HalfCauchy extends ScaleOnly {
  constructor(scale: TensorLike, opts: DistributionOptions = {}) {
    super(scale, opts);
  }
  override rsample(key: Key, sampleShape: Shape = []): Tensor {
    return mul(this.scale, abs(cauchyNoise(openUniform(key, this.shape(sampleShape), this.dtype))));
  }
  protected logProbRaw(x: Tensor): Tensor {
    return sub(neg(log1p(square(div(x, this.scale)))), add(log(this.scale), LOG_PI - LOG_2));
  }
  override get mean(): Tensor {
    return add(mul(this.scale, 0), Infinity);
  }
  override get variance(): Tensor {
    return add(mul(this.scale, 0), Infinity);
  }
  override entropy(): Tensor {
    return add(log(this.scale), Math.log(2 * Math.PI));
  }
  expand(batchShape: Shape): HalfCauchy {
    checkExpand(this.name, this.batchShape, batchShape);
    return new HalfCauchy(broadcastTo(this.scale, batchShape), { validateArgs: false });
  }
}

/**
 * The exponential distribution: log p(x) = log λ − λx, x ≥ 0.
 * @example new Exponential(tensor([1, 2])).mean // [1, 0.5]
 */
export class Exponential extends Distribution {
  override readonly hasRsample = true;
  /** The rate λ > 0. */
  readonly rate: Tensor;
  constructor(rate: TensorLike, opts: DistributionOptions = {}) {
    const [r] = params(rate);
    super(r.shape, [], opts);
    this.rate = r;
    this.checkParams([{ name: 'rate', value: r, constraint: positive }]);
  }
  get support(): Constraint {
    return nonnegative;
  }
  protected paramLike(): Tensor {
    return this.rate;
  }
  override rsample(key: Key, sampleShape: Shape = []): Tensor {
    return div(neg(log(openUniform(key, this.shape(sampleShape), this.dtype))), this.rate);
  }
  protected logProbRaw(x: Tensor): Tensor {
    return sub(log(this.rate), mul(this.rate, x));
  }
  /** P(X ≤ x) = 1 − e^{−λx} (0 below 0). */
  cdf(x: TensorLike): Tensor {
    const v = params(x, this.rate)[0];
    return neg(expm1(neg(mul(this.rate, maximum(v, 0)))));
  }
  /** The quantile −log(1 − p)/λ. */
  icdf(p: TensorLike): Tensor {
    return div(neg(log1p(neg(params(p, this.rate)[0]))), this.rate);
  }
  override get mean(): Tensor {
    return div(1, this.rate);
  }
  override get variance(): Tensor {
    return div(1, square(this.rate));
  }
  override entropy(): Tensor {
    return sub(1, log(this.rate));
  }
  expand(batchShape: Shape): Exponential {
    checkExpand(this.name, this.batchShape, batchShape);
    return new Exponential(broadcastTo(this.rate, batchShape), { validateArgs: false });
  }
}

/**
 * The uniform distribution on [low, high): log p(x) = −log(high − low).
 * @example new Uniform(0, 10).sample(key(0), [5]) // five draws in [0, 10)
 */
export class Uniform extends Distribution {
  override readonly hasRsample = true;
  /** The lower bound. */
  readonly low: Tensor;
  /** The upper bound, > low. */
  readonly high: Tensor;
  constructor(low: TensorLike, high: TensorLike, opts: DistributionOptions = {}) {
    const [l, h] = params(low, high);
    super(batchOf('Uniform', l, h), [], opts);
    this.low = l;
    this.high = h;
    this.checkParams([{ name: 'high − low', value: sub(h, l), constraint: positive }]);
  }
  get support(): Constraint {
    return tensorInterval(this.low, this.high);
  }
  protected paramLike(): Tensor {
    return this.low;
  }
  override rsample(key: Key, sampleShape: Shape = []): Tensor {
    const u = openUniform(key, this.shape(sampleShape), this.dtype);
    return add(this.low, mul(sub(this.high, this.low), u));
  }
  protected logProbRaw(x: Tensor): Tensor {
    return sub(mul(x, 0), log(sub(this.high, this.low)));
  }
  override get mean(): Tensor {
    return broadcastTo(mul(add(this.low, this.high), 0.5), this.batchShape);
  }
  override get variance(): Tensor {
    return broadcastTo(div(square(sub(this.high, this.low)), 12), this.batchShape);
  }
  override entropy(): Tensor {
    return broadcastTo(log(sub(this.high, this.low)), this.batchShape);
  }
  expand(batchShape: Shape): Uniform {
    checkExpand(this.name, this.batchShape, batchShape);
    return new Uniform(broadcastTo(this.low, batchShape), broadcastTo(this.high, batchShape), { validateArgs: false });
  }
}

/**
 * An interval whose ends are tensors (broadcast against the value).
 * @example tensorInterval(zeros([3]), tensor([1, 2, 3])).check(tensor([0.5, 2.5, 1])) // int32 [1, 0, 1]
 */
export function tensorInterval(low: Tensor, high: Tensor): Constraint {
  const c = interval(NaN, NaN);
  return {
    ...c,
    name: 'interval',
    check: (x) => {
      const lo = sub(x, low);
      const hi = sub(high, x);
      return mulMask(lo, hi);
    },
    toString: () => 'interval(low, high)',
    lower: low,
    upper: high,
  } as Constraint;
}

function mulMask(lo: Tensor, hi: Tensor): Tensor {
  return mul(nonnegative.check(lo), nonnegative.check(hi));
}
