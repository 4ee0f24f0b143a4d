/**
 * Variational message passing: Infer.NET's "Learning a Gaussian" figures, exact posteriors and log
 * evidences of single-latent conjugate models (where VMP is exact), the sweep loop's reports, and
 * bad input naming the node.
 */
import { describe, expect, it } from 'vitest';
import { FactorGraph, NonConjugateError, ShapeError, ValueError, VarinfError, key, normal } from '../../ts/index.js';
import { lgamma } from '../../ts/backends/js/special.js';

const noWarn = { onWarning: (): void => {} };

function logBeta(a: number, b: number): number {
  return lgamma(a) + lgamma(b) - lgamma(a + b);
}

describe('VMP: Infer.NET "Learning a Gaussian"', () => {
  it('data {11, 5, 8, 9}: mean Gaussian(8.165, 1.026), precision Gamma(3, scale 0.08038)', () => {
    const g = new FactorGraph();
    const mean = g.gaussian('mean', { mean: 0, variance: 100 });
    const precision = g.gamma('precision', { shape: 1, scale: 1 });
    g.gaussian('x', { mean, precision, observed: [11, 5, 8, 9] });
    const res = g.run();
    expect(res.converged).toBe(true);
    expect(res.warnings).toEqual([]);
    // The figures as the tutorial prints them (4 significant digits).
    expect(mean.mean[0].toFixed(3)).toBe('8.165');
    expect(mean.variance[0].toFixed(3)).toBe('1.026');
    expect(precision.shape[0]).toBe(3);
    expect((1 / precision.rate[0]).toFixed(5)).toBe('0.08038');
    expect(res.schedule).toEqual(['mean', 'precision']);
    for (let i = 1; i < res.elboTrace.length; i++) expect(res.elboTrace[i]).toBeGreaterThanOrEqual(res.elboTrace[i - 1]);
  });
});

describe('VMP is exact with one latent node (closed-form posterior and evidence)', () => {
  it('Beta–Bernoulli', () => {
    const x = [1, 0, 1, 1, 1, 0, 1, 0, 1, 1];
    const g = new FactorGraph();
    const p = g.beta('p', { a: 2, b: 3 });
    g.bernoulli('x', { p, observed: x });
    const res = g.run();
    const k = 7;
    expect(p.a[0]).toBe(2 + k);
    expect(p.b[0]).toBe(3 + 3);
    expect(res.elbo).toBeCloseTo(logBeta(2 + k, 3 + 3) - logBeta(2, 3), 10);
  });

  it('Gamma–Poisson over a plate of 5 independent rates, and one shared', () => {
    const x = [3, 0, 4, 1, 5];
    const g = new FactorGraph();
    const lam = g.gamma('lam', { shape: 1.5, rate: 0.5, size: 5 });
    g.poisson('x', { rate: lam, observed: x });
    const shared = g.gamma('mu', { shape: 2, rate: 1 });
    g.poisson('y', { rate: shared, observed: x });
    const res = g.run();
    let want = 0;
    for (const c of x) want += 1.5 * Math.log(0.5) - lgamma(1.5) + lgamma(1.5 + c) - (1.5 + c) * Math.log(1.5) - lgamma(c + 1);
    const s = 13;
    want += 2 * Math.log(1) - lgamma(2) + lgamma(2 + s) - (2 + s) * Math.log(1 + 5);
    for (const c of x) want -= lgamma(c + 1);
    expect(Array.from(lam.shape)).toEqual(x.map((c) => 1.5 + c));
    expect(Array.from(lam.rate)).toEqual([1.5, 1.5, 1.5, 1.5, 1.5]);
    expect(shared.shape[0]).toBe(15);
    expect(shared.rate[0]).toBe(6);
    expect(res.elbo).toBeCloseTo(want, 10);
  });

  it('Dirichlet–categorical', () => {
    const z = [0, 2, 2, 1, 2, 0, 2];
    const a0 = [0.5, 1, 2];
    const g = new FactorGraph();
    const pi = g.dirichlet('pi', { concentration: a0 });
    g.categorical('z', { probs: pi, observed: z });
    const res = g.run();
    const counts = [2, 1, 4];
    expect(Array.from(pi.alpha)).toEqual([2.5, 2, 6]);
    let want = lgamma(3.5) - lgamma(3.5 + 7);
    for (let j = 0; j < 3; j++) want += lgamma(a0[j] + counts[j]) - lgamma(a0[j]);
    expect(res.elbo).toBeCloseTo(want, 10);
  });

  it('Wishart precision of Gaussian rows with a known mean (matrix-t evidence)', () => {
    const rows = [[1, 0.5], [-0.3, 1.2], [0.8, -0.7], [2, 1], [-1, -0.4], [0.1, 0.3]];
    const mu = [0.2, 0.1];
    const w0inv = [2, 0.3, 0.3, 1];
    const g = new FactorGraph();
    const lam = g.wishart('lam', { dof: 3, scaleInverse: w0inv });
    g.vectorGaussian('x', { mean: mu, precision: lam, observed: rows });
    const res = g.run();
    const wn = [...w0inv];
    for (const r of rows) {
      const d = [r[0] - mu[0], r[1] - mu[1]];
      for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) wn[a * 2 + b] += d[a] * d[b];
    }
    expect(lam.nu[0]).toBe(9);
    for (let i = 0; i < 4; i++) expect(lam.winv[i]).toBeCloseTo(wn[i], 12);
    const det = (m: number[]): number => m[0] * m[3] - m[1] * m[2];
    const lmv = (a: number): number => 0.5 * Math.log(Math.PI) + lgamma(a) + lgamma(a - 0.5);
    const want = -6 * Math.log(Math.PI) + lmv(9 / 2) - lmv(3 / 2) + 1.5 * Math.log(det(w0inv)) - 4.5 * Math.log(det(wn));
    expect(res.elbo).toBeCloseTo(want, 10);
  });

  it('Gaussian mean with a known precision, over a plate of 3 means', () => {
    const x = [0.3, 2.2, -1.1];
    const g = new FactorGraph();
    const m = g.gaussian('m', { mean: [0, 1, -1], variance: 4, size: 3 });
    g.gaussian('x', { mean: m, precision: 2, observed: x });
    const res = g.run();
    let want = 0;
    const prior = [0, 1, -1];
    for (let i = 0; i < 3; i++) {
      const v = 4 + 0.5; // marginal variance of x_i
      want += -0.5 * Math.log(2 * Math.PI * v) - (x[i] - prior[i]) ** 2 / (2 * v);
      const postPrec = 0.25 + 2;
      expect(m.variance[i]).toBeCloseTo(1 / postPrec, 14);
      expect(m.mean[i]).toBeCloseTo((0.25 * prior[i] + 2 * x[i]) / postPrec, 14);
    }
    expect(res.elbo).toBeCloseTo(want, 10);
  });
});

