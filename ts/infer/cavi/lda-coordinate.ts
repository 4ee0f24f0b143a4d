/**
 * LDA by plain coordinate ascent (`ldaCavi(docs, { localUpdates: 'once' })`): every sweep updates
 * q(β), then every q(θ_d), then every q(z_dn) exactly once, each to its optimum given the others
 * (Blei, Kucukelbir & McAuliffe 2017, Algorithm 1 applied to LDA):
 *   λ_kw = η + Σ_d n_dw φ_dwk,   γ_dk = α + Σ_w n_dw φ_dwk,   φ_dwk ∝ exp(E[log θ_dk] + E[log β_kw]).
 * This is the schedule a message-passing engine runs on LDA's factor graph (VMP with the order
 * β, θ, z), so the two can be compared sweep for sweep; the default batch CAVI instead solves each
 * document's (θ_d, z_d) to convergence every sweep.
 *
 * φ is never stored: the z step forms, per non-zero, the normalizer Σ_k exp E[log θ_dk] · exp E[log β_kw]
 * and adds n_dw φ_dwk into the two sums the next β and θ steps read. Because the sweep ends with
 * the z step, φ is optimal for the current (γ, λ) and the ELBO takes its closed form
 *   Σ_dw n_dw log Σ_k exp(E log θ_dk + E log β_kw) + [θ terms] + [β terms],
 * all constants included (the same bound as the batch CAVI reports).
 */
import type { DocTermMatrix } from '../../data/docterm.js';
import type { CaviFactor, ConjugateModel } from './conjugate.js';
import { kernelMath } from './lda-kernel.js';
import { LdaState } from './lda-state.js';

const { psi, lgamma } = kernelMath;

/** Coordinate-ascent LDA as a `ConjugateModel`: factors q(β), q(θ), q(z). @internal */
export class LdaCoordinateModel implements ConjugateModel {
  readonly state: LdaState;
  /** q(θ_d) = Dir(γ_d), documents × topics. */
  readonly gamma: Float64Array;
  readonly factors: readonly CaviFactor[];
  /** exp E[log θ_dk], documents × topics. */
  private readonly expElogTheta: Float64Array;
  /** Σ_w n_dw φ_dwk from the last z step, documents × topics. */
  private readonly docStats: Float64Array;
  private wordTerm = 0;
  private thetaTerm = 0;
  private globalTerm = 0;

  /** Starts from q(β) = Dir(lambda) and γ_d = α + N_d/K, then sets q(z) from them. */
  constructor(
    readonly docs: DocTermMatrix,
    k: number,
    alpha: number,
    eta: number,
    lambda: Float64Array,
  ) {
    this.state = new LdaState(docs.nTerms, k, alpha, eta, 1, 0, lambda);
    const { nDocs, indptr, counts } = docs;
    this.gamma = new Float64Array(nDocs * k);
    this.expElogTheta = new Float64Array(nDocs * k);
    this.docStats = new Float64Array(nDocs * k);
    for (let d = 0; d < nDocs; d++) {
      let tokens = 0;
      for (let p = indptr[d]; p < indptr[d + 1]; p++) tokens += counts[p];
      this.gamma.fill(alpha + tokens / k, d * k, (d + 1) * k);
    }
    this.refreshTheta();
    this.globalTerm = this.state.globalBound();
    this.updateZ();
    this.factors = [
      { name: 'q(β)', update: () => this.updateBeta() },
      { name: 'q(θ)', update: () => this.updateTheta() },
      { name: 'q(z)', update: () => this.updateZ() },
    ];
  }

  private updateBeta(): void {
    const s = this.state;
    for (let i = 0; i < s.lambda.length; i++) s.lambda[i] = s.eta + s.sstats[i];
    s.refreshBeta();
    this.globalTerm = s.globalBound();
  }

  private updateTheta(): void {
    const { gamma, docStats } = this;
    const alpha = this.state.alpha;
    for (let i = 0; i < gamma.length; i++) gamma[i] = alpha + docStats[i];
    this.refreshTheta();
  }

  /** exp E[log θ] from γ, and the θ terms of the ELBO: Σ_d Σ_k (α − γ_dk) E log θ_dk + ln Γ(γ_dk) − ln Γ(α) + ln Γ(Kα) − ln Γ(Σ_k γ_dk). */
  private refreshTheta(): void {
    const { gamma, expElogTheta } = this;
    const { k, alpha } = this.state;
    const constant = lgamma(k * alpha) - k * lgamma(alpha);
    let b = 0;
    for (let o = 0; o < gamma.length; o += k) {
      let sum = 0;
      for (let t = 0; t < k; t++) sum += gamma[o + t];
      const ps = psi(sum);
      b += constant - lgamma(sum);
      for (let t = 0; t < k; t++) {
        const g = gamma[o + t];
        const elog = psi(g) - ps;
        expElogTheta[o + t] = Math.exp(elog);
        b += (alpha - g) * elog + lgamma(g);
      }
    }
    this.thetaTerm = b;
  }

  /** φ_dw ∝ exp E[log θ_d] ⊙ exp E[log β_w]; adds n_dw φ_dw into the β and θ sums and the word term. */
  private updateZ(): void {
    const { docs, expElogTheta: et, docStats } = this;
    const { k, sstats, expElogBeta: eb } = this.state;
    const { nDocs, indptr, indices, counts } = docs;
    sstats.fill(0);
    let words = 0;
    for (let d = 0; d < nDocs; d++) {
      const e = d * k;
      for (let t = 0; t < k; t++) docStats[e + t] = 0;
      for (let p = indptr[d]; p < indptr[d + 1]; p++) {
        const o = indices[p] * k;
        let dot = 1e-100;
        for (let t = 0; t < k; t++) dot += et[e + t] * eb[o + t];
        const f = counts[p] / dot;
        words += counts[p] * Math.log(dot);
        for (let t = 0; t < k; t++) {
          docStats[e + t] += f * eb[o + t];
          sstats[o + t] += f * et[e + t];
        }
      }
      for (let t = 0; t < k; t++) docStats[e + t] *= et[e + t];
    }
    // Σ_d n_dw φ_dwk = exp E[log β_kw] · Σ_d f_dw exp E[log θ_dk].
    for (let i = 0; i < sstats.length; i++) sstats[i] *= eb[i];
    this.wordTerm = words;
  }

  elbo(): number {
    return this.wordTerm + this.thetaTerm + this.globalTerm;
  }
}
