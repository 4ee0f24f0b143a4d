/** Creating tensors: from data, filled, ranges, identity. */
import { allocArray, allocFor, toBfloat16, type DType, type TypedArray } from '../core/dtype.js';
import { ENGINE } from '../core/engine.js';
import { ShapeError, ValueError, fmtShape } from '../core/errors.js';
import { checkShape, sizeOf, type Shape } from '../core/shape.js';
import type { NestedArray, Tensor } from '../core/tensor.js';

/**
 * What binary ops accept for an operand: a tensor, or a plain number that is promoted to a rank-0
 * tensor of the other operand's dtype (and device).
 */
export type TensorLike = Tensor | number;

function flatten(x: NestedArray, shape: number[], depth: number, out: number[]): void {
  if (typeof x !== 'number' && !Array.isArray(x))
    throw new ValueError(`tensor: values must be numbers, nested arrays of numbers or a typed array; found ${x === null ? 'null' : typeof x === 'string' ? `the string ${JSON.stringify(x).slice(0, 40)}` : typeof x} at depth ${depth}`);
  if (typeof x === 'number') {
    if (depth !== shape.length && shape.length > 0) throw new ShapeError(`tensor: ragged nested array at depth ${depth}`);
    out.push(x);
    return;
  }
  if (depth === shape.length) shape.push(x.length);
  else if (shape[depth] !== x.length) throw new ShapeError(`tensor: ragged nested array at depth ${depth} (${x.length} vs ${shape[depth]})`);
  for (const v of x) flatten(v, shape, depth + 1, out);
}

/**
 * A tensor from nested arrays, a flat array with a shape, or a typed array.
 * @example tensor([[1, 2], [3, 4]]) // float64, shape [2, 2]
 * @example tensor(new Float32Array(6), [2, 3])
 */
export function tensor(values: NestedArray | TypedArray | readonly number[], shape?: Shape, dtype?: DType): Tensor {
  let flat: ArrayLike<number>;
  let inferred: number[];
  if (ArrayBuffer.isView(values)) {
    flat = values;
    inferred = [values.length];
    dtype ??= values instanceof Float32Array ? 'float32' : values instanceof Int32Array ? 'int32' : 'float64';
  } else {
    const out: number[] = [];
    inferred = [];
    flatten(values as NestedArray, inferred, 0, out);
    if (typeof values === 'number') inferred = [];
    flat = out;
  }
  const s = shape ?? inferred;
  checkShape('tensor', s);
  if (sizeOf(s) !== flat.length)
    throw new ShapeError(`tensor: ${flat.length} values do not fill shape ${fmtShape(s)} (${sizeOf(s)} elements)`);
  const dt = dtype ?? 'float64';
  const data = dt !== 'bfloat16' && ArrayBuffer.isView(flat) && !shape && (flat as TypedArray) instanceof arrayClass(dt) ? (flat as TypedArray) : copyInto(dt, flat);
  return ENGINE.fromArray(data, s.slice());
}

function arrayClass(dt: DType): typeof Float64Array | typeof Float32Array | typeof Int32Array {
  return dt === 'float64' ? Float64Array : dt === 'float32' ? Float32Array : Int32Array;
}

/** What storage holds for `value`: the value, or its bfloat16 bits. */
function stored(dt: DType, value: number): number {
  return dt === 'bfloat16' ? toBfloat16([value])[0] : value;
}

function copyInto(dt: DType, src: ArrayLike<number>): TypedArray {
  if (dt === 'bfloat16') return toBfloat16(src);
  const a = allocArray(dt, src.length);
  for (let i = 0; i < src.length; i++) a[i] = src[i];
  return a;
}

/**
 * A rank-0 tensor.
 * @example scalar(3.5).shape // []
 */
export function scalar(value: number, dtype: DType = 'float64'): Tensor {
  const a = copyInto(dtype, [value]);
  return ENGINE.fromArray(a, []);
}

/**
 * A tensor of `shape` filled with `value`.
 * @example full([2, 2], 7) // [[7, 7], [7, 7]]
 */
export function full(shape: Shape, value: number, dtype: DType = 'float64'): Tensor {
  checkShape('full', shape);
  const a = allocFor('full', dtype, shape);
  if (value !== 0) a.fill(stored(dtype, value));
  return ENGINE.fromArray(a, shape.slice());
}

/**
 * A tensor of `shape` filled with 0 (float64 unless `dtype` is given).
 * @example zeros([2, 3]) // float64, shape [2, 3]
 */
export function zeros(shape: Shape, dtype: DType = 'float64'): Tensor {
  return full(shape, 0, dtype);
}

/**
 * A tensor of `shape` filled with 1 (float64 unless `dtype` is given).
 * @example ones([3], 'float32')
 */
