import { describe, expect, it } from 'vitest';
import '../../ts/backends/registry.js';
import { tensor } from '../../ts/ops/creation.js';
import { logDensity } from '../../ts/ppl/logdensity.js';
import { StanDataError, StanRuntimeError, StanSemanticError, StanUnsupportedError } from '../../ts/stan/errors.js';
import { fromStan } from '../../ts/stan/model.js';

const LOG_2PI = Math.log(2 * Math.PI);
const y = [0.3, -1.2, 2.5];

describe('fromStan', () => {
  it('drops constants with ~ and keeps them with target +=', () => {
    const tilde = fromStan('data { int N; vector[N] y; real<lower=0> s; } parameters { real mu; } model { y ~ normal(mu, s); }', { N: 3, y, s: 2 });
    const plus = fromStan('data { int N; vector[N] y; real<lower=0> s; } parameters { real mu; } model { target += normal_lpdf(y | mu, s); }', { N: 3, y, s: 2 });
    const mu = 0.7;
    const quad = y.reduce((a, v) => a - 0.5 * ((v - mu) / 2) ** 2, 0);
    expect(tilde.logDensityUnconstrained(tensor([mu])).item()).toBeCloseTo(quad, 12);
    expect(plus.logDensityUnconstrained(tensor([mu])).item()).toBeCloseTo(quad - 3 * Math.log(2) - 1.5 * LOG_2PI, 12);
    expect(tilde.parameters).toEqual([{ name: 'mu', block: 'parameters', type: 'real', shape: [], constraint: 'real' }]);
  });

  it("applies Stan's transforms with their Jacobians, bounds depending on parameters included", () => {
    const m = fromStan('parameters { real<lower=0> a; real<lower=0, upper=a> b; } model { a ~ exponential(1); }', {});
    expect(m.sites).toEqual(['a', 'b__unconstrained']);
    const [ua, ub] = [0.4, -0.3];
    const a = Math.exp(ua);
    const s = 1 / (1 + Math.exp(-ub));
    // exponential(1) drops nothing that depends on a; Jacobians: ua, log a + log s + log(1 − s).
    const want = -a + ua + Math.log(a) + Math.log(s) + Math.log(1 - s);
    expect(m.logDensityUnconstrained(tensor([ua, ub])).item()).toBeCloseTo(want, 12);
  });

  it('a loop that fills a vector element by element equals the vectorized statement', () => {
    const data = { N: 3, y };
    const loop = fromStan(
      `data { int N; array[N] real y; } parameters { real mu; real<lower=0> sigma; }
       model { vector[N] m; for (n in 1:N) m[n] = mu + n; for (n in 1:N) y[n] ~ normal(m[n], sigma); }`,
      data,
    );
    const vec = fromStan(
      `data { int N; array[N] real y; } transformed data { vector[N] k = linspaced_vector(N, 1, N); }
       parameters { real mu; real<lower=0> sigma; } model { y ~ normal(mu + k, sigma); }`,
      data,
    );
    const u = tensor([0.2, -0.4]);
    expect(loop.logDensityUnconstrained(u).item()).toBeCloseTo(vec.logDensityUnconstrained(u).item(), 12);
  });

  it('records transformed parameters and runs generated quantities', () => {
    const m = fromStan(
      `data { int N; } parameters { vector[N] z; } transformed parameters { vector[N] e = exp(z); }
       model { z ~ std_normal(); } generated quantities { array[N] real d = normal_rng(z, 1); int k = N %/% 2; }`,
      { N: 2 },
    );
    expect(m.transformedParameters.map((v) => [v.name, v.shape])).toEqual([['e', [2]]]);
    expect(m.generatedQuantities.map((v) => [v.name, v.shape])).toEqual([['d', [2]], ['k', []]]);
    const out = m.generate({ z: tensor([0, 1]) }, 3);
    expect(Array.from((out.e as import('../../ts/core/tensor.js').Tensor).dataSync())).toEqual([1, Math.E]);
    expect(out.k).toBe(1);
    const lp = logDensity(m.model, [], { z: tensor([0.5, -0.5]) }).item();
    expect(lp).toBeCloseTo(-0.25, 12);
  });

  it('checks the data against the data block', () => {
    const code = 'data { int<lower=1> N; vector<lower=0>[N] y; array[N] int k; } parameters { real mu; } model { mu ~ normal(0, 1); }';
    expect(() => fromStan(code, { y: [1], k: [1] })).toThrow(StanDataError);
    expect(() => fromStan(code, { y: [1], k: [1] })).toThrow(/'N': expected a value of shape \[\], found no such variable/);
    expect(() => fromStan(code, { N: 2, y: [1], k: [1, 2] })).toThrow(/'y': expected length 2 at the top level \(shape \[2\]\), found length 1/);
    expect(() => fromStan(code, { N: 2, y: [1, -1], k: [1, 2] })).toThrow(/'y\[2\]': expected a value >= 0, found -1/);
    expect(() => fromStan(code, { N: 2, y: [1, 1], k: [1, 2.5] })).toThrow(/'k\[2\]': expected an integer, found 2.5/);
    expect(() => fromStan(code, { N: 0, y: [], k: [] })).toThrow(/'N': expected a value >= 1, found 0/);
  });

  it('reports semantic errors with line:col', () => {
    expect(() => fromStan('parameters { real mu; }\nmodel {\n  mu ~ normal(nu, 1);\n}', {}).logDensityUnconstrained(tensor([0]))).toThrow(
      new StanSemanticError({ line: 3, col: 15 }, "variable 'nu' is not declared"),
    );
    expect(() => fromStan('data { real x; } transformed data { real z; x = 2; }', { x: 1 })).toThrow(/1:45: cannot assign to 'x': it is declared in the data block/);
    expect(() => fromStan('parameters { real mu; } model { mu ~ nomal(0, 1); }', {}).logDensityUnconstrained(tensor([0]))).toThrow(/1:38: unknown distribution 'nomal'/);
    expect(() => fromStan('parameters { real mu; } model { target += fob(mu); }', {}).logDensityUnconstrained(tensor([0]))).toThrow(/1:43: unknown function 'fob'/);
    expect(() => fromStan('parameters { vector[2] v; } model { target += v * v; }', {}).logDensityUnconstrained(tensor([0, 0]))).toThrow(/operator \* does not take \(vector, vector\)/);
    expect(() => fromStan('parameters { real mu; } model { reject("bad mu ", mu); }', {}).logDensityUnconstrained(tensor([1]))).toThrow(StanRuntimeError);
  });

  it('says exactly what is not supported yet', () => {
    expect(() => fromStan('parameters {\n  cholesky_factor_cov[3] x;\n}', {})).toThrow(new StanUnsupportedError({ line: 2, col: 3 }, 'parameter type cholesky_factor_cov'));
    expect(() => fromStan('parameters { real x; } model { x ~ poisson(3) T[0, ]; }', {}).logDensityUnconstrained(tensor([1]))).toThrow(/truncation T\[,\] needs the cdf of poisson/);
    expect(() => fromStan('parameters { real x; } model { target += poisson_lccdf(2 | exp(x)); }', {}).logDensityUnconstrained(tensor([1]))).toThrow(/not supported yet: function poisson_lccdf \(1:42\)/);
  });

  it('user-defined functions, recursion and _lpdf suffixes', () => {
    const m = fromStan(
      `functions {
         int fact(int n) { if (n <= 1) return 1; return n * fact(n - 1); }
         real my_lpdf(real x, real m) { return -0.5 * square(x - m); }
       }
       parameters { real mu; } model { mu ~ my(fact(3)); target += my_lpdf(mu | 1); }`,
      {},
    );
    expect(m.logDensityUnconstrained(tensor([2])).item()).toBeCloseTo(-0.5 * 16 - 0.5, 12);
  });
});
