/**
 * Lowerings of non-elementwise kernels for generated code, at sizes below `largeThreshold`.
 *
 * - Data movement (slice, pad, concat, transpose, gather with constant indices, diagonal,
 *   diagEmbed, tril) becomes an index map: output element i is element `idx[i]` of source
 *   `src[i]`, or a fill constant. The map is read off the js kernel itself, run once on tagged
 *   inputs, so it has the kernel's semantics by construction; codegen fuses it into its loops.
 * - Small matmul, triangular solve, Cholesky and scatterAdd with constant indices become closures
 *   specialized to their shapes (offsets precomputed, nothing allocated per call) that perform the
 *   js kernel's arithmetic in the js kernel's order, so results are bit-identical.
 */
import type { TypedArray } from '../core/dtype.js';
import { NotPositiveDefiniteError, ValueError } from '../core/errors.js';
import { broadcastStrides, sizeOf, type Shape } from '../core/shape.js';
import type { CpuView } from '../backends/backend.js';
import { JS_KERNELS } from '../backends/js/index.js';
import { checkTriangularDiagonal } from '../backends/js/linalg.js';
import { walk } from '../backends/js/shape.js';
import type { KernelAttrs } from '../kernels/spec.js';
import type { Graph, Node } from './graph.js';

/** Output element i is `sources[src[i]][idx[i]]`, or `fill[i]` where `src[i]` is −1. */
export interface MoveMap {
  /** Value ids read, in source-number order. */
  readonly sources: readonly number[];
  readonly src: Int32Array;
  readonly idx: Int32Array;
  readonly fill: Float64Array;
}

const MOVES = new Set<string>(['slice', 'pad', 'concat', 'transpose', 'gather', 'diagonal', 'diagEmbed', 'tril']);
const TAG = 2 ** 32;

/** The index map of a data-movement node, or null when it is not one (or its indices are traced). */
export function moveMap(n: Node, g: Graph): MoveMap | null {
  if (!MOVES.has(n.op) || n.outs.length !== 1) return null;
  const V = g.values;
  const out = V[n.outs[0]];
  // gather reads its indices as data: only constant ones give a fixed map.
  const dataIns = n.op === 'gather' ? [n.ins[0]] : n.ins;
  if (n.op === 'gather' && V[n.ins[1]].kind !== 'const') return null;
  if (out.size > 1 << 22 || dataIns.some((x) => V[x].size >= TAG)) return null;
  // Two runs on tags of opposite signs: a copied element flips sign, a fill constant does not.
  const runs = [1, -1].map((sign) => {
    const ins: CpuView[] = n.ins.map((x, k) => {
      const v = V[x];
      if (k >= dataIns.length) return { data: v.data as TypedArray, shape: v.shape, dtype: v.dtype };
      const d = new Float64Array(v.size);
      for (let j = 0; j < v.size; j++) d[j] = sign * (k * TAG + j + 1);
      return { data: d, shape: v.shape, dtype: v.dtype };
    });
    const o: CpuView = { data: new Float64Array(out.size), shape: out.shape, dtype: out.dtype };
    (JS_KERNELS[n.op] as (i: readonly CpuView[], o: readonly CpuView[], a: unknown) => void)(ins, [o], n.attrs);
    return o.data;
  });
  const [r1, r2] = runs;
  const src = new Int32Array(out.size);
  const idx = new Int32Array(out.size);
  const fill = new Float64Array(out.size);
  for (let i = 0; i < out.size; i++) {
    if (Object.is(r1[i], r2[i])) {
      src[i] = -1;
      idx[i] = -1;
      fill[i] = r1[i];
      continue;
    }
    const t = r1[i] - 1;
    const k = Math.floor(t / TAG);
    const j = t - k * TAG;
    if (!(r2[i] === -r1[i] && k >= 0 && k < dataIns.length && j < V[dataIns[k]].size)) return null;
    src[i] = k;
    idx[i] = j;
  }
  return { sources: dataIns, src, idx, fill };
}

/**
 * A gather whose indices are traced (data passed in): element i of the output reads
 * `x[base[i] + idx[q[i]] · inner]`; `base` and `q` are null when the gather is along the only
 * axis (then it reads `x[idx[i]]`). Indices are checked against `n` before the loop runs.
 */
export interface DynGather {
  readonly x: number;
  readonly idx: number;
  readonly n: number;
  readonly inner: number;
  readonly axis: number;
  readonly base: Int32Array | null;
  readonly q: Int32Array | null;
}

