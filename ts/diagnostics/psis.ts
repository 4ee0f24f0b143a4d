/**
 * Pareto-smoothed importance sampling (PSIS): Vehtari, Simpson, Gelman, Yao & Gabry, "Pareto
 * Smoothed Importance Sampling" (JMLR 2024, arXiv 1507.02646). The largest importance ratios are
 * replaced by the expected order statistics of a generalized Pareto distribution (GPD) fitted to
 * them; the fitted shape k̂ diagnoses the reliability of the importance-sampling estimate (and, for
 * variational inference, of q as an approximation of p: Yao et al. 2018).
 *
 * These are diagnostics over a few thousand numbers: plain loops over Float64Arrays, no kernels.
 */
import { ShapeError, ValueError, fmtShape } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';

/**
 * A 1-D array of numbers: a Float64Array, a plain array, or a 1-D tensor. Shape [S].
 * @example const r: DrawVector = tensor([0.1, -2.3, 0.7]);
 */
export type DrawVector = Tensor | Float64Array | Float32Array | readonly number[];

/**
 * A matrix given as a 2-D tensor or as an array of equal-length rows. Shape [S, N], draws first.
 * @example const ll: DrawMatrix = [Float64Array.of(-1.2, -0.8), Float64Array.of(-1.1, -0.9)];
 */
export type DrawMatrix = Tensor | readonly ArrayLike<number>[];

/** Options of {@link psis} and {@link psisBatch}. */
export interface PsisOptions {
  /**
   * Relative efficiency r_eff = ESS / S of the draws (1 for independent draws, as from a
   * variational q; below 1 for autocorrelated MCMC draws). It enlarges the tail to 3√(S / r_eff)
   * and scales the reported ESS.
   */
  reff?: number;
}

/** The result of {@link psis} for one vector of log ratios. */
export interface PsisResult {
  /** Smoothed, truncated, normalized log weights, log w̃_s with Σ_s w̃_s = 1; length S. */
  logWeights: Float64Array;
  /**
   * Estimated GPD shape k̂ of the upper tail of the ratios, after the prior adjustment.
   * `Infinity` when the tail has 4 or fewer ratios (S < 25, or heavy ties), as ArviZ reports it.
   */
  khat: number;
  /** PSIS effective sample size r_eff / Σ_s w̃_s² (Vehtari et al. 2024, eq. 7 with r_eff). */
  ess: number;
  /** Number of ratios in the fitted tail (M, fewer when ratios tie at the cutoff). */
  tailLength: number;
}

/** The result of {@link psisBatch}: one {@link PsisResult} per column, packed. */
export interface PsisBatchResult {
  /** Smoothed normalized log weights, row-major with `shape`; each column sums (in exp) to 1. */
  logWeights: Float64Array;
  /** `[S, N]`: draws by columns. */
  shape: [number, number];
  /** k̂ of each column; length N. */
  khat: Float64Array;
  /** PSIS ESS of each column; length N. */
  ess: Float64Array;
}

/** Generalized Pareto fit: the shape k (after the prior adjustment) and scale σ. */
export interface GpdFit {
  /** Shape with the weakly informative prior: (M k̂ + 10 · 0.5) / (M + 10). */
  k: number;
  /** Shape before the prior adjustment (the Zhang & Stephens posterior-mean estimate). */
  kRaw: number;
  /** Scale σ = −k̂_raw / θ̂ (from the unadjusted shape, as in the reference implementations). */
  sigma: number;
}

/** log of the smallest normal double: the cutoff is never placed below it (exp would underflow). */
const LOG_TINY = Math.log(2.2250738585072014e-308);
const EPS = 2.220446049250313e-16;
/** Pseudo-observations of the prior pulling k̂ toward 0.5. */
const PRIOR_K_WEIGHT = 10;

/** @internal a copy of a vector as a Float64Array, with its name for errors. */
export function toFloat64(x: DrawVector, op: string, arg: string): Float64Array {
  if (isTensor(x)) {
    if (x.rank !== 1) throw new ShapeError(`${op}: ${arg} must be 1-D, got shape ${fmtShape(x.shape)}`);
    return Float64Array.from(x.dataSync());
  }
  return Float64Array.from(x);
}

