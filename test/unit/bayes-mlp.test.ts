/**
 * Bayesian networks: converting MLP / Linear / Sequential, training a BayesMLP by the minibatch
 * ELBO (regression and classification) with the compiled trainer, and its predictive.
 */
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../ts/core/tensor.js';
import * as V from '../../ts/index.js';
import { compile } from '../../ts/compile/index.js';

describe('toBayesian', () => {
  it('converts an MLP, a Linear and a Sequential, keeping sizes, activations and other layers', () => {
    const b = V.toBayesian(V.MLP([3, 8, 2], { activation: 'tanh' }), { dtype: 'float64' }) as ReturnType<typeof V.BayesMLP>;
    expect(b.sizes).toEqual([3, 8, 2]);
    const p = b.init(V.key(0));
    const x = V.normal(V.key(1), [5, 3], { dtype: 'float64' });
    // Without a key: the network at the posterior mean, i.e. the deterministic MLP with weights μ.
    const det = V.MLP([3, 8, 2], { activation: 'tanh', dtype: 'float64' });
    const want = det.apply(p.map((l) => ({ weight: l.weightMu, bias: l.biasMu as Tensor })), x).dataSync();
    expect(Array.from(b.apply(p, x).dataSync())).toEqual(Array.from(want));
    expect(b.apply(p, x, { key: V.key(2) }).shape).toEqual([5, 2]);
    expect(b.kl(p).item()).toBeCloseTo(b.layers[0].kl(p[0]).item() + b.layers[1].kl(p[1]).item(), 10);

    const lin = V.toBayesian(V.Linear(4, 2)) as ReturnType<typeof V.BayesLinear>;
    expect([lin.inFeatures, lin.outFeatures]).toEqual([4, 2]);

    const seq = V.toBayesian(V.Sequential([V.Linear(3, 4, { dtype: 'float64' }), V.Lambda(V.relu), V.Dropout(0.1), V.Linear(4, 1)]), { dtype: 'float64' });
    const sp = seq.init(V.key(3));
    expect(seq.apply(sp, x, { key: V.key(4), training: true }).shape).toEqual([5, 1]);
    const layers = (seq as ReturnType<typeof V.BayesSequential>).layers as ReturnType<typeof V.BayesLinear>[];
    const sparams = sp as V.BayesLinearParams[];
    expect(seq.kl(sp).item()).toBeCloseTo(layers[0].kl(sparams[0]).item() + layers[3].kl(sparams[3]).item(), 10);
    expect(() => V.toBayesian(V.LayerNorm(4))).toThrow(/toBayesian: the module is not an MLP/);
  });

  it('bayesParamsFrom starts the posterior at trained weights', () => {
    const det = V.MLP([2, 3, 1], { dtype: 'float64' });
    const p = det.init(V.key(0));
    const bp = V.bayesParamsFrom(p, 0.05) as V.BayesLinearParams[];
    expect(bp[0].weightMu).toBe(p[0].weight);
    expect(V.softplus(bp[1].biasRho as Tensor).dataSync()[0]).toBeCloseTo(0.05, 12);
  });
});

describe('BayesMLP trained by the minibatch ELBO', () => {
  it('fits a regression and widens its epistemic sd away from the data (flipout, compiled)', () => {
    const n = 200;
    const xs = V.uniform(V.key(10), [n], { low: -1, high: 1, dtype: 'float32' }).dataSync();
    const e = V.normal(V.key(11), [n], { dtype: 'float32' }).dataSync();
    const x = V.tensor(Float32Array.from(xs), [n, 1], 'float32');
    const y = V.tensor(Float32Array.from(xs, (v, i) => Math.sin(3 * v) + 0.1 * e[i]), [n, 1], 'float32');
    const net = V.BayesMLP([1, 32, 1], { estimator: 'flipout', initScale: 1e-3 });
    const r = V.fitMinibatch(net.init(V.key(12)), x, y, {
      epochs: 300,
      batchSize: 50,
      key: V.key(13),
      optimizer: V.adam(1e-2),
      loss: (p, xb, yb, k) => V.negElbo(net, p, xb, yb, { key: k, datasetSize: n, logLik: V.gaussianLikelihood(0.1) }),
    });
    expect(r.losses[r.losses.length - 1]).toBeLessThan(r.losses[0]);
    const grid = V.tensor(new Float32Array([-0.5, 0, 0.5, 3]), [4, 1], 'float32');
    const pass = compile((k: V.Key) => net.apply(r.params, grid, { key: k }));
    const { data } = V.predictiveSamples(pass, 300, V.key(14));
    const pr = V.regressionPredictive(data, [Math.sin(-1.5), 0, Math.sin(1.5), 0], { noiseSd: 0.1 });
    for (let i = 0; i < 3; i++) expect(Math.abs(pr.mean[i] - Math.sin(3 * [-0.5, 0, 0.5][i]))).toBeLessThan(0.15);
    expect(pr.sd[3]).toBeGreaterThan(2 * Math.max(pr.sd[0], pr.sd[1], pr.sd[2]));
  });

  it('classifies two Gaussian blobs with the categorical likelihood (scale-mixture prior, sampled KL)', () => {
    const n = 200;
    const lab = Int32Array.from({ length: n }, (_, i) => i % 2);
    const z = V.normal(V.key(20), [n, 2], { dtype: 'float32' }).dataSync();
    const xs = Float32Array.from(z, (v, j) => v * 0.7 + (lab[j >> 1] === 1 ? 1.5 : -1.5));
    const x = V.tensor(xs, [n, 2], 'float32');
    const y = V.tensor(lab, [n], 'int32');
    const net = V.BayesMLP([2, 16, 2], { prior: V.ScaleMixturePrior(0.5, 1, Math.exp(-6)), initScale: 1e-3 });
    const r = V.fitMinibatch(net.init(V.key(21)), x, y, {
      epochs: 60,
      batchSize: 50,
      key: V.key(22),
      optimizer: V.adam(1e-2),
      loss: (p, xb, yb, k) => V.negElbo(net, p, xb, yb, { key: k, datasetSize: n, logLik: V.categoricalLikelihood }),
    });
    const { data } = V.predictiveSamples((k) => V.softmax(net.apply(r.params, x, { key: k }), -1), 50, V.key(23));
    const c = V.classificationPredictive(data, lab, 2);
    expect(c.accuracy).toBeGreaterThan(0.9);
    expect(c.ece).toBeLessThan(0.1);
  });

  it('a non-finite loss stops training with the step named', () => {
    const net = V.BayesMLP([1, 4, 1]);
    const x = V.tensor(new Float32Array([0, 1, 2, 3]), [4, 1], 'float32');
    const y = V.tensor(new Float32Array([0, 1, Number.NaN, 3]), [4, 1], 'float32');
    expect(() =>
      V.fitMinibatch(net.init(V.key(0)), x, y, { epochs: 1, batchSize: 4, key: V.key(1), loss: (p, xb, yb, k) => V.negElbo(net, p, xb, yb, { key: k, datasetSize: 4, logLik: V.gaussianLikelihood(1) }) }),
    ).toThrow(/fitMinibatch: the loss was NaN at step 0/);
  });
});
