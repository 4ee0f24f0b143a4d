/** Reductions over any axes. `axes` undefined means all axes; negative axes count from the end. */
import { ENGINE } from '../core/engine.js';
import { normAxes, normAxis } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import type { ReduceOp } from '../kernels/spec.js';
import { div } from './elementwise.js';

function red(op: ReduceOp, x: Tensor, axes: number | readonly number[] | undefined, keepDims: boolean): Tensor {
  return ENGINE.runKernel(op, [x], { axes: normAxes(op, axes, x.shape.length), keepDims })[0];
}

/**
 * Σ x over `axes`.
 * @example sum(tensor([[1, 2], [3, 4]]), -1) // [3, 7]; sum(x) sums everything to a scalar
 */
export const sum = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor => red('sum', x, axes, keepDims);
/**
 * Π x over `axes`.
 * @example prod(tensor([2, 3, 4])) // 24
 */
export const prod = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor => red('prod', x, axes, keepDims);
/**
 * max x over `axes`.
 * @example max(tensor([[1, 5], [7, 2]]), 0) // [7, 5]
 */
export const max = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor => red('max', x, axes, keepDims);
/**
 * min x over `axes`.
 * @example min(tensor([[1, 5], [7, 2]]), 1, true) // [[1], [2]]
 */
export const min = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor => red('min', x, axes, keepDims);
/**
 * log Σ exp x over `axes`, stable for large x.
 * @example logsumexp(tensor([1000, 1000])) // 1000 + log 2
 */
export const logsumexp = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor => red('logsumexp', x, axes, keepDims);

/**
 * Mean over `axes`.
 * @example mean(tensor([[1, 2], [3, 4]]), 0) // [2, 3]
 */
export function mean(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  const ax = normAxes('mean', axes, x.shape.length);
  let n = 1;
  for (const a of ax) n *= x.shape[a];
  return div(red('sum', x, ax, keepDims), n);
}

/**
 * Index of the largest element along `axis` (int32).
 * @example argmax(tensor([[1, 5], [7, 2]])) // int32 [1, 0]
 */
export function argmax(x: Tensor, axis = -1, keepDims = false): Tensor {
  return ENGINE.runKernel('argmax', [x], { axis: normAxis('argmax', axis, x.shape.length), keepDims })[0];
}

/**
 * Index of the smallest element along `axis` (int32).
 * @example argmin(tensor([3, 1, 2])) // int32 1
 */
export function argmin(x: Tensor, axis = -1, keepDims = false): Tensor {
  return ENGINE.runKernel('argmin', [x], { axis: normAxis('argmin', axis, x.shape.length), keepDims })[0];
}

/**
 * exp(x) / Σ exp(x) along `axis`.
 * @example softmax(tensor([0, Math.log(3)])) // [0.25, 0.75]
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  return ENGINE.runKernel('softmax', [x], { axis: normAxis('softmax', axis, x.shape.length) })[0];
}

/**
 * x − logsumexp(x) along `axis`.
 * @example logSoftmax(tensor([0, 0])) // [−log 2, −log 2]
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return ENGINE.runKernel('logSoftmax', [x], { axis: normAxis('logSoftmax', axis, x.shape.length) })[0];
}

/**
 * Running sum along `axis` (from the end when `reverse`).
 * @example cumsum(tensor([1, 2, 3])) // [1, 3, 6]; cumsum(x, -1, true) gives [6, 5, 3]
 */
export function cumsum(x: Tensor, axis = -1, reverse = false): Tensor {
  return ENGINE.runKernel('cumsum', [x], { axis: normAxis('cumsum', axis, x.shape.length), reverse })[0];
}
