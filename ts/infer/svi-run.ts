/**
 * `SVI.run`'s loop: compiled steps where the model traces (eager otherwise), the growable loss
 * record, progress, cancellation, early stopping and the divergence report.
 */
import { AbortError, NonFiniteError, VarinfError, ValueError, allocationError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { CompiledLoop, type LoopAccept } from '../compile/loop.js';
import { type OptState } from '../optim/transform.js';
import { type Key } from '../random/key.js';
import type { ModelFn } from '../ppl/runtime.js';
import { AutoGuide } from './autoguide.js';
import { type ElboState } from './elbo.js';
import { ProgressBar } from './progress.js';
import type { SVI } from './svi.js';
import { SVIDivergenceError, type SVIResult, type SVIRunOptions, type SVIState } from './svi-state.js';

/** @internal The compiled step's state: parameters, optimizer state, and the ELBO estimator's state (TraceGraphELBO's baselines). */
export type StepState = { params: Record<string, Tensor>; optState: OptState; elbo: ElboState };

/** A compiled step `[state', loss, gradFlag, paramFlag]` is accepted when the loss is finite and both flags are 0. */
const ACCEPT: LoopAccept = { finite: [0], zero: [1, 2] };

/** The run loop as a generator that yields whenever it is time to let the event loop breathe. */
export function* loopSteps<A extends unknown[]>(svi: SVI<A>, key: Key, numSteps: number, args: A, opts: SVIRunOptions): Generator<void, SVIResult, void> {
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

export async function runLoop<A extends unknown[]>(svi: SVI<A>, key: Key, numSteps: number, args: A, opts: SVIRunOptions): Promise<SVIResult> {
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

