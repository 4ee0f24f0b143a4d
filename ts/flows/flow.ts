/**
 * Flow distributions: a standard normal base pushed through flow layers, in zuko's shape: a `Flow`
 * holds the layers; `flow.apply(params, context)` is a distribution (conditional on the context
 * when the layers are). Sampling returns the draw with its log-density from the same pass, so a
 * flow whose inverse is sequential or absent (IAF, planar) still scores its own draws.
 */
import { ShapeError, ValueError, fmtShape } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { realVector, type Constraint } from '../distributions/constraints.js';
import { checkExpand, Distribution, type DistributionOptions } from '../distributions/distribution.js';
import { asTensor, zeros, type TensorLike } from '../ops/creation.js';
import { add, mul, square, sub } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { split, type Key } from '../random/key.js';
import { normal, type FloatDType } from '../random/samplers.js';
import { hasMode, type FlowLayer, type FlowTransform } from './core.js';
import { isBatchNorm, type BatchNormParams } from './batchnorm.js';
import { tidy } from '../core/memory.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** log N(z; 0, I) summed over the last axis. */
function stdNormalLogProb(z: Tensor): Tensor {
  const d = z.shape[z.rank - 1];
  return sub(mul(sum(square(z), -1), -0.5), d * HALF_LOG_2PI);
}

/**
 * The distribution of x = f_K ∘ … ∘ f_1(z), z ~ N(0, I_d):
 * log q(x) = log N(z; 0, I) − Σ_k log|det ∂f_k/∂(input_k)|.
 * `rsampleWithLogProb` returns both in one pass; `rsample` remembers the density of its draw so a
 * later `logProb` of that same tensor (as the ELBO asks) costs nothing and needs no inverse;
 * `logProb` of any other value runs the layers' inverses (a NotInvertibleError from a layer
 * without one). Shapes: draws [...sampleShape, ...batchShape, d], log-densities without the d.
 * The batch shape is the context's batch (or [] unconditional, or what `expand` asks).
 * @example
 * const f = new Flow([maf(2), permute(2), maf(2)]);
 * const q = f.apply(f.init(key(0), 'float64'));
 * const [x, lq] = q.rsampleWithLogProb(key(1), [100]); // [100, 2], [100]
 * q.logProb(x) // lq, from the cache
 */
export class FlowDistribution extends Distribution {
  override readonly hasRsample = true;
  private readonly cache = new WeakMap<Tensor, Tensor>();
  private readonly like: Tensor;

  constructor(
    /** The bound layers f_1, …, f_K, applied in this order to the base draw z. */
    readonly transforms: readonly FlowTransform[],
    /** d, the event size. */
    readonly features: number,
    /** The float dtype of the base draws and the densities. */
    readonly floatDType: FloatDType,
    batchShape: Shape = [],
    opts: DistributionOptions = {},
  ) {
    super(batchShape.slice(), [features], { validateArgs: opts.validateArgs ?? false });
    this.like = zeros([], floatDType);
  }
  get support(): Constraint {
    return realVector;
  }
  protected paramLike(): Tensor {
    return this.like;
  }

  /** A reparameterized draw x [...sampleShape, ...batchShape, d] and log q(x) [...sampleShape, ...batchShape]. */
  rsampleWithLogProb(key: Key, sampleShape: Shape = []): [Tensor, Tensor] {
    let x = normal(key, [...sampleShape, ...this.batchShape, this.features], { dtype: this.floatDType });
    let lq = stdNormalLogProb(x);
    for (const t of this.transforms) {
      const [y, ladj] = t.forwardAndLadj(x);
      lq = sub(lq, ladj);
      x = y;
    }
    this.cache.set(x, lq);
    return [x, lq];
  }

  override rsample(key: Key, sampleShape: Shape = []): Tensor {
    return this.rsampleWithLogProb(key, sampleShape)[0];
  }

  override logProb(value: TensorLike): Tensor {
    if (typeof value !== 'number') {
      const hit = this.cache.get(value);
      if (hit !== undefined) return hit;
    }
    const v = asTensor(value, this.like);
    if (v.rank === 0 || v.shape[v.rank - 1] !== this.features)
      throw new ShapeError(`FlowDistribution.logProb: value of shape ${fmtShape(v.shape)} must end in ${this.features} features`);
    return this.logProbRaw(v);
  }

  protected logProbRaw(x: Tensor): Tensor {
    let cur = x;
    let acc: Tensor | null = null;
    for (let i = this.transforms.length - 1; i >= 0; i--) {
      const [z, ladj] = this.transforms[i].inverseAndLadj(cur);
      acc = acc === null ? ladj : add(acc, ladj);
      cur = z;
    }
    const base = stdNormalLogProb(cur);
    return acc === null ? base : add(base, acc);
  }

  expand(batchShape: Shape): FlowDistribution {
    checkExpand(this.name, this.batchShape, batchShape);
    return new FlowDistribution(this.transforms, this.features, this.floatDType, batchShape, { validateArgs: this.validateArgs });
  }
}

