/**
 * The shared shape of every flow layer, after zuko's `call_and_ladj`: a layer computes its output
 * and log|det J| in one pass. A `FlowLayer` is a functional module (`init(key, dtype)` makes its
 * parameters as a pytree); `bind(params, context)` makes the `FlowTransform` those parameters define.
 */
import { ShapeError, VarinfError, fmtShape } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { realVector, type Constraint } from '../distributions/constraints.js';
import { Transform } from '../bijectors/transform.js';
import { neg } from '../ops/elementwise.js';
import { zerosLike } from '../ops/creation.js';
import { sum } from '../ops/reduce.js';
import { broadcastTo, concat } from '../ops/shape.js';
import type { Key } from '../random/key.js';
import type { FloatDType } from '../random/samplers.js';

/**
 * A flow layer asked for the direction it does not compute in closed form (IAF's inverse, a
 * planar layer's inverse). The message names the layer and the direction that is cheap.
 * @example try { iaf.inverse(y) } catch (e) { e instanceof NotInvertibleError } // true
 */
export class NotInvertibleError extends VarinfError {}

/**
 * A bijection of ℝ^d (event rank 1) whose forward and inverse return log|det J| with the value.
 *
 * Shapes: x [..., d] → y [..., d] and ladj [...]. `forwardAndLadj` gives log|det ∂y/∂x|,
 * `inverseAndLadj` gives x and log|det ∂x/∂y| (= −log|det ∂y/∂x| at that x).
 * The last forward and inverse calls are remembered (by tensor identity), so
 * `logAbsDetJacobian(x, y)` after either costs nothing: `TransformedDistribution` works unchanged.
 * @example
 * const t = layer.bind(params);
 * const [y, ladj] = t.forwardAndLadj(x); // x [n, d] → y [n, d], ladj [n]
 * const [x2, ladjInv] = t.inverseAndLadj(y); // x2 ≈ x, ladjInv ≈ −ladj
 */
export abstract class FlowTransform extends Transform {
  private lastF: { x: Tensor; y: Tensor; ladj: Tensor } | null = null;
  private lastI: { x: Tensor; y: Tensor; ladj: Tensor } | null = null;

  constructor(
    /** The name of the layer that made it (e.g. 'planar'), which is also the transform's `name`. */
    readonly layerName: string,
    /** d, the number of coordinates (the last axis of x and y). */
    readonly features: number,
  ) {
    super();
  }
  get name(): string {
    return this.layerName;
  }
  get domain(): Constraint {
    return realVector;
  }
  get codomain(): Constraint {
    return realVector;
  }

  /** y = f(x) and log|det ∂y/∂x|, x [..., d] → ([..., d], [...]). */
  forwardAndLadj(x: Tensor): [Tensor, Tensor] {
    this.checkInput('input', x);
    const [y, ladj] = this.callForward(x);
    this.lastF = { x, y, ladj };
    return [y, ladj];
  }

  /** x = f⁻¹(y) and log|det ∂x/∂y|, y [..., d] → ([..., d], [...]). */
  inverseAndLadj(y: Tensor): [Tensor, Tensor] {
    this.checkInput('inverse input', y);
    const [x, ladj] = this.callInverse(y);
    this.lastI = { x, y, ladj };
    return [x, ladj];
  }

  /** @internal the forward pass with its log-determinant. */
  protected abstract callForward(x: Tensor): [Tensor, Tensor];

  /** @internal the inverse pass with its log-determinant; layers without one throw. */
  protected abstract callInverse(y: Tensor): [Tensor, Tensor];

  forward(x: Tensor): Tensor {
    return this.forwardAndLadj(x)[0];
  }
  inverse(y: Tensor): Tensor {
    return this.inverseAndLadj(y)[0];
  }
  protected ladj(x: Tensor, y: Tensor): Tensor {
    if (this.lastF !== null && this.lastF.x === x && this.lastF.y === y) return this.lastF.ladj;
    if (this.lastI !== null && this.lastI.x === x && this.lastI.y === y) return neg(this.lastI.ladj);
    return this.forwardAndLadj(x)[1];
  }

