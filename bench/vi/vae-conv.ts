/**
 * The convolutional VAE on dynamically binarized Fashion-MNIST: varinf against PyTorch on the CPU
 * (bench/peers/vae_conv_torch.py) in the same run, same architecture, data, schedule and test set;
 * and varinf with the plain `MinibatchLoader` against the `PrefetchLoader` (batches made in a
 * worker thread), with the time spent inside `loader.batch()` measured per step.
 *
 * Architecture: conv(1→32, 4, s2, p1) → ReLU → conv(32→64, 4, s2, p1) → ReLU → linear heads of a
 * 16-dim latent (log σ² clamped to [−10, 10]); decoder linear → ReLU → convT(64→32) → ReLU →
 * convT(32→1) → Bernoulli logits. PyTorch's default initialization on both sides. Adam (lr 1e-3,
 * β 0.9/0.999, ε 1e-8), batch 100, training images re-binarized per batch (varinf) or per epoch
 * (PyTorch). Test set: the 10,000 test images binarized once with key 2, written as an IDX file the
 * peer reads too; test ELBO with one sample and the closed-form KL. Images/s counts the whole
 * training loop (batching and binarization included).
 *
 * First, a profile of `--profile-steps` (10) training steps: the time of every kernel, to see which
 * ones a step is made of.
 *
 * `--torch-threads N` sets PyTorch's intra-op threads (default: PyTorch's own choice, one per core);
 * on a machine shared with other work, one thread avoids OpenMP's collapse under oversubscription.
 *
 * Run: npx tsx bench/vi/vae-conv.ts [--steps N] [--batch B] [--profile-steps N] [--torch-threads N] [--no-peer] [--no-plain]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { ENGINE } from '../../ts/core/engine.js';
import type { View } from '../../ts/backends/backend.js';
import { frozenBinarizedTest } from './binarized-test.js';
import { MinibatchLoader } from '../../ts/data/loader.js';
import { FASHION_MNIST_DIR, hasFashionMnist, loadFashionMnist } from '../../ts/data/mnist.js';
import { PrefetchLoader } from '../../ts/data/prefetch.js';
import { adam, foldIn, getBackend, key, tensor, tidy, valueAndGrad } from '../../ts/index.js';
import { applyUpdates } from '../../ts/optim/transform.js';
import { ConvVAE, convTestElbo, convVaeLoss, trainConvVAE, type ConvVAEParams } from '../../ts/models/vae/conv.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const steps = arg('--steps', 600);
const batch = arg('--batch', 100);
const profileSteps = arg('--profile-steps', 10);
const torchThreads = arg('--torch-threads', 0);
const here = new URL('.', import.meta.url).pathname;
const results = join(here, '../results');
mkdirSync(results, { recursive: true });

if (!hasFashionMnist()) {
  console.log(`Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist puts it in ${FASHION_MNIST_DIR}); nothing to run.`);
  process.exit(0);
}
const load0 = loadavg()[0];
const train = loadFashionMnist('train');
const testRaw = loadFashionMnist('test');
const { path: testPath, x: testX } = frozenBinarizedTest(results, 'fashion-test-binarized-idx3-ubyte', testRaw);
const vae = ConvVAE();
const optimizer = (): ReturnType<typeof adam> => adam(1e-3, { eps: 1e-8 });

/** Per-kernel times of `n` training steps (after 3 warm-up steps), by wrapping the backend's `run`. */
function profile(n: number): string[] {
  const be = ENGINE.computeFor('cpu');
  const orig = be.run.bind(be);
  const times = new Map<string, { ms: number; calls: number }>();
  let on = false;
  const patched = (name: Parameters<typeof be.run>[0], ins: readonly View<unknown>[], outs: readonly View<unknown>[], attrs: never): void => {
    if (!on) return orig(name, ins, outs, attrs);
    const t0 = performance.now();
    orig(name, ins, outs, attrs);
    const label = name === 'matmul' || name === 'gather' || name === 'scatterAdd' ? `${name} ${ins.map((v) => `[${v.shape.join('×')}]`).join(' ')}` : name;
    const e = times.get(label) ?? { ms: 0, calls: 0 };
    e.ms += performance.now() - t0;
    e.calls++;
    times.set(label, e);
  };
  be.run = patched as typeof be.run;
  const opt = optimizer();
  let params: ConvVAEParams = vae.init(key(0));
  let st = opt.init(params);
  const loader = new MinibatchLoader(train, { batchSize: batch, key: key(1), binarize: 'dynamic' });
  const vg = valueAndGrad((p: ConvVAEParams, x: ReturnType<typeof tensor>, k: ReturnType<typeof key>) => convVaeLoss(vae, p, x, vae.noise(k, 1, batch)).loss);
  let stepMs = 0;
  for (let s = 0; s < n + 3; s++) {
    on = s >= 3;
    const t0 = performance.now();
    const r = tidy(() => {
      const [, g] = vg(params, loader.batch(0, s).x, foldIn(key(3), s));
      const [u, next] = opt.update(g, st, params);
      return { p: applyUpdates(params, u), st: next };
    });
    params = r.p;
    st = r.st;
    if (on) stepMs += performance.now() - t0;
  }
  be.run = orig;
  const total = [...times.values()].reduce((a, e) => a + e.ms, 0);
  const lines = [`Profile of ${n} steps (batch ${batch}): ${(stepMs / n).toFixed(1)} ms per step, of which kernels ${(total / n).toFixed(1)} ms`, '', '| kernel [input shapes] | ms/step | share | calls/step |', '| --- | ---: | ---: | ---: |'];
  for (const [k, e] of [...times.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 14))
    lines.push(`| ${k} | ${(e.ms / n).toFixed(2)} | ${((100 * e.ms) / total).toFixed(1)}% | ${(e.calls / n).toFixed(0)} |`);
  return lines;
}

