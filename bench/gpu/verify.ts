/**
 * CUDA verification and benchmarks, run by plain node on the device machine against the compiled
 * library (see bench/gpu/README section in bench/README-cuda.md):
 *
 *   node .carry/dist/bench/gpu/verify.js [--reduced] [--no-bench] [--json FILE]
 *
 * 1. Conformance: every kernel of the spec, every case of test/backend/cases.ts, cuda vs js with
 *    the suite's per-dtype tolerances. --reduced keeps two small cases per kernel (for
 *    compute-sanitizer, which is slow).
 * 2. Gradients on cuda: every case of test/grad/cases.ts against float64 central differences
 *    computed on the GPU (the vitest suite's check, test/grad/check.ts), with the library's
 *    backend set to cuda, so autodiff, the rules and the kernels all run on the device.
 * 3. Checks beyond the cases: bit-identical Philox streams on large sizes, async read, the
 *    out-of-memory message, fallbacks listed.
 * 4. Benchmarks (not with --no-bench): GEMM at VAE shapes (float32, TF32 through cuBLAS's math
 *    mode, and bfloat16 inputs rounded on the fly with float32 accumulation), a 64M-element
 *    elementwise op and the fused reparameterized sample in GB/s against a device copy, SVGD's direction at
 *    n = 1,000 × d = 100 and 4,096 × 1,000, and the end-to-end cost of one small op from JS. PyTorch's figures come from torch_bench.py in the same run.
 */
import { writeFileSync } from 'node:fs';
import { toBfloat16 } from '../../ts/core/dtype.js';
import { jsBackend } from '../../ts/backends/js/index.js';
import { cudaMissingKernels, loadCudaBackend } from '../../ts/backends/cuda/index.js';
import type { Backend } from '../../ts/backends/backend.js';
import { KERNEL_NAMES, KERNELS } from '../../ts/kernels/spec.js';
import { compareOutputs, kernelCases, runCase, toleranceFor } from '../../test/backend/cases.js';
import { CASES as GRAD_CASES } from '../../test/grad/cases.js';
import { checkGradCase, DEFAULT_TOL } from '../../test/grad/check.js';
import * as V from '../../ts/index.js';

const args = process.argv.slice(2);
const reduced = args.includes('--reduced');
const bench = !args.includes('--no-bench') && !reduced;
const jsonAt = args.indexOf('--json');
const jsonFile = jsonAt >= 0 ? args[jsonAt + 1] : undefined;

const loaded = loadCudaBackend();
if (!loaded.backend || !loaded.addon) {
  console.log(`cuda backend unavailable: ${loaded.reason}`);
  process.exit(1);
}
const cuda = loaded.backend as Backend<unknown>;
const addon = loaded.addon;
const dev = loaded.device;
console.log(`device: ${dev?.name} (sm_${dev?.major}${dev?.minor}, ${dev?.multiprocessors} SMs, ${((dev?.totalMemory ?? 0) / 2 ** 30).toFixed(1)} GiB), runtime ${dev?.runtimeVersion}, driver ${dev?.driverVersion}`);

// ---------------------------------------------------------------- conformance
interface Row {
  kernel: string;
  cases: number;
  pass: number;
  fail: number;
  skipped: string;
  first: string;
}
const rows: Row[] = [];
const t0 = performance.now();
for (const name of KERNEL_NAMES) {
  const row: Row = { kernel: name, cases: 0, pass: 0, fail: 0, skipped: '', first: '' };
  rows.push(row);
  if (!cuda.has(name)) {
    row.skipped = 'falls back to js';
    continue;
  }
  let cases = kernelCases(name);
  if (reduced) cases = cases.filter((c) => !/large/.test(c.label)).slice(0, 2);
  for (const c of cases) {
    row.cases++;
    let msg: string | null = null;
    try {
      const want = runCase(jsBackend, c);
      const got = runCase(cuda, c);
      const infos = KERNELS[name].infer(c.inputs, c.attrs as never);
      for (let k = 0; k < want.length && msg === null; k++) msg = compareOutputs(got[k], want[k], toleranceFor(c, infos[k].dtype));
    } catch (e) {
      msg = `threw ${(e as Error).message}`;
    }
    if (msg === null) row.pass++;
    else {
      row.fail++;
      if (row.first === '') row.first = `${c.label}: ${msg}`;
    }
  }
}
const confMs = performance.now() - t0;
const failed = rows.filter((r) => r.fail > 0);
const passed = rows.filter((r) => r.cases > 0 && r.fail === 0);
console.log(`\nconformance${reduced ? ' (reduced)' : ''}: ${passed.length} kernels pass all cases, ${failed.length} fail, ${cudaMissingKernels().length} fall back to js (${cudaMissingKernels().join(', ') || 'none'}); ${rows.reduce((s, r) => s + r.cases, 0)} cases in ${(confMs / 1000).toFixed(1)} s`);
for (const r of failed) console.log(`  FAIL ${r.kernel} (${r.fail}/${r.cases}): ${r.first.slice(0, 300)}`);

