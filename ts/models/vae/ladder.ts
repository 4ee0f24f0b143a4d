/**
 * The Ladder VAE of Sønderby, Raiko, Maaløe, Sønderby & Winther (2016): a hierarchy of L diagonal-
 * Gaussian latent layers whose approximate posterior is computed top-down, sharing the generative
 * path. A deterministic bottom-up pass d_l = MLP_l(d_{l−1}), d_0 = x, gives at each layer a
 * likelihood-like estimate N(μ̂_l, σ̂²_l); the generative model is p(z_L) = N(0, I),
 * p(z_l | z_{l+1}) = N(μ_p, σ²_p), p(x | z₁); the posterior of layer l < L is the precision-weighted
 * combination (Sønderby et al. eq. 17–18)
 *   σ²_q = 1 / (σ̂⁻² + σ_p⁻²),   μ_q = (μ̂ σ̂⁻² + μ_p σ_p⁻²) σ²_q,
 * with μ_p, σ²_p evaluated at the sample z_{l+1} ~ q drawn just above; q(z_L | x) = N(μ̂_L, σ̂²_L).
 * Every log-variance head is clamped (survey §24). The KL of layer l is either the closed-form
 * Gaussian-vs-Gaussian KL given the sample above (lower variance; the default for the ELBO) or the
 * sampled log-ratio log q − log p (needed inside importance weights).
 *
 * The generative path is the decoder of `VAE` (model.ts) with the same layer specification, so a
 * Ladder VAE and a plain VAE with equal `layers` have the same generative model.
 *
 * This file also holds the bound-based loss and the evaluations shared with other models whose
 * `forward` returns `ForwardTerms` (the VampPrior VAE, and `VAE` itself).
 */
import { ShapeError, ValueError, fmtShape } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { add, mul, neg, sigmoid, softplus, sub } from '../../ops/elementwise.js';
import { logsumexp, mean, sum } from '../../ops/reduce.js';
import { activation, type Activation } from '../../nn/activations.js';
import { Linear, MLP, type LinearParams } from '../../nn/linear.js';
import type { MinibatchLoader } from '../../data/loader.js';
import { split, type Key } from '../../random/key.js';
import type { TrainState } from './checkpoint.js';
import { trainLoop, type LoopOptions, type TrainResult } from './loop.js';
import { VAE, type ForwardTerms, type GaussianHeadParams, type StochasticLayerSpec, type VAEModel, type VAEParams } from './model.js';
import { betaAt, checkWeight, weighted, type BetaSchedule, type LossResult, type Weight } from './objectives.js';
import {
  DEFAULT_LOGVAR_RANGE,
  bernoulliLogLik,
  clampLogVar,
  dense,
  diagNormalLogProbAtEps,
  diagNormalLogProbPerDim,
  gaussianLogLik,
  klDiagNormalPerDim,
  klStdNormalPerDim,
  reparameterize,
  stdNormalLogProbPerDim,
} from './terms.js';
import { activeUnitsOf, checkRows, importanceSampled, meanOverChunks } from './evaluate.js';

/** A diagonal Gaussian by its mean and log-variance (same shapes). */
export interface DiagGaussian {
  /** The mean. */
  mu: Tensor;
  /** The log-variance, of the mean's shape. */
  logVar: Tensor;
}

/**
 * The precision-weighted combination of two diagonal Gaussians (Sønderby et al. 2016, eq. 17–18):
 * σ² = 1 / (σ̂⁻² + σ_p⁻²), μ = (μ̂ σ̂⁻² + μ_p σ_p⁻²) σ². Computed stably from the log-variances as
 * log σ² = log σ̂² − softplus(log σ̂² − log σ²_p) and μ = μ_p + sigmoid(log σ²_p − log σ̂²)(μ̂ − μ_p).
 * Inputs broadcast (μ̂ [B, d] against μ_p [k, B, d]).
 * @example precisionWeighted(tensor([1]), tensor([0]), tensor([3]), tensor([0])) // μ = 2, log σ² = −log 2
 */
