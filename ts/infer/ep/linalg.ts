/** Dense row-major float64 linear algebra on the host for EP (n × n with n up to a few thousand). */

/** The lower Cholesky factor of a symmetric n × n matrix, or null if it is not positive definite. */
export function cholesky(a: Float64Array, n: number): Float64Array | null {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let k = 0; k < j; k++) d -= l[j * n + k] * l[j * n + k];
    if (!(d > 0) || !Number.isFinite(d)) return null;
    const ljj = Math.sqrt(d);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      const ri = i * n;
      const rj = j * n;
      for (let k = 0; k < j; k++) s -= l[ri + k] * l[rj + k];
      l[ri + j] = s / ljj;
    }
  }
  return l;
}

/** log |A| = 2 Σ log Lᵢᵢ from A's Cholesky factor. */
export function cholLogDet(l: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.log(l[i * n + i]);
  return 2 * s;
}

/** Solves L X = B in place for X (B is n × m, L lower triangular). */
export function forwardSolve(l: Float64Array, b: Float64Array, n: number, m: number): void {
  for (let i = 0; i < n; i++) {
    const lii = l[i * n + i];
    for (let k = 0; k < i; k++) {
      const lik = l[i * n + k];
      if (lik === 0) continue;
      for (let c = 0; c < m; c++) b[i * m + c] -= lik * b[k * m + c];
    }
    for (let c = 0; c < m; c++) b[i * m + c] /= lii;
  }
}

/** Solves Lᵀ X = B in place for X (B is n × m, L lower triangular). */
export function backSolveT(l: Float64Array, b: Float64Array, n: number, m: number): void {
  for (let i = n - 1; i >= 0; i--) {
    for (let c = 0; c < m; c++) b[i * m + c] /= l[i * n + i];
    for (let k = 0; k < i; k++) {
      const lik = l[i * n + k];
      if (lik === 0) continue;
      for (let c = 0; c < m; c++) b[k * m + c] -= lik * b[i * m + c];
    }
  }
}

/** A⁻¹ from A's Cholesky factor. */
export function cholInverse(l: Float64Array, n: number): Float64Array {
  const x = new Float64Array(n * n);
  for (let i = 0; i < n; i++) x[i * n + i] = 1;
  forwardSolve(l, x, n, n);
  backSolveT(l, x, n, n);
  return x;
}

/** An LU factorization with partial pivoting, P A = L U, packed (unit-lower L below the diagonal, U on and above). */
export interface Lu {
  /** L and U packed, n × n row-major. */
  readonly lu: Float64Array;
  /** Row i of P A is row perm[i] of A. */
  readonly perm: Int32Array;
  /** log |det A|. */
  readonly logAbsDet: number;
  /** The sign of det A (0 if A is singular). */
  readonly sign: number;
}

/** LU-factorizes an n × n matrix (a copy; the input is left alone). */
export function luFactor(a: Float64Array, n: number): Lu {
  const lu = Float64Array.from(a);
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  let sign = 1;
  let logAbsDet = 0;
  for (let k = 0; k < n; k++) {
    let p = k;
    let best = Math.abs(lu[k * n + k]);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(lu[i * n + k]);
      if (v > best) { best = v; p = i; }
    }
    if (best === 0) return { lu, perm, logAbsDet: -Infinity, sign: 0 };
    if (p !== k) {
      for (let c = 0; c < n; c++) {
        const t = lu[k * n + c]; lu[k * n + c] = lu[p * n + c]; lu[p * n + c] = t;
      }
      const t = perm[k]; perm[k] = perm[p]; perm[p] = t;
      sign = -sign;
    }
    const pivot = lu[k * n + k];
    if (pivot < 0) sign = -sign;
    logAbsDet += Math.log(Math.abs(pivot));
    for (let i = k + 1; i < n; i++) {
      const f = (lu[i * n + k] /= pivot);
      if (f === 0) continue;
      for (let c = k + 1; c < n; c++) lu[i * n + c] -= f * lu[k * n + c];
    }
  }
  return { lu, perm, logAbsDet, sign };
}

/** Solves A X = B for X (B is n × m) from A's LU factorization. */
export function luSolve(f: Lu, b: Float64Array, n: number, m: number): Float64Array {
  const x = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let c = 0; c < m; c++) x[i * m + c] = b[f.perm[i] * m + c];
  const lu = f.lu;
  for (let i = 0; i < n; i++)
    for (let k = 0; k < i; k++) {
      const lik = lu[i * n + k];
      if (lik !== 0) for (let c = 0; c < m; c++) x[i * m + c] -= lik * x[k * m + c];
    }
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) {
      const uik = lu[i * n + k];
      if (uik !== 0) for (let c = 0; c < m; c++) x[i * m + c] -= uik * x[k * m + c];
    }
    const uii = lu[i * n + i];
    for (let c = 0; c < m; c++) x[i * m + c] /= uii;
  }
  return x;
}

/** y = A x for an n × m matrix A. */
export function matVec(a: Float64Array, x: ArrayLike<number>, n: number, m: number): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    const r = i * m;
    for (let j = 0; j < m; j++) s += a[r + j] * x[j];
    y[i] = s;
  }
  return y;
}

/** xᵀ y. */
export function dot(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}
