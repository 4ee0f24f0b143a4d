/**
 * Evaluation of trained `VAE` models on a test set: the ELBO, the importance-sampled estimate of
 * log p(x) (Burda et al. 2016 use k = 5,000 samples), active units, and the amortization gap
 * (Cremer, Li & Duvenaud 2018). Everything runs in chunks without gradients.
 */
import { valueAndGrad } from '../../core/autodiff.js';
import { ShapeError, ValueError, fmtShape } from '../../core/errors.js';
import type { TypedArray } from '../../core/dtype.js';
import type { Tensor } from '../../core/tensor.js';
import { tidy } from '../../core/memory.js';
import { mul, sub } from '../../ops/elementwise.js';
import { logsumexp, mean, sum } from '../../ops/reduce.js';
import { slice } from '../../ops/shape.js';
import { adam } from '../../optim/alias.js';
import { applyUpdates } from '../../optim/transform.js';
import { foldIn, type Key } from '../../random/key.js';
import { normal } from '../../random/samplers.js';
import type { VAEModel, VAEParams } from './model.js';
import { bernoulliLogLik, gaussianLogLik, klStdNormalPerDim, reparameterize } from './terms.js';

/** Options shared by the evaluations. */
export interface EvalOptions {
  /** Randomness of the samples. */
  key: Key;
  /** Examples per chunk; default 500. */
  batchSize?: number;
}

/**
 * The number of rows of an evaluation batch x, which must be [n, xDim]; the ShapeError names `op`.
 * @example checkRows('testElbo', testX, 784) // 10000
 */
export function checkRows(op: string, x: Tensor, xDim: number, rows = 'n'): number {
  if (x.shape.length !== 2 || x.shape[1] !== xDim) throw new ShapeError(`${op}: x must be [${rows}, ${xDim}], got ${fmtShape(x.shape)}`);
  return x.shape[0];
}

/**
 * (1/n) Σ over the rows of x (any rank, rows on axis 0) of a per-chunk sum: `chunkSum(xb, k, start, m)`
 * gets rows start..start+m as `xb` and the chunk's key `foldIn(key, chunk)`, runs inside `tidy`, and
 * returns the sum of its rows' values. The shared loop of every test-ELBO evaluation.
 * @example meanOverChunks(testX, 500, key(7), (xb) => sum(bernoulliLogLik(decode(xb), xb)).item()) // mean per row
 */
export function meanOverChunks(x: Tensor, batchSize: number, k: Key, chunkSum: (xb: Tensor, k: Key, start: number, m: number) => number): number {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`meanOverChunks: batchSize must be a positive integer, got ${batchSize}`);
  const n = x.shape[0];
  const rest = x.shape.slice(1);
  let total = 0;
  for (let s = 0, c = 0; s < n; s += batchSize, c++) {
    const m = Math.min(batchSize, n - s);
    total += tidy(() => chunkSum(slice(x, [s, ...rest.map(() => 0)], [m, ...rest]), foldIn(k, c), s, m));
  }
  return total / n;
}

/**
 * Burda et al.'s (2016) importance-sampled log p(x) ≈ log (1/k) Σ_i w_i for any model given its
 * log-weights: `logW(xb, key, samples)` returns log w [samples, m] for the rows xb; the k samples
 * per row go in chunks of `samplesPerChunk` (key `foldIn(foldIn(key, rowChunk), sampleChunk)`)
 * combined by a running log-sum-exp. Returns the mean over the rows and the per-row estimates.
 * @example importanceSampled(testX, { key: key(9), k: 5000, batchSize: 20, samplesPerChunk: 250 }, logW)
 */
export function importanceSampled(
  x: Tensor,
  opts: { key: Key; k: number; batchSize: number; samplesPerChunk: number; name?: string },
  logW: (xb: Tensor, k: Key, samples: number) => Tensor,
): {
  /** The mean estimate of log p(x) over the rows (nats per example). */
  mean: number;
  /** The estimate for each row, [N]. */
  perExample: Float64Array;
} {
  const { k, batchSize: bs } = opts;
  if (!Number.isInteger(k) || k < 1) throw new ValueError(`${opts.name ?? 'importanceSampled'}: k must be a positive integer, got ${k}`);
  const chunk = Math.min(k, opts.samplesPerChunk);
  const n = x.shape[0];
  const per = new Float64Array(n);
  for (let s = 0, c = 0; s < n; s += bs, c++) {
    const m = Math.min(bs, n - s);
    const acc = new Float64Array(m).fill(-Infinity);
    for (let j = 0, cj = 0; j < k; j += chunk, cj++) {
      const kk = Math.min(chunk, k - j);
      const lse = tidy(() => logsumexp(logW(slice(x, [s, 0], [m, x.shape[1]]), foldIn(foldIn(opts.key, c), cj), kk), 0).dataSync());
      for (let i = 0; i < m; i++) acc[i] = logAddExp(acc[i], lse[i]);
    }
    for (let i = 0; i < m; i++) per[s + i] = acc[i] - Math.log(k);
  }
  let total = 0;
  for (const v of per) total += v;
  return { mean: total / n, perExample: per };
}

