/**
 * Data-parallel training of any differentiable loss over a pytree of parameters (a VAE, a Bayesian
 * network, a flow): each rank computes the loss and gradient on its shard of the global batch, one
 * all-reduce averages them, and every rank applies the same optimizer update. Checkpoints are
 * written by rank 0 and read back by every rank, so a restarted job continues the same trajectory.
 */
import { valueAndGrad } from '../core/autodiff.js';
import { ValueError, ShapeError, fmtShape } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { slice } from '../ops/shape.js';
import { applyUpdates, type GradientTransformation } from '../optim/transform.js';
import { foldIn, type Key } from '../random/key.js';
import { loadTrainState, saveTrainState, type TrainState } from '../models/vae/checkpoint.js';
import type { Communicator } from './communicator.js';
import { DistributedError } from './errors.js';
import { agreeOnSignature, broadcastParams, gatherStrings } from './agree.js';
import { allReduceStep, CompiledGradient, type CompileStatus } from './reduce.js';

/** Options of {@link DataParallelTrainer}. */
export interface DataParallelTrainerOptions<P, B extends unknown[]> {
  /**
   * This rank's loss on its shard: the mean over its rows of the per-row loss (plus any term the
   * same on every rank, such as a KL over N), so that the ranks' mean is the global batch's loss.
   * `key` is the step's key (see `keys`).
   */
  loss: (params: P, key: Key, ...shard: B) => Tensor;
  /** The optimizer every rank applies to the averaged gradient. */
  optimizer: GradientTransformation;
  /** The run's key: step s uses `foldIn(key, s)`, so a resumed run draws what the uninterrupted one would. */
  key: Key;
  /**
   * 'shared' (default): every rank gets the step key itself, so noise drawn for the whole global
   * batch and cut with {@link shardOf} gives each rank its rows of what one process would draw,
   * and the step equals one process's step on the global batch (to rounding). 'perRank':
   * `foldIn(stepKey, rank)`, independent noise per rank.
   */
  keys?: 'shared' | 'perRank';
  /** Compile the loss and gradient (default true); a loss that cannot be traced runs eagerly and `compiled` says why. */
  compile?: boolean;
}

/**
 * Block `comm.rank` of `comm.size` equal blocks of `t` along `axis` (default 0): the rank's rows
 * of a global batch, or of noise drawn for the global batch.
 * @example const eps = shardOf(comm, vae.noise(stepKey, 1, comm.size * B)[0], 1); // [1, B, d]
 */
export function shardOf(comm: Communicator, t: Tensor, axis = 0): Tensor {
  const ax = axis < 0 ? axis + t.shape.length : axis;
  if (!(ax >= 0 && ax < t.shape.length)) throw new ValueError(`shardOf: axis ${axis} is out of range for a tensor of shape ${fmtShape(t.shape)}`);
  const n = t.shape[ax];
  if (n % comm.size !== 0) throw new ShapeError(`shardOf: axis ${axis} of shape ${fmtShape(t.shape)} has ${n} rows, not a multiple of the ${comm.size} ranks`);
  const b = n / comm.size;
  const begin = t.shape.map((_, i) => (i === ax ? comm.rank * b : 0));
  const size = t.shape.map((d, i) => (i === ax ? b : d));
  return slice(t, begin, size);
}

/**
 * Data-parallel training over a {@link Communicator}. `init` checks that the ranks' parameters
 * agree (names, shapes, dtypes) and broadcasts rank 0's; `update` is one step (local loss and
 * gradient, one all-reduce of [gradients…, loss, failure flag], the same optimizer update on every
 * rank); `save` writes a checkpoint from rank 0 atomically and `load` resumes every rank from it.
 * @example
 * const vae = VAE({ xDim: 784, layers: [{ z: 20, hidden: [200] }] });
 * const dp = new DataParallelTrainer(comm, {
 *   key: key(1), optimizer: adam(1e-3),
 *   loss: (p, k, x: Tensor) => vaeLoss(vae, p, x, [shardOf(comm, vae.noise(k, 1, comm.size * x.shape[0])[0], 1)]).loss,
 * });
 * let state = dp.init(vae.init(key(0)));
 * for (let s = 0; s < steps; s++) state = dp.update(state, myRows(s)).state;
 * dp.save('vae.safetensors', state);
 */
