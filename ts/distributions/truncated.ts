/**
 * Truncated distributions: a continuous scalar distribution with a cdf, restricted to [low, high]
 * and renormalized (NumPyro's TruncatedDistribution; brms's `y | trunc(lb, ub)`, Stan's `T[lb, ub]`).
 */
import { ShapeError, ValueError } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { asTensor, type TensorLike } from '../ops/creation.js';
import { add, clamp, div, expm1, greater, greaterEqual, less, lessEqual, log, maximum, minimum, mul, neg, sub, where } from '../ops/elementwise.js';
import { min } from '../ops/reduce.js';
import { broadcastTo } from '../ops/shape.js';
import type { Key } from '../random/key.js';
import { invertCdf } from './cdf.js';
import { logicalAnd, type Constraint } from './constraints.js';
import { Cauchy, Normal } from './continuous.js';
import { batchOf, checkExpand, Distribution, type DistributionOptions } from './distribution.js';
import { StudentT } from './structured.js';
import { openUniform } from './util.js';

/** A distribution with a cdf (and, optionally, a quantile function). */
export interface HasCdf extends Distribution {
  /** The cdf F(x) = P(X ≤ x), elementwise. */
  cdf(x: TensorLike): Tensor;
  /** log cdf, where the base has one accurate in the far tail (then the normalizer uses it). */
  logCdf?(x: TensorLike): Tensor;
  /** The quantile function F⁻¹(p), where the base has one (draws then invert it; otherwise they bisect the cdf). */
  icdf?(p: TensorLike): Tensor;
}

/** The truncation bounds; either may be left out (or infinite). */
export interface TruncationBounds {
  /** The lower bound (left out or −∞ for none; then 0 for bases on (0, ∞)). */
  readonly low?: TensorLike;
  /** The upper bound (left out or +∞ for none). */
  readonly high?: TensorLike;
}

/** A bound for messages: its value when it is one number, else its shape. */
function show(b: Tensor): string {
  return b.size === 1 ? String(b.dataSync()[0]) : `tensor[${b.shape.join(', ')}]`;
}

const POSITIVE_SUPPORTS = new Set(['positive', 'nonnegative']);
/** Bases whose quantile function is differentiable, so truncated draws can be reparameterized. */
const SMOOTH_ICDF = new Set(['Normal', 'Cauchy', 'Exponential', 'Weibull']);

/**
 * `base` restricted to [low, high] and renormalized:
 *
 *   log p(x) = log p_base(x) − log(F(high) − F(low)),  low ≤ x ≤ high,
 *
 * with F the base's cdf (F(low) = 0 without a low bound, F(high) = 1 without a high one). For bases
 * symmetric about their location (Normal, Cauchy, StudentT) an interval above the location uses
 * the reflected form F(2μ − low) − F(2μ − high), which keeps the upper tail's mass accurate.
 * Draws are by inversion: u uniform on (F(low), F(high)), x = F⁻¹(u) — reparameterized where the
 * base's quantile is differentiable (Normal, Cauchy, Exponential), by bisection on the cdf
 * otherwise (Gamma, StudentT, HalfStudentT; `sample` only). Bases: continuous, scalar event,
 * with a `cdf` method (Normal, StudentT, Cauchy, Exponential, Gamma, HalfStudentT, ...). For
 * bases on (0, ∞) a missing `low` is 0.
 *
 * Accuracy: for a Normal base the normalizer is computed in log space (Normal.logCdf), finite and
 * accurate for bounds hundreds of scales into a tail; other bases use log(F(high) − F(low)).
 * Shapes: batch = broadcast of the base's batch shape and the bounds'; event scalar.
 * @example
 * new Truncated(new Normal(mu, sigma), { low: 0 }).logProb(y)           // y | trunc(lb = 0) ~ normal(mu, sigma)
 * new Truncated(new StudentT(3, 0, 2.5), { low: -1, high: 1 }).logProb(0.2)
 */