/** The plan of a gather with traced indices, or null for other nodes. */
export function dynGather(n: Node, g: Graph): DynGather | null {
  if (n.op !== 'gather') return null;
  const V = g.values;
  const x = V[n.ins[0]];
  const idx = V[n.ins[1]];
  if (idx.kind === 'const') return null;
  const { axis } = n.attrs as KernelAttrs['gather'];
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= x.shape[i];
  for (let i = axis + 1; i < x.shape.length; i++) inner *= x.shape[i];
  const nx = x.shape[axis];
  if (outer === 1 && inner === 1) return { x: x.id, idx: idx.id, n: nx, inner, axis, base: null, q: null };
  const nq = idx.size;
  const size = outer * nq * inner;
  const base = new Int32Array(size);
  const q = new Int32Array(size);
  let t = 0;
  for (let p = 0; p < outer; p++)
    for (let j = 0; j < nq; j++)
      for (let r = 0; r < inner; r++) {
        base[t] = p * nx * inner + r;
        q[t++] = j;
      }
  return { x: x.id, idx: idx.id, n: nx, inner, axis, base, q };
}

/** The index check of gather and scatterAdd: the js kernels' error for the first bad index. */
export function checkIndices(op: string, idx: TypedArray, size: number, axis: number): void {
  for (let q = 0; q < idx.length; q++) {
    const v = idx[q];
    if (v < 0 || v >= size) throw new ValueError(`${op}: index ${v} is out of range for axis ${axis} of size ${size}`);
  }
}

type Special = (...a: TypedArray[]) => void;

/** Offsets of every output batch into a and b (NumPy broadcasting of the batch dims). */
function batchOffsets(aShape: Shape, bShape: Shape, outShape: Shape): [Int32Array, Int32Array] {
  const batch = outShape.slice(0, -2);
  const aSize = aShape[aShape.length - 2] * aShape[aShape.length - 1];
  const bSize = bShape[bShape.length - 2] * bShape[bShape.length - 1];
  const sa = broadcastStrides(aShape.slice(0, -2), batch).map((s) => s * aSize);
  const sb = broadcastStrides(bShape.slice(0, -2), batch).map((s) => s * bSize);
  const oa: number[] = [];
  const ob: number[] = [];
  walk(batch, sa, sb, 0, 0, (x, y) => {
    oa.push(x);
    ob.push(y);
  });
  return [Int32Array.from(oa), Int32Array.from(ob)];
}

