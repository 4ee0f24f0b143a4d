import { describe, expect, it } from 'vitest';
import { adjustedRandIndex, bayesGmm, bayesGmmElbo, gmmEm } from '../../ts/infer/cavi/index.js';
import { RowDesign } from '../../ts/infer/cavi/design.js';
import { expectedGaussianLogLik, normalWishartUpdate } from '../../ts/infer/cavi/normal-wishart.js';
import { getBackend, key, listBackends, normal, NotPositiveDefiniteError, setBackend, ValueError } from '../../ts/index.js';

/** Four well-separated 2-D clusters (centers 8 apart, unit-ish spread), 100 points each. */
function mixture(): { x: Float64Array; truth: Int32Array } {
  const z = normal(key(11), [400 * 2]).dataSync();
  const centers = [[0, 0], [8, 0], [0, 8], [8, 8]];
  const scales = [[1, 0.3], [0.5, 1], [0.7, 0.7], [1.2, 0.4]];
  const x = new Float64Array(800);
  const truth = new Int32Array(400);
  for (let i = 0; i < 400; i++) {
    const c = i % 4;
    truth[i] = c;
    x[2 * i] = centers[c][0] + scales[c][0] * z[2 * i];
    x[2 * i + 1] = centers[c][1] + scales[c][1] * z[2 * i + 1] + 0.3 * z[2 * i];
  }
  return { x, truth };
}

function expectMonotone(trace: number[]): void {
  for (let i = 1; i < trace.length; i++) expect(trace[i]).toBeGreaterThanOrEqual(trace[i - 1] - 1e-9 * Math.max(1, Math.abs(trace[i - 1])));
}

describe('Bayesian Gaussian mixture (CAVI)', () => {
  const { x, truth } = mixture();
  for (const covariance of ['full', 'diag'] as const)
    for (const weightPrior of ['dirichlet', 'dirichlet-process'] as const)
      it(`${covariance} covariance, ${weightPrior} prior: monotone ELBO, ARI ≈ 1`, () => {
        const fit = bayesGmm(x, { d: 2, k: 4, covariance, weightPrior, nInit: 2, key: key(1) });
        expectMonotone(fit.trace.elboTrace);
        expect(fit.trace.maxRelDecrease).toBeLessThan(1e-9);
        expect(adjustedRandIndex(fit.labels, truth)).toBeGreaterThan(0.99);
        expect(fit.restartElbos.length).toBe(2);
        expect(fit.elbo).toBe(Math.max(...fit.restartElbos));
        let s = 0;
        for (const w of fit.weights) s += w;
        expect(s).toBeCloseTo(1, 10);
        expect(fit.covariances.every(Number.isFinite)).toBe(true);
        // The evaluator for outside fits reproduces the fit's own ELBO at its posterior, and any
        // other q(π, μ, Λ) (here the means moved by 0.1) scores lower.
        const opts = { d: 2, k: 4, covariance, weightPrior };
        expect(bayesGmmElbo(x, opts, fit.posterior)).toBeCloseTo(fit.elbo, 8);
        const moved = { ...fit.posterior, m: Float64Array.from(fit.posterior.m, (v) => v + 0.1) };
        expect(bayesGmmElbo(x, opts, moved)).toBeLessThan(fit.elbo - 1);
        expect(() => bayesGmmElbo(x, opts, { ...fit.posterior, nu: [1] })).toThrow(/bayesGmmElbo: nu has 1 entries, expected 4/);
      });

  it('surplus components get ~0 weight', () => {
    const fit = bayesGmm(x, { d: 2, k: 8, weightPrior: 'dirichlet-process', nInit: 1, key: key(2), maxIter: 300 });
    expectMonotone(fit.trace.elboTrace);
    const big = Array.from(fit.weights).filter((w) => w > 0.05).length;
    expect(big).toBe(4);
    expect(adjustedRandIndex(fit.labels, truth)).toBeGreaterThan(0.95);
  });

  it('EM (point estimates): monotone log-likelihood, ARI ≈ 1', () => {
    const fit = gmmEm(x, { d: 2, k: 4, key: key(1), nInit: 2 });
    for (let i = 1; i < fit.logLikTrace.length; i++) expect(fit.logLikTrace[i]).toBeGreaterThanOrEqual(fit.logLikTrace[i - 1] - 1e-9 * Math.abs(fit.logLikTrace[i - 1]));
    expect(adjustedRandIndex(fit.labels, truth)).toBeGreaterThan(0.99);
    const diag = gmmEm(x, { d: 2, k: 4, covariance: 'diag', key: key(1) });
    expect(adjustedRandIndex(diag.labels, truth)).toBeGreaterThan(0.95);
  });

  it('bad input: K > N, NaN, singular covariance', () => {
    expect(() => bayesGmm([[0, 1], [2, 3]], { k: 3 })).toThrow(/k = 3 components but only 2 points/);
    expect(() => gmmEm([[0, 1], [2, 3]], { k: 3 })).toThrow(ValueError);
    expect(() => bayesGmm([[0, NaN], [2, 3]], { k: 1 })).toThrow(/NaN/);
    // A constant column: regularized by default, an error without regCovar.
    const flat = Float64Array.from(x, (v, i) => (i % 2 === 1 ? 5 : v));
    const fit = bayesGmm(flat, { d: 2, k: 4 });
    expect(Number.isFinite(fit.elbo)).toBe(true);
    expect(fit.means.every(Number.isFinite)).toBe(true);
    expect(() => bayesGmm(flat, { d: 2, k: 4, regCovar: 0 })).toThrow(NotPositiveDefiniteError);
    expect(() => bayesGmm(flat, { d: 2, k: 4, regCovar: 0, covariance: 'diag' })).toThrow(/constant column/);
    expect(() => gmmEm(flat, { d: 2, k: 2, regCovar: 0 })).toThrow(NotPositiveDefiniteError);
  });

  it('adjustedRandIndex is label-permutation invariant', () => {
    expect(adjustedRandIndex([0, 0, 1, 1, 2], [2, 2, 0, 0, 1])).toBeCloseTo(1, 12);
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1])).toBeLessThan(0);
  });
});

