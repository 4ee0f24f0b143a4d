import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  Bernoulli,
  Beta,
  Binomial,
  Categorical,
  Cauchy,
  Chi2,
  Dirichlet,
  Distribution,
  Exponential,
  Gamma,
  Geometric,
  Gumbel,
  HalfCauchy,
  HalfNormal,
  Independent,
  InverseGamma,
  Laplace,
  LogNormal,
  Logistic,
  LowRankMultivariateNormal,
  MixtureSameFamily,
  Multinomial,
  MultivariateNormal,
  NegativeBinomial,
  Normal,
  Poisson,
  StudentT,
  Uniform,
  ValueError,
  ShapeError,
  Delta,
  kl,
  key,
  tensor,
  mean,
  sum,
  square,
  sub,
  mul,
  valueAndGrad,
  exp,
  type Tensor,
} from '../../ts/index.js';
import { gammaSampleGrad, igamma } from '../../ts/backends/js/igamma.js';
import { lgamma } from '../../ts/backends/js/special.js';

interface Case {
  name: string;
  params: (number | number[] | number[][])[];
  x: (number | number[])[];
  logProb: (number | null)[];
  mean: number | number[] | null;
  variance: number | number[] | null;
  entropy: number | null;
  cdf?: (number | null)[];
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/distributions.json', import.meta.url), 'utf8')) as {
  cases: Case[];
  igamma: { a: number; x: number; P: number; dPda: number }[];
};

type P = number & number[] & number[][];
const MAKE: Record<string, (p: P[]) => Distribution> = {
  Normal: ([l, s]) => new Normal(l, s),
  Laplace: ([l, s]) => new Laplace(l, s),
  Logistic: ([l, s]) => new Logistic(l, s),
  Gumbel: ([l, s]) => new Gumbel(l, s),
  Cauchy: ([l, s]) => new Cauchy(l, s),
  LogNormal: ([l, s]) => new LogNormal(l, s),
  HalfNormal: ([s]) => new HalfNormal(s),
  HalfCauchy: ([s]) => new HalfCauchy(s),
  Exponential: ([r]) => new Exponential(r),
  Uniform: ([a, b]) => new Uniform(a, b),
  Gamma: ([a, b]) => new Gamma(a, b),
  InverseGamma: ([a, b]) => new InverseGamma(a, b),
  Chi2: ([d]) => new Chi2(d),
  Beta: ([a, b]) => new Beta(a, b),
  StudentT: ([d, l, s]) => new StudentT(d, l, s),
  Bernoulli: ([p]) => new Bernoulli({ probs: p }),
  Geometric: ([p]) => new Geometric({ probs: p }),
  Binomial: ([n, p]) => new Binomial(n, { probs: p }),
  NegativeBinomial: ([r, p]) => new NegativeBinomial(r, { probs: p }),
  Poisson: ([r]) => new Poisson(r),
  Categorical: ([p]) => new Categorical({ probs: tensor(p) }),
  Dirichlet: ([a]) => new Dirichlet(tensor(a)),
  MultivariateNormal: ([m, c]) => new MultivariateNormal(tensor(m), { covariance: tensor(c) }),
  Multinomial: ([n, p]) => new Multinomial(n, { probs: tensor(p) }),
};

const flat = (t: Tensor): number[] => Array.from(t.dataSync());
function close(got: number, want: number | null, rel = 1e-9, what = ''): void {
  if (want === null) return;
  expect(Math.abs(got - want), `${what}: got ${got}, want ${want}`).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(want)));
}

describe('densities and moments against SciPy (test/fixtures/distributions.json)', () => {
  it('covers every constructor in the table', () => {
    for (const c of fixture.cases) expect(MAKE[c.name], c.name).toBeDefined();
  });
  for (const c of fixture.cases) {
    it(`${c.name}(${JSON.stringify(c.params)})`, () => {
      const d = MAKE[c.name](c.params as P[]);
      const lp = flat(d.logProb(tensor(c.x as number[])));
      lp.forEach((v, i) => close(v, c.logProb[i], 1e-9, `logProb(${JSON.stringify(c.x[i])})`));
      if (c.mean !== null && c.name !== 'Cauchy') flat(d.mean).forEach((v, i) => close(v, ([] as number[]).concat(c.mean as number[])[i], 1e-9, 'mean'));
      if (c.variance !== null) flat(d.variance).forEach((v, i) => close(v, ([] as number[]).concat(c.variance as number[])[i], 1e-9, 'variance'));
      if (c.entropy !== null && !['Poisson', 'Binomial', 'NegativeBinomial', 'Geometric', 'Multinomial'].includes(c.name))
        close(flat(d.entropy())[0], c.entropy, 1e-9, 'entropy');
      if (c.cdf) {
        const cdf = (d as Normal | Gamma).cdf(tensor(c.x as number[]));
        flat(cdf).forEach((v, i) => close(v, c.cdf![i], 1e-9, 'cdf'));
      }
    });
  }
});

