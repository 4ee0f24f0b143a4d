/**
 * Stan's constraint transforms that varinf did not already have (Stan Reference Manual, chapter
 * "Constraint transforms"): positive_ordered, unit_vector, sum_to_zero_vector (Stan 2.36's
 * isometric map), cholesky_factor_cov, cov_matrix and corr_matrix, each with Stan's log-Jacobian
 * and Stan's order of the unconstrained coordinates, so a Stan program's unconstrained vector
 * means the same here. (lower/upper/offset/multiplier/ordered/simplex/cholesky_factor_corr reuse
 * the elementwise, vector and Cholesky transforms, which already follow Stan.)
 */
import { ShapeError, fmtShape } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { independentConstraint, lowerCholesky, realVector, type Constraint } from '../distributions/constraints.js';
import {
  choleskyFactorCov, columnStochastic, corrMatrix, covMatrix, positiveOrdered, sumToZero, sumToZeroMatrix, unitVector,
} from '../distributions/stan-constraints.js';
import { add, div, exp, log, mul, softplus, sqrt, square, sub } from '../ops/elementwise.js';
import { cholesky, matmul } from '../ops/linalg.js';
import { cumsum, sum } from '../ops/reduce.js';
import { concat, gather, reshape, transpose } from '../ops/shape.js';
import { CorrCholeskyTransform } from './cholesky.js';
import { Transform, constLike, indicesLike, needRank, padLast, sliceLast } from './transform.js';
import { StickBreakingTransform } from './vector.js';

const LOG2 = Math.LN2;

/** Gathers positions `index` of the last axis of v. */
function take(v: Tensor, index: readonly number[]): Tensor {
  return gather(v, indicesLike(index, v), v.rank - 1);
}

function needShapeRank(name: string, shape: Shape, k: number): void {
  if (shape.length < k) throw new ShapeError(`${name}: shape ${fmtShape(shape)} needs at least ${k} axes`);
}

/** log(1 − tanh² x) = 2 (log 2 − x − softplus(−2x)), accurate for large |x|. */
function logOneMinusTanhSq(x: Tensor): Tensor {
  return mul(sub(sub(LOG2, x), softplus(mul(x, -2))), 2);
}

/**
 * From ℝ^K onto Stan's `positive_ordered` vectors:
 *
 *   y_1 = e^{x_1},  y_k = y_{k−1} + e^{x_k};  log|det J| = Σ_k x_k;
 *   inverse x_1 = log y_1, x_k = log(y_k − y_{k−1}).
 *
 * Shapes: x `[..., K]` → y `[..., K]`; the log-det has shape `[...]`.
 * @example new PositiveOrderedTransform().forward(tensor([0, 0])) // [1, 2]
 */
export class PositiveOrderedTransform extends Transform {
  get name(): string {
    return 'positiveOrdered';
  }
  get domain(): Constraint {
    return realVector;
  }
  get codomain(): Constraint {
    return positiveOrdered;
  }
  forward(x: Tensor): Tensor {
    needRank(this.name, x, 1);
    return cumsum(exp(x), -1);
  }
  inverse(y: Tensor): Tensor {
    needRank(this.name, y, 1);
    const k = y.shape[y.rank - 1];
    if (k <= 1) return log(y);
    return log(concat([sliceLast(y, 0, 1), sub(sliceLast(y, 1, k - 1), sliceLast(y, 0, k - 1))], -1));
  }
  protected ladj(x: Tensor): Tensor {
    needRank(this.name, x, 1);
    return sum(x, -1);
  }
}

/**
 * Stan's `unit_vector` map from ℝ^K onto the unit sphere: y = x / ‖x‖. It is not a bijection
 * (every ray maps to one point), so, as Stan does, the "log-det" it returns is the density term
 * −½‖x‖², which puts a standard normal on x and makes the model's density on x proper.
 *
 *   forward y = x/‖x‖;  logAbsDetJacobian = −½ ‖x‖²;  inverse x = y.
 *
 * The inverse of an output this transform made is the x it came from (remembered per output
 * tensor, as NumPyro caches its transforms), so a guide's log-density at its own draw, which an
 * ELBO takes through the inverse, carries the −½‖x‖² of that x; for any other y it is y itself
 * (the point of the ray with norm 1).
 *
 * Shapes: x `[..., K]` → y `[..., K]`; the log term has shape `[...]`.
 * @example new UnitVectorTransform().forward(tensor([3, 4])) // [0.6, 0.8]
 */
