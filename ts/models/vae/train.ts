/**
 * The training loop of `VAE` models: `trainLoop` (see loop.ts) with the VAE's objectives (ELBO,
 * IWAE, DReG), KL schedules and free bits.
 */
import { ValueError } from '../../core/errors.js';
import type { Key } from '../../random/key.js';
import type { MinibatchLoader } from '../../data/loader.js';
import type { TrainState } from './checkpoint.js';
import { trainLoop, type LoopOptions, type TrainResult } from './loop.js';
import type { VAEModel, VAEParams } from './model.js';
import { betaAt, vaeLoss, type BetaSchedule, type Objective } from './objectives.js';

/** Options of `trainVAE`. */
export interface TrainOptions extends LoopOptions {
  /** Default 'elbo'. */
  objective?: Objective;
  /** Samples per example; default 1. */
  k?: number;
  /** KL weight β, constant or a schedule of the step (see `klWarmup`, `klCyclical`); default 1. */
  beta?: BetaSchedule;
  /** Free bits λ per latent coordinate (ELBO only); default 0. */
  freeBits?: number;
  /** Closed-form KL where possible (ELBO only); default true. */
  analyticKL?: boolean;
}

/**
 * Trains `model` from `state` until `opts.steps` steps, on batches of `loader`. The step runs
 * compiled (traced once; native fused loops and matrix products; β's schedule an input of the
 * step; `result.compiled` says whether it did) unless `opts.compile` is false.
 * @example
 * const vae = VAE({ xDim: 784, layers: [{ z: 50, hidden: [200, 200] }] });
 * const opt = adam(1e-3);
 * const params = vae.init(key(0));
 * const r = await trainVAE(vae, { params, optState: opt.init(params), step: 0 }, loader,
 *   { steps: 1000, key: key(1), optimizer: opt, objective: 'iwae', k: 50 });
 */
export async function trainVAE(model: VAEModel, state: TrainState<VAEParams>, loader: MinibatchLoader, opts: TrainOptions): Promise<TrainResult<VAEParams>> {
  const { objective = 'elbo', k = 1, beta = 1, freeBits = 0, analyticKL = true } = opts;
  if (!Number.isInteger(k) || k < 1) throw new ValueError(`trainVAE: k (samples per example) must be a positive integer, got ${k}`);
  return trainLoop(state, loader, {
    ...opts,
    name: 'trainVAE',
    xDim: model.config.xDim,
    config: model.config,
    hyper: (s) => ({ beta: betaAt(beta, s, 'trainVAE') }),
    loss: (p, batch, key: Key, _s, h) => vaeLoss(model, p, batch.x, model.noise(key, k, batch.size), { objective, beta: h.beta, freeBits, analyticKL }),
  });
}
