/**
 * VonMises, Wishart, LKJCholesky and the relaxed (Concrete) distributions: densities and moments
 * against SciPy/mpmath (test/fixtures/distributions2.json, from scripts/golden/distributions.py),
 * sampler moments within 5 standard errors, normalization by quadrature or Monte Carlo, and the
 * implicit and straight-through gradients.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  LKJCholesky,
  RelaxedBernoulli,
  RelaxedOneHotCategorical,
  ValueError,
  VonMises,
  Wishart,
  corrCholesky,
  kl,
  key,
  matmul,
  mean,
  mul,
  sum,
  cos,
  sub,
  tensor,
  valueAndGrad,
  type Tensor,
} from '../../ts/index.js';
import { besselI0e, besselI1e } from '../../ts/ops/bessel.js';
import { vonMisesCdf, vonMisesSampleGrad } from '../../ts/backends/js/vonmises.js';
import { i0e, i1e } from '../../ts/backends/js/bessel.js';
import { lgamma } from '../../ts/backends/js/special.js';

interface VmCase {
  loc: number;
  concentration: number;
  x: number[];
  logProb: number[];
  mean: number;
  circularVariance: number;
  entropy: number;
  centered: number[];
  cdf: number[];
  dcdf: number[];
}
interface WishartCase {
  df: number;
  scale: number[][];
  x: number[][][];
  logProb: number[];
  mean: number[][];
  variance: number[][];
  entropy: number;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/distributions2.json', import.meta.url), 'utf8')) as {
  bessel: { x: number[]; i0e: number[]; i1e: number[] };
  vonmises: VmCase[];
  wishart: WishartCase[];
};

const flat = (t: Tensor): number[] => Array.from(t.dataSync());
function close(got: number, want: number, rel: number, what: string): void {
  expect(Math.abs(got - want), `${what}: got ${got}, want ${want}`).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(want)));
}
/** Mean and standard error of a sample. */
function meanSe(xs: ArrayLike<number>): [number, number] {
  const n = xs.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += xs[i];
  m /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (xs[i] - m) ** 2;
  return [m, Math.sqrt(v / (n - 1) / n)];
}
/** Composite Simpson's rule of f on [a, b] with n (even) intervals. */
function simpson(f: (x: number) => number, a: number, b: number, n = 4000): number {
  const h = (b - a) / n;
  let s = f(a) + f(b);
  for (let i = 1; i < n; i++) s += (i % 2 === 1 ? 4 : 2) * f(a + i * h);
  return (s * h) / 3;
}

describe('scaled Bessel kernels against scipy.special.i0e / i1e', () => {
  it('agree to 1e-14 relative on a grid through the series/asymptotic switch', () => {
    const { x, i0e: w0, i1e: w1 } = fixture.bessel;
    const g0 = flat(besselI0e(tensor(x)));
    const g1 = flat(besselI1e(tensor(x)));
    x.forEach((xi, i) => {
      // Near |x| = 25 the series has summed ~45 terms: a few ulps each.
      expect(Math.abs(g0[i] - w0[i]), `i0e(${xi})`).toBeLessThanOrEqual(1e-14 * Math.abs(w0[i]) + 1e-300);
      expect(Math.abs(g1[i] - w1[i]), `i1e(${xi})`).toBeLessThanOrEqual(1e-14 * Math.abs(w1[i]) + 1e-300);
    });
  });
  it('edges: ±∞, NaN, parity', () => {
    expect([i0e(Infinity), i0e(-Infinity), i1e(Infinity)]).toEqual([0, 0, 0]);
    expect(Object.is(i1e(-Infinity), -0)).toBe(true);
    expect(Number.isNaN(i0e(NaN)) && Number.isNaN(i1e(NaN))).toBe(true);
    expect(i0e(-3.3)).toBe(i0e(3.3));
    expect(i1e(-3.3)).toBe(-i1e(3.3));
  });
});

