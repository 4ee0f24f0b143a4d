/**
 * The bfloat16 storage dtype: conversion bits against PyTorch's (test/fixtures/bfloat16.json,
 * frozen by scripts/golden/bfloat16.py), products with float32 output, copies, gradients through
 * the mixed-precision pattern (cast to bfloat16 before a product), checkpoints, and the error every
 * other kernel gives. On js, the cpu backend where built (it hands bfloat16 to js), and cuda (a real
 * GPU where built, else the fake device).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as V from '../../ts/index.js';
import { toBfloat16 } from '../../ts/core/dtype.js';
import { fromSafetensors, toSafetensors } from '../../ts/io/safetensors.js';
import { installFakeDevice } from '../backend/fake-device.js';

interface Golden {
  torch: string;
  f32: (number | string)[];
  f32_bits: number[];
  f64: (number | string)[];
  f64_bits: number[];
  matmul: { a: number[]; a_shape: number[]; b: number[]; b_shape: number[]; a_bits: number[]; b_bits: number[]; out: number[] };
}
const G = JSON.parse(readFileSync(new URL('../fixtures/bfloat16.json', import.meta.url), 'utf8')) as Golden;
const num = (x: number | string): number => (typeof x === 'number' ? x : Number(x));
/** The bits, any NaN written as 0x7fc0: PyTorch's vectorized conversion gives 0xffff, its scalar one and varinf 0x7fc0. */
const canon = (bits: ArrayLike<number>): number[] => Array.from(bits, (b) => ((b & 0x7f80) === 0x7f80 && (b & 0x7f) !== 0 ? 0x7fc0 : b));
const bitsOf = (t: V.Tensor): number[] => canon(t.storageSync());
const F32_BITS = canon(G.f32_bits);

// cuda: the real one where built, else the fake device (js kernels over opaque storage: the device plumbing).
installFakeDevice();
const backends = V.listBackends().available.filter((b) => b === 'js' || b === 'cpu' || b === 'cuda');
const before = V.getBackend();
afterAll(() => V.setBackend(before));

