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

  it('the generator form yields once per evaluation of f (inside the line search too) and ends at the same point', () => {
    let evals = 0;
    const counted = (x: Float64Array): ReturnType<typeof rosenbrock> => {
      evals++;
      return rosenbrock(x);
    };
    const gen = lbfgsSteps(counted, Float64Array.of(-1.2, 1), { maxIter: 500, gtol: 1e-9 });
    let yields = 0;
    let r = gen.next();
    while (!r.done) {
      yields++;
      r = gen.next();
    }
    const direct = lbfgs(rosenbrock, Float64Array.of(-1.2, 1), { maxIter: 500, gtol: 1e-9 });
    expect(Array.from(r.value.x)).toEqual(Array.from(direct.x));
    expect(yields).toBe(evals);
    // Rosenbrock's line searches backtrack: more evaluations (and yields) than iterations.
    expect(yields).toBeGreaterThan(r.value.iterations);
  });
});
