/**
 * The factor Dirichlet(π | α₀) with constant α₀: it sends α += α₀, and
 * E[log f] = log Γ(Σα₀) − Σ log Γ(α₀_k) + Σ (α₀_k − 1) E[log π_k].
 */
import { kernelMath } from '../cavi/lda-kernel.js';
import type { DirichletVariable } from './dirichlet.js';
import type { VmpFactor, VmpVariable } from './node.js';

/** @internal Made by `FactorGraph.dirichlet`. */
export class DirichletPriorFactor implements VmpFactor {
  readonly variables: readonly VmpVariable[];
  /** Σ_i [log Γ(Σ_k α₀_ik) − Σ_k log Γ(α₀_ik)]: α₀ is constant, so once. */
  private readonly logNormalizer: number;

  constructor(
    readonly name: string,
    private readonly pi: DirichletVariable,
    /** α₀, size × K. */
    private readonly alpha0: Float64Array,
  ) {
    this.variables = [pi];
    const { lgamma } = kernelMath;
    const { k, size } = pi;
    let c = 0;
    for (let i = 0; i < size; i++) {
      let a0 = 0;
      for (let j = 0; j < k; j++) {
        const a = alpha0[i * k + j];
        a0 += a;
        c -= lgamma(a);
      }
      c += lgamma(a0);
    }
    this.logNormalizer = c;
  }

  sendTo(v: VmpVariable): void {
    if (v !== this.pi) return;
    for (let i = 0; i < this.alpha0.length; i++) this.pi.alpha[i] += this.alpha0[i];
  }

  expectedLog(): number {
    const { meanLog } = this.pi;
    let s = this.logNormalizer;
    for (let i = 0; i < meanLog.length; i++) s += (this.alpha0[i] - 1) * meanLog[i];
    return s;
  }
}
