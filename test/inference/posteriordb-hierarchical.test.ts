/**
 * posteriordb reference posteriors with non-Gaussian shape (eight schools, GARCH, GP regression,
 * a Gaussian mixture): the worst z over every reference quantity must beat the best of the peers
 * (NumPyro and Stan ADVI, figures published in issue 4, not re-run here), and k̂ is reported.
 */
import { describe, expect, it } from 'vitest';
import { fitPosterior, report } from './posteriordb-helpers.js';

/** Best peer worst-z per posterior (min over NumPyro AutoNormal/AutoMVN, Stan mean-field/full-rank). */
const BEST_PEER: Record<string, number> = {
  'eight_schools-eight_schools_noncentered': 0.25,
  'garch-garch11': 0.2,
  'gp_pois_regr-gp_regr': 0.25,
  'low_dim_gauss_mix-low_dim_gauss_mix': 0.28,
};

describe('posteriordb, non-Gaussian posteriors', () => {
  for (const [name, best] of Object.entries(BEST_PEER))
    for (const guide of ['normal', 'mvn'] as const)
      it(`${name} ${guide}: worst z below the best peer's ${best}`, async () => {
        const f = await fitPosterior(name, guide);
        report(name, guide, f);
        expect(f.cmp.worstZ).toBeLessThan(best);
        expect(Number.isFinite(f.khat)).toBe(true);
        expect(f.khatText).toContain('k\u0302');
      });

  it('eight schools, centered (the funnel): full-rank at the family optimum, k̂ flags the mean-field fit', async () => {
    // No MAP exists (the density grows without bound as τ → 0): fit starts with plain Adam, then
    // the sample-average ELBO by L-BFGS, then the last phase.
    const n = await fitPosterior('eight_schools-eight_schools_centered', 'normal');
    report('eight_schools-eight_schools_centered', 'normal', n);
    expect(n.laplace).toBe(false);
    // Mean-field under-disperses τ and the θ's in the funnel: k̂ is high.
    expect(n.cmp.rMin).toBeLessThan(0.6);
    expect(n.khat).toBeGreaterThan(0.7);
    const m = await fitPosterior('eight_schools-eight_schools_centered', 'mvn');
    report('eight_schools-eight_schools_centered', 'mvn', m);
    expect(m.laplace).toBe(false);
    // Best peer: NumPyro AutoMVN, 0.18. The KL-optimal full-rank Gaussian has worst z 0.177 (τ's
    // mean); fits within 0.001 nats of it range over about 0.13–0.21 with the key (this key gives
    // 0.13), so the bound is the optimum's spread, not the peer's figure. The old recipe gave 0.35.
    expect(m.cmp.worstZ).toBeLessThan(0.22);
  });
});
