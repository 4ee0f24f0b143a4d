/**
 * nn modules: shapes, initializer statistics, hand-computed forward passes, gradients against
 * float64 central differences, dropout, LayerNorm, the MADE autoregressive property, Conv2d and
 * ConvTranspose2d against nested-loop references, and a tiny MLP learning XOR with adam.
 */
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../ts/core/tensor.js';
import * as V from '../../ts/index.js';
import * as nn from '../../ts/nn/index.js';

const arr = (t: Tensor): number[] => Array.from(t.dataSync());
const randn = (seed: number, shape: number[]): Tensor => V.normal(V.key(seed), shape, { dtype: 'float64' });

function expectClose(got: number[], want: number[], tol: number): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i]));
    if (!(err <= tol)) throw new Error(`element ${i}: got ${got[i]}, want ${want[i]} (relative error ${err} > ${tol})`);
  }
}

/** The sample mean and (biased) variance of a tensor's elements. */
function moments(t: Tensor): { mean: number; variance: number; maxAbs: number } {
  const a = t.dataSync();
  let s = 0;
  let m = 0;
  for (const v of a) {
    s += v;
    m = Math.max(m, Math.abs(v));
  }
  const mean = s / a.length;
  let q = 0;
  for (const v of a) q += (v - mean) ** 2;
  return { mean, variance: q / a.length, maxAbs: m };
}

/**
 * Checks ∂f/∂params from valueAndGrad against central differences (float64) on every entry:
 * max |g − fd| / max(1, |fd|) ≤ tol, h = 1e-6.
 */
function gradCheck<P>(f: (p: P) => Tensor, params: P, tol = 1e-6): void {
  const [, g] = V.valueAndGrad(f)(params);
  const ps = leavesOf(params);
  const gs = leavesOf(g);
  const h = 1e-6;
  ps.forEach((p, li) => {
    const base = p.dataSync() as Float64Array;
    const analytic = gs[li].dataSync();
    for (let i = 0; i < base.length; i++) {
      const at = (delta: number): number => {
        const a = base.slice();
        a[i] += delta;
        const replaced = replaceLeaf(params, li, V.tensor(a, p.shape));
        return f(replaced).item();
      };
      const fd = (at(h) - at(-h)) / (2 * h);
      const err = Math.abs(analytic[i] - fd) / Math.max(1, Math.abs(fd));
      if (!(err <= tol)) throw new Error(`leaf ${li} entry ${i}: analytic ${analytic[i]} vs finite difference ${fd}`);
    }
  });
}

function leavesOf(t: unknown): Tensor[] {
  const out: Tensor[] = [];
  const go = (x: unknown): void => {
    if (x instanceof V.Tensor) out.push(x);
    else if (Array.isArray(x)) x.forEach(go);
    else if (x !== null && typeof x === 'object') for (const k of Object.keys(x).sort()) go((x as Record<string, unknown>)[k]);
  };
  go(t);
  return out;
}

function replaceLeaf<P>(t: P, index: number, leaf: Tensor): P {
  let i = 0;
  const go = (x: unknown): unknown => {
    if (x instanceof V.Tensor) return i++ === index ? leaf : x;
    if (Array.isArray(x)) return x.map(go);
    if (x !== null && typeof x === 'object') {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(x).sort()) o[k] = go((x as Record<string, unknown>)[k]);
      return o;
    }
    return x;
  };
  return go(t) as P;
}

// ---- nested-loop references (NCHW, PyTorch semantics) ----

interface Geometry {
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  outputPadding?: [number, number];
}

function refConv2d(x: Tensor, w: Tensor, b: Tensor | undefined, g: Geometry): { data: number[]; shape: number[] } {
  const [n, c, h, wd] = x.shape;
  const [o, , kh, kw] = w.shape;
  const xs = x.dataSync();
  const ws = w.dataSync();
  const bs = b?.dataSync();
  const ho = Math.floor((h + 2 * g.padding[0] - g.dilation[0] * (kh - 1) - 1) / g.stride[0]) + 1;
  const wo = Math.floor((wd + 2 * g.padding[1] - g.dilation[1] * (kw - 1) - 1) / g.stride[1]) + 1;
  const out: number[] = [];
  for (let in_ = 0; in_ < n; in_++)
    for (let oc = 0; oc < o; oc++)
      for (let i = 0; i < ho; i++)
        for (let j = 0; j < wo; j++) {
          let s = bs ? bs[oc] : 0;
          for (let ic = 0; ic < c; ic++)
            for (let a = 0; a < kh; a++)
              for (let bb = 0; bb < kw; bb++) {
                const r = i * g.stride[0] - g.padding[0] + a * g.dilation[0];
                const q = j * g.stride[1] - g.padding[1] + bb * g.dilation[1];
                if (r < 0 || r >= h || q < 0 || q >= wd) continue;
                s += xs[((in_ * c + ic) * h + r) * wd + q] * ws[((oc * c + ic) * kh + a) * kw + bb];
              }
          out.push(s);
        }
  return { data: out, shape: [n, o, ho, wo] };
}