/** @internal a matrix as a row-major Float64Array with its shape. */
export function toMatrix(x: DrawMatrix, op: string, arg: string): { data: Float64Array; rows: number; cols: number } {
  if (isTensor(x)) {
    if (x.rank !== 2) throw new ShapeError(`${op}: ${arg} must be 2-D [S, N], got shape ${fmtShape(x.shape)}`);
    return { data: Float64Array.from(x.dataSync()), rows: x.shape[0], cols: x.shape[1] };
  }
  const rows = x.length;
  const cols = rows > 0 ? x[0].length : 0;
  const data = new Float64Array(rows * cols);
  for (let s = 0; s < rows; s++) {
    const r = x[s];
    if (r.length !== cols) throw new ShapeError(`${op}: ${arg} row ${s} has ${r.length} entries, row 0 has ${cols}`);
    for (let j = 0; j < cols; j++) data[s * cols + j] = r[j];
  }
  return { data, rows, cols };
}

function isTensor(x: unknown): x is Tensor {
  return typeof x === 'object' && x !== null && 'dataSync' in x && 'shape' in x;
}

/** @internal log Σ exp(x_i), stable; −∞ for an empty or all −∞ input. */
export function logSumExp(x: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] > m) m = x[i];
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.exp(x[i] - m);
  return m + Math.log(s);
}

/** Mean of log1p(−θ x_i), summed with Neumaier compensation (the tail can hold thousands of terms). */
function meanLog1p(theta: number, x: Float64Array): number {
  let s = 0;
  let c = 0;
  for (let i = 0; i < x.length; i++) {
    const v = Math.log1p(-theta * x[i]);
    const t = s + v;
    c += Math.abs(s) >= Math.abs(v) ? s - t + v : v - t + s;
    s = t;
  }
  return (s + c) / x.length;
}

/**
 * Fits a generalized Pareto distribution GPD(k, σ) to positive exceedances sorted ascending, with
 * the empirical-Bayes estimator of Zhang & Stephens (2009) as used by PSIS: a grid of
 * m = 30 + ⌊√M⌋ values θ_j = 1/x_(M) + (1 − √(m/(j − ½))) / (3 x_(⌊M/4+½⌋)), j = 1..m, each with
 * profile log-likelihood ℓ(θ_j) = M (log(−θ_j / k_j) − k_j − 1), k_j = mean_i log(1 − θ_j x_i);
 * θ̂ = Σ_j θ_j w_j with w_j ∝ exp ℓ(θ_j) (weights below
 * 10 ε dropped); k̂ = mean log(1 − θ̂ x), σ = −k̂ / θ̂. The shape is then shrunk toward 0.5 by a
 * weakly informative prior worth 10 observations: k = (M k̂ + 5) / (M + 10).
 *
 * Shapes: `x` has M ≥ 1 entries (M ≥ 5 in PSIS); the largest must be positive.
 * @example
 * gpdFit(Float64Array.from([0.1, 0.3, 0.4, 0.9, 1.7, 4.2])) // { k, kRaw, sigma }
 */
export function gpdFit(x: Float64Array): GpdFit {
  const n = x.length;
  if (n === 0) throw new ValueError('gpdFit: no exceedances to fit');
  const m = 30 + Math.floor(Math.sqrt(n));
  const xq = x[Math.max(0, Math.floor(n / 4 + 0.5) - 1)];
  const xmax = x[n - 1];
  const theta = new Float64Array(m);
  const ll = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    theta[j] = 1 / xmax + (1 - Math.sqrt(m / (j + 0.5))) / (3 * xq);
    const kj = meanLog1p(theta[j], x);
    ll[j] = n * (Math.log(-theta[j] / kj) - kj - 1);
  }
  // w_j = 1 / Σ_i exp(ℓ_i − ℓ_j): the normalized likelihood weights without overflow.
  let wsum = 0;
  const w = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    let s = 0;
    for (let i = 0; i < m; i++) s += Math.exp(ll[i] - ll[j]);
    w[j] = 1 / s;
    if (!(w[j] >= 10 * EPS)) w[j] = 0;
    wsum += w[j];
  }
  let thetaHat = 0;
  for (let j = 0; j < m; j++) thetaHat += theta[j] * (w[j] / wsum);
  const kRaw = meanLog1p(thetaHat, x);
  const sigma = -kRaw / thetaHat;
  const k = (n * kRaw + PRIOR_K_WEIGHT * 0.5) / (n + PRIOR_K_WEIGHT);
  return { k, kRaw, sigma };
}

/** Quantile of GPD(k, σ) at probability p ∈ (0, 1): σ ((1 − p)^(−k) − 1) / k, or −σ log(1 − p) at k = 0. */
function gpdQuantile(p: number, k: number, sigma: number): number {
  if (Math.abs(k) < EPS) return -sigma * Math.log1p(-p);
  return (sigma * Math.expm1(-k * Math.log1p(-p))) / k;
}

