import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  add,
  adam,
  AutoNormal,
  Bernoulli,
  cast,
  gather,
  getBackend,
  HalfNormal,
  key,
  less,
  listBackends,
  matmul,
  mul,
  Normal,
  normal,
  plate,
  reshape,
  sample,
  seed,
  setBackend,
  sigmoid,
  SVI,
  tensor,
  trace,
  TraceELBO,
  uniform,
  ValueError,
  type Key,
  type Tensor,
} from '../../ts/index.js';
import { compile } from '../../ts/compile/index.js';
import { ENGINE } from '../../ts/core/engine.js';

const subset = (k: Key, n: number, m: number): Int32Array => ENGINE.runKernel('randomSubset', [], { key: k.words, n, shape: [m] })[0].dataSync() as Int32Array;

/** The definition, written out densely: Fisher–Yates over 0..n−1, position i swapping with i + ⌊u_i (n − i)⌋. */
function reference(k: Key, n: number, m: number): number[] {
  const u = uniform(k, [m], { dtype: 'float64' }).dataSync();
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(u[i] * (n - i));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p.slice(0, m);
}

const backends = listBackends().available.filter((b) => b === 'js' || b === 'cpu');

describe.each(backends)('randomSubset on %s', (b) => {
  let prev = 'js';
  beforeAll(() => {
    prev = getBackend();
    setBackend(b);
  });
  afterAll(() => setBackend(prev));

  it('equals a dense Fisher–Yates over the float64 uniform stream, for several keys and sizes', () => {
    for (const [n, m] of [
      [1, 1],
      [10, 10],
      [10, 3],
      [1000, 999],
      [100000, 1000],
    ])
      for (const s of [0, 1, 77]) expect(Array.from(subset(key(s), n, m))).toEqual(reference(key(s), n, m));
  });

  it('gives distinct indices in range, the same for the same key (the shared scratch is restored)', () => {
    const a = subset(key(5), 50, 40);
    expect(new Set(a).size).toBe(40);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a)).toBeLessThan(50);
    subset(key(6), 200, 150);
    expect(Array.from(subset(key(5), 50, 40))).toEqual(Array.from(a));
  });

  it('includes each index with probability m/n and puts it at each position with probability 1/n', () => {
    const n = 7;
    const m = 3;
    const draws = 4000;
    const incl = new Array<number>(n).fill(0);
    const first = new Array<number>(n).fill(0);
    for (let t = 0; t < draws; t++) {
      const s = subset(key(1000 + t), n, m);
      for (const v of s) incl[v]++;
      first[s[0]]++;
    }
    // Pearson χ² with n − 1 = 6 degrees of freedom; 22.5 is its 0.999 quantile.
    const chi = (c: number[], p: number, tot: number): number => c.reduce((a, x) => a + (x - tot * p) ** 2 / (tot * p), 0);
    expect(chi(first, 1 / n, draws)).toBeLessThan(22.5);
    // Inclusions are m per draw; the statistic with expected draws·m/n is χ²-like up to a factor (1 − m/n) < 1.
    expect(chi(incl, m / n, draws)).toBeLessThan(22.5);
  });

  it('compiled draws follow the input key (the subsample is re-drawn at every call)', () => {
    const f = compile((k: Key) => ENGINE.runKernel('randomSubset', [], { key: k.words, n: 1000, shape: [20] })[0]);
    for (const s of [3, 4, 5]) expect(Array.from(f(key(s)).dataSync())).toEqual(Array.from(subset(key(s), 1000, 20)));
    // The device path (every kernel a backend call, the key written into the call's attributes).
    const d = compile((k: Key) => ENGINE.runKernel('randomSubset', [], { key: k.words, n: 1000, shape: [20] })[0], { backendCalls: true });
    for (const s of [3, 4]) expect(Array.from(d(key(s)).dataSync())).toEqual(Array.from(subset(key(s), 1000, 20)));
  });
});

describe('bad input', () => {
  it('a non-integer or non-positive subsampleSize names the plate', () => {
    for (const k of [0, 2.5, -1]) expect(() => trace(seed(() => plate('data', 10, () => null, { subsampleSize: k }), key(0))).getTrace()).toThrow(/plate\('data'\): subsampleSize must be a positive integer/);
  });
  it('the kernel rejects m > n and a non-integer population, naming itself', () => {
    expect(() => ENGINE.runKernel('randomSubset', [], { key: key(0).words, n: 5, shape: [6] })).toThrow(ValueError);
    expect(() => ENGINE.runKernel('randomSubset', [], { key: key(0).words, n: 5, shape: [6] })).toThrow(/randomSubset: shape must be \[m\] with 0 <= m <= n = 5, got \[6\]/);
    expect(() => ENGINE.runKernel('randomSubset', [], { key: key(0).words, n: 2.5, shape: [1] })).toThrow(/randomSubset: population size n/);
  });
});

