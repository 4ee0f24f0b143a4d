/**
 * Simulation-based calibration: the χ² and ECDF machinery against SciPy (test/fixtures/sbc.json,
 * frozen by scripts/golden/sbc.py), the band's family-wise level on fresh uniform ranks, and SBC
 * itself: uniform ranks for exact conjugate posteriors (closed form; CAVI on the conjugate
 * normal–inverse-gamma regression) and clearly non-uniform ranks for under-dispersed fits (the
 * posterior sd halved; mean-field CAVI on a strongly correlated Gaussian posterior).
 *
 * Levels and sizes: the calibrated cases must pass χ² at p > 0.001 and the ECDF band at α = 0.01,
 * so a correct implementation fails with probability under 1% per variable over random keys (the
 * keys here are fixed, so each outcome is fixed). The miscalibrated cases halve the posterior sd
 * (or nearly so), which with N = 300 simulations puts about half the ranks in the outer tenth of
 * 0..L; the χ² p-values come out below 1e-30, so a miss is not a practical possibility.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  bayesLinReg,
  binomialTailsForTest,
  ecdfBand,
  formatSbc,
  functionBackend,
  functionGenerator,
  gamma,
  gammaQ,
  key,
  normal,
  rankChiSquare,
  rankEcdfTest,
  rankOf,
  sbc,
  split,
  sbcPlotSvg,
  thinIndices,
  uniform,
  ValueError,
  VarinfError,
  AutoNormal,
  Normal,
  SVI,
  TraceELBO,
  adam,
  add,
  foldIn,
  sviBackend,
  tensor,
  modelGenerator,
  plate,
  sample,
  type Key,
  type SbcSpec,
  type Tensor,
} from './sbc-helpers.js';
import { normalGenerator, shrunk, spec } from './sbc-spec.js';

const fx = JSON.parse(readFileSync(new URL('../fixtures/sbc.json', import.meta.url), 'utf8')) as {
  chi2_sf: { df: number; x: number; sf: number }[];
  chisquare: { L: number; bins: number; ranks: number[]; statistic: number; p: number }[];
  binom_tails: { N: number; p: number; c: number; tail: number }[];
};

describe('SBC tests against SciPy', () => {
  it('gammaQ(df/2, x/2) is scipy.stats.chi2.sf(x, df)', () => {
    for (const c of fx.chi2_sf) {
      const q = gammaQ(c.df / 2, c.x / 2);
      expect(Math.abs(q - c.sf) / Math.max(c.sf, 1e-300), `df ${c.df}, x ${c.x}`).toBeLessThan(1e-10);
    }
  });

  it('rankChiSquare is scipy.stats.chisquare on the binned ranks', () => {
    for (const c of fx.chisquare) {
      const t = rankChiSquare(c.ranks, c.L, c.bins);
      expect(t.statistic).toBeCloseTo(c.statistic, 10);
      expect(Math.abs(t.pValue - c.p) / c.p).toBeLessThan(1e-9);
      expect(t.df).toBe(c.bins - 1);
    }
    expect(fx.chisquare[3].p).toBeLessThan(1e-3); // the lopsided case is flagged
  });

  it("the ECDF test's pointwise tails are scipy.stats.binom's", () => {
    for (const c of fx.binom_tails) expect(binomialTailsForTest(c.N, c.p)[c.c]).toBeCloseTo(c.tail, 12);
  });

  it('the simultaneous band leaves ~α of fresh uniform rank samples (family-wise level)', () => {
    const N = 100;
    const L = 99;
    const band = ecdfBand(N, L, { key: key(1), alpha: 0.05, simulations: 4000 });
    // Fresh samples from keys the band never saw: the rejection rate estimates the family-wise level.
    const R = 1000;
    const u = uniform(key(2), [R, N], { dtype: 'float64' }).dataSync();
    let rejected = 0;
    for (let r = 0; r < R; r++) {
      const ranks = Array.from(u.subarray(r * N, (r + 1) * N), (x) => Math.floor(x * (L + 1)));
      if (rankEcdfTest(ranks, L, { band }).rejected) rejected++;
    }
    // Binomial(1000, 0.05) has sd 6.9; the band is conservative by construction (discreteness).
    expect(rejected).toBeGreaterThan(20);
    expect(rejected).toBeLessThan(72);
    // Pointwise γ is far below α: the band is simultaneous over K − 1 = 99 points.
    expect(band.gamma).toBeLessThan(0.01);
    expect(band.gamma).toBeGreaterThan(1e-4);
  });

  it('bad ranks and options raise ValueError naming them', () => {
    expect(() => rankChiSquare([0, 5], 4)).toThrow(/rank 1 is 5, not an integer in \[0, 4\]/);
    expect(() => rankChiSquare([0, 1], 4, 9)).toThrow(ValueError);
    expect(() => ecdfBand(10, 9, { key: key(0), alpha: 1.5 })).toThrow(/alpha must be in \(0, 1\)/);
    expect(() => rankEcdfTest([0, 1.5], 3, { key: key(0) })).toThrow(/rank 1 is 1.5/);
    expect(() => thinIndices(10, 20)).toThrow(/rankDraws is 20 but the backend returned only 10 draws/);
  });

  it('ranks: draws below count, ties split, thinning evenly spaced', () => {
    expect(rankOf(0.5, [0.1, 0.7, 0.3], () => 0)).toBe(2);
    expect(rankOf(1, [1, 1, 1, 0], () => 0.999)).toBe(4);
    expect(rankOf(1, [1, 1, 1, 0], () => 0)).toBe(1);
    expect(Array.from(thinIndices(10, 5))).toEqual([0, 2, 4, 6, 8]);
    expect(() => rankOf(0, [0, NaN], () => 0, 'mu')).toThrow(/posterior draw 1 of mu is NaN/);
  });
});

const N_SIM = 300;

describe('SBC on exact and miscalibrated posteriors', () => {
  it('the exact normal–normal posterior gives uniform ranks (θ and θ²)', async () => {
    const r = await sbc(spec, { key: key(10), simulations: N_SIM, alpha: 0.01 });
    expect(r.variables).toEqual(['theta', 'theta_sq']);
    expect(r.maxRank).toBe(99);
    expect(r.failures).toEqual([]);
    for (const v of r.variables) {
      expect(r.tests[v].chiSquare.pValue, v).toBeGreaterThan(1e-3);
      expect(r.tests[v].ecdf.rejected, v).toBe(false);
    }
    expect(formatSbc(r)).toMatch(/theta_sq .* inside/);
    const svg = sbcPlotSvg(r);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toMatch(/theta: ranks/);
    expect(svg).toMatch(/theta_sq: ECDF/);
  });

  it('the posterior with its sd halved is detected by both tests', async () => {
    const r = await sbc(shrunk, { key: key(10), simulations: N_SIM, alpha: 0.01 });
    expect(r.tests.theta.chiSquare.pValue).toBeLessThan(1e-30);
    expect(r.tests.theta.ecdf.rejected).toBe(true);
    expect(r.tests.theta.ecdf.pValue).toBeLessThan(0.001);
    // The U shape: the outer tenth of the ranks holds far more than a tenth of them.
    const outer = Array.from(r.ranks.theta).filter((x) => x < 10 || x > 89).length;
    expect(outer / N_SIM).toBeGreaterThan(0.4);
  });

  it('thinning: rankDraws = L ranks among L evenly spaced draws', async () => {
    const r = await sbc({ ...spec, rankDraws: 33 }, { key: key(11), simulations: 40 });
    expect(r.maxRank).toBe(33);
    for (const x of r.ranks.theta) expect(x >= 0 && x <= 33).toBe(true);
  });
});

/** θ ~ N(0, Σ0) with correlation ρ, y ~ N(θ, I): posterior precision Λ = Σ0⁻¹ + I, mean Λ⁻¹ y. */
function correlatedSpec(meanField: boolean, rho = 0.95): SbcSpec<[number, number]> {
  const c = 1 / (1 - rho * rho);
  const lam = [c + 1, -rho * c, -rho * c, c + 1];
  const det = lam[0] * lam[3] - lam[1] * lam[2];
  const cov = [lam[3] / det, -lam[1] / det, -lam[2] / det, lam[0] / det];
  return {
    generator: functionGenerator((k: Key) => {
      const z = normal(k, [4], { dtype: 'float64' }).dataSync();
      const t0 = z[0];
      const t1 = rho * z[0] + Math.sqrt(1 - rho * rho) * z[1];
      return { parameters: { theta: [t0, t1] }, data: [t0 + z[2], t1 + z[3]] as [number, number] };
    }),
    backend: functionBackend((k: Key, y: [number, number]) => {
      const z = normal(k, [200, 2], { dtype: 'float64' }).dataSync();
      const draws: number[][] = [];
      if (meanField) {
        // CAVI for a Gaussian target: q_j = N(m_j, 1/Λ_jj), m_j = (y_j − Λ_jk m_k)/Λ_jj (Λ y's natural mean is y).
        let m0 = 0;
        let m1 = 0;
        for (let it = 0; it < 500; it++) {
          m0 = (y[0] - lam[1] * m1) / lam[0];
          m1 = (y[1] - lam[2] * m0) / lam[3];
        }
        for (let s = 0; s < 200; s++) draws.push([m0 + z[2 * s] / Math.sqrt(lam[0]), m1 + z[2 * s + 1] / Math.sqrt(lam[3])]);
      } else {
        const m0 = cov[0] * y[0] + cov[1] * y[1];
        const m1 = cov[2] * y[0] + cov[3] * y[1];
        const l00 = Math.sqrt(cov[0]);
        const l10 = cov[2] / l00;
        const l11 = Math.sqrt(cov[3] - l10 * l10);
        for (let s = 0; s < 200; s++) draws.push([m0 + l00 * z[2 * s], m1 + l10 * z[2 * s] + l11 * z[2 * s + 1]]);
      }
      return { theta: draws };
    }),
    rankDraws: 99,
  };
}

