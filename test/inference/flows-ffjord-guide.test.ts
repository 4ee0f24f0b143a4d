/**
 * AutoFFJORD, a continuous-flow guide, under SVI on the banana of flows-guides.test.ts: the steps
 * run (eagerly) with finite losses and move the field's parameters; draws carry their log-density
 * from the same solve (no inverse), and in eval mode that density (exact trace) is what the
 * inverse, the density direction, gives for the same points. How well it fits the banana is not
 * checked here: eager solves make the thousands of steps that takes a benchmark's job.
 */
import { describe, expect, it } from 'vitest';
import { adam, key, mul, Normal, sample, square, sub, SVI, TraceELBO, type Tensor } from '../../ts/index.js';
import { AutoFFJORD } from '../../ts/flows/index.js';

function banana(): void {
  const z1 = sample('z1', new Normal(0, 1));
  sample('z2', new Normal(mul(1, sub(square(z1), 1)), 0.5));
}

describe('AutoFFJORD', () => {
  const guide = new AutoFFJORD(banana, { hidden: [8, 8], initScale: 0.5, ffjord: { rtol: 1e-4, atol: 1e-4 } });
  let params: Record<string, Tensor> = {};
  it('SVI steps run with finite losses and move the field', () => {
    const svi = new SVI(banana, guide, adam(1e-2), new TraceELBO({ numParticles: 4 }));
    const r = svi.runSync(key(1), 25, []);
    params = r.params;
    expect(Array.from(r.losses).every(Number.isFinite)).toBe(true);
    const lastW = Object.keys(params).find((k) => /_flow\.0\.1\.weight$/.test(k));
    expect(lastW).toBeDefined();
    // The field's last layer starts at zero; SVI moved it.
    expect(Math.max(...Array.from(params[lastW as string].dataSync()).map(Math.abs))).toBeGreaterThan(1e-3);
  }, 60_000);
  it("in eval mode the draws' log-density from the forward solve equals the inverse's (exact trace)", () => {
    guide.latentFlow.eval();
    const q = guide.latentPosterior(params);
    const [z, lq] = q.rsampleWithLogProb(key(9), [50]);
    const fresh = mul(z, 1); // a new tensor, so logProb runs the inverse instead of the cache
    const lqInv = q.logProb(fresh).dataSync();
    const lqf = lq.dataSync();
    for (let i = 0; i < 50; i++) expect(Math.abs(lqInv[i] - lqf[i])).toBeLessThan(1e-3);
  });
});