export class UnitVectorTransform extends Transform {
  /** y → the x it was made from, for the draws still alive. */
  private readonly made = new WeakMap<Tensor, Tensor>();
  get name(): string {
    return 'unitVector';
  }
  get domain(): Constraint {
    return realVector;
  }
  get codomain(): Constraint {
    return unitVector;
  }
  forward(x: Tensor): Tensor {
    needRank(this.name, x, 1);
    const y = div(x, sqrt(sum(square(x), -1, true)));
    this.made.set(y, x);
    return y;
  }
  inverse(y: Tensor): Tensor {
    needRank(this.name, y, 1);
    return this.made.get(y) ?? y;
  }
  protected ladj(x: Tensor): Tensor {
    needRank(this.name, x, 1);
    return mul(sum(square(x), -1), -0.5);
  }
}

/**
 * Stan 2.36's isometric map from ℝ^N onto the vectors of ℝ^(N+1) that sum to zero. With 1-based
 * i = 1..N, w_i = x_i / √(i(i+1)) and, 0-based k = 0..N,
 *
 *   y_k = Σ_{i>k} w_i − k w_k   (w_0 = 0),
 *
 * i.e. y = V x for the N+1 × N matrix V whose columns (Helmert contrasts) are orthonormal and
 * orthogonal to the ones vector. The volume element √det(VᵀV) is 1, so log|det J| = 0, as in
 * Stan. Inverse x_i = (Σ_{k<i} y_k − i y_i) / √(i(i+1)) (= Vᵀy).
 *
 * Shapes: x `[..., N]` → y `[..., N+1]`; the log-det has shape `[...]`.
 * @example new SumToZeroTransform().forward(tensor([Math.SQRT2])) // [1, −1]
 */
export class SumToZeroTransform extends Transform {
  get name(): string {
    return 'sumToZero';
  }
  get domain(): Constraint {
    return realVector;
  }
  get codomain(): Constraint {
    return sumToZero;
  }
  /** 1/√(i(i+1)) for i = 1..n. */
  private scales(n: number, like: Tensor): Tensor {
    return constLike(Array.from({ length: n }, (_, i) => 1 / Math.sqrt((i + 1) * (i + 2))), [n], like);
  }
  /** 0, 1, ..., n. */
  private counts(n: number, like: Tensor): Tensor {
    return constLike(Array.from({ length: n + 1 }, (_, i) => i), [n + 1], like);
  }
  forward(x: Tensor): Tensor {
    needRank(this.name, x, 1);
    const n = x.shape[x.rank - 1];
    const w = padLast(mul(x, this.scales(n, x)), 1, 0);
    // Σ_{i>k} w_i: the reverse running sum without its own term
    const tail = sub(cumsum(w, -1, true), w);
    return sub(tail, mul(w, this.counts(n, x)));
  }
  inverse(y: Tensor): Tensor {
    needRank(this.name, y, 1);
    const n = y.shape[y.rank - 1] - 1;
    if (n < 0) throw new ShapeError(`${this.name}.inverse: needs a vector of length ≥ 1, got shape ${fmtShape(y.shape)}`);
    const head = sub(cumsum(y, -1), y);
    return mul(sliceLast(sub(head, mul(y, this.counts(n, y))), 1, n), this.scales(n, y));
  }
  protected ladj(x: Tensor): Tensor {
    needRank(this.name, x, 1);
    return sum(mul(x, 0), -1);
  }
  override forwardShape(shape: Shape): number[] {
    needShapeRank(this.name, shape, 1);
    return [...shape.slice(0, -1), shape[shape.length - 1] + 1];
  }
  override inverseShape(shape: Shape): number[] {
    needShapeRank(this.name, shape, 1);
    if (shape[shape.length - 1] < 1) throw new ShapeError(`${this.name}.inverseShape: needs a vector of length ≥ 1, got ${fmtShape(shape)}`);
    return [...shape.slice(0, -1), shape[shape.length - 1] - 1];
  }
}