  private checkInput(what: string, x: Tensor): void {
    if (x.rank === 0 || x.shape[x.rank - 1] !== this.features)
      throw new ShapeError(`${this.layerName}: ${what} of shape ${fmtShape(x.shape)} must end in ${this.features} features`);
  }
}

/**
 * A flow layer: a functional module whose parameters define a {@link FlowTransform}.
 * `bind(params, context)` gives the transform; a conditional layer feeds `context` [..., c] to
 * its conditioner (its batch axes broadcast with the input's).
 * @example
 * const layer = affineCoupling(4, { hidden: [32] });
 * const t = layer.bind(layer.init(key(0), 'float64'));
 */
export interface FlowLayer<P = unknown> {
  /** The layer's name in messages. */
  readonly name: string;
  /** Input and output width d. */
  readonly features: number;
  /** Width of the context the conditioner takes (0: unconditional). */
  readonly contextFeatures: number;
  /** Fresh parameters (a pytree of tensors) drawn with key `k`. */
  init(k: Key, dtype: FloatDType): P;
  /** The transform those parameters define, given the context when the layer is conditional. */
  bind(params: P, context?: Tensor): FlowTransform;
}

/**
 * A flow layer with a training and an evaluation mode (batch norm: batch or running statistics;
 * FFJORD: Hutchinson's or the exact trace). `Flow.train()` / `Flow.eval()` switch every such layer.
 */
export interface ModalFlowLayer<P = unknown> extends FlowLayer<P> {
  /** Whether the layer is in training mode. */
  readonly training: boolean;
  /** Training mode (evaluation mode with `mode` false). */
  train(mode?: boolean): unknown;
  /** Evaluation mode. */
  eval(): unknown;
}

/**
 * @internal The `train`/`eval` pair of a modal layer over its mutable `state`, returning the layer
 * (`self`) so calls chain: `layer.eval()`.
 */
export function modeSwitch<L>(state: { training: boolean }, self: () => L): { train(mode?: boolean): L; eval(): L } {
  return {
    train(mode = true) {
      state.training = mode;
      return self();
    },
    eval() {
      state.training = false;
      return self();
    },
  };
}

/** Whether a layer has a training/evaluation mode. @internal */
export function hasMode(l: FlowLayer): l is ModalFlowLayer {
  const m = l as Partial<ModalFlowLayer>;
  return typeof m.train === 'function' && typeof m.eval === 'function';
}

/** Checks a layer's context argument against its context width. @internal */
export function checkContext(layer: string, contextFeatures: number, context: Tensor | undefined): void {
  if (contextFeatures === 0 && context !== undefined) throw new ShapeError(`${layer}: got a context of shape ${fmtShape(context.shape)} but the layer is unconditional (contextFeatures 0)`);
  if (contextFeatures > 0) {
    if (context === undefined) throw new ShapeError(`${layer}: the layer is conditional; pass a context [..., ${contextFeatures}]`);
    if (context.rank === 0 || context.shape[context.rank - 1] !== contextFeatures)
      throw new ShapeError(`${layer}: context of shape ${fmtShape(context.shape)} must end in ${contextFeatures} features`);
  }
}

/** h [..., k] with the context broadcast to its batch axes and appended on the last axis. @internal */
export function withContext(h: Tensor, context: Tensor | undefined): Tensor {
  if (context === undefined) return h;
  const lead = h.shape.slice(0, -1);
  const c = context.shape[context.rank - 1];
  let ctx = context;
  if (ctx.shape.slice(0, -1).join() !== lead.join()) {
    try {
      ctx = broadcastTo(ctx, [...lead, c]);
    } catch {
      throw new ShapeError(`flow conditioner: context of shape ${fmtShape(context.shape)} does not broadcast with the input's batch ${fmtShape(lead)}`);
    }
  }
  return concat([h, ctx], h.rank - 1);
}

/** A zero log-determinant with the batch shape of x [..., d] (volume-preserving layers). @internal */
export function zeroLadj(x: Tensor): Tensor {
  return sum(zerosLike(x), -1);
}
