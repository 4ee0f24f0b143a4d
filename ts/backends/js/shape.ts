/**
 * Shape kernels of the js reference backend: reshape, transpose, slice, pad, gather, scatterAdd,
 * concat, broadcastTo, oneHot, diagonal, diagEmbed, tril. Tensors are contiguous and row-major.
 *
 * Index semantics every backend matches: gather and scatterAdd accept indices in [0, size) only
 * (negative ones are out of range too) and throw a ValueError naming the op, the index and the
 * axis size before writing anything; oneHot maps an out-of-range index to a row of zeros.
 */
import type { TypedArray } from '../../core/dtype.js';
import { ValueError } from '../../core/errors.js';
import { broadcastStrides, sizeOf, stridesOf, type Shape } from '../../core/shape.js';
import type { CpuKernelTable } from '../backend.js';

/**
 * Walks `shape` in row-major order, calling `f(ia, ib)` with offsets that advance by strides
 * `sa` and `sb` from `a0` and `b0`.
 */
export function walk(shape: Shape, sa: readonly number[], sb: readonly number[], a0: number, b0: number, f: (ia: number, ib: number) => void): void {
  const n = sizeOf(shape);
  if (n === 0) return;
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  let ia = a0;
  let ib = b0;
  for (let i = 0; i < n; i++) {
    f(ia, ib);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      ia += sa[d];
      ib += sb[d];
      if (idx[d] < shape[d]) break;
      ia -= sa[d] * shape[d];
      ib -= sb[d] * shape[d];
      idx[d] = 0;
    }
  }
}

/** Copies `src` read at strides `srcStrides` from `srcBase` into contiguous `dst` of `shape`. */
function gatherStrided(src: TypedArray, srcBase: number, srcStrides: readonly number[], dst: TypedArray, shape: Shape): void {
  walk(shape, srcStrides, stridesOf(shape), srcBase, 0, (is, id) => {
    dst[id] = src[is];
  });
}

/** Sizes before, at and after `axis`. */
function aroundAxis(shape: Shape, axis: number): { outer: number; n: number; inner: number } {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i];
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  return { outer, n: shape[axis], inner };
}

/** Throws the index error of gather/scatterAdd for the first index outside [0, size). */
function checkIndices(op: string, idx: TypedArray, size: number, axis: number): void {
  for (let q = 0; q < idx.length; q++) {
    const v = idx[q];
    if (v < 0 || v >= size) throw new ValueError(`${op}: index ${v} is out of range for axis ${axis} of size ${size}`);
  }
}

/** The shape kernels, by name. */
export const SHAPE: CpuKernelTable = {};

SHAPE.reshape = ([x], [out]) => out.data.set(x.data);

SHAPE.transpose = ([x], [out], { perm }) => {
  const st = stridesOf(x.shape);
  gatherStrided(x.data, 0, perm.map((p) => st[p]), out.data, out.shape);
};

SHAPE.slice = ([x], [out], { begin }) => {
  const st = stridesOf(x.shape);
  let base = 0;
  for (let i = 0; i < begin.length; i++) base += begin[i] * st[i];
  gatherStrided(x.data, base, st, out.data, out.shape);
};

SHAPE.pad = ([x], [out], { before, value }) => {
  out.data.fill(value);
  const so = stridesOf(out.shape);
  let base = 0;
  for (let i = 0; i < before.length; i++) base += before[i] * so[i];
  const o = out.data;
  const v = x.data;
  walk(x.shape, stridesOf(x.shape), so, 0, base, (ix, io) => {
    o[io] = v[ix];
  });
};

SHAPE.broadcastTo = ([x], [out]) => gatherStrided(x.data, 0, broadcastStrides(x.shape, out.shape), out.data, out.shape);

SHAPE.gather = ([x, idx], [out], { axis }) => {
  const { outer, n, inner } = aroundAxis(x.shape, axis);
  const ix = idx.data;
  checkIndices('gather', ix, n, axis);
  const nq = ix.length;
  const v = x.data;
  const o = out.data;
  for (let p = 0; p < outer; p++)
    for (let q = 0; q < nq; q++) {
      const src = (p * n + ix[q]) * inner;
      const dst = (p * nq + q) * inner;
      for (let i = 0; i < inner; i++) o[dst + i] = v[src + i];
    }
};

SHAPE.scatterAdd = ([upd, idx], [out], { axis, size }) => {
  const ix = idx.data;
  checkIndices('scatterAdd', ix, size, axis);
  const nq = ix.length;
  const { outer, inner } = aroundAxis(out.shape, axis);
  const u = upd.data;
  const o = out.data;
  const isInt = out.dtype === 'int32';
  o.fill(0);
  for (let p = 0; p < outer; p++)
    for (let q = 0; q < nq; q++) {
      const src = (p * nq + q) * inner;
      const dst = (p * size + ix[q]) * inner;
      // int32 accumulates with wrap-around, as the reductions do.
      if (isInt) for (let i = 0; i < inner; i++) o[dst + i] = (o[dst + i] + u[src + i]) | 0;
      else for (let i = 0; i < inner; i++) o[dst + i] += u[src + i];
    }
};

SHAPE.concat = (xs, [out], { axis }) => {
  const { outer, n: total, inner } = aroundAxis(out.shape, axis);
  const o = out.data;
  let at = 0;
  for (const x of xs) {
    const chunk = x.shape[axis] * inner;
    const v = x.data;
    for (let p = 0; p < outer; p++) {
      const dst = p * total * inner + at;
      for (let i = 0; i < chunk; i++) o[dst + i] = v[p * chunk + i];
    }
    at += chunk;
  }
};

SHAPE.oneHot = ([x], [out], { depth }) => {
  const o = out.data;
  const ix = x.data;
  o.fill(0);
  for (let q = 0; q < ix.length; q++) {
    const v = ix[q];
    if (v >= 0 && v < depth) o[q * depth + v] = 1;
  }
};

/** Batch count, rows and columns of a (batch of) matrices. */
function matLayout(shape: Shape): { batch: number; m: number; n: number } {
  const r = shape.length;
  return { batch: sizeOf(shape.slice(0, r - 2)), m: shape[r - 2], n: shape[r - 1] };
}

SHAPE.diagonal = ([x], [out]) => {
  const { batch, m, n } = matLayout(x.shape);
  const k = Math.min(m, n);
  const v = x.data;
  const o = out.data;
  for (let b = 0; b < batch; b++) for (let i = 0; i < k; i++) o[b * k + i] = v[b * m * n + i * n + i];
};

SHAPE.diagEmbed = ([x], [out]) => {
  const n = x.shape[x.shape.length - 1];
  const batch = n === 0 ? 0 : x.data.length / n;
  const v = x.data;
  const o = out.data;
  o.fill(0);
  for (let b = 0; b < batch; b++) for (let i = 0; i < n; i++) o[b * n * n + i * n + i] = v[b * n + i];
};

SHAPE.tril = ([x], [out], { k }) => {
  const { batch, m, n } = matLayout(x.shape);
  const v = x.data;
  const o = out.data;
  for (let b = 0; b < batch; b++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        const at = b * m * n + i * n + j;
        o[at] = j - i <= k ? v[at] : 0;
      }
};