/** Stan's layout of an M×N Cholesky factor: for each (i, j), its position in x and whether it is a diagonal entry. */
function factorLayout(rows: number, cols: number): { pos: number[][]; diag: number[] } {
  const pos: number[][] = [];
  const diag: number[] = [];
  let p = 0;
  for (let i = 0; i < rows; i++) {
    pos.push([]);
    for (let j = 0; j <= Math.min(i, cols - 1); j++) {
      if (j === i) diag.push(p);
      pos[i][j] = p++;
    }
  }
  return { pos, diag };
}

/** N from a vector length m = N(N+1)/2 (a square factor). */
function squareSide(name: string, m: number, shape: Shape): number {
  const n = (Math.sqrt(8 * m + 1) - 1) / 2;
  if (!Number.isInteger(n) || n < 1) throw new ShapeError(`${name}: the last axis must have length N(N+1)/2 for some N ≥ 1, got shape ${fmtShape(shape)}`);
  return n;
}

/**
 * From ℝ^(N(N+1)/2 + (M−N)N) onto Stan's `cholesky_factor_cov[M, N]`: M×N lower-trapezoidal
 * matrices with a positive diagonal, filled in Stan's order — row by row through the top N×N
 * block, each row's diagonal entry last and through exp, then the M − N full rows below:
 *
 *   L_ij = x_pos(i,j) (j < i),  L_ii = exp(x_pos(i,i)),  L_ij = 0 (j > i);
 *   log|det J| = Σ_{i<N} x_pos(i,i)   (on the free entries of L).
 *
 * Without `rows`/`cols` the factor is square, N read from the input length.
 *
 * Shapes: x `[..., N(N+1)/2 + (M−N)N]` → L `[..., M, N]`; the log-det has shape `[...]`.
 * @example new CholeskyFactorCovTransform(2, 2).forward(tensor([0, 0.5, 0])) // [[1, 0], [0.5, 1]]
 */
