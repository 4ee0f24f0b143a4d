/**
 * Latent Dirichlet allocation (Blei, Ng & Jordan 2003, with the Dirichlet(η) prior on topics) by
 * batch CAVI and by stochastic VI with natural gradients (Hoffman, Blei, Wang & Paisley 2013).
 *
 * q(β_k) = Dir(λ_k), q(θ_d) = Dir(γ_d), q(z_dn) = Cat(φ_dn). The local step per document
 * alternates φ_dwk ∝ exp(E[log θ_dk] + E[log β_kw]) and γ_dk = α + Σ_w n_dw φ_dwk until the mean
 * change of γ_d is below `docTol`, iterating over the document's non-zeros only; φ is never
 * stored (only its normalizer per non-zero). The global step is λ_kw = η + Σ_d n_dw φ_dwk.
 *
 * The ELBO is the closed form at the optimal φ (as scikit-learn's bound, all constants included):
 *   Σ_d Σ_w n_dw log Σ_k exp(E log θ_dk + E log β_kw)
 *   + Σ_d [Σ_k (α − γ_dk) E log θ_dk + ln Γ(γ_dk) − ln Γ(α) + ln Γ(Kα) − ln Γ(Σ_k γ_dk)]
 *   + Σ_k [Σ_w (η − λ_kw) E log β_kw + ln Γ(λ_kw) − ln Γ(η) + ln Γ(Vη) − ln Γ(Σ_w λ_kw)].
 * Perplexity is exp(−ELBO / number of tokens).
 *
 * Layout: λ and E[log β] are stored terms × topics (V × K, row-major) so that one term's K values
 * are contiguous in the per-non-zero inner loop. Memory: O(V·K + D·K + non-zeros). Plain
 * Float64Array loops, not tensors: the work is a sparse gather per non-zero.
 */
import { ValueError } from '../../core/errors.js';
import { type DocTermMatrix, checkDocTerm } from '../../data/docterm.js';
import { type Key, foldIn, key as makeKey } from '../../random/key.js';
import { gamma as sampleGamma, uniform } from '../../random/samplers.js';
import { robbinsMonro } from '../../optim/schedules.js';
import { type CaviFactor, type CaviOptions, type CaviTrace, type ConjugateModel, naturalGradientStep, runCavi } from './conjugate.js';
import { lgamma, psi } from './dense.js';

/** Model and local-step options shared by `ldaCavi` and `ldaSvi`. */
export interface LdaOptions {
  /** Number of topics K. */
  k: number;
  /** Symmetric Dirichlet prior on document–topic proportions (default 1/K, as scikit-learn). */
  alpha?: number;
  /** Symmetric Dirichlet prior on topic–term distributions (default 1/K). */
  eta?: number;
  /** Initializes λ ~ Gamma(100, 1/100) (default key(0)). */
  key?: Key;
  /** Maximum local iterations per document (default 100). */
  maxDocIter?: number;
  /** Local convergence: mean |Δγ_dk| below this (default 1e-3). */
  docTol?: number;
}

/** A fitted LDA. */
export interface LdaFit {
  readonly k: number;
  readonly nTerms: number;
  readonly alpha: number;
  readonly eta: number;
  /** q(β) = Dir(λ), terms × topics (V × K, row-major). */
  readonly lambda: Float64Array;
  readonly maxDocIter: number;
  readonly docTol: number;
}

/** What `ldaCavi` returns. */
export interface LdaCaviResult extends LdaFit {
  /** q(θ_d) = Dir(γ_d), documents × topics (row-major). Empty documents get γ_d = α. */
  gamma: Float64Array;
  trace: CaviTrace;
  /** exp(−ELBO / tokens) of the training documents at the end. */
  perplexity: number;
}

/** Options of `ldaSvi`. */
export interface LdaSviOptions extends LdaOptions {
  /** Passes over the documents (default 20). */
  epochs?: number;
  /** Documents per minibatch (default 128). */
  batchSize?: number;
  /** ρ_t = (τ + t)^−κ, t = 1, 2, … (defaults τ = 10, κ = 0.7, as scikit-learn's online LDA). */
  tau?: number;
  kappa?: number;
  /** Shuffle the documents each epoch with a key folded from `key` (default true). */
  shuffle?: boolean;
  /** Called after each epoch. */
  onEpoch?: (epoch: number) => void;
  signal?: AbortSignal;
}

