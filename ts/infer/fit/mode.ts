/** The MAP in the unconstrained space (L-BFGS, then Newton with the finite-difference Hessian): the Laplace start. */
import { ValueError, VarinfError } from '../../core/errors.js';
import { type Key } from '../../random/key.js';
import { uniform } from '../../random/samplers.js';
import type { Tensor } from '../../core/tensor.js';
import { tensor } from '../../ops/creation.js';
import { lbfgsSteps, type ValueGrad } from '../../optim/lbfgs.js';
import type { AutoLaplaceApproximation } from '../autoguide.js';
import { choleskyHost, invFromChol } from './linalg.js';
import { fdHessian, type BatchGrad } from './potential.js';

/**
 * The MAP by L-BFGS, polished by safeguarded Newton steps with the finite-difference Hessian;
 * converged when the Newton step is below `tol` posterior sds (√diag H⁻¹) in every coordinate.
 * Yields after every evaluation of the potential (and after each Hessian), so that a caller can
 * abort inside a line search.
 */
export function* findMode(
  fns: { one: ValueGrad; batch: BatchGrad },
  x0: Float64Array,
  tol = 1e-4,
): Generator<void, { x: Float64Array; hess: Float64Array | null; chol: Float64Array | null; iterations: number; converged: boolean; reason: string }, void> {
  const safe = backOff(fns.one);
  const r = yield* lbfgsSteps(safe, x0, { maxIter: 300 });
  let x = r.x;
  let { f, g } = fns.one(x);
  yield;
  const d = x.length;
  let reason = '';
  for (let it = 0; it < 8; it++) {
    let h: Float64Array;
    try {
      h = fdHessian(fns.batch, x);
    } catch (e) {
      if (!(e instanceof VarinfError)) throw e;
      h = new Float64Array(d * d).fill(NaN);
    }
    yield;
    const l = choleskyHost(h, d);
    if (l === null) {
      reason = `the Hessian of −log p is not positive definite after ${r.iterations} L-BFGS and ${it} Newton iterations: no MAP (a funnel or a boundary)`;
      return { x, hess: null, chol: null, iterations: r.iterations + it, converged: false, reason };
    }
    const inv = invFromChol(l, d);
    const step = new Float64Array(d);
    let worst = 0;
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += inv[i * d + j] * g[j];
      step[i] = -s;
      worst = Math.max(worst, Math.abs(s) / Math.sqrt(inv[i * d + i]));
    }
    if (worst < tol) return { x, hess: h, chol: l, iterations: r.iterations + it, converged: true, reason: 'converged' };
    let t = 1;
    let moved = false;
    for (let ls = 0; ls < 30; ls++) {
      const xn = x.map((v, i) => v + t * step[i]);
      const nx = safe(xn);
      yield;
      if (Number.isFinite(nx.f) && nx.f <= f + 1e-12 * Math.abs(f)) {
        x = xn;
        f = nx.f;
        g = nx.g;
        moved = true;
        break;
      }
      t *= 0.5;
    }
    if (!moved) {
      reason = `Newton steps stalled ${worst.toExponential(2)} sds from a mode`;
      return { x, hess: null, chol: null, iterations: r.iterations + it, converged: false, reason };
    }
  }
  return { x, hess: null, chol: null, iterations: r.iterations + 8, converged: false, reason: 'Newton did not converge in 8 iterations' };
}

/**
 * The MAP search's starts: `first`, then n − 1 points uniform on (−2, 2)^d from `k` (Stan's default
 * initialization in the unconstrained space). Raises a ValueError unless n is a positive integer.
 */
export function modeStarts(first: Float64Array, n: number, k: Key): Float64Array[] {
  if (!Number.isInteger(n) || n < 1) throw new ValueError(`fit: modeStarts must be a positive integer, got ${n}`);
  const out = [first];
  if (n > 1) {
    const u = uniform(k, [n - 1, first.length], { low: -2, high: 2, dtype: 'float64' }).dataSync();
    for (let i = 0; i < n - 1; i++) out.push(Float64Array.from(u.subarray(i * first.length, (i + 1) * first.length)));
  }
  return out;
}

/** What {@link findMode} returns. */
export type ModeResult = ReturnType<typeof findMode> extends Generator<void, infer R, void> ? R : never;

/**
 * {@link findMode} from each start in turn; returns the converged result with the lowest −log p
 * (the first start's result when none converged), the distinct values of −log p at the converged
 * modes (equal to 1e-6 relative count as one), and the index of the start that won.
 */
