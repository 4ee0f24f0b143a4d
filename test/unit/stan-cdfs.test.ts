/**
 * The Stan front end's `_cdf`/`_lcdf`/`_lccdf` and truncation `T[L, U]` (ts/stan/cdfs.ts) against
 * SciPy's logcdf and logsf (frozen by scripts/golden/stan_cdfs.py), and their gradients against
 * finite differences.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../ts/backends/registry.js';
import { valueAndGrad } from '../../ts/core/autodiff.js';
import type { Tensor } from '../../ts/core/tensor.js';
import { scalar, tensor } from '../../ts/ops/creation.js';
import { StanUnsupportedError } from '../../ts/stan/errors.js';
import { fromStan } from '../../ts/stan/model.js';

interface Case {
  dist: string;
  args: number[];
  lcdf: number;
  lccdf: number;
  lpdf: number;
}
const { cases, truncnorm } = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'stan', 'cdfs.json'), 'utf8')) as {
  cases: Case[];
  truncnorm: { y: number[]; sigma: number; lo: number; hi: number; mu: number[]; logpdf: number[] };
};

/** A program whose generated quantities are the three cdf functions of `c`, the arguments as data. */
function program(c: Case): string {
  const th = c.args.slice(1).map((_, i) => `th[${i + 1}]`);
  const rhs = th.length > 0 ? `y | ${th.join(', ')}` : 'y';
  return `data { real y; int K; array[K] real th; }
parameters { real x; }
model { x ~ std_normal(); }
generated quantities {
  real lc = ${c.dist}_lcdf(${rhs});
  real lcc = ${c.dist}_lccdf(${rhs});
  real cdf = ${c.dist}_cdf(${rhs});
}`;
}

describe('Stan cdfs against SciPy', () => {
  for (const c of cases)
    it(`${c.dist}(${c.args.join(', ')})`, () => {
      const m = fromStan(program(c), { y: c.args[0], K: c.args.length - 1, th: c.args.slice(1) });
      const g = m.generate({ x: scalar(0) });
      const num = (v: unknown): number => (typeof v === 'number' ? v : (v as Tensor).item());
      expect(Math.abs(num(g.lc) - c.lcdf)).toBeLessThan(1e-9 * Math.max(1, Math.abs(c.lcdf)));
      expect(Math.abs(num(g.lcc) - c.lccdf)).toBeLessThan(1e-9 * Math.max(1, Math.abs(c.lccdf)));
      expect(Math.abs(num(g.cdf) - Math.exp(c.lcdf))).toBeLessThan(1e-10);
    });

  it('gradients of student_t_lccdf and gamma_lcdf in every argument match finite differences', () => {
    const code = `
parameters { real y; real<lower=0> nu; real mu; real<lower=0> s; real<lower=0> a; }
model { target += student_t_lccdf(y | nu, mu, s) + gamma_lcdf(exp(y) | a, s); }`;
    const m = fromStan(code, {});
    const u = [0.4, Math.log(3.5), -0.2, Math.log(1.3), Math.log(2.2)];
    const f = (v: number[]): number => m.logDensityUnconstrained(tensor(v)).item();
    const [, g] = valueAndGrad((x: Tensor) => m.logDensityUnconstrained(x))(tensor(u));
    const gs = Array.from(g.dataSync());
    u.forEach((_, i) => {
      const h = 1e-5;
      const up = u.slice();
      const dn = u.slice();
      up[i] += h;
      dn[i] -= h;
      const fd = (f(up) - f(dn)) / (2 * h);
      expect(Math.abs(gs[i] - fd)).toBeLessThan(2e-6 * Math.max(1, Math.abs(fd)));
    });
  });

  it('truncation T[L, U] normalizes the density as scipy.stats.truncnorm does', () => {
    const t = truncnorm;
    const code = `
data { int N; vector[N] y; }
parameters { real mu; }
model { for (n in 1:N) y[n] ~ normal(mu, ${t.sigma}) T[${t.lo}, ${t.hi}]; }`;
    const m = fromStan(code, { N: t.y.length, y: t.y });
    // The difference between two values of mu cancels the constants that \`~\` drops.
    const d = m.logDensityUnconstrained(tensor([t.mu[0]])).item() - m.logDensityUnconstrained(tensor([t.mu[1]])).item();
    expect(d).toBeCloseTo(t.logpdf[0] - t.logpdf[1], 9);
    // A value outside the bounds is impossible.
    const out = fromStan(code, { N: 1, y: [3] });
    expect(out.logDensityUnconstrained(tensor([0.3])).item()).toBe(-Infinity);
  });

  it('a cdf the front end lacks is named', () => {
    expect(() => fromStan('parameters { real x; } model { target += poisson_lcdf(3 | exp(x)); }', {}).logDensityUnconstrained(tensor([0]))).toThrow(StanUnsupportedError);
  });
});
