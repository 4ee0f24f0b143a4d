/**
 * The compiled training step of `trainLoop`: the loss, its gradient and the optimizer update
 * traced once (`compile`) and replayed as generated code and native calls (fused loops over the
 * parameters, matrix products in Rust) over two sets of state buffers, so a step allocates no
 * tensors and a rejected (non-finite) step leaves the state as it was.
 *
 * The batch's pixels and labels and the step's hyper-parameters (`h`: β, τ, ...) are traced
 * inputs, refilled in place each step (on a device, passed as each step's storage). On the cuda
 * device the same step replays as backend calls over preallocated device buffers
 * (ts/compile/device-plan.ts). The step number and the batch's other fields would be fixed
 * at trace time, so they are guarded: the batch's indices, epoch and index throw while tracing,
 * and the verification trace runs with the next step's number, so a loss whose graph depends on
 * the step fails to compile (and trainLoop runs it eagerly) instead of replaying a stale graph.
 */
import { valueAndGrad } from '../../core/autodiff.js';
import { allocArray, type DType, type TypedArray } from '../../core/dtype.js';
import { ENGINE } from '../../core/engine.js';
import type { Backend } from '../../backends/backend.js';
import { hostView, type Tensor } from '../../core/tensor.js';
import { neg } from '../../ops/elementwise.js';
import { compile } from '../../compile/compile.js';
import { CompileError } from '../../compile/errors.js';
import { ValueError } from '../../core/errors.js';
import { leaves } from '../../core/tree.js';
import { CompiledLoop, treeTensors, type LoopAccept } from '../../compile/loop.js';
import type { Batch } from '../../data/loader.js';
import { applyUpdates, type GradientTransformation } from '../../optim/transform.js';
import { finiteFlag } from '../../optim/clip.js';
import type { Key } from '../../random/key.js';
import type { StepLoss, StepLossFn } from './loop.js';

interface Extra {
  x: Tensor;
  labels: Tensor;
  h: Record<string, Tensor>;
}

interface StepState<P> {
  params: P;
  optState: unknown;
}

/** Accepts a step whose loss (scalar 0) is finite and whose gradient flag (scalar 2) is 0. */
const ACCEPT: LoopAccept = { finite: [0], zero: [2] };

/** The batch a traced loss sees: its pixels and labels as inputs; what changes per step throws. */
function tracedBatch(size: number, x: Tensor, labels: Tensor): Batch {
  const fixed = (field: string) => (): never => {
    throw new CompileError(`a compiled loss may read batch.x, batch.labels and batch.size, not batch.${field} (it changes from step to step)`);
  };
  const b = { x, labels, size } as Batch;
  for (const f of ['indices', 'epoch', 'index']) Object.defineProperty(b, f, { get: fixed(f), enumerable: true });
  return b;
}

/** A tensor's storage on `b`'s device (uploaded when it lives elsewhere). */
function storageOn(b: Backend, t: Tensor): unknown {
  return t.backend.device === b.device ? t.live().data : b.upload(hostView(t));
}

/** A compiled step over batches of one size. */
export class CompiledStep<P> {
  private readonly loop: CompiledLoop<StepState<P>, Extra>;
  private readonly x: TypedArray;
  private readonly labels: TypedArray;
  private readonly hNames: string[];
  private readonly hArrays: TypedArray[];
  private readonly hDtype: DType;
  /** The device backend when the parameters live on one (null on the cpu device), and where its extra inputs sit. */
  private readonly device: Backend | null = null;
  private readonly xAt: number = -1;
  private readonly labelsAt: number = -1;
  private readonly hAt: number[] = [];
  /** The batch size it was traced for. */
  readonly batchSize: number;
  private readonly record = new Float64Array(1);
  /** Loss and bound of the last step. */
  loss = NaN;
  bound = NaN;

