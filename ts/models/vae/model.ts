/**
 * The VAE of Kingma & Welling (2014) with L ≥ 1 stochastic layers as in Burda, Grosse &
 * Salakhutdinov (2016): inference q(z₁|x) q(z₂|z₁) … q(z_L|z_{L−1}), generation
 * p(z_L) p(z_{L−1}|z_L) … p(x|z₁), every conditional a diagonal Gaussian whose mean and
 * log-variance heads sit on a tanh MLP, p(z_L) = N(0, I), and p(x|z₁) Bernoulli with logits
 * (binary pixels) or Gaussian with a learned per-pixel variance (grey levels).
 *
 * Burda et al.'s MNIST architectures: one layer `{ xDim: 784, layers: [{ z: 50, hidden: [200, 200] }] }`
 * (784-200-200-50, decoder mirrored); two layers `layers: [{ z: 100, hidden: [100, 100] }, { z: 50, hidden: [50, 50] }]`.
 */
import { stopGradient } from '../../core/autodiff.js';
import { ShapeError, ValueError, fmtShape } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { mapLeaves } from '../../core/tree.js';
import { sigmoid, sub } from '../../ops/elementwise.js';
import { activation, type Activation } from '../../nn/activations.js';
import { Linear, MLP, type LinearParams } from '../../nn/linear.js';
import { split, type Key } from '../../random/key.js';
import { normal } from '../../random/samplers.js';
import { bernoulliLogLik, checkInt, clampLogVar, DEFAULT_LOGVAR_RANGE, dense, diagNormalLogProbAtEps, diagNormalLogProbPerDim, gaussianLogLik, gradScale, klStdNormalPerDim, reparameterize, stdNormalLogProbPerDim, type ScaleHolder } from './terms.js';

/** One stochastic layer: its latent size and the hidden widths of the MLP below it. */
export interface StochasticLayerSpec {
  /** Latent dimension (≥ 1). */
  z: number;
  /** Hidden widths of the deterministic MLP between the layer below and this one (decoder mirrored). */
  hidden: readonly number[];
}

/** Configuration of `VAE`. */
export interface VAEConfig {
  /** Data dimension, e.g. 784 for 28×28 images. */
  xDim: number;
  /** Stochastic layers, bottom-up (z₁ first). */
  layers: readonly StochasticLayerSpec[];
  /** Hidden activation; default 'tanh' (Burda et al.). */
  activation?: Activation;
  /** p(x|z₁): 'bernoulli' (logits; binary pixels) or 'gaussian' (learned variance); default 'bernoulli'. */
  likelihood?: 'bernoulli' | 'gaussian';
  /** Clamp of every log-variance head; default [−10, 10]. */
  logVarRange?: readonly [number, number];
}

/** Parameters of a diagonal-Gaussian (or Bernoulli-logits, without `logVar`) conditional. */
export interface GaussianHeadParams {
  /** The hidden MLP's layers (tanh or the configured activation) feeding both heads. */
  net: LinearParams[];
  /** The mean (or logits) head: a Linear from the last hidden width to the output size. */
  mu: LinearParams;
  /** The log-variance head; absent for a Bernoulli output. */
  logVar?: LinearParams;
}

/** Parameters of a `VAE`: encoder layers q(z_l|·) and decoder layers p(z_{l−1}|z_l), p(x|z₁) first. */
export interface VAEParams {
  /** Encoder conditionals q(z_l | ·), one per stochastic layer, bottom-up. */
  enc: GaussianHeadParams[];
  /** Decoder conditionals p(z_{l−1} | z_l), p(x | z₁) first. */
  dec: GaussianHeadParams[];
}

/** A conditional's output: the mean (or logits) and the clamped log-variance (absent for Bernoulli). */
export interface HeadOutput {
  /** The mean (or Bernoulli logits), [..., out]. */
  mu: Tensor;
  /** The log-variance clamped to `logVarRange`, [..., out]; absent for Bernoulli. */
  logVar?: Tensor;
}

/** Options of `VAEModel.forward`. */
export interface ForwardOptions {
  /** Closed-form KL for the top layer (valid for the ELBO, not inside importance weights); default false. */
  analyticKL?: boolean;
  /**
   * DReG mode (Tucker et al. 2019): the log q terms use stopped encoder parameters, and every sample
   * passes through `gradScale(·, dreg)` where the log-weights read it.
   */
  dreg?: ScaleHolder;
}

