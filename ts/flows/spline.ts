/**
 * Neural spline flows (Durkan, Bekasov, Murray & Papamakarios 2019): monotonic rational-quadratic
 * splines with K bins on [−B, B] and identity (linear) tails outside, on the fused `rqSpline`
 * kernel, with parameters from a coupling MLP or from a MADE.
 */
import type { Tensor } from '../core/tensor.js';
import { ValueError } from '../core/errors.js';
import { add } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { concat, gather, reshape, transpose } from '../ops/shape.js';
import { rqSpline } from '../ops/spline.js';
import { indicesLike, sliceLast } from '../bijectors/transform.js';
import type { Key } from '../random/key.js';
import type { FloatDType } from '../random/samplers.js';
import type { LinearParams } from '../nn/linear.js';
import type { MADEParams } from '../nn/made.js';
import { autoregressiveLayer, type AutoregressiveOptions, type ElementwiseTransformer } from './autoregressive.js';
import { checkFeatures, conditionerOptions, zeroLastMLP, type ConditionerOptions } from './conditioner.js';
import { checkContext, FlowTransform, withContext, type FlowLayer } from './core.js';

/** Options of the spline layers. */
export interface SplineOptions {
  /** Number of bins K; default 8. */
  bins?: number;
  /** The spline acts on [−bound, bound], identity outside; default 3. */
  bound?: number;
}

// Raw derivative offset: 1e-3 + softplus(0.5405…) = 1, so a zero conditioner output is the identity.
const DERIV_OFFSET = Math.log(Math.expm1(1 - 1e-3));

function checkSpline(layer: string, o: SplineOptions): { bins: number; bound: number } {
  const bins = o.bins ?? 8;
  const bound = o.bound ?? 3;
  if (!Number.isInteger(bins) || bins < 2) throw new ValueError(`${layer}: bins must be an integer ≥ 2, got ${bins}`);
  if (!(bound > 0) || !Number.isFinite(bound)) throw new ValueError(`${layer}: bound must be a positive finite number, got ${bound}`);
  return { bins, bound };
}

/** The rational-quadratic transformer: θ rows are K widths, K heights, K − 1 derivatives. @internal */
export function splineTransformer(bins: number, bound: number): ElementwiseTransformer {
  const P = 3 * bins - 1;
  return {
    paramsPerInput: P,
    invertible: true,
    apply(x, theta, inverse) {
      const d = x.shape[x.rank - 1];
      const r = theta.rank;
      // [..., P·d] → [..., P, d] → [..., d, P]: the kernel wants per-coordinate parameter rows.
      const perm = [...Array.from({ length: r - 1 }, (_, i) => i), r, r - 1];
      const t = transpose(reshape(theta, [...theta.shape.slice(0, -1), P, d]), perm);
      const w = sliceLast(t, 0, bins);
      const h = sliceLast(t, bins, bins);
      const dv = add(sliceLast(t, 2 * bins, bins - 1), DERIV_OFFSET);
      const [y, ld] = rqSpline(x, w, h, dv, { bound, inverse });
      return [y, sum(ld, -1)];
    },
  };
}

class SplineCouplingTransform extends FlowTransform {
  constructor(
    d: number,
    private readonly cond: readonly number[],
    private readonly trans: readonly number[],
    private readonly back: readonly number[],
    private readonly net: (h: Tensor) => Tensor,
    private readonly tau: ElementwiseTransformer,
    private readonly context: Tensor | undefined,
  ) {
    super('splineCoupling', d);
  }
  private run(x: Tensor, inverse: boolean): [Tensor, Tensor] {
    const a = gather(x, indicesLike(this.cond, x), -1);
    const b = gather(x, indicesLike(this.trans, x), -1);
    const [yb, ladj] = this.tau.apply(b, this.net(withContext(a, this.context)), inverse);
    return [gather(concat([a, yb], -1), indicesLike(this.back, x), -1), ladj];
  }
  protected callForward(x: Tensor): [Tensor, Tensor] {
    return this.run(x, false);
  }
  protected callInverse(y: Tensor): [Tensor, Tensor] {
    return this.run(y, true);
  }
}

