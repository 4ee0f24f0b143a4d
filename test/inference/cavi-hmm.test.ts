import { describe, expect, it } from 'vitest';
import { forwardBackward, hmmPredict, hmmPredictProba, hmmScore, vbHmm, viterbi, type VbHmmResult } from '../../ts/infer/cavi/index.js';
import { key, normal, uniform, ShapeError, ValueError } from '../../ts/index.js';
import { lgamma } from '../../ts/backends/js/special.js';

const A_TRUE = [
  [0.8, 0.1, 0.1],
  [0.1, 0.8, 0.1],
  [0.15, 0.15, 0.7],
];
const B_TRUE = [
  [0.7, 0.1, 0.1, 0.1],
  [0.1, 0.7, 0.1, 0.1],
  [0.1, 0.1, 0.4, 0.4],
];
const MU_TRUE = [
  [0, 0],
  [4, 0],
  [0, 4],
];
const SD_TRUE = [
  [1, 0.5],
  [0.6, 1],
  [0.8, 0.8],
];

function draw(p: readonly number[], u: number): number {
  let acc = 0;
  for (let i = 0; i < p.length; i++) {
    acc += p[i];
    if (u < acc) return i;
  }
  return p.length - 1;
}

/** S sequences of length T from the 3-state chain (start uniform); symbols or 2-D Gaussian rows. */
function simulate(seed: number, S: number, T: number, gaussian: boolean): { seqs: (Int32Array | Float64Array)[]; states: Int32Array[] } {
  const u = uniform(key(seed), [S * T * 2]).dataSync();
  const z = normal(key(seed + 1), [S * T * 2]).dataSync();
  const seqs: (Int32Array | Float64Array)[] = [];
  const states: Int32Array[] = [];
  for (let s = 0; s < S; s++) {
    const st = new Int32Array(T);
    const obs = gaussian ? new Float64Array(T * 2) : new Int32Array(T);
    for (let t = 0; t < T; t++) {
      const i = s * T + t;
      st[t] = t === 0 ? Math.min(2, Math.floor(u[2 * i] * 3)) : draw(A_TRUE[st[t - 1]], u[2 * i]);
      if (gaussian) for (let e = 0; e < 2; e++) obs[2 * t + e] = MU_TRUE[st[t]][e] + SD_TRUE[st[t]][e] * z[2 * i + e];
      else obs[t] = draw(B_TRUE[st[t]], u[2 * i + 1]);
    }
    seqs.push(obs);
    states.push(st);
  }
  return { seqs, states };
}

const PERMS = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];

/** perm[true state] = fitted state, chosen to minimize the distance of `est` rows to `truth` rows. */
function matchStates(est: Float64Array, truth: number[][]): number[] {
  const w = truth[0].length;
  let best = PERMS[0];
  let bestD = Infinity;
  for (const p of PERMS) {
    let dd = 0;
    for (let j = 0; j < 3; j++) for (let e = 0; e < w; e++) dd += (est[p[j] * w + e] - truth[j][e]) ** 2;
    if (dd < bestD) [best, bestD] = [p, dd];
  }
  return best;
}

function maxTransErr(fit: VbHmmResult, p: number[]): number {
  let err = 0;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) err = Math.max(err, Math.abs(fit.transMat[p[i] * 3 + p[j]] - A_TRUE[i][j]));
  return err;
}

function expectMonotone(fit: VbHmmResult): void {
  const tr = fit.trace.elboTrace;
  for (let i = 1; i < tr.length; i++) expect(tr[i]).toBeGreaterThanOrEqual(tr[i - 1] - 1e-10 * Math.abs(tr[i - 1]));
  expect(fit.trace.maxRelDecrease).toBeLessThan(1e-10);
}