/** The tail size M = ⌈min(S / 5, 3 √(S / r_eff))⌉. */
function tailSize(S: number, reff: number): number {
  return Math.ceil(Math.min(S / 5, 3 * Math.sqrt(S / reff)));
}

/** Smooths `x` (log ratios, modified in place into normalized log weights); returns k̂ and M. */
function smoothInPlace(x: Float64Array, reff: number, op: string): { khat: number; tailLength: number; ess: number } {
  const S = x.length;
  if (S === 0) throw new ValueError(`${op}: no log ratios`);
  let max = -Infinity;
  for (let i = 0; i < S; i++) {
    const v = x[i];
    if (Number.isNaN(v) || v === Infinity) throw new ValueError(`${op}: log ratio ${i} is ${v}; log ratios must be finite or −Infinity`);
    if (v > max) max = v;
  }
  if (max === -Infinity) throw new ValueError(`${op}: every log ratio is −Infinity (all weights zero)`);
  // Work relative to the largest ratio: the raw maximum becomes 0, the truncation level.
  for (let i = 0; i < S; i++) x[i] -= max;
  const M = tailSize(S, reff);
  let khat = Infinity;
  let tailLength = 0;
  if (S > M) {
    const order = new Uint32Array(S);
    for (let i = 0; i < S; i++) order[i] = i;
    order.sort((a, b) => x[a] - x[b]);
    const cutoff = Math.max(x[order[S - M - 1]], LOG_TINY);
    // The tail is every ratio strictly above the (M+1)-th largest (ties at the cutoff stay in the body).
    let start = S - M;
    while (start > 0 && x[order[start - 1]] > cutoff) start--;
    while (start < S && !(x[order[start]] > cutoff)) start++;
    tailLength = S - start;
    if (tailLength > 4) {
      const expCut = Math.exp(cutoff);
      const ex = new Float64Array(tailLength);
      for (let i = 0; i < tailLength; i++) ex[i] = Math.exp(x[order[start + i]]) - expCut;
      const fit = gpdFit(ex);
      khat = fit.k;
      if (Number.isFinite(fit.k) && fit.sigma > 0) {
        // Expected order statistics of the fitted tail, truncated at the raw maximum (0 here).
        for (let i = 0; i < tailLength; i++) {
          const q = gpdQuantile((i + 0.5) / tailLength, fit.k, fit.sigma);
          x[order[start + i]] = Math.min(Math.log(q + expCut), 0);
        }
      }
    }
  }
  const lse = logSumExp(x);
  let sq = 0;
  for (let i = 0; i < S; i++) {
    x[i] -= lse;
    const w = Math.exp(x[i]);
    sq += w * w;
  }
  return { khat, tailLength, ess: reff / sq };
}

function checkReff(reff: number, op: string): number {
  if (!(reff > 0) || !Number.isFinite(reff)) throw new ValueError(`${op}: reff must be a positive finite number, got ${reff}`);
  return reff;
}

/**
 * Pareto-smoothed importance sampling of one set of log importance ratios
 * r_s = log p(θ_s) − log q(θ_s), θ_s ~ q (unnormalized densities are fine).
 *
 * Fits a GPD to the M = ⌈min(S/5, 3√(S/r_eff))⌉ largest ratios exp(r_s) − exp(r_cut) above the
 * (M+1)-th largest with {@link gpdFit} (Zhang–Stephens + the k̂ prior), replaces the i-th smallest
 * of them by the GPD quantile at (i − ½)/M (plus exp(r_cut)), truncates at the raw maximum ratio,
 * and normalizes: w̃_s = exp(logWeights_s), Σ w̃_s = 1. ESS = r_eff / Σ w̃_s².
 * Matches `arviz.psislw` (k̂ to about 1e-12, see the tests).
 *
 * Read k̂ with {@link khatThreshold} / {@link khatCategory}: below 0.5 the ratios have finite
 * variance; up to min(1 − 1/log10 S, 0.7) PSIS is reliable; above 0.7 it is not.
 *
 * Shapes: `logRatios` [S] (S ≥ 1; no NaN or +∞; −∞ allowed, zero weight). Output weights [S].
 * @example
 * const { logWeights, khat, ess } = psis(logP.map((lp, s) => lp - logQ[s]));
 * if (khat > khatThreshold(logWeights.length)) console.warn(describeKhat(khat, logWeights.length));
 */
