/**
 * Bayesian Gaussian mixture by CAVI (Bishop, PRML §10.2): q(Z) q(π) Π_k q(μ_k, Λ_k) with
 * Dirichlet(α₀) weights (or a truncated Dirichlet-process stick-breaking prior, v_k ~ Beta(1, γ₀),
 * v_K = 1, Blei & Jordan 2006) and Gaussian–Wishart components μ_k | Λ_k ~ N(m₀, (β₀Λ_k)⁻¹),
 * Λ_k ~ Wishart(W₀, ν₀) — or, for diagonal covariances, Gaussian–Gamma per dimension,
 * λ_kd ~ Gamma(ν₀/2, c_d/2) with W₀⁻¹ = diag(c). Initialized from k-means++ on a key; several
 * restarts keep the best ELBO. `gmmEm` is the same mixture with point estimates (maximum likelihood).
 *
 * Defaults follow scikit-learn's BayesianGaussianMixture: α₀ = γ₀ = 1/K, β₀ = 1, m₀ = the data
 * mean, ν₀ = D, W₀⁻¹ = the data covariance (+ `regCovar` on its diagonal). The ELBO includes all
 * constants. The component q's are held as (β, m, W⁻¹, ν), an affine image of the Normal–Wishart
 * natural parameters (β, βm, W⁻¹ + βmmᵀ, ν).
 */
import { expectedGaussianLogLik, normalWishartKl, normalWishartUpdate } from './normal-wishart.js';
import { ShapeError, ValueError } from '../../core/errors.js';
import { type Key, foldIn, key as makeKey } from '../../random/key.js';
import { type CaviFactor, type CaviOptions, type CaviTrace, type ConjugateModel, runCavi } from './conjugate.js';
import { asMatrix, checkFinite, cholesky, cholLogdet, lgamma, logSumExp, psi } from './dense.js';
import { RowDesign, softmaxRows } from './design.js';
import { kmeansPlusPlus } from './kmeans.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** Options of `bayesGmm`. */
export interface BgmmOptions extends CaviOptions {
  /** Number of components K (an upper bound: unused ones get weight ≈ 0). */
  k: number;
  /** 'full' (Gaussian–Wishart, default) or 'diag' (Gaussian–Gamma per dimension). */
  covariance?: 'full' | 'diag';
  /** 'dirichlet' (default) or 'dirichlet-process' (truncated stick-breaking). */
  weightPrior?: 'dirichlet' | 'dirichlet-process';
  /** α₀ (Dirichlet) or γ₀ (stick-breaking); default 1/K. */
  weightConcentration?: number;
  /** β₀ (default 1). */
  meanPrecision?: number;
  /** m₀ (default the data mean). */
  meanPrior?: ArrayLike<number>;
  /** ν₀ > D − 1 (default D). */
  degreesOfFreedom?: number;
  /** W₀⁻¹: D × D (full) or D (diag) (default the data covariance, ddof 1). */
  covariancePrior?: ArrayLike<number>;
  /** Added to the diagonal of W₀⁻¹ (default 1e-6); a singular data covariance then still fits. */
  regCovar?: number;
  /** Key for k-means++ (default key(0)); restart i uses foldIn(key, i). */
  key?: Key;
  /** Restarts, keeping the best final ELBO (default 1). */
  nInit?: number;
  /** Columns when X is a flat Float64Array. */
  d?: number;
}

/** A fitted variational mixture. */
export interface BgmmResult {
  /** Number of components K. */
  k: number;
  /** Dimension D. */
  d: number;
  /** The covariance family fitted. */
  covariance: 'full' | 'diag';
  /** E_q[π]. */
  weights: Float64Array;
  /** m_k, K × D. */
  means: Float64Array;
  /** E_q[Λ_k]⁻¹ = W_k⁻¹/ν_k: K × D × D (full) or K × D (diag), as scikit-learn's covariances_. */
  covariances: Float64Array;
  /** Responsibilities r_nk, N × K, and argmax labels. */
  resp: Float64Array;
  /** argmax_k r_nk for each point, length N. */
  labels: Int32Array;
  /** The final ELBO (of the best restart). */
  elbo: number;
  /** The best restart's sweeps: ELBO trace and convergence. */
  trace: CaviTrace;
  /** Final ELBO of each restart. */
  restartElbos: number[];
  /** The fitted q(π, μ, Λ)'s parameters (of the best restart); `bayesGmmElbo` evaluates any such set. */
  posterior: BgmmPosterior;
}

