/**
 * Measures where the native cpu kernels overtake the js ones, to set CROSSOVER in
 * ts/backends/cpu/index.ts. For each kernel and size it times the js kernel and the cpu backend's
 * kernel with every crossover set to 0 (so the native path always runs), and prints the per-call
 * times and the smallest size from which native stays faster.
 *
 *   npx tsx bench/kernels/crossover.ts
 */
process.env.VARINF_CPU_CROSSOVER = '0';
const { loadCpuBackend } = await import('../../ts/backends/cpu/index.js');
const { JS_KERNELS } = await import('../../ts/backends/js/index.js');
type View = { data: Float64Array | Float32Array | Int32Array; shape: number[]; dtype: 'float64' | 'float32' | 'int32' };
type Kernel = (ins: View[], outs: View[], attrs: unknown) => void;

const cpu = loadCpuBackend().backend;
if (!cpu) {
  console.log('crossover: the native cpu backend is not built; nothing to measure.');
  process.exit(0);
}

function view(dtype: View['dtype'], shape: number[], fill = true): View {
  const n = shape.reduce((p, d) => p * d, 1);
  const data = dtype === 'float64' ? new Float64Array(n) : dtype === 'float32' ? new Float32Array(n) : new Int32Array(n);
  if (fill) for (let i = 0; i < n; i++) data[i] = dtype === 'int32' ? i % 7 : 0.5 + Math.random();
  return { data, shape, dtype };
}

/** Median ns per call over a few batches sized to ~2 ms each. */
function time(f: () => void): number {
  for (let i = 0; i < 200; i++) f();
  let reps = 1;
  for (;;) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) f();
    if (Number(process.hrtime.bigint() - t) > 2e6) break;
    reps *= 2;
  }
  const samples: number[] = [];
  for (let s = 0; s < 7; s++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) f();
    samples.push(Number(process.hrtime.bigint() - t) / reps);
  }
  return samples.sort((a, b) => a - b)[3];
}

interface Case {
  label: string;
  kernel: string;
  sizes: number[];
  make: (n: number) => { ins: View[]; outs: View[]; attrs: unknown };
}

const SIZES = [4, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384];
const cases: Case[] = [
  { label: 'add f64', kernel: 'add', sizes: SIZES, make: (n) => ({ ins: [view('float64', [n]), view('float64', [n])], outs: [view('float64', [n], false)], attrs: {} }) },
  { label: 'mul f32', kernel: 'mul', sizes: SIZES, make: (n) => ({ ins: [view('float32', [n]), view('float32', [n])], outs: [view('float32', [n], false)], attrs: {} }) },
  { label: 'add f64 [n/8,8]+[8]', kernel: 'add', sizes: SIZES.filter((s) => s >= 16), make: (n) => ({ ins: [view('float64', [n / 8, 8]), view('float64', [8])], outs: [view('float64', [n / 8, 8], false)], attrs: {} }) },
  { label: 'neg f64', kernel: 'neg', sizes: SIZES, make: (n) => ({ ins: [view('float64', [n])], outs: [view('float64', [n], false)], attrs: {} }) },
  { label: 'exp f64', kernel: 'exp', sizes: SIZES, make: (n) => ({ ins: [view('float64', [n])], outs: [view('float64', [n], false)], attrs: {} }) },
  { label: 'sum f64 all', kernel: 'sum', sizes: SIZES, make: (n) => ({ ins: [view('float64', [n])], outs: [view('float64', [], false)], attrs: { axes: [0], keepDims: false } }) },
  { label: 'transpose f64 [n/8,8]', kernel: 'transpose', sizes: SIZES.filter((s) => s >= 16), make: (n) => ({ ins: [view('float64', [n / 8, 8])], outs: [view('float64', [8, n / 8], false)], attrs: { perm: [1, 0] } }) },
  { label: 'randomNormal f64', kernel: 'randomNormal', sizes: SIZES, make: (n) => ({ ins: [], outs: [view('float64', [n], false)], attrs: { key: [1, 2], shape: [n], dtype: 'float64' } }) },
  // Sizes are multiply-adds: square matrices of side round(cbrt(n)).
  { label: 'matmul f64 (n = m·n·k)', kernel: 'matmul', sizes: [8, 64, 512, 1728, 4096, 8000, 32768], make: (s) => { const d = Math.round(Math.cbrt(s)); return { ins: [view('float64', [d, d]), view('float64', [d, d])], outs: [view('float64', [d, d], false)], attrs: { transA: false, transB: false } }; } },
];

const tbl = JS_KERNELS as unknown as Record<string, Kernel>;
console.log('kernel                     size     js ns   cpu ns');
for (const c of cases) {
  let cross: number | null = null;
  for (const n of c.sizes) {
    const { ins, outs, attrs } = c.make(n);
    const tj = time(() => tbl[c.kernel](ins, outs, attrs));
    const tc = time(() => cpu.run(c.kernel as never, ins as never, outs as never, attrs as never));
    if (tc < tj) cross ??= n;
    else cross = null;
    console.log(`${c.label.padEnd(26)} ${String(n).padStart(6)} ${tj.toFixed(0).padStart(8)} ${tc.toFixed(0).padStart(8)}`);
  }
  console.log(`  → ${c.label}: native faster from ${cross ?? 'never in range'}`);
}
