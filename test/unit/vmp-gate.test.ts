/**
 * The gates. Univariate Gaussian (separate Gaussian mean and Gamma precision nodes): with the
 * selector observed it splits into K independent "Learning a Gaussian" models, which it must
 * reproduce; latent, it recovers well-separated clusters with a non-decreasing ELBO. Categorical
 * (Dirichlet components): observed labels give the closed-form Dirichlet–multinomial evidence.
 */
import { describe, expect, it } from 'vitest';
import { FactorGraph, NonConjugateError, ShapeError, key, normal, uniform } from '../../ts/index.js';
import { lgamma } from '../../ts/backends/js/special.js';

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

describe('VMP categorical gate', () => {
  const n = 1200;
  const v = 6;
  const u = uniform(key(41), [2 * n]).dataSync();
  // Two sources over 6 categories: one favouring 0–2, the other 3–5.
  const p = [[0.3, 0.3, 0.25, 0.05, 0.05, 0.05], [0.05, 0.05, 0.05, 0.25, 0.3, 0.3]];
  const truth = Int32Array.from({ length: n }, (_, i) => (u[2 * i] < 0.4 ? 0 : 1));
  const x = Int32Array.from({ length: n }, (_, i) => {
    let c = 0;
    let acc = p[truth[i]][0];
    while (u[2 * i + 1] > acc && c < v - 1) acc += p[truth[i]][++c];
    return c;
  });

  it('with observed labels: the Dirichlet–multinomial evidence per component, exactly', () => {
    const a0 = [0.5, 1, 1, 2, 0.7, 1.5];
    const g = new FactorGraph();
    const beta = g.dirichlet('beta', { concentration: a0, size: 2 });
    g.categoricalGate('x', { selector: truth, probs: beta, observed: x });
    const res = g.run();
    let want = 0;
    for (let k = 0; k < 2; k++) {
      const counts = new Array<number>(v).fill(0);
      for (let i = 0; i < n; i++) if (truth[i] === k) counts[x[i]]++;
      const nk = counts.reduce((s, c) => s + c, 0);
      const s0 = a0.reduce((s, a) => s + a, 0);
      want += lgamma(s0) - lgamma(s0 + nk);
      for (let c = 0; c < v; c++) {
        want += lgamma(a0[c] + counts[c]) - lgamma(a0[c]);
        expect(beta.alpha[k * v + c]).toBe(a0[c] + counts[c]);
      }
    }
    expect(res.elbo).toBeCloseTo(want, 8);
  });

  it('with a latent selector and grouped draws: a mixture of unigrams recovers its sources', () => {
    // 200 items of 6 draws each (the rows above, grouped); one draw per item would be unidentifiable.
    const items = n / 6;
    const group = Int32Array.from({ length: n }, (_, i) => Math.floor(i / 6));
    const src = Int32Array.from({ length: items }, (_, d) => truth[6 * d]);
    const xs = Int32Array.from({ length: n }, (_, i) => {
      const k = src[group[i]];
      let c = 0;
      let acc = p[k][0];
      while (u[2 * i + 1] > acc && c < v - 1) acc += p[k][++c];
      return c;
    });
    const init = Array.from({ length: items }, (_, d) => {
      let lo = 0;
      for (let j = 0; j < 6; j++) if (xs[6 * d + j] < 3) lo++;
      return lo >= 3 ? 0 : 1;
    });
    const g = new FactorGraph();
    const pi = g.dirichlet('pi', { concentration: [1, 1] });
    const beta = g.dirichlet('beta', { concentration: new Array<number>(v).fill(1), size: 2 });
    const z = g.categorical('z', { probs: pi, size: items, init });
    g.categoricalGate('x', { selector: z, probs: beta, observed: xs, group });
    const res = g.run({ maxSweeps: 500, onDecrease: 'throw', ...quiet });
    expect(res.converged).toBe(true);
    let agree = 0;
    for (let d = 0; d < items; d++) if ((z.probs[2 * d] > 0.5 ? 0 : 1) === src[d]) agree++;
    expect(agree / items).toBeGreaterThan(0.9);
    for (let k = 0; k < 2; k++) {
      let s = 0;
      for (let c = 0; c < v; c++) s += beta.alpha[k * v + c];
      for (let c = 0; c < v; c++) expect(Math.abs(beta.alpha[k * v + c] / s - p[k][c])).toBeLessThan(0.06);
    }
  });

  it('bad input names the gate', () => {
    const g = new FactorGraph();
    const beta = g.dirichlet('beta', { concentration: [1, 1, 1], size: 2 });
    expect(() => g.categoricalGate('w', { selector: [0, 1], probs: beta, observed: [0, 3] })).toThrow(/categories of 'w' have entry 1 = 3; expected an integer in \[0, 3\)/);
    const t = g.gamma('t', { shape: 1, rate: 1 });
    expect(() => g.categoricalGate('w', { selector: [0, 1], probs: t as never, observed: [0, 1] })).toThrow(NonConjugateError);
  });
});

