/**
 * End-to-end training on the cuda backend (bench/README-cuda.md), run by plain node on the device
 * machine against the compiled library:
 *
 *   node .carry/dist/bench/gpu/train.js [--steps-vae N] [--steps-iwae N] [--test-out FILE] [--backend cpu]
 *
 * Everything above the kernels runs unchanged with `setBackend('cuda')`:
 * 1. Eight schools (non-centered), AutoNormal, Adam(0.01), 300 eager SVI steps on cuda and on js
 *    with the same key, float64: the largest difference between the two loss trajectories.
 * 2. The one-layer VAE of bench/vi/vae-mnist.ts (784-200-200-50 tanh, Bernoulli decoder, Adam,
 *    batch 100, dynamic binarization) trained on the GPU: its first 20 losses against the same run
 *    on js, images/s, the test ELBO on the 10,000 statically binarized test images; then IWAE
 *    k = 50; each compiled call by call (the device plan) and then as a CUDA graph (setCudaGraphs).
 * 3. Eight schools compiled on the device, 3,000 steps, with and without CUDA graphs: µs per step
 *    and whether the loss trajectories are identical (they must be).
 * MNIST comes from VARINF_MNIST_DIR (the .gz IDX files). The binarized test set is written to
 * --test-out for bench/peers/vae_torch.py --device cuda, the PyTorch figures of the same run.
 */
import { writeFileSync } from 'node:fs';
import { encodeIdx } from '../../ts/data/idx.js';
import { MinibatchLoader, binarizeStatic } from '../../ts/data/loader.js';
import { loadMnist } from '../../ts/data/mnist.js';
import * as V from '../../ts/index.js';
import { VAE, testElbo, trainVAE, type Objective } from '../../ts/models/vae/index.js';

const args = process.argv.slice(2);
const arg = (name: string, def: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const stepsVae = Number(arg('--steps-vae', '1200'));
const stepsIwae = Number(arg('--steps-iwae', '200'));
const testOut = arg('--test-out', '/tmp/mnist-test-binarized-idx3-ubyte');
// --backend cpu dry-runs the script where no GPU is.
const GPU = arg('--backend', 'cuda');

// ---------------------------------------------------------------- eight schools
function eightSchools(backend: string, compile = false): { losses: Float64Array; us: number } {
  V.setBackend(backend);
  const y = V.tensor([28, 8, -3, 7, -1, 1, 18, 12]);
  const sigma = V.tensor([15, 10, 16, 11, 9, 11, 10, 18]);
  const model = (yy: V.Tensor, s: V.Tensor): void => {
    const mu = V.sample('mu', new V.Normal(0, 5));
    const tau = V.sample('tau', new V.HalfCauchy(5));
    V.plate('J', 8, () => {
      const raw = V.sample('theta_raw', new V.Normal(0, 1));
      V.sample('obs', new V.Normal(V.add(mu, V.mul(tau, raw)), s), { obs: yy });
    });
  };
  const svi = new V.SVI(model, new V.AutoNormal(model), V.adam(0.01), new V.TraceELBO());
  const r = svi.runSync(V.key(0), compile ? 3000 : 300, [y, sigma], { compile, progressBar: false });
  return { losses: Float64Array.from(r.losses), us: r.timings.perStepUs };
}
{
  const js = eightSchools('js');
  const cu = eightSchools(GPU);
  let diff = 0;
  for (let i = 0; i < js.losses.length; i++) diff = Math.max(diff, Math.abs(js.losses[i] - cu.losses[i]) / Math.max(1, Math.abs(js.losses[i])));
  console.log(`eight schools, AutoNormal, 300 eager steps: max relative loss difference ${GPU} vs js ${diff.toExponential(2)}; last loss ${cu.losses[299].toFixed(4)} (js ${js.losses[299].toFixed(4)}); ${cu.us.toFixed(0)} µs/step on ${GPU}, ${js.us.toFixed(0)} on js`);
  // Compiled on the device: call by call (the device plan), then recorded once as a CUDA graph.
  const plain = eightSchools(GPU, true);
  V.setCudaGraphs(true);
  const graphs = eightSchools(GPU, true);
  V.setCudaGraphs(false);
  let same = true;
  for (let i = 0; i < plain.losses.length; i++) same &&= plain.losses[i] === graphs.losses[i];
  console.log(`eight schools compiled on ${GPU}, 3000 steps: ${plain.us.toFixed(1)} µs/step call by call, ${graphs.us.toFixed(1)} µs/step as a CUDA graph; losses ${same ? 'identical' : 'DIFFER'}`);
}

// ---------------------------------------------------------------- VAE on MNIST
V.setBackend('js');
const train = loadMnist('train');
const testRaw = loadMnist('test');
const testBin = binarizeStatic(testRaw.images, V.key(2));
writeFileSync(testOut, encodeIdx('uint8', [testRaw.n, testRaw.rows, testRaw.cols], testBin));

async function run(backend: string, objective: Objective, k: number, steps: number, evaluate: boolean) {
  V.setBackend(backend);
  const vae = VAE({ xDim: 784, layers: [{ z: 50, hidden: [200, 200] }] });
  const opt = V.adam(1e-3, { eps: 1e-4 });
  const params = vae.init(V.key(0));
  const loader = new MinibatchLoader(train, { batchSize: 100, key: V.key(1), binarize: 'dynamic' });
  const r = await trainVAE(vae, { params, optState: opt.init(params), step: 0 }, loader, { steps, key: V.key(3), optimizer: opt, objective, k, logEvery: evaluate ? Math.max(1, Math.floor(steps / 10)) : 1 });
  const testX = V.tensor(Float32Array.from(testBin), [testRaw.n, 784], 'float32');
  const elbo = evaluate ? testElbo(vae, r.state.params, testX, { key: V.key(4) }) : NaN;
  return { losses: r.history.map((h) => h.loss), imagesPerSecond: r.imagesPerSecond, elbo, compiled: r.compiled };
}

{
  const js = await run('js', 'elbo', 1, 20, false);
  const cu = await run(GPU, 'elbo', 1, 20, false);
  let diff = 0;
  for (let i = 0; i < 20; i++) diff = Math.max(diff, Math.abs(js.losses[i] - cu.losses[i]) / Math.abs(js.losses[i]));
  console.log(`VAE k = 1, first 20 steps: max relative loss difference ${GPU} vs js ${diff.toExponential(2)} (float32); ${GPU} compiled: ${cu.compiled.used ? 'yes' : `no (${cu.compiled.reason})`}`);
}
for (const graphs of [false, true]) {
  V.setCudaGraphs(graphs);
  const how = graphs ? 'compiled, CUDA graph' : 'compiled';
  for (const [objective, k, steps] of [['elbo', 1, stepsVae], ['iwae', 50, stepsIwae]] as const) {
    const r = await run(GPU, objective, k, steps, true);
    console.log(`VAE ${objective} k = ${k}, ${steps} steps on ${GPU} (${how}): ${r.imagesPerSecond.toFixed(0)} images/s, test ELBO ${r.elbo.toFixed(2)}, last loss ${r.losses[r.losses.length - 1].toFixed(2)}`);
    console.log(`TRAIN_JSON ${JSON.stringify({ objective, k, steps, graphs, imagesPerSecond: r.imagesPerSecond, testElbo: r.elbo })}`);
  }
}
V.setCudaGraphs(false);
