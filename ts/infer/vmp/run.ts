/**
 * The VMP loop: initialize, then sweep over the schedule until the ELBO settles or the sweep
 * budget is spent. The ELBO is computed after every sweep; a decrease beyond rounding is reported
 * (a warning, or an error with `onDecrease: 'throw'`), a NaN ELBO is an error naming the sweep, and
 * a run that uses its budget without converging returns with `converged: false` and a warning.
 */
import { NonFiniteError, ValueError, VarinfError } from '../../core/errors.js';
import type { VmpFactor, VmpVariable } from './node.js';
import { defaultSchedule, namedSchedule } from './schedule.js';

/** Options of `FactorGraph.run`. */
export interface VmpOptions {
  /** The sweep budget (default 200). */
  maxSweeps?: number;
  /** Converged when |ΔELBO| <= tol · max(1, |ELBO|) between sweeps (default 1e-10). */
  tol?: number;
  /** Latent variables by name in update order (default: derived from the graph, see `defaultSchedule`). */
  schedule?: readonly string[];
  /** What to do when the ELBO falls between sweeps by more than 1e-9 relative: 'warn' (default) or 'throw'. */
  onDecrease?: 'warn' | 'throw';
  /**
   * Also compute the ELBO after every single variable update (a sweep then costs one ELBO per
   * variable), so a decrease names the variable whose update caused it; for debugging a new node.
   */
  checkUpdates?: boolean;
  /** Receives each warning (default: `process.emitWarning` with type 'VmpWarning'). */
  onWarning?: (message: string) => void;
  /** Called after each sweep with its number (1-based) and the ELBO. */
  onSweep?: (sweep: number, elbo: number) => void;
  /** Stops between sweeps; the result so far comes back with `cancelled: true`. */
  signal?: AbortSignal;
}

/** What a VMP run returns; the posteriors are on the variables themselves. */
export interface VmpResult {
  /** The final ELBO (a lower bound on log p(data), all constants included). */
  elbo: number;
  /** ELBO after initialization, then after each sweep. */
  elboTrace: number[];
  /** Sweeps run. */
  sweeps: number;
  /** Whether the ELBO change fell below `tol` within the budget. */
  converged: boolean;
  /** Whether the signal stopped the run. */
  cancelled: boolean;
  /** Largest relative decrease of the ELBO between sweeps (0 when monotone). */
  maxRelDecrease: number;
  /** The update order used. */
  schedule: string[];
  /** Non-convergence and ELBO decreases, as reported to `onWarning`. */
  warnings: string[];
  /** Wall time in milliseconds. */
  timeMs: number;
}

/** Relative ELBO decreases at or below this are rounding, not an error. */
const DECREASE_TOL = 1e-9;

/** @internal Runs VMP on the variables and factors of a graph. */
export function runVmp(vars: readonly VmpVariable[], factors: readonly VmpFactor[], opts: VmpOptions): VmpResult {
  const { maxSweeps = 200, tol = 1e-10, onSweep, signal, onDecrease = 'warn' } = opts;
  if (!(Number.isInteger(maxSweeps) && maxSweeps >= 0)) throw new ValueError(`vmp: maxSweeps must be a non-negative integer, got ${maxSweeps}`);
  if (!(tol >= 0)) throw new ValueError(`vmp: tol must be >= 0, got ${tol}`);
  if (vars.length === 0) throw new ValueError('vmp: the graph has no latent variables');
  const warn = opts.onWarning ?? ((m: string) => process.emitWarning(m, 'VmpWarning'));
  const warnings: string[] = [];
  const report = (m: string): void => {
    warnings.push(m);
    warn(m);
  };
  const order = opts.schedule ? namedSchedule(vars, opts.schedule) : defaultSchedule(vars);
  const t0 = performance.now();
  // Initialize each variable not yet set, parents (declared earlier) first, from its prior and
  // from the other factors all of whose other variables the user initialized.
  for (const v of vars)
    if (v.version === 0 && !v.initialized) v.update(v.factors.filter((f, i) => i === 0 || f.variables.every((u) => u === v || u.initialized)));
  const trace = [elbo(vars, factors, 0)];
  let maxRelDecrease = 0;
  let converged = false;
  let cancelled = false;
  let sweeps = 0;
  while (sweeps < maxSweeps) {
    if (signal?.aborted) {
      cancelled = true;
      break;
    }
    if (opts.checkUpdates === true) {
      let before = trace[trace.length - 1];
      for (const v of order) {
        v.update();
        const after = elbo(vars, factors, sweeps + 1);
        const rel = (before - after) / Math.max(1, Math.abs(before));
        if (rel > DECREASE_TOL) {
          const m = `vmp: the ELBO decreased in sweep ${sweeps + 1} when q('${v.name}') was updated, from ${before} to ${after} (relative ${rel.toExponential(2)}); a message to '${v.name}' or an ELBO term of its factors is wrong`;
          if (onDecrease === 'throw') throw new VarinfError(m);
          report(m);
        }
        before = after;
      }
    } else for (const v of order) v.update();
    sweeps++;
    const e = elbo(vars, factors, sweeps);
    const prev = trace[trace.length - 1];
    trace.push(e);
    onSweep?.(sweeps, e);
    const scale = Math.max(1, Math.abs(prev));
    if (e < prev) {
      const rel = (prev - e) / scale;
      maxRelDecrease = Math.max(maxRelDecrease, rel);
      if (rel > DECREASE_TOL) {
        const m = `vmp: the ELBO decreased at sweep ${sweeps}, from ${prev} to ${e} (relative ${rel.toExponential(2)}); VMP updates cannot lower it, so a message or ELBO term is wrong or the model is degenerate`;
        if (onDecrease === 'throw') throw new VarinfError(m);
        report(m);
      }
    }
    if (Math.abs(e - prev) <= tol * scale) {
      converged = true;
      break;
    }
  }
  if (!converged && !cancelled) {
    const last = trace.length > 1 ? Math.abs(trace[trace.length - 1] - trace[trace.length - 2]) : NaN;
    report(`vmp: not converged within ${maxSweeps} sweeps (last ELBO change ${last.toExponential(2)}, tol ${tol} relative); raise maxSweeps or tol`);
  }
  return {
    elbo: trace[trace.length - 1],
    elboTrace: trace,
    sweeps,
    converged,
    cancelled,
    maxRelDecrease,
    schedule: order.map((v) => v.name),
    warnings,
    timeMs: performance.now() - t0,
  };
}

/** Σ_factors E[log f] + Σ_variables H[q]; throws naming the first non-finite term. */
function elbo(vars: readonly VmpVariable[], factors: readonly VmpFactor[], sweep: number): number {
  let s = 0;
  for (const f of factors) {
    const t = f.expectedLog();
    if (!Number.isFinite(t)) throw new NonFiniteError(`vmp: E[log f] of '${f.name}' is ${t} after sweep ${sweep}`);
    s += t;
  }
  for (const v of vars) {
    const h = v.entropy();
    if (!Number.isFinite(h)) throw new NonFiniteError(`vmp: the entropy of q('${v.name}') is ${h} after sweep ${sweep}`);
    s += h;
  }
  return s;
}
