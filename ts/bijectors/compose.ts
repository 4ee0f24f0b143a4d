/**
 * Combinators: composition of transforms with event-dimension bookkeeping, and `independent`,
 * which reads batch axes as event axes.
 */
import { ValueError } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { real, type Constraint } from '../distributions/constraints.js';
import { add } from '../ops/elementwise.js';
import { IdentityTransform } from './elementwise.js';
import { Transform, independentConstraint, sumRightmost } from './transform.js';

/**
 * The composition y = f_m(…f_2(f_1(x))) of `parts` (applied first to last).
 *
 * Event dimensions: the composite's input event dim D is the smallest that every part can act on,
 * found backwards (e ← dom_k + max(e − cod_k, 0)). A part whose own event dim is smaller than
 * the event it receives sees the extra axes as batch, and its log-det is summed over them:
 *
 *   log|det J| = Σ_k sumRightmost(ladj_k(x_{k−1}, x_k), e_k − dom_k),
 *
 * where e_k is the event dim entering part k.
 *
 * Shapes: x with `D` event axes → y with `codomainEventDim` event axes; the log-det has the batch
 * shape `x.shape.slice(0, x.rank − D)`.
 * @example new ComposeTransform([new StickBreakingTransform(), new ExpTransform()]) // event dims 1 → 1
 */
export class ComposeTransform extends Transform {
  /** The transforms, applied first to last. */
  readonly parts: readonly Transform[];
  private readonly inDim: number;
  private readonly outDim: number;

  constructor(parts: readonly Transform[]) {
    super();
    this.parts = parts.slice();
    let e = parts.length > 0 ? parts[parts.length - 1].domainEventDim : 0;
    for (let k = parts.length - 2; k >= 0; k--) e = parts[k].domainEventDim + Math.max(e - parts[k].codomainEventDim, 0);
    this.inDim = e;
    for (const p of parts) e = p.codomainEventDim + (e - p.domainEventDim);
    this.outDim = e;
  }

  get name(): string {
    return `compose(${this.parts.map((p) => p.name).join(', ')})`;
  }
  get domain(): Constraint {
    if (this.parts.length === 0) return real;
    const first = this.parts[0];
    return independentConstraint(first.domain, this.inDim - first.domainEventDim);
  }
  get codomain(): Constraint {
    if (this.parts.length === 0) return real;
    const last = this.parts[this.parts.length - 1];
    return independentConstraint(last.codomain, this.outDim - last.codomainEventDim);
  }
  override get domainEventDim(): number {
    return this.inDim;
  }
  override get codomainEventDim(): number {
    return this.outDim;
  }

  forward(x: Tensor): Tensor {
    let y = x;
    for (const p of this.parts) y = p.forward(y);
    return y;
  }

  inverse(y: Tensor): Tensor {
    let x = y;
    for (let k = this.parts.length - 1; k >= 0; k--) x = this.parts[k].inverse(x);
    return x;
  }

  protected ladj(x: Tensor, y: Tensor): Tensor {
    if (this.parts.length === 0) return sumRightmost(new IdentityTransform().logAbsDetJacobian(x), this.inDim);
    let e = this.inDim;
    let cur = x;
    let total: Tensor | null = null;
    for (let k = 0; k < this.parts.length; k++) {
      const p = this.parts[k];
      const next = k === this.parts.length - 1 ? y : p.forward(cur);
      const extra = e - p.domainEventDim;
      const ld = sumRightmost(p.logAbsDetJacobian(cur, next), extra);
      total = total === null ? ld : add(total, ld);
      e = p.codomainEventDim + extra;
      cur = next;
    }
    return total as Tensor;
  }

  override forwardShape(shape: Shape): number[] {
    let s = shape.slice();
    for (const p of this.parts) s = p.forwardShape(s);
    return s;
  }

  override inverseShape(shape: Shape): number[] {
    let s = shape.slice();
    for (let k = this.parts.length - 1; k >= 0; k--) s = this.parts[k].inverseShape(s);
    return s;
  }
}

/**
 * The composition of transforms, applied left to right: `compose(f, g).forward(x)` is g(f(x)).
 * Nested compositions are flattened; a single part is returned as is.
 * @example compose(new SigmoidTransform(), new AffineTransform(-1, 4)) // ℝ → (−1, 3)
 */
export function compose(...parts: Transform[]): Transform {
  const flat = parts.flatMap((p) => (p instanceof ComposeTransform ? p.parts : [p]));
  return flat.length === 1 ? flat[0] : new ComposeTransform(flat);
}

/**
 * `base` with its `n` rightmost batch axes read as event axes (NumPyro's IndependentTransform):
 * forward and inverse are unchanged and the log-det is summed over those n axes.
 *
 *   log|det J| = Σ over the last n batch axes of base.logAbsDetJacobian(x, y).
 *
 * Shapes: event dims grow by n on both sides; the log-det has n fewer axes than base's.
 * @example independent(new ExpTransform(), 1).logAbsDetJacobian(tensor([[1, 2]])) // [3]
 */
export class IndependentTransform extends Transform {
  constructor(
    /** The elementwise (or lower-event) transform. */
    readonly base: Transform,
    /** How many rightmost batch axes become event axes. */
    readonly reinterpreted: number,
  ) {
    super();
    if (!Number.isInteger(reinterpreted) || reinterpreted < 0)
      throw new ValueError(`independent: n must be a non-negative integer, got ${reinterpreted}`);
  }
  get name(): string {
    return `independent(${this.base.name}, ${this.reinterpreted})`;
  }
  get domain(): Constraint {
    return independentConstraint(this.base.domain, this.reinterpreted);
  }
  get codomain(): Constraint {
    return independentConstraint(this.base.codomain, this.reinterpreted);
  }
  override get domainEventDim(): number {
    return this.base.domainEventDim + this.reinterpreted;
  }
  override get codomainEventDim(): number {
    return this.base.codomainEventDim + this.reinterpreted;
  }
  forward(x: Tensor): Tensor {
    return this.base.forward(x);
  }
  inverse(y: Tensor): Tensor {
    return this.base.inverse(y);
  }
  protected ladj(x: Tensor, y: Tensor): Tensor {
    return sumRightmost(this.base.logAbsDetJacobian(x, y), this.reinterpreted);
  }
  override forwardShape(shape: Shape): number[] {
    return this.base.forwardShape(shape);
  }
  override inverseShape(shape: Shape): number[] {
    return this.base.inverseShape(shape);
  }
}

/**
 * `t` with `n` batch axes reinterpreted as event axes (see {@link IndependentTransform});
 * n = 0 returns `t`.
 * @example independent(new AffineTransform(loc, scale), 1) // a diagonal affine map on vectors
 */
export function independent(t: Transform, n: number): Transform {
  return n === 0 ? t : new IndependentTransform(t, n);
}
