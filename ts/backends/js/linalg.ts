/**
 * Linear-algebra kernels of the js reference backend: batched matmul, Cholesky and triangular
 * solves. Batch dimensions broadcast NumPy-style; each matrix is computed in float64 and rounded
 * once on store, so float32 results are the float64 ones rounded.
 */
import { fromBfloat16 } from '../../core/dtype.js';
import { NotPositiveDefiniteError, SingularMatrixError, fmtShape } from '../../core/errors.js';
import { broadcastStrides, sizeOf, type Shape } from '../../core/shape.js';
import type { CpuKernelTable } from '../backend.js';
import { walk } from './shape.js';

/** Calls `f(outBatch, offA, offB)` for every batch of the output, with broadcast input offsets. */
function eachBatch(aShape: Shape, bShape: Shape, outShape: Shape, f: (ob: number, oa: number, obb: number) => void): void {
  const batch = outShape.slice(0, -2);
  const aSize = aShape[aShape.length - 2] * aShape[aShape.length - 1];
  const bSize = bShape[bShape.length - 2] * bShape[bShape.length - 1];
  const sa = broadcastStrides(aShape.slice(0, -2), batch).map((s) => s * aSize);
  const sb = broadcastStrides(bShape.slice(0, -2), batch).map((s) => s * bSize);
  let ob = 0;
  // walk() skips an empty batch; a rank-0 batch shape visits once.
  walk(batch, sa, sb, 0, 0, (oa, obb) => f(ob++, oa, obb));
}

/** The linear-algebra kernels, by name. */
export const LINALG: CpuKernelTable = {};

LINALG.matmul = ([a, b], [out], { transA, transB }) => {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const ca = a.shape[ra - 1];
  const cb = b.shape[rb - 1];
  const m = out.shape[out.shape.length - 2];
  const n = out.shape[out.shape.length - 1];
  const kk = transA ? a.shape[ra - 2] : ca;
  // Element strides of op(A)[i][k] and op(B)[k][j].
  const [sai, sak] = transA ? [1, ca] : [ca, 1];
  const [sbk, sbj] = transB ? [1, cb] : [cb, 1];
  // bfloat16 operands: their values (exact in float32), accumulated in float64 like the others.
  const x = a.data instanceof Uint16Array ? fromBfloat16(a.data) : a.data;
  const y = b.data instanceof Uint16Array ? fromBfloat16(b.data) : b.data;
  const o = out.data;
  const row = new Float64Array(n);
  eachBatch(a.shape, b.shape, out.shape, (ob, oa, obb) => {
    for (let i = 0; i < m; i++) {
      row.fill(0);
      // i-k-j order: the inner loop runs along a row of B (contiguous unless transB).
      for (let k = 0; k < kk; k++) {
        const aik = x[oa + i * sai + k * sak];
        const bk = obb + k * sbk;
        for (let j = 0; j < n; j++) row[j] += aik * y[bk + j * sbj];
      }
      const base = (ob * m + i) * n;
      for (let j = 0; j < n; j++) o[base + j] = row[j];
    }
  });
};

LINALG.cholesky = ([a], [out]) => {
  const r = a.shape.length;
  const n = a.shape[r - 1];
  const batch = sizeOf(a.shape.slice(0, r - 2));
  const L = new Float64Array(n * n);
  const x = a.data;
  const o = out.data;
  for (let bi = 0; bi < batch; bi++) {
    const off = bi * n * n;
    L.fill(0);
    // Cholesky–Banachiewicz, row by row; only the lower triangle of the input is read.
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        let s = x[off + i * n + j];
        for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
        if (i === j) {
          if (!(s > 0))
            throw new NotPositiveDefiniteError(
              `cholesky: matrix ${bi} of the batch (shape [${a.shape.join(', ')}]) is not positive definite: pivot ${i} is ${s}`,
            );
          L[i * n + i] = Math.sqrt(s);
        } else L[i * n + j] = s / L[j * n + j];
      }
    }
    for (let t = 0; t < n * n; t++) o[off + t] = L[t];
  }
};

/**
 * Raises a SingularMatrixError when a triangular matrix of `a` (batched, row-major) has a zero on
 * its diagonal: the solve would divide by zero and return ±Infinity (the counterpart of cholesky's
 * check). O(batch · n), against the solve's O(batch · n² · k). Used by every host backend.
 */
export function checkTriangularDiagonal(data: ArrayLike<number>, shape: Shape): void {
  const n = shape[shape.length - 1];
  const batch = sizeOf(shape.slice(0, -2));
  for (let bi = 0; bi < batch; bi++)
    for (let i = 0; i < n; i++)
      if (data[bi * n * n + i * (n + 1)] === 0) throw zeroDiagonalError(bi, i, shape);
}

/** The error for diagonal element `i` of matrix `bi` of `a` (shape `shape`) being 0; shared with the device backends. */
export function zeroDiagonalError(bi: number, i: number, shape: Shape): SingularMatrixError {
  return new SingularMatrixError(`triangularSolve: matrix ${bi} of a (shape ${fmtShape(shape)}) is singular: its diagonal element ${i} is 0`);
}

LINALG.triangularSolve = ([a, b], [out], { lower, transA }) => {
  checkTriangularDiagonal(a.data, a.shape);
  const n = a.shape[a.shape.length - 1];
  const k = b.shape[b.shape.length - 1];
  // op(A)[i][j] = A[i][j], or A[j][i] when transposed; a transposed lower matrix is upper.
  const [si, sj] = transA ? [1, n] : [n, 1];
  const forward = lower !== transA;
  const A = a.data;
  const B = b.data;
  const o = out.data;
  const x = new Float64Array(n);
  eachBatch(a.shape, b.shape, out.shape, (ob, oa, obb) => {
    for (let c = 0; c < k; c++) {
      for (let t = 0; t < n; t++) {
        const i = forward ? t : n - 1 - t;
        let s = B[obb + i * k + c];
        if (forward) for (let j = 0; j < i; j++) s -= A[oa + i * si + j * sj] * x[j];
        else for (let j = i + 1; j < n; j++) s -= A[oa + i * si + j * sj] * x[j];
        x[i] = s / A[oa + i * si + i * sj];
      }
      const base = ob * n * k;
      for (let i = 0; i < n; i++) o[base + i * k + c] = x[i];
    }
  });
};
