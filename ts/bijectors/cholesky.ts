/**
 * Transforms onto matrices (codomain event dim 2): vectors onto lower-Cholesky factors and onto
 * Cholesky factors of correlation matrices, and L ↦ L Lᵀ onto positive-definite matrices.
 *
 * Vector layout (as NumPyro): the strictly-lower entries of an n×n matrix in row-major order,
 * (1,0), (2,0), (2,1), (3,0), ..., then, for the lower-Cholesky map, the n diagonal entries.
 */
import { ShapeError, fmtShape } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { corrCholesky, lowerCholesky, positiveDefinite, realVector, type Constraint } from '../distributions/constraints.js';
import { add, clamp, div, exp, expm1, log, log1p, mul, neg, softplus, sqrt, square, sub, tanh } from '../ops/elementwise.js';
import { cholesky, diagonal, matmul } from '../ops/linalg.js';
import { cumsum, sum } from '../ops/reduce.js';
import { concat, gather, reshape } from '../ops/shape.js';
import { Transform, constLike, indicesLike, needRank, padLast, sliceLast, unitBounds } from './transform.js';

const LOG2 = Math.LN2;

/** Position of (i, j), j < i, in the row-major strictly-lower layout. */
function strictPos(i: number, j: number): number {
  return (i * (i - 1)) / 2 + j;
}

/** n from a vector length m = n(n + c)/2 (c = 1: with diagonal, c = −1: strictly lower). */
function sideFrom(name: string, m: number, withDiag: boolean, shape: Shape): number {
  const n = withDiag ? (Math.sqrt(8 * m + 1) - 1) / 2 : (Math.sqrt(8 * m + 1) + 1) / 2;
  if (!Number.isInteger(n) || n < 1)
    throw new ShapeError(
      `${name}: the last axis must have length n(n${withDiag ? '+' : '−'}1)/2 for some n, got shape ${fmtShape(shape)}`,
    );
  return n;
}

/** Flat indices (i·n + j) of the strictly-lower entries in layout order. */
function strictFlat(n: number): number[] {
  const out: number[] = [];
  for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) out.push(i * n + j);
  return out;
}

/** Gathers an n×n matrix (row-major, flattened on the last axis) from a vector by index map. */
function fill(v: Tensor, index: number[], n: number): Tensor {
  const g = gather(v, indicesLike(index, v), v.rank - 1);
  return reshape(g, [...v.shape.slice(0, -1), n, n]);
}

/** Picks flat positions out of the last two axes of a matrix, giving a vector. */
function pick(y: Tensor, flat: number[]): Tensor {
  const n = y.shape[y.rank - 1];
  const v = reshape(y, [...y.shape.slice(0, -2), n * n]);
  return gather(v, indicesLike(flat, v), v.rank - 1);
}

function needSquare(name: string, y: Tensor): number {
  needRank(name, y, 2);
  const n = y.shape[y.rank - 1];
  if (y.shape[y.rank - 2] !== n) throw new ShapeError(`${name}: expected square matrices, got shape ${fmtShape(y.shape)}`);
  return n;
}

/** Options of {@link LowerCholeskyTransform}. */
export interface LowerCholeskyOptions {
  /** The map making the diagonal positive: 'exp' (default, as NumPyro and Stan) or 'softplus'. */
  readonly diagonal?: 'exp' | 'softplus';
}

/**
 * From ℝ^(n(n+1)/2) onto lower-triangular n×n matrices with a positive diagonal (as NumPyro's
 * LowerCholeskyTransform): the first n(n−1)/2 entries fill the strictly-lower triangle row by row,
 * the last n pass through exp (default) or softplus onto the diagonal.
 *
 *   L_ij = x_pos(i,j) (j < i),  L_ii = exp(d_i) or softplus(d_i),  L_ij = 0 (j > i);
 *   log|det J| = Σ_i d_i (exp) or Σ_i log σ(d_i) (softplus),
 *
 * the determinant taken on the n(n+1)/2 lower-triangle entries of L.
 *
 * Shapes: x `[..., n(n+1)/2]` → L `[..., n, n]`; the log-det has shape `[...]`.
 * @example new LowerCholeskyTransform().forward(tensor([0.5, 0, 0])) // [[1, 0], [0.5, 1]]
 */
