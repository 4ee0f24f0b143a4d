/** L-BFGS (ts/optim/lbfgs.ts): the minimizer `fit` uses for the MAP and the sample-average ELBO. */
import { describe, expect, it } from 'vitest';
import { lbfgs, lbfgsSteps, type ValueGrad } from '../../ts/optim/lbfgs.js';

/** Rosenbrock's valley, minimum 0 at (1, 1): curved and badly conditioned. */
const rosenbrock: ValueGrad = (x) => ({
  f: 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2,
  g: Float64Array.of(-400 * x[0] * (x[1] - x[0] ** 2) - 2 * (1 - x[0]), 200 * (x[1] - x[0] ** 2)),
});

describe('lbfgs', () => {
  it("finds Rosenbrock's minimum from (−1.2, 1)", () => {
    const r = lbfgs(rosenbrock, Float64Array.of(-1.2, 1), { maxIter: 500, gtol: 1e-9 });
    expect(r.x[0]).toBeCloseTo(1, 5);
    expect(r.x[1]).toBeCloseTo(1, 5);
    expect(r.f).toBeLessThan(1e-10);
  });

  it('the generator form yields once per iteration and ends at the same point', () => {
    const gen = lbfgsSteps(rosenbrock, Float64Array.of(-1.2, 1), { maxIter: 500, gtol: 1e-9 });
    let yields = 0;
    let r = gen.next();
    while (!r.done) {
      yields++;
      r = gen.next();
    }
    const direct = lbfgs(rosenbrock, Float64Array.of(-1.2, 1), { maxIter: 500, gtol: 1e-9 });
    expect(Array.from(r.value.x)).toEqual(Array.from(direct.x));
    expect(yields).toBeGreaterThan(10);
    expect(yields).toBeLessThanOrEqual(r.value.iterations);
  });
});
