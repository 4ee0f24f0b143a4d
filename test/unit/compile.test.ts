import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  add,
  adam,
  applyUpdates,
  AutoMultivariateNormal,
  AutoNormal,
  diagNormalKL,
  exponentialDecay,
  foldIn,
  getBackend,
  listBackends,
  HalfCauchy,
  key,
  mul,
  Normal,
  normal,
  normalReparam,
  plate,
  sample,
  setBackend,
  split,
  square,
  sub,
  sum,
  SVI,
  tensor,
  TraceELBO,
  valueAndGrad,
  type GradientTransformation,
  type Key,
  type Tensor,
} from '../../ts/index.js';
import { compile, CompileError } from '../../ts/compile/index.js';
import { backendByName } from '../../ts/backends/registry.js';
import { CompiledLoop } from '../../ts/compile/loop.js';
import { ENGINE } from '../../ts/core/engine.js';
import { allocArray } from '../../ts/core/dtype.js';
import { KERNEL_NAMES, KERNELS } from '../../ts/kernels/spec.js';
import { tensorSchedule } from '../../ts/optim/schedules.js';
import { div, tanh } from '../../ts/ops/elementwise.js';
import { matmul } from '../../ts/ops/linalg.js';
import { reshape } from '../../ts/ops/shape.js';
import { kernelCases, type KernelCase } from '../backend/cases.js';

const arr = (t: Tensor): number[] => Array.from(t.dataSync());

/** Bitwise equality of two arrays (NaN equals NaN, −0 differs from +0 only when asked). */
function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): string | null {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) if (!(Object.is(a[i], b[i]) || (a[i] === 0 && b[i] === 0))) return `element ${i}: ${a[i]} vs ${b[i]}`;
  return null;
}


function inputsOf(c: KernelCase): Tensor[] {
  return c.inputs.map((x) => ENGINE.fromArray(x.data.slice(), x.shape));
}