/**
 * The per-sample terms of one pass over a batch of B with k samples each: log p(x|z₁) [k, B] and,
 * per stochastic layer, its KL contribution per coordinate — log q(z_l|·) − log p(z_l|·) at the
 * samples, [k, B, d_l], or the closed-form KL [B, d] for the top layer under `analyticKL` with L = 1.
 * The log importance weight is log w = logPx − Σ_l Σ_d kl_l (when no KL is analytic).
 */
export interface ForwardTerms {
  /** log p(x | z₁) per sample, [k, B]. */
  logPx: Tensor;
  /** Per stochastic layer, log q − log p per coordinate, [k, B, d_l] (or the closed form [B, d]). */
  kl: Tensor[];
  /** Whether kl[L−1] is the closed form (then it is not a sampled log-ratio). */
  analytic: boolean;
}

/** A VAE as a functional module with its model-specific operations. */
export interface VAEModel {
  /** The configuration with every default filled in. */
  readonly config: Readonly<Required<VAEConfig>>;
  /** Fresh parameters (PyTorch's default Linear initialization). */
  init(k: Key): VAEParams;
  /** q(z_l | input) for layer l (0-based): input is x for l = 0, else z_{l}. */
  encodeLayer(params: VAEParams, l: number, input: Tensor): Required<HeadOutput>;
  /** p(· | z_{l+1}) of decoder layer l: l = 0 gives x's logits (or mean and log-variance). */
  decodeLayer(params: VAEParams, l: number, z: Tensor): HeadOutput;
  /**
   * One pass with noise `eps[l]` [k, B, d_l] per layer: samples z_l = μ_l + σ_l ε_l bottom-up
   * and returns the per-sample terms (see `ForwardTerms`). x: [B, xDim].
   */
  forward(params: VAEParams, x: Tensor, eps: readonly Tensor[], opts?: ForwardOptions): ForwardTerms;
  /** Standard-normal noise for `forward`: one [k, B, d_l] tensor per layer. */
  noise(k: Key, samples: number, batch: number): Tensor[];
  /** Pixel means E[x|z₁] (probabilities for Bernoulli) of `n` ancestral samples from the prior. */
  sample(params: VAEParams, k: Key, n: number): Tensor;
  /** Pixel means decoded from the encoder's posterior means, layer by layer: x ↦ E[x | z₁ = μ₁(x)]. */
  reconstruct(params: VAEParams, x: Tensor): Tensor;
}

/**
 * Builds a VAE (one or more stochastic layers; Bernoulli or Gaussian pixels).
 * @example
 * const vae = VAE({ xDim: 784, layers: [{ z: 50, hidden: [200, 200] }] });
 * const params = vae.init(key(0));
 * const t = vae.forward(params, x, vae.noise(key(1), 1, x.shape[0])); // t.logPx: [1, B]
 */
