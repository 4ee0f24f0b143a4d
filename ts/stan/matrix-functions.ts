/**
 * Stan's dense linear algebra beyond triangular solves, and sorting: `inverse`, `inverse_spd`,
 * `mdivide_left`, `mdivide_right`, `mdivide_left_spd`, `mdivide_right_spd`, `eigenvalues_sym`,
 * `eigenvectors_sym`, `sort_asc`, `sort_desc`, `sort_indices_asc`, `sort_indices_desc`, `rank`.
 *
 * The general inverse is Gaussian elimination with partial pivoting on the host, its gradient
 * −A⁻ᵀ Ḡ A⁻ᵀ; the symmetric eigendecomposition is cyclic Jacobi on the host (eigenvalues
 * ascending, as Stan's), its gradient V (diag(λ̄) + F ∘ Vᵀ V̄) Vᵀ with F_ij = 1/(λ_j − λ_i),
 * symmetrized. The SPD forms go through the Cholesky factor; sorts are gathers, so their
 * gradients flow to the elements they moved.
 */
import { customGradient } from '../core/autodiff.js';
import type { Tensor } from '../core/tensor.js';
import { tensor } from '../ops/creation.js';
import { add, mul, neg } from '../ops/elementwise.js';
import { cholesky, matmul, triangularSolve } from '../ops/linalg.js';
import { gather, reshape, transpose } from '../ops/shape.js';
import { StanRuntimeError, StanSemanticError, type Loc } from './errors.js';
import { INT, MAT, T, VEC, fmtTy, host, shapeOf, type V } from './values.js';

type Fn = (a: V[], loc: Loc) => V;

/** A square matrix argument's size, or an error naming the function. */
function square(name: string, m: V, loc: Loc): number {
  const s = shapeOf(m);
  if (m.ty.base !== 'matrix' || m.ty.arr !== 0 || s[0] !== s[1]) throw new StanSemanticError(loc, `${name}: expected a square matrix, found ${fmtTy(m.ty)}[${s.join(',')}]`);
  return s[0];
}

/** A⁻¹ of a row-major n×n matrix by elimination with partial pivoting; null when singular. */
function invertHost(a: Float64Array, n: number): Float64Array | null {
  const m = Float64Array.from(a);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]) > Math.abs(m[p * n + c])) p = r;
    const piv = m[p * n + c];
    if (piv === 0 || !Number.isFinite(piv)) return null;
    if (p !== c)
      for (let k = 0; k < n; k++) {
        [m[c * n + k], m[p * n + k]] = [m[p * n + k], m[c * n + k]];
        [inv[c * n + k], inv[p * n + k]] = [inv[p * n + k], inv[c * n + k]];
      }
    for (let k = 0; k < n; k++) {
      m[c * n + k] /= piv;
      inv[c * n + k] /= piv;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r * n + c];
      if (f === 0) continue;
      for (let k = 0; k < n; k++) {
        m[r * n + k] -= f * m[c * n + k];
        inv[r * n + k] -= f * inv[c * n + k];
      }
    }
  }
  return inv;
}

/** A⁻¹ with its gradient −A⁻ᵀ Ḡ A⁻ᵀ. */
function inverseOf(a: Tensor, loc: Loc): Tensor {
  const n = a.shape[0];
  return customGradient((x: Tensor) => {
    const inv = invertHost(host(x), n);
    if (inv === null) throw new StanRuntimeError(loc, `inverse: the ${n}×${n} matrix is singular`);
    const it = tensor(inv, [n, n]);
    return { value: it, grad: (g: Tensor) => [neg(matmul(matmul(it, g, { transA: true }), it, { transB: true }))] };
  })(a);
}

/**
 * Eigenvalues (ascending) and eigenvectors (columns) of a symmetric row-major n×n matrix by
 * cyclic Jacobi rotations.
 */
