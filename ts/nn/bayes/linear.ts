/**
 * `BayesLinear`: a fully connected layer with a mean-field Gaussian posterior over its weights and
 * biases, q(W) = Π N(w_ij; μ_ij, σ_ij²) with σ = softplus(ρ) (Blundell et al. 2015), and three
 * estimators of the output under q:
 * - 'reparam': one weight draw W = μ + σ∘ε shared by the batch (Bayes by Backprop as published);
 * - 'local': the local reparameterization of Kingma, Salimans & Welling (2015): each example's
 *   pre-activation is drawn from its exact Gaussian N(x·μᵀ + μ_b, x²·(σ²)ᵀ + σ_b²), independently;
 * - 'flipout' (Wen et al. 2018): one perturbation ΔW = σ∘ε decorrelated across examples by random
 *   signs, y = x·μᵀ + ((x∘s_in)·ΔWᵀ)∘s_out, s ~ Rademacher.
 * All three give every example's output the same marginal distribution, so the expected loss and
 * its gradient are the same (unbiased); the last two have lower variance over a minibatch.
 */
import { ShapeError, ValueError, fmtShape } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { add, log, mul, softplus, sqrt, square, sub } from '../../ops/elementwise.js';
import { normalReparam } from '../../ops/gauss.js';
import { matmul } from '../../ops/linalg.js';
import { sum } from '../../ops/reduce.js';
import { reshape } from '../../ops/shape.js';
import { split, type Key } from '../../random/key.js';
import { bernoulli, normal, type FloatDType } from '../../random/samplers.js';
import { constantInit, defaultBiasInit, defaultWeightInit, type Initializer } from '../init.js';
import { linear } from '../linear.js';
import type { ApplyOptions, Module } from '../module.js';
import { GaussianPrior, type WeightPrior } from './priors.js';

/** How a Bayesian layer turns q(W) into an output. */
export type BayesEstimator = 'reparam' | 'local' | 'flipout';

/** Variational parameters of `BayesLinear`: means and softplus-inverse scales, weight [out, in], bias [out]. */
export interface BayesLinearParams {
  /** Posterior means of the weights, [out, in]. */
  weightMu: Tensor;
  /** Softplus-inverse posterior scales of the weights, [out, in]: σ = softplus(ρ). */
  weightRho: Tensor;
  /** Posterior means of the bias, [out]; absent when the layer has no bias. */
  biasMu?: Tensor;
  /** Softplus-inverse posterior scales of the bias, [out]; given together with `biasMu`. */
  biasRho?: Tensor;
}

/** Options of a Bayesian layer's `apply`: with a key it samples, without one it uses the posterior mean. */
export interface BayesApplyOptions extends ApplyOptions {
  /** Overrides the layer's estimator for this call. */
  estimator?: BayesEstimator;
}

/** Options of `BayesLinear`. */
export interface BayesLinearOptions {
  /** Whether to add a (Bayesian) bias; default true. */
  bias?: boolean;
  /** Parameter dtype; default float32. */
  dtype?: FloatDType;
  /** Prior over every weight and bias; default `GaussianPrior(1)`. */
  prior?: WeightPrior;
  /** Default estimator of `apply`; default 'local'. */
  estimator?: BayesEstimator;
  /** KL in closed form when the prior has one ('auto', default), or always from a sample ('sampled'). */
  kl?: 'auto' | 'sampled';
  /** Initial posterior scale σ₀ of every weight (ρ starts at softplus⁻¹(σ₀)); default 1e-2. */
  initScale?: number;
  /** Initializer of the weight means; default PyTorch's Linear one. */
  weightInit?: Initializer;
  /** Initializer of the bias means; default PyTorch's Linear one. */
  biasInit?: Initializer;
}

