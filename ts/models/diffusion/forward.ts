/**
 * The forward (noising) process of a DDPM at one step t, with the closed forms of schedule.ts:
 *   q(x_t | x₀) = N(√ᾱ_t x₀, (1 − ᾱ_t) I),
 *   q(x_{t−1} | x_t, x₀) = N(μ̃_t, β̃_t I),  μ̃_t = c0_t x₀ + ct_t x_t   (t ≥ 2).
 */
import { ShapeError, ValueError, fmtShape } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { add, mul } from '../../ops/elementwise.js';
import type { Key } from '../../random/key.js';
import { normal, type FloatDType } from '../../random/samplers.js';
import { checkTimestep, type DiffusionSchedule } from './schedule.js';

/**
 * A draw x_t ~ q(x_t | x₀) at the integer step t ∈ [1, T], in the shape and dtype of x₀.
 * @example const xt = qSample(sched, x0, 500, key(1))
 */
export function qSample(s: DiffusionSchedule, x0: Tensor, t: number, k: Key): Tensor {
  checkTimestep('qSample', t, s.T);
  const ab = s.alphaBars[t - 1];
  return add(mul(x0, Math.sqrt(ab)), mul(normal(k, x0.shape, { dtype: x0.dtype as FloatDType }), Math.sqrt(1 - ab)));
}

/**
 * The forward posterior q(x_{t−1} | x_t, x₀) at the integer step t ∈ [2, T]: its mean μ̃ (the shape
 * of x₀ and x_t) and its variance β̃_t (a number).
 * @example const { mean, variance } = qPosterior(sched, x0, xt, 10)
 */
export function qPosterior(s: DiffusionSchedule, x0: Tensor, xt: Tensor, t: number): {
  /** μ̃_t(x_t, x₀). */
  mean: Tensor;
  /** β̃_t. */
  variance: number;
} {
  checkTimestep('qPosterior', t, s.T);
  if (t < 2) throw new ValueError(`qPosterior: q(x_{t−1} | x_t, x₀) needs t >= 2 (x₀ is given at t = 1), got t = ${t}`);
  if (x0.shape.length !== xt.shape.length || x0.shape.some((d, i) => d !== xt.shape[i]))
    throw new ShapeError(`qPosterior: x0 ${fmtShape(x0.shape)} and xt ${fmtShape(xt.shape)} must have the same shape`);
  const i = t - 1;
  return { mean: add(mul(x0, s.posteriorCoefX0[i]), mul(xt, s.posteriorCoefXt[i])), variance: s.posteriorVariance[i] };
}
