/**
 * The SBN VAE and its encoder-gradient estimators (NVIL, REBAR, RELAX): every hand-written
 * derivative (dz̃/dθ, ∂f/∂b̃, ∂g/∂z, ∂r/∂z, and the tape's gradient of the variance objective through
 * them) against float64 central differences; the conditional sample z̃ | b against the marginal of z;
 * the key check — each estimator's Monte Carlo mean over 20,000 draws equals the exact gradient
 * ∂E_q[f]/∂θ from enumerating all 2⁴ latent states, within 4.5 standard errors, while an estimator
 * with a term left out is caught; importance-sampled log p(x) against enumeration; bad-input errors;
 * and, with MNIST installed, a short training run of each estimator.
 */
import { describe, expect, it } from 'vitest';
import { valueAndGrad } from '../../ts/core/autodiff.js';
import type { Tensor } from '../../ts/core/tensor.js';
import { MinibatchLoader } from '../../ts/data/loader.js';
import { hasMnist, loadMnist, subset } from '../../ts/data/mnist.js';
import * as V from '../../ts/index.js';
import { SBN, sbnLogLikelihood, sbnTestElbo, type SBNModel, type SBNParams } from '../../ts/models/vae/sbn.js';
import {
  concreteSample,
  encoderGradient,
  initEstimator,
  relaxedElbo,
  sbnNoise,
  surrogateValueAndGrad,
  type EstimatorParams,
  type SBNEstimator,
} from '../../ts/models/vae/sbn-estimators.js';
import { encoderGradientVariance, initSBN, sbnLoss, trainSBN } from '../../ts/models/vae/sbn-train.js';

const arr = (t: Tensor): number[] => Array.from(t.dataSync());
const t64 = (v: number[], shape: number[]): Tensor => V.tensor(Float64Array.from(v), shape, 'float64');
const scaleT = (t: Tensor, s: number): Tensor => V.mul(t, s);

/** The tensor `t` with element i moved by h. */
function bump(t: Tensor, i: number, h: number): Tensor {
  const d = Float64Array.from(t.dataSync());
  d[i] += h;
  return V.tensor(d, t.shape, 'float64');
}

/** Central difference of the scalar-valued `fn` at t, element i. */
function fd(fn: (t: Tensor) => number, t: Tensor, i: number, h = 1e-5): number {
  return (fn(bump(t, i, h)) - fn(bump(t, i, -h))) / (2 * h);
}

const D = 6;
const K = 4;

/** A tiny float64 SBN with weights large enough that f depends strongly on b. */
function tiny(hidden: number[] = []): { model: SBNModel; p: SBNParams; x: Tensor } {
  const model = SBN({ xDim: D, latents: K, hidden, dtype: 'float64' });
  const p0 = model.init(V.key(11));
  const p: SBNParams = {
    enc: p0.enc.map((l) => ({ weight: scaleT(l.weight, 3), bias: l.bias })),
    prior: t64([0.3, -0.5, 0.1, 0.8], [K]),
    dec: p0.dec.map((l) => ({ weight: scaleT(l.weight, 5), bias: l.bias })),
  };
  const x = t64([1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0], [2, D]);
  return { model, p, x };
}

function cvParams(model: SBNModel, est: SBNEstimator): EstimatorParams {
  const ep = initEstimator(model, est, V.key(5), { eta: 0.7, temperature: 0.4, surrogateHidden: 8, baselineHidden: 5 });
  if (ep.surrogate !== undefined) ep.surrogate = ep.surrogate.map((l) => ({ weight: scaleT(l.weight, 3), bias: l.bias }));
  if (est === 'nvil') return { ...ep, runMean: V.scalar(-3, 'float64'), runVar: V.scalar(4, 'float64') };
  return ep;
}

