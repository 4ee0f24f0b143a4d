/**
 * Stochastic natural-gradient VI for the Bayesian Gaussian mixture (Hoffman, Blei, Wang & Paisley
 * 2013, "Stochastic Variational Inference", Alg. 1), for data too large for a full CAVI sweep.
 *
 * The global factor q(π) Π_k q(μ_k, Λ_k) is held by its expected sufficient statistics
 * λ = (N_k, s_k = Σ_n r_nk x_n, S_k = Σ_n r_nk x_n x_nᵀ (diag: x_n²)), an affine image of the
 * Normal–Wishart / Dirichlet natural parameters (β = β₀ + N_k, βm = β₀m₀ + s_k, ν = ν₀ + N_k,
 * W⁻¹ + βmmᵀ = W₀⁻¹ + β₀m₀m₀ᵀ + S_k, α = α₀ + N_k), so a step on λ is the natural-gradient step
 * (conjugate.ts `naturalGradientStep`). Each step draws a minibatch S (without replacement within
 * an epoch), sets the local responsibilities r_nk for n ∈ S exactly (Bishop 10.46–10.49) and moves
 *
 *   λ ← (1 − ρ_t) λ + ρ_t λ̂,  λ̂ = (N / |S|) Σ_{n∈S} t(x_n, r_n),  ρ_t = (τ + t)^−κ, κ ∈ (0.5, 1].
 *
 * The full-data ELBO (bayesGmm's, all constants) is evaluated with one local pass over all points,
 * every `evalEvery` steps and at the end. Data are centered at m₀ internally so the subtraction
 * W⁻¹ = (W₀⁻¹ + S_k) − βmmᵀ loses no digits for clusters far from the origin.
 */
import { ValueError } from '../../core/errors.js';
import { type Key, foldIn, key as makeKey } from '../../random/key.js';
import { uniform } from '../../random/samplers.js';
import { naturalGradientStep } from './conjugate.js';
import { asMatrix } from './dense.js';
import { type BgmmOptions, type BgmmResult, type Prior, BgmmModel, argmaxRows, buildPrior, posteriorOf } from './gmm.js';
import { kmeansPlusPlus } from './kmeans.js';

/** Options of `bayesGmmSvi` (the prior options are bayesGmm's). */
export interface GmmSviOptions extends Omit<BgmmOptions, 'nInit' | 'maxIter' | 'tol' | 'onSweep'> {
  /** Minibatch size |S| (default 256, at most N). */
  batchSize?: number;
  /** Number of stochastic steps (default 20 epochs: ⌈20N/|S|⌉). */
  steps?: number;
  /** Delay τ ≥ 0 of ρ_t = (τ + t)^−κ (default 1). */
  tau?: number;
  /** Forgetting rate κ ∈ (0.5, 1] (default 0.7). */
  kappa?: number;
  /** Evaluate the full-data ELBO every this many steps (default 0: only at the end). */
  evalEvery?: number;
  /** Called after each step with the step (1-based) and ρ_t. */
  onStep?: (step: number, rho: number) => void;
}

/** A mixture fitted by SVI: the fields of a batch fit (less its sweep trace and restarts), plus the SVI run. */
export interface GmmSviResult extends Omit<BgmmResult, 'trace' | 'restartElbos'> {
  /** Full-data ELBO at the end (all constants; comparable with bayesGmm's). */
  elbo: number;
  /** Full-data ELBOs at steps `elboSteps` (the last is the final one). */
  elboTrace: number[];
  /** The steps at which `elboTrace` was evaluated. */
  elboSteps: number[];
  /** Steps taken. */
  steps: number;
  /** Whether the signal stopped the run. */
  cancelled: boolean;
  /** Wall time in milliseconds. */
  timeMs: number;
}

/**
 * Fits the Bayesian GMM of `bayesGmm` by stochastic natural-gradient steps on minibatches, starting
 * from k-means++ labels of the first minibatch (its statistics scaled by N/|S|). Same errors as
 * bayesGmm, plus ValueError for batchSize, steps, τ or κ out of range.
 * @example const fit = bayesGmmSvi(points, { d: 2, k: 5, batchSize: 200, steps: 500 }); fit.elbo
 */
