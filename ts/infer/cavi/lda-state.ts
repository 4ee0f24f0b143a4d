/**
 * The working state of LDA's variational fits, shared by batch CAVI, stochastic VI and the
 * coordinate-ascent schedule: q(β) = Dir(λ) with exp E[log β] cached, the sufficient statistics
 * Σ_d n_dw φ_dwk, the local step over documents (the generated kernel of lda-kernel.ts, threaded),
 * and the closed-form β term of the ELBO. Layout: terms × topics (V × K, row-major).
 */
import { ValueError } from '../../core/errors.js';
import type { DocTermMatrix } from '../../data/docterm.js';
import type { Key } from '../../random/key.js';
import { gamma as sampleGamma } from '../../random/samplers.js';
import { kernelMath, runLdaKernel, shared, sharedF64 } from './lda-kernel.js';

const { psi, lgamma } = kernelMath;

/** Working state shared by the local and global steps. @internal */
export class LdaState {
  readonly expElogBeta: Float64Array;
  readonly sstats: Float64Array;
  private readonly colSum: Float64Array;
  /** Σ_d (word term + θ terms) from the last local step. */
  localBound = 0;
  // Kernel outputs and inputs, grown as needed (SharedArrayBuffer-backed when threads > 1).
  private et: Float64Array = new Float64Array(0);
  private fnz: Float64Array = new Float64Array(0);
  private dbound: Float64Array = new Float64Array(0);
  private gammaBuf: Float64Array = new Float64Array(0);
  private idsBuf: Int32Array = new Int32Array(0);
  private readonly ctr: Int32Array;

  constructor(
    readonly v: number,
    readonly k: number,
    readonly alpha: number,
    readonly eta: number,
    readonly maxDocIter: number,
    readonly docTol: number,
    readonly lambda: Float64Array,
    readonly threads = 1,
  ) {
    this.expElogBeta = this.alloc(v * k);
    this.sstats = new Float64Array(v * k);
    this.colSum = new Float64Array(k);
    this.ctr = threads > 1 ? new Int32Array(new SharedArrayBuffer(4)) : new Int32Array(1);
    this.refreshBeta();
  }

  private alloc(n: number): Float64Array {
    return this.threads > 1 ? sharedF64(n) : new Float64Array(n);
  }

  private grow(a: Float64Array, n: number): Float64Array {
    return a.length >= n ? a : this.alloc(Math.max(n, 2 * a.length));
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
   * The local step for documents `ids` (all when null) of `docs`, writing γ to `gamma` (row i for
   * the i-th document processed), adding n_dw φ_dwk into `sstats` (without the exp E[log β] factor,
   * applied once in `finishSstats`) and setting `localBound`. With `warm`, `gamma` holds each
   * document's previous γ and the step keeps, per document, the better (by its ELBO term) of the
   * solution started there and the one started afresh: never worse than the warm start, so batch
   * CAVI stays monotone, while the fresh start escapes the poor per-document optima that a warm
   * start alone gets stuck in.
   *
   * The per-document solves run in the generated kernel (lda-kernel.ts) on `threads` threads; the
   * sums over documents are then taken here in document order, so the result is the same for any
   * thread count.
   */
  localStep(docs: DocTermMatrix, ids: Int32Array | null, gamma: Float64Array, warm: boolean): void {
    const { k, alpha, sstats, threads } = this;
    const n = ids ? ids.length : docs.nDocs;
    this.et = this.grow(this.et, n * k);
    this.fnz = this.grow(this.fnz, docs.counts.length);
    this.dbound = this.grow(this.dbound, n);
    const d = threads > 1 ? sharedDocs(docs) : docs;
    let g = gamma;
    if (threads > 1 && !(gamma.buffer instanceof SharedArrayBuffer)) {
      this.gammaBuf = this.grow(this.gammaBuf, n * k);
      g = this.gammaBuf;
      if (warm) g.set(gamma.subarray(0, n * k));
    }
    let idv = ids;
    if (ids && threads > 1 && !(ids.buffer instanceof SharedArrayBuffer)) {
      if (this.idsBuf.length < n) this.idsBuf = new Int32Array(new SharedArrayBuffer(4 * Math.max(n, 2 * this.idsBuf.length)));
      this.idsBuf.set(ids);
      idv = this.idsBuf;
    }
    const { et, fnz, dbound } = this;
    runLdaKernel(
      { k, alpha, maxDocIter: this.maxDocIter, docTol: this.docTol, warm, n, ids: idv, indptr: d.indptr, indices: d.indices, counts: d.counts, eb: this.expElogBeta, gamma: g, et, fnz, dbound, ctr: this.ctr },
      threads,
    );
    if (g !== gamma) gamma.set(g.subarray(0, n * k));
    // Σ_d n_dw φ_dwk / exp E[log β_kw] = Σ_d fnz_dw · exp E[log θ_dk], in document order.
    const { indptr, indices } = docs;
    let bound = 0;
    for (let i = 0; i < n; i++) {
      const doc = ids ? ids[i] : i;
      const e = i * k;
      for (let p = indptr[doc]; p < indptr[doc + 1]; p++) {
        const o = indices[p] * k;
        const f = fnz[p];
        for (let t = 0; t < k; t++) sstats[o + t] += f * et[e + t];
      }
      bound += dbound[i];
    }
    this.localBound = bound;
  }

  /**
   * The SVI global step fused into two passes: λ ← (1 − ρ) λ + ρ (η + scale · sstats ⊙ exp E[log β])
   * with sstats reset to 0, then exp E[log β] refreshed (the same arithmetic as finishSstats, the
   * target, naturalGradientStep and refreshBeta in turn).
   */
  sviGlobalStep(scale: number, rho: number): void {
    const { v, k, eta, lambda, sstats, expElogBeta, colSum } = this;
    if (!(rho > 0 && rho <= 1)) throw new ValueError(`ldaSvi: rho must be in (0, 1], got ${rho}`);
    const c = 1 - rho;
    colSum.fill(0);
    for (let w = 0; w < v; w++) {
      const o = w * k;
      for (let t = 0; t < k; t++) {
        const i = o + t;
        const l = c * lambda[i] + rho * (eta + scale * (sstats[i] * expElogBeta[i]));
        lambda[i] = l;
        sstats[i] = 0;
        colSum[t] += l;
      }
    }
    for (let t = 0; t < k; t++) colSum[t] = psi(colSum[t]);
    for (let i = 0; i < lambda.length; i++) expElogBeta[i] = Math.exp(psi(lambda[i]) - colSum[i % k]);
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

/** SharedArrayBuffer copies of a document–term matrix's arrays, made once per matrix. */
const sharedCache = new WeakMap<DocTermMatrix, Pick<DocTermMatrix, 'indptr' | 'indices' | 'counts'>>();

function sharedDocs(docs: DocTermMatrix): Pick<DocTermMatrix, 'indptr' | 'indices' | 'counts'> {
  let s = sharedCache.get(docs);
  if (!s) {
    s = { indptr: shared(docs.indptr), indices: shared(docs.indices), counts: shared(docs.counts) };
    sharedCache.set(docs, s);
  }
  return s;
}

/** λ ~ Gamma(100, 1/100) elementwise (V × K), as scikit-learn initializes it. @internal */
export function initLambda(v: number, k: number, key: Key): Float64Array {
  const g = sampleGamma(key, 100, [v * k]).dataSync();
  const lambda = new Float64Array(v * k);
  for (let i = 0; i < lambda.length; i++) lambda[i] = g[i] / 100;
  return lambda;
}
