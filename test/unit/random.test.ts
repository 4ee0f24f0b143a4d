/**
 * Randomness: the Philox generator against Random123's known answers, the key functions, the
 * stream layout of the random kernels (ts/random/philox.ts), the samplers' moments and two
 * Kolmogorov–Smirnov checks, and argument errors.
 *
 * Tolerances. Every moment check draws N samples from a fixed key and asserts
 * |sample mean − μ| < 5·σ/√N, and |sample variance − σ²| < 5·SE where SE = √((m4 − s⁴)/N) is the
 * standard error of the sample variance, with m4 and s² the sample's 4th and 2nd central moments.
 * For a fresh key each check would fail with probability about 6e-7. The KS checks assert
 * D < 1.95/√N, the 0.1% critical value.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  beta,
  bernoulli,
  categorical,
  DTypeError,
  dirichlet,
  foldIn,
  gamma,
  key,
  Key,
  normal,
  poisson,
  setBackend,
  ShapeError,
  split,
  sum,
  tensor,
  Tensor,
  uniform,
  valueAndGrad,
  ValueError,
} from '../../ts/index.js';
import { ENGINE } from '../../ts/core/engine.js';
import { gammaElement, poissonElement } from '../../ts/backends/js/random.js';
import { philox4x32, TAG_GAMMA, TAG_POISSON, u32PairToFloat64, u32ToFloat32 } from '../../ts/random/philox.js';
import { lgamma } from '../../ts/backends/js/special.js';

beforeAll(() => setBackend('js'));

const hex = (w: ArrayLike<number>): string[] => Array.from(w, (x) => (x >>> 0).toString(16).padStart(8, '0'));
const block = (c: number[], k: number[]): Uint32Array => {
  const out = new Uint32Array(4);
  philox4x32(c[0], c[1], c[2], c[3], k[0], k[1], out);
  return out;
};

/** Sample mean, variance and 4th central moment. */
function moments(d: ArrayLike<number>): { n: number; mean: number; v: number; m4: number } {
  const n = d.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += d[i];
  const mean = s / n;
  let v = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const e = (d[i] - mean) * (d[i] - mean);
    v += e;
    m4 += e * e;
  }
  return { n, mean, v: v / n, m4: m4 / n };
}

/** Asserts the sample's mean and variance match (mu, sigma2) within 5 standard errors. */
function expectMoments(d: ArrayLike<number>, mu: number, sigma2: number, what: string): void {
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) throw new Error(`${what}: non-finite draw ${d[i]} at ${i}`);
  const { n, mean, v, m4 } = moments(d);
  const seMean = Math.sqrt(sigma2 / n);
  const seVar = Math.sqrt(Math.max(m4 - v * v, 0) / n);
  expect(Math.abs(mean - mu), `${what}: mean ${mean} vs ${mu} (5 SE = ${5 * seMean})`).toBeLessThan(5 * seMean);
  expect(Math.abs(v - sigma2), `${what}: variance ${v} vs ${sigma2} (5 SE = ${5 * seVar})`).toBeLessThan(5 * seVar);
}

const N = 100_000;
const FLOATS = ['float64', 'float32'] as const;