describe('hand-written derivatives against central differences', () => {
  const { model, p, x } = tiny();
  const theta = model.encode(p, x);
  const noise = sbnNoise(V.key(3), 2, K, 'float64');

  it('dz̃/dθ of the conditional sample at fixed b and v', () => {
    const cs = concreteSample(theta, noise.u, noise.v);
    const d = arr(cs.dzTilde);
    for (let i = 0; i < 2 * K; i++) {
      const num = fd((th) => arr(concreteSample(th, noise.u, noise.v).zTilde)[i], theta, i);
      expect(arr(concreteSample(bump(theta, i, 1e-5), noise.u, noise.v).b)).toEqual(arr(cs.b)); // b did not flip
      expect(d[i]).toBeCloseTo(num, 6);
    }
    // z̃ lies on b's side of 0 and z = θ + logistic noise.
    arr(cs.zTilde).forEach((zt, i) => expect(zt > 0).toBe(arr(cs.b)[i] === 1));
  });

  it('z̃ | b has the law of z | b: mixed over b it is distributed as z', () => {
    const n = 40000;
    const th = V.full([n, 1], 0.7, 'float64');
    const nz = sbnNoise(V.key(8), n, 1, 'float64');
    const cs = concreteSample(th, nz.u, nz.v);
    const z = Float64Array.from(cs.z.dataSync()).sort();
    const zt = Float64Array.from(cs.zTilde.dataSync()).sort();
    // Two-sample Kolmogorov–Smirnov distance via the quantiles: far below the 0.01 of a different law.
    for (const q of [0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95]) {
      const i = Math.floor(q * n);
      const cdfGap = Math.abs(z.findIndex((v) => v >= zt[i]) / n - q);
      expect(cdfGap).toBeLessThan(0.012);
    }
    // P(z̃ > 0) = σ(0.7).
    expect(arr(cs.b).reduce((a, b) => a + b, 0) / n).toBeCloseTo(1 / (1 + Math.exp(-0.7)), 2);
  });

  for (const hidden of [[], [5]]) {
    it(`∂f/∂b̃ of the ${hidden.length === 0 ? 'linear' : 'nonlinear'} SBN, closed form vs differences`, () => {
      const m = tiny(hidden);
      const th = m.model.encode(m.p, m.x);
      const bt = t64([0.2, 0.7, 0.5, 0.9, 0.1, 0.4, 0.6, 0.3], [2, K]);
      const r = m.model.elboAndGradB(m.p, m.x, bt, th);
      arr(m.model.elbo(m.p, m.x, bt, th)).forEach((v, i) => expect(arr(r.value)[i]).toBeCloseTo(v, 10));
      const g = arr(r.grad);
      for (let i = 0; i < 2 * K; i++) {
        const num = fd((b) => V.sum(m.model.elbo(m.p, m.x, b, th)).item(), bt, i);
        expect(g[i]).toBeCloseTo(num, 6);
      }
    });
  }

  it('∂g/∂z of the relaxed ELBO g(z) = f(σ_λ(z)) and ∂r/∂z of the RELAX surrogate', () => {
    const temp = V.scalar(0.4, 'float64');
    const z = t64([0.3, -1.2, 2, 0.1, -0.4, 0.8, -2.5, 1.1], [2, K]);
    const dg = arr(relaxedElbo(model, p, x, theta, z, temp).dz);
    const sur = cvParams(model, 'relax').surrogate as V.LinearParams[];
    const dr = arr(surrogateValueAndGrad(sur, z).dz);
    for (let i = 0; i < 2 * K; i++) {
      expect(dg[i]).toBeCloseTo(fd((zz) => V.sum(relaxedElbo(model, p, x, theta, zz, temp).value).item(), z, i), 6);
      expect(dr[i]).toBeCloseTo(fd((zz) => V.sum(surrogateValueAndGrad(sur, zz).value).item(), z, i), 6);
    }
  });

  for (const est of ['rebar', 'relax'] as const)
    it(`the tape's gradient of the ${est} variance objective Σ ĝ² / B with respect to η, log λ${est === 'relax' ? ', ρ' : ''}`, () => {
      const ep = cvParams(model, est);
      const obj = (e: EstimatorParams): Tensor => encoderGradient(model, p, e, est, x, theta, noise).controlLoss;
      const [, g] = valueAndGrad(obj)(ep);
      const eta = ep.eta as Tensor;
      const lt = ep.logTemp as Tensor;
      expect(arr(g.eta as Tensor)[0]).toBeCloseTo(fd((t) => obj({ ...ep, eta: V.reshape(t, []) }).item(), V.reshape(eta, [1]), 0), 4);
      expect(arr(g.logTemp as Tensor)[0]).toBeCloseTo(fd((t) => obj({ ...ep, logTemp: V.reshape(t, []) }).item(), V.reshape(lt, [1]), 0), 4);
      expect(Math.abs(arr(g.logTemp as Tensor)[0])).toBeGreaterThan(1e-3); // the check is not vacuous
      if (est === 'relax') {
        const s = ep.surrogate as V.LinearParams[];
        const gw = arr((g.surrogate as V.LinearParams[])[0].weight);
        for (const i of [0, 5, 13]) {
          const num = fd((w) => obj({ ...ep, surrogate: [{ weight: w, bias: s[0].bias }, s[1]] }).item(), s[0].weight, i);
          expect(gw[i]).toBeCloseTo(num, 4);
        }
      }
    });
});