/** Lets the worker's event loop run between cases, so vitest's RPC is answered on a loaded machine. */
const breathe = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('compiled kernels equal eager kernels (js backend, every conformance case)', () => {
  let prev = 'js';
  beforeAll(() => {
    prev = getBackend();
    setBackend('js');
  });
  afterAll(() => setBackend(prev));

  it.each(KERNEL_NAMES)('%s: values', async (name) => {
    const failures: string[] = [];
    for (const c of kernelCases(name)) {
      await breathe();
      const run = (xs: Tensor[], k: Key): Tensor[] => {
        // Random kernels draw from the input key, so the compiled graph re-derives it per call.
        const attrs = 'key' in (c.attrs as object) ? { ...(c.attrs as object), key: k.words } : c.attrs;
        return ENGINE.runKernel(name, xs, attrs as never);
      };
      const xs = inputsOf(c);
      const k = key(7);
      let want: Tensor[];
      try {
        want = run(xs, k);
      } catch {
        continue; // cases that raise (index errors) raise eagerly; nothing to replay
      }
      const f = compile(run);
      for (let rep = 0; rep < 2; rep++) {
        const got = f(xs, k);
        got.forEach((g, i) => {
          const d = sameBits(g.dataSync(), want[i].dataSync());
          if (d !== null) failures.push(`${c.label} output ${i}: ${d}`);
        });
      }
    }
    expect(failures).toEqual([]);
  });

  // Constant second operands turn gathers and scatters into fixed index maps and specialize solves.
  it.each(['gather', 'scatterAdd', 'concat', 'pad', 'slice', 'transpose', 'tril', 'diagonal', 'diagEmbed', 'matmul', 'triangularSolve', 'cholesky'] as const)(
    '%s: values with every input but the first constant',
    async (name) => {
      const failures: string[] = [];
      for (const c of kernelCases(name)) {
        await breathe();
        const xs = inputsOf(c);
        const run = (x0: Tensor): Tensor[] => ENGINE.runKernel(name, [x0, ...xs.slice(1)], c.attrs as never);
        let want: Tensor[];
        try {
          want = run(xs[0]);
        } catch {
          continue;
        }
        const f = compile(run);
        for (let rep = 0; rep < 2; rep++)
          f(xs[0]).forEach((g, i) => {
            const d = sameBits(g.dataSync(), want[i].dataSync());
            if (d !== null) failures.push(`${c.label} output ${i}: ${d}`);
          });
      }
      expect(failures).toEqual([]);
    },
  );

  it('matrix-vector and transposed products (interleaved schedules) equal the js kernel bit for bit', () => {
    const shapes: [number[], number[], boolean, boolean][] = [
      [[7, 13], [13, 1], false, false],
      [[13, 7], [13, 1], true, false],
      [[2, 5, 6], [6, 1], false, false],
      [[9, 3], [9, 3], true, false],
      [[2, 9, 5], [1, 9, 4], true, false],
      [[6, 9], [4, 9], false, true],
      [[3, 10], [10, 2], false, false],
    ];
    for (const dtype of ['float64', 'float32'] as const)
      for (const [sa, sb, transA, transB] of shapes) {
        const mk = (s: number[], seed: number): Tensor => {
          const a = allocArray(dtype, s.reduce((p, d) => p * d, 1));
          for (let i = 0; i < a.length; i++) a[i] = Math.sin(seed * 7.3 + i * 1.7) * 3;
          return ENGINE.fromArray(a, s);
        };
        const a = mk(sa, 1);
        const b = mk(sb, 2);
        const run = (x: Tensor, y: Tensor): Tensor => ENGINE.runKernel('matmul', [x, y], { transA, transB })[0];
        expect(sameBits(compile(run)(a, b).dataSync(), run(a, b).dataSync()), `${dtype} ${sa} ${sb} ${transA} ${transB}`).toBeNull();
      }
  });

  it('a full sum joins the loop that computes its input even after a kernel call closed that loop', () => {
    // y's loop closes when the matmul reads y; the sum that follows still accumulates inside it.
    const run = (x: Tensor, w: Tensor): Tensor[] => {
      const y = mul(add(x, 1), 2);
      const z = ENGINE.runKernel('matmul', [y, w], { transA: true, transB: false })[0];
      return [z, sum(y)];
    };
    const x = ENGINE.fromArray(Float64Array.from({ length: 40 }, (_, i) => Math.sin(i * 1.3)), [40, 1]);
    const w = ENGINE.fromArray(Float64Array.from({ length: 40 }, (_, i) => Math.cos(i * 0.7)), [40, 1]);
    const f = compile(run);
    const got = f(x, w);
    run(x, w).forEach((t, i) => expect(sameBits(got[i].dataSync(), t.dataSync()), `output ${i}`).toBeNull());
    const src = f.lower(x, w).plan.source;
    expect(src).not.toMatch(/\/\/ sum /);
    expect(src).toMatch(/\+= /);
  });

  it('a traced gather index out of range raises the eager error at replay', () => {
    const x = tensor([1, 2, 3]);
    const f = compile((v: Tensor, i: Tensor) => ENGINE.runKernel('gather', [v, i], { axis: 0 })[0]);
    const good = ENGINE.fromArray(Int32Array.from([2, 0, 1, 1]), [4]);
    expect(arr(f(x, good))).toEqual([3, 1, 2, 2]);
    const bad = ENGINE.fromArray(Int32Array.from([2, 0, 3, 1]), [4]);
    expect(() => f(x, bad)).toThrow(/gather: index 3 is out of range for axis 0 of size 3/);
  });

  it('pad fill values are stored as the output dtype stores them (float32, int32)', () => {
    for (const [dtype, value] of [
      ['float32', 0.1],
      ['int32', -7],
      ['float64', -0],
    ] as const) {
      const x = ENGINE.fromArray(allocArray(dtype, 6).map((_, i) => i - 2), [2, 3]);
      const run = (t: Tensor): Tensor[] => ENGINE.runKernel('pad', [t], { before: [1, 0], after: [2, 3], value });
      const d = sameBits(compile(run)(x)[0].dataSync(), run(x)[0].dataSync());
      expect(d).toBeNull();
    }
  });

  const differentiable = KERNEL_NAMES.filter((n) => KERNELS[n].differentiable);
  it.each(differentiable)('%s: gradients', async (name) => {
    const failures: string[] = [];
    for (const c of kernelCases(name)) {
      await breathe();
      if (c.inputs.some((x) => x.dtype === 'int32')) continue;
      // The GPU-sized cases (cholesky [2, 300, 300], for cuSOLVER) cost seconds of js gradient work
      // in one synchronous call; the values test above and the conformance suite still run them.
      if (c.inputs.reduce((n, x) => n + x.data.length, 0) > 150_000) continue;
      const xs = inputsOf(c);
      const vg = (ps: Tensor[]): [Tensor, Tensor[]] =>
        valueAndGrad((qs: Tensor[]) => {
          const y = ENGINE.runKernel(name, qs, c.attrs as never)[0];
          // A fixed non-uniform cotangent, so that every output element's weight differs.
          const w = allocArray(y.dtype, y.size);
          for (let i = 0; i < w.length; i++) w[i] = 1 + ((i * 7) % 5) / 4;
          return sum(mul(y, ENGINE.fromArray(w, y.shape)));
        })(ps);
      let want: [Tensor, Tensor[]];
      try {
        want = vg(xs);
      } catch {
        continue;
      }
      const got = compile(vg)(xs);
      const d0 = sameBits(got[0].dataSync(), want[0].dataSync());
      if (d0 !== null) failures.push(`${c.label} value: ${d0}`);
      got[1].forEach((g, i) => {
        const d = sameBits(g.dataSync(), want[1][i].dataSync());
        if (d !== null) failures.push(`${c.label} grad ${i}: ${d}`);
      });
    }
    expect(failures).toEqual([]);
  });
});

