/**
 * The constraint types of Stan's language (Stan Reference Manual, "Constraint transforms"), as
 * constraint objects: the bounds (`lower`, `upper`, both), `offset`/`multiplier`, `ordered`,
 * `positive_ordered`, `simplex`, `unit_vector`, `sum_to_zero_vector`, `cholesky_factor_corr`,
 * `cholesky_factor_cov`, `corr_matrix` and `cov_matrix`. `bijectTo` maps ℝ^d onto each with
 * Stan's transform, its log-Jacobian and Stan's order of the unconstrained coordinates.
 */
import { allocArray } from '../core/dtype.js';
import { ENGINE } from '../core/engine.js';
import { ValueError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { asTensor, type TensorLike } from '../ops/creation.js';
import { abs, add, cast, equal, greater, greaterEqual, less, lessEqual, mul, square, sub } from '../ops/elementwise.js';
import { diagonal } from '../ops/linalg.js';
import { max, min, sum } from '../ops/reduce.js';
import { slice, transpose } from '../ops/shape.js';
import { corrCholesky, interval, logicalAnd, ordered, positiveDefinite, real, simplex, type Constraint } from './constraints.js';

const TOL = 1e-6;

/** 1 where every element of the last axis of an int32 mask is 1. */
function allLast(mask: Tensor, dtype: Tensor['dtype']): Tensor {
  return equal(min(cast(mask, dtype === 'int32' ? 'float64' : dtype), -1), 1);
}

/** Stan's `lower`/`upper` bounds: a bound is a number or a tensor broadcasting against the value. */
export interface Bounds {
  /** The lower bound a (values x > a); left out or −∞ for none. */
  readonly lower?: TensorLike;
  /** The upper bound b (values x < b); left out or +∞ for none. */
  readonly upper?: TensorLike;
}

const isInf = (b: TensorLike | undefined, sign: 1 | -1): boolean => b === undefined || (typeof b === 'number' && b === sign * Infinity);

/**
 * The support of a Stan scalar declared `real<lower=a, upper=b>` (either bound may be left out or
 * infinite, as in Stan): `real` with neither, `greaterThan(a)` (x > a), `lessThan(b)` (x < b) or
 * `interval(a, b)`. Bounds are numbers or tensors broadcasting against the value; `bijectTo` gives
 * Stan's transforms a + eˣ, b − eˣ and a + (b − a) σ(x).
 *
 * An infinite bound is recognized when it is a number; a tensor bound must be finite everywhere
 * (mix bounded and unbounded elements as separate sites).
 * Shapes: elementwise (event dim 0); tensor bounds broadcast against the value.
 * @example
 * bijectTo(bounded({ lower: 0 })).forward(tensor([0]))            // [1]
 * bijectTo(bounded({ lower: -1, upper: 3 })).forward(tensor([0])) // [1]
 */
export function bounded(b: Bounds): Constraint {
  const noLo = isInf(b.lower, -1);
  const noHi = isInf(b.upper, 1);
  if (noLo && noHi) return real;
  const lo = b.lower as TensorLike;
  const hi = b.upper as TensorLike;
  if (typeof lo === 'number' && typeof hi === 'number' && !(lo < hi))
    throw new ValueError(`bounded: lower must be below upper, got lower=${lo}, upper=${hi}`);
  const show = (v: TensorLike): string => (typeof v === 'number' ? String(v) : 'tensor');
  if (!noLo && !noHi) {
    if (typeof lo === 'number' && typeof hi === 'number') return interval(lo, hi);
    return {
      name: 'interval',
      eventDim: 0,
      discrete: false,
      lower: lo,
      upper: hi,
      check: (x: Tensor) => logicalAnd(greaterEqual(x, asTensor(lo, x)), lessEqual(x, asTensor(hi, x))),
      toString: () => `interval(${show(lo)}, ${show(hi)})`,
    } as Constraint;
  }
  const kind = noHi ? 'greaterThan' : 'lessThan';
  const v = noHi ? lo : hi;
  return {
    name: kind,
    eventDim: 0,
    discrete: false,
    ...(noHi ? { lower: v } : { upper: v }),
    check: (x: Tensor) => (noHi ? greater(x, asTensor(v, x)) : less(x, asTensor(v, x))),
    toString: () => `${kind}(${show(v)})`,
  } as Constraint;
}

/** The support of `real<offset=μ, multiplier=σ>`: all of ℝ, with its own unconstraining map. */
export interface OffsetMultiplierConstraint extends Constraint {
  /** The offset μ of y = μ + σx (a number or a tensor broadcasting against the value). */
  readonly offset: TensorLike;
  /** The multiplier σ > 0 of y = μ + σx (a number or a tensor broadcasting against the value). */
  readonly multiplier: TensorLike;
}

/**
 * Stan's `offset`/`multiplier`: the support is ℝ, but `bijectTo` gives Stan's affine map
 * y = μ + σx with log|det J| = log σ (per element), so a hierarchical model can be written
 * non-centred without rewriting it. `offset` (default 0) and `multiplier` (default 1, > 0) are
 * numbers or tensors broadcasting against the value.
 *
 * Shapes: elementwise (event dim 0).
 * @example bijectTo(offsetMultiplier(mu, tau)).forward(z) // mu + tau · z
 */
export function offsetMultiplier(offset: TensorLike = 0, multiplier: TensorLike = 1): OffsetMultiplierConstraint {
  if (typeof multiplier === 'number' && !(multiplier > 0)) throw new ValueError(`offsetMultiplier: multiplier must be positive, got ${multiplier}`);
  return {
    name: 'offsetMultiplier',
    eventDim: 0,
    discrete: false,
    offset,
    multiplier,
    check: real.check,
    toString: () => 'offsetMultiplier(offset, multiplier)',
  };
}

/** Stan's `positive_ordered`: strictly increasing vectors with a positive first element. */
export const positiveOrdered: Constraint = {
  name: 'positiveOrdered',
  eventDim: 1,
  discrete: false,
  check: (x: Tensor) => {
    const first = slice(x, x.shape.map(() => 0), [...x.shape.slice(0, -1), Math.min(1, x.shape[x.rank - 1])]);
    return logicalAnd(ordered.check(x), allLast(greater(first, 0), x.dtype));
  },
  toString: () => 'positiveOrdered',
};

/** Stan's `unit_vector`: vectors of Euclidean norm 1 (to 1e-6). */
export const unitVector: Constraint = {
  name: 'unitVector',
  eventDim: 1,
  discrete: false,
  check: (x: Tensor) => less(abs(sub(sum(square(x), -1), 1)), TOL),
  toString: () => 'unitVector',
};

/** Stan's `sum_to_zero_vector`: vectors whose elements sum to 0 (to 1e-6 of their absolute sum, at least 1e-6). */
export const sumToZero: Constraint = {
  name: 'sumToZero',
  eventDim: 1,
  discrete: false,
  check: (x: Tensor) => lessEqual(abs(sum(x, -1)), mul(add(sum(abs(x), -1), 1), TOL)),
  toString: () => 'sumToZero',
};

/** Stan's `cholesky_factor_corr`: the Cholesky factor of a correlation matrix (the same set as `corrCholesky`). */
export const choleskyFactorCorr: Constraint = corrCholesky;

/** Stan's `corr_matrix`: symmetric positive-definite matrices with a unit diagonal (to 1e-6). */
export const corrMatrix: Constraint = {
  name: 'corrMatrix',
  eventDim: 2,
  discrete: false,
  check: (x: Tensor) => logicalAnd(positiveDefinite.check(x), less(max(abs(sub(diagonal(x), 1)), -1), TOL)),
  toString: () => 'corrMatrix',
};

/**
 * Stan's `cov_matrix`: symmetric positive-definite matrices (the same set as `positiveDefinite`;
 * `bijectTo` gives Stan's order of the unconstrained coordinates, see CovMatrixTransform).
 */
export const covMatrix: Constraint = {
  name: 'covMatrix',
  eventDim: 2,
  discrete: false,
  check: positiveDefinite.check,
  toString: () => 'covMatrix',
};

/** The support of `cholesky_factor_cov[M, N]`. */
export interface CholeskyFactorCovConstraint extends Constraint {
  /** M, the number of rows (M ≥ N). */
  readonly rows: number;
  /** N, the number of columns. */
  readonly cols: number;
}

/**
 * Stan's `cholesky_factor_cov[M, N]` (M ≥ N; N defaults to M): M×N lower-trapezoidal matrices
 * (zero above the diagonal) with a positive diagonal.
 *
 * Shapes: values `[..., M, N]`; event dim 2.
 * @example choleskyFactorCov(3, 2).check(tensor([[1, 0], [0.5, 2], [3, -1]])) // 1
 */
export function choleskyFactorCov(rows: number, cols: number = rows): CholeskyFactorCovConstraint {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || cols < 1 || rows < cols)
    throw new ValueError(`choleskyFactorCov: needs integers M ≥ N ≥ 1, got M=${rows}, N=${cols}`);
  return {
    name: `choleskyFactorCov(${rows}, ${cols})`,
    eventDim: 2,
    discrete: false,
    rows,
    cols,
    check: (x: Tensor) => {
      const r = x.rank;
      if (r < 2 || x.shape[r - 2] !== rows || x.shape[r - 1] !== cols)
        throw new ValueError(`choleskyFactorCov(${rows}, ${cols}).check: values must end in [${rows}, ${cols}], got [${x.shape.join(', ')}]`);
      // entries above the diagonal must be 0; the diagonal (of the top N×N block) positive
      const mask = allocArray(x.dtype, rows * cols);
      for (let i = 0; i < rows; i++) for (let j = i + 1; j < cols; j++) mask[i * cols + j] = 1;
      const upper = mul(abs(x), ENGINE.fromArray(mask, [rows, cols], x.backend));
      const top = slice(x, x.shape.map(() => 0), [...x.shape.slice(0, -2), cols, cols]);
      return logicalAnd(equal(max(upper, [-2, -1]), 0), allLast(greater(diagonal(top), 0), x.dtype));
    },
    toString: () => `choleskyFactorCov(${rows}, ${cols})`,
  };
}

