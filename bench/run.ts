/**
 * `npm run bench`: the kernel benchmarks, printed as markdown tables with NumPy's figures from the
 * same run and the machine's estimated peak. Flags:
 *   --write   also replace the measured block of bench/README.md with this run's tables
 *   --quick   shorter timing budgets and fewer sizes (a smoke run; figures are noisier)
 * Everything is measured first, then printed; progress goes to stderr.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { CROSSOVER } from '../ts/backends/cpu/index.js';
import { listBackends, type DType } from '../ts/index.js';
import { valueAndGradUs } from './kernels/autodiff.js';
import { benchAdd, benchCopy, type ElementwiseResult } from './kernels/elementwise.js';
import { benchMatmul } from './kernels/matmul.js';
import { estimatePeak } from './kernels/peak.js';
import { crossover, smallOpNs } from './kernels/smallop.js';
import { fmt } from './kernels/timing.js';
import { bestOf, runNumpy, type NumpyFigures } from './peers/numpy.js';

const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
const budget = quick ? 100 : 300;
const SIZES = quick ? [64, 512] : [64, 128, 256, 512, 1024];
const CROSS_SIZES = quick ? [16, 1024, 65536] : [16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576];
const DTYPES: DType[] = ['float32', 'float64'];
const N_ELEM = 1 << 20;
const SMALL = 16;
/** js matmul is O(n³) plain loops: skip a size when the previous one predicts more than this. */
const JS_MATMUL_MAX_S = 3;
const progress = (s: string): boolean => process.stderr.write(`bench: ${s}\n`);
const attempt = <T>(what: string, f: () => T): T | undefined => {
  try {
    return f();
  } catch (e) {
    progress(`${what} failed: ${(e as Error).message}`);
    return undefined;
  }
};

// ---------------------------------------------------------------- measure
const peak = estimatePeak();
const backends = listBackends();
const cpuBackends = backends.available.filter((b) => b === 'js' || b === 'cpu');
const native = cpuBackends.includes('cpu') ? 'cpu' : undefined;
/** Targets are for the native backend; without it the js reference is judged, and says so. */
const judged = native ?? 'js';
const judgedNote = native ?? 'js: no native backend in this run';
const load = loadavg()[0];

// NumPy runs before and after varinf's kernels and keeps the better figure of each, so a burst of
// other work on the shared cores penalizes neither side alone. A multithreaded BLAS stalls whole
// calls when another process holds a core, so NumPy also runs on one thread, and its better
// configuration is the reference.
const npConfig = { sizes: SIZES, elementwise: N_ELEM, small: SMALL, budget: budget / 1000 };
progress('NumPy (1 of 2)...');
const np1 = runNumpy(npConfig);

progress('matmul...');
const mm = new Map<string, Map<number, number | undefined>>();
for (const dt of DTYPES)
  for (const b of cpuBackends) {
    const res = new Map<number, number | undefined>();
    let last: [number, number] | undefined;
    for (const n of SIZES) {
      if (b === 'js' && last !== undefined && (2 * n ** 3) / last[1] / 1e9 > JS_MATMUL_MAX_S) {
        res.set(n, undefined);
        continue;
      }
      const g = benchMatmul(b, dt, [n], budget).get(n);
      res.set(n, g);
      if (g !== undefined) last = [n, g];
    }
    mm.set(`${b}:${dt}`, res);
  }

progress('elementwise...');
const copyGBs = benchCopy(N_ELEM, budget);
const ew = new Map<string, ElementwiseResult>();
for (const b of cpuBackends) ew.set(b, benchAdd(b, N_ELEM, budget));

progress('small ops...');
const small = new Map<string, number | undefined>();
for (const b of cpuBackends) small.set(b, attempt(`small add on ${b}`, () => smallOpNs(b, SMALL, budget)));
/** Runs `f` with the cpu backend's js crossovers set to 0, so every size takes the native path. */
const forcedNative = <T>(f: () => T): T => {
  const saved = { ...CROSSOVER };
  for (const k of Object.keys(CROSSOVER) as (keyof typeof CROSSOVER)[]) CROSSOVER[k] = 0;
  try {
    return f();
  } finally {
    Object.assign(CROSSOVER, saved);
  }
};
const smallForced = native ? attempt('small add, native forced', () => forcedNative(() => smallOpNs(native, SMALL, budget))) : undefined;
const cross = native ? attempt('crossover', () => forcedNative(() => crossover(native, 'js', CROSS_SIZES, quick ? 50 : 100))) : undefined;

