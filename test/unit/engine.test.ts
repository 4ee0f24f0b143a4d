import { describe, expect, it } from 'vitest';
import {
  getMatmulPrecision,
  matmul,
  setMatmulPrecision,
  add,
  DTypeError,
  ShapeError,
  AxisError,
  tensor,
  tidy,
  keep,
  dispose,
  reshape,
  mul,
  zeros,
  listBackends,
  Tensor,
  exp,
  sum,
  cast,
} from '../../ts/index.js';

describe('tensors', () => {
  it('infers shape and dtype from nested arrays', () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float64');
    expect(t.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(tensor(3).shape).toEqual([]);
    expect(tensor(new Float32Array([1, 2])).dtype).toBe('float32');
  });

  it('rejects ragged arrays and wrong sizes, naming the op', () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(ShapeError);
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow(/tensor: 3 values do not fill shape \[2, 2\]/);
  });

  it('reshape shares storage and validates sizes', () => {
    const t = tensor([1, 2, 3, 4, 5, 6]);
    const r = reshape(t, [2, -1]);
    expect(r.shape).toEqual([2, 3]);
    expect(() => reshape(t, [4, 2])).toThrow(/reshape: cannot reshape \[6\]/);
  });
});

describe('errors name the op, the argument and the shapes', () => {
  it('broadcast mismatch', () => {
    expect(() => add(zeros([2, 3]), zeros([4]))).toThrow(ShapeError);
    expect(() => add(zeros([2, 3]), zeros([4]))).toThrow(/add: shapes \[2, 3\] and \[4\] cannot be broadcast/);
  });
  it('dtype mismatch', () => {
    expect(() => add(zeros([2], 'float32'), zeros([2]))).toThrow(DTypeError);
    expect(() => exp(zeros([2], 'int32'))).toThrow(/exp: argument x must be float32 or float64, got int32/);
  });
  it('bad axis', () => {
    expect(() => sum(zeros([2, 3]), 2)).toThrow(AxisError);
    expect(() => sum(zeros([2, 3]), [0, 0])).toThrow(/repeated/);
  });
});

describe('memory scopes', () => {
  it('tidy disposes intermediates and keeps the result and kept tensors', () => {
    const x = tensor([1, 2, 3]);
    let inner: Tensor | null = null;
    let kept: Tensor | null = null;
    const y = tidy(() => {
      inner = mul(x, 2);
      kept = keep(add(x, 1));
      return { out: add(inner, 1) };
    });
    expect(inner!.isDisposed).toBe(true);
    expect(kept!.isDisposed).toBe(false);
    expect(x.isDisposed).toBe(false);
    expect(Array.from(y.out.dataSync())).toEqual([3, 5, 7]);
    dispose(y);
    expect(y.out.isDisposed).toBe(true);
    expect(() => y.out.dataSync()).toThrow(/disposed/);
  });

  it('a view survives disposal of its source until it is disposed itself', () => {
    const x = tensor([1, 2, 3, 4]);
    const v = reshape(x, [2, 2]);
    x.dispose();
    expect(v.toArray()).toEqual([[1, 2], [3, 4]]);
  });

  it('cleans up when the scope throws', () => {
    let inner: Tensor | null = null;
    expect(() =>
      tidy(() => {
        inner = mul(tensor([1]), 2);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(inner!.isDisposed).toBe(true);
  });
});

describe('backends', () => {
  it('always has js; reports why optional ones are missing', () => {
    const b = listBackends();
    expect(b.available).toContain('js');
    for (const [name, why] of Object.entries(b.missing)) expect(why.length, name).toBeGreaterThan(0);
  });
  it('casts between dtypes', () => {
    expect(Array.from(cast(tensor([1.7, -1.7]), 'int32').dataSync())).toEqual([1, -1]);
  });
  it('sets the GPU matrix-product precision; cpu products stay float32', () => {
    const a = tensor(Float32Array.from([1.1, 2.3, 3.7, 4.9]), [2, 2], 'float32');
    const before = Array.from(matmul(a, a).dataSync());
    setMatmulPrecision('bf16');
    try {
      expect(getMatmulPrecision()).toBe('bf16');
      expect(Array.from(matmul(a, a).dataSync())).toEqual(before);
    } finally {
      setMatmulPrecision('highest');
    }
    expect(() => setMatmulPrecision('fp8' as never)).toThrow(/setMatmulPrecision: precision must be one of highest, tf32, bf16, got fp8/);
    expect(getMatmulPrecision()).toBe('highest');
  });
});