export class LowerCholeskyTransform extends Transform {
  /** The map making the diagonal positive. */
  readonly diagonalMap: 'exp' | 'softplus';
  constructor(opts: LowerCholeskyOptions = {}) {
    super();
    this.diagonalMap = opts.diagonal ?? 'exp';
  }
  get name(): string {
    return this.diagonalMap === 'exp' ? 'lowerCholesky' : 'lowerCholesky(softplus)';
  }
  get domain(): Constraint {
    return realVector;
  }
  get codomain(): Constraint {
    return lowerCholesky;
  }
  forward(x: Tensor): Tensor {
    needRank(this.name, x, 1);
    const m = x.shape[x.rank - 1];
    const n = sideFrom(this.name, m, true, x.shape);
    const s = m - n;
    const d = sliceLast(x, s, n);
    const pos = this.diagonalMap === 'exp' ? exp(d) : softplus(d);
    // one zero appended so that the upper triangle gathers it
    const v = padLast(s > 0 ? concat([sliceLast(x, 0, s), pos], -1) : pos, 0, 1);
    const index: number[] = [];
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) index.push(j < i ? strictPos(i, j) : j === i ? s + i : m);
    return fill(v, index, n);
  }

  inverse(y: Tensor): Tensor {
    const n = needSquare(this.name, y);
    const dg = diagonal(y);
    // softplus⁻¹(v) = v + log(−expm1(−v))
    const d = this.diagonalMap === 'exp' ? log(dg) : add(dg, log(neg(expm1(neg(dg)))));
    return n > 1 ? concat([pick(y, strictFlat(n)), d], -1) : d;
  }

  protected ladj(x: Tensor): Tensor {
    needRank(this.name, x, 1);
    const m = x.shape[x.rank - 1];
    const n = sideFrom(this.name, m, true, x.shape);
    const d = sliceLast(x, m - n, n);
    return sum(this.diagonalMap === 'exp' ? d : neg(softplus(neg(d))), -1);
  }

  override forwardShape(shape: Shape): number[] {
    needShapeRank(this.name, shape, 1);
    const n = sideFrom(this.name, shape[shape.length - 1], true, shape);
    return [...shape.slice(0, -1), n, n];
  }

  override inverseShape(shape: Shape): number[] {
    needShapeRank(this.name, shape, 2);
    const n = shape[shape.length - 1];
    return [...shape.slice(0, -2), (n * (n + 1)) / 2];
  }
}

function needShapeRank(name: string, shape: Shape, k: number): void {
  if (shape.length < k) throw new ShapeError(`${name}: shape ${fmtShape(shape)} needs at least ${k} axes`);
}

/**
 * From ℝ^(n(n−1)/2) onto Cholesky factors of n×n correlation matrices (Stan's and the LKJ
 * construction): canonical partial correlations z = tanh x fill the strictly-lower triangle row by
 * row and each row is scaled onto the unit sphere,
 *
 *   L_i0 = z_i0,  L_ij = z_ij √(1 − Σ_{k<j} L_ik²) = z_ij Π_{k<j} √(1 − z_ik²),
 *   L_ii = √(1 − Σ_{k<i} L_ik²).
 *
 * Log-det on the n(n−1)/2 strictly-lower entries of L (the Jacobian is triangular):
 *
 *   log|det J| = Σ_{i>j} [log(1 − z_ij²) + ½ Σ_{k<j} log(1 − z_ik²)]
 *              = Σ_{i>j} log(1 − z_ij²) (1 + (i − 1 − j)/2).
 *
 * Inverse: z_ij = L_ij / √(Σ_{k≥j} L_ik²), x = atanh z.
 *
 * Shapes: x `[..., n(n−1)/2]` → L `[..., n, n]`; the log-det has shape `[...]`.
 * @example new CorrCholeskyTransform().forward(tensor([0])) // [[1, 0], [0, 1]]
 */