describe('philox4x32 known answers (Random123 kat_vectors)', () => {
  it('ctr 0, key 0', () => {
    expect(hex(block([0, 0, 0, 0], [0, 0]))).toEqual(['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
  });
  it('all-ones ctr and key', () => {
    const f = 0xffffffff;
    expect(hex(block([f, f, f, f], [f, f]))).toEqual(['408f276d', '41c83b0e', 'a20bc7c6', '6d5451fd']);
  });
  it('pi digits', () => {
    const out = block([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]);
    expect(hex(out)).toEqual(['d16cfe09', '94fdcceb', '5001e420', '24126ea1']);
  });
});

describe('keys', () => {
  it('key(seed) splits the seed into two words', () => {
    expect(key(5).words).toEqual([5, 0]);
    expect(key(2 ** 32 + 7).words).toEqual([7, 1]);
  });
  it('split and foldIn are deterministic', () => {
    const k = key(123);
    expect(split(k, 5).map((x) => x.words)).toEqual(split(key(123), 5).map((x) => x.words));
    expect(foldIn(k, 9).words).toEqual(foldIn(key(123), 9).words);
    // A longer split extends a shorter one.
    expect(split(k, 3).map((x) => x.words)).toEqual(split(k, 7).slice(0, 3).map((x) => x.words));
  });
  it('split and foldIn give distinct keys', () => {
    const k = key(0);
    const seen = new Set<string>([k.toString()]);
    for (const s of split(k, 1000)) seen.add(s.toString());
    for (let d = 0; d < 1000; d++) seen.add(foldIn(k, d).toString());
    for (const s of split(key(1), 100)) seen.add(s.toString());
    expect(seen.size).toBe(1 + 1000 + 1000 + 100);
  });
  it('split layout: key i is words 0, 1 of philox(key, [i, 0, SPLT, 0])', () => {
    const k = key(77);
    const w = block([3, 0, 0x53504c54, 0], k.words);
    expect(split(k, 4)[3].words).toEqual([w[0], w[1]]);
  });
});

function bits(k: Key, shape: number[]): Int32Array {
  return ENGINE.runKernel('randomBits', [], { key: k.words, shape })[0].dataSync() as Int32Array;
}

describe('random kernels follow the stream layout', () => {
  const k = key(2024);
  it('randomBits: word j is lane j & 3 of block floor(j / 4)', () => {
    const b = bits(k, [2, 5]);
    for (let j = 0; j < 10; j++) expect(b[j]).toBe(block([j >> 2, 0, 0, 0], k.words)[j & 3] | 0);
  });
  it('same key gives the same bits, different keys different bits', () => {
    expect(Array.from(bits(key(2024), [64]))).toEqual(Array.from(bits(k, [64])));
    const other = bits(key(2025), [64]);
    const same = bits(k, [64]).filter((x, i) => x === other[i]).length;
    expect(same).toBeLessThan(3);
    expect(Array.from(bits(split(k)[0], [8]))).not.toEqual(Array.from(bits(split(k)[1], [8])));
  });
  it('randomUniform: float32 from one word, float64 from two', () => {
    const w = bits(k, [14]);
    const u32 = uniform(k, [7], { dtype: 'float32' }).dataSync();
    const u64 = uniform(k, [7]).dataSync();
    for (let i = 0; i < 7; i++) {
      expect(u32[i]).toBe(u32ToFloat32(w[i]));
      expect(u64[i]).toBe(u32PairToFloat64(w[2 * i], w[2 * i + 1]));
    }
  });
  it('randomNormal: Box–Muller pairs over the uniform stream', () => {
    for (const dtype of FLOATS) {
      const u = uniform(k, [6], { dtype }).dataSync();
      const z = normal(k, [5], { dtype }).dataSync();
      for (let m = 0; m < 3; m++) {
        const r = Math.sqrt(-2 * Math.log(1 - u[2 * m]));
        const th = 2 * Math.PI * u[2 * m + 1];
        const cast = dtype === 'float32' ? Math.fround : (x: number) => x;
        expect(z[2 * m]).toBe(cast(r * Math.cos(th)));
        if (2 * m + 1 < 5) expect(z[2 * m + 1]).toBe(cast(r * Math.sin(th)));
      }
    }
  });
  it('element i does not depend on the output size', () => {
    const pairs: [Tensor, Tensor][] = [
      [uniform(k, [5]), uniform(k, [64])],
      [normal(k, [5], { dtype: 'float32' }), normal(k, [64], { dtype: 'float32' })],
      [gamma(k, 0.4, [5]), gamma(k, 0.4, [64])],
      [poisson(k, 30, [5]), poisson(k, 30, [64])],
    ];
    for (const [a, b] of pairs) expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()).slice(0, 5));
  });

  /** An independent reading of the gamma layout in philox.ts. */
  function refGamma(alpha: number, i: number, k0: number, k1: number): number {
    const c0 = i % 2 ** 32;
    const c3 = Math.floor(i / 2 ** 32);
    const a = alpha < 1 ? alpha + 1 : alpha;
    const d = a - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    let g = NaN;
    for (let t = 0; Number.isNaN(g); t++) {
      const b0 = block([c0, 2 * t, TAG_GAMMA, c3], [k0, k1]);
      const x = Math.sqrt(-2 * Math.log(1 - u32PairToFloat64(b0[0], b0[1]))) * Math.cos(2 * Math.PI * u32PairToFloat64(b0[2], b0[3]));
      const y = 1 + c * x;
      if (y <= 0) continue;
      const v = y * y * y;
      const b1 = block([c0, 2 * t + 1, TAG_GAMMA, c3], [k0, k1]);
      const u = u32PairToFloat64(b1[0], b1[1]);
      if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) g = d * v;
    }
    if (alpha < 1) {
      const bb = block([c0, 0xffffffff, TAG_GAMMA, c3], [k0, k1]);
      g *= Math.pow(1 - u32PairToFloat64(bb[0], bb[1]), 1 / alpha);
    }
    return g;
  }

  /** An independent reading of the Poisson layout in philox.ts. */
  function refPoisson(rate: number, i: number, k0: number, k1: number): number {
    const c0 = i % 2 ** 32;
    const c3 = Math.floor(i / 2 ** 32);
    const uniformAt = (blk: number, half: number): number => {
      const b = block([c0, blk, TAG_POISSON, c3], [k0, k1]);
      return half === 0 ? u32PairToFloat64(b[0], b[1]) : u32PairToFloat64(b[2], b[3]);
    };
    if (rate < 10) {
      let p = 1;
      for (let kk = 0; ; kk++) {
        p *= uniformAt(kk >> 1, kk & 1);
        if (p <= Math.exp(-rate)) return kk;
      }
    }
    const b = 0.931 + 2.53 * Math.sqrt(rate);
    const a = -0.059 + 0.02483 * b;
    const invalpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (let t = 0; ; t++) {
      const U = uniformAt(t, 0) - 0.5;
      const V = uniformAt(t, 1);
      const us = 0.5 - Math.abs(U);
      const kk = Math.floor(((2 * a) / us + b) * U + rate + 0.43);
      if (us >= 0.07 && V <= vr) return kk;
      if (kk < 0 || (us < 0.013 && V > us)) continue;
      if (Math.log(V) + Math.log(invalpha) - Math.log(a / (us * us) + b) <= -rate + kk * Math.log(rate) - lgamma(kk + 1)) return kk;
    }
  }

  it('randomGamma matches the documented Marsaglia–Tsang layout', () => {
    const alphas = [0.05, 0.7, 1, 2.5, 40];
    const g = gamma(k, tensor(Array.from({ length: 200 }, (_, i) => alphas[i % 5]))).dataSync();
    for (let i = 0; i < 200; i++) expect(g[i]).toBe(refGamma(alphas[i % 5], i, k.k0, k.k1));
    // Element indices past 2^32 put the high word in counter word 3.
    for (const i of [2 ** 32, 2 ** 32 + 3, 5 * 2 ** 32 + 1]) expect(gammaElement(1.5, i, 9, 8)).toBe(refGamma(1.5, i, 9, 8));
  });
  it('randomPoisson matches the documented Knuth / PTRS layout', () => {
    const rates = [0.3, 4, 9.99, 10, 55, 1e6];
    const p = poisson(k, tensor(Array.from({ length: 240 }, (_, i) => rates[i % 6]))).dataSync();
    for (let i = 0; i < 240; i++) expect(p[i]).toBe(refPoisson(rates[i % 6], i, k.k0, k.k1));
    for (const i of [2 ** 32 + 1, 7 * 2 ** 32]) {
      expect(poissonElement(3, i, 1, 2)).toBe(refPoisson(3, i, 1, 2));
      expect(poissonElement(300, i, 1, 2)).toBe(refPoisson(300, i, 1, 2));
    }
  });
  it('edge parameters: NaN for invalid, exact for the limits', () => {
    const g = gamma(k, tensor([-1, 0, NaN, Infinity, 2])).dataSync();
    expect(Array.from(g.slice(0, 3)).every(Number.isNaN)).toBe(true);
    expect(g[3]).toBe(Infinity);
    expect(g[4]).toBeGreaterThan(0);
    const p = poisson(k, tensor([-1, NaN, 0, Infinity, 1e-300])).dataSync();
    expect(Number.isNaN(p[0]) && Number.isNaN(p[1])).toBe(true);
    expect(Array.from(p.slice(2))).toEqual([0, Infinity, 0]);
  });
});

