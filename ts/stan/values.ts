/**
 * Runtime values of the Stan interpreter. A value carries its Stan type (base type and array
 * rank), whether it depends on parameters (so `~` can drop the terms that do not, as Stan does),
 * and its data: a JS number for a scalar that needs no gradient, otherwise a float64 tensor whose
 * shape is the array dimensions followed by the vector/matrix sizes (`array[N] vector[K]` → [N, K]).
 */
import type { Tensor } from '../core/tensor.js';
import { scalar, tensor } from '../ops/creation.js';
import { reshape, slice, gather } from '../ops/shape.js';
import type { Loc } from './errors.js';
import { StanSemanticError } from './errors.js';

export type Base = 'int' | 'real' | 'vector' | 'row_vector' | 'matrix';

/** A Stan type: `array[...]` of rank `arr` over `base`. */
export interface Ty {
  readonly base: Base;
  readonly arr: number;
}

export interface V {
  readonly v: number | Tensor;
  readonly ty: Ty;
  /** True when the value depends on parameters. */
  readonly dep: boolean;
  /**
   * True inside a vectorized loop for a value that holds one element per iteration along a
   * leading dimension (`ty` is the type of one element).
   */
  readonly b?: boolean;
}

/** Thrown when a loop body turns out not to be vectorizable; the loop then runs element by element. */
export class NotVectorizable extends Error {}

export const INT: Ty = { base: 'int', arr: 0 };
export const REAL: Ty = { base: 'real', arr: 0 };
export const VEC: Ty = { base: 'vector', arr: 0 };
export const ROWVEC: Ty = { base: 'row_vector', arr: 0 };
export const MAT: Ty = { base: 'matrix', arr: 0 };

export function fmtTy(t: Ty): string {
  return t.arr === 0 ? t.base : `array[${','.repeat(t.arr - 1)}] ${t.base}`;
}

export function isScalar(t: Ty): boolean {
  return t.arr === 0 && (t.base === 'int' || t.base === 'real');
}

/** The type of one element along the first dimension: array → array of rank−1, matrix → row_vector, vector → real. */
export function elemTy(t: Ty): Ty {
  if (t.arr > 0) return { base: t.base, arr: t.arr - 1 };
  if (t.base === 'matrix') return ROWVEC;
  if (t.base === 'vector' || t.base === 'row_vector') return REAL;
  throw new Error(`elemTy: ${t.base} has no elements`);
}

/** Number of tensor dimensions of a type. */
export function rankOf(t: Ty): number {
  return t.arr + (t.base === 'matrix' ? 2 : t.base === 'vector' || t.base === 'row_vector' ? 1 : 0);
}

export function num(x: number, ty: Ty = REAL): V {
  return { v: x, ty, dep: false };
}

export function tv(t: Tensor, ty: Ty, dep: boolean): V {
  return { v: t, ty, dep };
}

export function T(x: number | Tensor): Tensor {
  return typeof x === 'number' ? scalar(x) : x;
}

export function shapeOf(x: V): number[] {
  return typeof x.v === 'number' ? [] : [...x.v.shape];
}

const hostCache = new WeakMap<Tensor, Float64Array>();
/** The elements of a data tensor (cached: data never changes). */
export function host(t: Tensor): Float64Array {
  let h = hostCache.get(t);
  if (h === undefined) {
    const d = t.dataSync();
    h = d instanceof Float64Array ? d : Float64Array.from(d);
    hostCache.set(t, h);
  }
  return h;
}

/** A scalar's value as a JS number (reads a tensor). */
export function toNum(x: V): number {
  if (x.b === true) throw new NotVectorizable('a per-iteration value used as a number');
  return typeof x.v === 'number' ? x.v : host(x.v)[0];
}

/** An int-array value's elements as 0-based integers, checked against `n`. */
export function toIndices(x: V, n: number, loc: Loc): Int32Array {
  if (x.b === true) throw new NotVectorizable('a per-iteration multi-index');
  const h = typeof x.v === 'number' ? [x.v] : host(x.v);
  const out = new Int32Array(h.length);
  for (let i = 0; i < h.length; i++) {
    if (!(h[i] >= 1 && h[i] <= n)) throw new StanSemanticError(loc, `index ${h[i]} out of range; expected 1..${n}`);
    out[i] = h[i] - 1;
  }
  return out;
}

/** Element `i` (0-based) along the first dimension. Data scalars come back as numbers. */
export function elem(x: V, i: number, loc: Loc): V {
  if (x.b === true) throw new NotVectorizable('indexing a per-iteration value');
  if (typeof x.v === 'number') throw new StanSemanticError(loc, `cannot index a ${fmtTy(x.ty)}`);
  const t = x.v;
  const n = t.shape[0];
  if (!(i >= 0 && i < n)) throw new StanSemanticError(loc, `index ${i + 1} out of range; expected 1..${n}`);
  const ty = elemTy(x.ty);
  const rest = t.shape.slice(1);
  if (!x.dep && rest.length === 0) return { v: host(t)[i], ty, dep: false };
  const s = slice(t, [i, ...rest.map(() => 0)], [1, ...rest]);
  return { v: reshape(s, rest), ty, dep: x.dep };
}

/** Elements at 0-based positions `idx` along the first dimension (a multi-index or slice). */
export function take(x: V, idx: Int32Array): Tensor {
  const t = T(x.v);
  const n = idx.length;
  let contiguous = n > 0;
  for (let k = 1; k < n && contiguous; k++) contiguous = idx[k] === idx[0] + k;
  if (contiguous) {
    const rest = t.shape.slice(1);
    return slice(t, [idx[0], ...rest.map(() => 0)], [n, ...rest]);
  }
  return gather(t, tensor(idx, [n], 'int32'), 0);
}