export function precisionWeighted(muHat: Tensor, logVarHat: Tensor, muP: Tensor, logVarP: Tensor): DiagGaussian {
  const logVar = sub(logVarHat, softplus(sub(logVarHat, logVarP)));
  const mu = add(muP, mul(sigmoid(sub(logVarP, logVarHat)), sub(muHat, muP)));
  return { mu, logVar };
}

/** Configuration of `LadderVAE`. */
export interface LadderVAEConfig {
  /** Data dimension, e.g. 784 for 28×28 images. */
  xDim: number;
  /**
   * Stochastic layers, bottom-up (z₁ first): latent size and the hidden widths of the deterministic
   * bottom-up MLP d_{l−1} → d_l (the generative MLP z_{l+1} → z_l mirrors them, as in `VAE`).
   */
  layers: readonly StochasticLayerSpec[];
  /**
   * Hidden activation; default 'leakyRelu' (slope 0.01), Sønderby et al.'s choice: with tanh the
   * bottom-up variances of the lower layers grow early in training and the posterior collapses
   * towards the prior (two layers, 10,000 MNIST images, 400 steps: test ELBO −178 nats with tanh,
   * −142 with leaky ReLU).
   */
  activation?: Activation;
  /** p(x|z₁): 'bernoulli' (logits) or 'gaussian' (learned variance); default 'bernoulli'. */
  likelihood?: 'bernoulli' | 'gaussian';
  /** Clamp of every log-variance head; default [−10, 10]. */
  logVarRange?: readonly [number, number];
}

/** Parameters of a `LadderVAE`: the bottom-up nets with their (μ̂, log σ̂²) heads, and the generative decoder (as `VAEParams.dec`). */
export interface LadderVAEParams {
  /** The bottom-up deterministic nets and their (μ̂, log σ̂²) heads, z₁ first. */
  up: GaussianHeadParams[];
  /** The generative decoder, as a `VAE`'s. */
  dec: VAEParams['dec'];
}

/** Options of `LadderVAEModel.forward`. */
export interface LadderForwardOptions {
  /** Closed-form KL per layer given the sample above (ELBO only, not for importance weights); default false. */
  analyticKL?: boolean;
}

/** A Ladder VAE as a functional module. */
export interface LadderVAEModel {
  /** The configuration with every default filled in. */
  readonly config: Readonly<Required<LadderVAEConfig>>;
  /** The plain `VAE` whose decoder is this model's generative path (same layers). */
  readonly generative: VAEModel;
  /** Fresh parameters (PyTorch's default Linear initialization). */
  init(k: Key): LadderVAEParams;
  /** The bottom-up estimates N(μ̂_l, σ̂²_l) of every layer, [B, d_l] each, z₁ first. x: [B, xDim]. */
  bottomUp(params: LadderVAEParams, x: Tensor): DiagGaussian[];
  /** p(z_l | z_{l+1}) for 0-based l < L − 1, at z_{l+1} of shape [..., d_{l+1}]. */
  prior(params: LadderVAEParams, l: number, zAbove: Tensor): DiagGaussian;
  /**
   * One top-down pass with noise `eps[l]` of shape `[k, B, d_l]`: z_L, then z_{L−1}, …, z₁ from the
   * precision-weighted posteriors; returns log p(x|z₁) [k, B] and per layer the KL term per
   * coordinate (sampled log q − log p [k, B, d_l]; or closed form: [B, d_L] for the top layer,
   * [k, B, d_l] below it).
   */
  forward(params: LadderVAEParams, x: Tensor, eps: readonly Tensor[], opts?: LadderForwardOptions): ForwardTerms;
  /** Standard-normal noise for `forward`: one [k, B, d_l] float32 tensor per layer. */
  noise(k: Key, samples: number, batch: number): Tensor[];
  /** The posterior means of every layer from a top-down pass that takes z_{l+1} = μ_q,{l+1} (z₁ first). */
  posteriorMeans(params: LadderVAEParams, x: Tensor): Tensor[];
  /** Pixel means of `n` ancestral samples z_L ~ N(0, I), z_l ~ p(z_l | z_{l+1}), x ~ p(x | z₁). */
  sample(params: LadderVAEParams, k: Key, n: number): Tensor;
  /** Pixel means decoded from z₁ = the posterior mean of the top-down mean pass. */
  reconstruct(params: LadderVAEParams, x: Tensor): Tensor;
}

