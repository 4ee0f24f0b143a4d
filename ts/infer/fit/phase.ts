/**
 * One phase of `fit`: Adam steps on the guide until the noise dominates (the drift test and a flat
 * loss), with the iterates of the last phase averaged (Polyak–Ruppert).
 */
import { VarinfError } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { leaves, mapLeaves } from '../../core/tree.js';
import { add, mul, square, sub } from '../../ops/elementwise.js';
import { zerosLike } from '../../ops/creation.js';
import type { SVI, SVIState } from '../svi.js';
import type { FitPhase } from './options.js';
import { driftCheck } from './precondition.js';

/** What a phase needs besides the SVI and its start. */
export interface PhaseConfig {
  phase: FitPhase;
  /** Index of the phase (for progress reports). */
  index: number;
  /** Average the iterates from minSteps/2 on (the final phase). */
  average: boolean;
  /** Steps between stopping checks. */
  every: number;
  driftTol: number;
  /** Per-leaf scales for the drift test's `moved`. */
  pre: Record<string, Tensor>;
  onProgress?: (info: { phase: number; step: number; loss: number; drift: number }) => void;
}

/** The end of a phase: the last state and the parameters it hands on (the average where there is one). */
export interface PhaseEnd {
  state: SVIState;
  params: Record<string, Tensor>;
}

/**
 * Runs one phase from `state`, appending each step's loss to `losses`; a generator that yields
 * at every stopping check so that an async caller can let the event loop run.
 */
export function* runPhase<A extends unknown[]>(svi: SVI<A>, state0: SVIState, args: A, cfg: PhaseConfig, losses: number[]): Generator<void, PhaseEnd, void> {
  const { phase, every } = cfg;
  let state = state0;
  let avg: Record<string, Tensor> | null = null;
  let nAvg = 0;
  const avgFrom = Math.floor(phase.minSteps / 2);
  let failures = 0;
  // Drift test over each window: start point and Σ of squared steps, per coordinate.
  let winStart = state.params;
  let sq = mapLeaves(state.params, (t) => zerosLike(t));
  for (let i = 0; i < phase.maxSteps; i++) {
    let r: { state: SVIState; loss: number };
    try {
      r = svi.update(state, ...args);
      failures = 0;
    } catch (e) {
      // A non-finite draw (a far tail of q): skip it with a fresh key; give up if it persists.
      if (!(e instanceof VarinfError) || ++failures > 20) throw e;
      state = { ...state, step: state.step + 1 };
      continue;
    }
    const prev = state.params;
    state = r.state;
    losses.push(r.loss);
    const cur = state.params;
    sq = mapLeaves(sq, (a, j) => add(a, square(sub(leaves(cur)[j] as Tensor, leaves(prev)[j] as Tensor))));
    if (cfg.average && i >= avgFrom) {
      nAvg++;
      avg = avg === null ? { ...cur } : mapLeaves(avg, (a, j) => add(a, leaves(cur)[j] as Tensor));
    }
    if ((i + 1) % every === 0) {
      const { t2, moved } = driftCheck(winStart, cur, sq, cfg.pre);
      cfg.onProgress?.({ phase: cfg.index, step: state.step, loss: meanTail(losses, every), drift: t2 });
      winStart = cur;
      sq = mapLeaves(sq, (t) => zerosLike(t));
      // The loss must have stopped falling too: consecutive window means within 2 standard errors.
      const flat = lossFlat(losses, every);
      if (i + 1 >= phase.minSteps && flat && (t2 < cfg.driftTol || moved < 1e-3)) break;
      yield;
    }
  }
  const params = avg !== null && nAvg > 0 ? mapLeaves(avg, (a) => mul(a, 1 / nAvg)) : state.params;
  return { state, params };
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
