import { describe, expect, it } from 'vitest';
import { bayesLinReg, ppcaMeanField } from '../../ts/infer/cavi/index.js';
import { key, normal, split, ShapeError, ValueError } from '../../ts/index.js';

function randn(seed: number, n: number): Float64Array {
  return Float64Array.from(normal(key(seed), [n]).dataSync());
}

function expectMonotone(trace: number[]): void {
  for (let i = 1; i < trace.length; i++) {
    expect(trace[i]).toBeGreaterThanOrEqual(trace[i - 1] - 1e-9 * Math.max(1, Math.abs(trace[i - 1])));
  }
}

describe('Bayesian linear regression (CAVI q(w) q(σ²))', () => {
  const n = 40;
  const d = 3;
  const xs = randn(1, n * d);
  const eps = randn(2, n);
  const wTrue = [0.5, -1.2, 2.0];
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) y[i] = xs[i * d] * wTrue[0] + xs[i * d + 1] * wTrue[1] + xs[i * d + 2] * wTrue[2] + 0.3 * eps[i];
  const fit = bayesLinReg(xs, y, { d, priorPrecision: 0.5, a0: 2, b0: 1, tol: 1e-15, maxIter: 1000 });

  it('the ELBO never decreases and converges', () => {
    expectMonotone(fit.trace.elboTrace);
    expect(fit.trace.converged).toBe(true);
    expect(fit.trace.maxRelDecrease).toBeLessThan(1e-9);
  });

  it('reaches the known fixed point', () => {
    const { mean, precision, a: an, b: bn } = fit.exact;
    for (let i = 0; i < d; i++) expect(fit.mean[i]).toBeCloseTo(mean[i], 10);
    const aStar = an + d / 2;
    expect(fit.a).toBeCloseTo(aStar, 10);
    expect(fit.b / bn).toBeCloseTo(aStar / an, 8);
    // cov = Λₙ⁻¹ bₙ/aₙ: check cov · Λₙ = (bₙ/aₙ) I.
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += fit.cov[i * d + k] * precision[k * d + j];
        expect(s).toBeCloseTo(i === j ? bn / an : 0, 8);
      }
    for (let i = 0; i < d; i++) expect(Math.abs(fit.mean[i] - wTrue[i])).toBeLessThan(0.3);
  });

  it('the exact evidence is above the ELBO, with a visible gap', () => {
    expect(fit.logEvidence).toBeGreaterThan(fit.elbo);
    expect(fit.logEvidence - fit.elbo).toBeGreaterThan(1e-3);
    expect(fit.logEvidence - fit.elbo).toBeLessThan(5);
  });

  it('the evidence matches a brute-force integral in one dimension', () => {
    // One weight, no intercept: integrate p(y | w, σ²) p(w | σ²) p(σ²) on a grid.
    const x1 = [[0.3], [-1.1], [0.8], [1.5]];
    const y1 = [0.2, -0.9, 1.1, 1.2];
    const f = bayesLinReg(x1, y1, { priorPrecision: 2, a0: 3, b0: 2 });
    let total = 0;
    const dw = 0.005;
    const ds = 0.002;
    for (let s2 = ds / 2; s2 < 6; s2 += ds) {
      const lps = 3 * Math.log(2) - Math.log(2) - 4 * Math.log(s2) - 2 / s2; // Γ(3) = 2
      for (let w = -4; w < 4; w += dw) {
        let lp = lps - 0.5 * Math.log(2 * Math.PI * s2 / 2) - (w * w * 2) / (2 * s2);
        for (let i = 0; i < 4; i++) lp += -0.5 * Math.log(2 * Math.PI * s2) - (y1[i] - w * x1[i][0]) ** 2 / (2 * s2);
        total += Math.exp(lp) * dw * ds;
      }
    }
    expect(f.logEvidence).toBeCloseTo(Math.log(total), 3);
  });

  it('rejects bad input with named errors', () => {
    expect(() => bayesLinReg([[1, 2], [3, 4]], [1])).toThrow(ShapeError);
    expect(() => bayesLinReg([[1, NaN], [3, 4]], [1, 2])).toThrow(ValueError);
    expect(() => bayesLinReg([[1, 2], [3, 4]], [1, Infinity])).toThrow(/finite/);
    expect(() => bayesLinReg([[1, 2], [3, 4]], [1, 2], { a0: -1 })).toThrow(ValueError);
  });
});

describe('PPCA, mean-field CAVI against the exact posterior', () => {
  const [kw, kz, ke] = split(key(7), 3);
  const dx = 5;
  const k = 3;
  const n = 20;
  const w = Float64Array.from(normal(kw, [dx * k]).dataSync());
  const z = normal(kz, [n * k]).dataSync();
  const e = normal(ke, [n * dx]).dataSync();
  const b = [0.1, -0.2, 0.3, 0, 1];
  const sigma2 = 0.4;
  const x = new Float64Array(n * dx);
  for (let p = 0; p < n; p++)
    for (let r = 0; r < dx; r++) {
      let s = b[r] + Math.sqrt(sigma2) * e[p * dx + r];
      for (let j = 0; j < k; j++) s += w[r * k + j] * z[p * k + j];
      x[p * dx + r] = s;
    }
  const fit = ppcaMeanField(x, w, b, sigma2, { d: dx, k, tol: 1e-16, maxIter: 2000 });

  it('the ELBO never decreases', () => {
    expectMonotone(fit.trace.elboTrace);
    expect(fit.trace.converged).toBe(true);
  });

  it('gap = KL(q ‖ exact posterior)', () => {
    expect(fit.logEvidence - fit.elbo).toBeCloseTo(fit.kl, 8);
    expect(fit.kl).toBeGreaterThan(0);
  });

  it('the means match the exact posterior means; variances are 1/Λ_jj, below the exact marginals', () => {
    for (let i = 0; i < n * k; i++) expect(fit.mean[i]).toBeCloseTo(fit.exact.mean[i], 7);
    for (let j = 0; j < k; j++) expect(fit.variance[j]).toBeLessThanOrEqual(fit.exact.cov[j * k + j] + 1e-12);
  });

  it('the identity holds at every sweep, not only at convergence', () => {
    const f1 = ppcaMeanField(x, w, b, sigma2, { d: dx, k, maxIter: 1 });
    expect(f1.trace.converged).toBe(false);
    expect(f1.logEvidence - f1.elbo).toBeCloseTo(f1.kl, 8);
  });

  it('orthogonal columns make mean-field exact (KL = 0)', () => {
    const wo = [[2, 0], [0, 1], [0, 0]];
    const f = ppcaMeanField([[1, 2, 3], [0, -1, 0.5]], wo, [0, 0, 0], 0.5);
    expect(f.kl).toBeCloseTo(0, 10);
    expect(f.elbo).toBeCloseTo(f.logEvidence, 10);
  });

  it('rejects bad input with named errors', () => {
    expect(() => ppcaMeanField([[1, 2]], [[1], [1], [1]], [0, 0], 1)).toThrow(ShapeError);
    expect(() => ppcaMeanField([[1, 2]], [[1], [1]], [0, 0], 0)).toThrow(ValueError);
    expect(() => ppcaMeanField([[1, NaN]], [[1], [1]], [0, 0], 1)).toThrow(/NaN/);
  });
});
