/**
 * `fit` never ends worse than it started (issue 19): the answer is the best candidate on common
 * draws; a diverging phase restarts with a smaller step; ill-conditioned Gaussian posteriors are
 * recovered exactly; improper posteriors, mode-less (funnel) posteriors and fits whose every
 * candidate is non-finite are reported in words.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HalfNormal, ImproperPosteriorError, Normal, ShapeError, VarinfError, deterministic, factor, greater, key, mask, sample, tensor, where, zeros } from '../../ts/index.js';
import { fitSync, type FitPhase } from '../../ts/infer/fit/index.js';
import { models } from '../../ts/index.js';
import { linregModel, makeEarningsLike, makeLinReg, type LinReg } from './linreg-fixture.js';

const PHASES: FitPhase[] = [
  { lr: 0.1, particles: 4, minSteps: 500, maxSteps: 1000 },
  { lr: 0.03, particles: 8, minSteps: 250, maxSteps: 500 },
  { lr: 0.01, particles: 16, minSteps: 250, maxSteps: 500 },
];

/** Worst z of the means (in marginal posterior sds) and the range of sd ratios against `targetSd`. */
function compare(r: LinReg, mean: number[], sd: number[], targetSd: (j: number) => number): { z: number; rMin: number; rMax: number } {
  let z = 0;
  let rMin = Infinity;
  let rMax = 0;
  for (let j = 0; j < r.d; j++) {
    z = Math.max(z, Math.abs(mean[j] - r.mu[j]) / Math.sqrt(r.cov[j * (r.d + 1)]));
    rMin = Math.min(rMin, sd[j] / targetSd(j));
    rMax = Math.max(rMax, sd[j] / targetSd(j));
  }
  return { z, rMin, rMax };
}

describe('fit on ill-conditioned conjugate regressions (the posterior is exactly Gaussian)', () => {
  // Correlated columns on scales 1 … spread: condition numbers of the posterior covariance about 1e2, 1e4, 1e6.
  const CASES: [number, number, number][] = [
    [0.6, 5, 1e2],
    [0.9, 30, 1e4],
    [0.99, 100, 1e6],
  ];
  for (const [rho, spread, target] of CASES)
    for (const guide of ['mvn', 'normal'] as const)
      it(`condition ~${target.toExponential(0)}, ${guide}: z ≈ 0 and r ≈ 1 against the closed form, never below the start's ELBO`, () => {
        const r = makeLinReg({ rho, spread });
        expect(r.cond).toBeGreaterThan(target / 3);
        expect(r.cond).toBeLessThan(target * 3);
        const f = fitSync(linregModel, [r], { guide, key: key(1), numDraws: 4000, phases: PHASES });
        // Full rank: the exact marginal sds; mean field: its optimum for a Gaussian target, 1/√(Σ⁻¹)ᵢᵢ.
        const sdOf = (j: number): number => (guide === 'mvn' ? Math.sqrt(r.cov[j * (r.d + 1)]) : 1 / Math.sqrt(r.prec[j * (r.d + 1)]));
        const c = compare(r, f.summary.beta.mean, f.summary.beta.sd, sdOf);
        const start = f.chosen.candidates[0];
        console.log(
          `cond ${r.cond.toExponential(1)} ${guide}: z ${c.z.toFixed(3)}, r ${c.rMin.toFixed(3)}–${c.rMax.toFixed(3)}; ELBO ${start.name} ${start.elbo.toFixed(3)}, chosen ${f.chosen.name} ${f.chosen.elbo.toFixed(3)}`,
        );
        expect(start.name).toBe('laplace start');
        expect(f.chosen.elbo).toBeGreaterThanOrEqual(start.elbo);
        expect(c.z).toBeLessThan(0.1);
        expect(c.rMin).toBeGreaterThan(0.9);
        expect(c.rMax).toBeLessThan(1.1);
      });
});

describe('fit: the full-rank scale factor is whitened by the Laplace factor', () => {
  it("near-collinear coefficients (earnings-like, correlation −0.998): a phase at lr 0.1 does not diverge and keeps the start ELBO", () => {
    const r = makeEarningsLike();
    for (const k of [0, 1, 2]) {
      const f = fitSync(linregModel, [r], { guide: 'mvn', key: key(k), numDraws: 500, phases: [{ lr: 0.1, particles: 4, minSteps: 300, maxSteps: 300 }] });
      const [start, , average] = f.chosen.candidates;
      console.log(`earnings-like key ${k}: ${f.chosen.candidates.map((c) => `${c.name} ${c.elbo.toFixed(3)}`).join(', ')}`);
      expect(f.warnings.filter((w) => w.includes('diverged'))).toEqual([]);
      expect(average.name).toBe('phase 1 average');
      expect(average.elbo).toBeGreaterThan(start.elbo - 0.02);
    }
  });
});

