/**
 * EP Gaussian-process classification against GPy's EP (test/fixtures/ep-gpy.json, frozen by
 * bench/peers/ep_gpy.py with GPy 1.15.0): probit likelihood, RBF kernel with fixed
 * hyperparameters, Ionosphere (234 train / 117 test) and Sonar (139 / 69) from R's mlbench, both
 * run to a tight fixed point; and Bayesian probit regression (epLinear, weight space) against GPy
 * with a linear-plus-bias kernel. Observed agreement: log marginal likelihood to 1e-15 relative,
 * predictive probabilities to 3e-12 (issue 23 asks for 1e-3 and 1e-4); tested at 1e-9 and 1e-8.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { epGp, epLinear, probitLikelihood, rbfKernel } from '../../ts/index.js';
import { loadEpSplit } from './ep-data.js';

interface GpyRun { logMarginal: number; latentMean: number[]; latentVar: number[]; prob: number[] }
interface GpySet { csv: string; variance: number; lengthscale: number; nTrain: number; nTest: number; features: number; sequential: GpyRun; parallel: GpyRun; linear: GpyRun }
const gpy = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'ep-gpy.json'), 'utf8')) as { sets: Record<string, GpySet> };

describe("EP GP classification matches GPy's EP", () => {
  for (const [name, s] of Object.entries(gpy.sets))
    for (const schedule of ['sequential', 'parallel'] as const)
      it(`${name}, ${schedule} updates`, () => {
        const d = loadEpSplit(s.csv);
        expect(d.xTrain.length).toBe(s.nTrain);
        expect(d.xTest.length).toBe(s.nTest);
        expect(d.xTrain[0].length).toBe(s.features);
        const gp = epGp({ x: d.xTrain, y: d.yTrain, kernel: rbfKernel({ variance: s.variance, lengthscale: s.lengthscale }), likelihood: probitLikelihood(), schedule, tol: 1e-10 });
        expect(gp.converged).toBe(true);
        expect(gp.warnings).toEqual([]);
        const ref = s[schedule];
        expect(Math.abs(gp.logMarginal / ref.logMarginal - 1)).toBeLessThan(1e-9);
        const lat = gp.predictLatent(d.xTest);
        const prob = gp.predict(d.xTest);
        for (let i = 0; i < s.nTest; i++) {
          expect(Math.abs(prob[i] - ref.prob[i])).toBeLessThan(1e-8);
          expect(Math.abs(lat.mean[i] - ref.latentMean[i])).toBeLessThan(1e-7);
          expect(Math.abs(lat.variance[i] - ref.latentVar[i])).toBeLessThan(1e-7);
        }
        // The predictive log-likelihood is the log of the predictive probability of the observed label.
        const lp = gp.predictLogDensity(d.xTest, d.yTest);
        for (let i = 0; i < s.nTest; i++) expect(lp[i]).toBeCloseTo(Math.log(d.yTest[i] ? prob[i] : 1 - prob[i]), 10);
      });

  for (const [name, s] of Object.entries(gpy.sets))
    it(`${name}, probit regression in weight space (GPy: a GP with kernel x·x′ + 1)`, () => {
      const d = loadEpSplit(s.csv);
      const withOne = (x: number[][]): number[][] => x.map((r) => [1, ...r]);
      const fit = epLinear({ x: withOne(d.xTrain), y: d.yTrain, likelihood: probitLikelihood(), priorScale: 1, tol: 1e-10 });
      expect(fit.converged).toBe(true);
      expect(Math.abs(fit.logMarginal / s.linear.logMarginal - 1)).toBeLessThan(1e-9);
      const prob = fit.predict(withOne(d.xTest));
      for (let i = 0; i < s.nTest; i++) expect(Math.abs(prob[i] - s.linear.prob[i])).toBeLessThan(1e-8);
    });
});