/** @internal The prior of `bayesGmm`. */
export interface Prior {
  alpha0: number;
  beta0: number;
  m0: Float64Array;
  nu0: number;
  /** W₀⁻¹ (D × D full, D diag). */
  w0inv: Float64Array;
  logdetW0inv: number;
}

/** @internal */
export class BgmmModel implements ConjugateModel {
  readonly n: number;
  readonly d: number;
  readonly k: number;
  readonly full: boolean;
  readonly dp: boolean;
  readonly resp: Float64Array;
  readonly logRho: Float64Array;
  // q(π): Dirichlet α (K) or sticks (g1, g2) (K − 1 used).
  readonly alpha: Float64Array;
  readonly g1: Float64Array;
  readonly g2: Float64Array;
  // q(μ_k, Λ_k).
  readonly beta: Float64Array;
  readonly m: Float64Array;
  readonly nu: Float64Array;
  readonly winv: Float64Array; // K × D × D or K × D
  readonly factors: readonly CaviFactor[];
  private readonly nk: Float64Array;
  private readonly xbar: Float64Array;
  private readonly sk: Float64Array;
  private dataTerm = 0;

  constructor(
    readonly x: Float64Array,
    n: number,
    d: number,
    k: number,
    full: boolean,
    dp: boolean,
    readonly prior: Prior,
    labels: Int32Array,
    private readonly design?: RowDesign,
  ) {
    this.n = n;
    this.d = d;
    this.k = k;
    this.full = full;
    this.dp = dp;
    const dd = full ? d * d : d;
    this.resp = new Float64Array(n * k);
    for (let i = 0; i < n; i++) this.resp[i * k + labels[i]] = 1;
    this.logRho = new Float64Array(n * k);
    this.alpha = new Float64Array(k);
    this.g1 = new Float64Array(k);
    this.g2 = new Float64Array(k);
    this.beta = new Float64Array(k);
    this.m = new Float64Array(k * d);
    this.nu = new Float64Array(k);
    this.winv = new Float64Array(k * dd);
    this.nk = new Float64Array(k);
    this.xbar = new Float64Array(k * d);
    this.sk = new Float64Array(k * dd);
    this.factors = [
      { name: 'q(π, μ, Λ)', update: () => this.updateGlobal() },
      { name: 'q(Z)', update: () => this.updateLocal() },
    ];
    this.updateGlobal();
    this.updateLocal();
  }

  /** Weighted statistics N_k, x̄_k, S_k from the responsibilities, then Bishop (10.58)–(10.63). */
  private updateGlobal(): void {
    const { n, d, k, x, resp, nk, xbar, sk, full, prior } = this;
    normalWishartUpdate(x, n, d, resp, k, full, prior, { nk, xbar, sk }, this, this.design);
    const { alpha0 } = prior;
    if (this.dp) {
      let rest = 0;
      for (let j = k - 1; j >= 0; j--) {
        this.g1[j] = 1 + nk[j];
        this.g2[j] = alpha0 + rest;
        rest += nk[j];
      }
    } else for (let j = 0; j < k; j++) this.alpha[j] = alpha0 + nk[j];
  }

