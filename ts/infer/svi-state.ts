/** What SVI carries between steps, and what `SVI.run` takes and returns: the state, the run options, the result and the divergence error. */
import { VarinfError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { type OptState } from '../optim/transform.js';
import { type Key } from '../random/key.js';
import type { ModelFn } from '../ppl/runtime.js';
import { AutoGuide } from './autoguide.js';

/** SVI's state: unconstrained parameters, optimizer state, step count and key. */
export interface SVIState {
  /** Unconstrained parameters by site name (map them back with `SVI.getParams`). */
  readonly params: Record<string, Tensor>;
  /** The optimizer's state. */
  readonly optState: OptState;
  /** Updates taken so far; step t draws with `foldIn(key, t)`. */
  readonly step: number;
  /** The run key that every step's key is folded from. */
  readonly key: Key;
}

/** Options of `SVI.run` and `SVI.runSync`. */
export interface SVIRunOptions {
  /** Called every `progressEvery` steps (and at the end) with the step and the mean recent loss. */
  onProgress?: (step: number, loss: number) => void;
  /** Steps between `onProgress` calls; default numSteps/100 (at least 1). */
  progressEvery?: number;
  /** Print a progress bar on stderr (default: when stderr is a terminal and not in CI). */
  progressBar?: boolean;
  /**
   * Stops the run: `run` rejects (and `runSync` throws) with an `AbortError` whose `cause` is the
   * signal's reason and whose `partial` is the {@link SVIResult} of the steps done.
   */
  signal?: AbortSignal;
  /**
   * Stan's tol_rel_obj rule: every `evalEvery` steps compare the mean loss of the last window with
   * the previous one; stop when the relative change stays below `tolRelObj` for 3 checks.
   */
  tolRelObj?: number;
  /** Window of the `tolRelObj` check, in steps; default 100. */
  evalEvery?: number;
  /** Start from this state (resuming gives the same trajectory as an uninterrupted run). */
  state?: SVIState;
  /**
   * Compile the step (default true): the update (ELBO, its gradient, the optimizer) is traced once
   * and replayed as generated code over preallocated buffers, with the loss and finite flags as
   * outputs. A step whose loss or gradient is not finite is re-run eagerly from the unchanged
   * state to raise the same error as the eager path. Subsampled plates compile (the indices are
   * drawn inside the step), and so do stateful estimators (TraceGraphELBO's baselines ride in the
   * step state). A model that cannot be traced (host reads of traced values, e.g. data-dependent
   * control flow or `skipNonFinite`) runs eagerly, and `result.compiled` says why.
   */
  compile?: boolean;
}

/** What `SVI.run` returns. */
export interface SVIResult {
  /** The final state: pass it as `state` to continue the run. */
  state: SVIState;
  /** Constrained parameters. */
  params: Record<string, Tensor>;
  /** The fitted guide (an autoguide's `summary`/`samplePosterior` take `params`). */
  guide: ModelFn | AutoGuide;
  /** The loss (−ELBO estimate) at every step. */
  losses: Float64Array;
  /** Steps taken in this run. */
  steps: number;
  /** Whether the `tolRelObj` rule stopped the run. */
  stoppedEarly: boolean;
  /** Wall-clock timings of the run. */
  timings: {
    /** The whole run, in ms. */
    totalMs: number;
    /** Mean time per step, in µs. */
    perStepUs: number;
    /** The first step (tracing and compiling included), in ms. */
    firstStepMs: number;
  };
  /** Whether the steps ran compiled, and if not (with `compile` on) why. */
  compiled: {
    /** True when the steps ran as compiled code. */
    used: boolean;
    /** Why the step was not compiled, when `compile` was on and it was not. */
    reason?: string;
  };
}


/**
 * A step of `SVI.run` whose loss or gradient was not finite (a divergence). `state` is the state
 * one step before it, the last whose loss and gradient were finite (the step taken from it led to
 * the failure), and `losses` the losses up to it, so a caller can lower the step size and resume
 * from there; `cause` is the failing step's error.
 * @example
 * try { await svi.run(key(0), 5000, args); }
 * catch (e) {
 *   if (!(e instanceof SVIDivergenceError)) throw e;
 *   const slower = new SVI(model, guide, adam(1e-3), new TraceELBO());
 *   slower.init(key(0), ...args);
 *   await slower.run(key(0), 5000, args, { state: { ...e.state, optState: slower.optim.init(e.state.params) } });
 * }
 */
export class SVIDivergenceError extends VarinfError {
  constructor(
    message: string,
    /** The state one step before the divergence: the last whose loss and gradient were finite. */
    readonly state: SVIState,
    /** The losses of this run's steps up to that state. */
    readonly losses: Float64Array,
    options: { cause: unknown },
  ) {
    super(message, options);
  }
}
