/**
 * The Gumbel-Softmax (Concrete) VAE: N categorical latents of K classes each, relaxed during
 * training by the Gumbel-Softmax distribution (Jang, Gu & Poole 2017; Maddison, Mnih & Teh 2017):
 * y = softmax((log π + g)/τ) with g ~ Gumbel(0, 1), optionally with the straight-through estimator
 * (forward one_hot(argmax y), backward the relaxed y). The prior is uniform, p(y) = Π_n 1/K, and
 * the KL term is the closed-form categorical KL(q(y|x) ‖ Uniform(K)) as Jang et al. use it.
 *
 * Jang et al.'s MNIST setup (the defaults): N = 30, K = 10, encoder 784-512-256 ReLU → N·K logits,
 * decoder N·K-256-512-784 ReLU with Bernoulli logits, batch 100, Adam lr 1e-3, and the temperature
 * τ = max(0.5, exp(−r·t)) updated every N_τ steps — the paper searches r ∈ {1e−5, 1e−4},
 * N_τ ∈ {500, 1000} (ranges recalled, not checked against the paper's text); a public
 * Gumbel-Softmax demo notebook, not confirmed to be the authors', uses r = 3e−5, N_τ = 1000 (the
 * defaults of `temperatureSchedule`).
 *
 * Evaluation uses the discrete model only: hard samples y = one_hot(argmax(log π + g)) are exact
 * draws from q(y|x), so the test ELBO E_q[log p(x|y)] − KL(q ‖ p) and the importance-sampled
 * log p(x) ≈ log (1/k) Σ_i p(x|y_i) p(y_i) / q(y_i|x) use exact discrete densities.
 */
import { customGradient } from '../../core/autodiff.js';
import { ShapeError, ValueError, fmtShape } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import type { Batch, MinibatchLoader } from '../../data/loader.js';
import { activation, type Activation } from '../../nn/activations.js';
import { Linear, type LinearParams } from '../../nn/linear.js';
import { add, clamp, div, exp, log, mul, neg, oneHot, sigmoid, sub } from '../../ops/elementwise.js';
import { argmax, logSoftmax, mean, softmax, sum } from '../../ops/reduce.js';
import { reshape } from '../../ops/shape.js';
import { Key, split } from '../../random/key.js';
import { categorical, uniform, type FloatDType } from '../../random/samplers.js';
import type { TrainState } from './checkpoint.js';
import { trainLoop, type Hyper, type LoopOptions, type StepLoss, type TrainResult } from './loop.js';
import { checkWeight, weighted, type Weight } from './objectives.js';
import { bernoulliLogLik, checkInt, denseStack } from './terms.js';
import { checkRows, importanceSampled, meanOverChunks } from './evaluate.js';

// ---------------------------------------------------------------------------------------------
// The Gumbel-Softmax sample and the straight-through one-hot.

/**
 * Gumbel(0, 1) noise g = −log(−log u), u ~ U(0, 1) clipped to [δ, 1 − δ] (δ = 1e−7 in float32,
 * 1e−12 in float64) so that g stays finite.
 * @example gumbelNoise(key(0), [100, 30, 10]) // float32 [100, 30, 10]
 */
export function gumbelNoise(k: Key, shape: readonly number[], dtype: FloatDType = 'float32'): Tensor {
  const d = dtype === 'float32' ? 1e-7 : 1e-12;
  const u = clamp(uniform(k, shape, { dtype }), d, 1 - d);
  return neg(log(neg(log(u))));
}

/**
 * The straight-through one-hot (Bengio et al. 2013; Jang et al. 2017 §2.2): the forward value is
 * one_hot(argmax_k y) along the last axis, the backward pass is the identity (∂L/∂y = ∂L/∂out).
 * @example straightThroughOneHot(softmax(logits)) // exactly one 1 per row, gradients as if identity
 */