describe.each(backends)('bfloat16 on %s', (backend) => {
  beforeAll(() => V.setBackend(backend));

  it(`rounds float32 and float64 to PyTorch's bits (torch ${G.torch}): nearest even, subnormals, overflow, NaN`, () => {
    const f32 = V.tensor(Float32Array.from(G.f32.map(num)));
    expect(bitsOf(V.cast(f32, 'bfloat16'))).toEqual(F32_BITS);
    expect(Array.from(toBfloat16(G.f32.map(num)))).toEqual(F32_BITS);
    expect(toBfloat16([NaN, -NaN])[0]).toBe(0x7fc0);
    expect(bitsOf(V.cast(V.tensor(G.f64.map(num)), 'bfloat16'))).toEqual(G.f64_bits);
    // tensor(…, 'bfloat16') rounds the same way; the values read back are the rounded ones, exactly.
    const t = V.tensor(G.f32.map(num), undefined, 'bfloat16');
    expect(bitsOf(t)).toEqual(F32_BITS);
    const back = V.cast(t, 'float32').dataSync();
    expect(Array.from(t.dataSync())).toEqual(Array.from(back));
    expect(back[4]).toBe(1); // 1 + 2⁻⁸, halfway: to the even neighbour 1
    expect(back[5]).toBe(1.015625); // 1 + 3·2⁻⁸, halfway: to the even 1 + 2⁻⁶
    expect(t.dtype).toBe('bfloat16');
    expect(V.full([2], 1.5, 'bfloat16').dataSync()).toEqual(Float32Array.from([1.5, 1.5]));
    expect(Array.from(V.eye(2, 'bfloat16').dataSync())).toEqual([1, 0, 0, 1]);
    expect(V.scalar(0.1, 'bfloat16').item()).toBe(0.10009765625);
  });

  it('matmul takes bfloat16 operands with a float32 result: the product of the rounded values', () => {
    const m = G.matmul;
    const a = V.cast(V.tensor(Float32Array.from(m.a), m.a_shape, 'float32'), 'bfloat16');
    const b = V.cast(V.tensor(Float32Array.from(m.b), m.b_shape, 'float32'), 'bfloat16');
    expect(bitsOf(a)).toEqual(m.a_bits);
    expect(bitsOf(b)).toEqual(m.b_bits);
    const c = V.matmul(a, b);
    expect(c.dtype).toBe('float32');
    expect(c.shape).toEqual([3, 5, 6]);
    expect(Array.from(c.dataSync())).toEqual(m.out);
    // Transposed operands read the same storage: (Bᵀ)ᵀ through transB.
    const bt = V.transpose(b, [1, 0]);
    expect(bt.dtype).toBe('bfloat16');
    expect(Array.from(V.matmul(a, bt, { transB: true }).dataSync())).toEqual(m.out);
  });

  it('copies keep the bits: reshape, transpose, slice, concat, broadcastTo', () => {
    const x = V.tensor([1.5, -2.25, 3e-3, 7, 100.5, -0], [2, 3], 'bfloat16');
    const bits = bitsOf(x);
    expect(bitsOf(V.reshape(x, [3, 2]))).toEqual(bits);
    expect(bitsOf(V.transpose(x, [1, 0]))).toEqual([bits[0], bits[3], bits[1], bits[4], bits[2], bits[5]]);
    expect(bitsOf(V.slice(x, [1, 1], [1, 2]))).toEqual([bits[4], bits[5]]);
    expect(bitsOf(V.concat([x, x], 0))).toEqual([...bits, ...bits]);
    expect(bitsOf(V.broadcastTo(V.slice(x, [0, 0], [1, 3]), [2, 3]))).toEqual([...bits.slice(0, 3), ...bits.slice(0, 3)]);
  });

  it('gradients through the mixed-precision pattern: a float32 weight cast to bfloat16 before the product', () => {
    const w = V.tensor([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], undefined, 'float32');
    const x = V.tensor([[1, 2, 3], [-1, 0.5, 2]], undefined, 'float32');
    const f = (p: { w: V.Tensor }): V.Tensor => {
      const w16 = V.cast(p.w, 'bfloat16');
      // w16 used twice: its two cotangents are added (in float32, rounded back to bfloat16).
      return V.add(V.sum(V.square(V.matmul(V.cast(x, 'bfloat16'), w16))), V.sum(V.matmul(V.cast(x, 'bfloat16'), w16)));
    };
    const [, g] = V.valueAndGrad(f)({ w });
    expect(g.w.dtype).toBe('float32');
    // By hand: y = x·w̃ (w̃ the rounded weight), dL/dw̃ = round16(xᵀ(2y)) + round16(xᵀ·1), each product's cotangent rounded.
    const wt = V.cast(V.cast(w, 'bfloat16'), 'float32');
    const y = V.matmul(x, wt);
    const r16 = (t: V.Tensor): V.Tensor => V.cast(V.cast(t, 'bfloat16'), 'float32');
    const g1 = r16(V.matmul(x, V.mul(y, 2), { transA: true }));
    const g2 = r16(V.matmul(x, V.onesLike(y), { transA: true }));
    expect(Array.from(g.w.dataSync())).toEqual(Array.from(r16(V.add(g1, g2)).dataSync()));
  });

  it('checkpoints store bfloat16 as safetensors BF16, bit for bit', () => {
    const t = V.tensor(G.f32.map(num), undefined, 'bfloat16');
    const bytes = toSafetensors({ w: t });
    expect(new TextDecoder().decode(bytes.subarray(8, 60))).toContain('"dtype":"BF16"');
    const back = fromSafetensors(bytes).tensors.w;
    expect(back.dtype).toBe('bfloat16');
    expect(bitsOf(back)).toEqual(F32_BITS);
  });

  it('every other kernel names itself and asks for a cast', () => {
    const x = V.tensor([1, 2], undefined, 'bfloat16');
    expect(() => V.add(x, x)).toThrow(V.DTypeError);
    expect(() => V.add(x, x)).toThrow(/add: input 0 is bfloat16, a storage dtype for matrix products .*; cast to float32 first/);
    expect(() => V.sum(x)).toThrow(/sum: input 0 is bfloat16/);
    expect(() => V.exp(x)).toThrow(/exp: input 0 is bfloat16/);
    expect(() => V.normal(V.key(0), [2], { dtype: 'bfloat16' as never })).toThrow(/bfloat16/);
    expect(() => V.matmul(V.tensor([[1]], undefined, 'bfloat16'), V.tensor([[1]], undefined, 'float32'))).toThrow(/matmul: a is bfloat16 but b is float32/);
  });
});
