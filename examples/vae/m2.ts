/**
 * The semi-supervised model M2 (Kingma, Rezende, Mohamed & Welling 2014) on dynamically binarized
 * MNIST with 100 labels (10 per digit, chosen by key; every other training image unlabelled):
 * classifier q(y|x) 784-256-10, q(z|x,y) 794-256 → 50 (mean, log-variance), p(x|y,z)
 * 60-256 → 784 Bernoulli logits, softplus hidden units, p(y) uniform, p(z) = N(0, I). The
 * objective is eq. 9 of the paper with α = 0.1·N (N = training images), i.e. each labelled
 * example's cross-entropy weighted by α/100; the sum over classes in U(x) is one batched pass.
 * Adam (lr 1e-3), batch 100 unlabelled images plus a batch of the labelled ones every step
 * (`labelledLoader` of trainM2); `--natural` instead flags the labelled images where they happen
 * to fall in the main batches (≈ 0.17 per batch with 100 labels).
 *
 * Prints, every `--eval-every` steps, the test classification error of q(y|x) (argmax, all 10,000
 * test images) and the test ELBO U(x) ≤ log p(x) (one z sample per class, on the first
 * `--elbo-images` (2,000) test images, binarized once with a fixed key).
 *
 * Run: npx tsx examples/vae/m2.ts [--steps 1500] [--labels 100] [--eval-every 500] [--train 60000] [--elbo-images 2000] [--natural]
 * Writes bench/results/m2-samples.png: one row per digit class, ten samples z ~ N(0, I) each.
 */
import { join } from 'node:path';
import {
  adam,
  balancedLabelledMask,
  getBackend,
  key,
  labelledImages,
  loadMnist,
  M2,
  m2ClassificationError,
  type M2Params,
  m2TestElbo,
  MinibatchLoader,
  saveImageGrid,
  slice,
  subset,
  trainM2,
  type TrainState,
} from 'varinf';
import { arg, resultsDir, requireMnist } from './common.js';

const args = process.argv.slice(2);
const steps = arg('--steps', 1500);
const nLabelled = arg('--labels', 100);
const evalEvery = arg('--eval-every', 500);
const nTrain = arg('--train', 60000);
const elboImages = arg('--elbo-images', 2000);
const natural = args.includes('--natural');
const results = resultsDir();

requireMnist();
const train = subset(loadMnist('train'), nTrain);
const test = loadMnist('test');
const testX = new MinibatchLoader(test, { batchSize: 100, key: key(2), binarize: 'static' }).all();
const elboX = slice(testX, [0, 0], [elboImages, 784]);

const model = M2({ xDim: 784, zDim: 50, hidden: [256] });
const opt = adam(1e-3);
const params0 = model.init(key(0));
let state: TrainState<M2Params> = { params: params0, optState: opt.init(params0), step: 0 };
const loader = new MinibatchLoader(train, { batchSize: 100, key: key(1), binarize: 'dynamic' });
const report = (p: M2Params): string => `test error ${(100 * m2ClassificationError(model, p, testX, test.labels)).toFixed(2)}%  test ELBO ${m2TestElbo(model, p, elboX, { key: key(4) }).toFixed(2)}`;
console.log(`M2 (z 50, hidden 256), ${nLabelled} labels among ${nTrain} training images, ${steps} steps of batch 100 ${natural ? '(labelled images at their natural rate)' : `+ ${Math.min(100, nLabelled)} labelled`} on ${getBackend()}`);
console.log(`step     0  ${report(state.params)}`);
const mask = balancedLabelledMask(train.labels, nLabelled, key(7), 10);
const labelledLoader = natural ? undefined : new MinibatchLoader(labelledImages(train, mask), { batchSize: Math.min(100, nLabelled), key: key(8), binarize: 'dynamic' });
let images = 0;
let trainSeconds = 0;
while (state.step < steps) {
  const until = Math.min(steps, state.step + evalEvery);
  let trainBound = NaN;
  const r = await trainM2(model, state, loader, {
    steps: until,
    key: key(3),
    optimizer: opt,
    datasetLabels: train.labels,
    labelledMask: mask,
    labelledLoader,
    logEvery: evalEvery,
    onProgress: (p) => (trainBound = p.bound),
  });
  images += (until - state.step) * 100;
  trainSeconds += r.seconds;
  state = r.state;
  console.log(`step ${String(state.step).padStart(5)}  train bound ${trainBound.toFixed(2)}  ${report(state.params)}  ${(images / trainSeconds).toFixed(0)} img/s`);
}
console.log(`trained ${steps} steps in ${trainSeconds.toFixed(1)} s (${(images / trainSeconds).toFixed(0)} images/s)`);
const labels = Array.from({ length: 100 }, (_, i) => Math.floor(i / 10));
saveImageGrid(join(results, 'm2-samples.png'), model.sample(state.params, key(5), labels), 28, 28, { cols: 10 });
console.log(`wrote ${join(results, 'm2-samples.png')} (row c: samples of class c)`);
