/**
 * A gate over categorical distributions: x_n ~ Categorical(β_{z_n}) for observed categories x
 * (N integers < V), a selector z (a categorical variable over K, or observed labels) and K
 * probability vectors β_k, a Dirichlet variable of plate K over V categories (a mixture of
 * categoricals, the building block of topic models). With `group`, observation n belongs to
 * selector element g_n (several draws per item — a document's words — share one z: the mixture of
 * unigrams); without it g_n = n. Messages:
 *   to z_g: log-probabilities += Σ_{n: g_n = g} E[log β_{k, x_n}];   to β_k: α_{k, x_n} += r_{g_n k},
 * and E[log f] = Σ_n Σ_k r_{g_n k} E[log β_{k, x_n}].
 */
import type { CategoricalVariable, ExpMessageFactor } from './categorical.js';
import type { DirichletVariable } from './dirichlet.js';
import type { VmpFactor, VmpVariable } from './node.js';

/** @internal Made by `FactorGraph.categoricalGate`. */
export class CategoricalGateFactor implements VmpFactor, ExpMessageFactor {
  readonly variables: readonly VmpVariable[];
  /** E[log β] transposed to V × K (one category's K values contiguous), for β's `version`. */
  private logBetaT = new Float64Array(0);
  private expBetaT = new Float64Array(0);
  private logBetaVersion = -1;
  /** Σ_{n: x_n = w} c r_{g_n k}, V × K, for z's `version`: the message to β and E[log f] both read it. */
  private counts = new Float64Array(0);
  private countsVersion = -1;

  constructor(
    readonly name: string,
    private readonly x: Int32Array,
    private readonly z: CategoricalVariable | Int32Array,
    private readonly beta: DirichletVariable,
    /** g_n: the selector element of observation n (null: n itself). */
    private readonly group: Int32Array | null,
  ) {
    this.variables = z instanceof Int32Array ? [beta] : [z, beta];
  }

  /** E[log β] and exp E[log β] as V × K, refreshed when β has changed. */
  private refreshBeta(): void {
    const { beta } = this;
    if (this.logBetaVersion === beta.version) return;
    const k = beta.size;
    const nv = beta.k;
    if (this.logBetaT.length !== k * nv) {
      this.logBetaT = new Float64Array(k * nv);
      this.expBetaT = new Float64Array(k * nv);
    }
    const { logBetaT: t, expBetaT: e } = this;
    for (let j = 0; j < k; j++)
      for (let w = 0; w < nv; w++) {
        t[w * k + j] = beta.meanLog[j * nv + w];
        e[w * k + j] = beta.expMeanLog[j * nv + w];
      }
    this.logBetaVersion = beta.version;
  }

  private logBeta(): Float64Array {
    this.refreshBeta();
    return this.logBetaT;
  }

  multiplyExpMessage(v: CategoricalVariable, u: Float64Array, first: boolean): void {
    this.refreshBeta();
    const { x, expBetaT: eb } = this;
    const k = this.beta.size;
    const gr = this.group;
    // Several observations may share a selector element (group): start from ones, then multiply.
    if (first && gr) u.fill(1, 0, v.size * k);
    if (gr)
      for (let i = 0; i < x.length; i++) {
        const o = gr[i] * k;
        const b = x[i] * k;
        for (let j = 0; j < k; j++) u[o + j] *= eb[b + j];
      }
    else
      for (let i = 0, o = 0; i < x.length; i++, o += k) {
        const b = x[i] * k;
        if (first) for (let j = 0; j < k; j++) u[o + j] = eb[b + j];
        else for (let j = 0; j < k; j++) u[o + j] *= eb[b + j];
      }
  }

  /** Σ_n c_n Σ_k r_{g_n k} E[log β_{k, x_n}]: E[log f] itself. */
  expectedMessage(): number {
    return this.expectedLog();
  }

  /** The expected counts of each category under each component, for a latent selector, summed once per change of q(z). */
  private expectedCounts(z: CategoricalVariable): Float64Array {
    if (this.countsVersion !== z.version) {
      const { x, beta } = this;
      const k = beta.size;
      const gr = this.group;
      if (this.counts.length !== k * beta.k) this.counts = new Float64Array(k * beta.k);
      const c = this.counts;
      c.fill(0);
      for (let i = 0; i < x.length; i++) {
        const e = (gr ? gr[i] : i) * k;
        const b = x[i] * k;
        for (let j = 0; j < k; j++) c[b + j] += z.mass[e + j];
      }
      this.countsVersion = z.version;
    }
    return this.counts;
  }

  sendTo(v: VmpVariable): void {
    const { x, z, beta } = this;
    const k = beta.size;
    const nv = beta.k;
    const gr = this.group;
    if (v === z) {
      const lg = (v as CategoricalVariable).logits;
      const lb = this.logBeta();
      if (gr)
        for (let i = 0; i < x.length; i++) {
          const o = gr[i] * k;
          const b = x[i] * k;
          for (let j = 0; j < k; j++) lg[o + j] += lb[b + j];
        }
      else
        for (let i = 0, o = 0; i < x.length; i++, o += k) {
          const b = x[i] * k;
          for (let j = 0; j < k; j++) lg[o + j] += lb[b + j];
        }
    } else if (v === beta) {
      const a = beta.alpha;
      if (z instanceof Int32Array) {
        for (let i = 0; i < x.length; i++) a[z[gr ? gr[i] : i] * nv + x[i]] += 1;
        return;
      }
      const c = this.expectedCounts(z);
      for (let w = 0; w < nv; w++) for (let j = 0; j < k; j++) a[j * nv + w] += c[w * k + j];
    }
  }

  expectedLog(): number {
    const { x, z, beta } = this;
    const nv = beta.k;
    const gr = this.group;
    let s = 0;
    if (z instanceof Int32Array) {
      for (let i = 0; i < x.length; i++) s += beta.meanLog[z[gr ? gr[i] : i] * nv + x[i]];
      return s;
    }
    const lb = this.logBeta();
    const c = this.expectedCounts(z);
    for (let i = 0; i < c.length; i++) if (c[i] > 0) s += c[i] * lb[i];
    return s;
  }
}
