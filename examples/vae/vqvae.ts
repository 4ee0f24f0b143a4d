/**
 * The VQ-VAE (van den Oord, Vinyals & Kavukcuoglu 2017) on dynamically binarized MNIST with an MLP:
 * encoder 784-400 ReLU → M·D = 16·8 (M = 16 latent vectors of D = 8 per image), a codebook of
 * K = 64 codes, nearest-code quantization with the straight-through gradient, decoder
 * 128-400-784 ReLU with Bernoulli logits. Loss: −log p(x|z_q) + 0.25·‖z_e − sg(e)‖² (commitment),
 * the codebook updated by an EMA (γ = 0.99, Laplace ε = 1e−5) after each Adam step (lr 1e-3,
 * batch 100); `--no-ema` learns it by the codebook loss ‖sg(z_e) − e‖² instead.
 *
 * Reports on all 10,000 test images (binarized once with a fixed key): the reconstruction NLL
 * (nats per image), the MSE per pixel of the reconstruction's probabilities, the ELBO with a
 * uniform prior over codes (log p(x|z_q) − M log K, M log K = 66.5 nats), the codebook perplexity
 * exp(H(average assignment)) and the codes used. A learned prior over codes is out of scope.
 *
 * Run: npx tsx examples/vae/vqvae.ts [--steps 1500] [--no-ema]
 * Writes bench/results/vqvae-reconstructions.png (test images, odd rows; reconstructions, even rows).
 */
import { join } from 'node:path';
import {
  adam,
  concat,
  getBackend,
  key,
  loadMnist,
  MinibatchLoader,
  reshape,
  saveImageGrid,
  slice,
  trainVQVAE,
  vqEvaluate,
  VQVAE,
} from 'varinf';
import { arg, resultsDir, requireMnist } from './common.js';

const args = process.argv.slice(2);
const steps = arg('--steps', 1500);
const ema = !args.includes('--no-ema');
const results = resultsDir();

requireMnist();
const train = loadMnist('train');
const test = loadMnist('test');
const testX = new MinibatchLoader(test, { batchSize: 100, key: key(2), binarize: 'static' }).all();

const model = VQVAE({ hidden: [400], latents: 16, codeDim: 8, codes: 64, commitment: 0.25, ema });
const opt = adam(1e-3);
const params = model.init(key(0));
const loader = new MinibatchLoader(train, { batchSize: 100, key: key(1), binarize: 'dynamic' });
console.log(`VQ-VAE, M = 16 vectors of D = 8, K = 64 codes, ${ema ? 'EMA codebook' : 'codebook loss'}, ${steps} steps on ${getBackend()}`);
const before = vqEvaluate(model, params, testX);
const r = await trainVQVAE(model, { params, optState: opt.init(params), step: 0 }, loader, {
  steps,
  key: key(3),
  optimizer: opt,
  logEvery: Math.max(1, Math.floor(steps / 10)),
  progress: true,
});
const p = r.state.params;
const m = vqEvaluate(model, p, testX);
console.log(`train: ${r.seconds.toFixed(1)} s, ${r.imagesPerSecond.toFixed(0)} images/s`);
console.log(`test (10,000 images): reconstruction NLL ${m.reconstructionNll.toFixed(2)} nats (untrained ${before.reconstructionNll.toFixed(1)}), MSE/pixel ${m.mse.toFixed(4)}, ELBO (uniform code prior) ${m.bound.toFixed(2)} nats`);
console.log(`codebook: perplexity ${m.perplexity.toFixed(1)} of K = 64 (untrained ${before.perplexity.toFixed(1)}), ${m.codesUsed} codes used`);

const orig = slice(testX, [0, 0], [50, 784]);
const rec = model.reconstruct(p, orig);
// Rows of 10: originals, then their reconstructions.
const pairs = concat([reshape(orig, [5, 1, 10, 784]), reshape(rec, [5, 1, 10, 784])], 1);
saveImageGrid(join(results, 'vqvae-reconstructions.png'), reshape(pairs, [100, 784]), 28, 28, { cols: 10 });
console.log(`wrote ${join(results, 'vqvae-reconstructions.png')}`);
