/**
 * toDevice / toHost on the stand-in GPU of test/backend/fake-device.ts (the js kernels over opaque
 * storage, registered as 'cuda' when no real one is): copies both ways, pytrees, gradients that
 * flow back across the copy, the default device, and the errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  add,
  BackendError,
  compile,
  getBackend,
  listBackends,
  mul,
  onesLike,
  setBackend,
  square,
  sum,
  tensor,
  toDevice,
  toHost,
  valueAndGrad,
  zerosLike,
  ValueError,
  type Device,
  type Tensor,
} from '../../ts/index.js';
import { installFakeDevice } from '../backend/fake-device.js';

const realGpu = listBackends().available.includes('cuda');

describe('toDevice without a GPU backend', () => {
  it.skipIf(realGpu)("names the device and why it is missing", () => {
    expect(() => toDevice(tensor([1, 2]), 'cuda')).toThrow(BackendError);
    expect(() => toDevice(tensor([1, 2]), 'cuda')).toThrow(/toDevice: device 'cuda' is not available/);
  });
});

describe('toDevice / toHost', () => {
  let fake: ReturnType<typeof installFakeDevice> = null;
  let prev = 'js';
  beforeAll(() => {
    fake = installFakeDevice();
    // These tests start from host tensors (npm run test:fake-device makes 'cuda' the active backend).
    prev = getBackend();
    if (prev === 'cuda') setBackend(listBackends().available.includes('cpu') ? 'cpu' : 'js');
  });
  afterAll(() => setBackend(prev));
  const onGpu = (t: Tensor): boolean => t.device === 'cuda';

  it('copies a tensor to the device and back with the same values; a tensor already there is returned as is', () => {
    const x = tensor([[1.5, -2], [3, 4e-300]]);
    expect(x.device).toBe('cpu');
    const d = toDevice(x, 'cuda');
    expect(onGpu(d)).toBe(true);
    expect(d.shape).toEqual([2, 2]);
    expect(d.dtype).toBe('float64');
    expect(toDevice(d, 'cuda')).toBe(d);
    const h = toHost(d);
    expect(h.device).toBe('cpu');
    expect(Array.from(h.dataSync())).toEqual([1.5, -2, 3, 4e-300]);
    expect(toHost(x)).toBe(x);
    const f = toDevice(tensor([1, 2, 3], [3], 'float32'), 'cuda');
    expect(f.dtype).toBe('float32');
  });

  it('moves every tensor leaf of a pytree, keeping its structure and other leaves', () => {
    const tree = { w: tensor([1, 2]), layers: [{ b: tensor([3]) }, { b: tensor([4]) }], steps: 7 };
    const d = toDevice(tree, 'cuda');
    expect(onGpu(d.w) && onGpu(d.layers[0].b) && onGpu(d.layers[1].b)).toBe(true);
    expect(d.steps).toBe(7);
    const h = toHost(d);
    expect(Array.from(h.layers[1].b.dataSync())).toEqual([4]);
    expect(h.w.device).toBe('cpu');
  });

  it('ops run where their inputs live; mixing devices is an error that says to move them', () => {
    const a = toDevice(tensor([1, 2]), 'cuda');
    expect(onGpu(add(a, a))).toBe(true);
    expect(() => add(a, tensor([1, 2]))).toThrow(/add: inputs live on different devices \(cuda and cpu\); move them with toDevice first/);
  });

  it('gradients flow back across the copy, arriving on the source device', () => {
    const w = tensor([0.5, -1, 2]);
    const [v, g] = valueAndGrad((p: Tensor) => sum(mul(square(toDevice(p, 'cuda')), 3)))(w);
    expect(onGpu(v)).toBe(true);
    expect(g.device).toBe('cpu');
    expect(Array.from(g.dataSync())).toEqual([3, -6, 12]);
    const wd = toDevice(w, 'cuda');
    const [, gd] = valueAndGrad((p: Tensor) => sum(square(toHost(p))))(wd);
    expect(onGpu(gd)).toBe(true);
    expect(Array.from(toHost(gd).dataSync())).toEqual([1, -2, 4]);
    // onesLike (the backward pass's seed) and zerosLike stay on their tensor's device.
    const d = toDevice(tensor([1, 2]), 'cuda');
    expect(onGpu(onesLike(d)) && onGpu(zerosLike(d))).toBe(true);
  });

  it('defaults to the active backend’s device', () => {
    const prev = getBackend();
    setBackend('cuda');
    try {
      expect(onGpu(toDevice(tensor([1])))).toBe(true);
    } finally {
      setBackend(prev);
    }
    expect(toDevice(tensor([1])).device).toBe('cpu');
  });

  it('bad input: an unknown device, and a move inside a compiled function', () => {
    expect(() => toDevice(tensor([1]), 'tpu' as Device)).toThrow(ValueError);
    expect(() => toDevice(tensor([1]), 'tpu' as Device)).toThrow(/toDevice: device must be one of cpu, cuda, got tpu/);
    const f = compile((x: Tensor) => sum(toDevice(x, 'cuda')));
    expect(() => f(tensor([1, 2]))).toThrow(/toDevice: a compiled function cannot move a tensor \(shape \[2\]\) from cpu to cuda; move its inputs before calling it/);
  });

  it.skipIf(realGpu)('a copy to the device is one upload; a tensor already there costs nothing', () => {
    const before = fake?.allocs ?? 0;
    const d = toDevice(tensor([1, 2, 3]), 'cuda');
    expect((fake?.allocs ?? NaN) - before).toBe(1);
    toDevice(d, 'cuda');
    expect((fake?.allocs ?? NaN) - before).toBe(1);
  });
});
