/**
 * Every gradient rule against float64 central differences. For each case the objective is
 * sum(op(x) · w) with a fixed random weight w (so every output element matters); the analytic
 * gradient from valueAndGrad must match (f(x + h) − f(x − h)) / 2h, h = 1e-6 · max(1, |x|), with
 * max |g − fd| / max(1, ‖fd‖∞) below the case's tolerance (1e-6 unless the case says why not).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '../../ts/core/tensor.js';
import { GRADS } from '../../ts/grads/index.js';
import { KERNELS, KERNEL_NAMES } from '../../ts/kernels/spec.js';
import { backendByName } from '../../ts/backends/registry.js';
import * as V from '../../ts/index.js';
import { CASES } from './cases.js';
import { checkGradCase, DEFAULT_TOL } from './check.js';

/** The default backend, plus every other cpu-device backend registered (js, and cpu if built). */
const defaultBackend = V.getBackend();
const BACKENDS = [...new Set([defaultBackend, ...V.listBackends().available.filter((n) => backendByName(n).device === 'cpu')])];

describe('gradient coverage', () => {
  const differentiable = KERNEL_NAMES.filter((n) => KERNELS[n].differentiable);

  it('every differentiable kernel has a rule', () => {
    const missing = differentiable.filter((n) => GRADS[n] === undefined);
    expect(missing).toEqual([]);
  });

  it('every differentiable kernel has a gradient case', () => {
    const covered = new Set(CASES.map((c) => c.kernel));
    const missing = differentiable.filter((n) => !covered.has(n));
    expect(missing).toEqual([]);
  });

  it('no rule is registered for a kernel the spec marks non-differentiable', () => {
    const extra = Object.keys(GRADS).filter((n) => !(n in KERNELS) || !KERNELS[n as keyof typeof KERNELS].differentiable);
    expect(extra).toEqual([]);
  });
});

describe.each(BACKENDS)('gradients match central differences on %s', (backend) => {
  beforeAll(() => {
    V.setBackend(backend);
    return () => V.setBackend(defaultBackend);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = checkGradCase(c);
    expect(r.recorded, `${c.kernel} was not recorded on the tape`).toBe(true);
    expect(r.err, r.worst).toBeLessThan(c.tol ?? DEFAULT_TOL);
  });
});

/** Where the derivative is not classical, the documented choice (tested on the default backend). */
describe('gradients at ties, zeros and infinities', () => {
  const g1 = (f: (x: Tensor) => Tensor, x: number[]): number[] => Array.from(V.grad((t: Tensor) => V.sum(f(t)))(V.tensor(x)).dataSync());

  it('max and min split the cotangent evenly among tied elements', () => {
    expect(g1((x) => V.max(x), [1, 3, 3, 2])).toEqual([0, 0.5, 0.5, 0]);
    expect(g1((x) => V.min(x), [1, 1, 1, 2])).toEqual([1 / 3, 1 / 3, 1 / 3, 0]);
  });

  it('maximum and minimum give each side half of dy on a tie', () => {
    const g = V.grad((p: Tensor[]) => V.sum(V.maximum(p[0], p[1])))([V.tensor([1, 2, 3]), V.tensor([1, 5, 0])]);
    expect(Array.from(g[0].dataSync())).toEqual([0.5, 0, 1]);
    expect(Array.from(g[1].dataSync())).toEqual([0.5, 1, 0]);
  });

  it('prod is exact with one or more zeros', () => {
    expect(g1((x) => V.prod(x), [2, 0, 3])).toEqual([0, 6, 0]);
    expect(g1((x) => V.prod(x), [2, 0, 0])).toEqual([0, 0, 0]);
  });

  it('pow: the base gradient at a = 0 is finite for integer b ≥ 1, the exponent gradient is 0 for a ≤ 0', () => {
    const g = V.grad((p: Tensor[]) => V.sum(V.pow(p[0], p[1])))([V.tensor([0, 0, -2]), V.tensor([1, 2, 3])]);
    expect(Array.from(g[0].dataSync())).toEqual([1, 0, 12]);
    expect(Array.from(g[1].dataSync())).toEqual([0, 0, 0]);
  });

  it('logsumexp of a slice of −∞ gives a zero gradient, not NaN', () => {
    expect(g1((x) => V.logsumexp(V.reshape(x, [2, 2]), 1), [-Infinity, -Infinity, 0, 0])).toEqual([0, 0, 0.5, 0.5]);
  });

  it('relu and abs at 0, clamp at its bounds', () => {
    expect(g1(V.relu, [0, 1, -1])).toEqual([0, 1, 0]);
    expect(g1(V.abs, [0, 2, -2])).toEqual([0, 1, -1]);
    expect(g1((x) => V.clamp(x, 0, 1), [0, 1, 2, -1])).toEqual([1, 1, 0, 0]);
  });
});