export class CorrCholeskyTransform extends Transform {
  get name(): string {
    return 'corrCholesky';
  }
  get domain(): Constraint {
    return realVector;
  }
  get codomain(): Constraint {
    return corrCholesky;
  }
  forward(x: Tensor): Tensor {
    needRank(this.name, x, 1);
    const m = x.shape[x.rank - 1];
    const n = sideFrom(this.name, m, false, x.shape);
    // z padded with a 0 (upper triangle) and a 1 (diagonal) for the gather
    const zv = padLast(padLast(tanh(x), 0, 1, 0), 0, 1, 1);
    const wv = padLast(logOneMinusTanhSq(x), 0, 1, 0);
    const zi: number[] = [];
    const wi: number[] = [];
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        zi.push(j < i ? strictPos(i, j) : j === i ? m + 1 : m);
        wi.push(j < i ? strictPos(i, j) : m);
      }
    const z = fill(zv, zi, n);
    const w = fill(wv, wi, n);
    // Σ_{k<j} log(1 − z_ik²): the exclusive running sum along each row
    const logRest = sub(cumsum(w, -1), w);
    return mul(z, exp(mul(logRest, 0.5)));
  }

  inverse(y: Tensor): Tensor {
    const n = needSquare(this.name, y);
    const flat = strictFlat(n);
    // Σ_{k≥j} L_ik² = 1 − Σ_{k<j} L_ik² on unit rows, without the cancellation
    const rest = cumsum(square(y), -1, true);
    const z = div(pick(y, flat), sqrt(pick(rest, flat)));
    const b = unitBounds(z.dtype);
    const c = clamp(z, -b.oneMinus, b.oneMinus);
    return mul(sub(log1p(c), log1p(neg(c))), 0.5);
  }

  protected ladj(x: Tensor): Tensor {
    needRank(this.name, x, 1);
    const m = x.shape[x.rank - 1];
    const n = sideFrom(this.name, m, false, x.shape);
    const coef: number[] = [];
    for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) coef.push(1 + (i - 1 - j) / 2);
    return sum(mul(logOneMinusTanhSq(x), constLike(coef, [m], x)), -1);
  }

  override forwardShape(shape: Shape): number[] {
    needShapeRank(this.name, shape, 1);
    const n = sideFrom(this.name, shape[shape.length - 1], false, shape);
    return [...shape.slice(0, -1), n, n];
  }

  override inverseShape(shape: Shape): number[] {
    needShapeRank(this.name, shape, 2);
    const n = shape[shape.length - 1];
    return [...shape.slice(0, -2), (n * (n - 1)) / 2];
  }
}

/** log(1 − tanh² x) = 2 (log 2 − x − softplus(−2x)), accurate for large |x|. */
function logOneMinusTanhSq(x: Tensor): Tensor {
  return mul(sub(sub(LOG2, x), softplus(mul(x, -2))), 2);
}

/**
 * Σ = L Lᵀ, from lower-Cholesky factors onto symmetric positive-definite matrices; inverse
 * cholesky(Σ). Log-det on the n(n+1)/2 lower-triangle entries of L and of Σ:
 *
 *   log|det J| = n log 2 + Σ_{i=0}^{n−1} (n − i) log L_ii.
 *
 * Shapes: L `[..., n, n]` → Σ `[..., n, n]`; the log-det has shape `[...]`.
 * @example new CholeskyOuterTransform().forward(tensor([[2, 0], [1, 1]])) // [[4, 2], [2, 2]]
 */
export class CholeskyOuterTransform extends Transform {
  get name(): string {
    return 'choleskyOuter';
  }
  get domain(): Constraint {
    return lowerCholesky;
  }
  get codomain(): Constraint {
    return positiveDefinite;
  }
  forward(x: Tensor): Tensor {
    needSquare(this.name, x);
    return matmul(x, x, { transB: true });
  }
  inverse(y: Tensor): Tensor {
    needSquare(this.name, y);
    return cholesky(y);
  }
  protected ladj(x: Tensor): Tensor {
    const n = needSquare(this.name, x);
    const coef = constLike(
      Array.from({ length: n }, (_, i) => n - i),
      [n],
      x,
    );
    return add(sum(mul(log(diagonal(x)), coef), -1), n * LOG2);
  }
}
