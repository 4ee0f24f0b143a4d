import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { key, normal, tensor, ShapeError, ValueError } from '../../ts/index.js';
import {
  calibrationQuantiles,
  describeKhat,
  gpdFit,
  khatCategory,
  khatThreshold,
  ksSymmetryTest,
  loo,
  minDrawsForKhat,
  psis,
  psisBatch,
  vsbc,
  vsbcFromPairs,
} from '../../ts/diagnostics/index.js';

// Frozen by scripts/golden/psis.py from ArviZ 0.23 (az.psislw, az.loo) and scipy (ks_2samp).
interface PsisCase {
  name: string;
  reff: number;
  logRatios: number[];
  logWeights: number[];
  khat: number | null;
  ess: number;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/psis.json', import.meta.url), 'utf8')) as {
  psis: PsisCase[];
  loo: {
    x: number[];
    y: number[];
    a: number[];
    b: number[];
    log2pi: number;
    elpd_loo: number;
    se: number;
    p_loo: number;
    good_k: number;
    loo_i: number[];
    pareto_k: number[];
  };
  ks: { p: number[]; statistic: number; pvalue: number }[];
};

// Same algorithm in float64: the differences seen are about 1e-14 (summation order, libm ulps).
const KHAT_TOL = 1e-11;
const LOGW_TOL = 1e-11;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function logSumExp(x: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < x.length; i++) m = Math.max(m, x[i]);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.exp(x[i] - m);
  return m + Math.log(s);
}

describe('psis against arviz.psislw', () => {
  for (const c of fixture.psis) {
    it(c.name, () => {
      const r = psis(c.logRatios, { reff: c.reff });
      if (c.khat === null) expect(r.khat).toBe(Infinity);
      else expect(Math.abs(r.khat - c.khat)).toBeLessThan(KHAT_TOL);
      expect(r.logWeights.length).toBe(c.logRatios.length);
      expect(maxAbsDiff(r.logWeights, c.logWeights)).toBeLessThan(LOGW_TOL);
      expect(Math.abs(r.ess - c.ess) / c.ess).toBeLessThan(1e-9);
      expect(Math.abs(logSumExp(r.logWeights))).toBeLessThan(1e-12);
    });
  }

  it('covers small, large and very large k-hat', () => {
    const ks = fixture.psis.map((c) => c.khat ?? Infinity);
    expect(Math.min(...ks)).toBeLessThan(0);
    expect(ks.some((k) => k > 0.5 && k < 0.7)).toBe(true);
    expect(ks.some((k) => k > 0.7 && k < 1)).toBe(true);
    expect(ks.some((k) => k >= 1 && Number.isFinite(k))).toBe(true);
  });

  it('uses a tail of M = ceil(min(S/5, 3 sqrt(S/reff))) ratios', () => {
    const byS = (S: number, reff = 1) => fixture.psis.find((c) => c.logRatios.length === S && c.reff === reff)!;
    expect(psis(byS(1000).logRatios).tailLength).toBe(Math.ceil(3 * Math.sqrt(1000)));
    expect(psis(byS(100).logRatios).tailLength).toBe(20);
    expect(psis(byS(20).logRatios).tailLength).toBe(4);
    expect(psis(byS(1000, 0.6).logRatios, { reff: 0.6 }).tailLength).toBe(Math.ceil(3 * Math.sqrt(1000 / 0.6)));
  });

  it('accepts a Float64Array or a 1-D tensor alike, and ignores a constant shift', () => {
    const c = fixture.psis[2];
    const a = psis(Float64Array.from(c.logRatios));
    const t = psis(tensor(c.logRatios));
    const shifted = psis(c.logRatios.map((v) => v + 123.25));
    expect(t.khat).toBe(a.khat);
    expect(maxAbsDiff(t.logWeights, a.logWeights)).toBe(0);
    expect(Math.abs(shifted.khat - a.khat)).toBeLessThan(1e-9);
    expect(maxAbsDiff(shifted.logWeights, a.logWeights)).toBeLessThan(1e-9);
  });

  it('does not modify its input, and truncates smoothed weights at the largest raw ratio', () => {
    const c = fixture.psis[5];
    const input = Float64Array.from(c.logRatios);
    const r = psis(input);
    expect(Array.from(input)).toEqual(c.logRatios);
    // Body weights keep their raw ratios, so truncation at the raw maximum bounds max/min by the raw max/min.
    const iMin = c.logRatios.indexOf(Math.min(...c.logRatios));
    const spread = Math.max(...c.logRatios) - c.logRatios[iMin];
    expect(Math.max(...r.logWeights) - r.logWeights[iMin]).toBeLessThanOrEqual(spread + 1e-9);
  });

  it('zero weights (−∞) pass through; bad input is an error that names the op', () => {
    const c = fixture.psis[1].logRatios.slice();
    c[0] = -Infinity;
    const r = psis(c);
    expect(r.logWeights[0]).toBe(-Infinity);
    expect(() => psis([0, NaN, 1])).toThrow(ValueError);
    expect(() => psis([0, Infinity])).toThrow(/psis: log ratio 1 is Infinity/);
    expect(() => psis([-Infinity, -Infinity])).toThrow(/every log ratio/);
    expect(() => psis([])).toThrow(ValueError);
    expect(() => psis([1, 2], { reff: 0 })).toThrow(/reff/);
    expect(() => psis(tensor([[1, 2]]))).toThrow(ShapeError);
  });

  it('psisBatch smooths each column of [S, N] like psis', () => {
    const cols = fixture.psis.filter((c) => c.logRatios.length === 1000 && c.reff === 1);
    const S = 1000;
    const N = cols.length;
    const rows = Array.from({ length: S }, (_, s) => cols.map((c) => c.logRatios[s]));
    const r = psisBatch(rows);
    const rt = psisBatch(tensor(rows));
    expect(r.shape).toEqual([S, N]);
    for (let j = 0; j < N; j++) {
      expect(Math.abs(r.khat[j] - cols[j].khat!)).toBeLessThan(KHAT_TOL);
      expect(Math.abs(r.ess[j] - cols[j].ess) / cols[j].ess).toBeLessThan(1e-9);
      const col = Array.from({ length: S }, (_, s) => r.logWeights[s * N + j]);
      expect(maxAbsDiff(col, cols[j].logWeights)).toBeLessThan(LOGW_TOL);
    }
    expect(maxAbsDiff(rt.logWeights, r.logWeights)).toBe(0);
    expect(() => psisBatch([[1, 2], [3]])).toThrow(ShapeError);
  });
});