  /** E[ln π_k]. */
  private elogPi(): Float64Array {
    const { k } = this;
    const out = new Float64Array(k);
    if (this.dp) {
      let acc = 0;
      for (let j = 0; j < k; j++) {
        if (j === k - 1) {
          out[j] = acc;
          break;
        }
        const s = psi(this.g1[j] + this.g2[j]);
        out[j] = acc + psi(this.g1[j]) - s;
        acc += psi(this.g2[j]) - s;
      }
    } else {
      let s = 0;
      for (let j = 0; j < k; j++) s += this.alpha[j];
      const ps = psi(s);
      for (let j = 0; j < k; j++) out[j] = psi(this.alpha[j]) - ps;
    }
    return out;
  }

  /** ln ρ_nk = E ln π_k + E ln N(x_n | μ_k, Λ_k⁻¹); r = softmax; stores Σ_n logsumexp for the ELBO. */
  private updateLocal(): void {
    const { n, d, k, x, full, logRho, resp } = this;
    const elp = this.elogPi();
    expectedGaussianLogLik(x, n, d, k, full, this, logRho, elp, 'bayesGmm: W_k⁻¹', this.design);
    this.dataTerm = softmaxRows(logRho, n, k, resp);
  }

  /** KL(q(π) ‖ p(π)). */
  private klWeights(): number {
    const { k, prior } = this;
    const a0 = prior.alpha0;
    if (this.dp) {
      let s = 0;
      for (let j = 0; j < k - 1; j++) {
        const a = this.g1[j];
        const b = this.g2[j];
        const ps = psi(a + b);
        s += lgamma(a + b) - lgamma(a) - lgamma(b) - (lgamma(1 + a0) - lgamma(a0)) + (a - 1) * (psi(a) - ps) + (b - a0) * (psi(b) - ps);
      }
      return s;
    }
    let sum = 0;
    for (let j = 0; j < k; j++) sum += this.alpha[j];
    const ps = psi(sum);
    let s = lgamma(sum) - lgamma(k * a0) + k * lgamma(a0);
    for (let j = 0; j < k; j++) s += -lgamma(this.alpha[j]) + (this.alpha[j] - a0) * (psi(this.alpha[j]) - ps);
    return s;
  }

  /** Σ_k KL(q(μ_k, Λ_k) ‖ p(μ_k, Λ_k)), Normal–Wishart or Normal–Gamma, closed form. */
  private klComponents(): number {
    return normalWishartKl(this.d, this.k, this.full, this.prior, this, 'bayesGmm: W_k⁻¹');
  }


  elbo(): number {
    return this.dataTerm - this.klWeights() - this.klComponents();
  }

  weights(): Float64Array {
    const { k } = this;
    const w = new Float64Array(k);
    if (this.dp) {
      let rest = 1;
      for (let j = 0; j < k; j++) {
        const v = j === k - 1 ? 1 : this.g1[j] / (this.g1[j] + this.g2[j]);
        w[j] = rest * v;
        rest *= 1 - v;
      }
    } else {
      let s = 0;
      for (let j = 0; j < k; j++) s += this.alpha[j];
      for (let j = 0; j < k; j++) w[j] = this.alpha[j] / s;
    }
    return w;
  }
}


