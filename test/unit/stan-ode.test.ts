/**
 * Stan's ODE solvers in the front end (ts/stan/ode.ts): solutions and their gradients against
 * closed forms (exponential decay, a rotation), the gradient against finite differences, both call
 * styles (`ode_rk45` and the older `integrate_ode_rk45`), and the errors. Agreement with Stan's
 * own solver on the Lotka–Volterra posterior is in stan-golden.test.ts (frozen PyStan values).
 */
import { describe, expect, it } from 'vitest';
import '../../ts/backends/registry.js';
import { valueAndGrad } from '../../ts/core/autodiff.js';
import type { Tensor } from '../../ts/core/tensor.js';
import { scalar, tensor } from '../../ts/ops/creation.js';
import { StanRuntimeError, StanSemanticError, StanUnsupportedError } from '../../ts/stan/errors.js';
import { fromStan } from '../../ts/stan/model.js';
import { dopri5 } from '../../ts/stan/ode.js';

const TS = [0.5, 1, 2, 3.5];

const DECAY = `
functions {
  vector decay(real t, vector y, real k, vector c) { return -k * (y - c); }
}
data { int T; array[T] real ts; vector[2] c; }
parameters { real<lower=0> k; vector[2] y0; }
transformed parameters { array[T] vector[2] y = ode_rk45_tol(decay, y0, 0.0, ts, 1e-10, 1e-10, 100000, k, c); }
model { k ~ normal(1, 1); y0 ~ normal(0, 1); for (i in 1:T) y[i] ~ normal(0.5, 0.3); }
`;

/** The decay model's log density in closed form: y(t) = c + (y0 − c)·exp(−k t). */
function decayLp(lk: number, a: number, b: number, c: [number, number]): number {
  const k = Math.exp(lk);
  let s = -0.5 * (k - 1) ** 2 - 0.5 * a * a - 0.5 * b * b + lk;
  for (const t of TS) for (const [y0, ci] of [[a, c[0]], [b, c[1]]]) s += -0.5 * ((ci + (y0 - ci) * Math.exp(-k * t) - 0.5) / 0.3) ** 2;
  return s;
}