describe('tracing and retracing', () => {
  it('traces once per signature, retraces on a new shape, and keeps the cache bounded', () => {
    const f = compile((x: Tensor) => mul(x, 2), { maxCacheEntries: 2 });
    expect(arr(f(tensor([1, 2])))).toEqual([2, 4]);
    expect(arr(f(tensor([3, 4])))).toEqual([6, 8]);
    expect(f.traces).toBe(1);
    expect(arr(f(tensor([1, 2, 3])))).toEqual([2, 4, 6]);
    expect(f.traces).toBe(2);
    f(tensor([[1]]));
    expect(f.traces).toBe(3);
    // The [2] graph was evicted (least recently used): calling it again retraces.
    f(tensor([5, 6]));
    expect(f.traces).toBe(4);
  });

  it('treats non-tensor arguments as part of the signature', () => {
    const f = compile((x: Tensor, s: number) => mul(x, s));
    expect(arr(f(tensor([1, 2]), 3))).toEqual([3, 6]);
    expect(arr(f(tensor([1, 2]), 4))).toEqual([4, 8]);
    expect(f.traces).toBe(2);
  });

  it('returns the same pytree structure, with constants and input pass-through', () => {
    const c = tensor([9]);
    const f = compile((p: { a: Tensor; b: Tensor[] }) => ({ s: add(p.a, p.b[0]), same: p.a, konst: c, n: 3 }));
    const out = f({ a: tensor([1]), b: [tensor([2])] });
    expect(arr(out.s)).toEqual([3]);
    expect(arr(out.same)).toEqual([1]);
    expect(arr(out.konst)).toEqual([9]);
    expect(out.n).toBe(3);
  });

  it('allocates fresh outputs: earlier results are not overwritten', () => {
    const f = compile((x: Tensor) => add(x, 1));
    const a = f(tensor([1]));
    const b = f(tensor([5]));
    expect(arr(a)).toEqual([2]);
    expect(arr(b)).toEqual([6]);
  });
});