/**
 * Builds a Ladder VAE (Sønderby et al. 2016).
 * @example
 * const lvae = LadderVAE({ xDim: 784, layers: [{ z: 32, hidden: [256, 256] }, { z: 16, hidden: [128] }] });
 * const params = lvae.init(key(0));
 * const t = lvae.forward(params, x, lvae.noise(key(1), 1, x.shape[0]), { analyticKL: true });
 */
export function LadderVAE(config: LadderVAEConfig): LadderVAEModel {
  checkLayers('LadderVAE', config.xDim, config.layers);
  const cfg: Required<LadderVAEConfig> = { activation: 'leakyRelu', likelihood: 'bernoulli', logVarRange: DEFAULT_LOGVAR_RANGE, ...config };
  // The plain VAE validates the rest of the configuration and provides the generative path.
  const generative = VAE(cfg);
  const L = cfg.layers.length;
  const upWidth = (l: number): number => {
    if (l < 0) return cfg.xDim;
    const h = cfg.layers[l].hidden;
    return h.length > 0 ? h[h.length - 1] : upWidth(l - 1);
  };
  const upNets = cfg.layers.map((s, l) => MLP([upWidth(l - 1), ...s.hidden], { activation: cfg.activation, finalActivation: cfg.activation }));
  const upMu = cfg.layers.map((s, l) => Linear(upWidth(l), s.z));
  const upLv = cfg.layers.map((s, l) => Linear(upWidth(l), s.z));
  const actFn = activation(cfg.activation);
  const applyNet = (p: LinearParams[], x: Tensor): Tensor => {
    let h = x;
    for (const layer of p) h = actFn(dense(h, layer.weight, layer.bias));
    return h;
  };
  const genParams = (p: LadderVAEParams): VAEParams => ({ enc: [], dec: p.dec });

  const checkX = (x: Tensor, op: string): void => {
    if (x.shape.length !== 2 || x.shape[1] !== cfg.xDim)
      throw new ShapeError(`LadderVAE.${op}: x must be [batch, ${cfg.xDim}], got ${fmtShape(x.shape)} (images of the wrong size?)`);
    if (x.dtype === 'int32') throw new ShapeError(`LadderVAE.${op}: x must be float, got int32`);
  };

  const bottomUp = (params: LadderVAEParams, x: Tensor): DiagGaussian[] => {
    const out: DiagGaussian[] = [];
    let d = x;
    for (let l = 0; l < L; l++) {
      const p = params.up[l];
      d = applyNet(p.net, d);
      out.push({ mu: dense(d, p.mu.weight, p.mu.bias), logVar: clampLogVar(dense(d, (p.logVar as LinearParams).weight, (p.logVar as LinearParams).bias), cfg.logVarRange) });
    }
    return out;
  };
  const prior = (params: LadderVAEParams, l: number, zAbove: Tensor): DiagGaussian => {
    if (!Number.isInteger(l) || l < 0 || l >= L - 1) throw new ValueError(`LadderVAE.prior: layer must be an integer in [0, ${L - 2}], got ${l}`);
    const p = generative.decodeLayer(genParams(params), l + 1, zAbove);
    return { mu: p.mu, logVar: p.logVar as Tensor };
  };
  const pixelLogLik = (params: LadderVAEParams, z1: Tensor, x: Tensor): Tensor => {
    const out = generative.decodeLayer(genParams(params), 0, z1);
    return out.logVar === undefined ? bernoulliLogLik(out.mu, x) : gaussianLogLik(out.mu, out.logVar, x);
  };
  const posteriorMeans = (params: LadderVAEParams, x: Tensor): Tensor[] => {
    checkX(x, 'posteriorMeans');
    const up = bottomUp(params, x);
    const mus: Tensor[] = new Array<Tensor>(L);
    mus[L - 1] = up[L - 1].mu;
    for (let l = L - 2; l >= 0; l--) {
      const p = prior(params, l, mus[l + 1]);
      mus[l] = precisionWeighted(up[l].mu, up[l].logVar, p.mu, p.logVar).mu;
    }
    return mus;
  };

  return {
    config: cfg,
    generative,
    init(k: Key): LadderVAEParams {
      const [kg, ku] = split(k, 2);
      const ks = split(ku, 3 * L);
      const up = cfg.layers.map((_, l) => ({ net: upNets[l].init(ks[3 * l]), mu: upMu[l].init(ks[3 * l + 1]), logVar: upLv[l].init(ks[3 * l + 2]) }));
      return { up, dec: generative.init(kg).dec };
    },
    bottomUp(params: LadderVAEParams, x: Tensor): DiagGaussian[] {
      checkX(x, 'bottomUp');
      return bottomUp(params, x);
    },
    prior,
    forward(params: LadderVAEParams, x: Tensor, eps: readonly Tensor[], opts: LadderForwardOptions = {}): ForwardTerms {
      checkX(x, 'forward');
      if (eps.length !== L) throw new ValueError(`LadderVAE.forward: expected noise for ${L} layers, got ${eps.length}`);
      const B = x.shape[0];
      const k = eps[0].shape[0];
      eps.forEach((e, l) => {
        if (e.shape.length !== 3 || e.shape[0] !== k || e.shape[1] !== B || e.shape[2] !== cfg.layers[l].z)
          throw new ShapeError(`LadderVAE.forward: eps[${l}] must be [k, ${B}, ${cfg.layers[l].z}], got ${fmtShape(e.shape)}`);
      });
      const analytic = opts.analyticKL ?? false;
      const up = bottomUp(params, x);
      const kl: Tensor[] = new Array<Tensor>(L);
      // Top layer: q(z_L | x) = N(μ̂_L, σ̂²_L) against p(z_L) = N(0, I).
      const top = up[L - 1];
      let z = reparameterize(top.mu, top.logVar, eps[L - 1]);
      kl[L - 1] = analytic ? klStdNormalPerDim(top.mu, top.logVar) : sub(diagNormalLogProbAtEps(eps[L - 1], top.logVar), stdNormalLogProbPerDim(z));
      for (let l = L - 2; l >= 0; l--) {
        const p = prior(params, l, z); // [k, B, d_l]
        const q = precisionWeighted(up[l].mu, up[l].logVar, p.mu, p.logVar);
        const zl = reparameterize(q.mu, q.logVar, eps[l]);
        kl[l] = analytic ? klDiagNormalPerDim(q.mu, q.logVar, p.mu, p.logVar) : sub(diagNormalLogProbAtEps(eps[l], q.logVar), diagNormalLogProbPerDim(zl, p.mu, p.logVar));
        z = zl;
      }
      return { logPx: pixelLogLik(params, z, x), kl, analytic };
    },
    noise: (k, samples, batch) => generative.noise(k, samples, batch),
    posteriorMeans,
    sample: (params, k, n) => generative.sample(genParams(params), k, n),
    reconstruct(params: LadderVAEParams, x: Tensor): Tensor {
      const z1 = posteriorMeans(params, x)[0];
      const out = generative.decodeLayer(genParams(params), 0, z1);
      return out.logVar === undefined ? sigmoid(out.mu) : out.mu;
    },
  };
}

