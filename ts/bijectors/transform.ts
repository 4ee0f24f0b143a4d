/**
 * The Transform (bijector) interface, in the shape of NumPyro's `Transform` and TFP's `Bijector`,
 * and the helpers every transform shares.
 *
 * Shapes: a transform acts on the rightmost `domainEventDim` axes of its input as one event and
 * maps every leading (batch) axis independently. `logAbsDetJacobian(x, y)` returns
 * log|det ∂y/∂x| summed over those event axes, so its shape is the input's batch shape
 * `x.shape.slice(0, x.rank - domainEventDim)`.
 */
import { allocArray, type DType } from '../core/dtype.js';
import { ENGINE } from '../core/engine.js';
import { ShapeError, fmtShape } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import type { Constraint } from '../distributions/constraints.js';
import { neg } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { pad, slice } from '../ops/shape.js';

/**
 * An invertible, differentiable map y = f(x) from `domain` onto `codomain`.
 *
 * Contract, for an input x of shape `batch + inEvent` (with `inEvent.length === domainEventDim`):
 * - `forward(x)` has shape `forwardShape(x.shape)` = `batch + outEvent`;
 * - `inverse(y)` has shape `inverseShape(y.shape)`;
 * - `logAbsDetJacobian(x, y)` = log|det ∂y/∂x| over the event, shape `batch`. For a transform
 *   that changes dimension (stick-breaking, Cholesky factors), the determinant is taken on the
 *   output's free coordinates (documented on each transform).
 *
 * @example
 * const t = new ExpTransform();
 * const y = t.forward(x);                 // eˣ
 * const ld = t.logAbsDetJacobian(x, y);   // x
 * t.inverse(y);                           // ≈ x
 */
export abstract class Transform {
  /** The transform's name in messages. */
  abstract get name(): string;
  /** The set the inputs live in. */
  abstract get domain(): Constraint;
  /** The set the outputs land in. */
  abstract get codomain(): Constraint;

  /** How many trailing input axes form one event (0 for elementwise maps). */
  get domainEventDim(): number {
    return this.domain.eventDim;
  }

  /** How many trailing output axes form one event. */
  get codomainEventDim(): number {
    return this.codomain.eventDim;
  }

  /** y = f(x). */
  abstract forward(x: Tensor): Tensor;

  /** x = f⁻¹(y). */
  abstract inverse(y: Tensor): Tensor;

  /**
   * log|det ∂y/∂x| summed over the event axes, with the input's batch shape. `y` must be
   * `forward(x)` when given (saves recomputing it).
   */
  logAbsDetJacobian(x: Tensor, y?: Tensor): Tensor {
    return this.ladj(x, y ?? this.forward(x));
  }

  /** @internal the log-det with `y = forward(x)` supplied. */
  protected abstract ladj(x: Tensor, y: Tensor): Tensor;

  /** The output shape for an input of `shape` (identity unless the transform changes shape). */
  forwardShape(shape: Shape): number[] {
    return shape.slice();
  }

  /** The input shape for an output of `shape`. */
  inverseShape(shape: Shape): number[] {
    return shape.slice();
  }

  /** The inverse transform, f⁻¹. */
  get inv(): Transform {
    return new InverseTransform(this);
  }

  /** The name. */
  toString(): string {
    return this.name;
  }
}

/**
 * f⁻¹ as a transform: forward and inverse swapped, domain and codomain swapped, and
 * log|det ∂x/∂y| = −log|det ∂y/∂x| evaluated at x = f⁻¹(y).
 *
 * Shapes: as `base` read backwards (input `base.codomainEventDim` event axes, output
 * `base.domainEventDim`).
 * @example new InverseTransform(new ExpTransform()).forward(y) // log y
 */
export class InverseTransform extends Transform {
  constructor(
    /** The transform f being inverted. */
    readonly base: Transform,
  ) {
    super();
  }
  get name(): string {
    return `inverse(${this.base.name})`;
  }
  get domain(): Constraint {
    return this.base.codomain;
  }
  get codomain(): Constraint {
    return this.base.domain;
  }
  override get domainEventDim(): number {
    return this.base.codomainEventDim;
  }
  override get codomainEventDim(): number {
    return this.base.domainEventDim;
  }
  forward(x: Tensor): Tensor {
    return this.base.inverse(x);
  }
  inverse(y: Tensor): Tensor {
    return this.base.forward(y);
  }
  protected ladj(x: Tensor, y: Tensor): Tensor {
    return neg(this.base.logAbsDetJacobian(y, x));
  }
  override forwardShape(shape: Shape): number[] {
    return this.base.inverseShape(shape);
  }
  override inverseShape(shape: Shape): number[] {
    return this.base.forwardShape(shape);
  }
  override get inv(): Transform {
    return this.base;
  }
}

/**
 * The inverse of a transform, f⁻¹ (see {@link InverseTransform}); `inverse(inverse(t))` is `t`.
 * @example inverse(new SigmoidTransform()).forward(p) // logit p
 */
export function inverse(t: Transform): Transform {
  return t.inv;
}

// ---- helpers shared by the transforms (internal) ----

/** Σ over the rightmost `n` axes (n = 0: x itself). @internal */
export function sumRightmost(x: Tensor, n: number): Tensor {
  if (n <= 0) return x;
  if (n > x.rank) throw new ShapeError(`sumRightmost: cannot sum ${n} axes of a tensor of shape ${fmtShape(x.shape)}`);
  return sum(x, Array.from({ length: n }, (_, i) => x.rank - n + i));
}

/** Throws a ShapeError naming the transform if `x` has fewer than `k` axes. @internal */
export function needRank(name: string, x: Tensor, k: number, what = 'input'): void {
  if (x.rank < k) throw new ShapeError(`${name}: ${what} must have at least ${k} axes, got shape ${fmtShape(x.shape)}`);
}

/** The last-axis block `[start, start + len)` of x. @internal */
export function sliceLast(x: Tensor, start: number, len: number): Tensor {
  const r = x.rank;
  return slice(
    x,
    x.shape.map((_, i) => (i === r - 1 ? start : 0)),
    x.shape.map((d, i) => (i === r - 1 ? len : d)),
  );
}

/** x padded along the last axis with `before` and `after` entries equal to `value`. @internal */
export function padLast(x: Tensor, before: number, after: number, value = 0): Tensor {
  const r = x.rank;
  return pad(
    x,
    x.shape.map((_, i) => (i === r - 1 ? before : 0)),
    x.shape.map((_, i) => (i === r - 1 ? after : 0)),
    value,
  );
}

/** A constant tensor from `values` with the dtype and device of `like`. @internal */
export function constLike(values: readonly number[], shape: Shape, like: Tensor): Tensor {
  const a = allocArray(like.dtype, values.length);
  for (let i = 0; i < values.length; i++) a[i] = values[i];
  return ENGINE.fromArray(a, shape.slice(), like.backend);
}

/** An int32 index vector on the device of `like`. @internal */
export function indicesLike(values: readonly number[], like: Tensor): Tensor {
  return ENGINE.fromArray(Int32Array.from(values), [values.length], like.backend);
}

/** The smallest positive normal number and 1 − ε/2 (the largest value below 1) of a dtype. @internal */
export function unitBounds(dtype: DType): { tiny: number; oneMinus: number } {
  return dtype === 'float32' ? { tiny: 1.1754943508222875e-38, oneMinus: 1 - 2 ** -24 } : { tiny: 2.2250738585072014e-308, oneMinus: 1 - 2 ** -53 };
}

export { independentConstraint } from '../distributions/constraints.js';
