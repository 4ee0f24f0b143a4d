/**
 * FFJORD: a linear ODE dz/dt = A·z has log|det| = T·tr(A) exactly; the exact-trace log-determinant
 * of an MLP field matches the autodiff Jacobian of the solve; inverse ∘ forward = identity;
 * Hutchinson's estimate is unbiased; parameter gradients through the solver match central
 * differences; a step budget that runs out, a wrong context and bad options raise VarinfErrors;
 * and the layer trains in fitFlow and scores in a Flow.
 */
import { describe, expect, it } from 'vitest';
import { key, matmul, normal, sum, tensor, VarinfError, type Tensor } from '../../ts/index.js';
import { concatSquashField, ffjord, fitFlow, Flow, flowNLL, type VectorField } from '../../ts/flows/index.js';
import { OdeStepError } from '../../ts/ode/dopri5.js';
import { autodiffLogDet, moons, paramGradError, perturb } from './flows-helpers.js';

const arr = (t: Tensor): number[] => Array.from(t.dataSync());

/** dz/dt = A·z, its VJP vᵀA. */
function linearField(a: number[]): VectorField<{ A: Tensor }> {
  const d = Math.round(Math.sqrt(a.length));
  return {
    features: d,
    contextFeatures: 0,
    init: () => ({ A: tensor(a, [d, d], 'float64') }),
    eval: (p, z) => ({ f: matmul(z, p.A, { transB: true }), vjp: (v) => matmul(v, p.A) }),
  };
}

const A3 = [0.2, -0.5, 0.1, 0.7, -0.3, 0.25, -0.1, 0.4, 0.45];
const TR_A3 = 0.2 - 0.3 + 0.45;
const X = tensor([0.3, -1.2, 2.1, -0.4, 0.8, 1.7, 1.1, 0.6, -0.9], [3, 3], 'float64');

describe('ffjord on a linear ODE (closed form)', () => {
  it('log|det| = T·tr(A) with the exact trace, in both directions, and the round trip is the identity', () => {
    const T = 1.3;
    const l = ffjord(3, { field: linearField(A3), T, rtol: 1e-11, atol: 1e-11 }).eval();
    const t = l.bind(l.init(key(0), 'float64'));
    const [y, ladj] = t.forwardAndLadj(X);
    arr(ladj).forEach((v) => expect(Math.abs(v - T * TR_A3)).toBeLessThan(1e-10));
    const [x2, li] = t.inverseAndLadj(y);
    arr(li).forEach((v) => expect(Math.abs(v + T * TR_A3)).toBeLessThan(1e-10));
    arr(x2).forEach((v, i) => expect(Math.abs(v - arr(X)[i])).toBeLessThan(1e-8));
  });

  it("Hutchinson's estimate (Rademacher and Gaussian) is unbiased: the mean over 4000 probes is within 4 standard errors of T·tr(A)", () => {
    for (const noise of ['rademacher', 'gaussian'] as const) {
      const l = ffjord(3, { field: linearField(A3), noise, rtol: 1e-8, atol: 1e-8, key: key(noise === 'gaussian' ? 2 : 1) });
      const t = l.bind(l.init(key(0), 'float64'));
      // One row per probe: every row of a solve draws its own probe vector.
      const x = normal(key(3), [4000, 3], { dtype: 'float64' });
      const est = arr(t.forwardAndLadj(x)[1]);
      const m = est.reduce((a, b) => a + b, 0) / est.length;
      const sd = Math.sqrt(est.reduce((a, b) => a + (b - m) ** 2, 0) / (est.length - 1));
      expect(sd).toBeGreaterThan(0.05); // the estimate is noisy per probe, so the test can fail
      expect(Math.abs(m - TR_A3)).toBeLessThan((4 * sd) / Math.sqrt(est.length));
    }
  });
});

