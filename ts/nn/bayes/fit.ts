/**
 * Minibatch training over in-memory arrays (regression and small classification sets): every
 * epoch a fresh permutation from `foldIn(key, epoch)`, one optimizer step per batch with noise
 * `foldIn(key, step)`, the step — loss, gradient and update — compiled once per batch shape
 * (`compile`) and replayed. A non-finite loss stops the run with an error naming the step; the
 * parameters given back are those before it.
 */
import { valueAndGrad } from '../../core/autodiff.js';
import { allocArray, type TypedArray } from '../../core/dtype.js';
import { ShapeError, ValueError, VarinfError, fmtShape } from '../../core/errors.js';
import { tidy } from '../../core/memory.js';
import type { Tensor } from '../../core/tensor.js';
import { compile } from '../../compile/compile.js';
import { permutation } from '../../data/loader.js';
import { tensor } from '../../ops/creation.js';
import { adam } from '../../optim/alias.js';
import { applyUpdates, type GradientTransformation } from '../../optim/transform.js';
import { foldIn, type Key } from '../../random/key.js';

/** The loss of one batch: parameters, inputs [b, ...], targets [b, ...], this step's key. */
export type BatchLoss<P> = (params: P, x: Tensor, y: Tensor, k: Key) => Tensor;

/** Options of `fitMinibatch`. */
export interface BayesFitOptions<P> {
  /** The scalar to minimize on one batch (e.g. `negElbo`, or MSE plus weight decay). */
  loss: BatchLoss<P>;
  /** Passes over the data. */
  epochs: number;
  /** Rows per batch; the last batch of an epoch may be smaller. */
  batchSize: number;
  /** Shuffling (`foldIn(key, 2³⁰ + epoch)`) and the steps' noise (`foldIn(key, step)`). */
  key: Key;
  /** Default `adam(1e-3)`. */
  optimizer?: GradientTransformation;
  /** Run the step compiled (default true). */
  compile?: boolean;
  /** Told the mean loss of every epoch. */
  onEpoch?: (epoch: number, meanLoss: number) => void;
}

/** What `fitMinibatch` returns. */
export interface BayesFitResult<P> {
  /** The trained parameters after the last step. */
  params: P;
  /** The optimizer's state after the last step, to resume training. */
  optState: unknown;
  /** Mean loss of every epoch. */
  losses: number[];
  /** Number of gradient steps taken (minibatches over all epochs). */
  steps: number;
  /** Wall-clock training time in seconds. */
  seconds: number;
}

/** Copies rows `idx[from..to)` of a row-major [n, ...] array into a new [to − from, ...] tensor. */
function rows(t: Tensor, data: TypedArray, idx: Int32Array, from: number, to: number): Tensor {
  const w = t.size / t.shape[0];
  const out = allocArray(t.dtype, (to - from) * w);
  for (let i = from; i < to; i++) out.set(data.subarray(idx[i] * w, idx[i] * w + w), (i - from) * w);
  return tensor(out, [to - from, ...t.shape.slice(1)], t.dtype);
}

/**
 * Trains `params` on (x, y) by minibatch gradient steps of `opts.loss`.
 * @example
 * const net = BayesMLP([d, 50, 1]);
 * const r = fitMinibatch(net.init(key(0)), x, y, {
 *   epochs: 40, batchSize: 32, key: key(1), optimizer: adam(1e-2),
 *   loss: (p, xb, yb, k) => negElbo(net, p, xb, yb, { key: k, datasetSize: n, logLik: gaussianLikelihood(0.1) }),
 * });
 */
export function fitMinibatch<P>(params: P, x: Tensor, y: Tensor, opts: BayesFitOptions<P>): BayesFitResult<P> {
  const { epochs, batchSize, key: k0, optimizer = adam(1e-3) } = opts;
  const n = x.shape[0];
  if (x.shape.length === 0 || y.shape.length === 0 || y.shape[0] !== n) throw new ShapeError(`fitMinibatch: x ${fmtShape(x.shape)} and y ${fmtShape(y.shape)} must have the same number of rows`);
  if (!(Number.isInteger(epochs) && epochs >= 0)) throw new ValueError(`fitMinibatch: epochs must be a non-negative integer, got ${epochs}`);
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new ValueError(`fitMinibatch: batchSize must be a positive integer, got ${batchSize}`);
  const step = (st: { params: P; opt: unknown }, xb: Tensor, yb: Tensor, k: Key): { params: P; opt: unknown; loss: Tensor } => {
    const [loss, g] = valueAndGrad((p: P) => opts.loss(p, xb, yb, k))(st.params);
    const [u, opt] = optimizer.update(g, st.opt, st.params);
    return { params: applyUpdates(st.params, u), opt, loss };
  };
  const run = opts.compile === false ? (st: { params: P; opt: unknown }, xb: Tensor, yb: Tensor, k: Key) => tidy(() => step(st, xb, yb, k)) : compile(step);
  const xd = x.dataSync();
  const yd = y.dataSync();
  let st = { params, opt: optimizer.init(params) as unknown };
  const losses: number[] = [];
  const idx = new Int32Array(n);
  let s = 0;
  const t0 = performance.now();
  for (let e = 0; e < epochs; e++) {
    permutation(foldIn(k0, (1 << 30) + e), n, idx);
    let tot = 0;
    for (let b = 0; b < n; b += batchSize) {
      const to = Math.min(n, b + batchSize);
      const out = run(st, rows(x, xd, idx, b, to), rows(y, yd, idx, b, to), foldIn(k0, s));
      const l = out.loss.item();
      if (!Number.isFinite(l)) throw new VarinfError(`fitMinibatch: the loss was ${l} at step ${s} (epoch ${e}); the learning rate may be too high. The parameters before that step are unchanged.`);
      tot += l * (to - b);
      st = { params: out.params, opt: out.opt };
      s++;
    }
    losses.push(tot / n);
    opts.onEpoch?.(e, tot / n);
  }
  return { params: st.params, optState: st.opt, losses, steps: s, seconds: (performance.now() - t0) / 1000 };
}
