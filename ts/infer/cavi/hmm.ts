/**
 * Variational Bayesian hidden Markov model (Beal 2003, ch. 3; MacKay 1997): the structured
 * mean-field family q(π) q(A) q(θ) Π_s q(z^{(s)}_{1:T_s}) for
 *
 *   π ~ Dir(α_π), A_j· ~ Dir(α_A), z_1 ~ π, z_t | z_{t−1} ~ A_{z_{t−1}·}, x_t | z_t ~ p(· | θ_{z_t}),
 *
 * with categorical emissions B_k· ~ Dir(α_B) or Gaussian ones, μ_k | Λ_k ~ N(m₀, (β₀Λ_k)⁻¹) and
 * Λ_k ~ Wishart(W₀, ν₀) (full) or λ_kd ~ Gamma(ν₀/2, W₀⁻¹_d/2) (diagonal).
 *
 * One CAVI sweep: (1) q(π, A, θ) from the expected counts of q(z) — α_π + Σ_s γ^{(s)}_1,
 * α_A + Σ_{s,t} ξ^{(s)}_t, and the γ-weighted emission statistics; (2) each q(z^{(s)}) is the exact
 * posterior of an HMM whose parameters are the sub-normalized π̃_k = exp E[log π_k],
 * Ã_jk = exp E[log A_jk], b̃_k(x) = exp E[log p(x | θ_k)], computed by scaled forward–backward
 * (Rabiner 1989, §V.A) in O(T K²). Its normalizer Z_s gives the ELBO in closed form (Beal eq. 3.63):
 *
 *   ELBO = Σ_s log Z_s − KL(q(π) ‖ p(π)) − Σ_j KL(q(A_j·) ‖ p(A_j·)) − KL(q(θ) ‖ p(θ)),
 *
 * all constants included; each step maximizes it exactly in one block, so it never decreases.
 * Defaults follow hmmlearn's Variational*HMM: α_π = α_A = 1/K, α_B = 1/M, β₀ = 1, m₀ = the data
 * mean, ν₀ = D, W₀⁻¹ = 10⁻³ I. Works on `Float64Array`s directly (see conjugate.ts).
 */
import { ShapeError, ValueError } from '../../core/errors.js';
import { type Key, foldIn, key as makeKey } from '../../random/key.js';
import { uniform } from '../../random/samplers.js';
import { type CaviFactor, type CaviOptions, type CaviTrace, type ConjugateModel, runCavi } from './conjugate.js';
import {
  CategoricalEmission,
  type EmissionFactor,
  GaussianEmission,
  type GaussianPrior,
  type HmmData,
  dirichletElog,
  klDirichlet,
} from './hmm-emissions.js';
import { cholesky, cholLogdet } from './dense.js';
import { kmeansPlusPlus } from './kmeans.js';
import { type FbWork, fbWork, forwardBackwardCore } from './forward-backward.js';

/** One observed sequence: symbols (categorical), a flat T × D `Float64Array` or T rows (Gaussian). */
export type HmmSequence = ArrayLike<number> | readonly (readonly number[])[];

/** Options of `vbHmm`. */
export interface VbHmmOptions extends CaviOptions {
  /** Number of hidden states K. */
  k: number;
  /** Emission family. */
  emission: 'categorical' | 'gaussian';
  /** Gaussian emissions: 'diag' (Normal–Gamma per dimension, default) or 'full' (Normal–Wishart). */
  covariance?: 'diag' | 'full';
  /** Categorical: alphabet size M (default 1 + the largest symbol seen). */
  nSymbols?: number;
  /** Gaussian, flat sequences: the dimension D (default 1). */
  d?: number;
  /** α_π, the Dirichlet concentration of the initial-state distribution (default 1/K). */
  startConcentration?: number;
  /** α_A, of each transition row (default 1/K). */
  transConcentration?: number;
  /** α_B, of each categorical emission row (default 1/M). */
  emissionConcentration?: number;
  /** β₀ (default 1). */
  meanPrecision?: number;
  /** m₀ (default the mean of all observations). */
  meanPrior?: ArrayLike<number>;
  /** ν₀ > D − 1 (default D). */
  degreesOfFreedom?: number;
  /** W₀⁻¹: D × D (full) or D (diag) (default 10⁻³ I, as hmmlearn). */
  covariancePrior?: ArrayLike<number>;
  /**
   * 'kmeans' (Gaussian default): q(z) starts at k-means++ + Lloyd labels of the pooled observations.
   * 'random' (categorical default): emission rows from Dir(1) draws worth N/K counts each
   * (Gaussian: k-means++ seeding without Lloyd iterations), transitions uniform.
   */
  init?: 'kmeans' | 'random';
  /** Key for the initialization (default key(0)); restart r uses foldIn(key, r). */
  key?: Key;
  /** Restarts, keeping the best final ELBO (default 1). */
  nInit?: number;
}