export const straightThroughOneHot: (y: Tensor) => Tensor = customGradient((y: Tensor) => {
  const k = y.shape[y.shape.length - 1];
  return { value: oneHot(argmax(y, -1), k, y.dtype), grad: (dy: Tensor) => [dy] };
});

/** Options of `gumbelSoftmaxSample`. */
export interface GumbelSoftmaxOptions {
  /** Straight-through: the forward value is one_hot(argmax y), the gradient the relaxed y's; default false. */
  hard?: boolean;
}

/**
 * A Gumbel-Softmax (Concrete) sample over the last axis (Jang et al. 2017, eq. 1; Maddison et al.
 * 2017): y = softmax((logits + g)/τ), g ~ Gumbel(0, 1). `noise` is a key (fresh noise shaped as
 * `logits`) or the Gumbel noise itself, shaped as `logits` or with extra leading sample axes
 * ([k, ...logits.shape]); the result has the noise's shape. With `hard`, the straight-through
 * estimator: forward one_hot(argmax y), backward the relaxed y. The logits need not be normalized
 * (softmax is shift-invariant).
 * @example
 * const y = gumbelSoftmaxSample(logits, key(3), 0.5);               // relaxed, on the simplex
 * const h = gumbelSoftmaxSample(logits, key(3), 0.5, { hard: true }); // one-hot, ST gradient
 */
export function gumbelSoftmaxSample(logits: Tensor, noise: Key | Tensor, tau: Weight, opts: GumbelSoftmaxOptions = {}): Tensor {
  const r = logits.shape.length;
  if (r === 0 || logits.shape[r - 1] < 2) throw new ValueError(`gumbelSoftmaxSample: the last axis of logits holds the K classes and needs K ≥ 2, got logits ${fmtShape(logits.shape)}`);
  checkWeight('gumbelSoftmaxSample', 'the temperature tau', tau, true);
  const g = noise instanceof Key ? gumbelNoise(noise, logits.shape, logits.dtype === 'float64' ? 'float64' : 'float32') : noise;
  const gr = g.shape.length;
  if (gr < r || logits.shape.some((d, i) => d !== g.shape[gr - r + i]))
    throw new ShapeError(`gumbelSoftmaxSample: the noise ${fmtShape(g.shape)} must end in the logits' shape ${fmtShape(logits.shape)}`);
  const y = softmax(div(add(logits, g), tau), -1);
  return opts.hard === true ? straightThroughOneHot(y) : y;
}

/**
 * KL(Cat(softmax(logits)) ‖ Uniform(K)) per categorical latent, closed form:
 * Σ_k q_k (log q_k + log K), over the last axis (Jang et al. 2017 use this KL in their VAE).
 * @example categoricalKLUniform(zeros([2, 10])) // [0, 0]
 */
export function categoricalKLUniform(logits: Tensor): Tensor {
  const k = logits.shape[logits.shape.length - 1];
  if (logits.shape.length === 0 || k < 2) throw new ValueError(`categoricalKLUniform: the last axis holds the K classes and needs K ≥ 2, got logits ${fmtShape(logits.shape)}`);
  const lq = logSoftmax(logits, -1);
  return sum(mul(exp(lq), add(lq, Math.log(k))), -1);
}

// ---------------------------------------------------------------------------------------------
// The temperature schedule.

/** Options of `temperatureSchedule`. */
export interface TemperatureScheduleOptions {
  /** τ at step 0; default 1. */
  tau0?: number;
  /** The floor τ_min; default 0.5. */
  tauMin?: number;
  /** Decay rate r per step; default 3e−5 (a public demo notebook's value; the paper searches 1e−5, 1e−4). */
  rate?: number;
  /** τ changes every this many steps (a staircase); default 1000. */
  every?: number;
}

/**
 * Jang et al.'s (2017) temperature annealing: τ(t) = max(τ_min, τ₀·exp(−r·N⌊t/N⌋)) with N = `every`.
 * @example temperatureSchedule({ rate: 1e-4, every: 500 })(10000) // max(0.5, exp(−1)) = 0.5
 */
