import { describe, expect, it } from 'vitest';
import {
  Normal,
  Gamma,
  sample,
  param,
  plate,
  deterministic,
  factor,
  seed,
  trace,
  replay,
  substitute,
  condition,
  block,
  scale,
  mask,
  traceLogProb,
  logDensity,
  key,
  tensor,
  zeros,
  add,
  mul,
  positive,
  VarinfError,
  ShapeError,
  type Tensor,
} from '../../ts/index.js';

function model(y: Tensor): Tensor {
  const mu = sample('mu', new Normal(0, 10));
  const s = sample('s', new Gamma(2, 2));
  plate('data', y.shape[0], () => {
    sample('y', new Normal(mu, s), { obs: y });
  });
  return mu;
}
const y = tensor([0.5, 1.5, -0.3, 2.2]);

describe('primitives and handlers', () => {
  it('seed + trace records every site in order with its value and plate frames', () => {
    const tr = trace(seed(model, key(0))).getTrace(y);
    expect([...tr.keys()]).toEqual(['mu', 's', 'y']);
    const ysite = tr.get('y')!;
    expect(ysite.isObserved).toBe(true);
    expect(ysite.cond.map((f) => [f.name, f.size, f.dim])).toEqual([['data', 4, -1]]);
    expect(ysite.fn!.batchShape).toEqual([4]);
  });

  it('seed makes runs reproducible; different keys differ', () => {
    const a = trace(seed(model, key(1))).getTrace(y).get('mu')!.value!.item();
    const b = trace(seed(model, key(1))).getTrace(y).get('mu')!.value!.item();
    const c = trace(seed(model, key(2))).getTrace(y).get('mu')!.value!.item();
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });

  it('sampling without a key is a clear error', () => {
    expect(() => model(y)).toThrow(/sample\('mu'\): no random key/);
  });

  it('the log joint equals the hand-computed density', () => {
    const lp = logDensity(model, [y], { mu: tensor(0.7), s: tensor(1.3) }).item();
    let want = new Normal(0, 10).logProb(0.7).item() + new Gamma(2, 2).logProb(1.3).item();
    for (const v of y.dataSync()) want += new Normal(0.7, 1.3).logProb(v).item();
    expect(lp).toBeCloseTo(want, 12);
  });

  it('replay reuses the values of another trace', () => {
    const t1 = trace(seed(model, key(3))).getTrace(y);
    const t2 = trace(seed(replay(model, t1), key(4))).getTrace(y);
    expect(t2.get('mu')!.value!.item()).toBe(t1.get('mu')!.value!.item());
    expect(t2.get('s')!.value!.item()).toBe(t1.get('s')!.value!.item());
  });

  it('condition observes a latent; substitute fixes it without observing', () => {
    const tc = trace(seed(condition(model, { mu: 1 }), key(5))).getTrace(y);
    expect(tc.get('mu')!.isObserved).toBe(true);
    expect(tc.get('mu')!.value!.item()).toBe(1);
    const ts = trace(seed(substitute(model, { mu: 2 }), key(5))).getTrace(y);
    expect(ts.get('mu')!.isObserved).toBe(false);
    expect(ts.get('mu')!.value!.item()).toBe(2);
  });

  it('block hides sites from outer handlers', () => {
    const tr = trace(block(seed(model, key(6)), { hide: ['s'] })).getTrace(y);
    expect([...tr.keys()]).toEqual(['mu', 'y']);
    const all = trace(block(seed(model, key(6)))).getTrace(y);
    expect(all.size).toBe(0);
  });

  it('scale and mask change the log density', () => {
    const base = trace(seed(substitute(model, { mu: 0.2, s: 1 }), key(7))).getTrace(y);
    const scaled = trace(seed(scale(substitute(model, { mu: 0.2, s: 1 }), 3), key(7))).getTrace(y);
    expect(traceLogProb(scaled).item()).toBeCloseTo(3 * traceLogProb(base).item(), 10);
    const m = tensor([1, 0, 1, 0], [4], 'int32');
    const maskedModel = (yy: Tensor): void => {
      const mu = sample('mu', new Normal(0, 10));
      const s = sample('s', new Gamma(2, 2));
      mask(() => plate('data', 4, () => sample('y', new Normal(mu, s), { obs: yy })), m)();
    };
    const masked = trace(seed(substitute(maskedModel, { mu: 0.2, s: 1 }), key(7))).getTrace(y);
    const want = traceLogProb(base, (s) => s.name !== 'y').item() + [0.5, -0.3].reduce((a, v) => a + new Normal(0.2, 1).logProb(v).item(), 0);
    expect(traceLogProb(masked).item()).toBeCloseTo(want, 10);
  });

  it('plate subsampling scales the likelihood by N/|S| and passes the indices', () => {
    const big = tensor(Array.from({ length: 100 }, (_, i) => Math.sin(i)));
    let seen: Tensor | null = null;
    const m = (): void => {
      const mu = sample('mu', new Normal(0, 1));
      plate(
        'data',
        100,
        (idx) => {
          seen = idx;
          sample('y', new Normal(mu, 1), { obs: big.dataSync().length ? gatherRows(big, idx!) : big });
        },
        { subsampleSize: 10 },
      );
    };
    const tr = trace(seed(m, key(8))).getTrace();
    expect(seen!.shape).toEqual([10]);
    expect(new Set(seen!.dataSync()).size).toBe(10);
    expect(tr.get('y')!.scale).toBe(10);
  });

  it('nested plates allocate dims from the right and broadcast batch shapes', () => {
    const tr = trace(
      seed(() => {
        plate('a', 3, () => {
          plate('b', 2, () => {
            sample('z', new Normal(0, 1));
          });
        });
      }, key(9)),
    ).getTrace();
    const z = tr.get('z')!;
    expect(z.cond.map((f) => [f.name, f.dim])).toEqual([['a', -1], ['b', -2]]);
    expect(z.value!.shape).toEqual([2, 3]);
  });

  it('a plate size that disagrees with the batch is an error naming the site', () => {
    expect(() =>
      trace(seed(() => plate('p', 3, () => sample('w', new Normal(zeros([4]), 1))), key(0))).getTrace(),
    ).toThrow(ShapeError);
  });

  it('duplicate site names are an error', () => {
    expect(() =>
      trace(
        seed(() => {
          sample('x', new Normal(0, 1));
          sample('x', new Normal(0, 1));
        }, key(0)),
      ).getTrace(),
    ).toThrow(/site 'x' appears twice/);
  });

  it('param, deterministic and factor', () => {
    const tr = trace(
      seed(() => {
        const p = param('p', tensor(2), { constraint: positive });
        deterministic('d', mul(p, 3));
        factor('f', tensor(-1.5));
      }, key(0)),
    ).getTrace();
    expect(tr.get('p')!.value!.item()).toBe(2);
    expect(tr.get('p')!.constraint).toBe(positive);
    expect(tr.get('d')!.value!.item()).toBe(6);
    expect(traceLogProb(tr).item()).toBe(-1.5);
    expect(() => param('q', () => tensor(1))).toThrow(VarinfError);
    void add;
  });
});

function gatherRows(x: Tensor, idx: Tensor): Tensor {
  const d = x.dataSync();
  return tensor(Array.from(idx.dataSync(), (i) => d[i]));
}
