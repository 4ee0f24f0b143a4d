/**
 * Elementwise transforms (event dim 0): identity, exp, softplus, sigmoid, tanh, affine, power,
 * and the maps onto intervals and half-lines. Each acts on every element independently, so
 * `logAbsDetJacobian(x, y)` has the shape of `y` (the broadcast of x and the parameters).
 */
import type { Tensor } from '../core/tensor.js';
import { greaterThan, interval, lessThan, positive, real, type Constraint } from '../distributions/constraints.js';
import { asTensor, type TensorLike } from '../ops/creation.js';
import {
  abs, add, clamp, div, exp, expm1, greater, greaterEqual, less, lessEqual, log, log1p, mul, neg, pow, sigmoid, softplus, sub, tanh,
} from '../ops/elementwise.js';
import { broadcastTo } from '../ops/shape.js';
import { Transform, unitBounds } from './transform.js';

const LOG2 = Math.LN2;

/** A tensor parameter as a tensor shaped and typed like `x` would need (numbers take x's dtype). */
function param(p: TensorLike, like: Tensor): Tensor {
  return asTensor(p, like);
}

/** Zeros with the shape of x, keeping x on the tape so gradients flow as zeros. */
function zerosOf(x: Tensor): Tensor {
  return mul(x, 0);
}

/** σ(x) kept strictly inside (0, 1) so that the inverse stays finite. */
function clippedSigmoid(x: Tensor): Tensor {
  const b = unitBounds(x.dtype);
  return clamp(sigmoid(x), b.tiny, b.oneMinus);
}

/** logit u = log u − log(1 − u), with u first clipped into (0, 1). */
function logit(u: Tensor): Tensor {
  const b = unitBounds(u.dtype);
  const c = clamp(u, b.tiny, b.oneMinus);
  return sub(log(c), log1p(neg(c)));
}

/** log σ(x) + log(1 − σ(x)) = −softplus(−x) − softplus(x), without overflow. */
function logSigmoidPrime(x: Tensor): Tensor {
  return neg(add(softplus(neg(x)), softplus(x)));
}

/**
 * The identity, y = x, with log|det J| = 0.
 *
 * Shapes: any; the log-det has the shape of x.
 * @example new IdentityTransform().forward(x) // x
 */
export class IdentityTransform extends Transform {
  get name(): string {
    return 'identity';
  }
  get domain(): Constraint {
    return real;
  }
  get codomain(): Constraint {
    return real;
  }
  forward(x: Tensor): Tensor {
    return x;
  }
  inverse(y: Tensor): Tensor {
    return y;
  }
  protected ladj(x: Tensor): Tensor {
    return zerosOf(x);
  }
}

/**
 * y = eˣ from ℝ onto (0, ∞); log|det J| = x; inverse log y.
 *
 * Shapes: elementwise; the log-det has the shape of x.
 * @example new ExpTransform().forward(tensor([0, 1])) // [1, e]
 */
export class ExpTransform extends Transform {
  get name(): string {
    return 'exp';
  }
  get domain(): Constraint {
    return real;
  }
  get codomain(): Constraint {
    return positive;
  }
  forward(x: Tensor): Tensor {
    return exp(x);
  }
  inverse(y: Tensor): Tensor {
    return log(y);
  }
  protected ladj(x: Tensor): Tensor {
    return x;
  }
}

/**
 * y = softplus x = log(1 + eˣ) from ℝ onto (0, ∞); log|det J| = log σ(x) = −softplus(−x);
 * inverse x = log(eʸ − 1) = y + log(−expm1(−y)).
 *
 * Grows linearly rather than exponentially, which keeps gradients of scale parameters tame.
 * Shapes: elementwise; the log-det has the shape of x.
 * @example new SoftplusTransform().forward(tensor([0])) // [log 2]
 */
export class SoftplusTransform extends Transform {
  get name(): string {
    return 'softplus';
  }
  get domain(): Constraint {
    return real;
  }
  get codomain(): Constraint {
    return positive;
  }
  forward(x: Tensor): Tensor {
    return softplus(x);
  }
  inverse(y: Tensor): Tensor {
    return add(y, log(neg(expm1(neg(y)))));
  }
  protected ladj(x: Tensor): Tensor {
    return neg(softplus(neg(x)));
  }
}

/**
 * y = σ(x) = 1 / (1 + e⁻ˣ) from ℝ onto (0, 1); log|det J| = log σ(x) + log(1 − σ(x));
 * inverse logit y.
 *
 * The output is clipped to [tiny, 1 − ε/2] of the dtype so that saturated inputs keep a finite
 * inverse (as NumPyro does); the log-det is computed from x and stays exact.
 * Shapes: elementwise; the log-det has the shape of x.
 * @example new SigmoidTransform().forward(tensor([0])) // [0.5]
 */
