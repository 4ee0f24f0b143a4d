/**
 * TransformedDistribution: y = T_k(…T_1(x)) with x drawn from `base`. By the change of variables,
 * log p(y) = log p_base(x) − Σᵢ log|det ∂Tᵢ|, each term summed over the event axes it covers.
 */
import type { Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { sub, add } from '../ops/elementwise.js';
import type { Key } from '../random/key.js';
import { IdentityTransform } from '../bijectors/elementwise.js';
import { sumRightmost, type Transform } from '../bijectors/transform.js';
import type { Constraint } from './constraints.js';
import { checkExpand, Distribution, type DistributionOptions } from './distribution.js';

/** The event rank of the output of `ts` applied to draws with event rank `baseEventDim`. */
function outEventDim(baseEventDim: number, ts: readonly Transform[]): number {
  let e = baseEventDim;
  for (const t of ts) e = Math.max(e + t.codomainEventDim - t.domainEventDim, t.codomainEventDim);
  return e;
}

/**
 * The pushforward of `base` through `transforms` (applied in order).
 * @example new TransformedDistribution(new Normal(0, 1), [new ExpTransform()]) // a log-normal
 */
export class TransformedDistribution extends Distribution {
  /** The base distribution of the draws before the transforms. */
  readonly base: Distribution;
  /** The transforms, applied in order: y = t_n(…t_1(x)). */
  readonly transforms: readonly Transform[];
  override readonly hasRsample: boolean;

  constructor(base: Distribution, transforms: Transform | readonly Transform[], opts: DistributionOptions = {}) {
    const ts = Array.isArray(transforms) ? (transforms as readonly Transform[]) : [transforms as Transform];
    let shape: number[] = base.shape();
    for (const t of ts) shape = t.forwardShape(shape);
    const e = outEventDim(base.eventShape.length, ts);
    super(shape.slice(0, shape.length - e), shape.slice(shape.length - e), { validateArgs: opts.validateArgs ?? base.validateArgs });
    this.base = base;
    this.transforms = ts;
    this.hasRsample = base.hasRsample;
  }
  get support(): Constraint {
    return this.transforms.length === 0 ? this.base.support : this.transforms[this.transforms.length - 1].codomain;
  }
  protected paramLike(): Tensor {
    return this.base.mean;
  }
  override get dtype(): Tensor['dtype'] {
    return this.base.dtype;
  }
  /** The inputs of every transform for each recent draw, so its logProb needs no inverse (IAF). */
  private readonly chains = new WeakMap<Tensor, Tensor[]>();
  private push(x: Tensor): Tensor {
    const chain: Tensor[] = [];
    let y = x;
    for (const t of this.transforms) {
      chain.push(y);
      y = t.forward(y);
    }
    chain.push(y);
    this.chains.set(y, chain);
    return y;
  }
  override sample(key: Key, sampleShape: Shape = []): Tensor {
    return this.push(this.base.sample(key, sampleShape));
  }
  override rsample(key: Key, sampleShape: Shape = []): Tensor {
    return this.push(this.base.rsample(key, sampleShape));
  }
  protected logProbRaw(y: Tensor): Tensor {
    let eventDim = this.eventShape.length;
    let lp: Tensor | null = null;
    let cur = y;
    // A draw of this distribution keeps its chain of inputs: no inverse (IAF's is sequential or absent).
    const chain = this.chains.get(y);
    for (let i = this.transforms.length - 1; i >= 0; i--) {
      const t = this.transforms[i];
      const x = chain !== undefined ? chain[i] : t.inverse(cur);
      eventDim += t.domainEventDim - t.codomainEventDim;
      // The identity (an autoguide's transform of a real site) adds no term: its log-det is 0.
      if (!(t instanceof IdentityTransform)) {
        const term = sumRightmost(t.logAbsDetJacobian(x, cur), eventDim - t.domainEventDim);
        lp = lp === null ? term : add(lp, term);
      }
      cur = x;
    }
    const base = sumRightmost(this.base.logProb(cur), eventDim - this.base.eventShape.length);
    return lp === null ? base : sub(base, lp);
  }
  expand(batchShape: Shape): TransformedDistribution {
    checkExpand(this.name, this.batchShape, batchShape);
    const extra = batchShape.length - this.batchShape.length;
    const baseBatch = [...batchShape.slice(0, extra), ...this.base.batchShape];
    return new TransformedDistribution(this.base.expand(baseBatch), this.transforms, { validateArgs: false });
  }
}