/** The last two axes swapped. */
function swapLast(x: Tensor): Tensor {
  const r = x.rank;
  return transpose(x, [...x.shape.keys()].map((i) => (i === r - 2 ? r - 1 : i === r - 1 ? r - 2 : i)));
}

/** Stan's `row_stochastic_matrix`: matrices whose every row is a simplex. */
export const rowStochastic: Constraint = {
  name: 'rowStochastic',
  eventDim: 2,
  discrete: false,
  check: (x: Tensor) => allLast(simplex.check(x), x.dtype),
  toString: () => 'rowStochastic',
};

/** Stan's `column_stochastic_matrix`: matrices whose every column is a simplex. */
export const columnStochastic: Constraint = {
  name: 'columnStochastic',
  eventDim: 2,
  discrete: false,
  check: (x: Tensor) => allLast(simplex.check(swapLast(x)), x.dtype),
  toString: () => 'columnStochastic',
};

/** Stan's `sum_to_zero_matrix`: matrices whose every row and every column sums to 0 (to 1e-6 of their absolute sums). */
export const sumToZeroMatrix: Constraint = {
  name: 'sumToZeroMatrix',
  eventDim: 2,
  discrete: false,
  check: (x: Tensor) => logicalAnd(allLast(sumToZero.check(x), x.dtype), allLast(sumToZero.check(swapLast(x)), x.dtype)),
  toString: () => 'sumToZeroMatrix',
};