/** ∂/∂θ Σ_i E_{q(b|θ_i)}[f_i(b, θ_i)] by enumerating the 2^K states, written independently of sbn.ts. */
function exactGradient(p: SBNParams, x: Tensor, theta: Tensor): number[] {
  const states: number[] = [];
  for (let s = 0; s < 1 << K; s++) for (let k = 0; k < K; k++) states.push((s >> k) & 1);
  const S = t64(states, [1 << K, K]);
  // The decoder by hand: tanh hidden layers, then the logits [S, D].
  let logits = S;
  p.dec.forEach((l, i) => {
    logits = V.add(V.matmul(logits, l.weight, { transB: true }), l.bias as Tensor);
    if (i < p.dec.length - 1) logits = V.tanh(logits);
  });
  const logPx = V.sub(V.matmul(x, logits, { transB: true }), V.reshape(V.sum(V.softplus(logits), -1), [1, 1 << K])); // [B, S]
  const logPb = V.sub(V.matmul(S, V.reshape(p.prior, [K, 1])), V.sum(V.softplus(p.prior))); // [S, 1]
  const total = (th: Tensor): Tensor => {
    const logQ = V.sub(V.matmul(th, S, { transB: true }), V.sum(V.softplus(th), -1, true)); // [B, S]
    const f = V.sub(V.add(logPx, V.reshape(logPb, [1, 1 << K])), logQ);
    return V.sum(V.mul(V.exp(logQ), f));
  };
  return arr(valueAndGrad(total)(theta)[1]);
}

/** Mean and standard error per logit of `n` draws of ĝ, from one call on the batch tiled n times. */
function monteCarlo(draw: (xs: Tensor, ths: Tensor, noiseKey: V.Key) => Tensor, x: Tensor, theta: Tensor, n: number): { mean: number[]; se: number[] } {
  const B = x.shape[0];
  const xs = V.reshape(V.broadcastTo(V.reshape(x, [1, B, D]), [n, B, D]), [n * B, D]);
  const ths = V.reshape(V.broadcastTo(V.reshape(theta, [1, B, K]), [n, B, K]), [n * B, K]);
  const g = draw(xs, ths, V.key(77)).dataSync();
  const mean = new Array<number>(B * K).fill(0);
  const sq = new Array<number>(B * K).fill(0);
  for (let r = 0; r < n; r++)
    for (let j = 0; j < B * K; j++) {
      mean[j] += g[r * B * K + j] / n;
      sq[j] += g[r * B * K + j] ** 2 / n;
    }
  return { mean, se: mean.map((m, j) => Math.sqrt((sq[j] - m * m) / (n - 1))) };
}