export class Truncated extends Distribution {
  /** The distribution being truncated (continuous, scalar event, with a cdf). */
  readonly base: HasCdf;
  /** The lower bound (−∞ when absent; 0 for bases on (0, ∞)). */
  readonly low: Tensor;
  /** The upper bound (+∞ when absent). */
  readonly high: Tensor;
  override readonly hasRsample: boolean;
  private readonly hasLow: boolean;
  private readonly hasHigh: boolean;
  /** The base with validation off, for densities and cdfs outside its own checks. */
  private readonly raw: HasCdf;

  constructor(base: Distribution, bounds: TruncationBounds, opts: DistributionOptions = {}) {
    if (typeof (base as Partial<HasCdf>).cdf !== 'function')
      throw new ValueError(`Truncated: the base ${base.name} has no cdf; truncation needs one (Normal, StudentT, Cauchy, Exponential, Gamma, HalfStudentT, ...)`);
    if (base.eventShape.length !== 0) throw new ShapeError(`Truncated: the base ${base.name} must have scalar events, got event shape [${base.eventShape.join(', ')}]`);
    if (base.support.discrete) throw new ValueError(`Truncated: the base ${base.name} is discrete; only continuous bases are supported`);
    const like = (base as unknown as { paramLike(): Tensor }).paramLike();
    const positiveBase = POSITIVE_SUPPORTS.has(base.support.name);
    const noLow = bounds.low === undefined || bounds.low === -Infinity;
    const noHigh = bounds.high === undefined || bounds.high === Infinity;
    const low = asTensor(noLow ? (positiveBase ? 0 : -Infinity) : (bounds.low as TensorLike), like);
    const high = asTensor(noHigh ? Infinity : (bounds.high as TensorLike), like);
    super(batchOf('Truncated', broadcastTo(like, base.batchShape), low, high), [], opts);
    this.base = base as HasCdf;
    this.raw = base.expand(base.batchShape) as HasCdf;
    this.low = low;
    this.high = high;
    this.hasLow = !noLow;
    this.hasHigh = !noHigh;
    this.hasRsample = base.hasRsample && SMOOTH_ICDF.has(base.name);
    if (this.validateArgs && min(less(low, high)).item() === 0) {
      const lo = low.dataSync();
      const hi = high.dataSync();
      throw new ValueError(`Truncated: low must be below high, got low=${lo[0]}${lo.length > 1 ? ', ...' : ''}, high=${hi[0]}${hi.length > 1 ? ', ...' : ''}`);
    }
  }

  /**
   * [low, high] within the base's support, named as `bijectTo` reads it: `greaterThan(low)`,
   * `lessThan(high)` or `interval(low, high)` (a missing low of a base on (0, ∞) is 0).
   */
  get support(): Constraint {
    const { low, high } = this;
    const inner = this.base.support;
    const hasLow = this.hasLow || POSITIVE_SUPPORTS.has(inner.name);
    const name = hasLow && this.hasHigh ? 'interval' : hasLow ? 'greaterThan' : this.hasHigh ? 'lessThan' : 'real';
    const shown = name === 'interval' ? `interval(${show(low)}, ${show(high)})` : name === 'greaterThan' ? `greaterThan(${show(low)})` : name === 'lessThan' ? `lessThan(${show(high)})` : 'real';
    return {
      name,
      eventDim: 0,
      discrete: false,
      ...(hasLow ? { lower: low } : {}),
      ...(this.hasHigh ? { upper: high } : {}),
      check: (x: Tensor) => logicalAnd(logicalAnd(greaterEqual(x, low), lessEqual(x, high)), inner.name === 'real' ? greaterEqual(x, -Infinity) : inner.check(x)),
      toString: () => shown,
    } as Constraint;
  }

  protected paramLike(): Tensor {
    return this.low;
  }

  /** The centre of symmetry of the base, where it has one. */
  private centre(): Tensor | null {
    const b = this.base;
    return b instanceof Normal || b instanceof Cauchy || b instanceof StudentT ? b.loc : null;
  }

  /** F(low) and F(high) (0 and 1 for absent bounds). */
  private ends(): [Tensor, Tensor] {
    const fa = this.hasLow ? this.raw.cdf(this.low) : asTensor(0, this.low);
    const fb = this.hasHigh ? this.raw.cdf(this.high) : asTensor(1, this.low);
    return [fa, fb];
  }