function refConvTranspose2d(x: Tensor, w: Tensor, b: Tensor | undefined, g: Geometry): { data: number[]; shape: number[] } {
  const [n, c, h, wd] = x.shape;
  const [, o, kh, kw] = w.shape;
  const op = g.outputPadding ?? [0, 0];
  const ho = (h - 1) * g.stride[0] - 2 * g.padding[0] + g.dilation[0] * (kh - 1) + op[0] + 1;
  const wo = (wd - 1) * g.stride[1] - 2 * g.padding[1] + g.dilation[1] * (kw - 1) + op[1] + 1;
  const xs = x.dataSync();
  const ws = w.dataSync();
  const bs = b?.dataSync();
  const out = new Array<number>(n * o * ho * wo).fill(0);
  for (let in_ = 0; in_ < n; in_++)
    for (let oc = 0; oc < o; oc++) {
      for (let i = 0; i < ho * wo; i++) out[(in_ * o + oc) * ho * wo + i] = bs ? bs[oc] : 0;
      for (let ic = 0; ic < c; ic++)
        for (let i = 0; i < h; i++)
          for (let j = 0; j < wd; j++)
            for (let a = 0; a < kh; a++)
              for (let bb = 0; bb < kw; bb++) {
                const r = i * g.stride[0] - g.padding[0] + a * g.dilation[0];
                const q = j * g.stride[1] - g.padding[1] + bb * g.dilation[1];
                if (r < 0 || r >= ho || q < 0 || q >= wo) continue;
                out[((in_ * o + oc) * ho + r) * wo + q] += xs[((in_ * c + ic) * h + i) * wd + j] * ws[((ic * o + oc) * kh + a) * kw + bb];
              }
    }
  return { data: out, shape: [n, o, ho, wo] };
}

const geom = (s: number, p: number, d = 1, op = 0): Geometry => ({ stride: [s, s], padding: [p, p], dilation: [d, d], outputPadding: [op, op] });