/** A fitted variational HMM. Point parameters are posterior means. */
export interface VbHmmResult {
  /** Number of hidden states K. */
  k: number;
  /** The emission family. */
  emission: 'categorical' | 'gaussian';
  /** Gaussian emissions' covariance family; null for categorical. */
  covariance: 'diag' | 'full' | null;
  /** D (Gaussian) or 1. */
  d: number;
  /** M (categorical) or 0. */
  nSymbols: number;
  /** E_q[π], K. */
  startProb: Float64Array;
  /** E_q[A], K × K (row j: from state j). */
  transMat: Float64Array;
  /** Categorical: E_q[B], K × M; null otherwise. */
  emissionProb: Float64Array | null;
  /** Gaussian: m_k, K × D; null otherwise. */
  means: Float64Array | null;
  /** Gaussian: E_q[Λ_k]⁻¹ = W_k⁻¹/ν_k, K × D × D (full) or K × D (diag), as hmmlearn's covars_. */
  covariances: Float64Array | null;
  /** The variational posteriors: Dirichlet parameters, and (β, m, W⁻¹, ν) of the emissions. */
  posterior: {
    /** Dirichlet parameters of q(π), K. */
    start: Float64Array;
    /** Dirichlet parameters of each row of q(A), K × K. */
    trans: Float64Array;
    /** Categorical: Dirichlet parameters of q(B), K × M; null otherwise. */
    emission: Float64Array | null;
    /** Gaussian: β_k, K; null otherwise. */
    beta: Float64Array | null;
    /** Gaussian: ν_k, K; null otherwise. */
    nu: Float64Array | null;
    /** Gaussian: W_k⁻¹, K × D × D (full) or K × D (diag); null otherwise. */
    winv: Float64Array | null;
  };
  /** q(z_t = k) per sequence, T_s × K. */
  stateMarginals: Float64Array[];
  /** The final ELBO (of the best restart). */
  elbo: number;
  /** The best restart's sweeps: ELBO trace and convergence. */
  trace: CaviTrace;
  /** Final ELBO of each restart. */
  restartElbos: number[];
}

/** @internal The VB-HMM as a conjugate model: blocks q(π, A, θ) and q(z). */
class VbHmmModel implements ConjugateModel {
  readonly k: number;
  readonly startAlpha: Float64Array;
  readonly transAlpha: Float64Array;
  /** N × K marginals γ and the expected counts Σγ_1, Σξ. */
  readonly gamma: Float64Array;
  readonly startStat: Float64Array;
  readonly transStat: Float64Array;
  readonly factors: readonly CaviFactor[];
  private readonly logB: Float64Array;
  private readonly work: FbWork;
  private logZ = 0;

  constructor(
    readonly data: HmmData,
    k: number,
    readonly emission: EmissionFactor,
    readonly alphaPi: number,
    readonly alphaA: number,
  ) {
    this.k = k;
    this.startAlpha = new Float64Array(k);
    this.transAlpha = new Float64Array(k * k);
    this.gamma = new Float64Array(data.n * k);
    this.startStat = new Float64Array(k);
    this.transStat = new Float64Array(k * k);
    this.logB = new Float64Array(data.n * k);
    let maxT = 0;
    for (let s = 0; s + 1 < data.starts.length; s++) maxT = Math.max(maxT, data.starts[s + 1] - data.starts[s]);
    this.work = fbWork(maxT, k);
    this.factors = [
      { name: 'q(π, A, θ)', update: () => this.updateGlobal() },
      { name: 'q(z_{1:T})', update: () => this.updateLocal() },
    ];
  }

  /** Sets γ, Σγ_1, Σξ from hard labels (ξ: counts of consecutive label pairs). */
  setHardLabels(labels: Int32Array): void {
    const { k, gamma, startStat, transStat, data } = this;
    gamma.fill(0);
    startStat.fill(0);
    transStat.fill(0);
    for (let i = 0; i < data.n; i++) gamma[i * k + labels[i]] = 1;
    for (let s = 0; s + 1 < data.starts.length; s++) {
      const a = data.starts[s];
      startStat[labels[a]] += 1;
      for (let t = a + 1; t < data.starts[s + 1]; t++) transStat[labels[t - 1] * k + labels[t]] += 1;
    }
  }

