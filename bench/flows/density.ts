/**
 * Density estimation with flows against zuko, in the same run: a UCI table from
 * ../shared/data/uci/ used as density data (all columns, shuffled with a fixed seed, split
 * 80/10/10, standardized with the training split's mean and sd), the same flow in varinf
 * (fitFlow) and in zuko (bench/peers/flows_zuko.py): MAF or autoregressive NSF with the same
 * number of layers, hidden widths, bins, batch size, learning rate, epochs and early-stopping rule.
 * Prints test log-likelihood (nats per row ± standard error) and training throughput (rows over
 * the training steps, per wall second and per CPU second of the process: on a shared machine the
 * wall figure swings with the other load, the CPU one much less) for both.
 *
 *   npx tsx bench/flows/density.ts [--set power-plant] [--flow maf|nsf|both] [--epochs 30] [--batch 512]
 *       [--layers 3] [--hidden 64,64] [--bins 8] [--lr 1e-3] [--patience 10] [--threads 1] [--python PATH]
 *
 * The peer needs `bash bench/peers/setup-flows.sh` (torch and zuko in bench/peers/.venv).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getBackend, key, tensor } from '../../ts/index.js';
import { fitFlow, Flow, maf, permute, splineAutoregressive, type FlowLayer } from '../../ts/flows/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: cli } = parseArgs({
  options: {
    set: { type: 'string', default: 'power-plant' },
    flow: { type: 'string', default: 'both' },
    epochs: { type: 'string', default: '30' },
    batch: { type: 'string', default: '512' },
    layers: { type: 'string', default: '3' },
    hidden: { type: 'string', default: '64,64' },
    bins: { type: 'string', default: '8' },
    lr: { type: 'string', default: '1e-3' },
    patience: { type: 'string', default: '10' },
    threads: { type: 'string', default: '1' },
    python: { type: 'string', default: join(here, '../peers/.venv/bin/python') },
  },
});
const set = cli.set;
const flows = cli.flow === 'both' ? ['maf', 'nsf'] : [cli.flow];
const epochs = Number(cli.epochs);
const batch = Number(cli.batch);
const layers = Number(cli.layers);
const hidden = cli.hidden.split(',').map(Number);
const bins = Number(cli.bins);
const lr = Number(cli.lr);
const patience = Number(cli.patience);
const threads = cli.threads;

/** The table as rows of numbers, shuffled by a seeded LCG, split 80/10/10 and standardized. */
function loadSplit(name: string): { d: number; train: Float32Array; val: Float32Array; test: Float32Array; n: [number, number, number] } {
  const path = join(here, '../../../shared/data/uci', name, 'data.txt');
  const alt = join('/work/shared/data/uci', name, 'data.txt');
  const file = existsSync(path) ? path : alt;
  const rows = readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map((l) => l.split(/\s+/).map(Number));
  const d = rows[0].length;
  let s = 12345;
  for (let i = rows.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [rows[i], rows[j]] = [rows[j], rows[i]];
  }
  const nTr = Math.round(0.8 * rows.length);
  const nVa = Math.round(0.1 * rows.length);
  const tr = rows.slice(0, nTr);
  const mu = Array.from({ length: d }, (_, j) => tr.reduce((a, r) => a + r[j], 0) / nTr);
  const sd = Array.from({ length: d }, (_, j) => Math.sqrt(tr.reduce((a, r) => a + (r[j] - mu[j]) ** 2, 0) / (nTr - 1)));
  const pack = (rs: number[][]): Float32Array => Float32Array.from(rs.flatMap((r) => r.map((v, j) => (v - mu[j]) / sd[j])));
  const va = rows.slice(nTr, nTr + nVa);
  const te = rows.slice(nTr + nVa);
  return { d, train: pack(tr), val: pack(va), test: pack(te), n: [tr.length, va.length, te.length] };
}

function buildFlow(kind: string, d: number): Flow {
  const ls: FlowLayer[] = [];
  for (let i = 0; i < layers; i++) {
    if (i > 0) ls.push(permute(d));
    ls.push(kind === 'maf' ? maf(d, { hidden }) : splineAutoregressive(d, { hidden, bins, bound: 5 }));
  }
  return new Flow(ls);
}