describe('VonMises', () => {
  for (const c of fixture.vonmises) {
    it(`VonMises(${c.loc}, ${c.concentration}) density and moments against SciPy`, () => {
      const d = new VonMises(c.loc, c.concentration);
      flat(d.logProb(tensor(c.x))).forEach((v, i) => close(v, c.logProb[i], 1e-12, `logProb(${c.x[i]})`));
      close(d.mean.item(), c.mean, 1e-15, 'mean');
      close(d.variance.item(), c.circularVariance, 1e-13, 'circular variance');
      close(d.entropy().item(), c.entropy, 1e-12, 'entropy');
    });
    it(`VonMises CDF and ∂F/∂κ at κ = ${c.concentration} against mpmath quadrature`, () => {
      // Series (κ < 50): 1e-13; Hill's corrected normal approximation (κ ≥ 50): 1e-9.
      const tol = c.concentration < 50 ? 1e-13 : 1e-9;
      c.centered.forEach((x, i) => {
        const r = vonMisesCdf(x, c.concentration);
        expect(Math.abs(r.cdf - c.cdf[i]), `F(${x})`).toBeLessThanOrEqual(tol);
        expect(Math.abs(r.dcdf - c.dcdf[i]), `∂F/∂κ(${x})`).toBeLessThanOrEqual(tol);
      });
    });
  }
  it('implicit gradient dx/dκ = −(∂F/∂κ)/p matches central differences of the CDF', () => {
    // For fixed u = F(x; κ), x(κ) = F⁻¹(u; κ): compare the kernel with −(F(x; κ+h) − F(x; κ−h)) / (2h p(x)).
    for (const k of [0.3, 1.5, 6, 20, 49, 80]) {
      for (const x of [-2.2, -0.6, 0.1, 0.9, 2.4]) {
        const h = 1e-5 * k;
        const dF = (vonMisesCdf(x, k + h).cdf - vonMisesCdf(x, k - h).cdf) / (2 * h);
        const p = Math.exp(k * (Math.cos(x) - 1)) / (2 * Math.PI * i0e(k));
        // In the far tails p is tiny and the series' ~1e-15 absolute error in F dominates (the
        // fixture checks those points against mpmath instead).
        if (p < 1e-4) continue;
        const g = vonMisesSampleGrad(k, x);
        expect(Math.abs(g + dF / p), `κ = ${k}, x = ${x}: ${g} vs ${-dF / p}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(g)));
      }
    }
  });
  it('draws lie in [−π, π) with E[cos(x − μ)] = I₁/I₀ and E[sin(x − μ)] = 0 (5 SE)', () => {
    const n = 100_000;
    for (const [loc, k] of [[0.5, 2], [3, 0.05], [-2.9, 40], [0, 0], [1, 500]]) {
      const d = new VonMises(loc, k);
      const x = flat(d.sample(key(41 + Math.round(k)), [n]));
      expect(Math.min(...x)).toBeGreaterThanOrEqual(-Math.PI);
      expect(Math.max(...x)).toBeLessThan(Math.PI);
      const [mc, sec] = meanSe(x.map((v) => Math.cos(v - loc)));
      const [ms, ses] = meanSe(x.map((v) => Math.sin(v - loc)));
      const want = k === 0 ? 0 : i1e(k) / i0e(k);
      expect(Math.abs(mc - want), `κ = ${k}: E cos ${mc} vs ${want}`).toBeLessThan(5 * sec + 1e-12);
      expect(Math.abs(ms), `κ = ${k}: E sin ${ms}`).toBeLessThan(5 * ses + 1e-12);
    }
  });
  it('rsample gradient: d/dκ E[cos(x − μ)] = A′(κ) = 1 − A/κ − A², A = I₁/I₀', () => {
    for (const k of [0.7, 3, 60]) {
      const f = (p: { k: Tensor; mu: Tensor }): Tensor => {
        const d = new VonMises(p.mu, p.k);
        return mean(cos(sub(d.rsample(key(7), [200_000]), p.mu)));
      };
      const [, g] = valueAndGrad(f)({ k: tensor(k), mu: tensor(0.4) });
      const a = i1e(k) / i0e(k);
      const want = 1 - a / k - a * a;
      // Pathwise Monte Carlo with 2e5 draws: 3% of the value or 2e-3 absolute.
      expect(Math.abs(g.k.item() - want), `κ = ${k}: ${g.k.item()} vs ${want}`).toBeLessThan(0.03 * want + 2e-3);
      // Wrapping is a rigid shift: the gradient in μ of E[cos(x − μ)] is exactly 0 draw by draw.
      expect(Math.abs(g.mu.item())).toBeLessThan(1e-12);
    }
  });
  it('validates its concentration', () => {
    expect(() => new VonMises(0, -1)).toThrow(/VonMises: parameter concentration must be nonnegative, got -1/);
    expect(new VonMises(tensor([0, 1]), 2).expand([3, 2]).batchShape).toEqual([3, 2]);
  });
});

describe('Wishart', () => {
  for (const c of fixture.wishart) {
    it(`Wishart(${c.df}, ${c.scale.length}×${c.scale.length}) density and moments against SciPy`, () => {
      for (const d of [new Wishart(c.df, { covariance: tensor(c.scale) }), new Wishart(c.df, { precision: tensor(invert(c.scale)) })]) {
        flat(d.logProb(tensor(c.x))).forEach((v, i) => close(v, c.logProb[i], 1e-11, `logProb #${i}`));
        flat(d.mean).forEach((v, i) => close(v, c.mean.flat()[i], 1e-12, 'mean'));
        flat(d.variance).forEach((v, i) => close(v, c.variance.flat()[i], 1e-12, 'variance'));
        close(d.entropy().item(), c.entropy, 1e-11, 'entropy');
      }
    });
  }
  it('Bartlett draws have mean νS and variance ν(Sᵢⱼ² + SᵢᵢSⱼⱼ) (5 SE)', () => {
    const s = [[2.0, 0.3, -0.4], [0.3, 1.0, 0.2], [-0.4, 0.2, 0.8]];
    const d = new Wishart(4.5, { covariance: tensor(s) });
    const n = 40_000;
    const x = d.sample(key(3), [n]).dataSync();
    const m = flat(d.mean);
    const v = flat(d.variance);
    for (let e = 0; e < 9; e++) {
      const col = new Float64Array(n);
      for (let i = 0; i < n; i++) col[i] = x[i * 9 + e];
      const [mu, se] = meanSe(col);
      expect(Math.abs(mu - m[e]), `E X[${e}]`).toBeLessThan(5 * se);
      const [vv, sev] = meanSe(col.map((c) => (c - m[e]) ** 2));
      expect(Math.abs(vv - v[e]), `Var X[${e}]`).toBeLessThan(5 * sev);
    }
  });
  it('rsample is differentiable: ∂E[tr X]/∂ν = tr S', () => {
    const s = tensor([[2.0, 0.3], [0.3, 1.0]]);
    const f = (p: { nu: Tensor }): Tensor => mean(sum(mul(new Wishart(p.nu, { covariance: s }).rsample(key(5), [100_000]), tensor([[1, 0], [0, 1]])), [-2, -1]));
    const [, g] = valueAndGrad(f)({ nu: tensor(3.5) });
    expect(Math.abs(g.nu.item() - 3)).toBeLessThan(0.05);
  });
  it('KL(Wishart ‖ Wishart) matches Monte Carlo', () => {
    const p = new Wishart(5, { covariance: tensor([[1.5, 0.4], [0.4, 0.7]]) });
    const q = new Wishart(3.5, { covariance: tensor([[1, -0.2], [-0.2, 2]]) });
    const x = p.sample(key(9), [100_000]);
    const [m, se] = meanSe(flat(sub(p.logProb(x), q.logProb(x))));
    const exact = kl(p, q).item();
    expect(Math.abs(exact - m), `closed form ${exact} vs MC ${m} ± ${se}`).toBeLessThan(5 * se);
    expect(Math.abs(kl(p, p).item())).toBeLessThan(1e-12);
  });
  it('validates df and shapes', () => {
    expect(() => new Wishart(1.5, { covariance: tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1]]) })).toThrow(/Wishart: parameter df must be greaterThan\(2\), got 1.5/);
    expect(() => new Wishart(4, { covariance: tensor([[1, 0, 0], [0, 1, 0]]) })).toThrow(/Wishart: the scale matrix must have shape/);
    const d = new Wishart(tensor([4, 5]), { scaleTril: tensor([[1, 0], [0.5, 1]]) });
    expect(d.batchShape).toEqual([2]);
    expect(d.sample(key(1), [3]).shape).toEqual([3, 2, 2, 2]);
  });
});