export class CholeskyFactorCovTransform extends Transform {
  constructor(
    /** M, the number of rows (M ≥ N); undefined for a square factor whose N is read from the input length. */
    readonly rows?: number,
    /** N, the number of columns; undefined for a square factor whose N is read from the input length. */
    readonly cols?: number,
  ) {
    super();
    if (rows !== undefined && (cols === undefined || !Number.isInteger(rows) || !Number.isInteger(cols) || cols < 1 || rows < cols))
      throw new ShapeError(`choleskyFactorCov: needs integers M ≥ N ≥ 1, got M=${rows}, N=${cols}`);
  }
  get name(): string {
    return this.rows === undefined ? 'choleskyFactorCov' : `choleskyFactorCov(${this.rows}, ${this.cols})`;
  }
  get domain(): Constraint {
    return realVector;
  }
  get codomain(): Constraint {
    return this.rows === undefined ? lowerCholesky : choleskyFactorCov(this.rows, this.cols);
  }
  /** [M, N] for an unconstrained length m. */
  private dims(m: number, shape: Shape): [number, number] {
    if (this.rows === undefined) {
      const n = squareSide(this.name, m, shape);
      return [n, n];
    }
    const n = this.cols as number;
    const want = (n * (n + 1)) / 2 + (this.rows - n) * n;
    if (m !== want) throw new ShapeError(`${this.name}: the last axis must have length ${want}, got shape ${fmtShape(shape)}`);
    return [this.rows, n];
  }
  forward(x: Tensor): Tensor {
    needRank(this.name, x, 1);
    const m = x.shape[x.rank - 1];
    const [rows, cols] = this.dims(m, x.shape);
    const { pos, diag } = factorLayout(rows, cols);
    // exp on the diagonal entries only, so that large off-diagonal inputs cannot overflow
    const v = padLast(concat([x, exp(take(x, diag))], -1), 0, 1);
    const index: number[] = [];
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) index.push(j > i ? m + cols : j === i ? m + i : pos[i][j]);
    return reshape(take(v, index), [...x.shape.slice(0, -1), rows, cols]);
  }
  inverse(y: Tensor): Tensor {
    needRank(this.name, y, 2);
    const rows = y.shape[y.rank - 2];
    const cols = y.shape[y.rank - 1];
    if (this.rows !== undefined ? rows !== this.rows || cols !== this.cols : rows !== cols)
      throw new ShapeError(`${this.name}.inverse: expected matrices of shape [${this.rows ?? 'N'}, ${this.cols ?? 'N'}], got ${fmtShape(y.shape)}`);
    const flat = reshape(y, [...y.shape.slice(0, -2), rows * cols]);
    const logDiag = log(take(flat, Array.from({ length: cols }, (_, i) => i * cols + i)));
    const v = concat([flat, logDiag], -1);
    const index: number[] = [];
    for (let i = 0; i < rows; i++) for (let j = 0; j <= Math.min(i, cols - 1); j++) index.push(j === i ? rows * cols + i : i * cols + j);
    return take(v, index);
  }
  protected ladj(x: Tensor): Tensor {
    needRank(this.name, x, 1);
    const [rows, cols] = this.dims(x.shape[x.rank - 1], x.shape);
    return sum(take(x, factorLayout(rows, cols).diag), -1);
  }
  override forwardShape(shape: Shape): number[] {
    needShapeRank(this.name, shape, 1);
    return [...shape.slice(0, -1), ...this.dims(shape[shape.length - 1], shape)];
  }
  override inverseShape(shape: Shape): number[] {
    needShapeRank(this.name, shape, 2);
    const rows = shape[shape.length - 2];
    const cols = shape[shape.length - 1];
    return [...shape.slice(0, -2), (cols * (cols + 1)) / 2 + (rows - cols) * cols];
  }
}

/**
 * From ℝ^(K(K+1)/2) onto Stan's `cov_matrix[K]`: the Cholesky factor in Stan's order (see
 * {@link CholeskyFactorCovTransform}), then Σ = L Lᵀ. Stan's log-Jacobian of the whole map, on
 * the lower-triangle entries of Σ:
 *
 *   log|det J| = K log 2 + Σ_{k=0}^{K−1} (K − k + 1) log L_kk.
 *
 * Inverse: the Cholesky factor of Σ, read back in Stan's order with log on the diagonal.
 *
 * Shapes: x `[..., K(K+1)/2]` → Σ `[..., K, K]`; the log-det has shape `[...]`.
 * @example new CovMatrixTransform().forward(tensor([0, 0, 0])) // the 2×2 identity
 */
export class CovMatrixTransform extends Transform {
  private readonly factor = new CholeskyFactorCovTransform();
  get name(): string {
    return 'covMatrix';
  }
  get domain(): Constraint {
    return realVector;
  }
  get codomain(): Constraint {
    return covMatrix;
  }
  forward(x: Tensor): Tensor {
    needRank(this.name, x, 1);
    squareSide(this.name, x.shape[x.rank - 1], x.shape);
    const l = this.factor.forward(x);
    return matmul(l, l, { transB: true });
  }
  inverse(y: Tensor): Tensor {
    needRank(this.name, y, 2);
    return this.factor.inverse(cholesky(y));
  }
  protected ladj(x: Tensor): Tensor {
    needRank(this.name, x, 1);
    const m = x.shape[x.rank - 1];
    const k = squareSide(this.name, m, x.shape);
    const coef = new Array<number>(m).fill(0);
    factorLayout(k, k).diag.forEach((p, i) => (coef[p] = k - i + 1));
    return add(sum(mul(x, constLike(coef, [m], x)), -1), k * LOG2);
  }
  override forwardShape(shape: Shape): number[] {
    return this.factor.forwardShape(shape);
  }
  override inverseShape(shape: Shape): number[] {
    return this.factor.inverseShape(shape);
  }
}