const N = 20000;

/** |mean − exact| / se per logit, for the estimate scaled by `scale`. */
const zScores = (mc: { mean: number[]; se: number[] }, exact: number[], scale = 1): number[] => mc.mean.map((m, j) => Math.abs(m * scale - exact[j]) / (mc.se[j] * scale));

/** Asserts that the estimator's mean over N draws is within 4.5 standard errors of `exact`, with power. */
function checkUnbiased(model: SBNModel, p: SBNParams, x: Tensor, theta: Tensor, exact: number[], est: SBNEstimator, ep: EstimatorParams): void {
  let scale = 1;
  const mc = monteCarlo(
    (xs, ths, k) => {
      const r = encoderGradient(model, p, ep, est, xs, ths, sbnNoise(k, xs.shape[0], K, 'float64'));
      scale = 1 / r.scale;
      return r.ghat;
    },
    x,
    theta,
    N,
  );
  if (est === 'nvil') expect(scale).toBe(2); // max(1, √4): the normalization was applied
  expect(Math.max(...zScores(mc, exact, scale))).toBeLessThan(4.5);
  // Power: the standard errors are small next to the gradient.
  expect(Math.max(...mc.se.map((s) => s * scale))).toBeLessThan(0.1 * Math.max(...exact.map(Math.abs)));
}

describe('unbiasedness against the exact gradient (2⁴ states enumerated)', () => {
  const { model, p, x } = tiny();
  const theta = model.encode(p, x);
  const exact = exactGradient(p, x, theta);

  it('the enumerated gradient is not trivially small', () => {
    expect(Math.max(...exact.map(Math.abs))).toBeGreaterThan(0.5);
  });

  for (const [est, name] of [['nvil', 'nvil'], ['rebar', 'rebar'], ['relax', 'relax'], ['relax', 'relax (r_ρ alone)']] as const)
    it(`${name}: the mean of 20,000 draws is within 4.5 standard errors of the exact gradient`, () => {
      const ep = cvParams(model, est);
      if (name !== est) delete ep.eta;
      checkUnbiased(model, p, x, theta, exact, est, ep);
    });

  for (const est of ['rebar', 'relax'] as const)
    it(`${est} on the nonlinear SBN (a tanh layer of 5 in the decoder): unbiased as well`, () => {
      const m = tiny([5]);
      const th = m.model.encode(m.p, m.x);
      checkUnbiased(m.model, m.p, m.x, th, exactGradient(m.p, m.x, th), est, cvParams(m.model, est));
    });

  /** REBAR assembled from its parts, with one deliberate change. */
  const rebarVariant = (variant: 'noTildeGrad' | 'unitDzTilde' | 'zInScore') => {
    const ep = cvParams(model, 'rebar');
    const eta = (ep.eta as Tensor).item();
    const temp = V.exp(ep.logTemp as Tensor);
    return monteCarlo(
      (xs, ths, k) => {
        const nz = sbnNoise(k, xs.shape[0], K, 'float64');
        const cs = concreteSample(ths, nz.u, nz.v);
        const f = V.reshape(model.elbo(p, xs, cs.b, ths), [-1, 1]);
        const gz = relaxedElbo(model, p, xs, ths, cs.z, temp);
        const gzt = relaxedElbo(model, p, xs, ths, cs.zTilde, temp);
        const score = V.sub(cs.b, V.sigmoid(ths));
        const cv = V.reshape(variant === 'zInScore' ? gz.value : gzt.value, [-1, 1]);
        const base = V.add(V.mul(V.sub(f, V.mul(cv, eta)), score), V.mul(gz.dz, eta));
        if (variant === 'noTildeGrad') return base;
        return V.sub(base, V.mul(variant === 'unitDzTilde' ? gzt.dz : V.mul(gzt.dz, cs.dzTilde), eta));
      },
      x,
      theta,
      N,
    );
  };

  it('the same check catches REBAR without the −η∇g(z̃) term, or with dz̃/dθ taken as 1', () => {
    expect(Math.max(...zScores(rebarVariant('noTildeGrad'), exact))).toBeGreaterThan(10);
    expect(Math.max(...zScores(rebarVariant('unitDzTilde'), exact))).toBeGreaterThan(10);
  });

  it('g(z) in place of g(z̃) in the score term stays unbiased, since z̃ | b has the law of z | b', () => {
    expect(Math.max(...zScores(rebarVariant('zInScore'), exact))).toBeLessThan(4.5);
  });
});

