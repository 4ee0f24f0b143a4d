/**
 * Elementwise throughput on 1M float32 elements, in GB/s of memory traffic (STREAM's
 * convention: a copy moves 2 × 4 bytes per element, an add 3 × 4).
 */
import { backendByName } from '../../ts/backends/registry.js';
import { add, setBackend, tensor } from '../../ts/index.js';
import { timeIt } from './timing.js';

export interface ElementwiseResult {
  /** `add(a, b)` through the public op: kernel plus the engine allocating the output. */
  opGBs?: number;
  /** The backend's add kernel alone, into a preallocated output. */
  kernelGBs?: number;
}

function filled(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(i * 0.001 + seed);
  return a;
}

/** GB/s of `Float32Array.prototype.set` (a memcpy), the baseline. */
export function benchCopy(n: number, budgetMs: number): number {
  const src = filled(n, 1);
  const dst = new Float32Array(n);
  const t = timeIt(() => dst.set(src), { budgetMs });
  return (2 * 4 * n) / t.best / 1e9;
}

export function benchAdd(backend: string, n: number, budgetMs: number): ElementwiseResult {
  setBackend(backend);
  const res: ElementwiseResult = {};
  const a = filled(n, 1);
  const b = filled(n, 2);
  try {
    const ta = tensor(a);
    const tb = tensor(b);
    res.opGBs = (3 * 4 * n) / timeIt(() => void add(ta, tb), { budgetMs }).best / 1e9;
  } catch (e) {
    console.error(`add op on ${backend}: ${(e as Error).message}`);
  }
  try {
    const be = backendByName(backend);
    const shape = [n];
    const ins = [
      { data: be.upload(a), shape, dtype: 'float32' as const },
      { data: be.upload(b), shape, dtype: 'float32' as const },
    ];
    const outs = [{ data: be.alloc('float32', n), shape, dtype: 'float32' as const }];
    res.kernelGBs = (3 * 4 * n) / timeIt(() => be.run('add', ins, outs, {}), { budgetMs }).best / 1e9;
  } catch (e) {
    console.error(`add kernel on ${backend}: ${(e as Error).message}`);
  }
  return res;
}
