/**
 * The compiled training step of `trainLoop`: the loss, its gradient and the optimizer update
 * traced once (`compile`) and replayed as generated code and native calls (fused loops over the
 * parameters, matrix products in Rust) over two sets of state buffers, so a step allocates no
 * tensors and a rejected (non-finite) step leaves the state as it was.
 *
 * The batch's pixels and labels and the step's hyper-parameters (`h`: β, τ, ...) are traced
 * inputs, refilled in place each step. The step number and the batch's other fields would be fixed
 * at trace time, so they are guarded: the batch's indices, epoch and index throw while tracing,
 * and the verification trace runs with the next step's number, so a loss whose graph depends on
 * the step fails to compile (and trainLoop runs it eagerly) instead of replaying a stale graph.
 */
import { valueAndGrad } from '../../core/autodiff.js';
import type { TypedArray } from '../../core/dtype.js';
import { hostView, type Tensor } from '../../core/tensor.js';
import { tensor } from '../../ops/creation.js';
import { neg } from '../../ops/elementwise.js';
import { compile } from '../../compile/compile.js';
import { CompileError } from '../../compile/errors.js';
import { ValueError } from '../../core/errors.js';
import { leaves } from '../../core/tree.js';
import { CompiledLoop, type LoopAccept } from '../../compile/loop.js';
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

/** A compiled step over batches of one size. */
export class CompiledStep<P> {
  private readonly loop: CompiledLoop<StepState<P>, Extra>;
  private readonly x: TypedArray;
  private readonly labels: TypedArray;
  private readonly hNames: string[];
  private readonly hArrays: TypedArray[];
  /** The batch size it was traced for. */
  readonly batchSize: number;
  private readonly record = new Float64Array(1);
  /** Loss and bound of the last step. */
  loss = NaN;
  bound = NaN;

  constructor(loss: StepLossFn<P>, optimizer: GradientTransformation, state: StepState<P>, template: Batch, baseKey: Key, step: number, h: Record<string, number>) {
    const xT = tensor(template.x.dataSync(), template.x.shape, template.x.dtype);
    const lT = tensor(template.labels.dataSync(), template.labels.shape, template.labels.dtype);
    // Hyper-parameters as 0-d tensors of the parameters' dtype (what a JS number would become).
    const dtype = leaves(state.params).find((t) => t.dtype !== 'int32')?.dtype ?? 'float64';
    this.hNames = Object.keys(h);
    const hT: Record<string, Tensor> = {};
    for (const n of this.hNames) hT[n] = tensor([h[n]], [], dtype);
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
    try {
      this.loop = new CompiledLoop(fn, state, baseKey, { x: xT, labels: lT, h: hT });
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
    this.x.set(hostView(batch.x));
    this.labels.set(hostView(batch.labels));
    for (let i = 0; i < this.hNames.length; i++) {
      const v = h[this.hNames[i]];
      if (typeof v !== 'number') throw new ValueError(`trainLoop: hyper(${s}) has no number '${this.hNames[i]}' (got ${String(v)}); it must give the same names at every step`);
      this.hArrays[i][0] = v;
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