export function eighHost(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const m = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let norm = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        norm += m[i * n + j] ** 2;
        if (i !== j) off += m[i * n + j] ** 2;
      }
    if (off <= 1e-30 * norm || off === 0) break;
    for (let p = 0; p < n - 1; p++)
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (apq === 0) continue;
        const theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p];
          const mkq = m[k * n + q];
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k];
          const mqk = m[q * n + k];
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => m[i * n + i] - m[j * n + j]);
  const values = Float64Array.from(order, (i) => m[i * n + i]);
  const vectors = new Float64Array(n * n);
  for (let r = 0; r < n; r++) for (let k = 0; k < n; k++) vectors[r * n + k] = v[r * n + order[k]];
  return { values, vectors };
}

/** [eigenvalues, eigenvectors] of a symmetric matrix, differentiable (distinct eigenvalues). */
function eigh(a: Tensor): [Tensor, Tensor] {
  const n = a.shape[0];
  const r = eighHost(host(a), n);
  const vt = tensor(r.vectors, [n, n]);
  // Two ops on the one decomposition; their gradients add up on a.
  const values = customGradient(() => ({ value: tensor(r.values, [n]), grad: (gl: Tensor) => [eighGrad(vt, r.values, gl, null)] }))(a);
  const vectors = customGradient(() => ({ value: vt, grad: (gv: Tensor) => [eighGrad(vt, r.values, null, gv)] }))(a);
  return [values, vectors];
}

/** V (diag(λ̄) + F ∘ Vᵀ V̄) Vᵀ, symmetrized, with F_ij = 1/(λ_j − λ_i) off the diagonal. */
function eighGrad(v: Tensor, lam: Float64Array, gl: Tensor | null, gv: Tensor | null): Tensor {
  const n = lam.length;
  const inner = new Float64Array(n * n);
  if (gl !== null) {
    const g = host(gl);
    for (let i = 0; i < n; i++) inner[i * n + i] = g[i];
  }
  if (gv !== null) {
    const vtg = host(matmul(v, gv, { transA: true }));
    // Eigenvalues closer than rounding (a jittered kernel matrix's cluster at its jitter) span an
    // eigenspace whose basis is arbitrary: a function of the decomposition that is well defined
    // cannot depend on it, and 1/(λ_j − λ_i) would only amplify rounding there.
    const scale = lam.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
    const tiny = 1e-10 * scale;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) if (i !== j && Math.abs(lam[j] - lam[i]) > tiny) inner[i * n + j] += vtg[i * n + j] / (lam[j] - lam[i]);
  }
  const full = matmul(matmul(v, tensor(inner, [n, n])), v, { transB: true });
  return mul(add(full, transpose(full)), 0.5);
}

/** A⁻¹ B for SPD A through its Cholesky factor. */
function spdSolve(a: Tensor, b: Tensor): Tensor {
  const l = cholesky(a);
  return triangularSolve(l, triangularSolve(l, b, { lower: true }), { lower: true, transA: true });
}

const asColumn = (b: V): { t: Tensor; back: (r: Tensor) => Tensor } => {
  const t = T(b.v);
  if (b.ty.base === 'vector') return { t: reshape(t, [t.size, 1]), back: (r) => reshape(r, [t.size]) };
  return { t, back: (r) => r };
};
const dep = (a: V[]): boolean => a.some((x) => x.dep);

/** Sorting permutation of a vector or array's elements (stable), ascending or descending. */
function order(x: V, desc: boolean, loc: Loc, name: string): Int32Array {
  if (x.ty.arr + (x.ty.base === 'vector' || x.ty.base === 'row_vector' ? 1 : 0) !== 1) throw new StanSemanticError(loc, `${name}: expected a vector or a one-dimensional array, found ${fmtTy(x.ty)}`);
  const h = typeof x.v === 'number' ? [x.v] : Array.from(host(x.v));
  if (h.some(Number.isNaN)) throw new StanRuntimeError(loc, `${name}: the argument holds NaN`);
  const idx = h.map((_, i) => i).sort((i, j) => (desc ? h[j] - h[i] : h[i] - h[j]) || i - j);
  return Int32Array.from(idx);
}

