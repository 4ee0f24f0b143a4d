/**
 * The convolutional VAE and the prefetching loader: shapes and bad input; the forward terms of a
 * tiny float64 model (8×8 images) against an independent computation with plain loops; its loss
 * gradient against central differences (Bernoulli and Gaussian pixels); the PrefetchLoader against
 * MinibatchLoader batch for batch and bit for bit (two epochs, all binarizations, a last partial
 * batch, random access), training through it giving bit-identical parameters, and its worker
 * shutting down; and — when Debian's dataset-fashion-mnist is installed — a short training run.
 */
import { describe, expect, it } from 'vitest';
import * as V from '../../ts/index.js';
import type { Tensor } from '../../ts/core/tensor.js';
import { leaves, mapLeaves } from '../../ts/core/tree.js';
import { MinibatchLoader, binarizeStatic, type Binarization } from '../../ts/data/loader.js';
import { hasFashionMnist, loadFashionMnist, subset, type ImageDataset } from '../../ts/data/mnist.js';
import { PrefetchLoader } from '../../ts/data/prefetch.js';
import { ConvVAE, convTestElbo, convVaeLoss, trainConvVAE, type ConvVAEModel, type ConvVAEParams } from '../../ts/models/vae/conv.js';

const arr = (t: Tensor): number[] => Array.from(t.dataSync());

/** A synthetic data set of n h×w images with grey levels 0, 128 and 255, labels i mod 10. */
function synthetic(n: number, h: number, w: number, seed = 0): ImageDataset {
  const u = V.uniform(V.key(seed), [n * h * w], { dtype: 'float32' }).dataSync();
  const images = new Uint8Array(n * h * w).map((_, i) => (u[i] < 0.3 ? 255 : u[i] < 0.5 ? 128 : 0));
  return { name: 'synthetic', images, labels: new Uint8Array(n).map((_, i) => i % 10), n, rows: h, cols: w };
}

