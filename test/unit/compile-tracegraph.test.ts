import { describe, expect, it } from 'vitest';
import { add, adam, Bernoulli, key, mul, Normal, param, plate, sample, SVI, tensor, TraceGraphELBO, unitInterval, zeros, type SVIResult, type Tensor } from '../../ts/index.js';

// z_i ~ Bernoulli(½), x_i ~ N(2 z_i − 1, 1), a mean-field Bernoulli guide: score-function gradients.
const x = tensor([-1.5, -0.4, 0.1, 0.7, 1.9, -0.9, 0.3, 1.2]);
const N = 8;
function model(obs: Tensor): void {
  const m = sample('m', new Normal(0, 1));
  plate('data', N, () => {
    const z = sample('z', new Bernoulli({ probs: 0.5 }));
    sample('x', new Normal(add(add(mul(z, 2), -1), m), 1), { obs });
  });
}
function guide(_obs: Tensor): void {
  const loc = param('m_loc', 0);
  sample('m', new Normal(loc, 1));
  const p = param('p', tensor(new Array(N).fill(0.5)), { constraint: unitInterval });
  plate('data', N, () => sample('z', new Bernoulli({ probs: p })));
}
function guideLearned(_obs: Tensor): void {
  const loc = param('m_loc', 0);
  sample('m', new Normal(loc, 1));
  const p = param('p', tensor(new Array(N).fill(0.5)), { constraint: unitInterval });
  const b = param('baseline', zeros([N]));
  plate('data', N, () => sample('z', new Bernoulli({ probs: p }), { infer: { baseline: { value: b } } }));
}

function expectSame(a: SVIResult, b: SVIResult): void {
  expect(a.losses.length).toBe(b.losses.length);
  for (let i = 0; i < a.losses.length; i++) expect(Math.abs(a.losses[i] - b.losses[i])).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(b.losses[i])));
  for (const [name, p] of Object.entries(b.params)) {
    const e = p.dataSync();
    const c = a.params[name].dataSync();
    for (let i = 0; i < e.length; i++) expect(Math.abs(c[i] - e[i])).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(e[i])));
  }
}

describe('TraceGraphELBO compiles, its baselines carried as step state', () => {
  it.each([
    ['moving-average baselines', guide],
    ['a learned baseline', guideLearned],
  ] as const)('%s: the compiled run follows the eager trajectory for the same key', (_, g) => {
    const K = 120;
    const eagerLoss = new TraceGraphELBO({ numParticles: 4 });
    const eager = new SVI(model, g, adam(0.05), eagerLoss).runSync(key(2), K, [x], { compile: false, progressBar: false });
    const compLoss = new TraceGraphELBO({ numParticles: 4 });
    const svi = new SVI(model, g, adam(0.05), compLoss);
    const comp = svi.runSync(key(2), K, [x], { progressBar: false });
    expect(eager.compiled.used).toBe(false);
    expect(comp.compiled).toEqual({ used: true });
    expectSame(comp, eager);
    // The estimator holds the averages the compiled run ended with.
    const inp = svi.stepInputs(comp.state, [x]);
    const want = eagerLoss.initState(inp);
    const got = compLoss.initState(inp);
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    for (const [name, v] of Object.entries(want)) {
      const e = v.dataSync();
      const c = got[name].dataSync();
      for (let i = 0; i < e.length; i++) expect(Math.abs(c[i] - e[i])).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(e[i])));
    }
  });

  it('an eager run continuing a compiled one equals one eager run (the averages are handed back)', () => {
    const ref = new SVI(model, guide, adam(0.05), new TraceGraphELBO({ numParticles: 2 })).runSync(key(5), 90, [x], { compile: false, progressBar: false });
    const svi = new SVI(model, guide, adam(0.05), new TraceGraphELBO({ numParticles: 2 }));
    const first = svi.runSync(key(5), 60, [x], { progressBar: false });
    expect(first.compiled.used).toBe(true);
    const rest = svi.runSync(key(5), 30, [x], { state: first.state, compile: false, progressBar: false });
    for (const [name, p] of Object.entries(ref.params)) {
      const e = p.dataSync();
      const c = rest.params[name].dataSync();
      for (let i = 0; i < e.length; i++) expect(Math.abs(c[i] - e[i])).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(e[i])));
    }
  });

  it('the moving averages change the trajectory (a run from zero averages differs)', () => {
    const a = new TraceGraphELBO({ numParticles: 2 });
    const svi = new SVI(model, guide, adam(0.05), a);
    const r1 = svi.runSync(key(6), 20, [x], { progressBar: false });
    // Same key and start, but the estimator now starts from the first run's averages.
    const r2 = svi.runSync(key(6), 20, [x], { progressBar: false });
    expect(Array.from(r2.params.p.dataSync())).not.toEqual(Array.from(r1.params.p.dataSync()));
  });
});