describe('gpdFit', () => {
  it('recovers the shape of a generalized Pareto sample (expected order statistics)', () => {
    for (const k of [0.2, 0.5, 0.9]) {
      const n = 2000;
      const sigma = 1.7;
      const x = Float64Array.from({ length: n }, (_, i) => (sigma * Math.expm1(-k * Math.log1p(-(i + 0.5) / n))) / k);
      const f = gpdFit(x);
      expect(Math.abs(f.kRaw - k)).toBeLessThan(0.02);
      expect(Math.abs(f.sigma - sigma) / sigma).toBeLessThan(0.03);
      expect(f.k).toBeCloseTo((n * f.kRaw + 5) / (n + 10), 14);
    }
  });
});

describe('k-hat thresholds and words', () => {
  it('threshold min(1 − 1/log10 S, 0.7)', () => {
    expect(khatThreshold(100)).toBeCloseTo(0.5, 15);
    expect(khatThreshold(1000)).toBeCloseTo(2 / 3, 15);
    expect(khatThreshold(4000)).toBe(0.7);
    expect(khatThreshold(2000)).toBeLessThan(0.7);
    expect(khatThreshold(10)).toBe(0);
    expect(minDrawsForKhat(0.6)).toBeCloseTo(Math.pow(10, 2.5), 8);
    expect(minDrawsForKhat(1.1)).toBe(Infinity);
    // At S = minDrawsForKhat(k) the threshold equals k.
    expect(khatThreshold(minDrawsForKhat(0.55))).toBeCloseTo(0.55, 12);
  });

  it('categories', () => {
    expect(khatCategory(0.3, 1000)).toBe('good');
    expect(khatCategory(-1.2, 1000)).toBe('good');
    expect(khatCategory(0.62, 4000)).toBe('ok');
    expect(khatCategory(0.62, 200)).toBe('too-few-draws');
    expect(khatCategory(0.45, 50)).toBe('too-few-draws');
    expect(khatCategory(0.7, 4000)).toBe('ok');
    expect(khatCategory(0.83, 4000)).toBe('bad');
    expect(khatCategory(1.2, 4000)).toBe('very-bad');
    expect(khatCategory(Infinity, 20)).toBe('not-estimated');
    expect(khatCategory(NaN, 20)).toBe('not-estimated');
  });

  it('describeKhat says what k-hat means', () => {
    const bad = describeKhat(0.83, 4000);
    expect(bad.startsWith('k\u0302 = 0.83 > 0.7: the importance ratios have a heavy right tail; the variational approximation should not be trusted for posterior expectations')).toBe(true);
    expect(describeKhat(0.3, 1000)).toMatch(/^k̂ = 0\.30 < 0\.5: .*finite variance/);
    expect(describeKhat(0.62, 4000)).toMatch(/^k̂ = 0\.62 ≤ 0\.70 \(the threshold for S = 4000 draws\)/);
    expect(describeKhat(0.62, 200)).toMatch(/too few draws.*about 429 draws/);
    expect(describeKhat(1.2, 4000)).toMatch(/^k̂ = 1\.20 ≥ 1: .*no finite mean/);
    expect(describeKhat(Infinity, 20)).toMatch(/could not be estimated.*S = 20/);
    for (const c of fixture.psis) expect(describeKhat(c.khat ?? Infinity, c.logRatios.length).length).toBeGreaterThan(40);
  });
});

