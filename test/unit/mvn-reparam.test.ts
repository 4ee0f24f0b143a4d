/**
 * The fused Cholesky-guide sample mvnReparam: equal to the unfused chain (randomNormal, tril,
 * matmul, add; square, sum, log|diag|) bit for bit on the js backend; log q equal to the library's
 * MultivariateNormal(loc, { scaleTril }).logProb(z) (itself tested against SciPy) for batched and
 * broadcast shapes; the strict upper triangle ignored; bad arguments raise errors naming the op and
 * the argument; and compile(fn) equal to eager for a full-covariance ELBO step and its gradients.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  abs,
  add,
  compile,
  diagonal,
  DTypeError,
  expandDims,
  getBackend,
  key,
  log,
  matmul,
  mul,
  MultivariateNormal,
  mvnReparam,
  normal,
  setBackend,
  ShapeError,
  square,
  squeeze,
  sub,
  sum,
  tensor,
  tril,
  valueAndGrad,
  ValueError,
  type Key,
  type Tensor,
} from '../../ts/index.js';

const sameBits = (a: Tensor, b: Tensor): string | null => {
  const x = a.dataSync();
  const y = b.dataSync();
  if (x.length !== y.length) return `length ${x.length} vs ${y.length}`;
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return `element ${i}: ${x[i]} vs ${y[i]}`;
  return null;
};

const size = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

/** Deterministic values: loc a sine ramp; L with diagonal ±(0.5..1.5), lower entries in ±0.6. */
const ramp = (shape: number[], a: number, dtype: 'float32' | 'float64'): Tensor =>
  tensor(Array.from({ length: size(shape) }, (_, i) => 2 * Math.sin(a * (i + 1))), shape, dtype);

function factor(shape: number[], dtype: 'float32' | 'float64', opts: { negative?: boolean; upper?: number } = {}): Tensor {
  const d = shape[shape.length - 1];
  const data = Array.from({ length: size(shape) }, (_, i) => {
    const [r, c] = [Math.floor(i / d) % d, i % d];
    if (r === c) return (opts.negative && r === d - 1 ? -1 : 1) * (1 + 0.5 * Math.sin(0.9 * (i + 1)));
    return c > r ? (opts.upper ?? 0) : 0.6 * Math.cos(1.7 * (i + 1));
  });
  return tensor(data, shape, dtype);
}

/** The unfused chain the fused kernel must equal. */
function unfused(loc: Tensor, l: Tensor, k: Key): [Tensor, Tensor] {
  const d = loc.shape[loc.shape.length - 1];
  const batch = mvnReparam(loc, l, k)[1].shape;
  const eps = normal(k, [...batch, d], { dtype: loc.dtype as 'float32' | 'float64' });
  const z = add(loc, squeeze(matmul(tril(l), expandDims(eps, -1)), [-1]));
  const logq = sub(sub(mul(sum(square(eps), -1), -0.5), sum(log(abs(diagonal(l))), -1)), 0.5 * d * Math.log(2 * Math.PI));
  return [z, logq];
}

const SHAPES: [number[], number[]][] = [
  [[1], [1, 1]],
  [[4], [4, 4]],
  [[5, 3], [3, 3]],
  [[3], [6, 3, 3]],
  [[2, 1, 4], [3, 4, 4]],
  [[7, 6], [7, 6, 6]],
];