describe('draws', () => {
  const N = 200_000;
  // Mean within 5 standard errors; variance within 5 standard errors of the sample variance (from the 4th moment).
  function checkMoments(d: Distribution, k: number, draws?: Tensor): void {
    const x = flat(draws ?? d.sample(key(k), [N]));
    const m = x.reduce((a, b) => a + b, 0) / N;
    const v = x.reduce((a, b) => a + (b - m) ** 2, 0) / N;
    const m4 = x.reduce((a, b) => a + (b - m) ** 4, 0) / N;
    const wantM = flat(d.mean)[0];
    const wantV = flat(d.variance)[0];
    expect(Math.abs(m - wantM), `${d.name} mean ${m} vs ${wantM}`).toBeLessThan(5 * Math.sqrt(wantV / N));
    expect(Math.abs(v - wantV), `${d.name} variance ${v} vs ${wantV}`).toBeLessThan(5 * Math.sqrt((m4 - v * v) / N));
  }
  it('match the moments of each distribution', () => {
    const ds: Distribution[] = [
      new Normal(1, 2),
      new LogNormal(0.2, 0.4),
      new Laplace(-1, 0.5),
      new Logistic(0.5, 1.5),
      new Gumbel(1, 2),
      new HalfNormal(1.5),
      new Exponential(2.5),
      new Uniform(-1, 3),
      new Gamma(0.4, 2),
      new Gamma(7, 0.5),
      new InverseGamma(6, 2),
      new Beta(0.6, 2.5),
      new StudentT(8, 1, 2),
      new Poisson(3.3),
      new Bernoulli({ probs: 0.3 }),
      new Geometric({ probs: 0.4 }),
      new Binomial(9, { probs: 0.35 }),
      new NegativeBinomial(4, { probs: 0.3 }),
    ];
    ds.forEach((d, i) => checkMoments(d, 100 + i));
  });
  it('MultivariateNormal and LowRankMultivariateNormal reproduce their covariance', () => {
    const cov = [[2.0, 0.6], [0.6, 1.0]];
    const mvn = new MultivariateNormal(tensor([1, -1]), { covariance: tensor(cov) });
    const lr = new LowRankMultivariateNormal(tensor([1, -1]), tensor([[1.2], [0.5]]), tensor([0.56, 0.75]));
    for (const d of [mvn, lr]) {
      const x = d.sample(key(7), [N]).toArray() as number[][];
      const c = [0, 0, 0];
      for (const [a, b] of x) {
        c[0] += (a - 1) ** 2;
        c[1] += (a - 1) * (b + 1);
        c[2] += (b + 1) ** 2;
      }
      const got = c.map((v) => v / N);
      const want = [cov[0][0], cov[0][1], cov[1][1]];
      got.forEach((g, i) => expect(Math.abs(g - want[i])).toBeLessThan(0.03));
    }
    // The low-rank covariance W Wᵀ + D equals `cov`, so the densities agree.
    close(flat(lr.logProb(tensor([0.3, 0.2])))[0], flat(mvn.logProb(tensor([0.3, 0.2])))[0], 1e-12, 'low-rank logProb');
    close(flat(lr.entropy())[0], flat(mvn.entropy())[0], 1e-12, 'low-rank entropy');
  });
  it('Dirichlet draws lie on the simplex with the right mean', () => {
    const d = new Dirichlet(tensor([0.5, 1.5, 3]));
    const x = d.sample(key(3), [50_000]);
    flat(sum(x, -1)).forEach((s) => expect(Math.abs(s - 1)).toBeLessThan(1e-12));
    const m = flat(mean(x, 0));
    [0.1, 0.3, 0.6].forEach((w, i) => expect(Math.abs(m[i] - w)).toBeLessThan(0.01));
  });
  it('Categorical frequencies follow the probabilities', () => {
    const x = flat(new Categorical({ probs: tensor([0.2, 0.5, 0.3]) }).sample(key(5), [N]));
    const f = [0, 0, 0];
    for (const v of x) f[v]++;
    [0.2, 0.5, 0.3].forEach((p, i) => expect(Math.abs(f[i] / N - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / N)));
  });
});

