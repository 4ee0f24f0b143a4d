/**
 * Random kernels of the js backend. Each follows the Philox stream layout pinned in
 * ts/random/philox.ts word for word; the Rust and CUDA kernels port the same layout, so any
 * change here must change there too. All arithmetic is float64; outputs round to their dtype on
 * the final store.
 */
import type { TypedArray } from '../../core/dtype.js';
import { broadcastStrides } from '../../core/shape.js';
import { philox4x32, TAG_GAMMA, TAG_POISSON, u32PairToFloat64, u32ToFloat32 } from '../../random/philox.js';
import type { KeyAttr } from '../../kernels/spec.js';
import type { CpuKernelTable, CpuView } from '../backend.js';
import { broadcastLoop2 } from './elementwise.js';
import { lgamma } from './special.js';

const TWO_32 = 4294967296;
const TWO_PI = 6.283185307179586;
/** ½ log 2π, the constant of the standard normal log-density. */
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
/** Attempts of a per-element rejection sampler before it gives NaN (never reached in practice). */
export const MAX_ATTEMPTS = 4096;
/** The gamma block holding the boost uniform for alpha < 1. */
const GAMMA_BOOST_BLOCK = 0xffffffff;
/** Rates at or above this use PTRS; below it, Knuth's product of uniforms. */
export const POISSON_PTRS_MIN_RATE = 10;

/** Per-call scratch for one Philox block: no allocation inside element loops. */
const w = new Uint32Array(4);

/** Words 0..count-1 of the stream of key (k0, k1). */
function streamWords(key: KeyAttr, count: number): Uint32Array {
  const out = new Uint32Array(count);
  const k0 = key[0];
  const k1 = key[1];
  for (let j = 0, b = 0; j < count; j += 4, b++) {
    philox4x32(b >>> 0, Math.floor(b / TWO_32), 0, 0, k0, k1, w);
    const m = Math.min(4, count - j);
    for (let l = 0; l < m; l++) out[j + l] = w[l];
  }
  return out;
}

/** Uniform numbers 0..n-1 of the dtype's uniform stream, in [0, 1). */
function fillUniform(key: KeyAttr, out: TypedArray, float32: boolean): void {
  const n = out.length;
  if (float32) {
    const words = streamWords(key, n);
    for (let k = 0; k < n; k++) out[k] = u32ToFloat32(words[k]);
  } else {
    const words = streamWords(key, 2 * n);
    for (let k = 0; k < n; k++) out[k] = u32PairToFloat64(words[2 * k], words[2 * k + 1]);
  }
}

/** Box–Muller pairs over the dtype's uniform stream: element 2m = r cos θ, 2m + 1 = r sin θ. */
export function fillNormal(key: KeyAttr, out: TypedArray, float32: boolean): void {
  const n = out.length;
  const u = new Float64Array(2 * Math.ceil(n / 2));
  fillUniform(key, u, float32);
  // float32 uniforms have 24 bits, so holding them in a Float64Array is exact.
  for (let m = 0; 2 * m < n; m++) {
    const r = Math.sqrt(-2 * Math.log(1 - u[2 * m]));
    const th = TWO_PI * u[2 * m + 1];
    out[2 * m] = r * Math.cos(th);
    if (2 * m + 1 < n) out[2 * m + 1] = r * Math.sin(th);
  }
}

/**
 * The fused reparameterized sample: ε from `fillNormal` for z's shape (the draws of randomNormal),
 * then z = loc + exp(logScale)·ε and log q = −½ε² − logScale − ½ log 2π with loc and logScale
 * broadcast. Every step rounds to the dtype as the unfused kernels store it (exp, mul, add;
 * square, mul, sub, sub), so the result equals that chain bit for bit.
 */
function normalReparam(key: KeyAttr, loc: CpuView, logScale: CpuView, z: CpuView, logq: CpuView): void {
  const float32 = z.dtype === 'float32';
  const r = float32 ? Math.fround : (v: number): number => v;
  const eps = z.data;
  fillNormal(key, eps, float32);
  const m = loc.data;
  const s = logScale.data;
  const lq = logq.data;
  const c = r(HALF_LOG_2PI);
  const sl = broadcastStrides(loc.shape, z.shape);
  const ss = broadcastStrides(logScale.shape, z.shape);
  broadcastLoop2(z.shape, sl, ss, (i, il, is) => {
    const e = eps[i];
    eps[i] = m[il] + r(r(Math.exp(s[is])) * e);
    lq[i] = r(r(r(e * e) * -0.5) - s[is]) - c;
  });
}