describe('initializers', () => {
  it('computes fans in PyTorch layout and the standard gains', () => {
    expect(nn.computeFans([32, 16, 3, 3])).toEqual({ fanIn: 144, fanOut: 288 });
    expect(nn.computeFans([10, 20])).toEqual({ fanIn: 20, fanOut: 10 });
    expect(nn.computeFans([7])).toEqual({ fanIn: 7, fanOut: 7 });
    expect(nn.calculateGain('relu')).toBeCloseTo(Math.SQRT2, 15);
    expect(nn.calculateGain('tanh')).toBeCloseTo(5 / 3, 15);
    expect(nn.calculateGain('leakyRelu', 0.2)).toBeCloseTo(Math.sqrt(2 / 1.04), 15);
    expect(nn.calculateGain('sigmoid')).toBe(1);
    expect(() => nn.computeFans([])).toThrow(/computeFans/);
  });

  // A [512, 1024] weight has n = 524288 entries: the sample variance has a relative standard error of
  // √(2/n) ≈ 0.002 (normal) or √(0.8/n) ≈ 0.0012 (uniform), so a 2% tolerance is ten standard errors.
  const shape = [512, 1024];
  const fanIn = 1024;
  const fanOut = 512;
  const cases: [string, nn.Initializer, number, number | null][] = [
    ['xavierUniform', nn.xavierUniform(), 2 / (fanIn + fanOut), Math.sqrt(6 / (fanIn + fanOut))],
    ['xavierNormal gain 5/3', nn.xavierNormal({ gain: 5 / 3 }), (25 / 9) * (2 / (fanIn + fanOut)), null],
    ['kaimingUniform relu', nn.kaimingUniform({ nonlinearity: 'relu' }), 2 / fanIn, Math.sqrt(6 / fanIn)],
    ['kaimingNormal relu fanOut', nn.kaimingNormal({ nonlinearity: 'relu', mode: 'fanOut' }), 2 / fanOut, null],
    ['kaimingUniform a=√5 (PyTorch default)', nn.defaultWeightInit, 1 / (3 * fanIn), 1 / Math.sqrt(fanIn)],
    ['normalInit 0.02', nn.normalInit(0.02), 0.0004, null],
    ['uniformInit ±0.5', nn.uniformInit(-0.5, 0.5), 1 / 12, 0.5],
  ];
  for (const [name, init, variance, bound] of cases)
    it(`${name}: variance within 2% of the formula, mean near 0, bound respected`, () => {
      const w = init(V.key(7), shape);
      expect(w.dtype).toBe('float32');
      expect(w.shape).toEqual(shape);
      const m = moments(w);
      expect(Math.abs(m.variance / variance - 1)).toBeLessThan(0.02);
      expect(Math.abs(m.mean)).toBeLessThan(6 * Math.sqrt(variance / w.size));
      if (bound !== null) expect(m.maxAbs).toBeLessThanOrEqual(bound * (1 + 1e-6));
    });

  it('zeros, constant and dtype options; the same key gives the same draw', () => {
    expect(arr(nn.zerosInit()(V.key(0), [3]))).toEqual([0, 0, 0]);
    const c = nn.constantInit(2.5)(V.key(0), [2], 'float64');
    expect(c.dtype).toBe('float64');
    expect(arr(c)).toEqual([2.5, 2.5]);
    const a = nn.xavierNormal()(V.key(3), [4, 5], 'float64');
    expect(a.dtype).toBe('float64');
    expect(arr(a)).toEqual(arr(nn.xavierNormal()(V.key(3), [4, 5], 'float64')));
  });
});

describe('Linear and MLP', () => {
  const W = [[1, 2], [3, 4], [5, 6]];
  const b = [0.1, 0.2, 0.3];
  const p = { weight: V.tensor(W), bias: V.tensor(b) };

  it('computes y = x Wᵀ + b by hand, for any number of batch axes', () => {
    const lin = nn.Linear(2, 3);
    const x = [[1, 1], [2, -1]];
    const want = x.map((r) => W.map((w, o) => w[0] * r[0] + w[1] * r[1] + b[o]));
    expectClose(arr(lin.apply(p, V.tensor(x))), want.flat(), 1e-15);
    const y3 = lin.apply(p, V.tensor([x, x]));
    expect(y3.shape).toEqual([2, 2, 3]);
    expectClose(arr(y3), [...want.flat(), ...want.flat()], 1e-15);
    const y1 = lin.apply(p, V.tensor([1, 1]));
    expect(y1.shape).toEqual([3]);
    expectClose(arr(y1), want[0], 1e-15);
    expectClose(arr(nn.Linear(2, 3, { bias: false }).apply({ weight: p.weight }, V.tensor([[1, 1]]))), [3, 7, 11], 1e-15);
    expect(() => lin.apply(p, V.tensor([[1, 2, 3]]))).toThrow(/Linear: input \[1, 3\] must end in 2 features/);
  });

  it('init shapes, default dtype float32, paramCount', () => {
    const lin = nn.Linear(784, 400);
    const q = lin.init(V.key(0));
    expect(q.weight.shape).toEqual([400, 784]);
    expect(q.bias?.shape).toEqual([400]);
    expect(q.weight.dtype).toBe('float32');
    expect(nn.paramCount(q)).toBe(784 * 400 + 400);
    expect(nn.paramCount(nn.Linear(3, 2, { bias: false }).init(V.key(0)))).toBe(6);
    const mlp = nn.MLP([4, 8, 8, 2]);
    expect(nn.paramCount(mlp.init(V.key(1)))).toBe(4 * 8 + 8 + 8 * 8 + 8 + 8 * 2 + 2);
    expect(mlp.apply(mlp.init(V.key(1)), V.zeros([5, 7, 4], 'float32')).shape).toEqual([5, 7, 2]);
  });

  it('MLP matches a hand computation with tanh hidden and sigmoid final activations', () => {
    const mlp = nn.MLP([2, 3, 1], { activation: 'tanh', finalActivation: 'sigmoid' });
    const params = [p, { weight: V.tensor([[0.5, -1, 0.25]]), bias: V.tensor([0.05]) }];
    const x = [0.3, -0.7];
    const h = W.map((w, o) => Math.tanh(w[0] * x[0] + w[1] * x[1] + b[o]));
    const z = 0.5 * h[0] - h[1] + 0.25 * h[2] + 0.05;
    expectClose(arr(mlp.apply(params, V.tensor([x]))), [1 / (1 + Math.exp(-z))], 1e-15);
  });

  it('activations by name match their formulas', () => {
    const xs = [-3, -0.5, 0, 0.7, 4];
    const x = V.tensor(xs);
    const erf = (v: number): number => arr(V.erf(V.tensor([v])))[0];
    const want: Record<nn.ActivationName, (v: number) => number> = {
      identity: (v) => v,
      relu: (v) => Math.max(v, 0),
      tanh: Math.tanh,
      softplus: (v) => Math.log1p(Math.exp(v)),
      sigmoid: (v) => 1 / (1 + Math.exp(-v)),
      elu: (v) => (v > 0 ? v : Math.expm1(v)),
      gelu: (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)),
      silu: (v) => v / (1 + Math.exp(-v)),
      leakyRelu: (v) => (v > 0 ? v : 0.01 * v),
    };
    for (const [name, f] of Object.entries(want)) expectClose(arr(nn.activation(name as nn.ActivationName)(x)), xs.map(f), 1e-14);
    // ELU's gradient stays finite where expm1 would overflow.
    const g = V.grad((t: Tensor) => V.sum(nn.elu(t)))(V.tensor([1000, -2]));
    expectClose(arr(g), [1, Math.exp(-2)], 1e-14);
  });

  it('gradients of a small MLP loss match central differences (float64)', () => {
    for (const act of ['tanh', 'softplus', 'gelu', 'elu'] as const) {
      const mlp = nn.MLP([3, 5, 4, 2], { activation: act, dtype: 'float64' });
      const params = mlp.init(V.key(11));
      const x = randn(1, [6, 3]);
      const t = randn(2, [6, 2]);
      gradCheck((q: nn.LinearParams[]) => V.mean(V.square(V.sub(mlp.apply(q, x), t))), params);
    }
  });
});

