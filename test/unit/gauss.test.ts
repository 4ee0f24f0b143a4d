/**
 * The fused Gaussian ops: normalReparam equals the unfused randomNormal + elementwise chain bit
 * for bit on the js backend (the kernel's contract), diagNormalKL matches its closed form, and
 * bad arguments raise errors naming the op and the argument.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  add,
  diagNormalKL,
  DTypeError,
  exp,
  getBackend,
  key,
  mul,
  normal,
  normalReparam,
  setBackend,
  ShapeError,
  square,
  sub,
  tensor,
  ValueError,
  type Key,
  type Tensor,
} from '../../ts/index.js';

const sameBits = (a: Tensor, b: Tensor): boolean => {
  const x = a.dataSync();
  const y = b.dataSync();
  return x.length === y.length && x.every((v, i) => Object.is(v, y[i]));
};

const ramp = (shape: number[], a: number, dtype: 'float32' | 'float64'): Tensor =>
  tensor(Array.from({ length: shape.reduce((p, d) => p * d, 1) }, (_, i) => 2 * Math.sin(a * (i + 1))), shape, dtype);

describe('fused Gaussian ops (js backend)', () => {
  let prev = 'js';
  beforeAll(() => {
    prev = getBackend();
    setBackend('js');
  });
  afterAll(() => setBackend(prev));

  it.each([
    ['float32', [7], [7]],
    ['float64', [7], [7]],
    ['float32', [2, 1, 3], [4, 1]],
    ['float64', [], [3, 5]],
  ] as const)('normalReparam %s loc %j logScale %j: the unfused chain bit for bit', (dtype, sl, ss) => {
    const loc = ramp([...sl], 1.1, dtype);
    const logScale = ramp([...ss], 0.4, dtype);
    const k: Key = key(9);
    const [z, logq] = normalReparam(loc, logScale, k);
    const eps = normal(k, z.shape, { dtype });
    expect(z.shape).toEqual(eps.shape);
    expect(sameBits(z, add(loc, mul(exp(logScale), eps)))).toBe(true);
    expect(sameBits(logq, sub(sub(mul(square(eps), -0.5), logScale), 0.5 * Math.log(2 * Math.PI)))).toBe(true);
  });

  it('diagNormalKL: the closed form, 0 at N(0, 1), broadcasting, and accurate near the minimum', () => {
    const kl = diagNormalKL(tensor([0, 1, -2]), tensor([[0], [0.5]]));
    expect(kl.shape).toEqual([2, 3]);
    const got = Array.from(kl.dataSync());
    [0, 1, -2].forEach((m, j) =>
      [0, 0.5].forEach((s, i) => expect(got[i * 3 + j]).toBeCloseTo(0.5 * (m * m + Math.exp(2 * s) - 1) - s, 14)),
    );
    expect(got[0]).toBe(0);
    // KL = s² + O(s³) at loc = 0: with expm1 the result keeps 7 digits at s = 1e-9, where
    // ½(e^(2s) − 1) − s gives −2.8e-17 (the wrong sign).
    expect(Math.abs(diagNormalKL(0, tensor([1e-9])).item() / 1e-18 - 1)).toBeLessThan(1e-6);
  });

  it('bad arguments name the op and the argument', () => {
    const f32 = tensor([1, 2], [2], 'float32');
    const f64 = tensor([1, 2]);
    expect(() => normalReparam(f32, f64, key(0))).toThrow(DTypeError);
    expect(() => normalReparam(f32, f64, key(0))).toThrow(/normalReparam: loc is float32 but logScale is float64/);
    const i32 = tensor([1, 2], [2], 'int32');
    expect(() => diagNormalKL(i32, i32)).toThrow(/diagNormalKL: argument loc must be float32 or float64, got int32/);
    expect(() => diagNormalKL(f64, tensor([1, 2, 3]))).toThrow(ShapeError);
    expect(() => diagNormalKL(f64, tensor([1, 2, 3]))).toThrow(/diagNormalKL: loc \[2\] and logScale \[3\] do not broadcast/);
    expect(() => normalReparam(f64, f64, 3 as unknown as Key)).toThrow(ValueError);
    expect(() => normalReparam(f64, f64, 3 as unknown as Key)).toThrow(/normalReparam: key must be a Key/);
  });
});
