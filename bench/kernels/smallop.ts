/** The fixed cost of one op: `add` of two small float64 tensors, and where native overtakes js. */
import { add, setBackend, tensor } from '../../ts/index.js';
import { timeIt } from './timing.js';

function pair(n: number): [ReturnType<typeof tensor>, ReturnType<typeof tensor>] {
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = i * 0.5;
    b[i] = 1 - i * 0.25;
  }
  return [tensor(a), tensor(b)];
}

/** Nanoseconds per `add(a, b)` of two n-element float64 tensors on `backend`. */
export function smallOpNs(backend: string, n: number, budgetMs: number): number {
  setBackend(backend);
  const [a, b] = pair(n);
  return timeIt(() => void add(a, b), { budgetMs, minBatches: 5 }).best * 1e9;
}

/**
 * The smallest of `sizes` from which `native` is at least 10% faster than `ref` for `add` at that
 * size and every larger one (so one noisy point does not decide it), with both timings;
 * undefined when native does not win at the largest size.
 */
export function crossover(
  native: string,
  ref: string,
  sizes: readonly number[],
  budgetMs: number,
): { size?: number; rows: { n: number; refNs: number; nativeNs: number }[] } {
  const rows: { n: number; refNs: number; nativeNs: number }[] = [];
  for (const n of sizes) rows.push({ n, refNs: smallOpNs(ref, n, budgetMs), nativeNs: smallOpNs(native, n, budgetMs) });
  let size: number | undefined;
  for (let i = rows.length - 1; i >= 0 && rows[i].nativeNs < 0.9 * rows[i].refNs; i--) size = rows[i].n;
  return { size, rows };
}
