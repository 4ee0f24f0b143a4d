/**
 * The univariate Gaussian gate (a mixture with separate Gaussian mean and Gamma precision nodes):
 * with the selector observed it splits into K independent "Learning a Gaussian" models, which it
 * must reproduce exactly; with the selector latent it recovers well-separated clusters with a
 * non-decreasing ELBO.
 */
import { describe, expect, it } from 'vitest';
import { FactorGraph, NonConjugateError, ShapeError, key, normal } from '../../ts/index.js';

const quiet = { onWarning: (): void => {} };

describe('VMP Gaussian gate', () => {
  const n = 900;
  const e = normal(key(31), [n]).dataSync();
  const truth = Int32Array.from({ length: n }, (_, i) => i % 3);
  const centers = [-6, 0, 7];
  const sds = [0.5, 1, 2];
  const x = Float64Array.from({ length: n }, (_, i) => centers[i % 3] + sds[i % 3] * e[i]);

  it('with observed labels, equals K separate Gaussian–Gamma models (posteriors and ELBO)', () => {
    const g = new FactorGraph();
    const mu = g.gaussian('mu', { mean: 0, variance: 100, size: 3 });
    const tau = g.gamma('tau', { shape: 1, rate: 1, size: 3 });
    g.gaussianGate('x', { selector: truth, k: 3, mean: mu, precision: tau, observed: x });
    const res = g.run({ tol: 1e-14, maxSweeps: 500 });
    let sum = 0;
    for (let c = 0; c < 3; c++) {
      const h = new FactorGraph();
      const m = h.gaussian('m', { mean: 0, variance: 100 });
      const t = h.gamma('t', { shape: 1, rate: 1 });
      h.gaussian('xc', { mean: m, precision: t, observed: x.filter((_, i) => truth[i] === c) });
      const r = h.run({ tol: 1e-14, maxSweeps: 500 });
      sum += r.elbo;
      // Relative 1e-8: the two runs stop at slightly different sweeps of the same contraction.
      expect(mu.mean[c] / m.mean[0]).toBeCloseTo(1, 8);
      expect(mu.variance[c] / m.variance[0]).toBeCloseTo(1, 8);
      expect(tau.shape[c]).toBe(t.shape[0]);
      expect(tau.rate[c] / t.rate[0]).toBeCloseTo(1, 8);
    }
    expect(res.elbo).toBeCloseTo(sum, 7);
  });

  it('with a latent selector, recovers the clusters; the ELBO never falls', () => {
    const g = new FactorGraph();
    const pi = g.dirichlet('pi', { concentration: [1, 1, 1] });
    const mu = g.gaussian('mu', { mean: 0, variance: 100, size: 3 });
    const tau = g.gamma('tau', { shape: 1, rate: 1, size: 3 });
    // A rough start from thresholds, as k-means would give.
    const init = Array.from(x, (v) => (v < -3 ? 0 : v < 3 ? 1 : 2));
    const z = g.categorical('z', { probs: pi, size: n, init });
    g.gaussianGate('x', { selector: z, mean: mu, precision: tau, observed: x });
    const res = g.run({ maxSweeps: 300, onDecrease: 'throw', ...quiet });
    expect(res.converged).toBe(true);
    expect(res.schedule).toEqual(['pi', 'mu', 'tau', 'z']);
    for (let i = 1; i < res.elboTrace.length; i++) expect(res.elboTrace[i]).toBeGreaterThanOrEqual(res.elboTrace[i - 1] - 1e-9 * Math.abs(res.elboTrace[i - 1]));
    for (let c = 0; c < 3; c++) {
      expect(Math.abs(mu.mean[c] - centers[c])).toBeLessThan(0.3);
      expect(Math.abs(1 / Math.sqrt(tau.mean[c]) - sds[c])).toBeLessThan(0.25 * sds[c]);
    }
    let agree = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let c = 1; c < 3; c++) if (z.probs[i * 3 + c] > z.probs[i * 3 + best]) best = c;
      if (best === truth[i]) agree++;
    }
    expect(agree / n).toBeGreaterThan(0.97);
  });

  it('bad input names the gate', () => {
    const g = new FactorGraph();
    const mu = g.gaussian('mu', { mean: 0, variance: 1, size: 2 });
    const tau = g.gamma('tau', { shape: 1, rate: 1, size: 3 });
    const z = g.categorical('z', { probs: [0.5, 0.5], size: 3 });
    expect(() => g.gaussianGate('x', { selector: z, mean: mu, precision: tau, observed: [1, 2, 3] })).toThrow(ShapeError);
    expect(() => g.gaussianGate('x', { selector: z, mean: mu, precision: mu as never, observed: [1, 2, 3] })).toThrow(NonConjugateError);
    expect(() => g.gaussianGate('x', { selector: z, mean: mu, precision: [1, 1], observed: [1, 2] })).toThrow(/gate 'x' has 2 observations but its selector 'z' has plate size 3/);
  });
});
