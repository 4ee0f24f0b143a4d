/**
 * Eight schools (non-centered), one particle, Adam(0.01): SVI µs/step eager vs compiled for
 * AutoNormal and AutoMultivariateNormal, time to the first compiled step (init, tracing,
 * verification trace and code generation included), heap growth over 1M compiled steps, and
 * NumPyro's jitted update and `svi.run` from the same run when bench/peers/.venv has it
 * (bash bench/peers/setup-numpyro.sh). A second table measures the size from which kernels should
 * leave generated JavaScript for the backend (the `largeThreshold` of compile).
 *
 * Run: npx tsx --expose-gc bench/vi/eight-schools.ts [--quick]
 */
import { AutoMultivariateNormal, AutoNormal, HalfCauchy, Normal, SVI, TraceELBO, adam, add, exp, getBackend, key, mul, plate, sample, sum, tensor, type Tensor } from '../../ts/index.js';
import { compile } from '../../ts/compile/index.js';
import { runPeer } from './cavi-peers.js';

const quick = process.argv.includes('--quick');
const gc = (globalThis as { gc?: () => void }).gc;

const y = tensor([28, 8, -3, 7, -1, 1, 18, 12]);
const sigma = tensor([15, 10, 16, 11, 9, 11, 10, 18]);

function model(yy: Tensor, s: Tensor): void {
  const mu = sample('mu', new Normal(0, 5));
  const tau = sample('tau', new HalfCauchy(5));
  plate('J', 8, () => {
    const raw = sample('theta_raw', new Normal(0, 1));
    sample('obs', new Normal(add(mu, mul(tau, raw)), s), { obs: yy });
  });
}

function heapMB(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed / 1048576;
}

interface Row {
  guide: string;
  eagerUs: number;
  compiledUs: number;
  firstMs: number;
  heapMB: number;
  steps: number;
}

function measure(name: string, G: typeof AutoNormal | typeof AutoMultivariateNormal): Row {
  const eagerSteps = quick ? 300 : 2000;
  const steps = quick ? 50_000 : 1_000_000;
  const svi = new SVI(model, new G(model), adam(0.01), new TraceELBO());
  const eager = svi.runSync(key(0), eagerSteps, [y, sigma], { compile: false, progressBar: false });
  // A fresh SVI, so the first step pays for tracing and code generation.
  const fresh = new SVI(model, new G(model), adam(0.01), new TraceELBO());
  const first = fresh.runSync(key(0), 1, [y, sigma], { progressBar: false });
  if (!first.compiled.used) throw new Error(`${name}: not compiled: ${first.compiled.reason}`);
  fresh.runSync(key(0), 20_000, [y, sigma], { progressBar: false, state: first.state });
  // 1M steps: V8 heap before and after (the result's losses array is an ArrayBuffer outside the heap).
  const h0 = heapMB();
  const long = fresh.runSync(key(0), steps, [y, sigma], { progressBar: false, state: first.state });
  const h1 = heapMB();
  return { guide: name, eagerUs: eager.timings.perStepUs, compiledUs: long.timings.perStepUs, firstMs: first.timings.firstStepMs, heapMB: h1 - h0, steps };
}

interface Peer {
  compile_s: number;
  step_us: number;
  run_us: number;
}

function numpyro(guide: string): Peer | string {
  const r = runPeer<Peer>('eight_schools_numpyro.py', [guide, quick ? '5000' : '20000']);
  if (typeof r === 'string' && (r.includes("No module named 'numpyro'") || r.includes("No module named 'jax'") || r.includes('.venv absent')))
    return 'NumPyro not installed (bash bench/peers/setup-numpyro.sh)';
  return r;
}

/** µs per call of a chain of 6 elementwise ops + a sum over n elements, generated JS vs backend calls. */
function crossover(): string[] {
  const lines = ['| n | generated JS (µs) | backend calls (µs) |', '| ---: | ---: | ---: |'];
  const f = (x: Tensor): Tensor => sum(exp(mul(add(mul(x, 0.5), 1), 0.1)));
  for (const n of [256, 1024, 4096, 16384, 65536, 262144]) {
    const x = tensor(Array.from({ length: n }, (_, i) => Math.sin(i)));
    const times: number[] = [];
    for (const threshold of [Infinity, 0]) {
      const c = compile(f, { largeThreshold: threshold });
      c(x);
      const reps = Math.max(20, Math.floor(2e6 / n));
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) c(x);
      times.push(((performance.now() - t0) * 1000) / reps);
    }
    lines.push(`| ${n} | ${times[0].toFixed(2)} | ${times[1].toFixed(2)} |`);
  }
  return lines;
}

const rows = [measure('AutoNormal', AutoNormal), measure('AutoMultivariateNormal', AutoMultivariateNormal)];
const peers = [numpyro('normal'), numpyro('mvn')];

console.log(`\n### Eight schools SVI, one particle, Adam (backend: ${getBackend()}${gc ? '' : '; run with --expose-gc for the heap column'})\n`);
console.log('| guide | varinf eager µs/step | varinf compiled µs/step | first compiled step (ms) | heap growth over steps (MB) | NumPyro jit update µs/step | NumPyro svi.run µs/step (incl. its compile) | NumPyro compile (s) |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
rows.forEach((r, i) => {
  const p = peers[i];
  const peer = typeof p === 'string' ? `${p} | | ` : `${p.step_us.toFixed(1)} | ${p.run_us.toFixed(1)} | ${p.compile_s.toFixed(2)}`;
  console.log(`| ${r.guide} | ${r.eagerUs.toFixed(0)} | ${r.compiledUs.toFixed(2)} | ${r.firstMs.toFixed(1)} | ${r.heapMB.toFixed(2)} (${r.steps} steps) | ${peer} |`);
});
console.log('\nTargets: AutoNormal ≤ 5 µs/step, first step < 100 ms; AutoMultivariateNormal ≤ 8 µs/step; flat heap.');
console.log('\n### Generated JS vs backend calls (6 elementwise ops + sum, one compiled call)\n');
for (const l of crossover()) console.log(l);