describe('Stan ODE solvers', () => {
  it('ode_rk45_tol: value and gradient of a decay against the closed form', () => {
    const c: [number, number] = [0.2, -0.1];
    const m = fromStan(DECAY, { T: TS.length, ts: TS, c });
    const u = [Math.log(0.7), 1.3, -0.4];
    const [v, g] = valueAndGrad((x: Tensor) => m.logDensityUnconstrained(x))(tensor(u));
    expect(v.item()).toBeCloseTo(decayLp(u[0], u[1], u[2], c), 8);
    const h = 1e-6;
    const fd = u.map((_, i) => {
      const up = u.slice();
      const dn = u.slice();
      up[i] += h;
      dn[i] -= h;
      return (decayLp(up[0], up[1], up[2], c) - decayLp(dn[0], dn[1], dn[2], c)) / (2 * h);
    });
    const gs = Array.from(g.dataSync());
    for (let i = 0; i < 3; i++) expect(Math.abs(gs[i] - fd[i])).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd[i])));
    const y = m.generate({ k: scalar(0.7), y0: tensor([1.3, -0.4]) }).y as Tensor;
    expect(y.shape).toEqual([TS.length, 2]);
    const ys = y.dataSync();
    TS.forEach((t, i) => expect(ys[2 * i]).toBeCloseTo(0.2 + 1.1 * Math.exp(-0.7 * t), 8));
  });

  it('integrate_ode_rk45 (arrays, x_r, x_i): a rotation by ω, differentiable in ω and the start', () => {
    const code = `
functions {
  array[] real rot(real t, array[] real y, array[] real theta, array[] real x_r, array[] int x_i) {
    return { theta[1] * y[2] * x_r[1], -theta[1] * y[1] * x_i[1] };
  }
}
data { array[3] real ts; }
parameters { real w; array[2] real y0; }
transformed parameters { array[3, 2] real y = integrate_ode_rk45(rot, y0, 0, ts, {w}, {1.0}, {1}, 1e-10, 1e-10, 1e5); }
model { target += y[3, 1]; }
`;
    const m = fromStan(code, { ts: [0.3, 1.1, 2.0] });
    const f = (u: number[]): number => u[1] * Math.cos(u[0] * 2) + u[2] * Math.sin(u[0] * 2);
    const u = [0.8, 0.6, -1.2];
    const [v, g] = valueAndGrad((x: Tensor) => m.logDensityUnconstrained(x))(tensor(u));
    expect(v.item()).toBeCloseTo(f(u), 8);
    const gs = Array.from(g.dataSync());
    const exact = [-2 * u[1] * Math.sin(2 * u[0]) + 2 * u[2] * Math.cos(2 * u[0]), Math.cos(2 * u[0]), Math.sin(2 * u[0])];
    for (let i = 0; i < 3; i++) expect(gs[i]).toBeCloseTo(exact[i], 7);
  });

  it('dopri5 meets its tolerance and takes few steps on a smooth problem', () => {
    let calls = 0;
    const g = (_t: number, x: Float64Array): Float64Array => {
      calls++;
      return Float64Array.of(x[1], -x[0]);
    };
    const out = dopri5(g, Float64Array.of(1, 0), 0, [1, 5, 10], 1e-6, 1e-6, 1e6);
    [1, 5, 10].forEach((t, i) => {
      expect(Math.abs(out[i][0] - Math.cos(t))).toBeLessThan(1e-4);
      expect(Math.abs(out[i][1] + Math.sin(t))).toBeLessThan(1e-4);
    });
    expect(calls).toBeLessThan(1000);
  });

  it('errors name the solver and the problem', () => {
    const base = (call: string): string => `
functions { vector f(real t, vector y) { return -y; } }
data { array[2] real ts; }
parameters { vector[1] y0; }
transformed parameters { array[2] vector[1] y = ${call}; }
model { y0 ~ normal(0, 1); }
`;
    const u = tensor([0.5]);
    const at = (call: string, ts = [1, 2]): unknown => {
      try {
        fromStan(base(call), { ts }).logDensityUnconstrained(u);
        return null;
      } catch (e) {
        return e;
      }
    };
    expect(at('ode_rk45(g, y0, 0, ts)')).toBeInstanceOf(StanSemanticError);
    const order = at('ode_rk45(f, y0, 0, ts)', [2, 1]);
    expect(order).toBeInstanceOf(StanRuntimeError);
    expect((order as Error).message).toMatch(/increasing.*time 2 is 1/);
    const steps = at('ode_rk45_tol(f, y0, 0, ts, 1e-12, 1e-12, 3)');
    expect(steps).toBeInstanceOf(StanRuntimeError);
    expect((steps as Error).message).toMatch(/3 steps \(max_num_steps\)/);
    expect(at('ode_rk45(f, y0, y0[1], ts)')).toBeInstanceOf(StanUnsupportedError);
  });

  it('a right-hand side that repeats a product (SIR) solves the same with a parameter among its arguments as with data', () => {
    // theta[3] * y[2] appears in dydt[2] and dydt[3]: the compiled right-hand side (used when
    // theta holds a parameter) once merged the two products though one had been moved past a
    // reshape, and returned dydt[3] = dydt[4] = 0 (sir-sir disagreed with Stan by 60,000 nats).
    const code = (theta: string): string => `
functions {
  array[] real sir(real t, array[] real y, array[] real theta, array[] real x_r, array[] int x_i) {
    array[4] real dydt;
    dydt[1] = -theta[1] * y[4] / (y[4] + theta[2]) * y[1];
    dydt[2] = theta[1] * y[4] / (y[4] + theta[2]) * y[1] - theta[3] * y[2];
    dydt[3] = theta[3] * y[2];
    dydt[4] = theta[4] * y[2] - theta[5] * y[4];
    return dydt;
  }
}
transformed data { array[0] real x_r; array[0] int x_i; }
parameters { real mu; }
model { mu ~ normal(0, 1); }
generated quantities {
  array[2, 4] real y = integrate_ode_rk45(sir, {10.0, 1.0, 0.0, 10.0}, 0.0, {0.5, 1.0}, ${theta}, x_r, x_i);
}`;
    const solve = (theta: string): Float64Array => {
      const out = fromStan(code(theta), {}).generate({ mu: scalar(1) }, 1);
      return (out.y as Tensor).dataSync() as Float64Array;
    };
    const withParam = solve('{mu, 2.0, 3.0, 4.0, 5.0}');
    const withData = solve('{1.0, 2.0, 3.0, 4.0, 5.0}');
    // SciPy's solve_ivp (rtol = atol = 1e-10) at t = 0.5 and 1.
    const ref = [7.20523581, 1.52493785, 2.26982633, 1.97385499, 5.8820511, 0.97742943, 4.14051947, 1.00062261];
    for (let i = 0; i < 8; i++) {
      expect(withParam[i]).toBeCloseTo(ref[i], 5);
      expect(withData[i]).toBeCloseTo(ref[i], 5);
    }
  });
});
