/**
 * The VampPrior VAE of Tomczak & Welling (2018): a one-stochastic-layer VAE whose prior is the
 * mixture of the variational posteriors at K learned pseudo-inputs u_1..u_K,
 *   p_λ(z) = (1/K) Σ_k q_φ(z | u_k),
 * so log p(z) = logsumexp_k log q(z | u_k) − log K. The KL term has no closed form: it enters the
 * ELBO as the sampled log-ratio log q(z|x) − log p(z) at z ~ q(z|x). Pseudo-inputs live in [0, 1]:
 * u = hardtanh₀¹(w) of free parameters w (the paper's choice, w initialized from N(0.05, 0.01²))
 * or u = sigmoid(w). The encoder and decoder are those of a one-layer `VAE` (model.ts).
 */
import { ShapeError, ValueError, fmtShape } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { add, cast, clamp, exp, log, mul, neg, sigmoid, square, sub } from '../../ops/elementwise.js';
import { matmul } from '../../ops/linalg.js';
import { logsumexp, sum } from '../../ops/reduce.js';
import { gather, reshape } from '../../ops/shape.js';
import type { MinibatchLoader } from '../../data/loader.js';
import type { Activation } from '../../nn/activations.js';
import { split, type Key } from '../../random/key.js';
import { categorical, normal, uniform } from '../../random/samplers.js';
import { tensor } from '../../ops/creation.js';
import type { TrainState } from './checkpoint.js';
import { checkLayers, lossFromTerms, trainWithBound, type BoundLossOptions, type BoundTrainOptions } from './ladder.js';
import type { TrainResult } from './loop.js';
import { VAE, type ForwardTerms, type VAEModel, type VAEParams } from './model.js';
import type { LossResult } from './objectives.js';
import { DEFAULT_LOGVAR_RANGE, LOG_2PI, bernoulliLogLik, diagNormalLogProbAtEps, gaussianLogLik, reparameterize } from './terms.js';

/** Configuration of `VampPriorVAE`. */
export interface VampPriorConfig {
  /** Data dimension, e.g. 784 for 28×28 images. */
  xDim: number;
  /** Latent size (≥ 1). */
  z: number;
  /** Hidden widths of the encoder MLP (the decoder mirrors them). */
  hidden: readonly number[];
  /** Number of pseudo-inputs K (≥ 1); default 500 (Tomczak & Welling's MNIST setting). */
  pseudoInputs?: number;
  /** u = hardtanh₀¹(w) ('hardtanh', the paper's) or sigmoid(w); default 'hardtanh'. */
  pseudoInputMap?: 'hardtanh' | 'sigmoid';
  /** Free parameters w ~ N(mean, std²) at `init`; default { mean: 0.05, std: 0.01 } (the paper's MNIST values). */
  pseudoInit?: {
    /** Mean of the initial pseudo-input parameters. */
    mean: number;
    /** Standard deviation of the initial pseudo-input parameters. */
    std: number;
  };
  /**
   * Hidden activation; default 'leakyRelu' (slope 0.01). With tanh the encoder maps the
   * pseudo-inputs and the data alike early in training and the KL collapses (one layer z = 40,
   * 200 hidden, K = 100, 10,000 MNIST images, 400 steps: test ELBO −189 nats with tanh, −138 with
   * leaky ReLU).
   */
  activation?: Activation;
  /** p(x|z): 'bernoulli' or 'gaussian'; default 'bernoulli'. */
  likelihood?: 'bernoulli' | 'gaussian';
  /** Clamp of every log-variance head; default [−10, 10]. */
  logVarRange?: readonly [number, number];
}

/** Parameters of a `VampPriorVAE`: the VAE's encoder and decoder, and the free pseudo-input parameters w [K, xDim]. */
export interface VampPriorParams {
  /** The encoder and decoder. */
  vae: VAEParams;
  /** The free pseudo-input parameters w [K, xDim] (the pseudo-inputs are u = map(w), `pseudoInputMap` being hardtanh or sigmoid). */
  pseudo: Tensor;
}

