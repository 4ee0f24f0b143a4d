/** The elementwise tensor ops the Stan library uses, gathered in one import (plus `logicalOr`). */
import type { Tensor } from '../core/tensor.js';
import { cast, greater, maximum } from '../ops/elementwise.js';
import type { TensorLike } from '../ops/creation.js';

export {
  abs, add, div, exp, expm1, greater, greaterEqual, less, lessEqual, lgamma, digamma, log, log1p, mul, neg, pow, sigmoid, softplus,
  sqrt, square, sub, where, tanh, sin, cos, erf, floor, ceil, minimum, maximum, equal, notEqual, sign, cast,
} from '../ops/elementwise.js';

/** a ∨ b on 0/1 masks. */
export function logicalOr(a: Tensor, b: Tensor): Tensor {
  return greater(maximum(cast(a, 'float64'), cast(b, 'float64') as TensorLike), 0);
}