// Small versions of bench/vi/minibatch.ts's models: the same code paths at test sizes.
const N = 3000;
const D = 6;
const S = 200;
const X = normal(key(11), [N, D]);
const y = cast(less(uniform(key(12), [N]), sigmoid(reshape(matmul(X, mul(normal(key(13), [D, 1]), 0.8)), [N]))), 'float64');
function logreg(x: Tensor, yy: Tensor): void {
  const w = plate('D', D, () => sample('w', new Normal(0, 1)));
  const b = sample('b', new Normal(0, 5));
  plate('N', N, (idx) => sample('y', new Bernoulli({ logits: add(reshape(matmul(gather(x, idx as Tensor, 0), w), [S]), b) }), { obs: gather(yy, idx as Tensor, 0) }), { subsampleSize: S });
}

const G = 20;
const g = tensor(Int32Array.from({ length: N }, (_, i) => (i * 7) % G), [N], 'int32');
const xB = normal(key(21), [N]);
const yB = add(add(gather(normal(key(22), [G]), g), mul(xB, 0.5)), mul(normal(key(23), [N]), 0.3));
function intercepts(gg: Tensor, x: Tensor, yy: Tensor): void {
  const mu = sample('mu', new Normal(0, 5));
  const tau = sample('tau', new HalfNormal(1));
  const sigma = sample('sigma', new HalfNormal(1));
  const a = add(mu, mul(tau, plate('G', G, () => sample('a_raw', new Normal(0, 1)))));
  plate(
    'N',
    N,
    (idx) => {
      const i = idx as Tensor;
      sample('y', new Normal(add(gather(a, gather(gg, i)), mul(0.5, gather(x, i))), sigma), { obs: gather(yy, i) });
    },
    { subsampleSize: S },
  );
}

describe.each(backends)('minibatch SVI compiles on %s, with the eager trajectory for the same key', (b) => {
  let prev = 'js';
  beforeAll(() => {
    prev = getBackend();
    setBackend(b);
  });
  afterAll(() => setBackend(prev));

  it.each([
    ['logistic regression', logreg as (...a: Tensor[]) => void, [X, y]],
    ['varying intercepts', intercepts as (...a: Tensor[]) => void, [g, xB, yB]],
  ] as const)('%s', (_, model, args) => {
    const K = 40;
    const eager = new SVI(model, new AutoNormal(model), adam(0.05), new TraceELBO()).runSync(key(4), K, [...args], { compile: false, progressBar: false });
    const comp = new SVI(model, new AutoNormal(model), adam(0.05), new TraceELBO()).runSync(key(4), K, [...args], { progressBar: false });
    expect(eager.compiled.used).toBe(false);
    expect(comp.compiled).toEqual({ used: true });
    for (let i = 0; i < K; i++) expect(Math.abs(comp.losses[i] - eager.losses[i])).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(eager.losses[i])));
    for (const [name, p] of Object.entries(eager.params)) {
      const e = p.dataSync();
      const c = comp.params[name].dataSync();
      for (let i = 0; i < e.length; i++) expect(Math.abs(c[i] - e[i])).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(e[i])));
    }
    // Different minibatches per step: the losses vary beyond the parameters' drift.
    expect(new Set(comp.losses.slice(0, 5)).size).toBe(5);
  });
});

describe.skipIf(!backends.includes('cpu'))('minibatches of a large data set (cpu backend)', () => {
  let prev = 'js';
  beforeAll(() => {
    prev = getBackend();
    setBackend('cpu');
  });
  afterAll(() => setBackend(prev));

  // 65,536 rows × 16 = 2^20 elements: the gather of the minibatch's rows is a native call.
  const NL = 65536;
  const DL = 16;
  const SL = 500;
  const XL = normal(key(31), [NL, DL]);
  const yL = cast(less(uniform(key(32), [NL]), sigmoid(reshape(matmul(XL, mul(normal(key(33), [DL, 1]), 0.5)), [NL]))), 'float64');
  function big(x: Tensor, yy: Tensor): void {
    const w = plate('D', DL, () => sample('w', new Normal(0, 1)));
    plate('N', NL, (idx) => sample('y', new Bernoulli({ logits: reshape(matmul(gather(x, idx as Tensor, 0), w), [SL]) }), { obs: gather(yy, idx as Tensor, 0) }), { subsampleSize: SL });
  }

  it('the rows are gathered by one backend call and the step follows the eager trajectory', () => {
    const rows = compile((x: Tensor, k: Key) => gather(x, ENGINE.runKernel('randomSubset', [], { key: k.words, n: NL, shape: [SL] })[0], 0));
    const got = rows(XL, key(9));
    expect(Array.from(got.dataSync())).toEqual(Array.from(gather(XL, tensor(subset(key(9), NL, SL), [SL], 'int32'), 0).dataSync()));
    expect(rows.stats?.backendCalls).toBe(1);
    const K = 15;
    const eager = new SVI(big, new AutoNormal(big), adam(0.05), new TraceELBO()).runSync(key(4), K, [XL, yL], { compile: false, progressBar: false });
    const comp = new SVI(big, new AutoNormal(big), adam(0.05), new TraceELBO()).runSync(key(4), K, [XL, yL], { progressBar: false });
    expect(comp.compiled).toEqual({ used: true });
    for (let i = 0; i < K; i++) expect(Math.abs(comp.losses[i] - eager.losses[i])).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(eager.losses[i])));
  });
});