export function psis(logRatios: DrawVector, opts: PsisOptions = {}): PsisResult {
  const reff = checkReff(opts.reff ?? 1, 'psis');
  const x = toFloat64(logRatios, 'psis', 'logRatios');
  const r = smoothInPlace(x, reff, 'psis');
  return { logWeights: x, khat: r.khat, ess: r.ess, tailLength: r.tailLength };
}

/**
 * {@link psis} applied to each column of an [S, N] matrix of log ratios (draws along the leading
 * axis, as in a PSIS-LOO matrix of −log-likelihoods), each column smoothed separately.
 *
 * Shapes: `logRatios` [S, N] (a 2-D tensor or S rows of N); output `logWeights` [S, N]
 * row-major, `khat` and `ess` [N].
 * @example
 * const { khat } = psisBatch(negLogLik); // negLogLik[s][i] = −log p(y_i | θ_s)
 */
export function psisBatch(logRatios: DrawMatrix, opts: PsisOptions = {}): PsisBatchResult {
  const reff = checkReff(opts.reff ?? 1, 'psisBatch');
  const { data, rows: S, cols: N } = toMatrix(logRatios, 'psisBatch', 'logRatios');
  const khat = new Float64Array(N);
  const ess = new Float64Array(N);
  const col = new Float64Array(S);
  for (let j = 0; j < N; j++) {
    for (let s = 0; s < S; s++) col[s] = data[s * N + j];
    const r = smoothInPlace(col, reff, `psisBatch (column ${j})`);
    khat[j] = r.khat;
    ess[j] = r.ess;
    for (let s = 0; s < S; s++) data[s * N + j] = col[s];
  }
  return { logWeights: data, shape: [S, N], khat, ess };
}

/**
 * The sample-size dependent k̂ threshold of Vehtari et al. (2024, §3.2.4): min(1 − 1/log10 S, 0.7).
 * At or below it the PSIS estimate is reliable with S draws (its pre-asymptotic error is small);
 * it reaches 0.7 at S ≈ 2200 and is ≤ 0.5 for S ≤ 100 (≤ 0 for S ≤ 10). The older fixed scale
 * (Vehtari, Gelman & Gabry 2017: < 0.5 good, 0.5–0.7 ok, > 0.7 bad) is the large-S limit.
 *
 * Shapes: scalar in, scalar out.
 * @example
 * khatThreshold(100)  // 0.5
 * khatThreshold(4000) // 0.7
 */
export function khatThreshold(S: number): number {
  if (!(S >= 1)) throw new ValueError(`khatThreshold: S must be at least 1, got ${S}`);
  return Math.min(1 - 1 / Math.log10(S), 0.7);
}

/**
 * The number of draws for which a given k̂ < 1 is at the threshold, S = 10^(1/(1 − k̂))
 * (inverting 1 − 1/log10 S); `Infinity` for k̂ ≥ 1. Above 0.7 more draws do not help in practice.
 *
 * Shapes: scalar in, scalar out.
 * @example
 * minDrawsForKhat(0.6) // ≈ 316
 */
export function minDrawsForKhat(khat: number): number {
  return khat < 1 ? Math.pow(10, 1 / (1 - khat)) : Infinity;
}

/**
 * Verdict on a k̂ from S draws:
 * - `'good'`: k̂ < 0.5 (and within the threshold): the ratios have finite variance.
 * - `'ok'`: 0.5 ≤ k̂ ≤ {@link khatThreshold}(S): infinite variance, but PSIS is reliable.
 * - `'too-few-draws'`: threshold(S) < k̂ ≤ 0.7: reliable only with more draws ({@link minDrawsForKhat}).
 * - `'bad'`: 0.7 < k̂ < 1: unreliable; the approximation misses part of the target's mass.
 * - `'very-bad'`: k̂ ≥ 1: the ratios have no finite mean.
 * - `'not-estimated'`: k̂ is not finite-and-fitted (too few tail draws) or NaN.
 *
 * Shapes: scalars in, a string out.
 * @example
 * khatCategory(0.62, 4000) // 'ok'
 * khatCategory(0.62, 200)  // 'too-few-draws'
 */
export type KhatCategory = 'good' | 'ok' | 'too-few-draws' | 'bad' | 'very-bad' | 'not-estimated';

/** See {@link KhatCategory} for the cut points. @example khatCategory(0.83, 4000) // 'bad' */
export function khatCategory(khat: number, S: number): KhatCategory {
  if (Number.isNaN(khat) || khat === Infinity) return 'not-estimated';
  if (khat >= 1) return 'very-bad';
  if (khat > 0.7) return 'bad';
  if (khat > khatThreshold(S)) return 'too-few-draws';
  return khat < 0.5 ? 'good' : 'ok';
}