export function* findBestMode(
  fns: { one: ValueGrad; batch: BatchGrad },
  starts: readonly Float64Array[],
  tol = 1e-4,
): Generator<void, ModeResult & { modes: number[]; best: number }, void> {
  let best: (ModeResult & { f: number; index: number }) | null = null;
  let first: ModeResult | null = null;
  const modes: number[] = [];
  for (let i = 0; i < starts.length; i++) {
    const m = yield* findMode(fns, starts[i], tol);
    first ??= m;
    if (!m.converged) continue;
    const f = fns.one(m.x).f;
    yield;
    if (!modes.some((u) => Math.abs(u - f) <= 1e-6 * Math.max(1, Math.abs(f)))) modes.push(f);
    if (best === null || f < best.f) best = { ...m, f, index: i };
  }
  const chosen = best ?? (first as ModeResult);
  return { ...chosen, modes: modes.sort((a, b) => a - b), best: best?.index ?? 0 };
}

/**
 * Where the MAP search is: evaluations of the potential U (and its gradient) so far, a Hessian's
 * 2d points included, and the lowest finite U seen with its point (the flat unconstrained vector).
 */
export interface ModeSearch {
  /** Points at which U and its gradient were evaluated. */
  evaluations: number;
  /** The lowest finite U seen (Infinity before one). */
  lowest: number;
  /** Where it was seen (null before a finite U). */
  at: Float64Array | null;
}

/** `fns`, each call counted into `search` (its lowest value kept) and followed by `report()`. */
export function tracked(fns: { one: ValueGrad; batch: BatchGrad }, search: ModeSearch, report: () => void): { one: ValueGrad; batch: BatchGrad } {
  const seen = (f: number, z: Float64Array): void => {
    if (Number.isFinite(f) && f < search.lowest) {
      search.lowest = f;
      search.at = z.slice();
    }
  };
  return {
    one: (z) => {
      try {
        const r = fns.one(z);
        seen(r.f, z);
        return r;
      } finally {
        search.evaluations++;
        report();
      }
    },
    batch: (z, P) => {
      try {
        return fns.batch(z, P);
      } finally {
        search.evaluations += P;
        report();
      }
    },
  };
}

/**
 * `fg`, with a point where the density is invalid (a scale underflowing to 0 in a funnel, a far
 * draw) scored +∞ with a zero gradient, so that a line search backs off instead of throwing.
 */
export function backOff(fg: ValueGrad): ValueGrad {
  return (z) => {
    try {
      return fg(z);
    } catch (e) {
      if (e instanceof VarinfError) return { f: Infinity, g: new Float64Array(z.length) };
      throw e;
    }
  };
}

export function concatInit<A extends unknown[]>(lap: AutoLaplaceApproximation<A>): Tensor {
  const parts = lap.sites.map((s) => Array.from(s.init.dataSync()));
  return tensor(Float64Array.from(parts.flat()), [parts.reduce((a, p) => a + p.length, 0)]);
}

/**
 * A coordinate direction of the unconstrained space along which U = −log p does not increase
 * (up to rounding) over 10, 100 and 1000 units from `x`, or null. A proper posterior's density
 * falls in every direction far enough out; one that stays flat or grows along a whole ray of
 * length 1000 (e^1000 on a positive site) has no finite normalizing constant there.
 */
export function flatDirection(u: (z: Tensor) => Tensor, x: Float64Array): { coord: number; sign: number; rise: number } | null {
  const d = x.length;
  const steps = [10, 100, 1000];
  const P = 1 + 2 * d * steps.length;
  const pts = new Float64Array(P * d);
  for (let p = 0; p < P; p++) pts.set(x, p * d);
  let p = 1;
  for (let i = 0; i < d; i++)
    for (const sign of [1, -1])
      for (const t of steps) {
        pts[p * d + i] += sign * t;
        p++;
      }
  let vals: Float64Array;
  try {
    vals = Float64Array.from(u(tensor(pts, [P, d])).dataSync());
  } catch (e) {
    if (!(e instanceof VarinfError)) throw e;
    return null;
  }
  const u0 = vals[0];
  if (!Number.isFinite(u0)) return null;
  p = 1;
  for (let i = 0; i < d; i++)
    for (const sign of [1, -1]) {
      let rise = -Infinity;
      for (let k = 0; k < steps.length; k++) {
        const v = vals[p++];
        // NaN (an overflow) counts as a rise: the density is not shown to stay up.
        rise = Math.max(rise, Number.isNaN(v) ? Infinity : v - u0);
      }
      if (rise <= 1e-8 * Math.max(1, Math.abs(u0))) return { coord: i, sign, rise };
    }
  return null;
}
