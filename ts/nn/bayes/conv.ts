/**
 * `BayesConv2d`: a 2-D convolution (NCHW) with a mean-field Gaussian posterior over its kernel and
 * bias, q(W) = Π N(w; μ, σ²), σ = softplus(ρ), and the estimators of `BayesLinear`:
 * - 'reparam': one kernel draw shared by the batch;
 * - 'local': each output element drawn from its exact Gaussian N(conv(x, μ), conv(x², σ²)) (Kingma,
 *   Salimans & Welling 2015; the output elements of one example are then drawn independently,
 *   which keeps every element's marginal but not their covariance);
 * - 'flipout' (Wen et al. 2018): one kernel perturbation ΔW = σ∘ε, decorrelated across examples by
 *   random signs per example and channel, y = conv(x, μ) + conv(x∘s_in, ΔW)∘s_out.
 * The bias is drawn per output element under 'local' and 'flipout' (its exact marginal).
 */
import { ValueError, ShapeError, fmtShape } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { add, mul, sqrt, square, sub } from '../../ops/elementwise.js';
import { reshape } from '../../ops/shape.js';
import { split, type Key } from '../../random/key.js';
import { bernoulli, normal, type FloatDType } from '../../random/samplers.js';
import { computeFans, constantInit, defaultBiasInit, defaultWeightInit } from '../init.js';
import { conv2d, type Conv2dOptions, type Size2 } from '../conv.js';
import { GaussianPrior } from './priors.js';
import { gaussianKL, inverseSoftplus, posteriorScale, type BayesApplyOptions, type BayesEstimator, type BayesLinearOptions, type BayesModule } from './linear.js';

/** Variational parameters of `BayesConv2d`: kernel [outC, inC, kh, kw] and bias [outC], means and softplus-inverse scales. */
export interface BayesConv2dParams {
  /** Posterior means of the kernel, [outC, inC, kh, kw]. */
  weightMu: Tensor;
  /** Softplus-inverse posterior scales of the kernel: σ = softplus(ρ). */
  weightRho: Tensor;
  /** Posterior means of the bias, [outC]; absent when the layer has no bias. */
  biasMu?: Tensor;
  /** Softplus-inverse posterior scales of the bias, [outC]. */
  biasRho?: Tensor;
}

/** Options of `BayesConv2d`: the convolution's geometry and the Bayesian layer's options. */
export type BayesConv2dOptions = Conv2dOptions & BayesLinearOptions;

/**
 * A Bayesian 2-D convolution: input [N, inC, H, W] → [N, outC, H', W'] (geometry as `conv2d`), the
 * kernel and bias under a mean-field Gaussian posterior against a factorized prior.
 * `apply(p, x, { key })` samples with the layer's estimator; without a key it returns the output
 * at the posterior mean. `kl(p, key?)` is KL(q ‖ p) over all its weights.
 * @example
 * const conv = BayesConv2d(1, 16, 3, { padding: 1, estimator: 'flipout' });
 * const p = conv.init(key(0));
 * const y = conv.apply(p, x, { key: key(1) }); // [N, 1, 28, 28] → [N, 16, 28, 28]
 * const kl = conv.kl(p);
 */