describe('VMP categorical selectors with groups and copies (the LDA graph)', () => {
  // Three documents over five terms as (document, term, count) cells.
  const cells = [
    [0, 0, 3],
    [0, 2, 1],
    [1, 1, 2],
    [1, 3, 4],
    [1, 0, 1],
    [2, 4, 2],
    [2, 2, 3],
  ];
  const k = 2;
  const lambda0 = [0.7, 1.3, 0.9, 1.1, 1.6, 1.2, 0.8, 0.5, 1.4, 1.0];

  function lda(tokens: number[][], copies: number[] | undefined) {
    const g = new FactorGraph();
    const theta = g.dirichlet('theta', { concentration: [0.5, 0.5], size: 3 });
    const beta = g.dirichlet('beta', { concentration: [0.3, 0.3, 0.3, 0.3, 0.3], size: k });
    theta.initialize([2, 1, 1, 2, 1.5, 1.5]);
    beta.initialize(lambda0);
    const z = g.categorical('z', { probs: theta, size: tokens.length, group: tokens.map((c) => c[0]), copies });
    g.categoricalGate('w', { selector: z, probs: beta, observed: tokens.map((c) => c[1]) });
    const res = g.run({ schedule: ['beta', 'theta', 'z'], maxSweeps: 15, tol: 0, onWarning: () => {} });
    return { res, theta, beta };
  }

  it('an element standing for c copies equals c separate elements (ELBO trace and posteriors)', () => {
    const counted = lda(cells, cells.map((c) => c[2]));
    const expanded = lda(
      cells.flatMap((c) => Array.from({ length: c[2] }, () => c)),
      undefined,
    );
    // 15 sweeps, before the ELBO stops changing (tol 0 would end a run whose ELBO repeats exactly).
    expect(counted.res.elboTrace.length).toBe(16);
    expect(expanded.res.elboTrace.length).toBe(16);
    for (let i = 0; i < 16; i++) expect(counted.res.elboTrace[i]).toBeCloseTo(expanded.res.elboTrace[i], 10);
    for (let i = 0; i < 6; i++) expect(counted.theta.alpha[i]).toBeCloseTo(expanded.theta.alpha[i], 12);
    for (let i = 0; i < 10; i++) expect(counted.beta.alpha[i]).toBeCloseTo(expanded.beta.alpha[i], 12);
    expect(counted.res.maxRelDecrease).toBeLessThan(1e-12);
    // The posterior moved: θ's concentrations hold the documents' token counts (7, 13 and 12 here minus the init).
    expect(counted.theta.alpha[0] + counted.theta.alpha[1]).toBeCloseTo(1 + 4, 10);
  });

  it('a product of messages that underflows falls back to log-probabilities', () => {
    // Topics with concentrations 1e-4 and one observed word each: E[log β] ≈ ψ(1e-4) ≈ −1e4 for the
    // other words, so exp E[log β] is 0 there and a product-form update would divide 0 by 0.
    const g = new FactorGraph();
    const theta = g.dirichlet('theta', { concentration: [1e-4, 1e-4], size: 1 });
    const beta = g.dirichlet('beta', { concentration: new Array<number>(4).fill(1e-4), size: 2 });
    beta.initialize([1e-4, 1e-4, 1e-4, 2, 2, 1e-4, 1e-4, 1e-4]);
    const z = g.categorical('z', { probs: theta, size: 3, group: [0, 0, 0], copies: [1, 2, 1] });
    g.categoricalGate('w', { selector: z, probs: beta, observed: [0, 3, 1] });
    const res = g.run({ schedule: ['beta', 'theta', 'z'], maxSweeps: 20, tol: 1e-12, onWarning: () => {} });
    expect(Number.isFinite(res.elbo)).toBe(true);
    expect(res.maxRelDecrease).toBeLessThan(1e-9);
    // β started with word 3 in topic 0 and word 0 in topic 1 (rows are topics), beyond doubt.
    expect(z.probs[1]).toBeCloseTo(1, 6); // element 0 (word 0): topic 1
    expect(z.probs[2]).toBeCloseTo(1, 6); // element 1 (word 3): topic 0
    expect(Array.from(z.probs).every(Number.isFinite)).toBe(true);
  });

  it('bad groups and copies are named', () => {
    const g = new FactorGraph();
    const theta = g.dirichlet('theta', { concentration: [1, 1], size: 3 });
    expect(() => g.categorical('z', { probs: theta, size: 2, group: [0, 3] })).toThrow(/'z's group' have entry 1 = 3; expected an integer in \[0, 3\)/);
    expect(() => g.categorical('z', { probs: theta, size: 2, group: [0, 1, 2] })).toThrow(/'z' has plate size 2 but 3 group indices/);
    expect(() => g.categorical('z', { probs: theta, size: 2 })).toThrow(/give group/);
    expect(() => g.categorical('z', { probs: [0.5, 0.5], size: 2, group: [0, 1] })).toThrow(/group picks an element of a Dirichlet/);
    expect(() => g.categorical('z', { probs: theta, size: 2, group: [0, 1], copies: [1, 0] })).toThrow(/copies of 'z' has entry 1 = 0; it must be positive/);
    expect(() => g.categorical('z', { probs: theta, observed: [0, 1], group: [0, 1], copies: [2, 2] })).toThrow(/copies applies to a latent variable/);
    expect(() => g.categorical('z', { probs: theta, size: 2, group: [0, 1], copies: [1, 2, 3] })).toThrow(ShapeError);
  });
});
