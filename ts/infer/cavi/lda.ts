/**
 * Latent Dirichlet allocation (Blei, Ng & Jordan 2003, with the Dirichlet(η) prior on topics) by
 * batch CAVI and by stochastic VI with natural gradients (Hoffman, Blei, Wang & Paisley 2013).
 *
 * q(β_k) = Dir(λ_k), q(θ_d) = Dir(γ_d), q(z_dn) = Cat(φ_dn). The local step per document
 * alternates φ_dwk ∝ exp(E[log θ_dk] + E[log β_kw]) and γ_dk = α + Σ_w n_dw φ_dwk until the mean
 * change of γ_d is below `docTol`, iterating over the document's non-zeros only; φ is never
 * stored (only its normalizer per non-zero). The global step is λ_kw = η + Σ_d n_dw φ_dwk. The
 * per-document solves run in one generated function (lda-kernel.ts), on the calling thread or split
 * across worker threads (`threads`) with bit-identical results.
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
import { uniform } from '../../random/samplers.js';
import { robbinsMonro } from '../../optim/schedules.js';
import { type CaviFactor, type CaviOptions, type CaviTrace, type ConjugateModel, runCavi } from './conjugate.js';
import { LdaCoordinateModel } from './lda-coordinate.js';
import { LdaState, initLambda } from './lda-state.js';

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
  /**
   * Threads for the local step (default 1): the calling thread plus threads − 1 worker threads
   * (node:worker_threads, shared memory). The result does not depend on it: the sums over
   * documents are taken in document order after the per-document solves.
   */
  threads?: number;
  /**
   * Batch CAVI only: solve each document both from its previous γ and afresh, keeping the better by
   * its ELBO term, so the ELBO never decreases (default false: afresh only, as scikit-learn's batch
   * E-step; on AssociatedPress that reached a better ELBO and held-out perplexity, at half the cost).
   */
  warmStart?: boolean;
  /**
   * Batch CAVI only: 'converge' (default) solves every document's (θ_d, z_d) to convergence each
   * sweep, as above; 'once' is plain coordinate ascent, one update each of q(β), q(θ), q(z) per
   * sweep (more sweeps, each cheaper; the schedule VMP runs on LDA's factor graph). 'once' runs on
   * the calling thread and ignores maxDocIter, docTol and warmStart.
   */
  localUpdates?: 'converge' | 'once';
}

/** A fitted LDA. */
export interface LdaFit {
  /** Number of topics K. */
  readonly k: number;
  /** Vocabulary size V. */
  readonly nTerms: number;
  /** The document–topic Dirichlet prior used. */
  readonly alpha: number;
  /** The topic–term Dirichlet prior used. */
  readonly eta: number;
  /** q(β) = Dir(λ), terms × topics (V × K, row-major). */
  readonly lambda: Float64Array;
  /** Local iterations per document (used again by `ldaTransform`). */
  readonly maxDocIter: number;
  /** Local convergence tolerance (used again by `ldaTransform`). */
  readonly docTol: number;
}

/** What `ldaCavi` returns. */
export interface LdaCaviResult extends LdaFit {
  /** q(θ_d) = Dir(γ_d), documents × topics (row-major). Empty documents get γ_d = α. */
  gamma: Float64Array;
  /** The sweeps' ELBO trace and convergence. */
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
  /** κ, the forgetting rate of ρ_t (default 0.7). */
  kappa?: number;
  /** Shuffle the documents each epoch with a key folded from `key` (default true). */
  shuffle?: boolean;
  /** Called after each epoch. */
  onEpoch?: (epoch: number) => void;
  /** Stops between minibatches; the result so far is returned with `cancelled: true`. */
  signal?: AbortSignal;
}

/** What `ldaSvi` returns. */
export interface LdaSviResult extends LdaFit {
  /** Epochs completed. */
  epochs: number;
  /** Minibatch updates taken. */
  steps: number;
  /** Wall time in milliseconds. */
  timeMs: number;
  /** Whether the signal stopped the run. */
  cancelled: boolean;
}

function checkLdaOptions(fn: string, docs: DocTermMatrix, opts: LdaOptions): Required<Omit<LdaOptions, 'key'>> & { key: Key } {
  checkDocTerm(fn, docs);
  const { k } = opts;
  if (!(Number.isInteger(k) && k >= 1)) throw new ValueError(`${fn}: k must be a positive integer, got ${k}`);
  const { alpha = 1 / k, eta = 1 / k, maxDocIter = 100, docTol = 1e-3, key = makeKey(0), threads = 1, warmStart = false, localUpdates = 'converge' } = opts;
  if (localUpdates !== 'converge' && localUpdates !== 'once') throw new ValueError(`${fn}: localUpdates must be 'converge' or 'once', got ${String(localUpdates)}`);
  if (localUpdates === 'once' && threads !== 1) throw new ValueError(`${fn}: localUpdates 'once' runs on the calling thread; threads must be 1, got ${threads}`);
  checkThreads(fn, threads);
  if (!(alpha > 0 && Number.isFinite(alpha))) throw new ValueError(`${fn}: alpha must be positive and finite, got ${alpha}`);
  if (!(eta > 0 && Number.isFinite(eta))) throw new ValueError(`${fn}: eta must be positive and finite, got ${eta}`);
  if (!(Number.isInteger(maxDocIter) && maxDocIter >= 1)) throw new ValueError(`${fn}: maxDocIter must be a positive integer, got ${maxDocIter}`);
  if (!(docTol >= 0)) throw new ValueError(`${fn}: docTol must be >= 0, got ${docTol}`);
  return { k, alpha, eta, maxDocIter, docTol, key, threads, warmStart, localUpdates };
}