describe('LKJCholesky', () => {
  it('dim 2: log p(L) is the closed form (1 − r²)^(η−1) / (2^(2η−1) B(η, η)) and integrates to 1', () => {
    for (const eta of [0.5, 1, 2.5, 10]) {
      const d = new LKJCholesky(2, eta);
      const rs = [-0.9, -0.3, 0, 0.45, 0.99];
      const ls = tensor(rs.map((r) => [[1, 0], [r, Math.sqrt(1 - r * r)]]));
      const lb = 2 * lgamma(eta) - lgamma(2 * eta);
      const want = rs.map((r) => (eta - 1) * Math.log(1 - r * r) - (2 * eta - 1) * Math.LN2 - lb);
      flat(d.logProb(ls)).forEach((v, i) => close(v, want[i], 1e-12, `η = ${eta}, r = ${rs[i]}`));
      // Substituting r = sin θ removes the endpoint singularity of η < 1.
      const logC = d.logNormalizer().item();
      const total = simpson((th) => Math.cos(th) ** (2 * eta - 1) * Math.exp(-logC), -Math.PI / 2, Math.PI / 2);
      expect(Math.abs(total - 1), `η = ${eta}: ∫ = ${total}`).toBeLessThan(eta < 1 ? 2e-3 : 1e-9);
    }
  });
  it('dim 3: the normalizer is ∫ det(C)^(η−1) dC over correlation matrices (π²/2 at η = 1; Monte Carlo otherwise)', () => {
    close(Math.exp(new LKJCholesky(3, 1).logNormalizer().item()), (Math.PI * Math.PI) / 2, 1e-14, 'volume of the 3×3 elliptope');
    // Uniform points on [−1, 1]³ (a fixed xorshift stream), 5 standard errors.
    let s = 0x9e3779b9;
    const next = (): number => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return (s >>> 0) / 4294967296;
    };
    const eta = 2.5;
    const n = 400_000;
    const vals = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const a = 2 * next() - 1;
      const b = 2 * next() - 1;
      const c = 2 * next() - 1;
      const det = 1 + 2 * a * b * c - a * a - b * b - c * c;
      vals[i] = det > 0 ? 8 * det ** (eta - 1) : 0;
    }
    const [m, se] = meanSe(vals);
    const want = Math.exp(new LKJCholesky(3, eta).logNormalizer().item());
    expect(Math.abs(m - want), `MC ${m} ± ${se} vs ${want}`).toBeLessThan(5 * se);
  });
  it('onion draws are Cholesky factors of correlation matrices whose entries follow (r + 1)/2 ~ Beta(β, β), β = η − 1 + d/2', () => {
    for (const [dim, eta] of [[4, 2], [3, 0.7], [5, 1]]) {
      const d = new LKJCholesky(dim, eta);
      const n = 40_000;
      const l = d.sample(key(dim * 10 + Math.round(10 * eta)), [n]);
      expect(flat(corrCholesky.check(l)).every((v) => v === 1)).toBe(true);
      expect(flat(d.logProb(l)).every(Number.isFinite)).toBe(true);
      const c = matmul(l, l, { transB: true }).dataSync();
      const beta = eta - 1 + dim / 2;
      // r = 2B − 1: mean 0, variance 1/(2β + 1), fourth moment 3/((2β + 1)(2β + 3)).
      const v2 = 1 / (2 * beta + 1);
      const v4 = 3 / ((2 * beta + 1) * (2 * beta + 3));
      for (let i = 1; i < dim; i++)
        for (let j = 0; j < i; j++) {
          const r = new Float64Array(n);
          for (let t = 0; t < n; t++) r[t] = c[t * dim * dim + i * dim + j];
          const [m, se] = meanSe(r);
          expect(Math.abs(m), `d = ${dim}, η = ${eta}: E C[${i},${j}]`).toBeLessThan(5 * se);
          const [m2, se2] = meanSe(r.map((x) => x * x));
          expect(Math.abs(m2 - v2), `d = ${dim}, η = ${eta}: E C[${i},${j}]² ${m2} vs ${v2}`).toBeLessThan(5 * se2);
          const [m4, se4] = meanSe(r.map((x) => x ** 4));
          expect(Math.abs(m4 - v4), `E C[${i},${j}]⁴`).toBeLessThan(5 * se4);
        }
    }
  });
  it('validates', () => {
    expect(() => new LKJCholesky(1, 1)).toThrow(ValueError);
    expect(() => new LKJCholesky(3, -1)).toThrow(/concentration must be positive/);
    expect(() => new LKJCholesky(2, 1).logProb(tensor([[1, 0], [0.5, 0.5]]))).toThrow(/outside the support corrCholesky/);
    expect(new LKJCholesky(3, tensor([1, 2])).sample(key(0), [4]).shape).toEqual([4, 2, 3, 3]);
  });
});

