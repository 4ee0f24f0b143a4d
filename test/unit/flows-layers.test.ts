/**
 * Every flow layer: inverse ∘ forward = identity, log|det J| from the layer equals the log-determinant
 * of the autodiff Jacobian (float64, 1e-8; the spline inputs reach into the linear tails), the
 * inverse's log-determinant is minus the forward's, and parameter gradients match central differences.
 */
import { describe, expect, it } from 'vitest';
import { key, normal, tensor, type Tensor } from '../../ts/index.js';
import {
  actNorm,
  additiveCoupling,
  affineCoupling,
  iaf,
  luMixing,
  maf,
  NotInvertibleError,
  permute,
  planar,
  radial,
  splineAutoregressive,
  splineCoupling,
  householder,
  sylvester,
  bnaf,
  batchNorm,
  type FlowLayer,
} from '../../ts/flows/index.js';
import { autodiffLogDet, paramGradError, perturb } from './flows-helpers.js';

const D = 4;
// Rows reach beyond the spline bound (3): −4.5 and 3.7 sit in the linear tails.
const X = tensor(
  [
    [0.3, -1.2, 2.1, -0.4],
    [-4.5, 0.8, 3.7, 1.5],
    [1.1, 2.6, -2.9, -3.3],
  ],
  [3, D],
  'float64',
);

interface Case {
  name: string;
  layer: FlowLayer;
  invertible: boolean;
  /** Which direction carries the parameter-gradient check (the cheap one). */
  gradDir: 'forward' | 'inverse';
}

const CASES: Case[] = [
  { name: 'affineCoupling', layer: affineCoupling(D, { hidden: [6], mask: [1, 0, 1, 0] }), invertible: true, gradDir: 'forward' },
  { name: 'affineCoupling (scaleBound)', layer: affineCoupling(D, { hidden: [6], scaleBound: 2 }), invertible: true, gradDir: 'inverse' },
  { name: 'additiveCoupling', layer: additiveCoupling(D, { hidden: [6] }), invertible: true, gradDir: 'forward' },
  { name: 'permute', layer: permute(D, [2, 0, 3, 1]), invertible: true, gradDir: 'forward' },
  { name: 'maf', layer: maf(D, { hidden: [8] }), invertible: true, gradDir: 'inverse' },
  { name: 'maf (reversed order)', layer: maf(D, { hidden: [8, 8], order: [3, 2, 1, 0] }), invertible: true, gradDir: 'inverse' },
  { name: 'maf (residual MADE)', layer: maf(D, { hidden: [8], residualBlocks: 2, activation: 'tanh' }), invertible: true, gradDir: 'inverse' },
  { name: 'iaf (residual MADE)', layer: iaf(D, { hidden: [8], residualBlocks: 1, gate: 'exp' }), invertible: true, gradDir: 'forward' },
  { name: 'splineAutoregressive (residual MADE)', layer: splineAutoregressive(D, { hidden: [8], residualBlocks: 1, bins: 4, bound: 3 }), invertible: true, gradDir: 'inverse' },
  { name: 'iaf (sigmoid)', layer: iaf(D, { hidden: [8] }), invertible: false, gradDir: 'forward' },
  { name: 'iaf (exp)', layer: iaf(D, { hidden: [8], gate: 'exp' }), invertible: true, gradDir: 'forward' },
  { name: 'splineCoupling', layer: splineCoupling(D, { hidden: [6], bins: 5, bound: 3 }), invertible: true, gradDir: 'forward' },
  { name: 'splineAutoregressive', layer: splineAutoregressive(D, { hidden: [8], bins: 4, bound: 3 }), invertible: true, gradDir: 'inverse' },
  { name: 'splineAutoregressive (cheap forward)', layer: splineAutoregressive(D, { hidden: [8], bins: 4, cheap: 'forward' }), invertible: true, gradDir: 'forward' },
  { name: 'actNorm', layer: actNorm(D), invertible: true, gradDir: 'forward' },
  { name: 'luMixing', layer: luMixing(D, { seed: 3 }), invertible: true, gradDir: 'forward' },
  { name: 'planar', layer: planar(D), invertible: false, gradDir: 'forward' },
  { name: 'radial', layer: radial(D), invertible: false, gradDir: 'forward' },
  { name: 'householder', layer: householder(D, { reflections: 3 }), invertible: true, gradDir: 'forward' },
  { name: 'sylvester', layer: sylvester(D, { reflections: 3 }), invertible: false, gradDir: 'forward' },
  { name: 'batchNorm (eval mode)', layer: batchNorm(D).eval(), invertible: true, gradDir: 'forward' },
  { name: 'bnaf', layer: bnaf(D, { hidden: [3, 2] }), invertible: false, gradDir: 'forward' },
  { name: 'bnaf (no residual)', layer: bnaf(D, { hidden: [3], residual: 'none' }), invertible: false, gradDir: 'forward' },
];