describe('gradients of expectations', () => {
  it('reparameterized Gaussian: ∇ E[z²] = (2μ, 2σ)', () => {
    const f = (p: { mu: Tensor; sigma: Tensor }): Tensor => mean(square(new Normal(p.mu, p.sigma).rsample(key(11), [400_000])));
    const [, g] = valueAndGrad(f)({ mu: tensor(0.7), sigma: tensor(1.3) });
    expect(Math.abs(g.mu.item() - 1.4)).toBeLessThan(0.02);
    expect(Math.abs(g.sigma.item() - 2.6)).toBeLessThan(0.02);
  });
  it('implicit gamma gradient: ∂P/∂a against finite differences of SciPy’s gammainc', () => {
    for (const { a, x, P, dPda } of fixture.igamma) {
      close(igamma(a, x), P, 1e-12, `P(${a}, ${x})`);
      const dx = gammaSampleGrad(a, x);
      const density = Math.exp((a - 1) * Math.log(x) - x - lgamma(a));
      // SciPy's central difference carries ~1e-9 relative error, hence 1e-6.
      close(-dx * density, dPda, 1e-6, `dP/da(${a}, ${x})`);
    }
  });
  it('Gamma and Beta rsample gradients match the analytic gradient of their means', () => {
    // E[x] = a/b for Gamma(a, b): d/da = 1/b, d/db = −a/b².
    const fg = (p: { a: Tensor; b: Tensor }): Tensor => mean(new Gamma(p.a, p.b).rsample(key(21), [200_000]));
    const [, gg] = valueAndGrad(fg)({ a: tensor(2.5), b: tensor(1.5) });
    expect(Math.abs(gg.a.item() - 1 / 1.5)).toBeLessThan(0.01);
    expect(Math.abs(gg.b.item() + 2.5 / 1.5 ** 2)).toBeLessThan(0.02);
    // E[x] = a/(a+b) for Beta: d/da = b/(a+b)².
    const fb = (p: { a: Tensor; b: Tensor }): Tensor => mean(new Beta(p.a, p.b).rsample(key(22), [200_000]));
    const [, gb] = valueAndGrad(fb)({ a: tensor(2), b: tensor(3) });
    expect(Math.abs(gb.a.item() - 3 / 25)).toBeLessThan(0.005);
    expect(Math.abs(gb.b.item() + 2 / 25)).toBeLessThan(0.005);
  });
});

describe('KL closed forms against Monte Carlo', () => {
  const pairs: [Distribution, Distribution][] = [
    [new Normal(0.3, 1.2), new Normal(-0.5, 0.8)],
    [new LogNormal(0.1, 0.5), new LogNormal(0.4, 0.9)],
    [new Laplace(0.2, 1), new Laplace(1, 2)],
    [new Exponential(1.5), new Exponential(0.7)],
    [new Gamma(2.5, 1.2), new Gamma(1.5, 0.6)],
    [new Beta(2, 3), new Beta(1.2, 0.9)],
    [new Dirichlet(tensor([1.5, 2, 0.8])), new Dirichlet(tensor([1, 1, 1]))],
    [new MultivariateNormal(tensor([0.2, -0.3]), { covariance: tensor([[1.5, 0.4], [0.4, 0.7]]) }), new MultivariateNormal(tensor([0, 0]), { covariance: tensor([[1, -0.2], [-0.2, 2]]) })],
    [new Independent(new Normal(tensor([0.1, 0.5]), tensor([1, 2])), 1), new Independent(new Normal(tensor([0, 0]), tensor([1.5, 1])), 1)],
    [new Poisson(3.5), new Poisson(2)],
    [new Bernoulli({ probs: 0.3 }), new Bernoulli({ probs: 0.6 })],
    [new Categorical({ probs: tensor([0.2, 0.5, 0.3]) }), new Categorical({ probs: tensor([0.4, 0.4, 0.2]) })],
  ];
  for (const [p, q] of pairs) {
    it(`${p.name} ‖ ${q.name}`, () => {
      const n = 400_000;
      const x = p.sample(key(31), [n]);
      const r = flat(sub(p.logProb(x), q.logProb(x)));
      const m = r.reduce((a, b) => a + b, 0) / n;
      const sd = Math.sqrt(r.reduce((a, b) => a + (b - m) ** 2, 0) / n);
      const exact = flat(kl(p, q))[0];
      expect(Math.abs(exact - m), `closed form ${exact} vs MC ${m} ± ${sd / Math.sqrt(n)}`).toBeLessThan(5 * (sd / Math.sqrt(n)) + 1e-12);
    });
  }
  it('a pair without a closed form is a clear error', () => {
    expect(() => kl(new Normal(0, 1), new Cauchy(0, 1))).toThrow(/no closed form is registered for KL\(Normal ‖ Cauchy\)/);
  });
});

