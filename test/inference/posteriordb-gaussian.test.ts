/**
 * posteriordb reference posteriors that are close to Gaussian (arK, sblri, sblrc, wells): the
 * full-rank guide must match the NUTS reference within 0.1 sd on every mean (z) and within 10%
 * on every sd (r); the mean-field guide must show its under-dispersion where the posterior has
 * strong correlations (sblrc, arK).
 */
import { describe, expect, it } from 'vitest';
import { fitPosterior, report } from './posteriordb-helpers.js';

const NEAR_GAUSSIAN = ['arK-arK', 'sblri-blr', 'sblrc-blr', 'wells_data-wells_daae_c_model'];

describe('posteriordb, near-Gaussian posteriors', () => {
  for (const name of NEAR_GAUSSIAN) {
    it(`${name}: AutoMultivariateNormal within z < 0.1 and |r − 1| < 0.1 of the reference`, async () => {
      const f = await fitPosterior(name, 'mvn');
      report(name, 'mvn', f);
      expect(f.laplace).toBe(true);
      expect(f.cmp.worstZ).toBeLessThan(0.1);
      expect(f.cmp.rMin).toBeGreaterThan(0.9);
      expect(f.cmp.rMax).toBeLessThan(1.1);
      // A full-rank Gaussian is a good importance proposal here.
      expect(f.khat).toBeLessThan(0.75);
    });
  }

  it('sblrc (correlated predictors): AutoNormal gets the means but under-disperses', async () => {
    const f = await fitPosterior('sblrc-blr', 'normal');
    report('sblrc-blr', 'normal', f);
    expect(f.cmp.worstZ).toBeLessThan(0.2);
    // Mean-field sds are 1/√H_ii, well below the marginal sds of correlated coefficients.
    expect(f.cmp.rMin).toBeLessThan(0.6);
    expect(f.cmp.rMax).toBeLessThan(1.05);
  });

  it('arK: AutoNormal under-disperses the correlated AR coefficients', async () => {
    const f = await fitPosterior('arK-arK', 'normal');
    report('arK-arK', 'normal', f);
    expect(f.cmp.worstZ).toBeLessThan(0.2);
    expect(f.cmp.rMin).toBeLessThan(0.4);
  });

  it('sblri (independent predictors): AutoNormal is nearly exact', async () => {
    const f = await fitPosterior('sblri-blr', 'normal');
    report('sblri-blr', 'normal', f);
    expect(f.cmp.worstZ).toBeLessThan(0.1);
    expect(f.cmp.rMin).toBeGreaterThan(0.85);
    expect(f.cmp.rMax).toBeLessThan(1.1);
  });
});