// ---------------------------------------------------------------- gradients on cuda
const gradFails: string[] = [];
// Not under --reduced (compute-sanitizer): the conformance cases already launch every kernel.
if (!reduced) {
  const before = V.getBackend();
  V.setBackend('cuda');
  const t = performance.now();
  const cases = GRAD_CASES;
  for (const c of cases) {
    try {
      const r = checkGradCase(c);
      if (!r.recorded) gradFails.push(`${c.name}: ${c.kernel} was not recorded on the tape`);
      else if (!(r.err < (c.tol ?? DEFAULT_TOL))) gradFails.push(`${c.name}: error ${r.err.toExponential(2)} (${r.worst})`);
    } catch (e) {
      gradFails.push(`${c.name}: threw ${(e as Error).message}`);
    }
  }
  V.setBackend(before);
  console.log(`\ngradients on cuda: ${cases.length - gradFails.length}/${cases.length} cases match central differences (${((performance.now() - t) / 1000).toFixed(1)} s); js fallbacks: ${V.fallbacks().join(', ') || 'none'}`);
  for (const f of gradFails) console.log(`  FAIL ${f.slice(0, 300)}`);
}

// ---------------------------------------------------------------- extra checks
const checks: Record<string, string> = {};
function checkEq(label: string, a: ArrayLike<number>, b: ArrayLike<number>): void {
  let bad = -1;
  for (let i = 0; i < a.length && bad < 0; i++) if (!Object.is(a[i], b[i])) bad = i;
  checks[label] = a.length !== b.length ? `length ${a.length} vs ${b.length}` : bad < 0 ? 'bit-identical' : `differs at ${bad}: ${a[bad]} vs ${b[bad]}`;
}
{
  const key: [number, number] = [0x12345678, 0x9abcdef0];
  for (const [name, dtype] of [['randomBits', 'int32'], ['randomUniform', 'float32'], ['randomUniform', 'float64']] as const) {
    const n = 1_000_003;
    const attrs = { key, shape: [n], dtype } as never;
    const want = runCase(jsBackend, { name, label: 'big', inputs: [], attrs });
    const got = runCase(cuda, { name, label: 'big', inputs: [], attrs });
    checkEq(`${name} ${dtype} n=${n}`, got[0], want[0]);
  }
  for (const dtype of ['float32', 'float64'] as const) {
    const n = 100_001;
    const attrs = { key, shape: [n], dtype } as never;
    const want = runCase(jsBackend, { name: 'randomNormal', label: 'big', inputs: [], attrs })[0];
    const got = runCase(cuda, { name: 'randomNormal', label: 'big', inputs: [], attrs })[0];
    let exact = 0;
    let maxRel = 0;
    for (let i = 0; i < n; i++) {
      if (Object.is(got[i], want[i])) exact++;
      else maxRel = Math.max(maxRel, Math.abs(got[i] - want[i]) / Math.max(1e-300, Math.abs(want[i])));
    }
    checks[`randomNormal ${dtype} n=${n}`] = `${exact}/${n} bit-identical, max rel diff ${maxRel.toExponential(2)} (libm cos/log vs V8)`;
  }
}
try {
  addon.alloc(2 ** 50);
  checks['out of memory'] = 'no error thrown (unexpected)';
} catch (e) {
  checks['out of memory'] = (e as Error).message;
}
{
  // CUDA graphs: a compiled step recorded once and replayed must give what call-by-call replay gives.
  // The step has a product, a fused random kernel (its key read from device memory), a reduction
  // over a leading axis (a temporary allocated while recording) and a gradient.
  V.setBackend('cuda');
  const f = (p: { w: V.Tensor }, x: V.Tensor, k: V.Key): V.Tensor[] => {
    const [loss, g] = V.valueAndGrad((q: { w: V.Tensor }) => {
      const [z, logq] = V.normalReparam(V.matmul(x, q.w), -1, k);
      return V.add(V.sum(V.logsumexp(z, [0])), V.sum(logq));
    })(p);
    return [loss, g.w];
  };
  const p = { w: V.mul(V.normal(V.key(1), [64, 32], { dtype: 'float32' }), 0.1) };
  const x = V.normal(V.key(2), [256, 64], { dtype: 'float32' });
  const plainF = V.compile(f, { graphs: false });
  const graphF = V.compile(f, { graphs: true });
  const a: number[] = [];
  const b: number[] = [];
  for (let s = 0; s < 6; s++) {
    for (const t of plainF(p, x, V.key(10 + s))) a.push(...t.dataSync());
    for (const t of graphF(p, x, V.key(10 + s))) b.push(...t.dataSync());
  }
  checkEq(`compiled step as a CUDA graph (${graphF.stats?.graph}) vs call by call, 6 runs`, b, a);
  const chol = V.compile((m: V.Tensor) => V.sum(V.cholesky(V.add(V.matmul(m, m, { transB: true }), V.eye(8, 'float32')))), { graphs: true });
  const m8 = V.normal(V.key(3), [8, 8], { dtype: 'float32' });
  for (let s = 0; s < 3; s++) chol(m8);
  checks['a step with cholesky, graphs on'] = chol.stats?.graph ?? 'no stats';
  // A zero on a triangular diagonal: the same SingularMatrixError as the js and cpu backends, eager;
  // inside a CUDA graph the check is skipped (no status read) and the step's output is not finite.
  const zeroDiag = V.tensor([1, 0, 2, 3, 1, 0, 2, 0], [2, 2, 2], 'float64');
  try {
    V.triangularSolve(zeroDiag, V.ones([2, 2, 1], 'float64'), { lower: true });
    checks['triangularSolve, zero on the diagonal'] = 'no error thrown (unexpected)';
  } catch (e) {
    checks['triangularSolve, zero on the diagonal'] = `${(e as Error).name}: ${(e as Error).message}`;
  }
  V.setBackend('js');
}
const asyncCheck = (async () => {
  const h = cuda.upload(new Float32Array([1, 2, 3]));
  const r = await cuda.read(h, 'float32', 3);
  cuda.free(h);
  checks['async read'] = Array.from(r).join(',') === '1,2,3' ? 'ok' : `got ${Array.from(r).join(',')}`;
})();
await asyncCheck;
console.log('\nchecks:');
for (const [k, v] of Object.entries(checks)) console.log(`  ${k}: ${v}`);