describe('sampler moments (mean and variance within 5 standard errors)', () => {
  for (const dtype of FLOATS) {
    describe(dtype, () => {
      it('uniform', () => {
        for (const [i, [lo, hi]] of [[0, 1], [-3, 5], [10, 10.5]].entries()) {
          const d = uniform(foldIn(key(1), i), [N], { low: lo, high: hi, dtype }).dataSync();
          expect(d.every((x) => x >= lo && x <= hi)).toBe(true);
          expectMoments(d, (lo + hi) / 2, (hi - lo) ** 2 / 12, `uniform(${lo}, ${hi}) ${dtype}`);
        }
      });
      it('normal', () => {
        for (const [i, [m, s]] of [[0, 1], [3, 0.5], [-100, 20]].entries()) {
          const d = normal(foldIn(key(2), i), [N], { loc: m, scale: s, dtype }).dataSync();
          expectMoments(d, m, s * s, `normal(${m}, ${s}) ${dtype}`);
        }
      });
      it('gamma, alpha < 1, around 1 and large', () => {
        for (const [i, a] of [0.01, 0.2, 0.9, 1, 3.7, 50, 1e4].entries()) {
          const d = gamma(foldIn(key(3), i), a, [N], { dtype }).dataSync();
          expect(d.every((x) => x >= 0)).toBe(true);
          expectMoments(d, a, a, `gamma(${a}) ${dtype}`);
        }
      });
      it('gamma with tensor alpha broadcast to a shape', () => {
        const d = gamma(key(4), tensor([0.5, 8], undefined, dtype), [N / 2, 2]).dataSync();
        expectMoments(d.filter((_, i) => i % 2 === 0), 0.5, 0.5, `gamma(0.5) column ${dtype}`);
        expectMoments(d.filter((_, i) => i % 2 === 1), 8, 8, `gamma(8) column ${dtype}`);
      });
      it('beta, including small parameters', () => {
        for (const [i, [a, b]] of [[2, 5], [0.5, 0.5], [0.05, 0.1], [0.01, 0.01], [1e-3, 2]].entries()) {
          const d = beta(foldIn(key(5), i), a, b, [N], { dtype }).dataSync();
          expect(d.every((x) => x >= 0 && x <= 1)).toBe(true);
          const s = a + b;
          expectMoments(d, a / s, (a * b) / (s * s * (s + 1)), `beta(${a}, ${b}) ${dtype}`);
        }
      });
      it('dirichlet rows sum to 1 and match the marginal moments', () => {
        const alpha = [0.1, 1, 4];
        const a0 = 5.1;
        const n = N / 2;
        const d = dirichlet(key(6), tensor(alpha, undefined, dtype), [n, 3]).dataSync();
        const tol = dtype === 'float64' ? 1e-12 : 1e-6;
        for (let r = 0; r < n; r++) expect(Math.abs(d[3 * r] + d[3 * r + 1] + d[3 * r + 2] - 1)).toBeLessThan(tol);
        for (let j = 0; j < 3; j++) {
          const col = d.filter((_, i) => i % 3 === j);
          expectMoments(col, alpha[j] / a0, (alpha[j] * (a0 - alpha[j])) / (a0 * a0 * (a0 + 1)), `dirichlet[${j}] ${dtype}`);
        }
        expect(dirichlet(key(6), [2, 2]).shape).toEqual([2]);
      });
      it('categorical frequencies match softmax(logits)', () => {
        const logits = [0, Math.log(3), -1, -Infinity];
        const z = 3 + 1 + Math.exp(-1);
        const probs = [1 / z, 3 / z, Math.exp(-1) / z, 0];
        const d = categorical(key(7), tensor(logits, undefined, dtype), [N]);
        expect(d.dtype).toBe('int32');
        const idx = d.dataSync();
        for (let j = 0; j < 4; j++) {
          const ind = Float64Array.from(idx, (x) => (x === j ? 1 : 0));
          if (probs[j] === 0) expect(ind.every((x) => x === 0)).toBe(true);
          else expectMoments(ind, probs[j], probs[j] * (1 - probs[j]), `categorical[${j}] ${dtype}`);
        }
      });
      it('bernoulli', () => {
        for (const [i, p] of [0.5, 0.03, 0.9].entries()) {
          const d = bernoulli(foldIn(key(8), i), tensor(p, [], dtype), [N], { dtype }).dataSync();
          expect(d.every((x) => x === 0 || x === 1)).toBe(true);
          expectMoments(d, p, p * (1 - p), `bernoulli(${p}) ${dtype}`);
        }
        expect(Array.from(bernoulli(key(8), tensor([0, 1]), [50, 2]).dataSync())).toEqual(Array.from({ length: 100 }, (_, i) => i % 2));
      });
      it('poisson, Knuth (rate < 10) and PTRS (rate >= 10)', () => {
        for (const [i, r] of [0.05, 1, 4.5, 9.99, 10, 37, 1e4].entries()) {
          const d = poisson(foldIn(key(9), i), r, [N], { dtype }).dataSync();
          expect(d.every((x) => Number.isInteger(x) && x >= 0)).toBe(true);
          expectMoments(d, r, r, `poisson(${r}) ${dtype}`);
        }
      });
    });
  }
});

