import { describe, expect, it } from 'vitest';
import { AutoNormal, DataParallelSVI, LocalCommunicator, SVI, TraceELBO, adam, key, tensor, type SVIState } from '../../ts/index.js';
import { model } from '../fixtures/distributed/models.js';
import { logreg } from '../../bench/vi/models/logreg.js';
import { normal, split } from '../../ts/index.js';

const y = tensor([28, 8, -3, 7, -1, 1, 18, 12]);
const sigma = tensor([15, 10, 16, 11, 9, 11, 10, 18]);

function flat(s: SVIState): number[] {
  return Object.keys(s.params)
    .sort()
    .flatMap((n) => Array.from(s.params[n].dataSync()));
}

describe('DataParallelSVI on one rank', () => {
  it('compiles the gradient of a traceable model and takes the same steps as SVI.update (to 1e-12)', () => {
    const dp = new DataParallelSVI(new SVI(model, new AutoNormal(model), adam(0.05), new TraceELBO()), new LocalCommunicator());
    const ref = new SVI(model, new AutoNormal(model), adam(0.05), new TraceELBO());
    let a = dp.init(key(2), y, sigma);
    let b = ref.init(key(2), y, sigma);
    let worst = 0;
    for (let t = 0; t < 60; t++) {
      const ra = dp.update(a, y, sigma);
      const rb = ref.update(b, y, sigma);
      a = ra.state;
      b = rb.state;
      expect(Math.abs(ra.loss - rb.loss)).toBeLessThan(1e-9 * Math.abs(rb.loss));
      flat(a).forEach((v, i) => (worst = Math.max(worst, Math.abs(v - flat(b)[i]))));
    }
    expect(dp.compiled).toEqual({ used: true });
    expect(worst).toBeLessThan(1e-12);
    expect(Math.abs(flat(a)[0] - flat(dp.init(key(2), y, sigma))[0])).toBeGreaterThan(0.1);
  });

  it('runs a subsampled model eagerly and says why', () => {
    const [kx] = split(key(1));
    const x = normal(kx, [50, 2]);
    const yy = tensor(Array.from({ length: 50 }, (_, i) => i % 2));
    const dp = new DataParallelSVI(new SVI(logreg, new AutoNormal(logreg), adam(0.05), new TraceELBO()), new LocalCommunicator());
    let s = dp.init(key(0), x, yy, 10);
    for (let t = 0; t < 3; t++) s = dp.update(s, x, yy, 10).state;
    expect(dp.compiled?.used).toBe(false);
    expect(dp.compiled?.reason).toMatch(/\w+/);
    expect(s.step).toBe(3);
  });
});