export class SigmoidTransform extends Transform {
  get name(): string {
    return 'sigmoid';
  }
  get domain(): Constraint {
    return real;
  }
  get codomain(): Constraint {
    return interval(0, 1);
  }
  forward(x: Tensor): Tensor {
    return clippedSigmoid(x);
  }
  inverse(y: Tensor): Tensor {
    return logit(y);
  }
  protected ladj(x: Tensor): Tensor {
    return logSigmoidPrime(x);
  }
}

/**
 * y = tanh x from ℝ onto (−1, 1); log|det J| = log(1 − tanh² x) = 2 (log 2 − x − softplus(−2x));
 * inverse atanh y = ½ (log1p y − log1p(−y)).
 *
 * The output is clipped to [−1 + ε/2, 1 − ε/2] so that the inverse stays finite.
 * Shapes: elementwise; the log-det has the shape of x.
 * @example new TanhTransform().forward(tensor([0])) // [0]
 */
export class TanhTransform extends Transform {
  get name(): string {
    return 'tanh';
  }
  get domain(): Constraint {
    return real;
  }
  get codomain(): Constraint {
    return interval(-1, 1);
  }
  forward(x: Tensor): Tensor {
    const b = unitBounds(x.dtype);
    return clamp(tanh(x), -b.oneMinus, b.oneMinus);
  }
  inverse(y: Tensor): Tensor {
    const b = unitBounds(y.dtype);
    const c = clamp(y, -b.oneMinus, b.oneMinus);
    return mul(sub(log1p(c), log1p(neg(c))), 0.5);
  }
  protected ladj(x: Tensor): Tensor {
    return mul(sub(sub(LOG2, x), softplus(mul(x, -2))), 2);
  }
}

/**
 * y = loc + scale · x; log|det J| = log|scale| (per element); inverse (y − loc) / scale.
 * `loc` and `scale` are numbers or tensors broadcasting against x; scale must be non-zero.
 *
 * Shapes: elementwise with broadcasting; y and the log-det have the broadcast shape of x, loc and
 * scale. For an affine map on vectors (log-det summed over the last axis) use
 * `independent(new AffineTransform(loc, scale), 1)`.
 * @example new AffineTransform(1, 2).forward(tensor([0, 1])) // [1, 3]
 */
export class AffineTransform extends Transform {
  constructor(
    /** The shift a in y = a + b·x. */
    readonly loc: TensorLike,
    /** The factor b ≠ 0 in y = a + b·x. */
    readonly scale: TensorLike,
  ) {
    super();
  }
  get name(): string {
    return 'affine';
  }
  get domain(): Constraint {
    return real;
  }
  get codomain(): Constraint {
    return real;
  }
  forward(x: Tensor): Tensor {
    return add(param(this.loc, x), mul(param(this.scale, x), x));
  }
  inverse(y: Tensor): Tensor {
    return div(sub(y, param(this.loc, y)), param(this.scale, y));
  }
  protected ladj(x: Tensor, y: Tensor): Tensor {
    const ld = log(abs(param(this.scale, x)));
    return broadcastTo(ld, y.shape);
  }
}

/**
 * y = xᵖ from (0, ∞) onto (0, ∞) for a non-zero exponent p (number or tensor);
 * log|det J| = log|p · y / x| = log|p| + (p − 1) log x; inverse y^(1/p).
 *
 * Shapes: elementwise with broadcasting against p.
 * @example new PowerTransform(2).forward(tensor([3])) // [9]
 */
export class PowerTransform extends Transform {
  constructor(
    /** The exponent p. */
    readonly exponent: TensorLike,
  ) {
    super();
  }
  get name(): string {
    return 'power';
  }
  get domain(): Constraint {
    return positive;
  }
  get codomain(): Constraint {
    return positive;
  }
  forward(x: Tensor): Tensor {
    return pow(x, param(this.exponent, x));
  }
  inverse(y: Tensor): Tensor {
    return pow(y, div(1, param(this.exponent, y)));
  }
  protected ladj(x: Tensor, y: Tensor): Tensor {
    return log(abs(div(mul(param(this.exponent, x), y), x)));
  }
}