  updateGlobal(): void {
    const { k } = this;
    for (let j = 0; j < k; j++) this.startAlpha[j] = this.alphaPi + this.startStat[j];
    for (let j = 0; j < k * k; j++) this.transAlpha[j] = this.alphaA + this.transStat[j];
    this.emission.update(this.gamma);
  }

  /** Forward–backward on every sequence under π̃, Ã, b̃; accumulates Σγ_1, Σξ and Σ log Z. */
  updateLocal(): void {
    const { k, data, work } = this;
    const pi = new Float64Array(k);
    const a = new Float64Array(k * k);
    dirichletElog(this.startAlpha, 0, k, pi);
    for (let j = 0; j < k; j++) dirichletElog(this.transAlpha, j * k, k, a);
    for (let j = 0; j < k; j++) pi[j] = Math.exp(pi[j]);
    for (let j = 0; j < k * k; j++) a[j] = Math.exp(a[j]);
    this.emission.expectedLogLik(this.logB);
    this.startStat.fill(0);
    this.transStat.fill(0);
    let logZ = 0;
    for (let s = 0; s + 1 < data.starts.length; s++) {
      const off = data.starts[s];
      logZ += forwardBackwardCore(pi, a, this.logB, off, data.starts[s + 1] - off, k, this.gamma, this.transStat, work, `vbHmm: sequence ${s}`);
      for (let j = 0; j < k; j++) this.startStat[j] += this.gamma[off * k + j];
    }
    this.logZ = logZ;
  }

  elbo(): number {
    const { k } = this;
    let kl = klDirichlet(this.startAlpha, 0, k, this.alphaPi);
    for (let j = 0; j < k; j++) kl += klDirichlet(this.transAlpha, j * k, k, this.alphaA);
    return this.logZ - kl - this.emission.kl();
  }
}

/** Validates and concatenates sequences; names the sequence and position of bad entries. */
/** @internal Shared with hmm-predict.ts. */
export function toData(what: string, seqs: readonly HmmSequence[], emission: 'categorical' | 'gaussian', dOpt: number | undefined, nSymbols: number | undefined): HmmData & { m: number } {
  if (!Array.isArray(seqs) || seqs.length === 0) throw new ValueError(`${what}: no sequences (pass an array of sequences)`);
  const starts = new Int32Array(seqs.length + 1);
  let d = emission === 'gaussian' ? (dOpt ?? 0) : 1;
  const rows: number[] = [];
  for (let s = 0; s < seqs.length; s++) {
    const q = seqs[s];
    if (q.length === 0) throw new ValueError(`${what}: sequence ${s} is empty`);
    let T = q.length;
    if (emission === 'gaussian') {
      const first = q[0] as unknown;
      if (Array.isArray(first)) {
        if (d === 0) d = first.length;
        if (dOpt !== undefined && dOpt !== first.length) throw new ShapeError(`${what}: sequence ${s} has rows of ${first.length} entries, d = ${dOpt}`);
      } else {
        if (d === 0) d = 1;
        if (q.length % d !== 0) throw new ShapeError(`${what}: sequence ${s} has ${q.length} entries, not a multiple of d = ${d}`);
        T = q.length / d;
      }
    }
    starts[s + 1] = starts[s] + T;
    rows.push(T);
  }
  const n = starts[seqs.length];
  if (emission === 'categorical') {
    const sym = new Int32Array(n);
    let maxSym = -1;
    for (let s = 0; s < seqs.length; s++) {
      const q = seqs[s] as ArrayLike<number>;
      for (let t = 0; t < q.length; t++) {
        const v = q[t];
        if (!Number.isInteger(v) || v < 0 || (nSymbols !== undefined && v >= nSymbols))
          throw new ValueError(`${what}: sequence ${s}, position ${t}: symbol ${v} is not an integer in [0, ${nSymbols ?? '∞'})`);
        sym[starts[s] + t] = v;
        if (v > maxSym) maxSym = v;
      }
    }
    return { n, d: 1, x: null, sym, starts, m: nSymbols ?? maxSym + 1 };
  }
  const x = new Float64Array(n * d);
  for (let s = 0; s < seqs.length; s++) {
    const q = seqs[s];
    for (let t = 0; t < rows[s]; t++)
      for (let e = 0; e < d; e++) {
        const row = q[t] as unknown;
        let v: number;
        if (Array.isArray(row)) {
          if (row.length !== d) throw new ShapeError(`${what}: sequence ${s}, row ${t} has ${row.length} entries, expected ${d}`);
          v = row[e] as number;
        } else v = (q as ArrayLike<number>)[t * d + e];
        if (!Number.isFinite(v)) throw new ValueError(`${what}: sequence ${s}, position ${t}, dimension ${e} is ${v}; observations must be finite (no NaN or Inf)`);
        x[(starts[s] + t) * d + e] = v;
      }
  }
  return { n, d, x, sym: null, starts, m: 0 };
}

