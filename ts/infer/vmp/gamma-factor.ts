/**
 * The factor Gamma(τ | a₀, b₀) with constant shape and rate over a plate: it sends τ its own
 * parameters (shape += a₀, rate += b₀) and E[log f] = a₀ log b₀ − log Γ(a₀) + (a₀ − 1) E[log τ] − b₀ E[τ].
 */
import { lgamma } from '../cavi/dense.js';
import type { GammaVariable } from './gamma.js';
import type { VmpFactor, VmpVariable } from './node.js';
import { at } from './params.js';

/** @internal Made by `FactorGraph.gamma`. */
export class GammaPriorFactor implements VmpFactor {
  readonly variables: readonly VmpVariable[];

  constructor(
    readonly name: string,
    private readonly tau: GammaVariable,
    private readonly a0: Float64Array,
    private readonly b0: Float64Array,
  ) {
    this.variables = [tau];
  }

  sendTo(v: VmpVariable): void {
    if (v !== this.tau) return;
    for (let i = 0; i < this.tau.size; i++) {
      this.tau.shape[i] += at(this.a0, i);
      this.tau.rate[i] += at(this.b0, i);
    }
  }

  expectedLog(): number {
    let s = 0;
    const t = this.tau;
    for (let i = 0; i < t.size; i++) {
      const a = at(this.a0, i);
      const b = at(this.b0, i);
      s += a * Math.log(b) - lgamma(a) + (a - 1) * t.meanLog[i] - b * t.mean[i];
    }
    return s;
  }
}
