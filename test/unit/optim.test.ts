import { describe, expect, it } from 'vitest';
import {
  adagrad,
  adam,
  applyUpdates,
  clipByGlobalNorm,
  clipByValue,
  cosineDecay,
  exponentialDecay,
  piecewiseConstant,
  rmsprop,
  robbinsMonro,
  sgd,
  skipNonFinite,
  tensor,
  valueAndGrad,
  add,
  mul,
  square,
  sub,
  sum,
  slice,
  type Tensor,
  type GradientTransformation,
} from '../../ts/index.js';

const arr = (t: Tensor): number[] => Array.from(t.dataSync());

/** Runs `steps` updates of `opt` on fixed gradient sequences and returns the parameter trail. */
function trail(opt: GradientTransformation, x0: number[], grads: number[][]): number[][] {
  let p = { x: tensor(x0) };
  let s = opt.init(p);
  const out: number[][] = [];
  for (const g of grads) {
    const [u, ns] = opt.update({ x: tensor(g) }, s, p);
    p = applyUpdates(p, u);
    s = ns;
    out.push(arr(p.x));
  }
  return out;
}

describe('optimizers against hand-worked steps', () => {
  const grads = [[1, -2], [0.5, 4], [-3, 0.25]];

  it('sgd', () => {
    const want = [[-0.1, 0.2], [-0.15, -0.2], [0.15, -0.225]];
    trail(sgd(0.1), [0, 0], grads).forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(want[i][j], 14)));
  });

  it('sgd with momentum and nesterov', () => {
    // t1 = g1; t2 = 0.9 t1 + g2; Nesterov update = g + 0.9 t.
    const m = trail(sgd(1, { momentum: 0.9 }), [0, 0], grads.slice(0, 2));
    expect(m[1][0]).toBeCloseTo(-(1 + (0.9 * 1 + 0.5)), 12);
    const n = trail(sgd(1, { momentum: 0.9, nesterov: true }), [0, 0], grads.slice(0, 1));
    expect(n[0][0]).toBeCloseTo(-(1 + 0.9 * 1), 12);
  });

  it('adam', () => {
    // By hand: step 1 of Adam moves every coordinate by −lr·sign(g) (up to ε).
    const t = trail(adam(0.01), [0, 0], grads);
    expect(t[0][0]).toBeCloseTo(-0.01, 8);
    expect(t[0][1]).toBeCloseTo(0.01, 8);
    // Step 2, coordinate 0: m = 0.1·1·0.9 + 0.1·0.5 = 0.14, v = 0.001·0.999 + 0.001·0.25 = 0.001249.
    const mhat = 0.14 / (1 - 0.81);
    const vhat = 0.001249 / (1 - 0.998001);
    expect(t[1][0]).toBeCloseTo(-0.01 - (0.01 * mhat) / (Math.sqrt(vhat) + 1e-8), 8);
  });

  it('rmsprop and adagrad', () => {
    const r = trail(rmsprop(0.1), [0], [[2]]);
    expect(r[0][0]).toBeCloseTo(-(0.1 * 2) / (Math.sqrt(0.1 * 4) + 1e-8), 10);
    const a = trail(adagrad(0.1), [0], [[2]]);
    expect(a[0][0]).toBeCloseTo(-(0.1 * 2) / Math.sqrt(0.1 + 4 + 1e-7), 10);
  });

  it('clipping', () => {
    const [u] = clipByGlobalNorm(1).update({ a: tensor([3, 0]), b: tensor([4]) }, {});
    expect(arr(u.a)[0]).toBeCloseTo(0.6, 14);
    expect(arr(u.a)[1]).toBe(0);
    expect(arr(u.b)[0]).toBeCloseTo(0.8, 12);
    const [v] = clipByValue(1).update({ a: tensor([3, -0.5, -7]) }, {});
    expect(arr(v.a)).toEqual([1, -0.5, -1]);
  });
});

describe('non-finite guard', () => {
  it('skips a NaN update, keeps the state and reports the step', () => {
    const skipped: number[] = [];
    const opt = skipNonFinite(adam(0.1), (s) => skipped.push(s));
    let p = { x: tensor([1, 2]) };
    let s = opt.init(p);
    [, s] = opt.update({ x: tensor([1, 1]) }, s, p);
    const before = JSON.stringify(s.inner, (_, v) => (v && typeof v === 'object' && 'dataSync' in v ? Array.from((v as Tensor).dataSync()) : v));
    const [u, s2] = opt.update({ x: tensor([NaN, 1]) }, s, p);
    p = applyUpdates(p, u);
    expect(arr(p.x)).toEqual([1, 2]);
    expect(s2.skipped).toBe(1);
    expect(skipped).toEqual([1]);
    const after = JSON.stringify(s2.inner, (_, v) => (v && typeof v === 'object' && 'dataSync' in v ? Array.from((v as Tensor).dataSync()) : v));
    expect(after).toBe(before);
  });
});