describe('loo against arviz.loo', () => {
  const L = fixture.loo;
  const S = L.a.length;
  const N = L.x.length;
  const rows = Array.from({ length: S }, (_, s) => {
    const r = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      const e = L.y[i] - (L.a[s] + L.b[s] * L.x[i]);
      r[i] = -0.5 * L.log2pi - 0.5 * e ** 2;
    }
    return r;
  });

  it('elpd_loo, SE, p_loo, pointwise elpd and k-hat', () => {
    const r = loo(rows);
    expect(r.draws).toBe(S);
    expect(r.observations).toBe(N);
    expect(Math.abs(r.elpdLoo - L.elpd_loo)).toBeLessThan(1e-9);
    expect(Math.abs(r.se - L.se)).toBeLessThan(1e-9);
    expect(Math.abs(r.pLoo - L.p_loo)).toBeLessThan(1e-9);
    expect(r.looic).toBe(-2 * r.elpdLoo);
    expect(maxAbsDiff(r.pointwise.elpd, L.loo_i)).toBeLessThan(1e-10);
    expect(maxAbsDiff(r.pointwise.khat, L.pareto_k)).toBeLessThan(KHAT_TOL);
    let sumP = 0;
    for (const v of r.pointwise.pLoo) sumP += v;
    expect(Math.abs(sumP - r.pLoo)).toBeLessThan(1e-9);
    expect(r.threshold).toBeCloseTo(L.good_k, 15);
    expect(r.nHighKhat).toBe(L.pareto_k.filter((k) => k > L.good_k).length);
  });

  it('flags the outlier with the largest k-hat', () => {
    const r = loo(tensor(Array.from(rows, (row) => Array.from(row))));
    const k = Array.from(r.pointwise.khat);
    expect(k.indexOf(Math.max(...k))).toBe(N - 1);
    expect(k[N - 1]).toBeGreaterThan(0.7);
    expect(r.nHighKhat).toBeGreaterThanOrEqual(1);
  });

  it('rejects bad input', () => {
    expect(() => loo([[0, 1]])).toThrow(/at least 2 draws/);
    expect(() => loo([[0, 1], [NaN, 1]])).toThrow(/logLik\[1\]\[0\] is NaN/);
    expect(() => loo(tensor([1, 2, 3]))).toThrow(ShapeError);
  });
});

