/**
 * Constraints: the support of a distribution or the domain of a parameter. `check` returns an
 * int32 mask over the batch (1 where the value is inside); `eventDim` is how many trailing axes
 * one point occupies (1 for a simplex, 2 for a Cholesky factor). `bijectTo` (ts/bijectors) maps
 * ℝ^d onto each.
 */
import type { Tensor } from '../core/tensor.js';
import { allocArray } from '../core/dtype.js';
import { ENGINE } from '../core/engine.js';
import { abs, cast, equal, floor, greater, greaterEqual, less, lessEqual, mul, square, sub } from '../ops/elementwise.js';
import { diagonal, tril } from '../ops/linalg.js';
import { max, min, sum } from '../ops/reduce.js';
import { slice, transpose } from '../ops/shape.js';

/**
 * Elementwise AND of two int32 masks.
 * @example logicalAnd(positive.check(x), lessThan(1).check(x)) // int32 mask of 0 < x < 1
 */
export function logicalAnd(a: Tensor, b: Tensor): Tensor {
  return mul(a, b);
}

/**
 * A constraint: the support of a distribution or the domain of a parameter. `check` returns an
 * int32 mask over the batch (1 where the value is inside); `eventDim` is how many trailing axes
 * one point occupies (1 for a simplex, 2 for a Cholesky factor). `bijectTo` maps ℝ^d onto each.
 * @example
 * positive.check(tensor([1, -1])); // int32 [1, 0]
 * simplex.eventDim;                 // 1
 */
export interface Constraint {
  /** The name in messages, e.g. 'positive' or 'interval(0, 1)'. */
  readonly name: string;
  /** Trailing axes one point occupies (0 scalar, 1 vector, 2 matrix). */
  readonly eventDim: number;
  /** Whether the support is discrete (integers). */
  readonly discrete: boolean;
  /** int32 mask with the batch shape: 1 where `x` satisfies the constraint. */
  check(x: Tensor): Tensor;
  /**
   * `check`'s test on one float64 number, for constraints that hold on a tensor exactly when they
   * hold for each element (the elementwise ones and their `independentConstraint`s): validation
   * scans host tensors with it instead of dispatching kernels. Absent for the others.
   */
  readonly holds?: (v: number) => boolean;
  /** The name. */
  toString(): string;
}

function make(name: string, eventDim: number, check: (x: Tensor) => Tensor, discrete = false, holds?: (v: number) => boolean): Constraint {
  return { name, eventDim, discrete, check, holds, toString: () => name };
}

/** All of ℝ (NaN excluded). */
export const real: Constraint = make('real', 0, (x) => equal(x, x), false, (v) => v === v);
/** x > 0 */
export const positive: Constraint = make('positive', 0, (x) => greater(x, 0), false, (v) => v > 0);
/** x ≥ 0 */
export const nonnegative: Constraint = make('nonnegative', 0, (x) => greaterEqual(x, 0), false, (v) => v >= 0);
/** 0 < x < 1 (boundaries allowed, as the densities on it are finite there in floating point). */
export const unitInterval: Constraint = make('unitInterval', 0, (x) => logicalAnd(greaterEqual(x, 0), lessEqual(x, 1)), false, (v) => v >= 0 && v <= 1);
/** Integers ≥ 0. */
export const nonnegativeInteger: Constraint = make('nonnegativeInteger', 0, (x) => logicalAnd(greaterEqual(x, 0), equal(floor(x), x)), true, (v) => v >= 0 && Math.floor(v) === v);
/** 0 or 1. */
export const boolean: Constraint = make('boolean', 0, (x) => logicalAnd(logicalAnd(greaterEqual(x, 0), lessEqual(x, 1)), equal(floor(x), x)), true, (v) => v === 0 || v === 1);

/** Real vectors (event dim 1). */
export const realVector: Constraint = make('realVector', 1, (x) => cast(equal(min(cast(equal(x, x), x.dtype), -1), 1), 'int32'));

/**
 * x > lower.
 * @example greaterThan(2).check(tensor([1, 3])) // int32 [0, 1]
 */
export function greaterThan(lower: number): Constraint {
  return { ...make(`greaterThan(${lower})`, 0, (x) => greater(x, lower), false, (v) => v > lower), lower } as Constraint & { lower: number };
}

/**
 * x < upper.
 * @example lessThan(0).check(tensor([-1, 1])) // int32 [1, 0]
 */
export function lessThan(upper: number): Constraint {
  return { ...make(`lessThan(${upper})`, 0, (x) => less(x, upper), false, (v) => v < upper), upper } as Constraint & { upper: number };
}

/**
 * lower < x < upper (closed at the ends, as for the unit interval).
 * @example interval(0, 1).check(tensor([0.5, 2])) // int32 [1, 0]
 */
export function interval(lower: number, upper: number): IntervalConstraint {
  return {
    ...make(`interval(${lower}, ${upper})`, 0, (x) => logicalAnd(greaterEqual(x, lower), lessEqual(x, upper)), false, (v) => v >= lower && v <= upper),
    lower,
    upper,
  };
}

