/**
 * Gradient rules of the elementwise kernels: unary, binary (with broadcasting undone by
 * `unbroadcast`), clamp, where and cast. Each rule is the chain rule `dx = dy · f′(x)`, written
 * with whichever of the input x or the output y gives the cheaper or more accurate f′.
 */
import type { Tensor } from '../core/tensor.js';
import {
  add,
  cast,
  cos,
  digamma,
  div,
  equal,
  exp,
  greater,
  greaterEqual,
  less,
  lessEqual,
  log,
  mul,
  neg,
  pow,
  sigmoid,
  sign,
  sin,
  square,
  sub,
  trigamma,
  where,
} from '../ops/elementwise.js';
import { unbroadcast } from '../ops/shape.js';
import type { GradTable } from './rule.js';

/** 2/√π, the scale of erf′. */
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
/** √π/2, the scale of erfinv′. */
const SQRT_PI_OVER_2 = Math.sqrt(Math.PI) / 2;

/**
 * The cotangent of one side of maximum/minimum: dy where this side wins, dy/2 on ties (so the two
 * sides together receive dy, as the subgradient midpoint), 0 where the other side wins.
 */
function pickGrad(dy: Tensor, wins: Tensor, tie: Tensor): Tensor {
  return where(wins, dy, where(tie, mul(dy, 0.5), 0));
}

/** Rules of the unary, binary, clamp, where and cast kernels. */
export const ELEMENTWISE_GRADS: GradTable = {
  // ---- unary ----
  neg: ([dy]) => [neg(dy)],
  abs: ([dy], [x]) => [mul(dy, sign(x))],
  // d(1/x) = −1/x² = −y²
  reciprocal: ([dy], _, [y]) => [neg(mul(dy, square(y)))],
  square: ([dy], [x]) => [mul(dy, mul(x, 2))],
  // d√x = 1/(2√x) = 1/(2y)
  sqrt: ([dy], _, [y]) => [div(dy, mul(y, 2))],
  // d x^(−1/2) = −½ x^(−3/2) = −½ y³
  rsqrt: ([dy], _, [y]) => [mul(dy, mul(mul(y, square(y)), -0.5))],
  exp: ([dy], _, [y]) => [mul(dy, y)],
  // d(eˣ − 1) = eˣ = y + 1
  expm1: ([dy], _, [y]) => [mul(dy, add(y, 1))],
  log: ([dy], [x]) => [div(dy, x)],
  log1p: ([dy], [x]) => [div(dy, add(x, 1))],
  sin: ([dy], [x]) => [mul(dy, cos(x))],
  cos: ([dy], [x]) => [neg(mul(dy, sin(x)))],
  // d tanh = 1 − y²
  tanh: ([dy], _, [y]) => [mul(dy, sub(1, square(y)))],
  // dσ = σ(1 − σ)
  sigmoid: ([dy], _, [y]) => [mul(dy, mul(y, sub(1, y)))],
  // d log(1 + eˣ) = σ(x)
  softplus: ([dy], [x]) => [mul(dy, sigmoid(x))],
  // 0 at the kink x = 0, as PyTorch and JAX do.
  relu: ([dy], [x]) => [where(greater(x, 0), dy, 0)],
  // d erf = 2/√π e^(−x²)
  erf: ([dy], [x]) => [mul(dy, mul(exp(neg(square(x))), TWO_OVER_SQRT_PI))],
  // d erfinv = √π/2 e^(erfinv(x)²) = √π/2 e^(y²)
  erfinv: ([dy], _, [y]) => [mul(dy, mul(exp(square(y)), SQRT_PI_OVER_2))],
  lgamma: ([dy], [x]) => [mul(dy, digamma(x))],
  digamma: ([dy], [x]) => [mul(dy, trigamma(x))],

  // ---- binary (the output broadcasts both inputs; unbroadcast sums the cotangent back) ----
  // Each side is computed only when that input takes a cotangent (`need`).
  add: ([dy], [a, b], _, __, need) => [need[0] ? unbroadcast(dy, a.shape) : null, need[1] ? unbroadcast(dy, b.shape) : null],
  sub: ([dy], [a, b], _, __, need) => [need[0] ? unbroadcast(dy, a.shape) : null, need[1] ? unbroadcast(neg(dy), b.shape) : null],
  mul: ([dy], [a, b], _, __, need) => [
    need[0] ? unbroadcast(mul(dy, b), a.shape) : null,
    need[1] ? unbroadcast(mul(dy, a), b.shape) : null,
  ],
  div: ([dy], [a, b], _, __, need) => [
    need[0] ? unbroadcast(div(dy, b), a.shape) : null,
    need[1] ? unbroadcast(neg(div(mul(dy, a), mul(b, b))), b.shape) : null,
  ],
  pow: ([dy], [a, b], [y], __, need) => {
    // ∂aᵇ/∂a = b·a^(b−1): written with pow rather than b·y/a so that a = 0 works for b ≥ 1.
    const da = need[0] ? unbroadcast(mul(dy, mul(b, pow(a, sub(b, 1)))), a.shape) : null;
    if (!need[1]) return [da, null];
    // ∂aᵇ/∂b = aᵇ·ln a, defined for a > 0 only; elsewhere (a ≤ 0, where aᵇ is real only for
    // integer b, a constant in practice) the rule returns 0 rather than NaN.
    const pos = greater(a, 0);
    const lna = log(where(pos, a, 1));
    const db = where(pos, mul(dy, mul(y, lna)), 0);
    return [da, unbroadcast(db, b.shape)];
  },
  maximum: ([dy], [a, b], _, __, need) => {
    const tie = equal(a, b);
    return [
      need[0] ? unbroadcast(pickGrad(dy, greater(a, b), tie), a.shape) : null,
      need[1] ? unbroadcast(pickGrad(dy, less(a, b), tie), b.shape) : null,
    ];
  },
  minimum: ([dy], [a, b], _, __, need) => {
    const tie = equal(a, b);
    return [
      need[0] ? unbroadcast(pickGrad(dy, less(a, b), tie), a.shape) : null,
      need[1] ? unbroadcast(pickGrad(dy, greater(a, b), tie), b.shape) : null,
    ];
  },

  // ---- the rest ----
  // dy passes where min ≤ x ≤ max (inclusive at the bounds, as PyTorch), 0 where x was clipped.
  clamp: ([dy], [x], _, { min, max }) =>
    x.dtype === 'int32' ? [null] : [where(mul(greaterEqual(x, min), lessEqual(x, max)), dy, 0)],
  // The condition gets no cotangent; each branch gets dy where it was chosen.
  where: ([dy], [c, a, b], _, __, need) => [
    null,
    need[1] ? unbroadcast(where(c, dy, 0), a.shape) : null,
    need[2] ? unbroadcast(where(c, 0, dy), b.shape) : null,
  ],
  // Cast back to the input's dtype; an int32 input (not differentiable) gets none.
  cast: ([dy], [x]) => [x.dtype === 'int32' ? null : cast(dy, x.dtype)],
};
