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
  { name: 'iaf (sigmoid)', layer: iaf(D, { hidden: [8] }), invertible: false, gradDir: 'forward' },
  { name: 'iaf (exp)', layer: iaf(D, { hidden: [8], gate: 'exp' }), invertible: true, gradDir: 'forward' },
  { name: 'splineCoupling', layer: splineCoupling(D, { hidden: [6], bins: 5, bound: 3 }), invertible: true, gradDir: 'forward' },
  { name: 'splineAutoregressive', layer: splineAutoregressive(D, { hidden: [8], bins: 4, bound: 3 }), invertible: true, gradDir: 'inverse' },
  { name: 'splineAutoregressive (cheap forward)', layer: splineAutoregressive(D, { hidden: [8], bins: 4, cheap: 'forward' }), invertible: true, gradDir: 'forward' },
  { name: 'actNorm', layer: actNorm(D), invertible: true, gradDir: 'forward' },
  { name: 'luMixing', layer: luMixing(D, { seed: 3 }), invertible: true, gradDir: 'forward' },
  { name: 'planar', layer: planar(D), invertible: false, gradDir: 'forward' },
  { name: 'radial', layer: radial(D), invertible: false, gradDir: 'forward' },
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