/**
 * The mean ELBO per example over the rows of x [n, D], one sample per example (closed-form KL
 * for the top layer): (1/n) Σ_i E_q[log p(x_i|z)] − KL(q(z|x_i) ‖ p(z)).
 * @example testElbo(vae, params, testX, { key: key(7) }) // e.g. −88.3
 */
export function testElbo(model: VAEModel, params: VAEParams, x: Tensor, opts: EvalOptions): number {
  checkRows('testElbo', x, model.config.xDim);
  return meanOverChunks(x, opts.batchSize ?? 500, opts.key, (xb, k, _s, m) => {
    const t = model.forward(params, xb, model.noise(k, 1, m), { analyticKL: true });
    return sum(t.logPx).item() - klTotal(t.kl);
  });
}

function klTotal(kl: readonly Tensor[]): number {
  let s = 0;
  for (const k of kl) s += sum(k).item();
  return s;
}

/**
 * Importance-sampled log-likelihood (Burda et al. 2016, eq. 11 with q as the proposal):
 * log p(x) ≈ log (1/k) Σ_{i=1}^k p(x, z_i) / q(z_i|x), z_i ~ q(z|x), averaged over the rows of x.
 * The k samples are drawn in chunks of `samplesPerChunk` and combined with a running log-sum-exp.
 * Returns the mean and the per-example estimates.
 * @example importanceLogLikelihood(vae, params, testX, { key: key(9), k: 5000 }).mean // ≤ 0
 */
export function importanceLogLikelihood(
  model: VAEModel,
  params: VAEParams,
  x: Tensor,
  opts: EvalOptions & { k?: number; samplesPerChunk?: number },
): {
  /** The mean estimate of log p(x) over the rows (nats per example). */
  mean: number;
  /** The estimate for each row, [N]. */
  perExample: Float64Array;
} {
  checkRows('importanceLogLikelihood', x, model.config.xDim);
  return importanceSampled(x, { key: opts.key, k: opts.k ?? 5000, batchSize: opts.batchSize ?? 20, samplesPerChunk: opts.samplesPerChunk ?? 250, name: 'importanceLogLikelihood' }, (xb, k, kk) => {
    const t = model.forward(params, xb, model.noise(k, kk, xb.shape[0]));
    let logW = t.logPx;
    for (const kl of t.kl) logW = sub(logW, sum(kl, -1));
    return logW;
  });
}

function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}

/**
 * Active units (Burda et al. 2016, §5.2): latent coordinate u of layer l is active when
 * A_u = Cov_x(E_{q(u|x)}[u]) > threshold (default 0.01). The posterior means of layer l > 1 are
 * taken at the means of the layer below. Returns the count and the variances per layer.
 * @example activeUnits(vae, params, testX).counts // e.g. [20]
 */
export function activeUnits(model: VAEModel, params: VAEParams, x: Tensor, opts: { threshold?: number; batchSize?: number } = {}): {
  /** Active units per stochastic layer. */
  counts: number[];
  /** A_u for every unit, one array of length d_l per layer. */
  variances: Float64Array[];
} {
  checkRows('activeUnits', x, model.config.xDim);
  const L = model.config.layers.length;
  return activeUnitsOf(x, model.config.layers.map((s) => s.z), opts, (xb) => {
    let h = xb;
    const out: TypedArray[] = [];
    for (let l = 0; l < L; l++) {
      h = model.encodeLayer(params, l, h).mu;
      out.push(h.dataSync());
    }
    return out;
  });
}

/**
 * Active units from any model's posterior means: `means(xb)` gives, per layer, E_q[z_l] of the
 * rows xb ([m, dims[l]] row-major); unit u of layer l is active when its variance over the rows
 * of x exceeds `threshold` (default 0.01; Burda et al. 2016, §5.2). Runs in chunks of `batchSize`
 * (default 1000) under `tidy`.
 * @example activeUnitsOf(testX, [50], {}, (xb) => [encodeMeans(xb).dataSync()]).counts // e.g. [20]
 */