describe('Dropout', () => {
  it('preserves the mean, drops a fraction p, and is deterministic in the key', () => {
    const drop = nn.Dropout(0.3);
    const x = V.ones([200000], 'float32');
    const y = drop.apply({}, x, { training: true, key: V.key(5) });
    const a = y.dataSync();
    let zeros = 0;
    let offScale = 0;
    for (const v of a) if (v === 0) zeros++;
    else if (Math.abs(v - 1 / 0.7) > 1e-6) offScale++;
    expect(offScale).toBe(0);
    // sd of the mean = √(p / (1 − p) / n) ≈ 0.0015; sd of the drop fraction ≈ 0.001.
    expect(Math.abs(moments(y).mean - 1)).toBeLessThan(0.01);
    expect(Math.abs(zeros / a.length - 0.3)).toBeLessThan(0.006);
    expect(arr(drop.apply({}, x, { training: true, key: V.key(5) }))).toEqual(Array.from(a));
    expect(arr(drop.apply({}, x, { training: true, key: V.key(6) }))).not.toEqual(Array.from(a));
  });

  it('is the identity outside training and needs a key in training', () => {
    const x = randn(0, [4, 4]);
    const drop = nn.Dropout(0.5);
    expect(drop.apply({}, x)).toBe(x);
    expect(drop.apply({}, x, { training: false, key: V.key(1) })).toBe(x);
    expect(() => drop.apply({}, x, { training: true })).toThrow(/Dropout: training mode needs a key/);
    expect(arr(nn.Dropout(1).apply({}, x, { training: true }))).toEqual(new Array(16).fill(0));
    expect(() => nn.Dropout(1.5)).toThrow(/Dropout: p must be in \[0, 1\]/);
  });

  it('Sequential gives each child its own key', () => {
    const net = nn.Sequential([nn.Dropout(0.5), nn.Dropout(0.5)]);
    const x = V.ones([1000], 'float64');
    const y = net.apply(net.init(V.key(0)), x, { training: true, key: V.key(9) });
    // Independent masks: about a quarter survive both (with value 4); equal keys would give half.
    const kept = arr(y).filter((v) => v !== 0);
    expect(kept.every((v) => v === 4)).toBe(true);
    expect(Math.abs(kept.length / 1000 - 0.25)).toBeLessThan(0.06);
  });
});

