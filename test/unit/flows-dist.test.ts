/**
 * Flow distributions: a draw's log-density from the sampling pass equals the one from the inverse
 * pass, IAF scores its own draws from the cache (and only those), a 1-D spline flow's density
 * integrates to 1, conditional flows follow their context's batch shape, and FlowTransforms work
 * inside TransformedDistribution.
 */
import { describe, expect, it } from 'vitest';
import { key, Normal, tensor, TransformedDistribution, linspace, reshape, exp, type Tensor } from '../../ts/index.js';
import { conditionalAffine, Flow, iaf, maf, NotInvertibleError, permute, planar, splineAutoregressive, splineCoupling, affineCoupling, FlowDistribution } from '../../ts/flows/index.js';
import { autodiffLogDet, perturb } from './flows-helpers.js';

const arr = (t: Tensor): number[] => Array.from(t.dataSync());
const close = (a: number[], b: number[], tol: number): void => a.forEach((v, i) => expect(Math.abs(v - b[i]), `entry ${i}: ${v} vs ${b[i]}`).toBeLessThan(tol));

describe('FlowDistribution', () => {
  it('the sampling pass and the inverse pass give the same log-density (MAF, splines, RealNVP)', () => {
    const f = new Flow([maf(3, { hidden: [8] }), permute(3), splineCoupling(3, { hidden: [8] }), affineCoupling(3, { hidden: [8] }), splineAutoregressive(3, { hidden: [8] })]);
    const p = perturb(f.init(key(0), 'float64'), 5, 0.2);
    const [x, lq] = f.apply(p).rsampleWithLogProb(key(1), [6]);
    expect(x.shape).toEqual([6, 3]);
    expect(lq.shape).toEqual([6]);
    // A fresh distribution has no cache: logProb inverts every layer.
    close(arr(f.apply(p).logProb(x)), arr(lq), 1e-9);
  });

  it('IAF scores its own draws from the cache; other values raise NotInvertibleError', () => {
    const f = new Flow([iaf(3, { hidden: [8] }), permute(3), iaf(3, { hidden: [8] }), planar(3)]);
    const q = f.apply(perturb(f.init(key(0), 'float64'), 2));
    const x = q.rsample(key(3), [4]);
    expect(q.logProb(x).shape).toEqual([4]);
    expect(() => q.logProb(tensor([[0, 0, 0]]))).toThrow(NotInvertibleError);
    expect(() => q.logProb(tensor([[0, 0, 0]]))).toThrow(/planar.*forward/);
  });

  it('a 1-D autoregressive spline flow has a density that integrates to 1 (tails included)', () => {
    const f = new Flow([splineAutoregressive(1, { hidden: [4], bins: 6, bound: 2 }), splineAutoregressive(1, { hidden: [4], bins: 6, bound: 2 })]);
    const q = f.apply(perturb(f.init(key(4), 'float64'), 7, 0.8));
    const n = 20001;
    const grid = reshape(linspace(-12, 12, n, 'float64'), [n, 1]);
    const dens = arr(exp(q.logProb(grid)));
    const h = 24 / (n - 1);
    const integral = h * (dens.reduce((a, b) => a + b, 0) - 0.5 * (dens[0] + dens[n - 1]));
    // The trapezoid rule loses O(h²) at each knot, where the density has kinks.
    expect(Math.abs(integral - 1)).toBeLessThan(1e-4);
  });

  it('a conditional flow takes its batch shape from the context and its density depends on it', () => {
    const f = new Flow([splineCoupling(2, { hidden: [8], contextFeatures: 3 }), permute(2), affineCoupling(2, { hidden: [8], contextFeatures: 3 }), maf(2, { hidden: [8], contextFeatures: 3 })]);
    expect(f.contextFeatures).toBe(3);
    const p = perturb(f.init(key(0), 'float64'), 3);
    const ctx = tensor([[0, 1, 2], [1, -1, 0.5]], [2, 3], 'float64');
    const q = f.apply(p, ctx);
    expect(q.batchShape).toEqual([2]);
    const [x, lq] = q.rsampleWithLogProb(key(1), [5]);
    expect(x.shape).toEqual([5, 2, 2]);
    close(arr(f.apply(p, ctx).logProb(x)), arr(lq), 1e-9);
    // The same point under two contexts has two densities.
    const pt = tensor([[0.3, -0.2], [0.3, -0.2]], [2, 2], 'float64');
    const [a, b] = arr(f.apply(p, ctx).logProb(pt));
    expect(Math.abs(a - b)).toBeGreaterThan(1e-3);
    expect(() => f.apply(p)).toThrow(/conditional/);
    expect(() => f.apply(p, tensor([[1, 2]], [1, 2], 'float64'))).toThrow(/context of shape \[1, 2\] must end in 3/);
  });

  it('a VAE-style encoder (conditionalAffine then IAF, all fed the context) scores its draws; its log-determinant matches autodiff', () => {
    const f = new Flow([conditionalAffine(3, { contextFeatures: 2, hidden: [5] }), iaf(3, { hidden: [6], contextFeatures: 2 }), permute(3), maf(3, { hidden: [6], contextFeatures: 2 })]);
    const p = perturb(f.init(key(0), 'float64'), 6);
    const ctx = tensor([[0.5, -1], [2, 0.3]], [2, 2], 'float64');
    const q = f.apply(p, ctx);
    const [z, lq] = q.rsampleWithLogProb(key(1));
    expect(z.shape).toEqual([2, 3]);
    expect(q.logProb(z)).toBe(lq);
    // The conditional affine layer alone: its log|det J| against the autodiff Jacobian, and its inverse.
    const [t] = f.transforms(p, ctx);
    const x = tensor([[0.1, -0.7, 1.9], [-2.2, 0.4, 0.8]], [2, 3], 'float64');
    const [y, ladj] = t.forwardAndLadj(x);
    close(arr(ladj), autodiffLogDet((u) => f.transforms(p, ctx)[0].forward(u), x), 1e-10);
    close(arr(t.inverse(y)), arr(x), 1e-12);
    // With invertible layers only (the affine layer and MAF), the same point has two densities under the two contexts.
    const g = new Flow([conditionalAffine(3, { contextFeatures: 2, hidden: [5] }), maf(3, { hidden: [6], contextFeatures: 2 })]);
    const pg = perturb(g.init(key(0), 'float64'), 8);
    const [l0, l1] = arr(g.apply(pg, ctx).logProb(tensor([[0.2, 0.1, -0.3], [0.2, 0.1, -0.3]], [2, 3], 'float64')));
    expect(Math.abs(l0 - l1)).toBeGreaterThan(1e-3);
  });

  it('expand broadcasts the batch (as plates ask) and keeps scoring draws', () => {
    const f = new Flow([iaf(2, { hidden: [4] })]);
    const q = f.apply(f.init(key(0), 'float64')).expand([3]);
    expect(q).toBeInstanceOf(FlowDistribution);
    const [x, lq] = q.rsampleWithLogProb(key(1), [2]);
    expect(x.shape).toEqual([2, 3, 2]);
    expect(lq.shape).toEqual([2, 3]);
  });

  it('a FlowTransform inside TransformedDistribution scores by inverse with the cached log-determinant', () => {
    const f = new Flow([maf(2, { hidden: [6] })]);
    const p = perturb(f.init(key(0), 'float64'), 1);
    const [t] = f.transforms(p);
    const td = new TransformedDistribution(new Normal(tensor([0, 0]), tensor([1, 1])).toEvent(1), [t]);
    const x = tensor([[0.5, -1], [2, 0.1]], [2, 2], 'float64');
    close(arr(td.logProb(x)), arr(f.apply(p).logProb(x)), 1e-10);
  });

  it('TransformedDistribution scores its own IAF draws without inverting (and refuses other values)', () => {
    const f = new Flow([iaf(2, { hidden: [6] }), permute(2), iaf(2, { hidden: [6] })]);
    const p = perturb(f.init(key(0), 'float64'), 4);
    const td = new TransformedDistribution(new Normal(tensor([0, 0]), tensor([1, 1])).toEvent(1), f.transforms(p));
    const x = td.rsample(key(2), [5]);
    // The same draws and densities as the flow distribution with the same transforms and key.
    const [x2, lq] = f.apply(p).rsampleWithLogProb(key(2), [5]);
    close(arr(x), arr(x2), 1e-12);
    close(arr(td.logProb(x)), arr(lq), 1e-10);
    expect(() => td.logProb(tensor([[0.1, 0.2]], [1, 2], 'float64'))).toThrow(NotInvertibleError);
  });

  it('bad layer stacks raise errors naming the layer', () => {
    expect(() => new Flow([maf(2), maf(3)])).toThrow(/layer 1 \(maf\) has 3 features/);
    expect(() => affineCoupling(3, { mask: [1, 1, 1] })).toThrow(/affineCoupling: mask/);
    expect(() => splineCoupling(2, { bins: 1 })).toThrow(/splineCoupling: bins/);
  });
});
