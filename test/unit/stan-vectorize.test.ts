/** Vectorized loops give the log density and gradient of the element-by-element loop. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import '../../ts/backends/registry.js';
import { valueAndGrad } from '../../ts/core/autodiff.js';
import type { Tensor } from '../../ts/core/tensor.js';
import { tensor } from '../../ts/ops/creation.js';
import { setVectorizeLoops } from '../../ts/stan/interpreter.js';
import { fromStan } from '../../ts/stan/model.js';

const FIX = join(__dirname, '..', 'fixtures');

function both(code: string, data: Record<string, unknown>): { vec: number[]; scalar: number[] } {
  const m = fromStan(code, data);
  const vg = valueAndGrad((u: Tensor) => m.logDensityUnconstrained(u));
  const u = tensor(Float64Array.from({ length: m.unconstrainedDim }, (_, i) => 0.3 * Math.sin(i + 1)));
  const run = (on: boolean): number[] => {
    setVectorizeLoops(on);
    const [v, g] = vg(u);
    return [v.item(), ...Array.from(g.dataSync())];
  };
  return { vec: run(true), scalar: run(false) };
}

describe('loop vectorization', () => {
  afterEach(() => setVectorizeLoops(true));

  for (const name of ['low_dim_gauss_mix-low_dim_gauss_mix', 'garch-garch11', 'eight_schools-eight_schools_noncentered']) {
    it(`${name}: vectorized = element by element`, () => {
      const code = readFileSync(join(FIX, 'stan', `${name}.stan`), 'utf8');
      const data = JSON.parse(readFileSync(join(FIX, 'posteriordb', name, 'data.json'), 'utf8')) as Record<string, unknown>;
      const { vec, scalar } = both(code, data);
      vec.forEach((x, i) => expect(Math.abs(x - scalar[i])).toBeLessThan(1e-10 * Math.max(1, Math.abs(scalar[i]))));
    });
  }

  it('gathers, local scalars, element writes read back, nested loops and fallbacks', () => {
    const code = `data { int N; int K; array[N] int g; vector[N] y; }
      parameters { vector[K] a; real<lower=0> s; }
      model {
        vector[N] m;
        vector[N] r;
        for (n in 1:N) { real t = a[g[n]] * 2; m[n] = t + log1p(s); y[n] ~ normal(m[n], s); }
        for (n in 1:N) { if (y[n] > 0) target += -s; }
        r[1] = 0;
        for (n in 2:N) r[n] = r[n - 1] + a[g[n]];
        for (n in 1:N) for (k in 1:K) target += normal_lpdf(a[k] | r[n], 10);
        for (n in 1:N) target += log_sum_exp(a[g[n]], s) + log_mix(0.3, m[n], -s);
        matrix[N, K] P;
        for (n in 1:N) for (k in 1:K) { P[n, k] = a[k] * y[n]; target += P[n, k]; }
        target += sum(P);
      }`;
    const { vec, scalar } = both(code, { N: 5, K: 3, g: [1, 3, 2, 3, 1], y: [0.5, -1, 2, 0.1, -0.4] });
    vec.forEach((x, i) => expect(Math.abs(x - scalar[i])).toBeLessThan(1e-10 * Math.max(1, Math.abs(scalar[i]))));
  });

  it("an HMM's forward pass (inner loop over j reading gamma[t - 1, j] of a sequential outer loop over t)", () => {
    // The shape of posteriordb's bball_drive HMM: the inner loop vectorizes and reads one row of
    // gamma, picked by the outer index, instead of the whole array.
    const code = `data { int K; int N; array[N] real u; }
      parameters { simplex[K] th1; simplex[K] th2; positive_ordered[K] phi; }
      model {
        array[K] simplex[K] theta;
        theta[1] = th1;
        theta[2] = th2;
        array[K] real acc;
        array[N, K] real gamma;
        for (k in 1:K) gamma[1, k] = exponential_lpdf(u[1] | phi[k]);
        for (t in 2:N) {
          for (k in 1:K) {
            for (j in 1:K) acc[j] = gamma[t - 1, j] + log(theta[j, k]) + exponential_lpdf(u[t] | phi[k]);
            gamma[t, k] = log_sum_exp(acc);
          }
        }
        target += log_sum_exp(gamma[N]);
      }`;
    const { vec, scalar } = both(code, { K: 2, N: 7, u: [0.3, 1.2, 0.1, 2.5, 0.7, 0.05, 1.9] });
    vec.forEach((x, i) => expect(Math.abs(x - scalar[i])).toBeLessThan(1e-10 * Math.max(1, Math.abs(scalar[i]))));
  });
});