/** erfc to a fractional error below 1.2e-7 (Numerical Recipes' erfcc, Chebyshev fit). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const p =
    -z * z - 1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(p);
  return x >= 0 ? r : 2 - r;
}
const normalCdf = (x: number): number => 0.5 * erfc(-x / Math.SQRT2);

/** The Kolmogorov–Smirnov statistic of a sample against a continuous CDF. */
function ksStatistic(d: ArrayLike<number>, cdf: (x: number) => number): number {
  const xs = Float64Array.from(d).sort();
  const n = xs.length;
  let D = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(xs[i]);
    D = Math.max(D, (i + 1) / n - f, f - i / n);
  }
  return D;
}

describe('Kolmogorov–Smirnov against exact CDFs (D < 1.95/√n, the 0.1% level)', () => {
  const n = 50_000;
  for (const dtype of FLOATS) {
    it(`normal ${dtype}`, () => {
      expect(ksStatistic(normal(key(10), [n], { dtype }).dataSync(), normalCdf)).toBeLessThan(1.95 / Math.sqrt(n));
      const shifted = normal(key(11), [n], { loc: 2, scale: 3, dtype }).dataSync();
      expect(ksStatistic(shifted, (x) => normalCdf((x - 2) / 3))).toBeLessThan(1.95 / Math.sqrt(n));
    });
    it(`uniform ${dtype}`, () => {
      const cdf = (x: number): number => Math.min(Math.max(x, 0), 1);
      expect(ksStatistic(uniform(key(12), [n], { dtype }).dataSync(), cdf)).toBeLessThan(1.95 / Math.sqrt(n));
    });
  }
  it('the check has power: a shifted normal fails it', () => {
    expect(ksStatistic(normal(key(10), [n], { loc: 0.05 }).dataSync(), normalCdf)).toBeGreaterThan(1.95 / Math.sqrt(n));
  });
});