function accuracy(fit: VbHmmResult, seqs: (Int32Array | Float64Array)[], states: Int32Array[], p: number[]): number {
  const paths = hmmPredict(fit, seqs);
  let ok = 0;
  let n = 0;
  for (let s = 0; s < seqs.length; s++)
    for (let t = 0; t < states[s].length; t++) {
      ok += paths[s][t] === p[states[s][t]] ? 1 : 0;
      n++;
    }
  return ok / n;
}

describe('forward–backward and Viterbi against enumeration (T = 5, K = 2)', () => {
  const T = 5;
  const K = 2;
  const r = uniform(key(3), [K + K * K + T * K]).dataSync();
  // Sub-normalized parameters, as the VB-HMM passes them.
  const ls = Array.from({ length: K }, (_, j) => Math.log(0.2 + 0.7 * r[j]));
  const la = Array.from({ length: K * K }, (_, j) => Math.log(0.1 + 0.8 * r[K + j]));
  const lb = Array.from({ length: T * K }, (_, j) => -3 * r[K + K * K + j]);
  const gamma = new Float64Array(T * K);
  const xi = new Float64Array(K * K);
  let z = 0;
  let bestW = -Infinity;
  let bestPath: number[] = [];
  for (let code = 0; code < K ** T; code++) {
    const path = Array.from({ length: T }, (_, t) => (code >> t) & 1);
    let lw = ls[path[0]] + lb[path[0]];
    for (let t = 1; t < T; t++) lw += la[path[t - 1] * K + path[t]] + lb[t * K + path[t]];
    const w = Math.exp(lw);
    z += w;
    for (let t = 0; t < T; t++) gamma[t * K + path[t]] += w;
    for (let t = 1; t < T; t++) xi[path[t - 1] * K + path[t]] += w;
    if (lw > bestW) [bestW, bestPath] = [lw, path];
  }
  it('marginals, pair marginals and log Z', () => {
    const fb = forwardBackward(ls, la, lb);
    expect(fb.logZ).toBeCloseTo(Math.log(z), 12);
    for (let i = 0; i < T * K; i++) expect(fb.gamma[i]).toBeCloseTo(gamma[i] / z, 12);
    for (let i = 0; i < K * K; i++) expect(fb.xi[i]).toBeCloseTo(xi[i] / z, 12);
  });
  it('Viterbi path and value', () => {
    const v = viterbi(ls, la, lb);
    expect(Array.from(v.path)).toEqual(bestPath);
    expect(v.logProb).toBeCloseTo(bestW, 12);
  });
  it('shape errors are named', () => {
    expect(() => forwardBackward(ls, [0, 0, 0], lb)).toThrow(ShapeError);
    expect(() => viterbi(ls, la, [0, 0, 0])).toThrow(/viterbi/);
  });
});