describe('bad input', () => {
  it('a host read of a traced tensor raises a CompileError naming the op', () => {
    const f = compile((x: Tensor) => (sum(x).item() > 0 ? x : mul(x, -1)));
    expect(() => f(tensor([1, 2]))).toThrow(CompileError);
    expect(() => f(tensor([1, 2]))).toThrow(/item\(\) of a traced tensor.*op 'sum'/);
    const g = compile((x: Tensor) => {
      x.dataSync();
      return x;
    });
    expect(() => g(tensor([1]))).toThrow(/dataSync\(\).*input tensor #0/);
  });

  it('host reads of constants are allowed while tracing', () => {
    const c = tensor([2]);
    const f = compile((x: Tensor) => mul(x, sum(c).item()));
    expect(arr(f(tensor([3])))).toEqual([6]);
  });

  it('a function that is not pure in its inputs is caught on its second call', () => {
    let calls = 0;
    const f = compile((x: Tensor) => mul(x, ++calls));
    f(tensor([1]));
    expect(() => f(tensor([1]))).toThrow(/different graph or output structure/);
    let flip = false;
    const g = compile((x: Tensor) => ((flip = !flip) ? { a: x } : { b: x }));
    g(tensor([1]));
    expect(() => g(tensor([1]))).toThrow(CompileError);
  });

  it('tracing state is cleaned up after an error', () => {
    const f = compile((x: Tensor) => {
      x.item();
      return x;
    });
    expect(() => f(tensor([1]))).toThrow(CompileError);
    expect(ENGINE.recorder).toBeNull();
    expect(tensor([4]).item()).toBe(4);
  });
});

describe('keys', () => {
  const fn = (x: Tensor, k: Key): { y: Tensor; z: Tensor; next: Key } => {
    const [a, b] = split(k);
    const y = add(x, normal(a, [3]));
    const z = normal(foldIn(b, 5), [2, 2], { dtype: 'float32' });
    return { y, z, next: split(b)[1] };
  };

  it('draws follow the input key: compiled equals eager for every key', () => {
    const f = compile(fn);
    const x = tensor([1, 2, 3]);
    for (let s = 0; s < 4; s++) {
      const got = f(x, key(s));
      const want = fn(x, key(s));
      expect(arr(got.y)).toEqual(arr(want.y));
      expect(arr(got.z)).toEqual(arr(want.z));
      expect(got.next.words).toEqual(want.next.words);
    }
    expect(f.traces).toBe(1);
  });

  it('a constant key inside the function is baked in (no retrace, same draws)', () => {
    const f = compile((x: Tensor) => add(x, normal(key(3), [2])));
    const a = arr(f(tensor([0, 0])));
    expect(arr(f(tensor([1, 1])))).toEqual(a.map((v) => v + 1));
  });
});

describe('fused Gaussian kernels under compile', () => {
  type Q = { loc: Tensor; logScale: Tensor };
  // A mean-field ELBO step against N(1, I): the fused sample and log q, the fused closed-form KL
  // (as a regularizer), and the gradients of both.
  const step = (q: Q, k: Key): { loss: Tensor; g: Q } => {
    const [loss, g] = valueAndGrad((p: Q) => {
      const [z, logq] = normalReparam(p.loc, p.logScale, k);
      const logp = mul(square(sub(z, 1)), -0.5);
      return add(sum(sub(logq, logp)), sum(diagNormalKL(p.loc, p.logScale)));
    })(q);
    return { loss, g };
  };
  let prev = 'js';
  beforeAll(() => {
    prev = getBackend();
    setBackend('js');
  });
  afterAll(() => setBackend(prev));

  // [64, 300] reaches the default largeThreshold, so the compiled step calls the backend's kernels.
  it.each([
    [[5], [5]],
    [[3, 4], [4]],
    [[64, 300], [300]],
  ])('a compiled ELBO step with loc %j, logScale %j equals the eager one bit for bit for every key', (sl, ss) => {
    const f = compile(step);
    const fill = (shape: number[], a: number): Tensor => tensor(Array.from({ length: shape.reduce((p, d) => p * d, 1) }, (_, i) => Math.sin(a * (i + 1))), shape, 'float32');
    const q = { loc: fill(sl, 1.3), logScale: mul(fill(ss, 0.7), 0.5) };
    for (let s = 0; s < 3; s++) {
      const got = f(q, key(s));
      const want = step(q, key(s));
      for (const [name, g, w] of [['loss', got.loss, want.loss], ['d loc', got.g.loc, want.g.loc], ['d logScale', got.g.logScale, want.g.logScale]] as const)
        expect(sameBits(g.dataSync(), w.dataSync()), `${name}, key ${s}`).toBeNull();
    }
    expect(f.traces).toBe(1);
  });
});

describe('optimizers under compile', () => {
  it('a compiled Adam step equals the eager one, step counter in the state', () => {
    const opt: GradientTransformation = adam(exponentialDecay(0.1, 0.5, 2));
    const step = (p: { x: Tensor }, s: unknown, g: { x: Tensor }): [{ x: Tensor }, unknown] => {
      const [u, ns] = opt.update(g, s, p);
      return [applyUpdates(p, u), ns];
    };
    const cstep = compile(step);
    let pe = { x: tensor([1, -2]) };
    let se: unknown = opt.init(pe);
    let pc = pe;
    let sc = se;
    for (let i = 0; i < 4; i++) {
      const g = { x: tensor([0.5 * (i + 1), -1]) };
      [pe, se] = step(pe, se, g);
      [pc, sc] = cstep(pc, sc, g);
      expect(arr(pc.x)).toEqual(arr(pe.x));
    }
    expect(cstep.traces).toBe(1);
  });

  it('a plain JS schedule raises a CompileError naming it; tensorSchedule compiles', () => {
    function myDecay(t: number): number {
      return 0.1 / (1 + t);
    }
    const run = (lr: Parameters<typeof adam>[0]): number[] => {
      const opt: GradientTransformation = adam(lr);
      const p = { x: tensor([1]) };
      const f = compile((pp: { x: Tensor }, s: unknown) => opt.update({ x: tensor([1]) }, s, pp)[0].x);
      return arr(f(p, opt.init(p)));
    };
    expect(() => run(myDecay)).toThrow(/schedule 'myDecay'/);
    const ts = tensorSchedule(myDecay, (c) => div(0.1, add(c, 1)));
    expect(run(ts)[0]).toBeCloseTo(-0.1, 8);
  });
});

describe('SVI compiled step', () => {
  const y = tensor([28, 8, -3, 7, -1, 1, 18, 12]);
  const sigma = tensor([15, 10, 16, 11, 9, 11, 10, 18]);
  function model(yy: Tensor, s: Tensor): void {
    const mu = sample('mu', new Normal(0, 5));
    const tau = sample('tau', new HalfCauchy(5));
    plate('J', 8, () => {
      const raw = sample('theta_raw', new Normal(0, 1));
      sample('obs', new Normal(add(mu, mul(tau, raw)), s), { obs: yy });
    });
  }

  it.each([
    ['AutoNormal', AutoNormal],
    ['AutoMultivariateNormal', AutoMultivariateNormal],
  ] as const)('eight schools with %s: the same losses and parameters as eager for the same key', (_, G) => {
    const svi = new SVI(model, new G(model), adam(0.02), new TraceELBO());
    const eager = svi.runSync(key(3), 300, [y, sigma], { compile: false, progressBar: false });
    const comp = svi.runSync(key(3), 300, [y, sigma], { progressBar: false });
    expect(eager.compiled.used).toBe(false);
    expect(comp.compiled).toEqual({ used: true });
    for (let i = 0; i < 300; i++) expect(Math.abs(comp.losses[i] - eager.losses[i])).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(eager.losses[i])));
    for (const [name, p] of Object.entries(eager.params)) {
      const q = arr(comp.params[name]);
      arr(p).forEach((v, i) => expect(Math.abs(q[i] - v)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(v))));
    }
    expect(comp.state.step).toBe(300);
    // Resuming from the compiled state continues the same trajectory.
    const more = svi.runSync(key(3), 5, [y, sigma], { state: comp.state, progressBar: false });
    const eagerMore = svi.runSync(key(3), 5, [y, sigma], { state: eager.state, compile: false, progressBar: false });
    for (let i = 0; i < 5; i++) expect(more.losses[i]).toBeCloseTo(eagerMore.losses[i], 8);
  });

  it('the AutoMultivariateNormal step has no generic kernel calls left (index maps, specialized linear algebra)', () => {
    const svi = new SVI(model, new AutoMultivariateNormal(model), adam(0.02), new TraceELBO());
    const r = svi.runSync(key(3), 2, [y, sigma], { progressBar: false });
    const st = (svi as unknown as { compiledStep: { lower(...a: unknown[]): { plan: { source: string } } } }).compiledStep;
    const src = st.lower({ params: r.state.params, optState: r.state.optState, elbo: {} }, r.state.key, [y, sigma]).plan.source;
    const generic = src.split('\n').filter((l) => l.includes('K[') && !l.includes('(specialized)') && !/\/\/ (sum|prod|max|min|logsumexp) /.test(l));
    expect(generic).toEqual([]);
  });

  it('a non-finite step raises the eager error naming the step and site', () => {
    const bad = tensor([28, 8, NaN, 7, -1, 1, 18, 12]);
    const svi = new SVI(model, new AutoNormal(model), adam(0.02), new TraceELBO());
    let eagerMsg = '';
    try {
      svi.runSync(key(3), 3, [bad, sigma], { compile: false, progressBar: false });
    } catch (e) {
      eagerMsg = (e as Error).message;
    }
    expect(eagerMsg).toMatch(/SVI step 0/);
    expect(() => svi.runSync(key(3), 3, [bad, sigma], { progressBar: false })).toThrow(eagerMsg);
  });

  it('a model that cannot be traced runs eagerly and says why', () => {
    function hostModel(yy: Tensor, s: Tensor): void {
      const mu = sample('mu', new Normal(0, 5));
      const m = mu.item() > 100 ? sub(mu, 1) : mu;
      plate('J', 8, () => sample('obs', new Normal(m, s), { obs: yy }));
    }
    const svi = new SVI(hostModel, new AutoNormal(hostModel), adam(0.02), new TraceELBO());
    const r = svi.runSync(key(1), 3, [y, sigma], { progressBar: false });
    expect(r.compiled.used).toBe(false);
    expect(r.compiled.reason).toMatch(/CompileError: .*item\(\)/);
    expect(r.steps).toBe(3);
  });
});

