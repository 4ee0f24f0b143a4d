/**
 * The generic training loop of amortized models (VAEs and their descendants): minibatches from a
 * `MinibatchLoader`, noise from `foldIn(key, step)`, one optimizer step per batch. Step s reads
 * batch s mod (batches per epoch) of epoch ⌊s / batches per epoch⌋, so a run resumed from a
 * checkpoint continues exactly as the uninterrupted run would have. A step whose loss or gradients
 * are NaN or ±Inf is skipped (the state is left untouched) and reported with its step number; too
 * many in a row stop the run with an error (a diverging learning rate).
 *
 * A model plugs in with a loss function `(params, batch, key, step, h) → { loss, bound?, aux? }`;
 * `afterStep` may update parameters outside the gradient (an EMA codebook, say) from `aux`.
 * Values that follow a schedule of the step (a KL weight β, a temperature τ) come from `hyper`
 * as `h`, so a compiled step reads them as inputs instead of freezing them at trace time.
 */
import { valueAndGrad } from '../../core/autodiff.js';
import { VarinfError, ValueError } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { tidy } from '../../core/memory.js';
import { leaves } from '../../core/tree.js';
import { sum } from '../../ops/reduce.js';
import type { Batch, MinibatchLoader } from '../../data/loader.js';
import { adam } from '../../optim/alias.js';
import { applyUpdates, type GradientTransformation } from '../../optim/transform.js';
import { foldIn, type Key } from '../../random/key.js';
import { saveTrainState, type TrainState } from './checkpoint.js';
import { CompiledStep } from './compiled-step.js';

/** One step's outcome: the loss, and when finite the bound and the new state. */
type StepOutcome<P> = { ok: false; lossV: number } | { ok: true; lossV: number; boundV: number; params: P; optState: unknown };

/** What `onProgress` is told every `logEvery` steps. */
export interface TrainProgress {
  /** Steps done so far (global, counting resumed ones). */
  step: number;
  /** The run's final step. */
  steps: number;
  /** Mean loss and mean bound (ELBO or L_k, per example) over the steps since the last report. */
  loss: number;
  /** Mean bound (per example, higher is better) over the same steps. */
  bound: number;
  /** The KL weight of the last step (1 where the model has none). */
  beta: number;
  /** Training throughput since the run (or resume) started. */
  imagesPerSecond: number;
  /** Wall-clock seconds since the run (or resume) started. */
  seconds: number;
}

/** A skipped step. */
export interface NonFiniteStep {
  /** The step (0-based, global) that was skipped. */
  step: number;
  /** The loss value (NaN, ±Inf, or finite when only a gradient was not). */
  loss: number;
}

/** What a model's loss function returns for one batch. */
export interface StepLoss {
  /** The scalar to minimize. */
  loss: Tensor;
  /** The bound to report (per example, higher is better); default −loss. */
  bound?: Tensor;
  /** Anything `afterStep` needs (tensors computed under the gradient are plain values there). */
  aux?: unknown;
}

/**
 * A step's hyper-parameters by name (`TrainLoopOptions.hyper`): numbers when the step runs
 * eagerly, 0-d tensors of the parameters' dtype (traced inputs) when it runs compiled.
 */
export type Hyper = Readonly<Record<string, number | Tensor>>;

/**
 * The loss of one step: parameters, the batch, this step's key `foldIn(key, step)`, the step, and
 * the step's hyper-parameters. A compiled step traces it once: it may read the batch's pixels
 * and labels and `h`, but not the step number or the batch's other fields.
 */
export type StepLossFn<P> = (params: P, batch: Batch, k: Key, step: number, h: Hyper) => StepLoss;

/** Options every training loop shares. */
export interface LoopOptions {
  /** Train until this many steps have been taken in total. */
  steps: number;
  /** Noise of step s: `foldIn(key, s)`. */
  key: Key;
  /** Default `adam(1e-3)`; it must be the one whose state `state.optState` is. */
  optimizer?: GradientTransformation;
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
  checkpoint?: {
    /** The safetensors file written (overwritten at each save). */
    path: string;
    /** Save every this many steps (and at the end). */
    every: number;
    /** Extra string metadata stored in the file. */
    metadata?: Record<string, string>;
  };
  /**
   * Run the step compiled (`compile`: traced once, replayed as generated code and native calls;
   * see compiled-step.ts); default true. The loss may read the batch's pixels and labels and the
   * hyper-parameters `h`; a loss that reads the step number or the batch's indices (checked by
   * tracing two steps) runs eagerly, as do models with `afterStep`. When the step cannot be
   * traced the loop runs eagerly and `TrainResult.compiled` says why.
   */
  compile?: boolean;
  /** Stops the run after the current step. */
  signal?: AbortSignal;
}

