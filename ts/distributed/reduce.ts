/**
 * One data-parallel step's collective: every rank's gradient leaves, its loss and a failure flag
 * packed into one buffer (the bucket) and all-reduced in one call, so a rank that failed is known
 * to every rank in the same call that would otherwise carry its gradient (no rank waits forever).
 */
import { NonFiniteError } from '../core/errors.js';
import { compile, type CompiledFunction } from '../compile/compile.js';
import type { Tensor } from '../core/tensor.js';
import { leaves, mapLeaves } from '../core/tree.js';
import { tensor } from '../ops/creation.js';
import { allFinite } from '../optim/clip.js';
import type { Communicator } from './communicator.js';
import { DistributedError } from './errors.js';
import { gatherStrings } from './agree.js';

/**
 * Runs `local` (this rank's loss and gradient, in the structure of `params`), all-reduces
 * [gradient leaves…, loss, failure flag] and returns the ranks' mean gradient and loss. A rank
 * whose `local` raised makes every rank raise the same `DistributedError`, naming the failed
 * ranks and their errors; a non-finite mean raises a `NonFiniteError` on every rank. `site` and
 * `step` name the step in the messages.
 * @example const { grads, loss } = allReduceStep(comm, 'train', step, params, () => valueAndGrad(f)(params));
 */
export function allReduceStep<P>(comm: Communicator, site: string, step: number, params: P, local: () => [Tensor, P]): {
  /** The gradient averaged over the ranks, in the structure and dtypes of `params`. */
  grads: P;
  /** The loss averaged over the ranks. */
  loss: number;
} {
  const ps = leaves(params);
  const total = ps.reduce((a, t) => a + t.size, 0);
  const bucket = new Float64Array(total + 2);
  let error: Error | null = null;
  try {
    const [lossT, g] = local();
    let o = 0;
    for (const t of leaves(g)) {
      bucket.set(t.dataSync(), o);
      o += t.size;
    }
    bucket[total] = lossT.item();
  } catch (e) {
    error = e as Error;
    bucket.fill(0);
    bucket[total + 1] = 1;
  }
  comm.allReduce(bucket, 'sum');
  if (bucket[total + 1] > 0) raiseRemote(comm, site, step, error);
  const inv = 1 / comm.size;
  for (let i = 0; i <= total; i++) bucket[i] *= inv;
  const loss = bucket[total];
  let o = 0;
  const grads = mapLeaves(params, (p) => {
    const v = bucket.subarray(o, (o += p.size));
    return tensor(p.dtype === 'float32' ? Float32Array.from(v) : v.slice(), p.shape, p.dtype);
  });
  if (!Number.isFinite(loss) || !allFinite(leaves(grads)))
    throw new NonFiniteError(`${site} step ${step}: the all-reduced ${Number.isFinite(loss) ? 'gradient is' : `loss is ${loss}`} not finite (rank ${comm.rank} of ${comm.size}); the parameters keep their last values`);
  return { grads, loss };
}

/** Every rank learns which ranks failed and why, and raises the same error. */
function raiseRemote(comm: Communicator, site: string, step: number, local: Error | null): never {
  const mine = local === null ? '' : `${local.name}: ${local.message}`;
  const failed = gatherStrings(comm, mine)
    .map((m, r) => [r, m] as const)
    .filter(([, m]) => m !== '');
  const what = failed.map(([r, m]) => `rank ${r}: ${m}`).join('; ');
  const who = failed.length === 1 ? `rank ${failed[0][0]}` : `ranks ${failed.map(([r]) => r).join(', ')}`;
  throw new DistributedError(`${site} step ${step} failed on ${who} of ${comm.size} (${what})`, { cause: local ?? undefined });
}

/** Whether a step runs compiled, and why not when it does not. */
export interface CompileStatus {
  /** True when the compiled function runs; false when the step fell back to eager. */
  used: boolean;
  /** Why it is not compiled (`compile: false`, or the error that stopped the trace). */
  reason?: string;
}

/**
 * @internal A rank's loss-and-gradient function, compiled on first use and replayed; a function
 * that does not trace runs `eager` from then on. A non-finite compiled result is recomputed
 * eagerly, which raises the loss's own error (naming the site) when it has one. `around` wraps
 * the compiled call (DataParallelSVI turns argument validation off there, as SVI's loop does).
 */
export class CompiledGradient<A extends unknown[], G> {
  private fn: CompiledFunction<A, [Tensor, G]> | null = null;
  /** Whether the loss and gradient run compiled: null before the first step; `reason` says why not. */
  compiled: CompileStatus | null;

  constructor(
    private readonly eager: (...a: A) => [Tensor, G],
    enabled: boolean,
    private readonly around: <T>(f: () => T) => T = (f) => f(),
  ) {
    this.compiled = enabled ? null : { used: false, reason: 'compile: false' };
  }

  /** The loss and gradient at `a`. */
  run(...a: A): [Tensor, G] {
    if (this.compiled === null) this.fn = compile(this.eager);
    if (this.fn !== null) {
      try {
        const out = this.around(() => (this.fn as CompiledFunction<A, [Tensor, G]>)(...a));
        this.compiled = { used: true };
        if (Number.isFinite(out[0].item())) return out;
      } catch (e) {
        this.fn = null;
        this.compiled = { used: false, reason: `${(e as Error).name}: ${(e as Error).message}` };
      }
    }
    return this.eager(...a);
  }
}
