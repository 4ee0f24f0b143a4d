/**
 * Every trainLoop model runs its step compiled by default: on MNIST images, the compiled run
 * follows the eager run's losses step by step (float32, sums in other orders: a few ulps), with the
 * models' schedules (β warm-up, τ annealing) as inputs of the step. Models whose step cannot be
 * compiled (M2 reads the batch's indices; EMA codebooks and NVIL statistics update outside the
 * gradient) run eagerly and say why.
 */
import { describe, expect, it } from 'vitest';
import { MinibatchLoader } from '../../ts/data/loader.js';
import { hasMnist, loadMnist, subset } from '../../ts/data/mnist.js';
import * as V from '../../ts/index.js';
import {
  CVAE,
  ConvVAE,
  GumbelSoftmaxVAE,
  LadderVAE,
  M2,
  SBN,
  VQVAE,
  VampPriorVAE,
  klWarmup,
  temperatureSchedule,
  trainCVAE,
  trainConvVAE,
  trainGumbelVAE,
  trainLadderVAE,
  trainM2,
  trainSBN,
  trainVQVAE,
  trainVampVAE,
  type LoopOptions,
  type TrainResult,
  type TrainState,
} from '../../ts/models/vae/index.js';
import { initSBN } from '../../ts/models/vae/sbn-train.js';

type Runner = (opts: LoopOptions) => Promise<TrainResult<unknown>>;

const data = hasMnist() ? subset(loadMnist('train'), 200) : null;
const loader = (): MinibatchLoader => new MinibatchLoader(data as NonNullable<typeof data>, { batchSize: 50, key: V.key(1), binarize: 'dynamic' });
const opt = V.adam(2e-3);
const start = <P>(params: P): TrainState<P> => ({ params, optState: opt.init(params), step: 0 });
const STEPS = 6;

function cases(): [string, Runner][] {
  const cvae = CVAE({ xDim: 784, zDim: 4, hidden: [32], numClasses: 10 });
  const ladder = LadderVAE({ xDim: 784, layers: [{ z: 4, hidden: [32] }, { z: 2, hidden: [16] }] });
  const vamp = VampPriorVAE({ xDim: 784, z: 4, hidden: [32], pseudoInputs: 5 });
  const gumbel = GumbelSoftmaxVAE({ xDim: 784, latents: 3, classes: 4, hidden: [32] });
  const vq = VQVAE({ xDim: 784, hidden: [32], latents: 2, codeDim: 3, codes: 8, ema: false });
  const conv = ConvVAE({ channels: [4, 8], z: 3 });
  const sbn = SBN({ xDim: 784, latents: 8, hidden: [] });
  return [
    ['CVAE (β warm-up)', (o) => trainCVAE(cvae, start(cvae.init(V.key(0))), loader(), { ...o, beta: klWarmup(4) })],
    ['ladder VAE (β warm-up)', (o) => trainLadderVAE(ladder, start(ladder.init(V.key(0))), loader(), { ...o, beta: klWarmup(4) })],
    ['VampPrior VAE', (o) => trainVampVAE(vamp, start(vamp.init(V.key(0))), loader(), o)],
    ['Gumbel-Softmax VAE (τ annealed every step)', (o) => trainGumbelVAE(gumbel, start(gumbel.init(V.key(0))), loader(), { ...o, temperature: temperatureSchedule({ rate: 0.05, every: 1 }) })],
    ['VQ-VAE (codebook loss)', (o) => trainVQVAE(vq, start(vq.init(V.key(0))), loader(), o)],
    ['convolutional VAE', (o) => trainConvVAE(conv, start(conv.init(V.key(0))), loader(), o)],
    ['SBN with REBAR', (o) => trainSBN(sbn, initSBN(sbn, 'rebar', V.key(0), opt), loader(), { ...o, estimator: 'rebar' })],
  ];
}

describe.skipIf(!hasMnist())('compiled training steps of the VAE family', () => {
  it.each(hasMnist() ? cases() : [])('%s: compiled by default, the same losses as eager', async (_, run) => {
    const base = { steps: STEPS, key: V.key(4), optimizer: opt, logEvery: 1 };
    const eager = await run({ ...base, compile: false });
    const comp = await run(base);
    expect(eager.compiled.used).toBe(false);
    expect(comp.compiled).toEqual({ used: true });
    expect(comp.history.map((h) => h.beta)).toEqual(eager.history.map((h) => h.beta));
    comp.history.forEach((h, i) => expect(Math.abs(h.loss - eager.history[i].loss), `step ${i}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(eager.history[i].loss))));
  });

  it('models whose step cannot be compiled run eagerly and say why', async () => {
    const base = { steps: 2, key: V.key(4), optimizer: opt };
    const m2 = M2({ xDim: 784, zDim: 2, hidden: [16] });
    const d = data as NonNullable<typeof data>;
    const r = await trainM2(m2, start(m2.init(V.key(0))), loader(), { ...base, datasetLabels: Array.from(d.labels), nLabelled: 50 });
    expect(r.compiled.used).toBe(false);
    expect(r.compiled.reason).toMatch(/not batch\.indices/);
    const vq = VQVAE({ xDim: 784, hidden: [16], latents: 2, codeDim: 3, codes: 8, ema: true });
    expect((await trainVQVAE(vq, start(vq.init(V.key(0))), loader(), base)).compiled.reason).toMatch(/afterStep/);
    const sbn = SBN({ xDim: 784, latents: 8, hidden: [] });
    expect((await trainSBN(sbn, initSBN(sbn, 'nvil', V.key(0), opt), loader(), { ...base, estimator: 'nvil' })).compiled.reason).toMatch(/afterStep/);
  });

  it('schedules are checked at every step, as the compiled step reads them past the losses\' checks', async () => {
    const cvae = CVAE({ xDim: 784, zDim: 2, hidden: [8] });
    const beta = (s: number): number => (s < 2 ? 1 : -0.5);
    await expect(trainCVAE(cvae, start(cvae.init(V.key(0))), loader(), { steps: 3, key: V.key(4), optimizer: opt, beta })).rejects.toThrow(/trainCVAE: beta must be a finite number ≥ 0, got -0.5 from the schedule at step 2/);
    const gumbel = GumbelSoftmaxVAE({ xDim: 784, latents: 2, classes: 3, hidden: [8] });
    const temperature = (s: number): number => (s < 1 ? 1 : 0);
    await expect(trainGumbelVAE(gumbel, start(gumbel.init(V.key(0))), loader(), { steps: 3, key: V.key(4), optimizer: opt, temperature })).rejects.toThrow(/trainGumbelVAE: the temperature must be a finite number > 0, got 0 at step 1/);
  });

  it('a compiled CVAE step checks its labels against the model before it starts', async () => {
    const cvae = CVAE({ xDim: 784, zDim: 2, hidden: [8], numClasses: 5 });
    await expect(trainCVAE(cvae, start(cvae.init(V.key(0))), loader(), { steps: 1, key: V.key(4), optimizer: opt })).rejects.toThrow(/trainCVAE: the loader's data set has label 9 but the model has 5 classes/);
  });
});
