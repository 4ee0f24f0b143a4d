/**
 * The hand-written CAVI fits expressed as VMP factor graphs give the same ELBO trace and
 * posteriors (to 1e-8): Bayesian linear regression (Gaussian + Gamma nodes, a regression factor)
 * and the Bayesian Gaussian mixture (Dirichlet + categorical selector gating Gaussian–Wishart or
 * Gaussian–Gamma components) and mean-field probabilistic PCA (a factor-analysis node over k
 * Gaussian coordinates), the variational Bayesian HMM (a Markov-chain node gating
 * Gaussian–Wishart or Dirichlet-categorical emissions), on a few thousand points, and LDA (grouped,
 * counted categorical selectors gating Dirichlet topics) on 150 Associated Press documents.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FactorGraph, bayesGmm, bayesLinReg, foldIn, gaussianMixtureGraph, key, ldaCavi, ldaGraph, linearRegressionGraph, normal, ppcaMeanField, uniform, vbHmm } from '../../ts/index.js';
import { readDocTermFile } from '../../ts/data/docterm.js';
import { RowDesign } from '../../ts/infer/cavi/design.js';
import { kmeansPlusPlus } from '../../ts/infer/cavi/kmeans.js';

const TOL = 1e-8;

function close(got: ArrayLike<number>, want: ArrayLike<number>, what: string, tol = TOL): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i]));
    if (!(err <= tol)) throw new Error(`${what}[${i}]: VMP ${got[i]}, CAVI ${want[i]} (relative error ${err.toExponential(2)})`);
  }
}

describe('Bayesian linear regression: VMP = CAVI', () => {
  const n = 2000;
  const d = 8;
  const z = normal(key(21), [n * d + n]).dataSync();
  const x = new Float64Array(n * d);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let t = 0;
    for (let j = 0; j < d; j++) {
      x[i * d + j] = j === 0 ? 1 : z[i * d + j];
      t += x[i * d + j] * (j - 3.5) * 0.4;
    }
    y[i] = t + 0.7 * z[n * d + i];
  }
  const prior = { d, priorPrecision: 0.3, a0: 2, b0: 1.5, priorMean: [0.5, 0, 0, 0, 0, 0, 0, -0.5] };
  const cavi = bayesLinReg(x, y, { ...prior, tol: 1e-14, maxIter: 500 });

  it("with CAVI's update order (q(w), then q(τ)): the same ELBO after every sweep, the same posterior", () => {
    const { graph, w, tau } = linearRegressionGraph(x, y, prior);
    const res = graph.run({ schedule: ['w', 'tau'], tol: 1e-14, maxSweeps: 500 });
    expect(res.converged).toBe(true);
    expect(res.sweeps).toBe(cavi.trace.iterations);
    close(res.elboTrace, cavi.trace.elboTrace, 'ELBO trace');
    close(w.mean, cavi.mean, 'E[w]');
    close(w.cov, cavi.cov, 'Cov[w]');
    // q(σ²) = InvGamma(a, b) is q(τ) = Gamma(a, b) for τ = 1/σ².
    close([tau.shape[0], tau.rate[0]], [cavi.a, cavi.b], 'q(τ)');
    expect(res.maxRelDecrease).toBe(0);
  });

  it('with the schedule derived from the graph (τ before w): the same fixed point', () => {
    const { graph, w } = linearRegressionGraph(x, y, prior);
    const res = graph.run({ tol: 1e-14, maxSweeps: 500 });
    expect(res.schedule).toEqual(['tau', 'w']);
    close([res.elbo], [cavi.elbo], 'ELBO');
    close(w.mean, cavi.mean, 'E[w]');
  });
});

describe('Bayesian Gaussian mixture: VMP = CAVI', () => {
  const n = 3000;
  const d = 4;
  const k = 5;
  const e = normal(key(22), [n * d]).dataSync();
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++)
    for (let a = 0; a < d; a++) x[i * d + a] = 4 * Math.cos(i % 5) * (a % 2 === 0 ? 1 : -0.5) + (i % 5) * (a === 3 ? 1.5 : 0) + e[i * d + a] * (0.6 + 0.2 * a + 0.1 * (i % 5));
  const root = key(5);
  const design = new RowDesign(x, n, d);
  const labels = kmeansPlusPlus(x, n, d, k, foldIn(root, 0), 20, design);
  design.dispose();
  for (const covariance of ['full', 'diag'] as const)
    it(`${covariance} covariances: the same ELBO after every sweep, the same posterior`, () => {
      const diag = covariance === 'diag';
      const m0 = [0.2, -0.1, 0.3, 1];
      const w0inv = diag ? [3, 2, 2.5, 4] : [3, 0.2, 0, 0.1, 0.2, 2, 0.3, 0, 0, 0.3, 2.5, 0.2, 0.1, 0, 0.2, 4];
      const prior = { alpha0: 0.3, beta0: 0.8, m0, nu0: 5, w0inv };
      const cavi = bayesGmm(x, {
        d,
        k,
        covariance,
        key: root,
        weightConcentration: prior.alpha0,
        meanPrecision: prior.beta0,
        meanPrior: m0,
        degreesOfFreedom: prior.nu0,
        covariancePrior: w0inv,
        regCovar: 0,
        tol: 1e-12,
        maxIter: 400,
      });
      const vmp = gaussianMixtureGraph(x, { d, k, ...prior, diag, labels });
      const res = vmp.graph.run({ tol: 1e-12, maxSweeps: 401 });
      expect(res.schedule).toEqual(['pi', 'theta', 'z']);
      // bayesGmm's constructor runs one q(π, μ, Λ), q(Z) round before its first recorded ELBO;
      // VMP records the ELBO at the k-means start too, so its trace is CAVI's shifted by one.
      expect(res.converged).toBe(true);
      expect(cavi.trace.converged).toBe(true);
      expect(res.sweeps).toBe(cavi.trace.iterations + 1);
      close(res.elboTrace.slice(1), cavi.trace.elboTrace, 'ELBO trace');
      expect(res.maxRelDecrease).toBeLessThan(1e-12);
      const p = cavi.posterior;
      close(vmp.pi.alpha, p.concentration, 'α');
      close(vmp.theta.beta, p.beta, 'β');
      close(vmp.theta.m, p.m, 'm');
      close(vmp.theta.nu, p.nu, 'ν');
      close(vmp.theta.winv, p.winv, 'W⁻¹');
      close(vmp.z.probs, cavi.resp, 'responsibilities');
    });
});

describe('Mean-field probabilistic PCA: VMP = CAVI', () => {
  it('k Gaussian coordinates over a plate of rows: the same ELBO after every sweep, the same q', () => {
    const n = 2000;
    const dx = 10;
    const k = 3;
    const e = normal(key(23), [n * k + n * dx + dx * k]).dataSync();
    const w = Float64Array.from(e.subarray(n * k + n * dx));
    const b = Float64Array.from({ length: dx }, (_, r) => 0.1 * r - 0.3);
    const sigma2 = 0.4;
    const x = new Float64Array(n * dx);
    for (let p = 0; p < n; p++)
      for (let r = 0; r < dx; r++) {
        let s = b[r] + Math.sqrt(sigma2) * e[n * k + p * dx + r];
        for (let j = 0; j < k; j++) s += w[r * k + j] * e[p * k + j];
        x[p * dx + r] = s;
      }
    const cavi = ppcaMeanField(x, w, b, sigma2, { d: dx, k, tol: 1e-13, maxIter: 500 });
    const g = new FactorGraph();
    const z = Array.from({ length: k }, (_, j) => g.gaussian(`z${j}`, { mean: 0, variance: 1, size: n }));
    g.factorAnalysis('x', { loadings: w, bias: b, noiseVariance: sigma2, factors: z, observed: x });
    const res = g.run({ tol: 1e-13, maxSweeps: 500 });
    expect(res.schedule).toEqual(['z0', 'z1', 'z2']);
    expect(res.converged).toBe(true);
    expect(res.sweeps).toBe(cavi.trace.iterations);
    close(res.elboTrace, cavi.trace.elboTrace, 'ELBO trace');
    const mean = new Float64Array(n * k);
    for (let p = 0; p < n; p++) for (let j = 0; j < k; j++) mean[p * k + j] = z[j].mean[p];
    close(mean, cavi.mean, 'E[z]');
    for (let j = 0; j < k; j++) close(z[j].variance.subarray(0, 1), [cavi.variance[j]], `Var[z_${j}]`);
    // Mean-field leaves a gap to the exact evidence: the KL, which both see.
    close([cavi.logEvidence - res.elbo], [cavi.kl], 'log p(x) − ELBO = KL', 1e-6);
  });
});

describe('Variational Bayesian HMM with Gaussian emissions: VMP = CAVI', () => {
  const lengths = [300, 250, 200];
  const n = 750;
  const d = 2;
  const k = 3;
  const e = normal(key(24), [n * d + n]).dataSync();
  const means = [[0, 0], [4, 1], [1, 5]];
  const x = new Float64Array(n * d);
  let state = 0;
  for (let i = 0; i < n; i++) {
    if (e[n * d + i] > 1.2) state = (state + 1) % k; // sticky chain: switch about 1 step in 9
    for (let a = 0; a < d; a++) x[i * d + a] = means[state][a] + (0.6 + 0.3 * a) * e[i * d + a];
  }
  const seqs: Float64Array[] = [];
  for (let s = 0, o = 0; s < lengths.length; o += lengths[s], s++) seqs.push(x.slice(o * d, (o + lengths[s]) * d));
  const root = key(6);
  const labels = kmeansPlusPlus(x, n, d, k, foldIn(root, 0), 20);
  for (const covariance of ['full', 'diag'] as const)
    it(`${covariance} covariances: the same ELBO after every sweep, the same posterior`, () => {
      const diag = covariance === 'diag';
      const m0 = [1, 1.5];
      const w0inv = diag ? [0.5, 0.8] : [0.5, 0.1, 0.1, 0.8];
      const cavi = vbHmm(seqs, {
        k,
        d,
        emission: 'gaussian',
        covariance,
        key: root,
        startConcentration: 0.5,
        transConcentration: 0.8,
        meanPrecision: 0.5,
        meanPrior: m0,
        degreesOfFreedom: 3,
        covariancePrior: w0inv,
        tol: 1e-12,
        maxIter: 400,
      });
      const g = new FactorGraph();
      const pi = g.dirichlet('pi', { concentration: [0.5, 0.5, 0.5] });
      const a = g.dirichlet('A', { concentration: [0.8, 0.8, 0.8], size: k });
      const theta = g.gaussianWishart('theta', { mean: m0, meanPrecision: 0.5, dof: 3, scaleInverse: w0inv, diag, size: k });
      const z = g.markovChain('z', { start: pi, transition: a, lengths, init: labels });
      g.gaussianMixture('x', { selector: z, components: theta, observed: x });
      const res = g.run({ tol: 1e-12, maxSweeps: 401 });
      expect(res.schedule).toEqual(['pi', 'A', 'theta', 'z']);
      expect(res.converged).toBe(true);
      expect(res.sweeps).toBe(cavi.trace.iterations + 1);
      close(res.elboTrace.slice(1), cavi.trace.elboTrace, 'ELBO trace');
      close(pi.alpha, cavi.posterior.start, 'q(π)');
      close(a.alpha, cavi.posterior.trans, 'q(A)');
      close(theta.winv, cavi.posterior.winv as Float64Array, 'W⁻¹');
      close(z.probs, Float64Array.from(cavi.stateMarginals.flatMap((m) => Array.from(m))), 'marginals');
    });
});

describe('Variational Bayesian HMM with categorical emissions: VMP = CAVI', () => {
  it("from vbHmm's random start: the same ELBO after every sweep, the same posterior", () => {
    const k = 3;
    const m = 5;
    const lengths = [400, 350, 250];
    const n = 1000;
    const u = uniform(key(25), [2 * n]).dataSync();
    // A sticky 3-state chain; state j emits symbols near 2j more often.
    const sym = new Int32Array(n);
    let st = 0;
    for (let i = 0; i < n; i++) {
      if (u[2 * i] < 0.1) st = (st + 1 + (u[2 * i] < 0.05 ? 1 : 0)) % k;
      const r = u[2 * i + 1];
      sym[i] = r < 0.6 ? Math.min(m - 1, 2 * st) : Math.floor(((r - 0.6) / 0.4) * m) % m;
    }
    const seqs: Int32Array[] = [];
    for (let s = 0, o = 0; s < lengths.length; o += lengths[s], s++) seqs.push(sym.slice(o, o + lengths[s]));
    const root = key(8);
    const conc = { startConcentration: 0.4, transConcentration: 0.7, emissionConcentration: 0.3 };
    const cavi = vbHmm(seqs, { k, emission: 'categorical', nSymbols: m, key: root, ...conc, tol: 1e-12, maxIter: 400 });
    // vbHmm's start: emission rows worth N/K counts in proportions Exp(1)/Σ from the restart's key; flat start and transitions.
    const e = uniform(foldIn(root, 0), [k * m]).dataSync();
    const b0 = new Float64Array(k * m);
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let c = 0; c < m; c++) s += -Math.log(e[j * m + c] + 1e-300);
      for (let c = 0; c < m; c++) b0[j * m + c] = conc.emissionConcentration + ((n / k) * -Math.log(e[j * m + c] + 1e-300)) / s;
    }
    const g = new FactorGraph();
    const pi = g.dirichlet('pi', { concentration: new Array<number>(k).fill(conc.startConcentration) });
    const a = g.dirichlet('A', { concentration: new Array<number>(k).fill(conc.transConcentration), size: k });
    const b = g.dirichlet('B', { concentration: new Array<number>(m).fill(conc.emissionConcentration), size: k });
    pi.initialize(new Array<number>(k).fill(conc.startConcentration + lengths.length / k));
    a.initialize(new Array<number>(k).fill(conc.transConcentration + (n - lengths.length) / (k * k)));
    b.initialize(b0);
    const z = g.markovChain('z', { start: pi, transition: a, lengths });
    g.categoricalGate('x', { selector: z, probs: b, observed: sym });
    // The chain's first q comes from its factors (all neighbours set), as vbHmm's first local step.
    const res = g.run({ schedule: ['pi', 'A', 'B', 'z'], tol: 1e-12, maxSweeps: 400 });
    expect(res.converged).toBe(true);
    expect(res.sweeps).toBe(cavi.trace.iterations);
    close(res.elboTrace, cavi.trace.elboTrace, 'ELBO trace');
    close(pi.alpha, cavi.posterior.start, 'q(π)');
    close(a.alpha, cavi.posterior.trans, 'q(A)');
    close(b.alpha, cavi.posterior.emission as Float64Array, 'q(B)');
    close(z.probs, Float64Array.from(cavi.stateMarginals.flatMap((q) => Array.from(q))), 'marginals');
  });
});

describe('Latent Dirichlet allocation: VMP = CAVI', () => {
  const docs = readDocTermFile(fileURLToPath(new URL('../fixtures/cavi/ap150_triplets.txt', import.meta.url)));
  const k = 5;
  const sweeps = 25;

  it("ldaCavi's coordinate ascent (β, θ, z once a sweep) and ldaGraph with that schedule: the same ELBO after every sweep, the same posterior", () => {
    const cavi = ldaCavi(docs, { k, localUpdates: 'once', maxIter: sweeps, tol: 0, key: key(4) });
    const { graph, theta, beta, z } = ldaGraph(docs, { k, key: key(4) });
    // One selector per non-zero, standing for its count: 19,975 elements for the fixture's 150 documents.
    expect(z.size).toBe(docs.indices.length);
    const res = graph.run({ schedule: ['beta', 'theta', 'z'], maxSweeps: sweeps, tol: 0, onWarning: () => {} });
    expect(res.sweeps).toBe(sweeps);
    close(res.elboTrace, cavi.trace.elboTrace, 'ELBO trace');
    close(theta.alpha, cavi.gamma, 'q(θ)');
    const v = docs.nTerms;
    close(Float64Array.from({ length: v * k }, (_, i) => beta.alpha[(i % k) * v + Math.floor(i / k)]), cavi.lambda, 'q(β)');
    expect(res.maxRelDecrease).toBe(0);
    expect(cavi.trace.maxRelDecrease).toBe(0);
    // The ELBO climbs: coordinate ascent from the random start gains tens of thousands of nats here.
    expect(res.elbo - res.elboTrace[0]).toBeGreaterThan(1e4);
  });
});