/** The regularized lower incomplete gamma P(a, x): the Gamma(a, 1) CDF (series / Lentz continued fraction). */
function gammaCdf(a: number, x: number): number {
  if (x <= 0) return 0;
  const logPre = -x + a * Math.log(x) - lgamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let s = term;
    for (let n = 1; n < 10_000 && Math.abs(term) > 1e-17 * Math.abs(s); n++) {
      term *= x / (a + n);
      s += term;
    }
    return s * Math.exp(logPre);
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return 1 - Math.exp(logPre) * h;
}

/** Pearson's χ² of integer draws against a pmf, bins pooled so each expects ≥ 20; returns [χ², df]. */
function chiSquare(d: ArrayLike<number>, logPmf: (k: number) => number): [number, number] {
  const n = d.length;
  const counts = new Map<number, number>();
  for (let i = 0; i < n; i++) counts.set(d[i], (counts.get(d[i]) ?? 0) + 1);
  let hi = 0;
  for (const key of counts.keys()) hi = Math.max(hi, key);
  let chi = 0;
  let bins = 0;
  let obs = 0;
  let exp = 0;
  let tail = 1;
  for (let k = 0; k <= hi; k++) {
    const p = Math.exp(logPmf(k));
    obs += counts.get(k) ?? 0;
    exp += n * p;
    tail -= p;
    // Close a bin once it expects 20 and so does everything after it.
    if (exp >= 20 && n * tail >= 20) {
      chi += (obs - exp) ** 2 / exp;
      bins++;
      obs = 0;
      exp = 0;
    }
  }
  exp += n * Math.max(tail, 0);
  chi += (obs - exp) ** 2 / exp;
  bins++;
  return [chi, bins - 1];
}

/** The χ² quantile at the 0.1% upper level (Wilson–Hilferty, z = 3.09). */
const chiCritical = (df: number): number => df * (1 - 2 / (9 * df) + 3.09 * Math.sqrt(2 / (9 * df))) ** 3;