describe('SBC of mean-field CAVI', () => {
  it('on a correlated Gaussian posterior (ρ = 0.95): the exact posterior passes, mean-field is caught', async () => {
    const exact = await sbc(correlatedSpec(false), { key: key(20), simulations: N_SIM, alpha: 0.01 });
    const mf = await sbc(correlatedSpec(true), { key: key(20), simulations: N_SIM, alpha: 0.01 });
    expect(exact.variables).toEqual(['theta[0]', 'theta[1]']);
    for (const v of exact.variables) {
      expect(exact.tests[v].chiSquare.pValue, v).toBeGreaterThan(1e-3);
      expect(exact.tests[v].ecdf.rejected, v).toBe(false);
      expect(mf.tests[v].chiSquare.pValue, v).toBeLessThan(1e-20);
      expect(mf.tests[v].ecdf.rejected, v).toBe(true);
    }
  });

  it('bayesLinReg (CAVI on the conjugate normal–inverse-gamma regression) gives uniform ranks', async () => {
    const n = 40;
    const a0 = 4;
    const b0 = 3;
    const x = Array.from({ length: n }, (_, i) => [1, (i - n / 2) / 10]);
    const blr: SbcSpec<number[]> = {
      generator: functionGenerator((k: Key) => {
        const [kg, kz] = split(k);
        const sigma2 = b0 / gamma(kg, a0, [], { dtype: 'float64' }).item();
        const z = normal(kz, [2 + n], { dtype: 'float64' }).dataSync();
        const w = [Math.sqrt(sigma2) * z[0], Math.sqrt(sigma2) * z[1]];
        const y = x.map((row, i) => row[0] * w[0] + row[1] * w[1] + Math.sqrt(sigma2) * z[2 + i]);
        return { parameters: { w, sigma2 }, data: y };
      }),
      backend: functionBackend((k: Key, y: number[]) => {
        const f = bayesLinReg(x, y, { a0, b0, priorPrecision: 1, tol: 1e-12, maxIter: 500 });
        const S = 99;
        const z = normal(split(k)[0], [S, 3], { dtype: 'float64' }).dataSync();
        const g = gamma(split(k)[1], f.a, [S], { dtype: 'float64' }).dataSync();
        const l00 = Math.sqrt(f.cov[0]);
        const l10 = f.cov[2] / l00;
        const l11 = Math.sqrt(f.cov[3] - l10 * l10);
        return {
          w: Array.from({ length: S }, (_, s) => [f.mean[0] + l00 * z[3 * s], f.mean[1] + l10 * z[3 * s] + l11 * z[3 * s + 1]]),
          sigma2: Float64Array.from(g, (e) => f.b / e),
        };
      }),
    };
    const r = await sbc(blr, { key: key(30), simulations: N_SIM, alpha: 0.01 });
    expect(r.variables).toEqual(['w[0]', 'w[1]', 'sigma2']);
    for (const v of r.variables) {
      expect(r.tests[v].chiSquare.pValue, v).toBeGreaterThan(1e-3);
      expect(r.tests[v].ecdf.rejected, v).toBe(false);
    }
  });
});

