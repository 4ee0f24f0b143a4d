/**
 * Batch norm as a flow layer: in evaluation mode an exact affine bijection (inverse ∘ forward,
 * log|det J| against autodiff, float64 1e-8); in training mode the density direction standardizes
 * the batch by its own statistics with log|det| = Σ log γ − ½ log(σ² + ε); the running averages;
 * gradients through the batch statistics by finite differences; a single row in training is
 * refused; fitFlow leaves the layer calibrated in eval mode. And the residual MADE: its outputs
 * depend on exactly the inputs before them in the order.
 */
import { describe, expect, it } from 'vitest';
import { grad, key, mul, sum, tensor, VarinfError, type Tensor } from '../../ts/index.js';
import { MADE } from '../../ts/nn/made.js';
import { batchNorm, fitFlow, Flow, maf, permute, splineAutoregressive, iaf } from '../../ts/flows/index.js';
import { autodiffLogDet, moons, paramGradError, perturb } from './flows-helpers.js';

const arr = (t: Tensor): number[] => Array.from(t.dataSync());
const X = tensor([0.3, -1.2, 2.1, -0.4, -4.5, 0.8, 3.7, 1.5, 1.1, 2.6, -2.9, -3.3, 0.2, 0.1, -0.7, 1.9], [4, 4], 'float64');

/** Column means and biased variances of a row-major [n, d] array. */
function colStats(a: number[], n: number, d: number): [number[], number[]] {
  const m = Array.from({ length: d }, (_, j) => a.filter((_, i) => i % d === j).reduce((s, v) => s + v, 0) / n);
  const v = Array.from({ length: d }, (_, j) => a.filter((_, i) => i % d === j).reduce((s, x) => s + (x - m[j]) ** 2, 0) / n);
  return [m, v];
}

describe('batchNorm', () => {
  it('training mode: the inverse standardizes the batch by its statistics, with log|det| = Σ log γ − ½ log(σ² + ε) on every row', () => {
    const bn = batchNorm(4, { eps: 1e-3 });
    const p = perturb(bn.init(key(0), 'float64'), 1);
    const [z, ladj] = bn.bind(p).inverseAndLadj(X);
    const [m, v] = colStats(arr(X), 4, 4);
    const g = arr(p.logGamma);
    const b = arr(p.beta);
    arr(z).forEach((val, i) => {
      const j = i % 4;
      expect(Math.abs(val - (Math.exp(g[j]) * (arr(X)[i] - m[j])) / Math.sqrt(v[j] + 1e-3) - b[j])).toBeLessThan(1e-12);
    });
    const want = g.reduce((s, gj, j) => s + gj - 0.5 * Math.log(v[j] + 1e-3), 0);
    arr(ladj).forEach((l) => expect(Math.abs(l - want)).toBeLessThan(1e-12));
  });

  it('running averages: the first batch sets them, later ones move them by the momentum', () => {
    const bn = batchNorm(4, { momentum: 0.25 });
    const p = bn.init(key(0), 'float64');
    expect(bn.stats).toBeNull();
    bn.bind(p).inverse(X);
    const [m1, v1] = colStats(arr(X), 4, 4);
    arr(bn.stats!.mean).forEach((v, j) => expect(v).toBeCloseTo(m1[j], 12));
    const X2 = mul(X, 2);
    bn.bind(p).inverse(X2);
    arr(bn.stats!.mean).forEach((v, j) => expect(v).toBeCloseTo(0.75 * m1[j] + 0.25 * 2 * m1[j], 12));
    arr(bn.stats!.var).forEach((v, j) => expect(v).toBeCloseTo(0.75 * v1[j] + 0.25 * 4 * v1[j], 12));
  });

  it('evaluation mode: log|det J| of both directions against the autodiff Jacobian and inverse ∘ forward = identity (1e-8)', () => {
    const bn = batchNorm(4);
    const p = perturb(bn.init(key(0), 'float64'), 2);
    bn.calibrate(p, X);
    bn.eval();
    const t = bn.bind(p);
    const [y, ladj] = t.forwardAndLadj(X);
    const ref = autodiffLogDet((u) => bn.bind(p).forward(u), X);
    arr(ladj).forEach((v, i) => expect(Math.abs(v - ref[i])).toBeLessThan(1e-8));
    const [x2, li] = t.inverseAndLadj(y);
    arr(x2).forEach((v, i) => expect(Math.abs(v - arr(X)[i])).toBeLessThan(1e-8));
    arr(li).forEach((v, i) => expect(Math.abs(v + arr(ladj)[i])).toBeLessThan(1e-8));
    const refI = autodiffLogDet((u) => bn.bind(p).inverse(u), y);
    arr(li).forEach((v, i) => expect(Math.abs(v - refI[i])).toBeLessThan(1e-8));
  });

  it('parameter gradients through the batch statistics (training) and the running ones (eval) match central differences', () => {
    const bn = batchNorm(4);
    const p = perturb(bn.init(key(0), 'float64'), 3);
    expect(paramGradError((q) => bn.bind(q), p, X, 'inverse')).toBeLessThan(1e-6);
    bn.calibrate(p, X);
    bn.eval();
    expect(paramGradError((q) => bn.bind(q), p, X, 'forward')).toBeLessThan(1e-6);
  });

  it('the gradient in the inputs goes through the batch statistics in training mode', () => {
    // Σ_rows z has zero derivative in x when μ is the batch mean (the centring cancels it).
    const bn = batchNorm(4);
    const p = bn.init(key(0), 'float64');
    const g = grad((x: Tensor) => sum(bn.bind(p).inverse(x)))(X);
    arr(g).forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-9));
  });

  it('a single row in training mode is refused with a VarinfError; in eval mode it is scored', () => {
    const bn = batchNorm(4);
    const p = bn.init(key(0), 'float64');
    const one = tensor([[1, 2, 3, 4]], [1, 4], 'float64');
    expect(() => bn.bind(p).inverse(one)).toThrow(VarinfError);
    expect(() => bn.bind(p).inverse(one)).toThrow(/batchNorm: the batch of shape \[1, 4\] has a single row; batch statistics need at least 2/);
    bn.eval();
    expect(bn.bind(p).inverse(one).shape).toEqual([1, 4]);
    expect(() => batchNorm(4, { momentum: 0 })).toThrow(/batchNorm: momentum/);
    expect(() => bn.calibrate(p, tensor([[1, 2]], [1, 2], 'float64'))).toThrow(/batchNorm.calibrate: data of shape \[1, 2\] must end in 4 features/);
  });

  it('fitFlow (compiled) trains MAF–batchNorm–MAF and leaves batch norm in eval mode with the training rows’ statistics under the best parameters', () => {
    const data = moons(384, 7);
    const bn = batchNorm(2);
    const last = maf(2, { hidden: [16] });
    const f = new Flow([maf(2, { hidden: [16] }), permute(2), bn, last]);
    const r = fitFlow(f, data, { batchSize: 64, epochs: 4, lr: 3e-3, validation: moons(128, 8), key: key(2) });
    expect(r.compiled).toBe(true);
    expect(bn.training).toBe(false);
    expect(Number.isFinite(r.bestValLoss)).toBe(true);
    // The statistics are those of what reaches the layer (the last MAF's inverse of the training rows) under the best parameters.
    const reach = arr(last.bind(r.params[3] as Parameters<typeof last.bind>[0]).inverse(data));
    const [m, v] = colStats(reach, 384, 2);
    arr(bn.stats!.mean).forEach((x, j) => expect(x).toBeCloseTo(m[j], 10));
    arr(bn.stats!.var).forEach((x, j) => expect(x).toBeCloseTo(v[j], 10));
  });
});