describe('CompiledLoop.run (a generated loop of steps)', () => {
  // State x [3]; step t adds a normal draw of key foldIn(base, t) scaled by 0.1 and 1; the loss
  // 1 / (4 − t') where t' counts the steps taken, infinite at the fifth step.
  const stepFn = compile((st: { x: Tensor; n: Tensor }, k: Key, _ex: unknown): unknown[] => {
    const x = add(st.x, mul(normal(k, [3], { dtype: 'float64' }), 0.1));
    return [{ x, n: add(st.n, 1) }, div(1, sub(4, st.n)), sum(x)];
  });
  const start = (): { x: Tensor; n: Tensor } => ({ x: tensor([1, 2, 3]), n: tensor([0]) });

  it('runs a chunk of steps as the same steps one call each, bit for bit, and records the chosen scalar', () => {
    const base = key(7);
    const one = new CompiledLoop(stepFn, start(), base, null);
    const many = new CompiledLoop(stepFn, start(), base, null);
    const byStep: number[] = [];
    const any = { finite: [], zero: [] };
    const rec1 = new Float64Array(1);
    for (let t = 0; t < 3; t++) {
      expect(one.run(base, 10 + t, 1, any, rec1, 0)).toBe(1);
      byStep.push(one.scalars[1]);
    }
    const rec = new Float64Array(5).fill(-1);
    expect(many.run(base, 10, 3, { finite: [0], zero: [], record: 1 }, rec, 2)).toBe(3);
    expect(Array.from(rec)).toEqual([-1, -1, ...byStep]);
    expect(arr(many.state().x)).toEqual(arr(one.state().x));
    // The same draws as eager code with the same keys.
    let x = tensor([1, 2, 3]);
    for (let t = 0; t < 3; t++) x = add(x, mul(normal(foldIn(base, 10 + t), [3], { dtype: 'float64' }), 0.1));
    expect(arr(many.state().x)).toEqual(arr(x));
  });

  it('stops at the first rejected step with the last accepted state and the rejected scalars', () => {
    const loop = new CompiledLoop(stepFn, start(), key(1), null);
    const rec = new Float64Array(10);
    const done = loop.run(key(1), 0, 10, { finite: [0], zero: [] }, rec, 0);
    expect(done).toBe(4);
    expect(Array.from(rec.subarray(0, 4))).toEqual([1 / 4, 1 / 3, 1 / 2, 1]);
    expect(loop.scalars[0]).toBe(Infinity);
    expect(arr(loop.state().n)).toEqual([4]);
    // A scalar that must be 0 and is not rejects the first step.
    const strict = new CompiledLoop(stepFn, start(), key(1), null);
    expect(strict.run(key(1), 0, 3, { finite: [], zero: [0] }, rec, 0)).toBe(0);
    expect(arr(strict.state().n)).toEqual([0]);
  });
});

