/**
 * Coupling layers: NICE's additive coupling (Dinh, Krueger & Bengio 2015) and RealNVP's affine
 * coupling (Dinh, Sohl-Dickstein & Bengio 2017), with a binary mask, and the fixed permutations
 * placed between them. One half of the coordinates (mask 0) passes through and conditions the
 * other half (mask 1), so forward and inverse both cost one conditioner pass.
 */
import { ValueError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { gather } from '../ops/shape.js';
import { mul, tanh } from '../ops/elementwise.js';
import { affineFlow } from '../ops/flow.js';
import { indicesLike, sliceLast } from '../bijectors/transform.js';
import type { Key } from '../random/key.js';
import type { FloatDType } from '../random/samplers.js';
import type { LinearParams } from '../nn/linear.js';
import { checkFeatures, conditionerOptions, zeroLastMLP, type ConditionerOptions } from './conditioner.js';
import { checkContext, FlowTransform, withContext, zeroLadj, type FlowLayer } from './core.js';

/** Options of {@link affineCoupling} and {@link additiveCoupling}. */
export interface CouplingOptions extends ConditionerOptions {
  /**
   * Length d: 1 marks a transformed coordinate, 0 one that passes through and conditions the
   * others. Default: the first ⌊d/2⌋ condition the rest. Both kinds must be present.
   */
  mask?: readonly number[];
  /**
   * Soft bound on the log-scale, s ↦ B·tanh(s/B), which keeps e^s finite early in training;
   * default none (the raw conditioner output).
   */
  scaleBound?: number;
}

/** The half-and-half mask [0…0, 1…1] of width d. */
function defaultMask(d: number): number[] {
  return Array.from({ length: d }, (_, i) => (i < Math.floor(d / 2) ? 0 : 1));
}

function checkMask(layer: string, d: number, mask: readonly number[]): number[] {
  if (mask.length !== d || mask.some((m) => m !== 0 && m !== 1)) throw new ValueError(`${layer}: mask must be ${d} zeros and ones, got [${mask.join(', ')}]`);
  const a = mask.flatMap((m, i) => (m === 0 ? [i] : []));
  if (a.length === 0 || a.length === d) throw new ValueError(`${layer}: mask [${mask.join(', ')}] must hold both zeros (conditioning) and ones (transformed)`);
  return a;
}

class CouplingTransform extends FlowTransform {
  constructor(
    name: string,
    d: number,
    private readonly mask: readonly number[],
    private readonly cond: readonly number[],
    private readonly net: (h: Tensor) => Tensor,
    private readonly affine: boolean,
    private readonly bound: number | undefined,
    private readonly context: Tensor | undefined,
  ) {
    super(name, d);
  }
  private params(x: Tensor): [Tensor, Tensor | number] {
    // The conditioning coordinates are the same in x and y, so both directions see the same input.
    const h = this.net(withContext(gather(x, indicesLike(this.cond, x), -1), this.context));
    const shift = sliceLast(h, 0, this.features);
    if (!this.affine) return [shift, 0];
    let s = sliceLast(h, this.features, this.features);
    if (this.bound !== undefined) s = mul(tanh(mul(s, 1 / this.bound)), this.bound);
    return [shift, s];
  }
  protected callForward(x: Tensor): [Tensor, Tensor] {
    const [shift, s] = this.params(x);
    // NICE passes s = 0, so the kernel's log-determinant is its 0.
    return affineFlow(x, shift, s, { mask: this.mask });
  }
  protected callInverse(y: Tensor): [Tensor, Tensor] {
    const [shift, s] = this.params(y);
    return affineFlow(y, shift, s, { mask: this.mask, inverse: true });
  }
}

function coupling(layer: string, d: number, opts: CouplingOptions, affine: boolean): FlowLayer<LinearParams[]> {
  checkFeatures(layer, d, 2);
  const { hidden, activation, contextFeatures } = conditionerOptions(layer, opts);
  const mask = opts.mask ?? defaultMask(d);
  const cond = checkMask(layer, d, mask);
  if (opts.scaleBound !== undefined && !(opts.scaleBound > 0)) throw new ValueError(`${layer}: scaleBound must be positive, got ${opts.scaleBound}`);
  const net = zeroLastMLP([cond.length + contextFeatures, ...hidden, (affine ? 2 : 1) * d], activation);
  return {
    name: layer,
    features: d,
    contextFeatures,
    init: (k: Key, dtype: FloatDType) => net.init(k, dtype),
    bind(p: LinearParams[], context?: Tensor): FlowTransform {
      checkContext(layer, contextFeatures, context);
      return new CouplingTransform(layer, d, mask, cond, (h) => net.apply(p, h), affine, opts.scaleBound, context);
    },
  };
}

/**
 * RealNVP's affine coupling: with mask m (1 = transformed), (shift, s) = NN(x_{m=0}, context) and
 * y = x ⊙ e^s + shift on the masked coordinates, y = x elsewhere; log|det J| = Σ_{m=1} s.
 * The inverse is x = (y − shift) ⊙ e^−s with the same conditioner pass. Runs on the fused
 * `affineFlow` kernel with its mask. Shapes: x [..., d] → y [..., d], ladj [...].
 * Alternate the mask (or put a {@link permute} between layers) so every coordinate is transformed.
 * @example
 * const layer = affineCoupling(4, { hidden: [32, 32], mask: [1, 1, 0, 0] });
 * const t = layer.bind(layer.init(key(0), 'float32'));
 * const [y, ladj] = t.forwardAndLadj(x); // x [n, 4] → y [n, 4], ladj [n]
 */
export function affineCoupling(features: number, opts: CouplingOptions = {}): FlowLayer<LinearParams[]> {
  return coupling('affineCoupling', features, opts, true);
}

/**
 * NICE's additive coupling: y = x + shift(x_{m=0}, context) on the masked coordinates; volume
 * preserving (log|det J| = 0). Shapes as {@link affineCoupling}.
 * @example
 * const layer = additiveCoupling(4);
 * const [y, ladj] = layer.bind(layer.init(key(0), 'float64')).forwardAndLadj(x); // ladj = 0
 */
export function additiveCoupling(features: number, opts: CouplingOptions = {}): FlowLayer<LinearParams[]> {
  return coupling('additiveCoupling', features, opts, false);
}

/** Parameters of a layer that has none. */
export type NoFlowParams = Record<string, never>;

class PermutationTransform extends FlowTransform {
  constructor(
    d: number,
    private readonly perm: readonly number[],
    private readonly invPerm: readonly number[],
  ) {
    super('permute', d);
  }
  protected callForward(x: Tensor): [Tensor, Tensor] {
    return [gather(x, indicesLike(this.perm, x), -1), zeroLadj(x)];
  }
  protected callInverse(y: Tensor): [Tensor, Tensor] {
    return [gather(y, indicesLike(this.invPerm, y), -1), zeroLadj(y)];
  }
}

/**
 * A fixed permutation of the coordinates, y_i = x_{perm[i]}, log|det J| = 0. Default: the
 * reversal d−1, …, 0 (MAF's and RealNVP's choice between layers).
 * @example
 * const p = permute(3, [2, 0, 1]);
 * p.bind({}).forward(tensor([[1, 2, 3]])) // [[3, 1, 2]]
 */
export function permute(features: number, perm?: readonly number[]): FlowLayer<NoFlowParams> {
  checkFeatures('permute', features);
  const p = perm ?? Array.from({ length: features }, (_, i) => features - 1 - i);
  if (p.length !== features || new Set(p).size !== features || p.some((v) => !Number.isInteger(v) || v < 0 || v >= features))
    throw new ValueError(`permute: perm must be a permutation of 0..${features - 1}, got [${p.join(', ')}]`);
  const inv = new Array<number>(features);
  p.forEach((v, i) => (inv[v] = i));
  return {
    name: 'permute',
    features,
    contextFeatures: 0,
    init: () => ({}),
    bind: () => new PermutationTransform(features, p, inv),
  };
}