describe('VSBC', () => {
  it('KS symmetry test matches scipy ks_2samp(p, 1 − p, method="exact")', () => {
    for (const c of fixture.ks) {
      const r = ksSymmetryTest(c.p);
      expect(r.statistic).toBeCloseTo(c.statistic, 12);
      expect(Math.abs(r.pValue - c.pvalue) / c.pvalue).toBeLessThan(1e-9);
    }
    expect(ksSymmetryTest([0.1, 0.4, 0.55, 0.8])).toEqual({ statistic: 0.25, pValue: 1 });
    expect(ksSymmetryTest([0.5, 0.5]).statistic).toBe(0);
  });

  it('calibration quantiles from draws or marginal CDFs', () => {
    expect(Array.from(calibrationQuantiles([0.3], Float64Array.from([0.1, 0.2, 0.5, 0.9])))).toEqual([0.5]);
    const draws = [
      [0, 10],
      [1, 11],
      [2, 12],
      [3, 13],
    ];
    expect(Array.from(calibrationQuantiles([2.5, 10.5], draws))).toEqual([0.75, 0.25]);
    expect(Array.from(calibrationQuantiles(tensor([2.5, 10.5]), tensor(draws)))).toEqual([0.75, 0.25]);
    const q = calibrationQuantiles([1, 2], { cdf: (t) => Array.from(t, (v) => v / 4) });
    expect(Array.from(q)).toEqual([0.25, 0.5]);
    expect(() => calibrationQuantiles([1, 2, 3], draws)).toThrow(ShapeError);
    expect(() => calibrationQuantiles([1], { cdf: () => [1.5] })).toThrow(ValueError);
  });

  // Conjugate model: μ ~ N(0, 1), y_1..n ~ N(μ, 1): the posterior is N(Σy / (n + 1), 1 / (n + 1)).
  const n = 10;
  const simulate = (k: ReturnType<typeof key>) => {
    const z = normal(k, [n + 1]).dataSync();
    const mu = z[0];
    const y = Array.from(z.subarray(1), (e) => mu + e);
    return { theta: [mu], data: y };
  };
  const postMean = (y: number[]) => y.reduce((s, v) => s + v, 0) / (n + 1);
  const postSd = 1 / Math.sqrt(n + 1);

  it('a calibrated fit gives symmetric p; a biased fit is detected', () => {
    const exact = vsbc({
      key: key(7),
      replications: 300,
      simulate,
      fit: (k, y) => {
        const m = postMean(y);
        return Float64Array.from(normal(k, [400]).dataSync(), (e) => m + postSd * e);
      },
    });
    expect(exact.replications).toBe(300);
    expect(exact.parameters).toBe(1);
    expect(exact.p[0].length).toBe(300);
    expect(exact.tests[0].pValue).toBeGreaterThan(0.01);
    // A mean-shifted approximation (+0.5 posterior sd) makes p skew to the left of 1/2.
    const biased = vsbc({
      key: key(7),
      replications: 300,
      simulate,
      fit: (k, y) => {
        const m = postMean(y) + 0.5 * postSd;
        return tensor(Array.from(normal(k, [400]).dataSync(), (e) => [m + postSd * e]));
      },
    });
    expect(biased.tests[0].pValue).toBeLessThan(1e-4);
  });

  it('accepts marginal CDFs and precomputed pairs', () => {
    // A logistic q centred on the truth: P_q(θ < θ*) = 1/2 for every pair.
    const pairs = Array.from({ length: 20 }, (_, r) => ({
      theta: [r, -r],
      fitted: { cdf: (t: Float64Array) => Array.from(t, (v, j) => 1 / (1 + Math.exp(-(v - (j === 0 ? r : -r))))) },
    }));
    const res = vsbcFromPairs(pairs);
    expect(res.parameters).toBe(2);
    expect(Array.from(res.p[1])).toEqual(new Array(20).fill(0.5));
    expect(res.tests[1]).toEqual({ statistic: 0, pValue: 1 });
    expect(() => vsbcFromPairs([])).toThrow(ValueError);
    expect(() => vsbc({ key: key(0), replications: 0, simulate, fit: () => new Float64Array(1) })).toThrow(/replications/);
  });
});

describe('pointwise log-likelihood and model LOO', () => {
  it('matches a hand computation and flags an outlier', async () => {
    const { Normal, sample, plate, tensor, pointwiseLogLikelihood, modelLoo } = await import('../../ts/index.js');
    const yv = [0.1, -0.4, 0.3, 0.2, -0.1, 6];
    const y = tensor(yv);
    const model = (obs: import('../../ts/index.js').Tensor): void => {
      const mu = sample('mu', new Normal(0, 10));
      plate('data', yv.length, () => sample('y', new Normal(mu, 1), { obs }));
    };
    // Exact posterior draws of mu: N(Σy/(n + 0.01), 1/(n + 0.01)).
    const n = yv.length;
    const prec = n + 0.01;
    const m = yv.reduce((a, b) => a + b, 0) / prec;
    const S = 2000;
    const draws = new Float64Array(S);
    for (let s = 0; s < S; s++) draws[s] = m + Math.sqrt(1 / prec) * Math.sqrt(-2 * Math.log((s + 0.5) / S)) * Math.cos(2.399963 * s);
    const ll = pointwiseLogLikelihood(model, [y], { mu: tensor(draws) });
    expect(ll.length).toBe(S);
    expect(ll[0].length).toBe(n);
    expect(ll[3][5]).toBeCloseTo(-0.5 * Math.log(2 * Math.PI) - 0.5 * (6 - draws[3]) ** 2, 12);
    const r = modelLoo(model, [y], { mu: tensor(draws) });
    const worst = r.pointwise.khat.indexOf(Math.max(...r.pointwise.khat));
    expect(worst).toBe(5);
  });
});
