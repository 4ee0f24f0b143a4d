/**
 * Training of SBN VAEs (sbn.ts) with the NVIL, REBAR or RELAX encoder-gradient estimators
 * (sbn-estimators.ts) over the generic `trainLoop`, and the variance of an estimator — the quantity
 * Tucker et al. (2017) and Grathwohl et al. (2018) compare.
 *
 * One step minimizes a surrogate whose gradient is the estimator:
 *   L = −(1/B) Σ_i [f_i(b) + Σ_k stopGradient(ĝ_ik)·θ_ik(W)] + controlLoss(η, λ, ρ or c),
 * so the decoder and the prior get ∇f(b) at the sampled b, the encoder weights get Σ ĝ ∂θ/∂W by the
 * chain rule, and the control variate's parameters get the gradient of their own objective (the
 * variance Σ ĝ² / B for REBAR and RELAX, NVIL's squared residual for its baseline). The reported
 * bound is the mean ELBO f(b) of the batch.
 */
import { stopGradient } from '../../core/autodiff.js';
import { ShapeError, ValueError, fmtShape } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { tidy } from '../../core/memory.js';
import { add, div, mul, neg } from '../../ops/elementwise.js';
import { mean, sum } from '../../ops/reduce.js';
import type { MinibatchLoader } from '../../data/loader.js';
import { foldIn, split, type Key } from '../../random/key.js';
import type { GradientTransformation } from '../../optim/transform.js';
import type { TrainState } from './checkpoint.js';
import { trainLoop, type LoopOptions, type StepLoss, type TrainResult } from './loop.js';
import { bernoulliFromUniform, type SBNModel, type SBNParams } from './sbn.js';
import {
  checkEstimator,
  encoderGradient,
  initEstimator,
  nvilRunningStats,
  sbnNoise,
  NVIL_DECAY,
  type EstimatorOptions,
  type EstimatorParams,
  type SBNEstimator,
} from './sbn-estimators.js';

/** What `trainSBN` trains: the model and the estimator's control variate. */
export interface SBNTrainParams {
  /** The SBN's parameters. */
  model: SBNParams;
  /** The estimator's control-variate parameters (see `initEstimator`). */
  est: EstimatorParams;
}

/**
 * Fresh model and estimator parameters, and the optimizer state when an optimizer is given.
 * @example const state = initSBN(sbn, 'relax', key(0), adam(3e-4));
 */
export function initSBN(model: SBNModel, estimator: SBNEstimator, k: Key, optimizer: GradientTransformation, opts: EstimatorOptions = {}): TrainState<SBNTrainParams> {
  const [km, ke] = split(k, 2);
  const params = { model: model.init(km), est: initEstimator(model, estimator, ke, opts) };
  return { params, optState: optimizer.init(params), step: 0 };
}

/** Options of `sbnLoss`. */
export interface SBNLossOptions {
  /** NVIL's variance normalization; default true. */
  normalize?: boolean;
}

/**
 * The surrogate loss of one batch x [B, D] with the noise of key `k` (see the module comment);
 * `aux` carries NVIL's batch statistics of the learning signal.
 * @example const { loss, bound } = sbnLoss(sbn, params, x, key(5), 'rebar')
 */
export function sbnLoss(model: SBNModel, params: SBNTrainParams, x: Tensor, k: Key, estimator: SBNEstimator, opts: SBNLossOptions = {}): StepLoss {
  checkEstimator('sbnLoss', estimator);
  if (x.shape.length !== 2 || x.shape[1] !== model.config.xDim) throw new ShapeError(`sbnLoss: x must be [batch, ${model.config.xDim}], got ${fmtShape(x.shape)}`);
  const B = x.shape[0];
  const theta = model.encode(params.model, x);
  const th = stopGradient(theta);
  const noise = sbnNoise(k, B, model.config.latents, model.config.dtype);
  // f(b) with θ constant: the decoder and prior get their gradient from it.
  const f = model.elbo(params.model, x, bernoulliFromUniform(th, noise.u), th);
  const r = encoderGradient(model, params.model, params.est, estimator, x, th, noise, { f, normalize: opts.normalize });
  const surrogate = add(sum(f), sum(mul(stopGradient(r.ghat), theta)));
  return { loss: add(neg(div(surrogate, B)), r.controlLoss), bound: mean(stopGradient(f)), aux: r.signalStats };
}

/** Options of `trainSBN`. */
export interface TrainSBNOptions extends LoopOptions, SBNLossOptions {
  /** The encoder-gradient estimator; its parameters must be in `state.params.est`. */
  estimator: SBNEstimator;
  /** NVIL's decay of the running signal statistics; default 0.8. */
  nvilDecay?: number;
}