/**
 * A normalizing flow: layers applied in order to a standard normal base (zuko's `Flow`).
 * Parameters are the array of the layers' parameters; `apply(params, context)` gives the
 * {@link FlowDistribution} (`flow(context)` in zuko). A conditional flow feeds the context
 * [..., c] to every conditioner, and its batch shape is the context's.
 * @example
 * const f = new Flow([splineCoupling(2, { contextFeatures: 3 }), permute(2), splineCoupling(2, { contextFeatures: 3 })]);
 * const p = f.init(key(0), 'float32');
 * const q = f.apply(p, ctx); // ctx [n, 3]: one conditional distribution per row
 * q.logProb(x); // x [n, 2] → [n]
 */
export class Flow {
  /** d, the event size (every layer's `features`). */
  readonly features: number;
  /** c, the size of the context's last axis (0 for an unconditional flow). */
  readonly contextFeatures: number;
  constructor(
    /** The layers, applied in order to the base draw (at least one). */
    readonly layers: readonly FlowLayer[],
  ) {
    if (layers.length === 0) throw new ValueError('Flow: needs at least one layer');
    this.features = layers[0].features;
    const bad = layers.findIndex((l) => l.features !== this.features);
    if (bad >= 0) throw new ShapeError(`Flow: layer ${bad} (${layers[bad].name}) has ${layers[bad].features} features, layer 0 (${layers[0].name}) has ${this.features}`);
    this.contextFeatures = Math.max(...layers.map((l) => l.contextFeatures));
    const mixed = layers.findIndex((l) => l.contextFeatures !== 0 && l.contextFeatures !== this.contextFeatures);
    if (mixed >= 0) throw new ShapeError(`Flow: layer ${mixed} (${layers[mixed].name}) takes a context of ${layers[mixed].contextFeatures} features, others ${this.contextFeatures}`);
  }

  /** Fresh parameters, one entry per layer. */
  init(k: Key, dtype: FloatDType = 'float32'): unknown[] {
    const ks = split(k, this.layers.length);
    return this.layers.map((l, i) => l.init(ks[i], dtype));
  }

  /** The layers bound to their parameters (and the context, for the conditional ones). */
  transforms(params: readonly unknown[], context?: Tensor): FlowTransform[] {
    if (!Array.isArray(params) || params.length !== this.layers.length) throw new ValueError(`Flow: expected ${this.layers.length} layer parameters, got ${Array.isArray(params) ? params.length : typeof params}`);
    if (this.contextFeatures > 0 && context === undefined) throw new ShapeError(`Flow: the flow is conditional; pass a context [..., ${this.contextFeatures}]`);
    if (this.contextFeatures === 0 && context !== undefined) throw new ShapeError(`Flow: got a context of shape ${fmtShape(context.shape)} but no layer takes one`);
    return this.layers.map((l, i) => l.bind(params[i], l.contextFeatures > 0 ? context : undefined));
  }

  /**
   * Training mode (or evaluation mode with `mode` false) for the layers that have one (batch
   * norm: batch statistics in the density direction while training; FFJORD: Hutchinson's trace
   * estimate while training, the exact trace in evaluation). Returns the flow.
   */
  train(mode = true): this {
    for (const l of this.layers) if (hasMode(l)) l.train(mode);
    return this;
  }

  /** Evaluation mode for the layers that have one (batch norm: running statistics; FFJORD: the exact trace). Returns the flow. */
  eval(): this {
    return this.train(false);
  }

  /** Whether any layer keeps statistics that {@link Flow.calibrate} sets (batch norm). */
  get hasStatistics(): boolean {
    return this.layers.some(isBatchNorm);
  }

  /**
   * Sets every batch-norm layer's running statistics to those of its input when the rows of `x`
   * [n, d] run through the flow in the density direction under `params` (MAF's statistics over
   * the training set): layers from the last to the first, each batch-norm layer calibrated on
   * what reaches it and then applied in evaluation mode. Each layer's mode is left as it was.
   * @example f.calibrate(r.params, train); f.eval();
   */
  calibrate(params: readonly unknown[], x: Tensor, context?: Tensor): void {
    tidy(() => {
      const ts = this.transforms(params, context);
      let cur = x;
      for (let i = this.layers.length - 1; i >= 0; i--) {
        const l = this.layers[i];
        if (!isBatchNorm(l)) {
          if (this.layers.slice(0, i).some(isBatchNorm)) cur = ts[i].inverse(cur);
          continue;
        }
        l.calibrate(params[i] as BatchNormParams, cur);
        const was = l.training;
        l.eval();
        try {
          cur = ts[i].inverse(cur);
        } finally {
          l.train(was);
        }
      }
    });
  }

  /** The flow distribution under `params`, conditional on `context` [..., c] when the flow is. */
  apply(params: readonly unknown[], context?: Tensor): FlowDistribution {
    const ts = this.transforms(params, context);
    const dtype = (context?.dtype ?? firstDType(params) ?? 'float32') as FloatDType;
    return new FlowDistribution(ts, this.features, dtype, context === undefined ? [] : context.shape.slice(0, -1));
  }
}

function firstDType(params: readonly unknown[]): string | undefined {
  const stack: unknown[] = [...params];
  while (stack.length > 0) {
    const p = stack.shift();
    if (p !== null && typeof p === 'object') {
      if ('dtype' in p && 'shape' in p) return (p as Tensor).dtype;
      stack.push(...Object.values(p as Record<string, unknown>));
    }
  }
  return undefined;
}