function checkThreads(fn: string, threads: number): void {
  if (!(Number.isInteger(threads) && threads >= 1 && threads <= 256)) throw new ValueError(`${fn}: threads must be an integer in 1..256, got ${threads}`);
}

/** Batch CAVI as a `ConjugateModel`: factors q(β) (global) then q(θ, z) (local, all documents). @internal */
class LdaBatchModel implements ConjugateModel {
  readonly state: LdaState;
  readonly gamma: Float64Array;
  readonly factors: readonly CaviFactor[];
  private globalTerm: number;

  constructor(
    readonly docs: DocTermMatrix,
    private readonly o: ReturnType<typeof checkLdaOptions>,
  ) {
    this.state = new LdaState(docs.nTerms, o.k, o.alpha, o.eta, o.maxDocIter, o.docTol, initLambda(docs.nTerms, o.k, o.key), o.threads);
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
    // With warmStart, the better of the warm and the fresh solution per document: never decreases
    // the ELBO; otherwise afresh, as scikit-learn.
    this.state.localStep(this.docs, null, this.gamma, this.o.warmStart);
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
 * local step on every document from a fresh γ = α + N_d/K (as scikit-learn's batch E-step), or with
 * `warmStart` also from its previous γ keeping the better, so that the ELBO never decreases. With
 * `localUpdates: 'once'`, plain coordinate ascent instead (lda-coordinate.ts).
 * `maxIter` counts sweeps (default 100), `tol` the relative ELBO change (default 1e-6).
 * Empty documents are allowed (γ_d = α); a term index outside the vocabulary, or a negative/NaN
 * count, throws ValueError.
 * @example const fit = ldaCavi(docs, { k: 10, maxIter: 20 }); topWords(fit, vocab, 10)
 */
export function ldaCavi(docs: DocTermMatrix, opts: LdaOptions & CaviOptions): LdaCaviResult {
  const o = checkLdaOptions('ldaCavi', docs, opts);
  const tokens = totalTokens(docs);
  if (!(tokens > 0)) throw new ValueError('ldaCavi: the documents contain no tokens');
  const model = o.localUpdates === 'once' ? new LdaCoordinateModel(docs, o.k, o.alpha, o.eta, initLambda(docs.nTerms, o.k, o.key)) : new LdaBatchModel(docs, o);
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
  const state = new LdaState(docs.nTerms, o.k, o.alpha, o.eta, o.maxDocIter, o.docTol, initLambda(docs.nTerms, o.k, kInit), o.threads);
  const d = docs.nDocs;
  const order = new Int32Array(d);
  for (let i = 0; i < d; i++) order[i] = i;
  const gamma = new Float64Array(Math.min(batchSize, d) * o.k);
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
      state.localStep(docs, ids, gamma, false);
      steps++;
      // robbinsMonro(τ)(t) = (t + τ)^−κ; t starts at 1 here, as scikit-learn's online LDA.
      state.sviGlobalStep(d / ids.length, rho(steps));
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
  /** Threads for the local step (default 1; see `LdaOptions.threads`). */
  threads?: number;
}

/**
 * Infers q(θ_d) for `docs` with the topics fixed (a fresh local step per document) and returns
 * γ (documents × topics), the ELBO and the perplexity exp(−ELBO / tokens). Use it on held-out
 * documents for held-out perplexity. Throws ValueError if `docs` has no tokens or a different
 * vocabulary size.
 * @example const held = ldaTransform(fit, testDocs); held.perplexity
 */
export function ldaTransform(fit: LdaFit, docs: DocTermMatrix, opts: LdaPerplexityOptions = {}): {
  /** q(θ_d) = Dir(γ_d), documents × topics, row-major. */
  gamma: Float64Array;
  /** The ELBO of `docs` with the topics fixed. */
  elbo: number;
  /** exp(−ELBO / tokens). */
  perplexity: number;
} {
  checkDocTerm('ldaTransform', docs);
  if (docs.nTerms !== fit.nTerms) throw new ValueError(`ldaTransform: the documents have ${docs.nTerms} terms, the model ${fit.nTerms}`);
  const tokens = totalTokens(docs);
  if (!(tokens > 0)) throw new ValueError('ldaTransform: the documents contain no tokens');
  const threads = opts.threads ?? 1;
  checkThreads('ldaTransform', threads);
  const state = new LdaState(fit.nTerms, fit.k, fit.alpha, fit.eta, fit.maxDocIter, fit.docTol, fit.lambda, threads);
  const gamma = new Float64Array(docs.nDocs * fit.k);
  state.localStep(docs, null, gamma, false);
  const elbo = state.localBound + (opts.includeTopicTerm === false ? 0 : state.globalBound());
  return { gamma, elbo, perplexity: Math.exp(-elbo / tokens) };
}

/**
 * Perplexity of `docs` under the fit: `ldaTransform(fit, docs, opts).perplexity`.
 * @example ldaPerplexity(fit, testDocs) // exp(−ELBO / tokens) on held-out documents
 */
export function ldaPerplexity(fit: LdaFit, docs: DocTermMatrix, opts: LdaPerplexityOptions = {}): number {
  return ldaTransform(fit, docs, opts).perplexity;
}

/**
 * The `n` most probable terms of each topic under E[β_k] = λ_k / Σ_w λ_kw, as term indices, or as
 * strings when `vocab` is given.
 * @example topWords(fit, vocab, 5) // [['game', 'team', …], …]: one row per topic
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
