/** Shape ops: reshape, transpose, slicing, gathering, concatenation, broadcasting. */
import { ENGINE } from '../core/engine.js';
import { ShapeError, ValueError, fmtShape } from '../core/errors.js';
import { broadcastShapes, normAxis, shapesEqual, sizeOf, type Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';

/**
 * The same elements in a new shape; one entry may be −1 (inferred). Shares storage.
 * @example reshape(arange(6), [2, -1]) // shape [2, 3]
 */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const s = shape.slice();
  const neg = s.indexOf(-1);
  if (neg >= 0) {
    const rest = sizeOf(s.filter((_, i) => i !== neg));
    if (rest === 0 || x.size % rest !== 0) throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} into ${fmtShape(shape)}`);
    s[neg] = x.size / rest;
  }
  if (sizeOf(s) !== x.size || s.some((d) => !Number.isInteger(d) || d < 0))
    throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) into ${fmtShape(shape)}`);
  if (shapesEqual(s, x.shape)) return x;
  return ENGINE.runKernel('reshape', [x], { shape: s })[0];
}

/**
 * Permutes axes (default: reverses them).
 * @example transpose(zeros([2, 3, 4]), [0, 2, 1]).shape // [2, 4, 3]
 */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const r = x.shape.length;
  const p = perm === undefined ? Array.from({ length: r }, (_, i) => r - 1 - i) : perm.map((a) => normAxis('transpose', a, r, 'perm'));
  if (new Set(p).size !== r) throw new ShapeError(`transpose: perm [${perm?.join(', ')}] is not a permutation of ${r} axes`);
  if (p.every((a, i) => a === i)) return x;
  return ENGINE.runKernel('transpose', [x], { perm: p })[0];
}

/**
 * x broadcast to `shape`.
 * @example broadcastTo(tensor([1, 2]), [3, 2]) // [[1, 2], [1, 2], [1, 2]]
 */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  if (shapesEqual(x.shape, shape)) return x;
  return ENGINE.runKernel('broadcastTo', [x], { shape: shape.slice() })[0];
}

/**
 * Sums `x` down to `shape`, undoing a broadcast (used by gradient rules).
 * @example unbroadcast(ones([3, 2]), [2]) // [3, 3]
 */
export function unbroadcast(x: Tensor, shape: Shape): Tensor {
  if (shapesEqual(x.shape, shape)) return x;
  broadcastShapes('unbroadcast', shape, x.shape);
  const lead = x.shape.length - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < x.shape.length; i++) if (i < lead || (shape[i - lead] === 1 && x.shape[i] !== 1)) axes.push(i);
  const s = ENGINE.runKernel('sum', [x], { axes, keepDims: true })[0];
  return reshape(s, shape);
}

/**
 * A contiguous block of x: `begin[i]` to `begin[i] + size[i]` along each axis (size −1 = to the end).
 * Missing trailing axes are taken whole.
 * @example slice(tensor([[1, 2, 3], [4, 5, 6]]), [0, 1], [-1, 2]) // [[2, 3], [5, 6]]
 */
export function slice(x: Tensor, begin: readonly number[], size?: readonly number[]): Tensor {
  const r = x.shape.length;
  if (begin.length > r) throw new ShapeError(`slice: begin has ${begin.length} entries for a tensor of rank ${r}`);
  const b = x.shape.map((d, i) => {
    const v = begin[i] ?? 0;
    return v < 0 ? v + d : v;
  });
  const s = x.shape.map((d, i) => {
    const v = size?.[i] ?? -1;
    return v === -1 ? d - b[i] : v;
  });
  if (b.every((v) => v === 0) && shapesEqual(s, x.shape)) return x;
  return ENGINE.runKernel('slice', [x], { begin: b, size: s })[0];
}

/**
 * x padded with `value`: `before[i]` entries before and `after[i]` after along axis i.
 * @example pad(tensor([1, 2]), [1], [2]) // [0, 1, 2, 0, 0]
 */
export function pad(x: Tensor, before: readonly number[], after: readonly number[], value = 0): Tensor {
  for (const w of [...before, ...after])
    if (!Number.isInteger(w) || w < 0) throw new ValueError(`pad: widths must be non-negative integers, got before [${before.join(', ')}] after [${after.join(', ')}]`);
  return ENGINE.runKernel('pad', [x], { before: before.slice(), after: after.slice(), value })[0];
}

/**
 * Elements of x at int32 `indices` along `axis`, as NumPy's take: shape x[:axis] + indices + x[axis+1:].
 * @example gather(tensor([10, 20, 30]), tensor([2, 0], [2], 'int32')) // [30, 10]
 */
export function gather(x: Tensor, indices: Tensor, axis = 0): Tensor {
  return ENGINE.runKernel('gather', [x, indices], { axis: normAxis('gather', axis, x.shape.length) })[0];
}

/**
 * The adjoint of gather: a tensor with `size` entries along `axis`, zero except that
 * `updates` are added at `indices` (repeated indices accumulate).
 * @example scatterAdd(tensor([1, 2, 3]), tensor([0, 2, 0], [3], 'int32'), 0, 3) // [4, 0, 2]
 */
export function scatterAdd(updates: Tensor, indices: Tensor, axis: number, size: number): Tensor {
  // The axis counts in the result, whose rank is updates.rank − indices.rank + 1.
  const rank = updates.shape.length - indices.shape.length + 1;
  return ENGINE.runKernel('scatterAdd', [updates, indices], { axis: normAxis('scatterAdd', axis, Math.max(rank, 0)), size })[0];
}

/**
 * Joins tensors along an existing axis.
 * @example concat([zeros([2, 3]), ones([1, 3])], 0).shape // [3, 3]
 */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new ShapeError('concat: needs at least one tensor');
  if (xs.length === 1) return xs[0];
  return ENGINE.runKernel('concat', xs, { axis: normAxis('concat', axis, xs[0].shape.length) })[0];
}

/**
 * Joins same-shaped tensors along a new axis.
 * @example stack([tensor([1, 2]), tensor([3, 4])], 1) // [[1, 3], [2, 4]]
 */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new ShapeError('stack: needs at least one tensor');
  const ax = normAxis('stack', axis, xs[0].shape.length + 1);
  return concat(xs.map((x) => expandDims(x, ax)), ax);
}

/**
 * x with a new axis of size 1 at `axis`.
 * @example expandDims(tensor([1, 2]), -1).shape // [2, 1]
 */
export function expandDims(x: Tensor, axis: number): Tensor {
  const ax = normAxis('expandDims', axis, x.shape.length + 1);
  const s = x.shape.slice();
  s.splice(ax, 0, 1);
  return reshape(x, s);
}

/**
 * x without the size-1 axes listed (default: all of them).
 * @example squeeze(zeros([1, 3, 1])).shape // [3]
 */
export function squeeze(x: Tensor, axes?: readonly number[]): Tensor {
  const ax = axes === undefined ? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : axes.map((a) => normAxis('squeeze', a, x.shape.length));
  for (const a of ax) if (x.shape[a] !== 1) throw new ShapeError(`squeeze: axis ${a} of shape ${fmtShape(x.shape)} is not 1`);
  return reshape(x, x.shape.filter((_, i) => !ax.includes(i)));
}

/**
 * x as a vector.
 * @example flatten(zeros([2, 3])).shape // [6]
 */
export function flatten(x: Tensor): Tensor {
  return reshape(x, [x.size]);
}