const arr = (t: Tensor): number[] => Array.from(t.dataSync());

describe('flow layers (float64)', () => {
  CASES.forEach((c, ci) => {
    describe(c.name, () => {
      const p = perturb(c.layer.init(key(ci), 'float64'), ci + 1);
      const t = c.layer.bind(p);

      it('log|det J| of the forward pass equals the autodiff Jacobian log-determinant', () => {
        const [y, ladj] = t.forwardAndLadj(X);
        expect(y.shape).toEqual([3, D]);
        expect(ladj.shape).toEqual([3]);
        const ref = autodiffLogDet((u) => c.layer.bind(p).forward(u), X);
        arr(ladj).forEach((v, i) => expect(Math.abs(v - ref[i])).toBeLessThan(1e-8));
      });

      if (c.invertible) {
        it('inverse ∘ forward = identity, and the inverse log-determinant is minus the forward one', () => {
          const [y, ladj] = t.forwardAndLadj(X);
          const [x2, ladjInv] = t.inverseAndLadj(y);
          arr(x2).forEach((v, i) => expect(Math.abs(v - arr(X)[i])).toBeLessThan(1e-8));
          arr(ladjInv).forEach((v, i) => expect(Math.abs(v + arr(ladj)[i])).toBeLessThan(1e-8));
          const ref = autodiffLogDet((u) => c.layer.bind(p).inverse(u), y);
          arr(ladjInv).forEach((v, i) => expect(Math.abs(v - ref[i])).toBeLessThan(1e-8));
        });
      } else {
        it('inverse throws a NotInvertibleError naming the layer and the cheap direction', () => {
          expect(() => t.inverse(X)).toThrow(NotInvertibleError);
          expect(() => t.inverse(X)).toThrow(new RegExp(`${c.layer.name}.*forward`));
        });
      }

      it('parameter gradients match central differences', () => {
        const err = paramGradError((q) => c.layer.bind(q), p, X, c.gradDir);
        expect(err).toBeLessThan(1e-6);
      });
    });
  });

  it('a spline coupling on wide inputs (most in the tails) keeps the exact log-determinant', () => {
    const z = normal(key(3), [2, D], { dtype: 'float64', scale: 3 });
    const l = splineCoupling(D, { hidden: [5], mask: [0, 1, 1, 0] });
    const p = perturb(l.init(key(1), 'float64'), 9);
    const [, ladj] = l.bind(p).forwardAndLadj(z);
    const ref = autodiffLogDet((u) => l.bind(p).forward(u), z);
    arr(ladj).forEach((v, i) => expect(Math.abs(v - ref[i])).toBeLessThan(1e-8));
  });
});

describe('flow layer errors name the layer, the argument and the shapes', () => {
  it('a wrong input width', () => {
    const l = maf(3, { hidden: [4] });
    expect(() => l.bind(l.init(key(0), 'float64')).forward(X)).toThrow(/maf: input of shape \[3, 4\] must end in 3 features/);
  });
  it('a context for an unconditional layer, none for a conditional one, and a wrong width', () => {
    const u = affineCoupling(D);
    expect(() => u.bind(u.init(key(0), 'float64'), tensor([[1]], [1, 1], 'float64'))).toThrow(/affineCoupling: got a context of shape \[1, 1\]/);
    const c = splineCoupling(D, { contextFeatures: 2 });
    const p = c.init(key(0), 'float64');
    expect(() => c.bind(p)).toThrow(/splineCoupling: the layer is conditional/);
    expect(() => c.bind(p, tensor([[1, 2, 3]], [1, 3], 'float64'))).toThrow(/splineCoupling: context of shape \[1, 3\] must end in 2 features/);
  });
  it("an LU mixing whose U diagonal underflows to zero is refused on inverse", () => {
    const l = luMixing(D);
    const p = l.init(key(0), 'float64');
    const bad = { ...p, logDiag: tensor([0, -800, 0, 0], [4], 'float64') };
    expect(() => l.bind(bad).inverse(X)).toThrow(/luMixing: U's diagonal entry 1/);
  });
  it('bad options', () => {
    expect(() => permute(3, [0, 0, 1])).toThrow(/permute: perm must be a permutation of 0..2/);
    expect(() => iaf(3, { gate: 'tanh' as 'exp' })).toThrow(/iaf: gate/);
    expect(() => maf(0)).toThrow(/maf: features/);
    expect(() => affineCoupling(4, { scaleBound: -1 })).toThrow(/affineCoupling: scaleBound/);
    expect(() => bnaf(4, { hidden: [] })).toThrow(/bnaf: hidden/);
  });
});
