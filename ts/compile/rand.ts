/**
 * Random fills for replay that allocate nothing: the same Philox stream layout as the js kernels
 * (ts/random/philox.ts), drawing blocks on the fly instead of materializing the word stream.
 */
import type { TypedArray } from '../core/dtype.js';
import { philox4x32, TAG_FOLD, TAG_SPLIT, u32PairToFloat64, u32ToFloat32 } from '../random/philox.js';
import type { KeyDef } from './graph.js';

const TWO_32 = 4294967296;
const TWO_PI = 6.283185307179586;
const w = new Uint32Array(4);

function block(b: number, k0: number, k1: number): void {
  philox4x32(b >>> 0, Math.floor(b / TWO_32), 0, 0, k0, k1, w);
}

/** Words 0..n−1 of the stream, as int32 bit patterns. */
export function fillBits(k0: number, k1: number, out: TypedArray): void {
  const n = out.length;
  for (let j = 0, b = 0; j < n; j += 4, b++) {
    block(b, k0, k1);
    for (let l = 0; l < 4 && j + l < n; l++) out[j + l] = w[l] | 0;
  }
}

/** Uniform numbers in [0, 1) of the dtype's stream. */
export function fillUniform(k0: number, k1: number, out: TypedArray, float32: boolean): void {
  const n = out.length;
  if (float32) {
    for (let j = 0, b = 0; j < n; j += 4, b++) {
      block(b, k0, k1);
      for (let l = 0; l < 4 && j + l < n; l++) out[j + l] = u32ToFloat32(w[l]);
    }
  } else {
    for (let k = 0, b = 0; k < n; k += 2, b++) {
      block(b, k0, k1);
      out[k] = u32PairToFloat64(w[0], w[1]);
      if (k + 1 < n) out[k + 1] = u32PairToFloat64(w[2], w[3]);
    }
  }
}

/** Box–Muller normals: element 2m = r cos θ, 2m + 1 = r sin θ from uniforms 2m and 2m + 1. */
export function fillNormal(k0: number, k1: number, out: TypedArray, float32: boolean): void {
  const n = out.length;
  for (let m = 0; 2 * m < n; m++) {
    let u1: number;
    let u2: number;
    if (float32) {
      // Uniforms 2m and 2m+1 are words 2m and 2m+1: lanes 0,1 or 2,3 of block floor(m / 2).
      if ((m & 1) === 0) block(m >>> 1, k0, k1);
      const l = (m & 1) * 2;
      u1 = u32ToFloat32(w[l]);
      u2 = u32ToFloat32(w[l + 1]);
    } else {
      block(m, k0, k1);
      u1 = u32PairToFloat64(w[0], w[1]);
      u2 = u32PairToFloat64(w[2], w[3]);
    }
    const r = Math.sqrt(-2 * Math.log(1 - u1));
    const th = TWO_PI * u2;
    out[2 * m] = r * Math.cos(th);
    if (2 * m + 1 < n) out[2 * m + 1] = r * Math.sin(th);
  }
}

/** Writes the words of `foldIn(key(k0, k1), t)` into `out[0..1]` (a loop's key of step t). */
export function foldWords(t: number, k0: number, k1: number, out: Uint32Array): void {
  philox4x32(t >>> 0, 0, TAG_FOLD, 0, k0, k1, w);
  out[0] = w[0];
  out[1] = w[1];
}

/** Derives every key slot's words into `ks` (two per slot) from the input keys' words `kw`. */
export function deriveKeys(defs: readonly KeyDef[], kw: Uint32Array, ks: Uint32Array): void {
  for (let s = 0; s < defs.length; s++) {
    const d = defs[s];
    if (d.kind === 'input') {
      ks[2 * s] = kw[2 * d.index];
      ks[2 * s + 1] = kw[2 * d.index + 1];
    } else {
      philox4x32(d.arg, 0, d.kind === 'split' ? TAG_SPLIT : TAG_FOLD, 0, ks[2 * d.parent], ks[2 * d.parent + 1], w);
      ks[2 * s] = w[0];
      ks[2 * s + 1] = w[1];
    }
  }
}
