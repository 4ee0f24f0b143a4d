/**
 * The factor Dirichlet(π | α₀) with constant α₀: it sends α += α₀, and
 * E[log f] = log Γ(Σα₀) − Σ log Γ(α₀_k) + Σ (α₀_k − 1) E[log π_k].
 */
import { lgamma } from '../cavi/dense.js';
import type { DirichletVariable } from './dirichlet.js';
import type { VmpFactor, VmpVariable } from './node.js';

/** @internal Made by `FactorGraph.dirichlet`. */
export class DirichletPriorFactor implements VmpFactor {
  readonly variables: readonly VmpVariable[];

  constructor(
    readonly name: string,
    private readonly pi: DirichletVariable,
    /** α₀, size × K. */
    private readonly alpha0: Float64Array,
  ) {
    this.variables = [pi];
  }

  sendTo(v: VmpVariable): void {
    if (v !== this.pi) return;
    for (let i = 0; i < this.alpha0.length; i++) this.pi.alpha[i] += this.alpha0[i];
  }

  expectedLog(): number {
    const { k, size, meanLog } = this.pi;
    let s = 0;
    for (let i = 0; i < size; i++) {
      let a0 = 0;
      for (let j = 0; j < k; j++) {
        const a = this.alpha0[i * k + j];
        a0 += a;
        s += -lgamma(a) + (a - 1) * meanLog[i * k + j];
      }
      s += lgamma(a0);
    }
    return s;
  }
}
