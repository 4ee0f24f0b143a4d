/**
 * The diffusion U-Net against PyTorch (outputs and gradients frozen by scripts/golden/ddpm_unet.py),
 * on the js and cpu backends, compiled against eager; the decoders against their closed forms; L_vlb
 * against the bound (its expectation) and finite differences; bad input.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from '../../ts/compile/index.js';
import type { Tensor } from '../../ts/core/tensor.js';
import { leaves } from '../../ts/core/tree.js';
import * as V from '../../ts/index.js';

const D = V.diffusion;

interface Golden {
  T: number;
  channels: number;
  embDim: number;
  timeDim: number;
  height: number;
  width: number;
  params: Record<string, { shape: number[]; data: number[] }>;
  x: number[];
  t: number[];
  w: number[];
  out: number[];
  grads: Record<string, number[]>;
}
const G = JSON.parse(readFileSync(new URL('../fixtures/ddpm-unet.json', import.meta.url), 'utf8')) as Golden;

/** Replaces every leaf of `tree` by the golden tensor of the same path (the state_dict name). */
function fromGolden<P>(tree: P, get: (name: string) => Tensor, prefix = ''): P {
  if (tree instanceof V.Tensor) return get(prefix) as P;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(tree as Record<string, unknown>)) out[k] = fromGolden(v, get, prefix === '' ? k : `${prefix}.${k}`);
  return out as P;
}

/** Flattened leaves of a tree with their dotted paths. */
function named(tree: unknown, prefix = '', out: [string, Tensor][] = []): [string, Tensor][] {
  if (tree instanceof V.Tensor) out.push([prefix, tree]);
  else for (const [k, v] of Object.entries(tree as Record<string, unknown>)) named(v, prefix === '' ? k : `${prefix}.${k}`, out);
  return out;
}

const tinyNet = (): ReturnType<typeof D.UNet> => D.UNet(G.T, { channels: G.channels, embDim: G.embDim, timeDim: G.timeDim, height: G.height, width: G.width, dtype: 'float64' });
const goldenParams = (net: ReturnType<typeof D.UNet>): V.diffusion.UNetParams =>
  fromGolden(net.init(V.key(0)), (name) => {
    const p = G.params[name];
    if (p === undefined) throw new Error(`no golden parameter ${name}`);
    return V.tensor(p.data, p.shape, 'float64');
  });

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('the diffusion U-Net', () => {
  it('matches PyTorch (output and every parameter gradient), on js and cpu', () => {
    const prev = V.getBackend();
    try {
      for (const be of ['js', 'cpu'] as const) {
        V.setBackend(be);
        const net = tinyNet();
        const p = goldenParams(net);
        expect(named(p).length).toBe(Object.keys(G.params).length);
        const x = V.tensor(G.x, [3, G.height * G.width], 'float64');
        const t = V.tensor(G.t, [3], 'float64');
        const w = V.tensor(G.w, [3, G.height * G.width], 'float64');
        expect(maxAbsDiff(net.apply(p, x, t).dataSync(), G.out)).toBeLessThan(1e-10);
        // The image layout gives the same numbers.
        const img = net.apply(p, V.reshape(x, [3, 1, G.height, G.width]), t);
        expect(img.shape).toEqual([3, 1, G.height, G.width]);
        expect(maxAbsDiff(img.dataSync(), G.out)).toBeLessThan(1e-10);
        const g = V.grad((q: V.diffusion.UNetParams) => V.sum(V.mul(net.apply(q, x, t), w)))(p);
        for (const [name, gt] of named(g)) expect(maxAbsDiff(gt.dataSync(), G.grads[name]), name).toBeLessThan(1e-9);
      }
    } finally {
      V.setBackend(prev);
    }
  });

  it('a compiled L_simple step equals the eager one', () => {
    const net = tinyNet();
    const s = D.linearSchedule(G.T);
    const opt = V.adam(1e-2);
    const fn = (st: { p: V.diffusion.UNetParams; o: ReturnType<typeof opt.init> }, xb: Tensor, k: V.Key): { p: V.diffusion.UNetParams; o: ReturnType<typeof opt.init>; l: Tensor } => {
      const [l, g] = V.valueAndGrad((p: V.diffusion.UNetParams) => D.ddpmSimpleLoss(net, p, s, xb, k))(st.p);
      const [u, o] = opt.update(g, st.o, st.p);
      return { p: V.applyUpdates(st.p, u), o, l };
    };
    const step = compile(fn);
    const p0 = goldenParams(net);
    const x = V.tensor(G.x, [3, 64], 'float64');
    let a = { p: p0, o: opt.init(p0) };
    let b = { p: p0, o: opt.init(p0) };
    for (let i = 0; i < 4; i++) {
      const k = V.foldIn(V.key(5), i);
      const ra = step(a, x, k);
      const rb = fn(b, x, k);
      expect(ra.l.item()).toBeCloseTo(rb.l.item(), 10);
      a = { p: ra.p, o: ra.o };
      b = { p: rb.p, o: rb.o };
    }
    const la = leaves(a.p);
    const lb = leaves(b.p);
    for (let i = 0; i < la.length; i++) expect(maxAbsDiff(la[i].dataSync(), lb[i].dataSync())).toBeLessThan(1e-10);
  });

  it('rejects images of the wrong size and bad configurations, naming them', () => {
    const net = D.UNet(100);
    const p = net.init(V.key(0));
    const t = V.full([2], 3, 'float32');
    expect(() => net.apply(p, V.zeros([2, 780], 'float32'), t)).toThrow(/UNet: images must be \[n, 784\] or \[n, 1, 28, 28\], got \[2, 780\]/);
    expect(() => net.apply(p, V.zeros([2, 1, 32, 32], 'float32'), t)).toThrow(/got \[2, 1, 32, 32\]/);
    expect(() => net.apply(p, V.zeros([2, 784], 'float32'), V.full([3], 3, 'float32'))).toThrow(/t must hold one step per image \(2\), got \[3\]/);
    expect(() => D.UNet(100, { height: 30 })).toThrow(/multiples of 4.*got 30×28/);
    expect(() => D.UNet(100, { channels: 0 })).toThrow(/channels must be a positive integer, got 0/);
    expect(() => D.UNet(0)).toThrow(/UNet: T must be a positive integer, got 0/);
    expect(() => D.UNet(100, { embDim: 5 })).toThrow(/embDim must be an even integer >= 2, got 5/);
  });
});

