/**
 * BayesConv2d: every estimator's output has the posterior's exact marginal mean conv(x, μ) + μ_b
 * and variance conv(x², σ²) + σ_b² (checked by simulation), the posterior-mean pass and the KL
 * agree with BayesLinear's on a 1×1 kernel, gradients match finite differences, and bad inputs
 * are named.
 */
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../ts/core/tensor.js';
import * as V from '../../ts/index.js';

const f64 = { dtype: 'float64' as const };
const arr = (t: Tensor): number[] => Array.from(t.dataSync());

describe('BayesConv2d', () => {
  const layer = V.BayesConv2d(2, 3, 3, { padding: 1, dtype: 'float64', initScale: 0.3 });
  const p0 = layer.init(V.key(1));
  // Spread the scales so a wrong variance formula could not pass by accident.
  const p = { ...p0, weightRho: V.add(p0.weightRho, V.normal(V.key(2), p0.weightRho.shape, { ...f64, scale: 0.5 })) };
  const x1 = V.normal(V.key(3), [1, 2, 4, 4], f64);

  for (const estimator of ['reparam', 'local', 'flipout'] as const)
    it(`'${estimator}': the output's mean and variance are the posterior's, element by element`, () => {
      const keys = 300;
      const batch = 20;
      const x = V.broadcastTo(x1, [batch, 2, 4, 4]);
      const n = 3 * 4 * 4;
      const s1 = new Float64Array(n);
      const s2 = new Float64Array(n);
      for (let k = 0; k < keys; k++) {
        const y = layer.apply(p, x, { key: V.key(100 + k), estimator }).dataSync();
        for (let b = 0; b < batch; b++)
          for (let i = 0; i < n; i++) {
            s1[i] += y[b * n + i];
            s2[i] += y[b * n + i] ** 2;
          }
      }
      const S = keys * batch;
      const sW = V.softplus(p.weightRho);
      const mean = arr(V.conv2d(x1, p.weightMu, p.biasMu, { padding: 1 }));
      const varW = arr(V.conv2d(V.square(x1), V.square(sW), V.square(V.softplus(p.biasRho!)), { padding: 1 }));
      let worstZ = 0;
      let worstRel = 0;
      for (let i = 0; i < n; i++) {
        const m = s1[i] / S;
        const v = s2[i] / S - m * m;
        // The draws of one key share the kernel (reparam) or its perturbation (flipout): count keys, not draws.
        worstZ = Math.max(worstZ, Math.abs(m - mean[i]) / Math.sqrt(varW[i] / keys));
        worstRel = Math.max(worstRel, Math.abs(v / varW[i] - 1));
      }
      expect(worstZ).toBeLessThan(4.5);
      expect(worstRel).toBeLessThan(0.3);
    });

  it('a 1×1 kernel is BayesLinear over channels: same posterior-mean output and KL', () => {
    const c = V.BayesConv2d(4, 2, 1, { dtype: 'float64' });
    const pc = c.init(V.key(5));
    const lin = V.BayesLinear(4, 2, { dtype: 'float64' });
    const pl = { weightMu: V.reshape(pc.weightMu, [2, 4]), weightRho: V.reshape(pc.weightRho, [2, 4]), biasMu: pc.biasMu, biasRho: pc.biasRho };
    const x = V.normal(V.key(6), [3, 4], f64);
    const yc = c.apply(pc, V.reshape(x, [3, 4, 1, 1]));
    const want = arr(lin.apply(pl, x));
    arr(V.reshape(yc, [3, 2])).forEach((v, i) => expect(v).toBeCloseTo(want[i], 12));
    expect(c.kl(pc).item()).toBeCloseTo(lin.kl(pl).item(), 12);
  });

  it('gradients of a local-reparameterization pass match finite differences', () => {
    const x = V.normal(V.key(7), [2, 2, 4, 4], f64);
    const k = V.key(8);
    const f = (rho: Tensor): Tensor => V.sum(V.square(layer.apply({ ...p, weightRho: rho }, x, { key: k, estimator: 'local' })));
    const [, g] = V.valueAndGrad(f)(p.weightRho);
    const gs = arr(g);
    const base = arr(p.weightRho);
    for (const i of [0, 7, 20, 53]) {
      const h = 1e-6;
      const up = base.slice();
      const dn = base.slice();
      up[i] += h;
      dn[i] -= h;
      const fd = (f(V.tensor(up, p.weightRho.shape)).item() - f(V.tensor(dn, p.weightRho.shape)).item()) / (2 * h);
      expect(Math.abs(gs[i] - fd)).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
    }
  });

  it('bad inputs are named', () => {
    expect(() => layer.apply(p, V.normal(V.key(9), [1, 3, 4, 4], f64))).toThrow(/BayesConv2d: input \[1, 3, 4, 4\] must be \[N, 2, H, W\]/);
    expect(() => V.BayesConv2d(2, 0, 3)).toThrow(V.ValueError);
    expect(() => V.BayesConv2d(2, 3, 3, { estimator: 'mc' as never })).toThrow(/estimator must be/);
  });
});