/** A VampPrior VAE as a functional module. */
export interface VampPriorModel {
  /** The configuration with every default filled in. */
  readonly config: Readonly<Required<VampPriorConfig>>;
  /** The one-layer `VAE` whose encoder and decoder this model uses. */
  readonly vae: VAEModel;
  /** Fresh parameters: the VAE's, and w ~ N(pseudoInit.mean, pseudoInit.std²). */
  init(k: Key): VampPriorParams;
  /**
   * `params` with the pseudo-inputs set to K distinct random rows of `images` [n, xDim] (n ≥ K),
   * shrunk to 0.05 + 0.9·x so that the hardtanh (or logit) of w stays differentiable.
   */
  initPseudoFromData(params: VampPriorParams, k: Key, images: Tensor): VampPriorParams;
  /** The pseudo-inputs u = map(w), [K, xDim] in [0, 1]. */
  pseudoInputs(params: VampPriorParams): Tensor;
  /** log p(z) = logsumexp_k log q(z | u_k) − log K for z [..., d] → [...]. */
  logPrior(params: VampPriorParams, z: Tensor): Tensor;
  /**
   * One pass with noise eps[0] [k, B, d]: log p(x|z) [k, B] and the sampled KL term
   * log q(z|x) − log p(z) as kl[0] [k, B, 1] (never closed form; `analyticKL` is ignored).
   */
  forward(params: VampPriorParams, x: Tensor, eps: readonly Tensor[], opts?: { analyticKL?: boolean }): ForwardTerms;
  /** Standard-normal noise for `forward`: [[k, B, d]] float32. */
  noise(k: Key, samples: number, batch: number): Tensor[];
  /** Pixel means of `n` draws from the prior: k uniform in 1..K, z ~ q(z | u_k), decoded. */
  sample(params: VampPriorParams, k: Key, n: number): Tensor;
  /** Pixel means decoded from the encoder's mean: x ↦ E[x | z = μ(x)]. */
  reconstruct(params: VampPriorParams, x: Tensor): Tensor;
}

/**
 * Builds a VampPrior VAE (Tomczak & Welling 2018).
 * @example
 * const vamp = VampPriorVAE({ xDim: 784, z: 40, hidden: [300, 300], pseudoInputs: 500 });
 * const params = vamp.init(key(0));
 * const t = vamp.forward(params, x, vamp.noise(key(1), 1, x.shape[0])); // t.kl[0]: [1, B, 1]
 */
