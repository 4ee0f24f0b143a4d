/**
 * Stochastic variational inference as a state machine: `init` finds the parameters of model and
 * guide and moves them to ℝ^d, `update` takes one optimizer step on the ELBO estimator's loss,
 * `run` takes many (with progress, cancellation and early stopping). Parameters live
 * unconstrained in the state; `getParams` maps them back through `bijectTo`.
 */
import { valueAndGrad } from '../core/autodiff.js';
import { AbortError, NonFiniteError, VarinfError, ValueError, allocationError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { compile, type CompiledFunction } from '../compile/compile.js';
import { CompiledLoop, type LoopAccept } from '../compile/loop.js';
import { getValidateArgs, setValidateArgs } from '../distributions/distribution.js';
import { bijectTo } from '../bijectors/bijectTo.js';
import type { Transform } from '../bijectors/transform.js';
import type { Constraint } from '../distributions/constraints.js';
import { applyUpdates, type GradientTransformation, type OptState } from '../optim/transform.js';
import { allFinite, finiteFlag } from '../optim/clip.js';
import { foldIn, split, type Key } from '../random/key.js';
import { replay, seed, trace, type Trace } from '../ppl/handlers.js';
import type { ModelFn } from '../ppl/runtime.js';
import { siteLogProb } from '../ppl/logdensity.js';
import { AutoGuide } from './autoguide.js';
import { getTraces, type ELBO, type ElboInputs, type ElboState } from './elbo.js';
import { ProgressBar } from './progress.js';
import { particleNesting } from './nesting.js';


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

/** The compiled step's state: parameters, optimizer state, and the ELBO estimator's state (TraceGraphELBO's baselines). */
type StepState = { params: Record<string, Tensor>; optState: OptState; elbo: ElboState };

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

/**
 * Stochastic variational inference as a state machine: `init` finds the parameters of model and
 * guide and moves them to ℝ^d (through `bijectTo` of each param's constraint), `update` takes one
 * optimizer step on the ELBO estimator's loss (−ELBO), `run` takes many with progress,
 * cancellation and early stopping. Parameters live unconstrained in the state; `getParams` maps
 * them back. `A` is the tuple of the model's arguments; the guide takes the same arguments.
 * @example
 * const model = (y: Tensor) => {
 *   const mu = sample('mu', new Normal(0, 10));
 *   plate('data', y.shape[0], () => sample('y', new Normal(mu, 1), { obs: y }));
 * };
 * const guide = new AutoNormal(model);
 * const svi = new SVI(model, guide, adam(0.05), new TraceELBO());
 * const r = await svi.run(key(0), 2000, [y]);
 * guide.summary(key(1), r.params, 1000, y).mu.mean; // [posterior mean of mu]
 */
export class SVI<A extends unknown[]> {
  private readonly constraints = new Map<string, { constraint: Constraint; transform: Transform }>();
  private maxPlateNesting = 0;
  private compiledStep: CompiledFunction<[StepState, Key, A], unknown[]> | null = null;

  constructor(
    /** The model p(x, z): a function of `A` with `sample`, `param`, `plate` sites. */
    readonly model: ModelFn<A>,
    /** The guide q(z): a function of `A` whose sample sites match the model's latents, or an autoguide. */
    readonly guide: ModelFn<A> | AutoGuide<A>,
    /** The optimizer, e.g. `adam(1e-2)`. */
    readonly optim: GradientTransformation,
    /** The ELBO estimator whose `loss` is minimized, e.g. `new TraceELBO()`. */
    readonly loss: ELBO,
  ) {}

  private guideFn(): ModelFn<A> {
    return this.guide instanceof AutoGuide ? this.guide.guide : this.guide;
  }

  /** Finds the parameters, their constraints and initial values; returns the initial state. */
  init(key: Key, ...args: A): SVIState {
    const [kSetup, kParams, kRun] = split(key, 3);
    if (this.guide instanceof AutoGuide) {
      this.guide.setup(kSetup, ...args);
      this.maxPlateNesting = this.guide.maxPlateNesting;
    } else this.maxPlateNesting = particleNesting(trace(seed(this.model, kSetup)).getTrace(...args));
    const params: Record<string, Tensor> = {};
    const collect = (tr: Trace): void => {
      for (const s of tr.values()) {
        if (s.type !== 'param' || params[s.name] !== undefined) continue;
        const c = s.constraint as Constraint;
        const t = bijectTo(c);
        this.constraints.set(s.name, { constraint: c, transform: t });
        params[s.name] = t.inverse(s.value as Tensor);
      }
    };
    const guideTr = trace(seed(this.guideFn(), kParams)).getTrace(...args);
    collect(guideTr);
    // the model replays the guide's draws (as NumPyro's SVI.init), so latents with no sampler (ImproperUniform) never draw
    collect(trace(seed(replay(this.model, guideTr), kParams)).getTrace(...args));
    if (Object.keys(params).length === 0) throw new ValueError('SVI.init: neither the model nor the guide has a param site');
    return { params, optState: this.optim.init(params), step: 0, key: kRun };
  }

  /** Constrained parameter values of a state. */
  getParams(state: SVIState): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, u] of Object.entries(state.params)) out[name] = this.transformFor(name).forward(u);
    return out;
  }

  private transformFor(name: string): Transform {
    const c = this.constraints.get(name);
    if (c === undefined) throw new VarinfError(`SVI: unknown parameter '${name}'; call init first`);
    return c.transform;
  }

  private inputs(state: SVIState, params: Record<string, Tensor>, args: A, key = foldIn(state.key, state.step)): ElboInputs<A> {
    return { model: this.model, guide: this.guideFn(), args, params, key, maxPlateNesting: this.maxPlateNesting };
  }

  /**
   * The step as a function of tensors and the step key, for `compile`: returns
   * `[state', loss, gradFlag, paramFlag]` where the flags are 0 when the loss and gradients (resp.
   * the new parameters) are all finite and NaN otherwise.
   */
  private stepFunction(): CompiledFunction<[StepState, Key, A], unknown[]> {
    if (this.compiledStep === null)
      this.compiledStep = compile((s: StepState, key: Key, args: A): unknown[] => {
        let elbo = s.elbo;
        const lossFn = (u: Record<string, Tensor>): Tensor => {
          const constrained: Record<string, Tensor> = {};
          for (const [name, v] of Object.entries(u)) constrained[name] = this.transformFor(name).forward(v);
          const r = this.loss.evaluateWithState({ model: this.model, guide: this.guideFn(), args, params: constrained, key, maxPlateNesting: this.maxPlateNesting }, s.elbo);
          elbo = r.state;
          return r.result.loss;
        };
        const [lossT, grads] = valueAndGrad(lossFn)(s.params);
        const [updates, optState] = this.optim.update(grads, s.optState, s.params);
        const params = applyUpdates(s.params, updates);
        return [{ params, optState, elbo }, lossT, finiteFlag([lossT, grads]), finiteFlag(params)];
      });
    return this.compiledStep;
  }

  /** @internal a compiled loop starting at `state`, or the reason it cannot be compiled. */
  compiledLoop(state: SVIState, args: A): CompiledLoop<StepState, A> | string {
    const prev = getValidateArgs();
    // Host-side validation cannot be traced; a non-finite loss sends the step to the eager path, which validates.
    setValidateArgs(false);
    try {
      const elbo = this.loss.initState(this.stepInputs(state, args));
      return new CompiledLoop(this.stepFunction(), { params: state.params, optState: state.optState, elbo }, state.key, args);
    } catch (e) {
      return `${(e as Error).name}: ${(e as Error).message}`;
    } finally {
      setValidateArgs(prev);
    }
  }

  /** @internal the ELBO inputs of `state`'s next step (constrained parameters, the step's key). */
  stepInputs(state: SVIState, args: A): ElboInputs<A> {
    return this.inputs(state, this.getParams(state), args);
  }

  /** The ELBO estimate at the state's parameters (no gradient step). */
  evaluate(state: SVIState, ...args: A): number {
    return this.loss.evaluate(this.inputs(state, this.getParams(state), args)).elbo.item();
  }

  /**
   * One optimizer step. Returns the new state and the loss. A non-finite loss or gradient raises
   * an error naming the step and the first site whose log density is not finite; the state passed
   * in is left as it was.
   */
  update(state: SVIState, ...args: A): {
    /** The state after the step. */
    state: SVIState;
    /** The loss (−ELBO estimate) at the state passed in. */
    loss: number;
  } {
    const lossFn = (u: Record<string, Tensor>): Tensor => {
      const constrained: Record<string, Tensor> = {};
      for (const [name, v] of Object.entries(u)) constrained[name] = this.transformFor(name).forward(v);
      return this.loss.evaluate(this.inputs(state, constrained, args)).loss;
    };
    const [lossT, grads] = valueAndGrad(lossFn)(state.params);
    const loss = lossT.item();
    if (!Number.isFinite(loss) || !allFinite(grads)) this.explainNonFinite(state, loss, args);
    const [updates, optState] = this.optim.update(grads, state.optState, state.params);
    const params = applyUpdates(state.params, updates);
    if (!allFinite(params)) throw new NonFiniteError(`SVI step ${state.step}: the optimizer produced non-finite parameters; the state was not changed`);
    return { state: { params, optState, step: state.step + 1, key: state.key }, loss };
  }

  private explainNonFinite(state: SVIState, loss: number, args: A): never {
    const what = Number.isFinite(loss) ? 'a gradient is not finite' : `the loss is ${loss}`;
    let site = '';
    try {
      const { guideTr, modelTr } = getTraces(this.inputs(state, this.getParams(state), args), 1);
      for (const [label, tr] of [['model', modelTr], ['guide', guideTr]] as const)
        for (const s of tr.values()) {
          if (s.type !== 'sample' || site !== '') continue;
          const v = siteLogProb(s).dataSync();
          if (v.some((x) => !Number.isFinite(x))) site = `; the log density of ${label} site '${s.name}' is not finite`;
        }
      const bad = Object.entries(state.params).find(([, p]) => p.dataSync().some((x) => !Number.isFinite(x)));
      if (bad) site += `; parameter '${bad[0]}' is not finite`;
    } catch (e) {
      site = `; evaluating the sites failed: ${(e as Error).message}`;
    }
    throw new NonFiniteError(`SVI step ${state.step}: ${what}${site}. The parameters keep their last finite values.`);
  }

  /**
   * Runs `numSteps` updates (fewer if stopped early), yielding to the event loop regularly. An
   * abort rejects with an `AbortError` carrying the result so far; a non-finite step rejects with an
   * {@link SVIDivergenceError} carrying the last finite state and the losses.
   */
  async run(key: Key, numSteps: number, args: A, opts: SVIRunOptions = {}): Promise<SVIResult> {
    return runLoop(this, key, numSteps, args, opts);
  }

  /** `run` without yielding to the event loop (for scripts and tests). */
  runSync(key: Key, numSteps: number, args: A, opts: SVIRunOptions = {}): SVIResult {
    const gen = loopSteps(this, key, numSteps, args, opts);
    for (;;) {
      const r = gen.next();
      if (r.done) return r.value;
    }
  }
}