// ---------------------------------------------------------------- benchmarks
const results: Record<string, number> = {};
if (bench) {
  const f32 = (n: number): Float32Array => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = Math.sin(i * 0.37) * 0.5;
    return a;
  };
  /** Median of `reps` timings (ms) of `iters` queued runs of fn followed by one sync. */
  const time = (fn: () => void, iters: number, reps = 5): number => {
    for (let i = 0; i < 3; i++) fn();
    addon.sync();
    const ts: number[] = [];
    for (let r = 0; r < reps; r++) {
      const s = performance.now();
      for (let i = 0; i < iters; i++) fn();
      addon.sync();
      ts.push((performance.now() - s) / iters);
    }
    ts.sort((p, q) => p - q);
    return ts[Math.floor(reps / 2)];
  };
  console.log('\nbenchmarks (varinf cuda):');
  for (const [mode, label] of [[0, 'fp32'], [1, 'tf32'], [2, 'bf16']] as const) {
    addon.setMatmulPrecision(mode);
    for (const [m, k, n] of [[128, 784, 512], [512, 784, 512], [1024, 784, 512]]) {
      const a = { data: cuda.upload(f32(m * k)), shape: [m, k], dtype: 'float32' as const };
      const b = { data: cuda.upload(f32(k * n)), shape: [k, n], dtype: 'float32' as const };
      const o = { data: cuda.alloc('float32', m * n), shape: [m, n], dtype: 'float32' as const };
      const ms = time(() => cuda.run('matmul', [a, b], [o], { transA: false, transB: false }), 200);
      const tflops = (2 * m * k * n) / (ms * 1e-3) / 1e12;
      const key = `gemm_${label}_${m}x${k}x${n}`;
      results[key] = tflops;
      console.log(`  ${key}: ${(ms * 1000).toFixed(1)} us, ${tflops.toFixed(1)} TFLOP/s`);
      for (const t of [a, b, o]) cuda.free(t.data);
    }
  }
  addon.setMatmulPrecision(0);
  // bfloat16 storage: operands already bfloat16 (as PyTorch's bf16 tensors), float32 result.
  for (const [m, k, n] of [[128, 784, 512], [512, 784, 512], [1024, 784, 512]]) {
    const a = { data: cuda.upload(toBfloat16(f32(m * k))), shape: [m, k], dtype: 'bfloat16' as const };
    const b = { data: cuda.upload(toBfloat16(f32(k * n))), shape: [k, n], dtype: 'bfloat16' as const };
    const o = { data: cuda.alloc('float32', m * n), shape: [m, n], dtype: 'float32' as const };
    const ms = time(() => cuda.run('matmul', [a, b], [o], { transA: false, transB: false }), 200);
    const tflops = (2 * m * k * n) / (ms * 1e-3) / 1e12;
    const key = `gemm_bf16_stored_${m}x${k}x${n}`;
    results[key] = tflops;
    console.log(`  ${key}: ${(ms * 1000).toFixed(1)} us, ${tflops.toFixed(1)} TFLOP/s`);
    for (const t of [a, b, o]) cuda.free(t.data);
  }
  {
    const n = 64 * 2 ** 20;
    const x = { data: cuda.upload(f32(n)), shape: [n], dtype: 'float32' as const };
    const y = { data: cuda.upload(f32(n)), shape: [n], dtype: 'float32' as const };
    const o = { data: cuda.alloc('float32', n), shape: [n], dtype: 'float32' as const };
    const msMul = time(() => cuda.run('mul', [x, y], [o], {}), 20);
    const msExp = time(() => cuda.run('exp', [x], [o], {}), 20);
    const msCopy = time(() => addon.copy2d(x.data as never, o.data as never, 1, n * 4, n * 4, 0), 20);
    results.mul_64M_GBs = (3 * n * 4) / (msMul * 1e-3) / 1e9;
    results.exp_64M_GBs = (2 * n * 4) / (msExp * 1e-3) / 1e9;
    results.copy_64M_GBs = (2 * n * 4) / (msCopy * 1e-3) / 1e9;
    console.log(`  mul 64M float32: ${msMul.toFixed(3)} ms, ${results.mul_64M_GBs.toFixed(0)} GB/s (read 2 + write 1)`);
    console.log(`  exp 64M float32: ${msExp.toFixed(3)} ms, ${results.exp_64M_GBs.toFixed(0)} GB/s (read 1 + write 1)`);
    console.log(`  device copy 64M float32: ${msCopy.toFixed(3)} ms, ${results.copy_64M_GBs.toFixed(0)} GB/s (read + write)`);
    // Reductions (the addon's own kernels, accumulating in double): a full sum and row sums.
    const s0 = { data: cuda.alloc('float32', 1), shape: [], dtype: 'float32' as const };
    const rows = { data: cuda.alloc('float32', 8192), shape: [8192], dtype: 'float32' as const };
    const msSum = time(() => cuda.run('sum', [x], [s0], { axes: [0], keepDims: false }), 20);
    const msRows = time(() => cuda.run('sum', [{ ...x, shape: [8192, 8192] }], [rows], { axes: [1], keepDims: false }), 20);
    results.sum_64M_GBs = (n * 4) / (msSum * 1e-3) / 1e9;
    results.rowsum_8192x8192_GBs = (n * 4) / (msRows * 1e-3) / 1e9;
    console.log(`  sum 64M float32: ${results.sum_64M_GBs.toFixed(0)} GB/s; row sums [8192, 8192]: ${results.rowsum_8192x8192_GBs.toFixed(0)} GB/s`);
    for (const t of [s0, rows]) cuda.free(t.data);
    // The fused reparameterized sample and its log-density: reads loc and logScale, writes z and
    // log q (4 × 4 bytes per element), its Philox draws and Box–Muller inside the one pass.
    const q = { data: cuda.alloc('float32', n), shape: [n], dtype: 'float32' as const };
    const msReparam = time(() => cuda.run('normalReparam', [x, y], [o, q], { key: [7, 11] }), 20);
    results.reparam_64M_GBs = (4 * n * 4) / (msReparam * 1e-3) / 1e9;
    results.reparam_64M_of_copy = results.reparam_64M_GBs / results.copy_64M_GBs;
    console.log(
      `  normalReparam 64M float32: ${msReparam.toFixed(3)} ms, ${results.reparam_64M_GBs.toFixed(0)} GB/s (read 2 + write 2), ` +
        `${(100 * results.reparam_64M_of_copy).toFixed(0)}% of the copy bandwidth`,
    );
    for (const t of [x, y, o, q]) cuda.free(t.data);
  }
  // SVGD's direction with the median heuristic (float32), the two sizes.
  for (const [n, d] of [[1000, 100], [4096, 1000]]) {
    const x = { data: cuda.upload(f32(n * d)), shape: [n, d], dtype: 'float32' as const };
    const g = { data: cuda.upload(f32(n * d).map((v, i) => v * Math.cos(i))), shape: [n, d], dtype: 'float32' as const };
    const phi = { data: cuda.alloc('float32', n * d), shape: [n, d], dtype: 'float32' as const };
    const h = { data: cuda.alloc('float32', 1), shape: [], dtype: 'float32' as const };
    const ms = time(() => cuda.run('svgdPhi', [x, g], [phi, h], { bandwidth: 0 }), n > 2000 ? 10 : 50);
    results[`svgd_${n}x${d}_ms`] = ms;
    console.log(`  svgdPhi n=${n} d=${d} float32, median bandwidth: ${ms.toFixed(3)} ms`);
    for (const t of [x, g, phi, h]) cuda.free(t.data);
  }
  {
    const a = { data: cuda.upload(f32(16)), shape: [16], dtype: 'float32' as const };
    const b = { data: cuda.upload(f32(16)), shape: [16], dtype: 'float32' as const };
    // Queued: alloc + launch + free per op, one sync at the end (the eager-op cost from JS).
    const usQueued = time(() => {
      const o = { data: cuda.alloc('float32', 16), shape: [16], dtype: 'float32' as const };
      cuda.run('add', [a, b], [o], {});
      cuda.free(o.data);
    }, 20000) * 1000;
    // Round trip: one op and a synchronous read of its 16 floats.
    const o = { data: cuda.alloc('float32', 16), shape: [16], dtype: 'float32' as const };
    const usRound = time(() => {
      cuda.run('add', [a, b], [o], {});
      cuda.readSync(o.data, 'float32', 16);
    }, 2000) * 1000;
    results.small_add_queued_us = usQueued;
    results.small_add_roundtrip_us = usRound;
    console.log(`  add [16] float32, queued from JS (alloc+launch+free): ${usQueued.toFixed(2)} us/op`);
    console.log(`  add [16] float32 + readSync round trip: ${usRound.toFixed(2)} us`);
  }
}

console.log(`\nmemory: ${JSON.stringify(addon.memory())}`);
if (jsonFile !== undefined) writeFileSync(jsonFile, JSON.stringify({ device: dev, reduced, rows, gradFails, checks, results }, null, 2));
process.exit(failed.length > 0 || gradFails.length > 0 ? 2 : 0);
