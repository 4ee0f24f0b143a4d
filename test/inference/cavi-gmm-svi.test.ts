import { describe, expect, it } from 'vitest';
import { adjustedRandIndex, bayesGmm, bayesGmmSvi } from '../../ts/infer/cavi/index.js';
import { key, normal, uniform, ValueError } from '../../ts/index.js';

/** 10k 2-D points from 5 correlated Gaussians, centers offset far from the origin. */
function mixture(): { x: Float64Array; labels: Int32Array } {
  const N = 10_000;
  const centers = [[100, 50], [106, 51], [96, 55], [103, 44], [108, 58]];
  const z = normal(key(42), [N * 2]).dataSync();
  const u = uniform(key(43), [N]).dataSync();
  const x = new Float64Array(N * 2);
  const labels = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    const c = Math.min(4, Math.floor(u[i] * 5));
    labels[i] = c;
    const s = 0.6 + 0.3 * c;
    x[2 * i] = centers[c][0] + s * z[2 * i];
    x[2 * i + 1] = centers[c][1] + s * (0.5 * z[2 * i] + 0.8 * z[2 * i + 1]);
  }
  return { x, labels };
}

describe('Bayesian GMM by stochastic natural-gradient VI', () => {
  const { x, labels } = mixture();
  for (const covariance of ['full', 'diag'] as const)
    it(`${covariance}: reaches the batch ELBO within 1e-4 relative (~4.5 nats) and recovers the clusters (ARI > 0.98)`, () => {
      const batch = bayesGmm(x, { d: 2, k: 5, covariance, key: key(0), nInit: 2 });
      const svi = bayesGmmSvi(x, { d: 2, k: 5, covariance, key: key(1), batchSize: 200, steps: 600, evalEvery: 100 });
      expect(Math.abs(svi.elbo - batch.elbo) / Math.abs(batch.elbo)).toBeLessThan(1e-4);
      expect(adjustedRandIndex(svi.labels, labels)).toBeGreaterThan(0.98);
      expect(svi.elboSteps).toEqual([100, 200, 300, 400, 500, 600]);
      let s = 0;
      for (const w of svi.weights) s += w;
      expect(s).toBeCloseTo(1, 10);
    });

  it('Dirichlet-process weights and bad options', () => {
    const svi = bayesGmmSvi(x, { d: 2, k: 5, weightPrior: 'dirichlet-process', key: key(2), batchSize: 250, steps: 400 });
    expect(adjustedRandIndex(svi.labels, labels)).toBeGreaterThan(0.98);
    expect(() => bayesGmmSvi(x, { d: 2, k: 5, kappa: 0.5 })).toThrow(/kappa must be in \(0.5, 1\]/);
    expect(() => bayesGmmSvi(x, { d: 2, k: 5, batchSize: 3 })).toThrow(ValueError);
    expect(() => bayesGmmSvi([[0, NaN]], { k: 1 })).toThrow(/NaN/);
  });
});
