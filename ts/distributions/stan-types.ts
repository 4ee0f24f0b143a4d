/**
 * Stan's parameter types as supports: `stanType('cov_matrix', [3])` gives the constraint and the
 * event shape a Stan declaration `cov_matrix[3] Sigma;` stands for, ready for
 * `new ImproperUniform(support, [], eventShape)` or any distribution's support check.
 */
import { ValueError } from '../core/errors.js';
import type { TensorLike } from '../ops/creation.js';
import { independentConstraint, ordered, real, simplex, type Constraint } from './constraints.js';
import {
  bounded, choleskyFactorCorr, choleskyFactorCov, columnStochastic, corrMatrix, covMatrix, offsetMultiplier, positiveOrdered,
  rowStochastic, sumToZero, sumToZeroMatrix, unitVector,
} from './stan-constraints.js';

/** Stan's type names for parameters (the container types take bounds or offset/multiplier). */
export type StanTypeName =
  | 'real'
  | 'vector'
  | 'row_vector'
  | 'matrix'
  | 'simplex'
  | 'unit_vector'
  | 'sum_to_zero_vector'
  | 'ordered'
  | 'positive_ordered'
  | 'cholesky_factor_corr'
  | 'cholesky_factor_cov'
  | 'corr_matrix'
  | 'cov_matrix'
  | 'row_stochastic_matrix'
  | 'column_stochastic_matrix'
  | 'sum_to_zero_matrix';

/** A declaration's `<lower=, upper=>` or `<offset=, multiplier=>` (numbers or tensors broadcasting against the value). */
export interface StanTypeBounds {
  /** `lower=`: the lower bound of each element (left out or −∞ for none). */
  readonly lower?: TensorLike;
  /** `upper=`: the upper bound of each element (left out or +∞ for none). */
  readonly upper?: TensorLike;
  /** `offset=`: the μ of Stan's affine map y = μ + σx (default 0). */
  readonly offset?: TensorLike;
  /** `multiplier=`: the σ > 0 of Stan's affine map y = μ + σx (default 1). */
  readonly multiplier?: TensorLike;
}

/** What a Stan type declares: the support and the event shape of one value. */
export interface StanTypeSupport {
  /** The set of values the declaration allows, with event dim the length of `eventShape`. */
  readonly support: Constraint;
  /** The shape of one value (`vector[N]` → `[N]`, `cov_matrix[K]` → `[K, K]`). */
  readonly eventShape: number[];
}

const ARITY: Record<StanTypeName, [number, number]> = {
  real: [0, 0],
  vector: [1, 1],
  row_vector: [1, 1],
  matrix: [2, 2],
  simplex: [1, 1],
  unit_vector: [1, 1],
  sum_to_zero_vector: [1, 1],
  ordered: [1, 1],
  positive_ordered: [1, 1],
  cholesky_factor_corr: [1, 1],
  cholesky_factor_cov: [1, 2],
  corr_matrix: [1, 1],
  cov_matrix: [1, 1],
  row_stochastic_matrix: [2, 2],
  column_stochastic_matrix: [2, 2],
  sum_to_zero_matrix: [2, 2],
};

/**
 * The support and event shape of a Stan parameter declaration. Sizes are the declaration's
 * (`vector[N]` → `[N]`, `cholesky_factor_cov[M, N]` → `[M, N]`, `cov_matrix[K]` → `[K, K]`);
 * bounds apply to `real`, `vector`, `row_vector` and `matrix` only, as in Stan, and
 * `lower`/`upper` cannot be combined with `offset`/`multiplier`. Arrays of a type
 * (`array[J] vector[N]`) are batch axes: give them as the distribution's batch shape.
 *
 * | Stan type | support | event shape |
 * | --- | --- | --- |
 * | real, vector[N], row_vector[N], matrix[N, M] (+ bounds) | real / bounded / offsetMultiplier, per element | [], [N], [N], [N, M] |
 * | simplex[K], unit_vector[K], sum_to_zero_vector[K], ordered[K], positive_ordered[K] | the constraint of that name | [K] |
 * | cholesky_factor_corr[K], corr_matrix[K], cov_matrix[K] | choleskyFactorCorr, corrMatrix, covMatrix | [K, K] |
 * | cholesky_factor_cov[M] or [M, N] | choleskyFactorCov(M, N) | [M, N] |
 * | row_stochastic_matrix[N, M], column_stochastic_matrix[N, M], sum_to_zero_matrix[N, M] | rowStochastic, columnStochastic, sumToZeroMatrix | [N, M] |
 *
 * Throws a ValueError naming the type for wrong sizes or bounds on a constrained type.
 * @example
 * const { support, eventShape } = stanType('vector', [5], { lower: 0 });   // vector<lower=0>[5]
 * const sigma = sample('sigma', new ImproperUniform(support, [], eventShape));
 */
export function stanType(type: StanTypeName, sizes: readonly number[] = [], bounds: StanTypeBounds = {}): StanTypeSupport {
  const arity = ARITY[type];
  if (arity === undefined) throw new ValueError(`stanType: unknown Stan type '${String(type)}'; known: ${Object.keys(ARITY).join(', ')}`);
  if (sizes.length < arity[0] || sizes.length > arity[1] || !sizes.every((n) => Number.isInteger(n) && n >= 0))
    throw new ValueError(`stanType: ${type} takes ${arity[0] === arity[1] ? arity[0] : `${arity[0]} or ${arity[1]}`} non-negative integer sizes, got [${sizes.join(', ')}]`);
  const hasBounds = bounds.lower !== undefined || bounds.upper !== undefined;
  const hasAffine = bounds.offset !== undefined || bounds.multiplier !== undefined;
  const unconstrained = type === 'real' || type === 'vector' || type === 'row_vector' || type === 'matrix';
  if ((hasBounds || hasAffine) && !unconstrained) throw new ValueError(`stanType: ${type} takes no lower/upper/offset/multiplier (only real, vector, row_vector and matrix do)`);
  if (hasBounds && hasAffine) throw new ValueError(`stanType: ${type} cannot combine lower/upper with offset/multiplier (as in Stan)`);
  const [a, b] = sizes;
  if (unconstrained) {
    const el = hasAffine ? offsetMultiplier(bounds.offset ?? 0, bounds.multiplier ?? 1) : hasBounds ? bounded(bounds) : real;
    return { support: independentConstraint(el, sizes.length), eventShape: sizes.slice() };
  }
  switch (type) {
    case 'simplex':
      return { support: simplex, eventShape: [a] };
    case 'unit_vector':
      return { support: unitVector, eventShape: [a] };
    case 'sum_to_zero_vector':
      return { support: sumToZero, eventShape: [a] };
    case 'ordered':
      return { support: ordered, eventShape: [a] };
    case 'positive_ordered':
      return { support: positiveOrdered, eventShape: [a] };
    case 'cholesky_factor_corr':
      return { support: choleskyFactorCorr, eventShape: [a, a] };
    case 'cholesky_factor_cov':
      return { support: choleskyFactorCov(a, b ?? a), eventShape: [a, b ?? a] };
    case 'corr_matrix':
      return { support: corrMatrix, eventShape: [a, a] };
    case 'cov_matrix':
      return { support: covMatrix, eventShape: [a, a] };
    case 'row_stochastic_matrix':
      return { support: rowStochastic, eventShape: [a, b] };
    case 'column_stochastic_matrix':
      return { support: columnStochastic, eventShape: [a, b] };
    default:
      return { support: sumToZeroMatrix, eventShape: [a, b] };
  }
}