describe('validation', () => {
  it('names the distribution, the parameter and the value', () => {
    expect(() => new Normal(0, -1)).toThrow(ValueError);
    expect(() => new Normal(0, tensor([1, -2]))).toThrow(/Normal: parameter scale must be positive, got -2/);
    expect(() => new Gamma(0, 1)).toThrow(/Gamma: parameter concentration must be positive, got 0/);
    expect(() => new MultivariateNormal(tensor([0, 0]), { covariance: tensor([[1, 2], [2, 1]]) })).toThrow(/covariance must be positiveDefinite/);
  });
  it('rejects values outside the support, or gives −∞ with validation off', () => {
    expect(() => new Exponential(1).logProb(-1)).toThrow(/Exponential.logProb: value -1 is outside the support nonnegative/);
    expect(new Exponential(1, { validateArgs: false }).logProb(-1).item()).toBe(-Infinity);
    expect(() => new Poisson(2).logProb(1.5)).toThrow(/outside the support/);
  });
  it('checks value shapes', () => {
    expect(() => new MultivariateNormal(tensor([0, 0]), { scaleTril: tensor([[1, 0], [0, 1]]) }).logProb(tensor([1, 2, 3]))).toThrow(ShapeError);
    expect(() => new Normal(tensor([0, 0]), 1).logProb(tensor([1, 2, 3]))).toThrow(/does not broadcast with the batch shape \[2\]/);
  });
});

describe('shapes and structure', () => {
  it('sample and logProb shapes follow sampleShape + batchShape + eventShape', () => {
    const d = new Normal(tensor([0, 1, 2]), 1);
    expect(d.sample(key(1), [4, 2]).shape).toEqual([4, 2, 3]);
    expect(d.logProb(d.sample(key(1), [5])).shape).toEqual([5, 3]);
    const ind = d.toEvent(1);
    expect(ind.batchShape).toEqual([]);
    expect(ind.eventShape).toEqual([3]);
    expect(ind.logProb(tensor([0, 1, 2])).shape).toEqual([]);
    expect(d.expand([2, 3]).batchShape).toEqual([2, 3]);
  });
  it('MixtureSameFamily density and moments', () => {
    const mix = new MixtureSameFamily(new Categorical({ probs: tensor([0.3, 0.7]) }), new Normal(tensor([-1, 2]), tensor([0.5, 1])));
    const x = 0.4;
    const want = Math.log(0.3 * Math.exp(new Normal(-1, 0.5).logProb(x).item()) + 0.7 * Math.exp(new Normal(2, 1).logProb(x).item()));
    close(mix.logProb(x).item(), want, 1e-12, 'mixture logProb');
    close(mix.mean.item(), 0.3 * -1 + 0.7 * 2, 1e-12, 'mixture mean');
    const s = flat(mix.sample(key(9), [100_000]));
    const m = s.reduce((a, b) => a + b, 0) / s.length;
    expect(Math.abs(m - 1.1)).toBeLessThan(0.02);
  });
  it('Delta passes gradients to its value', () => {
    const [, g] = valueAndGrad((p: { v: Tensor }) => sum(mul(new Delta(p.v).rsample(key(0)), exp(tensor([0, 1])))))({ v: tensor([1, 2]) });
    expect(flat(g.v)).toEqual([1, Math.E]);
  });
});

describe('TransformedDistribution', () => {
  it('exp of a normal is the log-normal', async () => {
    const { TransformedDistribution, ExpTransform, AffineTransform, StickBreakingTransform } = await import('../../ts/index.js');
    const t = new TransformedDistribution(new Normal(0.3, 0.7), [new ExpTransform()]);
    const ln = new LogNormal(0.3, 0.7);
    for (const x of [0.2, 1, 3.5]) close(t.logProb(x).item(), ln.logProb(x).item(), 1e-12, `logProb(${x})`);
    const aff = new TransformedDistribution(new Normal(0, 1), [new AffineTransform(2, 3)]);
    close(aff.logProb(1.1).item(), new Normal(2, 3).logProb(1.1).item(), 1e-12, 'affine');
    // Stick-breaking of a standard normal in R² is a density on the 3-simplex that integrates consistently.
    const sb = new TransformedDistribution(new Normal(tensor([0, 0]), 1).toEvent(1), [new StickBreakingTransform()]);
    expect(sb.eventShape).toEqual([3]);
    const y = sb.sample(key(4), [5]);
    expect(y.shape).toEqual([5, 3]);
    expect(sb.logProb(y).shape).toEqual([5]);
  });
});
