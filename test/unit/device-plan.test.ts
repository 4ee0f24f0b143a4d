/**
 * Compiled steps on a device (ts/compile/device-plan.ts): the traced graph replayed as backend
 * calls over preallocated device buffers. Without a GPU this runs on the fake device of
 * test/backend/fake-device.ts (the js kernels over opaque storage, registered as 'cuda'), so the
 * device paths of compile, CompiledLoop, SVI and the VAE training loop run here; on a machine
 * with a real GPU the tests skip (bench/gpu/train.ts covers it there).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../ts/compile/index.js';
import { CompiledLoop } from '../../ts/compile/loop.js';
import { MinibatchLoader } from '../../ts/data/loader.js';
import { hasMnist, loadMnist, subset } from '../../ts/data/mnist.js';
import * as V from '../../ts/index.js';
import { VAE, trainVAE } from '../../ts/models/vae/index.js';
import { installFakeDevice } from '../backend/fake-device.js';

const device = installFakeDevice();
const before = V.getBackend();
const arr = (t: V.Tensor): number[] => Array.from(t.dataSync());

/** Eight schools (non-centered), AutoNormal, Adam(0.02), on the active backend; with y and sigma. */
function eightSchoolsSVI(): [V.SVI<[V.Tensor, V.Tensor]>, V.Tensor, V.Tensor] {
  const model = (yy: V.Tensor, s: V.Tensor): void => {
    const mu = V.sample('mu', new V.Normal(0, 5));
    const tau = V.sample('tau', new V.HalfCauchy(5));
    V.plate('J', 8, () => {
      const raw = V.sample('theta_raw', new V.Normal(0, 1));
      V.sample('obs', new V.Normal(V.add(mu, V.mul(tau, raw)), s), { obs: yy });
    });
  };
  const svi = new V.SVI(model, new V.AutoNormal(model), V.adam(0.02), new V.TraceELBO());
  return [svi, V.tensor([28, 8, -3, 7, -1, 1, 18, 12]), V.tensor([15, 10, 16, 11, 9, 11, 10, 18])];
}