describe('LayerNorm, Embedding, Sequential', () => {
  it('LayerNorm output has mean 0 and variance 1 over the features, then scale and shift', () => {
    const x = V.add(V.mul(randn(3, [8, 64]), 5), 3);
    const ln = nn.LayerNorm(64, { eps: 0, dtype: 'float64' });
    const p = ln.init(V.key(0));
    const y = ln.apply(p, x);
    for (let r = 0; r < 8; r++) {
      const m = moments(V.slice(y, [r, 0], [1, 64]));
      expect(Math.abs(m.mean)).toBeLessThan(1e-12);
      expect(Math.abs(m.variance - 1)).toBeLessThan(1e-12);
    }
    const q = { weight: V.full([64], 2, 'float64'), bias: V.full([64], -1, 'float64') };
    expectClose(arr(ln.apply(q, x)), arr(y).map((v) => 2 * v - 1), 1e-13);
    // Over two trailing axes.
    const ln2 = nn.LayerNorm([4, 16], { eps: 0, elementwiseAffine: false });
    const y2 = ln2.apply(ln2.init(V.key(0)), V.reshape(x, [8, 4, 16]));
    expectClose(arr(y2), arr(y), 1e-12);
    expect(() => ln.apply(p, V.zeros([3, 5], 'float64'))).toThrow(/LayerNorm: input \[3, 5\] must end in \[64\]/);
  });

  it('LayerNorm gradients match central differences', () => {
    const ln = nn.LayerNorm(5, { dtype: 'float64' });
    const x = randn(4, [3, 5]);
    const w = randn(5, [3, 5]);
    const p = { weight: randn(6, [5]), bias: randn(7, [5]) };
    gradCheck((q: nn.LayerNormParams) => V.sum(V.mul(ln.apply(q, x), w)), p);
    gradCheck((xx: Tensor) => V.sum(V.mul(ln.apply(p, xx), w)), x);
  });

  it('Embedding gathers rows and accumulates gradients of repeated indices', () => {
    const emb = nn.Embedding(5, 3, { dtype: 'float64' });
    const p = emb.init(V.key(2));
    expect(p.weight.shape).toEqual([5, 3]);
    const idx = V.tensor([[1, 4], [1, 0]], undefined, 'int32');
    const y = emb.apply(p, idx);
    expect(y.shape).toEqual([2, 2, 3]);
    const w = p.weight.toArray() as number[][];
    expectClose(arr(y), [w[1], w[4], w[1], w[0]].flat(), 0);
    const g = V.grad((q: nn.EmbeddingParams) => V.sum(emb.apply(q, idx)))(p);
    expect(g.weight.toArray()).toEqual([[1, 1, 1], [2, 2, 2], [0, 0, 0], [0, 0, 0], [1, 1, 1]]);
    expect(() => emb.apply(p, V.tensor([1]))).toThrow(/Embedding: indices must be int32/);
  });

  it('Sequential chains modules and its params are the array of the children', () => {
    const net = nn.Sequential([nn.Linear(4, 8), nn.Lambda(V.relu), nn.LayerNorm(8), nn.Dropout(0.1), nn.Linear(8, 2)]);
    const p = net.init(V.key(0));
    expect(p.length).toBe(5);
    expect(nn.paramCount(p)).toBe(4 * 8 + 8 + 16 + 8 * 2 + 2);
    expect(net.apply(p, V.ones([3, 4], 'float32')).shape).toEqual([3, 2]);
    const flat = nn.Flatten().apply({}, V.zeros([2, 3, 4, 5]));
    expect(flat.shape).toEqual([2, 60]);
  });
});

