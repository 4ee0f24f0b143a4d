/*
 * Bijectors (transforms): invertible maps with their log|det J|, the combinators that build new
 * ones, and `bijectTo`, which maps ℝ^d onto each constraint's support.
 */
export { Transform, InverseTransform, inverse, independentConstraint } from './transform.js';
export {
  IdentityTransform,
  ExpTransform,
  SoftplusTransform,
  SigmoidTransform,
  TanhTransform,
  AffineTransform,
  PowerTransform,
  IntervalTransform,
  GreaterThanTransform,
  LessThanTransform,
} from './elementwise.js';
export { StickBreakingTransform, OrderedTransform } from './vector.js';
export { LowerCholeskyTransform, CorrCholeskyTransform, CholeskyOuterTransform, type LowerCholeskyOptions } from './cholesky.js';
export { ComposeTransform, IndependentTransform, compose, independent } from './compose.js';
export { bijectTo, registerBijectTo, hasBijectTo, type BijectToFactory } from './bijectTo.js';
export {
  PositiveOrderedTransform,
  UnitVectorTransform,
  SumToZeroTransform,
  CholeskyFactorCovTransform,
  CovMatrixTransform,
  CorrMatrixTransform,
  ColumnStochasticTransform,
  SumToZeroMatrixTransform,
} from './stan.js';
export { defineConstraint, type ConstraintSpec, type DefinedConstraint } from './define.js';
