/**
 * Data-parallel SVI: every rank computes the ELBO gradient on its share of the minibatch, the
 * gradients (with the loss) are all-reduced in one call, and every rank applies the same optimizer
 * update, so the parameters stay identical on all ranks without being sent again.
 */
import { valueAndGrad } from '../core/autodiff.js';
import { getValidateArgs, setValidateArgs } from '../distributions/distribution.js';
import { ValueError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import { slice } from '../ops/shape.js';
import { AutoGuide } from '../infer/autoguide.js';
import { particleNesting } from '../infer/nesting.js';
import type { SVI, SVIState } from '../infer/svi.js';
import { applyUpdates } from '../optim/transform.js';
import { seed, trace } from '../ppl/handlers.js';
import { subsampleIndices } from '../ppl/primitives.js';
import { withHandler, type Message, type ModelFn } from '../ppl/runtime.js';
import { foldIn, split, type Key } from '../random/key.js';
import type { Communicator } from './communicator.js';
import { DistributedError } from './errors.js';
import { agreeOnSignature, broadcastParams } from './agree.js';
import { allReduceStep, CompiledGradient, type CompileStatus } from './reduce.js';

/** Options of {@link DataParallelSVI}. */
export interface DataParallelOptions {
  /**
   * How the ranks draw (default 'shared'): with 'shared', every rank uses the step key
   * `foldIn(key, step)` for the latent draws, and a subsampled plate of local size B draws one
   * global subsample of size·B indices from it, of which rank r takes block r: the ranks' batches
   * are disjoint and their union is the batch one process with subsample size·B would draw, so
   * the step equals that process's step (to float rounding) for models whose latents are global.
   * With 'perRank', rank r draws everything (subsample and latents) with `foldIn(stepKey, r)`:
   * independent estimates whose mean has size× the particles of one.
   */
  keys?: 'shared' | 'perRank';
  /**
   * Compile the loss-and-gradient function (default true): traced once per input signature and
   * replayed, the all-reduce and the optimizer update outside it (subsampled plates included: the
   * subsample is drawn inside the step). A model that cannot be traced (host reads of latent
   * values) runs eagerly; `compiled` says which and why.
   */
  compile?: boolean;
}

/**
 * SVI over a {@link Communicator}: `init` checks that all ranks have the same parameters (names
 * and shapes; a disagreement raises a `DistributedError` naming the rank and the parameter) and
 * broadcasts rank 0's values; `update` takes one step: local loss and gradient, one all-reduce
 * of [gradients…, loss, failure flag] (the bucket), the optimizer update on every rank. A step
 * that raises on one rank raises a `DistributedError` naming that rank and its error on every
 * rank (the failure rides in the same all-reduce, so no rank waits forever).
 * The loss and gradient run compiled where the model can be traced; `compiled` says which.
 * @example
 * const comm = communicator();
 * const dp = new DataParallelSVI(new SVI(model, new AutoNormal(model), adam(0.01), new TraceELBO()), comm);
 * let state = dp.init(key(0), x, y);
 * for (let t = 0; t < 1000; t++) state = dp.update(state, x, y).state;
 */
export class DataParallelSVI<A extends unknown[]> {
  private readonly keys: 'shared' | 'perRank';
  private maxPlateNesting = 0;
  private readonly grad: CompiledGradient<[Record<string, Tensor>, Key, A], Record<string, Tensor>>;

  constructor(
    /** The SVI whose model, guide, optimizer and loss each rank runs. */
    readonly svi: SVI<A>,
    /** The ranks. */
    readonly comm: Communicator,
    opts: DataParallelOptions = {},
  ) {
    this.keys = opts.keys ?? 'shared';
    // host-side argument checks cannot be traced (SVI's compiled loop turns them off too); a
    // non-finite result is recomputed eagerly, which validates and names the site
    const unvalidated = <T>(f: () => T): T => {
      const prev = getValidateArgs();
      setValidateArgs(false);
      try {
        return f();
      } finally {
        setValidateArgs(prev);
      }
    };
    this.grad = new CompiledGradient((u, k, args) => this.eagerGradient(u, k, args), opts.compile !== false, unvalidated);
  }

  /** Whether the loss and gradient run compiled: null before the first step; `reason` says why not. */
  get compiled(): CompileStatus | null {
    return this.grad.compiled;
  }

  /** This rank's key for its own randomness (data shuffling, augmentation): `foldIn(k, rank)`. */
  rankKey(k: Key): Key {
    return foldIn(k, this.comm.rank);
  }

  /**
   * `SVI.init` on every rank, then the agreement check and rank 0's parameters broadcast (the
   * optimizer state is initialized from them, so it is the same everywhere).
   */
  init(k: Key, ...args: A): SVIState {
    const st = this.svi.init(k, ...args);
    const g = this.svi.guide;
    this.maxPlateNesting = g instanceof AutoGuide ? g.maxPlateNesting : particleNesting(trace(seed(this.svi.model, split(k, 3)[0])).getTrace(...args));
    agreeOnSignature(this.comm, 'DataParallelSVI.init', st.params);
    const params = broadcastParams(this.comm, st.params);
    return { params, optState: this.svi.optim.init(params), step: 0, key: st.key };
  }

  /** Wraps a model or guide so that subsampled plates take this rank's block of the global subsample. */
  private sliced(fn: ModelFn<A>): ModelFn<A> {
    const { rank, size } = this.comm;
    if (this.keys === 'perRank' || size === 1) return fn;
    return (...args: A) => {
      const drawn = new WeakSet<Message>();
      return withHandler(
        {
          process: (m) => {
            if (m.type === 'plate' && m.value === null) drawn.add(m);
          },
          postprocess: (m) => {
            if (!drawn.has(m) || m.value === null || m.key === null) return;
            // the plate drew B indices of its size N; replace them by block `rank` of size·B drawn from the same key
            const B = m.value.size;
            const N = plateSize(m);
            if (size * B > N) throw new ValueError(`DataParallelSVI: plate '${m.name}': ${size} ranks × subsample ${B} = ${size * B} rows exceed the plate's size ${N}; lower subsampleSize`);
            // tensor ops only, so the step still compiles (the subsample is drawn inside it)
            m.value = slice(subsampleIndices(m.key, N, size * B), [rank * B], [B]);
          },
        },
        () => fn(...args),
      );
    };
  }

  /**
   * One data-parallel step from `state` on this rank's `args`; returns the new state (the same on
   * every rank) and the loss averaged over the ranks.
   */
  update(state: SVIState, ...args: A): {
    /** The state after the step (the same on every rank). */
    state: SVIState;
    /** The loss (−ELBO estimate) at the state passed in, averaged over the ranks. */
    loss: number;
  } {
    const { comm, svi } = this;
    const stepKey = foldIn(state.key, state.step);
    const k = this.keys === 'perRank' ? foldIn(stepKey, comm.rank) : stepKey;
    const { grads, loss } = allReduceStep(comm, 'DataParallelSVI', state.step, state.params, () => this.grad.run(state.params, k, args));
    const [updates, optState] = svi.optim.update(grads, state.optState, state.params);
    const params = applyUpdates(state.params, updates);
    return { state: { params, optState, step: state.step + 1, key: state.key }, loss };
  }

  /** The loss and gradient at unconstrained parameters `u`, eagerly (the reference the compiled step replays). */
  private eagerGradient(u: Record<string, Tensor>, k: Key, args: A): [Tensor, Record<string, Tensor>] {
    const { svi } = this;
    const guide = svi.guide instanceof AutoGuide ? svi.guide.guide : svi.guide;
    const lossFn = (v: Record<string, Tensor>): Tensor =>
      svi.loss.evaluate({ model: this.sliced(svi.model), guide: this.sliced(guide), args, params: svi.getParams({ params: v, optState: [], step: 0, key: k }), key: k, maxPlateNesting: this.maxPlateNesting }).loss;
    return valueAndGrad(lossFn)(u) as [Tensor, Record<string, Tensor>];
  }
}

/** The full size of the plate that sent message `m` (the plate puts it in `infer.size`). */
function plateSize(m: Message): number {
  const n = m.infer.size;
  if (typeof n === 'number') return n;
  throw new DistributedError(`DataParallelSVI: plate '${m.name}': its message does not carry the plate's size`);
}