describe('variational Bayesian HMM (CAVI)', () => {
  it('categorical: monotone ELBO, recovers A within 0.05 and B within 0.05', () => {
    const { seqs, states } = simulate(21, 20, 200, false);
    const fit = vbHmm(seqs, { k: 3, emission: 'categorical', nInit: 4, key: key(5), maxIter: 300 });
    expectMonotone(fit);
    expect(fit.restartElbos.length).toBe(4);
    expect(fit.elbo).toBe(Math.max(...fit.restartElbos));
    const b = fit.emissionProb as Float64Array;
    const p = matchStates(b, B_TRUE);
    let bErr = 0;
    for (let j = 0; j < 3; j++) for (let m = 0; m < 4; m++) bErr = Math.max(bErr, Math.abs(b[p[j] * 4 + m] - B_TRUE[j][m]));
    expect(bErr).toBeLessThan(0.05);
    expect(maxTransErr(fit, p)).toBeLessThan(0.05);
    expect(accuracy(fit, seqs, states, p)).toBeGreaterThan(0.7);
  });

  for (const covariance of ['diag', 'full'] as const)
    it(`Gaussian (${covariance}): monotone ELBO, recovers A within 0.03, means within 0.1, sds within 10%`, () => {
      const { seqs, states } = simulate(31, 10, 300, true);
      const fit = vbHmm(seqs, { k: 3, emission: 'gaussian', d: 2, covariance, nInit: 2, key: key(6) });
      expectMonotone(fit);
      const mu = fit.means as Float64Array;
      const p = matchStates(mu, MU_TRUE);
      const cov = fit.covariances as Float64Array;
      for (let j = 0; j < 3; j++)
        for (let e = 0; e < 2; e++) {
          expect(Math.abs(mu[p[j] * 2 + e] - MU_TRUE[j][e])).toBeLessThan(0.1);
          const v = covariance === 'full' ? cov[p[j] * 4 + e * 3] : cov[p[j] * 2 + e];
          expect(Math.abs(Math.sqrt(v) / SD_TRUE[j][e] - 1)).toBeLessThan(0.1);
        }
      if (covariance === 'full') for (let j = 0; j < 3; j++) expect(Math.abs(cov[j * 4 + 1])).toBeLessThan(0.1);
      expect(maxTransErr(fit, p)).toBeLessThan(0.03);
      expect(accuracy(fit, seqs, states, p)).toBeGreaterThan(0.97);
      // predict_proba rows are distributions and the score is a finite log-likelihood below the ELBO's scale.
      const probs = hmmPredictProba(fit, seqs.slice(0, 2));
      for (let t = 0; t < 300; t++) expect(probs[0][3 * t] + probs[0][3 * t + 1] + probs[0][3 * t + 2]).toBeCloseTo(1, 12);
      const ll = hmmScore(fit, seqs);
      expect(Number.isFinite(ll)).toBe(true);
      expect(ll).toBeGreaterThan(fit.elbo);
    });

  it('K = 1: the ELBO equals the exact log evidence (q is exact), constants included', () => {
    // Categorical: Dirichlet–multinomial evidence.
    const seq = [0, 2, 1, 1, 0, 2, 2, 2, 1, 0, 3];
    const a0 = 0.5;
    const cat = vbHmm([seq.slice(0, 6), seq.slice(6)], { k: 1, emission: 'categorical', emissionConcentration: a0 });
    const counts = [0, 0, 0, 0];
    for (const v of seq) counts[v]++;
    let ev = lgamma(4 * a0) - lgamma(4 * a0 + seq.length);
    for (const c of counts) ev += lgamma(a0 + c) - lgamma(a0);
    expect(cat.elbo).toBeCloseTo(ev, 9);
    // Gaussian, D = 2 full: Normal–Wishart evidence (Murphy 2007, eq. 266).
    const x = [0.3, -1.2, 1.7, 0.4, -0.5, 2.2, 0.9, 0.1, 2.5, -0.7, 1.1, 1.3];
    const n = 6;
    const [b0, nu0, m0, w0inv] = [2, 3, [0.5, 0.2], [1.5, 0.3, 0.3, 0.8]];
    const g = vbHmm([x], { k: 1, emission: 'gaussian', d: 2, covariance: 'full', meanPrecision: b0, degreesOfFreedom: nu0, meanPrior: m0, covariancePrior: w0inv });
    const xb = [0, 0];
    for (let i = 0; i < n; i++) for (let e = 0; e < 2; e++) xb[e] += x[2 * i + e] / n;
    const S = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) S[2 * a + b] += (x[2 * i + a] - xb[a]) * (x[2 * i + b] - xb[b]);
    const c = (b0 * n) / (b0 + n);
    const wn = w0inv.map((v, i) => v + S[i] + c * (xb[Math.floor(i / 2)] - m0[Math.floor(i / 2)]) * (xb[i % 2] - m0[i % 2]));
    const det = (m: number[]): number => m[0] * m[3] - m[1] * m[2];
    const lmg = (a: number): number => 0.5 * Math.log(Math.PI) + lgamma(a) + lgamma(a - 0.5);
    const nun = nu0 + n;
    const evG = -n * Math.log(Math.PI) + lmg(nun / 2) - lmg(nu0 / 2) + (nu0 / 2) * Math.log(det(w0inv)) - (nun / 2) * Math.log(det(wn)) + Math.log(b0 / (b0 + n));
    expect(g.elbo).toBeCloseTo(evG, 9);
    // Gaussian, D = 1 diag: Normal–Gamma evidence.
    const y = [0.3, -1.2, 1.7, 0.4, -0.5];
    const d1 = vbHmm([y], { k: 1, emission: 'gaussian', meanPrecision: b0, degreesOfFreedom: nu0, meanPrior: [0.1], covariancePrior: [0.7] });
    const yb = y.reduce((s, v) => s + v, 0) / 5;
    const sy = y.reduce((s, v) => s + (v - yb) ** 2, 0);
    const bn = 0.35 + 0.5 * (sy + ((b0 * 5) / (b0 + 5)) * (yb - 0.1) ** 2);
    const evD = -2.5 * Math.log(2 * Math.PI) + 0.5 * Math.log(b0 / (b0 + 5)) + lgamma(nu0 / 2 + 2.5) - lgamma(nu0 / 2) + (nu0 / 2) * Math.log(0.35) - (nu0 / 2 + 2.5) * Math.log(bn);
    expect(d1.elbo).toBeCloseTo(evD, 9);
  });

  it('accepts rows (number[][]) and 1-D flat sequences', () => {
    const rows = [
      [[0.1], [0.2], [5.1], [5.0], [0.0]],
      [[4.9], [5.2], [0.3]],
    ];
    const a = vbHmm(rows, { k: 2, emission: 'gaussian' });
    const b = vbHmm(rows.map((r) => r.map((v) => v[0])), { k: 2, emission: 'gaussian' });
    expect(a.d).toBe(1);
    expect(a.elbo).toBeCloseTo(b.elbo, 10);
    expect(a.stateMarginals.map((m) => m.length)).toEqual([10, 6]);
  });

  it('bad input gives named errors', () => {
    expect(() => vbHmm([], { k: 2, emission: 'categorical' })).toThrow(/vbHmm: no sequences/);
    expect(() => vbHmm([[0, 1], []], { k: 2, emission: 'categorical' })).toThrow(/vbHmm: sequence 1 is empty/);
    expect(() => vbHmm([[0, 1, 3]], { k: 2, emission: 'categorical', nSymbols: 3 })).toThrow(/sequence 0, position 2: symbol 3/);
    expect(() => vbHmm([[0, -1]], { k: 2, emission: 'categorical' })).toThrow(ValueError);
    expect(() => vbHmm([[0, 1.5]], { k: 2, emission: 'categorical' })).toThrow(/symbol 1.5/);
    expect(() => vbHmm([[0, NaN, 1]], { k: 2, emission: 'gaussian' })).toThrow(/sequence 0, position 1, dimension 0 is NaN/);
    expect(() => vbHmm([[0, Infinity]], { k: 1, emission: 'gaussian' })).toThrow(ValueError);
    expect(() => vbHmm([[[0, 1], [2]]], { k: 1, emission: 'gaussian' })).toThrow(ShapeError);
    expect(() => vbHmm([[0, 1, 2]], { k: 2, emission: 'gaussian', d: 2 })).toThrow(/not a multiple of d = 2/);
    expect(() => vbHmm([[0, 1]], { k: 0, emission: 'categorical' })).toThrow(/k must be a positive integer/);
    expect(() => vbHmm([[0, 1]], { k: 3, emission: 'gaussian' })).toThrow(/k = 3 states but only 2 observations/);
    const fit = vbHmm([[0, 1, 0, 1, 2]], { k: 2, emission: 'categorical' });
    expect(() => hmmPredict(fit, [[0, 3]])).toThrow(/hmmPredict: sequence 0, position 1: symbol 3/);
    expect(() => hmmScore(fit, [[]])).toThrow(/hmmScore: sequence 0 is empty/);
  });
});
