/**
 * The rational-quadratic spline flow step: the js kernel against Pyro's spline (frozen by
 * scripts/golden/spline.py into test/fixtures/spline.json), the inverse against the forward,
 * logdet against a finite-difference dy/dx, monotonicity, identity outside the bound, the
 * unfused chain of existing ops, compiled = eager, and errors naming the op and the argument.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  add,
  compile,
  cumsum,
  DTypeError,
  getBackend,
  greaterEqual,
  less,
  log,
  mul,
  pad,
  rqSpline,
  setBackend,
  ShapeError,
  slice,
  softmax,
  softplus,
  square,
  sub,
  div,
  sum,
  tensor,
  valueAndGrad,
  ValueError,
  where,
  expandDims,
  type Tensor,
} from '../../ts/index.js';

interface GoldenCase {
  label: string;
  bound: number;
  k: number;
  d: number;
  n: number;
  inverse: boolean;
  widths: number[];
  heights: number[];
  derivatives: number[];
  x: number[];
  y: number[];
  logdet: number[];
}
const GOLDEN = JSON.parse(readFileSync(new URL('../fixtures/spline.json', import.meta.url), 'utf8')) as { cases: GoldenCase[] };

const params = (d: number, k: number, a: number, dtype: 'float32' | 'float64' = 'float64'): [Tensor, Tensor, Tensor] => {
  const f = (len: number, b: number): number[] => Array.from({ length: len }, (_, i) => 1.3 * Math.sin(b * (i + 1)));
  return [tensor(f(d * k, a), [d, k], dtype), tensor(f(d * k, a + 0.37), [d, k], dtype), tensor(f(d * (k - 1), a + 0.71), [d, k - 1], dtype)];
};

describe('rqSpline (js backend)', () => {
  let prev = 'js';
  beforeAll(() => {
    prev = getBackend();
    setBackend('js');
  });
  afterAll(() => setBackend(prev));

  it.each(GOLDEN.cases.map((c) => [c.label, c] as const))("Pyro's spline: %s", (_, c) => {
    const [y, ld] = rqSpline(tensor(c.x, [c.n, c.d]), tensor(c.widths, [c.d, c.k]), tensor(c.heights, [c.d, c.k]), tensor(c.derivatives, [c.d, c.k - 1]), {
      bound: c.bound,
      inverse: c.inverse,
    });
    const [gy, gl] = [y.dataSync(), ld.dataSync()];
    c.y.forEach((v, i) => expect(Math.abs(gy[i] - v), `y[${i}] (${c.x[i]})`).toBeLessThanOrEqual(1e-11 * (1 + Math.abs(v))));
    c.logdet.forEach((v, i) => expect(Math.abs(gl[i] - v), `logdet[${i}] (${c.x[i]})`).toBeLessThanOrEqual(1e-10 * (1 + Math.abs(v))));
  });

  it('inverse(forward(x)) = x to 1e-10, the logdets opposite, and monotone, with parameters broadcast over a batch', () => {
    const [w, h, d] = params(3, 7, 0.9);
    const n = 401;
    const xs = Array.from({ length: n * 3 }, (_, i) => -3.2 + (6.4 * Math.floor(i / 3)) / (n - 1));
    const x = tensor(xs, [n, 3]);
    const [y, ld] = rqSpline(x, w, h, d);
    const [x2, ld2] = rqSpline(y, w, h, d, { inverse: true });
    const [xv, yv, x2v, l1, l2] = [x, y, x2, ld, ld2].map((t) => t.dataSync());
    for (let i = 0; i < xv.length; i++) {
      expect(Math.abs(x2v[i] - xv[i]), `x ${xv[i]}`).toBeLessThanOrEqual(1e-10);
      expect(Math.abs(l1[i] + l2[i])).toBeLessThanOrEqual(1e-9);
      if (i >= 3) expect(yv[i]).toBeGreaterThan(yv[i - 3]);
      // Identity outside [−3, 3].
      if (Math.abs(xv[i]) > 3) expect([yv[i], l1[i]]).toEqual([xv[i], 0]);
    }
  });

  it('logdet is log dy/dx by central differences, forward and inverse', () => {
    const [w, h, d] = params(2, 6, 1.7);
    const xs = [-2.9, -1.7, -0.4, 0.05, 0.8, 1.93, 2.6, 2.99].flatMap((v) => [v, -v * 0.93]);
    const e = 1e-6;
    for (const inverse of [false, true]) {
      const at = (off: number): Float64Array =>
        rqSpline(tensor(xs.map((v) => v + off), [xs.length / 2, 2]), w, h, d, { inverse })[0].dataSync() as Float64Array;
      const [yp, ym] = [at(e), at(-e)];
      const ld = rqSpline(tensor(xs, [xs.length / 2, 2]), w, h, d, { inverse })[1].dataSync();
      xs.forEach((_, i) => expect(Math.abs(Math.log((yp[i] - ym[i]) / (2 * e)) - ld[i]), `${inverse} ${xs[i]}`).toBeLessThan(1e-7));
    }
  });

  it('equals the unfused chain of existing ops (softmax, cumsum, bin masks, the rational quadratic)', () => {
    const [uw, uh, ud] = params(3, 5, 2.3);
    const b = 2.5;
    const k = 5;
    const x = tensor(Array.from({ length: 60 }, (_, i) => -2.4 + (4.8 * i) / 59), [20, 3]);
    const knotsOf = (u: Tensor): Tensor => {
      const c = cumsum(add(mul(softmax(u), 1 - k * 1e-3), 1e-3));
      return sub(mul(pad(c, [0, 1], [0, 0]), 2 * b), b);
    };
    const [cw, ch] = [knotsOf(uw), knotsOf(uh)];
    const dk = pad(add(softplus(ud), 1e-3), [0, 1], [0, 1], 1 - 1e-3);
    const lo = (t: Tensor): Tensor => slice(t, [0, 0], [3, k]);
    const hi = (t: Tensor): Tensor => slice(t, [0, 1], [3, k]);
    const xe = expandDims(x, -1);
    // One-hot bin masks [20, 3, K]: lo ≤ x < hi, the last bin closed.
    const upper = where(greaterEqual(slice(cw, [0, 1], [3, k]), b), 1e9, hi(cw));
    const m = mul(where(greaterEqual(xe, lo(cw)), 1, 0), where(less(xe, upper), 1, 0));
    const pick = (t: Tensor): Tensor => sum(mul(m, t), -1);
    const [x0, w, y0, hh, d0, d1] = [pick(lo(cw)), pick(sub(hi(cw), lo(cw))), pick(lo(ch)), pick(sub(hi(ch), lo(ch))), pick(lo(dk)), pick(hi(dk))];
    const s = div(hh, w);
    const th = div(sub(x, x0), w);
    const t = mul(th, sub(1, th));
    const den = add(s, mul(sub(add(d0, d1), mul(s, 2)), t));
    const y = add(y0, div(mul(hh, add(mul(s, square(th)), mul(d0, t))), den));
    const num = add(add(mul(d1, square(th)), mul(mul(s, 2), t)), mul(d0, square(sub(1, th))));
    const ld = sub(log(mul(square(s), num)), mul(log(den), 2));
    const [fy, fl] = rqSpline(x, uw, uh, ud, { bound: b });
    const close = (a: Tensor, c: Tensor): number => Math.max(...Array.from(a.dataSync(), (v, i) => Math.abs(v - c.dataSync()[i])));
    expect(close(fy, y)).toBeLessThan(1e-13);
    expect(close(fl, ld)).toBeLessThan(1e-12);
  });

  it('float32 rounds the float64 result once', () => {
    const [w, h, d] = params(2, 4, 0.5, 'float32');
    const xs = [-1.1, 0.3, 2.2, 2.9, -3.5, 0];
    const [y] = rqSpline(tensor(xs, [3, 2], 'float32'), w, h, d);
    const [w64, h64, d64] = [w, h, d].map((t) => tensor(Array.from(t.dataSync()), t.shape));
    const [y64] = rqSpline(tensor(Array.from(tensor(xs, [3, 2], 'float32').dataSync()), [3, 2]), w64, h64, d64);
    expect(Array.from(y.dataSync())).toEqual(Array.from(y64.dataSync(), Math.fround));
  });

  it('under compile equals eager, values and gradients', () => {
    const [w, h, d] = params(3, 6, 1.1);
    const x = tensor(Array.from({ length: 12 }, (_, i) => -2.7 + 0.5 * i), [4, 3]);
    const f = (p: { x: Tensor; w: Tensor; h: Tensor; d: Tensor }): { v: Tensor; g: { x: Tensor; w: Tensor; h: Tensor; d: Tensor } } => {
      const [v, g] = valueAndGrad((q: typeof p) => {
        const [y, ld] = rqSpline(q.x, q.w, q.h, q.d);
        return add(sum(square(y)), sum(ld));
      })(p);
      return { v, g };
    };
    const p = { x, w, h, d };
    const got = compile(f)(p);
    const want = f(p);
    expect(got.v.item()).toBe(want.v.item());
    for (const n of ['x', 'w', 'h', 'd'] as const) expect(Array.from(got.g[n].dataSync()), n).toEqual(Array.from(want.g[n].dataSync()));
  });

  it('bad arguments name the op and the argument', () => {
    const [w, h, d] = params(2, 4, 0.5);
    const x = tensor([0, 1], [1, 2]);
    expect(() => rqSpline(x, w, params(2, 5, 0.5)[1], d)).toThrow(ShapeError);
    expect(() => rqSpline(x, w, params(2, 5, 0.5)[1], d)).toThrow(/rqSpline: heights must have K = 4 bins on the last axis as widths \[2, 4\] does, got shape \[2, 5\]/);
    expect(() => rqSpline(x, w, h, params(2, 5, 0.5)[2])).toThrow(/rqSpline: derivatives must have K − 1 = 3 interior knots on the last axis/);
    expect(() => rqSpline(tensor([0, 1, 2], [1, 3]), w, h, d)).toThrow(ShapeError);
    expect(() => rqSpline(tensor([0, 1, 2], [1, 3]), w, h, d)).toThrow(/rqSpline: x \[1, 3\] and the batch shapes of widths \[2\], heights \[2\] and derivatives \[2\].*do not broadcast/);
    expect(() => rqSpline(x, w, h, d, { bound: 0 })).toThrow(ValueError);
    expect(() => rqSpline(x, w, h, d, { bound: -1 })).toThrow(/rqSpline: bound must be a positive finite number, got -1/);
    expect(() => rqSpline(tensor([0, 1], [1, 2], 'float32'), w, h, d)).toThrow(DTypeError);
    expect(() => rqSpline(tensor([0, 1], [1, 2], 'float32'), w, h, d)).toThrow(/rqSpline: x is float32 but widths is float64/);
  });
});
