/**
 * The training loop of `VAE` models: minibatches from a `MinibatchLoader`, noise from
 * `foldIn(key, step)`, one optimizer step per batch. Step s reads batch s mod (batches per epoch)
 * of epoch ⌊s / batches per epoch⌋, so a run resumed from a checkpoint continues exactly as the
 * uninterrupted run would have. A step whose loss or gradients are NaN or ±Inf is skipped (the
 * state is left untouched) and reported with its step number; too many in a row stop the run with
 * an error (a diverging learning rate).
 */
import { valueAndGrad } from '../../core/autodiff.js';
import { VarinfError, ValueError } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { tidy } from '../../core/memory.js';
import { leaves } from '../../core/tree.js';
import { sum } from '../../ops/reduce.js';
import type { MinibatchLoader } from '../../data/loader.js';
import { adam } from '../../optim/alias.js';
import { applyUpdates, type GradientTransformation } from '../../optim/transform.js';
import { foldIn, type Key } from '../../random/key.js';
import { saveTrainState, type TrainState } from './checkpoint.js';
import type { VAEModel, VAEParams } from './model.js';
import { betaAt, vaeLoss, type BetaSchedule, type Objective } from './objectives.js';

/** What `onProgress` is told every `logEvery` steps. */
export interface TrainProgress {
  /** Steps done so far (global, counting resumed ones). */
  step: number;
  /** The run's final step. */
  steps: number;
  /** Mean loss and mean bound (ELBO or L_k, per example) over the steps since the last report. */
  loss: number;
  bound: number;
  beta: number;
  /** Training throughput since the run (or resume) started. */
  imagesPerSecond: number;
  seconds: number;
}

/** A skipped step. */
export interface NonFiniteStep {
  step: number;
  /** The loss value (NaN, ±Inf, or finite when only a gradient was not). */
  loss: number;
}

/** Options of `trainVAE`. */
export interface TrainOptions {
  /** Train until this many steps have been taken in total. */
  steps: number;
  /** Noise of step s: `foldIn(key, s)`. */
  key: Key;
  /** Default `adam(1e-3)`; it must be the one whose state `state.optState` is. */
  optimizer?: GradientTransformation;
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
  /** Report every this many steps; default 100. */
  logEvery?: number;
  /** Progress callback; without one, progress lines go to stderr when `progress` is true. */
  onProgress?: (p: TrainProgress) => void;
  /** Print progress lines to stderr when no callback is given; default false. */
  progress?: boolean;
  /** Told of every skipped (non-finite) step. */
  onNonFinite?: (s: NonFiniteStep) => void;
  /** Stop with an error after this many non-finite steps in a row; default 20. */
  maxConsecutiveNonFinite?: number;
  /** Save the state every `every` steps and at the end to `path` (safetensors). */
  checkpoint?: { path: string; every: number; metadata?: Record<string, string> };
  /** Stops the run after the current step. */
  signal?: AbortSignal;
}

/** What `trainVAE` returns. */
export interface TrainResult {
  state: TrainState<VAEParams>;
  /** One entry per report: the step and the mean loss and bound since the previous report. */
  history: { step: number; loss: number; bound: number; beta: number }[];
  nonFinite: NonFiniteStep[];
  seconds: number;
  imagesPerSecond: number;
  /** Whether the signal stopped the run early. */
  aborted: boolean;
}

/**
 * Trains `model` from `state` until `opts.steps` steps, on batches of `loader`.
 * @example
 * const vae = VAE({ xDim: 784, layers: [{ z: 50, hidden: [200, 200] }] });
 * const opt = adam(1e-3);
 * const params = vae.init(key(0));
 * const r = await trainVAE(vae, { params, optState: opt.init(params), step: 0 }, loader,
 *   { steps: 1000, key: key(1), optimizer: opt, objective: 'iwae', k: 50 });
 */
