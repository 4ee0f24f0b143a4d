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
 *   [i mod 2^32, t, TAG, floor(i / 2^32)] for element i and block index t, where a block's four
 *   words give two float64 uniforms: (w0, w1) and (w2, w3) by the float64 rule above. These
 *   samplers always use float64 uniforms and float64 arithmetic, whatever the output dtype, and
 *   round to the dtype on the final store. MAX_ATTEMPTS = 4096; a sampler that exhausts it
 *   gives NaN (probability far below 2^-1000).
 * - Gamma(alpha, 1) element i, TAG_GAMMA. alpha NaN or <= 0 → NaN; alpha = +∞ → +∞. Otherwise
 *   Marsaglia–Tsang (2000) with a = alpha < 1 ? alpha + 1 : alpha, d = a − 1/3, c = 1 / sqrt(9d).
 *   Attempt t = 0, 1, ... (t < MAX_ATTEMPTS):
 *     block 2t:   u1 = (w0, w1), u2 = (w2, w3); x = sqrt(−2 ln(1 − u1)) · cos(2π · u2);
 *                 v = (1 + c x)^3, computed as y = 1 + c x, v = y·y·y; if y <= 0, the attempt
 *                 fails without reading block 2t + 1.
 *     block 2t+1: u = (w0, w1) (w2, w3 unused); accept g = d·v if
 *                 u < 1 − 0.0331·x²·x²  or  ln u < 0.5·x² + d·(1 − v + ln v).
 *   When alpha < 1 the result is g · pow(1 − ub, 1 / alpha) with ub = (w0, w1) of block
 *   0xFFFFFFFF (1 − ub lies in (0, 1]). 2π is the float64 6.283185307179586.
 * - Poisson(rate) element i, TAG_POISSON. rate NaN or < 0 → NaN; rate = 0 → 0; rate = +∞ → +∞.
 *   rate < 10, Knuth: uniform k (k = 0, 1, ...) is (w0, w1) of block floor(k / 2) when k is even
 *   and (w2, w3) of that block when odd; p_k = u_0·u_1·…·u_k (multiplied in that order); the
 *   result is the first k with p_k <= exp(−rate) (k < 2·MAX_ATTEMPTS, else NaN).
 *   rate >= 10, Hörmann's PTRS (1993), as in NumPy: slam = sqrt(rate), loglam = ln rate,
 *   b = 0.931 + 2.53·slam, a = −0.059 + 0.02483·b, invalpha = 1.1239 + 1.1328 / (b − 3.4),
 *   vr = 0.9277 − 3.6224 / (b − 2). Attempt t uses block t: U = (w0, w1) − 0.5, V = (w2, w3),
 *   us = 0.5 − |U|, k = floor((2a / us + b)·U + rate + 0.43). Return k if us >= 0.07 and V <= vr;
 *   reject if k < 0 or (us < 0.013 and V > us); otherwise return k if
 *   ln V + ln invalpha − ln(a / us² + b) <= −rate + k·loglam − lgamma(k + 1).
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