const hasCpu = listBackends().available.includes('cpu');

// The fast paths against the js backend's point-by-point and blocked loops: diagonal sweeps as matrix
// products (design.ts), and both covariance types by the native kernels (native/src/mixture.rs) on
// the cpu backend (n spans several of the kernels' 2,048-point pieces; d = 11 pads to 16).
describe('sweeps by products and native kernels equal the point-by-point loops', () => {
  const compare = (full: boolean, n: number, d: number): void => {
    const k = 4;
    const z = normal(key(5), [n * d], { dtype: 'float64' }).dataSync();
    const u = normal(key(6), [n * k], { dtype: 'float64' }).dataSync();
    // Columns offset by 1e4 with unit spread: the expanded squares would lose ~8 digits uncentered.
    const x = new Float64Array(n * d).map((_, i) => 1e4 * (1 + (i % d)) + z[i]);
    const resp = new Float64Array(n * k);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += (resp[i * k + j] = Math.exp(u[i * k + j]));
      for (let j = 0; j < k; j++) resp[i * k + j] /= s;
    }
    const dd = full ? d * d : d;
    const w0inv = new Float64Array(dd);
    for (let e = 0; e < d; e++) w0inv[full ? e * d + e : e] = 1;
    const prior = { beta0: 1, m0: new Float64Array(d).fill(2e4), nu0: d, w0inv, alpha0: 1 / k };
    const run = (design?: RowDesign): { post: { beta: Float64Array; m: Float64Array; nu: Float64Array; winv: Float64Array }; ll: Float64Array } => {
      const post = { beta: new Float64Array(k), m: new Float64Array(k * d), nu: new Float64Array(k), winv: new Float64Array(k * dd) };
      const stats = { nk: new Float64Array(k), xbar: new Float64Array(k * d), sk: new Float64Array(k * dd) };
      normalWishartUpdate(x, n, d, resp, k, full, prior, stats, post, design);
      const ll = new Float64Array(n * k);
      expectedGaussianLogLik(x, n, d, k, full, post, ll, null, 'test', design);
      return { post, ll };
    };
    const prev = getBackend();
    setBackend('js');
    const loops = run();
    const fast: ReturnType<typeof run>[] = [];
    const design = new RowDesign(x, n, d);
    // Full covariances take the loops on the js backend whatever the design: only the native kernels differ.
    if (!full) fast.push(run(design));
    if (hasCpu) {
      setBackend('cpu');
      fast.push(run(design));
    }
    design.dispose();
    setBackend(prev);
    const close = (a: Float64Array, b: Float64Array, rel: number): void => {
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(b[i])));
    };
    // W_k⁻¹ sums the prior's c(x̄_k − m₀)(x̄_k − m₀)ᵀ, ~1e8 here: compare against that scale.
    const scale = Math.max(...loops.post.winv.map(Math.abs));
    for (const f of fast) {
      close(f.post.m, loops.post.m, 1e-13);
      for (let i = 0; i < dd * k; i++) expect(Math.abs(f.post.winv[i] - loops.post.winv[i])).toBeLessThanOrEqual(1e-13 * scale);
      close(f.ll, loops.ll, 1e-9);
    }
  };
  it('diag (products on any backend, native kernels on cpu): on data far from the origin', () => compare(false, 4500, 7));
  it.skipIf(!hasCpu)('full (native kernels): on data far from the origin', () => compare(true, 4500, 11));
});
