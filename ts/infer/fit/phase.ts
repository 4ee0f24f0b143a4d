/**
 * One phase of `fit`: Adam steps on the guide until the noise dominates (the drift test and a flat
 * loss), with the iterates of the last phase averaged (Polyak–Ruppert).
 */
import { AxisError, DTypeError, ShapeError, VarinfError } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { tensor } from '../../ops/creation.js';
import { foldIn } from '../../random/key.js';
import type { CompiledLoop, LoopAccept } from '../../compile/loop.js';
import type { SVI, SVIState } from '../svi.js';
import type { FitPhase } from './options.js';
import { driftCheck } from './precondition.js';

/** What a phase needs besides its start. */
export interface PhaseConfig<A extends unknown[]> {
  phase: FitPhase;
  /** Index of the phase (for progress reports and warnings). */
  index: number;
  /** An SVI whose optimizer takes steps of `lr` (the phase's, or a smaller one after a divergence). */
  makeSvi: (lr: number) => SVI<A>;
  /** Hand the iterate average on (the final phase) rather than the last iterate. */
  average: boolean;
  /** Steps between stopping checks. */
  every: number;
  driftTol: number;
  /** Per-leaf scales for the drift test's `moved`. */
  pre: Record<string, Tensor>;
  /** Restarts after a divergence before the phase gives up and ends at its best point (default 3). */
  maxRestarts?: number;
  /** A window whose mean loss is this many standard errors above the best window's diverged (default 10). */
  divergeSe?: number;
  onProgress?: (info: { phase: number; step: number; loss: number; drift: number }) => void;
  /** Where the phase says, in words, that it diverged and restarted. */
  warnings: string[];
  /** Take the steps as compiled code where the step traces (default true); the eager step otherwise. */
  compile?: boolean;
  /** Set to why the steps ran eagerly, when `compile` was on and the step did not trace. */
  onEager?: (reason: string) => void;
}

/** The end of a phase: the last state, the parameters it hands on, and its candidates for `fit`'s answer. */
export interface PhaseEnd {
  state: SVIState;
  params: Record<string, Tensor>;
  /** The last iterate and the average of the iterates of the phase's second half (null if too short). */
  last: Record<string, Tensor>;
  average: Record<string, Tensor> | null;
  /** The restarts after divergences. */
  restarts: number;
}

/** Why the phase stopped early: a diverging loss or persistent non-finite steps. */
interface Divergence {
  what: string;
  step: number;
}

/**
 * Runs one phase from `state0`, appending each step's loss to `losses`; a generator that yields
 * after every step so that an async caller can let the event loop run.
 *
 * A window whose mean loss rises more than `divergeSe` standard errors above the best window's,
 * or more than 20 non-finite steps in a row, is a divergence: the phase restarts from the
 * parameters at the end of its best window with a step size three times smaller and a fresh
 * optimizer state, at most `maxRestarts` times; then it ends at that best point.
 */