export function bayesGmmSvi(x: Float64Array | readonly (readonly number[])[], opts: GmmSviOptions): GmmSviResult {
  const t0 = performance.now();
  const { data, n, d } = asMatrix('bayesGmmSvi: X', x, opts.d);
  const { k } = opts;
  if (!(Number.isInteger(k) && k >= 1)) throw new ValueError(`bayesGmmSvi: k must be a positive integer, got ${k}`);
  if (k > n) throw new ValueError(`bayesGmmSvi: k = ${k} components but only ${n} points`);
  const bs = Math.min(n, opts.batchSize ?? 256);
  if (!(Number.isInteger(bs) && bs >= k)) throw new ValueError(`bayesGmmSvi: batchSize must be an integer >= k = ${k}, got ${opts.batchSize}`);
  const steps = opts.steps ?? Math.ceil((20 * n) / bs);
  if (!(Number.isInteger(steps) && steps >= 0)) throw new ValueError(`bayesGmmSvi: steps must be a non-negative integer, got ${steps}`);
  const tau = opts.tau ?? 1;
  const kappa = opts.kappa ?? 0.7;
  if (!(tau >= 0)) throw new ValueError(`bayesGmmSvi: tau must be >= 0, got ${tau}`);
  if (!(kappa > 0.5 && kappa <= 1)) throw new ValueError(`bayesGmmSvi: kappa must be in (0.5, 1], got ${kappa}`);
  const evalEvery = opts.evalEvery ?? 0;
  const full = (opts.covariance ?? 'full') === 'full';
  const dp = opts.weightPrior === 'dirichlet-process';
  const prior = buildPrior(data, n, d, full, { ...opts, nInit: 1 });
  const centered: Prior = { ...prior, m0: new Float64Array(d) };
  const dd = full ? d * d : d;
  const root = opts.key ?? makeKey(0);

  // Minibatch model over a reused buffer of centered rows; its globals are overwritten each step.
  const buf = new Float64Array(bs * d);
  const perm = new Int32Array(n);
  let epoch = 0;
  let cursor = n;
  const nextBatch = (): void => {
    for (let b = 0; b < bs; b++) {
      if (cursor === n) {
        shuffle(perm, foldIn(root, 1 + epoch++));
        cursor = 0;
      }
      const i = perm[cursor++];
      for (let e = 0; e < d; e++) buf[b * d + e] = data[i * d + e] - prior.m0[e];
    }
  };
  const lambda = new Float64Array(k * (1 + d + dd));
  const lambdaHat = new Float64Array(lambda.length);
  nextBatch();
  const initLabels = kmeansPlusPlus(buf, bs, d, k, foldIn(root, 0));
  const onehot = new Float64Array(bs * k);
  for (let b = 0; b < bs; b++) onehot[b * k + initLabels[b]] = 1;
  batchStats(buf, onehot, bs, d, k, full, n / bs, lambda);
  const mb = new BgmmModel(buf, bs, d, k, full, dp, centered, initLabels);

  let cancelled = false;
  const elboTrace: number[] = [];
  const elboSteps: number[] = [];
  let evalModel: BgmmModel | null = null;
  const evaluate = (step: number): void => {
    evalModel ??= new BgmmModel(data, n, d, k, full, dp, prior, new Int32Array(n));
    load(evalModel, lambda, prior, prior.m0);
    evalModel.factors[1].update();
    const e = evalModel.elbo();
    if (Number.isNaN(e)) throw new ValueError(`bayesGmmSvi: the ELBO is NaN at step ${step}; check the data for NaN or Inf`);
    elboTrace.push(e);
    elboSteps.push(step);
  };
  let t = 0;
  while (t < steps) {
    if (opts.signal?.aborted) {
      cancelled = true;
      break;
    }
    if (t > 0) nextBatch();
    load(mb, lambda, centered, null);
    mb.factors[1].update();
    batchStats(buf, mb.resp, bs, d, k, full, n / bs, lambdaHat);
    t++;
    const rho = Math.pow(tau + t, -kappa);
    naturalGradientStep(lambda, lambdaHat, Math.min(1, rho));
    opts.onStep?.(t, rho);
    if (evalEvery > 0 && t % evalEvery === 0 && t < steps) evaluate(t);
  }
  evaluate(t);
  const model = evalModel as unknown as BgmmModel;
  const covariances = new Float64Array(k * dd);
  for (let j = 0; j < k; j++) for (let e = 0; e < dd; e++) covariances[j * dd + e] = model.winv[j * dd + e] / model.nu[j];
  return {
    k,
    d,
    covariance: full ? 'full' : 'diag',
    weights: model.weights(),
    means: model.m.slice(),
    covariances,
    resp: model.resp,
    labels: argmaxRows(model.resp, n, k),
    elbo: elboTrace[elboTrace.length - 1],
    elboTrace,
    elboSteps,
    steps: t,
    cancelled,
    timeMs: performance.now() - t0,
    posterior: posteriorOf(model),
  };
}

