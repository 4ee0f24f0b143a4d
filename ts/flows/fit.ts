/**
 * Density estimation with a flow: maximum likelihood by minibatch Adam, with early stopping on a
 * validation split (the best epoch's parameters are returned). The step (loss, gradient, update)
 * is compiled once per batch shape; the last partial batch of an epoch is dropped.
 */
import { valueAndGrad } from '../core/autodiff.js';
import { ShapeError, ValueError, VarinfError, fmtShape } from '../core/errors.js';
import { tidy, keep } from '../core/memory.js';
import type { Tensor } from '../core/tensor.js';
import { leaves } from '../core/tree.js';
import { compile } from '../compile/compile.js';
import { neg } from '../ops/elementwise.js';
import { mean, sum } from '../ops/reduce.js';
import { gather } from '../ops/shape.js';
import { adam } from '../optim/alias.js';
import { applyUpdates, type GradientTransformation } from '../optim/transform.js';
import { foldIn, key as makeKey, type Key } from '../random/key.js';
import { uniform } from '../random/samplers.js';
import { indicesLike } from '../bijectors/transform.js';
import type { Flow } from './flow.js';

/** Options of {@link fitFlow}. */
export interface FitFlowOptions {
  /** Rows per step; default 256. */
  batchSize?: number;
  /** Most passes over the training rows; default 100. */
  epochs?: number;
  /** A fraction of the rows held out (default 0.1), or a validation set [m, d]. */
  validation?: number | Tensor;
  /** Context rows of a validation set given as a tensor (conditional flows). */
  validationContext?: Tensor;
  /** Stop after this many epochs without a better validation loss; default 10. */
  patience?: number;
  /** Adam's learning rate when no optimizer is given; default 1e-3. */
  lr?: number;
  /** The optimizer of the steps; default `adam(lr)`. */
  optimizer?: GradientTransformation;
  /** Randomness for the split, the initialization and the shuffles; default key(0). */
  key?: Key;
  /** Starting parameters (default `flow.init`, in the data's dtype). */
  params?: unknown[];
  /** Context [n, c], one row per data row, for a conditional flow. */
  context?: Tensor;
  /** Compile the step (default true); a step that cannot be traced runs eagerly. */
  compile?: boolean;
  /** Called after every epoch. */
  onEpoch?: (epoch: number, trainLoss: number, valLoss: number) => void;
  /** Checked before each epoch: once aborted, training stops and the result so far is returned (no error). */
  signal?: AbortSignal;
}

/** What {@link fitFlow} returns. Losses are negative mean log-likelihoods (nats per row). */
export interface FitFlowResult {
  /** The parameters of the epoch with the best validation loss. */
  params: unknown[];
  /** The epoch (from 0) with the best validation loss; −1 when no epoch ran. */
  bestEpoch: number;
  /** That epoch's validation loss (Infinity when no epoch ran). */
  bestValLoss: number;
  /** The number of epochs run. */
  epochs: number;
  /** Whether training ended before `epochs` epochs (by `patience` or by `signal`). */
  stoppedEarly: boolean;
  /** The mean training loss of each epoch's steps, one entry per epoch. */
  trainLoss: number[];
  /** The validation loss after each epoch, one entry per epoch. */
  valLoss: number[];
  /** Whether the steps ran compiled to the end (false with `compile: false`, or when a step could not be traced and training went on eagerly). */
  compiled: boolean;
  /**
   * Wall time in all, and training rows per second over the steps alone (no validation, not the
   * first, compiling step), per wall second and per second of this process's CPU time (all its
   * threads; NaN where the process's CPU time cannot be read): on a shared machine the CPU figure is
   * the steadier one.
   */
  timings: {
    /** Wall time of the whole call, in ms. */
    totalMs: number;
    /** Wall time of the counted training steps (not the first, compiling step, nor validation), in ms. */
    trainMs: number;
    /** Training rows per wall second over the counted steps. */
    trainRowsPerSec: number;
    /** Training rows per second of this process's CPU time over the counted steps (NaN where it cannot be read). */
    trainCpuRowsPerSec: number;
  };
}

/**
 * The mean negative log-likelihood −(1/n)Σ log q(x_i) of the rows of `x` [n, d] (with their
 * context rows [n, c] for a conditional flow), evaluated in chunks of `chunk` rows.
 * @example const testNats = -flowNLL(f, r.params, test)
 */
