/**
 * The EP driver: sweeps of sequential or parallel site updates until the sites stop moving or
 * the sweep budget runs out, then EP's log marginal likelihood. Every skipped or damped update
 * and a run that did not converge are recorded in `warnings`.
 */
import { ValueError, VarinfError } from '../../core/errors.js';
import { epLogMarginal } from './evidence.js';
import type { EpGaussian } from './gaussian.js';
import type { EpLikelihood } from './likelihoods.js';
import { cavity, dampedStep, proposeSite } from './sites.js';

/** Options of an EP run. */
export interface EpOptions {
  /** The power α ∈ (0, 1] of power EP (1: Minka's EP; α → 0 approaches variational inference). */
  readonly alpha?: number;
  /** Damping δ ∈ (0, 1]: each site moves δ of the way to its new value in natural parameters (1: none). */
  readonly damping?: number;
  /** 'sequential' (one site at a time, q updated after each; the default) or 'parallel' (all sites from the same q, then q rebuilt). */
  readonly schedule?: 'sequential' | 'parallel';
  /** The sweep budget (200 by default); a run that uses it up reports `converged: false`. */
  readonly maxSweeps?: number;
  /** Converged when no site parameter (τ̃, ν̃) moved more than this in a sweep (1e-8 by default). */
  readonly tol?: number;
}

/** Something EP had to do that the user should know about. */
export interface EpWarning {
  /**
   * 'negative-cavity': the cavity was improper, the update skipped; 'tilted-failed': the tilted
   * moments were not finite, the update skipped; 'damped': a step would have made q improper and
   * was shrunk (or skipped if shrinking did not help); 'not-converged': the sweep budget ran out;
   * 'evidence': the log marginal likelihood could not be formed.
   */
  readonly kind: 'negative-cavity' | 'tilted-failed' | 'damped' | 'not-converged' | 'evidence';
  /** The sweep (from 1) it happened in. */
  readonly sweep: number;
  /** The site, where there is one. */
  readonly site?: number;
  /** A sentence naming the caller, the sweep and the site, for logs. */
  readonly message: string;
}

/** What an EP run returns. */
export interface EpRun {
  /** Site precisions τ̃ᵢ of the sites tᵢ(f) ∝ exp(ν̃ᵢ f − ½ τ̃ᵢ f²) (negative for some non-log-concave likelihoods). */
  readonly siteTau: Float64Array;
  /** Site precision-means ν̃ᵢ. */
  readonly siteNu: Float64Array;
  /** q's marginal means of the latents fᵢ at the sites. */
  readonly mean: Float64Array;
  /** q's marginal variances of the latents fᵢ at the sites. */
  readonly variance: Float64Array;
  /** EP's estimate of log p(y) (NaN, with an 'evidence' warning, if a final cavity is improper). */
  readonly logMarginal: number;
  /** True when the last sweep moved no site more than `tol` and skipped none. */
  readonly converged: boolean;
  /** Sweeps run. */
  readonly sweeps: number;
  /** The largest site change in each sweep. */
  readonly changes: number[];
  /** Site updates skipped (improper cavity, non-finite tilted moments, or a step no damping could keep proper), over the whole run. */
  readonly skipped: number;
  /** Steps damped below `damping` to keep q proper, over the whole run. */
  readonly damped: number;
  /** Details of skipped and damped updates (the first 100) and of non-convergence. */
  readonly warnings: EpWarning[];
}

const MAX_WARNINGS = 100;
const MAX_HALVINGS = 20;

/** Checks EP options and fills the defaults; `site` names the caller in errors. */
export function epDefaults(o: EpOptions, site: string): Required<EpOptions> {
  const alpha = o.alpha ?? 1;
  const damping = o.damping ?? 1;
  const maxSweeps = o.maxSweeps ?? 200;
  const tol = o.tol ?? 1e-8;
  const schedule = o.schedule ?? 'sequential';
  if (!(alpha > 0 && alpha <= 1)) throw new ValueError(`${site}: alpha must be in (0, 1], got ${alpha}`);
  if (!(damping > 0 && damping <= 1)) throw new ValueError(`${site}: damping must be in (0, 1], got ${damping}`);
  if (!Number.isInteger(maxSweeps) || maxSweeps < 1) throw new ValueError(`${site}: maxSweeps must be an integer ≥ 1, got ${maxSweeps}`);
  if (!(tol > 0)) throw new ValueError(`${site}: tol must be > 0, got ${tol}`);
  if (schedule !== 'sequential' && schedule !== 'parallel') throw new ValueError(`${site}: schedule must be 'sequential' or 'parallel', got ${String(schedule)}`);
  return { alpha, damping, maxSweeps, tol, schedule };
}

/**
 * Runs EP on q (the prior, as built) with one site per target y[i].
 * @throws VarinfError if q cannot be rebuilt as a proper Gaussian after a sequential sweep.
 */