/** λ̂ = scale · (Σ r_nk, Σ r_nk x_n, Σ r_nk x_n x_nᵀ or x_n²) over the rows, laid out per component. */
function batchStats(x: Float64Array, r: Float64Array, rows: number, d: number, k: number, full: boolean, scale: number, out: Float64Array): void {
  const dd = full ? d * d : d;
  const p = 1 + d + dd;
  out.fill(0);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < k; j++) {
      const w = r[i * k + j];
      if (w === 0) continue;
      const o = j * p;
      out[o] += w;
      for (let a = 0; a < d; a++) {
        const xa = w * x[i * d + a];
        out[o + 1 + a] += xa;
        if (full) for (let b = 0; b < d; b++) out[o + 1 + d + a * d + b] += xa * x[i * d + b];
        else out[o + 1 + d + a] += xa * x[i * d + a];
      }
    }
  for (let i = 0; i < out.length; i++) out[i] *= scale;
}

/** Writes q's (β, m, ν, W⁻¹) and weight parameters from λ into a model; m is shifted by `offset`. */
function load(model: BgmmModel, lambda: Float64Array, prior: Prior, offset: Float64Array | null): void {
  const { k, d, full } = model;
  const dd = full ? d * d : d;
  const p = 1 + d + dd;
  const { beta0, nu0, w0inv, alpha0 } = prior;
  const mc = new Float64Array(d);
  let rest = 0;
  for (let j = k - 1; j >= 0; j--) {
    const o = j * p;
    const nj = Math.max(0, lambda[o]);
    const beta = beta0 + nj;
    model.beta[j] = beta;
    model.nu[j] = nu0 + nj;
    // Centered coordinates: m₀ = 0, so βm = s and W⁻¹ = W₀⁻¹ + S − βmmᵀ.
    for (let a = 0; a < d; a++) {
      mc[a] = lambda[o + 1 + a] / beta;
      model.m[j * d + a] = mc[a] + (offset ? offset[a] : 0);
    }
    for (let a = 0; a < dd; a++) {
      const r = full ? Math.floor(a / d) : a;
      const c = full ? a % d : a;
      model.winv[j * dd + a] = w0inv[a] + lambda[o + 1 + d + a] - beta * mc[r] * mc[c];
    }
    if (model.dp) {
      model.g1[j] = 1 + nj;
      model.g2[j] = alpha0 + rest;
      rest += nj;
    } else model.alpha[j] = alpha0 + nj;
  }
}

/** Fisher–Yates shuffle of 0..n−1 into `perm` from a key. */
function shuffle(perm: Int32Array, key: Key): void {
  const n = perm.length;
  const u = uniform(key, [n]).dataSync();
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(u[i] * (i + 1)));
    const tmp = perm[i];
    perm[i] = perm[j];
    perm[j] = tmp;
  }
}