/** What `ldaSvi` returns. */
export interface LdaSviResult extends LdaFit {
  epochs: number;
  steps: number;
  timeMs: number;
  cancelled: boolean;
}

function checkLdaOptions(fn: string, docs: DocTermMatrix, opts: LdaOptions): Required<Omit<LdaOptions, 'key'>> & { key: Key } {
  checkDocTerm(fn, docs);
  const { k } = opts;
  if (!(Number.isInteger(k) && k >= 1)) throw new ValueError(`${fn}: k must be a positive integer, got ${k}`);
  const { alpha = 1 / k, eta = 1 / k, maxDocIter = 100, docTol = 1e-3, key = makeKey(0) } = opts;
  if (!(alpha > 0 && Number.isFinite(alpha))) throw new ValueError(`${fn}: alpha must be positive and finite, got ${alpha}`);
  if (!(eta > 0 && Number.isFinite(eta))) throw new ValueError(`${fn}: eta must be positive and finite, got ${eta}`);
  if (!(Number.isInteger(maxDocIter) && maxDocIter >= 1)) throw new ValueError(`${fn}: maxDocIter must be a positive integer, got ${maxDocIter}`);
  if (!(docTol >= 0)) throw new ValueError(`${fn}: docTol must be >= 0, got ${docTol}`);
  return { k, alpha, eta, maxDocIter, docTol, key };
}

/** Working state shared by the local and global steps. @internal */
class LdaState {
  readonly expElogBeta: Float64Array;
  readonly sstats: Float64Array;
  private readonly expTheta: Float64Array;
  private readonly acc: Float64Array;
  private readonly colSum: Float64Array;
  private readonly gammaWarm: Float64Array;
  /** Σ_d (word term + θ terms) from the last local step. */
  localBound = 0;

  constructor(
    readonly v: number,
    readonly k: number,
    readonly alpha: number,
    readonly eta: number,
    readonly maxDocIter: number,
    readonly docTol: number,
    readonly lambda: Float64Array,
  ) {
    this.expElogBeta = new Float64Array(v * k);
    this.sstats = new Float64Array(v * k);
    this.expTheta = new Float64Array(k);
    this.acc = new Float64Array(k);
    this.colSum = new Float64Array(k);
    this.gammaWarm = new Float64Array(k);
    this.refreshBeta();
  }

  /** E[log β_kw] = ψ(λ_kw) − ψ(Σ_w λ_kw), stored exponentiated. */
  refreshBeta(): void {
    const { v, k, lambda, expElogBeta, colSum } = this;
    colSum.fill(0);
    for (let w = 0; w < v; w++) for (let t = 0; t < k; t++) colSum[t] += lambda[w * k + t];
    for (let t = 0; t < k; t++) colSum[t] = psi(colSum[t]);
    for (let w = 0; w < v; w++) {
      const o = w * k;
      for (let t = 0; t < k; t++) expElogBeta[o + t] = Math.exp(psi(lambda[o + t]) - colSum[t]);
    }
  }

