/**
 * Autoregressive flows on MADE: MAF (Papamakarios, Pavlakou & Murray 2017) and IAF (Kingma et
 * al. 2016), and the machinery the autoregressive spline flow shares. An elementwise transformer
 * y_i = τ(x_i; θ_i) takes its parameters θ_i from a MADE, so θ_i depends on coordinates before i
 * in the order. One direction is one MADE pass; the other is d sequential passes (or, for IAF's
 * sigmoid gate, not provided).
 */
import type { Tensor } from '../core/tensor.js';
import { ValueError } from '../core/errors.js';
import { add } from '../ops/elementwise.js';
import { affineFlow } from '../ops/flow.js';
import { reshape } from '../ops/shape.js';
import { sliceLast } from '../bijectors/transform.js';
import type { Key } from '../random/key.js';
import type { FloatDType } from '../random/samplers.js';
import type { MADEParams } from '../nn/made.js';
import { checkFeatures, conditionerOptions, zeroLastMADE, type ConditionerOptions } from './conditioner.js';
import { checkContext, FlowTransform, NotInvertibleError, type FlowLayer } from './core.js';

/**
 * An elementwise monotone map y = τ(x; θ) with P parameters per coordinate, θ laid out
 * [..., P·d] (parameter row r of coordinate i at r·d + i). `apply` returns y and Σ_i log|dy_i/dx_i|
 * (with `inverse`, x from y and Σ log|dx_i/dy_i|). @internal
 */
export interface ElementwiseTransformer {
  readonly paramsPerInput: number;
  /** Whether the inverse map exists in closed form. */
  readonly invertible: boolean;
  apply(x: Tensor, theta: Tensor, inverse: boolean): [Tensor, Tensor];
}

/** The affine transformer y = x·e^s + shift (θ = [shift, s]) on the fused kernel. @internal */
export const affineTransformer: ElementwiseTransformer = {
  paramsPerInput: 2,
  invertible: true,
  apply(x, theta, inverse) {
    const d = x.shape[x.rank - 1];
    return affineFlow(x, sliceLast(theta, 0, d), sliceLast(theta, d, d), { inverse });
  },
};

/** IAF's gated update y = σ·x + (1 − σ)·m, σ = sigmoid(s + bias) (θ = [m, s]). @internal */
export function sigmoidTransformer(bias: number): ElementwiseTransformer {
  return {
    paramsPerInput: 2,
    invertible: false,
    apply(x, theta) {
      const d = x.shape[x.rank - 1];
      return affineFlow(x, sliceLast(theta, 0, d), add(sliceLast(theta, d, d), bias), { gate: 'sigmoid' });
    },
  };
}

/**
 * y = τ(x; θ(·)) with θ from an autoregressive network. `cheap` says which direction is one pass:
 * 'forward' (IAF: θ = net(x)), or 'inverse' (MAF: θ = net(y), so the forward map runs d passes).
 */
class AutoregressiveTransform extends FlowTransform {
  constructor(
    name: string,
    d: number,
    private readonly net: (h: Tensor) => Tensor,
    private readonly tau: ElementwiseTransformer,
    private readonly cheap: 'forward' | 'inverse',
  ) {
    super(name, d);
  }
  protected callForward(x: Tensor): [Tensor, Tensor] {
    if (this.cheap === 'forward') return this.tau.apply(x, this.net(x), false);
    // Pass k fixes the k-th coordinate in the order; the last pass's θ sees only final values.
    let out: [Tensor, Tensor] = this.tau.apply(x, this.net(x), false);
    for (let k = 1; k < this.features; k++) out = this.tau.apply(x, this.net(out[0]), false);
    return out;
  }
  protected callInverse(y: Tensor): [Tensor, Tensor] {
    if (this.cheap === 'inverse') return this.tau.apply(y, this.net(y), true);
    if (!this.tau.invertible)
      throw new NotInvertibleError(`${this.name}: the inverse is not available (the gated update has no closed-form inverse); ${this.name} is cheap in the forward (sampling) direction: score its own draws with FlowDistribution.rsampleWithLogProb`);
    let out: [Tensor, Tensor] = this.tau.apply(y, this.net(y), true);
    for (let k = 1; k < this.features; k++) out = this.tau.apply(y, this.net(out[0]), true);
    return out;
  }
}

/** Options of {@link maf}, {@link iaf} and the autoregressive spline. */
export interface AutoregressiveOptions extends ConditionerOptions {
  /** The autoregressive order (a permutation of 0..d−1, MADE's); default 0, 1, …, d−1. */
  order?: readonly number[];
  /**
   * A residual MADE conditioner with this many residual blocks (Durkan et al. 2019's ResMADE):
   * `hidden` is then one width (default [64]). Default 0: a plain MADE.
   */
  residualBlocks?: number;
}