/** @internal Builds the prior of `bayesGmm` from the data and options. */
export function buildPrior(x: Float64Array, n: number, d: number, full: boolean, opts: BgmmOptions): Prior {
  const { k } = opts;
  const alpha0 = opts.weightConcentration ?? 1 / k;
  const beta0 = opts.meanPrecision ?? 1;
  const nu0 = opts.degreesOfFreedom ?? d;
  const reg = opts.regCovar ?? 1e-6;
  if (!(alpha0 > 0)) throw new ValueError(`bayesGmm: weightConcentration must be positive, got ${alpha0}`);
  if (!(beta0 > 0)) throw new ValueError(`bayesGmm: meanPrecision must be positive, got ${beta0}`);
  if (!(nu0 > d - 1)) throw new ValueError(`bayesGmm: degreesOfFreedom must exceed D − 1 = ${d - 1}, got ${nu0}`);
  if (!(reg >= 0)) throw new ValueError(`bayesGmm: regCovar must be >= 0, got ${reg}`);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let e = 0; e < d; e++) mean[e] += x[i * d + e] / n;
  let m0 = mean;
  if (opts.meanPrior !== undefined) {
    if (opts.meanPrior.length !== d) throw new ShapeError(`bayesGmm: meanPrior has ${opts.meanPrior.length} entries, the data ${d} columns`);
    m0 = Float64Array.from(opts.meanPrior as ArrayLike<number>);
  }
  const dd = full ? d * d : d;
  let w0inv: Float64Array;
  if (opts.covariancePrior !== undefined) {
    if (opts.covariancePrior.length !== dd) throw new ShapeError(`bayesGmm: covariancePrior has ${opts.covariancePrior.length} entries, expected ${dd}`);
    w0inv = Float64Array.from(opts.covariancePrior as ArrayLike<number>);
  } else {
    w0inv = new Float64Array(dd);
    const denom = Math.max(1, n - 1);
    for (let i = 0; i < n; i++)
      for (let a = 0; a < d; a++) {
        const da = x[i * d + a] - mean[a];
        if (full) for (let b = 0; b < d; b++) w0inv[a * d + b] += (da * (x[i * d + b] - mean[b])) / denom;
        else w0inv[a] += (da * da) / denom;
      }
  }
  for (let a = 0; a < d; a++) w0inv[full ? a * d + a : a] += reg;
  let logdetW0inv: number;
  if (full) logdetW0inv = cholLogdet(cholesky(w0inv, d, 'bayesGmm: covariance prior W₀⁻¹ (the data covariance + regCovar·I; is a column constant?)'), d);
  else {
    logdetW0inv = 0;
    for (let a = 0; a < d; a++) {
      if (!(w0inv[a] > 1e-300 + 2.220446049250313e-16 * Math.abs(m0[a]) ** 2))
        throw new ValueError(`bayesGmm: covariance prior W₀⁻¹ has variance ${w0inv[a]} in column ${a} (a constant column? set regCovar > 0)`);
      logdetW0inv += Math.log(w0inv[a]);
    }
  }
  return { alpha0, beta0, m0, nu0, w0inv, logdetW0inv };
}

/**
 * Fits a variational Bayesian Gaussian mixture by CAVI (sweep = q(π, μ, Λ) then q(Z); the ELBO
 * never decreases). X is N × D. Errors: K > N or NaN/Inf in X throw ValueError; a singular data
 * covariance is regularized by `regCovar` (default 1e-6), and with regCovar = 0 throws
 * NotPositiveDefiniteError (full) or ValueError (diag) naming the covariance prior.
 * @example const fit = bayesGmm(points, { k: 5, nInit: 3 }); fit.labels
 */
export function bayesGmm(x: Float64Array | readonly (readonly number[])[], opts: BgmmOptions): BgmmResult {
  const xm = asMatrix('bayesGmm: X', x, opts.d);
  const { n, d, data } = xm;
  const { k } = opts;
  if (!(Number.isInteger(k) && k >= 1)) throw new ValueError(`bayesGmm: k must be a positive integer, got ${k}`);
  if (k > n) throw new ValueError(`bayesGmm: k = ${k} components but only ${n} points`);
  const nInit = opts.nInit ?? 1;
  if (!(Number.isInteger(nInit) && nInit >= 1)) throw new ValueError(`bayesGmm: nInit must be a positive integer, got ${nInit}`);
  const full = (opts.covariance ?? 'full') === 'full';
  const dp = opts.weightPrior === 'dirichlet-process';
  const prior = buildPrior(data, n, d, full, opts);
  const root = opts.key ?? makeKey(0);
  let best: { model: BgmmModel; trace: CaviTrace } | null = null;
  const restartElbos: number[] = [];
  // The matrix products of k-means and of the diagonal sweeps run on the backend (design.ts).
  const design = new RowDesign(data, n, d);
  try {
    for (let r = 0; r < nInit; r++) {
      const labels = kmeansPlusPlus(data, n, d, k, foldIn(root, r), 20, design);
      const model = new BgmmModel(data, n, d, k, full, dp, prior, labels, design);
      const trace = runCavi(model, { maxIter: opts.maxIter ?? 100, tol: opts.tol ?? 1e-8, onSweep: opts.onSweep, signal: opts.signal });
      restartElbos.push(trace.elbo);
      if (!best || trace.elbo > best.trace.elbo) best = { model, trace };
    }
  } finally {
    design.dispose();
  }
  const { model, trace } = best as { model: BgmmModel; trace: CaviTrace };
  const dd = full ? d * d : d;
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
    elbo: trace.elbo,
    trace,
    restartElbos,
    posterior: posteriorOf(model),
  };
}

