/**
 * The Gumbel-Softmax VAE (Jang, Gu & Poole 2017) on dynamically binarized MNIST: 30 categorical
 * latents of 10 classes, encoder 784-512-256 ReLU → 300 logits, decoder 300-256-512-784 ReLU with
 * Bernoulli logits, uniform prior, closed-form categorical KL, Adam (lr 1e-3), batch 100.
 *
 * Temperature: τ = max(0.5, exp(−r·N⌊t/N⌋)). Jang et al. search r ∈ {1e−5, 1e−4}, N ∈ {500, 1000}
 * over 100k+ steps; this short CPU schedule anneals faster (r = 4.6e−4, N = 100) so that τ reaches
 * 0.5 by step 1,500. `--st` trains with the straight-through estimator (forward one-hot).
 *
 * Evaluation uses the discrete model (hard, exact categorical samples): the test ELBO on all
 * 10,000 test images (binarized once with a fixed key), and log p(x) by importance sampling with
 * q(y|x) as the proposal, k samples (default 500), on the first `--ll-images` (500) test images.
 *
 * Run: npx tsx examples/vae/gumbel.ts [--steps 1500] [--st] [--k 500] [--ll-images 500]
 * Writes bench/results/gumbel-vae-samples.png (decoded from the uniform prior) and
 * bench/results/gumbel-vae-reconstructions.png (test images, odd rows; reconstructions from
 * each latent's most probable class, even rows).
 */
import { join } from 'node:path';
import {
  adam,
  concat,
  getBackend,
  gumbelLogLikelihood,
  GumbelSoftmaxVAE,
  gumbelTestElbo,
  key,
  loadMnist,
  MinibatchLoader,
  reshape,
  saveImageGrid,
  slice,
  temperatureSchedule,
  trainGumbelVAE,
} from 'varinf';
import { arg, resultsDir, requireMnist } from './common.js';

const args = process.argv.slice(2);
const steps = arg('--steps', 1500);
const k = arg('--k', 500);
const llImages = arg('--ll-images', 500);
const straightThrough = args.includes('--st');
const results = resultsDir();

requireMnist();
const train = loadMnist('train');
const test = loadMnist('test');
const testX = new MinibatchLoader(test, { batchSize: 100, key: key(2), binarize: 'static' }).all();

const model = GumbelSoftmaxVAE({ latents: 30, classes: 10, hidden: [512, 256] });
const opt = adam(1e-3);
const params = model.init(key(0));
const loader = new MinibatchLoader(train, { batchSize: 100, key: key(1), binarize: 'dynamic' });
const tau = temperatureSchedule({ tau0: 1, tauMin: 0.5, rate: 4.6e-4, every: 100 });
console.log(`Gumbel-Softmax VAE, N = 30 × K = 10, ${straightThrough ? 'straight-through' : 'relaxed'} samples, ${steps} steps on ${getBackend()}; τ: ${tau(0)} → ${tau(steps).toFixed(3)}`);
const r = await trainGumbelVAE(model, { params, optState: opt.init(params), step: 0 }, loader, {
  steps,
  key: key(3),
  optimizer: opt,
  temperature: tau,
  straightThrough,
  logEvery: Math.max(1, Math.floor(steps / 10)),
  progress: true,
});
const p = r.state.params;
const t0 = performance.now();
const elbo = gumbelTestElbo(model, p, testX, { key: key(4) });
const ll = gumbelLogLikelihood(model, p, slice(testX, [0, 0], [llImages, 784]), { key: key(5), k });
const evalSeconds = (performance.now() - t0) / 1000;
console.log(`train: ${r.seconds.toFixed(1)} s, ${r.imagesPerSecond.toFixed(0)} images/s, last training bound (${straightThrough ? 'one-hot forward' : 'relaxed'}) ${r.history[r.history.length - 1]?.bound.toFixed(2)} nats`);
console.log(`test ELBO (hard samples, 10,000 images): ${elbo.toFixed(2)} nats`);
console.log(`test log p(x) (importance sampling, k = ${k}, ${llImages} images): ${ll.mean.toFixed(2)} nats   [evaluation ${evalSeconds.toFixed(1)} s]`);

saveImageGrid(join(results, 'gumbel-vae-samples.png'), model.sample(p, key(6), 100), 28, 28, { cols: 10 });
const orig = slice(testX, [0, 0], [50, 784]);
const rec = model.reconstruct(p, orig);
// Rows of 10: originals, then their reconstructions.
const pairs = concat([reshape(orig, [5, 1, 10, 784]), reshape(rec, [5, 1, 10, 784])], 1);
saveImageGrid(join(results, 'gumbel-vae-reconstructions.png'), reshape(pairs, [100, 784]), 28, 28, { cols: 10 });
console.log(`wrote ${join(results, 'gumbel-vae-samples.png')} and gumbel-vae-reconstructions.png`);
