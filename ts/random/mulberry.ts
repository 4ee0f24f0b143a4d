/**
 * mulberry32: a small seeded generator of uniforms in [0, 1) on the host, for draws that need no
 * key (Stan's `_rng` functions, SBC's tie splitting). Not for anything statistical at scale: use
 * the keyed samplers there.
 * @example const u = mulberry32(7); u(); // 0.0812…, the same for the same seed
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