export function VAE(config: VAEConfig): VAEModel {
  const cfg: Required<VAEConfig> = {
    activation: 'tanh',
    likelihood: 'bernoulli',
    logVarRange: DEFAULT_LOGVAR_RANGE,
    ...config,
  };
  checkInt('VAE', 'xDim', cfg.xDim, 1);
  const specs: readonly StochasticLayerSpec[] = cfg.layers;
  if (!Array.isArray(specs as unknown) || specs.length === 0) throw new ValueError('VAE: layers must list at least one stochastic layer');
  specs.forEach((s, i) => {
    checkInt('VAE', `layers[${i}].z (the latent size)`, s.z, 1);
    s.hidden.forEach((h, j) => checkInt('VAE', `layers[${i}].hidden[${j}]`, h, 1));
  });
  if (cfg.likelihood !== 'bernoulli' && cfg.likelihood !== 'gaussian') throw new ValueError(`VAE: likelihood must be 'bernoulli' or 'gaussian', got '${String(cfg.likelihood)}'`);
  const [lo, hi] = cfg.logVarRange;
  if (!(lo < hi)) throw new ValueError(`VAE: logVarRange must be [lo, hi] with lo < hi, got [${lo}, ${hi}]`);
  const L = cfg.layers.length;
  const act = cfg.activation;
  const sizeBelow = (l: number): number => (l === 0 ? cfg.xDim : cfg.layers[l - 1].z);

  // Encoder layer l: input (x or z_l) → hidden → (μ, log σ²) of z_{l+1}.
  const encNets = cfg.layers.map((s, l) => MLP([sizeBelow(l), ...s.hidden], { activation: act, finalActivation: act }));
  const encOut = (l: number): number => (cfg.layers[l].hidden.length > 0 ? cfg.layers[l].hidden[cfg.layers[l].hidden.length - 1] : sizeBelow(l));
  const encMu = cfg.layers.map((s, l) => Linear(encOut(l), s.z));
  const encLv = cfg.layers.map((s, l) => Linear(encOut(l), s.z));
  // Decoder layer l: z_{l+1} → mirrored hidden → parameters of the layer below (x for l = 0).
  const decHidden = cfg.layers.map((s) => [...s.hidden].reverse());
  const decNets = cfg.layers.map((s, l) => MLP([s.z, ...decHidden[l]], { activation: act, finalActivation: act }));
  const decOut = (l: number): number => (decHidden[l].length > 0 ? decHidden[l][decHidden[l].length - 1] : cfg.layers[l].z);
  const decMu = cfg.layers.map((_, l) => Linear(decOut(l), sizeBelow(l)));
  const hasDecLv = (l: number): boolean => l > 0 || cfg.likelihood === 'gaussian';
  const decLv = cfg.layers.map((_, l) => Linear(decOut(l), sizeBelow(l)));

  const actFn = activation(act);
  // The MLPs and heads run through `dense` (the data's cotangent is never computed).
  const applyNet = (p: LinearParams[], x: Tensor): Tensor => {
    let h = x;
    for (const layer of p) h = actFn(dense(h, layer.weight, layer.bias));
    return h;
  };
  const head = (p: LinearParams, h: Tensor): Tensor => dense(h, p.weight, p.bias);

  const encodeLayer = (params: VAEParams, l: number, input: Tensor): Required<HeadOutput> => {
    const p = params.enc[l];
    const h = applyNet(p.net, input);
    return { mu: head(p.mu, h), logVar: clampLogVar(head(p.logVar as LinearParams, h), cfg.logVarRange) };
  };
  const decodeLayer = (params: VAEParams, l: number, z: Tensor): HeadOutput => {
    const p = params.dec[l];
    const h = applyNet(p.net, z);
    const mu = head(p.mu, h);
    return hasDecLv(l) ? { mu, logVar: clampLogVar(head(p.logVar as LinearParams, h), cfg.logVarRange) } : { mu };
  };

  const checkX = (x: Tensor, op: string): void => {
    if (x.shape.length !== 2 || x.shape[1] !== cfg.xDim)
      throw new ShapeError(`VAE.${op}: x must be [batch, ${cfg.xDim}], got ${fmtShape(x.shape)} (images of the wrong size?)`);
    if (x.dtype === 'int32') throw new ShapeError(`VAE.${op}: x must be float, got int32`);
  };

  const pixelLogLik = (params: VAEParams, z1: Tensor, x: Tensor): Tensor => {
    const out = decodeLayer(params, 0, z1);
    return out.logVar === undefined ? bernoulliLogLik(out.mu, x) : gaussianLogLik(out.mu, out.logVar, x);
  };

  return {
    config: cfg,
    init(k: Key): VAEParams {
      const ks = split(k, 6 * L);
      let i = 0;
      const enc = cfg.layers.map((_, l) => ({ net: encNets[l].init(ks[i++]), mu: encMu[l].init(ks[i++]), logVar: encLv[l].init(ks[i++]) }));
      const dec = cfg.layers.map((_, l) => {
        const net = decNets[l].init(ks[i++]);
        const mu = decMu[l].init(ks[i++]);
        const lv = decLv[l].init(ks[i++]);
        return hasDecLv(l) ? { net, mu, logVar: lv } : { net, mu };
      });
      return { enc, dec };
    },
    encodeLayer,
    decodeLayer,
    noise(k: Key, samples: number, batch: number): Tensor[] {
      const ks = split(k, L);
      return cfg.layers.map((s, l) => normal(ks[l], [samples, batch, s.z], { dtype: 'float32' }));
    },
    forward(params: VAEParams, x: Tensor, eps: readonly Tensor[], opts: ForwardOptions = {}): ForwardTerms {
      checkX(x, 'forward');
      if (eps.length !== L) throw new ValueError(`VAE.forward: expected noise for ${L} layers, got ${eps.length}`);
      const B = x.shape[0];
      const k = eps[0].shape[0];
      eps.forEach((e, l) => {
        if (e.shape.length !== 3 || e.shape[0] !== k || e.shape[1] !== B || e.shape[2] !== cfg.layers[l].z)
          throw new ShapeError(`VAE.forward: eps[${l}] must be [k, ${B}, ${cfg.layers[l].z}], got ${fmtShape(e.shape)}`);
      });
      const dreg = opts.dreg;
      const analytic = (opts.analyticKL ?? false) && dreg === undefined;
      const zs: Tensor[] = []; // samples as the log-weights read them (gradient-scaled under DReG)
      const logQ: Tensor[] = [];
      const klTop: Tensor[] = [];
      let input = x;
      let inputScaled = x;
      for (let l = 0; l < L; l++) {
        const q = encodeLayer(params, l, input);
        const z = reparameterize(q.mu, q.logVar, eps[l]); // [k, B, d] (μ [B, d] broadcasts for l = 0)
        if (dreg !== undefined) {
          const zt = gradScale(z, dreg);
          // log q with stopped encoder parameters: only the path through the samples stays.
          const qs = l === 0 ? { mu: stopGradient(q.mu), logVar: stopGradient(q.logVar) } : encodeLayer(stopEnc(params, l), l, inputScaled);
          logQ.push(diagNormalLogProbPerDim(zt, qs.mu, qs.logVar));
          zs.push(zt);
          inputScaled = zt;
        } else {
          if (analytic && l === L - 1) klTop.push(klStdNormalPerDim(q.mu, q.logVar));
          else logQ.push(diagNormalLogProbAtEps(eps[l], q.logVar));
          zs.push(z);
        }
        input = z;
      }
      // Generative terms, top-down: log p(z_L), log p(z_l | z_{l+1}), log p(x | z₁).
      const kl: Tensor[] = [];
      for (let l = 0; l < L; l++) {
        if (analytic && l === L - 1) {
          kl.push(klTop[0]);
          continue;
        }
        let logP: Tensor;
        if (l === L - 1) logP = stdNormalLogProbPerDim(zs[l]);
        else {
          const p = decodeLayer(params, l + 1, zs[l + 1]);
          logP = diagNormalLogProbPerDim(zs[l], p.mu, p.logVar as Tensor);
        }
        kl.push(sub(logQ[l], logP)); // log q − log p
      }
      // The decoder folds the sample axis into its matmuls; x [B, D] broadcasts over it.
      return { logPx: pixelLogLik(params, zs[0], x), kl, analytic };
    },
    sample(params: VAEParams, k: Key, n: number): Tensor {
      checkInt('VAE', 'sample n', n, 1);
      const ks = split(k, L);
      let z = normal(ks[L - 1], [n, cfg.layers[L - 1].z], { dtype: 'float32' });
      for (let l = L - 1; l >= 1; l--) {
        const p = decodeLayer(params, l, z);
        z = reparameterize(p.mu, p.logVar as Tensor, normal(ks[l - 1], p.mu.shape, { dtype: 'float32' }));
      }
      return pixelMean(decodeLayer(params, 0, z));
    },
    reconstruct(params: VAEParams, x: Tensor): Tensor {
      checkX(x, 'reconstruct');
      let h = x;
      for (let l = 0; l < L; l++) h = encodeLayer(params, l, h).mu;
      for (let l = L - 1; l >= 1; l--) h = decodeLayer(params, l, h).mu;
      return pixelMean(decodeLayer(params, 0, h));
    },
  };
}

function stopEnc(params: VAEParams, l: number): VAEParams {
  const enc = params.enc.slice();
  enc[l] = mapLeaves(params.enc[l], (t) => stopGradient(t));
  return { enc, dec: params.dec };
}

function pixelMean(out: HeadOutput): Tensor {
  return out.logVar === undefined ? sigmoid(out.mu) : out.mu;
}