/** @internal A copy of a model's q(π, μ, Λ) parameters. */
export function posteriorOf(model: BgmmModel): BgmmPosterior {
  return {
    concentration: model.dp ? Float64Array.from([...model.g1, ...model.g2]) : model.alpha.slice(),
    beta: model.beta.slice(),
    m: model.m.slice(),
    nu: model.nu.slice(),
    winv: model.winv.slice(),
  };
}

/** Variational parameters of q(π, μ, Λ) for `bayesGmmElbo` (scikit-learn's fitted attributes map directly). */
export interface BgmmPosterior {
  /** Dirichlet α (K), or the sticks' Beta parameters [γ₁ (K) | γ₂ (K)] for the Dirichlet process (scikit-learn's weight_concentration_). */
  concentration: ArrayLike<number>;
  /** β_k (K): mean_precision_. */
  beta: ArrayLike<number>;
  /** m_k (K × D): means_. */
  m: ArrayLike<number>;
  /** ν_k (K): degrees_of_freedom_. */
  nu: ArrayLike<number>;
  /** W_k⁻¹ (K × D × D, or K × D for diag): scikit-learn's covariances_ times ν_k. */
  winv: ArrayLike<number>;
}

/**
 * The ELBO of `bayesGmm`'s model (the same prior, built from the data and `opts`) at the given
 * q(π, μ, Λ), after the optimal q(Z) — the quantity `bayesGmm` reports for its own fit — so that fits
 * made elsewhere compare on one scale, with all constants.
 * @example const elbo = bayesGmmElbo(x, { d: 2, k: 5, covariance: 'diag' }, sklearnPosterior)
 */
export function bayesGmmElbo(x: Float64Array | readonly (readonly number[])[], opts: BgmmOptions, q: BgmmPosterior): number {
  const { n, d, data } = asMatrix('bayesGmmElbo: X', x, opts.d);
  const { k } = opts;
  const full = (opts.covariance ?? 'full') === 'full';
  const dp = opts.weightPrior === 'dirichlet-process';
  const dd = full ? d * d : d;
  const want: [string, ArrayLike<number>, number][] = [
    ['concentration', q.concentration, dp ? 2 * k : k],
    ['beta', q.beta, k],
    ['m', q.m, k * d],
    ['nu', q.nu, k],
    ['winv', q.winv, k * dd],
  ];
  for (const [name, v, len] of want) {
    if (v.length !== len) throw new ShapeError(`bayesGmmElbo: ${name} has ${v.length} entries, expected ${len} (k = ${k}, d = ${d}, ${full ? 'full' : 'diag'})`);
    checkFinite(`bayesGmmElbo: ${name}`, v);
  }
  const model = new BgmmModel(data, n, d, k, full, dp, buildPrior(data, n, d, full, opts), new Int32Array(n));
  if (dp) {
    model.g1.set(Array.from(q.concentration).slice(0, k));
    model.g2.set(Array.from(q.concentration).slice(k));
  } else model.alpha.set(Array.from(q.concentration));
  model.beta.set(Array.from(q.beta));
  model.m.set(Array.from(q.m));
  model.nu.set(Array.from(q.nu));
  model.winv.set(Array.from(q.winv));
  model.factors[1].update();
  return model.elbo();
}