describe('fit: deterministic sites', () => {
  it("appear in the draws and summaries (eight schools' theta = mu + tau·theta_trans)", () => {
    const dir = fileURLToPath(new URL('../fixtures/posteriordb/eight_schools-eight_schools_noncentered/', import.meta.url));
    const p = models.eightSchoolsNoncenteredPosterior;
    const data = p.loadData(JSON.parse(readFileSync(`${dir}data.json`, 'utf8')) as Record<string, unknown>);
    const f = fitSync(p.model, [data], { key: key(0), numDraws: 600, phases: [{ lr: 0.1, particles: 4, minSteps: 100, maxSteps: 100 }] });
    expect(f.draws.theta.shape).toEqual([600, 8]);
    expect(f.summary.theta.shape).toEqual([8]);
    const th = f.draws.theta.dataSync();
    const mu = f.draws.mu.dataSync();
    const tau = f.draws.tau.dataSync();
    const tt = f.draws.theta_trans.dataSync();
    for (const s of [0, 499, 500, 599]) for (const j of [0, 7]) expect(th[s * 8 + j]).toBeCloseTo(mu[s] + tau[s] * tt[s * 8 + j], 10);
  });

  it('a deterministic site whose shape changes between draws is named in the error', () => {
    let calls = 0;
    const model = (): void => {
      sample('x', new Normal(0, 1));
      deterministic('wobbly', zeros([1 + (calls++ % 2)]));
    };
    expect(() => fitSync(model, [], { key: key(0), numDraws: 1000, phases: [{ lr: 0.1, particles: 4, minSteps: 50, maxSteps: 50 }] })).toThrow(ShapeError);
    calls = 0;
    expect(() => fitSync(model, [], { key: key(0), numDraws: 1000, phases: [{ lr: 0.1, particles: 4, minSteps: 50, maxSteps: 50 }] })).toThrow(/deterministic site 'wobbly'/);
  });
});

describe('fit: divergence, candidates and warnings', () => {
  it('a phase with a step size far too large diverges, restarts smaller, and the answer is still the posterior', () => {
    const r = makeLinReg({ rho: 0.9, spread: 30 });
    const f = fitSync(linregModel, [r], {
      guide: 'mvn',
      key: key(0),
      phases: [
        { lr: 5, particles: 4, minSteps: 300, maxSteps: 600 },
        { lr: 0.01, particles: 16, minSteps: 250, maxSteps: 500 },
      ],
    });
    console.log(f.warnings.join('\n'));
    expect(f.warnings.some((w) => /phase 1 diverged at step \d+.*restarted from the best point so far with step size/.test(w))).toBe(true);
    expect(f.chosen.candidates.map((c) => c.name)).toEqual(expect.arrayContaining(['laplace start', 'phase 1 end', 'phase 2 average']));
    const best = Math.max(...f.chosen.candidates.filter((c) => Number.isFinite(c.elbo)).map((c) => c.elbo));
    expect(f.chosen.elbo).toBe(best);
    const c = compare(r, f.summary.beta.mean, f.summary.beta.sd, (j) => Math.sqrt(r.cov[j * (r.d + 1)]));
    expect(c.z).toBeLessThan(0.1);
    expect(c.rMin).toBeGreaterThan(0.9);
    expect(c.rMax).toBeLessThan(1.1);
  });

  it('a flat prior without a likelihood is an improper posterior, named as such', () => {
    const flat = mask((): void => {
      sample('x', new Normal(0, 1));
    }, tensor(0));
    expect(() => fitSync(flat, [], { key: key(0) })).toThrow(ImproperPosteriorError);
    expect(() => fitSync(flat, [], { key: key(0) })).toThrow(/improper.*site 'x'/);
    const flatPositive = mask((): void => {
      sample('s', new HalfNormal(1));
    }, tensor(0));
    try {
      fitSync(flatPositive, [], { key: key(0) });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ImproperPosteriorError);
      expect((e as ImproperPosteriorError).site).toBe('s');
    }
  });

  it('a funnel (eight schools, centered) has no mode: it still fits and says it had no Laplace start', () => {
    const dir = fileURLToPath(new URL('../fixtures/posteriordb/eight_schools-eight_schools_centered/', import.meta.url));
    const p = models.eightSchoolsCenteredPosterior;
    const data = p.loadData(JSON.parse(readFileSync(`${dir}data.json`, 'utf8')) as Record<string, unknown>);
    const f = fitSync(p.model, [data], { guide: 'mvn', key: key(0), numDraws: 1000, phases: PHASES });
    expect(f.laplace.used).toBe(false);
    expect(f.warnings.some((w) => w.startsWith('no Laplace start'))).toBe(true);
    expect(f.chosen.candidates[0].name).toBe('initial guide');
    expect(Number.isFinite(f.elbo)).toBe(true);
  });

  it('a fit whose every candidate is non-finite raises an error naming the site and the step', () => {
    // log p is NaN beyond x = 2.5: the steps skip those draws, but 1000 common draws always reach it.
    const cliff = (): void => {
      const x = sample('x', new Normal(0, 1));
      factor('cliff', where(greater(x, 2.5), NaN, 0));
    };
    const short: FitPhase[] = [{ lr: 0.05, particles: 4, minSteps: 100, maxSteps: 100 }];
    expect(() => fitSync(cliff, [], { key: key(0), phases: short })).toThrow(VarinfError);
    expect(() => fitSync(cliff, [], { key: key(0), phases: short })).toThrow(/every candidate.*step 100.*site 'cliff' is not finite/);
  });

  it('k̂ above 0.7 is a warning in words', () => {
    // Mean field on strongly correlated coefficients: a poor importance proposal.
    const r = makeLinReg({ rho: 0.99, spread: 100 });
    const f = fitSync(linregModel, [r], { guide: 'normal', key: key(0), numDraws: 2000, phases: PHASES });
    expect(f.khat).toBeGreaterThan(0.7);
    expect(f.warnings.some((w) => w.includes('k\u0302') && w.includes('> 0.7'))).toBe(true);
  });
});