describe.skipIf(device === null)('compiled steps on a device', () => {
  beforeAll(() => V.setBackend('cuda'));
  afterAll(() => V.setBackend(before));

  it('compile replays on the device: the same values and gradients as eager, bit for bit, as device tensors', () => {
    const f = (p: { w: V.Tensor; b: V.Tensor }, x: V.Tensor, k: V.Key): V.Tensor[] => {
      const [loss, g] = V.valueAndGrad((q: { w: V.Tensor; b: V.Tensor }) => {
        const h = V.tanh(V.add(V.matmul(x, q.w), q.b));
        const eps = V.normal(k, h.shape, { dtype: 'float64' });
        return V.sum(V.logsumexp(V.add(h, V.mul(eps, 0.5)), [1]));
      })(p);
      return [loss, g.w, g.b, V.reshape(g.b, [1, 3])];
    };
    const p = { w: V.tensor([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]), b: V.tensor([0.01, 0.02, -0.03]) };
    const x = V.tensor([[1, 2], [3, -1], [0.5, 0.25], [-2, 1]]);
    const cf = compile(f);
    for (const s of [1, 2, 3]) {
      const want = f(p, x, V.key(s));
      const got = cf(p, x, V.key(s));
      expect(got[0].backend.device).toBe('cuda');
      got.forEach((t, i) => expect(arr(t), `output ${i}, key ${s}`).toEqual(arr(want[i])));
    }
    expect(cf.traces).toBe(1);
    expect(cf.stats?.backendCalls).toBeGreaterThan(10);
  });

  it('a CompiledLoop on the device allocates nothing per step and keeps its scalars on the host', () => {
    const step = compile((st: { x: V.Tensor }, k: V.Key, _e: unknown): unknown[] => {
      const x = V.add(st.x, V.mul(V.normal(k, [4], { dtype: 'float64' }), 0.1));
      return [{ x }, V.sum(V.square(x))];
    });
    const start = { x: V.tensor([1, 2, 3, 4]) };
    const loop = new CompiledLoop(step, start, V.key(5), null);
    const rec = new Float64Array(20);
    loop.run(V.key(5), 0, 1, { finite: [0], zero: [] }, rec, 0);
    const allocs = device!.allocs;
    expect(loop.run(V.key(5), 1, 19, { finite: [0], zero: [] }, rec, 1)).toBe(19);
    expect(device!.allocs).toBe(allocs);
    // The same trajectory as eager steps with the same keys.
    let x = V.tensor([1, 2, 3, 4]);
    for (let t = 0; t < 20; t++) {
      x = V.add(x, V.mul(V.normal(V.foldIn(V.key(5), t), [4], { dtype: 'float64' }), 0.1));
      expect(rec[t]).toBe(V.sum(V.square(x)).item());
    }
    expect(arr(loop.state().x)).toEqual(arr(x));
  });

  it('SVI compiles its step on the device: eight schools, the same losses as eager', () => {
    const [svi, y, sigma] = eightSchoolsSVI();
    const eager = svi.runSync(V.key(3), 50, [y, sigma], { compile: false, progressBar: false });
    const comp = svi.runSync(V.key(3), 50, [y, sigma], { progressBar: false });
    expect(comp.compiled).toEqual({ used: true });
    for (let i = 0; i < 50; i++) expect(Math.abs(comp.losses[i] - eager.losses[i])).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(eager.losses[i])));
    for (const [name, p] of Object.entries(eager.params)) {
      expect(comp.params[name].backend.device).toBe('cuda');
      expect(arr(comp.params[name])).toEqual(arr(p));
    }
  });

  it.skipIf(!hasMnist())('trainVAE compiles its step on the device: the same losses as eager', async () => {
    const data = subset(loadMnist('train'), 200);
    const vae = VAE({ xDim: 784, layers: [{ z: 4, hidden: [32] }] });
    const opt = V.adam(1e-3);
    const run = (compileStep: boolean) => {
      const params = vae.init(V.key(0));
      const loader = new MinibatchLoader(data, { batchSize: 50, key: V.key(1), binarize: 'dynamic' });
      return trainVAE(vae, { params, optState: opt.init(params), step: 0 }, loader, { steps: 6, key: V.key(2), optimizer: opt, logEvery: 1, compile: compileStep, beta: (s: number) => Math.min(1, s / 4) });
    };
    const eager = await run(false);
    const comp = await run(true);
    expect(comp.compiled).toEqual({ used: true });
    expect(comp.history.map((h) => h.loss)).toEqual(eager.history.map((h) => h.loss));
    expect(comp.state.params.enc[0].mu.weight.backend.device).toBe('cuda');
  });
});