describe('VMP loop: budget, schedule, warnings', () => {
  function infer(): FactorGraph {
    const g = new FactorGraph();
    const mean = g.gaussian('mean', { mean: 0, variance: 100 });
    const precision = g.gamma('precision', { shape: 1, scale: 1 });
    g.gaussian('x', { mean, precision, observed: [11, 5, 8, 9] });
    return g;
  }

  it('a run out of sweeps returns, marked not converged, with a warning', () => {
    const seen: string[] = [];
    const res = infer().run({ maxSweeps: 2, tol: 0, onWarning: (m) => seen.push(m) });
    expect(res.converged).toBe(false);
    expect(res.sweeps).toBe(2);
    expect(res.elboTrace.length).toBe(3);
    expect(seen.length).toBe(1);
    expect(seen[0]).toMatch(/not converged within 2 sweeps/);
    expect(res.warnings).toEqual(seen);
  });

  it('a user schedule is checked and followed', () => {
    expect(infer().run({ schedule: ['precision', 'mean'] }).schedule).toEqual(['precision', 'mean']);
    expect(() => infer().run({ schedule: ['mean'] })).toThrow(/leaves out latent variable\(s\) precision/);
    expect(() => infer().run({ schedule: ['mean', 'precision', 'nope'] })).toThrow(ValueError);
  });

  it('an abort signal stops between sweeps', () => {
    const ac = new AbortController();
    ac.abort();
    const res = infer().run({ signal: ac.signal, ...noWarn });
    expect(res.cancelled).toBe(true);
    expect(res.sweeps).toBe(0);
  });

  it('a decreasing ELBO is reported, and thrown with onDecrease: throw', () => {
    // A factor that claims a falling E[log f] each time it is evaluated stands in for a wrong message.
    const mk = (): FactorGraph => {
      const g = infer();
      let calls = 0;
      g.factors.push({ name: 'bad', variables: [], sendTo: () => {}, expectedLog: () => -10 * calls++ });
      return g;
    };
    const seen: string[] = [];
    const res = mk().run({ maxSweeps: 6, onWarning: (m) => seen.push(m) });
    expect(res.maxRelDecrease).toBeGreaterThan(0);
    expect(seen.some((m) => /the ELBO decreased at sweep \d/.test(m))).toBe(true);
    expect(() => mk().run({ onDecrease: 'throw', ...noWarn })).toThrow(VarinfError);
  });

  it('checkUpdates names the variable whose update lowered the ELBO', () => {
    const g = infer();
    // A factor whose message to 'precision' is wrong (a spurious rate, growing with every update) and whose ELBO term is 0.
    const prec = g.variables[1] as import('../../ts/index.js').GammaVariable;
    let calls = 0;
    g.factors.push({ name: 'wrong', variables: [prec], sendTo: (v) => void ((v as typeof prec).rate[0] += 50 * calls++), expectedLog: () => 0 });
    prec.factors.push(g.factors[g.factors.length - 1]);
    const seen: string[] = [];
    g.run({ maxSweeps: 3, checkUpdates: true, onWarning: (m) => seen.push(m) });
    expect(seen.some((m) => /when q\('precision'\) was updated/.test(m))).toBe(true);
    expect(seen.some((m) => /q\('mean'\)/.test(m))).toBe(false);
  });
});