  /**
   * The local step for documents `ids` (all when null) of `docs`, starting from and writing to
   * `gamma` (row i for the i-th document processed); adds n_dw φ_dwk into `sstats` (in the
   * E[β]-free form, multiplied by exp E[log β] in `finishSstats`) and sets `localBound`.
   */
  /**
   * The local step for documents `ids` (all when null) of `docs`, writing γ to `gamma` (row i for
   * the i-th document processed), adding n_dw φ_dwk into `sstats` (without the exp E[log β] factor,
   * applied once in `finishSstats`) and setting `localBound`. With `warm`, `gamma` holds each
   * document's previous γ and the step keeps, per document, the better (by its ELBO term) of the
   * solution started there and the one started afresh: never worse than the warm start, so batch
   * CAVI stays monotone, while the fresh start escapes the poor per-document optima that a warm
   * start alone gets stuck in.
   */
  localStep(docs: DocTermMatrix, ids: Int32Array | null, gamma: Float64Array, warm: boolean): void {
    const { k, alpha, expElogBeta: eb, sstats } = this;
    const { indptr, indices, counts } = docs;
    const n = ids ? ids.length : docs.nDocs;
    const lgAlphaK = lgamma(k * alpha) - k * lgamma(alpha);
    const gw = this.gammaWarm;
    const et = this.expTheta;
    let bound = 0;
    for (let i = 0; i < n; i++) {
      const d = ids ? ids[i] : i;
      const start = indptr[d];
      const end = indptr[d + 1];
      const g = i * k;
      if (start === end) {
        // An empty document: q(θ_d) = prior, contributes 0 to the ELBO.
        for (let t = 0; t < k; t++) gamma[g + t] = alpha;
        continue;
      }
      // Gather this document's rows of exp E[log β] once: the iterations then read contiguously.
      const len = end - start;
      const db = this.docBeta(len * k);
      for (let p = start, q = 0; p < end; p++, q += k) {
        const o = indices[p] * k;
        for (let t = 0; t < k; t++) db[q + t] = eb[o + t];
      }
      let tokens = 0;
      for (let p = start; p < end; p++) tokens += counts[p];
      let docBound: number;
      if (warm) {
        for (let t = 0; t < k; t++) gw[t] = gamma[g + t];
        const bw = this.solveDoc(db, counts, start, len, gw, 0, lgAlphaK);
        for (let t = 0; t < k; t++) gamma[g + t] = alpha + tokens / k;
        const bf = this.solveDoc(db, counts, start, len, gamma, g, lgAlphaK);
        if (bw > bf) {
          for (let t = 0; t < k; t++) gamma[g + t] = gw[t];
          this.expElogTheta(gamma, g);
          docBound = bw;
        } else docBound = bf;
      } else {
        for (let t = 0; t < k; t++) gamma[g + t] = alpha + tokens / k;
        docBound = this.solveDoc(db, counts, start, len, gamma, g, lgAlphaK);
      }
      // φ*(γ, λ) for the sufficient statistics; expTheta holds exp E[log θ_d] at the kept γ.
      for (let p = start, q = 0; p < end; p++, q += k) {
        const o = indices[p] * k;
        let dot = 1e-100;
        for (let t = 0; t < k; t++) dot += et[t] * db[q + t];
        const f = counts[p] / dot;
        for (let t = 0; t < k; t++) sstats[o + t] += f * et[t];
      }
      bound += docBound;
    }
    this.localBound = bound;
  }

  /**
   * Iterates γ ← α + exp E[log θ] ⊙ Σ_w n_w β_w / (β_w · exp E[log θ]) from γ = gamma[g..g+K) to
   * convergence, in place, and returns the document's ELBO term at the result (φ optimal).
   */
  private solveDoc(db: Float64Array, counts: Float64Array, start: number, len: number, gamma: Float64Array, g: number, lgAlphaK: number): number {
    const { k, alpha, maxDocIter, docTol, expTheta: et, acc } = this;
    const sweepDoc = docSweepKernel(k);
    this.expElogTheta(gamma, g);
    for (let it = 0; it < maxDocIter; it++) {
      sweepDoc(db, counts, start, len, et, acc);
      let change = 0;
      for (let t = 0; t < k; t++) {
        const gn = alpha + et[t] * acc[t];
        change += Math.abs(gn - gamma[g + t]);
        gamma[g + t] = gn;
      }
      this.expElogTheta(gamma, g);
      if (change / k < docTol) break;
    }
    let gsum = 0;
    for (let t = 0; t < k; t++) gsum += gamma[g + t];
    const psiSum = psi(gsum);
    let b = lgAlphaK - lgamma(gsum);
    for (let t = 0; t < k; t++) {
      const gt = gamma[g + t];
      b += (alpha - gt) * (psi(gt) - psiSum) + lgamma(gt);
    }
    for (let i = 0, q = 0; i < len; i++, q += k) {
      let dot = 1e-100;
      for (let t = 0; t < k; t++) dot += et[t] * db[q + t];
      b += counts[start + i] * Math.log(dot);
    }
    return b;
  }

  private scratch = new Float64Array(0);

  private docBeta(n: number): Float64Array {
    if (this.scratch.length < n) this.scratch = new Float64Array(Math.max(n, 2 * this.scratch.length));
    return this.scratch;
  }

  private expElogTheta(gamma: Float64Array, g: number): void {
    const { k, expTheta } = this;
    let s = 0;
    for (let t = 0; t < k; t++) s += gamma[g + t];
    const ps = psi(s);
    for (let t = 0; t < k; t++) expTheta[t] = Math.exp(psi(gamma[g + t]) - ps);
  }