describe('ffjord with an MLP field (float64)', () => {
  const D = 2;
  const XS = tensor([0.3, -1.2, -1.5, 0.8, 1.1, 0.6], [3, D], 'float64');
  const layer = ffjord(D, { hidden: [6, 6], rtol: 1e-12, atol: 1e-12, maxSteps: 5000 }).eval();
  const p = perturb(layer.init(key(4), 'float64'), 5, 0.5);

  it('the exact-trace log-determinant matches the autodiff Jacobian of the solve (1e-7: the solver tolerance, not rounding, dominates)', () => {
    const [y, ladj] = layer.bind(p).forwardAndLadj(XS);
    expect(y.shape).toEqual([3, D]);
    const ref = autodiffLogDet((u) => layer.bind(p).forward(u), XS);
    arr(ladj).forEach((v, i) => expect(Math.abs(v - ref[i])).toBeLessThan(1e-7));
    // The flow moved the points: the check is not on the identity map.
    expect(Math.max(...arr(ladj).map(Math.abs))).toBeGreaterThan(0.05);
  });

  it('inverse ∘ forward = identity and the inverse log-determinant is minus the forward one (1e-8)', () => {
    const t = layer.bind(p);
    const [y, ladj] = t.forwardAndLadj(XS);
    const [x2, li] = t.inverseAndLadj(y);
    arr(x2).forEach((v, i) => expect(Math.abs(v - arr(XS)[i])).toBeLessThan(1e-8));
    arr(li).forEach((v, i) => expect(Math.abs(v + arr(ladj)[i])).toBeLessThan(1e-8));
  });

  it("Hutchinson's estimate at a point of the MLP field: mean over 3000 probes within 4 standard errors of the exact log-determinant", () => {
    const exact = arr(layer.bind(p).forwardAndLadj(XS)[1])[0];
    const h = ffjord(D, { hidden: [6, 6], rtol: 1e-9, atol: 1e-9, key: key(11) });
    const x = tensor(Array.from({ length: 3000 }, () => [0.3, -1.2]).flat(), [3000, D], 'float64');
    const est = arr(h.bind(p).forwardAndLadj(x)[1]);
    const m = est.reduce((a, b) => a + b, 0) / est.length;
    const sd = Math.sqrt(est.reduce((a, b) => a + (b - m) ** 2, 0) / (est.length - 1));
    expect(sd).toBeGreaterThan(1e-3);
    expect(Math.abs(m - exact)).toBeLessThan((4 * sd) / Math.sqrt(est.length) + 1e-6);
  });

  it('parameter gradients through fixed-step RK4 match central differences (1e-6)', () => {
    const rk = ffjord(D, { hidden: [4], solver: 'rk4', steps: 8 }).eval();
    const q = perturb(rk.init(key(6), 'float64'), 7, 0.5);
    expect(paramGradError((r) => rk.bind(r), q, XS, 'inverse')).toBeLessThan(1e-6);
  });

  it('parameter gradients through adaptive dopri5 match central differences (1e-5 at rtol = atol = 1e-12: step sizes move with the parameters, which autodiff treats as constants)', () => {
    const ad = ffjord(D, { hidden: [3], rtol: 1e-12, atol: 1e-12, maxSteps: 5000 }).eval();
    const q = perturb(ad.init(key(6), 'float64'), 7, 0.5);
    expect(paramGradError((r) => ad.bind(r), q, tensor([0.3, -1.2, -1.5, 0.8], [2, D], 'float64'), 'forward')).toBeLessThan(1e-5);
  });

  it('a conditional field: the context changes the map, and a context of the wrong shape is refused', () => {
    const c = ffjord(D, { hidden: [6], contextFeatures: 3 }).eval();
    const q = perturb(c.init(key(8), 'float64'), 9, 0.5);
    const c1 = tensor([1, 0, -1], [1, 3], 'float64');
    const c2 = tensor([-1, 2, 0.5], [1, 3], 'float64');
    const y1 = arr(c.bind(q, c1).forward(XS));
    const y2 = arr(c.bind(q, c2).forward(XS));
    expect(Math.max(...y1.map((v, i) => Math.abs(v - y2[i])))).toBeGreaterThan(1e-3);
    expect(() => c.bind(q, tensor([1, 2], [1, 2], 'float64'))).toThrow(/ffjord: context of shape \[1, 2\] must end in 3 features/);
    expect(() => c.bind(q)).toThrow(/ffjord: the layer is conditional/);
    expect(() => c.bind(q, tensor([1, 2, 3, 4, 5, 6], [2, 3], 'float64')).forward(XS)).toThrow(/does not broadcast|broadcast/);
  });
});

describe('ffjord errors', () => {
  it('a step budget that runs out raises an OdeStepError (a VarinfError) naming the layer, t and the step size', () => {
    const l = ffjord(3, { field: linearField(A3.map((v) => 40 * v)), rtol: 1e-10, atol: 1e-10, maxSteps: 5 }).eval();
    const t = l.bind(l.init(key(0), 'float64'));
    expect(() => t.forward(X)).toThrow(OdeStepError);
    expect(() => t.forward(X)).toThrow(VarinfError);
    expect(() => t.forward(X)).toThrow(/ffjord: the ODE \(forward, t from 0 to 1\) did not converge within its step budget of 5 steps: stopped at t = 0\.\d+, step size \d/);
    expect(() => t.inverse(X)).toThrow(/ffjord: the ODE \(inverse, t from 1 to 0\) did not converge .* stopped at t = 0\.\d+/);
  });
  it('bad options', () => {
    expect(() => ffjord(2, { T: 0 })).toThrow(/ffjord: T must be positive/);
    expect(() => ffjord(2, { solver: 'euler' as 'rk4' })).toThrow(/ffjord: solver/);
    expect(() => ffjord(2, { maxSteps: 0 })).toThrow(/ffjord: maxSteps/);
    expect(() => ffjord(2, { trainTrace: 'skilling' as 'exact' })).toThrow(/ffjord: trainTrace/);
    expect(() => ffjord(3, { field: concatSquashField(2) })).toThrow(/ffjord: the field has 2 features, the layer 3/);
    expect(() => concatSquashField(2, { activation: 'relu' as 'tanh' })).toThrow(/concatSquashField: activation must be one of/);
  });
});

describe('ffjord in a Flow and in fitFlow', () => {
  it('fitFlow trains an FFJORD flow on moons (eagerly: adaptive steps read the error on the host) and leaves it in eval mode', () => {
    const data = moons(320, 3);
    const layer = ffjord(2, { hidden: [16, 16], rtol: 1e-4, atol: 1e-4 });
    const f = new Flow([layer]);
    const p0 = f.init(key(0), 'float64');
    const before = flowNLL(f.eval(), p0, data);
    const r = fitFlow(f, data, { batchSize: 64, epochs: 4, lr: 1e-2, validation: 0.25, key: key(1) });
    expect(r.compiled).toBe(false);
    expect(layer.training).toBe(false);
    expect(flowNLL(f, r.params, data)).toBeLessThan(before - 0.2);
    expect(Number.isFinite(sum(f.apply(r.params).logProb(data)).item())).toBe(true);
  });

  it('with RK4 and the exact trace the step compiles', () => {
    const data = moons(256, 4);
    const f = new Flow([ffjord(2, { hidden: [4], solver: 'rk4', steps: 2, trainTrace: 'exact' })]);
    const r = fitFlow(f, data, { batchSize: 64, epochs: 1, validation: 0.25 });
    expect(r.compiled).toBe(true);
    expect(Number.isFinite(r.bestValLoss)).toBe(true);
  });
});
