/** EP's estimate of the log marginal likelihood log p(y) (Minka 2001; power EP: Minka 2004). */
import type { EpGaussian } from './gaussian.js';
import type { EpLikelihood } from './likelihoods.js';
import { cavity } from './sites.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** log ∫ exp(ν f − ½ τ f²) df = ν²/(2τ) − ½ log τ + ½ log 2π. */
function logPartition1(tau: number, nu: number): number {
  return (nu * nu) / (2 * tau) - 0.5 * Math.log(tau) + 0.5 * LOG_2PI;
}

/**
 * log Z_EP = Σᵢ log sᵢ + log ∫ p₀(w) Π exp(ν̃ᵢ fᵢ − ½ τ̃ᵢ fᵢ²) dw, where each site's scale sᵢ makes
 * ∫ q\α(fᵢ) tᵢ(fᵢ)^α dfᵢ equal the tilted normalizer Ẑᵢ = ∫ q\α(fᵢ) p(yᵢ | fᵢ)^α dfᵢ:
 * α log sᵢ = log Ẑᵢ + A(cavityᵢ) − A(q(fᵢ)), A the 1-D Gaussian log-partition. The cavities are
 * taken at the final q (call after `rebuild`). NaN, with `bad` listing the sites, if a cavity is improper.
 */
export function epLogMarginal(
  q: EpGaussian, lik: EpLikelihood, y: ArrayLike<number>, tau: Float64Array, nu: Float64Array, alpha: number,
): { readonly logMarginal: number; readonly bad: number[] } {
  let total = q.logNormalizer();
  const bad: number[] = [];
  for (let i = 0; i < q.sites; i++) {
    const m = q.marginal(i);
    const c = cavity(m, tau[i], nu[i], alpha);
    if (!(c.tau > 0)) { bad.push(i); continue; }
    const t = lik.tilted(y[i], c.nu / c.tau, 1 / c.tau, alpha);
    total += (t.logZ + logPartition1(c.tau, c.nu) - logPartition1(1 / m.variance, m.mean / m.variance)) / alpha;
  }
  return { logMarginal: bad.length > 0 ? NaN : total, bad };
}