describe('VMP: bad input names the node', () => {
  it('a non-conjugate pair is a NonConjugateError naming both nodes', () => {
    const g = new FactorGraph();
    const m = g.gaussian('m', { mean: 0, variance: 1 });
    const e1 = (): unknown => g.gaussian('x', { mean: 0, precision: m as never, observed: [1, 2] });
    expect(e1).toThrow(NonConjugateError);
    expect(e1).toThrow(/precision of 'x' is gaussian variable 'm'.*VMP needs a constant or a Gamma variable/);
    const t = g.gamma('t', { shape: 1, rate: 1 });
    expect(() => g.gaussian('y', { mean: t as never, precision: 1, observed: [1] })).toThrow(/mean of 'y' is gamma variable 't'/);
    const p = g.beta('p', { a: 1, b: 1 });
    expect(() => g.categorical('z', { probs: p as never, size: 3 })).toThrow(/probs of 'z' are beta variable 'p'.*Dirichlet/);
    const z = g.categorical('z2', { probs: [0.5, 0.5], size: 2 });
    expect(() => g.gaussianMixture('xm', { selector: z, components: t as never, observed: [1, 2] })).toThrow(/components of mixture 'xm' are gamma variable 't'/);
    expect(() => g.vectorGaussian('w', { mean: [0, 0], precision: t as never })).toThrow(/precision of 'w' is gamma variable 't'.*Wishart/);
    expect(e1).toThrow(VarinfError);
  });

  it('non-finite or out-of-support data is a ValueError naming the node and entry', () => {
    const g = new FactorGraph();
    const m = g.gaussian('m', { mean: 0, variance: 1 });
    expect(() => g.gaussian('x', { mean: m, precision: 1, observed: [1, Number.NaN, 3] })).toThrow(/observed data of 'x' has entry 1 = NaN/);
    expect(() => g.gaussian('x2', { mean: m, precision: 1, observed: [1, Infinity] })).toThrow(ValueError);
    const lam = g.gamma('lam', { shape: 1, rate: 1 });
    expect(() => g.poisson('c', { rate: lam, observed: [1, 2.5] })).toThrow(/counts of 'c' have entry 1 = 2.5/);
    const p = g.beta('p', { a: 1, b: 1 });
    expect(() => g.bernoulli('b', { p, observed: [0, 2] })).toThrow(/entry 1 = 2; a Bernoulli outcome is 0 or 1/);
    expect(() => g.gamma('bad', { shape: -1, rate: 1 })).toThrow(/shape of 'bad' has entry 0 = -1; it must be positive/);
    const tau = g.gamma('tau', { shape: 1, rate: 1 });
    const w = g.vectorGaussian('w', { mean: [0, 0], precision: [1, 0, 0, 1], precisionScale: tau });
    expect(() => g.linearGaussian('y', { design: [1, 2, 3, Number.NaN], weights: w, precision: tau, observed: [1, 2] })).toThrow(/'y's design' has entry 3 = NaN/);
  });

  it('shape mismatches are ShapeErrors naming the node', () => {
    const g = new FactorGraph();
    const m3 = g.gaussian('m3', { mean: 0, variance: 1, size: 3 });
    expect(() => g.gaussian('x', { mean: m3, precision: 1, observed: [1, 2, 3, 4] })).toThrow(ShapeError);
    expect(() => g.gaussian('x', { mean: m3, precision: 1, observed: [1, 2, 3, 4] })).toThrow(/mean of 'x' is 'm3' with plate size 3; 'x' has plate size 4/);
    expect(() => g.vectorGaussian('v', { mean: [0, 0], precision: [1, 0, 0] })).toThrow(/precision of 'v' has 3 entries; the mean has 2, so expected 2 × 2 = 4/);
    const tau = g.gamma('tau', { shape: 1, rate: 1 });
    const w = g.vectorGaussian('w', { mean: [0, 0], precision: [1, 0, 0, 1], precisionScale: tau });
    expect(() => g.linearGaussian('y', { design: [1, 2, 3], weights: w, precision: tau, observed: [1, 2] })).toThrow(/design of 'y' has 3 numbers; 2 observations × 2 weights need 4/);
    const pi = g.dirichlet('pi', { concentration: [1, 1, 1] });
    const z = g.categorical('z', { probs: pi, size: 4 });
    const th = g.gaussianWishart('th', { mean: [0], meanPrecision: 1, dof: 1, scaleInverse: [1], size: 2 });
    expect(() => g.gaussianMixture('xm', { selector: z, components: th, observed: [1, 2, 3, 4] })).toThrow(/selector 'z' has 3 categories but components 'th' has plate size 2/);
    expect(() => g.categorical('z5', { probs: pi, size: 2, init: [0, 1, 2] })).toThrow(/initial value of 'z5' has 3 entries/);
    expect(() => g.gaussian('m3', { mean: 0, variance: 1 })).toThrow(/already has a node named 'm3'/);
    const other = new FactorGraph().gaussian('elsewhere', { mean: 0, variance: 1 });
    expect(() => g.gaussian('y', { mean: other, precision: 1, observed: [1] })).toThrow(/'y' uses gaussian variable 'elsewhere', which belongs to another factor graph/);
    // A failed builder leaves no node behind: the name is still free.
    expect(g.gaussian('y', { mean: 0, precision: 1, size: 1 }).name).toBe('y');
  });
});

describe('VMP: the multivariate nodes in one dimension are the scalar ones', () => {
  it('vector Gaussian mean + Wishart precision, D = 1, reproduce the Infer.NET figures', () => {
    // Wishart(ν = 2, W⁻¹ = 2) on a 1 × 1 precision is Gamma(shape ν/2 = 1, rate W⁻¹/2 = 1).
    const g = new FactorGraph();
    const mean = g.vectorGaussian('mean', { mean: [0], precision: [0.01] });
    const precision = g.wishart('precision', { dof: 2, scaleInverse: [2] });
    g.vectorGaussian('x', { mean, precision, observed: [[11], [5], [8], [9]] });
    const res = g.run();
    expect(res.converged).toBe(true);
    expect(mean.mean[0].toFixed(3)).toBe('8.165');
    expect(mean.cov[0].toFixed(3)).toBe('1.026');
    expect(precision.nu[0] / 2).toBe(3);
    expect((2 / precision.winv[0]).toFixed(5)).toBe('0.08038');
    // The same ELBO as the scalar graph: every term is the same density written twice.
    const h = new FactorGraph();
    const m = h.gaussian('mean', { mean: 0, variance: 100 });
    const t = h.gamma('precision', { shape: 1, rate: 1 });
    h.gaussian('x', { mean: m, precision: t, observed: [11, 5, 8, 9] });
    expect(res.elbo).toBeCloseTo(h.run().elbo, 9);
  });
});

describe('VMP: multivariate Gaussian with unknown mean and Wishart precision (D = 3, 2000 rows)', () => {
  it('monotone ELBO; the posterior sits at the sample mean and inverse sample covariance', () => {
    const n = 2000;
    const d = 3;
    const e = normal(key(12), [n * d]).dataSync();
    const x = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      x[i * d] = 1 + e[i * d];
      x[i * d + 1] = -2 + 0.5 * e[i * d] + 0.8 * e[i * d + 1];
      x[i * d + 2] = 0.5 + 2 * e[i * d + 2];
    }
    const g = new FactorGraph();
    const mu = g.vectorGaussian('mu', { mean: [0, 0, 0], precision: [1e-4, 0, 0, 0, 1e-4, 0, 0, 0, 1e-4] });
    const lam = g.wishart('lam', { dof: d, scaleInverse: [1e-3, 0, 0, 0, 1e-3, 0, 0, 0, 1e-3] });
    g.vectorGaussian('x', { mean: mu, precision: lam, observed: x });
    const res = g.run({ onDecrease: 'throw', checkUpdates: true });
    expect(res.converged).toBe(true);
    const mean = [0, 0, 0];
    for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) mean[a] += x[i * d + a] / n;
    for (let a = 0; a < d; a++) expect(mu.mean[a]).toBeCloseTo(mean[a], 3);
    // E[Λ] = ν W ≈ (sample covariance)⁻¹ when the prior is weak: check E[Λ]·S ≈ I.
    const s = new Float64Array(d * d);
    for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) s[a * d + b] += ((x[i * d + a] - mean[a]) * (x[i * d + b] - mean[b])) / n;
    for (let a = 0; a < d; a++)
      for (let b = 0; b < d; b++) {
        let t = 0;
        for (let c = 0; c < d; c++) t += lam.meanPrec[a * d + c] * s[c * d + b];
        expect(t).toBeCloseTo(a === b ? 1 : 0, 2);
      }
  });
});
