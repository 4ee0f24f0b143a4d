/**
 * A convolutional VAE on Fashion-MNIST (Xiao et al. 2017; Debian's dataset-fashion-mnist):
 * conv(1→32, 4, s2, p1) → ReLU → conv(32→64, 4, s2, p1) → ReLU → linear heads of a 16-dim latent,
 * decoder linear → ReLU → convT(64→32) → ReLU → convT(32→1). Pixels are dynamically binarized with
 * a Bernoulli likelihood (default), or grey levels with `--gaussian` (Gaussian with a learned
 * per-pixel log-variance). Adam (lr 1e-3), batch 100; batches are made in a worker thread
 * (`PrefetchLoader`).
 *
 * Prints the test ELBO on all 10,000 test images (binarized once with a fixed key, or grey levels
 * under `--gaussian`) before and after training, and the training throughput.
 *
 * Run: npx tsx examples/vae/fashion-conv.ts [--steps 400] [--gaussian] [--no-prefetch]
 * Writes bench/results/vae-conv-samples.png (100 samples z ~ N(0, I), pixel means) and
 * bench/results/vae-conv-reconstructions.png (test images in odd rows, reconstructions from the
 * posterior mean in even rows).
 */
import { join } from 'node:path';
import {
  adam,
  binarizeStatic,
  convTestElbo,
  ConvVAE,
  FASHION_MNIST_DIR,
  getBackend,
  hasFashionMnist,
  key,
  loadFashionMnist,
  MinibatchLoader,
  PrefetchLoader,
  saveImageGrid,
  tensor,
  trainConvVAE,
} from 'varinf';
import { arg, resultsDir } from './common.js';

const args = process.argv.slice(2);
const steps = arg('--steps', 400);
const gaussian = args.includes('--gaussian');
const results = resultsDir();

if (!hasFashionMnist()) {
  console.log(`Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist puts it in ${FASHION_MNIST_DIR}); nothing to run.`);
  process.exit(0);
}
const train = loadFashionMnist('train');
const test = loadFashionMnist('test');
const testPixels = gaussian ? Float32Array.from(test.images, (v) => v / 255) : Float32Array.from(binarizeStatic(test.images, key(2)));
const testX = tensor(testPixels, [test.n, 784], 'float32');

const vae = ConvVAE({ likelihood: gaussian ? 'gaussian' : 'bernoulli' });
const opt = adam(1e-3);
const params = vae.init(key(0));
const opts = { batchSize: 100, key: key(1), binarize: gaussian ? ('none' as const) : ('dynamic' as const) };
const loader = args.includes('--no-prefetch') ? new MinibatchLoader(train, opts) : new PrefetchLoader(train, opts);
console.log(`Conv VAE on Fashion-MNIST (${gaussian ? 'grey levels, Gaussian with learned per-pixel variance' : 'dynamic binarization, Bernoulli'}), backend ${getBackend()}, ${steps} steps of 100`);
console.log(`test ELBO before training: ${convTestElbo(vae, params, testX, { key: key(4) }).toFixed(2)} nats`);
try {
  const r = await trainConvVAE(vae, { params, optState: opt.init(params), step: 0 }, loader, { steps, key: key(3), optimizer: opt, logEvery: Math.max(1, Math.floor(steps / 10)), progress: true });
  const p = r.state.params;
  const elbo = convTestElbo(vae, p, testX, { key: key(4) });
  console.log(`trained ${steps} steps in ${r.seconds.toFixed(1)} s (${r.imagesPerSecond.toFixed(0)} images/s); last training bound ${r.history.at(-1)?.bound.toFixed(2) ?? '—'}`);
  console.log(`test ELBO after training: ${elbo.toFixed(2)} nats per image (all ${test.n} test images)`);
  saveImageGrid(join(results, 'vae-conv-samples.png'), vae.sample(p, key(6), 100), 28, 28, { cols: 10 });
  const x50 = testPixels.subarray(0, 50 * 784);
  const rec = vae.reconstruct(p, tensor(Float32Array.from(x50), [50, 784], 'float32')).dataSync();
  const both = new Float32Array(100 * 784);
  for (let row = 0; row < 5; row++)
    for (let c = 0; c < 10; c++) {
      both.set(x50.subarray((row * 10 + c) * 784, (row * 10 + c + 1) * 784), (row * 20 + c) * 784);
      both.set(rec.subarray((row * 10 + c) * 784, (row * 10 + c + 1) * 784), (row * 20 + 10 + c) * 784);
    }
  saveImageGrid(join(results, 'vae-conv-reconstructions.png'), both, 28, 28, { cols: 10 });
  console.log(`wrote ${join(results, 'vae-conv-samples.png')} and vae-conv-reconstructions.png`);
} finally {
  if (loader instanceof PrefetchLoader) await loader.close();
}