describe('evaluation, variance and errors', () => {
  const { model, p, x } = tiny();

  it('the importance-sampled log p(x) approaches the enumerated one and exceeds the ELBO', () => {
    const states: number[][] = [];
    for (let s = 0; s < 1 << K; s++) states.push(Array.from({ length: K }, (_, k) => (s >> k) & 1));
    const b = V.reshape(t64(states.flat(), [1 << K, 1, K]), [1 << K, 1, K]);
    for (let i = 0; i < 2; i++) {
      const xi = V.slice(x, [i, 0], [1, D]);
      // log p(x) = logsumexp_b log p(x, b): f with log q dropped, i.e. f + log q.
      const th = model.encode(p, xi);
      const bb = V.broadcastTo(b, [1 << K, 1, K]);
      const logJoint = V.add(model.elbo(p, xi, bb, th), V.sum(V.sub(V.mul(bb, th), V.softplus(th)), -1));
      const exactLogPx = V.logsumexp(logJoint, 0).item();
      // The estimate's relative standard error from the exact moments: E_q[w²]/p(x)² = Σ_b p(x,b)²/q(b) / p(x)².
      const logQ = V.sum(V.sub(V.mul(bb, th), V.softplus(th)), -1);
      const m2 = Math.exp(V.logsumexp(V.sub(V.mul(logJoint, 2), logQ), 0).item() - 2 * exactLogPx);
      const k = 4000;
      const relSe = Math.sqrt((m2 - 1) / k);
      const is = sbnLogLikelihood(model, p, xi, { key: V.key(4), k }).mean;
      expect(Math.abs(is - exactLogPx)).toBeLessThan(4 * relSe);
      expect(relSe).toBeLessThan(0.05);
      expect(sbnTestElbo(model, p, xi, { key: V.key(5), samples: 2000 })).toBeLessThan(exactLogPx - 0.05);
    }
  });

  it('a tuned REBAR control variate has lower variance than REINFORCE (η = 0)', () => {
    const theta = model.encode(p, x);
    const params = { model: p, est: cvParams(model, 'rebar') };
    const plain = encoderGradientVariance(model, { model: p, est: { ...params.est, eta: V.scalar(0, 'float64') } }, x, 'rebar', { key: V.key(6), draws: 400 });
    // 150 Adam steps on Σ ĝ² / B move η and λ.
    const opt = V.adam(0.05);
    let est = params.est;
    let st = opt.init(est);
    const vg = valueAndGrad((e: EstimatorParams, s: number) => encoderGradient(model, p, e, 'rebar', x, theta, sbnNoise(V.foldIn(V.key(9), s), 2, K, 'float64')).controlLoss);
    for (let s = 0; s < 150; s++) {
      const [, g] = vg(est, s);
      const [u, s2] = opt.update(g, st, est);
      est = V.applyUpdates(est, u);
      st = s2;
    }
    const tuned = encoderGradientVariance(model, { model: p, est }, x, 'rebar', { key: V.key(6), draws: 400 });
    expect(tuned.logVariance).toBeLessThan(plain.logVariance - 1);
    expect(tuned.meanSquaredMean).toBeGreaterThan(0);
  });

  it('bad input gives named errors', () => {
    expect(() => SBN({ xDim: 0 })).toThrow(/SBN: xDim must be an integer ≥ 1, got 0/);
    expect(() => SBN({ xDim: 4, hidden: [2.5] })).toThrow(/hidden\[0\] must be an integer ≥ 1, got 2.5/);
    expect(() => model.encode(p, V.zeros([3, 5], 'float64'))).toThrow(/SBN.encode: x must be \[batch, 6\], got \[3, 5\]/);
    expect(() => model.encode(p, V.zeros([3, 6], 'float32'))).toThrow(/x must be float64 like the parameters, got float32/);
    expect(() => initEstimator(model, 'reinforce' as SBNEstimator, V.key(0))).toThrow(/initEstimator: estimator must be 'nvil', 'rebar' or 'relax', got 'reinforce'/);
    expect(() => initEstimator(model, 'rebar', V.key(0), { temperature: 0 })).toThrow(/temperature must be positive, got 0/);
    const th = model.encode(p, x);
    expect(() => encoderGradient(model, p, {}, 'rebar', x, th, sbnNoise(V.key(0), 2, K, 'float64'))).toThrow(/the rebar estimator needs 'eta'/);
    expect(() => concreteSample(th, V.zeros([2, 3], 'float64'), V.zeros([2, K], 'float64'))).toThrow(/u \[2, 3\] must have the shape of theta \[2, 4\]/);
    expect(() => sbnLoss(model, { model: p, est: cvParams(model, 'nvil') }, V.zeros([2, 7], 'float64'), V.key(0), 'nvil')).toThrow(/sbnLoss: x must be \[batch, 6\], got \[2, 7\]/);
    expect(() => model.elbo(p, x, V.zeros([2, 3], 'float64'), th)).toThrow(/SBN.elbo: b must be \[..., 2, 4\]/);
  });

  it('trainSBN refuses estimator parameters of another estimator', async () => {
    const m = SBN({ xDim: 784, latents: 8 });
    const opt = V.adam(1e-3);
    const st = initSBN(m, 'rebar', V.key(0), opt);
    const loader = new MinibatchLoader({ name: 'zeros', images: new Uint8Array(4 * 784), labels: new Uint8Array(4), n: 4, rows: 28, cols: 28 }, { batchSize: 2, key: V.key(0) });
    await expect(trainSBN(m, st, loader, { steps: 1, key: V.key(1), optimizer: opt, estimator: 'nvil' })).rejects.toThrow(/state.params.est has no 'baseline', which the nvil estimator needs/);
  });
});