export function ones(shape: Shape, dtype: DType = 'float64'): Tensor {
  return full(shape, 1, dtype);
}

/** A tensor of x's shape and dtype filled with `value`, on x's device (a GPU tensor's stays there). */
function fullLike(x: Tensor, value: number): Tensor {
  const a = allocArray(x.dtype, x.size);
  if (value !== 0) a.fill(stored(x.dtype, value));
  const b = x.backend;
  return b.device === 'cpu' ? ENGINE.fromArray(a, x.shape.slice()) : ENGINE.fromArray(a, x.shape.slice(), b);
}

/**
 * Zeros of x's shape and dtype, on x's device.
 * @example zerosLike(tensor([1, 2, 3])) // [0, 0, 0]
 */
export function zerosLike(x: Tensor): Tensor {
  return fullLike(x, 0);
}

/**
 * Ones of x's shape and dtype, on x's device.
 * @example onesLike(tensor([[1, 2]])) // [[1, 1]]
 */
export function onesLike(x: Tensor): Tensor {
  return fullLike(x, 1);
}

/**
 * `[start, start + step, ...)` below `stop`, as NumPy's arange.
 * @example arange(3) // [0, 1, 2]; arange(1, 2, 0.5) // [1, 1.5]
 */
export function arange(start: number, stop?: number, step = 1, dtype: DType = 'float64'): Tensor {
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  if (step === 0) throw new ValueError('arange: step must be non-zero');
  if (!Number.isFinite(start) || !Number.isFinite(stop) || !Number.isFinite(step))
    throw new ValueError(`arange: start, stop and step must be finite, got ${start}, ${stop}, ${step}`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const a = allocFor('arange', 'float64', [n]) as Float64Array;
  for (let i = 0; i < n; i++) a[i] = start + i * step;
  return ENGINE.fromArray(copyInto(dtype, a), [n]);
}

/**
 * `num` evenly spaced points from `start` to `stop` inclusive.
 * @example linspace(0, 1, 5) // [0, 0.25, 0.5, 0.75, 1]
 */
export function linspace(start: number, stop: number, num: number, dtype: DType = 'float64'): Tensor {
  if (!Number.isInteger(num) || num < 0) throw new ValueError(`linspace: num must be a non-negative integer, got ${num}`);
  if (!Number.isFinite(start) || !Number.isFinite(stop)) throw new ValueError(`linspace: start and stop must be finite, got ${start}, ${stop}`);
  const a = allocFor('linspace', 'float64', [num]) as Float64Array;
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  for (let i = 0; i < num; i++) a[i] = start + i * step;
  return ENGINE.fromArray(copyInto(dtype, a), [num]);
}

/**
 * The n×n identity.
 * @example eye(2) // [[1, 0], [0, 1]]
 */
export function eye(n: number, dtype: DType = 'float64'): Tensor {
  if (!Number.isInteger(n) || n < 0) throw new ValueError(`eye: n must be a non-negative integer, got ${n}`);
  const a = allocFor('eye', dtype, [n, n]);
  for (let i = 0; i < n; i++) a[i * n + i] = stored(dtype, 1);
  return ENGINE.fromArray(a, [n, n]);
}

/**
 * 0-d constants on non-cpu devices by backend, dtype and value. Ops take JS numbers all the time
 * (an optimizer's β, a 0.5 in a log-density); on a GPU each would be an allocation and an upload
 * per call. Callers get views, so disposing one leaves the cached buffer alone.
 */
const deviceConstants = new Map<string, Tensor>();
const MAX_DEVICE_CONSTANTS = 4096;

function deviceScalar(x: number, like: Tensor): Tensor {
  const backend = like.backend;
  const k = `${backend.name}|${like.dtype}|${Object.is(x, -0) ? '-0' : x}`;
  let t = deviceConstants.get(k);
  if (t === undefined || t.isDisposed) {
    if (deviceConstants.size >= MAX_DEVICE_CONSTANTS) {
      const [oldest, c] = deviceConstants.entries().next().value as [string, Tensor];
      deviceConstants.delete(oldest);
      c.dispose();
    }
    t = ENGINE.keep(ENGINE.fromArray(copyInto(like.dtype, [x]), [], backend));
    deviceConstants.set(k, t);
  }
  return ENGINE.toBackend(t, backend);
}

/**
 * A tensor from a number (with the dtype of `like`) or the tensor itself.
 * @example asTensor(2, tensor([1], [1], 'float32')) // float32 scalar 2
 */
export function asTensor(x: TensorLike, like?: Tensor): Tensor {
  if (typeof x !== 'number') return x;
  if (like !== undefined && like.backend.device !== 'cpu') return deviceScalar(x, like);
  return scalar(x, like?.dtype ?? 'float64');
}