describe('MADE', () => {
  /** Which inputs output (o, i) depends on, from the gradient of y[0, o, i] with respect to x. */
  function dependence(made: ReturnType<typeof nn.MADE>, params: nn.MADEParams, x: Tensor, o: number, i: number, context?: Tensor): number[] {
    const D = made.inputs;
    const g = V.grad((xx: Tensor) => V.sum(V.slice(made.apply(params, xx, { context }), [0, o, i], [1, 1, 1])))(x);
    return arr(g).slice(0, D);
  }

  for (const [name, order] of [['natural order', undefined], ['a permuted order', [3, 0, 4, 1, 2]]] as const)
    it(`output i depends exactly on the inputs before i (${name}), checked with valueAndGrad`, () => {
      const D = 5;
      const made = nn.MADE(D, [16, 16], { outputsPerInput: 2, order, activation: 'tanh', dtype: 'float64' });
      const params = made.init(V.key(3));
      const x = randn(8, [2, D]);
      expect(made.apply(params, x).shape).toEqual([2, 2, D]);
      const ord = order ?? [0, 1, 2, 3, 4];
      for (let o = 0; o < 2; o++)
        for (let i = 0; i < D; i++) {
          const g = dependence(made, params, x, o, i);
          for (let j = 0; j < D; j++) {
            // The Jacobian entry is exactly zero when j is not before i, and (generically) non-zero otherwise.
            if (ord[j] >= ord[i]) expect(g[j]).toBe(0);
            else expect(Math.abs(g[j])).toBeGreaterThan(1e-8);
          }
        }
    });

  it('masks follow the degree rules; a conditional MADE keeps the property', () => {
    const made = nn.MADE(3, [4], { contextFeatures: 2, activation: 'tanh', dtype: 'float64' });
    expect(made.inputDegrees).toEqual([1, 2, 3]);
    expect(made.hiddenDegrees).toEqual([[1, 2, 1, 2]]);
    const [m1, m2] = made.masks();
    expect(m1.toArray()).toEqual([[1, 0, 0], [1, 1, 0], [1, 0, 0], [1, 1, 0]]);
    expect(m2.toArray()).toEqual([[0, 0, 0, 0], [1, 0, 1, 0], [1, 1, 1, 1]]);
    const params = made.init(V.key(0));
    expect(params.context?.shape).toEqual([4, 2]);
    const x = randn(1, [1, 3]);
    const c = randn(2, [1, 2]);
    for (let i = 0; i < 3; i++) {
      const g = dependence(made, params, x, 0, i, c);
      for (let j = i; j < 3; j++) expect(g[j]).toBe(0);
    }
    // The context reaches every output after the first.
    const gc = V.grad((cc: Tensor) => V.sum(V.slice(made.apply(params, x, { context: cc }), [0, 0, 2], [1, 1, 1])))(c);
    expect(arr(gc).every((v) => Math.abs(v) > 1e-8)).toBe(true);
    expect(() => made.apply(params, x)).toThrow(/MADE: this MADE is conditional/);
  });

  it('parameter gradients match central differences', () => {
    const made = nn.MADE(3, [6], { outputsPerInput: 2, activation: 'tanh', dtype: 'float64' });
    const x = randn(4, [4, 3]);
    const w = randn(5, [4, 2, 3]);
    gradCheck((q: nn.MADEParams) => V.sum(V.mul(made.apply(q, x), w)), made.init(V.key(1)));
  });
});