  /** sstats_wk ← sstats_wk · exp E[log β_kw] (completing Σ n_dw φ_dwk). */
  finishSstats(): void {
    const { sstats, expElogBeta } = this;
    for (let i = 0; i < sstats.length; i++) sstats[i] *= expElogBeta[i];
  }

  /** E[log p(β | η) − log q(β | λ)], closed form. */
  globalBound(): number {
    const { v, k, eta, lambda, colSum } = this;
    const sums = new Float64Array(k);
    let s = 0;
    const lgEta = lgamma(eta);
    for (let w = 0; w < v; w++) {
      const o = w * k;
      for (let t = 0; t < k; t++) {
        const l = lambda[o + t];
        sums[t] += l;
        // colSum holds ψ(Σ_w λ_kw) after refreshBeta.
        s += (eta - l) * (psi(l) - colSum[t]) + lgamma(l) - lgEta;
      }
    }
    const lgVEta = lgamma(v * eta);
    for (let t = 0; t < k; t++) s += lgVEta - lgamma(sums[t]);
    return s;
  }
}

/** acc_k = Σ_p c_p β_pk / Σ_j θ_j β_pj over one document's gathered rows (the hot loop). */
type DocSweep = (db: Float64Array, counts: Float64Array, start: number, len: number, et: Float64Array, acc: Float64Array) => void;

function docSweepGeneric(db: Float64Array, counts: Float64Array, start: number, len: number, et: Float64Array, acc: Float64Array): void {
  const k = et.length;
  acc.fill(0);
  for (let i = 0, q = 0; i < len; i++, q += k) {
    let dot = 1e-100;
    for (let t = 0; t < k; t++) dot += et[t] * db[q + t];
    const f = counts[start + i] / dot;
    for (let t = 0; t < k; t++) acc[t] += f * db[q + t];
  }
}

const sweepCache = new Map<number, DocSweep>();

/**
 * The hot loop with K unrolled into straight-line code (generated once per K ≤ 64, as the
 * design's compiled steps do): θ and the accumulators live in locals, about 2× the generic loop.
 */
function docSweepKernel(k: number): DocSweep {
  if (k > 64) return docSweepGeneric;
  let fn = sweepCache.get(k);
  if (fn) return fn;
  const ts = Array.from({ length: k }, (_, t) => t);
  const body = [
    ts.map((t) => `const e${t} = et[${t}]; let a${t} = 0;`).join(' '),
    `for (let i = 0, q = 0; i < len; i++, q += ${k}) {`,
    ts.map((t) => `const b${t} = db[q + ${t}];`).join(' '),
    `const f = counts[start + i] / (1e-100 + ${ts.map((t) => `e${t} * b${t}`).join(' + ')});`,
    ts.map((t) => `a${t} += f * b${t};`).join(' '),
    '}',
    ts.map((t) => `acc[${t}] = a${t};`).join(' '),
  ].join('\n');
  fn = new Function('db', 'counts', 'start', 'len', 'et', 'acc', body) as DocSweep;
  sweepCache.set(k, fn);
  return fn;
}

function initLambda(v: number, k: number, key: Key): Float64Array {
  const g = sampleGamma(key, 100, [v * k]).dataSync();
  const lambda = new Float64Array(v * k);
  for (let i = 0; i < lambda.length; i++) lambda[i] = g[i] / 100;
  return lambda;
}

/** Batch CAVI as a `ConjugateModel`: factors q(β) (global) then q(θ, z) (local, all documents). @internal */
class LdaBatchModel implements ConjugateModel {
  readonly state: LdaState;
  readonly gamma: Float64Array;
  readonly factors: readonly CaviFactor[];
  private globalTerm: number;

  constructor(
    readonly docs: DocTermMatrix,
    o: ReturnType<typeof checkLdaOptions>,
  ) {
    this.state = new LdaState(docs.nTerms, o.k, o.alpha, o.eta, o.maxDocIter, o.docTol, initLambda(docs.nTerms, o.k, o.key));
    this.gamma = new Float64Array(docs.nDocs * o.k);
    this.state.localStep(docs, null, this.gamma, false);
    this.globalTerm = this.state.globalBound();
    this.factors = [
      { name: 'q(β)', update: () => this.updateGlobal() },
      { name: 'q(θ, z)', update: () => this.updateLocal() },
    ];
  }

