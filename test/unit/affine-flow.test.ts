/**
 * The fused affine flow step: logdet equals log|det ∂y/∂x| of a finite-difference Jacobian, the
 * inverse step undoes the forward one, the op equals the unfused chain of existing ops, the
 * sigmoid gate stays finite at extreme s, it compiles to the eager result, and bad arguments
 * raise errors naming the op and the argument.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  add,
  affineFlow,
  DTypeError,
  exp,
  getBackend,
  mul,
  neg,
  setBackend,
  ShapeError,
  sigmoid,
  softplus,
  sub,
  sum,
  tensor,
  valueAndGrad,
  ValueError,
  where,
  type AffineFlowOptions,
  type Tensor,
} from '../../ts/index.js';
import { compile } from '../../ts/compile/index.js';
import { logAbsDet } from './flows-helpers.js';

const ramp = (shape: number[], a: number, dtype: 'float32' | 'float64' = 'float64', scale = 1): Tensor =>
  tensor(Array.from({ length: shape.reduce((p, d) => p * d, 1) }, (_, i) => scale * Math.sin(a * (i + 1))), shape, dtype);

const arr = (t: Tensor): number[] => Array.from(t.dataSync());


const MODES: [string, AffineFlowOptions][] = [
  ['exp', {}],
  ['exp inverse', { inverse: true }],
  ['sigmoid', { gate: 'sigmoid' }],
];

describe('affineFlow (js backend)', () => {
  let prev = 'js';
  beforeAll(() => {
    prev = getBackend();
    setBackend('js');
  });
  afterAll(() => setBackend(prev));

  describe.each(MODES)('%s', (_, mode) => {
    it.each([[undefined], [[1, 0, 1, 1, 0]]])('logdet is log|det ∂y/∂x| of a finite-difference Jacobian (mask %j)', (mask) => {
      const d = 5;
      const opts = { ...mode, mask };
      const shift = ramp([2, d], 0.9);
      const s = ramp([2, d], 1.7, 'float64', 1.5);
      const x0 = arr(ramp([2, d], 0.3, 'float64', 2));
      const [, logdet] = affineFlow(tensor(x0, [2, d]), shift, s, opts);
      const h = 1e-6;
      for (let b = 0; b < 2; b++) {
        // Column j of row b's Jacobian: central differences of y_b in x_bj (off-diagonal entries included).
        const jac = new Array<number>(d * d).fill(0);
        for (let j = 0; j < d; j++) {
          const at = (dx: number): number[] => {
            const xs = x0.slice();
            xs[b * d + j] += dx;
            return arr(affineFlow(tensor(xs, [2, d]), shift, s, opts)[0]).slice(b * d, (b + 1) * d);
          };
          const [up, down] = [at(h), at(-h)];
          for (let i = 0; i < d; i++) jac[i * d + j] = (up[i] - down[i]) / (2 * h);
        }
        expect(arr(logdet)[b]).toBeCloseTo(logAbsDet(jac, d), 8);
      }
    });

    it.each(['float32', 'float64'] as const)('%s: equals the unfused chain of existing ops, with and without a mask', (dtype) => {
      const x = ramp([3, 4], 0.7, dtype, 2);
      const shift = ramp([4], 1.3, dtype);
      const s = ramp([2, 1, 4], 2.1, dtype, 2);
      const m = tensor([0, 1, 1, 0], [4], dtype);
      const t =
        mode.gate === 'sigmoid'
          ? add(mul(sigmoid(s), x), mul(sub(1, sigmoid(s)), shift))
          : mode.inverse
            ? mul(sub(x, shift), exp(neg(s)))
            : add(mul(x, exp(s)), shift);
      const l = mode.gate === 'sigmoid' ? neg(softplus(neg(s))) : mode.inverse ? neg(s) : s;
      const lb = add(l, mul(x, 0));
      const digits = dtype === 'float32' ? 5 : 12;
      const close = (got: Tensor, want: Tensor): void => {
        expect(got.shape).toEqual(want.shape);
        const w = arr(want);
        arr(got).forEach((v, i) => expect(v).toBeCloseTo(w[i], digits));
      };
      const [y, logdet] = affineFlow(x, shift, s, mode);
      close(y, t);
      close(logdet, sum(lb, -1));
      const [ym, logdetm] = affineFlow(x, shift, s, { ...mode, mask: m });
      close(ym, where(m, t, x));
      close(logdetm, sum(mul(lb, m), -1));
    });
  });

  it('the inverse step undoes the forward one, and their logdets cancel', () => {
    const x = ramp([4, 6], 0.41, 'float64', 3);
    const shift = ramp([4, 6], 1.9);
    const s = ramp([6], 2.3, 'float64', 2);
    for (const mask of [undefined, [1, 1, 1, 0, 0, 0]]) {
      const [y, fwd] = affineFlow(x, shift, s, { mask });
      const [back, inv] = affineFlow(y, shift, s, { mask, inverse: true });
      arr(back).forEach((v, i) => expect(v).toBeCloseTo(arr(x)[i], 13));
      arr(inv).forEach((v, i) => expect(v).toBe(-arr(fwd)[i]));
    }
  });

  it('masked-off entries pass x through exactly, even where shift or s would overflow', () => {
    const [y, logdet] = affineFlow(tensor([[1.5, -2.5]]), tensor([[0.5, 1e308]]), tensor([[0.25, 1e4]]), { mask: [1, 0] });
    expect(arr(y)).toEqual([1.5 * Math.exp(0.25) + 0.5, -2.5]);
    expect(arr(logdet)).toEqual([0.25]);
  });

  it('the sigmoid gate stays finite and accurate at extreme s', () => {
    const [y, logdet] = affineFlow(tensor([[2, 2, 2]]), tensor([[-1, -1, -1]]), tensor([[-800, 800, 40]]), { gate: 'sigmoid' });
    expect(arr(y)).toEqual([-1, 2, 2]);
    // log σ(−800) = −800; log σ(800) = 0; log σ(40) = −e^−40 to double precision.
    expect(arr(logdet)[0]).toBeCloseTo(-800 - Math.exp(-40), 10);
    const [, l40] = affineFlow(tensor([0]), tensor([0]), tensor([40]), { gate: 'sigmoid' });
    expect(arr(l40)[0] / -Math.exp(-40)).toBeCloseTo(1, 12);
  });

  it('gradients match the unfused chain', () => {
    const x = ramp([3, 4], 0.7, 'float64', 2);
    const shift = ramp([4], 1.3);
    const s = ramp([3, 4], 2.1);
    const m = tensor([1, 0, 1, 1]);
    const w = ramp([3, 4], 0.37);
    const fused = valueAndGrad(([a, b, c]: Tensor[]) => {
      const [y, l] = affineFlow(a, b, c, { gate: 'sigmoid', mask: m });
      return add(sum(mul(y, w)), sum(l));
    });
    const chain = valueAndGrad(([a, b, c]: Tensor[]) => {
      const y = where(m, add(mul(sigmoid(c), a), mul(sigmoid(neg(c)), b)), a);
      return add(sum(mul(y, w)), sum(mul(neg(softplus(neg(c))), m)));
    });
    const [v1, g1] = fused([x, shift, s]);
    const [v2, g2] = chain([x, shift, s]);
    expect(v1.item()).toBeCloseTo(v2.item(), 12);
    g1.forEach((g, k) => arr(g).forEach((v, i) => expect(v).toBeCloseTo(arr(g2[k])[i], 12)));
    expect(g1[1].shape).toEqual([4]);
  });

  it('compiled equals eager bit for bit, with gradients, in every mode', () => {
    const step = ([x, shift, s]: Tensor[]): Tensor[] => {
      const outs: Tensor[] = [];
      for (const [, mode] of MODES) {
        const [loss, g] = valueAndGrad(([a, b, c]: Tensor[]) => {
          const [y, l] = affineFlow(a, b, c, { ...mode, mask: [1, 0, 1] });
          return add(sum(mul(y, y)), sum(l));
        })([x, shift, s]);
        outs.push(loss, ...g);
      }
      return outs;
    };
    const f = compile(step);
    for (const [rows, dtype] of [[4, 'float32'], [300, 'float64']] as const) {
      const ins = [ramp([rows, 3], 0.7, dtype), ramp([3], 1.1, dtype), ramp([rows, 3], 0.4, dtype)];
      const got = f(ins);
      const want = step(ins);
      got.forEach((g, i) => expect(Array.from(g.dataSync()), `output ${i}`).toEqual(Array.from(want[i].dataSync())));
    }
  });

  it('bad arguments name the op and the argument', () => {
    const x = tensor([[1, 2, 3]]);
    expect(() => affineFlow(x, x, x, { gate: 'sigmoid', inverse: true })).toThrow(ValueError);
    expect(() => affineFlow(x, x, x, { gate: 'sigmoid', inverse: true })).toThrow(/affineFlow: the 'sigmoid' gate has no inverse/);
    expect(() => affineFlow(x, x, x, { gate: 'tanh' as 'exp' })).toThrow(/affineFlow: gate must be 'exp' or 'sigmoid', got 'tanh'/);
    expect(() => affineFlow(x, tensor([1, 2, 3], [3], 'float32'), x)).toThrow(DTypeError);
    expect(() => affineFlow(x, tensor([1, 2, 3], [3], 'float32'), x)).toThrow(/affineFlow: x is float64 but shift is float32/);
    expect(() => affineFlow(x, x, tensor([1, 2, 3], [3], 'float32'))).toThrow(/affineFlow: x is float64 but s is float32/);
    const i32 = tensor([1, 2], [2], 'int32');
    expect(() => affineFlow(i32, i32, i32)).toThrow(/affineFlow: argument x must be float32 or float64, got int32/);
    expect(() => affineFlow(x, tensor([1, 2]), x)).toThrow(ShapeError);
    expect(() => affineFlow(x, tensor([1, 2]), x)).toThrow(/affineFlow: x \[1, ?3\], shift \[2\] and s \[1, ?3\] do not broadcast/);
    expect(() => affineFlow(1, 2, 3)).toThrow(/affineFlow: x, shift and s must have a last axis/);
    expect(() => affineFlow(tensor([], [2, 0]), 0, 0)).toThrow(/affineFlow: the last axis d must be at least 1, got shape \[2, ?0\]/);
    expect(() => affineFlow(x, x, x, { mask: [1, 0] })).toThrow(/affineFlow: mask must have shape \[3\]/);
    expect(() => affineFlow(x, x, x, { mask: tensor([1, 0, 1], [3], 'float32') })).toThrow(/affineFlow: x is float64 but mask is float32/);
  });
});