/** For a K×K correlation matrix: Stan's column-major CPC position q for each row-major strictly-lower position p. */
function columnOrder(k: number): { rowToCol: number[]; colToRow: number[]; column: number[] } {
  const q: number[][] = [];
  let c = 0;
  const column: number[] = [];
  for (let j = 0; j < k; j++)
    for (let i = j + 1; i < k; i++) {
      (q[i] ??= [])[j] = c++;
      column.push(j);
    }
  const colToRow: number[] = [];
  for (let i = 1; i < k; i++) for (let j = 0; j < i; j++) colToRow.push(q[i][j]);
  const rowToCol = new Array<number>(colToRow.length);
  colToRow.forEach((qq, p) => (rowToCol[qq] = p));
  return { rowToCol, colToRow, column };
}

/** K from a vector length m = K(K−1)/2. */
function corrSide(name: string, m: number, shape: Shape): number {
  const k = (Math.sqrt(8 * m + 1) + 1) / 2;
  if (!Number.isInteger(k) || k < 1) throw new ShapeError(`${name}: the last axis must have length K(K−1)/2 for some K, got shape ${fmtShape(shape)}`);
  return k;
}

/**
 * From ℝ^(K(K−1)/2) onto Stan's `corr_matrix[K]`: canonical partial correlations z = tanh x,
 * read in Stan's order (column by column of the strictly-lower triangle), build the Cholesky factor
 * L as {@link CorrCholeskyTransform} does, then Ω = L Lᵀ. Stan's log-Jacobian, on the strictly-
 * lower entries of Ω, for the CPC in column j (0-based):
 *
 *   log|det J| = Σ_{i>j} (K − j)/2 · log(1 − z_ij²)
 *
 * (log(1 − z²) from tanh plus ½ (K − j − 2) log(1 − z²) from CPCs to Ω).
 * Inverse: the CPCs of cholesky(Ω), atanh'd, in Stan's order.
 *
 * Shapes: x `[..., K(K−1)/2]` → Ω `[..., K, K]`; the log-det has shape `[...]`.
 * @example new CorrMatrixTransform().forward(tensor([0])) // the 2×2 identity
 */
export class CorrMatrixTransform extends Transform {
  private readonly factor = new CorrCholeskyTransform();
  get name(): string {
    return 'corrMatrix';
  }
  get domain(): Constraint {
    return realVector;
  }
  get codomain(): Constraint {
    return corrMatrix;
  }
  forward(x: Tensor): Tensor {
    needRank(this.name, x, 1);
    const m = x.shape[x.rank - 1];
    const k = corrSide(this.name, m, x.shape);
    const l = this.factor.forward(m > 0 ? take(x, columnOrder(k).colToRow) : x);
    return matmul(l, l, { transB: true });
  }
  inverse(y: Tensor): Tensor {
    needRank(this.name, y, 2);
    const k = y.shape[y.rank - 1];
    const row = this.factor.inverse(cholesky(y));
    return k > 1 ? take(row, columnOrder(k).rowToCol) : row;
  }
  protected ladj(x: Tensor): Tensor {
    needRank(this.name, x, 1);
    const m = x.shape[x.rank - 1];
    const k = corrSide(this.name, m, x.shape);
    const coef = columnOrder(k).column.map((j) => (k - j) / 2);
    return sum(mul(logOneMinusTanhSq(x), constLike(coef, [m], x)), -1);
  }
  override forwardShape(shape: Shape): number[] {
    return this.factor.forwardShape(shape);
  }
  override inverseShape(shape: Shape): number[] {
    return this.factor.inverseShape(shape);
  }
}

/** The last two axes swapped. */
function swapLast(x: Tensor): Tensor {
  const r = x.rank;
  return transpose(x, [...x.shape.keys()].map((i) => (i === r - 2 ? r - 1 : i === r - 1 ? r - 2 : i)));
}