/** A compiled step `[state', loss, gradFlag, paramFlag]` is accepted when the loss is finite and both flags are 0. */
const ACCEPT: LoopAccept = { finite: [0], zero: [1, 2] };

/** The run loop as a generator that yields whenever it is time to let the event loop breathe. */
function* loopSteps<A extends unknown[]>(svi: SVI<A>, key: Key, numSteps: number, args: A, opts: SVIRunOptions): Generator<void, SVIResult, void> {
  if (!Number.isInteger(numSteps) || numSteps < 0) throw new ValueError(`SVI.run: numSteps must be a non-negative integer, got ${numSteps}`);
  const t0 = performance.now();
  let state = opts.state ?? svi.init(key, ...args);
  // The loss record grows as steps are taken (doubling), so a run of 1e10 steps stopped by a signal allocates what it used.
  let losses: Float64Array = new Float64Array(Math.min(numSteps, 1024));
  const every = opts.progressEvery ?? Math.max(1, Math.floor(numSteps / 100));
  const evalEvery = opts.evalEvery ?? 100;
  const bar = (opts.progressBar ?? (process.stderr.isTTY === true && process.env.CI === undefined)) ? new ProgressBar('svi', numSteps) : null;
  let firstStepMs = 0;
  let lastYield = performance.now();
  let prevWindow: number | null = null;
  let calm = 0;
  let stoppedEarly = false;
  let done = 0;
  let loop: CompiledLoop<StepState, A> | null = null;
  const compiled: SVIResult['compiled'] = { used: false };
  if (opts.compile !== false && numSteps > 0) {
    const l = svi.compiledLoop(state, args);
    if (typeof l === 'string') compiled.reason = l;
    else {
      loop = l;
      compiled.used = true;
    }
  }
  const base = state.key;
  const step0 = state.step;
  // A chunk of compiled steps runs as one generated loop; it ends at the next progress report or
  // convergence check, and after about 20 ms (estimated from the last chunk) so the event loop breathes.
  let perStepMs = Infinity;
  // The SVI state of a compiled loop's current step; the ELBO estimator continues from its state.
  const loopState = (l: CompiledLoop<StepState, A>, step: number): SVIState => {
    const st = l.state();
    svi.loss.setState(st.elbo);
    return { params: st.params, optState: st.optState, step, key: base };
  };
  const result = (): SVIResult => {
    if (loop !== null) state = loopState(loop, step0 + done);
    const totalMs = performance.now() - t0;
    return {
      state,
      params: svi.getParams(state),
      guide: svi.guide as ModelFn | AutoGuide,
      losses: losses.slice(0, done),
      steps: done,
      stoppedEarly,
      timings: { totalMs, perStepUs: done > 0 ? (totalMs * 1000) / done : 0, firstStepMs },
      compiled,
    };
  };
  // The error carries the state before the step that led to the failure (its own loss was finite).
  const diverged = (e: VarinfError, at: SVIState): SVIDivergenceError => {
    bar?.finish();
    return new SVIDivergenceError(
      `${e.message} error.state holds the state of step ${at.step}, the last whose loss and gradient were finite, and error.losses the ${at.step - step0} losses up to it: lower the step size and resume with run(key, n, args, { state: error.state }).`,
      at,
      losses.slice(0, at.step - step0),
      { cause: e },
    );
  };
  // Compiled chunks: the states at the start of this chunk and the one before, to replay up to the last good step.
  let snap: { st: StepState; done: number } | null = null;
  let prevSnap: { st: StepState; done: number } | null = null;
  let prevState = state;
  const lastGood = (failedAt: SVIState): SVIState => {
    const target = done - 1;
    if (loop === null) return done > 0 ? prevState : failedAt;
    const s = snap !== null && target >= snap.done ? snap : prevSnap;
    if (target < 0 || s === null) return failedAt;
    loop.setState(s.st);
    if (target > s.done) loop.run(base, step0 + s.done, target - s.done, ACCEPT, new Float64Array(target - s.done), 0);
    return loopState(loop, step0 + target);
  };
  while (done < numSteps) {
    if (opts.signal?.aborted === true) {
      bar?.finish();
      throw new AbortError(`SVI.run: aborted after ${done} of ${numSteps} steps`, result(), { cause: opts.signal.reason });
    }
    let end = Math.min(numSteps, (Math.floor(done / every) + 1) * every);
    if (opts.tolRelObj !== undefined) end = Math.min(end, (Math.floor(done / evalEvery) + 1) * evalEvery);
    end = loop === null ? done + 1 : Math.min(end, done + Math.max(1, Math.floor(20 / perStepMs)));
    const c0 = performance.now();
    const from = done;
    if (end > losses.length) losses = grown(losses, end, numSteps);
    if (loop !== null) {
      prevSnap = snap;
      snap = { st: loop.state(), done };
      done += loop.run(base, step0 + done, end - done, ACCEPT, losses, done);
      if (done < end) {
        // Diagnose eagerly from the unchanged state: raises the eager path's error naming the step and site.
        const cur = loopState(loop, step0 + done);
        let r: { state: SVIState; loss: number };
        try {
          r = svi.update(cur, ...args);
        } catch (e) {
          throw e instanceof NonFiniteError ? diverged(e, lastGood(cur)) : e;
        }
        loop.setState({ params: r.state.params, optState: r.state.optState, elbo: svi.loss.initState(svi.stepInputs(r.state, args)) });
        losses[done++] = r.loss;
      }
    } else {
      let r: { state: SVIState; loss: number };
      try {
        r = svi.update(state, ...args);
      } catch (e) {
        throw e instanceof NonFiniteError ? diverged(e, lastGood(state)) : e;
      }
      prevState = state;
      state = r.state;
      losses[done++] = r.loss;
    }
    const now = performance.now();
    perStepMs = (now - c0) / (done - from);
    if (from === 0) firstStepMs = now - t0;
    if (done % every === 0 || done === numSteps) {
      const recent = meanOf(losses, Math.max(0, done - every), done);
      opts.onProgress?.(step0 + done, recent);
      bar?.update(done, { loss: recent.toPrecision(6) });
    }
    if (opts.tolRelObj !== undefined && done % evalEvery === 0) {
      const w = meanOf(losses, done - evalEvery, done);
      if (prevWindow !== null) {
        const rel = Math.abs(w - prevWindow) / Math.max(Math.abs(w), 1e-12);
        calm = rel < opts.tolRelObj ? calm + 1 : 0;
        if (calm >= 3) {
          stoppedEarly = true;
          break;
        }
      }
      prevWindow = w;
    }
    if (now - lastYield > 20) {
      yield;
      lastYield = performance.now();
    }
  }
  bar?.finish({ loss: meanOf(losses, Math.max(0, done - every), done).toPrecision(6) });
  return result();
}

async function runLoop<A extends unknown[]>(svi: SVI<A>, key: Key, numSteps: number, args: A, opts: SVIRunOptions): Promise<SVIResult> {
  const gen = loopSteps(svi, key, numSteps, args, opts);
  for (;;) {
    const r = gen.next();
    if (r.done) return r.value;
    await new Promise<void>((res) => setImmediate(res));
  }
}

/** A copy of `a` with room for at least `need` entries (doubling, at most `max`). */
function grown(a: Float64Array, need: number, max: number): Float64Array {
  let n = Math.max(a.length, 1024);
  while (n < need) n *= 2;
  let b: Float64Array;
  try {
    b = new Float64Array(Math.min(max, n));
  } catch (e) {
    throw allocationError('SVI.run (loss record)', [Math.min(max, n)], 'float64', 8, e);
  }
  b.set(a);
  return b;
}

function meanOf(a: Float64Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += a[i];
  return s / Math.max(1, to - from);
}

