/**
 * Transforms on vectors (event dim 1): stick-breaking onto the simplex and the ordered map, both
 * as in Stan's reference manual (chapter "Constraint transforms").
 */
import { ShapeError, fmtShape } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { ordered, realVector, simplex, type Constraint } from '../distributions/constraints.js';
import { add, exp, log, mul, neg, sigmoid, softplus, sub } from '../ops/elementwise.js';
import { cumsum, sum } from '../ops/reduce.js';
import { concat } from '../ops/shape.js';
import { Transform, constLike, needRank, padLast, sliceLast } from './transform.js';

/**
 * Stick-breaking from ℝ^(K−1) onto the simplex in ℝ^K (Stan's unit-simplex transform). With
 * 1-based k = 1..K−1:
 *
 *   z_k = σ(x_k − log(K − k)),  y_k = (1 − Σ_{j<k} y_j) z_k,  y_K = 1 − Σ_{k<K} y_k,
 *
 * so x = 0 maps to the uniform point (1/K, ..., 1/K). The log-det is taken on the first K − 1
 * outputs (the free coordinates; y_K is determined by them):
 *
 *   log|det J| = Σ_k [log z_k + log(1 − z_k) + log(1 − Σ_{j<k} y_j)].
 *
 * Inverse: x_k = log y_k − log(Σ_{j>k} y_j) + log(K − k) (tail sums instead of 1 − Σ, for
 * accuracy).
 *
 * Shapes: x `[..., K−1]` → y `[..., K]`; the log-det has shape `[...]`.
 * @example new StickBreakingTransform().forward(zeros([2])) // [1/3, 1/3, 1/3]
 */
export class StickBreakingTransform extends Transform {
  get name(): string {
    return 'stickBreaking';
  }
  get domain(): Constraint {
    return realVector;
  }
  get codomain(): Constraint {
    return simplex;
  }

  /** log(K − k) for k = 1..K−1, the offsets that centre x = 0 on the uniform point. */
  private offsets(km1: number, like: Tensor): Tensor {
    return constLike(Array.from({ length: km1 }, (_, i) => Math.log(km1 - i)), [km1], like);
  }

  forward(x: Tensor): Tensor {
    needRank(this.name, x, 1);
    const u = sub(x, this.offsets(x.shape[x.rank - 1], x));
    // log of the stick left before each break: exclusive cumulative Σ log(1 − z_j)
    const logRest = padLast(cumsum(neg(softplus(u)), -1), 1, 0);
    return mul(padLast(sigmoid(u), 0, 1, 1), exp(logRest));
  }

  inverse(y: Tensor): Tensor {
    needRank(this.name, y, 1);
    const k = y.shape[y.rank - 1];
    if (k < 1) throw new ShapeError(`${this.name}.inverse: the simplex needs at least one coordinate, got shape ${fmtShape(y.shape)}`);
    const tail = sliceLast(cumsum(y, -1, true), 1, k - 1);
    return add(sub(log(sliceLast(y, 0, k - 1)), log(tail)), this.offsets(k - 1, y));
  }

  protected ladj(x: Tensor): Tensor {
    needRank(this.name, x, 1);
    const u = sub(x, this.offsets(x.shape[x.rank - 1], x));
    // log z_k + log(1 − z_k) + log rest_k = log z_k + Σ_{j≤k} log(1 − z_j)
    return sum(sub(cumsum(neg(softplus(u)), -1), softplus(neg(u))), -1);
  }

  override forwardShape(shape: Shape): number[] {
    if (shape.length < 1) throw new ShapeError(`${this.name}.forwardShape: needs a vector shape, got ${fmtShape(shape)}`);
    return [...shape.slice(0, -1), shape[shape.length - 1] + 1];
  }

  override inverseShape(shape: Shape): number[] {
    if (shape.length < 1 || shape[shape.length - 1] < 1)
      throw new ShapeError(`${this.name}.inverseShape: needs a vector shape of length ≥ 1, got ${fmtShape(shape)}`);
    return [...shape.slice(0, -1), shape[shape.length - 1] - 1];
  }
}

/**
 * From ℝ^K onto strictly increasing vectors (Stan's ordered transform):
 *
 *   y_1 = x_1,  y_k = y_{k−1} + exp(x_k)  (k ≥ 2);  log|det J| = Σ_{k≥2} x_k;
 *   inverse x_1 = y_1, x_k = log(y_k − y_{k−1}).
 *
 * Shapes: x `[..., K]` → y `[..., K]`; the log-det has shape `[...]`.
 * @example new OrderedTransform().forward(tensor([1, 0, 0])) // [1, 2, 3]
 */
export class OrderedTransform extends Transform {
  get name(): string {
    return 'ordered';
  }
  get domain(): Constraint {
    return realVector;
  }
  get codomain(): Constraint {
    return ordered;
  }

  forward(x: Tensor): Tensor {
    needRank(this.name, x, 1);
    const k = x.shape[x.rank - 1];
    if (k <= 1) return x;
    return cumsum(concat([sliceLast(x, 0, 1), exp(sliceLast(x, 1, k - 1))], -1), -1);
  }

  inverse(y: Tensor): Tensor {
    needRank(this.name, y, 1);
    const k = y.shape[y.rank - 1];
    if (k <= 1) return y;
    const gaps = sub(sliceLast(y, 1, k - 1), sliceLast(y, 0, k - 1));
    return concat([sliceLast(y, 0, 1), log(gaps)], -1);
  }

  protected ladj(x: Tensor): Tensor {
    needRank(this.name, x, 1);
    const k = x.shape[x.rank - 1];
    if (k <= 1) return sum(mul(x, 0), -1);
    return sum(sliceLast(x, 1, k - 1), -1);
  }
}