/** @internal Row-wise argmax of an n × k matrix. */
export function argmaxRows(r: Float64Array, n: number, k: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let b = 0;
    for (let j = 1; j < k; j++) if (r[i * k + j] > r[i * k + b]) b = j;
    out[i] = b;
  }
  return out;
}

/** Options of `gmmEm`. */
export interface GmmEmOptions {
  /** Number of components K. */
  k: number;
  /** 'full' (default) or 'diag'. */
  covariance?: 'full' | 'diag';
  /** Added to each covariance's diagonal (default 1e-6). */
  regCovar?: number;
  /** Key for k-means++ initialization (default key(0)); restart i uses foldIn(key, i). */
  key?: Key;
  /** Restarts, keeping the best log-likelihood (default 1). */
  nInit?: number;
  /** Maximum EM iterations (default 100). */
  maxIter?: number;
  /** Stop when the mean log-likelihood changes by less than tol (default 1e-8). */
  tol?: number;
  /** Columns when X is a flat Float64Array. */
  d?: number;
}

/** A maximum-likelihood mixture. */
export interface GmmEmResult {
  /** Mixing weights π, length K. */
  weights: Float64Array;
  /** μ_k, K × D row-major. */
  means: Float64Array;
  /** Σ_k: K × D × D (full) or K × D (diag). */
  covariances: Float64Array;
  /** argmax_k of the responsibilities, length N. */
  labels: Int32Array;
  /** Σ_n log p(x_n) after each iteration (never decreases). */
  logLikTrace: number[];
  /** The final Σ_n log p(x_n). */
  logLik: number;
  /** EM iterations run. */
  iterations: number;
}

/**
 * EM for the same mixture with point estimates: the special case of CAVI where q(π, μ, Λ) is a
 * point mass (M-step: maximum likelihood, + regCovar·I) and q(Z) the exact conditional (E-step).
 * The log-likelihood never decreases.
 * @example const ml = gmmEm(points, { k: 2, nInit: 3 }); ml.logLik
 */
