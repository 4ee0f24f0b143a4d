/**
 * The compiled training step of `trainLoop`: the loss, its gradient and the optimizer update
 * traced once (`compile`) and replayed as generated code and native calls (fused loops over the
 * parameters, matrix products in Rust) over two sets of state buffers, so a step allocates no
 * tensors and a rejected (non-finite) step leaves the state as it was.
 *
 * The batch's pixels and labels are traced inputs, refilled in place each step; its other fields
 * (indices, epoch) and the step number are fixed at trace time, so a loss that reads them (a KL
 * schedule of the step, say) must not be compiled.
 */
import { valueAndGrad } from '../../core/autodiff.js';
import type { TypedArray } from '../../core/dtype.js';
import { hostView, type Tensor } from '../../core/tensor.js';
import { tensor } from '../../ops/creation.js';
import { neg } from '../../ops/elementwise.js';
import { compile } from '../../compile/compile.js';
import { CompiledLoop } from '../../compile/loop.js';
import type { Batch } from '../../data/loader.js';
import { applyUpdates, type GradientTransformation } from '../../optim/transform.js';
import { finiteFlag } from '../../optim/clip.js';
import type { Key } from '../../random/key.js';
import type { StepLoss, StepLossFn } from './loop.js';

interface StepState<P> {
  params: P;
  optState: unknown;
}

/** Accepts a step whose loss (scalar 0) is finite and whose gradient flag (scalar 2) is 0. */
const finiteScalars = (sc: Float64Array): boolean => sc[0] - sc[0] === 0 && sc[2] === 0;

/** A compiled step over batches of one size. */
export class CompiledStep<P> {
  private readonly loop: CompiledLoop<StepState<P>, { x: Tensor; labels: Tensor }>;
  private readonly x: TypedArray;
  private readonly labels: TypedArray;
  /** The batch size it was traced for. */
  readonly batchSize: number;
  /** Loss and bound of the last step. */
  loss = NaN;
  bound = NaN;

  constructor(loss: StepLossFn<P>, optimizer: GradientTransformation, state: StepState<P>, template: Batch, baseKey: Key, step: number) {
    const xT = tensor(template.x.dataSync(), template.x.shape, template.x.dtype);
    const lT = tensor(template.labels.dataSync(), template.labels.shape, template.labels.dtype);
    // The loop reads these arrays in place: refilling them feeds the next batch.
    this.x = xT.live().data as TypedArray;
    this.labels = lT.live().data as TypedArray;
    this.batchSize = template.size;
    const fn = compile((st: StepState<P>, k: Key, ex: { x: Tensor; labels: Tensor }): unknown[] => {
      let out: StepLoss | null = null;
      const [lossT, grads] = valueAndGrad((p: P): Tensor => {
        out = loss(p, { ...template, x: ex.x, labels: ex.labels }, k, step);
        return out.loss;
      })(st.params);
      const [updates, optState] = optimizer.update(grads, st.optState, st.params);
      const bound = (out as StepLoss | null)?.bound ?? neg(lossT);
      return [{ params: applyUpdates(st.params, updates), optState }, lossT, bound, finiteFlag([lossT, grads])];
    });
    this.loop = new CompiledLoop(fn, state, baseKey, { x: xT, labels: lT });
  }

  /**
   * Runs step `s` (key `foldIn(baseKey, s)`) on `batch`; returns false, with the state unchanged,
   * when the loss or a gradient is not finite.
   */
  step(batch: Batch, baseKey: Key, s: number): boolean {
    this.x.set(hostView(batch.x));
    this.labels.set(hostView(batch.labels));
    const ok = this.loop.step(baseKey, s, finiteScalars);
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