  constructor(loss: StepLossFn<P>, optimizer: GradientTransformation, state: StepState<P>, template: Batch, baseKey: Key, step: number, h: Record<string, number>) {
    // The step's inputs live where the parameters do.
    const ps = leaves(state.params);
    const backend = ps.length > 0 ? ps[0].backend : ENGINE.backend;
    const on = (data: TypedArray, shape: readonly number[]): Tensor => ENGINE.fromArray(data, shape.slice(), backend);
    const xT = on(template.x.dataSync(), template.x.shape);
    const lT = on(template.labels.dataSync(), template.labels.shape);
    // Hyper-parameters as 0-d tensors of the parameters' dtype (what a JS number would become).
    const dtype = ps.find((t) => t.dtype !== 'int32')?.dtype ?? 'float64';
    this.hDtype = dtype;
    this.hNames = Object.keys(h);
    const hT: Record<string, Tensor> = {};
    for (const n of this.hNames) hT[n] = on(allocArray(dtype, 1).fill(h[n]), []);
    // The loop reads these arrays in place: refilling them feeds the next batch.
    this.x = xT.live().data as TypedArray;
    this.labels = lT.live().data as TypedArray;
    this.hArrays = this.hNames.map((n) => hT[n].live().data as TypedArray);
    this.batchSize = template.size;
    let traceStep = step;
    const fn = compile((st: StepState<P>, k: Key, ex: Extra): unknown[] => {
      let out: StepLoss | null = null;
      const s = traceStep++;
      const [lossT, grads] = valueAndGrad((p: P): Tensor => {
        out = loss(p, tracedBatch(template.size, ex.x, ex.labels), k, s, ex.h);
        return out.loss;
      })(st.params);
      const [updates, optState] = optimizer.update(grads, st.optState, st.params);
      const bound = (out as StepLoss | null)?.bound ?? neg(lossT);
      return [{ params: applyUpdates(st.params, updates), optState }, lossT, bound, finiteFlag([lossT, grads])];
    });
    const extra = { x: xT, labels: lT, h: hT };
    if (backend.device !== 'cpu') {
      // A device loop takes each step's batch and hyper-parameters as new storage (setInput).
      this.device = backend;
      const flat = treeTensors(extra);
      this.xAt = flat.indexOf(xT);
      this.labelsAt = flat.indexOf(lT);
      this.hAt = this.hNames.map((n) => flat.indexOf(hT[n]));
    }
    try {
      this.loop = new CompiledLoop(fn, state, baseKey, extra);
    } catch (e) {
      if (e instanceof CompileError && e.message.includes('different graph'))
        throw new CompileError(`the loss records different graphs at steps ${step} and ${step + 1}: it reads the step number (pass schedules of the step as hyper-parameters) or something else that changes between calls`);
      throw e;
    }
  }

  /**
   * Runs step `s` (key `foldIn(baseKey, s)`) on `batch`; returns false, with the state unchanged,
   * when the loss or a gradient is not finite.
   */
  step(batch: Batch, baseKey: Key, s: number, h: Record<string, number>): boolean {
    const dev = this.device;
    if (dev === null) {
      this.x.set(hostView(batch.x));
      this.labels.set(hostView(batch.labels));
    } else {
      this.loop.setInput(this.xAt, storageOn(dev, batch.x));
      this.loop.setInput(this.labelsAt, storageOn(dev, batch.labels));
    }
    for (let i = 0; i < this.hNames.length; i++) {
      const v = h[this.hNames[i]];
      if (typeof v !== 'number') throw new ValueError(`trainLoop: hyper(${s}) has no number '${this.hNames[i]}' (got ${String(v)}); it must give the same names at every step`);
      if (dev === null) this.hArrays[i][0] = v;
      else this.loop.setInput(this.hAt[i], dev.upload(allocArray(this.hDtype, 1).fill(v)));
    }
    const ok = this.loop.run(baseKey, s, 1, ACCEPT, this.record, 0) === 1;
    this.loss = this.loop.scalars[0];
    this.bound = this.loop.scalars[1];
    return ok;
  }

  /** The current state as fresh tensors. */
  state(): StepState<P> {
    return this.loop.state();
  }

  /** Replaces the current state (after an eager step). */
  setState(state: StepState<P>): void {
    this.loop.setState(state);
  }
}