/** An autoregressive layer from a transformer: the shared builder of MAF, IAF and the AR spline. @internal */
export function autoregressiveLayer(layer: string, d: number, opts: AutoregressiveOptions, tau: ElementwiseTransformer, cheap: 'forward' | 'inverse'): FlowLayer<MADEParams> {
  checkFeatures(layer, d);
  const residualBlocks = opts.residualBlocks ?? 0;
  const { hidden, activation, contextFeatures } = conditionerOptions(layer, residualBlocks > 0 && opts.hidden === undefined ? { ...opts, hidden: [64] } : opts);
  if (hidden.length === 0 && contextFeatures > 0) throw new ValueError(`${layer}: a context needs at least one hidden layer`);
  if (!Number.isInteger(residualBlocks) || residualBlocks < 0) throw new ValueError(`${layer}: residualBlocks must be a non-negative integer, got ${residualBlocks}`);
  if (residualBlocks > 0 && hidden.length !== 1) throw new ValueError(`${layer}: a residual MADE (residualBlocks ${residualBlocks}) takes one hidden width, got hidden [${hidden.join(', ')}]`);
  const net = zeroLastMADE(d, hidden, tau.paramsPerInput, { activation, contextFeatures, order: opts.order, residualBlocks });
  const width = tau.paramsPerInput * d;
  return {
    name: layer,
    features: d,
    contextFeatures,
    init: (k: Key, dtype: FloatDType): MADEParams => net.init(k, dtype),
    bind(p: MADEParams, context?: Tensor): FlowTransform {
      checkContext(layer, contextFeatures, context);
      const apply = (h: Tensor): Tensor => {
        const o = net.made.apply(p, h, context === undefined ? {} : { context });
        return reshape(o, [...h.shape.slice(0, -1), width]);
      };
      return new AutoregressiveTransform(layer, d, apply, tau, cheap);
    },
  };
}

/**
 * A masked autoregressive flow layer (MAF): x = z·e^{s} + shift with (shift, s) = MADE(x)
 * (θ_i from x_{<i}), read as the map z → x of a flow distribution. Density direction (x → z,
 * `inverse`) is one MADE pass: z = (x − shift)·e^{−s}, log|det ∂z/∂x| = −Σ s; sampling
 * (`forward`) takes d sequential passes. On the fused `affineFlow` kernel.
 * Shapes: [..., d] → [..., d], ladj [...]. Put a {@link permute} (or a reversed `order`) between layers.
 * @example
 * const layer = maf(5, { hidden: [64, 64] });
 * const t = layer.bind(layer.init(key(0), 'float32'));
 * const [z, ladj] = t.inverseAndLadj(x); // density direction, one pass
 */
export function maf(features: number, opts: AutoregressiveOptions = {}): FlowLayer<MADEParams> {
  return autoregressiveLayer('maf', features, opts, affineTransformer, 'inverse');
}

/** Options of {@link iaf}. */
export interface IAFOptions extends AutoregressiveOptions {
  /** 'sigmoid' (Kingma et al.'s eq. 14, the default) or 'exp' (y = x·e^s + shift, invertible by d passes). */
  gate?: 'sigmoid' | 'exp';
  /** Added to s before the sigmoid so the gate starts near 1 (σ(2) ≈ 0.88, Pyro's value); default 2. */
  gateBias?: number;
}

/**
 * An inverse autoregressive flow layer (IAF): (m, s) = MADE(z) (θ_i from z_{<i}) and, with the
 * sigmoid gate, x = σ·z + (1 − σ)·m, σ = sigmoid(s + gateBias), log|det ∂x/∂z| = Σ log σ
 * (the stable update of Kingma et al. 2016); with gate 'exp', x = z·e^s + m. Sampling (`forward`)
 * is one MADE pass and gives the log-determinant in the same pass, so a flow distribution scores
 * its own draws; `inverse` throws a NotInvertibleError naming the layer for the sigmoid gate and
 * takes d passes for 'exp'. Shapes: [..., d] → [..., d], ladj [...].
 * @example
 * const layer = iaf(10, { hidden: [40] });
 * const [x, ladj] = layer.bind(layer.init(key(0), 'float64')).forwardAndLadj(z);
 */
export function iaf(features: number, opts: IAFOptions = {}): FlowLayer<MADEParams> {
  const gate = opts.gate ?? 'sigmoid';
  if (gate !== 'sigmoid' && gate !== 'exp') throw new ValueError(`iaf: gate must be 'sigmoid' or 'exp', got ${String(gate)}`);
  const tau = gate === 'sigmoid' ? sigmoidTransformer(opts.gateBias ?? 2) : affineTransformer;
  return autoregressiveLayer('iaf', features, opts, tau, 'forward');
}
