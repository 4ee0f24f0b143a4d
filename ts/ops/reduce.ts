/** Reductions over any axes. `axes` undefined means all axes; negative axes count from the end. */
import { ENGINE } from '../core/engine.js';
import { normAxes, normAxis } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import type { ReduceOp } from '../kernels/spec.js';
import { div } from './elementwise.js';

function red(op: ReduceOp, x: Tensor, axes: number | readonly number[] | undefined, keepDims: boolean): Tensor {
  return ENGINE.runKernel(op, [x], { axes: normAxes(op, axes, x.shape.length), keepDims })[0];
}

/** Σ x over `axes`. */
export const sum = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor => red('sum', x, axes, keepDims);
/** Π x over `axes`. */
export const prod = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor => red('prod', x, axes, keepDims);
/** max x over `axes`. */
export const max = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor => red('max', x, axes, keepDims);
/** min x over `axes`. */
export const min = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor => red('min', x, axes, keepDims);
/** log Σ exp x over `axes`, stable for large x. */
export const logsumexp = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor => red('logsumexp', x, axes, keepDims);

/** Mean over `axes`. */
export function mean(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  const ax = normAxes('mean', axes, x.shape.length);
  let n = 1;
  for (const a of ax) n *= x.shape[a];
  return div(red('sum', x, ax, keepDims), n);
}

/** Index of the largest element along `axis` (int32). */
export function argmax(x: Tensor, axis = -1, keepDims = false): Tensor {
  return ENGINE.runKernel('argmax', [x], { axis: normAxis('argmax', axis, x.shape.length), keepDims })[0];
}

/** Index of the smallest element along `axis` (int32). */
export function argmin(x: Tensor, axis = -1, keepDims = false): Tensor {
  return ENGINE.runKernel('argmin', [x], { axis: normAxis('argmin', axis, x.shape.length), keepDims })[0];
}

/** exp(x) / Σ exp(x) along `axis`. */
export function softmax(x: Tensor, axis = -1): Tensor {
  return ENGINE.runKernel('softmax', [x], { axis: normAxis('softmax', axis, x.shape.length) })[0];
}

/** x − logsumexp(x) along `axis`. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return ENGINE.runKernel('logSoftmax', [x], { axis: normAxis('logSoftmax', axis, x.shape.length) })[0];
}

/** Running sum along `axis` (from the end when `reverse`). */
export function cumsum(x: Tensor, axis = -1, reverse = false): Tensor {
  return ENGINE.runKernel('cumsum', [x], { axis: normAxis('cumsum', axis, x.shape.length), reverse })[0];
}