describe('ConvVAE shapes and bad input', () => {
  const vae = ConvVAE();
  const p = vae.init(V.key(0));
  const x = V.tensor(Float32Array.from(synthetic(3, 28, 28).images, (v) => (v > 100 ? 1 : 0)), [3, 784], 'float32');
  x.dataSync();

  it('gives per-sample log-likelihoods, KL per image, samples and reconstructions of the right shapes', () => {
    expect(p.enc1.weight.shape).toEqual([32, 1, 4, 4]);
    expect(p.enc2.weight.shape).toEqual([64, 32, 4, 4]);
    expect(p.mu.weight.shape).toEqual([16, 64 * 7 * 7]);
    expect(p.dec.weight.shape).toEqual([64 * 7 * 7, 16]);
    expect(p.dec1.weight.shape).toEqual([64, 32, 4, 4]);
    expect(p.dec2.weight.shape).toEqual([32, 1, 4, 4]);
    expect(p.pixelLogVar).toBeUndefined();
    const t = vae.forward(p, x, vae.noise(V.key(1), 2, 3));
    expect(t.logPx.shape).toEqual([2, 3]);
    expect(t.kl.shape).toEqual([3]);
    expect(arr(t.logPx).every((v) => Number.isFinite(v) && v < 0)).toBe(true);
    expect(arr(t.kl).every((v) => v >= 0)).toBe(true);
    // [N, 1, 28, 28] and [N, 784] are the same images.
    const t4 = vae.forward(p, V.reshape(x, [3, 1, 28, 28]), vae.noise(V.key(1), 2, 3));
    expect(arr(t4.logPx)).toEqual(arr(t.logPx));
    expect(vae.sample(p, V.key(2), 5).shape).toEqual([5, 784]);
    const r = vae.reconstruct(p, x);
    expect(r.shape).toEqual([3, 784]);
    expect(arr(r).every((v) => v > 0 && v < 1)).toBe(true);
    const g = ConvVAE({ likelihood: 'gaussian' });
    const pg = g.init(V.key(0));
    expect(pg.pixelLogVar?.shape).toEqual([784]);
    expect(g.forward(pg, x, g.noise(V.key(1), 1, 3)).logPx.shape).toEqual([1, 3]);
  });

  it('names the expected image size, noise shape and configuration errors', () => {
    const bad = V.zeros([2, 783], 'float32');
    expect(() => vae.forward(p, bad, vae.noise(V.key(1), 1, 2))).toThrow(V.ShapeError);
    expect(() => vae.forward(p, bad, vae.noise(V.key(1), 1, 2))).toThrow(/ConvVAE\.forward: x must be \[N, 1, 28, 28\] or \[N, 784\], got \[2, 783\]/);
    expect(() => vae.reconstruct(p, V.zeros([2, 1, 32, 32], 'float32'))).toThrow(/ConvVAE\.reconstruct: x must be \[N, 1, 28, 28\] or \[N, 784\], got \[2, 1, 32, 32\]/);
    expect(() => vae.encode(p, V.zeros([2, 784], 'float64'))).toThrow(/must be float32 like the parameters, got float64/);
    expect(() => vae.forward(p, x, V.zeros([1, 3, 8], 'float32'))).toThrow(/eps must be \[k, 3, 16\], got \[1, 3, 8\]/);
    expect(() => vae.decode(p, V.zeros([2, 5], 'float32'))).toThrow(/z must end in 16 latent dimensions/);
    expect(() => ConvVAE({ height: 30 })).toThrow(/multiples of 4.*30×28/);
    expect(() => ConvVAE({ z: 0 })).toThrow(/z \(the latent size\) must be an integer ≥ 1, got 0/);
    expect(() => ConvVAE({ likelihood: 'poisson' as 'gaussian' })).toThrow(/likelihood must be 'bernoulli' or 'gaussian'/);
    expect(() => convVaeLoss(vae, p, x, vae.noise(V.key(1), 1, 3), { beta: -1 })).toThrow(/beta must be a finite number ≥ 0, got -1/);
  });

  it('trainConvVAE rejects a loader of another image size', async () => {
    const opt = V.adam(1e-3);
    const loader = new MinibatchLoader(synthetic(20, 8, 8), { batchSize: 10, key: V.key(0) });
    await expect(trainConvVAE(vae, { params: p, optState: opt.init(p), step: 0 }, loader, { steps: 1, key: V.key(1), optimizer: opt })).rejects.toThrow(
      /trainConvVAE: the loader gives images of 64 pixels but the model takes 784/,
    );
  });
});

// ---- an independent computation of the tiny model's terms, with plain loops in float64 ----

type Img = { c: number; h: number; w: number; v: Float64Array };

function convRef(x: Img, w: Float64Array, b: Float64Array, outC: number): Img {
  const ho = x.h / 2;
  const wo = x.w / 2;
  const v = new Float64Array(outC * ho * wo);
  for (let o = 0; o < outC; o++)
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++) {
        let s = b[o];
        for (let c = 0; c < x.c; c++)
          for (let a = 0; a < 4; a++)
            for (let q = 0; q < 4; q++) {
              const r = 2 * i + a - 1;
              const t = 2 * j + q - 1;
              if (r >= 0 && r < x.h && t >= 0 && t < x.w) s += w[((o * x.c + c) * 4 + a) * 4 + q] * x.v[(c * x.h + r) * x.w + t];
            }
        v[(o * ho + i) * wo + j] = s;
      }
  return { c: outC, h: ho, w: wo, v };
}