describe('allFinite', () => {
  it('scans host leaves: NaN, ±Inf anywhere make it false; int32 and empty leaves are finite', async () => {
    const { allFinite } = await import('../../ts/optim/clip.js');
    const { cast } = await import('../../ts/index.js');
    expect(allFinite({ a: tensor([1, 2]), b: [tensor([3]), tensor(4)] })).toBe(true);
    for (const bad of [NaN, Infinity, -Infinity]) {
      expect(allFinite({ a: tensor([1, 2]), b: [tensor([3, bad])] })).toBe(false);
      expect(allFinite({ a: tensor([bad, 2], [2], 'float32') })).toBe(false);
    }
    expect(allFinite({ i: cast(tensor([1, 2]), 'int32'), e: tensor([], [0]) })).toBe(true);
    expect(allFinite({})).toBe(true);
    // A view (a slice of a larger array) is scanned over its own elements only.
    expect(allFinite(slice(tensor([1, 2, NaN]), [0], [2]))).toBe(true);
  });
});

describe('schedules', () => {
  it('have the documented values', () => {
    expect(exponentialDecay(1, 0.5, 10)(20)).toBeCloseTo(0.25, 12);
    expect(cosineDecay(1, 100)(50)).toBeCloseTo(0.5, 12);
    expect(robbinsMonro(1, 0.7)(9)).toBeCloseTo(Math.pow(10, -0.7), 12);
    expect(() => robbinsMonro(1, 0.4)).toThrow(/kappa/);
  });

  it('piecewiseConstant switches at its boundaries, its tensor form agreeing exactly', () => {
    const lr = piecewiseConstant([3, 12], [1e-3, 1e-3 * Math.pow(10, -1 / 7), 1e-4]);
    const want = [0, 1, 2, 3, 11, 12, 100].map((t) => (t < 3 ? 1e-3 : t < 12 ? 1e-3 * Math.pow(10, -1 / 7) : 1e-4));
    expect([0, 1, 2, 3, 11, 12, 100].map((t) => lr(t))).toEqual(want);
    expect([0, 1, 2, 3, 11, 12, 100].map((t) => lr.tensor!(tensor(t)).item())).toEqual(want);
    expect(() => piecewiseConstant([3, 3], [1, 2, 3])).toThrow(/strictly increasing/);
    expect(() => piecewiseConstant([3], [1])).toThrow(/one value more than boundaries/);
  });
});

describe('convergence on the Rosenbrock function', () => {
  it('adam reaches the minimum at (1, 1)', () => {
    const f = (p: { x: Tensor }): Tensor => {
      const a = slice(p.x, [0], [1]);
      const b = slice(p.x, [1], [1]);
      return sum(add(square(sub(1, a)), mul(100, square(sub(b, square(a))))));
    };
    const vg = valueAndGrad(f);
    const opt = adam(0.02);
    let p = { x: tensor([-1.5, 2]) };
    let s = opt.init(p);
    for (let i = 0; i < 6000; i++) {
      const [, g] = vg(p);
      const [u, ns] = opt.update(g, s, p);
      p = applyUpdates(p, u);
      s = ns;
    }
    const x = arr(p.x);
    expect(x[0]).toBeCloseTo(1, 2);
    expect(x[1]).toBeCloseTo(1, 2);
  });
});

describe('optimizer state saves and loads', () => {
  it('an Adam run resumed from a safetensors checkpoint continues identically', async () => {
    const { toSafetensors, fromSafetensors, loadInto } = await import('../../ts/index.js');
    const f = (p: { x: Tensor }): Tensor => sum(square(sub(p.x, tensor([1, -2, 3]))));
    const vg = valueAndGrad(f);
    const opt = adam(0.05);
    const step = (p: { x: Tensor }, s: unknown): [{ x: Tensor }, unknown] => {
      const [, g] = vg(p);
      const [u, ns] = opt.update(g, s as never, p);
      return [applyUpdates(p, u), ns];
    };
    let p = { x: tensor([0, 0, 0]) };
    let s: unknown = opt.init(p);
    for (let i = 0; i < 10; i++) [p, s] = step(p, s);
    // Checkpoint, then continue both the original and the restored copy for 10 more steps.
    const { tensors } = fromSafetensors(toSafetensors({ params: p, state: s }));
    const restored = loadInto({ params: p, state: s }, tensors);
    let [pa, sa] = [p, s];
    let [pb, sb] = [restored.params, restored.state];
    for (let i = 0; i < 10; i++) {
      [pa, sa] = step(pa, sa);
      [pb, sb] = step(pb, sb);
    }
    expect(arr(pb.x)).toEqual(arr(pa.x));
  });
});
