/**
 * Conditional flow matching: the straight path and its velocity in closed form; the loss of a
 * linear field against the same expectation computed by hand; and on a 2-D Gaussian mixture,
 * where log p(x) is exact, a field trained by fitFlowMatching gives (through the ODE and the
 * instantaneous change of variables) held-out log-likelihoods close to the true ones, and samples
 * with the mixture's mean and spread.
 */
import { describe, expect, it } from 'vitest';
import { key, normal, tensor, valueAndGrad, type Tensor } from '../../ts/index.js';
import { leaves, mapLeaves } from '../../ts/core/tree.js';
import { cfmLoss, concatSquashField, fitFlowMatching, flowMatchingFlow, straightPath, type VectorField } from '../../ts/flows/index.js';
import { normalDraw, perturb, rng } from './flows-helpers.js';

const arr = (t: Tensor): number[] => Array.from(t.dataSync());

/** Two components N((±1.5, 0), 0.5² I), equal weights. */
const MU = [[1.5, 0], [-1.5, 0]];
const SD = 0.5;
function mixture(n: number, seed: number): Tensor {
  const r = rng(seed);
  const a = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const c = r() < 0.5 ? 0 : 1;
    a[2 * i] = MU[c][0] + SD * normalDraw(r);
    a[2 * i + 1] = MU[c][1] + SD * normalDraw(r);
  }
  return tensor(a, [n, 2], 'float64');
}
function mixtureLogP(x: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < x.length / 2; i++) {
    const ls = MU.map(([m0, m1]) => -((x[2 * i] - m0) ** 2 + (x[2 * i + 1] - m1) ** 2) / (2 * SD * SD) - Math.log(2 * Math.PI * SD * SD) + Math.log(0.5));
    const m = Math.max(...ls);
    out.push(m + Math.log(ls.reduce((s, l) => s + Math.exp(l - m), 0)));
  }
  return out;
}

describe('flow matching', () => {
  it('the straight path: x_t and its velocity in closed form', () => {
    const x0 = tensor([[1, 2]], [1, 2], 'float64');
    const x1 = tensor([[3, -1]], [1, 2], 'float64');
    const t = tensor([[0.25]], [1, 1], 'float64');
    const { xt, ut } = straightPath(x0, x1, t, 0.1);
    // (1 − 0.9·0.25)·x0 + 0.25·x1 and x1 − 0.9·x0
    expect(arr(xt)).toEqual([0.775 * 1 + 0.75, 0.775 * 2 - 0.25].map((v) => expect.closeTo(v, 12)));
    expect(arr(ut)).toEqual([3 - 0.9, -1 - 1.8].map((v) => expect.closeTo(v, 12)));
    expect(() => straightPath(x0, x1, t, 1)).toThrow(/straightPath: sigmaMin/);
  });

  it('cfmLoss of the zero field is E‖x₁ − x₀‖² = ‖x₁‖² + d (Monte Carlo over 20000 rows, 4 standard errors)', () => {
    const zero: VectorField<Record<string, never>> = { features: 2, contextFeatures: 0, init: () => ({}), eval: (_p, z) => ({ f: normal(key(0), z.shape, { dtype: 'float64', scale: 0 }), vjp: (v) => v }) };
    const x1 = tensor(Array.from({ length: 20000 }, () => [1, -2]).flat(), [20000, 2], 'float64');
    const l = cfmLoss(zero, {}, x1, key(3)).item();
    // ‖x₁ − x₀‖² with x₀ ~ N(0, I): mean 5 + 2 = 7, variance 4‖x₁‖² + 2d = 24.
    expect(Math.abs(l - 7)).toBeLessThan(4 * Math.sqrt(24 / 20000));
    expect(() => cfmLoss(zero, {}, tensor([1, 2, 3], [1, 3], 'float64'), key(0))).toThrow(/cfmLoss: data of shape \[1, 3\] must be \[B, 2\]/);
  });

  it('cfmLoss gradients in the field parameters (per-row times) match central differences', () => {
    const f = concatSquashField(2, { hidden: [5], activation: 'silu' });
    const p0 = perturb(f.init(key(1), 'float64'), 4, 0.5);
    const x1 = mixture(16, 2);
    const obj = (q: typeof p0): Tensor => cfmLoss(f, q, x1, key(6), { sigmaMin: 0.05 });
    const g = leaves(valueAndGrad(obj)(p0)[1]).map((t) => t.dataSync());
    let err = 0;
    leaves(p0).forEach((leaf, li) => {
      const base = leaf.dataSync();
      for (let j = 0; j < base.length; j++) {
        const at = (h: number): number => {
          const c = Float64Array.from(base);
          c[j] += h;
          let k = 0;
          return obj(mapLeaves(p0, (t) => (k++ === li ? tensor(c, t.shape) : t))).item();
        };
        const fd = (at(1e-6) - at(-1e-6)) / 2e-6;
        err = Math.max(err, Math.abs(g[li][j] - fd) / Math.max(1, Math.abs(fd)));
      }
    });
    expect(err).toBeLessThan(1e-6);
  });

  const field = concatSquashField(2, { hidden: [32, 32], activation: 'tanh' });
  let params: unknown;
  const data = mixture(2000, 1);
  const losses: number[] = [];
  // Three chunks of steps (each resuming from the last parameters), so no call blocks for long.
  for (let chunk = 0; chunk < 3; chunk++)
    it(`fitFlowMatching trains (compiled), chunk ${chunk + 1} of 3`, () => {
      const r = fitFlowMatching(field, data, { steps: 270, batchSize: 256, lr: 3e-3, key: key(2 + chunk), params });
      expect(r.compiled).toBe(true);
      losses.push(...r.losses);
      params = r.params;
    }, 30_000);
  it('the loss fell', () => {
    const m = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
    expect(m(losses.slice(-100))).toBeLessThan(m(losses.slice(0, 50)) - 0.5);
  });

  it('held-out log-likelihood by the ODE and the exact trace is close to the true log p(x) (mean gap = KL estimate < 0.15 nats)', () => {
    const test = mixture(200, 9);
    const q = flowMatchingFlow(field, { rtol: 1e-5, atol: 1e-5 }).apply([params]);
    const lq = arr(q.logProb(test));
    const lp = mixtureLogP(arr(test));
    const gap = lp.reduce((s, v, i) => s + v - lq[i], 0) / lp.length;
    console.log(`flow matching on the mixture: mean log p ${(lp.reduce((a, b) => a + b, 0) / lp.length).toFixed(3)}, mean log q ${(lq.reduce((a, b) => a + b, 0) / lq.length).toFixed(3)}, gap ${gap.toFixed(3)}`);
    expect(gap).toBeGreaterThan(-0.15);
    expect(gap).toBeLessThan(0.15);
  });

  it('samples integrate the field from noise: mean near 0, |x| spread near the mixture’s', () => {
    const q = flowMatchingFlow(field, { rtol: 1e-5, atol: 1e-5 }).apply([params]);
    const x = arr(q.sample(key(5), [400]));
    const mx = x.filter((_, i) => i % 2 === 0);
    const meanAbs = mx.reduce((s, v) => s + Math.abs(v), 0) / mx.length;
    const mean = mx.reduce((s, v) => s + v, 0) / mx.length;
    expect(Math.abs(mean)).toBeLessThan(0.3);
    // E|x| under the mixture ≈ 1.5 (components at ±1.5 with sd 0.5).
    expect(Math.abs(meanAbs - 1.5)).toBeLessThan(0.2);
  });
});