progress('valueAndGrad...');
const vg = new Map<string, number | undefined>();
for (const b of cpuBackends) vg.set(b, attempt(`valueAndGrad on ${b}`, () => valueAndGradUs(b, budget)));

let numpy: NumpyFigures | undefined;
let numpy1: NumpyFigures | undefined;
if (!('missing' in np1)) {
  progress('NumPy (2 of 2)...');
  const np2 = runNumpy(npConfig);
  numpy = 'missing' in np2 ? np1 : bestOf(np1, np2);
  progress('NumPy, one thread...');
  const single = runNumpy(npConfig, 1);
  numpy1 = 'missing' in single ? undefined : single;
}
/** NumPy's better matmul figure of all threads and one thread. */
const npMatmul = (dt: 'float32' | 'float64', n: number): number | undefined => {
  const all = numpy?.matmul[dt]?.[String(n)];
  const one = numpy1?.matmul[dt]?.[String(n)];
  return all === undefined ? one : one === undefined ? all : Math.max(all, one);
};

// ---------------------------------------------------------------- print
const lines: string[] = [];
const out = (s = ''): void => {
  lines.push(s);
  console.log(s);
};
const check = (ok: boolean | undefined): string => (ok === undefined ? 'n/a' : ok ? 'met' : 'MISSED');
const row = (cells: (string | number)[]): string => `| ${cells.join(' | ')} |`;
const header = (cells: string[]): void => {
  out(row(cells));
  out(row(cells.map(() => '---')));
};
const targets: string[] = [];

out(
  `Machine: ${peak?.model ?? cpus()[0]?.model ?? 'unknown'}, ${cpus().length} logical CPUs, load average ${load.toFixed(1)} at the start; ` +
    `Node ${process.version}; ${new Date().toISOString().slice(0, 10)}${quick ? ' (--quick)' : ''}`,
);
out();
out(`Backends: ${cpuBackends.join(', ')}${Object.entries(backends.missing).map(([k, v]) => `; ${k} missing: ${v}`).join('')}`);
out();
out(
  `Peers: ${numpy ? `NumPy ${numpy.version} (${numpy.blas}, ${numpy.cpus} CPUs) from bench/peers/.venv: the better of a run before and one after varinf's, and a run on one BLAS thread` : `NumPy absent: ${'missing' in np1 ? np1.missing : ''}`}`,
);
out();
out(
  peak
    ? `Peak estimate: ${fmt(peak.float64)} GFLOP/s float64, ${fmt(peak.float32)} float32 = ${peak.how} (from /proc/cpuinfo; a VM reports its nominal clock, so turbo can exceed this)`
    : 'Peak estimate: /proc/cpuinfo unreadable',
);
out();

out('### Matmul (n×n · n×n, GFLOP/s, fastest of repeated runs)');
out();
header(['n', 'dtype', ...cpuBackends, 'NumPy', 'NumPy 1 thread', 'peak', `${judged} / best NumPy`, `${judged} % of peak`, 'target ≥ ½ NumPy (512, 1024)']);
for (const dt of DTYPES)
  for (const n of SIZES) {
    const vals = cpuBackends.map((b) => mm.get(`${b}:${dt}`)?.get(n));
    const mine = mm.get(`${judged}:${dt}`)?.get(n);
    const ref = npMatmul(dt as 'float32' | 'float64', n);
    const pk = peak ? (dt === 'float32' ? peak.float32 : peak.float64) : undefined;
    const ratio = mine !== undefined && ref !== undefined ? mine / ref : undefined;
    const isTarget = n === 512 || n === 1024;
    const verdict = isTarget ? check(ratio === undefined ? undefined : ratio >= 0.5) : '';
    if (isTarget) targets.push(`matmul ${n} ${dt} ≥ ½ NumPy (${judgedNote}): ${verdict} (${fmt(ratio, 2)}×)`);
    const cells = [fmt(numpy?.matmul[dt as 'float32' | 'float64']?.[String(n)]), fmt(numpy1?.matmul[dt as 'float32' | 'float64']?.[String(n)])];
    out(row([n, dt, ...vals.map((v) => fmt(v)), ...cells, fmt(pk), fmt(ratio, 2), mine !== undefined && pk ? `${fmt((100 * mine) / pk)}%` : '—', verdict]));
  }
out();
out('(—: not measured: a js size predicted to take over 3 s per product, or a failed kernel.)');
out();