interface Row {
  who: string;
  ll: number;
  se: number;
  epochs: number;
  best: number;
  rowsPerSec: number;
  cpuRowsPerSec: number;
}

function runPeer(kind: string, dir: string): Row | string {
  const py = cli.python;
  if (!existsSync(py)) return `${py} is missing: run bash bench/peers/setup-flows.sh (or pass --python PATH to a Python with torch and zuko)`;
  const r = spawnSync(py, [join(here, '../peers/flows_zuko.py'), '--dir', dir, '--flow', kind, '--layers', String(layers), '--hidden', hidden.join(','), '--bins', String(bins), '--epochs', String(epochs), '--patience', String(patience), '--batch', String(batch), '--lr', String(lr), '--threads', threads], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) return `zuko peer failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`;
  const o = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { peer: string; test_ll: number; test_ll_se: number; epochs: number; best_epoch: number; rows_per_sec: number; cpu_rows_per_sec: number; threads: number };
  return { who: `${o.peer} (${o.threads} thread${o.threads === 1 ? '' : 's'})`, ll: o.test_ll, se: o.test_ll_se, epochs: o.epochs, best: o.best_epoch, rowsPerSec: o.rows_per_sec, cpuRowsPerSec: o.cpu_rows_per_sec };
}

function runVarinf(kind: string, data: ReturnType<typeof loadSplit>): Row {
  const { d, n } = data;
  const f = buildFlow(kind, d);
  const train = tensor(data.train, [n[0], d], 'float32');
  const val = tensor(data.val, [n[1], d], 'float32');
  const r = fitFlow(f, train, { validation: val, batchSize: batch, epochs, lr, patience, key: key(0) });
  const lp = Array.from(f.apply(r.params).logProb(tensor(data.test, [n[2], d], 'float32')).dataSync());
  const m = lp.reduce((a, b) => a + b, 0) / lp.length;
  const sd = Math.sqrt(lp.reduce((a, b) => a + (b - m) ** 2, 0) / (lp.length - 1));
  return { who: `varinf (${getBackend()}${r.compiled ? ', compiled' : ''})`, ll: m, se: sd / Math.sqrt(lp.length), epochs: r.epochs, best: r.bestEpoch, rowsPerSec: r.timings.trainRowsPerSec, cpuRowsPerSec: r.timings.trainCpuRowsPerSec };
}

const data = loadSplit(set);
const dir = mkdtempSync(join(tmpdir(), 'varinf-flows-'));
writeFileSync(join(dir, 'train.f32'), data.train);
writeFileSync(join(dir, 'val.f32'), data.val);
writeFileSync(join(dir, 'test.f32'), data.test);
writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ d: data.d, train: data.n[0], val: data.n[1], test: data.n[2] }));
console.log(`## ${set}: ${data.d}-D, ${data.n.join('/')} rows (train/val/test); ${layers} layers, hidden [${hidden.join(', ')}], batch ${batch}, lr ${lr}, ≤ ${epochs} epochs, patience ${patience}\n`);
console.log('| flow | implementation | test LL (nats) | epochs (best) | train rows/s (wall) | train rows per CPU s |');
console.log('| --- | --- | ---: | ---: | ---: | ---: |');
for (const kind of flows) {
  const label = kind === 'maf' ? 'MAF' : `NSF (AR, ${bins} bins)`;
  const rows: (Row | string)[] = [runVarinf(kind, data), runPeer(kind, dir)];
  for (const r of rows) {
    if (typeof r === 'string') console.log(`| ${label} | ${r} | | | | |`);
    else console.log(`| ${label} | ${r.who} | ${r.ll.toFixed(3)} ± ${r.se.toFixed(3)} | ${r.epochs} (${r.best}) | ${r.rowsPerSec.toFixed(0)} | ${r.cpuRowsPerSec.toFixed(0)} |`);
  }
}
