import { describe, expect, it } from 'vitest';
import {
  Bernoulli,
  Normal,
  sample,
  param,
  plate,
  SVI,
  TraceELBO,
  TraceGraphELBO,
  adam,
  exponentialDecay,
  key,
  tensor,
  unitInterval,
  sigmoid,
  add,
  mul,
  valueAndGrad,
  type ELBO,
  type Tensor,
} from '../../ts/index.js';
import { foldIn } from '../../ts/random/key.js';

// z_i ~ Bernoulli(½), x_i ~ N(2 z_i − 1, 1): the exact posterior is P(z_i = 1 | x_i) = σ(2 x_i).
const x = tensor([-1.5, -0.4, 0.1, 0.7, 1.9, -0.9, 0.3, 1.2]);
const N = 8;

function model(obs: Tensor): void {
  plate('data', N, () => {
    const z = sample('z', new Bernoulli({ probs: 0.5 }));
    sample('x', new Normal(add(mul(z, 2), -1), 1), { obs });
  });
}

function guide(_obs: Tensor): void {
  const p = param('p', tensor(new Array(N).fill(0.5)), { constraint: unitInterval });
  plate('data', N, () => sample('z', new Bernoulli({ probs: p })));
}

describe('TraceGraphELBO', () => {
  it('fits discrete local latents by the score function', async () => {
    const svi = new SVI(model, guide, adam(exponentialDecay(0.05, 0.1, 3000)), new TraceGraphELBO({ numParticles: 8 }));
    // run, not runSync: 3000 steps take seconds, and run yields to the event loop every 50 ms.
    const r = await svi.run(key(0), 3000, [x]);
    const want = Array.from(sigmoid(mul(x, 2)).dataSync());
    Array.from(r.params.p.dataSync()).forEach((p, i) => expect(Math.abs(p - want[i]), `site ${i}: ${p} vs ${want[i]}`).toBeLessThan(0.06));
  });

  it('Rao–Blackwellization and baselines cut the gradient variance', () => {
    const gradVariance = (loss: ELBO): number => {
      const svi = new SVI(model, guide, adam(0.01), loss);
      const st = svi.init(key(1), x);
      const grads: number[][] = [];
      for (let t = 0; t < 200; t++) {
        const inp = { model, guide, args: [x] as [Tensor], key: foldIn(key(2), t), maxPlateNesting: 1 };
        const [, g] = valueAndGrad((u: Record<string, Tensor>) => loss.evaluate({ ...inp, params: { p: sigmoid(u.p) } }).loss)(st.params);
        grads.push(Array.from(g.p.dataSync()));
      }
      let v = 0;
      for (let j = 0; j < N; j++) {
        const col = grads.slice(50).map((g) => g[j]);
        const m = col.reduce((a, b) => a + b, 0) / col.length;
        v += col.reduce((a, b) => a + (b - m) ** 2, 0) / col.length;
      }
      return v;
    };
    const plain = gradVariance(new TraceELBO());
    const graph = gradVariance(new TraceGraphELBO());
    expect(graph, `variance ${graph} (TraceGraphELBO) vs ${plain} (TraceELBO)`).toBeLessThan(plain / 3);
  });
});

describe('learned baseline (NVIL)', () => {
  it('trains the baseline and still fits the posterior', async () => {
    const { zeros } = await import('../../ts/index.js');
    const guideB = (_obs: Tensor): void => {
      const p = param('p', tensor(new Array(N).fill(0.5)), { constraint: unitInterval });
      const b = param('baseline', zeros([N]));
      plate('data', N, () => sample('z', new Bernoulli({ probs: p }), { infer: { baseline: { value: b } } }));
    };
    const svi = new SVI(model, guideB, adam(exponentialDecay(0.05, 0.1, 3000)), new TraceGraphELBO({ numParticles: 8 }));
    const r = svi.runSync(key(3), 3000, [x]);
    const want = Array.from(sigmoid(mul(x, 2)).dataSync());
    Array.from(r.params.p.dataSync()).forEach((p, i) => expect(Math.abs(p - want[i])).toBeLessThan(0.06));
    // The baseline learned the downstream cost's scale: it moved from 0.
    expect(Math.max(...Array.from(r.params.baseline.dataSync()).map(Math.abs))).toBeGreaterThan(0.1);
  });
});
