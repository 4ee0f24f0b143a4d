/**
 * Gradient rules of the reductions and the other along-an-axis kernels: sum, prod, max, min,
 * logsumexp, softmax, logSoftmax, cumsum.
 */
import { reducedShape, type Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { cast, div, equal, exp, mul, sub, where } from '../ops/elementwise.js';
import { cumsum, prod, sum } from '../ops/reduce.js';
import { broadcastTo, reshape } from '../ops/shape.js';
import type { GradTable } from './rule.js';

/** A reduced tensor (keepDims or not) reshaped to keepDims form, so it broadcasts against x. */
function kept(y: Tensor, xShape: Shape, axes: readonly number[]): Tensor {
  return reshape(y, reducedShape(xShape, axes, true));
}

/** The cotangent of a reduction's output spread back over the reduced axes. */
function spread(dy: Tensor, xShape: Shape, axes: readonly number[]): Tensor {
  return broadcastTo(kept(dy, xShape, axes), xShape);
}

/**
 * ∂(Π x)/∂xᵢ = Π_{j≠i} xⱼ, computed exactly with zeros present: with no zero in the slice it is
 * y/xᵢ; with exactly one zero, only that element has a non-zero gradient, the product of the
 * others; with two or more zeros every gradient is 0.
 */
function prodGrad(dy: Tensor, x: Tensor, axes: readonly number[]): Tensor {
  const isZero = equal(x, 0);
  const zeros = sum(cast(isZero, x.dtype), axes, true);
  const safe = where(isZero, 1, x);
  // The product of the non-zero elements of each slice.
  const nz = prod(safe, axes, true);
  const g = where(equal(zeros, 0), div(nz, safe), where(isZero, where(equal(zeros, 1), nz, 0), 0));
  return mul(g, kept(dy, x.shape, axes));
}

/**
 * max/min: the cotangent goes to the elements equal to the extremum, split evenly among ties (as
 * JAX and PyTorch's amax do), so the gradient is the average of the one-hot subgradients.
 */
function extremumGrad(dy: Tensor, x: Tensor, y: Tensor, axes: readonly number[]): Tensor {
  const hit = cast(equal(x, kept(y, x.shape, axes)), x.dtype);
  const count = sum(hit, axes, true);
  return mul(hit, div(kept(dy, x.shape, axes), count));
}

/** Rules of the reductions, softmax/logSoftmax and cumsum. */
export const REDUCE_GRADS: GradTable = {
  sum: ([dy], [x], _, { axes }) => [spread(dy, x.shape, axes)],
  prod: ([dy], [x], _, { axes }) => [prodGrad(dy, x, axes)],
  max: ([dy], [x], [y], { axes }) => [extremumGrad(dy, x, y, axes)],
  min: ([dy], [x], [y], { axes }) => [extremumGrad(dy, x, y, axes)],
  // ∂ logΣexp / ∂xᵢ = exp(xᵢ − y), the softmax over the reduced axes; a slice of all −∞
  // (y = −∞) gets 0 rather than exp(−∞ + ∞) = NaN.
  logsumexp: ([dy], [x], [y], { axes }) => {
    const yk = kept(y, x.shape, axes);
    const safe = where(equal(yk, -Infinity), 0, yk);
    return [mul(exp(sub(x, safe)), kept(dy, x.shape, axes))];
  },
  // J = diag(y) − y yᵀ, so Jᵀdy = y ⊙ (dy − ⟨dy, y⟩).
  softmax: ([dy], _, [y], { axis }) => [mul(y, sub(dy, sum(mul(dy, y), axis, true)))],
  // y = x − lse(x): dx = dy − softmax(x) Σ dy, with softmax(x) = exp(y).
  logSoftmax: ([dy], _, [y], { axis }) => [sub(dy, mul(exp(y), sum(dy, axis, true)))],
  // The adjoint of a running sum is the running sum in the other direction.
  cumsum: ([dy], _, __, { axis, reverse }) => [cumsum(dy, axis, !reverse)],
};