out('### Elementwise add, 1M float32 (GB/s moved: 12 bytes per element for add, 8 for copy)');
out();
header(['what', 'GB/s', '÷ copy', 'target ≥ ½ copy']);
out(row(['copy: Float32Array.set', fmt(copyGBs), '1.00', '']));
for (const b of cpuBackends) {
  const r = ew.get(b) as ElementwiseResult;
  const ratio = r.kernelGBs !== undefined ? r.kernelGBs / copyGBs : undefined;
  const verdict = b === judged ? check(ratio === undefined ? undefined : ratio >= 0.5) : '';
  if (b === judged) targets.push(`elementwise add 1M f32 ≥ ½ copy (${judgedNote}): ${verdict} (${fmt(ratio, 2)}×)`);
  out(row([`${b}: add kernel, preallocated output`, fmt(r.kernelGBs), fmt(ratio, 2), verdict]));
  out(row([`${b}: add op (allocates its output)`, fmt(r.opGBs), r.opGBs !== undefined ? fmt(r.opGBs / copyGBs, 2) : '—', '']));
}
if (numpy) {
  out(row(['NumPy: np.add(a, b, out=c)', fmt(numpy.addGBs), fmt(numpy.addGBs / copyGBs, 2), '']));
  out(row(['NumPy: a + b', fmt(numpy.addAllocGBs), fmt(numpy.addAllocGBs / copyGBs, 2), '']));
  out(row(['NumPy: np.copyto', fmt(numpy.copyGBs), fmt(numpy.copyGBs / copyGBs, 2), '']));
}
out();

out(`### One small op: add of two ${SMALL}-element float64 tensors (ns per op, fastest batch mean)`);
out();
header(['backend', 'ns', 'target < 1000 ns']);
for (const b of cpuBackends) {
  const ns = small.get(b);
  const verdict = check(ns === undefined ? undefined : ns < 1000);
  targets.push(`one small op on ${b} < 1 µs: ${verdict} (${fmt(ns, 0)} ns)`);
  out(row([b === 'cpu' ? 'cpu (as shipped: small sizes run the js kernels)' : b, fmt(ns, 0), verdict]));
}
if (native) {
  const verdict = check(smallForced === undefined ? undefined : smallForced < 1000);
  targets.push(`one small op on ${native}, native path forced, < 1 µs: ${verdict} (${fmt(smallForced, 0)} ns)`);
  out(row([`${native}, native path forced (a napi call)`, fmt(smallForced, 0), verdict]));
}
if (numpy) out(row(['NumPy a + b', fmt(numpy.smallAddNs, 0), '']));
out();
if (cross) {
  out(
    `Crossover (float64 add through the op, ns per op, native path forced): ${native} is ≥ 10% faster than js from n = ` +
      `${cross.size ?? `— (not at ${CROSS_SIZES[CROSS_SIZES.length - 1]})`} on. The cpu backend's own CROSSOVER.elementwise is ${CROSSOVER.elementwise}.`,
  );
  out();
  header(['n', 'js', `${native} (native)`]);
  for (const r of cross.rows) out(row([r.n, fmt(r.refNs, 0), fmt(r.nativeNs, 0)]));
} else out('Crossover: no native cpu backend in this run.');
out();

out('### valueAndGrad of a 50-op scalar expression (µs per call, fastest batch mean)');
out();
header(['backend', 'µs', 'target < 50 µs']);
for (const b of cpuBackends) {
  const us = vg.get(b);
  const verdict = check(us === undefined ? undefined : us < 50);
  targets.push(`valueAndGrad of 50 ops on ${b} < 50 µs: ${verdict} (${fmt(us)} µs)`);
  out(row([b, fmt(us), verdict]));
}
out();
out('### Targets');
out();
for (const t of targets) out(`- ${t}`);

// ---------------------------------------------------------------- record
const root = fileURLToPath(new URL('..', import.meta.url));
mkdirSync(`${root}bench/results`, { recursive: true });
writeFileSync(`${root}bench/results/kernels.md`, lines.join('\n') + '\n');
if (args.has('--write')) {
  const path = `${root}bench/README.md`;
  const md = readFileSync(path, 'utf8');
  const begin = '<!-- bench:begin -->';
  const end = '<!-- bench:end -->';
  const i = md.indexOf(begin);
  const j = md.indexOf(end);
  if (i < 0 || j < i) throw new Error(`bench/README.md lacks the ${begin} … ${end} markers`);
  writeFileSync(path, `${md.slice(0, i + begin.length)}\n${lines.join('\n')}\n${md.slice(j)}`);
  progress('wrote bench/README.md');
}