export function* runPhase<A extends unknown[]>(state0: SVIState, args: A, cfg: PhaseConfig<A>, losses: number[]): Generator<void, PhaseEnd, void> {
  const { phase, every } = cfg;
  const maxRestarts = cfg.maxRestarts ?? 3;
  const divergeSe = cfg.divergeSe ?? 10;
  let lr = phase.lr;
  let start = state0;
  // The best window so far: its mean loss, the standard error of that mean, and the parameters at its end.
  let best: { mean: number; se: number; params: Record<string, Tensor> } | null = null;
  for (let attempt = 0; ; attempt++) {
    const svi = cfg.makeSvi(lr);
    yield;
    let state: SVIState = { ...start, optState: svi.optim.init(start.params) };
    const step = stepper(svi, state, args, cfg);
    // The loss at the start point, ten estimates: the baseline a divergence rises from.
    if (best === null) best = { ...(yield* startLoss(svi, state, args, 10)), params: start.params };
    // Σ of the iterates of the phase's second half, and each window's Σ of squared steps, on the host.
    const avg = new HostSums(state.params);
    let nAvg = 0;
    const avgFrom = Math.floor(phase.minSteps / 2);
    let failures = 0;
    let diverged: Divergence | null = null;
    const from = losses.length;
    // Drift test over each window: start point and Σ of squared steps, per coordinate.
    let winStart = state.params;
    const sq = new HostSums(state.params);
    for (let i = 0; i < phase.maxSteps; i++) {
      let r: { state: SVIState; loss: number };
      try {
        r = step(state);
        failures = 0;
      } catch (e) {
        // A non-finite draw (a far tail of q): skip it with a fresh key; persistent ones are a divergence.
        // A model that does not fit its shapes or dtypes is a bug to report, not a bad draw.
        if (!(e instanceof VarinfError) || e instanceof ShapeError || e instanceof DTypeError || e instanceof AxisError) throw e;
        if (++failures > 20) {
          diverged = { what: `${failures} non-finite steps in a row (${e.message})`, step: state.step };
          break;
        }
        state = { ...state, step: state.step + 1 };
        continue;
      }
      const prev = state.params;
      state = r.state;
      losses.push(r.loss);
      yield;
      const cur = state.params;
      sq.addSquaredStep(prev, cur);
      if (i >= avgFrom) {
        nAvg++;
        avg.add(cur);
      }
      if ((i + 1) % every === 0 && losses.length - from >= every) {
        const w = windowStats(losses, losses.length - every, every);
        // Both tests have a floor of one nat: near an exact fit the loss's noise vanishes, and so would the bar.
        if (best !== null && w.mean > best.mean + Math.max(1, divergeSe * Math.hypot(best.se, w.se))) {
          diverged = { what: `the mean loss of steps ${state.step - every}–${state.step} rose to ${fmt(w.mean)} from ${fmt(best.mean)} (${fmt((w.mean - best.mean) / Math.hypot(best.se, w.se))} standard errors)`, step: state.step };
          break;
        }
        // A loss whose noise explodes (the guide's scale running off) diverges whichever way its mean goes.
        if (best !== null && Number.isFinite(best.se) && !(w.se < Math.max(1, 30 * best.se))) {
          diverged = { what: `the standard error of the mean loss of steps ${state.step - every}–${state.step} grew to ${fmt(w.se)} from ${fmt(best.se)} (mean ${fmt(w.mean)})`, step: state.step };
          break;
        }
        if (Number.isFinite(w.mean) && (best === null || w.mean < best.mean)) best = { ...w, params: cur };
        const { t2, moved } = driftCheck(winStart, cur, sq.tensors(1), cfg.pre);
        cfg.onProgress?.({ phase: cfg.index, step: state.step, loss: meanTail(losses, every), drift: t2 });
        winStart = cur;
        sq.reset();
        // The loss must have stopped falling too: consecutive window means within 2 standard errors.
        const flat = lossFlat(losses, every);
        if (i + 1 >= phase.minSteps && flat && (t2 < cfg.driftTol || moved < 1e-3)) break;
      }
    }
    if (diverged === null) {
      const average = nAvg > 0 ? avg.tensors(1 / nAvg) : null;
      return { state, params: cfg.average && average !== null ? average : state.params, last: state.params, average, restarts: attempt };
    }
    const back = best?.params ?? start.params;
    if (attempt >= maxRestarts) {
      cfg.warnings.push(`phase ${cfg.index + 1} diverged at step ${diverged.step} (${diverged.what}) after ${attempt} restarts; it ends at its best point`);
      const s = { ...state, params: back };
      return { state: s, params: back, last: back, average: null, restarts: attempt };
    }
    cfg.warnings.push(`phase ${cfg.index + 1} diverged at step ${diverged.step}: ${diverged.what}; restarted from the best point so far with step size ${fmt(lr / 3)} (was ${fmt(lr)})`);
    lr /= 3;
    start = { ...state, params: back };
    yield;
  }
}

/** What a compiled step carries from step to step (as `SVI`'s step). */
type StepState = Pick<SVIState, 'params' | 'optState'>;

/** A compiled step `[state', loss, gradFlag, paramFlag]` is accepted when the loss is finite and both flags are 0. */
const ACCEPT: LoopAccept = { finite: [0], zero: [1, 2] };

/**
 * One optimizer step from a state: the compiled step where the SVI's step traces (the same keys,
 * `foldIn(state.key, state.step)`, so the same trajectory as the eager step up to rounding), the
 * eager `svi.update` otherwise. A step the compiled code rejects (a non-finite loss, gradient or
 * parameter) is run again eagerly, which raises the error that names the step and the site.
 */
