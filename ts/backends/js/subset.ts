/**
 * Sampling without replacement for minibatches: the first m positions of a Fisher–Yates shuffle
 * of 0..n−1, in O(m) time. Position i swaps with j = i + ⌊u_i·(n − i)⌋, where u_i is element i of
 * the key's float64 uniform stream (words 2i and 2i + 1, ts/random/philox.ts), so the draw needs
 * no rejection loop and its bias is below n/2^53. The shuffle runs on a shared identity array that
 * is restored after each call (the swaps undone in reverse), so a call costs m steps, not n.
 */
import { philox4x32, u32PairToFloat64 } from '../../random/philox.js';
import type { KernelAttrs } from '../../kernels/spec.js';
import type { CpuKernelTable } from '../backend.js';

const TWO_32 = 4294967296;
const w = new Uint32Array(4);
/** The identity permutation 0..length−1, between calls. */
let identity = new Int32Array(0);
/** The swap partner of each position of the current call. */
let partner = new Int32Array(0);

function grow(n: number, m: number): void {
  if (identity.length < n) {
    const next = new Int32Array(Math.max(n, 2 * identity.length));
    for (let i = 0; i < next.length; i++) next[i] = i;
    identity = next;
  }
  if (partner.length < m) partner = new Int32Array(Math.max(m, 2 * partner.length));
}

/**
 * Writes m = out.length distinct indices of 0..n−1 into `out` (see the file comment).
 * @example const idx = new Int32Array(3); subsetInto([1, 2], 10, idx); // three distinct indices < 10
 */
export function subsetInto(key: KernelAttrs['randomSubset']['key'], n: number, out: Int32Array): void {
  const m = out.length;
  grow(n, m);
  const p = identity;
  for (let i = 0; i < m; i++) {
    // Uniform i is words 2i, 2i + 1: lanes 0–1 or 2–3 of block ⌊i / 2⌋.
    if ((i & 1) === 0) philox4x32(i >>> 1, Math.floor(i / 2 / TWO_32), 0, 0, key[0], key[1], w);
    const l = (i & 1) * 2;
    const u = u32PairToFloat64(w[l], w[l + 1]);
    // u < 1 keeps j below n (u·k rounds below k for u = 1 − 2^-53); the min guards it anyway.
    const j = Math.min(i + Math.floor(u * (n - i)), n - 1);
    partner[i] = j;
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
    out[i] = p[i];
  }
  // Undo in reverse so `identity` is the identity again.
  for (let i = m - 1; i >= 0; i--) {
    const j = partner[i];
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
}

/** The js kernel of `randomSubset`. */
export const SUBSET: CpuKernelTable = {
  randomSubset: (_ins, [out], { key, n }) => subsetInto(key, n, out.data as Int32Array),
};
