/**
 * fitFlow: maximum likelihood on two moons beats the best Gaussian's held-out log-likelihood, the
 * returned parameters are the best validation epoch's, early stopping stops, and a conditional
 * flow learns a density that depends on its context.
 */
import { describe, expect, it } from 'vitest';
import { key, tensor, type Tensor } from '../../ts/index.js';
import { moons, normalDraw, rng } from './flows-helpers.js';
import { actNorm, affineCoupling, fitFlow, Flow, flowNLL, luMixing, maf, permute, splineCoupling } from '../../ts/flows/index.js';

/** Mean held-out NLL of the maximum-likelihood full-covariance Gaussian fitted to `train`. */
function gaussianNLL(train: Tensor, test: Tensor): number {
  const t = train.dataSync();
  const n = train.shape[0];
  let m0 = 0, m1 = 0;
  for (let i = 0; i < n; i++) [m0, m1] = [m0 + t[2 * i] / n, m1 + t[2 * i + 1] / n];
  let s00 = 0, s01 = 0, s11 = 0;
  for (let i = 0; i < n; i++) {
    const a = t[2 * i] - m0, b = t[2 * i + 1] - m1;
    s00 += (a * a) / n;
    s01 += (a * b) / n;
    s11 += (b * b) / n;
  }
  const det = s00 * s11 - s01 * s01;
  const q = test.dataSync();
  const m = test.shape[0];
  let tot = 0;
  for (let i = 0; i < m; i++) {
    const a = q[2 * i] - m0, b = q[2 * i + 1] - m1;
    const maha = (s11 * a * a - 2 * s01 * a * b + s00 * b * b) / det;
    tot += 0.5 * maha + 0.5 * Math.log(det) + Math.log(2 * Math.PI);
  }
  return tot / m;
}

describe('fitFlow', () => {
  const train = moons(2000, 1);
  const test = moons(1000, 2);
  const gauss = gaussianNLL(train, test);

  it('a spline-coupling flow fitted by maximum likelihood beats the best Gaussian on held-out moons', () => {
    const f = new Flow([splineCoupling(2, { hidden: [32, 32], bins: 8, bound: 4 }), permute(2), splineCoupling(2, { hidden: [32, 32], bins: 8, bound: 4 }), permute(2), splineCoupling(2, { hidden: [32, 32], bins: 8, bound: 4 })]);
    const r = fitFlow(f, train, { batchSize: 100, epochs: 25, lr: 3e-3, validation: 0.1, patience: 5, key: key(3) });
    const nll = flowNLL(f, r.params, test);
    console.log(`moons: Gaussian NLL ${gauss.toFixed(3)}, spline flow NLL ${nll.toFixed(3)} after ${r.epochs} epochs (best ${r.bestEpoch}), compiled ${r.compiled}, ${r.timings.trainRowsPerSec.toFixed(0)} rows/s`);
    expect(nll).toBeLessThan(gauss - 0.2);
    expect(r.valLoss[r.bestEpoch]).toBe(r.bestValLoss);
    expect(Math.min(...r.valLoss)).toBe(r.bestValLoss);
  }, 60_000);

  it('early stopping ends the run when the validation loss stops improving', () => {
    const f = new Flow([maf(2, { hidden: [8] })]);
    // A large learning rate on a tiny flow plateaus quickly.
    const r = fitFlow(f, train, { batchSize: 200, epochs: 200, lr: 3e-2, patience: 2, key: key(1) });
    expect(r.stoppedEarly).toBe(true);
    expect(r.epochs).toBeLessThan(200);
    expect(r.epochs - 1 - r.bestEpoch).toBe(2);
  }, 30_000);

  it('a conditional flow learns a context-dependent density', () => {
    // x | c ~ N(3c, 0.3²) per coordinate, c ∈ {−1, 1}.
    const r0 = rng(5);
    const n = 1000;
    const x = new Float64Array(2 * n);
    const c = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      c[i] = i % 2 === 0 ? -1 : 1;
      x[2 * i] = 3 * c[i] + 0.3 * normalDraw(r0);
      x[2 * i + 1] = 3 * c[i] + 0.3 * normalDraw(r0);
    }
    const f = new Flow([affineCoupling(2, { hidden: [16], contextFeatures: 1 }), permute(2), affineCoupling(2, { hidden: [16], contextFeatures: 1 })]);
    const r = fitFlow(f, tensor(x, [n, 2], 'float64'), { context: tensor(c, [n, 1], 'float64'), batchSize: 100, epochs: 40, lr: 1e-2, patience: 10, key: key(2) });
    const q = f.apply(r.params, tensor([[-1], [1]], [2, 1], 'float64'));
    const lp = Array.from(q.logProb(tensor([[3, 3], [3, 3]], [2, 2], 'float64')).dataSync());
    // (3, 3) is likely under c = 1 and far in the tail under c = −1.
    expect(lp[1]).toBeGreaterThan(lp[0] + 20);
  }, 30_000);

  it('bad input names fitFlow and the shapes', () => {
    const f = new Flow([maf(2)]);
    expect(() => fitFlow(f, tensor([[1, 2, 3]], [1, 3], 'float64'))).toThrow(/fitFlow: data must be \[n, 2\], got \[1, 3\]/);
    const g = new Flow([affineCoupling(2, { contextFeatures: 1 })]);
    expect(() => fitFlow(g, train)).toThrow(/conditional/);
  });
});

describe('fitFlow with Glow layers', () => {
  it('compiles a flow with ActNorm and LU mixing (whose inverse checks U on the host only when eager)', () => {
    const f = new Flow([actNorm(2), luMixing(2, { seed: 1 }), affineCoupling(2, { hidden: [8] }), luMixing(2, { seed: 2 }), affineCoupling(2, { hidden: [8] })]);
    const data = moons(400, 3);
    const r = fitFlow(f, data, { batchSize: 100, epochs: 3, lr: 1e-2, key: key(0) });
    expect(r.compiled).toBe(true);
    expect(r.valLoss[r.valLoss.length - 1]).toBeLessThan(r.valLoss[0] + 1e-9);
  });
});
