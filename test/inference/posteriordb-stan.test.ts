/**
 * posteriordb reference posteriors that run only through the Stan front end: the program is
 * compiled by `fromStan` from the fixture's model.stan (posteriordb's own, BSD 3-Clause) and fitted
 * by `fit`. Issue 19's targets for regressions that are close to Gaussian, full-rank guide: worst z
 * ≤ 0.1 and r ∈ [0.9, 1.1] against the NUTS reference, no diverged phase, never below the Laplace
 * start's ELBO, and k̂ ≤ 0.7 (k̂ flags only fits that miss). The mean-field guide on a regression
 * with an interaction term misses (its sds of the correlated coefficients are a few percent of the
 * reference's) and k̂ must say so. The full table over all 23 is bench/README-posteriordb-stan.md.
 */
import { describe, expect, it } from 'vitest';
import { fitStanPosterior, report, type StanPdbFit } from './posteriordb-helpers.js';

// Left out, as open defects (bench/README-posteriordb-stan.md): mesquite-logmesquite and
// mesquite-logmesquite_logvas (46 trees, 8 parameters), whose full-rank fits get the means but
// r down to 0.87–0.88 on some keys, with k̂ ≈ 0.5 (not flagged).
const NEAR_GAUSSIAN = ['kidiq-kidscore_interaction', 'mesquite-logmesquite_logva'];

function expectTargets(f: StanPdbFit): void {
  expect(f.laplace).toBe(true);
  expect(f.diverged).toEqual([]);
  expect(f.gainOverStart).toBeGreaterThanOrEqual(0);
  expect(f.cmp.worstZ).toBeLessThanOrEqual(0.1);
  expect(f.cmp.rMin).toBeGreaterThanOrEqual(0.9);
  expect(f.cmp.rMax).toBeLessThanOrEqual(1.1);
  expect(f.khat).toBeLessThanOrEqual(0.7);
}

describe('posteriordb through fromStan, near-Gaussian regressions', () => {
  for (const name of NEAR_GAUSSIAN)
    it(`${name}: full-rank within z ≤ 0.1 and r ∈ [0.9, 1.1], no divergence, not below the start`, async () => {
      const f = await fitStanPosterior(name, 'mvn');
      report(name, 'mvn', f);
      expectTargets(f);
    });

  it('kidiq with an interaction: mean-field gets the means, under-disperses, and k̂ flags it', async () => {
    const f = await fitStanPosterior('kidiq-kidscore_interaction', 'normal');
    report('kidiq-kidscore_interaction', 'normal', f);
    expect(f.cmp.worstZ).toBeLessThan(0.3);
    // mom_iq (around 100, never near 0) makes the intercepts and slopes nearly collinear: 1/√H_ii is far below the marginal sd.
    expect(f.cmp.rMin).toBeLessThan(0.2);
    expect(f.khat).toBeGreaterThan(0.7);
  });
});
