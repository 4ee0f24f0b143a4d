/**
 * The factor Categorical(z | π) over a plate: z latent (a categorical variable) or observed
 * integers, π a constant probability vector or a Dirichlet variable (plate 1, shared; one per
 * element; or one per group, element n drawing from π_{g_n}: a document's tokens from its topic
 * proportions θ_d). Messages: to z, log-probabilities += E[log π]; to π, α += the expected counts
 * Σ_n c_n r_n (c_n the copies element n stands for). E[log f] = Σ_n c_n Σ_k r_nk E[log π_k].
 */
import type { CategoricalVariable, ExpMessageFactor } from './categorical.js';
import type { DirichletVariable } from './dirichlet.js';
import type { VmpFactor, VmpVariable } from './node.js';

/** @internal Made by `FactorGraph.categorical`. */
export class CategoricalFactor implements VmpFactor, ExpMessageFactor {
  readonly variables: readonly VmpVariable[];
  private readonly n: number;
  /** With a group: Σ_{n: g_n = g} c_n r_n per π element (its size × K), for z's `version`. */
  private groupSums = new Float64Array(0);
  private groupVersion = -1;

  constructor(
    readonly name: string,
    private readonly z: CategoricalVariable | Int32Array,
    /** Log-probabilities (K) when π is constant. */
    private readonly pi: Float64Array | DirichletVariable,
    private readonly k: number,
    /** g_n: the π element of z element n (null: n itself, or 0 for a shared π). */
    private readonly group: Int32Array | null = null,
  ) {
    const vs: VmpVariable[] = [];
    if (!(z instanceof Int32Array)) vs.push(z);
    if (!(pi instanceof Float64Array)) vs.push(pi);
    this.variables = vs;
    this.n = z instanceof Int32Array ? z.length : z.size;
  }

  /** π itself when constant (exp of the stored log-probabilities), computed once. */
  private expPi: Float64Array | null = null;

  /** exp E[log π] (K, or one row of K per π element). */
  private expLogPi(): Float64Array {
    const pi = this.pi;
    if (pi instanceof Float64Array) return (this.expPi ??= pi.map(Math.exp));
    return pi.expMeanLog;
  }

  multiplyExpMessage(v: CategoricalVariable, u: Float64Array, first: boolean): void {
    const { n, k } = this;
    const ep = this.expLogPi();
    const group = this.group;
    if (ep.length === k) {
      for (let i = 0; i < n * k; i += k) for (let j = 0; j < k; j++) u[i + j] = (first ? 1 : u[i + j]) * ep[j];
    } else if (group) {
      for (let i = 0; i < n; i++) {
        const o = group[i] * k;
        const q = i * k;
        if (first) for (let j = 0; j < k; j++) u[q + j] = ep[o + j];
        else for (let j = 0; j < k; j++) u[q + j] *= ep[o + j];
      }
    } else if (first) u.set(ep.subarray(0, n * k));
    else for (let i = 0; i < n * k; i++) u[i] *= ep[i];
  }

  /** Σ_n c_n Σ_k r_nk E[log π_k]: E[log f] itself. */
  expectedMessage(): number {
    return this.expectedLog();
  }

  /** E[log π] (K, or one row of K per π element). */
  private logPi(): Float64Array {
    const pi = this.pi;
    return pi instanceof Float64Array ? pi : pi.meanLog;
  }

  /** The offset of element i's E[log π] (or of its π element's α). */
  private off(shared: boolean, i: number): number {
    return shared ? 0 : (this.group ? this.group[i] : i) * this.k;
  }

  /**
   * The expected counts per π element of a latent, grouped z, summed once per change of q(z): the
   * message to π and E[log f] both read them (the ELBO after a z update, then π's update).
   */
  private grouped(z: CategoricalVariable, group: Int32Array, size: number): Float64Array {
    if (this.groupVersion !== z.version) {
      const { k, n } = this;
      if (this.groupSums.length !== size * k) this.groupSums = new Float64Array(size * k);
      const g = this.groupSums;
      g.fill(0);
      for (let i = 0; i < n; i++) {
        const o = group[i] * k;
        for (let j = 0; j < k; j++) g[o + j] += z.mass[i * k + j];
      }
      this.groupVersion = z.version;
    }
    return this.groupSums;
  }

  sendTo(v: VmpVariable): void {
    const { n, k, z } = this;
    if (v === z) {
      const lg = (v as CategoricalVariable).logits;
      const lp = this.logPi();
      const shared = lp.length === k;
      const group = this.group;
      if (shared) {
        for (let i = 0; i < n * k; i += k) for (let j = 0; j < k; j++) lg[i + j] += lp[j];
      } else if (group) {
        for (let i = 0; i < n; i++) {
          const o = group[i] * k;
          const q = i * k;
          for (let j = 0; j < k; j++) lg[q + j] += lp[o + j];
        }
      } else for (let i = 0; i < n * k; i++) lg[i] += lp[i];
    } else if (v === this.pi) {
      const d = v as DirichletVariable;
      const shared = d.size === 1;
      if (shared && !(z instanceof Int32Array)) {
        for (let j = 0; j < k; j++) d.alpha[j] += z.counts[j];
        return;
      }
      if (this.group && !(z instanceof Int32Array)) {
        const g = this.grouped(z, this.group, d.size);
        for (let i = 0; i < g.length; i++) d.alpha[i] += g[i];
        return;
      }
      for (let i = 0; i < n; i++) {
        const o = this.off(shared, i);
        if (z instanceof Int32Array) d.alpha[o + z[i]] += 1;
        else for (let j = 0; j < k; j++) d.alpha[o + j] += z.mass[i * k + j];
      }
    }
  }

  expectedLog(): number {
    const { n, k, z } = this;
    let s = 0;
    const lp = this.logPi();
    const shared = lp.length === k;
    if (shared && !(z instanceof Int32Array)) {
      // A shared π: Σ_n c_n r_n·E[log π] = counts·E[log π].
      for (let j = 0; j < k; j++) if (z.counts[j] > 0) s += z.counts[j] * lp[j];
      return s;
    }
    if (this.group && !(z instanceof Int32Array)) {
      const g = this.grouped(z, this.group, lp.length / k);
      for (let i = 0; i < g.length; i++) if (g[i] > 0) s += g[i] * lp[i];
      return s;
    }
    for (let i = 0; i < n; i++) {
      const o = this.off(shared, i);
      if (z instanceof Int32Array) s += lp[o + z[i]];
      else
        for (let j = 0; j < k; j++) {
          const m = z.mass[i * k + j];
          if (m > 0) s += m * lp[o + j];
        }
    }
    return s;
  }
}