export function runEp(q: EpGaussian, lik: EpLikelihood, y: ArrayLike<number>, options: EpOptions, site: string): EpRun {
  const o = epDefaults(options, site);
  const n = q.sites;
  const tau = new Float64Array(n);
  const nu = new Float64Array(n);
  const warnings: EpWarning[] = [];
  let skipped = 0;
  let damped = 0;
  const warn = (w: EpWarning): void => { if (warnings.length < MAX_WARNINGS) warnings.push(w); };
  const changes: number[] = [];
  let converged = false;
  let sweep = 0;
  while (sweep < o.maxSweeps && !converged) {
    sweep++;
    let change = 0;
    let skippedNow = 0;
    if (o.schedule === 'sequential') {
      for (let i = 0; i < n; i++) {
        const m = q.marginal(i);
        const p = proposeSite(lik, y[i], cavity(m, tau[i], nu[i], o.alpha), o.alpha);
        if (!p.ok) {
          skipped++; skippedNow++;
          warn({ kind: p.reason, sweep, site: i, message: `${site}: site ${i} skipped in sweep ${sweep} (${p.detail})` });
          continue;
        }
        let delta = o.damping;
        let step = dampedStep(tau[i], nu[i], p, delta);
        let halvings = 0;
        // q stays proper after the rank-one update iff 1 + Δτ̃·Var(fᵢ) > 0.
        while (!(1 + step.tau * m.variance > 0) && halvings < MAX_HALVINGS) {
          delta /= 2; halvings++;
          step = dampedStep(tau[i], nu[i], p, delta);
        }
        if (halvings > 0) {
          const gaveUp = !(1 + step.tau * m.variance > 0);
          if (gaveUp) { skipped++; skippedNow++; } else damped++;
          warn({ kind: 'damped', sweep, site: i, message: `${site}: site ${i} in sweep ${sweep} would make q improper; ${gaveUp ? 'skipped' : `damped to ${delta.toPrecision(3)}`}` });
          if (gaveUp) continue;
        }
        q.rankOne(i, step.tau, step.nu);
        tau[i] += step.tau;
        nu[i] += step.nu;
        change = Math.max(change, Math.abs(step.tau), Math.abs(step.nu));
      }
      if (!q.rebuild(tau, nu))
        throw new VarinfError(`${site}: EP's Gaussian is not proper after sweep ${sweep} (rank-one updates lost positive definiteness); try damping < 1`);
    } else {
      const target = new Float64Array(2 * n);
      const ok = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const p = proposeSite(lik, y[i], cavity(q.marginal(i), tau[i], nu[i], o.alpha), o.alpha);
        if (!p.ok) {
          skipped++; skippedNow++;
          warn({ kind: p.reason, sweep, site: i, message: `${site}: site ${i} skipped in sweep ${sweep} (${p.detail})` });
          continue;
        }
        ok[i] = 1; target[2 * i] = p.tau; target[2 * i + 1] = p.nu;
      }
      let delta = o.damping;
      let halvings = 0;
      for (;;) {
        const nt = Float64Array.from(tau, (t, i) => (ok[i] ? t + delta * (target[2 * i] - t) : t));
        const nn = Float64Array.from(nu, (v, i) => (ok[i] ? v + delta * (target[2 * i + 1] - v) : v));
        if (q.rebuild(nt, nn)) {
          for (let i = 0; i < n; i++) change = Math.max(change, Math.abs(nt[i] - tau[i]), Math.abs(nn[i] - nu[i]));
          tau.set(nt); nu.set(nn);
          break;
        }
        if (++halvings > MAX_HALVINGS) { skipped += n; skippedNow += n; break; }
        delta /= 2;
      }
      if (halvings > 0) {
        damped++;
        warn({ kind: 'damped', sweep, message: `${site}: the parallel update of sweep ${sweep} would make q improper; ${halvings > MAX_HALVINGS ? 'skipped' : `damped to ${delta.toPrecision(3)}`}` });
      }
    }
    changes.push(change);
    converged = change <= o.tol && skippedNow === 0;
  }
  if (!converged)
    warnings.push({ kind: 'not-converged', sweep, message: `${site}: EP did not converge in ${o.maxSweeps} sweeps (last sweep moved a site by ${changes[changes.length - 1].toPrecision(3)}, tol ${o.tol})` });
  const ev = epLogMarginal(q, lik, y, tau, nu, o.alpha);
  if (ev.bad.length > 0)
    warnings.push({ kind: 'evidence', sweep, message: `${site}: no log marginal likelihood: the cavities of ${ev.bad.length} site(s) are improper at the end (first: ${ev.bad[0]})` });
  const mean = new Float64Array(n);
  const variance = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const m = q.marginal(i);
    mean[i] = m.mean; variance[i] = m.variance;
  }
  return { siteTau: tau, siteNu: nu, mean, variance, logMarginal: ev.logMarginal, converged, sweeps: sweep, changes, skipped, damped, warnings };
}