describe('Conv2d and ConvTranspose2d', () => {
  const geoms: [number, number][] = [[1, 0], [1, 1], [2, 0], [2, 1]];

  for (const [s, p] of geoms)
    it(`conv2d matches the nested-loop reference (stride ${s}, padding ${p})`, () => {
      const x = randn(1, [2, 3, 7, 6]);
      const w = randn(2, [4, 3, 3, 2]);
      const b = randn(3, [4]);
      const g = geom(s, p);
      const want = refConv2d(x, w, b, g);
      const y = nn.conv2d(x, w, b, g);
      expect(y.shape).toEqual(want.shape);
      expectClose(arr(y), want.data, 1e-12);
    });

  it('conv2d with dilation and unequal strides matches the reference', () => {
    const x = randn(4, [1, 2, 9, 8]);
    const w = randn(5, [3, 2, 3, 3]);
    const g: Geometry = { stride: [2, 1], padding: [1, 2], dilation: [2, 1] };
    const want = refConv2d(x, w, undefined, g);
    const y = nn.conv2d(x, w, undefined, g);
    expect(y.shape).toEqual(want.shape);
    expectClose(arr(y), want.data, 1e-12);
  });

  for (const [s, p] of [...geoms, [2, 1, 1] as [number, number, number]])
    it(`convTranspose2d matches the nested-loop reference (stride ${s}, padding ${p})`, () => {
      const x = randn(6, [2, 3, 4, 5]);
      const w = randn(7, [3, 2, 3, 3]);
      const b = randn(8, [2]);
      const g = geom(s, p, 1, s === 2 && p === 1 ? 1 : 0);
      const want = refConvTranspose2d(x, w, b, g);
      const y = nn.convTranspose2d(x, w, b, g);
      expect(y.shape).toEqual(want.shape);
      expectClose(arr(y), want.data, 1e-12);
    });

  it('convTranspose2d is the adjoint of conv2d: <conv(x), u> = <x, convT(u)>', () => {
    const g = geom(2, 1);
    const x = randn(9, [2, 3, 8, 8]);
    const w = randn(10, [4, 3, 3, 3]);
    const y = nn.conv2d(x, w, undefined, g);
    const u = randn(11, y.shape as number[]);
    const xt = nn.convTranspose2d(u, w, undefined, { ...g, outputPadding: 1 });
    expect(xt.shape).toEqual(x.shape);
    expect(V.sum(V.mul(y, u)).item()).toBeCloseTo(V.sum(V.mul(x, xt)).item(), 10);
  });

  it('gradients of both match central differences on a tiny case', () => {
    const x = randn(12, [1, 2, 5, 4]);
    const w = randn(13, [3, 2, 2, 3]);
    const b = randn(14, [3]);
    const g = geom(2, 1);
    const r = randn(15, nn.conv2d(x, w, b, g).shape as number[]);
    gradCheck((q: Tensor[]) => V.sum(V.mul(nn.conv2d(q[0], q[1], q[2], g), r)), [x, w, b]);
    const wt = randn(16, [2, 3, 3, 2]);
    const bt = randn(17, [3]);
    const gt = geom(2, 1, 1, 1);
    const rt = randn(18, nn.convTranspose2d(x, wt, bt, gt).shape as number[]);
    gradCheck((q: Tensor[]) => V.sum(V.mul(nn.convTranspose2d(q[0], q[1], q[2], gt), rt)), [x, wt, bt]);
  });

  it('modules: shapes, default init bounds, errors', () => {
    const conv = nn.Conv2d(1, 8, 3, { stride: 2, padding: 1 });
    const p = conv.init(V.key(0));
    expect(p.weight.shape).toEqual([8, 1, 3, 3]);
    expect(moments(p.weight).maxAbs).toBeLessThanOrEqual(1 / 3);
    const h = conv.apply(p, V.zeros([4, 1, 28, 28], 'float32'));
    expect(h.shape).toEqual([4, 8, 14, 14]);
    const up = nn.ConvTranspose2d(8, 1, 4, { stride: 2, padding: 1 });
    const q = up.init(V.key(1));
    expect(q.weight.shape).toEqual([8, 1, 4, 4]);
    expect(up.apply(q, h).shape).toEqual([4, 1, 28, 28]);
    expect(nn.paramCount(q)).toBe(8 * 16 + 1);
    expect(() => conv.apply(p, V.zeros([4, 2, 28, 28], 'float32'))).toThrow(/conv2d: input has 2 channels but the weight \[8, 1, 3, 3\] expects 1/);
    expect(() => nn.convTranspose2d(h, q.weight, undefined, { stride: 2, outputPadding: 2 })).toThrow(/outputPadding/);
  });
});

describe('training smoke test', () => {
  it('a tiny MLP learns XOR with adam', () => {
    const mlp = nn.MLP([2, 8, 1], { activation: 'tanh', dtype: 'float64' });
    const x = V.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
    const t = V.tensor([[0], [1], [1], [0]]);
    // Bernoulli negative log-likelihood on logits: softplus(z) − t·z.
    const loss = (p: nn.LinearParams[]): Tensor => {
      const z = mlp.apply(p, x);
      return V.mean(V.sub(V.softplus(z), V.mul(t, z)));
    };
    const opt = V.adam(0.05);
    let params = mlp.init(V.key(0));
    let state = opt.init(params);
    const vg = V.valueAndGrad(loss);
    let last = Infinity;
    for (let step = 0; step < 400; step++) {
      const [l, g] = vg(params);
      const [u, s] = opt.update(g, state, params);
      params = V.applyUpdates(params, u);
      state = s;
      last = l.item();
    }
    expect(last).toBeLessThan(0.05);
    const probs = arr(V.sigmoid(mlp.apply(params, x)));
    expect(probs.map((v) => Math.round(v))).toEqual([0, 1, 1, 0]);
  });
});