/** Options of `trainLoop`: the shared ones plus the model's loss. */
export interface TrainLoopOptions<P> extends LoopOptions {
  /** The model's loss for one batch. */
  loss: StepLossFn<P>;
  /** Parameter updates outside the gradient, after the optimizer's (e.g. EMA codebooks). */
  afterStep?: (params: P, aux: unknown, batch: Batch, step: number) => P;
  /**
   * The step's hyper-parameters (schedules of the step), passed to the loss as `h`; the one
   * named `beta` is reported as the KL weight (1 without it).
   */
  hyper?: (step: number) => Record<string, number>;
  /** The name errors and progress lines use; default 'trainLoop'. */
  name?: string;
  /** Model configuration stored in checkpoints' metadata. */
  config?: unknown;
  /** Required image size: the loader must give images of this many pixels. */
  xDim?: number;
}

/** What a training loop returns. */
export interface TrainResult<P = unknown> {
  /** The final parameters, optimizer state and step count, ready to save or resume. */
  state: TrainState<P>;
  /** One entry per report: the step and the mean loss and bound since the previous report. */
  history: {
    /** The step of the report. */
    step: number;
    /** Mean loss since the previous report. */
    loss: number;
    /** Mean bound (per example) since the previous report. */
    bound: number;
    /** The KL weight at the report. */
    beta: number;
  }[];
  /** The steps skipped because the loss or a gradient was not finite. */
  nonFinite: NonFiniteStep[];
  /** Wall-clock seconds of the run. */
  seconds: number;
  /** Training throughput: examples processed per second of step time. */
  imagesPerSecond: number;
  /** Whether the signal stopped the run early. */
  aborted: boolean;
  /** Whether the steps ran compiled, and if not (with `compile` on) why. */
  compiled: {
    /** True when the steps ran as compiled code. */
    used: boolean;
    /** Why the step was not compiled, when `compile` was on and it was not. */
    reason?: string;
  };
}

/**
 * Trains parameters `state.params` until `opts.steps` steps, on batches of `loader`, minimizing
 * `opts.loss`.
 * @example
 * const r = await trainLoop({ params, optState: opt.init(params), step: 0 }, loader, {
 *   steps: 1000, key: key(1), optimizer: opt,
 *   loss: (p, batch, k) => ({ loss: myLoss(p, batch.x, k) }),
 * });
 */
