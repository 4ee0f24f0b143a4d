/**
 * One EP site update (Minka 2001; power EP, Minka 2004): remove α of the site from q to get the
 * cavity, match the moments of cavity × likelihood^α, and move the site so that q has those
 * moments, damped in natural parameters.
 */
import type { Marginal } from './gaussian.js';
import type { EpLikelihood } from './likelihoods.js';

/** A Gaussian in natural parameters: precision τ and precision × mean ν. */
export interface Natural {
  /** Precision. */
  readonly tau: number;
  /** Precision × mean. */
  readonly nu: number;
}

/** The cavity q\α(fᵢ) ∝ q(fᵢ) / tᵢ(fᵢ)^α in natural parameters: τ = 1/v − α τ̃, ν = m/v − α ν̃ (improper if τ ≤ 0). */
export function cavity(q: Marginal, siteTau: number, siteNu: number, alpha: number): Natural {
  return { tau: 1 / q.variance - alpha * siteTau, nu: q.mean / q.variance - alpha * siteNu };
}

/** A site's undamped target, or why there is none. */
export type SiteProposal =
  | { readonly ok: true; readonly tau: number; readonly nu: number; readonly logZ: number }
  | { readonly ok: false; readonly reason: 'negative-cavity' | 'tilted-failed'; readonly detail: string };

/**
 * The undamped new site for data point y: with the tilted moments (m̂, v̂) of
 * N(f; cavity) p(y | f)^α, τ̃ = (1/v̂ − τ_cav)/α and ν̃ = (m̂/v̂ − ν_cav)/α.
 */
export function proposeSite(lik: EpLikelihood, y: number, cav: Natural, alpha: number): SiteProposal {
  if (!(cav.tau > 0) || !Number.isFinite(cav.tau) || !Number.isFinite(cav.nu))
    return { ok: false, reason: 'negative-cavity', detail: `cavity precision ${cav.tau.toPrecision(4)}` };
  const t = lik.tilted(y, cav.nu / cav.tau, 1 / cav.tau, alpha);
  if (!Number.isFinite(t.logZ) || !(t.variance > 0) || !Number.isFinite(t.mean))
    return { ok: false, reason: 'tilted-failed', detail: `tilted log Z ${t.logZ}, mean ${t.mean}, variance ${t.variance}` };
  return { ok: true, tau: (1 / t.variance - cav.tau) / alpha, nu: (t.mean / t.variance - cav.nu) / alpha, logZ: t.logZ };
}

/** The damped step from the old site toward the proposal: δ·(new − old) in natural parameters. */
export function dampedStep(oldTau: number, oldNu: number, proposal: Natural, damping: number): Natural {
  return { tau: damping * (proposal.tau - oldTau), nu: damping * (proposal.nu - oldNu) };
}