describe('SBC runner', () => {
  it('records a non-finite generator draw as a failure, or throws with onFailure: throw', async () => {
    const gen = functionGenerator((k: Key, i: number) => {
      const d = normalGenerator.generate(k, i);
      return i === 3 ? { ...d, data: Float64Array.from(d.data, (v, j) => (j === 2 ? NaN : v)) } : d;
    });
    const s = { ...spec, generator: gen };
    const r = await sbc(s, { key: key(40), simulations: 12 });
    expect(r.failures).toEqual([{ index: 3, stage: 'generator', message: 'non-finite draw: data[2] = NaN' }]);
    expect(r.simulations.length).toBe(11);
    expect(r.summary).toMatch(/1 simulation\(s\) failed .*\n  #3 \(generator\): non-finite draw: data\[2\] = NaN/);
    await expect(sbc(s, { key: key(40), simulations: 12, onFailure: 'throw' })).rejects.toThrow(VarinfError);
    await expect(sbc(s, { key: key(40), simulations: 12, onFailure: 'throw' })).rejects.toThrow(/simulation 3 failed at the generator/);
  });

  it('records a backend that returns NaN draws', async () => {
    const bad = functionBackend((_k: Key, _y: Float64Array, i: number) => ({ theta: Float64Array.from([0.1, i === 1 ? NaN : 0.2, 0.3]) }));
    const r = await sbc({ generator: normalGenerator, backend: bad }, { key: key(41), simulations: 5 });
    expect(r.failures.map((f) => [f.index, f.stage])).toEqual([[1, 'fit']]);
    expect(r.failures[0].message).toMatch(/posterior draw 1 of theta is NaN/);
  });

  it('worker threads give the serial run exactly', async () => {
    const module = new URL('./sbc-spec.ts', import.meta.url);
    const serial = await sbc(spec, { key: key(50), simulations: 16 });
    const threads = await sbc({ module, exportName: 'spec' }, { key: key(50), simulations: 16, workers: 2 });
    expect(threads.simulations.map((s) => s.index)).toEqual(serial.simulations.map((s) => s.index));
    expect(threads.ranks).toEqual(serial.ranks);
    expect(threads.simulations.map((s) => s.truth)).toEqual(serial.simulations.map((s) => s.truth));
    expect(threads.summary).toBe(serial.summary);
  }, 60_000);

  it('modelGenerator draws parameters and data from the prior predictive', () => {
    function model(obs: Tensor | undefined): void {
      const mu = sample('mu', new Normal(0, 1));
      plate('J', 3, () => {
        const raw = sample('raw', new Normal(0, 1));
        sample('obs', new Normal(add(mu, raw), 0.001), { obs });
      });
    }
    const gen = modelGenerator(model, [undefined], { dataSites: ['obs'] });
    const a = gen.generate(key(60), 0);
    expect(Object.keys(a.parameters)).toEqual(['mu', 'raw']);
    const mu = (a.parameters.mu as Tensor).item();
    const raw = (a.parameters.raw as Tensor).dataSync();
    expect((a.parameters.raw as Tensor).shape).toEqual([3]);
    // obs = mu + raw + 0.001 noise: the data follow the parameters drawn with them.
    Array.from(a.data.obs.dataSync()).forEach((o, j) => expect(Math.abs(o - mu - raw[j])).toBeLessThan(0.01));
    expect(gen.generate(key(60), 5).data.obs.dataSync()).toEqual(a.data.obs.dataSync()); // the key alone decides
    expect(() => modelGenerator(model, [undefined], { dataSites: ['y'] }).generate(key(0), 0)).toThrow(/data site 'y' is not among the model's sites/);
  });

  it('sviBackend fits each simulation from a fresh state (AutoNormal on the normal–normal model)', async () => {
    function model(y: Tensor): void {
      const theta = sample('theta', new Normal(0, 1));
      plate('N', 5, () => sample('y', new Normal(theta, 1), { obs: y }));
    }
    const svi = new SVI(model, new AutoNormal(model), adam(0.05), new TraceELBO());
    const backend = sviBackend(svi, (y: Float64Array) => [tensor(y)] as [Tensor], { steps: 600, draws: 400 });
    const r = await sbc({ generator: normalGenerator, backend }, { key: key(70), simulations: 3 });
    expect(r.failures).toEqual([]);
    expect(r.maxRank).toBe(400);
    for (const s of r.simulations) {
      const y = normalGenerator.generate(split(foldIn(key(70), s.index))[0], s.index).data;
      const exactMean = y.reduce((a, b) => a + b, 0) / 6;
      expect(Math.abs(s.posteriorMean[0] - exactMean)).toBeLessThan(0.15); // posterior sd is 0.41
    }
  }, 60_000);

  it('fits with different numbers of draws need rankDraws; all failed is an error', async () => {
    const ragged = functionBackend((_k: Key, _y: Float64Array, i: number) => ({ theta: new Float64Array(10 + i) }));
    await expect(sbc({ generator: normalGenerator, backend: ragged }, { key: key(80), simulations: 3 })).rejects.toThrow(/ranked among 11 draws.*set rankDraws/);
    const ok = await sbc({ generator: normalGenerator, backend: ragged, rankDraws: 10 }, { key: key(80), simulations: 3 });
    expect(ok.maxRank).toBe(10);
    const broken = functionBackend(() => {
      throw new Error('diverged');
    });
    await expect(sbc({ generator: normalGenerator, backend: broken }, { key: key(80), simulations: 3 })).rejects.toThrow(/only 0 of 3 simulations succeeded; first failure: Error: diverged/);
  });

  it('workers without a module spec is a ValueError', async () => {
    await expect(sbc(spec, { key: key(0), simulations: 4, workers: 2 })).rejects.toThrow(/workers > 1 needs the spec as a module/);
  });
});