function swapShape(shape: Shape): number[] {
  const s = shape.slice();
  [s[s.length - 2], s[s.length - 1]] = [s[s.length - 1], s[s.length - 2]];
  return s;
}

/**
 * Stan's `column_stochastic_matrix[K, M]` (every column a simplex): stick-breaking
 * ({@link StickBreakingTransform}) down each column, x `[..., K−1, M]` → y `[..., K, M]`;
 * log|det J| is the sum of the columns' stick-breaking terms. (Stan's `row_stochastic_matrix` is
 * `independent(new StickBreakingTransform(), 1)`, which `bijectTo(rowStochastic)` gives.)
 *
 * Shapes: x `[..., K−1, M]` → y `[..., K, M]`; the log-det has shape `[...]`.
 * @example new ColumnStochasticTransform().forward(zeros([1, 2])) // [[0.5, 0.5], [0.5, 0.5]]
 */
export class ColumnStochasticTransform extends Transform {
  private readonly stick = new StickBreakingTransform();
  get name(): string {
    return 'columnStochastic';
  }
  get domain(): Constraint {
    return independentConstraint(realVector, 1);
  }
  get codomain(): Constraint {
    return columnStochastic;
  }
  forward(x: Tensor): Tensor {
    needRank(this.name, x, 2);
    return swapLast(this.stick.forward(swapLast(x)));
  }
  inverse(y: Tensor): Tensor {
    needRank(this.name, y, 2);
    return swapLast(this.stick.inverse(swapLast(y)));
  }
  protected ladj(x: Tensor): Tensor {
    needRank(this.name, x, 2);
    return sum(this.stick.logAbsDetJacobian(swapLast(x)), -1);
  }
  override forwardShape(shape: Shape): number[] {
    needShapeRank(this.name, shape, 2);
    return swapShape(this.stick.forwardShape(swapShape(shape)));
  }
  override inverseShape(shape: Shape): number[] {
    needShapeRank(this.name, shape, 2);
    return swapShape(this.stick.inverseShape(swapShape(shape)));
  }
}

/**
 * Stan's `sum_to_zero_matrix[N, M]` (every row and column sums to 0): the isometric
 * {@link SumToZeroTransform} along the rows and then along the columns, y = V_N x V_Mᵀ. Both maps
 * are isometries onto their subspaces, so log|det J| = 0, as in Stan.
 *
 * Shapes: x `[..., N−1, M−1]` → y `[..., N, M]`; the log-det has shape `[...]`.
 * @example new SumToZeroMatrixTransform().forward(tensor([[2]])) // [[1, −1], [−1, 1]]
 */
export class SumToZeroMatrixTransform extends Transform {
  private readonly vec = new SumToZeroTransform();
  get name(): string {
    return 'sumToZeroMatrix';
  }
  get domain(): Constraint {
    return independentConstraint(realVector, 1);
  }
  get codomain(): Constraint {
    return sumToZeroMatrix;
  }
  forward(x: Tensor): Tensor {
    needRank(this.name, x, 2);
    return swapLast(this.vec.forward(swapLast(this.vec.forward(x))));
  }
  inverse(y: Tensor): Tensor {
    needRank(this.name, y, 2);
    return this.vec.inverse(swapLast(this.vec.inverse(swapLast(y))));
  }
  protected ladj(x: Tensor): Tensor {
    needRank(this.name, x, 2);
    return sum(sum(mul(x, 0), -1), -1);
  }
  override forwardShape(shape: Shape): number[] {
    needShapeRank(this.name, shape, 2);
    return [...shape.slice(0, -2), shape[shape.length - 2] + 1, shape[shape.length - 1] + 1];
  }
  override inverseShape(shape: Shape): number[] {
    needShapeRank(this.name, shape, 2);
    if (shape[shape.length - 2] < 1 || shape[shape.length - 1] < 1)
      throw new ShapeError(`${this.name}.inverseShape: needs a matrix of at least 1×1, got ${fmtShape(shape)}`);
    return [...shape.slice(0, -2), shape[shape.length - 2] - 1, shape[shape.length - 1] - 1];
  }
}
