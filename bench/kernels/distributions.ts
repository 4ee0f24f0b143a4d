/**
 * Distribution throughput, varinf against NumPyro (JAX on CPU, jitted) in the same run:
 * Normal.logProb and Normal.rsample on 1M float32 elements, Gamma(2.5) and Dirichlet(K = 10)
 * sampling rates, and MultivariateNormal.logProb at d = 10, 100, 500 (float32, a batch of points,
 * scale_tril given, so the cost is the triangular solve). Prints a markdown table.
 *
 * Run: npx tsx bench/kernels/distributions.ts [--quick]
 * The NumPyro column needs numpyro in bench/peers/.venv (bench/peers/setup-numpyro.sh); without
 * it the table says "NumPyro not installed". Every figure is the fastest of repeated batches.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Dirichlet, Gamma, MultivariateNormal, Normal, getBackend, key, tensor, tidy, type Tensor } from '../../ts/index.js';
import { fmt, timeIt } from './timing.js';

const quick = process.argv.includes('--quick');
const budgetMs = quick ? 150 : 600;
const N = 1 << 20;
const DIR_K = 10;
const DIR_N = 100_000;
const MVN: [number, number][] = [
  [10, 10_000],
  [100, 1_000],
  [500, 200],
];

/** One row: what, elements per call, and seconds per call on each side. */
interface Row {
  task: string;
  unit: string;
  perCall: number;
  varinf: number;
  numpyro?: number;
}

function filled(n: number, f: (i: number) => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = f(i);
  return a;
}

/** A well-conditioned lower-triangular d×d factor (float32), the same one the peer builds. */
export function trilFactor(d: number): Float32Array {
  const l = new Float32Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < i; j++) l[i * d + j] = (0.1 * Math.sin(i + 2 * j)) / Math.sqrt(d);
    l[i * d + i] = 1 + 0.5 * Math.cos(i);
  }
  return l;
}

/** A float32 scalar tensor. */
function f32(v: number): Tensor {
  return tensor(new Float32Array([v]), []);
}

function time(fn: () => Tensor): number {
  return timeIt(() => tidy(() => void fn().dataSync()), { budgetMs }).best;
}

function measureVarinf(): Row[] {
  const rows: Row[] = [];
  const x = tensor(filled(N, (i) => Math.sin(i * 1e-3) * 2), [N]);
  const normal = new Normal(f32(0.3), f32(1.7));
  rows.push({ task: 'Normal.logProb', unit: 'elements', perCall: N, varinf: time(() => normal.logProb(x)) });
  let seed = 0;
  rows.push({ task: 'Normal.rsample', unit: 'draws', perCall: N, varinf: time(() => normal.rsample(key(seed++), [N])) });
  const gamma = new Gamma(f32(2.5), f32(1));
  rows.push({ task: 'Gamma(2.5).sample', unit: 'draws', perCall: N, varinf: time(() => gamma.sample(key(seed++), [N])) });
  const dir = new Dirichlet(tensor(filled(DIR_K, (i) => 0.5 + i * 0.3)));
  rows.push({ task: `Dirichlet(K=${DIR_K}).sample`, unit: 'vectors', perCall: DIR_N, varinf: time(() => dir.sample(key(seed++), [DIR_N])) });
  for (const [d, n] of MVN) {
    const mvn = new MultivariateNormal(tensor(new Float32Array(d)), { scaleTril: tensor(trilFactor(d), [d, d]) }, { validateArgs: false });
    const pts = tensor(filled(n * d, (i) => Math.cos(i * 0.37)), [n, d]);
    rows.push({ task: `MVN.logProb d=${d}`, unit: 'points', perCall: n, varinf: time(() => mvn.logProb(pts)) });
  }
  return rows;
}

/** Runs the NumPyro peer; returns seconds per call by task, or why not. */
function measureNumpyro(): Record<string, number | string> | string {
  const dir = fileURLToPath(new URL('../peers/', import.meta.url));
  const py = `${dir}.venv/bin/python`;
  if (!existsSync(py)) return 'NumPyro not installed (bench/peers/.venv absent)';
  const probe = spawnSync(py, ['-c', 'import numpyro'], { encoding: 'utf8' });
  if (probe.status !== 0) return 'NumPyro not installed (run bash bench/peers/setup-numpyro.sh)';
  const args = [`${dir}distributions_numpyro.py`, '--n', String(N), '--dir-k', String(DIR_K), '--dir-n', String(DIR_N), '--budget-ms', String(budgetMs), '--mvn', MVN.map(([d, n]) => `${d}:${n}`).join(',')];
  const r = spawnSync(py, args, { encoding: 'utf8', timeout: 900_000, maxBuffer: 16 << 20 });
  if (r.status !== 0) return `NumPyro peer failed: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-2).join(' ')}`;
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as Record<string, number | string>;
}

/** Items per second with a k/M suffix. */
function rate(perCall: number, s: number | undefined): string {
  if (s === undefined) return '—';
  const r = perCall / s;
  return r >= 1e6 ? `${fmt(r / 1e6, 1)} M` : `${fmt(r / 1e3, 1)} k`;
}

const rows = measureVarinf();
const peer = measureNumpyro();
const peerNote = typeof peer === 'string' ? peer : `NumPyro ${String(peer.__numpyro_version ?? '?')} / JAX ${String(peer.__jax_version ?? '?')} on CPU, jitted, from bench/peers/.venv`;
if (typeof peer !== 'string')
  for (const r of rows) {
    const v = peer[r.task];
    if (typeof v === 'number') r.numpyro = v;
  }

console.log(`Machine: ${cpus()[0]?.model ?? 'cpu'}, ${cpus().length} logical CPUs, load average ${loadavg()[0].toFixed(1)} at the end; Node ${process.version}; varinf backend ${getBackend()}`);
console.log(`Peer: ${peerNote}`);
console.log('All float32. Rates per second (higher is better); times per call in ms (fastest batch).\n');
console.log('| task | per call | varinf ms | varinf /s | NumPyro ms | NumPyro /s | varinf / NumPyro time |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  const ratio = r.numpyro === undefined ? (typeof peer === 'string' ? 'NumPyro not installed' : '—') : fmt(r.varinf / r.numpyro, 2);
  console.log(
    `| ${r.task} | ${r.perCall.toLocaleString('en-US')} ${r.unit} | ${fmt(r.varinf * 1e3, 2)} | ${rate(r.perCall, r.varinf)} | ${r.numpyro === undefined ? '—' : fmt(r.numpyro * 1e3, 2)} | ${rate(r.perCall, r.numpyro)} | ${ratio} |`,
  );
}
