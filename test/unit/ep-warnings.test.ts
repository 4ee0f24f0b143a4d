/** EP never fails silently: improper cavities, damped steps and non-convergence are reported; bad input raises. */
import { describe, expect, it } from 'vitest';
import { ShapeError, ValueError, NotPositiveDefiniteError, epGp, epLinear, probitLikelihood, rbfKernel, studentTLikelihood, tensor } from '../../ts/index.js';
import { proposeSite } from '../../ts/infer/ep/sites.js';

const ones = (n: number): number[][] => Array.from({ length: n }, () => [1]);

describe('EP warnings', () => {
  it('skips a site whose cavity is improper, records it, and reports no evidence', () => {
    // Two Cauchy observations far apart: a bimodal posterior where site 0's cavity turns improper.
    const r = epLinear({ x: ones(2), y: [-3, 3], likelihood: studentTLikelihood({ df: 1, scale: 0.3 }), priorScale: 5, maxSweeps: 20 });
    expect(r.converged).toBe(false);
    expect(r.skipped).toBeGreaterThan(0);
    const kinds = new Set(r.warnings.map((w) => w.kind));
    expect(kinds.has('negative-cavity')).toBe(true);
    expect(kinds.has('not-converged')).toBe(true);
    expect(kinds.has('evidence')).toBe(true);
    expect(Number.isNaN(r.logMarginal)).toBe(true);
    const w = r.warnings.find((x) => x.kind === 'negative-cavity');
    expect(w?.site).toBe(0);
    expect(w?.message).toMatch(/site 0 skipped in sweep \d+ \(cavity precision -/);
  });

  it('damps a parallel step that would make q improper, and still converges', () => {
    const r = epLinear({ x: ones(4), y: [-2, -2, 2, 2], likelihood: studentTLikelihood({ df: 1, scale: 0.3 }), priorScale: 5, schedule: 'parallel', maxSweeps: 200 });
    expect(r.converged).toBe(true);
    expect(r.damped).toBeGreaterThan(0);
    expect(r.warnings.some((w) => w.kind === 'damped' && /damped to 0\.5/.test(w.message))).toBe(true);
    expect(Number.isFinite(r.logMarginal)).toBe(true);
  });

  it('stops at the sweep budget and says so', () => {
    const gp = epGp({ x: [[0], [0.5], [1], [1.5]], y: [1, 0, 1, 1], kernel: rbfKernel({ variance: 1, lengthscale: 1 }), likelihood: probitLikelihood(), maxSweeps: 2, tol: 1e-14 });
    expect(gp.converged).toBe(false);
    expect(gp.sweeps).toBe(2);
    expect(gp.changes).toHaveLength(2);
    expect(gp.warnings.map((w) => w.kind)).toEqual(['not-converged']);
    expect(gp.warnings[0].message).toMatch(/did not converge in 2 sweeps/);
  });

  it('proposes no site from an improper cavity', () => {
    const p = proposeSite(probitLikelihood(), 1, { tau: -0.2, nu: 0.1 }, 1);
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.reason).toBe('negative-cavity');
  });
});

describe('EP bad input', () => {
  const x = [[0], [1], [2]];
  const kernel = rbfKernel({ variance: 1, lengthscale: 1 });
  it('names the site, the argument and the value', () => {
    expect(() => epGp({ x, y: [0, 1, 2], kernel, likelihood: probitLikelihood() })).toThrow(/epGp\(probit\): y: the probit likelihood needs labels in \{0, 1\} \(or ±1\), got y\[2\] = 2/);
    expect(() => epGp({ x, y: [0, 1], kernel, likelihood: probitLikelihood() })).toThrow(ShapeError);
    expect(() => epGp({ x: [[0], [1, 2], [3]], y: [0, 1, 1], kernel, likelihood: probitLikelihood() })).toThrow(/row 1 has 2 entries/);
    expect(() => epGp({ x: [[0], [NaN], [3]], y: [0, 1, 1], kernel, likelihood: probitLikelihood() })).toThrow(/entry \[1, 0\] is NaN/);
    expect(() => epGp({ x, y: [0, 1, 1], kernel, likelihood: probitLikelihood(), alpha: 0 })).toThrow(/alpha must be in \(0, 1\], got 0/);
    expect(() => epGp({ x, y: [0, 1, 1], kernel, likelihood: probitLikelihood(), damping: 1.5 })).toThrow(ValueError);
    expect(() => epGp({ x, y: [0, 1, 1], kernel, likelihood: probitLikelihood(), maxSweeps: 0 })).toThrow(/maxSweeps/);
    expect(() => rbfKernel({ variance: -1, lengthscale: 1 })).toThrow(/rbfKernel: variance must be a finite number > 0, got -1/);
    expect(() => rbfKernel({ variance: 1, lengthscale: [1, 2] }).matrix(new Float64Array(3), 1, new Float64Array(3), 1, 3)).toThrow(/2 lengthscales for 3-dimensional inputs/);
    expect(() => studentTLikelihood({ scale: 0 })).toThrow(/scale must be a finite number > 0, got 0/);
    expect(() => epLinear({ x, y: [0, 1, 1], likelihood: probitLikelihood(), priorCov: [[-1]] })).toThrow(NotPositiveDefiniteError);
    expect(() => epLinear({ x, y: [0, 1, 1], likelihood: probitLikelihood(), priorMean: [0, 0] })).toThrow(/priorMean has 2 entries, x has 1 columns/);
    const gp = epGp({ x, y: [0, 1, 1], kernel, likelihood: probitLikelihood() });
    expect(() => gp.predict([[0, 1]])).toThrow(/xStar has 2 columns, the training inputs 1/);
  });

  it('takes tensors for x and y', () => {
    const a = epGp({ x: tensor([[0], [1], [2]]), y: tensor([0, 1, 1]), kernel, likelihood: probitLikelihood() });
    const b = epGp({ x, y: [0, 1, 1], kernel, likelihood: probitLikelihood() });
    expect(a.logMarginal).toBe(b.logMarginal);
  });
});