function matmul(a: Shape, b: Shape, out: Shape, { transA, transB }: KernelAttrs['matmul']): Special {
  const ca = a[a.length - 1];
  const cb = b[b.length - 1];
  const m = out[out.length - 2];
  const n = out[out.length - 1];
  const kk = transA ? a[a.length - 2] : ca;
  const [sai, sak] = transA ? [1, ca] : [ca, 1];
  const [sbk, sbj] = transB ? [1, cb] : [cb, 1];
  const [OA, OB] = batchOffsets(a, b, out);
  // Each output element is the js kernel's sum: from 0, adding the products over k in ascending
  // order. Any schedule that keeps that sequence per element gives the same bits, so the loops
  // follow the memory layout, and independent sums are interleaved for instruction-level
  // parallelism (4 rows at once; 4 steps of k per pass over an accumulator row).
  const k4 = kk - (kk % 4);
  if (transA && n === 1) {
    // Aᵀ times a vector: four rows of A per pass over float64 accumulators.
    const acc = new Float64Array(m);
    return (x, y, o) => {
      for (let bi = 0; bi < OA.length; bi++) {
        const oa = OA[bi];
        const obb = OB[bi];
        acc.fill(0);
        let k = 0;
        for (; k < k4; k += 4) {
          const y0 = y[obb + k * sbk];
          const y1 = y[obb + (k + 1) * sbk];
          const y2 = y[obb + (k + 2) * sbk];
          const y3 = y[obb + (k + 3) * sbk];
          const r0 = oa + k * sak;
          const r1 = r0 + sak;
          const r2 = r1 + sak;
          const r3 = r2 + sak;
          for (let i = 0; i < m; i++) {
            let s = acc[i];
            s += x[r0 + i] * y0;
            s += x[r1 + i] * y1;
            s += x[r2 + i] * y2;
            s += x[r3 + i] * y3;
            acc[i] = s;
          }
        }
        for (; k < kk; k++) {
          const yk = y[obb + k * sbk];
          const r = oa + k * sak;
          for (let i = 0; i < m; i++) acc[i] += x[r + i] * yk;
        }
        for (let i = 0; i < m; i++) o[bi * m + i] = acc[i];
      }
    };
  }
  if (transA || n > 1) {
    // Accumulate whole output rows: k outermost when op(A) is read down its columns.
    const acc = new Float64Array(transA ? m * n : n);
    const rows = transA ? m : 1;
    return (x, y, o) => {
      for (let bi = 0; bi < OA.length; bi++) {
        const oa = OA[bi];
        const obb = OB[bi];
        for (let i0 = 0; i0 < m; i0 += rows) {
          acc.fill(0);
          let k = 0;
          for (; k < k4; k += 4) {
            const b0 = obb + k * sbk;
            const b1 = b0 + sbk;
            const b2 = b1 + sbk;
            const b3 = b2 + sbk;
            for (let i = i0; i < i0 + rows; i++) {
              const ai = oa + i * sai + k * sak;
              const a0 = x[ai];
              const a1 = x[ai + sak];
              const a2 = x[ai + 2 * sak];
              const a3 = x[ai + 3 * sak];
              const r = (i - i0) * n;
              for (let j = 0; j < n; j++) {
                const jj = j * sbj;
                let s = acc[r + j];
                s += a0 * y[b0 + jj];
                s += a1 * y[b1 + jj];
                s += a2 * y[b2 + jj];
                s += a3 * y[b3 + jj];
                acc[r + j] = s;
              }
            }
          }
          for (; k < kk; k++) {
            const bk = obb + k * sbk;
            for (let i = i0; i < i0 + rows; i++) {
              const aik = x[oa + i * sai + k * sak];
              const r = (i - i0) * n;
              for (let j = 0; j < n; j++) acc[r + j] += aik * y[bk + j * sbj];
            }
          }
          const base = (bi * m + i0) * n;
          for (let t = 0; t < rows * n; t++) o[base + t] = acc[t];
        }
      }
    };
  }
  // A matrix (rows contiguous) times a vector: dot products, four rows at a time.
  const m4 = m - (m % 4);
  return (x, y, o) => {
    for (let bi = 0; bi < OA.length; bi++) {
      const oa = OA[bi];
      const obb = OB[bi];
      let i = 0;
      for (; i < m4; i += 4) {
        const a0 = oa + i * sai;
        const a1 = a0 + sai;
        const a2 = a1 + sai;
        const a3 = a2 + sai;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let k = 0; k < kk; k++) {
          const yk = y[obb + k * sbk];
          s0 += x[a0 + k] * yk;
          s1 += x[a1 + k] * yk;
          s2 += x[a2 + k] * yk;
          s3 += x[a3 + k] * yk;
        }
        o[bi * m + i] = s0;
        o[bi * m + i + 1] = s1;
        o[bi * m + i + 2] = s2;
        o[bi * m + i + 3] = s3;
      }
      for (; i < m; i++) {
        const ai = oa + i * sai;
        let s = 0;
        for (let k = 0; k < kk; k++) s += x[ai + k] * y[obb + k * sbk];
        o[bi * m + i] = s;
      }
    }
  };
}

function triangularSolve(a: Shape, b: Shape, out: Shape, { lower, transA }: KernelAttrs['triangularSolve']): Special {
  const n = a[a.length - 1];
  const k = b[b.length - 1];
  const [si, sj] = transA ? [1, n] : [n, 1];
  const forward = lower !== transA;
  const [OA, OB] = batchOffsets(a, b, out);
  const x = new Float64Array(n);
  return (A, B, o) => {
    checkTriangularDiagonal(A, a);
    for (let bi = 0; bi < OA.length; bi++) {
      const oa = OA[bi];
      const obb = OB[bi];
      const base = bi * n * k;
      for (let c = 0; c < k; c++) {
        for (let t = 0; t < n; t++) {
          const i = forward ? t : n - 1 - t;
          let s = B[obb + i * k + c];
          const ai = oa + i * si;
          if (forward) for (let j = 0; j < i; j++) s -= A[ai + j * sj] * x[j];
          else for (let j = i + 1; j < n; j++) s -= A[ai + j * sj] * x[j];
          x[i] = s / A[ai + i * sj];
        }
        for (let i = 0; i < n; i++) o[base + i * k + c] = x[i];
      }
    }
  };
}

function cholesky(shape: Shape): Special {
  const r = shape.length;
  const n = shape[r - 1];
  const batch = sizeOf(shape.slice(0, r - 2));
  const L = new Float64Array(n * n);
  return (x, o) => {
    for (let bi = 0; bi < batch; bi++) {
      const off = bi * n * n;
      L.fill(0);
      for (let i = 0; i < n; i++)
        for (let j = 0; j <= i; j++) {
          let s = x[off + i * n + j];
          for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
          if (i === j) {
            if (!(s > 0))
              throw new NotPositiveDefiniteError(`cholesky: matrix ${bi} of the batch (shape [${shape.join(', ')}]) is not positive definite: pivot ${i} is ${s}`);
            L[i * n + i] = Math.sqrt(s);
          } else L[i * n + j] = s / L[j * n + j];
        }
      for (let t = 0; t < n * n; t++) o[off + t] = L[t];
    }
  };
}

