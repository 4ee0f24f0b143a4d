/**
 * The factor Categorical(z | π) over a plate: z latent (a categorical variable) or observed
 * integers, π a constant probability vector or a Dirichlet variable (plate 1, shared, or one per
 * element). Messages: to z, log-probabilities += E[log π]; to π, α += Σ_n r_n (the expected counts).
 * E[log f] = Σ_n Σ_k r_nk E[log π_k].
 */
import type { CategoricalVariable } from './categorical.js';
import type { DirichletVariable } from './dirichlet.js';
import type { VmpFactor, VmpVariable } from './node.js';

/** @internal Made by `FactorGraph.categorical`. */
export class CategoricalFactor implements VmpFactor {
  readonly variables: readonly VmpVariable[];
  private readonly n: number;

  constructor(
    readonly name: string,
    private readonly z: CategoricalVariable | Int32Array,
    /** Log-probabilities (K) when π is constant. */
    private readonly pi: Float64Array | DirichletVariable,
    private readonly k: number,
  ) {
    const vs: VmpVariable[] = [];
    if (!(z instanceof Int32Array)) vs.push(z);
    if (!(pi instanceof Float64Array)) vs.push(pi);
    this.variables = vs;
    this.n = z instanceof Int32Array ? z.length : z.size;
  }

  /** E[log π] (K, or size × K when each element has its own). */
  private logPi(): Float64Array {
    const pi = this.pi;
    return pi instanceof Float64Array ? pi : pi.meanLog;
  }

  /** The offset of element i's E[log π]. */
  private off(lp: Float64Array, i: number): number {
    return lp.length === this.k ? 0 : i * this.k;
  }

  sendTo(v: VmpVariable): void {
    const { n, k, z } = this;
    if (v === z) {
      const lg = (v as CategoricalVariable).logits;
      const lp = this.logPi();
      for (let i = 0; i < n; i++) {
        const o = this.off(lp, i);
        for (let j = 0; j < k; j++) lg[i * k + j] += lp[o + j];
      }
    } else if (v === this.pi) {
      const d = v as DirichletVariable;
      const shared = d.size === 1;
      if (shared && !(z instanceof Int32Array)) {
        for (let j = 0; j < k; j++) d.alpha[j] += z.counts[j];
        return;
      }
      for (let i = 0; i < n; i++) {
        const o = shared ? 0 : i * k;
        if (z instanceof Int32Array) d.alpha[o + z[i]] += 1;
        else for (let j = 0; j < k; j++) d.alpha[o + j] += z.probs[i * k + j];
      }
    }
  }

  expectedLog(): number {
    const { n, k, z } = this;
    let s = 0;
    const lp = this.logPi();
    if (lp.length === k && !(z instanceof Int32Array)) {
      // A shared π: Σ_n r_n·E[log π] = counts·E[log π].
      for (let j = 0; j < k; j++) if (z.counts[j] > 0) s += z.counts[j] * lp[j];
      return s;
    }
    for (let i = 0; i < n; i++) {
      const o = this.off(lp, i);
      if (z instanceof Int32Array) s += lp[o + z[i]];
      else
        for (let j = 0; j < k; j++) {
          const r = z.probs[i * k + j];
          if (r > 0) s += r * lp[o + j];
        }
    }
    return s;
  }
}