export function VampPriorVAE(config: VampPriorConfig): VampPriorModel {
  const cfg: Required<VampPriorConfig> = {
    pseudoInputs: 500,
    pseudoInputMap: 'hardtanh',
    pseudoInit: { mean: 0.05, std: 0.01 },
    activation: 'leakyRelu',
    likelihood: 'bernoulli',
    logVarRange: DEFAULT_LOGVAR_RANGE,
    ...config,
  };
  checkLayers('VampPriorVAE', cfg.xDim, [{ z: cfg.z, hidden: cfg.hidden }]);
  const K = cfg.pseudoInputs;
  if (!Number.isInteger(K) || K < 1) throw new ValueError(`VampPriorVAE: pseudoInputs (K) must be an integer ≥ 1, got ${K}`);
  if (cfg.pseudoInputMap !== 'hardtanh' && cfg.pseudoInputMap !== 'sigmoid') throw new ValueError(`VampPriorVAE: pseudoInputMap must be 'hardtanh' or 'sigmoid', got '${String(cfg.pseudoInputMap)}'`);
  const { mean: initMean, std: initStd } = cfg.pseudoInit;
  if (!Number.isFinite(initMean) || !(initStd >= 0) || !Number.isFinite(initStd)) throw new ValueError(`VampPriorVAE: pseudoInit must have a finite mean and std ≥ 0, got mean ${initMean}, std ${initStd}`);
  const vae = VAE({ xDim: cfg.xDim, layers: [{ z: cfg.z, hidden: cfg.hidden }], activation: cfg.activation, likelihood: cfg.likelihood, logVarRange: cfg.logVarRange });
  const d = cfg.z;
  const D = cfg.xDim;

  const pseudoInputs = (params: VampPriorParams): Tensor => (cfg.pseudoInputMap === 'hardtanh' ? clamp(params.pseudo, 0, 1) : sigmoid(params.pseudo));
  const checkParams = (params: VampPriorParams, op: string): void => {
    const s = params.pseudo.shape;
    if (s.length !== 2 || s[0] !== K || s[1] !== D) throw new ShapeError(`VampPriorVAE.${op}: params.pseudo must be [${K}, ${D}], got ${fmtShape(s)}`);
  };
  const checkX = (x: Tensor, op: string): void => {
    if (x.shape.length !== 2 || x.shape[1] !== D) throw new ShapeError(`VampPriorVAE.${op}: x must be [batch, ${D}], got ${fmtShape(x.shape)} (images of the wrong size?)`);
    if (x.dtype === 'int32') throw new ShapeError(`VampPriorVAE.${op}: x must be float, got int32`);
  };

  const logPrior = (params: VampPriorParams, z: Tensor): Tensor => {
    checkParams(params, 'logPrior');
    if (z.shape.length === 0 || z.shape[z.shape.length - 1] !== d) throw new ShapeError(`VampPriorVAE.logPrior: z must end in the latent size ${d}, got ${fmtShape(z.shape)}`);
    const q = vae.encodeLayer(params.vae, 0, pseudoInputs(params)); // μ_k, log σ²_k: [K, d]
    const prec = exp(neg(q.logVar));
    const flat = reshape(z, [-1, d]); // [N, d]
    // Σ_j (z_j − μ_kj)² / σ²_kj = z² · P_k − 2 z · (μ_k P_k) + Σ_j μ²_kj P_kj: two matmuls instead of an [N, K, d] tensor.
    const quad = add(sub(matmul(square(flat), prec, { transB: true }), mul(matmul(flat, mul(q.mu, prec), { transB: true }), 2)), sum(mul(square(q.mu), prec), -1));
    const logQ = mul(add(add(quad, sum(q.logVar, -1)), d * LOG_2PI), -0.5); // [N, K]
    return reshape(sub(logsumexp(logQ, -1), Math.log(K)), z.shape.slice(0, -1));
  };

  return {
    config: cfg,
    vae,
    init(k: Key): VampPriorParams {
      const [kv, kp] = split(k, 2);
      return { vae: vae.init(kv), pseudo: normal(kp, [K, D], { loc: initMean, scale: initStd, dtype: 'float32' }) };
    },
    initPseudoFromData(params: VampPriorParams, k: Key, images: Tensor): VampPriorParams {
      checkX(images, 'initPseudoFromData');
      const n = images.shape[0];
      if (n < K) throw new ValueError(`VampPriorVAE.initPseudoFromData: need at least K = ${K} images, got ${n}`);
      // K distinct rows: the first K of the permutation that sorts i.i.d. uniform keys.
      const u = uniform(k, [n], { dtype: 'float64' }).dataSync();
      const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => u[a] - u[b]);
      const rows = gather(images, tensor(Int32Array.from(order.slice(0, K)), [K], 'int32'), 0);
      const shrunk = add(mul(rows, 0.9), 0.05);
      const pseudo = cfg.pseudoInputMap === 'hardtanh' ? shrunk : sub(log(shrunk), log(sub(1, shrunk))); // logit for the sigmoid
      return { vae: params.vae, pseudo: pseudo.dtype === params.pseudo.dtype ? pseudo : cast(pseudo, params.pseudo.dtype) };
    },
    pseudoInputs,
    logPrior,
    forward(params: VampPriorParams, x: Tensor, eps: readonly Tensor[]): ForwardTerms {
      checkX(x, 'forward');
      checkParams(params, 'forward');
      const B = x.shape[0];
      if (eps.length !== 1) throw new ValueError(`VampPriorVAE.forward: expected noise for 1 layer, got ${eps.length}`);
      const e = eps[0];
      if (e.shape.length !== 3 || e.shape[1] !== B || e.shape[2] !== d) throw new ShapeError(`VampPriorVAE.forward: eps[0] must be [k, ${B}, ${d}], got ${fmtShape(e.shape)}`);
      const q = vae.encodeLayer(params.vae, 0, x);
      const z = reparameterize(q.mu, q.logVar, e); // [k, B, d]
      const logQ = sum(diagNormalLogProbAtEps(e, q.logVar), -1); // [k, B]
      const kl = reshape(sub(logQ, logPrior(params, z)), [e.shape[0], B, 1]);
      const out = vae.decodeLayer(params.vae, 0, z);
      const logPx = out.logVar === undefined ? bernoulliLogLik(out.mu, x) : gaussianLogLik(out.mu, out.logVar, x);
      return { logPx, kl: [kl], analytic: false };
    },
    noise: (k, samples, batch) => vae.noise(k, samples, batch),
    sample(params: VampPriorParams, k: Key, n: number): Tensor {
      checkParams(params, 'sample');
      if (!Number.isInteger(n) || n < 1) throw new ValueError(`VampPriorVAE.sample: n must be an integer ≥ 1, got ${n}`);
      const [kc, kz] = split(k, 2);
      const idx = categorical(kc, tensor(new Float32Array(K), [K], 'float32'), [n]);
      const q = vae.encodeLayer(params.vae, 0, gather(pseudoInputs(params), idx, 0));
      const z = reparameterize(q.mu, q.logVar, normal(kz, q.mu.shape, { dtype: q.mu.dtype === 'float64' ? 'float64' : 'float32' }));
      const out = vae.decodeLayer(params.vae, 0, z);
      return out.logVar === undefined ? sigmoid(out.mu) : out.mu;
    },
    reconstruct: (params, x) => vae.reconstruct(params.vae, x),
  };
}