export function flowNLL(flow: Flow, params: readonly unknown[], x: Tensor, context?: Tensor, chunk = 4096): number {
  const n = x.shape[0];
  let tot = 0;
  for (let s = 0; s < n; s += chunk) {
    const idx = Array.from({ length: Math.min(chunk, n - s) }, (_, i) => s + i);
    tot += tidy(() => {
      const xb = gather(x, indicesLike(idx, x), 0);
      const cb = context === undefined ? undefined : gather(context, indicesLike(idx, context), 0);
      return sum(flow.apply(params, cb).logProb(xb)).item();
    });
  }
  return -tot / n;
}

function shuffled(k: Key, n: number): number[] {
  const u = uniform(k, [n], { dtype: 'float64' }).dataSync();
  return Array.from({ length: n }, (_, i) => i).sort((a, b) => u[a] - u[b]);
}

/**
 * Fits `flow` to the rows of `data` [n, d] by maximum likelihood: minimizes −(1/B)Σ log q(x_i)
 * over minibatches with Adam, evaluates the validation loss after each epoch and stops when it
 * has not improved for `patience` epochs. Returns the best epoch's parameters and the loss traces.
 * A non-finite loss raises a VarinfError naming the epoch and step (the parameters are not updated).
 * Layers with a mode (batch norm) train in training mode and are validated, and left, in
 * evaluation mode with their statistics calibrated on the training rows.
 * @example
 * const f = new Flow([maf(2), permute(2), maf(2)]);
 * const r = fitFlow(f, moons, { batchSize: 128, epochs: 50, validation: 0.1 });
 * f.apply(r.params).logProb(test) // [m]
 */