export function activeUnitsOf(
  x: Tensor,
  dims: readonly number[],
  opts: { threshold?: number; batchSize?: number },
  means: (xb: Tensor) => TypedArray[],
): {
  /** Active units per layer. */
  counts: number[];
  /** The variance over the rows of each unit's posterior mean, one array of length dims[l] per layer. */
  variances: Float64Array[];
} {
  const n = x.shape[0];
  const thr = opts.threshold ?? 0.01;
  const bs = opts.batchSize ?? 1000;
  const sums = dims.map((d) => new Float64Array(d));
  const sqs = dims.map((d) => new Float64Array(d));
  for (let s = 0; s < n; s += bs) {
    const m = Math.min(bs, n - s);
    const mus = tidy(() => means(slice(x, [s, 0], [m, x.shape[1]])).map((t) => Float64Array.from(t)));
    mus.forEach((mu, l) => {
      const d = dims[l];
      for (let i = 0; i < m; i++)
        for (let j = 0; j < d; j++) {
          const v = mu[i * d + j];
          sums[l][j] += v;
          sqs[l][j] += v * v;
        }
    });
  }
  const variances = sums.map((su, l) => su.map((v, j) => sqs[l][j] / n - (v / n) ** 2));
  return { counts: variances.map((v) => v.filter((a) => a > thr).length), variances };
}

/**
 * The amortization gap (Cremer et al. 2018) of a one-stochastic-layer VAE: the mean over the rows
 * of x of ELBO(q*) − ELBO(q_φ), where q* is a diagonal Gaussian per example, initialized at the
 * encoder's output and optimized with Adam on the ELBO (decoder fixed) for `steps` steps, and both
 * ELBOs are estimated with `evalSamples` samples. Returns both ELBOs and the gap (≥ 0 up to noise).
 * @example amortizationGap(vae, params, slice(testX, [0, 0], [100, 784]), { key: key(3) }).gap // e.g. 3.1
 */
export function amortizationGap(
  model: VAEModel,
  params: VAEParams,
  x: Tensor,
  opts: EvalOptions & { steps?: number; lr?: number; samples?: number; evalSamples?: number },
): {
  /** Mean ELBO with the encoder's q_φ(z|x). */
  amortized: number;
  /** Mean ELBO with the per-example optimized q*(z). */
  optimized: number;
  /** optimized − amortized. */
  gap: number;
} {
  if (model.config.layers.length !== 1) throw new ValueError('amortizationGap: implemented for one stochastic layer');
  const n = checkRows('amortizationGap', x, model.config.xDim);
  const { steps = 300, lr = 1e-2, samples = 10, evalSamples = 100 } = opts;
  const d = model.config.layers[0].z;
  const elboOf = (local: { mu: Tensor; logVar: Tensor }, kk: Key, s: number): Tensor => {
    const eps = normal(kk, [s, n, d], { dtype: 'float32' });
    const z = reparameterize(local.mu, local.logVar, eps);
    const out = model.decodeLayer(params, 0, z);
    const lp = out.logVar === undefined ? bernoulliLogLik(out.mu, x) : gaussianLogLik(out.mu, out.logVar, x);
    return sub(mean(lp), mul(sum(klStdNormalPerDim(local.mu, local.logVar)), 1 / n));
  };
  const q0 = tidy(() => model.encodeLayer(params, 0, x));
  const amortized = tidy(() => elboOf(q0, foldIn(opts.key, 0), evalSamples).item());
  const opt = adam(lr);
  let local = { mu: q0.mu, logVar: q0.logVar };
  let st = opt.init(local);
  const vg = valueAndGrad((p: { mu: Tensor; logVar: Tensor }, kk: Key) => mul(elboOf(p, kk, samples), -1));
  for (let i = 0; i < steps; i++) {
    const r = tidy(() => {
      const [, g] = vg(local, foldIn(opts.key, 1000 + i));
      const [u, s2] = opt.update(g, st, local);
      return { p: applyUpdates(local, u), s: s2 };
    });
    local = r.p;
    st = r.s;
  }
  const optimized = tidy(() => elboOf(local, foldIn(opts.key, 0), evalSamples).item());
  return { amortized, optimized, gap: optimized - amortized };
}