describe('mvnReparam (js backend)', () => {
  let prev = 'js';
  beforeAll(() => {
    prev = getBackend();
    setBackend('js');
  });
  afterAll(() => setBackend(prev));

  for (const dtype of ['float32', 'float64'] as const)
    it.each(SHAPES)(`${dtype} loc %j scaleTril %j: the unfused chain bit for bit`, (sl, sL) => {
      const loc = ramp(sl, 1.1, dtype);
      const l = factor(sL, dtype, { negative: true });
      for (const s of [0, 5]) {
        const [z, logq] = mvnReparam(loc, l, key(s));
        const [wz, wq] = unfused(loc, l, key(s));
        expect(z.shape).toEqual(wz.shape);
        expect(logq.shape).toEqual(wq.shape);
        expect(z.dtype).toBe(dtype);
        expect(sameBits(z, wz), `z, key ${s}`).toBeNull();
        expect(sameBits(logq, wq), `log q, key ${s}`).toBeNull();
      }
    });

  it.each(SHAPES)('float64 loc %j scaleTril %j: log q is MultivariateNormal.logProb(z)', (sl, sL) => {
    const loc = ramp(sl, 0.7, 'float64');
    const l = factor(sL, 'float64');
    const [z, logq] = mvnReparam(loc, l, key(3));
    const want = new MultivariateNormal(loc, { scaleTril: l }).logProb(z);
    expect(want.shape).toEqual(logq.shape);
    const [a, b] = [logq.dataSync(), want.dataSync()];
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-12 * Math.max(1, Math.abs(b[i])));
  });

  it('reads only the lower triangle and takes |L_ii| in the log-determinant', () => {
    const loc = ramp([3, 4], 0.3, 'float64');
    const clean = factor([4, 4], 'float64', { negative: true });
    for (const upper of [NaN, Infinity, 7]) {
      const dirty = factor([4, 4], 'float64', { negative: true, upper });
      const [z, logq] = mvnReparam(loc, dirty, key(1));
      const [wz, wq] = mvnReparam(loc, clean, key(1));
      expect(sameBits(z, wz)).toBeNull();
      expect(sameBits(logq, wq)).toBeNull();
    }
  });

  it('d = 1 with L = σ is the scalar Gaussian: z = loc + σε, log q = −½ε² − log σ − ½ log 2π', () => {
    const [z, logq] = mvnReparam(tensor([0.5]), tensor([[2]]), key(4));
    const e = normal(key(4), [1]).item();
    expect(z.item()).toBe(0.5 + 2 * e);
    expect(logq.item()).toBeCloseTo(-0.5 * e * e - Math.log(2) - 0.5 * Math.log(2 * Math.PI), 14);
  });

  it('bad arguments name the op and the argument', () => {
    const loc = tensor([1, 2]);
    const l = factor([2, 2], 'float64');
    expect(() => mvnReparam(tensor([1, 2], [2], 'float32'), l, key(0))).toThrow(DTypeError);
    expect(() => mvnReparam(tensor([1, 2], [2], 'float32'), l, key(0))).toThrow(/mvnReparam: loc is float32 but scaleTril is float64/);
    const i32 = tensor([1, 2], [2], 'int32');
    expect(() => mvnReparam(i32, tensor([1, 0, 0, 1], [2, 2], 'int32'), key(0))).toThrow(/mvnReparam: argument loc must be float32 or float64, got int32/);
    expect(() => mvnReparam(loc, factor([3, 3], 'float64'), key(0))).toThrow(ShapeError);
    expect(() => mvnReparam(loc, factor([3, 3], 'float64'), key(0))).toThrow(/mvnReparam: scaleTril must be \[\.\.\., 2, 2\] to match loc \[2\], got shape \[3, 3\]/);
    expect(() => mvnReparam(loc, tensor([1, 2]), key(0))).toThrow(/mvnReparam: scaleTril must be/);
    expect(() => mvnReparam(tensor(1), tensor([[1]]), key(0))).toThrow(/mvnReparam: loc must be \[\.\.\., d\] with d >= 1/);
    expect(() => mvnReparam(tensor([], [0]), tensor([], [0, 0]), key(0))).toThrow(/mvnReparam: loc must be \[\.\.\., d\] with d >= 1/);
    expect(() => mvnReparam(ramp([3, 2], 1, 'float64'), factor([4, 2, 2], 'float64'), key(0))).toThrow(
      /mvnReparam: the batch dims of loc \[3, 2\] and scaleTril \[4, 2, 2\] do not broadcast/,
    );
    expect(() => mvnReparam(loc, l, 3 as unknown as Key)).toThrow(ValueError);
    expect(() => mvnReparam(loc, l, 3 as unknown as Key)).toThrow(/mvnReparam: key must be a Key/);
  });
});

describe('mvnReparam under compile', () => {
  type Q = { loc: Tensor; l: Tensor };
  // A full-covariance ELBO step against N(1, I): the fused sample and log q, and their gradients.
  const step = (q: Q, k: Key): { loss: Tensor; g: Q } => {
    const [loss, g] = valueAndGrad((p: Q) => {
      const [z, logq] = mvnReparam(p.loc, p.l, k);
      const logp = sum(mul(square(sub(z, 1)), -0.5), -1);
      return sum(sub(logq, logp));
    })(q);
    return { loss, g };
  };
  let prev = 'js';
  beforeAll(() => {
    prev = getBackend();
    setBackend('js');
  });
  afterAll(() => setBackend(prev));

  it.each([
    [[3], [3, 3]],
    [[4, 3], [3, 3]],
    [[2, 1, 4], [3, 4, 4]],
    [[512, 40], [40, 40]],
  ])('a compiled step with loc %j, scaleTril %j equals the eager one bit for bit for every key', (sl, sL) => {
    const f = compile(step);
    const q = { loc: ramp(sl, 1.3, 'float32'), l: factor(sL, 'float32', { negative: true }) };
    for (let s = 0; s < 3; s++) {
      const got = f(q, key(s));
      const want = step(q, key(s));
      for (const [name, g, w] of [['loss', got.loss, want.loss], ['d loc', got.g.loc, want.g.loc], ['d scaleTril', got.g.l, want.g.l]] as const)
        expect(sameBits(g, w), `${name}, key ${s}`).toBeNull();
    }
    expect(f.traces).toBe(1);
  });
});