/** An interval constraint whose ends may be tensors (name 'interval', as tensorInterval). */
function intervalOf(lo: TensorLike, hi: TensorLike): Constraint {
  if (typeof lo === 'number' && typeof hi === 'number') return interval(lo, hi);
  const c: Constraint & { lower: TensorLike; upper: TensorLike } = {
    name: 'interval',
    eventDim: 0,
    discrete: false,
    lower: lo,
    upper: hi,
    check: (x) => mul(greaterEqual(x, asTensor(lo, x)), lessEqual(x, asTensor(hi, x))),
    toString: () => 'interval(lower, upper)',
  };
  return c;
}

/**
 * The map from ℝ onto the interval (lo, hi), an affine map after the sigmoid:
 * y = lo + (hi − lo) σ(x); log|det J| = log(hi − lo) + log σ(x) + log(1 − σ(x));
 * inverse logit((y − lo) / (hi − lo)). The ends are numbers or tensors (broadcasting against x).
 *
 * Shapes: elementwise with broadcasting; the log-det has the shape of y.
 * @example new IntervalTransform(-1, 3).forward(tensor([0])) // [1]
 */
export class IntervalTransform extends Transform {
  constructor(
    /** The lower end lo. */
    readonly lower: TensorLike,
    /** The upper end hi > lo. */
    readonly upper: TensorLike,
  ) {
    super();
  }
  get name(): string {
    return 'interval';
  }
  get domain(): Constraint {
    return real;
  }
  get codomain(): Constraint {
    return intervalOf(this.lower, this.upper);
  }
  forward(x: Tensor): Tensor {
    const lo = param(this.lower, x);
    return add(lo, mul(sub(param(this.upper, x), lo), clippedSigmoid(x)));
  }
  inverse(y: Tensor): Tensor {
    const lo = param(this.lower, y);
    return logit(div(sub(y, lo), sub(param(this.upper, y), lo)));
  }
  protected ladj(x: Tensor, y: Tensor): Tensor {
    const width = log(sub(param(this.upper, x), param(this.lower, x)));
    return add(broadcastTo(width, y.shape), logSigmoidPrime(x));
  }
}

/** A half-line constraint whose bound may be a tensor (name 'greaterThan' or 'lessThan'). */
function halfLineOf(kind: 'greaterThan' | 'lessThan', b: TensorLike): Constraint {
  if (typeof b === 'number') return kind === 'greaterThan' ? greaterThan(b) : lessThan(b);
  const above = kind === 'greaterThan';
  const c: Constraint & { lower?: Tensor; upper?: Tensor } = {
    name: kind,
    eventDim: 0,
    discrete: false,
    ...(above ? { lower: b } : { upper: b }),
    check: (x) => (above ? greater(x, b) : less(x, b)),
    toString: () => `${kind}(bound)`,
  };
  return c;
}

/**
 * The map from ℝ onto (lower, ∞): y = lower + eˣ; log|det J| = x; inverse log(y − lower).
 * `lower` is a number or a tensor broadcasting against x.
 *
 * Shapes: elementwise with broadcasting; the log-det has the shape of y.
 * @example new GreaterThanTransform(2).forward(tensor([0])) // [3]
 */
export class GreaterThanTransform extends Transform {
  constructor(
    /** The lower bound. */
    readonly lower: TensorLike,
  ) {
    super();
  }
  get name(): string {
    return 'greaterThan';
  }
  get domain(): Constraint {
    return real;
  }
  get codomain(): Constraint {
    return halfLineOf('greaterThan', this.lower);
  }
  forward(x: Tensor): Tensor {
    return add(param(this.lower, x), exp(x));
  }
  inverse(y: Tensor): Tensor {
    return log(sub(y, param(this.lower, y)));
  }
  protected ladj(x: Tensor, y: Tensor): Tensor {
    return broadcastTo(x, y.shape);
  }
}

/**
 * The map from ℝ onto (−∞, upper): y = upper − eˣ; log|det J| = x; inverse log(upper − y).
 * `upper` is a number or a tensor broadcasting against x.
 *
 * Shapes: elementwise with broadcasting; the log-det has the shape of y.
 * @example new LessThanTransform(2).forward(tensor([0])) // [1]
 */
export class LessThanTransform extends Transform {
  constructor(
    /** The upper bound. */
    readonly upper: TensorLike,
  ) {
    super();
  }
  get name(): string {
    return 'lessThan';
  }
  get domain(): Constraint {
    return real;
  }
  get codomain(): Constraint {
    return halfLineOf('lessThan', this.upper);
  }
  forward(x: Tensor): Tensor {
    return sub(param(this.upper, x), exp(x));
  }
  inverse(y: Tensor): Tensor {
    return log(sub(param(this.upper, y), y));
  }
  protected ladj(x: Tensor, y: Tensor): Tensor {
    return broadcastTo(x, y.shape);
  }
}