export class DataParallelTrainer<P, B extends unknown[]> {
  private readonly grad: CompiledGradient<[P, Key, B], P>;

  constructor(
    /** The ranks. */
    readonly comm: Communicator,
    /** The loss, optimizer, key and key policy. */
    readonly opts: DataParallelTrainerOptions<P, B>,
  ) {
    this.grad = new CompiledGradient((p: P, k: Key, shard: B) => valueAndGrad((q: P) => opts.loss(q, k, ...shard))(p) as [Tensor, P], opts.compile !== false);
  }

  /** Whether the loss and gradient run compiled: null before the first step; `reason` says why not. */
  get compiled(): CompileStatus | null {
    return this.grad.compiled;
  }

  /** The training state at step 0 from `params` (rank 0's values on every rank, after the agreement check). */
  init(params: P): TrainState<P> {
    agreeOnSignature(this.comm, 'DataParallelTrainer.init', params);
    const p = broadcastParams(this.comm, params);
    return { params: p, optState: this.opts.optimizer.init(p), step: 0 };
  }

  /** One step from `state` on this rank's shard; the new state is the same on every rank, the loss the ranks' mean. */
  update(state: TrainState<P>, ...shard: B): {
    /** The state after the step. */
    state: TrainState<P>;
    /** The loss at the state passed in, averaged over the ranks. */
    loss: number;
  } {
    const stepKey = foldIn(this.opts.key, state.step);
    const k = this.opts.keys === 'perRank' ? foldIn(stepKey, this.comm.rank) : stepKey;
    const { grads, loss } = allReduceStep(this.comm, 'DataParallelTrainer', state.step, state.params, () => this.grad.run(state.params, k, shard));
    const [updates, optState] = this.opts.optimizer.update(grads, state.optState, state.params);
    return { state: { params: applyUpdates(state.params, updates), optState, step: state.step + 1 }, loss };
  }

  /**
   * Writes `state` to `path` from rank 0 (atomically: a temporary file renamed into place, with a
   * checksum), then waits on a barrier, so when `save` returns on any rank the file is complete.
   */
  save(path: string, state: TrainState<P>, metadata: Record<string, string> = {}): void {
    let failure = '';
    if (this.comm.rank === 0) {
      try {
        saveTrainState(path, state, { ...metadata, ranks: String(this.comm.size) });
      } catch (e) {
        failure = `${(e as Error).name}: ${(e as Error).message}`;
      }
    }
    const [rank0] = gatherStrings(this.comm, failure);
    if (rank0 !== '') throw new DistributedError(`DataParallelTrainer.save: rank 0 could not write ${path} (${rank0})`);
    this.comm.barrier();
  }

  /**
   * The state saved at `path`, read by every rank into the structure of `template` (for example
   * `trainer.init(freshParams)`); the path must be readable by every rank (one machine, or a shared
   * file system). The ranks check that they read the same checkpoint (its checksum).
   */
  load(path: string, template: TrainState<P>): TrainState<P> {
    let state: TrainState<P> | null = null;
    let mine: string;
    try {
      const s = loadTrainState(path, template);
      state = { params: s.params, optState: s.optState, step: s.step };
      mine = `ok ${s.metadata.checksum ?? ''} ${s.step}`;
    } catch (e) {
      mine = `${(e as Error).name}: ${(e as Error).message}`;
    }
    const all = gatherStrings(this.comm, mine);
    const bad = all.map((m, r) => [r, m] as const).filter(([, m]) => !m.startsWith('ok '));
    if (bad.length > 0) throw new DistributedError(`DataParallelTrainer.load: ${bad.map(([r, m]) => `rank ${r}: ${m}`).join('; ')}`);
    const differ = all.findIndex((m) => m !== all[0]);
    if (differ > 0) throw new DistributedError(`DataParallelTrainer.load: rank ${differ} read a different checkpoint from ${path} than rank 0 (${all[differ]} vs ${all[0]})`);
    return state as TrainState<P>;
  }
}