/**
 * Trains `model` from `state` until `opts.steps` steps on batches of `loader` with the chosen
 * estimator of the encoder gradient.
 * @example
 * const sbn = SBN({ xDim: 784, latents: 200 });
 * const opt = adam(3e-4);
 * const r = await trainSBN(sbn, initSBN(sbn, 'rebar', key(0), opt), loader,
 *   { steps: 2000, key: key(1), optimizer: opt, estimator: 'rebar' });
 */
export async function trainSBN(model: SBNModel, state: TrainState<SBNTrainParams>, loader: MinibatchLoader, opts: TrainSBNOptions): Promise<TrainResult<SBNTrainParams>> {
  const { estimator, nvilDecay = NVIL_DECAY } = opts;
  checkEstimator('trainSBN', estimator);
  if (!(nvilDecay >= 0 && nvilDecay < 1)) throw new ValueError(`trainSBN: nvilDecay must be in [0, 1), got ${nvilDecay}`);
  initEstimatorCheck(model, state.params.est, estimator);
  return trainLoop(state, loader, {
    ...opts,
    name: 'trainSBN',
    xDim: model.config.xDim,
    config: { ...model.config, estimator },
    loss: (p, batch, k) => sbnLoss(model, p, batch.x, k, estimator, opts),
    afterStep:
      estimator === 'nvil'
        ? (p, aux) => ({ model: p.model, est: nvilRunningStats(p.est, aux as { mean: Tensor; variance: Tensor }, nvilDecay) })
        : undefined,
  });
}

function initEstimatorCheck(model: SBNModel, ep: EstimatorParams, estimator: SBNEstimator): void {
  const needs: Record<SBNEstimator, (keyof EstimatorParams)[]> = { nvil: ['baseline', 'runMean', 'runVar'], rebar: ['eta', 'logTemp'], relax: ['surrogate'] };
  for (const k of needs[estimator])
    if (ep[k] === undefined) throw new ValueError(`trainSBN: state.params.est has no '${k}', which the ${estimator} estimator needs (make it with initEstimator(model, '${estimator}', key))`);
  if (ep.surrogate !== undefined && ep.surrogate[0].weight.shape[1] !== model.config.latents)
    throw new ShapeError(`trainSBN: the RELAX surrogate takes ${ep.surrogate[0].weight.shape[1]} inputs but the model has ${model.config.latents} latents`);
}

/** The spread of an estimator's draws at fixed parameters and data. */
export interface GradientVariance {
  /** log of the mean over logits (examples × latents) of the per-logit variance. */
  logVariance: number;
  /** The mean over logits of the per-logit variance. */
  meanVariance: number;
  /** Mean over logits of the squared mean estimate (the signal, for scale). */
  meanSquaredMean: number;
  /** Variance per logit, [B·K] row-major. */
  perLogit: Float64Array;
}

/**
 * The variance of the encoder-gradient estimator ĝ_θ over `draws` (default 100) independent noise
 * draws for fixed parameters and batch x [B, D], per logit, and its log-mean over logits. NVIL is
 * measured without its variance normalization (default `normalize: false`) so that all three estimate
 * the same ∂E_q[f]/∂θ.
 * @example encoderGradientVariance(sbn, r.state.params, xBatch, 'rebar', { key: key(8) }).logVariance
 */
export function encoderGradientVariance(
  model: SBNModel,
  params: SBNTrainParams,
  x: Tensor,
  estimator: SBNEstimator,
  opts: { key: Key; draws?: number; normalize?: boolean },
): GradientVariance {
  checkEstimator('encoderGradientVariance', estimator);
  const draws = opts.draws ?? 100;
  if (!Number.isInteger(draws) || draws < 2) throw new ValueError(`encoderGradientVariance: draws must be an integer ≥ 2, got ${draws}`);
  const B = x.shape[0];
  const n = B * model.config.latents;
  const s1 = new Float64Array(n);
  const s2 = new Float64Array(n);
  const theta = tidy(() => model.encode(params.model, x));
  for (let d = 0; d < draws; d++) {
    const g = tidy(() => {
      const noise = sbnNoise(foldIn(opts.key, d), B, model.config.latents, model.config.dtype);
      return encoderGradient(model, params.model, params.est, estimator, x, theta, noise, { normalize: opts.normalize ?? false }).ghat.dataSync();
    });
    for (let i = 0; i < n; i++) {
      s1[i] += g[i];
      s2[i] += g[i] * g[i];
    }
  }
  const perLogit = new Float64Array(n);
  let mv = 0;
  let msm = 0;
  for (let i = 0; i < n; i++) {
    const m = s1[i] / draws;
    perLogit[i] = Math.max(0, (s2[i] - draws * m * m) / (draws - 1));
    mv += perLogit[i];
    msm += m * m;
  }
  return { logVariance: Math.log(mv / n), meanVariance: mv / n, meanSquaredMean: msm / n, perLogit };
}