  /** log(F(high) − F(low)), reflected above the centre of symmetric bases; in log space for bases with logCdf. */
  logNormalizer(): Tensor {
    const c = this.centre();
    const logCdf = this.raw.logCdf;
    if (typeof logCdf === 'function') {
      const lc = (v: Tensor): Tensor => logCdf.call(this.raw, v);
      const none = asTensor(-Infinity, this.low);
      // log(e^u − e^v) = u + log(−expm1(v − u)); the floor keeps an unselected branch's log finite
      const logDiff = (u: Tensor, v: Tensor): Tensor => add(u, log(maximum(neg(expm1(sub(v, u))), 1e-300)));
      const direct = logDiff(this.hasHigh ? lc(this.high) : asTensor(0, this.low), this.hasLow ? lc(this.low) : none);
      if (c === null || !this.hasLow) return direct;
      const reflected = logDiff(lc(sub(mul(c, 2), this.low)), this.hasHigh ? lc(sub(mul(c, 2), this.high)) : none);
      return where(greater(this.low, c), reflected, direct);
    }
    const [fa, fb] = this.ends();
    const mass = sub(fb, fa);
    if (c === null || !this.hasLow) return log(mass);
    // 1 − F(x) = F(2c − x): survival masses without the cancellation of 1 − (nearly 1)
    const sa = this.raw.cdf(sub(mul(c, 2), this.low));
    const sb = this.hasHigh ? this.raw.cdf(sub(mul(c, 2), this.high)) : mul(sa, 0);
    return log(where(greater(this.low, c), sub(sa, sb), mass));
  }

  protected logProbRaw(x: Tensor): Tensor {
    return sub(this.raw.logProb(x), this.logNormalizer());
  }

  /** P(X ≤ x) = (F(x) − F(low)) / (F(high) − F(low)), clamped to [0, 1]. */
  cdf(x: TensorLike): Tensor {
    const v = minimum(maximum(asTensor(x, this.low), this.low), this.high);
    const [fa, fb] = this.ends();
    return clamp(div(sub(this.raw.cdf(v), fa), sub(fb, fa)), 0, 1);
  }

  private draw(key: Key, sampleShape: Shape): Tensor {
    const shape = this.shape(sampleShape);
    const u = openUniform(key, shape, this.dtype);
    const [fa, fb] = this.ends();
    const p = add(fa, mul(u, sub(fb, fa)));
    let x: Tensor;
    if (typeof this.raw.icdf === 'function') x = this.raw.icdf(p);
    else x = invertCdf((v) => this.raw.cdf(v), broadcastTo(p, shape), this.low, this.high);
    const c = this.centre();
    if (c !== null && this.hasLow && typeof this.raw.icdf === 'function') {
      // above the centre, invert in the reflected coordinates: x = 2c − F⁻¹(S(high) + u (S(low) − S(high)))
      const sa = this.raw.cdf(sub(mul(c, 2), this.low));
      const sb = this.hasHigh ? this.raw.cdf(sub(mul(c, 2), this.high)) : mul(sa, 0);
      const q = add(sb, mul(sub(1, u), sub(sa, sb)));
      x = where(greater(this.low, c), sub(mul(c, 2), this.raw.icdf(q)), x);
    }
    return minimum(maximum(broadcastTo(x, shape), this.low), this.high);
  }

  override rsample(key: Key, sampleShape: Shape = []): Tensor {
    if (!this.hasRsample) throw new ValueError(`Truncated(${this.base.name}) has no reparameterized sampler (its quantile is a bisection); use sample`);
    return this.draw(key, sampleShape);
  }

  override sample(key: Key, sampleShape: Shape = []): Tensor {
    return this.hasRsample ? super.sample(key, sampleShape) : this.draw(key, sampleShape);
  }

  expand(batchShape: Shape): Truncated {
    checkExpand(this.name, this.batchShape, batchShape);
    return new Truncated(
      this.base.expand(batchShape),
      { low: this.hasLow ? broadcastTo(this.low, batchShape) : undefined, high: this.hasHigh ? broadcastTo(this.high, batchShape) : undefined },
      { validateArgs: false },
    );
  }
}