describe.skipIf(!hasMnist())('training on MNIST', () => {
  it('each estimator takes the linear SBN from a test ELBO below −400 past −230 nats in 80 steps on 1,000 images', async () => {
    const train = subset(loadMnist('train'), 1000);
    const testX = new MinibatchLoader(subset(loadMnist('test'), 500), { batchSize: 100, key: V.key(2), binarize: 'static' }).all();
    const sbn = SBN({ xDim: 784, latents: 200 });
    for (const est of ['nvil', 'rebar', 'relax'] as const) {
      const opt = V.adam(3e-3);
      const st = initSBN(sbn, est, V.key(0), opt);
      const before = sbnTestElbo(sbn, st.params.model, testX, { key: V.key(3) });
      const loader = new MinibatchLoader(train, { batchSize: 50, key: V.key(1), binarize: 'dynamic' });
      const r = await trainSBN(sbn, st, loader, { steps: 80, key: V.key(4), optimizer: opt, estimator: est });
      const after = sbnTestElbo(sbn, r.state.params.model, testX, { key: V.key(3) });
      expect(before).toBeLessThan(-400);
      expect(after).toBeGreaterThan(-230);
      expect(r.nonFinite).toEqual([]);
      if (est === 'nvil') expect((r.state.params.est.runMean as Tensor).item()).toBeLessThan(-20); // the running mean tracks f − c(x)
    }
  }, 60000);
});
