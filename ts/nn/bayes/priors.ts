/**
 * Priors over the weights of Bayesian layers: a zero-mean Gaussian, which has a closed-form KL
 * against a Gaussian posterior, and the scale mixture of two zero-mean Gaussians of Blundell et al.
 * (2015, "Weight Uncertainty in Neural Networks"), whose KL is estimated from samples.
 */
import { ValueError } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { add, div, log, mul, square, sub } from '../../ops/elementwise.js';
import { logsumexp } from '../../ops/reduce.js';
import { stack } from '../../ops/shape.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** A factorized prior over weights: the same scalar density for every weight. */
export interface WeightPrior {
  /** 'gaussian' or 'scaleMixture'. */
  readonly kind: string;
  /** log p(w) elementwise (same shape as w). */
  logProb(w: Tensor): Tensor;
  /**
   * KL(N(μ, σ²) ‖ p) elementwise in closed form, where it exists (absent otherwise: the layer then
   * estimates the KL from samples).
   */
  klFromGaussian?(mu: Tensor, sigma: Tensor): Tensor;
}

function checkScale(who: string, name: string, v: number): void {
  if (!(Number.isFinite(v) && v > 0)) throw new ValueError(`${who}: ${name} must be a finite number > 0, got ${v}`);
}

/**
 * The prior w ~ N(0, scale²) on every weight, with
 * KL(N(μ, σ²) ‖ N(0, s²)) = log(s/σ) + (σ² + μ²)/(2s²) − ½ in closed form.
 * @example
 * const prior = GaussianPrior(1);
 * prior.logProb(tensor([0])) // [−0.919…] = −½ log 2π
 */
export function GaussianPrior(scale = 1): WeightPrior & {
  /** The prior standard deviation of every weight. */
  readonly scale: number;
} {
  checkScale('GaussianPrior', 'scale', scale);
  const logS = Math.log(scale);
  const inv2s2 = 1 / (2 * scale * scale);
  return {
    kind: 'gaussian',
    scale,
    logProb: (w) => sub(mul(square(w), -inv2s2), logS + HALF_LOG_2PI),
    klFromGaussian: (mu, sigma) => sub(add(mul(add(square(sigma), square(mu)), inv2s2), logS - 0.5), log(sigma)),
  };
}

/**
 * Blundell et al.'s scale-mixture prior: p(w) = π·N(w; 0, σ₁²) + (1 − π)·N(w; 0, σ₂²), usually
 * with σ₁ > σ₂ (a wide component and a narrow one near zero). Its KL against a Gaussian has no
 * closed form, so layers estimate it as log q(w) − log p(w) at a sampled w.
 * @example
 * const prior = ScaleMixturePrior(0.5, 1, Math.exp(-6));
 * prior.logProb(w) // log-density elementwise, computed with logsumexp
 */
export function ScaleMixturePrior(pi: number, sigma1: number, sigma2: number): WeightPrior & {
  /** π, the weight of the first mixture component, in (0, 1). */
  readonly pi: number;
  /** σ₁, the standard deviation of the first component. */
  readonly sigma1: number;
  /** σ₂, the standard deviation of the second component. */
  readonly sigma2: number;
} {
  if (!(pi > 0 && pi < 1)) throw new ValueError(`ScaleMixturePrior: pi must be in (0, 1), got ${pi}`);
  checkScale('ScaleMixturePrior', 'sigma1', sigma1);
  checkScale('ScaleMixturePrior', 'sigma2', sigma2);
  const comp = (w: Tensor, weight: number, s: number): Tensor => sub(div(square(w), -2 * s * s), Math.log(s) + HALF_LOG_2PI - Math.log(weight));
  return {
    kind: 'scaleMixture',
    pi,
    sigma1,
    sigma2,
    logProb: (w) => logsumexp(stack([comp(w, pi, sigma1), comp(w, 1 - pi, sigma2)], 0), 0),
  };
}
