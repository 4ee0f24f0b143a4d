/**
 * PRNG keys. A key is an immutable pair of uint32 words; random functions take one explicitly and
 * nothing reads global state. `split` and `foldIn` derive new keys functionally, as in JAX.
 */
import { ValueError } from '../core/errors.js';
import { philox4x32, TAG_FOLD, TAG_SPLIT } from './philox.js';

/**
 * A PRNG key: an immutable pair of uint32 words (k0, k1) that seeds Philox-4x32 counter-based
 * draws. The same key always gives the same numbers; derive fresh keys with `split` or `foldIn`
 * rather than reusing one.
 * @example
 * const [k1, k2] = split(key(0));
 * const z = normal(k1, [3]); // three N(0, 1) draws
 */
export class Key {
  /** @internal use `key(seed)`, `split` or `foldIn`. */
  constructor(
    /** The low word, a uint32. */
    readonly k0: number,
    /** The high word, a uint32. */
    readonly k1: number,
  ) {}

  /** The two words, as kernels take them. */
  get words(): [number, number] {
    return [this.k0, this.k1];
  }

  /** `Key(k0, k1)` with the words in hex. */
  toString(): string {
    return `Key(${this.k0.toString(16)}, ${this.k1.toString(16)})`;
  }
}

/**
 * A key from a non-negative integer seed below 2^53.
 * @example const k = key(42);
 */
export function key(seed: number): Key {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new ValueError(`key: seed must be a non-negative safe integer, got ${seed}`);
  return new Key(seed >>> 0, Math.floor(seed / 4294967296) >>> 0);
}

const scratch = new Uint32Array(4);

/**
 * @internal Told of every key derived by `split` or `foldIn` while `compile` traces, so that keys
 * derived from an input key are replayed from the actual input key.
 */
export const keyHook: { derived: ((parent: Key, child: Key, how: 'split' | 'fold', arg: number) => void) | null } = { derived: null };

/**
 * `n` independent keys derived from `k`.
 * @example const [kInit, kRun] = split(key(0)); // or split(k, 4) for four keys
 */
export function split(k: Key, n = 2): Key[] {
  if (!Number.isInteger(n) || n < 1) throw new ValueError(`split: n must be a positive integer, got ${n}`);
  const out: Key[] = [];
  for (let i = 0; i < n; i++) {
    philox4x32(i, 0, TAG_SPLIT, 0, k.k0, k.k1, scratch);
    const c = new Key(scratch[0], scratch[1]);
    if (keyHook.derived !== null) keyHook.derived(k, c, 'split', i);
    out.push(c);
  }
  return out;
}

/**
 * A key derived from `k` and the integer `data` (a step counter, a site index).
 * @example const kStep = foldIn(key(0), step); // a fresh key per step, no state to carry
 */
export function foldIn(k: Key, data: number): Key {
  if (!Number.isInteger(data)) throw new ValueError(`foldIn: data must be an integer, got ${data}`);
  philox4x32(data >>> 0, 0, TAG_FOLD, 0, k.k0, k.k1, scratch);
  const c = new Key(scratch[0], scratch[1]);
  if (keyHook.derived !== null) keyHook.derived(k, c, 'fold', data >>> 0);
  return c;
}
