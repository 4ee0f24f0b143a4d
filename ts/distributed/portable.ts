/**
 * Values that cross a thread or process boundary: tensors as `{ dtype, shape, data }` records
 * (structured-clone friendly), keys as their two words, and the rule by which a job's plain
 * arguments become tensors on the other side.
 */
import type { DType, TypedArray } from '../core/dtype.js';
import { ValueError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import { tensor } from '../ops/creation.js';
import { Key, key } from '../random/key.js';

/**
 * A tensor as plain data: its dtype, shape and a row-major copy of its elements. It survives
 * `postMessage` (structured clone) and JSON (with `data` as an array).
 * @example const p = toPortable(tensor([1, 2, 3])); // { dtype: 'float64', shape: [3], data: Float64Array [1, 2, 3] }
 */
export interface PortableTensor {
  /** The element type. */
  dtype: DType;
  /** The shape. */
  shape: number[];
  /** The elements, row-major. */
  data: TypedArray;
}

/**
 * A key as it crosses a boundary: a non-negative integer seed (as `key(seed)`) or the key's two
 * uint32 words `[k0, k1]` (as `Key.words`).
 * @example const jobKey: PortableKey = foldIn(key(0), 7).words;
 */
export type PortableKey = number | [number, number];

/**
 * A tensor as a {@link PortableTensor} (its data copied).
 * @example worker.postMessage(toPortable(params.loc));
 */
export function toPortable(t: Tensor): PortableTensor {
  return { dtype: t.dtype, shape: [...t.shape], data: t.dataSync().slice() };
}

/**
 * Whether `v` has the shape of a {@link PortableTensor}.
 * @example isPortableTensor({ dtype: 'float64', shape: [2], data: new Float64Array(2) }); // true
 */
export function isPortableTensor(v: unknown): v is PortableTensor {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.dtype === 'string' && Array.isArray(o.shape) && ArrayBuffer.isView(o.data);
}

/**
 * The tensor a {@link PortableTensor} describes.
 * @example const t = fromPortable({ dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) });
 */
export function fromPortable(p: PortableTensor): Tensor {
  return tensor(p.data, p.shape, p.dtype);
}

/**
 * The key a {@link PortableKey} names; `site` names the caller in the error for anything else.
 * @example toKey([3, 0]); // Key(3, 0)
 */
export function toKey(k: PortableKey, site = 'key'): Key {
  if (typeof k === 'number') return key(k);
  if (Array.isArray(k) && k.length === 2 && k.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)) return new Key(k[0], k[1]);
  throw new ValueError(`${site}: a key is a seed (non-negative integer) or two uint32 words [k0, k1], got ${JSON.stringify(k)}`);
}

function isNumericArray(v: unknown): boolean {
  if (typeof v === 'number') return true;
  return Array.isArray(v) && v.length > 0 && v.every(isNumericArray);
}

/**
 * A job argument as the worker passes it to the model: a {@link PortableTensor}, a typed array or a
 * (nested) array of numbers becomes a tensor (float64 for plain arrays, the array's own dtype
 * otherwise); numbers, strings, booleans and null stay as they are; arrays of anything else and
 * plain objects are mapped entry by entry.
 * @example decodeArg([[1, 2], [3, 4]]); // a [2, 2] float64 tensor
 */
export function decodeArg(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (isPortableTensor(v)) return fromPortable(v);
  if (v instanceof Float64Array) return tensor(v, [v.length], 'float64');
  if (v instanceof Float32Array) return tensor(v, [v.length], 'float32');
  if (v instanceof Int32Array) return tensor(v, [v.length], 'int32');
  if (Array.isArray(v)) return isNumericArray(v) ? tensor(v as number[]) : v.map(decodeArg);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = decodeArg(x);
  return out;
}

/**
 * The inverse direction, for results: tensors become {@link PortableTensor}s, anything else is
 * mapped entry by entry (arrays and plain objects) or kept.
 * @example encodeResult({ loc: tensor([1, 2]) }); // { loc: { dtype: 'float64', shape: [2], data: … } }
 */
export function encodeResult(v: unknown): unknown {
  if (v instanceof Tensor) return toPortable(v);
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return v;
  if (Array.isArray(v)) return v.map(encodeResult);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = encodeResult(x);
  return out;
}
