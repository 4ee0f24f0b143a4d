/**
 * ns/element of the float32 transcendental kernels (and the cheap ops their backward passes use)
 * on 1M elements, native cpu backend vs the js reference, plus one IWAE-like chain of kernels.
 * The native kernel runs on rayon's pool (two cores on the reference machine), so native ns/element
 * is wall time, not per-core time. Set VARINF_BENCH_N to change the size.
 *
 *   npx tsx bench/kernels/transcendental.ts
 */
process.env.VARINF_CPU_CROSSOVER = '0';
const { loadCpuBackend } = await import('../../ts/backends/cpu/index.js');
const { JS_KERNELS } = await import('../../ts/backends/js/index.js');
const { timeIt } = await import('./timing.js');
type View = { data: Float32Array | Int32Array; shape: number[]; dtype: 'float32' | 'int32' };
type Kernel = (ins: View[], outs: View[], attrs: unknown) => void;

const cpu = loadCpuBackend().backend;
if (!cpu) {
  console.log('transcendental: the native cpu backend is not built; nothing to measure.');
  process.exit(0);
}
const N = Number(process.env.VARINF_BENCH_N ?? 1 << 20);

/** Float32 data spread over [lo, hi] (a deterministic scramble, so branches are unpredictable). */
function f32(n: number, lo: number, hi: number): View {
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = lo + (hi - lo) * ((i * 0.6180339887) % 1);
  return { data: d, shape: [n], dtype: 'float32' };
}
const out = (): View => ({ data: new Float32Array(N), shape: [N], dtype: 'float32' });
const mask = (): View => {
  const d = new Int32Array(N);
  for (let i = 0; i < N; i++) d[i] = (i * 7) % 3 === 0 ? 1 : 0;
  return { data: d, shape: [N], dtype: 'int32' };
};

interface Case {
  op: string;
  ins: View[];
  outs: View[];
}
const cases: Case[] = [
  { op: 'exp', ins: [f32(N, -20, 20)], outs: [out()] },
  { op: 'expm1', ins: [f32(N, -20, 20)], outs: [out()] },
  { op: 'log', ins: [f32(N, 1e-6, 100)], outs: [out()] },
  { op: 'log1p', ins: [f32(N, -0.99, 100)], outs: [out()] },
  { op: 'tanh', ins: [f32(N, -10, 10)], outs: [out()] },
  { op: 'sigmoid', ins: [f32(N, -20, 20)], outs: [out()] },
  { op: 'softplus', ins: [f32(N, -20, 20)], outs: [out()] },
  { op: 'relu', ins: [f32(N, -1, 1)], outs: [out()] },
  { op: 'add', ins: [f32(N, -1, 1), f32(N, -2, 2)], outs: [out()] },
  { op: 'mul', ins: [f32(N, -1, 1), f32(N, -2, 2)], outs: [out()] },
  { op: 'sub', ins: [f32(N, -1, 1), f32(N, -2, 2)], outs: [out()] },
  { op: 'greater', ins: [f32(N, -1, 1), f32(N, -2, 2)], outs: [{ data: new Int32Array(N), shape: [N], dtype: 'int32' }] },
  { op: 'where', ins: [mask(), f32(N, -1, 1), f32(N, -2, 2)], outs: [out()] },
];

const js = JS_KERNELS as unknown as Record<string, Kernel>;
const budgetMs = 400;
const ns = (t: number): string => ((t / N) * 1e9).toFixed(2).padStart(9);
console.log(`float32, n = ${N}: ns/element (best batch)`);
console.log('op             js   native');
for (const c of cases) {
  const tj = timeIt(() => js[c.op](c.ins, c.outs, {}), { budgetMs }).best;
  const tc = timeIt(() => cpu.run(c.op as never, c.ins as never, c.outs as never, {} as never), { budgetMs }).best;
  console.log(`${c.op.padEnd(9)}${ns(tj)}${ns(tc)}`);
}

// One IWAE-like chain: the elementwise work of a Bernoulli decoder log-likelihood and its backward
// on N logits: softplus(z) - x·z forward, then sigmoid(z) - x as the gradient, plus a tanh layer
// and its derivative 1 - tanh².
{
  const z = f32(N, -8, 8);
  const x = f32(N, 0, 1);
  const [sp, xz, ll, sg, gr, th, th2, dth] = Array.from({ length: 8 }, out);
  const one: View = { data: new Float32Array([1]), shape: [1], dtype: 'float32' };
  const chain = (run: (op: string, ins: View[], outs: View[]) => void) => () => {
    run('softplus', [z], [sp]);
    run('mul', [x, z], [xz]);
    run('sub', [sp, xz], [ll]);
    run('sigmoid', [z], [sg]);
    run('sub', [sg, x], [gr]);
    run('tanh', [z], [th]);
    run('mul', [th, th], [th2]);
    run('sub', [one, th2], [dth]);
  };
  const tj = timeIt(chain((op, i, o) => js[op](i, o, {})), { budgetMs }).best;
  const tc = timeIt(chain((op, i, o) => cpu.run(op as never, i as never, o as never, {} as never)), { budgetMs }).best;
  console.log(`chain (8 ops) ms: js ${(tj * 1e3).toFixed(2)}, native ${(tc * 1e3).toFixed(2)}`);
}
