/**
 * Small dense linear algebra on row-major `Float64Array`s for the conjugate models (d × d with d
 * in the tens): Cholesky, triangular solves, inverse and log-determinant. Plain loops: at these
 * sizes a call into a kernel costs more than the arithmetic.
 * @internal
 */
import { NotPositiveDefiniteError, ValueError } from '../../core/errors.js';
import { digamma, lgamma } from '../../backends/js/special.js';

export { digamma, lgamma };

/** The lower Cholesky factor L of the symmetric n × n matrix `a` (L Lᵀ = a); `a` is not modified. */
export function cholesky(a: Float64Array, n: number, what: string): Float64Array {
  const l = new Float64Array(n * n);
  // A pivot below n·ε·max|a_ii| is rounding noise: the matrix is singular to working precision.
  let maxDiag = 0;
  for (let j = 0; j < n; j++) maxDiag = Math.max(maxDiag, Math.abs(a[j * n + j]));
  const tiny = n * 2.220446049250313e-16 * maxDiag;
  for (let j = 0; j < n; j++) {
    let s = a[j * n + j];
    for (let k = 0; k < j; k++) s -= l[j * n + k] * l[j * n + k];
    if (!(s > tiny)) throw new NotPositiveDefiniteError(`${what}: matrix is not positive definite (pivot ${j} is ${s})`);
    const d = Math.sqrt(s);
    l[j * n + j] = d;
    for (let i = j + 1; i < n; i++) {
      let t = a[i * n + j];
      for (let k = 0; k < j; k++) t -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = t / d;
    }
  }
  return l;
}

/** log|a| = 2 Σ log L_ii from a Cholesky factor. */
export function cholLogdet(l: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.log(l[i * n + i]);
  return 2 * s;
}

/** Solves L Lᵀ x = b in place on `b` (length n). */
export function cholSolve(l: Float64Array, n: number, b: Float64Array): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i * n + k] * b[k];
    b[i] = s / l[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * b[k];
    b[i] = s / l[i * n + i];
  }
  return b;
}

/** a⁻¹ from the Cholesky factor of a. */
export function cholInverse(l: Float64Array, n: number): Float64Array {
  const inv = new Float64Array(n * n);
  const col = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    col.fill(0);
    col[j] = 1;
    cholSolve(l, n, col);
    for (let i = 0; i < n; i++) inv[i * n + j] = col[i];
  }
  return inv;
}

/** L⁻¹ (lower triangular, row-major) of a lower-triangular L with a non-zero diagonal, by forward substitution per column. */
export function lowerInverse(l: Float64Array, n: number): Float64Array {
  const inv = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    inv[j * n + j] = 1 / l[j * n + j];
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      for (let k = j; k < i; k++) s -= l[i * n + k] * inv[k * n + j];
      inv[i * n + j] = s / l[i * n + i];
    }
  }
  return inv;
}

/** The inverse of a symmetric positive-definite matrix, with its log-determinant. */
export function spdInverse(a: Float64Array, n: number, what: string): { inv: Float64Array; logdet: number } {
  const l = cholesky(a, n, what);
  return { inv: cholInverse(l, n), logdet: cholLogdet(l, n) };
}

/** tr(a b) for n × n matrices. */
export function traceProd(a: Float64Array, b: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s += a[i * n + j] * b[j * n + i];
  return s;
}

/** xᵀ a x for an n × n matrix and a vector (or the difference x − y when y is given). */
export function quadForm(a: Float64Array, n: number, x: ArrayLike<number>, y?: ArrayLike<number>, xOff = 0, yOff = 0): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const di = x[xOff + i] - (y ? y[yOff + i] : 0);
    let t = 0;
    for (let j = 0; j < n; j++) t += a[i * n + j] * (x[xOff + j] - (y ? y[yOff + j] : 0));
    s += di * t;
  }
  return s;
}

/** log Σ exp(v[off..off+n)). */
export function logSumExp(v: Float64Array, off: number, n: number): number {
  let m = -Infinity;
  for (let i = 0; i < n; i++) if (v[off + i] > m) m = v[off + i];
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.exp(v[off + i] - m);
  return m + Math.log(s);
}

/** Throws ValueError naming `what` if any entry is NaN or ±Inf. */
export function checkFinite(what: string, x: ArrayLike<number>): void {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new ValueError(`${what}: entry ${i} is ${x[i]}; the input must be finite (no NaN or Inf)`);
  }
}

/** Row-major copy of a number[][] or validation of a flat array against n × d. */
export function asMatrix(what: string, x: Float64Array | readonly (readonly number[])[], d?: number): { data: Float64Array; n: number; d: number } {
  if (x instanceof Float64Array) {
    if (d === undefined || !(d > 0) || x.length % d !== 0)
      throw new ValueError(`${what}: a flat Float64Array needs the number of columns d dividing its length ${x.length}, got d = ${d}`);
    checkFinite(what, x);
    return { data: x, n: x.length / d, d };
  }
  const n = x.length;
  if (n === 0) throw new ValueError(`${what}: no rows`);
  const cols = x[0].length;
  const data = new Float64Array(n * cols);
  for (let i = 0; i < n; i++) {
    if (x[i].length !== cols) throw new ValueError(`${what}: row ${i} has ${x[i].length} entries, row 0 has ${cols}`);
    for (let j = 0; j < cols; j++) data[i * cols + j] = x[i][j];
  }
  checkFinite(what, data);
  return { data, n, d: cols };
}

/**
 * ψ(x) for x > 0, for hot loops: the recurrence ψ(x) = ψ(x + 1) − 1/x up to 7, then the
 * asymptotic series to x⁻¹² (absolute error below 2e-13, against the reference `digamma`).
 */
export function psi(x: number): number {
  let acc = 0;
  while (x < 7) {
    acc -= 1 / x;
    x += 1;
  }
  const r = 1 / x;
  const r2 = r * r;
  return (
    acc +
    Math.log(x) -
    0.5 * r -
    r2 * (1 / 12 - r2 * (1 / 120 - r2 * (1 / 252 - r2 * (1 / 240 - r2 * (1 / 132 - r2 * (691 / 32760))))))
  );
}
