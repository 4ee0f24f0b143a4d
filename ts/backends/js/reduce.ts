/**
 * Reduction kernels of the js reference backend: sum, prod, max, min, logsumexp over any set of
 * axes; argmax/argmin, softmax, logSoftmax and cumsum along one axis.
 *
 * Semantics every backend matches: float sums and products accumulate in float64 and round once on
 * store; int32 sums and products wrap modulo 2³² (as C's unsigned arithmetic); max/min propagate
 * NaN; argmax/argmin return the first index of the extreme value, and the first NaN if any (as
 * NumPy); logsumexp is max-shifted, and a slice whose max is ±Inf gives ±Inf (empty: −Inf).
 */
import type { TypedArray } from '../../core/dtype.js';
import { stridesOf, type Shape } from '../../core/shape.js';
import type { ReduceOp } from '../../kernels/spec.js';
import type { CpuKernelTable } from '../backend.js';

/** Input offsets of every combination of `axes` (row-major over those axes). */
function axisOffsets(shape: Shape, axes: readonly number[]): Int32Array {
  const strides = stridesOf(shape);
  let n = 1;
  for (const a of axes) n *= shape[a];
  const out = new Int32Array(n);
  let count = 1;
  // Build the offsets axis by axis: each pass repeats the existing ones for every index of the next axis.
  for (const a of axes) {
    const d = shape[a];
    for (let i = count - 1; i >= 0; i--) for (let j = d - 1; j >= 0; j--) out[i * d + j] = out[i] + j * strides[a];
    count *= d;
  }
  return out;
}

/** Input offsets of the kept and of the reduced elements, for reducing `axes` (sorted) of `shape`. */
export function reductionPlan(shape: Shape, axes: readonly number[]): { kept: Int32Array; reduced: Int32Array } {
  const keptAxes: number[] = [];
  for (let i = 0; i < shape.length; i++) if (!axes.includes(i)) keptAxes.push(i);
  return { kept: axisOffsets(shape, keptAxes), reduced: axisOffsets(shape, axes) };
}

/** One reduction over the elements at `base + offs[r]`; `isInt` selects int32 wrap-around. */
export type Reducer = (x: TypedArray, base: number, offs: Int32Array, isInt: boolean) => number;

/** The reducers of the reduction kernels (shared with the compiler's generated code). */
export const REDUCERS: Record<ReduceOp, Reducer> = {
  sum: (x, base, offs, isInt) => {
    let s = 0;
    if (isInt) for (let r = 0; r < offs.length; r++) s = (s + x[base + offs[r]]) | 0;
    else for (let r = 0; r < offs.length; r++) s += x[base + offs[r]];
    return s;
  },
  prod: (x, base, offs, isInt) => {
    let p = 1;
    if (isInt) for (let r = 0; r < offs.length; r++) p = Math.imul(p, x[base + offs[r]]);
    else for (let r = 0; r < offs.length; r++) p *= x[base + offs[r]];
    return p;
  },
  max: (x, base, offs) => {
    let m = -Infinity;
    for (let r = 0; r < offs.length; r++) {
      const v = x[base + offs[r]];
      if (v !== v) return NaN;
      if (v > m) m = v;
    }
    return m;
  },
  min: (x, base, offs) => {
    let m = Infinity;
    for (let r = 0; r < offs.length; r++) {
      const v = x[base + offs[r]];
      if (v !== v) return NaN;
      if (v < m) m = v;
    }
    return m;
  },
  logsumexp: (x, base, offs) => {
    const m = REDUCERS.max(x, base, offs, false);
    // Infinite or NaN max: the answer is the max itself (−Inf also covers an empty slice).
    if (m === Infinity || m === -Infinity || m !== m) return m;
    let s = 0;
    for (let r = 0; r < offs.length; r++) s += Math.exp(x[base + offs[r]] - m);
    return m + Math.log(s);
  },
};