/**
 * One gamma(alpha, 1) draw for element i: Marsaglia–Tsang on counters [i mod 2^32, block,
 * TAG_GAMMA, floor(i / 2^32)], boosted by u^(1/alpha) when alpha < 1.
 */
export function gammaElement(alpha: number, i: number, k0: number, k1: number): number {
  if (!(alpha > 0)) return NaN;
  if (alpha === Infinity) return Infinity;
  const c0 = i >>> 0;
  const c3 = Math.floor(i / TWO_32) >>> 0;
  const boost = alpha < 1;
  const d = (boost ? alpha + 1 : alpha) - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  let g = NaN;
  for (let t = 0; t < MAX_ATTEMPTS; t++) {
    philox4x32(c0, 2 * t, TAG_GAMMA, c3, k0, k1, w);
    const x = Math.sqrt(-2 * Math.log(1 - u32PairToFloat64(w[0], w[1]))) * Math.cos(TWO_PI * u32PairToFloat64(w[2], w[3]));
    const v1 = 1 + c * x;
    // Block 2t+1 is only read when the candidate is positive; counters make skipping it free.
    if (v1 <= 0) continue;
    const v = v1 * v1 * v1;
    philox4x32(c0, 2 * t + 1, TAG_GAMMA, c3, k0, k1, w);
    const u = u32PairToFloat64(w[0], w[1]);
    const x2 = x * x;
    if (u < 1 - 0.0331 * x2 * x2 || Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) {
      g = d * v;
      break;
    }
  }
  if (boost) {
    philox4x32(c0, GAMMA_BOOST_BLOCK, TAG_GAMMA, c3, k0, k1, w);
    g *= Math.pow(1 - u32PairToFloat64(w[0], w[1]), 1 / alpha);
  }
  return g;
}

/**
 * One Poisson(rate) draw for element i on counters [i mod 2^32, block, TAG_POISSON,
 * floor(i / 2^32)]: Knuth's product of uniforms below rate 10, Hörmann's PTRS from 10 up.
 */
export function poissonElement(rate: number, i: number, k0: number, k1: number): number {
  if (!(rate >= 0)) return NaN;
  if (rate === 0) return 0;
  if (rate === Infinity) return Infinity;
  const c0 = i >>> 0;
  const c3 = Math.floor(i / TWO_32) >>> 0;
  if (rate < POISSON_PTRS_MIN_RATE) {
    // Uniform k is pair (w0, w1) of block floor(k / 2) when k is even, (w2, w3) when odd.
    const limit = Math.exp(-rate);
    let p = 1;
    for (let k = 0; k < 2 * MAX_ATTEMPTS; k++) {
      if ((k & 1) === 0) {
        philox4x32(c0, k >>> 1, TAG_POISSON, c3, k0, k1, w);
        p *= u32PairToFloat64(w[0], w[1]);
      } else p *= u32PairToFloat64(w[2], w[3]);
      if (p <= limit) return k;
    }
    return NaN;
  }
  const slam = Math.sqrt(rate);
  const loglam = Math.log(rate);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (let t = 0; t < MAX_ATTEMPTS; t++) {
    philox4x32(c0, t, TAG_POISSON, c3, k0, k1, w);
    const u = u32PairToFloat64(w[0], w[1]) - 0.5;
    const v = u32PairToFloat64(w[2], w[3]);
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + rate + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (Math.log(v) + Math.log(invalpha) - Math.log(a / (us * us) + b) <= -rate + k * loglam - lgamma(k + 1)) return k;
  }
  return NaN;
}

export const RANDOM: CpuKernelTable = {
  randomBits: (_ins, [out], { key }) => {
    const o = out.data;
    const words = streamWords(key, o.length);
    for (let j = 0; j < o.length; j++) o[j] = words[j] | 0;
  },
  randomUniform: (_ins, [out], { key, dtype }) => fillUniform(key, out.data, dtype === 'float32'),
  randomNormal: (_ins, [out], { key, dtype }) => fillNormal(key, out.data, dtype === 'float32'),
  normalReparam: ([loc, logScale], [z, logq], { key }) => normalReparam(key, loc, logScale, z, logq),
  randomGamma: ([alpha], [out], { key }) => {
    const a = alpha.data;
    const o = out.data;
    for (let i = 0; i < o.length; i++) o[i] = gammaElement(a[i], i, key[0], key[1]);
  },
  randomPoisson: ([rate], [out], { key }) => {
    const r = rate.data;
    const o = out.data;
    for (let i = 0; i < o.length; i++) o[i] = poissonElement(r[i], i, key[0], key[1]);
  },
};
