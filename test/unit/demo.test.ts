import { beforeAll, describe, expect, it } from 'vitest';
import { fitDiabetes, loadDiabetes, type BlrFit } from '../../examples/blr.js';

describe('demo: Bayesian linear regression on the diabetes data', () => {
  const data = loadDiabetes();
  const ref = data.reference;
  let fit: BlrFit;
  beforeAll(() => {
    fit = fitDiabetes(data, { tau: ref.tau, tauB: ref.tauB });
  });

  it('fixes σ to the OLS residual sd NumPy finds', () => {
    expect(fit.sigma).toBeCloseTo(ref.sigma, 9);
  });

  it('solves the closed form as NumPy does', () => {
    for (let i = 0; i < ref.mean.length; i++) {
      expect(Math.abs(fit.exactMean[i] - ref.mean[i])).toBeLessThan(1e-9 * (1 + Math.abs(ref.mean[i])));
      expect(Math.abs(fit.exactSd[i] - ref.sd[i])).toBeLessThan(1e-9 * (1 + ref.sd[i]));
    }
  });

  it('finds the closed-form posterior mean by gradient ascent', () => {
    expect(fit.steps).toBeLessThan(5000);
    expect(fit.maxAbsDiff).toBeLessThan(1e-8);
  });
});
