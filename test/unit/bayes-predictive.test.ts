/**
 * Predictive evaluation (RMSE, mixture log-likelihood, interval coverage, ECE and the reliability
 * diagram) and MC dropout (the weight-decay ↔ τ relation, a trained network's predictive).
 */
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../ts/core/tensor.js';
import * as V from '../../ts/index.js';
import { compile } from '../../ts/compile/index.js';

/** y = sin(3x) + 0.1ε on x ∈ [−1, 1]: n rows, float32 tensors x [n, 1] and y [n, 1]. */
function sine(n: number, seed: number): { x: Tensor; y: Tensor; xs: Float32Array; ys: Float32Array } {
  const xs = V.uniform(V.key(seed), [n], { low: -1, high: 1, dtype: 'float32' }).dataSync() as Float32Array;
  const e = V.normal(V.key(seed + 1), [n], { dtype: 'float32' }).dataSync();
  const ys = Float32Array.from(xs, (v, i) => Math.sin(3 * v) + 0.1 * e[i]);
  return { x: V.tensor(xs, [n, 1], 'float32'), y: V.tensor(ys, [n, 1], 'float32'), xs, ys };
}

describe('regressionPredictive', () => {
  it('scores the mixture of the passes: RMSE of its mean, log mean density, un-standardized', () => {
    // Two points, three passes (row-major [S, n]) in standardized units; scale 2, shift 1.
    const s = [0, 1, 0.5, 0, -0.5, 2];
    const y = [1.2, 3.5];
    const r = V.regressionPredictive(s, y, { noiseSd: 0.8, scale: 2, shift: 1 });
    const preds = [[1, 2, 0], [3, 1, 5]];
    const npdf = (v: number, m: number): number => Math.exp(-0.5 * ((v - m) / 0.8) ** 2) / (0.8 * Math.sqrt(2 * Math.PI));
    const ll = preds.map((ps, i) => Math.log(ps.reduce((a, m) => a + npdf(y[i], m), 0) / 3));
    expect(r.logLik).toBeCloseTo((ll[0] + ll[1]) / 2, 12);
    expect(Array.from(r.mean)).toEqual([1, 3]);
    expect(r.rmse).toBeCloseTo(Math.sqrt((0.2 ** 2 + 0.5 ** 2) / 2), 12);
    expect(r.sd[0]).toBeCloseTo(Math.sqrt(0.64 + 2 / 3), 12);
    expect(V.regressionPredictive(s, y, { tau: 1 / 0.64, scale: 2, shift: 1 }).logLik).toBeCloseTo(r.logLik, 12);
  });

  it('central intervals of a calibrated predictive cover their level', () => {
    const n = 20000;
    const y = V.normal(V.key(1), [n], { dtype: 'float64' }).dataSync();
    const r = V.regressionPredictive(new Float64Array(n), y, { noiseSd: 1, levels: [0.5, 0.9, 0.95] });
    for (const c of r.coverage) expect(Math.abs(c.fraction - c.level)).toBeLessThan(0.01);
  });

  it('bad arguments are named', () => {
    expect(() => V.regressionPredictive([0, 1], [0, 1], { noiseSd: 1, tau: 1 })).toThrow(/exactly one of noiseSd and tau/);
    expect(() => V.regressionPredictive([0, 1], [0, 1], { noiseSd: -1 })).toThrow(/noise sd must be a finite number > 0, got -1/);
    expect(() => V.regressionPredictive([0, 1, 2], [0, 1], { tau: 1 })).toThrow(/3 sample values/);
  });
});

