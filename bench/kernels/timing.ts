/** Timing helpers for the benchmark programs: warm up, then repeat within a time budget. */

export interface Timing {
  /** Seconds per call: the fastest batch and the median batch. */
  best: number;
  median: number;
  /** Calls timed in all. */
  calls: number;
}

/**
 * Times `fn` in batches of `batch` calls after one warm-up batch, until `budgetMs` has passed and
 * at least `minBatches` batches ran (a single call slower than the budget runs once more only).
 */
export function timeIt(fn: () => void, opts: { budgetMs?: number; batch?: number; minBatches?: number } = {}): Timing {
  const budget = opts.budgetMs ?? 300;
  const minBatches = opts.minBatches ?? 5;
  let batch = opts.batch ?? 1;
  // Warm-up, which also sizes the batch to about 2 ms (at most 1/20 of the budget): many short
  // batches, of which the fastest is kept, shrug off other processes on shared cores.
  let t = performance.now();
  for (let i = 0; i < batch; i++) fn();
  let dt = performance.now() - t;
  const target = Math.min(budget / 20, 2);
  if (opts.batch === undefined && dt < target) {
    const per = Math.max(dt / batch, 1e-6);
    batch = Math.max(1, Math.floor(target / per));
  }
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < 1 || (samples.length < minBatches && dt < budget) || performance.now() - start < budget) {
    t = performance.now();
    for (let i = 0; i < batch; i++) fn();
    dt = performance.now() - t;
    samples.push(dt / 1000 / batch);
    if (dt > budget) break;
  }
  samples.sort((a, b) => a - b);
  return { best: samples[0], median: samples[Math.floor(samples.length / 2)], calls: samples.length * batch };
}

/** Formats a number with `d` decimals, or '—' when it is undefined or not finite. */
export function fmt(x: number | undefined, d = 1): string {
  return x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d);
}