/** Options of {@link splineCoupling}. */
export interface SplineCouplingOptions extends ConditionerOptions, SplineOptions {
  /** Length d, 1 = transformed, 0 = conditioning; default the first ⌊d/2⌋ condition. */
  mask?: readonly number[];
}

/**
 * A rational-quadratic spline coupling layer (NSF-C): the coordinates with mask 0 (and the
 * context) feed an MLP giving each masked-1 coordinate its K widths, K heights and K − 1 interior
 * derivatives; y_i = RQS(x_i) on [−B, B], identity outside; log|det J| = Σ log RQS'(x_i).
 * Inverse in one pass (the kernel's closed-form root). A zero network output is the identity.
 * Shapes: x [..., d] → y [..., d], ladj [...].
 * @example
 * const layer = splineCoupling(4, { bins: 8, bound: 3, hidden: [64, 64] });
 * const [y, ladj] = layer.bind(layer.init(key(0), 'float32')).forwardAndLadj(x);
 */
export function splineCoupling(features: number, opts: SplineCouplingOptions = {}): FlowLayer<LinearParams[]> {
  const layer = 'splineCoupling';
  checkFeatures(layer, features, 2);
  const { bins, bound } = checkSpline(layer, opts);
  const { hidden, activation, contextFeatures } = conditionerOptions(layer, opts);
  const mask = opts.mask ?? Array.from({ length: features }, (_, i) => (i < Math.floor(features / 2) ? 0 : 1));
  if (mask.length !== features || mask.some((m) => m !== 0 && m !== 1)) throw new ValueError(`${layer}: mask must be ${features} zeros and ones, got [${mask.join(', ')}]`);
  const cond = mask.flatMap((m, i) => (m === 0 ? [i] : []));
  const trans = mask.flatMap((m, i) => (m === 1 ? [i] : []));
  if (cond.length === 0 || trans.length === 0) throw new ValueError(`${layer}: mask [${mask.join(', ')}] must hold both zeros (conditioning) and ones (transformed)`);
  const order = [...cond, ...trans];
  const back = new Array<number>(features);
  order.forEach((v, i) => (back[v] = i));
  const tau = splineTransformer(bins, bound);
  const net = zeroLastMLP([cond.length + contextFeatures, ...hidden, tau.paramsPerInput * trans.length], activation);
  return {
    name: layer,
    features,
    contextFeatures,
    init: (k: Key, dtype: FloatDType) => net.init(k, dtype),
    bind(p: LinearParams[], context?: Tensor): FlowTransform {
      checkContext(layer, contextFeatures, context);
      return new SplineCouplingTransform(features, cond, trans, back, (h) => net.apply(p, h), tau, context);
    },
  };
}

/** Options of {@link splineAutoregressive}. */
export interface SplineAutoregressiveOptions extends AutoregressiveOptions, SplineOptions {
  /**
   * The direction that is one MADE pass: 'inverse' (MAF-style, θ from x: density evaluation is
   * cheap; the default) or 'forward' (IAF-style, θ from z: sampling with its density is cheap,
   * as a guide wants). The other direction takes d passes.
   */
  cheap?: 'inverse' | 'forward';
}

/**
 * A rational-quadratic autoregressive spline layer (NSF-AR): spline parameters of coordinate i
 * from a MADE over the coordinates before it. Shapes: [..., d] → [..., d], ladj [...].
 * @example
 * const layer = splineAutoregressive(5, { bins: 8, hidden: [64, 64] });
 * const [z, ladj] = layer.bind(layer.init(key(0), 'float32')).inverseAndLadj(x); // one pass
 */
export function splineAutoregressive(features: number, opts: SplineAutoregressiveOptions = {}): FlowLayer<MADEParams> {
  const layer = 'splineAutoregressive';
  const { bins, bound } = checkSpline(layer, opts);
  const cheap = opts.cheap ?? 'inverse';
  if (cheap !== 'inverse' && cheap !== 'forward') throw new ValueError(`${layer}: cheap must be 'inverse' or 'forward', got ${String(cheap)}`);
  return autoregressiveLayer(layer, features, opts, splineTransformer(bins, bound), cheap);
}