/** A Bayesian module: a module whose parameters are variational, with its KL to the prior. */
export interface BayesModule<P = unknown> extends Module<P, Tensor, Tensor, BayesApplyOptions> {
  /** KL(q ‖ p) summed over the module's weights: closed form where possible, else a one-draw estimate from `key`. */
  kl(params: P, key?: Key): Tensor;
}

/**
 * The posterior scale σ = softplus(ρ) of the parameterization.
 * @example posteriorScale(p.weightRho) // σ of every weight
 */
export const posteriorScale = (rho: Tensor): Tensor => softplus(rho);

/**
 * ρ = softplus⁻¹(σ) = log(e^σ − 1), for initial values.
 * @example inverseSoftplus(0.01) // ≈ −4.60
 */
export function inverseSoftplus(sigma: number): number {
  if (!(Number.isFinite(sigma) && sigma > 0)) throw new ValueError(`inverseSoftplus: sigma must be a finite number > 0, got ${sigma}`);
  return sigma > 20 ? sigma : Math.log(Math.expm1(sigma));
}

function rademacher(k: Key, shape: readonly number[], dtype: FloatDType): Tensor {
  return sub(mul(bernoulli(k, 0.5, shape, { dtype }), 2), 1);
}

/**
 * KL of a factorized Gaussian (μ, σ = softplus ρ) to `prior`, summed: in closed form when the prior
 * has one and `mode` is 'auto', else log q(w) − log p(w) at one draw w from key `k`. Errors name `who`.
 * @example gaussianKL(GaussianPrior(1), p.weightMu, p.weightRho, 'auto', undefined, 'myLayer')
 */
export function gaussianKL(prior: WeightPrior, mu: Tensor, rho: Tensor, mode: 'auto' | 'sampled', k: Key | undefined, who: string): Tensor {
  const sigma = posteriorScale(rho);
  if (mode === 'auto' && prior.klFromGaussian !== undefined) return sum(prior.klFromGaussian(mu, sigma));
  if (k === undefined) throw new ValueError(`${who}: the KL to a ${prior.kind} prior is estimated from a sample and needs a key (kl(params, key))`);
  const [w, logq] = normalReparam(mu, log(sigma), k);
  return sub(sum(logq), sum(prior.logProb(w)));
}

/**
 * A Bayesian fully connected layer: y = x·Wᵀ + b with W [out, in] ~ q and b [out] ~ q, the
 * mean-field Gaussian posterior, against a factorized prior. Input [..., in] → [..., out].
 * `apply(p, x, { key })` samples with the layer's estimator; without a key it returns the output
 * at the posterior mean. `kl(p, key?)` is KL(q ‖ p) over all its weights.
 * @example
 * const layer = BayesLinear(3, 2, { prior: GaussianPrior(1), estimator: 'flipout' });
 * const p = layer.init(key(0));
 * const y = layer.apply(p, x, { key: key(1) }); // x [n, 3] → y [n, 2], one stochastic pass
 * const kl = layer.kl(p); // closed form for a Gaussian prior
 */
