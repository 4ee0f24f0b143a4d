/**
 * The conditional VAE (Sohn, Lee & Yan 2015) on dynamically binarized MNIST, conditioned on the
 * digit label: encoder q(z|x,y) 794-400 tanh → 20 (mean, log-variance), decoder p(x|z,y)
 * 30-400 tanh → 784 Bernoulli logits, prior p(z|y) = N(0, I) (or, with `--learned-prior`, Sohn
 * et al.'s conditional prior network), closed-form KL, Adam (lr 1e-3), batch 100.
 *
 * Prints the test ELBO log p(x|y) ≥ E_q[log p(x|z,y)] − KL on all 10,000 test images (binarized
 * once with a fixed key) before training, at every `--eval-every` steps and at the end.
 *
 * Run: npx tsx examples/vae/cvae.ts [--steps 2000] [--eval-every 500] [--learned-prior]
 * Writes bench/results/cvae-samples.png: one row per digit class 0–9, ten samples z ~ p(z|y) each
 * (pixel probabilities), and bench/results/cvae-reconstructions.png (test images in odd rows,
 * reconstructions from the posterior mean in even rows).
 */
import { join } from 'node:path';
import {
  adam,
  concat,
  CVAE,
  type CVAEParams,
  cvaeTestElbo,
  getBackend,
  key,
  loadMnist,
  MinibatchLoader,
  reshape,
  saveImageGrid,
  slice,
  trainCVAE,
  type TrainState,
} from 'varinf';
import { arg, resultsDir, requireMnist } from './common.js';

const args = process.argv.slice(2);
const steps = arg('--steps', 2000);
const evalEvery = arg('--eval-every', 500);
const prior = args.includes('--learned-prior') ? 'learned' : 'standard';
const results = resultsDir();

requireMnist();
const train = loadMnist('train');
const test = loadMnist('test');
const testX = new MinibatchLoader(test, { batchSize: 100, key: key(2), binarize: 'static' }).all();

const model = CVAE({ xDim: 784, zDim: 20, hidden: [400], prior });
const opt = adam(1e-3);
const params0 = model.init(key(0));
let state: TrainState<CVAEParams> = { params: params0, optState: opt.init(params0), step: 0 };
const loader = new MinibatchLoader(train, { batchSize: 100, key: key(1), binarize: 'dynamic' });
const elbo = (p: CVAEParams): number => cvaeTestElbo(model, p, testX, test.labels, { key: key(4) });
console.log(`CVAE 784-400-20 (prior ${prior}), ${steps} steps of batch 100 on ${getBackend()}`);
console.log(`step     0  test ELBO ${elbo(state.params).toFixed(2)}`);
let images = 0;
let trainSeconds = 0;
while (state.step < steps) {
  const until = Math.min(steps, state.step + evalEvery);
  let trainBound = NaN;
  const r = await trainCVAE(model, state, loader, { steps: until, key: key(3), optimizer: opt, logEvery: evalEvery, onProgress: (p) => (trainBound = p.bound) });
  images += (until - state.step) * 100;
  trainSeconds += r.seconds;
  state = r.state;
  console.log(`step ${String(state.step).padStart(5)}  train ELBO ${trainBound.toFixed(2)}  test ELBO ${elbo(state.params).toFixed(2)}  ${(images / trainSeconds).toFixed(0)} img/s`);
}
console.log(`trained ${steps} steps in ${trainSeconds.toFixed(1)} s (${(images / trainSeconds).toFixed(0)} images/s)`);

// One row per class: ten samples of digit c in row c.
const labels = Array.from({ length: 100 }, (_, i) => Math.floor(i / 10));
const samples = model.sample(state.params, key(5), labels);
saveImageGrid(join(results, 'cvae-samples.png'), samples, 28, 28, { cols: 10 });
const xs = slice(testX, [0, 0], [50, 784]);
const rec = model.reconstruct(state.params, xs, Array.from(test.labels.subarray(0, 50)));
// Rows of ten: originals, their reconstructions, the next ten originals, …
const pairs = Array.from({ length: 5 }, (_, r) => [slice(xs, [10 * r, 0], [10, 784]), slice(rec, [10 * r, 0], [10, 784])]).flat();
saveImageGrid(join(results, 'cvae-reconstructions.png'), reshape(concat(pairs, 0), [100, 784]), 28, 28, { cols: 10 });
console.log(`wrote ${join(results, 'cvae-samples.png')} (row c: samples of digit c) and cvae-reconstructions.png`);