  private updateGlobal(): void {
    const s = this.state;
    s.finishSstats();
    for (let i = 0; i < s.lambda.length; i++) s.lambda[i] = s.eta + s.sstats[i];
    s.refreshBeta();
    this.globalTerm = s.globalBound();
  }

  private updateLocal(): void {
    this.state.sstats.fill(0);
    // Warm start (with a fresh restart kept only where better): never decreases the ELBO.
    this.state.localStep(this.docs, null, this.gamma, true);
  }

  elbo(): number {
    return this.state.localBound + this.globalTerm;
  }
}

function totalTokens(docs: DocTermMatrix): number {
  let s = 0;
  for (let p = 0; p < docs.counts.length; p++) s += docs.counts[p];
  return s;
}

/**
 * Batch CAVI for LDA. Each sweep sets q(β) from the current sufficient statistics, then runs the
 * local step on every document warm-started from its previous γ, so the ELBO never decreases.
 * `maxIter` counts sweeps (default 100), `tol` the relative ELBO change (default 1e-6).
 * Empty documents are allowed (γ_d = α); a term index outside the vocabulary, or a negative/NaN
 * count, throws ValueError.
 * @example const fit = ldaCavi(docs, { k: 10, maxIter: 20 }); topWords(fit, vocab, 10)
 */
export function ldaCavi(docs: DocTermMatrix, opts: LdaOptions & CaviOptions): LdaCaviResult {
  const o = checkLdaOptions('ldaCavi', docs, opts);
  const tokens = totalTokens(docs);
  if (!(tokens > 0)) throw new ValueError('ldaCavi: the documents contain no tokens');
  const model = new LdaBatchModel(docs, o);
  const trace = runCavi(model, { maxIter: opts.maxIter ?? 100, tol: opts.tol ?? 1e-6, onSweep: opts.onSweep, signal: opts.signal });
  return {
    k: o.k,
    nTerms: docs.nTerms,
    alpha: o.alpha,
    eta: o.eta,
    lambda: model.state.lambda,
    maxDocIter: o.maxDocIter,
    docTol: o.docTol,
    gamma: model.gamma,
    trace,
    perplexity: Math.exp(-trace.elbo / tokens),
  };
}

/**
 * Stochastic VI for LDA (Hoffman et al. 2013, Algorithm 1 / eq. 26): for each minibatch S, the
 * local step to convergence from a fresh γ, then λ ← (1 − ρ_t) λ + ρ_t (η + (D/|S|) Σ_{d∈S} n_dw φ_dwk)
 * with ρ_t = (τ + t)^−κ. Memory O(V·K + |S|·K + non-zeros).
 * @example const fit = ldaSvi(docs, { k: 10, epochs: 20, batchSize: 128 })
 */
export function ldaSvi(docs: DocTermMatrix, opts: LdaSviOptions): LdaSviResult {
  const o = checkLdaOptions('ldaSvi', docs, opts);
  const { epochs = 20, batchSize = 128, tau = 10, kappa = 0.7, shuffle = true, onEpoch, signal } = opts;
  if (!(Number.isInteger(epochs) && epochs >= 0)) throw new ValueError(`ldaSvi: epochs must be a non-negative integer, got ${epochs}`);
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new ValueError(`ldaSvi: batchSize must be a positive integer, got ${batchSize}`);
  if (docs.nDocs === 0) throw new ValueError('ldaSvi: no documents');
  const rho = robbinsMonro(tau, kappa);
  const t0 = performance.now();
  const [kInit, kShuffle] = [foldIn(o.key, 0), foldIn(o.key, 1)];
  const state = new LdaState(docs.nTerms, o.k, o.alpha, o.eta, o.maxDocIter, o.docTol, initLambda(docs.nTerms, o.k, kInit));
  const d = docs.nDocs;
  const order = new Int32Array(d);
  for (let i = 0; i < d; i++) order[i] = i;
  const gamma = new Float64Array(Math.min(batchSize, d) * o.k);
  const target = new Float64Array(state.lambda.length);
  let steps = 0;
  let epoch = 0;
  let cancelled = false;
  for (; epoch < epochs; epoch++) {
    if (signal?.aborted) {
      cancelled = true;
      break;
    }
    if (shuffle) shuffleInPlace(order, foldIn(kShuffle, epoch));
    for (let s = 0; s < d; s += batchSize) {
      const ids = order.subarray(s, Math.min(d, s + batchSize));
      state.sstats.fill(0);
      state.localStep(docs, ids, gamma, false);
      state.finishSstats();
      const scale = d / ids.length;
      for (let i = 0; i < target.length; i++) target[i] = state.eta + scale * state.sstats[i];
      steps++;
      // robbinsMonro(τ)(t) = (t + τ)^−κ; t starts at 1 here, as scikit-learn's online LDA.
      naturalGradientStep(state.lambda, target, rho(steps));
      state.refreshBeta();
    }
    onEpoch?.(epoch + 1);
  }
  return {
    k: o.k,
    nTerms: docs.nTerms,
    alpha: o.alpha,
    eta: o.eta,
    lambda: state.lambda,
    maxDocIter: o.maxDocIter,
    docTol: o.docTol,
    epochs: epoch,
    steps,
    timeMs: performance.now() - t0,
    cancelled,
  };
}