export function BayesLinear(
  inFeatures: number,
  outFeatures: number,
  opts: BayesLinearOptions = {},
): BayesModule<BayesLinearParams> & {
  /** Number of input features. */
  readonly inFeatures: number;
  /** Number of output features. */
  readonly outFeatures: number;
  /** The prior on every weight and bias. */
  readonly prior: WeightPrior;
  /** The default estimator of `apply`. */
  readonly estimator: BayesEstimator;
} {
  for (const [name, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const)
    if (!Number.isInteger(v) || v < 1) throw new ValueError(`BayesLinear: ${name} must be a positive integer, got ${v}`);
  const { bias = true, dtype = 'float32', prior = GaussianPrior(1), estimator = 'local', kl: klMode = 'auto', initScale = 1e-2 } = opts;
  if (!['reparam', 'local', 'flipout'].includes(estimator)) throw new ValueError(`BayesLinear: estimator must be 'reparam', 'local' or 'flipout', got '${String(estimator)}'`);
  if (!(Number.isFinite(initScale) && initScale > 0)) throw new ValueError(`BayesLinear: initScale must be a finite number > 0, got ${initScale}`);
  const { weightInit = defaultWeightInit, biasInit = defaultBiasInit(inFeatures) } = opts;
  const rho0 = constantInit(inverseSoftplus(initScale));
  return {
    inFeatures,
    outFeatures,
    prior,
    estimator,
    init(k: Key): BayesLinearParams {
      const [kw, kb] = split(k, 2);
      const p: BayesLinearParams = { weightMu: weightInit(kw, [outFeatures, inFeatures], dtype), weightRho: rho0(kw, [outFeatures, inFeatures], dtype) };
      if (bias) {
        p.biasMu = biasInit(kb, [outFeatures], dtype);
        p.biasRho = rho0(kb, [outFeatures], dtype);
      }
      return p;
    },
    apply(p: BayesLinearParams, x: Tensor, o: BayesApplyOptions = {}): Tensor {
      if ((p.biasMu === undefined) !== (p.biasRho === undefined)) throw new ValueError('BayesLinear: biasMu and biasRho must be given together');
      if (o.key === undefined) return linear(x, p.weightMu, p.biasMu, 'BayesLinear');
      const est = o.estimator ?? estimator;
      if (x.shape.length === 0 || x.shape[x.shape.length - 1] !== inFeatures) throw new ShapeError(`BayesLinear: input ${fmtShape(x.shape)} must end in ${inFeatures} features`);
      const [kw, kb, ks1, ks2] = split(o.key, 4);
      const sW = posteriorScale(p.weightRho);
      const sB = p.biasRho !== undefined ? posteriorScale(p.biasRho) : undefined;
      const dt = p.weightMu.dtype as FloatDType;
      const outShape = [...x.shape.slice(0, -1), outFeatures];
      if (est === 'reparam') {
        const w = add(p.weightMu, mul(sW, normal(kw, p.weightMu.shape, { dtype: dt })));
        const b = p.biasMu !== undefined && sB !== undefined ? add(p.biasMu, mul(sB, normal(kb, [outFeatures], { dtype: dt }))) : undefined;
        return linear(x, w, b, 'BayesLinear');
      }
      // Local and Flipout: the bias is drawn per example (its exact marginal), independently.
      const bNoise = (y: Tensor): Tensor => (p.biasMu !== undefined && sB !== undefined ? add(y, add(p.biasMu, mul(sB, normal(kb, outShape, { dtype: dt })))) : y);
      if (est === 'local') {
        const mean = linear(x, p.weightMu, undefined, 'BayesLinear');
        const flat = x.shape.length > 2 ? reshape(x, [-1, inFeatures]) : x;
        let v = matmul(square(flat), square(sW), { transB: true });
        if (flat !== x) v = reshape(v, outShape);
        // sqrt(v + tiny): finite gradient where an input row is all zeros.
        return bNoise(add(mean, mul(sqrt(add(v, 1e-30)), normal(kw, outShape, { dtype: dt }))));
      }
      const dW = mul(sW, normal(kw, p.weightMu.shape, { dtype: dt }));
      const sIn = rademacher(ks1, x.shape, dt);
      const sOut = rademacher(ks2, outShape, dt);
      const pert = mul(linear(mul(x, sIn), dW, undefined, 'BayesLinear'), sOut);
      return bNoise(add(linear(x, p.weightMu, undefined, 'BayesLinear'), pert));
    },
    kl(p: BayesLinearParams, k?: Key): Tensor {
      const [kw, kb] = k !== undefined ? split(k, 2) : [undefined, undefined];
      const kw_ = gaussianKL(prior, p.weightMu, p.weightRho, klMode, kw, 'BayesLinear');
      return p.biasMu !== undefined && p.biasRho !== undefined ? add(kw_, gaussianKL(prior, p.biasMu, p.biasRho, klMode, kb, 'BayesLinear')) : kw_;
    },
  };
}