/** The constraint of {@link interval}, with its bounds. */
export interface IntervalConstraint extends Constraint {
  /** The lower bound. */
  readonly lower: number;
  /** The upper bound. */
  readonly upper: number;
}

/**
 * Integers in [lower, upper].
 * @example integerInterval(0, 5).check(tensor([2, 2.5, 6])) // int32 [1, 0, 0]
 */
export function integerInterval(lower: number, upper: number): IntervalConstraint {
  return {
    ...make(
      `integerInterval(${lower}, ${upper})`,
      0,
      (x) => logicalAnd(logicalAnd(greaterEqual(x, lower), lessEqual(x, upper)), equal(floor(x), x)),
      true,
      (v) => v >= lower && v <= upper && Math.floor(v) === v,
    ),
    lower,
    upper,
  };
}

const TOL = 1e-6;

/** Non-negative vectors summing to 1 along the last axis. */
export const simplex: Constraint = make('simplex', 1, (x) =>
  logicalAnd(equal(min(cast(greaterEqual(x, 0), x.dtype), -1), 1), less(abs(sub(sum(x, -1), 1)), TOL)),
);

/** Strictly increasing vectors. */
export const ordered: Constraint = make('ordered', 1, (x) => {
  const n = x.shape[x.shape.length - 1];
  if (n < 2) return cast(equal(min(x, -1), min(x, -1)), 'int32');
  const lo = slice(x, [...x.shape.slice(0, -1).map(() => 0), 0], [...x.shape.slice(0, -1), n - 1]);
  const hi = slice(x, [...x.shape.slice(0, -1).map(() => 0), 1], [...x.shape.slice(0, -1), n - 1]);
  return equal(min(cast(greater(hi, lo), x.dtype), -1), 1);
});

/** Lower-triangular matrices with a positive diagonal. */
export const lowerCholesky: Constraint = make('lowerCholesky', 2, (x) =>
  logicalAnd(
    equal(max(abs(sub(x, tril(x))), [-2, -1]), 0),
    equal(min(cast(greater(diagonal(x), 0), x.dtype), -1), 1),
  ),
);

/** Cholesky factors of correlation matrices: lower Cholesky with unit-norm rows. */
export const corrCholesky: Constraint = make('corrCholesky', 2, (x) =>
  logicalAnd(lowerCholesky.check(x), less(max(abs(sub(sum(square(x), -1), 1)), -1), TOL)),
);

/** Whether one row-major n×n matrix has a Cholesky factor (checked on the host). */
function hasCholesky(a: ArrayLike<number>, off: number, n: number): boolean {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[off + j * n + j];
    for (let k = 0; k < j; k++) d -= l[j * n + k] * l[j * n + k];
    if (!(d > 0)) return false;
    const ljj = Math.sqrt(d);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let v = a[off + i * n + j];
      for (let k = 0; k < j; k++) v -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = v / ljj;
    }
  }
  return true;
}

/** Symmetric positive-definite matrices (symmetry to a tolerance; definiteness by Cholesky). */
export const positiveDefinite: Constraint = make('positiveDefinite', 2, (x) => {
  const r = x.shape.length;
  const n = x.shape[r - 1];
  const sym = less(max(abs(sub(x, transpose(x, [...x.shape.keys()].map((i) => (i === r - 2 ? r - 1 : i === r - 1 ? r - 2 : i))))), [-2, -1]), TOL);
  const data = x.dataSync();
  const batch = x.size / Math.max(1, n * n);
  const pd = allocArray('int32', batch);
  for (let b = 0; b < batch; b++) pd[b] = hasCholesky(data, b * n * n, n) ? 1 : 0;
  return logicalAnd(sym, ENGINE.fromArray(pd, x.shape.slice(0, -2), x.backend));
});

/**
 * The constraint `c` with its `n` rightmost batch axes read as event axes: a point satisfies it
 * when every element of the block does. `independentConstraint(real, 1)` is `realVector`.
 * @example independentConstraint(positive, 1).check(tensor([[1, 2], [1, -1]])) // [1, 0]
 */
export function independentConstraint(c: Constraint, n: number): Constraint {
  if (n === 0) return c;
  if (c.name === 'real' && n === 1) return realVector;
  const eventDim = c.eventDim + n;
  const out: Constraint & { base: Constraint; reinterpreted: number } = {
    name: `independent(${c.name}, ${n})`,
    eventDim,
    discrete: c.discrete,
    base: c,
    reinterpreted: n,
    holds: c.holds,
    check: (x: Tensor) => {
      const ok = c.check(x);
      const axes = Array.from({ length: n }, (_, i) => ok.rank - n + i);
      return equal(min(cast(ok, x.dtype === 'int32' ? 'float64' : x.dtype), axes), 1);
    },
    toString: () => `independent(${c}, ${n})`,
  };
  return out;
}