describe('graph passes and scheduling (generated code: the cpu device)', () => {
  let prev = 'js';
  beforeAll(() => {
    prev = getBackend();
    if (backendByName(prev).device !== 'cpu') setBackend(listBackends().available.includes('cpu') ? 'cpu' : 'js');
  });
  afterAll(() => setBackend(prev));
  it('a reshape moves above the bias add that feeds it, so the add joins the activation\'s loop', () => {
    // A dense layer on [k, B, in]: reshape → matmul → + b → reshape back → tanh, and a term per row
    // of the [k·B, out] product that must not move (it would not broadcast against [k, B, out]).
    const W = normal(key(1), [6, 5], { dtype: 'float64' });
    const b = normal(key(2), [5], { dtype: 'float64' });
    const perRow = normal(key(3), [12, 1], { dtype: 'float64' });
    const f = (h: Tensor): Tensor[] => {
      const pre = add(matmul(reshape(h, [12, 6]), W), b);
      const a = tanh(reshape(pre, [3, 4, 5]));
      const c = reshape(add(matmul(reshape(h, [12, 6]), W), perRow), [3, 4, 5]);
      return [a, tanh(c)];
    };
    const h = normal(key(4), [3, 4, 6], { dtype: 'float64' });
    const c = compile(f);
    const got = c(h);
    f(h).forEach((t, i) => expect(sameBits(got[i].dataSync(), t.dataSync()), `output ${i}`).toBeNull());
    const src = c.lower(h).plan.source;
    // The first tanh reads its add as a loop local (one loop); the second reads its input from memory.
    expect(src.match(/Math\.tanh\(t\d+\)/g)?.length).toBe(1);
    expect(src.match(/Math\.tanh\(x\d+_\d+\)/g)?.length).toBe(1);
  });

  it('a constant array of equal elements read by binary kernels becomes a scalar (and x − 0, x·1 drop out)', () => {
    const n = 3000;
    const zeros = tensor(new Float64Array(n), [n]);
    const halves = tensor(new Float64Array(n).fill(0.5), [n]);
    const ones = tensor(new Float64Array(n).fill(1), [n]);
    const alternating = tensor(Float64Array.from({ length: n }, (_, i) => i % 2), [n]);
    const f = (x: Tensor): Tensor[] => [sub(mul(x, halves), zeros), mul(add(x, 1), ones), sub(x, alternating)];
    const x = normal(key(3), [n], { dtype: 'float64' });
    const c = compile(f);
    const got = c(x);
    f(x).forEach((t, i) => expect(sameBits(got[i].dataSync(), t.dataSync()), `output ${i}`).toBeNull());
    // Only the alternating array is still bound as an array constant.
    expect(c.lower(x).plan.source.match(/= C\[/g)?.length).toBe(1);
  });

  it('a scalar computed after a loop closed moves before it, so a later node of that size joins the loop', () => {
    const f = (x: Tensor, w: Tensor, s: Tensor): Tensor[] => {
      const a = mul(x, 2);
      const d = mul(w, 3); // another size: the loop computing a closes
      const c = mul(s, s); // a scalar placed after that loop
      return [mul(a, c), d]; // joins a's loop once c is computed before it
    };
    const args = [normal(key(4), [600], { dtype: 'float64' }), normal(key(5), [40], { dtype: 'float64' }), tensor(1.5)];
    const c = compile(f);
    const got = c(...(args as [Tensor, Tensor, Tensor]));
    f(...(args as [Tensor, Tensor, Tensor])).forEach((t, i) => expect(sameBits(got[i].dataSync(), t.dataSync()), `output ${i}`).toBeNull());
    expect(c.stats?.loops).toBe(2);
  });

  it('a long graph replays as several pieces, scalars and inputs crossing them, bit for bit with eager', () => {
    // 40 rounds of a loop whose full sum feeds the next round: 40 loops and 40 scalars, well past one piece.
    const f = (x: Tensor, w: Tensor, s: Tensor): Tensor[] => {
      let h = x;
      let t = s;
      for (let r = 0; r < 40; r++) {
        h = add(mul(tanh(h), w), mul(t, 1e-3));
        t = div(sum(h), 600);
      }
      return [h, t, mul(t, s)];
    };
    // On the js backend, whose eager kernels the generated code equals bit for bit.
    const prevBackend = getBackend();
    setBackend('js');
    const args = [normal(key(6), [600], { dtype: 'float64' }), normal(key(7), [600], { dtype: 'float64' }), tensor(0.25)] as [Tensor, Tensor, Tensor];
    const c = compile(f);
    const got = c(...args);
    const want = f(...args);
    const src = c.lower(...args).plan.source;
    setBackend(prevBackend);
    want.forEach((t, i) => expect(sameBits(got[i].dataSync(), t.dataSync()), `output ${i}`).toBeNull());
    expect(src.match(/^function p\d+\(I, KW, O\)/gm)?.length).toBeGreaterThan(2);
    expect(src).toMatch(/= L\[\d+\];/);
  });
});