/** Transposed convolution by its definition: every input pixel spreads w[c, o] over a 4×4 window. */
function convTRef(x: Img, w: Float64Array, b: Float64Array, outC: number): Img {
  const ho = x.h * 2;
  const wo = x.w * 2;
  const v = new Float64Array(outC * ho * wo);
  for (let o = 0; o < outC; o++) for (let p = 0; p < ho * wo; p++) v[o * ho * wo + p] = b[o];
  for (let c = 0; c < x.c; c++)
    for (let i = 0; i < x.h; i++)
      for (let j = 0; j < x.w; j++)
        for (let o = 0; o < outC; o++)
          for (let a = 0; a < 4; a++)
            for (let q = 0; q < 4; q++) {
              const r = 2 * i + a - 1;
              const t = 2 * j + q - 1;
              if (r >= 0 && r < ho && t >= 0 && t < wo) v[(o * ho + r) * wo + t] += w[((c * outC + o) * 4 + a) * 4 + q] * x.v[(c * x.h + i) * x.w + j];
            }
  return { c: outC, h: ho, w: wo, v };
}

const relu = (im: Img): Img => ({ ...im, v: im.v.map((a) => Math.max(0, a)) });
function linRef(x: Float64Array, w: Float64Array, b: Float64Array): Float64Array {
  const out = b.length;
  const inF = x.length;
  return new Float64Array(out).map((_, o) => {
    let s = b[o];
    for (let i = 0; i < inF; i++) s += w[o * inF + i] * x[i];
    return s;
  });
}

/** log p(x|z) and KL of one image with one noise vector, by the formulas of the module comment. */
function termsRef(P: Record<string, Float64Array>, img: Float64Array, eps: Float64Array, c1: number, c2: number, Z: number): [number, number] {
  const h1 = relu(convRef({ c: 1, h: 8, w: 8, v: img }, P.enc1w, P.enc1b, c1));
  const h2 = relu(convRef(h1, P.enc2w, P.enc2b, c2));
  const mu = linRef(h2.v, P.muw, P.mub);
  const lv = linRef(h2.v, P.lvw, P.lvb).map((v) => Math.min(10, Math.max(-10, v)));
  const z = mu.map((m, j) => m + Math.exp(lv[j] / 2) * eps[j]);
  let kl = 0;
  for (let j = 0; j < Z; j++) kl += 0.5 * (mu[j] ** 2 + Math.exp(lv[j]) - lv[j] - 1);
  const hd = linRef(z, P.decw, P.decb).map((v) => Math.max(0, v));
  const g = relu(convTRef({ c: c2, h: 2, w: 2, v: hd }, P.dec1w, P.dec1b, c1));
  const out = convTRef(g, P.dec2w, P.dec2b, 1).v;
  let lp = 0;
  for (let p = 0; p < 64; p++) lp += img[p] * out[p] - Math.log1p(Math.exp(out[p]));
  return [lp, kl];
}