/** Layout of a tensor around one axis: `outer` blocks of `n` entries spaced `inner` apart. */
function aroundAxis(shape: Shape, axis: number): { outer: number; n: number; inner: number } {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i];
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  return { outer, n: shape[axis], inner };
}

/** Index of the extreme value along one strided run: `better(a, b)` says a beats b; NaN wins first. */
function argExtreme(x: TypedArray, base: number, n: number, stride: number, better: (a: number, b: number) => boolean): number {
  let best = 0;
  let bv = x[base];
  if (bv !== bv) return 0;
  for (let k = 1; k < n; k++) {
    const v = x[base + k * stride];
    if (v !== v) return k;
    if (better(v, bv)) {
      best = k;
      bv = v;
    }
  }
  return best;
}

/** The reduction kernels, by name. */
export const REDUCE: CpuKernelTable = {};

for (const op of Object.keys(REDUCERS) as ReduceOp[]) {
  const f = REDUCERS[op];
  REDUCE[op] = ([x], [out], { axes }) => {
    if (op === 'sum' && out.data.length === 1 && x.dtype !== 'int32') {
      // One output element: the reduced offsets would be 0…n−1 in order, so this is the same
      // sum, without building the plan (a full sum of a few elements is the common case).
      const d = x.data;
      let s = 0;
      for (let i = 0; i < d.length; i++) s += d[i];
      out.data[0] = s;
      return;
    }
    const { kept, reduced } = reductionPlan(x.shape, axes);
    const isInt = x.dtype === 'int32';
    const o = out.data;
    for (let i = 0; i < kept.length; i++) o[i] = f(x.data, kept[i], reduced, isInt);
  };
}

for (const op of ['argmax', 'argmin'] as const) {
  const better = op === 'argmax' ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
  REDUCE[op] = ([x], [out], { axis }) => {
    const { outer, n, inner } = aroundAxis(x.shape, axis);
    const o = out.data;
    for (let p = 0; p < outer; p++)
      for (let i = 0; i < inner; i++) o[p * inner + i] = argExtreme(x.data, p * n * inner + i, n, inner, better);
  };
}

/** Softmax or log-softmax of each run along `axis`, max-shifted (a run whose max is ±Inf gives NaN). */
function softmaxAlong(x: TypedArray, o: TypedArray, shape: Shape, axis: number, log: boolean): void {
  const { outer, n, inner } = aroundAxis(shape, axis);
  for (let p = 0; p < outer; p++) {
    for (let i = 0; i < inner; i++) {
      const base = p * n * inner + i;
      let m = -Infinity;
      for (let k = 0; k < n; k++) m = Math.max(m, x[base + k * inner]);
      let s = 0;
      for (let k = 0; k < n; k++) s += Math.exp(x[base + k * inner] - m);
      const ls = Math.log(s);
      for (let k = 0; k < n; k++) {
        const j = base + k * inner;
        o[j] = log ? x[j] - m - ls : Math.exp(x[j] - m) / s;
      }
    }
  }
}

REDUCE.softmax = ([x], [out], { axis }) => softmaxAlong(x.data, out.data, x.shape, axis, false);
REDUCE.logSoftmax = ([x], [out], { axis }) => softmaxAlong(x.data, out.data, x.shape, axis, true);

REDUCE.cumsum = ([x], [out], { axis, reverse }) => {
  const { outer, n, inner } = aroundAxis(x.shape, axis);
  const isInt = x.dtype === 'int32';
  const v = x.data;
  const o = out.data;
  for (let p = 0; p < outer; p++) {
    for (let i = 0; i < inner; i++) {
      const base = p * n * inner + i;
      let s = 0;
      for (let t = 0; t < n; t++) {
        const j = base + (reverse ? n - 1 - t : t) * inner;
        s = isInt ? (s + v[j]) | 0 : s + v[j];
        o[j] = s;
      }
    }
  }
};