describe('relaxed distributions', () => {
  it('RelaxedBernoulli density integrates to 1 and P(y > ½) = σ(ℓ) exactly', () => {
    for (const [tau, p] of [[0.3, 0.2], [1, 0.5], [2.5, 0.85]]) {
      const d = new RelaxedBernoulli(tau, { probs: p });
      // In logit coordinates y = σ(x): ∫ p(y) dy = ∫ p(σ(x)) σ(x)(1 − σ(x)) dx over |x| ≤ 30 (where y
      // and 1 − y are representable), plus the two tails of the logit, Logistic(ℓ/τ, 1/τ).
      const ell = Math.log(p / (1 - p));
      const sig = (t: number): number => 1 / (1 + Math.exp(-t));
      const body = simpson((x) => {
        const y = sig(x);
        return Math.exp(d.logProb(y).item()) * y * (1 - y);
      }, -30, 30, 6000);
      const total = body + sig(ell - 30 * tau) + sig(-30 * tau - ell);
      expect(Math.abs(total - 1), `τ = ${tau}, p = ${p}: ∫ = ${total}`).toBeLessThan(1e-6);
      const n = 100_000;
      const y = flat(d.sample(key(17), [n]));
      const [frac, se] = meanSe(y.map((v) => (v > 0.5 ? 1 : 0)));
      expect(Math.abs(frac - p)).toBeLessThan(5 * se);
    }
  });
  it('RelaxedOneHotCategorical with 2 categories is the RelaxedBernoulli of ℓ₁ − ℓ₂, and normalizes', () => {
    const tau = 0.7;
    const cat = new RelaxedOneHotCategorical(tau, { probs: tensor([0.3, 0.7]) });
    const bin = new RelaxedBernoulli(tau, { probs: 0.3 });
    const y1 = [0.01, 0.2, 0.5, 0.77, 0.999];
    const lc = flat(cat.logProb(tensor(y1.map((y) => [y, 1 - y]))));
    const lb = flat(bin.logProb(tensor(y1)));
    lc.forEach((v, i) => close(v, lb[i], 1e-12, `y₁ = ${y1[i]}`));
    const total = simpson((x) => {
      const y = 1 / (1 + Math.exp(-x));
      return Math.exp(cat.logProb(tensor([y, 1 - y])).item()) * y * (1 - y);
    }, -30, 30, 2000);
    expect(Math.abs(total - 1)).toBeLessThan(1e-6);
  });
  it('RelaxedOneHotCategorical in 3 categories normalizes over the simplex (quadrature in logit coordinates)', () => {
    const d = new RelaxedOneHotCategorical(1.3, { logits: tensor([0.2, -0.5, 1]) });
    // y = softmax(0, a, b) over a, b ∈ [−L, L]: dy₁dy₂ = y₀y₁y₂ da db.
    const L = 30;
    const m = 300;
    const h = (2 * L) / m;
    const pts: number[][] = [];
    const jac: number[] = [];
    for (let i = 0; i <= m; i++)
      for (let j = 0; j <= m; j++) {
        const a = -L + i * h;
        const b = -L + j * h;
        const mx = Math.max(0, a, b);
        const e = [Math.exp(-mx), Math.exp(a - mx), Math.exp(b - mx)];
        const z = e[0] + e[1] + e[2];
        const y = e.map((v) => v / z);
        pts.push(y);
        jac.push(y[0] * y[1] * y[2] * (i === 0 || i === m ? 0.5 : 1) * (j === 0 || j === m ? 0.5 : 1) * h * h);
      }
    const lp = flat(d.logProb(tensor(pts)));
    // Points where a coordinate underflows to 0 carry no mass (their Jacobian is 0).
    const total = lp.reduce((s, v, i) => s + (jac[i] > 0 ? Math.exp(v) * jac[i] : 0), 0);
    expect(Math.abs(total - 1), `∫ = ${total}`).toBeLessThan(1e-4);
    // Gumbel-max: the argmax of a draw is Categorical(probs) for any temperature.
    const n = 60_000;
    const x = d.sample(key(23), [n]).toArray() as number[][];
    const probs = flat(d.probs);
    const freq = [0, 0, 0];
    for (const r of x) freq[r.indexOf(Math.max(...r))]++;
    probs.forEach((pk, k) => expect(Math.abs(freq[k] / n - pk)).toBeLessThan(5 * Math.sqrt((pk * (1 - pk)) / n)));
  });
  it('straight-through: forward values are exactly one-hot / 0-1, gradients are those of the relaxed draw', () => {
    const w = tensor([0.3, -1.2, 2.0]);
    const f = (st: boolean) => (p: { l: Tensor }): Tensor =>
      sum(mul(new RelaxedOneHotCategorical(0.5, { logits: p.l }, { straightThrough: st }).rsample(key(3), [50]), w));
    const l = tensor([0.1, 0.4, -0.2]);
    const hard = new RelaxedOneHotCategorical(0.5, { logits: l }, { straightThrough: true });
    const draws = hard.rsample(key(3), [50]).toArray() as number[][];
    for (const r of draws) {
      expect(r.filter((v) => v === 1).length).toBe(1);
      expect(r.filter((v) => v === 0).length).toBe(2);
    }
    const [, gSt] = valueAndGrad(f(true))({ l });
    const [, gSoft] = valueAndGrad(f(false))({ l });
    flat(gSt.l).forEach((v, i) => close(v, flat(gSoft.l)[i], 1e-12, 'straight-through gradient'));
    // logProb of a straight-through draw scores the relaxed draw behind it.
    const y = hard.rsample(key(8), [4]);
    const soft = new RelaxedOneHotCategorical(0.5, { logits: l }).rsample(key(8), [4]);
    flat(hard.logProb(y)).forEach((v, i) => close(v, flat(hard.logProb(soft))[i], 1e-12, 'logProb'));

    const b = new RelaxedBernoulli(0.4, { logits: tensor([0.3, -1]) }, { straightThrough: true }).rsample(key(2), [100]);
    expect(flat(b).every((v) => v === 0 || v === 1)).toBe(true);
    const fb = (st: boolean) => (p: { l: Tensor }): Tensor => sum(new RelaxedBernoulli(0.4, { logits: p.l }, { straightThrough: st }).rsample(key(2), [100]));
    const [, gb] = valueAndGrad(fb(true))({ l: tensor([0.3, -1]) });
    const [, gbs] = valueAndGrad(fb(false))({ l: tensor([0.3, -1]) });
    flat(gb.l).forEach((v, i) => close(v, flat(gbs.l)[i], 1e-12, 'binary straight-through gradient'));
  });
});

/** Inverse of a small symmetric matrix by Gauss–Jordan (test helper). */
function invert(a: number[][]): number[][] {
  const n = a.length;
  const m = a.map((r, i) => [...r, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    const p = m[c][c];
    for (let j = 0; j < 2 * n; j++) m[c][j] /= p;
    for (let r = 0; r < n; r++)
      if (r !== c) {
        const f = m[r][c];
        for (let j = 0; j < 2 * n; j++) m[r][j] -= f * m[c][j];
      }
  }
  return m.map((r) => r.slice(n));
}