/**
 * The VampPrior VAE's loss for a batch x [B, D] with noise from `model.noise(key, k, B)`: the ELBO
 * E_q[log p(x|z)] − β·E_q[log q(z|x) − log p(z)] (sampled KL; β warm-up as in Tomczak & Welling
 * 2018) or the IWAE bound L_k.
 * @example const { loss } = vampLoss(vamp, params, x, vamp.noise(key(1), 1, x.shape[0]), { beta: 0.5 });
 */
export function vampLoss(model: VampPriorModel, params: VampPriorParams, x: Tensor, eps: readonly Tensor[], opts: BoundLossOptions = {}): LossResult {
  return lossFromTerms(model.forward(params, x, eps), opts, 'vampLoss');
}

/**
 * Trains a VampPrior VAE with `trainLoop` until `opts.steps` steps, on batches of `loader`.
 * @example
 * const opt = adam(1e-3);
 * const p = vamp.init(key(0));
 * const r = await trainVampVAE(vamp, { params: p, optState: opt.init(p), step: 0 }, loader,
 *   { steps: 2000, key: key(1), optimizer: opt, beta: klWarmup(1000) });
 */
export async function trainVampVAE(model: VampPriorModel, state: TrainState<VampPriorParams>, loader: MinibatchLoader, opts: BoundTrainOptions): Promise<TrainResult<VampPriorParams>> {
  return trainWithBound('trainVampVAE', model, { vampprior: model.config }, state, loader, opts, (p, x, eps, o) => vampLoss(model, p, x, eps, o));
}