function shuffleInPlace(a: Int32Array, k: Key): void {
  const u = uniform(k, [a.length]).dataSync();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(u[i] * (i + 1)));
    const tmp = a[i];
    a[i] = a[j];
    a[j] = tmp;
  }
}

/** Options of `ldaPerplexity`. */
export interface LdaPerplexityOptions {
  /**
   * Add E[log p(β) − log q(β)] to the bound, as scikit-learn's `perplexity` does (default true, for
   * comparison with it). With false, the bound is per-document only: Σ_d ELBO_d(γ_d; λ).
   */
  includeTopicTerm?: boolean;
}

/**
 * Infers q(θ_d) for `docs` with the topics fixed (a fresh local step per document) and returns
 * γ (documents × topics), the ELBO and the perplexity exp(−ELBO / tokens). Use it on held-out
 * documents for held-out perplexity. Throws ValueError if `docs` has no tokens or a different
 * vocabulary size.
 */
export function ldaTransform(fit: LdaFit, docs: DocTermMatrix, opts: LdaPerplexityOptions = {}): { gamma: Float64Array; elbo: number; perplexity: number } {
  checkDocTerm('ldaTransform', docs);
  if (docs.nTerms !== fit.nTerms) throw new ValueError(`ldaTransform: the documents have ${docs.nTerms} terms, the model ${fit.nTerms}`);
  const tokens = totalTokens(docs);
  if (!(tokens > 0)) throw new ValueError('ldaTransform: the documents contain no tokens');
  const state = new LdaState(fit.nTerms, fit.k, fit.alpha, fit.eta, fit.maxDocIter, fit.docTol, fit.lambda);
  const gamma = new Float64Array(docs.nDocs * fit.k);
  state.localStep(docs, null, gamma, false);
  const elbo = state.localBound + (opts.includeTopicTerm === false ? 0 : state.globalBound());
  return { gamma, elbo, perplexity: Math.exp(-elbo / tokens) };
}

/** Perplexity of `docs` under the fit: `ldaTransform(fit, docs, opts).perplexity`. */
export function ldaPerplexity(fit: LdaFit, docs: DocTermMatrix, opts: LdaPerplexityOptions = {}): number {
  return ldaTransform(fit, docs, opts).perplexity;
}

/**
 * The `n` most probable terms of each topic under E[β_k] = λ_k / Σ_w λ_kw, as term indices, or as
 * strings when `vocab` is given.
 */
export function topWords(fit: LdaFit, vocab: readonly string[] | null, n = 10): (string | number)[][] {
  const { k, nTerms, lambda } = fit;
  if (vocab && vocab.length !== nTerms) throw new ValueError(`topWords: vocab has ${vocab.length} terms, the model ${nTerms}`);
  const out: (string | number)[][] = [];
  for (let t = 0; t < k; t++) {
    const idx = Array.from({ length: nTerms }, (_, w) => w);
    idx.sort((a, b) => lambda[b * k + t] - lambda[a * k + t]);
    const top = idx.slice(0, Math.min(n, nTerms));
    out.push(vocab ? top.map((w) => vocab[w]) : top);
  }
  return out;
}