export function fitFlow(flow: Flow, data: Tensor, opts: FitFlowOptions = {}): FitFlowResult {
  const t0 = performance.now();
  if (data.rank !== 2 || data.shape[1] !== flow.features) throw new ShapeError(`fitFlow: data must be [n, ${flow.features}], got ${fmtShape(data.shape)}`);
  if (data.dtype !== 'float32' && data.dtype !== 'float64') throw new ValueError(`fitFlow: data must be float32 or float64, got ${data.dtype}`);
  const { batchSize = 256, epochs = 100, patience = 10, lr = 1e-3, signal } = opts;
  for (const [name, v] of [['batchSize', batchSize], ['epochs', epochs], ['patience', patience]] as const)
    if (!Number.isInteger(v) || v < 1) throw new ValueError(`fitFlow: ${name} must be a positive integer, got ${v}`);
  const ctx = opts.context;
  if (flow.contextFeatures > 0 && ctx === undefined) throw new ShapeError(`fitFlow: the flow is conditional; pass opts.context [n, ${flow.contextFeatures}]`);
  if (ctx !== undefined && (ctx.rank !== 2 || ctx.shape[0] !== data.shape[0] || ctx.shape[1] !== flow.contextFeatures))
    throw new ShapeError(`fitFlow: context must be [${data.shape[0]}, ${flow.contextFeatures}], got ${fmtShape(ctx.shape)}`);
  const k = opts.key ?? makeKey(0);
  const n = data.shape[0];

  // The split: a held-out fraction of shuffled rows, or the given validation set.
  let train = data;
  let trainCtx = ctx;
  let val: Tensor;
  let valCtx: Tensor | undefined = opts.validationContext;
  const v = opts.validation ?? 0.1;
  if (typeof v === 'number') {
    if (!(v > 0 && v < 1)) throw new ValueError(`fitFlow: validation must be a fraction in (0, 1) or a tensor, got ${v}`);
    const order = shuffled(foldIn(k, 1), n);
    const m = Math.max(1, Math.round(v * n));
    const vi = indicesLike(order.slice(0, m), data);
    const ti = indicesLike(order.slice(m), data);
    val = gather(data, vi, 0);
    train = gather(data, ti, 0);
    if (ctx !== undefined) {
      valCtx = gather(ctx, vi, 0);
      trainCtx = gather(ctx, ti, 0);
    }
  } else {
    val = v;
    if (val.rank !== 2 || val.shape[1] !== flow.features) throw new ShapeError(`fitFlow: validation must be [m, ${flow.features}], got ${fmtShape(val.shape)}`);
    if (flow.contextFeatures > 0 && valCtx === undefined) throw new ShapeError('fitFlow: a validation tensor for a conditional flow needs opts.validationContext');
  }
  const nTrain = train.shape[0];
  const bs = Math.min(batchSize, nTrain);
  const steps = Math.floor(nTrain / bs);

  const optim = opts.optimizer ?? adam(lr);
  let params = opts.params ?? flow.init(foldIn(k, 2), data.dtype);
  let optState = optim.init(params);
  type State = { params: unknown[]; optState: unknown };
  const stepFn = (s: State, x: Tensor, c?: Tensor): [State, Tensor] => {
    const [loss, g] = valueAndGrad((p: unknown[]) => neg(mean(flow.apply(p, c).logProb(x))))(s.params);
    const [u, o] = optim.update(g, s.optState, s.params);
    return [{ params: applyUpdates(s.params, u), optState: o }, loss];
  };
  const useCompile = opts.compile ?? true;
  const compiled = useCompile ? compile(stepFn) : null;
  let compiledOk = compiled !== null;

  const trainLoss: number[] = [];
  const valLoss: number[] = [];
  let best = { params, loss: Infinity, epoch: -1 };
  let since = 0;
  let epoch = 0;
  let trainMs = 0;
  let trainRows = 0;
  let trainCpu = 0;
  flow.train();
  for (; epoch < epochs; epoch++) {
    if (signal?.aborted) break;
    const order = shuffled(foldIn(k, 100 + epoch), nTrain);
    let acc = 0;
    let e0 = performance.now();
    let c0 = cpuMs();
    for (let s = 0; s < steps; s++) {
      // The first step traces and compiles; throughput counts the steady steps after it.
      if (epoch === 0 && s === 1) {
        e0 = performance.now();
        c0 = cpuMs();
      }
      const idx = indicesLike(order.slice(s * bs, (s + 1) * bs), train);
      const xb = gather(train, idx, 0);
      const cb = trainCtx === undefined ? undefined : gather(trainCtx, idx, 0);
      let out: [State, Tensor];
      if (compiledOk && compiled !== null) {
        try {
          out = cb === undefined ? compiled({ params, optState }, xb) : compiled({ params, optState }, xb, cb);
        } catch (e) {
          // A flow that cannot be traced (a host read in a layer) trains eagerly instead.
          if (!(e instanceof Error) || !/compile|trac/i.test(`${e.name} ${e.message}`)) throw e;
          compiledOk = false;
          out = tidy(() => keepOut(stepFn({ params, optState }, xb, cb)));
        }
      } else out = tidy(() => keepOut(stepFn({ params, optState }, xb, cb)));
      const l = out[1].item();
      if (!Number.isFinite(l)) throw new VarinfError(`fitFlow: the loss is ${l} at epoch ${epoch}, step ${s}; the parameters were not updated (lower lr, or bound the scales: affineCoupling's scaleBound)`);
      params = out[0].params;
      optState = out[0].optState;
      acc += l;
    }
    trainMs += performance.now() - e0;
    trainCpu += cpuMs() - c0;
    trainRows += (epoch === 0 && steps > 1 ? steps - 1 : steps) * bs;
    const tl = acc / steps;
    const vl = validationLoss(flow, params, train, trainCtx, val, valCtx);
    trainLoss.push(tl);
    valLoss.push(vl);
    opts.onEpoch?.(epoch, tl, vl);
    if (vl < best.loss) {
      best = { params, loss: vl, epoch };
      since = 0;
    } else if (++since >= patience) {
      epoch++;
      break;
    }
  }
  // Batch-norm layers end in evaluation mode with the best parameters' training-set statistics.
  if (flow.hasStatistics && best.epoch >= 0) flow.calibrate(best.params, train, trainCtx);
  flow.eval();
  const totalMs = performance.now() - t0;
  return {
    params: best.params,
    bestEpoch: best.epoch,
    bestValLoss: best.loss,
    epochs: epoch,
    stoppedEarly: epoch < epochs,
    trainLoss,
    valLoss,
    compiled: compiledOk,
    timings: { totalMs, trainMs, trainRowsPerSec: trainRows / (trainMs / 1000), trainCpuRowsPerSec: trainRows / (trainCpu / 1000) },
  };
}

/**
 * The validation loss in evaluation mode; a flow with batch-norm layers first has their statistics
 * set from the training rows under the current parameters. The flow is left in training mode.
 */
function validationLoss(flow: Flow, params: unknown[], train: Tensor, trainCtx: Tensor | undefined, val: Tensor, valCtx: Tensor | undefined): number {
  if (flow.hasStatistics) flow.calibrate(params, train, trainCtx);
  flow.eval();
  try {
    return flowNLL(flow, params, val, valCtx);
  } finally {
    flow.train();
  }
}

/** This process's user + system CPU time in ms (NaN outside Node). */
function cpuMs(): number {
  const p = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }).process;
  if (p?.cpuUsage === undefined) return NaN;
  const u = p.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Keeps every tensor of a step's result alive past its tidy scope. */
function keepOut<S>(o: [S, Tensor]): [S, Tensor] {
  for (const t of leaves(o)) keep(t);
  return o;
}