/**
 * scatterAdd with constant indices, grouped by destination (compressed rows): each output element
 * sums its updates in a register, in the js kernel's order (a stable grouping keeps the update
 * order per destination, so the sums are the same bits).
 */
function scatterAdd(idxData: TypedArray, out: Shape, isInt: boolean, { axis }: KernelAttrs['scatterAdd']): Special {
  const size = out[axis];
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= out[i];
  for (let i = axis + 1; i < out.length; i++) inner *= out[i];
  const nq = idxData.length;
  const nOut = outer * size * inner;
  const start = new Int32Array(nOut + 1);
  for (let p = 0; p < outer; p++)
    for (let q = 0; q < nq; q++) for (let i = 0; i < inner; i++) start[(p * size + idxData[q]) * inner + i + 1]++;
  for (let d = 0; d < nOut; d++) start[d + 1] += start[d];
  const src = new Int32Array(start[nOut]);
  const fill = start.slice(0, nOut);
  for (let p = 0; p < outer; p++)
    for (let q = 0; q < nq; q++)
      for (let i = 0; i < inner; i++) src[fill[(p * size + idxData[q]) * inner + i]++] = (p * nq + q) * inner + i;
  if (isInt)
    return (u, o) => {
      for (let d = 0; d < nOut; d++) {
        let acc = 0;
        for (let j = start[d]; j < start[d + 1]; j++) acc = (acc + u[src[j]]) | 0;
        o[d] = acc;
      }
    };
  return (u, o) => {
    for (let d = 0; d < nOut; d++) {
      let acc = 0;
      for (let j = start[d]; j < start[d + 1]; j++) acc += u[src[j]];
      o[d] = acc;
    }
  };
}

/** scatterAdd with traced indices: the js kernel's loops over fixed offsets. */
function scatterAddDyn(nq: number, out: Shape, isInt: boolean, { axis, size }: KernelAttrs['scatterAdd']): Special {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= out[i];
  for (let i = axis + 1; i < out.length; i++) inner *= out[i];
  if (outer === 1 && inner === 1)
    // The common case (a gather's gradient over a vector): a loop V8 runs ~4× faster than the general one.
    return isInt
      ? (u, ix, o) => {
          checkIndices('scatterAdd', ix, size, axis);
          o.fill(0);
          for (let q = 0; q < nq; q++) o[ix[q]] = (o[ix[q]] + u[q]) | 0;
        }
      : (u, ix, o) => {
          checkIndices('scatterAdd', ix, size, axis);
          o.fill(0);
          for (let q = 0; q < nq; q++) o[ix[q]] += u[q];
        };
  return (u, ix, o) => {
    checkIndices('scatterAdd', ix, size, axis);
    o.fill(0);
    for (let p = 0; p < outer; p++)
      for (let q = 0; q < nq; q++) {
        const src = (p * nq + q) * inner;
        const dst = (p * size + ix[q]) * inner;
        if (isInt) for (let i = 0; i < inner; i++) o[dst + i] = (o[dst + i] + u[src + i]) | 0;
        else for (let i = 0; i < inner; i++) o[dst + i] += u[src + i];
      }
  };
}

/** A shape-specialized closure for a small linear-algebra or scatter node, or null. */
export function specialKernel(n: Node, g: Graph): Special | null {
  const V = g.values;
  const sh = (k: number): Shape => V[n.ins[k]].shape;
  const out = V[n.outs[0]];
  switch (n.op) {
    case 'matmul':
      return matmul(sh(0), sh(1), out.shape, n.attrs as KernelAttrs['matmul']);
    case 'triangularSolve':
      return triangularSolve(sh(0), sh(1), out.shape, n.attrs as KernelAttrs['triangularSolve']);
    case 'cholesky':
      return cholesky(sh(0));
    case 'scatterAdd': {
      const idx = V[n.ins[1]];
      if (idx.kind !== 'const') return scatterAddDyn(idx.size, out.shape, out.dtype === 'int32', n.attrs as KernelAttrs['scatterAdd']);
      return scatterAdd(idx.data as TypedArray, out.shape, out.dtype === 'int32', n.attrs as KernelAttrs['scatterAdd']);
    }
    default:
      return null;
  }
}
