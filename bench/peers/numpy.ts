/** Runs bench/peers/numpy_kernels.py in the venv that bench/peers/setup.sh creates. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface NumpyFigures {
  version: string;
  blas: string;
  cpus: number;
  /** GFLOP/s by dtype, then size. */
  matmul: Record<'float32' | 'float64', Record<string, number>>;
  addGBs: number;
  addAllocGBs: number;
  copyGBs: number;
  smallAddNs: number;
}

const here = fileURLToPath(new URL('.', import.meta.url));
/** The peers' Python interpreter. */
export const VENV_PYTHON = `${here}.venv/bin/python`;

/** The better of two runs' figures, entry by entry (higher rates, lower latency). */
export function bestOf(a: NumpyFigures, b: NumpyFigures): NumpyFigures {
  const mm = (dt: 'float32' | 'float64'): Record<string, number> =>
    Object.fromEntries(Object.entries(a.matmul[dt]).map(([n, v]) => [n, Math.max(v, b.matmul[dt][n] ?? 0)]));
  return {
    ...a,
    matmul: { float32: mm('float32'), float64: mm('float64') },
    addGBs: Math.max(a.addGBs, b.addGBs),
    addAllocGBs: Math.max(a.addAllocGBs, b.addAllocGBs),
    copyGBs: Math.max(a.copyGBs, b.copyGBs),
    smallAddNs: Math.min(a.smallAddNs, b.smallAddNs),
  };
}

/** NumPy's figures, or the reason they are missing; `threads` caps the BLAS threads. */
export function runNumpy(
  cfg: { sizes: readonly number[]; elementwise: number; small: number; budget: number },
  threads?: number,
): NumpyFigures | { missing: string } {
  if (!existsSync(VENV_PYTHON)) return { missing: 'bench/peers/.venv not found (run: bash bench/peers/setup.sh)' };
  // The BLAS reads its thread count from the environment when NumPy loads.
  const env = { ...process.env };
  if (threads !== undefined) for (const k of ['OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS']) env[k] = String(threads);
  const r = spawnSync(VENV_PYTHON, [`${here}numpy_kernels.py`, JSON.stringify(cfg)], { encoding: 'utf8', timeout: 300_000, env });
  if (r.status !== 0) return { missing: `numpy_kernels.py failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}` };
  return JSON.parse(r.stdout) as NumpyFigures;
}
