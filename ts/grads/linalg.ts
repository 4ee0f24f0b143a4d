/**
 * Gradient rules of the linear-algebra kernels: matmul, cholesky, triangularSolve. Matrix
 * calculus as in Giles (2008), "Collected matrix derivative results for forward and reverse mode
 * algorithmic differentiation"; the Cholesky rule is Murray (2016), "Differentiation of the
 * Cholesky decomposition", eq. 10, applied with triangular solves instead of inverses.
 */
import type { Tensor } from '../core/tensor.js';
import { add, cast, mul, neg, sub } from '../ops/elementwise.js';
import { diagEmbed, diagonal, matmul, tril, triangularSolve } from '../ops/linalg.js';
import { transpose, unbroadcast } from '../ops/shape.js';
import type { GradTable } from './rule.js';

/** Each matrix of a batch transposed: swaps the last two axes. */
function mT(x: Tensor): Tensor {
  const r = x.shape.length;
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return transpose(x, perm);
}

/** Φ(X): the lower triangle of X with its diagonal halved (Murray 2016). */
function phi(x: Tensor): Tensor {
  return sub(tril(x), mul(diagEmbed(diagonal(x)), 0.5));
}

/** Rules of matmul, cholesky and triangularSolve. */
export const LINALG_GRADS: GradTable = {
  // C = op(A)·op(B): d op(A) = dC·op(B)ᵀ, d op(B) = op(A)ᵀ·dC, transposed back where op
  // transposes, then summed over the batch axes that broadcasting added.
  // bfloat16 operands (storage for products): the cotangents are formed in float32 and rounded
  // back to bfloat16, the operands' dtype (a cast before the product carries them on in float32).
  matmul: ([dc], [a0, b0], _, { transA, transB }) => {
    const low = a0.dtype === 'bfloat16';
    const [a, b] = low ? [cast(a0, 'float32'), cast(b0, 'float32')] : [a0, b0];
    const da = unbroadcast(transA ? matmul(b, dc, { transA: transB, transB: true }) : matmul(dc, b, { transB: !transB }), a.shape);
    const db = unbroadcast(transB ? matmul(dc, a, { transA: true, transB: transA }) : matmul(a, dc, { transA: !transA }), b.shape);
    return low ? [cast(da, 'bfloat16'), cast(db, 'bfloat16')] : [da, db];
  },
  // Ā = L⁻ᵀ Φ(Lᵀ L̄) L⁻¹, symmetrized: the gradient with respect to a symmetric A, so it does not
  // depend on which triangle of A the kernel reads.
  cholesky: ([dl], _, [l]) => {
    const p = phi(matmul(l, dl, { transA: true }));
    const y = triangularSolve(l, p, { lower: true, transA: true }); // L⁻ᵀ P
    const s = mT(triangularSolve(l, mT(y), { lower: true, transA: true })); // (L⁻ᵀ Yᵀ)ᵀ = Y L⁻¹
    return [mul(add(s, mT(s)), 0.5)];
  },
  // X = op(A)⁻¹ B: dB = op(A)⁻ᵀ dX and d op(A) = −dB Xᵀ, kept to the triangle of A the solve
  // reads (the other triangle does not affect X).
  triangularSolve: ([dx], [a, b], [x], { lower, transA }) => {
    const db = triangularSolve(a, dx, { lower, transA: !transA });
    const full = transA ? neg(matmul(x, db, { transB: true })) : neg(matmul(db, x, { transB: true }));
    const da = lower ? tril(full) : sub(full, tril(full, -1));
    return [unbroadcast(da, a.shape), unbroadcast(db, b.shape)];
  },
};
