/**
 * GEMM against NumPy in the same run: square n×n · n×n products from 8 to 2048 in float32 and
 * float64 through the public `matmul` op on the cpu backend (so including the output's
 * allocation), and the three products of a dense layer's step (forward X·W, and the gradients
 * Xᵀ·G and G·Wᵀ through the transposed variants) at the shapes of the flow benchmark's MADE.
 * NumPy's `a @ b` runs on all cores before and after varinf's, and on one BLAS thread after that;
 * the fastest of its three figures is the reference, so neither a burst of other load on the
 * shared cores nor a multithreaded BLAS stalling behind another process favours varinf.
 *
 *   npx tsx bench/kernels/gemm.ts [--sizes 8,16,...,2048] [--budget 400] [--python PATH]
 *
 * Prints markdown tables: µs per product and GFLOP/s (2mnk / time), and varinf ÷ NumPy (NumPy's
 * time over varinf's: above 1, varinf is faster); for the layer products also the kernel alone
 * into a preallocated output, which shows what the op's output allocation costs. Threads: the addon's pool takes RAYON_NUM_THREADS (default: all cores),
 * NumPy's OpenBLAS its own default (all cores); `--threads 1` sets both to one.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { backendByName } from '../../ts/backends/registry.js';
import { matmul, setBackend, tensor, type DType, type Tensor } from '../../ts/index.js';
import { fmt, timeIt } from './timing.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '8,16,32,64,128,256,512,1024,2048' },
    budget: { type: 'string', default: '400' },
    python: { type: 'string', default: join(here, '../peers/.venv/bin/python') },
    threads: { type: 'string' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const budgetMs = Number(values.budget);
const DTYPES: DType[] = ['float32', 'float64'];
if (values.threads !== undefined) {
  for (const v of ['RAYON_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS']) process.env[v] = values.threads;
}

/** A dense layer's products: [label, m, n, k, transA, transB] with op(A) m×k and op(B) k×n. */
const LAYER: [string, number, number, number, boolean, boolean][] = [
  ['X·W (512×64 · 64×64)', 512, 64, 64, false, false],
  ['Xᵀ·G (64×512 · 512×64)', 64, 64, 512, true, false],
  ['G·Wᵀ (512×64 · 64×64)', 512, 64, 64, false, true],
  ['X·W (512×5 · 5×64)', 512, 64, 5, false, false],
  ['X·W (512×64 · 64×115)', 512, 115, 64, false, false],
];