export async function trainLoop<P>(state: TrainState<P>, loader: MinibatchLoader, opts: TrainLoopOptions<P>): Promise<TrainResult<P>> {
  const { steps, key: baseKey, optimizer = adam(1e-3), logEvery = 100, maxConsecutiveNonFinite = 20, name = 'trainLoop' } = opts;
  if (!Number.isInteger(steps) || steps < 0) throw new ValueError(`${name}: steps must be a non-negative integer, got ${steps}`);
  if (opts.xDim !== undefined && loader.dim !== opts.xDim) throw new ValueError(`${name}: the loader gives images of ${loader.dim} pixels but the model takes ${opts.xDim}`);
  const ckpt = opts.checkpoint;
  if (ckpt !== undefined && !(Number.isInteger(ckpt.every) && ckpt.every >= 1)) throw new ValueError(`${name}: checkpoint.every must be a positive integer, got ${ckpt.every}`);
  const bpe = loader.batchesPerEpoch;
  let stepOut: StepLoss | null = null;
  const vg = valueAndGrad((p: P, batch: Batch, k: Key, s: number, h: Hyper): Tensor => {
    stepOut = opts.loss(p, batch, k, s, h);
    return stepOut.loss;
  });
  const noHyper: Record<string, number> = {};
  const hyperAt = (s: number): Record<string, number> => opts.hyper?.(s) ?? noHyper;
  const report = opts.onProgress ?? (opts.progress === true ? (p: TrainProgress) => process.stderr.write(progressLine(p)) : undefined);
  const meta = (): Record<string, string> => ({ ...(opts.config !== undefined ? { config: JSON.stringify(opts.config) } : {}), ...ckpt?.metadata });

  let { params, optState } = state;
  let step = state.step;
  const compiled: TrainResult['compiled'] = { used: false };
  let cstep: CompiledStep<P> | null = null;
  if (opts.compile !== false && step < steps) {
    if (opts.afterStep !== undefined) compiled.reason = `${name}: afterStep updates run eagerly`;
    else
      try {
        const template = loader.batch(Math.floor(step / bpe), step % bpe);
        cstep = new CompiledStep(opts.loss, optimizer, { params, optState }, template, baseKey, step, hyperAt(step));
        compiled.used = true;
      } catch (e) {
        compiled.reason = `${(e as Error).name}: ${(e as Error).message}`;
      }
  }
  /** Brings `params`/`optState` up to date from the compiled step's buffers. */
  let stale = false;
  const sync = (): void => {
    if (cstep !== null && stale) ({ params, optState } = cstep.state() as { params: P; optState: unknown });
    stale = false;
  };
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
  const eagerStep = (s: number, batch: Batch, h: Record<string, number>): StepOutcome<P> => {
    sync();
    const r0 = tidy(() => {
      const [lossT, grads] = vg(params, batch, foldIn(baseKey, s), s, h);
      const r = stepOut as StepLoss | null;
      const lossV = lossT.item();
      const boundV = r?.bound !== undefined ? r.bound.item() : -lossV;
      if (!Number.isFinite(lossV) || !gradsFinite(grads)) return { ok: false as const, lossV };
      const [updates, nextOpt] = optimizer.update(grads, optState, params);
      let next = applyUpdates(params, updates);
      if (opts.afterStep !== undefined) next = opts.afterStep(next, r?.aux, batch, s);
      return { ok: true as const, lossV, boundV, params: next, optState: nextOpt };
    });
    if (r0.ok && cstep !== null) cstep.setState({ params: r0.params, optState: r0.optState });
    return r0;
  };
  const compiledStep = (c: CompiledStep<P>, batch: Batch, s: number, h: Record<string, number>): StepOutcome<P> => {
    if (!c.step(batch, baseKey, s, h)) return { ok: false, lossV: c.loss };
    stale = true;
    return { ok: true, lossV: c.loss, boundV: c.bound, params, optState };
  };
  while (step < steps) {
    if (opts.signal?.aborted === true) {
      aborted = true;
      break;
    }
    const ts = performance.now();
    const h = hyperAt(step);
    const b = h.beta ?? 1;
    const batch = loader.batch(Math.floor(step / bpe), step % bpe);
    const s = step;
    const out = cstep !== null && batch.size === cstep.batchSize ? compiledStep(cstep, batch, s, h) : eagerStep(s, batch, h);
    stepOut = null;
    if (out.ok) {
      params = out.params;
      optState = out.optState;
      consecutive = 0;
      sumLoss += out.lossV;
      sumBound += out.boundV;
      nSum++;
    } else {
      const skipped = { step, loss: out.lossV };
      nonFinite.push(skipped);
      opts.onNonFinite?.(skipped);
      if (opts.onNonFinite === undefined && report !== undefined) process.stderr.write(`${name}: skipped step ${step}: non-finite ${Number.isFinite(out.lossV) ? 'gradient' : `loss (${out.lossV})`}\n`);
      if (++consecutive >= maxConsecutiveNonFinite)
        throw new VarinfError(
          `${name}: the loss or its gradient was NaN or infinite for ${consecutive} steps in a row (steps ${step - consecutive + 1}–${step}, the first skipped step of the run was ${nonFinite[0].step}); the learning rate may be too high. The state before step ${step - consecutive + 1} is unchanged.`,
        );
    }
    step++;
    images += batch.size;
    trainMs += performance.now() - ts;
    if (step % logEvery === 0 || (report !== undefined && step === steps)) {
      const p: TrainProgress = { step, steps, loss: sumLoss / Math.max(1, nSum), bound: sumBound / Math.max(1, nSum), beta: b, imagesPerSecond: (images * 1000) / trainMs, seconds: (performance.now() - t0) / 1000 };
      history.push({ step, loss: p.loss, bound: p.bound, beta: b });
      report?.(p);
      sumLoss = sumBound = nSum = 0;
    }
    if (ckpt !== undefined && step % ckpt.every === 0) {
      sync();
      saveTrainState(ckpt.path, { params, optState, step }, meta());
    }
    // Give the event loop a turn now and then (timers, signals, I/O).
    if (performance.now() - lastYield > 50) {
      await new Promise<void>((r) => setImmediate(r));
      lastYield = performance.now();
    }
  }
  sync();
  const final = { params, optState, step };
  if (ckpt !== undefined && step % ckpt.every !== 0) saveTrainState(ckpt.path, final, meta());
  const seconds = (performance.now() - t0) / 1000;
  return { state: final, history, nonFinite, seconds, imagesPerSecond: trainMs > 0 ? (images * 1000) / trainMs : 0, aborted, compiled };
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