function gaussianPrior(data: HmmData, full: boolean, opts: VbHmmOptions): GaussianPrior {
  const { n, d } = data;
  const x = data.x as Float64Array;
  const beta0 = opts.meanPrecision ?? 1;
  const nu0 = opts.degreesOfFreedom ?? d;
  if (!(beta0 > 0)) throw new ValueError(`vbHmm: meanPrecision must be positive, got ${beta0}`);
  if (!(nu0 > d - 1)) throw new ValueError(`vbHmm: degreesOfFreedom must exceed D − 1 = ${d - 1}, got ${nu0}`);
  let m0: Float64Array;
  if (opts.meanPrior !== undefined) {
    if (opts.meanPrior.length !== d) throw new ShapeError(`vbHmm: meanPrior has ${opts.meanPrior.length} entries, the data ${d} dimensions`);
    m0 = Float64Array.from(opts.meanPrior);
  } else {
    m0 = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let e = 0; e < d; e++) m0[e] += x[i * d + e] / n;
  }
  const dd = full ? d * d : d;
  let w0inv: Float64Array;
  if (opts.covariancePrior !== undefined) {
    if (opts.covariancePrior.length !== dd) throw new ShapeError(`vbHmm: covariancePrior has ${opts.covariancePrior.length} entries, expected ${dd}`);
    w0inv = Float64Array.from(opts.covariancePrior);
  } else {
    w0inv = new Float64Array(dd);
    for (let a = 0; a < d; a++) w0inv[full ? a * d + a : a] = 1e-3;
  }
  let logdetW0inv = 0;
  if (full) logdetW0inv = cholLogdet(cholesky(w0inv, d, 'vbHmm: covariancePrior W₀⁻¹'), d);
  else
    for (let a = 0; a < d; a++) {
      if (!(w0inv[a] > 0)) throw new ValueError(`vbHmm: covariancePrior entry ${a} is ${w0inv[a]}; must be positive`);
      logdetW0inv += Math.log(w0inv[a]);
    }
  return { beta0, m0, nu0, w0inv, logdetW0inv };
}

/**
 * Fits a variational Bayesian HMM by CAVI over one or more sequences (see the file comment for the
 * model and the sweep). Returns posterior-mean parameters, the variational posteriors, the state
 * marginals and the ELBO trace (never decreasing). Errors (ValueError / ShapeError): no sequences, an
 * empty sequence, a symbol outside [0, M), a NaN or Inf observation, rows of the wrong width.
 * @example
 * const fit = vbHmm([[0, 1, 1, 2, 0], [2, 2, 1]], { k: 2, emission: 'categorical', nInit: 3 });
 * hmmPredict(fit, [[0, 1, 2]]) // Viterbi states under the posterior means
 */