describe('ConvVAE on 8×8 images in float64', () => {
  const c1 = 2;
  const c2 = 3;
  const Z = 2;
  const B = 3;
  const x = V.tensor(Float64Array.from(synthetic(B, 8, 8, 4).images, (v) => (v > 100 ? 1 : 0)), [B, 64], 'float64');
  x.dataSync();
  const tiny = (likelihood: 'bernoulli' | 'gaussian'): ConvVAEModel => ConvVAE({ height: 8, width: 8, channels: [c1, c2], z: Z, likelihood, dtype: 'float64' });

  it('computes the same log p(x|z) and KL as plain loops', () => {
    const vae = tiny('bernoulli');
    const p = vae.init(V.key(3));
    const eps = vae.noise(V.key(4), 1, B);
    const t = vae.forward(p, x, eps);
    const f = (tt: Tensor): Float64Array => Float64Array.from(tt.dataSync());
    const P = {
      enc1w: f(p.enc1.weight), enc1b: f(p.enc1.bias as Tensor), enc2w: f(p.enc2.weight), enc2b: f(p.enc2.bias as Tensor),
      muw: f(p.mu.weight), mub: f(p.mu.bias as Tensor), lvw: f(p.logVar.weight), lvb: f(p.logVar.bias as Tensor),
      decw: f(p.dec.weight), decb: f(p.dec.bias as Tensor), dec1w: f(p.dec1.weight), dec1b: f(p.dec1.bias as Tensor), dec2w: f(p.dec2.weight), dec2b: f(p.dec2.bias as Tensor),
    };
    const xs = f(x);
    const es = f(eps);
    for (let b = 0; b < B; b++) {
      const [lp, kl] = termsRef(P, xs.subarray(b * 64, b * 64 + 64), es.subarray(b * Z, b * Z + Z), c1, c2, Z);
      expect(arr(t.logPx)[b]).toBeCloseTo(lp, 10);
      expect(arr(t.kl)[b]).toBeCloseTo(kl, 10);
    }
  });

  for (const likelihood of ['bernoulli', 'gaussian'] as const)
    it(`loss gradient matches central differences (${likelihood} pixels, k = 2, β = 0.7)`, () => {
      const vae = tiny(likelihood);
      const p0 = vae.init(V.key(5));
      // Move the per-pixel log-variances off zero so their gradient is not special.
      const p: ConvVAEParams = likelihood === 'gaussian' ? { ...p0, pixelLogVar: V.mul(V.uniform(V.key(9), [64], { dtype: 'float64' }), -2) } : p0;
      const xg = likelihood === 'gaussian' ? V.tensor(Float64Array.from(synthetic(B, 8, 8, 4).images, (v) => v / 255), [B, 64], 'float64') : x;
      const eps = vae.noise(V.key(6), 2, B);
      const lossOf = (q: ConvVAEParams): Tensor => convVaeLoss(vae, q, xg, eps, { beta: 0.7 }).loss;
      const [, g] = V.valueAndGrad(lossOf)(p);
      const h = 1e-6;
      let checked = 0;
      const leavesP = leaves(p);
      const leavesG = leaves(g);
      leavesP.forEach((leaf, li) => {
        const base = Float64Array.from(leaf.dataSync());
        const gd = leavesG[li].dataSync();
        // A spread of entries of every parameter tensor.
        for (let j = 0; j < base.length; j += Math.max(1, Math.floor(base.length / 4))) {
          const at = (delta: number): number => {
            const v = Float64Array.from(base);
            v[j] += delta;
            const t = V.tensor(v, leaf.shape, 'float64');
            const q = mapLeaves(p, (u) => (u === leaf ? t : u)) as ConvVAEParams;
            return lossOf(q).item();
          };
          const fd = (at(h) - at(-h)) / (2 * h);
          expect(Math.abs(gd[j] - fd)).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
          checked++;
        }
      });
      expect(checked).toBeGreaterThan(40);
    });
});

