/**
 * The js reference kernels against golden values (test/fixtures/kernels.json, written by
 * scripts/golden/kernels.py from mpmath, numpy and scipy), and the errors bad input must raise.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  AxisError,
  DTypeError,
  NotPositiveDefiniteError,
  ShapeError,
  ValueError,
  add,
  cholesky,
  gather,
  scatterAdd,
  setBackend,
  sum,
  tensor,
} from '../../ts/index.js';
import { jsBackend } from '../../ts/backends/js/index.js';
import { digamma, erf, erfinv, lgamma, trigamma } from '../../ts/backends/js/special.js';
import { allocArray, type DType } from '../../ts/core/dtype.js';
import type { KernelAttrs, KernelName } from '../../ts/kernels/spec.js';
import { compareOutputs, runCase, type InputSpec } from '../backend/cases.js';

type Num = number | 'inf' | '-inf' | 'nan';
interface JsonTensor {
  dtype: DType;
  shape: number[];
  data: Num[];
}
interface Fixture {
  special: { fn: string; label: string; x: Num[]; y: Num[]; rtol: number; atol: number }[];
  kernels: { name: KernelName; label: string; inputs: JsonTensor[]; attrs: KernelAttrs[KernelName]; outputs: JsonTensor[]; rtol: number; atol: number }[];
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/kernels.json', import.meta.url), 'utf8')) as Fixture;

function num(v: Num): number {
  return v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v === 'nan' ? NaN : v;
}

function toInput(t: JsonTensor): InputSpec {
  const data = allocArray(t.dtype, t.data.length);
  t.data.forEach((v, i) => (data[i] = num(v)));
  return { dtype: t.dtype, shape: t.shape, data };
}

const SPECIAL: Record<string, (x: number) => number> = { erf, erfinv, lgamma, digamma, trigamma };

describe('special functions match mpmath', () => {
  it.each(fixture.special.map((s) => [`${s.fn} ${s.label}`, s] as const))('%s', (_, s) => {
    const f = SPECIAL[s.fn];
    const got = Float64Array.from(s.x.map((x) => f(num(x))));
    expect(compareOutputs(got, Float64Array.from(s.y.map(num)), s)).toBeNull();
  });

  it('keeps odd symmetry and signed zeros', () => {
    expect(erf(-0.3)).toBe(-erf(0.3));
    expect(erfinv(-0.3)).toBe(-erfinv(0.3));
    expect(Object.is(erf(-0), -0)).toBe(true);
    expect(Object.is(erfinv(-0), -0)).toBe(true);
    expect(digamma(-0)).toBe(Infinity);
    expect(digamma(0)).toBe(-Infinity);
    expect(digamma(-3)).toBeNaN();
    expect(trigamma(-2)).toBe(Infinity);
    expect(erfinv(1.5)).toBeNaN();
  });

  it('inverts: erf(erfinv(p)) ≈ p', () => {
    for (const p of [-0.999, -0.5, 1e-5, 0.3, 0.9, 0.99999]) expect(erf(erfinv(p))).toBeCloseTo(p, 14);
  });
});

describe('kernels match numpy/scipy', () => {
  it.each(fixture.kernels.map((k) => [`${k.name} ${k.label}`, k] as const))('%s', (_, k) => {
    const got = runCase(jsBackend, { name: k.name, label: k.label, inputs: k.inputs.map(toInput), attrs: k.attrs });
    k.outputs.forEach((o, i) => {
      const want = toInput(o);
      expect(compareOutputs(got[i], want.data, k)).toBeNull();
    });
  });
});

describe('errors name the op, the argument and the values', () => {
  setBackend('js');

  it('add: shapes that do not broadcast', () => {
    expect(() => add(tensor([1, 2, 3]), tensor([1, 2]))).toThrow(ShapeError);
    expect(() => add(tensor([1, 2, 3]), tensor([1, 2]))).toThrow(/add: shapes \[3\] and \[2\] cannot be broadcast/);
  });

  it('add: mismatched dtypes', () => {
    expect(() => add(tensor([1, 2], undefined, 'float32'), tensor([1, 2]))).toThrow(DTypeError);
    expect(() => add(tensor([1, 2], undefined, 'float32'), tensor([1, 2]))).toThrow(/add: a is float32 but b is float64/);
  });

  it('sum: an axis out of range', () => {
    expect(() => sum(tensor([[1, 2]]), 2)).toThrow(AxisError);
    expect(() => sum(tensor([[1, 2]]), 2)).toThrow(/sum: axes 2 is out of range for a tensor of rank 2/);
  });

  it('cholesky: a matrix that is not positive definite', () => {
    const a = tensor([[[4, 0], [0, 1]], [[1, 2], [2, 1]]]);
    expect(() => cholesky(a)).toThrow(NotPositiveDefiniteError);
    expect(() => cholesky(a)).toThrow(/cholesky: matrix 1 of the batch .* not positive definite: pivot 1 is -3/);
  });

  it('gather and scatterAdd: an index out of range', () => {
    const x = tensor([[1, 2], [3, 4], [5, 6]]);
    expect(() => gather(x, tensor([0, 3], undefined, 'int32'))).toThrow(ValueError);
    expect(() => gather(x, tensor([0, 3], undefined, 'int32'))).toThrow(/gather: index 3 is out of range for axis 0 of size 3/);
    expect(() => gather(x, tensor([-1], undefined, 'int32'), 1)).toThrow(/gather: index -1 is out of range for axis 1 of size 2/);
    expect(() => scatterAdd(tensor([1, 2]), tensor([0, 4], undefined, 'int32'), 0, 4)).toThrow(/scatterAdd: index 4 is out of range for axis 0 of size 4/);
  });
});