interface Row {
  impl: string;
  loader: string;
  imagesPerSecond: number;
  trainSeconds: number;
  loaderMsPerStep?: number;
  testElbo: number;
}

async function runVarinf(prefetch: boolean): Promise<{ row: Row; params: ConvVAEParams }> {
  const opt = optimizer();
  const params = vae.init(key(0));
  const opts = { batchSize: batch, key: key(1), binarize: 'dynamic' as const };
  const loader = prefetch ? new PrefetchLoader(train, opts) : new MinibatchLoader(train, opts);
  // Time spent inside batch(): waiting for the worker (prefetch) or making the batch (plain).
  let loaderMs = 0;
  const orig = loader.batch.bind(loader);
  loader.batch = (e: number, i: number) => {
    const t0 = performance.now();
    const b = orig(e, i);
    loaderMs += performance.now() - t0;
    return b;
  };
  try {
    const r = await trainConvVAE(vae, { params, optState: opt.init(params), step: 0 }, loader, { steps, key: key(3), optimizer: opt, logEvery: Math.max(1, Math.floor(steps / 5)), progress: true });
    const p = r.state.params;
    return {
      row: { impl: `varinf (${getBackend()})`, loader: prefetch ? 'PrefetchLoader' : 'MinibatchLoader', imagesPerSecond: r.imagesPerSecond, trainSeconds: r.seconds, loaderMsPerStep: loaderMs / steps, testElbo: convTestElbo(vae, p, testX, { key: key(4) }) },
      params: p,
    };
  } finally {
    if (loader instanceof PrefetchLoader) await loader.close();
  }
}

function runTorch(): Row | string {
  const py = join(here, '../peers/.venv/bin/python');
  if (!existsSync(py)) return 'bench/peers/.venv is missing: run bash bench/peers/setup-torch.sh';
  const r = spawnSync(py, [join(here, '../peers/vae_conv_torch.py'), '--data', FASHION_MNIST_DIR, '--test-bin', testPath, '--steps', String(steps), '--batch', String(batch), '--threads', String(torchThreads)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) return `the PyTorch peer failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`;
  const o = JSON.parse(r.stdout.trim().split('\n').pop() as string) as Record<string, number | string>;
  return { impl: `${String(o.framework)} (${String(o.threads)} threads)`, loader: 'index + bernoulli per epoch', imagesPerSecond: Number(o.images_per_s), trainSeconds: Number(o.train_seconds), testElbo: Number(o.test_elbo) };
}

const prof = profileSteps > 0 ? profile(profileSteps) : [];
const rows: Row[] = [];
const notes: string[] = [];
const v = await runVarinf(true);
rows.push(v.row);
if (!args.includes('--no-plain')) rows.push((await runVarinf(false)).row);
const x50 = testX.dataSync().subarray(0, 50 * 784);
const rec = vae.reconstruct(v.params, tensor(Float32Array.from(x50), [50, 784], 'float32')).dataSync();
const both = new Float32Array(100 * 784);
// Rows alternate: 10 test images, then their reconstructions.
for (let r = 0; r < 5; r++)
  for (let c = 0; c < 10; c++) {
    both.set(x50.subarray((r * 10 + c) * 784, (r * 10 + c + 1) * 784), (r * 20 + c) * 784);
    both.set(rec.subarray((r * 10 + c) * 784, (r * 10 + c + 1) * 784), (r * 20 + 10 + c) * 784);
  }
const { saveImageGrid } = await import('../../ts/io/png.js');
saveImageGrid(join(results, 'vae-conv-bench-reconstructions.png'), both, 28, 28, { cols: 10 });
saveImageGrid(join(results, 'vae-conv-bench-samples.png'), vae.sample(v.params, key(6), 100), 28, 28, { cols: 10 });
if (!args.includes('--no-peer')) {
  const t = runTorch();
  if (typeof t === 'string') notes.push(t);
  else rows.push(t);
}
const load1 = loadavg()[0];

const f = (x: number | undefined, d = 2): string => (x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));
console.log(`\nFashion-MNIST (dynamic binarization), conv VAE 32-64 / z 16 / convT 64-32-1, batch ${batch}, Adam 1e-3, ${steps} steps; ${train.n} training images, ${testRaw.n} test images (binarized once, key 2)`);
console.log(`Load average (1 min) ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end, on ${cpus().length} CPUs\n`);
for (const l of prof) console.log(l);
console.log('\n| impl | loader | steps | images/s | train s | ms/step | loader ms/step | test ELBO |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows)
  console.log(`| ${r.impl} | ${r.loader} | ${steps} | ${f(r.imagesPerSecond, 0)} | ${f(r.trainSeconds, 1)} | ${f((1000 * batch) / r.imagesPerSecond, 1)} | ${f(r.loaderMsPerStep, 2)} | ${f(r.testElbo)} |`);
for (const n of notes) console.log(`\n${n}`);
const a = rows.find((r) => r.loader === 'PrefetchLoader');
const b = rows.find((r) => r.impl.startsWith('PyTorch'));
if (a && b) console.log(`\nvarinf (prefetch) / PyTorch images/s = ${(a.imagesPerSecond / b.imagesPerSecond).toFixed(2)}; test ELBO difference ${(a.testElbo - b.testElbo).toFixed(2)} nats`);
const c = rows.find((r) => r.loader === 'MinibatchLoader');
if (a && c) console.log(`PrefetchLoader / MinibatchLoader images/s = ${(a.imagesPerSecond / c.imagesPerSecond).toFixed(2)}; same batches, so the same test ELBO: ${a.testElbo === c.testElbo ? 'yes' : `no (${f(a.testElbo)} vs ${f(c.testElbo)})`}`);