export function BayesConv2d(
  inChannels: number,
  outChannels: number,
  kernel: Size2,
  opts: BayesConv2dOptions = {},
): BayesModule<BayesConv2dParams> & {
  /** The default estimator of `apply`. */
  readonly estimator: BayesEstimator;
} {
  const [kh, kw] = typeof kernel === 'number' ? [kernel, kernel] : [kernel[0], kernel[1]];
  const wshape = [outChannels, inChannels, kh, kw];
  if (wshape.some((v) => !Number.isInteger(v) || v < 1)) throw new ValueError(`BayesConv2d: channels and kernel sizes must be positive integers, got kernel ${fmtShape(wshape)}`);
  const { bias = true, dtype = 'float32', prior = GaussianPrior(1), estimator = 'local', kl: klMode = 'auto', initScale = 1e-2, stride, padding, dilation } = opts;
  if (!['reparam', 'local', 'flipout'].includes(estimator)) throw new ValueError(`BayesConv2d: estimator must be 'reparam', 'local' or 'flipout', got '${String(estimator)}'`);
  if (!(Number.isFinite(initScale) && initScale > 0)) throw new ValueError(`BayesConv2d: initScale must be a finite number > 0, got ${initScale}`);
  const geometry: Conv2dOptions = { stride, padding, dilation };
  const { weightInit = defaultWeightInit, biasInit = defaultBiasInit(computeFans(wshape).fanIn) } = opts;
  const rho0 = constantInit(inverseSoftplus(initScale));
  const conv = (x: Tensor, w: Tensor, b?: Tensor): Tensor => conv2d(x, w, b, geometry);
  const signs = (k: Key, shape: number[], dt: FloatDType): Tensor => sub(mul(bernoulli(k, 0.5, shape, { dtype: dt }), 2), 1);
  return {
    estimator,
    init(k: Key): BayesConv2dParams {
      const [kwt, kb] = split(k, 2);
      const p: BayesConv2dParams = { weightMu: weightInit(kwt, wshape, dtype), weightRho: rho0(kwt, wshape, dtype) };
      if (bias) {
        p.biasMu = biasInit(kb, [outChannels], dtype);
        p.biasRho = rho0(kb, [outChannels], dtype);
      }
      return p;
    },
    apply(p: BayesConv2dParams, x: Tensor, o: BayesApplyOptions = {}): Tensor {
      if ((p.biasMu === undefined) !== (p.biasRho === undefined)) throw new ValueError('BayesConv2d: biasMu and biasRho must be given together');
      if (x.shape.length !== 4 || x.shape[1] !== inChannels) throw new ShapeError(`BayesConv2d: input ${fmtShape(x.shape)} must be [N, ${inChannels}, H, W]`);
      if (o.key === undefined) return conv(x, p.weightMu, p.biasMu);
      const est = o.estimator ?? estimator;
      const [kwt, kb, ks1, ks2] = split(o.key, 4);
      const dt = p.weightMu.dtype as FloatDType;
      const sW = posteriorScale(p.weightRho);
      const sB = p.biasRho !== undefined ? posteriorScale(p.biasRho) : undefined;
      if (est === 'reparam') {
        const w = add(p.weightMu, mul(sW, normal(kwt, wshape, { dtype: dt })));
        const b = p.biasMu !== undefined && sB !== undefined ? add(p.biasMu, mul(sB, normal(kb, [outChannels], { dtype: dt }))) : undefined;
        return conv(x, w, b);
      }
      const mean = conv(x, p.weightMu);
      const n = x.shape[0];
      const chan = (t: Tensor): Tensor => reshape(t, [1, outChannels, 1, 1]);
      const bNoise = (y: Tensor): Tensor =>
        p.biasMu !== undefined && sB !== undefined ? add(y, add(chan(p.biasMu), mul(chan(sB), normal(kb, y.shape, { dtype: dt })))) : y;
      if (est === 'local') {
        const v = conv(square(x), square(sW));
        // sqrt(v + tiny): a finite gradient where a window of the input is all zeros.
        return bNoise(add(mean, mul(sqrt(add(v, 1e-30)), normal(kwt, mean.shape, { dtype: dt }))));
      }
      const dW = mul(sW, normal(kwt, wshape, { dtype: dt }));
      const sIn = signs(ks1, [n, inChannels, 1, 1], dt);
      const sOut = signs(ks2, [n, outChannels, 1, 1], dt);
      return bNoise(add(mean, mul(conv(mul(x, sIn), dW), sOut)));
    },
    kl(p: BayesConv2dParams, k?: Key): Tensor {
      const [kwt, kb] = k !== undefined ? split(k, 2) : [undefined, undefined];
      const w = gaussianKL(prior, p.weightMu, p.weightRho, klMode, kwt, 'BayesConv2d');
      return p.biasMu !== undefined && p.biasRho !== undefined ? add(w, gaussianKL(prior, p.biasMu, p.biasRho, klMode, kb, 'BayesConv2d')) : w;
    },
  };
}
