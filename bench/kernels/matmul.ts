/** Square matmul throughput, n×n · n×n = 2n³ flops, through the public `matmul` op. */
import { matmul, setBackend, tensor, type DType } from '../../ts/index.js';
import { timeIt } from './timing.js';

/** A reproducible n×n matrix with entries in [−1, 1). */
export function randomMatrix(n: number, dtype: DType, seed = 1): ReturnType<typeof tensor> {
  const a = dtype === 'float32' ? new Float32Array(n * n) : new Float64Array(n * n);
  let s = seed >>> 0;
  for (let i = 0; i < a.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0; // LCG: inputs need no statistical quality
    a[i] = s / 2 ** 31 - 1;
  }
  return tensor(a, [n, n], dtype);
}

/** GFLOP/s of `matmul` on `backend` for each size; undefined where the backend failed. */
export function benchMatmul(backend: string, dtype: DType, sizes: readonly number[], budgetMs: number): Map<number, number | undefined> {
  setBackend(backend);
  const out = new Map<number, number | undefined>();
  for (const n of sizes) {
    try {
      const a = randomMatrix(n, dtype, 1);
      const b = randomMatrix(n, dtype, 2);
      const t = timeIt(() => void matmul(a, b), { budgetMs, minBatches: n >= 1024 ? 1 : 3 });
      out.set(n, (2 * n ** 3) / t.best / 1e9);
    } catch (e) {
      out.set(n, undefined);
      console.error(`matmul ${backend} ${dtype} ${n}: ${(e as Error).message}`);
    }
  }
  return out;
}
