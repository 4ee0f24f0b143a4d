/**
 * A data matrix held once as backend tensors, for the O(N·K·D) products of CAVI sweeps over
 * diagonal Gaussians and k-means: X_c = X − x̄ (columns centered on their means, so the expanded
 * squares below lose no precision on data far from the origin) and X_c² elementwise, both N × D
 * float64. The sweeps then run as matrix products on the backend (the Rust GEMM on cpu) instead
 * of point-by-point JavaScript loops:
 *
 *   project(L, Q)[i, j] = Σ_e X_c[i, e] L[e, j] + Σ_e X_c[i, e]² Q[e, j]      (N × K)
 *   moments(R)          = Rᵀ X_c and Rᵀ X_c²                                  (two K × D)
 *
 * which is how scikit-learn evaluates diagonal Gaussian log-densities and statistics.
 */
import { ENGINE } from '../../core/engine.js';
import type { Backend } from '../../backends/backend.js';
import type { TypedArray } from '../../core/dtype.js';
import { hostView, type Tensor } from '../../core/tensor.js';
import { tidy } from '../../core/memory.js';
import { matmul } from '../../ops/linalg.js';
import { softmax } from '../../ops/reduce.js';

/**
 * N × D data as centered backend tensors (see the module comment). Call `dispose` when done.
 * @example
 * const des = new RowDesign(x, n, d);
 * const q = des.project(lin, quad, k); // N × K: X_c·lin + X_c²·quad
 * des.dispose();
 */
export class RowDesign {
  /** Column means x̄ (the centering shift). */
  readonly shift: Float64Array;
  /** [X_c | X_c²], N × 2D: one pass over memory serves both halves of every product. */
  private readonly xx: Tensor;

  constructor(
    x: Float64Array,
    /** Rows N. */
    readonly n: number,
    /** Columns D. */
    readonly d: number,
  ) {
    const shift = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let e = 0; e < d; e++) shift[e] += x[i * d + e];
    for (let e = 0; e < d; e++) shift[e] /= n;
    const c = new Float64Array(n * 2 * d);
    for (let i = 0; i < n; i++)
      for (let e = 0; e < d; e++) {
        const v = x[i * d + e] - shift[e];
        c[i * 2 * d + e] = v;
        c[i * 2 * d + d + e] = v * v;
      }
    this.shift = shift;
    this.xx = ENGINE.fromArray(c, [n, 2 * d]);
  }

  /** X_c L + X_c² Q (N × K, row-major) for D × K coefficient matrices L and Q (null: zero). */
  project(lin: Float64Array, quad: Float64Array | null, k: number): Float64Array {
    const { d } = this;
    const coef = new Float64Array(2 * d * k);
    coef.set(lin);
    if (quad !== null) coef.set(quad, d * k);
    const c = ENGINE.fromArray(coef, [2 * d, k]);
    const out = toF64(matmul(this.xx, c));
    c.dispose();
    return out;
  }

  /** Rᵀ X_c and Rᵀ X_c², each K × D row-major, for weights R (N × K row-major). */
  moments(resp: Float64Array, k: number): {
    /** Rᵀ X_c, K × D row-major. */
    first: Float64Array;
    /** Rᵀ X_c², K × D row-major. */
    second: Float64Array;
  } {
    const { n, d } = this;
    const r = ENGINE.fromArray(resp, [n, k]);
    const m = toF64(matmul(r, this.xx, { transA: true }));
    r.dispose();
    const first = new Float64Array(k * d);
    const second = new Float64Array(k * d);
    for (let j = 0; j < k; j++) {
      first.set(m.subarray(j * 2 * d, j * 2 * d + d), j * d);
      second.set(m.subarray(j * 2 * d + d, (j + 1) * 2 * d), j * d);
    }
    return { first, second };
  }

  /** Frees the backend tensors. */
  dispose(): void {
    this.xx.dispose();
  }
}

function toF64(t: Tensor): Float64Array {
  const v = hostView(t).slice() as Float64Array;
  t.dispose();
  return v;
}

/** resp[i, ·] = softmax(logRho[i, ·]) for an N × K row-major matrix by the backend's softmax kernel (one vectorized pass). */
export function rowSoftmax(logRho: Float64Array, n: number, k: number, resp: Float64Array): void {
  const be = ENGINE.backend;
  // On the cpu device the kernel reads and writes the arrays themselves: no tensors, no copies.
  if (be.device === 'cpu') (be as Backend<TypedArray>).run('softmax', [{ data: logRho, shape: [n, k], dtype: 'float64' }], [{ data: resp, shape: [n, k], dtype: 'float64' }], { axis: 1 });
  else tidy(() => resp.set(hostView(softmax(ENGINE.fromArray(logRho, [n, k]), 1))));
}

/**
 * resp[i, ·] = softmax(logRho[i, ·]) as `rowSoftmax`; returns Σ_i logsumexp(logRho[i, ·]), read off each row's largest entry:
 * logsumexp = logRho[i, j*] − log resp[i, j*] with resp[i, j*] ≥ 1/K, so the log is well conditioned.
 */
export function softmaxRows(logRho: Float64Array, n: number, k: number, resp: Float64Array): number {
  rowSoftmax(logRho, n, k, resp);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const o = i * k;
    let best = o;
    for (let j = o + 1; j < o + k; j++) if (logRho[j] > logRho[best]) best = j;
    total += logRho[best] - Math.log(resp[best]);
  }
  return total;
}