describe('decoders and L_vlb', () => {
  it('the discretized decoder gives probabilities that sum to one and integrate the Gaussian over each bin', () => {
    const sigma2 = 0.04;
    const mu = 0.13;
    const levels = Float64Array.from({ length: 256 }, (_, v) => v / 127.5 - 1);
    const lp = D.decoderLogLik('discretized', V.tensor(levels, [256, 1], 'float64'), V.full([256, 1], mu, 'float64'), sigma2).dataSync();
    let total = 0;
    for (const v of lp) total += Math.exp(v);
    expect(total).toBeCloseTo(1, 10);
    // Simpson's rule over the bin of level 140 (x = 0.098…): [x − 1/255, x + 1/255].
    const x = levels[140];
    const pdf = (u: number): number => Math.exp(-((u - mu) ** 2) / (2 * sigma2)) / Math.sqrt(2 * Math.PI * sigma2);
    const a = x - 1 / 255;
    const b = x + 1 / 255;
    const m = 200;
    let s = pdf(a) + pdf(b);
    for (let i = 1; i < m; i++) s += (i % 2 === 1 ? 4 : 2) * pdf(a + ((b - a) * i) / m);
    expect(Math.exp(lp[140])).toBeCloseTo((s * (b - a)) / (3 * m), 12);
    // The Gaussian decoder is the closed-form density, summed over the row.
    const g = D.decoderLogLik('gaussian', V.tensor([[0.5, -1]], [1, 2], 'float64'), V.tensor([[0, 0]], [1, 2], 'float64'), 0.25).item();
    expect(g).toBeCloseTo(-0.5 * (0.25 + 1) / 0.25 - Math.log(2 * Math.PI * 0.25), 12);
    expect(() => D.decoderLogLik('bernoulli' as 'gaussian', V.zeros([1, 1]), V.zeros([1, 1]), 1)).toThrow(/decoder must be 'gaussian' or 'discretized', got 'bernoulli'/);
    expect(() => D.decoderLogLik('gaussian', V.zeros([1, 1]), V.zeros([1, 1]), 0)).toThrow(/sigma2 must be positive, got 0/);
  });

  const s = D.linearSchedule(8);
  const net = D.EpsilonMLP(2, 8, { hidden: [8], dtype: 'float64' });
  const p = net.init(V.key(3));
  const x0 = V.mul(V.normal(V.key(4), [64, 2], { dtype: 'float64' }), 0.5);

  it('L_vlb averages to the bound that ddpmBound evaluates term by term', () => {
    // x₀ ~ N(0, 0.25 I) has the optimal ε(x_t, t) = √(1 − ᾱ_t)·x_t / (0.25 ᾱ_t + 1 − ᾱ_t) in closed
    // form, so both estimates have a small variance.
    const ab = V.tensor(s.alphaBars, [s.T], 'float64');
    const opt: V.diffusion.EpsilonNet<null> = {
      init: () => null,
      apply: (_p, x, t) => {
        const a = V.reshape(V.gather(ab, V.cast(V.sub(t, 1), 'int32'), 0), [-1, 1]);
        return V.div(V.mul(x, V.sqrt(V.sub(1, a))), V.add(V.mul(a, 0.25), V.sub(1, a)));
      },
    };
    const mean = (a: number[]): [number, number] => {
      const m = a.reduce((p, v) => p + v, 0) / a.length;
      return [m, Math.sqrt(a.reduce((p, v) => p + (v - m) ** 2, 0) / (a.length - 1) / a.length)];
    };
    const [bound, seB] = mean(Array.from({ length: 8 }, (_, i) => -D.ddpmBound((xt, t) => opt.apply(null, xt, V.full([xt.shape[0]], t, 'float64')), s, x0, V.key(100 + i)).elbo));
    const [m, seV] = mean(Array.from({ length: 400 }, (_, i) => V.tidy(() => D.ddpmVlbLoss(opt, null, s, x0, V.key(1000 + i)).item())));
    expect(Math.abs(m - bound)).toBeLessThan(4 * Math.hypot(seB, seV));
    // A scale for the comparison: the two estimates are not both near zero.
    expect(bound).toBeGreaterThan(0.5);
    expect(Math.hypot(seB, seV)).toBeLessThan(0.1 * bound);
  });

  it('L_vlb has the gradient of its finite differences (both decoders)', () => {
    const x8 = V.tensor([-1, -0.2, 0.6, 1, 0.1, -0.9], [3, 2], 'float64');
    for (const decoder of ['gaussian', 'discretized'] as const) {
      // Key 8 draws t = 1 for one row, so the decoder term is in the gradient too.
      const f = (q: V.LinearParams[]): Tensor => D.ddpmVlbLoss(net, q, D.linearSchedule(8, 0.05, 0.3), x8, V.key(8), { decoder });
      const g = V.grad(f)(p);
      const w0 = p[0].weight.dataSync() as Float64Array;
      const gw = g[0].weight.dataSync();
      for (const j of [0, 5, 11]) {
        const at = (h: number): number => {
          const a = w0.slice();
          a[j] += h;
          return V.tidy(() => f([{ ...p[0], weight: V.tensor(a, p[0].weight.shape, 'float64') }, ...p.slice(1)]).item());
        };
        const fd = (at(1e-6) - at(-1e-6)) / 2e-6;
        expect(Math.abs(gw[j] - fd), `${decoder} weight ${j}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(fd)));
      }
    }
  });

  it('rejects bad options, naming them', () => {
    expect(() => D.ddpmVlbLoss(net, p, s, x0, V.key(0), { variance: 'fixed' as 'beta' })).toThrow(/ddpmVlbLoss: variance must be 'beta' or 'posterior', got 'fixed'/);
    expect(() => D.ddpmVlbLoss(net, p, s, x0, V.key(0), { decoder: 'logistic' as 'gaussian' })).toThrow(/ddpmVlbLoss: decoder must be .* got 'logistic'/);
    expect(() => D.ddpmBound((xt) => xt, s, x0, V.key(0), { decoder: 'x' as 'gaussian' })).toThrow(/ddpmBound: decoder must be/);
    expect(() => D.ddpmSimpleLoss(net, p, s, V.zeros([4], 'float64'), V.key(0))).toThrow(/ddpmSimpleLoss: x0 must be \[n, d\] with n >= 1, got \[4\]/);
    expect(() => D.ddpmSample((xt) => xt, s, 0, 2, V.key(0))).toThrow(/ddpmSample: n must be a positive integer, got 0/);
    expect(() => D.ddpmSample((xt) => xt, s, 2, 2, V.key(0), { clip: [1, -1] })).toThrow(/clip must be \[lo, hi\] with lo < hi, got \[1, -1\]/);
  });
});