describe.skipIf(device === null)('compiled steps replayed as graphs (the fake device records as CUDA stream capture does)', () => {
  beforeAll(() => V.setBackend('cuda'));
  afterAll(() => {
    V.setCudaGraphs(false);
    V.setBackend(before);
  });

  it('records on the second run and replays in one launch: the same values as eager, fresh keys every run', () => {
    const f = (p: { w: V.Tensor; b: V.Tensor }, x: V.Tensor, k: V.Key): V.Tensor[] => {
      const [loss, g] = V.valueAndGrad((q: { w: V.Tensor; b: V.Tensor }) => {
        const h = V.tanh(V.add(V.matmul(x, q.w), q.b));
        const [z, logq] = V.normalReparam(h, V.mul(q.b, 0.5), k);
        return V.add(V.sum(V.logsumexp(z, [1])), V.sum(logq));
      })(p);
      return [loss, g.w, g.b];
    };
    const p = { w: V.tensor([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]), b: V.tensor([0.01, 0.02, -0.03]) };
    const x = V.tensor([[1, 2], [3, -1], [0.5, 0.25], [-2, 1]]);
    const cf = compile(f, { graphs: true });
    const seen = new Set<number>();
    for (const s of [1, 2, 3, 4, 5]) {
      const kernels = device!.kernels;
      const launches = device!.launches;
      const want = f(p, x, V.key(s));
      const wantKernels = device!.kernels - kernels;
      const k0 = device!.kernels;
      const got = cf(p, x, V.key(s));
      got.forEach((t, i) => expect(arr(t), `output ${i}, key ${s}`).toEqual(arr(want[i])));
      seen.add(got[0].item());
      expect(cf.stats?.graph).toMatch(s === 1 ? /^pending/ : /^recorded/);
      if (s >= 3) {
        // One launch; the kernels run one by one are only the copies in (3 inputs) and out (3 outputs).
        expect(device!.launches - launches).toBe(1);
        expect(device!.kernels - k0).toBe(6);
        expect(wantKernels).toBeGreaterThan(20);
      }
    }
    expect(seen.size).toBe(5);
  });

  it('a CompiledLoop replays its ping-pong state through one graph: the eager trajectory, no allocation per step', () => {
    const step = compile((st: { x: V.Tensor }, k: V.Key, _e: unknown): unknown[] => {
      const x = V.add(st.x, V.mul(V.normal(k, [4], { dtype: 'float64' }), 0.1));
      return [{ x }, V.sum(V.square(x))];
    }, { graphs: true });
    const loop = new CompiledLoop(step, { x: V.tensor([1, 2, 3, 4]) }, V.key(5), null);
    const rec = new Float64Array(30);
    loop.run(V.key(5), 0, 3, { finite: [0], zero: [] }, rec, 0);
    const allocs = device!.allocs;
    const launches = device!.launches;
    expect(loop.run(V.key(5), 3, 27, { finite: [0], zero: [] }, rec, 3)).toBe(27);
    expect(device!.allocs).toBe(allocs);
    expect(device!.launches - launches).toBe(27);
    let x = V.tensor([1, 2, 3, 4]);
    for (let t = 0; t < 30; t++) {
      x = V.add(x, V.mul(V.normal(V.foldIn(V.key(5), t), [4], { dtype: 'float64' }), 0.1));
      expect(rec[t]).toBe(V.sum(V.square(x)).item());
    }
    expect(arr(loop.state().x)).toEqual(arr(x));
  });

  it('a step that reads the device back (cholesky) is not recorded: it runs call by call, saying why, with the same values', () => {
    const f = (a: V.Tensor): V.Tensor => V.sum(V.log(V.diagonal(V.cholesky(V.add(V.matmul(a, a, { transB: true }), V.eye(3))))));
    const cf = compile(f, { graphs: true });
    const a = V.tensor([[1, 0.5, 0], [0.2, 1, 0.3], [0, 0.1, 2]]);
    for (let i = 0; i < 3; i++) expect(cf(a).item()).toBe(f(a).item());
    expect(cf.stats?.graph).toMatch(/^off: the step could not be recorded \(fake device cholesky: reads the device back/);
  });

  it('SVI and trainVAE record their compiled steps with setCudaGraphs(true): the same losses as without', async () => {
    V.setCudaGraphs(true);
    try {
      const [svi, y, sigma] = eightSchoolsSVI();
      const launches = device!.launches;
      const graphs = svi.runSync(V.key(3), 40, [y, sigma], { progressBar: false });
      expect(device!.launches - launches).toBeGreaterThanOrEqual(38);
      V.setCudaGraphs(false);
      const plain = svi.runSync(V.key(3), 40, [y, sigma], { progressBar: false });
      expect(graphs.losses).toEqual(plain.losses);
      for (const [name, p] of Object.entries(plain.params)) expect(arr(graphs.params[name])).toEqual(arr(p));

      if (!hasMnist()) return;
      const data = subset(loadMnist('train'), 200);
      const vae = VAE({ xDim: 784, layers: [{ z: 4, hidden: [32] }] });
      const opt = V.adam(1e-3);
      const train = (on: boolean) => {
        V.setCudaGraphs(on);
        const params = vae.init(V.key(0));
        const loader = new MinibatchLoader(data, { batchSize: 50, key: V.key(1), binarize: 'dynamic' });
        return trainVAE(vae, { params, optState: opt.init(params), step: 0 }, loader, { steps: 6, key: V.key(2), optimizer: opt, logEvery: 1, beta: (s: number) => Math.min(1, s / 4) });
      };
      const l0 = device!.launches;
      const withGraphs = await train(true);
      expect(device!.launches - l0).toBeGreaterThanOrEqual(4);
      const without = await train(false);
      expect(withGraphs.history.map((h) => h.loss)).toEqual(without.history.map((h) => h.loss));
    } finally {
      V.setCudaGraphs(false);
    }
  });
});