export function temperatureSchedule(opts: TemperatureScheduleOptions = {}): (step: number) => number {
  const { tau0 = 1, tauMin = 0.5, rate = 3e-5, every = 1000 } = opts;
  if (!(tau0 > 0) || !Number.isFinite(tau0)) throw new ValueError(`temperatureSchedule: tau0 must be a finite number > 0, got ${tau0}`);
  if (!(tauMin > 0) || !(tauMin <= tau0)) throw new ValueError(`temperatureSchedule: tauMin must be in (0, tau0 = ${tau0}], got ${tauMin}`);
  if (!(rate >= 0) || !Number.isFinite(rate)) throw new ValueError(`temperatureSchedule: rate must be a finite number ≥ 0, got ${rate}`);
  if (!Number.isInteger(every) || every < 1) throw new ValueError(`temperatureSchedule: every must be a positive integer, got ${every}`);
  return (step) => Math.max(tauMin, tau0 * Math.exp(-rate * every * Math.floor(step / every)));
}

// ---------------------------------------------------------------------------------------------
// The model.

/** Configuration of `GumbelSoftmaxVAE` (defaults: Jang et al.'s MNIST model). */
export interface GumbelVAEConfig {
  /** Data dimension; default 784. */
  xDim?: number;
  /** Number N of categorical latents; default 30. */
  latents?: number;
  /** Classes K of each latent (≥ 2); default 10. */
  classes?: number;
  /** Encoder hidden widths (the decoder mirrors them); default [512, 256]. */
  hidden?: readonly number[];
  /** Hidden activation; default 'relu'. */
  activation?: Activation;
}

/** Parameters of a `GumbelSoftmaxVAE`: encoder x → N·K logits, decoder N·K → pixel logits. */
export interface GumbelVAEParams {
  /** Encoder layers x → N·K logits. */
  enc: LinearParams[];
  /** Decoder layers (N·K relaxed one-hots) → pixel logits. */
  dec: LinearParams[];
}

/** The per-sample terms of one pass of a `GumbelSoftmaxVAE` (k samples for a batch of B). */
export interface GumbelForward {
  /** log p(x|y) at each sample: [k, B]. */
  logPx: Tensor;
  /** KL(q(y|x) ‖ Uniform) summed over the N latents: [B]. */
  kl: Tensor;
  /** The encoder's logits: [B, N, K]. */
  logits: Tensor;
}

/** A Gumbel-Softmax VAE as a functional module. */
export interface GumbelVAEModel {
  /** The configuration with every default filled in. */
  readonly config: Readonly<Required<GumbelVAEConfig>>;
  /** Fresh parameters (PyTorch's default Linear initialization). */
  init(k: Key): GumbelVAEParams;
  /** The logits of q(y|x), normalized per latent (log-probabilities): x [B, xDim] → [B, N, K]. */
  encode(params: GumbelVAEParams, x: Tensor): Tensor;
  /** The Bernoulli logits of p(x|y): y [..., N, K] → [..., xDim]. */
  decode(params: GumbelVAEParams, y: Tensor): Tensor;
  /** Gumbel noise for `forward`: [samples, batch, N, K]. */
  noise(k: Key, samples: number, batch: number): Tensor;
  /**
   * One pass with Gumbel noise g [k, B, N, K] at temperature τ: y = softmax((log π + g)/τ)
   * (straight-through one-hot when `hard`), decoded; returns log p(x|y), the categorical KL and the logits.
   */
  forward(params: GumbelVAEParams, x: Tensor, g: Tensor, tau: Weight, opts?: { hard?: boolean }): GumbelForward;
  /** Pixel probabilities of `n` images decoded from the uniform prior over the N·K one-hot codes. */
  sample(params: GumbelVAEParams, k: Key, n: number): Tensor;
  /** Pixel probabilities decoded from each latent's most probable class: x ↦ E[x | y = one_hot(argmax q(y|x))]. */
  reconstruct(params: GumbelVAEParams, x: Tensor): Tensor;
}

