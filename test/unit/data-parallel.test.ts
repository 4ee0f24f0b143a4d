import { describe, expect, it } from 'vitest';
import { AutoNormal, DataParallelSVI, LocalCommunicator, Normal, SVI, TraceELBO, adam, gather, key, plate, sample, tensor, type SVIState, type Tensor } from '../../ts/index.js';
import { model } from '../fixtures/distributed/models.js';

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

  it('compiles a subsampled model (the subsample is drawn inside the step)', () => {
    // a normal mean from 50 rows, 10 per step
    const sub = (data: Tensor): void => {
      const mu = sample('mu', new Normal(0, 10));
      plate('N', 50, (idx) => sample('x', new Normal(mu, 1), { obs: gather(data, idx!, 0) }), { subsampleSize: 10 });
    };
    const data = tensor(Array.from({ length: 50 }, (_, i) => Math.sin(i) + 2));
    const dp = new DataParallelSVI(new SVI(sub, new AutoNormal(sub), adam(0.05), new TraceELBO()), new LocalCommunicator());
    let s = dp.init(key(0), data);
    for (let t = 0; t < 3; t++) s = dp.update(s, data).state;
    expect(dp.compiled?.used).toBe(true);
    expect(s.step).toBe(3);
  });
});