describe('goodness of fit of the rejection samplers (0.1% level)', () => {
  const n = 50_000;
  for (const a of [0.3, 1, 4.5, 60]) {
    it(`gamma(${a}): Kolmogorov–Smirnov against the regularized incomplete gamma`, () => {
      expect(ksStatistic(gamma(key(20), a, [n]).dataSync(), (x) => gammaCdf(a, x))).toBeLessThan(1.95 / Math.sqrt(n));
    });
  }
  it('the gamma check has power: gamma(1.05) fails against the gamma(1) CDF', () => {
    expect(ksStatistic(gamma(key(20), 1.05, [n]).dataSync(), (x) => gammaCdf(1, x))).toBeGreaterThan(1.95 / Math.sqrt(n));
  });
  // log k! summed directly, independent of lgamma.
  const logFact = [0];
  for (let k = 1; k < 20_000; k++) logFact.push(logFact[k - 1] + Math.log(k));
  for (const r of [0.7, 3, 9.5, 10, 25, 400]) {
    it(`poisson(${r}): χ² against the pmf`, () => {
      const [chi, df] = chiSquare(poisson(key(21), r, [n]).dataSync(), (k) => k * Math.log(r) - r - logFact[k]);
      expect(chi, `χ² = ${chi} with ${df} df`).toBeLessThan(chiCritical(df));
    });
  }
});

describe('reparameterized gradients', () => {
  it('normal: d/dloc Σ x = n and d/dscale Σ x = Σ z', () => {
    const n = 8;
    const z = normal(key(13), [n]).dataSync();
    const [, g] = valueAndGrad((p: { loc: Tensor; scale: Tensor }) => sum(normal(key(13), [n], { loc: p.loc, scale: p.scale })))({
      loc: tensor(Array(n).fill(1)),
      scale: tensor(Array(n).fill(2)),
    });
    expect(Array.from(g.loc.dataSync())).toEqual(Array(n).fill(1));
    expect(Array.from(g.scale.dataSync())).toEqual(Array.from(z));
  });
});

describe('argument errors name the sampler, the argument and the value', () => {
  const k = key(0);
  it('keys and shapes', () => {
    expect(() => uniform(42 as unknown as Key, [2])).toThrow(ValueError);
    expect(() => uniform(42 as unknown as Key, [2])).toThrow(/uniform: key must be a Key/);
    expect(() => normal(k, [2, -1])).toThrow(ShapeError);
    expect(() => normal(k, [2, 1.5])).toThrow(/normal: shape must be .*\[2, 1\.5\]/);
    expect(() => gamma(k, tensor([1, 2, 3]), [2, 2])).toThrow(/gamma: alpha of shape \[3\] does not broadcast to shape \[2, 2\]/);
    expect(() => dirichlet(k, tensor(2))).toThrow(ShapeError);
    expect(() => dirichlet(k, [1, 2], [4, 3])).toThrow(/dirichlet: shape \[4, 3\] must end in alpha's last axis 2/);
    expect(() => categorical(k, [])).toThrow(/categorical: logits must have rank >= 1 and a non-empty last axis/);
    expect(() => categorical(k, tensor([[0, 1], [1, 0]]), [3])).toThrow(ShapeError);
  });
  it('values', () => {
    expect(() => uniform(k, [2], { low: 1, high: 0 })).toThrow(/uniform: low must be less than high, got low = 1, high = 0/);
    expect(() => uniform(k, [2], { high: NaN })).toThrow(/uniform: high must be a finite number, got NaN/);
    expect(() => normal(k, [2], { scale: -1 })).toThrow(/normal: scale must be a finite number >= 0, got -1/);
    expect(() => gamma(k, 0)).toThrow(/gamma: alpha must be a number > 0, got 0/);
    expect(() => gamma(k, NaN)).toThrow(ValueError);
    expect(() => beta(k, 1, -2)).toThrow(/beta: b must be a number > 0, got -2/);
    expect(() => dirichlet(k, [1, -2])).toThrow(/dirichlet: alpha must hold numbers > 0, got alpha\[1\] = -2/);
    expect(() => categorical(k, [0, NaN])).toThrow(/categorical: logits must be numbers below \+Infinity, got logits\[1\] = NaN/);
    expect(() => bernoulli(k, 1.5)).toThrow(/bernoulli: p must be a probability in \[0, 1\], got 1.5/);
    expect(() => poisson(k, -1)).toThrow(/poisson: rate must be a number >= 0, got -1/);
  });
  it('dtypes', () => {
    expect(() => uniform(k, [2], { dtype: 'int32' as 'float32' })).toThrow(DTypeError);
    expect(() => normal(k, [2], { dtype: 'int32' as 'float32' })).toThrow(/normal: dtype must be 'float32' or 'float64', got int32/);
    expect(() => gamma(k, tensor([1, 2], undefined, 'int32'))).toThrow(/gamma: alpha must be float32 or float64, got int32/);
    expect(() => bernoulli(k, 0.5, [2], { dtype: 'float16' as 'float32' })).toThrow(DTypeError);
  });
});