/**
 * Builds a Gumbel-Softmax VAE (Jang et al. 2017): N categorical latents of K classes, uniform
 * prior, Bernoulli pixels.
 * @example
 * const m = GumbelSoftmaxVAE({ latents: 30, classes: 10 });
 * const p = m.init(key(0));
 * const t = m.forward(p, x, m.noise(key(1), 1, x.shape[0]), 1.0); // t.logPx [1, B], t.kl [B]
 */
export function GumbelSoftmaxVAE(config: GumbelVAEConfig = {}): GumbelVAEModel {
  const cfg: Required<GumbelVAEConfig> = { xDim: 784, latents: 30, classes: 10, hidden: [512, 256], activation: 'relu', ...config };
  const fn = 'GumbelSoftmaxVAE';
  checkInt(fn, 'xDim', cfg.xDim, 1);
  checkInt(fn, 'latents (N)', cfg.latents, 1);
  checkInt(fn, 'classes (K, at least 2 for a categorical)', cfg.classes, 2);
  cfg.hidden.forEach((h, i) => checkInt(fn, `hidden[${i}]`, h, 1));
  const { xDim, latents: N, classes: K } = cfg;
  const code = N * K;
  const encSizes = [xDim, ...cfg.hidden, code];
  const decSizes = [code, ...[...cfg.hidden].reverse(), xDim];
  const encLayers = encSizes.slice(1).map((o, i) => Linear(encSizes[i], o));
  const decLayers = decSizes.slice(1).map((o, i) => Linear(decSizes[i], o));
  const act = activation(cfg.activation);
  const mlp = (ps: LinearParams[], h0: Tensor): Tensor => denseStack(ps, h0, act);
  const checkX = (x: Tensor, op: string): void => void checkRows(`${fn}.${op}`, x, xDim, 'B');
  const encode = (params: GumbelVAEParams, x: Tensor): Tensor => {
    checkX(x, 'encode');
    return logSoftmax(reshape(mlp(params.enc, x), [x.shape[0], N, K]), -1);
  };
  const decode = (params: GumbelVAEParams, y: Tensor): Tensor => {
    const r = y.shape.length;
    if (r < 2 || y.shape[r - 1] !== K || y.shape[r - 2] !== N) throw new ShapeError(`${fn}.decode: y must be [..., ${N}, ${K}], got ${fmtShape(y.shape)}`);
    return mlp(params.dec, reshape(y, [...y.shape.slice(0, -2), code]));
  };
  return {
    config: cfg,
    init(k: Key): GumbelVAEParams {
      const [ke, kd] = split(k, 2);
      const kes = split(ke, encLayers.length);
      const kds = split(kd, decLayers.length);
      return { enc: encLayers.map((l, i) => l.init(kes[i])), dec: decLayers.map((l, i) => l.init(kds[i])) };
    },
    encode,
    decode,
    noise(k: Key, samples: number, batch: number): Tensor {
      checkInt(`${fn}.noise`, 'samples', samples, 1);
      checkInt(`${fn}.noise`, 'batch', batch, 1);
      return gumbelNoise(k, [samples, batch, N, K]);
    },
    forward(params, x, g, tau, opts = {}): GumbelForward {
      checkX(x, 'forward');
      const B = x.shape[0];
      if (g.shape.length !== 4 || g.shape[1] !== B || g.shape[2] !== N || g.shape[3] !== K)
        throw new ShapeError(`${fn}.forward: the Gumbel noise must be [k, ${B}, ${N}, ${K}] for x ${fmtShape(x.shape)}, got ${fmtShape(g.shape)}`);
      const logits = encode(params, x);
      const y = gumbelSoftmaxSample(logits, g, tau, opts);
      return { logPx: bernoulliLogLik(decode(params, y), x), kl: sum(categoricalKLUniform(logits), -1), logits };
    },
    sample(params, k, n): Tensor {
      checkInt(`${fn}.sample`, 'n', n, 1);
      const idx = categorical(k, new Array<number>(K).fill(0), [n, N]);
      return sigmoid(decode(params, oneHot(idx, K, 'float32')));
    },
    reconstruct(params, x): Tensor {
      return sigmoid(decode(params, oneHot(argmax(encode(params, x), -1), K, 'float32')));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Training.

/** Options of `gumbelLoss`. */
export interface GumbelLossOptions {
  /** The temperature τ > 0. */
  tau: Weight;
  /** Straight-through Gumbel-Softmax (forward one-hot); default false. */
  straightThrough?: boolean;
  /** Weight of the KL term; default 1. */
  beta?: Weight;
}

/**
 * The negative ELBO of the relaxed model (Jang et al. 2017), mean over the batch and the k noise
 * samples: −(1/kB) Σ log p(x|y) + β (1/B) Σ_b Σ_n KL(q(y_n|x_b) ‖ Uniform(K)), with y the
 * Gumbel-Softmax sample (straight-through one-hot when asked) for noise `g` [k, B, N, K].
 * `bound` is the same with β = 1 (the ELBO estimate to report).
 * @example const { loss } = gumbelLoss(m, p, x, m.noise(key(1), 1, x.shape[0]), { tau: 0.7, straightThrough: true })
 */
export function gumbelLoss(model: GumbelVAEModel, params: GumbelVAEParams, x: Tensor, g: Tensor, opts: GumbelLossOptions): {
  /** The loss to minimize (scalar). */
  loss: Tensor;
  /** The bound per example (scalar). */
  bound: Tensor;
} {
  const { tau, straightThrough = false, beta = 1 } = opts;
  checkWeight('gumbelLoss', 'beta', beta);
  const t = model.forward(params, x, g, tau, { hard: straightThrough });
  const rec = mean(t.logPx);
  const kl = mean(t.kl);
  return { loss: sub(weighted(kl, beta), rec), bound: sub(rec, kl) };
}

/** Options of `trainGumbelVAE`. */
export interface GumbelTrainOptions extends LoopOptions {
  /** τ, constant or a function of the step (see `temperatureSchedule`); default `temperatureSchedule()`. */
  temperature?: number | ((step: number) => number);
  /** Straight-through Gumbel-Softmax; default false. */
  straightThrough?: boolean;
  /** Noise samples per example; default 1. */
  k?: number;
}

/**
 * Trains a `GumbelSoftmaxVAE` with `trainLoop` on the relaxed ELBO, annealing τ by step.
 * @example
 * const m = GumbelSoftmaxVAE();
 * const opt = adam(1e-3);
 * const p = m.init(key(0));
 * const r = await trainGumbelVAE(m, { params: p, optState: opt.init(p), step: 0 }, loader,
 *   { steps: 2000, key: key(1), optimizer: opt, temperature: temperatureSchedule({ rate: 3e-4, every: 100 }) });
 */
export async function trainGumbelVAE(model: GumbelVAEModel, state: TrainState<GumbelVAEParams>, loader: MinibatchLoader, opts: GumbelTrainOptions): Promise<TrainResult<GumbelVAEParams>> {
  const { temperature = temperatureSchedule(), straightThrough = false, k = 1 } = opts;
  checkInt('trainGumbelVAE', 'k (samples per example)', k, 1);
  // Checked at every step: a compiled step receives τ as an input, past gumbelSoftmaxSample's check.
  const tauAt = (s: number): number => {
    const tau = typeof temperature === 'number' ? temperature : temperature(s);
    if (!(tau > 0) || !Number.isFinite(tau)) throw new ValueError(`trainGumbelVAE: the temperature must be a finite number > 0, got ${tau} at step ${s}`);
    return tau;
  };
  tauAt(0);
  return trainLoop(state, loader, {
    ...opts,
    name: 'trainGumbelVAE',
    xDim: model.config.xDim,
    config: { ...model.config, straightThrough },
    hyper: (s) => ({ tau: tauAt(s) }),
    loss: (p: GumbelVAEParams, batch: Batch, key: Key, _s: number, h: Hyper): StepLoss => gumbelLoss(model, p, batch.x, model.noise(key, k, batch.size), { tau: h.tau, straightThrough }),
  });
}

// ---------------------------------------------------------------------------------------------
// Evaluation of the discrete model.

/** Options of the Gumbel VAE's evaluations. */
export interface GumbelEvalOptions {
  /** Randomness of the categorical samples. */
  key: Key;
  /** Examples per chunk; default 500 (ELBO) or 50 (log-likelihood). */
  batchSize?: number;
}


/**
 * log p(x|y) − log q(y|x) + log p(y) for k hard (exact categorical) samples y = one_hot(argmax(log π + g)):
 * [k, B], together with log p(x|y) [k, B] and the KL [B].
 */
function hardTerms(model: GumbelVAEModel, params: GumbelVAEParams, x: Tensor, g: Tensor): { logW: Tensor; logPx: Tensor; kl: Tensor } {
  const { latents: N, classes: K } = model.config;
  const lq = model.encode(params, x); // [B, N, K], normalized
  const y = oneHot(argmax(add(lq, g), -1), K, 'float32'); // [k, B, N, K]
  const logPx = bernoulliLogLik(model.decode(params, y), x);
  const logQ = sum(mul(y, lq), [-2, -1]);
  const logW = sub(sub(logPx, logQ), N * Math.log(K));
  return { logW, logPx, kl: sum(categoricalKLUniform(lq), -1) };
}

/**
 * The test ELBO of the discrete model, mean per example over the rows of x [n, D], with one hard
 * sample y ~ q(y|x) per example and the closed-form categorical KL:
 * (1/n) Σ_i log p(x_i|y_i) − Σ_n KL(q(y_n|x_i) ‖ Uniform(K)).
 * @example gumbelTestElbo(m, p, testX, { key: key(7) }) // e.g. −110
 */
export function gumbelTestElbo(model: GumbelVAEModel, params: GumbelVAEParams, x: Tensor, opts: GumbelEvalOptions): number {
  checkRows('gumbelTestElbo', x, model.config.xDim);
  return meanOverChunks(x, opts.batchSize ?? 500, opts.key, (xb, k, _s, m) => {
    const t = hardTerms(model, params, xb, model.noise(k, 1, m));
    return sum(t.logPx).item() - sum(t.kl).item();
  });
}

/**
 * Importance-sampled log p(x) of the discrete model with q(y|x) as the proposal (Burda et al. 2016):
 * log p(x) ≈ log (1/k) Σ_{i=1}^k p(x|y_i) p(y_i) / q(y_i|x), y_i ~ q(y|x) exactly (hard samples),
 * p(y) = K^−N. Samples are drawn in chunks of `samplesPerChunk`; returns the mean over the rows of
 * x and the per-example estimates.
 * @example gumbelLogLikelihood(m, p, testX, { key: key(9), k: 1000 }).mean // ≤ 0
 */
export function gumbelLogLikelihood(
  model: GumbelVAEModel,
  params: GumbelVAEParams,
  x: Tensor,
  opts: GumbelEvalOptions & { k?: number; samplesPerChunk?: number },
): {
  /** The mean estimate of log p(x) over the rows (nats per example). */
  mean: number;
  /** The estimate for each row, [N]. */
  perExample: Float64Array;
} {
  checkRows('gumbelLogLikelihood', x, model.config.xDim);
  const k = opts.k ?? 1000;
  checkInt('gumbelLogLikelihood', 'k (importance samples)', k, 1);
  return importanceSampled(x, { key: opts.key, k, batchSize: opts.batchSize ?? 50, samplesPerChunk: opts.samplesPerChunk ?? 100 }, (xb, kk, samples) => hardTerms(model, params, xb, model.noise(kk, samples, xb.shape[0])).logW);
}