describe('PrefetchLoader', () => {
  const same = (a: MinibatchLoader, b: MinibatchLoader, e: number, i: number): void => {
    const x = a.batch(e, i);
    const y = b.batch(e, i);
    expect([y.epoch, y.index, y.size]).toEqual([x.epoch, x.index, x.size]);
    expect(y.x.shape).toEqual(x.x.shape);
    // Bit for bit: equal Float32 bit patterns.
    expect(Buffer.from(new Float32Array(y.x.dataSync()).buffer).equals(Buffer.from(new Float32Array(x.x.dataSync()).buffer))).toBe(true);
    expect(arr(y.labels)).toEqual(arr(x.labels));
    expect(Array.from(y.indices)).toEqual(Array.from(x.indices));
  };
  const data: [string, () => ImageDataset][] = [['synthetic 28×28', () => synthetic(530, 28, 28, 2)]];
  if (hasFashionMnist()) data.push(['Fashion-MNIST', () => subset(loadFashionMnist('train'), 1030)]);

  for (const [name, ds] of data)
    for (const binarize of ['dynamic', 'none', 'static'] as Binarization[])
      it(`gives MinibatchLoader's batches bit for bit over 2 epochs (${name}, binarize '${binarize}')`, async () => {
        const d = ds();
        const opts = { batchSize: 100, key: V.key(7), binarize, dropLast: false };
        const a = new MinibatchLoader(d, opts);
        const b = new PrefetchLoader(d, opts);
        try {
          expect([b.batchesPerEpoch, b.dim, b.n, b.batchSize]).toEqual([a.batchesPerEpoch, a.dim, a.n, a.batchSize]);
          for (let e = 0; e < 2; e++) for (let i = 0; i < a.batchesPerEpoch; i++) same(a, b, e, i);
          // Only the first batch was made on the main thread; the rest came from the worker.
          expect(b.stats.direct).toBe(1);
          expect(b.stats.prefetched).toBe(2 * a.batchesPerEpoch - 1);
          // Random access (a resumed run): still the same batches.
          same(a, b, 3, 2);
          same(a, b, 0, 0);
          same(a, b, 0, 1);
          expect(b.stats.direct).toBe(3);
        } finally {
          await b.close();
        }
      });

  it('the static binarization is the one MinibatchLoader makes', () => {
    const d = synthetic(100, 28, 28, 3);
    const fixed = binarizeStatic(d.images, V.foldIn(V.key(7), 0x5747));
    const b = new MinibatchLoader(d, { batchSize: 100, key: V.key(7), binarize: 'static', shuffle: false });
    expect(arr(b.batch(0, 0).x)).toEqual(Array.from(fixed));
  });

  it('trains to bit-identical parameters through trainLoop, and shuts its worker down', async () => {
    const vae = ConvVAE({ height: 8, width: 8, channels: [4, 8], z: 3 });
    const d = synthetic(120, 8, 8, 5);
    const opt = V.adam(1e-3);
    const p0 = vae.init(V.key(0));
    const run = async (loader: MinibatchLoader): Promise<ConvVAEParams> =>
      (await trainConvVAE(vae, { params: p0, optState: opt.init(p0), step: 0 }, loader, { steps: 25, key: V.key(1), optimizer: opt })).state.params;
    const opts = { batchSize: 20, key: V.key(2), binarize: 'dynamic' as const };
    const pa = await run(new MinibatchLoader(d, opts));
    const pf = new PrefetchLoader(d, opts);
    const pb = await run(pf);
    leaves(pa).forEach((t, i) => expect(arr(leaves(pb)[i])).toEqual(arr(t)));
    expect(pf.stats.prefetched).toBe(24);
    // close() resolves once the worker thread has exited; later batches are made on this thread.
    const exited = await Promise.race([pf.close().then(() => 'exited'), new Promise((r) => setTimeout(() => r('timeout'), 5000))]);
    expect(exited).toBe('exited');
    const direct = pf.stats.direct;
    pf.batch(0, 0);
    expect(pf.stats.direct).toBe(direct);
    expect(() => new PrefetchLoader(d, { ...opts, depth: 0 })).toThrow(/PrefetchLoader: depth must be a positive integer, got 0/);
  });
});

describe.skipIf(!hasFashionMnist())('Fashion-MNIST', () => {
  it('a narrow conv VAE trains on 1,000 images for 200 steps past a test ELBO of −290 nats', async () => {
    const train = subset(loadFashionMnist('train'), 1000);
    const test = subset(loadFashionMnist('test'), 500);
    const testX = V.tensor(Float32Array.from(binarizeStatic(test.images, V.key(8))), [500, 784], 'float32');
    const vae = ConvVAE({ channels: [8, 16], z: 8 });
    const opt = V.adam(3e-3);
    const p0 = vae.init(V.key(0));
    const before = convTestElbo(vae, p0, testX, { key: V.key(9) });
    const loader = new PrefetchLoader(train, { batchSize: 50, key: V.key(1), binarize: 'dynamic' });
    try {
      const r = await trainConvVAE(vae, { params: p0, optState: opt.init(p0), step: 0 }, loader, { steps: 200, key: V.key(2), optimizer: opt });
      const after = convTestElbo(vae, r.state.params, testX, { key: V.key(9) });
      expect(r.nonFinite).toEqual([]);
      // Measured −581.2 before training and −273.3 after (cpu backend); threshold with margin.
      expect(before).toBeLessThan(-550);
      expect(after).toBeGreaterThan(-290);
    } finally {
      await loader.close();
    }
  });
});