export function gmmEm(x: Float64Array | readonly (readonly number[])[], opts: GmmEmOptions): GmmEmResult {
  const xm = asMatrix('gmmEm: X', x, opts.d);
  const { n, d, data } = xm;
  const { k } = opts;
  if (!(Number.isInteger(k) && k >= 1)) throw new ValueError(`gmmEm: k must be a positive integer, got ${k}`);
  if (k > n) throw new ValueError(`gmmEm: k = ${k} components but only ${n} points`);
  const full = (opts.covariance ?? 'full') === 'full';
  const reg = opts.regCovar ?? 1e-6;
  const maxIter = opts.maxIter ?? 100;
  const tol = opts.tol ?? 1e-8;
  const root = opts.key ?? makeKey(0);
  let best: GmmEmResult | null = null;
  for (let r = 0; r < (opts.nInit ?? 1); r++) {
    const labels = kmeansPlusPlus(data, n, d, k, foldIn(root, r));
    const resp = new Float64Array(n * k);
    for (let i = 0; i < n; i++) resp[i * k + labels[i]] = 1;
    const dd = full ? d * d : d;
    const w = new Float64Array(k);
    const mu = new Float64Array(k * d);
    const cov = new Float64Array(k * dd);
    const lr = new Float64Array(n * k);
    const trace: number[] = [];
    let it = 0;
    for (; it < maxIter; it++) {
      // M-step.
      w.fill(0);
      mu.fill(0);
      cov.fill(0);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < k; j++) {
          w[j] += resp[i * k + j];
          for (let e = 0; e < d; e++) mu[j * d + e] += resp[i * k + j] * data[i * d + e];
        }
      for (let j = 0; j < k; j++) for (let e = 0; e < d; e++) mu[j * d + e] /= Math.max(w[j], 1e-300);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < k; j++) {
          const rr = resp[i * k + j];
          for (let a = 0; a < d; a++) {
            const da = data[i * d + a] - mu[j * d + a];
            if (full) for (let b = 0; b < d; b++) cov[j * dd + a * d + b] += rr * da * (data[i * d + b] - mu[j * d + b]);
            else cov[j * dd + a] += rr * da * da;
          }
        }
      for (let j = 0; j < k; j++) {
        for (let e = 0; e < dd; e++) cov[j * dd + e] /= Math.max(w[j], 1e-300);
        for (let a = 0; a < d; a++) cov[j * dd + (full ? a * d + a : a)] += reg;
        w[j] /= n;
      }
      // E-step.
      for (let j = 0; j < k; j++) {
        const o = j * dd;
        if (full) {
          const l = cholesky(cov.subarray(o, o + dd), d, `gmmEm: covariance of component ${j} (singular data? set regCovar > 0)`);
          const c = Math.log(w[j]) - 0.5 * cholLogdet(l, d) - 0.5 * d * LOG_2PI;
          const y = new Float64Array(d);
          for (let i = 0; i < n; i++) {
            let q = 0;
            for (let a = 0; a < d; a++) {
              let s = data[i * d + a] - mu[j * d + a];
              for (let b = 0; b < a; b++) s -= l[a * d + b] * y[b];
              y[a] = s / l[a * d + a];
              q += y[a] * y[a];
            }
            lr[i * k + j] = c - 0.5 * q;
          }
        } else {
          let ld = 0;
          for (let a = 0; a < d; a++) {
            if (!(cov[o + a] > 1e-300)) throw new ValueError(`gmmEm: component ${j} has variance ${cov[o + a]} in column ${a} (set regCovar > 0)`);
            ld += Math.log(cov[o + a]);
          }
          const c = Math.log(w[j]) - 0.5 * ld - 0.5 * d * LOG_2PI;
          for (let i = 0; i < n; i++) {
            let q = 0;
            for (let a = 0; a < d; a++) q += (data[i * d + a] - mu[j * d + a]) ** 2 / cov[o + a];
            lr[i * k + j] = c - 0.5 * q;
          }
        }
      }
      let ll = 0;
      for (let i = 0; i < n; i++) {
        const lse = logSumExp(lr, i * k, k);
        ll += lse;
        for (let j = 0; j < k; j++) resp[i * k + j] = Math.exp(lr[i * k + j] - lse);
      }
      if (Number.isNaN(ll)) throw new ValueError(`gmmEm: the log-likelihood is NaN at iteration ${it + 1}`);
      trace.push(ll);
      if (trace.length > 1 && Math.abs(ll - trace[trace.length - 2]) / n < tol) {
        it++;
        break;
      }
    }
    const res: GmmEmResult = { weights: w, means: mu, covariances: cov, labels: argmaxRows(resp, n, k), logLikTrace: trace, logLik: trace[trace.length - 1], iterations: it };
    if (!best || res.logLik > best.logLik) best = res;
  }
  return best as GmmEmResult;
}

/**
 * Adjusted Rand index between two labelings (Hubert & Arabie 1985); 1 for identical partitions.
 * @example adjustedRandIndex([0, 0, 1, 1], [1, 1, 0, 0]) // 1: the same partition
 */
export function adjustedRandIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new ShapeError(`adjustedRandIndex: labelings have lengths ${a.length} and ${b.length}`);
  const n = a.length;
  const table = new Map<string, number>();
  const ra = new Map<number, number>();
  const rb = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const key = `${a[i]},${b[i]}`;
    table.set(key, (table.get(key) ?? 0) + 1);
    ra.set(a[i], (ra.get(a[i]) ?? 0) + 1);
    rb.set(b[i], (rb.get(b[i]) ?? 0) + 1);
  }
  const c2 = (v: number): number => (v * (v - 1)) / 2;
  let sij = 0;
  for (const v of table.values()) sij += c2(v);
  let sa = 0;
  for (const v of ra.values()) sa += c2(v);
  let sb = 0;
  for (const v of rb.values()) sb += c2(v);
  const expected = (sa * sb) / c2(n);
  const max = (sa + sb) / 2;
  return max === expected ? 1 : (sij - expected) / (max - expected);
}
