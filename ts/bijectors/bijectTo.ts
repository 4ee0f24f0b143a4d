/**
 * `bijectTo(constraint)`: the transform from unconstrained ℝ^d onto a constraint's support, as
 * ADVI and the autoguides need it. Dispatch is on the constraint's name (the part before any
 * parenthesis), so constraints made anywhere — including tensor-ended intervals — resolve here.
 */
import { ValueError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import type { Constraint } from '../distributions/constraints.js';
import { CholeskyOuterTransform, CorrCholeskyTransform, LowerCholeskyTransform } from './cholesky.js';
import { compose, independent } from './compose.js';
import {
  AffineTransform,
  ExpTransform, GreaterThanTransform, IdentityTransform, IntervalTransform, LessThanTransform, SigmoidTransform,
} from './elementwise.js';
import type { Transform } from './transform.js';
import {
  CholeskyFactorCovTransform, ColumnStochasticTransform, CorrMatrixTransform, CovMatrixTransform, PositiveOrderedTransform,
  SumToZeroMatrixTransform, SumToZeroTransform, UnitVectorTransform,
} from './stan.js';
import { OrderedTransform, StickBreakingTransform } from './vector.js';

/** Builds the transform onto one kind of constraint, given the constraint object. */
export type BijectToFactory = (c: Constraint) => Transform;

type Bound = number | Tensor;

function bound(c: Constraint, key: 'lower' | 'upper'): Bound {
  const v = (c as unknown as Record<string, unknown>)[key];
  if (typeof v === 'number' || (typeof v === 'object' && v !== null && 'shape' in v)) return v as Bound;
  throw new ValueError(`bijectTo: constraint ${c} has no numeric or tensor '${key}' bound`);
}

const REGISTRY = new Map<string, BijectToFactory>([
  ['real', () => new IdentityTransform()],
  ['realVector', () => independent(new IdentityTransform(), 1)],
  // exp rather than softplus: Stan's and NumPyro's choice, and log-normal tails suit scale priors
  ['positive', () => new ExpTransform()],
  ['nonnegative', () => new ExpTransform()],
  ['unitInterval', () => new SigmoidTransform()],
  [
    'interval',
    (c) => {
      const lo = bound(c, 'lower');
      const hi = bound(c, 'upper');
      return lo === 0 && hi === 1 ? new SigmoidTransform() : new IntervalTransform(lo, hi);
    },
  ],
  [
    'greaterThan',
    (c) => {
      const lo = bound(c, 'lower');
      return lo === 0 ? new ExpTransform() : new GreaterThanTransform(lo);
    },
  ],
  ['lessThan', (c) => new LessThanTransform(bound(c, 'upper'))],
  ['simplex', () => new StickBreakingTransform()],
  ['ordered', () => new OrderedTransform()],
  ['lowerCholesky', () => new LowerCholeskyTransform()],
  ['corrCholesky', () => new CorrCholeskyTransform()],
  ['positiveDefinite', () => compose(new LowerCholeskyTransform(), new CholeskyOuterTransform())],
  // Stan's constraint types (ts/distributions/stan-constraints.ts), with Stan's transforms
  ['positiveOrdered', () => new PositiveOrderedTransform()],
  ['unitVector', () => new UnitVectorTransform()],
  ['sumToZero', () => new SumToZeroTransform()],
  ['corrMatrix', () => new CorrMatrixTransform()],
  ['covMatrix', () => new CovMatrixTransform()],
  ['rowStochastic', () => independent(new StickBreakingTransform(), 1)],
  ['columnStochastic', () => new ColumnStochasticTransform()],
  ['sumToZeroMatrix', () => new SumToZeroMatrixTransform()],
  [
    'choleskyFactorCov',
    (c) => {
      const f = c as Constraint & { rows?: number; cols?: number };
      return new CholeskyFactorCovTransform(f.rows, f.cols);
    },
  ],
  [
    'offsetMultiplier',
    (c) => {
      const o = c as Constraint & { offset?: Bound; multiplier?: Bound };
      return new AffineTransform(o.offset ?? 0, o.multiplier ?? 1);
    },
  ],
  [
    'independent',
    (c) => {
      const r = c as Constraint & { base?: Constraint; reinterpreted?: number };
      if (r.base === undefined || r.reinterpreted === undefined) throw new ValueError(`bijectTo: constraint ${c} lacks its base`);
      return independent(bijectTo(r.base), r.reinterpreted);
    },
  ],
]);

/**
 * The transform from ℝ^d onto the support of `c`:
 *
 * | constraint | transform | d → event |
 * | --- | --- | --- |
 * | real | identity | scalar |
 * | realVector | identity, event dim 1 | K → K |
 * | positive, nonnegative | exp (softplus: `new SoftplusTransform()`) | scalar |
 * | unitInterval, interval(0, 1) | sigmoid | scalar |
 * | interval(lo, hi), number or tensor ends | lo + (hi − lo) σ(x) | scalar |
 * | greaterThan(lo) | lo + eˣ | scalar |
 * | lessThan(hi) | hi − eˣ | scalar |
 * | simplex | stick-breaking | K−1 → K |
 * | ordered | y_1 = x_1, y_k = y_{k−1} + e^{x_k} | K → K |
 * | lowerCholesky | strictly-lower fill, exp diagonal | n(n+1)/2 → n×n |
 * | corrCholesky | tanh partial correlations onto unit rows | n(n−1)/2 → n×n |
 * | positiveDefinite | lower-Cholesky, then L Lᵀ | n(n+1)/2 → n×n |
 * | bounded({lower, upper}) | Stan's: the interval / half-line maps above, identity if unbounded | scalar |
 * | offsetMultiplier(μ, σ) | μ + σx (Stan's offset/multiplier) | scalar |
 * | positiveOrdered | y_1 = e^{x_1}, y_k = y_{k−1} + e^{x_k} | K → K |
 * | unitVector | x/‖x‖ with Stan's −½‖x‖² term as the log-det | K → K |
 * | sumToZero | Stan 2.36's isometric (Helmert) map, log-det 0 | N → N+1 |
 * | choleskyFactorCov(M, N) | Stan's order, exp diagonal | N(N+1)/2 + (M−N)N → M×N |
 * | covMatrix | Stan's cov_matrix (Stan's order), L Lᵀ | K(K+1)/2 → K×K |
 * | corrMatrix | Stan's corr_matrix: tanh CPCs (column order), L Lᵀ | K(K−1)/2 → K×K |
 * | rowStochastic, columnStochastic | stick-breaking along each row / column | N×(M−1) → N×M, (K−1)×M → K×M |
 * | sumToZeroMatrix | the sum-to-zero map along rows and columns, log-det 0 | (N−1)×(M−1) → N×M |
 *
 * Stan's `simplex`, `ordered` and `cholesky_factor_corr` are `simplex`, `ordered` and
 * `corrCholesky` (choleskyFactorCorr), whose transforms are Stan's already. Constraints of your own
 * come with their transform through `defineConstraint`.
 *
 * Discrete and unknown constraints throw a ValueError naming the constraint.
 * @example
 * const t = bijectTo(simplex);
 * const p = t.forward(zeros([3]));           // [0.25, 0.25, 0.25, 0.25]
 * const ld = t.logAbsDetJacobian(zeros([3])); // scalar
 */
export function bijectTo(c: Constraint): Transform {
  const key = c.name.split('(')[0];
  const f = REGISTRY.get(key);
  if (f === undefined) {
    const why = c.discrete ? ' (a discrete support has no bijection from ℝ^d)' : '';
    throw new ValueError(`bijectTo: no transform onto the constraint ${c}${why}; known: ${[...REGISTRY.keys()].join(', ')}`);
  }
  return f(c);
}

/**
 * Registers (or replaces) the transform `bijectTo` returns for constraints named `name` (the part
 * of `constraint.name` before any parenthesis).
 * @example registerBijectTo('positive', () => new SoftplusTransform()) // softplus for every positive support
 */
export function registerBijectTo(name: string, factory: BijectToFactory): void {
  REGISTRY.set(name, factory);
}

/**
 * Whether `bijectTo` knows constraints named `name` (the part before any parenthesis).
 * @example hasBijectTo('simplex') // true
 */
export function hasBijectTo(name: string): boolean {
  return REGISTRY.has(name);
}