function sorted(desc: boolean): Fn {
  return ([x], loc) => {
    const idx = order(x, desc, loc, desc ? 'sort_desc' : 'sort_asc');
    return { v: gather(T(x.v), tensor(idx, [idx.length], 'int32'), 0), ty: x.ty, dep: x.dep };
  };
}

function sortedIndices(desc: boolean): Fn {
  return ([x], loc) => {
    const idx = order(x, desc, loc, desc ? 'sort_indices_desc' : 'sort_indices_asc');
    return { v: tensor(Float64Array.from(idx, (i) => i + 1), [idx.length]), ty: { base: 'int', arr: 1 }, dep: false };
  };
}

/** The functions of this file, by Stan name. */
export const MATRIX_FUNCTIONS: Record<string, Fn> = {
  inverse: ([m], loc) => {
    square('inverse', m, loc);
    return { v: inverseOf(T(m.v), loc), ty: MAT, dep: m.dep };
  },
  inverse_spd: ([m], loc) => {
    const n = square('inverse_spd', m, loc);
    const eye = tensor(Float64Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? 1 : 0)), [n, n]);
    return { v: spdSolve(T(m.v), eye), ty: MAT, dep: m.dep };
  },
  mdivide_left: ([a, b], loc) => {
    square('mdivide_left', a, loc);
    const c = asColumn(b);
    return { v: c.back(matmul(inverseOf(T(a.v), loc), c.t)), ty: b.ty, dep: dep([a, b]) };
  },
  mdivide_right: ([b, a], loc) => {
    square('mdivide_right', a, loc);
    const bt = T(b.v);
    const row = b.ty.base === 'row_vector';
    const r = matmul(row ? reshape(bt, [1, bt.size]) : bt, inverseOf(T(a.v), loc));
    return { v: row ? reshape(r, [bt.size]) : r, ty: b.ty, dep: dep([a, b]) };
  },
  mdivide_left_spd: ([a, b], loc) => {
    square('mdivide_left_spd', a, loc);
    const c = asColumn(b);
    return { v: c.back(spdSolve(T(a.v), c.t)), ty: b.ty, dep: dep([a, b]) };
  },
  mdivide_right_spd: ([b, a], loc) => {
    square('mdivide_right_spd', a, loc);
    // B A⁻¹ = (A⁻¹ Bᵀ)ᵀ for symmetric A.
    const bt = T(b.v);
    const row = b.ty.base === 'row_vector';
    const r = spdSolve(T(a.v), row ? reshape(bt, [bt.size, 1]) : transpose(bt));
    return { v: row ? reshape(r, [bt.size]) : transpose(r), ty: b.ty, dep: dep([a, b]) };
  },
  eigenvalues_sym: ([m], loc) => {
    square('eigenvalues_sym', m, loc);
    return { v: eigh(T(m.v))[0], ty: VEC, dep: m.dep };
  },
  eigenvectors_sym: ([m], loc) => {
    square('eigenvectors_sym', m, loc);
    return { v: eigh(T(m.v))[1], ty: MAT, dep: m.dep };
  },
  sort_asc: sorted(false),
  sort_desc: sorted(true),
  sort_indices_asc: sortedIndices(false),
  sort_indices_desc: sortedIndices(true),
  rank: ([x, s], loc) => {
    // The number of elements less than x[s].
    const h = typeof x.v === 'number' ? [x.v] : Array.from(host(x.v));
    const i = typeof s.v === 'number' ? s.v : host(s.v)[0];
    if (!(Number.isInteger(i) && i >= 1 && i <= h.length)) throw new StanRuntimeError(loc, `rank: index ${i} out of range; expected 1..${h.length}`);
    return { v: h.filter((v) => v < h[i - 1]).length, ty: INT, dep: false };
  },
};
