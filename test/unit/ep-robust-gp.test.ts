/**
 * Robust GP regression by EP (Student-t noise): sites with negative precision in function space,
 * where K is singular or nearly so (Σ is then only positive semi-definite).
 */
import { describe, expect, it } from 'vitest';
import { epGp, epLinear, rbfKernel, studentTLikelihood, type Kernel } from '../../ts/index.js';

describe('EP robust GP regression', () => {
  it('equals the weight-space fit of the same model (a constant kernel, K of rank one)', () => {
    const yt = [0, 0.1, 5, -0.05, 8, 0.3, -0.2];
    const st = studentTLikelihood({ df: 3, scale: 0.3 });
    const lin = epLinear({ x: yt.map(() => [1]), y: yt, likelihood: st, priorScale: 5, tol: 1e-12 });
    const constant: Kernel = { name: 'constant', matrix: (_a, n1, _b, n2) => new Float64Array(n1 * n2).fill(25), diag: (_a, m) => new Float64Array(m).fill(25) };
    const gp = epGp({ x: yt.map(() => [0]), y: yt, kernel: constant, likelihood: st, tol: 1e-12 });
    expect(gp.converged).toBe(true);
    expect(gp.siteTau.filter((t) => t < 0)).toHaveLength(2);
    expect(gp.logMarginal).toBeCloseTo(lin.logMarginal, 9);
    const p = gp.predictLatent([[0]]);
    expect(p.mean[0]).toBeCloseTo(lin.weightMean[0], 9);
    expect(p.variance[0]).toBeCloseTo(lin.weightCov[0], 9);
  });

  it('ignores outliers on a near-singular RBF kernel', () => {
    const n = 60;
    const x = Array.from({ length: n }, (_, i) => [i / (n - 1)]);
    const truth = (t: number): number => Math.sin(2 * Math.PI * t);
    const outlier = (i: number): boolean => i % 15 === 7;
    const y = x.map(([t], i) => truth(t) + 0.05 * Math.sin(13 * i) + (outlier(i) ? 3 : 0));
    const gp = epGp({ x, y, kernel: rbfKernel({ variance: 1, lengthscale: 0.5 }), likelihood: studentTLikelihood({ df: 3, scale: 0.05 }), damping: 0.5, maxSweeps: 500 });
    expect(gp.converged).toBe(true);
    expect(gp.warnings).toEqual([]);
    // The four outliers (+3) get negative-precision sites, and the fit follows the sine (observed error ≤ 0.037).
    expect(Array.from(gp.siteTau, (t, i) => (t < 0 ? i : -1)).filter((i) => i >= 0)).toEqual([7, 22, 37, 52]);
    const grid = [0.1, 0.25, 0.5, 0.8];
    const p = gp.predict(grid.map((t) => [t]));
    grid.forEach((t, k) => expect(Math.abs(p[k] - truth(t))).toBeLessThan(0.06));
  });
});