export function vbHmm(sequences: readonly HmmSequence[], opts: VbHmmOptions): VbHmmResult {
  const { k, emission } = opts;
  if (emission !== 'categorical' && emission !== 'gaussian') throw new ValueError(`vbHmm: emission must be 'categorical' or 'gaussian', got ${String(emission)}`);
  if (!(Number.isInteger(k) && k >= 1)) throw new ValueError(`vbHmm: k must be a positive integer, got ${k}`);
  const nInit = opts.nInit ?? 1;
  if (!(Number.isInteger(nInit) && nInit >= 1)) throw new ValueError(`vbHmm: nInit must be a positive integer, got ${nInit}`);
  const data = toData('vbHmm', sequences, emission, opts.d, opts.nSymbols);
  const { n, d, m } = data;
  const full = emission === 'gaussian' && opts.covariance === 'full';
  const alphaPi = opts.startConcentration ?? 1 / k;
  const alphaA = opts.transConcentration ?? 1 / k;
  const alphaB = opts.emissionConcentration ?? 1 / Math.max(1, m);
  for (const [name, v] of [['startConcentration', alphaPi], ['transConcentration', alphaA], ['emissionConcentration', alphaB]] as const)
    if (!(v > 0 && v < Infinity)) throw new ValueError(`vbHmm: ${name} must be positive, got ${v}`);
  const init = opts.init ?? (emission === 'gaussian' ? 'kmeans' : 'random');
  if (emission === 'gaussian' && k > n) throw new ValueError(`vbHmm: k = ${k} states but only ${n} observations`);
  const prior = emission === 'gaussian' ? gaussianPrior(data, full, opts) : null;
  const root = opts.key ?? makeKey(0);
  const restartElbos: number[] = [];
  let best: { model: VbHmmModel; trace: CaviTrace } | null = null;
  for (let r = 0; r < nInit; r++) {
    const rk = foldIn(root, r);
    const em = prior ? new GaussianEmission(data, k, full, prior) : new CategoricalEmission(data, k, m, alphaB);
    const model = new VbHmmModel(data, k, em, alphaPi, alphaA);
    if (em instanceof GaussianEmission) {
      model.setHardLabels(kmeansPlusPlus(data.x as Float64Array, n, d, k, rk, init === 'kmeans' ? 20 : 0));
      model.updateGlobal();
    } else {
      // Random emission rows p_k ~ Dir(1) (normalized exponentials) worth N/K counts; uniform transitions.
      const u = uniform(rk, [k * m]).dataSync();
      for (let j = 0; j < k; j++) {
        let s = 0;
        for (let e = 0; e < m; e++) s += -Math.log(u[j * m + e] + 1e-300);
        for (let e = 0; e < m; e++) em.alpha[j * m + e] = alphaB + ((n / k) * -Math.log(u[j * m + e] + 1e-300)) / s;
      }
      const nSeq = data.starts.length - 1;
      model.startAlpha.fill(alphaPi + nSeq / k);
      model.transAlpha.fill(alphaA + (n - nSeq) / (k * k));
    }
    model.updateLocal();
    const trace = runCavi(model, { maxIter: opts.maxIter ?? 100, tol: opts.tol ?? 1e-8, onSweep: opts.onSweep, signal: opts.signal });
    restartElbos.push(trace.elbo);
    if (!best || trace.elbo > best.trace.elbo) best = { model, trace };
  }
  const { model, trace } = best as { model: VbHmmModel; trace: CaviTrace };
  const norm = (v: Float64Array, rows: number, cols: number): Float64Array => {
    const out = new Float64Array(v.length);
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let j = 0; j < cols; j++) s += v[i * cols + j];
      for (let j = 0; j < cols; j++) out[i * cols + j] = v[i * cols + j] / s;
    }
    return out;
  };
  const stateMarginals: Float64Array[] = [];
  for (let s = 0; s + 1 < data.starts.length; s++) stateMarginals.push(model.gamma.slice(data.starts[s] * k, data.starts[s + 1] * k));
  const em = model.emission;
  let covariances: Float64Array | null = null;
  if (em instanceof GaussianEmission) {
    const dd = full ? d * d : d;
    covariances = new Float64Array(k * dd);
    for (let j = 0; j < k; j++) for (let e = 0; e < dd; e++) covariances[j * dd + e] = em.winv[j * dd + e] / em.nu[j];
  }
  return {
    k,
    emission,
    covariance: emission === 'gaussian' ? (full ? 'full' : 'diag') : null,
    d,
    nSymbols: emission === 'categorical' ? m : 0,
    startProb: norm(model.startAlpha, 1, k),
    transMat: norm(model.transAlpha, k, k),
    emissionProb: em instanceof CategoricalEmission ? norm(em.alpha, k, m) : null,
    means: em instanceof GaussianEmission ? em.m.slice() : null,
    covariances,
    posterior: {
      start: model.startAlpha.slice(),
      trans: model.transAlpha.slice(),
      emission: em instanceof CategoricalEmission ? em.alpha.slice() : null,
      beta: em instanceof GaussianEmission ? em.beta.slice() : null,
      nu: em instanceof GaussianEmission ? em.nu.slice() : null,
      winv: em instanceof GaussianEmission ? em.winv.slice() : null,
    },
    stateMarginals,
    elbo: trace.elbo,
    trace,
    restartElbos,
  };
}
