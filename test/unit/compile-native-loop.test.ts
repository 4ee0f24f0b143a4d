/**
 * Fused loops run natively (ts/compile/native-loop.ts, native/src/fused.rs): a compiled function
 * whose loops cover at least NATIVE_LOOP_MIN elements runs them as one native call each, with the
 * values of the eager cpu kernels to rounding.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  add,
  adam,
  AutoNormal,
  Bernoulli,
  cast,
  clamp,
  div,
  exp,
  gather,
  foldIn,
  getBackend,
  greater,
  key,
  less,
  listBackends,
  log1p,
  matmul,
  maximum,
  mul,
  Normal,
  normal,
  plate,
  pow,
  reshape,
  sample,
  setBackend,
  sigmoid,
  softplus,
  sqrt,
  square,
  sub,
  sum,
  SVI,
  tanh,
  tensor,
  TraceELBO,
  uniform,
  where,
  type Key,
  type Tensor,
} from '../../ts/index.js';
import { compile } from '../../ts/compile/index.js';
import { ENGINE } from '../../ts/core/engine.js';
import { backendByName } from '../../ts/backends/registry.js';
import { NATIVE_LOOP_MIN } from '../../ts/compile/native-loop.js';

const hasCpu = listBackends().available.includes('cpu');
const N = 3 * NATIVE_LOOP_MIN + 17;

function close(got: Tensor, want: Tensor, tol: number, what: string): void {
  const g = got.dataSync();
  const w = want.dataSync();
  expect(g.length, what).toBe(w.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < w.length; i++) {
    if (Object.is(g[i], w[i]) || (Number.isNaN(g[i]) && Number.isNaN(w[i]))) continue;
    const e = Math.abs(g[i] - w[i]) / Math.max(1, Math.abs(w[i]));
    if (!(e <= worst)) {
      worst = e;
      at = i;
    }
  }
  expect(worst, `${what}: element ${at}: ${g[at]} vs ${w[at]}`).toBeLessThanOrEqual(tol);
}

describe.skipIf(!hasCpu)('native fused loops (cpu backend)', () => {
  let prev = 'cpu';
  beforeAll(() => {
    prev = getBackend();
    setBackend('cpu');
  });
  afterAll(() => setBackend(prev));

  // Special values at a few places: NaN, ±Inf, −0 and huge magnitudes must follow the js kernels.
  const specials = [NaN, Infinity, -Infinity, -0, 0, 1e308, -1e308, 800, -800];
  const withSpecials = (t: Tensor, at: number): Tensor => {
    const d = Float64Array.from(t.dataSync());
    specials.forEach((v, j) => (d[at + 97 * j] = v));
    return tensor(d, [N]);
  };
  // Made once the cpu backend is active (npm run test:fake-device starts with another device).
  let x: Tensor;
  let y: Tensor;
  beforeAll(() => {
    x = withSpecials(mul(normal(key(1), [N]), 4), 11);
    y = withSpecials(add(uniform(key(2), [N]), 0.25), 5000);
  });

  const cases: [string, (a: Tensor, b: Tensor) => Tensor[]][] = [
    ['transcendentals', (a, b) => [exp(mul(a, 0.1)), log1p(b), sigmoid(a), softplus(a), tanh(a)]],
    ['arithmetic, pow, maximum, comparisons, where, clamp', (a, b) => [pow(b, a), maximum(a, b), where(greater(a, b), sub(a, b), div(a, b)), clamp(a, -1, 2)]],
    ['0/1 int32 values stored and cast back', (a, b) => [cast(less(a, b), 'int32'), mul(cast(mul(cast(greater(a, 0), 'int32'), cast(less(a, 3), 'int32')), 'float64'), a)]],
    ['full sums of loop values', (a, b) => [sum(mul(a, b)), sum(softplus(a)), add(a, 1)]],
  ];
  it.each(cases)('%s: compiled (native) equals eager to rounding', (_, f) => {
    const c = compile(f);
    const got = c(x, y);
    const want = f(x, y);
    got.forEach((t, i) => close(t, want[i], 1e-12, `output ${i}`));
    expect(c.lower(x, y).plan.source).toMatch(/\(native\)/);
  });

  it('float32 loops round every result as the js kernels store it (Adam-like update, casts, sums)', () => {
    const p = cast(x, 'float32');
    const g = cast(sub(y, 0.5), 'float32');
    const f = (pp: Tensor, gg: Tensor): Tensor[] => {
      const m = add(mul(gg, 0.1), mul(pp, 0.9));
      const v = add(mul(mul(gg, gg), 0.001), 0.999);
      const step = div(mul(m, 1e-3), add(pow(v, 0.5), 1e-8));
      return [sub(pp, step), sum(mul(pp, gg)), cast(add(cast(pp, 'float64'), 1e-9), 'float32'), tanh(pp)];
    };
    const c = compile(f);
    const want = f(p, g);
    const got = c(p, g);
    got.forEach((t, i) => {
      expect(t.dtype).toBe(want[i].dtype);
      // One float32 ulp (6e-8) where a transcendental's double result sits on a rounding boundary.
      close(t, want[i], i === 1 ? 1e-6 : 1.2e-7, `output ${i}`);
    });
    // Exact where no transcendental is involved: the update and the cast.
    for (const i of [0, 2]) close(got[i], want[i], 0, `output ${i} exactly`);
    expect(c.lower(p, g).plan.source).toMatch(/\(native\)/);
  });

  it('all-float32 loops run on float32 registers with the js kernels\' arithmetic exactly', () => {
    const p = cast(x, 'float32');
    const g = cast(sub(y, 0.5), 'float32');
    const f = (pp: Tensor, gg: Tensor): Tensor[] => {
      const m = add(mul(gg, 0.1), mul(pp, 0.9));
      const v = add(mul(mul(gg, gg), 0.001), 0.999);
      const upd = sub(pp, div(mul(m, 1e-3), add(pow(v, 0.5), 1e-8)));
      return [upd, where(greater(pp, gg), clamp(pp, -0.3, 0.7), maximum(gg, pp)), sum(mul(pp, gg)), tanh(pp)];
    };
    const c = compile(f);
    const want = f(p, g);
    const got = c(p, g);
    for (const i of [0, 1]) close(got[i], want[i], 0, `output ${i} exactly`);
    close(got[2], want[2], 1e-6, 'sum');
    close(got[3], want[3], 1.2e-7, 'tanh (float32 fast kernel)');
    expect(c.lower(p, g).plan.source).toMatch(/\(native, float32\)/);
  });

  it('broadcast operands, traced gathers and constant index maps read the right elements', () => {
    const idx = tensor(Int32Array.from({ length: N }, (_, i) => (i * 7919) % 1000), [N], 'int32');
    const fixed = tensor(Int32Array.from({ length: N }, (_, i) => (i * 104729) % 1000), [N], 'int32');
    const table = normal(key(4), [1000]);
    const m = normal(key(5), [1000, 5]);
    const row = normal(key(6), [1, 5]);
    const colv = normal(key(7), [1000, 1]);
    // `fixed` is captured, so its gather becomes a constant index map; `idx` is traced.
    // [1, 5] and [1000, 1] read in runs (⌊i / q⌋ mod p); [40, 1, 5] over [40, 25, 5] through an index map.
    const cube = normal(key(8), [40, 25, 5]);
    const mid = normal(key(9), [40, 1, 5]);
    const f = (a: Tensor, t: Tensor, ix: Tensor, mm: Tensor, r: Tensor, cv: Tensor, cb: Tensor, md: Tensor): Tensor[] => [
      add(mul(gather(t, ix), a), gather(t, fixed)),
      sub(mul(mm, r), cv),
      mul(cb, md),
    ];
    const c = compile(f);
    const ins = [x, table, idx, m, row, colv, cube, mid] as const;
    const want = f(...ins);
    const got = c(...ins);
    got.forEach((t, i) => close(t, want[i], 0, `output ${i}`));
    const src = c.lower(...ins).plan.source;
    expect(src.match(/\(native\)/g)?.length).toBe(2);
    expect(src).toMatch(/N\d+\.a\[\d+\] = m\d+;/); // the index map of [40, 1, 5]
  });

  it('a scatter-add of a loop value by traced indices runs inside the loop, in the kernel\'s order (same bits as eager)', () => {
    const idx = tensor(Int32Array.from({ length: N }, (_, i) => (i * 7919) % 1000), [N], 'int32');
    const f = (a: Tensor, b: Tensor, ix: Tensor): Tensor[] => {
      const u = mul(softplus(a), b);
      const s = ENGINE.runKernel('scatterAdd', [u, ix], { axis: 0, size: 1000 })[0];
      return [s, sum(s), cast(ENGINE.runKernel('scatterAdd', [cast(u, 'float32'), ix], { axis: 0, size: 1000 })[0], 'float64')];
    };
    for (const be of ['cpu', 'js']) {
      setBackend(be);
      const c = compile(f);
      const got = c(x, y, idx);
      const want = f(x, y, idx);
      got.forEach((t, i) => close(t, want[i], be === 'js' ? 0 : 1e-12, `${be} output ${i}`));
      const src = c.lower(x, y, idx).plan.source;
      expect(src, be).not.toMatch(/\/\/ scatterAdd/);
      expect(src, be).toMatch(/F\.checkIndices\('scatterAdd'/);
    }
    setBackend('cpu');
    const bad = tensor(Int32Array.from({ length: N }, (_, i) => (i === 77 ? 1000 : i % 1000)), [N], 'int32');
    expect(() => compile(f)(x, y, bad)).toThrow(/scatterAdd: index 1000 is out of range for axis 0 of size 1000/);
  });

  it('random draws from 256 on run on the backend with the eager stream (normals to rounding, uniforms and bits exactly)', () => {
    const f = (k: Key): Tensor[] => [normal(k, [N]), uniform(k, [N]), cast(normal(k, [N], { dtype: 'float32' }), 'float64'), exp(normal(k, [50])), normal(foldIn(k, 1), [1000])];
    const c = compile(f);
    const k = key(21);
    const got = c(k);
    const want = f(k);
    close(got[0], want[0], 1e-14, 'normal float64');
    close(got[1], want[1], 0, 'uniform float64');
    close(got[2], want[2], 1e-7, 'normal float32');
    close(got[3], want[3], 1e-14, 'small normal (generated code)');
    close(got[4], want[4], 1e-14, '1,000 normals (backend)');
    const src = c.lower(k).plan.source;
    expect(src).toMatch(/\/\/ randomNormal \[\d+\]$/m);
    expect(c.stats?.backendCalls, 'the four fills of 1,000 draws or more, and the native loop of the cast').toBe(5);
    expect(src).toMatch(/R\.fillNormal/);
  });

  it('logistic regression SVI on 10,000 rows: compiled with native loops follows the eager trajectory', () => {
    const X = normal(key(11), [10_000, 20]);
    const yv = cast(less(uniform(key(12), [10_000]), sigmoid(reshape(matmul(X, mul(normal(key(13), [20, 1]), 0.5)), [10_000]))), 'float64');
    const model = (xx: Tensor, yy: Tensor): void => {
      const w = plate('D', 20, () => sample('w', new Normal(0, 1)));
      const b = sample('b', new Normal(0, 5));
      plate('N', 10_000, () => sample('y', new Bernoulli({ logits: add(matmul(xx, w), b) }), { obs: yy }));
    };
    const svi = new SVI(model, new AutoNormal(model), adam(0.02), new TraceELBO());
    const eager = svi.runSync(key(0), 40, [X, yv], { compile: false, progressBar: false });
    const comp = svi.runSync(key(0), 40, [X, yv], { progressBar: false });
    expect(comp.compiled).toEqual({ used: true });
    for (let i = 0; i < 40; i++) expect(Math.abs(comp.losses[i] - eager.losses[i])).toBeLessThanOrEqual(1e-9 * Math.abs(eager.losses[i]));
  });

  // AXPBY (op 14) and ADAM_DIR (op 15) against the formulas they stand for, one kernel at a time,
  // on float64 registers, float64 registers rounding to float32 (flag 16), and float32 registers.
  it('the fused AXPBY and ADAM_DIR instructions give the unfused kernels\' values exactly', () => {
    const b = backendByName('cpu');
    const n = 600;
    const special = [NaN, Infinity, -Infinity, -0, 0, 1e300, -1e-300, 3e38, -5];
    const xs = Float64Array.from({ length: n }, (_, i) => (i < special.length ? special[i] : Math.sin(i) * 3));
    const ys = Float64Array.from({ length: n }, (_, i) => (i >= 20 && i < 20 + special.length ? special[i - 20] : Math.cos(i * 1.7) * 2 + 0.5));
    const sc = Float64Array.from([0.9, -0.1, 0.999, 1e-8]);
    for (const mode of ['float64', 'rounded', 'float32'] as const) {
      const r = mode === 'float64' ? (v: number): number => v : Math.fround;
      const [xa, ya] = mode === 'float32' ? [Float32Array.from(xs), Float32Array.from(ys)] : mode === 'rounded' ? [Float64Array.from(xs, Math.fround), Float64Array.from(ys, Math.fround)] : [xs, ys];
      const s = mode === 'float32' ? Float64Array.from(sc, Math.fround) : sc;
      const o1 = mode === 'float32' ? new Float32Array(n) : new Float64Array(n);
      const o2 = mode === 'float32' ? new Float32Array(n) : new Float64Array(n);
      const flag = mode === 'float64' ? 0 : 16;
      // AXPBY r2 = r0·s0 + r1·s1; ADAM_DIR r3 = r0·s1 / (√(r1·s2) + s3).
      const prog = [4 | (mode === 'float32' ? 1 << 30 : 0), 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 14 | flag, 2, 0, 1, 0, 7, 2, 2, 0, 0, 15 | flag, 3, 0, 1, 1, 7, 3, 3, 0, 0];
      (b.fusedLoop as NonNullable<typeof b.fusedLoop>)(Int32Array.from(prog), s, [xa, ya, o1, o2], n, new Float64Array(1));
      for (let i = 0; i < n; i++) {
        const [x, y] = [xa[i], ya[i]];
        const want1 = r(r(x * s[0]) + r(y * s[1]));
        const want2 = r(r(x * s[1]) / r(r(Math.sqrt(r(y * s[2]))) + s[3]));
        expect(Object.is(o1[i], want1) || (Number.isNaN(o1[i]) && Number.isNaN(want1)), `${mode} AXPBY at ${i}: ${o1[i]} vs ${want1}`).toBe(true);
        expect(Object.is(o2[i], want2) || (Number.isNaN(o2[i]) && Number.isNaN(want2)), `${mode} ADAM_DIR at ${i}: ${o2[i]} vs ${want2}`).toBe(true);
      }
    }
  });

  it('an Adam update compiles to AXPBY and ADAM_DIR instructions with the js kernels\' values exactly', () => {
    const b = backendByName('cpu');
    const ops: number[] = [];
    const fused = b.fusedLoop as NonNullable<typeof b.fusedLoop>;
    b.fusedLoop = (prog, ...rest): void => {
      for (let i = 1; i < prog.length; i += 5) ops.push(prog[i] & ~16);
      fused.call(b, prog, ...rest);
    };
    const update = (p: Tensor, g: Tensor, m: Tensor, v: Tensor, c: Tensor): Tensor[] => {
      const m2 = add(mul(m, 0.9), mul(g, 0.1));
      const v2 = add(mul(v, 0.999), mul(square(g), 0.001));
      const u = div(mul(m2, c), add(sqrt(mul(v2, c)), 1e-8));
      return [sub(p, mul(u, 1e-3)), m2, v2, sub(mul(g, 0.5), p)];
    };
    try {
      for (const dt of ['float64', 'float32'] as const) {
        // A float64 output keeps the float32 values in float64 registers, rounded by the flag.
        for (const mixed of dt === 'float32' ? [false, true] : [false]) {
          const f = mixed ? (...a: Tensor[]): Tensor[] => [...update(a[0], a[1], a[2], a[3], a[4]), add(cast(a[0], 'float64'), 1e-9)] : (...a: Tensor[]): Tensor[] => update(a[0], a[1], a[2], a[3], a[4]);
          const ins = [cast(x, dt), cast(sub(y, 0.6), dt), cast(mul(x, 0.01), dt), cast(mul(y, y), dt), tensor([1.5], [1], dt)];
          ops.length = 0;
          const got = compile(f)(...ins);
          expect(ops, `${dt}${mixed ? ' mixed' : ''}`).toContain(14);
          expect(ops, `${dt}${mixed ? ' mixed' : ''}`).toContain(15);
          setBackend('js');
          const want = f(...ins);
          setBackend('cpu');
          got.forEach((t, i) => close(t, want[i], 0, `${dt}${mixed ? ' mixed' : ''} output ${i}`));
        }
      }
    } finally {
      b.fusedLoop = fused;
      setBackend('cpu');
    }
  });

  it('a malformed program is refused with an error naming fusedLoop and the instruction', () => {
    const b = backendByName('cpu');
    const run = (prog: number[], arrays: Float64Array[], n = 8): void =>
      (b.fusedLoop as NonNullable<typeof b.fusedLoop>)(Int32Array.from(prog), new Float64Array(1), arrays, n, new Float64Array(1));
    const a = new Float64Array(8);
    expect(() => run([2, 0, 5, 0, 0, 0], [a])).toThrow(/fusedLoop: instruction 0: operand out of range/);
    expect(() => run([2, 0, 0, 0, 0, 0, 3, 0, 0, 7, 0], [a])).toThrow(/instruction 1: output register is also an input/);
    expect(() => run([2, 0, 0, 0, 0, 0], [new Float64Array(4)])).toThrow(/fewer than 8 elements/);
    expect(() => run([2, 0, 0, 0, 0], [a])).toThrow(/not 1 \+ 5k/);
    expect(() => run([2, 32, 0, 0, 0, 0], [a])).toThrow(/unknown op 32/);
    expect(() => run([2, 2, 0, 0, 0, 0, 14, 1, 0, 0, 0], [a])).toThrow(/instruction 1: operand out of range/);
    expect(() => run([2, 13, 0, 0, 0, 0], [a])).toThrow(/a scatter needs Int32Array indices/);
    expect(() => run([2, 12, 0, 0, 1, 9], [a])).toThrow(/broadcast period 9 or repeat 1 does not fit an array of 8/);
  });
});