/** A reproducible rows × cols array with entries in [−1, 1). */
function randomArray(rows: number, cols: number, dtype: DType, seed: number): Float32Array | Float64Array {
  const a = dtype === 'float32' ? new Float32Array(rows * cols) : new Float64Array(rows * cols);
  let s = seed >>> 0;
  for (let i = 0; i < a.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0; // LCG: inputs need no statistical quality
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

const randomMatrix = (rows: number, cols: number, dtype: DType, seed: number): Tensor => tensor(randomArray(rows, cols, dtype, seed), [rows, cols], dtype);

/** Seconds of the cpu backend's matmul kernel alone, into a preallocated output (no engine). */
function kernelSeconds(dt: DType, m: number, n: number, k: number, tA: boolean, tB: boolean): number {
  const be = backendByName('cpu');
  const ins = [
    { data: be.upload(randomArray(tA ? k : m, tA ? m : k, dt, 3)), shape: tA ? [k, m] : [m, k], dtype: dt },
    { data: be.upload(randomArray(tB ? n : k, tB ? k : n, dt, 4)), shape: tB ? [n, k] : [k, n], dtype: dt },
  ];
  const outs = [{ data: be.alloc(dt, m * n), shape: [m, n], dtype: dt }];
  return timeIt(() => be.run('matmul', ins, outs, { transA: tA, transB: tB }), { budgetMs, minBatches: 3 }).best;
}

interface Peer {
  version: string;
  blas: string;
  core: string | null;
  /** Seconds per product by dtype, then key (a size, or a layer label). */
  seconds: Record<string, Record<string, number>>;
}

/** NumPy's figures, or why they are missing; `threads` caps the BLAS threads. */
function runNumpy(threads?: string): Peer | string {
  if (!existsSync(values.python)) return `${values.python} not found (run: bash bench/peers/setup.sh)`;
  const cfg = { sizes, budget: budgetMs / 1000, layer: LAYER };
  const env = { ...process.env };
  if (threads !== undefined) for (const v of ['OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS']) env[v] = threads;
  const r = spawnSync(values.python, [join(here, '../peers/numpy_gemm.py'), JSON.stringify(cfg)], { encoding: 'utf8', timeout: 900_000, env });
  if (r.status !== 0) return `numpy_gemm.py failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
  return JSON.parse(r.stdout) as Peer;
}

/** varinf's seconds per product, keyed as the peer's. */
function runVarinf(): Record<string, Record<string, number>> {
  setBackend('cpu');
  const out: Record<string, Record<string, number>> = {};
  for (const dt of DTYPES) {
    const res: Record<string, number> = {};
    for (const n of sizes) {
      const a = randomMatrix(n, n, dt, 1);
      const b = randomMatrix(n, n, dt, 2);
      res[String(n)] = timeIt(() => void matmul(a, b), { budgetMs, minBatches: 3 }).best;
    }
    for (const [label, m, n, k, tA, tB] of LAYER) {
      const a = tA ? randomMatrix(k, m, dt, 3) : randomMatrix(m, k, dt, 3);
      const b = tB ? randomMatrix(n, k, dt, 4) : randomMatrix(k, n, dt, 4);
      res[label] = timeIt(() => void matmul(a, b, { transA: tA, transB: tB }), { budgetMs, minBatches: 3 }).best;
      res[`${label} kernel`] = kernelSeconds(dt, m, n, k, tA, tB);
    }
    out[dt] = res;
  }
  return out;
}

const progress = (s: string): boolean => process.stderr.write(`gemm: ${s}\n`);
const loadStart = loadavg()[0];
progress('NumPy (1 of 2)...');
const np1 = runNumpy();
progress('varinf...');
const mine = runVarinf();
progress('NumPy (2 of 3)...');
const np2 = runNumpy();
progress('NumPy on one thread (3 of 3)...');
const np3 = runNumpy('1');
const loadEnd = loadavg()[0];

const runs = [np1, np2, np3];
const peer = runs.find((p): p is Peer => typeof p !== 'string');
const peerSeconds = (dt: string, key: string): number | undefined => {
  const xs = runs.flatMap((p) => (typeof p === 'string' ? [] : [p.seconds[dt]?.[key]])).filter((x): x is number => x !== undefined);
  return xs.length ? Math.min(...xs) : undefined;
};
const row = (cells: string[]): string => `| ${cells.join(' | ')} |`;
const gflops = (flops: number, s: number | undefined): number | undefined => (s === undefined ? undefined : flops / s / 1e9);

console.log(`Machine: ${cpus()[0]?.model ?? '?'}, ${cpus().length} logical CPUs; load average ${loadStart.toFixed(1)} at the start, ${loadEnd.toFixed(1)} at the end; ${new Date().toISOString().slice(0, 10)}`);
console.log(`varinf cpu backend, RAYON_NUM_THREADS=${process.env.RAYON_NUM_THREADS ?? '(unset: all cores)'}`);
console.log(peer ? `Peer: NumPy ${peer.version}, ${peer.blas}${peer.core ? ` (kernels: ${peer.core})` : ''}, fastest of a run before and one after varinf's on all cores and one on one BLAS thread` : `Peer: NumPy absent: ${String(np1)}`);
console.log('');
console.log('| n | dtype | varinf µs | NumPy µs | varinf GFLOP/s | NumPy GFLOP/s | varinf ÷ NumPy |');
console.log('| ---: | --- | ---: | ---: | ---: | ---: | ---: |');
for (const n of sizes) {
  for (const dt of DTYPES) {
    const v = mine[dt][String(n)];
    const p = peerSeconds(dt, String(n));
    const f = 2 * n ** 3;
    console.log(row([String(n), dt, fmt(v * 1e6, 2), fmt(p === undefined ? undefined : p * 1e6, 2), fmt(gflops(f, v)), fmt(gflops(f, p)), fmt(p === undefined ? undefined : p / v, 2)]));
  }
}
console.log('');
console.log('| dense-layer product | dtype | varinf op µs | varinf kernel alone µs | NumPy µs | varinf op ÷ NumPy |');
console.log('| --- | --- | ---: | ---: | ---: | ---: |');
for (const [label] of LAYER) {
  for (const dt of DTYPES) {
    const v = mine[dt][label];
    const p = peerSeconds(dt, label);
    console.log(row([label, dt, fmt(v * 1e6, 2), fmt(mine[dt][`${label} kernel`] * 1e6, 2), fmt(p === undefined ? undefined : p * 1e6, 2), fmt(p === undefined ? undefined : p / v, 2)]));
  }
}
