/**
 * The machine's theoretical peak FLOP rate, estimated from /proc/cpuinfo:
 *
 *   peak = cores × clock × (vector bits / element bits) × 2 (an FMA is two flops) × FMA pipes
 *
 * - cores: the `processor` entries (logical CPUs; on a VM they may share physical cores).
 * - clock: the largest `cpu MHz` (the current clock the kernel reports, not the turbo ceiling).
 * - vector bits: 512 with avx512f, 256 with avx/avx2, else 128 (sse2). AMD Zen 4 (family 0x19)
 *   runs 512-bit instructions as two 256-bit halves, so it counts as 256 there.
 * - FMA pipes: 2 per core with the fma flag (Intel since Haswell, AMD since Zen), else 1 with
 *   separate multiply and add (counted as one fused pair per cycle).
 */
import { readFileSync } from 'node:fs';

export interface Peak {
  cores: number;
  ghz: number;
  model: string;
  vectorBits: number;
  fmaPipes: number;
  /** Peak GFLOP/s for all cores. */
  float64: number;
  float32: number;
  /** How the figure was reached, in one line. */
  how: string;
}

/** Estimates the peak, or returns undefined where /proc/cpuinfo is unreadable. */
export function estimatePeak(): Peak | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return undefined;
  }
  const field = (name: string): string[] =>
    text
      .split('\n')
      .filter((l) => l.startsWith(name))
      .map((l) => l.slice(l.indexOf(':') + 1).trim());
  const cores = field('processor').length;
  const mhz = Math.max(...field('cpu MHz').map(Number).filter(Number.isFinite));
  const flags = new Set((field('flags')[0] ?? '').split(/\s+/));
  const vendor = field('vendor_id')[0] ?? '';
  const family = Number(field('cpu family')[0] ?? 0);
  const model = field('model name')[0] ?? 'unknown';
  if (cores === 0 || !Number.isFinite(mhz)) return undefined;
  let vectorBits = flags.has('avx512f') ? 512 : flags.has('avx') ? 256 : 128;
  const zen4 = vendor === 'AuthenticAMD' && family === 0x19 && vectorBits === 512;
  if (zen4) vectorBits = 256;
  const fmaPipes = flags.has('fma') ? 2 : 1;
  const ghz = mhz / 1000;
  const f64 = cores * ghz * (vectorBits / 64) * 2 * fmaPipes;
  const how =
    `${cores} cores × ${ghz.toFixed(2)} GHz (cpu MHz) × ${vectorBits}-bit vectors` +
    `${zen4 ? ' (avx512 double-pumped on Zen 4)' : ''} × 2 flops/FMA × ${fmaPipes} FMA pipes`;
  return { cores, ghz, model, vectorBits, fmaPipes, float64: f64, float32: 2 * f64, how };
}