/**
 * Validates xDim and a stochastic-layer list, with errors that name `op`.
 * @example checkLayers('LadderVAE', 784, [{ z: 0, hidden: [] }]) // throws: layers[0].z (the latent size) must be …
 */
export function checkLayers(op: string, xDim: number, layers: readonly StochasticLayerSpec[]): void {
  if (!Number.isInteger(xDim) || xDim < 1) throw new ValueError(`${op}: xDim must be an integer ≥ 1, got ${xDim}`);
  if (!Array.isArray(layers as unknown) || layers.length === 0) throw new ValueError(`${op}: layers must list at least one stochastic layer`);
  layers.forEach((s, i) => {
    if (!Number.isInteger(s.z) || s.z < 1) throw new ValueError(`${op}: layers[${i}].z (the latent size) must be an integer ≥ 1, got ${s.z}`);
    s.hidden.forEach((h, j) => {
      if (!Number.isInteger(h) || h < 1) throw new ValueError(`${op}: layers[${i}].hidden[${j}] must be an integer ≥ 1, got ${h}`);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Losses and evaluation over `ForwardTerms`, shared by the Ladder and VampPrior VAEs.

/** Which bound a Ladder/VampPrior loss optimizes: the ELBO or the IWAE bound L_k (Burda et al. 2016). */
export type BoundObjective = 'elbo' | 'iwae';

/** Options of `lossFromTerms`, `ladderLoss` and `vampLoss`. */
export interface BoundLossOptions {
  /** 'elbo' (default) or 'iwae'. */
  objective?: BoundObjective;
  /** KL weight β (ELBO), or the weight of log p(z) − log q(z) inside the importance weights; default 1. */
  beta?: Weight;
}

/** Σ_l Σ_d of every layer's per-coordinate KL term: [k, B] (or [B] when every term is [B, d]). */
function klSum(t: ForwardTerms): Tensor {
  let acc: Tensor | null = null;
  for (const k of t.kl) {
    const s = sum(k, -1);
    acc = acc === null ? s : add(acc, s);
  }
  return acc as Tensor;
}

/**
 * The loss (to minimize, mean per example) and the bound (β = 1) from one forward pass's terms:
 * ELBO: loss = β·KL − E[log p(x|z)], averaged over the k samples and the batch;
 * IWAE (Burda et al. 2016): loss = −(1/B) Σ_b [logsumexp_i (log p(x|z_i) − β·KL_i) − log k], which
 * needs sampled (not closed-form) KL terms. `name` goes into error messages.
 * @example const { loss, bound } = lossFromTerms(model.forward(p, x, eps), { objective: 'iwae' }, 'myLoss')
 */
export function lossFromTerms(t: ForwardTerms, opts: BoundLossOptions = {}, name = 'lossFromTerms'): LossResult {
  const { objective = 'elbo', beta = 1 } = opts;
  checkWeight(name, 'beta', beta);
  const kl = klSum(t);
  if (objective === 'elbo') {
    const rec = mean(t.logPx);
    const klMean = mean(kl);
    return { loss: sub(weighted(klMean, beta), rec), bound: sub(rec, klMean) };
  }
  if (objective !== 'iwae') throw new ValueError(`${name}: objective must be 'elbo' or 'iwae', got '${String(objective)}'`);
  if (t.analytic) throw new ValueError(`${name}: the IWAE bound needs sampled KL terms, not closed-form ones`);
  const k = t.logPx.shape[0];
  const logW1 = sub(t.logPx, kl);
  const bound = sub(mean(logsumexp(logW1, 0)), Math.log(k));
  if (beta === 1) return { loss: neg(bound), bound };
  return { loss: neg(sub(mean(logsumexp(sub(t.logPx, weighted(kl, beta)), 0)), Math.log(k))), bound };
}

/**
 * The Ladder VAE's loss for a batch x [B, D] with noise `eps` from `model.noise(key, k, B)`:
 * the ELBO with closed-form Gaussian KL per layer (default; `analyticKL: false` for sampled
 * log-ratios) and KL weight β (linear warm-up as in Sønderby et al. 2016: pass `klWarmup(n)(step)`),
 * or the IWAE bound L_k (sampled KL terms).
 * @example
 * const { loss, bound } = ladderLoss(lvae, params, x, lvae.noise(key(1), 1, x.shape[0]), { beta: 0.3 });
 */
export function ladderLoss(model: LadderVAEModel, params: LadderVAEParams, x: Tensor, eps: readonly Tensor[], opts: BoundLossOptions & { analyticKL?: boolean } = {}): LossResult {
  const objective = opts.objective ?? 'elbo';
  const analyticKL = objective === 'elbo' && (opts.analyticKL ?? true);
  return lossFromTerms(model.forward(params, x, eps, { analyticKL }), opts, 'ladderLoss');
}

/** Options of `trainLadderVAE` and `trainVampVAE`. */
export interface BoundTrainOptions extends LoopOptions {
  /** 'elbo' (default) or 'iwae'. */
  objective?: BoundObjective;
  /** Samples per example; default 1. */
  k?: number;
  /** KL weight β, constant or a schedule of the step (Sønderby et al. 2016: `klWarmup(steps)`); default 1. */
  beta?: BetaSchedule;
}

/**
 * Trains a Ladder VAE with `trainLoop` until `opts.steps` steps, on batches of `loader`.
 * @example
 * const opt = adam(1e-3);
 * const p = lvae.init(key(0));
 * const r = await trainLadderVAE(lvae, { params: p, optState: opt.init(p), step: 0 }, loader,
 *   { steps: 2000, key: key(1), optimizer: opt, beta: klWarmup(1000) });
 */
export async function trainLadderVAE(
  model: LadderVAEModel,
  state: TrainState<LadderVAEParams>,
  loader: MinibatchLoader,
  opts: BoundTrainOptions & { analyticKL?: boolean },
): Promise<TrainResult<LadderVAEParams>> {
  const { analyticKL = true } = opts;
  return trainWithBound('trainLadderVAE', model, { ladder: model.config }, state, loader, opts, (p, x, eps, o) => ladderLoss(model, p, x, eps, { ...o, analyticKL }));
}

/**
 * @internal The body the bound-trained VAEs share (ladder, VampPrior, flow): `trainLoop` with the
 * objective's loss on `samples` noise draws per example and β from its schedule, named `name`.
 */
export async function trainWithBound<P>(
  name: string,
  model: { readonly config: { readonly xDim: number }; noise(k: Key, samples: number, batch: number): Tensor[] },
  config: Record<string, unknown>,
  state: TrainState<P>,
  loader: MinibatchLoader,
  opts: BoundTrainOptions,
  loss: (p: P, x: Tensor, eps: readonly Tensor[], o: BoundLossOptions) => LossResult,
): Promise<TrainResult<P>> {
  const { objective = 'elbo', k = 1, beta = 1 } = opts;
  if (!Number.isInteger(k) || k < 1) throw new ValueError(`${name}: k (samples per example) must be a positive integer, got ${k}`);
  return trainLoop(state, loader, {
    ...opts,
    name,
    xDim: model.config.xDim,
    config,
    hyper: (s) => ({ beta: betaAt(beta, s, name) }),
    loss: (p, batch, key: Key, _s, h) => loss(p, batch.x, model.noise(key, k, batch.size), { objective, beta: h.beta }),
  });
}

/** A model these evaluations accept: `LadderVAE`, `VampPriorVAE`, or `VAE` itself. */
export interface BoundModel<P> {
  /** The model's configuration; evaluations read the data dimension. */
  readonly config: {
    /** Data dimension. */
    readonly xDim: number;
  };
  /** One pass with noise `eps` (one [k, B, d_l] tensor per layer): log p(x|z) and the KL terms. */
  forward(params: P, x: Tensor, eps: readonly Tensor[], opts?: { analyticKL?: boolean }): ForwardTerms;
  /** Standard-normal noise for `forward`. */
  noise(k: Key, samples: number, batch: number): Tensor[];
}

/** Options of `testElboOf` and `logLikelihoodOf`. */
export interface BoundEvalOptions {
  /** Randomness of the samples. */
  key: Key;
  /** Examples per chunk; default 500 (ELBO) or 20 (log p(x)). */
  batchSize?: number;
}


/**
 * The mean test ELBO per example over the rows of x [n, D], one sample per example, with the
 * closed-form KL where the model has one (the Ladder VAE: per layer given the sample above).
 * @example testElboOf(lvae, params, testX, { key: key(7) }) // e.g. −95.1
 */
export function testElboOf<P>(model: BoundModel<P>, params: P, x: Tensor, opts: BoundEvalOptions): number {
  checkRows('testElboOf', x, model.config.xDim);
  return meanOverChunks(x, opts.batchSize ?? 500, opts.key, (xb, k, _s, m) => {
    const t = model.forward(params, xb, model.noise(k, 1, m), { analyticKL: true });
    return sum(t.logPx).item() - sum(klSum(t)).item();
  });
}

/**
 * Importance-sampled log-likelihood (Burda et al. 2016): log p(x) ≈ log (1/k) Σ_i p(x, z_i) / q(z_i | x)
 * with z_i ~ q(z | x), i.e. the IWAE bound L_k, which rises towards log p(x) as k grows. Samples go
 * in chunks of `samplesPerChunk` (default 250) combined by a running log-sum-exp. Returns the mean
 * over the rows of x and the per-example estimates.
 * @example logLikelihoodOf(vamp, params, testX, { key: key(9), k: 500 }).mean // e.g. −98.7
 */
export function logLikelihoodOf<P>(
  model: BoundModel<P>,
  params: P,
  x: Tensor,
  opts: BoundEvalOptions & { k?: number; samplesPerChunk?: number },
): {
  /** The mean estimate of log p(x) over the rows (nats per example). */
  mean: number;
  /** The estimate for each row, [N]. */
  perExample: Float64Array;
} {
  checkRows('logLikelihoodOf', x, model.config.xDim);
  return importanceSampled(x, { key: opts.key, k: opts.k ?? 5000, batchSize: opts.batchSize ?? 20, samplesPerChunk: opts.samplesPerChunk ?? 250, name: 'logLikelihoodOf' }, (xb, kk, samples) => {
    const t = model.forward(params, xb, model.noise(kk, samples, xb.shape[0]));
    return sub(t.logPx, klSum(t));
  });
}

/**
 * Active units per layer of a Ladder VAE (Burda et al. 2016, §5.2; Sønderby et al. 2016, Fig. 4):
 * coordinate u of layer l is active when Cov_x(E_q[u]) > threshold (default 0.01), with the
 * posterior means of the top-down mean pass (`posteriorMeans`). Returns counts and variances, z₁ first.
 * @example ladderActiveUnits(lvae, params, testX).counts // e.g. [28, 7]
 */
export function ladderActiveUnits(model: LadderVAEModel, params: LadderVAEParams, x: Tensor, opts: { threshold?: number; batchSize?: number } = {}): {
  /** Active units per stochastic layer. */
  counts: number[];
  /** The variance of each unit's posterior mean over the rows, one array per layer. */
  variances: Float64Array[];
} {
  checkRows('ladderActiveUnits', x, model.config.xDim);
  return activeUnitsOf(x, model.config.layers.map((s) => s.z), opts, (xb) => model.posteriorMeans(params, xb).map((t) => t.dataSync()));
}
