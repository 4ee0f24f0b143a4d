/**
 * SVGD's update direction (`svgdPhi`: pairwise distances, the median-heuristic bandwidth, the RBF
 * kernel and φ) against a straightforward PyTorch implementation (bench/peers/svgd_torch.py) in
 * the same run, on the same inputs, float32 and float64, at the sizes of the CUDA issue:
 * n = 1,000 particles × d = 100 and n = 4,096 × d = 1,000. Then whole SVGD runs on a 2-D
 * Gaussian target, per-step time. The peer needs bench/peers/.venv with torch
 * (bash bench/peers/setup-torch.sh); without it the table says so.
 *
 * Run: npx tsx bench/vi/svgd.ts [--sizes 1000x100,4096x1000] [--reps 5] [--backend cpu|js|cuda] [--no-peer]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getBackend, key, matmul, mul, normal, setBackend, sub, sum, svgdPhi, svgdSync, tensor, type Tensor } from '../../ts/index.js';

const args = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const backend = opt('--backend', getBackend());
setBackend(backend);
const sizes = opt('--sizes', '1000x100,4096x1000').split(',').map((s) => s.split('x').map(Number) as [number, number]);
const reps = Number(opt('--reps', '5'));
const here = dirname(fileURLToPath(import.meta.url));

/** sin(a·(i + 1)) over the flat index: the peer fills its inputs the same way. */
function fill(n: number, d: number, a: number, dtype: 'float32' | 'float64'): Tensor {
  const v = new Float64Array(n * d);
  for (let i = 0; i < v.length; i++) v[i] = Math.sin(a * (i + 1));
  return tensor(dtype === 'float32' ? Float32Array.from(v) : v, [n, d]);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

interface Row {
  n: number;
  d: number;
  dtype: string;
  ms: number;
  /** The peer with torch.median (the lower middle value, by selection) instead of a sort. */
  msLower?: number;
  checksum: number;
  h: number;
}

console.log(`SVGD direction, backend ${backend}, ${cpus().length} cores, load ${loadavg()[0].toFixed(2)}`);
const mine: Row[] = [];
for (const [n, d] of sizes)
  for (const dtype of ['float32', 'float64'] as const) {
    const x = fill(n, d, 0.37, dtype);
    const g = fill(n, d, 1.3, dtype);
    let out = svgdPhi(x, g);
    out.phi.dataSync();
    const ts: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      out = svgdPhi(x, g);
      out.phi.dataSync();
      ts.push(performance.now() - t0);
    }
    let checksum = 0;
    for (const v of out.phi.dataSync()) checksum += Math.abs(v);
    mine.push({ n, d, dtype, ms: median(ts), checksum, h: out.bandwidth.item() });
    console.log(`  varinf n=${n} d=${d} ${dtype}: ${mine[mine.length - 1].ms.toFixed(2)} ms`);
  }

function runPeer(): { name: string; rows: Row[] } | string {
  if (args.includes('--no-peer')) return 'not run (--no-peer)';
  const py = join(here, '../peers/.venv/bin/python');
  if (!existsSync(py)) return 'bench/peers/.venv is missing: run bash bench/peers/setup-torch.sh';
  const r = spawnSync(py, [join(here, '../peers/svgd_torch.py'), '--sizes', sizes.map(([n, d]) => `${n}x${d}`).join(','), '--reps', String(reps), '--device', backend === 'cuda' ? 'cuda' : 'cpu'], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) return `the PyTorch peer failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`;
  const o = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { framework: string; threads: number; rows: { n: number; d: number; dtype: string; ms: number; ms_lower_median: number; phi_checksum: number; h: number }[] };
  return { name: `${o.framework} (${o.threads} threads)`, rows: o.rows.map((q) => ({ n: q.n, d: q.d, dtype: q.dtype, ms: q.ms, msLower: q.ms_lower_median, checksum: q.phi_checksum, h: q.h })) };
}

const peer = runPeer();
console.log(`\npeer: ${typeof peer === 'string' ? peer : peer.name}; load after ${loadavg()[0].toFixed(2)}\n`);
console.log('| n × d | dtype | varinf ms | PyTorch ms (sort median) | PyTorch / varinf | PyTorch ms (torch.median) | PyTorch / varinf | bandwidth h, varinf / PyTorch | Σ|φ| rel. diff |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |');
for (const m of mine) {
  const p = typeof peer === 'string' ? undefined : peer.rows.find((q) => q.n === m.n && q.d === m.d && q.dtype === m.dtype);
  const cells =
    p === undefined
      ? ['—', '—', '—', '—', `${m.h.toPrecision(6)} / —`, '—']
      : [
          p.ms.toFixed(2),
          `${(p.ms / m.ms).toFixed(2)}×`,
          (p.msLower ?? NaN).toFixed(2),
          `${((p.msLower ?? NaN) / m.ms).toFixed(2)}×`,
          `${m.h.toPrecision(6)} / ${p.h.toPrecision(6)}`, (Math.abs(m.checksum - p.checksum) / p.checksum).toExponential(1),
        ];
  console.log(`| ${m.n} × ${m.d} | ${m.dtype} | ${m.ms.toFixed(2)} | ${cells.join(' | ')} |`);
}

// Whole runs: 1,000 steps on a correlated 2-D Gaussian (the test suite's target), per-step time.
const prec = tensor([
  [2, -1.2],
  [-1.2, 1.5],
]);
const mu = tensor([1, -2]);
const logp = (x: Tensor): Tensor => {
  const r = sub(x, mu);
  return mul(sum(mul(matmul(r, prec), r), 1), -0.5);
};
console.log('\nwhole runs, 2-D Gaussian target, 1,000 steps (autodiff score + svgdPhi + step rule):');
for (const n of [100, 1000])
  for (const compile of [false, true]) {
    const r = svgdSync(logp, { particles: normal(key(3), [n, 2]), steps: 1000, lr: 0.05, compile });
    console.log(`  n = ${n}, ${compile ? 'compiled' : 'eager'}: ${r.timings.perStepUs.toFixed(0)} µs/step, final mean log density ${r.meanLogDensity[r.steps - 1].toFixed(6)}`);
  }
