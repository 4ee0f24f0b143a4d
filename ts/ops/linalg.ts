/** Linear algebra: batched matmul, Cholesky, triangular solves and what is built on them. */
import { ENGINE } from '../core/engine.js';
import { ShapeError, fmtShape } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { log, mul } from './elementwise.js';
import { sum } from './reduce.js';
import { reshape } from './shape.js';

/**
 * Matrix product with NumPy's matmul rules: batch dimensions broadcast; a vector operand is
 * promoted to a matrix and the added axis removed from the result.
 * @example matmul(a, b, { transB: true }) // a · bᵀ
 */
export function matmul(a: Tensor, b: Tensor, opts: { transA?: boolean; transB?: boolean } = {}): Tensor {
  if (a.shape.length === 0 || b.shape.length === 0) throw new ShapeError(`matmul: operands must have rank >= 1, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  const av = a.shape.length === 1;
  const bv = b.shape.length === 1;
  const A = av ? reshape(a, [1, a.shape[0]]) : a;
  const B = bv ? reshape(b, [b.shape[0], 1]) : b;
  let y = ENGINE.runKernel('matmul', [A, B], { transA: (opts.transA ?? false) && !av, transB: (opts.transB ?? false) && !bv })[0];
  if (av || bv) {
    const s = y.shape.slice(0, -2);
    if (!av) s.push(y.shape[y.shape.length - 2]);
    if (!bv) s.push(y.shape[y.shape.length - 1]);
    y = reshape(y, s);
  }
  return y;
}

/**
 * Lower Cholesky factor L of each symmetric positive-definite matrix (A = L Lᵀ).
 * @example cholesky(tensor([[4, 2], [2, 3]])) // [[2, 0], [1, √2]]
 */
export function cholesky(a: Tensor): Tensor {
  return ENGINE.runKernel('cholesky', [a], {})[0];
}

/**
 * Solves A X = B for triangular A (batched): `lower` says which triangle A holds, `transA` solves
 * Aᵀ X = B instead.
 * @example triangularSolve(l, b, { lower: true }) // L⁻¹ b; l [..., n, n], b [..., n, k]
 */
export function triangularSolve(a: Tensor, b: Tensor, opts: { lower?: boolean; transA?: boolean } = {}): Tensor {
  return ENGINE.runKernel('triangularSolve', [a, b], { lower: opts.lower ?? true, transA: opts.transA ?? false })[0];
}

/**
 * The main diagonal of each matrix: [..., n, m] → [..., min(n, m)].
 * @example diagonal(eye(3)) // [1, 1, 1]
 */
export function diagonal(a: Tensor): Tensor {
  return ENGINE.runKernel('diagonal', [a], {})[0];
}

/**
 * Diagonal matrices from vectors: [..., n] → [..., n, n].
 * @example diagEmbed(tensor([1, 2])) // [[1, 0], [0, 2]]
 */
export function diagEmbed(v: Tensor): Tensor {
  return ENGINE.runKernel('diagEmbed', [v], {})[0];
}

/**
 * The lower triangle of each matrix, from the k-th diagonal down (k = 0: main diagonal).
 * @example tril(ones([3, 3]), -1) // strictly lower ones
 */
export function tril(a: Tensor, k = 0): Tensor {
  return ENGINE.runKernel('tril', [a], { k })[0];
}

/**
 * log det A of symmetric positive-definite matrices, via Cholesky: 2 Σ log diag L.
 * @example logdet(tensor([[4, 2], [2, 3]])) // log 8
 */
export function logdet(a: Tensor): Tensor {
  return mul(sum(log(diagonal(cholesky(a))), -1), 2);
}

/**
 * Solves A X = B for symmetric positive-definite A given its Cholesky factor L.
 * @example choleskySolve(cholesky(a), b) // A⁻¹ b
 */
export function choleskySolve(l: Tensor, b: Tensor): Tensor {
  return triangularSolve(l, triangularSolve(l, b, { lower: true }), { lower: true, transA: true });
}
