/**
 * The Poisson likelihood x ~ Poisson(λ) with observed counts and λ a constant or a Gamma variable:
 * sends shape += x, rate += 1 (summed over a plate sharing λ), and
 * E[log f] = Σ x E[log λ] − E[λ] − log Γ(x + 1).
 */
import { lgamma } from '../cavi/dense.js';
import type { GammaVariable } from './gamma.js';
import type { VmpFactor, VmpVariable } from './node.js';
import { type Checked, at } from './params.js';

/** @internal Made by `FactorGraph.poisson`. */
export class PoissonFactor implements VmpFactor {
  readonly variables: readonly VmpVariable[];
  private readonly logFact: number;

  constructor(
    readonly name: string,
    private readonly x: Float64Array,
    private readonly rate: Checked<GammaVariable>,
  ) {
    this.variables = rate.v ? [rate.v] : [];
    let s = 0;
    for (const c of x) s += lgamma(c + 1);
    this.logFact = s;
  }

  sendTo(v: VmpVariable): void {
    if (v !== this.rate.v) return;
    const g = v as GammaVariable;
    const shared = g.size === 1;
    for (let i = 0; i < this.x.length; i++) {
      const j = shared ? 0 : i;
      g.shape[j] += this.x[i];
      g.rate[j] += 1;
    }
  }

  expectedLog(): number {
    const { x } = this;
    const { c, v } = this.rate;
    let s = -this.logFact;
    for (let i = 0; i < x.length; i++) {
      if (c) s += x[i] * Math.log(at(c, i)) - at(c, i);
      else {
        const j = v.size === 1 ? 0 : i;
        s += x[i] * v.meanLog[j] - v.mean[j];
      }
    }
    return s;
  }
}