describe('classificationPredictive', () => {
  it('averages the passes and computes accuracy, NLL and the expected calibration error', () => {
    // Two passes over 4 points, 2 classes.
    const p1 = [0.9, 0.1, 0.7, 0.3, 0.2, 0.8, 0.6, 0.4];
    const p2 = [0.7, 0.3, 0.5, 0.5, 0.4, 0.6, 0.6, 0.4];
    const labels = [0, 1, 1, 0];
    const r = V.classificationPredictive([...p1, ...p2], labels, 2, 10);
    // Means: [0.8, 0.2], [0.6, 0.4], [0.3, 0.7], [0.6, 0.4] → predictions 0, 0, 1, 0; correct: 1, 0, 1, 1.
    expect(r.accuracy).toBe(0.75);
    expect(r.nll).toBeCloseTo(-(Math.log(0.8) + Math.log(0.4) + Math.log(0.7) + Math.log(0.6)) / 4, 12);
    // Bins (width 0.1): 0.8 → [0.8, 0.9) acc 1; 0.6, 0.6 → [0.6, 0.7) acc ½; 0.7 → [0.7, 0.8) acc 1.
    const ece = (1 / 4) * 0.2 + (2 / 4) * Math.abs(0.5 - 0.6) + (1 / 4) * 0.3;
    expect(r.ece).toBeCloseTo(ece, 12);
    const svg = V.reliabilityDiagramSvg(r.bins, { title: 'toy <2 classes>' });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('toy &lt;2 classes&gt;');
    expect((svg.match(/<rect /g) ?? []).length).toBe(1 + 2 * 3);
    expect(() => V.classificationPredictive(p1, [0, 1, 2, 0], 2)).toThrow(/label 2 is 2, outside \[0, 2\)/);
  });
});

describe('MC dropout', () => {
  it("Gal & Ghahramani's weight decay and τ are each other's inverse", () => {
    const lam = V.dropoutWeightDecay({ lengthScale: 1e-2, p: 0.05, n: 455, tau: 0.15 });
    expect(lam).toBeCloseTo((1e-4 * 0.95) / (2 * 455 * 0.15), 18);
    expect(V.dropoutTau({ lengthScale: 1e-2, p: 0.05, n: 455, weightDecay: lam })).toBeCloseTo(0.15, 12);
    expect(() => V.dropoutWeightDecay({ lengthScale: 1e-2, p: 1, n: 10, tau: 1 })).toThrow(/p must be in \[0, 1\), got 1/);
    expect(() => V.dropoutTau({ lengthScale: 0, p: 0.1, n: 10, weightDecay: 1 })).toThrow(/lengthScale must be a finite number > 0, got 0/);
  });

  it('a trained dropout network fits the data and is more uncertain away from it', () => {
    const { x, y } = sine(256, 3);
    const net = V.McDropoutMLP([1, 64, 1], { p: 0.1 });
    const lam = V.dropoutWeightDecay({ lengthScale: 1e-2, p: 0.1, n: 256, tau: 100 });
    const r = V.fitMinibatch(net.init(V.key(4)), x, y, { epochs: 150, batchSize: 32, key: V.key(5), optimizer: V.adam(1e-2), loss: (p, xb, yb, k) => V.mcDropoutLoss(net, p, xb, yb, k, lam) });
    const test = sine(200, 7);
    const pass = compile((k: V.Key) => net.apply(r.params, test.x, { key: k }));
    const inside = V.mcDropoutPredictive(net, r.params, test.x, test.ys, { T: 200, tau: 100, key: V.key(8), pass });
    expect(inside.rmse).toBeLessThan(0.2);
    const far = V.tensor(new Float32Array([3, -3]), [2, 1], 'float32');
    const out = V.mcDropoutPredictive(net, r.params, far, [0, 0], { T: 200, tau: 100, key: V.key(9) });
    const meanSdInside = inside.sd.reduce((a, b) => a + b, 0) / inside.sd.length;
    expect(Math.min(out.sd[0], out.sd[1])).toBeGreaterThan(2 * meanSdInside);
  });
});

describe('fitStandardizer', () => {
  it("standardizes with the training rows' statistics and names a constant column", () => {
    const s = V.fitStandardizer([1, 10, 3, 10, 5, 10], 2, { onZeroVariance: 'unit' });
    expect(Array.from(s.mean)).toEqual([3, 10]);
    expect(s.sd[0]).toBeCloseTo(Math.sqrt(8 / 3), 14);
    expect(s.sd[1]).toBe(1);
    expect(Array.from(s.invert(s.apply([7, 12])))).toEqual([7, 12]);
    expect(() => V.fitStandardizer([1, 10, 3, 10], 2, { name: 'naval split 0' })).toThrow(/fitStandardizer \(naval split 0\): column 1 has zero variance over the 2 rows \(constant 10\)/);
  });
});