export async function trainVAE(model: VAEModel, state: TrainState<VAEParams>, loader: MinibatchLoader, opts: TrainOptions): Promise<TrainResult> {
  const { steps, key: baseKey, optimizer = adam(1e-3), objective = 'elbo', k = 1, beta = 1, freeBits = 0, analyticKL = true, logEvery = 100, maxConsecutiveNonFinite = 20 } = opts;
  if (!Number.isInteger(steps) || steps < 0) throw new ValueError(`trainVAE: steps must be a non-negative integer, got ${steps}`);
  if (!Number.isInteger(k) || k < 1) throw new ValueError(`trainVAE: k (samples per example) must be a positive integer, got ${k}`);
  if (loader.dim !== model.config.xDim) throw new ValueError(`trainVAE: the loader gives images of ${loader.dim} pixels but the model takes ${model.config.xDim}`);
  const ckpt = opts.checkpoint;
  if (ckpt !== undefined && !(Number.isInteger(ckpt.every) && ckpt.every >= 1)) throw new ValueError(`trainVAE: checkpoint.every must be a positive integer, got ${ckpt.every}`);
  const bpe = loader.batchesPerEpoch;
  let bound: Tensor | null = null;
  const lossFn = (p: VAEParams, x: Tensor, eps: Tensor[], b: number): Tensor => {
    const r = vaeLoss(model, p, x, eps, { objective, beta: b, freeBits, analyticKL });
    bound = r.bound;
    return r.loss;
  };
  const vg = valueAndGrad(lossFn);
  const report = opts.onProgress ?? (opts.progress === true ? (p: TrainProgress) => process.stderr.write(progressLine(p)) : undefined);

  let { params, optState } = state;
  let step = state.step;
  const history: TrainResult['history'] = [];
  const nonFinite: NonFiniteStep[] = [];
  let consecutive = 0;
  let sumLoss = 0;
  let sumBound = 0;
  let nSum = 0;
  let images = 0;
  let trainMs = 0;
  const t0 = performance.now();
  let lastYield = t0;
  let aborted = false;
  while (step < steps) {
    if (opts.signal?.aborted === true) {
      aborted = true;
      break;
    }
    const ts = performance.now();
    const b = betaAt(beta, step);
    const batch = loader.batch(Math.floor(step / bpe), step % bpe);
    const out = tidy(() => {
      const eps = model.noise(foldIn(baseKey, step), k, batch.size);
      const [lossT, grads] = vg(params, batch.x, eps, b);
      const lossV = lossT.item();
      const boundV = (bound as Tensor | null)?.item() ?? NaN;
      if (!Number.isFinite(lossV) || !gradsFinite(grads)) return { ok: false as const, lossV };
      const [updates, nextOpt] = optimizer.update(grads, optState, params);
      return { ok: true as const, lossV, boundV, params: applyUpdates(params, updates), optState: nextOpt };
    });
    bound = null;
    if (out.ok) {
      params = out.params;
      optState = out.optState;
      consecutive = 0;
      sumLoss += out.lossV;
      sumBound += out.boundV;
      nSum++;
    } else {
      const s = { step, loss: out.lossV };
      nonFinite.push(s);
      opts.onNonFinite?.(s);
      if (opts.onNonFinite === undefined && report !== undefined) process.stderr.write(`trainVAE: skipped step ${step}: non-finite ${Number.isFinite(out.lossV) ? 'gradient' : `loss (${out.lossV})`}\n`);
      if (++consecutive >= maxConsecutiveNonFinite)
        throw new VarinfError(
          `trainVAE: the loss or its gradient was NaN or infinite for ${consecutive} steps in a row (steps ${step - consecutive + 1}–${step}, the first skipped step of the run was ${nonFinite[0].step}); the learning rate may be too high. The state before step ${step - consecutive + 1} is unchanged.`,
        );
    }
    step++;
    images += batch.size;
    trainMs += performance.now() - ts;
    if (report !== undefined && (step % logEvery === 0 || step === steps)) {
      const p: TrainProgress = { step, steps, loss: sumLoss / Math.max(1, nSum), bound: sumBound / Math.max(1, nSum), beta: b, imagesPerSecond: (images * 1000) / trainMs, seconds: (performance.now() - t0) / 1000 };
      history.push({ step, loss: p.loss, bound: p.bound, beta: b });
      report(p);
      sumLoss = sumBound = nSum = 0;
    } else if (report === undefined && step % logEvery === 0) {
      history.push({ step, loss: sumLoss / Math.max(1, nSum), bound: sumBound / Math.max(1, nSum), beta: b });
      sumLoss = sumBound = nSum = 0;
    }
    if (ckpt !== undefined && step % ckpt.every === 0) saveTrainState(ckpt.path, { params, optState, step }, { config: JSON.stringify(model.config), ...ckpt.metadata });
    // Give the event loop a turn now and then (timers, signals, I/O).
    if (performance.now() - lastYield > 50) {
      await new Promise<void>((r) => setImmediate(r));
      lastYield = performance.now();
    }
  }
  const final = { params, optState, step };
  if (ckpt !== undefined && step % ckpt.every !== 0) saveTrainState(ckpt.path, final, { config: JSON.stringify(model.config), ...ckpt.metadata });
  const seconds = (performance.now() - t0) / 1000;
  return { state: final, history, nonFinite, seconds, imagesPerSecond: trainMs > 0 ? (images * 1000) / trainMs : 0, aborted };
}

function progressLine(p: TrainProgress): string {
  const w = 24;
  const f = Math.round((w * p.step) / Math.max(1, p.steps));
  return `[${'#'.repeat(f)}${'.'.repeat(w - f)}] step ${p.step}/${p.steps}  loss ${p.loss.toFixed(2)}  bound ${p.bound.toFixed(2)}  β ${p.beta.toFixed(2)}  ${p.imagesPerSecond.toFixed(0)} img/s\n`;
}

/**
 * Whether every element of every gradient is finite, from one sum per leaf: a sum is NaN or ±Inf
 * when any element is (or, harmlessly, when finite elements overflow).
 */
function gradsFinite(grads: unknown): boolean {
  for (const g of leaves(grads)) if (!Number.isFinite(sum(g).item())) return false;
  return true;
}