function stepper<A extends unknown[]>(svi: SVI<A>, state0: SVIState, args: A, cfg: PhaseConfig<A>): (state: SVIState) => { state: SVIState; loss: number } {
  let loop: CompiledLoop<StepState, A> | null = null;
  if (cfg.compile !== false) {
    const l = svi.compiledLoop(state0, args);
    if (typeof l === 'string') cfg.onEager?.(l);
    else loop = l;
  }
  const rec = new Float64Array(1);
  // The state the loop holds; another (a skipped step's, an eager step's) is copied in first.
  let held: Record<string, Tensor> | null = state0.params;
  return (state) => {
    if (loop === null) return svi.update(state, ...args);
    if (held !== state.params) loop.setState({ params: state.params, optState: state.optState });
    let ok: number;
    try {
      ok = loop.run(state.key, state.step, 1, ACCEPT, rec, 0);
    } catch (e) {
      // The generated code of a very large step (an HMM's forward pass unrolled over 416 time
      // steps, with 4 particles) can exceed V8's stack frame: run the steps eagerly, and say why.
      if (!(e instanceof RangeError)) throw e;
      cfg.onEager?.(`the compiled step could not run (${e.message}); the steps ran eagerly`);
      loop = null;
      return svi.update(state, ...args);
    }
    if (ok === 1) {
      const s = loop.state();
      held = s.params;
      return { state: { ...s, step: state.step + 1, key: state.key }, loss: rec[0] };
    }
    held = null;
    const r = svi.update(state, ...args);
    loop.setState({ params: r.state.params, optState: r.state.optState });
    held = r.state.params;
    return r;
  };
}

/** Per-coordinate sums over a parameter record, kept on the host (a few adds per step, no tensor ops). */
class HostSums {
  private readonly sums: Record<string, Float64Array> = {};
  constructor(private readonly like: Record<string, Tensor>) {
    for (const [k, t] of Object.entries(like)) this.sums[k] = new Float64Array(t.size);
  }

  /** Adds `cur`. */
  add(cur: Record<string, Tensor>): void {
    for (const [k, a] of Object.entries(this.sums)) {
      const c = cur[k].dataSync();
      for (let j = 0; j < a.length; j++) a[j] += c[j];
    }
  }

  /** Adds the squared step from `prev` to `cur`, per coordinate. */
  addSquaredStep(prev: Record<string, Tensor>, cur: Record<string, Tensor>): void {
    for (const [k, a] of Object.entries(this.sums)) {
      const p = prev[k].dataSync();
      const c = cur[k].dataSync();
      for (let j = 0; j < a.length; j++) a[j] += (c[j] - p[j]) ** 2;
    }
  }

  reset(): void {
    for (const a of Object.values(this.sums)) a.fill(0);
  }

  /** The sums times `scale`, as tensors shaped and typed as the parameters. */
  tensors(scale: number): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [k, a] of Object.entries(this.sums)) {
      const t = this.like[k];
      out[k] = tensor(a.map((v) => v * scale), t.shape, t.dtype);
    }
    return out;
  }
}

/** Mean and standard error of n loss estimates at `state` (each with its own key), NaN-free or Infinity. */
function* startLoss<A extends unknown[]>(svi: SVI<A>, state: SVIState, args: A, n: number): Generator<void, { mean: number; se: number }, void> {
  const v: number[] = [];
  for (let k = 0; k < n; k++) {
    try {
      v.push(-svi.evaluate({ ...state, key: foldIn(state.key, 0x5747 + k) }, ...args));
    } catch (e) {
      if (!(e instanceof VarinfError)) throw e;
    }
    yield;
  }
  const ok = v.filter(Number.isFinite);
  return ok.length < 2 ? { mean: Infinity, se: 0 } : windowStats(ok, 0, ok.length);
}

function fmt(x: number): string {
  return Number.isFinite(x) && Math.abs(x) < 1e5 && Math.abs(x) >= 1e-3 ? x.toPrecision(4) : x.toExponential(3);
}

/** Mean of `w` losses from `from`, and the standard error of that mean. */
function windowStats(a: number[], from: number, w: number): { mean: number; se: number } {
  let m = 0;
  for (let i = from; i < from + w; i++) m += a[i];
  m /= w;
  let v = 0;
  for (let i = from; i < from + w; i++) v += (a[i] - m) ** 2;
  return { mean: m, se: Math.sqrt(v / (w - 1) / w) };
}

/** Whether the mean loss of the last window is within 2 standard errors of the window before. */
export function lossFlat(a: number[], w: number): boolean {
  if (a.length < 2 * w) return false;
  const stats = (from: number): [number, number] => {
    let m = 0;
    for (let i = from; i < from + w; i++) m += a[i];
    m /= w;
    let v = 0;
    for (let i = from; i < from + w; i++) v += (a[i] - m) ** 2;
    return [m, v / (w - 1)];
  };
  const [m1, v1] = stats(a.length - 2 * w);
  const [m2, v2] = stats(a.length - w);
  return Math.abs(m2 - m1) < 2 * Math.sqrt((v1 + v2) / w);
}

export function meanTail(a: number[], n: number): number {
  const k = Math.min(n, a.length);
  let s = 0;
  for (let i = a.length - k; i < a.length; i++) s += a[i];
  return s / Math.max(1, k);
}