describe('residual MADE', () => {
  it('the Jacobian of the outputs in the inputs is strictly triangular in the order (zero exactly where it must be, non-zero elsewhere)', () => {
    const order = [2, 0, 3, 1];
    const made = MADE(4, [12], { outputsPerInput: 2, order, residualBlocks: 2, activation: 'tanh', dtype: 'float64' });
    const p = perturb(made.init(key(3)), 4);
    const x = tensor([[0.3, -0.7, 1.2, 0.5]], [1, 4], 'float64');
    for (let o = 0; o < 2; o++)
      for (let i = 0; i < 4; i++) {
        const sel = new Float64Array(8);
        sel[o * 4 + i] = 1;
        const g = arr(grad((u: Tensor) => sum(mul(made.apply(p, u), tensor(sel, [1, 2, 4]))))(x));
        for (let j = 0; j < 4; j++) {
          if (order[j] < order[i]) expect(Math.abs(g[j])).toBeGreaterThan(1e-8);
          else expect(g[j]).toBe(0);
        }
      }
  });
  it('residual blocks start near the identity and the options are checked', () => {
    const made = MADE(3, [8], { residualBlocks: 1, dtype: 'float64' });
    const p = made.init(key(0));
    expect(p.layers.length).toBe(4);
    expect(Math.max(...arr(p.layers[2].weight).map(Math.abs))).toBeLessThanOrEqual(1e-3);
    expect(() => MADE(3, [8, 8], { residualBlocks: 1 })).toThrow(/MADE: a residual MADE \(residualBlocks 1\) takes one hidden width/);
    expect(() => maf(3, { residualBlocks: 2, hidden: [8, 8] })).toThrow(/maf: a residual MADE/);
    expect(() => iaf(3, { residualBlocks: -1 })).toThrow(/iaf: residualBlocks/);
    expect(splineAutoregressive(3, { residualBlocks: 2 }).features).toBe(3);
  });
});
