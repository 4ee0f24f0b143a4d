/**
 * Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011), the
 * counter-based generator behind every random function. This file is the reference every backend
 * (js, Rust, CUDA) reproduces bit for bit. The layout:
 *
 * - A key is two uint32 words [k0, k1]. `philox(k, c)` maps a 4-word counter c to 4 words.
 * - Stream words: word j of a stream is lane (j & 3) of philox(key, [b mod 2^32, floor(b / 2^32), 0, 0])
 *   with b = floor(j / 4). `randomBits` returns words 0..n-1 (as int32 bit patterns).
 * - Uniform float32 number k: (word_k >>> 8) * 2^-24, in [0, 1).
 *   Uniform float64 number k: ((word_2k >>> 5) * 2^26 + (word_2k+1 >>> 6)) * 2^-53, in [0, 1).
 * - Normal element i (Box–Muller, float64 arithmetic, then rounded to the dtype): with m = floor(i / 2),
 *   u1 = uniform number 2m, u2 = uniform number 2m + 1 (of the dtype's uniform stream),
 *   r = sqrt(-2 ln(1 - u1)), θ = 2π u2; element 2m is r cos θ, element 2m + 1 is r sin θ.
 * - Per-element rejection samplers (gamma, Poisson) draw from their own counters
 *   [i mod 2^32, t, TAG, floor(i / 2^32)] for element i and attempt word t, where a block's four
 *   words give two float64 uniforms: (w0, w1) and (w2, w3) by the float64 rule above.
 * - split(key, n): key i is words 0 and 1 of philox(key, [i, 0, TAG_SPLIT, 0]).
 *   foldIn(key, d): words 0 and 1 of philox(key, [d, 0, TAG_FOLD, 0]).
 */

export const TAG_SPLIT = 0x53504c54; // 'SPLT'
export const TAG_FOLD = 0x464f4c44; // 'FOLD'
export const TAG_GAMMA = 0x47414d4d; // 'GAMM'
export const TAG_POISSON = 0x504f4953; // 'POIS'

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two uint32. */
function mulhi(a: number, b: number): number {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const lolo = aLo * bLo;
  const mid1 = aHi * bLo;
  const mid2 = aLo * bHi;
  const carry = ((lolo >>> 16) + (mid1 & 0xffff) + (mid2 & 0xffff)) >>> 16;
  return (aHi * bHi + (mid1 >>> 16) + (mid2 >>> 16) + carry) >>> 0;
}

/**
 * One Philox-4x32-10 block: writes the four output words for counter (c0..c3) and key (k0, k1)
 * into `out` (as uint32 values).
 */
export function philox4x32(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array | number[],
): void {
  let x0 = c0 >>> 0;
  let x1 = c1 >>> 0;
  let x2 = c2 >>> 0;
  let x3 = c3 >>> 0;
  let key0 = k0 >>> 0;
  let key1 = k1 >>> 0;
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi(M0, x0);
    const lo0 = Math.imul(M0, x0) >>> 0;
    const hi1 = mulhi(M1, x2);
    const lo1 = Math.imul(M1, x2) >>> 0;
    x0 = (hi1 ^ x1 ^ key0) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ key1) >>> 0;
    x3 = lo0;
    key0 = (key0 + W0) >>> 0;
    key1 = (key1 + W1) >>> 0;
  }
  out[0] = x0;
  out[1] = x1;
  out[2] = x2;
  out[3] = x3;
}

/** float32 uniform in [0, 1) from one word. */
export function u32ToFloat32(w: number): number {
  return (w >>> 8) * 5.960464477539063e-8;
}

/** float64 uniform in [0, 1) from two words. */
export function u32PairToFloat64(w0: number, w1: number): number {
  return ((w0 >>> 5) * 67108864 + (w1 >>> 6)) * 1.1102230246251565e-16;
}
